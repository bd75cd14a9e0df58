/* nebula-fastpath-driver.c: a small, deterministic driver for counting the
 * instructions of the allocation fast paths under Valgrind:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out \
 *     _build-release/tools/nebula-fastpath-driver [no-stats]
 *   callgrind_annotate --inclusive=yes cg.out | grep run_
 *
 * With `--time ROUNDS` it runs each loop ROUNDS times instead and prints
 * the fastest round's nanoseconds per operation, one loop per line, so
 * that two builds can be timed with the same harness
 * (tools/compare-revisions.sh --driver).
 *
 * Each run_* function allocates 64 bytes (alignment 8) N times, writing
 * one byte, with a reset every 512 allocations; Ir of run_x / N is the
 * cost of one allocation plus the loop around it (run_floor_inline has
 * the loop and a trivial bump, so the difference is the allocator's).
 * run_bump_ts_interface runs run_bump_interface's loop on a thread-safe
 * bump allocator (one thread); run_bump_own_two_threads and
 * run_bump_shared_two_threads run it on two threads (see
 * DEFINE_TWO_THREAD below: count two_own_thread and two_shared_thread).
 *
 * The churn_* functions keep 64 live 64-byte blocks and N times free one
 * (in a scattered order) and allocate its replacement, a pool's workload
 * (Ir / N is one free plus one allocation); the frames_* functions push
 * four blocks of 16..64 bytes and pop them again, N / 4 times (Ir / N is
 * one push plus one pop). The requests_* functions open a bump scope or a
 * stack frame, allocate 16 blocks of 16..128 bytes and close it, N / 16
 * times (Ir / N is one allocation plus a 16th of the scope or frame).
 * prodcons_produce and prodcons_consume run on two threads over one
 * thread-safe pool (the default configuration, 2048 blocks of 64 bytes,
 * as nebula-bench's producer-consumer pool): the first allocates N / 2
 * blocks and hands them over in batches of PRODCONS_BATCH through a ring
 * of PRODCONS_DEPTH batches, the second frees them (see
 * DEFINE_PRODCONS below). Under Valgrind the two take turns, so a side
 * waits in prodcons_wait(): (Ir of both minus prodcons_wait's) / (N / 2)
 * is one allocation on one thread plus one free on the other.
 * churn_pool_ts_interface runs the churn loop on a thread-safe pool (one
 * thread); the mixed_* functions run it with sizes of 8 to 999 bytes on a
 * multi-pool, thread-safe (its default) and not.
 *
 * The cache_hit_* functions look up N times, in turn, CACHE_KEYS keys all
 * held by an LRU compute cache (default shards): cache_hit_int through
 * get_or_compute_int(), cache_hit_variant through get_or_compute() with
 * int64 GVariant keys built once and one GObject value (each hit's new
 * reference dropped), cache_hit_variant_new_key the same with a new
 * floating key per call (what the bindings pass). Ir / N is one hit plus
 * the loop.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nebula.h>

#include "nebula-bench-floor.h"

#define N       (1024 * 1024)
#define BATCH   512

static G_NO_INLINE guint64
run_floor_inline (gpointer data)
{
  NebulaBenchFloor *floor = data;
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
run_floor_call (gpointer data)
{
  NebulaBenchFloor *floor = data;
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
run_bump_inline (gpointer data)
{
  NebulaBumpAllocator *bump = data;
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

/* One allocation through the interface per iteration: run_bump_interface
 * on a plain bump allocator, run_bump_ts_interface on a thread-safe one
 * (one thread). noipa keeps GCC from folding the two into one (then one
 * name would carry both rows' instructions). */
