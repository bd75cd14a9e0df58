/* test-budget.c: NebulaMemoryBudget and the allocators charging it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

static void
count_cb (NebulaMemoryBudget *budget,
          guint64             value,
          gpointer            user_data)
{
  guint *count = user_data;

  /* Emitted with no lock held: calling back in must work. */
  (void) nebula_memory_budget_get_used (budget);
  (*count)++;
}

static void
test_budget_basic (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("frames", 1000);
  g_autoptr(GError) error = NULL;
  guint soft = 0, reached = 0;

  nebula_memory_budget_set_soft_limit (budget, 600);
  g_signal_connect (budget, "soft-limit-exceeded", G_CALLBACK (count_cb), &soft);
  g_signal_connect (budget, "limit-reached", G_CALLBACK (count_cb), &reached);

  g_assert_true (nebula_memory_budget_try_reserve (budget, 500, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (soft, ==, 0);
  g_assert_true (nebula_memory_budget_try_reserve (budget, 200, &error));
  g_assert_cmpuint (soft, ==, 1);
  g_assert_true (nebula_memory_budget_try_reserve (budget, 100, &error));
  g_assert_cmpuint (soft, ==, 1);   /* once per crossing */

  g_assert_false (nebula_memory_budget_try_reserve (budget, 300, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "Memory budget 'frames' refused 300 bytes"));
  g_assert_nonnull (strstr (error->message, "800 of 1000 in use, 200 available"));
  g_assert_cmpuint (nebula_error_get_requested (error), ==, 300);
  g_assert_cmpuint (nebula_error_get_available (error), ==, 200);
  g_assert_cmpuint (nebula_error_get_capacity (error), ==, 1000);
  g_assert_cmpstr (nebula_error_get_allocator_name (error), ==, "frames");
  g_assert_true (nebula_error_is_retryable (error));
  g_clear_error (&error);
  g_assert_cmpuint (reached, ==, 1);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 800);

  /* Still at the limit: silent. After a release, a new crossing. */
  g_assert_false (nebula_memory_budget_try_reserve (budget, 300, NULL));
  g_assert_cmpuint (reached, ==, 1);
  g_assert_true (nebula_memory_budget_release (budget, 100, &error));
  g_assert_false (nebula_memory_budget_try_reserve (budget, 400, NULL));
  g_assert_cmpuint (reached, ==, 2);

  /* Back under the soft limit, then over it again. */
  g_assert_true (nebula_memory_budget_release (budget, 200, &error));
  g_assert_true (nebula_memory_budget_try_reserve (budget, 100, &error));
  g_assert_cmpuint (soft, ==, 1);   /* 600 is not above the soft limit */
  g_assert_true (nebula_memory_budget_try_reserve (budget, 100, &error));
  g_assert_cmpuint (soft, ==, 2);

  /* Filling it exactly is allowed. */
  g_assert_true (nebula_memory_budget_try_reserve (budget, 300, &error));
  g_assert_false (nebula_memory_budget_try_reserve (budget, 1, NULL));
  g_assert_cmpuint (reached, ==, 3);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 1000);
  g_assert_cmpuint (nebula_memory_budget_get_peak (budget), ==, 1000);
  g_assert_no_error (error);
}

