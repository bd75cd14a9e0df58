// SPDX-License-Identifier: LGPL-2.1-or-later
// The cost of a NebulaComputeCache hit from gjs, next to a Map lookup
// wrapped in a function of the same shape (docs/caches.md, "From Python
// and gjs: the cost of a hit").
//
// Every variant looks up one of 1,000 stored keys, in a fixed order, and
// must return the value stored for it. Nanoseconds per hit of wall-clock
// time (gjs has no CPU clock), best of ROUNDS rounds; run from the source
// tree with the build tree's typelib and library, and the source tree's
// gjs override:
//
//   GI_TYPELIB_PATH=_build-release/introspection GJS_PATH=bindings/js \
//   LD_LIBRARY_PATH=_build-release/nebula gjs -m tools/bench-cache-hit.js
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Nebula from 'gi://Nebula';

import System from 'system';

import {cacheKey, getOrComputeSync} from '../bindings/js/nebula.js';

const KEYS = 1000;
const LOOKUPS = 100000;
const ROUNDS = 5;

// What a JavaScript programmer writes: the same shape as the cache's call.
function mapGetOrCompute(map, key, func) {
    let value = map.get(key);
    if (value === undefined) {
        value = func(key);
        map.set(key, value);
    }
    return value;
}

function compute() {
    return new GObject.Object();
}

function measure(lookup, keys) {
    let best = Infinity;
    for (let round = 0; round < ROUNDS; round++) {
        const start = GLib.get_monotonic_time();
        for (let i = 0; i < LOOKUPS; i++)
            lookup(keys[i % KEYS]);
        best = Math.min(best, GLib.get_monotonic_time() - start);
    }
    return best * 1000 / LOOKUPS;
}

const order = Array.from({length: KEYS}, (_, i) => (i * 7919) % KEYS);
const values = order.map(() => new GObject.Object());
const cache = new Nebula.ComputeCache({policy: Nebula.EvictionPolicy.LRU, maxEntries: 2 * KEYS});
const map = new Map();
for (let k = 0; k < KEYS; k++) {
    cache.insert(cacheKey(k), values[k]);
    map.set(k, values[k]);
}
const variants = order.map(k => GLib.Variant.new_int64(k));

const rows = [
    ['Map, get-or-compute function', k => mapGetOrCompute(map, k, compute), order],
    ['map.get(key) (floor)', k => map.get(k), order],
    ['getOrComputeSync(cache, int, func)', k => getOrComputeSync(cache, k, compute), order],
    ['cache.get_or_compute(GLib.Variant, func)', v => cache.get_or_compute(v, compute), variants],
    ['cache.get(GLib.Variant)', v => cache.get(v), variants],
    ['cacheKey(k) alone', k => cacheKey(k), order],
];

for (const k of order.slice(0, 10)) {
    if (getOrComputeSync(cache, k, compute) !== values[k] || cache.get(GLib.Variant.new_int64(k)) !== values[k])
        throw new Error('a hit returned another value');
}

let base = null;
print(`${'hit through'.padEnd(44)} ${'ns/hit'.padStart(8)} ${'x Map'.padStart(7)}`);
for (const [name, lookup, keys] of rows) {
    System.gc();
    const ns = measure(lookup, keys);
    base ??= ns;
    print(`${name.padEnd(44)} ${ns.toFixed(0).padStart(8)} ${(ns / base).toFixed(1).padStart(7)}`);
}
if (cache.get_stats().misses !== 0)
    throw new Error('a lookup missed');
