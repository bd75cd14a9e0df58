/* nebula-pool-magazine-direct.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-pool-magazine-private.h"

/* The requests of a thread-safe pool: through its vfuncs (with the
 * calling thread's magazine), through the wrappers' direct path (with
 * magazines or, without, on the shared list), and from a
 * NebulaMultiPoolAllocator's classes. What the magazines are, their
 * refills and flushes: nebula-pool-magazine.c. */

gpointer
nebula_pool_magazine_allocate (NebulaPoolAllocator  *self,
                               gsize                 size,
                               GError              **error)
{
  PoolMagazine *magazine = magazine_open (self);
  gpointer block = magazine_pop (self, magazine, size);

  if (G_UNLIKELY (block == NULL))
    block = nebula_pool_magazine_allocate_slow (self, magazine, size, error);
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
      nebula_pool_magazine_overflow (self, magazine, limit);
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
 * on the magazine magazine_open() gave. magazine_give() leaves it entered
 * when it returns DONE: the caller counts the free, then
 * magazine_leave(), so that no other thread can take the block (a
 * reclaim waits for the owner to leave) before the free is counted. */
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
      if (slab == NULL)
        {
          magazine_leave (magazine);
          return NEBULA_DIRECT_FAILED;
        }
      magazine_push (magazine, ptr, slab);
      return NEBULA_DIRECT_DONE;
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
 * the block is cached, with the magazine (*@entered) still entered: the
 * caller counts the free, then magazine_leave(). No statistics, as for
 * nebula_pool_magazine_take(). */
NebulaDirectResult
nebula_pool_magazine_give (NebulaPoolAllocator  *self,
                           gpointer              ptr,
                           gsize                 size,
                           PoolMagazine        **entered,
                           GError              **error)
{
  *entered = magazine_open (self);
  return magazine_give (self, *entered, ptr, size, error);
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
    {
      nebula_stats_shard_cache_record (&self->stats, &magazine->shard, 0, size);
      magazine_leave (magazine);
    }
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

  /* Both before the push, so that neither the count nor the statistics
   * ever exceed the blocks out: another thread may take the block as
   * soon as it is on the shared list. */
  magazine = magazine_find (self);
  count_one (&magazine->given);
  nebula_stats_shard_cache_record (&self->stats, &magazine->shard, 0, size);
  nebula_pool_give_shared (self, &entry);
  return NEBULA_DIRECT_DONE;
}

NEBULA_CORE_DIRECT_DEFINE (shared, shared_direct_alloc_inline, shared_direct_dealloc_inline);

/* The lean entry points: the wrappers' whole requests on a pool with
 * magazines whose blocks need no preparation (no alloc-fill or free-fill,
 * no memory tool watching), where nearly every request is the calling
 * thread's magazine and nothing else. Each serves the request from the
 * magazine or passes it, unchanged, to the full path
 * (nebula_allocator_allocate_slow() and _deallocate_slow(): the vfuncs,
 * which look the magazine up, wait, catch up, refill, flush and explain)
 * with a tail call: a magazine that is not in the pool's slot, a reclaim
 * under way or an owner that fences itself, a reset or flush to catch up
 * with, an empty or full magazine, a copy a racing double free left, a
 * pointer that is no block start of the pool. Only a block already free
 * is refused here: its failed mark changed nothing, and a second one
 * could succeed (the block handed out again meanwhile). With every other
 * call in a tail position or off the common path, the common path keeps
 * no frame. */

/* The statistics of a request served from @magazine, the magazine in
 * the pool's slot, whose shard is the thread's (recent_keep() in
 * nebula-pool-magazine.c). @counted (a constant): whether the pool keeps
 * statistics, tested when the path is chosen. */
G_ALWAYS_INLINE static inline void
lean_record (PoolMagazine *magazine,
             gsize         allocated,
             gsize         freed,
             gboolean      counted)
{
  if (counted)
    nebula_stats_shard_add_one (magazine->shard.shard, allocated, freed);
}

/* The bodies of the lean entry points, made for each value of
 * check-frees (@checked) and of track-stats (@counted), constants, so
 * that none tests them. */
G_ALWAYS_INLINE static inline gpointer
lean_alloc (gpointer   allocator,
            gsize      size,
            gsize      alignment,
            GError   **error,
            gboolean   checked,
            gboolean   counted)
{
  NebulaPoolAllocator *self = allocator;
  PoolMagazine *magazine;
  gpointer block;

  if (G_LIKELY (direct_layout_ok (self, size, alignment) &&
                (magazine = magazine_lean_open (self)) != NULL &&
                magazine_lean_take (self, magazine, &block, checked)))
    {
      lean_record (magazine, size, 0, counted);
      return block;
    }
  return nebula_allocator_allocate_slow (self, size, alignment, error);
}

G_ALWAYS_INLINE static inline gboolean
lean_dealloc (gpointer   allocator,
              gpointer   ptr,
              gsize      size,
              gsize      alignment,
              GError   **error,
              gboolean   checked,
              gboolean   counted)
{
  NebulaPoolAllocator *self = allocator;
  PoolMagazine *magazine;
  gboolean refused = FALSE;

  if (G_LIKELY (direct_layout_ok (self, size, alignment) && ptr != NULL &&
                (magazine = magazine_lean_give (self, ptr, &refused, checked)) != NULL))
    {
      lean_record (magazine, 0, size, counted);
      magazine_leave (magazine);
      return TRUE;
    }
  if (G_UNLIKELY (refused))
    return nebula_pool_report_double_free (self, ptr, size, error);
  return nebula_allocator_deallocate_slow (self, ptr, size, alignment, error);
}

/* A lean direct path: the magazines' own direct steps for other callers,
 * the lean entry points for the wrappers. */
#define LEAN_DIRECT_DEFINE(name, checked, counted)                                          \
  static gpointer name##_alloc_all (gpointer self, gsize size, gsize alignment,             \
                                    GError **error)                                         \
  {                                                                                         \
    return lean_alloc (self, size, alignment, error, checked, counted);                     \
  }                                                                                         \
  static gboolean name##_dealloc_all (gpointer self, gpointer ptr, gsize size,              \
                                      gsize alignment, GError **error)                      \
  {                                                                                         \
    return lean_dealloc (self, ptr, size, alignment, error, checked, counted);              \
  }                                                                                         \
  static const NebulaCoreDirect name##_direct = {                                           \
    magazine_direct_alloc, magazine_direct_dealloc, name##_alloc_all, name##_dealloc_all,   \
  }

