// SPDX-License-Identifier: LGPL-2.1-or-later
// Child arenas: a bump allocator with a parent (NebulaBumpAllocator:parent).
import Nebula from 'gi://Nebula';

import {test, assert, assertEqual, run} from './harness.js';

test('chunks come from the parent; a parent reset releases the child', () => {
    const parent = new Nebula.BumpAllocator({capacity: 1 << 16, name: 'server'});
    const child = new Nebula.BumpAllocator({capacity: 1024, parent, name: 'request'});
    // gjs skips GInitable.init: the first chunk is taken on first use.
    assert(parent.owns(child.strdup_address('x')), 'owned by the parent');
    assert(parent.bytes_used > 1024, 'the first chunk is a block of the parent');
    parent.reset();
    assertEqual(child.get_n_chunks(), 0);
    assertEqual(child.strdup('again'), 'again');
});

test('the report shows the tree', () => {
    const parent = new Nebula.BumpAllocator({capacity: 8192, name: 'server'});
    const child = new Nebula.BumpAllocator({capacity: 1024, parent, name: 'request-1'});
    const report = JSON.parse(parent.report_to_json());
    assertEqual(report.children.map(c => c.name).join(','), 'request-1');
    assertEqual(JSON.parse(child.report_to_json()).parent, 'server');
});

await run();
