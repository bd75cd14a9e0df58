/* nebula-benchmark.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-private.h"
#include "nebula-benchmark.h"
#include "nebula-benchmark-private.h"
#include "nebula-bump-allocator.h"
#include "nebula-multi-pool-allocator.h"
#include "nebula-pool-allocator.h"
#include "nebula-stack-allocator.h"
#include "nebula-system-allocator.h"
#include "nebula-enums.h"

/**
 * NebulaBenchmark:
 *
 * Runs a [enum@Workload] on any [iface@Allocator], in C, and says how long
 * an operation took.
 *
 * The loop runs entirely in C, so Python and JavaScript measure allocators
 * at C speed: they set the parameters, call [method@Benchmark.run] and read
 * the [struct@BenchmarkResult]. `nebula-bench`, the command-line benchmark,
 * runs the same code.
 *
 * ```python
 * bench = Nebula.Benchmark.new(Nebula.Workload.SMALL_MIXED)
 * bench.props.iterations = 200_000
 * result = bench.run(Nebula.BumpAllocator())
 * print(result.ns_per_op_median)
 * ```
 *
 * The requests come from a sequence generated ahead of time from
 * [property@Benchmark:seed], the same for every allocator. A warm-up round
 * (untimed, also where the peak of [property@Allocator:bytes-used] is
 * read) precedes [property@Benchmark:rounds] timed rounds, each of at least
 * [property@Benchmark:iterations] operations per thread. Allocations go
 * through nebula_allocator_allocate(), or, with
 * [property@Benchmark:inline-fast-path], through the inline fast path of
 * allocators that have one (nebula_bump_allocator_alloc(),
 * nebula_pool_allocator_alloc(), nebula_stack_allocator_alloc()).
 *
 * With [property@Benchmark:threads] above 1 the threads share the
 * allocator, which must be thread-safe. So that they never wait for each
 * other within a round, each frees every block it allocated (where one
 * thread alone resets at each batch end) and the allocator is reset only
 * between rounds: a bump allocator then needs room for a whole round of
 * every thread (or a max-capacity to grow into). A
 * [class@SystemAllocator] frees every block too, as malloc would, whatever
 * the number of threads.
 *
 * Several threads run on threads of their own (the calling thread waits),
 * each pinned to a CPU of its own when the process may use as many, so
 * that they run at once rather than take turns on one core. A round lasts
 * from the first thread's start to the last one's end;
 * [struct@BenchmarkResult]'s threads_at_once says how many ran at once.
 *
 * %NEBULA_WORKLOAD_PRODUCER_CONSUMER pairs the threads instead: each
 * block is allocated by one thread of a pair and freed by the other.
 *
 * ```python
 * bench = Nebula.Benchmark.new(Nebula.Workload.PRODUCER_CONSUMER)
 * bench.props.threads = 2
 * pool = Nebula.PoolAllocator(block_size=64, block_count=2048, thread_safe=True)
 * print(bench.run(pool).ns_per_op_min)
 * ```
 */

struct _NebulaBenchmark
{
  GObject         parent_instance;

  NebulaWorkload  workload;
  guint64         iterations;
  guint64         seed;
  guint           threads;
  guint           rounds;
  gboolean        inline_fast_path;
};

enum {
  PROP_0,
  PROP_WORKLOAD,
  PROP_ITERATIONS,
  PROP_THREADS,
  PROP_SEED,
  PROP_ROUNDS,
  PROP_INLINE_FAST_PATH,
  N_PROPS
};

