/* nebula-cache-shard-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-cache-ghost-private.h"
#include "nebula-cache-lock-private.h"
#include "nebula-cache-queue-private.h"
#include "nebula-compute-cache.h"
#include "nebula-sanitizer-private.h"

G_BEGIN_DECLS

/* The instance, its shards and their entries, shared by the files of the
 * cache: nebula-cache-access.c, -entry.c, -expiry.c, -ghost.c, -keyed.c,
 * -policy.c, -table.c, -weight.c and nebula-compute-cache.c. Header only:
 * the lowest layer of the cache, so that each part includes it and none
 * includes the file that uses them all (nebula-compute-cache-private.h). */

/* What the keys are; it decides how they are hashed, compared, copied and
 * freed, and which functions of the API the cache answers. */
typedef enum
{
  NEBULA_CACHE_KEYS_VARIANT,     /* GVariant, owned; GObject values */
  NEBULA_CACHE_KEYS_POINTER,     /* new_full(): the caller's functions */
  NEBULA_CACHE_KEYS_STRING,      /* copied when stored */
  NEBULA_CACHE_KEYS_INT,         /* a gint64 kept in the entry */
} NebulaCacheKeys;

typedef struct _FrequencyBucket FrequencyBucket;
typedef struct _Entry Entry;

struct _Entry
{
  /* What a lookup reads, and what only a store or a removal writes: the
   * first 64 bytes. A hit's recency update writes only what follows, so
   * that in a shard with lock-free hits (whose entries start on a cache
   * line) it never takes away a line another core's lookups read. */
  Entry           *chain;         /* next in the table's bucket, or the free list */
  guint            hash;          /* the table, S3-FIFO ghost */
  char             key_type;      /* GVariant keys: NebulaCacheVariantProbe.type */
  guint8           live;          /* in the table (a buffered hit checks it) */
  guint8           referenced;    /* LRU with several threads: hit since the hand passed */
  gpointer         key;           /* NULL for integer keys */
  gint64           int_key;       /* integer keys; a GVariant key's bits or string */
  gpointer         value;
  guint64          weight;
  gint64           written_at;
  union
  {
    gint64         accessed_at;   /* time-to-idle only: written by a hit */
    struct                        /* lock-free hits, never with time-to-idle */
    {
      guint        version;       /* odd while the entry is rewritten for another key */
      guint        slot;          /* LRU with several threads: its place in the ring */
    };
  };

  /* What a hit's recency update writes. */
  Link             policy_link;   /* the policy's queue or LFU bucket */
  FrequencyBucket *bucket;        /* LFU */
  guint8           frequency;     /* S3-FIFO, 0..3 */
  guint8           in_main;       /* S3-FIFO */
  Link             write_link;    /* write order, with time-to-live */
  Link             access_link;   /* access order, with time-to-idle */
};

/* Entries of a shard with lock-free hits sit in slabs, each on its own two
 * cache lines. */
#define NEBULA_CACHE_ENTRY_STRIDE 128
G_STATIC_ASSERT (G_STRUCT_OFFSET (Entry, policy_link) == 64);
G_STATIC_ASSERT (sizeof (Entry) <= NEBULA_CACHE_ENTRY_STRIDE);

/* The O(1) LFU of Shah, Mitra and Matani: buckets of equal frequency in a
 * list sorted by frequency, each holding its entries in arrival order. */
struct _FrequencyBucket
{
  Link    link;
  Queue   entries;
  guint64 frequency;
};

/* Chained hash table of entries, intrusive (Entry.chain) so that a lookup
 * hashes once and a store allocates nothing beyond the entry. */
typedef struct
{
  Entry **buckets;
  guint   bits;                   /* 1 << bits buckets */
  guint   resizes;                /* odd while it grows (lock-free readers) */
  GSList *retired;                /* outgrown buckets kept for optimistic readers */
  gboolean keep_retired;
} Table;

/* The bucket of @hash among 1 << @bits. Fibonacci hashing: the top bits of
 * the product depend on every bit of the hash, so g_direct_hash() of
 * aligned pointers spreads too. */
static inline guint
nebula_cache_bucket_of (guint hash,
                        guint bits)
{
  return (hash * 0x9E3779B1u) >> (32 - bits);
}

/* The fields a lock-free hit reads (nebula-cache-hits-private.h), written
 * with the shard's lock held, inside the odd version of their entry (or
 * count of resizes of their table): release stores, so that a reader that
 * sees one of them sees the odd count too. Plain moves on x86; atomic for
 * ThreadSanitizer. */