#define DEFINE_RUN_INTERFACE(name)                                                \
  __attribute__ ((noipa)) static G_NO_INLINE guint64                              \
  name (gpointer data)                                                            \
  {                                                                               \
    NebulaAllocator *bump = data;                                                 \
    guint64 sum = 0;                                                              \
                                                                                  \
    for (guint i = 0; i < N; i++)                                                 \
      {                                                                           \
        guint8 *p = nebula_allocator_allocate (bump, 64, 8, NULL);                \
                                                                                  \
        *p = (guint8) i;                                                          \
        sum += GPOINTER_TO_SIZE (p);                                              \
        if (i % BATCH == BATCH - 1)                                               \
          nebula_allocator_reset (bump);                                          \
      }                                                                           \
    return sum;                                                                   \
  }

DEFINE_RUN_INTERFACE (run_bump_interface)
DEFINE_RUN_INTERFACE (run_bump_ts_interface)

/* Two threads, each allocating N / 2 times through the interface (64
 * bytes, alignment 8), with a reset per round of ROUND_ALLOCS allocations
 * per thread while both wait: two_own_thread on a plain bump allocator of
 * its own, two_shared_thread on one thread-safe bump allocator the two
 * share (thread 0 resets it). Ir of two_x_thread (both calls) / N is one
 * allocation of one thread plus the loop and a share of the round's
 * reset and barrier. */
#define ROUND_ALLOCS 16384

typedef struct
{
  NebulaAllocator *bump[2];     /* the same one twice when shared */
  gboolean         shared;
  GMutex           lock;
  GCond            cond;
  guint            waiting;
  guint            generation;
} TwoThreads;

static void
two_wait (TwoThreads *two)
{
  guint generation;

  g_mutex_lock (&two->lock);
  generation = two->generation;
  if (++two->waiting == 2)
    {
      two->waiting = 0;
      two->generation++;
      g_cond_broadcast (&two->cond);
    }
  while (generation == two->generation)
    g_cond_wait (&two->cond, &two->lock);
  g_mutex_unlock (&two->lock);
}

#define DEFINE_TWO_THREAD(name)                                                   \
  __attribute__ ((noipa)) static G_NO_INLINE guint64                              \
  name (TwoThreads *two,                                                          \
        guint       index)                                                        \
  {                                                                               \
    NebulaAllocator *bump = two->bump[index];                                     \
    guint64 sum = 0;                                                              \
                                                                                  \
    for (guint i = 0; i < N / 2; i++)                                             \
      {                                                                           \
        guint8 *p = nebula_allocator_allocate (bump, 64, 8, NULL);                \
                                                                                  \
        *p = (guint8) i;                                                          \
        sum += GPOINTER_TO_SIZE (p);                                              \
        if (i % ROUND_ALLOCS == ROUND_ALLOCS - 1)                                 \
          {                                                                       \
            two_wait (two);                                                       \
            if (index == 0 || !two->shared)                                       \
              nebula_allocator_reset (bump);                                      \
            two_wait (two);                                                       \
          }                                                                       \
      }                                                                           \
    return sum;                                                                   \
  }

DEFINE_TWO_THREAD (two_own_thread)
DEFINE_TWO_THREAD (two_shared_thread)

static gpointer
two_second_thread (gpointer data)
{
  TwoThreads *two = data;
  guint64 sum = two->shared ? two_shared_thread (two, 1) : two_own_thread (two, 1);

  return GSIZE_TO_POINTER ((gsize) sum);
}

static guint64
run_two_threads (TwoThreads *two)
{
  GThread *second = g_thread_new ("two-threads", two_second_thread, two);
  guint64 sum = two->shared ? two_shared_thread (two, 0) : two_own_thread (two, 0);

  return sum + GPOINTER_TO_SIZE (g_thread_join (second));
}

static guint64
run_bump_own_two_threads (gpointer data)
{
  return run_two_threads (data);
}

static guint64
run_bump_shared_two_threads (gpointer data)
{
  return run_two_threads (data);
}

/* Room for a round of each thread's (a quarter more when shared, for the
 * slice ends the threads leave behind each other). */
