/* nebula-compute-cache.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-sysprof-private.h"

#include "nebula-cache-entry-private.h"
#include "nebula-cache-expiry-private.h"
#include "nebula-cache-key-private.h"
#include "nebula-cache-removal-private.h"
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
 * them), hashed with g_variant_hash(), and values are GObjects. C code can
 * use any keys and values through nebula_compute_cache_new_full() and the
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
 * stored wins and both callers get it.
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

/* Entries */

static inline gint64
now (NebulaComputeCache *self)
{
  return self->clock != NULL ? self->clock (self->clock_data) : g_get_monotonic_time ();
}

/* The time entries are stamped with: only a cache whose entries expire, or
 * whose written times are read (the asynchronous cache's refresh-after),
 * reads its clock; the others stamp 0 and read no clock at all. */
static inline gint64
entry_time (NebulaComputeCache *self)
{
  return self->uses_time ? now (self) : 0;
}

void
nebula_compute_cache_track_time (NebulaComputeCache *self)
{
  nebula_mutex_lock (&self->mutex);
  self->uses_time = TRUE;
  nebula_mutex_unlock (&self->mutex);
}

gint64
nebula_compute_cache_now (NebulaComputeCache *self)
{
  gint64 result;

  nebula_mutex_lock (&self->mutex);
  result = now (self);
  nebula_mutex_unlock (&self->mutex);
  return result;
}

static inline gpointer
ref_value (NebulaComputeCache *self,
           gpointer            value)
{
  return self->variant_keys ? g_object_ref (value) : value;
}

/* The one get-or-compute of both APIs. @key is owned by the call: it is
 * stored on a miss or destroyed. For object caches the result is a new
 * reference, for pointer caches it is borrowed. */
static gpointer
get_or_compute (NebulaComputeCache        *self,
                gpointer                   key,
                NebulaPointerComputeFunc   pointer_func,
                NebulaComputeFunc          object_func,
                gpointer                   user_data,
                GError                   **error)
{
  GQueue graveyard = G_QUEUE_INIT;
  GError *local_error = NULL;
  gpointer value;
  gpointer result = NULL;
  Entry *entry;
  gint64 started;
  gint64 finished;
  gint64 time;
  guint64 weight = 0;

  /* A hit takes the lock once, a miss twice: to look, and to publish. */
  nebula_mutex_lock (&self->mutex);
  time = entry_time (self);
  entry = nebula_cache_find_live (self, key, time, &graveyard);
  self->stats.requests++;
  if (entry != NULL)
    {
      self->stats.hits++;
      nebula_cache_entry_touch (self, entry, time);
      result = ref_value (self, entry->value);
    }
  else
    self->stats.misses++;
  nebula_mutex_unlock (&self->mutex);
  nebula_cache_removal_flush (self, &graveyard);
  if (result == NULL)
    nebula_sysprof_cache_event (self, "cache-miss", self->variant_keys ? key : NULL, 0);

  if (result != NULL)
    {
      nebula_cache_removal_free_data (self, key, NULL);
      return result;
    }

  /* The two clock reads of a miss time the computation for load_time_us. */
  started = g_get_monotonic_time ();
  if (object_func != NULL)
    value = object_func (key, user_data, &local_error);
  else
    value = pointer_func (key, user_data, &local_error);
  finished = g_get_monotonic_time ();

  /* The weigher is the program's code: call it without the lock. */
  if (value != NULL)
    weight = nebula_cache_weigh (self, key, value);

  nebula_mutex_lock (&self->mutex);
  self->stats.load_time_us += finished - started;
  if (value == NULL)
    {
      self->stats.loads_failed++;
      nebula_mutex_unlock (&self->mutex);
      nebula_cache_removal_free_data (self, key, NULL);
      if (local_error == NULL)
        nebula_set_error (&local_error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                          "The compute function returned no value and no error");
      g_propagate_error (error, local_error);
      return NULL;
    }
  self->stats.loads_ok++;
  time = entry_time (self);
  entry = nebula_cache_find_live (self, key, time, &graveyard);
  if (entry != NULL)
    {
      /* Another thread stored a value while this one computed: keep it. */
      result = ref_value (self, entry->value);
      nebula_mutex_unlock (&self->mutex);
      nebula_cache_removal_free_data (self, key, value);
    }
  else if (nebula_cache_entry_store (self, key, value, weight, time, TRUE, &graveyard, error))
    {
      result = ref_value (self, value);
      nebula_mutex_unlock (&self->mutex);
    }
  else
    {
      nebula_mutex_unlock (&self->mutex);
      nebula_cache_removal_free_data (self, key, value);
    }

  nebula_cache_removal_flush (self, &graveyard);
  return result;
}

