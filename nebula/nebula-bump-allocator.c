/* nebula-bump-allocator.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-trim-private.h"
#include "nebula-bump-allocator-private.h"
#include "nebula-child-private.h"
#include "nebula-enums.h"

/**
 * NebulaBumpAllocator:
 *
 * A region allocator that hands out memory by moving a cursor forward.
 *
 * Allocation is a pointer bump; freeing happens all at once, with
 * [method@Allocator.reset] or by rewinding to a checkpoint
 * ([method@BumpAllocator.checkpoint], [method@BumpAllocator.restore], or a
 * scope: `g_autoptr (NebulaBumpScope)` in C, `with bump.scope():` in
 * Python). [method@Allocator.deallocate] gives back the most recent
 * allocation only; for any other block of the allocator it succeeds without
 * effect. A pointer from elsewhere is refused with
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER.
 *
 * The allocator starts with one chunk of [property@BumpAllocator:capacity]
 * bytes. With [property@BumpAllocator:max-capacity] above the capacity it
 * grows by further chunks, each [property@BumpAllocator:growth-factor] times
 * the previous, until the chunks total max-capacity; requests above
 * [property@BumpAllocator:large-allocation-threshold] get a dedicated chunk
 * so they do not inflate the next regular one.
 *
 * With [property@BumpAllocator:thread-safe], many threads may allocate at
 * once: each thread takes a slice of the current chunk (one atomic
 * operation per slice, growth under a lock) and bumps its own cursor in it
 * without atomic instructions. [method@Allocator.deallocate] and
 * [method@Allocator.reallocate] then work in place on the calling thread's
 * own most recent block only. A reset or a restore needs every other
 * thread to be done allocating (it voids every thread's slice; the next
 * allocation of each thread takes a new one); a checkpoint does not. See
 * the thread-safety section of docs/allocators.md.
 */

#define DEFAULT_CAPACITY      (64 * 1024)

static GParamSpec *properties[N_PROPS];
static guint64 next_allocator_id = 1;

static void allocator_iface_init (NebulaAllocatorInterface *iface);
static void initable_iface_init  (GInitableIface           *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NebulaBumpAllocator, nebula_bump_allocator, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (NEBULA_TYPE_ALLOCATOR, allocator_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init))

/* The public header finds the fast fields right after the core. */
NEBULA_ASSERT_CORE_LAYOUT (NebulaBumpAllocator);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, cursor, 0);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, limit, 1);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, last, 2);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, base, 3);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, min_alloc_mask, 4);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, max_fast_size, 5);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, stats, 6);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, counted_max, 7);
G_STATIC_ASSERT (sizeof (NebulaBumpFast) == 8 * sizeof (gpointer));
/* _NEBULA_BUMP_STATS(): the plain counters follow the fast fields. */
G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaBumpAllocator, stats) ==
                 G_STRUCT_OFFSET (NebulaBumpAllocator, fast) + sizeof (NebulaBumpFast));
G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaStatsCounters, plain) == 0);

static inline gboolean
is_large (NebulaBumpAllocator *self,
          gsize                size)
{
  return size > self->large_threshold && self->max_capacity > self->capacity;
}

/* Thread-safe mode: large requests get their dedicated chunk under the
 * grow lock, the rest the calling thread's slice (nebula-bump-thread.c). */