static void
two_threads_init (TwoThreads *two,
                  gboolean    shared,
                  gboolean    stats)
{
  guint64 round = (guint64) ROUND_ALLOCS * 64;

  memset (two, 0, sizeof *two);
  g_mutex_init (&two->lock);
  g_cond_init (&two->cond);
  two->shared = shared;
  for (guint t = 0; t < 2; t++)
    two->bump[t] = t == 1 && shared
      ? g_object_ref (two->bump[0])
      : g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, NULL, "thread-safe", shared,
                        "track-stats", stats, "capacity", shared ? 4 * round : 2 * round, NULL);
}

static void
two_threads_clear (TwoThreads *two)
{
  g_object_unref (two->bump[0]);
  g_object_unref (two->bump[1]);
  g_mutex_clear (&two->lock);
  g_cond_clear (&two->cond);
}

#define LIVE 64

/* What the churn and frames loops call: one set per path. */
#define DEFINE_CHURN(name, Type, alloc_expr, free_expr)                           \
  static G_NO_INLINE guint64                                                      \
  name (gpointer data)                                                            \
  {                                                                               \
    G_GNUC_UNUSED Type *self = data;                                              \
    guint8 *live[LIVE];                                                           \
    guint64 sum = 0;                                                              \
                                                                                  \
    for (guint i = 0; i < LIVE; i++)                                              \
      live[i] = alloc_expr;                                                       \
    for (guint i = 0; i < N; i++)                                                 \
      {                                                                           \
        guint slot = (i * 37) % LIVE;                                             \
        guint8 *p = live[slot];                                                   \
                                                                                  \
        free_expr;                                                                \
        p = live[slot] = alloc_expr;                                              \
        *p = (guint8) i;                                                          \
        sum += GPOINTER_TO_SIZE (p);                                              \
      }                                                                           \
    for (guint i = 0; i < LIVE; i++)                                              \
      {                                                                           \
        guint8 *p = live[i];                                                      \
                                                                                  \
        free_expr;                                                                \
      }                                                                           \
    return sum;                                                                   \
  }

DEFINE_CHURN (churn_free_list_inline, NebulaBenchFreeList,
              nebula_bench_free_list_alloc_inline (self),
              nebula_bench_free_list_free_inline (self, p))
DEFINE_CHURN (churn_free_list_call, NebulaBenchFreeList,
              nebula_bench_free_list_alloc (self, 64, 8),
              nebula_bench_free_list_free (self, p, 64, 8))
DEFINE_CHURN (churn_pool_inline, NebulaPoolAllocator,
              nebula_pool_allocator_alloc (self, 64, 8, NULL),
              nebula_pool_allocator_free (self, p, 64, 8, NULL))
DEFINE_CHURN (churn_pool_interface, NebulaAllocator,
              nebula_allocator_allocate (self, 64, 8, NULL),
              nebula_allocator_deallocate (self, p, 64, 8, NULL))
/* The same two paths with the PERFORMANCE preset, and the System
 * allocator (default, check-frees off) and malloc itself. noipa keeps
 * GCC from folding the identical functions into one (then one name
 * would carry the instructions of several rows). */
__attribute__ ((noipa))
DEFINE_CHURN (churn_pool_perf_inline, NebulaPoolAllocator,
              nebula_pool_allocator_alloc (self, 64, 8, NULL),
              nebula_pool_allocator_free (self, p, 64, 8, NULL))
__attribute__ ((noipa))
DEFINE_CHURN (churn_pool_perf_interface, NebulaAllocator,
              nebula_allocator_allocate (self, 64, 8, NULL),
              nebula_allocator_deallocate (self, p, 64, 8, NULL))
__attribute__ ((noipa))
DEFINE_CHURN (churn_system_interface, NebulaAllocator,
              nebula_allocator_allocate (self, 64, 8, NULL),
              nebula_allocator_deallocate (self, p, 64, 8, NULL))
