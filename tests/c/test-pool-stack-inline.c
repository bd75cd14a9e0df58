/* test-pool-stack-inline.c: the inline fast paths of
 * nebula-pool-allocator.h and nebula-stack-allocator.h, and the wrappers
 * that try them, give what the exported paths give.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "test-util.h"

static gpointer
new_allocator (GType       type,
               const char *first_property,
               ...)
{
  g_autoptr(GError) error = NULL;
  gpointer object;
  va_list args;

  va_start (args, first_property);
  object = g_initable_new_valist (type, first_property, args, NULL, &error);
  va_end (args);
  g_assert_no_error (error);

  return object;
}

/* Random churn through the inline functions, the public wrappers and a
 * free-filling pool (which never takes a fast path): the same blocks,
 * relative to the first, and the same statistics, across growth and
 * resets. */
static void
test_pool_matches_exported (void)
{
  g_autoptr(NebulaPoolAllocator) fast = new_allocator (NEBULA_TYPE_POOL_ALLOCATOR,
                                                       "block-size", (guint64) 64,
                                                       "block-count", (guint64) 16,
                                                       "max-block-count", (guint64) 64, NULL);
  g_autoptr(NebulaPoolAllocator) wrapped = new_allocator (NEBULA_TYPE_POOL_ALLOCATOR,
                                                          "block-size", (guint64) 64,
                                                          "block-count", (guint64) 16,
                                                          "max-block-count", (guint64) 64, NULL);
  g_autoptr(NebulaPoolAllocator) slow = new_allocator (NEBULA_TYPE_POOL_ALLOCATOR,
                                                       "block-size", (guint64) 64,
                                                       "block-count", (guint64) 16,
                                                       "max-block-count", (guint64) 64,
                                                       "free-fill", 0xDD, NULL);
  guint8 *live[3][48] = { { NULL } };
  gsize sizes[48] = { 0 };
  guint32 state = 11;

  for (guint i = 0; i < 3000; i++)
    {
      g_autoptr(GError) error = NULL;
      guint slot = (state = state * 1103515245 + 12345) % 48;

      if (i % 1000 == 999)
        {
          nebula_allocator_reset (NEBULA_ALLOCATOR (fast));
          nebula_allocator_reset (NEBULA_ALLOCATOR (wrapped));
          nebula_allocator_reset (NEBULA_ALLOCATOR (slow));
          memset (live, 0, sizeof live);
          continue;
        }

      if (live[0][slot] == NULL)
        {
          gsize size = 1 + (state >> 8) % 64;

          live[0][slot] = nebula_pool_allocator_alloc (fast, size, 8, &error);
          live[1][slot] = nebula_allocator_allocate (NEBULA_ALLOCATOR (wrapped), size, 8, &error);
          live[2][slot] = nebula_allocator_allocate (NEBULA_ALLOCATOR (slow), size, 8, &error);
          g_assert_no_error (error);
          sizes[slot] = size;
          memset (live[0][slot], 0x5A, size);
        }
      else
        {
          g_assert_true (nebula_pool_allocator_free (fast, live[0][slot], sizes[slot], 8, &error));
          g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (wrapped), live[1][slot],
                                                      sizes[slot], 8, &error));
          g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (slow), live[2][slot],
                                                      sizes[slot], 8, &error));
          g_assert_no_error (error);
          live[0][slot] = live[1][slot] = live[2][slot] = NULL;
        }
    }

  g_assert_cmpuint (nebula_pool_allocator_get_n_slabs (fast), ==, 3);
  test_assert_stats_equal (fast, slow);
  test_assert_stats_equal (wrapped, slow);
}

/* Bad frees through the inline function give the exported path's errors
 * with the numbers, change nothing, and leave the pool usable. */
