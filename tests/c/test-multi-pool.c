/* test-multi-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "nebula-multi-pool-allocator-private.h"
#include "test-util.h"

static NebulaAllocator *
new_multi_pool (GError     **error,
                const char  *first_property,
                ...)
{
  va_list args;
  GObject *object;

  va_start (args, first_property);
  object = g_object_new_valist (NEBULA_TYPE_MULTI_POOL_ALLOCATOR, first_property, args);
  va_end (args);

  if (!g_initable_init (G_INITABLE (object), NULL, error))
    {
      g_object_unref (object);
      return NULL;
    }
  return NEBULA_ALLOCATOR (object);
}

/* The class sizes the documentation lists. */
static const gsize expected_classes[] = {
  16, 32, 48, 64, 80, 96, 112, 128,
  160, 192, 224, 256,
  320, 384, 448, 512,
  640, 768, 896, 1024,
};

static void
test_multi_pool_defaults (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaMultiPoolAllocator) multi = nebula_multi_pool_allocator_new (&error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (multi);
  guint64 max_block_size = 0;
  gboolean check_frees = FALSE;
  g_autofree char *name = NULL;
  gpointer p;

  g_assert_no_error (error);
  g_assert_true (nebula_allocator_get_thread_safe (alloc));
  g_object_get (multi, "max-block-size", &max_block_size, "check-frees", &check_frees, NULL);
  g_assert_cmpuint (max_block_size, ==, 1024);
  g_assert_true (check_frees);
  g_assert_cmpuint (nebula_multi_pool_allocator_get_n_classes (multi), ==,
                    G_N_ELEMENTS (expected_classes));
  g_assert_cmpuint (nebula_allocator_get_capacity (alloc), ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);

  p = nebula_allocator_allocate (alloc, 40, 8, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  memset (p, 0x5A, 40);
  g_assert_true (nebula_allocator_owns (alloc, p));
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 48);
  g_assert_true (nebula_allocator_deallocate (alloc, p, 40, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);

  name = nebula_allocator_dup_name (alloc);
  g_assert_null (name);
}

static void
test_multi_pool_class_boundaries (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaMultiPoolAllocator) multi = nebula_multi_pool_allocator_new (&error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (multi);
  guint64 used = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (nebula_multi_pool_allocator_get_class_size (multi, 0), ==, 16);
  g_assert_cmpuint (nebula_multi_pool_allocator_get_class_size (multi, 1025), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (expected_classes); i++)
    {
      gsize low = i == 0 ? 1 : expected_classes[i - 1] + 1;
      gsize high = expected_classes[i];
      guint8 *a, *b;

      g_assert_cmpuint (nebula_multi_pool_allocator_get_class_size (multi, low), ==, high);
      g_assert_cmpuint (nebula_multi_pool_allocator_get_class_size (multi, high), ==, high);
      if (i > 0)
        g_assert_cmpuint (nebula_multi_pool_allocator_get_class_size (multi, low - 1), ==,
                          expected_classes[i - 1]);

      /* Both ends of the class take one block of the class each. */
      a = nebula_allocator_allocate (alloc, low, 8, &error);
      g_assert_no_error (error);
      b = nebula_allocator_allocate (alloc, high, 8, &error);
      g_assert_no_error (error);
      memset (a, 1, low);
      memset (b, 2, high);
      used += 2 * high;
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);
      g_assert_cmpuint (GPOINTER_TO_SIZE (a) % 16, ==, 0);
      g_assert_true (a + high <= b || b + high <= a);

      /* Freed with either size of the class: the same class. */
      g_assert_true (nebula_allocator_deallocate (alloc, a, high, 8, &error));
      g_assert_no_error (error);
      g_assert_true (nebula_allocator_deallocate (alloc, b, low, 8, &error));
      g_assert_no_error (error);
      used -= 2 * high;
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);
    }
}

/* The table the direct path picks a class with gives what the arithmetic
 * gives, for every size it covers; both give the smallest class that holds
 * the size, and the arithmetic carries on up to the largest max-block-size. */
static void
test_multi_pool_class_table (void)
{
  g_assert_cmpint (nebula_multi_pool_class_of_size_computed (0), ==, -1);

  for (gsize size = 1; size <= NEBULA_MULTI_POOL_LARGEST_MAX_BLOCK; size++)
    {
      int index = nebula_multi_pool_class_of_size (size);

      if (size <= NEBULA_MULTI_POOL_TABLE_LIMIT)
        g_assert_cmpint (index, ==, nebula_multi_pool_class_of_size_computed (size));
      if (size <= NEBULA_MULTI_POOL_TABLE_LIMIT || size % 61 == 0)
        {
          g_assert_cmpint (index, >=, 0);
          g_assert_cmpint (index, <, NEBULA_MULTI_POOL_MAX_CLASSES);
          g_assert_cmpuint (nebula_multi_pool_class_size ((guint) index), >=, size);
          if (index > 0)
            g_assert_cmpuint (nebula_multi_pool_class_size ((guint) index - 1), <, size);
        }
    }
}

