# SPDX-License-Identifier: LGPL-2.1-or-later
import ctypes
import threading
import unittest

from gi.repository import GObject

from nebulatest import GLib, Nebula, read, write

E = Nebula.AllocatorError


class NebulaErrorMixin:
    def assertNebulaError(self, code, fn, *args):
        with self.assertRaises(GLib.Error) as cm:
            fn(*args)
        self.assertEqual(cm.exception.domain, 'NebulaAllocatorError')
        self.assertEqual(cm.exception.code, int(code))
        return cm.exception


class PoolTest(NebulaErrorMixin, unittest.TestCase):
    def test_allocate_write_read(self):
        pool = Nebula.PoolAllocator(block_size=64, block_count=128, name='nodes')
        self.assertEqual(pool.props.capacity, 64 * 128)
        self.assertTrue(pool.props.check_frees)
        self.assertFalse(pool.props.thread_safe)
        addresses = [pool.allocate(48, 16) for _ in range(10)]
        self.assertEqual(len(set(addresses)), 10)
        for i, address in enumerate(addresses):
            self.assertEqual(address % 16, 0)
            self.assertTrue(pool.owns(address))
            write(address, bytes([i]) * 64)
        for i, address in enumerate(addresses):
            self.assertEqual(read(address, 64), bytes([i]) * 64)
        self.assertEqual(pool.props.bytes_used, 10 * 64)
        self.assertEqual(pool.props.bytes_available, 118 * 64)

        pool.deallocate(addresses[4], 48, 16)
        self.assertFalse(pool.owns(addresses[4]))
        self.assertEqual(pool.allocate(8, 8), addresses[4])

        zeroed = pool.allocate_zeroed(64, 16)
        self.assertEqual(read(zeroed, 64), bytes(64))

        stats = pool.get_stats()
        self.assertEqual(stats.allocations, 12)
        self.assertEqual(stats.deallocations, 1)

    def test_new_constructor_and_rounding(self):
        pool = Nebula.PoolAllocator.new(24, 10)
        self.assertEqual(pool.props.block_size, 32)   # rounded up to 16
        self.assertEqual(pool.props.block_count, 10)
        self.assertEqual(pool.props.capacity, 320)
        self.assertEqual(pool.get_n_slabs(), 1)

    def test_invalid_config_raises_on_construction(self):
        cases = [
            (dict(block_size=4), 'block-size', 'must be at least 8 bytes'),
            (dict(block_size=0), 'block-size', 'not 0'),
            (dict(block_alignment=0), 'block-alignment', 'power of two, not 0'),
            (dict(block_alignment=12), 'block-alignment', 'power of two, not 12'),
            (dict(block_count=0), 'block-count', 'greater than 0'),
            (dict(block_count=10, max_block_count=9), 'max-block-count',
             "at least 'block-count' (10), not 9"),
            (dict(thread_safe=True, block_count=2**32), 'block-count',
             'at most 4294967294 in a thread-safe pool'),
            (dict(thread_safe=True, max_block_count=2**40), 'max-block-count',
             'at most 4294967294 in a thread-safe pool'),
            (dict(alloc_fill=256), 'alloc-fill', 'not 256'),
            (dict(free_fill=-7), 'free-fill', 'not -7'),
        ]
        for kwargs, prop, rule in cases:
            with self.subTest(prop=prop, kwargs=kwargs):
                e = self.assertNebulaError(E.INVALID_CONFIG,
                                           lambda: Nebula.PoolAllocator(**kwargs))
                self.assertIn('Pool allocator has an invalid configuration', e.message)
                self.assertIn(f"'{prop}'", e.message)
                self.assertIn(rule, e.message)
                # The binding keeps the catalogue's suggestion, not the detail.
                self.assertIn('property', Nebula.error_get_suggestion(e))

        e = self.assertNebulaError(E.INVALID_CONFIG,
                                   lambda: Nebula.PoolAllocator.new(64, 0))
        self.assertIn("'block-count'", e.message)

    def test_size_overflow(self):
        e = self.assertNebulaError(E.SIZE_OVERFLOW,
                                   lambda: Nebula.PoolAllocator(block_size=2**40,
                                                                block_count=2**40))
        self.assertIn("'block-size' x 'block-count' overflows: 1099511627776 blocks of "
                      "1099511627776 bytes", e.message)
        e = self.assertNebulaError(E.SIZE_OVERFLOW,
                                   lambda: Nebula.PoolAllocator(block_size=2**20,
                                                                max_block_count=2**50))
        self.assertIn("'max-block-count' overflows", e.message)

    def test_uninitialized_object_reports_invalid_config(self):
        # GObject.new() skips the override's __init__, as C code might.
        pool = GObject.new(Nebula.PoolAllocator, block_size=4)
        self.assertNebulaError(E.INVALID_CONFIG, pool.allocate, 8, 8)
        self.assertNebulaError(E.INVALID_CONFIG, pool.deallocate, 4096, 8, 8)
        self.assertNebulaError(E.INVALID_CONFIG, pool.reallocate, 4096, 8, 16, 8)
        self.assertFalse(pool.owns(4096))
        pool.reset()
        self.assertEqual(pool.get_n_slabs(), 0)
        e = self.assertNebulaError(E.INVALID_CONFIG, pool.init, None)
        self.assertIn("'block-size'", e.message)

    def test_exhausted(self):
        pool = Nebula.PoolAllocator(block_size=64, block_count=128, name='x')
        addresses = [pool.allocate(64, 8) for _ in range(128)]
        e = self.assertNebulaError(E.EXHAUSTED, pool.allocate, 64, 8)
        self.assertIn("Pool allocator 'x' is exhausted: requested 64 bytes, "
                      "0 of 128 blocks free", e.message)
        self.assertTrue(Nebula.error_is_retryable(e))
        pool.deallocate(addresses[0], 64, 8)
        self.assertEqual(pool.allocate(64, 8), addresses[0])
        self.assertEqual(pool.get_stats().failed_allocations, 1)

    def test_invalid_layout(self):
        pool = Nebula.PoolAllocator(block_size=64, block_alignment=16, block_count=4,
                                    name='nodes')
        e = self.assertNebulaError(E.INVALID_LAYOUT, pool.allocate, 65, 8)
        self.assertIn("Pool allocator 'nodes' serves blocks of 64 bytes aligned to 16: "
                      "cannot allocate 65 bytes aligned to 8", e.message)
        self.assertIn('block-size of at least 80', e.message)
        self.assertFalse(Nebula.error_is_retryable(e))
        e = self.assertNebulaError(E.INVALID_LAYOUT, pool.allocate, 8, 64)
        self.assertIn('cannot allocate 8 bytes aligned to 64', e.message)
        address = pool.allocate(64, 16)
        e = self.assertNebulaError(E.INVALID_LAYOUT, pool.deallocate, address, 100, 16)
        self.assertIn('cannot free 100 bytes', e.message)
        self.assertTrue(pool.owns(address))
        self.assertEqual(pool.get_stats().failed_allocations, 2)

    def test_bad_pointers_leave_the_pool_unchanged(self):
        for thread_safe in (False, True):
            with self.subTest(thread_safe=thread_safe):
                pool = Nebula.PoolAllocator(block_size=64, block_count=8,
                                            thread_safe=thread_safe)
                a = pool.allocate(32, 8)
                used = pool.props.bytes_used
                foreign = ctypes.create_string_buffer(64)
                e = self.assertNebulaError(E.INVALID_POINTER, pool.deallocate,
                                           ctypes.addressof(foreign), 16, 8)
                self.assertIn('does not lie in this pool', e.message)
                self.assertIn('(size 16)', e.message)
                e = self.assertNebulaError(E.INVALID_POINTER, pool.deallocate, a + 8, 8, 8)
                self.assertIn('is not the start of a block (it lies 8 bytes into block',
                              e.message)
                self.assertNebulaError(E.INVALID_POINTER, pool.deallocate, 0, 8, 8)
                self.assertEqual(pool.props.bytes_used, used)
                pool.deallocate(a, 32, 8)
                self.assertEqual(pool.allocate(32, 8), a)

    def test_double_free_never_hands_a_block_out_twice(self):
        for thread_safe in (False, True):
            with self.subTest(thread_safe=thread_safe):
                pool = Nebula.PoolAllocator(block_size=32, block_count=16,
                                            thread_safe=thread_safe)
                a = pool.allocate(32, 8)
                pool.deallocate(a, 32, 8)
                e = self.assertNebulaError(E.DOUBLE_FREE, pool.deallocate, a, 32, 8)
                self.assertIn('already freed (double free)', e.message)
                self.assertIn('(size 32)', e.message)
                self.assertNebulaError(E.INVALID_POINTER, pool.reallocate, a, 32, 16, 8)
                handed_out = [pool.allocate(32, 8) for _ in range(16)]
                self.assertEqual(len(set(handed_out)), 16)
                self.assertNebulaError(E.EXHAUSTED, pool.allocate, 32, 8)
                self.assertEqual(pool.get_stats().deallocations, 1)

    def test_reallocate_in_place(self):
        pool = Nebula.PoolAllocator(block_size=64, block_count=4)
        a = pool.allocate(16, 8)
        write(a, b'0123456789abcdef')
        self.assertEqual(pool.reallocate(a, 16, 64, 8), a)
        self.assertEqual(read(a, 16), b'0123456789abcdef')
        self.assertEqual(pool.reallocate(a, 64, 4, 8), a)
        e = self.assertNebulaError(E.INVALID_LAYOUT, pool.reallocate, a, 4, 65, 8)
        self.assertIn('cannot resize a block to 65 bytes', e.message)
        self.assertEqual(read(a, 4), b'0123')
        self.assertTrue(pool.owns(a))

    def test_growth_and_reset(self):
        pool = Nebula.PoolAllocator(block_size=32, block_count=4, max_block_count=22,
                                    name='grow')
        self.assertEqual(pool.props.bytes_available, 22 * 32)
        addresses = []
        with self.assertRaises(GLib.Error) as cm:
            while True:
                addresses.append(pool.allocate(32, 8))
        self.assertIn("Pool allocator 'grow' is exhausted: requested 32 bytes, 0 of 22 "
                      'blocks free, grown to max-block-count', cm.exception.message)
        self.assertEqual(len(addresses), 22)
        self.assertEqual(pool.get_n_slabs(), 4)    # 4, 4, 8 and the 6 left

        pool.reset()
        self.assertEqual(pool.props.bytes_used, 0)
        self.assertEqual(pool.props.bytes_available, 22 * 32)
        self.assertEqual(pool.get_n_slabs(), 4)
        self.assertEqual(pool.get_stats().resets, 1)
        self.assertFalse(pool.owns(addresses[0]))
        again = {pool.allocate(32, 8) for _ in range(22)}
        self.assertEqual(again, set(addresses))

    def test_presets(self):
        perf = Nebula.PoolAllocator(preset=Nebula.Preset.PERFORMANCE)
        self.assertFalse(perf.props.check_frees)
        self.assertFalse(perf.props.track_stats)
        checked = Nebula.PoolAllocator(preset=Nebula.Preset.PERFORMANCE, check_frees=True)
        self.assertTrue(checked.props.check_frees)

        production = Nebula.PoolAllocator(preset=Nebula.Preset.PRODUCTION, block_count=4)
        self.assertEqual(production.props.max_block_count, 32)
        explicit = Nebula.PoolAllocator(preset=Nebula.Preset.PRODUCTION, block_count=4,
                                        max_block_count=5)
        self.assertEqual(explicit.props.max_block_count, 5)

        debug = Nebula.PoolAllocator(preset=Nebula.Preset.DEBUG, block_size=32, block_count=2)
        address = debug.allocate(32, 8)
        self.assertEqual(read(address, 32), b'\xaa' * 32)
        debug.deallocate(address, 32, 8)
        # The first pointer-sized bytes hold the free-list link.
        self.assertEqual(read(address + 8, 24), b'\xdd' * 24)

    def test_threads(self):
        pool = Nebula.PoolAllocator(block_size=32, block_count=16, max_block_count=4 * 64,
                                    thread_safe=True)
        failures = []

        def work(tag):
            held = []
            for i in range(1500):
                if len(held) < 64 and (i % 3 != 2 or not held):
                    address = pool.allocate(32, 8)
                    write(address, bytes([tag]) * 32)
                    held.append(address)
                else:
                    address = held.pop(i % len(held))
                    if read(address, 32) != bytes([tag]) * 32:
                        failures.append(address)
                    pool.deallocate(address, 32, 8)
            for address in held:
                if read(address, 32) != bytes([tag]) * 32:
                    failures.append(address)
                pool.deallocate(address, 32, 8)

        threads = [threading.Thread(target=work, args=(tag,)) for tag in range(1, 5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])
        self.assertEqual(pool.props.bytes_used, 0)
        stats = pool.get_stats()
        self.assertEqual(stats.allocations, stats.deallocations)
        self.assertEqual(stats.bytes_in_use, 0)

    def test_magazines_across_threads(self):
        # 1024 blocks: each thread keeps a magazine of up to an eighth of
        # the pool, at most what 16 KiB of blocks hold (kept between 32
        # and 128): 128 blocks of 32 bytes, 32 of 1 KiB.
        pool = Nebula.PoolAllocator(block_size=32, thread_safe=True)
        pool.init(None)
        self.assertEqual(pool.props.magazine_size, 128)
        large = Nebula.PoolAllocator(block_size=1024, thread_safe=True)
        large.init(None)
        self.assertEqual(large.props.magazine_size, 32)
        asked = Nebula.PoolAllocator(block_size=32, block_count=64, thread_safe=True,
                                     magazine_size=8)
        asked.init(None)
        self.assertEqual(asked.props.magazine_size, 8)
        # A small pool has magazines too: an eighth of its blocks.
        small = Nebula.PoolAllocator(block_size=32, block_count=64, thread_safe=True)
        small.init(None)
        self.assertEqual(small.props.magazine_size, 8)

        # Blocks allocated on one thread, freed on another, then a double
        # free from a third: DOUBLE_FREE, and every block comes back.
        addresses = []
        producer = threading.Thread(
            target=lambda: addresses.extend(pool.allocate(32, 8) for _ in range(300)))
        producer.start()
        producer.join()
        self.assertEqual(pool.props.bytes_used, 300 * 32)
        consumer = threading.Thread(
            target=lambda: [pool.deallocate(a, 32, 8) for a in addresses])
        consumer.start()
        consumer.join()
        self.assertEqual(pool.props.bytes_used, 0)
        errors = []

        def free_again():
            try:
                pool.deallocate(addresses[0], 32, 8)
            except GLib.Error as e:
                errors.append(e)
        third = threading.Thread(target=free_again)
        third.start()
        third.join()
        self.assertEqual(len(errors), 1)
        self.assertTrue(errors[0].matches(Nebula.allocator_error_quark(),
                                          Nebula.AllocatorError.DOUBLE_FREE))
        everything = [pool.allocate(32, 8) for _ in range(1024)]
        self.assertEqual(len(set(everything)), 1024)
        with self.assertRaises(GLib.Error):
            pool.allocate(32, 8)


