// SPDX-License-Identifier: LGPL-2.1-or-later
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula';

import {test, assert, assertEqual, assertThrows, run} from './harness.js';

const HEADER = 24; // bytes below every block

function isAllocatorError(code) {
    return e => {
        assert(e instanceof GLib.Error, `not a GLib.Error: ${e}`);
        assert(e.matches(Nebula.allocator_error_quark(), code),
            `expected code ${code}, got ${e.code}: ${e.message}`);
    };
}

test('blocks are aligned and popped in LIFO order', () => {
    const stack = new Nebula.StackAllocator({capacity: 4096, name: 'scratch'});
    stack.init(null);
    const a = stack.allocate(32, 8);
    const b = stack.allocate(24, 64);
    assertEqual(a % 8, 0);
    assertEqual(b % 64, 0);
    assert(stack.owns(a) && stack.owns(b), 'owned');
    const used = stack.bytes_used;
    const e = assertThrows(() => stack.deallocate(a, 32, 8),
        isAllocatorError(Nebula.AllocatorError.OUT_OF_ORDER));
    assert(e.message.includes('not the top of the low end'), e.message);
    assertEqual(stack.bytes_used, used);
    assertThrows(() => stack.deallocate(4096, 8, 8),
        isAllocatorError(Nebula.AllocatorError.INVALID_POINTER));
    assertThrows(() => stack.deallocate(b, 23, 64),
        isAllocatorError(Nebula.AllocatorError.INVALID_LAYOUT));
    stack.deallocate(b, 24, 64);
    stack.deallocate(a, 32, 8);
    assertEqual(stack.bytes_used, 0);
});

test('invalid config without init gives INVALID_CONFIG and never crashes', () => {
    const stack = new Nebula.StackAllocator({
        capacity: 1024, max_capacity: 4096, double_ended: true,
    });
    const check = isAllocatorError(Nebula.AllocatorError.INVALID_CONFIG);
    assertThrows(() => stack.allocate(8, 8), check);
    assertThrows(() => stack.allocate_high(8, 8), check);
    assertThrows(() => stack.deallocate(4096, 8, 8), check);
    assertThrows(() => stack.deallocate_high(4096, 8), check);
    assertThrows(() => stack.reallocate(4096, 8, 16, 8), check);
    assertThrows(() => stack.release_to_marker(stack.mark()), check);
    assertEqual(stack.owns(4096), false);
    stack.reset();
    const e = assertThrows(() => stack.init(null), check);
    assert(e.message.includes("'double-ended'"), e.message);
    assert(e.message.includes('cannot meet across chunks'), e.message);

    for (const [props, name] of [[{capacity: 0}, 'capacity'],
        [{capacity: 1024, max_capacity: 10}, 'max-capacity'],
        [{alloc_fill: 256}, 'alloc-fill'],
        [{free_fill: -2}, 'free-fill']]) {
        const bad = new Nebula.StackAllocator(props);
        const err = assertThrows(() => bad.init(null), check);
        assert(err.message.includes(`'${name}'`), err.message);
    }
});

test('thread-safe is refused with a suggestion: one stack per thread', () => {
    const check = isAllocatorError(Nebula.AllocatorError.INVALID_CONFIG);
    for (const preset of [Nebula.Preset.DEFAULT, Nebula.Preset.DEBUG,
        Nebula.Preset.PERFORMANCE, Nebula.Preset.PRODUCTION]) {
        const stack = new Nebula.StackAllocator({capacity: 4096, thread_safe: true, preset});
        const e = assertThrows(() => stack.init(null), check);
        assert(e.message.includes("'thread-safe' cannot be TRUE: a stack shared by threads " +
            'has no sound last-in, first-out order'), e.message);
        const suggestion = Nebula.error_get_suggestion(e);
        assert(suggestion.includes('one NebulaStackAllocator per thread'), suggestion);
        assert(suggestion.includes('GPrivate'), suggestion);
        // A first call without init says the same.
        assertThrows(() => stack.allocate(8, 8), check);
        const plain = new Nebula.StackAllocator({capacity: 4096, preset});
        plain.init(null);
        assertEqual(plain.get_thread_safe(), false);
    }
});

test('exhaustion message carries the numbers', () => {
    const stack = Nebula.StackAllocator.new(4096);
    stack.allocate(4000, 8);
    const e = assertThrows(() => stack.allocate(128, 8),
        isAllocatorError(Nebula.AllocatorError.EXHAUSTED));
    assert(e.message.includes('requested 128 bytes, 72 of 4096 available'), e.message);
    assert(Nebula.error_is_retryable(e), 'retryable');
});

test('markers release and go stale', () => {
    const stack = Nebula.StackAllocator.new(4096);
    const other = Nebula.StackAllocator.new(4096);
    const bottom = stack.mark();
    stack.allocate(100, 8);
    const marker = stack.mark();
    assertEqual(marker.get_position(), HEADER + 100);
    stack.allocate(200, 8);
    stack.release_to_marker(marker);
    assertEqual(stack.bytes_used, HEADER + 100);
    assertEqual(stack.get_stats().deallocations, 1);
    const stale = isAllocatorError(Nebula.AllocatorError.STALE_MARKER);
    stack.release_to_marker(bottom);
    let e = assertThrows(() => stack.release_to_marker(marker), stale);
    assert(e.message.includes('above the top'), e.message);
    assertThrows(() => stack.release_to_marker(other.mark()), stale);
    stack.reset();
    e = assertThrows(() => stack.release_to_marker(bottom), stale);
    assert(e.message.includes('before a reset'), e.message);
});

test('growth, realloc of the top, reset', () => {
    const stack = new Nebula.StackAllocator({capacity: 1024, max_capacity: 8192});
    const addresses = [];
    assertThrows(() => {
        for (;;)
            addresses.push(stack.allocate(100, 8));
    }, isAllocatorError(Nebula.AllocatorError.EXHAUSTED));
    assert(stack.get_n_chunks() >= 3, `${stack.get_n_chunks()} chunks`);
    const top = addresses.pop();
    assertEqual(stack.reallocate(top, 100, 50, 8), top);
    stack.deallocate(top, 50, 8);
    stack.reset();
    assertEqual(stack.get_n_chunks(), 1);
    assertEqual(stack.bytes_used, 0);
});

test('double-ended: the ends meet', () => {
    const stack = new Nebula.StackAllocator({capacity: 4096, double_ended: true});
    const level = stack.allocate(2976, 8);
    const frameMarker = stack.mark_high();
    assert(frameMarker.is_high(), 'high marker');
    const frame = stack.allocate_high(976, 8);
    assert(frame > level, 'high end above low end');
    assertEqual(stack.bytes_used, 4000);
    const e = assertThrows(() => stack.allocate(200, 8),
        isAllocatorError(Nebula.AllocatorError.EXHAUSTED));
    assert(e.message.includes('low end 3000 bytes, high end 1000 bytes of 4096'), e.message);
    assertThrows(() => stack.deallocate_high(level, 2976),
        isAllocatorError(Nebula.AllocatorError.INVALID_POINTER));
    stack.release_to_marker(frameMarker);
    assertEqual(stack.bytes_used, 3000);
    const h = stack.allocate_high(16, 16);
    assertEqual(h % 16, 0);
    stack.deallocate_high(h, 16);
    assertEqual(stack.bytes_used, 3000);

    const single = Nebula.StackAllocator.new(1024);
    assertThrows(() => single.allocate_high(8, 8),
        isAllocatorError(Nebula.AllocatorError.NOT_SUPPORTED));
});

await run();