/* Every class boundary, thread-safe (the magazine steps the direct path
 * calls) and not (the class pools' inline paths): the two sizes of a class
 * free each other's blocks, and a pointer into a block, one from nowhere,
 * the size of the next class and a double free are refused with what the
 * class saw, changing nothing. */
static void
test_multi_pool_bad_frees_every_class (void)
{
  for (guint thread_safe = 0; thread_safe < 2; thread_safe++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(NebulaAllocator) alloc = new_multi_pool (&error, "thread-safe", (gboolean) thread_safe,
                                                         NULL);
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      guint64 local[4] = { 0 };

      g_assert_no_error (error);
      for (guint i = 0; i < G_N_ELEMENTS (expected_classes); i++)
        {
          gsize low = i == 0 ? 1 : expected_classes[i - 1] + 1;
          gsize high = expected_classes[i];
          g_autofree char *class_name = g_strdup_printf ("%" G_GSIZE_FORMAT "-byte class", high);
          guint8 *a, *b;

          a = nebula_allocator_allocate (alloc, low, 8, &error);
          b = nebula_allocator_allocate (alloc, high, 8, &error);
          g_assert_no_error (error);

          /* Into the block: its second byte, its middle, its last. */
          for (gsize offset = 1; offset < high; offset += MAX (high / 2 - 1, 1))
            {
              g_assert_false (nebula_allocator_deallocate (alloc, a + offset, high, 8, &error));
              g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
              g_assert_nonnull (strstr (error->message, class_name));
              g_clear_error (&error);
            }
          g_assert_false (nebula_allocator_deallocate (alloc, a + high - 1, low, 8, &error));
          g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
          g_clear_error (&error);

          /* From nowhere. */
          g_assert_false (nebula_allocator_deallocate (alloc, local, low, 8, &error));
          g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
          g_clear_error (&error);

          /* With the first size of the next class. */
          if (i + 1 < G_N_ELEMENTS (expected_classes))
            {
              g_assert_false (nebula_allocator_deallocate (alloc, a, high + 1, 8, &error));
              g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
              g_clear_error (&error);
            }

          /* Each size of the class frees the other's block, once. */
          g_assert_true (nebula_allocator_deallocate (alloc, a, high, 8, &error));
          g_assert_no_error (error);
          g_assert_true (nebula_allocator_deallocate (alloc, b, low, 8, &error));
          g_assert_no_error (error);
          g_assert_false (nebula_allocator_deallocate (alloc, a, low, 8, &error));
          g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
          g_assert_nonnull (strstr (error->message, class_name));
          g_clear_error (&error);
        }

      stats = nebula_allocator_get_stats (alloc);
      g_assert_cmpuint (stats->allocations, ==, 2 * G_N_ELEMENTS (expected_classes));
      g_assert_cmpuint (stats->deallocations, ==, 2 * G_N_ELEMENTS (expected_classes));
      g_assert_cmpuint (stats->bytes_in_use, ==, 0);
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
    }
}

static void
test_multi_pool_layouts (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaMultiPoolAllocator) multi = nebula_multi_pool_allocator_new (&error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (multi);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  gpointer p;

  g_assert_no_error (error);

  /* Above max-block-size: refused with a suggestion, allocator usable. */
  p = nebula_allocator_allocate (alloc, 1025, 8, &error);
  g_assert_null (p);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_assert_nonnull (strstr (error->message, "1025 bytes"));
  g_assert_nonnull (strstr (error->message, "'max-block-size', 1024"));
  g_assert_nonnull (strstr (nebula_error_get_suggestion (error), "max-block-size"));
  g_assert_nonnull (strstr (nebula_error_get_suggestion (error), "NebulaSystemAllocator"));
  g_clear_error (&error);

  /* Larger alignments: a class whose blocks are aligned enough. */
  for (gsize alignment = 32; alignment <= 1024; alignment *= 2)
    {
      p = nebula_allocator_allocate (alloc, 24, alignment, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (GPOINTER_TO_SIZE (p) % alignment, ==, 0);
      memset (p, 3, 24);
      g_assert_true (nebula_allocator_deallocate (alloc, p, 24, alignment, &error));
      g_assert_no_error (error);
    }
  p = nebula_allocator_allocate (alloc, 200, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_SIZE (p) % 64, ==, 0);
  g_assert_true (nebula_allocator_deallocate (alloc, p, 200, 64, &error));
  g_assert_no_error (error);

  /* An alignment no class has (above max-block-size, or above a page). */
  p = nebula_allocator_allocate (alloc, 8, 2048, &error);
  g_assert_null (p);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_assert_nonnull (strstr (nebula_error_get_suggestion (error), "alignment"));
  g_clear_error (&error);

  /* The dispatch's own checks. */
  p = nebula_allocator_allocate (alloc, 8, 3, &error);
  g_assert_null (p);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  g_clear_error (&error);

  /* Size 0: a block of the smallest class. */
  p = nebula_allocator_allocate (alloc, 0, 8, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 16);
  g_assert_true (nebula_allocator_deallocate (alloc, p, 0, 8, &error));
  g_assert_no_error (error);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->failed_allocations, ==, 3);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
}

