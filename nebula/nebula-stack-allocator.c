/* nebula-stack-allocator.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-script-private.h"
#include "nebula-allocator-trim-private.h"
#include "nebula-stack-allocator-private.h"

/**
 * NebulaStackAllocator:
 *
 * A region allocator that frees in last-in, first-out order.
 *
 * Every block sits on top of the one allocated before it.
 * [method@Allocator.deallocate] of the top block pops it; any other block of
 * the stack is refused with %NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER and nothing
 * changes, and a pointer from elsewhere with
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER. Many blocks go at once by
 * releasing to a marker ([method@StackAllocator.mark],
 * [method@StackAllocator.release_to_marker]) or with a frame:
 * `g_autoptr (NebulaStackFrame)` in C, `with stack.frame():` in Python.
 *
 * Each block carries a 24-byte header just below it (a check word, the
 * block beneath it and where the stack stood before it), so blocks are
 * aligned to at least 8 bytes. Headers live in memory the caller can
 * overwrite: they are validated before use, and a damaged one gives
 * %NEBULA_ALLOCATOR_ERROR_CORRUPTION instead of a crash. Outside the
 * %NEBULA_PRESET_DEBUG preset the check word of a low-end header is a
 * canary against overruns of the block below, and a damage that spares it
 * and leaves the header's pointers inside the chunk is not detected. Releasing a
 * frame reads none of its headers, except with the DEBUG preset and on a
 * double-ended stack (see [method@StackAllocator.release_to_marker]).
 *
 * [method@Allocator.reallocate] resizes the top block in place when there
 * is room (when there is not and the stack may grow, the block moves to a
 * new chunk, still on top). Any other block gives
 * %NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER: moving it would leave the old block
 * in the middle of the stack, where it could never be popped.
 *
 * The stack starts with one chunk of [property@StackAllocator:capacity]
 * bytes; with [property@StackAllocator:max-capacity] above the capacity it
 * continues in further chunks, each twice the previous, up to that total.
 *
 * With [property@StackAllocator:double-ended], a second stack grows down
 * from the other end of the same region ([method@StackAllocator.allocate_high],
 * [method@StackAllocator.deallocate_high], [method@StackAllocator.mark_high]);
 * a game keeps level data at one end and per-frame data at the other. When
 * the ends meet, allocation fails with %NEBULA_ALLOCATOR_ERROR_EXHAUSTED and
 * the fill level of both ends in the message. A double-ended stack does not
 * grow: both ends share one region.
 *
 * A stack belongs to one thread at a time: no lock or atomic instruction
 * is on its path. Blocks pushed by several threads onto one stack would
 * interleave, and a thread could pop its own only while no other thread
 * had pushed above it, so [property@StackAllocator:thread-safe] %TRUE is
 * refused with %NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG. Give each thread a
 * stack of its own (a #GPrivate holds one per thread), or share a
 * thread-safe #NebulaBumpAllocator or #NebulaPoolAllocator.
 */

enum {
  PROP_MAX_CAPACITY = NEBULA_CONFIG_N_PROPS,
  PROP_DOUBLE_ENDED,
  PROP_PARENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];
static guint64 next_allocator_id = 1;

static void allocator_iface_init (NebulaAllocatorInterface *iface);
static void initable_iface_init  (GInitableIface           *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NebulaStackAllocator, nebula_stack_allocator, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (NEBULA_TYPE_ALLOCATOR, allocator_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init))

/* The public header finds the fast fields right after the core. */
NEBULA_ASSERT_CORE_LAYOUT (NebulaStackAllocator);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, cursor, 0);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, limit, 1);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, last, 2);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, base, 3);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, bottom, 4);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, cookie, 5);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, max_fast_size, 6);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, stats, 7);
G_STATIC_ASSERT (sizeof (NebulaStackFast) == 8 * sizeof (gpointer));
NEBULA_ASSERT_FAST_FIELD (NebulaStackBlockHeader, check, 0);
NEBULA_ASSERT_FAST_FIELD (NebulaStackBlockHeader, prev, 1);
NEBULA_ASSERT_FAST_FIELD (NebulaStackBlockHeader, word, 2);
G_STATIC_ASSERT (sizeof (NebulaStackBlockHeader) == 3 * sizeof (gpointer));

