/* bench-cache.c: the compute caches in nebula-bench
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two workloads (docs/caches.md, "Throughput", records the figures):
 *
 * 1. Hits. A NebulaComputeCache holding HIT_KEYS entries (room for twice
 *    as many, so nothing is evicted) is asked for them in a fixed
 *    pseudo-random order, by one thread and by two threads sharing the
 *    cache: through the binding API (int64 GVariant keys built once,
 *    GObject values: a reference taken and dropped per hit), the same with
 *    a new key per request (what a binding does), and through the C
 *    pointer API (the integer in the key pointer, g_direct_hash). A
 *    GHashTable looked up under a GMutex is the floor, what any locked map
 *    costs. Every answer is compared with the value stored for its key,
 *    and the cache's statistics must show no miss.
 * 2. Single flight. N requests for one missing key on a
 *    NebulaAsyncComputeCache with deduplicate: one computation, which
 *    returns at once, so the figure is the cache's own cost; 1 COMPUTED
 *    and N-1 JOINED outcomes, checked. Timed from just before the first
 *    request to the last callback. Also with a GCancellable per request
 *    (made beforehand), and as references N requests for a stored key
 *    (N HITs) and N misses without deduplication (N computations).
 *
 * Timing: a warm-up, then rounds; the best round is the figure and the
 * median is kept too, since the machines this runs on are shared. One
 * thread is timed with its CPU clock, two threads and the single-flight
 * latencies with the wall clock.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <nebula.h>

#include "nebula-benchmark-private.h"
#include "bench-cache.h"

#define HIT_KEYS          1000
#define SEQUENCE_LENGTH   4096          /* a power of two */
#define SEQUENCE_SEED     20231023
#define HIT_OPS           50000         /* per round and thread */
#define HIT_OPS_QUICK     10000
#define ROUNDS            7
#define ROUNDS_QUICK      2

typedef struct
{
  gboolean  ran;
  char     *error;         /* why it did not run or failed its check */
  double    min;           /* hits: ns per lookup; flights: ns per round */
  double    median;
  double    at_once;       /* hits: threads that ran at once in the fastest round */
  guint64   ops;           /* per round, all threads together */
} Result;

/* 1. Hits */

typedef enum
{
  HIT_VARIANT,
  HIT_VARIANT_NEW_KEY,
  HIT_POINTER,
  HIT_FLOOR,
} HitApi;

typedef struct
{
  const char           *name;
  HitApi                api;
  NebulaEvictionPolicy  policy;
  guint                 threads;
  Result                result;
} HitRow;

static HitRow hit_rows[] = {
  { "variant", HIT_VARIANT, NEBULA_EVICTION_POLICY_LRU, 1 },
  { "variant", HIT_VARIANT, NEBULA_EVICTION_POLICY_S3_FIFO, 1 },
  { "variant-new-key", HIT_VARIANT_NEW_KEY, NEBULA_EVICTION_POLICY_S3_FIFO, 1 },
  { "pointer", HIT_POINTER, NEBULA_EVICTION_POLICY_LRU, 1 },
  { "pointer", HIT_POINTER, NEBULA_EVICTION_POLICY_S3_FIFO, 1 },
  { "ghashtable+mutex", HIT_FLOOR, 0, 1 },
  { "variant", HIT_VARIANT, NEBULA_EVICTION_POLICY_LRU, 2 },
  { "variant", HIT_VARIANT, NEBULA_EVICTION_POLICY_S3_FIFO, 2 },
  { "pointer", HIT_POINTER, NEBULA_EVICTION_POLICY_S3_FIFO, 2 },
  { "ghashtable+mutex", HIT_FLOOR, 0, 2 },
};

/* What the threads of one row share. */
typedef struct
{
  const HitRow        *row;
  NebulaComputeCache  *cache;
  GHashTable          *table;          /* the floor */
  GMutex               mutex;          /* the floor's */
  GVariant           **keys;
  GObject            **values;
  guint16              sequence[SEQUENCE_LENGTH];
  guint64              ops;
  guint                rounds;
  NebulaBenchBarrier   barrier;
  NebulaBenchClock     clock;
} HitShared;

