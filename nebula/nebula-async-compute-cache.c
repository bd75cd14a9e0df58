/* nebula-async-compute-cache.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-async-compute-cache-private.h"
#include "nebula-cache-key-private.h"
#include "nebula-circuit-breaker-private.h"
#include "nebula-compute-cache-private.h"
#include "nebula-compute-flight-private.h"
#include "nebula-compute-permit-private.h"
#include "nebula-compute-task-private.h"
#include "nebula-compute-waiter-private.h"
#include "nebula-enums.h"
#include "nebula-error-private.h"
#include "nebula-sanitizer-private.h"

/**
 * NebulaAsyncComputeCache:
 *
 * An asynchronous get-or-compute cache built on [class@GIO.Task].
 *
 * [method@AsyncComputeCache.get_or_compute_async] completes with the
 * stored value, or starts a computation: the compute function gets the key,
 * a cancellable of its own and a task that it returns exactly once, from
 * any thread. Every request completes exactly once, in the thread-default
 * main context of its caller, and never before the `_async` call returns.
 *
 * Features cost nothing until they are configured:
 *
 * - [property@AsyncComputeCache:deduplicate]: concurrent misses of one key
 *   share one computation (single flight); the first gets
 *   %NEBULA_COMPUTE_OUTCOME_COMPUTED, the others %NEBULA_COMPUTE_OUTCOME_JOINED.
 * - [property@AsyncComputeCache:max-concurrent] and
 *   [property@AsyncComputeCache:max-queued]: at most so many computations
 *   run, the others wait first in first out; past the queue's bound
 *   requests fail with %NEBULA_CACHE_ERROR_BUSY.
 * - [property@AsyncComputeCache:circuit-breaker]: a key whose computations
 *   failed [property@AsyncComputeCache:failure-threshold] times in a row
 *   fails at once with %NEBULA_CACHE_ERROR_CIRCUIT_OPEN for
 *   [property@AsyncComputeCache:open-duration]; then one probe runs.
 *
 * A request always completes, even when the compute function returns its
 * task with something other than an object, drops it unreturned, or asks
 * for a key whose computation would wait for it (see
 * #NebulaAsyncComputeFunc).
 *
 * Errors of a computation reach every waiter and are never stored. A
 * waiter's cancellable completes only that waiter; when the last waiter is
 * gone the computation is cancelled (unless
 * [property@AsyncComputeCache:keep-abandoned-flights]). A computation that
 * was detached from its key (abandoned, or by an invalidation) never stores
 * its result.
 *
 * A computation's task completes in the thread-default main context of the
 * request that started it, as for any #GTask: that context must keep
 * running until the computation returned, even if that request was
 * cancelled while requests from other threads wait on the computation.
 *
 * Running computations and pending requests keep the cache alive;
 * g_object_run_dispose() cancels every computation and completes every
 * pending request with %G_IO_ERROR_CANCELLED.
 *
 * The rules, with the tests that check them, and measurements are in
 * [Compute caches](caches.html).
 */

enum {
  PROP_0,
  PROP_POLICY,
  PROP_MAX_ENTRIES,
  PROP_MAX_WEIGHT,
  PROP_TIME_TO_LIVE,
  PROP_TIME_TO_IDLE,
  PROP_REFRESH_AFTER,
  PROP_DEDUPLICATE,
  PROP_KEEP_ABANDONED_FLIGHTS,
  PROP_MAX_CONCURRENT,
  PROP_MAX_QUEUED,
  PROP_CIRCUIT_BREAKER,
  PROP_FAILURE_THRESHOLD,
  PROP_OPEN_DURATION,
  N_PROPS
};

