/* request-arena.c: one bump allocator serves every request; each request
 * parses into it and everything it allocated goes at the end of its scope.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <nebula.h>

typedef struct
{
  char *name;
  char *value;
} Header;

typedef struct
{
  char   *method;
  char   *path;
  Header *headers;
  guint   n_headers;
} Request;

/* Copies @len bytes of @text into the arena as a C string. */
static char *
arena_strndup (NebulaBumpAllocator  *arena,
               const char           *text,
               gsize                 len,
               GError              **error)
{
  char *copy = nebula_allocator_new (arena, char, len + 1, error);

  if (copy != NULL)
    {
      memcpy (copy, text, len);
      copy[len] = '\0';
    }
  return copy;
}

/* Parses "METHOD PATH\nName: value\n..." with every string in @arena. */
static Request *
parse_request (NebulaBumpAllocator  *arena,
               const char           *text,
               GError              **error)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n_lines = g_strv_length (lines);
  const char *space;
  Request *request;

  request = nebula_allocator_new0 (arena, Request, 1, error);
  if (request == NULL)
    return NULL;

  space = strchr (lines[0], ' ');
  if (space == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad request line: %s", lines[0]);
      return NULL;
    }
  request->method = arena_strndup (arena, lines[0], space - lines[0], error);
  if (request->method == NULL)
    return NULL;
  request->path = arena_strndup (arena, space + 1, strlen (space + 1), error);
  if (request->path == NULL)
    return NULL;

  request->headers = nebula_allocator_new (arena, Header, n_lines - 1, error);
  if (request->headers == NULL)
    return NULL;
  for (guint i = 1; i < n_lines; i++)
    {
      const char *colon = strchr (lines[i], ':');
      Header *header = &request->headers[request->n_headers];

      if (colon == NULL)
        continue;
      header->name = arena_strndup (arena, lines[i], colon - lines[i], error);
      if (header->name == NULL)
        return NULL;
      header->value = arena_strndup (arena, colon + 2, strlen (colon + 2), error);
      if (header->value == NULL)
        return NULL;
      request->n_headers++;
    }

  return request;
}

static gboolean
handle_request (NebulaBumpAllocator  *arena,
                const char           *text,
                GError              **error)
{
  NEBULA_BUMP_SCOPE (arena);
  NEBULA_ALLOC_CONTEXT ("handle_request");
  Request *request;

  request = parse_request (arena, text, error);
  if (request == NULL)
    return FALSE;

  g_print ("%s %s: %u headers", request->method, request->path, request->n_headers);
  for (guint i = 0; i < request->n_headers; i++)
    g_print ("%s%s=%s", i == 0 ? " (" : ", ", request->headers[i].name, request->headers[i].value);
  g_print ("%s, %" G_GUINT64_FORMAT " arena bytes\n", request->n_headers > 0 ? ")" : "",
           nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (arena)));

  return TRUE;
}

int
main (void)
{
  static const char *requests[] = {
    "GET /index.html\nHost: example.org\nAccept: text/html",
    "POST /api/items\nHost: example.org\nContent-Type: application/json\nContent-Length: 17",
    "GET /favicon.ico",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) arena = NULL;
  g_autoptr(NebulaAllocatorStats) stats = NULL;

  arena = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                          "capacity", (guint64) 1024,
                          "name", "requests",
                          NULL);
  if (arena == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      if (!handle_request (arena, requests[i], &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }

  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (arena));
  g_print ("after %u requests: %" G_GUINT64_FORMAT " bytes in use, %u chunk, %"
           G_GUINT64_FORMAT " allocations\n",
           (guint) G_N_ELEMENTS (requests),
           nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (arena)),
           nebula_bump_allocator_get_n_chunks (arena), stats->allocations);

  return 0;
}