static void
test_multi_pool_bad_frees (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocator) alloc = new_multi_pool (&error, "name", "records", NULL);
  guint64 local = 0;
  gpointer p, q;

  g_assert_no_error (error);
  p = nebula_allocator_allocate (alloc, 40, 8, &error);
  g_assert_no_error (error);

  /* A size whose class never handed out a block. */
  g_assert_false (nebula_allocator_deallocate (alloc, p, 100, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "112-byte class"));
  g_clear_error (&error);

  /* A size of another class that exists: foreign to that class. */
  q = nebula_allocator_allocate (alloc, 100, 8, &error);
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_deallocate (alloc, p, 100, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "records: 112-byte class"));
  g_assert_nonnull (strstr (error->message, "freed with the size it was allocated with"));
  g_clear_error (&error);

  /* A free with a size above every class. */
  g_assert_false (nebula_allocator_deallocate (alloc, p, 4000, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_clear_error (&error);

  /* A pointer from nowhere. */
  g_assert_false (nebula_allocator_deallocate (alloc, &local, 40, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "48-byte class"));
  g_clear_error (&error);

  /* The block after p, which the class has not handed out (a refill
   * took its batch from the tail, and p, the batch's last block, was
   * handed out first): the size was right, so no hint about sizes. */
  g_assert_false (nebula_allocator_deallocate (alloc, (guint8 *) p + 48, 40, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "has not handed out since it was created or last reset"));
  g_assert_null (strstr (error->message, "a block must be freed with the size"));
  g_clear_error (&error);

  /* The right free, then a double one. */
  g_assert_true (nebula_allocator_deallocate (alloc, p, 40, 8, &error));
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_deallocate (alloc, p, 40, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
  g_assert_nonnull (strstr (error->message, "records: 48-byte class"));
  g_clear_error (&error);

  /* Still usable, and the counters saw two good frees only. */
  g_assert_true (nebula_allocator_deallocate (alloc, q, 100, 8, &error));
  g_assert_no_error (error);
  {
    g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (alloc);

    g_assert_cmpuint (stats->allocations, ==, 2);
    g_assert_cmpuint (stats->deallocations, ==, 2);
    g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  }
}

static void
test_multi_pool_reallocate (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocator) alloc = new_multi_pool (&error, "thread-safe", FALSE, NULL);
  guint8 *p, *q;

  g_assert_no_error (error);
  p = nebula_allocator_allocate (alloc, 20, 8, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 20; i++)
    p[i] = (guint8) i;

  /* Same class: in place. */
  q = nebula_allocator_reallocate (alloc, p, 20, 30, 8, &error);
  g_assert_no_error (error);
  g_assert_true (q == p);

  /* Another class: moved, contents kept. */
  q = nebula_allocator_reallocate (alloc, p, 30, 500, 8, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 20; i++)
    g_assert_cmpuint (q[i], ==, i);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 512);

  /* A wrong old size is refused before any byte is copied. */
  p = nebula_allocator_reallocate (alloc, q, 100, 40, 8, &error);
  g_assert_null (p);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  p = nebula_allocator_reallocate (alloc, q, 500, 10, 8, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpuint (p[i], ==, i);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 16);
  g_assert_true (nebula_allocator_deallocate (alloc, p, 10, 8, &error));
  g_assert_no_error (error);
}