enum {
  LOAD_FAILED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (NebulaAsyncComputeCache, nebula_async_compute_cache, G_TYPE_OBJECT)

static void
set_self_wait_error (NebulaAsyncComputeCache  *self,
                     GVariant                 *key,
                     gboolean                  joining,
                     GError                  **error)
{
  g_autofree char *printed = g_variant_print (key, TRUE);

  if (joining)
    nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                      "The request for key %s was made by the compute function of the "
                      "computation it would join: it would wait for itself",
                      printed);
  else
    nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                      "The request for key %s needs a computation permit, and all %u "
                      "(max-concurrent %u) are held by the computations whose compute "
                      "functions made it: it would wait for itself",
                      printed, self->running, self->max_concurrent);
}

/* A stale hit starts one background refresh, unless a flight for the key
 * is already running, its circuit is open or the queue is full. */
static Flight *
maybe_refresh (NebulaAsyncComputeCache *self,
               GVariant                *key,
               NebulaAsyncComputeFunc   func,
               gpointer                 func_data,
               GDestroyNotify           func_destroy)
{
  Flight *flight;
  gboolean probe;

  if (g_hash_table_contains (self->flights, key))
    return NULL;
  if (!nebula_circuit_breaker_admit (self, key, &probe, NULL))
    return NULL;

  flight = nebula_compute_permit_new_flight (self, key, func, func_data, func_destroy, probe, NULL);
  if (flight == NULL)
    {
      if (probe)
        nebula_circuit_breaker_reopen (self, key);
      return NULL;
    }
  flight->refresh = TRUE;
  return flight;
}

/**
 * nebula_async_compute_cache_new:
 * @policy: the eviction policy
 * @max_entries: the most entries the cache holds, 0 for no limit
 *
 * Creates an asynchronous cache with none of the optional features; set
 * them as construct properties with g_object_new() instead.
 *
 * Returns: (transfer full): a new #NebulaAsyncComputeCache
 */
NebulaAsyncComputeCache *
nebula_async_compute_cache_new (NebulaEvictionPolicy policy,
                                guint                max_entries)
{
  return g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                       "policy", policy,
                       "max-entries", max_entries,
                       NULL);
}

/**
 * nebula_async_compute_cache_get_or_compute_async:
 * @self: a #NebulaAsyncComputeCache
 * @key: the key, a #GVariant of a basic type or a tuple of them
 * @func: (scope notified) (closure func_data) (destroy func_destroy): starts
 *   the computation on a miss
 * @func_data: data for @func
 * @func_destroy: (nullable): frees @func_data once @func is no longer needed
 * @cancellable: (nullable): completes this request (only) with
 *   %G_IO_ERROR_CANCELLED
 * @callback: (scope async) (closure user_data): called when the value is
 *   there
 * @user_data: data for @callback
 *
 * Gets the value of @key, computing it with @func on a miss. @callback
 * runs in the thread-default main context of the caller, always after this
 * function returned. A floating @key is consumed.
 */
