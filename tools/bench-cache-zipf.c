/* bench-cache-zipf.c: the compute caches replaying a Zipf trace
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A trace of requests drawn from a Zipf law (exponent 1.0) over ZIPF_KEYS
 * keys, or read from a file of one key per line (--trace), is replayed
 * against a cache with room for a tenth of the keys, through
 * get-or-compute: every policy through the C keyed API for integers
 * (new_for_ints; LRU and S3-FIFO also with time-loads off and with
 * thread-safe off), the C pointer API (new_full) and the GVariant API (keys
 * built once, GObject values), and as the baseline a plain GHashTable +
 * GQueue LRU under a GMutex, written below as a user would (a miss computes
 * outside the lock, as the caches do). The same with string keys: the
 * keyed API for strings against the same baseline with g_str_hash() and a
 * copy of each key it stores. Each round replays the whole trace on a new
 * cache; the figure is lookups per second of the process's CPU time in the
 * best round (the machines this runs on are shared, and CPU time is the
 * steadier clock), next to the hit ratio and the ratio to the baseline.
 * The baselines' hit counts must equal the LRU rows', which checks both.
 *
 * Then threads: the integer LRU replayed by one thread and by two threads
 * (nebula-bench --cache -t N: N threads) at once on one cache (each thread
 * the whole trace, from its own offset),
 * with one shard, with the default of the `shards` property's 0 (two per
 * processor) and with 64; wall-clock lookups per second, best round, and
 * lookups per second of the CPU time the threads got, with the wall and CPU
 * time of the best round and their ratio (about 2 when both threads truly
 * ran at once). Rounds go round the rows.
 *
 * The variant-read row runs no cache: it reads each GVariant key's type and
 * bytes as the GVariant API must, the bound of the variant rows. The
 * variant LRU twice more: variant-newkey with a new floating key per lookup
 * (what the bindings pass), variant-nolock with thread-safe off (no lock at
 * all: the most that hits without the lock could gain).
 */

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
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
  ZIPF_INT,
  ZIPF_INT_UNTIMED,             /* time-loads off */
  ZIPF_INT_UNLOCKED,            /* thread-safe off */
  ZIPF_POINTER,
  ZIPF_VARIANT,
  ZIPF_VARIANT_READ,            /* no cache: only reads each key's value */
  ZIPF_VARIANT_NEW_KEY,         /* a new floating key per lookup, as the bindings pass */
  ZIPF_VARIANT_UNLOCKED,        /* thread-safe off: what a hit without the lock could gain */
  ZIPF_BASELINE_STRING,
  ZIPF_STRING,
} ZipfApi;

typedef struct
{
  const char           *name;
  ZipfApi               api;
  NebulaEvictionPolicy  policy;
  guint                 baseline;     /* the row this one is compared with */
  gboolean              ran;
  char                 *error;
  guint64               hits;
  double                best_ns;      /* CPU time of the best round */
} ZipfRow;

#define STRING_BASELINE 20

