/* nebula-stats.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "nebula-stats-private.h"

void
nebula_stats_counters_init (NebulaStatsCounters *counters,
                            gboolean             enabled,
                            gboolean             thread_safe)
{
  memset (counters, 0, sizeof *counters);
  counters->enabled = !!enabled;
  counters->thread_safe = !!thread_safe;
}

void
nebula_stats_counters_clear (NebulaStatsCounters *counters)
{
  memset (&counters->plain, 0, sizeof counters->plain);
}

static guint64
load (guint64 *field)
{
  return __atomic_load_n (field, __ATOMIC_RELAXED);
}

void
nebula_stats_counters_read (NebulaStatsCounters  *counters,
                            NebulaAllocatorStats *out)
{
  NebulaAllocatorStats *p = &counters->plain;

  out->allocations = load (&p->allocations);
  out->deallocations = load (&p->deallocations);
  out->reallocations = load (&p->reallocations);
  out->failed_allocations = load (&p->failed_allocations);
  out->bytes_in_use = load (&p->bytes_in_use);
  /* The recorded peak may lag the inline paths (see nebula-stats-private.h). */
  out->peak_bytes_in_use = MAX (load (&p->peak_bytes_in_use), out->bytes_in_use);
  out->total_bytes_allocated = load (&p->total_bytes_allocated);
  out->total_bytes_freed = load (&p->total_bytes_freed);
  out->resets = load (&p->resets);
}

void
nebula_stats_counters_zero (NebulaStatsCounters *counters)
{
  guint64 in_use = load (&counters->plain.bytes_in_use);

  /* What is live stays live: only the history is forgotten. */
  memset (&counters->plain, 0, sizeof counters->plain);
  counters->plain.bytes_in_use = in_use;
  counters->plain.peak_bytes_in_use = in_use;
}

void
nebula_stats_counters_add_atomic (NebulaStatsCounters *counters,
                                  gint64               allocations,
                                  gint64               deallocations,
                                  gint64               reallocations,
                                  gint64               failures,
                                  gint64               bytes_allocated,
                                  gint64               bytes_freed)
{
  NebulaAllocatorStats *p = &counters->plain;

  if (allocations)
    __atomic_fetch_add (&p->allocations, allocations, __ATOMIC_RELAXED);
  if (deallocations)
    __atomic_fetch_add (&p->deallocations, deallocations, __ATOMIC_RELAXED);
  if (reallocations)
    __atomic_fetch_add (&p->reallocations, reallocations, __ATOMIC_RELAXED);
  if (failures)
    __atomic_fetch_add (&p->failed_allocations, failures, __ATOMIC_RELAXED);
  if (bytes_freed)
    {
      __atomic_fetch_add (&p->total_bytes_freed, bytes_freed, __ATOMIC_RELAXED);
      __atomic_fetch_sub (&p->bytes_in_use, bytes_freed, __ATOMIC_RELAXED);
    }
  if (bytes_allocated)
    {
      guint64 in_use, peak;

      __atomic_fetch_add (&p->total_bytes_allocated, bytes_allocated, __ATOMIC_RELAXED);
      in_use = __atomic_add_fetch (&p->bytes_in_use, bytes_allocated, __ATOMIC_RELAXED);
      peak = __atomic_load_n (&p->peak_bytes_in_use, __ATOMIC_RELAXED);
      while (in_use > peak &&
             !__atomic_compare_exchange_n (&p->peak_bytes_in_use, &peak, in_use, TRUE,
                                           __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    }
}

void
nebula_stats_counters_record_reset (NebulaStatsCounters *counters)
{
  NebulaAllocatorStats *p = &counters->plain;

  if (!counters->enabled)
    return;

  nebula_stats_counters_settle_peak (counters);
  p->total_bytes_freed += p->bytes_in_use;
  p->bytes_in_use = 0;
  p->resets++;
}
