/* test-pool-magazine.c: the per-thread caches of a thread-safe pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Cross-thread frees, a double free split across two threads, a thread
 * that exits while its magazine holds blocks, a reset and a finalize with
 * caches alive, and exact counts afterwards. The /pool/shared/ paths run
 * the same tests on a pool without magazines (magazine-size 0: the shared
 * free list's direct path, whose threads count their blocks in records
 * that cache nothing). The threads suite runs it under ThreadSanitizer,
 * the C suite under Valgrind and ASan.
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "nebula-pool-allocator-private.h"

#define BLOCK_SIZE 64
#define N_BLOCKS   4096

/* Whether the pools of the running test have magazines. */
static gboolean use_magazines = TRUE;

static NebulaPoolAllocator *
new_pool (gboolean check_frees)
{
  g_autoptr(GError) error = NULL;
  NebulaPoolAllocator *pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                              "block-size", (guint64) BLOCK_SIZE,
                                              "block-count", (guint64) N_BLOCKS,
                                              "thread-safe", TRUE,
                                              "check-frees", check_frees,
                                              "magazine-size", use_magazines ? -1 : 0,
                                              NULL);

  g_assert_no_error (error);
  /* Large enough for magazines: the paths below are the cached ones
   * (unless the test asks for none). */
  if (use_magazines)
    g_assert_cmpuint (pool->magazine_size, >, 0);
  else
    g_assert_cmpuint (pool->magazine_size, ==, 0);
  return pool;
}

static guint64
bytes_used (NebulaPoolAllocator *pool)
{
  return nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (pool));
}

/* A small pool has magazines too (an eighth of its blocks, at least 2),
 * and one thread still gets every block: the last ones come back from its
 * own magazine and the depot, then EXHAUSTED. (Before 0.1's issue 14
 * pass, pools below 256 blocks had none.) */
static void
test_small_pool_has_magazines (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                                        "block-size", (guint64) 16,
                                                        "block-count", (guint64) 4,
                                                        "thread-safe", TRUE, NULL);
  gpointer blocks[4];

  g_assert_no_error (error);
  g_assert_cmpuint (pool->magazine_size, ==, 2);
  for (guint round = 0; round < 2; round++)
    {
      for (guint i = 0; i < 4; i++)
        {
          blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 16, 8, &error);
          g_assert_no_error (error);
        }
      g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 16, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
      g_clear_error (&error);
      for (guint i = 0; i < 4; i++)
        g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[i], 16, 8,
                                                    NULL));
    }
}

#define SMALL_BLOCKS 16

typedef struct
{
  NebulaPoolAllocator *pool;
  guint                holding;   /* atomic: its magazine holds free blocks */
  guint                release;   /* atomic: it may exit */
} Holder;

/* Takes every block of the pool, frees them all (its magazine keeps
 * some, the depot others) and stays alive until released. */
static gpointer
hold_cached_thread (gpointer data)
{
  Holder *holder = data;
  gpointer blocks[SMALL_BLOCKS];

  for (guint i = 0; i < SMALL_BLOCKS; i++)
    {
      blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (holder->pool), BLOCK_SIZE, 8, NULL);
      g_assert_nonnull (blocks[i]);
    }
  for (guint i = 0; i < SMALL_BLOCKS; i++)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (holder->pool), blocks[i],
                                                BLOCK_SIZE, 8, NULL));

  __atomic_store_n (&holder->holding, 1, __ATOMIC_RELEASE);
  while (!__atomic_load_n (&holder->release, __ATOMIC_ACQUIRE))
    g_thread_yield ();

  /* Its magazine was emptied by the other thread: it still works. */
  blocks[0] = nebula_allocator_allocate (NEBULA_ALLOCATOR (holder->pool), BLOCK_SIZE, 8, NULL);
  g_assert_nonnull (blocks[0]);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (holder->pool), blocks[0],
                                              BLOCK_SIZE, 8, NULL));
  return NULL;
}

/* A small pool runs out while another thread (alive, idle) caches free
 * blocks in its magazine: the allocation reclaims them, so every block of
 * the pool is handed out before EXHAUSTED, with exact counts; once blocks
 * are free again, the magazines' limit recovers. */
static void
check_exhaustion_reclaims (gint     magazine_size,
                           gboolean check_frees)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                                        "block-size", (guint64) BLOCK_SIZE,
                                                        "block-count", (guint64) SMALL_BLOCKS,
                                                        "thread-safe", TRUE,
                                                        "check-frees", check_frees,
                                                        "magazine-size", magazine_size,
                                                        NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  Holder holder = { pool, 0, 0 };
  gpointer blocks[SMALL_BLOCKS];
  GThread *thread;

  g_assert_no_error (error);
  g_assert_cmpuint (pool->magazine_size, >, 0);
  thread = g_thread_new ("holder", hold_cached_thread, &holder);
  while (!__atomic_load_n (&holder.holding, __ATOMIC_ACQUIRE))
    g_thread_yield ();
  g_assert_cmpuint (bytes_used (pool), ==, 0);

  for (guint i = 0; i < SMALL_BLOCKS; i++)
    {
      blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), BLOCK_SIZE, 8, &error);
      g_assert_no_error (error);
      g_assert_false (g_hash_table_contains (seen, blocks[i]));
      g_hash_table_add (seen, blocks[i]);
    }
  g_assert_cmpuint (bytes_used (pool), ==, SMALL_BLOCKS * BLOCK_SIZE);
  /* The reclaim halved what a magazine may keep from now on. */
  g_assert_cmpuint (pool->magazine_limit, <=, pool->magazine_size / 2);
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), BLOCK_SIZE, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_clear_error (&error);

  for (guint i = 0; i < SMALL_BLOCKS; i++)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[i], BLOCK_SIZE, 8,
                                                NULL));
  __atomic_store_n (&holder.release, 1, __ATOMIC_RELEASE);
  g_thread_join (thread);

  g_assert_cmpuint (bytes_used (pool), ==, 0);
  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (pool));
  g_assert_cmpuint (stats->allocations, ==, 2 * SMALL_BLOCKS + 1);
  g_assert_cmpuint (stats->deallocations, ==, 2 * SMALL_BLOCKS + 1);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);

  /* The pool was full once, not for good: refills that need no reclaim
   * give the magazines their size back (before, the limit stayed low
   * until a reset, and at 0 every call took the shared list). */
  for (guint round = 0; round < 64 && pool->magazine_limit < pool->magazine_size; round++)
    {
      for (guint i = 0; i < SMALL_BLOCKS; i++)
        {
          blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), BLOCK_SIZE, 8, &error);
          g_assert_no_error (error);
        }
      for (guint i = 0; i < SMALL_BLOCKS; i++)
        g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[i],
                                                    BLOCK_SIZE, 8, NULL));
    }
  g_assert_cmpuint (pool->magazine_limit, ==, pool->magazine_size);
  g_assert_cmpuint (bytes_used (pool), ==, 0);
}

