/* test-typed.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "test-util.h"

typedef struct
{
  double  x;
  double  y;
  guint8  tag;
} Point;

typedef struct
{
  guint8 bytes[3];
} Odd;

static void
test_typed_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  guint8 *misalign;
  Point *points;
  Odd *odd;

  g_assert_no_error (error);

  /* Knock the cursor off every natural boundary first. */
  misalign = nebula_allocator_new (bump, guint8, 1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (misalign);

  points = nebula_allocator_new (bump, Point, 10, &error);
  g_assert_no_error (error);
  g_assert_nonnull (points);
  g_assert_cmpuint (GPOINTER_TO_SIZE (points) % G_ALIGNOF (Point), ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), >=, 1 + 10 * sizeof (Point));
  for (guint i = 0; i < 10; i++)
    points[i] = (Point) { i, -(double) i, (guint8) i };
  g_assert_cmpfloat (points[9].x, ==, 9.0);
  g_assert_true (nebula_allocator_owns (alloc, &points[9].tag));

  odd = nebula_allocator_new (alloc, Odd, 5, &error);
  g_assert_no_error (error);
  g_assert_nonnull (odd);
  g_assert_true ((guint8 *) odd >= (guint8 *) (points + 10));
}

static void
test_typed_new0 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  Point *points;
  gint64 *numbers;

  /* alloc-fill proves that new0 zeroes rather than finding zeroes. */
  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 4096,
                         "alloc-fill", 0xAA,
                         NULL);
  g_assert_no_error (error);

  numbers = nebula_allocator_new (bump, gint64, 4, &error);
  g_assert_no_error (error);
  g_assert_cmpuint ((guint64) numbers[0], ==, G_GUINT64_CONSTANT (0xAAAAAAAAAAAAAAAA));

  points = nebula_allocator_new0 (bump, Point, 8, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 8; i++)
    {
      g_assert_cmpfloat (points[i].x, ==, 0.0);
      g_assert_cmpfloat (points[i].y, ==, 0.0);
      g_assert_cmpuint (points[i].tag, ==, 0);
    }
}

static void
test_typed_overflow (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autofree char *expected = NULL;
  gsize n = G_MAXSIZE / sizeof (Point) + 1;
  Point *points;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 1024,
                         "name", "typed",
                         NULL);
  g_assert_no_error (error);

  points = nebula_allocator_new (bump, Point, n, &error);
  g_assert_null (points);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW);
  expected = g_strdup_printf ("Bump allocator 'typed': %" G_GSIZE_FORMAT " elements of %"
                              G_GSIZE_FORMAT " bytes overflow the size type (at most %"
                              G_GSIZE_FORMAT " bytes)",
                              n, sizeof (Point), (gsize) G_MAXSIZE);
  g_assert_true (g_str_has_prefix (error->message, expected));
  g_assert_cmpstr (nebula_error_get_allocator_name (error), ==, "typed");
  g_assert_nonnull (nebula_error_get_suggestion (error));
  g_assert_false (nebula_error_is_retryable (error));
  g_clear_error (&error);

  points = nebula_allocator_new0 (bump, Point, n, &error);
  g_assert_null (points);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW);
  g_clear_error (&error);

  /* A product that fits but exceeds what any allocation may be is the
   * layout check's EXCEEDS_MAX_SIZE, not an overflow. */
  g_assert_null (nebula_allocator_new (bump, guint64, G_MAXSIZE / 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXCEEDS_MAX_SIZE);
  g_clear_error (&error);

  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (bump));
  g_assert_cmpuint (stats->failed_allocations, ==, 3);
  g_assert_cmpuint (stats->allocations, ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump)), ==, 0);

  /* The allocator stays usable. */
  points = nebula_allocator_new (bump, Point, 2, &error);
  g_assert_no_error (error);
  g_assert_nonnull (points);
}

static void
test_typed_array_address (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) system = nebula_system_allocator_new (&error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (system);
  guint64 address;
  guint8 *bytes;

  g_assert_no_error (error);

  address = nebula_allocator_allocate_array_address (alloc, 16, 4, 4, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (address, !=, 0);
  g_assert_cmpuint (address % 4, ==, 0);
  bytes = GSIZE_TO_POINTER ((gsize) address);
  for (guint i = 0; i < 64; i++)
    g_assert_cmpuint (bytes[i], ==, 0);
  g_assert_true (nebula_allocator_deallocate_address (alloc, address, 64, 4, &error));
  g_assert_no_error (error);

  address = nebula_allocator_allocate_array_address (alloc, G_MAXUINT64, 2, 8, FALSE, &error);
  g_assert_cmpuint (address, ==, 0);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW);
  g_assert_nonnull (strstr (error->message, "elements of 2 bytes overflow"));
  g_clear_error (&error);

  /* The layout rules apply to arrays too. */
  address = nebula_allocator_allocate_array_address (alloc, 2, 8, 3, FALSE, &error);
  g_assert_cmpuint (address, ==, 0);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
}

