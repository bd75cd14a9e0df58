/* nebula-pool-magazine-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-pool-concurrent-private.h"

G_BEGIN_DECLS

/* A thread's magazine for one pool, shared by the two files of the
 * magazines: nebula-pool-magazine.c (their lifetime, the depot, refills,
 * flushes, reclaims; the design is explained there) and
 * nebula-pool-magazine-direct.c (the requests). The steps every request
 * takes stay inline here. */

typedef struct
{
  NebulaPoolAllocator *pool;        /* atomic; NULL once the pool is finalized */
  guint                busy;        /* atomic; its thread is using @n and @entries */
  guint                reclaim;     /* atomic; RECLAIMING, OWNER_FENCES, STALE */
  guint                resets;      /* the pool's resets its blocks belong to */
  gsize                taken;       /* blocks this thread took; atomic, one writer */
  gsize                given;       /* blocks this thread gave back; atomic, one writer */
  NebulaStatsShardCache shard;      /* its thread's statistics shard of the pool; the
                                     * thread's current one while the magazine is in
                                     * the pool's slot (recent_keep()) */
  guint                n;           /* blocks in @entries */
  guint                trip;        /* its last trip to the depot: TRIP_REFILL,
                                     * TRIP_FLUSH or 0; its thread's alone */
  PoolEntry            entries[];   /* the pool's magazine_size */
} PoolMagazine;

/* The magazines the thread used last, one slot per pool (pools take the
 * slots in turn as they are made): a pool used in a loop finds its own
 * with one comparison, and so do the pools of a NebulaMultiPoolAllocator's
 * size classes used in turn (two that share a slot take turns through
 * nebula_pool_magazine_lookup()). A slot may hold another pool's
 * magazine, never a freed one: nebula_pool_magazine_lookup() clears them
 * all before it frees an orphaned magazine; an empty slot holds a
 * magazine of no pool, never NULL. The slots are a heap array made by the
 * thread's first lookup and freed at its exit (before, a static array of
 * empty slots): the initial-exec TLS is one pointer (a library loaded
 * with dlopen(), as from Python or gjs, takes it from glibc's small
 * static TLS surplus), and there are enough slots for the classes of
 * several multi-pools. */
#define RECENT_MAGAZINES 256
extern __thread PoolMagazine **nebula_pool_recent_magazines __attribute__ ((tls_model ("initial-exec")));

/* nebula-pool-magazine.c */
PoolMagazine *nebula_pool_magazine_lookup        (NebulaPoolAllocator  *self);
void          nebula_pool_magazine_wait          (PoolMagazine         *magazine);
void          nebula_pool_magazine_settle        (NebulaPoolAllocator  *self,
                                                  PoolMagazine         *magazine);
gpointer      nebula_pool_magazine_allocate_slow (NebulaPoolAllocator  *self,
                                                  PoolMagazine         *magazine,
                                                  gsize                 size,
                                                  GError              **error);
void          nebula_pool_magazine_overflow      (NebulaPoolAllocator  *self,
                                                  PoolMagazine         *magazine,
                                                  guint                 limit);

/* nebula-pool-magazine-direct.c */
NebulaDirectResult nebula_pool_magazine_give     (NebulaPoolAllocator  *self,
                                                  gpointer              ptr,
                                                  gsize                 size,
                                                  PoolMagazine        **entered,
                                                  GError              **error);

/* The magazine in @self's slot: the thread's for @self, another pool's,
 * or an empty slot's (of no pool). */
static inline PoolMagazine *
recent_get (NebulaPoolAllocator *self)
{
  return nebula_pool_recent_magazines[self->magazine_slot];
}