static void
test_exhaustion_reclaims (void)
{
  check_exhaustion_reclaims (-1, TRUE);
  check_exhaustion_reclaims (-1, FALSE);
  /* Magazines as large as the pool: all of it cached by the idle thread. */
  check_exhaustion_reclaims (SMALL_BLOCKS, TRUE);
  check_exhaustion_reclaims (SMALL_BLOCKS, FALSE);
}

typedef struct
{
  NebulaPoolAllocator *pool;
  gpointer            *blocks;
  guint                n;
  GError              *error;
} Batch;

static gpointer
allocate_batch_thread (gpointer data)
{
  Batch *batch = data;

  for (guint i = 0; i < batch->n && batch->error == NULL; i++)
    batch->blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (batch->pool), BLOCK_SIZE, 8,
                                                  &batch->error);
  return NULL;
}

static gpointer
free_batch_thread (gpointer data)
{
  Batch *batch = data;

  for (guint i = 0; i < batch->n && batch->error == NULL; i++)
    nebula_allocator_deallocate (NEBULA_ALLOCATOR (batch->pool), batch->blocks[i], BLOCK_SIZE, 8,
                                 &batch->error);
  return NULL;
}

/* Producer/consumer: a magazine that goes to the depot the same way
 * twice in a row moves a whole magazine. The consumer's first flush keeps
 * half its magazine, the next ones keep nothing; a new thread's first
 * refill from the depot takes half a magazine, the next one a whole one.
 * Counts stay exact. */
#define TRIPS_SIZE   32
#define TRIPS_BLOCKS (3 * TRIPS_SIZE)

typedef struct
{
  NebulaPoolAllocator *pool;
  gsize                depot_after[2];   /* after 1 and TRIPS_SIZE / 2 + 1 blocks */
  GError              *error;
} Refills;

static gpointer
refill_twice_thread (gpointer data)
{
  Refills *refills = data;
  gpointer blocks[TRIPS_SIZE / 2 + 1];

  for (guint i = 0; i < G_N_ELEMENTS (blocks) && refills->error == NULL; i++)
    {
      blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (refills->pool), BLOCK_SIZE, 8,
                                             &refills->error);
      if (i == 0 || i == TRIPS_SIZE / 2)
        refills->depot_after[i != 0] = __atomic_load_n (&refills->pool->depot_len,
                                                        __ATOMIC_RELAXED);
    }
  for (guint i = 0; i < G_N_ELEMENTS (blocks) && refills->error == NULL; i++)
    nebula_allocator_deallocate (NEBULA_ALLOCATOR (refills->pool), blocks[i], BLOCK_SIZE, 8,
                                 &refills->error);
  return NULL;
}

static void
test_one_way_trips (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                                        "block-size", (guint64) BLOCK_SIZE,
                                                        "block-count", (guint64) N_BLOCKS,
                                                        "thread-safe", TRUE,
                                                        "magazine-size", TRIPS_SIZE,
                                                        NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  gpointer blocks[TRIPS_BLOCKS];
  Batch produce = { NULL, blocks, TRIPS_BLOCKS, NULL };
  Batch consume = { NULL, blocks, TRIPS_BLOCKS, NULL };
  Refills refills = { NULL, { 0, 0 }, NULL };

  g_assert_no_error (error);
  g_assert_cmpuint (pool->magazine_size, ==, TRIPS_SIZE);
  produce.pool = consume.pool = refills.pool = pool;

  g_thread_join (g_thread_new ("producer", allocate_batch_thread, &produce));
  g_assert_no_error (produce.error);
  g_thread_join (g_thread_new ("consumer", free_batch_thread, &consume));
  g_assert_no_error (consume.error);
  /* Flushes at the 33rd free (16 blocks), the 49th and the 81st (32
   * each); the consumer's last 16 went back when it exited. */
  g_assert_cmpuint (pool->depot_len, ==, TRIPS_SIZE / 2 + 2 * TRIPS_SIZE);
  g_assert_cmpuint (bytes_used (pool), ==, 0);

  g_thread_join (g_thread_new ("refills", refill_twice_thread, &refills));
  g_assert_no_error (refills.error);
  g_assert_cmpuint (refills.depot_after[0], ==, 2 * TRIPS_SIZE);
  g_assert_cmpuint (refills.depot_after[1], ==, TRIPS_SIZE);

  g_assert_cmpuint (bytes_used (pool), ==, 0);
  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (pool));
  g_assert_cmpuint (stats->allocations, ==, TRIPS_BLOCKS + TRIPS_SIZE / 2 + 1);
  g_assert_cmpuint (stats->deallocations, ==, TRIPS_BLOCKS + TRIPS_SIZE / 2 + 1);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
}