static void
test_multi_pool_reset_and_trim (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocator) alloc = new_multi_pool (&error, "name", "resets", NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GVariant) report = NULL;
  g_autoptr(GVariant) classes = NULL;
  guint64 reserved = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < 2000; i++)
    {
      gpointer p = nebula_allocator_allocate (alloc, 8 + (i * 37) % 992, 8, &error);

      g_assert_no_error (error);
      g_assert_nonnull (p);
    }
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), >, 0);

  report = nebula_allocator_get_report (alloc);
  g_assert_true (g_variant_lookup (report, "reserved", "t", &reserved));
  classes = g_variant_lookup_value (report, "classes", G_VARIANT_TYPE ("aa{sv}"));
  g_assert_nonnull (classes);
  g_assert_cmpuint (g_variant_n_children (classes), ==, G_N_ELEMENTS (expected_classes));
  g_assert_cmpuint (reserved, >=, nebula_allocator_get_bytes_used (alloc) +
                                  nebula_allocator_get_bytes_available (alloc));

  nebula_allocator_reset (alloc);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 2000);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  g_assert_cmpuint (stats->resets, ==, 1);

  /* Everything is free: the grown slabs go back, and the report's
   * reserved drops by what trim says. */
  {
    guint64 given = nebula_allocator_trim (alloc, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (given, >, 0);
    g_assert_cmpuint (test_reserved_of (alloc), ==, reserved - given);
    g_assert_cmpuint (nebula_allocator_trim (alloc, &error), ==, 0);
    g_assert_no_error (error);
  }

  /* Usable after both. */
  {
    gpointer p = nebula_allocator_allocate (alloc, 999, 8, &error);

    g_assert_no_error (error);
    g_assert_true (nebula_allocator_deallocate (alloc, p, 999, 8, &error));
    g_assert_no_error (error);
  }
}

/* Allocates and frees @n blocks of 8 to 999 bytes on @a and @b in turn
 * (a thread's statistics cache follows the allocator it counted in
 * last) and checks each one's counts. */
static void
churn_two (NebulaAllocator *a,
           NebulaAllocator *b,
           guint            n)
{
  NebulaAllocator *pools[2] = { a, b };
  guint64 total[2] = { 0, 0 };
  NebulaAllocatorStats *before[2];

  for (guint k = 0; k < 2; k++)
    before[k] = nebula_allocator_get_stats (pools[k]);
  for (guint i = 0; i < n; i++)
    {
      for (guint k = 0; k < 2; k++)
        {
          GError *error = NULL;
          gsize size = 8 + (i * 7919 + k * 31) % 992;
          gpointer p = nebula_allocator_allocate (pools[k], size, 8, &error);

          g_assert_no_error (error);
          /* The other one in between: the cache changes owner twice. */
          g_assert_true (nebula_allocator_deallocate (pools[k], p, size, 8, &error));
          g_assert_no_error (error);
          total[k] += size;
        }
    }

  for (guint k = 0; k < 2; k++)
    {
      g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (pools[k]);

      g_assert_cmpuint (stats->allocations - before[k]->allocations, ==, n);
      g_assert_cmpuint (stats->deallocations - before[k]->deallocations, ==, n);
      g_assert_cmpuint (stats->total_bytes_allocated - before[k]->total_bytes_allocated, ==,
                        total[k]);
      g_assert_cmpuint (stats->total_bytes_freed - before[k]->total_bytes_freed, ==, total[k]);
      g_assert_cmpuint (stats->bytes_in_use, ==, 0);
      nebula_allocator_stats_free (before[k]);
    }
}

/* Two thread-safe multi-pools used in turn by one thread count exactly;
 * so does one made after another was finalized (often at the same
 * address), which must not inherit the thread's cache of the old one;
 * so does one used in turn with a System allocator (the same cache); a
 * single-threaded one and one without statistics take their own paths. */
static void
test_multi_pool_stats_two (void)
{
  g_autoptr(GError) error = NULL;
  NebulaAllocator *a = new_multi_pool (&error, NULL, NULL);
  g_autoptr(NebulaAllocator) b = new_multi_pool (&error, NULL, NULL);
  g_autoptr(NebulaAllocator) c = NULL;
  g_autoptr(NebulaAllocator) single = NULL;
  g_autoptr(NebulaAllocator) quiet = NULL;
  g_autoptr(NebulaAllocator) system = NULL;
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  gpointer p;

  g_assert_no_error (error);
  churn_two (a, b, 500);

  /* The thread's record is a's: c must count in its own counters. */
  p = nebula_allocator_allocate (a, 100, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_deallocate (a, p, 100, 8, &error));
  g_object_unref (a);
  c = new_multi_pool (&error, NULL, NULL);
  g_assert_no_error (error);
  churn_two (c, b, 300);

  single = new_multi_pool (&error, "thread-safe", FALSE, NULL);
  g_assert_no_error (error);
  churn_two (single, c, 200);

  /* A thread-safe System allocator keeps its thread's shard in the same
   * per-thread statistics cache: each in turn counts in its own counters. */
  system = g_object_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL);
  g_assert_true (g_initable_init (G_INITABLE (system), NULL, &error));
  g_assert_no_error (error);
  churn_two (c, system, 200);

  quiet = new_multi_pool (&error, "track-stats", FALSE, NULL);
  g_assert_no_error (error);
  p = nebula_allocator_allocate (quiet, 300, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_deallocate (quiet, p, 300, 8, &error));
  g_assert_no_error (error);
  stats = nebula_allocator_get_stats (quiet);
  g_assert_cmpuint (stats->allocations, ==, 0);
  g_assert_cmpuint (stats->total_bytes_allocated, ==, 0);
}

