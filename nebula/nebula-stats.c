/* nebula-stats.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "nebula-sanitizer-private.h"
#include "nebula-stats-private.h"

/* Thread-safe statistics: per-thread shards owned by the allocator.
 *
 * Every thread that records into a thread-safe allocator holds a small
 * integer, its *slot*, taken from a process-wide bitmap the first time it
 * records and given back when it exits (a GPrivate destructor). At most one
 * live thread holds a given slot. Every thread-safe allocator owns a table of
 * shards indexed by slot: a directory of pages, each page a run of shards
 * 128 bytes apart, so no two threads ever write the same cache line (128
 * rather than 64 because of the adjacent-line prefetcher). Pages are created
 * on demand with a compare-and-swap and never move, so the hot path is:
 * read the thread's slot, load the table, load the page, write the shard
 * with plain (relaxed atomic) stores. No read-modify-write instruction and
 * no shared cache line is written.
 *
 * A read sums the shards. There is nothing to flush: each shard holds
 * everything its threads recorded, so a read taken while nothing runs is
 * exact, and a read taken while other threads record sees each thread's
 * bytes up to some point during the read. A shard stores no balance: its
 * bytes in use are bytes_allocated - bytes_freed, so bytes_in_use is
 * always consistent with the totals of the same read (they are one sum),
 * and the owner writes each field with one release store, no sequence
 * lock (which cost the writer two stores and a load per request, and the
 * balance's load and store). The reader takes a real pair: it reads
 * bytes_freed, bytes_allocated, then bytes_freed again, and retries if a
 * free came in between; with release stores and acquire loads the pair
 * is then the shard's state at some instant (shard_snapshot()). The
 * request counts are separate counters, each exact up to some point
 * during the read: in a read taken while threads record, a count and
 * the bytes may be one request apart.
 *
 * Why this layout answers the questions a sharded counter raises:
 *
 * - Two allocators used from one thread: the thread has one slot, but every
 *   allocator has its own table, so their counts never meet. (nebula-memory
 *   kept one thread-local batch per thread and flushed it into whichever
 *   allocator came next; Nebula has no batches.)
 *
 * - A thread exits: only its slot number goes back to the bitmap. Its shard
 *   stays in every allocator's table with all its counts; the next thread
 *   that gets the same slot continues adding to the same shard. The
 *   bitmap's release/acquire order the old owner's last write before the
 *   new owner's first.
 *   Memory stays bounded by the most threads alive at once.
 *
 * - An allocator is finalized while other threads still hold slots: the
 *   table, pages and shards belong to the allocator and go with it. Threads
 *   keep a slot number and, in nebula_stats_thread_cache, at most one
 *   shard pointer per kind of allocator under a key that no other
 *   counters ever get, so a
 *   shard freed with its allocator is never reached again: there is
 *   nothing to leak and nothing used dangling; a thread that exits later
 *   only touches the bitmap and its own cache. Thread exit and finalize
 *   therefore never race on shared memory.
 *
 * - More than MAX_SLOTS threads alive at once: the extra threads share one
 *   overflow shard per table, under a mutex. Correct, only slower.
 *
 * Peak with shards. The true peak of a thread-safe allocator is the maximum
 * of a sum that no single thread sees change, and computing it exactly
 * would need a shared counter, which is what shards avoid. Each shard keeps
 * its own running balance (bytes its threads added minus bytes they removed)
 * and that balance's highest (high) and lowest (low) values since the last
 * reset. The owner settles them lazily, as the plain counters settle the
 * peak: a free settles high before it takes its bytes off (between two
 * frees the balance only rises) and low after; a read takes the current
 * balance into both. When shard s reached its high, every other shard r stood at least
 * at its low, so the total was at least
 *     base + high_s + sum over r != s of low_r
 * and the reported peak is the largest of: that bound over all s, every
 * value a read or a reset has computed, and the current value. Only a
 * read that saw every shard at one instant counts: shards read at
 * different moments can add up to more than the allocator ever had (a
 * block allocated in one shard and freed in another, the freeing shard
 * read before the free and the allocating one after a new allocation),
 * and so can the lows of the bound. A read therefore sums the shards
 * twice; when the byte totals, which only grow, did not move in between,
 * every shard held still at the moment between the two passes, and the
 * figures are kept; otherwise it tries again, a few times, then reports
 * its figures without keeping them as a peak. Hence:
 * peak_bytes_in_use of a thread-safe allocator is the highest bytes_in_use
 * that the allocator can prove it reached; it never exceeds the true peak,
 * it is exact when a single shard recorded since the last reset of the
 * statistics (one thread used the allocator, or several one after another
 * that took over the same shard: a new thread takes the lowest free slot,
 * usually the one its predecessor freed), and it is exact for any peak
 * that a read observed. nebula_stats_counters_peak_upper_bound() gives the other side,
 * base + sum of high_s, which the report shows next to it.
 *
 * Resets and nebula_stats_counters_zero() are never concurrent with requests
 * on the same allocator (nebula_allocator_reset() requires it), so they may
 * write every shard: they fold the shards' counts into `plain` and start
 * every shard again from 0, a new period for the running balances. */

