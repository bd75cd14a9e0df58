/* nebula-system-allocator.h
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

#define NEBULA_TYPE_SYSTEM_ALLOCATOR (nebula_system_allocator_get_type ())

NEBULA_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (NebulaSystemAllocator, nebula_system_allocator, NEBULA, SYSTEM_ALLOCATOR, GObject)

NEBULA_AVAILABLE_IN_0_1
NebulaSystemAllocator *nebula_system_allocator_new (GError **error);

G_END_DECLS