G_NO_INLINE void
nebula_stack_allocator_set_corruption (NebulaStackAllocator  *self,
                                       gconstpointer          block,
                                       GError               **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_CORRUPTION, &info,
                    "%s: the header of the block at %p is damaged (the %u bytes below "
                    "the block were overwritten); nothing was changed",
                    what, block, (guint) HEADER_SIZE);
}

/* Marks [start, start + size) less [hole, hole + hole_size) writable
 * (else inaccessible) for the memory tools: at most two pieces. */
void
nebula_stack_allocator_mark_outside (guint8       *start,
                                     gsize         size,
                                     const guint8 *hole,
                                     gsize         hole_size,
                                     gboolean      writable)
{
  guint8 *end = start + size;
  guint8 *pieces[2][2] = {
    { start, MIN (end, (guint8 *) hole) },
    { MAX (start, (guint8 *) hole + hole_size), end },
  };

  for (guint i = 0; i < G_N_ELEMENTS (pieces); i++)
    {
      gsize length = pieces[i][1] > pieces[i][0] ? (gsize) (pieces[i][1] - pieces[i][0]) : 0;

      if (length == 0)
        continue;
      if (writable)
        NEBULA_MEM_WRITABLE (pieces[i][0], length);
      else
        NEBULA_MEM_NOACCESS (pieces[i][0], length);
    }
}

static inline void
push_block (NebulaStackAllocator *self,
            guint8               *block,
            gsize                 size)
{
  store_header (self, block, self->fast.last, (guintptr) self->fast.cursor, TRUE);
  self->fast.last = block;
  self->fast.cursor = block + size;
}

static gpointer
allocate_low (NebulaStackAllocator  *self,
              gsize                  size,
              gsize                  alignment,
              GError               **error)
{
  gsize mask = effective_alignment (alignment) - 1;

  for (;;)
    {
      guintptr start = ((guintptr) self->fast.cursor + HEADER_SIZE + mask) & ~(guintptr) mask;

      if (start <= (guintptr) self->fast.limit && (guintptr) self->fast.limit - start >= size)
        {
          guint8 *block = (guint8 *) start;

          NEBULA_MEM_OPEN (block - HEADER_SIZE, HEADER_SIZE);
          push_block (self, block, size);
          NEBULA_MEM_CLOSE (block - HEADER_SIZE, HEADER_SIZE);
          NEBULA_MEMPOOL_ALLOC (LOW_POOL (self->current), block, size);
          fill (self->config.alloc_fill, block, size);
          return block;
        }

      if (!nebula_stack_chunk_grow (self, size, alignment, error))
        return NULL;
    }
}

static G_NO_INLINE gpointer
allocate_slow (NebulaStackAllocator  *self,
               gsize                  size,
               gsize                  alignment,
               GError               **error)
{
  gpointer ptr = NULL;

  if (ensure_ready (self, error))
    ptr = allocate_low (self, size, alignment, error);

  return ptr;
}

static gpointer
nebula_stack_allocator_allocate (NebulaAllocator  *allocator,
                                 gsize             size,
                                 gsize             alignment,
                                 GError          **error)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  gsize mask = effective_alignment (alignment) - 1;
  guintptr start;

  /* `short_path` is FALSE before initialization, while blocks are
   * filled and while a memory tool watches, which must hear of every
   * block. Addresses stay below 2^63 and alignments are at most 2^63, so
   * the rounding cannot wrap. */
  if (G_LIKELY (self->short_path))
    {
      start = ((guintptr) self->fast.cursor + HEADER_SIZE + mask) & ~(guintptr) mask;
      if (G_LIKELY (start <= (guintptr) self->fast.limit && (guintptr) self->fast.limit - start >= size))
        {
          push_block (self, (guint8 *) start, size);
          return (gpointer) start;
        }
    }

  return allocate_slow (self, size, alignment, error);
}

static inline gboolean
in_high_end (NebulaStackAllocator *self,
             gconstpointer         ptr)
{
  return self->double_ended &&
         (const guint8 *) ptr >= self->fast.limit &&
         (const guint8 *) ptr < chunk_end (self->current);
}

