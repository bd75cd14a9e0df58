/* test-compute-cache.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#if HAVE_VALGRIND
# include <valgrind.h>
#else
# define RUNNING_ON_VALGRIND 0
#endif

#include <nebula.h>

#include "test-util.h"

/* A value type for the GObject API: any GObject will do. */
typedef struct
{
  guint calls;
  gboolean fail;
} Computer;

static GObject *
compute_square_cb (GVariant  *key,
                   gpointer   user_data,
                   GError   **error)
{
  Computer *computer = user_data;
  gint32 n = g_variant_get_int32 (key);

  computer->calls++;
  if (computer->fail)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot compute %d", n);
      return NULL;
    }
  return test_value_new (n * n);
}

static GObject *
get_int (NebulaComputeCache *cache,
         gint32              key,
         Computer           *computer)
{
  g_autoptr(GError) error = NULL;
  GObject *value;

  value = nebula_compute_cache_get_or_compute (cache, g_variant_new_int32 (key),
                                               compute_square_cb, computer, &error);
  g_assert_no_error (error);
  g_assert_nonnull (value);
  return value;
}

static gboolean
contains (NebulaComputeCache *cache,
          gint32              key)
{
  g_autoptr(GObject) value = nebula_compute_cache_get (cache, g_variant_new_int32 (key), NULL);

  return value != NULL;
}

static gboolean
insert_int (NebulaComputeCache  *cache,
            GVariant            *key,
            int                  number,
            GError             **error)
{
  g_autoptr(GObject) value = test_value_new (number);

  return nebula_compute_cache_insert (cache, key, value, error);
}

static void
assert_invariant (NebulaComputeCache *cache)
{
  g_autoptr(NebulaCacheStats) stats = nebula_compute_cache_get_stats (cache);

  g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);
}

static void
test_hit_and_miss (void)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 10);
  g_autoptr(NebulaCacheStats) stats = NULL;
  Computer computer = { 0 };
  g_autoptr(GObject) first = get_int (cache, 7, &computer);
  g_autoptr(GObject) second = get_int (cache, 7, &computer);

  g_assert_cmpint (test_value_number (first), ==, 49);
  g_assert_true (first == second);
  g_assert_cmpuint (computer.calls, ==, 1);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 1);

  stats = nebula_compute_cache_get_stats (cache);
  g_assert_cmpuint (stats->requests, ==, 2);
  g_assert_cmpuint (stats->hits, ==, 1);
  g_assert_cmpuint (stats->misses, ==, 1);
  g_assert_cmpuint (stats->insertions, ==, 1);
  g_assert_cmpuint (stats->loads_ok, ==, 1);
}

static void
test_error_not_stored (void)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 10);
  g_autoptr(NebulaCacheStats) stats = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) value = NULL;
  Computer computer = { .fail = TRUE };

  value = nebula_compute_cache_get_or_compute (cache, g_variant_new_int32 (3),
                                               compute_square_cb, &computer, &error);
  g_assert_null (value);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "cannot compute 3"));
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 0);

  computer.fail = FALSE;
  value = get_int (cache, 3, &computer);
  g_assert_cmpint (test_value_number (value), ==, 9);
  g_assert_cmpuint (computer.calls, ==, 2);

  stats = nebula_compute_cache_get_stats (cache);
  g_assert_cmpuint (stats->loads_failed, ==, 1);
  g_assert_cmpuint (stats->loads_ok, ==, 1);
  g_assert_cmpuint (stats->misses, ==, 2);
}

static GObject *
compute_nothing_cb (GVariant  *key,
                    gpointer   user_data,
                    GError   **error)
{
  return NULL;
}

static void
test_null_without_error (void)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 10);
  g_autoptr(GError) error = NULL;
  GObject *value;

  value = nebula_compute_cache_get_or_compute (cache, g_variant_new_int32 (1),
                                               compute_nothing_cb, NULL, &error);
  g_assert_null (value);
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 0);
}

static void
test_invalid_key (void)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 10);
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) value = NULL;
  g_autoptr(GVariant) array = g_variant_ref_sink (g_variant_new_parsed ("[<1>, <'a'>]"));
  g_autoptr(GVariant) boxed = g_variant_ref_sink (g_variant_new_variant (g_variant_new_int32 (1)));
  Computer computer = { 0 };

  value = nebula_compute_cache_get_or_compute (cache, NULL, compute_square_cb, &computer, &error);
  g_assert_null (value);
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY);
  g_clear_error (&error);

  value = nebula_compute_cache_get_or_compute (cache, array, compute_square_cb, &computer, &error);
  g_assert_null (value);
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY);
  g_assert_nonnull (strstr (error->message, "'av'"));
  g_assert_false (nebula_error_is_retryable (error));
  g_clear_error (&error);

  /* A one-character type that is not basic: the probe's inline part
   * leaves it to the full check. */
  value = nebula_compute_cache_get_or_compute (cache, boxed, compute_square_cb, &computer, &error);
  g_assert_null (value);
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY);
  g_assert_nonnull (strstr (error->message, "'v'"));
  g_clear_error (&error);

  g_assert_false (insert_int (cache, array, 0, &error));
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY);
  g_clear_error (&error);
  g_assert_null (nebula_compute_cache_get (cache, NULL, &error));
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY);
  g_clear_error (&error);
  g_assert_cmpuint (computer.calls, ==, 0);

  /* Tuples of basic types are fine, and the cache is still usable. */
  g_assert_true (insert_int (cache, g_variant_new ("(si)", "a", 1), 0, &error));
  g_assert_no_error (error);
  value = get_int (cache, 4, &computer);
  g_assert_cmpint (test_value_number (value), ==, 16);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 2);
}

