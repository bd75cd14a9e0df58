/* budget-report.c: a tree of memory budgets bounds what a growing bump
 * allocator may take from the system, and the allocator's report shows
 * where its memory went.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <nebula.h>

typedef struct
{
  char   name[20];
  double score;
  char   payload[272];
} Record;

static void
limit_reached_cb (NebulaMemoryBudget *budget,
                  guint64             requested,
                  gpointer            user_data)
{
  g_print ("'%s' reached its limit: refused %" G_GUINT64_FORMAT " bytes\n",
           nebula_memory_budget_get_name (budget), requested);
}

static void
show_budgets (const char         *when,
              NebulaMemoryBudget *app,
              NebulaMemoryBudget *requests)
{
  g_print ("%s: requests %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
           ", app %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes\n",
           when,
           nebula_memory_budget_get_used (requests), nebula_memory_budget_get_limit (requests),
           nebula_memory_budget_get_used (app), nebula_memory_budget_get_limit (app));
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaMemoryBudget) app = NULL;
  g_autoptr(NebulaMemoryBudget) requests = NULL;
  g_autoptr(NebulaBumpAllocator) arena = NULL;
  g_autoptr(GVariant) report = NULL;
  g_autoptr(GVariant) chunks = NULL;
  g_autofree char *json = NULL;
  NebulaAllocator *alloc;
  GVariantIter iter;
  GVariant *chunk;
  const char *kind;
  guint64 size, used, reserved;
  double fragmentation;

  /* The whole application may hold 256 KiB, no single charge above
   * 64 KiB; request handling gets at most 32 KiB of that. */
  app = nebula_memory_budget_new ("app", 256 * 1024);
  nebula_memory_budget_set_per_allocation_limit (app, 64 * 1024);
  requests = nebula_memory_budget_new_child (app, "requests", 32 * 1024);
  g_signal_connect (requests, "limit-reached", G_CALLBACK (limit_reached_cb), NULL);

  /* The first chunk is charged when the allocator is built. */
  arena = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                          "capacity", (guint64) 4096,
                          "max-capacity", (guint64) (64 * 1024),
                          "budget", requests,
                          "name", "request-arena",
                          NULL);
  if (arena == NULL)
    g_error ("%s", error->message);
  alloc = NEBULA_ALLOCATOR (arena);
  show_budgets ("built", app, requests);

  /* Twenty records outgrow the first chunk: the next one, twice as large,
   * is charged to both budgets. */
  for (guint i = 0; i < 20; i++)
    if (nebula_allocator_new (arena, Record, 1, &error) == NULL)
      g_error ("%s", error->message);
  show_budgets ("20 records", app, requests);

  /* Above large-allocation-threshold (half the capacity), a request gets a
   * chunk of its own, charged as it is taken. */
  if (nebula_allocator_allocate (alloc, 10000, 8, &error) == NULL)
    g_error ("%s", error->message);
  show_budgets ("a 10000-byte buffer", app, requests);

  /* The next one would take 'requests' over its limit: refused, and
   * nothing changes. */
  if (nebula_allocator_allocate (alloc, 16000, 8, &error) != NULL ||
      !g_error_matches (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED))
    g_error ("expected budget-exceeded");
  g_print ("refused: %s\n", error->message);
  g_print ("  retryable: %s\n", nebula_error_is_retryable (error) ? "yes" : "no");
  g_clear_error (&error);

  /* Memory that no Nebula allocator manages can be charged directly. */
  if (!nebula_memory_budget_try_reserve (app, 8192, &error))
    g_error ("%s", error->message);
  show_budgets ("8192 bytes reserved", app, requests);
  if (!nebula_memory_budget_release (app, 8192, &error))
    g_error ("%s", error->message);

  if (nebula_memory_budget_try_reserve (app, 100000, &error) ||
      !g_error_matches (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED))
    g_error ("expected budget-exceeded");
  g_print ("refused: %s\n", error->message);
  g_clear_error (&error);

  /* The report: a GVariant dictionary (a{sv}). */
  report = nebula_allocator_get_report (alloc);
  if (!g_variant_lookup (report, "reserved", "t", &reserved) ||
      !g_variant_lookup (report, "fragmentation", "d", &fragmentation))
    g_error ("incomplete report");
  g_print ("reserved %" G_GUINT64_FORMAT " bytes, fragmentation %.3f\n",
           reserved, fragmentation);

  chunks = g_variant_lookup_value (report, "chunks", G_VARIANT_TYPE ("aa{sv}"));
  g_variant_iter_init (&iter, chunks);
  while ((chunk = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_variant_lookup (chunk, "kind", "&s", &kind);
      g_variant_lookup (chunk, "size", "t", &size);
      g_variant_lookup (chunk, "used", "t", &used);
      g_print ("  %-9s chunk: %5" G_GUINT64_FORMAT " bytes, %5" G_GUINT64_FORMAT " used\n",
               kind, size, used);
      g_variant_unref (chunk);
    }

  /* The same as JSON text, members sorted by name. */
  json = nebula_allocator_report_to_json (alloc);
  g_print ("%s\n", json);

  /* A reset keeps the largest chunk (reset-policy KEEP_LARGEST) and gives
   * the others back to the budgets. */
  nebula_allocator_reset (alloc);
  show_budgets ("after reset", app, requests);
  g_print ("peak: requests %" G_GUINT64_FORMAT ", app %" G_GUINT64_FORMAT " bytes\n",
           nebula_memory_budget_get_peak (requests), nebula_memory_budget_get_peak (app));

  g_clear_object (&arena);
  show_budgets ("after finalize", app, requests);

  return nebula_memory_budget_get_used (app) == 0 ? 0 : 1;
}