__attribute__ ((noipa))
DEFINE_CHURN (churn_system_unchecked_interface, NebulaAllocator,
              nebula_allocator_allocate (self, 64, 8, NULL),
              nebula_allocator_deallocate (self, p, 64, 8, NULL))
/* The System allocator with check-frees, thread-safe off: the table
 * without its lock, plain counters (nebula-bench's system-st). */
__attribute__ ((noipa))
DEFINE_CHURN (churn_system_st_interface, NebulaAllocator,
              nebula_allocator_allocate (self, 64, 8, NULL),
              nebula_allocator_deallocate (self, p, 64, 8, NULL))
/* A thread-safe pool (one thread): its magazines' direct path. */
__attribute__ ((noipa))
DEFINE_CHURN (churn_pool_ts_interface, NebulaAllocator,
              nebula_allocator_allocate (self, 64, 8, NULL),
              nebula_allocator_deallocate (self, p, 64, 8, NULL))
__attribute__ ((noipa))
DEFINE_CHURN (churn_malloc, void,
              malloc (64),
              free (p))
/* The System allocator's floor: the same behind one exported call each. */
__attribute__ ((noipa))
DEFINE_CHURN (churn_malloc_call, void,
              nebula_bench_floor_malloc (64, 8),
              nebula_bench_floor_malloc_free (p, 64, 8))

/* The churn loop with sizes of 8 to 999 bytes (as the larson workload),
 * each block freed with its own size: the multi-pool's classes. */
#define DEFINE_MIXED(name)                                                        \
  __attribute__ ((noipa)) static G_NO_INLINE guint64                              \
  name (gpointer data)                                                            \
  {                                                                               \
    NebulaAllocator *self = data;                                                 \
    guint8 *live[LIVE];                                                           \
    gsize sizes[LIVE];                                                            \
    guint64 sum = 0;                                                              \
                                                                                  \
    for (guint i = 0; i < LIVE; i++)                                              \
      {                                                                           \
        sizes[i] = 8 + (i * 7919) % 992;                                          \
        live[i] = nebula_allocator_allocate (self, sizes[i], 8, NULL);            \
      }                                                                           \
    for (guint i = 0; i < N; i++)                                                 \
      {                                                                           \
        guint slot = (i * 37) % LIVE;                                             \
        guint8 *p;                                                                \
                                                                                  \
        nebula_allocator_deallocate (self, live[slot], sizes[slot], 8, NULL);     \
        sizes[slot] = 8 + (i * 7919) % 992;                                       \
        p = live[slot] = nebula_allocator_allocate (self, sizes[slot], 8, NULL);  \
        *p = (guint8) i;                                                          \
        sum += GPOINTER_TO_SIZE (p);                                              \
      }                                                                           \
    for (guint i = 0; i < LIVE; i++)                                              \
      nebula_allocator_deallocate (self, live[i], sizes[i], 8, NULL);             \
    return sum;                                                                   \
  }

DEFINE_MIXED (mixed_multipool_interface)
DEFINE_MIXED (mixed_multipool_st_interface)

#define DEFINE_FRAMES(name, Type, alloc_expr, free_expr)                          \
  static G_NO_INLINE guint64                                                      \
  name (gpointer data)                                                            \
  {                                                                               \
    Type *self = data;                                                            \
    guint8 *frame[4];                                                             \
    guint64 sum = 0;                                                              \
                                                                                  \
    for (guint i = 0; i < N / 4; i++)                                             \
      {                                                                           \
        for (guint j = 0; j < 4; j++)                                             \
          {                                                                       \
            gsize size = 16 << j;                                                 \
            guint8 *p = frame[j] = alloc_expr;                                    \
                                                                                  \
            *p = (guint8) i;                                                      \
            sum += GPOINTER_TO_SIZE (p);                                          \
          }                                                                       \
        for (guint j = 4; j-- > 0;)                                               \
          {                                                                       \
            gsize size = 16 << j;                                                 \
            guint8 *p = frame[j];                                                 \
                                                                                  \
            free_expr;                                                            \
          }                                                                       \
      }                                                                           \
    return sum;                                                                   \
  }

