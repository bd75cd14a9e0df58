// SPDX-License-Identifier: LGPL-2.1-or-later
// A memory budget: two allocators share one limit, a soft limit warns
// before the hard limit refuses, and everything is given back at the end.
import Nebula from 'gi://Nebula';

const budget = Nebula.MemoryBudget.new('workers', 64 * 1024);
budget.soft_limit = 40 * 1024;
budget.connect('soft-limit-exceeded',
    (b, used) => print(`soft limit passed: ${used} of ${b.limit} bytes`));
budget.connect('limit-reached',
    (b, requested) => print(`limit reached by a request for ${requested} bytes`));

// The pool's first slab and the bump's first chunk are charged at once.
let pool = new Nebula.PoolAllocator({
    block_size: 64, block_count: 256, max_block_count: 1024, budget, name: 'records',
});
pool.init(null);
print(`after the pool: ${budget.used} bytes charged`);
let bump = new Nebula.BumpAllocator({
    capacity: 16 * 1024, max_capacity: 64 * 1024, budget, name: 'scratch',
});
bump.init(null);
print(`after the bump: ${budget.used} bytes charged`);

// Growing the pool needs another slab: the budget grants it.
for (let i = 0; i < 300; i++)
    pool.allocate(64, 8);
print(`300 records: ${pool.get_n_slabs()} slabs, ${budget.used} bytes charged`);

// The bump may grow up to 64 KiB, but the shared budget says no first.
try {
    for (;;)
        bump.allocate(4096, 8);
} catch (error) {
    if (!error.matches(Nebula.allocator_error_quark(), Nebula.AllocatorError.BUDGET_EXCEEDED))
        throw error;
    print('bump refused: budget-exceeded');
    print(`  ${error.message}`);
}

bump.reset();
print(`after resetting the bump: ${budget.used} bytes charged, peak ${budget.peak}`);

