# SPDX-License-Identifier: LGPL-2.1-or-later
"""Cleanups registered on allocators (nebula-cleanup.h)."""
import gc
import unittest

from nebulatest import AllocatorTestCase, GLib, Nebula


class CleanupTest(AllocatorTestCase):
    def test_reset_runs_callables_newest_first(self):
        pool = Nebula.PoolAllocator(block_size=64, block_count=4)
        log = []
        first = pool.add_cleanup(lambda: log.append('a'))
        second = pool.add_cleanup(lambda tag: log.append(tag), 'b')
        self.assertGreater(second, first)
        self.assertEqual(pool.get_n_cleanups(), 2)
        pool.reset()
        self.assertEqual(log, ['b', 'a'])
        self.assertEqual(pool.get_n_cleanups(), 0)
        pool.reset()
        self.assertEqual(log, ['b', 'a'])

    def test_remove_and_run(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        log = []
        handle = bump.add_cleanup(lambda: log.append('removed'))
        kept = bump.add_cleanup(lambda: log.append('now'))
        self.assertTrue(bump.remove_cleanup(handle))
        self.assertFalse(bump.remove_cleanup(handle))
        self.assertFalse(bump.remove_cleanup(0))
        self.assertTrue(bump.run_cleanup(kept))
        self.assertFalse(bump.run_cleanup(kept))
        bump.reset()
        self.assertEqual(log, ['now'])

    def test_scope_runs_what_it_registered(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        log = []
        bump.add_cleanup(lambda: log.append('outer'))
        with bump.scope():
            bump.add_cleanup(lambda: log.append('inner'))
            bump.strdup('request')
        self.assertEqual(log, ['inner'])
        self.assertEqual(bump.props.bytes_used, 0)

    def test_stack_frame(self):
        stack = Nebula.StackAllocator(capacity=1024)
        log = []
        with stack.frame():
            stack.add_cleanup(lambda: log.append('frame'))
        self.assertEqual(log, ['frame'])

    def test_cleanup_registering_another_runs_in_the_same_pass(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        log = []

        def register():
            log.append('first')
            bump.add_cleanup(lambda: log.append('second'))

        bump.add_cleanup(register)
        bump.reset()
        self.assertEqual(log, ['first', 'second'])

    def test_a_cleanup_resetting_its_allocator_at_scope_end(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        try:
            with bump.scope():
                bump.strdup('inside')
                bump.add_cleanup(bump.reset)
        except GLib.Error as e:
            # The reset made the scope's checkpoint stale: said, not crashed.
            self.assertEqual(e.code, int(Nebula.AllocatorError.STALE_MARKER))
        self.assertEqual(bump.props.bytes_used, 0)
        self.assertEqual(bump.strdup('usable'), 'usable')

    def test_dropping_the_allocator_runs_them(self):
        log = []
        bump = Nebula.BumpAllocator(capacity=1024)
        bump.add_cleanup(lambda: log.append('closed'))
        del bump
        gc.collect()
        self.assertEqual(log, ['closed'])

    def test_a_raising_callable_does_not_stop_the_pass(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        log = []
        bump.add_cleanup(lambda: log.append('older'))
        bump.add_cleanup(lambda: 1 / 0)
        bump.reset()
        self.assertEqual(log, ['older'])


if __name__ == '__main__':
    unittest.main()
