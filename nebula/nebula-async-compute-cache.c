/* nebula-async-compute-cache.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "nebula-async-compute-cache.h"
#include "nebula-cache-key-private.h"
#include "nebula-compute-cache-private.h"
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

#define BREAKER_TABLE_SIZE 1024

typedef enum
{
  FLIGHT_QUEUED,
  FLIGHT_RUNNING,
  FLIGHT_DONE,
} FlightState;

typedef enum
{
  BREAKER_CLOSED,
  BREAKER_OPEN,
  BREAKER_HALF_OPEN,
} BreakerState;

typedef struct _Flight Flight;

/* One weak reference to the cache, shared by the waiters that have a
 * cancellable (its handler needs the cache back). A GWeakRef per waiter
 * would cost O(N^2) for N waiters: GLib 2.74 keeps an object's weak
 * references in a list that clearing one walks. */
typedef struct
{
  GWeakRef cache;
} CacheHandle;

typedef struct
{
  CacheHandle          *handle;       /* with a cancellable only */
  GTask                *task;
  Flight               *flight;       /* while not done */
  GList                 link;         /* in flight->waiters */
  GCancellable         *cancellable;  /* borrowed: the task holds it */
  gulong                handler;
  gboolean              done;
  NebulaComputeOutcome  outcome;
} Waiter;

struct _Flight
{
  NebulaAsyncComputeCache *cache;     /* strong: a flight keeps the cache */
  GVariant                *key;
  Flight                  *next;      /* same key, while attached */
  GList                    all_link;
  GList                    pending_link;
  GCancellable            *cancellable;
  GTask                   *task;
  GQueue                   waiters;
  NebulaAsyncComputeFunc   func;
  gpointer                 func_data;
  GDestroyNotify           func_destroy;
  FlightState              state;
  gboolean                 attached;
  gboolean                 refresh;
  gboolean                 probe;
  gboolean                 holds_permit;
  gboolean                 watching;    /* the task's toggle reference */
  gboolean                 dropped;
  gint64                   queued_at;
  gint64                   started_at;
};

/* The computations whose function is running in this thread, innermost
 * first: a request made from inside one can be known to wait on it. The
 * nodes live on flight_start()'s stack. */
typedef struct _Computing Computing;
struct _Computing
{
  NebulaAsyncComputeCache *cache;
  Flight                  *flight;
  gboolean                 holds_permit;
  Computing               *outer;
};

static GPrivate computing_key = G_PRIVATE_INIT (NULL);

typedef struct
{
  GVariant     *key;
  GList         link;
  guint         failures;
  BreakerState  state;
  gint64        opened_at;
} Breaker;

struct _NebulaAsyncComputeCache
{
  GObject              parent_instance;

  GMutex               mutex;
  NebulaComputeCache  *store;
  GHashTable          *flights;        /* key -> newest attached Flight */
  GQueue               all_flights;
  GQueue               pending;        /* flights waiting for a permit */
  guint                running;        /* flights holding a permit */
  GHashTable          *breakers;       /* key -> Breaker */
  GQueue               breaker_order;  /* least recently failed first */
  NebulaCacheStats     stats;
  gboolean             disposed;
  CacheHandle         *handle;

  NebulaEvictionPolicy policy;
  guint                max_entries;
  guint64              max_weight;
  guint64              time_to_live;
  guint64              time_to_idle;
  guint64              refresh_after;
  gboolean             deduplicate;
  gboolean             keep_abandoned;
  guint                max_concurrent;
  guint                max_queued;
  gboolean             circuit_breaker;
  guint                failure_threshold;
  guint64              open_duration;
};

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

/* Waiters */

static void
cache_handle_clear (gpointer data)
{
  CacheHandle *handle = data;

  g_weak_ref_clear (&handle->cache);
}

static Waiter *
waiter_new (NebulaAsyncComputeCache *self,
            GTask                   *task,
            GCancellable            *cancellable,
            NebulaComputeOutcome     outcome)
{
  Waiter *waiter = g_atomic_rc_box_new0 (Waiter);

  if (cancellable != NULL)
    waiter->handle = g_atomic_rc_box_acquire (self->handle);
  waiter->task = g_object_ref (task);
  /* No reference: the cancellable's handler holds the waiter, and the
   * task holds the cancellable for as long as it matters. */
  waiter->cancellable = cancellable;
  waiter->outcome = outcome;
  waiter->link.data = waiter;
  return waiter;
}

