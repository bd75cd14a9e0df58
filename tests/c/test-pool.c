/* test-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "nebula-sanitizer-private.h"

static NebulaPoolAllocator *
new_pool (GError     **error,
          const char  *first_property,
          ...)
{
  NebulaPoolAllocator *pool;
  va_list args;

  va_start (args, first_property);
  pool = (NebulaPoolAllocator *) g_initable_new_valist (NEBULA_TYPE_POOL_ALLOCATOR,
                                                       first_property, args, NULL, error);
  va_end (args);

  return pool;
}

static void
assert_message_contains (const GError *error,
                         const char   *text)
{
  if (strstr (error->message, text) == NULL)
    g_error ("'%s' not found in the message '%s'", text, error->message);
}

static void
test_pool_basic (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 128, &error);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  guint8 *blocks[10];
  guint64 block_size = 0, block_count = 0, max_block_count = 0;
  gboolean check_frees = FALSE;

  g_assert_no_error (error);
  g_assert_nonnull (pool);
  g_object_get (pool,
                "block-size", &block_size,
                "block-count", &block_count,
                "max-block-count", &max_block_count,
                "check-frees", &check_frees,
                NULL);
  g_assert_cmpuint (block_size, ==, 64);
  g_assert_cmpuint (block_count, ==, 128);
  g_assert_cmpuint (max_block_count, ==, 128);
  g_assert_true (check_frees);
  g_assert_cmpuint (nebula_allocator_get_capacity (alloc), ==, 64 * 128);
  g_assert_cmpuint (nebula_allocator_get_bytes_available (alloc), ==, 64 * 128);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 1);
  g_assert_false (nebula_allocator_get_thread_safe (alloc));

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      blocks[i] = nebula_allocator_allocate (alloc, 1 + i * 6, 16, &error);
      g_assert_no_error (error);
      g_assert_nonnull (blocks[i]);
      g_assert_cmpuint (GPOINTER_TO_SIZE (blocks[i]) % 16, ==, 0);
      g_assert_true (nebula_allocator_owns (alloc, blocks[i]));
      g_assert_true (nebula_allocator_owns (alloc, blocks[i] + 63));
      memset (blocks[i], i, 64);
      for (guint j = 0; j < i; j++)
        g_assert_true (blocks[i] != blocks[j]);
    }

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    for (guint j = 0; j < 64; j++)
      g_assert_cmpuint (blocks[i][j], ==, i);

  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 10 * 64);
  g_assert_cmpuint (nebula_allocator_get_bytes_available (alloc), ==, 118 * 64);

  /* Freed blocks are reused, most recent first. */
  g_assert_true (nebula_allocator_deallocate (alloc, blocks[3], 19, 16, &error));
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_owns (alloc, blocks[3]));
  g_assert_true (nebula_allocator_allocate (alloc, 8, 8, &error) == blocks[3]);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 11);
  g_assert_cmpuint (stats->deallocations, ==, 1);
}

static void
test_pool_rounding (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = new_pool (&error,
                                                  "block-size", (guint64) 10,
                                                  "block-alignment", (guint64) 8,
                                                  "block-count", (guint64) 4,
                                                  NULL);
  g_autoptr(NebulaPoolAllocator) wide = new_pool (&error,
                                                  "block-size", (guint64) 40,
                                                  "block-alignment", (guint64) 64,
                                                  "block-count", (guint64) 3,
                                                  NULL);
  guint64 block_size = 0;
  guint8 *a, *b;

  g_assert_no_error (error);
  g_object_get (pool, "block-size", &block_size, NULL);
  g_assert_cmpuint (block_size, ==, 16);
  g_assert_cmpuint (nebula_allocator_get_capacity (NEBULA_ALLOCATOR (pool)), ==, 64);

  /* The rounded size is what a request may use. */
  a = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 16, 8, &error);
  b = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 16, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ABS (b - a), ==, 16);

  g_object_get (wide, "block-size", &block_size, NULL);
  g_assert_cmpuint (block_size, ==, 64);
  for (guint i = 0; i < 3; i++)
    {
      a = nebula_allocator_allocate (NEBULA_ALLOCATOR (wide), 64, 64, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (GPOINTER_TO_SIZE (a) % 64, ==, 0);
    }
}

