# SPDX-License-Identifier: LGPL-2.1-or-later
"""Growable buffers in allocators (nebula-arena-buffer.h)."""
import unittest

from nebulatest import AllocatorTestCase, GLib, Nebula, read

E = Nebula.AllocatorError


class ArenaBufferTest(AllocatorTestCase):
    def test_build_text_and_finish_as_str(self):
        bump = Nebula.BumpAllocator(capacity=1 << 16)
        buffer = Nebula.ArenaBuffer.new(bump, 1)
        for i in range(100):
            buffer.append_string(f'<li>{i}</li>')
        buffer.append(b'!')
        self.assertEqual(buffer.get_length(), sum(len(f'<li>{i}</li>') for i in range(100)) + 1)
        text = buffer.finish_string()
        self.assertTrue(text.startswith('<li>0</li><li>1</li>'))
        self.assertTrue(text.endswith('<li>99</li>!'))
        # The slack went back: the arena holds the text and its nul byte.
        self.assertEqual(bump.props.bytes_used, len(text) + 1)
        self.assertEqual(buffer.get_length(), 0)

    def test_finish_as_address_and_bytes(self):
        bump = Nebula.BumpAllocator(capacity=4096)
        buffer = Nebula.ArenaBuffer.new(bump, 8)
        buffer.append(b'abc')
        address, length = buffer.finish()
        self.assertEqual(length, 3)
        self.assertEqual(address % 8, 0)
        self.assertEqual(read(address, 3), b'abc')
        buffer.append_string('xyz')
        data = buffer.finish_bytes()
        self.assertIsInstance(data, GLib.Bytes)
        self.assertEqual(data.get_data(), b'xyz')

    def test_released_by_a_scope(self):
        bump = Nebula.BumpAllocator(capacity=4096)
        buffer = Nebula.ArenaBuffer.new(bump, 1)
        with bump.scope():
            buffer.append_string('inside')
        e = self.assertNebulaError(E.INVALID_POINTER, buffer.append_string, 'after')
        self.assertIn('released', e.message)
        buffer.append_string('again')
        self.assertEqual(buffer.finish_string(), 'again')

    def test_bad_input(self):
        bump = Nebula.BumpAllocator(capacity=128)
        self.assertNebulaError(E.INVALID_ALIGNMENT, Nebula.ArenaBuffer.new, bump, 3)
        buffer = Nebula.ArenaBuffer.new(bump, 1)
        self.assertNebulaError(E.EXHAUSTED, buffer.append, bytes(1000))
        self.assertEqual(buffer.get_length(), 0)
        self.assertFalse(hasattr(buffer, 'append_printf'))


if __name__ == '__main__':
    unittest.main()
