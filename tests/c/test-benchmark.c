/* test-benchmark.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE 1

#include "config.h"

#include <math.h>
#include <sched.h>
#include <string.h>

#include <nebula.h>

#include "nebula-benchmark-private.h"

static NebulaBenchmark *
small_benchmark (NebulaWorkload workload)
{
  NebulaBenchmark *bench = nebula_benchmark_new (workload);

  nebula_benchmark_set_iterations (bench, 3000);
  nebula_benchmark_set_rounds (bench, 3);
  return bench;
}

static void
check_result (const NebulaBenchmarkResult *result,
              NebulaWorkload               workload)
{
  g_assert_nonnull (result);
  g_assert_cmpint (result->workload, ==, workload);
  g_assert_cmpuint (result->rounds, ==, 3);
  g_assert_cmpuint (result->threads, ==, 1);
  g_assert_cmpuint (result->ops, >=, 3000);
  g_assert_cmpfloat (result->ns_per_op_min, >, 0);
  g_assert_cmpfloat (result->ns_per_op_median, >=, result->ns_per_op_min);
  g_assert_cmpfloat (result->threads_at_once, ==, 1.0);
}

static void
test_benchmark_workloads (void)
{
  GEnumClass *klass = g_type_class_ref (NEBULA_TYPE_WORKLOAD);

  for (guint i = 0; i < klass->n_values; i++)
    {
      NebulaWorkload workload = klass->values[i].value;
      g_autoptr(NebulaBenchmark) bench = small_benchmark (workload);
      g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (64 * 1024, NULL);
      g_autoptr(NebulaSystemAllocator) system = nebula_system_allocator_new (NULL);
      g_autoptr(NebulaBenchmarkResult) on_bump = NULL;
      g_autoptr(NebulaBenchmarkResult) on_system = NULL;
      g_autoptr(NebulaBenchmarkResult) inlined = NULL;
      g_autoptr(NebulaBenchmarkResult) copy = NULL;
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      g_autoptr(GError) error = NULL;

      /* Threads in pairs: test_benchmark_producer_consumer(). */
      if (workload == NEBULA_WORKLOAD_PRODUCER_CONSUMER)
        continue;

      on_bump = nebula_benchmark_run (bench, NEBULA_ALLOCATOR (bump), &error);
      g_assert_no_error (error);
      check_result (on_bump, workload);
      /* A batch fits the default capacity, and the peak says how much. */
      g_assert_cmpuint (on_bump->peak_bytes, >, 0);
      g_assert_cmpuint (on_bump->peak_bytes, <=, 64 * 1024);

      on_system = nebula_benchmark_run (bench, NEBULA_ALLOCATOR (system), &error);
      g_assert_no_error (error);
      check_result (on_system, workload);
      /* The same seed gives the same operations, whatever the allocator. */
      g_assert_cmpuint (on_system->ops, ==, on_bump->ops);

      nebula_benchmark_set_inline_fast_path (bench, TRUE);
      inlined = nebula_benchmark_run (bench, NEBULA_ALLOCATOR (bump), &error);
      g_assert_no_error (error);
      check_result (inlined, workload);
      g_assert_cmpuint (inlined->peak_bytes, ==, on_bump->peak_bytes);

      /* Everything was released, and the allocator is left reset. */
      g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (system)), ==, 0);
      stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (bump));
      g_assert_cmpuint (stats->bytes_in_use, ==, 0);
      g_assert_cmpuint (stats->allocations, >, 0);
      g_assert_cmpuint (stats->failed_allocations, ==, 0);

      copy = nebula_benchmark_result_copy (inlined);
      g_assert_cmpmem (copy, sizeof *copy, inlined, sizeof *inlined);
    }

  g_type_class_unref (klass);
}

