/* fuzz-bump.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * NebulaBumpAllocator against the reference model of fuzz-common.c, plus
 * checkpoints: a checkpoint from another allocator or from before a reset
 * must be refused with STALE_MARKER, and so must one that a restore to an
 * earlier position left behind; any other must restore, and releases
 * exactly the blocks allocated after it.
 *
 * The model knows the position without the layout: as the number of
 * regular (not dedicated) blocks under the cursor. An allocation in the
 * regular chunks adds one and becomes the top; freeing the top takes one
 * away; a checkpoint or a restore leaves no top; a restore sets the count
 * to its checkpoint's, and makes every checkpoint with a higher count
 * stale for good. A checkpoint taken later at the same count may lie
 * higher (the top block freed in between was aligned past the old
 * position, by padding that depends on addresses): it may be refused. Also: pointers into the middle of dedicated blocks free
 * nothing, reallocations with an old size the block cannot have are
 * INVALID_LAYOUT, and a second free of the top is INVALID_POINTER (in
 * both the plain and the thread-safe configuration).
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"

#define MAX_CHECKPOINTS 16

typedef struct
{
  NebulaBumpCheckpoint *checkpoint;
  guint64               seq;          /* blocks from this seq on are after it */
  guint64               generation;
  guint64               n_regular;    /* the model's position then */
  gboolean              stale;        /* a restore went below it since */
  gboolean              maybe_stale;  /* a restore went to the same count since */
  guint64               order;        /* checkpoints taken before */
  guint64               live_blocks;  /* what the statistics counted then */
  guint64               bytes_in_use;
} ModelCheckpoint;

typedef struct
{
  GArray              *checkpoints;   /* ModelCheckpoint */
  guint64              generation;
  gsize                capacity;
  gsize                max_capacity;
  gsize                min_alloc_size;
  gsize                large_threshold;
  NebulaBumpAllocator *other;

  /* The position: regular blocks under the cursor, and the top. */
  guint64              n_regular;
  guint64              n_checkpoints;
  gboolean             have_top;
  guint64              top_seq;
  GHashTable          *dedicated;     /* seqs of the live dedicated blocks */
} BumpData;

enum {
  EXTRA_CHECKPOINT,
  EXTRA_RESTORE,
  EXTRA_RESTORE_FOREIGN,
  EXTRA_INTERIOR_DEDICATED,
  EXTRA_REALLOCATE_BAD_OLD_SIZE,
  EXTRA_DOUBLE_FREE_TOP,
  N_EXTRA_OPS
};

static void
model_checkpoint_clear (gpointer data)
{
  ModelCheckpoint *checkpoint = data;

  nebula_bump_checkpoint_free (checkpoint->checkpoint);
}

static NebulaAllocator *
bump_create (FuzzState *state)
{
  static const NebulaPreset presets[] = {
    NEBULA_PRESET_DEFAULT, NEBULA_PRESET_DEBUG, NEBULA_PRESET_PERFORMANCE, NEBULA_PRESET_PRODUCTION,
  };
  static const NebulaResetPolicy policies[] = {
    NEBULA_RESET_POLICY_KEEP_LARGEST, NEBULA_RESET_POLICY_KEEP_ALL, NEBULA_RESET_POLICY_FREE_ALL,
    NEBULA_RESET_POLICY_KEEP_LARGEST,
  };
  g_autoptr(GError) error = NULL;
  FuzzInput *input = state->input;
  gsize capacity = 1 + ((fuzz_byte (input) | (gsize) fuzz_byte (input) << 8) * 16 % (1 << 20));
  guint8 growth = fuzz_byte (input);
  guint8 flags = fuzz_byte (input);
  guint8 factor = fuzz_byte (input);
  guint8 threshold = fuzz_byte (input);
  gsize max_capacity = growth == 0 ? capacity : capacity * (1 + growth % 8);
  gboolean thread_safe = flags & 1;
  NebulaPreset preset = presets[(flags >> 1) & 3];
  NebulaResetPolicy policy = policies[(flags >> 3) & 3];
  gsize min_alloc_size = (gsize) 1 << (flags >> 5);
  NebulaAllocator *alloc;
  BumpData *bump;

  alloc = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                          "capacity", (guint64) capacity,
                          "max-capacity", (guint64) max_capacity,
                          "thread-safe", thread_safe,
                          "preset", preset,
                          "reset-policy", policy,
                          "min-alloc-size", (guint64) min_alloc_size,
                          "growth-factor", 1.0 + (factor % 16) / 4.0,
                          "large-allocation-threshold", (guint64) threshold * 64,
                          "name", "fuzz",
                          NULL);

  /* The only invalid configuration this input can describe. */
  if (min_alloc_size > capacity)
    {
      FUZZ_CHECK (alloc == NULL);
      FUZZ_CHECK (g_error_matches (error, NEBULA_ALLOCATOR_ERROR,
                                   NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG));
      FUZZ_CHECK (strstr (error->message, "min-alloc-size") != NULL);
      return NULL;
    }
  FUZZ_CHECK (alloc != NULL && error == NULL);

  bump = g_new0 (BumpData, 1);
  bump->checkpoints = g_array_new (FALSE, FALSE, sizeof (ModelCheckpoint));
  g_array_set_clear_func (bump->checkpoints, model_checkpoint_clear);
  bump->capacity = capacity;
  bump->max_capacity = max_capacity;
  bump->min_alloc_size = min_alloc_size;
  bump->large_threshold = threshold != 0 ? (gsize) threshold * 64 : MAX (capacity / 2, 1);
  bump->dedicated = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  bump->other = nebula_bump_allocator_new (64, NULL);

  state->target_data = bump;
  state->track_stats = preset != NEBULA_PRESET_PERFORMANCE;
  /* No system memory is touched beyond max-capacity: any size may be asked. */
  state->max_request = G_MAXSSIZE;
  state->max_alignment = (gsize) 1 << 63;
  state->bounded = TRUE;
  state->checks_pointers = TRUE;
  state->owns_interior = TRUE;
  state->checks_double_free = FALSE;   /* a second free of an inner block is allowed */
  state->reset_frees = TRUE;

  return alloc;
}