static void
waiter_clear (gpointer data)
{
  Waiter *waiter = data;

  if (waiter->handle != NULL)
    g_atomic_rc_box_release_full (waiter->handle, cache_handle_clear);
  g_clear_object (&waiter->task);
}

static void
waiter_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, waiter_clear);
}

/* Completes the waiter's task. Runs without the lock; exactly one path
 * gets here for a waiter, the one that set waiter->done. */
static void
waiter_return (Waiter       *waiter,
               GObject      *value,
               const GError *error)
{
  GTask *task = g_steal_pointer (&waiter->task);

  g_task_set_task_data (task, GINT_TO_POINTER (waiter->outcome), NULL);
  if (value != NULL)
    g_task_return_pointer (task, g_object_ref (value), g_object_unref);
  else
    g_task_return_error (task, g_error_copy (error));
  g_object_unref (task);
}

static void
waiter_return_cancelled (Waiter     *waiter,
                         const char *message)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, message);

  waiter_return (waiter, NULL, error);
}

/* The links are embedded: g_queue_pop_head() would free them. */
static Waiter *
pop_waiter (GQueue *waiters)
{
  GList *link = g_queue_pop_head_link (waiters);

  return link != NULL ? link->data : NULL;
}

/* For a waiter completed by its flight (done is set): the handler is
 * disconnected before the task, which holds the cancellable, goes. A
 * handler running in another thread is waited for; it finds the waiter
 * done. */
static void
waiter_disconnect (NebulaAsyncComputeCache *self,
                   Waiter                  *waiter)
{
  gulong handler;

  nebula_mutex_lock (&self->mutex);
  handler = waiter->handler;
  waiter->handler = 0;
  nebula_mutex_unlock (&self->mutex);
  if (handler != 0)
    g_cancellable_disconnect (waiter->cancellable, handler);
}

/* Flights */

static Flight *
flight_new (NebulaAsyncComputeCache *self,
            GVariant                *key,
            NebulaAsyncComputeFunc   func,
            gpointer                 func_data,
            GDestroyNotify           func_destroy)
{
  Flight *flight = g_new0 (Flight, 1);

  flight->cache = g_object_ref (self);
  flight->key = g_variant_ref (key);
  flight->cancellable = g_cancellable_new ();
  flight->func = func;
  flight->func_data = func_data;
  flight->func_destroy = func_destroy;
  flight->all_link.data = flight;
  flight->pending_link.data = flight;
  g_queue_push_tail_link (&self->all_flights, &flight->all_link);
  return flight;
}

static void task_toggled_cb (gpointer  data,
                             GObject  *object,
                             gboolean  is_last_ref);

/* Runs without the lock: the destroy function and the last reference of
 * the cache may run code of the program. */
static void
flight_free (Flight *flight)
{
  if (flight->func_destroy != NULL)
    flight->func_destroy (flight->func_data);
  if (flight->task != NULL)
    g_object_remove_toggle_ref (G_OBJECT (g_steal_pointer (&flight->task)), task_toggled_cb, flight);
  g_clear_object (&flight->cancellable);
  g_variant_unref (flight->key);
  g_object_unref (flight->cache);
  g_free (flight);
}

static void
attach (NebulaAsyncComputeCache *self,
        Flight                  *flight)
{
  flight->next = g_hash_table_lookup (self->flights, flight->key);
  g_hash_table_replace (self->flights, flight->key, flight);
  flight->attached = TRUE;
}

/* Takes @flight off its key: it will never store, and new requests will
 * not join it. A queued flight stays queued: its waiters still wait. */
