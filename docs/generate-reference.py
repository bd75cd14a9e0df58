#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs gi-docgen, then takes out of the index the rows gi-docgen prints
for links the project does not have.

usage: generate-reference.py OUTPUT_DIR GI_DOCGEN ARGS...

gi-docgen's basic theme prints a Website and a Source row on the index
page whether or not the configuration names them; empty, they read as
broken links.
"""
import os
import re
import subprocess
import sys


def main():
    output_dir, command = sys.argv[1], sys.argv[2:]
    result = subprocess.run(command)
    if result.returncode != 0:
        return result.returncode
    index = os.path.join(output_dir, 'index.html')
    with open(index, encoding='utf-8') as f:
        page = f.read()
    page, n = re.subn(r'\s*<tr><td><em>\w+</em></td><td><a href="" class="external"></a></td></tr>',
                      '', page)
    with open(index, 'w', encoding='utf-8') as f:
        f.write(page)
    return 0


if __name__ == '__main__':
    sys.exit(main())
