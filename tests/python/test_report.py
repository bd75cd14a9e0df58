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


if __name__ == '__main__':
    unittest.main(verbosity=2)
