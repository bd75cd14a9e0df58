/* test-child.c: child arenas that take their chunks from a parent
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "test-util.h"

static NebulaBumpAllocator *
child_new (gpointer    parent,
           const char *name,
           guint64     capacity,
           guint64     max_capacity,
           GError    **error)
{
  return g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, error,
                         "parent", parent,
                         "name", name,
                         "capacity", capacity,
                         "max-capacity", max_capacity,
                         NULL);
}

static GString *order;

static void
order_cb (gpointer data)
{
  g_string_append (order, data);
}

static void
test_child_takes_chunks_from_parent (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) parent = nebula_bump_allocator_new (1 << 16, &error);
  g_autoptr(NebulaBumpAllocator) child = NULL;
  g_autoptr(NebulaAllocator) got_parent = NULL;
  guint64 parent_before;
  char *text;

  parent_before = nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (parent));
  child = child_new (parent, "request", 1024, 8192, &error);
  g_assert_no_error (error);
  g_object_get (child, "parent", &got_parent, NULL);
  g_assert_true (got_parent == NEBULA_ALLOCATOR (parent));

  /* The first chunk is a block of the parent. */
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (parent)), >,
                    parent_before + 1024);
  text = nebula_allocator_strdup (NEBULA_ALLOCATOR (child), "in the parent's memory", &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (parent), text));

  /* Growth takes more. */
  parent_before = nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (parent));
  for (guint i = 0; i < 10; i++)
    g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (child), 400, 8, &error));
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (child), >, 1);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (parent)), >, parent_before);

  /* A child may be reset on its own; the parent keeps what it gave. */
  parent_before = nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (parent));
  nebula_allocator_reset (NEBULA_ALLOCATOR (child));
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (child)), ==, 0);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (child), ==, 1);
  g_assert_nonnull (nebula_allocator_strdup (NEBULA_ALLOCATOR (child), "again", &error));
}

static void
test_child_released_by_parent_reset (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) parent = nebula_bump_allocator_new (1 << 16, &error);
  g_autoptr(NebulaBumpAllocator) child = NULL;
  g_autoptr(NebulaBumpAllocator) grandchild = NULL;

  order = g_string_new (NULL);
  child = child_new (parent, "child", 4096, 4096, &error);
  grandchild = child_new (child, "grandchild", 512, 512, &error);
  g_assert_no_error (error);
  nebula_allocator_add_cleanup (NEBULA_ALLOCATOR (parent), order_cb, "P");
  nebula_allocator_add_cleanup (NEBULA_ALLOCATOR (child), order_cb, "C");
  nebula_allocator_add_cleanup (NEBULA_ALLOCATOR (grandchild), order_cb, "G");
  g_assert_nonnull (nebula_allocator_strdup (NEBULA_ALLOCATOR (grandchild), "deep", &error));

  /* Children first, the deepest first, then the parent's own. */
  nebula_allocator_reset (NEBULA_ALLOCATOR (parent));
  g_assert_cmpstr (order->str, ==, "GCP");
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (child), ==, 0);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (grandchild), ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (parent)), ==, 0);

  /* Both work again, with new chunks from their parents. */
  g_assert_cmpstr (nebula_allocator_strdup (NEBULA_ALLOCATOR (grandchild), "back", &error), ==,
                   "back");
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (parent)), >, 0);
  g_string_free (order, TRUE);
}

static void
test_child_released_by_parent_scope (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) parent = nebula_bump_allocator_new (1 << 16, &error);
  g_autoptr(NebulaBumpAllocator) outside = child_new (parent, "outside", 256, 256, &error);
  char *kept;

  kept = nebula_allocator_strdup (NEBULA_ALLOCATOR (outside), "made before the scope", &error);
  {
    NEBULA_BUMP_SCOPE (parent);
    g_autoptr(NebulaBumpAllocator) inside = child_new (parent, "inside", 256, 256, &error);

    g_assert_no_error (error);
    g_assert_nonnull (nebula_allocator_strdup (NEBULA_ALLOCATOR (inside), "scoped", &error));
    g_assert_nonnull (nebula_allocator_strdup (NEBULA_ALLOCATOR (outside), "short", &error));
  }
  /* A child that took no chunk in the scope keeps its memory. */
  g_assert_cmpstr (kept, ==, "made before the scope");
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (outside), ==, 1);
}