static ZipfRow zipf_rows[] = {
  { "baseline-lru", ZIPF_BASELINE, 0 },
  { "int", ZIPF_INT, NEBULA_EVICTION_POLICY_LRU },
  { "int", ZIPF_INT, NEBULA_EVICTION_POLICY_FIFO },
  { "int", ZIPF_INT, NEBULA_EVICTION_POLICY_LFU },
  { "int", ZIPF_INT, NEBULA_EVICTION_POLICY_S3_FIFO },
  { "int-untimed", ZIPF_INT_UNTIMED, NEBULA_EVICTION_POLICY_LRU },
  { "int-untimed", ZIPF_INT_UNTIMED, NEBULA_EVICTION_POLICY_S3_FIFO },
  { "int-unlocked", ZIPF_INT_UNLOCKED, NEBULA_EVICTION_POLICY_LRU },
  { "int-unlocked", ZIPF_INT_UNLOCKED, NEBULA_EVICTION_POLICY_S3_FIFO },
  { "pointer", ZIPF_POINTER, NEBULA_EVICTION_POLICY_LRU },
  { "pointer", ZIPF_POINTER, NEBULA_EVICTION_POLICY_FIFO },
  { "pointer", ZIPF_POINTER, NEBULA_EVICTION_POLICY_LFU },
  { "pointer", ZIPF_POINTER, NEBULA_EVICTION_POLICY_S3_FIFO },
  { "variant", ZIPF_VARIANT, NEBULA_EVICTION_POLICY_LRU },
  { "variant", ZIPF_VARIANT, NEBULA_EVICTION_POLICY_FIFO },
  { "variant", ZIPF_VARIANT, NEBULA_EVICTION_POLICY_LFU },
  { "variant", ZIPF_VARIANT, NEBULA_EVICTION_POLICY_S3_FIFO },
  { "variant-read", ZIPF_VARIANT_READ, NEBULA_EVICTION_POLICY_LRU },
  { "variant-newkey", ZIPF_VARIANT_NEW_KEY, NEBULA_EVICTION_POLICY_LRU },
  { "variant-nolock", ZIPF_VARIANT_UNLOCKED, NEBULA_EVICTION_POLICY_LRU },
  { "baseline-str", ZIPF_BASELINE_STRING, NEBULA_EVICTION_POLICY_LRU, STRING_BASELINE },
  { "string", ZIPF_STRING, NEBULA_EVICTION_POLICY_LRU, STRING_BASELINE },
  { "string", ZIPF_STRING, NEBULA_EVICTION_POLICY_S3_FIFO, STRING_BASELINE },
};

G_STATIC_ASSERT (G_N_ELEMENTS (zipf_rows) == STRING_BASELINE + 3);

typedef struct
{
  guint    shards;                    /* as asked: 0 is the default count */
  guint    threads;
  guint    shards_used;
  gboolean ran;
  char    *error;
  double   best_ns;                   /* wall clock of the best round */
  double   best_cpu_ns;               /* CPU time of all threads, best round */
  double   best_wall_cpu_ns;          /* CPU time of the round with the best wall clock */
} ThreadRow;

/* The rows of several threads use `threads_compared` of them (2 unless
 * nebula-bench --cache -t N asked for another count). */
static ThreadRow thread_rows[] = {
  { 1, 1 },
  { 1, 0 },
  { 0, 1 },
  { 0, 0 },
  { 64, 1 },
  { 64, 0 },
};

static guint threads_compared = 2;

static gboolean zipf_ran;
static guint zipf_keys;
static guint zipf_requests;
static guint zipf_rounds;
static char *trace_path;              /* NULL: the Zipf generator */
static guint *file_trace;             /* read by nebula_bench_cache_zipf_set_trace() */
static guint file_keys;
static guint file_requests;

/* The baseline: what a user writes in a few minutes. */

typedef struct
{
  GMutex      mutex;
  GHashTable *index;      /* key -> GList link in order, data a BaselineNode */
  GQueue      order;      /* least recently used first */
  guint       capacity;
  gboolean    strings;    /* keys are strings, copied when stored */
} BaselineLru;

typedef struct
{
  gpointer key;
  gpointer value;
} BaselineNode;

static void
baseline_init (BaselineLru *lru,
               guint        capacity,
               gboolean     strings)
{
  g_mutex_init (&lru->mutex);
  lru->index = strings ? g_hash_table_new (g_str_hash, g_str_equal)
                       : g_hash_table_new (g_direct_hash, g_direct_equal);
  g_queue_init (&lru->order);
  lru->capacity = capacity;
  lru->strings = strings;
}

static void
baseline_node_free (gpointer data)
{
  g_free (((BaselineNode *) data)->key);
  g_free (data);
}

static void
baseline_clear (BaselineLru *lru)
{
  if (lru->strings)
    g_queue_clear_full (&lru->order, baseline_node_free);
  else
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
          if (lru->strings)
            g_free (oldest->key);
          g_free (oldest);
        }
      node = g_new (BaselineNode, 1);
      node->key = lru->strings ? g_strdup (key) : key;
      node->value = value;
      g_queue_push_tail (&lru->order, node);
      g_hash_table_insert (lru->index, node->key, lru->order.tail);
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

/* A trace read from a file, one key per line: each distinct line becomes
 * an integer 1..n (the order of first appearance), so that every API
 * replays the same requests. Empty lines are keys too. */
