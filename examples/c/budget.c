/* budget.c: two allocators share one memory budget; a soft limit warns
 * before the hard limit refuses, and finalizing gives everything back.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <nebula.h>

static void
soft_limit_exceeded_cb (NebulaMemoryBudget *budget,
                        guint64             used,
                        gpointer            user_data)
{
  g_print ("soft limit passed: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes\n",
           used, nebula_memory_budget_get_limit (budget));
}

static void
limit_reached_cb (NebulaMemoryBudget *budget,
                  guint64             requested,
                  gpointer            user_data)
{
  g_print ("limit reached by a request for %" G_GUINT64_FORMAT " bytes\n", requested);
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("workers", 64 * 1024);
  NebulaPoolAllocator *pool;
  NebulaBumpAllocator *bump;

  nebula_memory_budget_set_soft_limit (budget, 40 * 1024);
  g_signal_connect (budget, "soft-limit-exceeded", G_CALLBACK (soft_limit_exceeded_cb), NULL);
  g_signal_connect (budget, "limit-reached", G_CALLBACK (limit_reached_cb), NULL);

  /* The pool's first slab and the bump's first chunk are charged at once. */
  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                         "block-size", (guint64) 64,
                         "block-count", (guint64) 256,
                         "max-block-count", (guint64) 1024,
                         "budget", budget,
                         "name", "records",
                         NULL);
  if (pool == NULL)
    g_error ("%s", error->message);
  g_print ("after the pool: %" G_GUINT64_FORMAT " bytes charged\n",
           nebula_memory_budget_get_used (budget));

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) (16 * 1024),
                         "max-capacity", (guint64) (64 * 1024),
                         "budget", budget,
                         "name", "scratch",
                         NULL);
  if (bump == NULL)
    g_error ("%s", error->message);
  g_print ("after the bump: %" G_GUINT64_FORMAT " bytes charged\n",
           nebula_memory_budget_get_used (budget));

  /* Growing the pool needs another slab: the budget grants it. */
  for (guint i = 0; i < 300; i++)
    if (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, &error) == NULL)
      g_error ("%s", error->message);
  g_print ("300 records: %u slabs, %" G_GUINT64_FORMAT " bytes charged\n",
           nebula_pool_allocator_get_n_slabs (pool), nebula_memory_budget_get_used (budget));

  /* The bump may grow up to 64 KiB, but the shared budget says no first. */
  while (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 4096, 8, &error) != NULL)
    ;
  if (!g_error_matches (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED))
    g_error ("unexpected: %s", error->message);
  g_print ("bump refused: budget-exceeded\n  %s\n", error->message);

  nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
  g_print ("after resetting the bump: %" G_GUINT64_FORMAT " bytes charged, peak %"
           G_GUINT64_FORMAT "\n",
           nebula_memory_budget_get_used (budget), nebula_memory_budget_get_peak (budget));

  g_object_unref (bump);
  g_object_unref (pool);
  g_print ("after dropping both: %" G_GUINT64_FORMAT " bytes charged\n",
           nebula_memory_budget_get_used (budget));

  return nebula_memory_budget_get_used (budget) == 0 ? 0 : 1;
}
