# SPDX-License-Identifier: LGPL-2.1-or-later
"""Child arenas: a bump, stack or pool allocator with a parent (the "parent" property)."""
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


    def test_stack_child_takes_chunks_and_is_released(self):
        parent = Nebula.BumpAllocator(capacity=1 << 16, name='server')
        stack = Nebula.StackAllocator(capacity=1024, max_capacity=8192, parent=parent,
                                      name='frames')
        self.assertIs(stack.props.parent, parent)
        self.assertGreaterEqual(parent.props.bytes_used, 1024)
        address = stack.allocate(100, 8)
        self.assertTrue(parent.owns(address))
        log = []
        stack.add_cleanup(lambda: log.append('stack'))
        parent.add_cleanup(lambda: log.append('parent'))
        parent.reset()
        self.assertEqual(log, ['stack', 'parent'])
        self.assertEqual(stack.get_n_chunks(), 0)
        self.assertEqual(parent.props.bytes_used, 0)
        # Its blocks from before are foreign to it now.
        self.assertNebulaError(E.INVALID_POINTER, stack.deallocate, address, 100, 8)
        # It works again, with a new first chunk from the parent.
        with stack.frame():
            self.assertEqual(stack.strdup('again'), 'again')
            self.assertEqual(stack.get_n_chunks(), 1)
        self.assertEqual(stack.props.bytes_used, 0)

    def test_pool_child_takes_slabs_and_trims_back(self):
        parent = Nebula.SystemAllocator()
        pool = Nebula.PoolAllocator(block_size=64, block_count=4, max_block_count=16,
                                    parent=parent, name='nodes')
        self.assertEqual(parent.props.bytes_used, 4 * 64)
        blocks = [pool.allocate(64, 8) for _ in range(12)]
        self.assertEqual(pool.get_n_slabs(), 3)
        self.assertEqual(parent.props.bytes_used, 16 * 64)
        for address in blocks:
            pool.deallocate(address, 64, 8)
        self.assertEqual(pool.trim(), 12 * 64)
        self.assertEqual(parent.props.bytes_used, 4 * 64)
        parent.reset()
        self.assertEqual(pool.get_n_slabs(), 0)
        self.assertNebulaError(E.INVALID_POINTER, pool.deallocate, blocks[0], 64, 8)
        pool.allocate(64, 8)
        self.assertEqual(pool.get_n_slabs(), 1)

    def test_thread_safe_pool_cannot_be_a_child(self):
        parent = Nebula.SystemAllocator()
        e = self.assertNebulaError(
            E.INVALID_CONFIG,
            lambda: Nebula.PoolAllocator(parent=parent, thread_safe=True))
        self.assertIn("'parent'", e.message)
        self.assertIn("'thread-safe'", e.message)

    def test_every_kind_outliving_its_parent_gets_an_error(self):
        for make in (lambda p: Nebula.StackAllocator(capacity=256, parent=p),
                     lambda p: Nebula.PoolAllocator(block_count=4, parent=p)):
            parent = Nebula.SystemAllocator(name='server')
            child = make(parent)
            child.allocate(16, 8)
            del parent
            gc.collect()
            e = self.assertNebulaError(E.FAILED, child.allocate, 16, 8)
            self.assertIn('was finalized', e.message)
            self.assertEqual(json.loads(child.report_to_json())['parent'], '(finalized)')
            child.reset()

    def test_report_shows_a_mixed_tree(self):
        parent = Nebula.BumpAllocator(capacity=8192, name='server')
        stack = Nebula.StackAllocator(capacity=1024, parent=parent, name='frames')
        pool = Nebula.PoolAllocator(block_count=4, parent=stack, name='nodes')
        report = json.loads(parent.report_to_json())
        self.assertEqual([c['name'] for c in report['children']], ['frames'])
        self.assertEqual([c['name'] for c in report['children'][0]['children']], ['nodes'])
        self.assertEqual(json.loads(pool.report_to_json())['parent'], 'frames')


if __name__ == '__main__':
    unittest.main()
