# SPDX-License-Identifier: LGPL-2.1-or-later
"""A memory budget: two allocators share one limit, a soft limit warns
before the hard limit refuses, and everything is given back at the end."""
import gi
gi.require_version('Nebula', '1')
from gi.repository import GLib, Nebula

budget = Nebula.MemoryBudget.new('workers', 64 * 1024)
budget.props.soft_limit = 40 * 1024
budget.connect('soft-limit-exceeded',
               lambda b, used: print(f'soft limit passed: {used} of {b.props.limit} bytes'))
budget.connect('limit-reached',
               lambda b, requested: print(f'limit reached by a request for {requested} bytes'))

# The pool's first slab and the bump's first chunk are charged at once.
pool = Nebula.PoolAllocator(block_size=64, block_count=256, max_block_count=1024,
                            budget=budget, name='records')
print(f'after the pool: {budget.props.used} bytes charged')
bump = Nebula.BumpAllocator(capacity=16 * 1024, max_capacity=64 * 1024,
                            budget=budget, name='scratch')
print(f'after the bump: {budget.props.used} bytes charged')

# Growing the pool needs another slab: the budget grants it.
blocks = [pool.allocate(64) for _ in range(300)]
print(f'300 records: {pool.get_n_slabs()} slabs, {budget.props.used} bytes charged')

# The bump may grow up to 64 KiB, but the shared budget says no first.
try:
    while True:
        bump.allocate(4096)
except GLib.Error as error:
    print(f'bump refused: {Nebula.AllocatorError(error.code).value_nick}')
    print(f'  {error.message}')

bump.reset()
print(f'after resetting the bump: {budget.props.used} bytes charged, '
      f'peak {budget.props.peak}')

del bump, pool, blocks
print(f'after dropping both: {budget.props.used} bytes charged')
