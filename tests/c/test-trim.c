/* test-trim.c: nebula_allocator_trim(): what it gives back is what the
 * report's `reserved` loses and the budget is uncharged, never a block
 * still in use, and nothing the second time.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "nebula-allocator-trim-private.h"
#include "test-util.h"

/* Trims @allocator in @mode and checks the bookkeeping: the bytes given
 * back are the drop in `reserved` and in the budget's usage. */
static guint64
trim_and_check (gpointer            allocator,
                NebulaMemoryBudget *budget,
                NebulaTrimMode      mode)
{
  g_autoptr(GError) error = NULL;
  guint64 before = test_reserved_of (allocator);
  guint64 budget_before = budget != NULL ? nebula_memory_budget_get_used (budget) : 0;
  guint64 given;

  if (mode == NEBULA_TRIM_KEEP_CONFIGURED)
    given = nebula_allocator_trim (NEBULA_ALLOCATOR (allocator), &error);
  else
    given = nebula_allocator_trim_mode (NEBULA_ALLOCATOR (allocator), mode, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (test_reserved_of (allocator), ==, before - given);
  if (budget != NULL)
    g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, budget_before - given);
  return given;
}

static void
fill_pattern (guint8 *block,
              gsize   size,
              guint8  seed)
{
  for (gsize i = 0; i < size; i++)
    block[i] = (guint8) (seed + i);
}

static void
assert_pattern (const guint8 *block,
                gsize         size,
                guint8        seed)
{
  for (gsize i = 0; i < size; i++)
    g_assert_cmpuint (block[i], ==, (guint8) (seed + i));
}

static void
test_trim_pool (gconstpointer data)
{
  gboolean check_frees = GPOINTER_TO_INT (data);
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("pool-budget", 1 << 20);
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(GError) error = NULL;
  gpointer blocks[64];
  guint64 given;

  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                         "block-size", (guint64) 32,
                         "block-count", (guint64) 8,
                         "max-block-count", (guint64) 64,
                         "check-frees", check_frees,
                         "budget", budget,
                         NULL);
  g_assert_no_error (error);

  /* Grows to 8 + 8 + 16 + 32 blocks. */
  for (guint i = 0; i < 64; i++)
    {
      blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 32, 8, &error);
      g_assert_no_error (error);
      fill_pattern (blocks[i], 32, (guint8) i);
    }
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 4);
  g_assert_cmpuint (test_reserved_of (pool), ==, 64 * 32);

  /* Every slab holds a live block: nothing goes. */
  g_assert_cmpuint (trim_and_check (pool, budget, NEBULA_TRIM_KEEP_CONFIGURED), ==, 0);

  /* The third slab empty, the fourth holding block 63: only a tail of
   * empty slabs can go, so nothing does. */
  for (guint i = 16; i < 63; i++)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[i], 32, 8, &error));
  g_assert_cmpuint (trim_and_check (pool, budget, NEBULA_TRIM_KEEP_CONFIGURED), ==, 0);

  /* Now the last two slabs are empty: 48 blocks go. */
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[63], 32, 8, &error));
  given = trim_and_check (pool, budget, NEBULA_TRIM_KEEP_CONFIGURED);
  g_assert_cmpuint (given, ==, 48 * 32);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 2);

  /* Idempotent. */
  g_assert_cmpuint (trim_and_check (pool, budget, NEBULA_TRIM_KEEP_CONFIGURED), ==, 0);

  /* The live blocks are untouched and the pool still works: it grows
   * again, and every free block serves. */
  for (guint i = 0; i < 16; i++)
    assert_pattern (blocks[i], 32, (guint8) i);
  for (guint i = 16; i < 64; i++)
    {
      blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 32, 8, &error);
      g_assert_no_error (error);
      fill_pattern (blocks[i], 32, (guint8) (i + 100));
    }
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 4);
  for (guint i = 0; i < 16; i++)
    assert_pattern (blocks[i], 32, (guint8) i);
  for (guint i = 0; i < 64; i++)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[i], 32, 8, &error));

  /* Everything free: all but the first slab go, the first (block-count)
   * stays. */
  given = trim_and_check (pool, budget, NEBULA_TRIM_RETAINED);
  g_assert_cmpuint (given, ==, 56 * 32);
  g_assert_cmpuint (test_reserved_of (pool), ==, 8 * 32);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 8 * 32);
}

