/* nebula-benchmark-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The machinery shared by NebulaBenchmark and nebula-bench: workload traces
 * generated ahead of time from a seed, and a replay loop that is inlined
 * into each caller with its own allocation functions, so that every
 * allocator (Nebula's, the floors, the peers) runs the very same sequence
 * of requests through the very same loop, with direct calls.
 *
 * This header uses GLib only (no GType), so that nebula-bench can compile
 * nebula-benchmark-trace.c into itself next to the shared library.
 */

#pragma once

#include <glib.h>
#include <time.h>

G_BEGIN_DECLS

/* Kept in step with NebulaWorkload in nebula-benchmark.h. */
typedef enum
{
  NEBULA_BENCH_SMALL_MIXED,
  NEBULA_BENCH_FIXED_64,
  NEBULA_BENCH_LIFO_FRAMES,
  NEBULA_BENCH_REQUEST_RESPONSE,
  NEBULA_BENCH_MIXED_LIFETIMES,
  NEBULA_BENCH_REQUEST_ARENA,
  NEBULA_BENCH_PRODUCER_CONSUMER,
  NEBULA_BENCH_LARSON,
  NEBULA_BENCH_N_WORKLOADS
} NebulaBenchWorkload;

typedef enum
{
  NEBULA_BENCH_OP_ALLOC,
  NEBULA_BENCH_OP_FREE,
  NEBULA_BENCH_OP_RESET,
} NebulaBenchOpKind;

typedef struct
{
  guint32 size;
  guint16 slot;
  guint8  kind;
  guint8  alignment_shift;
} NebulaBenchOp;

#define NEBULA_BENCH_MAX_SLOTS 512

/* Two renderings of one random sequence. `arena` ends each batch with a
 * RESET that releases what is still live; `individual` frees those blocks
 * one by one instead (for malloc-like peers that have no reset) and then
 * RESETs (a no-op for them). The releases are not counted as operations in
 * either, so that times per operation compare. */
typedef struct
{
  NebulaBenchWorkload  workload;
  NebulaBenchOp       *arena;
  gsize                n_arena;
  NebulaBenchOp       *individual;
  gsize                n_individual;
  guint64              ops;              /* counted operations per pass */
  guint                n_batches;
  gsize                max_size;         /* the largest request */
  gsize                max_batch_bytes;  /* bytes a batch allocates, padding included */
  guint                max_live;         /* most blocks live at once */
} NebulaBenchTrace;

/* At least @min_ops operations (up to a cap), or exactly @n_batches
 * batches when that is not 0. */
void        nebula_bench_trace_init      (NebulaBenchTrace    *trace,
                                          NebulaBenchWorkload  workload,
                                          guint64              seed,
                                          guint64              min_ops,
                                          guint                n_batches);
void        nebula_bench_trace_clear     (NebulaBenchTrace    *trace);
const char *nebula_bench_workload_name   (NebulaBenchWorkload  workload);

/* How many passes of @trace make at least @iterations operations. */
static inline guint64
nebula_bench_passes (const NebulaBenchTrace *trace,
                     guint64                 iterations)
{
  return MAX ((iterations + trace->ops - 1) / trace->ops, 1);
}

typedef gpointer (*NebulaBenchAllocFunc) (gpointer data, gsize size, gsize alignment);
typedef gboolean (*NebulaBenchFreeFunc)  (gpointer data, gpointer ptr, gsize size, gsize alignment);
typedef gboolean (*NebulaBenchResetFunc) (gpointer data);

/* Runs @n_ops operations. Always inlined, and with constant function
 * arguments the compiler calls (or inlines) each allocator directly, so
 * the loop itself costs the same for everyone. Every allocation gets one
 * byte written, as a program would. Returns FALSE as soon as an operation
 * fails. */
static inline __attribute__ ((always_inline)) gboolean
nebula_bench_replay (const NebulaBenchOp  *ops,
                     gsize                 n_ops,
                     gpointer             *slots,
                     gpointer              data,
                     NebulaBenchAllocFunc  alloc_func,
                     NebulaBenchFreeFunc   free_func,
                     NebulaBenchResetFunc  reset_func)
{
  for (gsize i = 0; i < n_ops; i++)
    {
      const NebulaBenchOp *op = &ops[i];

      if (G_LIKELY (op->kind == NEBULA_BENCH_OP_ALLOC))
        {
          guint8 *ptr = alloc_func (data, op->size, (gsize) 1 << op->alignment_shift);

          if (G_UNLIKELY (ptr == NULL))
            return FALSE;
          *ptr = (guint8) i;
          slots[op->slot] = ptr;
        }
      else if (op->kind == NEBULA_BENCH_OP_FREE)
        {
          if (G_UNLIKELY (!free_func (data, slots[op->slot], op->size,
                                      (gsize) 1 << op->alignment_shift)))
            return FALSE;
        }
      else if (G_UNLIKELY (!reset_func (data)))
        {
          return FALSE;
        }
    }

  return TRUE;
}

