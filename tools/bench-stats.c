/* bench-stats.c: what statistics and call-site context cost.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * nebula_bench_stats_run() prints three measurements (HACKING.md, section
 * "Statistics: how the counters are built and what they cost", explains
 * them and records the figures):
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

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <nebula.h>

#include "nebula-allocator-private.h"
#include "nebula-benchmark-private.h"
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

static int
compare_ratios (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

enum { BATCH = 4096, BATCHES = 32 };

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
 * them alike, and keeps the best pass of each. Each variant has its own
 * allocator, configured alike but for track-stats: the inline fast paths
 * count through a pointer fixed at initialization, so flipping the
 * counters' enabled bit on one allocator would leave them counting. */
typedef struct
{
  NebulaAllocator *alloc;
  gboolean         with_context;
} Variant;

/* Keeps each variant's best pass, and in @cost the median over the runs
 * of variant 1's pass over variant 0's in the same run (the paired ratio
 * is steadier than the ratio of the bests on a shared machine). */
static void
bump_compare (const Variant *variants,
              double        *best,
              guint          n,
              double        *cost)
{
  double ratios[30 * RUNS];

  for (guint i = 0; i < n; i++)
    best[i] = G_MAXDOUBLE;

  for (guint run = 0; run < 30 * RUNS; run++)
    {
      double ns[8];

      g_assert (n <= G_N_ELEMENTS (ns));
      for (guint i = 0; i < n; i++)
        {
          ns[i] = bump_pass (variants[i].alloc, variants[i].with_context);
          best[i] = MIN (best[i], ns[i]);
        }
      ratios[run] = ns[1] / ns[0];
    }

  qsort (ratios, G_N_ELEMENTS (ratios), sizeof ratios[0], compare_ratios);
  *cost = ratios[G_N_ELEMENTS (ratios) / 2];
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

/* 1b. track-stats on and off over nebula-bench's workloads: each
 * allocator of the speed targets, on the workloads it is built for,
 * through its inline fast path and through nebula_allocator_allocate() /
 * _deallocate(). Two allocators configured alike but for track-stats run
 * back to back, a few rounds at a time (see workload_compare()). */

enum { WORKLOAD_OPS = 200000, WORKLOAD_ROUNDS = 3, WORKLOAD_TURNS = 31, WORKLOAD_SEED = 42 };

typedef struct
{
  const char     *label;
  const char     *type;          /* "bump", "pool" or "stack" */
  NebulaWorkload  workload;
  gboolean        inline_path;
} StatsCase;

/* What a case's allocators must hold, from its trace: computed once per
 * case, since each turn makes its allocators anew. */
typedef struct
{
  guint64 capacity;
  guint64 block_size;
  guint64 block_count;
} WorkloadSizing;

static WorkloadSizing
workload_sizing (const StatsCase *c)
{
  NebulaBenchTrace trace;
  WorkloadSizing sizing;

  nebula_bench_trace_init (&trace, (NebulaBenchWorkload) c->workload, WORKLOAD_SEED, WORKLOAD_OPS, 0);
  sizing.capacity = (guint64) trace.max_batch_bytes * 2;
  sizing.block_size = NEBULA_ALIGN_UP (trace.max_size, 16);
  sizing.block_count = trace.max_live;
  nebula_bench_trace_clear (&trace);
  return sizing;
}

static NebulaAllocator *
new_workload_allocator (const StatsCase      *c,
                        const WorkloadSizing *sizing,
                        gboolean              track_stats)
{
  g_autoptr(GError) error = NULL;
  NebulaAllocator *alloc = NULL;

  if (g_str_equal (c->type, "pool"))
    alloc = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                            "block-size", sizing->block_size,
                            "block-count", sizing->block_count,
                            "track-stats", track_stats, NULL);
  else if (g_str_equal (c->type, "stack"))
    alloc = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                            "capacity", sizing->capacity, "track-stats", track_stats, NULL);
  else
    alloc = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                            "capacity", sizing->capacity, "track-stats", track_stats, NULL);

  if (alloc == NULL)
    g_error ("%s", error->message);
  return alloc;
}

