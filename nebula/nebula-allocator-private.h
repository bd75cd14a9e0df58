/* nebula-allocator-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "nebula-allocator.h"
#include "nebula-layout-private.h"
#include "nebula-error-private.h"
#include "nebula-stats-private.h"

G_BEGIN_DECLS

gboolean nebula_layout_check (NebulaAllocator  *self,
                              gsize             size,
                              gsize             alignment,
                              GError          **error);

void     nebula_allocator_record_failure (NebulaAllocator *self);

/* The counters the public wrappers record into. */
NebulaStatsCounters *nebula_allocator_get_counters (NebulaAllocator *self);

G_END_DECLS
