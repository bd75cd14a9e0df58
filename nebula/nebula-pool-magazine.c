/* nebula-pool-magazine.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-pool-magazine-private.h"

#ifdef __linux__
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* Per-thread caches of free blocks for a thread-safe pool (Bonwick's
 * magazines, the design GSlice implemented).
 *
 * Each thread that uses a pool gets a magazine: an array of up to
 * magazine_size free blocks that only that thread touches. An allocation
 * takes the last block of the calling thread's magazine and a free puts
 * the block there, with plain loads and stores: the shared free list, its
 * compare-and-swap and the shared in-use counter are not involved. Only
 * when a magazine runs empty or full does the thread go to the shared
 * parts, a batch of half a magazine at a time: the depot (an array of free
 * blocks under a lock: one lock per batch) first, then the shared free
 * list and the fresh tail (nebula-pool-concurrent.c), then growth. A
 * magazine whose trips to the depot go one way (a producer's refills, a
 * consumer's flushes: blocks freed on another thread than the one that
 * took them) moves a whole magazine per trip from its second trip that
 * way on (see "Trips" below). A block
 * freed by another thread than the one that took it goes to the freeing
 * thread's magazine: blocks of one pool are interchangeable.
 *
 * Check-frees marks a block in a byte per block (Slab.states) with a load
 * and a store, no read-modify-write: nebula-pool-concurrent-private.h says
 * what that catches (every double free ordered after the first; a racing
 * one as a dropped copy). Without check-frees a double free is not
 * checked.
 *
 * Exhaustion: before a pool reports EXHAUSTED, the thread that found it
 * out of blocks reclaims the other magazines' blocks and the depot's
 * (magazines_reclaim(), the handshake above owners_fence); each reclaim
 * that found blocks halves magazine_limit, down to 0 (exact sharing),
 * and quiet refills raise it again (nebula-pool-magazine-limit.c, which
 * also chooses the magazines' size).
 *
 * Lifetimes. A magazine belongs to its thread (a GPrivate table); the pool
 * lists its magazines so that it can count the blocks in use and drop the
 * link when it is finalized. One process-wide lock orders the rare events
 * that involve both: a thread's first call on a pool, the thread's exit
 * (its cached blocks go back to the shared list), the pool's finalize (its
 * magazines are orphaned: their pool pointer becomes NULL and the thread
 * frees them on its next lookup or at its exit) and the in-use count.
 *
 * A reset sets STALE in every magazine's reclaim word (under the
 * magazines lock, as a reclaim sets RECLAIMING); a magazine so marked is
 * emptied by its thread on its next call (the reset made
 * every block free, and its blocks are back in the fresh tail). A reset,
 * like a finalize, needs every other thread to be done with the pool.
 *
 * A trim (nebula-pool-trim.c) can only give back a slab none of whose
 * blocks is cached, so it flushes first (nebula_pool_magazines_flush()):
 * the depot's blocks and the calling thread's magazine go back to the
 * shared list, and every magazine is marked STALE as for a reset, but the
 * count of resets does not change: a thread that finds its magazine
 * STALE gives its blocks back to the shared list on its next call on the
 * pool (a reset came: it drops them). The fast paths keep their one
 * check, of the reclaim word. A
 * thread that never calls the pool again keeps its blocks until it exits.
 *
 * Statistics: each magazine counts the blocks its thread took and gave
 * back (single-writer atomic stores); the pool's in-use count is the shared
 * counter plus the sum of the magazines' differences. Budgets are charged
 * per slab, so the blocks cached per thread are charged once. The
 * statistics go to the thread's shard, which the magazine keeps; the
 * lean paths trust it without comparing the thread's statistics slot,
 * because a magazine is put in the pool's slot only with its shard
 * current and every slot is cleared when the thread gives its
 * statistics slot back (recent_keep()).
 *
 * A thread-safe pool without magazines (magazine_size 0) still gives each
 * thread a record, a magazine that caches nothing: its direct path
 * (shared_direct_alloc_inline() in nebula-pool-magazine-direct.c) takes
 * and gives blocks on the shared list and counts them there, so that no
 * shared counter is written.
 *
 * The requests themselves (the vfuncs' paths, the direct paths, the
 * multi-pool's take and give) are in nebula-pool-magazine-direct.c; the
 * magazine and the steps every request takes, in
 * nebula-pool-magazine-private.h. */

