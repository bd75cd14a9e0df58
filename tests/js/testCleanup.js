// SPDX-License-Identifier: LGPL-2.1-or-later
// Cleanups registered on allocators (nebula-cleanup.h).
import Nebula from 'gi://Nebula';
import {withScope, withFrame} from '../../bindings/js/nebula.js';

import {test, assert, assertEqual, run} from './harness.js';

test('reset runs functions newest first, once', () => {
    const pool = new Nebula.PoolAllocator({block_size: 64, block_count: 4});
    const log = [];
    const a = pool.add_cleanup(() => log.push('a'));
    const b = pool.add_cleanup(() => log.push('b'));
    assert(b > a, 'handles rise');
    assertEqual(pool.get_n_cleanups(), 2);
    pool.reset();
    assertEqual(log.join(','), 'b,a');
    pool.reset();
    assertEqual(log.join(','), 'b,a');
});

test('remove and run by handle', () => {
    const bump = new Nebula.BumpAllocator({capacity: 1024});
    const log = [];
    const removed = bump.add_cleanup(() => log.push('removed'));
    const now = bump.add_cleanup(() => log.push('now'));
    assertEqual(bump.remove_cleanup(removed), true);
    assertEqual(bump.remove_cleanup(removed), false);
    assertEqual(bump.run_cleanup(now), true);
    bump.reset();
    assertEqual(log.join(','), 'now');
});

test('a scope and a frame run what they registered', () => {
    const bump = new Nebula.BumpAllocator({capacity: 1024});
    const log = [];
    bump.add_cleanup(() => log.push('outer'));
    withScope(bump, () => {
        bump.add_cleanup(() => log.push('inner'));
    });
    assertEqual(log.join(','), 'inner');
    const stack = new Nebula.StackAllocator({capacity: 1024});
    withFrame(stack, () => {
        stack.add_cleanup(() => log.push('frame'));
    });
    assertEqual(log.join(','), 'inner,frame');
    bump.reset();
    assertEqual(log.join(','), 'inner,frame,outer');
});

test('a cleanup registering another runs it in the same pass', () => {
    const bump = new Nebula.BumpAllocator({capacity: 1024});
    const log = [];
    bump.add_cleanup(() => {
        log.push('first');
        bump.add_cleanup(() => log.push('second'));
    });
    bump.reset();
    assertEqual(log.join(','), 'first,second');
});

await run();
