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

static NebulaStackAllocator *
stack_child_new (gpointer    parent,
                 const char *name,
                 guint64     capacity,
                 guint64     max_capacity,
                 GError    **error)
{
  return g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, error,
                         "parent", parent,
                         "name", name,
                         "capacity", capacity,
                         "max-capacity", max_capacity,
                         NULL);
}

static NebulaPoolAllocator *
pool_child_new (gpointer    parent,
                const char *name,
                guint64     block_count,
                guint64     max_block_count,
                GError    **error)
{
  return g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, error,
                         "parent", parent,
                         "name", name,
                         "block-size", (guint64) 64,
                         "block-count", block_count,
                         "max-block-count", max_block_count,
                         NULL);
}

static guint64
used (gpointer allocator)
{
  return nebula_allocator_get_bytes_used (allocator);
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
  g_autoptr(NebulaBumpCheckpoint) checkpoint = NULL;
  char *old;

  order = g_string_new (NULL);
  child = child_new (parent, "child", 4096, 4096, &error);
  grandchild = child_new (child, "grandchild", 512, 512, &error);
  g_assert_no_error (error);
  nebula_allocator_add_cleanup (NEBULA_ALLOCATOR (parent), order_cb, "P");
  nebula_allocator_add_cleanup (NEBULA_ALLOCATOR (child), order_cb, "C");
  nebula_allocator_add_cleanup (NEBULA_ALLOCATOR (grandchild), order_cb, "G");
  checkpoint = nebula_bump_allocator_checkpoint (grandchild);
  old = nebula_allocator_strdup (NEBULA_ALLOCATOR (grandchild), "deep", &error);
  g_assert_nonnull (old);

  /* Children first, the deepest first, then the parent's own. */
  nebula_allocator_reset (NEBULA_ALLOCATOR (parent));
  g_assert_cmpstr (order->str, ==, "GCP");
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (child), ==, 0);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (grandchild), ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (parent)), ==, 0);

  /* What the grandchild handed out before is not its own any more. */
  g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (grandchild), old));
  g_assert_false (nebula_allocator_deallocate (NEBULA_ALLOCATOR (grandchild), old, 5, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_false (nebula_bump_allocator_restore (grandchild, checkpoint, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
  g_clear_error (&error);

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

static void
test_stack_child_takes_chunks_from_parent (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) parent = nebula_bump_allocator_new (1 << 16, &error);
  g_autoptr(NebulaStackAllocator) child = NULL;
  g_autoptr(NebulaAllocator) got_parent = NULL;
  guint64 parent_before;
  gpointer block;

  child = stack_child_new (parent, "frame", 1024, 8192, &error);
  g_assert_no_error (error);
  g_object_get (child, "parent", &got_parent, NULL);
  g_assert_true (got_parent == NEBULA_ALLOCATOR (parent));

  /* The first chunk is a block of the parent; so is every block. */
  g_assert_cmpuint (used (parent), >=, 1024);
  block = nebula_allocator_allocate (NEBULA_ALLOCATOR (child), 100, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (parent), block));

  /* Growth takes more. */
  parent_before = used (parent);
  for (guint i = 0; i < 10; i++)
    g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (child), 400, 8, &error));
  g_assert_cmpuint (nebula_stack_allocator_get_n_chunks (child), >, 1);
  g_assert_cmpuint (used (parent), >, parent_before);

  /* A child may be reset on its own: it keeps its first chunk. */
  parent_before = used (parent);
  nebula_allocator_reset (NEBULA_ALLOCATOR (child));
  g_assert_cmpuint (used (child), ==, 0);
  g_assert_cmpuint (nebula_stack_allocator_get_n_chunks (child), ==, 1);
  g_assert_cmpuint (used (parent), ==, parent_before);
  g_assert_nonnull (nebula_allocator_strdup (NEBULA_ALLOCATOR (child), "again", &error));
}

