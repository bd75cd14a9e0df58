/* test-bump.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "test-util.h"

static NebulaBumpAllocator *
new_bump (GError **error,
          const char *first_property,
          ...)
{
  NebulaBumpAllocator *bump;
  va_list args;

  va_start (args, first_property);
  bump = (NebulaBumpAllocator *) g_initable_new_valist (NEBULA_TYPE_BUMP_ALLOCATOR,
                                                       first_property, args, NULL, error);
  va_end (args);

  return bump;
}

static void
test_bump_basic (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  guint8 *a, *b;

  g_assert_no_error (error);
  g_assert_nonnull (bump);
  g_assert_cmpuint (nebula_allocator_get_capacity (alloc), ==, 4096);

  a = nebula_allocator_allocate (alloc, 100, 8, &error);
  g_assert_no_error (error);
  g_assert_nonnull (a);
  g_assert_cmpuint (GPOINTER_TO_SIZE (a) % 8, ==, 0);
  memset (a, 0x11, 100);

  b = nebula_allocator_allocate (alloc, 64, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_SIZE (b) % 64, ==, 0);
  g_assert_true (b >= a + 100);
  memset (b, 0x22, 64);

  for (guint i = 0; i < 100; i++)
    g_assert_cmpuint (a[i], ==, 0x11);

  g_assert_true (nebula_allocator_owns (alloc, a));
  g_assert_true (nebula_allocator_owns (alloc, b + 63));
  g_assert_false (nebula_allocator_owns (alloc, &error));
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), >=, 164);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc) + nebula_allocator_get_bytes_available (alloc),
                    ==, 4096);
}

static void
test_bump_zero_size (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (256, &error);
  gpointer a, b;

  a = nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 0, 1, &error);
  g_assert_no_error (error);
  b = nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 0, 1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_true (a != b);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (bump), b, 0, 1, &error));
  g_assert_no_error (error);
}

static void
test_bump_exhausted (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = new_bump (&error, "capacity", (guint64) 4096,
                                                  "name", "frames", NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  gpointer p;

  g_assert_no_error (error);
  /* Leaves 64 bytes (the block of the memory tools' build has a redzone). */
  p = nebula_allocator_allocate (alloc, 4032 - (test_bump_span (4032) - 4032), 1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);

  p = nebula_allocator_allocate (alloc, 128, 1, &error);
  g_assert_null (p);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_nonnull (strstr (error->message, "Bump allocator 'frames' is exhausted"));
  g_assert_nonnull (strstr (error->message, "requested 128 bytes"));
  g_assert_nonnull (strstr (error->message, "requested 128 bytes, 64 of 4096 available"));
  g_assert_true (nebula_error_is_retryable (error));
  g_assert_true (nebula_error_has_detail (error));
  g_assert_cmpuint (nebula_error_get_requested (error), ==, 128);
  g_assert_cmpuint (nebula_error_get_available (error), ==, 64);
  g_assert_cmpuint (nebula_error_get_capacity (error), ==, 4096);
  g_assert_cmpstr (nebula_error_get_allocator_name (error), ==, "frames");
  g_assert_nonnull (nebula_error_get_suggestion (error));

  /* Still consistent: what fits still fits. */
  g_clear_error (&error);
  p = nebula_allocator_allocate (alloc, 64, 1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 2);
  g_assert_cmpuint (stats->failed_allocations, ==, 1);
  g_assert_cmpuint (stats->bytes_in_use, ==, 4096 - (test_bump_span (4032) - 4032));
}

static void
test_bump_growth (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = new_bump (&error,
                                                  "capacity", (guint64) 1024,
                                                  "max-capacity", (guint64) 8192,
                                                  "growth-factor", 2.0,
                                                  NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  GPtrArray *blocks = g_ptr_array_new ();
  gpointer p;

  g_assert_no_error (error);

  /* 1024 + 2048 + 4096 = 7168 bytes of regular chunks. */
  while ((p = nebula_allocator_allocate (alloc, 100, 4, &error)) != NULL)
    {
      memset (p, blocks->len & 0xff, 100);
      g_ptr_array_add (blocks, p);
    }
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_nonnull (strstr (error->message, "left to grow"));
  g_assert_cmpuint (blocks->len, >=, 7168 / test_bump_span (100) - 1);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), >=, 3);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), <=, 8192);

  for (guint i = 0; i < blocks->len; i++)
    {
      guint8 *b = blocks->pdata[i];
      for (guint j = 0; j < 100; j++)
        g_assert_cmpuint (b[j], ==, i & 0xff);
    }

  nebula_allocator_reset (alloc);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 1);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
  /* KEEP_LARGEST keeps the 4096-byte chunk. */
  g_assert_cmpuint (nebula_allocator_get_bytes_available (alloc), ==, 8192);
  g_ptr_array_unref (blocks);
}