static void
test_trim_pool_thread_safe (void)
{
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(GError) error = NULL;
  gpointer blocks[16];

  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                         "block-size", (guint64) 32,
                         "block-count", (guint64) 8,
                         "max-block-count", (guint64) 16,
                         "thread-safe", TRUE,
                         NULL);
  g_assert_no_error (error);
  for (guint i = 0; i < 16; i++)
    blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 32, 8, &error);
  for (guint i = 0; i < 16; i++)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[i], 32, 8, &error));

  /* The slab it grew by goes; the first stays. */
  g_assert_cmpuint (trim_and_check (pool, NULL, NEBULA_TRIM_RETAINED), ==, 8 * 32);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 1);
  g_assert_cmpuint (trim_and_check (pool, NULL, NEBULA_TRIM_RETAINED), ==, 0);

  /* It grows again into the retired slab, and every block serves once. */
  for (guint i = 0; i < 16; i++)
    {
      blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 32, 8, &error);
      g_assert_no_error (error);
      fill_pattern (blocks[i], 32, (guint8) i);
    }
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 2);
  g_assert_cmpuint (test_reserved_of (pool), ==, 16 * 32);
  for (guint i = 0; i < 16; i++)
    assert_pattern (blocks[i], 32, (guint8) i);
  for (guint i = 0; i < 16; i++)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[i], 32, 8, &error));
  g_assert_cmpuint (trim_and_check (pool, NULL, NEBULA_TRIM_KEEP_CONFIGURED), ==, 8 * 32);
}

static void
test_trim_bump (gconstpointer data)
{
  gboolean thread_safe = GPOINTER_TO_INT (data);
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("bump-budget", 1 << 20);
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  g_autoptr(NebulaBumpCheckpoint) checkpoint = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *first;
  guint64 given;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 1024,
                         "max-capacity", (guint64) 16384,
                         "reset-policy", NEBULA_RESET_POLICY_KEEP_LARGEST,
                         "thread-safe", thread_safe,
                         "budget", budget,
                         NULL);
  g_assert_no_error (error);

  first = nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 100, 8, &error);
  g_assert_no_error (error);
  fill_pattern (first, 100, 7);
  checkpoint = nebula_bump_allocator_checkpoint (bump);

  /* More chunks (regular ones: these requests are below the
   * large-allocation threshold). */
  for (guint i = 0; i < 30; i++)
    {
      nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 200, 8, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), >=, 3);
  g_assert_cmpuint (trim_and_check (bump, budget, NEBULA_TRIM_KEEP_CONFIGURED), ==, 0);

  /* The restore makes them spares; the trim gives them back. */
  g_assert_true (nebula_bump_allocator_restore (bump, checkpoint, &error));
  given = trim_and_check (bump, budget, NEBULA_TRIM_KEEP_CONFIGURED);
  g_assert_cmpuint (given, >, 0);
  g_assert_cmpuint (test_reserved_of (bump), ==, 1024);
  g_assert_cmpuint (trim_and_check (bump, budget, NEBULA_TRIM_KEEP_CONFIGURED), ==, 0);
  assert_pattern (first, 100, 7);

  /* The allocator still grows. */
  nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 2000, 8, &error);
  g_assert_no_error (error);
  assert_pattern (first, 100, 7);
}

static void
test_trim_bump_keep_all (void)
{
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  g_autoptr(GError) error = NULL;
  guint64 grown;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 1024,
                         "max-capacity", (guint64) 16384,
                         "reset-policy", NEBULA_RESET_POLICY_KEEP_ALL,
                         NULL);
  g_assert_no_error (error);
  for (guint i = 0; i < 30; i++)
    nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 200, 8, &error);
  g_assert_no_error (error);
  grown = test_reserved_of (bump);
  nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
  g_assert_cmpuint (test_reserved_of (bump), ==, grown);

  /* keep-all asks to keep the spares: a plain trim leaves them ... */
  g_assert_cmpuint (trim_and_check (bump, NULL, NEBULA_TRIM_KEEP_CONFIGURED), ==, 0);
  /* ... memory pressure (MEDIUM and above) takes them. */
  g_assert_cmpuint (trim_and_check (bump, NULL, NEBULA_TRIM_RETAINED), ==, grown - 1024);
  g_assert_cmpuint (trim_and_check (bump, NULL, NEBULA_TRIM_RETAINED), ==, 0);
}

static void
test_trim_stack (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("stack-budget", 1 << 20);
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *bottom, *big;
  guint64 given;

  stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                          "capacity", (guint64) 1024,
                          "max-capacity", (guint64) 16384,
                          "budget", budget,
                          NULL);
  g_assert_no_error (error);

  bottom = nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 64, 8, &error);
  g_assert_no_error (error);
  fill_pattern (bottom, 64, 3);
  big = nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 4000, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_stack_allocator_get_n_chunks (stack), ==, 2);

  /* The second chunk is in use. */
  g_assert_cmpuint (trim_and_check (stack, budget, NEBULA_TRIM_KEEP_CONFIGURED), ==, 0);

  /* Popped, it becomes the spare, which the trim gives back. */
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (stack), big, 4000, 8, &error));
  given = trim_and_check (stack, budget, NEBULA_TRIM_KEEP_CONFIGURED);
  g_assert_cmpuint (given, >, 0);
  g_assert_cmpuint (test_reserved_of (stack), ==, 1024);
  g_assert_cmpuint (trim_and_check (stack, budget, NEBULA_TRIM_RETAINED), ==, 0);
  assert_pattern (bottom, 64, 3);

  big = nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 4000, 8, &error);
  g_assert_no_error (error);
  memset (big, 0x5a, 4000);
  assert_pattern (bottom, 64, 3);
}

