# SPDX-License-Identifier: LGPL-2.1-or-later
import threading
import unittest

from nebulatest import AllocatorTestCase, GLib, Nebula, read, write

E = Nebula.AllocatorError
HEADER = 24  # bytes below every block


class StackTest(AllocatorTestCase):
    def test_allocate_write_read(self):
        stack = Nebula.StackAllocator(capacity=4096, name='scratch')
        address = stack.allocate(100, 8)
        self.assertIsInstance(address, int)
        self.assertEqual(address % 8, 0)
        write(address, b'hello nebula')
        self.assertEqual(read(address, 12), b'hello nebula')
        self.assertTrue(stack.owns(address))
        self.assertFalse(stack.owns(address + 100))
        self.assertEqual(stack.props.bytes_used, HEADER + 100)
        self.assertEqual(stack.props.bytes_used + stack.props.bytes_available, 4096)
        zeroed = stack.allocate_zeroed(64, 64)
        self.assertEqual(zeroed % 64, 0)
        self.assertEqual(read(zeroed, 64), bytes(64))

    def test_new_constructor(self):
        stack = Nebula.StackAllocator.new(1024)
        self.assertEqual(stack.props.capacity, 1024)
        self.assertEqual(stack.props.max_capacity, 1024)
        self.assertFalse(stack.props.double_ended)
        self.assertNebulaError(E.INVALID_CONFIG, Nebula.StackAllocator.new, 0)

    def test_invalid_config_raises_on_construction(self):
        cases = [
            (dict(capacity=0), 'capacity', 'greater than 0'),
            (dict(capacity=16), 'capacity', 'at least 32 bytes'),
            (dict(capacity=2**63), 'capacity', 'at most'),
            (dict(capacity=1024, max_capacity=100), 'max-capacity', 'at least the capacity'),
            (dict(capacity=1024, max_capacity=2**63), 'max-capacity', 'at most'),
            (dict(capacity=1024, max_capacity=4096, double_ended=True), 'double-ended',
             'cannot meet across chunks'),
            (dict(alloc_fill=300), 'alloc-fill', 'byte value'),
            (dict(free_fill=-5), 'free-fill', 'byte value'),
        ]
        for kwargs, prop, rule in cases:
            with self.subTest(prop=prop, kwargs=kwargs):
                e = self.assertNebulaError(E.INVALID_CONFIG,
                                           lambda: Nebula.StackAllocator(**kwargs))
                self.assertIn(f"'{prop}'", e.message)
                self.assertIn(rule, e.message)
                # Bindings drop the detail: the catalogue's advice remains.
                self.assertIn('property', Nebula.error_get_suggestion(e))

    def test_lifo(self):
        stack = Nebula.StackAllocator(capacity=1024)
        a = stack.allocate(32, 8)
        b = stack.allocate(40, 16)
        write(a, b'a' * 32)
        used = stack.props.bytes_used
        e = self.assertNebulaError(E.OUT_OF_ORDER, stack.deallocate, a, 32, 8)
        self.assertIn('not the top of the low end', e.message)
        self.assertEqual(stack.props.bytes_used, used)
        self.assertEqual(read(a, 32), b'a' * 32)
        self.assertNebulaError(E.INVALID_POINTER, stack.deallocate, 16, 8, 8)
        self.assertNebulaError(E.INVALID_POINTER, stack.deallocate, b + 40, 8, 8)
        e = self.assertNebulaError(E.INVALID_LAYOUT, stack.deallocate, b, 41, 16)
        self.assertIn('has 40 bytes, not 41', e.message)
        self.assertTrue(stack.deallocate(b, 40, 16))
        self.assertTrue(stack.deallocate(a, 32, 8))
        self.assertEqual(stack.props.bytes_used, 0)
        stats = stack.get_stats()
        self.assertEqual(stats.allocations, 2)
        self.assertEqual(stats.deallocations, 2)

    def test_exhausted_message_carries_numbers(self):
        stack = Nebula.StackAllocator(capacity=4096, name='scratch')
        stack.allocate(4000, 8)
        e = self.assertNebulaError(E.EXHAUSTED, stack.allocate, 128, 8)
        self.assertIn("Stack allocator 'scratch' is exhausted", e.message)
        self.assertIn('requested 128 bytes, 72 of 4096 available', e.message)
        self.assertTrue(Nebula.error_is_retryable(e))

    def test_bad_layouts(self):
        stack = Nebula.StackAllocator(capacity=1024)
        self.assertNebulaError(E.INVALID_ALIGNMENT, stack.allocate, 8, 3)
        self.assertNebulaError(E.SIZE_OVERFLOW, stack.allocate, 2**64 - 1, 16)
        self.assertNebulaError(E.EXCEEDS_MAX_SIZE, stack.allocate, 2**63, 1)
        self.assertNebulaError(E.INVALID_ALIGNMENT, stack.allocate_high, 8, 3)
        self.assertEqual(stack.get_stats().failed_allocations, 4)

    def test_growth_and_reset(self):
        stack = Nebula.StackAllocator(capacity=1024, max_capacity=8192)
        addresses = []
        with self.assertRaises(GLib.Error) as cm:
            while True:
                address = stack.allocate(100, 8)
                write(address, bytes([len(addresses) & 0xff]) * 100)
                addresses.append(address)
        self.assertIn('left to grow', cm.exception.message)
        self.assertGreaterEqual(stack.get_n_chunks(), 3)
        for i, address in enumerate(addresses):
            self.assertEqual(read(address, 100), bytes([i & 0xff]) * 100)
        for address in reversed(addresses):
            stack.deallocate(address, 100, 8)
        self.assertEqual(stack.get_n_chunks(), 1)
        self.assertEqual(stack.props.bytes_used, 0)
        first = stack.allocate(100, 8)
        stack.allocate(2000, 8)
        stack.reset()
        self.assertEqual(stack.get_n_chunks(), 1)
        self.assertEqual(stack.props.bytes_used, 0)
        self.assertEqual(stack.get_stats().resets, 1)
        self.assertEqual(stack.allocate(100, 8), first)

    def test_reallocate(self):
        stack = Nebula.StackAllocator(capacity=1024)
        a = stack.allocate(16, 8)
        write(a, b'0123456789abcdef')
        self.assertEqual(stack.reallocate(a, 16, 64, 8), a)
        self.assertEqual(stack.reallocate(a, 64, 10, 8), a)
        self.assertEqual(read(a, 10), b'0123456789')
        b = stack.allocate(8, 8)
        self.assertNebulaError(E.OUT_OF_ORDER, stack.reallocate, a, 10, 20, 8)
        self.assertNebulaError(E.EXHAUSTED, stack.reallocate, b, 8, 4096, 8)
        self.assertTrue(stack.deallocate(b, 8, 8))
        self.assertTrue(stack.deallocate(a, 10, 8))

    def test_reallocate_moves_to_new_chunk(self):
        stack = Nebula.StackAllocator(capacity=512, max_capacity=8192)
        a = stack.allocate(100, 8)
        write(a, b'x' * 100)
        moved = stack.reallocate(a, 100, 2000, 8)
        self.assertNotEqual(moved, a)
        self.assertEqual(read(moved, 100), b'x' * 100)
        self.assertEqual(stack.get_n_chunks(), 2)
        self.assertTrue(stack.deallocate(moved, 2000, 8))
        self.assertEqual(stack.props.bytes_used, 0)

    def test_markers(self):
        stack = Nebula.StackAllocator(capacity=4096)
        other = Nebula.StackAllocator(capacity=4096)
        empty = stack.mark()
        keep = stack.allocate(100, 8)
        outer = stack.mark()
        self.assertEqual(outer.get_position(), HEADER + 100)
        self.assertFalse(outer.is_high())
        for _ in range(5):
            stack.allocate(50, 8)
        inner = stack.mark()
        stack.allocate(30, 8)
        self.assertTrue(stack.release_to_marker(inner))
        self.assertTrue(stack.release_to_marker(outer))
        self.assertEqual(stack.props.bytes_used, HEADER + 100)
        stats = stack.get_stats()
        self.assertEqual(stats.deallocations, 6)
        self.assertEqual(stats.bytes_in_use, 100)

        e = self.assertNebulaError(E.STALE_MARKER, stack.release_to_marker, inner)
        self.assertIn('above the top', e.message)
        stack.release_to_marker(empty)
        stack.allocate(1000, 8)
        e = self.assertNebulaError(E.STALE_MARKER, stack.release_to_marker, outer)
        self.assertIn('released below it', e.message)
        e = self.assertNebulaError(E.STALE_MARKER, stack.release_to_marker, other.mark())
        self.assertIn('another allocator', e.message)
        stack.reset()
        e = self.assertNebulaError(E.STALE_MARKER, stack.release_to_marker, empty)
        self.assertIn('before a reset', e.message)
        self.assertNotEqual(stack.allocate(8, 8), 0)
        self.assertNotEqual(keep, 0)

    def test_frame(self):
        stack = Nebula.StackAllocator(capacity=1024)
        stack.allocate(10, 1)
        with stack.frame() as s:
            self.assertIs(s, stack)
            stack.allocate(500, 1)
            with stack.frame():
                stack.allocate(100, 1)
            # 10 + 500 bytes, two headers, padding to 8 between them
            self.assertEqual(stack.props.bytes_used, 2 * HEADER + 510 + 6)
        self.assertEqual(stack.props.bytes_used, HEADER + 10)

    def test_frame_releases_on_exception(self):
        stack = Nebula.StackAllocator(capacity=1024)
        with self.assertRaises(RuntimeError):
            with stack.frame():
                stack.allocate(500, 1)
                raise RuntimeError('boom')
        self.assertEqual(stack.props.bytes_used, 0)

    def test_frame_after_reset_raises(self):
        stack = Nebula.StackAllocator(capacity=1024)
        with self.assertRaises(GLib.Error) as cm:
            with stack.frame():
                stack.allocate(10, 1)
                stack.reset()
        self.assertIn('before a reset', cm.exception.message)

    def test_double_ended(self):
        stack = Nebula.StackAllocator(capacity=4096, double_ended=True, name='level')
        level = stack.allocate(2976, 8)
        write(level, b'L' * 2976)
        with stack.frame(high=True):
            frame = stack.allocate_high(976, 8)
            write(frame, b'F' * 976)
            self.assertGreater(frame, level)
            self.assertTrue(stack.owns(frame))
            self.assertEqual(stack.props.bytes_used, 4000)
            e = self.assertNebulaError(E.EXHAUSTED, stack.allocate, 200, 8)
            self.assertIn('low end 3000 bytes, high end 1000 bytes of 4096', e.message)
            e = self.assertNebulaError(E.EXHAUSTED, stack.allocate_high, 200, 8)
            self.assertIn('at the high end', e.message)
            self.assertEqual(read(frame, 976), b'F' * 976)
        self.assertEqual(stack.props.bytes_used, 3000)
        self.assertEqual(read(level, 2976), b'L' * 2976)

        a = stack.allocate_high(100, 16)
        b = stack.allocate_high(50, 8)
        self.assertNebulaError(E.OUT_OF_ORDER, stack.deallocate_high, a, 100)
        self.assertNebulaError(E.INVALID_POINTER, stack.deallocate_high, level, 2976)
        self.assertNebulaError(E.INVALID_LAYOUT, stack.deallocate_high, b, 49)
        self.assertTrue(stack.deallocate_high(b, 50))
        self.assertTrue(stack.deallocate(a, 100, 16))
        marker = stack.mark_high()
        self.assertTrue(marker.is_high())
        self.assertEqual(marker.get_position(), 4096)

    def test_single_ended_has_no_high_end(self):
        stack = Nebula.StackAllocator(capacity=1024)
        e = self.assertNebulaError(E.NOT_SUPPORTED, stack.allocate_high, 8, 8)
        self.assertIn("'double-ended'", e.message)
        self.assertNebulaError(E.NOT_SUPPORTED, stack.deallocate_high, 4096, 8)
        with stack.frame(high=True):
            pass

    def test_corrupted_header(self):
        # The DEBUG preset's release walks and checks every header.
        stack = Nebula.StackAllocator(capacity=1024, preset=Nebula.Preset.DEBUG)
        bottom = stack.mark()
        stack.allocate(64, 8)
        top = stack.allocate(64, 8)
        saved = read(top - HEADER, HEADER)
        write(top - HEADER, b'\x41' * HEADER)
        e = self.assertNebulaError(E.CORRUPTION, stack.deallocate, top, 64, 8)
        self.assertIn('is damaged', e.message)
        self.assertNebulaError(E.CORRUPTION, stack.release_to_marker, bottom)
        self.assertEqual(stack.props.bytes_used, 2 * (HEADER + 64))
        write(top - HEADER, saved)
        self.assertTrue(stack.deallocate(top, 64, 8))
        self.assertTrue(stack.release_to_marker(bottom))

    def test_corrupted_header_default_release(self):
        # The default preset's pop checks the header; its release rewinds
        # to the marker without reading the headers above it.
        stack = Nebula.StackAllocator(capacity=1024)
        bottom = stack.mark()
        stack.allocate(64, 8)
        top = stack.allocate(64, 8)
        write(top - HEADER, b'\x41' * HEADER)
        self.assertNebulaError(E.CORRUPTION, stack.deallocate, top, 64, 8)
        self.assertTrue(stack.release_to_marker(bottom))
        self.assertEqual(stack.props.bytes_used, 0)
        self.assertEqual(stack.allocate(64, 8) + 64 + HEADER, top)
        self.assertTrue(stack.release_to_marker(bottom))

    def test_preset_defaults_and_override(self):
        prod = Nebula.StackAllocator(capacity=1000, preset=Nebula.Preset.PRODUCTION)
        self.assertEqual(prod.props.max_capacity, 8000)
        perf = Nebula.StackAllocator(preset=Nebula.Preset.PERFORMANCE)
        self.assertFalse(perf.props.track_stats)
        explicit = Nebula.StackAllocator(preset=Nebula.Preset.PERFORMANCE, track_stats=True)
        self.assertTrue(explicit.props.track_stats)
        debug = Nebula.StackAllocator(preset=Nebula.Preset.DEBUG)
        address = debug.allocate(16, 8)
        self.assertEqual(read(address, 16), b'\xaa' * 16)
        debug.deallocate(address, 16, 8)
        self.assertEqual(read(address, 16), b'\xdd' * 16)

    def test_thread_safe_refused(self):
        # A stack shared by threads has no sound LIFO order: refused, with
        # the way out in the suggestion, under every preset.
        for preset in ('DEFAULT', 'DEBUG', 'PERFORMANCE', 'PRODUCTION'):
            with self.assertRaises(Nebula.Error) as cm:
                Nebula.StackAllocator(capacity=4096, thread_safe=True,
                                      preset=getattr(Nebula.Preset, preset))
            e = cm.exception
            self.assertEqual(e.code, int(E.INVALID_CONFIG))
            self.assertIn("'thread-safe' cannot be TRUE: a stack shared by threads has no "
                          "sound last-in, first-out order", e.message)
            self.assertIn('one NebulaStackAllocator per thread', e.suggestion)
            self.assertIn('GPrivate', e.suggestion)
            self.assertIn('NebulaPoolAllocator', e.suggestion)
            self.assertFalse(Nebula.StackAllocator(capacity=4096, preset=getattr(
                Nebula.Preset, preset)).props.thread_safe)

    def test_one_stack_per_thread(self):
        # What the suggestion says, in Python: a threading.local stack.
        local = threading.local()
        errors = []

        def work(slot):
            try:
                local.stack = Nebula.StackAllocator(capacity=4096, max_capacity=1 << 20)
                tag = bytes([slot + 1]) * 24
                keep = local.stack.allocate(24, 8)
                write(keep, tag)
                for _ in range(500):
                    with local.stack.frame():
                        for _ in range(4):
                            write(local.stack.allocate(24, 8), tag)
                    top = local.stack.allocate(24, 8)
                    local.stack.deallocate(top, 24, 8)
                self.assertEqual(read(keep, 24), tag)
                self.assertEqual(local.stack.get_stats().allocations, 1 + 500 * 5)
            except Exception as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])


if __name__ == '__main__':
    unittest.main(verbosity=2)
