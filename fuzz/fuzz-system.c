/* fuzz-system.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * NebulaSystemAllocator against the reference model of fuzz-common.c. With
 * check-frees (the default) foreign pointers and double frees are errors
 * and reset frees every block; without it (the PERFORMANCE preset) the
 * input never hands it a bad pointer, which would be undefined behaviour.
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"

static NebulaAllocator *
system_create (FuzzState *state)
{
  g_autoptr(GError) error = NULL;
  guint8 flags = fuzz_byte (state->input);
  gboolean performance = (flags & 1) != 0;
  gboolean check_frees;
  NebulaAllocator *alloc;

  alloc = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error,
                          "preset", performance ? NEBULA_PRESET_PERFORMANCE : NEBULA_PRESET_DEBUG,
                          "thread-safe", (flags & 2) != 0,
                          "name", "fuzz",
                          NULL);
  FUZZ_CHECK (alloc != NULL && error == NULL);
  g_object_get (alloc, "check-frees", &check_frees, NULL);
  FUZZ_CHECK (check_frees == !performance);

  state->track_stats = !performance;
  /* Real memory: keep requests small enough for a fuzzing process. */
  state->max_request = 1 << 16;
  state->max_alignment = 4096;
  state->bounded = FALSE;
  state->checks_pointers = check_frees;
  state->checks_double_free = check_frees;
  state->reset_frees = check_frees;

  return alloc;
}

static void
system_destroy (FuzzState *state)
{
}

static gboolean
system_may_fail (FuzzState    *state,
                 gsize         size,
                 gsize         alignment,
                 guint64       available_before,
                 const GError *error)
{
  /* Requests are at most 64 KiB: the C library serves them. */
  return FALSE;
}

static const FuzzTarget system_target = {
  .name = "system",
  .create = system_create,
  .destroy = system_destroy,
  .may_fail = system_may_fail,
};

FUZZ_DEFINE_ENTRY_POINT (system_target)