DEFINE_FRAMES (frames_floor_inline, NebulaBenchFloor,
               nebula_bench_floor_alloc_inline (self, size, 8),
               nebula_bench_floor_free_inline (self, p, size))
DEFINE_FRAMES (frames_floor_call, NebulaBenchFloor,
               nebula_bench_floor_alloc (self, size, 8),
               nebula_bench_floor_free (self, p, size, 8))
DEFINE_FRAMES (frames_stack_inline, NebulaStackAllocator,
               nebula_stack_allocator_alloc (self, size, 8, NULL),
               nebula_stack_allocator_free (self, p, size, 8, NULL))
DEFINE_FRAMES (frames_stack_interface, NebulaAllocator,
               nebula_allocator_allocate (self, size, 8, NULL),
               nebula_allocator_deallocate (self, p, size, 8, NULL))

/* A scope or frame per request of REQUEST blocks of 16..128 bytes, freed
 * by closing it (the request-arena rows of nebula-bench): Ir / N is one
 * allocation plus a REQUEST-th of opening and closing. */
#define REQUEST 16
#define DEFINE_REQUESTS(name, Type, Scope, open_expr, alloc_expr, close_expr)    \
  static G_NO_INLINE guint64                                                      \
  name (gpointer data)                                                            \
  {                                                                               \
    Type *self = data;                                                            \
    guint64 sum = 0;                                                              \
                                                                                  \
    for (guint i = 0; i < N / REQUEST; i++)                                       \
      {                                                                           \
        Scope *scope = open_expr;                                                 \
                                                                                  \
        for (guint j = 0; j < REQUEST; j++)                                       \
          {                                                                       \
            gsize size = 16 << (j % 4);                                           \
            guint8 *p = alloc_expr;                                               \
                                                                                  \
            *p = (guint8) i;                                                      \
            sum += GPOINTER_TO_SIZE (p);                                          \
          }                                                                       \
        close_expr;                                                               \
      }                                                                           \
    return sum;                                                                   \
  }

DEFINE_REQUESTS (requests_bump_scope, NebulaBumpAllocator, NebulaBumpScope,
                 nebula_bump_scope_new (self),
                 nebula_bump_allocator_alloc (self, size, 8, NULL),
                 nebula_bump_scope_free (scope))
DEFINE_REQUESTS (requests_stack_frame, NebulaStackAllocator, NebulaStackFrame,
                 nebula_stack_frame_new (self),
                 nebula_stack_allocator_alloc (self, size, 8, NULL),
                 nebula_stack_frame_free (scope))

/* Producer/consumer: blocks allocated on one thread and freed on the
 * other, handed over in batches through a ring (nebula-bench's
 * producer-consumer, with a waiting function of its own to subtract). */
#define PRODCONS_BATCH 64
#define PRODCONS_DEPTH 8

typedef struct
{
  NebulaAllocator *pool;
  gpointer         ring[PRODCONS_DEPTH][PRODCONS_BATCH];
  guint            head __attribute__ ((aligned (64)));
  guint            tail __attribute__ ((aligned (64)));
} ProdCons;

static G_NO_INLINE void
prodcons_wait (const guint *counter,
               guint        value)
{
  while (__atomic_load_n (counter, __ATOMIC_ACQUIRE) == value)
    g_thread_yield ();
}

