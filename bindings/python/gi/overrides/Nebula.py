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


@contextlib.contextmanager
def context(name):
    """Name the call site for errors raised inside the ``with`` block."""
    Nebula.context_push(name)
    try:
        yield
    finally:
        Nebula.context_pop()


__all__.append('context')


# Compute caches ------------------------------------------------------------

import asyncio  # noqa: E402

from gi.repository import Gio, GLib  # noqa: E402


def _variant_key(key):
    """Plain Python keys become GLib.Variant keys: str, bool, int, float,
    and tuples of them. Variants pass through unchanged; anything else is
    left for the cache to reject with INVALID_KEY."""
    if key is None or isinstance(key, GLib.Variant):
        return key
    if isinstance(key, bool):
        return GLib.Variant('b', key)
    if isinstance(key, int):
        return GLib.Variant('x', key)
    if isinstance(key, float):
        return GLib.Variant('d', key)
    if isinstance(key, str):
        return GLib.Variant('s', key)
    if isinstance(key, tuple):
        return GLib.Variant.new_tuple(*[_variant_key(item) for item in key])
    return key


class ComputeCache(Nebula.ComputeCache):
    """A bounded get-or-compute cache; keys may be plain Python values."""

    def get_or_compute(self, key, func, *user_data):
        return Nebula.ComputeCache.get_or_compute(self, _variant_key(key), func, *user_data)

    def get(self, key):
        return Nebula.ComputeCache.get(self, _variant_key(key))

    def insert(self, key, value):
        return Nebula.ComputeCache.insert(self, _variant_key(key), value)

    def invalidate(self, key):
        return Nebula.ComputeCache.invalidate(self, _variant_key(key))


ComputeCache = override(ComputeCache)
__all__.append('ComputeCache')


async def _drive_glib(future):
    """PyGObject 3.42 has no asyncio integration: iterate the GLib main
    context from the asyncio loop until @future is done."""
    context = GLib.MainContext.default()
    while not future.done():
        if not context.iteration(False):
            await asyncio.sleep(0.001)
        else:
            await asyncio.sleep(0)
    return future.result()


class AsyncComputeCache(Nebula.AsyncComputeCache):
    """An asynchronous get-or-compute cache (see the C docs).

    ``func(key, cancellable, task)`` starts a computation and returns
    ``task`` exactly once, from any thread: ``task.return_value(obj)`` or
    ``task.return_error(GLib.Error(...))``.
    """

    def get_or_compute_async(self, key, func, cancellable=None, callback=None, *user_data):
        def compute(key, compute_cancellable, task, *_data):
            func(key, compute_cancellable, task)

        def done(cache, result, *_data):
            if callback is not None:
                callback(cache, result, *user_data)

        Nebula.AsyncComputeCache.get_or_compute_async(
            self, _variant_key(key), compute, cancellable=cancellable, callback=done)

    def get_or_compute(self, key, func, cancellable=None):
        """An awaitable for asyncio: ``value, outcome = await
        cache.get_or_compute(key, func)``. Cancelling the awaiting asyncio
        task cancels this request only."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        cancellable = cancellable or Gio.Cancellable()

        def done(cache, result):
            try:
                outcome = cache.get_or_compute_finish(result)
            except GLib.Error as error:
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(tuple(outcome))

        self.get_or_compute_async(key, func, cancellable, done)

        async def wait():
            try:
                return await _drive_glib(future)
            except asyncio.CancelledError:
                cancellable.cancel()
                # Let the request complete, so no task is left behind.
                context = GLib.MainContext.default()
                while not future.done():
                    context.iteration(True)
                future.exception()      # retrieved: the error is the cancel
                raise

        return wait()

    def invalidate(self, key):
        return Nebula.AsyncComputeCache.invalidate(self, _variant_key(key))


AsyncComputeCache = override(AsyncComputeCache)
__all__.append('AsyncComputeCache')