static void
test_budget_release_too_much (void)
{
  g_autoptr(NebulaMemoryBudget) parent = nebula_memory_budget_new ("process", 0);
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new_child (parent, "cache", 100);
  g_autoptr(NebulaMemoryBudget) other = nebula_memory_budget_new_child (parent, "other", 0);
  g_autoptr(GError) error = NULL;

  g_assert_true (nebula_memory_budget_try_reserve (budget, 40, &error));
  g_assert_false (nebula_memory_budget_release (budget, 41, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_assert_nonnull (strstr (error->message, "Memory budget 'cache': cannot release 41 bytes, only 40"));
  g_clear_error (&error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 40);
  g_assert_cmpuint (nebula_memory_budget_get_used (parent), ==, 40);

  /* The parent cannot give back more than it holds either, and a failure
   * there undoes the child's part. */
  g_assert_true (nebula_memory_budget_release (parent, 40, &error));
  g_assert_false (nebula_memory_budget_release (budget, 40, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_assert_nonnull (strstr (error->message, "'process': cannot release 40 bytes, only 0"));
  g_clear_error (&error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 40);
  g_assert_true (nebula_memory_budget_try_reserve (other, 40, NULL));
  g_assert_true (nebula_memory_budget_release (budget, 40, NULL));
}

static void
test_budget_hierarchy (void)
{
  g_autoptr(NebulaMemoryBudget) root = nebula_memory_budget_new ("process", 1000);
  g_autoptr(NebulaMemoryBudget) a = nebula_memory_budget_new_child (root, "a", 800);
  g_autoptr(NebulaMemoryBudget) b = nebula_memory_budget_new_child (root, "b", 0);
  g_autoptr(GError) error = NULL;
  guint root_reached = 0, a_soft = 0;

  g_signal_connect (root, "limit-reached", G_CALLBACK (count_cb), &root_reached);
  g_signal_connect (a, "soft-limit-exceeded", G_CALLBACK (count_cb), &a_soft);
  nebula_memory_budget_set_soft_limit (a, 100);
  nebula_memory_budget_set_per_allocation_limit (root, 700);

  g_assert_true (nebula_memory_budget_try_reserve (b, 500, &error));
  g_assert_cmpuint (nebula_memory_budget_get_used (root), ==, 500);

  /* a has room, root does not: refused, nothing charged anywhere, and a's
   * soft limit crossing is not announced for a charge that did not stay. */
  g_assert_false (nebula_memory_budget_try_reserve (a, 600, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "Memory budget 'process' refused 600 bytes "
                                            "(charged through Memory budget 'a'): 500 of 1000 in use"));
  g_assert_cmpstr (nebula_error_get_allocator_name (error), ==, "process");
  g_clear_error (&error);
  g_assert_cmpuint (nebula_memory_budget_get_used (a), ==, 0);
  g_assert_cmpuint (nebula_memory_budget_get_used (root), ==, 500);
  g_assert_cmpuint (root_reached, ==, 1);
  g_assert_cmpuint (a_soft, ==, 0);

  /* The root's per-allocation limit applies to its children's charges. */
  nebula_memory_budget_set_limit (root, 0);
  g_assert_false (nebula_memory_budget_try_reserve (a, 750, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "per-allocation limit of 700 bytes"));
  g_assert_cmpuint (nebula_error_get_capacity (error), ==, 700);
  g_clear_error (&error);

  g_assert_true (nebula_memory_budget_try_reserve (a, 300, &error));
  g_assert_cmpuint (a_soft, ==, 1);
  g_assert_cmpuint (nebula_memory_budget_get_used (root), ==, 800);
  g_assert_cmpuint (nebula_memory_budget_get_peak (root), ==, 800);
  g_assert_true (nebula_memory_budget_release (a, 300, &error));
  g_assert_true (nebula_memory_budget_release (b, 500, &error));
  g_assert_cmpuint (nebula_memory_budget_get_used (root), ==, 0);
}

/* Concurrent charges never push used past the limit. */
typedef struct
{
  NebulaMemoryBudget *budget;
  guint64             max_seen;
  guint               refused;
} Charger;

static gpointer
charger_cb (gpointer data)
{
  Charger *charger = data;

  for (guint i = 0; i < 20000; i++)
    {
      guint64 size = 1 + i % 97;

      if (nebula_memory_budget_try_reserve (charger->budget, size, NULL))
        {
          guint64 used = nebula_memory_budget_get_used (charger->budget);

          charger->max_seen = MAX (charger->max_seen, used);
          g_assert_true (nebula_memory_budget_release (charger->budget, size, NULL));
        }
      else
        charger->refused++;
    }

  return NULL;
}

static void
test_budget_concurrent (void)
{
  enum { N = 4 };
  g_autoptr(NebulaMemoryBudget) root = nebula_memory_budget_new ("root", 0);
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new_child (root, "tight", 150);
  Charger chargers[N];
  GThread *threads[N];
  guint refused = 0;

  for (guint t = 0; t < N; t++)
    {
      chargers[t] = (Charger) { budget, 0, 0 };
      threads[t] = g_thread_new ("charger", charger_cb, &chargers[t]);
    }
  for (guint t = 0; t < N; t++)
    {
      g_thread_join (threads[t]);
      g_assert_cmpuint (chargers[t].max_seen, <=, 150);
      refused += chargers[t].refused;
    }

  g_test_message ("%u refusals", refused);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
  g_assert_cmpuint (nebula_memory_budget_get_used (root), ==, 0);
  g_assert_cmpuint (nebula_memory_budget_get_peak (budget), <=, 150);
}

static void
test_budget_bump (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("bump", 16384);
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  g_autoptr(NebulaBumpCheckpoint) checkpoint = NULL;
  g_autoptr(GError) error = NULL;
  guint64 reserved_before;
  gpointer large;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "name", "frames",
                         "capacity", (guint64) 4096,
                         "max-capacity", (guint64) 65536,
                         "large-allocation-threshold", (guint64) 2048,
                         "budget", budget,
                         NULL);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 4096);

  /* Growth: a chunk of 8192. */
  checkpoint = nebula_bump_allocator_checkpoint (bump);
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 2000, 8, &error));
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 2000, 8, &error));
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 2000, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 4096 + 8192);

  /* A dedicated chunk for a large request; freeing it releases it. */
  large = nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 3000, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 4096 + 8192 + 3000);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (bump), large, 3000, 8, &error));
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 4096 + 8192);

  /* The budget refuses what max-capacity would allow. */
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 4100, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "Memory budget 'bump' refused 4100 bytes"));
  g_assert_nonnull (strstr (error->message, "12288 of 16384 in use, 4096 available"));
  g_clear_error (&error);
  reserved_before = nebula_memory_budget_get_used (budget);
  g_assert_cmpuint (reserved_before, ==, 4096 + 8192);

  {
    g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (bump));
    g_assert_cmpuint (stats->failed_allocations, ==, 1);
  }

  /* Restore keeps regular chunks as spares (still held, still charged). */
  large = nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 3000, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_bump_allocator_restore (bump, checkpoint, &error));
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 4096 + 8192);

  /* Reset with the default policy keeps one chunk and frees the spares. */
  nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 4096);

  g_clear_object (&bump);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
  g_assert_cmpuint (nebula_memory_budget_get_peak (budget), ==, 4096 + 8192 + 3000);

  /* A budget too small for the first chunk fails construction. */
  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 32768, "budget", budget, NULL);
  g_assert_null (bump);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
}

