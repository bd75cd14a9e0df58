// SPDX-License-Identifier: LGPL-2.1-or-later
// bindings/js/nebula.js: scopes, frames, context and default alignment.
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula';

import {DEFAULT_ALIGNMENT, allocate, explain, withContext, withFrame, withScope} from
    '../../bindings/js/nebula.js';
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

test('withScope of interleaved async functions refuses the stale scope', async () => {
    // Issue 12: the inner scope ends after the outer one rewound below it.
    const bump = new Nebula.BumpAllocator({capacity: 1024});
    let release;
    const gate = new Promise(resolve => (release = resolve));
    let inner = null;
    const outer = withScope(bump, async b => {
        b.allocate(64, 8);
        inner = withScope(bump, async () => {
            await gate;
        });
    });
    await outer;
    const block = bump.allocate(400, 8);
    release();
    let caught = null;
    try {
        await inner;
    } catch (e) {
        caught = e;
    }
    assert(caught !== null && caught.matches(Nebula.allocator_error_quark(),
        Nebula.AllocatorError.STALE_MARKER), `${caught}`);
    const after = bump.allocate(64, 8);
    assert(after >= block + 400 || after + 64 <= block, 'no overlap');
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

test('withFrame releases one end of a stack however the function ends', async () => {
    const stack = new Nebula.StackAllocator({capacity: 2048, double_ended: true});
    const level = stack.allocate(100, 8);
    const used = stack.bytes_used;
    const result = withFrame(stack, s => {
        assertEqual(s, stack);
        s.allocate(200, 8);
        s.allocate(300, 8);
        assert(stack.bytes_used > used + 500, `${stack.bytes_used}`);
        return 'done';
    });
    assertEqual(result, 'done');
    assertEqual(stack.bytes_used, used);
    assert(stack.owns(level), 'the block below the frame stays');

    // The high end: the low end keeps what was pushed there meanwhile.
    let low = 0;
    withFrame(stack, s => {
        s.allocate_high(400, 8);
        low = s.allocate(16, 8);
    }, {high: true});
    assert(stack.owns(low), 'the low block pushed inside a high frame stays');
    assertEqual(stack.mark_high().get_position(), stack.capacity, 'high end empty:');
    stack.deallocate(low, 16, 8);
    assertEqual(stack.bytes_used, used);

    const e = assertThrows(() => withFrame(stack, s => {
        s.allocate(300, 8);
        throw new Error('boom');
    }));
    assertEqual(e.message, 'boom');
    assertEqual(stack.bytes_used, used);
    // Exhaustion inside the frame is a GLib.Error with the fill of both ends.
    assertThrows(() => withFrame(stack, s => s.allocate_high(4096, 8), {high: true}),
        err => assert(err.matches(Nebula.allocator_error_quark(),
            Nebula.AllocatorError.EXHAUSTED) && err.message.includes('the ends meet'),
        err.message));
    assertEqual(stack.bytes_used, used);

    const promise = withFrame(stack, async s => {
        s.allocate(50, 8);
        await null;
        return stack.bytes_used;
    });
    assert(stack.bytes_used > used, 'still allocated before the promise settles');
    assert(await promise > used, 'allocated inside');
    assertEqual(stack.bytes_used, used);
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
