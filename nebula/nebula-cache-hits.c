/* nebula-cache-hits.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Hits of a compute cache without its shard's lock: the stripes that
 * count them and hold their recency updates, and the drain that applies
 * those under the lock (nebula-cache-hits-private.h says how it works).
 */

#include "config.h"

#include "nebula-cache-hits-private.h"
#include "nebula-cache-entry-private.h"

/* initial-exec: one instruction to reach it, even in the shared library. */
__thread guint nebula_cache_thread_stripe __attribute__ ((tls_model ("initial-exec")));

/* Threads take stripes in turn: two threads of a process never share one
 * while there are fewer threads than stripes. */
static guint next_stripe;

#define MAX_STRIPES 16

guint
nebula_cache_hits_claim_stripe (void)
{
  guint slot;

  do
    slot = __atomic_add_fetch (&next_stripe, 1, __ATOMIC_RELAXED);
  while (slot == 0);
  nebula_cache_thread_stripe = slot;
  return slot;
}

/* Applies the hits waiting in @stripe, in order. A recorder that shares
 * the stripe may add one meanwhile: that update is lost or applied twice,
 * and a slot it named may hold an entry that left since (not live:
 * skipped) or came back for another key (touched: an approximation of the
 * order). */
static void
drain_stripe (NebulaComputeCache   *self,
              NebulaCacheShard     *shard,
              NebulaCacheHitStripe *stripe,
              gint64                time)
{
  guint n = __atomic_load_n (&stripe->n, __ATOMIC_ACQUIRE);

  for (guint i = 0; i < MIN (n, NEBULA_CACHE_STRIPE_SLOTS); i++)
    {
      Entry *entry = __atomic_load_n (&stripe->pending[i], __ATOMIC_RELAXED);

      /* Another thread's drain may have moved it since it was buffered. */
      if (entry != NULL && entry->live)
        nebula_cache_entry_touch (shard, entry, time);
    }
  __atomic_store_n (&stripe->n, 0, __ATOMIC_RELAXED);
}

/* The stripe is full: take the lock, which applies the waiting hits, and
 * apply this one after them. The stripe is drained here too in case its
 * bit was taken by a drain that raced with its filling (it would stay
 * full otherwise). */
void
nebula_cache_hits_overflow (NebulaComputeCache   *self,
                            NebulaCacheShard     *shard,
                            Entry                *entry,
                            NebulaCacheHitStripe *stripe)
{
  gint64 time;

  nebula_compute_cache_lock (self, shard);
  time = nebula_compute_cache_entry_time (self);
  if (__atomic_load_n (&stripe->n, __ATOMIC_RELAXED) != 0)
    drain_stripe (self, shard, stripe, time);
  if (entry->live)
    nebula_cache_entry_touch (shard, entry, time);
  nebula_compute_cache_unlock (self, shard);
}

/* From now on LRU hits mark their entries (CLOCK) and each lock holder
 * applies only its own stripe: the flags are read by hits without the lock
 * and by every shard's lock holder, and only ever set. */
static void
several_threads (NebulaComputeCache *self)
{
  __atomic_store_n (&self->several_threads, TRUE, __ATOMIC_RELAXED);
  for (guint i = 0; i < self->n_shards; i++)
    __atomic_store_n (&self->shards[i].second_chance, TRUE, __ATOMIC_RELAXED);
}

void
nebula_cache_hits_drain (NebulaComputeCache *self,
                         NebulaCacheShard   *shard)
{
  guint own = nebula_cache_thread_stripe != 0 ? 1u << (nebula_cache_thread_stripe & self->stripe_mask) : 0;
  gint64 time = nebula_compute_cache_entry_time (self);
  guint pending;

  if (nebula_cache_hits_own_drains (self, shard))
    {
      if (own != 0 && (__atomic_load_n (&shard->pending, __ATOMIC_RELAXED) & own) != 0)
        {
          __atomic_fetch_and (&shard->pending, ~own, __ATOMIC_ACQUIRE);
          drain_stripe (self, shard, &shard->stripes[nebula_cache_thread_stripe & self->stripe_mask], time);
        }
      return;
    }

  pending = __atomic_exchange_n (&shard->pending, 0, __ATOMIC_ACQUIRE);

  /* Hits of a stripe that is not this thread's: several threads use the
   * cache, and its LRU shards turn to CLOCK (nebula-cache-policy.c). */
  if ((pending & ~own) != 0 && !__atomic_load_n (&self->several_threads, __ATOMIC_RELAXED))
    several_threads (self);
  for (guint s = 0; pending != 0; s++, pending >>= 1)
    if (pending & 1)
      drain_stripe (self, shard, &shard->stripes[s], time);
}

