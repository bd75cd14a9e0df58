/* fuzz-stack.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * NebulaStackAllocator against the reference model of fuzz-common.c, in
 * its LIFO mode (only the top block of an end may be freed or resized,
 * others are OUT_OF_ORDER and nothing changes), plus the stack's own
 * operations: the high end of a double-ended stack, markers of either end
 * (stale ones included: from before a reset, above the top, from another
 * allocator) and frames.
 *
 * A marker is modelled by the top block of its end when it was taken. A
 * release walks down from the current top and must stop exactly where that
 * block (or one at the same place, ending at the same address) is the top,
 * releasing the blocks above it; if the walk finds no such state the
 * marker is stale. A block that only sits where the marked one sat may lie
 * in a different chunk of a growing stack (a chunk freed and taken again),
 * which the model cannot see: for the low end such a match may also be
 * refused.
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"

#define MAX_MARKERS 16
#define MAX_FRAMES  4
#define HEADER_SIZE 24    /* sizeof (NebulaStackBlockHeader) */

typedef struct
{
  NebulaStackMarker *marker;
  NebulaStackFrame  *frame;       /* or a frame, which owns its marker */
  guint64            generation;
  guint              end;
  guint64            top_seq;
  guint8            *top_ptr;     /* NULL: the end was empty */
  gsize              top_size;
} ModelMarker;

typedef struct
{
  GArray               *markers;     /* ModelMarker */
  GArray               *frames;      /* ModelMarker, innermost last */
  guint64               generation;
  gsize                 capacity;
  gsize                 max_capacity;
  gboolean              double_ended;
  NebulaStackAllocator *other;
} StackData;

enum {
  EXTRA_MARK,
  EXTRA_RELEASE,
  EXTRA_RELEASE_FOREIGN,
  EXTRA_ALLOCATE_HIGH,
  EXTRA_DEALLOCATE_HIGH,
  EXTRA_FRAME_OPEN,
  EXTRA_FRAME_CLOSE,
  N_EXTRA_OPS
};

/* Frames report a failed release with a warning: count them. */
static guint frame_warnings;

static GLogWriterOutput
count_frame_warnings_cb (GLogLevelFlags   log_level,
                         const GLogField *fields,
                         gsize            n_fields,
                         gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 &&
        g_str_has_prefix (fields[i].value, "Closing a stack frame: "))
      {
        frame_warnings++;
        return G_LOG_WRITER_HANDLED;
      }

  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

static void
model_marker_clear (gpointer data)
{
  ModelMarker *marker = data;

  g_clear_pointer (&marker->marker, nebula_stack_marker_free);
}

