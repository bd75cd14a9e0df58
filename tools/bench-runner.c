/* bench-runner.c: the timed rounds of one target on one workload
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every allocator runs the same seeded sequences of requests (see
 * NebulaWorkload) through the same replay loop. Nebula's allocators run
 * inside NebulaBenchmark, the code Python and gjs call; the floors and the
 * peers run here, on worker threads started together at a barrier.
 */

#include "config.h"

#include <gio/gio.h>
#include <gmodule.h>
#include <nebula.h>

#include "bench-memory.h"
#include "bench-runner.h"

static guint64
thread_seed (guint64 seed,
             guint   index)
{
  /* The same per-thread seeds as NebulaBenchmark. */
  return seed + index * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
}

/* ------------------------------------------------------------------ */
/* Running floors and peers                                            */

/* Before a timed round, the target's round_reset while no thread runs a
 * pass: after the previous round's closing barrier, or (before the first)
 * once every thread is done warming up. */
static gboolean
round_reset (Worker   *worker,
             gboolean  first)
{
  if (worker->target->round_reset == NULL)
    return TRUE;
  if (first && worker->barrier != NULL && !nebula_bench_barrier_wait (worker->barrier))
    return FALSE;
  worker->target->round_reset (worker);
  return TRUE;
}

static gpointer
worker_run (gpointer data)
{
  Worker *worker = data;

  if (!worker->target->setup (worker, &worker->why))
    goto failed;

  /* Warm-up, then the timed rounds, all threads starting together. */
  if (!worker->target->pass (worker))
    goto failed_torn;

  for (guint round = 0; round < worker->rounds; round++)
    {
      if (!round_reset (worker, round == 0))
        goto failed_torn;
      if (worker->barrier != NULL && !nebula_bench_barrier_wait (worker->barrier))
        goto failed_torn;
      nebula_bench_clock_start (worker->clock, worker->index, round);
      if (!worker->target->pass (worker))
        goto failed_torn;
      nebula_bench_clock_stop (worker->clock, worker->index, round);
      if (worker->barrier != NULL && !nebula_bench_barrier_wait (worker->barrier))
        goto failed_torn;
    }

  worker->target->teardown (worker);
  return NULL;

failed_torn:
  worker->target->teardown (worker);
failed:
  worker->failed = TRUE;
  if (worker->barrier != NULL)
    nebula_bench_barrier_abort (worker->barrier);
  if (worker->handoff != NULL)
    nebula_bench_handoff_abort (worker->handoff);
  return NULL;
}

static void
run_direct (Target              *target,
            NebulaBenchWorkload  workload,
            guint64              iterations,
            guint                rounds,
            guint                n_threads,
            guint64              seed,
            Cell                *cell)
{
  g_autofree Worker *workers = g_new0 (Worker, n_threads);
  NebulaBenchHandoff *handoffs = NULL;
  gboolean pairs = workload == NEBULA_BENCH_PRODUCER_CONSUMER;
  NebulaBenchBarrier barrier;
  NebulaBenchClock clock;
  gboolean failed = FALSE;
  guint64 ops = 0;

  if (pairs && !target->cross_thread_frees)
    {
      cell->error = g_strdup ("does not apply: every block is freed on another thread, which "
                              "this target's blocks (or its per-thread arenas) cannot take");
      return;
    }

  nebula_bench_barrier_init (&barrier, n_threads);
  nebula_bench_clock_init (&clock, n_threads, rounds);
  if (pairs)
    {
      handoffs = g_aligned_alloc (n_threads / 2, sizeof (NebulaBenchHandoff),
                                  G_ALIGNOF (NebulaBenchHandoff));
      for (guint i = 0; i < n_threads / 2; i++)
        nebula_bench_handoff_init (&handoffs[i]);
    }

  for (guint i = 0; i < n_threads; i++)
    {
      Worker *worker = &workers[i];

      nebula_bench_trace_init (&worker->trace, workload, thread_seed (seed, i),
                               iterations, i == 0 ? 0 : workers[0].trace.n_batches);
      worker->passes = nebula_bench_passes (&workers[0].trace, iterations);
      worker->index = i;
      worker->rounds = rounds;
      worker->barrier = n_threads > 1 ? &barrier : NULL;
      worker->clock = &clock;
      worker->target = target;
      if (pairs)
        {
          /* Even threads produce, odd ones consume (as NebulaBenchmark). */
          worker->handoff = &handoffs[i / 2];
          worker->consumer = i % 2 == 1;
          worker->batches = nebula_bench_handoff_batches (iterations);
          ops += worker->batches * NEBULA_BENCH_HANDOFF_BATCH;
        }
      else
        ops += worker->passes * worker->trace.ops;
    }

  nebula_bench_run_threads (n_threads, worker_run, workers, sizeof (Worker));

  for (guint i = 0; i < n_threads; i++)
    {
      failed |= workers[i].failed;
      if (workers[i].why != NULL && cell->error == NULL)
        cell->error = g_steal_pointer (&workers[i].why);
      g_free (workers[i].why);
      nebula_bench_trace_clear (&workers[i].trace);
    }
  g_aligned_free (handoffs);

  if (failed)
    {
      if (cell->error == NULL)
        cell->error = g_strdup ("an allocation failed");
      nebula_bench_clock_clear (&clock);
      return;
    }

  nebula_bench_clock_summarize (&clock, ops, &cell->ns_min, &cell->ns_median, &cell->at_once);
  nebula_bench_clock_clear (&clock);
  cell->ops = ops;
  cell->ran = TRUE;
}

