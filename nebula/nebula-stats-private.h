/* nebula-stats-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-allocator-stats.h"

G_BEGIN_DECLS

typedef struct _NebulaStatsShardTable NebulaStatsShardTable;

/* The counters every allocator embeds. The public wrappers of
 * NebulaAllocator (and the inline fast paths) record into them, so an
 * implementation never counts for itself.
 *
 * Single-threaded allocators use `plain` with ordinary arithmetic.
 * Thread-safe allocators record into per-thread shards (nebula-stats.c
 * explains the design); `plain` then holds what is not per thread: failed
 * allocations (atomic), resets, and the values folded in by resets and
 * nebula_stats_counters_zero().
 *
 * The storage must be zero-filled before the first
 * nebula_stats_counters_init() (GObject instances are). Built-in
 * allocators need not call nebula_stats_counters_clear():
 * nebula_allocator_config_ensure() ties the shards to the object, which
 * frees them when it is finalized. Calling it in finalize is harmless. */
typedef struct
{
  NebulaAllocatorStats   plain;
  NebulaStatsShardTable *table;         /* thread-safe mode, created on first use */
  guint64                peak_upper;    /* thread-safe mode: folded upper bound of the peak */
  guint                  enabled : 1;
  guint                  thread_safe : 1;
} NebulaStatsCounters;

void nebula_stats_counters_init  (NebulaStatsCounters  *counters,
                                  gboolean              enabled,
                                  gboolean              thread_safe);
void nebula_stats_counters_clear (NebulaStatsCounters  *counters);
void nebula_stats_counters_read  (NebulaStatsCounters  *counters,
                                  NebulaAllocatorStats *out);
void nebula_stats_counters_zero  (NebulaStatsCounters  *counters);

/* For thread-safe counters: the highest bytes_in_use the peak could have
 * been (nebula_stats_counters_read() gives the highest it certainly was).
 * Equals the peak for single-threaded counters. */
guint64 nebula_stats_counters_peak_upper_bound (NebulaStatsCounters *counters);

/* The per-thread path of thread-safe counters; @bytes_in and @bytes_out are
 * what the request added to and removed from bytes_in_use. */
typedef enum
{
  NEBULA_STATS_ALLOCATION,
  NEBULA_STATS_DEALLOCATION,
  NEBULA_STATS_REALLOCATION,
} NebulaStatsEvent;

void nebula_stats_counters_record_shared (NebulaStatsCounters *counters,
                                          NebulaStatsEvent     event,
                                          gsize                bytes_in,
                                          gsize                bytes_out);

static inline void
nebula_stats_counters_record_allocation (NebulaStatsCounters *counters,
                                         gsize                size)
{
  guint64 in_use;

  if (!counters->enabled)
    return;

  if (G_UNLIKELY (counters->thread_safe))
    {
      nebula_stats_counters_record_shared (counters, NEBULA_STATS_ALLOCATION, size, 0);
      return;
    }

  counters->plain.allocations++;
  counters->plain.total_bytes_allocated += size;
  in_use = counters->plain.bytes_in_use += size;
  if (in_use > counters->plain.peak_bytes_in_use)
    counters->plain.peak_bytes_in_use = in_use;
}

static inline void
nebula_stats_counters_record_deallocation (NebulaStatsCounters *counters,
                                           gsize                size)
{
  if (!counters->enabled)
    return;

  if (G_UNLIKELY (counters->thread_safe))
    {
      nebula_stats_counters_record_shared (counters, NEBULA_STATS_DEALLOCATION, 0, size);
      return;
    }

  counters->plain.deallocations++;
  counters->plain.total_bytes_freed += size;
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
      nebula_stats_counters_record_shared (counters, NEBULA_STATS_REALLOCATION,
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
      counters->plain.bytes_in_use -= MIN (old_size - new_size, counters->plain.bytes_in_use);
    }
}

static inline void
nebula_stats_counters_record_failure (NebulaStatsCounters *counters)
{
  if (!counters->enabled)
    return;

  /* Failures are rare: one shared atomic is cheaper than a shard lookup. */
  if (G_UNLIKELY (counters->thread_safe))
    __atomic_fetch_add (&counters->plain.failed_allocations, 1, __ATOMIC_RELAXED);
  else
    counters->plain.failed_allocations++;
}

/* A reset frees everything that is in use. Resets (and
 * nebula_stats_counters_zero()) never run concurrently with other
 * operations on the same allocator. */
void nebula_stats_counters_record_reset (NebulaStatsCounters *counters);

G_END_DECLS
