/* nebula-compute-cache.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-cache-entry-private.h"
#include "nebula-cache-expiry-private.h"
#include "nebula-cache-key-private.h"
#include "nebula-cache-removal-private.h"
#include "nebula-cache-table-private.h"
#include "nebula-cache-weight-private.h"
#include "nebula-compute-cache-private.h"
#include "nebula-enums.h"
#include "nebula-error-private.h"
#include "nebula-sanitizer-private.h"

/**
 * NebulaComputeCache:
 *
 * A bounded get-or-compute cache.
 *
 * [method@ComputeCache.get_or_compute] returns the value stored for a key,
 * or calls a function to compute it, stores the result and returns it. An
 * error from the function is returned and nothing is stored.
 *
 * For bindings, keys are [struct@GLib.Variant]s of basic types (or tuples of
 * them), hashed and compared by value, and values are GObjects. C code with
 * string or integer keys uses the keyed API, without boxing:
 * nebula_compute_cache_new_for_strings() and the `_string` functions,
 * nebula_compute_cache_new_for_ints() and the `_int` functions; any other
 * keys and values go through nebula_compute_cache_new_full() and the
 * `_pointer` functions.
 *
 * The cache is bounded by [property@ComputeCache:max-entries] or by
 * [property@ComputeCache:max-weight] (with a weigher), evicts with one of
 * the O(1) [enum@EvictionPolicy]s, and drops entries past
 * [property@ComputeCache:time-to-live] or
 * [property@ComputeCache:time-to-idle]: an expired entry is never returned.
 * Every removal is announced by [signal@ComputeCache::entry-removed],
 * emitted after the cache's lock is released.
 *
 * The cache is thread-safe. Computations run without the lock held, so two
 * threads missing the same key at once may both compute; the first value
 * stored wins and both callers get it. [property@ComputeCache:shards]
 * splits it into independently locked parts for threads.
 *
 * [Compute caches](caches.html) describes the policies, with their hit
 * ratios and throughput.
 */

