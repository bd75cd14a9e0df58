# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pythonic additions to the Nebula GObject Introspection bindings.

* Constructing an allocator validates its configuration at once:
  ``Nebula.BumpAllocator(capacity=0)`` raises ``GLib.Error`` with
  ``NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG`` instead of returning an object
  whose every method fails.
* ``with bump.scope():`` releases everything allocated inside the block.
* ``with stack.frame():`` (``stack.frame(high=True)`` for the high end of a
  double-ended stack) releases everything pushed inside the block.
* ``with Nebula.context("parse_request"):`` names the call site in errors.
* Every allocator takes a default alignment (``Nebula.DEFAULT_ALIGNMENT``),
  has ``stats`` as an attribute, a readable ``repr()``, and ``view()``:
  a writable ``memoryview`` of a block it handed out, checked in C
  (``check_span_address()``) whatever the preset.
* Every method that takes an address checks it against the allocator
  before memory is touched, so no address a script passes can crash the
  interpreter; ``Nebula.memory_copy``/``memory_fill``/``secure_zero``
  accept only memory of a live Nebula allocator (use ``ctypes.memmove``
  and ``ctypes.memset`` for buffers of your own).
"""

import contextlib
import ctypes
import functools
import re

from gi.repository import GLib

from .. import _gi
from ..module import get_introspection_module
from ..overrides import override

Nebula = get_introspection_module('Nebula')

__all__ = []


# --- Errors: the detail C records, as attributes of the exception.

_NEBULA_DOMAINS = ('NebulaAllocatorError', 'NebulaCacheError')

# The C catalogue's advice that only a C program can follow, and what a
# Python program does instead.
_C_ADVICE = (
    ('construct with nebula_*_allocator_new() or g_initable_new() so the configuration is checked',
     'the constructor (Nebula.PoolAllocator(block_size=...), ...) checks the configuration'),
    ('such as 8 or G_ALIGNOF (type)', 'such as 8 or ctypes.alignment(type)'),
    ('less than G_MAXSSIZE bytes', 'less than sys.maxsize bytes'),
    (' (g_clear_pointer)', ''),
    ('or use nebula_allocator_new() which checks them', 'or use allocate_array(), which checks them'),
    ('Use a non-NULL GVariant of a basic type (or a tuple of them) as the key.',
     'Use a str, int, float, bool or a tuple of them (or a GLib.Variant) as the key.'),
)

_property_names = None


def _script_suggestion(text):
    """@text with property names as a Python program writes them: the
    keyword argument ``block_count=`` for the property "block-count"."""
    global _property_names
    if text is None:
        return None
    if _property_names is None:
        _property_names = {pspec.name for cls in (Nebula.BumpAllocator, Nebula.PoolAllocator,
                                                  Nebula.StackAllocator, Nebula.SystemAllocator,
                                                  Nebula.ComputeCache, Nebula.AsyncComputeCache)
                           for pspec in cls.list_properties()}
    for c_advice, python_advice in _C_ADVICE:
        text = text.replace(c_advice, python_advice)

    def spell(match):
        name = match.group(1)
        if name not in _property_names:
            return match.group(0)
        return name.replace('-', '_') + '=' + (' argument' if match.group(2) else '')

    return re.sub(r"'?\b([a-z]+(?:-[a-z]+)*)\b'?( property\b)?", spell, text)


class Error(GLib.Error):
    """A ``GLib.Error`` raised by Nebula, with the detail C records.

    ``str(e)`` is the message, as C prints it. ``suggestion`` says what to
    do (property names spelled as keyword arguments); ``retryable`` whether
    the same call may succeed later; ``requested``, ``available`` and
    ``capacity`` the numbers (0 where they do not apply);
    ``allocator_name`` and ``context`` (the ``with Nebula.context()`` path)
    are ``None`` when unknown. ``except GLib.Error`` catches it as before.
    """

    suggestion = None
    retryable = False
    requested = 0
    available = 0
    capacity = 0
    allocator_name = None
    context = None

    def __str__(self):
        return self.message


__all__.append('Error')


def _carry_detail(error):
    """Turns a Nebula GLib.Error into an Error carrying its detail, asked of
    C right after the call that failed, while the thread's recent errors
    still hold it."""
    if error.domain not in _NEBULA_DOMAINS or isinstance(error, Error):
        return error
    error.__class__ = Error
    error.suggestion = _script_suggestion(Nebula.error_get_suggestion(error))
    error.retryable = Nebula.error_is_retryable(error)
    error.requested = Nebula.error_get_requested(error)
    error.available = Nebula.error_get_available(error)
    error.capacity = Nebula.error_get_capacity(error)
    error.allocator_name = Nebula.error_get_allocator_name(error)
    error.context = Nebula.error_get_context(error)
    return error


def _raising_errors_with_detail(method):
    @functools.wraps(method)
    def call(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except GLib.Error as error:
            raise _carry_detail(error)
    return call


def _wrap_methods(override_class, introspected):
    """Every method of @introspected, and the override's own version of it,
    raises errors with their detail."""
    for info in introspected.__info__.get_methods():
        name = info.get_name()
        if info.is_constructor():
            continue
        method = vars(override_class).get(name, getattr(introspected, name))
        setattr(override_class, name, _raising_errors_with_detail(method))


def _init_on_construction(self, **kwargs):
    # GObject.Object.__init__ only sets properties; GInitable.init is what
    # validates the configuration, so run it right away.
    super(type(self), self).__init__(**kwargs)
    try:
        self.init(None)
    except GLib.Error as error:
        raise _carry_detail(error)


def _freed_by_python(self, *args):
    raise RuntimeError(f'Nebula.{type(self).__name__} is freed by Python when its last '
                       'reference goes: a script must not free it (a double free)')


# The boxed types' free() and unref() give back the memory PyGObject still
# owns and frees again later: the scripts' double free.
for _info in _gi.Repository.get_default().get_infos('Nebula'):
    if isinstance(_info, _gi.StructInfo):
        for _method in _info.get_methods():
            if _method.get_name() in ('free', 'unref'):
                setattr(getattr(Nebula, _info.get_name()), _method.get_name(), _freed_by_python)


# --- Allocator and AllocatorStats: conveniences shared by every allocator.
# This section comes first: PyGObject builds the classes below (and the
# Pool and Stack allocators) on the Allocator override only if it exists
# by then.

DEFAULT_ALIGNMENT = 8
"""The alignment the Python methods use when none is given: enough for
every C scalar up to 8 bytes (``int64_t``, ``double``, pointers). Pass
``alignment=16`` for ``long double`` or SIMD vectors."""

__all__.append('DEFAULT_ALIGNMENT')

_STATS_FIELDS = ('allocations', 'deallocations', 'reallocations',
                 'failed_allocations', 'bytes_in_use', 'peak_bytes_in_use',
                 'total_bytes_allocated', 'total_bytes_freed', 'resets')


class AllocatorStats(Nebula.AllocatorStats):
    """A snapshot of an allocator's counters; every counter is an attribute
    (``stats.allocations``, ``stats.bytes_in_use``, ...)."""

    def as_dict(self):
        """The counters as a ``dict`` (field name to ``int``)."""
        return {field: getattr(self, field) for field in _STATS_FIELDS}

    # Set by Allocator.get_stats(): False when the allocator counts nothing.
    tracked = True

    def __repr__(self):
        if not self.tracked:
            return '<Nebula.AllocatorStats off (track_stats=False): every counter reads 0>'
        counters = ' '.join(f'{field}={getattr(self, field)}' for field in _STATS_FIELDS)
        return f'<Nebula.AllocatorStats {counters}>'


AllocatorStats = override(AllocatorStats)
__all__.append('AllocatorStats')


def _allocator_repr(self, details=None):
    # GObject.Object.__repr__ comes first in a concrete class's MRO, so each
    # allocator class sets __repr__ itself.
    props = self.props
    name = f' {props.name!r}' if props.name else ''
    if details is None:
        details = f'bytes_used={props.bytes_used} capacity={props.capacity}'
    return f'<Nebula.{type(self).__name__}{name} {details} at {id(self):#x}>'


class Allocator(Nebula.Allocator):
    """The interface of every Nebula allocator.

    Addresses are ``int``; ``view()`` (or ``ctypes``) reaches the memory.
    Every method raises ``Nebula.Error`` (a ``GLib.Error`` in the
    ``NebulaAllocatorError`` domain) on failure: the message carries the
    numbers, ``e.suggestion`` says what to do (in Python's spelling) and
    ``e.retryable``, ``e.requested``, ``e.available``, ``e.capacity``,
    ``e.allocator_name`` and ``e.context`` carry the rest.
    """

    def allocate(self, size, alignment=DEFAULT_ALIGNMENT):
        """Allocate ``size`` bytes aligned to ``alignment`` (a power of two)
        and return the block's address."""
        return Nebula.Allocator.allocate(self, size, alignment)

    def allocate_zeroed(self, size, alignment=DEFAULT_ALIGNMENT):
        """Like ``allocate()``, with the block filled with zeroes."""
        return Nebula.Allocator.allocate_zeroed(self, size, alignment)

    def allocate_array(self, n_elements, element_size, alignment=DEFAULT_ALIGNMENT,
                       zeroed=False):
        """Allocate ``n_elements`` elements of ``element_size`` bytes; a
        product that overflows raises ``SIZE_OVERFLOW`` instead of
        allocating a short block."""
        return Nebula.Allocator.allocate_array(self, n_elements, element_size,
                                               alignment, zeroed)

    def reallocate(self, address, old_size, new_size, alignment=DEFAULT_ALIGNMENT):
        """Resize the block at ``address`` (0 allocates) and return its
        address, which may have moved; the contents are kept."""
        return Nebula.Allocator.reallocate(self, address, old_size, new_size, alignment)

    def deallocate(self, address, size, alignment=DEFAULT_ALIGNMENT):
        """Give back the block at ``address`` with the size and alignment it
        was allocated with."""
        return Nebula.Allocator.deallocate(self, address, size, alignment)

    def get_stats(self):
        """A snapshot of the counters; its ``tracked`` attribute is False
        (and its repr says so) when the allocator was constructed with
        ``track_stats=False`` and counts nothing."""
        stats = Nebula.Allocator.get_stats(self)
        # An allocator implemented in Python may have no such property.
        if self.find_property('track-stats') is not None:
            stats.tracked = self.get_property('track-stats')
        return stats

    @property
    def stats(self):
        """A fresh ``Nebula.AllocatorStats`` snapshot (``get_stats()``)."""
        return self.get_stats()

    def view(self, address, size):
        """A writable ``memoryview`` of ``size`` bytes at ``address``.

        The bytes must be memory this allocator handed out and still
        manages: inside one live block (a bump or stack allocator accepts
        any span in the used part of one chunk, as it does not know where
        its blocks end). Anything else raises ``ValueError``, whose message
        carries the C check's; the check is
        ``check_span_address()`` (the C check, whatever the preset). A pool
        or system allocator without ``check_frees`` knows only the blocks
        allocated from Python. The check runs here, not on each access: the
        view keeps the allocator alive, but not the block, so drop or
        release it before the block is freed, resized, reset or rewound
        (``with alloc.view(address, size) as view:`` releases it).
        """
        if size < 0:
            raise ValueError(f'size must not be negative, not {size}')
        try:
            Nebula.Allocator.check_span_address(self, address, size)
        except GLib.Error as error:
            if error.code != int(Nebula.AllocatorError.INVALID_POINTER):
                raise
            raise ValueError(self._view_refusal(address, size, error.message)) from None
        buffer = (ctypes.c_ubyte * size).from_address(address)
        buffer._nebula_allocator = self
        # ctypes exports '<B', which slice assignment refuses; plain 'B'.
        return memoryview(buffer).cast('B')

    def _view_refusal(self, address, size, why):
        # What view() says of a span the C check refused.
        return f'{size} bytes at {address:#x} are not a block of {self!r}: {why}'

    def __repr__(self):
        return _allocator_repr(self)


_wrap_methods(Allocator, Nebula.Allocator)
Allocator = override(Allocator)
__all__.append('Allocator')


class SystemAllocator(Nebula.SystemAllocator):
    """malloc() and free() behind the Nebula.Allocator interface."""

    __init__ = _init_on_construction
    __repr__ = _allocator_repr


_wrap_methods(SystemAllocator, Nebula.SystemAllocator)
SystemAllocator = override(SystemAllocator)
__all__.append('SystemAllocator')


class BumpAllocator(Nebula.BumpAllocator):
    """A region allocator that moves a cursor forward.

    ``Nebula.BumpAllocator(capacity=65536, name='requests')`` validates its
    configuration at once. Allocation is a pointer bump; memory comes back
    all at once with ``reset()`` or at the end of ``with bump.scope():``.
    """

    __init__ = _init_on_construction
    __repr__ = _allocator_repr

    @contextlib.contextmanager
    def scope(self):
        """Rewind to the current position when the ``with`` block ends."""
        checkpoint = self.checkpoint()
        try:
            yield self
        finally:
            self.restore(checkpoint)


_wrap_methods(BumpAllocator, Nebula.BumpAllocator)
BumpAllocator = override(BumpAllocator)
__all__.append('BumpAllocator')


class StackAllocator(Nebula.StackAllocator):
    """A region allocator that frees in last-in, first-out order.

    ``Nebula.StackAllocator(capacity=4096, name='scratch')`` validates its
    configuration at once. ``deallocate()`` takes back the top block only
    (any other raises ``OUT_OF_ORDER``); ``with stack.frame():`` or
    ``mark()`` and ``release_to_marker()`` release everything pushed since.
    Every block costs a 24-byte header on top of its size.

    With ``double_ended=True`` a second stack grows down from the other end
    of the same region: ``allocate_high()``, ``deallocate_high()``,
    ``mark_high()`` and ``with stack.frame(high=True):``. When the two ends
    meet, allocation raises ``EXHAUSTED`` with the fill of both.
    """

    __init__ = _init_on_construction

    def __repr__(self):
        props = self.props
        ends = ' double_ended' if props.double_ended else ''
        return _allocator_repr(self, f'bytes_used={props.bytes_used} '
                                     f'capacity={props.capacity}{ends}')

    def allocate_high(self, size, alignment=DEFAULT_ALIGNMENT):
        """Push ``size`` bytes on the high end of a double-ended stack and
        return the block's address."""
        return Nebula.StackAllocator.allocate_high(self, size, alignment)

    @contextlib.contextmanager
    def frame(self, high=False):
        """Release what is pushed on one end when the ``with`` block ends.

        ``high=True`` uses the high end of a double-ended stack.
        """
        marker = self.mark_high() if high else self.mark()
        try:
            yield self
        finally:
            self.release_to_marker(marker)


_wrap_methods(StackAllocator, Nebula.StackAllocator)
StackAllocator = override(StackAllocator)
__all__.append('StackAllocator')


class PoolAllocator(Nebula.PoolAllocator):
    """Fixed-size blocks with O(1) allocate and free, in any order.

    ``Nebula.PoolAllocator(block_size=48, block_count=256, name='records')``
    validates its configuration at once: ``block_size=4`` raises
    ``GLib.Error`` (``INVALID_CONFIG``) naming the property. The block size
    reads back rounded up to ``block_alignment`` (16 by default).

    ``allocate(size)`` takes any size up to the block size (a larger one
    raises ``INVALID_LAYOUT``, whose suggestion names the block size that
    would serve it); a pool with every block in use raises ``EXHAUSTED``
    unless ``max_block_count`` lets it grow. With ``check_frees`` (the
    default), freeing a block twice raises ``DOUBLE_FREE`` and a foreign
    address ``INVALID_POINTER``, and the pool stays intact. ``view()`` of a
    block covers at most ``block_size`` bytes.
    """

    __init__ = _init_on_construction

    def _view_refusal(self, address, size, why):
        block_size = self.props.block_size
        if size > block_size:
            return (f'{size} bytes at {address:#x} are more than one block of {self!r} '
                    f'({block_size} bytes)')
        return Allocator._view_refusal(self, address, size, why)

    def __repr__(self):
        props = self.props
        block_size = props.block_size
        # A pool that never initialized (GObject.new bypasses __init__)
        # reports 0 for all three.
        in_use = props.bytes_used // max(block_size, 1)
        most = in_use + props.bytes_available // max(block_size, 1)
        return _allocator_repr(self, f'block_size={block_size} blocks_in_use={in_use} '
                                     f'max_blocks={most}')


_wrap_methods(PoolAllocator, Nebula.PoolAllocator)
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


def context_pop():
    """Pop the innermost name pushed with ``context_push()`` on this
    thread; ``RuntimeError`` when there is none (C asserts)."""
    if Nebula.HAS_ERROR_CONTEXT and Nebula.context_get_path() is None:
        raise RuntimeError('context_pop() without a matching context_push() on this thread')
    Nebula.context_pop()


__all__ += ['context', 'context_pop']


class MemoryBudget(Nebula.MemoryBudget):
    """A limit on the bytes allocators may hold; its errors carry their
    detail like the allocators'."""


_wrap_methods(MemoryBudget, Nebula.MemoryBudget)
MemoryBudget = override(MemoryBudget)
__all__.append('MemoryBudget')

memory_copy = _raising_errors_with_detail(Nebula.memory_copy)
memory_fill = _raising_errors_with_detail(Nebula.memory_fill)
secure_zero = _raising_errors_with_detail(Nebula.secure_zero)
__all__ += ['memory_copy', 'memory_fill', 'secure_zero']


# Compute caches ------------------------------------------------------------

import asyncio  # noqa: E402
import collections  # noqa: E402

from gi.repository import Gio, GLib, GObject  # noqa: E402


def _variant_key(key):
    """Plain Python keys become GLib.Variant keys: str, bool, int, float,
    and tuples of them. Variants pass through unchanged; anything else is
    left for the cache to reject with INVALID_KEY."""
    if key is None or isinstance(key, GLib.Variant):
        return key
    # The typed constructors, not GLib.Variant(format, value): that one
    # parses its format in Python and costs about twice a whole hit
    # (docs/caches.md, "the cost of a hit").
    if isinstance(key, bool):
        return GLib.Variant.new_boolean(key)
    if isinstance(key, int):
        return GLib.Variant.new_int64(key)
    if isinstance(key, float):
        return GLib.Variant.new_double(key)
    if isinstance(key, str):
        return GLib.Variant.new_string(key)
    if isinstance(key, tuple):
        return GLib.Variant.new_tuple(*[_variant_key(item) for item in key])
    return key


def _raised_error(exc):
    """The GLib.Error a request completes with when its compute function
    raised @exc: a GLib.Error as it is, anything else as FAILED carrying the
    exception's type and message."""
    if isinstance(exc, GLib.Error):
        return exc
    error = GLib.Error.new_literal(Nebula.cache_error_quark(),
                                   'The compute function raised %s: %s' % (type(exc).__name__, exc),
                                   int(Nebula.CacheError.FAILED))
    # The awaitable raises @exc itself; C and the callback API see only the
    # GLib.Error, so the exception waits here, found by that error's message.
    _raised_exceptions[error.message] = exc
    while len(_raised_exceptions) > 64:
        _raised_exceptions.popitem(last=False)
    return error


_raised_exceptions = collections.OrderedDict()


def _original_exception(error):
    """The exception a compute function raised, for the GLib.Error a request
    completed with; @error itself if it did not come from one."""
    if error.domain == 'NebulaCacheError' and error.code == int(Nebula.CacheError.FAILED):
        return _raised_exceptions.get(error.message, error)
    return error


_CACHE_STATS_FIELDS = tuple(field.get_name() for field in Nebula.CacheStats.__info__.get_fields())


class CacheStats(Nebula.CacheStats):
    """A snapshot of a cache's counters, each an attribute."""

    def as_dict(self):
        """The counters as a ``dict`` (field name to ``int``)."""
        return {field: getattr(self, field) for field in _CACHE_STATS_FIELDS}

    def __repr__(self):
        counters = ' '.join(f'{field}={getattr(self, field)}' for field in _CACHE_STATS_FIELDS)
        return f'<Nebula.CacheStats {counters}>'


CacheStats = override(CacheStats)
__all__.append('CacheStats')


class ComputeCache(Nebula.ComputeCache):
    """A bounded get-or-compute cache; keys may be plain Python values.

    ``get_or_compute(key, func)`` calls ``func(key)`` with the key as it was
    passed (not a GLib.Variant). An exception other than GLib.Error raised
    by the compute function propagates out of get_or_compute() unchanged; a
    value that is not a GObject.Object raises TypeError naming its type;
    nothing is stored in either case."""

    def get_or_compute(self, key, func, *user_data):
        raised = []

        def compute(_variant, *data):
            # The function sees the key as the caller passed it. PyGObject
            # turns only GLib.Error into the callback's GError; anything
            # else it would print and lose.
            try:
                value = func(key, *data)
            except GLib.Error:
                raise
            except BaseException as exc:
                raised.append(exc)
                return None
            if value is not None and not isinstance(value, GObject.Object):
                raised.append(TypeError('The compute function must return a GObject.Object '
                                        f'(or raise), not {type(value).__name__}'))
                return None
            return value

        try:
            return Nebula.ComputeCache.get_or_compute(self, _variant_key(key), compute, *user_data)
        except GLib.Error:
            if raised:
                raise raised[0] from None
            raise

    def get(self, key):
        return Nebula.ComputeCache.get(self, _variant_key(key))

    def insert(self, key, value):
        return Nebula.ComputeCache.insert(self, _variant_key(key), value)

    def invalidate(self, key):
        return Nebula.ComputeCache.invalidate(self, _variant_key(key))


_wrap_methods(ComputeCache, Nebula.ComputeCache)
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
    ``task.return_error(GLib.Error(...))``. A request always completes: if
    ``func`` raises (before returning the task), the task is returned with
    the exception (a GLib.Error as it is, anything else as
    ``Nebula.CacheError.FAILED`` with its type and message); a task dropped
    without being returned completes with ``FAILED``.
    """

    def get_or_compute_async(self, key, func, cancellable=None, callback=None, *user_data):
        def compute(key, compute_cancellable, task, *_data):
            try:
                func(key, compute_cancellable, task)
            except BaseException as exc:
                # Returned here: PyGObject would print the exception and
                # keep the task alive in sys.last_traceback.
                task.return_error(_raised_error(exc))
                if not isinstance(exc, Exception):
                    raise       # KeyboardInterrupt, SystemExit: not ours to keep

        def done(cache, result, *_data):
            if callback is not None:
                callback(cache, result, *user_data)

        Nebula.AsyncComputeCache.get_or_compute_async(
            self, _variant_key(key), compute, cancellable=cancellable, callback=done)

    def get_or_compute(self, key, func, cancellable=None):
        """An awaitable for asyncio: ``value, outcome = await
        cache.get_or_compute(key, func)``. Cancelling the awaiting asyncio
        task cancels this request only. If ``func`` raised, the awaitable
        (and every awaitable that joined the computation) raises that same
        exception."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        cancellable = cancellable or Gio.Cancellable()

        def done(cache, result):
            try:
                outcome = cache.get_or_compute_finish(result)
            except GLib.Error as error:
                if not future.done():
                    future.set_exception(_original_exception(error))
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


_wrap_methods(AsyncComputeCache, Nebula.AsyncComputeCache)
AsyncComputeCache = override(AsyncComputeCache)
__all__.append('AsyncComputeCache')


# Benchmark -----------------------------------------------------------------

def _range_checked_setter(introspected, name):
    """set_<name>() raising ValueError outside the property's range, which
    the C setter asserts."""
    method = getattr(introspected, 'set_' + name)
    pspec = introspected.find_property(name)

    @functools.wraps(method)
    def set_value(self, value):
        if not pspec.minimum <= value <= pspec.maximum:
            raise ValueError(f'{name} must be from {pspec.minimum} to {pspec.maximum}, '
                             f'not {value}')
        return method(self, value)
    return set_value


class Benchmark(Nebula.Benchmark):
    """Times a workload on an allocator; its setters raise ``ValueError``
    for a value outside the property's range."""

    set_iterations = _range_checked_setter(Nebula.Benchmark, 'iterations')
    set_threads = _range_checked_setter(Nebula.Benchmark, 'threads')
    set_rounds = _range_checked_setter(Nebula.Benchmark, 'rounds')


_wrap_methods(Benchmark, Nebula.Benchmark)
Benchmark = override(Benchmark)
__all__.append('Benchmark')
