# SPDX-License-Identifier: LGPL-2.1-or-later
"""The behaviour table (tests/behaviours.ini) from Python.

Each group of the table is one test; the implementation of a behaviour
raises the error the table names or records what it observed, and the
table's expectations are checked here, the same way the C and gjs runners
check them. A behaviour without a Python implementation fails."""

import configparser
import os
import unittest

from nebulatest import GLib, GObject, Nebula

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'behaviours.ini')


def text(value):
    """@value as the table spells it."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def construct(observed):
    pool = Nebula.PoolAllocator.new(64, 4)
    stack = Nebula.StackAllocator.new(1024)
    bump = Nebula.BumpAllocator.new(4096)
    observed['pool-capacity'] = pool.get_capacity()
    observed['stack-capacity'] = stack.get_capacity()
    observed['bump-capacity'] = bump.get_capacity()
    observed['bytes-used'] = pool.get_bytes_used() + stack.get_bytes_used() + bump.get_bytes_used()


def bad_config(observed):
    Nebula.PoolAllocator(block_size=4, block_count=1)


def pool_exhaust(observed):
    pool = Nebula.PoolAllocator(block_size=64, block_count=1)
    pool.allocate(64)
    pool.allocate(64)


def pool_double_free(observed):
    pool = Nebula.PoolAllocator(block_size=64, block_count=2)
    address = pool.allocate(8)
    pool.deallocate(address, 8)
    pool.deallocate(address, 8)


def multi_pool_classes(observed):
    multi = Nebula.MultiPoolAllocator()
    small = multi.allocate(40)
    multi.allocate(1000)
    multi.deallocate(small, 40)
    # The failure is the point: the statistics count it.
    try:
        multi.allocate(1025)
    except GLib.Error:
        pass
    else:
        raise AssertionError('a 1025-byte block above max-block-size did not fail')
    stats = multi.get_stats()
    observed['bytes-used'] = multi.get_bytes_used()
    observed['class-size-40'] = multi.get_class_size(40)
    observe_stats(observed, stats)


def multi_pool_wrong_size_free(observed):
    multi = Nebula.MultiPoolAllocator()
    small = multi.allocate(40)
    multi.allocate(100)
    multi.deallocate(small, 100)


def pool_foreign_pointer(observed):
    pool = Nebula.PoolAllocator(block_size=64, block_count=1)
    pool.deallocate(0x1000, 8)


def stack_stale_marker(observed):
    stack = Nebula.StackAllocator(capacity=1024)
    outer = stack.mark()
    stack.allocate(64)
    inner = stack.mark()
    stack.release_to_marker(outer)
    stack.release_to_marker(inner)


def bump_stale_checkpoint(observed):
    bump = Nebula.BumpAllocator(capacity=64)
    checkpoint = bump.checkpoint()
    bump.reset()
    bump.allocate(8)
    bump.restore(checkpoint)


def release_region(observed, allocator, region):
    """Allocates 100 bytes inside @region (a scope or frame of @allocator)
    and records what is used inside it and after it."""
    with region:
        allocator.allocate(100)
        observed['used-inside'] = allocator.get_bytes_used() >= 100
    observed['bytes-used-after'] = allocator.get_bytes_used()


def bump_scope(observed):
    bump = Nebula.BumpAllocator(capacity=4096)
    release_region(observed, bump, bump.scope())


def stack_frame(observed):
    stack = Nebula.StackAllocator(capacity=1024)
    release_region(observed, stack, stack.frame())


def observe_stats(observed, stats):
    observed['allocations'] = stats.allocations
    observed['deallocations'] = stats.deallocations
    observed['failed-allocations'] = stats.failed_allocations
    observed['bytes-in-use'] = stats.bytes_in_use


def pool_stats(observed):
    pool = Nebula.PoolAllocator(block_size=64, block_count=4)
    blocks = [pool.allocate(64) for _ in range(3)]
    pool.deallocate(blocks[1], 64)
    # The failure is the point: the statistics count it.
    try:
        pool.allocate(128)
    except GLib.Error:
        pass
    else:
        raise AssertionError('a 128-byte block from a 64-byte pool did not fail')
    stats = pool.get_stats()
    observe_stats(observed, stats)


def report(observed):
    bump = Nebula.BumpAllocator(name='behaviours', capacity=4096)
    bump.allocate(8)
    data = bump.get_report().unpack()
    for key in ('type', 'name'):
        if key in data:
            observed[key] = data[key]
    if 'allocations' in data.get('stats', {}):
        observed['stats-allocations'] = data['stats']['allocations']


def budget_exceeded(observed):
    budget = Nebula.MemoryBudget(name='small', limit=100)
    Nebula.BumpAllocator(capacity=1024, budget=budget)


def cache_hit_miss(observed):
    cache = Nebula.ComputeCache(policy=Nebula.EvictionPolicy.LRU, max_entries=4)
    computations = []

    def compute(key):
        computations.append(key)
        return GObject.Object()

    first = cache.get_or_compute('key', compute)
    second = cache.get_or_compute('key', compute)
    stats = cache.get_stats()
    observed['computations'] = len(computations)
    observed['misses'] = stats.misses
    observed['hits'] = stats.hits
    observed['same-value'] = first is second


def cache_compute_raises(observed):
    cache = Nebula.ComputeCache(policy=Nebula.EvictionPolicy.LRU, max_entries=4)
    raised = ValueError('raised by the compute function')

    def fail(key):
        raise raised

    try:
        cache.get_or_compute('key', fail)
    except ValueError as caught:
        observed['caller-got-raised-error'] = caught is raised
    observed['entries-after-error'] = cache.get_n_entries()
    value = cache.get_or_compute('key', lambda key: GObject.Object())
    observed['usable-after'] = isinstance(value, GObject.Object)
    observed['entries-after'] = cache.get_n_entries()


def cache_single_flight(observed):
    cache = Nebula.AsyncComputeCache(deduplicate=True)
    loop = GLib.MainLoop()
    tasks = []
    results = []
    value = GObject.Object()

    def compute(key, cancellable, task):
        tasks.append(task)

    def done(cache, result):
        results.append(cache.get_or_compute_finish(result))
        if len(results) == 2:
            loop.quit()

    for _ in range(2):
        cache.get_or_compute_async('key', compute, None, done)
    tasks[0].return_value(value)
    GLib.timeout_add_seconds(10, loop.quit)
    loop.run()

    prefix = 'NEBULA_COMPUTE_OUTCOME_'
    observed['computations'] = len(tasks)
    observed['first-outcome'] = results[0][1].value_name[len(prefix):]
    observed['second-outcome'] = results[1][1].value_name[len(prefix):]
    observed['same-value'] = all(got is value for got, _ in results)
    observed['joins'] = cache.get_stats().joins


def strings(observed):
    bump = Nebula.BumpAllocator.new(4096)
    observed['copy'] = bump.strdup('héllo')
    observed['holds-copy'] = bump.get_bytes_used() >= 7
    observed['joined'] = bump.strjoinv(', ', ['a', 'b', 'c'])


def strings_exhausted(observed):
    Nebula.BumpAllocator.new(64).strdup('s' * 100)


def cleanups(observed):
    bump = Nebula.BumpAllocator.new(4096)
    order = []
    bump.add_cleanup(lambda: order.append('a'))
    bump.add_cleanup(lambda: order.append('b'))
    bump.remove_cleanup(bump.add_cleanup(lambda: order.append('d')))
    with bump.scope():
        bump.add_cleanup(lambda: order.append('c'))
    bump.reset()
    observed['order'] = ''.join(order)
    observed['cleanups-after'] = bump.get_n_cleanups()


def children(observed):
    parent = Nebula.BumpAllocator.new(65536)
    stack = Nebula.StackAllocator(capacity=1024, parent=parent)
    pool = Nebula.PoolAllocator(block_size=64, block_count=4, parent=parent)
    in_stack = stack.allocate(64, 8)
    in_pool = pool.allocate(64, 8)
    observed['owned-by-parent'] = parent.owns(in_stack) and parent.owns(in_pool)
    parent.reset()
    observed['stack-chunks-after-reset'] = stack.get_n_chunks()
    observed['pool-slabs-after-reset'] = pool.get_n_slabs()
    observed['parent-bytes-after-reset'] = parent.props.bytes_used
    stack.allocate(64, 8)
    pool.allocate(64, 8)
    observed['allocates-again'] = True


def child_stale_block(observed):
    parent = Nebula.BumpAllocator.new(65536)
    pool = Nebula.PoolAllocator(block_size=64, block_count=4, parent=parent)
    block = pool.allocate(64, 8)
    parent.reset()
    pool.deallocate(block, 64, 8)


BEHAVIOURS = {
    'construct': construct,
    'bad-config': bad_config,
    'pool-exhaust': pool_exhaust,
    'pool-double-free': pool_double_free,
    'pool-foreign-pointer': pool_foreign_pointer,
    'stack-stale-marker': stack_stale_marker,
    'bump-stale-checkpoint': bump_stale_checkpoint,
    'bump-scope': bump_scope,
    'stack-frame': stack_frame,
    'pool-stats': pool_stats,
    'multi-pool-classes': multi_pool_classes,
    'multi-pool-wrong-size-free': multi_pool_wrong_size_free,
    'report': report,
    'budget-exceeded': budget_exceeded,
    'cache-hit-miss': cache_hit_miss,
    'cache-compute-raises': cache_compute_raises,
    'cache-single-flight': cache_single_flight,
    'strings': strings,
    'strings-exhausted': strings_exhausted,
    'cleanups': cleanups,
    'children': children,
    'child-stale-block': child_stale_block,
}


def load_table():
    # Interpolation off: descriptions are prose, and keys keep their case.
    table = configparser.ConfigParser(interpolation=None)
    table.optionxform = str
    with open(TABLE, encoding='utf-8') as file:
        table.read_file(file)
    return table


class BehaviourTest(unittest.TestCase):
    def test_table_is_not_empty(self):
        self.assertTrue(load_table().sections())

    def check(self, name, expectations):
        func = BEHAVIOURS.get(name)
        if func is None:
            self.fail(f"tests/behaviours.ini names behaviour '{name}', "
                      'which has no Python implementation')
        observed = {}
        expected_error = expectations.get('error')
        if expected_error is not None:
            with self.assertRaises(GLib.Error) as cm:
                func(observed)
            self.assertEqual(cm.exception.domain, 'NebulaAllocatorError', cm.exception.message)
            self.assertEqual(Nebula.AllocatorError(cm.exception.code).value_name,
                             'NEBULA_ALLOCATOR_ERROR_' + expected_error, cm.exception.message)
        else:
            func(observed)
        for key, expected in expectations.items():
            if key in ('description', 'error'):
                continue
            self.assertIn(key, observed, f'{name} did not observe {key}')
            self.assertEqual(text(observed[key]), expected, f'{name}: {key}')


def add_tests():
    table = load_table()
    for name in table.sections():
        expectations = dict(table[name])

        def test(self, name=name, expectations=expectations):
            self.check(name, expectations)
        setattr(BehaviourTest, 'test_' + name.replace('-', '_'), test)


add_tests()

if __name__ == '__main__':
    unittest.main(verbosity=2)
