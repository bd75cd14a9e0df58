# SPDX-License-Identifier: LGPL-2.1-or-later
"""Child arenas: a bump allocator with a parent (NebulaBumpAllocator:parent)."""
import gc
import json
import unittest

from nebulatest import AllocatorTestCase, Nebula

E = Nebula.AllocatorError


class ChildTest(AllocatorTestCase):
    def test_chunks_come_from_the_parent(self):
        parent = Nebula.BumpAllocator(capacity=1 << 16, name='server')
        child = Nebula.BumpAllocator(capacity=1024, parent=parent, name='request')
        self.assertIs(child.props.parent, parent)
        self.assertGreater(parent.props.bytes_used, 1024)
        address = child.strdup_address('in the parent')
        self.assertTrue(parent.owns(address))

    def test_parent_reset_releases_children_first(self):
        parent = Nebula.BumpAllocator(capacity=1 << 16)
        child = Nebula.BumpAllocator(capacity=1024, parent=parent)
        log = []
        parent.add_cleanup(lambda: log.append('parent'))
        child.add_cleanup(lambda: log.append('child'))
        parent.reset()
        self.assertEqual(log, ['child', 'parent'])
        self.assertEqual(child.get_n_chunks(), 0)
        self.assertEqual(child.strdup('again'), 'again')

    def test_report_shows_the_tree(self):
        parent = Nebula.BumpAllocator(capacity=8192, name='server')
        child = Nebula.BumpAllocator(capacity=1024, parent=parent, name='request-1')
        report = json.loads(parent.report_to_json())
        self.assertEqual([c['name'] for c in report['children']], ['request-1'])
        self.assertEqual(json.loads(child.report_to_json())['parent'], 'server')

    def test_child_outliving_its_parent_gets_an_error(self):
        parent = Nebula.BumpAllocator(capacity=4096, name='server')
        child = Nebula.BumpAllocator(capacity=256, parent=parent)
        del parent
        gc.collect()
        e = self.assertNebulaError(E.FAILED, child.strdup, 'x')
        self.assertIn('was finalized', e.message)
        child.reset()


if __name__ == '__main__':
    unittest.main()
