/* nebula-compute-cache.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>

#include "nebula-version-macros.h"

G_BEGIN_DECLS

/**
 * NebulaEvictionPolicy:
 * @NEBULA_EVICTION_POLICY_LRU: evict the least recently used entry
 * @NEBULA_EVICTION_POLICY_LFU: evict the least frequently used entry (the
 *   oldest among equally frequent ones), with O(1) frequency buckets
 * @NEBULA_EVICTION_POLICY_FIFO: evict the oldest entry; hits do not reorder
 * @NEBULA_EVICTION_POLICY_TTL: evict the entry written longest ago (the one
 *   closest to expiring); a replacement restarts its time
 * @NEBULA_EVICTION_POLICY_S3_FIFO: S3-FIFO (Yang et al., SOSP 2023): a small
 *   FIFO of 10% of the bound for new entries, a main FIFO with lazy
 *   reinsertion, and a ghost queue of recently evicted key hashes
 *
 * Which entry a bounded #NebulaComputeCache gives up when it is full. Every
 * policy does O(1) work per operation.
 */
typedef enum
{
  NEBULA_EVICTION_POLICY_LRU,
  NEBULA_EVICTION_POLICY_LFU,
  NEBULA_EVICTION_POLICY_FIFO,
  NEBULA_EVICTION_POLICY_TTL,
  NEBULA_EVICTION_POLICY_S3_FIFO,
} NebulaEvictionPolicy;

/**
 * NebulaRemovalCause:
 * @NEBULA_REMOVAL_CAUSE_EXPLICIT: invalidated by the program
 * @NEBULA_REMOVAL_CAUSE_REPLACED: a new value was inserted for the key
 * @NEBULA_REMOVAL_CAUSE_SIZE: evicted to respect the cache's bound
 * @NEBULA_REMOVAL_CAUSE_EXPIRED: its time-to-live or time-to-idle passed
 *
 * Why an entry left a cache, as given by #NebulaComputeCache::entry-removed.
 */
typedef enum
{
  NEBULA_REMOVAL_CAUSE_EXPLICIT,
  NEBULA_REMOVAL_CAUSE_REPLACED,
  NEBULA_REMOVAL_CAUSE_SIZE,
  NEBULA_REMOVAL_CAUSE_EXPIRED,
} NebulaRemovalCause;

#define NEBULA_TYPE_CACHE_STATS   (nebula_cache_stats_get_type ())
#define NEBULA_TYPE_COMPUTE_CACHE (nebula_compute_cache_get_type ())

typedef struct _NebulaCacheStats NebulaCacheStats;

/**
 * NebulaCacheStats:
 * @requests: lookups that could hit (always @hits + @misses)
 * @hits: requests answered from the cache (including stale answers)
 * @misses: requests that found no live entry
 * @insertions: entries stored
 * @evictions: entries removed to respect the bound
 * @expirations: entries removed because their time passed
 * @invalidations: entries removed by the program
 * @replacements: entries replaced by a new value for their key
 * @loads_ok: computations that returned a value
 * @loads_failed: computations that returned an error
 * @load_time_us: wall-clock microseconds spent in computations
 * @joins: asynchronous requests that joined a running computation
 * @stale_hits: asynchronous hits past refresh-after (they start a refresh)
 * @cancellations: asynchronous requests completed by their cancellable
 * @rejected_open: asynchronous requests refused by an open circuit
 * @rejected_busy: asynchronous requests refused by a full queue
 * @queue_wait_us: microseconds computations waited for a permit, in total
 *
 * A snapshot of a cache's counters. The asynchronous fields stay 0 in a
 * #NebulaComputeCache.
 */
struct _NebulaCacheStats
{
  guint64 requests;
  guint64 hits;
  guint64 misses;
  guint64 insertions;
  guint64 evictions;
  guint64 expirations;
  guint64 invalidations;
  guint64 replacements;
  guint64 loads_ok;
  guint64 loads_failed;
  guint64 load_time_us;
  guint64 joins;
  guint64 stale_hits;
  guint64 cancellations;
  guint64 rejected_open;
  guint64 rejected_busy;
  guint64 queue_wait_us;
};

/**
 * NebulaComputeFunc:
 * @key: the key that missed
 * @user_data: the data given with the function
 * @error: return location for an error
 *
 * Computes the value of @key for nebula_compute_cache_get_or_compute().
 *
 * Returns: (transfer full) (nullable): the value, or %NULL with @error set
 */
typedef GObject *(*NebulaComputeFunc) (GVariant  *key,
                                       gpointer   user_data,
                                       GError   **error);

