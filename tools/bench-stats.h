/* bench-stats.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/* Prints what statistics and call-site context cost (see bench-stats.c);
 * nebula-bench may call it, nebula-stats-bench is its own front end. */
void nebula_bench_stats_run (void);
