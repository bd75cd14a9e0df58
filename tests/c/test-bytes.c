/* test-bytes.c: blocks handed to GLib as GBytes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "test-util.h"

static guint64
deallocations (gpointer allocator)
{
  g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (allocator);

  return stats->deallocations;
}

static void
test_bytes_pool_round_trip (void)
{
  g_autoptr(GError) error = NULL;
  NebulaPoolAllocator *pool = nebula_pool_allocator_new (64, 2, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  GBytes *bytes;
  char *block;
  gsize size;

  block = nebula_allocator_allocate (alloc, 16, 8, &error);
  g_assert_no_error (error);
  memcpy (block, "payload", 8);

  bytes = nebula_allocator_to_bytes (alloc, block, 16, 8, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_get_data (bytes, &size) == block);
  g_assert_cmpuint (size, ==, 16);
  g_assert_cmpstr (g_bytes_get_data (bytes, NULL), ==, "payload");

  /* The GBytes keeps the allocator alive. */
  g_object_add_weak_pointer (G_OBJECT (pool), (gpointer *) &pool);
  g_object_unref (pool);
  g_assert_nonnull (pool);
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (alloc), ==, 1);

  /* The last reference gives the block back, then lets the pool go. */
  g_object_ref (pool);
  g_bytes_unref (bytes);
  g_assert_cmpuint (deallocations (pool), ==, 1);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (alloc), ==, 0);
  g_object_unref (pool);
  g_assert_null (pool);
}

static void
test_bytes_reset_first (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 2, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  gpointer block, again;
  GBytes *bytes;

  block = nebula_allocator_allocate (alloc, 64, 8, &error);
  bytes = nebula_allocator_to_bytes (alloc, block, 64, 8, &error);
  g_assert_no_error (error);

  /* A reset releases the block; the same address is handed out again. The
   * GBytes' last unref must not free the new owner's block. */
  nebula_allocator_reset (alloc);
  again = nebula_allocator_allocate (alloc, 64, 8, &error);
  g_assert_no_error (error);
  g_bytes_unref (bytes);
  g_assert_cmpuint (deallocations (pool), ==, 0);
  g_assert_true (nebula_allocator_deallocate (alloc, again, 64, 8, &error));
  g_assert_no_error (error);
}

static void
test_bytes_debug_preset_reports (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  NebulaAllocator *alloc;
  GBytes *kept;
  GBytes *dropped;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 4096, "name", "responses",
                         "preset", NEBULA_PRESET_DEBUG, NULL);
  g_assert_no_error (error);
  alloc = NEBULA_ALLOCATOR (bump);

  {
    NEBULA_BUMP_SCOPE (bump);
    const guint8 body[] = "HTTP/1.1 200 OK";

    /* Dropped inside its scope: nothing to report, the block goes back. */
    dropped = nebula_allocator_bytes_new (alloc, body, sizeof body, 1, &error);
    g_assert_no_error (error);
    g_bytes_unref (dropped);

    kept = nebula_allocator_bytes_new (alloc, body, sizeof body, 1, &error);
    g_assert_no_error (error);
    g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
                           "*GBytes of 16 bytes from Bump allocator 'responses'*released*");
  }
  g_test_assert_expected_messages ();

  /* The free fill shows in the bytes (not read under the memory tools,
   * which would rightly report the read). */
  if (!nebula_memory_tools_watching ())
    g_assert_cmpuint (((const guint8 *) g_bytes_get_data (kept, NULL))[0], ==, 0xDD);
  g_bytes_unref (kept);
}

static void
test_bytes_bad_input (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (256, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  guint8 foreign[16];
  guint8 *block;

  g_assert_null (nebula_allocator_to_bytes (alloc, NULL, 4, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  g_assert_null (nebula_allocator_to_bytes (alloc, foreign, sizeof foreign, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "GBytes"));
  g_clear_error (&error);

  /* Past the used part: not a block yet. */
  block = nebula_allocator_allocate (alloc, 8, 1, &error);
  g_assert_null (nebula_allocator_to_bytes (alloc, block + 64, 8, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  g_assert_null (nebula_allocator_bytes_new (alloc, NULL, 8, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_null (nebula_allocator_bytes_new (alloc, foreign, 1024, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (alloc), ==, 0);
}

static void
test_bytes_address (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  NebulaAllocator *alloc;
  GBytes *bytes;
  guint64 address;

  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                         "block-size", (guint64) 32, "block-count", (guint64) 2,
                         "check-frees", FALSE, NULL);
  g_assert_no_error (error);
  alloc = NEBULA_ALLOCATOR (pool);

  address = nebula_allocator_strdup_address (alloc, "abc", &error);
  g_assert_no_error (error);
  g_assert_null (nebula_allocator_to_bytes_address (alloc, address + 1, 4, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_null (nebula_allocator_to_bytes_address (alloc, address, 4, 3, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  g_clear_error (&error);

  bytes = nebula_allocator_to_bytes_address (alloc, address, 4, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_bytes_get_data (bytes, NULL), ==, "abc");
  g_bytes_unref (bytes);

  /* The GBytes freed it through the script ledger: a script's own second
   * free is refused. */
  g_assert_false (nebula_allocator_deallocate_address (alloc, address, 4, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
}

static void
test_bytes_stack (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaStackAllocator) stack = nebula_stack_allocator_new (1024, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (stack);
  GBytes *lower, *upper;

  lower = nebula_allocator_bytes_new (alloc, (const guint8 *) "low", 4, 1, &error);
  upper = nebula_allocator_bytes_new (alloc, (const guint8 *) "high", 5, 1, &error);
  g_assert_no_error (error);

  /* Not the top: the stack refuses, silently; the block goes with the
   * reset. The top then goes back. */
  g_bytes_unref (lower);
  g_assert_cmpuint (deallocations (stack), ==, 0);
  g_bytes_unref (upper);
  g_assert_cmpuint (deallocations (stack), ==, 1);
  nebula_allocator_reset (alloc);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/bytes/pool-round-trip", test_bytes_pool_round_trip);
  g_test_add_func ("/nebula/bytes/reset-first", test_bytes_reset_first);
  g_test_add_func ("/nebula/bytes/debug-preset-reports", test_bytes_debug_preset_reports);
  g_test_add_func ("/nebula/bytes/bad-input", test_bytes_bad_input);
  g_test_add_func ("/nebula/bytes/address", test_bytes_address);
  g_test_add_func ("/nebula/bytes/stack", test_bytes_stack);

  return g_test_run ();
}