static gpointer
allocate_concurrent (NebulaBumpAllocator  *self,
                     gsize                 size,
                     gsize                 alignment,
                     GError              **error)
{
  gpointer ptr;

  /* The DEBUG check: a budget's signal handler that resets this
   * allocator runs after the allocation has left, not inside it (where
   * the reset would wait for it forever). */
  if (G_UNLIKELY (self->check_quiescence))
    {
      nebula_memory_budget_hold_signals ();
      if (!nebula_bump_thread_enter (self, error))
        {
          nebula_memory_budget_emit_held_signals ();
          return NULL;
        }
    }

  if (G_LIKELY (!is_large (self, size)))
    ptr = nebula_bump_thread_allocate (self, size, alignment, error);
  else
    {
      /* A charge to the budget may emit: not under our lock. */
      nebula_memory_budget_hold_signals ();
      nebula_mutex_lock (&self->grow_lock);
      ptr = nebula_bump_chunk_allocate_dedicated (self, size, alignment, error);
      nebula_mutex_unlock (&self->grow_lock);
      nebula_memory_budget_emit_held_signals ();
    }

  if (G_UNLIKELY (self->check_quiescence))
    {
      nebula_bump_thread_leave (self);
      nebula_memory_budget_emit_held_signals ();
    }
  return ptr;
}

static G_NO_INLINE gpointer
allocate_slow (NebulaBumpAllocator  *self,
               gsize                 size,
               gsize                 alignment,
               GError              **error)
{
  gsize rounded;

  if (!nebula_bump_ensure_ready (self, error))
    return NULL;

  if (self->config.thread_safe)
    return allocate_concurrent (self, size, alignment, error);

  if (is_large (self, size))
    return nebula_bump_chunk_allocate_dedicated (self, size, alignment, error);

  rounded = round_size (self, size);
  for (;;)
    {
      guintptr start = ((guintptr) self->fast.cursor + alignment - 1) & ~(guintptr) (alignment - 1);

      if (start <= (guintptr) self->fast.limit && (guintptr) self->fast.limit - start >= rounded)
        {
          self->fast.last = GSIZE_TO_POINTER (start);
          self->fast.cursor = (guint8 *) start +
                              block_span (self, rounded, (guintptr) self->fast.limit - start);
          nebula_bump_hand_out (self, self->current, self->fast.last, size);
          return self->fast.last;
        }

      if (!nebula_bump_chunk_grow (self, rounded, alignment, error))
        return NULL;
    }
}

/* The common case never gets here: nebula_allocator_allocate() and
 * nebula_bump_allocator_alloc() serve it inline (nebula-bump-allocator.h).
 * What remains (zeroed and reallocated blocks, full chunks, the slow
 * modes) takes the general path. */
static gpointer
nebula_bump_allocator_allocate (NebulaAllocator  *allocator,
                                gsize             size,
                                gsize             alignment,
                                GError          **error)
{
  return allocate_slow ((NebulaBumpAllocator *) allocator, size, alignment, error);
}

/* Called with the grow lock held in thread-safe mode: other threads may be
 * adding chunks. */
static gboolean
owns_locked (NebulaBumpAllocator *self,
             gconstpointer        ptr)
{
  gboolean atomic = self->config.thread_safe;
  Chunk *chunk;

  if (nebula_bump_chunk_find (self->large, ptr) != NULL)
    return TRUE;

  chunk = nebula_bump_chunk_find (self->current, ptr);
  if (chunk == NULL)
    return FALSE;

  /* Only the part that was handed out: not what the threads' slices
   * still hold. */
  if (chunk == self->current && !atomic)
    return (const guint8 *) ptr < self->fast.cursor;

  return (const guint8 *) ptr < chunk->data + nebula_bump_chunk_used (chunk, atomic) &&
         !(atomic && nebula_bump_thread_in_tail (self, ptr));
}

static gboolean
nebula_bump_allocator_owns (NebulaAllocator *allocator,
                            gconstpointer    ptr)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;
  gboolean owns;

  if (!nebula_bump_ensure_ready (self, NULL))
    return FALSE;

  if (!self->config.thread_safe)
    return owns_locked (self, ptr);

  nebula_mutex_lock (&self->grow_lock);
  owns = owns_locked (self, ptr);
  nebula_mutex_unlock (&self->grow_lock);

  return owns;
}

static void
set_foreign_pointer (NebulaBumpAllocator  *self,
                     gconstpointer         ptr,
                     gsize                 size,
                     GError              **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, &info,
                    "%s: %p (size %" G_GSIZE_FORMAT ") was not allocated by this allocator",
                    what, ptr, size);
}

