// SPDX-License-Identifier: LGPL-2.1-or-later
import GObject from 'gi://GObject';
import Nebula from 'gi://Nebula';

import {test, assert, assertEqual, assertThrows, isAllocatorError, run} from './harness.js';

const E = Nebula.AllocatorError;

test('blocks are aligned, distinct and owned', () => {
    const pool = new Nebula.PoolAllocator({block_size: 64, block_count: 128, name: 'nodes'});
    assertEqual(pool.capacity, 64 * 128);
    assertEqual(pool.check_frees, true);
    const seen = new Set();
    for (let i = 0; i < 10; i++) {
        const address = pool.allocate(1 + i * 6, 16);
        assertEqual(typeof address, 'number');
        assertEqual(address % 16, 0, 'alignment:');
        assert(pool.owns(address), 'owned');
        assert(!seen.has(address), 'distinct');
        seen.add(address);
    }
    assertEqual(pool.bytes_used, 10 * 64);
    assertEqual(pool.bytes_available, 118 * 64);
    assertEqual(pool.get_stats().allocations, 10);
});

test('new() and rounding to the alignment', () => {
    const pool = Nebula.PoolAllocator.new(24, 10);
    assertEqual(pool.block_size, 32);
    assertEqual(pool.capacity, 320);
    assertEqual(pool.get_n_slabs(), 1);
    assertThrows(() => Nebula.PoolAllocator.new(4, 10),
        isAllocatorError(E.INVALID_CONFIG, "'block-size'", 'must be at least 8 bytes'));
});

test('invalid configs, one property at a time, never crash', () => {
    const cases = [
        [{block_size: 4}, 'block-size', 'not 4'],
        [{block_alignment: 0}, 'block-alignment', 'power of two, not 0'],
        [{block_alignment: 48}, 'block-alignment', 'power of two, not 48'],
        [{block_count: 0}, 'block-count', 'greater than 0'],
        [{block_count: 10, max_block_count: 3}, 'max-block-count', "at least 'block-count' (10), not 3"],
        [{thread_safe: true, block_count: 2 ** 32}, 'block-count', 'at most 4294967294'],
        [{alloc_fill: 999}, 'alloc-fill', 'not 999'],
        [{free_fill: -3}, 'free-fill', 'not -3'],
    ];
    for (const [props, name, rule] of cases) {
        // gjs does not run GInitable.init: every method reports the error.
        const pool = new Nebula.PoolAllocator(props);
        const check = isAllocatorError(E.INVALID_CONFIG, `'${name}'`, rule,
            'Pool allocator has an invalid configuration');
        assertThrows(() => pool.allocate(8, 8), check);
        assertThrows(() => pool.allocate_zeroed(8, 8), check);
        assertThrows(() => pool.deallocate(4096, 8, 8), check);
        assertThrows(() => pool.reallocate(4096, 8, 16, 8), check);
        assertThrows(() => pool.init(null), check);
        assertEqual(pool.owns(4096), false);
        assertEqual(pool.get_n_slabs(), 0);
        pool.reset();
    }
});

test('block-size x block-count overflow is SIZE_OVERFLOW', () => {
    const pool = new Nebula.PoolAllocator({block_size: 2 ** 40, block_count: 2 ** 40});
    assertThrows(() => pool.allocate(8, 8), isAllocatorError(E.SIZE_OVERFLOW,
        "'block-size' x 'block-count' overflows: 1099511627776 blocks of 1099511627776 bytes"));
});

test('exhaustion message carries the numbers', () => {
    const pool = new Nebula.PoolAllocator({block_size: 64, block_count: 128, name: 'x'});
    const first = pool.allocate(64, 8);
    for (let i = 1; i < 128; i++)
        pool.allocate(64, 8);
    const e = assertThrows(() => pool.allocate(64, 8), isAllocatorError(E.EXHAUSTED,
        "Pool allocator 'x' is exhausted: requested 64 bytes, 0 of 128 blocks free"));
    assert(Nebula.error_is_retryable(e), 'retryable');
    pool.deallocate(first, 64, 8);
    assertEqual(pool.allocate(64, 8), first);
    assertEqual(pool.get_stats().failed_allocations, 1);
});