static void
detach (NebulaAsyncComputeCache *self,
        Flight                  *flight)
{
  Flight *head;

  if (!flight->attached)
    return;

  head = g_hash_table_lookup (self->flights, flight->key);
  if (head == flight)
    {
      if (flight->next != NULL)
        g_hash_table_replace (self->flights, flight->next->key, flight->next);
      else
        g_hash_table_remove (self->flights, flight->key);
    }
  else
    {
      for (Flight *f = head; f != NULL; f = f->next)
        if (f->next == flight)
          {
            f->next = flight->next;
            break;
          }
    }
  flight->next = NULL;
  flight->attached = FALSE;
}

/* Gives free permits to queued flights, first in first out. */
static void
grant_permits (NebulaAsyncComputeCache *self,
               GQueue                  *to_start)
{
  while (self->pending.length > 0 &&
         (self->max_concurrent == 0 || self->running < self->max_concurrent))
    {
      GList *link = g_queue_pop_head_link (&self->pending);
      Flight *flight = link->data;

      flight->state = FLIGHT_RUNNING;
      flight->holds_permit = TRUE;
      self->running++;
      self->stats.queue_wait_us += g_get_monotonic_time () - flight->queued_at;
      g_queue_push_tail (to_start, flight);
    }
}

static void flight_done_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data);

/* The cache keeps the task alive through a toggle reference: it learns
 * when everybody else let go of it. A task nobody else holds and that was
 * not returned can never be returned (a binding released it after its
 * function raised, or C code dropped it): the cache returns an error on
 * it, so that the request still completes. A returned task is held by
 * GTask itself until its callback ran, which frees the flight and drops
 * the toggle reference first, so this never fires for one. */
static gboolean
return_dropped_cb (gpointer user_data)
{
  g_task_return_new_error (user_data, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED,
                           "The compute function dropped its task without returning it; "
                           "it must return a value or an error on it exactly once");
  return G_SOURCE_REMOVE;
}

static void
task_toggled_cb (gpointer  data,
                 GObject  *object,
                 gboolean  is_last_ref)
{
  Flight *flight = data;
  NebulaAsyncComputeCache *self = flight->cache;
  gboolean dropped;

  if (!is_last_ref)
    return;

  nebula_mutex_lock (&self->mutex);
  dropped = flight->watching && !flight->dropped && flight->state == FLIGHT_RUNNING;
  if (dropped)
    flight->dropped = TRUE;
  nebula_mutex_unlock (&self->mutex);

  if (dropped)
    {
      GSource *source = g_idle_source_new ();

      /* Never at once: the last reference may go from anywhere, even a
       * garbage collection that must not run a binding's callback, and a
       * task returned in a later dispatch of its context completes at
       * once. */
      g_source_set_callback (source, return_dropped_cb, g_object_ref (object), g_object_unref);
      g_source_set_static_name (source, "[nebula] dropped compute task");
      g_source_attach (source, g_task_get_context (G_TASK (object)));
      g_source_unref (source);
    }
}

static void
flight_start (Flight *flight)
{
  Computing computing = {
    .cache = flight->cache,
    .flight = flight,
    .holds_permit = flight->holds_permit,
    .outer = g_private_get (&computing_key),
  };
  GTask *task;

  flight->started_at = g_get_monotonic_time ();
  task = g_task_new (NULL, flight->cancellable, flight_done_cb, flight);
  g_task_set_source_tag (task, flight_start);
  g_object_add_toggle_ref (G_OBJECT (task), task_toggled_cb, flight);
  /* Leaves the toggle reference alone; its notification is not watched
   * yet. */
  g_object_unref (task);
  nebula_mutex_lock (&flight->cache->mutex);
  flight->task = task;
  flight->watching = TRUE;
  nebula_mutex_unlock (&flight->cache->mutex);

  g_private_set (&computing_key, &computing);
  flight->func (flight->key, flight->cancellable, task, flight->func_data);
  g_private_set (&computing_key, computing.outer);
}

static void
start_all (GQueue *to_start)
{
  Flight *flight;

  while ((flight = g_queue_pop_head (to_start)) != NULL)
    flight_start (flight);
}

/* Breakers */

static void
breaker_free (gpointer data)
{
  Breaker *breaker = data;

  g_variant_unref (breaker->key);
  g_free (breaker);
}