static void
test_stack_child_released_by_parent_reset (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) parent = nebula_bump_allocator_new (1 << 16, &error);
  g_autoptr(NebulaStackAllocator) child = NULL;
  g_autoptr(NebulaPoolAllocator) grandchild = NULL;
  g_autoptr(NebulaStackMarker) before = NULL;
  g_autoptr(NebulaStackMarker) empty = NULL;
  gpointer block, block2;

  order = g_string_new (NULL);
  child = stack_child_new (parent, "frames", 2048, 8192, &error);
  g_assert_no_error (error);
  grandchild = pool_child_new (child, "nodes", 4, 4, &error);
  g_assert_no_error (error);
  nebula_allocator_add_cleanup (NEBULA_ALLOCATOR (parent), order_cb, "P");
  nebula_allocator_add_cleanup (NEBULA_ALLOCATOR (child), order_cb, "C");
  nebula_allocator_add_cleanup (NEBULA_ALLOCATOR (grandchild), order_cb, "G");
  before = nebula_stack_allocator_mark (child);
  block = nebula_allocator_allocate (NEBULA_ALLOCATOR (child), 3000, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_stack_allocator_get_n_chunks (child), ==, 2);

  /* Children first, the deepest first, then the parent's own; every
   * chunk and slab goes back. */
  nebula_allocator_reset (NEBULA_ALLOCATOR (parent));
  g_assert_cmpstr (order->str, ==, "GCP");
  g_string_free (order, TRUE);
  g_assert_cmpuint (nebula_stack_allocator_get_n_chunks (child), ==, 0);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (grandchild), ==, 0);
  g_assert_cmpuint (used (child), ==, 0);
  g_assert_cmpuint (used (parent), ==, 0);

  /* What the child handed out before is not its own any more. */
  g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (child), block));
  g_assert_false (nebula_allocator_deallocate (NEBULA_ALLOCATOR (child), block, 3000, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_false (nebula_stack_allocator_release_to_marker (child, before, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
  g_clear_error (&error);

  /* A reset and a trim are harmless; a marker of the empty stack is
   * where its new first chunk starts. */
  nebula_allocator_reset (NEBULA_ALLOCATOR (child));
  g_assert_cmpuint (nebula_allocator_trim (NEBULA_ALLOCATOR (child), &error), ==, 0);
  g_assert_no_error (error);
  empty = nebula_stack_allocator_mark (child);
  g_assert_true (nebula_stack_allocator_release_to_marker (child, empty, &error));
  g_assert_no_error (error);

  /* Both work again, with a new first chunk or slab from their parents. */
  block2 = nebula_allocator_allocate (NEBULA_ALLOCATOR (grandchild), 64, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (child), block2));
  g_assert_cmpuint (nebula_stack_allocator_get_n_chunks (child), ==, 1);
  g_assert_cmpuint (used (parent), >=, 2048);
  block = nebula_allocator_allocate (NEBULA_ALLOCATOR (child), 16, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_stack_allocator_release_to_marker (child, empty, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (used (child), ==, 0);
}

/* Double-ended, over a parent whose first block starts where its own
 * Valgrind pool is anchored (a bump) and over one without pools. */
static void
test_stack_child_double_ended (void)
{
  g_autoptr(GError) error = NULL;

  for (guint p = 0; p < 2; p++)
    {
      g_autoptr(NebulaAllocator) parent = NULL;
      g_autoptr(NebulaStackAllocator) child = NULL;
      g_autoptr(NebulaStackMarker) high = NULL;
      gpointer block;

      parent = p == 0 ? NEBULA_ALLOCATOR (nebula_system_allocator_new (&error))
                      : NEBULA_ALLOCATOR (nebula_bump_allocator_new (1 << 16, &error));
      g_assert_no_error (error);
      child = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                              "parent", parent, "capacity", (guint64) 1024,
                              "double-ended", TRUE, NULL);
      g_assert_no_error (error);
      g_assert_nonnull (nebula_stack_allocator_allocate_high (child, 100, 8, &error));
      g_assert_no_error (error);
      g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (child), 100, 8, &error));
      g_assert_no_error (error);

      nebula_allocator_reset (parent);
      g_assert_cmpuint (nebula_stack_allocator_get_n_chunks (child), ==, 0);

      /* A high marker of the empty stack, then the high end starts again. */
      high = nebula_stack_allocator_mark_high (child);
      block = nebula_stack_allocator_allocate_high (child, 100, 8, &error);
      g_assert_no_error (error);
      g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (child), block));
      g_assert_true (nebula_stack_allocator_release_to_marker (child, high, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (used (child), ==, 0);
    }
}

static void
test_pool_child_takes_slabs_from_parent (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) parent = nebula_system_allocator_new (&error);
  g_autoptr(NebulaPoolAllocator) child = NULL;
  g_autoptr(NebulaAllocator) got_parent = NULL;
  gpointer blocks[12];
  guint64 parent_before;

  child = pool_child_new (parent, "nodes", 4, 16, &error);
  g_assert_no_error (error);
  g_object_get (child, "parent", &got_parent, NULL);
  g_assert_true (got_parent == NEBULA_ALLOCATOR (parent));
  g_assert_cmpuint (used (parent), ==, 4 * 64);

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (child), 64, 16, &error);
      g_assert_no_error (error);
      g_assert_cmpuint ((guintptr) blocks[i] % 16, ==, 0);
    }
  /* The first block of a slab is where the parent's block starts. */
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (parent), blocks[0]));
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (child), ==, 3);
  g_assert_cmpuint (used (parent), ==, 16 * 64);

  /* A reset of its own keeps the slabs; a trim gives the grown ones back
   * to the parent. */
  nebula_allocator_reset (NEBULA_ALLOCATOR (child));
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (child), ==, 3);
  g_assert_cmpuint (used (parent), ==, 16 * 64);
  g_assert_cmpuint (nebula_allocator_trim (NEBULA_ALLOCATOR (child), &error), ==, 12 * 64);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (child), ==, 1);
  g_assert_cmpuint (used (parent), ==, 4 * 64);

  /* Growth after a trim takes from the parent again. */
  parent_before = used (parent);
  for (guint i = 0; i < 6; i++)
    g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (child), 8, 8, &error));
  g_assert_cmpuint (used (parent), >, parent_before);
}

