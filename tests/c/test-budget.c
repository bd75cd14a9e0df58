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
  g_assert_cmpstr (nebula_error_get_allocator_name (error), ==, "Memory budget 'frames'");
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
  g_assert_cmpstr (nebula_error_get_allocator_name (error), ==, "Memory budget 'process'");
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
  g_test_add_func ("/nebula/budget/signal-outside-lock", test_budget_signal_outside_lock);

  return g_test_run ();
}