gboolean
nebula_stack_allocator_owns_ptr (NebulaStackAllocator *self,
                                 gconstpointer         ptr)
{
  const guint8 *p = ptr;

  if (self->current == NULL)
    return FALSE;

  if (p >= self->current->data && p < self->fast.cursor)
    return TRUE;
  if (in_high_end (self, p))
    return TRUE;

  for (Chunk *chunk = self->current->prev; chunk != NULL; chunk = chunk->prev)
    if (p >= chunk->data && p < chunk->saved_cursor)
      return TRUE;

  return FALSE;
}

static gboolean
nebula_stack_allocator_owns (NebulaAllocator *allocator,
                             gconstpointer    ptr)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  gboolean owned = FALSE;

  if (ensure_ready (self, NULL))
    owned = nebula_stack_allocator_owns_ptr (self, ptr);

  return owned;
}

/* The span check for scripts (nebula-allocator-script-private.h). A stack keeps
 * no table of its blocks, so a span must lie in the used part of one
 * chunk, on one end; a free or resize then checks the top block and its
 * size itself, as it does for C. */
static gboolean
span_in_use (NebulaStackAllocator *self,
             guintptr              start,
             gsize                 size)
{
  if (self->current == NULL)
    return FALSE;

  if (nebula_span_within (start, size, self->current->data, self->fast.cursor))
    return TRUE;
  if (self->double_ended &&
      nebula_span_within (start, size, self->fast.limit, chunk_end (self->current)))
    return TRUE;

  for (Chunk *chunk = self->current->prev; chunk != NULL; chunk = chunk->prev)
    if (nebula_span_within (start, size, chunk->data, chunk->saved_cursor))
      return TRUE;

  return FALSE;
}

static NebulaSpanResult
stack_span (NebulaAllocator *allocator,
            guintptr         start,
            gsize            size,
            NebulaSpanKind   kind,
            gsize           *block_size)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  NebulaSpanResult result = NEBULA_SPAN_NOT_READY;

  if (ensure_ready (self, NULL))
    result = span_in_use (self, start, size) ? NEBULA_SPAN_OK : NEBULA_SPAN_FOREIGN;

  /* A free and a resize take only the top block of an end, after checking
   * that it is one, and say precisely what is wrong (OUT_OF_ORDER, a wrong
   * size, a single-ended stack). */
  if (kind != NEBULA_SPAN_INSIDE && result == NEBULA_SPAN_FOREIGN)
    return NEBULA_SPAN_DEFER;

  return result;
}

void
nebula_stack_allocator_set_foreign_pointer (NebulaStackAllocator  *self,
                                            gconstpointer          ptr,
                                            gsize                  size,
                                            const char            *why,
                                            GError               **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, &info,
                    "%s: %p (size %" G_GSIZE_FORMAT ") %s",
                    what, ptr, size, why);
}

static void
set_out_of_order (NebulaStackAllocator  *self,
                  gconstpointer          ptr,
                  gsize                  size,
                  const char            *operation,
                  GError               **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };
  gboolean high = in_high_end (self, ptr);
  gconstpointer top = high ? self->high_last : self->fast.last;

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER, &info,
                    "%s: cannot %s %p (size %" G_GSIZE_FORMAT "): it is not the top of the "
                    "%s end (the top block is %p); free in LIFO order or release to a marker",
                    what, operation, ptr, size, high ? "high" : "low", top);
}

void
nebula_stack_allocator_set_wrong_size (NebulaStackAllocator  *self,
                                       gconstpointer          ptr,
                                       gsize                  block_size,
                                       gsize                  size,
                                       GError               **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, &info,
                    "%s: the block at %p has %" G_GSIZE_FORMAT " bytes, not %" G_GSIZE_FORMAT,
                    what, ptr, block_size, size);
}

/* Refuses a pointer that is not the top of either end. */
void
nebula_stack_allocator_set_not_top (NebulaStackAllocator  *self,
                                    gconstpointer          ptr,
                                    gsize                  size,
                                    const char            *operation,
                                    GError               **error)
{
  if (ptr != NULL && nebula_stack_allocator_owns_ptr (self, ptr))
    set_out_of_order (self, ptr, size, operation, error);
  else
    nebula_stack_allocator_set_foreign_pointer (self, ptr, size,
                                                "was not allocated by this allocator", error);
}

