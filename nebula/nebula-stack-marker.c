/* nebula-stack-marker.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-stack-allocator-private.h"
#include "nebula-cleanup-private.h"

/**
 * NebulaStackMarker:
 *
 * The recorded top of one end of a #NebulaStackAllocator, from
 * nebula_stack_allocator_mark() or nebula_stack_allocator_mark_high(), to
 * release to with nebula_stack_allocator_release_to_marker(). It knows its
 * allocator, the allocator's reset generation, the chunk, the position and
 * the top block, and which end it belongs to, so that a marker that no
 * longer describes the stack is refused instead of trusted.
 */
struct _NebulaStackMarker
{
  guint64  allocator_id;
  guint64  generation;
  guint    chunk_index;
  gboolean high;
  gsize    position;      /* offset of the end's cursor in its chunk */
  gsize    last;          /* offset of the end's top block, or NO_BLOCK */
  guint64  cleanup_mark;  /* cleanups registered after it run at release */
  /* A marker the release may rewind to without walking (a MarkEntry holds
   * its position; 0 for none), and what the statistics said, so that the
   * rewind counts what it frees as the callers counted it. */
  guint64  serial;
  guint64  live_blocks;
  guint64  balance;
  guint64  zeroings;
};

struct _NebulaStackFrame
{
  NebulaStackAllocator *stack;
  NebulaStackMarker    *marker;
};

G_DEFINE_BOXED_TYPE (NebulaStackMarker, nebula_stack_marker,
                     nebula_stack_marker_copy, nebula_stack_marker_free)

/* Frames that rewind. Releasing a low-end marker needs no walk when the
 * low end has not been below the marker's position since it was taken:
 * then every block below the position is the one that was there, the
 * marked top block included, and the release sets the cursor back and
 * counts the difference of the statistics. So the stack keeps the
 * positions of its markers (one entry per position, lowest first), and
 * everything that lowers the low end (a pop, a resize of the top block,
 * a release, a reset) drops the entries above where it ends:
 * nebula_stack_marks_lower(). A marker whose entry is gone (or was made
 * again, with a newer serial) is left to the walk, which decides as it
 * always did: stale, or valid again when the stack grew back to the very
 * same offsets. Dropping an entry is therefore always safe; keeping one
 * that should go is not, which is why fast.base is the newest entry's
 * position in the current chunk: an inline pop that would leave the
 * cursor below it goes to the exported pop, which drops it. */
typedef struct
{
  guint    chunk_index;
  gsize    offset;
  guint64  serial;        /* the marker that made the entry */
} MarkEntry;

static inline gboolean
position_above (guint chunk_index_a, gsize offset_a,
                guint chunk_index_b, gsize offset_b)
{
  return chunk_index_a > chunk_index_b ||
         (chunk_index_a == chunk_index_b && offset_a > offset_b);
}

/* The newest entry's position in the current chunk, or its start. */
static void
update_base (NebulaStackAllocator *self)
{
  guint8 *base = self->current->data;

  if (self->marks != NULL && self->marks->len > 0)
    {
      const MarkEntry *top = &g_array_index (self->marks, MarkEntry, self->marks->len - 1);

      if (top->chunk_index == self->current->index)
        base += top->offset;
    }
  self->fast.base = base;
}

/* The low end went down to @floor, a position in the current chunk (or
 * is about to, or its top block is about to change above @floor): the
 * entries above it go. */
void
nebula_stack_marks_lower (NebulaStackAllocator *self,
                          const guint8         *floor)
{
  guint index, n;
  gsize offset;

  if (self->current == NULL)
    {
      nebula_stack_marks_clear (self);
      return;
    }

  index = self->current->index;
  offset = floor - self->current->data;
  n = self->marks != NULL ? self->marks->len : 0;
  while (n > 0)
    {
      const MarkEntry *entry = &g_array_index (self->marks, MarkEntry, n - 1);

      if (!position_above (entry->chunk_index, entry->offset, index, offset))
        break;
      n--;
    }
  if (self->marks != NULL)
    g_array_set_size (self->marks, n);
  update_base (self);
}

