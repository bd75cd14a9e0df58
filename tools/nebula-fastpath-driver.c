/* nebula-fastpath-driver.c: a small, deterministic driver for counting the
 * instructions of the allocation fast paths under Valgrind:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out \
 *     _build-release/tools/nebula-fastpath-driver [no-stats]
 *   callgrind_annotate --inclusive=yes cg.out | grep run_
 *
 * Each run_* function allocates 64 bytes (alignment 8) N times, writing
 * one byte, with a reset every 512 allocations; Ir of run_x / N is the
 * cost of one allocation plus the loop around it (run_floor_inline has
 * the loop and a trivial bump, so the difference is the allocator's).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <nebula.h>

#include "nebula-bench-floor.h"

#define N       (1024 * 1024)
#define BATCH   512

static G_NO_INLINE guint64
run_floor_inline (NebulaBenchFloor *floor)
{
  guint64 sum = 0;

  for (guint i = 0; i < N; i++)
    {
      guint8 *p = nebula_bench_floor_alloc_inline (floor, 64, 8);

      *p = (guint8) i;
      sum += GPOINTER_TO_SIZE (p);
      if (i % BATCH == BATCH - 1)
        nebula_bench_floor_reset_inline (floor);
    }
  return sum;
}

static G_NO_INLINE guint64
run_floor_call (NebulaBenchFloor *floor)
{
  guint64 sum = 0;

  for (guint i = 0; i < N; i++)
    {
      guint8 *p = nebula_bench_floor_alloc (floor, 64, 8);

      *p = (guint8) i;
      sum += GPOINTER_TO_SIZE (p);
      if (i % BATCH == BATCH - 1)
        nebula_bench_floor_reset_inline (floor);
    }
  return sum;
}

static G_NO_INLINE guint64
run_bump_inline (NebulaBumpAllocator *bump)
{
  guint64 sum = 0;

  for (guint i = 0; i < N; i++)
    {
      guint8 *p = nebula_bump_allocator_alloc (bump, 64, 8, NULL);

      *p = (guint8) i;
      sum += GPOINTER_TO_SIZE (p);
      if (i % BATCH == BATCH - 1)
        nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
    }
  return sum;
}

static G_NO_INLINE guint64
run_bump_interface (NebulaAllocator *bump)
{
  guint64 sum = 0;

  for (guint i = 0; i < N; i++)
    {
      guint8 *p = nebula_allocator_allocate (bump, 64, 8, NULL);

      *p = (guint8) i;
      sum += GPOINTER_TO_SIZE (p);
      if (i % BATCH == BATCH - 1)
        nebula_allocator_reset (bump);
    }
  return sum;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (64 * 1024, NULL);
  g_autoptr(NebulaBumpAllocator) quiet = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, NULL,
                                                         "track-stats", FALSE, NULL);
  guint8 *buffer = g_malloc (64 * BATCH + 64);
  NebulaBenchFloor floor = { buffer, buffer + 64 * BATCH + 64, buffer };
  guint64 sum = 0;

  sum += run_floor_inline (&floor);
  sum += run_floor_call (&floor);
  /* With any argument: the bump allocator without statistics. */
  if (argc > 1)
    g_set_object (&bump, quiet);
  sum += run_bump_inline (bump);
  sum += run_bump_interface (NEBULA_ALLOCATOR (bump));

  g_free (buffer);
  return sum == 42;
}
