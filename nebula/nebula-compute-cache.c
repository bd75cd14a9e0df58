/* nebula-compute-cache.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

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

typedef struct _Link Link;

struct _Link
{
  Link *prev;
  Link *next;
};

/* A circular list around a sentinel: O(1) append, unlink and pop. */
typedef struct
{
  Link    sentinel;
  guint   length;
  guint64 weight;
} Queue;

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

  NebulaEvictionPolicy      policy;
  guint                     max_entries;
  guint64                   max_weight;
  guint64                   time_to_live;
  guint64                   time_to_idle;

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

enum {
  PROP_0,
  PROP_POLICY,
  PROP_MAX_ENTRIES,
  PROP_MAX_WEIGHT,
  PROP_TIME_TO_LIVE,
  PROP_TIME_TO_IDLE,
  PROP_N_ENTRIES,
  PROP_WEIGHT,
  N_PROPS
};

enum {
  ENTRY_REMOVED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

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

/* Intrusive lists */

#define ENTRY_OF(link, member) \
  ((Entry *) (gpointer) ((guint8 *) (link) - G_STRUCT_OFFSET (Entry, member)))

static void
queue_init (Queue *queue)
{
  queue->sentinel.prev = queue->sentinel.next = &queue->sentinel;
  queue->length = 0;
  queue->weight = 0;
}

static inline gboolean
queue_is_empty (const Queue *queue)
{
  return queue->sentinel.next == &queue->sentinel;
}

static inline Link *
queue_head (Queue *queue)
{
  return queue_is_empty (queue) ? NULL : queue->sentinel.next;
}

static inline void
queue_push_tail (Queue   *queue,
                 Link    *link,
                 guint64  weight)
{
  link->next = &queue->sentinel;
  link->prev = queue->sentinel.prev;
  queue->sentinel.prev->next = link;
  queue->sentinel.prev = link;
  queue->length++;
  queue->weight += weight;
}

static inline void
queue_unlink (Queue   *queue,
              Link    *link,
              guint64  weight)
{
  link->prev->next = link->next;
  link->next->prev = link->prev;
  link->prev = link->next = NULL;
  queue->length--;
  queue->weight -= weight;
}

static inline void
queue_move_to_tail (Queue *queue,
                    Link  *link)
{
  if (queue->sentinel.prev == link)
    return;
  link->prev->next = link->next;
  link->next->prev = link->prev;
  link->next = &queue->sentinel;
  link->prev = queue->sentinel.prev;
  queue->sentinel.prev->next = link;
  queue->sentinel.prev = link;
}

/* LFU */

static FrequencyBucket *
bucket_new_after (NebulaComputeCache *self,
                  Link               *after,
                  guint64             frequency)
{
  FrequencyBucket *bucket = g_new0 (FrequencyBucket, 1);

  queue_init (&bucket->entries);
  bucket->frequency = frequency;
  bucket->link.prev = after;
  bucket->link.next = after->next;
  after->next->prev = &bucket->link;
  after->next = &bucket->link;
  self->buckets.length++;
  return bucket;
}

static void
bucket_release_if_empty (NebulaComputeCache *self,
                         FrequencyBucket    *bucket)
{
  if (!queue_is_empty (&bucket->entries))
    return;
  queue_unlink (&self->buckets, &bucket->link, 0);
  g_free (bucket);
}

static void
lfu_add (NebulaComputeCache *self,
         Entry              *entry)
{
  Link *first = queue_head (&self->buckets);
  FrequencyBucket *bucket = (FrequencyBucket *) first;

  if (bucket == NULL || bucket->frequency != 1)
    bucket = bucket_new_after (self, &self->buckets.sentinel, 1);
  entry->bucket = bucket;
  queue_push_tail (&bucket->entries, &entry->policy_link, entry->weight);
}

static void
lfu_touch (NebulaComputeCache *self,
           Entry              *entry)
{
  FrequencyBucket *bucket = entry->bucket;
  FrequencyBucket *next = (FrequencyBucket *) bucket->link.next;

  if (&next->link == &self->buckets.sentinel || next->frequency != bucket->frequency + 1)
    next = bucket_new_after (self, &bucket->link, bucket->frequency + 1);

  queue_unlink (&bucket->entries, &entry->policy_link, entry->weight);
  queue_push_tail (&next->entries, &entry->policy_link, entry->weight);
  entry->bucket = next;
  bucket_release_if_empty (self, bucket);
}

static void
lfu_remove (NebulaComputeCache *self,
            Entry              *entry)
{
  FrequencyBucket *bucket = entry->bucket;

  queue_unlink (&bucket->entries, &entry->policy_link, entry->weight);
  entry->bucket = NULL;
  bucket_release_if_empty (self, bucket);
}

/* S3-FIFO */

static inline gboolean
bounded_by_weight (NebulaComputeCache *self)
{
  return self->max_weight > 0;
}

static inline guint64
queue_size (NebulaComputeCache *self,
            const Queue        *queue)
{
  return bounded_by_weight (self) ? queue->weight : queue->length;
}

static guint64
small_target (NebulaComputeCache *self)
{
  guint64 bound = bounded_by_weight (self) ? self->max_weight : self->max_entries;

  return MAX (bound / 10, 1);
}

static guint
ghost_capacity (NebulaComputeCache *self)
{
  /* As many keys as the main queue holds entries. */
  if (self->max_entries > 0 && !bounded_by_weight (self))
    return MAX (self->max_entries - (guint) small_target (self), 1);
  return MAX (self->main_queue.length, 1);
}

static void
ghost_remember (NebulaComputeCache *self,
                guint               hash)
{
  GList *link = g_hash_table_lookup (self->ghost_index, GUINT_TO_POINTER (hash));

  if (link != NULL)
    g_queue_unlink (&self->ghost, link);
  else
    link = g_list_alloc ();
  link->data = GUINT_TO_POINTER (hash);
  g_queue_push_tail_link (&self->ghost, link);
  g_hash_table_insert (self->ghost_index, GUINT_TO_POINTER (hash), link);

  while (self->ghost.length > ghost_capacity (self))
    {
      GList *oldest = g_queue_pop_head_link (&self->ghost);

      g_hash_table_remove (self->ghost_index, oldest->data);
      g_list_free_1 (oldest);
    }
}

static gboolean
ghost_forget (NebulaComputeCache *self,
              guint               hash)
{
  GList *link = g_hash_table_lookup (self->ghost_index, GUINT_TO_POINTER (hash));

  if (link == NULL)
    return FALSE;
  g_hash_table_remove (self->ghost_index, GUINT_TO_POINTER (hash));
  g_queue_delete_link (&self->ghost, link);
  return TRUE;
}

static void
s3_add (NebulaComputeCache *self,
        Entry              *entry)
{
  entry->frequency = 0;
  entry->in_main = ghost_forget (self, entry->hash);
  queue_push_tail (entry->in_main ? &self->main_queue : &self->policy_queue,
                   &entry->policy_link, entry->weight);
}

static inline Queue *
s3_queue_of (NebulaComputeCache *self,
             Entry              *entry)
{
  return entry->in_main ? &self->main_queue : &self->policy_queue;
}

/* Lazy promotion: an entry of the small queue that was hit since it came
 * in moves to the main queue; one that was not leaves the cache and its
 * hash goes to the ghost queue. Moving does not change the total, so the
 * caller's loop decides whether the main queue must give up an entry. */
static Entry *
s3_evict_small (NebulaComputeCache *self)
{
  Link *link;

  while ((link = queue_head (&self->policy_queue)) != NULL)
    {
      Entry *entry = ENTRY_OF (link, policy_link);

      queue_unlink (&self->policy_queue, link, entry->weight);
      if (entry->frequency > 0)
        {
          entry->frequency = 0;
          entry->in_main = TRUE;
          queue_push_tail (&self->main_queue, link, entry->weight);
        }
      else
        {
          ghost_remember (self, entry->hash);
          return entry;
        }
    }

  return NULL;
}

/* Lazy reinsertion: an entry hit since it was last looked at goes round
 * again with one use less. Frequencies are at most 3, so this ends. */
static Entry *
s3_evict_main (NebulaComputeCache *self)
{
  Link *link;

  while ((link = queue_head (&self->main_queue)) != NULL)
    {
      Entry *entry = ENTRY_OF (link, policy_link);

      if (entry->frequency > 0)
        {
          entry->frequency--;
          queue_move_to_tail (&self->main_queue, link);
          continue;
        }
      queue_unlink (&self->main_queue, link, entry->weight);
      return entry;
    }

  return NULL;
}

/* Policy dispatch */

static void
policy_add (NebulaComputeCache *self,
            Entry              *entry)
{
  switch (self->policy)
    {
    case NEBULA_EVICTION_POLICY_LFU:
      lfu_add (self, entry);
      break;
    case NEBULA_EVICTION_POLICY_S3_FIFO:
      s3_add (self, entry);
      break;
    case NEBULA_EVICTION_POLICY_LRU:
    case NEBULA_EVICTION_POLICY_FIFO:
    case NEBULA_EVICTION_POLICY_TTL:
    default:
      queue_push_tail (&self->policy_queue, &entry->policy_link, entry->weight);
      break;
    }
}

static void
policy_touch (NebulaComputeCache *self,
              Entry              *entry)
{
  switch (self->policy)
    {
    case NEBULA_EVICTION_POLICY_LRU:
      queue_move_to_tail (&self->policy_queue, &entry->policy_link);
      break;
    case NEBULA_EVICTION_POLICY_LFU:
      lfu_touch (self, entry);
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
static void
policy_remove (NebulaComputeCache *self,
               Entry              *entry)
{
  switch (self->policy)
    {
    case NEBULA_EVICTION_POLICY_LFU:
      lfu_remove (self, entry);
      break;
    case NEBULA_EVICTION_POLICY_S3_FIFO:
      queue_unlink (s3_queue_of (self, entry), &entry->policy_link, entry->weight);
      break;
    case NEBULA_EVICTION_POLICY_LRU:
    case NEBULA_EVICTION_POLICY_FIFO:
    case NEBULA_EVICTION_POLICY_TTL:
    default:
      queue_unlink (&self->policy_queue, &entry->policy_link, entry->weight);
      break;
    }
}

/* Chooses the victim and unlinks it from the policy's structures. */
static Entry *
policy_evict (NebulaComputeCache *self)
{
  Link *link;

  switch (self->policy)
    {
    case NEBULA_EVICTION_POLICY_LFU:
      {
        FrequencyBucket *lowest = (FrequencyBucket *) queue_head (&self->buckets);
        Entry *entry;

        if (lowest == NULL)
          return NULL;
        entry = ENTRY_OF (queue_head (&lowest->entries), policy_link);
        lfu_remove (self, entry);
        return entry;
      }
    case NEBULA_EVICTION_POLICY_S3_FIFO:
      {
        Entry *entry = NULL;

        while (entry == NULL && (self->policy_queue.length > 0 || self->main_queue.length > 0))
          {
            if (queue_size (self, &self->policy_queue) >= small_target (self) ||
                self->main_queue.length == 0)
              entry = s3_evict_small (self);
            else
              entry = s3_evict_main (self);
          }
        return entry;
      }
    case NEBULA_EVICTION_POLICY_LRU:
    case NEBULA_EVICTION_POLICY_FIFO:
    case NEBULA_EVICTION_POLICY_TTL:
    default:
      link = queue_head (&self->policy_queue);
      if (link == NULL)
        return NULL;
      queue_unlink (&self->policy_queue, link, ENTRY_OF (link, policy_link)->weight);
      return ENTRY_OF (link, policy_link);
    }
}

/* Entries */

static inline gint64
now (NebulaComputeCache *self)
{
  return self->clock != NULL ? self->clock (self->clock_data) : g_get_monotonic_time ();
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

static inline gboolean
is_expired (NebulaComputeCache *self,
            Entry              *entry,
            gint64              time)
{
  return (self->time_to_live > 0 && time - entry->written_at >= (gint64) self->time_to_live) ||
         (self->time_to_idle > 0 && time - entry->accessed_at >= (gint64) self->time_to_idle);
}

/* Takes @entry out of every structure except the policy's and queues it in
 * @graveyard, where it waits for the lock to be released. */
static void
bury (NebulaComputeCache *self,
      Entry              *entry,
      NebulaRemovalCause  cause,
      GQueue             *graveyard)
{
  g_hash_table_remove (self->map, entry->key);
  if (self->time_to_live > 0)
    queue_unlink (&self->write_queue, &entry->write_link, 0);
  if (self->time_to_idle > 0)
    queue_unlink (&self->access_queue, &entry->access_link, 0);
  self->weight -= entry->weight;

  switch (cause)
    {
    case NEBULA_REMOVAL_CAUSE_EXPLICIT:
      self->stats.invalidations++;
      break;
    case NEBULA_REMOVAL_CAUSE_REPLACED:
      self->stats.replacements++;
      break;
    case NEBULA_REMOVAL_CAUSE_SIZE:
      self->stats.evictions++;
      break;
    case NEBULA_REMOVAL_CAUSE_EXPIRED:
    default:
      self->stats.expirations++;
      break;
    }

  entry->cause = cause;
  g_queue_push_tail (graveyard, entry);
}

static void
remove_entry (NebulaComputeCache *self,
              Entry              *entry,
              NebulaRemovalCause  cause,
              GQueue             *graveyard)
{
  policy_remove (self, entry);
  bury (self, entry, cause, graveyard);
}

/* Drops the entries whose time passed. Both time queues are sorted by
 * their deadline, so only their heads are ever looked at. */
static void
expire (NebulaComputeCache *self,
        gint64              time,
        GQueue             *graveyard)
{
  Link *link;

  if (self->time_to_live > 0)
    while ((link = queue_head (&self->write_queue)) != NULL &&
           is_expired (self, ENTRY_OF (link, write_link), time))
      remove_entry (self, ENTRY_OF (link, write_link), NEBULA_REMOVAL_CAUSE_EXPIRED, graveyard);

  if (self->time_to_idle > 0)
    while ((link = queue_head (&self->access_queue)) != NULL &&
           is_expired (self, ENTRY_OF (link, access_link), time))
      remove_entry (self, ENTRY_OF (link, access_link), NEBULA_REMOVAL_CAUSE_EXPIRED, graveyard);
}

/* Finds the live entry of @key; an expired one is removed on the way. */
static Entry *
find_live (NebulaComputeCache *self,
           gconstpointer       key,
           gint64              time,
           GQueue             *graveyard)
{
  Entry *entry;

  expire (self, time, graveyard);
  entry = g_hash_table_lookup (self->map, key);
  if (entry != NULL && is_expired (self, entry, time))
    {
      remove_entry (self, entry, NEBULA_REMOVAL_CAUSE_EXPIRED, graveyard);
      entry = NULL;
    }
  return entry;
}

static void
touch (NebulaComputeCache *self,
       Entry              *entry,
       gint64              time)
{
  entry->accessed_at = time;
  if (self->time_to_idle > 0)
    queue_move_to_tail (&self->access_queue, &entry->access_link);
  policy_touch (self, entry);
}

/* Written so that no sum can wrap: weights may come close to 2^64. */
static inline gboolean
over_bound (NebulaComputeCache *self,
            guint               extra_entries,
            guint64             extra_weight)
{
  return (self->max_entries > 0 &&
          g_hash_table_size (self->map) + extra_entries > self->max_entries) ||
         (self->max_weight > 0 &&
          (self->weight > self->max_weight || extra_weight > self->max_weight - self->weight));
}

static guint64
weigh (NebulaComputeCache *self,
       gconstpointer       key,
       gconstpointer       value)
{
  if (self->weigher != NULL)
    return self->weigher (key, value, self->weigher_data);
  return 1;
}

/* Stores @key -> @value (taking both) after making room. @known_absent
 * spares a lookup when the caller just found no entry. Returns FALSE with
 * OVERFLOW when the value alone exceeds the bound; the caller still owns
 * @key and @value then. */
static gboolean
store (NebulaComputeCache  *self,
       gpointer             key,
       gpointer             value,
       guint64              weight,
       gint64               time,
       gboolean             known_absent,
       GQueue              *graveyard,
       GError             **error)
{
  Entry *entry;
  Entry *previous;

  if (self->max_weight > 0 && weight > self->max_weight)
    {
      NebulaErrorInfo info = { .requested = weight, .capacity = self->max_weight };

      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_OVERFLOW, &info,
                        "Value weighs %" G_GUINT64_FORMAT ", more than max-weight %"
                        G_GUINT64_FORMAT " of the whole cache",
                        weight, self->max_weight);
      return FALSE;
    }

  previous = known_absent ? NULL : g_hash_table_lookup (self->map, key);

  /* Without a bound nothing makes room, and the total (hence every
   * queue's) must stay exact: refuse what would carry it past 2^64 - 1. */
  if (self->max_weight == 0 &&
      weight > G_MAXUINT64 - (self->weight - (previous != NULL ? previous->weight : 0)))
    {
      NebulaErrorInfo info = { .requested = weight, .capacity = G_MAXUINT64 };

      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_OVERFLOW, &info,
                        "Value weighs %" G_GUINT64_FORMAT "; with the %" G_GUINT64_FORMAT
                        " stored the total weight would pass %" G_GUINT64_FORMAT,
                        weight, self->weight, G_MAXUINT64);
      return FALSE;
    }

  if (previous != NULL)
    remove_entry (self, previous, NEBULA_REMOVAL_CAUSE_REPLACED, graveyard);

  while (over_bound (self, 1, weight))
    {
      Entry *victim = policy_evict (self);

      if (victim == NULL)
        break;
      bury (self, victim, NEBULA_REMOVAL_CAUSE_SIZE, graveyard);
    }

  entry = g_slice_new0 (Entry);
  entry->key = key;
  entry->value = value;
  entry->weight = weight;
  entry->written_at = entry->accessed_at = time;
  entry->hash = self->hash_func (key);
  g_hash_table_insert (self->map, key, entry);
  self->weight += weight;
  if (self->time_to_live > 0)
    queue_push_tail (&self->write_queue, &entry->write_link, 0);
  if (self->time_to_idle > 0)
    queue_push_tail (&self->access_queue, &entry->access_link, 0);
  policy_add (self, entry);
  self->stats.insertions++;
  return TRUE;
}

static void
free_entry_data (NebulaComputeCache *self,
                 gpointer            key,
                 gpointer            value)
{
  if (self->key_destroy != NULL && key != NULL)
    self->key_destroy (key);
  if (self->value_destroy != NULL && value != NULL)
    self->value_destroy (value);
}

/* Runs outside the lock: handlers may call back into the cache. */
static void
flush_graveyard (NebulaComputeCache *self,
                 GQueue             *graveyard)
{
  Entry *entry;
  gboolean emit = self->variant_keys &&
                  g_signal_has_handler_pending (self, signals[ENTRY_REMOVED], 0, FALSE);

  while ((entry = g_queue_pop_head (graveyard)) != NULL)
    {
      if (emit)
        g_signal_emit (self, signals[ENTRY_REMOVED], 0, entry->key, entry->value, entry->cause);
      free_entry_data (self, entry->key, entry->value);
      g_slice_free (Entry, entry);
    }
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
  gint64 time;
  guint64 weight;

  nebula_mutex_lock (&self->mutex);
  time = now (self);
  entry = find_live (self, key, time, &graveyard);
  self->stats.requests++;
  if (entry != NULL)
    {
      self->stats.hits++;
      touch (self, entry, time);
      result = ref_value (self, entry->value);
    }
  else
    self->stats.misses++;
  nebula_mutex_unlock (&self->mutex);
  flush_graveyard (self, &graveyard);

  if (result != NULL)
    {
      free_entry_data (self, key, NULL);
      return result;
    }

  started = g_get_monotonic_time ();
  if (object_func != NULL)
    value = object_func (key, user_data, &local_error);
  else
    value = pointer_func (key, user_data, &local_error);

  nebula_mutex_lock (&self->mutex);
  self->stats.load_time_us += g_get_monotonic_time () - started;
  if (value == NULL)
    {
      self->stats.loads_failed++;
      nebula_mutex_unlock (&self->mutex);
      free_entry_data (self, key, NULL);
      if (local_error == NULL)
        nebula_set_error (&local_error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                          "The compute function returned no value and no error");
      g_propagate_error (error, local_error);
      return NULL;
    }
  self->stats.loads_ok++;
  nebula_mutex_unlock (&self->mutex);

  /* The weigher is the program's code: call it without the lock. */
  weight = weigh (self, key, value);

  nebula_mutex_lock (&self->mutex);
  time = now (self);
  entry = find_live (self, key, time, &graveyard);
  if (entry != NULL)
    {
      /* Another thread stored a value while this one computed: keep it. */
      result = ref_value (self, entry->value);
      nebula_mutex_unlock (&self->mutex);
      free_entry_data (self, key, value);
    }
  else if (store (self, key, value, weight, time, TRUE, &graveyard, error))
    {
      result = ref_value (self, value);
      nebula_mutex_unlock (&self->mutex);
    }
  else
    {
      nebula_mutex_unlock (&self->mutex);
      free_entry_data (self, key, value);
    }

  flush_graveyard (self, &graveyard);
  return result;
}

static gboolean
insert (NebulaComputeCache  *self,
        gpointer             key,
        gpointer             value,
        GError             **error)
{
  GQueue graveyard = G_QUEUE_INIT;
  guint64 weight = weigh (self, key, value);
  gboolean stored;

  nebula_mutex_lock (&self->mutex);
  expire (self, now (self), &graveyard);
  stored = store (self, key, value, weight, now (self), FALSE, &graveyard, error);
  nebula_mutex_unlock (&self->mutex);

  if (!stored)
    free_entry_data (self, key, value);
  flush_graveyard (self, &graveyard);
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
  time = now (self);
  entry = find_live (self, key, time, &graveyard);
  if (count)
    self->stats.requests++;
  if (entry != NULL)
    {
      if (count)
        self->stats.hits++;
      touch (self, entry, time);
      result = ref_value (self, entry->value);
      if (written_at != NULL)
        *written_at = entry->written_at;
    }
  else if (count)
    self->stats.misses++;
  nebula_mutex_unlock (&self->mutex);

  flush_graveyard (self, &graveyard);
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
  entry = find_live (self, key, now (self), &graveyard);
  if (entry != NULL)
    {
      remove_entry (self, entry, NEBULA_REMOVAL_CAUSE_EXPLICIT, &graveyard);
      removed = TRUE;
    }
  nebula_mutex_unlock (&self->mutex);

  flush_graveyard (self, &graveyard);
  return removed;
}

/* g_variant_hash() takes basic values only; a tuple key mixes the hashes
 * of its members. */
guint
nebula_cache_key_hash (gconstpointer key)
{
  GVariant *variant = (GVariant *) key;
  guint hash = 17;
  gsize n;

  if (!g_variant_is_container (variant))
    return g_variant_hash (variant);

  n = g_variant_n_children (variant);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (variant, i);

      hash = hash * 31 + g_variant_hash (child);
    }
  return hash;
}

gboolean
nebula_cache_check_key (GVariant  *key,
                        GError   **error)
{
  const GVariantType *type;

  if (key == NULL)
    {
      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY, NULL,
                        "The key is NULL; use a GVariant of a basic type");
      return FALSE;
    }