/* Blocks taken on one thread and freed on another come back: the pool
 * hands out no block twice and every block is reachable again. */
static void
test_cross_thread_frees (void)
{
  g_autoptr(NebulaPoolAllocator) pool = new_pool (TRUE);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  g_autofree gpointer *blocks = g_new0 (gpointer, N_BLOCKS);
  Batch batch = { pool, blocks, N_BLOCKS / 2, NULL };
  GThread *thread;

  for (guint round = 0; round < 3; round++)
    {
      thread = g_thread_new ("producer", allocate_batch_thread, &batch);
      g_thread_join (thread);
      g_assert_no_error (batch.error);
      g_assert_cmpuint (bytes_used (pool), ==, (guint64) batch.n * BLOCK_SIZE);

      g_hash_table_remove_all (seen);
      for (guint i = 0; i < batch.n; i++)
        {
          g_assert_nonnull (blocks[i]);
          g_assert_false (g_hash_table_contains (seen, blocks[i]));
          g_hash_table_add (seen, blocks[i]);
          memset (blocks[i], (int) round, BLOCK_SIZE);
        }

      thread = g_thread_new ("consumer", free_batch_thread, &batch);
      g_thread_join (thread);
      g_assert_no_error (batch.error);
      g_assert_cmpuint (bytes_used (pool), ==, 0);
    }

  /* All of the pool is still there for one thread: no block is lost in
   * the exited threads' magazines or the depot. */
  batch.n = N_BLOCKS;
  allocate_batch_thread (&batch);
  g_assert_no_error (batch.error);
  g_assert_cmpuint (bytes_used (pool), ==, (guint64) N_BLOCKS * BLOCK_SIZE);
  free_batch_thread (&batch);
  g_assert_no_error (batch.error);
}

typedef struct
{
  NebulaPoolAllocator *pool;
  gpointer             block;
  gboolean             freed;
  GError              *error;
} Single;

static gpointer
free_one_thread (gpointer data)
{
  Single *single = data;

  single->freed = nebula_allocator_deallocate (NEBULA_ALLOCATOR (single->pool), single->block,
                                               BLOCK_SIZE, 8, &single->error);
  return NULL;
}

/* Check-frees: the second free of a block, on another thread than the
 * first, is DOUBLE_FREE, and the pool goes on. */
static void
test_double_free_across_threads (void)
{
  g_autoptr(NebulaPoolAllocator) pool = new_pool (TRUE);
  g_autoptr(GError) error = NULL;
  Single single = { pool, NULL, FALSE, NULL };
  gpointer again;

  single.block = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), BLOCK_SIZE, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), single.block, BLOCK_SIZE, 8,
                                              &error));

  g_thread_join (g_thread_new ("second-free", free_one_thread, &single));
  g_assert_false (single.freed);
  g_assert_error (single.error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
  g_clear_error (&single.error);

  /* The other order: freed on a thread, then here. */
  single.block = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), BLOCK_SIZE, 8, &error);
  g_assert_no_error (error);
  g_thread_join (g_thread_new ("first-free", free_one_thread, &single));
  g_assert_no_error (single.error);
  g_assert_true (single.freed);
  g_assert_false (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), single.block, BLOCK_SIZE,
                                               8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
  g_clear_error (&error);

  /* A foreign pointer is still refused, and the pool is usable. */
  g_assert_false (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), &single, BLOCK_SIZE, 8,
                                               &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  again = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), BLOCK_SIZE, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bytes_used (pool), ==, BLOCK_SIZE);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), again, BLOCK_SIZE, 8, NULL));
  g_assert_cmpuint (bytes_used (pool), ==, 0);
}

typedef struct
{
  NebulaPoolAllocator *pool;
  guint                keep;
} Churn;

/* Takes and frees blocks, keeps @keep of them, and exits: its magazine
 * holds free blocks when it goes. */
static gpointer
churn_and_exit_thread (gpointer data)
{
  Churn *churn = data;
  gpointer blocks[64];

  for (guint round = 0; round < 10; round++)
    {
      for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
        blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (churn->pool), BLOCK_SIZE, 8, NULL);
      for (guint i = churn->keep; i < G_N_ELEMENTS (blocks); i++)
        nebula_allocator_deallocate (NEBULA_ALLOCATOR (churn->pool), blocks[i], BLOCK_SIZE, 8, NULL);
      if (round < 9)
        for (guint i = 0; i < churn->keep; i++)
          nebula_allocator_deallocate (NEBULA_ALLOCATOR (churn->pool), blocks[i], BLOCK_SIZE, 8,
                                       NULL);
    }
  return NULL;
}

/* A thread that exits gives its cached blocks back; the blocks it still
 * holds stay in use, and the counts stay exact. */
static void
test_thread_exit_returns_blocks (void)
{
  g_autoptr(NebulaPoolAllocator) pool = new_pool (FALSE);
  g_autofree gpointer *blocks = g_new0 (gpointer, N_BLOCKS);
  Churn churn = { pool, 5 };
  GThread *threads[4];
  g_autoptr(GError) error = NULL;
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("churn", churn_and_exit_thread, &churn);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  g_assert_cmpuint (bytes_used (pool), ==, (guint64) G_N_ELEMENTS (threads) * churn.keep * BLOCK_SIZE);

  /* Everything else can be allocated here. */
  while (n < N_BLOCKS &&
         (blocks[n] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), BLOCK_SIZE, 8, &error)))
    n++;
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_cmpuint (n, ==, N_BLOCKS - G_N_ELEMENTS (threads) * churn.keep);
  for (guint i = 0; i < n; i++)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[i], BLOCK_SIZE, 8,
                                                NULL));
}

