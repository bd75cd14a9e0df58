#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fails on a link to a file that is not there.

usage: check-links.py SOURCE_ROOT [REFERENCE_DIR]

Checks the relative links of README.md, HACKING.md and docs/*.md against
the checkout (a guide must not point at a file the repository does not
have), and, given the built reference, every relative href and src of its
pages against the reference directory (a page must not point at a file
gi-docgen did not write or copy).
"""
import glob
import os
import re
import sys

MD_LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
HTML_LINK = re.compile(r'(?:href|src)="([^"#?]+)[^"]*"')


def is_external(target):
    return re.match(r'[a-z][a-z0-9+.-]*:', target) is not None or target.startswith('//')


def check_markdown(root, problems):
    pages = [os.path.join(root, name) for name in ('README.md', 'HACKING.md', 'NEWS.md')]
    pages += sorted(glob.glob(os.path.join(root, 'docs', '*.md')))
    for page in pages:
        if not os.path.exists(page):
            continue
        with open(page, encoding='utf-8') as f:
            text = f.read()
        # Code blocks hold C and shell, not links.
        text = re.sub(r'```.*?```', '', text, flags=re.S)
        for target in MD_LINK.findall(text):
            path = target.split('#', 1)[0]
            if not path or is_external(path):
                continue
            if not os.path.exists(os.path.normpath(os.path.join(os.path.dirname(page), path))):
                problems.append(f'{os.path.relpath(page, root)}: no such file: {target}')


def check_reference(reference, problems):
    pages = sorted(glob.glob(os.path.join(reference, '*.html')))
    if not pages:
        problems.append(f'{reference}: no pages')
    for page in pages:
        with open(page, encoding='utf-8') as f:
            text = f.read()
        for target in set(HTML_LINK.findall(text)):
            if is_external(target) or target.startswith('javascript'):
                continue
            if not os.path.exists(os.path.normpath(os.path.join(reference, target))):
                problems.append(f'{os.path.basename(page)}: no such file: {target}')


def main():
    problems = []
    check_markdown(sys.argv[1], problems)
    if len(sys.argv) > 2:
        check_reference(sys.argv[2], problems)
    for problem in problems:
        print(problem)
    print(f'{len(problems)} broken links')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