static G_NO_INLINE guint64
prodcons_produce (ProdCons *pc)
{
  guint64 sum = 0;

  for (guint head = 0; head < N / 2 / PRODCONS_BATCH; head++)
    {
      gpointer *slot = pc->ring[head % PRODCONS_DEPTH];

      if (head >= PRODCONS_DEPTH)
        prodcons_wait (&pc->tail, head - PRODCONS_DEPTH);
      for (guint i = 0; i < PRODCONS_BATCH; i++)
        {
          guint8 *p = nebula_allocator_allocate (pc->pool, 64, 8, NULL);

          *p = (guint8) i;
          sum += GPOINTER_TO_SIZE (p);
          slot[i] = p;
        }
      __atomic_store_n (&pc->head, head + 1, __ATOMIC_RELEASE);
    }
  return sum;
}

static G_NO_INLINE guint64
prodcons_consume (ProdCons *pc)
{
  guint64 sum = 0;

  for (guint tail = 0; tail < N / 2 / PRODCONS_BATCH; tail++)
    {
      gpointer *slot = pc->ring[tail % PRODCONS_DEPTH];

      prodcons_wait (&pc->head, tail);
      for (guint i = 0; i < PRODCONS_BATCH; i++)
        {
          guint8 *p = slot[i];

          sum += p[0];
          nebula_allocator_deallocate (pc->pool, p, 64, 8, NULL);
        }
      __atomic_store_n (&pc->tail, tail + 1, __ATOMIC_RELEASE);
    }
  return sum;
}

static gpointer
prodcons_consumer_thread (gpointer data)
{
  return GSIZE_TO_POINTER ((gsize) prodcons_consume (data));
}

static guint64
run_pool_ts_producer_consumer (gpointer data)
{
  ProdCons *pc = data;
  GThread *consumer;
  guint64 sum;

  pc->head = pc->tail = 0;
  consumer = g_thread_new ("consumer", prodcons_consumer_thread, pc);
  sum = prodcons_produce (pc);
  return sum + GPOINTER_TO_SIZE (g_thread_join (consumer));
}

/* Compute-cache hits (both computes run only while filling). */
#define CACHE_KEYS 1000

typedef struct
{
  NebulaComputeCache *ints;
  NebulaComputeCache *variants;
  GVariant           *keys[CACHE_KEYS];
  GObject            *value;
} CacheHits;

static gpointer
cache_int_identity (gint64    key,
                    gpointer  user_data,
                    GError  **error)
{
  return GSIZE_TO_POINTER ((gsize) key + 1);
}

static GObject *
cache_shared_value (GVariant  *key,
                    gpointer   user_data,
                    GError   **error)
{
  return g_object_ref (user_data);
}

static G_NO_INLINE guint64
cache_hit_int (gpointer data)
{
  CacheHits *hits = data;
  guint64 sum = 0;

  for (guint i = 0; i < N; i++)
    sum += GPOINTER_TO_SIZE (nebula_compute_cache_get_or_compute_int (hits->ints, i % CACHE_KEYS,
                                                                      cache_int_identity,
                                                                      NULL, NULL));
  return sum;
}

/* The GVariant hits: held keys, or a new floating key per call (what the
 * bindings pass: the key's construction and release are in the count). */
G_ALWAYS_INLINE static inline guint64
cache_hit_variant_keys (CacheHits *hits,
                        gboolean   new_keys)
{
  guint64 sum = 0;

  for (guint i = 0; i < N; i++)
    {
      GVariant *key = new_keys ? g_variant_new_int64 (i % CACHE_KEYS) : hits->keys[i % CACHE_KEYS];
      GObject *value = nebula_compute_cache_get_or_compute (hits->variants, key,
                                                            cache_shared_value, hits->value,
                                                            NULL);

      sum += GPOINTER_TO_SIZE (value);
      g_object_unref (value);
    }
  return sum;
}

static G_NO_INLINE guint64
cache_hit_variant (gpointer data)
{
  return cache_hit_variant_keys (data, FALSE);
}

static G_NO_INLINE guint64
cache_hit_variant_new_key (gpointer data)
{
  return cache_hit_variant_keys (data, TRUE);
}