void
nebula_async_compute_cache_get_or_compute_async (NebulaAsyncComputeCache *self,
                                                 GVariant                *key,
                                                 NebulaAsyncComputeFunc   func,
                                                 gpointer                 func_data,
                                                 GDestroyNotify           func_destroy,
                                                 GCancellable            *cancellable,
                                                 GAsyncReadyCallback      callback,
                                                 gpointer                 user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) value = NULL;
  g_autoptr(GVariant) owned_key = NULL;
  GQueue to_start = G_QUEUE_INIT;
  Flight *flight = NULL;
  Waiter *waiter;
  gint64 written_at = 0;
  gboolean probe;

  g_return_if_fail (NEBULA_IS_ASYNC_COMPUTE_CACHE (self));
  g_return_if_fail (func != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, nebula_async_compute_cache_get_or_compute_async);
  g_task_set_task_data (task, GINT_TO_POINTER (NEBULA_COMPUTE_OUTCOME_COMPUTED), NULL);

  if (!nebula_cache_check_key (key, &error))
    goto fail;
  owned_key = g_variant_ref_sink (key);

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      nebula_mutex_lock (&self->mutex);
      self->stats.requests++;
      self->stats.misses++;
      self->stats.cancellations++;
      nebula_mutex_unlock (&self->mutex);
      goto fail;
    }

  nebula_mutex_lock (&self->mutex);
  if (self->disposed)
    {
      nebula_mutex_unlock (&self->mutex);
      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The cache was disposed");
      goto fail;
    }

  self->stats.requests++;
  value = nebula_compute_cache_peek (self->store, owned_key, &written_at);
  if (value != NULL)
    {
      NebulaComputeOutcome outcome = NEBULA_COMPUTE_OUTCOME_HIT;

      self->stats.hits++;
      if (self->refresh_after > 0 &&
          nebula_compute_cache_now (self->store) - written_at >= (gint64) self->refresh_after)
        {
          outcome = NEBULA_COMPUTE_OUTCOME_STALE;
          self->stats.stale_hits++;
          flight = maybe_refresh (self, owned_key, func, func_data, func_destroy);
          if (flight != NULL && flight->state == FLIGHT_RUNNING)
            g_queue_push_tail (&to_start, flight);
        }
      nebula_mutex_unlock (&self->mutex);

      if (flight == NULL && func_destroy != NULL)
        func_destroy (func_data);
      g_task_set_task_data (task, GINT_TO_POINTER (outcome), NULL);
      /* GTask defers the callback: this dispatch created the task. */
      g_task_return_pointer (task, g_steal_pointer (&value), g_object_unref);
      nebula_compute_flight_start_all (&to_start);
      return;
    }

  self->stats.misses++;
  flight = g_hash_table_lookup (self->flights, owned_key);
  if (flight != NULL && (self->deduplicate || flight->probe))
    {
      if (nebula_compute_flight_computing_in_thread (flight))
        {
          set_self_wait_error (self, owned_key, TRUE, &error);
          nebula_mutex_unlock (&self->mutex);
          goto fail;
        }
      self->stats.joins++;
      waiter = nebula_compute_waiter_new (self, task, cancellable, NEBULA_COMPUTE_OUTCOME_JOINED);
      nebula_compute_waiter_add (flight, waiter);
      /* Once the lock is dropped, the flight may complete on another
       * thread and drop its reference: hold one until connected. */
      g_atomic_rc_box_acquire (waiter);
      nebula_mutex_unlock (&self->mutex);

      if (func_destroy != NULL)
        func_destroy (func_data);
      nebula_compute_waiter_connect (self, waiter);
      nebula_compute_waiter_unref (waiter);
      return;
    }

  if (!nebula_circuit_breaker_admit (self, owned_key, &probe, &error))
    {
      self->stats.rejected_open++;
      nebula_mutex_unlock (&self->mutex);
      goto fail;
    }

  if (nebula_compute_permit_held_in_thread (self))
    {
      set_self_wait_error (self, owned_key, FALSE, &error);
      if (probe)
        nebula_circuit_breaker_reopen (self, owned_key);
      nebula_mutex_unlock (&self->mutex);
      goto fail;
    }

  flight = nebula_compute_permit_new_flight (self, owned_key, func, func_data, func_destroy, probe, &error);
  if (flight == NULL)
    {
      self->stats.rejected_busy++;
      if (probe)
        nebula_circuit_breaker_reopen (self, owned_key);
      nebula_mutex_unlock (&self->mutex);
      goto fail;
    }
  waiter = nebula_compute_waiter_new (self, task, cancellable, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  nebula_compute_waiter_add (flight, waiter);
  if (flight->state == FLIGHT_RUNNING)
    g_queue_push_tail (&to_start, flight);
  g_atomic_rc_box_acquire (waiter);       /* as above */
  nebula_mutex_unlock (&self->mutex);

  nebula_compute_waiter_connect (self, waiter);
  nebula_compute_waiter_unref (waiter);
  nebula_compute_flight_start_all (&to_start);
  return;

fail:
  if (func_destroy != NULL)
    func_destroy (func_data);
  g_task_return_error (task, g_steal_pointer (&error));
}

