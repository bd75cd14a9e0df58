#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs `nebula-bench --cache --quick` in JSON and CSV and checks that
every cache workload ran and passed its own checks (a hit never missed,
a deduplicated storm computed once, the LRUs of the Zipf replay scored
as the baseline), and that both outputs parse: the Zipf rows carry a
hit ratio in [0, 1], lookups per CPU second and the ratio to the
baseline row, which comes first with ratio 1; the thread rows ran; and
--trace replays a file of keys.

usage: check-bench-cache.py NEBULA_BENCH
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile


def run(bench, output_format, *extra):
    return subprocess.run([bench, '--cache', '--quick', '--format', output_format, *extra],
                          stdout=subprocess.PIPE, text=True, check=True).stdout


def check_trace(bench, failures):
    """--trace FILE replays the file's keys, with hit counts known for the
    LRU rows; a file that cannot be read is an error (exit status 2)."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, 'trace.txt')
        # 30 distinct keys, room for 3: a loop over them always misses
        # in an LRU; then "hot" 70 times in a row hits 69 times.
        lines = [f'key {i % 30}' for i in range(300)] + ['hot'] * 70
        with open(path, 'w') as trace:
            trace.write('\n'.join(lines) + '\n')
        zipf = json.loads(run(bench, 'json', '--trace', path))['caches']['zipf']
        if zipf.get('trace') is None or zipf['keys'] != 31 or zipf['requests'] != 370:
            failures.append(f'trace: {zipf.get("trace")}, {zipf["keys"]} keys, {zipf["requests"]} requests')
        for row in zipf['rows']:
            if row['status'] != 'ok':
                failures.append(f'trace: {row}')
            elif row['policy'] == 'lru' and abs(row['hit_ratio'] - 69 / 370) > 1e-6:
                failures.append(f'trace: LRU hit ratio {row["hit_ratio"]}, expected {69 / 370}')
        missing = subprocess.run([bench, '--cache', '--quick', '--trace', os.path.join(directory, 'none')],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if missing.returncode != 2 or 'none' not in missing.stderr:
            failures.append(f'trace: a missing file gave {missing.returncode}: {missing.stderr}')


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

    zipf = caches.get('zipf', {}).get('rows', [])
    policies = {'lru', 'fifo', 'lfu', 's3-fifo'}
    for api in ('int', 'pointer', 'variant'):
        found = {row['policy'] for row in zipf if row['keys'] == api}
        if found != policies:
            failures.append(f'json: zipf rows for {api}: {sorted(found)}')
    # The GVariant API's other shapes and its bound, each against the int API.
    for name in ('variant-read', 'variant-newkey', 'variant-nolock'):
        found = [row for row in zipf if row['keys'] == name]
        if len(found) != 1 or (found[0]['status'] == 'ok' and not found[0].get('ratio_to_int_api', 0) > 0):
            failures.append(f'json: zipf row {name}: {found}')
    if not zipf or zipf[0]['keys'] != 'baseline-lru':
        failures.append('json: the zipf baseline row is missing or not first')
    for row in zipf:
        if row['status'] != 'ok':
            failures.append(f'json: zipf {row}')
            continue
        if not (0 <= row['hit_ratio'] <= 1 and row['lookups_per_cpu_s'] > 0 and row['ratio_to_baseline'] > 0):
            failures.append(f'json: zipf row out of range: {row}')
    if zipf and zipf[0]['status'] == 'ok' and abs(zipf[0]['ratio_to_baseline'] - 1) > 1e-9:
        failures.append(f'json: the baseline\'s ratio is {zipf[0]["ratio_to_baseline"]}')

    rows = [row for row in csv.DictReader(io.StringIO(run(bench, 'csv')))
            if row['section'] == 'cache']
    if len(rows) != len(caches['hits']) + len(caches['single_flight']) + len(zipf):
        failures.append(f'csv: {len(rows)} cache rows')
    zipf_csv = [row for row in rows if row['workload'].startswith('zipf-')]
    if len(zipf_csv) != len(zipf):
        failures.append(f'csv: {len(zipf_csv)} zipf rows, json {len(zipf)}')
    for row in zipf_csv:
        if row['status'] == 'ok' and not (float(row['ns_per_op_min']) > 0 and float(row['x_floor']) > 0):
            failures.append(f'csv: zipf row out of range: {row}')
    failures += [f'csv: {row}' for row in rows if row['status'] != 'ok']

    threads = caches.get('zipf', {}).get('threads', [])
    if len(threads) != 6 or any(row['status'] != 'ok' or row['lookups_per_s'] <= 0 for row in threads):
        failures.append(f'json: thread rows {threads}')

    check_trace(bench, failures)

    for failure in failures:
        print(failure, file=sys.stderr)
    print(f'{len(rows)} cache rows, {len(failures)} failures')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
