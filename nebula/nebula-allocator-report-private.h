/* nebula-allocator-report-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "nebula-allocator.h"

G_BEGIN_DECLS

/* Reports. nebula_allocator_get_report() fills in what every allocator has
 * (type, name, configuration, statistics); a type adds its own part (its
 * chunks or slabs, with "size" and "used", and "fragmentation") with a
 * function registered once, in class_init:
 *
 *   nebula_allocator_set_report_func (G_TYPE_FROM_CLASS (klass), pool_report);
 *
 * The function runs on the caller's thread, with the allocator quiescent or
 * not: take the locks the data needs. Keys of the common part are listed
 * in nebula-allocator-report.c. */
typedef void (*NebulaAllocatorReportFunc) (NebulaAllocator *self,
                                           GVariantDict    *report);
void nebula_allocator_set_report_func (GType                      type,
                                       NebulaAllocatorReportFunc  func);

/* JSON text of any GVariant (g_variant_print() is not JSON). */
char *nebula_variant_to_json (GVariant *value);

G_END_DECLS