static gboolean
insert (NebulaComputeCache  *self,
        gpointer             key,
        gpointer             value,
        GError             **error)
{
  GQueue graveyard = G_QUEUE_INIT;
  guint64 weight = nebula_cache_weigh (self, key, value);
  gboolean stored;
  gint64 time;

  nebula_mutex_lock (&self->mutex);
  time = entry_time (self);
  nebula_cache_expire (self, time, &graveyard);
  stored = nebula_cache_entry_store (self, key, value, weight, time, FALSE, &graveyard, error);
  nebula_mutex_unlock (&self->mutex);

  if (!stored)
    nebula_cache_removal_free_data (self, key, value);
  nebula_cache_removal_flush (self, &graveyard);
  return stored;
}

static gpointer
lookup (NebulaComputeCache *self,
        gconstpointer       key,
        gboolean            count,
        gint64             *written_at)
{
  GQueue graveyard = G_QUEUE_INIT;
  gpointer result = NULL;
  Entry *entry;
  gint64 time;

  nebula_mutex_lock (&self->mutex);
  time = entry_time (self);
  entry = nebula_cache_find_live (self, key, time, &graveyard);
  if (count)
    self->stats.requests++;
  if (entry != NULL)
    {
      if (count)
        self->stats.hits++;
      nebula_cache_entry_touch (self, entry, time);
      result = ref_value (self, entry->value);
      if (written_at != NULL)
        *written_at = entry->written_at;
    }
  else if (count)
    self->stats.misses++;
  nebula_mutex_unlock (&self->mutex);

  nebula_cache_removal_flush (self, &graveyard);
  return result;
}

static gboolean
invalidate (NebulaComputeCache *self,
            gconstpointer       key)
{
  GQueue graveyard = G_QUEUE_INIT;
  Entry *entry;
  gboolean removed = FALSE;

  nebula_mutex_lock (&self->mutex);
  entry = nebula_cache_find_live (self, key, entry_time (self), &graveyard);
  if (entry != NULL)
    {
      nebula_cache_entry_remove (self, entry, NEBULA_REMOVAL_CAUSE_EXPLICIT, &graveyard);
      removed = TRUE;
    }
  nebula_mutex_unlock (&self->mutex);

  nebula_cache_removal_flush (self, &graveyard);
  return removed;
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
  self = (NebulaComputeCache *) g_object_new_valist (NEBULA_TYPE_COMPUTE_CACHE,
                                                     first_property_name, args);
  va_end (args);

  g_hash_table_unref (self->map);
  self->map = g_hash_table_new (hash_func, equal_func);
  self->hash_func = hash_func;
  self->key_destroy = key_destroy;
  self->value_destroy = value_destroy;
  self->variant_keys = FALSE;
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
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->variant_keys, NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!nebula_cache_check_key (key, error))
    return NULL;

  return get_or_compute (self, g_variant_ref_sink (key), NULL, func, user_data, error);
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
  GObject *result;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->variant_keys, NULL);

  if (!nebula_cache_check_key (key, error))
    return NULL;

  g_variant_ref_sink (key);
  result = lookup (self, key, TRUE, NULL);
  g_variant_unref (key);
  return result;
}

