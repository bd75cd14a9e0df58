/* nebula-allocator-trim-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-allocator.h"

G_BEGIN_DECLS

/* How much nebula_allocator_trim() and the memory-pressure handlers give
 * back (nebula-allocator-trim.c, nebula-memory-pressure.c). Neither ever
 * touches a block still in use. */
typedef enum
{
  /* nebula_allocator_trim(), and a LOW pressure warning: what no live
   * block needs and the configuration does not ask to keep (empty pool
   * slabs, spare bump chunks unless reset-policy is keep-all, the spare
   * stack chunk). */
  NEBULA_TRIM_KEEP_CONFIGURED,
  /* MEDIUM and CRITICAL warnings: also the chunks the configuration keeps
   * for reuse (a keep-all bump allocator's spares). */
  NEBULA_TRIM_RETAINED,
} NebulaTrimMode;

guint64  nebula_allocator_trim_mode  (NebulaAllocator  *self,
                                      NebulaTrimMode    mode,
                                      GError          **error);

/* The interface's default: gives back nothing. */
guint64  nebula_allocator_real_trim  (NebulaAllocator  *self,
                                      GError          **error);

/* The trim vfunc of every built-in: dispatches on the core's kind. */
guint64  nebula_allocator_core_trim  (NebulaAllocator  *self,
                                      GError          **error);

/* One per kind, in nebula-bump-trim.c, nebula-pool-trim.c and
 * nebula-stack-trim.c; each takes its allocator's locks. */
guint64  nebula_bump_trim            (NebulaAllocator  *self,
                                      NebulaTrimMode    mode,
                                      GError          **error);
guint64  nebula_pool_trim            (NebulaAllocator  *self,
                                      NebulaTrimMode    mode,
                                      GError          **error);
guint64  nebula_stack_trim           (NebulaAllocator  *self,
                                      NebulaTrimMode    mode,
                                      GError          **error);

G_END_DECLS