static double
workload_ns (NebulaBenchmark *benchmark,
             NebulaAllocator *alloc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBenchmarkResult) result = nebula_benchmark_run (benchmark, alloc, &error);

  if (result == NULL)
    g_error ("%s", error->message);
  return result->ns_per_op_min;
}

/* One variant of a turn: a fresh allocator, placed behind a heap block
 * of random size. */
typedef struct
{
  NebulaAllocator *alloc;
  gpointer         pad;
  double           ns;
} TurnAllocator;

/* Prints one line per case and returns the geometric mean of the cases'
 * costs. A case's cost is the median over the turns of on / off within
 * the turn: the variants of a turn run back to back, so a neighbour that
 * slows the machine for a while slows them all, and the median drops the
 * turns it hit unevenly.
 *
 * Each turn makes its allocators anew, each behind a heap block of random
 * size, and runs them in a rotating order: where an allocator's fields
 * and chunks fall relative to each other (cache sets, 4 KiB aliasing)
 * moves a pair of otherwise equal allocators apart by a few percent, and
 * one fixed placement would put that bias into every turn. The control
 * column is a second allocator without statistics against the first (an
 * A/A comparison): what the method reads when there is nothing to find. */
static double
workload_compare (const StatsCase *cases,
                  guint            n_cases,
                  GRand           *rand)
{
  double log_sum = 0;

  for (guint i = 0; i < n_cases; i++)
    {
      g_autoptr(NebulaBenchmark) benchmark = nebula_benchmark_new (cases[i].workload);
      WorkloadSizing sizing = workload_sizing (&cases[i]);
      double best_on = G_MAXDOUBLE, best_off = G_MAXDOUBLE;
      double ratios[WORKLOAD_TURNS], controls[WORKLOAD_TURNS], cost, control;

      g_object_set (benchmark,
                    "iterations", (guint64) WORKLOAD_OPS,
                    "rounds", (guint) WORKLOAD_ROUNDS,
                    "seed", (guint64) WORKLOAD_SEED,
                    "inline-fast-path", cases[i].inline_path,
                    NULL);
      for (guint turn = 0; turn < WORKLOAD_TURNS; turn++)
        {
          /* on, off, control (off again) */
          TurnAllocator v[3];

          for (guint k = 0; k < 3; k++)
            {
              v[k].pad = g_malloc (g_rand_int_range (rand, 1, 4097));
              v[k].alloc = new_workload_allocator (&cases[i], &sizing, k == 0);
            }
          for (guint k = 0; k < 3; k++)
            {
              TurnAllocator *run = &v[(turn + k) % 3];

              run->ns = workload_ns (benchmark, run->alloc);
            }
          ratios[turn] = v[0].ns / v[1].ns;
          controls[turn] = v[2].ns / v[1].ns;
          best_on = MIN (best_on, v[0].ns);
          best_off = MIN (best_off, MIN (v[1].ns, v[2].ns));
          for (guint k = 0; k < 3; k++)
            {
              g_object_unref (v[k].alloc);
              g_free (v[k].pad);
            }
        }
      qsort (ratios, WORKLOAD_TURNS, sizeof ratios[0], compare_ratios);
      qsort (controls, WORKLOAD_TURNS, sizeof controls[0], compare_ratios);
      cost = ratios[WORKLOAD_TURNS / 2];
      control = controls[WORKLOAD_TURNS / 2];

      printf ("  %-16s %-17s %7.2f %7.2f  %+6.1f%%  %+6.1f%%\n",
              cases[i].label,
              nebula_bench_workload_name ((NebulaBenchWorkload) cases[i].workload),
              best_off, best_on, 100.0 * (cost - 1.0), 100.0 * (control - 1.0));
      log_sum += log (cost);
    }

  return exp (log_sum / n_cases);
}

