// SPDX-License-Identifier: LGPL-2.1-or-later
// A request arena: for each request, reserve the memory a native parser
// needs (the same blocks as examples/c/request-arena.c) from one bump
// allocator, and release all of it when the request is done.
import Nebula from 'gi://Nebula?version=1';

const REQUESTS = [
    'GET /index.html\nHost: example.org\nAccept: text/html',
    'POST /api/items\nHost: example.org\nContent-Type: application/json\nContent-Length: 17',
    'GET /favicon.ico',
];
const REQUEST_SIZE = 32;   // struct { char *method, *path; Header *headers; guint n; }
const HEADER_SIZE = 16;    // struct { char *name, *value; }
const encoder = new TextEncoder();

function reserveString(arena, text) {
    return arena.allocate(encoder.encode(text).length + 1, 1);
}

function parseRequest(arena, text) {
    const [requestLine, ...headerLines] = text.split('\n');
    arena.allocate_zeroed(REQUEST_SIZE, 8);
    const [method, path] = requestLine.split(' ');
    reserveString(arena, method);
    reserveString(arena, path);
    arena.allocate_array(headerLines.length, HEADER_SIZE, 8, false);
    const headers = headerLines.map(line => {
        const [name, value] = line.split(': ');
        reserveString(arena, name);
        reserveString(arena, value);
        return [name, value];
    });
    return {method, path, headers};
}

const arena = new Nebula.BumpAllocator({capacity: 1024, name: 'requests'});
arena.init(null);

for (const text of REQUESTS) {
    arena.withScope(() => Nebula.withContext('handle_request', () => {
        const {method, path, headers} = parseRequest(arena, text);
        const listed = headers.map(([name, value]) => `${name}=${value}`).join(', ');
        print(`${method} ${path}: ${headers.length} headers` +
              `${headers.length ? ` (${listed})` : ''}, ${arena.bytes_used} arena bytes`);
    }));
}

print(`after ${REQUESTS.length} requests: ${arena.bytes_used} bytes in use, ` +
      `${arena.get_n_chunks()} chunk, ${arena.get_stats().allocations} allocations`);
