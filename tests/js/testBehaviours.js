// SPDX-License-Identifier: LGPL-2.1-or-later
// The behaviour table (tests/behaviours.ini) from gjs. Each group of the
// table is one test; the implementation of a behaviour throws the error the
// table names or records what it observed, and the table's expectations are
// checked here, the same way the C and Python runners check them. A
// behaviour without a gjs implementation fails.
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Nebula from 'gi://Nebula';
import {getOrComputeSync, withFrame, withScope} from '../../bindings/js/nebula.js';
import {test, assert, assertEqual, run} from './harness.js';

const TABLE = GLib.build_filenamev([
    GLib.path_get_dirname(GLib.filename_from_uri(import.meta.url)[0]), '..', 'behaviours.ini']);

const ERROR_PREFIX = 'NEBULA_ALLOCATOR_ERROR_';

// `value` as the table spells it.
function text(value) {
    return `${value}`;
}

// Allocates 100 bytes inside `region` (a scope or frame of `allocator`,
// which runs the function it is given) and records what is used inside it
// and after it.
function releaseRegion(observed, allocator, region) {
    region(() => {
        allocator.allocate(100, 8);
        observed['used-inside'] = allocator.get_bytes_used() >= 100;
    });
    observed['bytes-used-after'] = allocator.get_bytes_used();
}

// The counters the statistics behaviours observe.
function observeStats(observed, stats) {
    observed['allocations'] = stats.allocations;
    observed['deallocations'] = stats.deallocations;
    observed['failed-allocations'] = stats.failed_allocations;
    observed['bytes-in-use'] = stats.bytes_in_use;
}