static void
cache_hits_init (CacheHits *hits)
{
  hits->ints = nebula_compute_cache_new_for_ints (NULL, "max-entries", 2 * CACHE_KEYS, NULL);
  hits->variants = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 2 * CACHE_KEYS);
  hits->value = g_object_new (G_TYPE_OBJECT, NULL);
  for (guint k = 0; k < CACHE_KEYS; k++)
    {
      g_autoptr(GObject) value = NULL;

      hits->keys[k] = g_variant_ref_sink (g_variant_new_int64 (k));
      nebula_compute_cache_get_or_compute_int (hits->ints, k, cache_int_identity, NULL, NULL);
      value = nebula_compute_cache_get_or_compute (hits->variants, hits->keys[k],
                                                   cache_shared_value, hits->value, NULL);
    }
}

static void
cache_hits_clear (CacheHits *hits)
{
  for (guint k = 0; k < CACHE_KEYS; k++)
    g_variant_unref (hits->keys[k]);
  g_object_unref (hits->ints);
  g_object_unref (hits->variants);
  g_object_unref (hits->value);
}

typedef guint64 (*LoopFunc) (gpointer data);

/* 0: run each loop once (for callgrind); else how many times to time it. */
static guint rounds;

static guint64
run_loop (const char *name,
          LoopFunc    loop,
          gpointer    data)
{
  guint64 sum = 0;
  gint64 best = G_MAXINT64;

  if (rounds == 0)
    return loop (data);

  for (guint r = 0; r < rounds; r++)
    {
      struct timespec start, end;
      gint64 ns;

      clock_gettime (CLOCK_MONOTONIC, &start);
      sum += loop (data);
      clock_gettime (CLOCK_MONOTONIC, &end);
      ns = (end.tv_sec - start.tv_sec) * G_GINT64_CONSTANT (1000000000) +
           (end.tv_nsec - start.tv_nsec);
      best = MIN (best, ns);
    }
  g_print ("%s %.3f\n", name, (double) best / N);
  return sum;
}

#define RUN(loop, data) run_loop (#loop, loop, data)