static guint *
file_trace_new (const char  *path,
                guint       *keys,
                guint       *requests,
                GError     **error)
{
  g_autoptr(GMappedFile) file = g_mapped_file_new (path, FALSE, error);
  g_autoptr(GHashTable) ids = NULL;
  g_autoptr(GArray) trace = NULL;
  const char *text;
  const char *end;

  if (file == NULL)
    return NULL;
  text = g_mapped_file_get_contents (file);
  end = text + g_mapped_file_get_length (file);
  ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  trace = g_array_new (FALSE, FALSE, sizeof (guint));
  while (text != NULL && text < end)
    {
      const char *newline = memchr (text, '\n', end - text);
      const char *line_end = newline != NULL ? newline : end;
      g_autofree char *line = NULL;
      gpointer id;
      guint number;

      if (line_end > text && line_end[-1] == '\r')
        line_end--;
      line = g_strndup (text, line_end - text);
      id = g_hash_table_lookup (ids, line);
      if (id == NULL)
        {
          if (g_hash_table_size (ids) == G_MAXUINT32 - 1)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: too many keys", path);
              return NULL;
            }
          id = GUINT_TO_POINTER (g_hash_table_size (ids) + 1);
          g_hash_table_insert (ids, g_steal_pointer (&line), id);
        }
      number = GPOINTER_TO_UINT (id);
      g_array_append_val (trace, number);
      text = newline != NULL ? newline + 1 : end;
    }
  if (trace->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: no key in the file", path);
      return NULL;
    }
  if (g_hash_table_size (ids) < 10)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: %u distinct keys; the caches get room for a tenth of them, so it needs 10 or more",
                   path, g_hash_table_size (ids));
      return NULL;
    }
  *keys = g_hash_table_size (ids);
  *requests = trace->len;
  return (guint *) g_array_free (g_steal_pointer (&trace), FALSE);
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

static gpointer
int_identity_cb (gint64    key,
                 gpointer  user_data,
                 GError  **error)
{
  return GSIZE_TO_POINTER ((gsize) key);
}

/* String keys: the value is the key's number, from the key's text. */
static gpointer
string_value_cb (const char  *key,
                 gpointer     user_data,
                 GError     **error)
{
  return GSIZE_TO_POINTER ((gsize) g_ascii_strtoull (key + 1, NULL, 10));
}

static GObject *
shared_value_cb (GVariant  *key,
                 gpointer   user_data,
                 GError   **error)
{
  return g_object_ref (user_data);
}

static NebulaComputeCache *
zipf_cache_new (ZipfApi              api,
                NebulaEvictionPolicy policy,
                guint                capacity,
                guint                shards)
{
  switch (api)
    {
    case ZIPF_INT:
    case ZIPF_INT_UNTIMED:
    case ZIPF_INT_UNLOCKED:
      return nebula_compute_cache_new_for_ints (NULL, "policy", policy, "max-entries", capacity,
                                                "shards", shards,
                                                "time-loads", api != ZIPF_INT_UNTIMED,
                                                "thread-safe", api != ZIPF_INT_UNLOCKED, NULL);
    case ZIPF_STRING:
      return nebula_compute_cache_new_for_strings (NULL, "policy", policy, "max-entries", capacity,
                                                   "shards", shards, NULL);
    case ZIPF_POINTER:
      return nebula_compute_cache_new_full (g_direct_hash, g_direct_equal, NULL, NULL,
                                            "policy", policy, "max-entries", capacity,
                                            "shards", shards, NULL);
    case ZIPF_VARIANT:
    case ZIPF_VARIANT_NEW_KEY:
    case ZIPF_VARIANT_UNLOCKED:
      return g_object_new (NEBULA_TYPE_COMPUTE_CACHE, "policy", policy, "max-entries", capacity,
                           "shards", shards, "thread-safe", api != ZIPF_VARIANT_UNLOCKED, NULL);
    case ZIPF_BASELINE:
    case ZIPF_BASELINE_STRING:
    case ZIPF_VARIANT_READ:
    default:
      return NULL;
    }
}