/* Called once the keys and settings are known, before the cache is shared:
 * integer keys, the shards' locks taken, no expiry. */
void
nebula_cache_hits_enable (NebulaComputeCache *self)
{
  guint n_stripes = 1;
  gsize size;
  guint8 *aligned;

  if (self->keys != NEBULA_CACHE_KEYS_INT || !self->thread_safe || self->uses_time ||
      self->stripes_memory != NULL)
    return;

  while (n_stripes < 2 * g_get_num_processors () && n_stripes < MAX_STRIPES)
    n_stripes *= 2;
  /* Each shard's hit stripes, then every shard's counts. */
  size = (gsize) self->n_shards * n_stripes *
         (sizeof (NebulaCacheHitStripe) + NEBULA_CACHE_COUNTS_STRIDE);
  /* 128-byte aligned: the adjacent-line prefetcher fetches lines in
   * pairs, and a pair must not hold two threads' stripes. */
  self->stripes_memory = g_malloc0 (size + 127);
  aligned = (guint8 *) (((guintptr) self->stripes_memory + 127) & ~(guintptr) 127);
  self->stripe_mask = n_stripes - 1;
  for (guint i = 0; i < self->n_shards; i++)
    {
      self->shards[i].stripes = (NebulaCacheHitStripe *) (gpointer)
        (aligned + (gsize) i * n_stripes * sizeof (NebulaCacheHitStripe));
      self->shards[i].count_stripes = aligned +
        ((gsize) self->n_shards * sizeof (NebulaCacheHitStripe) + (gsize) i * NEBULA_CACHE_COUNTS_STRIDE) *
        n_stripes;
      self->shards[i].stripe_mask = n_stripes - 1;
      self->shards[i].table.keep_retired = TRUE;
    }
  __atomic_store_n (&self->lock_free_hits, TRUE, __ATOMIC_RELAXED);
}

/* With every shard locked: hits take the lock from now on. The stripes stay
 * (their counts, and updates recorded by a hit that had begun). */
void
nebula_cache_hits_disable (NebulaComputeCache *self)
{
  __atomic_store_n (&self->lock_free_hits, FALSE, __ATOMIC_RELAXED);
}

static void
add_counts (NebulaCacheStats        *stats,
            const NebulaCacheCounts *counts)
{
  stats->insertions += counts->insertions;
  stats->evictions += counts->evictions;
  stats->expirations += counts->expirations;
  stats->invalidations += counts->invalidations;
  stats->replacements += counts->replacements;
  stats->loads_ok += counts->loads_ok;
  stats->loads_failed += counts->loads_failed;
  stats->load_time_us += counts->load_time_us;
}

/* Adds @shard's counts to @stats, with its lock held: what was counted
 * under the lock (in the shard, or in every thread's stripe of it) is
 * exact; the hits and misses counted without it are those whose relaxed
 * increments this thread has seen. */
void
nebula_cache_hits_count (NebulaComputeCache *self,
                         NebulaCacheShard   *shard,
                         NebulaCacheStats   *stats)
{
  stats->requests += shard->requests;
  stats->hits += shard->hits;
  stats->misses += shard->misses;
  add_counts (stats, &shard->counts);
  if (shard->stripes == NULL)
    return;
  for (guint s = 0; s <= self->stripe_mask; s++)
    {
      guint64 hits = __atomic_load_n (&shard->stripes[s].hits, __ATOMIC_RELAXED);
      guint64 misses = __atomic_load_n (&shard->stripes[s].misses, __ATOMIC_RELAXED);

      stats->requests += hits + misses;
      stats->hits += hits;
      stats->misses += misses;
      add_counts (stats, (const NebulaCacheCounts *) (gconstpointer)
                  (shard->count_stripes + (gsize) s * NEBULA_CACHE_COUNTS_STRIDE));
    }
}

void
nebula_cache_hits_free (NebulaComputeCache *self)
{
  g_clear_pointer (&self->stripes_memory, g_free);
}
