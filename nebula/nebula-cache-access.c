/* nebula-cache-access.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The operations every API of NebulaComputeCache ends in: get-or-compute,
 * insert, lookup and invalidate, for every kind of key, on the key's shard.
 */

#include "config.h"

#include "nebula-cache-access-private.h"
#include "nebula-sysprof-private.h"
#include "nebula-cache-entry-private.h"
#include "nebula-cache-expiry-private.h"
#include "nebula-cache-hits-private.h"
#include "nebula-cache-key-private.h"
#include "nebula-cache-removal-private.h"
#include "nebula-cache-table-private.h"
#include "nebula-cache-weight-private.h"
#include "nebula-enums.h"
#include "nebula-error-private.h"
#include "nebula-sanitizer-private.h"

/* @keys, here and below, is self->keys, or the constant of the GVariant
 * entry point (the switches on it then fold away). */
static inline gpointer
ref_value (NebulaCacheKeys keys,
           gpointer        value)
{
  return keys == NEBULA_CACHE_KEYS_VARIANT ? g_object_ref (value) : value;
}

/* Integer keys on a cache whose hits may skip the lock. */
static inline gboolean
lock_free_hits (NebulaComputeCache *self)
{
  return self->keys == NEBULA_CACHE_KEYS_INT &&
         __atomic_load_n (&self->lock_free_hits, __ATOMIC_RELAXED);
}

/* Keys (nebula-cache-access-private.h says what @probe and @owned are):
 * a hit neither copies nor references the key. */

