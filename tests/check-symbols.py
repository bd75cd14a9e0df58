#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fails when the library exports a symbol the Debian symbols file does
not list, or the file lists one the library no longer exports.

usage: check-symbols.py LIBRARY SYMBOLS_FILE

dpkg-gensymbols finds the same in the package build, but only in the
packages stage at the end of `./run test`; this says it within seconds,
with the line to add. A symbol added in a release after 0.1.0 gets that
release's version in the file.
"""
import re
import subprocess
import sys


def main():
    library, symbols_file = sys.argv[1], sys.argv[2]
    nm = subprocess.run(['nm', '-D', '--defined-only', library], stdout=subprocess.PIPE,
                        text=True, check=True).stdout
    exported = {line.split()[-1] for line in nm.splitlines()
                if len(line.split()) == 3 and line.split()[1] in 'TDBR' and
                line.split()[-1].startswith('nebula_')}
    with open(symbols_file, encoding='utf-8') as f:
        listed = set(re.findall(r'^ (\w+)@Base ', f.read(), re.M))
    problems = [f'exported but not in {symbols_file}: add " {s}@Base <version>"'
                for s in sorted(exported - listed)]
    problems += [f'in {symbols_file} but no longer exported: {s} (an ABI break: say so in NEWS)'
                 for s in sorted(listed - exported)]
    for problem in problems:
        print(problem)
    print(f'{len(exported)} symbols exported, {len(problems)} differences')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
