# SPDX-License-Identifier: LGPL-2.1-or-later
"""A class written in Python implements Nebula.Allocator and is driven
through the same wrappers as the built-in allocators."""
import ctypes
import unittest

from nebulatest import GLib, GObject, Nebula, read, write


class ArenaInPython(GObject.Object, Nebula.Allocator):
    """A bump allocator over a ctypes buffer."""

    __gtype_name__ = 'TestArenaInPython'

    capacity = GObject.Property(type=GObject.TYPE_UINT64, default=1024)
    bytes_used = GObject.Property(type=GObject.TYPE_UINT64, default=0)
    bytes_available = GObject.Property(type=GObject.TYPE_UINT64, default=0)
    thread_safe = GObject.Property(type=bool, default=False)
    name = GObject.Property(type=str, default='py-arena')

    def __init__(self):
        super().__init__()
        self.buffer = ctypes.create_string_buffer(1024)
        self.base = ctypes.addressof(self.buffer)
        self.offset = 0

    def do_alloc(self, size, alignment):
        start = (self.base + self.offset + alignment - 1) & ~(alignment - 1)
        if start + size > self.base + 1024:
            raise GLib.Error.new_literal(Nebula.allocator_error_quark(), 'py arena full',
                                         int(Nebula.AllocatorError.EXHAUSTED))
        self.offset = start + size - self.base
        return start

    def do_dealloc(self, ptr, size, alignment):
        return True

    def do_contains(self, ptr):
        return self.base <= ptr < self.base + self.offset


class IncompleteAllocator(GObject.Object, Nebula.Allocator):
    __gtype_name__ = 'TestIncompleteAllocator'


class SilentAllocator(GObject.Object, Nebula.Allocator):
    """Fails without raising: returns 0 and False."""

    __gtype_name__ = 'TestSilentAllocator'

    def do_alloc(self, size, alignment):
        return 0

    def do_dealloc(self, ptr, size, alignment):
        return False


class NoContainsAllocator(GObject.Object, Nebula.Allocator):
    """Allocates and frees, but cannot say which memory is its own."""

    __gtype_name__ = 'TestNoContainsAllocator'

    capacity = GObject.Property(type=GObject.TYPE_UINT64, default=256)
    bytes_used = GObject.Property(type=GObject.TYPE_UINT64, default=0)
    bytes_available = GObject.Property(type=GObject.TYPE_UINT64, default=0)
    thread_safe = GObject.Property(type=bool, default=False)
    name = GObject.Property(type=str, default='no-contains')

    def __init__(self):
        super().__init__()
        self.buffer = ctypes.create_string_buffer(256)
        self.base = ctypes.addressof(self.buffer)

    def do_alloc(self, size, alignment):
        return self.base

    def do_dealloc(self, ptr, size, alignment):
        return True


class ForeignTest(unittest.TestCase):
    def test_default_resize_refuses_foreign_blocks_before_copying(self):
        # Issue 12, item 14: the default resize copied from the caller's
        # address before the implementation could refuse it.
        arena = ArenaInPython()
        a = Nebula.Allocator.allocate(arena, 8, 8)
        write(a, b'12345678')
        for address in (1, 4096, (1 << 64) - 8, a + 1024):
            with self.subTest(address=address):
                with self.assertRaises(GLib.Error) as cm:
                    Nebula.Allocator.reallocate(arena, address, 8, 32, 8)
                self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.INVALID_POINTER),
                                 cm.exception.message)
        # Its own blocks still move, contents kept.
        b = Nebula.Allocator.reallocate(arena, a, 8, 16, 8)
        self.assertEqual(read(b, 8), b'12345678')

        # Without a contains slot nothing vouches for the block: no copy.
        blind = NoContainsAllocator()
        with self.assertRaises(GLib.Error) as cm:
            Nebula.Allocator.reallocate(blind, 1, 8, 32, 8)
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.NOT_SUPPORTED))
        self.assertIn('implement NebulaAllocatorInterface::contains or '
                      'NebulaAllocatorInterface::resize', cm.exception.message)


    def test_python_implementation_through_the_wrappers(self):
        arena = ArenaInPython()
        address = Nebula.Allocator.allocate(arena, 100, 16)
        self.assertEqual(address % 16, 0)
        write(address, b'through python')
        self.assertEqual(read(address, 14), b'through python')
        self.assertTrue(Nebula.Allocator.owns(arena, address))

        # The wrappers validate before the Python code runs.
        with self.assertRaises(GLib.Error) as cm:
            Nebula.Allocator.allocate(arena, 8, 3)
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.INVALID_ALIGNMENT))

        # An error raised in Python reaches the caller.
        with self.assertRaises(GLib.Error) as cm:
            Nebula.Allocator.allocate(arena, 5000, 8)
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.EXHAUSTED))

        # The wrappers count for it.
        Nebula.Allocator.deallocate(arena, address, 100, 16)
        stats = Nebula.Allocator.get_stats(arena)
        self.assertEqual(stats.allocations, 1)
        self.assertEqual(stats.deallocations, 1)
        self.assertEqual(stats.failed_allocations, 2)

        # The default resize (allocate, copy, deallocate) serves it.
        a = Nebula.Allocator.allocate(arena, 8, 8)
        write(a, b'12345678')
        b = Nebula.Allocator.reallocate(arena, a, 8, 32, 8)
        self.assertNotEqual(a, b)
        self.assertEqual(read(b, 8), b'12345678')

        # A benchmark-style consumer works too.
        zeroed = Nebula.Allocator.allocate_zeroed(arena, 32, 8)
        self.assertEqual(read(zeroed, 32), bytes(32))

    def test_missing_slot_is_an_error_not_a_crash(self):
        incomplete = IncompleteAllocator()
        with self.assertRaises(GLib.Error) as cm:
            Nebula.Allocator.allocate(incomplete, 8, 8)
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.NOT_SUPPORTED))
        with self.assertRaises(GLib.Error) as cm:
            Nebula.Allocator.deallocate(incomplete, 4096, 8, 8)
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.NOT_SUPPORTED))
        self.assertFalse(Nebula.Allocator.owns(incomplete, 4096))
        Nebula.Allocator.reset(incomplete)

    def test_failure_without_an_error_is_failed(self):
        silent = SilentAllocator()
        with self.assertRaises(GLib.Error) as cm:
            Nebula.Allocator.allocate(silent, 48, 8)
        self.assertEqual(cm.exception.domain, 'NebulaAllocatorError')
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.FAILED))
        self.assertIn('allocation of 48 bytes failed without a reason', cm.exception.message)
        with self.assertRaises(GLib.Error) as cm:
            Nebula.Allocator.deallocate(silent, 4096, 64, 8)
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.FAILED))
        self.assertIn('deallocation of 64 bytes', cm.exception.message)


if __name__ == '__main__':
    unittest.main(verbosity=2)
