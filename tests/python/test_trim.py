# SPDX-License-Identifier: LGPL-2.1-or-later
"""Trim and memory pressure from Python: what trim() returns is what the
report's reserved loses, live blocks keep their bytes, a second trim gives
nothing; the pressure handlers at each level; a Python allocator's
do_trim."""
import ctypes
import unittest

from gi.repository import Gio
from nebulatest import AllocatorTestCase, GObject, Nebula

Level = Gio.MemoryMonitorWarningLevel


def reserved(allocator):
    return allocator.get_report().unpack()['reserved']


class TrimTest(AllocatorTestCase):
    def check_pool_trim(self, **properties):
        budget = Nebula.MemoryBudget.new('py-pool', 1 << 20)
        pool = Nebula.PoolAllocator(block_size=32, block_count=8, max_block_count=64,
                                    budget=budget, **properties)
        blocks = [pool.allocate(32) for _ in range(64)]
        ctypes.memmove(blocks[0], b'keep me!', 8)
        self.assertEqual(reserved(pool), 64 * 32)
        self.assertEqual(pool.trim(), 0)

        for block in blocks[8:]:
            pool.deallocate(block, 32)
        before = reserved(pool)
        given = pool.trim()
        self.assertEqual(given, 56 * 32)
        self.assertEqual(reserved(pool), before - given)
        self.assertEqual(budget.get_used(), 8 * 32)
        self.assertEqual(ctypes.string_at(blocks[0], 8), b'keep me!')
        self.assertEqual(pool.trim(), 0)
        self.assertEqual(pool.get_stats().bytes_in_use, 8 * 32)

    def test_pool_gives_back_empty_slabs(self):
        self.check_pool_trim()

    def test_thread_safe_pool_gives_back_empty_slabs(self):
        # Its magazine and depot hold the freed blocks: the trim flushes them.
        self.check_pool_trim(thread_safe=True, magazine_size=4)

    def test_bump_spares_after_restore(self):
        bump = Nebula.BumpAllocator(capacity=1024, max_capacity=16384)
        first = bump.allocate(16)
        ctypes.memmove(first, b'0123456789abcdef', 16)
        checkpoint = bump.checkpoint()
        for _ in range(30):
            bump.allocate(200)
        bump.restore(checkpoint)
        before = reserved(bump)
        given = bump.trim()
        self.assertGreater(given, 0)
        self.assertEqual(reserved(bump), before - given)
        self.assertEqual(bump.trim(), 0)
        self.assertEqual(ctypes.string_at(first, 16), b'0123456789abcdef')

    def test_stack_spare(self):
        stack = Nebula.StackAllocator(capacity=1024, max_capacity=16384)
        stack.allocate(64)
        big = stack.allocate(4000)
        self.assertEqual(stack.trim(), 0)
        stack.deallocate(big, 4000)
        before = reserved(stack)
        given = stack.trim()
        self.assertGreater(given, 0)
        self.assertEqual(reserved(stack), before - given)
        self.assertEqual(stack.trim(), 0)

    def test_invalid_configuration_raises(self):
        pool = GObject.new(Nebula.PoolAllocator.__gtype__, block_size=0)
        self.assertNebulaError(Nebula.AllocatorError.INVALID_CONFIG, pool.trim)


class PythonTrimmer(GObject.Object, Nebula.Allocator):
    __gtype_name__ = 'TestPythonTrimmer'

    def __init__(self):
        super().__init__()
        self.trims = 0

    def do_trim(self):
        self.trims += 1
        return 4096 if self.trims == 1 else 0


class PressureTest(AllocatorTestCase):
    def keep_all_bump(self):
        bump = Nebula.BumpAllocator(capacity=1024, max_capacity=16384,
                                    reset_policy=Nebula.ResetPolicy.KEEP_ALL)
        for _ in range(30):
            bump.allocate(200)
        bump.reset()
        return bump

    def test_allocator_levels(self):
        bump = self.keep_all_bump()
        grown = reserved(bump)
        self.assertEqual(bump.handle_memory_pressure(Level.LOW), 0)
        self.assertEqual(reserved(bump), grown)
        self.assertEqual(bump.handle_memory_pressure(Level.MEDIUM), grown - 1024)
        self.assertEqual(reserved(bump), 1024)
        self.assertEqual(bump.handle_memory_pressure(Level.CRITICAL), 0)

    def test_cache_levels(self):
        cache = Nebula.ComputeCache(policy=Nebula.EvictionPolicy.LRU, max_entries=40)
        for i in range(40):
            cache.insert(i, GObject.Object())
        self.assertEqual(cache.handle_memory_pressure(Level.LOW), 0)
        self.assertEqual(cache.handle_memory_pressure(Level.MEDIUM), 0)
        self.assertEqual(cache.handle_memory_pressure(Level.CRITICAL), 30)
        self.assertEqual(cache.get_n_entries(), 10)

    def test_watch_and_notify(self):
        bump = self.keep_all_bump()
        grown = reserved(bump)
        Nebula.memory_pressure_watch(bump)
        try:
            self.assertEqual(Nebula.memory_pressure_notify(Level.MEDIUM), grown - 1024)
        finally:
            Nebula.memory_pressure_unwatch(bump)
        self.assertEqual(Nebula.memory_pressure_notify(Level.CRITICAL), 0)

    def test_watch_refuses_other_objects(self):
        self.assertNebulaError(Nebula.AllocatorError.NOT_SUPPORTED,
                               Nebula.memory_pressure_watch, GObject.Object())

    def test_python_do_trim(self):
        trimmer = PythonTrimmer()
        self.assertEqual(Nebula.Allocator.trim(trimmer), 4096)
        self.assertEqual(Nebula.Allocator.trim(trimmer), 0)
        self.assertEqual(trimmer.handle_memory_pressure(Level.LOW), 0)
        self.assertEqual(trimmer.trims, 3)


if __name__ == '__main__':
    unittest.main()
