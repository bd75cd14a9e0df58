/* nebula-version-macros.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib.h>

#include "nebula-version.h"

/* config.h defines _NEBULA_EXTERN with default visibility while the library
 * itself is compiled; everybody else sees a plain extern. */
#ifndef _NEBULA_EXTERN
# define _NEBULA_EXTERN extern
#endif

#define NEBULA_DEPRECATED            G_DEPRECATED _NEBULA_EXTERN

/**
 * NEBULA_DEPRECATED_FOR:
 * @f: the function to use instead
 *
 * Marks a declaration as deprecated, naming its replacement in the
 * compiler's warning.
 */
#define NEBULA_DEPRECATED_FOR(f)     G_DEPRECATED_FOR (f) _NEBULA_EXTERN

/**
 * NEBULA_UNAVAILABLE:
 * @maj: the major version that added the declaration
 * @min: the minor version that added it
 *
 * Marks a declaration added after %NEBULA_VERSION_MAX_ALLOWED: using it
 * gives a warning.
 */
#define NEBULA_UNAVAILABLE(maj, min) G_UNAVAILABLE (maj, min) _NEBULA_EXTERN

/**
 * NEBULA_VERSION_0_1:
 *
 * The version number of the 0.1 series, for %NEBULA_VERSION_MIN_REQUIRED
 * and %NEBULA_VERSION_MAX_ALLOWED.
 */
#define NEBULA_VERSION_0_1 (G_ENCODE_VERSION (0, 1))

/* The series being built, and the one before it (none yet before 0.1). */
#define NEBULA_VERSION_CUR_STABLE  (G_ENCODE_VERSION (NEBULA_MAJOR_VERSION, NEBULA_MINOR_VERSION))
#define NEBULA_VERSION_PREV_STABLE NEBULA_VERSION_0_1

/**
 * NEBULA_VERSION_MIN_REQUIRED:
 *
 * Define it before including `<nebula.h>` (for example to
 * %NEBULA_VERSION_0_1) to get warnings for API deprecated in that version
 * or earlier only. The default is the version of the headers.
 */
#ifndef NEBULA_VERSION_MIN_REQUIRED
# define NEBULA_VERSION_MIN_REQUIRED (NEBULA_VERSION_CUR_STABLE)
#endif

/**
 * NEBULA_VERSION_MAX_ALLOWED:
 *
 * Define it before including `<nebula.h>` to get warnings for API added
 * after that version. The default follows %NEBULA_VERSION_MIN_REQUIRED.
 */
#ifndef NEBULA_VERSION_MAX_ALLOWED
# if NEBULA_VERSION_MIN_REQUIRED > NEBULA_VERSION_PREV_STABLE
#  define NEBULA_VERSION_MAX_ALLOWED (NEBULA_VERSION_MIN_REQUIRED)
# else
#  define NEBULA_VERSION_MAX_ALLOWED (NEBULA_VERSION_CUR_STABLE)
# endif
#endif

#if NEBULA_VERSION_MAX_ALLOWED < NEBULA_VERSION_MIN_REQUIRED
# error "NEBULA_VERSION_MAX_ALLOWED must be >= NEBULA_VERSION_MIN_REQUIRED"
#endif

/* Every symbol is marked with the version that added it and, once it is
 * deprecated, the one that deprecated it (NEBULA_DEPRECATED_IN_x_y, or
 * NEBULA_DEPRECATED_IN_x_y_FOR (replacement)). A version's macros are
 * added with its first symbol. */
/**
 * NEBULA_DEPRECATED_IN_0_1_FOR:
 * @f: the function to use instead
 *
 * Marks a declaration deprecated in 0.1 in favour of @f: a warning when
 * %NEBULA_VERSION_MIN_REQUIRED is 0.1 or later.
 */
#if NEBULA_VERSION_MIN_REQUIRED >= NEBULA_VERSION_0_1
# define NEBULA_DEPRECATED_IN_0_1            NEBULA_DEPRECATED
# define NEBULA_DEPRECATED_IN_0_1_FOR(f)     NEBULA_DEPRECATED_FOR (f)
#else
# define NEBULA_DEPRECATED_IN_0_1            _NEBULA_EXTERN
# define NEBULA_DEPRECATED_IN_0_1_FOR(f)     _NEBULA_EXTERN
#endif

#if NEBULA_VERSION_MAX_ALLOWED < NEBULA_VERSION_0_1
# define NEBULA_AVAILABLE_IN_0_1             NEBULA_UNAVAILABLE (0, 1)
#else
# define NEBULA_AVAILABLE_IN_0_1             _NEBULA_EXTERN
#endif

/* For symbols that every version has. The headers mark their symbols with
 * the version that added them instead. */
#define NEBULA_AVAILABLE_IN_ALL _NEBULA_EXTERN