static void
breaker_forget (NebulaAsyncComputeCache *self,
                Breaker                 *breaker)
{
  g_queue_unlink (&self->breaker_order, &breaker->link);
  g_hash_table_remove (self->breakers, breaker->key);
}

static Breaker *
breaker_ensure (NebulaAsyncComputeCache *self,
                GVariant                *key)
{
  Breaker *breaker = g_hash_table_lookup (self->breakers, key);

  if (breaker != NULL)
    {
      g_queue_unlink (&self->breaker_order, &breaker->link);
      g_queue_push_tail_link (&self->breaker_order, &breaker->link);
      return breaker;
    }

  /* The table is bounded: the key that failed longest ago is forgotten. */
  if (g_hash_table_size (self->breakers) >= BREAKER_TABLE_SIZE)
    breaker_forget (self, self->breaker_order.head->data);

  breaker = g_new0 (Breaker, 1);
  breaker->key = g_variant_ref (key);
  breaker->link.data = breaker;
  g_queue_push_tail_link (&self->breaker_order, &breaker->link);
  g_hash_table_insert (self->breakers, breaker->key, breaker);
  return breaker;
}

/* Whether a new flight may start for @key; sets *@probe when it is the
 * probe after the open duration. */
static gboolean
breaker_admit (NebulaAsyncComputeCache  *self,
               GVariant                 *key,
               gboolean                 *probe,
               GError                  **error)
{
  Breaker *breaker;
  gint64 now;
  gint64 elapsed;
  gint64 remaining;
  g_autofree char *printed = NULL;

  *probe = FALSE;
  if (!self->circuit_breaker)
    return TRUE;

  breaker = g_hash_table_lookup (self->breakers, key);
  if (breaker == NULL || breaker->state == BREAKER_CLOSED)
    return TRUE;

  /* open-duration may be G_MAXINT64 and the clock the program's: keep
   * every difference in range (a clock going back counts as no time). */
  now = nebula_compute_cache_now (self->store);
  if (now <= breaker->opened_at)
    elapsed = 0;
  else if (breaker->opened_at < 0 && now > G_MAXINT64 + breaker->opened_at)
    elapsed = G_MAXINT64;
  else
    elapsed = now - breaker->opened_at;
  if (breaker->state == BREAKER_OPEN && elapsed >= (gint64) self->open_duration)
    {
      breaker->state = BREAKER_HALF_OPEN;
      *probe = TRUE;
      return TRUE;
    }

  printed = g_variant_print (key, TRUE);
  remaining = (gint64) self->open_duration - MIN (elapsed, (gint64) self->open_duration);
  if (breaker->state == BREAKER_HALF_OPEN)
    nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_CIRCUIT_OPEN, NULL,
                      "The circuit of key %s is open after %u consecutive failures; "
                      "its probe is running",
                      printed, breaker->failures);
  else
    nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_CIRCUIT_OPEN, NULL,
                      "The circuit of key %s is open after %u consecutive failures; "
                      "retry in %" G_GINT64_FORMAT " ms",
                      printed, breaker->failures,
                      remaining / 1000 + (remaining % 1000 != 0));
  return FALSE;
}

/* A probe that will not run after all leaves the breaker open, with the
 * open duration already passed, so the next request probes. */
static void
breaker_reopen (NebulaAsyncComputeCache *self,
                GVariant                *key)
{
  Breaker *breaker = g_hash_table_lookup (self->breakers, key);

  if (breaker != NULL && breaker->state == BREAKER_HALF_OPEN)
    breaker->state = BREAKER_OPEN;
}

static void
breaker_release_probe (NebulaAsyncComputeCache *self,
                       Flight                  *flight)
{
  if (flight->probe)
    breaker_reopen (self, flight->key);
}

static void
breaker_record (NebulaAsyncComputeCache *self,
                Flight                  *flight,
                const GError            *error)
{
  Breaker *breaker;

  if (!self->circuit_breaker)
    return;

  if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      breaker_release_probe (self, flight);
      return;
    }

  breaker = g_hash_table_lookup (self->breakers, flight->key);
  if (error == NULL)
    {
      if (breaker != NULL)
        breaker_forget (self, breaker);
      return;
    }

  breaker = breaker_ensure (self, flight->key);
  breaker->failures++;
  if (flight->probe || breaker->failures >= self->failure_threshold)
    {
      breaker->state = BREAKER_OPEN;
      breaker->opened_at = nebula_compute_cache_now (self->store);
    }
}

