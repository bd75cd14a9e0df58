# SPDX-License-Identifier: LGPL-2.1-or-later
import unittest

from nebulatest import GLib, Nebula, read, write


class SystemTest(unittest.TestCase):
    def test_roundtrip(self):
        sys_alloc = Nebula.SystemAllocator()
        address = sys_alloc.allocate(256, 32)
        self.assertEqual(address % 32, 0)
        write(address, b'x' * 256)
        self.assertEqual(read(address, 256), b'x' * 256)
        self.assertTrue(sys_alloc.owns(address))
        self.assertTrue(sys_alloc.deallocate(address, 256, 32))
        with self.assertRaises(GLib.Error) as cm:
            sys_alloc.deallocate(address, 256, 32)
        self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.INVALID_POINTER))
        stats = sys_alloc.get_stats()
        self.assertEqual((stats.allocations, stats.deallocations, stats.bytes_in_use), (1, 1, 0))

    def test_out_of_memory(self):
        # 4 EiB: more than any address space, less than the largest layout.
        sys_alloc = Nebula.SystemAllocator()
        huge = 2**62
        for alignment in (8, 4096):
            with self.assertRaises(GLib.Error) as cm:
                sys_alloc.allocate(huge, alignment)
            self.assertEqual(cm.exception.domain, 'NebulaAllocatorError')
            self.assertEqual(cm.exception.code, int(Nebula.AllocatorError.OUT_OF_MEMORY))
            self.assertIn(f'refused {huge} bytes (alignment {alignment})', cm.exception.message)
        self.assertEqual(sys_alloc.props.bytes_used, 0)
        address = sys_alloc.allocate(16, 8)
        self.assertTrue(sys_alloc.deallocate(address, 16, 8))


if __name__ == '__main__':
    unittest.main(verbosity=2)
