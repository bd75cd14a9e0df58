/* bench-cache.h: the compute-cache workloads of nebula-bench
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <nebula.h>

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

/* The nick of @policy ("lru", "s3-fifo"). */
const char *nebula_bench_cache_policy_nick    (NebulaEvictionPolicy policy);

/* The Zipf-trace workload (bench-cache-zipf.c), run and printed by the
 * functions above. */
gboolean nebula_bench_cache_zipf_run          (gboolean  quick,
                                               guint     rounds);
void     nebula_bench_cache_zipf_print_table  (void);
/* Appends `    "zipf": { ... }` and a newline: the last member. */
void     nebula_bench_cache_zipf_append_json  (GString  *out);
void     nebula_bench_cache_zipf_print_csv    (void);
/* Reads @path (one key per line), to be replayed instead of the Zipf
 * trace; FALSE with @error if it cannot be read or has fewer than 10
 * distinct keys. */
/* The thread count of the rows that compare several threads with one
 * (default 2). */
void     nebula_bench_cache_zipf_set_threads  (guint        threads);
gboolean nebula_bench_cache_zipf_set_trace    (const char  *path,
                                               GError     **error);

G_END_DECLS
