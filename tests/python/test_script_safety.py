# SPDX-License-Identifier: LGPL-2.1-or-later
"""No address a script passes crashes the interpreter.

Every check that could crash runs in a child interpreter
(``subprocess.run([sys.executable, __file__, '--child', ...])``), so a
SIGSEGV is a failed assertion on its return code instead of the end of the
suite. The named tests are the reproducers of issue 12 (items 10-13); the
property test feeds seeded random addresses and sizes near real blocks to
every address-taking call of every allocator type, in every preset, plain
and thread-safe, and accepts only ``GLib.Error``, ``ValueError``,
``OverflowError`` and ``TypeError``. ``NEBULA_FUZZ_SEED`` picks the seed.
"""
import ctypes
import os
import random
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from nebulatest import GLib, Nebula  # noqa: E402

E = Nebula.AllocatorError
ALLOWED = (GLib.Error, ValueError, OverflowError, TypeError)
PRESETS = ('DEFAULT', 'PRODUCTION', 'DEBUG', 'PERFORMANCE')
KINDS = ('bump', 'bump-growing', 'pool', 'stack', 'system')


def make(kind, preset, thread_safe):
    preset = getattr(Nebula.Preset, preset)
    if kind == 'bump':
        return Nebula.BumpAllocator(capacity=4096, preset=preset, thread_safe=thread_safe)
    if kind == 'bump-growing':
        return Nebula.BumpAllocator(capacity=256, max_capacity=1 << 20, preset=preset,
                                    thread_safe=thread_safe)
    if kind == 'pool':
        return Nebula.PoolAllocator(block_size=64, block_count=16, max_block_count=64,
                                    preset=preset, thread_safe=thread_safe)
    if kind == 'stack':
        return Nebula.StackAllocator(capacity=4096, double_ended=True, preset=preset,
                                     thread_safe=thread_safe)
    return Nebula.SystemAllocator(preset=preset, thread_safe=thread_safe)


def expect_error(code, fn, *args):
    try:
        fn(*args)
    except GLib.Error as error:
        assert error.domain == 'NebulaAllocatorError', error.domain
        assert error.code == int(code), (error.code, error.message)
        return error
    raise AssertionError(f'{fn.__name__}{args} did not raise')


# --- Children: each returns normally or raises; a crash kills it. ---------

def child_system_view_past_block():
    # Item 10: a view far larger than its 16-byte block.
    system = Nebula.SystemAllocator()
    address = system.allocate(16)
    try:
        view = system.view(address, 1 << 24)
    except ValueError as error:
        assert 'not a block of' in str(error), error
    else:
        view[-1] = 1            # the SIGSEGV of the report
        raise AssertionError('a view of 16 MiB over a 16-byte block was accepted')
    view = system.view(address, 16)
    view[15] = 1


def child_growing_bump_view_across_chunks():
    # Item 11: a view from a block in one chunk to a block in another.
    bump = Nebula.BumpAllocator(capacity=64, max_capacity=1 << 16)
    first = second = bump.allocate(16)
    while bump.get_n_chunks() < 2:
        second = bump.allocate(16)      # the last one opens a new chunk
    low, high = min(first, second), max(first, second)
    try:
        bump.view(low, high - low + 1)
    except ValueError:
        pass
    else:
        raise AssertionError('a view across two chunks was accepted')
    bump.view(first, 16)[15] = 1
    bump.view(second, 16)[15] = 1


def child_memory_utilities_bad_addresses():
    # Item 12.
    bump = Nebula.BumpAllocator(capacity=256)
    block = bump.allocate(16)
    for call in (lambda: Nebula.memory_fill(1, 0, 8),
                 lambda: Nebula.memory_copy(1, block, 8),
                 lambda: Nebula.memory_copy(block, 1, 8),
                 lambda: Nebula.secure_zero(1, 8),
                 lambda: Nebula.memory_fill(block, 0, 1 << 40),
                 lambda: Nebula.memory_copy(block, block, 1 << 40),
                 lambda: Nebula.secure_zero(block, 1 << 40)):
        expect_error(E.INVALID_POINTER, call)
    Nebula.memory_fill(block, 7, 16)
    assert ctypes.string_at(block, 16) == b'\x07' * 16