static void
test_lru (void)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 3);
  Computer computer = { 0 };

  for (int i = 1; i <= 3; i++)
    g_object_unref (get_int (cache, i, &computer));
  g_object_unref (get_int (cache, 1, &computer));       /* 1 is now the most recent */
  g_object_unref (get_int (cache, 4, &computer));       /* evicts 2 */
  g_assert_true (contains (cache, 1));
  g_assert_false (contains (cache, 2));
  g_assert_true (contains (cache, 3));
  g_assert_true (contains (cache, 4));
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 3);
  assert_invariant (cache);
}

static void
test_fifo (void)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_FIFO, 3);
  Computer computer = { 0 };

  for (int i = 1; i <= 3; i++)
    g_object_unref (get_int (cache, i, &computer));
  g_object_unref (get_int (cache, 1, &computer));       /* a hit does not reorder */
  g_object_unref (get_int (cache, 4, &computer));       /* evicts 1 */
  g_assert_false (contains (cache, 1));
  g_assert_true (contains (cache, 2));
  g_assert_true (contains (cache, 3));
  g_assert_true (contains (cache, 4));
}

static void
test_lfu (void)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LFU, 3);
  Computer computer = { 0 };

  for (int i = 1; i <= 3; i++)
    g_object_unref (get_int (cache, i, &computer));
  for (int i = 0; i < 3; i++)
    g_object_unref (get_int (cache, 1, &computer));
  g_object_unref (get_int (cache, 3, &computer));
  /* Frequencies: 1 -> 4, 2 -> 1, 3 -> 2 */
  g_object_unref (get_int (cache, 4, &computer));       /* evicts 2 */
  g_object_unref (get_int (cache, 5, &computer));       /* evicts 4, the oldest of frequency 1 */
  g_assert_cmpuint (computer.calls, ==, 5);

  {
    g_autoptr(NebulaComputeCache) probe = g_object_ref (cache);
    g_autoptr(GObject) v1 = nebula_compute_cache_get (probe, g_variant_new_int32 (1), NULL);
    g_autoptr(GObject) v2 = nebula_compute_cache_get (probe, g_variant_new_int32 (2), NULL);
    g_autoptr(GObject) v3 = nebula_compute_cache_get (probe, g_variant_new_int32 (3), NULL);
    g_autoptr(GObject) v4 = nebula_compute_cache_get (probe, g_variant_new_int32 (4), NULL);
    g_autoptr(GObject) v5 = nebula_compute_cache_get (probe, g_variant_new_int32 (5), NULL);

    g_assert_nonnull (v1);
    g_assert_null (v2);
    g_assert_nonnull (v3);
    g_assert_null (v4);
    g_assert_nonnull (v5);
  }
}

static void
test_s3_fifo (void)
{
  /* 10 entries: a small queue of 1. A key hit while in the small queue is
   * promoted to main; one that was not goes to the ghost queue, and comes
   * back straight into main. (The one-hit rule: promotion-threshold 1.) */
  g_autoptr(NebulaComputeCache) cache = g_object_new (NEBULA_TYPE_COMPUTE_CACHE,
                                                      "policy", NEBULA_EVICTION_POLICY_S3_FIFO,
                                                      "max-entries", 10,
                                                      "promotion-threshold", 1,
                                                      NULL);
  Computer computer = { 0 };

  g_object_unref (get_int (cache, 100, &computer));
  g_object_unref (get_int (cache, 100, &computer));     /* hit: will be promoted */
  for (int i = 0; i < 30; i++)
    g_object_unref (get_int (cache, i, &computer));     /* one-hit wonders */
  g_assert_true (contains (cache, 100));
  g_assert_false (contains (cache, 0));
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 10);
  assert_invariant (cache);
}

static void
test_s3_fifo_two_hits (void)
{
  /* The default rule of the S3-FIFO paper: two hits in the small queue
   * promote, one does not. */
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_S3_FIFO, 10);
  Computer computer = { 0 };
  guint threshold = 0;

  g_object_get (cache, "promotion-threshold", &threshold, NULL);
  g_assert_cmpuint (threshold, ==, 2);

  g_object_unref (get_int (cache, 100, &computer));
  g_object_unref (get_int (cache, 100, &computer));     /* one hit: not enough */
  g_object_unref (get_int (cache, 200, &computer));
  g_object_unref (get_int (cache, 200, &computer));
  g_object_unref (get_int (cache, 200, &computer));     /* two hits: promoted */
  for (int i = 0; i < 30; i++)
    g_object_unref (get_int (cache, i, &computer));     /* one-hit wonders */
  g_assert_false (contains (cache, 100));
  g_assert_true (contains (cache, 200));
  g_assert_false (contains (cache, 0));
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 10);
  assert_invariant (cache);
}

