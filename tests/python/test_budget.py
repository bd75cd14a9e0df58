# SPDX-License-Identifier: LGPL-2.1-or-later
import threading
import unittest

from nebulatest import GLib, Nebula


def budget_exceeded(error):
    return (error.domain == 'NebulaAllocatorError' and
            error.code == int(Nebula.AllocatorError.BUDGET_EXCEEDED))


class BudgetTest(unittest.TestCase):
    def test_reserve_release_and_signals(self):
        budget = Nebula.MemoryBudget(name='frames', limit=1000, soft_limit=600)
        soft, reached = [], []
        budget.connect('soft-limit-exceeded', lambda b, used: soft.append(used))
        budget.connect('limit-reached', lambda b, requested: reached.append(requested))

        self.assertTrue(budget.try_reserve(700))
        self.assertEqual(soft, [700])
        with self.assertRaises(GLib.Error) as cm:
            budget.try_reserve(400)
        self.assertTrue(budget_exceeded(cm.exception))
        self.assertIn("Memory budget 'frames' refused 400 bytes: 700 of 1000 in use, 300 available",
                      cm.exception.message)
        self.assertEqual(reached, [400])
        with self.assertRaises(GLib.Error):
            budget.try_reserve(400)
        self.assertEqual(reached, [400])    # once per crossing
        self.assertEqual((budget.props.used, budget.props.peak), (700, 700))

        with self.assertRaises(GLib.Error) as cm:
            budget.release(701)
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.INVALID_LAYOUT))
        self.assertIn('cannot release 701 bytes, only 700 are reserved', cm.exception.message)
        self.assertTrue(budget.release(700))
        self.assertEqual(budget.get_used(), 0)

    def test_parent_chain(self):
        root = Nebula.MemoryBudget(name='process', limit=1000)
        child = Nebula.MemoryBudget.new_child(root, 'cache', 0)
        child.try_reserve(900)
        self.assertEqual(root.props.used, 900)
        with self.assertRaises(GLib.Error) as cm:
            child.try_reserve(200)
        self.assertIn("Memory budget 'process' refused 200 bytes (charged through Memory budget 'cache')",
                      cm.exception.message)
        self.assertEqual(child.props.used, 900)
        root.props.per_allocation_limit = 50
        with self.assertRaises(GLib.Error) as cm:
            child.try_reserve(60)
        self.assertIn('per-allocation limit of 50 bytes', cm.exception.message)
        child.release(900)
        self.assertEqual(root.props.used, 0)

    def test_concurrent_never_over_commits(self):
        budget = Nebula.MemoryBudget(name='tight', limit=100)
        seen = []

        def work():
            high = 0
            for i in range(2000):
                size = 1 + i % 30
                try:
                    budget.try_reserve(size)
                except GLib.Error:
                    continue
                high = max(high, budget.props.used)
                budget.release(size)
            seen.append(high)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertLessEqual(max(seen), 100)
        self.assertLessEqual(budget.props.peak, 100)
        self.assertEqual(budget.props.used, 0)

    def test_bump_charges_chunks(self):
        budget = Nebula.MemoryBudget(name='bump', limit=16384)
        bump = Nebula.BumpAllocator(capacity=4096, max_capacity=65536,
                                    large_allocation_threshold=65536, budget=budget)
        self.assertIs(bump.props.budget, budget)
        self.assertEqual(budget.props.used, 4096)
        bump.allocate(3000, 8)
        bump.allocate(3000, 8)                  # a second chunk of 8192
        self.assertEqual(budget.props.used, 4096 + 8192)
        with self.assertRaises(GLib.Error) as cm:
            bump.allocate(9000, 8)              # would need 16384 more
        self.assertTrue(budget_exceeded(cm.exception))
        self.assertEqual(bump.get_stats().failed_allocations, 1)
        bump.reset()
        self.assertEqual(budget.props.used, 8192)   # keeps the largest chunk
        del bump
        self.assertEqual(budget.props.used, 0)

    def test_construction_refused(self):
        budget = Nebula.MemoryBudget(limit=100)
        with self.assertRaises(GLib.Error) as cm:
            Nebula.BumpAllocator(capacity=4096, budget=budget)
        self.assertTrue(budget_exceeded(cm.exception))
        self.assertIn('Memory budget refused 4096 bytes: 0 of 100 in use', cm.exception.message)

    def test_system_charges_blocks(self):
        budget = Nebula.MemoryBudget(limit=1000)
        sys_alloc = Nebula.SystemAllocator(budget=budget)
        address = sys_alloc.allocate(600, 8)
        self.assertEqual(budget.props.used, 600)
        with self.assertRaises(GLib.Error):
            sys_alloc.allocate(600, 8)
        sys_alloc.deallocate(address, 600, 8)
        self.assertEqual(budget.props.used, 0)


if __name__ == '__main__':
    unittest.main(verbosity=2)