enum {
  PROP_0,
  PROP_POLICY,
  PROP_MAX_ENTRIES,
  PROP_MAX_WEIGHT,
  PROP_TIME_TO_LIVE,
  PROP_TIME_TO_IDLE,
  PROP_PROMOTION_THRESHOLD,
  PROP_SHARDS,
  PROP_TIME_LOADS,
  PROP_N_ENTRIES,
  PROP_WEIGHT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (NebulaComputeCache, nebula_compute_cache, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (NebulaCacheStats, nebula_cache_stats,
                     nebula_cache_stats_copy, nebula_cache_stats_free)

/**
 * nebula_cache_stats_copy:
 * @stats: a #NebulaCacheStats
 *
 * Copies @stats.
 *
 * Returns: (transfer full): a copy of @stats
 */
NebulaCacheStats *
nebula_cache_stats_copy (const NebulaCacheStats *stats)
{
  g_return_val_if_fail (stats != NULL, NULL);

  return g_memdup2 (stats, sizeof *stats);
}

/**
 * nebula_cache_stats_free:
 * @stats: a #NebulaCacheStats
 *
 * Frees @stats.
 */
void
nebula_cache_stats_free (NebulaCacheStats *stats)
{
  g_free (stats);
}

/* Shards */

void
nebula_compute_cache_lock_all (NebulaComputeCache *self)
{
  for (guint i = 0; i < self->n_shards; i++)
    nebula_mutex_lock (&self->shards[i].mutex);
}

void
nebula_compute_cache_unlock_all (NebulaComputeCache *self)
{
  for (guint i = self->n_shards; i > 0; i--)
    nebula_mutex_unlock (&self->shards[i - 1].mutex);
}

/* Entries */

static inline gint64
now (NebulaComputeCache *self)
{
  return self->clock != NULL ? self->clock (self->clock_data) : g_get_monotonic_time ();
}

/* The time entries are stamped with: only a cache whose entries expire, or
 * whose written times are read (the asynchronous cache's refresh-after),
 * reads its clock; the others stamp 0 and read no clock at all. The clock
 * and uses_time change with every shard locked, so one shard's lock is
 * enough to read them. */
static inline gint64
entry_time (NebulaComputeCache *self)
{
  return self->uses_time ? now (self) : 0;
}

void
nebula_compute_cache_track_time (NebulaComputeCache *self)
{
  nebula_compute_cache_lock_all (self);
  self->uses_time = TRUE;
  nebula_compute_cache_unlock_all (self);
}

gint64
nebula_compute_cache_now (NebulaComputeCache *self)
{
  gint64 result;

  nebula_mutex_lock (&self->shards[0].mutex);
  result = now (self);
  nebula_mutex_unlock (&self->shards[0].mutex);
  return result;
}

static inline gpointer
ref_value (NebulaComputeCache *self,
           gpointer            value)
{
  return self->keys == NEBULA_CACHE_KEYS_VARIANT ? g_object_ref (value) : value;
}

/* Keys. Every internal function takes the key as the API does (@probe: a
 * NebulaCacheVariantProbe of the GVariant, the caller's pointer, a string,
 * a pointer to a gint64), and
 * @owned, the key if the call owns it (a floating GVariant it sank, the
 * key of a `_pointer` call), else NULL: a hit then neither copies nor
 * references the key. */

static inline guint
key_hash (NebulaComputeCache *self,
          gconstpointer       probe)
{
  switch (self->keys)
    {
    case NEBULA_CACHE_KEYS_INT:
      return nebula_cache_int_hash (*(const gint64 *) probe);
    case NEBULA_CACHE_KEYS_STRING:
      return g_str_hash (probe);
    case NEBULA_CACHE_KEYS_VARIANT:
      return ((const NebulaCacheVariantProbe *) probe)->hash;
    case NEBULA_CACHE_KEYS_POINTER:
    default:
      return self->hash_func (probe);
    }
}

/* The key as the program's functions (weighers) see it. */
static inline gconstpointer
user_key (NebulaComputeCache *self,
          gconstpointer       probe)
{
  if (self->keys == NEBULA_CACHE_KEYS_VARIANT)
    return ((const NebulaCacheVariantProbe *) probe)->variant;
  return probe;
}

/* The key an entry keeps. */
static inline gpointer
key_to_store (NebulaComputeCache *self,
              gconstpointer       probe,
              gpointer            owned)
{
  if (owned != NULL)
    return owned;
  switch (self->keys)
    {
    case NEBULA_CACHE_KEYS_INT:
      return NULL;
    case NEBULA_CACHE_KEYS_STRING:
      return g_strdup (probe);
    case NEBULA_CACHE_KEYS_VARIANT:
      return g_variant_ref (((const NebulaCacheVariantProbe *) probe)->variant);
    case NEBULA_CACHE_KEYS_POINTER:
    default:
      return (gpointer) probe;
    }
}

static inline gpointer
call_compute (NebulaComputeCache  *self,
              GCallback            func,
              gconstpointer        probe,
              gpointer             user_data,
              GError             **error)
{
  switch (self->keys)
    {
    case NEBULA_CACHE_KEYS_INT:
      return ((NebulaIntComputeFunc) func) (*(const gint64 *) probe, user_data, error);
    case NEBULA_CACHE_KEYS_STRING:
      return ((NebulaStringComputeFunc) func) (probe, user_data, error);
    case NEBULA_CACHE_KEYS_VARIANT:
      return ((NebulaComputeFunc) func) (((const NebulaCacheVariantProbe *) probe)->variant,
                                         user_data, error);
    case NEBULA_CACHE_KEYS_POINTER:
    default:
      return ((NebulaPointerComputeFunc) func) (probe, user_data, error);
    }
}

/* The one get-or-compute of every API. For variant caches the result is a
 * new reference, for the others it is borrowed. */
static gpointer
get_or_compute (NebulaComputeCache  *self,
                gconstpointer        probe,
                gpointer             owned,
                GCallback            func,
                gpointer             user_data,
                GError             **error)
{
  Graveyard graveyard = GRAVEYARD_INIT;
  guint hash = key_hash (self, probe);
  NebulaCacheShard *shard = nebula_compute_cache_shard_of (self, hash);
  GError *local_error = NULL;
  gpointer value;
  gpointer result = NULL;
  gpointer key = NULL;
  Entry *entry;
  gint64 started;
  gint64 finished;
  gint64 time;
  guint64 weight = 0;

  /* A hit takes the lock once, a miss twice: to look, and to publish. */
  nebula_mutex_lock (&shard->mutex);
  time = entry_time (self);
  entry = nebula_cache_find_live (shard, probe, hash, time, &graveyard);
  shard->stats.requests++;
  if (entry != NULL)
    {
      shard->stats.hits++;
      nebula_cache_entry_touch (shard, entry, time);
      result = ref_value (self, entry->value);
    }
  else
    shard->stats.misses++;
  nebula_mutex_unlock (&shard->mutex);
  nebula_cache_removal_flush (self, &graveyard);

  if (result != NULL)
    {
      nebula_cache_removal_free_data (self, owned, NULL);
      return result;
    }

  /* The two clock reads of a miss time the computation for load_time_us,
   * unless time-loads is off. */
  started = self->time_loads ? g_get_monotonic_time () : 0;
  value = call_compute (self, func, probe, user_data, &local_error);
  finished = self->time_loads ? g_get_monotonic_time () : 0;

  /* The weigher is the program's code: call it without the lock. */
  if (value != NULL)
    weight = nebula_cache_weigh (self, user_key (self, probe), value);

  nebula_mutex_lock (&shard->mutex);
  shard->stats.load_time_us += finished - started;
  if (value == NULL)
    {
      shard->stats.loads_failed++;
      nebula_mutex_unlock (&shard->mutex);
      nebula_cache_removal_free_data (self, owned, NULL);
      if (local_error == NULL)
        nebula_set_error (&local_error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                          "The compute function returned no value and no error");
      g_propagate_error (error, local_error);
      return NULL;
    }
  shard->stats.loads_ok++;
  time = entry_time (self);
  entry = nebula_cache_find_live (shard, probe, hash, time, &graveyard);
  if (entry != NULL)
    {
      /* Another thread stored a value while this one computed: keep it. */
      result = ref_value (self, entry->value);
      nebula_mutex_unlock (&shard->mutex);
      nebula_cache_removal_free_data (self, owned, value);
    }
  else if (nebula_cache_entry_store (shard, probe, hash, key = key_to_store (self, probe, owned),
                                     value, weight, time, TRUE, &graveyard, error))
    {
      result = ref_value (self, value);
      nebula_mutex_unlock (&shard->mutex);
    }
  else
    {
      nebula_mutex_unlock (&shard->mutex);
      nebula_cache_removal_free_data (self, key, value);
    }

  nebula_cache_removal_flush (self, &graveyard);
  return result;
}

/* Takes @value, and @owned if not NULL. */
static gboolean
insert (NebulaComputeCache  *self,
        gconstpointer        probe,
        gpointer             owned,
        gpointer             value,
        GError             **error)
{
  Graveyard graveyard = GRAVEYARD_INIT;
  guint hash = key_hash (self, probe);
  NebulaCacheShard *shard = nebula_compute_cache_shard_of (self, hash);
  guint64 weight = nebula_cache_weigh (self, user_key (self, probe), value);
  gpointer key;
  gboolean stored;
  gint64 time;

  nebula_mutex_lock (&shard->mutex);
  time = entry_time (self);
  nebula_cache_expire (shard, time, &graveyard);
  key = key_to_store (self, probe, owned);
  stored = nebula_cache_entry_store (shard, probe, hash, key, value, weight, time, FALSE,
                                     &graveyard, error);
  nebula_mutex_unlock (&shard->mutex);

  if (!stored)
    nebula_cache_removal_free_data (self, key, value);
  nebula_cache_removal_flush (self, &graveyard);
  return stored;
}

static gpointer
lookup (NebulaComputeCache *self,
        gconstpointer       probe,
        gboolean            count,
        gint64             *written_at)
{
  Graveyard graveyard = GRAVEYARD_INIT;
  guint hash = key_hash (self, probe);
  NebulaCacheShard *shard = nebula_compute_cache_shard_of (self, hash);
  gpointer result = NULL;
  Entry *entry;
  gint64 time;

  nebula_mutex_lock (&shard->mutex);
  time = entry_time (self);
  entry = nebula_cache_find_live (shard, probe, hash, time, &graveyard);
  if (count)
    shard->stats.requests++;
  if (entry != NULL)
    {
      if (count)
        shard->stats.hits++;
      nebula_cache_entry_touch (shard, entry, time);
      result = ref_value (self, entry->value);
      if (written_at != NULL)
        *written_at = entry->written_at;
    }
  else if (count)
    shard->stats.misses++;
  nebula_mutex_unlock (&shard->mutex);

  nebula_cache_removal_flush (self, &graveyard);
  return result;
}

static gboolean
invalidate (NebulaComputeCache *self,
            gconstpointer       probe)
{
  Graveyard graveyard = GRAVEYARD_INIT;
  guint hash = key_hash (self, probe);
  NebulaCacheShard *shard = nebula_compute_cache_shard_of (self, hash);
  Entry *entry;
  gboolean removed = FALSE;

  nebula_mutex_lock (&shard->mutex);
  entry = nebula_cache_find_live (shard, probe, hash, entry_time (self), &graveyard);
  if (entry != NULL)
    {
      nebula_cache_entry_remove (shard, entry, NEBULA_REMOVAL_CAUSE_EXPLICIT, &graveyard);
      removed = TRUE;
    }
  nebula_mutex_unlock (&shard->mutex);

  nebula_cache_removal_flush (self, &graveyard);
  return removed;
}

/* A GVariant key as the API takes it: a floating one is consumed (the call
 * owns it), a held one is only referenced if stored. */
static inline GVariant *
take_floating_key (GVariant *key)
{
  return g_variant_is_floating (key) ? g_variant_ref_sink (key) : NULL;
}

static void
set_keys (NebulaComputeCache *self,
          NebulaCacheKeys     keys,
          GHashFunc           hash_func,
          GEqualFunc          equal_func,
          GDestroyNotify      key_destroy,
          GDestroyNotify      value_destroy)
{
  self->keys = keys;
  self->hash_func = hash_func;
  self->equal_func = equal_func;
  self->key_destroy = key_destroy;
  self->value_destroy = value_destroy;
  for (guint i = 0; i < self->n_shards; i++)
    {
      self->shards[i].keys = keys;
      self->shards[i].equal_func = equal_func;
    }
}

static NebulaComputeCache *
new_valist (NebulaCacheKeys     keys,
            GHashFunc           hash_func,
            GEqualFunc          equal_func,
            GDestroyNotify      key_destroy,
            GDestroyNotify      value_destroy,
            const char         *first_property_name,
            va_list             args)
{
  NebulaComputeCache *self;

  self = (NebulaComputeCache *) g_object_new_valist (NEBULA_TYPE_COMPUTE_CACHE,
                                                     first_property_name, args);
  set_keys (self, keys, hash_func, equal_func, key_destroy, value_destroy);
  return self;
}

/**
 * nebula_compute_cache_new:
 * @policy: the eviction policy
 * @max_entries: the most entries the cache holds, 0 for no limit
 *
 * Creates a cache with #GVariant keys and #GObject values.
 *
 * Returns: (transfer full): a new #NebulaComputeCache
 */
NebulaComputeCache *
nebula_compute_cache_new (NebulaEvictionPolicy policy,
                          guint                max_entries)
{
  return g_object_new (NEBULA_TYPE_COMPUTE_CACHE,
                       "policy", policy,
                       "max-entries", max_entries,
                       NULL);
}

/**
 * nebula_compute_cache_new_full: (skip)
 * @hash_func: hashes a key
 * @equal_func: compares two keys
 * @key_destroy: (nullable): frees a key the cache owns
 * @value_destroy: (nullable): frees a value the cache owns
 * @first_property_name: (nullable): the name of the first property to set,
 *   as for g_object_new()
 * @...: its value, then more names and values, ending with %NULL
 *
 * Creates a cache with keys and values of any type, used through the
 * `_pointer` functions. #NebulaComputeCache::entry-removed is not emitted
 * by such a cache (its keys are no #GVariant); @key_destroy and
 * @value_destroy see every removal.
 *
 * |[<!-- language="C" -->
 * cache = nebula_compute_cache_new_full (g_direct_hash, g_direct_equal, NULL, NULL,
 *                                        "policy", NEBULA_EVICTION_POLICY_S3_FIFO,
 *                                        "max-entries", 1000,
 *                                        NULL);
 * ]|
 *
 * Returns: (transfer full): a new #NebulaComputeCache
 */
NebulaComputeCache *
nebula_compute_cache_new_full (GHashFunc       hash_func,
                               GEqualFunc      equal_func,
                               GDestroyNotify  key_destroy,
                               GDestroyNotify  value_destroy,
                               const char     *first_property_name,
                               ...)
{
  NebulaComputeCache *self;
  va_list args;

  g_return_val_if_fail (hash_func != NULL, NULL);

  va_start (args, first_property_name);
  self = new_valist (NEBULA_CACHE_KEYS_POINTER, hash_func, equal_func, key_destroy, value_destroy,
                     first_property_name, args);
  va_end (args);
  return self;
}

/**
 * nebula_compute_cache_new_for_strings: (skip)
 * @value_destroy: (nullable): frees a value the cache owns
 * @first_property_name: (nullable): the name of the first property to set,
 *   as for g_object_new()
 * @...: its value, then more names and values, ending with %NULL
 *
 * Creates a cache keyed by strings, used through the `_string` functions:
 * nebula_compute_cache_get_or_compute_string() and its siblings. The cache
 * hashes and compares the strings itself, looks them up without copying
 * them, and keeps a copy of the key of each entry it stores. Values are
 * pointers, freed with @value_destroy.
 *
 * #NebulaComputeCache::entry-removed is not emitted by such a cache;
 * @value_destroy sees every removal.
 *
 * |[<!-- language="C" -->
 * cache = nebula_compute_cache_new_for_strings (g_free,
 *                                               "policy", NEBULA_EVICTION_POLICY_LRU,
 *                                               "max-entries", 10000,
 *                                               NULL);
 * page = nebula_compute_cache_get_or_compute_string (cache, "/index.html", render_cb, NULL, &error);
 * ]|
 *
 * Returns: (transfer full): a new #NebulaComputeCache
 */
NebulaComputeCache *
nebula_compute_cache_new_for_strings (GDestroyNotify  value_destroy,
                                      const char     *first_property_name,
                                      ...)
{
  NebulaComputeCache *self;
  va_list args;

  va_start (args, first_property_name);
  self = new_valist (NEBULA_CACHE_KEYS_STRING, g_str_hash, NULL, g_free, value_destroy,
                     first_property_name, args);
  va_end (args);
  return self;
}

/**
 * nebula_compute_cache_new_for_ints: (skip)
 * @value_destroy: (nullable): frees a value the cache owns
 * @first_property_name: (nullable): the name of the first property to set,
 *   as for g_object_new()
 * @...: its value, then more names and values, ending with %NULL
 *
 * Creates a cache keyed by 64-bit integers, used through the `_int`
 * functions: nebula_compute_cache_get_or_compute_int() and its siblings.
 * Keys are kept in the entries, never boxed. Values are pointers, freed
 * with @value_destroy.
 *
 * #NebulaComputeCache::entry-removed is not emitted by such a cache;
 * @value_destroy sees every removal.
 *
 * |[<!-- language="C" -->
 * cache = nebula_compute_cache_new_for_ints (NULL,
 *                                            "policy", NEBULA_EVICTION_POLICY_S3_FIFO,
 *                                            "max-entries", 10000,
 *                                            NULL);
 * ]|
 *
 * Returns: (transfer full): a new #NebulaComputeCache
 */
NebulaComputeCache *
nebula_compute_cache_new_for_ints (GDestroyNotify  value_destroy,
                                   const char     *first_property_name,
                                   ...)
{
  NebulaComputeCache *self;
  va_list args;

  va_start (args, first_property_name);
  self = new_valist (NEBULA_CACHE_KEYS_INT, NULL, NULL, NULL, value_destroy,
                     first_property_name, args);
  va_end (args);
  return self;
}

/**
 * nebula_compute_cache_get_or_compute:
 * @self: a #NebulaComputeCache
 * @key: the key, a #GVariant of a basic type or a tuple of them
 * @func: (scope call): computes the value on a miss
 * @user_data: data for @func
 * @error: return location for an error
 *
 * Returns the live value stored for @key, or calls @func once, stores what
 * it returns and returns that. When @func fails its error is returned and
 * nothing is stored. A floating @key is consumed.
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 *   (%NEBULA_CACHE_ERROR_INVALID_KEY, %NEBULA_CACHE_ERROR_OVERFLOW, or the
 *   error of @func)
 */
GObject *
nebula_compute_cache_get_or_compute (NebulaComputeCache  *self,
                                     GVariant            *key,
                                     NebulaComputeFunc    func,
                                     gpointer             user_data,
                                     GError             **error)
{
  NebulaCacheVariantProbe probe;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_VARIANT, NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!nebula_cache_variant_probe_init (&probe, key, error))
    return NULL;

  return get_or_compute (self, &probe, take_floating_key (key), G_CALLBACK (func), user_data, error);
}

/**
 * nebula_compute_cache_get:
 * @self: a #NebulaComputeCache
 * @key: the key
 * @error: return location for an error
 *
 * Looks @key up without computing. Counts a hit or a miss.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL if @key has no
 *   live entry (with @error set only for an invalid key)
 */
GObject *
nebula_compute_cache_get (NebulaComputeCache  *self,
                          GVariant            *key,
                          GError             **error)
{
  g_autoptr(GVariant) owned = NULL;
  NebulaCacheVariantProbe probe;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_VARIANT, NULL);

