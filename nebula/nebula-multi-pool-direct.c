/* nebula-multi-pool-direct.c
 *
 * The direct path of a NebulaMultiPoolAllocator (nebula-allocator-core-
 * private.h): what nebula_allocator_allocate() and _deallocate() run once
 * the configuration is valid, one table of entries per kind of class, and
 * the statistics those entries keep (through the thread's statistics
 * cache).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-multi-pool-allocator-private.h"
#include "nebula-pool-allocator-private.h"
#include "nebula-pool-magazine-private.h"

/* The direct path (nebula-allocator-core-private.h): what
 * nebula_allocator_allocate() and _deallocate() run once the configuration
 * is valid. A request of a class already made goes straight to its pool's
 * own fast path: a single-threaded pool's inline path, then its direct
 * path (a block of an older slab); a thread-safe pool's magazine steps,
 * called here without the pool's dispatch, layout check or statistics
 * (the layout checked here is within every class's); a thread-safe pool
 * without magazines, its direct path. Whatever those decline (a class not
 * made yet, a refill, a larger alignment, a fill, a bad free) takes the
 * exported path (nebula-multi-pool-allocator.c), which serves it or says
 * what is wrong. */
static inline gboolean
direct_layout_ok (NebulaMultiPoolAllocator *self,
                  gsize                     size,
                  gsize                     alignment)
{
  return nebula_allocator_core_direct_layout_ok (size, alignment, self->largest_request,
                                                 NEBULA_MULTI_POOL_SMALL_STEP);
}

/* The statistics of the direct path. A thread-safe multi-pool's go to the
 * calling thread's shard of its counters, which the thread's statistics
 * cache (nebula_stats_thread_cache_try_record(), as the System
 * allocator's) keeps for the allocator the thread counted in last, keyed
 * by @stats_key (never another allocator's, so a finalized one's never
 * matches; the slot's release at thread exit empties the cache), in the
 * multi-pools' own entry (a System allocator in between does not evict
 * it): a request makes one comparison where nebula_stats_counters_shard()
 * makes its table and page lookups. A thread going back and forth between
 * two multi-pools looks its shard up again at each change, and counts
 * exactly all the same. */

/* The record of one allocation of @allocated bytes or, with @allocated 0,
 * one free of @freed bytes (both at least 1: the layout check refused size
 * 0) by a multi-pool whose counters are plain (single-threaded) or off:
 * the inline paths' own additions. */
G_ALWAYS_INLINE static inline void
multi_pool_record_plain (NebulaMultiPoolAllocator *self,
                         gsize                     allocated,
                         gsize                     freed)
{
  if (!self->stats.enabled)
    return;

  if (allocated != 0)
    _nebula_fast_stats_count_alloc (&self->stats.plain, allocated);
  else
    _nebula_fast_stats_count_free (&self->stats.plain, freed);
}

/* The thread's cache holds another allocator's shard, or @self keeps no
 * per-thread statistics: the request counted (and the cache made @self's
 * if it counts per thread). */
static G_NO_INLINE void
multi_pool_record_slow (NebulaMultiPoolAllocator *self,
                        gsize                     allocated,
                        gsize                     freed)
{
  if (!self->stats.enabled || !self->stats.thread_safe)
    {
      multi_pool_record_plain (self, allocated, freed);
      return;
    }

  nebula_stats_thread_cache_record_slow (&self->stats, NEBULA_STATS_THREAD_CACHE_MULTI_POOL,
                                         self->stats_key, allocated, freed);
}

/* The same for a multi-pool that counts per thread (thread-safe, with
 * statistics): the thread's cache holds @self's key only then, so one
 * comparison stands for the tests of nebula_stats_shard_cache_record()
 * and the lookup. FALSE, nothing counted, when the cache is not @self's:
 * then multi_pool_record_slow() (where the caller likes: a tail call). */
G_ALWAYS_INLINE static inline gboolean
multi_pool_try_record_shared (NebulaMultiPoolAllocator *self,
                              gsize                     allocated,
                              gsize                     freed)
{
  return nebula_stats_thread_cache_try_record (NEBULA_STATS_THREAD_CACHE_MULTI_POOL, self->stats_key,
                                               allocated, freed);
}