static gboolean
pop_low (NebulaStackAllocator  *self,
         gsize                  size,
         GError               **error)
{
  EndState state = low_state (self);
  guint8 *block = self->fast.last;
  gsize block_size;

  if (!low_step (self, &state, &block_size, error))
    return FALSE;

  if (block_size != size)
    {
      nebula_stack_allocator_set_wrong_size (self, block, block_size, size, error);
      return FALSE;
    }

  if (G_LIKELY (state.chunk == self->current && self->config.free_fill < 0))
    {
      /* One block, freed by itself: a trim costs Valgrind a walk of the
       * pool. Its header and padding stayed poisoned. */
      NEBULA_MEMPOOL_FREE (LOW_POOL (self->current), block, size);
      self->fast.cursor = state.cursor;
      self->fast.last = state.last;
      if (G_UNLIKELY (state.cursor < self->fast.base))
        nebula_stack_marks_lower (self, state.cursor);
      return TRUE;
    }

  nebula_stack_chunk_set_low_state (self, &state);
  return TRUE;
}

static gboolean
nebula_stack_allocator_deallocate (NebulaAllocator  *allocator,
                                   gpointer          ptr,
                                   gsize             size,
                                   gsize             alignment,
                                   GError          **error)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  gboolean ok = FALSE;

  /* Initialized, no fill and no tool watching. */
  if (G_LIKELY (self->short_path) && ptr == self->fast.last && ptr != NULL)
    return pop_low (self, size, error);

  if (!ensure_ready (self, error))
    ;
  else if (ptr == self->fast.last && ptr != NULL)
    ok = pop_low (self, size, error);
  else if (ptr == self->high_last && ptr != NULL)
    ok = nebula_stack_high_pop (self, size, error);
  else
    nebula_stack_allocator_set_not_top (self, ptr, size, "free", error);

  return ok;
}

/* The top block of the low end does not fit where it is: move it to a new
 * chunk, where it is still the top. */
static gpointer
move_low_top (NebulaStackAllocator  *self,
              guint8                *ptr,
              guint8                *prev,
              guint8                *prev_end,
              gsize                  old_size,
              gsize                  new_size,
              gsize                  alignment,
              GError               **error)
{
  guint8 *old_cursor = self->fast.cursor;
  guint8 *old_last = self->fast.last;
  Chunk *old_chunk = self->current;
  gpointer new_ptr;

  /* Take the block off its chunk without touching its bytes. */
  self->fast.cursor = prev_end;
  self->fast.last = prev;

  if (!nebula_stack_chunk_grow (self, new_size, alignment, error))
    {
      self->fast.cursor = old_cursor;
      self->fast.last = old_last;
      return NULL;
    }

  new_ptr = allocate_low (self, new_size, alignment, error);
  g_assert (new_ptr != NULL);
  memcpy (new_ptr, ptr, MIN (old_size, new_size));
  fill (self->config.alloc_fill, (guint8 *) new_ptr + old_size,
        new_size > old_size ? new_size - old_size : 0);

  /* The chunk below keeps its state; what the block used there is free. */
  nebula_stack_chunk_give_back_low (self, old_chunk, prev_end, old_cursor);

  return new_ptr;
}

