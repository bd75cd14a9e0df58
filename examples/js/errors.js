// SPDX-License-Identifier: LGPL-2.1-or-later
// What a Nebula error tells you, and recovering from one.
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula?version=1';
import System from 'system';

const Code = Nebula.AllocatorError;
const domain = Nebula.allocator_error_quark();

function show(error) {
    const {message, suggestion, retryable} = Nebula.explain(error);
    print(`error: ${message}`);
    print(`  suggestion: ${suggestion}`);
    print(`  retryable: ${retryable ? 'yes' : 'no'}`);
}

function fail(why) {
    printerr(why);
    System.exit(1);
}

function handleClient(arena, size) {
    return Nebula.withContext('handle_client',
        () => Nebula.withContext('parse_request', () => arena.allocate(size, 8)));
}

// 1. An invalid configuration is refused by init().
try {
    new Nebula.BumpAllocator({capacity: 0}).init(null);
    fail('capacity 0 was accepted');
} catch (e) {
    if (!(e instanceof GLib.Error) || !e.matches(domain, Code.INVALID_CONFIG))
        throw e;
    show(e);
}

const arena = new Nebula.BumpAllocator({capacity: 4096, name: 'frames'});
arena.init(null);

// 2. Exhaustion: the message has the numbers and the call-site path.
handleClient(arena, 4032);
try {
    handleClient(arena, 128);
    fail('the arena did not run out');
} catch (e) {
    if (!(e instanceof GLib.Error) || !e.matches(domain, Code.EXHAUSTED))
        throw e;
    show(e);
    // It is retryable: free memory and try again.
    if (Nebula.error_is_retryable(e)) {
        arena.reset();
        handleClient(arena, 128);
        print('retry after reset: ok');
    }
}

// 3. A count that overflows never becomes a short block.
try {
    arena.allocate_array(2 ** 62, 8, 8, false);
    fail('the overflow was not caught');
} catch (e) {
    if (!(e instanceof GLib.Error) || !e.matches(domain, Code.SIZE_OVERFLOW))
        throw e;
    show(e);
}
