/* test-system.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

static void
test_system_basic (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = nebula_system_allocator_new (&error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (sys);
  guint8 *p, *q;

  g_assert_no_error (error);
  g_assert_true (nebula_allocator_get_thread_safe (alloc));

  p = nebula_allocator_allocate (alloc, 100, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_SIZE (p) % 64, ==, 0);
  memset (p, 7, 100);
  g_assert_true (nebula_allocator_owns (alloc, p));
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 100);

  q = nebula_allocator_reallocate (alloc, p, 100, 1000, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_SIZE (q) % 64, ==, 0);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpuint (q[i], ==, 7);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 1000);

  p = nebula_allocator_allocate_zeroed (alloc, 50, 8, &error);
  for (guint i = 0; i < 50; i++)
    g_assert_cmpuint (p[i], ==, 0);

  g_assert_true (nebula_allocator_deallocate (alloc, q, 1000, 64, &error));
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_owns (alloc, q));

  /* reset frees what is left (Valgrind and ASan would report a leak). */
  nebula_allocator_reset (alloc);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
}

static void
test_system_bad_frees (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = nebula_system_allocator_new (&error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (sys);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  int local;
  gpointer p;

  p = nebula_allocator_allocate (alloc, 32, 8, &error);

  g_assert_false (nebula_allocator_deallocate (alloc, &local, sizeof local, 4, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  g_assert_false (nebula_allocator_deallocate (alloc, p, 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_assert_nonnull (strstr (error->message, "allocated with 32 bytes but freed with 16"));
  g_clear_error (&error);

  g_assert_true (nebula_allocator_deallocate (alloc, p, 32, 8, &error));
  g_assert_false (nebula_allocator_deallocate (alloc, p, 32, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "already freed"));
  g_clear_error (&error);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 1);
  g_assert_cmpuint (stats->deallocations, ==, 1);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
}

static void
test_system_unchecked (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error,
                                                         "preset", NEBULA_PRESET_PERFORMANCE, NULL);
  gboolean check;
  gpointer p;

  g_assert_no_error (error);
  g_object_get (sys, "check-frees", &check, NULL);
  g_assert_false (check);
  p = nebula_allocator_allocate (NEBULA_ALLOCATOR (sys), 64, 8, &error);
  g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (sys), p));
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (sys), p, 64, 8, &error));
}

/* A request the system cannot serve (4 EiB, more than any address space)
 * is OUT_OF_MEMORY with the size in the message, and the allocator stays
 * usable. The sanitizers' allocators abort on such a request unless told
 * otherwise, so the test runs only without them. */
static void
test_system_out_of_memory (void)
{
  const gsize huge = (gsize) 1 << 62;
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = NULL;
  NebulaAllocator *alloc;
  g_autofree char *number = g_strdup_printf ("%" G_GSIZE_FORMAT " bytes", huge);
  gsize alignments[] = { 8, 4096 };
  gpointer p;

  if (NEBULA_ASAN || NEBULA_TSAN)
    {
      g_test_skip ("a sanitizer allocator aborts on a 4 EiB request");
      return;
    }

  sys = nebula_system_allocator_new (&error);
  g_assert_no_error (error);
  alloc = NEBULA_ALLOCATOR (sys);

  /* malloc and posix_memalign. */
  for (guint i = 0; i < G_N_ELEMENTS (alignments); i++)
    {
      g_autofree char *alignment = g_strdup_printf ("(alignment %" G_GSIZE_FORMAT ")",
                                                    alignments[i]);

      g_assert_null (nebula_allocator_allocate (alloc, huge, alignments[i], &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY);
      g_assert_nonnull (strstr (error->message, number));
      g_assert_nonnull (strstr (error->message, alignment));
      g_assert_cmpuint (nebula_error_get_requested (error), ==, huge);
      g_clear_error (&error);
    }
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);

  p = nebula_allocator_allocate (alloc, 16, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_deallocate (alloc, p, 16, 8, &error));
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/system/basic", test_system_basic);
  g_test_add_func ("/nebula/system/bad-frees", test_system_bad_frees);
  g_test_add_func ("/nebula/system/unchecked", test_system_unchecked);
  g_test_add_func ("/nebula/system/out-of-memory", test_system_out_of_memory);

  return g_test_run ();
}