/* A reset, or a release of every chunk: no entry holds. */
void
nebula_stack_marks_clear (NebulaStackAllocator *self)
{
  if (self->marks != NULL)
    g_array_set_size (self->marks, 0);
  self->fast.base = self->current != NULL ? self->current->data : NULL;
}

/* Gives @marker, just taken of the low end at the current position, an
 * entry (or the one already there). */
static void
add_entry (NebulaStackAllocator *self,
           NebulaStackMarker    *marker)
{
  MarkEntry entry = { marker->chunk_index, marker->position, 0 };
  const MarkEntry *top;

  if (self->marks == NULL)
    self->marks = g_array_new (FALSE, FALSE, sizeof (MarkEntry));

  marker->serial = ++self->mark_serial;
  top = self->marks->len > 0
    ? &g_array_index (self->marks, MarkEntry, self->marks->len - 1) : NULL;
  if (top != NULL && top->chunk_index == entry.chunk_index && top->offset == entry.offset)
    return;

  /* Every entry lies at or below the position. */
  g_assert (top == NULL ||
            position_above (entry.chunk_index, entry.offset, top->chunk_index, top->offset));
  entry.serial = marker->serial;
  g_array_append_val (self->marks, entry);
  update_base (self);
}

static void
take_stats (NebulaStackAllocator *self,
            NebulaStackMarker    *marker)
{
  const NebulaStatsPlain *plain = &self->stats.plain;

  marker->live_blocks = plain->allocations - plain->deallocations;
  marker->balance = plain->total_bytes_allocated - plain->freed_less_base;
  marker->zeroings = self->stats.zeroings;
}

static NebulaStackMarker *
mark (NebulaStackAllocator *self,
      gboolean              high)
{
  NebulaStackMarker *marker = g_new0 (NebulaStackMarker, 1);
  EndState state;

  marker->allocator_id = self->id;
  marker->high = high;
  marker->cleanup_mark = nebula_cleanup_mark (self);

  if (ensure_ready (self, NULL))
    {
      state = high ? high_state (self) : low_state (self);
      marker->generation = self->generation;
      if (state.chunk != NULL)
        {
          marker->chunk_index = state.chunk->index;
          marker->position = state.cursor - state.chunk->data;
          marker->last = state.last != NULL ? (gsize) (state.last - state.chunk->data) : NO_BLOCK;
          if (!high && self->frame_rewind)
            {
              add_entry (self, marker);
              take_stats (self, marker);
            }
        }
      else
        {
          /* A child arena that its parent released: the empty stack its
           * first chunk will hold. */
          marker->position = high ? self->capacity : 0;
          marker->last = NO_BLOCK;
        }
    }
  else
    {
      /* An unusable allocator gives a marker that release refuses. */
      marker->allocator_id = 0;
    }

  return marker;
}

/**
 * nebula_stack_allocator_mark:
 * @self: a #NebulaStackAllocator
 *
 * Records the top of the (low end of the) stack, to release to with
 * nebula_stack_allocator_release_to_marker(). The marker stays valid while
 * the blocks below it are live: releasing below it, or a reset, makes it
 * stale (unless the stack grows back to exactly the recorded offsets: a
 * marker records positions, not blocks, so releasing to it then releases
 * to that same state).
 *
 * Returns: (transfer full): a new marker
 */
NebulaStackMarker *
nebula_stack_allocator_mark (NebulaStackAllocator *self)
{
  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), NULL);

  return mark (self, FALSE);
}

/**
 * nebula_stack_allocator_mark_high:
 * @self: a #NebulaStackAllocator
 *
 * Like nebula_stack_allocator_mark(), for the high end of a double-ended
 * stack. On a single-ended stack the high end is always empty, and
 * releasing to the marker does nothing.
 *
 * Returns: (transfer full): a new marker
 */
NebulaStackMarker *
nebula_stack_allocator_mark_high (NebulaStackAllocator *self)
{
  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), NULL);

  return mark (self, TRUE);
}

static void
set_stale (NebulaStackAllocator  *self,
           GError               **error,
           const char           *format,
           ...) G_GNUC_PRINTF (3, 4);

static void
set_stale (NebulaStackAllocator  *self,
           GError               **error,
           const char           *format,
           ...)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  g_autofree char *why = NULL;
  NebulaErrorInfo info = { .what = what };
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER, &info,
                    "%s: cannot release to the marker: %s", what, why);
}