static void
test_pool_exhausted (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = new_pool (&error,
                                                  "name", "x",
                                                  "block-size", (guint64) 64,
                                                  "block-count", (guint64) 128,
                                                  NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  gpointer first = NULL, p;

  g_assert_no_error (error);
  for (guint i = 0; i < 128; i++)
    {
      p = nebula_allocator_allocate (alloc, 64, 8, &error);
      g_assert_no_error (error);
      if (i == 0)
        first = p;
    }

  g_assert_null (nebula_allocator_allocate (alloc, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  assert_message_contains (error, "Pool allocator 'x' is exhausted: requested 64 bytes, "
                                  "0 of 128 blocks free");
  g_assert_true (nebula_error_is_retryable (error));
  g_assert_cmpuint (nebula_error_get_requested (error), ==, 64);
  g_assert_cmpuint (nebula_error_get_available (error), ==, 0);
  g_assert_cmpuint (nebula_error_get_capacity (error), ==, 64 * 128);
  g_assert_cmpstr (nebula_error_get_allocator_name (error), ==, "x");
  g_assert_nonnull (nebula_error_get_suggestion (error));
  g_clear_error (&error);

  /* A freed block makes room again. */
  g_assert_true (nebula_allocator_deallocate (alloc, first, 64, 8, &error));
  g_assert_true (nebula_allocator_allocate (alloc, 1, 1, &error) == first);
  g_assert_no_error (error);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 129);
  g_assert_cmpuint (stats->failed_allocations, ==, 1);
}

static void
test_pool_invalid_layout (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = new_pool (&error,
                                                  "name", "nodes",
                                                  "block-size", (guint64) 64,
                                                  "block-alignment", (guint64) 16,
                                                  "block-count", (guint64) 4,
                                                  NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  gpointer p;

  g_assert_null (nebula_allocator_allocate (alloc, 65, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  assert_message_contains (error, "Pool allocator 'nodes' serves blocks of 64 bytes aligned to 16");
  assert_message_contains (error, "cannot allocate 65 bytes aligned to 8");
  g_assert_false (nebula_error_is_retryable (error));
  g_assert_nonnull (strstr (nebula_error_get_suggestion (error), "block-size of at least 80"));
  g_assert_cmpuint (nebula_error_get_requested (error), ==, 65);
  g_clear_error (&error);

  g_assert_null (nebula_allocator_allocate (alloc, 8, 32, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  assert_message_contains (error, "cannot allocate 8 bytes aligned to 32");
  g_assert_nonnull (strstr (nebula_error_get_suggestion (error), "block-alignment of 32"));
  g_clear_error (&error);

  g_assert_null (nebula_allocator_allocate_zeroed (alloc, 1000, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_clear_error (&error);

  /* Freeing with a layout the pool cannot have served. */
  p = nebula_allocator_allocate (alloc, 64, 16, &error);
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_deallocate (alloc, p, 128, 16, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  assert_message_contains (error, "cannot free 128 bytes");
  g_clear_error (&error);
  g_assert_true (nebula_allocator_owns (alloc, p));

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->failed_allocations, ==, 3);
  g_assert_cmpuint (stats->allocations, ==, 1);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 64);
}

static void
check_bad_pointers (NebulaPoolAllocator *pool)
{
  g_autoptr(GError) error = NULL;
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  guint64 used;
  guint8 *p;
  int outside = 0;

  p = nebula_allocator_allocate (alloc, 32, 8, &error);
  g_assert_no_error (error);
  used = nebula_allocator_get_bytes_used (alloc);

  g_assert_false (nebula_allocator_deallocate (alloc, &outside, sizeof outside, 4, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  assert_message_contains (error, "does not lie in this pool");
  assert_message_contains (error, "(size 4)");
  g_clear_error (&error);

  g_assert_false (nebula_allocator_deallocate (alloc, p + 8, 8, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  assert_message_contains (error, "is not the start of a block (it lies 8 bytes into block");
  g_clear_error (&error);

  g_assert_false (nebula_allocator_deallocate (alloc, NULL, 8, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  g_assert_null (nebula_allocator_reallocate (alloc, &outside, 4, 8, 4, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  /* Unchanged and still working. */
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);
  g_assert_true (nebula_allocator_owns (alloc, p));
  g_assert_true (nebula_allocator_deallocate (alloc, p, 32, 8, &error));
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_allocate (alloc, 32, 8, &error) == (gpointer) p);
}

static void
test_pool_invalid_pointer (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 16, &error);
  g_autoptr(NebulaPoolAllocator) concurrent = new_pool (&error,
                                                        "block-size", (guint64) 64,
                                                        "block-count", (guint64) 16,
                                                        "thread-safe", TRUE,
                                                        NULL);

  g_assert_no_error (error);
  check_bad_pointers (pool);
  check_bad_pointers (concurrent);
}

/* After a double free, every block is still handed out exactly once. */
static void
check_double_free (NebulaPoolAllocator *pool,
                   guint                n_blocks)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  gpointer a, b, p;

  a = nebula_allocator_allocate (alloc, 16, 8, &error);
  b = nebula_allocator_allocate (alloc, 16, 8, &error);
  g_assert_no_error (error);

  g_assert_true (nebula_allocator_deallocate (alloc, a, 16, 8, &error));
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_deallocate (alloc, a, 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
  assert_message_contains (error, "is not allocated: it was already freed (double free)");
  assert_message_contains (error, "(size 16)");
  g_assert_false (nebula_error_is_retryable (error));
  g_clear_error (&error);

  /* Reallocating a freed block is refused too. */
  g_assert_null (nebula_allocator_reallocate (alloc, a, 16, 32, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  assert_message_contains (error, "is not allocated");
  g_clear_error (&error);

  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 64);
  g_hash_table_add (seen, b);

  while ((p = nebula_allocator_allocate (alloc, 16, 8, &error)) != NULL)
    {
      g_assert_false (g_hash_table_contains (seen, p));
      g_hash_table_add (seen, p);
    }
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_cmpuint (g_hash_table_size (seen), ==, n_blocks);
  g_assert_true (g_hash_table_contains (seen, a));

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->deallocations, ==, 1);
}

static void
test_pool_double_free (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 32, &error);
  g_autoptr(NebulaPoolAllocator) concurrent = new_pool (&error,
                                                        "block-size", (guint64) 64,
                                                        "block-count", (guint64) 32,
                                                        "thread-safe", TRUE,
                                                        NULL);
  g_autoptr(NebulaPoolAllocator) growing = new_pool (&error,
                                                     "block-size", (guint64) 64,
                                                     "block-count", (guint64) 4,
                                                     "max-block-count", (guint64) 20,
                                                     NULL);

  g_assert_no_error (error);
  check_double_free (pool, 32);
  check_double_free (concurrent, 32);
  check_double_free (growing, 20);
}

/* A free of a block the pool has not handed out since it was created or
 * last reset (the never-used tail; a pointer kept across a reset) is a
 * pointer the pool did not give: INVALID_POINTER, not a double free, and
 * nothing changes. @tail: a block of the tail, counted from the first
 * block handed out; @block: its number in the message, or NULL. */
static void
check_never_handed_out (NebulaPoolAllocator *pool,
                        guint                tail,
                        const char          *block)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  guint8 *a, *b;

  a = nebula_allocator_allocate (alloc, 64, 8, &error);
  g_assert_no_error (error);

  g_assert_false (nebula_allocator_deallocate (alloc, a + (gsize) tail * 64, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  assert_message_contains (error, "which this pool has not handed out since it was created or last reset");
  if (block != NULL)
    assert_message_contains (error, block);
  g_clear_error (&error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 64);

  /* A pointer kept across a reset. */
  nebula_allocator_reset (alloc);
  g_assert_false (nebula_allocator_deallocate (alloc, a, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  assert_message_contains (error, "which this pool has not handed out");
  g_clear_error (&error);

  /* Still usable: a block comes back, and frees once. */
  b = nebula_allocator_allocate (alloc, 64, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_deallocate (alloc, b, 64, 8, &error));
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_deallocate (alloc, b, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
  g_clear_error (&error);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->deallocations, ==, 1);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
}

/* With magazines a refill takes a whole batch from the never-used tail:
 * a block a thread's magazine holds was not handed out, but the pool
 * cannot tell it from a freed one. The error is DOUBLE_FREE and says both. */
static void
test_pool_never_handed_out_cached (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = new_pool (&error,
                                                  "block-size", (guint64) 64,
                                                  "block-count", (guint64) 1024,
                                                  "thread-safe", TRUE,
                                                  NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  gpointer kept[8], again;
  gint magazine_size = 0;

  g_assert_no_error (error);
  g_object_get (pool, "magazine-size", &magazine_size, NULL);
  g_assert_cmpint (magazine_size, >=, (gint) G_N_ELEMENTS (kept));
  for (guint i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      kept[i] = nebula_allocator_allocate (alloc, 64, 8, &error);
      g_assert_no_error (error);
    }

  /* After a reset, one allocation refills the magazine from the tail,
   * which takes the kept blocks' places in it again. */
  nebula_allocator_reset (alloc);
  again = nebula_allocator_allocate (alloc, 64, 8, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      if (kept[i] == again)
        continue;
      g_assert_false (nebula_allocator_deallocate (alloc, kept[i], 64, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
      assert_message_contains (error, "already freed (double free), or it is a block the "
                                      "threads' caches hold that this pool has not handed out");
      g_clear_error (&error);
    }
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 64);
  g_assert_true (nebula_allocator_deallocate (alloc, again, 64, 8, &error));
  g_assert_no_error (error);
}

static void
test_pool_never_handed_out (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 32, &error);
  g_autoptr(NebulaPoolAllocator) concurrent = new_pool (&error,
                                                        "block-size", (guint64) 64,
                                                        "block-count", (guint64) 1024,
                                                        "thread-safe", TRUE,
                                                        NULL);

  g_assert_no_error (error);
  check_never_handed_out (pool, 31, "is block 31,");
  /* Past what a thread's magazine takes in one refill (at most 128
   * blocks), inside the slab. */
  check_never_handed_out (concurrent, 512, NULL);
}

static void
test_pool_reallocate (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = new_pool (&error,
                                                  "block-size", (guint64) 64,
                                                  "block-count", (guint64) 4,
                                                  "alloc-fill", 0xAA,
                                                  NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  guint8 *a, *a2;

  a = nebula_allocator_allocate (alloc, 16, 8, &error);
  g_assert_no_error (error);
  memcpy (a, "0123456789abcdef", 16);

  a2 = nebula_allocator_reallocate (alloc, a, 16, 64, 8, &error);
  g_assert_no_error (error);
  g_assert_true (a2 == a);
  g_assert_cmpmem (a, 16, "0123456789abcdef", 16);
  for (guint i = 16; i < 64; i++)
    g_assert_cmpuint (a[i], ==, 0xAA);

  a2 = nebula_allocator_reallocate (alloc, a, 64, 8, 8, &error);
  g_assert_no_error (error);
  g_assert_true (a2 == a);

  /* A pool cannot serve a larger block: the old one stays. */
  g_assert_null (nebula_allocator_reallocate (alloc, a, 8, 65, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  assert_message_contains (error, "cannot resize a block to 65 bytes");
  g_clear_error (&error);
  g_assert_cmpmem (a, 8, "01234567", 8);
  g_assert_true (nebula_allocator_owns (alloc, a));

  g_assert_null (nebula_allocator_reallocate (alloc, a, 8, 16, 64, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_clear_error (&error);

  /* From NULL it allocates. */
  a2 = nebula_allocator_reallocate (alloc, NULL, 0, 32, 8, &error);
  g_assert_no_error (error);
  g_assert_true (a2 != a);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->reallocations, ==, 2);
  g_assert_cmpuint (stats->bytes_in_use, ==, 8 + 32);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 128);
}

static void
test_pool_growth (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = new_pool (&error,
                                                  "name", "grow",
                                                  "block-size", (guint64) 32,
                                                  "block-count", (guint64) 4,
                                                  "max-block-count", (guint64) 22,
                                                  NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  g_autoptr(GPtrArray) blocks = g_ptr_array_new ();
  gpointer p;

  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_capacity (alloc), ==, 32 * 4);
  g_assert_cmpuint (nebula_allocator_get_bytes_available (alloc), ==, 32 * 22);

  while ((p = nebula_allocator_allocate (alloc, 32, 16, &error)) != NULL)
    {
      memset (p, blocks->len, 32);
      g_ptr_array_add (blocks, p);
    }

  /* Slabs of 4, 4, 8 and the 6 left. */
  g_assert_cmpuint (blocks->len, ==, 22);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 4);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  assert_message_contains (error, "Pool allocator 'grow' is exhausted: requested 32 bytes, "
                                  "0 of 22 blocks free, grown to max-block-count");
  g_assert_cmpuint (nebula_error_get_capacity (error), ==, 32 * 22);
  g_clear_error (&error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 32 * 22);
  g_assert_cmpuint (nebula_allocator_get_bytes_available (alloc), ==, 0);

  for (guint i = 0; i < blocks->len; i++)
    {
      guint8 *b = blocks->pdata[i];

      g_assert_true (nebula_allocator_owns (alloc, b));
      for (guint j = 0; j < 32; j++)
        g_assert_cmpuint (b[j], ==, i);
    }

  /* Blocks of every slab can be freed and reused. */
  for (guint i = 0; i < blocks->len; i += 3)
    {
      g_assert_true (nebula_allocator_deallocate (alloc, blocks->pdata[i], 32, 16, &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < blocks->len; i += 3)
    {
      g_assert_nonnull (nebula_allocator_allocate (alloc, 32, 16, &error));
      g_assert_no_error (error);
    }
  g_assert_null (nebula_allocator_allocate (alloc, 32, 16, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
}

static void
test_pool_reset (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = new_pool (&error,
                                                  "block-size", (guint64) 32,
                                                  "block-count", (guint64) 8,
                                                  "max-block-count", (guint64) 16,
                                                  NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GHashTable) first_round = g_hash_table_new (NULL, NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  gpointer p, kept = NULL;

  g_assert_no_error (error);
  for (guint i = 0; i < 16; i++)
    {
      p = nebula_allocator_allocate (alloc, 24, 8, &error);
      g_assert_no_error (error);
      g_hash_table_add (first_round, p);
      kept = p;
    }
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 2);

  nebula_allocator_reset (alloc);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_available (alloc), ==, 32 * 16);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 2);
  g_assert_false (nebula_allocator_owns (alloc, kept));

  /* A block from before the reset is not allocated any more: the pool
   * has not handed it out since the reset. */
  g_assert_false (nebula_allocator_deallocate (alloc, kept, 24, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  assert_message_contains (error, "is block 15, which this pool has not handed out since");
  g_clear_error (&error);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->resets, ==, 1);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);

  /* The same slabs serve the next round, without growing. */
  for (guint i = 0; i < 16; i++)
    {
      p = nebula_allocator_allocate (alloc, 24, 8, &error);
      g_assert_no_error (error);
      g_assert_true (g_hash_table_contains (first_round, p));
    }
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 2);
  g_assert_null (nebula_allocator_allocate (alloc, 24, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
}

static void
test_pool_owns (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (32, 8, &error);
  g_autoptr(NebulaPoolAllocator) unchecked = new_pool (&error,
                                                       "block-size", (guint64) 32,
                                                       "block-count", (guint64) 8,
                                                       "check-frees", FALSE,
                                                       NULL);
  guint8 *a, *b;
  int outside = 0;

  g_assert_no_error (error);
  a = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 32, 8, &error);
  b = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 32, 8, &error);
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (pool), a));
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (pool), a + 31));
  g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (pool), &outside));
  g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (pool), NULL));
  /* A block never handed out is not owned. */
  g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (pool), b + 32));
  nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), a, 32, 8, &error);
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (pool), a));
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (pool), b));

  /* Without check-frees: handed out since the last reset. */
  a = nebula_allocator_allocate (NEBULA_ALLOCATOR (unchecked), 32, 8, &error);
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (unchecked), a));
  g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (unchecked), a + 32));
  g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (unchecked), &outside));
  nebula_allocator_reset (NEBULA_ALLOCATOR (unchecked));
  g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (unchecked), a));
}