#define NEBULA_CACHE_PUBLISH(field, value) \
  __atomic_store_n (&(field), (value), __ATOMIC_RELEASE)

/* LRU with several threads (nebula-cache-policy.c, CLOCK): a hit marks its
 * entry, writing the byte only when it is clear, so that a hot entry's line
 * is written once per trip of the hand, not at every hit.
 * Atomic: lock-free hits mark entries while the lock holder clears them. */
static inline void
nebula_cache_lru_mark (Entry *entry)
{
  if (!__atomic_load_n (&entry->referenced, __ATOMIC_RELAXED))
    __atomic_store_n (&entry->referenced, 1, __ATOMIC_RELAXED);
}

/* Hits recorded without the shard's lock: one stripe per thread (threads
 * share one when there are more threads than stripes), two cache lines,
 * written by its thread only but for the drain that empties it. The
 * entries' recency updates wait here until the next holder of the shard's
 * lock applies them, in order, before it does anything else. */
#define NEBULA_CACHE_STRIPE_SLOTS 13

typedef struct
{
  guint    n;                     /* pending[0 .. n) wait */
  guint    unused;
  guint64  hits;                  /* counted here, summed by get_stats() */
  guint64  misses;                /* lock-free misses, likewise */
  Entry   *pending[NEBULA_CACHE_STRIPE_SLOTS];
} NebulaCacheHitStripe;

G_STATIC_ASSERT (sizeof (NebulaCacheHitStripe) == 128);

/* What a miss counts besides the lookup itself: the fields of
 * NebulaCacheStats from insertions to load_time_us, in its order, on one
 * cache line. A shard with lock-free hits keeps one per thread's stripe
 * (NebulaCacheShard.count_stripes), so that a miss writes its thread's
 * line instead of one the other threads' misses write; each is written
 * with the shard's lock held, like the shard's own. */
typedef struct
{
  guint64  insertions;
  guint64  evictions;
  guint64  expirations;
  guint64  invalidations;
  guint64  replacements;
  guint64  loads_ok;
  guint64  loads_failed;
  guint64  load_time_us;
} NebulaCacheCounts;

G_STATIC_ASSERT (sizeof (NebulaCacheCounts) == 64);
G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaCacheStats, load_time_us) -
                 G_STRUCT_OFFSET (NebulaCacheStats, insertions) ==
                 G_STRUCT_OFFSET (NebulaCacheCounts, load_time_us));

/* A thread's counts sit 128 bytes apart: the adjacent-line prefetcher
 * fetches lines in pairs, and a pair must not hold two threads' counts. */
#define NEBULA_CACHE_COUNTS_STRIDE 128

/* The calling thread's stripe + 1, 0 before it first needs one
 * (nebula-cache-hits.c). */
extern __thread guint nebula_cache_thread_stripe __attribute__ ((tls_model ("initial-exec")));

/* LRU once several threads hit the shard: CLOCK on a ring of slots
 * (nebula-cache-policy.c), kept in place of the shard's LRU queue. */
typedef struct
{
  guint hand;                     /* the slot the hand looks at next */
  guint length;                   /* slots in use, holes included */
  guint n_holes;                  /* empty slots, listed in NebulaCacheShard.holes */
  guint capacity;                 /* slots allocated */
  guint vacant;                   /* the last victim's slot, for the next entry; or
                                   * G_MAXUINT. It still names the victim, which the
                                   * free list gives back as that entry: not rewritten */
} NebulaCacheClock;

/* An entry that left, waiting for the lock to be released to be announced
 * and freed; the Entry itself is recycled at once. */
typedef struct
{
  union
  {
    gpointer         key;
    gint64           key_bits;    /* a GVariant key of a fixed-size type */
  };
  gpointer           value;
  NebulaRemovalCause cause;
  char               key_type;    /* GVariant keys: Entry.key_type */
} Removal;

typedef struct
{
  guint              n;
  Removal            first[4];    /* most operations remove at most one */
  GArray            *more;
  NebulaCacheCounts *counts;      /* where a miss counts what it stores and
                                   * evicts, found once with the lock held;
                                   * NULL: nebula_cache_counts_of() */
} Graveyard;

#define GRAVEYARD_INIT { 0, }

