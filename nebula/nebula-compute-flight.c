/* nebula-compute-flight.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-sysprof-private.h"

#include "nebula-async-cache-instance-private.h"
#include "nebula-circuit-breaker-private.h"
#include "nebula-compute-cache-private.h"
#include "nebula-compute-flight-private.h"
#include "nebula-compute-permit-private.h"
#include "nebula-compute-task-private.h"
#include "nebula-compute-waiter-private.h"
#include "nebula-error-private.h"
#include "nebula-sanitizer-private.h"

static GPrivate computing_key = G_PRIVATE_INIT (NULL);

Flight *
nebula_compute_flight_new (NebulaAsyncComputeCache *self,
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
void
nebula_compute_flight_free (Flight *flight)
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

void
nebula_compute_flight_attach (NebulaAsyncComputeCache *self,
                              Flight                  *flight)
{
  flight->next = g_hash_table_lookup (self->flights, flight->key);
  g_hash_table_replace (self->flights, flight->key, flight);
  flight->attached = TRUE;
}

/* Takes @flight off its key: it will never store, and new requests will
 * not join it. A queued flight stays queued: its waiters still wait. */
void
nebula_compute_flight_detach (NebulaAsyncComputeCache *self,
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

void
nebula_compute_flight_start_all (GQueue *to_start)
{
  Flight *flight;

  while ((flight = g_queue_pop_head (to_start)) != NULL)
    flight_start (flight);
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

  nebula_sysprof_cache_event (self, "flight", flight->key, flight->started_at);

  /* g_task_had_error() also covers a cancelled task, whatever it was
   * returned with; g_task_propagate_value() then only gives the error. A
   * result that is not a value stays in the task, whose destroy function
   * (if any) frees it. */
  if (!g_task_had_error (G_TASK (result)) && nebula_compute_task_result_kind (G_TASK (result)) == RESULT_POINTER)
    nebula_set_error (&error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                      "The compute function returned a pointer on its task "
                      "(g_task_return_pointer()); it must return a GObject in a GValue "
                      "(g_task_return_value(), nebula_compute_task_return_object()) or an error");
  else if (!g_task_had_error (G_TASK (result)) && nebula_compute_task_result_kind (G_TASK (result)) == RESULT_PLAIN)
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
  nebula_compute_flight_detach (self, flight);
  nebula_circuit_breaker_record (self, flight, error);

  while ((waiter = nebula_compute_waiter_pop (&flight->waiters)) != NULL)
    {
      waiter->done = TRUE;
      waiter->flight = NULL;
      g_queue_push_tail (&waiters, waiter);
    }
  flight->state = FLIGHT_DONE;
  g_queue_unlink (&self->all_flights, &flight->all_link);
  nebula_compute_permit_grant (self, &to_start);
  nebula_mutex_unlock (&self->mutex);

  while ((waiter = g_queue_pop_head (&waiters)) != NULL)
    {
      nebula_compute_waiter_disconnect (self, waiter);
      nebula_compute_waiter_return (waiter, value, error);
      nebula_compute_waiter_unref (waiter);
    }

  if (flight->refresh && error != NULL && !cancelled)
    g_signal_emit_by_name (self, "load-failed", flight->key, error);

  nebula_compute_flight_start_all (&to_start);
  nebula_compute_flight_free (flight);
}

/* Whether @flight's compute function is running below this point of this
 * thread: a request that joins it would wait for itself. */
gboolean
nebula_compute_flight_computing_in_thread (Flight *flight)
{
  for (Computing *c = g_private_get (&computing_key); c != NULL; c = c->outer)
    if (c->flight == flight)
      return TRUE;
  return FALSE;
}

Computing *
nebula_compute_flight_innermost (void)
{
  return g_private_get (&computing_key);
}