#define DEFAULT_ITERATIONS 100000
#define DEFAULT_ROUNDS     5
#define DEFAULT_SEED       42
#define MAX_THREADS        256
#define MAX_ROUNDS         1000

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (NebulaBenchmark, nebula_benchmark, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (NebulaBenchmarkResult, nebula_benchmark_result,
                     nebula_benchmark_result_copy, nebula_benchmark_result_free)

G_STATIC_ASSERT ((int) NEBULA_WORKLOAD_SMALL_MIXED == (int) NEBULA_BENCH_SMALL_MIXED);
G_STATIC_ASSERT ((int) NEBULA_WORKLOAD_FIXED_64 == (int) NEBULA_BENCH_FIXED_64);
G_STATIC_ASSERT ((int) NEBULA_WORKLOAD_LIFO_FRAMES == (int) NEBULA_BENCH_LIFO_FRAMES);
G_STATIC_ASSERT ((int) NEBULA_WORKLOAD_REQUEST_RESPONSE == (int) NEBULA_BENCH_REQUEST_RESPONSE);
G_STATIC_ASSERT ((int) NEBULA_WORKLOAD_MIXED_LIFETIMES == (int) NEBULA_BENCH_MIXED_LIFETIMES);
G_STATIC_ASSERT ((int) NEBULA_WORKLOAD_REQUEST_ARENA == (int) NEBULA_BENCH_REQUEST_ARENA);
G_STATIC_ASSERT ((int) NEBULA_WORKLOAD_PRODUCER_CONSUMER == (int) NEBULA_BENCH_PRODUCER_CONSUMER);
G_STATIC_ASSERT ((int) NEBULA_WORKLOAD_LARSON == (int) NEBULA_BENCH_LARSON);

/* Which inline fast path a single-threaded run replays through. */
typedef enum
{
  INLINE_PATH_NONE,
  INLINE_PATH_BUMP,
  INLINE_PATH_POOL,
  INLINE_PATH_STACK,
} InlinePath;

/* One per thread. */
typedef struct
{
  NebulaAllocator     *allocator;
  NebulaBenchTrace     trace;
  gpointer             slots[NEBULA_BENCH_MAX_SLOTS];
  guint64              passes;
  guint                index;
  guint                rounds;
  InlinePath           inline_path;
  gboolean             one_by_one;   /* frees every block itself */
  NebulaBenchBarrier  *barrier;      /* NULL with one thread */
  NebulaBenchHandoff  *handoff;      /* producer/consumer: the pair's ring */
  gboolean             consumer;     /* producer/consumer: this side frees */
  guint64              batches;      /* producer/consumer: per pass */
  gboolean             sampling;     /* warm-up: record the peak */
  guint64              peak;
  NebulaBenchClock    *clock;        /* every thread marks its passes */
  GError              *error;
  gboolean             failed;
} Worker;

/* What the replay functions of a pass see: the allocator and the error
 * location in a local of worker_pass() whose address never leaves the
 * inlined loop, so that the compiler keeps both in registers. Read from
 * the Worker, they would be loaded again after every byte the loop writes
 * (a store through a `char *` may alias any object whose address has
 * escaped), which the floors and the peers of nebula-bench do not pay. */
typedef struct
{
  gpointer   allocator;
  GError   **error;
  Worker    *worker;
} PassContext;

/* Defines the replay functions of a type's inline fast path. */
#define DEFINE_INLINE_FUNCS(prefix, Type, alloc_func, free_func)                    \
  static inline gpointer                                                          \
  prefix##_inline_alloc (gpointer data,                                           \
                         gsize    size,                                           \
                         gsize    alignment)                                      \
  {                                                                               \
    PassContext *context = data;                                                  \
                                                                                  \
    return alloc_func ((Type *) context->allocator, size, alignment, context->error); \
  }                                                                               \
                                                                                  \
  static inline gboolean                                                          \
  prefix##_inline_free (gpointer data,                                            \
                        gpointer ptr,                                             \
                        gsize    size,                                            \
                        gsize    alignment)                                       \
  {                                                                               \
    PassContext *context = data;                                                  \
                                                                                  \
    return free_func ((Type *) context->allocator, ptr, size, alignment, context->error); \
  }

DEFINE_INLINE_FUNCS (interface, NebulaAllocator, nebula_allocator_allocate, nebula_allocator_deallocate)
DEFINE_INLINE_FUNCS (bump, NebulaBumpAllocator, nebula_bump_allocator_alloc, nebula_bump_allocator_free)
DEFINE_INLINE_FUNCS (pool, NebulaPoolAllocator, nebula_pool_allocator_alloc, nebula_pool_allocator_free)
DEFINE_INLINE_FUNCS (stack, NebulaStackAllocator, nebula_stack_allocator_alloc, nebula_stack_allocator_free)

/* The producer/consumer sides take the Worker itself. */
static inline gpointer
worker_alloc (gpointer data,
              gsize    size,
              gsize    alignment)
{
  Worker *worker = data;

  return nebula_allocator_allocate (worker->allocator, size, alignment, &worker->error);
}

static inline gboolean
worker_free (gpointer data,
             gpointer ptr,
             gsize    size,
             gsize    alignment)
{
  Worker *worker = data;

  return nebula_allocator_deallocate (worker->allocator, ptr, size, alignment, &worker->error);
}

