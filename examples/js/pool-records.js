// SPDX-License-Identifier: LGPL-2.1-or-later
// A pool of fixed-size records. The blocks are native memory (the same
// 32-byte records as examples/c/pool-records.c); JavaScript keeps its view
// of each record next to the block's address. Records come and go in any
// order, a freed block is the next one handed out, and a double free is an
// error that leaves the pool intact.
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula?version=1';

const SIZE = 32;        // struct { guint32 id; char name[20]; double balance; }
const ALIGNMENT = 8;
const NAMES = ['alice', 'bob', 'carol', 'dave'];
const Code = Nebula.AllocatorError;

// Addresses change from run to run; print a name in their place.
function show(error, address = null, name = null) {
    let message = error.message;
    if (address !== null)
        message = message.replace(`0x${address.toString(16)}`, name);
    print(`error: ${message}`);
    // Nebula.explain() gives the advice in a script's terms (no C-only fixes).
    print(`  suggestion: ${Nebula.explain(error).suggestion}`);
}

function expectError(code, fn) {
    try {
        fn();
    } catch (e) {
        if (e instanceof GLib.Error && e.matches(Nebula.allocator_error_quark(), code))
            return e;
        throw e;
    }
    throw new Error(`expected error ${code}`);
}

const records = new Map();   // address -> {id, name, balance}

function recordNew(pool, id, name, balance) {
    const address = pool.allocate(SIZE, ALIGNMENT);
    records.set(address, {id, name, balance});
    return address;
}

function recordFree(pool, address) {
    pool.deallocate(address, SIZE, ALIGNMENT);
    records.delete(address);
}

function blocksInUse(pool) {
    return pool.bytes_used / SIZE;
}

// One block per record, four of them; the pool does not grow.
const pool = new Nebula.PoolAllocator({
    block_size: SIZE, block_alignment: ALIGNMENT, block_count: NAMES.length, name: 'records',
});
pool.init(null);

const addresses = NAMES.map((name, i) => recordNew(pool, i + 1, name, 10.5 * (i + 1)));
for (const address of addresses) {
    const {id, name, balance} = records.get(address);
    print(`record ${id}: ${name}, balance ${balance.toFixed(2)}`);
}
print(`${blocksInUse(pool)} of ${NAMES.length} blocks in use`);

// Every block is in use: the next record has to wait.
show(expectError(Code.EXHAUSTED, () => recordNew(pool, 5, 'erin', 0)));

// Records leave in any order; a freed block is the next one handed out.
recordFree(pool, addresses[1]);
print(`bob left: ${blocksInUse(pool)} blocks in use`);
const erin = recordNew(pool, 5, 'erin', 99.0);
print(`record ${records.get(erin).id}: ${records.get(erin).name} takes bob's block: ` +
      `${erin === addresses[1] ? 'yes' : 'no'}`);

// Freeing a block twice is refused, and the pool stays intact.
recordFree(pool, addresses[2]);
print(`carol left: ${blocksInUse(pool)} blocks in use`);
show(expectError(Code.DOUBLE_FREE, () => recordFree(pool, addresses[2])),
    addresses[2], "<carol's block>");
print(`still ${blocksInUse(pool)} blocks in use`);

const stats = pool.get_stats();
print(`${stats.allocations} allocations, ${stats.deallocations} frees, ` +
      `${stats.failed_allocations} failed allocation`);

// One call gives every block back.
pool.reset();
records.clear();
print(`after reset: ${blocksInUse(pool)} blocks in use`);
