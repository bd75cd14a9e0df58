/* test-trim-pool-threads.c: nebula_allocator_trim() on a thread-safe pool
 * while other threads allocate and free.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A trim never gives back a block in use (the workers check a pattern in
 * every block they hold; ASan and Valgrind report any write to a slab
 * given back, the C suite runs under both), the bytes it reports are the
 * drop in the report's `reserved` and in the budget even while the
 * threads run, blocks cached in magazines count as in use until they are
 * flushed, and the statistics stay exact. The threads suite runs it under
 * ThreadSanitizer. The threads meet through atomics and g_thread_join()
 * only, which ThreadSanitizer sees.
 */

#include "config.h"

#include <nebula.h>

#include "nebula-pool-allocator-private.h"
#include "test-util.h"

#define N_WORKERS 3

/* Trims and checks that what it says it gave back is what `reserved` and
 * the budget lost. Only valid while no other thread can grow the pool. */
static guint64
trim_and_check (NebulaPoolAllocator *pool,
                NebulaMemoryBudget  *budget)
{
  g_autoptr(GError) error = NULL;
  guint64 before = test_reserved_of (pool);
  guint64 budget_before = nebula_memory_budget_get_used (budget);
  guint64 given = nebula_allocator_trim (NEBULA_ALLOCATOR (pool), &error);

  g_assert_no_error (error);
  g_assert_cmpuint (test_reserved_of (pool), ==, before - given);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, budget_before - given);
  return given;
}

static NebulaPoolAllocator *
new_pool (NebulaMemoryBudget *budget,
          guint64             block_count,
          guint64             max_block_count,
          gboolean            check_frees,
          gint                magazine_size)
{
  g_autoptr(GError) error = NULL;
  NebulaPoolAllocator *pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                              "block-size", (guint64) 48,
                                              "block-count", block_count,
                                              "max-block-count", max_block_count,
                                              "thread-safe", TRUE,
                                              "check-frees", check_frees,
                                              "magazine-size", magazine_size,
                                              "track-stats", TRUE,
                                              "budget", budget,
                                              NULL);

  g_assert_no_error (error);
  g_assert_cmpuint (pool->magazine_size, ==, (guint) magazine_size);
  return pool;
}

static void
write_pattern (guint8 *block,
            guint32 seed)
{
  for (guint i = 0; i < 48; i++)
    block[i] = (guint8) (seed * 31 + i);
}

static void
check_pattern (const guint8 *block,
             guint32       seed)
{
  for (guint i = 0; i < 48; i++)
    g_assert_cmpuint (block[i], ==, (guint8) (seed * 31 + i));
}

/* Exact after the threads are gone: nothing in use, every allocation
 * matched by a free. */
static void
assert_stats_balanced (NebulaPoolAllocator *pool,
                       guint64              allocations)
{
  g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (pool));

  g_assert_cmpuint (stats->allocations, ==, allocations);
  g_assert_cmpuint (stats->deallocations, ==, allocations);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (pool)), ==, 0);
}

typedef struct
{
  NebulaPoolAllocator *pool;
  guint                id;
  guint                rounds;        /* 0: until stop */
  guint                max_held;      /* blocks held at once */
  gint                *stop;          /* atomic */
  gint                *n_trims;       /* atomic: trims made so far */
  gint                 progress;      /* atomic: rounds done */
  guint64              allocations;   /* read after the join */
} Worker;

/* Holds a varying number of blocks, each with its own pattern, checks
 * them all and frees them in an order that mixes the slabs. */
static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 **blocks = g_new (guint8 *, worker->max_held);
  guint32 seed = worker->id * 100003u;

  for (guint round = 0;
       worker->rounds != 0 ? round < worker->rounds : !g_atomic_int_get (worker->stop);
       round++)
    {
      /* Bursts to the full count now and then: the pool grows, and the
       * trims have emptied slabs to take when the burst is over. */
      guint n = round % 8 == 0 ? worker->max_held : 1 + (round * 7 + worker->id) % 16;
      gboolean pause = n >= worker->max_held && worker->n_trims != NULL;
      /* Every other burst keeps its last blocks (from the newest slab it
       * reached) through the pause: a slab with a few live blocks, which
       * the trim must keep. */
      guint held = pause && (round / 8) % 2 == 1 ? 1 + worker->id % 3 : 0;

      n = MIN (n, worker->max_held);
      for (guint i = 0; i < n; i++)
        {
          blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (worker->pool), 48, 8, &error);
          g_assert_no_error (error);
          write_pattern (blocks[i], seed + i);
        }
      worker->allocations += n;
      for (guint i = 0; i < n; i++)
        check_pattern (blocks[i], seed + i);
      for (guint k = 0; k < n; k++)
        {
          guint i = (k * 5 + round) % n;

          /* Each index once: 5 is prime to n unless n is a multiple of 5. */
          if (n % 5 == 0)
            i = n - 1 - k;
          if (i >= n - held)
            continue;
          check_pattern (blocks[i], seed + i);
          g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (worker->pool), blocks[i],
                                                      48, 8, &error));
        }
      g_atomic_int_inc (&worker->progress);

      /* After a burst, a pause until the next trim: when every worker
       * pauses, the slabs the bursts grew are empty for it to take. */
      if (pause)
        {
          gint seen = g_atomic_int_get (worker->n_trims);

          while (g_atomic_int_get (worker->n_trims) == seen && !g_atomic_int_get (worker->stop))
            g_thread_yield ();
        }
      for (guint i = n - held; i < n; i++)
        {
          check_pattern (blocks[i], seed + i);
          g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (worker->pool), blocks[i],
                                                      48, 8, &error));
        }
      seed += n;
    }

  return NULL;
}

