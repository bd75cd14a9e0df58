# SPDX-License-Identifier: LGPL-2.1-or-later
"""nebula_memory_copy/_fill/nebula_secure_zero through integer addresses:
the script entry points, which accept only memory of a live allocator."""
import ctypes
import unittest

from nebulatest import GLib, Nebula, read, write


class MemoryTest(unittest.TestCase):
    def test_copy_fill_zero(self):
        # The script entry points work on memory of a live Nebula allocator.
        system = Nebula.SystemAllocator()
        for size in (0, 1, 15, 64, 100, 4096, 70000):
            with self.subTest(size=size):
                a = system.allocate(size + 1)
                b = system.allocate(size + 1)
                write(a, (bytes(range(256)) * (size // 256 + 1))[:size] + b'\0')
                write(b, bytes(size + 1))
                Nebula.memory_copy(b, a, size)
                self.assertEqual(read(b, size), read(a, size))
                Nebula.memory_fill(b, 0x5A, size)
                self.assertEqual(read(b, size), b'\x5a' * size)
                Nebula.secure_zero(b, size)
                self.assertEqual(read(b, size), b'\0' * size)
                self.assertEqual(read(b + size, 1), b'\0')
                system.deallocate(a, size + 1)
                system.deallocate(b, size + 1)

    def test_overlap_is_memmove(self):
        bump = Nebula.BumpAllocator(capacity=256)
        a = bump.allocate(10)
        write(a, b'abcdefghij')
        Nebula.memory_copy(a + 2, a, 6)
        self.assertEqual(read(a, 10), b'ababcdefij')

    def test_foreign_memory_is_refused(self):
        # The new contract: only memory of a live Nebula allocator. Buffers
        # of one's own go through ctypes.memmove and ctypes.memset.
        buf = ctypes.create_string_buffer(b'untouched', 16)
        address = ctypes.addressof(buf)
        bump = Nebula.BumpAllocator(capacity=256)
        block = bump.allocate(16)
        calls = [
            lambda: Nebula.memory_fill(address, 0, 8),
            lambda: Nebula.memory_copy(address, block, 8),
            lambda: Nebula.memory_copy(block, address, 8),
            lambda: Nebula.secure_zero(address, 8),
            lambda: Nebula.memory_fill(1, 0, 8),
            lambda: Nebula.memory_copy(1, block, 8),
            lambda: Nebula.secure_zero(1, 8),
            lambda: Nebula.memory_fill(block, 0, 1 << 40),
            lambda: Nebula.memory_copy(block, block, 1 << 40),
            lambda: Nebula.secure_zero(block, 1 << 40),
            lambda: Nebula.memory_fill(block, 0, 17 + 256),   # past the chunk
            lambda: Nebula.secure_zero((1 << 64) - 1, 2),
        ]
        for i, call in enumerate(calls):
            with self.subTest(call=i):
                with self.assertRaises(GLib.Error) as cm:
                    call()
                self.assertEqual(cm.exception.domain, 'NebulaAllocatorError')
                self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.INVALID_POINTER))
                self.assertIn('not memory of a live Nebula allocator', cm.exception.message)
        self.assertEqual(buf.value, b'untouched')
        ctypes.memset(address, ord('x'), 4)
        self.assertEqual(buf.value, b'xxxxuched')

    def test_freed_allocator_memory_is_refused(self):
        pool = Nebula.PoolAllocator(block_size=32, block_count=4)
        block = pool.allocate(32)
        Nebula.memory_fill(block, 1, 32)
        pool.deallocate(block, 32)
        with self.assertRaises(GLib.Error):
            Nebula.memory_fill(block, 1, 32)

    def test_on_allocator_memory(self):
        bump = Nebula.BumpAllocator()
        a = bump.allocate(64, 16)
        b = bump.allocate(64, 16)
        write(a, b'nebula' * 10)
        Nebula.memory_copy(b, a, 60)
        self.assertEqual(read(b, 60), b'nebula' * 10)

    def test_implementation(self):
        self.assertIn(Nebula.memory_get_implementation(), ('avx2', 'sse2', 'portable'))


if __name__ == '__main__':
    unittest.main()