/* What a compute function returned its task with.
 *
 * GTask cannot say: g_task_propagate_value() on a task returned with
 * g_task_return_boolean(), _int() or _pointer() emits a critical and
 * gives neither a value nor an error, so the requests would never
 * complete. What tells them apart is the destroy function GTask keeps
 * for the result: g_task_return_value() stores one private to GIO,
 * boolean and integer results none. The cache learns once, from two tasks
 * of its own, where that field is and what GIO's function is, and reads
 * it from there. If the probe does not find exactly one place, the
 * cache trusts every task as before. */
typedef enum
{
  RESULT_VALUE,
  RESULT_POINTER,               /* a destroy function of the program's */
  RESULT_PLAIN,                 /* boolean, integer or bare pointer */
} ResultKind;

static struct
{
  gboolean       known;
  gsize          offset;
  GDestroyNotify value_free;
} task_layout;

static void
probe_destroy_cb (gpointer data)
{
}

static gboolean
find_destroy (GTask          *task,
              GDestroyNotify  destroy,
              gsize          *offset)
{
  GTypeQuery query;
  guint found = 0;

  g_type_query (G_TYPE_TASK, &query);
  for (gsize at = sizeof (GObject); at + sizeof destroy <= query.instance_size; at += sizeof (gpointer))
    {
      GDestroyNotify word;

      memcpy (&word, (const guint8 *) task + at, sizeof word);
      if (word == destroy)
        {
          *offset = at;
          found++;
        }
    }
  return found == 1;
}

static void
probe_task_layout (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_auto(GValue) value = G_VALUE_INIT;
  GTask *with_pointer;
  GTask *with_value;
  gsize offset;

  /* The tasks complete in a context of their own, at once. */
  g_main_context_push_thread_default (context);
  with_pointer = g_task_new (NULL, NULL, NULL, NULL);
  with_value = g_task_new (NULL, NULL, NULL, NULL);
  g_task_return_pointer (with_pointer, &task_layout, probe_destroy_cb);
  g_value_init (&value, G_TYPE_INT);
  g_task_return_value (with_value, &value);

  if (find_destroy (with_pointer, probe_destroy_cb, &offset))
    {
      GDestroyNotify value_free;

      memcpy (&value_free, (const guint8 *) with_value + offset, sizeof value_free);
      if (value_free != NULL && value_free != probe_destroy_cb)
        {
          task_layout.offset = offset;
          task_layout.value_free = value_free;
          task_layout.known = TRUE;
        }
    }

  while (!g_task_get_completed (with_pointer) || !g_task_get_completed (with_value))
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_object_unref (with_pointer);
  g_object_unref (with_value);
}

/* For a task returned without an error. */
static ResultKind
result_kind (GTask *task)
{
  GDestroyNotify destroy;

  if (!task_layout.known)
    return RESULT_VALUE;

  memcpy (&destroy, (const guint8 *) task + task_layout.offset, sizeof destroy);
  if (destroy == task_layout.value_free)
    return RESULT_VALUE;
  return destroy != NULL ? RESULT_POINTER : RESULT_PLAIN;
}

/* Completion */

