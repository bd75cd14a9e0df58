# SPDX-License-Identifier: LGPL-2.1-or-later
"""NebulaBenchmark runs its loop in C and returns sane numbers.

No timing thresholds: CI machines are shared and slow under Valgrind.
"""
import unittest

from nebulatest import GLib, Nebula

WORKLOADS = [
    Nebula.Workload.SMALL_MIXED,
    Nebula.Workload.FIXED_64,
    Nebula.Workload.LIFO_FRAMES,
    Nebula.Workload.REQUEST_RESPONSE,
    Nebula.Workload.MIXED_LIFETIMES,
    Nebula.Workload.REQUEST_ARENA,
    Nebula.Workload.LARSON,
]


def small(workload):
    bench = Nebula.Benchmark.new(workload)
    bench.props.iterations = 5000
    bench.props.rounds = 3
    return bench


class BenchmarkTest(unittest.TestCase):
    def check(self, result, workload):
        self.assertEqual(result.workload, workload)
        self.assertEqual(result.rounds, 3)
        self.assertEqual(result.threads, 1)
        self.assertGreaterEqual(result.ops, 5000)
        self.assertGreater(result.ns_per_op_min, 0)
        self.assertGreaterEqual(result.ns_per_op_median, result.ns_per_op_min)
        # A second is far more than any operation may take.
        self.assertLess(result.ns_per_op_median, 1e9)

    def test_every_workload_on_bump_and_system(self):
        for workload in WORKLOADS:
            with self.subTest(workload=workload.value_nick):
                bench = small(workload)
                bump = Nebula.BumpAllocator()
                on_bump = bench.run(bump)
                self.check(on_bump, workload)
                self.assertGreater(on_bump.peak_bytes, 0)
                self.assertLessEqual(on_bump.peak_bytes, bump.props.capacity)

                on_system = bench.run(Nebula.SystemAllocator())
                self.check(on_system, workload)
                self.assertEqual(on_system.ops, on_bump.ops)

                bench.props.inline_fast_path = True
                self.check(bench.run(bump), workload)
                # The benchmark leaves the allocator reset.
                self.assertEqual(bump.get_stats().bytes_in_use, 0)

    def test_threads_need_a_thread_safe_allocator(self):
        bench = small(Nebula.Workload.SMALL_MIXED)
        bench.props.threads = 2
        with self.assertRaises(GLib.Error) as cm:
            bench.run(Nebula.BumpAllocator(capacity=65536, name='frames'))
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.NOT_SUPPORTED))
        self.assertIn('2 threads', cm.exception.message)
        self.assertIn("'frames'", cm.exception.message)

        result = bench.run(Nebula.SystemAllocator())
        self.assertEqual(result.threads, 2)
        self.assertGreaterEqual(result.ops, 2 * 5000)
        # Their CPU time over the fastest round's wall time.
        self.assertGreater(result.threads_at_once, 0)
        self.assertLessEqual(result.threads_at_once, 2)

    def test_producer_consumer(self):
        # Threads in pairs: every block is freed on another thread.
        bench = small(Nebula.Workload.PRODUCER_CONSUMER)
        pool = Nebula.PoolAllocator(block_size=64, block_count=1024, max_block_count=65536,
                                    thread_safe=True)
        with self.assertRaises(GLib.Error) as cm:
            bench.run(pool)
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.NOT_SUPPORTED))
        self.assertIn('even number of threads, not 1', cm.exception.message)
        self.assertIn('Set threads to 2', Nebula.error_get_suggestion(cm.exception))

        bench.props.threads = 2
        for alloc in (pool, Nebula.SystemAllocator()):
            with self.subTest(allocator=type(alloc).__name__):
                alloc.reset_stats()
                result = bench.run(alloc)
                self.assertEqual(result.workload, Nebula.Workload.PRODUCER_CONSUMER)
                self.assertEqual(result.threads, 2)
                self.assertEqual(result.ops, 2 * 5056)   # 79 batches of 64 per thread
                self.assertGreater(result.ns_per_op_min, 0)
                self.assertLess(result.ns_per_op_median, 1e9)
                stats = alloc.get_stats()
                # The warm-up and 3 rounds, each block freed once.
                self.assertEqual(stats.allocations, 4 * 5056)
                self.assertEqual(stats.deallocations, 4 * 5056)
                self.assertEqual(stats.bytes_in_use, 0)

    def test_allocator_errors_propagate(self):
        bench = small(Nebula.Workload.REQUEST_RESPONSE)
        with self.assertRaises(GLib.Error) as cm:
            bench.run(Nebula.BumpAllocator(capacity=2048))
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.EXHAUSTED))
        self.assertIn('of 2048 available', cm.exception.message)

    def test_same_seed_same_operations(self):
        a = small(Nebula.Workload.MIXED_LIFETIMES)
        b = small(Nebula.Workload.MIXED_LIFETIMES)
        b.props.seed = 1234
        ops_a = a.run(Nebula.SystemAllocator()).ops
        self.assertEqual(a.run(Nebula.BumpAllocator()).ops, ops_a)
        self.assertGreater(b.run(Nebula.SystemAllocator()).ops, 0)


if __name__ == '__main__':
    unittest.main()
