/* nebula-memory-pressure.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <gio/gio.h>

#include "nebula-allocator.h"
#include "nebula-async-compute-cache.h"
#include "nebula-compute-cache.h"
#include "nebula-version-macros.h"

G_BEGIN_DECLS

NEBULA_AVAILABLE_IN_0_1
guint64   nebula_allocator_handle_memory_pressure           (NebulaAllocator             *self,
                                                             GMemoryMonitorWarningLevel   level,
                                                             GError                     **error);
NEBULA_AVAILABLE_IN_0_1
guint     nebula_compute_cache_handle_memory_pressure       (NebulaComputeCache          *self,
                                                             GMemoryMonitorWarningLevel   level);
NEBULA_AVAILABLE_IN_0_1
guint     nebula_async_compute_cache_handle_memory_pressure (NebulaAsyncComputeCache     *self,
                                                             GMemoryMonitorWarningLevel   level);

NEBULA_AVAILABLE_IN_0_1
gboolean  nebula_memory_pressure_watch                      (GObject                     *object,
                                                             GError                     **error);
NEBULA_AVAILABLE_IN_0_1
void      nebula_memory_pressure_unwatch                    (GObject                     *object);
NEBULA_AVAILABLE_IN_0_1
guint64   nebula_memory_pressure_notify                     (GMemoryMonitorWarningLevel   level);

G_END_DECLS
