#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""An asynchronous get-or-compute from asyncio.

Five concurrent requests for one profile run one (pretend) fetch: the
first computes, the others join it; a later request is a hit.
"""
import asyncio

import gi

gi.require_version('Nebula', '1')
from gi.repository import GLib, GObject, Nebula  # noqa: E402


class Profile(GObject.Object):
    name = GObject.Property(type=str)


fetches = 0


def fetch_profile(key, cancellable, task):
    """Starts a fetch; the task is returned later, as real I/O would."""
    global fetches
    fetches += 1
    user_id = key.unpack()

    def answer():
        task.return_value(Profile(name=f'user-{user_id}'))
        return GLib.SOURCE_REMOVE

    GLib.timeout_add(10, answer)


async def main():
    cache = Nebula.AsyncComputeCache(deduplicate=True, max_entries=100)
    results = await asyncio.gather(*[cache.get_or_compute(42, fetch_profile)
                                     for _ in range(5)])
    results.append(await cache.get_or_compute(42, fetch_profile))
    for profile, outcome in results:
        print(f'{profile.props.name}: {outcome.value_nick}')
    stats = cache.get_stats()
    print(f'{fetches} fetch, {stats.requests} requests, {stats.hits} hit, '
          f'{stats.joins} joined')
    outcomes = [outcome.value_nick for _, outcome in results]
    return (fetches == 1 and outcomes == ['computed'] + ['joined'] * 4 + ['hit']
            and stats.requests == stats.hits + stats.misses)


if __name__ == '__main__':
    raise SystemExit(0 if asyncio.run(main()) else 1)