static void
test_benchmark_same_seed_same_trace (void)
{
  NebulaBenchTrace a, b, c;

  nebula_bench_trace_init (&a, NEBULA_BENCH_MIXED_LIFETIMES, 7, 5000, 0);
  nebula_bench_trace_init (&b, NEBULA_BENCH_MIXED_LIFETIMES, 7, 5000, 0);
  nebula_bench_trace_init (&c, NEBULA_BENCH_MIXED_LIFETIMES, 8, 5000, a.n_batches);

  g_assert_cmpuint (a.n_arena, ==, b.n_arena);
  g_assert_cmpmem (a.arena, a.n_arena * sizeof (NebulaBenchOp), b.arena, b.n_arena * sizeof (NebulaBenchOp));
  g_assert_cmpuint (c.n_batches, ==, a.n_batches);
  g_assert_true (a.n_arena != c.n_arena ||
                 memcmp (a.arena, c.arena, a.n_arena * sizeof (NebulaBenchOp)) != 0);

  /* Both renderings count the same operations and end every batch with a
   * reset; the individual one frees every block it allocated. */
  for (guint t = 0; t < 2; t++)
    {
      NebulaBenchTrace *trace = t == 0 ? &a : &c;
      guint64 allocs = 0, frees = 0, resets = 0;

      for (gsize i = 0; i < trace->n_individual; i++)
        {
          allocs += trace->individual[i].kind == NEBULA_BENCH_OP_ALLOC;
          frees += trace->individual[i].kind == NEBULA_BENCH_OP_FREE;
          resets += trace->individual[i].kind == NEBULA_BENCH_OP_RESET;
        }
      g_assert_cmpuint (allocs, ==, frees);
      g_assert_cmpuint (resets, ==, trace->n_batches);
      g_assert_cmpuint (trace->max_size, <=, 256);
    }

  nebula_bench_trace_clear (&a);
  nebula_bench_trace_clear (&b);
  nebula_bench_trace_clear (&c);
}