/* One replay on a new cache; returns the hits, or G_MAXUINT64 with
 * row->error set. */
static guint64
zipf_replay (ZipfRow      *row,
             const guint  *trace,
             GVariant    **keys,
             char        **strings,
             GObject      *shared_value,
             double       *ns)
{
  g_autoptr(NebulaComputeCache) cache = NULL;
  BaselineLru baseline;
  guint capacity = zipf_keys / 10;
  guint64 hits = 0;
  guint64 start;

  if (row->api == ZIPF_BASELINE || row->api == ZIPF_BASELINE_STRING)
    baseline_init (&baseline, capacity, row->api == ZIPF_BASELINE_STRING);
  else
    cache = zipf_cache_new (row->api, row->policy, capacity, 1);

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

    case ZIPF_BASELINE_STRING:
      for (guint i = 0; i < zipf_requests; i++)
        {
          gboolean hit;

          if (G_UNLIKELY (baseline_get_or_compute (&baseline, strings[trace[i]],
                                                   (NebulaPointerComputeFunc) string_value_cb,
                                                   &hit) != GUINT_TO_POINTER (trace[i])))
            row->error = g_strdup ("the baseline returned another key's value");
          hits += hit;
        }
      break;

    case ZIPF_INT:
    case ZIPF_INT_UNTIMED:
    case ZIPF_INT_UNLOCKED:
      for (guint i = 0; i < zipf_requests; i++)
        if (G_UNLIKELY (nebula_compute_cache_get_or_compute_int (cache, trace[i], int_identity_cb,
                                                                 NULL, NULL)
                        != GUINT_TO_POINTER (trace[i])))
          row->error = g_strdup ("a lookup returned another key's value");
      break;

    case ZIPF_STRING:
      for (guint i = 0; i < zipf_requests; i++)
        if (G_UNLIKELY (nebula_compute_cache_get_or_compute_string (cache, strings[trace[i]],
                                                                    string_value_cb, NULL, NULL)
                        != GUINT_TO_POINTER (trace[i])))
          row->error = g_strdup ("a lookup returned another key's value");
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

    case ZIPF_VARIANT_READ:
      /* What any use of these keys pays before a cache does anything: the
       * key's type and its bytes, read as the GVariant API reads them. */
      for (guint i = 0; i < zipf_requests; i++)
        {
          GVariant *key = keys[trace[i]];
          const gint64 *data = g_variant_get_data (key);

          if (G_UNLIKELY (g_variant_get_type_string (key)[0] != 'x' || data == NULL ||
                          *data != trace[i]))
            row->error = g_strdup ("a key read back another value");
        }
      break;

    case ZIPF_VARIANT_NEW_KEY:
      /* What Python and gjs pass: a new floating variant per call, which
       * the cache consumes. */
      for (guint i = 0; i < zipf_requests; i++)
        {
          GObject *value = nebula_compute_cache_get_or_compute (cache, g_variant_new_int64 (trace[i]),
                                                                shared_value_cb, shared_value, NULL);

          if (G_UNLIKELY (value != shared_value))
            row->error = g_strdup ("a lookup returned another value");
          g_clear_object (&value);
        }
      break;

    case ZIPF_VARIANT:
    case ZIPF_VARIANT_UNLOCKED:
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
  else if (row->api != ZIPF_VARIANT_READ)
    baseline_clear (&baseline);

  return row->error != NULL ? G_MAXUINT64 : hits;
}

/* One round of @row; FALSE (with row->error set) if it failed. */
static gboolean
zipf_run_round (ZipfRow      *row,
                guint         round,
                const guint  *trace,
                GVariant    **keys,
                char        **strings,
                GObject      *shared_value)
{
  double ns;
  guint64 hits = zipf_replay (row, trace, keys, strings, shared_value, &ns);

  if (hits == G_MAXUINT64)
    return FALSE;
  if (round > 0 && hits != row->hits)
    {
      row->error = g_strdup ("two replays of one trace scored differently");
      return FALSE;
    }
  row->hits = hits;
  row->best_ns = round == 0 ? ns : MIN (row->best_ns, ns);
  return TRUE;
}

/* Threads */

