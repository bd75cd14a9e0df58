/* test-compute-cache-keyed.c: the keyed API (strings, integers), shards,
 * GVariant keys compared by value, time-loads and the S3-FIFO ghost queue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <nebula.h>

#include "nebula-cache-ghost-private.h"
#include "nebula-cache-key-private.h"
#include "nebula-cache-lock-private.h"

typedef struct
{
  guint computed;
  guint destroyed;
} Counts;

static Counts counts;

static void
counted_free (gpointer data)
{
  counts.destroyed++;
  g_free (data);
}

static gpointer
string_compute_cb (const char  *key,
                   gpointer     user_data,
                   GError     **error)
{
  counts.computed++;
  if (g_str_has_prefix (key, "fail"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no %s", key);
      return NULL;
    }
  return g_strdup_printf ("value of %s", key);
}

static gpointer
int_compute_cb (gint64    key,
                gpointer  user_data,
                GError  **error)
{
  counts.computed++;
  if (key == 13)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "unlucky");
      return NULL;
    }
  return g_strdup_printf ("%" G_GINT64_FORMAT, key);
}

static void
assert_requests_add_up (NebulaComputeCache *cache)
{
  g_autoptr(NebulaCacheStats) stats = nebula_compute_cache_get_stats (cache);

  g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);
}

static void
test_strings (void)
{
  g_autoptr(GError) error = NULL;
  NebulaComputeCache *cache;
  char key[16] = "alpha";
  const char *first;
  const char *again;

  counts = (Counts) { 0 };
  cache = nebula_compute_cache_new_for_strings (counted_free,
                                                "policy", NEBULA_EVICTION_POLICY_LRU,
                                                "max-entries", 2,
                                                NULL);

  first = nebula_compute_cache_get_or_compute_string (cache, key, string_compute_cb, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first, ==, "value of alpha");

  /* The cache copied the key: the caller's buffer may change. */
  strcpy (key, "beta");
  g_assert_null (nebula_compute_cache_get_string (cache, key));
  again = nebula_compute_cache_get_or_compute_string (cache, "alpha", string_compute_cb, NULL, &error);
  g_assert_true (again == first);
  g_assert_cmpuint (counts.computed, ==, 1);

  /* An error is returned and nothing is stored. */
  g_assert_null (nebula_compute_cache_get_or_compute_string (cache, "fail-1", string_compute_cb,
                                                             NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (nebula_compute_cache_get_string (cache, "fail-1"));

  /* LRU with room for two: alpha was used last, so beta goes. */
  g_assert_nonnull (nebula_compute_cache_get_or_compute_string (cache, "beta", string_compute_cb, NULL, NULL));
  g_assert_nonnull (nebula_compute_cache_get_string (cache, "alpha"));
  g_assert_nonnull (nebula_compute_cache_get_or_compute_string (cache, "gamma", string_compute_cb, NULL, NULL));
  g_assert_null (nebula_compute_cache_get_string (cache, "beta"));
  g_assert_cmpstr (nebula_compute_cache_get_string (cache, "alpha"), ==, "value of alpha");
  g_assert_cmpuint (counts.destroyed, ==, 1);

  /* Insert replaces (the old value is freed), invalidate removes. */
  g_assert_true (nebula_compute_cache_insert_string (cache, "gamma", g_strdup ("new"), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counts.destroyed, ==, 2);
  g_assert_cmpstr (nebula_compute_cache_get_string (cache, "gamma"), ==, "new");
  g_assert_true (nebula_compute_cache_invalidate_string (cache, "gamma"));
  g_assert_false (nebula_compute_cache_invalidate_string (cache, "gamma"));
  g_assert_false (nebula_compute_cache_invalidate_string (cache, NULL));
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 1);

  /* Bad input: errors, no crash, nothing computed or stored. */
  g_assert_null (nebula_compute_cache_get_or_compute_string (cache, NULL, string_compute_cb, NULL, &error));
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY);
  g_clear_error (&error);
  g_assert_false (nebula_compute_cache_insert_string (cache, NULL, g_strdup ("x"), &error));
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY);
  g_clear_error (&error);
  g_assert_false (nebula_compute_cache_insert_string (cache, "delta", NULL, &error));
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_null (nebula_compute_cache_get_string (cache, NULL));
  g_assert_cmpuint (counts.computed, ==, 4);

  assert_requests_add_up (cache);
  g_object_unref (cache);
  /* Every value the cache held was freed: 4 computed and stored or
   * inserted (alpha, beta, gamma, new gamma) and the refused "x". */
  g_assert_cmpuint (counts.destroyed, ==, 5);
}

static void
test_ints (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaComputeCache) cache = NULL;
  const gint64 keys[] = { 0, -1, 1, G_MININT64, G_MAXINT64, G_GINT64_CONSTANT (1) << 32 };

  counts = (Counts) { 0 };
  cache = nebula_compute_cache_new_for_ints (counted_free, "max-entries", 100, NULL);

  for (guint round = 0; round < 2; round++)
    for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
      {
        g_autofree char *expected = g_strdup_printf ("%" G_GINT64_FORMAT, keys[i]);
        const char *value = nebula_compute_cache_get_or_compute_int (cache, keys[i], int_compute_cb,
                                                                     NULL, &error);

        g_assert_no_error (error);
        g_assert_cmpstr (value, ==, expected);
      }
  g_assert_cmpuint (counts.computed, ==, G_N_ELEMENTS (keys));
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, G_N_ELEMENTS (keys));

  g_assert_null (nebula_compute_cache_get_or_compute_int (cache, 13, int_compute_cb, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (nebula_compute_cache_get_int (cache, 13));

  g_assert_true (nebula_compute_cache_insert_int (cache, 13, g_strdup ("inserted"), &error));
  g_assert_no_error (error);
  g_assert_cmpstr (nebula_compute_cache_get_int (cache, 13), ==, "inserted");
  g_assert_false (nebula_compute_cache_insert_int (cache, 14, NULL, &error));
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_true (nebula_compute_cache_invalidate_int (cache, G_MININT64));
  g_assert_false (nebula_compute_cache_invalidate_int (cache, G_MININT64));
  g_assert_null (nebula_compute_cache_get_int (cache, G_MININT64));

  assert_requests_add_up (cache);
  nebula_compute_cache_invalidate_all (cache);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 0);
  g_assert_cmpuint (counts.destroyed, ==, G_N_ELEMENTS (keys) + 1);
}

/* A function of another kind of key is a programmer error: a critical,
 * nothing done. */