static void
test_budget_bump_free_all (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new (NULL, 4096);
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  g_autoptr(GError) error = NULL;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 4096, "thread-safe", TRUE,
                         "reset-policy", NEBULA_RESET_POLICY_FREE_ALL,
                         "budget", budget, NULL);
  g_assert_no_error (error);

  /* Reset frees the chunk and asks for a fresh one, which a lowered limit
   * refuses: the allocator stays usable and gets it once the limit allows. */
  nebula_memory_budget_set_limit (budget, 100);
  nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "Memory budget refused 4096 bytes: 0 of 100 in use"));
  g_clear_error (&error);
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 3000, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_clear_error (&error);
  nebula_memory_budget_set_limit (budget, 4096);
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 16, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 4096);
}

static void
test_budget_system (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("heap", 1000);
  g_autoptr(NebulaSystemAllocator) sys = NULL;
  g_autoptr(GError) error = NULL;
  gpointer a, b;

  sys = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error, "budget", budget, NULL);
  g_assert_no_error (error);

  a = nebula_allocator_allocate (NEBULA_ALLOCATOR (sys), 400, 8, &error);
  b = nebula_allocator_allocate_zeroed (NEBULA_ALLOCATOR (sys), 400, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 800);

  g_assert_null (nebula_allocator_reallocate (NEBULA_ALLOCATOR (sys), a, 400, 700, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "refused 300 bytes: 800 of 1000 in use, 200 available"));
  g_clear_error (&error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 800);

  a = nebula_allocator_reallocate (NEBULA_ALLOCATOR (sys), a, 400, 100, 8, &error);
  g_assert_nonnull (a);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 500);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (sys), b, 400, 64, &error));
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 100);

  nebula_allocator_reset (NEBULA_ALLOCATOR (sys));
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);

  /* Without check-frees nothing is remembered, but finalize still gives
   * back what is charged. */
  g_clear_object (&sys);
  sys = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error,
                        "budget", budget, "check-frees", FALSE, NULL);
  a = nebula_allocator_allocate (NEBULA_ALLOCATOR (sys), 300, 8, &error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 300);
  g_clear_object (&sys);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
  g_free (a);
}