static void
reset_allocator (Worker *worker)
{
  if (G_UNLIKELY (worker->sampling))
    worker->peak = MAX (worker->peak, nebula_allocator_get_bytes_used (worker->allocator));
  nebula_allocator_reset (worker->allocator);
}

static G_NO_INLINE void
worker_reset (Worker *worker)
{
  reset_allocator (worker);
}

/* Only the Worker's address reaches the call, never the context's. */
static inline gboolean
context_reset (gpointer data)
{
  worker_reset (((PassContext *) data)->worker);
  return TRUE;
}

/* Threads sharing an allocator free every block themselves and leave the
 * reset to the end of the round, so they never wait for each other. */
static inline gboolean
no_reset (gpointer data)
{
  return TRUE;
}

static gboolean
worker_pass (Worker *worker)
{
  gboolean shared = worker->barrier != NULL || worker->one_by_one;
  const NebulaBenchOp *ops = shared ? worker->trace.individual : worker->trace.arena;
  gsize n_ops = shared ? worker->trace.n_individual : worker->trace.n_arena;
  PassContext context = { worker->allocator, &worker->error, worker };

  if (worker->handoff != NULL && worker->consumer)
    return nebula_bench_consume (worker->handoff, worker->batches, worker, worker_free);
  if (worker->handoff != NULL)
    return nebula_bench_produce (worker->handoff, worker->batches, worker, worker_alloc);

  for (guint64 pass = 0; pass < worker->passes; pass++)
    {
      gboolean ok;

      if (shared)
        ok = nebula_bench_replay (ops, n_ops, worker->slots, &context,
                                  interface_inline_alloc, interface_inline_free, no_reset);
      else if (worker->inline_path == INLINE_PATH_BUMP)
        ok = nebula_bench_replay (ops, n_ops, worker->slots, &context,
                                  bump_inline_alloc, bump_inline_free, context_reset);
      else if (worker->inline_path == INLINE_PATH_POOL)
        ok = nebula_bench_replay (ops, n_ops, worker->slots, &context,
                                  pool_inline_alloc, pool_inline_free, context_reset);
      else if (worker->inline_path == INLINE_PATH_STACK)
        ok = nebula_bench_replay (ops, n_ops, worker->slots, &context,
                                  stack_inline_alloc, stack_inline_free, context_reset);
      else
        ok = nebula_bench_replay (ops, n_ops, worker->slots, &context,
                                  interface_inline_alloc, interface_inline_free, context_reset);
      if (!ok)
        return FALSE;
    }

  return TRUE;
}

/* Waits for the other threads; with several, thread 0 then resets the
 * allocator while the others wait again. */
static gboolean
worker_sync (Worker *worker,
             gboolean reset)
{
  if (worker->barrier == NULL)
    return TRUE;
  if (!nebula_bench_barrier_wait (worker->barrier))
    return FALSE;
  if (!reset)
    return TRUE;
  if (worker->index == 0)
    reset_allocator (worker);
  return nebula_bench_barrier_wait (worker->barrier);
}

/* The warm-up round, then the timed rounds. */
static gpointer
worker_run (gpointer data)
{
  Worker *worker = data;

  worker->sampling = TRUE;
  if (!worker_sync (worker, FALSE) || !worker_pass (worker) || !worker_sync (worker, TRUE))
    goto failed;
  worker->sampling = FALSE;

  for (guint round = 0; round < worker->rounds; round++)
    {
      if (!worker_sync (worker, FALSE))
        goto failed;
      nebula_bench_clock_start (worker->clock, worker->index, round);
      if (!worker_pass (worker))
        goto failed;
      nebula_bench_clock_stop (worker->clock, worker->index, round);
      if (!worker_sync (worker, FALSE) || !worker_sync (worker, TRUE))
        goto failed;
    }

  return NULL;

failed:
  worker->failed = TRUE;
  if (worker->barrier != NULL)
    nebula_bench_barrier_abort (worker->barrier);
  if (worker->handoff != NULL)
    nebula_bench_handoff_abort (worker->handoff);
  return NULL;
}

