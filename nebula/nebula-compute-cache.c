/* nebula-compute-cache.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-cache-access-private.h"
#include "nebula-cache-entry-private.h"
#include "nebula-cache-hits-private.h"
#include "nebula-cache-key-private.h"
#include "nebula-cache-removal-private.h"
#include "nebula-cache-table-private.h"
#include "nebula-compute-cache-private.h"
#include "nebula-cache-policy-private.h"
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
 * The cache is thread-safe (unless made with
 * [property@ComputeCache:thread-safe] %FALSE). Computations run without
 * the lock held, so two
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
  PROP_THREAD_SAFE,
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

/* Time */

void
nebula_compute_cache_track_time (NebulaComputeCache *self)
{
  nebula_compute_cache_lock_all (self);
  self->uses_time = TRUE;
  nebula_cache_hits_disable (self);
  nebula_compute_cache_unlock_all (self);
}

gint64
nebula_compute_cache_now (NebulaComputeCache *self)
{
  gint64 result;

  nebula_compute_cache_lock (self, &self->shards[0]);
  result = nebula_compute_cache_clock_now (self);
  nebula_compute_cache_unlock (self, &self->shards[0]);
  return result;
}

void
nebula_compute_cache_set_keys (NebulaComputeCache *self,
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
  nebula_cache_hits_enable (self);
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
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_VARIANT, NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* A jump: the key is taken apart in the frame of the function that uses it. */
  return nebula_cache_access_get_or_compute_variant (self, key, func, user_data, error);
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

  owned = nebula_cache_take_floating_key (key);
  return nebula_cache_access_lookup (self, &probe, TRUE, NULL);
}

GObject *
nebula_compute_cache_peek (NebulaComputeCache *self,
                           GVariant           *key,
                           gint64             *written_at)
{
  NebulaCacheVariantProbe probe;

  if (!nebula_cache_variant_probe_init (&probe, key, NULL))
    return NULL;
  return nebula_cache_access_lookup (self, &probe, FALSE, written_at);
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

  return nebula_cache_access_insert (self, &probe, nebula_cache_take_floating_key (key), g_object_ref (value), error);
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

  owned = nebula_cache_take_floating_key (key);
  return nebula_cache_access_invalidate (self, &probe);
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

      nebula_compute_cache_lock (self, shard);
      for (guint b = 0; b < (1u << shard->table.bits); b++)
        while (shard->table.buckets[b] != NULL)
          nebula_cache_entry_remove (shard, shard->table.buckets[b], NEBULA_REMOVAL_CAUSE_EXPLICIT,
                                     &graveyard);
      nebula_compute_cache_unlock (self, shard);

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
      nebula_compute_cache_lock (self, &self->shards[i]);
      n += self->shards[i].n_entries;
      nebula_compute_cache_unlock (self, &self->shards[i]);
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
      nebula_compute_cache_lock (self, &self->shards[i]);
      weight += self->shards[i].weight;
      nebula_compute_cache_unlock (self, &self->shards[i]);
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
 * Read once the threads that use the cache are done, every counter is
 * exact. Read while they run, each shard is read in turn under its lock:
 * the counters of one shard are then those of one moment, with the
 * possible exception of lookups answered without the lock (hits and
 * proved misses of a thread-safe integer-keyed cache whose entries do not
 * expire) that were being counted at that moment, and the
 * shards are read at different moments; a request may be counted as a
 * miss before its computation is counted in `loads_ok`.
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
      nebula_compute_cache_lock (self, &self->shards[i]);
      nebula_cache_hits_count (self, &self->shards[i], stats);
      nebula_compute_cache_unlock (self, &self->shards[i]);
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
  nebula_cache_table_init (&shard->table);
  shard->policy = self->policy;
  shard->max_entries = (guint) share_of (self->max_entries, self->n_shards, index);
  shard->max_weight = share_of (self->max_weight, self->n_shards, index);
  shard->total_max_weight = self->max_weight;
  shard->n_shards = self->n_shards;
  shard->time_to_live = self->time_to_live;
  shard->time_to_idle = self->time_to_idle;
  shard->promotion_threshold = self->promotion_threshold;
  shard->count_stripes = (guint8 *) &shard->counts;
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
          nebula_cache_entry_free (shard, entry);
          entry = next;
        }
    }
  nebula_cache_table_clear (&shard->table);
  nebula_cache_policy_clear (shard);
  while (shard->free_entries != NULL)
    {
      Entry *next = shard->free_entries->chain;

      nebula_cache_entry_free (shard, shard->free_entries);
      shard->free_entries = next;
    }
  nebula_cache_entry_free_slabs (shard);

  while (!nebula_cache_queue_is_empty (&shard->buckets))
    {
      Link *link = nebula_cache_queue_head (&shard->buckets);

      nebula_cache_queue_unlink (&shard->buckets, link, 0);
      g_free (link);
    }
  nebula_cache_ghost_clear (&shard->ghost);
}

static void
nebula_compute_cache_finalize (GObject *object)
{
  NebulaComputeCache *self = NEBULA_COMPUTE_CACHE (object);

  for (guint i = 0; i < self->n_shards; i++)
    shard_clear (self, &self->shards[i]);
  g_aligned_free (self->shards);
  nebula_cache_hits_free (self);

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
  self->shards = g_aligned_alloc0 (self->n_shards, sizeof (NebulaCacheShard), 64);
  for (guint i = 0; i < self->n_shards; i++)
    shard_init (self, &self->shards[i], i);
  nebula_compute_cache_set_keys (self, self->keys, self->hash_func, self->equal_func, self->key_destroy,
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
    case PROP_THREAD_SAFE:
      g_value_set_boolean (value, self->thread_safe);
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
    case PROP_THREAD_SAFE:
      self->thread_safe = g_value_get_boolean (value);
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
   * NebulaComputeCache:thread-safe:
   *
   * Whether the cache takes its shards' locks. %TRUE by default; a cache
   * used by one thread at a time (or under the program's own lock) can be
   * made with %FALSE and saves two atomic operations per request. Using
   * such a cache from two threads at once is undefined, as with a
   * #GHashTable.
   */
  properties[PROP_THREAD_SAFE] =
    g_param_spec_boolean ("thread-safe", NULL, NULL, TRUE,
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
  self->thread_safe = TRUE;
}
