# SPDX-License-Identifier: LGPL-2.1-or-later
"""Errors keep the detail C records when they reach Python (issue 15):
one row per error code a script can provoke."""
import asyncio
import unittest

from gi.repository import GObject

from nebulatest import GLib, Nebula

A = Nebula.AllocatorError
C = Nebula.CacheError


def pool_exhausted():
    pool = Nebula.PoolAllocator(block_size=64, block_count=1, name='records')
    pool.allocate(64)
    pool.allocate(64)


def double_free():
    pool = Nebula.PoolAllocator(block_size=64, block_count=2)
    address = pool.allocate(8)
    pool.deallocate(address, 8)
    pool.deallocate(address, 8)


def out_of_order():
    stack = Nebula.StackAllocator(capacity=1024)
    first = stack.allocate(8)
    stack.allocate(8)
    stack.deallocate(first, 8)


def stale_checkpoint():
    bump = Nebula.BumpAllocator(capacity=64)
    checkpoint = bump.checkpoint()
    bump.reset()
    bump.allocate(8)
    bump.restore(checkpoint)


def budget_exceeded():
    budget = Nebula.MemoryBudget.new('small', 100)
    Nebula.BumpAllocator(capacity=1024, budget=budget)


def overflowing_value():
    cache = Nebula.ComputeCache(max_weight=10)
    cache.set_weigher(lambda key, value: 11)
    cache.get_or_compute('heavy', lambda key: GObject.Object())


def invalid_key():
    cache = Nebula.ComputeCache(max_entries=10)
    cache.get_or_compute(GLib.Variant('av', []), lambda key: GObject.Object())


# code, what provokes it, what the suggestion says (in Python's spelling),
# the numbers (requested, available, capacity) or None where they do not
# apply, whether it is retryable.
CASES = [
    (A.OUT_OF_MEMORY, lambda: Nebula.SystemAllocator().allocate(2 ** 46),
     'free memory elsewhere', None, True),
    (A.INVALID_LAYOUT, lambda: Nebula.PoolAllocator(block_size=64, block_count=1).allocate(128),
     'block_size= of at least 128', None, False),
    (A.INVALID_ALIGNMENT, lambda: Nebula.SystemAllocator().allocate(8, 3),
     'ctypes.alignment', None, False),
    (A.SIZE_OVERFLOW, lambda: Nebula.SystemAllocator().allocate_array(2 ** 62, 16),
     'allocate_array()', None, False),
    (A.EXCEEDS_MAX_SIZE, lambda: Nebula.SystemAllocator().allocate(2 ** 63),
     'sys.maxsize', None, False),
    (A.EXHAUSTED, pool_exhausted, 'raise block_count= or max_block_count=', (64, 0, 64), True),
    (A.INVALID_POINTER, lambda: Nebula.PoolAllocator(block_size=64, block_count=1)
     .deallocate(0x1000, 8), 'through the allocator that returned it', None, False),
    (A.DOUBLE_FREE, double_free, 'already freed', None, False),
    (A.OUT_OF_ORDER, out_of_order, 'LIFO order', None, False),
    (A.STALE_MARKER, stale_checkpoint, 'new checkpoint', None, False),
    (A.BUDGET_EXCEEDED, budget_exceeded, 'raise its limit', (1024, 100, 100), True),
    (A.INVALID_CONFIG, lambda: Nebula.PoolAllocator(block_size=4, block_count=1),
     'Fix the block_size= argument', None, False),
    (A.NOT_SUPPORTED, lambda: Nebula.StackAllocator(capacity=64).allocate_high(8),
     'supports this operation', None, False),
    (C.FAILED, lambda: Nebula.ComputeCache(max_entries=1).get_or_compute('k', lambda key: None),
     'Check the message', None, False),
    (C.INVALID_KEY, invalid_key, 'str, int, float, bool', None, False),
    (C.OVERFLOW, overflowing_value, 'raise max_weight=', None, False),
]