/* The chunk, regular or dedicated, that holds @ptr; for the memory tools,
 * which name a block by its chunk. */
static Chunk *
find_any_chunk (NebulaBumpAllocator *self,
                gconstpointer        ptr)
{
  Chunk *chunk = nebula_bump_chunk_find (self->large, ptr);

  return chunk != NULL ? chunk : nebula_bump_chunk_find (self->current, ptr);
}

/* A block the cursor does not get back still dies for the memory tools:
 * touching it afterwards is reported. Its bytes are made inaccessible
 * rather than the block freed from Valgrind's pool: freeing a block twice,
 * or by a pointer into it, is allowed here (no effect), and a second
 * VALGRIND_MEMPOOL_FREE would be reported as an invalid free. The next
 * rewind over it trims it from the pool. */
static void
forget_block (NebulaBumpAllocator *self,
              gpointer             ptr,
              gsize                size)
{
  Chunk *chunk;

  if (G_LIKELY (!self->tools_watching))
    return;

  if (self->config.thread_safe)
    nebula_mutex_lock (&self->grow_lock);
  chunk = find_any_chunk (self, ptr);
  if (chunk != NULL)
    NEBULA_MEM_NOACCESS (ptr, MIN (size, (gsize) (chunk->data + chunk->size - (guint8 *) ptr)));
  if (self->config.thread_safe)
    nebula_mutex_unlock (&self->grow_lock);
}

static gboolean
nebula_bump_allocator_deallocate (NebulaAllocator  *allocator,
                                  gpointer          ptr,
                                  gsize             size,
                                  gsize             alignment,
                                  GError          **error)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;
  gboolean freed;
  gsize rounded;

  if (!nebula_bump_ensure_ready (self, error))
    return FALSE;

  rounded = round_size (self, size);

  /* The most recent allocation can be given back. */
  if (!self->config.thread_safe && ptr == self->fast.last &&
      self->fast.cursor == (guint8 *) ptr + block_span (self, rounded,
                                                        self->fast.limit - (guint8 *) ptr))
    {
      if (self->config.free_fill >= 0)
        memset (ptr, self->config.free_fill, size);
      NEBULA_MEMPOOL_FREE (self->current->data, ptr, size);
      self->fast.cursor = ptr;
      self->fast.last = NULL;
      return TRUE;
    }

  if (self->config.thread_safe && nebula_bump_thread_free_top (self, ptr, size))
    return TRUE;

  if (!nebula_bump_allocator_owns (allocator, ptr))
    {
      set_foreign_pointer (self, ptr, size, error);
      return FALSE;
    }

  /* self->large is read under the lock: other threads may be adding
   * dedicated chunks. */
  if (self->config.thread_safe)
    nebula_mutex_lock (&self->grow_lock);
  freed = self->large != NULL && nebula_bump_chunk_free_dedicated (self, ptr);
  if (self->config.thread_safe)
    nebula_mutex_unlock (&self->grow_lock);
  if (freed)
    return TRUE;

  forget_block (self, ptr, size);
  return TRUE;
}

/* Whether @old_size can be the size of the block at @ptr (which the
 * allocator owns): it must not run past what was handed out, the used
 * part of a regular chunk or the block of a dedicated one. Else the copy
 * of a reallocation would read past the chunk. */