static inline gsize
state_offset (const EndState *state,
              const guint8   *ptr)
{
  return ptr != NULL ? (gsize) (ptr - state->chunk->data) : NO_BLOCK;
}

static inline gboolean
state_is_marker (const EndState          *state,
                 const NebulaStackMarker *marker)
{
  return state->chunk->index == marker->chunk_index &&
         state_offset (state, state->cursor) == marker->position &&
         state_offset (state, state->last) == marker->last;
}

/* Whether @state lies below @marker (has fewer bytes on its end). */
static inline gboolean
state_below (const EndState          *state,
             const NebulaStackMarker *marker)
{
  gsize position = state->cursor - state->chunk->data;

  if (marker->high)
    return position > marker->position;

  return state->chunk->index < marker->chunk_index ||
         (state->chunk->index == marker->chunk_index && position < marker->position);
}

/* The walk of a frame's release: the low end's blocks above @marker in
 * the chunk @state is in, each header checked as low_step() does, in a
 * loop that keeps the chunk's bounds and the marker's offsets in
 * registers and reads the headers directly unless a memory tool watches
 * (which poisons them). It stops at the marker, at the bottom of the
 * chunk, or where the walk would pass below the marker, and leaves those
 * cases to the general walk; only a damaged header fails here. */
static gboolean
low_run (NebulaStackAllocator     *self,
         EndState                 *state,
         const NebulaStackMarker  *marker,
         guint64                  *n_blocks,
         guint64                  *n_bytes,
         GError                  **error)
{
  const guint8 *data = state->chunk->data;
  gboolean bare = !self->tools_watching;
  guintptr stop, floor;
  guint8 *last = state->last, *cursor = state->cursor;
  guint64 blocks = 0, bytes = 0;
  gboolean ok = TRUE;

  if (state->chunk->index != marker->chunk_index)
    return TRUE;

  stop = marker->last != NO_BLOCK ? (guintptr) data + marker->last : 0;
  floor = (guintptr) data + marker->position;
  while (last != NULL && (guintptr) last > stop && (guintptr) cursor > floor)
    {
      BlockHeader copy = bare ? *(const BlockHeader *) (gconstpointer) (last - HEADER_SIZE)
                              : load_header (last);

      if (G_UNLIKELY (!low_header_ok (self, data, last, cursor, &copy)))
        {
          nebula_stack_allocator_set_corruption (self, last, error);
          ok = FALSE;
          break;
        }
      blocks++;
      bytes += cursor - last;
      last = copy.prev;
      cursor = (guint8 *) copy.word;
    }

  state->last = last;
  state->cursor = cursor;
  /* As low_step() after the step that emptied the chunk. */
  if (blocks > 0)
    low_hop (state);
  *n_blocks += blocks;
  *n_bytes += bytes;
  return ok;
}

static void
record_release (NebulaStackAllocator *self,
                guint64               n_blocks,
                guint64               n_bytes)
{
  /* Every block counts as the bytes its header holds; the counters count
   * a block of size 0 as its one byte on the way in too. */
  nebula_stats_counters_record_release (&self->stats, n_blocks, n_bytes);
}

/* Whether releasing to @marker may rewind without a walk: a marker of
 * the low end in the current chunk whose entry still stands (made by it
 * or by an older marker at the same position), and statistics that were
 * not zeroed since. */
static gboolean
rewind_holds (NebulaStackAllocator    *self,
              const NebulaStackMarker *marker)
{
  const Chunk *chunk = self->current;

  if (marker->serial == 0 || !self->frame_rewind || chunk->index != marker->chunk_index ||
      marker->position > (gsize) (self->fast.cursor - chunk->data) ||
      marker->zeroings != self->stats.zeroings)
    return FALSE;

  for (guint n = self->marks->len; n > 0; n--)
    {
      const MarkEntry *entry = &g_array_index (self->marks, MarkEntry, n - 1);

      if (entry->chunk_index == marker->chunk_index && entry->offset == marker->position)
        return entry->serial <= marker->serial;
      if (!position_above (entry->chunk_index, entry->offset,
                           marker->chunk_index, marker->position))
        break;
    }

  return FALSE;
}

