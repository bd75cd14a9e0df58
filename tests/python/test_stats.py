# SPDX-License-Identifier: LGPL-2.1-or-later
import threading
import unittest

from nebulatest import GLib, Nebula, allocator_error

E = Nebula.AllocatorError


def shared_bump():
    return Nebula.BumpAllocator(capacity=1 << 20, thread_safe=True)


class StatsTest(unittest.TestCase):
    def test_exact_under_threads(self):
        bump = shared_bump()
        n_threads, n_allocs = 4, 2000

        # A failed assertion in a thread would not fail the test: the
        # threads record what they saw and the test checks it after join().
        refused = []

        def work(tag):
            for i in range(n_allocs):
                bump.allocate(1 + (i + tag) % 50, 8)
            try:
                bump.allocate(8, 3)
            except GLib.Error as error:
                refused.append(allocator_error(E.INVALID_ALIGNMENT)(error))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        self.assertEqual(refused, [True] * n_threads)
        # The threads have exited; their counts are kept.
        expected = sum(1 + (i + tag) % 50 for tag in range(n_threads) for i in range(n_allocs))
        stats = bump.get_stats()
        self.assertEqual(stats.allocations, n_threads * n_allocs)
        self.assertEqual(stats.failed_allocations, n_threads)
        self.assertEqual(stats.total_bytes_allocated, expected)
        self.assertEqual(stats.bytes_in_use, expected)
        # Nothing was freed, so every proven bound is the truth.
        self.assertEqual(stats.peak_bytes_in_use, expected)

    def test_thread_exit_keeps_counts(self):
        bump = shared_bump()
        for round_ in range(1, 4):
            t = threading.Thread(target=lambda: [bump.allocate(10, 8) for _ in range(5)])
            t.start()
            t.join()
            stats = bump.get_stats()
            self.assertEqual(stats.allocations, 5 * round_)
            self.assertEqual(stats.bytes_in_use, 50 * round_)
            # One thread at a time: the peak is exact.
            self.assertEqual(stats.peak_bytes_in_use, 50 * round_)

    def test_two_allocators_one_thread(self):
        first = shared_bump()
        second = Nebula.SystemAllocator()
        for _ in range(3):
            first.allocate(10, 8)
            address = second.allocate(100, 8)
            second.deallocate(address, 100, 8)
        a, b = first.get_stats(), second.get_stats()
        self.assertEqual((a.allocations, a.deallocations, a.bytes_in_use), (3, 0, 30))
        self.assertEqual((b.allocations, b.deallocations, b.bytes_in_use), (3, 3, 0))
        self.assertEqual(b.peak_bytes_in_use, 100)

    def test_peak_and_reset_stats(self):
        for thread_safe in (False, True):
            with self.subTest(thread_safe=thread_safe):
                bump = Nebula.BumpAllocator(capacity=4096, thread_safe=thread_safe)
                bump.allocate(100, 8)
                top = bump.allocate(200, 8)
                bump.deallocate(top, 200, 8)
                bump.allocate(50, 8)
                stats = bump.get_stats()
                self.assertEqual((stats.bytes_in_use, stats.peak_bytes_in_use), (150, 300))
                bump.reset_stats()
                stats = bump.get_stats()
                self.assertEqual((stats.allocations, stats.bytes_in_use, stats.peak_bytes_in_use),
                                 (0, 150, 150))
                bump.reset()
                stats = bump.get_stats()
                self.assertEqual((stats.bytes_in_use, stats.peak_bytes_in_use, stats.resets),
                                 (0, 150, 1))

    def test_over_free_leaves_a_deficit(self):
        # A bump allocator cannot check the size of a block it does not
        # rewind: freeing 8 bytes as 64 leaves 56 to make up. Both modes
        # count it alike, and a reset clears it.
        for thread_safe in (False, True):
            with self.subTest(thread_safe=thread_safe):
                bump = Nebula.BumpAllocator(capacity=4096, thread_safe=thread_safe)
                first = bump.allocate(8, 8)
                bump.allocate(8, 8)
                bump.deallocate(first, 64, 8)
                stats = bump.get_stats()
                self.assertEqual((stats.bytes_in_use, stats.total_bytes_freed,
                                  stats.peak_bytes_in_use), (0, 64, 16))
                bump.allocate(100, 8)
                stats = bump.get_stats()
                self.assertEqual((stats.bytes_in_use, stats.peak_bytes_in_use), (52, 52))
                bump.deallocate(first, 200, 8)
                bump.reset()
                bump.allocate(10, 8)
                stats = bump.get_stats()
                self.assertEqual((stats.bytes_in_use, stats.total_bytes_freed, stats.resets),
                                 (10, 264, 1))

    def test_failures_counted(self):
        bump = Nebula.BumpAllocator(capacity=64)
        for size, alignment, code in [(128, 8, E.EXHAUSTED), (8, 3, E.INVALID_ALIGNMENT),
                                      (8, 0, E.INVALID_ALIGNMENT)]:
            with self.assertRaises(GLib.Error) as cm:
                bump.allocate(size, alignment)
            self.assertTrue(allocator_error(code)(cm.exception), cm.exception.message)
        self.assertEqual(bump.get_stats().failed_allocations, 3)

    def test_disabled(self):
        bump = Nebula.BumpAllocator(capacity=64, track_stats=False)
        bump.allocate(8, 8)
        self.assertEqual(bump.get_stats().allocations, 0)


if __name__ == '__main__':
    unittest.main(verbosity=2)