  if (!nebula_cache_variant_probe_init (&probe, key, error))
    return NULL;

  owned = take_floating_key (key);
  return lookup (self, &probe, TRUE, NULL);
}

GObject *
nebula_compute_cache_peek (NebulaComputeCache *self,
                           GVariant           *key,
                           gint64             *written_at)
{
  NebulaCacheVariantProbe probe;

  if (!nebula_cache_variant_probe_init (&probe, key, NULL))
    return NULL;
  return lookup (self, &probe, FALSE, written_at);
}

/**
 * nebula_compute_cache_insert:
 * @self: a #NebulaComputeCache
 * @key: the key
 * @value: the value
 * @error: return location for an error
 *
 * Stores @value for @key, replacing any value there, and evicts as the
 * bound requires.
 *
 * Returns: %TRUE if stored; %FALSE with %NEBULA_CACHE_ERROR_INVALID_KEY or
 *   %NEBULA_CACHE_ERROR_OVERFLOW (the value weighs more than
 *   #NebulaComputeCache:max-weight)
 */
gboolean
nebula_compute_cache_insert (NebulaComputeCache  *self,
                             GVariant            *key,
                             GObject             *value,
                             GError             **error)
{
  NebulaCacheVariantProbe probe;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_VARIANT, FALSE);
  g_return_val_if_fail (G_IS_OBJECT (value), FALSE);

  if (!nebula_cache_variant_probe_init (&probe, key, error))
    return FALSE;

  return insert (self, &probe, take_floating_key (key), g_object_ref (value), error);
}

