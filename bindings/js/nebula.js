// SPDX-License-Identifier: LGPL-2.1-or-later
// Conveniences for using Nebula from gjs. Everything here is a thin layer
// over the introspected API (import Nebula from 'gi://Nebula'); it exists
// for what JavaScript cannot say through GObject Introspection alone:
// scopes that end on every path out of a function, sync or async.
import GLib from 'gi://GLib';
import Nebula from 'gi://Nebula?version=1';

/**
 * The alignment allocate() uses when none is given: enough for every C
 * scalar up to 8 bytes (int64_t, double, pointers).
 */
export const DEFAULT_ALIGNMENT = 8;

/**
 * Allocates `size` bytes from `allocator`, aligned to `alignment`.
 *
 * @param {Nebula.Allocator} allocator any Nebula allocator
 * @param {number} size bytes
 * @param {number} [alignment] a power of two, DEFAULT_ALIGNMENT if omitted
 * @returns {number} the block's address
 */
export function allocate(allocator, size, alignment = DEFAULT_ALIGNMENT) {
    return allocator.allocate(size, alignment);
}

// Runs `fn`, then `leave` once fn has returned, thrown, or (when fn returns
// a promise) settled.
function bracket(fn, leave) {
    let result;
    try {
        result = fn();
    } catch (e) {
        leave();
        throw e;
    }
    if (result instanceof Promise)
        return result.finally(leave);
    leave();
    return result;
}

/**
 * Runs `fn(bump)` and then rewinds `bump` to where it was, releasing
 * everything `fn` allocated, however `fn` ends. An async `fn` is awaited:
 * the promise withScope() returns settles after the rewind.
 *
 * @param {Nebula.BumpAllocator} bump the allocator to rewind
 * @param {function(Nebula.BumpAllocator): *} fn the work
 * @returns {*} what `fn` returns
 */
export function withScope(bump, fn) {
    const checkpoint = bump.checkpoint();
    return bracket(() => fn(bump), () => bump.restore(checkpoint));
}

/**
 * Runs `fn(stack)` and then releases everything pushed on one end of
 * `stack` meanwhile, however `fn` ends; the stack counterpart of
 * withScope(), and of Python's `with stack.frame():`. An async `fn` is
 * awaited.
 *
 * @param {Nebula.StackAllocator} stack the stack
 * @param {function(Nebula.StackAllocator): *} fn the work
 * @param {{high: boolean}} [options] `high: true` for the high end of a
 *   double-ended stack
 * @returns {*} what `fn` returns
 */
export function withFrame(stack, fn, {high = false} = {}) {
    const marker = high ? stack.mark_high() : stack.mark();
    return bracket(() => fn(stack), () => stack.release_to_marker(marker));
}

/**
 * Runs `fn()` with `name` on the thread's call-site context stack, so that
 * errors raised meanwhile say where they happened ("in handler > parse").
 * For an async `fn`, the name stays pushed until its promise settles: keep
 * other work off the main loop meanwhile or the names interleave.
 *
 * @param {string} name the call site, such as "parse_request"
 * @param {function(): *} fn the work
 * @returns {*} what `fn` returns
 */
export function withContext(name, fn) {
    Nebula.context_push(name);
    return bracket(fn, () => Nebula.context_pop());
}

/**
 * The parts of a Nebula error a program acts on.
 *
 * @param {GLib.Error} error an error thrown by a Nebula call
 * @returns {{message: string, suggestion: string, retryable: boolean}}
 */
export function explain(error) {
    return {
        message: error.message,
        suggestion: Nebula.error_get_suggestion(error),
        retryable: Nebula.error_is_retryable(error),
    };
}

// The error a request completes with when its compute function threw `e`:
// a GLib.Error as it is, anything else as FAILED with its name and message.
function computeError(e) {
    if (e instanceof GLib.Error)
        return e;
    const what = e instanceof Error ? `${e.name}: ${e.message}` : `${e}`;
    return new GLib.Error(Nebula.cache_error_quark(), Nebula.CacheError.FAILED,
        `The compute function threw ${what}`);
}

/**
 * Wraps a compute function for Nebula.AsyncComputeCache so that a throw
 * (or, for an async function, a rejection) returns the task with an error:
 * a GLib.Error as it is, anything else as Nebula.CacheError.FAILED carrying
 * its message. Without it gjs logs the exception and the request completes
 * (with "dropped its task") only once the garbage collector frees the task.
 * `func` must not throw after it returned the task.
 *
 * @param {function(GLib.Variant, Gio.Cancellable, Gio.Task): *} func
 *   returns the task once, with task.return_value(obj) or task.return_error()
 * @returns {function(GLib.Variant, Gio.Cancellable, Gio.Task)} the wrapper
 */
export function wrapCompute(func) {
    return (key, cancellable, task) => {
        let result;
        try {
            result = func(key, cancellable, task);
        } catch (e) {
            task.return_error(computeError(e));
            return;
        }
        if (result instanceof Promise)
            result.catch(e => task.return_error(computeError(e)));
    };
}

/**
 * Gets the value of `key` from `cache`, computing it with `func` (wrapped
 * with wrapCompute()) on a miss.
 *
 * @param {Nebula.AsyncComputeCache} cache the cache
 * @param {GLib.Variant} key the key
 * @param {function(GLib.Variant, Gio.Cancellable, Gio.Task): *} func the
 *   compute function
 * @param {Gio.Cancellable} [cancellable] cancels this request only
 * @returns {Promise<Array>} `[value, outcome]`; rejects with the request's
 *   error
 */
export function getOrCompute(cache, key, func, cancellable = null) {
    return new Promise((resolve, reject) => {
        cache.get_or_compute_async(key, wrapCompute(func), cancellable, (source, result) => {
            try {
                resolve(source.get_or_compute_finish(result));
            } catch (e) {
                reject(e);
            }
        });
    });
}