  type = g_variant_get_type (key);
  if (g_variant_type_is_basic (type))
    return TRUE;

  if (g_variant_type_is_tuple (type))
    {
      gboolean all_basic = TRUE;

      for (const GVariantType *item = g_variant_type_first (type);
           item != NULL && all_basic;
           item = g_variant_type_next (item))
        all_basic = g_variant_type_is_basic (item);
      if (all_basic)
        return TRUE;
    }

  nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY, NULL,
                    "The key has type '%s', which is neither a basic type nor a tuple "
                    "of basic types",
                    g_variant_get_type_string (key));
  return FALSE;
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
    remove_entry (self, l->data, NEBULA_REMOVAL_CAUSE_EXPLICIT, &graveyard);
  nebula_mutex_unlock (&self->mutex);
  g_list_free (entries);

  flush_graveyard (self, &graveyard);
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

static guint64
object_weigher_trampoline (gconstpointer key,
                           gconstpointer value,
                           gpointer      user_data)
{
  NebulaComputeCache *self = user_data;

  return self->object_weigher ((GVariant *) key, (GObject *) value, self->object_weigher_data);
}

static void
replace_weigher (NebulaComputeCache       *self,
                 NebulaPointerWeigherFunc  func,
                 gpointer                  user_data,
                 GDestroyNotify            destroy)
{
  GDestroyNotify old_destroy;
  gpointer old_data;

  nebula_mutex_lock (&self->mutex);
  old_destroy = self->weigher_destroy;
  old_data = self->weigher_data;
  self->weigher = func;
  self->weigher_data = user_data;
  self->weigher_destroy = destroy;
  nebula_mutex_unlock (&self->mutex);

  if (old_destroy != NULL)
    old_destroy (old_data);
}