/* The process-wide lock of the rare events. GMutex is built from atomics
 * in an uninstrumented GLib: ThreadSanitizer is told what it orders, as
 * for the pool's growth lock. */
static GMutex magazines_lock;

static void
lock_magazines (void)
{
  g_mutex_lock (&magazines_lock);
#if NEBULA_TSAN
  __tsan_acquire (&magazines_lock);
#endif
}

static void
unlock_magazines (void)
{
#if NEBULA_TSAN
  __tsan_release (&magazines_lock);
#endif
  g_mutex_unlock (&magazines_lock);
}

static void
lock_depot (NebulaPoolAllocator *self)
{
  nebula_cache_lock_acquire (&self->depot_lock);
#if NEBULA_TSAN
  __tsan_acquire (&self->depot_lock);
#endif
}

static void
unlock_depot (NebulaPoolAllocator *self)
{
#if NEBULA_TSAN
  __tsan_release (&self->depot_lock);
#endif
  nebula_cache_lock_release (&self->depot_lock);
}

static void thread_magazines_free (gpointer data);

/* The calling thread's magazines, one per pool it used (a GPtrArray). */
static GPrivate thread_magazines = G_PRIVATE_INIT (thread_magazines_free);

/* What an empty slot holds: a magazine of no pool, so that the one
 * comparison of magazine_find() sends the thread to the lookup. Never
 * written, as is no_slots. */
static PoolMagazine no_magazine;

/* A thread's slots until its first lookup. */
static PoolMagazine *no_slots[RECENT_MAGAZINES] = { [0 ... RECENT_MAGAZINES - 1] = &no_magazine };

/* The slots of the magazines the thread used last (see the header). */
__thread PoolMagazine **nebula_pool_recent_magazines
  __attribute__ ((tls_model ("initial-exec"))) = no_slots;

static gint next_magazine_slot;

/* After nebula_pool_magazine_lookup() made the slots. */
static inline void
recent_set (NebulaPoolAllocator *self,
            PoolMagazine        *magazine)
{
  nebula_pool_recent_magazines[self->magazine_slot] = magazine;
}

static void
recent_clear (void)
{
  if (nebula_pool_recent_magazines != no_slots)
    for (guint i = 0; i < RECENT_MAGAZINES; i++)
      nebula_pool_recent_magazines[i] = &no_magazine;
}

/* Puts @magazine in @self's slot with its statistics shard the thread's,
 * so that the lean paths (nebula-pool-magazine-direct.c) record into it
 * without comparing the thread's statistics slot with the one it was
 * found under: the slot changes only when the thread gives it back, and
 * then nebula-stats.c calls recent_clear() (set in magazines_init_fence()).
 * A thread beyond the last statistics slot keeps nothing in the slot: its
 * requests take the full path, which counts in the overflow shard. */
static void
recent_keep (NebulaPoolAllocator *self,
             PoolMagazine        *magazine)
{
  if (!self->stats.enabled || nebula_stats_shard_cache_fill (&self->stats, &magazine->shard))
    recent_set (self, magazine);
}

/* Reclaiming a magazine's blocks from another thread (see "Exhaustion"
 * above) is Dekker's handshake: the owner stores busy, then loads
 * reclaim; the reclaiming thread stores reclaim, then loads busy. Each
 * side needs a full fence between its store and its load, and the
 * owner's, on every call, would cost what a read-modify-write does. So the
 * fence is asymmetric: the owner's is a compiler barrier, and the
 * reclaiming thread runs membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED),
 * which makes every running thread of the process execute a full fence
 * before it returns (a thread that is not running passed one when it was
 * switched out). Then either the owner's busy is visible to the
 * reclaiming thread, or the owner's load sees reclaim and it waits.
 * Where membarrier() is missing or refused, owners fence themselves: their
 * magazines' reclaim word carries OWNER_FENCES, so that the one test of
 * the fast path sends them to nebula_pool_magazine_wait(). */