/**
 * nebula_async_compute_cache_get_or_compute_finish:
 * @self: a #NebulaAsyncComputeCache
 * @result: the result given to the callback
 * @outcome: (out) (optional): how the value was obtained
 * @error: return location for an error
 *
 * Finishes nebula_async_compute_cache_get_or_compute_async().
 *
 * Returns: (transfer full): the value, or %NULL with @error set: the
 *   computation's error, %G_IO_ERROR_CANCELLED,
 *   %NEBULA_CACHE_ERROR_CIRCUIT_OPEN, %NEBULA_CACHE_ERROR_BUSY,
 *   %NEBULA_CACHE_ERROR_INVALID_KEY, or %NEBULA_CACHE_ERROR_FAILED when
 *   the compute function returned something other than an object or an
 *   error, dropped its task, or the request would have waited for the
 *   computation that made it, or when @result is not an unfinished result
 *   of this cache's nebula_async_compute_cache_get_or_compute_async()
 */
GObject *
nebula_async_compute_cache_get_or_compute_finish (NebulaAsyncComputeCache  *self,
                                                  GAsyncResult             *result,
                                                  NebulaComputeOutcome     *outcome,
                                                  GError                  **error)
{
  g_return_val_if_fail (NEBULA_IS_ASYNC_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);

  /* A script passes whatever result it holds: refuse, don't assert. */
  if (!g_task_is_valid (result, self) ||
      g_task_get_source_tag (G_TASK (result)) != nebula_async_compute_cache_get_or_compute_async ||
      g_object_get_data (G_OBJECT (result), "nebula-finished") != NULL)
    {
      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                        "The result passed to get_or_compute_finish() is not an unfinished "
                        "result of this cache's get_or_compute_async(): finish each request "
                        "once, on the cache that started it");
      return NULL;
    }
  g_object_set_data (G_OBJECT (result), "nebula-finished", GINT_TO_POINTER (TRUE));

  if (outcome != NULL)
    *outcome = GPOINTER_TO_INT (g_task_get_task_data (G_TASK (result)));
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * nebula_async_compute_cache_invalidate:
 * @self: a #NebulaAsyncComputeCache
 * @key: the key
 *
 * Removes the value of @key and detaches its running computations: their
 * waiters still get their result, but it is not stored.
 *
 * Returns: %TRUE if a value or a computation was there
 */
gboolean
nebula_async_compute_cache_invalidate (NebulaAsyncComputeCache *self,
                                       GVariant                *key)
{
  g_autoptr(GVariant) owned_key = NULL;
  gboolean removed = FALSE;
  Flight *flight;

  g_return_val_if_fail (NEBULA_IS_ASYNC_COMPUTE_CACHE (self), FALSE);

  if (!nebula_cache_check_key (key, NULL))
    return FALSE;
  owned_key = g_variant_ref_sink (key);

  nebula_mutex_lock (&self->mutex);
  while ((flight = g_hash_table_lookup (self->flights, owned_key)) != NULL)
    {
      nebula_compute_flight_detach (self, flight);
      removed = TRUE;
    }
  removed |= nebula_compute_cache_invalidate (self->store, owned_key);
  nebula_mutex_unlock (&self->mutex);

  return removed;
}

/**
 * nebula_async_compute_cache_invalidate_all:
 * @self: a #NebulaAsyncComputeCache
 *
 * Removes every value and detaches every running computation.
 */
void
nebula_async_compute_cache_invalidate_all (NebulaAsyncComputeCache *self)
{
  g_return_if_fail (NEBULA_IS_ASYNC_COMPUTE_CACHE (self));

  nebula_mutex_lock (&self->mutex);
  for (GList *l = self->all_flights.head; l != NULL; l = l->next)
    nebula_compute_flight_detach (self, l->data);
  nebula_compute_cache_invalidate_all (self->store);
  nebula_mutex_unlock (&self->mutex);
}

/**
 * nebula_async_compute_cache_get_n_entries:
 * @self: a #NebulaAsyncComputeCache
 *
 * The number of stored values.
 *
 * Returns: the number of entries
 */
