# SPDX-License-Identifier: LGPL-2.1-or-later
"""Blocks handed to GLib as GBytes (nebula-bytes.h)."""
import gc
import unittest

from nebulatest import AllocatorTestCase, GLib, Nebula, write

E = Nebula.AllocatorError


class BytesTest(AllocatorTestCase):
    def test_bytes_new_copies_into_the_allocator(self):
        pool = Nebula.PoolAllocator(block_size=64, block_count=2)
        data = pool.bytes_new(b'payload', 8)
        self.assertIsInstance(data, GLib.Bytes)
        self.assertEqual(data.get_data(), b'payload')
        self.assertEqual(pool.props.bytes_used, 64)
        del data
        gc.collect()
        self.assertEqual(pool.props.bytes_used, 0)

    def test_to_bytes_takes_a_block_and_keeps_the_allocator(self):
        pool = Nebula.PoolAllocator(block_size=32, block_count=2, check_frees=False)
        address = pool.allocate(8, 8)
        write(address, b'abcdefgh')
        data = pool.to_bytes(address, 8, 8)
        del pool
        gc.collect()
        # The GBytes keeps the pool (and the block) alive.
        self.assertEqual(data.get_data(), b'abcdefgh')

    def test_bad_addresses_are_refused(self):
        bump = Nebula.BumpAllocator(capacity=256)
        self.assertNebulaError(E.INVALID_POINTER, bump.to_bytes, 4096, 8, 1)
        address = bump.allocate(8, 8)
        self.assertNebulaError(E.INVALID_POINTER, bump.to_bytes, address, 4096, 1)
        self.assertNebulaError(E.INVALID_ALIGNMENT, bump.to_bytes, address, 8, 3)
        self.assertNebulaError(E.EXHAUSTED, bump.bytes_new, bytes(1024), 1)


if __name__ == '__main__':
    unittest.main()
