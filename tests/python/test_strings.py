# SPDX-License-Identifier: LGPL-2.1-or-later
"""Strings and bytes copied into allocators (nebula-strings.h)."""
import unittest

from nebulatest import AllocatorTestCase, Nebula, read

E = Nebula.AllocatorError


class StringsTest(AllocatorTestCase):
    def test_strdup_returns_a_python_str_and_uses_the_arena(self):
        bump = Nebula.BumpAllocator(capacity=4096, name='strings')
        text = bump.strdup('héllo')
        self.assertIsInstance(text, str)
        self.assertEqual(text, 'héllo')
        # UTF-8 bytes plus the terminator stay in the arena.
        self.assertEqual(bump.props.bytes_used, len('héllo'.encode()) + 1)

    def test_strdup_address_can_be_read_back_and_freed(self):
        pool = Nebula.PoolAllocator(block_size=64, block_count=2, check_frees=False)
        address = pool.strdup_address('GET /')
        self.assertIsInstance(address, int)
        self.assertEqual(read(address, 6), b'GET /\0')
        self.assertEqual(pool.read_address(address, 6).get_data(), b'GET /\0')
        pool.deallocate(address, 6, 1)
        # The script ledger forgot it: a second free is refused, not a crash.
        self.assertNebulaError(E.INVALID_POINTER, pool.deallocate, address, 6, 1)

    def test_strjoinv(self):
        bump = Nebula.BumpAllocator(capacity=4096)
        self.assertEqual(bump.strjoinv(', ', ['a', 'bb', 'ccc']), 'a, bb, ccc')
        self.assertEqual(bump.strjoinv(None, ['x', 'y']), 'xy')
        self.assertEqual(bump.strjoinv('-', []), '')
        address = bump.strjoinv_address('/', ['usr', 'lib'])
        self.assertEqual(read(address, 8), b'usr/lib\0')

    def test_memdup_copies_bytes_aligned(self):
        bump = Nebula.BumpAllocator(capacity=4096)
        bump.strdup('x')
        address = bump.memdup(b'\x01\x02\x03', 64)
        self.assertEqual(address % 64, 0)
        self.assertEqual(read(address, 3), b'\x01\x02\x03')
        self.assertNebulaError(E.INVALID_ALIGNMENT, bump.memdup, b'abc', 3)
        self.assertNebulaError(E.INVALID_ALIGNMENT, bump.memdup, b'abc', 2 ** 64 - 1)

    def test_bad_input_never_crashes(self):
        bump = Nebula.BumpAllocator(capacity=64, name='small')
        with self.assertRaises(TypeError):
            bump.strdup(None)
        with self.assertRaises(TypeError):
            bump.strjoinv('-', None)
        e = self.assertNebulaError(E.EXHAUSTED, bump.strdup, 'y' * 100)
        self.assertIn('requested 101 bytes', e.message)
        # Still usable.
        self.assertEqual(bump.strdup('ok'), 'ok')

    def test_strings_go_with_the_scope(self):
        bump = Nebula.BumpAllocator(capacity=4096)
        with bump.scope():
            bump.strdup('inside')
            self.assertGreater(bump.props.bytes_used, 0)
        self.assertEqual(bump.props.bytes_used, 0)

    def test_printf_family_is_not_introspected(self):
        bump = Nebula.BumpAllocator(capacity=64)
        for name in ('printf', 'vprintf', 'strconcat', 'strndup'):
            self.assertFalse(hasattr(bump, name), name)


if __name__ == '__main__':
    unittest.main()