/* Workers grow and shrink the pool while this thread trims it: nothing in
 * use is ever given back, and afterwards the books balance exactly. */
static void
test_trim_while_threads_run (gconstpointer data)
{
  guint variant = GPOINTER_TO_UINT (data);
  gboolean check_frees = (variant & 1) != 0;
  gint magazine_size = (variant & 2) != 0 ? 8 : 0;
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("trim-threads", 1 << 24);
  g_autoptr(NebulaPoolAllocator) pool = new_pool (budget, 32, 8192, check_frees, magazine_size);
  Worker workers[N_WORKERS];
  GThread *threads[N_WORKERS];
  g_autoptr(GError) error = NULL;
  guint64 given = 0, allocations = 0;
  guint n_giving = 0;
  gint stop = 0, n_trims = 0;

  for (guint t = 0; t < N_WORKERS; t++)
    {
      workers[t] = (Worker) { pool, t + 1, 0, 600, &stop, &n_trims, 0, 0 };
      threads[t] = g_thread_new ("trim-worker", worker_thread, &workers[t]);
    }

  /* Until some trims gave back slabs the workers grow into again, or for
   * a bounded time on a slow machine (Valgrind runs one thread at a time). */
  for (gint64 end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
       g_get_monotonic_time () < end;)
    {
      guint64 g;
      gint least = G_MAXINT;

      for (guint t = 0; t < N_WORKERS; t++)
        least = MIN (least, g_atomic_int_get (&workers[t].progress));
      if (least >= 200 && n_giving >= 20)
        break;

      g = nebula_allocator_trim (NEBULA_ALLOCATOR (pool), &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g % 48, ==, 0);
      given += g;
      n_giving += g != 0;
      g_atomic_int_inc (&n_trims);
      g_thread_yield ();
    }

  g_atomic_int_set (&stop, 1);
  for (guint t = 0; t < N_WORKERS; t++)
    {
      g_thread_join (threads[t]);
      allocations += workers[t].allocations;
    }

  /* The workers' magazines went back at their exit: everything but the
   * first slab goes, exactly as reported, and a second trim finds nothing. */
  given += trim_and_check (pool, budget);
  g_assert_cmpuint (trim_and_check (pool, budget), ==, 0);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 1);
  g_assert_cmpuint (test_reserved_of (pool), ==, 32 * 48);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 32 * 48);
  assert_stats_balanced (pool, allocations);

  g_test_message ("%d trims while the threads ran, %u gave back; %" G_GUINT64_FORMAT
                  " bytes in all", n_trims, n_giving, given);
}

/* The workers' blocks all come from the first slab (the others' blocks lie
 * deep in the free list, below more first-slab blocks than the workers
 * and their magazines can hold), so the pool cannot grow: each trim made
 * while they run must report exactly what `reserved` and the budget lose,
 * and the first one gives back every other slab. */
