# SPDX-License-Identifier: LGPL-2.1-or-later
import unittest

from nebulatest import GLib, Nebula


class ErrorTest(unittest.TestCase):
    def test_every_code_has_a_suggestion(self):
        for enum, domain in [(Nebula.AllocatorError, Nebula.allocator_error_quark()),
                             (Nebula.CacheError, Nebula.cache_error_quark())]:
            for code in enum.__enum_values__.values():
                error = GLib.Error.new_literal(domain, 'x', int(code))
                with self.subTest(code=code):
                    self.assertTrue(Nebula.error_get_suggestion(error))

    def test_first_member_is_failed(self):
        self.assertEqual(int(Nebula.AllocatorError.FAILED), 0)
        self.assertEqual(int(Nebula.CacheError.FAILED), 0)

    def test_retryable(self):
        domain = Nebula.allocator_error_quark()
        exhausted = GLib.Error.new_literal(domain, 'x', int(Nebula.AllocatorError.EXHAUSTED))
        double_free = GLib.Error.new_literal(domain, 'x', int(Nebula.AllocatorError.DOUBLE_FREE))
        self.assertTrue(Nebula.error_is_retryable(exhausted))
        self.assertFalse(Nebula.error_is_retryable(double_free))

    def test_format(self):
        bump = Nebula.BumpAllocator(capacity=64, name='tiny')
        with self.assertRaises(GLib.Error) as cm:
            bump.allocate(100, 8)
        text = Nebula.error_format(cm.exception)
        self.assertIn("Bump allocator 'tiny' is exhausted", text)
        self.assertIn('help:', text)


if __name__ == '__main__':
    unittest.main(verbosity=2)
