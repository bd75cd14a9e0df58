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
        with Nebula.context('handle_client'):
            with self.assertRaises(GLib.Error) as cm:
                bump.allocate(100, 8)
        text = Nebula.error_format(cm.exception)
        lines = text.splitlines()
        # What happened, with the numbers (the detail does not cross the
        # binding, so the message carries them), the code, and what to do.
        self.assertTrue(lines[0].startswith(
            "error: Bump allocator 'tiny' is exhausted: requested 100 bytes, 64 of 64 available"))
        self.assertIn('  code: NEBULA_ALLOCATOR_ERROR_EXHAUSTED (see docs/errors.md)', lines)
        self.assertIn('  help: ' + Nebula.error_get_suggestion(cm.exception), lines)
        if Nebula.HAS_ERROR_CONTEXT:
            self.assertTrue(lines[0].endswith('(in handle_client)'))

    def test_context_nesting(self):
        bump = Nebula.BumpAllocator(capacity=64, name='tiny')
        self.assertIsNone(Nebula.context_get_path())
        with Nebula.context('handle_client'):
            with Nebula.context('parse_request'):
                path = Nebula.context_get_path()
                with self.assertRaises(GLib.Error) as inner:
                    bump.allocate(100, 8)
            with self.assertRaises(GLib.Error) as outer:
                bump.allocate(100, 8)
        self.assertIsNone(Nebula.context_get_path())
        with self.assertRaises(GLib.Error) as none:
            bump.allocate(100, 8)

        if Nebula.HAS_ERROR_CONTEXT:
            self.assertEqual(path, 'handle_client > parse_request')
            self.assertTrue(inner.exception.message.endswith(
                '(in handle_client > parse_request)'))
            self.assertTrue(outer.exception.message.endswith('(in handle_client)'))
        else:
            self.assertIsNone(path)
        self.assertNotIn('(in ', none.exception.message)

    def test_context_pops_on_exception(self):
        with self.assertRaises(KeyError):
            with Nebula.context('outer'):
                with Nebula.context('failing'):
                    raise KeyError('x')
        self.assertIsNone(Nebula.context_get_path())
        # Names may be temporary strings: they are interned.
        with Nebula.context(''.join(['dyn', 'amic'])):
            if Nebula.HAS_ERROR_CONTEXT:
                self.assertEqual(Nebula.context_get_path(), 'dynamic')


if __name__ == '__main__':
    unittest.main(verbosity=2)