/**
 * NebulaPointerComputeFunc: (skip)
 * @key: the key that missed
 * @user_data: the data given with the function
 * @error: return location for an error
 *
 * Computes the value of @key for nebula_compute_cache_get_or_compute_pointer().
 *
 * Returns: the value (the cache owns it), or %NULL with @error set
 */
typedef gpointer (*NebulaPointerComputeFunc) (gconstpointer   key,
                                              gpointer        user_data,
                                              GError        **error);

/**
 * NebulaStringComputeFunc: (skip)
 * @key: the key that missed
 * @user_data: the data given with the function
 * @error: return location for an error
 *
 * Computes the value of @key for
 * nebula_compute_cache_get_or_compute_string().
 *
 * Returns: the value (the cache owns it), or %NULL with @error set
 */
typedef gpointer (*NebulaStringComputeFunc) (const char  *key,
                                             gpointer     user_data,
                                             GError     **error);

/**
 * NebulaIntComputeFunc: (skip)
 * @key: the key that missed
 * @user_data: the data given with the function
 * @error: return location for an error
 *
 * Computes the value of @key for nebula_compute_cache_get_or_compute_int().
 *
 * Returns: the value (the cache owns it), or %NULL with @error set
 */
typedef gpointer (*NebulaIntComputeFunc) (gint64    key,
                                          gpointer  user_data,
                                          GError  **error);

/**
 * NebulaWeigherFunc:
 * @key: the key of the entry
 * @value: the value of the entry
 * @user_data: the data given with the function
 *
 * Tells how much an entry weighs against #NebulaComputeCache:max-weight.
 *
 * Returns: the weight of the entry
 */
typedef guint64 (*NebulaWeigherFunc) (GVariant *key,
                                      GObject  *value,
                                      gpointer  user_data);

/**
 * NebulaPointerWeigherFunc: (skip)
 * @key: the key of the entry
 * @value: the value of the entry
 * @user_data: the data given with the function
 *
 * The weigher of a cache made with nebula_compute_cache_new_full().
 *
 * Returns: the weight of the entry
 */
typedef guint64 (*NebulaPointerWeigherFunc) (gconstpointer key,
                                             gconstpointer value,
                                             gpointer      user_data);

/**
 * NebulaClockFunc:
 * @user_data: the data given with the function
 *
 * A clock for a cache's timing, so tests can move time by hand.
 *
 * Returns: the current time in microseconds (monotonic)
 */
typedef gint64 (*NebulaClockFunc) (gpointer user_data);

NEBULA_AVAILABLE_IN_ALL
GType               nebula_cache_stats_get_type        (void) G_GNUC_CONST;
NEBULA_AVAILABLE_IN_ALL
NebulaCacheStats   *nebula_cache_stats_copy            (const NebulaCacheStats *stats);
NEBULA_AVAILABLE_IN_ALL
void                nebula_cache_stats_free            (NebulaCacheStats       *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NebulaCacheStats, nebula_cache_stats_free)

NEBULA_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (NebulaComputeCache, nebula_compute_cache, NEBULA, COMPUTE_CACHE, GObject)

NEBULA_AVAILABLE_IN_ALL
NebulaComputeCache *nebula_compute_cache_new              (NebulaEvictionPolicy      policy,
                                                           guint                     max_entries);
NEBULA_AVAILABLE_IN_ALL
NebulaComputeCache *nebula_compute_cache_new_full         (GHashFunc                 hash_func,
                                                           GEqualFunc                equal_func,
                                                           GDestroyNotify            key_destroy,
                                                           GDestroyNotify            value_destroy,
                                                           const char               *first_property_name,
                                                           ...);
NEBULA_AVAILABLE_IN_0_1
NebulaComputeCache *nebula_compute_cache_new_for_strings  (GDestroyNotify            value_destroy,
                                                           const char               *first_property_name,
                                                           ...);
NEBULA_AVAILABLE_IN_0_1
NebulaComputeCache *nebula_compute_cache_new_for_ints     (GDestroyNotify            value_destroy,
                                                           const char               *first_property_name,
                                                           ...);
NEBULA_AVAILABLE_IN_ALL
GObject            *nebula_compute_cache_get_or_compute   (NebulaComputeCache       *self,
                                                           GVariant                 *key,
                                                           NebulaComputeFunc         func,
                                                           gpointer                  user_data,
                                                           GError                  **error);
NEBULA_AVAILABLE_IN_ALL
GObject            *nebula_compute_cache_get              (NebulaComputeCache       *self,
                                                           GVariant                 *key,
                                                           GError                  **error);
