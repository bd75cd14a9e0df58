/* nebula-cache-policy.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-cache-policy-private.h"

/* LFU */

static FrequencyBucket *
bucket_new_after (NebulaCacheShard   *shard,
                  Link               *after,
                  guint64             frequency)
{
  FrequencyBucket *bucket = g_new0 (FrequencyBucket, 1);

  nebula_cache_queue_init (&bucket->entries);
  bucket->frequency = frequency;
  bucket->link.prev = after;
  bucket->link.next = after->next;
  after->next->prev = &bucket->link;
  after->next = &bucket->link;
  shard->buckets.length++;
  return bucket;
}

static void
bucket_release_if_empty (NebulaCacheShard   *shard,
                         FrequencyBucket    *bucket)
{
  if (!nebula_cache_queue_is_empty (&bucket->entries))
    return;
  nebula_cache_queue_unlink (&shard->buckets, &bucket->link, 0);
  g_free (bucket);
}

static void
lfu_add (NebulaCacheShard   *shard,
         Entry              *entry)
{
  Link *first = nebula_cache_queue_head (&shard->buckets);
  FrequencyBucket *bucket = (FrequencyBucket *) first;

  if (bucket == NULL || bucket->frequency != 1)
    bucket = bucket_new_after (shard, &shard->buckets.sentinel, 1);
  entry->bucket = bucket;
  nebula_cache_queue_push_tail (&bucket->entries, &entry->policy_link, entry->weight);
}

static void
lfu_touch (NebulaCacheShard   *shard,
           Entry              *entry)
{
  FrequencyBucket *bucket = entry->bucket;
  FrequencyBucket *next = (FrequencyBucket *) bucket->link.next;

  if (&next->link == &shard->buckets.sentinel || next->frequency != bucket->frequency + 1)
    next = bucket_new_after (shard, &bucket->link, bucket->frequency + 1);

  nebula_cache_queue_unlink (&bucket->entries, &entry->policy_link, entry->weight);
  nebula_cache_queue_push_tail (&next->entries, &entry->policy_link, entry->weight);
  entry->bucket = next;
  bucket_release_if_empty (shard, bucket);
}

static void
lfu_remove (NebulaCacheShard   *shard,
            Entry              *entry)
{
  FrequencyBucket *bucket = entry->bucket;

  nebula_cache_queue_unlink (&bucket->entries, &entry->policy_link, entry->weight);
  entry->bucket = NULL;
  bucket_release_if_empty (shard, bucket);
}

/* S3-FIFO */

static inline gboolean
bounded_by_weight (NebulaCacheShard   *shard)
{
  return shard->max_weight > 0;
}

static inline guint64
queue_size (NebulaCacheShard   *shard,
            const Queue        *queue)
{
  return bounded_by_weight (shard) ? queue->weight : queue->length;
}

static guint64
small_target (NebulaCacheShard   *shard)
{
  guint64 bound = bounded_by_weight (shard) ? shard->max_weight : shard->max_entries;

  return MAX (bound / 10, 1);
}

static guint
ghost_capacity (NebulaCacheShard   *shard)
{
  /* As many keys as the main queue holds entries. */
  if (shard->max_entries > 0 && !bounded_by_weight (shard))
    return MAX (shard->max_entries - (guint) small_target (shard), 1);
  return MAX (shard->main_queue.length, 1);
}

static inline void
ghost_remember (NebulaCacheShard *shard,
                guint             hash)
{
  nebula_cache_ghost_remember (&shard->ghost, hash, ghost_capacity (shard));
}

static inline gboolean
ghost_forget (NebulaCacheShard *shard,
              guint             hash)
{
  return nebula_cache_ghost_forget (&shard->ghost, hash);
}

static void
s3_add (NebulaCacheShard   *shard,
        Entry              *entry)
{
  entry->frequency = 0;
  entry->in_main = ghost_forget (shard, entry->hash);
  nebula_cache_queue_push_tail (entry->in_main ? &shard->main_queue : &shard->policy_queue,
                   &entry->policy_link, entry->weight);
}

static inline Queue *
s3_queue_of (NebulaCacheShard   *shard,
             Entry              *entry)
{
  return entry->in_main ? &shard->main_queue : &shard->policy_queue;
}

/* Lazy promotion: an entry of the small queue hit promotion-threshold
 * times since it came in moves to the main queue; one that was not leaves the cache and its
 * hash goes to the ghost queue. Moving does not change the total, so the
 * caller's loop decides whether the main queue must give up an entry. */
static Entry *
s3_evict_small (NebulaCacheShard   *shard)
{
  Link *link;

  while ((link = nebula_cache_queue_head (&shard->policy_queue)) != NULL)
    {
      Entry *entry = ENTRY_OF (link, policy_link);

      nebula_cache_queue_unlink (&shard->policy_queue, link, entry->weight);
      if (entry->frequency >= shard->promotion_threshold)
        {
          entry->frequency = 0;
          entry->in_main = TRUE;
          nebula_cache_queue_push_tail (&shard->main_queue, link, entry->weight);
        }
      else
        {
          ghost_remember (shard, entry->hash);
          return entry;
        }
    }

  return NULL;
}