/* One thread is timed with its own CPU clock, so that time spent
 * descheduled (a busy machine) does not count; several threads with the
 * wall clock, which is what their throughput means. */
static inline guint64
nebula_bench_now_ns (gboolean cpu_clock)
{
  struct timespec ts;

  clock_gettime (cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return (guint64) ts.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) ts.tv_nsec;
}

/* A barrier for threads that share an allocator and must not allocate
 * while one of them resets it. It spins (then yields), because on two
 * cores a futex round trip would dominate a batch. abort() releases every
 * waiter for good, so that a failing thread never leaves the others
 * stuck. */
typedef struct
{
  guint   n_threads;
  guint   waiting;
  guint   generation;
  gint    aborted;
} NebulaBenchBarrier;

void     nebula_bench_barrier_init  (NebulaBenchBarrier *barrier,
                                     guint               n_threads);
gboolean nebula_bench_barrier_wait  (NebulaBenchBarrier *barrier);
void     nebula_bench_barrier_abort (NebulaBenchBarrier *barrier);

/* Producer/consumer (NEBULA_BENCH_PRODUCER_CONSUMER): threads run in
 * pairs. The producer allocates batches of blocks and hands each batch to
 * its consumer through a single-producer, single-consumer ring of batch
 * slots; the consumer reads the byte the producer wrote into each block,
 * writes one of its own and frees it. Handing over a batch costs one
 * release store and one acquire load on each side, 1/64 of a block's. The
 * trace of this workload is what one thread alone would do with a batch
 * (allocate it, then free it in the same order): it sizes the allocators,
 * and its `ops` are a batch's. */
#define NEBULA_BENCH_HANDOFF_BATCH  64    /* blocks per batch */
#define NEBULA_BENCH_HANDOFF_DEPTH  8     /* batches in flight */
#define NEBULA_BENCH_HANDOFF_SIZE   64    /* bytes per block, alignment 8 */

typedef struct
{
  gpointer  blocks[NEBULA_BENCH_HANDOFF_DEPTH][NEBULA_BENCH_HANDOFF_BATCH];
  /* Batches published by the producer and taken by the consumer, counted
   * from the start, each on a cache line of its own. */
  guint     head __attribute__ ((aligned (64)));
  guint     tail __attribute__ ((aligned (64)));
  gint      aborted __attribute__ ((aligned (64)));
} NebulaBenchHandoff;

/* Batches a thread runs so that it makes at least @iterations operations. */
static inline guint64
nebula_bench_handoff_batches (guint64 iterations)
{
  return MAX ((iterations + NEBULA_BENCH_HANDOFF_BATCH - 1) / NEBULA_BENCH_HANDOFF_BATCH, 1);
}

void      nebula_bench_handoff_init  (NebulaBenchHandoff *handoff);
/* Waits until *@counter differs from @value (the producer: until a slot
 * is free; the consumer: until a batch is published). FALSE if the other
 * side aborted. */
gboolean  nebula_bench_handoff_wait  (NebulaBenchHandoff *handoff,
                                      const guint        *counter,
                                      guint               value);
void      nebula_bench_handoff_abort (NebulaBenchHandoff *handoff);

/* The producer's side: @n_batches batches. Inlined with constant function
 * arguments, as the replay loop is. On a failed allocation the consumer
 * is released (abort) and FALSE returned. */
static inline __attribute__ ((always_inline)) gboolean
nebula_bench_produce (NebulaBenchHandoff   *handoff,
                      guint64               n_batches,
                      gpointer              data,
                      NebulaBenchAllocFunc  alloc_func)
{
  guint head = handoff->head;

  for (guint64 b = 0; b < n_batches; b++, head++)
    {
      gpointer *slot = handoff->blocks[head % NEBULA_BENCH_HANDOFF_DEPTH];

      /* A slot is free once the consumer has taken the batch written
       * there NEBULA_BENCH_HANDOFF_DEPTH batches ago. */
      if (head - __atomic_load_n (&handoff->tail, __ATOMIC_ACQUIRE) >= NEBULA_BENCH_HANDOFF_DEPTH &&
          !nebula_bench_handoff_wait (handoff, &handoff->tail, head - NEBULA_BENCH_HANDOFF_DEPTH))
        return FALSE;

      for (guint i = 0; i < NEBULA_BENCH_HANDOFF_BATCH; i++)
        {
          guint8 *ptr = alloc_func (data, NEBULA_BENCH_HANDOFF_SIZE, 8);

          if (G_UNLIKELY (ptr == NULL))
            {
              nebula_bench_handoff_abort (handoff);
              return FALSE;
            }
          *ptr = (guint8) i;
          slot[i] = ptr;
        }
      __atomic_store_n (&handoff->head, head + 1, __ATOMIC_RELEASE);
    }

  return TRUE;
}