static void
test_pool_child_released_by_parent_reset (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) parent = nebula_bump_allocator_new (1 << 16, &error);
  g_autoptr(NebulaPoolAllocator) child = NULL;
  gpointer block, again;

  child = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                          "parent", parent, "block-size", (guint64) 128,
                          "block-alignment", (guint64) 128, "block-count", (guint64) 4,
                          "max-block-count", (guint64) 8, NULL);
  g_assert_no_error (error);
  block = nebula_allocator_allocate (NEBULA_ALLOCATOR (child), 128, 128, &error);
  g_assert_no_error (error);
  g_assert_cmpuint ((guintptr) block % 128, ==, 0);

  nebula_allocator_reset (NEBULA_ALLOCATOR (parent));
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (child), ==, 0);
  g_assert_cmpuint (used (child), ==, 0);

  /* Its blocks from before are foreign to it, on every path. */
  g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (child), block));
  g_assert_false (nebula_pool_allocator_free (child, block, 128, 128, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_false (nebula_allocator_deallocate (NEBULA_ALLOCATOR (child), block, 128, 128, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  /* A new first slab of block-count blocks, then growth as before. */
  for (guint i = 0; i < 8; i++)
    {
      again = nebula_pool_allocator_alloc (child, 100, 8, &error);
      g_assert_no_error (error);
      g_assert_cmpuint ((guintptr) again % 128, ==, 0);
    }
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (child), ==, 2);
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (child), 8, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_clear_error (&error);
  g_assert_true (nebula_pool_allocator_free (child, again, 100, 8, &error));
  g_assert_no_error (error);
}

static void
test_pool_child_thread_safe_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) parent = nebula_system_allocator_new (&error);
  g_autoptr(NebulaPoolAllocator) child = NULL;

  child = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                          "parent", parent, "name", "shared", "thread-safe", TRUE, NULL);
  g_assert_null (child);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "'parent'"));
  g_assert_nonnull (strstr (error->message, "'thread-safe'"));
  g_assert_nonnull (strstr (nebula_error_get_suggestion (error), "single-threaded"));

  /* A stack is never thread-safe, as a child neither; a single-threaded
   * stack child is released by its parent's reset. */
  g_clear_error (&error);
  {
    g_autoptr(NebulaStackAllocator) stack = NULL;

    stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                            "parent", parent, "thread-safe", TRUE, NULL);
    g_assert_null (stack);
    g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
    g_assert_nonnull (strstr (error->message, "'thread-safe' cannot be TRUE"));
    g_clear_error (&error);

    stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error, "parent", parent, NULL);
    g_assert_no_error (error);
    g_assert_nonnull (nebula_allocator_strdup (NEBULA_ALLOCATOR (stack), "x", &error));
    nebula_allocator_reset (NEBULA_ALLOCATOR (parent));
    g_assert_cmpuint (nebula_stack_allocator_get_n_chunks (stack), ==, 0);
    g_assert_nonnull (nebula_allocator_strdup (NEBULA_ALLOCATOR (stack), "y", &error));
  }
}

