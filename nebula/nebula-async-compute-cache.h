/* nebula-async-compute-cache.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <gio/gio.h>

#include "nebula-compute-cache.h"

G_BEGIN_DECLS

/**
 * NebulaComputeOutcome:
 * @NEBULA_COMPUTE_OUTCOME_HIT: the value was in the cache
 * @NEBULA_COMPUTE_OUTCOME_COMPUTED: this request started the computation
 * @NEBULA_COMPUTE_OUTCOME_JOINED: this request joined a computation that
 *   another request started
 * @NEBULA_COMPUTE_OUTCOME_STALE: the value was in the cache but older than
 *   #NebulaAsyncComputeCache:refresh-after; a refresh was started
 *
 * How nebula_async_compute_cache_get_or_compute_async() got its value.
 */
typedef enum
{
  NEBULA_COMPUTE_OUTCOME_HIT,
  NEBULA_COMPUTE_OUTCOME_COMPUTED,
  NEBULA_COMPUTE_OUTCOME_JOINED,
  NEBULA_COMPUTE_OUTCOME_STALE,
} NebulaComputeOutcome;

/**
 * NebulaAsyncComputeFunc:
 * @key: the key to compute
 * @cancellable: the computation's own cancellable, cancelled when nobody
 *   waits for the result any more or the cache is disposed
 * @task: the task to return the value on, exactly once, from any thread:
 *   g_task_return_value() with a #GValue holding a #GObject (or
 *   nebula_compute_task_return_object()), or g_task_return_error()
 * @user_data: the data given with the function
 *
 * Starts computing the value of @key for a #NebulaAsyncComputeCache. The
 * cache keeps @task alive until it is returned.
 *
 * The request completes whatever the function does: a task returned with
 * g_task_return_boolean(), g_task_return_int(), g_task_return_pointer() or
 * a #GValue that holds no object, and a task dropped without being
 * returned (every reference but the cache's gone), complete every waiter
 * with %NEBULA_CACHE_ERROR_FAILED. A request the function makes, while it
 * runs, that would wait for this very computation (joining it, or needing
 * a permit that only it and the computations around it hold) fails at
 * once with %NEBULA_CACHE_ERROR_FAILED.
 */
typedef void (*NebulaAsyncComputeFunc) (GVariant     *key,
                                        GCancellable *cancellable,
                                        GTask        *task,
                                        gpointer      user_data);

#define NEBULA_TYPE_ASYNC_COMPUTE_CACHE (nebula_async_compute_cache_get_type ())

NEBULA_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (NebulaAsyncComputeCache, nebula_async_compute_cache, NEBULA, ASYNC_COMPUTE_CACHE, GObject)

NEBULA_AVAILABLE_IN_ALL
NebulaAsyncComputeCache *nebula_async_compute_cache_new                   (NebulaEvictionPolicy      policy,
                                                                           guint                     max_entries);
NEBULA_AVAILABLE_IN_ALL
void                     nebula_async_compute_cache_get_or_compute_async  (NebulaAsyncComputeCache  *self,
                                                                           GVariant                 *key,
                                                                           NebulaAsyncComputeFunc    func,
                                                                           gpointer                  func_data,
                                                                           GDestroyNotify            func_destroy,
                                                                           GCancellable             *cancellable,
                                                                           GAsyncReadyCallback       callback,
                                                                           gpointer                  user_data);
NEBULA_AVAILABLE_IN_ALL
GObject                 *nebula_async_compute_cache_get_or_compute_finish (NebulaAsyncComputeCache  *self,
                                                                           GAsyncResult             *result,
                                                                           NebulaComputeOutcome     *outcome,
                                                                           GError                  **error);
NEBULA_AVAILABLE_IN_ALL
gboolean                 nebula_async_compute_cache_invalidate            (NebulaAsyncComputeCache  *self,
                                                                           GVariant                 *key);
NEBULA_AVAILABLE_IN_ALL
void                     nebula_async_compute_cache_invalidate_all        (NebulaAsyncComputeCache  *self);
NEBULA_AVAILABLE_IN_ALL
guint                    nebula_async_compute_cache_get_n_entries         (NebulaAsyncComputeCache  *self);
NEBULA_AVAILABLE_IN_ALL
guint                    nebula_async_compute_cache_get_n_flights         (NebulaAsyncComputeCache  *self);
NEBULA_AVAILABLE_IN_ALL
NebulaCacheStats        *nebula_async_compute_cache_get_stats             (NebulaAsyncComputeCache  *self);
NEBULA_AVAILABLE_IN_ALL
void                     nebula_async_compute_cache_set_clock             (NebulaAsyncComputeCache  *self,
                                                                           NebulaClockFunc           func,
                                                                           gpointer                  user_data,
                                                                           GDestroyNotify            destroy);
NEBULA_AVAILABLE_IN_ALL
void                     nebula_compute_task_return_object                (GTask                    *task,
                                                                           GObject                  *value);

G_END_DECLS