int
main (int   argc,
      char *argv[])
{
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (64 * 1024, NULL);
  g_autoptr(NebulaBumpAllocator) quiet = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, NULL,
                                                         "track-stats", FALSE, NULL);
  guint8 *buffer = g_malloc (64 * BATCH + 64);
  NebulaBenchFloor floor = { buffer, buffer + 64 * BATCH + 64, buffer };
  gboolean stats = TRUE;
  guint64 sum = 0;

  /* [no-stats] [--time ROUNDS] */
  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--time") && i + 1 < argc)
        rounds = (guint) g_ascii_strtoull (argv[++i], NULL, 10);
      else
        stats = FALSE;
    }

  sum += RUN (run_floor_inline, &floor);
  sum += RUN (run_floor_call, &floor);
  /* no-stats: the bump allocator without statistics. */
  if (!stats)
    g_set_object (&bump, quiet);
  sum += RUN (run_bump_inline, bump);
  sum += RUN (run_bump_interface, bump);
  {
    g_autoptr(NebulaBumpAllocator) shared = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, NULL,
                                                            "thread-safe", TRUE,
                                                            "track-stats", stats, NULL);

    sum += RUN (run_bump_ts_interface, shared);
  }
  {
    TwoThreads own, shared;

    two_threads_init (&own, FALSE, stats);
    two_threads_init (&shared, TRUE, stats);
    sum += RUN (run_bump_own_two_threads, &own);
    sum += RUN (run_bump_shared_two_threads, &shared);
    two_threads_clear (&own);
    two_threads_clear (&shared);
  }

  {
    guint8 *blocks = g_malloc (64 * (LIVE + 1));
    NebulaBenchFreeList list = { NULL, blocks, blocks + 64 * (LIVE + 1), blocks, 64 };
    NebulaBenchFloor frames = { buffer, buffer + 64 * BATCH + 64, buffer };
    g_autoptr(NebulaPoolAllocator) pool = NULL;
    g_autoptr(NebulaStackAllocator) stack = NULL;

    /* no-stats: both without statistics, as the bump allocator. */
    pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, NULL, "block-size", (guint64) 64,
                           "block-count", (guint64) LIVE, "track-stats", stats, NULL);
    stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, NULL, "track-stats", stats, NULL);

    sum += RUN (churn_free_list_inline, &list);
    sum += RUN (churn_free_list_call, &list);
    sum += RUN (churn_pool_inline, pool);
    sum += RUN (churn_pool_interface, pool);
    {
      g_autoptr(NebulaPoolAllocator) perf = NULL;
      g_autoptr(NebulaSystemAllocator) system = NULL;
      g_autoptr(NebulaSystemAllocator) unchecked = NULL;
      g_autoptr(NebulaSystemAllocator) system_st = NULL;

      perf = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, NULL, "block-size", (guint64) 64,
                             "block-count", (guint64) LIVE, "preset", NEBULA_PRESET_PERFORMANCE,
                             NULL);
      system = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, NULL, "track-stats", stats,
                               NULL);
      unchecked = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, NULL,
                                  "track-stats", stats, "check-frees", FALSE, NULL);
      system_st = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, NULL,
                                  "track-stats", stats, "thread-safe", FALSE, NULL);
      sum += RUN (churn_pool_perf_inline, perf);
      sum += RUN (churn_pool_perf_interface, perf);
      sum += RUN (churn_system_interface, system);
      sum += RUN (churn_system_unchecked_interface, unchecked);
      sum += RUN (churn_system_st_interface, system_st);
      sum += RUN (churn_malloc, NULL);
      sum += RUN (churn_malloc_call, NULL);
    }
    {
      g_autoptr(NebulaPoolAllocator) shared = NULL;
      g_autoptr(NebulaMultiPoolAllocator) multi = NULL;
      g_autoptr(NebulaMultiPoolAllocator) multi_st = NULL;

      shared = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, NULL, "block-size", (guint64) 64,
                               "block-count", (guint64) LIVE, "thread-safe", TRUE,
                               "track-stats", stats, NULL);
      multi = g_initable_new (NEBULA_TYPE_MULTI_POOL_ALLOCATOR, NULL, NULL,
                              "track-stats", stats, NULL);
      multi_st = g_initable_new (NEBULA_TYPE_MULTI_POOL_ALLOCATOR, NULL, NULL,
                                 "thread-safe", FALSE, "track-stats", stats, NULL);
      sum += RUN (churn_pool_ts_interface, shared);
      sum += RUN (mixed_multipool_interface, multi);
      sum += RUN (mixed_multipool_st_interface, multi_st);
      {
        ProdCons *pc = g_aligned_alloc0 (1, sizeof (ProdCons), 64);

        pc->pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, NULL,
                                   "block-size", (guint64) 64, "block-count", (guint64) 2048,
                                   "thread-safe", TRUE, "track-stats", stats, NULL);
        sum += RUN (run_pool_ts_producer_consumer, pc);
        g_object_unref (pc->pool);
        g_aligned_free (pc);
      }
    }
    sum += RUN (frames_floor_inline, &frames);
    sum += RUN (frames_floor_call, &frames);
    sum += RUN (frames_stack_inline, stack);
    sum += RUN (frames_stack_interface, stack);
    sum += RUN (requests_bump_scope, bump);
    sum += RUN (requests_stack_frame, stack);
    g_free (blocks);
  }

  {
    CacheHits hits;

    cache_hits_init (&hits);
    sum += RUN (cache_hit_int, &hits);
    sum += RUN (cache_hit_variant, &hits);
    sum += RUN (cache_hit_variant_new_key, &hits);
    cache_hits_clear (&hits);
  }

  g_free (buffer);
  return sum == 42;
}
