// SPDX-License-Identifier: LGPL-2.1-or-later
// A tree of memory budgets bounds what a growing bump allocator may take
// from the system, and the allocator's report shows where its memory went.
import Nebula from 'gi://Nebula?version=1';

const RECORD_SIZE = 304; // a C struct of a name, a score and a payload

// The whole application may hold 256 KiB, no single charge above 64 KiB;
// request handling gets at most 32 KiB of that.
const app = Nebula.MemoryBudget.new('app', 256 * 1024);
app.per_allocation_limit = 64 * 1024;
const requests = app.new_child('requests', 32 * 1024);
requests.connect('limit-reached',
    (budget, requested) => print(`'${budget.name}' reached its limit: refused ${requested} bytes`));

function showBudgets(when) {
    print(`${when}: requests ${requests.used} of ${requests.limit}, ` +
          `app ${app.used} of ${app.limit} bytes`);
}

// The first chunk is charged when the allocator is built.
let arena = new Nebula.BumpAllocator({
    capacity: 4096, max_capacity: 64 * 1024, budget: requests, name: 'request-arena',
});
arena.init(null);
showBudgets('built');

// Twenty records outgrow the first chunk: the next one, twice as large, is
// charged to both budgets.
for (let i = 0; i < 20; i++)
    arena.allocate(RECORD_SIZE, 8);
showBudgets('20 records');

// Above large-allocation-threshold (half the capacity), a request gets a
// chunk of its own, charged as it is taken.
arena.allocate(10000, 8);
showBudgets('a 10000-byte buffer');

// The next one would take 'requests' over its limit: refused, and nothing
// changes.
try {
    arena.allocate(16000, 8);
    throw new Error('the budget did not refuse');
} catch (error) {
    if (!error.matches(Nebula.allocator_error_quark(), Nebula.AllocatorError.BUDGET_EXCEEDED))
        throw error;
    print(`refused: ${error.message}`);
    print(`  retryable: ${Nebula.error_is_retryable(error) ? 'yes' : 'no'}`);
}

// Memory that no Nebula allocator manages can be charged directly.
app.try_reserve(8192);
showBudgets('8192 bytes reserved');
app.release(8192);

try {
    app.try_reserve(100000);
    throw new Error('the budget did not refuse');
} catch (error) {
    if (!error.matches(Nebula.allocator_error_quark(), Nebula.AllocatorError.BUDGET_EXCEEDED))
        throw error;
    print(`refused: ${error.message}`);
}

// The report: a GLib.Variant dictionary (a{sv}); recursiveUnpack() makes it
// a plain object.
const report = arena.get_report().recursiveUnpack();
print(`reserved ${report.reserved} bytes, fragmentation ${report.fragmentation.toFixed(3)}`);
for (const chunk of report.chunks) {
    print(`  ${chunk.kind.padEnd(9)} chunk: ${String(chunk.size).padStart(5)} bytes, ` +
          `${String(chunk.used).padStart(5)} used`);
}

// The same as JSON text, members sorted by name.
const json = JSON.parse(arena.report_to_json());
print(`JSON: ${json.type}, ${json.stats.allocations} allocations, ` +
      `budget '${json.configuration.budget.name}' at ${json.configuration.budget.used} bytes`);

// A reset keeps the largest chunk (reset-policy KEEP_LARGEST) and gives the
// others back to the budgets.
arena.reset();
showBudgets('after reset');
print(`peak: requests ${requests.peak}, app ${app.peak} bytes`);
