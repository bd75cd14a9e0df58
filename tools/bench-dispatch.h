/* bench-dispatch.h: the dispatch micro-benchmark of nebula-bench
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *name;
  double      ns;
} DispatchRow;

/* Times a 64-byte allocation and its free, over and over, through each
 * exported path (and the floors and malloc beside them); @quick takes
 * fewer pairs and repeats. */
void               nebula_bench_dispatch_run   (gboolean    quick);

/* The rows measured so far, in the order they ran (none before a run). */
const DispatchRow *nebula_bench_dispatch_rows  (guint      *n_rows);

/* The row named @name's ns per call, NAN when there is none. */
double             nebula_bench_dispatch_ns    (const char *name);

G_END_DECLS