/* The consumer's side. A block whose first byte is not the producer's
 * (a block handed out twice, or overwritten) fails the run, as does a
 * failed free. */
static inline __attribute__ ((always_inline)) gboolean
nebula_bench_consume (NebulaBenchHandoff  *handoff,
                      guint64              n_batches,
                      gpointer             data,
                      NebulaBenchFreeFunc  free_func)
{
  guint tail = handoff->tail;

  for (guint64 b = 0; b < n_batches; b++, tail++)
    {
      gpointer *slot = handoff->blocks[tail % NEBULA_BENCH_HANDOFF_DEPTH];

      if (__atomic_load_n (&handoff->head, __ATOMIC_ACQUIRE) == tail &&
          !nebula_bench_handoff_wait (handoff, &handoff->head, tail))
        return FALSE;

      for (guint i = 0; i < NEBULA_BENCH_HANDOFF_BATCH; i++)
        {
          guint8 *ptr = slot[i];

          if (G_UNLIKELY (ptr[0] != (guint8) i))
            {
              nebula_bench_handoff_abort (handoff);
              return FALSE;
            }
          ptr[NEBULA_BENCH_HANDOFF_SIZE - 1] = (guint8) i;
          if (G_UNLIKELY (!free_func (data, ptr, NEBULA_BENCH_HANDOFF_SIZE, 8)))
            {
              nebula_bench_handoff_abort (handoff);
              return FALSE;
            }
        }
      __atomic_store_n (&handoff->tail, tail + 1, __ATOMIC_RELEASE);
    }

  return TRUE;
}

/* Minimum and median of @n values (sorts @values). */
void     nebula_bench_summarize     (double             *values,
                                     guint               n,
                                     double             *min,
                                     double             *median);

/* The timed rounds (nebula-benchmark-clock.c). Each thread marks the
 * start and the stop of its pass in every round; a round lasts from the
 * first start to the last stop, so that it reads the same whichever
 * thread left the barrier first. With one thread the marks are its CPU
 * time; with several, wall time, and the threads' CPU time summed over a
 * round's wall time says how many of them ran at once (2.0 for two
 * threads on two free cores, 1.0 for two that took turns on one). */
typedef struct
{
  guint64 start;
  guint64 stop;
  guint64 cpu_start;
  guint64 cpu_stop;
} NebulaBenchMark;

typedef struct
{
  guint            n_threads;
  guint            rounds;
  NebulaBenchMark *marks;   /* per thread, then per round */
} NebulaBenchClock;

void     nebula_bench_clock_init      (NebulaBenchClock   *clock,
                                       guint               n_threads,
                                       guint               rounds);
void     nebula_bench_clock_clear     (NebulaBenchClock   *clock);
void     nebula_bench_clock_start     (NebulaBenchClock   *clock,
                                       guint               thread,
                                       guint               round);
void     nebula_bench_clock_stop      (NebulaBenchClock   *clock,
                                       guint               thread,
                                       guint               round);
/* Minimum and median time per operation of the rounds, @ops operations
 * per round, and in @at_once how many threads ran at once in the
 * fastest round. */
void     nebula_bench_clock_summarize (NebulaBenchClock   *clock,
                                       guint64             ops,
                                       double             *min,
                                       double             *median,
                                       double             *at_once);

/* Runs @func on each of @n_threads workers (an array of @worker_size
 * bytes each) and returns when all are done. One runs on the calling
 * thread. Several each get a new thread, pinned to a CPU of its own
 * when the calling thread may use that many: left to the scheduler,
 * two threads started on a busy two-core machine often shared one core
 * for a whole run and took turns, which read as twice the time per
 * operation, or as half when only one thread's turn was timed. */
void     nebula_bench_run_threads     (guint               n_threads,
                                       GThreadFunc         func,
                                       gpointer            workers,
                                       gsize               worker_size);

G_END_DECLS