G_ALWAYS_INLINE static inline void
multi_pool_record_shared (NebulaMultiPoolAllocator *self,
                          gsize                     allocated,
                          gsize                     freed)
{
  if (G_UNLIKELY (!multi_pool_try_record_shared (self, allocated, freed)))
    multi_pool_record_slow (self, allocated, freed);
}

/* Either. */
G_ALWAYS_INLINE static inline void
multi_pool_record (NebulaMultiPoolAllocator *self,
                   gsize                     allocated,
                   gsize                     freed)
{
  if (self->stats.enabled && self->stats.thread_safe)
    multi_pool_record_shared (self, allocated, freed);
  else
    multi_pool_record_plain (self, allocated, freed);
}

/* The class pool serving a request of the direct path's layout, or NULL
 * when its class was not made yet. */
G_ALWAYS_INLINE static inline NebulaAllocator *
direct_class (NebulaMultiPoolAllocator *self,
              gsize                     size,
              guint                    *index)
{
  *index = (guint) nebula_multi_pool_class_of_size (size);
  return nebula_multi_pool_peek_class (self, *index);
}

/* The class pool of a request whose fast path the entries run
 * themselves (step_pools[]), or NULL: a layout outside the steps (up to
 * 1024 bytes, 16-byte aligned), a class not made yet, or one whose
 * magazines are not lean. One range check and one load for the layout's
 * size check, the class table, the class pool and the lean flag. */
G_ALWAYS_INLINE static inline NebulaAllocator *
step_class (NebulaMultiPoolAllocator *self,
            gsize                     size,
            gsize                     alignment)
{
  if (G_UNLIKELY (!nebula_allocator_core_direct_layout_ok (size, alignment, self->step_limit,
                                                           NEBULA_MULTI_POOL_SMALL_STEP)))
    return NULL;
  return __atomic_load_n (&self->step_pools[(size - 1) / NEBULA_MULTI_POOL_SMALL_STEP],
                          __ATOMIC_ACQUIRE);
}

/* A class without magazines: a single-threaded pool's inline path, then
 * its direct path (a block of an older slab); a thread-safe pool's
 * shared list. */
G_ALWAYS_INLINE static inline gpointer
class_direct_alloc (NebulaMultiPoolAllocator *self,
                    NebulaAllocator          *pool,
                    guint                     index,
                    gsize                     size,
                    gsize                     alignment)
{
  const NebulaCoreDirect *direct = self->directs[index];
  gpointer ptr;

  if (!self->config.thread_safe && _nebula_pool_fast_alloc (_NEBULA_POOL_FAST (pool), size,
                                                           alignment, &ptr))
    return ptr;
  return direct != NULL ? direct->alloc (pool, size, alignment) : NULL;
}

G_ALWAYS_INLINE static inline NebulaDirectResult
class_direct_dealloc (NebulaMultiPoolAllocator  *self,
                      NebulaAllocator           *pool,
                      guint                      index,
                      gpointer                   ptr,
                      gsize                      size,
                      gsize                      alignment,
                      GError                   **error)
{
  const NebulaCoreDirect *direct = self->directs[index];

  if (!self->config.thread_safe &&
      _nebula_pool_fast_dealloc (_NEBULA_POOL_FAST (pool), ptr, size, alignment))
    return NEBULA_DIRECT_DONE;
  return direct != NULL ? direct->dealloc (pool, ptr, size, alignment, error)
                        : NEBULA_DIRECT_DECLINED;
}

G_ALWAYS_INLINE static inline gpointer
multi_pool_direct_alloc_inline (gpointer allocator,
                                gsize    size,
                                gsize    alignment)
{
  NebulaMultiPoolAllocator *self = allocator;
  NebulaAllocator *pool;
  guint index;
  gpointer ptr;

  if (G_UNLIKELY (!direct_layout_ok (self, size, alignment)))
    return NULL;

  pool = direct_class (self, size, &index);
  if (G_UNLIKELY (pool == NULL))
    return NULL;

  if (G_LIKELY (self->cached[index]))
    ptr = nebula_pool_magazine_take ((NebulaPoolAllocator *) pool, size);
  else
    ptr = class_direct_alloc (self, pool, index, size, alignment);

  if (G_LIKELY (ptr != NULL))
    multi_pool_record (self, size, 0);
  return ptr;
}