def child_performance_deallocate_bad_address():
    # Item 13: without check-frees the allocator cannot tell; the ledger can.
    for kind in ('pool', 'system'):
        for thread_safe in (False, True):
            alloc = make(kind, 'PERFORMANCE', thread_safe)
            assert not alloc.props.check_frees
            expect_error(E.INVALID_POINTER, alloc.deallocate, 1, 8)
            expect_error(E.INVALID_POINTER, alloc.deallocate, (1 << 64) - 8, 8)
            block = alloc.allocate(32)
            expect_error(E.INVALID_POINTER, alloc.deallocate, block + 8, 8)
            expect_error(E.INVALID_LAYOUT, alloc.deallocate, block, 33)
            expect_error(E.INVALID_POINTER, alloc.reallocate, block + 8, 8, 16)
            block = alloc.reallocate(block, 32, 48)
            alloc.view(block, 48)[47] = 1
            assert alloc.deallocate(block, 48)
            expect_error(E.INVALID_POINTER, alloc.deallocate, block, 48)   # twice
            expect_error(E.INVALID_POINTER, alloc.reallocate, block, 48, 8)
            try:
                alloc.view(block, 1)
            except ValueError:
                pass
            else:
                raise AssertionError('a view of a freed block was accepted')
            # A reset forgets every block: the pool's memory is still there,
            # but no block of it is live for a script.
            block = alloc.allocate(16)
            alloc.reset()
            error = expect_error(E.INVALID_POINTER, alloc.deallocate, block, 16)
            if kind == 'system':
                # malloc knows nothing: only the ledger answers.
                assert 'check-frees' in error.message, error.message


# --- The property test ----------------------------------------------------

def candidates(rng, blocks, extra):
    """Addresses and sizes near real blocks, and far from any."""
    picks = [1, 8, 4096, 1 << 40, (1 << 64) - 1, (1 << 64) - 8, -1, -4096] + extra
    for address, size in blocks:
        picks += [address, address + 1, address + size // 2, address + size,
                  address + size - 1, address - 1, address - 16, address + (1 << 32)]
    address = rng.choice(picks)
    size = rng.choice([0, 1, 7, 8, 16, 64, 100, 4096, 1 << 24, 1 << 40, (1 << 63) - 1,
                       (1 << 64) - 1, -1,
                       rng.choice(blocks)[1] if blocks else 8,
                       (rng.choice(blocks)[1] + 1) if blocks else 9])
    return address, size


def fuzz_one(rng, kind, preset, thread_safe, steps):
    alloc = make(kind, preset, thread_safe)
    blocks = []
    high_blocks = []
    stats = {'ok': 0, 'refused': 0}

    def attempt(fn, *args):
        try:
            result = fn(*args)
        except ALLOWED:
            stats['refused'] += 1
            return None
        stats['ok'] += 1
        return result

    for _ in range(steps):
        if len(blocks) < 3 or rng.random() < 0.2:
            size = rng.choice([1, 8, 24, 64, 200])
            if kind == 'pool':
                size = min(size, 64)
            address = attempt(alloc.allocate, size)
            if address:
                blocks.append((address, size))
            continue
        address, size = candidates(rng, blocks + high_blocks, [])
        op = rng.randrange(11)
        if op == 0:
            if attempt(alloc.deallocate, address, size):
                blocks = [b for b in blocks if b[0] != address]
                high_blocks = [b for b in high_blocks if b[0] != address]
        elif op == 1:
            new_size = rng.choice([1, 16, 64, 300, 1 << 40, size])
            moved = attempt(alloc.reallocate, address, size, new_size)
            if moved:
                blocks = [b for b in blocks if b[0] != address] + [(moved, new_size)]
                high_blocks = [b for b in high_blocks if b[0] != address]
        elif op == 2:
            attempt(alloc.owns, address)
        elif op == 3:
            view = attempt(alloc.view, address, size)
            if view is not None and len(view) > 0:
                # Whatever the check accepted must be memory to write to.
                view[0] = view[0]
                view[-1] = view[-1]
        elif op == 4:
            attempt(Nebula.memory_fill, address, 0x5A, size)
        elif op == 5:
            other, _ = candidates(rng, blocks, [])
            attempt(Nebula.memory_copy, address, other, size)
        elif op == 6:
            attempt(Nebula.secure_zero, address, size)
        elif op == 7 and kind == 'stack':
            high = attempt(alloc.allocate_high, rng.choice([1, 8, 40]))
            if high:
                high_blocks.append((high, 8))
        elif op == 8 and kind == 'stack':
            if attempt(alloc.deallocate_high, address, size):
                high_blocks = [b for b in high_blocks if b[0] != address]
        elif op == 9 and rng.random() < 0.05:
            alloc.reset()
            blocks, high_blocks = [], []
        elif op == 10:
            attempt(alloc.view, address, rng.choice([1, 8, 64]))
    return stats


def child_fuzz(seed, steps):
    rng = random.Random(seed)
    total = {'ok': 0, 'refused': 0}
    for kind in KINDS:
        for preset in PRESETS:
            # A stack is never thread-safe (the property is refused).
            for thread_safe in (False,) if kind == 'stack' else (False, True):
                stats = fuzz_one(rng, kind, preset, thread_safe, steps)
                for key in total:
                    total[key] += stats[key]
    # Both outcomes must be common, or the test exercises nothing.
    assert total['ok'] > 1000 and total['refused'] > 1000, total
    print(f'fuzz seed {seed}: {total}')