/* ------------------------------------------------------------------ */
/* Running Nebula's allocators, through NebulaBenchmark                 */

static GModule *self_module;

GType
nebula_bench_nebula_type (const char *short_name)
{
  g_autofree char *symbol = g_strdup_printf ("nebula_%s_allocator_get_type", short_name);
  GType (*get_type) (void) = NULL;

  if (self_module == NULL)
    self_module = g_module_open (NULL, 0);
  if (self_module == NULL || !g_module_symbol (self_module, symbol, (gpointer *) &get_type))
    return G_TYPE_INVALID;

  return get_type ();
}

static guint64
next_power_of_two (guint64 value)
{
  guint64 result = 1;

  while (result < value)
    result <<= 1;
  return result;
}

/* Sets @name on a new object of @klass when the class has it writable and
 * its default is below @minimum (or always, with @force). */
static void
add_property (GObjectClass  *klass,
              GPtrArray     *names,
              GArray        *values,
              const char    *name,
              guint64        minimum,
              gboolean       force)
{
  GParamSpec *pspec = g_object_class_find_property (klass, name);
  GValue wanted = G_VALUE_INIT;
  GValue value = G_VALUE_INIT;
  GValue current = G_VALUE_INIT;
  guint64 default_value = 0;

  if (pspec == NULL || (pspec->flags & G_PARAM_WRITABLE) == 0)
    return;

  g_value_init (&current, G_TYPE_UINT64);
  if (G_IS_PARAM_SPEC_BOOLEAN (pspec))
    default_value = G_PARAM_SPEC_BOOLEAN (pspec)->default_value;
  else if (g_value_type_transformable (pspec->value_type, G_TYPE_UINT64))
    {
      GValue def = G_VALUE_INIT;

      g_value_init (&def, pspec->value_type);
      g_param_value_set_default (pspec, &def);
      g_value_transform (&def, &current);
      default_value = g_value_get_uint64 (&current);
      g_value_unset (&def);
    }
  g_value_unset (&current);

  if (!force && default_value >= minimum)
    return;

  g_value_init (&wanted, G_TYPE_UINT64);
  g_value_set_uint64 (&wanted, minimum);
  g_value_init (&value, pspec->value_type);
  if (G_IS_PARAM_SPEC_BOOLEAN (pspec))
    g_value_set_boolean (&value, minimum != 0);
  else if (!g_value_transform (&wanted, &value))
    {
      g_value_unset (&value);
      return;
    }

  g_ptr_array_add (names, (gpointer) pspec->name);
  g_array_append_val (values, value);
}

/* The allocator's defaults, except what the workload needs to run at all:
 * room for a batch, blocks as large as the largest request, thread
 * safety for several threads, and the options of @target's row
 * (statistics, check-frees, preset, thread safety). Discovered by
 * property name, so that any allocator type of the library plugs in. */
