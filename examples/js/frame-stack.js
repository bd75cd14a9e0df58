// SPDX-License-Identifier: LGPL-2.1-or-later
// Per-frame scratch memory on stack allocators, reserving the same blocks
// as examples/c/frame-stack.c for native code to fill.
//
// 1. A stack for one frame's temporaries: stack.withFrame() releases all of them
//    when the frame ends, and a marker releases a buffer that is only
//    needed for part of the frame.
// 2. A double-ended stack: the level's data lives at the low end for as
//    long as the level is loaded, each frame's data at the high end for one
//    frame. Both share one region, so neither needs its own worst case.
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula?version=1';

// Sizes and alignments of the C structs.
const PARTICLE = [16, 4];      // struct { float x, y, dx, dy; }
const CELL = [4, 4];           // guint
const ENEMY = [6, 2];          // struct { guint16 x, y, health; }
const DRAW_COMMAND = [12, 4];  // struct { float x, y; guint16 sprite; }
const GRID_SIZE = 4;
const LEVEL_WIDTH = 32, LEVEL_HEIGHT = 16;

function newArray(stack, [size, alignment], n, {zeroed = false, high = false} = {}) {
    if (high)
        return stack.allocate_high(n * size, alignment);
    return stack.allocate_array(n, size, alignment, zeroed);
}

// Part 1: everything a frame allocates goes when stack.withFrame() returns.
function simulateFrame(stack, frame) {
    stack.withFrame(() => {
        const nParticles = 16 * frame;
        newArray(stack, PARTICLE, nParticles);
        const particles = Array.from({length: nParticles},
            (_, i) => ({x: i % 8 + 1.0, y: Math.floor(i / 8) + 0.5}));

        // The collision grid is only needed while the particles move.
        const beforeGrid = stack.mark();
        newArray(stack, CELL, GRID_SIZE * GRID_SIZE, {zeroed: true});
        const busy = new Set(particles.map(
            p => Math.floor(p.y) % GRID_SIZE * GRID_SIZE + Math.floor(p.x) % GRID_SIZE));
        const withGrid = stack.bytes_used;
        stack.release_to_marker(beforeGrid);
        print(`frame ${frame}: ${nParticles} particles in ${busy.size} of ` +
              `${GRID_SIZE * GRID_SIZE} cells, ${withGrid} bytes with the grid, ` +
              `${stack.bytes_used} without`);
    });
}

// The fill of both ends, from markers of their tops.
function ends(stack) {
    const low = stack.mark().get_position();
    const high = stack.mark_high().get_position();
    return `low end ${low} bytes, high end ${stack.capacity - high} bytes`;
}

// Part 2: the level's data goes at the low end...
function loadLevel(stack, nEnemies) {
    newArray(stack, [1, 1], LEVEL_WIDTH * LEVEL_HEIGHT, {zeroed: true});
    newArray(stack, ENEMY, nEnemies);
    return Array.from({length: nEnemies},
        (_, i) => ({x: (i * 7) % LEVEL_WIDTH, y: (i * 3) % LEVEL_HEIGHT, health: 100}));
}

// ...and each frame's data at the high end, released when the frame ends.
function renderFrame(stack, enemies, frame) {
    stack.withFrame(() => {
        newArray(stack, [2, 2], enemies.length, {high: true});
        const visible = enemies.filter(enemy => enemy.x < 8 * frame);
        newArray(stack, DRAW_COMMAND, visible.length, {high: true});
        print(`frame ${frame}: ${visible.length} of ${enemies.length} enemies visible; ` +
              `stack: ${ends(stack)}`);
    }, {high: true});
}

// 1. Scratch memory for each frame.
const scratch = new Nebula.StackAllocator({capacity: 4096});
scratch.init(null);
for (const frame of [1, 2, 3]) {
    simulateFrame(scratch, frame);
    if (scratch.bytes_used !== 0)
        throw new Error(`frame ${frame} left ${scratch.bytes_used} bytes behind`);
}
print(`after 3 frames: ${scratch.bytes_used} bytes in use`);

// 2. Level data at one end, frame data at the other.
const game = new Nebula.StackAllocator({capacity: 2048, double_ended: true, name: 'game'});
game.init(null);
const levelStart = game.mark();
const enemies = loadLevel(game, 12);
print(`level loaded: ${ends(game)}`);
for (const frame of [1, 2, 3])
    renderFrame(game, enemies, frame);
print(`after 3 frames: ${ends(game)}`);

// A frame that wants more than the level leaves free fails; the message has
// the fill of both ends.
try {
    game.allocate_high(1500, 8);
    throw new Error('1500 bytes fitted in the space between the ends');
} catch (e) {
    if (!(e instanceof GLib.Error) ||
        !e.matches(Nebula.allocator_error_quark(), Nebula.AllocatorError.EXHAUSTED))
        throw e;
    print(`error: ${e.message}`);
}

// Unloading the level releases the low end back to where it started.
game.release_to_marker(levelStart);
print(`level unloaded: ${ends(game)}`);
