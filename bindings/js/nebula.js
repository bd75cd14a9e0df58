// SPDX-License-Identifier: LGPL-2.1-or-later
// Nebula's conveniences for gjs as an ES module. They live in Nebula's gjs
// override (overrides/Nebula.js), which gjs applies to the namespace on
// `import Nebula from 'gi://Nebula'`: programs call Nebula.withScope(),
// bump.withScope(), Nebula.explain() and the rest without importing this
// file. It remains for programs written against its exports.
import Nebula from 'gi://Nebula?version=1';

if (typeof Nebula.withScope !== 'function') {
    throw new Error("Nebula's gjs override is not on gjs's search path: install Nebula into " +
        "/usr or /usr/local, or set GJS_PATH=<prefix>/share/gjs-1.0");
}

export const {
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
} = Nebula;