static void
test_ttl_policy (void)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_TTL, 2);
  g_autoptr(GError) error = NULL;
  Computer computer = { 0 };

  g_object_unref (get_int (cache, 1, &computer));
  g_object_unref (get_int (cache, 2, &computer));
  /* Rewriting 1 restarts its time: 2 is now the closest to expiring. */
  g_assert_true (insert_int (cache, g_variant_new_int32 (1), 0, &error));
  g_object_unref (get_int (cache, 3, &computer));
  g_assert_true (contains (cache, 1));
  g_assert_false (contains (cache, 2));
  g_assert_true (contains (cache, 3));
}

static gint64
manual_clock_cb (gpointer user_data)
{
  return *(gint64 *) user_data;
}

typedef struct
{
  NebulaComputeCache *cache;
  guint               causes[4];
  guint               n_entries_seen;
  GVariant           *last_key;
} Removals;

static void
entry_removed_cb (NebulaComputeCache *cache,
                  GVariant           *key,
                  GObject            *value,
                  NebulaRemovalCause  cause,
                  Removals           *removals)
{
  g_assert_true (G_IS_OBJECT (value));
  removals->causes[cause]++;
  /* Emitted outside the lock: calling back in must not deadlock. */
  removals->n_entries_seen = nebula_compute_cache_get_n_entries (cache);
  g_clear_pointer (&removals->last_key, g_variant_unref);
  removals->last_key = g_variant_ref (key);
}

static void
test_time_to_live (void)
{
  g_autoptr(NebulaComputeCache) cache = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  Removals removals = { 0 };
  Computer computer = { 0 };
  gint64 time = 1000;

  cache = g_object_new (NEBULA_TYPE_COMPUTE_CACHE, "time-to-live", (guint64) 100, NULL);
  nebula_compute_cache_set_clock (cache, manual_clock_cb, &time, NULL);
  g_signal_connect (cache, "entry-removed", G_CALLBACK (entry_removed_cb), &removals);

  g_object_unref (get_int (cache, 1, &computer));
  time += 50;
  g_object_unref (get_int (cache, 2, &computer));
  time += 49;
  g_assert_true (contains (cache, 1));                  /* 99 after writing */
  time += 1;
  g_assert_false (contains (cache, 1));                 /* 100: expired, never returned */
  g_assert_true (contains (cache, 2));
  g_assert_cmpuint (removals.causes[NEBULA_REMOVAL_CAUSE_EXPIRED], ==, 1);
  g_assert_cmpint (g_variant_get_int32 (removals.last_key), ==, 1);

  /* Reading does not extend a time-to-live. */
  time += 50;
  g_object_unref (get_int (cache, 2, &computer));
  g_assert_cmpuint (computer.calls, ==, 3);

  stats = nebula_compute_cache_get_stats (cache);
  g_assert_cmpuint (stats->expirations, ==, 2);
  g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);
  g_clear_pointer (&removals.last_key, g_variant_unref);
}

static void
test_time_to_idle (void)
{
  g_autoptr(NebulaComputeCache) cache = NULL;
  Computer computer = { 0 };
  gint64 time = 0;

  cache = g_object_new (NEBULA_TYPE_COMPUTE_CACHE, "time-to-idle", (guint64) 10, NULL);
  nebula_compute_cache_set_clock (cache, manual_clock_cb, &time, NULL);

  g_object_unref (get_int (cache, 1, &computer));
  g_object_unref (get_int (cache, 2, &computer));
  for (int i = 0; i < 5; i++)
    {
      time += 9;
      g_object_unref (get_int (cache, 1, &computer));   /* each read extends it */
    }
  g_assert_cmpuint (computer.calls, ==, 2);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 1);  /* 2 was swept */
  time += 10;
  g_assert_false (contains (cache, 1));
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 0);
}

static guint64
weigh_by_number_cb (GVariant *key,
                    GObject  *value,
                    gpointer  user_data)
{
  return (guint64) test_value_number (value);
}