static void
test_wrong_kind (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(NebulaComputeCache) strings = nebula_compute_cache_new_for_strings (NULL, NULL);

      g_assert_null (nebula_compute_cache_get_int (strings, 1));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*NEBULA_CACHE_KEYS_INT*");
}

/* The keyed API scores exactly as the pointer API on the same trace: same
 * policies, same order of events; without locks (thread-safe FALSE) the
 * counters are the same. */
static gpointer
pointer_identity_cb (gconstpointer   key,
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

static gint64 fake_now;

static gint64
fake_clock (gpointer user_data)
{
  return fake_now;
}

static void
test_same_hits_as_pointer_api (void)
{
  const NebulaEvictionPolicy policies[] = {
    NEBULA_EVICTION_POLICY_LRU, NEBULA_EVICTION_POLICY_FIFO, NEBULA_EVICTION_POLICY_LFU,
    NEBULA_EVICTION_POLICY_TTL, NEBULA_EVICTION_POLICY_S3_FIFO,
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);
  guint trace[20000];

  /* Skewed keys 1..2000: the smaller, the likelier. */
  for (guint i = 0; i < G_N_ELEMENTS (trace); i++)
    trace[i] = 1 + (guint) (2000 * g_rand_double (rand) * g_rand_double (rand));

  for (guint p = 0; p < G_N_ELEMENTS (policies); p++)
    {
      g_autoptr(NebulaComputeCache) pointer = NULL;
      g_autoptr(NebulaComputeCache) keyed = NULL;
      g_autoptr(NebulaComputeCache) unlocked = NULL;
      g_autoptr(NebulaCacheStats) pointer_stats = NULL;
      g_autoptr(NebulaCacheStats) keyed_stats = NULL;
      g_autoptr(NebulaCacheStats) unlocked_stats = NULL;
      gboolean thread_safe;
      guint64 ttl = policies[p] == NEBULA_EVICTION_POLICY_TTL ? 300 : 0;

      pointer = nebula_compute_cache_new_full (g_direct_hash, g_direct_equal, NULL, NULL,
                                               "policy", policies[p], "max-entries", 200,
                                               "time-to-live", ttl, NULL);
      keyed = nebula_compute_cache_new_for_ints (NULL, "policy", policies[p], "max-entries", 200,
                                                 "time-to-live", ttl, NULL);
      unlocked = nebula_compute_cache_new_for_ints (NULL, "policy", policies[p], "max-entries", 200,
                                                    "time-to-live", ttl, "thread-safe", FALSE, NULL);
      g_object_get (unlocked, "thread-safe", &thread_safe, NULL);
      g_assert_false (thread_safe);
      nebula_compute_cache_set_clock (pointer, fake_clock, NULL, NULL);
      nebula_compute_cache_set_clock (keyed, fake_clock, NULL, NULL);
      nebula_compute_cache_set_clock (unlocked, fake_clock, NULL, NULL);
      fake_now = 0;
      for (guint i = 0; i < G_N_ELEMENTS (trace); i++, fake_now++)
        {
          g_assert_true (nebula_compute_cache_get_or_compute_pointer (pointer, GUINT_TO_POINTER (trace[i]),
                                                                      pointer_identity_cb, NULL, NULL)
                         == GUINT_TO_POINTER (trace[i]));
          g_assert_true (nebula_compute_cache_get_or_compute_int (keyed, trace[i], int_identity_cb, NULL, NULL)
                         == GUINT_TO_POINTER (trace[i]));
          g_assert_true (nebula_compute_cache_get_or_compute_int (unlocked, trace[i], int_identity_cb, NULL, NULL)
                         == GUINT_TO_POINTER (trace[i]));
        }
      pointer_stats = nebula_compute_cache_get_stats (pointer);
      keyed_stats = nebula_compute_cache_get_stats (keyed);
      g_test_message ("policy %u: %" G_GUINT64_FORMAT " hits of %u", p, keyed_stats->hits,
                      (guint) G_N_ELEMENTS (trace));
      g_assert_cmpuint (keyed_stats->hits, >, 0);
      g_assert_cmpuint (keyed_stats->hits, ==, pointer_stats->hits);
      g_assert_cmpuint (keyed_stats->evictions, ==, pointer_stats->evictions);
      g_assert_cmpuint (keyed_stats->expirations, ==, pointer_stats->expirations);
      unlocked_stats = nebula_compute_cache_get_stats (unlocked);
      unlocked_stats->load_time_us = keyed_stats->load_time_us = 0;   /* the clock's, not the cache's */
      g_assert_cmpmem (unlocked_stats, sizeof *unlocked_stats, keyed_stats, sizeof *keyed_stats);
    }
}

/* Shards */

static void
test_shards_property (void)
{
  g_autoptr(NebulaComputeCache) plain = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 100);
  g_autoptr(NebulaComputeCache) three = NULL;
  g_autoptr(NebulaComputeCache) automatic = NULL;
  g_autoptr(NebulaComputeCache) tiny = NULL;
  guint shards;
  guint expected = 1;

  g_object_get (plain, "shards", &shards, NULL);
  g_assert_cmpuint (shards, ==, 1);

  three = g_object_new (NEBULA_TYPE_COMPUTE_CACHE, "shards", 3, NULL);
  g_object_get (three, "shards", &shards, NULL);
  g_assert_cmpuint (shards, ==, 4);

  automatic = g_object_new (NEBULA_TYPE_COMPUTE_CACHE, "shards", 0, NULL);
  g_object_get (automatic, "shards", &shards, NULL);
  while (expected < 2 * (guint) g_get_num_processors () && expected < 256)
    expected <<= 1;
  g_assert_cmpuint (shards, ==, expected);

  /* No shard gets a bound of 0 (which would mean no bound). */
  tiny = nebula_compute_cache_new_for_ints (NULL, "max-entries", 3, "shards", 64, NULL);
  g_object_get (tiny, "shards", &shards, NULL);
  g_assert_cmpuint (shards, ==, 2);
}

static guint64
weight_is_value_cb (gconstpointer key,
                    gconstpointer value,
                    gpointer      user_data)
{
  return GPOINTER_TO_SIZE (value);
}

