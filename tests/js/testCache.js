// SPDX-License-Identifier: LGPL-2.1-or-later
// The compute caches from gjs, with Gio._promisify. Callbacks only record;
// the assertions run after every promise settled.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GObject from 'gi://GObject';
import Nebula from 'gi://Nebula';

import System from 'system';

import {test, assert, assertEqual, assertThrows, run} from './harness.js';
import {cacheKey, getOrCompute, getOrComputeSync, wrapCompute} from '../../bindings/js/nebula.js';

Gio._promisify(Nebula.AsyncComputeCache.prototype,
    'get_or_compute_async', 'get_or_compute_finish');

const Outcome = Nebula.ComputeOutcome;

function makeValue(number) {
    const value = new GObject.Object();
    value._number = number;
    return value;
}

function ioError(message) {
    return new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND, message);
}

// Waits for every promise to settle (the main loop runs meanwhile); returns
// their outcomes as {value} or {error}, to be checked afterwards.
async function settle(promises) {
    const results = await Promise.allSettled(promises);
    return results.map(r => r.status === 'fulfilled' ? {value: r.value} : {error: r.reason});
}

function key(string) {
    return new GLib.Variant('s', string);
}

class Parked {
    constructor() {
        this.tasks = [];
        this.cancellables = [];
        this.compute = (k, cancellable, task) => {
            this.tasks.push(task);
            this.cancellables.push(cancellable);
        };
    }
}

function later(ms, fn) {
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
        fn();
        return GLib.SOURCE_REMOVE;
    });
}

test('synchronous get-or-compute computes once', () => {
    const cache = new Nebula.ComputeCache({policy: Nebula.EvictionPolicy.LRU, max_entries: 4});
    let calls = 0;
    const square = k => {
        calls++;
        return makeValue(k.unpack() ** 2);
    };
    const first = cache.get_or_compute(new GLib.Variant('i', 6), square);
    const second = cache.get_or_compute(new GLib.Variant('i', 6), square);
    assertEqual(first, second);
    assertEqual(first._number, 36);
    assertEqual(calls, 1);
    const stats = cache.get_stats();
    assertEqual(stats.requests, stats.hits + stats.misses);
});

test('synchronous invalid key', () => {
    const cache = new Nebula.ComputeCache({max_entries: 4});
    const e = assertThrows(() => cache.get_or_compute(
        new GLib.Variant('as', ['a']), () => makeValue(1)));
    assert(e.matches(Nebula.cache_error_quark(), Nebula.CacheError.INVALID_KEY), e.message);
    assert(e.message.includes("'as'"), e.message);
});

test('a sharded cache counts every request once and keeps its bound', () => {
    const cache = new Nebula.ComputeCache({max_entries: 4, shards: 2, time_loads: false});
    assertEqual(cache.shards, 2);
    assertEqual(cache.time_loads, false);
    const keys = [...Array(40).keys(), 'a', 'b', true, 2.5, ['t', 1]];
    for (const key of keys) {
        const value = getOrComputeSync(cache, key, () => makeValue(0));
        assertEqual(getOrComputeSync(cache, key, () => makeValue(1)), value);
        assert(cache.get_n_entries() <= 4, `${cache.get_n_entries()} entries`);
    }
    const stats = cache.get_stats();
    assertEqual(stats.requests, 2 * keys.length);
    assertEqual(stats.hits, keys.length);
    assertEqual(stats.load_time_us, 0);
    // Keys made by cacheKey() and by hand are one key (the last one stored
    // is still there).
    const last = cache.get(cacheKey(['t', 1]));
    assert(last !== null, 'the last key was evicted');
    assertEqual(cache.get(new GLib.Variant('(sx)', ['t', 1])), last);
});

