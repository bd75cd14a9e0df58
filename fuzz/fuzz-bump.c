/* fuzz-bump.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * NebulaBumpAllocator against the reference model of fuzz-common.c, plus
 * checkpoints: a checkpoint from another allocator or from before a reset
 * must be refused with STALE_MARKER; one taken while the position only
 * moved forward since must restore, and releases exactly the blocks
 * allocated after it.
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
  gboolean              certain;      /* the position never went back since */
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
  NebulaBumpAllocator *other;
} BumpData;

enum {
  EXTRA_CHECKPOINT,
  EXTRA_RESTORE,
  EXTRA_RESTORE_FOREIGN,
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

  if (reset)
    bump->generation++;

  for (guint i = 0; i < bump->checkpoints->len; i++)
    g_array_index (bump->checkpoints, ModelCheckpoint, i).certain = FALSE;
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

  if (checkpoint->certain)
    FUZZ_CHECK (restored);

  if (!restored)
    {
      FUZZ_CHECK (g_error_matches (error, NEBULA_ALLOCATOR_ERROR,
                                   NEBULA_ALLOCATOR_ERROR_STALE_MARKER));
      FUZZ_CHECK (strstr (error->message, "ahead of the cursor") != NULL);
      fuzz_model_check_all (state);
      return;
    }

  FUZZ_CHECK (error == NULL);
  fuzz_model_drop_from_seq (state, checkpoint->seq);
  /* The restore counts what it releases as freed. */
  fuzz_model_count_rewind (state, checkpoint->live_blocks, checkpoint->bytes_in_use);
  fuzz_model_check_all (state);

  /* Later checkpoints may now lie ahead of the position. */
  for (guint i = 0; i < bump->checkpoints->len; i++)
    {
      ModelCheckpoint *other = &g_array_index (bump->checkpoints, ModelCheckpoint, i);

      if (other->seq > checkpoint->seq)
        other->certain = FALSE;
    }
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
        checkpoint.certain = TRUE;
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
  .n_extra_ops = N_EXTRA_OPS,
  .extra_op = bump_extra_op,
};

FUZZ_DEFINE_ENTRY_POINT (bump_target)
