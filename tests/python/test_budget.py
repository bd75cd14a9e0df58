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
        with self.assertRaises(GLib.Error) as cm:
            budget.try_reserve(400)
        self.assertTrue(budget_exceeded(cm.exception), cm.exception.message)
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
        with self.assertRaises(GLib.Error) as cm:
            sys_alloc.allocate(600, 8)
        self.assertTrue(budget_exceeded(cm.exception), cm.exception.message)
        sys_alloc.deallocate(address, 600, 8)
        self.assertEqual(budget.props.used, 0)

    def test_pool_charges_slabs(self):
        budget = Nebula.MemoryBudget(name='pool', limit=1000)
        # Slabs of 4, 4, 8 blocks of 64 bytes.
        pool = Nebula.PoolAllocator(block_size=64, block_count=4, max_block_count=32,
                                    budget=budget)
        self.assertEqual(budget.props.used, 256)
        blocks = [pool.allocate(48, 8) for _ in range(8)]
        self.assertEqual(budget.props.used, 512)
        with self.assertRaises(GLib.Error) as cm:
            pool.allocate(48, 8)
        self.assertTrue(budget_exceeded(cm.exception))
        self.assertIn("Memory budget 'pool' refused 512 bytes: 512 of 1000 in use, 488 available",
                      cm.exception.message)
        self.assertEqual(pool.get_stats().failed_allocations, 1)
        self.assertEqual(pool.get_n_slabs(), 2)
        # Still usable: a freed block comes back without a new charge.
        pool.deallocate(blocks[0], 48, 8)
        self.assertEqual(pool.allocate(48, 8), blocks[0])
        pool.reset()
        self.assertEqual(budget.props.used, 512)    # slabs are kept until finalize
        del pool
        self.assertEqual(budget.props.used, 0)

        budget.props.limit = 100
        with self.assertRaises(GLib.Error) as cm:
            Nebula.PoolAllocator(block_size=64, block_count=4, budget=budget)
        self.assertTrue(budget_exceeded(cm.exception))
        self.assertIn("refused 256 bytes: 0 of 100 in use", cm.exception.message)

    def test_stack_charges_chunks(self):
        budget = Nebula.MemoryBudget(name='frames', limit=4096)
        stack = Nebula.StackAllocator(capacity=1024, max_capacity=16384, budget=budget)
        self.assertEqual(budget.props.used, 1024)
        a = stack.allocate(900, 8)
        b = stack.allocate(900, 8)             # a chunk of 2048
        self.assertEqual(budget.props.used, 1024 + 2048)
        with self.assertRaises(GLib.Error) as cm:
            stack.allocate(1500, 8)            # a chunk of 4096 would pass the limit
        self.assertTrue(budget_exceeded(cm.exception))
        self.assertIn("Memory budget 'frames' refused 4096 bytes: 3072 of 4096 in use, "
                      "1024 available", cm.exception.message)
        c = stack.allocate(500, 8)             # fits the current chunk
        stack.deallocate(c, 500, 8)
        stack.deallocate(b, 900, 8)
        stack.deallocate(a, 900, 8)
        self.assertEqual(budget.props.used, 3072)   # the emptied chunk is the spare
        stack.reset()
        self.assertEqual(budget.props.used, 3072)
        del stack
        self.assertEqual(budget.props.used, 0)
        self.assertEqual(budget.props.peak, 3072)

    def test_parent_budget_charged_through_child(self):
        root = Nebula.MemoryBudget(name='process', limit=2048)
        child = Nebula.MemoryBudget.new_child(root, 'level', 0)
        stack = Nebula.StackAllocator(capacity=1024, max_capacity=8192, budget=child)
        pool = Nebula.PoolAllocator(block_size=64, block_count=4, budget=child)
        self.assertEqual((child.props.used, root.props.used), (1280, 1280))
        stack.allocate(1000, 8)
        with self.assertRaises(GLib.Error) as cm:
            stack.allocate(1000, 8)
        self.assertIn("Memory budget 'process' refused 2048 bytes (charged through Memory "
                      "budget 'level'): 1280 of 2048 in use, 768 available", cm.exception.message)
        del pool, stack
        self.assertEqual((child.props.used, root.props.used), (0, 0))

    def test_handler_calls_back_into_growing_allocator(self):
        for make in (lambda b: Nebula.PoolAllocator(block_size=128, block_count=4,
                                                    max_block_count=64, thread_safe=True,
                                                    budget=b),
                     lambda b: Nebula.StackAllocator(capacity=512, max_capacity=65536,
                                                     budget=b)):
            budget = Nebula.MemoryBudget(limit=1 << 20, soft_limit=600)
            alloc = make(budget)
            seen = []

            def on_soft_limit(b, used):
                # The pool locks when thread-safe: the signal waits for the unlock.
                seen.append((used, alloc.get_report().unpack()['bytes-used']))
                alloc.allocate(100, 8)

            budget.connect('soft-limit-exceeded', on_soft_limit)
            for _ in range(6):
                alloc.allocate(100, 8)
            self.assertEqual(len(seen), 1)
            self.assertGreater(seen[0][0], 600)


if __name__ == '__main__':
    unittest.main(verbosity=2)