static void
test_max_weight (void)
{
  g_autoptr(NebulaComputeCache) cache = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) value = NULL;
  Computer computer = { 0 };
  Removals removals = { 0 };

  cache = g_object_new (NEBULA_TYPE_COMPUTE_CACHE, "max-weight", (guint64) 30, NULL);
  nebula_compute_cache_set_weigher (cache, weigh_by_number_cb, NULL, NULL);
  g_signal_connect (cache, "entry-removed", G_CALLBACK (entry_removed_cb), &removals);

  g_object_unref (get_int (cache, 3, &computer));       /* 9 */
  g_object_unref (get_int (cache, 4, &computer));       /* 16: 25 in all */
  g_assert_cmpuint (nebula_compute_cache_get_weight (cache), ==, 25);
  g_object_unref (get_int (cache, 2, &computer));       /* 4: 29 */
  g_object_unref (get_int (cache, 1, &computer));       /* 1: 30 */
  g_assert_cmpuint (nebula_compute_cache_get_weight (cache), ==, 30);
  g_object_unref (get_int (cache, 5, &computer));       /* 25: evicts 3, 4 */
  g_assert_cmpuint (nebula_compute_cache_get_weight (cache), ==, 30);
  g_assert_cmpuint (removals.causes[NEBULA_REMOVAL_CAUSE_SIZE], ==, 2);
  g_assert_cmpuint (removals.n_entries_seen, ==, 3);   /* 2, 1 and 5 */

  value = nebula_compute_cache_get_or_compute (cache, g_variant_new_int32 (6),
                                               compute_square_cb, &computer, &error);
  g_assert_null (value);
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_OVERFLOW);
  g_assert_nonnull (strstr (error->message, "weighs 36"));
  g_assert_nonnull (strstr (error->message, "max-weight 30"));
  g_assert_cmpuint (nebula_error_get_requested (error), ==, 36);
  g_assert_cmpuint (nebula_error_get_capacity (error), ==, 30);
  g_assert_cmpuint (nebula_compute_cache_get_weight (cache), ==, 30);
  g_assert_true (contains (cache, 5));
  g_clear_pointer (&removals.last_key, g_variant_unref);
}

static guint64
weigh_half_of_everything_cb (gconstpointer key,
                             gconstpointer value,
                             gpointer      user_data)
{
  return G_GUINT64_CONSTANT (1) << 63;
}

/* Weights near 2^64: the total must never wrap, bounded or not. */
static void
test_weight_overflow (void)
{
  g_autoptr(NebulaComputeCache) bounded = NULL;
  g_autoptr(NebulaComputeCache) unbounded = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  g_autoptr(GError) error = NULL;
  const guint64 half = G_GUINT64_CONSTANT (1) << 63;

  bounded = nebula_compute_cache_new_full (g_direct_hash, g_direct_equal, NULL, NULL,
                                           "policy", NEBULA_EVICTION_POLICY_LRU,
                                           "max-weight", G_MAXUINT64,
                                           NULL);
  nebula_compute_cache_set_pointer_weigher (bounded, weigh_half_of_everything_cb, NULL, NULL);
  for (int i = 1; i <= 4; i++)
    {
      g_assert_true (nebula_compute_cache_insert_pointer (bounded, GINT_TO_POINTER (i),
                                                          GINT_TO_POINTER (i), &error));
      g_assert_no_error (error);
      /* Two such entries weigh 2^64, one more than max-weight. */
      g_assert_cmpuint (nebula_compute_cache_get_n_entries (bounded), ==, 1);
      g_assert_cmpuint (nebula_compute_cache_get_weight (bounded), ==, half);
      g_assert_true (nebula_compute_cache_get_pointer (bounded, GINT_TO_POINTER (i)) == GINT_TO_POINTER (i));
    }
  stats = nebula_compute_cache_get_stats (bounded);
  g_assert_cmpuint (stats->evictions, ==, 3);

  /* Without a bound nothing is evicted: a value whose weight would carry
   * the total past 2^64 - 1 is refused. */
  unbounded = nebula_compute_cache_new_full (g_direct_hash, g_direct_equal, NULL, NULL,
                                             "policy", NEBULA_EVICTION_POLICY_S3_FIFO,
                                             NULL);
  nebula_compute_cache_set_pointer_weigher (unbounded, weigh_half_of_everything_cb, NULL, NULL);
  g_assert_true (nebula_compute_cache_insert_pointer (unbounded, GINT_TO_POINTER (1),
                                                      GINT_TO_POINTER (1), &error));
  g_assert_false (nebula_compute_cache_insert_pointer (unbounded, GINT_TO_POINTER (2),
                                                       GINT_TO_POINTER (2), &error));
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_OVERFLOW);
  g_assert_nonnull (strstr (error->message, "weighs 9223372036854775808"));
  g_assert_nonnull (strstr (error->message, "18446744073709551615"));
  g_assert_cmpuint (nebula_compute_cache_get_weight (unbounded), ==, half);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (unbounded), ==, 1);
  /* Still usable: replacing the entry keeps the total exact. */
  g_assert_true (nebula_compute_cache_insert_pointer (unbounded, GINT_TO_POINTER (1),
                                                      GINT_TO_POINTER (3), NULL));
  g_assert_cmpuint (nebula_compute_cache_get_weight (unbounded), ==, half);
}