static gboolean
check_old_size (NebulaBumpAllocator  *self,
                gpointer              ptr,
                gsize                 old_size,
                GError              **error)
{
  gboolean atomic = self->config.thread_safe;
  const guint8 *p = ptr;
  const guint8 *start = NULL, *end = NULL;
  gboolean dedicated = FALSE;
  Chunk *chunk;

  if (atomic)
    nebula_mutex_lock (&self->grow_lock);
  chunk = nebula_bump_chunk_find (self->large, ptr);
  if (chunk != NULL)
    {
      dedicated = TRUE;
      start = chunk->block;
      end = chunk->block + chunk->block_size;
    }
  else if ((chunk = nebula_bump_chunk_find (self->current, ptr)) != NULL)
    {
      start = chunk->data;
      end = chunk->data + nebula_bump_chunk_position (self, chunk);
      if (atomic)
        end = nebula_bump_thread_handed_out_end (self, ptr, end);
    }
  if (atomic)
    nebula_mutex_unlock (&self->grow_lock);

  if (chunk != NULL && p >= start && p <= end && old_size <= (gsize) (end - p))
    return TRUE;

  {
    g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
    NebulaErrorInfo info = { .requested = old_size, .what = what };

    if (dedicated && p < start)
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER,
                        &info, "%s: %p lies in the padding before the dedicated block at %p, "
                        "not in a block", what, ptr, start);
    else if (dedicated)
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT,
                        &info, "%s: %p cannot hold %" G_GSIZE_FORMAT " bytes: it lies %"
                        G_GSIZE_FORMAT " bytes into a dedicated block of %" G_GSIZE_FORMAT
                        " bytes, so at most %" G_GSIZE_FORMAT " follow it; reallocate with the "
                        "size the block was allocated with", what, ptr, old_size,
                        (gsize) (p - start), (gsize) (end - start), (gsize) (end - p));
    else
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT,
                        &info, "%s: %p cannot hold %" G_GSIZE_FORMAT " bytes: only %"
                        G_GSIZE_FORMAT " bytes were handed out from there to the end of its "
                        "chunk's used part; reallocate with the size the block was allocated "
                        "with", what, ptr, old_size,
                        p <= end ? (gsize) (end - p) : (gsize) 0);
    return FALSE;
  }
}

static gpointer
nebula_bump_allocator_reallocate (NebulaAllocator  *allocator,
                                  gpointer          ptr,
                                  gsize             old_size,
                                  gsize             new_size,
                                  gsize             alignment,
                                  GError          **error)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;
  gsize old_rounded, new_rounded;
  gpointer new_ptr;

  if (!nebula_bump_ensure_ready (self, error))
    return NULL;

  if (!nebula_bump_allocator_owns (allocator, ptr))
    {
      set_foreign_pointer (self, ptr, old_size, error);
      return NULL;
    }

  if (!check_old_size (self, ptr, old_size, error))
    return NULL;

  old_rounded = round_size (self, old_size);
  new_rounded = round_size (self, new_size);

  if (self->config.thread_safe && nebula_bump_thread_resize_top (self, ptr, old_size, new_size))
    return ptr;

  /* The top allocation grows or shrinks in place when the chunk has room. */
  if (!self->config.thread_safe && ptr == self->fast.last)
    {
      gsize room = self->fast.limit - (guint8 *) ptr;

      if (self->fast.cursor == (guint8 *) ptr + block_span (self, old_rounded, room) &&
          new_rounded <= room)
        {
          NEBULA_MEMPOOL_RESIZE (self->current->data, ptr, old_size, new_size);
          if (new_size > old_size && self->config.alloc_fill >= 0)
            memset ((guint8 *) ptr + old_size, self->config.alloc_fill, new_size - old_size);
          self->fast.cursor = (guint8 *) ptr + block_span (self, new_rounded, room);
          return ptr;
        }
    }

  if (new_size <= old_size)
    {
      Chunk *chunk;

      if (self->config.thread_safe)
        nebula_mutex_lock (&self->grow_lock);

      /* A dedicated block shrunk in place has its new size: a later old
       * size is checked against it. */
      chunk = self->large != NULL ? nebula_bump_chunk_find (self->large, ptr) : NULL;
      if (chunk != NULL && (guint8 *) ptr == chunk->block)
        chunk->block_size = new_size;

      /* Shrunk in place: the tail is dead. */
      if (G_UNLIKELY (self->tools_watching))
        {
          chunk = find_any_chunk (self, ptr);
          if (chunk != NULL)
            NEBULA_MEMPOOL_RESIZE (chunk->data, ptr, old_size, new_size);
        }

      if (self->config.thread_safe)
        nebula_mutex_unlock (&self->grow_lock);
      return ptr;
    }

  new_ptr = nebula_bump_allocator_allocate (allocator, new_size, alignment, error);
  if (new_ptr == NULL)
    return NULL;

  memcpy (new_ptr, ptr, old_size);
  forget_block (self, ptr, old_size);
  return new_ptr;
}

