/* nebula-allocator-stats.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-stats.h"

G_DEFINE_BOXED_TYPE (NebulaAllocatorStats, nebula_allocator_stats,
                     nebula_allocator_stats_copy, nebula_allocator_stats_free)

/**
 * nebula_allocator_stats_copy:
 * @stats: a #NebulaAllocatorStats
 *
 * Copies @stats.
 *
 * Returns: (transfer full): a copy of @stats
 */
NebulaAllocatorStats *
nebula_allocator_stats_copy (const NebulaAllocatorStats *stats)
{
  g_return_val_if_fail (stats != NULL, NULL);

  return g_memdup2 (stats, sizeof *stats);
}

/**
 * nebula_allocator_stats_free:
 * @stats: a #NebulaAllocatorStats
 *
 * Frees @stats.
 */
void
nebula_allocator_stats_free (NebulaAllocatorStats *stats)
{
  g_free (stats);
}