static void
workload_report (void)
{
  static const NebulaWorkload all[] = {
    NEBULA_WORKLOAD_SMALL_MIXED, NEBULA_WORKLOAD_FIXED_64, NEBULA_WORKLOAD_LIFO_FRAMES,
    NEBULA_WORKLOAD_REQUEST_RESPONSE, NEBULA_WORKLOAD_MIXED_LIFETIMES,
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (WORKLOAD_SEED);
  StatsCase interface_cases[G_N_ELEMENTS (all) + 2], inline_cases[G_N_ELEMENTS (all) + 2];
  guint n = 0;
  double interface_mean, inline_mean;

  for (guint i = 0; i < G_N_ELEMENTS (all); i++, n++)
    {
      interface_cases[n] = (StatsCase) { "bump", "bump", all[i], FALSE };
      inline_cases[n] = (StatsCase) { "bump-inline", "bump", all[i], TRUE };
    }
  interface_cases[n] = (StatsCase) { "pool", "pool", NEBULA_WORKLOAD_FIXED_64, FALSE };
  inline_cases[n++] = (StatsCase) { "pool-inline", "pool", NEBULA_WORKLOAD_FIXED_64, TRUE };
  interface_cases[n] = (StatsCase) { "stack", "stack", NEBULA_WORKLOAD_LIFO_FRAMES, FALSE };
  inline_cases[n++] = (StatsCase) { "stack-inline", "stack", NEBULA_WORKLOAD_LIFO_FRAMES, TRUE };

  printf ("Statistics, one thread, nebula-bench workloads: ns per operation (best round)\n"
          "and cost, the median over %u turns of on / off run back to back (%u rounds of\n"
          "%u operations each):\n",
          WORKLOAD_TURNS, WORKLOAD_ROUNDS, WORKLOAD_OPS);
  printf ("  %-16s %-17s %7s %7s  %7s  %7s\n", "allocator", "workload", "off", "on", "cost", "control");
  interface_mean = workload_compare (interface_cases, n, rand);
  inline_mean = workload_compare (inline_cases, n, rand);
  printf ("  geometric mean, nebula_allocator_allocate()/_deallocate(): %+.1f%% (target <= +5%%)\n",
          100.0 * (interface_mean - 1.0));
  printf ("  geometric mean, inline fast paths:                         %+.1f%%\n",
          100.0 * (inline_mean - 1.0));
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

enum { COUNTER_OPS = 100000, WHOLE_OPS = 50000, MAX_PASSES = 400, WANTED_PASSES = 25 };

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
  double                cpu;          /* ns of CPU time per record */
  double                wall_start;
  double                wall_end;
  double                cpu_total;
} Contender;

static double
wall_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static gpointer
contender_cb (gpointer data)
{
  Contender *c = data;
  double start;
  guint n;

  /* Start together, so the two threads really overlap. */
  g_atomic_int_inc (c->ready);
  while (g_atomic_int_get (c->ready) < 2)
    ;

  c->wall_start = wall_ns ();
  start = now_ns ();
  switch (c->mode)
    {
    case MODE_SHARDED:
      for (guint i = 0; i < COUNTER_OPS; i++)
        {
          nebula_stats_counters_record_allocation (c->counters, 64);
          nebula_stats_counters_record_deallocation (c->counters, 64);
        }
      n = 2 * COUNTER_OPS;
      break;

    case MODE_SHARED_ATOMIC:
      for (guint i = 0; i < COUNTER_OPS; i++)
        {
          shared_record_allocation (c->shared, 64);
          shared_record_deallocation (c->shared, 64);
        }
      n = 2 * COUNTER_OPS;
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
      n = 2 * WHOLE_OPS;
      break;
    }
  c->cpu_total = now_ns () - start;
  c->wall_end = wall_ns ();
  c->cpu = c->cpu_total / n;

  return NULL;
}

/* Whether both threads ran side by side for (nearly) the whole pass: on a
 * shared machine one of them is often descheduled, and then there is no
 * contention to measure. */
static gboolean
really_concurrent (const Contender *c)
{
  double overlap = MIN (c[0].wall_end, c[1].wall_end) - MAX (c[0].wall_start, c[1].wall_start);

  for (guint t = 0; t < 2; t++)
    {
      double wall = c[t].wall_end - c[t].wall_start;

      if (overlap < 0.9 * wall || c[t].cpu_total < 0.9 * wall)
        return FALSE;
    }

  return TRUE;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* The median over passes where the two threads truly overlapped (or over
 * all passes, said so, when the machine never allowed it). */
static double
contend (Mode             mode,
         NebulaAllocator *alloc,
         guint           *n_concurrent)
{
  g_autoptr(GArray) concurrent = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *chosen;

  for (guint pass = 0; pass < MAX_PASSES && concurrent->len < WANTED_PASSES; pass++)
    {
      NebulaStatsCounters counters = { 0, };
      SharedAtomicCounters *shared = g_aligned_alloc0 (1, sizeof *shared, 128);
      Contender contenders[2];
      GThread *threads[2];
      gint ready = 0;
      double cost;

      nebula_stats_counters_init (&counters, TRUE, TRUE);
      for (guint t = 0; t < 2; t++)
        {
          contenders[t] = (Contender) { mode, &counters, shared, alloc, &ready, };
          threads[t] = g_thread_new ("contender", contender_cb, &contenders[t]);
        }
      for (guint t = 0; t < 2; t++)
        g_thread_join (threads[t]);

      cost = MAX (contenders[0].cpu, contenders[1].cpu);
      g_array_append_val (all, cost);
      if (really_concurrent (contenders))
        g_array_append_val (concurrent, cost);

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

  *n_concurrent = concurrent->len;
  chosen = concurrent->len > 0 ? concurrent : all;
  g_array_sort (chosen, compare_doubles);
  return g_array_index (chosen, double, chosen->len / 2);
}

void
nebula_bench_stats_run (void)
{
  g_autoptr(NebulaAllocator) stats_on = new_bump (TRUE, FALSE);
  g_autoptr(NebulaAllocator) stats_off = new_bump (FALSE, FALSE);
  g_autoptr(NebulaAllocator) shared_on = NULL;
  g_autoptr(NebulaAllocator) shared_off = NULL;
  g_autoptr(GError) error = NULL;
  double on, off, cost, sharded, atomic, context, whole_on, whole_off;
  guint n_sharded, n_atomic, n_whole_off, n_whole_on;

  {
    const Variant variants[] = { { stats_off, FALSE }, { stats_on, FALSE }, { stats_on, TRUE } };
    double best[3];

    bump_compare (variants, best, 3, &cost);
    off = best[0];
    on = best[1];
    context = best[2];
  }
  printf ("Statistics, one thread, bump allocate (16 bytes):\n");
  printf ("  track-stats off    %7.2f ns/request\n", off);
  printf ("  track-stats on     %7.2f ns/request   (%+.1f%%: the median of on / off per pass)\n",
          on, 100.0 * (cost - 1.0));
  workload_report ();

  sharded = contend (MODE_SHARDED, NULL, &n_sharded);
  atomic = contend (MODE_SHARED_ATOMIC, NULL, &n_atomic);
  printf ("Statistics, two threads, one thread-safe allocator's counters\n"
          "(median of passes where both threads ran side by side):\n");
  printf ("  shared atomics     %7.2f ns/record    (%u concurrent passes)\n", atomic, n_atomic);
  printf ("  per-thread shards  %7.2f ns/record    (%u concurrent passes; %.1fx faster, "
          "target >= 10x)\n",
          sharded, n_sharded, atomic / sharded);

  shared_on = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error,
                              "check-frees", FALSE, "thread-safe", TRUE, NULL);
  shared_off = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error,
                               "check-frees", FALSE, "thread-safe", TRUE,
                               "track-stats", FALSE, NULL);
  /* Both orders, so that neither variant inherits a warmer heap. */
  whole_on = contend (MODE_WHOLE_REQUEST, shared_on, &n_whole_on);
  whole_off = contend (MODE_WHOLE_REQUEST, shared_off, &n_whole_off);
  whole_on = MIN (whole_on, contend (MODE_WHOLE_REQUEST, shared_on, &n_whole_on));
  printf ("Statistics, two threads, thread-safe system allocator, whole request:\n");
  printf ("  track-stats off    %7.2f ns/request\n", whole_off);
  printf ("  track-stats on     %7.2f ns/request   (%+.1f%%; %u and %u concurrent passes)\n",
          whole_on, 100.0 * (whole_on - whole_off) / whole_off, n_whole_off, n_whole_on);

  printf ("Call-site context (%s), one thread, bump allocate (16 bytes):\n",
          NEBULA_HAS_ERROR_CONTEXT ? "-Derror_context=true" : "-Derror_context=false");
  printf ("  no context         %7.2f ns/request\n", on);
  printf ("  NEBULA_ALLOC_CONTEXT %5.2f ns/request   (%+.2f ns per push/pop)\n",
          context, context - on);
}