/**
 * nebula_compute_cache_invalidate:
 * @self: a #NebulaComputeCache
 * @key: the key
 *
 * Removes the entry of @key, if any, with %NEBULA_REMOVAL_CAUSE_EXPLICIT.
 *
 * Returns: %TRUE if a live entry was removed
 */
gboolean
nebula_compute_cache_invalidate (NebulaComputeCache *self,
                                 GVariant           *key)
{
  g_autoptr(GVariant) owned = NULL;
  NebulaCacheVariantProbe probe;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_VARIANT, FALSE);

  if (!nebula_cache_variant_probe_init (&probe, key, NULL))
    return FALSE;

  owned = take_floating_key (key);
  return invalidate (self, &probe);
}

/**
 * nebula_compute_cache_get_or_compute_pointer: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_full()
 * @key: the key; the cache takes it (it is stored, or freed with the key
 *   destroy function)
 * @func: (scope call): computes the value on a miss
 * @user_data: data for @func
 * @error: return location for an error
 *
 * The get-or-compute of caches with arbitrary keys and values.
 *
 * Returns: the value, owned by the cache (valid until its entry is
 *   removed), or %NULL with @error set
 */
gpointer
nebula_compute_cache_get_or_compute_pointer (NebulaComputeCache        *self,
                                             gpointer                   key,
                                             NebulaPointerComputeFunc   func,
                                             gpointer                   user_data,
                                             GError                   **error)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_POINTER, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return get_or_compute (self, key, key, G_CALLBACK (func), user_data, error);
}

