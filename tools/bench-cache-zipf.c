/* bench-cache-zipf.c: the compute caches replaying a Zipf trace
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A trace of requests drawn from a Zipf law (exponent 1.0) over ZIPF_KEYS
 * keys is replayed against a cache with room for a tenth of them, through
 * get-or-compute: every policy through the C pointer API and through the
 * GVariant API (keys built once, GObject values), and as the baseline a
 * plain GHashTable + GQueue LRU under a GMutex, written below as a user
 * would (a miss computes outside the lock, as the caches do). Each round
 * replays the whole trace on a new cache; the figure is lookups per second
 * of the process's CPU time in the best round (the machines this runs on
 * are shared, and CPU time is the steadier clock), next to the hit ratio
 * and the ratio to the baseline. The baseline's hit count must equal the
 * LRU rows', which checks both.
 */

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

#include <nebula.h>

#include "nebula-benchmark-private.h"
#include "bench-cache.h"

#define ZIPF_KEYS            100000
#define ZIPF_KEYS_QUICK      10000
#define ZIPF_REQUESTS        1000000
#define ZIPF_REQUESTS_QUICK  100000
#define ZIPF_EXPONENT        1.0
#define ZIPF_SEED            20231023
#define ZIPF_ROUNDS          3

typedef enum
{
  ZIPF_BASELINE,
  ZIPF_POINTER,
  ZIPF_VARIANT,
} ZipfApi;

typedef struct
{
  const char           *name;
  ZipfApi               api;
  NebulaEvictionPolicy  policy;
  gboolean              ran;
  char                 *error;
  guint64               hits;
  double                best_ns;      /* CPU time of the best round */
} ZipfRow;

static ZipfRow zipf_rows[] = {
  { "baseline-lru", ZIPF_BASELINE, 0 },
  { "pointer", ZIPF_POINTER, NEBULA_EVICTION_POLICY_LRU },
  { "pointer", ZIPF_POINTER, NEBULA_EVICTION_POLICY_FIFO },
  { "pointer", ZIPF_POINTER, NEBULA_EVICTION_POLICY_LFU },
  { "pointer", ZIPF_POINTER, NEBULA_EVICTION_POLICY_S3_FIFO },
  { "variant", ZIPF_VARIANT, NEBULA_EVICTION_POLICY_LRU },
  { "variant", ZIPF_VARIANT, NEBULA_EVICTION_POLICY_FIFO },
  { "variant", ZIPF_VARIANT, NEBULA_EVICTION_POLICY_LFU },
  { "variant", ZIPF_VARIANT, NEBULA_EVICTION_POLICY_S3_FIFO },
};

static gboolean zipf_ran;
static guint zipf_keys;
static guint zipf_requests;
static guint zipf_rounds;

/* The baseline: what a user writes in a few minutes. */

typedef struct
{
  GMutex      mutex;
  GHashTable *index;      /* key -> GList link in order, data a BaselineNode */
  GQueue      order;      /* least recently used first */
  guint       capacity;
} BaselineLru;

typedef struct
{
  gpointer key;
  gpointer value;
} BaselineNode;

static void
baseline_init (BaselineLru *lru,
               guint        capacity)
{
  g_mutex_init (&lru->mutex);
  lru->index = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_queue_init (&lru->order);
  lru->capacity = capacity;
}

static void
baseline_clear (BaselineLru *lru)
{
  g_queue_clear_full (&lru->order, g_free);
  g_hash_table_unref (lru->index);
  g_mutex_clear (&lru->mutex);
}

/* Not inlined, so that a profile shows its cost per call as it shows the
 * caches'. */