typedef struct
{
  HitShared *shared;
  guint      index;
  char      *error;
} HitWorker;

static GObject *
unexpected_miss_cb (GVariant  *key,
                    gpointer   user_data,
                    GError   **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "a stored key missed");
  return NULL;
}

static gpointer
unexpected_pointer_miss_cb (gconstpointer   key,
                            gpointer        user_data,
                            GError        **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "a stored key missed");
  return NULL;
}

static gboolean
wrong_value (HitWorker *worker,
             GError    *error)
{
  worker->error = g_strdup (error != NULL ? error->message : "a hit returned another key's value");
  g_clear_error (&error);
  return FALSE;
}

/* One pass: ops lookups, starting at a different place of the sequence in
 * each thread. */
static gboolean
hit_pass (HitWorker *worker)
{
  HitShared *shared = worker->shared;
  const guint offset = worker->index * (SEQUENCE_LENGTH / 2);
  GError *error = NULL;

  switch (shared->row->api)
    {
    case HIT_VARIANT:
    case HIT_VARIANT_NEW_KEY:
      for (guint64 i = 0; i < shared->ops; i++)
        {
          guint k = shared->sequence[(i + offset) & (SEQUENCE_LENGTH - 1)];
          GVariant *key = shared->row->api == HIT_VARIANT ? shared->keys[k] : g_variant_new_int64 (k);
          GObject *value = nebula_compute_cache_get_or_compute (shared->cache, key, unexpected_miss_cb,
                                                                NULL, &error);

          if (G_UNLIKELY (value != shared->values[k]))
            {
              g_clear_object (&value);
              return wrong_value (worker, error);
            }
          g_object_unref (value);
        }
      return TRUE;

    case HIT_POINTER:
      for (guint64 i = 0; i < shared->ops; i++)
        {
          gpointer key = GUINT_TO_POINTER (shared->sequence[(i + offset) & (SEQUENCE_LENGTH - 1)] + 1);

          if (G_UNLIKELY (nebula_compute_cache_get_or_compute_pointer (shared->cache, key,
                                                                       unexpected_pointer_miss_cb,
                                                                       NULL, &error) != key))
            return wrong_value (worker, error);
        }
      return TRUE;

    case HIT_FLOOR:
    default:
      for (guint64 i = 0; i < shared->ops; i++)
        {
          gpointer key = GUINT_TO_POINTER (shared->sequence[(i + offset) & (SEQUENCE_LENGTH - 1)] + 1);
          gpointer value;

          g_mutex_lock (&shared->mutex);
          value = g_hash_table_lookup (shared->table, key);
          g_mutex_unlock (&shared->mutex);
          if (G_UNLIKELY (value != key))
            return wrong_value (worker, NULL);
        }
      return TRUE;
    }
}

static gpointer
hit_worker_run (gpointer data)
{
  HitWorker *worker = data;
  HitShared *shared = worker->shared;
  gboolean together = shared->row->threads > 1;

  /* Warm-up, then the timed rounds, all threads starting together. */
  if (!hit_pass (worker))
    goto failed;

  for (guint round = 0; round < shared->rounds; round++)
    {
      if (together && !nebula_bench_barrier_wait (&shared->barrier))
        return NULL;
      nebula_bench_clock_start (&shared->clock, worker->index, round);
      if (!hit_pass (worker))
        goto failed;
      nebula_bench_clock_stop (&shared->clock, worker->index, round);
      if (together && !nebula_bench_barrier_wait (&shared->barrier))
        return NULL;
    }
  return NULL;

failed:
  nebula_bench_barrier_abort (&shared->barrier);
  return NULL;
}