# Not reachable from a script: FAILED (no allocator raises it for a valid
# call) and CORRUPTION (needs a write outside a block); CIRCUIT_OPEN and
# BUSY are asynchronous (test_cache.py). Their catalogue advice is checked
# for C-only wording below.
UNREACHABLE = {A.FAILED, A.CORRUPTION, C.CIRCUIT_OPEN, C.BUSY}

C_ONLY = ('g_initable_new', 'nebula_', 'G_ALIGNOF', 'G_MAXSSIZE', 'g_clear_pointer', 'GVariant')


class ErrorDetailTest(unittest.TestCase):
    def test_every_code_is_covered(self):
        def ident(code):
            return type(code).__name__, int(code)
        covered = {ident(code) for code, *_ in CASES} | {ident(code) for code in UNREACHABLE}
        for enum in (A, C):
            for code in enum.__enum_values__.values():
                self.assertIn(ident(code), covered)

    def test_each_code_carries_its_detail(self):
        for code, provoke, advice, numbers, retryable in CASES:
            with self.subTest(code=code.value_nick):
                with self.assertRaises(Nebula.Error) as cm:
                    provoke()
                error = cm.exception
                self.assertIsInstance(error, GLib.Error)
                self.assertEqual(error.code, int(code))
                self.assertEqual(str(error), error.message)
                self.assertIn(advice, error.suggestion)
                for word in C_ONLY:
                    self.assertNotIn(word, error.suggestion)
                self.assertEqual(error.retryable, retryable)
                if numbers is not None:
                    self.assertEqual((error.requested, error.available, error.capacity), numbers)

    def test_pool_keeps_its_own_advice(self):
        # The reproducer of issue 15: a pool's EXHAUSTED got the bump's advice.
        with self.assertRaises(GLib.Error) as cm:
            pool_exhausted()
        self.assertEqual(cm.exception.allocator_name, 'records')
        self.assertNotIn('max-capacity', cm.exception.suggestion)
        self.assertIn('block-count', Nebula.error_get_suggestion(cm.exception))

    def test_context_is_an_attribute(self):
        bump = Nebula.BumpAllocator(capacity=64)
        with self.assertRaises(Nebula.Error) as cm:
            with Nebula.context('parse_request'):
                bump.allocate(128)
        if Nebula.HAS_ERROR_CONTEXT:
            self.assertEqual(cm.exception.context, 'parse_request')
        else:
            self.assertIsNone(cm.exception.context)

    def test_sync_compute_gets_the_plain_key_and_its_own_exception(self):
        cache = Nebula.ComputeCache(max_entries=4)
        seen = []

        def broken(key):
            seen.append(key)
            raise ValueError('boom')

        with self.assertRaises(ValueError):
            cache.get_or_compute(('user', 42), broken)
        self.assertEqual(seen, [('user', 42)])
        with self.assertRaises(TypeError) as cm:
            cache.get_or_compute('k', lambda key: 42)
        self.assertIn('GObject.Object', str(cm.exception))
        self.assertIn('int', str(cm.exception))
        self.assertIn('requests=2 ', repr(cache.get_stats()))
        self.assertIn('loads_failed=2 ', repr(cache.get_stats()))

    def test_async_waiters_get_the_exception(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True)

        def broken(key, cancellable, task):
            raise KeyError('gone')

        async def main():
            return await asyncio.gather(*[cache.get_or_compute('k', broken) for _ in range(3)],
                                        return_exceptions=True)

        results = asyncio.run(asyncio.wait_for(main(), 30))
        self.assertTrue(all(isinstance(result, KeyError) for result in results), results)

    def test_stats_off_say_so(self):
        bump = Nebula.BumpAllocator(capacity=64, track_stats=False)
        self.assertIn('off', repr(bump.stats))
        self.assertIn('allocations=0', repr(Nebula.BumpAllocator(capacity=64).stats))


if __name__ == '__main__':
    unittest.main()
