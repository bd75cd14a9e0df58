// SPDX-License-Identifier: LGPL-2.1-or-later
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula';

import {test, assert, assertEqual, assertThrows, run} from './harness.js';

function isBudgetExceeded(err) {
    assert(err instanceof GLib.Error && err.matches(Nebula.allocator_error_quark(),
        Nebula.AllocatorError.BUDGET_EXCEEDED), `${err}`);
}

test('a budget refuses with its numbers and signals once', () => {
    const budget = new Nebula.MemoryBudget({name: 'frames', limit: 1000});
    let reached = 0;
    budget.connect('limit-reached', () => reached++);
    assert(budget.try_reserve(800), 'reserved');
    const e = assertThrows(() => budget.try_reserve(300), isBudgetExceeded);
    assert(e.message.includes("Memory budget 'frames' refused 300 bytes: 800 of 1000 in use"),
        e.message);
    assertThrows(() => budget.try_reserve(300), isBudgetExceeded);
    assertEqual(reached, 1);
    assertEqual(budget.used, 800);
    budget.release(800);
    assertEqual(budget.used, 0);
    assertEqual(budget.peak, 800);
});

test('a bump allocator charges its chunks and reports them as JSON', () => {
    const budget = new Nebula.MemoryBudget({name: 'b', limit: 1 << 20});
    const bump = new Nebula.BumpAllocator({capacity: 4096, name: 'frames', budget});
    bump.allocate(100, 8);
    assertEqual(budget.used, 4096);
    const report = JSON.parse(bump.report_to_json());
    assertEqual(report.type, 'NebulaBumpAllocator');
    assertEqual(report.name, 'frames');
    assertEqual(report.stats.allocations, 1);
    assertEqual(report.chunks.length, 1);
    assertEqual(report.chunks[0].size, 4096);
    assertEqual(report.configuration.budget.used, 4096);
    const variant = bump.get_report().deepUnpack();
    assertEqual(variant.type.unpack(), 'NebulaBumpAllocator');
});

test('pool slabs and stack chunks are charged, refused with numbers and reported', () => {
    const budget = new Nebula.MemoryBudget({name: 'level', limit: 1024 + 256 + 2048});
    const pool = new Nebula.PoolAllocator({block_size: 64, block_count: 4, max_block_count: 8,
        budget});
    const stack = new Nebula.StackAllocator({capacity: 1024, max_capacity: 8192, budget});
    // Without init, the first slab and chunk are charged on first use.
    assertEqual(budget.used, 0);
    pool.init(null);
    stack.init(null);
    assertEqual(budget.used, 256 + 1024);
    for (let i = 0; i < 5; i++)
        pool.allocate(40, 8);
    assertEqual(budget.used, 512 + 1024);
    stack.allocate(1000, 8);
    const e = assertThrows(() => stack.allocate(1000, 8), isBudgetExceeded);
    assert(e.message.includes("Memory budget 'level' refused 2048 bytes: 1536 of 3328 in use"),
        e.message);

    const slabs = JSON.parse(pool.report_to_json()).slabs;
    assertEqual(slabs.length, 2);
    assertEqual(slabs[1]['blocks-used'], 1);
    assertEqual(slabs[1]['blocks-untouched'], 3);
    const chunks = JSON.parse(stack.report_to_json()).chunks;
    assertEqual(chunks.length, 1);
    assertEqual(chunks[0].used, 1024);
});

run();