static void
test_budget_properties (void)
{
  g_autoptr(NebulaMemoryBudget) parent = nebula_memory_budget_new ("p", 0);
  g_autoptr(NebulaMemoryBudget) budget = NULL;
  g_autoptr(NebulaMemoryBudget) got_parent = NULL;
  g_autofree char *name = NULL;
  guint64 limit, soft, per, used, peak;

  budget = g_object_new (NEBULA_TYPE_MEMORY_BUDGET,
                         "name", "child", "parent", parent,
                         "limit", (guint64) 10, "soft-limit", (guint64) 5,
                         "per-allocation-limit", (guint64) 4, NULL);
  g_assert_true (nebula_memory_budget_try_reserve (budget, 4, NULL));
  g_object_get (budget, "name", &name, "parent", &got_parent, "limit", &limit,
                "soft-limit", &soft, "per-allocation-limit", &per,
                "used", &used, "peak", &peak, NULL);
  g_assert_cmpstr (name, ==, "child");
  g_assert_true (got_parent == parent);
  g_assert_cmpuint (limit, ==, 10);
  g_assert_cmpuint (soft, ==, 5);
  g_assert_cmpuint (per, ==, 4);
  g_assert_cmpuint (used, ==, 4);
  g_assert_cmpuint (peak, ==, 4);
  g_assert_true (nebula_memory_budget_get_parent (budget) == parent);
  g_assert_cmpstr (nebula_memory_budget_get_name (budget), ==, "child");

  /* A child finalized while charged gives its charge back to the parent. */
  g_clear_object (&budget);
  g_clear_object (&got_parent);
  g_assert_cmpuint (nebula_memory_budget_get_used (parent), ==, 0);
}

/* A handler may call back into the allocator whose growth it hears of,
 * even a thread-safe one that grows under its lock. */
static void
allocate_again_cb (NebulaMemoryBudget *budget,
                   guint64             value,
                   gpointer            user_data)
{
  NebulaAllocator *alloc = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) report = NULL;

  /* Takes the grow lock: would deadlock if emitted under it. */
  report = nebula_allocator_get_report (alloc);
  g_assert_nonnull (report);
  g_assert_nonnull (nebula_allocator_allocate (alloc, 100, 8, &error));
  g_assert_no_error (error);
  g_object_set_data (G_OBJECT (budget), "called", GINT_TO_POINTER (1));
}

static void
test_budget_signal_outside_lock (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("grow", 1 << 20);
  g_autoptr(NebulaAllocator) bump = NULL;
  g_autoptr(GError) error = NULL;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 4096,
                         "max-capacity", (guint64) (1 << 20),
                         "large-allocation-threshold", (guint64) 8192,
                         "reset-policy", NEBULA_RESET_POLICY_FREE_ALL,
                         "thread-safe", TRUE,
                         "budget", budget,
                         NULL);
  g_assert_no_error (error);
  nebula_memory_budget_set_soft_limit (budget, 8000);
  g_signal_connect (budget, "soft-limit-exceeded", G_CALLBACK (allocate_again_cb), bump);

  /* Growth by a chunk of 8192 crosses the soft limit... */
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 4000, 8, &error));
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 4000, 8, &error));
  g_assert_no_error (error);
  g_assert_true (g_object_get_data (G_OBJECT (budget), "called") != NULL);
  g_object_set_data (G_OBJECT (budget), "called", NULL);

  /* ...and so does a dedicated chunk, after a release below it. */
  nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 4096);
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 9000, 8, &error));
  g_assert_no_error (error);
  g_assert_true (g_object_get_data (G_OBJECT (budget), "called") != NULL);
}

static NebulaPoolAllocator *
new_pool (NebulaMemoryBudget  *budget,
          gboolean             thread_safe,
          GError             **error)
{
  return g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, error,
                         "name", "slabs",
                         "block-size", (guint64) 64,
                         "block-count", (guint64) 4,
                         "max-block-count", (guint64) 32,
                         "thread-safe", thread_safe,
                         "budget", budget,
                         NULL);
}

