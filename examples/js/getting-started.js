// SPDX-License-Identifier: LGPL-2.1-or-later
// Getting started: a bump allocator, an array, statistics.
import Nebula from 'gi://Nebula?version=1';

const bump = new Nebula.BumpAllocator({capacity: 4096, name: 'getting-started'});
// gjs does not run GInitable.init for you: do it to check the configuration
// now (it throws a GLib.Error for a bad property).
bump.init(null);
print(`capacity: ${bump.capacity} bytes`);

// Room for ten 16-byte points aligned to 8; 10 * 16 is overflow-checked.
// Addresses are numbers, for handing to native code.
const address = bump.allocate_array(10, 16, 8, false);
print(`aligned to 8: ${address % 8 === 0}`);
print(`bytes in use: ${bump.bytes_used}`);

// One call frees everything.
bump.reset();
const stats = bump.get_stats();
print(`after reset: ${bump.bytes_used} bytes in use, ` +
      `${stats.allocations} allocation, ${stats.resets} reset`);