static void
hit_shared_fill (HitShared *shared)
{
  const HitRow *row = shared->row;
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEQUENCE_SEED);

  for (guint i = 0; i < SEQUENCE_LENGTH; i++)
    shared->sequence[i] = (guint16) g_rand_int_range (rand, 0, HIT_KEYS);

  g_mutex_init (&shared->mutex);
  switch (row->api)
    {
    case HIT_VARIANT:
    case HIT_VARIANT_NEW_KEY:
      shared->cache = nebula_compute_cache_new (row->policy, 2 * HIT_KEYS);
      shared->keys = g_new0 (GVariant *, HIT_KEYS);
      shared->values = g_new0 (GObject *, HIT_KEYS);
      for (guint k = 0; k < HIT_KEYS; k++)
        {
          shared->keys[k] = g_variant_ref_sink (g_variant_new_int64 (k));
          shared->values[k] = g_object_new (G_TYPE_OBJECT, NULL);
          nebula_compute_cache_insert (shared->cache, shared->keys[k], shared->values[k], NULL);
        }
      break;

    case HIT_POINTER:
      shared->cache = nebula_compute_cache_new_full (g_direct_hash, g_direct_equal, NULL, NULL,
                                                     "policy", row->policy,
                                                     "max-entries", 2 * HIT_KEYS,
                                                     NULL);
      for (guint k = 0; k < HIT_KEYS; k++)
        nebula_compute_cache_insert_pointer (shared->cache, GUINT_TO_POINTER (k + 1),
                                             GUINT_TO_POINTER (k + 1), NULL);
      break;

    case HIT_FLOOR:
    default:
      shared->table = g_hash_table_new (g_direct_hash, g_direct_equal);
      for (guint k = 0; k < HIT_KEYS; k++)
        g_hash_table_insert (shared->table, GUINT_TO_POINTER (k + 1), GUINT_TO_POINTER (k + 1));
      break;
    }
}

static void
hit_shared_clear (HitShared *shared)
{
  for (guint k = 0; shared->keys != NULL && k < HIT_KEYS; k++)
    {
      g_variant_unref (shared->keys[k]);
      g_object_unref (shared->values[k]);
    }
  g_clear_pointer (&shared->keys, g_free);
  g_clear_pointer (&shared->values, g_free);
  g_clear_object (&shared->cache);
  g_clear_pointer (&shared->table, g_hash_table_unref);
  g_mutex_clear (&shared->mutex);
}

static void
run_hits (HitRow  *row,
          guint64  ops,
          guint    rounds)
{
  HitShared *shared = g_new0 (HitShared, 1);
  g_autofree HitWorker *workers = g_new0 (HitWorker, row->threads);
  Result *result = &row->result;

  shared->row = row;
  shared->ops = ops;
  shared->rounds = rounds;
  nebula_bench_clock_init (&shared->clock, row->threads, rounds);
  nebula_bench_barrier_init (&shared->barrier, row->threads);
  hit_shared_fill (shared);

  for (guint i = 0; i < row->threads; i++)
    {
      workers[i].shared = shared;
      workers[i].index = i;
    }
  nebula_bench_run_threads (row->threads, hit_worker_run, workers, sizeof (HitWorker));

  for (guint i = 0; i < row->threads; i++)
    {
      if (workers[i].error != NULL && result->error == NULL)
        result->error = g_steal_pointer (&workers[i].error);
      g_free (workers[i].error);
    }

  if (result->error == NULL && shared->cache != NULL)
    {
      g_autoptr(NebulaCacheStats) stats = nebula_compute_cache_get_stats (shared->cache);
      guint64 expected = ops * row->threads * (rounds + 1);

      if (stats->misses != 0 || stats->hits != expected)
        result->error = g_strdup_printf ("%" G_GUINT64_FORMAT " hits and %" G_GUINT64_FORMAT
                                         " misses, expected %" G_GUINT64_FORMAT " hits",
                                         stats->hits, stats->misses, expected);
    }
  if (result->error == NULL)
    {
      result->ops = ops * row->threads;
      nebula_bench_clock_summarize (&shared->clock, result->ops, &result->min, &result->median,
                                    &result->at_once);
      result->ran = TRUE;
    }
  nebula_bench_clock_clear (&shared->clock);
  hit_shared_clear (shared);
  g_free (shared);
}