/* A shard: its own lock, table, policy queues, statistics and share of the
 * bounds. A cache has 2^k of them; a key's hash picks one. The settings
 * are copied from the cache so that the policy code reads one struct. */
typedef struct
{
  /* The first cache line (shards are 64-byte aligned): what a lock-free
   * hit reads, written only when the table grows (and second_chance once).
   * Nothing a miss writes is here, so that a hit on one core does not lose
   * this line whenever another core stores in the shard. */
  NebulaEvictionPolicy      policy;
  guint                     second_chance;   /* LRU with several threads: CLOCK (atomic) */
  NebulaCacheHitStripe     *stripes;         /* lock-free hits; NULL without them */
  Table                     table;
  NebulaCacheKeys           keys;
  guint                     max_entries;     /* this shard's share */
  guint                     n_shards;
  guint                     promotion_threshold; /* S3-FIFO, 1..3 */

  /* The second line: the lock, and what every store and eviction of LRU,
   * FIFO and TTL writes besides the table and the entries, so that a miss
   * moves as few of the shard's lines between cores as it can. */
  NebulaCacheLock           lock;
  guint                     pending;         /* stripes with hits waiting, a bit each */
  guint                     n_entries;       /* in the table */
  guint                     n_free;
  guint64                   weight;
  union
  {
    Queue                   policy_queue;    /* LRU, FIFO, TTL; S3-FIFO small */
    NebulaCacheClock        clock;           /* LRU with several threads, once ring is set */
  };
  Entry                    *free_entries;    /* recycled, linked by chain */

  /* Settings, read only, and the rest. */
  GEqualFunc                equal_func;      /* pointer keys */
  guint64                   max_weight;      /* this shard's share */
  guint64                   total_max_weight; /* the cache's, for messages */
  guint64                   time_to_live;
  guint64                   time_to_idle;
  guint                     slab_left;
  guint8                   *slab_next;
  Entry                   **ring;            /* LRU with several threads: CLOCK's slots */
  guint                    *holes;           /* its slots left empty by removals */

  Queue                     main_queue;      /* S3-FIFO main */
  Queue                     buckets;         /* LFU */
  Queue                     write_queue;
  Queue                     access_queue;
  Ghost                     ghost;           /* S3-FIFO: key hashes */
  GSList                   *slabs;           /* lock-free hits: where entries live */

  /* Lookups counted under the lock (lock-free ones count in the stripes). */
  guint64                   requests;
  guint64                   hits;
  guint64                   misses;
  /* Lock-free hits: this shard's stripes of counts, one per thread, and
   * stripes - 1; otherwise &counts below and 0. Set before the cache is
   * shared, read only after. */
  guint8                   *count_stripes;
  guint                     stripe_mask;

  /* What a miss counts, on a line of its own (unless in count_stripes). */
  NebulaCacheCounts         counts __attribute__ ((aligned (64)));

  /* Shards sit side by side in one 64-byte aligned array; the alignment
   * keeps the statistics at the end of one off the next one's lock. */
} __attribute__ ((aligned (64))) NebulaCacheShard;

G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaCacheShard, promotion_threshold) + sizeof (guint) <= 64);
G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaCacheShard, lock) == 64);
G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaCacheShard, free_entries) + sizeof (gpointer) <= 128);
G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaCacheShard, counts) % 64 == 0);
G_STATIC_ASSERT (sizeof (NebulaCacheShard) % 64 == 0);

struct _NebulaComputeCache
{
  GObject                   parent_instance;

  NebulaCacheShard         *shards;
  guint                     n_shards;
  guint                     shard_bits;
  NebulaCacheKeys           keys;
  GHashFunc                 hash_func;       /* pointer keys */
  GEqualFunc                equal_func;      /* pointer keys */
  GDestroyNotify            key_destroy;
  GDestroyNotify            value_destroy;
  gboolean                  uses_time;       /* entries carry times */
  gboolean                  time_loads;      /* load_time_us is measured */
  gboolean                  thread_safe;     /* the shards' locks are taken */
  gint                      lock_free_hits;  /* atomic: hits skip the lock */
  gint                      several_threads; /* atomic: a drain met another thread's hits */
  guint                     stripe_mask;     /* stripes per shard - 1 */
  gpointer                  stripes_memory;  /* every shard's stripes, aligned */

