/* nebula-cache-hits-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-cache-shard-private.h"

G_BEGIN_DECLS

/* Hits without the shard's lock, for integer keys of a thread-safe cache
 * whose entries do not expire (NebulaComputeCache.lock_free_hits).
 *
 * A hit that takes the lock writes the lock word, the statistics and the
 * entry's and its neighbours' policy links: lines that then move between
 * the cores of every thread that hits the same shard. Here a hit writes
 * only its thread's stripe of the shard:
 *
 * - the lookup is optimistic: each entry of the chain is read between two
 *   loads of its version, which the lock holder makes odd while it
 *   rewrites the entry for another key (and publishes what a reader reads
 *   with release stores); anything unsure, and the caller takes the lock
 *   and looks again (nebula_cache_hits_find_int());
 * - the hit is counted in the stripe (get_stats() sums the stripes), and
 *   so is a miss, with what it then stores, loads and evicts
 *   (NebulaCacheCounts, under the lock: nebula_cache_counts_of());
 * - the recency update (LRU, LFU, S3-FIFO) waits in the stripe, applied in
 *   order by the next holder of the shard's lock before anything else, or
 *   by this thread when its stripe is full. With one thread no update is
 *   lost or reordered, so every policy keeps its exact order; with several
 *   a stripe two threads share may lose or repeat one (an approximation of
 *   the order, never a corruption: a buffered entry that has left is
 *   skipped, and entries are not freed before the cache is). Once several
 *   threads hit an LRU shard it runs as CLOCK (nebula-cache-policy.c): a
 *   hit marks its entry and buffers nothing.
 *
 * Nothing here frees memory: outgrown buckets and left entries stay until
 * the cache is finalized, so a reader reads nothing freed. */

guint    nebula_cache_hits_claim_stripe (void);
void     nebula_cache_hits_overflow     (NebulaComputeCache   *self,
                                         NebulaCacheShard     *shard,
                                         Entry                *entry,
                                         NebulaCacheHitStripe *stripe);
void     nebula_cache_hits_enable       (NebulaComputeCache *self);
void     nebula_cache_hits_disable      (NebulaComputeCache *self);
void     nebula_cache_hits_count        (NebulaComputeCache *self,
                                         NebulaCacheShard   *shard,
                                         NebulaCacheStats   *stats);
void     nebula_cache_hits_free         (NebulaComputeCache *self);

#define NEBULA_CACHE_READ(field) __atomic_load_n (&(field), __ATOMIC_ACQUIRE)

/* Longest chain walked without the lock: chains average one entry or
 * fewer; a longer walk may be a reader that strayed while the table grew. */
#define NEBULA_CACHE_MAX_WALK 16

/* The calling thread's stripe of @shard. */
static inline NebulaCacheHitStripe *
nebula_cache_hits_stripe (NebulaComputeCache *self,
                          NebulaCacheShard   *shard)
{
  guint slot = nebula_cache_thread_stripe;

  if (G_UNLIKELY (slot == 0))
    slot = nebula_cache_hits_claim_stripe ();
  return &shard->stripes[slot & self->stripe_mask];
}

/* LRU once several threads hit the cache: a lock holder applies only its
 * own stripe's hits, so that a stripe's lines are written by its thread
 * alone; the others wait for their thread's next lock (or full stripe). */
static inline gboolean
nebula_cache_hits_own_drains (NebulaComputeCache *self,
                              NebulaCacheShard   *shard)
{
  return shard->policy == NEBULA_EVICTION_POLICY_LRU &&
         __atomic_load_n (&self->several_threads, __ATOMIC_RELAXED);
}

