/* bench-cache.h: the compute-cache workloads of nebula-bench
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs the cache workloads (bench-cache.c says which) and keeps the
 * results for the printers below; @rounds 0 means the default. Returns
 * FALSE when a workload broke one of its checks (the row says which). */
gboolean nebula_bench_cache_run          (gboolean  quick,
                                          guint     rounds);

/* Each prints nothing when nebula_bench_cache_run() was not called. */
void     nebula_bench_cache_print_table  (void);
/* Appends `  "caches": { ... },` and a newline: a member of the object
 * being written, followed by others. */
void     nebula_bench_cache_append_json  (GString  *out);
/* Rows in nebula-bench's CSV columns: section, allocator, workload,
 * status, ops, ns_per_op_min, ns_per_op_median, peak_bytes, x_floor,
 * x_malloc. */
void     nebula_bench_cache_print_csv    (void);

G_END_DECLS
