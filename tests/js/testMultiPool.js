// SPDX-License-Identifier: LGPL-2.1-or-later
import Nebula from 'gi://Nebula';

import {test, assert, assertEqual, assertThrows, isAllocatorError, run} from './harness.js';

const E = Nebula.AllocatorError;

test('blocks of many sizes, each in its class', () => {
    const multi = new Nebula.MultiPoolAllocator({name: 'slices'});
    assertEqual(multi.thread_safe, true);
    assertEqual(multi.max_block_size, 1024);
    assertEqual(multi.get_n_classes(), 20);
    const blocks = [];
    for (const size of [1, 48, 49, 300, 1024]) {
        const address = multi.allocate(size, 8);
        assert(multi.owns(address), 'owned');
        blocks.push([address, size]);
    }
    assertEqual(multi.bytes_used, 16 + 48 + 64 + 320 + 1024);
    for (const [address, size] of blocks)
        multi.deallocate(address, size, 8);
    const stats = multi.get_stats();
    assertEqual(stats.allocations, 5);
    assertEqual(stats.bytes_in_use, 0);
});

test('too large, wrong size and double free are errors', () => {
    const multi = new Nebula.MultiPoolAllocator({name: 'slices'});
    assertThrows(() => multi.allocate(1025, 8), isAllocatorError(E.INVALID_LAYOUT, 'max-block-size'));
    const address = multi.allocate(40, 8);
    multi.allocate(100, 8);
    assertThrows(() => multi.deallocate(address, 100, 8),
        isAllocatorError(E.INVALID_POINTER, '112-byte class'));
    multi.deallocate(address, 40, 8);
    assertThrows(() => multi.deallocate(address, 40, 8), e => assert(e.code === E.DOUBLE_FREE ||
        e.code === E.INVALID_POINTER, `code ${e.code}`));
});

run();