static void
test_pool_unchecked (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = new_pool (&error,
                                                  "block-size", (guint64) 16,
                                                  "block-count", (guint64) 64,
                                                  "check-frees", FALSE,
                                                  "track-stats", FALSE,
                                                  NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  gpointer blocks[64];

  g_assert_no_error (error);
  for (guint round = 0; round < 3; round++)
    {
      for (guint i = 0; i < 64; i++)
        {
          blocks[i] = nebula_allocator_allocate (alloc, 16, 16, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (GPOINTER_TO_SIZE (blocks[i]) % 16, ==, 0);
          memset (blocks[i], 0x5a, 16);
          if (round == 0)
            g_hash_table_add (seen, blocks[i]);
          else
            g_assert_true (g_hash_table_contains (seen, blocks[i]));
        }
      g_assert_cmpuint (g_hash_table_size (seen), ==, 64);
      g_assert_null (nebula_allocator_allocate (alloc, 16, 16, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
      g_clear_error (&error);
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 64 * 16);

      for (guint i = 0; i < 64; i++)
        g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], 16, 16, &error));
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
    }

  /* The layout is still checked. */
  g_assert_null (nebula_allocator_allocate (alloc, 17, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 0);
}

/* A write into a freed block damages the free list: with check-frees the
 * pool notices instead of handing out memory it does not own. */
static void
test_pool_corruption (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (32, 8, &error);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  guint8 *a, *b, *p;

  /* Under ASan or Valgrind the write into the freed block is the tools'
   * to report (test-memory-tools checks they do), and it stops the test. */
  if (nebula_memory_tools_watching ())
    {
      g_test_skip ("the memory tools report the write into a freed block first");
      return;
    }

  a = nebula_allocator_allocate (alloc, 32, 8, &error);
  b = nebula_allocator_allocate (alloc, 32, 8, &error);
  g_assert_no_error (error);
  nebula_allocator_deallocate (alloc, a, 32, 8, &error);
  nebula_allocator_deallocate (alloc, b, 32, 8, &error);
  g_assert_no_error (error);

  /* Use after free: b is on top of the free list. */
  memset (b, 0x41, 32);

  g_assert_true (nebula_allocator_allocate (alloc, 32, 8, &error) == (gpointer) b);
  g_assert_no_error (error);
  g_assert_null (nebula_allocator_allocate (alloc, 32, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_CORRUPTION);
  assert_message_contains (error, "is not a free block");
  assert_message_contains (error, "the free list was rebuilt, 1 blocks in use");
  g_clear_error (&error);

  /* Repaired: the seven other blocks, each once. */
  g_hash_table_add (seen, b);
  while ((p = nebula_allocator_allocate (alloc, 32, 8, &error)) != NULL)
    {
      g_assert_false (g_hash_table_contains (seen, p));
      g_hash_table_add (seen, p);
    }
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 8);
  g_assert_true (g_hash_table_contains (seen, a));
}

static void
test_pool_fills (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) debug = new_pool (&error,
                                                   "block-size", (guint64) 32,
                                                   "block-count", (guint64) 4,
                                                   "preset", NEBULA_PRESET_DEBUG,
                                                   NULL);
  g_autoptr(NebulaPoolAllocator) concurrent = new_pool (&error,
                                                        "block-size", (guint64) 32,
                                                        "block-count", (guint64) 4,
                                                        "thread-safe", TRUE,
                                                        "alloc-fill", 0x11,
                                                        "free-fill", 0x22,
                                                        NULL);
  guint8 *p;

  g_assert_no_error (error);
  p = nebula_allocator_allocate (NEBULA_ALLOCATOR (debug), 32, 8, &error);
  for (guint i = 0; i < 32; i++)
    g_assert_cmpuint (p[i], ==, 0xAA);
  nebula_allocator_deallocate (NEBULA_ALLOCATOR (debug), p, 32, 8, &error);
  g_assert_no_error (error);
  /* The first pointer-sized bytes hold the free-list link. The block is
   * dead: the test looks past the memory tools on purpose. */
  NEBULA_MEM_OPEN (p, 32);
  for (guint i = sizeof (gpointer); i < 32; i++)
    g_assert_cmpuint (p[i], ==, 0xDD);
  NEBULA_MEM_CLOSE (p, 32);

  p = nebula_allocator_allocate (NEBULA_ALLOCATOR (concurrent), 32, 8, &error);
  for (guint i = 0; i < 32; i++)
    g_assert_cmpuint (p[i], ==, 0x11);
  nebula_allocator_deallocate (NEBULA_ALLOCATOR (concurrent), p, 32, 8, &error);
  g_assert_no_error (error);
  /* Thread-safe pools keep the links outside the blocks. */
  NEBULA_MEM_OPEN (p, 32);
  for (guint i = 0; i < 32; i++)
    g_assert_cmpuint (p[i], ==, 0x22);
  NEBULA_MEM_CLOSE (p, 32);
}