static void
flight_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Flight *flight = user_data;
  NebulaAsyncComputeCache *self = flight->cache;
  g_auto(GValue) returned = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) value = NULL;
  GQueue to_start = G_QUEUE_INIT;
  GQueue waiters = G_QUEUE_INIT;
  gboolean cancelled;
  Waiter *waiter;

  /* g_task_had_error() also covers a cancelled task, whatever it was
   * returned with; g_task_propagate_value() then only gives the error. A
   * result that is not a value stays in the task, whose destroy function
   * (if any) frees it. */
  if (!g_task_had_error (G_TASK (result)) && result_kind (G_TASK (result)) == RESULT_POINTER)
    nebula_set_error (&error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                      "The compute function returned a pointer on its task "
                      "(g_task_return_pointer()); it must return a GObject in a GValue "
                      "(g_task_return_value(), nebula_compute_task_return_object()) or an error");
  else if (!g_task_had_error (G_TASK (result)) && result_kind (G_TASK (result)) == RESULT_PLAIN)
    nebula_set_error (&error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                      "The compute function returned a boolean, an integer or a pointer "
                      "without destroy function on its task (g_task_return_boolean(), "
                      "g_task_return_int(), g_task_return_pointer()); it must return a GObject "
                      "in a GValue (g_task_return_value(), nebula_compute_task_return_object()) "
                      "or an error");
  else if (g_task_propagate_value (G_TASK (result), &returned, &error))
    {
      if (G_VALUE_HOLDS_OBJECT (&returned) && g_value_get_object (&returned) != NULL)
        value = g_value_dup_object (&returned);
      else
        nebula_set_error (&error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                          "The compute function returned a value of type %s, not an object; "
                          "it must return a GObject in a GValue or an error",
                          g_type_name (G_VALUE_TYPE (&returned)));
    }
  else if (error == NULL)
    nebula_set_error (&error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                      "The compute function returned neither a value nor an error");
  cancelled = error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  nebula_mutex_lock (&self->mutex);
  if (flight->holds_permit)
    {
      flight->holds_permit = FALSE;
      self->running--;
    }
  self->stats.load_time_us += g_get_monotonic_time () - flight->started_at;
  if (value != NULL)
    self->stats.loads_ok++;
  else if (!cancelled)
    self->stats.loads_failed++;

  /* The generation check: only the flight still attached to its key may
   * store. Detaching before the callbacks run lets a retry start fresh. */
  if (value != NULL && flight->attached && !self->disposed)
    nebula_compute_cache_insert (self->store, flight->key, value, NULL);
  detach (self, flight);
  breaker_record (self, flight, error);

  while ((waiter = pop_waiter (&flight->waiters)) != NULL)
    {
      waiter->done = TRUE;
      waiter->flight = NULL;
      g_queue_push_tail (&waiters, waiter);
    }
  flight->state = FLIGHT_DONE;
  g_queue_unlink (&self->all_flights, &flight->all_link);
  grant_permits (self, &to_start);
  nebula_mutex_unlock (&self->mutex);

  while ((waiter = g_queue_pop_head (&waiters)) != NULL)
    {
      waiter_disconnect (self, waiter);
      waiter_return (waiter, value, error);
      waiter_unref (waiter);
    }

  if (flight->refresh && error != NULL && !cancelled)
    g_signal_emit (self, signals[LOAD_FAILED], 0, flight->key, error);

  start_all (&to_start);
  flight_free (flight);
}

static void
waiter_cancelled_cb (GCancellable *cancellable,
                     gpointer      user_data)
{
  Waiter *waiter = user_data;
  g_autoptr(NebulaAsyncComputeCache) self = g_weak_ref_get (&waiter->handle->cache);
  GCancellable *cancel_flight = NULL;
  Flight *dropped = NULL;
  Flight *flight;

  if (self == NULL)
    return;

  nebula_mutex_lock (&self->mutex);
  if (waiter->done)
    {
      nebula_mutex_unlock (&self->mutex);
      return;
    }
  waiter->done = TRUE;
  self->stats.cancellations++;

  flight = g_steal_pointer (&waiter->flight);
  if (flight != NULL)
    {
      g_queue_unlink (&flight->waiters, &waiter->link);
      if (flight->waiters.length == 0 && !flight->refresh && !self->keep_abandoned)
        {
          /* The last waiter left: nobody wants the result any more. */
          detach (self, flight);
          if (flight->state == FLIGHT_QUEUED)
            {
              /* Queued flights that lost every waiter never run. */
              g_queue_unlink (&self->pending, &flight->pending_link);
              breaker_release_probe (self, flight);
              g_queue_unlink (&self->all_flights, &flight->all_link);
              dropped = flight;
            }
          else
            cancel_flight = g_object_ref (flight->cancellable);
        }
    }
  nebula_mutex_unlock (&self->mutex);

  waiter_return_cancelled (waiter, "The request was cancelled");
  if (cancel_flight != NULL)
    {
      g_cancellable_cancel (cancel_flight);
      g_object_unref (cancel_flight);
    }
  if (dropped != NULL)
    flight_free (dropped);
  if (flight != NULL)
    waiter_unref (waiter);        /* the flight's reference */
}

