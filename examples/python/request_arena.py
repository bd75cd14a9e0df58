# SPDX-License-Identifier: LGPL-2.1-or-later
"""A request arena: each request is copied into one bump allocator, split
into lines that are memoryview slices of the arena, and released at the end
of its scope."""
import gi
gi.require_version('Nebula', '1')
from gi.repository import Nebula

REQUESTS = [
    b'GET /index.html\nHost: example.org\nAccept: text/html',
    b'POST /api/items\nHost: example.org\nContent-Type: application/json\nContent-Length: 17',
    b'GET /favicon.ico',
]


def parse_request(arena, text):
    """Returns (method, path, headers); every value is a view of the arena."""
    address = arena.allocate(len(text), alignment=1)
    buffer = arena.view(address, len(text))
    buffer[:] = text
    line_ends = [i for i, byte in enumerate(buffer) if byte == ord('\n')]
    lines, start = [], 0
    for end in line_ends + [len(buffer)]:
        lines.append(buffer[start:end])
        start = end + 1
    method, _, path = bytes(lines[0]).partition(b' ')
    headers = []
    for line in lines[1:]:
        name, _, value = bytes(line).partition(b': ')
        headers.append((name.decode(), value.decode()))
    return method.decode(), path.decode(), headers


arena = Nebula.BumpAllocator(capacity=1024, name='requests')
for text in REQUESTS:
    with arena.scope(), Nebula.context('handle_request'):
        method, path, headers = parse_request(arena, text)
        listed = ', '.join(f'{name}={value}' for name, value in headers)
        print(f'{method} {path}: {len(headers)} headers'
              f'{f" ({listed})" if headers else ""}, {arena.props.bytes_used} arena bytes')

print(f'after {len(REQUESTS)} requests: {arena.props.bytes_used} bytes in use, '
      f'{arena.get_n_chunks()} chunk, {arena.stats.allocations} allocations')
