/* nebula-system-allocator-direct.c: the System allocator's direct path
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-system-allocator-private.h"

/* Tells the compiler what a volatile reload cannot: @cond holds. */
#if defined(__GNUC__)
# define NEBULA_ASSUME(cond) G_STMT_START { if (!(cond)) __builtin_unreachable (); } G_STMT_END
#else
# define NEBULA_ASSUME(cond) G_STMT_START { } G_STMT_END
#endif

/* The direct path (nebula-allocator-core-private.h): what
 * nebula_allocator_allocate() and _deallocate() run for a System allocator
 * without a budget or a fill pattern. A request it declines (a layout
 * malloc does not serve as is, a refusal, a block that is not live with
 * that size) goes to the exported path, which serves it or says what is
 * wrong; after a refusal that means asking malloc again, which is rare
 * and has to be explained. */
static inline gboolean
direct_layout_ok (gsize size,
                  gsize alignment)
{
  return nebula_allocator_core_direct_layout_ok (size, alignment, NEBULA_MAX_ALLOCATION_SIZE,
                                                 2 * sizeof (gpointer));
}

/* What the direct path counts, for each mode it is built for: nothing
 * (@stats FALSE), the plain counters (@thread_safe FALSE) or the calling
 * thread's shard, which the thread keeps in its cache between requests
 * (nebula_stats_thread_cache_try_record(): one comparison instead of the
 * lookup). Counted as nebula_stats_counters_record_allocation() and
 * _deallocation() count; the direct path never sees size 0. FALSE, with
 * nothing counted, when the thread's cache holds another allocator's
 * shard: record_request() then counts. */
G_ALWAYS_INLINE static inline gboolean
direct_try_record (NebulaSystemAllocator *self,
                   gboolean               thread_safe,
                   gboolean               stats,
                   gsize                  allocated,
                   gsize                  freed)
{
  if (!stats)
    return TRUE;
  if (thread_safe)
    return nebula_stats_thread_cache_try_record (NEBULA_STATS_THREAD_CACHE_SYSTEM, self->stats_key,
                                                 allocated, freed);
  if (allocated != 0)
    _nebula_fast_stats_count_alloc (&self->stats.plain, allocated);
  else
    _nebula_fast_stats_count_free (&self->stats.plain, freed);
  return TRUE;
}

/* Counts a request of the direct path in any mode, finding the thread's
 * shard if it must. */
static void
record_request (NebulaSystemAllocator *self,
                gsize                  allocated,
                gsize                  freed)
{
  if (self->stats.enabled && self->stats.thread_safe)
    nebula_stats_thread_cache_record (&self->stats, NEBULA_STATS_THREAD_CACHE_SYSTEM,
                                      self->stats_key, allocated, freed);
  else
    direct_try_record (self, FALSE, self->stats.enabled, allocated, freed);
}

/* The rare ends of the direct path, out of line and each the last call of
 * the path that reaches it, so that the common path keeps nothing across
 * malloc() but @self and @size, and nothing across free(). */

/* After malloc(): the table's lock was taken or its shard full. %NULL (the
 * block freed) when the table could not grow: the exported path then
 * serves the request or says what is wrong. */
static G_NO_INLINE gpointer
direct_alloc_insert (NebulaSystemAllocator *self,
                     gpointer               ptr,
                     gsize                  size)
{
  if (G_UNLIKELY (!nebula_system_table_insert (self->live, ptr, size)))
    {
      free (ptr);
      return NULL;
    }
  record_request (self, size, 0);
  return ptr;
}

/* After malloc() (and the table): the thread's statistics cache held
 * another allocator's shard. */
static G_NO_INLINE gpointer
direct_alloc_record (NebulaSystemAllocator *self,
                     gpointer               ptr,
                     gsize                  size)
{
  record_request (self, size, 0);
  return ptr;
}

/* A free whose statistics the thread's cache could not take: count, then
 * free. TRUE. */
static G_NO_INLINE gboolean
direct_free_counted (NebulaSystemAllocator *self,
                     gpointer               ptr,
                     gsize                  size)
{
  record_request (self, 0, size);
  free (ptr);
  return TRUE;
}

/* A checked free whose uncontended take did not end it (@result): wait
 * for the lock if it was taken, report a bad pointer or size, or count
 * and free. */
static G_NO_INLINE gboolean
direct_dealloc_rest (NebulaSystemAllocator    *self,
                     NebulaSystemTableResult   result,
                     gpointer                  ptr,
                     gsize                     size,
                     GError                  **error)
{
  if (result == NEBULA_SYSTEM_TABLE_BUSY)
    result = nebula_system_table_take_contended (self->live, ptr, size, NULL);
  if (!nebula_system_allocator_check_result (self, result, ptr, size, error))
    return FALSE;
  return direct_free_counted (self, ptr, size);
}