static gboolean owners_fence;

/* ThreadSanitizer does not model fences: there a sequentially consistent
 * read-modify-write (a full barrier on x86) stands for one. */
static inline void
full_fence (void)
{
#if NEBULA_TSAN
  static guint tsan_fence;

  __atomic_fetch_add (&tsan_fence, 0, __ATOMIC_SEQ_CST);
#else
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
#endif
}

#define RECLAIMING   1u   /* another thread is taking the magazine's blocks */
#define OWNER_FENCES 2u   /* its thread fences (no membarrier()) */
#define STALE        4u   /* a reset or flush request came: give the blocks back */

static gpointer
magazines_init_fence (gpointer data)
{
  nebula_stats_add_slot_release_notify (recent_clear);
#if defined(__linux__) && defined(SYS_membarrier)
  if (syscall (SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
    return GINT_TO_POINTER (1);
#endif
  owners_fence = TRUE;
  return GINT_TO_POINTER (1);
}

static void
magazines_fence_all (void)
{
#if defined(__linux__) && defined(SYS_membarrier)
  if (!owners_fence && syscall (SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
    return;
#endif
  full_fence ();
}

/* The reclaim word is not 0: with OWNER_FENCES, fence and read it again;
 * with RECLAIMING, wait until the other thread is done. STALE is left for
 * nebula_pool_magazine_settle(). */
void
nebula_pool_magazine_wait (PoolMagazine *magazine)
{
  for (;;)
    {
      if (__atomic_load_n (&magazine->reclaim, __ATOMIC_RELAXED) & OWNER_FENCES)
        full_fence ();
      if (!(__atomic_load_n (&magazine->reclaim, __ATOMIC_ACQUIRE) & RECLAIMING))
        return;

      __atomic_store_n (&magazine->busy, 0, __ATOMIC_RELEASE);
      while (__atomic_load_n (&magazine->reclaim, __ATOMIC_ACQUIRE) & RECLAIMING)
        g_thread_yield ();
      __atomic_store_n (&magazine->busy, 1, __ATOMIC_RELAXED);
      __atomic_signal_fence (__ATOMIC_SEQ_CST);
    }
}

/* Gives every block of @magazine back to the shared free list, unless a
 * reset voided them. By its thread, or under the magazines lock at its
 * exit; with the pool alive. */
static void
magazine_return_blocks (NebulaPoolAllocator *self,
                        PoolMagazine        *magazine)
{
  if (magazine->resets == __atomic_load_n (&self->magazine_resets, __ATOMIC_ACQUIRE))
    {
      for (guint i = 0; i < magazine->n; i++)
        nebula_pool_give_shared (self, &magazine->entries[i]);
    }
  magazine->n = 0;
}

/* At thread exit: every magazine's blocks go back, its counts join the
 * pool's shared counter. */
static void
thread_magazines_free (gpointer data)
{
  GPtrArray *magazines = data;

  lock_magazines ();
  for (guint i = 0; i < magazines->len; i++)
    {
      PoolMagazine *magazine = g_ptr_array_index (magazines, i);
      NebulaPoolAllocator *self = __atomic_load_n (&magazine->pool, __ATOMIC_RELAXED);

      if (self == NULL)
        continue;

      magazine_return_blocks (self, magazine);
      __atomic_fetch_add (&self->shared.n_in_use, magazine->taken - magazine->given,
                          __ATOMIC_RELAXED);
      g_ptr_array_remove_fast (self->magazines, magazine);
    }
  unlock_magazines ();

  if (nebula_pool_recent_magazines != no_slots)
    g_free (nebula_pool_recent_magazines);
  nebula_pool_recent_magazines = no_slots;
  g_ptr_array_free (magazines, TRUE);
}

PoolMagazine *
nebula_pool_magazine_lookup (NebulaPoolAllocator *self)
{
  GPtrArray *magazines = g_private_get (&thread_magazines);
  PoolMagazine *magazine, *found = NULL;

  if (magazines == NULL)
    {
      magazines = g_ptr_array_new_with_free_func (g_free);
      g_private_set (&thread_magazines, magazines);
    }
  if (nebula_pool_recent_magazines == no_slots)
    {
      nebula_pool_recent_magazines = g_new (PoolMagazine *, RECENT_MAGAZINES);
      recent_clear ();
    }

  for (guint i = magazines->len; i-- > 0;)
    {
      NebulaPoolAllocator *pool;

      magazine = g_ptr_array_index (magazines, i);
      pool = __atomic_load_n (&magazine->pool, __ATOMIC_ACQUIRE);

      /* Orphaned when its pool was finalized: nobody else refers to it
       * once no recent slot does. */
      if (pool == NULL)
        {
          recent_clear ();
          g_ptr_array_remove_index_fast (magazines, i);
        }
      else if (pool == self)
        found = magazine;
    }
  if (found != NULL)
    {
      recent_keep (self, found);
      return found;
    }

  magazine = g_malloc0 (sizeof (PoolMagazine) + self->magazine_size * sizeof (PoolEntry));
  magazine->reclaim = owners_fence ? OWNER_FENCES : 0;
  nebula_stats_shard_cache_init (&magazine->shard);
  magazine->resets = __atomic_load_n (&self->magazine_resets, __ATOMIC_ACQUIRE);
  __atomic_store_n (&magazine->pool, self, __ATOMIC_RELAXED);

  lock_magazines ();
  g_ptr_array_add (self->magazines, magazine);
  unlock_magazines ();

  g_ptr_array_add (magazines, magazine);
  recent_keep (self, magazine);
  return magazine;
}

/* A reset or a flush request came since @magazine last looked (STALE):
 * its blocks are dropped or go back to the shared list. The bit is
 * cleared first, so that a request that comes meanwhile is seen on the
 * next call; its clearing reads the reset's count (stored before the
 * bit). */
static void
magazine_catch_up (NebulaPoolAllocator *self,
                   PoolMagazine        *magazine)
{
  __atomic_fetch_and (&magazine->reclaim, ~STALE, __ATOMIC_ACQ_REL);
  magazine_return_blocks (self, magazine);
  magazine->resets = __atomic_load_n (&self->magazine_resets, __ATOMIC_ACQUIRE);
}

/* magazine_try_enter() refused @magazine: waits out a reclaim, fences,
 * catches up with a reset or a flush request. Entered on return. */
void
nebula_pool_magazine_settle (NebulaPoolAllocator *self,
                             PoolMagazine        *magazine)
{
  nebula_pool_magazine_wait (magazine);
  if (G_UNLIKELY (__atomic_load_n (&magazine->reclaim, __ATOMIC_ACQUIRE) & STALE))
    magazine_catch_up (self, magazine);
}

/* Sets STALE in the reclaim word of each of @self's magazines: their
 * threads give their blocks back on their next call. Under the magazines
 * lock, as reclaims; read-modify-writes, as the owners clear it. */
static void
magazines_mark_stale (NebulaPoolAllocator *self)
{
  for (guint i = 0; i < self->magazines->len; i++)
    {
      PoolMagazine *magazine = g_ptr_array_index (self->magazines, i);

      __atomic_fetch_or (&magazine->reclaim, STALE, __ATOMIC_RELEASE);
    }
}

/* Up to @max blocks from the depot, under its lock. */
static guint
depot_take (NebulaPoolAllocator *self,
            PoolEntry           *entries,
            guint                max)
{
  guint n;

  /* An empty depot is not worth its lock. */
  if (__atomic_load_n (&self->depot_len, __ATOMIC_RELAXED) == 0)
    return 0;

  lock_depot (self);
  n = (guint) MIN (self->depot_len, max);
  __atomic_store_n (&self->depot_len, self->depot_len - n, __ATOMIC_RELAXED);
  memcpy (entries, self->depot + self->depot_len, n * sizeof (PoolEntry));
  unlock_depot (self);
  return n;
}

/* Every block the depot and the threads' magazines cache goes back to the
 * shared list: the number of blocks given back. Each magazine's thread
 * waits (magazine_enter()) meanwhile; one membarrier() covers them all. */
static gsize
magazines_reclaim (NebulaPoolAllocator *self)
{
  guint resets = __atomic_load_n (&self->magazine_resets, __ATOMIC_ACQUIRE);
  gsize n = 0;

  lock_magazines ();
  for (guint i = 0; i < self->magazines->len; i++)
    {
      PoolMagazine *magazine = g_ptr_array_index (self->magazines, i);

      __atomic_fetch_or (&magazine->reclaim, RECLAIMING, __ATOMIC_SEQ_CST);
    }
  magazines_fence_all ();
  for (guint i = 0; i < self->magazines->len; i++)
    {
      PoolMagazine *magazine = g_ptr_array_index (self->magazines, i);

      while (__atomic_load_n (&magazine->busy, __ATOMIC_ACQUIRE))
        g_thread_yield ();
      if (magazine->resets == resets)
        n += magazine->n;
      magazine_return_blocks (self, magazine);
      __atomic_fetch_and (&magazine->reclaim, ~RECLAIMING, __ATOMIC_RELEASE);
    }
  /* Magazines that kept blocks another thread needed: from now on they
   * keep half as many, down to none (every block shared exactly), until
   * quiet refills raise the limit again. */
  if (n > 0)
    nebula_pool_magazine_limit_lower (self);
  unlock_magazines ();

  lock_depot (self);
  for (gsize i = 0; i < self->depot_len; i++)
    nebula_pool_give_shared (self, &self->depot[i]);
  n += self->depot_len;
  __atomic_store_n (&self->depot_len, 0, __ATOMIC_RELAXED);
  unlock_depot (self);
  return n;
}

/* Up to @max blocks for an empty magazine, outside it: the depot's, else
 * the shared list's or the fresh tail's, growing the pool if need be, and
 * reclaiming cached blocks before any error (0, @error set).
 *
 * A block may be on its way while nothing caches it: in another thread's
 * batch between the shared list and its magazine, or given back to the
 * shared list while the reclaim waited for its thread. So the caller
 * counts itself in magazine_gatherers from before it looks until its batch
 * is in its magazine (nebula_pool_magazine_allocate_slow()), but not while
 * it reclaims; a reclaim that found nothing is followed by another look,
 * and the error is reported only once a look after an empty reclaim found
 * nothing while no other thread held a batch. (A thread that holds one
 * puts it in its magazine within a few instructions; the wait is
 * bounded all the same.)
 *
 * A budget's handlers run on the gathering thread, while it is counted
 * (growth, in nebula_pool_take_shared()); one that allocates from the same
 * pool gathers again, nested. So each thread keeps its gathers on a list
 * (their frames, on its stack), and a gather compares the count with the
 * calling thread's own other gathers of the pool, not with 0. */
#define GATHER_WAITS 64

typedef struct GatherFrame GatherFrame;
struct GatherFrame
{
  NebulaPoolAllocator *pool;
  GatherFrame         *outer;
};

static GPrivate gather_frames;

static void
gather_frame_push (GatherFrame         *frame,
                   NebulaPoolAllocator *self)
{
  frame->pool = self;
  frame->outer = g_private_get (&gather_frames);
  g_private_set (&gather_frames, frame);
}

static void
gather_frame_pop (GatherFrame *frame)
{
  g_private_set (&gather_frames, frame->outer);
}

/* The gathers of @self the calling thread has under way outside its
 * innermost one (they are counted: budget handlers run during growth). */
static guint
gather_frames_outer (NebulaPoolAllocator *self)
{
  GatherFrame *frame = g_private_get (&gather_frames);
  guint n = 0;

  for (frame = frame != NULL ? frame->outer : NULL; frame != NULL; frame = frame->outer)
    n += frame->pool == self;
  return n;
}

static guint
magazine_gather (NebulaPoolAllocator  *self,
                 gsize                 size,
                 PoolEntry            *entries,
                 guint                 max,
                 GError              **error)
{
  guint n = depot_take (self, entries, max);
  gboolean reclaimed = FALSE;
  gboolean settled = FALSE;
  guint waits = 0;

  while (n == 0)
    {
      g_autoptr(GError) local_error = NULL;

      /* Whatever refused the block (EXHAUSTED, or a growth that the
       * budget or the system refused), blocks cached by other threads
       * are taken back before the caller hears it. */
      n = nebula_pool_take_shared (self, size, entries, max, &local_error);
      if (n > 0)
        break;
      if (settled)
        {
          __atomic_fetch_sub (&self->magazine_gatherers, 1, __ATOMIC_RELEASE);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return 0;
        }

      __atomic_fetch_sub (&self->magazine_gatherers, 1, __ATOMIC_RELEASE);
      if (magazines_reclaim (self) == 0)
        {
          settled = __atomic_load_n (&self->magazine_gatherers, __ATOMIC_ACQUIRE) ==
                    gather_frames_outer (self) || waits++ >= GATHER_WAITS;
          if (!settled)
            g_thread_yield ();
        }
      reclaimed = TRUE;
      __atomic_fetch_add (&self->magazine_gatherers, 1, __ATOMIC_ACQUIRE);
      n = depot_take (self, entries, max);
    }
  if (!reclaimed)
    nebula_pool_magazine_limit_recover (self);
  return n;
}

/* Trips. A magazine that goes to the depot the same way twice in a row
 * moves a whole magazine (its limit) instead of half: a refill after a
 * refill takes up to the limit from the depot, a flush after a flush
 * keeps nothing. A magazine whose thread both allocates and frees keeps
 * the half batches (a flush after a refill keeps half, so that freeing
 * and allocating around the limit does not go to the depot on every
 * call); one whose blocks are freed by another thread (producer/consumer)
 * makes half as many trips, each one lock. Refills beyond the depot's
 * (magazine_gather()) keep half a magazine: the fresh blocks' states are
 * laid out for that batch (nebula_pool_magazine_state_shift()). */
#define TRIP_REFILL 1u
#define TRIP_FLUSH  2u

/* Records a trip of @magazine in direction @trip: TRUE if its last trip
 * went the same way (this one moves a whole magazine). */
static gboolean
magazine_trip_again (PoolMagazine *magazine,
                     guint         trip)
{
  gboolean again = magazine->trip == trip;

  magazine->trip = trip;
  return again;
}

/* The common refill of an empty magazine (entered): a batch of the
 * depot's blocks copied straight into it under the depot's lock. The
 * blocks are in the depot or in the magazine at every moment (a reclaim
 * waits for the magazine to be left, and the depot's lock waits for
 * nothing), so the thread does not count itself among the gatherers,
 * copies them once, and makes two atomic operations per batch, the
 * lock's. FALSE (nothing taken) when the depot is empty. */
static gboolean
magazine_refill_from_depot (NebulaPoolAllocator *self,
                            PoolMagazine        *magazine)
{
  guint limit = magazine_limit (self);
  guint batch = magazine_trip_again (magazine, TRIP_REFILL) ? limit : limit / 2;
  guint max = MIN (MAX (batch, 1), self->magazine_size - magazine->n);
  guint n = depot_take (self, magazine->entries + magazine->n, max);

  if (n == 0)
    return FALSE;
  magazine->n += n;
  nebula_pool_magazine_limit_recover (self);
  return TRUE;
}

/* The magazine (entered) is empty: the depot's blocks, else a batch
 * gathered with the magazine left (growth runs budget handlers; a
 * reclaim waits for other threads), then one block handed out. */
gpointer
nebula_pool_magazine_allocate_slow (NebulaPoolAllocator  *self,
                                    PoolMagazine         *magazine,
                                    gsize                 size,
                                    GError              **error)
{
  PoolEntry batch[128];
  GatherFrame frame;
  gpointer block = NULL;

  if (magazine_refill_from_depot (self, magazine) &&
      (block = magazine_pop (self, magazine, size)) != NULL)
    return block;

  gather_frame_push (&frame, self);
  while (block == NULL)
    {
      guint n, room;

      magazine_leave (magazine);
      __atomic_fetch_add (&self->magazine_gatherers, 1, __ATOMIC_ACQUIRE);
      n = magazine_gather (self, size, batch,
                           MAX (__atomic_load_n (&self->magazine_limit, __ATOMIC_RELAXED) / 2, 1),
                           error);
      magazine_enter (magazine);
      if (n == 0)
        break;

      /* A handler of the budget may have filled the magazine meanwhile. */
      room = MIN (n, self->magazine_size - magazine->n);
      memcpy (magazine->entries + magazine->n, batch, room * sizeof (PoolEntry));
      magazine->n += room;
      for (guint i = room; i < n; i++)
        nebula_pool_give_shared (self, &batch[i]);
      __atomic_fetch_sub (&self->magazine_gatherers, 1, __ATOMIC_RELEASE);

      block = magazine_pop (self, magazine, size);
    }
  gather_frame_pop (&frame);
  return block;
}

/* A full magazine (@limit blocks or more) keeps half of @limit (none
 * after a flush: see "Trips") and gives the others to the depot; below
 * 2, all of them to the shared list. */
void
nebula_pool_magazine_overflow (NebulaPoolAllocator *self,
                               PoolMagazine        *magazine,
                               guint                limit)
{
  guint keep = !magazine_trip_again (magazine, TRIP_FLUSH) && limit >= 2 ? limit / 2 : 0;
  guint batch = magazine->n - keep;

  magazine->n = keep;
  if (limit < 2)
    {
      for (guint i = 0; i < batch; i++)
        nebula_pool_give_shared (self, &magazine->entries[i]);
      return;
    }

  lock_depot (self);
  if (self->depot_len + batch > self->depot_cap)
    {
      self->depot_cap = MAX (2 * self->depot_cap, self->depot_len + batch);
      self->depot = g_renew (PoolEntry, self->depot, self->depot_cap);
    }
  memcpy (self->depot + self->depot_len, magazine->entries + keep, batch * sizeof (PoolEntry));
  __atomic_store_n (&self->depot_len, self->depot_len + batch, __ATOMIC_RELAXED);
  unlock_depot (self);
}

/* At initialization: a thread-safe pool large enough gets magazines. */
void
nebula_pool_magazines_init (NebulaPoolAllocator *self)
{
  static GOnce fence_once = G_ONCE_INIT;
  gsize size = self->magazine_size_property >= 0 ? (gsize) self->magazine_size_property
                                                 : nebula_pool_magazine_auto_size (self);

  if (self->config.thread_safe)
    g_once (&fence_once, magazines_init_fence, NULL);

  /* Refills and flushes move half a magazine: at least one block. */
  self->magazine_size = self->config.thread_safe && size >= 2 ? (guint) size & ~1u : 0;
  self->magazine_size_property = (gint) self->magazine_size;
  nebula_pool_magazine_limit_restore (self);
  self->state_shift = nebula_pool_magazine_state_shift (self);
  self->magazine_slot = (guint) g_atomic_int_add (&next_magazine_slot, 1) % RECENT_MAGAZINES;
  self->magazines = g_ptr_array_new ();
}

/* The blocks handed out: the shared counter (blocks of exited threads,
 * resets) and each magazine's own. */
gsize
nebula_pool_magazines_in_use (NebulaPoolAllocator *self)
{
  gsize n = __atomic_load_n (&self->shared.n_in_use, __ATOMIC_ACQUIRE);

  lock_magazines ();
  for (guint i = 0; i < self->magazines->len; i++)
    {
      PoolMagazine *magazine = g_ptr_array_index (self->magazines, i);

      n += __atomic_load_n (&magazine->taken, __ATOMIC_RELAXED) -
           __atomic_load_n (&magazine->given, __ATOMIC_RELAXED);
    }
  unlock_magazines ();

  /* Counts read while other threads work may be a block apart. */
  return (gssize) n < 0 ? 0 : n;
}

/* The pool was reset (no other thread uses it meanwhile): cached blocks
 * are void, and nothing is in use. */
void
nebula_pool_magazines_reset (NebulaPoolAllocator *self)
{
  gsize in_magazines = 0;

  if (!self->config.thread_safe)
    return;

  lock_depot (self);
  __atomic_store_n (&self->depot_len, 0, __ATOMIC_RELAXED);
  unlock_depot (self);

  lock_magazines ();
  for (guint i = 0; i < self->magazines->len; i++)
    {
      PoolMagazine *magazine = g_ptr_array_index (self->magazines, i);

      in_magazines += __atomic_load_n (&magazine->taken, __ATOMIC_RELAXED) -
                      __atomic_load_n (&magazine->given, __ATOMIC_RELAXED);
    }
  /* The shared counter cancels what the magazines count. */
  __atomic_store_n (&self->shared.n_in_use, (gsize) 0 - in_magazines, __ATOMIC_RELAXED);
  nebula_pool_magazine_limit_restore (self);
  __atomic_fetch_add (&self->magazine_resets, 1, __ATOMIC_RELEASE);
  magazines_mark_stale (self);
  unlock_magazines ();
}

/* Before a trim: every cached block that can be reached now goes back to
 * the shared list (the depot's, the calling thread's magazine), and the
 * other threads are asked to give theirs back on their next call. The
 * in-use counts do not change: the blocks were free. */
void
nebula_pool_magazines_flush (NebulaPoolAllocator *self)
{
  GPtrArray *magazines;

  if (self->magazine_size == 0)
    return;

  /* The request first: a block a thread caches after it will be given
   * back at the thread's next call. */
  lock_magazines ();
  magazines_mark_stale (self);
  unlock_magazines ();

  magazines = g_private_get (&thread_magazines);
  for (guint i = 0; magazines != NULL && i < magazines->len; i++)
    {
      PoolMagazine *magazine = g_ptr_array_index (magazines, i);

      if (__atomic_load_n (&magazine->pool, __ATOMIC_ACQUIRE) == self)
        {
          magazine_enter (magazine);
          magazine_catch_up (self, magazine);
          magazine_leave (magazine);
        }
    }

  lock_depot (self);
  for (gsize i = 0; i < self->depot_len; i++)
    nebula_pool_give_shared (self, &self->depot[i]);
  __atomic_store_n (&self->depot_len, 0, __ATOMIC_RELAXED);
  unlock_depot (self);
}

/* The pool goes: its magazines are orphaned, their threads free them. */
void
nebula_pool_magazines_finalize (NebulaPoolAllocator *self)
{
  if (self->magazines == NULL)
    return;

  lock_magazines ();
  for (guint i = 0; i < self->magazines->len; i++)
    {
      PoolMagazine *magazine = g_ptr_array_index (self->magazines, i);

      __atomic_store_n (&magazine->pool, NULL, __ATOMIC_RELEASE);
    }
  g_clear_pointer (&self->magazines, g_ptr_array_unref);
  unlock_magazines ();

  g_clear_pointer (&self->depot, g_free);
}

/* The free blocks in @slab that the depot and the calling thread's
 * magazine hold, for the report (other threads' magazines are theirs to
 * read). */
gsize
nebula_pool_magazines_cached_blocks (NebulaPoolAllocator *self,
                                     Slab                *slab)
{
  PoolMagazine *magazine = magazine_find (self);
  gsize n = 0;

  lock_depot (self);
  for (gsize i = 0; i < self->depot_len; i++)
    n += self->depot[i].slab == slab;
  unlock_depot (self);

  magazine_enter (magazine);
  if (magazine->resets == __atomic_load_n (&self->magazine_resets, __ATOMIC_ACQUIRE))
    for (guint i = 0; i < magazine->n; i++)
      n += magazine->entries[i].slab == slab;
  magazine_leave (magazine);
  return n;
}