static gpointer
hold_one_thread (gpointer data)
{
  Single *single = data;

  single->block = nebula_allocator_allocate (NEBULA_ALLOCATOR (single->pool), BLOCK_SIZE, 8,
                                             &single->error);
  /* and one freed, so that the magazine caches blocks */
  nebula_allocator_deallocate (NEBULA_ALLOCATOR (single->pool),
                               nebula_allocator_allocate (NEBULA_ALLOCATOR (single->pool), BLOCK_SIZE,
                                                          8, NULL),
                               BLOCK_SIZE, 8, NULL);
  return NULL;
}

/* A reset voids every thread's cache: afterwards the whole pool is free,
 * and no block is handed out twice. */
static void
test_reset_voids_magazines (void)
{
  g_autoptr(NebulaPoolAllocator) pool = new_pool (TRUE);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  Single single = { pool, NULL, FALSE, NULL };
  gpointer block;

  g_thread_join (g_thread_new ("hold", hold_one_thread, &single));
  g_assert_no_error (single.error);
  block = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), BLOCK_SIZE, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bytes_used (pool), ==, 2 * BLOCK_SIZE);

  nebula_allocator_reset (NEBULA_ALLOCATOR (pool));
  g_assert_cmpuint (bytes_used (pool), ==, 0);

  /* The freed block is not in use any more, and the pool has not handed
   * it out since the reset: a pointer it did not give. */
  g_assert_false (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), block, BLOCK_SIZE, 8,
                                               &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "has not handed out since it was created or last reset"));
  g_clear_error (&error);

  for (guint i = 0; i < N_BLOCKS; i++)
    {
      block = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), BLOCK_SIZE, 8, &error);
      g_assert_no_error (error);
      g_assert_false (g_hash_table_contains (seen, block));
      g_hash_table_add (seen, block);
    }
  g_assert_cmpuint (bytes_used (pool), ==, (guint64) N_BLOCKS * BLOCK_SIZE);
}

/* A pool finalized while other threads cache its blocks: those threads
 * drop their magazines, and a new pool (maybe at the same address) gets
 * fresh ones. The pools are handed over through atomics (ThreadSanitizer
 * cannot see GLib's queues order anything). */
#define N_HANDOVERS 20

typedef struct
{
  NebulaPoolAllocator *pools[N_HANDOVERS];
  guint                published;   /* atomic: pools[0..published) are ready */
} Handover;

static gpointer
use_handed_pools_thread (gpointer data)
{
  Handover *handover = data;

  for (guint i = 0; i < N_HANDOVERS; i++)
    {
      NebulaPoolAllocator *pool;
      gpointer block;

      while (__atomic_load_n (&handover->published, __ATOMIC_ACQUIRE) <= i)
        g_thread_yield ();
      pool = handover->pools[i];

      block = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), BLOCK_SIZE, 8, NULL);
      g_assert_nonnull (block);
      g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), block, BLOCK_SIZE, 8,
                                                  NULL));
      g_assert_cmpuint (bytes_used (pool), ==, 0);
      /* The last reference: the pool goes while the main thread caches
       * its blocks too. */
      g_object_unref (pool);
    }
  return NULL;
}

static void
test_finalize_with_live_magazines (void)
{
  Handover handover = { { NULL, }, 0 };
  GThread *thread = g_thread_new ("user", use_handed_pools_thread, &handover);

  for (guint i = 0; i < N_HANDOVERS; i++)
    {
      NebulaPoolAllocator *pool = new_pool (i % 2 == 0);

      nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool),
                                   nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), BLOCK_SIZE,
                                                              8, NULL),
                                   BLOCK_SIZE, 8, NULL);
      handover.pools[i] = pool;
      __atomic_store_n (&handover.published, i + 1, __ATOMIC_RELEASE);
    }
  g_thread_join (thread);
}

/* The wrappers' direct path: many more blocks than a magazine holds go out
 * and come back (so refills and flushes decline to the full path in the
 * middle), bad layouts and a block of another pool are refused with the
 * full path's errors, and the statistics count every call exactly once. */
static void
test_direct_path (void)
{
  g_autoptr(NebulaPoolAllocator) pool = new_pool (TRUE);
  g_autoptr(NebulaPoolAllocator) other = new_pool (TRUE);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GError) error = NULL;
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  const guint n = 20 * MAX (pool->magazine_size, 16);
  g_autofree gpointer *blocks = g_new0 (gpointer, n);
  gpointer foreign;

  for (guint i = 0; i < n; i++)
    {
      blocks[i] = nebula_allocator_allocate (alloc, 1 + i % BLOCK_SIZE, 8, &error);
      g_assert_no_error (error);
      memset (blocks[i], (int) i, 1 + i % BLOCK_SIZE);
    }
  g_assert_cmpuint (bytes_used (pool), ==, (guint64) n * BLOCK_SIZE);

  g_assert_null (nebula_allocator_allocate (alloc, BLOCK_SIZE + 1, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_clear_error (&error);
  g_assert_false (nebula_allocator_deallocate (alloc, blocks[0], 1, 3, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  g_clear_error (&error);

  foreign = nebula_allocator_allocate (NEBULA_ALLOCATOR (other), 8, 8, &error);
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_deallocate (alloc, foreign, 8, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (other), foreign, 8, 8, &error));

  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpuint (((guint8 *) blocks[i])[0], ==, (guint8) i);
      g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], 1 + i % BLOCK_SIZE, 8, &error));
      g_assert_no_error (error);
    }
  g_assert_false (nebula_allocator_deallocate (alloc, blocks[1], 2, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, n);
  g_assert_cmpuint (stats->deallocations, ==, n);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  g_assert_cmpuint (bytes_used (pool), ==, 0);
}