static void
bump_destroy (FuzzState *state)
{
  BumpData *bump = state->target_data;

  g_array_unref (bump->checkpoints);
  g_hash_table_unref (bump->dedicated);
  g_object_unref (bump->other);
  g_free (bump);
}

static gboolean
bump_may_fail (FuzzState    *state,
               gsize         size,
               gsize         alignment,
               guint64       available_before,
               const GError *error)
{
  BumpData *bump = state->target_data;
  /* The interface turns a size of 0 into 1 before the allocator sees it,
   * and the message of a regular chunk's exhaustion names the size rounded
   * to min-alloc-size. */
  gsize rounded = (MAX (size, 1) + bump->min_alloc_size - 1) & ~(bump->min_alloc_size - 1);
  g_autofree char *requested = g_strdup_printf ("requested %" G_GSIZE_FORMAT " bytes",
                                                MAX (size, 1));
  g_autofree char *requested_rounded = g_strdup_printf ("requested %" G_GSIZE_FORMAT " bytes",
                                                        rounded);

  if (error->code == NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY)
    return TRUE;
  if (error->code != NEBULA_ALLOCATOR_ERROR_EXHAUSTED ||
      (strstr (error->message, requested) == NULL &&
       strstr (error->message, requested_rounded) == NULL))
    return FALSE;

  /* Without growth everything is in one chunk: what fits with the worst
   * padding must be served. */
  size = MAX (size, 1);
  if (bump->max_capacity == bump->capacity &&
      size <= available_before &&
      available_before - size >= (alignment - 1) + (bump->min_alloc_size - 1))
    return FALSE;

  return TRUE;
}

static void
bump_on_rewind (FuzzState *state,
                gboolean   reset)
{
  BumpData *bump = state->target_data;

  if (!reset)
    return;

  bump->generation++;
  bump->n_regular = 0;
  bump->have_top = FALSE;
  g_hash_table_remove_all (bump->dedicated);
}

/* A request the allocator serves from a dedicated chunk (the interface
 * asks for 1 byte for 0). */
static gboolean
is_large (BumpData *bump,
          gsize     size)
{
  return MAX (size, 1) > bump->large_threshold && bump->max_capacity > bump->capacity;
}

static gboolean
is_dedicated (BumpData        *bump,
              const FuzzBlock *block)
{
  return g_hash_table_contains (bump->dedicated, &block->seq);
}

static void
add_dedicated (BumpData        *bump,
               const FuzzBlock *block)
{
  guint64 *seq = g_new (guint64, 1);

  *seq = block->seq;
  g_hash_table_add (bump->dedicated, seq);
}

/* The model's side of the common operations. */
static void
bump_on_block (FuzzState       *state,
               const FuzzBlock *before,
               const FuzzBlock *after)
{
  BumpData *bump = state->target_data;
  gboolean was_top = before != NULL && bump->have_top && before->seq == bump->top_seq;
  gboolean was_dedicated = before != NULL && is_dedicated (bump, before);

  if (before != NULL)
    g_hash_table_remove (bump->dedicated, &before->seq);

  if (after == NULL)
    {
      /* Freeing the top moves the cursor back over it. */
      if (was_top)
        {
          bump->n_regular--;
          bump->have_top = FALSE;
        }
      return;
    }

  if (before != NULL && after->ptr == before->ptr)
    {
      /* Resized in place: the top stays the top. */
      if (was_top)
        bump->top_seq = after->seq;
      if (was_dedicated)
        add_dedicated (bump, after);
      return;
    }

  if (is_large (bump, after->size))
    add_dedicated (bump, after);
  else
    {
      bump->n_regular++;
      bump->have_top = TRUE;
      bump->top_seq = after->seq;
    }
}