/**
 * nebula_benchmark_run:
 * @self: a #NebulaBenchmark
 * @allocator: the allocator to measure
 * @error: return location for a #GError
 *
 * Runs the workload on @allocator: a warm-up round, then the timed rounds.
 * The allocator is reset at every batch end and left reset.
 *
 * Fails with the allocator's error when an operation fails (a bump
 * allocator too small for a batch, a stack allocator given a workload that
 * frees out of order), and with %NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED when
 * several threads are asked of an allocator that is not thread-safe, or
 * an odd number of threads of %NEBULA_WORKLOAD_PRODUCER_CONSUMER.
 *
 * Returns: (transfer full): the result, or %NULL with @error set
 */
NebulaBenchmarkResult *
nebula_benchmark_run (NebulaBenchmark  *self,
                      NebulaAllocator  *allocator,
                      GError          **error)
{
  NebulaBenchmarkResult *result = NULL;
  NebulaBenchBarrier barrier;
  NebulaBenchClock clock;
  g_autofree Worker *workers = NULL;
  NebulaBenchHandoff *handoffs = NULL;
  gboolean pairs = self->workload == NEBULA_WORKLOAD_PRODUCER_CONSUMER;
  InlinePath inline_path = INLINE_PATH_NONE;
  guint64 ops = 0;

  g_return_val_if_fail (NEBULA_IS_BENCHMARK (self), NULL);
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (allocator), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (pairs && self->threads % 2 != 0)
    {
      NebulaErrorInfo info = {
        .suggestion = "Set threads to 2 (one producer and its consumer) or another even number.",
      };

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED, &info,
                        "The producer-consumer workload runs in pairs of threads (a producer and "
                        "its consumer), so it needs an even number of threads, not %u",
                        self->threads);
      return NULL;
    }

  if (self->threads > 1 && !nebula_allocator_get_thread_safe (allocator))
    {
      g_autofree char *what = nebula_allocator_describe (allocator);
      NebulaErrorInfo info = {
        .what = what,
        .suggestion = "Construct the allocator with thread-safe set, or run one thread.",
      };

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED, &info,
                        "A benchmark with %u threads needs a thread-safe allocator, and %s is not",
                        self->threads, what);
      return NULL;
    }

  /* The inline paths are single-threaded by construction; a thread-safe
   * allocator would send every request to the exported path anyway. */
  if (!self->inline_fast_path)
    ;
  else if (NEBULA_IS_BUMP_ALLOCATOR (allocator))
    inline_path = INLINE_PATH_BUMP;
  else if (NEBULA_IS_POOL_ALLOCATOR (allocator))
    inline_path = INLINE_PATH_POOL;
  else if (NEBULA_IS_STACK_ALLOCATOR (allocator))
    inline_path = INLINE_PATH_STACK;

  workers = g_new0 (Worker, self->threads);
  nebula_bench_clock_init (&clock, self->threads, self->rounds);
  nebula_bench_barrier_init (&barrier, self->threads);
  if (pairs)
    {
      /* Aligned: the counters sit on cache lines of their own. */
      handoffs = g_aligned_alloc (self->threads / 2, sizeof (NebulaBenchHandoff),
                                  G_ALIGNOF (NebulaBenchHandoff));
      for (guint i = 0; i < self->threads / 2; i++)
        nebula_bench_handoff_init (&handoffs[i]);
    }

  for (guint i = 0; i < self->threads; i++)
    {
      Worker *worker = &workers[i];

      /* Every thread resets as often as the others: same batch count. */
      nebula_bench_trace_init (&worker->trace, (NebulaBenchWorkload) self->workload,
                               self->seed + i * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15),
                               self->iterations, i == 0 ? 0 : workers[0].trace.n_batches);
      worker->allocator = allocator;
      worker->passes = nebula_bench_passes (&workers[0].trace, self->iterations);
      worker->index = i;
      worker->rounds = self->rounds;
      worker->inline_path = inline_path;
      worker->barrier = self->threads > 1 ? &barrier : NULL;
      /* malloc behind the interface, and the multi-pool that replaces
       * GSlice: measured as malloc is, freeing every block (their resets
       * are a convenience: without check-frees the system allocator's
       * frees nothing, the multi-pool's resets every class). */
      worker->one_by_one = NEBULA_IS_SYSTEM_ALLOCATOR (allocator) ||
                           NEBULA_IS_MULTI_POOL_ALLOCATOR (allocator);
      worker->clock = &clock;
      if (pairs)
        {
          /* Even threads produce, odd ones consume what their pair made. */
          worker->handoff = &handoffs[i / 2];
          worker->consumer = i % 2 == 1;
          worker->batches = nebula_bench_handoff_batches (self->iterations);
          ops += worker->batches * NEBULA_BENCH_HANDOFF_BATCH;
        }
      else
        ops += worker->passes * worker->trace.ops;
    }

  nebula_bench_run_threads (self->threads, worker_run, workers, sizeof (Worker));

  for (guint i = 0; i < self->threads; i++)
    {
      /* The first real error wins; threads released by an abort have none. */
      if (workers[i].error != NULL && result == NULL && error != NULL && *error == NULL)
        g_propagate_error (error, g_steal_pointer (&workers[i].error));
      g_clear_error (&workers[i].error);
    }

  for (guint i = 0; i < self->threads; i++)
    if (workers[i].failed)
      goto out;

  result = g_new0 (NebulaBenchmarkResult, 1);
  result->workload = self->workload;
  result->threads = self->threads;
  result->rounds = self->rounds;
  result->ops = ops;
  result->peak_bytes = workers[0].peak;
  nebula_bench_clock_summarize (&clock, ops, &result->ns_per_op_min, &result->ns_per_op_median,
                                &result->threads_at_once);