static G_GNUC_NO_INLINE gpointer
baseline_get_or_compute (BaselineLru              *lru,
                         gpointer                  key,
                         NebulaPointerComputeFunc  func,
                         gboolean                 *hit)
{
  BaselineNode *node;
  GList *link;
  gpointer value;

  g_mutex_lock (&lru->mutex);
  link = g_hash_table_lookup (lru->index, key);
  if (link != NULL)
    {
      g_queue_unlink (&lru->order, link);
      g_queue_push_tail_link (&lru->order, link);
      value = ((BaselineNode *) link->data)->value;
      g_mutex_unlock (&lru->mutex);
      *hit = TRUE;
      return value;
    }
  g_mutex_unlock (&lru->mutex);

  *hit = FALSE;
  value = func (key, NULL, NULL);

  g_mutex_lock (&lru->mutex);
  if (g_hash_table_lookup (lru->index, key) == NULL)
    {
      if (lru->order.length == lru->capacity)
        {
          BaselineNode *oldest = g_queue_pop_head (&lru->order);

          g_hash_table_remove (lru->index, oldest->key);
          g_free (oldest);
        }
      node = g_new (BaselineNode, 1);
      node->key = key;
      node->value = value;
      g_queue_push_tail (&lru->order, node);
      g_hash_table_insert (lru->index, key, lru->order.tail);
    }
  g_mutex_unlock (&lru->mutex);
  return value;
}

/* The trace */

static guint *
zipf_trace_new (guint keys,
                guint requests)
{
  g_autofree double *cdf = g_new (double, keys);
  g_autoptr(GRand) rand = g_rand_new_with_seed (ZIPF_SEED);
  guint *trace = g_new (guint, requests);
  double sum = 0;

  for (guint k = 0; k < keys; k++)
    {
      sum += 1.0 / pow (k + 1, ZIPF_EXPONENT);
      cdf[k] = sum;
    }
  for (guint i = 0; i < requests; i++)
    {
      double u = g_rand_double (rand) * sum;
      guint lo = 0, hi = keys - 1;

      while (lo < hi)
        {
          guint mid = lo + (hi - lo) / 2;

          if (cdf[mid] < u)
            lo = mid + 1;
          else
            hi = mid;
        }
      trace[i] = lo + 1;        /* never 0, so never a NULL key */
    }
  return trace;
}

static guint64
process_cpu_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (guint64) ts.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) ts.tv_nsec;
}

static gpointer
identity_cb (gconstpointer   key,
             gpointer        user_data,
             GError        **error)
{
  return (gpointer) key;
}

static GObject *
shared_value_cb (GVariant  *key,
                 gpointer   user_data,
                 GError   **error)
{
  return g_object_ref (user_data);
}

/* One replay on a new cache; returns the hits, or G_MAXUINT64 with
 * row->error set. */
static guint64
zipf_replay (ZipfRow      *row,
             const guint  *trace,
             GVariant    **keys,
             GObject      *shared_value,
             double       *ns)
{
  g_autoptr(NebulaComputeCache) cache = NULL;
  BaselineLru baseline;
  guint capacity = zipf_keys / 10;
  guint64 hits = 0;
  guint64 start;

  if (row->api == ZIPF_BASELINE)
    baseline_init (&baseline, capacity);
  else if (row->api == ZIPF_POINTER)
    cache = nebula_compute_cache_new_full (g_direct_hash, g_direct_equal, NULL, NULL,
                                           "policy", row->policy,
                                           "max-entries", capacity,
                                           NULL);
  else
    cache = nebula_compute_cache_new (row->policy, capacity);

  start = process_cpu_ns ();
  switch (row->api)
    {
    case ZIPF_BASELINE:
      for (guint i = 0; i < zipf_requests; i++)
        {
          gboolean hit;
          gpointer key = GUINT_TO_POINTER (trace[i]);

          if (G_UNLIKELY (baseline_get_or_compute (&baseline, key, identity_cb, &hit) != key))
            row->error = g_strdup ("the baseline returned another key's value");
          hits += hit;
        }
      break;

    case ZIPF_POINTER:
      for (guint i = 0; i < zipf_requests; i++)
        {
          gpointer key = GUINT_TO_POINTER (trace[i]);

          if (G_UNLIKELY (nebula_compute_cache_get_or_compute_pointer (cache, key, identity_cb,
                                                                       NULL, NULL) != key))
            row->error = g_strdup ("a lookup returned another key's value");
        }
      break;

    case ZIPF_VARIANT:
    default:
      for (guint i = 0; i < zipf_requests; i++)
        {
          GObject *value = nebula_compute_cache_get_or_compute (cache, keys[trace[i]], shared_value_cb,
                                                                shared_value, NULL);

          if (G_UNLIKELY (value != shared_value))
            row->error = g_strdup ("a lookup returned another value");
          g_clear_object (&value);
        }
      break;
    }
  *ns = (double) (process_cpu_ns () - start);

  if (cache != NULL)
    {
      g_autoptr(NebulaCacheStats) stats = nebula_compute_cache_get_stats (cache);

      if (stats->requests != zipf_requests && row->error == NULL)
        row->error = g_strdup_printf ("%" G_GUINT64_FORMAT " requests counted, %u made",
                                      stats->requests, zipf_requests);
      hits = stats->hits;
    }
  else
    baseline_clear (&baseline);

  return row->error != NULL ? G_MAXUINT64 : hits;
}

