// SPDX-License-Identifier: LGPL-2.1-or-later
// Strings and bytes copied into allocators (nebula-strings.h).
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula';

import {test, assert, assertEqual, assertThrows, run} from './harness.js';

function isAllocatorError(code) {
    return e => {
        assert(e instanceof GLib.Error, `not a GLib.Error: ${e}`);
        assert(e.matches(Nebula.allocator_error_quark(), code),
            `expected code ${code}, got ${e.code}: ${e.message}`);
    };
}

test('strdup returns a JS string and uses the arena', () => {
    const bump = new Nebula.BumpAllocator({capacity: 4096, name: 'strings'});
    const text = bump.strdup('héllo');
    assertEqual(typeof text, 'string');
    assertEqual(text, 'héllo');
    assertEqual(bump.bytes_used, 7);
});

test('strdup_address can be read back', () => {
    const bump = new Nebula.BumpAllocator({capacity: 4096});
    const address = bump.strdup_address('GET /');
    assertEqual(typeof address, 'number');
    const bytes = bump.read_address(address, 6).toArray();
    assertEqual(new TextDecoder().decode(bytes.subarray(0, 5)), 'GET /');
    assertEqual(bytes[5], 0);
});

test('strjoinv and memdup', () => {
    const bump = new Nebula.BumpAllocator({capacity: 4096});
    assertEqual(bump.strjoinv(', ', ['a', 'bb', 'ccc']), 'a, bb, ccc');
    assertEqual(bump.strjoinv(null, ['x', 'y']), 'xy');
    assertEqual(bump.strjoinv('-', []), '');
    bump.strdup('x');
    const address = bump.memdup(new Uint8Array([1, 2, 3]), 64);
    assertEqual(address % 64, 0);
    assertEqual(bump.read_address(address, 3).toArray().join(','), '1,2,3');
    assertThrows(() => bump.memdup(new Uint8Array([1]), 3),
        isAllocatorError(Nebula.AllocatorError.INVALID_ALIGNMENT));
});

test('bad input gives an error and leaves the allocator usable', () => {
    const bump = new Nebula.BumpAllocator({capacity: 64, name: 'small'});
    const e = assertThrows(() => bump.strdup('y'.repeat(100)),
        isAllocatorError(Nebula.AllocatorError.EXHAUSTED));
    assert(e.message.includes('requested 101 bytes'), e.message);
    assertThrows(() => bump.strjoinv('-', null));
    assertEqual(bump.strdup('ok'), 'ok');
    assertEqual(bump.printf, undefined);
    assertEqual(bump.strconcat, undefined);
});

await run();
