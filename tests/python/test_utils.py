# SPDX-License-Identifier: LGPL-2.1-or-later
"""nebula_memory_copy/_fill/nebula_secure_zero through integer addresses."""
import ctypes
import unittest

from nebulatest import Nebula, read, write


class MemoryTest(unittest.TestCase):
    def test_copy_fill_zero(self):
        for size in (0, 1, 15, 64, 100, 4096, 70000):
            with self.subTest(size=size):
                src = ctypes.create_string_buffer((bytes(range(256)) * (size // 256 + 1))[:size], size + 1)
                dst = ctypes.create_string_buffer(size + 1)
                a, b = ctypes.addressof(src), ctypes.addressof(dst)
                Nebula.memory_copy(b, a, size)
                self.assertEqual(read(b, size), read(a, size))
                Nebula.memory_fill(b, 0x5A, size)
                self.assertEqual(read(b, size), b'\x5a' * size)
                Nebula.secure_zero(b, size)
                self.assertEqual(read(b, size), b'\0' * size)
                self.assertEqual(read(b + size, 1), b'\0')

    def test_overlap_is_memmove(self):
        buf = ctypes.create_string_buffer(b'abcdefghij', 10)
        a = ctypes.addressof(buf)
        Nebula.memory_copy(a + 2, a, 6)
        self.assertEqual(read(a, 10), b'ababcdefij')

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