/* A class pool refused a free (@result FAILED): its error, explained. */
static G_NO_INLINE NebulaDirectResult
direct_dealloc_failed (NebulaMultiPoolAllocator  *self,
                       NebulaDirectResult         result,
                       guint                      index,
                       gsize                      size,
                       GError                   **error)
{
  nebula_multi_pool_explain_class_error (self, error, size, nebula_multi_pool_class_size (index));
  return result;
}

G_ALWAYS_INLINE static inline NebulaDirectResult
multi_pool_direct_dealloc_inline (gpointer   allocator,
                                  gpointer   ptr,
                                  gsize      size,
                                  gsize      alignment,
                                  GError   **error)
{
  NebulaMultiPoolAllocator *self = allocator;
  NebulaDirectResult result;
  NebulaAllocator *pool;
  guint index;

  if (G_UNLIKELY (!direct_layout_ok (self, size, alignment) || ptr == NULL))
    return NEBULA_DIRECT_DECLINED;

  pool = direct_class (self, size, &index);
  if (G_UNLIKELY (pool == NULL))
    return NEBULA_DIRECT_DECLINED;

  if (G_LIKELY (self->cached[index]))
    {
      PoolMagazine *magazine;

      result = nebula_pool_magazine_give ((NebulaPoolAllocator *) pool, ptr, size, &magazine,
                                          error);
      /* Counted before the magazine is left: until then no other thread
       * can take the block. */
      if (G_LIKELY (result == NEBULA_DIRECT_DONE))
        {
          multi_pool_record (self, 0, size);
          magazine_leave (magazine);
          return result;
        }
    }
  else
    result = class_direct_dealloc (self, pool, index, ptr, size, alignment, error);

  if (G_LIKELY (result == NEBULA_DIRECT_DONE))
    multi_pool_record (self, 0, size);
  else if (result == NEBULA_DIRECT_FAILED)
    return direct_dealloc_failed (self, result, index, size, error);
  return result;
}

/* The direct path's entries (as NEBULA_CORE_DIRECT_DEFINE() makes them,
 * which would also make a table this kind does not use: it has one per
 * kind of class, below). */
static gpointer
multi_pool_direct_alloc (gpointer self,
                         gsize    size,
                         gsize    alignment)
{
  return multi_pool_direct_alloc_inline (self, size, alignment);
}

static NebulaDirectResult
multi_pool_direct_dealloc (gpointer   self,
                           gpointer   ptr,
                           gsize      size,
                           gsize      alignment,
                           GError   **error)
{
  return multi_pool_direct_dealloc_inline (self, ptr, size, alignment, error);
}

/* Every request the entries below do not serve themselves: the general
 * body, then the exported path for what it declines. */
static G_NO_INLINE gpointer
multi_pool_alloc_all (gpointer   self,
                      gsize      size,
                      gsize      alignment,
                      GError   **error)
{
  return nebula_allocator_core_alloc_finish (self, multi_pool_direct_alloc_inline (self, size,
                                                                                  alignment),
                                             size, alignment, error);
}

static G_NO_INLINE gboolean
multi_pool_dealloc_all (gpointer   self,
                        gpointer   ptr,
                        gsize      size,
                        gsize      alignment,
                        GError   **error)
{
  return nebula_allocator_core_dealloc_finish (self,
                                               multi_pool_direct_dealloc_inline (self, ptr, size,
                                                                                 alignment, error),
                                               ptr, size, alignment, error);
}

/* What the wrappers jump to, one per kind of class: the common case of
 * each with nothing else in the frame, then the general body above
 * (multi_pool_alloc_all(), _dealloc_all()) for the rest. A single-threaded
 * class's inline path makes no call, so the common case keeps no register
 * of the caller's and ends in a tail call when it declines; a class with
 * magazines makes one call, across which it keeps the four or five
 * arguments a refill or a refused free needs. */
