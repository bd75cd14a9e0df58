/* nebula-compute-cache-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-cache-queue-private.h"
#include "nebula-compute-cache.h"

G_BEGIN_DECLS

/* The instance and its entries, shared by the files of the cache:
 * nebula-cache-policy.c, -expiry.c, -entry.c, -weight.c and
 * nebula-compute-cache.c. */

typedef struct _FrequencyBucket FrequencyBucket;

typedef struct
{
  Link             policy_link;   /* the policy's queue or LFU bucket */
  Link             write_link;    /* write order, with time-to-live */
  Link             access_link;   /* access order, with time-to-idle */
  gpointer         key;
  gpointer         value;
  guint64          weight;
  gint64           written_at;
  gint64           accessed_at;
  FrequencyBucket *bucket;        /* LFU */
  guint            hash;          /* S3-FIFO ghost */
  guint8           frequency;     /* S3-FIFO, 0..3 */
  guint8           in_main;       /* S3-FIFO */
  guint8           cause;         /* while waiting in a graveyard */
} Entry;

/* The O(1) LFU of Shah, Mitra and Matani: buckets of equal frequency in a
 * list sorted by frequency, each holding its entries in arrival order. */
struct _FrequencyBucket
{
  Link    link;
  Queue   entries;
  guint64 frequency;
};

struct _NebulaComputeCache
{
  GObject                   parent_instance;

  GMutex                    mutex;
  GHashTable               *map;             /* key -> Entry */
  GHashFunc                 hash_func;
  GDestroyNotify            key_destroy;
  GDestroyNotify            value_destroy;
  gboolean                  variant_keys;
  gboolean                  uses_time;       /* entries carry times */

  NebulaEvictionPolicy      policy;
  guint                     max_entries;
  guint64                   max_weight;
  guint64                   time_to_live;
  guint64                   time_to_idle;
  guint                     promotion_threshold; /* S3-FIFO, 1..3 */

  guint64                   weight;
  Queue                     policy_queue;    /* LRU, FIFO, TTL; S3-FIFO small */
  Queue                     main_queue;      /* S3-FIFO main */
  Queue                     buckets;         /* LFU */
  Queue                     write_queue;
  Queue                     access_queue;
  GQueue                    ghost;           /* S3-FIFO: key hashes */
  GHashTable               *ghost_index;     /* hash -> GList in ghost */

  NebulaPointerWeigherFunc  weigher;
  gpointer                  weigher_data;
  GDestroyNotify            weigher_destroy;
  NebulaWeigherFunc         object_weigher;
  gpointer                  object_weigher_data;
  GDestroyNotify            object_weigher_destroy;

  NebulaClockFunc           clock;
  gpointer                  clock_data;
  GDestroyNotify            clock_destroy;

  NebulaCacheStats          stats;
};

#define ENTRY_OF(link, member) \
  ((Entry *) (gpointer) ((guint8 *) (link) - G_STRUCT_OFFSET (Entry, member)))

/* The cache's clock, in microseconds. */
gint64    nebula_compute_cache_now        (NebulaComputeCache  *self);

/* Stamps entries with the clock even without an expiry: the asynchronous
 * cache reads their written times for refresh-after. */
void      nebula_compute_cache_track_time (NebulaComputeCache  *self);

/* A lookup that counts no request: the store behind the asynchronous cache
 * keeps its own request counters. Touches the entry for the policy and
 * returns a new reference, with the time the entry was written. */
GObject  *nebula_compute_cache_peek       (NebulaComputeCache  *self,
                                           GVariant            *key,
                                           gint64              *written_at);

G_END_DECLS