const BEHAVIOURS = {
    'construct'(observed) {
        const pool = Nebula.PoolAllocator.new(64, 4);
        const stack = Nebula.StackAllocator.new(1024);
        const bump = Nebula.BumpAllocator.new(4096);
        observed['pool-capacity'] = pool.get_capacity();
        observed['stack-capacity'] = stack.get_capacity();
        observed['bump-capacity'] = bump.get_capacity();
        observed['bytes-used'] = pool.get_bytes_used() + stack.get_bytes_used() +
            bump.get_bytes_used();
    },

    'bad-config'() {
        Nebula.PoolAllocator.new(4, 1);
    },

    'pool-exhaust'() {
        const pool = Nebula.PoolAllocator.new(64, 1);
        pool.allocate(64, 8);
        pool.allocate(64, 8);
    },

    'pool-double-free'() {
        const pool = Nebula.PoolAllocator.new(64, 2);
        const address = pool.allocate(8, 8);
        pool.deallocate(address, 8, 8);
        pool.deallocate(address, 8, 8);
    },

    'pool-foreign-pointer'() {
        Nebula.PoolAllocator.new(64, 1).deallocate(0x1000, 8, 8);
    },

    'stack-stale-marker'() {
        const stack = Nebula.StackAllocator.new(1024);
        const outer = stack.mark();
        stack.allocate(64, 8);
        const inner = stack.mark();
        stack.release_to_marker(outer);
        stack.release_to_marker(inner);
    },

    'bump-stale-checkpoint'() {
        const bump = Nebula.BumpAllocator.new(64);
        const checkpoint = bump.checkpoint();
        bump.reset();
        bump.allocate(8, 8);
        bump.restore(checkpoint);
    },

    'bump-scope'(observed) {
        const bump = Nebula.BumpAllocator.new(4096);
        releaseRegion(observed, bump, fn => withScope(bump, fn));
    },

    'stack-frame'(observed) {
        const stack = Nebula.StackAllocator.new(1024);
        releaseRegion(observed, stack, fn => withFrame(stack, fn));
    },

    'pool-stats'(observed) {
        const pool = Nebula.PoolAllocator.new(64, 4);
        const blocks = [0, 1, 2].map(() => pool.allocate(64, 8));
        pool.deallocate(blocks[1], 64, 8);
        // The failure is the point: the statistics count it.
        let failed = false;
        try {
            pool.allocate(128, 8);
        } catch (e) {
            failed = e instanceof GLib.Error;
        }
        assert(failed, 'a 128-byte block from a 64-byte pool did not fail');
        const stats = pool.get_stats();
        observeStats(observed, stats);
    },

    'multi-pool-classes'(observed) {
        const multi = Nebula.MultiPoolAllocator.new();
        const small = multi.allocate(40, 8);
        multi.allocate(1000, 8);
        multi.deallocate(small, 40, 8);
        // The failure is the point: the statistics count it.
        let failed = false;
        try {
            multi.allocate(1025, 8);
        } catch (e) {
            failed = e instanceof GLib.Error;
        }
        assert(failed, 'a 1025-byte block above max-block-size did not fail');
        const stats = multi.get_stats();
        observed['bytes-used'] = multi.get_bytes_used();
        observed['class-size-40'] = multi.get_class_size(40);
        observeStats(observed, stats);
    },

    'multi-pool-wrong-size-free'() {
        const multi = Nebula.MultiPoolAllocator.new();
        const small = multi.allocate(40, 8);
        multi.allocate(100, 8);
        multi.deallocate(small, 100, 8);
    },

    'report'(observed) {
        const bump = new Nebula.BumpAllocator({name: 'behaviours', capacity: 4096});
        bump.init(null);
        bump.allocate(8, 8);
        const report = bump.get_report().recursiveUnpack();
        for (const key of ['type', 'name']) {
            if (key in report)
                observed[key] = report[key];
        }
        if (report.stats && 'allocations' in report.stats)
            observed['stats-allocations'] = report.stats.allocations;
    },

    'budget-exceeded'() {
        const budget = Nebula.MemoryBudget.new('small', 100);
        const bump = new Nebula.BumpAllocator({capacity: 1024, budget});
        bump.init(null);
    },

    'cache-hit-miss'(observed) {
        const cache = new Nebula.ComputeCache({policy: Nebula.EvictionPolicy.LRU, max_entries: 4});
        let computations = 0;
        const compute = () => {
            computations++;
            return new GObject.Object();
        };
        const first = getOrComputeSync(cache, 'key', compute);
        const second = getOrComputeSync(cache, 'key', compute);
        const stats = cache.get_stats();
        observed['computations'] = computations;
        observed['misses'] = stats.misses;
        observed['hits'] = stats.hits;
        observed['same-value'] = first === second;
    },

    'cache-compute-raises'(observed) {
        const cache = new Nebula.ComputeCache({policy: Nebula.EvictionPolicy.LRU, max_entries: 4});
        const raised = new Error('raised by the compute function');
        try {
            getOrComputeSync(cache, 'key', () => {
                throw raised;
            });
        } catch (e) {
            observed['caller-got-raised-error'] = e === raised;
        }
        observed['entries-after-error'] = cache.get_n_entries();
        const value = getOrComputeSync(cache, 'key', () => new GObject.Object());
        observed['usable-after'] = value instanceof GObject.Object;
        observed['entries-after'] = cache.get_n_entries();
    },

    'cache-single-flight'(observed) {
        const cache = new Nebula.AsyncComputeCache({deduplicate: true});
        const tasks = [];
        const results = [];
        const value = new GObject.Object();
        const compute = (key, cancellable, task) => tasks.push(task);
        for (let i = 0; i < 2; i++) {
            cache.get_or_compute_async(new GLib.Variant('s', 'key'), compute, null,
                (source, result) => results.push(source.get_or_compute_finish(result)));
        }
        Nebula.compute_task_return_object(tasks[0], value);
        const context = GLib.MainContext.default();
        while (results.length < 2)
            context.iteration(true);
        const outcomeName = outcome => Object.entries(Nebula.ComputeOutcome)
            .find(([, v]) => v === outcome)[0];
        observed['computations'] = tasks.length;
        observed['first-outcome'] = outcomeName(results[0][1]);
        observed['second-outcome'] = outcomeName(results[1][1]);
        observed['same-value'] = results.every(([got]) => got === value);
        observed['joins'] = cache.get_stats().joins;
    },

    'strings'(observed) {
        const bump = Nebula.BumpAllocator.new(4096);
        observed['copy'] = bump.strdup('héllo');
        observed['holds-copy'] = bump.get_bytes_used() >= 7;
        observed['joined'] = bump.strjoinv(', ', ['a', 'b', 'c']);
    },

    'strings-exhausted'() {
        Nebula.BumpAllocator.new(64).strdup('s'.repeat(100));
    },

    'cleanups'(observed) {
        const bump = Nebula.BumpAllocator.new(4096);
        const order = [];
        bump.add_cleanup(() => order.push('a'));
        bump.add_cleanup(() => order.push('b'));
        bump.remove_cleanup(bump.add_cleanup(() => order.push('d')));
        withScope(bump, () => bump.add_cleanup(() => order.push('c')));
        bump.reset();
        observed['order'] = order.join('');
        observed['cleanups-after'] = bump.get_n_cleanups();
    },

    'children'(observed) {
        const parent = Nebula.BumpAllocator.new(65536);
        const stack = new Nebula.StackAllocator({capacity: 1024, parent});
        const pool = new Nebula.PoolAllocator({block_size: 64, block_count: 4, parent});
        const inStack = stack.allocate(64, 8);
        const inPool = pool.allocate(64, 8);
        observed['owned-by-parent'] = parent.owns(inStack) && parent.owns(inPool);
        parent.reset();
        observed['stack-chunks-after-reset'] = stack.get_n_chunks();
        observed['pool-slabs-after-reset'] = pool.get_n_slabs();
        observed['parent-bytes-after-reset'] = parent.bytes_used;
        stack.allocate(64, 8);
        pool.allocate(64, 8);
        observed['allocates-again'] = true;
    },

    'child-stale-block'() {
        const parent = Nebula.BumpAllocator.new(65536);
        const pool = new Nebula.PoolAllocator({block_size: 64, block_count: 4, parent});
        const block = pool.allocate(64, 8);
        parent.reset();
        pool.deallocate(block, 64, 8);
    },
};