/* Connects the caller's cancellable; a cancellable already cancelled calls
 * back at once. */
static void
waiter_connect (NebulaAsyncComputeCache *self,
                Waiter                  *waiter)
{
  gulong handler;

  if (waiter->cancellable == NULL)
    return;

  handler = g_cancellable_connect (waiter->cancellable, G_CALLBACK (waiter_cancelled_cb),
                                   g_atomic_rc_box_acquire (waiter), waiter_unref);

  nebula_mutex_lock (&self->mutex);
  if (waiter->done)
    {
      nebula_mutex_unlock (&self->mutex);
      /* The flight completed it first (or the handler did): only a
       * completed flight leaves the disconnection to us. */
      if (handler != 0)
        g_cancellable_disconnect (waiter->cancellable, handler);
      return;
    }
  waiter->handler = handler;
  nebula_mutex_unlock (&self->mutex);
}

static void
add_waiter (Flight *flight,
            Waiter *waiter)
{
  waiter->flight = flight;
  g_queue_push_tail_link (&flight->waiters, &waiter->link);
}

/* Whether @flight's compute function is running below this point of this
 * thread: a request that joins it would wait for itself. */
static gboolean
computing_in_thread (Flight *flight)
{
  for (Computing *c = g_private_get (&computing_key); c != NULL; c = c->outer)
    if (c->flight == flight)
      return TRUE;
  return FALSE;
}

/* Whether every permit is held by computations whose compute functions
 * are running below this point of this thread: a flight queued now could
 * only start once they returned, which they may be waiting to do. */
static gboolean
permits_held_in_thread (NebulaAsyncComputeCache *self)
{
  guint held = 0;

  if (self->max_concurrent == 0 || self->running < self->max_concurrent)
    return FALSE;
  for (Computing *c = g_private_get (&computing_key); c != NULL; c = c->outer)
    if (c->cache == self && c->holds_permit)
      held++;
  return held >= self->max_concurrent;
}

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

/* Creates a flight for @key, attached and either running or queued.
 * Returns NULL with BUSY when the queue is full. */
