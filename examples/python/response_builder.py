# SPDX-License-Identifier: LGPL-2.1-or-later
"""Each request gets a child arena of the server's arena; the response is
built in an arena buffer, and a cleanup closes the request's log file when
the child arena is reset."""
import tempfile

import gi
gi.require_version('Nebula', '1')
from gi.repository import Nebula

REQUESTS = [
    ('GET', '/cart', ['apples', 'pears']),
    ('GET', '/empty', []),
    ('DELETE', '/cart', []),
]

REASONS = {200: 'OK', 204: 'No Content', 405: 'Method Not Allowed'}


def handle_request(server, method, path, items):
    arena = Nebula.BumpAllocator(parent=server, name='request', capacity=512,
                                 max_capacity=8192)
    log = tempfile.TemporaryFile(mode='w')
    log.write(f'{method} {path}\n')

    def close_log():
        log.close()
        print(f'  closed the log of {path}')

    arena.add_cleanup(close_log)
    try:
        body = Nebula.ArenaBuffer.new(arena, 1)
        for number, item in enumerate(items, start=1):
            body.append_string(f'<li>{number}. {item}</li>')
        status = 405 if method != 'GET' else 204 if body.get_length() == 0 else 200
        status_line = arena.strdup(f'HTTP/1.1 {status} {REASONS[status]}')
        head = arena.strjoinv('\r\n', [status_line, 'Content-Type: text/html', ''])
        text = body.finish_string()
        print(f'{method} {path} -> {status_line}, {len(head)} header bytes, body "{text}"')
    finally:
        # Runs the cleanup now, not whenever Python collects the arena.
        arena.reset()


server = Nebula.BumpAllocator(capacity=65536, name='server')
with Nebula.context('handle_request'):
    for method, path, items in REQUESTS:
        handle_request(server, method, path, items)
server.reset()
print(f'after {len(REQUESTS)} requests: {server.props.bytes_used} bytes in use '
      f"in the server's arena")