out:
  if (result == NULL && error != NULL && *error == NULL)
    g_set_error_literal (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_FAILED,
                         "The benchmark failed without a reason");
  for (guint i = 0; i < self->threads; i++)
    nebula_bench_trace_clear (&workers[i].trace);
  nebula_bench_clock_clear (&clock);
  g_aligned_free (handoffs);

  /* Leave the allocator empty, as it was given (or emptier). */
  nebula_allocator_reset (allocator);
  return result;
}

static void
nebula_benchmark_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  NebulaBenchmark *self = NEBULA_BENCHMARK (object);

  switch (prop_id)
    {
    case PROP_WORKLOAD:
      g_value_set_enum (value, self->workload);
      break;
    case PROP_ITERATIONS:
      g_value_set_uint64 (value, self->iterations);
      break;
    case PROP_THREADS:
      g_value_set_uint (value, self->threads);
      break;
    case PROP_SEED:
      g_value_set_uint64 (value, self->seed);
      break;
    case PROP_ROUNDS:
      g_value_set_uint (value, self->rounds);
      break;
    case PROP_INLINE_FAST_PATH:
      g_value_set_boolean (value, self->inline_fast_path);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_benchmark_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  NebulaBenchmark *self = NEBULA_BENCHMARK (object);

  switch (prop_id)
    {
    case PROP_WORKLOAD:
      nebula_benchmark_set_workload (self, g_value_get_enum (value));
      break;
    case PROP_ITERATIONS:
      nebula_benchmark_set_iterations (self, g_value_get_uint64 (value));
      break;
    case PROP_THREADS:
      nebula_benchmark_set_threads (self, g_value_get_uint (value));
      break;
    case PROP_SEED:
      nebula_benchmark_set_seed (self, g_value_get_uint64 (value));
      break;
    case PROP_ROUNDS:
      nebula_benchmark_set_rounds (self, g_value_get_uint (value));
      break;
    case PROP_INLINE_FAST_PATH:
      nebula_benchmark_set_inline_fast_path (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_benchmark_class_init (NebulaBenchmarkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = nebula_benchmark_get_property;
  object_class->set_property = nebula_benchmark_set_property;

  /**
   * NebulaBenchmark:workload:
   *
   * The #NebulaWorkload to run.
   */
  properties[PROP_WORKLOAD] =
    g_param_spec_enum ("workload", NULL, NULL,
                       NEBULA_TYPE_WORKLOAD, NEBULA_WORKLOAD_SMALL_MIXED,
                       flags);

  /**
   * NebulaBenchmark:iterations:
   *
   * The least number of operations (allocations and frees) each thread
   * runs per round; a round replays whole batches, so it may run a few
   * more. [struct@BenchmarkResult] says how many ran.
   */
  properties[PROP_ITERATIONS] =
    g_param_spec_uint64 ("iterations", NULL, NULL,
                         1, G_MAXUINT64 / 2, DEFAULT_ITERATIONS,
                         flags);

  /**
   * NebulaBenchmark:threads:
   *
   * How many threads share the allocator, from 1 to 256. Above 1 the
   * allocator must be thread-safe. %NEBULA_WORKLOAD_PRODUCER_CONSUMER runs
   * them in pairs (a producer and its consumer): an even number.
   */
  properties[PROP_THREADS] =
    g_param_spec_uint ("threads", NULL, NULL,
                       1, MAX_THREADS, 1,
                       flags);

  /**
   * NebulaBenchmark:seed:
   *
   * Seeds the sequence of requests: the same seed gives the same sizes and
   * frees, whatever the allocator.
   */
  properties[PROP_SEED] =
    g_param_spec_uint64 ("seed", NULL, NULL,
                         0, G_MAXUINT64, DEFAULT_SEED,
                         flags);

  /**
   * NebulaBenchmark:rounds:
   *
   * How many timed rounds run, from 1 to 1000; the result reports the
   * fastest and the median.
   */
  properties[PROP_ROUNDS] =
    g_param_spec_uint ("rounds", NULL, NULL,
                       1, MAX_ROUNDS, DEFAULT_ROUNDS,
                       flags);

  /**
   * NebulaBenchmark:inline-fast-path:
   *
   * Whether to allocate through the inline fast path of allocators that
   * have one (nebula_bump_allocator_alloc(), nebula_pool_allocator_alloc()
   * and nebula_stack_allocator_alloc() with their frees), which is what C
   * code calling them gets, rather than nebula_allocator_allocate(). Other
   * allocators, and runs with several threads, ignore it.
   */
  properties[PROP_INLINE_FAST_PATH] =
    g_param_spec_boolean ("inline-fast-path", NULL, NULL,
                          FALSE,
                          flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
nebula_benchmark_init (NebulaBenchmark *self)
{
  self->workload = NEBULA_WORKLOAD_SMALL_MIXED;
  self->iterations = DEFAULT_ITERATIONS;
  self->threads = 1;
  self->seed = DEFAULT_SEED;
  self->rounds = DEFAULT_ROUNDS;
}

/**
 * nebula_benchmark_new:
 * @workload: the workload to run
 *
 * Creates a benchmark of @workload with the default parameters: 100000
 * iterations, 1 thread, seed 42, 5 rounds.
 *
 * Returns: (transfer full): a new #NebulaBenchmark
 */
NebulaBenchmark *
nebula_benchmark_new (NebulaWorkload workload)
{
  return g_object_new (NEBULA_TYPE_BENCHMARK, "workload", workload, NULL);
}

/**
 * nebula_benchmark_get_workload:
 * @self: a #NebulaBenchmark
 *
 * Gets #NebulaBenchmark:workload.
 *
 * Returns: the workload
 */
NebulaWorkload
nebula_benchmark_get_workload (NebulaBenchmark *self)
{
  g_return_val_if_fail (NEBULA_IS_BENCHMARK (self), NEBULA_WORKLOAD_SMALL_MIXED);

  return self->workload;
}

/**
 * nebula_benchmark_set_workload:
 * @self: a #NebulaBenchmark
 * @workload: the workload to run
 *
 * Sets #NebulaBenchmark:workload.
 */
void
nebula_benchmark_set_workload (NebulaBenchmark *self,
                               NebulaWorkload   workload)
{
  g_return_if_fail (NEBULA_IS_BENCHMARK (self));
  g_return_if_fail ((guint) workload < NEBULA_BENCH_N_WORKLOADS);

  if (self->workload == workload)
    return;
  self->workload = workload;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORKLOAD]);
}

/**
 * nebula_benchmark_get_iterations:
 * @self: a #NebulaBenchmark
 *
 * Gets #NebulaBenchmark:iterations.
 *
 * Returns: the operations per thread and round
 */
guint64
nebula_benchmark_get_iterations (NebulaBenchmark *self)
{
  g_return_val_if_fail (NEBULA_IS_BENCHMARK (self), 0);

  return self->iterations;
}

/**
 * nebula_benchmark_set_iterations:
 * @self: a #NebulaBenchmark
 * @iterations: operations per thread and round, at least 1
 *
 * Sets #NebulaBenchmark:iterations.
 */
void
nebula_benchmark_set_iterations (NebulaBenchmark *self,
                                 guint64          iterations)
{
  g_return_if_fail (NEBULA_IS_BENCHMARK (self));
  g_return_if_fail (iterations >= 1 && iterations <= G_MAXUINT64 / 2);

  if (self->iterations == iterations)
    return;
  self->iterations = iterations;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITERATIONS]);
}

/**
 * nebula_benchmark_get_threads:
 * @self: a #NebulaBenchmark
 *
 * Gets #NebulaBenchmark:threads.
 *
 * Returns: the number of threads
 */
guint
nebula_benchmark_get_threads (NebulaBenchmark *self)
{
  g_return_val_if_fail (NEBULA_IS_BENCHMARK (self), 0);

  return self->threads;
}

/**
 * nebula_benchmark_set_threads:
 * @self: a #NebulaBenchmark
 * @threads: from 1 to 256
 *
 * Sets #NebulaBenchmark:threads.
 */
void
nebula_benchmark_set_threads (NebulaBenchmark *self,
                              guint            threads)
{
  g_return_if_fail (NEBULA_IS_BENCHMARK (self));
  g_return_if_fail (threads >= 1 && threads <= MAX_THREADS);

  if (self->threads == threads)
    return;
  self->threads = threads;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THREADS]);
}

