# SPDX-License-Identifier: LGPL-2.1-or-later
import threading
import unittest

from nebulatest import GLib, Nebula, read, write


class MultiPoolTest(unittest.TestCase):
    def test_sizes_and_classes(self):
        multi = Nebula.MultiPoolAllocator(name='slices')
        self.assertTrue(multi.props.thread_safe)
        self.assertEqual(multi.props.max_block_size, 1024)
        self.assertEqual(multi.get_n_classes(), 20)
        blocks = []
        for size in (1, 16, 17, 100, 129, 500, 1000, 1024):
            address = multi.allocate(size)
            write(address, b'm' * size)
            self.assertEqual(read(address, size), b'm' * size)
            self.assertTrue(multi.owns(address))
            blocks.append((address, size))
        self.assertEqual(multi.props.bytes_used,
                         sum(multi.get_class_size(size) for _, size in blocks))
        for address, size in blocks:
            self.assertTrue(multi.deallocate(address, size))
        stats = multi.get_stats()
        self.assertEqual((stats.allocations, stats.deallocations, stats.bytes_in_use),
                         (len(blocks), len(blocks), 0))
        report = multi.get_report().unpack()
        self.assertEqual([c['block-size'] for c in report['classes']], [16, 32, 112, 160, 512, 1024])

    def test_errors(self):
        multi = Nebula.MultiPoolAllocator(name='slices')
        with self.assertRaises(GLib.Error) as cm:
            multi.allocate(1025)
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.INVALID_LAYOUT))
        self.assertIn('max-block-size', Nebula.error_get_suggestion(cm.exception))
        address = multi.allocate(40)
        multi.allocate(100)
        # Freed with a size of another class: refused, the block stays live.
        with self.assertRaises(GLib.Error) as cm:
            multi.deallocate(address, 100)
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.INVALID_POINTER))
        self.assertIn('112-byte class', cm.exception.message)
        self.assertTrue(multi.deallocate(address, 40))
        with self.assertRaises(GLib.Error) as cm:
            multi.deallocate(address, 40)
        self.assertIn(cm.exception.code, (int(Nebula.AllocatorError.DOUBLE_FREE),
                                          int(Nebula.AllocatorError.INVALID_POINTER)))
        with self.assertRaises(GLib.Error) as cm:
            Nebula.MultiPoolAllocator(max_block_size=8).allocate(8)
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.INVALID_CONFIG))

    def test_threads_share_one(self):
        multi = Nebula.MultiPoolAllocator()
        handed = []
        lock = threading.Lock()

        def work(seed):
            for i in range(200):
                size = 8 + (seed * 131 + i * 37) % 992
                address = multi.allocate(size)
                with lock:
                    handed.append((address, size))
                    if len(handed) > 32:
                        # Often a block another thread allocated.
                        old, old_size = handed.pop(0)
                    else:
                        old = None
                if old is not None:
                    multi.deallocate(old, old_size)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for address, size in handed:
            multi.deallocate(address, size)
        stats = multi.get_stats()
        self.assertEqual((stats.allocations, stats.deallocations, stats.bytes_in_use), (800, 800, 0))

    def test_larson_benchmark_two_threads(self):
        multi = Nebula.MultiPoolAllocator()
        bench = Nebula.Benchmark.new(Nebula.Workload.LARSON)
        bench.props.iterations = 5000
        bench.props.rounds = 2
        bench.props.threads = 2
        result = bench.run(multi)
        self.assertEqual(result.workload, Nebula.Workload.LARSON)
        self.assertEqual(result.threads, 2)
        self.assertGreaterEqual(result.ops, 5000)
        stats = multi.get_stats()
        self.assertEqual(stats.allocations, stats.deallocations)
        self.assertEqual(multi.props.bytes_used, 0)


if __name__ == '__main__':
    unittest.main(verbosity=2)
