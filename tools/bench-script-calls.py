#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the main calls cost from Python (docs/performance.md, "From Python
and gjs"): a 64-byte allocate + deallocate pair on a pool, a bump
allocation, a scope around one allocation, reading 64 bytes through
view(), and for scale an empty Python function call and a bytearray of 64
bytes. Nanoseconds per operation of the process's CPU time, best of ROUNDS
rounds; run with the environment of a build tree:

  GI_TYPELIB_PATH=_build/introspection LD_LIBRARY_PATH=_build/nebula \\
  PYTHONPATH=bindings/python /usr/bin/python3 tools/bench-script-calls.py
"""
import os
import time

import gi

gi.require_version('Nebula', '1')
from gi.repository import Nebula  # noqa: E402

# NEBULA_BENCH_QUICK=1: a smoke run (the test suite's).
QUICK = os.environ.get('NEBULA_BENCH_QUICK') == '1'
N = 200 if QUICK else 20000
ROUNDS = 1 if QUICK else 5


def measure(func):
    best = None
    for _ in range(ROUNDS):
        start = time.process_time_ns()
        for _ in range(N):
            func()
        elapsed = time.process_time_ns() - start
        best = elapsed if best is None else min(best, elapsed)
    return best / N


def main():
    pool = Nebula.PoolAllocator(block_size=64, block_count=64)
    bump = Nebula.BumpAllocator(capacity=1 << 20)
    block = pool.allocate(64, 8)
    view = pool.view(block, 64)

    def nothing():
        pass

    def pair():
        pool.deallocate(pool.allocate(64, 8), 64, 8)

    def bump_allocate():
        bump.allocate(64, 8)
        if bump.props.bytes_available < 4096:
            bump.reset()

    def scope():
        with bump.scope():
            bump.allocate(64, 8)

    rows = [
        ('empty Python function call', nothing),
        ('bytearray(64)', lambda: bytearray(64)),
        ('pool allocate + deallocate (64 bytes)', pair),
        ('bump allocate (64 bytes)', bump_allocate),
        ('bump scope around one allocation', scope),
        ('view: read 64 bytes', lambda: bytes(view[0:64])),
    ]
    print(f'{"Python call":42} ns per operation')
    for name, func in rows:
        print(f'{name:42} {measure(func):10.0f}')


if __name__ == '__main__':
    main()