/* @checked (the table of live blocks), @thread_safe and @stats
 * (track-stats) are constants in each instance of the path below, one per
 * mode, so that each carries only the code, tests and registers its mode
 * needs. %NULL: declined (a layout malloc() does not serve as is, a
 * refusal, a table that could not grow). */
G_ALWAYS_INLINE static inline gpointer
direct_alloc (NebulaSystemAllocator *self,
              gsize                  size,
              gsize                  alignment,
              gboolean               checked,
              gboolean               thread_safe,
              gboolean               stats)
{
  gpointer ptr;

  if (G_UNLIKELY (!direct_layout_ok (size, alignment)))
    return NULL;

  ptr = malloc (size);
  if (G_UNLIKELY (ptr == NULL))
    return NULL;
  if (checked && G_UNLIKELY (!nebula_system_table_try_insert (self->live, ptr, size, thread_safe)))
    return direct_alloc_insert (self, ptr, size);
  if (G_UNLIKELY (!direct_try_record (self, thread_safe, stats, size, 0)))
    return direct_alloc_record (self, ptr, size);
  return ptr;
}

/* The whole allocation with check-frees: @alignment and @error are needed
 * after malloc() only to pass a declined request on: volatile copies keep
 * them in the frame instead of two more saved registers. */
G_ALWAYS_INLINE static inline gpointer
direct_alloc_checked_all (NebulaSystemAllocator  *self,
                          gsize                   size,
                          gsize                   alignment,
                          GError                **error,
                          gboolean                thread_safe,
                          gboolean                stats)
{
  volatile gsize kept_alignment = alignment;
  GError **volatile kept_error = error;
  gpointer ptr = direct_alloc (self, size, alignment, TRUE, thread_safe, stats);

  if (G_LIKELY (ptr != NULL))
    return ptr;
  return nebula_allocator_allocate_slow (self, size, kept_alignment, kept_error);
}

/* A thread-safe allocation without check-frees whose thread's statistics
 * cache held another allocator's shard: the path above, then the
 * exported path for what it declines. */
static G_NO_INLINE gpointer
direct_alloc_uncached (NebulaSystemAllocator  *self,
                       gsize                   size,
                       gsize                   alignment,
                       GError                **error)
{
  return nebula_allocator_core_alloc_finish (self, direct_alloc (self, size, alignment,
                                                                 FALSE, TRUE, TRUE),
                                             size, alignment, error);
}

/* The whole allocation without check-frees, for each mode: malloc() is
 * its only call, and nothing waits in a saved register across it. Where
 * to count (the thread's shard) is found before the call, counted after
 * it (a refused block is never counted, so no reader sees one); the
 * shard, the size and what a declined request needs wait in volatile
 * frame slots, a store and a load cheaper than a saved register. */
G_ALWAYS_INLINE static inline gpointer
direct_alloc_unchecked_all (NebulaSystemAllocator  *self,
                            gsize                   size,
                            gsize                   alignment,
                            GError                **error,
                            gboolean                thread_safe,
                            gboolean                stats)
{
  NebulaSystemAllocator *volatile kept_self = self;
  volatile gsize kept_size = size;
  volatile gsize kept_alignment = alignment;
  GError **volatile kept_error = error;
  NebulaStatsShard *volatile shard;
  gpointer ptr;
  gsize counted;

  if (G_UNLIKELY (!direct_layout_ok (size, alignment)))
    return nebula_allocator_allocate_slow (self, size, alignment, error);
  if (stats && thread_safe)
    {
      NebulaStatsThreadCache *cache = &nebula_stats_thread_cache[NEBULA_STATS_THREAD_CACHE_SYSTEM];

      if (G_UNLIKELY (cache->key != self->stats_key))
        return direct_alloc_uncached (self, size, alignment, error);
      shard = cache->shard;
    }

  ptr = malloc (size);
  if (G_UNLIKELY (ptr == NULL))
    return nebula_allocator_allocate_slow (kept_self, kept_size, kept_alignment, kept_error);

  if (!stats)
    return ptr;
  counted = kept_size;
  NEBULA_ASSUME (counted != 0);  /* the layout test above */
  if (thread_safe)
    nebula_stats_shard_add_one (shard, counted, 0);
  else
    _nebula_fast_stats_count_alloc (&kept_self->stats.plain, counted);
  return ptr;
}

/* The free is counted before free() runs: then nothing is live across
 * the call. Declines a layout the direct path does not serve, and %NULL. */
