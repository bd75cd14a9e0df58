/* nebula-allocator-stats.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>

#include "nebula-version-macros.h"

G_BEGIN_DECLS

#define NEBULA_TYPE_ALLOCATOR_STATS (nebula_allocator_stats_get_type ())

typedef struct _NebulaAllocatorStats NebulaAllocatorStats;

/**
 * NebulaAllocatorStats:
 * @allocations: successful allocations (including zeroed and the new block
 *   of a moving reallocation)
 * @deallocations: successful deallocations
 * @reallocations: successful reallocations
 * @failed_allocations: allocations and reallocations that returned an error
 * @bytes_in_use: bytes allocated and not yet freed, as the callers asked;
 *   never below 0. A deallocation of more than was allocated (a wrong size
 *   or a block freed twice, which not every allocator can detect) leaves a
 *   deficit that later allocations make up before @bytes_in_use rises again;
 *   a reset or nebula_allocator_reset_stats() clears it
 * @peak_bytes_in_use: the highest @bytes_in_use since creation or the last
 *   nebula_allocator_reset_stats(). Exact for single-threaded allocators and
 *   for a thread-safe one used from one thread (or from threads one after
 *   another that took over the same shard); when several threads use it, the highest
 *   value the allocator can prove was reached (never above the true peak,
 *   and exact for any peak a read observed); the report's
 *   `peak-bytes-in-use-upper-bound` bounds it from above
 * @total_bytes_allocated: bytes handed out over the allocator's lifetime
 * @total_bytes_freed: bytes given back, by deallocation or reset
 * @resets: how many times the allocator was reset
 *
 * A snapshot of an allocator's counters, from nebula_allocator_get_stats().
 * Reads are exact: thread-safe allocators sum their per-thread shards, so
 * there is no delay and nothing to flush. A read made while other threads
 * make requests sees each thread's bytes up to some point during the
 * read: @bytes_in_use is consistent with @total_bytes_allocated and
 * @total_bytes_freed of the same read, but a count (@allocations, ...)
 * may be one request of a thread ahead of or behind the bytes.
 */
struct _NebulaAllocatorStats
{
  guint64 allocations;
  guint64 deallocations;
  guint64 reallocations;
  guint64 failed_allocations;
  guint64 bytes_in_use;
  guint64 peak_bytes_in_use;
  guint64 total_bytes_allocated;
  guint64 total_bytes_freed;
  guint64 resets;
};

NEBULA_AVAILABLE_IN_0_1
GType                 nebula_allocator_stats_get_type (void) G_GNUC_CONST;
NEBULA_AVAILABLE_IN_0_1
NebulaAllocatorStats *nebula_allocator_stats_copy     (const NebulaAllocatorStats *stats);
NEBULA_AVAILABLE_IN_0_1
void                  nebula_allocator_stats_free     (NebulaAllocatorStats       *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NebulaAllocatorStats, nebula_allocator_stats_free)

G_END_DECLS