LEAN_DIRECT_DEFINE (lean_checked, TRUE, TRUE);
LEAN_DIRECT_DEFINE (lean_unchecked, FALSE, TRUE);
LEAN_DIRECT_DEFINE (lean_checked_uncounted, TRUE, FALSE);
LEAN_DIRECT_DEFINE (lean_unchecked_uncounted, FALSE, FALSE);

/* The lean path for @self's check-frees and track-stats. */
static const NebulaCoreDirect *
lean_direct (NebulaPoolAllocator *self)
{
  static const NebulaCoreDirect *const paths[2][2] = {
    { &lean_unchecked_uncounted_direct, &lean_unchecked_direct },
    { &lean_checked_uncounted_direct, &lean_checked_direct },
  };

  return paths[!!self->check_frees][self->stats.enabled];
}

/* Whether @self's magazines take the lean steps (its blocks need no
 * preparation: no alloc-fill or free-fill, no memory tool watching). */
gboolean
nebula_pool_magazines_lean (NebulaPoolAllocator *self)
{
  return self->magazine_size != 0 && self->config.alloc_fill < 0 && self->config.free_fill < 0 &&
         !self->tools_watching;
}

/* At the end of a successful initialization: the pool's direct path, its
 * magazines' (lean when its blocks need no preparation) or, without, the
 * shared list's, or a single-threaded pool's (nebula-pool-direct.c). */
void
nebula_pool_magazines_publish (NebulaPoolAllocator *self)
{
  if (nebula_pool_magazines_lean (self))
    nebula_allocator_core_set_direct (self, lean_direct (self));
  else if (self->magazine_size != 0)
    nebula_allocator_core_set_direct (self, &magazine_direct);
  else if (self->config.thread_safe)
    nebula_allocator_core_set_direct (self, &shared_direct);
  else
    nebula_allocator_core_set_direct (self, nebula_pool_single_direct ());
}
