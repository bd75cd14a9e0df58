#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs an example and compares what it prints with its .expected file.

usage: check-output.py EXPECTED COMMAND [ARGS...]

Fails when the command exits non-zero or its standard output differs from
EXPECTED in any line; the difference is shown as a unified diff.
"""
import difflib
import subprocess
import sys


def main():
    expected_path, command = sys.argv[1], sys.argv[2:]
    with open(expected_path, encoding='utf-8') as f:
        expected = f.read().splitlines(keepends=True)
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    actual = result.stdout.splitlines(keepends=True)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        print(f'{command[0]} exited with status {result.returncode}', file=sys.stderr)
        return 1
    if actual != expected:
        sys.stderr.writelines(difflib.unified_diff(expected, actual, expected_path, 'output'))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