// The name the table gives the allocator error `code`: EXHAUSTED for
// Nebula.AllocatorError.EXHAUSTED.
function allocatorErrorName(code) {
    const entry = Object.entries(Nebula.AllocatorError).find(([, value]) => value === code);
    return entry ? entry[0] : `(unknown code ${code})`;
}

function check(name, expectations) {
    if (!Object.hasOwn(BEHAVIOURS, name))
        throw new Error(`tests/behaviours.ini names behaviour '${name}', which has no gjs implementation`);
    const func = BEHAVIOURS[name];
    const observed = {};
    const expectedError = expectations.get('error');
    if (expectedError !== undefined) {
        let caught = null;
        try {
            func(observed);
        } catch (e) {
            caught = e;
        }
        assert(caught !== null, `${name}: expected ${ERROR_PREFIX}${expectedError}`);
        assert(caught instanceof GLib.Error && caught.matches(Nebula.allocator_error_quark(), caught.code),
            `${name}: expected a Nebula.AllocatorError, got ${caught}`);
        assertEqual(allocatorErrorName(caught.code), expectedError, `${name}: ${caught.message}`);
    } else {
        func(observed);
    }
    for (const [key, expected] of expectations) {
        if (key === 'description' || key === 'error')
            continue;
        assert(key in observed, `${name} did not observe ${key}`);
        assertEqual(text(observed[key]), expected, `${name}: ${key}`);
    }
}

const table = new GLib.KeyFile();
table.load_from_file(TABLE, GLib.KeyFileFlags.NONE);
const [groups] = table.get_groups();
test('the table is not empty', () => assert(groups.length > 0, 'no behaviours'));
for (const name of groups) {
    const [keys] = table.get_keys(name);
    const expectations = new Map(keys.map(key => [key, table.get_string(name, key)]));
    test(name, () => check(name, expectations));
}

await run();