  NebulaEvictionPolicy      policy;
  guint                     max_entries;
  guint64                   max_weight;
  guint64                   time_to_live;
  guint64                   time_to_idle;
  guint                     promotion_threshold; /* S3-FIFO, 1..3 */
  guint                     requested_shards;    /* 0: the default */

  NebulaPointerWeigherFunc  weigher;
  gpointer                  weigher_data;
  GDestroyNotify            weigher_destroy;
  NebulaWeigherFunc         object_weigher;
  gpointer                  object_weigher_data;
  GDestroyNotify            object_weigher_destroy;

  NebulaClockFunc           clock;
  gpointer                  clock_data;
  GDestroyNotify            clock_destroy;
};

#define ENTRY_OF(link, member) \
  ((Entry *) (gpointer) ((guint8 *) (link) - G_STRUCT_OFFSET (Entry, member)))

/* The shard of a key's hash: the top bits of a multiplicative mix, so that
 * the table (which uses another mix) sees all its buckets in every shard. */
static inline NebulaCacheShard *
nebula_compute_cache_shard_of (NebulaComputeCache *self,
                               guint               hash)
{
  if (self->shard_bits == 0)
    return &self->shards[0];
  return &self->shards[(hash * 0x85EBCA6Bu) >> (32 - self->shard_bits)];
}

/* The cache's clock, read with a shard's lock held. */
static inline gint64
nebula_compute_cache_clock_now (NebulaComputeCache *self)
{
  return self->clock != NULL ? self->clock (self->clock_data) : g_get_monotonic_time ();
}

/* The time entries are stamped with: only a cache whose entries expire, or
 * whose written times are read (the asynchronous cache's refresh-after),
 * reads its clock; the others stamp 0 and read no clock at all. The clock
 * and uses_time change with every shard locked, so one shard's lock is
 * enough to read them. */
static inline gint64
nebula_compute_cache_entry_time (NebulaComputeCache *self)
{
  return self->uses_time ? nebula_compute_cache_clock_now (self) : 0;
}

/* Where the calling thread counts what its miss in @shard stored, loaded
 * and removed; the lock of @shard is held. No branch: without stripes
 * count_stripes is &counts and stripe_mask 0. A thread that has not
 * claimed a stripe yet (it has done no lock-free lookup) counts in the
 * first one. */
static inline NebulaCacheCounts *
nebula_cache_counts_of (NebulaCacheShard *shard)
{
  guint stripe = nebula_cache_thread_stripe & shard->stripe_mask;

  return (NebulaCacheCounts *) (gpointer)
    (shard->count_stripes + (gsize) stripe * NEBULA_CACHE_COUNTS_STRIDE);
}

/* The counts of an operation on @shard that removes into @graveyard. */
static inline NebulaCacheCounts *
nebula_cache_counts_for (NebulaCacheShard *shard,
                         Graveyard        *graveyard)
{
  return graveyard->counts != NULL ? graveyard->counts : nebula_cache_counts_of (shard);
}

/* Applies the hits waiting in @shard's stripes (nebula-cache-hits.c). */
void nebula_cache_hits_drain (NebulaComputeCache *self,
                              NebulaCacheShard   *shard);

/* A shard's lock, unless the cache was made with thread-safe FALSE. The
 * holder applies the hits that wait, so that whatever it decides (an
 * eviction above all) sees the order of every hit before. */
static inline void
nebula_compute_cache_lock (NebulaComputeCache *self,
                           NebulaCacheShard   *shard)
{
  if (self->thread_safe)
    {
      nebula_cache_lock_acquire (&shard->lock);
      if (__atomic_load_n (&shard->pending, __ATOMIC_RELAXED) != 0)
        nebula_cache_hits_drain (self, shard);
    }
}

static inline void
nebula_compute_cache_unlock (NebulaComputeCache *self,
                             NebulaCacheShard   *shard)
{
  if (self->thread_safe)
    nebula_cache_lock_release (&shard->lock);
}

/* Locks and unlocks every shard, in order: for settings read under the
 * shards' locks (clock, weigher, track_time). */
static inline void
nebula_compute_cache_lock_all (NebulaComputeCache *self)
{
  for (guint i = 0; i < self->n_shards; i++)
    nebula_compute_cache_lock (self, &self->shards[i]);
}

static inline void
nebula_compute_cache_unlock_all (NebulaComputeCache *self)
{
  for (guint i = self->n_shards; i > 0; i--)
    nebula_compute_cache_unlock (self, &self->shards[i - 1]);
}

G_END_DECLS