/**
 * nebula_compute_cache_get_pointer: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_full()
 * @key: the key
 *
 * Looks @key up. Counts a hit or a miss.
 *
 * Returns: (nullable): the value, owned by the cache, or %NULL
 */
gpointer
nebula_compute_cache_get_pointer (NebulaComputeCache *self,
                                  gconstpointer       key)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_POINTER, NULL);

  return lookup (self, key, TRUE, NULL);
}

/**
 * nebula_compute_cache_insert_pointer: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_full()
 * @key: the key; the cache takes it
 * @value: the value; the cache takes it
 * @error: return location for an error
 *
 * Stores @value for @key. On failure both are freed with the destroy
 * functions.
 *
 * Returns: %TRUE if stored, %FALSE with %NEBULA_CACHE_ERROR_OVERFLOW
 */
gboolean
nebula_compute_cache_insert_pointer (NebulaComputeCache  *self,
                                     gpointer             key,
                                     gpointer             value,
                                     GError             **error)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_POINTER, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  return insert (self, key, key, value, error);
}

/**
 * nebula_compute_cache_invalidate_pointer: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_full()
 * @key: the key
 *
 * Removes the entry of @key, if any.
 *
 * Returns: %TRUE if a live entry was removed
 */
gboolean
nebula_compute_cache_invalidate_pointer (NebulaComputeCache *self,
                                         gconstpointer       key)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_POINTER, FALSE);

  return invalidate (self, key);
}

/**
 * nebula_compute_cache_get_or_compute_string: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_strings()
 * @key: the key; the cache copies it when it stores an entry
 * @func: (scope call): computes the value on a miss
 * @user_data: data for @func
 * @error: return location for an error
 *
 * Returns the live value stored for @key, or calls @func once, stores what
 * it returns and returns that. A hit neither copies nor allocates.
 *
 * Returns: the value, owned by the cache (valid until its entry is
 *   removed), or %NULL with @error set (%NEBULA_CACHE_ERROR_INVALID_KEY for
 *   a %NULL @key, %NEBULA_CACHE_ERROR_OVERFLOW, or the error of @func)
 */
gpointer
nebula_compute_cache_get_or_compute_string (NebulaComputeCache       *self,
                                            const char               *key,
                                            NebulaStringComputeFunc   func,
                                            gpointer                  user_data,
                                            GError                  **error)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_STRING, NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (key == NULL)
    {
      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY, NULL,
                        "The key is NULL; a string cache takes a string");
      return NULL;
    }

  return get_or_compute (self, key, NULL, G_CALLBACK (func), user_data, error);
}

/**
 * nebula_compute_cache_get_string: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_strings()
 * @key: (nullable): the key
 *
 * Looks @key up without computing. Counts a hit or a miss; a %NULL @key
 * has no entry and counts nothing.
 *
 * Returns: (nullable): the value, owned by the cache, or %NULL
 */
gpointer
nebula_compute_cache_get_string (NebulaComputeCache *self,
                                 const char         *key)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_STRING, NULL);

  return key != NULL ? lookup (self, key, TRUE, NULL) : NULL;
}

/**
 * nebula_compute_cache_insert_string: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_strings()
 * @key: the key; the cache copies it
 * @value: the value; the cache takes it
 * @error: return location for an error
 *
 * Stores @value for @key, replacing any value there. On failure @value is
 * freed with the value destroy function.
 *
 * Returns: %TRUE if stored, %FALSE with %NEBULA_CACHE_ERROR_INVALID_KEY
 *   (a %NULL @key), %NEBULA_CACHE_ERROR_FAILED (a %NULL @value) or
 *   %NEBULA_CACHE_ERROR_OVERFLOW
 */
gboolean
nebula_compute_cache_insert_string (NebulaComputeCache  *self,
                                    const char          *key,
                                    gpointer             value,
                                    GError             **error)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_STRING, FALSE);

  if (key == NULL || value == NULL)
    {
      if (key == NULL)
        nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY, NULL,
                          "The key is NULL; a string cache takes a string");
      else
        nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                          "The value is NULL; a cache stores values, not their absence");
      nebula_cache_removal_free_data (self, NULL, value);
      return FALSE;
    }

  return insert (self, key, NULL, value, error);
}

/**
 * nebula_compute_cache_invalidate_string: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_strings()
 * @key: (nullable): the key
 *
 * Removes the entry of @key, if any.
 *
 * Returns: %TRUE if a live entry was removed
 */
gboolean
nebula_compute_cache_invalidate_string (NebulaComputeCache *self,
                                        const char         *key)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_STRING, FALSE);

  return key != NULL && invalidate (self, key);
}

/**
 * nebula_compute_cache_get_or_compute_int: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_ints()
 * @key: the key
 * @func: (scope call): computes the value on a miss
 * @user_data: data for @func
 * @error: return location for an error
 *
 * Returns the live value stored for @key, or calls @func once, stores what
 * it returns and returns that.
 *
 * Returns: the value, owned by the cache (valid until its entry is
 *   removed), or %NULL with @error set (%NEBULA_CACHE_ERROR_OVERFLOW or
 *   the error of @func)
 */
