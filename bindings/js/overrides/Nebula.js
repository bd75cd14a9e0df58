// SPDX-License-Identifier: LGPL-2.1-or-later
// The gjs override of Nebula: gjs runs _init() on the namespace the first
// time a program imports it (import Nebula from 'gi://Nebula'), when this
// file is on gjs's search path: installed in <datadir>/gjs-1.0/overrides/
// (/usr and /usr/local are on the default path; for another prefix, set
// GJS_PATH=<prefix>/share/gjs-1.0). It adds what JavaScript cannot say
// through GObject Introspection alone: scopes that end on every path out
// of a function, sync or async, errors explained, views on blocks, plain
// cache keys and compute functions that may throw. The same functions are
// exported by the ES module nebula.js, for programs written against it.
//
// An override is a script, not a module: it reaches other namespaces
// through imports.gi.
/* exported _init */

const {GLib, GObject} = imports.gi;

// The namespace being overridden; set by _init() before anything below
// runs.
let Nebula = null;

/**
 * The alignment allocate() uses when none is given: enough for every C
 * scalar up to 8 bytes (int64_t, double, pointers).
 */
const DEFAULT_ALIGNMENT = 8;

/**
 * Allocates `size` bytes from `allocator`, aligned to `alignment`.
 *
 * @param {Nebula.Allocator} allocator any Nebula allocator
 * @param {number} size bytes
 * @param {number} [alignment] a power of two, DEFAULT_ALIGNMENT if omitted
 * @returns {number} the block's address
 */
