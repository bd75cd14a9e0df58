/* test-bump-inline.c: the inline fast path of nebula-bump-allocator.h and
 * the devirtualized wrappers give what the exported path gives.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "nebula-sanitizer-private.h"
#include "test-util.h"

static NebulaBumpAllocator *
new_bump (const char *first_property,
          ...)
{
  g_autoptr(GError) error = NULL;
  NebulaBumpAllocator *bump;
  va_list args;

  va_start (args, first_property);
  bump = (NebulaBumpAllocator *) g_initable_new_valist (NEBULA_TYPE_BUMP_ALLOCATOR,
                                                       first_property, args, NULL, &error);
  va_end (args);
  g_assert_no_error (error);

  return bump;
}

/* The same requests through the inline path and through the vfunc (a
 * filling allocator never takes a fast path) give the same addresses
 * relative to the chunk, and the same statistics. */
static void
test_inline_matches_exported (void)
{
  g_autoptr(NebulaBumpAllocator) fast = new_bump ("capacity", (guint64) 65536,
                                                  "min-alloc-size", (guint64) 8, NULL);
  g_autoptr(NebulaBumpAllocator) slow = new_bump ("capacity", (guint64) 65536,
                                                  "min-alloc-size", (guint64) 8,
                                                  "free-fill", 0xDD, NULL);
  guint8 *first_fast = NULL, *first_slow = NULL;
  guint32 state = 7;

  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(GError) error = NULL;
      gsize size = 1 + (state = state * 1103515245 + 12345) % 40;
      /* Up to the chunks' own alignment, so both see the same padding. */
      gsize alignment = (gsize) 1 << (state >> 8) % 5;
      guint8 *a = nebula_bump_allocator_alloc (fast, size, alignment, &error);
      guint8 *b = nebula_allocator_allocate (NEBULA_ALLOCATOR (slow), size, alignment, &error);

      g_assert_no_error (error);
      g_assert_nonnull (a);
      g_assert_nonnull (b);
      if (first_fast == NULL)
        {
          first_fast = a;
          first_slow = b;
        }
      g_assert_cmpuint (GPOINTER_TO_SIZE (a) % alignment, ==, 0);
      g_assert_cmpint (a - first_fast, ==, b - first_slow);
      memset (a, 0x5A, size);

      /* Every third block goes back at once (a rewind), and every fifth
       * block of the ones before is freed late (no effect). */
      if (i % 3 == 0)
        {
          g_assert_true (nebula_bump_allocator_free (fast, a, size, alignment, &error));
          g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (slow), b, size, alignment, &error));
          g_assert_no_error (error);
        }
      else if (i % 5 == 0)
        {
          g_assert_true (nebula_bump_allocator_free (fast, first_fast, 1, 1, &error));
          g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (slow), first_slow, 1, 1, &error));
          g_assert_no_error (error);
        }
    }

  test_assert_stats_equal (NEBULA_ALLOCATOR (fast), NEBULA_ALLOCATOR (slow));
}