class AllocatorBase(GObject.Object, Nebula.Allocator):
    """The interface's read-only properties, which GObject requires of every
    implementation. It implements no virtual function."""

    __gtype_name__ = 'TestAllocatorBase'

    capacity = GObject.Property(type=GObject.TYPE_UINT64, default=0,
                                flags=GObject.ParamFlags.READABLE)
    bytes_available = GObject.Property(type=GObject.TYPE_UINT64, default=0,
                                       flags=GObject.ParamFlags.READABLE)
    thread_safe = GObject.Property(type=bool, default=False,
                                   flags=GObject.ParamFlags.READABLE)
    name = GObject.Property(type=str, default='py', flags=GObject.ParamFlags.READABLE)

    @GObject.Property(type=GObject.TYPE_UINT64, flags=GObject.ParamFlags.READABLE)
    def bytes_used(self):
        return self.count_bytes_used()

    def count_bytes_used(self):
        return 0


# Nebula.Allocator is named again so that this class gets its own interface
# vtable: GObject otherwise shares the parent's, and the do_ methods below
# would become AllocatorBase's (and every other subclass's) too.
class PythonAllocator(AllocatorBase, Nebula.Allocator):
    """A NebulaAllocator written in Python: ctypes buffers behind the interface."""

    __gtype_name__ = 'TestPythonAllocator'

    def __init__(self, limit):
        super().__init__()
        self.limit = limit
        self.blocks = {}      # address -> (buffer, size)
        self.calls = []

    def count_bytes_used(self):
        return sum(size for _, size in self.blocks.values())

    def do_alloc(self, size, alignment):
        self.calls.append(('allocate', size, alignment))
        if self.count_bytes_used() + size > self.limit:
            raise GLib.Error.new_literal(
                Nebula.allocator_error_quark(),
                f'Python allocator is exhausted: requested {size} bytes, '
                f'{self.limit - self.count_bytes_used()} of {self.limit} available',
                int(E.EXHAUSTED))
        buffer = ctypes.create_string_buffer(size + alignment)
        address = (ctypes.addressof(buffer) + alignment - 1) & ~(alignment - 1)
        self.blocks[address] = (buffer, size)
        return address

    def do_dealloc(self, address, size, alignment):
        self.calls.append(('deallocate', address, size, alignment))
        if address not in self.blocks:
            raise GLib.Error.new_literal(Nebula.allocator_error_quark(),
                                         f'{address:#x} is not mine',
                                         int(E.INVALID_POINTER))
        del self.blocks[address]
        return True

    def do_contains(self, address):
        self.calls.append(('owns', address))
        return any(start <= address < start + size
                   for start, (_, size) in self.blocks.items())

    def do_reset(self):
        self.calls.append(('reset',))
        self.blocks.clear()


