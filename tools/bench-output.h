/* bench-output.h: nebula-bench's report as a table, JSON, CSV or an SVG
 * chart
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "bench-peers.h"

G_BEGIN_DECLS

/* What the run was asked to do; the results themselves are in
 * nebula_bench_targets and the dispatch, SIMD and cache rows. */
typedef struct
{
  guint64   iterations;
  guint     rounds;
  int       threads;
  gint64    seed;
  gboolean  simd_only;
  gboolean  workload_selected[N_WORKLOADS];
} BenchReport;

void     nebula_bench_print_table  (const BenchReport  *report);
void     nebula_bench_print_json   (const BenchReport  *report);
void     nebula_bench_print_csv    (const BenchReport  *report);

/* One panel a workload, a bar an allocator: the speed-up over glibc
 * malloc on a log scale. */
gboolean nebula_bench_write_plot   (const BenchReport  *report,
                                    const char         *path,
                                    GError            **error);

G_END_DECLS
