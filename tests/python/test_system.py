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


if __name__ == '__main__':
    unittest.main(verbosity=2)