static void
allocator_iface_init (NebulaAllocatorInterface *iface)
{
  iface->alloc = nebula_bump_allocator_allocate;
  iface->resize = nebula_bump_allocator_reallocate;
  iface->dealloc = nebula_bump_allocator_deallocate;
  iface->reset = nebula_bump_chunk_reset;
  iface->contains = nebula_bump_allocator_owns;
  iface->trim = nebula_allocator_core_trim;
}

static gboolean
nebula_bump_allocator_initable_init (GInitable     *initable,
                                     GCancellable  *cancellable,
                                     GError       **error)
{
  return nebula_bump_ensure_ready (NEBULA_BUMP_ALLOCATOR (initable), error);
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = nebula_bump_allocator_initable_init;
}

static void
nebula_bump_allocator_finalize (GObject *object)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) object;

  nebula_bump_thread_finalize (self);
  nebula_bump_chunk_list_free (self, self->current);
  nebula_bump_chunk_list_free (self, self->spare);
  nebula_bump_chunk_list_free (self, self->large);
  g_clear_pointer (&self->child_link, nebula_child_link_free);
  g_array_unref (self->rewinds);
  g_mutex_clear (&self->grow_lock);
  nebula_stats_counters_clear (&self->stats);
  nebula_allocator_config_clear (&self->config);

  G_OBJECT_CLASS (nebula_bump_allocator_parent_class)->finalize (object);
}