/* A stride that is not a power of two (48 bytes): block starts are found
 * without a division (nebula-pool-allocator-private.h, block_odd_inverse);
 * a pointer into a block, or just past the slab, is still refused with
 * the full message, thread-safe or not, and a block start is accepted. */
static void
check_odd_stride (gboolean thread_safe)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                                        "block-size", (guint64) 48,
                                                        "block-alignment", (guint64) 16,
                                                        "block-count", (guint64) 64,
                                                        "thread-safe", thread_safe,
                                                        NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  guint8 *blocks[64];

  g_assert_no_error (error);
  g_assert_cmpuint (pool->block_size, ==, 48);
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      blocks[i] = nebula_allocator_allocate (alloc, 48, 16, &error);
      g_assert_no_error (error);
    }

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      for (guint offset = 8; offset < 48; offset += 8)
        {
          g_assert_false (nebula_allocator_deallocate (alloc, blocks[i] + offset, 8, 8, &error));
          g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
          g_assert_nonnull (strstr (error->message, "is not the start of a block"));
          g_clear_error (&error);
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], 48, 16, &error));
      g_assert_no_error (error);
    }
  g_assert_false (nebula_allocator_deallocate (alloc, blocks[5], 48, 16, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
  g_clear_error (&error);
  g_assert_cmpuint (bytes_used (pool), ==, 0);

  /* Again, off the free list (the direct paths), every block once. */
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      guint8 *block = nebula_allocator_allocate (alloc, 1 + i % 48, 16, &error);

      g_assert_no_error (error);
      for (guint j = 0; j < i; j++)
        g_assert_true (blocks[j] != block);
      blocks[i] = block;
    }
  g_assert_null (nebula_allocator_allocate (alloc, 48, 16, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_cmpuint (bytes_used (pool), ==, 64 * 48);
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], 1 + i % 48, 16, NULL));

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 128);
  g_assert_cmpuint (stats->deallocations, ==, 128);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  g_assert_cmpuint (bytes_used (pool), ==, 0);
}

/* block_start_index() against a division, for every stride a multi-pool
 * class or a small pool may have, and every offset in a few blocks. */
#define WIDE_BLOCKS 64

static gpointer
wide_states_thread (gpointer data)
{
  NebulaAllocator *pool = data;
  gpointer blocks[WIDE_BLOCKS];

  for (guint i = 0; i < WIDE_BLOCKS; i++)
    {
      blocks[i] = nebula_allocator_allocate (pool, 1024, 8, NULL);
      g_assert_nonnull (blocks[i]);
    }
  for (guint i = 0; i < WIDE_BLOCKS; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (nebula_allocator_deallocate (pool, blocks[i], 1024, 8, NULL));
      g_assert_false (nebula_allocator_deallocate (pool, blocks[i], 1024, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
    }
  return NULL;
}

/* Blocks of 1 KiB get magazines of 32, which take fresh blocks 16 at a
 * time: their check-frees states are 4 bytes apart, so that a batch
 * fills a cache line of states. Double frees on two threads at once are
 * still reported, and the counts stay exact. (64-byte blocks, whose
 * magazines of 128 take 64, keep one byte per block.) */
static void
test_wide_states (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                                        "block-size", (guint64) 1024,
                                                        "block-count", (guint64) 256,
                                                        "thread-safe", TRUE, NULL);
  g_autoptr(NebulaPoolAllocator) small = new_pool (TRUE);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  GThread *thread;

  g_assert_no_error (error);
  g_assert_cmpuint (pool->magazine_size, ==, 32);
  g_assert_cmpuint (pool->state_shift, ==, 2);
  g_assert_cmpuint (small->state_shift, ==, 0);

  thread = g_thread_new ("wide", wide_states_thread, pool);
  wide_states_thread (pool);
  g_thread_join (thread);

  g_assert_cmpuint (bytes_used (pool), ==, 0);
  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (pool));
  g_assert_cmpuint (stats->allocations, ==, 2 * WIDE_BLOCKS);
  g_assert_cmpuint (stats->deallocations, ==, 2 * WIDE_BLOCKS);
  nebula_allocator_reset (NEBULA_ALLOCATOR (pool));
  wide_states_thread (pool);
  g_assert_cmpuint (bytes_used (pool), ==, 0);
}

static void
test_block_start_index (void)
{
  g_autofree guint8 *buffer = g_malloc (16 * 1024);

  for (guint64 size = 8; size <= 1024; size += 8)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(NebulaPoolAllocator) pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                                            "block-size", size,
                                                            "block-alignment", (guint64) 8,
                                                            "block-count", (guint64) 4,
                                                            NULL);

      g_assert_no_error (error);
      for (gsize offset = 0; offset < 16 * 1024; offset++)
        {
          gsize index;
          gboolean start = block_start_index (pool, buffer, buffer + offset, &index);

          g_assert_cmpint (start, ==, offset % pool->block_size == 0);
          if (start)
            g_assert_cmpuint (index, ==, offset / pool->block_size);
        }
    }
}

static void
test_odd_stride_shared (void)
{
  check_odd_stride (TRUE);
}

static void
test_odd_stride_single (void)
{
  check_odd_stride (FALSE);
}

