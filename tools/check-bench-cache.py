#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs `nebula-bench --cache --quick` in JSON and CSV and checks that
every cache workload ran and passed its own checks (a hit never missed,
a deduplicated storm computed once), and that both outputs parse.

usage: check-bench-cache.py NEBULA_BENCH
"""
import csv
import io
import json
import subprocess
import sys


def run(bench, output_format):
    return subprocess.run([bench, '--cache', '--quick', '--format', output_format],
                          stdout=subprocess.PIPE, text=True, check=True).stdout


def main():
    bench = sys.argv[1]
    failures = []

    caches = json.loads(run(bench, 'json'))['caches']
    if not caches['hits'] or not caches['single_flight']:
        failures.append('no cache rows in the JSON output')
    for row in caches['hits'] + caches['single_flight']:
        if row['status'] != 'ok':
            failures.append(f'json: {row}')
    for row in caches['single_flight']:
        expected = {'deduplicate': 1, 'dedup+cancellable': 1, 'no-deduplicate': row['requests'], 'hits': 0}[row['mode']]
        if row.get('computes') != expected:
            failures.append(f'json: {row["mode"]} with {row["requests"]} requests: '
                            f'{row.get("computes")} computations, expected {expected}')

    rows = [row for row in csv.DictReader(io.StringIO(run(bench, 'csv')))
            if row['section'] == 'cache']
    if len(rows) != len(caches['hits']) + len(caches['single_flight']):
        failures.append(f'csv: {len(rows)} cache rows')
    failures += [f'csv: {row}' for row in rows if row['status'] != 'ok']

    for failure in failures:
        print(failure, file=sys.stderr)
    print(f'{len(rows)} cache rows, {len(failures)} failures')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
