#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Turns a guide written for reading in the repository into a gi-docgen
content file.

usage: prepare-guide.py INPUT.md OUTPUT.md

The guides start with a "# Title" heading and link each other as "x.md";
gi-docgen wants a "Title:" metadata line and renders every guide as
"x.html". A guide that already starts with "Title:" is copied as is, apart
from the links.
"""
import re
import sys


def main():
    source, target = sys.argv[1], sys.argv[2]
    with open(source, encoding='utf-8') as f:
        text = f.read()
    if not text.startswith('Title:'):
        first, _, rest = text.partition('\n')
        if not first.startswith('# '):
            sys.exit(f'{source}: the first line must be "# Title" or "Title: ..."')
        text = f'Title: {first[2:].strip()}\n{rest}'
    # Links between guides: (choosing.md) and (choosing.md#pool).
    text = re.sub(r'\]\(([a-z0-9-]+)\.md(#[^)]*)?\)', r'](\1.html\2)', text)
    with open(target, 'w', encoding='utf-8') as f:
        f.write(text)


if __name__ == '__main__':
    main()