static void
test_child_outlives_parent (void)
{
  g_autoptr(GError) error = NULL;
  NebulaBumpAllocator *parent = nebula_bump_allocator_new (4096, &error);
  g_autoptr(NebulaBumpAllocator) child = child_new (parent, "orphan", 256, 4096, &error);
  g_autoptr(NebulaAllocator) got_parent = NULL;
  g_autofree char *json = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (nebula_allocator_strdup (NEBULA_ALLOCATOR (child), "x", &error));
  g_object_unref (parent);

  /* Released when the parent went; asking for a chunk is a clear error. */
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (child), ==, 0);
  g_assert_null (nebula_allocator_strdup (NEBULA_ALLOCATOR (child), "y", &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "was finalized"));
  g_clear_error (&error);

  g_object_get (child, "parent", &got_parent, NULL);
  g_assert_null (got_parent);
  nebula_allocator_reset (NEBULA_ALLOCATOR (child));
  json = nebula_allocator_report_to_json (NEBULA_ALLOCATOR (child));
  g_assert_nonnull (strstr (json, "\"parent\":\"(finalized)\""));
}

static void
test_child_of_every_kind (void)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *parents = g_ptr_array_new_with_free_func (g_object_unref);

  g_ptr_array_add (parents, nebula_system_allocator_new (&error));
  g_ptr_array_add (parents, nebula_stack_allocator_new (1 << 16, &error));
  g_ptr_array_add (parents, nebula_pool_allocator_new (2048, 4, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < parents->len; i++)
    {
      NebulaAllocator *parent = parents->pdata[i];
      g_autoptr(NebulaBumpAllocator) child = child_new (parent, "kid", 1024, 1024, &error);
      g_autofree char *expected = g_strdup_printf ("parent %u", i);
      char *text;

      g_assert_no_error (error);
      text = nebula_allocator_printf (NEBULA_ALLOCATOR (child), &error, "parent %u", i);
      g_assert_no_error (error);
      g_assert_cmpstr (text, ==, expected);
      g_assert_cmpuint (nebula_allocator_get_bytes_used (parent), >, 0);

      nebula_allocator_reset (parent);
      g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (child), ==, 0);
      g_assert_nonnull (nebula_allocator_strdup (NEBULA_ALLOCATOR (child), "again", &error));
      g_assert_no_error (error);
    }

  /* A pool parent gives blocks of its size only. */
  {
    g_autoptr(NebulaBumpAllocator) too_big = child_new (parents->pdata[2], "big", 4096, 4096, &error);

    g_assert_null (too_big);
    g_assert_nonnull (error);
    g_clear_error (&error);
  }

  g_ptr_array_unref (parents);
}

static void
test_child_budgets_nest (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("server", 12 * 1024);
  g_autoptr(NebulaBumpAllocator) parent = NULL;
  g_autoptr(NebulaBumpAllocator) child = NULL;

  parent = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                           "capacity", (guint64) 4096, "max-capacity", (guint64) (1 << 20),
                           "budget", budget, NULL);
  g_assert_no_error (error);
  child = child_new (parent, "request", 1024, 1 << 20, &error);
  g_assert_no_error (error);

  /* The child's growth is the parent's growth, charged to its budget. */
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (child), 16 * 1024, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_clear_error (&error);
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (child), 2048, 8, &error));
  g_assert_no_error (error);
}

static void
test_child_report_tree (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) parent = NULL;
  g_autoptr(NebulaBumpAllocator) child = NULL;
  g_autofree char *json = NULL;
  g_autofree char *after = NULL;

  parent = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                           "capacity", (guint64) 8192, "name", "server", NULL);
  child = child_new (parent, "request-1", 1024, 1024, &error);
  g_assert_no_error (error);

  json = nebula_allocator_report_to_json (NEBULA_ALLOCATOR (parent));
  g_assert_nonnull (strstr (json, "\"children\""));
  g_assert_nonnull (strstr (json, "\"request-1\""));
  g_assert_nonnull (strstr (json, "\"parent\":\"server\""));

  /* A child finalized first leaves the tree and the parent's cleanups. */
  g_clear_object (&child);
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (NEBULA_ALLOCATOR (parent)), ==, 0);
  after = nebula_allocator_report_to_json (NEBULA_ALLOCATOR (parent));
  g_assert_null (strstr (after, "\"children\""));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/child/takes-chunks-from-parent", test_child_takes_chunks_from_parent);
  g_test_add_func ("/nebula/child/released-by-parent-reset", test_child_released_by_parent_reset);
  g_test_add_func ("/nebula/child/released-by-parent-scope", test_child_released_by_parent_scope);
  g_test_add_func ("/nebula/child/outlives-parent", test_child_outlives_parent);
  g_test_add_func ("/nebula/child/of-every-kind", test_child_of_every_kind);
  g_test_add_func ("/nebula/child/budgets-nest", test_child_budgets_nest);
  g_test_add_func ("/nebula/child/report-tree", test_child_report_tree);

  return g_test_run ();
}