/* Whether @ptr lies in one of @pool's slabs (a pointer just outside one
 * slab may lie in another). */
static gboolean
lies_in_pool (NebulaPoolAllocator *pool,
              const guint8        *ptr)
{
  for (guint i = 0; i < pool->n_slabs; i++)
    if (ptr >= pool->slabs[i]->data && ptr < pool->slabs[i]->end)
      return TRUE;
  return FALSE;
}

static void
assert_refused (NebulaPoolAllocator *pool,
                gpointer             ptr,
                gint                 code)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), ptr, 8, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, code);
}

/* The lean entry points of a pool with magazines (nebula-pool-magazine-
 * direct.c): on a pool that grew to several slabs, with a stride that is
 * not a power of two, blocks of every slab come back through the
 * wrappers; pointers just outside each slab, into a block, on the stack,
 * NULL, and into a slab that a trim gave back are refused with the full
 * path's errors, with check-frees and without; the pool stays usable and
 * its counts exact. */
static void
check_lean_path (gboolean check_frees)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                                        "block-size", (guint64) 48,
                                                        "block-alignment", (guint64) 16,
                                                        "block-count", (guint64) 64,
                                                        "max-block-count", (guint64) 1024,
                                                        "thread-safe", TRUE,
                                                        "check-frees", check_frees,
                                                        NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  const guint n = 400;
  g_autofree guint8 **blocks = g_new0 (guint8 *, n);
  guint8 on_stack[64];
  guint8 *last_slab_block;

  g_assert_no_error (error);
  g_assert_cmpuint (pool->magazine_size, >, 0);
  for (guint i = 0; i < n; i++)
    {
      blocks[i] = nebula_allocator_allocate (alloc, 1 + i % 48, 16, &error);
      g_assert_no_error (error);
      memset (blocks[i], (int) i, 1 + i % 48);
    }
  g_assert_cmpuint (pool->n_slabs, >=, 3);

  for (guint s = 0; s < pool->n_slabs; s++)
    {
      guint8 *data = pool->slabs[s]->data;
      guint8 *end = pool->slabs[s]->end;
      guint8 *outside[] = { data - 48, data - 16, end, end + 48 };

      for (guint k = 0; k < G_N_ELEMENTS (outside); k++)
        if (!lies_in_pool (pool, outside[k]))
          assert_refused (pool, outside[k], NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
      assert_refused (pool, data + 16, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
      assert_refused (pool, end - 32, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
    }
  assert_refused (pool, on_stack, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_false (nebula_allocator_deallocate (alloc, NULL, 8, 8, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* Every slab's blocks, in an order that mixes them. */
  for (guint i = 0; i < n; i++)
    {
      guint k = (i * 7) % n;

      g_assert_cmpuint (blocks[k][0], ==, (guint8) k);
      g_assert_true (nebula_allocator_deallocate (alloc, blocks[k], 1 + k % 48, 16, &error));
      g_assert_no_error (error);
    }
  if (check_frees)
    {
      assert_refused (pool, blocks[0], NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
      assert_refused (pool, blocks[n - 1], NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
    }

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, n);
  g_assert_cmpuint (stats->deallocations, ==, n);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  g_assert_cmpuint (bytes_used (pool), ==, 0);

  /* A block of the newest slab, which the trim gives back: foreign then. */
  last_slab_block = pool->slabs[pool->n_slabs - 1]->data;
  g_assert_cmpuint (nebula_allocator_trim (alloc, &error), >, 0);
  g_assert_no_error (error);
  if (!lies_in_pool (pool, last_slab_block))
    assert_refused (pool, last_slab_block, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);

  for (guint i = 0; i < n; i++)
    {
      blocks[i] = nebula_allocator_allocate (alloc, 48, 16, &error);
      g_assert_no_error (error);
    }
  for (guint i = 0; i < n; i++)
    g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], 48, 16, &error));
  g_assert_cmpuint (bytes_used (pool), ==, 0);
}

static void
test_lean_path_checked (void)
{
  check_lean_path (TRUE);
}

static void
test_lean_path_unchecked (void)
{
  check_lean_path (FALSE);
}

/* A pool whose blocks are filled takes the full direct path (the lean
 * one prepares nothing): each block handed out, fresh or cached, is
 * filled. */
static void
test_filled_blocks (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                                        "block-size", (guint64) BLOCK_SIZE,
                                                        "block-count", (guint64) 256,
                                                        "thread-safe", TRUE,
                                                        "alloc-fill", 0xab,
                                                        NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);

  g_assert_no_error (error);
  g_assert_cmpuint (pool->magazine_size, >, 0);
  for (guint round = 0; round < 3; round++)
    {
      guint8 *blocks[100];

      for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
        {
          blocks[i] = nebula_allocator_allocate (alloc, BLOCK_SIZE, 8, &error);
          g_assert_no_error (error);
          for (guint b = 0; b < BLOCK_SIZE; b++)
            g_assert_cmpuint (blocks[i][b], ==, 0xab);
        }
      for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
        {
          memset (blocks[i], 0, BLOCK_SIZE);
          g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], BLOCK_SIZE, 8, &error));
        }
    }
}

/* The tests above on a pool without magazines. */
/* The statistics of the direct path are counted in each thread's shard,
 * which its magazine keeps (NebulaStatsShardCache): still exact when
 * threads come and go one after another (a new thread may take the
 * statistics slot an exited one gave back, with its magazine's cache
 * found again), when a thread uses two pools in turn (each magazine keeps
 * its own pool's shard), and when the blocks a thread leaves live are
 * freed by another thread. */
