#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The cost of a NebulaComputeCache hit from Python, next to a dict lookup
wrapped in a function of the same shape (docs/caches.md, "From Python and
gjs: the cost of a hit").

Every variant looks up one of 1,000 stored keys, in a fixed order, and must
return the value stored for it. Nanoseconds per hit of the process's CPU
time, best of ROUNDS rounds; run with the environment of the build tree:

  GI_TYPELIB_PATH=_build-release/introspection \\
  LD_LIBRARY_PATH=_build-release/nebula \\
  PYTHONPATH=bindings/python /usr/bin/python3 tools/bench-cache-hit.py
"""
import sys
import time

import gi

gi.require_version('Nebula', '1')
from gi.repository import GLib, GObject, Nebula  # noqa: E402

KEYS = 1000
LOOKUPS = 200000
ROUNDS = 5


def dict_get_or_compute(table, key, func):
    """What a Python programmer writes: the same shape as the cache's call."""
    try:
        return table[key]
    except KeyError:
        value = table[key] = func(key)
        return value


def compute(key, *data):
    return GObject.Object()


def measure(name, lookup, keys, expected):
    best = None
    for _ in range(ROUNDS):
        start = time.process_time_ns()
        for i in range(LOOKUPS):
            lookup(keys[i % KEYS])
        elapsed = time.process_time_ns() - start
        best = elapsed if best is None else min(best, elapsed)
    for key in keys[:10]:
        if lookup(key) is not expected[key if not isinstance(key, GLib.Variant) else key.unpack()]:
            sys.exit(f'{name}: a hit returned another value')
    return best / LOOKUPS


def main():
    order = [(i * 7919) % KEYS for i in range(KEYS)]
    values = {k: GObject.Object() for k in range(KEYS)}
    cache = Nebula.ComputeCache(policy=Nebula.EvictionPolicy.LRU, max_entries=2 * KEYS)
    for k in range(KEYS):
        cache.insert(k, values[k])
    table = dict(values)
    variants = [GLib.Variant('x', k) for k in order]
    raw = Nebula.ComputeCache.get_or_compute  # the introspected function, no override

    def noop(key):
        return key

    rows = [
        ('dict, get-or-compute function', lambda k: dict_get_or_compute(table, k, compute), order),
        ('dict[key] inline (floor)', table.__getitem__, order),
        ('function call doing nothing', noop, order),
        ('cache.get_or_compute(int, func) (override)', lambda k: cache.get_or_compute(k, compute), order),
        ('cache.get(int) (override)', cache.get, order),
        ('raw get_or_compute(GLib.Variant, func)', lambda v: raw(cache, v, compute), variants),
        ('GLib.Variant("x", k) alone', lambda k: GLib.Variant('x', k), order),
    ]
    base = None
    print(f'{"hit through":44} {"ns/hit":>8} {"x dict":>7}')
    for name, lookup, keys in rows:
        if name.startswith('GLib.Variant') or name.startswith('function'):
            best = min(time_only(lookup, keys) for _ in range(ROUNDS))
        else:
            best = measure(name, lookup, keys, values)
        base = base or best
        print(f'{name:44} {best:8.0f} {best / base:7.1f}')
    stats = cache.get_stats()
    assert stats.misses == 0, stats.misses


def time_only(func, keys):
    start = time.process_time_ns()
    for i in range(LOOKUPS):
        func(keys[i % KEYS])
    return (time.process_time_ns() - start) / LOOKUPS


if __name__ == '__main__':
    main()
