// SPDX-License-Identifier: LGPL-2.1-or-later
// NebulaBenchmark from gjs: the loop runs in C; the numbers must be sane
// (no timing thresholds).
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula';

import {test, assert, assertEqual, assertThrows, run} from './harness.js';

const WORKLOADS = [
    Nebula.Workload.SMALL_MIXED,
    Nebula.Workload.FIXED_64,
    Nebula.Workload.LIFO_FRAMES,
    Nebula.Workload.REQUEST_RESPONSE,
    Nebula.Workload.MIXED_LIFETIMES,
    Nebula.Workload.REQUEST_ARENA,
];

function small(workload) {
    const bench = Nebula.Benchmark.new(workload);
    bench.iterations = 5000;
    bench.rounds = 3;
    return bench;
}

function checkResult(result, workload) {
    assertEqual(result.workload, workload, 'workload');
    assertEqual(result.rounds, 3, 'rounds');
    assertEqual(result.threads, 1, 'threads');
    assert(result.ops >= 5000, `ops ${result.ops}`);
    assert(result.ns_per_op_min > 0, `min ${result.ns_per_op_min}`);
    assert(result.ns_per_op_median >= result.ns_per_op_min, 'median >= min');
    assert(result.ns_per_op_median < 1e9, 'below a second');
}

test('every workload on bump and system', () => {
    for (const workload of WORKLOADS) {
        const bench = small(workload);
        const bump = new Nebula.BumpAllocator();
        const onBump = bench.run(bump);
        checkResult(onBump, workload);
        assert(onBump.peak_bytes > 0 && onBump.peak_bytes <= bump.capacity, 'peak');

        const onSystem = bench.run(new Nebula.SystemAllocator());
        checkResult(onSystem, workload);
        assertEqual(onSystem.ops, onBump.ops, 'same operations');

        bench.inline_fast_path = true;
        checkResult(bench.run(bump), workload);
    }
});

test('threads need a thread-safe allocator', () => {
    const bench = small(Nebula.Workload.FIXED_64);
    bench.threads = 2;
    const e = assertThrows(() => bench.run(new Nebula.BumpAllocator()));
    assert(e instanceof GLib.Error, 'GLib.Error');
    assert(e.matches(Nebula.allocator_error_quark(), Nebula.AllocatorError.NOT_SUPPORTED), e.message);
    assert(e.message.includes('2 threads'), e.message);
    assertEqual(bench.run(new Nebula.SystemAllocator()).threads, 2);
});

test('allocator errors propagate', () => {
    const bench = small(Nebula.Workload.SMALL_MIXED);
    const e = assertThrows(() => bench.run(new Nebula.BumpAllocator({capacity: 1024})));
    assert(e.matches(Nebula.allocator_error_quark(), Nebula.AllocatorError.EXHAUSTED), e.message);
    assert(e.message.includes('of 1024 available'), e.message);
});

await run();
