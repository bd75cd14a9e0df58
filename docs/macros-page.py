#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the reference's "C macros" page from the doc comments of the
public headers.

usage: macros-page.py OUTPUT.md HEADER...

gi-docgen documents the symbols in the GIR, and leaves out some macros a C
programmer needs: the scanner cannot parse NEBULA_DEFINE_FIXED_POOL, and
gi-docgen takes NEBULA_BUMP_SCOPE, NEBULA_STACK_FRAME and NEBULA_IS_* for
GObject cast and type-check macros. This page shows every public
function-like macro with the text of its doc comment. A public macro
without a doc comment is an error, so none can be left out.
"""
import re
import sys

DEFINE = re.compile(r'^#\s*define\s+([A-Za-z][A-Za-z0-9_]*)\(([^)]*)\)', re.M)
COMMENT = re.compile(r'/\*\*\n \* ([A-Za-z0-9_]+):[^\n]*\n(.*?)\*/', re.S)


def to_markdown(body):
    lines = [re.sub(r'^ ?\* ?', '', line, count=1) for line in body.splitlines()]
    params, text, in_params = [], [], True
    for line in lines:
        match = re.match(r'@(\w+): (.*)', line)
        if in_params and match:
            params.append([match.group(1), match.group(2)])
        elif in_params and params and line.startswith('  ') and line.strip():
            params[-1][1] += ' ' + line.strip()
        else:
            in_params = in_params and not line.strip() and not text
            text.append(line)
    prose = '\n'.join(text).strip()
    prose = re.sub(r'\|\[(<!-- language="C" -->)?', '```c', prose)
    prose = prose.replace(']|', '```')

    def inline(s):
        s = re.sub(r'@(\w+)', r'`\1`', s)
        s = re.sub(r'%(\w+)', r'`\1`', s)
        s = re.sub(r'#(Nebula\w+|G\w+)', r'`\1`', s)
        return s

    # Leave code blocks alone.
    parts = prose.split('```')
    prose = '```'.join(inline(p) if i % 2 == 0 else p for i, p in enumerate(parts))
    return [(name, inline(desc)) for name, desc in params], prose


def main():
    output, headers = sys.argv[1], sys.argv[2:]
    sections, missing = [], []
    for header in sorted(headers):
        with open(header, encoding='utf-8') as f:
            source = f.read()
        docs = {m.group(1): m.group(2) for m in COMMENT.finditer(source)}
        seen = set()
        for match in DEFINE.finditer(source):
            name, args = match.group(1), match.group(2)
            if name in seen:        # defined once per #if branch
                continue
            seen.add(name)
            if name not in docs:
                missing.append(f'{header}: {name}')
                continue
            params, prose = to_markdown(docs[name])
            section = [f'## {name}', '', f'```c\n{name} ({", ".join(a.strip() for a in args.split(","))})\n```', '']
            section += [f'- `{p}`: {d}' for p, d in params]
            section += ['', prose, '']
            sections.append((name, '\n'.join(section)))
    if missing:
        sys.exit('public macros without a doc comment:\n  ' + '\n  '.join(missing))
    sections.sort()
    with open(output, 'w', encoding='utf-8') as f:
        f.write('Title: C macros\n\n')
        f.write('The function-like macros of the C API, from `<nebula.h>`. They are not\n'
                'introspectable: Python and gjs have the functions they expand to, and\n'
                'their own helpers (`with bump.scope():`, `withScope()`).\n\n')
        f.write('\n'.join(text for _, text in sections))


if __name__ == '__main__':
    main()