/* 2. Single flight */

typedef enum
{
  FLIGHT_DEDUPLICATE,
  FLIGHT_CANCELLABLE,
  FLIGHT_SEPARATE,
  FLIGHT_HITS,
} FlightMode;

static const char * const flight_mode_names[] = {
  "deduplicate", "dedup+cancellable", "no-deduplicate", "hits",
};

typedef struct
{
  FlightMode  mode;
  guint       requests;
  gboolean    quick;       /* part of --quick */
  guint       computes;    /* per round, as checked */
  Result      result;
} FlightRow;

static FlightRow flight_rows[] = {
  { FLIGHT_DEDUPLICATE, 10, TRUE },
  { FLIGHT_DEDUPLICATE, 100, TRUE },
  { FLIGHT_DEDUPLICATE, 1000, TRUE },
  { FLIGHT_DEDUPLICATE, 10000, FALSE },
  { FLIGHT_CANCELLABLE, 1000, TRUE },
  { FLIGHT_SEPARATE, 1000, TRUE },
  { FLIGHT_HITS, 1000, TRUE },
};

typedef struct
{
  GObject *value;
  guint    requests;
  guint    computes;
  guint    completed;
  guint    outcomes[NEBULA_COMPUTE_OUTCOME_STALE + 1];
  guint64  last_callback_ns;
  char    *error;
  GCancellable **cancellables;  /* one per request, or NULL */
} Storm;

static void
storm_compute_cb (GVariant     *key,
                  GCancellable *cancellable,
                  GTask        *task,
                  gpointer      user_data)
{
  Storm *storm = user_data;

  storm->computes++;
  nebula_compute_task_return_object (task, storm->value);
}

static void
storm_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Storm *storm = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) value = NULL;
  NebulaComputeOutcome outcome = NEBULA_COMPUTE_OUTCOME_HIT;

  value = nebula_async_compute_cache_get_or_compute_finish (NEBULA_ASYNC_COMPUTE_CACHE (source), result,
                                                            &outcome, &error);
  if (value != storm->value && storm->error == NULL)
    storm->error = g_strdup (error != NULL ? error->message : "a request got another value");
  if ((guint) outcome < G_N_ELEMENTS (storm->outcomes))
    storm->outcomes[outcome]++;
  if (++storm->completed == storm->requests)
    storm->last_callback_ns = nebula_bench_now_ns (FALSE);
}

/* Every request for @key, then the main context until the last callback.
 * Returns the wall-clock nanoseconds, or a negative number with
 * storm->error set. */
static double
storm_round (NebulaAsyncComputeCache *cache,
             GMainContext            *context,
             GVariant                *key,
             Storm                   *storm)
{
  guint64 start;

  storm->computes = storm->completed = 0;
  memset (storm->outcomes, 0, sizeof storm->outcomes);

  start = nebula_bench_now_ns (FALSE);
  for (guint i = 0; i < storm->requests; i++)
    nebula_async_compute_cache_get_or_compute_async (cache, key, storm_compute_cb, storm, NULL,
                                                     storm->cancellables != NULL ? storm->cancellables[i] : NULL,
                                                     storm_done_cb, storm);
  while (storm->completed < storm->requests)
    g_main_context_iteration (context, TRUE);

  return storm->error != NULL ? -1 : (double) (storm->last_callback_ns - start);
}