static inline void
count_one (gsize *counter)
{
  __atomic_store_n (counter, __atomic_load_n (counter, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* Between magazine_enter() and magazine_leave() the owner alone uses the
 * magazine's blocks, and waits for no lock a reclaiming thread holds.
 * magazine_try_enter() is the same without the wait: FALSE when a reclaim
 * is under way or the owner fences itself (then magazine_leave() before
 * anything else). */
static inline gboolean
magazine_try_enter (PoolMagazine *magazine)
{
  __atomic_store_n (&magazine->busy, 1, __ATOMIC_RELAXED);
  __atomic_signal_fence (__ATOMIC_SEQ_CST);
  return G_LIKELY (__atomic_load_n (&magazine->reclaim, __ATOMIC_ACQUIRE) == 0);
}

static inline void
magazine_enter (PoolMagazine *magazine)
{
  if (G_UNLIKELY (!magazine_try_enter (magazine)))
    nebula_pool_magazine_wait (magazine);
}

static inline void
magazine_leave (PoolMagazine *magazine)
{
  __atomic_store_n (&magazine->busy, 0, __ATOMIC_RELEASE);
}

/* The calling thread's record for @self. */
static inline PoolMagazine *
magazine_find (NebulaPoolAllocator *self)
{
  PoolMagazine *magazine = recent_get (self);

  if (G_UNLIKELY (__atomic_load_n (&magazine->pool, __ATOMIC_RELAXED) != self))
    magazine = nebula_pool_magazine_lookup (self);
  return magazine;
}

/* The calling thread's magazine for @self, entered (magazine_leave() when
 * done), emptied if a reset or a flush request came since it was filled
 * (they set STALE in its reclaim word, so the one test of
 * magazine_try_enter() catches them too). */
static inline PoolMagazine *
magazine_open (NebulaPoolAllocator *self)
{
  PoolMagazine *magazine = magazine_find (self);

  if (G_UNLIKELY (!magazine_try_enter (magazine)))
    nebula_pool_magazine_settle (self, magazine);

  return magazine;
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

/* The lean steps: a request served from the calling thread's magazine
 * and nothing else, or passed on unchanged (the caller's full path looks
 * the magazine up, waits, catches up, refills, flushes and explains).
 * The pool's own lean entry points (nebula-pool-magazine-direct.c) and a
 * NebulaMultiPoolAllocator's (its class pools', nebula-multi-pool-
 * direct.c) are made of them, so that neither makes a call on its common
 * path. */

/* The calling thread's magazine for @self, entered, or NULL (nothing
 * done): it is not in the pool's slot, or magazine_try_enter() refused,
 * or a reset or flush came since it was filled. */
G_ALWAYS_INLINE static inline PoolMagazine *
magazine_lean_open (NebulaPoolAllocator *self)
{
  PoolMagazine *magazine = recent_get (self);

  /* A slot never holds NULL: said, so that the callers' test of the
   * result folds away. */
  if (magazine == NULL)
    __builtin_unreachable ();
  if (G_UNLIKELY (__atomic_load_n (&magazine->pool, __ATOMIC_RELAXED) != self))
    return NULL;
  if (G_UNLIKELY (!magazine_try_enter (magazine)))
    {
      magazine_leave (magazine);
      return NULL;
    }
  return magazine;
}

/* Takes the newest block of @magazine (entered by magazine_lean_open())
 * into *@block: FALSE (nothing taken) when it is empty or, with @checked
 * (a constant), its newest entry is a copy a racing double free left;
 * left either way. */
G_ALWAYS_INLINE static inline gboolean
magazine_lean_take (NebulaPoolAllocator *self,
                    PoolMagazine        *magazine,
                    gpointer            *block,
                    gboolean             checked)
{
  guint n = magazine->n;

  if (G_LIKELY (n > 0 && (!checked || nebula_pool_claim (self, &magazine->entries[n - 1]))))
    {
      *block = magazine->entries[n - 1].block;
      magazine->n = n - 1;
      count_one (&magazine->taken);
      magazine_leave (magazine);
      return TRUE;
    }
  magazine_leave (magazine);
  return FALSE;
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

/* A free of @ptr (not NULL, of the pool's layout) into the calling
 * thread's magazine: the magazine once the block is cached, still entered
 * (its shard is the thread's): the caller counts the free, then
 * magazine_leave(), so that the free is counted before any other thread
 * can take the block (a reclaim waits for @busy; nothing else sees the
 * magazine's blocks). Or NULL with nothing changed (the magazine left),
 * *@refused set to TRUE when, with @checked (a constant), the block was
 * already free (the caller reports it: a second mark could succeed once
 * the block is handed out again), left as it was (the caller's FALSE)
 * when the request is passed on (not
 * a block start of the pool, no magazine of the thread in the pool's
 * slot, a reclaim, a catch-up, a full magazine). The block's slab is
 * found first: fewer values live at once. (NULL is never a block start
 * of a live slab, but could be one of a header that a trim retired
 * meanwhile, with no data.) */
G_ALWAYS_INLINE static inline PoolMagazine *
magazine_lean_give (NebulaPoolAllocator *self,
                    gpointer             ptr,
                    gboolean            *refused,
                    gboolean             checked)
{
  PoolMagazine *magazine;
  Slab *slab;
  gsize local;

  if (G_LIKELY ((slab = nebula_pool_find_block (self, ptr, &local)) != NULL &&
                (magazine = magazine_lean_open (self)) != NULL))
    {
      if (G_LIKELY (magazine->n < magazine_limit (self)))
        {
          if (checked && G_UNLIKELY (!nebula_pool_mark_state_free (self, slab, local)))
            {
              magazine_leave (magazine);
              *refused = TRUE;
              return NULL;
            }
          magazine_push (magazine, ptr, slab);
          return magazine;
        }
      magazine_leave (magazine);
    }
  return NULL;
}

G_END_DECLS
