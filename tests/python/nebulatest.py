# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared set-up for the Python suites: load Nebula from the build tree."""

import ctypes
import os
import sys
import unittest

import gi

gi.require_version('Nebula', '1')
from gi.repository import GLib, GObject, Nebula  # noqa: E402

# The override must come from this source tree, not an installed copy.
import gi.overrides.Nebula as _override  # noqa: E402
_root = os.environ.get('NEBULA_SOURCE_ROOT')
if _root and not os.path.realpath(_override.__file__).startswith(os.path.realpath(_root)):
    sys.exit(f'override loaded from {_override.__file__}, not from {_root}')


def domain_of(error):
    return error.domain


def allocator_error(code):
    """A matcher: the GLib.Error is NEBULA_ALLOCATOR_ERROR / code."""
    def check(error):
        return (error.domain == 'NebulaAllocatorError' and
                error.code == int(code))
    return check


class AllocatorTestCase(unittest.TestCase):
    def assertNebulaError(self, code, fn, *args):
        """Calls fn(*args), which must raise NEBULA_ALLOCATOR_ERROR / code."""
        with self.assertRaises(GLib.Error) as cm:
            fn(*args)
        self.assertEqual(cm.exception.domain, 'NebulaAllocatorError')
        self.assertEqual(cm.exception.code, int(code), cm.exception.message)
        return cm.exception


def write(address, data):
    ctypes.memmove(address, data, len(data))


def read(address, size):
    return ctypes.string_at(address, size)


__all__ = ['AllocatorTestCase', 'GLib', 'GObject', 'Nebula', 'allocator_error', 'write', 'read']