gpointer
nebula_compute_cache_get_or_compute_int (NebulaComputeCache    *self,
                                         gint64                 key,
                                         NebulaIntComputeFunc   func,
                                         gpointer               user_data,
                                         GError               **error)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_INT, NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return get_or_compute (self, &key, NULL, G_CALLBACK (func), user_data, error);
}

/**
 * nebula_compute_cache_get_int: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_ints()
 * @key: the key
 *
 * Looks @key up without computing. Counts a hit or a miss.
 *
 * Returns: (nullable): the value, owned by the cache, or %NULL
 */
gpointer
nebula_compute_cache_get_int (NebulaComputeCache *self,
                              gint64              key)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_INT, NULL);

  return lookup (self, &key, TRUE, NULL);
}

/**
 * nebula_compute_cache_insert_int: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_ints()
 * @key: the key
 * @value: the value; the cache takes it
 * @error: return location for an error
 *
 * Stores @value for @key, replacing any value there. On failure @value is
 * freed with the value destroy function.
 *
 * Returns: %TRUE if stored, %FALSE with %NEBULA_CACHE_ERROR_FAILED (a
 *   %NULL @value) or %NEBULA_CACHE_ERROR_OVERFLOW
 */
gboolean
nebula_compute_cache_insert_int (NebulaComputeCache  *self,
                                 gint64               key,
                                 gpointer             value,
                                 GError             **error)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_INT, FALSE);

  if (value == NULL)
    {
      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                        "The value is NULL; a cache stores values, not their absence");
      return FALSE;
    }

  return insert (self, &key, NULL, value, error);
}

/**
 * nebula_compute_cache_invalidate_int: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_ints()
 * @key: the key
 *
 * Removes the entry of @key, if any.
 *
 * Returns: %TRUE if a live entry was removed
 */
gboolean
nebula_compute_cache_invalidate_int (NebulaComputeCache *self,
                                     gint64              key)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_INT, FALSE);

  return invalidate (self, &key);
}

/**
 * nebula_compute_cache_invalidate_all:
 * @self: a #NebulaComputeCache
 *
 * Removes every entry with %NEBULA_REMOVAL_CAUSE_EXPLICIT.
 */
void
nebula_compute_cache_invalidate_all (NebulaComputeCache *self)
{
  g_return_if_fail (NEBULA_IS_COMPUTE_CACHE (self));

  for (guint i = 0; i < self->n_shards; i++)
    {
      NebulaCacheShard *shard = &self->shards[i];
      Graveyard graveyard = GRAVEYARD_INIT;

      nebula_mutex_lock (&shard->mutex);
      for (guint b = 0; b < (1u << shard->table.bits); b++)
        while (shard->table.buckets[b] != NULL)
          nebula_cache_entry_remove (shard, shard->table.buckets[b], NEBULA_REMOVAL_CAUSE_EXPLICIT,
                                     &graveyard);
      nebula_mutex_unlock (&shard->mutex);

      nebula_cache_removal_flush (self, &graveyard);
    }
}

/**
 * nebula_compute_cache_get_n_entries:
 * @self: a #NebulaComputeCache
 *
 * The number of stored entries, expired ones that were not dropped yet
 * included.
 *
 * Returns: the number of entries
 */
guint
nebula_compute_cache_get_n_entries (NebulaComputeCache *self)
{
  guint n = 0;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), 0);

  for (guint i = 0; i < self->n_shards; i++)
    {
      nebula_mutex_lock (&self->shards[i].mutex);
      n += self->shards[i].table.size;
      nebula_mutex_unlock (&self->shards[i].mutex);
    }
  return n;
}

/**
 * nebula_compute_cache_get_weight:
 * @self: a #NebulaComputeCache
 *
 * The total weight of the stored entries (their number without a weigher).
 *
 * Returns: the weight
 */
guint64
nebula_compute_cache_get_weight (NebulaComputeCache *self)
{
  guint64 weight = 0;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), 0);

  for (guint i = 0; i < self->n_shards; i++)
    {
      nebula_mutex_lock (&self->shards[i].mutex);
      weight += self->shards[i].weight;
      nebula_mutex_unlock (&self->shards[i].mutex);
    }
  return weight;
}

/**
 * nebula_compute_cache_get_stats:
 * @self: a #NebulaComputeCache
 *
 * A snapshot of the counters, summed over the shards. `requests` is
 * always `hits + misses`.
 *
 * Returns: (transfer full): the counters
 */
NebulaCacheStats *
nebula_compute_cache_get_stats (NebulaComputeCache *self)
{
  NebulaCacheStats *stats;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);

  stats = g_new0 (NebulaCacheStats, 1);
  for (guint i = 0; i < self->n_shards; i++)
    {
      const NebulaCacheStats *part = &self->shards[i].stats;
      guint64 *sum = (guint64 *) stats;
      const guint64 *add = (const guint64 *) part;

      /* Every field is a guint64 counter. */
      G_STATIC_ASSERT (sizeof (NebulaCacheStats) % sizeof (guint64) == 0);
      nebula_mutex_lock (&self->shards[i].mutex);
      for (gsize f = 0; f < sizeof (NebulaCacheStats) / sizeof (guint64); f++)
        sum[f] += add[f];
      nebula_mutex_unlock (&self->shards[i].mutex);
    }
  return stats;
}

/**
 * nebula_compute_cache_set_clock:
 * @self: a #NebulaComputeCache
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   the clock, or %NULL for g_get_monotonic_time()
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Replaces the clock that times entries. Tests use it to move time by hand.
 * The clock is called with the cache's lock held: it must not call into
 * the cache.
 */