static gsize
bytes_used (NebulaBumpAllocator *bump)
{
  return nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump));
}

static gboolean
fill_in_scope (NebulaBumpAllocator *bump,
               gboolean             leave_early)
{
  NEBULA_BUMP_SCOPE (bump);
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (nebula_allocator_new (bump, guint64, 32, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (bytes_used (bump), >=, 256);

  if (leave_early)
    return FALSE;

  g_assert_nonnull (nebula_allocator_new (bump, guint64, 32, &error));
  g_assert_cmpuint (bytes_used (bump), >=, 512);
  return TRUE;
}

/* nebula_allocator_new() and nebula_allocator_delete() take a built-in
 * allocator's own pointer type, no cast (the build has
 * -Werror=incompatible-pointer-types), and free with the size and
 * alignment the allocation used: a pool checks both. */
static void
test_typed_delete (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (4 * sizeof (Point), 2, &error);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  Point *points;

  g_assert_no_error (error);
  points = nebula_allocator_new (pool, Point, 4, &error);
  g_assert_no_error (error);
  g_assert_nonnull (points);

  g_assert_true (nebula_allocator_delete (pool, Point, points, 4, &error));
  g_assert_no_error (error);
  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (pool));
  g_assert_cmpuint (stats->deallocations, ==, 1);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);

  /* Freed already: the pool says so. */
  g_assert_false (nebula_allocator_delete (pool, Point, points, 4, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
  g_clear_error (&error);

  /* No block can have a size that overflows: nothing is freed. */
  points = nebula_allocator_new (pool, Point, 1, &error);
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_delete (pool, Point, points, G_MAXSIZE / 2, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW);
  g_assert_nonnull (strstr (error->message, "overflow the size type"));
  g_clear_error (&error);
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (pool), points));
  g_assert_true (nebula_allocator_delete (pool, Point, points, 1, &error));
  g_assert_no_error (error);
}

