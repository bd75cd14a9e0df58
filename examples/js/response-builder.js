// SPDX-License-Identifier: LGPL-2.1-or-later
// Each request gets a child arena of the server's arena; the response is
// built in an arena buffer, and a cleanup closes the request's log file
// when the child arena is reset (as examples/c/response-builder.c does).
import Gio from 'gi://Gio';
import Nebula from 'gi://Nebula?version=1';

import {withContext} from '../../bindings/js/nebula.js';

const REQUESTS = [
    ['GET', '/cart', ['apples', 'pears']],
    ['GET', '/empty', []],
    ['DELETE', '/cart', []],
];
const REASONS = {200: 'OK', 204: 'No Content', 405: 'Method Not Allowed'};

function handleRequest(server, method, path, items) {
    const arena = new Nebula.BumpAllocator({
        parent: server, name: 'request', capacity: 512, max_capacity: 8192,
    });
    const [file, stream] = Gio.File.new_tmp(null);
    stream.get_output_stream().write_all(new TextEncoder().encode(`${method} ${path}\n`), null);
    arena.add_cleanup(() => {
        stream.close(null);
        file.delete(null);
        print(`  closed the log of ${path}`);
    });
    try {
        const body = Nebula.ArenaBuffer.new(arena, 1);
        items.forEach((item, i) => body.append_string(`<li>${i + 1}. ${item}</li>`));
        let status = 200;
        if (method !== 'GET')
            status = 405;
        else if (body.get_length() === 0)
            status = 204;
        const statusLine = arena.strdup(`HTTP/1.1 ${status} ${REASONS[status]}`);
        const head = arena.strjoinv('\r\n', [statusLine, 'Content-Type: text/html', '']);
        const text = body.finish_string();
        print(`${method} ${path} -> ${statusLine}, ${head.length} header bytes, body "${text}"`);
    } finally {
        // Runs the cleanup now: gjs cannot run it while its collector
        // finalizes the arena.
        arena.reset();
    }
}

const server = new Nebula.BumpAllocator({capacity: 65536, name: 'server'});
withContext('handle_request', () => {
    for (const [method, path, items] of REQUESTS)
        handleRequest(server, method, path, items);
});
server.reset();
print(`after ${REQUESTS.length} requests: ${server.bytes_used} bytes in use in the server's arena`);
