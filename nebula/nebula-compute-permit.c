/* nebula-compute-permit.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-async-cache-instance-private.h"
#include "nebula-compute-permit-private.h"
#include "nebula-error-private.h"

/* Gives free permits to queued flights, first in first out. */
void
nebula_compute_permit_grant (NebulaAsyncComputeCache *self,
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

/* Whether every permit is held by computations whose compute functions
 * are running below this point of this thread: a flight queued now could
 * only start once they returned, which they may be waiting to do. */
gboolean
nebula_compute_permit_held_in_thread (NebulaAsyncComputeCache *self)
{
  guint held = 0;

  if (self->max_concurrent == 0 || self->running < self->max_concurrent)
    return FALSE;
  for (Computing *c = nebula_compute_flight_innermost (); c != NULL; c = c->outer)
    if (c->cache == self && c->holds_permit)
      held++;
  return held >= self->max_concurrent;
}

/* Creates a flight for @key, attached and either running or queued.
 * Returns NULL with BUSY when the queue is full. */
Flight *
nebula_compute_permit_new_flight (NebulaAsyncComputeCache  *self,
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

  flight = nebula_compute_flight_new (self, key, func, func_data, func_destroy);
  flight->probe = probe;
  nebula_compute_flight_attach (self, flight);
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