/* Every kind of child over every kind of parent: a child of a finalized
 * parent gives a clear error (never a crash), and a child finalized first
 * gives its chunks back. */
static void
test_children_of_finalized_parent (void)
{
  g_autoptr(GError) error = NULL;

  for (guint p = 0; p < 3; p++)
    for (guint c = 0; c < 3; c++)
      {
        NebulaAllocator *parent;
        g_autoptr(NebulaAllocator) child = NULL;
        g_autoptr(NebulaAllocator) got_parent = NULL;
        g_autofree char *json = NULL;

        parent = p == 0 ? NEBULA_ALLOCATOR (nebula_system_allocator_new (&error))
               : p == 1 ? NEBULA_ALLOCATOR (nebula_stack_allocator_new (1 << 16, &error))
                        : NEBULA_ALLOCATOR (nebula_bump_allocator_new (1 << 16, &error));
        g_assert_no_error (error);
        child = c == 0 ? NEBULA_ALLOCATOR (child_new (parent, "orphan", 256, 256, &error))
              : c == 1 ? NEBULA_ALLOCATOR (stack_child_new (parent, "orphan", 256, 256, &error))
                       : NEBULA_ALLOCATOR (pool_child_new (parent, "orphan", 4, 4, &error));
        g_assert_no_error (error);
        g_assert_nonnull (nebula_allocator_allocate (child, 16, 8, &error));
        g_assert_cmpuint (used (parent), >, 0);

        g_object_unref (parent);
        g_assert_cmpuint (used (child), ==, 0);
        g_assert_null (nebula_allocator_allocate (child, 16, 8, &error));
        g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_FAILED);
        g_assert_nonnull (strstr (error->message, "was finalized"));
        g_clear_error (&error);

        g_object_get (child, "parent", &got_parent, NULL);
        g_assert_null (got_parent);
        nebula_allocator_reset (child);
        g_assert_cmpuint (nebula_allocator_trim (child, &error), ==, 0);
        g_assert_no_error (error);
        json = nebula_allocator_report_to_json (child);
        g_assert_nonnull (strstr (json, "\"parent\":\"(finalized)\""));
      }
}

static void
test_children_budgets_nest (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("server", 12 * 1024);
  g_autoptr(NebulaMemoryBudget) own = nebula_memory_budget_new ("request", 1 << 20);
  g_autoptr(NebulaSystemAllocator) parent = NULL;
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(NebulaPoolAllocator) pool = NULL;

  parent = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error, "budget", budget, NULL);
  g_assert_no_error (error);
  stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                          "parent", parent, "capacity", (guint64) 1024,
                          "max-capacity", (guint64) (1 << 20), "budget", own, NULL);
  g_assert_no_error (error);
  pool = pool_child_new (parent, "nodes", 16, 1024, &error);
  g_assert_no_error (error);

  /* Each chunk or slab is charged to the child's own budget and, as a
   * block of the parent, to the parent's. */
  g_assert_cmpuint (nebula_memory_budget_get_used (own), ==, 1024);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), >=, 1024 + 16 * 64);

  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 16 * 1024, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_clear_error (&error);
  g_assert_cmpuint (nebula_memory_budget_get_used (own), ==, 1024);
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 2048, 8, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < 16; i++)
    g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, &error));
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 8 * 1024, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_clear_error (&error);
  while (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, &error) != NULL)
    ;
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_clear_error (&error);

  /* A release by the parent uncharges both. */
  nebula_allocator_reset (NEBULA_ALLOCATOR (parent));
  g_assert_cmpuint (nebula_memory_budget_get_used (own), ==, 0);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
}