G_ALWAYS_INLINE static inline NebulaDirectResult
direct_dealloc (NebulaSystemAllocator  *self,
                gpointer                ptr,
                gsize                   size,
                gsize                   alignment,
                gboolean                checked,
                gboolean                thread_safe,
                gboolean                stats,
                GError                **error)
{
  if (G_UNLIKELY (!direct_layout_ok (size, alignment) || ptr == NULL))
    return NEBULA_DIRECT_DECLINED;
  if (checked)
    {
      NebulaSystemTableResult result = nebula_system_table_try_take (self->live, ptr, size,
                                                                     thread_safe, NULL);

      if (G_UNLIKELY (result != NEBULA_SYSTEM_TABLE_TAKEN))
        return direct_dealloc_rest (self, result, ptr, size, error) ? NEBULA_DIRECT_DONE
                                                                    : NEBULA_DIRECT_FAILED;
    }
  if (G_UNLIKELY (!direct_try_record (self, thread_safe, stats, 0, size)))
    return direct_free_counted (self, ptr, size) ? NEBULA_DIRECT_DONE : NEBULA_DIRECT_FAILED;

  free (ptr);
  return NEBULA_DIRECT_DONE;
}

/* One direct path per mode, each a NebulaCoreDirect @name: its alloc and
 * dealloc, and the whole request (see nebula_allocator_core_alloc_finish()
 * and _dealloc_finish()), which the dispatch jumps to. */
#define DEFINE_SYSTEM_DIRECT(name, checked, thread_safe, stats)                               \
  static gpointer                                                                            \
  name##_alloc (gpointer self,                                                               \
                gsize    size,                                                               \
                gsize    alignment)                                                          \
  {                                                                                          \
    return direct_alloc (self, size, alignment, checked, thread_safe, stats);                \
  }                                                                                          \
                                                                                             \
  static NebulaDirectResult                                                                  \
  name##_dealloc (gpointer   self,                                                           \
                  gpointer   ptr,                                                            \
                  gsize      size,                                                           \
                  gsize      alignment,                                                      \
                  GError   **error)                                                          \
  {                                                                                          \
    return direct_dealloc (self, ptr, size, alignment, checked, thread_safe, stats, error);   \
  }                                                                                          \
                                                                                             \
  static gpointer                                                                            \
  name##_alloc_all (gpointer   self,                                                         \
                    gsize      size,                                                         \
                    gsize      alignment,                                                    \
                    GError   **error)                                                        \
  {                                                                                          \
    if (checked)                                                                             \
      return direct_alloc_checked_all (self, size, alignment, error, thread_safe, stats);     \
    return direct_alloc_unchecked_all (self, size, alignment, error, thread_safe, stats);     \
  }                                                                                          \
                                                                                             \
  static gboolean                                                                            \
  name##_dealloc_all (gpointer   self,                                                       \
                      gpointer   ptr,                                                        \
                      gsize      size,                                                       \
                      gsize      alignment,                                                  \
                      GError   **error)                                                      \
  {                                                                                          \
    return nebula_allocator_core_dealloc_finish (                                            \
      self, direct_dealloc (self, ptr, size, alignment, checked, thread_safe, stats, error),  \
      ptr, size, alignment, error);                                                          \
  }                                                                                          \
                                                                                             \
  static const NebulaCoreDirect name = {                                                     \
    name##_alloc, name##_dealloc, name##_alloc_all, name##_dealloc_all,                      \
  };

DEFINE_SYSTEM_DIRECT (checked_shared_stats_direct, TRUE, TRUE, TRUE)
DEFINE_SYSTEM_DIRECT (checked_shared_direct, TRUE, TRUE, FALSE)
DEFINE_SYSTEM_DIRECT (checked_plain_stats_direct, TRUE, FALSE, TRUE)
DEFINE_SYSTEM_DIRECT (checked_plain_direct, TRUE, FALSE, FALSE)
DEFINE_SYSTEM_DIRECT (unchecked_shared_stats_direct, FALSE, TRUE, TRUE)
DEFINE_SYSTEM_DIRECT (unchecked_shared_direct, FALSE, TRUE, FALSE)
DEFINE_SYSTEM_DIRECT (unchecked_plain_stats_direct, FALSE, FALSE, TRUE)
DEFINE_SYSTEM_DIRECT (unchecked_plain_direct, FALSE, FALSE, FALSE)

/* Indexed by check-frees, thread-safe, track-stats. */
static const NebulaCoreDirect *const system_directs[2][2][2] = {
  { { &unchecked_plain_direct, &unchecked_plain_stats_direct },
    { &unchecked_shared_direct, &unchecked_shared_stats_direct } },
  { { &checked_plain_direct, &checked_plain_stats_direct },
    { &checked_shared_direct, &checked_shared_stats_direct } },
};

const NebulaCoreDirect *
nebula_system_allocator_direct (gboolean checked,
                                gboolean thread_safe,
                                gboolean stats)
{
  return system_directs[!!checked][!!thread_safe][!!stats];
}