class PythonImplementationTest(NebulaErrorMixin, unittest.TestCase):
    def test_driven_through_the_interface(self):
        impl = PythonAllocator(limit=1024)
        self.assertIsInstance(impl, Nebula.Allocator)

        a = Nebula.Allocator.allocate(impl, 16, 8)
        self.assertIsInstance(a, int)
        self.assertEqual(a % 8, 0)
        self.assertEqual(impl.calls[-1], ('allocate', 16, 8))
        write(a, b'from python ok!!')
        self.assertEqual(read(a, 16), b'from python ok!!')

        # Size 0 reaches the implementation as 1.
        b = Nebula.Allocator.allocate(impl, 0, 64)
        self.assertEqual(impl.calls[-1], ('allocate', 1, 64))
        self.assertEqual(b % 64, 0)

        self.assertTrue(Nebula.Allocator.owns(impl, a + 15))
        self.assertEqual(impl.calls[-1], ('owns', a + 15))
        self.assertFalse(Nebula.Allocator.owns(impl, a + 4096))
        self.assertFalse(Nebula.Allocator.owns(impl, 0))   # never reaches Python
        self.assertEqual(impl.calls[-1], ('owns', a + 4096))

        # The default reallocate allocates, copies and frees through the vfuncs.
        c = Nebula.Allocator.reallocate(impl, a, 16, 32, 8)
        self.assertNotEqual(c, a)
        self.assertEqual(read(c, 16), b'from python ok!!')
        self.assertIn(('deallocate', a, 16, 8), impl.calls)

        zeroed = Nebula.Allocator.allocate_zeroed(impl, 24, 8)
        self.assertEqual(read(zeroed, 24), bytes(24))

        self.assertTrue(Nebula.Allocator.deallocate(impl, c, 32, 8))
        self.assertEqual(impl.calls[-1], ('deallocate', c, 32, 8))
        self.assertEqual(Nebula.Allocator.get_bytes_used(impl), 1 + 24)

        stats = Nebula.Allocator.get_stats(impl)
        self.assertEqual(stats.allocations, 3)
        self.assertEqual(stats.reallocations, 1)
        self.assertEqual(stats.deallocations, 1)
        # The block of size 0 counts as its one byte.
        self.assertEqual(stats.bytes_in_use, 1 + 24)
        self.assertEqual(stats.failed_allocations, 0)

        Nebula.Allocator.reset(impl)
        self.assertEqual(impl.calls[-1], ('reset',))
        self.assertEqual(Nebula.Allocator.get_stats(impl).resets, 1)
        self.assertEqual(Nebula.Allocator.get_stats(impl).bytes_in_use, 0)

    def test_wrappers_validate_before_python_runs(self):
        impl = PythonAllocator(limit=1024)
        self.assertNebulaError(E.INVALID_ALIGNMENT, Nebula.Allocator.allocate, impl, 8, 3)
        self.assertNebulaError(E.SIZE_OVERFLOW, Nebula.Allocator.allocate, impl, 2**64 - 1, 16)
        self.assertNebulaError(E.INVALID_POINTER, Nebula.Allocator.deallocate, impl, 0, 8, 8)
        self.assertEqual(impl.calls, [])
        self.assertEqual(Nebula.Allocator.get_stats(impl).failed_allocations, 2)

    def test_python_errors_reach_the_caller(self):
        impl = PythonAllocator(limit=64)
        Nebula.Allocator.allocate(impl, 48, 8)
        e = self.assertNebulaError(E.EXHAUSTED, Nebula.Allocator.allocate, impl, 32, 8)
        self.assertIn('requested 32 bytes, 16 of 64 available', e.message)
        self.assertTrue(Nebula.error_is_retryable(e))
        e = self.assertNebulaError(E.INVALID_POINTER, Nebula.Allocator.deallocate,
                                   impl, 0x1000, 8, 8)
        self.assertIn('0x1000 is not mine', e.message)
        stats = Nebula.Allocator.get_stats(impl)
        self.assertEqual(stats.allocations, 1)
        self.assertEqual(stats.failed_allocations, 1)
        self.assertEqual(stats.deallocations, 0)

    def test_missing_vfunc_is_not_supported(self):
        class Partial(AllocatorBase, Nebula.Allocator):
            __gtype_name__ = 'TestPartialAllocator'

        partial = Partial()
        # PythonAllocator's do_ methods did not leak into its base or siblings.
        self.assertNebulaError(E.NOT_SUPPORTED, Nebula.Allocator.allocate, AllocatorBase(), 8, 8)
        e = self.assertNebulaError(E.NOT_SUPPORTED, Nebula.Allocator.allocate, partial, 8, 8)
        self.assertIn("TestPartial allocator 'py' does not implement NebulaAllocatorInterface::alloc",
                      e.message)
        e = self.assertNebulaError(E.NOT_SUPPORTED, Nebula.Allocator.deallocate,
                                   partial, 4096, 8, 8)
        self.assertIn('does not implement NebulaAllocatorInterface::dealloc', e.message)
        self.assertNebulaError(E.NOT_SUPPORTED, Nebula.Allocator.reallocate,
                               partial, 4096, 8, 16, 8)
        self.assertFalse(Nebula.Allocator.owns(partial, 4096))
        self.assertEqual(Nebula.Allocator.get_stats(partial).failed_allocations, 2)


if __name__ == '__main__':
    unittest.main(verbosity=2)
