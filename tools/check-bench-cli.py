#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks nebula-bench's command line as a user meets it: a name that is
not an allocator or a workload is an error (exit 2) that lists the valid
names; --help and --list name every allocator the report can print; a
filtered run reports only what it selected, with no raw block addresses.

usage: check-bench-cli.py NEBULA_BENCH
"""
import json
import re
import subprocess
import sys


def run(bench, *args):
    return subprocess.run([bench, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=120)


def main():
    bench = sys.argv[1]
    failures = []

    def expect(condition, what):
        if not condition:
            failures.append(what)

    listing = run(bench, '--list')
    expect(listing.returncode == 0, f'--list exit {listing.returncode}')
    section = None
    allocators, workloads = [], []
    for line in listing.stdout.splitlines():
        if line.endswith(':'):
            section = line[:-1]
        elif line.startswith('  '):
            (allocators if section == 'allocators' else workloads).append(line.split()[0])
    expect('bump' in allocators and 'pool-ts' in allocators and 'malloc' in allocators,
           f'--list allocators: {allocators}')
    expect('fixed-64' in workloads, f'--list workloads: {workloads}')

    helptext = run(bench, '--help').stdout
    for name in allocators + workloads:
        expect(re.search(r'\b%s\b' % re.escape(name), helptext), f'--help does not name {name}')

    for args, bad in ((['-a', 'nosuch'], 'nosuch'), (['-w', 'fixed-64,nosuch'], 'nosuch'),
                      (['--allocator=bump,'], "''"), (['surplus'], 'surplus')):
        result = run(bench, '--quick', *args)
        expect(result.returncode == 2, f'{args}: exit {result.returncode}, not 2')
        expect(result.stdout == '', f'{args}: measured something: {result.stdout[:200]!r}')
        expect(bad.strip("'") in result.stderr, f'{args}: stderr does not name it: {result.stderr!r}')
        if args[0] in ('-a', '-w'):
            names = allocators if args[0] == '-a' else workloads
            expect(all(n in result.stderr for n in names), f'{args}: stderr does not list the names')

    # A stack cannot run fixed-64 (it frees out of LIFO order): the row
    # says why, without a block address.
    result = run(bench, '--quick', '-a', 'bump,stack,malloc', '-w', 'fixed-64,lifo-frames')
    expect(result.returncode == 0, f'filtered run: exit {result.returncode}: {result.stderr}')
    table = result.stdout
    expect('not selected' not in table, 'filtered run lists unselected allocators')
    expect(not re.search(r'0x[0-9a-f]{6,}', table), 'filtered run prints a raw address')
    expect(re.search(r'^stack\s+n/a', table, re.M) and 'does not apply' in table,
           'stack on fixed-64 is not explained')
    expect(re.search(r'^talloc-pool', table, re.M) is None, 'unselected peer in the table')
    expect('goals met' in table and 'not measured' in table, 'targets have no summary line')
    expect('nebula-bench: bump' in result.stderr, f'no progress on stderr: {result.stderr!r}')
    # Reserved and in-use bytes after the run and after a trim, per Nebula
    # allocator that ran (stack only ran lifo-frames).
    expect(re.search(r'^allocator\s+runs\s+reserved\s+in use\s+after trim\s+given back$',
                     table, re.M), 'no memory section after the run')
    expect(re.search(r'^bump\s+2\s+\d+\s+\d+\s+\d+\s+\d+$', table, re.M),
           'no memory row for bump')
    expect(re.search(r'^stack\s+1\s+\d+\s+\d+\s+\d+\s+\d+$', table, re.M),
           'no memory row for stack')

    # The bumpalo goals (issue 18): the inline path by default and without
    # statistics against bumpalo on request-arena, measured when bumpalo
    # was built, else counted as not measured.
    listing = run(bench, '--list').stdout
    result = run(bench, '--quick', '--no-simd', '-a', 'bumpalo,bump-inline,bump-nostats',
                 '-w', 'request-arena')
    expect(result.returncode == 0, f'bumpalo run: exit {result.returncode}: {result.stderr}')
    if re.search(r'^\s*bumpalo\s.*not found', listing, re.M):
        expect('bumpalo (request-arena)' not in result.stdout and 'not measured' in result.stdout,
               'bumpalo goals without bumpalo are not counted as not measured')
    else:
        for goal, limit in (('bump-inline / bumpalo (request-arena)', '1.15'),
                            ('bump-nostats / bumpalo (request-arena)', '1.00')):
            expect(re.search(r'^  %s\s+\d+\.\d\d  \(<= %s\) (met|MISSED)$'
                             % (re.escape(goal), re.escape(limit)), result.stdout, re.M),
                   f'no target line for {goal}: {result.stdout}')

    # With two threads the pool row is one thread-safe pool the threads
    # share: the one-thread goals are not measured there, the larson goals
    # (one and two threads) and the two-thread pool goals are.
    result = run(bench, '--quick', '--no-simd', '-t', '2', '-a', 'pool,pool-ts,multipool,malloc',
                 '-w', 'fixed-64,larson')
    expect(result.returncode == 0, f'two-thread run: exit {result.returncode}: {result.stderr}')
    expect('one thread (fixed-64)' not in result.stdout and 'pool interface' not in result.stdout,
           f'one-thread goals read in a two-thread run: {result.stdout}')
    expect(re.search(r'^  malloc / multipool, speed-up \(larson\)\s+\d+\.\d\d', result.stdout, re.M),
           f'no larson goal in the two-thread run: {result.stdout}')
    expect(re.search(r'^  thread-safe pool / malloc, two threads \(fixed-64\)\s+\d+\.\d\d', result.stdout,
                     re.M), f'no two-thread pool goal in the two-thread run: {result.stdout}')
    result = run(bench, '--quick', '--no-simd', '-a', 'pool-ts,malloc', '-w', 'fixed-64')
    expect('two threads (fixed-64)' not in result.stdout,
           f'a two-thread goal read in a one-thread run: {result.stdout}')

    # The two-thread bump goal: one thread-safe bump the threads share
    # against a plain bump per thread, both reset once per round (also with
    # three threads, whose rounds reset the same way).
    result = run(bench, '--quick', '--no-simd', '-t', '2', '-a', 'bump-own,bump-shared',
                 '-w', 'fixed-64,small-mixed')
    expect(result.returncode == 0, f'two-thread bump run: exit {result.returncode}: {result.stderr}')
    for row in ('bump-own', 'bump-shared'):
        expect(re.search(r'^%s\s+\d+\.\d+\s+\d+\.\d+' % row, result.stdout, re.M),
               f'no {row} figures: {result.stdout}')
    expect(re.search(r'^  thread-safe bump / bump, two threads \(geometric mean\)\s+\d+\.\d\d  '
                     r'\(<= 1\.30\)', result.stdout, re.M),
           f'no two-thread bump goal in the two-thread run: {result.stdout}')
    result = run(bench, '--quick', '--no-simd', '-t', '3', '-a', 'bump-own,bump-shared',
                 '-w', 'fixed-64')
    expect(result.returncode == 0 and re.search(r'^bump-shared\s+\d+\.\d+', result.stdout, re.M)
           and 'thread-safe bump / bump' not in result.stdout,
           f'three-thread bump run: {result.stdout} {result.stderr}')

    # producer-consumer pairs the threads: only when named, an even
    # --threads, and n/a where a block cannot be freed on another thread.
    result = run(bench, '--quick', '-t', '2', '-a', 'bump,pool-ts,floor-inline,malloc',
                 '-w', 'producer-consumer')
    expect(result.returncode == 0, f'producer-consumer: exit {result.returncode}: {result.stderr}')
    table = result.stdout
    expect(re.search(r'^pool-ts\s+\d+\.\d+', table, re.M), f'no pool-ts figure: {table}')
    expect(re.search(r'^malloc\s+\d+\.\d+', table, re.M), f'no malloc figure: {table}')
    expect(re.search(r'^bump\s+n/a', table, re.M) and 'a bump allocator frees nothing' in table,
           'bump on producer-consumer is not explained')
    expect(re.search(r'^floor-inline\s+n/a', table, re.M), 'floor ran producer-consumer')
    result = run(bench, '--quick', '-a', 'malloc', '-w', 'producer-consumer')
    expect(re.search(r'^malloc\s+n/a', result.stdout, re.M) and 'even number' in result.stdout,
           'producer-consumer with one thread is not explained')
    result = run(bench, '--quick', '-a', 'malloc', '--no-simd')
    expect(result.returncode == 0 and 'producer-consumer' not in result.stdout,
           'producer-consumer ran without being named')

    quiet = run(bench, '--quick', '--quiet', '-a', 'bump', '-w', 'fixed-64', '--format', 'json')
    expect(quiet.returncode == 0 and quiet.stderr == '', f'--quiet: {quiet.stderr!r}')
    rows = json.loads(quiet.stdout)['results']
    expect([r['allocator'] for r in rows] == ['bump'], f'json rows: {rows}')

    for failure in failures:
        print(f'FAIL: {failure}')
    print(f'{len(failures) == 0 and "ok" or "failed"}: nebula-bench command line')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
