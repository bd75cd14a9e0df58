// SPDX-License-Identifier: LGPL-2.1-or-later
// Nebula's gjs override (bindings/js/overrides/Nebula.js), which gjs
// applies on `import Nebula from 'gi://Nebula'`: no module of Nebula's is
// imported here, only the namespace.
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Nebula from 'gi://Nebula';

import {test, assert, assertEqual, assertThrows, run} from './harness.js';

test('the namespace carries the conveniences', () => {
    for (const name of ['allocate', 'withScope', 'withFrame', 'withContext', 'explain', 'view',
        'cacheKey', 'getOrComputeSync', 'wrapCompute', 'getOrCompute'])
        assertEqual(typeof Nebula[name], 'function', `Nebula.${name}:`);
    assertEqual(Nebula.DEFAULT_ALIGNMENT, 8);
});

test('bump.withScope() rewinds however the function ends', () => {
    const bump = new Nebula.BumpAllocator({capacity: 1024});
    assertEqual(bump.withScope(b => {
        b.allocate(100, 8);
        assertEqual(bump.bytes_used, 100);
        return 'kept';
    }), 'kept');
    assertEqual(bump.bytes_used, 0);
    assertThrows(() => bump.withScope(b => {
        b.allocate(100, 8);
        throw new Error('boom');
    }), e => assertEqual(e.message, 'boom'));
    assertEqual(bump.bytes_used, 0);
});

test('stack.withFrame() releases its end', () => {
    const stack = new Nebula.StackAllocator({capacity: 1024});
    stack.withFrame(s => {
        s.allocate(64, 8);
        assert(stack.bytes_used >= 64, `${stack.bytes_used} bytes used inside`);
    });
    assertEqual(stack.bytes_used, 0);
});

test('allocator.view() reads and writes a live block, refuses a freed one', () => {
    const pool = new Nebula.PoolAllocator({block_size: 16, block_count: 2});
    const address = pool.allocate(16, 8);
    const view = pool.view(address, 16);
    view.write(new Uint8Array([1, 2, 3]), 2);
    assertEqual(Array.from(view.read(2, 3)).join(','), '1,2,3');
    assertThrows(() => view.read(10, 10), e => assert(e instanceof RangeError, `${e}`));
    pool.deallocate(address, 16, 8);
    assertThrows(() => pool.view(address, 16), e => assert(e.matches(Nebula.allocator_error_quark(),
        Nebula.AllocatorError.INVALID_POINTER), e.message));
});

test('cache.getOrCompute() takes plain keys and gives back a throw', () => {
    const cache = new Nebula.ComputeCache({max_entries: 4});
    const seen = [];
    const value = cache.getOrCompute(['user', 7], key => {
        seen.push(key);
        return new GObject.Object();
    });
    assertEqual(cache.getOrCompute(['user', 7], () => null), value);
    assertEqual(seen.length, 1);
    assertEqual(seen[0].join(','), 'user,7', 'the function sees the key it was given:');
    const thrown = new TypeError('not today');
    assertThrows(() => cache.getOrCompute('other', () => {
        throw thrown;
    }), e => assertEqual(e, thrown));
    assertEqual(cache.get_n_entries(), 1);
});

test('asyncCache.getOrCompute() rejects with what the function threw', async () => {
    const cache = new Nebula.AsyncComputeCache({deduplicate: true});
    const [value, outcome] = await cache.getOrCompute(42, (key, cancellable, task) =>
        Nebula.compute_task_return_object(task, new GObject.Object()));
    assert(value instanceof GObject.Object, `${value}`);
    assertEqual(outcome, Nebula.ComputeOutcome.COMPUTED);
    let caught = null;
    try {
        await cache.getOrCompute(43, () => {
            throw new Error('boom');
        });
    } catch (e) {
        caught = e;
    }
    assert(caught instanceof GLib.Error && caught.matches(Nebula.cache_error_quark(),
        Nebula.CacheError.FAILED), `${caught}`);
    assert(caught.message.includes('boom'), caught.message);
});

test('Nebula.explain() spells suggestions as a script writes them', () => {
    const pool = new Nebula.PoolAllocator({name: 'tiny', block_size: 64, block_count: 1});
    pool.allocate(64, 8);
    const e = assertThrows(() => pool.allocate(64, 8));
    const info = Nebula.explain(e);
    assertEqual(info.code, Nebula.AllocatorError.EXHAUSTED);
    assert(info.suggestion.includes('block_count:'), info.suggestion);
    assertEqual(info.allocatorName, 'tiny');
    assertEqual(`${pool}`.startsWith("[Nebula.PoolAllocator 'tiny'"), true, `${pool}:`);
});

await run();