test('requests the blocks cannot serve are INVALID_LAYOUT', () => {
    const pool = new Nebula.PoolAllocator({block_size: 64, block_alignment: 16, block_count: 4});
    assertThrows(() => pool.allocate(65, 8), isAllocatorError(E.INVALID_LAYOUT,
        'serves blocks of 64 bytes aligned to 16', 'cannot allocate 65 bytes aligned to 8',
        'block-size of at least 80'));
    assertThrows(() => pool.allocate(8, 32), isAllocatorError(E.INVALID_LAYOUT,
        'cannot allocate 8 bytes aligned to 32'));
    const a = pool.allocate(64, 16);
    assertThrows(() => pool.deallocate(a, 65, 16), isAllocatorError(E.INVALID_LAYOUT,
        'cannot free 65 bytes'));
    assert(pool.owns(a), 'still allocated');
});

test('bad pointers and double frees change nothing', () => {
    for (const threadSafe of [false, true]) {
        const pool = new Nebula.PoolAllocator({block_size: 32, block_count: 8, thread_safe: threadSafe});
        const a = pool.allocate(32, 8);
        const b = pool.allocate(32, 8);
        assertThrows(() => pool.deallocate(a + 4, 8, 4), isAllocatorError(E.INVALID_POINTER,
            'is not the start of a block (it lies 4 bytes into block'));
        assertThrows(() => pool.deallocate(4096, 8, 8), isAllocatorError(E.INVALID_POINTER,
            'does not lie in this pool', '(size 8)'));
        pool.deallocate(a, 32, 8);
        assertThrows(() => pool.deallocate(a, 32, 8), isAllocatorError(E.DOUBLE_FREE,
            'already freed (double free)', '(size 32)'));
        assertEqual(pool.bytes_used, 32);

        const seen = new Set([b]);
        for (let i = 0; i < 7; i++) {
            const p = pool.allocate(32, 8);
            assert(!seen.has(p), 'handed out twice');
            seen.add(p);
        }
        assert(seen.has(a), 'the freed block came back once');
        assertThrows(() => pool.allocate(32, 8), isAllocatorError(E.EXHAUSTED));
    }
});

test('reallocate stays in place or fails', () => {
    const pool = new Nebula.PoolAllocator({block_size: 64, block_count: 2});
    const a = pool.allocate(16, 8);
    assertEqual(pool.reallocate(a, 16, 64, 8), a);
    assertEqual(pool.reallocate(a, 64, 8, 8), a);
    assertThrows(() => pool.reallocate(a, 8, 100, 8), isAllocatorError(E.INVALID_LAYOUT,
        'cannot resize a block to 100 bytes'));
    pool.deallocate(a, 8, 8);
    assertThrows(() => pool.reallocate(a, 8, 16, 8), isAllocatorError(E.INVALID_POINTER,
        'is not allocated'));
    assertEqual(pool.get_stats().reallocations, 2);
});

test('growth by slabs, then reset keeps them', () => {
    const pool = new Nebula.PoolAllocator({block_size: 32, block_count: 4, max_block_count: 22});
    const blocks = [];
    assertThrows(() => {
        for (;;)
            blocks.push(pool.allocate(32, 8));
    }, isAllocatorError(E.EXHAUSTED, '0 of 22 blocks free, grown to max-block-count'));
    assertEqual(blocks.length, 22);
    assertEqual(pool.get_n_slabs(), 4);
    pool.reset();
    assertEqual(pool.bytes_used, 0);
    assertEqual(pool.get_n_slabs(), 4);
    assertEqual(pool.owns(blocks[0]), false);
    assertEqual(pool.get_stats().resets, 1);
    for (let i = 0; i < 22; i++)
        assert(blocks.includes(pool.allocate(32, 8)), 'reused a kept slab');
});