static void
test_removal_causes (void)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 2);
  g_autoptr(NebulaCacheStats) stats = NULL;
  Removals removals = { 0 };
  Computer computer = { 0 };

  g_signal_connect (cache, "entry-removed", G_CALLBACK (entry_removed_cb), &removals);
  g_object_unref (get_int (cache, 1, &computer));
  g_assert_true (insert_int (cache, g_variant_new_int32 (1), 0, NULL));
  g_assert_cmpuint (removals.causes[NEBULA_REMOVAL_CAUSE_REPLACED], ==, 1);
  g_assert_true (nebula_compute_cache_invalidate (cache, g_variant_new_int32 (1)));
  g_assert_false (nebula_compute_cache_invalidate (cache, g_variant_new_int32 (1)));
  g_assert_cmpuint (removals.causes[NEBULA_REMOVAL_CAUSE_EXPLICIT], ==, 1);
  for (int i = 0; i < 4; i++)
    g_object_unref (get_int (cache, i, &computer));
  g_assert_cmpuint (removals.causes[NEBULA_REMOVAL_CAUSE_SIZE], ==, 2);
  nebula_compute_cache_invalidate_all (cache);
  g_assert_cmpuint (removals.causes[NEBULA_REMOVAL_CAUSE_EXPLICIT], ==, 3);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 0);

  stats = nebula_compute_cache_get_stats (cache);
  g_assert_cmpuint (stats->replacements, ==, 1);
  g_assert_cmpuint (stats->invalidations, ==, 3);
  g_assert_cmpuint (stats->evictions, ==, 2);
  g_clear_pointer (&removals.last_key, g_variant_unref);
}

static guint destroyed_keys;
static guint destroyed_values;

static void
destroy_key_cb (gpointer data)
{
  destroyed_keys++;
  g_free (data);
}

static void
destroy_value_cb (gpointer data)
{
  destroyed_values++;
  g_free (data);
}

static gpointer
compute_length_cb (gconstpointer   key,
                   gpointer        user_data,
                   GError        **error)
{
  return g_strdup_printf ("%zu", strlen (key));
}

static guint64
weigh_string_cb (gconstpointer key,
                 gconstpointer value,
                 gpointer      user_data)
{
  return strlen (key);
}

static void
test_pointer_api (void)
{
  NebulaComputeCache *cache;
  g_autoptr(GError) error = NULL;
  const char *value;

  destroyed_keys = destroyed_values = 0;
  cache = nebula_compute_cache_new_full (g_str_hash, g_str_equal, destroy_key_cb, destroy_value_cb,
                                         "policy", NEBULA_EVICTION_POLICY_LRU,
                                         "max-weight", (guint64) 10,
                                         NULL);
  nebula_compute_cache_set_pointer_weigher (cache, weigh_string_cb, NULL, NULL);

  value = nebula_compute_cache_get_or_compute_pointer (cache, g_strdup ("hello"),
                                                       compute_length_cb, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, "5");
  /* A hit frees the key it was given. */
  value = nebula_compute_cache_get_or_compute_pointer (cache, g_strdup ("hello"),
                                                       compute_length_cb, NULL, &error);
  g_assert_cmpstr (value, ==, "5");
  g_assert_cmpuint (destroyed_keys, ==, 1);
  g_assert_cmpstr (nebula_compute_cache_get_pointer (cache, "hello"), ==, "5");

  g_assert_true (nebula_compute_cache_insert_pointer (cache, g_strdup ("world!"), g_strdup ("x"), &error));
  g_assert_cmpuint (nebula_compute_cache_get_weight (cache), ==, 6);   /* hello left */
  g_assert_null (nebula_compute_cache_get_pointer (cache, "hello"));
  g_assert_cmpuint (destroyed_values, ==, 1);

  g_assert_false (nebula_compute_cache_insert_pointer (cache, g_strdup ("much too long"),
                                                       g_strdup ("y"), &error));
  g_assert_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_OVERFLOW);
  g_assert_nonnull (strstr (error->message, "weighs 13"));
  g_assert_cmpuint (destroyed_values, ==, 2);
  g_assert_true (nebula_compute_cache_invalidate_pointer (cache, "world!"));

  g_assert_true (nebula_compute_cache_insert_pointer (cache, g_strdup ("a"), g_strdup ("b"), NULL));
  g_object_unref (cache);
  g_assert_cmpuint (destroyed_keys, ==, 5);
  g_assert_cmpuint (destroyed_values, ==, 4);
}

static gpointer
identity_cb (gconstpointer   key,
             gpointer        user_data,
             GError        **error)
{
  return (gpointer) key;
}

#define N_THREADS 4
#define N_THREAD_REQUESTS 20000

static gpointer
hammer_thread (gpointer data)
{
  NebulaComputeCache *cache = data;
  GRand *rand = g_rand_new_with_seed (GPOINTER_TO_UINT (g_thread_self ()));

  for (int i = 0; i < N_THREAD_REQUESTS; i++)
    {
      guint key = g_rand_int_range (rand, 1, 200);
      gpointer value = nebula_compute_cache_get_or_compute_pointer (cache, GUINT_TO_POINTER (key),
                                                                     identity_cb, NULL, NULL);
      g_assert_cmpuint (GPOINTER_TO_UINT (value), ==, key);
      if (i % 97 == 0)
        nebula_compute_cache_invalidate_pointer (cache, GUINT_TO_POINTER (key));
    }
  g_rand_free (rand);
  return NULL;
}

