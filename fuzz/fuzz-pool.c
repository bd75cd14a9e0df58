/* fuzz-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * NebulaPoolAllocator against the reference model of fuzz-common.c. Every
 * request fits a block (larger layouts are the pool's INVALID_LAYOUT, which
 * test-pool covers); a valid request may only fail when no block is free
 * and the pool cannot grow. With check-frees (the default) foreign
 * pointers and double frees are errors; without it the input never hands
 * the pool a bad pointer.
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"

static NebulaAllocator *
pool_create (FuzzState *state)
{
  static const NebulaPreset presets[] = {
    NEBULA_PRESET_DEFAULT, NEBULA_PRESET_DEBUG, NEBULA_PRESET_PERFORMANCE, NEBULA_PRESET_PRODUCTION,
  };
  g_autoptr(GError) error = NULL;
  FuzzInput *input = state->input;
  gsize block_size = 8 + fuzz_byte (input) % 249;
  gsize block_alignment = (gsize) 1 << (fuzz_byte (input) % 6);
  gsize block_count = 1 + fuzz_byte (input) % 16;
  guint8 flags = fuzz_byte (input);
  gsize max_block_count = block_count * (1 + (flags >> 4) % 4);
  NebulaPreset preset = presets[(flags >> 1) & 3];
  NebulaAllocator *alloc;

  alloc = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                          "block-size", (guint64) block_size,
                          "block-alignment", (guint64) block_alignment,
                          "block-count", (guint64) block_count,
                          "max-block-count", (guint64) max_block_count,
                          "thread-safe", (flags & 1) != 0,
                          "preset", preset,
                          "check-frees", (flags & 8) == 0,
                          "name", "fuzz",
                          NULL);
  FUZZ_CHECK (error == NULL);
  fuzz_expect_pool_checks (state, alloc, (flags & 8) == 0);
  state->max_request = block_size;
  state->max_alignment = block_alignment;
  state->bounded = TRUE;

  return alloc;
}

static void
pool_destroy (FuzzState *state)
{
}

static gboolean
pool_may_fail (FuzzState    *state,
               gsize         size,
               gsize         alignment,
               guint64       available_before,
               const GError *error)
{
  if (error->code == NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY)
    return TRUE;

  /* Every block taken and no growth left. */
  return error->code == NEBULA_ALLOCATOR_ERROR_EXHAUSTED && available_before == 0;
}

static const FuzzTarget pool_target = {
  .name = "pool",
  .create = pool_create,
  .destroy = pool_destroy,
  .may_fail = pool_may_fail,
};

FUZZ_DEFINE_ENTRY_POINT (pool_target)