static void
test_shards_bounds (void)
{
  g_autoptr(NebulaComputeCache) cache = NULL;
  g_autoptr(NebulaComputeCache) weighed = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  g_autoptr(GError) error = NULL;

  /* The shares of max-entries add up to it: never more entries. */
  cache = nebula_compute_cache_new_for_ints (NULL, "policy", NEBULA_EVICTION_POLICY_S3_FIFO,
                                             "max-entries", 1000, "shards", 8, NULL);
  for (gint64 key = 1; key <= 20000; key++)
    {
      g_assert_true (nebula_compute_cache_get_or_compute_int (cache, key % 3000 + 1, int_identity_cb,
                                                              NULL, NULL)
                     == GSIZE_TO_POINTER (key % 3000 + 1));
      g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), <=, 1000);
    }
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), >, 900);
  stats = nebula_compute_cache_get_stats (cache);
  g_assert_cmpuint (stats->requests, ==, 20000);
  g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);
  g_assert_cmpuint (stats->insertions, ==, stats->misses);
  g_assert_cmpuint (stats->insertions - stats->evictions, ==, nebula_compute_cache_get_n_entries (cache));
  nebula_compute_cache_invalidate_all (cache);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 0);

  /* max-weight 40 over 4 shards: 10 each. */
  weighed = nebula_compute_cache_new_for_ints (NULL, "max-weight", G_GUINT64_CONSTANT (40),
                                               "shards", 4, NULL);
  nebula_compute_cache_set_pointer_weigher (weighed, weight_is_value_cb, NULL, NULL);
  g_assert_true (nebula_compute_cache_insert_int (weighed, 1, GSIZE_TO_POINTER (10), &error));
  g_assert_no_error (error);
  g_assert_false (nebula_compute_cache_insert_int (weighed, 2, GSIZE_TO_POINTER (11), &error));
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_OVERFLOW);
  g_assert_nonnull (strstr (error->message, "split across 4 shards"));
  g_assert_cmpuint (nebula_compute_cache_get_weight (weighed), ==, 10);
}

/* Threads on a sharded cache: every answer is the key's value, and the
 * counters add up. Runs under TSan (suite threads). */
#define THREAD_OPS 20000

static gpointer
thread_work (gpointer data)
{
  NebulaComputeCache *cache = data;
  g_autoptr(GRand) rand = g_rand_new ();

  for (guint i = 0; i < THREAD_OPS; i++)
    {
      gint64 key = 1 + g_rand_int_range (rand, 0, 500);

      switch (i % 16)
        {
        case 0:
          nebula_compute_cache_invalidate_int (cache, key);
          break;
        case 1:
          nebula_compute_cache_insert_int (cache, key, GSIZE_TO_POINTER ((gsize) key), NULL);
          break;
        default:
          g_assert_true (nebula_compute_cache_get_or_compute_int (cache, key, int_identity_cb, NULL, NULL)
                         == GSIZE_TO_POINTER ((gsize) key));
        }
    }
  return NULL;
}

static void
test_shards_threads (void)
{
  g_autoptr(NebulaComputeCache) cache = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  GThread *threads[4];

  cache = nebula_compute_cache_new_for_ints (NULL, "policy", NEBULA_EVICTION_POLICY_LRU,
                                             "max-entries", 200, "shards", 4, NULL);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    threads[t] = g_thread_new ("keyed", thread_work, cache);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_thread_join (threads[t]);

  stats = nebula_compute_cache_get_stats (cache);
  g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);
  g_assert_cmpuint (stats->requests, ==, G_N_ELEMENTS (threads) * THREAD_OPS * 14 / 16);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), <=, 200);
}

/* Hits without the lock (nebula-cache-hits-private.h): two threads hit the
 * same hot keys while a third stores, evicts, invalidates and, in the
 * unbounded cache, makes the table grow under the readers. Every answer is
 * the key's value and the counters add up. Runs under TSan. */
typedef struct
{
  NebulaComputeCache *cache;
  guint               seed;
  guint               n_keys;
} LockFreeWork;

static gpointer
lock_free_reader (gpointer data)
{
  LockFreeWork *work = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (work->seed);

  for (guint i = 0; i < THREAD_OPS; i++)
    {
      /* Skewed: the smaller keys are hit the most. */
      gint64 key = 1 + (gint64) (work->n_keys * g_rand_double (rand) * g_rand_double (rand));
      gpointer value = nebula_compute_cache_get_int (work->cache, key);

      g_assert_true (value == NULL || value == GSIZE_TO_POINTER ((gsize) key));
      g_assert_true (nebula_compute_cache_get_or_compute_int (work->cache, key, int_identity_cb, NULL, NULL)
                     == GSIZE_TO_POINTER ((gsize) key));
    }
  return NULL;
}

static gpointer
lock_free_writer (gpointer data)
{
  LockFreeWork *work = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (work->seed);

  for (guint i = 0; i < THREAD_OPS; i++)
    {
      gint64 key = 1 + g_rand_int_range (rand, 0, (gint32) work->n_keys);

      if (i % 3 == 0)
        nebula_compute_cache_invalidate_int (work->cache, key);
      else
        nebula_compute_cache_insert_int (work->cache, key, GSIZE_TO_POINTER ((gsize) key), NULL);
    }
  return NULL;
}

static void
test_lock_free_hits_threads (void)
{
  const NebulaEvictionPolicy policies[] = {
    NEBULA_EVICTION_POLICY_LRU, NEBULA_EVICTION_POLICY_LFU, NEBULA_EVICTION_POLICY_S3_FIFO,
    NEBULA_EVICTION_POLICY_FIFO,
  };
  const guint shards[] = { 1, 64 };

  for (guint p = 0; p < G_N_ELEMENTS (policies); p++)
    for (guint s = 0; s < G_N_ELEMENTS (shards); s++)
      for (guint bounded = 0; bounded < 2; bounded++)
        {
          g_autoptr(NebulaComputeCache) cache = NULL;
          g_autoptr(NebulaCacheStats) stats = NULL;
          LockFreeWork work[3];
          GThread *threads[3];

          cache = nebula_compute_cache_new_for_ints (NULL, "policy", policies[p],
                                                     "max-entries", bounded ? 100 : 0,
                                                     "shards", shards[s], NULL);
          for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
            {
              work[t] = (LockFreeWork) { cache, 100 + t, bounded ? 400 : 5000 };
              threads[t] = g_thread_new ("lock-free", t == 2 ? lock_free_writer : lock_free_reader,
                                         &work[t]);
            }
          for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
            g_thread_join (threads[t]);

          stats = nebula_compute_cache_get_stats (cache);
          g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);
          g_assert_cmpuint (stats->requests, ==, 2 * 2 * THREAD_OPS);
          g_assert_cmpuint (stats->hits, >, 0);
          if (bounded)
            g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), <=, 100);
        }
}

/* The shard lock excludes: threads add to a plain counter under it, some
 * holding it long (a waiter then sleeps), the others briefly (a waiter
 * spins, or sleeps when it loses the lock it saw free). */
