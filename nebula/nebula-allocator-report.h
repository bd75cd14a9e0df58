/* nebula-allocator-report.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include "nebula-allocator.h"

G_BEGIN_DECLS

NEBULA_AVAILABLE_IN_0_1
GVariant *nebula_allocator_get_report     (NebulaAllocator *self);
NEBULA_AVAILABLE_IN_0_1
char     *nebula_allocator_report_to_json (NebulaAllocator *self);

G_END_DECLS
