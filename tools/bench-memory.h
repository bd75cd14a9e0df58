/* bench-memory.h: reserved and in-use bytes of Nebula's allocators after a
 * run, and after a trim
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <nebula.h>

G_BEGIN_DECLS

/* Measures @allocator, which just ran one workload as @target_name: what
 * it holds from the system (the report's `reserved`) and what its callers
 * hold (`bytes-in-use`), then trims it and measures again. Sums per
 * target, in the order targets are first recorded. */
void nebula_bench_memory_record (const char      *target_name,
                                 NebulaAllocator *allocator);

/* The section of the table: one line per target recorded, or nothing. */
void nebula_bench_memory_print  (void);

G_END_DECLS
