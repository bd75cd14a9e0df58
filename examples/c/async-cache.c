/* async-cache.c: an asynchronous get-or-compute with deduplication.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Five concurrent requests for one profile run one (pretend) fetch: the
 * first computes, the others join it; a later request is a hit. The
 * Python and JavaScript versions (examples/python/cache.py,
 * examples/js/cache.js) print the same lines.
 */

#include <nebula.h>

#define N_REQUESTS 5

#define EXAMPLE_TYPE_PROFILE (example_profile_get_type ())
G_DECLARE_FINAL_TYPE (ExampleProfile, example_profile, EXAMPLE, PROFILE, GObject)

struct _ExampleProfile
{
  GObject  parent_instance;
  char    *name;
};

G_DEFINE_FINAL_TYPE (ExampleProfile, example_profile, G_TYPE_OBJECT)

static void
example_profile_finalize (GObject *object)
{
  g_free (EXAMPLE_PROFILE (object)->name);
  G_OBJECT_CLASS (example_profile_parent_class)->finalize (object);
}

static void
example_profile_class_init (ExampleProfileClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = example_profile_finalize;
}

static void
example_profile_init (ExampleProfile *self)
{
}

typedef struct
{
  GTask  *task;
  gint64  user_id;
} Fetch;

typedef struct
{
  GObject              *profile;
  NebulaComputeOutcome  outcome;
  gboolean              done;
} Answer;

static guint fetches;

static gboolean
answer_cb (gpointer user_data)
{
  Fetch *fetch = user_data;
  g_autoptr(ExampleProfile) profile = g_object_new (EXAMPLE_TYPE_PROFILE, NULL);

  profile->name = g_strdup_printf ("user-%" G_GINT64_FORMAT, fetch->user_id);
  nebula_compute_task_return_object (fetch->task, G_OBJECT (profile));
  g_object_unref (fetch->task);
  g_free (fetch);
  return G_SOURCE_REMOVE;
}

/* Starts a fetch; the task is returned later, as real I/O would. */
static void
fetch_profile_cb (GVariant     *key,
                  GCancellable *cancellable,
                  GTask        *task,
                  gpointer      user_data)
{
  Fetch *fetch = g_new0 (Fetch, 1);

  fetches++;
  fetch->task = g_object_ref (task);
  fetch->user_id = g_variant_get_int64 (key);
  g_timeout_add (10, answer_cb, fetch);
}

static void
got_profile_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Answer *answer = user_data;
  g_autoptr(GError) error = NULL;

  answer->profile = nebula_async_compute_cache_get_or_compute_finish (NEBULA_ASYNC_COMPUTE_CACHE (source),
                                                                      result, &answer->outcome, &error);
  if (answer->profile == NULL)
    g_printerr ("%s\n", error->message);
  answer->done = TRUE;
}

static gboolean
print_answer (Answer               *answer,
              NebulaComputeOutcome  expected)
{
  GEnumClass *outcomes;

  if (answer->profile == NULL)
    return FALSE;
  outcomes = g_type_class_ref (NEBULA_TYPE_COMPUTE_OUTCOME);
  g_print ("%s: %s\n", EXAMPLE_PROFILE (answer->profile)->name,
           g_enum_get_value (outcomes, answer->outcome)->value_nick);
  g_type_class_unref (outcomes);
  g_clear_object (&answer->profile);
  return answer->outcome == expected;
}

int
main (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  Answer answers[N_REQUESTS + 1] = { { 0 } };
  gboolean ok = TRUE;

  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                        "deduplicate", TRUE,
                        "max-entries", 100,
                        NULL);

  /* Five requests before any answer: one fetch, four joins. */
  for (guint i = 0; i < N_REQUESTS; i++)
    nebula_async_compute_cache_get_or_compute_async (cache, g_variant_new_int64 (42),
                                                     fetch_profile_cb, NULL, NULL,
                                                     NULL, got_profile_cb, &answers[i]);
  for (guint i = 0; i < N_REQUESTS; i++)
    while (!answers[i].done)
      g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < N_REQUESTS; i++)
    ok &= print_answer (&answers[i], i == 0 ? NEBULA_COMPUTE_OUTCOME_COMPUTED : NEBULA_COMPUTE_OUTCOME_JOINED);

  /* Now it is stored. */
  nebula_async_compute_cache_get_or_compute_async (cache, g_variant_new_int64 (42),
                                                   fetch_profile_cb, NULL, NULL,
                                                   NULL, got_profile_cb, &answers[N_REQUESTS]);
  while (!answers[N_REQUESTS].done)
    g_main_context_iteration (NULL, TRUE);
  ok &= print_answer (&answers[N_REQUESTS], NEBULA_COMPUTE_OUTCOME_HIT);

  stats = nebula_async_compute_cache_get_stats (cache);
  g_print ("%u fetch, %" G_GUINT64_FORMAT " requests, %" G_GUINT64_FORMAT " hit, %" G_GUINT64_FORMAT
           " joined\n", fetches, stats->requests, stats->hits, stats->joins);

  return ok && fetches == 1 && stats->requests == stats->hits + stats->misses ? 0 : 1;
}
