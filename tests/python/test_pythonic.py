# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python conveniences of the override: default alignment, stats as
attributes, memoryviews, repr and docstrings."""
import gc
import pydoc
import unittest

from nebulatest import GLib, GObject, Nebula, read, write

E = Nebula.AllocatorError


def all_allocators():
    return [Nebula.BumpAllocator(capacity=4096, name='bump'),
            Nebula.SystemAllocator(name='system')]


class PythonicTest(unittest.TestCase):
    def assertNebulaError(self, code, fn, *args, **kwargs):
        with self.assertRaises(GLib.Error) as cm:
            fn(*args, **kwargs)
        self.assertEqual(cm.exception.domain, 'NebulaAllocatorError')
        self.assertEqual(cm.exception.code, int(code))
        return cm.exception

    def test_default_alignment(self):
        self.assertEqual(Nebula.DEFAULT_ALIGNMENT, 8)
        for alloc in all_allocators():
            with self.subTest(alloc=alloc):
                alloc.allocate(1)    # knock the cursor off 8
                address = alloc.allocate(24)
                self.assertEqual(address % 8, 0)
                zeroed = alloc.allocate_zeroed(3)
                self.assertEqual(zeroed % 8, 0)
                self.assertEqual(read(zeroed, 3), bytes(3))
                wide = alloc.allocate(32, alignment=64)
                self.assertEqual(wide % 64, 0)
                self.assertEqual(alloc.allocate(8, 32) % 32, 0)
                write(address, b'x' * 24)
                moved = alloc.reallocate(address, 24, 48)
                self.assertEqual(read(moved, 24), b'x' * 24)
                self.assertTrue(alloc.deallocate(moved, 48))

    def test_bad_alignment_still_raises(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        e = self.assertNebulaError(E.INVALID_ALIGNMENT, bump.allocate, 8, alignment=3)
        self.assertIn('alignment 3 is not a power of two', e.message)

    def test_allocate_array(self):
        bump = Nebula.BumpAllocator(capacity=1024, name='arrays')
        address = bump.allocate_array(10, 8)
        self.assertEqual(address % 8, 0)
        self.assertEqual(bump.props.bytes_used, 80)
        zeroed = bump.allocate_array(4, 4, alignment=16, zeroed=True)
        self.assertEqual(zeroed % 16, 0)
        self.assertEqual(read(zeroed, 16), bytes(16))

        e = self.assertNebulaError(E.SIZE_OVERFLOW, bump.allocate_array, 2**62, 8)
        self.assertIn("Bump allocator 'arrays': 4611686018427387904 elements of 8 bytes "
                      "overflow the size type (at most 18446744073709551615 bytes)", e.message)
        self.assertTrue(Nebula.error_get_suggestion(e))
        e = self.assertNebulaError(E.EXHAUSTED, bump.allocate_array, 100, 100)
        self.assertIn('requested 10000 bytes', e.message)
        self.assertEqual(bump.stats.failed_allocations, 2)
        self.assertEqual(bump.props.bytes_used, 80 + 16)

    def test_stats_attributes(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        bump.allocate(100)
        bump.allocate(28)
        stats = bump.stats
        self.assertIsInstance(stats, Nebula.AllocatorStats)
        self.assertEqual(stats.allocations, 2)
        self.assertEqual(stats.bytes_in_use, 128)
        self.assertEqual(stats.peak_bytes_in_use, 128)
        as_dict = stats.as_dict()
        self.assertEqual(list(as_dict), [
            'allocations', 'deallocations', 'reallocations', 'failed_allocations',
            'bytes_in_use', 'peak_bytes_in_use', 'total_bytes_allocated',
            'total_bytes_freed', 'resets'])
        self.assertEqual(as_dict['allocations'], 2)
        self.assertEqual(as_dict['total_bytes_allocated'], 128)
        self.assertTrue(repr(stats).startswith('<Nebula.AllocatorStats allocations=2 '))
        self.assertIn('bytes_in_use=128', repr(stats))
        # A snapshot: later activity does not change it.
        bump.reset()
        self.assertEqual(stats.bytes_in_use, 128)
        self.assertEqual(bump.stats.bytes_in_use, 0)
        self.assertEqual(bump.stats.resets, 1)

    def test_view_is_writable_memory(self):
        for alloc in all_allocators():
            with self.subTest(alloc=alloc):
                address = alloc.allocate(16)
                view = alloc.view(address, 16)
                self.assertIsInstance(view, memoryview)
                self.assertEqual(len(view), 16)
                self.assertFalse(view.readonly)
                view[:5] = b'hello'
                view[15] = 0x7F
                self.assertEqual(read(address, 5), b'hello')
                self.assertEqual(read(address + 15, 1), b'\x7f')
                write(address + 5, b', you')
                self.assertEqual(bytes(view[:10]), b'hello, you')
                self.assertEqual(len(alloc.view(address, 0)), 0)

    def test_view_refuses_foreign_memory(self):
        bump = Nebula.BumpAllocator(capacity=64, name='small')
        other = Nebula.BumpAllocator(capacity=64, name='other')
        address = bump.allocate(16)
        with self.assertRaisesRegex(ValueError,
                                    "^16 bytes at 0x[0-9a-f]+ are not a block of "
                                    "<Nebula.BumpAllocator 'other'"):
            other.view(address, 16)
        with self.assertRaises(ValueError):
            bump.view(address, 1000)     # runs past the end of the chunk
        with self.assertRaises(ValueError):
            bump.view(address, -1)
        system = Nebula.SystemAllocator()
        with self.assertRaises(ValueError):
            system.view(address, 16)

    def test_view_keeps_allocator_alive(self):
        bump = Nebula.BumpAllocator(capacity=64)
        view = bump.view(bump.allocate(8), 8)
        view[:] = b'survives'
        del bump
        gc.collect()
        self.assertEqual(bytes(view), b'survives')

    def test_view_released_by_with(self):
        # The way the docs say to drop a view before its block goes.
        system = Nebula.SystemAllocator()
        address = system.allocate(8)
        with system.view(address, 8) as view:
            view[:] = b'released'
        self.assertEqual(read(address, 8), b'released')
        system.deallocate(address, 8)
        with self.assertRaisesRegex(ValueError, 'released memoryview'):
            view[0] = 1

    def test_repr(self):
        bump = Nebula.BumpAllocator(capacity=4096, name='frames')
        bump.allocate(100)
        self.assertRegex(repr(bump),
                         r"^<Nebula\.BumpAllocator 'frames' bytes_used=100 capacity=4096 at 0x[0-9a-f]+>$")
        self.assertRegex(repr(Nebula.SystemAllocator()),
                         r'^<Nebula\.SystemAllocator bytes_used=0 capacity=0 at 0x[0-9a-f]+>$')

    def test_pool_view_stays_inside_blocks(self):
        pool = Nebula.PoolAllocator(block_size=20, block_alignment=16, block_count=4,
                                    name='records')
        self.assertEqual(pool.props.block_size, 32)      # rounded up to 16
        blocks = sorted(pool.allocate(20) for _ in range(4))
        self.assertEqual([b - blocks[0] for b in blocks], [0, 32, 64, 96])   # one slab
        view = pool.view(blocks[0], 32)
        view[:] = bytes(range(32))
        self.assertEqual(read(blocks[0], 32), bytes(range(32)))
        self.assertEqual(len(pool.view(blocks[0] + 31, 1)), 1)
        self.assertEqual(len(pool.view(blocks[1], 0)), 0)
        # Two allocated neighbours are still two blocks.
        with self.assertRaisesRegex(ValueError,
                                    r"^64 bytes at 0x[0-9a-f]+ are more than one block of "
                                    r"<Nebula\.PoolAllocator 'records' .*\(32 bytes\)$"):
            pool.view(blocks[0], 64)
        # A free block holds the free list: no view reaches into it.
        pool.deallocate(blocks[2], 20)
        with self.assertRaisesRegex(ValueError, 'are not a block of'):
            pool.view(blocks[2], 1)
        with self.assertRaisesRegex(ValueError, 'are not a block of'):
            pool.view(blocks[1] + 16, 32)
        self.assertEqual(len(pool.view(blocks[1] + 16, 16)), 16)

    def test_stack_view_stays_on_the_stack(self):
        stack = Nebula.StackAllocator(capacity=1024, name='scratch')
        address = stack.allocate(100)
        view = stack.view(address, 100)
        view[:4] = b'top!'
        self.assertEqual(read(address, 4), b'top!')
        with self.assertRaisesRegex(ValueError, 'are not a block of'):
            stack.view(address, 101)       # past the top of the stack
        stack.deallocate(address, 100)
        with self.assertRaisesRegex(ValueError, 'are not a block of'):
            stack.view(address, 1)

    def test_stack_allocate_high_default_alignment(self):
        stack = Nebula.StackAllocator(capacity=1024, double_ended=True)
        stack.allocate_high(3)
        address = stack.allocate_high(5)
        self.assertEqual(address % Nebula.DEFAULT_ALIGNMENT, 0)
        self.assertEqual(stack.allocate_high(16, alignment=64) % 64, 0)
        self.assertTrue(stack.deallocate_high(stack.allocate_high(7), 7))
        e = self.assertNebulaError(E.INVALID_ALIGNMENT, stack.allocate_high, 8, alignment=3)
        self.assertIn('alignment 3 is not a power of two', e.message)

    def test_pool_and_stack_repr(self):
        pool = Nebula.PoolAllocator(block_size=48, block_count=8, name='records')
        pool.allocate(48)
        pool.allocate(1)
        self.assertRegex(repr(pool),
                         r"^<Nebula\.PoolAllocator 'records' block_size=48 blocks_in_use=2 "
                         r"max_blocks=8 at 0x[0-9a-f]+>$")
        growing = Nebula.PoolAllocator(block_size=8, block_count=4, max_block_count=10)
        self.assertRegex(repr(growing),
                         r'^<Nebula\.PoolAllocator block_size=16 blocks_in_use=0 '
                         r'max_blocks=10 at 0x[0-9a-f]+>$')
        stack = Nebula.StackAllocator(capacity=4096, name='frames', double_ended=True)
        self.assertRegex(repr(stack),
                         r"^<Nebula\.StackAllocator 'frames' bytes_used=0 capacity=4096 "
                         r"double_ended at 0x[0-9a-f]+>$")
        stack.allocate(8)
        self.assertRegex(repr(Nebula.StackAllocator(capacity=256)),
                         r'^<Nebula\.StackAllocator bytes_used=0 capacity=256 at 0x[0-9a-f]+>$')
        self.assertNotIn('bytes_used=0 ', repr(stack))
        # An object that never ran init (GObject.new skips __init__) still
        # has a repr.
        raw = GObject.new(Nebula.PoolAllocator, block_size=0)
        self.assertIn('blocks_in_use=0 max_blocks=0', repr(raw))

    def test_pool_and_stack_help(self):
        text = pydoc.render_doc(Nebula.PoolAllocator, renderer=pydoc.plaintext)
        for needle in ('any order', 'DOUBLE_FREE', 'INVALID_LAYOUT', 'rounded up',
                       'allocate(self, size, alignment=8)', 'view(self, address, size)'):
            self.assertIn(needle, text)
        text = pydoc.render_doc(Nebula.StackAllocator, renderer=pydoc.plaintext)
        for needle in ('last-in, first-out', 'OUT_OF_ORDER', 'frame(self, high=False)',
                       'allocate_high(self, size, alignment=8)', 'double_ended=True'):
            self.assertIn(needle, text)

    def test_help_is_useful(self):
        text = pydoc.render_doc(Nebula.BumpAllocator, renderer=pydoc.plaintext)
        self.assertIn('moves a cursor forward', text)
        self.assertIn('scope(self)', text)
        self.assertIn('allocate(self, size, alignment=8)', text)
        self.assertIn('writable ``memoryview``', text)
        self.assertIn('stats', text)
        for method in ('allocate', 'allocate_zeroed', 'allocate_array', 'reallocate',
                       'deallocate', 'view', 'as_dict'):
            owner = Nebula.AllocatorStats if method == 'as_dict' else Nebula.Allocator
            self.assertTrue(getattr(owner, method).__doc__, method)

    def test_interface_override_reaches_every_allocator(self):
        for cls in (Nebula.BumpAllocator, Nebula.PoolAllocator, Nebula.StackAllocator,
                    Nebula.SystemAllocator):
            self.assertTrue(issubclass(cls, Nebula.Allocator))
            self.assertIs(cls.allocate, Nebula.Allocator.allocate)


if __name__ == '__main__':
    unittest.main(verbosity=2)
