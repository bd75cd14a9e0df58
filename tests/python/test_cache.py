# SPDX-License-Identifier: LGPL-2.1-or-later
"""The compute caches from Python: GLib main loop and asyncio.

Callbacks only record; assertions run after the loop returned.
"""
import asyncio
import threading
import unittest

from gi.repository import Gio, GObject

from nebulatest import GLib, Nebula

Outcome = Nebula.ComputeOutcome
E = Nebula.CacheError


def make_value(number):
    value = GObject.Object()
    value.number = number
    return value


def io_error(message):
    return GLib.Error.new_literal(Gio.io_error_quark(), message, int(Gio.IOErrorEnum.NOT_FOUND))


class Clock:
    def __init__(self):
        self.now = 0

    def __call__(self, *args):
        return self.now


class ComputeCacheTest(unittest.TestCase):
    def test_shards_and_time_loads(self):
        # Two shards, room for 4 in all: the shares add up to max-entries,
        # and every request is counted once across the shards.
        cache = Nebula.ComputeCache(policy=Nebula.EvictionPolicy.LRU, max_entries=4, shards=2,
                                    time_loads=False)
        self.assertEqual(cache.props.shards, 2)
        self.assertFalse(cache.props.time_loads)
        for key in list(range(40)) + ['a', 'b', True, 2.5, ('t', 1)]:
            value = cache.get_or_compute(key, lambda k: make_value(0))
            self.assertIs(cache.get_or_compute(key, lambda k: self.fail('computed twice')), value)
            self.assertLessEqual(cache.get_n_entries(), 4)
        stats = cache.get_stats()
        self.assertEqual(stats.requests, 90)
        self.assertEqual(stats.hits, 45)
        self.assertEqual(stats.load_time_us, 0)
        self.assertEqual(Nebula.ComputeCache(shards=3).props.shards, 4)
        self.assertEqual(Nebula.ComputeCache().props.shards, 1)

    def test_keys_equal_by_value(self):
        # A key built by the override and one built by hand are one key;
        # an int and a float of the same value are two.
        cache = Nebula.ComputeCache(max_entries=10)
        value = cache.get_or_compute(7, lambda k: make_value(7))
        self.assertIs(cache.get(GLib.Variant('x', 7)), value)
        self.assertIs(cache.get(GLib.Variant.new_int64(7)), value)
        self.assertIsNone(cache.get(7.0))
        self.assertIsNone(cache.get(GLib.Variant('i', 7)))

    def test_get_or_compute_once(self):
        cache = Nebula.ComputeCache(policy=Nebula.EvictionPolicy.S3_FIFO, max_entries=10)
        calls = []

        def square(key):
            calls.append(key)
            return make_value(key ** 2)

        first = cache.get_or_compute(7, square)
        second = cache.get_or_compute(7, square)
        self.assertIs(first, second)
        self.assertEqual(first.number, 49)
        self.assertEqual(calls, [7])
        stats = cache.get_stats()
        self.assertEqual((stats.requests, stats.hits, stats.misses), (2, 1, 1))

    def test_error_is_raised_and_not_stored(self):
        cache = Nebula.ComputeCache(max_entries=10)

        def fail(key):
            raise io_error('cannot compute')

        with self.assertRaises(GLib.Error) as cm:
            cache.get_or_compute('k', fail)
        self.assertIn('cannot compute', cm.exception.message)
        self.assertEqual(cache.props.n_entries, 0)
        self.assertEqual(cache.get_or_compute('k', lambda key: make_value(1)).number, 1)

    def test_invalid_key(self):
        cache = Nebula.ComputeCache(max_entries=10)
        with self.assertRaises(GLib.Error) as cm:
            cache.get_or_compute(GLib.Variant('av', [GLib.Variant('i', 1)]),
                                 lambda key: make_value(1))
        self.assertEqual(cm.exception.domain, 'NebulaCacheError')
        self.assertEqual(cm.exception.code, int(E.INVALID_KEY))
        self.assertIn("'av'", cm.exception.message)
        # Tuples of basic values are fine; the cache stays usable.
        self.assertEqual(cache.get_or_compute(('a', 1), lambda key: make_value(2)).number, 2)

    def test_no_value_and_no_error_is_failed(self):
        cache = Nebula.ComputeCache(max_entries=10)
        with self.assertRaises(GLib.Error) as cm:
            cache.get_or_compute('k', lambda key: None)
        self.assertEqual(cm.exception.domain, 'NebulaCacheError')
        self.assertEqual(cm.exception.code, int(E.FAILED))
        self.assertEqual(cache.props.n_entries, 0)
        self.assertEqual(cache.get_stats().loads_failed, 1)

    def test_value_heavier_than_the_cache_overflows(self):
        cache = Nebula.ComputeCache(max_weight=10)
        cache.set_weigher(lambda key, value: value.number)
        with self.assertRaises(GLib.Error) as cm:
            cache.get_or_compute('heavy', lambda key: make_value(11))
        self.assertEqual(cm.exception.domain, 'NebulaCacheError')
        self.assertEqual(cm.exception.code, int(E.OVERFLOW))
        self.assertIn('weighs 11, more than max-weight 10', cm.exception.message)
        with self.assertRaises(GLib.Error) as cm:
            cache.insert('heavy', make_value(11))
        self.assertEqual(cm.exception.code, int(E.OVERFLOW))
        self.assertEqual(cache.props.n_entries, 0)
        self.assertEqual(cache.get_or_compute('light', lambda key: make_value(10)).number, 10)

    def test_raising_function_propagates_its_exception(self):
        cache = Nebula.ComputeCache(max_entries=10)

        def broken(key):
            raise ValueError('no such user')

        with self.assertRaises(ValueError) as cm:
            cache.get_or_compute('k', broken)
        self.assertEqual(str(cm.exception), 'no such user')
        self.assertEqual(cache.props.n_entries, 0)
        self.assertEqual(cache.get_stats().loads_failed, 1)
        self.assertEqual(cache.get_or_compute('k', lambda key: make_value(3)).number, 3)

    def test_weights_near_two_to_the_64_do_not_wrap(self):
        cache = Nebula.ComputeCache(max_weight=2**64 - 1)
        cache.set_weigher(lambda key, value: 2**63)
        for key in range(4):
            cache.insert(key, make_value(key))
            self.assertEqual(cache.props.n_entries, 1)
            self.assertEqual(cache.get_weight(), 2**63)
        self.assertEqual(cache.get(3).number, 3)

    def test_time_to_live_and_entry_removed(self):
        cache = Nebula.ComputeCache(time_to_live=100, max_entries=2)
        clock = Clock()
        cache.set_clock(clock)
        removed = []
        cache.connect('entry-removed',
                      lambda c, key, value, cause: removed.append((key.unpack(), cause)))

        cache.get_or_compute(1, lambda key: make_value(1))
        clock.now = 100
        self.assertIsNone(cache.get(1))            # expired: never returned
        cache.get_or_compute(2, lambda key: make_value(2))
        cache.get_or_compute(3, lambda key: make_value(3))
        cache.get_or_compute(4, lambda key: make_value(4))
        cache.invalidate(4)
        self.assertEqual(removed, [(1, Nebula.RemovalCause.EXPIRED),
                                   (2, Nebula.RemovalCause.SIZE),
                                   (4, Nebula.RemovalCause.EXPLICIT)])
        stats = cache.get_stats()
        self.assertEqual(stats.requests, stats.hits + stats.misses)
        self.assertEqual(stats.expirations, 1)


