// SPDX-License-Identifier: LGPL-2.1-or-later
// Compare Nebula's allocators from gjs; the measuring loop runs in C.
//
//     gjs -m examples/js/benchmark.js [--quick]
import Nebula from 'gi://Nebula';
import System from 'system';

const quick = ARGV.includes('--quick');

// Bump, System, and Pool and Stack when this build of Nebula has them.
const allocators = [['bump', new Nebula.BumpAllocator()], ['system', new Nebula.SystemAllocator()]];
for (const name of ['PoolAllocator', 'StackAllocator']) {
    if (Nebula[name] !== undefined)
        allocators.push([name.replace('Allocator', '').toLowerCase(), new Nebula[name]()]);
}

const workloads = ['SMALL_MIXED', 'FIXED_64', 'LIFO_FRAMES', 'REQUEST_RESPONSE', 'MIXED_LIFETIMES'];

print('ns/op (best round)'.padEnd(20) + allocators.map(([name]) => name.padStart(12)).join(''));
for (const workload of workloads) {
    const bench = Nebula.Benchmark.new(Nebula.Workload[workload]);
    bench.iterations = quick ? 5000 : 300000;
    bench.rounds = quick ? 2 : 11;
    const cells = allocators.map(([, allocator]) => {
        try {
            return bench.run(allocator).ns_per_op_min.toFixed(2).padStart(12);
        } catch (e) {
            printerr(`  ${workload}: ${e.message}`);
            return 'n/a'.padStart(12);
        }
    });
    print(workload.toLowerCase().replace(/_/g, '-').padEnd(20) + cells.join(''));
}
System.exit(0);