#define LOCK_THREADS 4
#define LOCK_ROUNDS 20000

typedef struct
{
  NebulaCacheLock lock;
  guint64         counter;
} LockedCounter;

static gpointer
lock_adder (gpointer data)
{
  LockedCounter *shared = data;

  for (guint i = 0; i < LOCK_ROUNDS; i++)
    {
      nebula_cache_lock_acquire (&shared->lock);
      shared->counter++;
      if (i % 2000 == 0)
        g_usleep (200);
      nebula_cache_lock_release (&shared->lock);
    }
  return NULL;
}

static void
test_shard_lock_excludes (void)
{
  LockedCounter shared = { 0, 0 };
  GThread *threads[LOCK_THREADS];

  for (guint t = 0; t < LOCK_THREADS; t++)
    threads[t] = g_thread_new ("lock", lock_adder, &shared);
  for (guint t = 0; t < LOCK_THREADS; t++)
    g_thread_join (threads[t]);
  g_assert_cmpuint (shared.counter, ==, (guint64) LOCK_THREADS * LOCK_ROUNDS);
  /* Released by its last holder, no sleeper left marked. */
  g_assert_cmpuint (shared.lock, ==, 0);
}

/* With one thread, hits that skip the lock keep the exact LRU order: more
 * hits than a stripe holds, then a store that evicts. */
static void
test_lock_free_hits_order (void)
{
  g_autoptr(NebulaComputeCache) cache = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;

  cache = nebula_compute_cache_new_for_ints (NULL, "policy", NEBULA_EVICTION_POLICY_LRU,
                                             "max-entries", 40, NULL);
  for (gint64 key = 1; key <= 40; key++)
    g_assert_true (nebula_compute_cache_insert_int (cache, key, GSIZE_TO_POINTER ((gsize) key), NULL));
  /* Hit keys 1..39, oldest first: key 40 becomes the least recent. */
  for (gint64 key = 1; key < 40; key++)
    g_assert_true (nebula_compute_cache_get_int (cache, key) == GSIZE_TO_POINTER ((gsize) key));
  g_assert_true (nebula_compute_cache_insert_int (cache, 41, GSIZE_TO_POINTER (41), NULL));
  g_assert_null (nebula_compute_cache_get_int (cache, 40));
  for (gint64 key = 1; key <= 39; key++)
    g_assert_nonnull (nebula_compute_cache_get_int (cache, key));
  /* Now 41 is the least recent. */
  g_assert_true (nebula_compute_cache_insert_int (cache, 42, GSIZE_TO_POINTER (42), NULL));
  g_assert_null (nebula_compute_cache_get_int (cache, 41));

  stats = nebula_compute_cache_get_stats (cache);
  g_assert_cmpuint (stats->hits, ==, 39 + 39);
  g_assert_cmpuint (stats->misses, ==, 2);
  g_assert_cmpuint (stats->requests, ==, 39 + 39 + 2);
}

/* Once a second thread's hits have been applied, LRU is CLOCK (docs/caches.md,
 * "Threads and shards"): the entries, in LRU order, become a ring under a
 * hand; a hit marks its entry and moves nothing; to make room the hand
 * unmarks each marked entry it passes and evicts the first unmarked one,
 * whose slot the new entry takes. The test above shows the exact order of
 * one thread. */
static gpointer
hit_key_one (gpointer data)
{
  g_assert_true (nebula_compute_cache_get_int (data, 1) == GSIZE_TO_POINTER (1));
  return NULL;
}

static void
insert_key (NebulaComputeCache *cache,
            gint64              key)
{
  g_assert_true (nebula_compute_cache_insert_int (cache, key, GSIZE_TO_POINTER ((gsize) key), NULL));
}

/* An LRU cache of 4 entries, 1 shard, turned to CLOCK: ring 1, 5, 3, 4,
 * the hand at 3, nothing marked. */
static NebulaComputeCache *
clock_cache_new (void)
{
  NebulaComputeCache *cache;

  cache = nebula_compute_cache_new_for_ints (NULL, "policy", NEBULA_EVICTION_POLICY_LRU,
                                             "max-entries", 4, "shards", 1, NULL);
  for (gint64 key = 1; key <= 4; key++)
    insert_key (cache, key);
  /* Another thread hits key 1; the next store applies that hit, which now
   * marks key 1, and makes room: the ring is 1, 2, 3, 4 from the hand; key
   * 1 gets its second chance (unmarked), key 2 goes and key 5 takes its
   * slot. */
  g_thread_join (g_thread_new ("second", hit_key_one, cache));
  insert_key (cache, 5);
  g_assert_null (nebula_compute_cache_get_int (cache, 2));
  return cache;
}

static void
test_lock_free_hits_several_threads (void)
{
  g_autoptr(NebulaComputeCache) cache = clock_cache_new ();
  g_autoptr(NebulaCacheStats) stats = NULL;

  /* Hits on 4, then 3: both marked, neither moved. Key 6 passes over 3
   * and 4 (unmarking them) and evicts 1, as exact LRU would; key 7 evicts
   * 5, as LRU would. Then LRU, which moved 4 then 3 at their hits, would
   * evict 4; CLOCK, whose hand reaches 3 first, evicts 3. */
  g_assert_true (nebula_compute_cache_get_int (cache, 4) == GSIZE_TO_POINTER (4));
  g_assert_true (nebula_compute_cache_get_int (cache, 3) == GSIZE_TO_POINTER (3));
  insert_key (cache, 6);
  g_assert_null (nebula_compute_cache_get_int (cache, 1));
  insert_key (cache, 7);
  g_assert_null (nebula_compute_cache_get_int (cache, 5));
  insert_key (cache, 8);
  g_assert_null (nebula_compute_cache_get_int (cache, 3));
  g_assert_true (nebula_compute_cache_get_int (cache, 4) == GSIZE_TO_POINTER (4));

  stats = nebula_compute_cache_get_stats (cache);
  g_assert_cmpuint (stats->hits, ==, 1 + 2 + 1);
  g_assert_cmpuint (stats->misses, ==, 4);
  g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);
  g_assert_cmpuint (stats->evictions, ==, 4);
}

/* CLOCK's holes: an invalidated entry leaves its slot empty, and the next
 * entry stored takes it, marked (it may lie just ahead of the hand). */
