/* bench-strings.h: strings into arenas, against the C arenas' own
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *operation;      /* "printf" or "strdup" */
  const char *implementation; /* "nebula-bump", "apr-pool", "talloc-pool", "glib" */
  double      ns;             /* per string, the best round */
} StringsRow;

/* Formats (printf) and copies (strdup) batches of 1,000 short strings
 * into a Nebula bump allocator, an APR pool and a talloc pool (those
 * found at configure time), each reset after a batch, and with GLib's
 * g_strdup_printf()/g_strdup() freed after a batch; @quick measures
 * fewer batches. */
void              nebula_bench_strings_run  (gboolean  quick);

/* The rows measured so far (none before a run). */
const StringsRow *nebula_bench_strings_rows (guint    *n_rows);

G_END_DECLS