static gpointer
reallocate_low_top (NebulaStackAllocator  *self,
                    guint8                *ptr,
                    gsize                  old_size,
                    gsize                  new_size,
                    gsize                  alignment,
                    GError               **error)
{
  guint8 *prev, *prev_end;
  gsize size = self->fast.cursor - ptr;

  if (!read_low_header (self, self->current, ptr, self->fast.cursor, &prev, &prev_end, error))
    return NULL;
  if (size != old_size)
    {
      nebula_stack_allocator_set_wrong_size (self, ptr, size, old_size, error);
      return NULL;
    }

  /* Every path below changes the top block: markers above its start no
   * longer rewind (nebula-stack-marker.c). */
  nebula_stack_marks_lower (self, prev_end);

  if (((guintptr) ptr & (alignment - 1)) != 0 || new_size > (gsize) (self->fast.limit - ptr))
    {
      gsize mask = effective_alignment (alignment) - 1;
      guintptr start = ((guintptr) prev_end + HEADER_SIZE + mask) & ~(guintptr) mask;

      /* A stricter alignment may still fit in this chunk, one slot over. */
      if (start != (guintptr) ptr &&
          start <= (guintptr) self->fast.limit && (guintptr) self->fast.limit - start >= new_size)
        {
          move_open (ptr, old_size, (guint8 *) start, new_size);
          memmove ((gpointer) start, ptr, MIN (old_size, new_size));
          write_header (self, (guint8 *) start, prev, (guintptr) prev_end, TRUE);
          move_close (LOW_POOL (self->current), ptr, old_size, (guint8 *) start, new_size);
          self->fast.last = (guint8 *) start;
          self->fast.cursor = (guint8 *) start + new_size;
          if (new_size > old_size)
            fill (self->config.alloc_fill, (guint8 *) start + old_size, new_size - old_size);
          return (gpointer) start;
        }

      if (!can_grow (self))
        {
          nebula_stack_chunk_set_exhausted (self, new_size, alignment, FALSE, error);
          return NULL;
        }
      return move_low_top (self, ptr, prev, prev_end, old_size, new_size, alignment, error);
    }

  /* In place: the header does not change, only where the block ends. */
  if (new_size < old_size)
    fill (self->config.free_fill, ptr + new_size, old_size - new_size);
  NEBULA_MEMPOOL_RESIZE (LOW_POOL (self->current), ptr, old_size, new_size);
  if (new_size > old_size)
    fill (self->config.alloc_fill, ptr + old_size, new_size - old_size);

  self->fast.cursor = ptr + new_size;
  return ptr;
}

static gpointer
nebula_stack_allocator_reallocate (NebulaAllocator  *allocator,
                                   gpointer          ptr,
                                   gsize             old_size,
                                   gsize             new_size,
                                   gsize             alignment,
                                   GError          **error)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  gpointer new_ptr = NULL;

  if (!ensure_ready (self, error))
    ;
  else if (ptr == self->fast.last && ptr != NULL)
    new_ptr = reallocate_low_top (self, ptr, old_size, new_size, alignment, error);
  else if (ptr == self->high_last && ptr != NULL)
    new_ptr = nebula_stack_high_reallocate_top (self, ptr, old_size, new_size, alignment, error);
  else
    nebula_stack_allocator_set_not_top (self, ptr, old_size, "resize", error);

  return new_ptr;
}

static void
nebula_stack_allocator_reset (NebulaAllocator *allocator)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  Chunk *first;

  if (!ensure_ready (self, NULL))
    return;

  self->generation++;
  /* A child arena that its parent released holds no chunk. */
  if (self->current == NULL)
    return;

  /* Every chunk but the first goes; the largest of them stays spare. */
  first = self->current;
  while (first->prev != NULL)
    first = first->prev;
  nebula_stack_chunk_set_low_state (self, &(EndState) { first, NULL, first->data });
  nebula_stack_chunk_set_high_state (self, &(EndState) { first, NULL, chunk_end (first) });
  nebula_stack_marks_clear (self);
  self->used_before = 0;
}

static void
allocator_iface_init (NebulaAllocatorInterface *iface)
{
  iface->alloc = nebula_stack_allocator_allocate;
  iface->resize = nebula_stack_allocator_reallocate;
  iface->dealloc = nebula_stack_allocator_deallocate;
  iface->reset = nebula_stack_allocator_reset;
  iface->contains = nebula_stack_allocator_owns;
  iface->trim = nebula_allocator_core_trim;
}

