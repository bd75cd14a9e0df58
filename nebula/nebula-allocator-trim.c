/* nebula-allocator-trim.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-core-private.h"
#include "nebula-allocator-trim-private.h"
#include "nebula-sysprof-private.h"

/* nebula_allocator_trim(): the public method, the vfunc's default and the
 * built-ins' vfunc, which dispatches on the core's kind to the allocator's
 * own file (nebula-bump-trim.c, nebula-pool-trim.c, nebula-stack-trim.c). */

/**
 * NebulaAllocatorInterface::trim:
 * @self: a #NebulaAllocator
 * @error: return location for a #GError
 *
 * Gives back to the system the memory no live block needs and the
 * configuration does not ask to keep. The default gives back nothing.
 * Never frees a block still in use; a second call in a row returns 0.
 *
 * Returns: the number of bytes given back, 0 with @error set on failure
 */
guint64
nebula_allocator_real_trim (NebulaAllocator  *self,
                            GError          **error)
{
  return 0;
}

static guint64
trim_kind (NebulaAllocator  *self,
           NebulaTrimMode    mode,
           GError          **error)
{
  switch (nebula_allocator_get_core (self)->kind)
    {
    case NEBULA_ALLOCATOR_KIND_BUMP:
      return nebula_bump_trim (self, mode, error);
    case NEBULA_ALLOCATOR_KIND_POOL:
      return nebula_pool_trim (self, mode, error);
    case NEBULA_ALLOCATOR_KIND_STACK:
      return nebula_stack_trim (self, mode, error);
    case NEBULA_ALLOCATOR_KIND_SYSTEM:
    default:
      /* malloc() keeps no memory for the allocator: every free block
       * went back to the C library at once. */
      return 0;
    }
}

guint64
nebula_allocator_core_trim (NebulaAllocator  *self,
                            GError          **error)
{
  return trim_kind (self, NEBULA_TRIM_KEEP_CONFIGURED, error);
}

guint64
nebula_allocator_trim_mode (NebulaAllocator  *self,
                            NebulaTrimMode    mode,
                            GError          **error)
{
  NebulaAllocatorInterface *iface = NEBULA_ALLOCATOR_GET_IFACE (self);
  GError *local_error = NULL;
  guint64 given;

  if (nebula_allocator_is_core (self) && iface->trim == nebula_allocator_core_trim)
    given = trim_kind (self, mode, &local_error);
  else if (iface->trim != NULL)
    given = iface->trim (self, &local_error);
  else
    given = 0;

  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return 0;
    }

  nebula_sysprof_trim (self, mode == NEBULA_TRIM_RETAINED, given);
  return given;
}

/**
 * nebula_allocator_trim:
 * @self: a #NebulaAllocator
 * @error: return location for a #GError
 *
 * Gives back to the system the memory that no live block needs and that
 * the configuration does not ask to keep: the slabs a #NebulaPoolAllocator
 * grew by once all their blocks are free, the spare chunks of a
 * #NebulaBumpAllocator (those a checkpoint
 * restore emptied; with #NebulaResetPolicy keep-all the configuration asks
 * to keep them, and they stay) and the spare chunk of a
 * #NebulaStackAllocator. Chunks and slabs holding live blocks always stay,
 * so no pointer handed out becomes invalid.
 *
 * The memory given back is uncharged from the allocator's
 * #NebulaMemoryBudget, and the `reserved` figure of
 * nebula_allocator_get_report() drops by exactly the number returned.
 * Trimming twice in a row gives back nothing the second time.
 *
 * A thread-safe allocator takes its locks; another one must not be used
 * from another thread meanwhile. A thread-safe pool is trimmed while other
 * threads use it: the free blocks the calling thread keeps for itself
 * (#NebulaPoolAllocator:magazine-size) are given back first, those other
 * threads keep count as in use until each thread's next call on the pool.
 * An implementation from outside gives back
 * what its #NebulaAllocatorInterface::trim does (by default, nothing).
 * docs/desktop.md says when to call it.
 *
 * Returns: the number of bytes given back; 0 with @error set when the
 *   configuration of @self is invalid
 */
guint64
nebula_allocator_trim (NebulaAllocator  *self,
                       GError          **error)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  return nebula_allocator_trim_mode (self, NEBULA_TRIM_KEEP_CONFIGURED, error);
}