static void
test_lock_free_hits_clock_holes (void)
{
  g_autoptr(NebulaComputeCache) cache = clock_cache_new ();
  g_autoptr(NebulaCacheStats) stats = NULL;

  /* 3 leaves a hole under the hand; 6 fills it, marked, without evicting. */
  g_assert_true (nebula_compute_cache_invalidate_int (cache, 3));
  insert_key (cache, 6);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 4);
  /* 7: the hand unmarks 6 and evicts 4; 8: the hand evicts 1. */
  insert_key (cache, 7);
  g_assert_null (nebula_compute_cache_get_int (cache, 4));
  insert_key (cache, 8);
  g_assert_null (nebula_compute_cache_get_int (cache, 1));
  for (gint64 key = 5; key <= 8; key++)
    g_assert_true (nebula_compute_cache_get_int (cache, key) == GSIZE_TO_POINTER ((gsize) key));

  stats = nebula_compute_cache_get_stats (cache);
  g_assert_cmpuint (stats->evictions, ==, 3);
  g_assert_cmpuint (stats->invalidations, ==, 1);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 4);
}

/* A miss that the lock-free read proved takes the lock once, to store; its
 * request is counted all the same. */
static void
test_lock_free_misses_counted (void)
{
  g_autoptr(NebulaComputeCache) cache = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;

  counts = (Counts) { 0 };
  cache = nebula_compute_cache_new_for_ints (g_free, "policy", NEBULA_EVICTION_POLICY_LRU,
                                             "max-entries", 64, "shards", 2, NULL);
  for (guint round = 0; round < 2; round++)
    for (gint64 key = 1; key <= 6; key++)
      {
        g_autofree char *expected = g_strdup_printf ("%" G_GINT64_FORMAT, key);

        g_assert_cmpstr (nebula_compute_cache_get_or_compute_int (cache, key, int_compute_cb, NULL, NULL),
                         ==, expected);
      }
  g_assert_cmpuint (counts.computed, ==, 6);
  stats = nebula_compute_cache_get_stats (cache);
  g_assert_cmpuint (stats->misses, ==, 6);
  g_assert_cmpuint (stats->hits, ==, 6);
  g_assert_cmpuint (stats->requests, ==, 12);
  g_assert_cmpuint (stats->loads_ok, ==, 6);
  g_assert_cmpuint (stats->insertions, ==, 6);
}

/* A miss's loads, stores and removals, counted in the thread's stripe of
 * a shard with lock-free hits (more threads than stripes, so that some
 * share one), add up exactly once the threads are done: every miss
 * computed, every computation counted, every entry stored is in the cache
 * or was counted leaving it. Runs under TSan. */
#define STATS_THREADS 6

typedef struct
{
  NebulaComputeCache *cache;
  guint               seed;
  guint64             requests;
  guint64             failed;
  guint64             invalidated;
} StatsWork;

static gpointer
int_sevens_fail_cb (gint64    key,
                  gpointer  user_data,
                  GError  **error)
{
  if (key % 7 == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "seven");
      return NULL;
    }
  return GSIZE_TO_POINTER ((gsize) key);
}

static gpointer
stats_worker (gpointer data)
{
  StatsWork *work = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (work->seed);

  for (guint i = 0; i < THREAD_OPS; i++)
    {
      gint64 key = 1 + (gint64) (600 * g_rand_double (rand) * g_rand_double (rand));

      if (i % 50 == 0)
        work->invalidated += nebula_compute_cache_invalidate_int (work->cache, key);
      else if (i % 50 == 1 && key % 7 != 0)
        nebula_compute_cache_insert_int (work->cache, key, GSIZE_TO_POINTER ((gsize) key), NULL);
      else
        {
          g_autoptr(GError) error = NULL;
          gpointer value = nebula_compute_cache_get_or_compute_int (work->cache, key, int_sevens_fail_cb,
                                                                    NULL, &error);

          work->requests++;
          if (value == NULL)
            {
              g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
              work->failed++;
            }
          else
            g_assert_true (value == GSIZE_TO_POINTER ((gsize) key));
        }
    }
  return NULL;
}

static void
test_lock_free_stats_threads (void)
{
  const guint shards[] = { 1, 4, 64 };

  for (guint s = 0; s < G_N_ELEMENTS (shards); s++)
    {
      g_autoptr(NebulaComputeCache) cache = NULL;
      g_autoptr(NebulaCacheStats) stats = NULL;
      StatsWork work[STATS_THREADS];
      GThread *threads[STATS_THREADS];
      guint64 requests = 0;
      guint64 failed = 0;
      guint64 invalidated = 0;
      guint64 left;

      cache = nebula_compute_cache_new_for_ints (NULL, "policy", NEBULA_EVICTION_POLICY_LRU,
                                                 "max-entries", 128, "shards", shards[s],
                                                 "time-loads", FALSE, NULL);
      for (guint t = 0; t < STATS_THREADS; t++)
        {
          work[t] = (StatsWork) { cache, 200 + t, 0, 0, 0 };
          threads[t] = g_thread_new ("stats", stats_worker, &work[t]);
        }
      for (guint t = 0; t < STATS_THREADS; t++)
        {
          g_thread_join (threads[t]);
          requests += work[t].requests;
          failed += work[t].failed;
          invalidated += work[t].invalidated;
        }

      stats = nebula_compute_cache_get_stats (cache);
      g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);
      g_assert_cmpuint (stats->requests, ==, requests);
      g_assert_cmpuint (stats->misses, ==, stats->loads_ok + stats->loads_failed);
      g_assert_cmpuint (stats->loads_failed, ==, failed);
      g_assert_cmpuint (stats->invalidations, ==, invalidated);
      g_assert_cmpuint (stats->evictions, >, 0);
      g_assert_cmpuint (stats->load_time_us, ==, 0);
      g_assert_cmpuint (stats->expirations, ==, 0);
      left = stats->evictions + stats->invalidations + stats->replacements;
      g_assert_cmpuint (stats->insertions, ==, left + nebula_compute_cache_get_n_entries (cache));
    }
}

/* GVariant keys */

static GObject *
object_cb (GVariant  *key,
           gpointer   user_data,
           GError   **error)
{
  counts.computed++;
  return g_object_new (G_TYPE_OBJECT, NULL);
}

