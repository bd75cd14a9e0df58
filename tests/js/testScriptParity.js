// SPDX-License-Identifier: LGPL-2.1-or-later
// gjs parity (issue 15): errors with their detail for every code a script
// can provoke, view(), plain cache keys and a readable toString().
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Nebula from 'gi://Nebula';
import {cacheKey, explain, getOrComputeSync, view} from
    '../../bindings/js/nebula.js';
import {test, assert, assertEqual, assertThrows, run} from './harness.js';

const A = Nebula.AllocatorError;
const C = Nebula.CacheError;

function poolExhausted() {
    const pool = new Nebula.PoolAllocator({block_size: 64, block_count: 1, name: 'records'});
    pool.init(null);
    pool.allocate(64, 8);
    pool.allocate(64, 8);
}

function doubleFree() {
    const pool = Nebula.PoolAllocator.new(64, 2);
    const address = pool.allocate(8, 8);
    pool.deallocate(address, 8, 8);
    pool.deallocate(address, 8, 8);
}

function outOfOrder() {
    const stack = Nebula.StackAllocator.new(1024);
    const first = stack.allocate(8, 8);
    stack.allocate(8, 8);
    stack.deallocate(first, 8, 8);
}

function staleCheckpoint() {
    const bump = Nebula.BumpAllocator.new(64);
    const checkpoint = bump.checkpoint();
    bump.reset();
    bump.allocate(8, 8);
    bump.restore(checkpoint);
}

function budgetExceeded() {
    const budget = Nebula.MemoryBudget.new('small', 100);
    const bump = new Nebula.BumpAllocator({capacity: 1024, budget});
    bump.init(null);
}

function overflowingValue() {
    const cache = new Nebula.ComputeCache({max_weight: 10});
    cache.set_weigher(() => 11);
    getOrComputeSync(cache, 'heavy', () => new GObject.Object());
}

// [domain enum, code, what provokes it, what the suggestion says in gjs's
// spelling, [requested, available, capacity] or null, retryable]
const CASES = [
    [A, A.OUT_OF_MEMORY, () => Nebula.SystemAllocator.new().allocate(2 ** 46, 8),
        'free memory elsewhere', null, true],
    [A, A.INVALID_LAYOUT, () => Nebula.PoolAllocator.new(64, 1).allocate(128, 8),
        'block_size: of at least 128', null, false],
    [A, A.INVALID_ALIGNMENT, () => Nebula.SystemAllocator.new().allocate(8, 3),
        'typed array', null, false],
    [A, A.SIZE_OVERFLOW, () => Nebula.SystemAllocator.new().allocate_array(2 ** 52, 4096, 8, false),
        'allocate_array()', null, false],
    [A, A.EXCEEDS_MAX_SIZE, () => Nebula.SystemAllocator.new().allocate(2 ** 63, 8),
        'MAX_SAFE_INTEGER', null, false],
    [A, A.EXHAUSTED, poolExhausted, 'raise block_count: or max_block_count:', [64, 0, 64], true],
    [A, A.INVALID_POINTER, () => Nebula.PoolAllocator.new(64, 1).deallocate(0x1000, 8, 8),
        'through the allocator that returned it', null, false],
    [A, A.DOUBLE_FREE, doubleFree, 'already freed', null, false],
    [A, A.OUT_OF_ORDER, outOfOrder, 'LIFO order', null, false],
    [A, A.STALE_MARKER, staleCheckpoint, 'new checkpoint', null, false],
    [A, A.BUDGET_EXCEEDED, budgetExceeded, 'raise its limit', [1024, 100, 100], true],
    [A, A.INVALID_CONFIG, () => Nebula.PoolAllocator.new(4, 1),
        'Fix the block_size: property', null, false],
    [A, A.NOT_SUPPORTED, () => Nebula.StackAllocator.new(64).allocate_high(8, 8),
        'supports this operation', null, false],
    [C, C.FAILED, () => new Nebula.ComputeCache({max_entries: 1}).get_or_compute(cacheKey('k'), () => null),
        'Check the message', null, false],
    [C, C.INVALID_KEY, () => getOrComputeSync(new Nebula.ComputeCache({max_entries: 1}),
        new GLib.Variant('av', []), () => new GObject.Object()), 'string, number, boolean', null, false],
    [C, C.OVERFLOW, overflowingValue, 'raise max_weight:', null, false],
];