static void
test_pool_bad_frees (void)
{
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 8, NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GError) error = NULL;
  guint8 outside[64];
  guint8 *a, *b;

  a = nebula_pool_allocator_alloc (pool, 64, 16, &error);
  b = nebula_pool_allocator_alloc (pool, 32, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_pool_allocator_free (pool, a, 64, 16, &error));
  g_assert_no_error (error);

  g_assert_false (nebula_pool_allocator_free (pool, a, 64, 16, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
  g_assert_nonnull (strstr (error->message, "(size 64) is not allocated"));
  g_clear_error (&error);

  g_assert_false (nebula_pool_allocator_free (pool, b + 8, 32, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "lies 8 bytes into block 1 of 64 bytes"));
  g_clear_error (&error);

  g_assert_false (nebula_pool_allocator_free (pool, outside, 32, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "does not lie in this pool"));
  g_clear_error (&error);

  /* A block that was never handed out is not the pool's to take back:
   * a pointer it did not give, not a double free. */
  g_assert_false (nebula_pool_allocator_free (pool, b + 64, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "has not handed out since it was created or last reset"));
  g_clear_error (&error);

  g_assert_false (nebula_pool_allocator_free (pool, NULL, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  /* Layouts the blocks cannot serve. */
  g_assert_null (nebula_pool_allocator_alloc (pool, 65, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_assert_nonnull (strstr (error->message, "cannot allocate 65 bytes aligned to 8"));
  g_clear_error (&error);
  g_assert_null (nebula_pool_allocator_alloc (pool, 8, 32, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_clear_error (&error);
  g_assert_null (nebula_pool_allocator_alloc (pool, 8, 3, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  g_clear_error (&error);

  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (pool));
  g_assert_cmpuint (stats->allocations, ==, 2);
  g_assert_cmpuint (stats->deallocations, ==, 1);
  g_assert_cmpuint (stats->bytes_in_use, ==, 32);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (pool)), ==, 64);

  /* Still usable: the freed block comes back first. */
  g_assert_true (nebula_pool_allocator_alloc (pool, 64, 16, &error) == (gpointer) a);
  g_assert_no_error (error);
}

/* Check-frees with strides that are not powers of two (48 = 3 << 4,
 * 24 = 3 << 3, 80, 1008 = 63 << 4, as the larson workload's 8-999 bytes
 * get): the inline path is open (it finds the block index with a rotation
 * and a multiplication) and refuses exactly what the exported path
 * refuses: a pointer at every offset into a block, one below and past
 * the slab, a double free, a block never handed out (a pointer the pool
 * did not give: INVALID_POINTER). */
static void
test_pool_odd_strides (void)
{
  static const struct { guint64 size, alignment; } strides[] = {
    { 48, 16 }, { 24, 8 }, { 80, 16 }, { 1008, 16 }, { 64, 16 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (strides); i++)
    {
      gsize stride = strides[i].size;
      g_autoptr(NebulaPoolAllocator) pool = new_allocator (NEBULA_TYPE_POOL_ALLOCATOR,
                                                           "block-size", strides[i].size,
                                                           "block-alignment", strides[i].alignment,
                                                           "block-count", (guint64) 8, NULL);
      NebulaPoolFast *fast = _NEBULA_POOL_FAST (pool);
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      g_autoptr(GError) error = NULL;
      guint8 *blocks[4];
      guint8 outside[16];

      for (guint j = 0; j < G_N_ELEMENTS (blocks); j++)
        {
          blocks[j] = nebula_pool_allocator_alloc (pool, stride, 8, &error);
          g_assert_no_error (error);
          g_assert_true (blocks[j] == blocks[0] + j * stride);
        }
      /* The inline path is open whatever the stride (memory tools close
       * it, to see every block). */
      g_assert_cmpuint (fast->max_fast_size, ==, nebula_memory_tools_watching () ? 0 : stride);
      g_assert_cmpuint (fast->checked_max, ==, nebula_memory_tools_watching () ? 0 : stride);

      /* Every offset into an allocated block, and into a free one. */
      g_assert_true (nebula_pool_allocator_free (pool, blocks[3], stride, 8, &error));
      g_assert_no_error (error);
      for (gsize offset = 1; offset < stride; offset++)
        {
          g_assert_false (_nebula_pool_fast_dealloc (fast, blocks[1] + offset, stride, 8));
          g_assert_false (nebula_pool_allocator_free (pool, blocks[1] + offset, stride, 8, &error));
          g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
          g_assert_nonnull (strstr (error->message, "is not the start of a block"));
          g_clear_error (&error);
          g_assert_false (nebula_pool_allocator_free (pool, blocks[3] + offset, stride, 8, &error));
          g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
          g_clear_error (&error);
        }

      /* Below the slab, past it, and not in it at all. */
      g_assert_false (_nebula_pool_fast_dealloc (fast, blocks[0] - stride, stride, 8));
      g_assert_false (_nebula_pool_fast_dealloc (fast, blocks[0] - 1, stride, 8));
      g_assert_false (_nebula_pool_fast_dealloc (fast, blocks[0] + 8 * stride, stride, 8));
      g_assert_false (nebula_pool_allocator_free (pool, outside, 8, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
      g_assert_nonnull (strstr (error->message, "does not lie in this pool"));
      g_clear_error (&error);

      /* A double free, and a block of the tail never handed out. */
      g_assert_false (nebula_pool_allocator_free (pool, blocks[3], stride, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
      g_clear_error (&error);
      g_assert_false (nebula_pool_allocator_free (pool, blocks[0] + 5 * stride, stride, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
      g_assert_nonnull (strstr (error->message, "is block 5, which this pool has not handed out"));
      g_clear_error (&error);

      /* Nothing changed; the good frees and the free list still work. */
      stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (pool));
      g_assert_cmpuint (stats->allocations, ==, 4);
      g_assert_cmpuint (stats->deallocations, ==, 1);
      g_assert_true (nebula_pool_allocator_alloc (pool, 1, 8, &error) == (gpointer) blocks[3]);
      g_assert_no_error (error);
      for (guint j = 0; j < G_N_ELEMENTS (blocks); j++)
        g_assert_true (_nebula_pool_fast_dealloc (fast, blocks[j], stride, 8) ||
                       (nebula_memory_tools_watching () &&
                        nebula_pool_allocator_free (pool, blocks[j], stride, 8, NULL)));
      g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (pool)), ==, 0);
    }
}

/* Takes blocks *@a and *@b of a fresh 64-byte pool, frees *@a and writes
 * *@b + @offset into its link, as a write into a freed block would. FALSE
 * (the test skipped) while memory tools watch: they report that write
 * before the pool can (test-memory-tools covers that report). */
static gboolean
damage_first_link (NebulaPoolAllocator  *pool,
                   gsize                 offset,
                   guint8              **a,
                   guint8              **b)
{
  g_autoptr(GError) error = NULL;
  gpointer bogus;

  if (nebula_memory_tools_watching ())
    {
      g_test_skip ("memory tools report the deliberate write into a freed block");
      return FALSE;
    }

  *a = nebula_pool_allocator_alloc (pool, 64, 8, &error);
  *b = nebula_pool_allocator_alloc (pool, 64, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_pool_allocator_free (pool, *a, 64, 8, &error));
  bogus = *b + offset;
  memcpy (*a, &bogus, sizeof bogus);
  return TRUE;
}

/* A freed block whose link was overwritten: the inline path does not
 * follow it, and the exported path reports and repairs it. */
static void
test_pool_damaged_list (void)
{
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 4, NULL);
  g_autoptr(GError) error = NULL;
  guint8 *a, *b;

  /* b + 3: allocated, and not a block boundary. */
  if (!damage_first_link (pool, 3, &a, &b))
    return;

  g_assert_true (nebula_pool_allocator_alloc (pool, 64, 8, &error) == (gpointer) a);
  g_assert_no_error (error);
  g_assert_null (nebula_pool_allocator_alloc (pool, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_CORRUPTION);
  g_assert_nonnull (strstr (error->message, "2 blocks in use"));
  g_clear_error (&error);

  /* Rebuilt: the two never-used blocks are there. */
  g_assert_nonnull (nebula_pool_allocator_alloc (pool, 64, 8, &error));
  g_assert_nonnull (nebula_pool_allocator_alloc (pool, 64, 8, &error));
  g_assert_no_error (error);
  g_assert_null (nebula_pool_allocator_alloc (pool, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_nonnull (strstr (error->message, "0 of 4 blocks free"));
}

/* A link to a block of the never-used tail: that block is free but not
 * listed, and handing it out would give it twice (the tail hands it out
 * again). The inline path declines it and the exported path reports and
 * repairs the list. */
static void
test_pool_link_into_tail (void)
{
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 4, NULL);
  g_autoptr(GError) error = NULL;
  guint8 *a, *b, *c, *d;

  /* b + 64: block 2, never handed out. */
  if (!damage_first_link (pool, 64, &a, &b))
    return;

  g_assert_true (nebula_pool_allocator_alloc (pool, 64, 8, &error) == (gpointer) a);
  g_assert_null (nebula_pool_allocator_alloc (pool, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_CORRUPTION);
  g_clear_error (&error);

  /* Rebuilt: blocks 2 and 3, once each. */
  c = nebula_pool_allocator_alloc (pool, 64, 8, &error);
  d = nebula_pool_allocator_alloc (pool, 64, 8, &error);
  g_assert_no_error (error);
  g_assert_true (c == b + 64 && d == b + 128);
  g_assert_null (nebula_pool_allocator_alloc (pool, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
}

/* The inline path has one branch per configuration (PERFORMANCE: no
 * checks and no counters; the default; either one alone): each frees and
 * reuses blocks, counts what it keeps, and leaves to the exported path
 * the errors its configuration promises. */
static void
test_pool_configurations (void)
{
  struct { gboolean performance, check_frees, track_stats; } configs[] = {
    { TRUE, FALSE, FALSE },
    { FALSE, TRUE, TRUE },
    { FALSE, TRUE, FALSE },
    { FALSE, FALSE, TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (configs); i++)
    {
      g_autoptr(NebulaPoolAllocator) pool = NULL;
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      g_autoptr(GError) error = NULL;
      guint8 *a, *b, *c;

      if (configs[i].performance)
        pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                               "block-size", (guint64) 64, "block-count", (guint64) 4,
                               "preset", NEBULA_PRESET_PERFORMANCE, NULL);
      else
        pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                               "block-size", (guint64) 64, "block-count", (guint64) 4,
                               "check-frees", configs[i].check_frees,
                               "track-stats", configs[i].track_stats, NULL);
      g_assert_no_error (error);

      a = nebula_pool_allocator_alloc (pool, 64, 8, &error);
      b = nebula_pool_allocator_alloc (pool, 40, 8, &error);
      c = nebula_pool_allocator_alloc (pool, 64, 16, &error);
      g_assert_no_error (error);
      g_assert_true (b == a + 64 && c == a + 128);
      g_assert_true (nebula_pool_allocator_free (pool, b, 40, 8, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (pool)), ==, 128);
      g_assert_true (nebula_pool_allocator_alloc (pool, 8, 8, &error) == (gpointer) b);
      g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (pool)), ==, 192);

      /* What every configuration checks. */
      g_assert_false (nebula_pool_allocator_free (pool, NULL, 64, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
      g_clear_error (&error);
      g_assert_null (nebula_pool_allocator_alloc (pool, 65, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
      g_clear_error (&error);
      g_assert_false (nebula_pool_allocator_free (pool, a, 65, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
      g_clear_error (&error);

      /* What check-frees adds. */
      if (configs[i].check_frees)
        {
          g_assert_true (nebula_pool_allocator_free (pool, c, 64, 16, &error));
          g_assert_false (nebula_pool_allocator_free (pool, c, 64, 16, &error));
          g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
          g_clear_error (&error);
          g_assert_false (nebula_pool_allocator_free (pool, a + 8, 64, 8, &error));
          g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
          g_clear_error (&error);
          g_assert_true (nebula_pool_allocator_alloc (pool, 64, 8, &error) == (gpointer) c);
          g_assert_no_error (error);
        }

      stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (pool));
      if (configs[i].track_stats)
        {
          g_assert_cmpuint (stats->allocations, ==, configs[i].check_frees ? 5 : 4);
          g_assert_cmpuint (stats->deallocations, ==, configs[i].check_frees ? 2 : 1);
          g_assert_cmpuint (stats->bytes_in_use, ==, 64 + 8 + 64);
        }
      else
        {
          g_assert_cmpuint (stats->allocations, ==, 0);
        }
    }
}

/* Modes that close the inline path still give working pools through it. */
static void
test_pool_slow_modes (void)
{
  struct { const char *property; GValue value; } modes[4] = { { NULL } };
  NebulaPoolAllocator *uninitialized;
  g_autoptr(GError) error = NULL;
  guint8 *block;

  modes[0].property = "thread-safe";
  g_value_set_boolean (g_value_init (&modes[0].value, G_TYPE_BOOLEAN), TRUE);
  modes[1].property = "alloc-fill";
  g_value_set_int (g_value_init (&modes[1].value, G_TYPE_INT), 0xAA);
  modes[2].property = "free-fill";
  g_value_set_int (g_value_init (&modes[2].value, G_TYPE_INT), 0xDD);
  modes[3].property = "block-size";   /* not a power of two, with check-frees */
  g_value_set_uint64 (g_value_init (&modes[3].value, G_TYPE_UINT64), 48);

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autoptr(NebulaPoolAllocator) pool = NULL;
      g_autoptr(NebulaAllocatorStats) stats = NULL;

      pool = (NebulaPoolAllocator *) g_object_new_with_properties (NEBULA_TYPE_POOL_ALLOCATOR, 1,
                                                                   &modes[i].property,
                                                                   &modes[i].value);
      g_assert_true (g_initable_init (G_INITABLE (pool), NULL, &error));
      block = nebula_pool_allocator_alloc (pool, 16, 8, &error);
      g_assert_no_error (error);
      if (i == 1)
        g_assert_cmpuint (block[15], ==, 0xAA);
      g_assert_true (nebula_pool_allocator_free (pool, block, 16, 8, &error));
      g_assert_false (nebula_pool_allocator_free (pool, block, 16, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
      g_clear_error (&error);
      if (i == 2)
        {
          /* A look into a freed block, which the memory tools guard. */
          NEBULA_MEM_OPEN (block + 15, 1);
          g_assert_cmpuint (block[15], ==, 0xDD);
          NEBULA_MEM_CLOSE (block + 15, 1);
        }
      stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (pool));
      g_assert_cmpuint (stats->allocations, ==, 1);
      g_assert_cmpuint (stats->deallocations, ==, 1);
      g_value_unset (&modes[i].value);
    }

  /* Never initialized: the exported path initializes it, or says why not. */
  uninitialized = g_object_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL);
  block = nebula_pool_allocator_alloc (uninitialized, 16, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_pool_allocator_free (uninitialized, block, 16, 8, &error));
  g_object_unref (uninitialized);

  uninitialized = g_object_new (NEBULA_TYPE_POOL_ALLOCATOR, "block-count", (guint64) 0, NULL);
  g_assert_null (nebula_pool_allocator_alloc (uninitialized, 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "block-count"));
  g_clear_error (&error);
  g_object_unref (uninitialized);
}

/* Frames of blocks pushed and popped through the inline functions, the
 * wrappers and a filling stack: same addresses relative to the first, same
 * statistics, across chunk growth. */
static void
test_stack_matches_exported (void)
{
  NebulaStackAllocator *stacks[3];
  guint8 *first[3] = { NULL };
  guint8 *blocks[3][16];
  gsize sizes[16];
  guint32 state = 5;

  for (guint s = 0; s < 3; s++)
    stacks[s] = new_allocator (NEBULA_TYPE_STACK_ALLOCATOR,
                               "capacity", (guint64) 1024,
                               "max-capacity", (guint64) 16384,
                               "free-fill", s == 2 ? 0xDD : -1, NULL);

  for (guint frame = 0; frame < 200; frame++)
    {
      guint n = 1 + (state = state * 1103515245 + 12345) % 16;
      g_autoptr(GError) error = NULL;
      gboolean in_first_chunk = FALSE;

      for (guint i = 0; i < n; i++)
        {
          /* Up to the chunks' own alignment, so all see the same padding. */
          gsize alignment = (gsize) 1 << (state >> 4) % 5;

          sizes[i] = 1 + (state = state * 1103515245 + 12345) % 200;
          blocks[0][i] = nebula_stack_allocator_alloc (stacks[0], sizes[i], alignment, &error);
          blocks[1][i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (stacks[1]), sizes[i],
                                                    alignment, &error);
          blocks[2][i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (stacks[2]), sizes[i],
                                                    alignment, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (GPOINTER_TO_SIZE (blocks[0][i]) % alignment, ==, 0);
          for (guint s = 0; s < 3; s++)
            if (first[s] == NULL)
              first[s] = blocks[s][i];
          if (i == 0)
            in_first_chunk = nebula_stack_allocator_get_n_chunks (stacks[2]) == 1;
          memset (blocks[0][i], 0x5A, sizes[i]);
        }

      /* Every fourth frame keeps its bottom block, so the stack deepens
       * into further chunks. */
      for (guint i = n; i-- > (frame % 4 == 0 ? 1 : 0);)
        {
          g_assert_true (nebula_stack_allocator_free (stacks[0], blocks[0][i], sizes[i], 1, &error));
          g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (stacks[1]), blocks[1][i],
                                                      sizes[i], 1, &error));
          g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (stacks[2]), blocks[2][i],
                                                      sizes[i], 1, &error));
          g_assert_no_error (error);
        }

      /* Chunks lie anywhere: compare addresses only in the first one. */
      if (in_first_chunk)
        {
          g_assert_cmpint (blocks[0][0] - first[0], ==, blocks[2][0] - first[2]);
          g_assert_cmpint (blocks[1][0] - first[1], ==, blocks[2][0] - first[2]);
        }
      g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (stacks[0])), ==,
                        nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (stacks[2])));
    }

  g_assert_cmpuint (nebula_stack_allocator_get_n_chunks (stacks[0]), >, 1);
  g_assert_cmpuint (nebula_stack_allocator_get_n_chunks (stacks[0]), ==,
                    nebula_stack_allocator_get_n_chunks (stacks[2]));
  test_assert_stats_equal (stacks[0], stacks[2]);
  test_assert_stats_equal (stacks[1], stacks[2]);

  for (guint s = 0; s < 3; s++)
    g_object_unref (stacks[s]);
}

/* Pops the inline path refuses get the exported path's errors and change
 * nothing. */
static void
test_stack_bad_pops (void)
{
  g_autoptr(NebulaStackAllocator) stack = nebula_stack_allocator_new (4096, NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *a, *b, *c;
  guint8 saved[24];

  a = nebula_stack_allocator_alloc (stack, 32, 8, &error);
  b = nebula_stack_allocator_alloc (stack, 48, 16, &error);
  c = nebula_stack_allocator_alloc (stack, 16, 8, &error);
  g_assert_no_error (error);

  g_assert_false (nebula_stack_allocator_free (stack, b, 48, 16, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER);
  g_clear_error (&error);

  g_assert_false (nebula_stack_allocator_free (stack, c, 24, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_assert_nonnull (strstr (error->message, "has 16 bytes, not 24"));
  g_clear_error (&error);

  g_assert_false (nebula_stack_allocator_free (stack, c, 16, 3, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  g_clear_error (&error);

  /* A damaged header: CORRUPTION, and the block stays on top. Headers are
   * poisoned while the memory tools watch: the test writes past them on
   * purpose. */
  NEBULA_MEM_OPEN (c - sizeof saved, sizeof saved);
  memcpy (saved, c - sizeof saved, sizeof saved);
  memset (c - sizeof saved, 0x11, sizeof saved);
  NEBULA_MEM_CLOSE (c - sizeof saved, sizeof saved);
  g_assert_false (nebula_stack_allocator_free (stack, c, 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_CORRUPTION);
  g_assert_nonnull (strstr (error->message, "24 bytes below the block"));
  g_clear_error (&error);
  NEBULA_MEM_OPEN (c - sizeof saved, sizeof saved);
  memcpy (c - sizeof saved, saved, sizeof saved);
  NEBULA_MEM_CLOSE (c - sizeof saved, sizeof saved);

  g_assert_true (nebula_stack_allocator_free (stack, c, 16, 8, &error));
  g_assert_true (nebula_stack_allocator_free (stack, b, 48, 16, &error));
  /* The bottom block of a chunk goes through the exported path. */
  g_assert_true (nebula_stack_allocator_free (stack, a, 32, 8, &error));
  g_assert_no_error (error);

  g_assert_false (nebula_stack_allocator_free (stack, a, 32, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (stack));
  g_assert_cmpuint (stats->allocations, ==, 3);
  g_assert_cmpuint (stats->deallocations, ==, 3);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  g_assert_cmpuint (stats->peak_bytes_in_use, ==, 96);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (stack)), ==, 0);

  /* Exhaustion of a stack that does not grow. */
  g_assert_null (nebula_stack_allocator_alloc (stack, 8192, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_clear_error (&error);
  g_assert_null (nebula_stack_allocator_alloc (stack, 0x3FFFFFFFFFFFFFFF, (gsize) 1 << 62, &error));
  g_assert_nonnull (error);
}

static void
test_stack_slow_modes (void)
{
  const char *modes[] = { "alloc-fill", "free-fill" };
  NebulaStackAllocator *uninitialized;
  g_autoptr(GError) error = NULL;
  guint8 *a, *b;

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autoptr(NebulaStackAllocator) stack = NULL;
      g_autoptr(NebulaAllocatorStats) stats = NULL;

      stack = new_allocator (NEBULA_TYPE_STACK_ALLOCATOR, modes[i], 0xAB, NULL);

      a = nebula_stack_allocator_alloc (stack, 16, 8, &error);
      b = nebula_stack_allocator_alloc (stack, 16, 8, &error);
      g_assert_no_error (error);
      if (i == 0)
        g_assert_cmpuint (b[15], ==, 0xAB);
      g_assert_false (nebula_stack_allocator_free (stack, a, 16, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER);
      g_clear_error (&error);
      g_assert_true (nebula_stack_allocator_free (stack, b, 16, 8, &error));
      g_assert_no_error (error);
      if (i == 1)
        {
          /* A look into a popped block, which the memory tools guard. */
          NEBULA_MEM_OPEN (b + 15, 1);
          g_assert_cmpuint (b[15], ==, 0xAB);
          NEBULA_MEM_CLOSE (b + 15, 1);
        }
      stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (stack));
      g_assert_cmpuint (stats->allocations, ==, 2);
      g_assert_cmpuint (stats->deallocations, ==, 1);
    }

  uninitialized = g_object_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL);
  a = nebula_stack_allocator_alloc (uninitialized, 16, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_stack_allocator_free (uninitialized, a, 16, 8, &error));
  g_object_unref (uninitialized);

  uninitialized = g_object_new (NEBULA_TYPE_STACK_ALLOCATOR, "capacity", (guint64) 0, NULL);
  g_assert_null (nebula_stack_allocator_alloc (uninitialized, 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
  g_clear_error (&error);
  g_object_unref (uninitialized);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/pool/inline/matches-exported", test_pool_matches_exported);
  g_test_add_func ("/nebula/pool/inline/bad-frees", test_pool_bad_frees);
  g_test_add_func ("/nebula/pool/inline/odd-strides", test_pool_odd_strides);
  g_test_add_func ("/nebula/pool/inline/damaged-list", test_pool_damaged_list);
  g_test_add_func ("/nebula/pool/inline/link-into-tail", test_pool_link_into_tail);
  g_test_add_func ("/nebula/pool/inline/configurations", test_pool_configurations);
  g_test_add_func ("/nebula/pool/inline/slow-modes", test_pool_slow_modes);
  g_test_add_func ("/nebula/stack/inline/matches-exported", test_stack_matches_exported);
  g_test_add_func ("/nebula/stack/inline/bad-pops", test_stack_bad_pops);
  g_test_add_func ("/nebula/stack/inline/slow-modes", test_stack_slow_modes);

  return g_test_run ();
}