/* Slabs of 4, 4, 8 and 16 blocks of 64 bytes: 256, 256, 512, 1024 bytes. */
static void
test_budget_pool (gconstpointer data)
{
  gboolean thread_safe = GPOINTER_TO_INT (data);
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("pool", 1000);
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(GError) error = NULL;
  gpointer blocks[8];

  pool = new_pool (budget, thread_safe, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 256);

  /* The fifth block needs a second slab. */
  for (guint i = 0; i < 8; i++)
    {
      blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 48, 8, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, i < 4 ? 256 : 512);
    }
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 2);

  /* A third slab of 512 bytes would pass the limit. */
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 48, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_nonnull (strstr (error->message,
                            "Memory budget 'pool' refused 512 bytes: 512 of 1000 in use, "
                            "488 available"));
  g_assert_cmpuint (nebula_error_get_requested (error), ==, 512);
  g_assert_cmpuint (nebula_error_get_available (error), ==, 488);
  g_assert_cmpuint (nebula_error_get_capacity (error), ==, 1000);
  g_assert_cmpstr (nebula_error_get_allocator_name (error), ==, "pool");
  g_clear_error (&error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 512);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 2);
  {
    g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (pool));
    g_assert_cmpuint (stats->failed_allocations, ==, 1);
    g_assert_cmpuint (stats->allocations, ==, 8);
  }

  /* Still usable: a freed block is handed out again without a charge. */
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[2], 48, 8, &error));
  blocks[2] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 48, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (pool), blocks[2]));

  /* Once the limit allows, the pool grows again. */
  nebula_memory_budget_set_limit (budget, 1024);
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 48, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 1024);

  /* A reset keeps the slabs, and their charge; finalize gives it back. */
  nebula_allocator_reset (NEBULA_ALLOCATOR (pool));
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 1024);
  g_clear_object (&pool);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
  g_assert_cmpuint (nebula_memory_budget_get_peak (budget), ==, 1024);

  /* A budget too small for the first slab fails construction. */
  nebula_memory_budget_set_limit (budget, 200);
  pool = new_pool (budget, thread_safe, &error);
  g_assert_null (pool);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "refused 256 bytes: 0 of 200 in use, 200 available"));
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
}

typedef struct
{
  NebulaAllocator *pool;
  GPtrArray       *blocks;
  guint            refused;
  guint            other_errors;
} PoolWorker;

static gpointer
pool_worker_cb (gpointer data)
{
  PoolWorker *worker = data;

  for (guint i = 0; i < 100; i++)
    {
      g_autoptr(GError) error = NULL;
      gpointer block = nebula_allocator_allocate (worker->pool, 64, 8, &error);

      if (block != NULL)
        g_ptr_array_add (worker->blocks, block);
      else if (g_error_matches (error, NEBULA_ALLOCATOR_ERROR,
                                NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED))
        worker->refused++;
      else
        worker->other_errors++;
    }

  return NULL;
}

/* Threads racing to grow a thread-safe pool: the budget holds exactly the
 * slabs, and refuses the one that would pass its limit. */
static void
test_budget_pool_concurrent (void)
{
  /* Slabs of 16, 16, 32 and 64 blocks of 64 bytes fill the limit. */
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("racing", 128 * 64);
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(GError) error = NULL;
  PoolWorker workers[4];
  GThread *threads[G_N_ELEMENTS (workers)];
  guint allocated = 0, refused = 0;

  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                         "block-size", (guint64) 64, "block-count", (guint64) 16,
                         "max-block-count", (guint64) 4096, "thread-safe", TRUE,
                         "budget", budget, NULL);
  g_assert_no_error (error);

  for (guint t = 0; t < G_N_ELEMENTS (workers); t++)
    {
      workers[t] = (PoolWorker) { NEBULA_ALLOCATOR (pool), g_ptr_array_new (), 0, 0 };
      threads[t] = g_thread_new ("pool-worker", pool_worker_cb, &workers[t]);
    }
  for (guint t = 0; t < G_N_ELEMENTS (workers); t++)
    {
      g_thread_join (threads[t]);
      g_assert_cmpuint (workers[t].other_errors, ==, 0);
      allocated += workers[t].blocks->len;
      refused += workers[t].refused;
    }

  g_assert_cmpuint (allocated, ==, 128);
  g_assert_cmpuint (refused, ==, 400 - 128);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 4);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 128 * 64);

  for (guint t = 0; t < G_N_ELEMENTS (workers); t++)
    {
      for (guint i = 0; i < workers[t].blocks->len; i++)
        g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool),
                                                    workers[t].blocks->pdata[i], 64, 8, &error));
      g_ptr_array_unref (workers[t].blocks);
    }
  g_assert_no_error (error);
  g_clear_object (&pool);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
}

