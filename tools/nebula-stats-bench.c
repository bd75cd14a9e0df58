/* nebula-stats-bench.c: runs the statistics benchmark on its own.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bench-stats.h"

int
main (int   argc,
      char *argv[])
{
  nebula_bench_stats_run ();
  return 0;
}