/**
 * nebula_compute_cache_set_weigher:
 * @self: a #NebulaComputeCache
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   the weigher, or %NULL to weigh every entry 1
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Sets the function that weighs entries against
 * #NebulaComputeCache:max-weight. Set it before storing entries: the weight
 * of an entry is taken when it is stored.
 */
void
nebula_compute_cache_set_weigher (NebulaComputeCache *self,
                                  NebulaWeigherFunc   func,
                                  gpointer            user_data,
                                  GDestroyNotify      destroy)
{
  g_return_if_fail (NEBULA_IS_COMPUTE_CACHE (self));
  g_return_if_fail (self->variant_keys);

  replace_weigher (self, NULL, NULL, NULL);
  if (self->object_weigher_destroy != NULL)
    self->object_weigher_destroy (self->object_weigher_data);
  self->object_weigher = func;
  self->object_weigher_data = user_data;
  self->object_weigher_destroy = destroy;
  if (func != NULL)
    replace_weigher (self, object_weigher_trampoline, self, NULL);
}

/**
 * nebula_compute_cache_set_pointer_weigher: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_full()
 * @func: (nullable): the weigher, or %NULL to weigh every entry 1
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * The weigher of caches with arbitrary keys and values.
 */
void
nebula_compute_cache_set_pointer_weigher (NebulaComputeCache       *self,
                                          NebulaPointerWeigherFunc  func,
                                          gpointer                  user_data,
                                          GDestroyNotify            destroy)
{
  g_return_if_fail (NEBULA_IS_COMPUTE_CACHE (self));
  g_return_if_fail (!self->variant_keys);

  replace_weigher (self, func, user_data, destroy);
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

      free_entry_data (self, entry->key, entry->value);
      g_slice_free (Entry, entry);
    }
  g_hash_table_unref (self->map);

  while (!queue_is_empty (&self->buckets))
    {
      Link *link = queue_head (&self->buckets);

      queue_unlink (&self->buckets, link, 0);
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
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_compute_cache_class_init (NebulaComputeCacheClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

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

  /**
   * NebulaComputeCache::entry-removed:
   * @self: the cache
   * @key: the key of the entry
   * @value: the value of the entry
   * @cause: why it left
   *
   * Emitted after an entry left the cache, outside the cache's lock, in the
   * thread that removed it. Not emitted by caches made with
   * nebula_compute_cache_new_full().
   */
  signals[ENTRY_REMOVED] =
    g_signal_new ("entry-removed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3,
                  G_TYPE_VARIANT | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_OBJECT,
                  NEBULA_TYPE_REMOVAL_CAUSE);
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
  queue_init (&self->policy_queue);
  queue_init (&self->main_queue);
  queue_init (&self->buckets);
  queue_init (&self->write_queue);
  queue_init (&self->access_queue);
  g_queue_init (&self->ghost);
  self->ghost_index = g_hash_table_new (NULL, NULL);
}
