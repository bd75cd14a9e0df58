/* bench-stats.c: what statistics and call-site context cost.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * nebula_bench_stats_run() prints three measurements (docs/performance.md,
 * section "Statistics", explains them and records the figures):
 *
 * 1. One thread, a bump allocator: allocations with track-stats on and off.
 * 2. Two threads recording into one thread-safe allocator's counters: the
 *    per-thread shards against one shared set of atomic counters (what
 *    Nebula did before; the atomic variant is reproduced here as baseline).
 *    This isolates the counters, since the allocator's own synchronization
 *    would otherwise dominate; the whole request is measured too.
 * 3. NEBULA_ALLOC_CONTEXT around every request, against none.
 *
 * Every figure is the best of several runs, in nanoseconds of the thread's
 * CPU time per request.
 */

#include "config.h"

#include <stdio.h>
#include <time.h>

#include <nebula.h>

#include "nebula-allocator-private.h"
#include "bench-stats.h"

#define RUNS 7

/* CPU time of the calling thread: the machines this runs on are shared,
 * and time spent descheduled is not time spent counting. */
static double
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* 1. track-stats on and off, one thread. */

enum { BATCH = 4096, BATCHES = 256 };

static double
bump_pass (NebulaAllocator *alloc,
           gboolean         with_context)
{
  double start = now_ns ();

  for (guint b = 0; b < BATCHES; b++)
    {
      for (guint i = 0; i < BATCH; i++)
        {
          if (with_context)
            {
              NEBULA_ALLOC_CONTEXT ("bench_request");
              if (G_UNLIKELY (nebula_allocator_allocate (alloc, 16, 8, NULL) == NULL))
                g_error ("allocation failed");
            }
          else if (G_UNLIKELY (nebula_allocator_allocate (alloc, 16, 8, NULL) == NULL))
            g_error ("allocation failed");
        }
      nebula_allocator_reset (alloc);
    }

  return (now_ns () - start) / (BATCH * BATCHES);
}

/* Runs the variants alternately, so that a noisy neighbour slows all of
 * them alike, and keeps the best pass of each. */
static void
bump_compare (NebulaAllocator **allocs,
              const gboolean   *with_context,
              double           *best,
              guint             n)
{
  for (guint i = 0; i < n; i++)
    best[i] = G_MAXDOUBLE;

  for (guint run = 0; run < 3 * RUNS; run++)
    for (guint i = 0; i < n; i++)
      best[i] = MIN (best[i], bump_pass (allocs[i], with_context[i]));
}

static NebulaAllocator *
new_bump (gboolean track_stats,
          gboolean thread_safe)
{
  g_autoptr(GError) error = NULL;
  NebulaAllocator *alloc = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                                           "capacity", (guint64) (BATCH * 16 + 4096),
                                           "track-stats", track_stats,
                                           "thread-safe", thread_safe,
                                           NULL);

  if (alloc == NULL)
    g_error ("%s", error->message);
  return alloc;
}

/* 2. Two threads, shards against one shared set of atomics. */

typedef struct
{
  guint64 allocations;
  guint64 deallocations;
  guint64 total_bytes_allocated;
  guint64 total_bytes_freed;
  guint64 bytes_in_use;
  guint64 peak_bytes_in_use;
} SharedAtomicCounters;

/* The counting Nebula replaced: every request updates one set of counters
 * with atomic read-modify-writes. */