static void
zipf_run_row (ZipfRow      *row,
              const guint  *trace,
              GVariant    **keys,
              GObject      *shared_value)
{
  row->best_ns = G_MAXDOUBLE;
  for (guint round = 0; round < zipf_rounds; round++)
    {
      double ns;
      guint64 hits = zipf_replay (row, trace, keys, shared_value, &ns);

      if (hits == G_MAXUINT64)
        return;
      if (round > 0 && hits != row->hits)
        {
          row->error = g_strdup ("two replays of one trace scored differently");
          return;
        }
      row->hits = hits;
      row->best_ns = MIN (row->best_ns, ns);
    }
  row->ran = TRUE;
}

gboolean
nebula_bench_cache_zipf_run (gboolean quick,
                             guint    rounds)
{
  g_autofree guint *trace = NULL;
  g_autoptr(GObject) shared_value = g_object_new (G_TYPE_OBJECT, NULL);
  GVariant **keys;
  gboolean ok = TRUE;

  zipf_keys = quick ? ZIPF_KEYS_QUICK : ZIPF_KEYS;
  zipf_requests = quick ? ZIPF_REQUESTS_QUICK : ZIPF_REQUESTS;
  zipf_rounds = rounds > 0 ? rounds : quick ? 1 : ZIPF_ROUNDS;
  zipf_ran = TRUE;
  trace = zipf_trace_new (zipf_keys, zipf_requests);
  keys = g_new0 (GVariant *, zipf_keys + 1);
  for (guint k = 1; k <= zipf_keys; k++)
    keys[k] = g_variant_ref_sink (g_variant_new_int64 (k));

  for (guint i = 0; i < G_N_ELEMENTS (zipf_rows); i++)
    {
      zipf_run_row (&zipf_rows[i], trace, keys, shared_value);
      ok &= zipf_rows[i].ran;
    }

  /* The same trace on two LRUs must hit the same number of times. */
  for (guint i = 1; i < G_N_ELEMENTS (zipf_rows); i++)
    if (zipf_rows[i].ran && zipf_rows[0].ran && zipf_rows[i].policy == NEBULA_EVICTION_POLICY_LRU &&
        zipf_rows[i].hits != zipf_rows[0].hits)
      {
        zipf_rows[i].ran = FALSE;
        zipf_rows[i].error = g_strdup_printf ("%" G_GUINT64_FORMAT " hits, the baseline LRU %"
                                              G_GUINT64_FORMAT, zipf_rows[i].hits, zipf_rows[0].hits);
        ok = FALSE;
      }

  for (guint k = 1; k <= zipf_keys; k++)
    g_variant_unref (keys[k]);
  g_free (keys);
  return ok;
}

static const char *
zipf_policy_name (const ZipfRow *row)
{
  return row->api == ZIPF_BASELINE ? "lru" : nebula_bench_cache_policy_nick (row->policy);
}

