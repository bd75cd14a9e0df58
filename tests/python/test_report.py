# SPDX-License-Identifier: LGPL-2.1-or-later
import json
import unittest

from nebulatest import Nebula


class ReportTest(unittest.TestCase):
    def test_bump_report(self):
        budget = Nebula.MemoryBudget(name='b', limit=1 << 20)
        bump = Nebula.BumpAllocator(name='frames', capacity=4096, max_capacity=65536,
                                    large_allocation_threshold=65536, budget=budget)
        bump.allocate(3000, 8)
        bump.allocate(2000, 8)
        report = bump.get_report().unpack()
        self.assertEqual(report['type'], 'NebulaBumpAllocator')
        self.assertEqual(report['name'], 'frames')
        self.assertEqual(report['configuration']['reset-policy'], 'keep-largest')
        self.assertEqual(report['configuration']['budget']['used'], 4096 + 8192)
        self.assertEqual(report['stats']['allocations'], 2)
        self.assertEqual([(c['size'], c['used']) for c in report['chunks']],
                         [(8192, 2000), (4096, 3000)])
        self.assertAlmostEqual(report['fragmentation'], 1096 / (4096 + 8192))

    def test_json_matches_variant(self):
        bump = Nebula.BumpAllocator(name='odd "name"\n\u00e9', capacity=1024, thread_safe=True)
        bump.allocate(100, 8)
        data = json.loads(bump.report_to_json())
        self.assertEqual(data, bump.get_report().unpack())
        self.assertEqual(data['name'], 'odd "name"\n\u00e9')
        self.assertTrue(data['thread-safe'])
        self.assertEqual(data['stats']['bytes-in-use'], 100)

    def test_system_report(self):
        sys_alloc = Nebula.SystemAllocator()
        address = sys_alloc.allocate(100, 8)
        data = json.loads(sys_alloc.report_to_json())
        self.assertEqual(data['blocks'], 1)
        self.assertEqual(data['type'], 'NebulaSystemAllocator')
        sys_alloc.deallocate(address, 100, 8)

    def test_pool_report(self):
        pool = Nebula.PoolAllocator(block_size=64, block_count=4, max_block_count=16,
                                    name='particles')
        blocks = [pool.allocate(40, 8) for _ in range(6)]
        pool.deallocate(blocks[0], 40, 8)
        pool.deallocate(blocks[3], 40, 8)
        data = json.loads(pool.report_to_json())
        self.assertEqual(data, pool.get_report().unpack())
        self.assertEqual(data['type'], 'NebulaPoolAllocator')
        self.assertEqual((data['reserved'], data['blocks'], data['blocks-used']), (512, 8, 4))
        self.assertEqual(data['slabs'], [
            {'size': 256, 'used': 128, 'blocks': 4, 'blocks-used': 2, 'blocks-free': 2,
             'blocks-untouched': 0},
            {'size': 256, 'used': 128, 'blocks': 4, 'blocks-used': 2, 'blocks-free': 2,
             'blocks-untouched': 2},
        ])
        # Blocks of 64 bytes holding 40 each.
        self.assertAlmostEqual(data['fragmentation'], 24 / 64)

    def test_stack_report(self):
        stack = Nebula.StackAllocator(capacity=1024, max_capacity=8192)
        stack.allocate(900, 8)
        stack.allocate(900, 8)
        data = json.loads(stack.report_to_json())
        self.assertEqual(data, stack.get_report().unpack())
        self.assertEqual(data['chunks'], [
            {'kind': 'regular', 'size': 2048, 'used': 924, 'current': True},
            {'kind': 'regular', 'size': 1024, 'used': 924, 'current': False},
        ])
        self.assertEqual(data['reserved'], 3072)
        self.assertAlmostEqual(data['fragmentation'], 100 / 3072)

    def test_double_ended_stack_report(self):
        stack = Nebula.StackAllocator(capacity=4096, double_ended=True)
        stack.allocate(1000, 8)
        stack.allocate_high(500, 8)
        chunk, = json.loads(stack.report_to_json())['chunks']
        self.assertEqual((chunk['low-used'], chunk['high-used'], chunk['used']),
                         (1024, 528, 1552))


if __name__ == '__main__':
    unittest.main(verbosity=2)
