/* fuzz-multi-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * NebulaMultiPoolAllocator against the reference model of fuzz-common.c.
 * Every request fits a class (a size up to max-block-size, an alignment up
 * to it, both powers of two here; larger layouts are INVALID_LAYOUT, which
 * test-multi-pool covers); the classes grow, so a valid request never
 * fails. With check-frees (the default) foreign pointers and double frees
 * are errors; without it the input never hands it a bad pointer. The
 * blocks move between classes when a reallocation changes class.
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"

static NebulaAllocator *
multi_pool_create (FuzzState *state)
{
  static const NebulaPreset presets[] = {
    NEBULA_PRESET_DEFAULT, NEBULA_PRESET_DEBUG, NEBULA_PRESET_PERFORMANCE, NEBULA_PRESET_PRODUCTION,
  };
  g_autoptr(GError) error = NULL;
  FuzzInput *input = state->input;
  guint8 flags = fuzz_byte (input);
  gsize max_block_size = (gsize) 64 << (fuzz_byte (input) % 5);
  NebulaPreset preset = presets[(flags >> 1) & 3];
  NebulaAllocator *alloc;

  alloc = g_initable_new (NEBULA_TYPE_MULTI_POOL_ALLOCATOR, NULL, &error,
                          "max-block-size", (guint64) max_block_size,
                          "thread-safe", (flags & 1) != 0,
                          "preset", preset,
                          "check-frees", (flags & 8) == 0,
                          "name", "fuzz",
                          NULL);
  FUZZ_CHECK (error == NULL);
  fuzz_expect_pool_checks (state, alloc, (flags & 8) == 0);
  state->max_request = max_block_size;
  state->max_alignment = max_block_size;
  state->bounded = FALSE;

  return alloc;
}

static void
multi_pool_destroy (FuzzState *state)
{
}

static gboolean
multi_pool_may_fail (FuzzState    *state,
                     gsize         size,
                     gsize         alignment,
                     guint64       available_before,
                     const GError *error)
{
  /* Classes grow: only the system may refuse a slab. */
  return error->code == NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY;
}

static const FuzzTarget multi_pool_target = {
  .name = "multi-pool",
  .create = multi_pool_create,
  .destroy = multi_pool_destroy,
  .may_fail = multi_pool_may_fail,
};

FUZZ_DEFINE_ENTRY_POINT (multi_pool_target)