NEBULA_AVAILABLE_IN_ALL
gboolean            nebula_compute_cache_insert           (NebulaComputeCache       *self,
                                                           GVariant                 *key,
                                                           GObject                  *value,
                                                           GError                  **error);
NEBULA_AVAILABLE_IN_ALL
gboolean            nebula_compute_cache_invalidate       (NebulaComputeCache       *self,
                                                           GVariant                 *key);
NEBULA_AVAILABLE_IN_ALL
gpointer            nebula_compute_cache_get_or_compute_pointer (NebulaComputeCache       *self,
                                                           gpointer                  key,
                                                           NebulaPointerComputeFunc  func,
                                                           gpointer                  user_data,
                                                           GError                  **error);
NEBULA_AVAILABLE_IN_ALL
gpointer            nebula_compute_cache_get_pointer      (NebulaComputeCache       *self,
                                                           gconstpointer             key);
NEBULA_AVAILABLE_IN_ALL
gboolean            nebula_compute_cache_insert_pointer   (NebulaComputeCache       *self,
                                                           gpointer                  key,
                                                           gpointer                  value,
                                                           GError                  **error);
NEBULA_AVAILABLE_IN_ALL
gboolean            nebula_compute_cache_invalidate_pointer (NebulaComputeCache     *self,
                                                           gconstpointer             key);
NEBULA_AVAILABLE_IN_0_1
gpointer            nebula_compute_cache_get_or_compute_string (NebulaComputeCache       *self,
                                                           const char               *key,
                                                           NebulaStringComputeFunc   func,
                                                           gpointer                  user_data,
                                                           GError                  **error);
NEBULA_AVAILABLE_IN_0_1
gpointer            nebula_compute_cache_get_string       (NebulaComputeCache       *self,
                                                           const char               *key);
NEBULA_AVAILABLE_IN_0_1
gboolean            nebula_compute_cache_insert_string    (NebulaComputeCache       *self,
                                                           const char               *key,
                                                           gpointer                  value,
                                                           GError                  **error);
NEBULA_AVAILABLE_IN_0_1
gboolean            nebula_compute_cache_invalidate_string (NebulaComputeCache      *self,
                                                           const char               *key);
NEBULA_AVAILABLE_IN_0_1
gpointer            nebula_compute_cache_get_or_compute_int (NebulaComputeCache     *self,
                                                           gint64                    key,
                                                           NebulaIntComputeFunc      func,
                                                           gpointer                  user_data,
                                                           GError                  **error);
NEBULA_AVAILABLE_IN_0_1
gpointer            nebula_compute_cache_get_int          (NebulaComputeCache       *self,
                                                           gint64                    key);
NEBULA_AVAILABLE_IN_0_1
gboolean            nebula_compute_cache_insert_int       (NebulaComputeCache       *self,
                                                           gint64                    key,
                                                           gpointer                  value,
                                                           GError                  **error);
NEBULA_AVAILABLE_IN_0_1
gboolean            nebula_compute_cache_invalidate_int   (NebulaComputeCache       *self,
                                                           gint64                    key);
NEBULA_AVAILABLE_IN_ALL
void                nebula_compute_cache_invalidate_all   (NebulaComputeCache       *self);
NEBULA_AVAILABLE_IN_ALL
guint               nebula_compute_cache_get_n_entries    (NebulaComputeCache       *self);
NEBULA_AVAILABLE_IN_ALL
guint64             nebula_compute_cache_get_weight       (NebulaComputeCache       *self);
NEBULA_AVAILABLE_IN_ALL
NebulaCacheStats   *nebula_compute_cache_get_stats        (NebulaComputeCache       *self);
NEBULA_AVAILABLE_IN_ALL
void                nebula_compute_cache_set_clock        (NebulaComputeCache       *self,
                                                           NebulaClockFunc           func,
                                                           gpointer                  user_data,
                                                           GDestroyNotify            destroy);
NEBULA_AVAILABLE_IN_ALL
void                nebula_compute_cache_set_weigher      (NebulaComputeCache       *self,
                                                           NebulaWeigherFunc         func,
                                                           gpointer                  user_data,
                                                           GDestroyNotify            destroy);
NEBULA_AVAILABLE_IN_ALL
void                nebula_compute_cache_set_pointer_weigher (NebulaComputeCache    *self,
                                                           NebulaPointerWeigherFunc  func,
                                                           gpointer                  user_data,
                                                           GDestroyNotify            destroy);

G_END_DECLS
