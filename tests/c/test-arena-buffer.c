/* test-arena-buffer.c: growable buffers in allocators
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "test-util.h"

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
#pragma GCC diagnostic ignored "-Wformat"

typedef struct
{
  double x, y;
} Point;

/* The most recent block grows in place; finishing gives the slack back. */
static void
test_buffer_bump_in_place (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (1 << 16, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaArenaBuffer) buffer = nebula_arena_buffer_new (alloc, 1, &error);
  gpointer first_block;
  char *text;
  gsize length;

  g_assert_no_error (error);
  g_assert_null (nebula_arena_buffer_get_data (buffer));
  g_assert_true (nebula_arena_buffer_append_string (buffer, "<ul>\n", &error));
  first_block = nebula_arena_buffer_get_data (buffer);
  g_assert_cmpuint (nebula_arena_buffer_get_capacity (buffer), ==, 64);

  for (guint i = 0; i < 200; i++)
    g_assert_true (nebula_arena_buffer_append_printf (buffer, &error, "<li>item %u</li>\n", i));
  g_assert_no_error (error);
  g_assert_true (nebula_arena_buffer_append (buffer, (const guint8 *) "</ul>", 5, &error));
  g_assert_cmpuint (nebula_arena_buffer_get_capacity (buffer), >, 64);
  if (!nebula_memory_tools_watching ())
    g_assert_true (nebula_arena_buffer_get_data (buffer) == first_block);

  length = nebula_arena_buffer_get_length (buffer);
  text = nebula_arena_buffer_finish_string (buffer, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (text), ==, length);
  g_assert_true (g_str_has_prefix (text, "<ul>\n<li>item 0</li>\n"));
  g_assert_true (g_str_has_suffix (text, "<li>item 199</li>\n</ul>"));
  if (!nebula_memory_tools_watching ())
    g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, length + 1);

  /* Empty again, ready for the next object. */
  g_assert_cmpuint (nebula_arena_buffer_get_length (buffer), ==, 0);
  g_assert_cmpuint (nebula_arena_buffer_get_capacity (buffer), ==, 0);
  g_assert_true (nebula_arena_buffer_append_string (buffer, "next", &error));
  g_assert_cmpstr (nebula_arena_buffer_finish_string (buffer, &error), ==, "next");
  g_assert_cmpstr (text + length - 5, ==, "</ul>");
}