/* The release without a walk: the cursor goes back to the marker, and the
 * statistics count what was allocated since and is still live, as the
 * walk would have counted it block by block. No header is read: the
 * DEBUG preset walks instead, which is where a damaged header in the
 * frame is found (docs/safety.md). */
static void
rewind_to (NebulaStackAllocator    *self,
           const NebulaStackMarker *marker)
{
  Chunk *chunk = self->current;
  const NebulaStatsPlain *plain = &self->stats.plain;
  EndState state = {
    chunk,
    marker->last != NO_BLOCK ? chunk->data + marker->last : NULL,
    chunk->data + marker->position,
  };

  nebula_stack_chunk_set_low_state (self, &state);
  record_release (self, plain->allocations - plain->deallocations - marker->live_blocks,
                  plain->total_bytes_allocated - plain->freed_less_base - marker->balance);
}

static gboolean
release_blocks (NebulaStackAllocator     *self,
                const NebulaStackMarker  *marker,
                GError                  **error)
{
  EndState state;
  guint64 n_blocks = 0, n_bytes = 0;

  if (marker->allocator_id != self->id)
    {
      set_stale (self, error, "it belongs to another allocator");
      return FALSE;
    }
  if (marker->generation != self->generation)
    {
      set_stale (self, error, "it was taken before a reset (generation %" G_GUINT64_FORMAT
                 ", now %" G_GUINT64_FORMAT ")", marker->generation, self->generation);
      return FALSE;
    }

  /* A single-ended stack has nothing at its high end, a released child
   * (with a marker from after the release) nothing at all. */
  if ((marker->high && !self->double_ended) || self->current == NULL)
    return TRUE;

  if (!marker->high && rewind_holds (self, marker))
    {
      rewind_to (self, marker);
      return TRUE;
    }

  state = marker->high ? high_state (self) : low_state (self);
  if (state_below (&state, marker))
    {
      set_stale (self, error, "it lies above the top of the %s end (marker at chunk %u offset %"
                 G_GSIZE_FORMAT ", top at chunk %u offset %" G_GSIZE_FORMAT ")",
                 marker->high ? "high" : "low", marker->chunk_index, marker->position,
                 state.chunk->index, (gsize) (state.cursor - state.chunk->data));
      return FALSE;
    }

  /* Walk down to the marker, checking every header on the way, before
   * anything changes: a frame's own blocks first, then whatever the
   * general walk has to decide. */
  if (!marker->high && !low_run (self, &state, marker, &n_blocks, &n_bytes, error))
    return FALSE;
  while (!state_is_marker (&state, marker))
    {
      gsize size;

      if (state.last == NULL || state_below (&state, marker))
        {
          set_stale (self, error, "the stack was released below it and has grown again "
                     "since (marker at chunk %u offset %" G_GSIZE_FORMAT ")",
                     marker->chunk_index, marker->position);
          return FALSE;
        }

      if (marker->high
          ? !high_step (self, &state, &size, error)
          : !low_step (self, &state, &size, error))
        return FALSE;

      n_blocks++;
      n_bytes += size;
    }

  if (marker->high)
    nebula_stack_chunk_set_high_state (self, &state);
  else
    nebula_stack_chunk_set_low_state (self, &state);

  record_release (self, n_blocks, n_bytes);
  return TRUE;
}

/**
 * nebula_stack_allocator_release_to_marker:
 * @self: a #NebulaStackAllocator
 * @marker: a marker of @self
 * @error: return location for a #GError
 *
 * Frees every block above @marker on its end of the stack, at once (each
 * counts as a deallocation in the statistics). A marker of another
 * allocator, from before a reset, above the current top, or in space that
 * was released and allocated again gives
 * %NEBULA_ALLOCATOR_ERROR_STALE_MARKER and changes nothing. Releasing to
 * the same marker twice is allowed.
 *
 * With the DEBUG preset, and on a double-ended stack, the release walks
 * the block headers down to @marker and checks each one first: a damaged
 * header (a write past the end of the block below it) gives
 * %NEBULA_ALLOCATOR_ERROR_CORRUPTION and changes nothing. Otherwise a
 * marker of the low end that the stack has not gone below since it was
 * taken rewinds in constant time, without reading the headers above it;
 * the other markers take the walk.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_stack_allocator_release_to_marker (NebulaStackAllocator     *self,
                                          const NebulaStackMarker  *marker,
                                          GError                  **error)
{
  gboolean ok = FALSE;
  gboolean current;

  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), FALSE);
  g_return_val_if_fail (marker != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Cleanups registered since the marker run first (they may use the
   * stack), before the memory they may read is released. */
  current = marker->allocator_id == self->id && marker->generation == self->generation;
  if (current)
    nebula_cleanup_run_after (self, marker->cleanup_mark);

  if (ensure_ready (self, error))
    ok = release_blocks (self, marker, error);

  return ok;
}

