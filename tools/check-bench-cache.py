#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs `nebula-bench --cache --quick` in JSON and CSV and checks that
every cache workload ran and passed its own checks (a hit never missed,
a deduplicated storm computed once, the LRUs of the Zipf replay scored
as the baseline), and that both outputs parse: the Zipf rows carry a
hit ratio in [0, 1], lookups per CPU second and the ratio to the
baseline row, which comes first with ratio 1.

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

    zipf = caches.get('zipf', {}).get('rows', [])
    policies = {'lru', 'fifo', 'lfu', 's3-fifo'}
    for api in ('pointer', 'variant'):
        found = {row['policy'] for row in zipf if row['keys'] == api}
        if found != policies:
            failures.append(f'json: zipf rows for {api}: {sorted(found)}')
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

    for failure in failures:
        print(failure, file=sys.stderr)
    print(f'{len(rows)} cache rows, {len(failures)} failures')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