/* Not the most recent block any more: it moves, with its contents. */
static void
test_buffer_moves (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (1 << 16, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaArenaBuffer) points = nebula_arena_buffer_new_array (bump, Point, &error);
  Point *all;
  gsize size;

  for (guint i = 0; i < 100; i++)
    {
      Point p = { i, -(double) i };

      g_assert_true (nebula_arena_buffer_append_vals (points, Point, &p, 1, &error));
      /* Something else takes the top each time. */
      if (i % 10 == 0)
        g_assert_nonnull (nebula_allocator_strdup (alloc, "interleaved", &error));
    }
  g_assert_no_error (error);

  all = nebula_arena_buffer_finish (points, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (size, ==, 100 * sizeof (Point));
  g_assert_cmpuint (GPOINTER_TO_SIZE (all) % G_ALIGNOF (Point), ==, 0);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpfloat (all[i].y, ==, -(double) i);

  g_assert_false (nebula_arena_buffer_append_array (points, &size, G_MAXSIZE, 2, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW);
}

static void
test_buffer_pool_limit (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (128, 2, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  g_autoptr(NebulaArenaBuffer) buffer = nebula_arena_buffer_new (alloc, 1, &error);
  g_autofree char *big = g_strnfill (100, 'b');

  g_assert_true (nebula_arena_buffer_append_string (buffer, big, &error));
  /* Doubling to 200 does not fit a block: it takes what it needs. */
  g_assert_true (nebula_arena_buffer_append_string (buffer, "0123456789", &error));
  g_assert_cmpuint (nebula_arena_buffer_get_capacity (buffer), ==, 110);
  g_assert_false (nebula_arena_buffer_append_string (buffer, big, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == NEBULA_ALLOCATOR_ERROR);
  g_clear_error (&error);
  g_assert_cmpuint (nebula_arena_buffer_get_length (buffer), ==, 110);

  /* Dropping the buffer unfinished gives the block back. */
  g_clear_pointer (&buffer, nebula_arena_buffer_unref);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
}

static void
test_buffer_released_by_scope (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaArenaBuffer) buffer = nebula_arena_buffer_new (alloc, 1, &error);

  g_assert_true (nebula_arena_buffer_append_string (buffer, "before", &error));
  {
    NEBULA_BUMP_SCOPE (bump);
    g_autofree char *grow = g_strnfill (500, 'g');

    /* Grows (and moves above the scope's checkpoint) inside the scope. */
    g_assert_true (nebula_arena_buffer_append_string (buffer, grow, &error));
  }

  g_assert_false (nebula_arena_buffer_append_string (buffer, "after", &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "released"));
  g_clear_error (&error);

  /* Empty and usable again. */
  g_assert_cmpuint (nebula_arena_buffer_get_length (buffer), ==, 0);
  g_assert_true (nebula_arena_buffer_append_string (buffer, "again", &error));
  nebula_allocator_reset (alloc);
  g_assert_null (nebula_arena_buffer_finish (buffer, NULL, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  /* Released while unfinished: dropping it frees nothing of the new
   * owner of that memory. */
  g_assert_true (nebula_arena_buffer_append_string (buffer, "x", &error));
  nebula_allocator_reset (alloc);
  g_assert_nonnull (nebula_allocator_strdup (alloc, "new owner", &error));
  g_clear_pointer (&buffer, nebula_arena_buffer_unref);
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (alloc), ==, 0);
}

static void
test_buffer_finish_variants (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = nebula_system_allocator_new (&error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (sys);
  g_autoptr(NebulaArenaBuffer) buffer = nebula_arena_buffer_new (alloc, 8, &error);
  g_autoptr(GBytes) bytes = NULL;
  gpointer empty;
  guint64 address, length = 99;
  gsize size = 99;

  empty = nebula_arena_buffer_finish (buffer, &size, &error);
  g_assert_no_error (error);
  g_assert_nonnull (empty);
  g_assert_cmpuint (size, ==, 0);
  g_assert_true (nebula_allocator_deallocate (alloc, empty, 0, 8, &error));

  g_assert_true (nebula_arena_buffer_append_printf (buffer, &error, "%d-%d", 1, 2));
  /* printf()'s own conversions too (widths, floats). */
  g_assert_true (nebula_arena_buffer_append_printf (buffer, &error, "|%3d|%.1f", 7, 0.25));
  bytes = nebula_arena_buffer_finish_bytes (buffer, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "1-2|  7|0.2", 11);

  g_assert_true (nebula_arena_buffer_reserve (buffer, 1000, &error));
  g_assert_cmpuint (nebula_arena_buffer_get_capacity (buffer), >=, 1000);
  g_assert_true (nebula_arena_buffer_append_string (buffer, "abc", &error));
  address = nebula_arena_buffer_finish_address (buffer, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, ==, 3);
  g_assert_true (nebula_allocator_deallocate_address (alloc, address, 3, 8, &error));
  g_assert_no_error (error);
}

static void
test_buffer_bad_input (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (256, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaArenaBuffer) buffer = NULL;
  const char *no_format = NULL;

  g_assert_null (nebula_arena_buffer_new (alloc, 3, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  g_clear_error (&error);

  buffer = nebula_arena_buffer_new (alloc, 1, &error);
  g_assert_false (nebula_arena_buffer_append (buffer, NULL, 4, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_true (nebula_arena_buffer_append (buffer, NULL, 0, &error));
  g_assert_false (nebula_arena_buffer_append_string (buffer, NULL, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_false (nebula_arena_buffer_append_printf (buffer, &error, no_format));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_false (nebula_arena_buffer_reserve (buffer, 4096, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_clear_error (&error);
  g_assert_true (nebula_arena_buffer_append_string (buffer, "fine", &error));
  g_assert_false (nebula_arena_buffer_reserve (buffer, G_MAXSIZE, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW);
  g_clear_error (&error);
  g_assert_cmpstr (nebula_arena_buffer_finish_string (buffer, &error), ==, "fine");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/arena-buffer/bump-in-place", test_buffer_bump_in_place);
  g_test_add_func ("/nebula/arena-buffer/moves", test_buffer_moves);
  g_test_add_func ("/nebula/arena-buffer/pool-limit", test_buffer_pool_limit);
  g_test_add_func ("/nebula/arena-buffer/released-by-scope", test_buffer_released_by_scope);
  g_test_add_func ("/nebula/arena-buffer/finish-variants", test_buffer_finish_variants);
  g_test_add_func ("/nebula/arena-buffer/bad-input", test_buffer_bad_input);

  return g_test_run ();
}