guint
nebula_async_compute_cache_get_n_entries (NebulaAsyncComputeCache *self)
{
  g_return_val_if_fail (NEBULA_IS_ASYNC_COMPUTE_CACHE (self), 0);

  return nebula_compute_cache_get_n_entries (self->store);
}

/**
 * nebula_async_compute_cache_get_n_flights:
 * @self: a #NebulaAsyncComputeCache
 *
 * The number of computations started or queued and not yet returned,
 * detached ones included.
 *
 * Returns: the number of computations in flight
 */
guint
nebula_async_compute_cache_get_n_flights (NebulaAsyncComputeCache *self)
{
  guint n;

  g_return_val_if_fail (NEBULA_IS_ASYNC_COMPUTE_CACHE (self), 0);

  nebula_mutex_lock (&self->mutex);
  n = self->all_flights.length;
  nebula_mutex_unlock (&self->mutex);
  return n;
}

/**
 * nebula_async_compute_cache_get_stats:
 * @self: a #NebulaAsyncComputeCache
 *
 * A snapshot of the counters. `requests` is always `hits + misses`; a
 * stale hit is a hit, a joined or rejected request a miss.
 *
 * Returns: (transfer full): the counters
 */
NebulaCacheStats *
nebula_async_compute_cache_get_stats (NebulaAsyncComputeCache *self)
{
  g_autoptr(NebulaCacheStats) store_stats = NULL;
  NebulaCacheStats *stats;

  g_return_val_if_fail (NEBULA_IS_ASYNC_COMPUTE_CACHE (self), NULL);

  nebula_mutex_lock (&self->mutex);
  stats = nebula_cache_stats_copy (&self->stats);
  store_stats = nebula_compute_cache_get_stats (self->store);
  nebula_mutex_unlock (&self->mutex);

  stats->insertions = store_stats->insertions;
  stats->evictions = store_stats->evictions;
  stats->expirations = store_stats->expirations;
  stats->invalidations = store_stats->invalidations;
  stats->replacements = store_stats->replacements;
  return stats;
}

/**
 * nebula_async_compute_cache_set_clock:
 * @self: a #NebulaAsyncComputeCache
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   the clock, or %NULL for g_get_monotonic_time()
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Replaces the clock of time-to-live, refresh-after and the circuit
 * breaker. It must not call into the cache.
 */
void
nebula_async_compute_cache_set_clock (NebulaAsyncComputeCache *self,
                                      NebulaClockFunc          func,
                                      gpointer                 user_data,
                                      GDestroyNotify           destroy)
{
  g_return_if_fail (NEBULA_IS_ASYNC_COMPUTE_CACHE (self));

  nebula_compute_cache_set_clock (self->store, func, user_data, destroy);
}

static void
nebula_async_compute_cache_dispose (GObject *object)
{
  NebulaAsyncComputeCache *self = NEBULA_ASYNC_COMPUTE_CACHE (object);
  GQueue waiters = G_QUEUE_INIT;
  GQueue cancel = G_QUEUE_INIT;
  GQueue dropped = G_QUEUE_INIT;
  GList *l, *next;
  Waiter *waiter;
  Flight *flight;

  nebula_mutex_lock (&self->mutex);
  self->disposed = TRUE;
  for (l = self->all_flights.head; l != NULL; l = next)
    {
      next = l->next;
      flight = l->data;
      nebula_compute_flight_detach (self, flight);
      while ((waiter = nebula_compute_waiter_pop (&flight->waiters)) != NULL)
        {
          waiter->done = TRUE;
          waiter->flight = NULL;
          g_queue_push_tail (&waiters, waiter);
        }
      if (flight->state == FLIGHT_QUEUED)
        {
          g_queue_unlink (&self->pending, &flight->pending_link);
          g_queue_unlink (&self->all_flights, &flight->all_link);
          g_queue_push_tail (&dropped, flight);
        }
      else
        g_queue_push_tail (&cancel, g_object_ref (flight->cancellable));
    }
  nebula_mutex_unlock (&self->mutex);

  while ((waiter = g_queue_pop_head (&waiters)) != NULL)
    {
      nebula_compute_waiter_disconnect (self, waiter);
      nebula_compute_waiter_return_cancelled (waiter, "The cache was disposed");
      nebula_compute_waiter_unref (waiter);
    }
  while ((flight = g_queue_pop_head (&dropped)) != NULL)
    nebula_compute_flight_free (flight);
  {
    GCancellable *cancellable;

    while ((cancellable = g_queue_pop_head (&cancel)) != NULL)
      {
        g_cancellable_cancel (cancellable);
        g_object_unref (cancellable);
      }
  }

  G_OBJECT_CLASS (nebula_async_compute_cache_parent_class)->dispose (object);
}