typedef struct
{
  NebulaComputeCache *cache;
  const guint        *trace;
  guint               offset;
  gboolean            wrong;
} ThreadWork;

static gpointer
thread_replay (gpointer data)
{
  ThreadWork *work = data;

  for (guint n = 0, i = work->offset; n < zipf_requests; n++, i = i + 1 == zipf_requests ? 0 : i + 1)
    if (G_UNLIKELY (nebula_compute_cache_get_or_compute_int (work->cache, work->trace[i], int_identity_cb,
                                                             NULL, NULL)
                    != GUINT_TO_POINTER (work->trace[i])))
      work->wrong = TRUE;
  return NULL;
}

static gboolean
thread_run_round (ThreadRow   *row,
                  const guint *trace)
{
  g_autoptr(NebulaComputeCache) cache = zipf_cache_new (ZIPF_INT, NEBULA_EVICTION_POLICY_LRU,
                                                        zipf_keys / 10, row->shards);
  g_autofree ThreadWork *work = g_new0 (ThreadWork, row->threads);
  g_autofree GThread **threads = g_new0 (GThread *, row->threads);
  guint64 cpu_start;
  double cpu_ns;
  gint64 start;
  gint64 elapsed;

  g_object_get (cache, "shards", &row->shards_used, NULL);
  cpu_start = process_cpu_ns ();
  start = g_get_monotonic_time ();
  for (guint t = 0; t < row->threads; t++)
    {
      work[t] = (ThreadWork) { cache, trace, t * (zipf_requests / row->threads), FALSE };
      threads[t] = g_thread_new ("bench-cache-zipf", thread_replay, &work[t]);
    }
  for (guint t = 0; t < row->threads; t++)
    g_thread_join (threads[t]);
  elapsed = g_get_monotonic_time () - start;

  for (guint t = 0; t < row->threads; t++)
    if (work[t].wrong)
      {
        row->error = g_strdup ("a lookup returned another key's value");
        return FALSE;
      }
  cpu_ns = (double) (process_cpu_ns () - cpu_start);
  if (elapsed * 1000.0 < row->best_ns)
    {
      row->best_ns = elapsed * 1000.0;
      row->best_wall_cpu_ns = cpu_ns;
    }
  row->best_cpu_ns = MIN (row->best_cpu_ns, cpu_ns);
  return TRUE;
}

void
nebula_bench_cache_zipf_set_threads (guint threads)
{
  threads_compared = threads;
}

gboolean
nebula_bench_cache_zipf_set_trace (const char  *path,
                                   GError     **error)
{
  guint *trace = file_trace_new (path, &file_keys, &file_requests, error);

  if (trace == NULL)
    return FALSE;
  g_free (file_trace);
  file_trace = trace;
  g_free (trace_path);
  trace_path = g_strdup (path);
  return TRUE;
}

