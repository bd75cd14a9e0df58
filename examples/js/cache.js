// SPDX-License-Identifier: LGPL-2.1-or-later
// An asynchronous get-or-compute with Gio._promisify: five concurrent
// requests for one profile run one (pretend) fetch; a later request hits.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GObject from 'gi://GObject';
import Nebula from 'gi://Nebula';
import System from 'system';

Gio._promisify(Nebula.AsyncComputeCache.prototype,
    'get_or_compute_async', 'get_or_compute_finish');

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
const outcomeName = outcome => Object.keys(Nebula.ComputeOutcome)
    .find(name => Nebula.ComputeOutcome[name] === outcome);

const results = await Promise.all(
    [...Array(5)].map(() => cache.get_or_compute_async(key, fetchProfile, null)));
for (const [profile, outcome] of results)
    print(`${profile.name}: ${outcomeName(outcome)}`);
const [profile, outcome] = await cache.get_or_compute_async(key, fetchProfile, null);
print(`${profile.name}: ${outcomeName(outcome)}`);
const stats = cache.get_stats();
print(`${fetches} fetch, ${stats.requests} requests, ${stats.hits} hit, ${stats.joins} joined`);
System.exit(fetches === 1 ? 0 : 1);