#define SHARD_STRIDE    NEBULA_STATS_SHARD_STRIDE
#define SHARDS_PER_PAGE NEBULA_STATS_SHARDS_PER_PAGE
#define N_PAGES         NEBULA_STATS_N_PAGES
#define MAX_SLOTS       (SHARDS_PER_PAGE * N_PAGES)
#define OVERFLOW_SLOT   (MAX_SLOTS + 1)
/* Passes a read makes looking for two that agree (nebula_stats_counters_read()). */
#define READ_ATTEMPTS   4

typedef NebulaStatsShard Shard;
typedef NebulaStatsShardSlot ShardSlot;

G_STATIC_ASSERT (sizeof (Shard) <= SHARD_STRIDE);
G_STATIC_ASSERT (sizeof (ShardSlot) == SHARD_STRIDE);

/* The inline fast paths of the installed headers count into these places. */
#define ASSERT_PLAIN_FIELD(field, index) \
  G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaStatsPlain, field) == (index) * sizeof (guint64))
ASSERT_PLAIN_FIELD (allocations, 0);
ASSERT_PLAIN_FIELD (deallocations, 1);
ASSERT_PLAIN_FIELD (peak_bytes_in_use, 5);
ASSERT_PLAIN_FIELD (total_bytes_allocated, 6);
ASSERT_PLAIN_FIELD (freed_less_base, 7);
G_STATIC_ASSERT (sizeof (NebulaStatsPlain) == 9 * sizeof (guint64));
#undef ASSERT_PLAIN_FIELD

/* initial-exec: one instruction to reach it, even in the shared library. */
__thread guint nebula_stats_thread_slot __attribute__ ((tls_model ("initial-exec")));

__thread NebulaStatsThreadCache nebula_stats_thread_cache[NEBULA_STATS_THREAD_CACHE_N_KINDS]
  __attribute__ ((tls_model ("initial-exec")));

/* Bit n set: slot n + 1 is held by a live thread. Claimed and released
 * with atomics: the release of the old owner happens before the claim of
 * the next one, so its last shard writes are visible to the new owner. */
static guint64 slot_bitmap[MAX_SLOTS / 64];

/* Called by release_slot() once the slot is given back (see
 * nebula_stats_add_slot_release_notify()): a few listeners, each added
 * once, in the order they were added; the unused entries are NULL. */
#define N_RELEASE_NOTIFIES 4
static void (*slot_release_notifies[N_RELEASE_NOTIFIES]) (void);

static void
release_slot (gpointer data)
{
  guint slot = GPOINTER_TO_UINT (data) - 1;
  __atomic_fetch_and (&slot_bitmap[slot / 64], ~(G_GUINT64_CONSTANT (1) << (slot % 64)),
                      __ATOMIC_RELEASE);

  /* A destructor that records after this one claims a fresh slot, and
   * finds its shard again. */
  nebula_stats_thread_slot = 0;
  for (guint kind = 0; kind < NEBULA_STATS_THREAD_CACHE_N_KINDS; kind++)
    nebula_stats_thread_cache[kind].key = 0;

  /* Atomic: added by one thread while others may be exiting. */
  for (guint i = 0; i < N_RELEASE_NOTIFIES; i++)
    {
      void (*notify) (void) = __atomic_load_n (&slot_release_notifies[i], __ATOMIC_ACQUIRE);

      if (notify == NULL)
        break;
      notify ();
    }
}

