// SPDX-License-Identifier: LGPL-2.1-or-later
// What the main calls cost from gjs (docs/performance.md, "From Python and
// gjs"): a 64-byte allocate + deallocate pair on a pool, a bump
// allocation, a scope around one allocation, reading 64 bytes through
// view(), and for scale an empty function call and a Uint8Array of 64
// bytes. Nanoseconds per operation (wall clock, best of ROUNDS rounds);
// run with the environment of a build tree:
//
//   GI_TYPELIB_PATH=_build/introspection LD_LIBRARY_PATH=_build/nebula \
//   GJS_PATH=bindings/js gjs -m tools/bench-script-calls.js
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula';

// NEBULA_BENCH_QUICK=1: a smoke run (the test suite's).
const QUICK = GLib.getenv('NEBULA_BENCH_QUICK') === '1';
const N = QUICK ? 200 : 20000;
const ROUNDS = QUICK ? 1 : 5;

function measure(func) {
    let best = Infinity;
    for (let r = 0; r < ROUNDS; r++) {
        const start = GLib.get_monotonic_time();
        for (let i = 0; i < N; i++)
            func();
        best = Math.min(best, GLib.get_monotonic_time() - start);
    }
    return best * 1000 / N;
}

const pool = new Nebula.PoolAllocator({block_size: 64, block_count: 64});
const bump = new Nebula.BumpAllocator({capacity: 1 << 20});
const block = pool.allocate(64, 8);
const view = pool.view(block, 64);

const rows = [
    ['empty function call', () => {}],
    ['new Uint8Array(64)', () => new Uint8Array(64)],
    ['pool allocate + deallocate (64 bytes)', () => pool.deallocate(pool.allocate(64, 8), 64, 8)],
    ['bump allocate (64 bytes)', () => {
        bump.allocate(64, 8);
        if (bump.bytes_available < 4096)
            bump.reset();
    }],
    ['bump withScope around one allocation', () => bump.withScope(b => b.allocate(64, 8))],
    ['view: read 64 bytes', () => view.read(0, 64)],
];
print(`${'gjs call'.padEnd(42)} ns per operation`);
for (const [name, func] of rows)
    print(`${name.padEnd(42)} ${measure(func).toFixed(0).padStart(10)}`);