def child_asserted_values_raise():
    # Run with G_DEBUG=fatal-criticals: each was a C assertion, so a
    # SIGTRAP. Found by the script probe (HACKING.md).
    bench = Nebula.Benchmark.new(Nebula.Workload.SMALL_MIXED)
    for name, value in (('threads', 0), ('threads', 1000), ('rounds', 0),
                        ('iterations', 0), ('iterations', 2**64 - 1)):
        try:
            getattr(bench, 'set_' + name)(value)
        except ValueError as error:
            assert f'{name} must be from 1 to' in str(error), error
        else:
            raise AssertionError(f'set_{name}({value}) did not raise')
    assert (bench.get_threads(), bench.get_rounds()) != (0, 0)
    bench.set_threads(2)
    assert bench.get_threads() == 2
    if Nebula.HAS_ERROR_CONTEXT:
        try:
            Nebula.context_pop()
        except RuntimeError as error:
            assert 'without a matching context_push()' in str(error), error
        else:
            raise AssertionError('context_pop() with nothing pushed did not raise')
    Nebula.context_push('outer')
    Nebula.context_pop()
    assert Nebula.context_get_path() is None


def child_boxed_free_raises():
    # free() or unref() of a boxed value was a double free (glibc abort)
    # when Python freed it again.
    system = Nebula.SystemAllocator()
    bench = Nebula.Benchmark(workload=Nebula.Workload.SMALL_MIXED, rounds=1, iterations=10)
    boxed = [
        (system.get_stats(), 'free'),
        (Nebula.ComputeCache(max_entries=1).get_stats(), 'free'),
        (bench.run(system), 'free'),
        (Nebula.StackAllocator(capacity=64).mark(), 'free'),
        (Nebula.BumpAllocator(capacity=64).checkpoint(), 'free'),
        (Nebula.ArenaBuffer.new(system, 8), 'unref'),
    ]
    for value, method in boxed:
        try:
            getattr(value, method)()
        except RuntimeError as error:
            assert 'a script must not free it' in str(error), error
        else:
            raise AssertionError(f'{type(value).__name__}.{method}() did not raise')
    buffer = boxed[-1][0]
    buffer.append(b'still usable')
    assert buffer.finish_bytes().get_data() == b'still usable'
    del boxed, buffer
    import gc
    gc.collect()


CHILDREN = {
    'asserted-values-raise': child_asserted_values_raise,
    'boxed-free-raises': child_boxed_free_raises,
    'system-view-past-block': child_system_view_past_block,
    'growing-bump-view-across-chunks': child_growing_bump_view_across_chunks,
    'memory-utilities-bad-addresses': child_memory_utilities_bad_addresses,
    'performance-deallocate-bad-address': child_performance_deallocate_bad_address,
}


class ScriptSafetyTest(unittest.TestCase):
    def run_child(self, *args, timeout=60, env=None):
        result = subprocess.run([sys.executable, os.path.abspath(__file__), '--child', *args],
                                capture_output=True, text=True, timeout=timeout,
                                env=None if env is None else {**os.environ, **env})
        self.assertGreaterEqual(result.returncode, 0,
                                f'killed by signal {-result.returncode}\n{result.stderr}')
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def test_asserted_values_raise_under_fatal_criticals(self):
        self.run_child('asserted-values-raise', env={'G_DEBUG': 'fatal-criticals'})

    def test_boxed_free_raises(self):
        self.run_child('boxed-free-raises')

    def test_item10_system_view_past_the_block(self):
        self.run_child('system-view-past-block')

    def test_item11_growing_bump_view_across_chunks(self):
        self.run_child('growing-bump-view-across-chunks')

    def test_item12_memory_utilities_refuse_bad_addresses(self):
        self.run_child('memory-utilities-bad-addresses')

    def test_item13_performance_deallocate_refuses_bad_addresses(self):
        self.run_child('performance-deallocate-bad-address')

    def test_random_addresses_never_crash(self):
        seed = int(os.environ.get('NEBULA_FUZZ_SEED', '20261207'))
        result = self.run_child('fuzz', str(seed), '250', timeout=120)
        self.assertIn(f'fuzz seed {seed}', result.stdout)


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == '--child':
        if sys.argv[2] == 'fuzz':
            child_fuzz(int(sys.argv[3]), int(sys.argv[4]))
        else:
            CHILDREN[sys.argv[2]]()
        sys.exit(0)
    unittest.main()