void
nebula_stats_add_slot_release_notify (void (*notify) (void))
{
  for (guint i = 0; i < N_RELEASE_NOTIFIES; i++)
    {
      void (*expected) (void) = NULL;

      if (__atomic_compare_exchange_n (&slot_release_notifies[i], &expected, notify, FALSE,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
          expected == notify)
        return;
    }

  g_assert_not_reached ();
}

static GPrivate slot_owner = G_PRIVATE_INIT (release_slot);

static G_NO_INLINE guint
claim_slot (void)
{
  guint slot = OVERFLOW_SLOT;

  for (guint word = 0; word < G_N_ELEMENTS (slot_bitmap) && slot == OVERFLOW_SLOT; word++)
    {
      guint64 bits = __atomic_load_n (&slot_bitmap[word], __ATOMIC_ACQUIRE);

      while (bits != G_MAXUINT64)
        {
          guint bit = __builtin_ctzll (~bits);

          if (__atomic_compare_exchange_n (&slot_bitmap[word], &bits,
                                           bits | (G_GUINT64_CONSTANT (1) << bit), TRUE,
                                           __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            {
              slot = word * 64 + bit + 1;
              break;
            }
        }
    }

  if (slot != OVERFLOW_SLOT)
    g_private_set (&slot_owner, GUINT_TO_POINTER (slot));

  nebula_stats_thread_slot = slot;
  return slot;
}

static G_NO_INLINE NebulaStatsShardTable *
table_create (NebulaStatsCounters *counters)
{
  NebulaStatsShardTable *table = g_new0 (NebulaStatsShardTable, 1);
  NebulaStatsShardTable *expected = NULL;

  g_mutex_init (&table->overflow_lock);
  if (!__atomic_compare_exchange_n (&counters->table, &expected, table, FALSE,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    {
      g_mutex_clear (&table->overflow_lock);
      g_free (table);
      return expected;
    }

  return table;
}

static G_NO_INLINE ShardSlot *
page_create (NebulaStatsShardTable *table,
             guint                  index)
{
  ShardSlot *page = g_aligned_alloc0 (SHARDS_PER_PAGE, sizeof (ShardSlot), SHARD_STRIDE);
  ShardSlot *expected = NULL;

  if (!__atomic_compare_exchange_n (&table->pages[index], &expected, page, FALSE,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    {
      g_aligned_free (page);
      return expected;
    }

  return page;
}

#define LOAD(field)         __atomic_load_n (&(field), __ATOMIC_RELAXED)

/* Everything the inline path could not do: create the table, give the
 * thread a slot, create the page. NULL for a thread beyond MAX_SLOTS. */
NebulaStatsShard *
nebula_stats_counters_find_shard_slow (NebulaStatsCounters *counters)
{
  NebulaStatsShardTable *table;
  ShardSlot *page;
  guint slot;

  table = __atomic_load_n (&counters->table, __ATOMIC_ACQUIRE);
  if (table == NULL)
    table = table_create (counters);

  slot = nebula_stats_thread_slot;
  if (slot == 0)
    slot = claim_slot ();
  if (slot == OVERFLOW_SLOT)
    return NULL;

  slot--;
  page = __atomic_load_n (&table->pages[slot / SHARDS_PER_PAGE], __ATOMIC_ACQUIRE);
  if (page == NULL)
    page = page_create (table, slot / SHARDS_PER_PAGE);

  return &page[slot % SHARDS_PER_PAGE].shard;
}

void
nebula_stats_counters_record_overflow (NebulaStatsCounters *counters,
                                       guint64              allocations,
                                       guint64              deallocations,
                                       guint64              reallocations,
                                       gsize                bytes_in,
                                       gsize                bytes_out)
{
  NebulaStatsShardTable *table = __atomic_load_n (&counters->table, __ATOMIC_ACQUIRE);
  Shard *shard = &table->overflow;

  /* Under the lock, high and low are kept exact. */
  nebula_mutex_lock (&table->overflow_lock);
  shard->allocations += allocations;
  shard->deallocations += deallocations;
  shard->reallocations += reallocations;
  shard->bytes_allocated += bytes_in;
  shard->high = MAX (shard->high, (gint64) (shard->bytes_allocated - shard->bytes_freed));
  shard->bytes_freed += bytes_out;
  shard->low = MIN (shard->low, (gint64) (shard->bytes_allocated - shard->bytes_freed));
  nebula_mutex_unlock (&table->overflow_lock);
}

/* A copy of a shard that its owner may be writing, with a real
 * (bytes_allocated, bytes_freed) pair: bytes_freed did not change while
 * bytes_allocated was read, so both held at that instant. Acquire loads
 * pair with the owner's release stores: the allocated total read is at
 * least what it was when the first freed total read was stored, and the
 * second freed total at least what it was when the allocated total read
 * was stored. high and low then take that instant's balance in. */
static void
shard_snapshot (const Shard *shard,
                Shard       *copy)
{
#define ACQUIRE(field) __atomic_load_n (&(field), __ATOMIC_ACQUIRE)
  for (guint attempt = 0;; attempt++)
    {
      guint64 freed = ACQUIRE (shard->bytes_freed);
      gint64 balance;

      copy->bytes_allocated = ACQUIRE (shard->bytes_allocated);
      if (ACQUIRE (shard->bytes_freed) == freed)
        {
          copy->bytes_freed = freed;
          copy->allocations = ACQUIRE (shard->allocations);
          copy->deallocations = ACQUIRE (shard->deallocations);
          copy->reallocations = ACQUIRE (shard->reallocations);
          balance = (gint64) (copy->bytes_allocated - freed);
          copy->high = MAX (ACQUIRE (shard->high), balance);
          copy->low = MIN (ACQUIRE (shard->low), balance);
          return;
        }

      /* The owner freed in between: a few instructions, unless it was
       * preempted there. */
      if (attempt > 64)
        g_thread_yield ();
    }
#undef ACQUIRE
}

typedef struct
{
  NebulaAllocatorStats stats;
  guint64              peak_lower;
  guint64              peak_upper;
} Summary;

static void
summarize (NebulaStatsCounters *counters,
           Summary             *summary)
{
  NebulaStatsShardTable *table = __atomic_load_n (&counters->table, __ATOMIC_ACQUIRE);
  const NebulaStatsPlain *plain = &counters->plain;
  gint64 base = (gint64) LOAD (plain->in_use_base);
  gint64 balance = 0, sum_low = 0, sum_high = 0, widest = 0;
  NebulaAllocatorStats *out = &summary->stats;
  gint64 lower, in_use;

  out->allocations = LOAD (plain->allocations);
  out->deallocations = LOAD (plain->deallocations);
  out->reallocations = LOAD (plain->reallocations);
  out->failed_allocations = LOAD (plain->failed_allocations);
  out->total_bytes_allocated = LOAD (plain->total_bytes_allocated);
  out->total_bytes_freed = LOAD (plain->freed_less_base);
  out->resets = LOAD (plain->resets);

  for (guint p = 0; table != NULL && p <= N_PAGES; p++)
    {
      ShardSlot *page = NULL;
      guint n = SHARDS_PER_PAGE;

      if (p < N_PAGES)
        {
          page = __atomic_load_n (&table->pages[p], __ATOMIC_ACQUIRE);
          if (page == NULL)
            continue;
        }
      else
        {
          nebula_mutex_lock (&table->overflow_lock);
          n = 1;
        }

      for (guint i = 0; i < n; i++)
        {
          gint64 copy_balance;
          Shard copy;

          if (page != NULL)
            shard_snapshot (&page[i].shard, &copy);
          else
            copy = table->overflow;
          copy_balance = (gint64) (copy.bytes_allocated - copy.bytes_freed);

          out->allocations += copy.allocations;
          out->deallocations += copy.deallocations;
          out->reallocations += copy.reallocations;
          out->total_bytes_allocated += copy.bytes_allocated;
          out->total_bytes_freed += copy.bytes_freed;
          balance += copy_balance;
          sum_low += copy.low;
          sum_high += copy.high;
          widest = MAX (widest, copy.high - copy.low);
        }

      if (page == NULL)
        nebula_mutex_unlock (&table->overflow_lock);
    }

  in_use = MAX (base + balance, 0);
  lower = MAX (base + sum_low + widest, in_use);
  out->bytes_in_use = in_use;
  out->peak_bytes_in_use = MAX ((guint64) lower, LOAD (plain->peak_bytes_in_use));
  summary->peak_upper = MAX ((guint64) MAX (base + sum_high, 0), LOAD (counters->peak_upper));
  summary->peak_upper = MAX (summary->peak_upper, out->peak_bytes_in_use);
}

static void
fetch_max (guint64 *field,
           guint64  value)
{
  guint64 current = __atomic_load_n (field, __ATOMIC_RELAXED);

  while (value > current &&
         !__atomic_compare_exchange_n (field, &current, value, TRUE,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;
}

void
nebula_stats_counters_init (NebulaStatsCounters *counters,
                            gboolean             enabled,
                            gboolean             thread_safe)
{
  /* init runs twice on built-in allocators (instance init, then the
   * configured values); shards exist only after the first request. */
  nebula_stats_counters_clear (counters);
  memset (counters, 0, sizeof *counters);
  counters->enabled = !!enabled;
  counters->thread_safe = !!thread_safe;
}

/* The cache keeps no shard, or one found under a slot the thread has
 * given back: find it (and keep it), or count in the overflow shard (a
 * thread beyond the last slot, or counters that are not thread-safe). */
void
nebula_stats_shard_cache_record_slow (NebulaStatsCounters   *counters,
                                      NebulaStatsShardCache *cache,
                                      gsize                  allocated,
                                      gsize                  freed)
{
  if (!nebula_stats_shard_cache_fill (counters, cache))
    {
      if (allocated != 0)
        nebula_stats_counters_record_allocation (counters, allocated);
      else
        nebula_stats_counters_record_deallocation (counters, freed);
      return;
    }

  nebula_stats_shard_cache_record (counters, cache, allocated, freed);
}

gboolean
nebula_stats_shard_cache_fill (NebulaStatsCounters   *counters,
                               NebulaStatsShardCache *cache)
{
  NebulaStatsShard *shard = counters->thread_safe ? nebula_stats_counters_shard (counters) : NULL;

  if (shard == NULL)
    {
      nebula_stats_shard_cache_init (cache);
      return FALSE;
    }

  cache->shard = shard;
  cache->slot = nebula_stats_thread_slot;
  return TRUE;
}

guint64
nebula_stats_cache_key_new (void)
{
  static guint64 last_key;

  return __atomic_add_fetch (&last_key, 1, __ATOMIC_RELAXED);
}

/* The thread's cache holds another allocator's shard, or none: find this
 * one (and keep it), or count in the overflow shard (a thread beyond the
 * last slot, whose requests all go there). */
void
nebula_stats_thread_cache_record_slow (NebulaStatsCounters        *counters,
                                       NebulaStatsThreadCacheKind  kind,
                                       guint64                     key,
                                       gsize                       allocated,
                                       gsize                       freed)
{
  NebulaStatsShard *shard = nebula_stats_counters_shard (counters);

  if (shard == NULL)
    {
      nebula_stats_counters_record_overflow (counters, allocated != 0, allocated == 0, 0,
                                             allocated, freed);
      return;
    }

  nebula_stats_thread_cache[kind].key = key;
  nebula_stats_thread_cache[kind].shard = shard;
  nebula_stats_thread_cache_try_record (kind, key, allocated, freed);
}

void
nebula_stats_counters_clear (NebulaStatsCounters *counters)
{
  NebulaStatsShardTable *table = counters->table;

  memset (&counters->plain, 0, sizeof counters->plain);
  counters->peak_upper = 0;

  if (table == NULL)
    return;

  counters->table = NULL;
  for (guint p = 0; p < N_PAGES; p++)
    g_clear_pointer (&table->pages[p], g_aligned_free);
  g_mutex_clear (&table->overflow_lock);
  g_free (table);
}

void
nebula_stats_counters_read (NebulaStatsCounters  *counters,
                            NebulaAllocatorStats *out)
{
  Summary summary;

  if (!counters->thread_safe)
    {
      const NebulaStatsPlain *plain = &counters->plain;

      /* bytes_in_use is derived, the freed total stored less the base,
       * and the recorded peak may lag the inline paths (see
       * nebula-stats-fast.h). */
      out->allocations = plain->allocations;
      out->deallocations = plain->deallocations;
      out->reallocations = plain->reallocations;
      out->failed_allocations = plain->failed_allocations;
      out->bytes_in_use = nebula_stats_counters_plain_in_use (counters);
      out->peak_bytes_in_use = MAX (plain->peak_bytes_in_use, out->bytes_in_use);
      out->total_bytes_allocated = plain->total_bytes_allocated;
      out->total_bytes_freed = plain->freed_less_base + plain->in_use_base;
      out->resets = plain->resets;
      return;
    }

  summarize (counters, &summary);
  for (guint attempt = 0; attempt < READ_ATTEMPTS; attempt++)
    {
      Summary again;

      /* The byte totals only grow: a pass that finds them where the
       * previous one did saw every shard at one instant, between the two.
       * Its figures happened, and a peak they prove is kept. */
      summarize (counters, &again);
      if (again.stats.total_bytes_allocated == summary.stats.total_bytes_allocated &&
          again.stats.total_bytes_freed == summary.stats.total_bytes_freed)
        {
          fetch_max (&counters->plain.peak_bytes_in_use, again.stats.peak_bytes_in_use);
          *out = again.stats;
          return;
        }
      summary = again;
    }

  /* Other threads kept recording: the shards were read at different
   * moments and their sum, or the bound of their lows, may exceed any
   * value the allocator had (a block allocated in one shard and freed in
   * another, read in the wrong order). Report it, but prove no peak. */
  summary.stats.peak_bytes_in_use = MAX (LOAD (counters->plain.peak_bytes_in_use),
                                         summary.stats.bytes_in_use);
  *out = summary.stats;
}

guint64
nebula_stats_counters_peak_upper_bound (NebulaStatsCounters *counters)
{
  Summary summary;

  if (!counters->thread_safe)
    return MAX (counters->plain.peak_bytes_in_use, nebula_stats_counters_plain_in_use (counters));

  summarize (counters, &summary);
  return summary.peak_upper;
}

/* Starts every shard again from 0, its counts folded into `plain` first
 * unless @forget_history (then the caller clears `plain`); quiescent
 * callers only. */
static void
shard_restart (NebulaStatsCounters *counters,
               Shard               *shard,
               gboolean             forget_history)
{
  NebulaStatsPlain *plain = &counters->plain;

  if (!forget_history)
    {
      plain->allocations += shard->allocations;
      plain->deallocations += shard->deallocations;
      plain->reallocations += shard->reallocations;
      plain->total_bytes_allocated += shard->bytes_allocated;
      plain->freed_less_base += shard->bytes_freed;
    }
  memset (shard, 0, sizeof *shard);
}

static void
restart_balances (NebulaStatsCounters *counters,
                  gboolean             forget_history)
{
  NebulaStatsShardTable *table = counters->table;

  for (guint p = 0; table != NULL && p < N_PAGES; p++)
    {
      ShardSlot *page = table->pages[p];

      for (guint i = 0; page != NULL && i < SHARDS_PER_PAGE; i++)
        shard_restart (counters, &page[i].shard, forget_history);
    }

  if (table != NULL)
    shard_restart (counters, &table->overflow, forget_history);
}

void
nebula_stats_counters_zero (NebulaStatsCounters *counters)
{
  NebulaAllocatorStats current;

  nebula_stats_counters_read (counters, &current);

  /* What is live stays live: only the history is forgotten. In both
   * modes plain.in_use_base is a base; in plain mode the live bytes are
   * the allocated total (0) less the stored freed total, which is the
   * freed total (0) less the base. */
  restart_balances (counters, TRUE);
  memset (&counters->plain, 0, sizeof counters->plain);
  counters->plain.in_use_base = current.bytes_in_use;
  if (!counters->thread_safe)
    counters->plain.freed_less_base = (guint64) 0 - current.bytes_in_use;
  counters->plain.peak_bytes_in_use = current.bytes_in_use;
  counters->peak_upper = current.bytes_in_use;
  counters->zeroings++;
}

void
nebula_stats_counters_record_reset (NebulaStatsCounters *counters)
{
  NebulaStatsPlain *p = &counters->plain;
  Summary summary;

  if (!counters->enabled)
    return;

  if (!counters->thread_safe)
    {
      /* Everything in use counts as freed, and the balance starts anew at
       * 0 (closing any gap an oversized free left below 0, as restarting
       * the shards' balances does in thread-safe mode): the stored freed
       * total becomes the allocated total, the base keeps the real one. */
      guint64 freed;

      nebula_stats_counters_plain_free (counters, nebula_stats_counters_plain_in_use (counters));
      freed = p->freed_less_base + p->in_use_base;
      p->freed_less_base = p->total_bytes_allocated;
      p->in_use_base = freed - p->total_bytes_allocated;
      p->resets++;
      return;
    }

  /* Fold the period that ends into the base values: the peaks so far, and
   * everything in use counted as freed. */
  summarize (counters, &summary);
  p->peak_bytes_in_use = summary.stats.peak_bytes_in_use;
  counters->peak_upper = summary.peak_upper;
  p->freed_less_base += summary.stats.bytes_in_use;
  p->in_use_base = 0;
  p->resets++;
  restart_balances (counters, FALSE);
}