class Parked:
    """A compute function that parks its tasks for the test to return."""

    def __init__(self):
        self.tasks = []
        self.cancellables = []

    def __call__(self, key, cancellable, task):
        self.tasks.append(task)
        self.cancellables.append(cancellable)


class AsyncMainLoopTest(unittest.TestCase):
    def setUp(self):
        self.loop = GLib.MainLoop()
        self.results = {}

    def request(self, cache, name, key, func, cancellable=None, expected=None):
        def done(cache, result):
            try:
                self.results[name] = cache.get_or_compute_finish(result)
            except GLib.Error as error:
                self.results[name] = error
            if expected is not None and len(self.results) >= expected:
                self.loop.quit()
        cache.get_or_compute_async(key, func, cancellable, done)

    def run_loop(self):
        GLib.timeout_add_seconds(10, self.loop.quit)
        self.loop.run()

    def test_hundred_requests_one_compute(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True)
        parked = Parked()
        for i in range(100):
            self.request(cache, i, 'key', parked, expected=100)
        GLib.timeout_add(10, lambda: parked.tasks[0].return_value(make_value(5)) and False)
        self.run_loop()

        self.assertEqual(len(parked.tasks), 1)
        outcomes = [self.results[i][1] for i in range(100)]
        self.assertEqual(outcomes.count(Outcome.COMPUTED), 1)
        self.assertEqual(outcomes.count(Outcome.JOINED), 99)
        self.assertTrue(all(self.results[i][0].number == 5 for i in range(100)))
        stats = cache.get_stats()
        self.assertEqual(stats.joins, 99)
        self.assertEqual(stats.requests, stats.hits + stats.misses)

    def test_error_reaches_all_waiters_and_is_not_stored(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True)
        parked = Parked()
        for i in range(5):
            self.request(cache, i, 'key', parked, expected=5)
        GLib.idle_add(lambda: parked.tasks[0].return_error(io_error('boom')) and False)
        self.run_loop()

        for i in range(5):
            self.assertIsInstance(self.results[i], GLib.Error)
            self.assertEqual(self.results[i].message, 'boom')
        self.assertEqual(cache.get_n_entries(), 0)
        self.assertEqual(len(parked.tasks), 1)

    def test_one_cancel_does_not_cancel_the_others(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True)
        parked = Parked()
        cancellables = [Gio.Cancellable() for _ in range(3)]
        for i in range(3):
            self.request(cache, i, 'key', parked, cancellables[i], expected=3)
        seen = {}

        def cancel_one():
            cancellables[1].cancel()
            return False

        def finish():
            seen['compute cancelled'] = parked.cancellables[0].is_cancelled()
            parked.tasks[0].return_value(make_value(9))
            return False

        GLib.idle_add(cancel_one)
        GLib.timeout_add(20, finish)
        self.run_loop()

        self.assertFalse(seen['compute cancelled'])
        self.assertTrue(self.results[1].matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        self.assertEqual(self.results[0][0].number, 9)
        self.assertEqual(self.results[2][0].number, 9)

    def test_circuit_opens_and_admits_one_probe(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True, circuit_breaker=True,
                                         failure_threshold=3, open_duration=1000)
        clock = Clock()
        cache.set_clock(clock)

        def fail(key, cancellable, task):
            GLib.idle_add(lambda: task.return_error(io_error('down')) and False)

        for i in range(3):
            self.request(cache, ('fail', i), 'key', fail, expected=1)
            self.run_loop()
            self.results.clear()
        self.request(cache, 'open', 'key', fail, expected=1)
        self.run_loop()
        opened = self.results.pop('open')

        clock.now = 1000
        probe = Parked()
        self.request(cache, 'probe', 'key', probe, expected=2)
        self.request(cache, 'joiner', 'key', probe, expected=2)
        GLib.idle_add(lambda: probe.tasks[0].return_value(make_value(1)) and False)
        self.run_loop()

        self.assertEqual(opened.domain, 'NebulaCacheError')
        self.assertEqual(opened.code, int(E.CIRCUIT_OPEN))
        self.assertIn('3 consecutive failures', opened.message)
        self.assertEqual(len(probe.tasks), 1)
        self.assertEqual(self.results['probe'][1], Outcome.COMPUTED)
        self.assertEqual(self.results['joiner'][1], Outcome.JOINED)
        self.assertEqual(cache.get_stats().rejected_open, 1)

    def test_dispose_leaves_no_task_unreturned(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True, max_concurrent=1)
        compute_tasks = []

        def honours_cancel(key, cancellable, task):
            compute_tasks.append(task)
            cancellable.connect(lambda *args: task.return_error(
                GLib.Error.new_literal(Gio.io_error_quark(), 'stopped',
                                       int(Gio.IOErrorEnum.CANCELLED))))

        for i, key in enumerate(['a', 'a', 'b', 'c']):
            self.request(cache, i, key, honours_cancel, expected=4)
        GLib.idle_add(lambda: cache.run_dispose() and False)
        self.run_loop()
        context = GLib.MainContext.default()
        while context.iteration(False):
            pass

        for i in range(4):
            self.assertTrue(self.results[i].matches(Gio.io_error_quark(),
                                                    Gio.IOErrorEnum.CANCELLED))
        self.assertEqual(len(compute_tasks), 1)
        self.assertTrue(compute_tasks[0].get_completed())
        self.assertEqual(cache.get_n_flights(), 0)

    def test_non_object_value_is_failed(self):
        cache = Nebula.AsyncComputeCache()
        self.request(cache, 'x', 'key', lambda key, cancellable, task: task.return_value(5),
                     expected=1)
        self.run_loop()

        error = self.results['x']
        self.assertIsInstance(error, GLib.Error)
        self.assertEqual(error.domain, 'NebulaCacheError')
        self.assertEqual(error.code, int(E.FAILED))
        self.assertIn('gint, not an object', error.message)
        self.assertEqual(cache.get_n_entries(), 0)

    def test_raising_function_completes_every_request(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True)

        def broken(key, cancellable, task):
            raise ValueError('backend down')

        parked = Parked()
        self.request(cache, 'first', 'k', broken)
        self.request(cache, 'joined', 'k', parked, expected=2)
        self.run_loop()
        for name in ('first', 'joined'):
            error = self.results[name]
            self.assertIsInstance(error, GLib.Error)
            self.assertEqual(error.domain, 'NebulaCacheError')
            self.assertEqual(error.code, int(E.FAILED))
            self.assertIn('ValueError: backend down', error.message)

        # The flight is gone: the key computes afresh.
        self.request(cache, 'fresh', 'k', lambda key, cancellable, task:
                     task.return_value(make_value(6)), expected=3)
        self.run_loop()
        value, outcome = self.results['fresh']
        self.assertEqual((value.number, outcome), (6, Outcome.COMPUTED))
        self.assertEqual(cache.get_n_flights(), 0)

    def test_glib_error_raised_keeps_its_domain(self):
        cache = Nebula.AsyncComputeCache()

        def broken(key, cancellable, task):
            raise io_error('not there')

        self.request(cache, 'x', 'k', broken, expected=1)
        self.run_loop()
        self.assertTrue(self.results['x'].matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND))
        self.assertEqual(self.results['x'].message, 'not there')

    def test_task_never_returned_completes_the_request(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True)
        self.request(cache, 'x', 'k', lambda key, cancellable, task: None, expected=1)
        self.run_loop()
        error = self.results['x']
        self.assertIsInstance(error, GLib.Error)
        self.assertEqual(error.code, int(E.FAILED))
        self.assertIn('dropped its task without returning it', error.message)
        self.assertEqual(cache.get_n_flights(), 0)

    def test_finish_with_a_foreign_or_finished_result_raises(self):
        # Each was a CRITICAL (fatal under G_DEBUG=fatal-criticals) and a
        # None without an exception.
        cache = Nebula.AsyncComputeCache()
        other = Nebula.AsyncComputeCache()
        results = []

        def done(source, result):
            results.append(result)
            self.loop.quit()
        cache.get_or_compute_async('k', lambda key, cancellable, task:
                                   task.return_value(make_value(1)), None, done)
        self.run_loop()
        result = results[0]
        foreign = Gio.Task.new(cache, None, None)
        for name, source, bad in (('other cache', other, result),
                                  ('task of another call', cache, foreign)):
            with self.subTest(name):
                with self.assertRaises(GLib.Error) as cm:
                    source.get_or_compute_finish(bad)
                self.assertEqual(cm.exception.code, int(E.FAILED))
                self.assertIn('not an unfinished result', cm.exception.message)
        value, outcome = cache.get_or_compute_finish(result)
        self.assertEqual((value.number, outcome), (1, Outcome.COMPUTED))
        with self.assertRaises(GLib.Error) as cm:
            cache.get_or_compute_finish(result)
        self.assertIn('finish each request once', cm.exception.message)

    def test_wrong_completions_are_failed(self):
        completions = {
            'boolean': lambda task: task.return_boolean(True),
            'int': lambda task: task.return_int(3),
        }
        for name, complete in completions.items():
            with self.subTest(name):
                cache = Nebula.AsyncComputeCache(deduplicate=True)
                parked = Parked()
                self.results.clear()
                self.request(cache, 'first', 'k',
                             lambda key, cancellable, task: complete(task))
                self.request(cache, 'joined', 'k', parked, expected=2)
                self.run_loop()
                for request in ('first', 'joined'):
                    error = self.results[request]
                    self.assertIsInstance(error, GLib.Error)
                    self.assertEqual(error.code, int(E.FAILED))
                    self.assertIn('a boolean, an integer or a pointer', error.message)
                    self.assertIn('must return a GObject', error.message)
                self.assertEqual(parked.tasks, [])

    def test_own_key_from_the_compute_function_fails_at_once(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True)
        parked = Parked()

        def recursive(key, cancellable, task):
            parked(key, cancellable, task)
            self.request(cache, 'inner', key.unpack(), parked, expected=1)

        self.request(cache, 'outer', 'k', recursive)
        self.run_loop()
        error = self.results['inner']
        self.assertIsInstance(error, GLib.Error)
        self.assertIn('it would wait for itself', error.message)
        parked.tasks[0].return_value(make_value(1))
        self.loop = GLib.MainLoop()
        self.request(cache, 'unused', 'other', lambda *args: args[2].return_value(make_value(2)),
                     expected=3)
        self.run_loop()
        self.assertEqual(self.results['outer'][0].number, 1)

    def test_full_queue_is_busy(self):
        cache = Nebula.AsyncComputeCache(max_concurrent=1, max_queued=1)
        parked = Parked()
        for name in ('running', 'queued', 'rejected'):
            self.request(cache, name, name, parked, expected=3)

        def return_parked():
            for task in parked.tasks:
                if not task.get_completed():
                    task.return_value(make_value(1))
            return len(self.results) < 3

        GLib.timeout_add(10, return_parked)
        self.run_loop()

        rejected = self.results['rejected']
        self.assertIsInstance(rejected, GLib.Error)
        self.assertEqual(rejected.domain, 'NebulaCacheError')
        self.assertEqual(rejected.code, int(E.BUSY))
        self.assertIn('max-concurrent 1', rejected.message)
        self.assertIn('1 waiting (max-queued 1)', rejected.message)
        self.assertEqual(self.results['running'][1], Outcome.COMPUTED)
        self.assertEqual(self.results['queued'][1], Outcome.COMPUTED)
        self.assertEqual(len(parked.tasks), 2)

    def test_compute_returns_from_a_thread(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True)
        threads = []

        def in_thread(key, cancellable, task):
            thread = threading.Thread(target=lambda: task.return_value(make_value(3)))
            threads.append(thread)
            thread.start()

        for i in range(10):
            self.request(cache, i, 'key', in_thread, expected=10)
        self.run_loop()
        for thread in threads:
            thread.join()

        self.assertEqual(len(threads), 1)
        self.assertTrue(all(self.results[i][0].number == 3 for i in range(10)))