static void
test_typed_bump_scope (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, &error);
  gsize before;

  g_assert_no_error (error);
  g_assert_nonnull (nebula_allocator_new (bump, char, 5, &error));
  before = bytes_used (bump);
  g_assert_cmpuint (before, ==, test_bump_span (5));

  g_assert_true (fill_in_scope (bump, FALSE));
  g_assert_cmpuint (bytes_used (bump), ==, before);

  g_assert_false (fill_in_scope (bump, TRUE));
  g_assert_cmpuint (bytes_used (bump), ==, before);

  /* Scopes nest, and two on different lines of one block coexist. */
  {
    NEBULA_BUMP_SCOPE (bump);
    g_assert_nonnull (nebula_allocator_new (bump, char, 100, &error));
    {
      NEBULA_BUMP_SCOPE (bump);
      g_assert_nonnull (nebula_allocator_new (bump, char, 200, &error));
      g_assert_cmpuint (bytes_used (bump), ==,
                        before + test_bump_span (100) + test_bump_span (200));
    }
    g_assert_cmpuint (bytes_used (bump), ==, before + test_bump_span (100));
  }
  g_assert_cmpuint (bytes_used (bump), ==, before);

  {
    NEBULA_BUMP_SCOPE (bump);
    NEBULA_BUMP_SCOPE (bump);
    g_assert_nonnull (nebula_allocator_new (bump, char, 50, &error));
    g_assert_cmpuint (bytes_used (bump), ==, before + test_bump_span (50));
  }
  g_assert_cmpuint (bytes_used (bump), ==, before);

  for (guint i = 0; i < 100; i++)
    {
      NEBULA_BUMP_SCOPE (bump);
      g_assert_nonnull (nebula_allocator_new (bump, char, 1000, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (bytes_used (bump), ==, before);
}

static gsize
stack_bytes_used (NebulaStackAllocator *stack)
{
  return nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (stack));
}

static gboolean
push_in_frame (NebulaStackAllocator *stack,
               gboolean              leave_early)
{
  NEBULA_STACK_FRAME (stack);
  g_autoptr(GError) error = NULL;
  Point *points;

  points = nebula_allocator_new (stack, Point, 4, &error);
  g_assert_no_error (error);
  g_assert_nonnull (points);
  points[3] = (Point) { 1.0, 2.0, 3 };

  if (leave_early)
    return FALSE;

  g_assert_nonnull (nebula_allocator_new (stack, guint64, 16, &error));
  g_assert_no_error (error);
  return TRUE;
}

static void
test_typed_stack_frame (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaStackAllocator) stack = NULL;
  gpointer high;
  gsize before;

  stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                          "capacity", (guint64) 4096,
                          "double-ended", TRUE,
                          NULL);
  g_assert_no_error (error);

  g_assert_nonnull (nebula_allocator_new (stack, char, 5, &error));
  g_assert_no_error (error);
  before = stack_bytes_used (stack);
  g_assert_cmpuint (before, >, 0);

  /* Every way out of the function closes the frame. */
  g_assert_true (push_in_frame (stack, FALSE));
  g_assert_cmpuint (stack_bytes_used (stack), ==, before);
  g_assert_false (push_in_frame (stack, TRUE));
  g_assert_cmpuint (stack_bytes_used (stack), ==, before);

  /* Frames nest, and two on different lines of one block coexist. */
  {
    gsize outer;

    NEBULA_STACK_FRAME (stack);
    g_assert_nonnull (nebula_allocator_new (stack, char, 100, &error));
    outer = stack_bytes_used (stack);
    g_assert_cmpuint (outer, >, before);
    {
      NEBULA_STACK_FRAME (stack);
      NEBULA_STACK_FRAME (stack);
      g_assert_nonnull (nebula_allocator_new (stack, char, 200, &error));
      g_assert_cmpuint (stack_bytes_used (stack), >, outer);
    }
    g_assert_cmpuint (stack_bytes_used (stack), ==, outer);
  }
  g_assert_cmpuint (stack_bytes_used (stack), ==, before);

  /* The frame belongs to the low end: the high end keeps what it pushed
   * inside the frame. */
  {
    NEBULA_STACK_FRAME (stack);
    g_assert_nonnull (nebula_allocator_new (stack, char, 64, &error));
    high = nebula_stack_allocator_allocate_high (stack, 32, 8, &error);
    g_assert_no_error (error);
    g_assert_nonnull (high);
  }
  g_assert_cmpuint (stack_bytes_used (stack), >, before);
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (stack), high));
  g_assert_true (nebula_stack_allocator_deallocate_high (stack, high, 32, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stack_bytes_used (stack), ==, before);

  /* A loop opens and closes a frame per iteration: a stack smaller than
   * the total never runs out. */
  for (guint i = 0; i < 100; i++)
    {
      NEBULA_STACK_FRAME (stack);
      g_assert_nonnull (nebula_allocator_new (stack, char, 1000, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (stack_bytes_used (stack), ==, before);
}

/* Every public type can be held by g_autoptr(). */
static void
test_typed_autoptr (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (256, &error);
  g_autoptr(NebulaSystemAllocator) system = nebula_system_allocator_new (&error);
  g_autoptr(NebulaAllocator) alloc = g_object_ref (NEBULA_ALLOCATOR (bump));
  g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (alloc);
  g_autoptr(NebulaBumpCheckpoint) checkpoint = nebula_bump_allocator_checkpoint (bump);
  g_autoptr(NebulaBumpScope) scope = nebula_bump_scope_new (bump);
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (32, 4, &error);
  g_autoptr(NebulaStackAllocator) stack = nebula_stack_allocator_new (256, &error);
  g_autoptr(NebulaStackMarker) marker = nebula_stack_allocator_mark (stack);
  g_autoptr(NebulaStackFrame) frame = nebula_stack_frame_new (stack);

  g_assert_no_error (error);
  g_assert_nonnull (system);
  g_assert_nonnull (stats);
  g_assert_nonnull (checkpoint);
  g_assert_nonnull (scope);
  g_assert_nonnull (pool);
  g_assert_nonnull (marker);
  g_assert_nonnull (frame);
  g_assert_nonnull (nebula_allocator_new (alloc, int, 4, &error));
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, test_bump_span (16));
  g_clear_pointer (&scope, nebula_bump_scope_free);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/typed/new", test_typed_new);
  g_test_add_func ("/nebula/typed/new0", test_typed_new0);
  g_test_add_func ("/nebula/typed/overflow", test_typed_overflow);
  g_test_add_func ("/nebula/typed/array-address", test_typed_array_address);
  g_test_add_func ("/nebula/typed/delete", test_typed_delete);
  g_test_add_func ("/nebula/typed/bump-scope", test_typed_bump_scope);
  g_test_add_func ("/nebula/typed/stack-frame", test_typed_stack_frame);
  g_test_add_func ("/nebula/typed/autoptr", test_typed_autoptr);

  return g_test_run ();
}