gboolean
nebula_bench_cache_zipf_run (gboolean quick,
                             guint    rounds)
{
  g_autofree guint *trace = NULL;
  g_autoptr(GObject) shared_value = g_object_new (G_TYPE_OBJECT, NULL);
  GVariant **keys;
  char **strings;
  gboolean ok = TRUE;

  zipf_rounds = rounds > 0 ? rounds : quick ? 1 : ZIPF_ROUNDS;
  zipf_ran = TRUE;
  if (file_trace != NULL)
    {
      zipf_keys = file_keys;
      zipf_requests = file_requests;
      trace = g_memdup2 (file_trace, sizeof (guint) * file_requests);
    }
  else
    {
      zipf_keys = quick ? ZIPF_KEYS_QUICK : ZIPF_KEYS;
      zipf_requests = quick ? ZIPF_REQUESTS_QUICK : ZIPF_REQUESTS;
      trace = zipf_trace_new (zipf_keys, zipf_requests);
    }
  keys = g_new0 (GVariant *, zipf_keys + 1);
  strings = g_new0 (char *, zipf_keys + 2);
  for (guint k = 1; k <= zipf_keys; k++)
    {
      keys[k] = g_variant_ref_sink (g_variant_new_int64 (k));
      strings[k] = g_strdup_printf ("k%u", k);
    }

  /* Rounds go round the rows, so that every row samples the same moments
   * of a shared machine; the best round of each is its figure. */
  for (guint i = 0; i < G_N_ELEMENTS (zipf_rows); i++)
    zipf_rows[i].ran = TRUE;
  for (guint round = 0; round < zipf_rounds; round++)
    for (guint i = 0; i < G_N_ELEMENTS (zipf_rows); i++)
      if (zipf_rows[i].ran)
        zipf_rows[i].ran = zipf_run_round (&zipf_rows[i], round, trace, keys, strings, shared_value);
  for (guint i = 0; i < G_N_ELEMENTS (zipf_rows); i++)
    ok &= zipf_rows[i].ran;

  for (guint i = 0; i < G_N_ELEMENTS (thread_rows); i++)
    {
      if (thread_rows[i].threads != 1)
        thread_rows[i].threads = threads_compared;
      thread_rows[i].ran = TRUE;
      thread_rows[i].best_ns = thread_rows[i].best_cpu_ns = G_MAXDOUBLE;
    }
  for (guint round = 0; round < zipf_rounds; round++)
    for (guint i = 0; i < G_N_ELEMENTS (thread_rows); i++)
      if (thread_rows[i].ran)
        thread_rows[i].ran = thread_run_round (&thread_rows[i], trace);
  for (guint i = 0; i < G_N_ELEMENTS (thread_rows); i++)
    ok &= thread_rows[i].ran;

  /* The same trace on two LRUs must hit the same number of times. */
  for (guint i = 1; i < G_N_ELEMENTS (zipf_rows); i++)
    {
      ZipfRow *baseline = &zipf_rows[zipf_rows[i].baseline];

      if (zipf_rows[i].ran && baseline->ran && zipf_rows[i].api != ZIPF_VARIANT_READ &&
          zipf_rows[i].policy == NEBULA_EVICTION_POLICY_LRU && zipf_rows[i].hits != baseline->hits)
        {
          zipf_rows[i].ran = FALSE;
          zipf_rows[i].error = g_strdup_printf ("%" G_GUINT64_FORMAT " hits, the baseline LRU %"
                                                G_GUINT64_FORMAT, zipf_rows[i].hits, baseline->hits);
          ok = FALSE;
        }
    }

  for (guint k = 1; k <= zipf_keys; k++)
    {
      g_variant_unref (keys[k]);
      g_free (strings[k]);
    }
  g_free (keys);
  g_free (strings);
  return ok;
}

static const char *
zipf_policy_name (const ZipfRow *row)
{
  if (row->api == ZIPF_VARIANT_READ)
    return "-";
  return row->api == ZIPF_BASELINE || row->api == ZIPF_BASELINE_STRING
         ? "lru" : nebula_bench_cache_policy_nick (row->policy);
}

static double
lookups_per_s (const ZipfRow *row)
{
  return zipf_requests * 1e9 / row->best_ns;
}

static double
ratio_to_baseline (const ZipfRow *row)
{
  const ZipfRow *baseline = &zipf_rows[row->baseline];

  return baseline->ran ? lookups_per_s (row) / lookups_per_s (baseline) : 0;
}

/* The rows with an `x int API` column: the GVariant API's and its bound. */
static gboolean
compared_to_int_api (const ZipfRow *row)
{
  return row->api == ZIPF_VARIANT || row->api == ZIPF_VARIANT_READ ||
         row->api == ZIPF_VARIANT_NEW_KEY || row->api == ZIPF_VARIANT_UNLOCKED;
}

/* The GVariant rows against the integer keyed API of the same policy.
 * variant-read gives the bound of the variant LRU: the integer LRU's time
 * plus only the reading of the keys, against the integer LRU alone. */
static double
ratio_to_keyed (const ZipfRow *row)
{
  if (!compared_to_int_api (row))
    return 0;
  for (guint i = 0; i < G_N_ELEMENTS (zipf_rows); i++)
    if (zipf_rows[i].api == ZIPF_INT && zipf_rows[i].policy == row->policy && zipf_rows[i].ran)
      return row->api == ZIPF_VARIANT_READ
             ? zipf_rows[i].best_ns / (zipf_rows[i].best_ns + row->best_ns)
             : lookups_per_s (row) / lookups_per_s (&zipf_rows[i]);
  return 0;
}