test('100 concurrent requests run one compute', async () => {
    const cache = new Nebula.AsyncComputeCache({deduplicate: true});
    const parked = new Parked();
    const promises = [];
    for (let i = 0; i < 100; i++)
        promises.push(cache.get_or_compute_async(key('k'), parked.compute, null));
    later(5, () => Nebula.compute_task_return_object(parked.tasks[0], makeValue(7)));
    const results = await settle(promises);

    assertEqual(parked.tasks.length, 1);
    const outcomes = results.map(r => r.value[1]);
    assertEqual(outcomes.filter(o => o === Outcome.COMPUTED).length, 1);
    assertEqual(outcomes.filter(o => o === Outcome.JOINED).length, 99);
    assert(results.every(r => r.value[0]._number === 7), 'one shared value');
});

test('an error reaches every waiter and is not stored', async () => {
    const cache = new Nebula.AsyncComputeCache({deduplicate: true});
    const parked = new Parked();
    const promises = [0, 1, 2].map(() =>
        cache.get_or_compute_async(key('k'), parked.compute, null));
    later(1, () => parked.tasks[0].return_error(ioError('broken')));
    const results = await settle(promises);

    assert(results.every(r => r.error && r.error.message === 'broken'), 'all failed');
    assertEqual(cache.get_n_entries(), 0);
});

test("one waiter's cancel does not cancel the others", async () => {
    const cache = new Nebula.AsyncComputeCache({deduplicate: true});
    const parked = new Parked();
    const cancellables = [0, 1, 2].map(() => new Gio.Cancellable());
    const promises = cancellables.map(c =>
        cache.get_or_compute_async(key('k'), parked.compute, c));
    let computeCancelled = null;
    later(1, () => cancellables[1].cancel());
    later(10, () => {
        computeCancelled = parked.cancellables[0].is_cancelled();
        parked.tasks[0].return_value(makeValue(3));
    });
    const results = await settle(promises);

    assertEqual(computeCancelled, false);
    assert(results[1].error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED),
        `${results[1].error}`);
    assertEqual(results[0].value[0]._number, 3);
    assertEqual(results[2].value[0]._number, 3);
});

test('the circuit opens after the threshold and admits one probe', async () => {
    const cache = new Nebula.AsyncComputeCache({
        deduplicate: true, circuit_breaker: true, failure_threshold: 2, open_duration: 500,
    });
    let now = 0;
    cache.set_clock(() => now);
    const fail = (k, cancellable, task) => later(0, () => task.return_error(ioError('down')));
    for (let i = 0; i < 2; i++)
        await settle([cache.get_or_compute_async(key('k'), fail, null)]);
    const [open] = await settle([cache.get_or_compute_async(key('k'), fail, null)]);
    now = 500;
    const parked = new Parked();
    const promises = [0, 1].map(() => cache.get_or_compute_async(key('k'), parked.compute, null));
    later(1, () => parked.tasks[0].return_value(makeValue(1)));
    const results = await settle(promises);

    assert(open.error.matches(Nebula.cache_error_quark(), Nebula.CacheError.CIRCUIT_OPEN),
        `${open.error}`);
    assert(open.error.message.includes('2 consecutive failures'), open.error.message);
    assertEqual(parked.tasks.length, 1);
    assertEqual(results[0].value[1], Outcome.COMPUTED);
    assertEqual(results[1].value[1], Outcome.JOINED);
});

test('dispose completes every waiter', async () => {
    const cache = new Nebula.AsyncComputeCache({deduplicate: true, max_concurrent: 1});
    const parked = new Parked();
    const promises = ['a', 'a', 'b'].map(k =>
        cache.get_or_compute_async(key(k), parked.compute, null));
    later(1, () => cache.run_dispose());
    const results = await settle(promises);
    parked.tasks[0].return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'x'));
    await new Promise(resolve => later(1, resolve));

    assert(results.every(r => r.error &&
        r.error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED)), 'all cancelled');
    assert(parked.cancellables[0].is_cancelled(), 'the computation was cancelled');
    // gjs forbids calls on a disposed object; C and Python check n-flights.
});

