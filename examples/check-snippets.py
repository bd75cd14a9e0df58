#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that the code in the README and the guides is copied from the
examples that meson test runs.

usage: check-snippets.py EXAMPLES_DIR MARKDOWN...

Every ```c, ```python and ```js block must be a subsequence of the lines of
one example in that language: its non-blank lines appear there in the
same order ("..." lines mark an elision). A block preceded by the line
"<!-- not from an example -->" is not checked.
"""
import os
import re
import sys

LANGUAGES = {'c': ('c', '.c'), 'python': ('python', '.py'), 'js': ('js', '.js')}
OPT_OUT = '<!-- not from an example -->'


def blocks(path):
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        match = re.match(r'^(\s*)```(\w+)\s*$', lines[i])
        if match:
            indent, language = match.groups()
            skipped = i > 0 and lines[i - 1].strip() == OPT_OUT
            start, body = i + 1, []
            i += 1
            while i < len(lines) and lines[i].strip() != '```':
                body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            if language in LANGUAGES and not skipped:
                yield language, start + 1, body
        i += 1


def is_subsequence(snippet, source):
    """Whether the snippet's lines appear in source in order ("..." and the
    lines an excerpt leaves out may lie between them)."""
    position = 0
    for line in snippet:
        if line.strip() == '...':
            continue
        while position < len(source) and source[position].rstrip() != line.rstrip():
            position += 1
        if position == len(source):
            return False
        position += 1
    return True


def main():
    examples_dir, documents = sys.argv[1], sys.argv[2:]
    sources = {}
    for language, (directory, suffix) in LANGUAGES.items():
        folder = os.path.join(examples_dir, directory)
        sources[language] = {}
        for name in sorted(os.listdir(folder)):
            if name.endswith(suffix):
                with open(os.path.join(folder, name), encoding='utf-8') as f:
                    sources[language][name] = f.read().splitlines()
    failures = 0
    checked = 0
    for document in documents:
        for language, line, body in blocks(document):
            snippet = [text for text in body if text.strip()]
            checked += 1
            if not any(is_subsequence(snippet, source)
                       for source in sources[language].values()):
                failures += 1
                print(f'{document}:{line}: this {language} block is not copied from '
                      f'examples/{LANGUAGES[language][0]}/', file=sys.stderr)
    print(f'{checked} blocks checked, {failures} not from an example')
    return 1 if failures or checked == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