static Flight *
new_flight (NebulaAsyncComputeCache  *self,
            GVariant                 *key,
            NebulaAsyncComputeFunc    func,
            gpointer                  func_data,
            GDestroyNotify            func_destroy,
            gboolean                  probe,
            GError                  **error)
{
  Flight *flight;
  gboolean has_permit = self->max_concurrent == 0 || self->running < self->max_concurrent;

  if (!has_permit && self->max_queued > 0 && self->pending.length >= self->max_queued)
    {
      NebulaErrorInfo info = {
        .requested = 1,
        .available = 0,
        .capacity = self->max_queued,
      };

      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_BUSY, &info,
                        "Too busy: %u computations running (max-concurrent %u) and %u "
                        "waiting (max-queued %u)",
                        self->running, self->max_concurrent,
                        self->pending.length, self->max_queued);
      return NULL;
    }

  flight = flight_new (self, key, func, func_data, func_destroy);
  flight->probe = probe;
  attach (self, flight);
  if (has_permit)
    {
      flight->state = FLIGHT_RUNNING;
      if (self->max_concurrent > 0)
        {
          flight->holds_permit = TRUE;
          self->running++;
        }
    }
  else
    {
      flight->state = FLIGHT_QUEUED;
      flight->queued_at = g_get_monotonic_time ();
      g_queue_push_tail_link (&self->pending, &flight->pending_link);
    }
  return flight;
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
  if (!breaker_admit (self, key, &probe, NULL))
    return NULL;

  flight = new_flight (self, key, func, func_data, func_destroy, probe, NULL);
  if (flight == NULL)
    {
      if (probe)
        breaker_reopen (self, key);
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
      start_all (&to_start);
      return;
    }

  self->stats.misses++;
  flight = g_hash_table_lookup (self->flights, owned_key);
  if (flight != NULL && (self->deduplicate || flight->probe))
    {
      if (computing_in_thread (flight))
        {
          set_self_wait_error (self, owned_key, TRUE, &error);
          nebula_mutex_unlock (&self->mutex);
          goto fail;
        }
      self->stats.joins++;
      waiter = waiter_new (self, task, cancellable, NEBULA_COMPUTE_OUTCOME_JOINED);
      add_waiter (flight, waiter);
      /* Once the lock is dropped, the flight may complete on another
       * thread and drop its reference: hold one until connected. */
      g_atomic_rc_box_acquire (waiter);
      nebula_mutex_unlock (&self->mutex);

      if (func_destroy != NULL)
        func_destroy (func_data);
      waiter_connect (self, waiter);
      waiter_unref (waiter);
      return;
    }

  if (!breaker_admit (self, owned_key, &probe, &error))
    {
      self->stats.rejected_open++;
      nebula_mutex_unlock (&self->mutex);
      goto fail;
    }

  if (permits_held_in_thread (self))
    {
      set_self_wait_error (self, owned_key, FALSE, &error);
      if (probe)
        breaker_reopen (self, owned_key);
      nebula_mutex_unlock (&self->mutex);
      goto fail;
    }

  flight = new_flight (self, owned_key, func, func_data, func_destroy, probe, &error);
  if (flight == NULL)
    {
      self->stats.rejected_busy++;
      if (probe)
        breaker_reopen (self, owned_key);
      nebula_mutex_unlock (&self->mutex);
      goto fail;
    }
  waiter = waiter_new (self, task, cancellable, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  add_waiter (flight, waiter);
  if (flight->state == FLIGHT_RUNNING)
    g_queue_push_tail (&to_start, flight);
  g_atomic_rc_box_acquire (waiter);       /* as above */
  nebula_mutex_unlock (&self->mutex);

  waiter_connect (self, waiter);
  waiter_unref (waiter);
  start_all (&to_start);
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
 *   computation that made it
 */
GObject *
nebula_async_compute_cache_get_or_compute_finish (NebulaAsyncComputeCache  *self,
                                                  GAsyncResult             *result,
                                                  NebulaComputeOutcome     *outcome,
                                                  GError                  **error)
{
  g_return_val_if_fail (NEBULA_IS_ASYNC_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        nebula_async_compute_cache_get_or_compute_async, NULL);

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
      detach (self, flight);
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
    detach (self, l->data);
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

/**
 * nebula_compute_task_return_object:
 * @task: the task given to a #NebulaAsyncComputeFunc
 * @value: the computed value
 *
 * Returns @value on @task, as g_task_return_value() with a #GValue holding
 * it would.
 */
void
nebula_compute_task_return_object (GTask   *task,
                                   GObject *value)
{
  g_auto(GValue) gvalue = G_VALUE_INIT;

  g_return_if_fail (G_IS_TASK (task));
  g_return_if_fail (G_IS_OBJECT (value));

  g_value_init (&gvalue, G_TYPE_OBJECT);
  g_value_set_object (&gvalue, value);
  g_task_return_value (task, &gvalue);
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
      detach (self, flight);
      while ((waiter = pop_waiter (&flight->waiters)) != NULL)
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
      waiter_disconnect (self, waiter);
      waiter_return_cancelled (waiter, "The cache was disposed");
      waiter_unref (waiter);
    }
  while ((flight = g_queue_pop_head (&dropped)) != NULL)
    flight_free (flight);
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
  g_atomic_rc_box_release_full (self->handle, cache_handle_clear);
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

  probe_task_layout ();

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
  self->flights = g_hash_table_new (nebula_cache_key_hash, g_variant_equal);
  self->breakers = g_hash_table_new_full (nebula_cache_key_hash, g_variant_equal, NULL, breaker_free);
  self->failure_threshold = 5;
  self->open_duration = 30 * G_USEC_PER_SEC;
  self->handle = g_atomic_rc_box_new0 (CacheHandle);
  g_weak_ref_init (&self->handle->cache, self);
}