GObject *
nebula_compute_cache_peek (NebulaComputeCache *self,
                           GVariant           *key,
                           gint64             *written_at)
{
  return lookup (self, key, FALSE, written_at);
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
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->variant_keys, FALSE);
  g_return_val_if_fail (G_IS_OBJECT (value), FALSE);

  if (!nebula_cache_check_key (key, error))
    return FALSE;

  return insert (self, g_variant_ref_sink (key), g_object_ref (value), error);
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
  gboolean removed;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->variant_keys, FALSE);

  if (!nebula_cache_check_key (key, NULL))
    return FALSE;

  g_variant_ref_sink (key);
  removed = invalidate (self, key);
  g_variant_unref (key);
  return removed;
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
  g_return_val_if_fail (!self->variant_keys, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return get_or_compute (self, key, func, NULL, user_data, error);
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
  g_return_val_if_fail (!self->variant_keys, NULL);

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
  g_return_val_if_fail (!self->variant_keys, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  return insert (self, key, value, error);
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
  g_return_val_if_fail (!self->variant_keys, FALSE);

  return invalidate (self, key);
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
  GQueue graveyard = G_QUEUE_INIT;
  GList *entries;

  g_return_if_fail (NEBULA_IS_COMPUTE_CACHE (self));

  nebula_mutex_lock (&self->mutex);
  entries = g_hash_table_get_values (self->map);
  for (GList *l = entries; l != NULL; l = l->next)
    nebula_cache_entry_remove (self, l->data, NEBULA_REMOVAL_CAUSE_EXPLICIT, &graveyard);
  nebula_mutex_unlock (&self->mutex);
  g_list_free (entries);

  nebula_cache_removal_flush (self, &graveyard);
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
  guint n;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), 0);

  nebula_mutex_lock (&self->mutex);
  n = g_hash_table_size (self->map);
  nebula_mutex_unlock (&self->mutex);
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
  guint64 weight;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), 0);

  nebula_mutex_lock (&self->mutex);
  weight = self->weight;
  nebula_mutex_unlock (&self->mutex);
  return weight;
}

/**
 * nebula_compute_cache_get_stats:
 * @self: a #NebulaComputeCache
 *
 * A snapshot of the counters. `requests` is always `hits + misses`.
 *
 * Returns: (transfer full): the counters
 */
NebulaCacheStats *
nebula_compute_cache_get_stats (NebulaComputeCache *self)
{
  NebulaCacheStats *stats;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);

  nebula_mutex_lock (&self->mutex);
  stats = nebula_cache_stats_copy (&self->stats);
  nebula_mutex_unlock (&self->mutex);
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

  nebula_mutex_lock (&self->mutex);
  old_destroy = self->clock_destroy;
  old_data = self->clock_data;
  self->clock = func;
  self->clock_data = user_data;
  self->clock_destroy = destroy;
  nebula_mutex_unlock (&self->mutex);

  if (old_destroy != NULL)
    old_destroy (old_data);
}


static void
nebula_compute_cache_finalize (GObject *object)
{
  NebulaComputeCache *self = NEBULA_COMPUTE_CACHE (object);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->map);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Entry *entry = value;

      nebula_cache_removal_free_data (self, entry->key, entry->value);
      g_slice_free (Entry, entry);
    }
  g_hash_table_unref (self->map);

  while (!nebula_cache_queue_is_empty (&self->buckets))
    {
      Link *link = nebula_cache_queue_head (&self->buckets);

      nebula_cache_queue_unlink (&self->buckets, link, 0);
      g_free (link);
    }
  g_queue_clear (&self->ghost);
  g_hash_table_unref (self->ghost_index);

  if (self->weigher_destroy != NULL)
    self->weigher_destroy (self->weigher_data);
  if (self->object_weigher_destroy != NULL)
    self->object_weigher_destroy (self->object_weigher_data);
  if (self->clock_destroy != NULL)
    self->clock_destroy (self->clock_data);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (nebula_compute_cache_parent_class)->finalize (object);
}

static void
nebula_compute_cache_constructed (GObject *object)
{
  NebulaComputeCache *self = NEBULA_COMPUTE_CACHE (object);

  G_OBJECT_CLASS (nebula_compute_cache_parent_class)->constructed (object);

  self->uses_time = self->time_to_live > 0 || self->time_to_idle > 0;
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
  g_mutex_init (&self->mutex);
  self->map = g_hash_table_new (nebula_cache_key_hash, g_variant_equal);
  self->hash_func = nebula_cache_key_hash;
  self->key_destroy = (GDestroyNotify) g_variant_unref;
  self->value_destroy = g_object_unref;
  self->variant_keys = TRUE;
  nebula_cache_queue_init (&self->policy_queue);
  nebula_cache_queue_init (&self->main_queue);
  nebula_cache_queue_init (&self->buckets);
  nebula_cache_queue_init (&self->write_queue);
  nebula_cache_queue_init (&self->access_queue);
  g_queue_init (&self->ghost);
  self->ghost_index = g_hash_table_new (NULL, NULL);
}