static void
model_free_block (FuzzState *state,
                  guint      index)
{
  FuzzBlock block = g_array_index (state->blocks, FuzzBlock, index);

  g_array_remove_index_fast (state->blocks, index);
  state->stats.deallocations++;
  state->stats.total_bytes_freed += MAX (block.size, 1);
  state->stats.bytes_in_use -= MAX (block.size, 1);
  bump_on_block (state, &block, NULL);
}

static void
restore (FuzzState *state,
         guint      index)
{
  BumpData *bump = state->target_data;
  ModelCheckpoint *checkpoint = &g_array_index (bump->checkpoints, ModelCheckpoint, index);
  g_autoptr(GError) error = NULL;
  gboolean restored;

  restored = nebula_bump_allocator_restore (NEBULA_BUMP_ALLOCATOR (state->alloc),
                                            checkpoint->checkpoint, &error);

  if (checkpoint->generation != bump->generation)
    {
      FUZZ_CHECK (!restored);
      FUZZ_CHECK (g_error_matches (error, NEBULA_ALLOCATOR_ERROR,
                                   NEBULA_ALLOCATOR_ERROR_STALE_MARKER));
      FUZZ_CHECK (strstr (error->message, "before a reset") != NULL);
      return;
    }

  if (checkpoint->stale || (checkpoint->maybe_stale && !restored))
    {
      /* Whether the cursor is below it now depends on the sizes of the
       * blocks since: either reason will do. */
      FUZZ_CHECK (!restored);
      FUZZ_CHECK (g_error_matches (error, NEBULA_ALLOCATOR_ERROR,
                                   NEBULA_ALLOCATOR_ERROR_STALE_MARKER));
      FUZZ_CHECK (strstr (error->message, "ahead of the cursor") != NULL ||
                  strstr (error->message, "rewound to before it") != NULL);
      fuzz_model_check_all (state);
      return;
    }

  if (!restored && g_getenv ("FUZZ_DEBUG") != NULL)
    fprintf (stderr, "restore refused: %s\n", error->message);
  FUZZ_CHECK (restored && error == NULL);
  fuzz_model_drop_from_seq (state, checkpoint->seq);
  /* The restore counts what it releases as freed. */
  fuzz_model_count_rewind (state, checkpoint->live_blocks, checkpoint->bytes_in_use);
  fuzz_model_check_all (state);

  /* Every checkpoint above it is stale from now on. */
  bump->n_regular = checkpoint->n_regular;
  bump->have_top = FALSE;
  for (guint i = 0; i < bump->checkpoints->len; i++)
    {
      ModelCheckpoint *other = &g_array_index (bump->checkpoints, ModelCheckpoint, i);

      if (other->generation != bump->generation)
        continue;
      if (other->n_regular > checkpoint->n_regular)
        other->stale = TRUE;
      else if (other->n_regular == checkpoint->n_regular && other->order > checkpoint->order)
        other->maybe_stale = TRUE;
    }
}

/* A pointer into the middle of a dedicated block is not a block: the free
 * succeeds without effect, and the block stays whole. */
static void
interior_dedicated (FuzzState *state,
                    guint8     which)
{
  BumpData *bump = state->target_data;
  g_autoptr(GError) error = NULL;
  FuzzBlock *block;
  gsize offset, size;

  if (state->blocks->len == 0)
    return;
  block = &g_array_index (state->blocks, FuzzBlock, which % state->blocks->len);
  if (!is_dedicated (bump, block) || block->size < 2)
    return;

  offset = 1 + fuzz_u64 (state->input) % (block->size - 1);
  size = 1 + which % 16;
  FUZZ_CHECK (nebula_allocator_deallocate (state->alloc, block->ptr + offset, size, 1, &error));
  FUZZ_CHECK (error == NULL);
  state->stats.deallocations++;
  state->stats.total_bytes_freed += size;
  state->stats.bytes_in_use -= size;

  FUZZ_CHECK (nebula_allocator_owns (state->alloc, block->ptr));
  fuzz_model_check_all (state);
}