static void
test_pool_presets (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) perf = NULL;
  g_autoptr(NebulaPoolAllocator) perf_checked = NULL;
  g_autoptr(NebulaPoolAllocator) production = NULL;
  g_autoptr(NebulaPoolAllocator) production_explicit = NULL;
  gboolean check_frees = TRUE, track_stats = TRUE;
  guint64 max_block_count = 0;
  gpointer p;

  perf = new_pool (&error, "preset", NEBULA_PRESET_PERFORMANCE, NULL);
  g_assert_no_error (error);
  g_object_get (perf, "check-frees", &check_frees, "track-stats", &track_stats, NULL);
  g_assert_false (check_frees);
  g_assert_false (track_stats);

  perf_checked = new_pool (&error, "preset", NEBULA_PRESET_PERFORMANCE, "check-frees", TRUE, NULL);
  g_assert_no_error (error);
  g_object_get (perf_checked, "check-frees", &check_frees, NULL);
  g_assert_true (check_frees);
  p = nebula_allocator_allocate (NEBULA_ALLOCATOR (perf_checked), 8, 8, &error);
  nebula_allocator_deallocate (NEBULA_ALLOCATOR (perf_checked), p, 8, 8, &error);
  g_assert_false (nebula_allocator_deallocate (NEBULA_ALLOCATOR (perf_checked), p, 8, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
  g_clear_error (&error);

  production = new_pool (&error, "preset", NEBULA_PRESET_PRODUCTION,
                         "block-size", (guint64) 16, "block-count", (guint64) 4, NULL);
  g_assert_no_error (error);
  g_object_get (production, "max-block-count", &max_block_count, NULL);
  g_assert_cmpuint (max_block_count, ==, 32);
  for (guint i = 0; i < 32; i++)
    g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (production), 16, 8, &error));
  g_assert_no_error (error);
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (production), 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_clear_error (&error);

  production_explicit = new_pool (&error, "preset", NEBULA_PRESET_PRODUCTION,
                                  "block-count", (guint64) 4,
                                  "max-block-count", (guint64) 6, NULL);
  g_assert_no_error (error);
  g_object_get (production_explicit, "max-block-count", &max_block_count, NULL);
  g_assert_cmpuint (max_block_count, ==, 6);
}

