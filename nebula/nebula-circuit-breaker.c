/* nebula-circuit-breaker.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-async-cache-instance-private.h"
#include "nebula-circuit-breaker-private.h"
#include "nebula-compute-cache-private.h"
#include "nebula-error-private.h"

#define BREAKER_TABLE_SIZE 1024

typedef enum
{
  BREAKER_CLOSED,
  BREAKER_OPEN,
  BREAKER_HALF_OPEN,
} BreakerState;

typedef struct
{
  GVariant     *key;
  GList         link;
  guint         failures;
  BreakerState  state;
  gint64        opened_at;
} Breaker;

void
nebula_circuit_breaker_free (gpointer data)
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
gboolean
nebula_circuit_breaker_admit (NebulaAsyncComputeCache  *self,
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
void
nebula_circuit_breaker_reopen (NebulaAsyncComputeCache *self,
                               GVariant                *key)
{
  Breaker *breaker = g_hash_table_lookup (self->breakers, key);

  if (breaker != NULL && breaker->state == BREAKER_HALF_OPEN)
    breaker->state = BREAKER_OPEN;
}

void
nebula_circuit_breaker_release_probe (NebulaAsyncComputeCache *self,
                                      Flight                  *flight)
{
  if (flight->probe)
    nebula_circuit_breaker_reopen (self, flight->key);
}

void
nebula_circuit_breaker_record (NebulaAsyncComputeCache *self,
                               Flight                  *flight,
                               const GError            *error)
{
  Breaker *breaker;

  if (!self->circuit_breaker)
    return;

  if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      nebula_circuit_breaker_release_probe (self, flight);
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