static gpointer
multi_pool_st_alloc_all (gpointer   allocator,
                         gsize      size,
                         gsize      alignment,
                         GError   **error)
{
  NebulaMultiPoolAllocator *self = allocator;
  NebulaAllocator *pool;
  gpointer ptr;

  if (G_LIKELY ((pool = step_class (self, size, alignment)) != NULL &&
                _nebula_pool_fast_alloc (_NEBULA_POOL_FAST (pool), size, alignment, &ptr)))
    {
      multi_pool_record_plain (self, size, 0);
      return ptr;
    }

  return multi_pool_alloc_all (self, size, alignment, error);
}

static gboolean
multi_pool_st_dealloc_all (gpointer   allocator,
                           gpointer   ptr,
                           gsize      size,
                           gsize      alignment,
                           GError   **error)
{
  NebulaMultiPoolAllocator *self = allocator;
  NebulaAllocator *pool;

  if (G_LIKELY (ptr != NULL && (pool = step_class (self, size, alignment)) != NULL &&
                _nebula_pool_fast_dealloc (_NEBULA_POOL_FAST (pool), ptr, size, alignment)))
    {
      multi_pool_record_plain (self, 0, size);
      return TRUE;
    }

  return multi_pool_dealloc_all (self, ptr, size, alignment, error);
}

/* The arguments only a refill or a refused free needs after the class's
 * call: kept in the frame by plain stores (volatile: not in registers the
 * frame would have to save and restore on every request). */
typedef struct
{
  gpointer volatile  ptr;
  volatile gsize     alignment;
  GError **volatile  error;
} ColdArgs;

/* A class with magazines: one call, across which the frame keeps the
 * four or five arguments a refill or a refused free needs. @counted: the
 * multi-pool keeps statistics (per thread, as it is thread-safe). */
G_ALWAYS_INLINE static inline gpointer
ts_alloc_all (NebulaMultiPoolAllocator  *self,
              gsize                      size,
              gsize                      alignment,
              GError                   **error,
              gboolean                   counted)
{
  NebulaAllocator *pool;
  ColdArgs cold;
  guint index;
  gpointer ptr;

  if (G_UNLIKELY (!direct_layout_ok (self, size, alignment) ||
                  (pool = direct_class (self, size, &index)) == NULL || !self->cached[index]))
    return multi_pool_alloc_all (self, size, alignment, error);

  cold.alignment = alignment;
  cold.error = error;
  ptr = nebula_pool_magazine_take ((NebulaPoolAllocator *) pool, size);
  if (G_UNLIKELY (ptr == NULL))
    return nebula_allocator_allocate_slow (self, size, cold.alignment, cold.error);

  if (counted)
    multi_pool_record_shared (self, size, 0);
  return ptr;
}

G_ALWAYS_INLINE static inline gboolean
ts_dealloc_all (NebulaMultiPoolAllocator  *self,
                gpointer                   ptr,
                gsize                      size,
                gsize                      alignment,
                GError                   **error,
                gboolean                   counted)
{
  NebulaDirectResult result;
  PoolMagazine *magazine;
  NebulaAllocator *pool;
  ColdArgs cold;
  guint index;

  if (G_UNLIKELY (!direct_layout_ok (self, size, alignment) || ptr == NULL ||
                  (pool = direct_class (self, size, &index)) == NULL || !self->cached[index]))
    return multi_pool_dealloc_all (self, ptr, size, alignment, error);

  cold.ptr = ptr;
  cold.alignment = alignment;
  cold.error = error;
  result = nebula_pool_magazine_give ((NebulaPoolAllocator *) pool, ptr, size, &magazine, error);
  if (G_LIKELY (result == NEBULA_DIRECT_DONE))
    {
      /* Counted before the magazine is left, as the direct path does. */
      if (counted)
        multi_pool_record_shared (self, 0, size);
      magazine_leave (magazine);
      return TRUE;
    }
  if (result == NEBULA_DIRECT_FAILED)
    {
      direct_dealloc_failed (self, result, (guint) nebula_multi_pool_class_of_size (size), size,
                             cold.error);
      return FALSE;
    }
  return nebula_allocator_deallocate_slow (self, cold.ptr, size, cold.alignment, cold.error);
}