static NebulaAllocator *
new_nebula_allocator (GType                    type,
                      const Target            *target,
                      const NebulaBenchTrace  *trace,
                      guint64                  iterations,
                      guint                    n_threads,
                      GError                 **error)
{
  /* One thread resets at every batch end; several reset once per round
   * (see NebulaBenchmark), so a bump allocator must hold a whole round. */
  guint64 capacity = n_threads == 1
    ? (guint64) trace->max_batch_bytes * 2
    : (guint64) trace->max_batch_bytes * trace->n_batches * nebula_bench_passes (trace, iterations) * n_threads;
  GObjectClass *klass = g_type_class_ref (type);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GArray) values = g_array_new (FALSE, TRUE, sizeof (GValue));
  gpointer object;

  g_array_set_clear_func (values, (GDestroyNotify) g_value_unset);

  if (n_threads > 1 || target->nebula_thread_safe)
    add_property (klass, names, values, "thread-safe", TRUE, TRUE);
  else if (target->nebula_single_thread)
    add_property (klass, names, values, "thread-safe", FALSE, TRUE);
  if (target->nebula_no_stats)
    add_property (klass, names, values, "track-stats", FALSE, TRUE);
  if (target->nebula_unchecked)
    add_property (klass, names, values, "check-frees", FALSE, TRUE);
  if (target->nebula_performance)
    {
      GValue preset = G_VALUE_INIT;

      g_value_init (&preset, NEBULA_TYPE_PRESET);
      g_value_set_enum (&preset, NEBULA_PRESET_PERFORMANCE);
      g_ptr_array_add (names, (gpointer) "preset");
      g_array_append_val (values, preset);
    }
  add_property (klass, names, values, "capacity", next_power_of_two (capacity), FALSE);
  add_property (klass, names, values, "block-size", NEBULA_ALIGN_UP (trace->max_size, 16), FALSE);
  add_property (klass, names, values, "block-count", (guint64) trace->max_live * n_threads, FALSE);

  object = g_object_new_with_properties (type, names->len, (const char **) names->pdata,
                                         (const GValue *) (gpointer) values->data);
  g_type_class_unref (klass);
  if (G_IS_INITABLE (object) && !g_initable_init (object, NULL, error))
    g_clear_object (&object);
  return object;
}

static void
run_nebula (Target              *target,
            NebulaBenchWorkload  workload,
            guint64              iterations,
            guint                rounds,
            guint                n_threads,
            guint64              seed,
            Cell                *cell)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocator) allocator = NULL;
  g_autoptr(NebulaBenchmark) benchmark = NULL;
  g_autoptr(NebulaBenchmarkResult) result = NULL;
  NebulaBenchTrace trace;
  GType type = nebula_bench_nebula_type (target->nebula_type);

  g_assert (type != G_TYPE_INVALID);

  /* Several threads share one allocator, which must be thread-safe, and a
   * stack refuses to be: each thread would need its own. */
  if (n_threads > 1 && type == NEBULA_TYPE_STACK_ALLOCATOR)
    {
      cell->error = g_strdup ("does not apply: the threads would share one stack, and a stack "
                              "belongs to one thread");
      return;
    }
  if (n_threads > 1 && target->nebula_single_thread)
    {
      cell->error = g_strdup ("does not apply: this row is the single-threaded configuration");
      return;
    }
  if (workload == NEBULA_BENCH_PRODUCER_CONSUMER && type == NEBULA_TYPE_BUMP_ALLOCATOR)
    {
      cell->error = g_strdup ("does not apply: every block is freed on its own, and a bump "
                              "allocator frees nothing before a reset");
      return;
    }

  nebula_bench_trace_init (&trace, workload, seed, iterations, 0);
  allocator = new_nebula_allocator (type, target, &trace, iterations, n_threads, &error);
  nebula_bench_trace_clear (&trace);
  if (allocator == NULL)
    {
      cell->error = g_strdup (error->message);
      return;
    }

  benchmark = nebula_benchmark_new ((NebulaWorkload) workload);
  g_object_set (benchmark,
                "iterations", iterations,
                "rounds", rounds,
                "threads", n_threads,
                "seed", seed,
                "inline-fast-path", target->nebula_inline,
                NULL);

  result = nebula_benchmark_run (benchmark, allocator, &error);
  if (result == NULL)
    {
      /* The message names block addresses, which mean nothing to a reader
       * of the report; what matters is that the workload cannot run here. */
      if (g_error_matches (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER))
        cell->error = g_strdup ("does not apply: the workload frees blocks out of LIFO order, "
                                "which a stack allocator refuses");
      else
        cell->error = g_strdup (error->message);
      return;
    }

  nebula_bench_memory_record (target->name, allocator);
  cell->ran = TRUE;
  cell->ns_min = result->ns_per_op_min;
  cell->ns_median = result->ns_per_op_median;
  cell->at_once = result->threads_at_once;
  cell->ops = result->ops;
  cell->peak_bytes = result->peak_bytes;
}

void
nebula_bench_run_target (Target              *target,
                         NebulaBenchWorkload  workload,
                         guint64              iterations,
                         guint                rounds,
                         guint                n_threads,
                         guint64              seed,
                         Cell                *cell)
{
  if (workload == NEBULA_BENCH_PRODUCER_CONSUMER && n_threads % 2 != 0)
    cell->error = g_strdup ("does not apply: the threads run in pairs (a producer and its "
                            "consumer): give --threads an even number");
  else if (target->kind == KIND_NEBULA)
    run_nebula (target, workload, iterations, rounds, n_threads, seed, cell);
  else
    run_direct (target, workload, iterations, rounds, n_threads, seed, cell);
}