static gboolean
storm_check (const FlightRow *row,
             Storm           *storm)
{
  guint computed = 0, joined = 0, hits = 0;

  switch (row->mode)
    {
    case FLIGHT_DEDUPLICATE:
    case FLIGHT_CANCELLABLE:
      computed = 1;
      joined = row->requests - 1;
      break;
    case FLIGHT_SEPARATE:
      computed = row->requests;
      break;
    case FLIGHT_HITS:
    default:
      hits = row->requests;
      break;
    }

  if (storm->computes == computed &&
      storm->outcomes[NEBULA_COMPUTE_OUTCOME_COMPUTED] == computed &&
      storm->outcomes[NEBULA_COMPUTE_OUTCOME_JOINED] == joined &&
      storm->outcomes[NEBULA_COMPUTE_OUTCOME_HIT] == hits)
    return TRUE;

  storm->error = g_strdup_printf ("%u computations, %u COMPUTED, %u JOINED, %u HIT; expected %u, %u, %u, %u",
                                  storm->computes, storm->outcomes[NEBULA_COMPUTE_OUTCOME_COMPUTED],
                                  storm->outcomes[NEBULA_COMPUTE_OUTCOME_JOINED],
                                  storm->outcomes[NEBULA_COMPUTE_OUTCOME_HIT],
                                  computed, computed, joined, hits);
  return FALSE;
}

static void
run_flights (FlightRow *row,
             guint      rounds)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  g_autofree double *round_ns = g_new0 (double, rounds);
  g_autoptr(GVariant) stored_key = g_variant_ref_sink (g_variant_new_int64 (-1));
  Storm storm = { .requests = row->requests };
  Result *result = &row->result;

  g_main_context_push_thread_default (context);
  storm.value = g_object_new (G_TYPE_OBJECT, NULL);
  if (row->mode == FLIGHT_CANCELLABLE)
    {
      storm.cancellables = g_new0 (GCancellable *, row->requests);
      for (guint i = 0; i < row->requests; i++)
        storm.cancellables[i] = g_cancellable_new ();
    }
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                        "deduplicate", row->mode != FLIGHT_SEPARATE,
                        "max-entries", 1024,
                        NULL);

  /* The key the hits ask for. */
  if (row->mode == FLIGHT_HITS)
    {
      Storm prime = { .value = storm.value, .requests = 1 };

      storm_round (cache, context, stored_key, &prime);
      storm.error = g_steal_pointer (&prime.error);
    }

  /* Round 0 warms up; each round asks for a new key. */
  for (guint round = 0; round <= rounds && storm.error == NULL; round++)
    {
      g_autoptr(GVariant) key = row->mode == FLIGHT_HITS
        ? g_variant_ref (stored_key)
        : g_variant_ref_sink (g_variant_new_int64 (round));
      double ns = storm_round (cache, context, key, &storm);

      if (ns < 0 || !storm_check (row, &storm))
        break;
      if (round > 0)
        round_ns[round - 1] = ns;
    }
  row->computes = storm.computes;

  while (g_main_context_pending (context))
    g_main_context_iteration (context, FALSE);
  g_clear_object (&cache);
  g_object_unref (storm.value);
  for (guint i = 0; storm.cancellables != NULL && i < row->requests; i++)
    g_object_unref (storm.cancellables[i]);
  g_free (storm.cancellables);
  g_main_context_pop_thread_default (context);

  if (storm.error != NULL)
    {
      result->error = storm.error;
      return;
    }
  nebula_bench_summarize (round_ns, rounds, &result->min, &result->median);
  result->ops = row->requests;
  result->ran = TRUE;
}

/* Running and printing */

static gboolean ran;
static guint run_rounds;
static guint64 run_ops;

gboolean
nebula_bench_cache_run (gboolean quick,
                        guint    rounds)
{
  gboolean ok = TRUE;

  run_rounds = rounds > 0 ? rounds : quick ? ROUNDS_QUICK : ROUNDS;
  run_ops = quick ? HIT_OPS_QUICK : HIT_OPS;
  ran = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (hit_rows); i++)
    {
      run_hits (&hit_rows[i], run_ops, run_rounds);
      ok &= hit_rows[i].result.ran;
    }
  ok &= nebula_bench_cache_zipf_run (quick, rounds);
  for (guint i = 0; i < G_N_ELEMENTS (flight_rows); i++)
    if (!quick || flight_rows[i].quick)
      {
        run_flights (&flight_rows[i], run_rounds);
        ok &= flight_rows[i].result.ran;
      }
    else
      flight_rows[i].result.error = g_strdup ("not in --quick");
  return ok;
}