/**
 * nebula_stack_marker_copy:
 * @marker: a #NebulaStackMarker
 *
 * Copies @marker.
 *
 * Returns: (transfer full): a copy
 */
NebulaStackMarker *
nebula_stack_marker_copy (const NebulaStackMarker *marker)
{
  g_return_val_if_fail (marker != NULL, NULL);

  return g_memdup2 (marker, sizeof *marker);
}

/**
 * nebula_stack_marker_free:
 * @marker: a #NebulaStackMarker
 *
 * Frees @marker.
 */
void
nebula_stack_marker_free (NebulaStackMarker *marker)
{
  g_free (marker);
}

/**
 * nebula_stack_marker_get_position:
 * @marker: a #NebulaStackMarker
 *
 * The offset of the marked top in its chunk, for diagnostics. For the
 * high end it is the offset of the high end's lowest byte.
 *
 * Returns: the offset in bytes
 */
guint64
nebula_stack_marker_get_position (const NebulaStackMarker *marker)
{
  g_return_val_if_fail (marker != NULL, 0);

  return marker->position;
}

/**
 * nebula_stack_marker_is_high:
 * @marker: a #NebulaStackMarker
 *
 * Whether @marker belongs to the high end (nebula_stack_allocator_mark_high()).
 *
 * Returns: %TRUE for a marker of the high end
 */
gboolean
nebula_stack_marker_is_high (const NebulaStackMarker *marker)
{
  g_return_val_if_fail (marker != NULL, FALSE);

  return marker->high;
}

static NebulaStackFrame *
frame_new (NebulaStackAllocator *stack,
           gboolean              high)
{
  NebulaStackFrame *frame = g_new0 (NebulaStackFrame, 1);

  frame->stack = g_object_ref (stack);
  frame->marker = mark (stack, high);

  return frame;
}

/**
 * nebula_stack_frame_new: (skip)
 * @stack: a #NebulaStackAllocator
 *
 * Opens a frame on the low end of @stack: nebula_stack_frame_free()
 * releases everything allocated on that end since. Use it with
 * g_autoptr().
 *
 * Returns: (transfer full): the frame
 */
NebulaStackFrame *
nebula_stack_frame_new (NebulaStackAllocator *stack)
{
  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (stack), NULL);

  return frame_new (stack, FALSE);
}

/**
 * nebula_stack_frame_new_high: (skip)
 * @stack: a #NebulaStackAllocator
 *
 * Like nebula_stack_frame_new(), for the high end of a double-ended stack:
 * per-frame data that goes at the end of each frame.
 *
 * Returns: (transfer full): the frame
 */
NebulaStackFrame *
nebula_stack_frame_new_high (NebulaStackAllocator *stack)
{
  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (stack), NULL);

  return frame_new (stack, TRUE);
}

/**
 * nebula_stack_frame_free: (skip)
 * @frame: a #NebulaStackFrame
 *
 * Releases everything allocated on the frame's end of the stack since the
 * frame opened. A frame that can no longer be released (its stack was reset
 * or released below it meanwhile) is closed with a warning.
 */
void
nebula_stack_frame_free (NebulaStackFrame *frame)
{
  g_autoptr(GError) error = NULL;

  if (frame == NULL)
    return;

  if (!nebula_stack_allocator_release_to_marker (frame->stack, frame->marker, &error))
    g_warning ("Closing a stack frame: %s", error->message);

  nebula_stack_marker_free (frame->marker);
  g_object_unref (frame->stack);
  g_free (frame);
}