static gpointer
multi_pool_ts_alloc_all (gpointer   self,
                         gsize      size,
                         gsize      alignment,
                         GError   **error)
{
  return ts_alloc_all (self, size, alignment, error, TRUE);
}

static gboolean
multi_pool_ts_dealloc_all (gpointer   self,
                           gpointer   ptr,
                           gsize      size,
                           gsize      alignment,
                           GError   **error)
{
  return ts_dealloc_all (self, ptr, size, alignment, error, TRUE);
}

static gpointer
multi_pool_ts_uncounted_alloc_all (gpointer   self,
                                   gsize      size,
                                   gsize      alignment,
                                   GError   **error)
{
  return ts_alloc_all (self, size, alignment, error, FALSE);
}

static gboolean
multi_pool_ts_uncounted_dealloc_all (gpointer   self,
                                     gpointer   ptr,
                                     gsize      size,
                                     gsize      alignment,
                                     GError   **error)
{
  return ts_dealloc_all (self, ptr, size, alignment, error, FALSE);
}

/* A class whose magazines take the lean steps (nebula-pool-magazine-
 * private.h), inlined: the common case makes no call and keeps no frame,
 * and every other case leaves by a tail call, to the general body
 * (multi_pool_alloc_all(), _dealloc_all(): the class pool's own magazine
 * steps, which look the magazine up, wait, catch up, then the exported
 * path) for whatever the steps pass on, or to the statistics' slow record
 * or the report of a double free. @counted: the multi-pool keeps
 * statistics (per thread); @checked: check-frees (its class pools'), so
 * that neither is tested. */
static G_NO_INLINE gpointer
lean_record_allocation_slow (NebulaMultiPoolAllocator *self,
                             gsize                     size,
                             gpointer                  block)
{
  multi_pool_record_slow (self, size, 0);
  return block;
}

static G_NO_INLINE gboolean
lean_record_free_slow (NebulaMultiPoolAllocator *self,
                       PoolMagazine             *magazine,
                       gsize                     size)
{
  multi_pool_record_slow (self, 0, size);
  magazine_leave (magazine);
  return TRUE;
}

/* A block already free (its failed mark changed nothing), as
 * ts_dealloc_all() reports it. */
static G_NO_INLINE gboolean
lean_report_double_free (NebulaMultiPoolAllocator  *self,
                         NebulaAllocator           *pool,
                         gpointer                   ptr,
                         gsize                      size,
                         GError                   **error)
{
  nebula_pool_report_double_free ((NebulaPoolAllocator *) pool, ptr, size, error);
  direct_dealloc_failed (self, NEBULA_DIRECT_FAILED, (guint) nebula_multi_pool_class_of_size (size),
                         size, error);
  return FALSE;
}

G_ALWAYS_INLINE static inline gpointer
lean_alloc_all (NebulaMultiPoolAllocator  *self,
                gsize                      size,
                gsize                      alignment,
                GError                   **error,
                gboolean                   counted,
                gboolean                   checked)
{
  NebulaPoolAllocator *pool;
  PoolMagazine *magazine;
  gpointer block;

  if (G_LIKELY ((pool = (NebulaPoolAllocator *) step_class (self, size, alignment)) != NULL &&
                (magazine = magazine_lean_open (pool)) != NULL &&
                magazine_lean_take (pool, magazine, &block, checked)))
    {
      if (counted && G_UNLIKELY (!multi_pool_try_record_shared (self, size, 0)))
        return lean_record_allocation_slow (self, size, block);
      return block;
    }
  return multi_pool_alloc_all (self, size, alignment, error);
}

