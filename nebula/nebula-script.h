/* nebula-script.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib.h>

#include "nebula-allocator.h"
#include "nebula-version-macros.h"

G_BEGIN_DECLS

NEBULA_AVAILABLE_IN_ALL
GBytes   *nebula_allocator_read_address  (NebulaAllocator  *self,
                                          guint64           address,
                                          guint64           size,
                                          GError          **error);
NEBULA_AVAILABLE_IN_ALL
gboolean  nebula_allocator_write_address (NebulaAllocator  *self,
                                          guint64           address,
                                          GBytes           *data,
                                          GError          **error);

G_END_DECLS
