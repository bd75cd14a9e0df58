// SPDX-License-Identifier: LGPL-2.1-or-later
// A tiny test harness for gjs: tests run in order, each failure is printed
// with its stack, and the process exits non-zero when any test failed.
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula';
import System from 'system';

const tests = [];

export function test(name, fn) {
    tests.push({name, fn});
}

export function assert(cond, message = 'assertion failed') {
    if (!cond)
        throw new Error(message);
}

// A check for assertThrows(): a NebulaAllocatorError of `code` whose
// message holds every fragment.
export function isAllocatorError(code, ...fragments) {
    return e => {
        assert(e instanceof GLib.Error, `not a GLib.Error: ${e}`);
        assert(e.matches(Nebula.allocator_error_quark(), code),
            `expected code ${code}, got ${e.code}: ${e.message}`);
        for (const fragment of fragments)
            assert(e.message.includes(fragment), `'${fragment}' not in '${e.message}'`);
    };
}

export function assertEqual(actual, expected, message = '') {
    if (actual !== expected)
        throw new Error(`${message} expected ${expected}, got ${actual}`);
}

export function assertThrows(fn, check, message = '') {
    try {
        fn();
    } catch (e) {
        if (check)
            check(e);
        return e;
    }
    throw new Error(`${message} expected an exception`);
}

export async function run() {
    let failed = 0;
    print(`1..${tests.length}`);
    for (const [i, {name, fn}] of tests.entries()) {
        try {
            await fn();
            print(`ok ${i + 1} ${name}`);
        } catch (e) {
            failed++;
            print(`not ok ${i + 1} ${name}`);
            printerr(`# ${name}: ${e.message}\n${e.stack}`);
        }
    }
    print(`# ${tests.length - failed} passed, ${failed} failed`);
    System.exit(failed ? 1 : 0);
}
