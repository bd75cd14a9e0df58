# SPDX-License-Identifier: LGPL-2.1-or-later
"""Per-frame scratch memory on stack allocators.

1. A stack for one frame's temporaries: ``with stack.frame():`` releases
   all of them when the frame ends, and a marker releases a buffer that is
   only needed for part of the frame.
2. A double-ended stack: the level's data lives at the low end for as long
   as the level is loaded, each frame's data at the high end for one frame.
   Both share one region, so neither needs its own worst case.
"""
import ctypes

import gi
gi.require_version('Nebula', '1')
from gi.repository import GLib, Nebula


class Particle(ctypes.Structure):
    _fields_ = [('x', ctypes.c_float), ('y', ctypes.c_float),
                ('dx', ctypes.c_float), ('dy', ctypes.c_float)]


class Enemy(ctypes.Structure):
    _fields_ = [('x', ctypes.c_uint16), ('y', ctypes.c_uint16), ('health', ctypes.c_uint16)]


class DrawCommand(ctypes.Structure):
    _fields_ = [('x', ctypes.c_float), ('y', ctypes.c_float), ('sprite', ctypes.c_uint16)]


GRID_SIZE = 4
LEVEL_WIDTH, LEVEL_HEIGHT = 32, 16


def new_array(stack, ctype, n, zeroed=False, high=False):
    """An array of n ctype elements on one end of the stack."""
    size, alignment = n * ctypes.sizeof(ctype), ctypes.alignment(ctype)
    if high:
        address = stack.allocate_high(size, alignment)
    else:
        address = stack.allocate_array(n, ctypes.sizeof(ctype), alignment, zeroed)
    return (ctype * n).from_buffer(stack.view(address, size))


# Part 1: everything a frame allocates goes when the with block ends.
def simulate_frame(stack, frame):
    with stack.frame():
        n_particles = 16 * frame
        particles = new_array(stack, Particle, n_particles)
        for i, particle in enumerate(particles):
            particle.x, particle.y, particle.dx, particle.dy = i % 8, i // 8, 1.0, 0.5

        # The collision grid is only needed while the particles move.
        before_grid = stack.mark()
        cells = new_array(stack, ctypes.c_uint, GRID_SIZE * GRID_SIZE, zeroed=True)
        for particle in particles:
            particle.x += particle.dx
            particle.y += particle.dy
            cells[int(particle.y) % GRID_SIZE * GRID_SIZE + int(particle.x) % GRID_SIZE] += 1
        n_busy = sum(1 for count in cells if count > 0)
        print(f'frame {frame}: {n_particles} particles in {n_busy} of {len(cells)} cells, '
              f'{stack.props.bytes_used} bytes with the grid', end='')
        del cells     # a view must not outlive the memory it shows
        stack.release_to_marker(before_grid)
        print(f', {stack.props.bytes_used} without')
        del particles


def print_ends(stack, when):
    """The fill of both ends, from markers of their tops."""
    low, high = stack.mark().get_position(), stack.mark_high().get_position()
    print(f'{when}: low end {low} bytes, high end {stack.props.capacity - high} bytes')


# Part 2: the level's data goes at the low end...
def load_level(stack, n_enemies):
    new_array(stack, ctypes.c_uint8, LEVEL_WIDTH * LEVEL_HEIGHT, zeroed=True)
    enemies = new_array(stack, Enemy, n_enemies)
    for i, enemy in enumerate(enemies):
        enemy.x, enemy.y, enemy.health = (i * 7) % LEVEL_WIDTH, (i * 3) % LEVEL_HEIGHT, 100
    return enemies


# ...and each frame's data at the high end, released when the frame ends.
def render_frame(stack, enemies, frame):
    with stack.frame(high=True):
        visible = [i for i, enemy in enumerate(enemies) if enemy.x < 8 * frame]
        indices = new_array(stack, ctypes.c_uint16, len(enemies), high=True)
        indices[:len(visible)] = visible
        draw = new_array(stack, DrawCommand, len(visible), high=True)
        for command, i in zip(draw, visible):
            command.x, command.y, command.sprite = enemies[i].x, enemies[i].y, 7
        print(f'frame {frame}: {len(visible)} of {len(enemies)} enemies visible; ', end='')
        print_ends(stack, 'stack')


# 1. Scratch memory for each frame.
scratch = Nebula.StackAllocator(capacity=4096)
for frame in (1, 2, 3):
    simulate_frame(scratch, frame)
    assert scratch.props.bytes_used == 0
print(f'after 3 frames: {scratch.props.bytes_used} bytes in use')

# 2. Level data at one end, frame data at the other.
game = Nebula.StackAllocator(capacity=2048, double_ended=True, name='game')
level_start = game.mark()
enemies = load_level(game, 12)
print_ends(game, 'level loaded')
for frame in (1, 2, 3):
    render_frame(game, enemies, frame)
print_ends(game, 'after 3 frames')

# A frame that wants more than the level leaves free fails; the message has
# the fill of both ends.
try:
    game.allocate_high(1500)
    raise SystemExit('1500 bytes fitted in the space between the ends')
except GLib.Error as e:
    assert e.matches(Nebula.allocator_error_quark(), Nebula.AllocatorError.EXHAUSTED)
    print(f'error: {e.message}')

# Unloading the level releases the low end back to where it started.
del enemies
game.release_to_marker(level_start)
print_ends(game, 'level unloaded')