static void
test_threads (void)
{
  for (NebulaEvictionPolicy policy = NEBULA_EVICTION_POLICY_LRU;
       policy <= NEBULA_EVICTION_POLICY_S3_FIFO; policy++)
    {
      g_autoptr(NebulaComputeCache) cache = NULL;
      g_autoptr(NebulaCacheStats) stats = NULL;
      GThread *threads[N_THREADS];

      cache = nebula_compute_cache_new_full (g_direct_hash, g_direct_equal, NULL, NULL,
                                             "policy", policy, "max-entries", 50, NULL);
      for (int i = 0; i < N_THREADS; i++)
        threads[i] = g_thread_new ("hammer", hammer_thread, cache);
      for (int i = 0; i < N_THREADS; i++)
        g_thread_join (threads[i]);

      stats = nebula_compute_cache_get_stats (cache);
      g_assert_cmpuint (stats->requests, ==, N_THREADS * N_THREAD_REQUESTS);
      g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);
      g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), <=, 50);
    }
}

/* Hit ratios on a Zipf trace, against straightforward reference models. */

/* The trace of the issue: 1,000,000 requests over 100,000 keys, room for
 * 1% of them. Under Valgrind (some 50 times slower) the same test runs on a
 * trace ten times smaller, still compared exactly with the references. */
static guint zipf_keys = 100000;
static guint zipf_requests = 1000000;
#define ZIPF_KEYS      zipf_keys
#define ZIPF_REQUESTS  zipf_requests
#define ZIPF_CAPACITY  (ZIPF_KEYS / 100)
#define ZIPF_TTL       (ZIPF_REQUESTS / 1000)   /* shorter than a FIFO lifetime */

static guint *
zipf_trace (void)
{
  double *cdf = g_new (double, ZIPF_KEYS);
  guint *trace = g_new (guint, ZIPF_REQUESTS);
  GRand *rand = g_rand_new_with_seed (20231023);
  double sum = 0;

  for (guint k = 0; k < ZIPF_KEYS; k++)
    {
      sum += 1.0 / pow (k + 1, 0.9);
      cdf[k] = sum;
    }
  for (guint i = 0; i < ZIPF_REQUESTS; i++)
    {
      double u = g_rand_double (rand) * sum;
      guint lo = 0, hi = ZIPF_KEYS - 1;

      while (lo < hi)
        {
          guint mid = (lo + hi) / 2;

          if (cdf[mid] < u)
            lo = mid + 1;
          else
            hi = mid;
        }
      trace[i] = lo + 1;        /* keys are never 0, so never NULL */
    }

  g_rand_free (rand);
  g_free (cdf);
  return trace;
}

static guint64
run_cache (NebulaEvictionPolicy  policy,
           guint                 promotion_threshold,
           const guint          *trace)
{
  g_autoptr(NebulaComputeCache) cache = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  gint64 time = 0;

  cache = nebula_compute_cache_new_full (g_direct_hash, g_direct_equal, NULL, NULL,
                                         "policy", policy,
                                         "max-entries", ZIPF_CAPACITY,
                                         "time-to-live", (guint64) (policy == NEBULA_EVICTION_POLICY_TTL ? ZIPF_TTL : 0),
                                         "promotion-threshold", promotion_threshold,
                                         NULL);
  nebula_compute_cache_set_clock (cache, manual_clock_cb, &time, NULL);
  for (guint i = 0; i < ZIPF_REQUESTS; i++, time++)
    nebula_compute_cache_get_or_compute_pointer (cache, GUINT_TO_POINTER (trace[i]),
                                                 identity_cb, NULL, NULL);

  stats = nebula_compute_cache_get_stats (cache);
  g_assert_cmpuint (stats->requests, ==, ZIPF_REQUESTS);
  g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), <=, ZIPF_CAPACITY);
  if (policy == NEBULA_EVICTION_POLICY_TTL)
    g_assert_cmpuint (stats->expirations, >, 0);
  return stats->hits;
}

/* LRU, FIFO and TTL with one GQueue and an index: @reorder moves a hit to
 * the back, @ttl drops entries written that many requests ago. */
static guint64
reference_queue (const guint *trace,
                 gboolean     reorder,
                 guint        ttl)
{
  GHashTable *index = g_hash_table_new (NULL, NULL);   /* key -> GList */
  GHashTable *written = g_hash_table_new (NULL, NULL); /* key -> time + 1 */
  GQueue queue = G_QUEUE_INIT;
  guint64 hits = 0;

  for (guint time = 0; time < ZIPF_REQUESTS; time++)
    {
      gpointer key = GUINT_TO_POINTER (trace[time]);
      GList *link;

      while (ttl > 0 && queue.head != NULL &&
             time - (GPOINTER_TO_UINT (g_hash_table_lookup (written, queue.head->data)) - 1) >= ttl)
        {
          gpointer old = g_queue_pop_head (&queue);

          g_hash_table_remove (index, old);
          g_hash_table_remove (written, old);
        }

      link = g_hash_table_lookup (index, key);
      if (link != NULL)
        {
          hits++;
          if (reorder)
            {
              g_queue_unlink (&queue, link);
              g_queue_push_tail_link (&queue, link);
            }
          continue;
        }
      if (queue.length == ZIPF_CAPACITY)
        {
          gpointer old = g_queue_pop_head (&queue);

          g_hash_table_remove (index, old);
          g_hash_table_remove (written, old);
        }
      g_queue_push_tail (&queue, key);
      g_hash_table_insert (index, key, queue.tail);
      g_hash_table_insert (written, key, GUINT_TO_POINTER (time + 1));
    }

  g_queue_clear (&queue);
  g_hash_table_unref (index);
  g_hash_table_unref (written);
  return hits;
}