static void
test_multi_pool_stats_exact (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocator) alloc = new_multi_pool (&error, NULL, NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(NebulaAllocatorStats) after_reset = NULL;
  gpointer blocks[256];
  gsize sizes[256];
  guint64 in_use = 0, peak = 0, total = 0, freed = 0;
  GRand *rand = g_rand_new_with_seed (14);

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      sizes[i] = g_rand_int_range (rand, 8, 1000);
      blocks[i] = nebula_allocator_allocate (alloc, sizes[i], 8, &error);
      g_assert_no_error (error);
      in_use += sizes[i];
      total += sizes[i];
      peak = MAX (peak, in_use);
    }
  for (guint i = 0; i < 1000; i++)
    {
      guint slot = g_rand_int_range (rand, 0, G_N_ELEMENTS (blocks));

      g_assert_true (nebula_allocator_deallocate (alloc, blocks[slot], sizes[slot], 8, &error));
      g_assert_no_error (error);
      in_use -= sizes[slot];
      freed += sizes[slot];
      sizes[slot] = g_rand_int_range (rand, 8, 1000);
      blocks[slot] = nebula_allocator_allocate (alloc, sizes[slot], 8, &error);
      g_assert_no_error (error);
      in_use += sizes[slot];
      total += sizes[slot];
      peak = MAX (peak, in_use);
    }
  g_rand_free (rand);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 1256);
  g_assert_cmpuint (stats->deallocations, ==, 1000);
  g_assert_cmpuint (stats->bytes_in_use, ==, in_use);
  g_assert_cmpuint (stats->peak_bytes_in_use, ==, peak);
  g_assert_cmpuint (stats->total_bytes_allocated, ==, total);
  g_assert_cmpuint (stats->total_bytes_freed, ==, freed);
  g_assert_cmpuint (stats->failed_allocations, ==, 0);

  nebula_allocator_reset_stats (alloc);
  after_reset = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (after_reset->allocations, ==, 0);
  g_assert_cmpuint (after_reset->bytes_in_use, ==, in_use);
  g_assert_cmpuint (after_reset->peak_bytes_in_use, ==, in_use);

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], sizes[i], 8, NULL));
  g_clear_pointer (&after_reset, nebula_allocator_stats_free);
  after_reset = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (after_reset->bytes_in_use, ==, 0);
  g_assert_cmpuint (after_reset->deallocations, ==, G_N_ELEMENTS (blocks));
}

static void
test_multi_pool_config (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocator) alloc = NULL;
  g_autoptr(NebulaMultiPoolAllocator) big = NULL;
  gboolean check_frees = TRUE, track_stats = TRUE;

  alloc = new_multi_pool (&error, "max-block-size", (guint64) 8, NULL);
  g_assert_null (alloc);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "'max-block-size' must be 16 to 1048576 bytes, not 8"));
  g_clear_error (&error);

  alloc = new_multi_pool (&error, "max-block-size", (guint64) 2 << 20, NULL);
  g_assert_null (alloc);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
  g_clear_error (&error);

  alloc = new_multi_pool (&error, "alloc-fill", 300, NULL);
  g_assert_null (alloc);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "Multi-pool allocator"));
  g_clear_error (&error);

  alloc = new_multi_pool (&error, "preset", NEBULA_PRESET_PERFORMANCE, NULL);
  g_assert_no_error (error);
  g_object_get (alloc, "check-frees", &check_frees, "track-stats", &track_stats, NULL);
  g_assert_false (check_frees);
  g_assert_false (track_stats);
  g_clear_object (&alloc);

  /* DEBUG fills every class's blocks. */
  alloc = new_multi_pool (&error, "preset", NEBULA_PRESET_DEBUG, "thread-safe", FALSE, NULL);
  g_assert_no_error (error);
  {
    guint8 *p = nebula_allocator_allocate (alloc, 300, 8, &error);

    g_assert_no_error (error);
    for (guint i = 0; i < 300; i++)
      g_assert_cmpuint (p[i], ==, 0xAA);
    g_assert_true (nebula_allocator_deallocate (alloc, p, 300, 8, &error));
  }
  g_clear_object (&alloc);

  /* The largest max-block-size: 60 classes, one of 1 MiB. */
  big = NEBULA_MULTI_POOL_ALLOCATOR (new_multi_pool (&error, "max-block-size", (guint64) 1 << 20,
                                                     NULL));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_multi_pool_allocator_get_n_classes (big), ==, 60);
  g_assert_cmpuint (nebula_multi_pool_allocator_get_class_size (big, 1000000), ==, 1 << 20);
  g_assert_cmpuint (nebula_multi_pool_allocator_get_class_size (big, 900000), ==, 917504);
  g_assert_cmpuint (nebula_multi_pool_allocator_get_class_size (big, 5000), ==, 5120);
  {
    gpointer p = nebula_allocator_allocate (NEBULA_ALLOCATOR (big), 900000, 4096, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (GPOINTER_TO_SIZE (p) % 4096, ==, 0);
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (big), p, 900000, 4096, &error));
    g_assert_no_error (error);
  }
}

