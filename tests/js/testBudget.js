// SPDX-License-Identifier: LGPL-2.1-or-later
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula';

import {test, assert, assertEqual, assertThrows, run} from './harness.js';

test('a budget refuses with its numbers and signals once', () => {
    const budget = new Nebula.MemoryBudget({name: 'frames', limit: 1000});
    let reached = 0;
    budget.connect('limit-reached', () => reached++);
    assert(budget.try_reserve(800), 'reserved');
    const e = assertThrows(() => budget.try_reserve(300), err =>
        assert(err instanceof GLib.Error && err.matches(Nebula.allocator_error_quark(),
            Nebula.AllocatorError.BUDGET_EXCEEDED), `${err}`));
    assert(e.message.includes("Memory budget 'frames' refused 300 bytes: 800 of 1000 in use"),
        e.message);
    assertThrows(() => budget.try_reserve(300), () => {});
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

run();