static void
test_variant_keys_by_value (void)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 100);
  const guint8 bytes[8] = { 7, 0, 0, 0, 0, 0, 0, 0 };
  const guint8 short_bytes[3] = { 1, 2, 3 };
  double zero = 0.0;
  double minus_zero = -0.0;
  struct
  {
    GVariant *key;
    GVariant *same;        /* NULL: distinct from every other key */
  } cases[] = {
    { g_variant_new_int64 (7), g_variant_new_from_data (G_VARIANT_TYPE_INT64, bytes, 8, FALSE, NULL, NULL) },
    { g_variant_new_int64 (0), g_variant_new_from_data (G_VARIANT_TYPE_INT64, short_bytes, 3, FALSE, NULL, NULL) },
    { g_variant_new_int32 (7), g_variant_new_int32 (7) },
    { g_variant_new_uint32 (7), NULL },
    { g_variant_new_int16 (-7), g_variant_new_int16 (-7) },
    { g_variant_new_byte (7), NULL },
    { g_variant_new_boolean (TRUE), g_variant_new_boolean (TRUE) },
    { g_variant_new_double (zero), g_variant_new_double (0.0) },
    { g_variant_new_double (minus_zero), NULL },
    { g_variant_new_string ("/a"), g_variant_new_string ("/a") },
    { g_variant_new_object_path ("/a"), g_variant_new_object_path ("/a") },
    { g_variant_new_signature ("as"), NULL },
    { g_variant_new ("(sx)", "a", G_GINT64_CONSTANT (1)), g_variant_new ("(sx)", "a", G_GINT64_CONSTANT (1)) },
    { g_variant_new ("(sx)", "a", G_GINT64_CONSTANT (2)), NULL },
  };
  GObject *values[G_N_ELEMENTS (cases)];

  counts = (Counts) { 0 };
  /* Held keys: the cache references them only when it stores them. */
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_variant_ref_sink (cases[i].key);
      values[i] = nebula_compute_cache_get_or_compute (cache, cases[i].key, object_cb, NULL, NULL);
      g_assert_nonnull (values[i]);
    }
  g_assert_cmpuint (counts.computed, ==, G_N_ELEMENTS (cases));

  /* Equal keys (floating ones, consumed) find the same entry. */
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    if (cases[i].same != NULL)
      {
        g_autoptr(GObject) value = nebula_compute_cache_get_or_compute (cache, cases[i].same, object_cb,
                                                                        NULL, NULL);

        g_assert_true (value == values[i]);
      }
  g_assert_cmpuint (counts.computed, ==, G_N_ELEMENTS (cases));
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, G_N_ELEMENTS (cases));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_true (nebula_compute_cache_invalidate (cache, cases[i].key));
      g_variant_unref (cases[i].key);
      g_object_unref (values[i]);
    }
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 0);
}

/* A key of a fixed-size type is kept as its bits, not as the caller's
 * variant: entry-removed hands an equal variant of the same type and bytes.
 * Strings and tuples are kept, and handed back as they were stored. */

static void
removed_key_cb (NebulaComputeCache *cache,
                GVariant           *key,
                GObject            *value,
                NebulaRemovalCause  cause,
                GPtrArray          *removed)
{
  g_ptr_array_add (removed, g_variant_ref (key));
}

/* The keys' hash and equality against g_variant_equal(): every basic type,
 * values that differ in one bit, equal values made from data, and tuples.
 * Equal keys must hash alike, through the probe too. */
static void
test_variant_hash_equal (void)
{
  const guint8 seven[8] = { 7, 0, 0, 0, 0, 0, 0, 0 };
  double nan_bits = NAN;
  GPtrArray *keys = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  GVariant *key;

#define ADD(expr) g_ptr_array_add (keys, g_variant_ref_sink (expr))
  ADD (g_variant_new_boolean (TRUE));
  ADD (g_variant_new_boolean (FALSE));
  ADD (g_variant_new_from_data (G_VARIANT_TYPE_BOOLEAN, seven, 1, FALSE, NULL, NULL));
  ADD (g_variant_new_byte (7));
  ADD (g_variant_new_byte (255));
  ADD (g_variant_new_int16 (-7));
  ADD (g_variant_new_int16 (7));
  ADD (g_variant_new_uint16 (7));
  ADD (g_variant_new_uint16 (65535));
  ADD (g_variant_new_int32 (-7));
  ADD (g_variant_new_int32 (7));
  ADD (g_variant_new_uint32 (7));
  ADD (g_variant_new_uint32 (G_MAXUINT32));
  ADD (g_variant_new_int64 (7));
  ADD (g_variant_new_int64 (-7));
  ADD (g_variant_new_from_data (G_VARIANT_TYPE_INT64, seven, 8, FALSE, NULL, NULL));
  ADD (g_variant_new_uint64 (7));
  ADD (g_variant_new_uint64 (G_MAXUINT64));
  ADD (g_variant_new_handle (7));
  ADD (g_variant_new_handle (-1));
  ADD (g_variant_new_double (7.0));
  ADD (g_variant_new_double (0.0));
  ADD (g_variant_new_double (-0.0));
  ADD (g_variant_new_double (nan_bits));
  ADD (g_variant_new_double (nan_bits));
  ADD (g_variant_new_string (""));
  ADD (g_variant_new_string ("7"));
  ADD (g_variant_new_string ("/a"));
  ADD (g_variant_new_take_string (g_strdup ("/a")));
  ADD (g_variant_new_object_path ("/a"));
  ADD (g_variant_new_signature ("as"));
  ADD (g_variant_new_signature ("ai"));
  ADD (g_variant_new ("(sx)", "a", G_GINT64_CONSTANT (1)));
  ADD (g_variant_new ("(sx)", "a", G_GINT64_CONSTANT (1)));
  ADD (g_variant_new ("(sx)", "a", G_GINT64_CONSTANT (2)));
  ADD (g_variant_new ("(xs)", G_GINT64_CONSTANT (1), "a"));
  ADD (g_variant_new ("(bdu)", TRUE, 0.5, 7));
  ADD (g_variant_new ("(bdu)", TRUE, 0.5, 8));
  ADD (g_variant_new ("()"));
#undef ADD

  for (guint i = 0; i < keys->len; i++)
    for (guint j = 0; j < keys->len; j++)
      {
        GVariant *a = keys->pdata[i];
        GVariant *b = keys->pdata[j];
        gboolean equal = g_variant_equal (a, b);

        g_assert_true (nebula_cache_check_key (a, NULL));
        g_assert_cmpint (nebula_cache_key_equal (a, b), ==, equal);
        if (equal)
          {
            NebulaCacheVariantProbe one, two;

            g_assert_cmpuint (nebula_cache_key_hash (a), ==, nebula_cache_key_hash (b));
            g_assert_true (nebula_cache_variant_probe_init (&one, a, NULL));
            g_assert_true (nebula_cache_variant_probe_init (&two, b, NULL));
            g_assert_cmpuint (one.hash, ==, two.hash);
            g_assert_cmpint (one.type, ==, two.type);
            g_assert_cmpuint (one.bits, ==, two.bits);
          }
      }

  /* In a cache: a boolean made from a byte other than 0 and 1 is TRUE's
   * key (g_variant_equal() says so), and a removal announces TRUE. */
  {
    g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 10);
    g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
    g_autoptr(GObject) first = NULL;
    g_autoptr(GObject) second = NULL;
    g_autoptr(GVariant) odd_true = NULL;

    odd_true = g_variant_ref_sink (g_variant_new_from_data (G_VARIANT_TYPE_BOOLEAN, seven, 1, FALSE,
                                                            NULL, NULL));
    g_signal_connect (cache, "entry-removed", G_CALLBACK (removed_key_cb), removed);
    counts = (Counts) { 0 };
    first = nebula_compute_cache_get_or_compute (cache, odd_true, object_cb, NULL, NULL);
    second = nebula_compute_cache_get_or_compute (cache, g_variant_new_boolean (TRUE), object_cb,
                                                  NULL, NULL);
    g_assert_true (first == second);
    g_assert_cmpuint (counts.computed, ==, 1);
    g_assert_true (nebula_compute_cache_invalidate (cache, g_variant_new_boolean (TRUE)));
    g_assert_cmpuint (removed->len, ==, 1);
    g_assert_true (g_variant_equal (removed->pdata[0], odd_true));
    g_assert_true (g_variant_get_boolean (removed->pdata[0]));
  }

  /* Containers other than tuples of basic types are refused. */
  key = g_variant_ref_sink (g_variant_new ("(sv)", "a", g_variant_new_int32 (1)));
  g_assert_false (nebula_cache_check_key (key, NULL));
  g_variant_unref (key);
  key = g_variant_ref_sink (g_variant_new_strv (NULL, 0));
  g_assert_false (nebula_cache_check_key (key, NULL));
  g_variant_unref (key);

  g_ptr_array_unref (keys);
}