class AsyncioTest(unittest.TestCase):
    def test_hundred_awaits_one_compute(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True)
        calls = []

        def compute(key, cancellable, task):
            calls.append(key.unpack())
            asyncio.get_running_loop().call_later(0.01, task.return_value, make_value(8))

        async def main():
            results = await asyncio.gather(*[cache.get_or_compute('k', compute)
                                             for _ in range(100)])
            again = await cache.get_or_compute('k', compute)
            return results, again

        results, again = asyncio.run(main())
        self.assertEqual(calls, ['k'])
        outcomes = [outcome for _, outcome in results]
        self.assertEqual(outcomes.count(Outcome.COMPUTED), 1)
        self.assertEqual(outcomes.count(Outcome.JOINED), 99)
        self.assertEqual(again[1], Outcome.HIT)
        self.assertEqual(again[0].number, 8)

    def test_cancel_one_await(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True)
        parked = Parked()

        async def main():
            tasks = [asyncio.create_task(cache.get_or_compute('k', parked)) for _ in range(3)]
            await asyncio.sleep(0.01)
            tasks[1].cancel()
            await asyncio.sleep(0.01)
            compute_cancelled = parked.cancellables[0].is_cancelled()
            parked.tasks[0].return_value(make_value(4))
            results = await asyncio.gather(*tasks, return_exceptions=True)
            return results, compute_cancelled

        results, compute_cancelled = asyncio.run(main())
        self.assertFalse(compute_cancelled)
        self.assertIsInstance(results[1], asyncio.CancelledError)
        self.assertEqual(results[0][0].number, 4)
        self.assertEqual(results[2][0].number, 4)

    def test_error_reaches_every_await(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True)

        def fail(key, cancellable, task):
            asyncio.get_running_loop().call_soon(task.return_error, io_error('nope'))

        async def main():
            return await asyncio.gather(*[cache.get_or_compute('k', fail) for _ in range(10)],
                                        return_exceptions=True)

        results = asyncio.run(main())
        self.assertTrue(all(isinstance(r, GLib.Error) and r.message == 'nope' for r in results))
        self.assertEqual(cache.get_n_entries(), 0)

    def test_wait_for_a_raising_function(self):
        cache = Nebula.AsyncComputeCache(deduplicate=True)

        def broken(key, cancellable, task):
            raise RuntimeError('flaky')

        def fine(key, cancellable, task):
            task.return_value(make_value(5))

        async def main():
            with self.assertRaises(RuntimeError) as cm:
                await asyncio.wait_for(cache.get_or_compute('k', broken), timeout=30)
            self.assertEqual(str(cm.exception), 'flaky')
            with self.assertRaises(GLib.Error) as cm:
                await asyncio.wait_for(
                    cache.get_or_compute('b', lambda key, c, task: task.return_boolean(True)),
                    timeout=30)
            self.assertIn('must return a GObject', cm.exception.message)
            return await asyncio.wait_for(cache.get_or_compute('k', fine), timeout=30)

        value, outcome = asyncio.run(main())
        self.assertEqual((value.number, outcome), (5, Outcome.COMPUTED))


if __name__ == '__main__':
    unittest.main()
