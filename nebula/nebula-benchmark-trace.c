/* nebula-benchmark-trace.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "nebula-benchmark-private.h"

/* A pass holds at least this many operations (or all of them, if fewer
 * are asked for) and is replayed as often as needed: long enough that the
 * branch predictor cannot learn it, short enough to stay in the L2 cache. */
#define TRACE_OPS_TARGET 16384

typedef struct
{
  guint64  state;
  GArray  *arena;
  GArray  *individual;
  guint64  ops;
  gsize    max_size;
  gsize    batch_bytes;
  gsize    max_batch_bytes;
  guint    live;
  guint    max_live;
  /* what is live, so the end of a batch can release it */
  guint32  live_size[NEBULA_BENCH_MAX_SLOTS];
  guint8   live_shift[NEBULA_BENCH_MAX_SLOTS];
  gboolean is_live[NEBULA_BENCH_MAX_SLOTS];
} Builder;

/* splitmix64: good enough, and identical on every platform. */
static guint64
next_random (Builder *b)
{
  guint64 z = (b->state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Uniform in [low, high]. */
static guint32
uniform (Builder *b,
         guint32  low,
         guint32  high)
{
  return low + (guint32) (next_random (b) % ((guint64) high - low + 1));
}

static void
push_both (Builder      *b,
           NebulaBenchOp op)
{
  g_array_append_val (b->arena, op);
  g_array_append_val (b->individual, op);
}

static void
emit_alloc (Builder *b,
            guint    slot,
            guint32  size,
            guint    shift)
{
  NebulaBenchOp op = { size, (guint16) slot, NEBULA_BENCH_OP_ALLOC, (guint8) shift };

  g_assert (slot < NEBULA_BENCH_MAX_SLOTS && !b->is_live[slot]);
  push_both (b, op);
  b->ops++;
  b->max_size = MAX (b->max_size, size);
  b->batch_bytes += ((size + ((gsize) 1 << shift) - 1) & ~(((gsize) 1 << shift) - 1)) +
                    ((gsize) 1 << shift);
  b->live_size[slot] = size;
  b->live_shift[slot] = shift;
  b->is_live[slot] = TRUE;
  b->live++;
  b->max_live = MAX (b->max_live, b->live);
}

static void
emit_free (Builder *b,
           guint    slot)
{
  NebulaBenchOp op = { b->live_size[slot], (guint16) slot, NEBULA_BENCH_OP_FREE, b->live_shift[slot] };

  g_assert (b->is_live[slot]);
  push_both (b, op);
  b->ops++;
  b->is_live[slot] = FALSE;
  b->live--;
}

/* Ends a batch: the arena rendering resets, the individual one frees what
 * is live first. Neither counts as an operation. */
static void
end_batch (Builder *b)
{
  NebulaBenchOp reset = { 0, 0, NEBULA_BENCH_OP_RESET, 0 };

  for (guint slot = NEBULA_BENCH_MAX_SLOTS; slot-- > 0;)
    if (b->is_live[slot])
      {
        NebulaBenchOp op = { b->live_size[slot], (guint16) slot, NEBULA_BENCH_OP_FREE,
                             b->live_shift[slot] };

        g_array_append_val (b->individual, op);
        b->is_live[slot] = FALSE;
      }
  b->live = 0;

  g_array_append_val (b->arena, reset);
  g_array_append_val (b->individual, reset);
  b->max_batch_bytes = MAX (b->max_batch_bytes, b->batch_bytes);
  b->batch_bytes = 0;
}

static void
batch_small_mixed (Builder *b)
{
  for (guint i = 0; i < 256; i++)
    emit_alloc (b, i, uniform (b, 8, 128), 3);
}

static void
batch_fixed_64 (Builder *b)
{
  for (guint i = 0; i < 64; i++)
    emit_alloc (b, i, 64, 3);

  for (guint i = 0; i < 448; i++)
    {
      guint slot = uniform (b, 0, 63);

      emit_free (b, slot);
      emit_alloc (b, slot, 64, 3);
    }
}

static void
batch_lifo_frames (Builder *b)
{
  guint frame_sizes[8];
  guint depth = 0;

  for (guint step = 0; step < 128 || depth > 0; step++)
    {
      gboolean push = step < 128 && depth < 8 && (depth == 0 || uniform (b, 0, 1) == 0);

      if (push)
        {
          guint n = uniform (b, 1, 8);

          frame_sizes[depth++] = n;
          for (guint i = 0; i < n; i++)
            emit_alloc (b, b->live, uniform (b, 16, 256), 4);
        }
      else
        {
          for (guint n = frame_sizes[--depth]; n > 0; n--)
            emit_free (b, b->live - 1);
        }
    }
}

static void
batch_request_response (Builder *b)
{
  for (guint request = 0; request < 16; request++)
    {
      guint n_small = uniform (b, 4, 12);
      guint slot = 0;

      emit_alloc (b, slot++, 256, 3);
      emit_alloc (b, slot++, uniform (b, 64, 2048), 3);
      for (guint i = 0; i < n_small; i++)
        emit_alloc (b, slot++, uniform (b, 16, 128), 3);
      emit_alloc (b, slot++, uniform (b, 256, 4096), 4);

      /* The request is answered: everything goes, newest first. */
      while (slot-- > 0)
        emit_free (b, slot);
    }
}

static void
batch_mixed_lifetimes (Builder *b)
{
  /* due[t]: the slots to free before allocation t. */
  GPtrArray *due[256] = { NULL, };

  for (guint t = 0; t < 256; t++)
    {
      guint percent = uniform (b, 0, 99);
      guint lifetime;

      if (due[t] != NULL)
        {
          for (guint i = 0; i < due[t]->len; i++)
            emit_free (b, GPOINTER_TO_UINT (g_ptr_array_index (due[t], i)));
          g_ptr_array_free (due[t], TRUE);
        }

      emit_alloc (b, t, uniform (b, 16, 256), 3);

      if (percent < 60)
        lifetime = uniform (b, 1, 4);
      else if (percent < 90)
        lifetime = uniform (b, 16, 64);
      else
        continue; /* lives until the reset */

      if (t + lifetime < 256)
        {
          if (due[t + lifetime] == NULL)
            due[t + lifetime] = g_ptr_array_new ();
          g_ptr_array_add (due[t + lifetime], GUINT_TO_POINTER (t));
        }
    }
}

/* One request of a server: 50 to 500 allocations of mostly small sizes,
 * all released by the reset at its end. */
static void
batch_request_arena (Builder *b)
{
  guint n = uniform (b, 50, 500);

  for (guint i = 0; i < n; i++)
    {
      guint percent = uniform (b, 0, 99);
      guint32 size;

      if (percent < 50)
        size = uniform (b, 8, 32);
      else if (percent < 80)
        size = uniform (b, 33, 128);
      else if (percent < 95)
        size = uniform (b, 129, 512);
      else
        size = uniform (b, 513, 2048);

      /* Within the 64 KiB a batch may take (alignment padding counted). */
      if (b->batch_bytes + size + 16 > 60 * 1024)
        break;
      emit_alloc (b, i, size, 3);
    }
}

/* larson: sizes of 8 to 999 bytes, a fixed number of live blocks, random
 * frees, each replaced at once by a block of a new random size, until the
 * batch would pass 60 KiB (what a bump allocator holds by default). */
static void
batch_larson (Builder *b)
{
  for (guint i = 0; i < 32; i++)
    emit_alloc (b, i, uniform (b, 8, 999), 3);

  for (;;)
    {
      guint slot = uniform (b, 0, 31);
      guint32 size = uniform (b, 8, 999);

      if (b->batch_bytes + size + 16 > 60 * 1024)
        break;
      emit_free (b, slot);
      emit_alloc (b, slot, size, 3);
    }
}

/* What one thread alone does with a producer/consumer batch: allocate
 * it, then free it in the same order (see NebulaBenchHandoff). */
static void
batch_producer_consumer (Builder *b)
{
  for (guint i = 0; i < NEBULA_BENCH_HANDOFF_BATCH; i++)
    emit_alloc (b, i, NEBULA_BENCH_HANDOFF_SIZE, 3);
  for (guint i = 0; i < NEBULA_BENCH_HANDOFF_BATCH; i++)
    emit_free (b, i);
}

void
nebula_bench_trace_init (NebulaBenchTrace    *trace,
                         NebulaBenchWorkload  workload,
                         guint64              seed,
                         guint64              min_ops,
                         guint                n_batches)
{
  Builder *b = g_new0 (Builder, 1);
  guint64 target = MIN (MAX (min_ops, 1), TRACE_OPS_TARGET);

  g_return_if_fail (workload < NEBULA_BENCH_N_WORKLOADS);

  b->state = seed ^ ((guint64) workload << 56);
  b->arena = g_array_new (FALSE, FALSE, sizeof (NebulaBenchOp));
  b->individual = g_array_new (FALSE, FALSE, sizeof (NebulaBenchOp));

  memset (trace, 0, sizeof *trace);
  trace->workload = workload;

  while (n_batches != 0 ? trace->n_batches < n_batches : b->ops < target)
    {
      switch (workload)
        {
        case NEBULA_BENCH_SMALL_MIXED:
          batch_small_mixed (b);
          break;
        case NEBULA_BENCH_FIXED_64:
          batch_fixed_64 (b);
          break;
        case NEBULA_BENCH_LIFO_FRAMES:
          batch_lifo_frames (b);
          break;
        case NEBULA_BENCH_REQUEST_RESPONSE:
          batch_request_response (b);
          break;
        case NEBULA_BENCH_REQUEST_ARENA:
          batch_request_arena (b);
          break;
        case NEBULA_BENCH_PRODUCER_CONSUMER:
          batch_producer_consumer (b);
          break;
        case NEBULA_BENCH_LARSON:
          batch_larson (b);
          break;
        case NEBULA_BENCH_MIXED_LIFETIMES:
        case NEBULA_BENCH_N_WORKLOADS:
        default:
          batch_mixed_lifetimes (b);
          break;
        }
      end_batch (b);
      trace->n_batches++;
    }

  trace->ops = b->ops;
  trace->max_size = b->max_size;
  trace->max_batch_bytes = b->max_batch_bytes;
  trace->max_live = b->max_live;
  /* A pair holds up to a ring of batches at once, and as many again may
   * wait in an allocator's per-thread caches between the two threads. */
  if (workload == NEBULA_BENCH_PRODUCER_CONSUMER)
    trace->max_live = 2 * NEBULA_BENCH_HANDOFF_DEPTH * NEBULA_BENCH_HANDOFF_BATCH;
  trace->n_arena = b->arena->len;
  trace->arena = (NebulaBenchOp *) (gpointer) g_array_free (b->arena, FALSE);
  trace->n_individual = b->individual->len;
  trace->individual = (NebulaBenchOp *) (gpointer) g_array_free (b->individual, FALSE);
  g_free (b);
}

void
nebula_bench_trace_clear (NebulaBenchTrace *trace)
{
  g_clear_pointer (&trace->arena, g_free);
  g_clear_pointer (&trace->individual, g_free);
}

const char *
nebula_bench_workload_name (NebulaBenchWorkload workload)
{
  static const char * const names[] = {
    "small-mixed", "fixed-64", "lifo-frames", "request-response", "mixed-lifetimes",
    "request-arena", "producer-consumer", "larson",
  };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == NEBULA_BENCH_N_WORKLOADS);

  g_return_val_if_fail (workload < NEBULA_BENCH_N_WORKLOADS, NULL);
  return names[workload];
}

/* Spins (then yields) while *@counter is @value; FALSE once *@aborted is
 * set. Spinning, because on two cores a futex round trip would dominate
 * the work between two waits; yielding, because with more threads than
 * free cores the thread being waited for needs this one's core. */
static gboolean
wait_while_equal (const guint *counter,
                  guint        value,
                  const gint  *aborted)
{
  guint spins = 0;

  while (__atomic_load_n (counter, __ATOMIC_ACQUIRE) == value)
    {
      if (__atomic_load_n (aborted, __ATOMIC_ACQUIRE))
        return FALSE;
      if (++spins > 256)
        sched_yield ();
    }

  return TRUE;
}

void
nebula_bench_barrier_init (NebulaBenchBarrier *barrier,
                           guint               n_threads)
{
  barrier->n_threads = n_threads;
  barrier->waiting = 0;
  barrier->generation = 0;
  barrier->aborted = 0;
}

gboolean
nebula_bench_barrier_wait (NebulaBenchBarrier *barrier)
{
  guint generation = __atomic_load_n (&barrier->generation, __ATOMIC_ACQUIRE);

  if (__atomic_load_n (&barrier->aborted, __ATOMIC_ACQUIRE))
    return FALSE;

  if (__atomic_add_fetch (&barrier->waiting, 1, __ATOMIC_ACQ_REL) == barrier->n_threads)
    {
      __atomic_store_n (&barrier->waiting, 0, __ATOMIC_RELAXED);
      __atomic_add_fetch (&barrier->generation, 1, __ATOMIC_RELEASE);
      return TRUE;
    }

  return wait_while_equal (&barrier->generation, generation, &barrier->aborted);
}

void
nebula_bench_barrier_abort (NebulaBenchBarrier *barrier)
{
  __atomic_store_n (&barrier->aborted, 1, __ATOMIC_RELEASE);
}

void
nebula_bench_handoff_init (NebulaBenchHandoff *handoff)
{
  memset (handoff, 0, sizeof *handoff);
}

gboolean
nebula_bench_handoff_wait (NebulaBenchHandoff *handoff,
                           const guint        *counter,
                           guint               value)
{
  return wait_while_equal (counter, value, &handoff->aborted);
}

void
nebula_bench_handoff_abort (NebulaBenchHandoff *handoff)
{
  __atomic_store_n (&handoff->aborted, 1, __ATOMIC_RELEASE);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

void
nebula_bench_summarize (double *values,
                        guint   n,
                        double *min,
                        double *median)
{
  g_return_if_fail (n > 0);

  qsort (values, n, sizeof *values, compare_doubles);
  *min = values[0];
  *median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}