test('presets', () => {
    const perf = new Nebula.PoolAllocator({preset: Nebula.Preset.PERFORMANCE});
    perf.allocate(8, 8);
    assertEqual(perf.check_frees, false);
    const production = new Nebula.PoolAllocator({preset: Nebula.Preset.PRODUCTION, block_count: 4});
    production.allocate(8, 8);
    assertEqual(production.max_block_count, 32);
    const explicit = new Nebula.PoolAllocator({preset: Nebula.Preset.PRODUCTION,
        block_count: 4, max_block_count: 4});
    explicit.allocate(8, 8);
    assertEqual(explicit.max_block_count, 4);
});

// A JavaScript class implementing the interface: it hands out blocks of a
// pool it wraps and records the calls it gets.
const RecordingAllocator = GObject.registerClass({
    Implements: [Nebula.Allocator],
    Properties: {
        'capacity': GObject.ParamSpec.override('capacity', Nebula.Allocator),
        'bytes-used': GObject.ParamSpec.override('bytes-used', Nebula.Allocator),
        'bytes-available': GObject.ParamSpec.override('bytes-available', Nebula.Allocator),
        'thread-safe': GObject.ParamSpec.override('thread-safe', Nebula.Allocator),
        'name': GObject.ParamSpec.override('name', Nebula.Allocator),
    },
}, class RecordingAllocator extends GObject.Object {
    _init(pool) {
        super._init();
        this.pool = pool;
        this.calls = [];
    }

    // The interface's read-only properties: C reads them (describing the
    // allocator in a message reads 'name'), so an implementation must
    // answer them.
    get name() {
        return 'recording';
    }

    get capacity() {
        return this.pool.capacity;
    }

    get bytes_used() {
        return this.pool.bytes_used;
    }

    get bytes_available() {
        return this.pool.bytes_available;
    }

    get thread_safe() {
        return false;
    }

    vfunc_alloc(size, alignment) {
        this.calls.push(`allocate ${size} ${alignment}`);
        return this.pool.allocate(size, alignment);
    }

    vfunc_dealloc(address, size, alignment) {
        this.calls.push(`deallocate ${address === this.last ? 'last' : address} ${size}`);
        return this.pool.deallocate(address, size, alignment);
    }

    vfunc_contains(address) {
        this.calls.push('owns');
        return this.pool.owns(address);
    }
});

test('a JavaScript class works where an allocator is expected', () => {
    const pool = new Nebula.PoolAllocator({block_size: 32, block_count: 2, name: 'inner'});
    const impl = new RecordingAllocator(pool);
    const allocate = (size, alignment) => Nebula.Allocator.prototype.allocate.call(impl, size, alignment);

    const a = allocate(24, 8);
    impl.last = a;
    assertEqual(a % 8, 0);
    assert(Nebula.Allocator.prototype.owns.call(impl, a), 'owns');
    allocate(0, 8);
    // The pool's error travels through JavaScript back to the caller.
    assertThrows(() => allocate(8, 8), isAllocatorError(E.EXHAUSTED,
        "Pool allocator 'inner' is exhausted: requested 8 bytes, 0 of 2 blocks free"));
    assertThrows(() => allocate(8, 3), isAllocatorError(E.INVALID_ALIGNMENT));
    assert(Nebula.Allocator.prototype.deallocate.call(impl, a, 24, 8), 'deallocate');

    assertEqual(impl.calls.join(', '),
        'allocate 24 8, owns, allocate 1 8, allocate 8 8, deallocate last 24');
    const stats = Nebula.Allocator.prototype.get_stats.call(impl);
    assertEqual(stats.allocations, 2);
    assertEqual(stats.deallocations, 1);
    assertEqual(stats.failed_allocations, 2);
    // The block of size 0 is still live, and counts as its one byte.
    assertEqual(stats.bytes_in_use, 1);
});

await run();