function allocate(allocator, size, alignment = DEFAULT_ALIGNMENT) {
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
function withScope(bump, fn) {
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
function withFrame(stack, fn, {high = false} = {}) {
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
function withContext(name, fn) {
    Nebula.context_push(name);
    return bracket(fn, () => Nebula.context_pop());
}

// The C catalogue's advice that only a C program can follow, and what a
// JavaScript program does instead.
const C_ADVICE = [
    ['construct with nebula_*_allocator_new() or g_initable_new() so the configuration is checked',
        'construct with a static constructor (Nebula.PoolAllocator.new(...)) or new, then init(), so the configuration is checked'],
    ['such as 8 or G_ALIGNOF (type)', 'such as 8 or the element size of a typed array'],
    ['less than G_MAXSSIZE bytes', 'less than Number.MAX_SAFE_INTEGER bytes'],
    [' (g_clear_pointer)', ''],
    ['or use nebula_allocator_new() which checks them', 'or use allocate_array(), which checks them'],
    ['Use a non-NULL GVariant of a basic type (or a tuple of them) as the key.',
        'Use a string, number, boolean, bigint or an array of them (or a GLib.Variant) as the key.'],
];

let propertyNames = null;

// `text` with property names as a gjs program writes them in a
// constructor's properties: `block_count:` for the property "block-count".
function scriptSuggestion(text) {
    if (text === null)
        return null;
    if (propertyNames === null) {
        propertyNames = new Set();
        for (const type of [Nebula.BumpAllocator, Nebula.PoolAllocator, Nebula.StackAllocator,
            Nebula.SystemAllocator, Nebula.ComputeCache, Nebula.AsyncComputeCache]) {
            for (const pspec of GObject.Object.list_properties.call(type))
                propertyNames.add(pspec.get_name());
        }
    }
    for (const [cAdvice, jsAdvice] of C_ADVICE)
        text = text.replace(cAdvice, jsAdvice);
    return text.replace(/'?\b([a-z]+(?:-[a-z]+)*)\b'?( property\b)?/g, (match, name, property) => {
        if (!propertyNames.has(name))
            return match;
        return `${name.replaceAll('-', '_')}:${property ? ' property' : ''}`;
    });
}

/**
 * Everything a Nebula error carries, as C records it: the suggestion (with
 * property names spelled as a constructor's properties, `block_count:`),
 * whether retrying can succeed, the numbers (0 where they do not apply),
 * the allocator's name and the call-site context (null when unknown).
 *
 * @param {GLib.Error} error an error thrown by a Nebula call
 * @returns {{message: string, code: number, suggestion: string,
 *   retryable: boolean, requested: number, available: number,
 *   capacity: number, allocatorName: ?string, context: ?string}}
 */
function explain(error) {
    return {
        message: error.message,
        code: error.code,
        suggestion: scriptSuggestion(Nebula.error_get_suggestion(error)),
        retryable: Nebula.error_is_retryable(error),
        requested: Nebula.error_get_requested(error),
        available: Nebula.error_get_available(error),
        capacity: Nebula.error_get_capacity(error),
        allocatorName: Nebula.error_get_allocator_name(error),
        context: Nebula.error_get_context(error),
    };
}

/**
 * A window on `size` bytes at `address` of `allocator`: gjs cannot alias
 * foreign memory, so read() and write() copy. Every call checks the span
 * in C (Nebula.Allocator.check_span_address()), so a freed, reset or
 * foreign block throws NEBULA_ALLOCATOR_ERROR_INVALID_POINTER instead of
 * touching memory. The view keeps the allocator alive, not the block.
 *
 * @param {Nebula.Allocator} allocator the allocator that handed out the block
 * @param {number} address the first byte
 * @param {number} size bytes
 * @returns {{address: number, size: number,
 *   read: function(number=, number=): Uint8Array,
 *   write: function(Uint8Array, number=)}}
 */
function view(allocator, address, size) {
    allocator.check_span_address(address, size);
    const inside = (offset, length) => {
        if (offset < 0 || length < 0 || offset + length > size)
            throw new RangeError(`${length} bytes at offset ${offset} do not fit a view of ${size} bytes`);
    };
    return {
        allocator,
        address,
        size,
        read(offset = 0, length = size - offset) {
            inside(offset, length);
            return allocator.read_address(address + offset, length).toArray();
        },
        write(bytes, offset = 0) {
            inside(offset, bytes.length);
            allocator.write_address(address + offset, bytes);
        },
    };
}

/**
 * The GLib.Variant a cache keeps for a plain JavaScript key: a string,
 * boolean, integer (int64), other number (double), bigint (int64) or an
 * array of them (a tuple). A GLib.Variant passes unchanged; anything else
 * is left for the cache to refuse with INVALID_KEY.
 *
 * @param {*} value the key
 * @returns {GLib.Variant|*} the key the cache takes
 */
function cacheKey(value) {
    if (value instanceof GLib.Variant)
        return value;
    // The typed constructors, not new GLib.Variant(format, value): that one
    // packs in JavaScript and costs more than a whole hit (docs/caches.md,
    // "the cost of a hit").
    switch (typeof value) {
    case 'string':
        return GLib.Variant.new_string(value);
    case 'boolean':
        return GLib.Variant.new_boolean(value);
    case 'bigint':
        return new GLib.Variant('x', value);
    case 'number':
        return Number.isSafeInteger(value) ? GLib.Variant.new_int64(value) : GLib.Variant.new_double(value);
    default:
        if (Array.isArray(value))
            return GLib.Variant.new_tuple(value.map(cacheKey));
        return value;
    }
}

/**
 * Nebula.ComputeCache.get_or_compute() with a plain JavaScript key, which
 * `func` receives as it was passed. A throw from `func` reaches the caller
 * unchanged; nothing is stored.
 *
 * @param {Nebula.ComputeCache} cache the cache
 * @param {*} key a plain key (see cacheKey()) or a GLib.Variant
 * @param {function(*): GObject.Object} func computes the value on a miss
 * @returns {GObject.Object} the value
 */
function getOrComputeSync(cache, key, func) {
    let thrown = null;
    try {
        return cache.get_or_compute(cacheKey(key), () => {
            try {
                return func(key);
            } catch (e) {
                thrown = {e};
                return null;
            }
        });
    } catch (e) {
        if (thrown !== null)
            throw thrown.e;
        throw e;
    }
}

// `${allocator}`: the type, the name and the fill, as Python's repr().
function allocatorToString() {
    const name = this.name ? ` '${this.name}'` : '';
    return `[Nebula.${this.constructor.name.replace(/^Nebula_/, '')}${name} ` +
        `bytes_used=${this.bytes_used} bytes_available=${this.bytes_available}]`;
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
function wrapCompute(func) {
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
 * @param {*} key a plain key (see cacheKey()) or a GLib.Variant
 * @param {function(GLib.Variant, Gio.Cancellable, Gio.Task): *} func the
 *   compute function
 * @param {Gio.Cancellable} [cancellable] cancels this request only
 * @returns {Promise<Array>} `[value, outcome]`; rejects with the request's
 *   error
 */
function getOrCompute(cache, key, func, cancellable = null) {
    return new Promise((resolve, reject) => {
        cache.get_or_compute_async(cacheKey(key), wrapCompute(func), cancellable, (source, result) => {
            try {
                resolve(source.get_or_compute_finish(result));
            } catch (e) {
                reject(e);
            }
        });
    });
}

// What the C setter asserts, thrown as a RangeError: a value outside the
// property's range.
function rangeCheckedSetter(type, name) {
    const setter = type.prototype[`set_${name}`];
    const pspec = GObject.Object.find_property.call(type, name);
    return function (value) {
        const checked = new GObject.Value();
        checked.init(pspec.value_type);
        if (pspec.value_type === GObject.TYPE_UINT64)
            checked.set_uint64(value);
        else
            checked.set_uint(value);
        if (GObject.param_value_validate(pspec, checked))
            throw new RangeError(`${name} ${value} is out of the range of ${type.$gtype.name}:${name}`);
        return setter.call(this, value);
    };
}

// Methods, for the same functions: bump.withScope(fn),
// stack.withFrame(fn, options), allocator.view(address, size),
// cache.getOrCompute(key, func).
function _init() {
    Nebula = this;
    const allocators = [Nebula.BumpAllocator, Nebula.PoolAllocator, Nebula.StackAllocator,
        Nebula.SystemAllocator];

    Object.assign(Nebula, {
        DEFAULT_ALIGNMENT,
        allocate,
        withScope,
        withFrame,
        withContext,
        explain,
        view,
        cacheKey,
        getOrComputeSync,
        wrapCompute,
        getOrCompute,
    });

    for (const type of allocators) {
        type.prototype.toString = allocatorToString;
        type.prototype.view = function (address, size) {
            return view(this, address, size);
        };
    }
    Nebula.BumpAllocator.prototype.withScope = function (fn) {
        return withScope(this, fn);
    };
    Nebula.StackAllocator.prototype.withFrame = function (fn, options) {
        return withFrame(this, fn, options);
    };
    Nebula.ComputeCache.prototype.getOrCompute = function (key, func) {
        return getOrComputeSync(this, key, func);
    };
    Nebula.AsyncComputeCache.prototype.getOrCompute = function (key, func, cancellable = null) {
        return getOrCompute(this, key, func, cancellable);
    };

    // The introspected calls take plain keys too, and a compute function
    // that throws completes its request with the error (gjs only logs what
    // a callback throws, and the request would wait for the garbage
    // collector).
    // The boxed types' free() and unref() give back the memory gjs still
    // owns and frees again at garbage collection: the scripts' double free.
    for (const name of Object.getOwnPropertyNames(Nebula)) {
        const type = Nebula[name];
        if (typeof type !== 'function' || !type.prototype ||
            type.prototype instanceof GObject.Object || type.prototype instanceof GLib.Error)
            continue;
        for (const method of ['free', 'unref']) {
            if (typeof type.prototype[method] !== 'function')
                continue;
            type.prototype[method] = function () {
                throw new Error(`Nebula.${name} is freed by gjs when it is garbage-collected: ` +
                    'a script must not free it (a double free)');
            };
        }
    }

    // Nothing to pop is an exception, not an assertion.
    const contextPop = Nebula.context_pop;
    Nebula.context_pop = function () {
        if (Nebula.HAS_ERROR_CONTEXT && Nebula.context_get_path() === null)
            throw new Error('context_pop() without a matching context_push() on this thread');
        contextPop();
    };
    for (const name of ['iterations', 'threads', 'rounds'])
        Nebula.Benchmark.prototype[`set_${name}`] = rangeCheckedSetter(Nebula.Benchmark, name);

    const getOrComputeAsync = Nebula.AsyncComputeCache.prototype.get_or_compute_async;
    Nebula.AsyncComputeCache.prototype.get_or_compute_async = function (key, func, ...rest) {
        return getOrComputeAsync.call(this, cacheKey(key),
            typeof func === 'function' ? wrapCompute(func) : func, ...rest);
    };
}
