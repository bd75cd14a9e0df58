/* bench-runner.h: running one target on one workload
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "bench-peers.h"

G_BEGIN_DECLS

/* The GType of nebula_<short_name>_allocator, looked up by name so that a
 * type this build of libnebula lacks is simply absent: G_TYPE_INVALID. */
GType nebula_bench_nebula_type  (const char           *short_name);

/* Warms up, then times @rounds rounds of @workload on @target with
 * @n_threads threads sharing it, and fills @cell (its error says why
 * when it could not run). */
void  nebula_bench_run_target   (Target               *target,
                                 NebulaBenchWorkload   workload,
                                 guint64               iterations,
                                 guint                 rounds,
                                 guint                 n_threads,
                                 guint64               seed,
                                 Cell                 *cell);

G_END_DECLS
