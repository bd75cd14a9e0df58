/* nebula-compute-waiter.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-async-cache-instance-private.h"
#include "nebula-circuit-breaker-private.h"
#include "nebula-compute-waiter-private.h"
#include "nebula-sanitizer-private.h"

void
nebula_cache_handle_clear (gpointer data)
{
  CacheHandle *handle = data;

  g_weak_ref_clear (&handle->cache);
}

Waiter *
nebula_compute_waiter_new (NebulaAsyncComputeCache *self,
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
    g_atomic_rc_box_release_full (waiter->handle, nebula_cache_handle_clear);
  g_clear_object (&waiter->task);
}

void
nebula_compute_waiter_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, waiter_clear);
}

/* Completes the waiter's task. Runs without the lock; exactly one path
 * gets here for a waiter, the one that set waiter->done. */
void
nebula_compute_waiter_return (Waiter       *waiter,
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

void
nebula_compute_waiter_return_cancelled (Waiter     *waiter,
                                        const char *message)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, message);

  nebula_compute_waiter_return (waiter, NULL, error);
}

/* The links are embedded: g_queue_pop_head() would free them. */
Waiter *
nebula_compute_waiter_pop (GQueue *waiters)
{
  GList *link = g_queue_pop_head_link (waiters);

  return link != NULL ? link->data : NULL;
}

/* For a waiter completed by its flight (done is set): the handler is
 * disconnected before the task, which holds the cancellable, goes. A
 * handler running in another thread is waited for; it finds the waiter
 * done. */
void
nebula_compute_waiter_disconnect (NebulaAsyncComputeCache *self,
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
          nebula_compute_flight_detach (self, flight);
          if (flight->state == FLIGHT_QUEUED)
            {
              /* Queued flights that lost every waiter never run. */
              g_queue_unlink (&self->pending, &flight->pending_link);
              nebula_circuit_breaker_release_probe (self, flight);
              g_queue_unlink (&self->all_flights, &flight->all_link);
              dropped = flight;
            }
          else
            cancel_flight = g_object_ref (flight->cancellable);
        }
    }
  nebula_mutex_unlock (&self->mutex);

  nebula_compute_waiter_return_cancelled (waiter, "The request was cancelled");
  if (cancel_flight != NULL)
    {
      g_cancellable_cancel (cancel_flight);
      g_object_unref (cancel_flight);
    }
  if (dropped != NULL)
    nebula_compute_flight_free (dropped);
  if (flight != NULL)
    nebula_compute_waiter_unref (waiter);        /* the flight's reference */
}

/* Connects the caller's cancellable; a cancellable already cancelled calls
 * back at once. */
void
nebula_compute_waiter_connect (NebulaAsyncComputeCache *self,
                               Waiter                  *waiter)
{
  gulong handler;

  if (waiter->cancellable == NULL)
    return;

  handler = g_cancellable_connect (waiter->cancellable, G_CALLBACK (waiter_cancelled_cb),
                                   g_atomic_rc_box_acquire (waiter), nebula_compute_waiter_unref);

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

void
nebula_compute_waiter_add (Flight *flight,
                           Waiter *waiter)
{
  waiter->flight = flight;
  g_queue_push_tail_link (&flight->waiters, &waiter->link);
}