/* Lazy reinsertion: an entry hit since it was last looked at goes round
 * again with one use less. Frequencies are at most 3, so this ends. */
static Entry *
s3_evict_main (NebulaCacheShard   *shard)
{
  Link *link;

  while ((link = nebula_cache_queue_head (&shard->main_queue)) != NULL)
    {
      Entry *entry = ENTRY_OF (link, policy_link);

      if (entry->frequency > 0)
        {
          entry->frequency--;
          nebula_cache_queue_move_to_tail (&shard->main_queue, link);
          continue;
        }
      nebula_cache_queue_unlink (&shard->main_queue, link, entry->weight);
      return entry;
    }

  return NULL;
}

/* Policy dispatch */

/* LRU once several threads hit the shard (NebulaCacheShard.second_chance):
 * CLOCK. A hit marks its entry referenced, only when it is not yet
 * (nebula_cache_lru_mark()), and moves nothing. Entries sit in a ring of
 * slots; to make room the hand sweeps it, unmarking each referenced entry
 * it passes (its second chance) and evicting the first unmarked one, whose
 * slot the new entry then takes: behind the hand, the newest place. No
 * list links are written at all: a miss writes its victim, the hand, and
 * the marks it clears, which a hot entry gets back once per trip of the
 * hand rather than at every hit. The ring starts in the order of the LRU
 * list, least recent first, under the hand. With one thread the flag stays
 * clear and every hit moves its entry on the list: exact LRU. */
static inline gboolean
lru_second_chance (NebulaCacheShard *shard)
{
  return __atomic_load_n (&shard->second_chance, __ATOMIC_RELAXED);
}

static void
clock_reserve (NebulaCacheShard *shard,
               guint             capacity)
{
  if (capacity <= shard->clock.capacity)
    return;
  capacity = MAX (capacity, 2 * shard->clock.capacity);
  shard->ring = g_renew (Entry *, shard->ring, capacity);
  shard->holes = g_renew (guint, shard->holes, capacity);
  shard->clock.capacity = capacity;
}

/* The LRU list becomes the ring, least recent under the hand. */
static void
clock_start (NebulaCacheShard *shard)
{
  Link *link = shard->policy_queue.sentinel.next;
  guint length = shard->policy_queue.length;
  guint capacity = MAX (MAX (length, shard->max_entries), 16);

  shard->ring = g_new (Entry *, capacity);
  shard->holes = g_new (guint, capacity);
  for (guint i = 0; i < length; i++, link = link->next)
    {
      shard->ring[i] = ENTRY_OF (link, policy_link);
      shard->ring[i]->slot = i;
    }
  /* In place of the queue, which is not used from now on. */
  shard->clock = (NebulaCacheClock) { .hand = 0, .length = length, .n_holes = 0, .capacity = capacity,
                                      .vacant = G_MAXUINT };
}

/* With the lock held: whether LRU runs as CLOCK, starting it if need be. */
static inline gboolean
lru_clock (NebulaCacheShard *shard)
{
  if (G_LIKELY (shard->ring != NULL))
    return TRUE;
  if (!lru_second_chance (shard))
    return FALSE;
  clock_start (shard);
  return TRUE;
}

static void
clock_add (NebulaCacheShard *shard,
           Entry            *entry)
{
  NebulaCacheClock *clock = &shard->clock;
  guint slot = clock->vacant;

  clock->vacant = G_MAXUINT;
  if (slot != G_MAXUINT)
    {
      /* Most often the victim's own entry, recycled: nothing to write. */
      if (shard->ring[slot] == entry && entry->slot == slot)
        return;
    }
  else
    {
      if (clock->n_holes > 0)
        slot = shard->holes[--clock->n_holes];
      else
        {
          clock_reserve (shard, clock->length + 1);
          slot = clock->length++;
        }
      /* Not behind the hand but anywhere, maybe just ahead of it: marked,
       * so that it is not the next to go. */
      __atomic_store_n (&entry->referenced, 1, __ATOMIC_RELAXED);
    }
  shard->ring[slot] = entry;
  entry->slot = slot;
}

static void
clock_make_hole (NebulaCacheShard *shard,
                 guint             slot)
{
  shard->ring[slot] = NULL;
  shard->holes[shard->clock.n_holes++] = slot;
}

static void
clock_remove (NebulaCacheShard *shard,
              Entry            *entry)
{
  clock_make_hole (shard, entry->slot);
}

static Entry *
clock_evict (NebulaCacheShard *shard)
{
  NebulaCacheClock *clock = &shard->clock;

  if (clock->length == clock->n_holes + (clock->vacant != G_MAXUINT ? 1 : 0))
    return NULL;
  /* Hits mark entries without the lock meanwhile: after two trips round,
   * the next entry goes whatever its mark. */
  for (guint steps = 0;; steps++)
    {
      guint slot = clock->hand;
      Entry *entry = shard->ring[slot];

      clock->hand = slot + 1 == clock->length ? 0 : slot + 1;
      if (entry == NULL || slot == clock->vacant)
        continue;
      if (__atomic_load_n (&entry->referenced, __ATOMIC_RELAXED) && steps < 2 * clock->length)
        {
          __atomic_store_n (&entry->referenced, 0, __ATOMIC_RELAXED);
          continue;
        }
      /* Left for the entry stored next (clock_add()); an earlier victim's
       * slot that no entry took (a trim evicts several) becomes a hole. */
      if (clock->vacant != G_MAXUINT)
        clock_make_hole (shard, clock->vacant);
      clock->vacant = slot;
      return entry;
    }
}