static double
thread_lookups_per_s (const ThreadRow *row)
{
  return (double) zipf_requests * row->threads * 1e9 / row->best_ns;
}

/* What the threads did per second of the CPU time they got: on a machine
 * shared with other jobs two threads rarely run side by side, but lock
 * contention still shows here. */
static double
thread_lookups_per_cpu_s (const ThreadRow *row)
{
  return (double) zipf_requests * row->threads * 1e9 / row->best_cpu_ns;
}

/* Two threads against one on the same number of shards. */
static double
thread_speedup (const ThreadRow *row)
{
  for (guint i = 0; i < G_N_ELEMENTS (thread_rows); i++)
    if (thread_rows[i].shards == row->shards && thread_rows[i].threads == 1 && thread_rows[i].ran)
      return thread_lookups_per_s (row) / thread_lookups_per_s (&thread_rows[i]);
  return 0;
}

void
nebula_bench_cache_zipf_print_table (void)
{
  if (!zipf_ran)
    return;

  if (trace_path != NULL)
    printf ("\ncompute caches on the trace %s: %u requests over %u keys, room for %u;\n",
            trace_path, zipf_requests, zipf_keys, zipf_keys / 10);
  else
    printf ("\ncompute caches on a Zipf %.1f trace: %u requests over %u keys, room for %u;\n",
            ZIPF_EXPONENT, zipf_requests, zipf_keys, zipf_keys / 10);
  printf ("get-or-compute, best of %u replays on the process's CPU clock\n", zipf_rounds);
  printf ("  %-14s %-8s %9s %12s %12s %10s\n", "keys", "policy", "hit ratio", "Mlookups/s", "x baseline",
          "x int API");
  for (guint i = 0; i < G_N_ELEMENTS (zipf_rows); i++)
    {
      const ZipfRow *row = &zipf_rows[i];

      printf ("  %-14s %-8s ", row->name, zipf_policy_name (row));
      if (row->ran)
        {
          printf ("%8.2f%% %12.2f %12.2f", 100.0 * row->hits / zipf_requests,
                  lookups_per_s (row) / 1e6, ratio_to_baseline (row));
          if (compared_to_int_api (row))
            printf (" %10.2f", ratio_to_keyed (row));
          printf ("\n");
        }
      else
        printf ("failed: %s\n", row->error);
    }
  printf ("(baseline-lru: a GHashTable + GQueue LRU under a GMutex; int: new_for_ints() and\n"
          " get_or_compute_int(); int-untimed: the same with time-loads off; int-unlocked: with\n"
          " thread-safe off (no lock; the baseline keeps its mutex); pointer: new_full() with\n"
          " g_direct_hash; variant: int64 GVariant keys built once, GObject values; baseline-str:\n"
          " the baseline with g_str_hash and a copy of each key stored; string: new_for_strings(),\n"
          " against baseline-str; x int API: variant against int, same policy; variant-read: no\n"
          " cache, only each key's type and bytes read (g_variant_get_type_string(),\n"
          " g_variant_get_data()) as any GVariant lookup must; its x int API is the int LRU's\n"
          " time against that time plus this one: the bound of a variant LRU with these keys;\n"
          " variant-newkey: a new floating int64 key per lookup, as Python and gjs pass;\n"
          " variant-nolock: held keys, thread-safe off: what hits without the lock could gain)\n");

  printf ("\nthreads on one integer-keyed LRU (each thread replays the whole trace), wall clock,\n"
          "best of %u rounds\n", zipf_rounds);
  printf ("  %-7s %-8s %12s %14s %16s %9s %9s %9s\n", "shards", "threads", "Mlookups/s", "x one thread",
          "Mlookups/CPU s", "wall ms", "CPU ms", "CPU/wall");
  for (guint i = 0; i < G_N_ELEMENTS (thread_rows); i++)
    {
      const ThreadRow *row = &thread_rows[i];

      printf ("  %-7u %-8u ", row->shards_used, row->threads);
      if (row->ran)
        printf ("%12.2f %14.2f %16.2f %9.1f %9.1f %9.2f\n", thread_lookups_per_s (row) / 1e6,
                thread_speedup (row), thread_lookups_per_cpu_s (row) / 1e6, row->best_ns / 1e6,
                row->best_wall_cpu_ns / 1e6, row->best_wall_cpu_ns / row->best_ns);
      else
        printf ("failed: %s\n", row->error);
    }
  printf ("(wall ms, CPU ms: the round with the best wall clock; CPU/wall is the cores the\n"
          " threads had on average: 2 when two threads ran side by side all along, below 1 when\n"
          " other jobs took the core)\n");
}