static void
nebula_async_compute_cache_finalize (GObject *object)
{
  NebulaAsyncComputeCache *self = NEBULA_ASYNC_COMPUTE_CACHE (object);

  g_clear_object (&self->store);
  g_hash_table_unref (self->flights);
  g_hash_table_unref (self->breakers);
  g_atomic_rc_box_release_full (self->handle, nebula_cache_handle_clear);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (nebula_async_compute_cache_parent_class)->finalize (object);
}

static void
nebula_async_compute_cache_constructed (GObject *object)
{
  NebulaAsyncComputeCache *self = NEBULA_ASYNC_COMPUTE_CACHE (object);

  G_OBJECT_CLASS (nebula_async_compute_cache_parent_class)->constructed (object);

  self->store = g_object_new (NEBULA_TYPE_COMPUTE_CACHE,
                              "policy", self->policy,
                              "max-entries", self->max_entries,
                              "max-weight", self->max_weight,
                              "time-to-live", self->time_to_live,
                              "time-to-idle", self->time_to_idle,
                              NULL);
  if (self->refresh_after > 0)
    nebula_compute_cache_track_time (self->store);
}

static void
nebula_async_compute_cache_get_property (GObject    *object,
                                         guint       prop_id,
                                         GValue     *value,
                                         GParamSpec *pspec)
{
  NebulaAsyncComputeCache *self = NEBULA_ASYNC_COMPUTE_CACHE (object);

  switch (prop_id)
    {
    case PROP_POLICY:
      g_value_set_enum (value, self->policy);
      break;
    case PROP_MAX_ENTRIES:
      g_value_set_uint (value, self->max_entries);
      break;
    case PROP_MAX_WEIGHT:
      g_value_set_uint64 (value, self->max_weight);
      break;
    case PROP_TIME_TO_LIVE:
      g_value_set_uint64 (value, self->time_to_live);
      break;
    case PROP_TIME_TO_IDLE:
      g_value_set_uint64 (value, self->time_to_idle);
      break;
    case PROP_REFRESH_AFTER:
      g_value_set_uint64 (value, self->refresh_after);
      break;
    case PROP_DEDUPLICATE:
      g_value_set_boolean (value, self->deduplicate);
      break;
    case PROP_KEEP_ABANDONED_FLIGHTS:
      g_value_set_boolean (value, self->keep_abandoned);
      break;
    case PROP_MAX_CONCURRENT:
      g_value_set_uint (value, self->max_concurrent);
      break;
    case PROP_MAX_QUEUED:
      g_value_set_uint (value, self->max_queued);
      break;
    case PROP_CIRCUIT_BREAKER:
      g_value_set_boolean (value, self->circuit_breaker);
      break;
    case PROP_FAILURE_THRESHOLD:
      g_value_set_uint (value, self->failure_threshold);
      break;
    case PROP_OPEN_DURATION:
      g_value_set_uint64 (value, self->open_duration);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_async_compute_cache_set_property (GObject      *object,
                                         guint         prop_id,
                                         const GValue *value,
                                         GParamSpec   *pspec)
{
  NebulaAsyncComputeCache *self = NEBULA_ASYNC_COMPUTE_CACHE (object);

  switch (prop_id)
    {
    case PROP_POLICY:
      self->policy = g_value_get_enum (value);
      break;
    case PROP_MAX_ENTRIES:
      self->max_entries = g_value_get_uint (value);
      break;
    case PROP_MAX_WEIGHT:
      self->max_weight = g_value_get_uint64 (value);
      break;
    case PROP_TIME_TO_LIVE:
      self->time_to_live = g_value_get_uint64 (value);
      break;
    case PROP_TIME_TO_IDLE:
      self->time_to_idle = g_value_get_uint64 (value);
      break;
    case PROP_REFRESH_AFTER:
      self->refresh_after = g_value_get_uint64 (value);
      break;
    case PROP_DEDUPLICATE:
      self->deduplicate = g_value_get_boolean (value);
      break;
    case PROP_KEEP_ABANDONED_FLIGHTS:
      self->keep_abandoned = g_value_get_boolean (value);
      break;
    case PROP_MAX_CONCURRENT:
      self->max_concurrent = g_value_get_uint (value);
      break;
    case PROP_MAX_QUEUED:
      self->max_queued = g_value_get_uint (value);
      break;
    case PROP_CIRCUIT_BREAKER:
      self->circuit_breaker = g_value_get_boolean (value);
      break;
    case PROP_FAILURE_THRESHOLD:
      /* 0 would open the circuit before any failure. */
      self->failure_threshold = MAX (g_value_get_uint (value), 1);
      break;
    case PROP_OPEN_DURATION:
      self->open_duration = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

#define CONSTRUCT_FLAGS (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS)

static void
nebula_async_compute_cache_class_init (NebulaAsyncComputeCacheClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  nebula_compute_task_probe_layout ();

  object_class->constructed = nebula_async_compute_cache_constructed;
  object_class->dispose = nebula_async_compute_cache_dispose;
  object_class->finalize = nebula_async_compute_cache_finalize;
  object_class->get_property = nebula_async_compute_cache_get_property;
  object_class->set_property = nebula_async_compute_cache_set_property;

  /**
   * NebulaAsyncComputeCache:policy:
   *
   * Which value leaves when the cache is full, as in #NebulaComputeCache.
   */
  properties[PROP_POLICY] =
    g_param_spec_enum ("policy", NULL, NULL,
                       NEBULA_TYPE_EVICTION_POLICY, NEBULA_EVICTION_POLICY_LRU,
                       CONSTRUCT_FLAGS);

  /**
   * NebulaAsyncComputeCache:max-entries:
   *
   * The most values the cache holds; 0 for no limit. Computations in
   * flight do not count and are never evicted.
   */
  properties[PROP_MAX_ENTRIES] =
    g_param_spec_uint ("max-entries", NULL, NULL, 0, G_MAXUINT, 0, CONSTRUCT_FLAGS);

  /**
   * NebulaAsyncComputeCache:max-weight:
   *
   * The most total weight the cache holds (every value weighs 1); 0 for no
   * limit.
   */
  properties[PROP_MAX_WEIGHT] =
    g_param_spec_uint64 ("max-weight", NULL, NULL, 0, G_MAXUINT64, 0, CONSTRUCT_FLAGS);

  /**
   * NebulaAsyncComputeCache:time-to-live:
   *
   * Microseconds a value lives after it is stored; 0 for ever.
   */
  properties[PROP_TIME_TO_LIVE] =
    g_param_spec_uint64 ("time-to-live", NULL, NULL, 0, G_MAXINT64, 0, CONSTRUCT_FLAGS);

  /**
   * NebulaAsyncComputeCache:time-to-idle:
   *
   * Microseconds a value lives after it was last read or stored; 0 for
   * ever.
   */
  properties[PROP_TIME_TO_IDLE] =
    g_param_spec_uint64 ("time-to-idle", NULL, NULL, 0, G_MAXINT64, 0, CONSTRUCT_FLAGS);

  /**
   * NebulaAsyncComputeCache:refresh-after:
   *
   * Microseconds after which a hit returns the value as
   * %NEBULA_COMPUTE_OUTCOME_STALE and starts one background refresh; a
   * failed refresh keeps the old value and emits
   * #NebulaAsyncComputeCache::load-failed. 0 (the default) never refreshes.
   */
  properties[PROP_REFRESH_AFTER] =
    g_param_spec_uint64 ("refresh-after", NULL, NULL, 0, G_MAXINT64, 0, CONSTRUCT_FLAGS);

  /**
   * NebulaAsyncComputeCache:deduplicate:
   *
   * Whether concurrent misses of one key share one computation.
   */
  properties[PROP_DEDUPLICATE] =
    g_param_spec_boolean ("deduplicate", NULL, NULL, FALSE, CONSTRUCT_FLAGS);

  /**
   * NebulaAsyncComputeCache:keep-abandoned-flights:
   *
   * Whether a computation whose waiters were all cancelled runs to its end
   * and stores its result. By default it is cancelled and detached.
   */
  properties[PROP_KEEP_ABANDONED_FLIGHTS] =
    g_param_spec_boolean ("keep-abandoned-flights", NULL, NULL, FALSE, CONSTRUCT_FLAGS);

  /**
   * NebulaAsyncComputeCache:max-concurrent:
   *
   * The most computations running at once; 0 for no limit. The others wait
   * for a permit, first in first out.
   */
  properties[PROP_MAX_CONCURRENT] =
    g_param_spec_uint ("max-concurrent", NULL, NULL, 0, G_MAXUINT, 0, CONSTRUCT_FLAGS);

  /**
   * NebulaAsyncComputeCache:max-queued:
   *
   * With #NebulaAsyncComputeCache:max-concurrent, the most computations
   * waiting for a permit; past it requests fail with
   * %NEBULA_CACHE_ERROR_BUSY. 0 for no limit.
   */
  properties[PROP_MAX_QUEUED] =
    g_param_spec_uint ("max-queued", NULL, NULL, 0, G_MAXUINT, 0, CONSTRUCT_FLAGS);

  /**
   * NebulaAsyncComputeCache:circuit-breaker:
   *
   * Whether keys whose computations keep failing are refused for a while.
   */
  properties[PROP_CIRCUIT_BREAKER] =
    g_param_spec_boolean ("circuit-breaker", NULL, NULL, FALSE, CONSTRUCT_FLAGS);

  /**
   * NebulaAsyncComputeCache:failure-threshold:
   *
   * How many computations of a key must fail in a row to open its circuit.
   */
  properties[PROP_FAILURE_THRESHOLD] =
    g_param_spec_uint ("failure-threshold", NULL, NULL, 1, G_MAXUINT, 5, CONSTRUCT_FLAGS);

  /**
   * NebulaAsyncComputeCache:open-duration:
   *
   * Microseconds an open circuit refuses requests before it admits one
   * probe.
   */
  properties[PROP_OPEN_DURATION] =
    g_param_spec_uint64 ("open-duration", NULL, NULL, 0, G_MAXINT64, 30 * G_USEC_PER_SEC,
                         CONSTRUCT_FLAGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * NebulaAsyncComputeCache::load-failed:
   * @self: the cache
   * @key: the key whose refresh failed
   * @error: the error of the refresh
   *
   * Emitted when a background refresh (see
   * #NebulaAsyncComputeCache:refresh-after) failed; the old value stays.
   */
  signals[LOAD_FAILED] =
    g_signal_new ("load-failed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2,
                  G_TYPE_VARIANT | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
nebula_async_compute_cache_init (NebulaAsyncComputeCache *self)
{
  g_mutex_init (&self->mutex);
  self->flights = g_hash_table_new (nebula_cache_key_hash, nebula_cache_key_equal);
  self->breakers = g_hash_table_new_full (nebula_cache_key_hash, nebula_cache_key_equal, NULL, nebula_circuit_breaker_free);
  self->failure_threshold = 5;
  self->open_duration = 30 * G_USEC_PER_SEC;
  self->handle = g_atomic_rc_box_new0 (CacheHandle);
  g_weak_ref_init (&self->handle->cache, self);
}