static void
test_multi_pool_budget (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("multi", 40000);
  g_autoptr(NebulaAllocator) alloc = new_multi_pool (&error, "budget", budget, NULL);
  gpointer p, q;

  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);

  /* The first slab of a class (about 16 KiB: 341 blocks of 48 bytes) is
   * charged when the class is made. */
  p = nebula_allocator_allocate (alloc, 40, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 341 * 48);
  q = nebula_allocator_allocate (alloc, 500, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), >, 341 * 48);

  /* A third class would pass the limit: refused, nothing kept. */
  g_assert_null (nebula_allocator_allocate (alloc, 1000, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_clear_error (&error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), <=, 40000);

  g_assert_true (nebula_allocator_deallocate (alloc, p, 40, 8, &error));
  g_assert_true (nebula_allocator_deallocate (alloc, q, 500, 8, &error));
  g_assert_no_error (error);
  g_clear_object (&alloc);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
}

/* Threads share one multi-pool through a table of slots: each step frees
 * what it finds in a random slot (often a block another thread made) and
 * puts a new block of a random size there. */
#define N_THREADS  4
#define N_SLOTS    64
#define N_STEPS    20000

typedef struct
{
  NebulaAllocator *alloc;
  guint64          slots[N_SLOTS];   /* pack (block, size), 0 for none */
  guint            seed;
  gint             failures;
} Shared;

typedef struct
{
  Shared *shared;
  guint   index;
  guint64 allocated;
  guint64 freed;
} Worker;

/* A block and its size in one word, swapped atomically: the blocks are
 * 16-byte aligned and sizes below 1024, so the size goes in the high bits
 * of a 64-bit word next to a 48-bit address. */
static inline guint64
pack (gpointer block,
      gsize    size)
{
  return (guint64) GPOINTER_TO_SIZE (block) | ((guint64) size << 52);
}

static gpointer
worker_run (gpointer data)
{
  Worker *worker = data;
  Shared *shared = worker->shared;
  GRand *rand = g_rand_new_with_seed (shared->seed + worker->index);

  for (guint step = 0; step < N_STEPS; step++)
    {
      gsize size = g_rand_int_range (rand, 8, 1000);
      gpointer block = nebula_allocator_allocate (shared->alloc, size, 8, NULL);
      guint64 old;

      if (block == NULL)
        {
          g_atomic_int_inc (&shared->failures);
          continue;
        }
      memset (block, (int) size, size);
      worker->allocated += size;
      old = __atomic_exchange_n (&shared->slots[g_rand_int_range (rand, 0, N_SLOTS)],
                                 pack (block, size), __ATOMIC_ACQ_REL);
      if (old != 0)
        {
          gsize old_size = (gsize) (old >> 52);
          guint8 *old_block = GSIZE_TO_POINTER ((gsize) (old & ((G_GUINT64_CONSTANT (1) << 52) - 1)));

          if (old_block[0] != (guint8) old_size || old_block[old_size - 1] != (guint8) old_size ||
              !nebula_allocator_deallocate (shared->alloc, old_block, old_size, 8, NULL))
            g_atomic_int_inc (&shared->failures);
          worker->freed += old_size;
        }
    }

  g_rand_free (rand);
  return NULL;
}

static void
test_multi_pool_threads (void)
{
  g_autoptr(GError) error = NULL;
  Shared shared = { 0 };
  Worker workers[N_THREADS];
  GThread *threads[N_THREADS];
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  guint64 allocated = 0, freed = 0;

  if (GLIB_SIZEOF_VOID_P != 8)
    {
      g_test_skip ("packs addresses into 52 bits");
      return;
    }

  shared.alloc = new_multi_pool (&error, "name", "threads", NULL);
  g_assert_no_error (error);
  shared.seed = 14;

  for (guint i = 0; i < N_THREADS; i++)
    {
      workers[i] = (Worker) { &shared, i, 0, 0 };
      threads[i] = g_thread_new ("multi-pool", worker_run, &workers[i]);
    }
  for (guint i = 0; i < N_THREADS; i++)
    {
      g_thread_join (threads[i]);
      allocated += workers[i].allocated;
      freed += workers[i].freed;
    }
  g_assert_cmpint (shared.failures, ==, 0);

  stats = nebula_allocator_get_stats (shared.alloc);
  g_assert_cmpuint (stats->total_bytes_allocated, ==, allocated);
  g_assert_cmpuint (stats->total_bytes_freed, ==, freed);
  g_assert_cmpuint (stats->bytes_in_use, ==, allocated - freed);
  g_assert_cmpuint (stats->allocations, ==, N_THREADS * N_STEPS);

  /* What is left goes back one block at a time. */
  for (guint i = 0; i < N_SLOTS; i++)
    if (shared.slots[i] != 0)
      {
        gsize size = (gsize) (shared.slots[i] >> 52);
        gpointer block = GSIZE_TO_POINTER ((gsize) (shared.slots[i] & ((G_GUINT64_CONSTANT (1) << 52) - 1)));

        g_assert_true (nebula_allocator_deallocate (shared.alloc, block, size, 8, &error));
        g_assert_no_error (error);
      }
  g_clear_pointer (&stats, nebula_allocator_stats_free);
  stats = nebula_allocator_get_stats (shared.alloc);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (shared.alloc), ==, 0);
  g_object_unref (shared.alloc);
}