static void
test_trim_exact_while_threads_run (gconstpointer data)
{
  gboolean magazines = GPOINTER_TO_INT (data);
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("trim-exact", 1 << 24);
  g_autoptr(NebulaPoolAllocator) pool = new_pool (budget, 256, 2048, TRUE, magazines ? 8 : 0);
  g_autofree gpointer *blocks = g_new (gpointer, 2048);
  Worker workers[N_WORKERS];
  GThread *threads[N_WORKERS];
  g_autoptr(GError) error = NULL;
  guint64 given = 0, allocations = 2048;
  gint stop = 0;

  for (guint i = 0; i < 2048; i++)
    {
      blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 48, 8, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 4);
  /* Newest first: the first slab's blocks end on top of the list. */
  for (guint i = 2048; i-- > 0;)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[i], 48, 8, &error));
  /* This thread's magazine goes back before the workers start. */
  nebula_pool_magazines_flush (pool);

  for (guint t = 0; t < N_WORKERS; t++)
    {
      workers[t] = (Worker) { pool, t + 1, 0, 16, &stop, NULL, 0, 0 };
      threads[t] = g_thread_new ("trim-exact-worker", worker_thread, &workers[t]);
    }
  for (guint t = 0; t < N_WORKERS; t++)
    while (g_atomic_int_get (&workers[t].progress) < 10)
      g_thread_yield ();

  given = trim_and_check (pool, budget);
  g_assert_cmpuint (given, ==, (2048 - 256) * 48);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 1);
  for (guint i = 0; i < 50; i++)
    {
      g_assert_cmpuint (trim_and_check (pool, budget), ==, 0);
      g_thread_yield ();
    }

  g_atomic_int_set (&stop, 1);
  for (guint t = 0; t < N_WORKERS; t++)
    {
      g_thread_join (threads[t]);
      allocations += workers[t].allocations;
    }

  g_assert_cmpuint (test_reserved_of (pool), ==, 256 * 48);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 256 * 48);
  assert_stats_balanced (pool, allocations);
}

typedef struct
{
  NebulaPoolAllocator *pool;
  gint                 phase;   /* atomic: 1 blocks freed, 2 go on, 3 done */
} Holder;

/* Grows the pool, frees all but one first-slab block (its magazine keeps
 * the last freed, second-slab blocks), and after the trim frees the last
 * one: that call honours the flush request. */
static gpointer
holder_thread (gpointer data)
{
  Holder *holder = data;
  g_autoptr(GError) error = NULL;
  gpointer blocks[32];

  for (guint i = 0; i < 32; i++)
    {
      blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (holder->pool), 48, 8, &error);
      g_assert_no_error (error);
    }
  for (guint i = 1; i < 32; i++)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (holder->pool), blocks[i], 48, 8,
                                                &error));

  g_atomic_int_set (&holder->phase, 1);
  while (g_atomic_int_get (&holder->phase) != 2)
    g_thread_yield ();

  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (holder->pool), blocks[0], 48, 8,
                                              &error));
  g_atomic_int_set (&holder->phase, 3);
  return NULL;
}

/* Magazines: the calling thread's and the depot are flushed by the trim;
 * another thread's counts as in use until its next call on the pool. */
static void
test_trim_flushes_magazines (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("trim-magazines", 1 << 20);
  g_autoptr(NebulaPoolAllocator) pool = new_pool (budget, 16, 64, FALSE, 8);
  g_autoptr(GError) error = NULL;
  Holder holder = { pool, 0 };
  gpointer blocks[32];
  GThread *thread;

  /* This thread: its magazine and the depot hold second-slab blocks. */
  for (guint i = 0; i < 32; i++)
    blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 48, 8, &error);
  for (guint i = 0; i < 32; i++)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[i], 48, 8, &error));
  g_assert_cmpuint (trim_and_check (pool, budget), ==, 16 * 48);
  g_assert_cmpuint (trim_and_check (pool, budget), ==, 0);

  /* Another thread's magazine. */
  thread = g_thread_new ("trim-holder", holder_thread, &holder);
  while (g_atomic_int_get (&holder.phase) != 1)
    g_thread_yield ();
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 2);
  g_assert_cmpuint (trim_and_check (pool, budget), ==, 0);

  g_atomic_int_set (&holder.phase, 2);
  while (g_atomic_int_get (&holder.phase) != 3)
    g_thread_yield ();
  /* The thread is still alive: its call gave its cached blocks back. */
  g_assert_cmpuint (trim_and_check (pool, budget), ==, 16 * 48);
  g_thread_join (thread);

  assert_stats_balanced (pool, 64);
  g_assert_cmpuint (test_reserved_of (pool), ==, 16 * 48);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/nebula/trim/pool-threads/run/plain", GUINT_TO_POINTER (0),
                        test_trim_while_threads_run);
  g_test_add_data_func ("/nebula/trim/pool-threads/run/check-frees", GUINT_TO_POINTER (1),
                        test_trim_while_threads_run);
  g_test_add_data_func ("/nebula/trim/pool-threads/run/magazines", GUINT_TO_POINTER (2),
                        test_trim_while_threads_run);
  g_test_add_data_func ("/nebula/trim/pool-threads/run/magazines-check-frees",
                        GUINT_TO_POINTER (3), test_trim_while_threads_run);
  g_test_add_data_func ("/nebula/trim/pool-threads/exact/shared", GINT_TO_POINTER (FALSE),
                        test_trim_exact_while_threads_run);
  g_test_add_data_func ("/nebula/trim/pool-threads/exact/magazines", GINT_TO_POINTER (TRUE),
                        test_trim_exact_while_threads_run);
  g_test_add_func ("/nebula/trim/pool-threads/magazines", test_trim_flushes_magazines);

  return g_test_run ();
}