static void
test_bump_large_allocation (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = new_bump (&error,
                                                  "capacity", (guint64) 1024,
                                                  "max-capacity", (guint64) (64 * 1024),
                                                  "large-allocation-threshold", (guint64) 256,
                                                  NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaBumpCheckpoint) cp = NULL;
  gpointer small, large, large2;

  g_assert_no_error (error);
  small = nebula_allocator_allocate (alloc, 16, 8, &error);
  g_assert_no_error (error);
  cp = nebula_bump_allocator_checkpoint (bump);

  large = nebula_allocator_allocate (alloc, 10000, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_SIZE (large) % 64, ==, 0);
  memset (large, 0xab, 10000);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 2);

  /* The regular chunk did not grow because of it. */
  g_assert_cmpuint (nebula_allocator_get_bytes_available (alloc), >=, 1024 - 16);
  g_assert_true (nebula_allocator_owns (alloc, large));

  /* A dedicated chunk can be given back on its own. */
  g_assert_true (nebula_allocator_deallocate (alloc, large, 10000, 64, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 1);
  g_assert_false (nebula_allocator_owns (alloc, large));

  /* and a restore to before it frees it. */
  large2 = nebula_allocator_allocate (alloc, 5000, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 2);
  g_assert_true (nebula_bump_allocator_restore (bump, cp, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 1);
  g_assert_false (nebula_allocator_owns (alloc, large2));
  g_assert_true (nebula_allocator_owns (alloc, small));
}

static void
test_bump_deallocate_top (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (1024, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  gpointer a, b, c;
  int outside = 0;

  a = nebula_allocator_allocate (alloc, 32, 8, &error);
  b = nebula_allocator_allocate (alloc, 32, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 2 * test_bump_span (32));

  /* Not the top: succeeds without effect. */
  g_assert_true (nebula_allocator_deallocate (alloc, a, 32, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 2 * test_bump_span (32));

  /* The top is given back and reused. */
  g_assert_true (nebula_allocator_deallocate (alloc, b, 32, 8, &error));
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, test_bump_span (32));
  c = nebula_allocator_allocate (alloc, 32, 8, &error);
  g_assert_true (c == b);

  /* A pointer from elsewhere is refused. */
  g_assert_false (nebula_allocator_deallocate (alloc, &outside, sizeof outside, 4, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_false (nebula_allocator_deallocate (alloc, NULL, 8, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 2 * test_bump_span (32));
}

static void
test_bump_reallocate (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (1024, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  guint8 *a, *b, *a2;

  a = nebula_allocator_allocate (alloc, 16, 8, &error);
  memcpy (a, "0123456789abcdef", 16);

  /* The top grows in place. */
  a2 = nebula_allocator_reallocate (alloc, a, 16, 64, 8, &error);
  g_assert_no_error (error);
  g_assert_true (a2 == a);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, test_bump_span (64));

  b = nebula_allocator_allocate (alloc, 8, 8, &error);
  g_assert_nonnull (b);

  /* Not the top: moves, keeping the contents. */
  a2 = nebula_allocator_reallocate (alloc, a, 64, 128, 8, &error);
  g_assert_no_error (error);
  g_assert_true (a2 != a);
  g_assert_cmpmem (a2, 16, "0123456789abcdef", 16);

  /* Too big: the old block stays valid. */
  g_assert_null (nebula_allocator_reallocate (alloc, a2, 128, 100000, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_cmpmem (a2, 16, "0123456789abcdef", 16);
}

static void
test_bump_bad_layouts (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (1024, &error);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  static const gsize bad_alignments[] = { 0, 3, 6, 12, 100, G_MAXSIZE };

  for (guint i = 0; i < G_N_ELEMENTS (bad_alignments); i++)
    {
      g_assert_null (nebula_allocator_allocate (alloc, 8, bad_alignments[i], &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
      g_assert_nonnull (strstr (error->message, "not a power of two"));
      g_clear_error (&error);
    }

  g_assert_null (nebula_allocator_allocate (alloc, G_MAXSIZE, 16, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW);
  g_clear_error (&error);

  g_assert_null (nebula_allocator_allocate (alloc, G_MAXSIZE - 8, 16, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW);
  g_clear_error (&error);

  g_assert_null (nebula_allocator_allocate (alloc, (gsize) G_MAXSSIZE + 1, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXCEEDS_MAX_SIZE);
  g_clear_error (&error);

  g_assert_null (nebula_allocator_allocate (alloc, 1 << 20, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_clear_error (&error);

  g_assert_null (nebula_allocator_allocate (alloc, 8, (gsize) 1 << 40, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_clear_error (&error);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->failed_allocations, ==, G_N_ELEMENTS (bad_alignments) + 5);
  g_assert_cmpuint (stats->allocations, ==, 0);

  /* Still usable. */
  g_assert_nonnull (nebula_allocator_allocate (alloc, 8, 8, &error));
  g_assert_no_error (error);
}

static void
test_bump_checkpoint_restore (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = new_bump (&error,
                                                  "capacity", (guint64) 256,
                                                  "max-capacity", (guint64) 4096,
                                                  NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaBumpCheckpoint) cp = NULL;
  guint8 *keep, *p;
  guint64 used;

  keep = nebula_allocator_allocate (alloc, 100, 8, &error);
  memset (keep, 0x5a, 100);
  used = nebula_allocator_get_bytes_used (alloc);
  cp = nebula_bump_allocator_checkpoint (bump);

  /* Spill into more chunks. */
  for (guint i = 0; i < 20; i++)
    {
      p = nebula_allocator_allocate (alloc, 100, 8, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), >, 1);

  g_assert_true (nebula_bump_allocator_restore (bump, cp, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 1);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpuint (keep[i], ==, 0x5a);

  /* The space is reused. */
  p = nebula_allocator_allocate (alloc, 100, 8, &error);
  g_assert_true (p > keep && p < keep + 256);

  /* Restoring twice to the same point works. */
  g_assert_true (nebula_bump_allocator_restore (bump, cp, &error));
  g_assert_no_error (error);
}

static void
test_bump_checkpoint_stale (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (1024, &error);
  g_autoptr(NebulaBumpAllocator) other = nebula_bump_allocator_new (1024, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaBumpCheckpoint) early = NULL;
  g_autoptr(NebulaBumpCheckpoint) late = NULL;
  g_autoptr(NebulaBumpCheckpoint) foreign = NULL;
  g_autoptr(NebulaBumpCheckpoint) before_reset = NULL;
  guint64 used;

  early = nebula_bump_allocator_checkpoint (bump);
  nebula_allocator_allocate (alloc, 64, 8, &error);
  late = nebula_bump_allocator_checkpoint (bump);
  foreign = nebula_bump_allocator_checkpoint (other);

  /* Ahead of the cursor. */
  g_assert_true (nebula_bump_allocator_restore (bump, early, &error));
  used = nebula_allocator_get_bytes_used (alloc);
  g_assert_false (nebula_bump_allocator_restore (bump, late, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
  g_assert_nonnull (strstr (error->message, "ahead of the cursor"));
  g_clear_error (&error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);

  /* From another allocator. */
  g_assert_false (nebula_bump_allocator_restore (bump, foreign, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
  g_assert_nonnull (strstr (error->message, "another allocator"));
  g_clear_error (&error);

  /* From before a reset. */
  nebula_allocator_allocate (alloc, 64, 8, &error);
  before_reset = nebula_bump_allocator_checkpoint (bump);
  nebula_allocator_reset (alloc);
  nebula_allocator_allocate (alloc, 512, 8, &error);
  used = nebula_allocator_get_bytes_used (alloc);
  g_assert_false (nebula_bump_allocator_restore (bump, before_reset, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
  g_assert_nonnull (strstr (error->message, "before a reset"));
  g_clear_error (&error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);

  /* The allocator still works. */
  g_assert_nonnull (nebula_allocator_allocate (alloc, 8, 8, &error));
  g_assert_no_error (error);
}

/* Found by fuzz-bump: a dedicated chunk made just before a checkpoint has
 * the checkpoint's cursor position, and restore used to free it. */
static void
test_bump_checkpoint_keeps_earlier_dedicated (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = new_bump (&error,
                                                  "capacity", (guint64) 1024,
                                                  "max-capacity", (guint64) (64 * 1024),
                                                  "large-allocation-threshold", (guint64) 256,
                                                  NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaBumpCheckpoint) cp = NULL;
  guint8 *large, *later;

  large = nebula_allocator_allocate (alloc, 1000, 8, &error);
  g_assert_no_error (error);
  memset (large, 0x3C, 1000);
  cp = nebula_bump_allocator_checkpoint (bump);
  later = nebula_allocator_allocate (alloc, 2000, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 3);

  g_assert_true (nebula_bump_allocator_restore (bump, cp, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 2);
  g_assert_true (nebula_allocator_owns (alloc, large));
  g_assert_false (nebula_allocator_owns (alloc, later));
  for (guint i = 0; i < 1000; i++)
    g_assert_cmpuint (large[i], ==, 0x3C);
}

static void
test_bump_scope (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (1024, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);

  nebula_allocator_allocate (alloc, 10, 1, &error);

  {
    g_autoptr(NebulaBumpScope) scope = nebula_bump_scope_new (bump);

    nebula_allocator_allocate (alloc, 500, 1, &error);
    g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, test_bump_span (10) + test_bump_span (500));
  }

  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, test_bump_span (10));

  /* The statistics saw the scope's block go, as if it had been freed. */
  {
    g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (alloc);

    g_assert_cmpuint (stats->bytes_in_use, ==, 10);
    g_assert_cmpuint (stats->allocations, ==, 2);
    g_assert_cmpuint (stats->deallocations, ==, 1);
    g_assert_cmpuint (stats->total_bytes_freed, ==, 500);
    g_assert_cmpuint (stats->peak_bytes_in_use, ==, 510);
  }
}

static void
test_bump_reset_policies (void)
{
  static const struct {
    NebulaResetPolicy policy;
    guint64 available_after;
  } cases[] = {
    { NEBULA_RESET_POLICY_KEEP_LARGEST, 4096 },
    { NEBULA_RESET_POLICY_KEEP_ALL, 4096 },
    { NEBULA_RESET_POLICY_FREE_ALL, 4096 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(NebulaBumpAllocator) bump = new_bump (&error,
                                                      "capacity", (guint64) 1024,
                                                      "max-capacity", (guint64) 4096,
                                                      "growth-factor", 1.0,
                                                      "large-allocation-threshold", (guint64) 2048,
                                                      "reset-policy", cases[i].policy,
                                                      NULL);
      NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);

      g_assert_no_error (error);
      for (guint j = 0; j < 3; j++)
        g_assert_nonnull (nebula_allocator_allocate (alloc, 1000, 8, &error));
      g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 3);

      nebula_allocator_reset (alloc);
      g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 1);
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
      g_assert_cmpuint (nebula_allocator_get_bytes_available (alloc), ==, cases[i].available_after);

      /* All three fit again without exceeding max-capacity. */
      for (guint j = 0; j < 3; j++)
        {
          g_assert_nonnull (nebula_allocator_allocate (alloc, 1000, 8, &error));
          g_assert_no_error (error);
        }
    }
}

static void
test_bump_fills (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = new_bump (&error, "capacity", (guint64) 256,
                                                  "preset", NEBULA_PRESET_DEBUG, NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaBumpCheckpoint) cp = NULL;
  guint8 *p;
  int fill;

  g_object_get (bump, "alloc-fill", &fill, NULL);
  g_assert_cmpint (fill, ==, 0xAA);

  cp = nebula_bump_allocator_checkpoint (bump);
  p = nebula_allocator_allocate (alloc, 32, 8, &error);
  for (guint i = 0; i < 32; i++)
    g_assert_cmpuint (p[i], ==, 0xAA);

  p = nebula_allocator_allocate_zeroed (alloc, 32, 8, &error);
  for (guint i = 0; i < 32; i++)
    g_assert_cmpuint (p[i], ==, 0);

  g_assert_true (nebula_bump_allocator_restore (bump, cp, &error));
  /* The memory is dead now; the test looks at it on purpose. */
  NEBULA_ASAN_UNPOISON (p, 32);
  NEBULA_VALGRIND (VALGRIND_MAKE_MEM_DEFINED (p, 32));
  for (guint i = 0; i < 32; i++)
    g_assert_cmpuint (p[i], ==, 0xDD);
}

static void
test_bump_presets (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) perf = NULL;
  g_autoptr(NebulaBumpAllocator) perf_stats = NULL;
  g_autoptr(NebulaBumpAllocator) prod = NULL;
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  gboolean track;
  guint64 max;
  NebulaResetPolicy policy;

  perf = new_bump (&error, "preset", NEBULA_PRESET_PERFORMANCE, NULL);
  g_object_get (perf, "track-stats", &track, "reset-policy", &policy, NULL);
  g_assert_false (track);
  g_assert_cmpint (policy, ==, NEBULA_RESET_POLICY_KEEP_ALL);
  nebula_allocator_allocate (NEBULA_ALLOCATOR (perf), 8, 8, &error);
  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (perf));
  g_assert_cmpuint (stats->allocations, ==, 0);

  /* An explicit property wins over the preset, even when it equals the
   * ordinary default. */
  perf_stats = new_bump (&error, "preset", NEBULA_PRESET_PERFORMANCE, "track-stats", TRUE, NULL);
  g_object_get (perf_stats, "track-stats", &track, NULL);
  g_assert_true (track);

  prod = new_bump (&error, "capacity", (guint64) 1000, "preset", NEBULA_PRESET_PRODUCTION, NULL);
  g_object_get (prod, "max-capacity", &max, NULL);
  g_assert_cmpuint (max, ==, 8000);
}

typedef struct {
  const char *property;
  GType type;
  union { guint64 u; double d; int i; } value;
  const char *rule;
} BadConfig;

static void
test_bump_invalid_config (void)
{
  static const BadConfig cases[] = {
    { "capacity", G_TYPE_UINT64, { .u = 0 }, "greater than 0" },
    { "capacity", G_TYPE_UINT64, { .u = G_MAXUINT64 }, "at most" },
    { "max-capacity", G_TYPE_UINT64, { .u = 100 }, "at least the capacity" },
    { "growth-factor", G_TYPE_DOUBLE, { .d = 0.5 }, "between 1.0 and 16.0" },
    { "growth-factor", G_TYPE_DOUBLE, { .d = 100.0 }, "between 1.0 and 16.0" },
    { "min-alloc-size", G_TYPE_UINT64, { .u = 3 }, "power of two" },
    { "min-alloc-size", G_TYPE_UINT64, { .u = 0 }, "power of two" },
    { "alloc-fill", G_TYPE_INT, { .i = 256 }, "byte value" },
    { "free-fill", G_TYPE_INT, { .i = -2 }, "byte value" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) use_error = NULL;
      g_autoptr(GObject) object = NULL;
      g_autofree char *expected = g_strdup_printf ("'%s'", cases[i].property);
      GValue value = G_VALUE_INIT;
      const char *names[2] = { "capacity", cases[i].property };
      GValue values[2] = { G_VALUE_INIT, G_VALUE_INIT };
      guint n = 0;

      g_value_init (&value, cases[i].type);
      if (cases[i].type == G_TYPE_UINT64)
        g_value_set_uint64 (&value, cases[i].value.u);
      else if (cases[i].type == G_TYPE_DOUBLE)
        g_value_set_double (&value, cases[i].value.d);
      else
        g_value_set_int (&value, cases[i].value.i);

      if (strcmp (cases[i].property, "capacity") != 0)
        {
          g_value_init (&values[0], G_TYPE_UINT64);
          g_value_set_uint64 (&values[0], 1024);
          n = 1;
        }
      values[n] = value;
      names[n] = cases[i].property;

      /* Constructed without init, as a binding would. */
      object = g_object_new_with_properties (NEBULA_TYPE_BUMP_ALLOCATOR, n + 1, names, values);
      g_assert_false (g_initable_init (G_INITABLE (object), NULL, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
      g_assert_nonnull (strstr (error->message, expected));
      g_assert_nonnull (strstr (error->message, cases[i].rule));
      g_assert_nonnull (strstr (nebula_error_get_suggestion (error), cases[i].property));

      /* Every method answers with the same error and nothing crashes. */
      g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (object), 8, 8, &use_error));
      g_assert_error (use_error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
      g_clear_error (&use_error);
      g_assert_false (nebula_allocator_deallocate (NEBULA_ALLOCATOR (object), &n, 8, 8, &use_error));
      g_assert_error (use_error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
      g_clear_error (&use_error);
      nebula_allocator_reset (NEBULA_ALLOCATOR (object));
      g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (object), &n));
      {
        g_autoptr(NebulaBumpCheckpoint) cp = nebula_bump_allocator_checkpoint (NEBULA_BUMP_ALLOCATOR (object));
        g_assert_false (nebula_bump_allocator_restore (NEBULA_BUMP_ALLOCATOR (object), cp, &use_error));
        g_assert_error (use_error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
      }

      g_value_unset (&values[0]);
      g_value_unset (&value);
    }
}

static void
test_bump_lazy_init (void)
{
  g_autoptr(GError) error = NULL;
  /* A binding that never calls init still gets a working allocator. */
  g_autoptr(NebulaBumpAllocator) bump = g_object_new (NEBULA_TYPE_BUMP_ALLOCATOR,
                                                      "capacity", (guint64) 512, NULL);
  gpointer p = nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 100, 8, &error);

  g_assert_no_error (error);
  g_assert_nonnull (p);
}

static void
test_bump_frozen_after_init (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (512, NULL);

      /* Warnings are not fatal here, so the value can be checked after. */
      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      g_object_set (bump, "capacity", (guint64) 1024, NULL);
      g_assert_cmpuint (nebula_allocator_get_capacity (NEBULA_ALLOCATOR (bump)), ==, 512);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*cannot change after initialization*");
}

static void
test_bump_null_self (void)
{
  if (g_test_subprocess ())
    {
      nebula_allocator_allocate (NULL, 8, 8, NULL);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*self != NULL*");
}

typedef struct {
  NebulaBumpAllocator *bump;
  guint                n;
  guint8             **blocks;
  gsize               *sizes;
  guint                tag;
} ThreadData;

static gpointer
allocate_thread (gpointer data)
{
  ThreadData *td = data;

  for (guint i = 0; i < td->n; i++)
    {
      gsize size = 8 + (i * 7 + td->tag) % 120;
      guint8 *p = nebula_allocator_allocate (NEBULA_ALLOCATOR (td->bump), size, 8, NULL);

      g_assert_nonnull (p);
      g_assert_cmpuint (GPOINTER_TO_SIZE (p) % 8, ==, 0);
      memset (p, td->tag, size);
      td->blocks[i] = p;
      td->sizes[i] = size;
    }

  return NULL;
}

static void
test_bump_threads (void)
{
  enum { N_THREADS = 4, N_ALLOCS = 20000 };
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = new_bump (&error,
                                                  "capacity", (guint64) 4096,
                                                  "max-capacity", (guint64) (64 << 20),
                                                  "thread-safe", TRUE,
                                                  NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  ThreadData td[N_THREADS];
  GThread *threads[N_THREADS];
  TestBlock *all;
  guint n_all = 0;

  g_assert_no_error (error);

  for (guint t = 0; t < N_THREADS; t++)
    {
      td[t] = (ThreadData) { bump, N_ALLOCS, g_new (guint8 *, N_ALLOCS), g_new (gsize, N_ALLOCS), t + 1 };
      threads[t] = g_thread_new ("alloc", allocate_thread, &td[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);

  /* No two blocks overlap and every block kept its owner's bytes. */
  all = g_new (TestBlock, N_THREADS * N_ALLOCS);
  for (guint t = 0; t < N_THREADS; t++)
    for (guint i = 0; i < N_ALLOCS; i++)
      {
        for (gsize j = 0; j < td[t].sizes[i]; j++)
          g_assert_cmpuint (td[t].blocks[i][j], ==, t + 1);
        all[n_all++] = (TestBlock) { td[t].blocks[i], td[t].sizes[i] };
      }
  test_assert_blocks_disjoint (all, n_all, 0);

  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (bump));
  g_assert_cmpuint (stats->allocations, ==, N_THREADS * N_ALLOCS);

  for (guint t = 0; t < N_THREADS; t++)
    {
      g_free (td[t].blocks);
      g_free (td[t].sizes);
    }
  g_free (all);
}

/* Issue 12: a thread-safe bump's bytes-used and get_n_chunks() walked the
 * dedicated chunks without the lock while another thread freed them (a
 * heap-use-after-free under ASan, garbage in a plain build). */
typedef struct {
  NebulaBumpAllocator *bump;
  gint                 done;
} ReaderData;

static gpointer
large_churn_thread (gpointer data)
{
  ReaderData *rd = data;
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (rd->bump);

  for (guint i = 0; i < 20000; i++)
    {
      g_autoptr(GError) error = NULL;
      guint8 *p = nebula_allocator_allocate (alloc, 4096, 8, &error);

      g_assert_no_error (error);
      p[0] = p[4095] = (guint8) i;
      g_assert_true (nebula_allocator_deallocate (alloc, p, 4096, 8, &error));
      g_assert_no_error (error);
    }
  g_atomic_int_set (&rd->done, 1);

  return NULL;
}

static void
test_bump_threads_bytes_used (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = new_bump (&error,
                                                  "capacity", (guint64) 4096,
                                                  "max-capacity", (guint64) (16 << 20),
                                                  "large-allocation-threshold", (guint64) 256,
                                                  "thread-safe", TRUE,
                                                  NULL);
  ReaderData rd = { bump, 0 };
  GThread *thread;
  guint n_reads = 0;

  g_assert_no_error (error);
  thread = g_thread_new ("churn", large_churn_thread, &rd);
  while (!g_atomic_int_get (&rd.done) || n_reads == 0)
    {
      guint64 used = nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump));
      guint n_chunks = nebula_bump_allocator_get_n_chunks (bump);

      /* At most the first chunk and one dedicated chunk are in use. */
      g_assert_cmpuint (used, <=, 4096 + 4096 + 64);
      g_assert_cmpuint (n_chunks, >=, 1);
      g_assert_cmpuint (n_chunks, <=, 2);
      n_reads++;
    }
  g_thread_join (thread);

  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump)), ==, 0);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 1);
}

/* Issue 12: a checkpoint that a restore to an earlier one left behind was
 * accepted once the cursor had moved past it again, and the next
 * allocation landed inside a live block (gjs's scope helper with
 * interleaved async functions restores in this order). */
static void
test_bump_checkpoint_stale_after_restore (void)
{
  const gboolean modes[] = { FALSE, TRUE };

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(NebulaBumpAllocator) bump = new_bump (&error,
                                                      "capacity", (guint64) 1024,
                                                      "thread-safe", modes[m],
                                                      NULL);
      NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
      g_autoptr(NebulaBumpCheckpoint) c0 = NULL;
      g_autoptr(NebulaBumpCheckpoint) c1 = NULL;
      guint8 *c, *d;
      guint64 used;

      g_assert_no_error (error);
      c0 = nebula_bump_allocator_checkpoint (bump);
      g_assert_nonnull (nebula_allocator_allocate (alloc, 64, 8, &error));
      c1 = nebula_bump_allocator_checkpoint (bump);
      g_assert_true (nebula_bump_allocator_restore (bump, c0, &error));
      g_assert_no_error (error);
      c = nebula_allocator_allocate (alloc, 400, 8, &error);
      g_assert_no_error (error);
      memset (c, 0x77, 400);
      used = nebula_allocator_get_bytes_used (alloc);

      g_assert_false (nebula_bump_allocator_restore (bump, c1, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
      g_assert_nonnull (strstr (error->message, "rewound to before it"));
      g_clear_error (&error);
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);

      d = nebula_allocator_allocate (alloc, 64, 8, &error);
      g_assert_no_error (error);
      g_assert_true (d >= c + 400 || d + 64 <= c);
      for (guint i = 0; i < 400; i++)
        g_assert_cmpuint (c[i], ==, 0x77);

      /* Staleness sticks: a later restore to the earlier checkpoint does
       * not bring it back. */
      g_assert_true (nebula_bump_allocator_restore (bump, c0, &error));
      g_assert_no_error (error);
      g_assert_nonnull (nebula_allocator_allocate (alloc, 200, 8, &error));
      g_assert_false (nebula_bump_allocator_restore (bump, c1, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
      g_clear_error (&error);
    }
}

/* Nested checkpoints, a checkpoint restored many times and top frees inside
 * a checkpoint's span keep working; freeing the block just below a
 * checkpoint no longer moves the cursor under it. */
static void
test_bump_checkpoint_nesting (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaBumpCheckpoint) frame = NULL;
  guint8 *below, *big, *p;
  guint64 used;

  below = nebula_allocator_allocate (alloc, 64, 8, &error);
  g_assert_no_error (error);
  frame = nebula_bump_allocator_checkpoint (bump);
  used = nebula_allocator_get_bytes_used (alloc);

  for (guint round = 0; round < 5; round++)
    {
      g_autoptr(NebulaBumpCheckpoint) inner = NULL;

      g_assert_nonnull (nebula_allocator_allocate (alloc, 100, 8, &error));
      inner = nebula_bump_allocator_checkpoint (bump);
      p = nebula_allocator_allocate (alloc, 50, 8, &error);
      g_assert_true (nebula_allocator_deallocate (alloc, p, 50, 8, &error));
      g_assert_true (nebula_bump_allocator_restore (bump, inner, &error));
      g_assert_no_error (error);
      g_assert_true (nebula_bump_allocator_restore (bump, frame, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);
    }

  /* The block below the checkpoint stays where it is: a free of it
   * succeeds without effect, so the checkpoint's position stays valid. */
  g_assert_true (nebula_allocator_deallocate (alloc, below, 64, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);
  big = nebula_allocator_allocate (alloc, 400, 8, &error);
  g_assert_true (big >= below + 64);
  g_assert_true (nebula_bump_allocator_restore (bump, frame, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);
}

static void
test_bump_scope_stale (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (1024, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  NebulaBumpScope *outer, *inner;
  guint8 *c, *d;

  /* Two scopes closed out of order, as interleaved async functions do. */
  outer = nebula_bump_scope_new (bump);
  g_assert_nonnull (nebula_allocator_allocate (alloc, 64, 8, &error));
  inner = nebula_bump_scope_new (bump);
  nebula_bump_scope_free (outer);
  c = nebula_allocator_allocate (alloc, 400, 8, &error);
  memset (c, 0x42, 400);

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*Closing a bump scope*rewound*");
  nebula_bump_scope_free (inner);
  g_test_assert_expected_messages ();

  d = nebula_allocator_allocate (alloc, 64, 8, &error);
  g_assert_true (d >= c + 400 || d + 64 <= c);
  for (guint i = 0; i < 400; i++)
    g_assert_cmpuint (c[i], ==, 0x42);
}

/* Issue 12: a pointer into the middle of a dedicated block freed the whole
 * block, and the owner's own free then failed. */
static void
test_bump_dedicated_interior_pointer (void)
{
  const gboolean modes[] = { FALSE, TRUE };

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(NebulaBumpAllocator) bump = new_bump (&error,
                                                      "capacity", (guint64) 1024,
                                                      "max-capacity", (guint64) (64 * 1024),
                                                      "thread-safe", modes[m],
                                                      NULL);
      NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      guint8 *big;

      g_assert_no_error (error);
      big = nebula_allocator_allocate (alloc, 10000, 8, &error);
      g_assert_no_error (error);
      memset (big, 0x5c, 10000);
      g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 2);

      /* Not a block: succeeds without effect. */
      g_assert_true (nebula_allocator_deallocate (alloc, big + 5000, 8, 8, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 2);
      g_assert_true (nebula_allocator_owns (alloc, big));
      for (guint i = 0; i < 10000; i++)
        g_assert_cmpuint (big[i], ==, 0x5c);

      /* The owner's free still works, once. */
      g_assert_true (nebula_allocator_deallocate (alloc, big, 10000, 8, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), ==, 1);
      g_assert_false (nebula_allocator_deallocate (alloc, big, 10000, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
      g_clear_error (&error);

      stats = nebula_allocator_get_stats (alloc);
      g_assert_cmpuint (stats->allocations, ==, 1);
      g_assert_cmpuint (stats->deallocations, ==, 2);
    }
}

/* Issue 12: reallocate trusted old_size and copied that many bytes, past
 * the end of the chunk. */
static void
test_bump_reallocate_bad_old_size (void)
{
  const gboolean modes[] = { FALSE, TRUE };

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(NebulaBumpAllocator) bump = new_bump (&error,
                                                      "capacity", (guint64) 1024,
                                                      "max-capacity", (guint64) (64 * 1024),
                                                      "thread-safe", modes[m],
                                                      NULL);
      NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
      guint8 *a, *b, *big;
      guint64 used;

      g_assert_no_error (error);
      a = nebula_allocator_allocate (alloc, 16, 8, &error);
      b = nebula_allocator_allocate (alloc, 16, 8, &error);
      big = nebula_allocator_allocate (alloc, 10000, 8, &error);
      g_assert_no_error (error);
      memset (a, 1, 16);
      memset (b, 2, 16);
      used = nebula_allocator_get_bytes_used (alloc);

      /* Growing: the copy would read past the chunk. */
      g_assert_null (nebula_allocator_reallocate (alloc, a, 30000, 40000, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
      g_assert_nonnull (strstr (error->message, "30000"));
      g_clear_error (&error);

      /* Shrinking, and the top block past the cursor. */
      g_assert_null (nebula_allocator_reallocate (alloc, a, 1 << 20, 8, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
      g_clear_error (&error);
      g_assert_null (nebula_allocator_reallocate (alloc, b, 200, 300, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
      g_assert_nonnull (strstr (error->message, "200"));
      g_clear_error (&error);

      /* A dedicated block is exactly as large as it was asked. */
      g_assert_null (nebula_allocator_reallocate (alloc, big, 10001, 20000, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
      g_assert_nonnull (strstr (error->message, "10001"));
      g_assert_nonnull (strstr (error->message, "10000"));
      g_clear_error (&error);
      g_assert_null (nebula_allocator_reallocate (alloc, big + 9000, 2000, 4000, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
      g_clear_error (&error);

      /* Nothing changed, and the right sizes still work. */
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);
      for (guint i = 0; i < 16; i++)
        g_assert_true (a[i] == 1 && b[i] == 2);
      a = nebula_allocator_reallocate (alloc, a, 16, 32, 8, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < 16; i++)
        g_assert_cmpuint (a[i], ==, 1);
      /* Found by fuzz-bump: a dedicated block shrunk in place has its new
       * size. */
      g_assert_true (nebula_allocator_reallocate (alloc, big, 10000, 6000, 8, &error) == big);
      g_assert_no_error (error);
      g_assert_null (nebula_allocator_reallocate (alloc, big, 8000, 9000, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
      g_assert_nonnull (strstr (error->message, "6000"));
      g_clear_error (&error);
      g_assert_nonnull (nebula_allocator_reallocate (alloc, big, 6000, 20000, 8, &error));
      g_assert_no_error (error);
    }
}

/* Issue 12: a thread-safe bump accepted a second free of its top block. */
static void
test_bump_threads_double_free_top (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = new_bump (&error,
                                                  "capacity", (guint64) 1024,
                                                  "thread-safe", TRUE,
                                                  NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  gpointer a, b, c;

  g_assert_no_error (error);
  a = nebula_allocator_allocate (alloc, 32, 8, &error);
  b = nebula_allocator_allocate (alloc, 32, 8, &error);
  g_assert_no_error (error);

  /* As in a single-threaded bump: the top is given back, once. */
  g_assert_true (nebula_allocator_deallocate (alloc, b, 32, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, test_bump_span (32));
  g_assert_false (nebula_allocator_deallocate (alloc, b, 32, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  c = nebula_allocator_allocate (alloc, 32, 8, &error);
  g_assert_true (c == b);

  /* and resized in place, as in a single-threaded bump. */
  g_assert_true (nebula_allocator_reallocate (alloc, c, 32, 64, 8, &error) == c);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==,
                    test_bump_span (32) + test_bump_span (64));
  g_assert_true (nebula_allocator_reallocate (alloc, c, 64, 32, 8, &error) == c);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 2 * test_bump_span (32));

  /* Not the top: succeeds without effect. */
  g_assert_true (nebula_allocator_deallocate (alloc, a, 32, 8, &error));
  g_assert_no_error (error);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 3);
  g_assert_cmpuint (stats->deallocations, ==, 2);
  g_assert_cmpuint (stats->reallocations, ==, 2);
}

typedef struct {
  NebulaAllocator *alloc;
  gpointer         block;
  gint            *ready;
  gint             freed;
} RacingFree;

static gpointer
racing_free_thread (gpointer data)
{
  RacingFree *rf = data;

  /* Start both frees as close together as possible. */
  g_atomic_int_inc (rf->ready);
  while (g_atomic_int_get (rf->ready) < 2)
    ;
  rf->freed = nebula_allocator_deallocate (rf->alloc, rf->block, 48, 16, NULL);

  return NULL;
}

/* Issue 12: two racing frees of a thread-safe bump's top block both moved
 * the cursor back. Issue 14: the top block is the calling thread's own
 * newest block; two other threads racing to free it find a block that is
 * not theirs, which succeeds without effect and moves no cursor, and the
 * owner still gives it back, once. */
static void
test_bump_threads_racing_double_free (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = new_bump (&error,
                                                  "capacity", (guint64) 4096,
                                                  "thread-safe", TRUE,
                                                  NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  const guint n_rounds = 300;

  g_assert_no_error (error);
  for (guint round = 0; round < n_rounds; round++)
    {
      gint ready = 0;
      RacingFree rf[2];
      GThread *threads[2];
      gpointer block = nebula_allocator_allocate (alloc, 48, 16, &error);

      g_assert_no_error (error);
      for (guint t = 0; t < 2; t++)
        {
          rf[t] = (RacingFree) { alloc, block, &ready, FALSE };
          threads[t] = g_thread_new ("free", racing_free_thread, &rf[t]);
        }
      for (guint t = 0; t < 2; t++)
        g_thread_join (threads[t]);

      g_assert_true (rf[0].freed && rf[1].freed);
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, test_bump_span (48));

      g_assert_true (nebula_allocator_deallocate (alloc, block, 48, 16, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
      g_assert_false (nebula_allocator_deallocate (alloc, block, 48, 16, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
      g_clear_error (&error);
    }

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, n_rounds);
  g_assert_cmpuint (stats->deallocations, ==, 3 * n_rounds);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/bump/basic", test_bump_basic);
  g_test_add_func ("/nebula/bump/zero-size", test_bump_zero_size);
  g_test_add_func ("/nebula/bump/exhausted", test_bump_exhausted);
  g_test_add_func ("/nebula/bump/growth", test_bump_growth);
  g_test_add_func ("/nebula/bump/large-allocation", test_bump_large_allocation);
  g_test_add_func ("/nebula/bump/deallocate-top", test_bump_deallocate_top);
  g_test_add_func ("/nebula/bump/reallocate", test_bump_reallocate);
  g_test_add_func ("/nebula/bump/bad-layouts", test_bump_bad_layouts);
  g_test_add_func ("/nebula/bump/checkpoint/restore", test_bump_checkpoint_restore);
  g_test_add_func ("/nebula/bump/checkpoint/stale", test_bump_checkpoint_stale);
  g_test_add_func ("/nebula/bump/checkpoint/keeps-earlier-dedicated",
                   test_bump_checkpoint_keeps_earlier_dedicated);
  g_test_add_func ("/nebula/bump/scope", test_bump_scope);
  g_test_add_func ("/nebula/bump/reset-policies", test_bump_reset_policies);
  g_test_add_func ("/nebula/bump/fills", test_bump_fills);
  g_test_add_func ("/nebula/bump/presets", test_bump_presets);
  g_test_add_func ("/nebula/bump/invalid-config", test_bump_invalid_config);
  g_test_add_func ("/nebula/bump/lazy-init", test_bump_lazy_init);
  g_test_add_func ("/nebula/bump/frozen-after-init", test_bump_frozen_after_init);
  g_test_add_func ("/nebula/bump/null-self", test_bump_null_self);
  g_test_add_func ("/nebula/bump/threads", test_bump_threads);
  g_test_add_func ("/nebula/bump/threads/bytes-used", test_bump_threads_bytes_used);
  g_test_add_func ("/nebula/bump/checkpoint/stale-after-restore",
                   test_bump_checkpoint_stale_after_restore);
  g_test_add_func ("/nebula/bump/checkpoint/nesting", test_bump_checkpoint_nesting);
  g_test_add_func ("/nebula/bump/scope/stale", test_bump_scope_stale);
  g_test_add_func ("/nebula/bump/dedicated-interior-pointer", test_bump_dedicated_interior_pointer);
  g_test_add_func ("/nebula/bump/reallocate/bad-old-size", test_bump_reallocate_bad_old_size);
  g_test_add_func ("/nebula/bump/threads/double-free-top", test_bump_threads_double_free_top);
  g_test_add_func ("/nebula/bump/threads/racing-double-free",
                   test_bump_threads_racing_double_free);

  return g_test_run ();
}