/* Two threads free the same block at once: one wins, the other gets
 * DOUBLE_FREE (or INVALID_POINTER if the block was handed out again). */
typedef struct
{
  NebulaAllocator *alloc;
  gpointer         block;
  gint             ok;
  gint             refused;
} Race;

static gpointer
race_free (gpointer data)
{
  Race *race = data;
  GError *error = NULL;

  if (nebula_allocator_deallocate (race->alloc, race->block, 200, 8, &error))
    g_atomic_int_inc (&race->ok);
  else
    {
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
      g_error_free (error);
      g_atomic_int_inc (&race->refused);
    }
  return NULL;
}

static void
test_multi_pool_threads_double_free (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocator) alloc = new_multi_pool (&error, NULL, NULL);

  g_assert_no_error (error);
  for (guint round = 0; round < 50; round++)
    {
      Race race = { alloc, NULL, 0, 0 };
      GThread *a, *b;

      race.block = nebula_allocator_allocate (alloc, 200, 8, &error);
      g_assert_no_error (error);
      a = g_thread_new ("free-a", race_free, &race);
      b = g_thread_new ("free-b", race_free, &race);
      g_thread_join (a);
      g_thread_join (b);
      g_assert_cmpint (race.ok, ==, 1);
      g_assert_cmpint (race.refused, ==, 1);
    }
}

/* The larson workload with two threads sharing the allocator: every block
 * is freed, the counters agree. */
static void
test_multi_pool_larson (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocator) alloc = new_multi_pool (&error, NULL, NULL);
  g_autoptr(NebulaBenchmark) bench = nebula_benchmark_new (NEBULA_WORKLOAD_LARSON);
  g_autoptr(NebulaBenchmarkResult) result = NULL;
  g_autoptr(NebulaAllocatorStats) stats = NULL;

  g_assert_no_error (error);
  g_object_set (bench, "iterations", (guint64) 5000, "rounds", 2, "threads", 2, NULL);
  result = nebula_benchmark_run (bench, alloc, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result->workload, ==, NEBULA_WORKLOAD_LARSON);
  g_assert_cmpuint (result->ops, >=, 5000);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, >, 0);
  g_assert_cmpuint (stats->allocations, ==, stats->deallocations);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
}

/* The thread-safe entries of each kind (statistics or not, check-frees
 * or not: the class pools' magazine steps inlined in them): blocks of
 * every size freed and taken again from the thread's magazines, through
 * a reset (the magazines catch up on the general path), with exact
 * counts; with check-frees, a double free refused with the class named,
 * changing nothing. */
static void
test_multi_pool_lean_entries (void)
{
  for (guint kind = 0; kind < 4; kind++)
    {
      gboolean counted = (kind & 1) != 0, checked = (kind & 2) != 0;
      g_autoptr(GError) error = NULL;
      g_autoptr(NebulaAllocator) alloc = new_multi_pool (&error, "thread-safe", TRUE,
                                                         "track-stats", counted,
                                                         "check-frees", checked, NULL);
      guint8 *blocks[64];
      guint64 bytes = 0;

      g_assert_no_error (error);
      for (guint round = 0; round < 4; round++)
        {
          if (round == 2)
            nebula_allocator_reset (alloc);
          for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
            {
              blocks[i] = nebula_allocator_allocate (alloc, 8 + i * 15, 8, &error);
              g_assert_no_error (error);
              memset (blocks[i], (int) i, 8 + i * 15);
              bytes += 8 + i * 15;
            }
          for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
            {
              g_assert_cmpuint (blocks[i][7 + i * 15], ==, i);
              g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], 8 + i * 15, 8, &error));
              g_assert_no_error (error);
            }
        }

      if (checked)
        {
          g_assert_false (nebula_allocator_deallocate (alloc, blocks[3], 8 + 3 * 15, 8, &error));
          g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
          g_assert_nonnull (strstr (error->message, "64-byte class"));
          g_clear_error (&error);
        }

      {
        g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (alloc);

        g_assert_cmpuint (stats->allocations, ==, counted ? 4 * G_N_ELEMENTS (blocks) : 0);
        g_assert_cmpuint (stats->deallocations, ==, counted ? 4 * G_N_ELEMENTS (blocks) : 0);
        g_assert_cmpuint (stats->total_bytes_allocated, ==, counted ? bytes : 0);
        g_assert_cmpuint (stats->bytes_in_use, ==, 0);
      }
    }
}

