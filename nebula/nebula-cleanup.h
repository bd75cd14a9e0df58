/* nebula-cleanup.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>

#include "nebula-allocator.h"
#include "nebula-version-macros.h"

G_BEGIN_DECLS

/**
 * NebulaCleanupFunc:
 * @user_data: the data given with the function
 *
 * A cleanup registered with nebula_allocator_add_cleanup_full(): it runs
 * once, when the allocator is reset or disposed, or when the scope,
 * checkpoint or frame it was registered in ends.
 */
typedef void (*NebulaCleanupFunc) (gpointer user_data);

NEBULA_AVAILABLE_IN_0_1
guint    nebula_allocator_add_cleanup      (NebulaAllocator    *self,
                                            GDestroyNotify      func,
                                            gpointer            data);
NEBULA_AVAILABLE_IN_0_1
guint    nebula_allocator_add_cleanup_full (NebulaAllocator    *self,
                                            NebulaCleanupFunc   func,
                                            gpointer            user_data,
                                            GDestroyNotify      destroy);
NEBULA_AVAILABLE_IN_0_1
gboolean nebula_allocator_remove_cleanup   (NebulaAllocator    *self,
                                            guint               handle);
NEBULA_AVAILABLE_IN_0_1
gboolean nebula_allocator_run_cleanup      (NebulaAllocator    *self,
                                            guint               handle);
NEBULA_AVAILABLE_IN_0_1
guint    nebula_allocator_get_n_cleanups   (NebulaAllocator    *self);

G_END_DECLS
