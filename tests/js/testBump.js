// SPDX-License-Identifier: LGPL-2.1-or-later
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

test('addresses are aligned numbers', () => {
    const bump = new Nebula.BumpAllocator({capacity: 4096, name: 'frames'});
    for (const alignment of [1, 8, 64, 256]) {
        const address = bump.allocate(24, alignment);
        assertEqual(typeof address, 'number');
        assert(address > 0, 'non-zero');
        assertEqual(address % alignment, 0, `alignment ${alignment}:`);
        assert(bump.owns(address), 'owned');
    }
    assert(bump.bytes_used > 0, 'bytes-used grew');
});

test('invalid config without init gives INVALID_CONFIG and never crashes', () => {
    const bump = new Nebula.BumpAllocator({capacity: 0});
    const check = isAllocatorError(Nebula.AllocatorError.INVALID_CONFIG);
    assertThrows(() => bump.allocate(8, 8), check);
    assertThrows(() => bump.allocate_zeroed(8, 8), check);
    assertThrows(() => bump.deallocate(4096, 8, 8), check);
    assertThrows(() => bump.reallocate(4096, 8, 16, 8), check);
    assertThrows(() => bump.restore(bump.checkpoint()), check);
    assertEqual(bump.owns(4096), false);
    bump.reset();
    const e = assertThrows(() => bump.init(null), check);
    assert(e.message.includes("'capacity'"), e.message);
});

test('exhaustion message carries the numbers', () => {
    const bump = new Nebula.BumpAllocator({capacity: 4096, name: 'frames'});
    bump.allocate(4032, 1);
    const e = assertThrows(() => bump.allocate(128, 1),
        isAllocatorError(Nebula.AllocatorError.EXHAUSTED));
    assert(e.message.includes('requested 128 bytes, 64 of 4096 available'), e.message);
    assert(Nebula.error_is_retryable(e), 'retryable');
    assert(Nebula.error_get_suggestion(e).length > 0, 'suggestion');
});

test('bad alignment', () => {
    const bump = new Nebula.BumpAllocator({capacity: 1024});
    assertThrows(() => bump.allocate(8, 3),
        isAllocatorError(Nebula.AllocatorError.INVALID_ALIGNMENT));
    assertEqual(bump.get_stats().failed_allocations, 1);
});

test('checkpoints', () => {
    const bump = new Nebula.BumpAllocator({capacity: 1024});
    const cp = bump.checkpoint();
    bump.allocate(100, 8);
    assertEqual(bump.bytes_used, 100);
    bump.restore(cp);
    assertEqual(bump.bytes_used, 0);
    bump.reset();
    assertThrows(() => bump.restore(cp),
        isAllocatorError(Nebula.AllocatorError.STALE_MARKER));
});

await run();
