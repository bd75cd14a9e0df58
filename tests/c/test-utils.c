/* test-utils.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#if HAVE_VALGRIND
# include <valgrind/valgrind.h>
#endif

#include <nebula.h>

#include "nebula-utils-private.h"

#define MAX_SIZE     4096
#define MAX_OFFSET   64
#define GUARD        64
#define BUFFER_SIZE  (GUARD + 2 * MAX_OFFSET + MAX_SIZE + GUARD)

G_STATIC_ASSERT (NEBULA_ALIGN_UP (100, 64) == 128);
G_STATIC_ASSERT (NEBULA_ALIGN_UP (128u, 64) == 128);
G_STATIC_ASSERT (NEBULA_ALIGN_UP ((gsize) 0, 4096) == 0);
G_STATIC_ASSERT (NEBULA_ALIGN_DOWN (127, 64) == 64);
G_STATIC_ASSERT (NEBULA_IS_POWER_OF_TWO (4096) && !NEBULA_IS_POWER_OF_TWO (0) &&
                 !NEBULA_IS_POWER_OF_TWO (12));
G_STATIC_ASSERT (NEBULA_IS_ALIGNED (192, 64) && !NEBULA_IS_ALIGNED (193, 64));

/* Usable where C wants a constant expression. */
static guint8 constant_sized[NEBULA_ALIGN_UP (33, 16)];

static void
test_align_helpers (void)
{
  gsize out = 7;
  guint8 *p = constant_sized;

  g_assert_cmpuint (sizeof constant_sized, ==, 48);
  g_assert_true (nebula_align_up (13, 8, &out));
  g_assert_cmpuint (out, ==, 16);
  g_assert_true (nebula_align_up (0, 8, &out));
  g_assert_cmpuint (out, ==, 0);
  out = 7;
  g_assert_false (nebula_align_up (G_MAXSIZE - 2, 8, &out));
  g_assert_false (nebula_align_up (13, 12, &out));
  g_assert_cmpuint (out, ==, 7);
  g_assert_cmpuint (nebula_align_down (13, 8), ==, 8);
  g_assert_true (nebula_is_power_of_two (1));
  g_assert_false (nebula_is_power_of_two (6));
  g_assert_true (nebula_is_aligned (nebula_align_pointer (p + 1, 16), 16));
  g_assert_true ((guint8 *) nebula_align_pointer (p + 1, 16) - (p + 1) < 16);
}

/* Under Valgrind every byte costs a hundred times more: check every size
 * with a spread of offsets instead of all of them. */
static gboolean
reduced_run (void)
{
#if HAVE_VALGRIND
  if (RUNNING_ON_VALGRIND)
    return TRUE;
#endif
#if NEBULA_ASAN || NEBULA_TSAN
  return TRUE;
#endif
  return FALSE;
}

static gboolean
offset_selected (guint    offset,
                 gboolean reduced)
{
  return !reduced || offset == 0 || offset == 1 || offset == 31 || offset == 63;
}

/* The next size to check: all of them, or under a memory checker every
 * size up to 300 (all the head and tail cases) and a spread beyond. */
static gsize
next_size (gsize    n,
           gboolean reduced)
{
  return !reduced || n < 300 ? n + 1 : n + 37;
}

/* Two sources that differ in every byte: consecutive sizes copy from
 * alternate sources, so a byte the copy failed to write still holds the
 * other source's value and shows, without clearing the destination
 * between copies. Everything past the end of a copy was never written by
 * the shorter copies before it, so the guards must hold 0xEE. */
