// SPDX-License-Identifier: LGPL-2.1-or-later
// Trim and memory pressure from gjs: trim() returns the drop in the
// report's reserved, a second trim gives nothing, the pressure handlers act
// at their levels, and a JavaScript allocator's vfunc_trim is called.
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Nebula from 'gi://Nebula';

import {test, assert, assertEqual, assertThrows, run} from './harness.js';

const Level = Gio.MemoryMonitorWarningLevel;

function reserved(allocator) {
    return allocator.get_report().recursiveUnpack().reserved;
}

function checkPoolTrim(properties) {
    const pool = new Nebula.PoolAllocator({
        block_size: 32, block_count: 8, max_block_count: 64, ...properties,
    });
    const blocks = [];
    for (let i = 0; i < 64; i++)
        blocks.push(pool.allocate(32, 8));
    assertEqual(reserved(pool), 64 * 32);
    assertEqual(pool.trim(), 0);
    for (const block of blocks.slice(8))
        pool.deallocate(block, 32, 8);
    const before = reserved(pool);
    const given = pool.trim();
    assertEqual(given, 56 * 32);
    assertEqual(reserved(pool), before - given);
    assertEqual(pool.trim(), 0);
    assert(pool.owns(blocks[0]), 'a live block stays owned');
}

test('a pool gives back its empty slabs, once', () => {
    checkPoolTrim({});
});

// The freed blocks sit in this thread's magazine and the depot: the trim
// flushes them first.
test('a thread-safe pool with magazines gives back its empty slabs', () => {
    checkPoolTrim({thread_safe: true, magazine_size: 4});
});

test('a bump allocator gives back its spares', () => {
    const bump = new Nebula.BumpAllocator({capacity: 1024, max_capacity: 16384});
    bump.allocate(16, 8);
    const cp = bump.checkpoint();
    for (let i = 0; i < 30; i++)
        bump.allocate(200, 8);
    bump.restore(cp);
    const before = reserved(bump);
    const given = bump.trim();
    assert(given > 0, `given ${given}`);
    assertEqual(reserved(bump), before - given);
    assertEqual(bump.trim(), 0);
});

test('an invalid configuration throws, never crashes', () => {
    const stack = new Nebula.StackAllocator({capacity: 0});
    assertThrows(() => stack.trim(), e => {
        assert(e instanceof GLib.Error, `not a GLib.Error: ${e}`);
        assert(e.matches(Nebula.allocator_error_quark(), Nebula.AllocatorError.INVALID_CONFIG),
            e.message);
    });
});

test('pressure levels: LOW trims, MEDIUM drops retained chunks', () => {
    const bump = new Nebula.BumpAllocator({
        capacity: 1024, max_capacity: 16384, reset_policy: Nebula.ResetPolicy.KEEP_ALL,
    });
    for (let i = 0; i < 30; i++)
        bump.allocate(200, 8);
    bump.reset();
    const grown = reserved(bump);
    assertEqual(bump.handle_memory_pressure(Level.LOW), 0);
    assertEqual(bump.handle_memory_pressure(Level.MEDIUM), grown - 1024);
    assertEqual(bump.handle_memory_pressure(Level.CRITICAL), 0);
});

test('CRITICAL evicts a cache to its low-water mark', () => {
    const cache = new Nebula.ComputeCache({policy: Nebula.EvictionPolicy.LRU, max_entries: 40});
    for (let i = 0; i < 40; i++)
        cache.insert(new GLib.Variant('u', i), new GObject.Object());
    assertEqual(cache.handle_memory_pressure(Level.MEDIUM), 0);
    assertEqual(cache.handle_memory_pressure(Level.CRITICAL), 30);
    assertEqual(cache.get_n_entries(), 10);
});

const JsTrimmer = GObject.registerClass({
    GTypeName: 'TestJsTrimmer',
    Implements: [Nebula.Allocator],
}, class JsTrimmer extends GObject.Object {
    _init() {
        super._init();
        this.trims = 0;
    }

    vfunc_trim() {
        this.trims++;
        return this.trims === 1 ? 2048 : 0;
    }
});

test('a JavaScript allocator trims through vfunc_trim, and can be watched', () => {
    const trimmer = new JsTrimmer();
    Nebula.memory_pressure_watch(trimmer);
    assertEqual(Nebula.memory_pressure_notify(Level.LOW), 2048);
    Nebula.memory_pressure_unwatch(trimmer);
    assertEqual(Nebula.memory_pressure_notify(Level.LOW), 0);
    assertEqual(trimmer.trim(), 0);
    assertEqual(trimmer.trims, 2);
});

await run();
