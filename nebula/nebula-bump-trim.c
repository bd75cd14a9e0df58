/* nebula-bump-trim.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-trim-private.h"
#include "nebula-bump-allocator-private.h"

/* What a bump allocator gives back when trimmed: its spare chunks, the
 * regular chunks a checkpoint restore (or a keep-all reset) emptied and
 * kept for reuse. Chunks on the current chain and dedicated chunks hold
 * live blocks, or may: they stay. A keep-all reset policy asks to keep
 * the spares, so only NEBULA_TRIM_RETAINED takes those. */
guint64
nebula_bump_trim (NebulaAllocator  *allocator,
                  NebulaTrimMode    mode,
                  GError          **error)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;
  guint64 given = 0;

  if (!nebula_bump_ensure_ready (self, error))
    return 0;

  if (self->config.thread_safe)
    nebula_mutex_lock (&self->grow_lock);

  if (mode == NEBULA_TRIM_RETAINED || self->reset_policy != NEBULA_RESET_POLICY_KEEP_ALL)
    {
      Chunk *spare = self->spare;

      self->spare = NULL;
      while (spare != NULL)
        {
          Chunk *prev = spare->prev;

          given += spare->size;
          self->reserved -= spare->size;
          nebula_bump_chunk_free (self, spare);
          spare = prev;
        }
    }

  if (self->config.thread_safe)
    nebula_mutex_unlock (&self->grow_lock);

  return given;
}
