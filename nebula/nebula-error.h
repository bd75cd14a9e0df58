/* nebula-error.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib.h>

#include "nebula-version-macros.h"

G_BEGIN_DECLS

/**
 * NEBULA_ALLOCATOR_ERROR:
 *
 * The error domain of the allocators. Errors in this domain carry extended
 * detail (see nebula_error_get_requested() and friends) and a suggestion
 * (nebula_error_get_suggestion()).
 */
#define NEBULA_ALLOCATOR_ERROR (nebula_allocator_error_quark ())

/**
 * NEBULA_CACHE_ERROR:
 *
 * The error domain of the compute caches.
 */
#define NEBULA_CACHE_ERROR (nebula_cache_error_quark ())

/**
 * NebulaAllocatorError:
 * @NEBULA_ALLOCATOR_ERROR_FAILED: an unspecified failure
 * @NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY: the system refused memory
 * @NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT: the size or alignment does not fit
 *   what this allocator hands out, or does not match the allocation
 * @NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT: the alignment is not a power of two
 * @NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW: size plus alignment (or a count times
 *   an element size) overflows
 * @NEBULA_ALLOCATOR_ERROR_EXCEEDS_MAX_SIZE: the request is larger than any
 *   allocation can be
 * @NEBULA_ALLOCATOR_ERROR_EXHAUSTED: the allocator has no room left for the
 *   request; retry after freeing or resetting
 * @NEBULA_ALLOCATOR_ERROR_INVALID_POINTER: the pointer was not handed out by
 *   this allocator
 * @NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE: the pointer was already freed
 * @NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER: a LIFO allocator was asked to free a
 *   block that is not on top
 * @NEBULA_ALLOCATOR_ERROR_STALE_MARKER: a checkpoint or marker belongs to
 *   another allocator, predates a reset, or lies above the current top
 * @NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED: a memory budget refused the charge
 * @NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG: the configuration is invalid, or the
 *   object was never initialized
 * @NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED: the allocator does not support the
 *   operation
 * @NEBULA_ALLOCATOR_ERROR_CORRUPTION: the allocator found its own bookkeeping
 *   damaged
 *
 * Error codes of the %NEBULA_ALLOCATOR_ERROR domain. docs/errors.md explains
 * every code: its causes and what to do.
 */
typedef enum
{
  NEBULA_ALLOCATOR_ERROR_FAILED,
  NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY,
  NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT,
  NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT,
  NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW,
  NEBULA_ALLOCATOR_ERROR_EXCEEDS_MAX_SIZE,
  NEBULA_ALLOCATOR_ERROR_EXHAUSTED,
  NEBULA_ALLOCATOR_ERROR_INVALID_POINTER,
  NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE,
  NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER,
  NEBULA_ALLOCATOR_ERROR_STALE_MARKER,
  NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED,
  NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG,
  NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED,
  NEBULA_ALLOCATOR_ERROR_CORRUPTION,
} NebulaAllocatorError;

/**
 * NebulaCacheError:
 * @NEBULA_CACHE_ERROR_FAILED: an unspecified failure
 * @NEBULA_CACHE_ERROR_CIRCUIT_OPEN: the circuit breaker of the key is open
 * @NEBULA_CACHE_ERROR_BUSY: the queue of waiting computations is full
 * @NEBULA_CACHE_ERROR_INVALID_KEY: the key cannot be used (wrong type, %NULL)
 * @NEBULA_CACHE_ERROR_OVERFLOW: the value does not fit the cache's bound
 *
 * Error codes of the %NEBULA_CACHE_ERROR domain.
 */
typedef enum
{
  NEBULA_CACHE_ERROR_FAILED,
  NEBULA_CACHE_ERROR_CIRCUIT_OPEN,
  NEBULA_CACHE_ERROR_BUSY,
  NEBULA_CACHE_ERROR_INVALID_KEY,
  NEBULA_CACHE_ERROR_OVERFLOW,
} NebulaCacheError;

NEBULA_AVAILABLE_IN_0_1
GQuark       nebula_allocator_error_quark     (void);
NEBULA_AVAILABLE_IN_0_1
GQuark       nebula_cache_error_quark         (void);
NEBULA_AVAILABLE_IN_0_1
const char  *nebula_error_get_suggestion      (const GError *error);
NEBULA_AVAILABLE_IN_0_1
gboolean     nebula_error_is_retryable        (const GError *error);
NEBULA_AVAILABLE_IN_0_1
gboolean     nebula_error_has_detail          (const GError *error);
NEBULA_AVAILABLE_IN_0_1
guint64      nebula_error_get_requested       (const GError *error);
NEBULA_AVAILABLE_IN_0_1
guint64      nebula_error_get_available       (const GError *error);
NEBULA_AVAILABLE_IN_0_1
guint64      nebula_error_get_capacity        (const GError *error);
NEBULA_AVAILABLE_IN_0_1
const char  *nebula_error_get_allocator_name  (const GError *error);
NEBULA_AVAILABLE_IN_0_1
const char  *nebula_error_get_context         (const GError *error);
NEBULA_AVAILABLE_IN_0_1
char        *nebula_error_format              (const GError *error);

G_END_DECLS
