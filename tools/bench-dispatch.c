/* bench-dispatch.c: one 64-byte allocation and its free, over and over,
 * through each exported path of nebula-bench's allocators
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The calls below go from this program into libnebula-1.so, as a user's
 * program's do (HACKING.md, "Tools: files by behaviour").
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>

#include <gio/gio.h>
#include <nebula.h>

#include "bench-dispatch.h"
#include "bench-peers.h"

#define DISPATCH_PAIRS_QUICK 200000
#define DISPATCH_PAIRS       4000000

static DispatchRow dispatch_rows[12];
static guint n_dispatch_rows;

static double
time_best_of (guint    repeats,
              double (*run) (gpointer data, guint64 n),
              gpointer data,
              guint64  n)
{
  double best = INFINITY;

  run (data, n / 10 + 1);
  for (guint i = 0; i < repeats; i++)
    best = MIN (best, run (data, n));
  return best;
}

/* One timing function per path: @alloc_call and @free_call, written in
 * terms of `self` (the @Type behind data) and `p`, are inlined into the
 * loop, so each path pays only its own calls. */
#define DEFINE_DISPATCH(name, Type, alloc_call, free_call)                    \
  static double                                                               \
  name (gpointer data, guint64 n)                                             \
  {                                                                           \
    Type *self = data;                                                        \
    guint64 start = nebula_bench_now_ns (TRUE);                               \
                                                                              \
    for (guint64 i = 0; i < n; i++)                                           \
      {                                                                       \
        guint8 *p = (alloc_call);                                             \
                                                                              \
        *p = (guint8) i;                                                      \
        free_call;                                                            \
      }                                                                       \
    return (double) (nebula_bench_now_ns (TRUE) - start) / (double) (2 * n);  \
  }

DEFINE_DISPATCH (dispatch_floor_inline, FloorContext,
                 nebula_bench_floor_alloc_inline (&self->floor, 64, 8),
                 nebula_bench_floor_free_inline (&self->floor, p, 64))
DEFINE_DISPATCH (dispatch_floor_call, FloorContext,
                 nebula_bench_floor_alloc (&self->floor, 64, 8),
                 nebula_bench_floor_free (&self->floor, p, 64, 8))
DEFINE_DISPATCH (dispatch_bump_inline, NebulaBumpAllocator,
                 nebula_bump_allocator_alloc (self, 64, 8, NULL),
                 nebula_bump_allocator_free (self, p, 64, 8, NULL))
DEFINE_DISPATCH (dispatch_interface, NebulaAllocator,
                 nebula_allocator_allocate (self, 64, 8, NULL),
                 nebula_allocator_deallocate (self, p, 64, 8, NULL))

static double
dispatch_malloc (gpointer data, guint64 n)
{
  guint64 start = nebula_bench_now_ns (TRUE);

  for (guint64 i = 0; i < n; i++)
    {
      guint8 *p = malloc (64);

      *p = (guint8) i;
      /* Without this GCC removes the pair altogether. */
      __asm__ __volatile__ ("" : : "r" (p) : "memory");
      free (p);
    }
  return (double) (nebula_bench_now_ns (TRUE) - start) / (double) (2 * n);
}

static void
add_dispatch_row (const char *name,
                  double      ns)
{
  g_assert (n_dispatch_rows < G_N_ELEMENTS (dispatch_rows));
  dispatch_rows[n_dispatch_rows].name = name;
  dispatch_rows[n_dispatch_rows].ns = ns;
  n_dispatch_rows++;
}

void
nebula_bench_dispatch_run (gboolean quick)
{
  guint64 n = quick ? DISPATCH_PAIRS_QUICK : DISPATCH_PAIRS;
  guint repeats = quick ? 2 : 5;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (64 * 1024, NULL);
  g_autoptr(NebulaBumpAllocator) bump_quiet = NULL;
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(NebulaPoolAllocator) pool_shared = NULL;
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(NebulaSystemAllocator) system_perf = NULL;
  /* Room for a 4 KiB batch and the floors' slack; one block is live. */
  FloorContext *floor = nebula_bench_floor_context_new (4096 + 4096);

  add_dispatch_row ("floor-inline", time_best_of (repeats, dispatch_floor_inline, floor, n));
  add_dispatch_row ("floor-call", time_best_of (repeats, dispatch_floor_call, floor, n));
  nebula_bench_floor_context_free (floor);

  add_dispatch_row ("bump-inline", time_best_of (repeats, dispatch_bump_inline, bump, n));
  add_dispatch_row ("bump", time_best_of (repeats, dispatch_interface, bump, n));

  bump_quiet = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, NULL, "track-stats", FALSE, NULL);
  add_dispatch_row ("bump-no-stats", time_best_of (repeats, dispatch_interface, bump_quiet, n));

  /* The pool with its default check-frees; a single-threaded and a
   * thread-safe one, and the stack. */
  pool = nebula_pool_allocator_new (64, 1024, NULL);
  add_dispatch_row ("pool", time_best_of (repeats, dispatch_interface, pool, n));
  pool_shared = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, NULL, "thread-safe", TRUE, NULL);
  add_dispatch_row ("pool-ts", time_best_of (repeats, dispatch_interface, pool_shared, n));
  stack = nebula_stack_allocator_new (64 * 1024, NULL);
  add_dispatch_row ("stack", time_best_of (repeats, dispatch_interface, stack, n));

  system_perf = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, NULL,
                                "preset", NEBULA_PRESET_PERFORMANCE, NULL);
  add_dispatch_row ("system-perf", time_best_of (repeats, dispatch_interface, system_perf, n));
  add_dispatch_row ("malloc", time_best_of (repeats, dispatch_malloc, NULL, n));
}

const DispatchRow *
nebula_bench_dispatch_rows (guint *n_rows)
{
  *n_rows = n_dispatch_rows;
  return dispatch_rows;
}

double
nebula_bench_dispatch_ns (const char *name)
{
  for (guint i = 0; i < n_dispatch_rows; i++)
    if (g_str_equal (dispatch_rows[i].name, name))
      return dispatch_rows[i].ns;
  return NAN;
}