/* Constructs without initializing, as a binding may. */
static NebulaAllocator *
new_uninitialized (const char *first_property,
                   ...)
{
  GObject *object;
  va_list args;

  va_start (args, first_property);
  object = g_object_new_valist (NEBULA_TYPE_POOL_ALLOCATOR, first_property, args);
  va_end (args);

  return NEBULA_ALLOCATOR (object);
}

static void
check_invalid (const char *property,
               const char *rule,
               GError     *error)
{
  g_autofree char *quoted = g_strdup_printf ("'%s'", property);

  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
  assert_message_contains (error, "Pool allocator has an invalid configuration");
  assert_message_contains (error, quoted);
  assert_message_contains (error, rule);
  g_assert_nonnull (strstr (nebula_error_get_suggestion (error), quoted));
  g_error_free (error);
}

static void
test_pool_invalid_config (void)
{
  GError *error = NULL;
  NebulaPoolAllocator *pool;

  g_assert_null (nebula_pool_allocator_new (4, 16, &error));
  check_invalid ("block-size", "must be at least 8 bytes (a free block holds a pointer), not 4", error);
  error = NULL;

  g_assert_null (nebula_pool_allocator_new (0, 16, &error));
  check_invalid ("block-size", "not 0", error);
  error = NULL;

  g_assert_null (new_pool (&error, "block-size", G_MAXUINT64, NULL));
  check_invalid ("block-size", "must be at most", error);
  error = NULL;

  g_assert_null (nebula_pool_allocator_new (64, 0, &error));
  check_invalid ("block-count", "must be greater than 0", error);
  error = NULL;

  g_assert_null (new_pool (&error, "block-alignment", (guint64) 0, NULL));
  check_invalid ("block-alignment", "must be a power of two, not 0", error);
  error = NULL;

  g_assert_null (new_pool (&error, "block-alignment", (guint64) 24, NULL));
  check_invalid ("block-alignment", "must be a power of two, not 24", error);
  error = NULL;

  g_assert_null (new_pool (&error, "block-alignment", (guint64) 1 << 63, NULL));
  check_invalid ("block-alignment", "must be at most", error);
  error = NULL;

  g_assert_null (new_pool (&error, "block-count", (guint64) 10, "max-block-count", (guint64) 5, NULL));
  check_invalid ("max-block-count", "must be 0 (no growth) or at least 'block-count' (10), not 5",
                 error);
  error = NULL;

  g_assert_null (new_pool (&error, "thread-safe", TRUE, "block-count", (guint64) 1 << 32, NULL));
  check_invalid ("block-count", "must be at most 4294967294 in a thread-safe pool", error);
  error = NULL;

  g_assert_null (new_pool (&error, "thread-safe", TRUE, "max-block-count", (guint64) 1 << 33, NULL));
  check_invalid ("max-block-count", "must be at most 4294967294 in a thread-safe pool", error);
  error = NULL;

  g_assert_null (new_pool (&error, "alloc-fill", 256, NULL));
  check_invalid ("alloc-fill", "not 256", error);
  error = NULL;

  g_assert_null (new_pool (&error, "free-fill", -2, NULL));
  check_invalid ("free-fill", "not -2", error);
  error = NULL;

  /* The name appears in the message. */
  pool = new_pool (&error, "name", "frames", "block-count", (guint64) 0, NULL);
  g_assert_null (pool);
  assert_message_contains (error, "Pool allocator 'frames' has an invalid configuration");
  g_clear_error (&error);
}