const char *
nebula_bench_cache_policy_nick (NebulaEvictionPolicy policy)
{
  GEnumClass *klass = g_type_class_ref (nebula_eviction_policy_get_type ());
  GEnumValue *value = g_enum_get_value (klass, policy);

  g_type_class_unref (klass);
  return value != NULL ? value->value_nick : "?";
}

static const char *
policy_name (const HitRow *row)
{
  return row->api == HIT_FLOOR ? "-" : nebula_bench_cache_policy_nick (row->policy);
}

/* Rows skipped by --quick are not listed. */
static gboolean
flight_listed (const FlightRow *row)
{
  return row->result.ran || !g_str_equal (row->result.error, "not in --quick");
}

void
nebula_bench_cache_print_table (void)
{
  if (!ran)
    return;

  printf ("\ncompute caches: hits on %u stored keys in a fixed random order, %" G_GUINT64_FORMAT
          " lookups per round\nand thread, best of %u rounds (one thread on its CPU clock, two on the "
          "wall clock;\nns per lookup of all threads together; medians are in --format json/csv)\n",
          HIT_KEYS, run_ops, run_rounds);
  printf ("  %-18s %-8s %7s %9s %9s %9s %8s\n", "keys", "policy", "threads", "ns/hit", "median", "Mhits/s",
          "at once");
  for (guint i = 0; i < G_N_ELEMENTS (hit_rows); i++)
    {
      const HitRow *row = &hit_rows[i];

      printf ("  %-18s %-8s %7u ", row->name, policy_name (row), row->threads);
      if (row->result.ran)
        printf ("%9.1f %9.1f %9.2f %8.2f\n", row->result.min, row->result.median, 1e3 / row->result.min,
                row->result.at_once);
      else
        printf ("failed: %s\n", row->result.error);
    }
  printf ("(variant: int64 GVariant keys built once, GObject values; variant-new-key: a key\n"
          " built per request; pointer: nebula_compute_cache_new_full() with g_direct_hash;\n"
          " ghashtable+mutex: the floor, a GHashTable lookup under a GMutex; at once: the\n"
          " threads' CPU time over the fastest round's wall time, 2 when two ran side by side)\n");
  nebula_bench_cache_zipf_print_table ();

  printf ("\nsingle flight: N requests for one key on a NebulaAsyncComputeCache, the\n"
          "computation returning at once; wall clock from before the first request to the\n"
          "last callback, best of %u rounds\n", run_rounds);
  printf ("  %-17s %8s %9s %12s %12s %14s\n", "mode", "requests", "computes", "best (us)", "median (us)",
          "ns per request");
  for (guint i = 0; i < G_N_ELEMENTS (flight_rows); i++)
    {
      const FlightRow *row = &flight_rows[i];

      if (!flight_listed (row))
        continue;
      printf ("  %-17s %8u ", flight_mode_names[row->mode], row->requests);
      if (row->result.ran)
        printf ("%9u %12.1f %12.1f %14.1f\n", row->computes, row->result.min / 1e3, row->result.median / 1e3,
                row->result.min / row->requests);
      else
        printf ("failed: %s\n", row->result.error);
    }
}

/* An error message as a JSON string or a CSV field: quotes, backslashes,
 * separators and control characters become spaces. */
static char *
plain_text (const char *text,
            const char *separators)
{
  char *copy = g_strdup (text);

  for (char *p = copy; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || strchr (separators, *p) != NULL)
      *p = ' ';
  return copy;
}

static void
json_result (GString      *out,
             const Result *result)
{
  g_autofree char *error = NULL;

  if (!result->ran)
    {
      error = plain_text (result->error, "\"\\");
      g_string_append_printf (out, "\"status\": \"%s\" }", error);
      return;
    }
  g_string_append_printf (out, "\"status\": \"ok\", \"ops\": %" G_GUINT64_FORMAT ", ", result->ops);
}

