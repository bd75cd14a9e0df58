/* main.c: a downstream program; it sees only Nebula's public headers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <nebula.h>

/* dependency('nebula-1') gives Nebula's public headers only: its config.h
 * (which makes every NEBULA_AVAILABLE_IN_ALL symbol an export) must not
 * reach a consumer's include path. */
#if defined(__has_include)
# if __has_include("config.h")
#  error "a config.h is on the include path: Nebula's dependency leaks its build tree"
# endif
#endif

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  NebulaAllocator *alloc;
  guint64 *values;
  gpointer bad;

  bump = nebula_bump_allocator_new (4096, &error);
  if (bump == NULL)
    {
      g_printerr ("nebula-consumer: %s\n", error->message);
      return 1;
    }
  alloc = NEBULA_ALLOCATOR (bump);

  values = nebula_allocator_allocate (alloc, 16 * sizeof (guint64), G_ALIGNOF (guint64), &error);
  if (values == NULL)
    {
      g_printerr ("nebula-consumer: %s\n", error->message);
      return 1;
    }
  for (guint i = 0; i < 16; i++)
    values[i] = i * i;

  /* An alignment that is not a power of two is the caller's mistake, and
   * the library says so instead of crashing. */
  bad = nebula_allocator_allocate (alloc, 8, 3, &error);
  if (bad != NULL || !g_error_matches (error, NEBULA_ALLOCATOR_ERROR,
                                       NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT))
    {
      g_printerr ("nebula-consumer: alignment 3 was not refused as INVALID_ALIGNMENT\n");
      return 1;
    }

  g_print ("nebula-consumer: Nebula %s, %" G_GUINT64_FORMAT " bytes in use, "
           "last value %" G_GUINT64_FORMAT "\n",
           NEBULA_VERSION_S, nebula_allocator_get_bytes_used (alloc), values[15]);
  g_print ("nebula-consumer: bad alignment refused: %s\n", error->message);
  return 0;
}