typedef struct
{
  NebulaAllocator *pools[2];
  gpointer         kept[2][16];
  guint            round;
} ShardRound;

static gpointer
shard_round_thread (gpointer data)
{
  ShardRound *work = data;

  for (guint i = 0; i < 100 + work->round; i++)
    {
      for (guint p = 0; p < 2; p++)
        {
          gsize size = 1 + (i + p) % BLOCK_SIZE;
          gpointer block = nebula_allocator_allocate (work->pools[p], size, 8, NULL);

          g_assert_nonnull (block);
          g_assert_true (nebula_allocator_deallocate (work->pools[p], block, size, 8, NULL));
        }
    }
  for (guint p = 0; p < 2; p++)
    for (guint k = 0; k < G_N_ELEMENTS (work->kept[p]); k++)
      work->kept[p][k] = nebula_allocator_allocate (work->pools[p], BLOCK_SIZE, 8, NULL);
  return NULL;
}

static guint64
expected_bytes (guint n_round)
{
  guint64 bytes = 0;

  for (guint i = 0; i < 100 + n_round; i++)
    bytes += 1 + i % BLOCK_SIZE;
  return bytes;
}

static void
test_stats_shard_cache (void)
{
  g_autoptr(NebulaPoolAllocator) first = new_pool (TRUE);
  g_autoptr(NebulaPoolAllocator) second = new_pool (FALSE);
  ShardRound work = { { NEBULA_ALLOCATOR (first), NEBULA_ALLOCATOR (second) } };
  guint64 allocations = 0, bytes = 0, bytes_second = 0;

  for (work.round = 0; work.round < 6; work.round++)
    {
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      g_autoptr(NebulaAllocatorStats) stats_second = NULL;

      g_thread_join (g_thread_new ("shard-round", shard_round_thread, &work));
      allocations += 100 + work.round + 16;
      /* Pool 1 sees sizes 1 + i % 64, pool 2 sizes 1 + (i + 1) % 64. */
      bytes += expected_bytes (work.round);
      bytes_second += expected_bytes (work.round + 1) - 1;

      /* Live blocks of an exited thread, freed here. */
      for (guint p = 0; p < 2; p++)
        for (guint k = 0; k < G_N_ELEMENTS (work.kept[p]); k++)
          g_assert_true (nebula_allocator_deallocate (work.pools[p], work.kept[p][k],
                                                      BLOCK_SIZE, 8, NULL));

      stats = nebula_allocator_get_stats (work.pools[0]);
      stats_second = nebula_allocator_get_stats (work.pools[1]);
      g_assert_cmpuint (stats->allocations, ==, allocations);
      g_assert_cmpuint (stats->deallocations, ==, allocations);
      g_assert_cmpuint (stats->total_bytes_allocated, ==, bytes + (work.round + 1) * 16 * BLOCK_SIZE);
      g_assert_cmpuint (stats->bytes_in_use, ==, 0);
      g_assert_cmpuint (stats_second->allocations, ==, allocations);
      g_assert_cmpuint (stats_second->deallocations, ==, allocations);
      g_assert_cmpuint (stats_second->total_bytes_allocated, ==,
                        bytes_second + (work.round + 1) * 16 * BLOCK_SIZE);
      g_assert_cmpuint (stats_second->bytes_in_use, ==, 0);
    }
  g_assert_cmpuint (bytes_used (first), ==, 0);
  g_assert_cmpuint (bytes_used (second), ==, 0);
}

/* A thread's statistics slot goes back at its exit (a GPrivate
 * destructor), and destructors that run after that one may still use a
 * pool: here one whose key was made after the slot's and before the
 * magazines' (glibc runs destructors in the order of their keys), so
 * that its thread's magazine is still in the pool's slot, with the shard
 * of the slot given back. The lean path records into that shard without
 * comparing slots, so the slot's release must have sent the thread's
 * requests to the full path: they claim a fresh slot (the thread that
 * takes the old one next must not share its shard) and count once. In a
 * subprocess: the order of the keys is the order of their first use. */
static NebulaAllocator *late_pool;

static void
late_pool_destructor (gpointer data)
{
  gpointer block;

  g_assert_cmpuint (nebula_stats_thread_slot, ==, 0);
  block = nebula_allocator_allocate (late_pool, 24, 8, NULL);
  g_assert_nonnull (block);
  g_assert_cmpuint (nebula_stats_thread_slot, !=, 0);
  g_assert_true (nebula_allocator_deallocate (late_pool, block, 24, 8, NULL));
  for (guint i = 0; i < 3; i++)
    g_assert_true (nebula_allocator_deallocate (late_pool,
                                                nebula_allocator_allocate (late_pool, 40, 8, NULL),
                                                40, 8, NULL));
}

static GPrivate late_pool_key = G_PRIVATE_INIT (late_pool_destructor);

static gpointer
late_pool_worker (gpointer data)
{
  g_private_set (&late_pool_key, GINT_TO_POINTER (1));
  /* The first request puts the magazine in the pool's slot, the others
   * take the lean path. */
  for (guint i = 0; i < 8; i++)
    g_assert_true (nebula_allocator_deallocate (late_pool,
                                                nebula_allocator_allocate (late_pool, 8, 8, NULL),
                                                8, 8, NULL));
  return NULL;
}