void
nebula_compute_cache_set_clock (NebulaComputeCache *self,
                                NebulaClockFunc     func,
                                gpointer            user_data,
                                GDestroyNotify      destroy)
{
  GDestroyNotify old_destroy;
  gpointer old_data;

  g_return_if_fail (NEBULA_IS_COMPUTE_CACHE (self));

  nebula_compute_cache_lock_all (self);
  old_destroy = self->clock_destroy;
  old_data = self->clock_data;
  self->clock = func;
  self->clock_data = user_data;
  self->clock_destroy = destroy;
  nebula_compute_cache_unlock_all (self);

  if (old_destroy != NULL)
    old_destroy (old_data);
}


/* Shards: construction */

#define MAX_SHARD_BITS 8

/* The number of shards, as a power of two: the one asked for, rounded up;
 * 0 asks for two per processor. A bounded cache has at most as many shards
 * as its bound has units, so that every shard holds something. */
static guint
shard_bits_for (NebulaComputeCache *self)
{
  guint wanted = self->requested_shards;
  guint bits = 0;

  if (wanted == 0)
    wanted = 2 * (guint) g_get_num_processors ();
  while (bits < MAX_SHARD_BITS && (1u << bits) < wanted)
    bits++;
  while (bits > 0 &&
         ((self->max_entries > 0 && (1u << bits) > self->max_entries) ||
          (self->max_weight > 0 && (1u << bits) > self->max_weight)))
    bits--;
  return bits;
}

/* Shard @index's share of @bound: the bound split evenly, the remainder
 * going to the first shards, so that the shares add up to the bound. */
static guint64
share_of (guint64 bound,
          guint   n_shards,
          guint   index)
{
  return bound / n_shards + (index < bound % n_shards ? 1 : 0);
}

static void
shard_init (NebulaComputeCache *self,
            NebulaCacheShard   *shard,
            guint               index)
{
  g_mutex_init (&shard->mutex);
  nebula_cache_table_init (&shard->table);
  shard->policy = self->policy;
  shard->max_entries = (guint) share_of (self->max_entries, self->n_shards, index);
  shard->max_weight = share_of (self->max_weight, self->n_shards, index);
  shard->total_max_weight = self->max_weight;
  shard->n_shards = self->n_shards;
  shard->time_to_live = self->time_to_live;
  shard->time_to_idle = self->time_to_idle;
  shard->promotion_threshold = self->promotion_threshold;
  nebula_cache_queue_init (&shard->policy_queue);
  nebula_cache_queue_init (&shard->main_queue);
  nebula_cache_queue_init (&shard->buckets);
  nebula_cache_queue_init (&shard->write_queue);
  nebula_cache_queue_init (&shard->access_queue);
  nebula_cache_ghost_init (&shard->ghost);
}

static void
shard_clear (NebulaComputeCache *self,
             NebulaCacheShard   *shard)
{
  for (guint b = 0; b < (1u << shard->table.bits); b++)
    {
      Entry *entry = shard->table.buckets[b];

      while (entry != NULL)
        {
          Entry *next = entry->chain;

          nebula_cache_removal_free_data (self, entry->key, entry->value);
          g_free (entry);
          entry = next;
        }
    }
  nebula_cache_table_clear (&shard->table);
  while (shard->free_entries != NULL)
    {
      Entry *next = shard->free_entries->chain;

      g_free (shard->free_entries);
      shard->free_entries = next;
    }

  while (!nebula_cache_queue_is_empty (&shard->buckets))
    {
      Link *link = nebula_cache_queue_head (&shard->buckets);

      nebula_cache_queue_unlink (&shard->buckets, link, 0);
      g_free (link);
    }
  nebula_cache_ghost_clear (&shard->ghost);
  g_mutex_clear (&shard->mutex);
}

static void
nebula_compute_cache_finalize (GObject *object)
{
  NebulaComputeCache *self = NEBULA_COMPUTE_CACHE (object);

  for (guint i = 0; i < self->n_shards; i++)
    shard_clear (self, &self->shards[i]);
  g_free (self->shards);

  if (self->weigher_destroy != NULL)
    self->weigher_destroy (self->weigher_data);
  if (self->object_weigher_destroy != NULL)
    self->object_weigher_destroy (self->object_weigher_data);
  if (self->clock_destroy != NULL)
    self->clock_destroy (self->clock_data);

  G_OBJECT_CLASS (nebula_compute_cache_parent_class)->finalize (object);
}

static void
nebula_compute_cache_constructed (GObject *object)
{
  NebulaComputeCache *self = NEBULA_COMPUTE_CACHE (object);

  G_OBJECT_CLASS (nebula_compute_cache_parent_class)->constructed (object);

  self->uses_time = self->time_to_live > 0 || self->time_to_idle > 0;
  self->shard_bits = shard_bits_for (self);
  self->n_shards = 1u << self->shard_bits;
  self->shards = g_new0 (NebulaCacheShard, self->n_shards);
  for (guint i = 0; i < self->n_shards; i++)
    shard_init (self, &self->shards[i], i);
  set_keys (self, self->keys, self->hash_func, self->equal_func, self->key_destroy,
            self->value_destroy);
}

