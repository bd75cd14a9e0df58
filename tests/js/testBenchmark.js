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
    Nebula.Workload.LARSON,
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

test('producer-consumer: threads in pairs, blocks freed on the other thread', () => {
    const bench = small(Nebula.Workload.PRODUCER_CONSUMER);
    const pool = new Nebula.PoolAllocator({
        block_size: 64, block_count: 1024, max_block_count: 65536, thread_safe: true,
    });
    const e = assertThrows(() => bench.run(pool));
    assert(e.matches(Nebula.allocator_error_quark(), Nebula.AllocatorError.NOT_SUPPORTED), e.message);
    assert(e.message.includes('even number of threads, not 1'), e.message);
    assert(Nebula.error_get_suggestion(e).includes('Set threads to 2'), 'suggestion');

    bench.threads = 2;
    for (const alloc of [pool, new Nebula.SystemAllocator()]) {
        alloc.reset_stats();
        const result = bench.run(alloc);
        assertEqual(result.workload, Nebula.Workload.PRODUCER_CONSUMER, 'workload');
        assertEqual(result.threads, 2, 'threads');
        assertEqual(result.ops, 2 * 5056, 'ops: 79 batches of 64 per thread');
        assert(result.ns_per_op_min > 0, `min ${result.ns_per_op_min}`);
        const stats = alloc.get_stats();
        assertEqual(stats.allocations, 4 * 5056, 'the warm-up and 3 rounds');
        assertEqual(stats.deallocations, 4 * 5056, 'each block freed once');
        assertEqual(stats.bytes_in_use, 0, 'nothing left');
    }
});

test('allocator errors propagate', () => {
    const bench = small(Nebula.Workload.SMALL_MIXED);
    const e = assertThrows(() => bench.run(new Nebula.BumpAllocator({capacity: 1024})));
    assert(e.matches(Nebula.allocator_error_quark(), Nebula.AllocatorError.EXHAUSTED), e.message);
    assert(e.message.includes('of 1024 available'), e.message);
});

await run();