/* An old size the block cannot have: the copy would read past it. */
static void
reallocate_bad_old_size (FuzzState *state,
                         guint8     which)
{
  BumpData *bump = state->target_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *number = NULL;
  FuzzBlock *block;
  gsize old_size;

  if (state->blocks->len == 0)
    return;
  block = &g_array_index (state->blocks, FuzzBlock, which % state->blocks->len);

  /* A dedicated block holds what was asked; no chunk holds more than
   * max-capacity. */
  if (is_dedicated (bump, block))
    old_size = MAX (block->size, 1) + 1 + fuzz_byte (state->input);
  else
    old_size = bump->max_capacity + 1 + fuzz_byte (state->input);

  if (g_getenv ("FUZZ_DEBUG") != NULL)
    fprintf (stderr, "bad old size %" G_GSIZE_FORMAT " for a %s block of %" G_GSIZE_FORMAT
             " at %p\n", old_size, is_dedicated (bump, block) ? "dedicated" : "regular",
             block->size, block->ptr);
  FUZZ_CHECK (nebula_allocator_reallocate (state->alloc, block->ptr, old_size,
                                           1 + fuzz_byte (state->input), block->alignment,
                                           &error) == NULL);
  fuzz_model_expect_error (error, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  number = g_strdup_printf ("%" G_GSIZE_FORMAT " bytes", old_size);
  FUZZ_CHECK (strstr (error->message, number) != NULL);
  state->stats.failed_allocations++;
  fuzz_model_check_all (state);
}

/* The top block, freed twice: once given back, then refused. */
static void
double_free_top (FuzzState *state)
{
  BumpData *bump = state->target_data;
  g_autoptr(GError) error = NULL;
  FuzzBlock block;
  guint index;

  if (!bump->have_top)
    return;
  for (index = 0; index < state->blocks->len; index++)
    if (g_array_index (state->blocks, FuzzBlock, index).seq == bump->top_seq)
      break;
  if (index == state->blocks->len)
    return;

  block = g_array_index (state->blocks, FuzzBlock, index);
  FUZZ_CHECK (nebula_allocator_deallocate (state->alloc, block.ptr, block.size, block.alignment,
                                           &error));
  FUZZ_CHECK (error == NULL);
  model_free_block (state, index);

  FUZZ_CHECK (!nebula_allocator_deallocate (state->alloc, block.ptr, block.size, block.alignment,
                                            &error));
  fuzz_model_expect_error (error, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  FUZZ_CHECK (!nebula_allocator_owns (state->alloc, block.ptr));
  fuzz_model_check_all (state);
}

static void
bump_extra_op (FuzzState *state,
               guint      op)
{
  BumpData *bump = state->target_data;
  g_autoptr(GError) error = NULL;
  guint8 which = fuzz_byte (state->input);

  switch (op)
    {
    case EXTRA_CHECKPOINT:
      {
        ModelCheckpoint checkpoint;

        if (bump->checkpoints->len == MAX_CHECKPOINTS)
          g_array_remove_index (bump->checkpoints, which % MAX_CHECKPOINTS);
        checkpoint.checkpoint = nebula_bump_allocator_checkpoint (NEBULA_BUMP_ALLOCATOR (state->alloc));
        checkpoint.seq = state->next_seq;
        checkpoint.generation = bump->generation;
        checkpoint.n_regular = bump->n_regular;
        checkpoint.stale = FALSE;
        checkpoint.maybe_stale = FALSE;
        checkpoint.order = bump->n_checkpoints++;
        /* The block below can no longer be given back. */
        bump->have_top = FALSE;
        fuzz_model_live (state, &checkpoint.live_blocks, &checkpoint.bytes_in_use);
        g_array_append_val (bump->checkpoints, checkpoint);
      }
      break;

    case EXTRA_RESTORE:
      if (bump->checkpoints->len > 0)
        restore (state, which % bump->checkpoints->len);
      break;

    case EXTRA_RESTORE_FOREIGN:
      {
        g_autoptr(NebulaBumpCheckpoint) foreign = nebula_bump_allocator_checkpoint (bump->other);

        FUZZ_CHECK (!nebula_bump_allocator_restore (NEBULA_BUMP_ALLOCATOR (state->alloc), foreign,
                                                    &error));
        FUZZ_CHECK (g_error_matches (error, NEBULA_ALLOCATOR_ERROR,
                                     NEBULA_ALLOCATOR_ERROR_STALE_MARKER));
        FUZZ_CHECK (strstr (error->message, "another allocator") != NULL);
      }
      break;

    case EXTRA_INTERIOR_DEDICATED:
      interior_dedicated (state, which);
      break;

    case EXTRA_REALLOCATE_BAD_OLD_SIZE:
      reallocate_bad_old_size (state, which);
      break;

    case EXTRA_DOUBLE_FREE_TOP:
      double_free_top (state);
      break;

    default:
      g_assert_not_reached ();
    }
}

static const FuzzTarget bump_target = {
  .name = "bump",
  .create = bump_create,
  .destroy = bump_destroy,
  .may_fail = bump_may_fail,
  .on_rewind = bump_on_rewind,
  .on_block = bump_on_block,
  .n_extra_ops = N_EXTRA_OPS,
  .extra_op = bump_extra_op,
};

FUZZ_DEFINE_ENTRY_POINT (bump_target)
