/* nebula-bump-thread.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-bump-allocator-private.h"

/* Per-thread slices of a thread-safe bump allocator (thread-local
 * allocation buffers, as a JVM's TLABs or mimalloc's thread-local pages).
 *
 * Each thread that allocates from a thread-safe bump allocator takes a
 * slice of the current chunk, [base, limit), with one compare-and-swap on
 * the chunk's counter, and bumps its own cursor in it with plain loads and
 * stores: an allocation that fits in the slice makes no atomic
 * read-modify-write. A request the slice cannot hold takes the next slice
 * (growth, when the chunk is full, under the grow lock as before), first
 * giving back the unused end of the old one if nobody took a slice after
 * it, so that one thread alone packs its blocks exactly as a
 * single-threaded allocator does. Large requests keep their dedicated
 * chunks. Slices are parts of chunks, which the budget was charged for
 * once; a slice is not charged again.
 *
 * A thread's record of its slice (BumpThread) belongs to the thread (a
 * GPrivate table, and the last one used in a thread-local pointer); the
 * allocator lists the records so that it can count what their slices
 * still hold and orphan them when it is finalized. One process-wide lock,
 * threads_lock, orders what a record shares: the owner changes its slice
 * under it, and readers (bytes-used, owns, reports, finalize, the thread's
 * exit) look at other threads' slices under it; the cursor, which only
 * the owner moves, is a relaxed atomic that readers may load at any time.
 * Lock order: the grow lock, then threads_lock.
 *
 * The slice generation: a reset, a checkpoint and a restore increment it
 * and clear every record's limit (what the inline step tests); a slice
 * taken in an earlier generation is void, and its thread takes a new one
 * at its next allocation. A reset and a restore need every other
 * thread to be done allocating (the quiescence rule, docs/allocators.md);
 * a checkpoint does not: a block another thread allocates while it is
 * taken counts as before it. The void slice's unused end stays counted as
 * used until a reset or a restore below it (the calling thread gives its
 * own back first). */

static GMutex threads_lock;

static void thread_records_free (gpointer data);

/* The calling thread's records, one per thread-safe bump allocator it
 * used (a GPtrArray). */
static GPrivate thread_records = G_PRIVATE_INIT (thread_records_free);

__thread BumpLastThread nebula_bump_last_thread __attribute__ ((tls_model ("initial-exec")));

static inline void
set_last_thread (NebulaBumpAllocator *self,
                 BumpThread          *thread)
{
  nebula_bump_last_thread.id = self != NULL ? self->id : 0;
  nebula_bump_last_thread.thread = thread;
}

static inline guint8 *
load_cursor (const BumpThread *thread)
{
  return __atomic_load_n (&thread->cursor, __ATOMIC_RELAXED);
}

static inline void
store_cursor (BumpThread *thread,
              guint8     *cursor)
{
  __atomic_store_n (&thread->cursor, cursor, __ATOMIC_RELAXED);
}

/* The limit: the owner loads it without the lock, so every store is
 * atomic too (an invalidation voids another thread's slice). */
static inline guint8 *
load_limit (const BumpThread *thread)
{
  return __atomic_load_n (&thread->limit, __ATOMIC_RELAXED);
}

static inline void
store_limit (BumpThread *thread,
             guint8     *limit)
{
  __atomic_store_n (&thread->limit, limit, __ATOMIC_RELAXED);
}

static inline guint
slice_generation (NebulaBumpAllocator *self)
{
  return __atomic_load_n (&self->slice_generation, __ATOMIC_ACQUIRE);
}

/* Whether @thread has a slice of the allocator's generation. Under
 * threads_lock, or by the owner. */
static inline gboolean
slice_valid (NebulaBumpAllocator *self,
             const BumpThread    *thread)
{
  return thread->chunk != NULL && thread->generation == slice_generation (self);
}

/* The unused end of @thread's slice goes back to its chunk if no slice
 * was taken after it: the slice then ends at its cursor, and its newest
 * block can still be given back (a checkpoint or restore that fails must
 * not change which block is the top). FALSE: a slice follows, the end
 * stays unused. Under threads_lock. */