static inline guint
key_hash (NebulaComputeCache *self,
          NebulaCacheKeys     keys,
          gconstpointer       probe)
{
  switch (keys)
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

/* The key an entry keeps: NULL for integers and for GVariant keys of a
 * fixed-size type, which the entry keeps as their bits (so the caller's
 * variant is neither referenced when stored nor touched when evicted). When
 * this is not @owned, the caller frees @owned. */
static inline gpointer
key_to_store (NebulaComputeCache *self,
              gconstpointer       probe,
              gpointer            owned)
{
  if (self->keys == NEBULA_CACHE_KEYS_VARIANT &&
      !nebula_cache_variant_probe_needs_variant (probe))
    return NULL;
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

/* The second half of a miss: computes the value without the lock, then
 * takes the shard's lock once to store it (or to take the value another
 * thread stored meanwhile). Inlined into the two paths below. */
G_ALWAYS_INLINE static inline gpointer
compute_and_store (NebulaComputeCache  *self,
                   NebulaCacheShard    *shard,
                   gconstpointer        probe,
                   guint                hash,
                   gpointer             owned,
                   GCallback            func,
                   gpointer             user_data,
                   GError             **error)
{
  Graveyard graveyard;
  GError *local_error = NULL;
  gpointer value;
  gpointer result = NULL;
  gpointer key = NULL;
  gpointer unkept = NULL;
  NebulaCacheCounts *counts;
  Entry *entry;
  gint64 started;
  gint64 finished;
  gint64 time;
  guint64 weight = 0;

  /* Only what the graveyard's functions read first: not its 128 bytes. */
  graveyard.n = 0;
  graveyard.more = NULL;
  graveyard.counts = NULL;

  nebula_sysprof_cache_event (self, "cache-miss",
                              self->keys == NEBULA_CACHE_KEYS_VARIANT
                                ? ((const NebulaCacheVariantProbe *) probe)->variant : NULL,
                              0);

  /* The two clock reads of a miss time the computation for load_time_us,
   * unless time-loads is off. */
  started = self->time_loads ? g_get_monotonic_time () : 0;
  value = call_compute (self, func, probe, user_data, &local_error);
  finished = self->time_loads ? g_get_monotonic_time () : 0;

  /* The weigher is the program's code: call it without the lock. */
  if (value != NULL)
    weight = nebula_cache_weigh (self, user_key (self, probe), value);

  nebula_compute_cache_lock (self, shard);
  counts = nebula_cache_counts_of (shard);
  graveyard.counts = counts;
  counts->load_time_us += finished - started;
  if (value == NULL)
    {
      counts->loads_failed++;
      nebula_compute_cache_unlock (self, shard);
      nebula_cache_removal_free_data (self, owned, NULL);
      if (local_error == NULL)
        nebula_set_error (&local_error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                          "The compute function returned no value and no error");
      g_propagate_error (error, local_error);
      return NULL;
    }
  counts->loads_ok++;
  time = nebula_compute_cache_entry_time (self);
  entry = nebula_cache_find_live (shard, probe, hash, time, &graveyard);
  if (entry != NULL)
    {
      /* Another thread stored a value while this one computed: keep it. */
      result = ref_value (self->keys, entry->value);
      nebula_compute_cache_unlock (self, shard);
      nebula_cache_removal_free_data (self, owned, value);
    }
  else
    {
      key = key_to_store (self, probe, owned);
      if (key != owned)
        unkept = owned;
      if (nebula_cache_entry_store (shard, probe, hash, key, value, weight, time, TRUE, &graveyard,
                                    error))
        {
          result = ref_value (self->keys, value);
          nebula_compute_cache_unlock (self, shard);
        }
      else
        {
          nebula_compute_cache_unlock (self, shard);
          nebula_cache_removal_free_data (self, key, value);
        }
      nebula_cache_removal_free_data (self, unkept, NULL);
    }

  nebula_cache_removal_flush (self, &graveyard);
  return result;
}

/* get-or-compute with the shard's lock: a hit takes it once, a miss twice
 * (to look, and to store). */
G_ALWAYS_INLINE static inline gpointer
get_or_compute_locked (NebulaComputeCache  *self,
                       NebulaCacheKeys      keys,
                       gconstpointer        probe,
                       gpointer             owned,
                       GCallback            func,
                       gpointer             user_data,
                       GError             **error)
{
  guint hash = key_hash (self, keys, probe);
  NebulaCacheShard *shard = nebula_compute_cache_shard_of (self, hash);
  Graveyard graveyard;
  gpointer result = NULL;
  Entry *entry;
  gint64 time;

  graveyard.n = 0;
  graveyard.more = NULL;
  graveyard.counts = NULL;

  nebula_compute_cache_lock (self, shard);
  time = nebula_compute_cache_entry_time (self);
  entry = nebula_cache_find_live_keys (shard, keys, probe, hash, time, &graveyard);
  shard->requests++;
  if (entry != NULL)
    {
      shard->hits++;
      nebula_cache_entry_touch (shard, entry, time);
      result = ref_value (keys, entry->value);
    }
  else
    shard->misses++;
  nebula_compute_cache_unlock (self, shard);
  nebula_cache_removal_flush (self, &graveyard);

  if (result != NULL)
    {
      nebula_cache_removal_free_data (self, owned, NULL);
      return result;
    }
  return compute_and_store (self, shard, probe, hash, owned, func, user_data, error);
}

/* Every cache but a lock-free one reaches this by a jump from the entry
 * point below, with the caller's arguments. */
static G_NO_INLINE gpointer
get_or_compute_unseen (NebulaComputeCache  *self,
                       gconstpointer        probe,
                       gpointer             owned,
                       GCallback            func,
                       gpointer             user_data,
                       GError             **error)
{
  return get_or_compute_locked (self, self->keys, probe, owned, func, user_data, error);
}

/* Integer keys (nothing owned): a hit without the lock; a miss the
 * optimistic read proved computes at once and locks only to store, its
 * request counted in the thread's stripe; else the locked path. */
static G_NO_INLINE gpointer
get_or_compute_lock_free (NebulaComputeCache  *self,
                          gconstpointer        probe,
                          GCallback            func,
                          gpointer             user_data,
                          GError             **error)
{
  gint64 key = *(const gint64 *) probe;
  guint hash = nebula_cache_int_hash (key);
  NebulaCacheShard *shard = nebula_compute_cache_shard_of (self, hash);
  gboolean absent = FALSE;
  gpointer result;

  result = nebula_cache_hits_find_int (self, shard, key, hash, &absent);
  if (result != NULL)
    return result;
  if (absent)
    {
      nebula_cache_hits_record_miss (self, shard);
      return compute_and_store (self, shard, probe, hash, NULL, func, user_data, error);
    }
  return get_or_compute_unseen (self, probe, NULL, func, user_data, error);
}

/* The one get-or-compute of every API. For variant caches the result is a
 * new reference, for the others it is borrowed. */
gpointer
nebula_cache_access_get_or_compute (NebulaComputeCache  *self,
                                    gconstpointer        probe,
                                    gpointer             owned,
                                    GCallback            func,
                                    gpointer             user_data,
                                    GError             **error)
{
  /* Both are jumps: neither path pays for the other's frame. */
  if (lock_free_hits (self))
    return get_or_compute_lock_free (self, probe, func, user_data, error);
  return get_or_compute_unseen (self, probe, owned, func, user_data, error);
}

gpointer
nebula_cache_access_get_or_compute_variant (NebulaComputeCache  *self,
                                            GVariant            *key,
                                            NebulaComputeFunc    func,
                                            gpointer             user_data,
                                            GError             **error)
{
  NebulaCacheVariantProbe probe;

  if (!nebula_cache_variant_probe_init (&probe, key, error))
    return NULL;
  return get_or_compute_locked (self, NEBULA_CACHE_KEYS_VARIANT, &probe,
                                nebula_cache_take_floating_key (key), G_CALLBACK (func), user_data,
                                error);
}

gboolean
nebula_cache_access_insert (NebulaComputeCache  *self,
        gconstpointer        probe,
        gpointer             owned,
        gpointer             value,
        GError             **error)
{
  Graveyard graveyard = GRAVEYARD_INIT;
  guint hash = key_hash (self, self->keys, probe);
  NebulaCacheShard *shard = nebula_compute_cache_shard_of (self, hash);
  guint64 weight = nebula_cache_weigh (self, user_key (self, probe), value);
  gpointer key;
  gboolean stored;
  gint64 time;

  nebula_compute_cache_lock (self, shard);
  time = nebula_compute_cache_entry_time (self);
  nebula_cache_expire (shard, time, &graveyard);
  key = key_to_store (self, probe, owned);
  stored = nebula_cache_entry_store (shard, probe, hash, key, value, weight, time, FALSE,
                                     &graveyard, error);
  nebula_compute_cache_unlock (self, shard);

  if (!stored)
    nebula_cache_removal_free_data (self, key, value);
  if (key != owned)
    nebula_cache_removal_free_data (self, owned, NULL);
  nebula_cache_removal_flush (self, &graveyard);
  return stored;
}

gpointer
nebula_cache_access_lookup (NebulaComputeCache *self,
        gconstpointer       probe,
        gboolean            count,
        gint64             *written_at)
{
  Graveyard graveyard = GRAVEYARD_INIT;
  guint hash = key_hash (self, self->keys, probe);
  NebulaCacheShard *shard = nebula_compute_cache_shard_of (self, hash);
  gpointer result = NULL;
  Entry *entry;
  gint64 time;

  gboolean absent = FALSE;

  if (count && written_at == NULL && lock_free_hits (self))
    {
      result = nebula_cache_hits_find_int (self, shard, *(const gint64 *) probe, hash, &absent);
      if (result != NULL)
        return result;
      if (absent)
        {
          nebula_cache_hits_record_miss (self, shard);
          return NULL;
        }
    }

  nebula_compute_cache_lock (self, shard);
  time = nebula_compute_cache_entry_time (self);
  entry = nebula_cache_find_live (shard, probe, hash, time, &graveyard);
  if (count)
    shard->requests++;
  if (entry != NULL)
    {
      if (count)
        shard->hits++;
      nebula_cache_entry_touch (shard, entry, time);
      result = ref_value (self->keys, entry->value);
      if (written_at != NULL)
        *written_at = entry->written_at;
    }
  else if (count)
    shard->misses++;
  nebula_compute_cache_unlock (self, shard);

  nebula_cache_removal_flush (self, &graveyard);
  return result;
}

gboolean
nebula_cache_access_invalidate (NebulaComputeCache *self,
            gconstpointer       probe)
{
  Graveyard graveyard = GRAVEYARD_INIT;
  guint hash = key_hash (self, self->keys, probe);
  NebulaCacheShard *shard = nebula_compute_cache_shard_of (self, hash);
  Entry *entry;
  gboolean removed = FALSE;

  nebula_compute_cache_lock (self, shard);
  entry = nebula_cache_find_live (shard, probe, hash, nebula_compute_cache_entry_time (self), &graveyard);
  if (entry != NULL)
    {
      nebula_cache_entry_remove (shard, entry, NEBULA_REMOVAL_CAUSE_EXPLICIT, &graveyard);
      removed = TRUE;
    }
  nebula_compute_cache_unlock (self, shard);

  nebula_cache_removal_flush (self, &graveyard);
  return removed;
}

