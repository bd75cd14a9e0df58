# SPDX-License-Identifier: LGPL-2.1-or-later
import threading
import unittest

from nebulatest import AllocatorTestCase, GLib, Nebula, read, write

E = Nebula.AllocatorError


class BumpTest(AllocatorTestCase):
    def test_allocate_write_read(self):
        bump = Nebula.BumpAllocator(capacity=4096, name='frames')
        address = bump.allocate(100, 8)
        self.assertIsInstance(address, int)
        self.assertEqual(address % 8, 0)
        write(address, b'hello nebula')
        self.assertEqual(read(address, 12), b'hello nebula')
        self.assertTrue(bump.owns(address))
        self.assertFalse(bump.owns(address + 4096))
        self.assertEqual(bump.props.bytes_used, 100)
        self.assertEqual(bump.props.bytes_used + bump.props.bytes_available, 4096)

        zeroed = bump.allocate_zeroed(64, 64)
        self.assertEqual(zeroed % 64, 0)
        self.assertEqual(read(zeroed, 64), bytes(64))

    def test_new_constructor(self):
        bump = Nebula.BumpAllocator.new(1024)
        self.assertEqual(bump.props.capacity, 1024)

    def test_invalid_config_raises_on_construction(self):
        e = self.assertNebulaError(E.INVALID_CONFIG,
                                   lambda: Nebula.BumpAllocator(capacity=0))
        self.assertIn("'capacity'", e.message)
        self.assertIn('greater than 0', e.message)
        self.assertIn('property', Nebula.error_get_suggestion(e))

        for kwargs, prop in [(dict(capacity=1024, max_capacity=10), 'max-capacity'),
                             (dict(growth_factor=0.5), 'growth-factor'),
                             (dict(min_alloc_size=3), 'min-alloc-size'),
                             (dict(alloc_fill=300), 'alloc-fill'),
                             (dict(free_fill=-5), 'free-fill')]:
            with self.subTest(prop=prop):
                e = self.assertNebulaError(E.INVALID_CONFIG,
                                           lambda: Nebula.BumpAllocator(**kwargs))
                self.assertIn(f"'{prop}'", e.message)

    def test_exhausted_message_carries_numbers(self):
        bump = Nebula.BumpAllocator(capacity=4096, name='frames')
        bump.allocate(4032, 1)
        e = self.assertNebulaError(E.EXHAUSTED, bump.allocate, 128, 1)
        self.assertIn("Bump allocator 'frames' is exhausted", e.message)
        self.assertIn('requested 128 bytes, 64 of 4096 available', e.message)
        self.assertTrue(Nebula.error_is_retryable(e))
        # The catalogue suggestion survives the trip through the binding.
        self.assertIn('reset', Nebula.error_get_suggestion(e))

    def test_bad_layouts(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        self.assertNebulaError(E.INVALID_ALIGNMENT, bump.allocate, 8, 3)
        self.assertNebulaError(E.INVALID_ALIGNMENT, bump.allocate, 8, 0)
        self.assertNebulaError(E.SIZE_OVERFLOW, bump.allocate, 2**64 - 1, 16)
        self.assertNebulaError(E.EXCEEDS_MAX_SIZE, bump.allocate, 2**63, 1)
        stats = bump.get_stats()
        self.assertEqual(stats.failed_allocations, 4)
        self.assertEqual(stats.allocations, 0)
        bump.allocate(8, 8)
        self.assertEqual(bump.get_stats().allocations, 1)

    def test_scope(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        bump.allocate(10, 1)
        with bump.scope():
            bump.allocate(500, 1)
            self.assertEqual(bump.props.bytes_used, 510)
        self.assertEqual(bump.props.bytes_used, 10)
        stats = bump.get_stats()
        self.assertEqual((stats.bytes_in_use, stats.deallocations, stats.total_bytes_freed),
                         (10, 1, 500))

    def test_scope_restores_on_exception(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        with self.assertRaises(RuntimeError):
            with bump.scope():
                bump.allocate(500, 1)
                raise RuntimeError('boom')
        self.assertEqual(bump.props.bytes_used, 0)

    def test_checkpoint_stale(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        other = Nebula.BumpAllocator(capacity=1024)
        early = bump.checkpoint()
        bump.allocate(64, 8)
        late = bump.checkpoint()
        bump.restore(early)
        e = self.assertNebulaError(E.STALE_MARKER, bump.restore, late)
        self.assertIn('ahead of the cursor', e.message)
        self.assertNebulaError(E.STALE_MARKER, bump.restore, other.checkpoint())
        cp = bump.checkpoint()
        bump.reset()
        e = self.assertNebulaError(E.STALE_MARKER, bump.restore, cp)
        self.assertIn('before a reset', e.message)
        bump.allocate(8, 8)

    def test_scopes_closed_out_of_order(self):
        # Issue 12: an inner scope that ends after its outer one must not
        # rewind into the blocks allocated meanwhile.
        bump = Nebula.BumpAllocator(capacity=1024)
        outer = bump.scope()
        outer.__enter__()
        bump.allocate(64, 8)
        inner = bump.scope()
        inner.__enter__()
        outer.__exit__(None, None, None)
        block = bump.allocate(400, 8)
        e = self.assertNebulaError(E.STALE_MARKER, inner.__exit__, None, None, None)
        self.assertIn('rewound to before it', e.message)
        after = bump.allocate(64, 8)
        self.assertTrue(after >= block + 400 or after + 64 <= block)
        # Nested scopes in order still work.
        used = bump.props.bytes_used
        with bump.scope():
            bump.allocate(10, 1)
            with bump.scope():
                bump.allocate(10, 1)
        self.assertEqual(bump.props.bytes_used, used)

    def test_growth_and_reset(self):
        bump = Nebula.BumpAllocator(capacity=1024, max_capacity=8192)
        addresses = []
        with self.assertRaises(GLib.Error) as cm:
            while True:
                addresses.append(bump.allocate(100, 8))
        self.assertEqual(cm.exception.code, int(E.EXHAUSTED), cm.exception.message)
        self.assertGreater(bump.get_n_chunks(), 1)
        bump.reset()
        self.assertEqual(bump.get_n_chunks(), 1)
        self.assertEqual(bump.props.bytes_used, 0)
        self.assertEqual(bump.get_stats().resets, 1)

    def test_preset_defaults_and_override(self):
        perf = Nebula.BumpAllocator(preset=Nebula.Preset.PERFORMANCE)
        self.assertFalse(perf.props.track_stats)
        explicit = Nebula.BumpAllocator(preset=Nebula.Preset.PERFORMANCE, track_stats=True)
        self.assertTrue(explicit.props.track_stats)
        debug = Nebula.BumpAllocator(preset=Nebula.Preset.DEBUG)
        address = debug.allocate(16, 8)
        self.assertEqual(read(address, 16), b'\xaa' * 16)

    def test_deallocate(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        a = bump.allocate(32, 8)
        b = bump.allocate(32, 8)
        self.assertTrue(bump.deallocate(a, 32, 8))   # not the top: no effect
        self.assertEqual(bump.props.bytes_used, 64)
        self.assertTrue(bump.deallocate(b, 32, 8))   # the top is given back
        self.assertEqual(bump.props.bytes_used, 32)
        self.assertNebulaError(E.INVALID_POINTER, bump.deallocate, 16, 8, 8)

    def test_reallocate(self):
        bump = Nebula.BumpAllocator(capacity=1024)
        a = bump.allocate(16, 8)
        write(a, b'0123456789abcdef')
        a2 = bump.reallocate(a, 16, 64, 8)
        self.assertEqual(a2, a)
        self.assertEqual(read(a2, 16), b'0123456789abcdef')

    def test_threads(self):
        bump = Nebula.BumpAllocator(capacity=4096, max_capacity=16 << 20, thread_safe=True)
        results = [[] for _ in range(4)]

        def work(slot):
            for i in range(2000):
                results[slot].append(bump.allocate(24, 8))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        addresses = sorted(a for r in results for a in r)
        self.assertEqual(len(set(addresses)), 8000)
        for x, y in zip(addresses, addresses[1:]):
            self.assertGreaterEqual(y - x, 24)
        self.assertEqual(bump.get_stats().allocations, 8000)

    def test_threads_top_is_per_thread(self):
        # Thread-safe: each thread bumps in its own slice; the top block a
        # free gives back is the calling thread's own newest one.
        bump = Nebula.BumpAllocator(capacity=4096, thread_safe=True)
        a = bump.allocate(48, 16)
        write(a, b'x' * 48)
        freed = []
        other = threading.Thread(target=lambda: freed.append(bump.deallocate(a, 48, 16)))
        other.start()
        other.join()
        self.assertEqual(freed, [True])                 # not that thread's: no effect
        self.assertEqual(bump.props.bytes_used, 48)
        self.assertEqual(read(a, 48), b'x' * 48)
        self.assertTrue(bump.deallocate(a, 48, 16))     # the owner gives it back
        self.assertEqual(bump.props.bytes_used, 0)
        self.assertNebulaError(E.INVALID_POINTER, bump.deallocate, a, 48, 16)

        # A thread that exits gives the unused end of its slice back;
        # bytes_used counts blocks, not the slices' unused parts.
        blocks = []
        worker = threading.Thread(target=lambda: blocks.append(bump.allocate(40, 8)))
        worker.start()
        worker.join()
        self.assertEqual(bump.props.bytes_used, 40)
        c = bump.allocate(8, 8)
        self.assertTrue(c + 8 <= blocks[0] or c >= blocks[0] + 40)
        self.assertEqual(bump.props.bytes_used, 48)
        bump.reset()
        self.assertEqual(bump.props.bytes_used, 0)

    def test_context(self):
        bump = Nebula.BumpAllocator(capacity=64)
        with Nebula.context('handle_client'):
            with Nebula.context('parse_request'):
                with self.assertRaises(GLib.Error) as cm:
                    bump.allocate(128, 8)
        self.assertIn('handle_client > parse_request', cm.exception.message)
        self.assertIsNone(Nebula.context_get_path())


if __name__ == '__main__':
    unittest.main(verbosity=2)