static void
nebula_bump_allocator_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  NebulaBumpAllocator *self = NEBULA_BUMP_ALLOCATOR (object);

  if (nebula_allocator_config_get_property (&self->config, prop_id, value))
    return;

  switch (prop_id)
    {
    case NEBULA_CONFIG_PROP_CAPACITY:
      g_value_set_uint64 (value, self->capacity);
      break;

    case NEBULA_CONFIG_PROP_BYTES_USED:
      g_value_set_uint64 (value, nebula_bump_report_bytes_used (self));
      break;

    case NEBULA_CONFIG_PROP_BYTES_AVAILABLE:
      g_value_set_uint64 (value, nebula_bump_report_bytes_available (self));
      break;

    case PROP_MAX_CAPACITY:
      g_value_set_uint64 (value, self->max_capacity);
      break;

    case PROP_GROWTH_FACTOR:
      g_value_set_double (value, self->growth_factor);
      break;

    case PROP_LARGE_ALLOCATION_THRESHOLD:
      g_value_set_uint64 (value, self->large_threshold);
      break;

    case PROP_RESET_POLICY:
      g_value_set_enum (value, self->reset_policy);
      break;

    case PROP_MIN_ALLOC_SIZE:
      g_value_set_uint64 (value, self->min_alloc_size);
      break;

    case PROP_PARENT:
      g_value_take_object (value, nebula_child_link_dup_parent (self->child_link));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* A child arena whose parent resets or goes gives back every chunk: a
 * reset that keeps none. */
static void
release_as_child (NebulaAllocator *child)
{
  NebulaBumpAllocator *self = NEBULA_BUMP_ALLOCATOR (child);
  NebulaResetPolicy policy = self->reset_policy;

  self->reset_policy = NEBULA_RESET_POLICY_FREE_ALL;
  nebula_allocator_reset (child);
  self->reset_policy = policy;
}

static void
nebula_bump_allocator_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  NebulaBumpAllocator *self = NEBULA_BUMP_ALLOCATOR (object);

  if (!nebula_allocator_config_begin_set (&self->config, object, pspec) ||
      nebula_allocator_config_set_property (&self->config, prop_id, value))
    return;

  switch (prop_id)
    {
    case NEBULA_CONFIG_PROP_CAPACITY:
      self->capacity = g_value_get_uint64 (value);
      break;

    case PROP_MAX_CAPACITY:
      self->max_capacity = g_value_get_uint64 (value);
      break;

    case PROP_GROWTH_FACTOR:
      self->growth_factor = g_value_get_double (value);
      break;

    case PROP_LARGE_ALLOCATION_THRESHOLD:
      self->large_threshold = g_value_get_uint64 (value);
      break;

    case PROP_RESET_POLICY:
      self->reset_policy = g_value_get_enum (value);
      break;

    case PROP_MIN_ALLOC_SIZE:
      self->min_alloc_size = g_value_get_uint64 (value);
      break;

    case PROP_PARENT:
      self->child_link = nebula_child_link_new (NEBULA_ALLOCATOR (self), g_value_get_object (value),
                                                release_as_child);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_bump_allocator_class_init (NebulaBumpAllocatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  nebula_allocator_core_class_init (object_class, NEBULA_ALLOCATOR_KIND_BUMP);
  object_class->finalize = nebula_bump_allocator_finalize;
  object_class->get_property = nebula_bump_allocator_get_property;
  object_class->set_property = nebula_bump_allocator_set_property;

  /**
   * NebulaBumpAllocator:capacity:
   *
   * The size of the first chunk, in bytes. Must be greater than 0.
   */
  /**
   * NebulaBumpAllocator:name:
   *
   * A name used in error messages, reports and statistics.
   */
  /**
   * NebulaBumpAllocator:thread-safe:
   *
   * Whether several threads may allocate at once: each thread bumps in a
   * slice of a chunk of its own, taken with one atomic operation. Without
   * it the allocation path uses no atomic instruction and no thread-local
   * lookup.
   */
  /**
   * NebulaBumpAllocator:track-stats:
   *
   * Whether to keep statistics. Off in the PERFORMANCE preset.
   */
  /**
   * NebulaBumpAllocator:alloc-fill:
   *
   * A byte value (0..255) written over every new allocation, or -1 for none.
   * 0xAA in the DEBUG preset.
   */
  /**
   * NebulaBumpAllocator:free-fill:
   *
   * A byte value (0..255) written over memory when it is given back, or -1
   * for none. 0xDD in the DEBUG preset.
   */
  /**
   * NebulaBumpAllocator:preset:
   *
   * The #NebulaPreset whose defaults apply to the properties not given
   * explicitly.
   */
  /**
   * NebulaBumpAllocator:budget:
   *
   * A #NebulaMemoryBudget charged for every chunk (the first one, growth,
   * and the dedicated chunks of large requests) and released when a chunk
   * is freed by a reset, a restore, a deallocation or finalization; %NULL
   * for none. A refused charge fails the request (or the construction) with
   * %NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED.
   */
  nebula_allocator_config_install_properties (object_class, properties, FALSE,
                                              NEBULA_CAPACITY_CONSTRUCT, DEFAULT_CAPACITY);
  nebula_allocator_set_report_func (G_TYPE_FROM_CLASS (klass), nebula_bump_report);
  nebula_allocator_set_span_func (G_TYPE_FROM_CLASS (klass), nebula_bump_report_span);

  /**
   * NebulaBumpAllocator:max-capacity:
   *
   * The most bytes all chunks together may hold. 0 (the default) or the
   * capacity itself means no growth; a larger value lets the allocator add
   * chunks. Eight times the capacity in the PRODUCTION preset.
   */
  properties[PROP_MAX_CAPACITY] =
    g_param_spec_uint64 ("max-capacity", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaBumpAllocator:growth-factor:
   *
   * How much larger each new chunk is than the previous one, from 1.0 to
   * 16.0.
   */
  properties[PROP_GROWTH_FACTOR] =
    g_param_spec_double ("growth-factor", NULL, NULL,
                         -G_MAXDOUBLE, G_MAXDOUBLE, 2.0,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaBumpAllocator:large-allocation-threshold:
   *
   * When the allocator can grow, requests larger than this many bytes get a
   * dedicated chunk (freed by deallocate, reset, or a restore to before it).
   * 0 means half the capacity.
   */
  properties[PROP_LARGE_ALLOCATION_THRESHOLD] =
    g_param_spec_uint64 ("large-allocation-threshold", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaBumpAllocator:reset-policy:
   *
   * What reset does with the chunks. KEEP_ALL in the PERFORMANCE preset.
   */
  properties[PROP_RESET_POLICY] =
    g_param_spec_enum ("reset-policy", NULL, NULL,
                       NEBULA_TYPE_RESET_POLICY,
                       NEBULA_RESET_POLICY_KEEP_LARGEST,
                       NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaBumpAllocator:min-alloc-size:
   *
   * Every allocation is rounded up to a multiple of this many bytes, a power
   * of two from 1 to 4096.
   */
  properties[PROP_MIN_ALLOC_SIZE] =
    g_param_spec_uint64 ("min-alloc-size", NULL, NULL,
                         0, G_MAXUINT64, 1,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaBumpAllocator:parent:
   *
   * Makes this allocator a child arena of another allocator of any kind:
   * its chunks (the first one included) are blocks of the parent instead
   * of memory from the system, so the parent's capacity, budget and
   * statistics count them. When the parent is reset or disposed, or ends
   * a bump scope or checkpoint (or stack frame) that a chunk of the child
   * was taken in, the child is released first: its own cleanups and
   * children run, then every chunk goes back, whatever its reset-policy.
   * The child may be reset on its own, and keeps working after a release
   * (its next allocation takes a new chunk). The parent is held weakly:
   * once it is finalized, an allocation that needs a chunk fails with
   * %NEBULA_ALLOCATOR_ERROR_FAILED naming it. The report of each shows
   * the tree ("parent", "children").
   *
   * Since: 0.1
   */
  properties[PROP_PARENT] = nebula_child_param_spec ();

  for (guint i = PROP_MAX_CAPACITY; i < N_PROPS; i++)
    g_object_class_install_property (object_class, i, properties[i]);
}

static void
nebula_bump_allocator_init (NebulaBumpAllocator *self)
{
  nebula_allocator_core_init (self, NEBULA_ALLOCATOR_KIND_BUMP, &self->stats, &self->config, FALSE);
  g_mutex_init (&self->grow_lock);
  self->rewinds = g_array_new (FALSE, FALSE, sizeof (Rewind));
  self->capacity = DEFAULT_CAPACITY;
  self->growth_factor = 2.0;
  self->min_alloc_size = 1;
  self->reset_policy = NEBULA_RESET_POLICY_KEEP_LARGEST;
  self->id = __atomic_fetch_add (&next_allocator_id, 1, __ATOMIC_RELAXED);
}

/**
 * nebula_bump_allocator_new:
 * @capacity: the size of the first chunk, in bytes
 * @error: return location for a #GError
 *
 * Creates a single-threaded bump allocator of @capacity bytes that does not
 * grow. Use g_initable_new() for the other properties.
 *
 * Returns: (transfer full): a new #NebulaBumpAllocator, or %NULL with @error
 *   set (%NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG for a @capacity of 0)
 */
NebulaBumpAllocator *
nebula_bump_allocator_new (gsize    capacity,
                           GError **error)
{
  return g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, error,
                         "capacity", (guint64) capacity,
                         NULL);
}