function isFailed(error, text) {
    return error && error.matches(Nebula.cache_error_quark(), Nebula.CacheError.FAILED) &&
        error.message.includes(text);
}

test('a throwing compute function completes every request (getOrCompute)', async () => {
    const cache = new Nebula.AsyncComputeCache({deduplicate: true});
    const parked = new Parked();
    const broken = () => {
        throw new TypeError('backend down');
    };
    const results = await settle([
        getOrCompute(cache, key('k'), broken),
        getOrCompute(cache, key('k'), parked.compute),
    ]);
    assert(results.every(r => isFailed(r.error, 'TypeError: backend down')),
        results.map(r => `${r.error}`).join());
    assertEqual(parked.tasks.length, 0);

    // The flight is gone: the key computes afresh.
    const [value, outcome] = await getOrCompute(cache, key('k'),
        (k, c, task) => task.return_value(makeValue(4)));
    assertEqual(value._number, 4);
    assertEqual(outcome, Outcome.COMPUTED);
    assertEqual(cache.get_n_flights(), 0);
});

test('a rejecting async compute function completes its request', async () => {
    const cache = new Nebula.AsyncComputeCache();
    const [result] = await settle([getOrCompute(cache, key('k'), async () => {
        await new Promise(resolve => later(1, resolve));
        throw ioError('gone away');
    })]);
    assert(result.error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND), `${result.error}`);
    assertEqual(result.error.message, 'gone away');
});

test('wrapCompute makes a throw an error with the raw API', async () => {
    const cache = new Nebula.AsyncComputeCache({deduplicate: true});
    const [result] = await settle([cache.get_or_compute_async(key('k'), wrapCompute(() => {
        throw new Error('no');
    }), null)]);
    assert(isFailed(result.error, 'Error: no'), `${result.error}`);
});

test('a throwing function completes its requests at once with the raw API too', async () => {
    const cache = new Nebula.AsyncComputeCache({deduplicate: true});
    const promises = [0, 1].map(() => cache.get_or_compute_async(key('k'), () => {
        throw new TypeError('backend down');
    }, null));
    const results = await settle(promises);
    assert(results.every(r => isFailed(r.error, 'TypeError: backend down')),
        results.map(r => `${r.error}`).join());
    const [value] = await cache.get_or_compute_async(key('k'), (k, c, task) =>
        task.return_value(makeValue(2)), null);
    assertEqual(value._number, 2);
});

test('a task dropped without a return completes once collected', async () => {
    const cache = new Nebula.AsyncComputeCache({deduplicate: true});
    // The function neither returns the task nor throws: its wrapper is
    // garbage, freed by one of the next collections.
    const promises = [0, 1].map(() => cache.get_or_compute_async(key('k'), () => {}, null));
    let settled = false;
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, 1, () => {
        System.gc();
        return settled ? GLib.SOURCE_REMOVE : GLib.SOURCE_CONTINUE;
    });
    const results = await settle(promises);
    settled = true;
    assert(results.every(r => isFailed(r.error, 'dropped its task without returning it')),
        results.map(r => `${r.error}`).join());
    const [value] = await getOrCompute(cache, key('k'), (k, c, task) =>
        task.return_value(makeValue(2)));
    assertEqual(value._number, 2);
});

test('a task returned with a boolean or an integer fails its requests', async () => {
    for (const complete of [task => task.return_boolean(true), task => task.return_int(3)]) {
        const cache = new Nebula.AsyncComputeCache({deduplicate: true});
        const parked = new Parked();
        const results = await settle([
            getOrCompute(cache, key('k'), (k, c, task) => complete(task)),
            getOrCompute(cache, key('k'), parked.compute),
        ]);
        assert(results.every(r => isFailed(r.error, 'must return a GObject')),
            results.map(r => `${r.error}`).join());
    }
});

await run();
