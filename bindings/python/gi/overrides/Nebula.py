# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pythonic additions to the Nebula GObject Introspection bindings.

* Constructing an allocator validates its configuration at once:
  ``Nebula.BumpAllocator(capacity=0)`` raises ``GLib.Error`` with
  ``NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG`` instead of returning an object
  whose every method fails.
* ``with bump.scope():`` releases everything allocated inside the block.
* ``with Nebula.context("parse_request"):`` names the call site in errors.
"""

import contextlib

from ..module import get_introspection_module
from ..overrides import override

Nebula = get_introspection_module('Nebula')

__all__ = []


def _init_on_construction(self, **kwargs):
    # GObject.Object.__init__ only sets properties; GInitable.init is what
    # validates the configuration, so run it right away.
    super(type(self), self).__init__(**kwargs)
    self.init(None)


class SystemAllocator(Nebula.SystemAllocator):
    """malloc() and free() behind the Nebula.Allocator interface."""

    __init__ = _init_on_construction


SystemAllocator = override(SystemAllocator)
__all__.append('SystemAllocator')


class BumpAllocator(Nebula.BumpAllocator):
    """A region allocator that moves a cursor forward (see the C docs)."""

    __init__ = _init_on_construction

    @contextlib.contextmanager
    def scope(self):
        """Rewind to the current position when the ``with`` block ends."""
        checkpoint = self.checkpoint()
        try:
            yield self
        finally:
            self.restore(checkpoint)


BumpAllocator = override(BumpAllocator)
__all__.append('BumpAllocator')


class PoolAllocator(Nebula.PoolAllocator):
    """Fixed-size blocks with O(1) allocate and free (see the C docs).

    Construction validates the configuration:
    ``Nebula.PoolAllocator(block_size=4)`` raises ``GLib.Error``
    (``INVALID_CONFIG``) naming the property.
    """

    __init__ = _init_on_construction


PoolAllocator = override(PoolAllocator)
__all__.append('PoolAllocator')


@contextlib.contextmanager
def context(name):
    """Name the call site for errors raised inside the ``with`` block."""
    Nebula.context_push(name)
    try:
        yield
    finally:
        Nebula.context_pop()


__all__.append('context')