static inline void
nebula_cache_hits_record (NebulaComputeCache *self,
                          NebulaCacheShard   *shard,
                          Entry              *entry)
{
  NebulaCacheHitStripe *stripe = nebula_cache_hits_stripe (self, shard);
  guint n;

  __atomic_fetch_add (&stripe->hits, 1, __ATOMIC_RELAXED);
  if (shard->policy == NEBULA_EVICTION_POLICY_FIFO || shard->policy == NEBULA_EVICTION_POLICY_TTL)
    return;                       /* a hit changes nothing in their order */
  /* LRU with several threads: CLOCK, a mark on the entry, nothing buffered. */
  if (shard->policy == NEBULA_EVICTION_POLICY_LRU &&
      __atomic_load_n (&shard->second_chance, __ATOMIC_RELAXED))
    {
      nebula_cache_lru_mark (entry);
      return;
    }
  n = __atomic_load_n (&stripe->n, __ATOMIC_RELAXED);
  if (G_LIKELY (n < NEBULA_CACHE_STRIPE_SLOTS))
    {
      __atomic_store_n (&stripe->pending[n], entry, __ATOMIC_RELAXED);
      __atomic_store_n (&stripe->n, n + 1, __ATOMIC_RELEASE);
      /* The shard's one shared write, once per batch: tell the lock's
       * next holder that this stripe has hits for it. An approximate LRU
       * leaves the bit set until this thread drains its stripe itself
       * (nebula_cache_hits_drain()). */
      if (n == 0)
        {
          guint bit = 1u << (guint) (stripe - shard->stripes);

          if (!nebula_cache_hits_own_drains (self, shard) ||
              (__atomic_load_n (&shard->pending, __ATOMIC_RELAXED) & bit) == 0)
            __atomic_fetch_or (&shard->pending, bit, __ATOMIC_RELEASE);
        }
    }
  else
    nebula_cache_hits_overflow (self, shard, entry, stripe);
}

/* The value of @key's live entry, its hit counted and its touch recorded;
 * or NULL, and nothing done: the caller takes the lock. Sets *@absent when
 * the walk proved that the shard had no entry for @key at some moment of
 * it. Nothing here reads what a miss writes in the shard (its lock, counts
 * or queues): only the table's first line, its bucket and the entries of
 * the chain, each read between two loads of its version:
 *
 * - an entry whose version is odd, or changed, or that is not live, was
 *   being rewritten or removed: give up (the locked path looks again);
 * - an entry whose hash belongs to another bucket was recycled into
 *   another chain since its predecessor pointed to it: give up. One
 *   recycled into this bucket went to its head, and the walk goes on from
 *   there over everything the bucket then held;
 * - a table that grew during the walk (its count of resizes odd or
 *   changed) proves nothing. */
static inline gpointer
nebula_cache_hits_find_int (NebulaComputeCache *self,
                            NebulaCacheShard   *shard,
                            gint64              key,
                            guint               hash,
                            gboolean           *absent)
{
  guint resizes = NEBULA_CACHE_READ (shard->table.resizes);
  guint bits;
  guint index;
  Entry **buckets;
  Entry *entry;

  if (resizes & 1)
    return NULL;
  bits = NEBULA_CACHE_READ (shard->table.bits);
  buckets = NEBULA_CACHE_READ (shard->table.buckets);
  index = nebula_cache_bucket_of (hash, bits);
  entry = NEBULA_CACHE_READ (buckets[index]);
  for (guint steps = 0; entry != NULL; steps++)
    {
      guint version = NEBULA_CACHE_READ (entry->version);
      guint entry_hash;
      gpointer value = NULL;
      Entry *next;

      if ((version & 1) != 0 || steps == NEBULA_CACHE_MAX_WALK)
        return NULL;
      entry_hash = NEBULA_CACHE_READ (entry->hash);
      if (entry_hash == hash && NEBULA_CACHE_READ (entry->int_key) == key)
        value = NEBULA_CACHE_READ (entry->value);
      next = NEBULA_CACHE_READ (entry->chain);
      /* Acquire loads above: these two cannot be read before them. */
      if (!NEBULA_CACHE_READ (entry->live) || NEBULA_CACHE_READ (entry->version) != version)
        return NULL;
      if (value != NULL)
        {
          nebula_cache_hits_record (self, shard, entry);
          return value;
        }
      if (nebula_cache_bucket_of (entry_hash, bits) != index)
        return NULL;
      entry = next;
    }
  if (NEBULA_CACHE_READ (shard->table.resizes) == resizes)
    *absent = TRUE;
  return NULL;
}

/* A miss that nebula_cache_hits_find_int() proved (the shard had no entry
 * for the key): counted in the thread's stripe, so that the miss takes the
 * shard's lock only once, to publish what it computed. */
static inline void
nebula_cache_hits_record_miss (NebulaComputeCache *self,
                               NebulaCacheShard   *shard)
{
  __atomic_fetch_add (&nebula_cache_hits_stripe (self, shard)->misses, 1, __ATOMIC_RELAXED);
}

G_END_DECLS
