# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a Nebula error tells you, and recovering from one."""
import sys

import gi
gi.require_version('Nebula', '1')
from gi.repository import GLib, Nebula

Code = Nebula.AllocatorError


def show(error):
    print(f'error: {error.message}')
    print(f'  suggestion: {error.suggestion}')
    print(f'  retryable: {"yes" if error.retryable else "no"}')


def handle_client(arena, size):
    with Nebula.context('handle_client'), Nebula.context('parse_request'):
        return arena.allocate(size)


# 1. An invalid configuration is refused at construction.
try:
    Nebula.BumpAllocator(capacity=0)
    sys.exit('capacity=0 was accepted')
except GLib.Error as e:
    assert e.matches(Nebula.allocator_error_quark(), Code.INVALID_CONFIG)
    show(e)

arena = Nebula.BumpAllocator(capacity=4096, name='frames')

# 2. Exhaustion: the message has the numbers and the call-site path.
handle_client(arena, 4032)
try:
    handle_client(arena, 128)
    sys.exit('the arena did not run out')
except GLib.Error as e:
    assert e.matches(Nebula.allocator_error_quark(), Code.EXHAUSTED)
    show(e)
    # It is retryable: free memory and try again.
    if e.retryable:
        arena.reset()
        handle_client(arena, 128)
        print('retry after reset: ok')

# 3. A count that overflows never becomes a short block.
try:
    arena.allocate_array(2**62 - 1, 8)
    sys.exit('the overflow was not caught')
except GLib.Error as e:
    assert e.matches(Nebula.allocator_error_quark(), Code.SIZE_OVERFLOW)
    show(e)
