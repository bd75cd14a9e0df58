/* nebula-stats-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-allocator-stats.h"

G_BEGIN_DECLS

/* The counters every allocator embeds. The public wrappers of
 * NebulaAllocator (and the inline fast paths) record into them, so an
 * implementation never counts for itself.
 *
 * Single-threaded allocators use `plain` with ordinary arithmetic. Thread-safe
 * allocators use atomic read-modify-write on the same fields.
 *
 * In plain mode peak_bytes_in_use may lag: the peak is MAX (peak, in_use).
 * It is settled whenever bytes_in_use is about to fall and on every read,
 * so an inline allocation path only adds and never compares. */
typedef struct
{
  NebulaAllocatorStats plain;
  guint                enabled : 1;
  guint                thread_safe : 1;
} NebulaStatsCounters;

void nebula_stats_counters_init  (NebulaStatsCounters  *counters,
                                  gboolean              enabled,
                                  gboolean              thread_safe);
void nebula_stats_counters_clear (NebulaStatsCounters  *counters);
void nebula_stats_counters_read  (NebulaStatsCounters  *counters,
                                  NebulaAllocatorStats *out);
void nebula_stats_counters_zero  (NebulaStatsCounters  *counters);

/* Slow, atomic variants for thread-safe allocators. */
void nebula_stats_counters_add_atomic (NebulaStatsCounters *counters,
                                       gint64               allocations,
                                       gint64               deallocations,
                                       gint64               reallocations,
                                       gint64               failures,
                                       gint64               bytes_allocated,
                                       gint64               bytes_freed);

/* Plain mode: makes the recorded peak exact before bytes_in_use falls. */
static inline void
nebula_stats_counters_settle_peak (NebulaStatsCounters *counters)
{
  if (counters->plain.bytes_in_use > counters->plain.peak_bytes_in_use)
    counters->plain.peak_bytes_in_use = counters->plain.bytes_in_use;
}

static inline void
nebula_stats_counters_record_allocation (NebulaStatsCounters *counters,
                                         gsize                size)
{
  if (!counters->enabled)
    return;

  if (G_UNLIKELY (counters->thread_safe))
    {
      nebula_stats_counters_add_atomic (counters, 1, 0, 0, 0, size, 0);
      return;
    }

  counters->plain.allocations++;
  counters->plain.total_bytes_allocated += size;
  counters->plain.bytes_in_use += size;
  if (counters->plain.bytes_in_use > counters->plain.peak_bytes_in_use)
    counters->plain.peak_bytes_in_use = counters->plain.bytes_in_use;
}

static inline void
nebula_stats_counters_record_deallocation (NebulaStatsCounters *counters,
                                           gsize                size)
{
  if (!counters->enabled)
    return;

  if (G_UNLIKELY (counters->thread_safe))
    {
      nebula_stats_counters_add_atomic (counters, 0, 1, 0, 0, 0, size);
      return;
    }

  counters->plain.deallocations++;
  counters->plain.total_bytes_freed += size;
  nebula_stats_counters_settle_peak (counters);
  counters->plain.bytes_in_use -= MIN (size, counters->plain.bytes_in_use);
}

static inline void
nebula_stats_counters_record_reallocation (NebulaStatsCounters *counters,
                                           gsize                old_size,
                                           gsize                new_size)
{
  if (!counters->enabled)
    return;

  if (G_UNLIKELY (counters->thread_safe))
    {
      nebula_stats_counters_add_atomic (counters, 0, 0, 1, 0,
                                        new_size > old_size ? new_size - old_size : 0,
                                        old_size > new_size ? old_size - new_size : 0);
      return;
    }

  counters->plain.reallocations++;
  if (new_size > old_size)
    {
      counters->plain.total_bytes_allocated += new_size - old_size;
      counters->plain.bytes_in_use += new_size - old_size;
      if (counters->plain.bytes_in_use > counters->plain.peak_bytes_in_use)
        counters->plain.peak_bytes_in_use = counters->plain.bytes_in_use;
    }
  else
    {
      counters->plain.total_bytes_freed += old_size - new_size;
      nebula_stats_counters_settle_peak (counters);
      counters->plain.bytes_in_use -= MIN (old_size - new_size, counters->plain.bytes_in_use);
    }
}

static inline void
nebula_stats_counters_record_failure (NebulaStatsCounters *counters)
{
  if (!counters->enabled)
    return;

  if (G_UNLIKELY (counters->thread_safe))
    {
      nebula_stats_counters_add_atomic (counters, 0, 0, 0, 1, 0, 0);
      return;
    }

  counters->plain.failed_allocations++;
}

/* A reset frees everything that is in use. Resets are never concurrent with
 * other operations, so this needs no atomics. */
void nebula_stats_counters_record_reset (NebulaStatsCounters *counters);

G_END_DECLS