static void
nebula_compute_cache_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  NebulaComputeCache *self = NEBULA_COMPUTE_CACHE (object);

  switch (prop_id)
    {
    case PROP_POLICY:
      g_value_set_enum (value, self->policy);
      break;
    case PROP_MAX_ENTRIES:
      g_value_set_uint (value, self->max_entries);
      break;
    case PROP_MAX_WEIGHT:
      g_value_set_uint64 (value, self->max_weight);
      break;
    case PROP_TIME_TO_LIVE:
      g_value_set_uint64 (value, self->time_to_live);
      break;
    case PROP_TIME_TO_IDLE:
      g_value_set_uint64 (value, self->time_to_idle);
      break;
    case PROP_PROMOTION_THRESHOLD:
      g_value_set_uint (value, self->promotion_threshold);
      break;
    case PROP_SHARDS:
      g_value_set_uint (value, self->n_shards);
      break;
    case PROP_TIME_LOADS:
      g_value_set_boolean (value, self->time_loads);
      break;
    case PROP_N_ENTRIES:
      g_value_set_uint (value, nebula_compute_cache_get_n_entries (self));
      break;
    case PROP_WEIGHT:
      g_value_set_uint64 (value, nebula_compute_cache_get_weight (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_compute_cache_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  NebulaComputeCache *self = NEBULA_COMPUTE_CACHE (object);

  switch (prop_id)
    {
    case PROP_POLICY:
      self->policy = g_value_get_enum (value);
      break;
    case PROP_MAX_ENTRIES:
      self->max_entries = g_value_get_uint (value);
      break;
    case PROP_MAX_WEIGHT:
      self->max_weight = g_value_get_uint64 (value);
      break;
    case PROP_TIME_TO_LIVE:
      self->time_to_live = g_value_get_uint64 (value);
      break;
    case PROP_TIME_TO_IDLE:
      self->time_to_idle = g_value_get_uint64 (value);
      break;
    case PROP_PROMOTION_THRESHOLD:
      self->promotion_threshold = g_value_get_uint (value);
      break;
    case PROP_SHARDS:
      self->requested_shards = g_value_get_uint (value);
      break;
    case PROP_TIME_LOADS:
      self->time_loads = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_compute_cache_class_init (NebulaComputeCacheClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = nebula_compute_cache_constructed;
  object_class->finalize = nebula_compute_cache_finalize;
  object_class->get_property = nebula_compute_cache_get_property;
  object_class->set_property = nebula_compute_cache_set_property;

  /**
   * NebulaComputeCache:policy:
   *
   * Which entry leaves when the cache is full.
   */
  properties[PROP_POLICY] =
    g_param_spec_enum ("policy", NULL, NULL,
                       NEBULA_TYPE_EVICTION_POLICY, NEBULA_EVICTION_POLICY_LRU,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * NebulaComputeCache:max-entries:
   *
   * The most entries the cache holds; 0 for no limit on the count.
   */
  properties[PROP_MAX_ENTRIES] =
    g_param_spec_uint ("max-entries", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * NebulaComputeCache:max-weight:
   *
   * The most total weight the cache holds, as the weigher counts
   * (nebula_compute_cache_set_weigher()); 0 for no limit on the weight.
   * Without a weigher every entry weighs 1. A value heavier than the
   * bound is refused with %NEBULA_CACHE_ERROR_OVERFLOW; without a bound, a
   * value that would carry the total past %G_MAXUINT64 is. The total never
   * wraps.
   */
  properties[PROP_MAX_WEIGHT] =
    g_param_spec_uint64 ("max-weight", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * NebulaComputeCache:time-to-live:
   *
   * Microseconds an entry lives after it is written; 0 for ever.
   */
  properties[PROP_TIME_TO_LIVE] =
    g_param_spec_uint64 ("time-to-live", NULL, NULL,
                         0, G_MAXINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * NebulaComputeCache:time-to-idle:
   *
   * Microseconds an entry lives after it was last read or written; 0 for
   * ever.
   */
  properties[PROP_TIME_TO_IDLE] =
    g_param_spec_uint64 ("time-to-idle", NULL, NULL,
                         0, G_MAXINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * NebulaComputeCache:promotion-threshold:
   *
   * With %NEBULA_EVICTION_POLICY_S3_FIFO, the hits an entry needs while in
   * the small queue to move to the main queue when it reaches the head:
   * 2, the default, is the rule of the S3-FIFO paper (SOSP'23) and of
   * libCacheSim; 1 promotes after one hit, the rule of Nebula 0.1.0, and
   * 3 after three (hits are counted up to 3). Other policies ignore it.
   */
  properties[PROP_PROMOTION_THRESHOLD] =
    g_param_spec_uint ("promotion-threshold", NULL, NULL,
                       1, 3, 2,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * NebulaComputeCache:shards:
   *
   * How many independently locked parts the cache is split into; a key's
   * hash picks its shard, so threads working on different keys rarely wait
   * for each other. 1, the default, keeps one lock and one policy over all
   * the keys (the hit ratios of [enum@EvictionPolicy] hold exactly); 0
   * asks for two shards per processor. The count is rounded up to a power
   * of two, at most 256, and lowered so that no shard has a bound of 0.
   * Reading the property gives the count in use.
   *
   * Each shard has its own policy, statistics and an even share of
   * [property@ComputeCache:max-entries] and
   * [property@ComputeCache:max-weight]: the shares add up to the bounds,
   * so the cache never holds more than them, but a shard evicts when its
   * share is full even if another has room, and a value heavier than its
   * shard's share of max-weight is refused with
   * %NEBULA_CACHE_ERROR_OVERFLOW.
   */
  properties[PROP_SHARDS] =
    g_param_spec_uint ("shards", NULL, NULL,
                       0, 1u << MAX_SHARD_BITS, 1,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * NebulaComputeCache:time-loads:
   *
   * Whether computations are timed for the `load_time_us` statistic: two
   * reads of the monotonic clock per miss. %TRUE by default; %FALSE leaves
   * `load_time_us` at 0 and makes a miss read no clock at all (a cache
   * without time-to-live or time-to-idle then never reads one).
   */
  properties[PROP_TIME_LOADS] =
    g_param_spec_boolean ("time-loads", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * NebulaComputeCache:n-entries:
   *
   * The number of stored entries. Not notified: read it when needed.
   */
  properties[PROP_N_ENTRIES] =
    g_param_spec_uint ("n-entries", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * NebulaComputeCache:weight:
   *
   * The total weight of the stored entries.
   */
  properties[PROP_WEIGHT] =
    g_param_spec_uint64 ("weight", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  nebula_cache_removal_class_init (klass);
}

static void
nebula_compute_cache_init (NebulaComputeCache *self)
{
  self->keys = NEBULA_CACHE_KEYS_VARIANT;
  self->hash_func = nebula_cache_key_hash;
  self->equal_func = nebula_cache_key_equal;
  self->key_destroy = (GDestroyNotify) g_variant_unref;
  self->value_destroy = g_object_unref;
  self->requested_shards = 1;
  self->time_loads = TRUE;
}
