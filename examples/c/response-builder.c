/* response-builder.c: each request gets a child arena of the server's
 * arena; the response is built with the string helpers and an arena
 * buffer, and a cleanup closes the request's log file when the child
 * arena goes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <string.h>

#include <nebula.h>

typedef struct
{
  const char *method;
  const char *path;
  const char *items[4];
} Request;

static const Request requests[] = {
  { "GET", "/cart", { "apples", "pears", NULL } },
  { "GET", "/empty", { NULL } },
  { "DELETE", "/cart", { NULL } },
};

/* Lives in the request's arena; the cleanup closes the file before the
 * arena's memory goes. */
typedef struct
{
  FILE *file;
  char *path;
} RequestLog;

static void
close_log_cb (gpointer data)
{
  RequestLog *log = data;

  fclose (log->file);
  printf ("  closed the log of %s\n", log->path);
}

static const char *
reason_phrase (int status)
{
  return status == 200 ? "OK" : status == 204 ? "No Content" : "Method Not Allowed";
}

static gboolean
handle_request (NebulaBumpAllocator  *server,
                const Request        *request,
                GError              **error)
{
  NEBULA_ALLOC_CONTEXT ("handle_request");
  g_autoptr(NebulaBumpAllocator) arena = NULL;
  g_autoptr(NebulaArenaBuffer) body = NULL;
  NebulaAllocator *alloc;
  RequestLog *log;
  const char *status_line;
  char *head;
  char *text;
  int status;

  /* A child arena: its chunks are blocks of the server's arena, and the
   * server's reset would release it first. */
  arena = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, error,
                          "parent", server,
                          "name", "request",
                          "capacity", (guint64) 512,
                          "max-capacity", (guint64) 8192,
                          NULL);
  if (arena == NULL)
    return FALSE;
  alloc = NEBULA_ALLOCATOR (arena);

  log = nebula_allocator_new (arena, RequestLog, 1, error);
  if (log == NULL)
    return FALSE;
  log->path = nebula_allocator_strdup (alloc, request->path, error);
  if (log->path == NULL)
    return FALSE;
  log->file = tmpfile ();
  if (log->file == NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "no temporary file for the log");
      return FALSE;
    }
  nebula_allocator_add_cleanup (alloc, close_log_cb, log);
  fprintf (log->file, "%s %s\n", request->method, request->path);

  body = nebula_arena_buffer_new (alloc, 1, error);
  if (body == NULL)
    return FALSE;
  for (guint i = 0; request->items[i] != NULL; i++)
    if (!nebula_arena_buffer_append_printf (body, error, "<li>%u. %s</li>", i + 1,
                                            request->items[i]))
      return FALSE;

  status = !g_str_equal (request->method, "GET") ? 405
           : nebula_arena_buffer_get_length (body) == 0 ? 204 : 200;
  status_line = nebula_allocator_printf (alloc, error, "HTTP/1.1 %d %s", status,
                                         reason_phrase (status));
  if (status_line == NULL)
    return FALSE;
  head = nebula_allocator_strconcat (alloc, error, status_line, "\r\nContent-Type: text/html\r\n",
                                     NULL);
  if (head == NULL)
    return FALSE;
  text = nebula_arena_buffer_finish_string (body, error);
  if (text == NULL)
    return FALSE;

  printf ("%s %s -> %s, %d header bytes, body \"%s\"\n", request->method, request->path,
          status_line, (int) strlen (head), text);
  return TRUE;
  /* The arena goes here: its cleanup closes the log, then its chunks go
   * back to the server's arena. */
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) server = NULL;

  server = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                           "capacity", (guint64) 65536,
                           "name", "server",
                           NULL);
  if (server == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      if (!handle_request (server, &requests[i], &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
    }

  /* The child arenas gave their chunks back; the server's own reset
   * reclaims the space. */
  nebula_allocator_reset (NEBULA_ALLOCATOR (server));
  printf ("after %u requests: %" G_GUINT64_FORMAT " bytes in use in the server's arena\n",
          (guint) G_N_ELEMENTS (requests),
          nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (server)));
  return 0;
}
