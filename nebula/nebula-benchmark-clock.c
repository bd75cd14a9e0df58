/* nebula-benchmark-clock.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The timed rounds of NebulaBenchmark and nebula-bench, and the threads
 * that run them (nebula-benchmark-private.h says why both are needed).
 */

#define _GNU_SOURCE 1

#include "config.h"

#include <sched.h>

#include "nebula-benchmark-private.h"

void
nebula_bench_clock_init (NebulaBenchClock *clock,
                         guint             n_threads,
                         guint             rounds)
{
  g_return_if_fail (n_threads > 0 && rounds > 0);

  clock->n_threads = n_threads;
  clock->rounds = rounds;
  clock->marks = g_new0 (NebulaBenchMark, (gsize) n_threads * rounds);
}

void
nebula_bench_clock_clear (NebulaBenchClock *clock)
{
  g_clear_pointer (&clock->marks, g_free);
}

static inline NebulaBenchMark *
clock_mark (NebulaBenchClock *clock,
            guint             thread,
            guint             round)
{
  return &clock->marks[(gsize) thread * clock->rounds + round];
}

/* With one thread, its CPU time (time spent descheduled on a busy machine
 * does not count); with several, the wall clock (their throughput), and
 * their CPU time besides, to tell how many ran at once. */
static inline void
clock_read (NebulaBenchClock *clock,
            guint64          *time,
            guint64          *cpu)
{
  *cpu = nebula_bench_now_ns (TRUE);
  *time = clock->n_threads == 1 ? *cpu : nebula_bench_now_ns (FALSE);
}

void
nebula_bench_clock_start (NebulaBenchClock *clock,
                          guint             thread,
                          guint             round)
{
  NebulaBenchMark *mark = clock_mark (clock, thread, round);

  clock_read (clock, &mark->start, &mark->cpu_start);
}

void
nebula_bench_clock_stop (NebulaBenchClock *clock,
                         guint             thread,
                         guint             round)
{
  NebulaBenchMark *mark = clock_mark (clock, thread, round);

  clock_read (clock, &mark->stop, &mark->cpu_stop);
}

/* A round lasts from the first thread's start to the last thread's stop.
 * (Timing it on one thread, from its own start, read half the time
 * whenever the other thread had run its whole pass before that thread
 * left the barrier: on one core, they take turns.) */
static void
clock_round (NebulaBenchClock *clock,
             guint             round,
             double           *ns,
             double           *at_once)
{
  guint64 first = G_MAXUINT64, last = 0, cpu = 0;

  for (guint t = 0; t < clock->n_threads; t++)
    {
      NebulaBenchMark *mark = clock_mark (clock, t, round);

      first = MIN (first, mark->start);
      last = MAX (last, mark->stop);
      cpu += mark->cpu_stop - mark->cpu_start;
    }
  *ns = (double) (last - first);
  *at_once = last > first ? MIN ((double) cpu / (double) (last - first), clock->n_threads) : 1.0;
}

void
nebula_bench_clock_summarize (NebulaBenchClock *clock,
                              guint64           ops,
                              double           *min,
                              double           *median,
                              double           *at_once)
{
  g_autofree double *round_ns = g_new (double, clock->rounds);
  double best = G_MAXDOUBLE;

  g_return_if_fail (ops > 0);

  *at_once = 1.0;
  for (guint r = 0; r < clock->rounds; r++)
    {
      double ns, threads;

      clock_round (clock, r, &ns, &threads);
      round_ns[r] = ns / (double) ops;
      if (round_ns[r] < best)
        {
          best = round_ns[r];
          *at_once = threads;
        }
    }
  nebula_bench_summarize (round_ns, clock->rounds, min, median);
}

/* ------------------------------------------------------------------ */
/* The threads of a run                                                */

typedef struct
{
  GThreadFunc  func;
  gpointer     data;
  int          cpu;     /* -1: not pinned */
} Runner;

static gpointer
runner_run (gpointer data)
{
  Runner *runner = data;

#ifdef __linux__
  if (runner->cpu >= 0)
    {
      cpu_set_t set;

      CPU_ZERO (&set);
      CPU_SET (runner->cpu, &set);
      /* Refused (a container's policy): the scheduler places it. */
      (void) sched_setaffinity (0, sizeof set, &set);
    }
#endif
  return runner->func (runner->data);
}

/* The CPUs the calling thread may run on, when there are at least @n of
 * them: the first @n, in @cpus. */
static gboolean
usable_cpus (guint  n,
             int   *cpus)
{
#ifdef __linux__
  cpu_set_t set;
  guint found = 0;

  if (sched_getaffinity (0, sizeof set, &set) != 0)
    return FALSE;
  for (int cpu = 0; cpu < CPU_SETSIZE && found < n; cpu++)
    if (CPU_ISSET (cpu, &set))
      cpus[found++] = cpu;
  return found == n;
#else
  return FALSE;
#endif
}

void
nebula_bench_run_threads (guint        n_threads,
                          GThreadFunc  func,
                          gpointer     workers,
                          gsize        worker_size)
{
  g_autofree Runner *runners = NULL;
  g_autofree GThread **threads = NULL;
  g_autofree int *cpus = NULL;
  gboolean pin;

  g_return_if_fail (n_threads > 0);

  if (n_threads == 1)
    {
      func (workers);
      return;
    }

  runners = g_new0 (Runner, n_threads);
  threads = g_new0 (GThread *, n_threads);
  cpus = g_new0 (int, n_threads);
  pin = usable_cpus (n_threads, cpus);
  for (guint i = 0; i < n_threads; i++)
    {
      runners[i].func = func;
      runners[i].data = (guint8 *) workers + i * worker_size;
      runners[i].cpu = pin ? cpus[i] : -1;
      threads[i] = g_thread_new ("nebula-bench", runner_run, &runners[i]);
    }
  for (guint i = 0; i < n_threads; i++)
    g_thread_join (threads[i]);
}