static void
test_inline_slow_cases (void)
{
  g_autoptr(NebulaBumpAllocator) bump = new_bump ("capacity", (guint64) 256, NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *a, *b, *zero;
  guint8 outside[16];

  /* Size 0: a unique address, through the exported path. */
  zero = nebula_bump_allocator_alloc (bump, 0, 1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (zero);
  a = nebula_bump_allocator_alloc (bump, 0, 1, &error);
  g_assert_true (a != zero);

  /* Bad alignments are refused with the exported path's error. */
  g_assert_null (nebula_bump_allocator_alloc (bump, 8, 3, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  g_assert_nonnull (strstr (error->message, "alignment 3 is not a power of two"));
  g_clear_error (&error);
  g_assert_null (nebula_bump_allocator_alloc (bump, 8, 0, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  g_clear_error (&error);

  /* A huge size neither wraps nor succeeds. */
  g_assert_null (nebula_bump_allocator_alloc (bump, G_MAXSIZE, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXCEEDS_MAX_SIZE);
  g_assert_nonnull (strstr (error->message, "requested 18446744073709551615 bytes"));
  g_clear_error (&error);

  /* The largest alignments and sizes cannot wrap the arithmetic. */
  g_assert_null (nebula_bump_allocator_alloc (bump, 8, (gsize) 1 << 62, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_clear_error (&error);
  g_assert_null (nebula_bump_allocator_alloc (bump, G_MAXSSIZE, (gsize) 1 << 62, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* Exhaustion: the message carries the numbers. */
  b = nebula_bump_allocator_alloc (bump, 200, 1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (b);
  g_assert_null (nebula_bump_allocator_alloc (bump, 100, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_nonnull (strstr (error->message, "requested 100 bytes"));
  g_assert_nonnull (strstr (error->message, "of 256 available"));
  g_clear_error (&error);

  /* A pointer from elsewhere is refused, and a NULL one too. */
  g_assert_false (nebula_bump_allocator_free (bump, outside, 8, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_false (nebula_bump_allocator_free (bump, NULL, 8, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  /* The most recent block rewinds. */
  g_assert_true (nebula_bump_allocator_free (bump, b, 200, 1, &error));
  g_assert_true (nebula_bump_allocator_alloc (bump, 200, 1, &error) == b);

  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (bump));
  g_assert_cmpuint (stats->allocations, ==, 4);
  g_assert_cmpuint (stats->failed_allocations, ==, 6);
  g_assert_cmpuint (stats->deallocations, ==, 1);
  /* 200 and the two blocks of size 0, one byte each. */
  g_assert_cmpuint (stats->bytes_in_use, ==, 202);
  g_assert_cmpuint (stats->peak_bytes_in_use, ==, 202);
  g_assert_cmpuint (stats->total_bytes_allocated, ==, 402);
}

/* Modes that need the slow path still work through the inline calls. */
static void
test_inline_slow_modes (void)
{
  g_autoptr(NebulaBumpAllocator) fill = new_bump ("alloc-fill", 0xAA, NULL);
  g_autoptr(NebulaBumpAllocator) shared = new_bump ("thread-safe", TRUE, NULL);
  g_autoptr(NebulaBumpAllocator) growing = new_bump ("capacity", (guint64) 1024,
                                                     "max-capacity", (guint64) 8192, NULL);
  g_autoptr(NebulaBumpAllocator) quiet = new_bump ("track-stats", FALSE, NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *p;

  p = nebula_bump_allocator_alloc (fill, 16, 8, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 16; i++)
    g_assert_cmpuint (p[i], ==, 0xAA);

  p = nebula_bump_allocator_alloc (shared, 16, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (shared), p));
  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (shared));
  g_assert_cmpuint (stats->allocations, ==, 1);
  g_clear_pointer (&stats, nebula_allocator_stats_free);

  /* Above the large threshold (half the capacity): a dedicated chunk. */
  p = nebula_bump_allocator_alloc (growing, 600, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (growing), ==, 2);
  g_assert_true (nebula_bump_allocator_free (growing, p, 600, 8, &error));
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (growing), ==, 1);
  /* Filling the first chunk moves on to a new one. */
  for (guint i = 0; i < 10; i++)
    g_assert_nonnull (nebula_bump_allocator_alloc (growing, 200, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (growing), >=, 2);

  p = nebula_bump_allocator_alloc (quiet, 16, 8, &error);
  g_assert_nonnull (p);
  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (quiet));
  g_assert_cmpuint (stats->allocations, ==, 0);
}

/* An object that never ran init (as a binding may leave it) takes the
 * slow path, which initializes it. */
static void
test_inline_uninitialized (void)
{
  g_autoptr(NebulaBumpAllocator) lazy = g_object_new (NEBULA_TYPE_BUMP_ALLOCATOR,
                                                      "capacity", (guint64) 512, NULL);
  g_autoptr(NebulaBumpAllocator) broken = g_object_new (NEBULA_TYPE_BUMP_ALLOCATOR,
                                                        "capacity", (guint64) 0, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (nebula_bump_allocator_alloc (lazy, 16, 8, &error));
  g_assert_no_error (error);

  g_assert_null (nebula_bump_allocator_alloc (broken, 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
  g_clear_error (&error);
  g_assert_false (nebula_bump_allocator_free (broken, &error, 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
}

/* Reset and restore move the fast fields with the chunks. */
static void
test_inline_after_reset_and_restore (void)
{
  g_autoptr(NebulaBumpAllocator) bump = new_bump ("capacity", (guint64) 1024,
                                                  "max-capacity", (guint64) 8192,
                                                  "reset-policy", NEBULA_RESET_POLICY_FREE_ALL, NULL);
  g_autoptr(NebulaBumpCheckpoint) checkpoint = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *a, *b;

  for (guint i = 0; i < 20; i++)
    g_assert_nonnull (nebula_bump_allocator_alloc (bump, 100, 8, &error));
  nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
  a = nebula_bump_allocator_alloc (bump, 100, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (bump), a));

  checkpoint = nebula_bump_allocator_checkpoint (bump);
  b = nebula_bump_allocator_alloc (bump, 100, 8, &error);
  g_assert_true (nebula_bump_allocator_restore (bump, checkpoint, &error));
  g_assert_no_error (error);
  g_assert_true (nebula_bump_allocator_alloc (bump, 100, 8, &error) == b);
  /* 100 bytes, 4 of padding, 100 bytes (while the memory tools watch,
   * each block is followed by a redzone and the padding is not needed). */
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump)), ==,
                    ((test_bump_span (100) + 7) & ~(gsize) 7) + test_bump_span (100));
}

/* A batch hands out the blocks the inline path would, across chunk
 * boundaries and growth, with errors for bad layouts, and the statistics
 * and the cursor catch up at its end: the most recent block of the batch
 * can then be freed (a rewind). */
static void
test_batch_matches_inline (void)
{
  g_autoptr(NebulaBumpAllocator) batched = new_bump ("capacity", (guint64) 4096,
                                                     "max-capacity", (guint64) 1 << 20,
                                                     "min-alloc-size", (guint64) 8, NULL);
  g_autoptr(NebulaBumpAllocator) plain = new_bump ("capacity", (guint64) 4096,
                                                   "max-capacity", (guint64) 1 << 20,
                                                   "min-alloc-size", (guint64) 8, NULL);
  g_autoptr(GError) error = NULL;
  NebulaBumpBatch batch;
  guint8 *a = NULL, *b = NULL;
  gsize size = 0, used;
  guint32 state = 11;

  nebula_bump_batch_begin (&batch, batched);
  for (guint i = 0; i < 2000; i++)
    {
      gsize alignment = (gsize) 1 << (state >> 8) % 5;

      size = 1 + (state = state * 1103515245 + 12345) % 300;
      a = nebula_bump_batch_alloc (&batch, size, alignment, &error);
      g_assert_no_error (error);
      b = nebula_bump_allocator_alloc (plain, size, alignment, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (GPOINTER_TO_SIZE (a) % alignment, ==, 0);
      g_assert_cmpuint (GPOINTER_TO_SIZE (b) % alignment, ==, 0);
      memset (a, 0x5A, size);
    }

  /* A bad layout: the exported path's error, and the batch goes on. */
  g_assert_null (nebula_bump_batch_alloc (&batch, 16, 3, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  g_clear_error (&error);
  g_assert_null (nebula_bump_allocator_alloc (plain, 16, 3, &error));
  g_clear_error (&error);
  nebula_bump_batch_end (&batch);

  test_assert_stats_equal (NEBULA_ALLOCATOR (batched), NEBULA_ALLOCATOR (plain));
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (batched), ==,
                    nebula_bump_allocator_get_n_chunks (plain));
  used = nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (batched));
  g_assert_cmpuint (used, ==, nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (plain)));

  /* The batch's last block is the allocator's most recent one. */
  g_assert_true (nebula_allocator_owns (NEBULA_ALLOCATOR (batched), a));
  g_assert_true (nebula_bump_allocator_free (batched, a, size, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (batched)), <, used);
}

/* Modes without a fast path take the exported path for every request of
 * a batch, and a batch that allocates nothing changes nothing. */
static void
test_batch_slow_modes (void)
{
  g_autoptr(NebulaBumpAllocator) fill = new_bump ("alloc-fill", 0xAA, NULL);
  g_autoptr(NebulaBumpAllocator) shared = new_bump ("thread-safe", TRUE, NULL);
  g_autoptr(NebulaBumpAllocator) idle = new_bump (NULL, NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GError) error = NULL;
  NebulaBumpBatch batch;
  guint8 *p;

  nebula_bump_batch_begin (&batch, fill);
  p = nebula_bump_batch_alloc (&batch, 16, 8, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 16; i++)
    g_assert_cmpuint (p[i], ==, 0xAA);
  nebula_bump_batch_end (&batch);

  nebula_bump_batch_begin (&batch, shared);
  for (guint i = 0; i < 10; i++)
    g_assert_nonnull (nebula_bump_batch_alloc (&batch, 16, 8, &error));
  nebula_bump_batch_end (&batch);
  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (shared));
  g_assert_cmpuint (stats->allocations, ==, 10);

  nebula_bump_batch_begin (&batch, idle);
  nebula_bump_batch_end (&batch);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (idle)), ==, 0);
}

/* Using the allocator directly inside a batch is a programmer error that
 * the batch's end reports; the allocator keeps the higher cursor, so the
 * blocks handed out afterwards overlap neither side's. */
static void
test_batch_misuse (void)
{
  g_autoptr(NebulaBumpAllocator) bump = new_bump (NULL, NULL);
  g_autoptr(GError) error = NULL;
  NebulaBumpBatch batch;
  guint8 *inside, *outside, *after;

  /* While ASan or Valgrind watch, a batch takes the exported path for
   * every request: nothing is deferred, so nothing can be missed. */
  if (nebula_memory_tools_watching ())
    {
      g_test_skip ("memory tools watching: batches take the exported path");
      return;
    }

  /* Warm up: the allocator initializes on its first call. */
  g_assert_nonnull (nebula_bump_allocator_alloc (bump, 8, 8, &error));

  nebula_bump_batch_begin (&batch, bump);
  inside = nebula_bump_batch_alloc (&batch, 64, 8, &error);
  outside = nebula_bump_allocator_alloc (bump, 256, 8, &error);
  g_assert_nonnull (inside);
  g_assert_nonnull (outside);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*used outside the batch*");
  nebula_bump_batch_end (&batch);
  g_test_assert_expected_messages ();

  after = nebula_bump_allocator_alloc (bump, 8, 8, &error);
  g_assert_true (after >= outside + 256);
  g_assert_true (after >= inside + 64);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/bump/inline/matches-exported", test_inline_matches_exported);
  g_test_add_func ("/nebula/bump/inline/slow-cases", test_inline_slow_cases);
  g_test_add_func ("/nebula/bump/inline/slow-modes", test_inline_slow_modes);
  g_test_add_func ("/nebula/bump/inline/uninitialized", test_inline_uninitialized);
  g_test_add_func ("/nebula/bump/inline/reset-restore", test_inline_after_reset_and_restore);
  g_test_add_func ("/nebula/bump/batch/matches-inline", test_batch_matches_inline);
  g_test_add_func ("/nebula/bump/batch/slow-modes", test_batch_slow_modes);
  g_test_add_func ("/nebula/bump/batch/misuse", test_batch_misuse);

  return g_test_run ();
}