// Not reachable from a script: FAILED and CORRUPTION of the allocators;
// CIRCUIT_OPEN and BUSY are asynchronous (testCache.js).
const UNREACHABLE = [[A, A.FAILED], [A, A.CORRUPTION], [C, C.CIRCUIT_OPEN], [C, C.BUSY]];

const C_ONLY = ['g_initable_new', 'nebula_', 'G_ALIGNOF', 'G_MAXSSIZE', 'g_clear_pointer', 'GVariant'];

test('every error code has a row', () => {
    const covered = new Set([...CASES, ...UNREACHABLE].map(([domain, code]) => `${domain === A}:${code}`));
    for (const domain of [A, C]) {
        for (const code of Object.values(domain).filter(v => typeof v === 'number'))
            assert(covered.has(`${domain === A}:${code}`), `code ${code} has no row`);
    }
});

for (const [domain, code, provoke, advice, numbers, retryable] of CASES) {
    test(`error ${domain === A ? 'allocator' : 'cache'} code ${code} keeps its detail`, () => {
        const error = assertThrows(provoke);
        assert(error instanceof GLib.Error, `${error}`);
        assertEqual(error.code, code, error.message);
        const detail = explain(error);
        assert(detail.suggestion.includes(advice), `"${detail.suggestion}" lacks "${advice}"`);
        for (const word of C_ONLY)
            assert(!detail.suggestion.includes(word), `"${detail.suggestion}" names ${word}`);
        assertEqual(detail.retryable, retryable, 'retryable');
        if (numbers !== null) {
            assertEqual(`${[detail.requested, detail.available, detail.capacity]}`, `${numbers}`,
                'numbers');
        }
    });
}

test('view() reads and writes a live block and refuses a freed one', () => {
    const pool = Nebula.PoolAllocator.new(64, 1);
    const address = pool.allocate_zeroed(64, 8);
    const window = view(pool, address, 16);
    window.write(new Uint8Array([1, 2, 3]), 2);
    assertEqual(Array.from(window.read(2, 4)).join(','), '1,2,3,0');
    assertThrows(() => window.read(10, 8), e => assert(e instanceof RangeError));
    assertThrows(() => view(pool, address, 65), e => assertEqual(e.code, A.INVALID_POINTER));
    pool.deallocate(address, 64, 8);
    assertThrows(() => window.read(), e => assertEqual(e.code, A.INVALID_POINTER));
    assertThrows(() => window.write(new Uint8Array([9])), e => assertEqual(e.code, A.INVALID_POINTER));
});

test('cache keys are plain values, which the function receives as passed', () => {
    const cache = new Nebula.ComputeCache({max_entries: 4});
    const seen = [];
    const compute = key => {
        seen.push(key);
        return new GObject.Object();
    };
    const first = getOrComputeSync(cache, ['user', 42], compute);
    assertEqual(getOrComputeSync(cache, ['user', 42], compute), first);
    assertEqual(JSON.stringify(seen), '[["user",42]]');
    assertThrows(() => getOrComputeSync(cache, 'k', () => {
        throw new TypeError('boom');
    }), e => assert(e instanceof TypeError && e.message === 'boom', `${e}`));
    assertEqual(cache.n_entries, 1);
});

test('allocators print readably', () => {
    const bump = new Nebula.BumpAllocator({capacity: 64, name: 'frames'});
    bump.init(null);
    bump.allocate(8, 8);
    assertEqual(`${bump}`, "[Nebula.BumpAllocator 'frames' bytes_used=8 bytes_available=56]");
});

await run();