G_ALWAYS_INLINE static inline gboolean
lean_dealloc_all (NebulaMultiPoolAllocator  *self,
                  gpointer                   ptr,
                  gsize                      size,
                  gsize                      alignment,
                  GError                   **error,
                  gboolean                   counted,
                  gboolean                   checked)
{
  NebulaAllocator *pool;
  PoolMagazine *magazine;
  gboolean refused = FALSE;

  if (G_LIKELY (ptr != NULL && (pool = step_class (self, size, alignment)) != NULL))
    {
      magazine = magazine_lean_give ((NebulaPoolAllocator *) pool, ptr, &refused, checked);
      if (G_LIKELY (magazine != NULL))
        {
          /* Counted before the magazine is left: until then no other
           * thread can take the block. */
          if (counted && G_UNLIKELY (!multi_pool_try_record_shared (self, 0, size)))
            return lean_record_free_slow (self, magazine, size);
          magazine_leave (magazine);
          return TRUE;
        }
      if (G_UNLIKELY (refused))
        return lean_report_double_free (self, pool, ptr, size, error);
    }
  return multi_pool_dealloc_all (self, ptr, size, alignment, error);
}

/* The lean entries and their table for each value of @counted and
 * @checked. */
#define MULTI_POOL_LEAN_DEFINE(name, counted, checked)                                      \
  static gpointer name##_alloc_all (gpointer self, gsize size, gsize alignment,             \
                                    GError **error)                                         \
  {                                                                                         \
    return lean_alloc_all (self, size, alignment, error, counted, checked);                 \
  }                                                                                         \
  static gboolean name##_dealloc_all (gpointer self, gpointer ptr, gsize size,              \
                                      gsize alignment, GError **error)                      \
  {                                                                                         \
    return lean_dealloc_all (self, ptr, size, alignment, error, counted, checked);          \
  }                                                                                         \
  static const NebulaCoreDirect name##_direct = {                                           \
    multi_pool_direct_alloc, multi_pool_direct_dealloc, name##_alloc_all,                   \
    name##_dealloc_all,                                                                     \
  }

MULTI_POOL_LEAN_DEFINE (multi_pool_lean_counted_checked, TRUE, TRUE);
MULTI_POOL_LEAN_DEFINE (multi_pool_lean_counted, TRUE, FALSE);
MULTI_POOL_LEAN_DEFINE (multi_pool_lean_checked, FALSE, TRUE);
MULTI_POOL_LEAN_DEFINE (multi_pool_lean, FALSE, FALSE);

/* The tables, one per kind of class and, for thread-safe classes, with
 * statistics or not (nebula_multi_pool_direct_table()): the lean ones
 * above when the classes' blocks need no fill, these with a fill. */
static const NebulaCoreDirect multi_pool_st_direct = {
  multi_pool_direct_alloc, multi_pool_direct_dealloc, multi_pool_st_alloc_all,
  multi_pool_st_dealloc_all,
};

static const NebulaCoreDirect multi_pool_ts_direct = {
  multi_pool_direct_alloc, multi_pool_direct_dealloc, multi_pool_ts_alloc_all,
  multi_pool_ts_dealloc_all,
};

static const NebulaCoreDirect multi_pool_ts_uncounted_direct = {
  multi_pool_direct_alloc, multi_pool_direct_dealloc, multi_pool_ts_uncounted_alloc_all,
  multi_pool_ts_uncounted_dealloc_all,
};

/* A class whose pool's magazines are not lean (a memory tool watching
 * it) takes the general body from the lean entries. */
const NebulaCoreDirect *
nebula_multi_pool_direct_table (NebulaMultiPoolAllocator *self)
{
  gboolean lean = self->config.alloc_fill < 0 && self->config.free_fill < 0;

  if (!self->config.thread_safe)
    return &multi_pool_st_direct;
  if (lean && self->stats.enabled)
    return self->check_frees ? &multi_pool_lean_counted_checked_direct
                             : &multi_pool_lean_counted_direct;
  if (lean)
    return self->check_frees ? &multi_pool_lean_checked_direct : &multi_pool_lean_direct;
  return self->stats.enabled ? &multi_pool_ts_direct : &multi_pool_ts_uncounted_direct;
}