/**
 * nebula_benchmark_get_seed:
 * @self: a #NebulaBenchmark
 *
 * Gets #NebulaBenchmark:seed.
 *
 * Returns: the seed
 */
guint64
nebula_benchmark_get_seed (NebulaBenchmark *self)
{
  g_return_val_if_fail (NEBULA_IS_BENCHMARK (self), 0);

  return self->seed;
}

/**
 * nebula_benchmark_set_seed:
 * @self: a #NebulaBenchmark
 * @seed: any number
 *
 * Sets #NebulaBenchmark:seed.
 */
void
nebula_benchmark_set_seed (NebulaBenchmark *self,
                           guint64          seed)
{
  g_return_if_fail (NEBULA_IS_BENCHMARK (self));

  if (self->seed == seed)
    return;
  self->seed = seed;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEED]);
}

/**
 * nebula_benchmark_get_rounds:
 * @self: a #NebulaBenchmark
 *
 * Gets #NebulaBenchmark:rounds.
 *
 * Returns: the number of timed rounds
 */
guint
nebula_benchmark_get_rounds (NebulaBenchmark *self)
{
  g_return_val_if_fail (NEBULA_IS_BENCHMARK (self), 0);

  return self->rounds;
}

/**
 * nebula_benchmark_set_rounds:
 * @self: a #NebulaBenchmark
 * @rounds: from 1 to 1000
 *
 * Sets #NebulaBenchmark:rounds.
 */