void
nebula_cache_policy_clear (NebulaCacheShard *shard)
{
  g_clear_pointer (&shard->ring, g_free);
  g_clear_pointer (&shard->holes, g_free);
}

void
nebula_cache_policy_add (NebulaCacheShard   *shard,
                         Entry              *entry)
{
  switch (shard->policy)
    {
    case NEBULA_EVICTION_POLICY_LFU:
      lfu_add (shard, entry);
      break;
    case NEBULA_EVICTION_POLICY_S3_FIFO:
      s3_add (shard, entry);
      break;
    case NEBULA_EVICTION_POLICY_LRU:
      if (lru_clock (shard))
        clock_add (shard, entry);
      else
        nebula_cache_queue_push_tail (&shard->policy_queue, &entry->policy_link, entry->weight);
      break;
    case NEBULA_EVICTION_POLICY_FIFO:
    case NEBULA_EVICTION_POLICY_TTL:
    default:
      nebula_cache_queue_push_tail (&shard->policy_queue, &entry->policy_link, entry->weight);
      break;
    }
}

void
nebula_cache_policy_touch (NebulaCacheShard   *shard,
                           Entry              *entry)
{
  switch (shard->policy)
    {
    case NEBULA_EVICTION_POLICY_LRU:
      if (lru_clock (shard))
        nebula_cache_lru_mark (entry);
      else
        nebula_cache_queue_move_to_tail (&shard->policy_queue, &entry->policy_link);
      break;
    case NEBULA_EVICTION_POLICY_LFU:
      lfu_touch (shard, entry);
      break;
    case NEBULA_EVICTION_POLICY_S3_FIFO:
      if (entry->frequency < 3)
        entry->frequency++;
      break;
    case NEBULA_EVICTION_POLICY_FIFO:
    case NEBULA_EVICTION_POLICY_TTL:
    default:
      break;
    }
}

/* Unlinks @entry from the policy's structures (the entry is leaving for
 * another reason than the policy's choice). */
void
nebula_cache_policy_remove (NebulaCacheShard   *shard,
                            Entry              *entry)
{
  switch (shard->policy)
    {
    case NEBULA_EVICTION_POLICY_LFU:
      lfu_remove (shard, entry);
      break;
    case NEBULA_EVICTION_POLICY_S3_FIFO:
      nebula_cache_queue_unlink (s3_queue_of (shard, entry), &entry->policy_link, entry->weight);
      break;
    case NEBULA_EVICTION_POLICY_LRU:
      if (lru_clock (shard))
        clock_remove (shard, entry);
      else
        nebula_cache_queue_unlink (&shard->policy_queue, &entry->policy_link, entry->weight);
      break;
    case NEBULA_EVICTION_POLICY_FIFO:
    case NEBULA_EVICTION_POLICY_TTL:
    default:
      nebula_cache_queue_unlink (&shard->policy_queue, &entry->policy_link, entry->weight);
      break;
    }
}

/* Chooses the victim and unlinks it from the policy's structures. */
Entry *
nebula_cache_policy_evict (NebulaCacheShard   *shard)
{
  Link *link;

  switch (shard->policy)
    {
    case NEBULA_EVICTION_POLICY_LFU:
      {
        FrequencyBucket *lowest = (FrequencyBucket *) nebula_cache_queue_head (&shard->buckets);
        Entry *entry;

        if (lowest == NULL)
          return NULL;
        entry = ENTRY_OF (nebula_cache_queue_head (&lowest->entries), policy_link);
        lfu_remove (shard, entry);
        return entry;
      }
    case NEBULA_EVICTION_POLICY_S3_FIFO:
      {
        Entry *entry = NULL;

        while (entry == NULL && (shard->policy_queue.length > 0 || shard->main_queue.length > 0))
          {
            if (queue_size (shard, &shard->policy_queue) >= small_target (shard) ||
                shard->main_queue.length == 0)
              entry = s3_evict_small (shard);
            else
              entry = s3_evict_main (shard);
          }
        return entry;
      }
    case NEBULA_EVICTION_POLICY_LRU:
      if (lru_clock (shard))
        return clock_evict (shard);
      G_GNUC_FALLTHROUGH;
    case NEBULA_EVICTION_POLICY_FIFO:
    case NEBULA_EVICTION_POLICY_TTL:
    default:
      link = nebula_cache_queue_head (&shard->policy_queue);
      if (link == NULL)
        return NULL;
      nebula_cache_queue_unlink (&shard->policy_queue, link, ENTRY_OF (link, policy_link)->weight);
      return ENTRY_OF (link, policy_link);
    }
}
