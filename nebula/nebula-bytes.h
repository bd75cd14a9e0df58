/* nebula-bytes.h
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

NEBULA_AVAILABLE_IN_0_1
GBytes *nebula_allocator_to_bytes         (NebulaAllocator  *self,
                                           gpointer          data,
                                           gsize             size,
                                           gsize             alignment,
                                           GError          **error);
NEBULA_AVAILABLE_IN_0_1
GBytes *nebula_allocator_to_bytes_address (NebulaAllocator  *self,
                                           guint64           address,
                                           guint64           size,
                                           guint64           alignment,
                                           GError          **error);
NEBULA_AVAILABLE_IN_0_1
GBytes *nebula_allocator_bytes_new        (NebulaAllocator  *self,
                                           const guint8     *data,
                                           gsize             size,
                                           gsize             alignment,
                                           GError          **error);

G_END_DECLS
