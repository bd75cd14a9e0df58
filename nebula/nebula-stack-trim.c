/* nebula-stack-trim.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-trim-private.h"
#include "nebula-stack-allocator-private.h"

/* What a stack gives back when trimmed: the one emptied chunk it keeps
 * against thrashing (no property asks for it, so every mode takes it).
 * The chunks the two ends span hold live blocks and stay. */
guint64
nebula_stack_trim (NebulaAllocator  *allocator,
                   NebulaTrimMode    mode,
                   GError          **error)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  guint64 given = 0;

  if (!ensure_ready (self, error))
    return 0;

  if (self->spare != NULL)
    {
      given = self->spare->size;
      nebula_stack_chunk_free (self, g_steal_pointer (&self->spare));
    }

  return given;
}