/* A hit returns the stored value with a new reference, from any thread:
 * each caller's unref leaves the cache's own. */
#define REF_THREADS 3
#define REF_HITS 20000

static GObject *
given_value_cb (GVariant  *key,
                gpointer   user_data,
                GError   **error)
{
  return g_object_ref (user_data);
}

static gpointer
ref_hitter (gpointer data)
{
  NebulaComputeCache *cache = data;

  for (guint i = 0; i < REF_HITS; i++)
    {
      g_autoptr(GVariant) key = g_variant_ref_sink (g_variant_new_int64 (i % 4));
      GObject *value = nebula_compute_cache_get_or_compute (cache, key, object_cb, NULL, NULL);

      g_assert_nonnull (value);
      g_object_unref (value);
    }
  return NULL;
}

static void
test_variant_hit_reference (void)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 10);
  g_autoptr(GObject) stored = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GVariant) key = g_variant_ref_sink (g_variant_new_int64 (0));
  GThread *threads[REF_THREADS];
  GObject *value;

  /* Ours, the cache's, the caller's. */
  value = nebula_compute_cache_get_or_compute (cache, key, given_value_cb, stored, NULL);
  g_assert_true (value == stored);
  g_assert_cmpuint (stored->ref_count, ==, 3);
  g_object_unref (value);
  g_assert_cmpuint (stored->ref_count, ==, 2);

  /* A hit: the same object, one more reference, nothing computed. */
  value = nebula_compute_cache_get_or_compute (cache, key, object_cb, NULL, NULL);
  g_assert_true (value == stored);
  g_assert_cmpuint (stored->ref_count, ==, 3);
  g_object_unref (value);
  value = nebula_compute_cache_get (cache, key, NULL);
  g_assert_true (value == stored);
  g_assert_cmpuint (stored->ref_count, ==, 3);
  g_object_unref (value);

  /* Threads hitting it (and three other keys) at once. */
  for (guint t = 0; t < REF_THREADS; t++)
    threads[t] = g_thread_new ("hits", ref_hitter, cache);
  for (guint t = 0; t < REF_THREADS; t++)
    g_thread_join (threads[t]);
  g_assert_cmpuint (stored->ref_count, ==, 2);

  /* Invalidated: only ours is left. */
  g_assert_true (nebula_compute_cache_invalidate (cache, key));
  g_assert_cmpuint (stored->ref_count, ==, 1);
}

static void
test_variant_removed_keys (void)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 100);
  g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  guint64 nan_bits = G_GUINT64_CONSTANT (0x7ff8000000000123);
  double nan;
  GVariant *keys[16];
  guint n = 0;

  memcpy (&nan, &nan_bits, sizeof nan);
  keys[n++] = g_variant_new_boolean (FALSE);
  keys[n++] = g_variant_new_boolean (TRUE);
  keys[n++] = g_variant_new_byte (255);
  keys[n++] = g_variant_new_int16 (-7);
  keys[n++] = g_variant_new_uint16 (65535);
  keys[n++] = g_variant_new_int32 (G_MININT32);
  keys[n++] = g_variant_new_uint32 (G_MAXUINT32);
  keys[n++] = g_variant_new_int64 (G_MININT64);
  keys[n++] = g_variant_new_uint64 (G_MAXUINT64);
  keys[n++] = g_variant_new_handle (-1);
  keys[n++] = g_variant_new_double (-0.0);
  keys[n++] = g_variant_new_double (nan);
  keys[n++] = g_variant_new_string ("kept");
  keys[n++] = g_variant_new_object_path ("/kept");
  keys[n++] = g_variant_new_signature ("as");
  keys[n++] = g_variant_new ("(sx)", "kept", G_GINT64_CONSTANT (1));
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (keys));

  g_signal_connect (cache, "entry-removed", G_CALLBACK (removed_key_cb), removed);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) value = NULL;

      g_variant_ref_sink (keys[i]);
      value = nebula_compute_cache_get_or_compute (cache, keys[i], object_cb, NULL, NULL);
      g_assert_nonnull (value);
    }
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, n);

  for (guint i = 0; i < n; i++)
    {
      GVariant *key;

      g_assert_true (nebula_compute_cache_invalidate (cache, keys[i]));
      g_assert_cmpuint (removed->len, ==, i + 1);
      key = removed->pdata[i];
      g_assert_cmpstr (g_variant_get_type_string (key), ==, g_variant_get_type_string (keys[i]));
      g_assert_cmpuint (g_variant_get_size (key), ==, g_variant_get_size (keys[i]));
      g_assert_cmpmem (g_variant_get_data (key), g_variant_get_size (key),
                       g_variant_get_data (keys[i]), g_variant_get_size (keys[i]));
      if (g_variant_is_of_type (keys[i], G_VARIANT_TYPE_STRING) ||
          g_variant_is_of_type (keys[i], G_VARIANT_TYPE_OBJECT_PATH) ||
          g_variant_is_of_type (keys[i], G_VARIANT_TYPE_SIGNATURE) ||
          g_variant_is_container (keys[i]))
        g_assert_true (key == keys[i]);
    }
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 0);

  /* Floating keys, stored (get-or-compute), replacing (insert) and
   * found (get): each is consumed, whether the entry keeps it or not
   * (Valgrind's leak check sees one that is not). */
  for (guint i = 0; i < n; i++)
    {
      for (guint step = 0; step < 3; step++)
        {
          g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes (keys[i]);
          GVariant *copy = g_variant_new_from_bytes (g_variant_get_type (keys[i]), bytes, FALSE);
          g_autoptr(GObject) value = NULL;

          if (step == 0)
            value = nebula_compute_cache_get_or_compute (cache, copy, object_cb, NULL, NULL);
          else if (step == 1)
            g_assert_true (nebula_compute_cache_insert (cache, copy, G_OBJECT (cache), NULL));
          else
            value = nebula_compute_cache_get (cache, copy, NULL);
          g_assert_true (step == 1 || value != NULL);
          g_assert_true (step != 2 || value == G_OBJECT (cache));
        }
    }
  g_assert_cmpuint (removed->len, ==, 2 * n);         /* the replaced ones */
  nebula_compute_cache_invalidate_all (cache);
  g_assert_cmpuint (removed->len, ==, 3 * n);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 0);

  for (guint i = 0; i < n; i++)
    g_variant_unref (keys[i]);
}

