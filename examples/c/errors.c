/* errors.c: what a Nebula error tells you, and recovering from one.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <nebula.h>

static void
show (const GError *error)
{
  g_print ("error: %s\n", error->message);
  g_print ("  suggestion: %s\n", nebula_error_get_suggestion (error));
  g_print ("  retryable: %s\n", nebula_error_is_retryable (error) ? "yes" : "no");
}

static gpointer
parse_request (NebulaAllocator  *arena,
               gsize             size,
               GError          **error)
{
  NEBULA_ALLOC_CONTEXT ("parse_request");

  return nebula_allocator_allocate (arena, size, 8, error);
}

static gpointer
handle_client (NebulaAllocator  *arena,
               gsize             size,
               GError          **error)
{
  NEBULA_ALLOC_CONTEXT ("handle_client");

  return parse_request (arena, size, error);
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) arena = NULL;
  g_autoptr(NebulaBumpAllocator) invalid = NULL;
  NebulaAllocator *alloc;

  /* 1. An invalid configuration is refused at construction. */
  invalid = nebula_bump_allocator_new (0, &error);
  if (invalid != NULL || !g_error_matches (error, NEBULA_ALLOCATOR_ERROR,
                                           NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG))
    return 1;
  show (error);
  g_clear_error (&error);

  arena = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                          "capacity", (guint64) 4096,
                          "name", "frames",
                          NULL);
  if (arena == NULL)
    return 1;
  alloc = NEBULA_ALLOCATOR (arena);

  /* 2. Exhaustion: the message has the numbers and the call-site path. */
  if (handle_client (alloc, 4032, &error) == NULL)
    return 1;
  if (handle_client (alloc, 128, &error) != NULL ||
      !g_error_matches (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED))
    return 1;
  show (error);
  g_print ("  requested %" G_GUINT64_FORMAT ", available %" G_GUINT64_FORMAT
           ", capacity %" G_GUINT64_FORMAT ", context '%s'\n",
           nebula_error_get_requested (error), nebula_error_get_available (error),
           nebula_error_get_capacity (error), nebula_error_get_context (error));

  /* It is retryable: free memory and try again. */
  if (nebula_error_is_retryable (error))
    {
      g_clear_error (&error);
      nebula_allocator_reset (alloc);
      if (handle_client (alloc, 128, &error) == NULL)
        return 1;
      g_print ("retry after reset: ok\n");
    }

  /* 3. A count that overflows never becomes a short block. */
  if (nebula_allocator_new (arena, guint64, G_MAXSIZE / 4, &error) != NULL ||
      !g_error_matches (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW))
    return 1;
  show (error);

  return 0;
}