/* Capacity 1024, then chunks of 2048 and 4096. */
static NebulaStackAllocator *
new_stack (NebulaMemoryBudget  *budget,
           GError             **error)
{
  return g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, error,
                         "capacity", (guint64) 1024,
                         "max-capacity", (guint64) 16384,
                         "budget", budget,
                         NULL);
}

static void
test_budget_stack (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("frames", 4096);
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(NebulaStackMarker) bottom = NULL;
  NebulaAllocator *alloc;
  g_autoptr(GError) error = NULL;
  gpointer a, b, c;

  stack = new_stack (budget, &error);
  g_assert_no_error (error);
  alloc = NEBULA_ALLOCATOR (stack);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 1024);
  bottom = nebula_stack_allocator_mark (stack);

  a = nebula_allocator_allocate (alloc, 900, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 1024);
  b = nebula_allocator_allocate (alloc, 900, 8, &error);   /* a chunk of 2048 */
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 1024 + 2048);

  /* The next chunk, 4096 bytes, would pass the limit. */
  g_assert_null (nebula_allocator_allocate (alloc, 1500, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_nonnull (strstr (error->message,
                            "Memory budget 'frames' refused 4096 bytes: 3072 of 4096 in use, "
                            "1024 available"));
  g_assert_cmpuint (nebula_error_get_requested (error), ==, 4096);
  g_assert_cmpuint (nebula_error_get_available (error), ==, 1024);
  g_clear_error (&error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 3072);

  /* Still usable: what fits the current chunk succeeds, and stays on top
   * of b. Resizing the top block into a new chunk is refused the same way
   * and leaves it in place. */
  c = nebula_allocator_allocate (alloc, 500, 8, &error);
  g_assert_no_error (error);
  g_assert_null (nebula_allocator_reallocate (alloc, c, 500, 3000, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_clear_error (&error);
  g_assert_true (nebula_allocator_deallocate (alloc, c, 500, 8, &error));
  g_assert_true (nebula_allocator_deallocate (alloc, b, 900, 8, &error));
  g_assert_true (nebula_allocator_deallocate (alloc, a, 900, 8, &error));
  g_assert_no_error (error);

  /* Popping out of the chunk of 2048 keeps it as the spare: still held,
   * still charged, and reused without a new charge. */
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 3072);
  a = nebula_allocator_allocate (alloc, 1000, 8, &error);
  b = nebula_allocator_allocate (alloc, 1000, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 3072);

  /* With room for it, a chunk of 4096; releasing to the bottom keeps it as
   * the spare (the larger one) and frees the chunk of 2048. */
  nebula_memory_budget_set_limit (budget, 16384);
  c = nebula_allocator_allocate (alloc, 1500, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 1024 + 2048 + 4096);
  g_assert_true (nebula_stack_allocator_release_to_marker (stack, bottom, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 1024 + 4096);

  /* A reset keeps the first chunk and the spare; finalize frees both. */
  nebula_allocator_reset (alloc);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 1024 + 4096);
  g_clear_object (&stack);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
  g_assert_cmpuint (nebula_memory_budget_get_peak (budget), ==, 1024 + 2048 + 4096);

  /* A budget too small for the first chunk fails construction. */
  nebula_memory_budget_set_limit (budget, 1000);
  stack = new_stack (budget, &error);
  g_assert_null (stack);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_nonnull (strstr (error->message,
                            "Memory budget 'frames' refused 1024 bytes: 0 of 1000 in use"));
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
}

/* Pool and stack charge through a child budget to its parent, and the
 * parent's refusal names both. */
static void
test_budget_parent (void)
{
  g_autoptr(NebulaMemoryBudget) root = nebula_memory_budget_new ("process", 2048);
  g_autoptr(NebulaMemoryBudget) child = nebula_memory_budget_new_child (root, "level", 0);
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(GError) error = NULL;

  pool = new_pool (child, FALSE, &error);
  g_assert_no_error (error);
  stack = new_stack (child, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (child), ==, 256 + 1024);
  g_assert_cmpuint (nebula_memory_budget_get_used (root), ==, 256 + 1024);

  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 1000, 8, &error));
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 1000, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_assert_nonnull (strstr (error->message,
                            "Memory budget 'process' refused 2048 bytes (charged through "
                            "Memory budget 'level'): 1280 of 2048 in use, 768 available"));
  g_clear_error (&error);
  g_assert_cmpuint (nebula_memory_budget_get_used (child), ==, 1280);

  for (guint i = 0; i < 5; i++)
    g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 16, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (root), ==, 256 + 256 + 1024);

  g_clear_object (&pool);
  g_assert_cmpuint (nebula_memory_budget_get_used (root), ==, 1024);
  g_clear_object (&stack);
  g_assert_cmpuint (nebula_memory_budget_get_used (child), ==, 0);
  g_assert_cmpuint (nebula_memory_budget_get_used (root), ==, 0);
}