/* time-loads */

static gpointer
slow_cb (gint64    key,
         gpointer  user_data,
         GError  **error)
{
  g_usleep (2000);
  return GSIZE_TO_POINTER (1);
}

static void
test_time_loads (void)
{
  for (guint timed = 0; timed < 2; timed++)
    {
      g_autoptr(NebulaComputeCache) cache = NULL;
      g_autoptr(NebulaCacheStats) stats = NULL;
      gboolean property;

      cache = nebula_compute_cache_new_for_ints (NULL, "time-loads", (gboolean) timed, NULL);
      g_object_get (cache, "time-loads", &property, NULL);
      g_assert_cmpint (property, ==, timed);
      nebula_compute_cache_get_or_compute_int (cache, 1, slow_cb, NULL, NULL);
      stats = nebula_compute_cache_get_stats (cache);
      g_assert_cmpuint (stats->loads_ok, ==, 1);
      if (timed)
        g_assert_cmpuint (stats->load_time_us, >=, 2000);
      else
        g_assert_cmpuint (stats->load_time_us, ==, 0);
    }
}

/* The ghost queue against a GQueue model, with random operations. */
static void
test_ghost_model (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (99);
  GQueue model = G_QUEUE_INIT;
  Ghost ghost;

  nebula_cache_ghost_init (&ghost);
  for (guint i = 0; i < 200000; i++)
    {
      guint hash = (guint) g_rand_int_range (rand, 0, 300) * 0x10001u;   /* collisions in the index */
      guint capacity = 1 + (i / 20000) * 20;
      GList *link = g_queue_find (&model, GUINT_TO_POINTER (hash));

      if (g_rand_boolean (rand))
        {
          if (link != NULL)
            g_queue_delete_link (&model, link);
          g_queue_push_tail (&model, GUINT_TO_POINTER (hash));
          while (model.length > capacity)
            g_queue_pop_head (&model);
          nebula_cache_ghost_remember (&ghost, hash, capacity);
        }
      else
        {
          g_assert_cmpint (nebula_cache_ghost_forget (&ghost, hash), ==, link != NULL);
          if (link != NULL)
            g_queue_delete_link (&model, link);
        }
      g_assert_cmpuint (ghost.length, ==, model.length);
    }

  /* Same contents, same order. */
  for (GList *l = model.head; l != NULL; l = l->next)
    {
      while (!ghost.alive[ghost.head & ghost.ring_mask])
        ghost.head++;
      g_assert_cmpuint (ghost.ring[ghost.head & ghost.ring_mask], ==, GPOINTER_TO_UINT (l->data));
      ghost.head++;
    }
  g_queue_clear (&model);
  nebula_cache_ghost_clear (&ghost);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/compute-cache/keyed/strings", test_strings);
  g_test_add_func ("/nebula/compute-cache/keyed/ints", test_ints);
  g_test_add_func ("/nebula/compute-cache/keyed/wrong-kind", test_wrong_kind);
  g_test_add_func ("/nebula/compute-cache/keyed/same-hits-as-pointer-api", test_same_hits_as_pointer_api);
  g_test_add_func ("/nebula/compute-cache/shards/property", test_shards_property);
  g_test_add_func ("/nebula/compute-cache/shards/bounds", test_shards_bounds);
  g_test_add_func ("/nebula/compute-cache/shards/threads", test_shards_threads);
  g_test_add_func ("/nebula/compute-cache/lock-free-hits/threads", test_lock_free_hits_threads);
  g_test_add_func ("/nebula/compute-cache/lock-free-hits/order", test_lock_free_hits_order);
  g_test_add_func ("/nebula/compute-cache/lock-free-hits/clock-holes", test_lock_free_hits_clock_holes);
  g_test_add_func ("/nebula/compute-cache/shards/lock-excludes", test_shard_lock_excludes);
  g_test_add_func ("/nebula/compute-cache/lock-free-hits/several-threads",
                   test_lock_free_hits_several_threads);
  g_test_add_func ("/nebula/compute-cache/lock-free-misses/counted", test_lock_free_misses_counted);
  g_test_add_func ("/nebula/compute-cache/lock-free-hits/stats-threads", test_lock_free_stats_threads);
  g_test_add_func ("/nebula/compute-cache/variant/keys-by-value", test_variant_keys_by_value);
  g_test_add_func ("/nebula/compute-cache/variant/removed-keys", test_variant_removed_keys);
  g_test_add_func ("/nebula/compute-cache/variant/hash-equal", test_variant_hash_equal);
  g_test_add_func ("/nebula/compute-cache/variant/hit-reference", test_variant_hit_reference);
  g_test_add_func ("/nebula/compute-cache/time-loads", test_time_loads);
  g_test_add_func ("/nebula/compute-cache/ghost/model", test_ghost_model);

  return g_test_run ();
}
