// SPDX-License-Identifier: LGPL-2.1-or-later
// Growable buffers in allocators (nebula-arena-buffer.h).
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula';
import {withScope} from '../../bindings/js/nebula.js';

import {test, assert, assertEqual, assertThrows, run} from './harness.js';

function isAllocatorError(code) {
    return e => {
        assert(e instanceof GLib.Error, `not a GLib.Error: ${e}`);
        assert(e.matches(Nebula.allocator_error_quark(), code),
            `expected code ${code}, got ${e.code}: ${e.message}`);
    };
}

test('build text and finish it as a string', () => {
    const bump = new Nebula.BumpAllocator({capacity: 1 << 16});
    const buffer = Nebula.ArenaBuffer.new(bump, 1);
    for (let i = 0; i < 100; i++)
        buffer.append_string(`<li>${i}</li>`);
    const text = buffer.finish_string();
    assert(text.startsWith('<li>0</li>'), text.slice(0, 20));
    assert(text.endsWith('<li>99</li>'), text.slice(-20));
    assertEqual(bump.bytes_used, text.length + 1);
});

test('finish as an address and as bytes', () => {
    const bump = new Nebula.BumpAllocator({capacity: 4096});
    const buffer = Nebula.ArenaBuffer.new(bump, 8);
    buffer.append(new Uint8Array([1, 2, 3]));
    const [address, length] = buffer.finish();
    assertEqual(length, 3);
    assertEqual(bump.read_address(address, 3).toArray().join(','), '1,2,3');
    buffer.append_string('xyz');
    assertEqual(buffer.finish_bytes().get_size(), 3);
});

test('a scope releases the block; the buffer says so and starts again', () => {
    const bump = new Nebula.BumpAllocator({capacity: 4096});
    const buffer = Nebula.ArenaBuffer.new(bump, 1);
    withScope(bump, () => buffer.append_string('inside'));
    assertThrows(() => buffer.append_string('after'),
        isAllocatorError(Nebula.AllocatorError.INVALID_POINTER));
    buffer.append_string('again');
    assertEqual(buffer.finish_string(), 'again');
    assertThrows(() => Nebula.ArenaBuffer.new(bump, 3),
        isAllocatorError(Nebula.AllocatorError.INVALID_ALIGNMENT));
});

await run();