static void
test_stats_after_slot_released (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(NebulaAllocator) first = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, NULL,
                                                         "thread-safe", TRUE, NULL);

      /* The statistics slot's key first (a thread-safe System
       * allocator's request: no magazine), then the test's, then the
       * magazines' (the pool's first request, on the worker). */
      nebula_allocator_deallocate (first, nebula_allocator_allocate (first, 8, 8, NULL), 8, 8,
                                   NULL);
      g_private_set (&late_pool_key, NULL);
      late_pool = NEBULA_ALLOCATOR (new_pool (TRUE));

      for (guint round = 1; round <= 3; round++)
        {
          g_autoptr(NebulaAllocatorStats) stats = NULL;

          g_thread_join (g_thread_new ("late-pool", late_pool_worker, NULL));
          stats = nebula_allocator_get_stats (late_pool);
          g_assert_cmpuint (stats->allocations, ==, round * 12);
          g_assert_cmpuint (stats->deallocations, ==, round * 12);
          g_assert_cmpuint (stats->total_bytes_allocated, ==, round * (8 * 8 + 24 + 3 * 40));
          g_assert_cmpuint (stats->bytes_in_use, ==, 0);
        }
      g_assert_cmpuint (bytes_used (NEBULA_POOL_ALLOCATOR (late_pool)), ==, 0);
      g_clear_object (&late_pool);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
run_without_magazines (gconstpointer data)
{
  GTestFunc test = (GTestFunc) data;

  use_magazines = FALSE;
  test ();
  use_magazines = TRUE;
}

static void
add_shared (const char *path,
            GTestFunc   test)
{
  g_test_add_data_func (path, (gconstpointer) test, run_without_magazines);
}

/* A budget's handler that allocates from the pool whose growth it was
 * told about: the nested request gathers while the outer one is still
 * counted as gathering, is refused by the budget like the outer one, and
 * both leave the pool usable and its counts exact. */
typedef struct
{
  NebulaAllocator *pool;
  guint            calls;
  gint             nested_code;
} NestedRequest;

static void
allocate_in_handler_cb (NebulaMemoryBudget *budget,
                        guint64             requested,
                        gpointer            data)
{
  NestedRequest *nested = data;
  g_autoptr(GError) error = NULL;

  nested->calls++;
  g_assert_null (nebula_allocator_allocate (nested->pool, 16, 8, &error));
  nested->nested_code = error != NULL ? error->code : -1;
}

static void
test_budget_handler_allocates (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("nested", 4096);
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NestedRequest nested = { 0 };
  g_autoptr(GPtrArray) blocks = g_ptr_array_new ();
  gpointer block;

  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                         "block-size", (guint64) 16, "block-count", (guint64) 64,
                         "max-block-count", (guint64) 100000, "thread-safe", TRUE,
                         "budget", budget, NULL);
  g_assert_no_error (error);
  nested.pool = NEBULA_ALLOCATOR (pool);
  g_signal_connect (budget, "limit-reached", G_CALLBACK (allocate_in_handler_cb), &nested);

  while ((block = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 16, 8, &error)) != NULL)
    g_ptr_array_add (blocks, block);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_clear_error (&error);
  g_assert_cmpuint (nested.calls, >=, 1);
  g_assert_cmpint (nested.nested_code, ==, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_cmpuint (blocks->len, ==, 4096 / 16);

  for (guint i = 0; i < blocks->len; i++)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks->pdata[i],
                                                16, 8, &error));
  g_assert_no_error (error);
  block = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 16, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), block, 16, 8, &error));

  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (pool));
  g_assert_cmpuint (stats->allocations, ==, blocks->len + 1);
  g_assert_cmpuint (stats->deallocations, ==, blocks->len + 1);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pool/magazine/small-pool", test_small_pool_has_magazines);
  g_test_add_func ("/pool/magazine/exhaustion-reclaims", test_exhaustion_reclaims);
  g_test_add_func ("/pool/magazine/cross-thread-frees", test_cross_thread_frees);
  g_test_add_func ("/pool/magazine/one-way-trips", test_one_way_trips);
  g_test_add_func ("/pool/magazine/double-free-across-threads", test_double_free_across_threads);
  g_test_add_func ("/pool/magazine/thread-exit", test_thread_exit_returns_blocks);
  g_test_add_func ("/pool/magazine/reset", test_reset_voids_magazines);
  g_test_add_func ("/pool/magazine/finalize", test_finalize_with_live_magazines);
  g_test_add_func ("/pool/magazine/direct-path", test_direct_path);
  g_test_add_func ("/pool/magazine/wide-states", test_wide_states);
  g_test_add_func ("/pool/magazine/stats-shard-cache", test_stats_shard_cache);
  g_test_add_func ("/pool/magazine/stats-after-slot-released", test_stats_after_slot_released);
  g_test_add_func ("/pool/odd-stride/block-start-index", test_block_start_index);
  g_test_add_func ("/pool/odd-stride/thread-safe", test_odd_stride_shared);
  g_test_add_func ("/pool/odd-stride/single-threaded", test_odd_stride_single);
  g_test_add_func ("/pool/magazine/lean-path/checked", test_lean_path_checked);
  g_test_add_func ("/pool/magazine/lean-path/unchecked", test_lean_path_unchecked);
  g_test_add_func ("/pool/magazine/filled-blocks", test_filled_blocks);
  g_test_add_func ("/pool/magazine/budget-handler-allocates", test_budget_handler_allocates);
  add_shared ("/pool/shared/cross-thread-frees", test_cross_thread_frees);
  add_shared ("/pool/shared/double-free-across-threads", test_double_free_across_threads);
  add_shared ("/pool/shared/thread-exit", test_thread_exit_returns_blocks);
  add_shared ("/pool/shared/reset", test_reset_voids_magazines);
  add_shared ("/pool/shared/finalize", test_finalize_with_live_magazines);
  add_shared ("/pool/shared/direct-path", test_direct_path);
  add_shared ("/pool/shared/stats-shard-cache", test_stats_shard_cache);

  return g_test_run ();
}