static char *
plain (const char *text)
{
  return g_strcanon (g_strdup (text), G_CSET_A_2_Z G_CSET_a_2_z G_CSET_DIGITS " ,.-:/_", ' ');
}

void
nebula_bench_cache_zipf_append_json (GString *out)
{
  if (!zipf_ran)
    return;

  if (trace_path != NULL)
    {
      g_autofree char *path = plain (trace_path);

      g_string_append_printf (out, "    \"zipf\": { \"trace\": \"%s\", ", path);
    }
  else
    g_string_append_printf (out, "    \"zipf\": { \"exponent\": %.1f, ", ZIPF_EXPONENT);
  g_string_append_printf (out, "\"keys\": %u, \"requests\": %u, "
                          "\"capacity\": %u, \"rounds\": %u, \"rows\": [",
                          zipf_keys, zipf_requests, zipf_keys / 10, zipf_rounds);
  for (guint i = 0; i < G_N_ELEMENTS (zipf_rows); i++)
    {
      const ZipfRow *row = &zipf_rows[i];

      g_string_append_printf (out, "%s\n      { \"keys\": \"%s\", \"policy\": \"%s\", ",
                              i == 0 ? "" : ",", row->name, zipf_policy_name (row));
      if (row->ran)
        {
          g_string_append_printf (out, "\"status\": \"ok\", \"ops\": %u, \"hit_ratio\": %.6f, "
                                  "\"lookups_per_cpu_s\": %.0f, \"ratio_to_baseline\": %.4f",
                                  zipf_requests, (double) row->hits / zipf_requests,
                                  lookups_per_s (row), ratio_to_baseline (row));
          if (compared_to_int_api (row))
            g_string_append_printf (out, ", \"ratio_to_int_api\": %.4f", ratio_to_keyed (row));
          g_string_append (out, " }");
        }
      else
        {
          g_autofree char *error = plain (row->error);

          g_string_append_printf (out, "\"status\": \"%s\" }", error);
        }
    }
  g_string_append (out, "\n    ], \"threads\": [");
  for (guint i = 0; i < G_N_ELEMENTS (thread_rows); i++)
    {
      const ThreadRow *row = &thread_rows[i];

      g_string_append_printf (out, "%s\n      { \"shards\": %u, \"threads\": %u, ",
                              i == 0 ? "" : ",", row->shards_used, row->threads);
      if (row->ran)
        g_string_append_printf (out, "\"status\": \"ok\", \"lookups_per_s\": %.0f, "
                                "\"ratio_to_one_thread\": %.4f, \"lookups_per_cpu_s\": %.0f, "
                                "\"wall_ns\": %.0f, \"cpu_ns\": %.0f, \"cpu_per_wall\": %.4f }",
                                thread_lookups_per_s (row), thread_speedup (row),
                                thread_lookups_per_cpu_s (row), row->best_ns, row->best_wall_cpu_ns,
                                row->best_wall_cpu_ns / row->best_ns);
      else
        {
          g_autofree char *error = plain (row->error);

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
      const char *prefix = row->api == ZIPF_BASELINE || row->api == ZIPF_BASELINE_STRING
                           ? "" : "compute-cache-";

      if (row->ran)
        printf ("cache,%s%s,zipf-%s,ok,%u,%.4f,,,%.4f,\n", prefix, row->name, zipf_policy_name (row),
                zipf_requests, row->best_ns / zipf_requests, ratio_to_baseline (row));
      else
        printf ("cache,%s%s,zipf-%s,failed,,,,,,\n", prefix, row->name, zipf_policy_name (row));
    }
}