static gboolean
give_back_locked (NebulaBumpAllocator *self,
                  BumpThread          *thread)
{
  guint8 *cursor = load_cursor (thread);
  gsize end;

  if (!slice_valid (self, thread) || thread->limit == cursor)
    return TRUE;

  end = thread->limit - thread->chunk->data;
  if (!__atomic_compare_exchange_n (&thread->chunk->used, &end,
                                    (gsize) (cursor - thread->chunk->data),
                                    FALSE, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
    return FALSE;

  store_limit (thread, cursor);
  return TRUE;
}

/* At thread exit: every record's slice goes back to its chunk, and the
 * record leaves its allocator's list. A slice that cannot go back (a
 * slice was taken after it) stays listed, owned by the allocator, so that
 * bytes-used still leaves its unused end out, until the next reset,
 * checkpoint or restore voids it or the allocator is finalized. */
static void
thread_records_free (gpointer data)
{
  GPtrArray *records = data;

  nebula_mutex_lock (&threads_lock);
  for (guint i = 0; i < records->len; i++)
    {
      BumpThread *thread = g_ptr_array_index (records, i);
      NebulaBumpAllocator *self = __atomic_load_n (&thread->bump, __ATOMIC_RELAXED);

      if (self == NULL)
        continue;

      if (give_back_locked (self, thread))
        g_ptr_array_remove_fast (self->threads, thread);
      else
        {
          thread->dead = TRUE;
          g_ptr_array_index (records, i) = NULL;
        }
    }
  nebula_mutex_unlock (&threads_lock);

  set_last_thread (NULL, NULL);
  g_ptr_array_free (records, TRUE);
}

/* The pair's promise (nebula_bump_thread_last()): with counters, @thread
 * keeps the shard of the thread's current statistics slot, else the pair
 * stays clear (a thread beyond the last slot: every request then takes
 * the general path, which counts into the overflow shard). */
static void
set_last_thread_counted (NebulaBumpAllocator *self,
                         BumpThread          *thread)
{
  if (self->stats.enabled && thread->shard.slot != nebula_stats_thread_slot &&
      !nebula_stats_shard_cache_fill (&self->stats, &thread->shard))
    return;
  set_last_thread (self, thread);
}

/* The thread gave its statistics slot back (at its exit): the shard the
 * pair's record keeps is no longer the slot's. */
static void
slot_released (void)
{
  set_last_thread (NULL, NULL);
}

static G_NO_INLINE BumpThread *
thread_lookup (NebulaBumpAllocator *self)
{
  GPtrArray *records = g_private_get (&thread_records);
  BumpThread *thread, *found = NULL;

  if (records == NULL)
    {
      records = g_ptr_array_new_with_free_func (g_free);
      g_private_set (&thread_records, records);
    }

  set_last_thread (NULL, NULL);
  for (guint i = records->len; i-- > 0;)
    {
      NebulaBumpAllocator *bump;

      thread = g_ptr_array_index (records, i);
      bump = __atomic_load_n (&thread->bump, __ATOMIC_ACQUIRE);

      /* Orphaned when its allocator was finalized: nobody else refers
       * to it. */
      if (bump == NULL)
        g_ptr_array_remove_index_fast (records, i);
      else if (bump == self)
        found = thread;
    }
  if (found != NULL)
    {
      set_last_thread_counted (self, found);
      return found;
    }

  thread = g_new0 (BumpThread, 1);
  nebula_stats_shard_cache_init (&thread->shard);
  __atomic_store_n (&thread->bump, self, __ATOMIC_RELAXED);

  nebula_mutex_lock (&threads_lock);
  g_ptr_array_add (self->threads, thread);
  nebula_mutex_unlock (&threads_lock);

  g_ptr_array_add (records, thread);
  set_last_thread_counted (self, thread);
  return thread;
}

/* The calling thread's record for @self. */
static inline BumpThread *
thread_of (NebulaBumpAllocator *self)
{
  BumpThread *thread = nebula_bump_thread_last (self);

  if (G_UNLIKELY (thread == NULL))
    thread = thread_lookup (self);

  return thread;
}

/* How much a thread takes at once from a chunk: an eighth of it, from
 * 256 bytes to 64 KiB, so that a small chunk still serves several threads
 * and a large one is not left to a few. (A sixteenth up to 32 KiB took a
 * new slice twice as often: HACKING.md, "Thread-safe bump".) */
static inline gsize
slice_size (const Chunk *chunk)
{
  return CLAMP (chunk->size / 8, 256, 64 * 1024);
}

/* A new slice of the current chunk that holds a block of @rounded bytes
 * at @alignment (what block_span() adds included), after the old slice's
 * end went back; FALSE when the current chunk cannot hold it (it must
 * grow). A slice taken in @generation that an invalidation voided
 * meanwhile is recorded void (no limit): the next attempt takes another.
 * One hold of threads_lock: the compare-and-swap loop never waits. */
static gboolean
take_slice (NebulaBumpAllocator *self,
            BumpThread          *thread,
            Chunk               *chunk,
            gsize                rounded,
            gsize                alignment,
            guint                generation)
{
  gboolean taken = FALSE;
  gsize used;

  nebula_mutex_lock (&threads_lock);
  give_back_locked (self, thread);

  used = chunk != NULL ? __atomic_load_n (&chunk->used, __ATOMIC_RELAXED) : 0;
  while (chunk != NULL && !taken)
    {
      guintptr start = ((guintptr) chunk->data + used + alignment - 1) & ~(guintptr) (alignment - 1);
      gsize offset = start - (guintptr) chunk->data;
      gsize need, take;

      if (start > (guintptr) chunk->data + chunk->size || rounded > chunk->size - offset)
        break;

      need = offset - used + block_span (self, rounded, chunk->size - offset);
      take = MIN (MAX (need, slice_size (chunk)), chunk->size - used);
      if (!__atomic_compare_exchange_n (&chunk->used, &used, used + take, TRUE,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        continue;

      thread->chunk = chunk;
      thread->generation = generation;
      thread->base = chunk->data + used;
      thread->last = NULL;
      store_cursor (thread, thread->base);
      store_limit (thread, generation == slice_generation (self) ? thread->base + take : NULL);
      taken = TRUE;
    }
  nebula_mutex_unlock (&threads_lock);

  return taken;
}

/* take_slice() from the chunk that is current now. */
static gboolean
take_current_slice (NebulaBumpAllocator *self,
                    BumpThread          *thread,
                    gsize                rounded,
                    gsize                alignment)
{
  guint generation = slice_generation (self);

  return take_slice (self, thread, __atomic_load_n (&self->current, __ATOMIC_ACQUIRE), rounded,
                     alignment, generation);
}

/* A new slice that holds the block: from the current chunk, which grows
 * under the grow lock when it is full. */
static gboolean
refill (NebulaBumpAllocator  *self,
        BumpThread           *thread,
        gsize                 rounded,
        gsize                 alignment,
        GError              **error)
{
  for (;;)
    {
      Chunk *chunk = __atomic_load_n (&self->current, __ATOMIC_ACQUIRE);

      if (take_current_slice (self, thread, rounded, alignment))
        return TRUE;

      /* A charge to the budget may emit: not under our lock. */
      nebula_memory_budget_hold_signals ();
      nebula_mutex_lock (&self->grow_lock);
      if (__atomic_load_n (&self->current, __ATOMIC_ACQUIRE) == chunk &&
          !nebula_bump_chunk_grow (self, rounded, alignment, error))
        {
          nebula_mutex_unlock (&self->grow_lock);
          nebula_memory_budget_emit_held_signals ();
          return FALSE;
        }
      nebula_mutex_unlock (&self->grow_lock);
      nebula_memory_budget_emit_held_signals ();
    }
}

/* A regular (not large) request of a thread-safe allocator, through the
 * vfunc: with the fills and the memory tools' bookkeeping. */
gpointer
nebula_bump_thread_allocate (NebulaBumpAllocator  *self,
                             gsize                 size,
                             gsize                 alignment,
                             GError              **error)
{
  BumpThread *thread = thread_of (self);
  gsize rounded = round_size (self, size);

  for (;;)
    {
      guint8 *limit = load_limit (thread);

      if (limit != NULL && slice_valid (self, thread))
        {
          guintptr start = ((guintptr) load_cursor (thread) + alignment - 1) & ~(guintptr) (alignment - 1);

          if (start <= (guintptr) limit && (guintptr) limit - start >= rounded)
            {
              thread->last = GSIZE_TO_POINTER (start);
              store_cursor (thread, (guint8 *) start +
                                    block_span (self, rounded, (guintptr) limit - start));
              nebula_bump_hand_out (self, thread->chunk, thread->last, size);
              return thread->last;
            }
        }

      if (!refill (self, thread, rounded, alignment, error))
        return NULL;
    }
}

/* The calling thread's newest block is @ptr, of @rounded bytes, and still
 * ends at its cursor: the room after it in its slice, else 0. */
static gsize
own_top_room (NebulaBumpAllocator *self,
              BumpThread          *thread,
              gpointer             ptr,
              gsize                rounded)
{
  guint8 *limit = load_limit (thread);
  gsize room;

  if (limit == NULL || !slice_valid (self, thread) || (guint8 *) ptr != thread->last)
    return 0;

  room = limit - (guint8 *) ptr;
  if (rounded > room || load_cursor (thread) != (guint8 *) ptr + block_span (self, rounded, room))
    return 0;

  return room;
}

/* The top-block free of a thread-safe allocator: the calling thread's
 * newest block moves its cursor back. A block of another thread is not
 * the caller's top: the caller then finds it owned and frees it without
 * effect. */
gboolean
nebula_bump_thread_free_top (NebulaBumpAllocator *self,
                             gpointer             ptr,
                             gsize                size)
{
  BumpThread *thread = thread_of (self);

  if (own_top_room (self, thread, ptr, round_size (self, size)) == 0)
    return FALSE;

  if (self->config.free_fill >= 0)
    memset (ptr, self->config.free_fill, size);
  NEBULA_MEMPOOL_FREE (thread->chunk->data, ptr, size);
  store_cursor (thread, ptr);
  thread->last = NULL;
  return TRUE;
}

/* The in-place resize of the calling thread's newest block, within its
 * slice. */
gboolean
nebula_bump_thread_resize_top (NebulaBumpAllocator *self,
                               gpointer             ptr,
                               gsize                old_size,
                               gsize                new_size)
{
  BumpThread *thread = thread_of (self);
  gsize new_rounded = round_size (self, new_size);
  gsize room = own_top_room (self, thread, ptr, round_size (self, old_size));

  if (room == 0 || new_rounded > room)
    return FALSE;

  NEBULA_MEMPOOL_RESIZE (thread->chunk->data, ptr, old_size, new_size);
  if (new_size > old_size && self->config.alloc_fill >= 0)
    memset ((guint8 *) ptr + old_size, self->config.alloc_fill, new_size - old_size);
  store_cursor (thread, (guint8 *) ptr + block_span (self, new_rounded, room));
  return TRUE;
}

/* Whether @ptr lies in the part of a thread's slice that was not handed
 * out. */
gboolean
nebula_bump_thread_in_tail (NebulaBumpAllocator *self,
                            gconstpointer        ptr)
{
  gboolean in_tail = FALSE;

  nebula_mutex_lock (&threads_lock);
  for (guint i = 0; self->threads != NULL && i < self->threads->len && !in_tail; i++)
    {
      BumpThread *thread = g_ptr_array_index (self->threads, i);

      in_tail = slice_valid (self, thread) && (const guint8 *) ptr >= load_cursor (thread) &&
                (const guint8 *) ptr < thread->limit;
    }
  nebula_mutex_unlock (&threads_lock);

  return in_tail;
}

/* Where the handed-out part that @ptr lies in ends: the cursor of the
 * slice that holds @ptr, else @end (the chunk's used part). */
const guint8 *
nebula_bump_thread_handed_out_end (NebulaBumpAllocator *self,
                                   gconstpointer        ptr,
                                   const guint8        *end)
{
  nebula_mutex_lock (&threads_lock);
  for (guint i = 0; self->threads != NULL && i < self->threads->len; i++)
    {
      BumpThread *thread = g_ptr_array_index (self->threads, i);

      if (slice_valid (self, thread) && (const guint8 *) ptr >= thread->base &&
          (const guint8 *) ptr < thread->limit)
        {
          end = load_cursor (thread);
          break;
        }
    }
  nebula_mutex_unlock (&threads_lock);

  return end;
}

/* The bytes the threads' slices hold but have not handed out: counted in
 * their chunks' counters, they are not in use. */
gsize
nebula_bump_thread_tails (NebulaBumpAllocator *self)
{
  gsize tails = 0;

  nebula_mutex_lock (&threads_lock);
  for (guint i = 0; self->threads != NULL && i < self->threads->len; i++)
    {
      BumpThread *thread = g_ptr_array_index (self->threads, i);

      if (slice_valid (self, thread))
        tails += thread->limit - load_cursor (thread);
    }
  nebula_mutex_unlock (&threads_lock);

  return tails;
}

/* Before a checkpoint or a restore: the calling thread's unused end goes
 * back, so that one thread alone sees the positions a single-threaded
 * allocator has. */
void
nebula_bump_thread_give_back (NebulaBumpAllocator *self)
{
  BumpThread *thread = thread_of (self);

  nebula_mutex_lock (&threads_lock);
  give_back_locked (self, thread);
  nebula_mutex_unlock (&threads_lock);
}

/* Drops the records of exited threads. Under threads_lock. */
static void
free_dead_locked (NebulaBumpAllocator *self)
{
  for (guint i = self->threads->len; i-- > 0;)
    {
      BumpThread *thread = g_ptr_array_index (self->threads, i);

      if (thread->dead)
        {
          g_ptr_array_remove_index_fast (self->threads, i);
          g_free (thread);
        }
    }
}

/* Every slice taken so far is void: a reset, a restore or a checkpoint
 * moved the position. Under the lock, so that a thread exiting meanwhile
 * gives its slice back before or not at all. The records' limits go too:
 * the inline step tests only the limit (a checkpoint may void a slice
 * while its owner allocates from it: the owner's block then counts as
 * before the checkpoint, as with the generation alone). */
void
nebula_bump_thread_invalidate (NebulaBumpAllocator *self)
{
  nebula_mutex_lock (&threads_lock);
  __atomic_fetch_add (&self->slice_generation, 1, __ATOMIC_RELEASE);
  free_dead_locked (self);
  for (guint i = 0; i < self->threads->len; i++)
    store_limit (g_ptr_array_index (self->threads, i), NULL);
  nebula_mutex_unlock (&threads_lock);
}

/* The wrappers' direct path (nebula-allocator-core-private.h), published
 * for a thread-safe allocator without fills and memory tools: the calling
 * thread's slice, with the statistics the exported path would count. A
 * request the slice cannot hold, or the first of the thread after it used
 * another allocator, takes the exported path: the vfunc finds the record
 * and takes a new slice (which may grow the allocator, charge a budget,
 * fail). The dispatch jumps to one of the thread_alloc_all_*() functions,
 * one call level fewer
 * than thread_direct_alloc(), which other callers may use. */
static gpointer
thread_direct_alloc (gpointer allocator,
                     gsize    size,
                     gsize    alignment)
{
  gpointer ptr;

  if (nebula_bump_thread_try_alloc (allocator, size, alignment, &ptr))
    return ptr;
  return NULL;
}

/* What the inline step declined: the first request of the thread, or the
 * first after it used another allocator, finds its record; a request its
 * slice cannot hold takes a new slice of the current chunk (which can
 * neither fail nor charge a budget), and tries again. The rest (a layout
 * the step refuses, a chunk to grow) takes the exported path. */
static G_NO_INLINE gpointer
thread_alloc_declined (gpointer   allocator,
                       gsize      size,
                       gsize      alignment,
                       GError   **error)
{
  NebulaBumpAllocator *self = allocator;
  BumpThread *thread = nebula_bump_thread_last (self);
  gpointer ptr;

  if (thread == NULL)
    {
      thread = thread_lookup (self);
      /* Still no pair: a thread beyond the last statistics slot, whose
       * requests the step never serves (it would count into no shard).
       * The exported path counts into the overflow shard; taking a slice
       * here would only waste the one before it. */
      if (nebula_bump_thread_last (self) != thread)
        return nebula_allocator_allocate_slow (self, size, alignment, error);
    }

  if (!_nebula_fast_layout_refused (size, alignment, self->direct_max_size) &&
      (nebula_bump_thread_try_alloc (self, size, alignment, &ptr) ||
       (take_current_slice (self, thread, round_size (self, size), alignment) &&
        nebula_bump_thread_try_alloc (self, size, alignment, &ptr))))
    return ptr;
  return nebula_allocator_allocate_slow (self, size, alignment, error);
}

/* The dispatch's jump targets, one per configuration of the statistics
 * and of min-alloc-size (decided at initialization, for good), so that
 * the step tests neither whether statistics are kept nor anything it does
 * not use, and rounds no size when min-alloc-size is 1 (the default);
 * everything else (a shard to look up included) takes
 * thread_alloc_declined(), a tail call, so that the step needs no
 * frame. */
G_ALWAYS_INLINE static inline gpointer
thread_alloc_all_inline (gpointer   allocator,
                         gsize      size,
                         gsize      alignment,
                         GError   **error,
                         gboolean   counted,
                         gboolean   unit)
{
  guintptr start;

  if (G_UNLIKELY (nebula_bump_thread_try_bump (allocator, size, alignment, counted, unit,
                                               &start) == NULL))
    return thread_alloc_declined (allocator, size, alignment, error);
  return (gpointer) start;
}

#define DEFINE_THREAD_ALLOC_ALL(name, counted, unit)                                     \
  static gpointer                                                                      \
  name (gpointer allocator, gsize size, gsize alignment, GError **error)               \
  {                                                                                    \
    return thread_alloc_all_inline (allocator, size, alignment, error, counted, unit); \
  }

DEFINE_THREAD_ALLOC_ALL (thread_alloc_all_counted, TRUE, FALSE)
DEFINE_THREAD_ALLOC_ALL (thread_alloc_all_counted_unit, TRUE, TRUE)
DEFINE_THREAD_ALLOC_ALL (thread_alloc_all_uncounted, FALSE, FALSE)
DEFINE_THREAD_ALLOC_ALL (thread_alloc_all_uncounted_unit, FALSE, TRUE)

static NebulaDirectResult
thread_direct_dealloc (gpointer   allocator,
                       gpointer   ptr,
                       gsize      size,
                       gsize      alignment,
                       GError   **error)
{
  NebulaBumpAllocator *self = allocator;
  BumpThread *thread = nebula_bump_thread_last (self);
  guint8 *cursor;

  if (G_UNLIKELY (!nebula_allocator_core_direct_layout_ok (size, alignment, self->direct_max_size,
                                                          NEBULA_MAX_FAST_SIZE)) ||
      thread == NULL || !slice_valid (self, thread))
    return NEBULA_DIRECT_DECLINED;

  /* A block the thread handed out from its slice: the newest moves the
   * cursor back, any other is freed without effect. The rest (another
   * thread's blocks, foreign pointers) takes the vfunc. */
  cursor = load_cursor (thread);
  if ((guint8 *) ptr < thread->base || (guint8 *) ptr >= cursor)
    return NEBULA_DIRECT_DECLINED;

  if ((guint8 *) ptr == thread->last && (guint8 *) ptr + round_size (self, size) == cursor)
    {
      store_cursor (thread, ptr);
      thread->last = NULL;
    }

  nebula_bump_thread_count (self, thread, 0, size);
  return NEBULA_DIRECT_DONE;
}

static gboolean
thread_dealloc_all (gpointer   allocator,
                    gpointer   ptr,
                    gsize      size,
                    gsize      alignment,
                    GError   **error)
{
  if (G_LIKELY (thread_direct_dealloc (allocator, ptr, size, alignment, error) ==
                NEBULA_DIRECT_DONE))
    return TRUE;
  return nebula_allocator_deallocate_slow (allocator, ptr, size, alignment, error);
}

/* Indexed by [counted][unit]. */
static const NebulaCoreDirect thread_directs[2][2] = {
  {
    { thread_direct_alloc, thread_direct_dealloc, thread_alloc_all_uncounted, thread_dealloc_all },
    { thread_direct_alloc, thread_direct_dealloc, thread_alloc_all_uncounted_unit,
      thread_dealloc_all },
  },
  {
    { thread_direct_alloc, thread_direct_dealloc, thread_alloc_all_counted, thread_dealloc_all },
    { thread_direct_alloc, thread_direct_dealloc, thread_alloc_all_counted_unit,
      thread_dealloc_all },
  },
};

/* The DEBUG preset checks the quiescence rule: every allocation of a
 * thread-safe allocator counts itself in @busy while it runs, and a reset
 * or restore sets NEBULA_BUMP_QUIESCING while it changes the chunks. An
 * allocation that meets a reset fails with an error that names the rule;
 * a reset that meets an allocation in progress logs a critical warning
 * and waits for it to finish. Either way neither touches memory the other
 * is changing. Both sides are one read-modify-write of the same word, so
 * one of them always sees the other. */
gboolean
nebula_bump_thread_enter (NebulaBumpAllocator  *self,
                          GError              **error)
{
  g_autofree char *what = NULL;
  NebulaErrorInfo info = { 0 };

  if (G_LIKELY (!(__atomic_fetch_add (&self->busy, 1, __ATOMIC_SEQ_CST) & NEBULA_BUMP_QUIESCING)))
    return TRUE;

  nebula_bump_thread_leave (self);
  what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  info.what = what;
  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_FAILED, &info,
                    "%s: allocated while another thread resets or restores it; a reset or "
                    "restore of a thread-safe bump allocator needs every other thread to be "
                    "done allocating (join the threads or make them wait first)", what);
  return FALSE;
}

void
nebula_bump_thread_leave (NebulaBumpAllocator *self)
{
  __atomic_fetch_sub (&self->busy, 1, __ATOMIC_SEQ_CST);
}

void
nebula_bump_thread_quiesce_begin (NebulaBumpAllocator *self,
                                  const char          *what)
{
  guint idle = 0;

  if (!self->check_quiescence)
    return;

  if (__atomic_compare_exchange_n (&self->busy, &idle, NEBULA_BUMP_QUIESCING, FALSE,
                                   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    return;

  {
    g_autofree char *name = nebula_allocator_describe (NEBULA_ALLOCATOR (self));

    g_critical ("%s: %s while another thread allocates; a reset or restore of a thread-safe "
                "bump allocator needs every other thread to be done allocating. Waiting for "
                "the allocation to finish.", name, what);
  }
  __atomic_store_n (&self->quiesce_waiting, 1, __ATOMIC_SEQ_CST);
  do
    {
      g_thread_yield ();
      idle = 0;
    }
  while (!__atomic_compare_exchange_n (&self->busy, &idle, NEBULA_BUMP_QUIESCING, FALSE,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  __atomic_store_n (&self->quiesce_waiting, 0, __ATOMIC_SEQ_CST);
}

void
nebula_bump_thread_quiesce_end (NebulaBumpAllocator *self)
{
  if (self->check_quiescence)
    __atomic_fetch_and (&self->busy, ~NEBULA_BUMP_QUIESCING, __ATOMIC_SEQ_CST);
}

/* At the end of a successful initialization of a thread-safe allocator. */
void
nebula_bump_thread_publish (NebulaBumpAllocator *self)
{
  nebula_stats_add_slot_release_notify (slot_released);
  self->threads = g_ptr_array_new ();
  self->check_quiescence = self->config.preset == NEBULA_PRESET_DEBUG;

  /* Fills, the memory tools' bookkeeping and the quiescence check are
   * the vfunc's: then direct_max_size stays 0, and the inline step
   * declines every request. */
  if (self->config.alloc_fill < 0 && self->config.free_fill < 0 && !self->tools_watching &&
      !self->check_quiescence)
    {
      self->direct_max_size = self->max_capacity > self->capacity
        ? MIN (self->large_threshold, NEBULA_MAX_FAST_SIZE)
        : NEBULA_MAX_FAST_SIZE;
      nebula_allocator_core_set_direct (self, &thread_directs[self->stats.enabled != 0]
                                                             [self->min_alloc_size == 1]);
    }
}

/* The allocator goes: its records are orphaned, their threads free them. */
void
nebula_bump_thread_finalize (NebulaBumpAllocator *self)
{
  if (self->threads == NULL)
    return;

  nebula_mutex_lock (&threads_lock);
  free_dead_locked (self);
  for (guint i = 0; i < self->threads->len; i++)
    {
      BumpThread *thread = g_ptr_array_index (self->threads, i);

      __atomic_store_n (&thread->bump, NULL, __ATOMIC_RELEASE);
    }
  g_clear_pointer (&self->threads, g_ptr_array_unref);
  nebula_mutex_unlock (&threads_lock);
}
