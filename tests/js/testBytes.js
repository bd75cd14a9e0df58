// SPDX-License-Identifier: LGPL-2.1-or-later
// Blocks handed to GLib as GBytes (nebula-bytes.h).
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

test('bytes_new copies into the allocator', () => {
    const pool = new Nebula.PoolAllocator({block_size: 64, block_count: 2});
    const data = pool.bytes_new(new Uint8Array([1, 2, 3]), 8);
    assert(data instanceof GLib.Bytes, 'a GLib.Bytes');
    assertEqual(data.toArray().join(','), '1,2,3');
    assertEqual(pool.bytes_used, 64);
});

test('to_bytes takes a checked block', () => {
    const bump = new Nebula.BumpAllocator({capacity: 256});
    const address = bump.strdup_address('abc');
    const data = bump.to_bytes(address, 4, 1);
    assertEqual(data.get_size(), 4);
    assertThrows(() => bump.to_bytes(4096, 8, 1),
        isAllocatorError(Nebula.AllocatorError.INVALID_POINTER));
    assertThrows(() => bump.to_bytes(address, 4, 3),
        isAllocatorError(Nebula.AllocatorError.INVALID_ALIGNMENT));
});

await run();