static double
lookups_per_s (const ZipfRow *row)
{
  return zipf_requests * 1e9 / row->best_ns;
}

static double
ratio_to_baseline (const ZipfRow *row)
{
  return zipf_rows[0].ran ? lookups_per_s (row) / lookups_per_s (&zipf_rows[0]) : 0;
}

void
nebula_bench_cache_zipf_print_table (void)
{
  if (!zipf_ran)
    return;

  printf ("\ncompute caches on a Zipf %.1f trace: %u requests over %u keys, room for %u;\n"
          "get-or-compute, best of %u replays on the process's CPU clock\n",
          ZIPF_EXPONENT, zipf_requests, zipf_keys, zipf_keys / 10, zipf_rounds);
  printf ("  %-14s %-8s %9s %12s %12s\n", "keys", "policy", "hit ratio", "Mlookups/s", "x baseline");
  for (guint i = 0; i < G_N_ELEMENTS (zipf_rows); i++)
    {
      const ZipfRow *row = &zipf_rows[i];

      printf ("  %-14s %-8s ", row->name, zipf_policy_name (row));
      if (row->ran)
        printf ("%8.2f%% %12.2f %12.2f\n", 100.0 * row->hits / zipf_requests,
                lookups_per_s (row) / 1e6, ratio_to_baseline (row));
      else
        printf ("failed: %s\n", row->error);
    }
  printf ("(baseline-lru: a GHashTable + GQueue LRU under a GMutex; pointer: new_full() with\n"
          " g_direct_hash; variant: int64 GVariant keys built once, GObject values)\n");
}

void
nebula_bench_cache_zipf_append_json (GString *out)
{
  if (!zipf_ran)
    return;

  g_string_append_printf (out, "    \"zipf\": { \"exponent\": %.1f, \"keys\": %u, \"requests\": %u, "
                          "\"capacity\": %u, \"rounds\": %u, \"rows\": [",
                          ZIPF_EXPONENT, zipf_keys, zipf_requests, zipf_keys / 10, zipf_rounds);
  for (guint i = 0; i < G_N_ELEMENTS (zipf_rows); i++)
    {
      const ZipfRow *row = &zipf_rows[i];

      g_string_append_printf (out, "%s\n      { \"keys\": \"%s\", \"policy\": \"%s\", ",
                              i == 0 ? "" : ",", row->name, zipf_policy_name (row));
      if (row->ran)
        g_string_append_printf (out, "\"status\": \"ok\", \"ops\": %u, \"hit_ratio\": %.6f, "
                                "\"lookups_per_cpu_s\": %.0f, \"ratio_to_baseline\": %.4f }",
                                zipf_requests, (double) row->hits / zipf_requests,
                                lookups_per_s (row), ratio_to_baseline (row));
      else
        {
          g_autofree char *error = g_strcanon (g_strdup (row->error), G_CSET_A_2_Z G_CSET_a_2_z
                                               G_CSET_DIGITS " ,.-", ' ');

          g_string_append_printf (out, "\"status\": \"%s\" }", error);
        }
    }
  g_string_append (out, "\n    ] }\n");
}

void
nebula_bench_cache_zipf_print_csv (void)
{
  if (!zipf_ran)
    return;

  /* ns_per_op: CPU ns per lookup; x_floor: the ratio to the baseline. */
  for (guint i = 0; i < G_N_ELEMENTS (zipf_rows); i++)
    {
      const ZipfRow *row = &zipf_rows[i];
      const char *prefix = row->api == ZIPF_BASELINE ? "" : "compute-cache-";

      if (row->ran)
        printf ("cache,%s%s,zipf-%s,ok,%u,%.4f,,,%.4f,\n", prefix, row->name, zipf_policy_name (row),
                zipf_requests, row->best_ns / zipf_requests, ratio_to_baseline (row));
      else
        printf ("cache,%s%s,zipf-%s,failed,,,,,,\n", prefix, row->name, zipf_policy_name (row));
    }
}
