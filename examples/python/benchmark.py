#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compare Nebula's allocators from Python; the measuring loop runs in C.

    python3 examples/python/benchmark.py [--quick]
"""
import sys

import gi

gi.require_version('Nebula', '1')
from gi.repository import Nebula  # noqa: E402


def allocators():
    """Bump, System, and Pool and Stack when this build of Nebula has them."""
    found = [('bump', Nebula.BumpAllocator()),
             ('system', Nebula.SystemAllocator())]
    for name in ('PoolAllocator', 'StackAllocator'):
        cls = getattr(Nebula, name, None)
        if cls is not None:
            found.append((name[:-len('Allocator')].lower(), cls()))
    return found


def main():
    quick = '--quick' in sys.argv
    workloads = [Nebula.Workload.SMALL_MIXED, Nebula.Workload.FIXED_64,
                 Nebula.Workload.LIFO_FRAMES, Nebula.Workload.REQUEST_RESPONSE,
                 Nebula.Workload.MIXED_LIFETIMES]
    rows = allocators()

    print(f"{'ns/op (best round)':<20}" + ''.join(f'{name:>12}' for name, _ in rows))
    for workload in workloads:
        bench = Nebula.Benchmark.new(workload)
        bench.props.iterations = 5000 if quick else 300000
        bench.props.rounds = 2 if quick else 11
        cells = []
        for _, allocator in rows:
            try:
                cells.append(f'{bench.run(allocator).ns_per_op_min:12.2f}')
            except Exception as error:  # a pool too small, a stack and out-of-order frees
                cells.append(f"{'n/a':>12}")
                print(f'  {workload.value_nick}: {error}', file=sys.stderr)
        print(f'{workload.value_nick:<20}' + ''.join(cells))


if __name__ == '__main__':
    main()