/* A thread-safe bump allocator: trims race with allocations that grow
 * (and take spares back); every block keeps its bytes. The TSan build runs
 * this. (A stack is never thread-safe.) */
typedef struct
{
  NebulaAllocator *allocator;
  guint            seed;
} Worker;

static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;
  g_autoptr(GError) error = NULL;

  for (guint round = 0; round < 200; round++)
    {
      guint8 *blocks[8];

      for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
        {
          blocks[i] = nebula_allocator_allocate (worker->allocator, 300, 8, &error);
          g_assert_no_error (error);
          fill_pattern (blocks[i], 300, (guint8) (worker->seed + i));
        }
      for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
        assert_pattern (blocks[i], 300, (guint8) (worker->seed + i));
    }

  return NULL;
}

static void
test_trim_threads (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocator) allocator = NULL;
  g_autoptr(NebulaBumpCheckpoint) checkpoint = NULL;
  Worker workers[2];
  GThread *threads[2];
  guint n_threads = G_N_ELEMENTS (threads);
  guint64 given = 0;

  allocator = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                              "capacity", (guint64) 1024,
                              "max-capacity", (guint64) 1 << 24,
                              "thread-safe", TRUE,
                              NULL);
  g_assert_no_error (error);

  /* The spares come from a restore, before the threads. */
  checkpoint = nebula_bump_allocator_checkpoint (NEBULA_BUMP_ALLOCATOR (allocator));
  for (guint i = 0; i < 60; i++)
    nebula_allocator_allocate (allocator, 300, 8, &error);
  g_assert_true (nebula_bump_allocator_restore (NEBULA_BUMP_ALLOCATOR (allocator), checkpoint,
                                                &error));

  for (guint t = 0; t < n_threads; t++)
    {
      workers[t] = (Worker) { allocator, t * 50 };
      threads[t] = g_thread_new ("trim-worker", worker_thread, &workers[t]);
    }
  for (guint i = 0; i < 200; i++)
    {
      given += nebula_allocator_trim (allocator, &error);
      g_assert_no_error (error);
      g_thread_yield ();
    }
  for (guint t = 0; t < n_threads; t++)
    g_thread_join (threads[t]);

  /* Whatever the interleaving, the books balance. */
  given += trim_and_check (allocator, NULL, NEBULA_TRIM_RETAINED);
  g_assert_cmpuint (trim_and_check (allocator, NULL, NEBULA_TRIM_RETAINED), ==, 0);
  g_test_message ("given back while the threads ran: %" G_GUINT64_FORMAT " bytes", given);
}

static void
test_trim_system (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) system = nebula_system_allocator_new (&error);
  gpointer block;

  g_assert_no_error (error);
  block = nebula_allocator_allocate (NEBULA_ALLOCATOR (system), 64, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_trim (NEBULA_ALLOCATOR (system), &error), ==, 0);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (system), block, 64, 8, &error));
}

static void
test_trim_invalid_config (void)
{
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(GError) error = NULL;

  /* Constructed without init, as a binding may: the trim reports why. */
  pool = g_object_new (NEBULA_TYPE_POOL_ALLOCATOR, "block-size", (guint64) 0, NULL);
  g_assert_cmpuint (nebula_allocator_trim (NEBULA_ALLOCATOR (pool), &error), ==, 0);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/nebula/trim/pool/check-frees", GINT_TO_POINTER (TRUE), test_trim_pool);
  g_test_add_data_func ("/nebula/trim/pool/no-check-frees", GINT_TO_POINTER (FALSE),
                        test_trim_pool);
  g_test_add_func ("/nebula/trim/pool/thread-safe", test_trim_pool_thread_safe);
  g_test_add_data_func ("/nebula/trim/bump/single", GINT_TO_POINTER (FALSE), test_trim_bump);
  g_test_add_data_func ("/nebula/trim/bump/thread-safe", GINT_TO_POINTER (TRUE), test_trim_bump);
  g_test_add_func ("/nebula/trim/bump/keep-all", test_trim_bump_keep_all);
  g_test_add_func ("/nebula/trim/stack", test_trim_stack);
  g_test_add_func ("/nebula/trim/threads/bump", test_trim_threads);
  g_test_add_func ("/nebula/trim/system", test_trim_system);
  g_test_add_func ("/nebula/trim/invalid-config", test_trim_invalid_config);

  return g_test_run ();
}