/* LFU as an ordered set of (frequency, arrival in that frequency). */
static gint
compare_u64 (gconstpointer a,
             gconstpointer b,
             gpointer      user_data)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

static guint64
reference_lfu (const guint *trace)
{
  GTree *order = g_tree_new_full (compare_u64, NULL, g_free, NULL);  /* rank -> key */
  GHashTable *rank_of = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  guint64 tick = 0;
  guint64 hits = 0;

  for (guint i = 0; i < ZIPF_REQUESTS; i++)
    {
      gpointer key = GUINT_TO_POINTER (trace[i]);
      guint64 *rank = g_hash_table_lookup (rank_of, key);
      guint64 frequency = 1;

      if (rank != NULL)
        {
          hits++;
          frequency = (*rank >> 32) + 1;
          g_tree_remove (order, rank);
          g_hash_table_remove (rank_of, key);
        }
      else if (g_hash_table_size (rank_of) == ZIPF_CAPACITY)
        {
          GTreeNode *lowest = g_tree_node_first (order);
          gpointer victim = g_tree_node_value (lowest);

          g_tree_remove (order, g_tree_node_key (lowest));
          g_hash_table_remove (rank_of, victim);
        }

      rank = g_new (guint64, 1);
      *rank = frequency << 32 | tick++;
      g_tree_insert (order, g_memdup2 (rank, sizeof *rank), key);
      g_hash_table_insert (rank_of, key, rank);
    }

  g_tree_unref (order);
  g_hash_table_unref (rank_of);
  return hits;
}

/* S3-FIFO after the paper: small queue of 10%, main queue, ghost queue as
 * long as main's share; promotion on a hit since insertion, 2-bit
 * frequencies, ghost hits go to main. */
typedef struct
{
  guint  key;
  guint  frequency;
  GList *link;
  gboolean in_main;
} RefObject;

static guint64
reference_s3_fifo (const guint *trace,
                   guint        promotion_threshold)
{
  const guint small_cap = ZIPF_CAPACITY / 10;
  const guint ghost_cap = ZIPF_CAPACITY - small_cap;
  GHashTable *objects = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  GHashTable *ghost_index = g_hash_table_new (NULL, NULL);
  GQueue small = G_QUEUE_INIT, main = G_QUEUE_INIT, ghost = G_QUEUE_INIT;
  guint64 hits = 0;

  for (guint i = 0; i < ZIPF_REQUESTS; i++)
    {
      guint key = trace[i];
      RefObject *object = g_hash_table_lookup (objects, GUINT_TO_POINTER (key));
      GList *ghost_link;

      if (object != NULL)
        {
          hits++;
          object->frequency = MIN (object->frequency + 1, 3);
          continue;
        }

      while (g_hash_table_size (objects) >= ZIPF_CAPACITY)
        {
          RefObject *victim = NULL;

          if (small.length >= small_cap || main.length == 0)
            {
              while (victim == NULL && small.length > 0)
                {
                  RefObject *tail = g_queue_pop_head (&small);

                  if (tail->frequency >= promotion_threshold)
                    {
                      tail->frequency = 0;
                      tail->in_main = TRUE;
                      g_queue_push_tail (&main, tail);
                      tail->link = main.tail;
                    }
                  else
                    {
                      victim = tail;
                      ghost_link = g_hash_table_lookup (ghost_index, GUINT_TO_POINTER (tail->key));
                      if (ghost_link != NULL)
                        g_queue_delete_link (&ghost, ghost_link);
                      g_queue_push_tail (&ghost, GUINT_TO_POINTER (tail->key));
                      g_hash_table_insert (ghost_index, GUINT_TO_POINTER (tail->key), ghost.tail);
                      while (ghost.length > ghost_cap)
                        g_hash_table_remove (ghost_index, g_queue_pop_head (&ghost));
                    }
                }
            }
          else
            {
              while (victim == NULL)
                {
                  RefObject *tail = g_queue_pop_head (&main);

                  if (tail->frequency > 0)
                    {
                      tail->frequency--;
                      g_queue_push_tail (&main, tail);
                      tail->link = main.tail;
                    }
                  else
                    victim = tail;
                }
            }
          if (victim != NULL)
            g_hash_table_remove (objects, GUINT_TO_POINTER (victim->key));
        }

      object = g_new0 (RefObject, 1);
      object->key = key;
      ghost_link = g_hash_table_lookup (ghost_index, GUINT_TO_POINTER (key));
      if (ghost_link != NULL)
        {
          g_hash_table_remove (ghost_index, GUINT_TO_POINTER (key));
          g_queue_delete_link (&ghost, ghost_link);
          object->in_main = TRUE;
          g_queue_push_tail (&main, object);
          object->link = main.tail;
        }
      else
        {
          g_queue_push_tail (&small, object);
          object->link = small.tail;
        }
      g_hash_table_insert (objects, GUINT_TO_POINTER (key), object);
    }

  g_queue_clear (&small);
  g_queue_clear (&main);
  g_queue_clear (&ghost);
  g_hash_table_unref (objects);
  g_hash_table_unref (ghost_index);
  return hits;
}

