/* bench-strings.c: strings into arenas, against the C arenas' own
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each implementation formats (or copies) BATCH short strings, then lets
 * them all go the way it is used in a request handler: Nebula and the
 * pools reset, GLib frees each string. A round is many batches; the row
 * is the best round's time per string.
 */

#include "config.h"

#include <stdio.h>
#include <time.h>

#include <nebula.h>

#include "bench-strings.h"

#if HAVE_APR
# include <apr_general.h>
# include <apr_pools.h>
# include <apr_strings.h>
#endif
#if HAVE_TALLOC
# include <talloc.h>
#endif

#define BATCH 1000

typedef struct
{
  const char *name;
  gboolean  (*setup)    (gpointer *context);
  void      (*teardown) (gpointer  context);
  /* One batch of printf (copy FALSE) or strdup (copy TRUE); returns a
   * byte of the last string so that nothing is optimized away. */
  guint8    (*batch)    (gpointer  context,
                         gboolean  copy,
                         guint     seed);
} Implementation;

static const char copied[] = "Content-Type: text/html; charset=utf-8";

/* The format every implementation runs: a status line and a header, with
 * numbers that change from string to string. */
#define FORMAT "HTTP/1.1 %d %s\r\nContent-Length: %u\r\n"
#define FORMAT_ARGS(i) 200 + (int) ((i) % 3), "OK", (unsigned) (i) * 7u

static StringsRow rows[8];
static guint n_rows;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* Nebula: a bump allocator reset after each batch -------------------- */

static gboolean
nebula_setup (gpointer *context)
{
  *context = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, NULL,
                             "capacity", (guint64) (BATCH * 128),
                             "preset", NEBULA_PRESET_PERFORMANCE,
                             "track-stats", FALSE,
                             NULL);
  return *context != NULL;
}

static void
nebula_teardown (gpointer context)
{
  g_object_unref (context);
}

static guint8
nebula_batch (gpointer context,
              gboolean copy,
              guint    seed)
{
  NebulaAllocator *alloc = context;
  char *last = NULL;
  guint8 first;

  for (guint i = 0; i < BATCH; i++)
    last = copy ? nebula_allocator_strdup (alloc, copied, NULL)
                : nebula_allocator_printf (alloc, NULL, FORMAT, FORMAT_ARGS (seed + i));
  /* Read before the reset releases it. */
  first = last != NULL ? (guint8) last[0] : 0;
  nebula_allocator_reset (alloc);
  return first;
}

/* APR: a pool cleared after each batch ------------------------------- */

#if HAVE_APR
static gboolean
apr_setup (gpointer *context)
{
  apr_pool_t *pool = NULL;

  if (apr_initialize () != APR_SUCCESS || apr_pool_create_unmanaged_ex (&pool, NULL, NULL) != APR_SUCCESS)
    return FALSE;
  *context = pool;
  return TRUE;
}

static void
apr_teardown (gpointer context)
{
  apr_pool_destroy (context);
  apr_terminate ();
}

static guint8
apr_batch (gpointer context,
           gboolean copy,
           guint    seed)
{
  apr_pool_t *pool = context;
  char *last = NULL;
  guint8 first;

  for (guint i = 0; i < BATCH; i++)
    last = copy ? apr_pstrdup (pool, copied) : apr_psprintf (pool, FORMAT, FORMAT_ARGS (seed + i));
  first = last != NULL ? (guint8) last[0] : 0;
  apr_pool_clear (pool);
  return first;
}
#endif

/* talloc: a talloc pool whose children go after each batch ----------- */

#if HAVE_TALLOC
static gboolean
talloc_setup (gpointer *context)
{
  *context = talloc_pool (NULL, BATCH * 128);
  return *context != NULL;
}

static void
talloc_teardown (gpointer context)
{
  talloc_free (context);
}

static guint8
talloc_batch (gpointer context,
              gboolean copy,
              guint    seed)
{
  char *last = NULL;
  guint8 first;

  for (guint i = 0; i < BATCH; i++)
    last = copy ? talloc_strdup (context, copied)
                : talloc_asprintf (context, FORMAT, FORMAT_ARGS (seed + i));
  first = last != NULL ? (guint8) last[0] : 0;
  talloc_free_children (context);
  return first;
}
#endif

/* GLib: malloc'd strings freed after each batch ---------------------- */

static gboolean
glib_setup (gpointer *context)
{
  *context = g_new (char *, BATCH);
  return TRUE;
}

static void
glib_teardown (gpointer context)
{
  g_free (context);
}

static guint8
glib_batch (gpointer context,
            gboolean copy,
            guint    seed)
{
  char **strings = context;
  guint8 byte;

  for (guint i = 0; i < BATCH; i++)
    strings[i] = copy ? g_strdup (copied) : g_strdup_printf (FORMAT, FORMAT_ARGS (seed + i));
  byte = (guint8) strings[BATCH - 1][0];
  for (guint i = 0; i < BATCH; i++)
    g_free (strings[i]);
  return byte;
}

static const Implementation implementations[] = {
  { "nebula-bump", nebula_setup, nebula_teardown, nebula_batch },
#if HAVE_APR
  { "apr-pool", apr_setup, apr_teardown, apr_batch },
#endif
#if HAVE_TALLOC
  { "talloc-pool", talloc_setup, talloc_teardown, talloc_batch },
#endif
  { "glib", glib_setup, glib_teardown, glib_batch },
};

void
nebula_bench_strings_run (gboolean quick)
{
  guint n_batches = quick ? 20 : 200;
  guint n_rounds = quick ? 3 : 7;
  static volatile guint8 sink;

  n_rows = 0;
  for (guint copy = 0; copy < 2; copy++)
    for (guint k = 0; k < G_N_ELEMENTS (implementations); k++)
      {
        const Implementation *impl = &implementations[k];
        gpointer context = NULL;
        double best = G_MAXDOUBLE;

        if (!impl->setup (&context))
          continue;
        sink ^= impl->batch (context, copy, 0);     /* warm up */
        for (guint r = 0; r < n_rounds; r++)
          {
            gint64 start = now_ns ();

            for (guint b = 0; b < n_batches; b++)
              sink ^= impl->batch (context, copy, b * BATCH);
            best = MIN (best, (double) (now_ns () - start) / ((double) n_batches * BATCH));
          }
        impl->teardown (context);

        rows[n_rows++] = (StringsRow) {
          .operation = copy ? "strdup" : "printf",
          .implementation = impl->name,
          .ns = best,
        };
      }
}

const StringsRow *
nebula_bench_strings_rows (guint *n)
{
  *n = n_rows;
  return rows;
}