static void
shared_record_allocation (SharedAtomicCounters *c,
                          gsize                 size)
{
  guint64 in_use, peak;

  __atomic_fetch_add (&c->allocations, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add (&c->total_bytes_allocated, size, __ATOMIC_RELAXED);
  in_use = __atomic_add_fetch (&c->bytes_in_use, size, __ATOMIC_RELAXED);
  peak = __atomic_load_n (&c->peak_bytes_in_use, __ATOMIC_RELAXED);
  while (in_use > peak &&
         !__atomic_compare_exchange_n (&c->peak_bytes_in_use, &peak, in_use, TRUE,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;
}

static void
shared_record_deallocation (SharedAtomicCounters *c,
                            gsize                 size)
{
  __atomic_fetch_add (&c->deallocations, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add (&c->total_bytes_freed, size, __ATOMIC_RELAXED);
  __atomic_fetch_sub (&c->bytes_in_use, size, __ATOMIC_RELAXED);
}

enum { COUNTER_OPS = 2000000, WHOLE_OPS = 500000 };

typedef enum
{
  MODE_SHARDED,
  MODE_SHARED_ATOMIC,
  MODE_WHOLE_REQUEST,
} Mode;

typedef struct
{
  Mode                  mode;
  NebulaStatsCounters  *counters;
  SharedAtomicCounters *shared;
  NebulaAllocator      *alloc;
  gint                 *ready;
  double                elapsed;
} Contender;

static gpointer
contender_cb (gpointer data)
{
  Contender *c = data;
  double start;

  /* Start together, so the two threads really overlap. */
  g_atomic_int_inc (c->ready);
  while (g_atomic_int_get (c->ready) < 2)
    ;

  start = now_ns ();
  switch (c->mode)
    {
    case MODE_SHARDED:
      for (guint i = 0; i < COUNTER_OPS; i++)
        {
          nebula_stats_counters_record_allocation (c->counters, 64);
          nebula_stats_counters_record_deallocation (c->counters, 64);
        }
      c->elapsed = (now_ns () - start) / (2.0 * COUNTER_OPS);
      break;

    case MODE_SHARED_ATOMIC:
      for (guint i = 0; i < COUNTER_OPS; i++)
        {
          shared_record_allocation (c->shared, 64);
          shared_record_deallocation (c->shared, 64);
        }
      c->elapsed = (now_ns () - start) / (2.0 * COUNTER_OPS);
      break;

    case MODE_WHOLE_REQUEST:
    default:
      for (guint i = 0; i < WHOLE_OPS; i++)
        {
          gpointer p = nebula_allocator_allocate (c->alloc, 64, 8, NULL);

          if (G_UNLIKELY (p == NULL))
            g_error ("allocation failed");
          nebula_allocator_deallocate (c->alloc, p, 64, 8, NULL);
        }
      c->elapsed = (now_ns () - start) / (2.0 * WHOLE_OPS);
      break;
    }

  return NULL;
}

static double
contend (Mode             mode,
         NebulaAllocator *alloc)
{
  double best = G_MAXDOUBLE;

  for (guint run = 0; run < RUNS; run++)
    {
      NebulaStatsCounters counters = { 0, };
      SharedAtomicCounters *shared = g_aligned_alloc0 (1, sizeof *shared, 128);
      Contender contenders[2];
      GThread *threads[2];
      gint ready = 0;

      nebula_stats_counters_init (&counters, TRUE, TRUE);
      for (guint t = 0; t < 2; t++)
        {
          contenders[t] = (Contender) { mode, &counters, shared, alloc, &ready, 0 };
          threads[t] = g_thread_new ("contender", contender_cb, &contenders[t]);
        }
      for (guint t = 0; t < 2; t++)
        g_thread_join (threads[t]);

      best = MIN (best, MAX (contenders[0].elapsed, contenders[1].elapsed));

      if (mode == MODE_SHARDED)
        {
          NebulaAllocatorStats stats;

          /* The benchmark doubles as a check: the sums are exact. */
          nebula_stats_counters_read (&counters, &stats);
          if (stats.allocations != 2 * COUNTER_OPS || stats.bytes_in_use != 0)
            g_error ("sharded counters lost counts");
        }
      nebula_stats_counters_clear (&counters);
      g_aligned_free (shared);
    }

  return best;
}

void
nebula_bench_stats_run (void)
{
  g_autoptr(NebulaAllocator) stats_on = new_bump (TRUE, FALSE);
  g_autoptr(NebulaAllocator) stats_off = new_bump (FALSE, FALSE);
  g_autoptr(NebulaAllocator) shared_on = NULL;
  g_autoptr(NebulaAllocator) shared_off = NULL;
  g_autoptr(GError) error = NULL;
  double on, off, sharded, atomic, context, whole_on, whole_off;

  {
    NebulaAllocator *allocs[] = { stats_off, stats_on, stats_on };
    const gboolean with_context[] = { FALSE, FALSE, TRUE };
    double best[3];

    bump_compare (allocs, with_context, best, 3);
    off = best[0];
    on = best[1];
    context = best[2];
  }
  printf ("Statistics, one thread, bump allocate (16 bytes):\n");
  printf ("  track-stats off    %7.2f ns/request\n", off);
  printf ("  track-stats on     %7.2f ns/request   (%+.1f%%, target <= +5%%)\n",
          on, 100.0 * (on - off) / off);

  sharded = contend (MODE_SHARDED, NULL);
  atomic = contend (MODE_SHARED_ATOMIC, NULL);
  printf ("Statistics, two threads, one thread-safe allocator's counters:\n");
  printf ("  shared atomics     %7.2f ns/record\n", atomic);
  printf ("  per-thread shards  %7.2f ns/record    (%.1fx faster, target >= 10x)\n",
          sharded, atomic / sharded);

  shared_on = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error,
                              "check-frees", FALSE, "thread-safe", TRUE, NULL);
  shared_off = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error,
                               "check-frees", FALSE, "thread-safe", TRUE,
                               "track-stats", FALSE, NULL);
  whole_off = contend (MODE_WHOLE_REQUEST, shared_off);
  whole_on = contend (MODE_WHOLE_REQUEST, shared_on);
  printf ("Statistics, two threads, thread-safe system allocator, whole request:\n");
  printf ("  track-stats off    %7.2f ns/request\n", whole_off);
  printf ("  track-stats on     %7.2f ns/request   (%+.1f%%)\n",
          whole_on, 100.0 * (whole_on - whole_off) / whole_off);

  printf ("Call-site context (%s), one thread, bump allocate (16 bytes):\n",
          NEBULA_HAS_ERROR_CONTEXT ? "-Derror_context=true" : "-Derror_context=false");
  printf ("  no context         %7.2f ns/request\n", on);
  printf ("  NEBULA_ALLOC_CONTEXT %5.2f ns/request   (%+.2f ns per push/pop)\n",
          context, context - on);
}