void
nebula_benchmark_set_rounds (NebulaBenchmark *self,
                             guint            rounds)
{
  g_return_if_fail (NEBULA_IS_BENCHMARK (self));
  g_return_if_fail (rounds >= 1 && rounds <= MAX_ROUNDS);

  if (self->rounds == rounds)
    return;
  self->rounds = rounds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROUNDS]);
}

/**
 * nebula_benchmark_get_inline_fast_path:
 * @self: a #NebulaBenchmark
 *
 * Gets #NebulaBenchmark:inline-fast-path.
 *
 * Returns: whether the inline fast path is used where there is one
 */
gboolean
nebula_benchmark_get_inline_fast_path (NebulaBenchmark *self)
{
  g_return_val_if_fail (NEBULA_IS_BENCHMARK (self), FALSE);

  return self->inline_fast_path;
}

/**
 * nebula_benchmark_set_inline_fast_path:
 * @self: a #NebulaBenchmark
 * @inline_fast_path: whether to use inline fast paths
 *
 * Sets #NebulaBenchmark:inline-fast-path.
 */
void
nebula_benchmark_set_inline_fast_path (NebulaBenchmark *self,
                                       gboolean         inline_fast_path)
{
  g_return_if_fail (NEBULA_IS_BENCHMARK (self));

  inline_fast_path = !!inline_fast_path;
  if (self->inline_fast_path == inline_fast_path)
    return;
  self->inline_fast_path = inline_fast_path;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INLINE_FAST_PATH]);
}

/**
 * nebula_benchmark_result_copy:
 * @result: a #NebulaBenchmarkResult
 *
 * Copies @result.
 *
 * Returns: (transfer full): a copy
 */
NebulaBenchmarkResult *
nebula_benchmark_result_copy (const NebulaBenchmarkResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);

  return g_memdup2 (result, sizeof *result);
}

/**
 * nebula_benchmark_result_free:
 * @result: a #NebulaBenchmarkResult
 *
 * Frees @result.
 */
void
nebula_benchmark_result_free (NebulaBenchmarkResult *result)
{
  g_free (result);
}