/* Pool and stack growth may call a handler that calls back into them, even
 * when thread-safe (the pool's grow lock), and even when
 * the charge is the first chunk of an allocator that initializes lazily. */
static void
test_budget_signal_reentry (void)
{
  for (guint kind = 0; kind < 4; kind++)
    {
      g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("reentry", 1 << 20);
      g_autoptr(NebulaAllocator) alloc = NULL;
      g_autoptr(GError) error = NULL;
      gboolean lazy = kind >= 2;

      g_test_message ("%s %s", kind % 2 == 0 ? "pool" : "stack", lazy ? "lazy" : "initialized");
      if (kind % 2 == 0)
        alloc = g_object_new (NEBULA_TYPE_POOL_ALLOCATOR,
                              "block-size", (guint64) 128, "block-count", (guint64) 4,
                              "max-block-count", (guint64) 64, "thread-safe", TRUE,
                              "budget", budget, NULL);
      else
        alloc = g_object_new (NEBULA_TYPE_STACK_ALLOCATOR,
                              "capacity", (guint64) 512, "max-capacity", (guint64) 65536,
                              "budget", budget, NULL);

      /* The first chunk or slab (512 bytes) crosses a soft limit of 100; or,
       * once initialized, the first growth crosses one of 600. */
      if (!lazy)
        {
          g_assert_true (g_initable_init (G_INITABLE (alloc), NULL, &error));
          g_assert_no_error (error);
        }
      nebula_memory_budget_set_soft_limit (budget, lazy ? 100 : 600);
      g_signal_connect (budget, "soft-limit-exceeded", G_CALLBACK (allocate_again_cb), alloc);

      for (guint i = 0; i < 6; i++)
        {
          g_assert_nonnull (nebula_allocator_allocate (alloc, 100, 8, &error));
          g_assert_no_error (error);
        }
      g_assert_true (g_object_get_data (G_OBJECT (budget), "called") != NULL);
      g_assert_cmpuint (nebula_memory_budget_get_used (budget), >, 512);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/budget/basic", test_budget_basic);
  g_test_add_func ("/nebula/budget/release-too-much", test_budget_release_too_much);
  g_test_add_func ("/nebula/budget/hierarchy", test_budget_hierarchy);
  g_test_add_func ("/nebula/budget/concurrent", test_budget_concurrent);
  g_test_add_func ("/nebula/budget/properties", test_budget_properties);
  g_test_add_func ("/nebula/budget/bump", test_budget_bump);
  g_test_add_func ("/nebula/budget/bump-free-all", test_budget_bump_free_all);
  g_test_add_func ("/nebula/budget/system", test_budget_system);
  g_test_add_data_func ("/nebula/budget/pool", GINT_TO_POINTER (FALSE), test_budget_pool);
  g_test_add_data_func ("/nebula/budget/pool/thread-safe", GINT_TO_POINTER (TRUE), test_budget_pool);
  g_test_add_func ("/nebula/budget/pool/concurrent", test_budget_pool_concurrent);
  g_test_add_func ("/nebula/budget/stack", test_budget_stack);
  g_test_add_func ("/nebula/budget/parent", test_budget_parent);
  g_test_add_func ("/nebula/budget/signal-outside-lock", test_budget_signal_outside_lock);
  g_test_add_func ("/nebula/budget/signal-reentry", test_budget_signal_reentry);

  return g_test_run ();
}
