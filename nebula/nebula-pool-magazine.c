/* nebula-pool-magazine.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-pool-concurrent-private.h"

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
 * blocks under a mutex: one lock per batch) first, then the shared free
 * list and the fresh tail (nebula-pool-concurrent.c), then growth. A block
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
 * A reset changes the pool's generation; a magazine filled in an earlier
 * generation is emptied by its thread on its next call (the reset made
 * every block free, and its blocks are back in the fresh tail). A reset,
 * like a finalize, needs every other thread to be done with the pool.
 *
 * A trim (nebula-pool-trim.c) can only give back a slab none of whose
 * blocks is cached, so it flushes first (nebula_pool_magazines_flush()):
 * the depot's blocks and the calling thread's magazine go back to the
 * shared list, and the generation changes as for a reset, but not the
 * count of resets: a thread that finds its magazine's generation old
 * gives its blocks back to the shared list on its next call on the pool
 * (a reset came: it drops them). The fast paths keep their one check. A
 * thread that never calls the pool again keeps its blocks until it exits.
 *
 * Statistics: each magazine counts the blocks its thread took and gave
 * back (single-writer atomic stores); the pool's in-use count is the shared
 * counter plus the sum of the magazines' differences. Budgets are charged
 * per slab, so the blocks cached per thread are charged once.
 *
 * A thread-safe pool without magazines (magazine_size 0) still gives each
 * thread a record, a magazine that caches nothing: its direct path
 * (shared_direct_alloc_inline() below) takes and gives blocks on the
 * shared list and counts them there, so that no shared counter is
 * written. */


typedef struct
{
  NebulaPoolAllocator *pool;        /* atomic; NULL once the pool is finalized */
  guint                busy;        /* atomic; its thread is using @n and @entries */
  guint                reclaim;     /* atomic; RECLAIMING, OWNER_FENCES */
  guint                generation;  /* the pool's generation it last saw */
  guint                resets;      /* the pool's resets its blocks belong to */
  gsize                taken;       /* blocks this thread took; atomic, one writer */
  gsize                given;       /* blocks this thread gave back; atomic, one writer */
  NebulaStatsShardCache shard;      /* its thread's statistics shard of the pool */
  guint                n;           /* blocks in @entries */
  PoolEntry            entries[];   /* the pool's magazine_size */
} PoolMagazine;

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

/* The magazines the thread used last, one slot per pool (pools take the
 * slots in turn as they are made): a pool used in a loop finds its own
 * with one comparison, and so do the pools of a NebulaMultiPoolAllocator's
 * size classes used in turn (two that share a slot take turns through
 * magazine_lookup()). A slot may hold another pool's magazine, never a
 * freed one: magazine_lookup() clears them all before it frees an
 * orphaned magazine. The slots are a heap array made by the thread's first
 * lookup and freed at its exit: the initial-exec TLS is one pointer (a
 * library loaded with dlopen(), as from Python or gjs, takes it from
 * glibc's small static TLS surplus), and there are enough slots for the
 * classes of several multi-pools. */
#define RECENT_MAGAZINES 256
static __thread PoolMagazine **recent_magazines __attribute__ ((tls_model ("initial-exec")));

static gint next_magazine_slot;

static inline PoolMagazine *
recent_get (NebulaPoolAllocator *self)
{
  PoolMagazine **slots = recent_magazines;

  return G_LIKELY (slots != NULL) ? slots[self->magazine_slot] : NULL;
}

/* After magazine_lookup() made the slots. */
static inline void
recent_set (NebulaPoolAllocator *self,
            PoolMagazine        *magazine)
{
  recent_magazines[self->magazine_slot] = magazine;
}

static void
recent_clear (void)
{
  if (recent_magazines != NULL)
    memset (recent_magazines, 0, RECENT_MAGAZINES * sizeof (PoolMagazine *));
}