void
nebula_bench_cache_append_json (GString *out)
{
  gboolean first = TRUE;

  if (!ran)
    return;

  g_string_append_printf (out, "  \"caches\": {\n    \"rounds\": %u,\n    \"keys\": %u,\n    \"hits\": [",
                          run_rounds, HIT_KEYS);
  for (guint i = 0; i < G_N_ELEMENTS (hit_rows); i++)
    {
      const HitRow *row = &hit_rows[i];

      g_string_append_printf (out, "%s\n      { \"keys\": \"%s\", \"policy\": \"%s\", \"threads\": %u, ",
                              i == 0 ? "" : ",", row->name, policy_name (row), row->threads);
      json_result (out, &row->result);
      if (row->result.ran)
        g_string_append_printf (out, "\"ns_per_hit_min\": %.2f, \"ns_per_hit_median\": %.2f, "
                                "\"hits_per_s\": %.0f, \"threads_at_once\": %.2f }",
                                row->result.min, row->result.median, 1e9 / row->result.min,
                                row->result.at_once);
    }
  g_string_append (out, "\n    ],\n    \"single_flight\": [");
  for (guint i = 0; i < G_N_ELEMENTS (flight_rows); i++)
    {
      const FlightRow *row = &flight_rows[i];

      if (!flight_listed (row))
        continue;
      g_string_append_printf (out, "%s\n      { \"mode\": \"%s\", \"requests\": %u, ", first ? "" : ",",
                              flight_mode_names[row->mode], row->requests);
      first = FALSE;
      json_result (out, &row->result);
      if (row->result.ran)
        g_string_append_printf (out, "\"computes\": %u, \"latency_us_min\": %.2f, \"latency_us_median\": %.2f, "
                                "\"ns_per_request_min\": %.2f }",
                                row->computes, row->result.min / 1e3, row->result.median / 1e3,
                                row->result.min / row->requests);
    }
  g_string_append (out, "\n    ],\n");
  nebula_bench_cache_zipf_append_json (out);
  g_string_append (out, "  },\n");
}

void
nebula_bench_cache_print_csv (void)
{
  if (!ran)
    return;

  /* allocator: the cache; workload: what it ran; ns_per_op: per hit, or
   * per request of a single-flight round. */
  for (guint i = 0; i < G_N_ELEMENTS (hit_rows); i++)
    {
      const HitRow *row = &hit_rows[i];
      g_autofree char *workload = g_strdup_printf ("hits-%s%s%u-thread%s",
                                                   row->api == HIT_FLOOR ? "" : policy_name (row),
                                                   row->api == HIT_FLOOR ? "" : "-", row->threads,
                                                   row->threads == 1 ? "" : "s");
      g_autofree char *error = row->result.ran ? NULL : plain_text (row->result.error, ",\"");

      const char *prefix = row->api == HIT_FLOOR ? "" : "compute-cache-";

      if (row->result.ran)
        printf ("cache,%s%s,%s,ok,%" G_GUINT64_FORMAT ",%.4f,%.4f,,,\n", prefix, row->name, workload,
                row->result.ops, row->result.min, row->result.median);
      else
        printf ("cache,%s%s,%s,%s,,,,,,\n", prefix, row->name, workload, error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (flight_rows); i++)
    {
      const FlightRow *row = &flight_rows[i];
      g_autofree char *error = row->result.ran ? NULL : plain_text (row->result.error, ",\"");

      if (!flight_listed (row))
        continue;
      if (row->result.ran)
        printf ("cache,async-compute-cache-%s,single-flight-%u,ok,%u,%.4f,%.4f,,,\n",
                flight_mode_names[row->mode], row->requests, row->requests,
                row->result.min / row->requests, row->result.median / row->requests);
      else
        printf ("cache,async-compute-cache-%s,single-flight-%u,%s,,,,,,\n",
                flight_mode_names[row->mode], row->requests, error);
    }
  nebula_bench_cache_zipf_print_csv ();
}