/* A parent reset while a child holds live blocks: the child's blocks are
 * invalid. In the DEBUG preset the child's free-fill shows in them, a
 * free of one is INVALID_POINTER, and under ASan or Valgrind reading one
 * is reported. */
static void
test_children_debug_preset_after_parent_reset (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) parent = NULL;
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  guint8 *in_stack, *in_pool;

  parent = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                           "capacity", (guint64) (1 << 16), "preset", NEBULA_PRESET_DEBUG, NULL);
  g_assert_no_error (error);
  stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error, "parent", parent,
                          "capacity", (guint64) 1024, "preset", NEBULA_PRESET_DEBUG, NULL);
  g_assert_no_error (error);
  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error, "parent", parent,
                         "block-count", (guint64) 4, "preset", NEBULA_PRESET_DEBUG, NULL);
  g_assert_no_error (error);

  in_stack = nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 32, 8, &error);
  in_pool = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 32, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (in_stack[0], ==, 0xAA);
  memset (in_stack, 'x', 32);
  memset (in_pool, 'y', 32);

  nebula_allocator_reset (NEBULA_ALLOCATOR (parent));

  if (!nebula_memory_tools_watching ())
    {
      g_assert_cmpuint (in_stack[0], ==, 0xDD);
      g_assert_cmpuint (in_pool[16], ==, 0xDD);
    }
  g_assert_false (nebula_allocator_deallocate (NEBULA_ALLOCATOR (stack), in_stack, 32, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_false (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), in_pool, 32, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
}

static void
test_children_report_tree (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) parent = NULL;
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(GVariant) report = NULL;
  g_autoptr(GVariant) children = NULL;
  g_autofree char *json = NULL;

  parent = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                           "capacity", (guint64) 8192, "name", "server", NULL);
  stack = stack_child_new (parent, "frames", 1024, 1024, &error);
  g_assert_no_error (error);
  pool = pool_child_new (stack, "nodes", 4, 4, &error);
  g_assert_no_error (error);

  report = nebula_allocator_get_report (NEBULA_ALLOCATOR (parent));
  children = g_variant_lookup_value (report, "children", G_VARIANT_TYPE ("av"));
  g_assert_nonnull (children);
  g_assert_cmpuint (g_variant_n_children (children), ==, 1);
  json = nebula_allocator_report_to_json (NEBULA_ALLOCATOR (parent));
  g_assert_nonnull (strstr (json, "\"frames\""));
  g_assert_nonnull (strstr (json, "\"nodes\""));
  g_assert_nonnull (strstr (json, "\"parent\":\"frames\""));

  /* Children finalized first leave the tree and their parents' cleanups. */
  g_clear_object (&pool);
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (NEBULA_ALLOCATOR (stack)), ==, 0);
  g_clear_object (&stack);
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (NEBULA_ALLOCATOR (parent)), ==, 0);
  g_assert_cmpuint (used (parent), ==, 0);
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
  g_test_add_func ("/nebula/child/stack/takes-chunks-from-parent",
                   test_stack_child_takes_chunks_from_parent);
  g_test_add_func ("/nebula/child/stack/released-by-parent-reset",
                   test_stack_child_released_by_parent_reset);
  g_test_add_func ("/nebula/child/stack/double-ended", test_stack_child_double_ended);
  g_test_add_func ("/nebula/child/pool/takes-slabs-from-parent",
                   test_pool_child_takes_slabs_from_parent);
  g_test_add_func ("/nebula/child/pool/released-by-parent-reset",
                   test_pool_child_released_by_parent_reset);
  g_test_add_func ("/nebula/child/pool/thread-safe-refused", test_pool_child_thread_safe_refused);
  g_test_add_func ("/nebula/child/every-kind/finalized-parent", test_children_of_finalized_parent);
  g_test_add_func ("/nebula/child/every-kind/budgets-nest", test_children_budgets_nest);
  g_test_add_func ("/nebula/child/every-kind/debug-preset", test_children_debug_preset_after_parent_reset);
  g_test_add_func ("/nebula/child/every-kind/report-tree", test_children_report_tree);

  return g_test_run ();
}