static void
check_copy (NebulaCopyFunc  copy,
            const char     *name,
            gboolean        reduced)
{
  guint8 *sources[2] = { g_malloc (BUFFER_SIZE), g_malloc (BUFFER_SIZE) };
  guint8 *dst = g_malloc (BUFFER_SIZE);
  guint8 *base_dst = (guint8 *) NEBULA_ALIGN_UP ((guintptr) dst + GUARD, MAX_OFFSET);
  guint8 guard[GUARD];

  memset (guard, 0xEE, sizeof guard);
  for (gsize i = 0; i < BUFFER_SIZE; i++)
    {
      sources[0][i] = (guint8) (i * 7 + 3);
      sources[1][i] = (guint8) (i * 7 + 4);
    }

  for (guint src_offset = 0; src_offset < MAX_OFFSET; src_offset++)
    {
      if (!offset_selected (src_offset, reduced))
        continue;

      for (guint dst_offset = 0; dst_offset < MAX_OFFSET; dst_offset++)
        {
          guint8 *d = base_dst + dst_offset;

          if (!offset_selected (dst_offset, reduced))
            continue;

          memset (dst, 0xEE, BUFFER_SIZE);
          for (gsize n = 0; n <= MAX_SIZE; n = next_size (n, reduced))
            {
              const guint8 *base_src = (const guint8 *) NEBULA_ALIGN_UP ((guintptr) sources[n & 1] + GUARD,
                                                                         MAX_OFFSET);
              const guint8 *s = base_src + src_offset;

              copy (d, s, n);

              if (memcmp (d, s, n) != 0 || memcmp (d - GUARD, guard, GUARD) != 0 ||
                  memcmp (d + n, guard, GUARD) != 0)
                g_error ("%s copy of %" G_GSIZE_FORMAT " bytes, source offset %u, "
                         "destination offset %u is wrong", name, n, src_offset, dst_offset);
            }
        }
    }

  g_free (sources[0]);
  g_free (sources[1]);
  g_free (dst);
}

static void
check_fill (NebulaFillFunc  fill,
            const char     *name,
            gboolean        reduced)
{
  guint8 *buffer = g_malloc (BUFFER_SIZE);
  guint8 *base = (guint8 *) NEBULA_ALIGN_UP ((guintptr) buffer + GUARD, MAX_OFFSET);
  guint8 expected[MAX_SIZE];

  memset (buffer, 0xEE, BUFFER_SIZE);
  memset (expected, 0x5A, sizeof expected);

  for (guint offset = 0; offset < MAX_OFFSET; offset++)
    for (gsize n = 0; n <= MAX_SIZE && offset_selected (offset, reduced); n = next_size (n, reduced))
      {
        guint8 *d = base + offset;

        fill (d, 0x5A, n);
        if (memcmp (d, expected, n) != 0 || d[-1] != 0xEE || d[n] != 0xEE)
          g_error ("%s fill of %" G_GSIZE_FORMAT " bytes at offset %u is wrong",
                   name, n, offset);
        memset (d, 0xEE, n);
      }

  g_free (buffer);
}

static void
test_copy_levels (void)
{
  for (NebulaSimdLevel level = 0; level < NEBULA_SIMD_N_LEVELS; level++)
    {
      if (!nebula_simd_level_supported (level))
        {
          g_test_message ("%s: not supported by this CPU", nebula_simd_level_name (level));
          continue;
        }
      check_copy (nebula_simd_get_copy (level), nebula_simd_level_name (level), reduced_run ());
    }
}

static void
test_copy_public (void)
{
  /* The dispatch in front of the loops checked exhaustively above. */
  check_copy (nebula_memory_copy, "nebula_memory_copy", TRUE);
}

static void
test_fill_levels (void)
{
  for (NebulaSimdLevel level = 0; level < NEBULA_SIMD_N_LEVELS; level++)
    if (nebula_simd_level_supported (level))
      check_fill (nebula_simd_get_fill (level), nebula_simd_level_name (level), reduced_run ());
}

static void
fill_public (gpointer dest,
             guint8   value,
             gsize    n)
{
  nebula_memory_fill (dest, value, n);
}

static void
test_fill_public (void)
{
  check_fill (fill_public, "nebula_memory_fill", TRUE);
}

