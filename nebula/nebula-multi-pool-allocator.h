/* nebula-multi-pool-allocator.h
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

#define NEBULA_TYPE_MULTI_POOL_ALLOCATOR (nebula_multi_pool_allocator_get_type ())

NEBULA_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (NebulaMultiPoolAllocator, nebula_multi_pool_allocator, NEBULA, MULTI_POOL_ALLOCATOR, GObject)

NEBULA_AVAILABLE_IN_0_1
NebulaMultiPoolAllocator *nebula_multi_pool_allocator_new              (GError                   **error);
NEBULA_AVAILABLE_IN_0_1
guint                     nebula_multi_pool_allocator_get_n_classes    (NebulaMultiPoolAllocator  *self);
NEBULA_AVAILABLE_IN_0_1
guint64                   nebula_multi_pool_allocator_get_class_size   (NebulaMultiPoolAllocator  *self,
                                                                        guint64                    size);

G_END_DECLS
