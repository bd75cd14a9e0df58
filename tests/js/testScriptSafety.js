// SPDX-License-Identifier: LGPL-2.1-or-later
// No address a script passes crashes gjs (issue 12, items 12 and 13). The
// checks run in a child gjs, so that a crash fails the test instead of
// ending the run: `gjs -m testScriptSafety.js --child NAME`.
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula';
import System from 'system';

import {test, assert, assertEqual, assertThrows, isAllocatorError, run} from './harness.js';

const E = Nebula.AllocatorError;

function makeUnchecked(kind, threadSafe) {
    const config = {preset: Nebula.Preset.PERFORMANCE, thread_safe: threadSafe};
    if (kind === 'pool')
        return new Nebula.PoolAllocator({...config, block_size: 64, block_count: 8});
    return new Nebula.SystemAllocator(config);
}

const children = {
    // Item 13: without check-frees only the blocks the script allocated
    // can be freed from it.
    'performance-deallocate'() {
        for (const kind of ['pool', 'system']) {
            for (const threadSafe of [false, true]) {
                const alloc = makeUnchecked(kind, threadSafe);
                assertThrows(() => alloc.deallocate(1, 8, 8), isAllocatorError(E.INVALID_POINTER));
                const block = alloc.allocate(32, 8);
                // gjs skips GInitable.init: the preset applies on first use.
                assertEqual(alloc.check_frees, false);
                assertThrows(() => alloc.deallocate(block + 8, 8, 8),
                    isAllocatorError(E.INVALID_POINTER));
                assertThrows(() => alloc.reallocate(block + 8, 8, 16, 8),
                    isAllocatorError(E.INVALID_POINTER));
                assertThrows(() => alloc.deallocate(block, 2 ** 40, 8),
                    isAllocatorError(E.INVALID_LAYOUT));
                assert(alloc.deallocate(block, 32, 8));
                assertThrows(() => alloc.deallocate(block, 32, 8),
                    isAllocatorError(E.INVALID_POINTER));
            }
        }
    },
    // Item 12: the memory utilities accept only memory of a live allocator.
    'memory-utilities'() {
        const bump = new Nebula.BumpAllocator({capacity: 256});
        const block = bump.allocate(16, 8);
        const refused = isAllocatorError(E.INVALID_POINTER, 'not memory of a live Nebula allocator');
        assertThrows(() => Nebula.memory_fill(1, 0, 8), refused);
        assertThrows(() => Nebula.memory_copy(1, block, 8), refused);
        assertThrows(() => Nebula.memory_copy(block, 1, 8), refused);
        assertThrows(() => Nebula.secure_zero(1, 8), refused);
        assertThrows(() => Nebula.memory_fill(block, 0, 2 ** 40), refused);
        assertThrows(() => Nebula.secure_zero(block, 2 ** 40), refused);
        assert(Nebula.memory_fill(block, 7, 16));
        assert(Nebula.memory_copy(block + 8, block, 8));
        assert(Nebula.secure_zero(block, 16));
    },
    // Run with G_DEBUG=fatal-criticals: each was a C assertion, so a
    // SIGTRAP. Found by the script probe (HACKING.md).
    'asserted-values'() {
        const bench = Nebula.Benchmark.new(Nebula.Workload.SMALL_MIXED);
        for (const [name, value] of [['threads', 0], ['threads', 1000], ['rounds', 0],
            ['iterations', 0], ['iterations', 2 ** 63]]) {
            assertThrows(() => bench[`set_${name}`](value), e => {
                assert(e instanceof RangeError, `not a RangeError: ${e}`);
                assert(e.message.includes(`NebulaBenchmark:${name}`), e.message);
            });
        }
        bench.set_threads(2);
        assertEqual(bench.get_threads(), 2);
        if (Nebula.HAS_ERROR_CONTEXT) {
            assertThrows(() => Nebula.context_pop(),
                e => assert(e.message.includes('without a matching context_push()'), e.message));
        }
        Nebula.withContext('outer', () => assertEqual(Nebula.context_get_path(), 'outer'));
        assertEqual(Nebula.context_get_path(), null);
    },
    // free() or unref() of a boxed value was a double free (glibc abort)
    // when gjs freed it again.
    'boxed-free'() {
        const system = new Nebula.SystemAllocator();
        const bench = Nebula.Benchmark.new(Nebula.Workload.SMALL_MIXED);
        bench.set_rounds(1);
        bench.set_iterations(10);
        const boxed = [
            [system.get_stats(), 'free'],
            [new Nebula.ComputeCache({max_entries: 1}).get_stats(), 'free'],
            [bench.run(system), 'free'],
            [new Nebula.StackAllocator({capacity: 64}).mark(), 'free'],
            [new Nebula.BumpAllocator({capacity: 64}).checkpoint(), 'free'],
            [Nebula.ArenaBuffer.new(system, 8), 'unref'],
        ];
        for (const [value, method] of boxed) {
            assertThrows(() => value[method](),
                e => assert(e.message.includes('a script must not free it'), e.message));
        }
        const buffer = boxed[boxed.length - 1][0];
        buffer.append_string('still usable');
        assertEqual(buffer.finish_string(), 'still usable');
        boxed.length = 0;
        System.gc();
    },
};

function runChild(name, env = {}) {
    const file = GLib.filename_from_uri(import.meta.url)[0];
    const gjs = GLib.file_read_link('/proc/self/exe');
    const launcher = new Gio.SubprocessLauncher({
        flags: Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_PIPE,
    });
    for (const [variable, value] of Object.entries(env))
        launcher.setenv(variable, value, true);
    const proc = launcher.spawnv([gjs, '-m', file, '--child', name]);
    const [, , stderr] = proc.communicate_utf8(null, null);
    assert(!proc.get_if_signaled(),
        `the child was killed by signal ${proc.get_if_signaled() ? proc.get_term_sig() : 0}: ${stderr}`);
    assertEqual(proc.get_exit_status(), 0, `child failed: ${stderr}`);
}

const args = System.programArgs;
if (args[0] === '--child') {
    children[args[1]]();
    System.exit(0);
} else {
    test('item 13: PERFORMANCE pool and system refuse bad addresses', () =>
        runChild('performance-deallocate'));
    test('item 12: memory utilities refuse bad addresses and lengths', () =>
        runChild('memory-utilities'));
    test('boxed free() and unref() throw', () => runChild('boxed-free'));
    test('asserted values throw, under fatal-criticals', () =>
        runChild('asserted-values', {G_DEBUG: 'fatal-criticals'}));
    await run();
}