static void
test_copy_overlap (void)
{
  guint8 buffer[600], expected[600];

  /* Overlapping regions behave like memmove, in both directions. */
  for (gsize shift = 1; shift < 300; shift += 37)
    {
      for (gsize i = 0; i < sizeof buffer; i++)
        buffer[i] = expected[i] = (guint8) i;
      nebula_memory_copy (buffer + shift, buffer, 300);
      memmove (expected + shift, expected, 300);
      g_assert_cmpmem (buffer, sizeof buffer, expected, sizeof expected);

      nebula_memory_copy (buffer, buffer + shift, 300);
      memmove (expected, expected + shift, 300);
      g_assert_cmpmem (buffer, sizeof buffer, expected, sizeof expected);
    }
}

static void
test_secure_zero (void)
{
  guint8 *secret = g_malloc (333);
  guint8 zeros[333] = { 0, };

  memset (secret, 0x77, 333);
  nebula_secure_zero (secret, 333);
  g_assert_cmpmem (secret, 333, zeros, 333);
  nebula_secure_zero (secret, 0);
  g_assert_true (nebula_secure_zero_address ((guint64) GPOINTER_TO_SIZE (secret), 0, NULL));
  g_free (secret);
}

static void
test_address_variants (void)
{
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, NULL);
  g_autoptr(GError) error = NULL;
  guint8 *a, *b;
  guint8 stack_buffer[100];

  g_assert_nonnull (bump);
  a = nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 100, 8, &error);
  g_assert_no_error (error);
  b = nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 100, 8, &error);
  g_assert_no_error (error);

  memset (a, 3, 100);
  g_assert_true (nebula_memory_fill_address ((guint64) GPOINTER_TO_SIZE (b), 9, 100, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpuint (b[i], ==, 9);
  g_assert_true (nebula_memory_copy_address ((guint64) GPOINTER_TO_SIZE (b),
                                             (guint64) GPOINTER_TO_SIZE (a), 50, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (b[49], ==, 3);
  g_assert_cmpuint (b[50], ==, 9);
  g_assert_true (nebula_secure_zero_address ((guint64) GPOINTER_TO_SIZE (b), 100, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpuint (b[i], ==, 0);

  /* Memory that no Nebula allocator handed out is refused, untouched. */
  memset (stack_buffer, 7, sizeof stack_buffer);
  g_assert_false (nebula_memory_fill_address ((guint64) GPOINTER_TO_SIZE (stack_buffer), 0,
                                              sizeof stack_buffer, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "not memory of a live Nebula allocator"));
  g_clear_error (&error);
  g_assert_cmpuint (stack_buffer[0], ==, 7);
  g_assert_false (nebula_memory_fill_address (1, 0, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_false (nebula_memory_copy_address ((guint64) GPOINTER_TO_SIZE (b),
                                              (guint64) GPOINTER_TO_SIZE (a), G_GUINT64_CONSTANT (1) << 40,
                                              &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_false (nebula_secure_zero_address (G_MAXUINT64, 2, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  /* Nothing to touch: nothing to check. */
  g_assert_true (nebula_secure_zero_address (1, 0, &error));
  g_assert_no_error (error);

  g_assert_nonnull (strstr ("avx2 sse2 portable", nebula_memory_get_implementation ()));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/utils/align", test_align_helpers);
  g_test_add_func ("/nebula/utils/copy/levels", test_copy_levels);
  g_test_add_func ("/nebula/utils/copy/public", test_copy_public);
  g_test_add_func ("/nebula/utils/copy/overlap", test_copy_overlap);
  g_test_add_func ("/nebula/utils/fill/levels", test_fill_levels);
  g_test_add_func ("/nebula/utils/fill/public", test_fill_public);
  g_test_add_func ("/nebula/utils/secure-zero", test_secure_zero);
  g_test_add_func ("/nebula/utils/address", test_address_variants);

  return g_test_run ();
}
