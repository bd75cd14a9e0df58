// SPDX-License-Identifier: LGPL-2.1-or-later
// An asynchronous get-or-compute with cache.getOrCompute() (a
// promise of [value, outcome]; a compute function that throws completes
// the request with the error): five concurrent requests for one profile
// run one (pretend) fetch; a later request hits.
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Nebula from 'gi://Nebula';
import System from 'system';

const Profile = GObject.registerClass({
    Properties: {
        'name': GObject.ParamSpec.string('name', null, null,
            GObject.ParamFlags.READWRITE, ''),
    },
}, class Profile extends GObject.Object {});

let fetches = 0;

function fetchProfile(key, cancellable, task) {
    fetches++;
    const userId = key.unpack();
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, 10, () => {
        task.return_value(new Profile({name: `user-${userId}`}));
        return GLib.SOURCE_REMOVE;
    });
}

const cache = new Nebula.AsyncComputeCache({deduplicate: true, max_entries: 100});
const key = new GLib.Variant('x', 42);
// The nick, as Python's value_nick and C's GEnumValue give it.
const outcomeName = outcome => Object.keys(Nebula.ComputeOutcome)
    .find(name => Nebula.ComputeOutcome[name] === outcome).toLowerCase();

const results = await Promise.all(
    [...Array(5)].map(() => cache.getOrCompute(key, fetchProfile)));
results.push(await cache.getOrCompute(key, fetchProfile));
for (const [profile, outcome] of results)
    print(`${profile.name}: ${outcomeName(outcome)}`);
const stats = cache.get_stats();
print(`${fetches} fetch, ${stats.requests} requests, ${stats.hits} hit, ${stats.joins} joined`);
const outcomes = results.map(([, outcome]) => outcomeName(outcome)).join(' ');
const ok = fetches === 1 && outcomes === 'computed joined joined joined joined hit' &&
    stats.requests === stats.hits + stats.misses;
System.exit(ok ? 0 : 1);