static void
test_pool_size_overflow (void)
{
  GError *error = NULL;

  g_assert_null (nebula_pool_allocator_new ((gsize) 1 << 40, (gsize) 1 << 40, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW);
  assert_message_contains (error, "'block-size' x 'block-count' overflows: 1099511627776 blocks "
                                  "of 1099511627776 bytes");
  g_assert_cmpuint (nebula_error_get_requested (error), ==, (guint64) 1 << 40);
  g_assert_nonnull (strstr (nebula_error_get_suggestion (error), "Lower 'block-size'"));
  g_clear_error (&error);

  g_assert_null (new_pool (&error, "block-size", (guint64) 1 << 20,
                           "block-count", (guint64) 4,
                           "max-block-count", (guint64) 1 << 50, NULL));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW);
  assert_message_contains (error, "'block-size' x 'max-block-count' overflows");
  g_clear_error (&error);

  /* Rounding up to the alignment counts too. */
  g_assert_null (new_pool (&error, "block-size", (guint64) G_MAXSSIZE,
                           "block-alignment", (guint64) 1 << 40,
                           "block-count", (guint64) 1, NULL));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW);
  assert_message_contains (error, "rounded up to block-alignment 1099511627776");
  g_clear_error (&error);
}

static void
test_pool_uninitialized (void)
{
  g_autoptr(NebulaAllocator) alloc = new_uninitialized ("block-size", (guint64) 4, NULL);
  g_autoptr(NebulaAllocator) valid = new_uninitialized ("block-size", (guint64) 8,
                                                        "block-count", (guint64) 2, NULL);
  g_autoptr(GError) error = NULL;
  int outside = 0;

  g_assert_null (nebula_allocator_allocate (alloc, 8, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
  g_clear_error (&error);
  g_assert_null (nebula_allocator_allocate_zeroed (alloc, 8, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
  g_clear_error (&error);
  g_assert_false (nebula_allocator_deallocate (alloc, &outside, 4, 4, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
  g_clear_error (&error);
  g_assert_null (nebula_allocator_reallocate (alloc, &outside, 4, 8, 4, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
  g_clear_error (&error);
  g_assert_false (nebula_allocator_owns (alloc, &outside));
  nebula_allocator_reset (alloc);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (NEBULA_POOL_ALLOCATOR (alloc)), ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_available (alloc), ==, 0);

  /* A valid configuration initializes on first use. */
  g_assert_nonnull (nebula_allocator_allocate (valid, 8, 8, &error));
  g_assert_no_error (error);
  g_assert_nonnull (nebula_allocator_allocate (valid, 8, 8, &error));
  g_assert_null (nebula_allocator_allocate (valid, 8, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
}

static void
test_pool_frozen_config (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 4, NULL);

      g_object_set (pool, "block-size", (guint64) 128, NULL);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*block-size is a construct property*");
}

static void
test_pool_null_self (void)
{
  if (g_test_subprocess ())
    {
      nebula_pool_allocator_get_n_slabs (NULL);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*NEBULA_IS_POOL_ALLOCATOR*");
}

/* Threads. */

#define N_THREADS       4
#define N_ROUNDS        20000
#define MAX_HELD        48

typedef struct
{
  NebulaAllocator *alloc;
  guint            id;
  gsize            block_size;
  guint            exhausted;
  guint            corruptions;
  guint            allocations;
} Worker;

static gpointer
worker_thread_cb (gpointer data)
{
  Worker *worker = data;
  guint8 *held[MAX_HELD];
  guint n_held = 0;
  GRand *rand = g_rand_new_with_seed (worker->id);

  for (guint round = 0; round < N_ROUNDS; round++)
    {
      gboolean do_alloc = n_held == 0 || (n_held < MAX_HELD && g_rand_boolean (rand));

      if (do_alloc)
        {
          GError *error = NULL;
          guint8 *p = nebula_allocator_allocate (worker->alloc, worker->block_size, 8, &error);

          if (p == NULL)
            {
              if (g_error_matches (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED))
                worker->exhausted++;
              else
                worker->corruptions++;
              g_error_free (error);
              continue;
            }
          worker->allocations++;
          /* Stamp the whole block with who owns it and when. */
          memset (p, (worker->id << 4) | (round & 0xf), worker->block_size);
          p[0] = worker->id;
          p[1] = round & 0xff;
          held[n_held++] = p;
        }
      else
        {
          guint i = g_rand_int_range (rand, 0, n_held);
          guint8 *p = held[i];
          guint8 stamp = p[2];

          /* Nobody else was handed this block meanwhile. */
          if (p[0] != worker->id)
            worker->corruptions++;
          for (gsize j = 2; j < worker->block_size; j++)
            if (p[j] != stamp)
              {
                worker->corruptions++;
                break;
              }

          if (!nebula_allocator_deallocate (worker->alloc, p, worker->block_size, 8, NULL))
            worker->corruptions++;
          held[i] = held[--n_held];
        }
    }

  while (n_held > 0)
    if (!nebula_allocator_deallocate (worker->alloc, held[--n_held], worker->block_size, 8, NULL))
      worker->corruptions++;

  g_rand_free (rand);
  return NULL;
}

static void
run_workers (NebulaPoolAllocator *pool,
             gsize                block_size,
             gboolean             may_exhaust)
{
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  Worker workers[N_THREADS];
  GThread *threads[N_THREADS];
  guint64 total = 0;

  for (guint i = 0; i < N_THREADS; i++)
    {
      workers[i] = (Worker) { .alloc = alloc, .id = i + 1, .block_size = block_size };
      threads[i] = g_thread_new ("pool-worker", worker_thread_cb, &workers[i]);
    }

  for (guint i = 0; i < N_THREADS; i++)
    {
      g_thread_join (threads[i]);
      /* Exhaustion may happen; a corrupted or doubled block may not. */
      g_assert_cmpuint (workers[i].corruptions, ==, 0);
      if (!may_exhaust)
        g_assert_cmpuint (workers[i].exhausted, ==, 0);
      total += workers[i].allocations;
    }

  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, total);
  g_assert_cmpuint (stats->deallocations, ==, total);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
}

static void
test_pool_threads (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) growing = new_pool (&error,
                                                     "block-size", (guint64) 48,
                                                     "block-count", (guint64) 8,
                                                     "max-block-count", (guint64) (N_THREADS * MAX_HELD),
                                                     "thread-safe", TRUE,
                                                     NULL);
  g_autoptr(NebulaPoolAllocator) tight = new_pool (&error,
                                                   "block-size", (guint64) 32,
                                                   "block-count", (guint64) 40,
                                                   "thread-safe", TRUE,
                                                   NULL);
  g_autoptr(NebulaPoolAllocator) unchecked = new_pool (&error,
                                                       "block-size", (guint64) 32,
                                                       "block-count", (guint64) (N_THREADS * MAX_HELD),
                                                       "thread-safe", TRUE,
                                                       "check-frees", FALSE,
                                                       NULL);

  g_assert_no_error (error);
  g_assert_true (nebula_allocator_get_thread_safe (NEBULA_ALLOCATOR (growing)));

  /* Growth under contention, never exhausted. */
  run_workers (growing, 48, FALSE);
  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (growing), >, 1);

  /* Fewer blocks than the threads want: exhaustion is an error, not a
   * corruption. */
  run_workers (tight, 32, TRUE);
  run_workers (unchecked, 32, FALSE);
}

/* A binding may skip GInitable.init: the first calls then race to
 * initialize the pool. */
static void
test_pool_threads_lazy_init (void)
{
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(NebulaPoolAllocator) pool = g_object_new (NEBULA_TYPE_POOL_ALLOCATOR,
                                                          "block-size", (guint64) 32,
                                                          "block-count", (guint64) (N_THREADS * MAX_HELD),
                                                          "thread-safe", TRUE,
                                                          NULL);

      run_workers (pool, 32, FALSE);
      g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (pool), ==, 1);
    }
}

/* The threads meet through atomics only: GMutex and GCond are invisible to
 * ThreadSanitizer in an uninstrumented GLib. */
typedef struct
{
  NebulaAllocator *alloc;
  gpointer         target;
  guint            generation;
  guint            successes;
  guint            double_frees;
  gboolean         done;
} RaceState;

static gpointer
racer_thread_cb (gpointer data)
{
  RaceState *state = data;
  guint seen = 0;

  while (!__atomic_load_n (&state->done, __ATOMIC_ACQUIRE))
    {
      GError *error = NULL;
      gpointer target;
      guint generation = __atomic_load_n (&state->generation, __ATOMIC_ACQUIRE);

      if (generation == seen)
        {
          g_thread_yield ();
          continue;
        }
      seen = generation;
      target = __atomic_load_n (&state->target, __ATOMIC_ACQUIRE);

      if (nebula_allocator_deallocate (state->alloc, target, 16, 8, &error))
        __atomic_fetch_add (&state->successes, 1, __ATOMIC_RELEASE);
      else if (g_error_matches (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE))
        __atomic_fetch_add (&state->double_frees, 1, __ATOMIC_RELEASE);
      g_clear_error (&error);
    }

  return NULL;
}

/* The copies of racing double frees the pool caught and dropped (each logs
 * a warning, not fatal in that test); any other warning fails the test. */
static guint copies_dropped;

static void
count_dropped_copy (const char     *log_domain,
                    GLogLevelFlags  log_level,
                    const char     *message,
                    gpointer        user_data)
{
  if (strstr (message, "was freed twice at the same time by two threads") == NULL)
    g_error ("unexpected warning: %s", message);
  __atomic_fetch_add (&copies_dropped, 1, __ATOMIC_RELAXED);
}

/* Two threads free the same block at the same time. Check-frees marks a
 * free with a compare-and-swap, so exactly one free of each race succeeds
 * and the other is DOUBLE_FREE; no copy of a block is ever left to drop
 * (any warning fails the test), the counts stay exact, and no block is
 * handed out twice. */
static void
test_pool_threads_double_free_race (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = new_pool (&error,
                                                  "block-size", (guint64) 16,
                                                  "block-count", (guint64) 8,
                                                  "thread-safe", TRUE,
                                                  NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  RaceState state = { .alloc = NEBULA_ALLOCATOR (pool) };
  GThread *threads[2];
  const guint n_races = 200;
  GLogLevelFlags always_fatal;
  guint handler;
  gpointer p;

  g_assert_no_error (error);
  copies_dropped = 0;
  always_fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  handler = g_log_set_handler ("Nebula", G_LOG_LEVEL_WARNING, count_dropped_copy, NULL);
  for (guint i = 0; i < 2; i++)
    threads[i] = g_thread_new ("racer", racer_thread_cb, &state);

  for (guint race = 0; race < n_races; race++)
    {
      p = nebula_allocator_allocate (state.alloc, 16, 8, &error);
      g_assert_no_error (error);
      __atomic_store_n (&state.target, p, __ATOMIC_RELEASE);
      __atomic_fetch_add (&state.generation, 1, __ATOMIC_RELEASE);

      while (__atomic_load_n (&state.successes, __ATOMIC_ACQUIRE) +
             __atomic_load_n (&state.double_frees, __ATOMIC_ACQUIRE) < 2 * (race + 1))
        g_thread_yield ();
    }

  __atomic_store_n (&state.done, TRUE, __ATOMIC_RELEASE);
  for (guint i = 0; i < 2; i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (state.successes, ==, n_races);
  g_assert_cmpuint (state.double_frees, ==, n_races);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (state.alloc), ==, 0);

  while ((p = nebula_allocator_allocate (state.alloc, 16, 8, &error)) != NULL)
    {
      g_assert_false (g_hash_table_contains (seen, p));
      g_hash_table_add (seen, p);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 8);

  /* Taking every block met no copy to drop. */
  g_log_remove_handler ("Nebula", handler);
  g_log_set_always_fatal (always_fatal);
  g_assert_cmpuint (__atomic_load_n (&copies_dropped, __ATOMIC_RELAXED), ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (state.alloc), ==, 8 * 16);
}

/* NEBULA_DEFINE_FIXED_POOL */

typedef struct
{
  double x, y;
} Point;

NEBULA_DEFINE_FIXED_POOL (TestPoint, test_point, Point, 4)
NEBULA_DEFINE_FIXED_POOL (TestByte, test_byte, char, 3)

static gboolean
in_static_storage (gconstpointer ptr)
{
  return (const guint8 *) ptr >= (const guint8 *) &test_point_storage &&
         (const guint8 *) ptr < (const guint8 *) (&test_point_storage + 1);
}

static void
test_fixed_pool (void)
{
  Point *points[4];
  char *bytes[3];

  for (guint i = 0; i < 4; i++)
    {
      points[i] = test_point_alloc ();
      g_assert_nonnull (points[i]);
      g_assert_true (in_static_storage (points[i]));
      g_assert_cmpuint (GPOINTER_TO_SIZE (points[i]) % G_ALIGNOF (Point), ==, 0);
      points[i]->x = i;
      points[i]->y = -(double) i;
      for (guint j = 0; j < i; j++)
        g_assert_true (points[i] != points[j]);
    }

  /* Exhausted. */
  g_assert_null (test_point_alloc ());

  for (guint i = 0; i < 4; i++)
    g_assert_cmpfloat (points[i]->x, ==, i);

  /* Freed slots are reused. */
  test_point_free (points[2]);
  test_point_free (points[0]);
  g_assert_true (test_point_alloc () == points[0]);
  g_assert_true (test_point_alloc () == points[2]);
  g_assert_null (test_point_alloc ());
  g_assert_cmpfloat (points[1]->y, ==, -1.0);
  test_point_free (NULL);

  /* A type smaller than a pointer still gets slots that hold the link. */
  for (guint i = 0; i < 3; i++)
    {
      bytes[i] = test_byte_alloc ();
      g_assert_nonnull (bytes[i]);
      *bytes[i] = 'a' + i;
    }
  g_assert_null (test_byte_alloc ());
  for (guint i = 0; i < 3; i++)
    test_byte_free (bytes[i]);
  for (guint i = 0; i < 3; i++)
    g_assert_nonnull (test_byte_alloc ());
}

static void
test_fixed_pool_double_free (void)
{
  if (g_test_subprocess ())
    {
      Point *p = test_point_alloc ();

      test_point_free (p);
      test_point_free (p);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*test_point_free: slot 0 of the fixed pool 'test_point' is not in use: freed twice?*");
}

/* With criticals not fatal, the double free changes nothing. */
static void
test_fixed_pool_double_free_survives (void)
{
  if (g_test_subprocess ())
    {
      Point *a, *b, *c;

      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      a = test_point_alloc ();
      b = test_point_alloc ();
      test_point_free (a);
      test_point_free (a);
      c = test_point_alloc ();
      g_assert_true (c == a);
      /* Without the check, a would be handed out a second time here. */
      g_assert_true (test_point_alloc () != a);
      g_assert_true (b != a);
      g_print ("survived\n");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*survived*");
  g_test_trap_assert_stderr ("*freed twice?*");
}

static void
test_fixed_pool_foreign (void)
{
  if (g_test_subprocess ())
    {
      Point outside = { 0, 0 };
      Point *p = test_point_alloc ();

      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      test_point_free (&outside);
      test_point_free ((Point *) (void *) ((char *) p + 1));
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*is not a slot of the fixed pool 'test_point'*"
                             "is not a slot of the fixed pool 'test_point'*");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/pool/basic", test_pool_basic);
  g_test_add_func ("/nebula/pool/rounding", test_pool_rounding);
  g_test_add_func ("/nebula/pool/exhausted", test_pool_exhausted);
  g_test_add_func ("/nebula/pool/invalid-layout", test_pool_invalid_layout);
  g_test_add_func ("/nebula/pool/invalid-pointer", test_pool_invalid_pointer);
  g_test_add_func ("/nebula/pool/double-free", test_pool_double_free);
  g_test_add_func ("/nebula/pool/never-handed-out", test_pool_never_handed_out);
  g_test_add_func ("/nebula/pool/never-handed-out/cached", test_pool_never_handed_out_cached);
  g_test_add_func ("/nebula/pool/reallocate", test_pool_reallocate);
  g_test_add_func ("/nebula/pool/growth", test_pool_growth);
  g_test_add_func ("/nebula/pool/reset", test_pool_reset);
  g_test_add_func ("/nebula/pool/owns", test_pool_owns);
  g_test_add_func ("/nebula/pool/unchecked", test_pool_unchecked);
  g_test_add_func ("/nebula/pool/corruption", test_pool_corruption);
  g_test_add_func ("/nebula/pool/fills", test_pool_fills);
  g_test_add_func ("/nebula/pool/presets", test_pool_presets);
  g_test_add_func ("/nebula/pool/config/invalid", test_pool_invalid_config);
  g_test_add_func ("/nebula/pool/config/size-overflow", test_pool_size_overflow);
  g_test_add_func ("/nebula/pool/config/uninitialized", test_pool_uninitialized);
  g_test_add_func ("/nebula/pool/config/frozen", test_pool_frozen_config);
  g_test_add_func ("/nebula/pool/null-self", test_pool_null_self);
  g_test_add_func ("/nebula/pool/threads", test_pool_threads);
  g_test_add_func ("/nebula/pool/threads/double-free-race", test_pool_threads_double_free_race);
  g_test_add_func ("/nebula/pool/threads/lazy-init", test_pool_threads_lazy_init);
  g_test_add_func ("/nebula/fixed-pool/alloc-free", test_fixed_pool);
  g_test_add_func ("/nebula/fixed-pool/double-free", test_fixed_pool_double_free);
  g_test_add_func ("/nebula/fixed-pool/double-free-survives", test_fixed_pool_double_free_survives);
  g_test_add_func ("/nebula/fixed-pool/foreign", test_fixed_pool_foreign);

  return g_test_run ();
}