static void
test_hit_ratio_zipf (void)
{
  static const struct {
    NebulaEvictionPolicy policy;
    guint promotion_threshold;
    const char *name;
  } policies[] = {
    { NEBULA_EVICTION_POLICY_LRU, 2, "LRU" },
    { NEBULA_EVICTION_POLICY_FIFO, 2, "FIFO" },
    { NEBULA_EVICTION_POLICY_LFU, 2, "LFU" },
    { NEBULA_EVICTION_POLICY_TTL, 2, "TTL" },
    { NEBULA_EVICTION_POLICY_S3_FIFO, 1, "S3-FIFO, one hit promotes" },
    { NEBULA_EVICTION_POLICY_S3_FIFO, 2, "S3-FIFO, two hits (default)" },
  };
  g_autofree guint *trace = NULL;
  guint64 hits[G_N_ELEMENTS (policies)];

  if (RUNNING_ON_VALGRIND)
    {
      zipf_keys /= 10;
      zipf_requests /= 10;
    }
  g_test_message ("Zipf(0.9): %u requests over %u keys, room for %u",
                  ZIPF_REQUESTS, ZIPF_KEYS, ZIPF_CAPACITY);
  trace = zipf_trace ();

  for (guint i = 0; i < G_N_ELEMENTS (policies); i++)
    {
      guint64 reference = 0;
      gint64 started = g_get_monotonic_time ();

      hits[i] = run_cache (policies[i].policy, policies[i].promotion_threshold, trace);
      started = g_get_monotonic_time () - started;

      switch (policies[i].policy)
        {
        case NEBULA_EVICTION_POLICY_LRU:
          reference = reference_queue (trace, TRUE, 0);
          break;
        case NEBULA_EVICTION_POLICY_FIFO:
          reference = reference_queue (trace, FALSE, 0);
          break;
        case NEBULA_EVICTION_POLICY_TTL:
          reference = reference_queue (trace, FALSE, ZIPF_TTL);
          break;
        case NEBULA_EVICTION_POLICY_LFU:
          reference = reference_lfu (trace);
          break;
        case NEBULA_EVICTION_POLICY_S3_FIFO:
        default:
          reference = reference_s3_fifo (trace, policies[i].promotion_threshold);
          break;
        }

      g_test_message ("%-8s hit ratio %.4f (reference %.4f), %.0f ns per request",
                      policies[i].name,
                      (double) hits[i] / ZIPF_REQUESTS, (double) reference / ZIPF_REQUESTS,
                      started * 1000.0 / ZIPF_REQUESTS);
      g_assert_cmpuint (hits[i], ==, reference);
    }

  g_assert_cmpuint (hits[4], >, hits[0]);       /* S3-FIFO beats LRU */
  g_assert_cmpuint (hits[5], >, hits[0]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/compute-cache/hit-and-miss", test_hit_and_miss);
  g_test_add_func ("/nebula/compute-cache/error-not-stored", test_error_not_stored);
  g_test_add_func ("/nebula/compute-cache/null-without-error", test_null_without_error);
  g_test_add_func ("/nebula/compute-cache/invalid-key", test_invalid_key);
  g_test_add_func ("/nebula/compute-cache/policy/lru", test_lru);
  g_test_add_func ("/nebula/compute-cache/policy/fifo", test_fifo);
  g_test_add_func ("/nebula/compute-cache/policy/lfu", test_lfu);
  g_test_add_func ("/nebula/compute-cache/policy/s3-fifo", test_s3_fifo);
  g_test_add_func ("/nebula/compute-cache/policy/s3-fifo-two-hits", test_s3_fifo_two_hits);
  g_test_add_func ("/nebula/compute-cache/policy/ttl", test_ttl_policy);
  g_test_add_func ("/nebula/compute-cache/time-to-live", test_time_to_live);
  g_test_add_func ("/nebula/compute-cache/time-to-idle", test_time_to_idle);
  g_test_add_func ("/nebula/compute-cache/max-weight", test_max_weight);
  g_test_add_func ("/nebula/compute-cache/max-weight/overflow", test_weight_overflow);
  g_test_add_func ("/nebula/compute-cache/removal-causes", test_removal_causes);
  g_test_add_func ("/nebula/compute-cache/pointer-api", test_pointer_api);
  g_test_add_func ("/nebula/compute-cache/threads", test_threads);
  g_test_add_func ("/nebula/compute-cache/hit-ratio/zipf", test_hit_ratio_zipf);

  return g_test_run ();
}
