/* nebula-pool-allocator.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>

#include "nebula-allocator.h"

G_BEGIN_DECLS

#define NEBULA_TYPE_POOL_ALLOCATOR (nebula_pool_allocator_get_type ())

NEBULA_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (NebulaPoolAllocator, nebula_pool_allocator, NEBULA, POOL_ALLOCATOR, GObject)

NEBULA_AVAILABLE_IN_ALL
NebulaPoolAllocator *nebula_pool_allocator_new         (gsize                 block_size,
                                                        gsize                 block_count,
                                                        GError              **error);
NEBULA_AVAILABLE_IN_ALL
guint                nebula_pool_allocator_get_n_slabs (NebulaPoolAllocator  *self);

G_END_DECLS
