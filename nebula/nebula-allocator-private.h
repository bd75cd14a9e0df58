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

/* The wrappers' full path: everything the inline and direct paths do not
 * serve, with its checks and statistics. A direct path's alloc_all and
 * dealloc_all (nebula-allocator-core-private.h) end here for what they
 * decline. */
gpointer nebula_allocator_allocate_slow   (gpointer          self,
                                           gsize             size,
                                           gsize             alignment,
                                           GError          **error);
gboolean nebula_allocator_deallocate_slow (gpointer          self,
                                           gpointer          ptr,
                                           gsize             size,
                                           gsize             alignment,
                                           GError          **error);

/* What a direct path without alloc_all / dealloc_all gets as its
 * whole-request entry points (nebula_allocator_core_set_direct()): its
 * alloc / dealloc, then the full path for what they decline. @self is a
 * built-in with a direct path. */
gpointer nebula_allocator_allocate_direct   (gpointer          self,
                                             gsize             size,
                                             gsize             alignment,
                                             GError          **error);
gboolean nebula_allocator_deallocate_direct (gpointer          self,
                                             gpointer          ptr,
                                             gsize             size,
                                             gsize             alignment,
                                             GError          **error);

G_END_DECLS