static inline void
count_one (gsize *counter)
{
  __atomic_store_n (counter, __atomic_load_n (counter, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
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
 * the fast path sends them to magazine_wait(). */
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

static gpointer
magazines_init_fence (gpointer data)
{
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
 * with RECLAIMING, wait until the other thread is done. */
static G_NO_INLINE void
magazine_wait (PoolMagazine *magazine)
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

/* Between magazine_enter() and magazine_leave() the owner alone uses the
 * magazine's blocks, and waits for no lock a reclaiming thread holds. */
static inline void
magazine_enter (PoolMagazine *magazine)
{
  __atomic_store_n (&magazine->busy, 1, __ATOMIC_RELAXED);
  __atomic_signal_fence (__ATOMIC_SEQ_CST);
  if (G_UNLIKELY (__atomic_load_n (&magazine->reclaim, __ATOMIC_ACQUIRE) != 0))
    magazine_wait (magazine);
}

static inline void
magazine_leave (PoolMagazine *magazine)
{
  __atomic_store_n (&magazine->busy, 0, __ATOMIC_RELEASE);
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

  g_clear_pointer (&recent_magazines, g_free);
  g_ptr_array_free (magazines, TRUE);
}

static G_NO_INLINE PoolMagazine *
magazine_lookup (NebulaPoolAllocator *self)
{
  GPtrArray *magazines = g_private_get (&thread_magazines);
  PoolMagazine *magazine, *found = NULL;

  if (magazines == NULL)
    {
      magazines = g_ptr_array_new_with_free_func (g_free);
      g_private_set (&thread_magazines, magazines);
    }
  if (recent_magazines == NULL)
    recent_magazines = g_new0 (PoolMagazine *, RECENT_MAGAZINES);

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
      recent_set (self, found);
      return found;
    }

  magazine = g_malloc0 (sizeof (PoolMagazine) + self->magazine_size * sizeof (PoolEntry));
  magazine->reclaim = owners_fence ? OWNER_FENCES : 0;
  nebula_stats_shard_cache_init (&magazine->shard);
  magazine->generation = __atomic_load_n (&self->magazine_generation, __ATOMIC_ACQUIRE);
  magazine->resets = __atomic_load_n (&self->magazine_resets, __ATOMIC_ACQUIRE);
  __atomic_store_n (&magazine->pool, self, __ATOMIC_RELAXED);

  lock_magazines ();
  g_ptr_array_add (self->magazines, magazine);
  unlock_magazines ();

  g_ptr_array_add (magazines, magazine);
  recent_set (self, magazine);
  return magazine;
}

/* A reset or a flush request came since @magazine last looked: its blocks
 * are dropped or go back to the shared list. */
static G_NO_INLINE void
magazine_catch_up (NebulaPoolAllocator *self,
                   PoolMagazine        *magazine,
                   guint                generation)
{
  magazine_return_blocks (self, magazine);
  magazine->generation = generation;
  magazine->resets = __atomic_load_n (&self->magazine_resets, __ATOMIC_ACQUIRE);
}

/* The calling thread's record for @self. */
static inline PoolMagazine *
magazine_find (NebulaPoolAllocator *self)
{
  PoolMagazine *magazine = recent_get (self);

  if (G_UNLIKELY (magazine == NULL || __atomic_load_n (&magazine->pool, __ATOMIC_RELAXED) != self))
    magazine = magazine_lookup (self);
  return magazine;
}

/* The calling thread's magazine for @self, entered (magazine_leave() when
 * done), emptied if a reset or a flush request came since it was filled. */
static inline PoolMagazine *
magazine_open (NebulaPoolAllocator *self)
{
  PoolMagazine *magazine = magazine_find (self);
  guint generation;

  magazine_enter (magazine);
  generation = __atomic_load_n (&self->magazine_generation, __ATOMIC_ACQUIRE);
  if (G_UNLIKELY (magazine->generation != generation))
    magazine_catch_up (self, magazine, generation);

  return magazine;
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

      __atomic_store_n (&magazine->reclaim, magazine->reclaim | RECLAIMING, __ATOMIC_SEQ_CST);
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
      __atomic_store_n (&magazine->reclaim, magazine->reclaim & ~RECLAIMING, __ATOMIC_RELEASE);
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
 * reclaiming cached blocks before any error (0, @error set). */
static guint
magazine_gather (NebulaPoolAllocator  *self,
                 gsize                 size,
                 PoolEntry            *entries,
                 guint                 max,
                 GError              **error)
{
  guint n = depot_take (self, entries, max);
  gboolean reclaimed = FALSE;

  while (n == 0)
    {
      g_autoptr(GError) local_error = NULL;

      /* Whatever refused the block (EXHAUSTED, or a growth that the
       * budget or the system refused), blocks cached by other threads
       * are taken back before the caller hears it. */
      n = nebula_pool_take_shared (self, size, entries, max, &local_error);
      if (n == 0 && magazines_reclaim (self) == 0)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return 0;
        }
      reclaimed |= n == 0;
    }
  if (!reclaimed)
    nebula_pool_magazine_limit_recover (self);
  return n;
}

/* Hands out the magazine's newest block, skipping copies a racing double
 * free left: NULL once it is empty. */
static inline gpointer
magazine_pop (NebulaPoolAllocator *self,
              PoolMagazine        *magazine,
              gsize                size)
{
  while (magazine->n > 0)
    {
      gpointer block = nebula_pool_hand_out (self, &magazine->entries[--magazine->n], size);

      if (G_LIKELY (block != NULL))
        {
          count_one (&magazine->taken);
          return block;
        }
    }
  return NULL;
}

/* The magazine (entered) is empty: a batch gathered with the magazine
 * left (growth runs budget handlers; a reclaim waits for other threads),
 * then one block handed out. */
static G_NO_INLINE gpointer
magazine_allocate_slow (NebulaPoolAllocator  *self,
                        PoolMagazine         *magazine,
                        gsize                 size,
                        GError              **error)
{
  PoolEntry batch[128];
  gpointer block = NULL;

  while (block == NULL)
    {
      guint n, room;

      magazine_leave (magazine);
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

      block = magazine_pop (self, magazine, size);
    }
  return block;
}

/* A full magazine (@limit blocks or more) keeps half of @limit and gives
 * the others to the depot; below 2, all of them to the shared list. */
static G_NO_INLINE void
magazine_flush (NebulaPoolAllocator *self,
                PoolMagazine        *magazine,
                guint                limit)
{
  guint keep = limit >= 2 ? limit / 2 : 0;
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

/* The blocks a magazine may keep now. */
static inline guint
magazine_limit (NebulaPoolAllocator *self)
{
  return __atomic_load_n (&self->magazine_limit, __ATOMIC_RELAXED);
}

/* Caches a freed block (there is room). */
static inline void
magazine_push (PoolMagazine *magazine,
               gpointer      ptr,
               Slab         *slab)
{
  PoolEntry *entry = &magazine->entries[magazine->n++];

  entry->block = ptr;
  entry->slab = slab;
  count_one (&magazine->given);
}

gpointer
nebula_pool_magazine_allocate (NebulaPoolAllocator  *self,
                               gsize                 size,
                               GError              **error)
{
  PoolMagazine *magazine = magazine_open (self);
  gpointer block = magazine_pop (self, magazine, size);

  if (G_UNLIKELY (block == NULL))
    block = magazine_allocate_slow (self, magazine, size, error);
  magazine_leave (magazine);
  return block;
}

gboolean
nebula_pool_magazine_deallocate (NebulaPoolAllocator  *self,
                                 gpointer              ptr,
                                 gsize                 size,
                                 GError              **error)
{
  PoolMagazine *magazine;
  Slab *slab = nebula_pool_mark_freed (self, ptr, size, error);
  guint limit;

  if (slab == NULL)
    return FALSE;

  magazine = magazine_open (self);
  limit = magazine_limit (self);
  if (G_UNLIKELY (magazine->n >= limit))
    {
      magazine_flush (self, magazine, limit);
      /* Caching nothing: the block is shared at once. */
      if (limit < 2)
        {
          PoolEntry entry = { ptr, slab };

          count_one (&magazine->given);
          nebula_pool_give_shared (self, &entry);
          magazine_leave (magazine);
          return TRUE;
        }
    }

  magazine_push (magazine, ptr, slab);
  magazine_leave (magazine);
  return TRUE;
}

/* The wrappers' direct path (nebula-allocator-core-private.h): the calling
 * thread's magazine, with the statistics the exported path would count,
 * and without the lookups and checks of the full dispatch. An empty
 * magazine on allocation and a full one on a free decline before anything
 * happens: the vfunc refills or flushes (which may grow the pool, charge a
 * budget, fail) with an error to report. */
static inline gboolean
direct_layout_ok (NebulaPoolAllocator *self,
                  gsize                size,
                  gsize                alignment)
{
  return nebula_allocator_core_direct_layout_ok (size, alignment, self->block_size,
                                                 self->block_alignment);
}

/* nebula_pool_magazine_take() and _give(), inline in the direct paths,
 * on the magazine magazine_open() gave. */
static inline gpointer
magazine_take (NebulaPoolAllocator *self,
               PoolMagazine        *magazine,
               gsize                size)
{
  gpointer block = magazine_pop (self, magazine, size);

  magazine_leave (magazine);
  return block;
}

static inline NebulaDirectResult
magazine_give (NebulaPoolAllocator  *self,
               PoolMagazine         *magazine,
               gpointer              ptr,
               gsize                 size,
               GError              **error)
{
  Slab *slab = NULL;

  if (G_LIKELY (magazine->n < magazine_limit (self)))
    {
      slab = nebula_pool_mark_freed (self, ptr, size, error);
      if (slab != NULL)
        magazine_push (magazine, ptr, slab);
      magazine_leave (magazine);
      return slab != NULL ? NEBULA_DIRECT_DONE : NEBULA_DIRECT_FAILED;
    }

  magazine_leave (magazine);
  return NEBULA_DIRECT_DECLINED;
}

/* A request already checked against the pool's block, as a
 * NebulaMultiPoolAllocator's class gets it: the calling thread's newest
 * cached block, or NULL when its magazine is empty (the exported path
 * refills it, which may grow the pool and fail). No statistics: the
 * caller keeps them. */
gpointer
nebula_pool_magazine_take (NebulaPoolAllocator *self,
                           gsize                size)
{
  return magazine_take (self, magazine_open (self), size);
}

/* A free of a block of the pool's layout, not NULL: DECLINED when the
 * calling thread's magazine is full (the exported path flushes it),
 * FAILED with @error set for a bad pointer (nothing changed), DONE once
 * the block is cached. No statistics, as for nebula_pool_magazine_take(). */
NebulaDirectResult
nebula_pool_magazine_give (NebulaPoolAllocator  *self,
                           gpointer              ptr,
                           gsize                 size,
                           GError              **error)
{
  return magazine_give (self, magazine_open (self), ptr, size, error);
}

/* The bodies of the direct path (NEBULA_CORE_DIRECT_DEFINE()). */
G_ALWAYS_INLINE static inline gpointer
magazine_direct_alloc_inline (gpointer allocator,
                              gsize    size,
                              gsize    alignment)
{
  NebulaPoolAllocator *self = allocator;
  PoolMagazine *magazine;
  gpointer block;

  if (G_UNLIKELY (!direct_layout_ok (self, size, alignment)))
    return NULL;

  magazine = magazine_open (self);
  block = magazine_take (self, magazine, size);
  if (G_LIKELY (block != NULL))
    nebula_stats_shard_cache_record (&self->stats, &magazine->shard, size, 0);
  return block;
}

G_ALWAYS_INLINE static inline NebulaDirectResult
magazine_direct_dealloc_inline (gpointer   allocator,
                                gpointer   ptr,
                                gsize      size,
                                gsize      alignment,
                                GError   **error)
{
  NebulaPoolAllocator *self = allocator;
  PoolMagazine *magazine;
  NebulaDirectResult result;

  if (G_UNLIKELY (!direct_layout_ok (self, size, alignment) || ptr == NULL))
    return NEBULA_DIRECT_DECLINED;

  magazine = magazine_open (self);
  result = magazine_give (self, magazine, ptr, size, error);
  if (G_LIKELY (result == NEBULA_DIRECT_DONE))
    nebula_stats_shard_cache_record (&self->stats, &magazine->shard, 0, size);
  return result;
}

NEBULA_CORE_DIRECT_DEFINE (magazine, magazine_direct_alloc_inline, magazine_direct_dealloc_inline);

/* The direct path of a thread-safe pool without magazines: the shared
 * list's steps, without growth (the vfunc grows the pool or says that it
 * cannot). The thread's record (a magazine that caches nothing) counts
 * the blocks taken and given back, so that no shared counter is written. */
G_ALWAYS_INLINE static inline gpointer
shared_direct_alloc_inline (gpointer allocator,
                            gsize    size,
                            gsize    alignment)
{
  NebulaPoolAllocator *self = allocator;
  PoolMagazine *magazine;
  PoolEntry entry;
  gpointer block;

  if (G_UNLIKELY (!direct_layout_ok (self, size, alignment)))
    return NULL;

  magazine = magazine_find (self);
  do
    {
      if (!nebula_pool_take_one_shared (self, &entry))
        return NULL;
    }
  while ((block = nebula_pool_hand_out (self, &entry, size)) == NULL);

  count_one (&magazine->taken);
  nebula_stats_shard_cache_record (&self->stats, &magazine->shard, size, 0);
  return block;
}

G_ALWAYS_INLINE static inline NebulaDirectResult
shared_direct_dealloc_inline (gpointer   allocator,
                              gpointer   ptr,
                              gsize      size,
                              gsize      alignment,
                              GError   **error)
{
  NebulaPoolAllocator *self = allocator;
  PoolEntry entry = { ptr, NULL };
  PoolMagazine *magazine;

  if (G_UNLIKELY (!direct_layout_ok (self, size, alignment) || ptr == NULL))
    return NEBULA_DIRECT_DECLINED;

  entry.slab = nebula_pool_mark_freed (self, ptr, size, error);
  if (entry.slab == NULL)
    return NEBULA_DIRECT_FAILED;

  /* Before the push, so that the count never exceeds the blocks out. */
  magazine = magazine_find (self);
  count_one (&magazine->given);
  nebula_pool_give_shared (self, &entry);
  nebula_stats_shard_cache_record (&self->stats, &magazine->shard, 0, size);
  return NEBULA_DIRECT_DONE;
}

NEBULA_CORE_DIRECT_DEFINE (shared, shared_direct_alloc_inline, shared_direct_dealloc_inline);

/* At the end of a successful initialization: the pool's direct path, its
 * magazines' or, without, the shared list's, or a single-threaded pool's
 * (nebula-pool-direct.c). */
void
nebula_pool_magazines_publish (NebulaPoolAllocator *self)
{
  if (self->magazine_size != 0)
    nebula_allocator_core_set_direct (self, &magazine_direct);
  else if (self->config.thread_safe)
    nebula_allocator_core_set_direct (self, &shared_direct);
  else
    nebula_allocator_core_set_direct (self, nebula_pool_single_direct ());
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
  __atomic_fetch_add (&self->magazine_generation, 1, __ATOMIC_RELEASE);
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
  __atomic_fetch_add (&self->magazine_generation, 1, __ATOMIC_RELEASE);

  magazines = g_private_get (&thread_magazines);
  for (guint i = 0; magazines != NULL && i < magazines->len; i++)
    {
      PoolMagazine *magazine = g_ptr_array_index (magazines, i);

      if (__atomic_load_n (&magazine->pool, __ATOMIC_ACQUIRE) == self)
        {
          magazine_enter (magazine);
          magazine_catch_up (self, magazine,
                             __atomic_load_n (&self->magazine_generation, __ATOMIC_ACQUIRE));
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
