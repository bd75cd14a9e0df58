// SPDX-License-Identifier: LGPL-2.1-or-later
// Child arenas: a bump, stack or pool allocator with a parent (the "parent"
// property).
import Nebula from 'gi://Nebula';

import {test, assert, assertEqual, assertThrows, isAllocatorError, run} from './harness.js';

const E = Nebula.AllocatorError;

test('chunks come from the parent; a parent reset releases the child', () => {
    const parent = new Nebula.BumpAllocator({capacity: 1 << 16, name: 'server'});
    const child = new Nebula.BumpAllocator({capacity: 1024, parent, name: 'request'});
    // gjs skips GInitable.init: the first chunk is taken on first use.
    assert(parent.owns(child.strdup_address('x')), 'owned by the parent');
    assert(parent.bytes_used > 1024, 'the first chunk is a block of the parent');
    parent.reset();
    assertEqual(child.get_n_chunks(), 0);
    assertEqual(child.strdup('again'), 'again');
});

test('the report shows the tree', () => {
    const parent = new Nebula.BumpAllocator({capacity: 8192, name: 'server'});
    const child = new Nebula.BumpAllocator({capacity: 1024, parent, name: 'request-1'});
    const report = JSON.parse(parent.report_to_json());
    assertEqual(report.children.map(c => c.name).join(','), 'request-1');
    assertEqual(JSON.parse(child.report_to_json()).parent, 'server');
});

test('a stack child takes chunks from its parent and is released first', () => {
    const parent = new Nebula.BumpAllocator({capacity: 1 << 16, name: 'server'});
    const stack = new Nebula.StackAllocator({capacity: 1024, parent, name: 'frames'});
    const address = stack.allocate(100, 8);
    assert(parent.owns(address), 'owned by the parent');
    parent.reset();
    assertEqual(stack.get_n_chunks(), 0);
    assertThrows(() => stack.deallocate(address, 100, 8),
        isAllocatorError(E.INVALID_POINTER));
    stack.withFrame(() => assertEqual(stack.strdup('again'), 'again'));
    assertEqual(stack.bytes_used, 0);
});

test('a pool child takes slabs from its parent; trim gives them back', () => {
    const parent = new Nebula.SystemAllocator();
    const pool = new Nebula.PoolAllocator({block_size: 64, block_count: 4,
        max_block_count: 16, parent, name: 'nodes'});
    const blocks = [];
    for (let i = 0; i < 12; i++)
        blocks.push(pool.allocate(64, 8));
    assertEqual(pool.get_n_slabs(), 3);
    assertEqual(parent.bytes_used, 16 * 64);
    for (const address of blocks)
        pool.deallocate(address, 64, 8);
    assertEqual(pool.trim(), 12 * 64);
    assertEqual(parent.bytes_used, 4 * 64);
    parent.reset();
    assertEqual(pool.get_n_slabs(), 0);
    assertThrows(() => pool.deallocate(blocks[0], 64, 8), isAllocatorError(E.INVALID_POINTER));
});

test('a thread-safe pool cannot be a child', () => {
    const parent = new Nebula.SystemAllocator();
    // gjs does not run GInitable.init: the first call reports the error.
    const pool = new Nebula.PoolAllocator({parent, thread_safe: true});
    assertThrows(() => pool.allocate(8, 8),
        isAllocatorError(E.INVALID_CONFIG, "'parent'", "'thread-safe'"));
});

test('a child is released when its parent is disposed', () => {
    // gjs finalizes at garbage collection; a dispose runs the same release.
    const parent = new Nebula.SystemAllocator({name: 'server'});
    const stack = new Nebula.StackAllocator({capacity: 256, parent});
    const pool = new Nebula.PoolAllocator({block_count: 4, parent});
    stack.allocate(16, 8);
    pool.allocate(16, 8);
    parent.run_dispose();
    assertEqual(stack.get_n_chunks(), 0);
    assertEqual(pool.get_n_slabs(), 0);
    assertEqual(parent.bytes_used, 0);
    stack.reset();
    pool.reset();
});

test('the report shows a tree of several kinds', () => {
    const parent = new Nebula.BumpAllocator({capacity: 8192, name: 'server'});
    const stack = new Nebula.StackAllocator({capacity: 1024, parent, name: 'frames'});
    const pool = new Nebula.PoolAllocator({block_count: 4, parent: stack, name: 'nodes'});
    pool.allocate(8, 8);
    const report = JSON.parse(parent.report_to_json());
    assertEqual(report.children[0].name, 'frames');
    assertEqual(report.children[0].children[0].name, 'nodes');
    assertEqual(JSON.parse(pool.report_to_json()).parent, 'frames');
});

await run();
