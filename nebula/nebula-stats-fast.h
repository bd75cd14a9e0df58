/* nebula-stats-fast.h
 *
 * The counting arithmetic of the inline fast paths
 * (nebula-allocator-fast.h). Not API; the rest of the statistics lives in
 * nebula-stats-private.h and nebula-stats.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

#ifndef __GI_SCANNER__

/*< private >
 * NebulaStatsPlain:
 *
 * The counters of an allocator that keeps statistics without atomics,
 * which the inline fast paths write (through a pointer that is %NULL when
 * the allocator keeps none). Not API. nebula_stats_counters_read()
 * (nebula-stats.c) turns them into a #NebulaAllocatorStats, whose fields
 * mean what their names say.
 *
 * Bytes in use are not stored, so that each request touches as few
 * counters as possible: @freed_less_base holds the bytes freed minus
 * @in_use_base. Then the balance, @total_bytes_allocated -
 * @freed_less_base read as a signed number, is one subtraction; bytes in
 * use is the balance, or 0 while it is below 0. The base only changes
 * when a reset or nebula_allocator_reset_stats() starts the balance anew.
 * (In thread-safe mode, nebula-stats-private.h, the shards count and these
 * hold what resets folded in: @in_use_base is the base the shards'
 * balances add to, and @freed_less_base the freed total, base included.)
 * @peak_bytes_in_use may lag: the peak is MAX (peak, in use).
 */
typedef struct
{
  guint64 allocations;
  guint64 deallocations;
  guint64 reallocations;
  guint64 failed_allocations;
  guint64 in_use_base;
  guint64 peak_bytes_in_use;
  guint64 total_bytes_allocated;
  guint64 freed_less_base;
  guint64 resets;
} NebulaStatsPlain;

/*< private >
 * What the inline fast paths count.
 *
 * An allocation adds to two counters. A free adds to two and settles the
 * peak, which an allocation leaves lagging. A free of more than is in use
 * (a caller's mistake the allocator cannot always see, such as a size
 * larger than the one allocated) takes the balance below 0, and later
 * allocations fill that gap before bytes in use rises again. That is how
 * a thread-safe allocator's per-thread balances have always counted (a
 * read clamps their sum at 0), and a reset or a zeroing closes the gap.
 * Checking for it on every free, to stop at 0 there, cost 1.5 points of
 * the 5% budget (HACKING.md, "Statistics: how the counters are built and
 * what they cost").
 * All arithmetic is modulo 2^64.
 */
static inline gint64
_nebula_fast_stats_balance (const NebulaStatsPlain *stats)
{
  return (gint64) (stats->total_bytes_allocated - stats->freed_less_base);
}

/* The _count_ variants are for callers that know @stats is set. */
static inline void
_nebula_fast_stats_count_alloc (NebulaStatsPlain *stats,
                                gsize             size)
{
  stats->allocations++;
  stats->total_bytes_allocated += size;
}

static inline void
_nebula_fast_stats_alloc (NebulaStatsPlain *stats,
                          gsize                 size)
{
  if (stats != NULL)
    _nebula_fast_stats_count_alloc (stats, size);
}

/* Settles the peak, then takes @size off the balance. The usual free runs
 * straight through: a new peak branches out and comes back. */
static inline void
_nebula_fast_stats_take (NebulaStatsPlain *stats,
                         guint64               size)
{
  gint64 balance = _nebula_fast_stats_balance (stats);

  if (G_UNLIKELY (balance > (gint64) stats->peak_bytes_in_use))
    stats->peak_bytes_in_use = (guint64) balance;
  stats->freed_less_base += size;
}

static inline void
_nebula_fast_stats_count_free (NebulaStatsPlain *stats,
                               gsize             size)
{
  _nebula_fast_stats_take (stats, size);
  stats->deallocations++;
}

static inline void
_nebula_fast_stats_free (NebulaStatsPlain *stats,
                         gsize                 size)
{
  if (stats != NULL)
    _nebula_fast_stats_count_free (stats, size);
}

#endif /* __GI_SCANNER__ */

G_END_DECLS