void
nebula_stack_allocator_init_once (gpointer data)
{
  NebulaStackAllocator *self = data;
  NebulaAllocatorConfig *config = &self->config;

  nebula_allocator_config_validate (config, stack_label ());

  /* Refused rather than served under a mutex: threads pushing onto one
   * stack interleave their blocks, and a thread could pop its own only
   * while no other thread had pushed above it. */
  if (config->thread_safe)
    nebula_allocator_config_set_refused (config, stack_label (), "thread-safe",
                                         "Use one NebulaStackAllocator per thread (for "
                                         "example kept in a GPrivate), or a thread-safe "
                                         "NebulaBumpAllocator or NebulaPoolAllocator for "
                                         "memory that threads share.",
                                         "cannot be TRUE: a stack shared by threads has no "
                                         "sound last-in, first-out order (one thread's block "
                                         "lands above another's, which then cannot be popped)");

  /* Both ends share one region, which cannot grow: no preset growth. */
  if (!self->double_ended)
    self->max_capacity = nebula_allocator_config_production_limit (config, PROP_MAX_CAPACITY,
                                                                   self->capacity,
                                                                   self->max_capacity);

  if (self->capacity != 0 && self->capacity < HEADER_SIZE + MIN_ALIGNMENT)
    nebula_allocator_config_set_invalid (config, stack_label (), "capacity",
                                         "must be at least %u bytes (every block takes a "
                                         "%u-byte header), not %" G_GUINT64_FORMAT,
                                         (guint) (HEADER_SIZE + MIN_ALIGNMENT),
                                         (guint) HEADER_SIZE, self->capacity);
  nebula_allocator_config_check_capacity (config, stack_label (), self->capacity,
                                          self->max_capacity);

  if (self->double_ended && self->max_capacity > self->capacity)
    nebula_allocator_config_set_invalid (config, stack_label (), "double-ended",
                                         "cannot be combined with growth: both ends share one "
                                         "region and cannot meet across chunks, so "
                                         "'max-capacity' (%" G_GUINT64_FORMAT ") must be 0 or "
                                         "equal to the capacity (%" G_GUINT64_FORMAT ")",
                                         self->max_capacity, self->capacity);

  if (config->init.error != NULL)
    return;

  if (self->max_capacity == 0)
    self->max_capacity = self->capacity;

  nebula_stats_counters_init (&self->stats, config->track_stats, FALSE);

  if (!nebula_stack_chunk_start (self, &config->init.error))
    return;

  self->fast.stats = config->track_stats ? &self->stats.plain : NULL;
  /* The DEBUG preset walks every frame it releases, checking each header;
   * a double-ended stack does too (its statistics mix both ends). */
  self->frame_rewind = config->preset != NEBULA_PRESET_DEBUG && !self->double_ended;
  /* The inline paths: closed (max_fast_size 0) in every mode that needs
   * the exported one (fills, and memory tools watching, which must hear of
   * every block from the slow path), and counting into the plain counters.
   * The vfunc's short path is closed to the tools as well. */
  self->tools_watching = nebula_memory_tools_watching ();
  self->short_path = config->alloc_fill < 0 && !self->tools_watching;
  /* The DEBUG preset gives low-end headers the hash as their check word,
   * the others the canary that the inline push writes: its inline path
   * stays closed even without fills. */
  self->check_low = config->preset == NEBULA_PRESET_DEBUG;
  if (config->alloc_fill < 0 && config->free_fill < 0 && !self->tools_watching &&
      !self->check_low)
    self->fast.max_fast_size = NEBULA_MAX_FAST_SIZE;
}

static gboolean
nebula_stack_allocator_initable_init (GInitable     *initable,
                                      GCancellable  *cancellable,
                                      GError       **error)
{
  return ensure_ready (NEBULA_STACK_ALLOCATOR (initable), error);
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = nebula_stack_allocator_initable_init;
}

static gsize
bytes_used (NebulaStackAllocator *self)
{
  if (self->current == NULL)
    return 0;

  return self->used_before +
         (gsize) (self->fast.cursor - self->current->data) +
         (gsize) (chunk_end (self->current) - self->fast.limit);
}

static gsize
bytes_available (NebulaStackAllocator *self)
{
  gsize available;

  if (self->current == NULL)
    return 0;

  available = self->fast.limit - self->fast.cursor;
  if (can_grow (self))
    {
      available += self->max_capacity - MIN (self->reserved, self->max_capacity);
      if (self->spare != NULL)
        available += self->spare->size;
    }

  return available;
}