static void
test_benchmark_threads (void)
{
  g_autoptr(NebulaBenchmark) bench = small_benchmark (NEBULA_WORKLOAD_SMALL_MIXED);
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, NULL);
  g_autoptr(NebulaBumpAllocator) shared = NULL;
  g_autoptr(NebulaSystemAllocator) system = nebula_system_allocator_new (NULL);
  g_autoptr(NebulaBenchmarkResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_object_set (bench, "threads", 3, NULL);

  /* Not thread-safe: refused, with the numbers. */
  g_assert_null (nebula_benchmark_run (bench, NEBULA_ALLOCATOR (bump), &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "3 threads"));
  g_assert_nonnull (strstr (error->message, "Bump allocator"));
  g_clear_error (&error);

  result = nebula_benchmark_run (bench, NEBULA_ALLOCATOR (system), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (result->threads, ==, 3);
  g_assert_cmpuint (result->ops, >=, 3 * 3000);
  g_assert_cmpfloat (result->threads_at_once, >, 0);
  g_assert_cmpfloat (result->threads_at_once, <=, 3);
  g_clear_pointer (&result, nebula_benchmark_result_free);

  shared = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                           "thread-safe", TRUE, "capacity", (guint64) 4 * 1024 * 1024, NULL);
  g_assert_no_error (error);
  nebula_benchmark_set_inline_fast_path (bench, TRUE);
  result = nebula_benchmark_run (bench, NEBULA_ALLOCATOR (shared), &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (result->ns_per_op_min, >, 0);
}

static void
set_mark (NebulaBenchClock *clock,
          guint             thread,
          guint             round,
          guint64           start,
          guint64           stop)
{
  NebulaBenchMark *mark = &clock->marks[thread * clock->rounds + round];

  mark->start = mark->cpu_start = start;
  mark->stop = mark->cpu_stop = stop;
}

/* A round of several threads lasts from the first start to the last
 * stop, whichever thread keeps it; the threads' CPU time over it says how
 * many ran at once. */
static void
test_benchmark_clock (void)
{
  NebulaBenchClock clock;
  double min, median, at_once;

  nebula_bench_clock_init (&clock, 2, 3);
  /* Round 0: the two threads took turns on one core, thread 1 first
   * (timed from thread 0's start alone, this read half). */
  set_mark (&clock, 1, 0, 1000, 2000);
  set_mark (&clock, 0, 0, 2000, 3000);
  /* Round 1: both at once. */
  set_mark (&clock, 0, 1, 5000, 6000);
  set_mark (&clock, 1, 1, 5100, 6100);
  /* Round 2: thread 0 first, then thread 1. */
  set_mark (&clock, 0, 2, 7000, 8000);
  set_mark (&clock, 1, 2, 8000, 9000);

  nebula_bench_clock_summarize (&clock, 100, &min, &median, &at_once);
  g_assert_cmpfloat_with_epsilon (min, 11.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (median, 20.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (at_once, 2000.0 / 1100.0, 1e-9);

  /* A round that took turns: one thread's worth at once. */
  set_mark (&clock, 1, 1, 6000, 7000);
  nebula_bench_clock_summarize (&clock, 100, &min, &median, &at_once);
  g_assert_cmpfloat_with_epsilon (min, 20.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (at_once, 1.0, 1e-9);
  nebula_bench_clock_clear (&clock);
}

typedef struct
{
  GThread *thread;
  int      cpu;
  guint    calls;
} ThreadProbe;

static gpointer
probe_thread (gpointer data)
{
  ThreadProbe *probe = data;

  probe->thread = g_thread_self ();
#ifdef __linux__
  probe->cpu = sched_getcpu ();
#endif
  probe->calls++;
  return NULL;
}

/* One worker runs on the calling thread; several each on a new thread,
 * on CPUs of their own when the process may use as many. */
static void
test_benchmark_run_threads (void)
{
  ThreadProbe probes[2] = { { 0 } };

  nebula_bench_run_threads (1, probe_thread, probes, sizeof (ThreadProbe));
  g_assert_true (probes[0].thread == g_thread_self ());
  g_assert_cmpuint (probes[0].calls, ==, 1);

  memset (probes, 0, sizeof probes);
  nebula_bench_run_threads (2, probe_thread, probes, sizeof (ThreadProbe));
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpuint (probes[i].calls, ==, 1);
      g_assert_true (probes[i].thread != g_thread_self ());
    }
  g_assert_true (probes[0].thread != probes[1].thread);
#ifdef __linux__
  {
    cpu_set_t set;

    if (sched_getaffinity (0, sizeof set, &set) == 0 && CPU_COUNT (&set) >= 2)
      g_assert_cmpint (probes[0].cpu, !=, probes[1].cpu);
    else
      g_test_message ("one usable CPU: the threads are not pinned");
  }
#endif
}

/* An allocator too small for a batch: the allocator's own error, and the
 * benchmark and allocator stay usable. */
static void
test_benchmark_allocator_error (void)
{
  g_autoptr(NebulaBenchmark) bench = small_benchmark (NEBULA_WORKLOAD_SMALL_MIXED);
  g_autoptr(NebulaBumpAllocator) tiny = nebula_bump_allocator_new (1024, NULL);
  g_autoptr(NebulaBumpAllocator) big = nebula_bump_allocator_new (64 * 1024, NULL);
  g_autoptr(NebulaBenchmarkResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_null (nebula_benchmark_run (bench, NEBULA_ALLOCATOR (tiny), &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_nonnull (strstr (error->message, "of 1024 available"));
  g_clear_error (&error);

  /* Failing in several threads at once reports one error. */
  g_object_set (bench, "threads", 2, NULL);
  {
    g_autoptr(NebulaBumpAllocator) tiny_shared =
      g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, NULL,
                      "thread-safe", TRUE, "capacity", (guint64) 1024, NULL);

    g_assert_null (nebula_benchmark_run (bench, NEBULA_ALLOCATOR (tiny_shared), &error));
    g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
    g_clear_error (&error);
  }
  g_object_set (bench, "threads", 1, NULL);

  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (tiny), 16, 8, &error));
  g_assert_no_error (error);

  result = nebula_benchmark_run (bench, NEBULA_ALLOCATOR (big), &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
}

static void
test_benchmark_properties (void)
{
  g_autoptr(NebulaBenchmark) bench = nebula_benchmark_new (NEBULA_WORKLOAD_FIXED_64);
  NebulaWorkload workload;
  guint64 iterations, seed;
  guint threads, rounds;
  gboolean inline_fast_path;

  g_object_get (bench, "workload", &workload, "iterations", &iterations, "seed", &seed,
                "threads", &threads, "rounds", &rounds, "inline-fast-path", &inline_fast_path, NULL);
  g_assert_cmpint (workload, ==, NEBULA_WORKLOAD_FIXED_64);
  g_assert_cmpuint (iterations, ==, 100000);
  g_assert_cmpuint (seed, ==, 42);
  g_assert_cmpuint (threads, ==, 1);
  g_assert_cmpuint (rounds, ==, 5);
  g_assert_false (inline_fast_path);

  nebula_benchmark_set_workload (bench, NEBULA_WORKLOAD_LIFO_FRAMES);
  nebula_benchmark_set_seed (bench, 9);
  g_assert_cmpint (nebula_benchmark_get_workload (bench), ==, NEBULA_WORKLOAD_LIFO_FRAMES);
  g_assert_cmpuint (nebula_benchmark_get_seed (bench), ==, 9);
  g_assert_cmpuint (nebula_benchmark_get_iterations (bench), ==, 100000);
  g_assert_cmpuint (nebula_benchmark_get_threads (bench), ==, 1);
  g_assert_cmpuint (nebula_benchmark_get_rounds (bench), ==, 5);
  g_assert_false (nebula_benchmark_get_inline_fast_path (bench));

  if (g_test_subprocess ())
    {
      nebula_benchmark_set_rounds (bench, 0);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*rounds >= 1*");
}

/* request-arena: each request (batch) is 50 to 500 allocations, or fewer
 * where 60 KiB would be passed, in the size classes the workload names,
 * with no single free: the reset releases them. */
static void
test_benchmark_request_arena_trace (void)
{
  NebulaBenchTrace trace;
  guint n_in_request = 0, n_requests = 0, n_short = 0;
  guint classes[4] = { 0, };
  guint total = 0;

  nebula_bench_trace_init (&trace, NEBULA_BENCH_REQUEST_ARENA, 42, 0, 200);
  g_assert_cmpuint (trace.n_batches, ==, 200);
  g_assert_cmpuint (trace.max_batch_bytes, <=, 64 * 1024);

  for (gsize i = 0; i < trace.n_arena; i++)
    {
      const NebulaBenchOp *op = &trace.arena[i];

      g_assert_cmpuint (op->kind, !=, NEBULA_BENCH_OP_FREE);
      if (op->kind == NEBULA_BENCH_OP_RESET)
        {
          g_assert_cmpuint (n_in_request, <=, 500);
          if (n_in_request < 50)
            n_short++;
          n_requests++;
          n_in_request = 0;
          continue;
        }

      g_assert_cmpuint (op->size, >=, 8);
      g_assert_cmpuint (op->size, <=, 2048);
      g_assert_cmpuint (op->alignment_shift, ==, 3);
      classes[op->size <= 32 ? 0 : op->size <= 128 ? 1 : op->size <= 512 ? 2 : 3]++;
      total++;
      n_in_request++;
    }

  g_assert_cmpuint (n_requests, ==, 200);
  /* Only the 60 KiB cap cuts a request short, and it rarely does. */
  g_assert_cmpuint (n_short, <, 20);
  /* 50%, 30%, 15%, 5%, within a few points over this many allocations. */
  g_assert_cmpfloat (fabs ((double) classes[0] / total - 0.50), <, 0.03);
  g_assert_cmpfloat (fabs ((double) classes[1] / total - 0.30), <, 0.03);
  g_assert_cmpfloat (fabs ((double) classes[2] / total - 0.15), <, 0.03);
  g_assert_cmpfloat (fabs ((double) classes[3] / total - 0.05), <, 0.02);
  nebula_bench_trace_clear (&trace);
}

/* The producer/consumer hand-off on its own, with allocation functions
 * that hand out numbered blocks of one buffer and count the frees of each:
 * every block is allocated on one thread, freed on the other, exactly
 * once, in a run split in passes as the rounds split it. */
#define PC_BATCHES 100
#define PC_PASSES  3
#define PC_BLOCKS  (PC_PASSES * PC_BATCHES * NEBULA_BENCH_HANDOFF_BATCH)

typedef struct
{
  guint8  *buffer;
  guint    next;           /* the producer's */
  guint8   frees[PC_BLOCKS];  /* the consumer's */
  guint    bad_frees;
  guint    fail_at;        /* the allocation that fails, or G_MAXUINT */
} Ledger;

static gpointer
ledger_alloc (gpointer data, gsize size, gsize alignment)
{
  Ledger *ledger = data;

  g_assert_cmpuint (size, ==, NEBULA_BENCH_HANDOFF_SIZE);
  if (ledger->next == ledger->fail_at || ledger->next == PC_BLOCKS)
    return NULL;
  return ledger->buffer + (gsize) ledger->next++ * NEBULA_BENCH_HANDOFF_SIZE;
}

static gboolean
ledger_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  Ledger *ledger = data;
  gsize offset = (guint8 *) ptr - ledger->buffer;

  if (size != NEBULA_BENCH_HANDOFF_SIZE || offset % NEBULA_BENCH_HANDOFF_SIZE != 0 ||
      offset / NEBULA_BENCH_HANDOFF_SIZE >= PC_BLOCKS)
    ledger->bad_frees++;
  else
    ledger->frees[offset / NEBULA_BENCH_HANDOFF_SIZE]++;
  return TRUE;
}

typedef struct
{
  NebulaBenchHandoff *handoff;
  Ledger             *ledger;
  gboolean            ok;
} ConsumerRun;

static gpointer
consumer_thread (gpointer data)
{
  ConsumerRun *run = data;

  run->ok = TRUE;
  for (guint pass = 0; pass < PC_PASSES && run->ok; pass++)
    run->ok = nebula_bench_consume (run->handoff, PC_BATCHES, run->ledger, ledger_free);
  return NULL;
}

static void
run_handoff (Ledger   *ledger,
             gboolean *produced,
             gboolean *consumed)
{
  NebulaBenchHandoff *handoff = g_aligned_alloc (1, sizeof *handoff, G_ALIGNOF (NebulaBenchHandoff));
  ConsumerRun run = { handoff, ledger, FALSE };
  GThread *consumer;

  nebula_bench_handoff_init (handoff);
  consumer = g_thread_new ("consumer", consumer_thread, &run);
  *produced = TRUE;
  for (guint pass = 0; pass < PC_PASSES && *produced; pass++)
    *produced = nebula_bench_produce (handoff, PC_BATCHES, ledger, ledger_alloc);
  g_thread_join (consumer);
  *consumed = run.ok;
  g_aligned_free (handoff);
}

static void
test_benchmark_handoff_frees_once (void)
{
  Ledger *ledger = g_new0 (Ledger, 1);
  gboolean produced, consumed;

  ledger->buffer = g_malloc0 (PC_BLOCKS * NEBULA_BENCH_HANDOFF_SIZE);
  ledger->fail_at = G_MAXUINT;
  run_handoff (ledger, &produced, &consumed);
  g_assert_true (produced);
  g_assert_true (consumed);
  g_assert_cmpuint (ledger->next, ==, PC_BLOCKS);
  g_assert_cmpuint (ledger->bad_frees, ==, 0);
  for (guint i = 0; i < PC_BLOCKS; i++)
    {
      if (ledger->frees[i] != 1)
        g_error ("block %u was freed %u times", i, ledger->frees[i]);
      /* The producer's byte, and the consumer's. */
      g_assert_cmpuint (ledger->buffer[(gsize) i * NEBULA_BENCH_HANDOFF_SIZE], ==,
                        i % NEBULA_BENCH_HANDOFF_BATCH);
      g_assert_cmpuint (ledger->buffer[(gsize) i * NEBULA_BENCH_HANDOFF_SIZE +
                                       NEBULA_BENCH_HANDOFF_SIZE - 1], ==,
                        i % NEBULA_BENCH_HANDOFF_BATCH);
    }

  /* A failed allocation stops both sides: the consumer is not left
   * waiting, and nothing of the unfinished batch is freed. */
  memset (ledger->frees, 0, sizeof ledger->frees);
  memset (ledger->buffer, 0, PC_BLOCKS * NEBULA_BENCH_HANDOFF_SIZE);
  ledger->next = 0;
  ledger->fail_at = 10 * NEBULA_BENCH_HANDOFF_BATCH + 5;
  run_handoff (ledger, &produced, &consumed);
  g_assert_false (produced);
  g_assert_false (consumed);
  for (guint i = 0; i < PC_BLOCKS; i++)
    g_assert_cmpuint (ledger->frees[i], ==, i < 10 * NEBULA_BENCH_HANDOFF_BATCH ? 1 : 0);

  g_free (ledger->buffer);
  g_free (ledger);
}

/* The workload through NebulaBenchmark: threads in pairs, every block
 * freed once (the system allocator's check-frees would report a double or
 * foreign free, the pool's too), nothing left in use. */
static void
test_benchmark_producer_consumer (void)
{
  g_autoptr(NebulaBenchmark) bench = small_benchmark (NEBULA_WORKLOAD_PRODUCER_CONSUMER);
  g_autoptr(NebulaPoolAllocator) plain = nebula_pool_allocator_new (64, 64, NULL);
  g_autoptr(NebulaBenchmarkResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint64 per_thread = nebula_bench_handoff_batches (3000) * NEBULA_BENCH_HANDOFF_BATCH;
  NebulaAllocator *allocators[2];

  /* One thread cannot pair. */
  g_assert_null (nebula_benchmark_run (bench, NEBULA_ALLOCATOR (plain), &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "even number of threads, not 1"));
  g_assert_nonnull (strstr (nebula_error_get_suggestion (error), "Set threads to 2"));
  g_clear_error (&error);

  g_object_set (bench, "threads", 2, NULL);
  g_assert_null (nebula_benchmark_run (bench, NEBULA_ALLOCATOR (plain), &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "thread-safe"));
  g_clear_error (&error);

  allocators[0] = NEBULA_ALLOCATOR (nebula_system_allocator_new (&error));
  g_assert_no_error (error);
  allocators[1] = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                  "block-size", (guint64) 64, "block-count", (guint64) 1024,
                                  "max-block-count", (guint64) 65536, "thread-safe", TRUE,
                                  NULL);
  g_assert_no_error (error);

  for (guint a = 0; a < G_N_ELEMENTS (allocators); a++)
    for (guint threads = 2; threads <= 4; threads += 2)
      {
        g_autoptr(NebulaAllocatorStats) stats = NULL;
        /* The warm-up round and the timed ones. */
        guint64 blocks = (3 + 1) * (threads / 2) * per_thread;

        g_test_message ("%s, %u threads", G_OBJECT_TYPE_NAME (allocators[a]), threads);
        nebula_allocator_reset_stats (allocators[a]);
        g_object_set (bench, "threads", threads, NULL);
        result = nebula_benchmark_run (bench, allocators[a], &error);
        g_assert_no_error (error);
        g_assert_cmpint (result->workload, ==, NEBULA_WORKLOAD_PRODUCER_CONSUMER);
        g_assert_cmpuint (result->threads, ==, threads);
        g_assert_cmpuint (result->ops, ==, threads * per_thread);
        g_assert_cmpfloat (result->ns_per_op_min, >, 0);
        g_clear_pointer (&result, nebula_benchmark_result_free);

        stats = nebula_allocator_get_stats (allocators[a]);
        g_assert_cmpuint (stats->allocations, ==, blocks);
        g_assert_cmpuint (stats->deallocations, ==, blocks);
        g_assert_cmpuint (stats->failed_allocations, ==, 0);
        g_assert_cmpuint (stats->bytes_in_use, ==, 0);
      }

  for (guint a = 0; a < G_N_ELEMENTS (allocators); a++)
    g_object_unref (allocators[a]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/benchmark/workloads", test_benchmark_workloads);
  g_test_add_func ("/nebula/benchmark/trace", test_benchmark_same_seed_same_trace);
  g_test_add_func ("/nebula/benchmark/request-arena", test_benchmark_request_arena_trace);
  g_test_add_func ("/nebula/benchmark/threads", test_benchmark_threads);
  g_test_add_func ("/nebula/benchmark/clock", test_benchmark_clock);
  g_test_add_func ("/nebula/benchmark/run-threads", test_benchmark_run_threads);
  g_test_add_func ("/nebula/benchmark/allocator-error", test_benchmark_allocator_error);
  g_test_add_func ("/nebula/benchmark/producer-consumer/handoff", test_benchmark_handoff_frees_once);
  g_test_add_func ("/nebula/benchmark/producer-consumer", test_benchmark_producer_consumer);
  g_test_add_func ("/nebula/benchmark/properties", test_benchmark_properties);

  return g_test_run ();
}