static NebulaAllocator *
stack_create (FuzzState *state)
{
  static const NebulaPreset presets[] = {
    NEBULA_PRESET_DEFAULT, NEBULA_PRESET_DEBUG, NEBULA_PRESET_PERFORMANCE, NEBULA_PRESET_PRODUCTION,
  };
  static gboolean writer_set;
  g_autoptr(GError) error = NULL;
  FuzzInput *input = state->input;
  guint8 size_byte = fuzz_byte (input);
  gsize capacity = (fuzz_byte (input) | (gsize) size_byte << 8) % 70000;
  guint8 growth = fuzz_byte (input);
  guint8 flags = fuzz_byte (input);
  /* Refused (a stack has no LIFO order across threads): asked now and
   * then, so that most inputs reach a working stack. */
  gboolean thread_safe = (flags & 1) != 0 && growth >= 0xF0;
  NebulaPreset preset = presets[(flags >> 1) & 3];
  gboolean double_ended = (flags & 8) != 0;
  gboolean explicit_max = (flags & 16) == 0;
  gsize max_capacity = growth == 0 ? 0 : capacity * (1 + growth % 8);
  guint64 max_capacity_read;
  gboolean track_stats;
  GObject *object;
  StackData *stack;

  if (!writer_set)
    {
      g_log_set_writer_func (count_frame_warnings_cb, NULL, NULL);
      writer_set = TRUE;
    }

  /* A few bytes in any of the small capacities, mostly usable ones. */
  if (size_byte >= 0x80)
    capacity = 24 + capacity % 40;

  object = g_object_new (NEBULA_TYPE_STACK_ALLOCATOR,
                         "capacity", (guint64) capacity,
                         "thread-safe", thread_safe,
                         "preset", preset,
                         "double-ended", double_ended,
                         "name", "fuzz",
                         NULL);
  /* Explicit fills sometimes, on top of the preset's. */
  if ((flags & 32) != 0)
    g_object_set (object, "alloc-fill", 0x5A, NULL);
  if ((flags & 64) != 0)
    g_object_set (object, "free-fill", 0xC3, NULL);
  if (explicit_max)
    g_object_set (object, "max-capacity", (guint64) max_capacity, NULL);

  if (!g_initable_init (G_INITABLE (object), NULL, &error))
    {
      /* The configurations this input can describe that are invalid. */
      FUZZ_CHECK (g_error_matches (error, NEBULA_ALLOCATOR_ERROR,
                                   NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG));
      if (thread_safe)
        FUZZ_CHECK (strstr (error->message, "'thread-safe' cannot be TRUE") != NULL &&
                    strstr (nebula_error_get_suggestion (error), "per thread") != NULL);
      else if (capacity < HEADER_SIZE + 8)
        FUZZ_CHECK (strstr (error->message, "'capacity'") != NULL);
      else
        FUZZ_CHECK (explicit_max && double_ended && max_capacity > capacity &&
                    strstr (error->message, "'double-ended'") != NULL);
      /* And every method says so. */
      FUZZ_CHECK (nebula_allocator_allocate (NEBULA_ALLOCATOR (object), 8, 8, NULL) == NULL);
      g_object_unref (object);
      return NULL;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (!thread_safe);
  FUZZ_CHECK (capacity >= HEADER_SIZE + 8);
  FUZZ_CHECK (!(explicit_max && double_ended && max_capacity > capacity));

  g_object_get (object, "max-capacity", &max_capacity_read, "track-stats", &track_stats, NULL);
  if (explicit_max)
    FUZZ_CHECK (max_capacity_read == MAX (max_capacity, capacity));
  else if (preset == NEBULA_PRESET_PRODUCTION && !double_ended)
    FUZZ_CHECK (max_capacity_read == capacity * 8);
  else
    FUZZ_CHECK (max_capacity_read == capacity);

  stack = g_new0 (StackData, 1);
  stack->markers = g_array_new (FALSE, FALSE, sizeof (ModelMarker));
  g_array_set_clear_func (stack->markers, model_marker_clear);
  stack->frames = g_array_new (FALSE, FALSE, sizeof (ModelMarker));
  stack->capacity = capacity;
  stack->max_capacity = max_capacity_read;
  stack->double_ended = double_ended;
  stack->other = nebula_stack_allocator_new (256, NULL);

  state->target_data = stack;
  state->track_stats = track_stats;
  /* Growth is bounded by max-capacity: any size may be asked. */
  state->max_request = G_MAXSSIZE;
  state->max_alignment = (gsize) 1 << 63;
  state->bounded = TRUE;
  state->checks_pointers = TRUE;
  state->owns_interior = TRUE;
  /* A freed block is above the top: not the stack's any more. */
  state->checks_double_free = TRUE;
  state->reset_frees = TRUE;
  state->lifo = TRUE;

  return NEBULA_ALLOCATOR (object);
}

static void
close_frame (FuzzState *state);

static void
stack_destroy (FuzzState *state)
{
  StackData *stack = state->target_data;

  while (stack->frames->len > 0)
    close_frame (state);
  g_array_unref (stack->frames);
  g_array_unref (stack->markers);
  g_object_unref (stack->other);
  g_free (stack);
}

static gboolean
stack_may_fail (FuzzState    *state,
                gsize         size,
                gsize         alignment,
                guint64       available_before,
                const GError *error)
{
  StackData *stack = state->target_data;
  g_autofree char *requested = g_strdup_printf ("requested %" G_GSIZE_FORMAT " bytes",
                                                MAX (size, 1));
  gsize need;

  if (error->code == NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY)
    return TRUE;
  if (error->code != NEBULA_ALLOCATOR_ERROR_EXHAUSTED || strstr (error->message, requested) == NULL)
    return FALSE;

  /* Without growth, what fits with a header and the worst padding must be
   * served (a resize of the top block has its own bytes on top of that). */
  if (stack->max_capacity > stack->capacity)
    return TRUE;
  size = MAX (size, 1);
  alignment = MAX (alignment, 8);
  if (size > G_MAXSIZE - HEADER_SIZE - alignment)
    return TRUE;
  need = size + HEADER_SIZE + alignment - 1;
  return need > available_before;
}

static void
stack_on_rewind (FuzzState *state,
                 gboolean   reset)
{
  StackData *stack = state->target_data;

  if (reset)
    stack->generation++;
}

/* The live blocks of @end, newest first. */
static GArray *
end_blocks (FuzzState *state,
            guint      end)
{
  GArray *blocks = g_array_new (FALSE, FALSE, sizeof (FuzzBlock));

  for (guint i = 0; i < state->blocks->len; i++)
    {
      const FuzzBlock *block = &g_array_index (state->blocks, FuzzBlock, i);
      guint j;

      if (block->end != end)
        continue;
      for (j = 0; j < blocks->len; j++)
        if (g_array_index (blocks, FuzzBlock, j).seq < block->seq)
          break;
      g_array_insert_val (blocks, j, *block);
    }

  return blocks;
}

static void
record_marker (FuzzState   *state,
               ModelMarker *marker,
               guint        end)
{
  StackData *stack = state->target_data;
  g_autoptr(GArray) blocks = end_blocks (state, end);

  marker->generation = stack->generation;
  marker->end = end;
  if (blocks->len > 0)
    {
      const FuzzBlock *top = &g_array_index (blocks, FuzzBlock, 0);

      marker->top_seq = top->seq;
      marker->top_ptr = top->ptr;
      marker->top_size = MAX (top->size, 1);
    }
}

typedef enum
{
  RELEASE_SUCCEEDS,
  RELEASE_MAY_SUCCEED,     /* a look-alike of the marked state, see above */
  RELEASE_STALE,
} Expectation;

/* What releasing to @marker must do, and how many blocks of its end it
 * releases if it succeeds. */
static Expectation
expect_release (FuzzState         *state,
                const ModelMarker *marker,
                GArray            *blocks,
                guint             *n_released)
{
  StackData *stack = state->target_data;

  *n_released = 0;
  if (marker->generation != stack->generation)
    return RELEASE_STALE;
  if (marker->end == 1 && !stack->double_ended)
    return RELEASE_SUCCEEDS;

  /* An empty end is at the bottom of every walk. */
  if (marker->top_ptr == NULL)
    {
      *n_released = blocks->len;
      return RELEASE_SUCCEEDS;
    }

  for (guint k = 0; k < blocks->len; k++)
    {
      const FuzzBlock *top = &g_array_index (blocks, FuzzBlock, k);

      /* The high end's state is where its top block starts; the low end's
       * also where it ends. */
      if (top->ptr != marker->top_ptr ||
          (marker->end == 0 && MAX (top->size, 1) != marker->top_size))
        continue;

      *n_released = k;
      if (top->seq == marker->top_seq || marker->end == 1)
        return RELEASE_SUCCEEDS;
      return RELEASE_MAY_SUCCEED;
    }

  /* A marker holds its chunk's depth and offsets in it: in a growing
   * stack a block at the same offsets of another chunk at that depth
   * matches too. Which blocks such a release took is found afterwards. */
  if (marker->end == 0 && stack->max_capacity > stack->capacity)
    {
      *n_released = blocks->len;
      return RELEASE_MAY_SUCCEED;
    }
  return RELEASE_STALE;
}

/* After a release the model could not predict: the released blocks are
 * the newest ones, which the stack no longer owns; the others it keeps. */
static guint
count_released (FuzzState *state,
                GArray    *blocks)
{
  guint n = 0;

  while (n < blocks->len &&
         !nebula_allocator_owns (state->alloc, g_array_index (blocks, FuzzBlock, n).ptr))
    n++;
  for (guint k = n; k < blocks->len; k++)
    FUZZ_CHECK (nebula_allocator_owns (state->alloc, g_array_index (blocks, FuzzBlock, k).ptr));

  return n;
}

/* The model's side of a successful release of the @n newest blocks of @blocks. */
static void
apply_release (FuzzState *state,
               GArray    *blocks,
               guint      n)
{
  NebulaAllocatorStats *s = &state->stats;
  guint64 n_bytes = 0;

  for (guint k = 0; k < n; k++)
    {
      const FuzzBlock *released = &g_array_index (blocks, FuzzBlock, k);

      /* A block of size 0 counts as its one byte (nebula-stats-private.h). */
      n_bytes += MAX (released->size, 1);
      for (guint i = 0; i < state->blocks->len; i++)
        if (g_array_index (state->blocks, FuzzBlock, i).seq == released->seq)
          {
            g_array_remove_index_fast (state->blocks, i);
            break;
          }
    }

  if (n == 0)
    return;
  s->deallocations += n;
  s->total_bytes_freed += n_bytes;
  s->bytes_in_use -= n_bytes;
}

static void
check_stale_error (const GError      *error,
                   const ModelMarker *marker,
                   StackData         *stack)
{
  fuzz_model_expect_error (error, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
  if (marker->generation != stack->generation)
    FUZZ_CHECK (strstr (error->message, "before a reset") != NULL);
  else
    FUZZ_CHECK (strstr (error->message, "above the top") != NULL ||
                strstr (error->message, "released below it") != NULL);
}

static void
release (FuzzState *state,
         guint      index)
{
  StackData *stack = state->target_data;
  const ModelMarker *marker = &g_array_index (stack->markers, ModelMarker, index);
  g_autoptr(GArray) blocks = end_blocks (state, marker->end);
  g_autoptr(GError) error = NULL;
  Expectation expectation;
  guint n_released;
  gboolean released;

  expectation = expect_release (state, marker, blocks, &n_released);
  released = nebula_stack_allocator_release_to_marker (NEBULA_STACK_ALLOCATOR (state->alloc),
                                                       marker->marker, &error);

  if (expectation == RELEASE_SUCCEEDS)
    FUZZ_CHECK (released);
  else if (expectation == RELEASE_STALE)
    FUZZ_CHECK (!released);

  if (!released)
    {
      check_stale_error (error, marker, stack);
      fuzz_model_check_all (state);
      return;
    }

  FUZZ_CHECK (error == NULL);
  if (expectation == RELEASE_MAY_SUCCEED)
    n_released = count_released (state, blocks);
  apply_release (state, blocks, n_released);
  fuzz_model_check_all (state);
}

static void
open_frame (FuzzState *state,
            guint      end)
{
  StackData *stack = state->target_data;
  ModelMarker frame = { 0, };

  if (stack->frames->len == MAX_FRAMES)
    return;

  record_marker (state, &frame, end);
  frame.frame = end == 1
    ? nebula_stack_frame_new_high (NEBULA_STACK_ALLOCATOR (state->alloc))
    : nebula_stack_frame_new (NEBULA_STACK_ALLOCATOR (state->alloc));
  g_array_append_val (stack->frames, frame);
}

/* Closes the innermost frame: a release that warns instead of failing. */
static void
close_frame (FuzzState *state)
{
  StackData *stack = state->target_data;
  ModelMarker frame = g_array_index (stack->frames, ModelMarker, stack->frames->len - 1);
  g_autoptr(GArray) blocks = end_blocks (state, frame.end);
  guint warnings_before = frame_warnings;
  Expectation expectation;
  guint n_released;

  expectation = expect_release (state, &frame, blocks, &n_released);
  g_array_set_size (stack->frames, stack->frames->len - 1);
  nebula_stack_frame_free (frame.frame);

  if (expectation == RELEASE_SUCCEEDS)
    FUZZ_CHECK (frame_warnings == warnings_before);
  else if (expectation == RELEASE_STALE)
    FUZZ_CHECK (frame_warnings == warnings_before + 1);

  if (frame_warnings == warnings_before)
    {
      if (expectation == RELEASE_MAY_SUCCEED)
        n_released = count_released (state, blocks);
      apply_release (state, blocks, n_released);
    }
  fuzz_model_check_all (state);
}

static void
allocate_high (FuzzState *state)
{
  StackData *stack = state->target_data;
  g_autoptr(GError) error = NULL;
  gsize size = fuzz_read_size (state->input);
  gsize alignment = fuzz_read_alignment (state->input);
  gint code = fuzz_expected_layout_error (size, alignment);
  guint64 available_before = nebula_allocator_get_bytes_available (state->alloc);
  FuzzBlock block;
  guint8 *ptr;

  if (code == 0 && !stack->double_ended)
    code = NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED;

  ptr = nebula_stack_allocator_allocate_high (NEBULA_STACK_ALLOCATOR (state->alloc), size,
                                              alignment, &error);
  if (ptr == NULL)
    {
      if (code != 0)
        fuzz_model_expect_error (error, code);
      else
        FUZZ_CHECK (stack_may_fail (state, size, alignment, available_before, error) &&
                    strstr (error->message, "at the high end") != NULL);
      state->stats.failed_allocations++;
      return;
    }

  FUZZ_CHECK (code == 0 && error == NULL);
  FUZZ_CHECK (size <= available_before);
  block = (FuzzBlock) { ptr, size, alignment, state->next_seq++, 1 };
  fuzz_model_add_block (state, &block);
  FUZZ_CHECK (nebula_allocator_owns (state->alloc, ptr));
}

static void
deallocate_high (FuzzState *state,
                 guint8     which)
{
  StackData *stack = state->target_data;
  g_autoptr(GError) error = NULL;
  FuzzBlock block;
  guint index;
  gboolean ok;

  if (state->blocks->len == 0)
    return;

  index = which % state->blocks->len;
  block = g_array_index (state->blocks, FuzzBlock, index);
  ok = nebula_stack_allocator_deallocate_high (NEBULA_STACK_ALLOCATOR (state->alloc), block.ptr,
                                               block.size, &error);

  if (!stack->double_ended)
    {
      FUZZ_CHECK (!ok);
      fuzz_model_expect_error (error, NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED);
    }
  else if (block.end == 0)
    {
      FUZZ_CHECK (!ok);
      fuzz_model_expect_error (error, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
      FUZZ_CHECK (strstr (error->message, "belongs to the low end") != NULL);
    }
  else if (!fuzz_model_is_top (state, index))
    {
      FUZZ_CHECK (!ok);
      fuzz_model_expect_error (error, NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER);
    }
  else
    {
      NebulaAllocatorStats *s = &state->stats;

      FUZZ_CHECK (ok && error == NULL);
      g_array_remove_index_fast (state->blocks, index);
      /* A block of size 0 counts as its one byte (nebula-stats-private.h). */
      s->deallocations++;
      s->total_bytes_freed += MAX (block.size, 1);
      s->bytes_in_use -= MAX (block.size, 1);
      return;
    }

  fuzz_model_check_all (state);
}

static void
stack_extra_op (FuzzState *state,
                guint      op)
{
  StackData *stack = state->target_data;
  g_autoptr(GError) error = NULL;
  guint8 which = op == EXTRA_ALLOCATE_HIGH ? 0 : fuzz_byte (state->input);

  switch (op)
    {
    case EXTRA_MARK:
      {
        ModelMarker marker = { 0, };
        guint end = which & 1;

        if (stack->markers->len == MAX_MARKERS)
          g_array_remove_index (stack->markers, (which >> 1) % MAX_MARKERS);
        record_marker (state, &marker, end);
        marker.marker = end == 1
          ? nebula_stack_allocator_mark_high (NEBULA_STACK_ALLOCATOR (state->alloc))
          : nebula_stack_allocator_mark (NEBULA_STACK_ALLOCATOR (state->alloc));
        FUZZ_CHECK (nebula_stack_marker_is_high (marker.marker) == (end == 1));
        g_array_append_val (stack->markers, marker);
      }
      break;

    case EXTRA_RELEASE:
      if (stack->markers->len > 0)
        release (state, which % stack->markers->len);
      break;

    case EXTRA_RELEASE_FOREIGN:
      {
        g_autoptr(NebulaStackMarker) foreign = (which & 1)
          ? nebula_stack_allocator_mark_high (stack->other)
          : nebula_stack_allocator_mark (stack->other);

        FUZZ_CHECK (!nebula_stack_allocator_release_to_marker (NEBULA_STACK_ALLOCATOR (state->alloc),
                                                               foreign, &error));
        fuzz_model_expect_error (error, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
        FUZZ_CHECK (strstr (error->message, "another allocator") != NULL);
      }
      break;

    case EXTRA_ALLOCATE_HIGH:
      allocate_high (state);
      break;

    case EXTRA_DEALLOCATE_HIGH:
      deallocate_high (state, which);
      break;

    case EXTRA_FRAME_OPEN:
      open_frame (state, which & 1);
      break;

    case EXTRA_FRAME_CLOSE:
      if (stack->frames->len > 0)
        close_frame (state);
      break;

    default:
      g_assert_not_reached ();
    }
}

static const FuzzTarget stack_target = {
  .name = "stack",
  .create = stack_create,
  .destroy = stack_destroy,
  .may_fail = stack_may_fail,
  .on_rewind = stack_on_rewind,
  .n_extra_ops = N_EXTRA_OPS,
  .extra_op = stack_extra_op,
};

FUZZ_DEFINE_ENTRY_POINT (stack_target)