static void
nebula_stack_allocator_finalize (GObject *object)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) object;

  nebula_stack_chunk_release_all (self);
  g_clear_pointer (&self->marks, g_array_unref);
  g_clear_pointer (&self->child_link, nebula_child_link_free);
  nebula_allocator_config_clear (&self->config);

  G_OBJECT_CLASS (nebula_stack_allocator_parent_class)->finalize (object);
}

static void
nebula_stack_allocator_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  NebulaStackAllocator *self = NEBULA_STACK_ALLOCATOR (object);

  if (nebula_allocator_config_get_property (&self->config, prop_id, value))
    return;

  switch (prop_id)
    {
    case NEBULA_CONFIG_PROP_CAPACITY:
      g_value_set_uint64 (value, self->capacity);
      break;

    case NEBULA_CONFIG_PROP_BYTES_USED:
      g_value_set_uint64 (value, bytes_used (self));
      break;

    case NEBULA_CONFIG_PROP_BYTES_AVAILABLE:
      g_value_set_uint64 (value, bytes_available (self));
      break;

    case PROP_MAX_CAPACITY:
      g_value_set_uint64 (value, self->max_capacity);
      break;

    case PROP_DOUBLE_ENDED:
      g_value_set_boolean (value, self->double_ended);
      break;

    case PROP_PARENT:
      g_value_take_object (value, nebula_child_link_dup_parent (self->child_link));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* A child arena whose parent resets or goes gives back every chunk: a
 * reset, then the first chunk and the spare too. */
static void
release_as_child (NebulaAllocator *child)
{
  NebulaStackAllocator *self = NEBULA_STACK_ALLOCATOR (child);

  nebula_allocator_reset (child);
  nebula_stack_chunk_release_all (self);
}

static void
nebula_stack_allocator_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  NebulaStackAllocator *self = NEBULA_STACK_ALLOCATOR (object);

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

    case PROP_DOUBLE_ENDED:
      self->double_ended = g_value_get_boolean (value);
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
nebula_stack_allocator_class_init (NebulaStackAllocatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  nebula_allocator_core_class_init (object_class, NEBULA_ALLOCATOR_KIND_STACK);
  object_class->finalize = nebula_stack_allocator_finalize;
  object_class->get_property = nebula_stack_allocator_get_property;
  object_class->set_property = nebula_stack_allocator_set_property;


  /**
   * NebulaStackAllocator:capacity:
   *
   * The size of the first chunk in bytes, headers included (24 bytes per
   * block on 64-bit systems). Must be large enough for one header and its
   * alignment: at least 32 bytes on 64-bit systems. 64 KiB by default.
   */
  /**
   * NebulaStackAllocator:name:
   *
   * A name used in error messages, reports and statistics.
   */
  /**
   * NebulaStackAllocator:thread-safe:
   *
   * Must stay %FALSE: a stack shared by threads has no sound last-in,
   * first-out order, so %TRUE makes construction fail with
   * %NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG and a suggestion. Use one stack
   * per thread (for example in a #GPrivate), or a thread-safe
   * #NebulaBumpAllocator or #NebulaPoolAllocator. The allocation path has
   * no lock and no atomic instruction.
   */
  /**
   * NebulaStackAllocator:track-stats:
   *
   * Whether to keep statistics. Off in the PERFORMANCE preset.
   */
  /**
   * NebulaStackAllocator:alloc-fill:
   *
   * A byte value (0..255) written over every new block, or -1 for none.
   * 0xAA in the DEBUG preset.
   */
  /**
   * NebulaStackAllocator:free-fill:
   *
   * A byte value (0..255) written over memory when it is popped or
   * released, or -1 for none. 0xDD in the DEBUG preset.
   */
  /**
   * NebulaStackAllocator:preset:
   *
   * The #NebulaPreset whose defaults apply to the properties not given
   * explicitly: PERFORMANCE turns [property@StackAllocator:track-stats]
   * off, DEBUG fills, PRODUCTION lets a single-ended stack grow to eight
   * times [property@StackAllocator:capacity] (a double-ended stack never
   * grows).
   */
  /**
   * NebulaStackAllocator:budget:
   *
   * A #NebulaMemoryBudget charged for every chunk before the stack takes it
   * from the system, or %NULL for none. The charge is the chunk's size,
   * block headers included. The first chunk is charged when the stack
   * initializes, so a budget too small for it makes construction fail with
   * %NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED; each later chunk when the stack
   * grows into it, where a refusal fails that allocation or reallocation
   * with the same error and changes nothing (what fits the current chunk
   * still succeeds). A chunk's charge is released when the chunk is freed:
   * when a pop, a release to a marker or a reset empties it and the stack
   * does not keep it as its one spare chunk (the largest emptied one, still
   * charged), and at finalization, which releases everything.
   */
  nebula_allocator_config_install_properties (object_class, properties, FALSE,
                                              NEBULA_CAPACITY_CONSTRUCT, DEFAULT_CAPACITY);
  nebula_allocator_set_report_func (G_TYPE_FROM_CLASS (klass), nebula_stack_chunk_report);
  nebula_allocator_set_span_func (G_TYPE_FROM_CLASS (klass), stack_span);

  /**
   * NebulaStackAllocator:max-capacity:
   *
   * The most bytes all chunks together may hold. 0 (the default) or the
   * capacity itself means no growth; a larger value lets the stack continue
   * in new chunks. Eight times the capacity in the PRODUCTION preset
   * (unless the stack is double-ended).
   */
  properties[PROP_MAX_CAPACITY] =
    g_param_spec_uint64 ("max-capacity", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaStackAllocator:double-ended:
   *
   * Whether a second stack grows down from the other end of the region
   * (nebula_stack_allocator_allocate_high()). Cannot be combined with
   * growth: the two ends must meet in one region, so
   * #NebulaStackAllocator:max-capacity must be 0 or the capacity.
   */
  properties[PROP_DOUBLE_ENDED] =
    g_param_spec_boolean ("double-ended", NULL, NULL,
                          FALSE,
                          NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaStackAllocator:parent:
   *
   * Makes this stack a child arena of another allocator of any kind: its
   * chunks (the first one included) are blocks of the parent instead of
   * memory from the system, so the parent's capacity, budget and
   * statistics count them. When the parent is reset or disposed, or ends
   * a bump scope or checkpoint (or stack frame) that a chunk of the stack
   * was taken in, the stack is released first: its own cleanups and
   * children run, then it is reset and gives back every chunk, the first
   * one and the spare included. Its blocks from before are then foreign
   * to it (%NEBULA_ALLOCATOR_ERROR_INVALID_POINTER), its markers stale
   * (%NEBULA_ALLOCATOR_ERROR_STALE_MARKER). The stack may be reset on its
   * own (it keeps its first chunk), and keeps working after a release:
   * its next allocation takes a new first chunk. The parent is held
   * weakly: once it is finalized, an allocation that needs a chunk fails
   * with %NEBULA_ALLOCATOR_ERROR_FAILED naming it. The report of each
   * shows the tree ("parent", "children").
   *
   * Since: 0.1
   */
  properties[PROP_PARENT] = nebula_child_param_spec ();

  for (guint i = PROP_MAX_CAPACITY; i < N_PROPS; i++)
    g_object_class_install_property (object_class, i, properties[i]);
}

static void
nebula_stack_allocator_init (NebulaStackAllocator *self)
{
  nebula_allocator_core_init (self, NEBULA_ALLOCATOR_KIND_STACK, &self->stats, &self->config, FALSE);
  self->capacity = DEFAULT_CAPACITY;
  self->fast.cookie = (guintptr) g_random_int () * 0x9E3779B97F4A7C15u + (guintptr) g_random_int ();
  self->id = __atomic_fetch_add (&next_allocator_id, 1, __ATOMIC_RELAXED);
}

/**
 * nebula_stack_allocator_new:
 * @capacity: the size of the region, in bytes
 * @error: return location for a #GError
 *
 * Creates a single-threaded, single-ended stack of @capacity bytes that
 * does not grow. Use g_initable_new() for the other properties.
 *
 * Returns: (transfer full): a new #NebulaStackAllocator, or %NULL with
 *   @error set (%NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG for a @capacity of 0)
 */
NebulaStackAllocator *
nebula_stack_allocator_new (gsize    capacity,
                            GError **error)
{
  return g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, error,
                         "capacity", (guint64) capacity,
                         NULL);
}
