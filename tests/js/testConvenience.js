// SPDX-License-Identifier: LGPL-2.1-or-later
// bindings/js/nebula.js: scopes, context and default alignment.
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula';

import {DEFAULT_ALIGNMENT, allocate, explain, withContext, withScope} from '../../bindings/js/nebula.js';
import {test, assert, assertEqual, assertThrows, run} from './harness.js';

test('allocate uses the default alignment', () => {
    const bump = new Nebula.BumpAllocator({capacity: 1024});
    assertEqual(DEFAULT_ALIGNMENT, 8);
    allocate(bump, 1);
    const address = allocate(bump, 24);
    assertEqual(address % 8, 0, 'aligned:');
    assertEqual(allocate(bump, 8, 64) % 64, 0, 'explicit alignment:');
    assertThrows(() => allocate(bump, 8, 3),
        e => assert(e.matches(Nebula.allocator_error_quark(),
            Nebula.AllocatorError.INVALID_ALIGNMENT), e.message));
});

test('withScope rewinds and returns the result', () => {
    const bump = new Nebula.BumpAllocator({capacity: 1024});
    bump.allocate(10, 1);
    const result = withScope(bump, b => {
        assertEqual(b, bump);
        b.allocate(500, 1);
        assertEqual(bump.bytes_used, 510);
        return 'done';
    });
    assertEqual(result, 'done');
    assertEqual(bump.bytes_used, 10);
});

test('withScope rewinds when the function throws', () => {
    const bump = new Nebula.BumpAllocator({capacity: 1024});
    const e = assertThrows(() => withScope(bump, b => {
        b.allocate(300, 1);
        throw new Error('boom');
    }));
    assertEqual(e.message, 'boom');
    assertEqual(bump.bytes_used, 0);
    // Exhaustion inside the scope is a GLib.Error, and the scope still ends.
    assertThrows(() => withScope(bump, b => b.allocate(2048, 1)),
        err => assert(err instanceof GLib.Error, `${err}`));
    assertEqual(bump.bytes_used, 0);
});

test('withScope waits for an async function', async () => {
    const bump = new Nebula.BumpAllocator({capacity: 1024});
    let usedInside = -1;
    const promise = withScope(bump, async b => {
        b.allocate(100, 1);
        await new Promise(resolve => GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
            resolve();
            return GLib.SOURCE_REMOVE;
        }));
        usedInside = bump.bytes_used;
        return 42;
    });
    assertEqual(bump.bytes_used, 100, 'still allocated before the promise settles:');
    assertEqual(await promise, 42);
    assertEqual(usedInside, 100);
    assertEqual(bump.bytes_used, 0);

    const rejected = withScope(bump, async b => {
        b.allocate(100, 1);
        await null;
        throw new Error('async boom');
    });
    let caught = null;
    try {
        await rejected;
    } catch (e) {
        caught = e;
    }
    assertEqual(caught?.message, 'async boom');
    assertEqual(bump.bytes_used, 0);
});

test('withContext names the call site in errors', () => {
    const bump = new Nebula.BumpAllocator({capacity: 64, name: 'tiny'});
    const e = assertThrows(() => withContext('handle_client', () =>
        withContext('parse_request', () => bump.allocate(100, 1))));
    assert(e.message.includes('handle_client > parse_request'), e.message);
    assertEqual(Nebula.context_get_path(), null, 'stack empty afterwards:');

    const info = explain(e);
    assertEqual(info.message, e.message);
    assert(info.retryable, 'exhaustion is retryable');
    assert(info.suggestion.length > 0, 'has a suggestion');
});

await run();