/* The entries serve sizes up to MIN (max-block-size, 1024) from the
 * steps of 16 bytes (step_pools[]): a max-block-size inside a step (1000:
 * 993 to 1000 served, 1001 refused although its step is served) or above
 * the steps (2048: 1025 and up through the general path), thread-safe and
 * single-threaded, every size allocated, written, freed and counted, the
 * size just above refused, a free of the wrong size refused. */
static void
test_multi_pool_step_limit (void)
{
  static const guint64 limits[] = { 1000, 2048, 16 };

  for (guint kind = 0; kind < 2 * G_N_ELEMENTS (limits); kind++)
    {
      guint64 limit = limits[kind / 2];
      gboolean thread_safe = (kind & 1) != 0;
      g_autoptr(GError) error = NULL;
      g_autoptr(NebulaAllocator) alloc = new_multi_pool (&error, "thread-safe", thread_safe,
                                                         "max-block-size", limit, NULL);
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      guint64 bytes = 0;
      guint8 *p;

      g_assert_no_error (error);
      for (guint round = 0; round < 2; round++)
        for (gsize size = 1; size <= limit; size++)
          {
            p = nebula_allocator_allocate (alloc, size, 16, &error);
            g_assert_no_error (error);
            g_assert_cmpuint (GPOINTER_TO_SIZE (p) % 16, ==, 0);
            memset (p, 5, size);
            g_assert_true (nebula_allocator_deallocate (alloc, p, size, 16, &error));
            g_assert_no_error (error);
            bytes += size;
          }

      p = nebula_allocator_allocate (alloc, limit + 1, 8, &error);
      g_assert_null (p);
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
      g_clear_error (&error);

      /* A block of the last step freed with a size past max-block-size. */
      p = nebula_allocator_allocate (alloc, limit, 8, &error);
      g_assert_no_error (error);
      g_assert_false (nebula_allocator_deallocate (alloc, p, limit + 1, 8, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_true (nebula_allocator_deallocate (alloc, p, limit, 8, &error));
      g_assert_no_error (error);
      bytes += limit;

      stats = nebula_allocator_get_stats (alloc);
      g_assert_cmpuint (stats->allocations, ==, 2 * limit + 1);
      g_assert_cmpuint (stats->deallocations, ==, 2 * limit + 1);
      g_assert_cmpuint (stats->total_bytes_allocated, ==, bytes);
      g_assert_cmpuint (stats->bytes_in_use, ==, 0);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/multi-pool/defaults", test_multi_pool_defaults);
  g_test_add_func ("/nebula/multi-pool/class-boundaries", test_multi_pool_class_boundaries);
  g_test_add_func ("/nebula/multi-pool/class-table", test_multi_pool_class_table);
  g_test_add_func ("/nebula/multi-pool/bad-frees/every-class", test_multi_pool_bad_frees_every_class);
  g_test_add_func ("/nebula/multi-pool/layouts", test_multi_pool_layouts);
  g_test_add_func ("/nebula/multi-pool/bad-frees", test_multi_pool_bad_frees);
  g_test_add_func ("/nebula/multi-pool/reallocate", test_multi_pool_reallocate);
  g_test_add_func ("/nebula/multi-pool/reset-and-trim", test_multi_pool_reset_and_trim);
  g_test_add_func ("/nebula/multi-pool/stats-exact", test_multi_pool_stats_exact);
  g_test_add_func ("/nebula/multi-pool/stats-two", test_multi_pool_stats_two);
  g_test_add_func ("/nebula/multi-pool/config", test_multi_pool_config);
  g_test_add_func ("/nebula/multi-pool/budget", test_multi_pool_budget);
  g_test_add_func ("/nebula/multi-pool/lean-entries", test_multi_pool_lean_entries);
  g_test_add_func ("/nebula/multi-pool/step-limit", test_multi_pool_step_limit);
  g_test_add_func ("/nebula/multi-pool/threads", test_multi_pool_threads);
  g_test_add_func ("/nebula/multi-pool/threads/double-free", test_multi_pool_threads_double_free);
  g_test_add_func ("/nebula/multi-pool/threads/larson", test_multi_pool_larson);

  return g_test_run ();
}
