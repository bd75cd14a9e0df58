/* nebula-allocator-core.c: the common head of the built-in allocators.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-core-private.h"

/* The inline functions of the installed headers read these places. */
NEBULA_ASSERT_FAST_FIELD (NebulaAllocatorCore, kind, 0);
NEBULA_ASSERT_FAST_FIELD (NebulaAllocatorCore, iface, 1);
NEBULA_ASSERT_FAST_FIELD (NebulaAllocatorCore, counters, 2);
NEBULA_ASSERT_FAST_FIELD (NebulaAllocatorCore, config, 3);
G_STATIC_ASSERT (sizeof (NebulaAllocatorCore) == 4 * sizeof (gpointer));
G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaStatsCounters, plain) == 0);

void
nebula_allocator_core_constructed (GObject *object)
{
  /* Every core class derives from GObject directly. */
  GObjectClass *object_class = g_type_class_peek_static (G_TYPE_OBJECT);

  if (object_class->constructed != NULL)
    object_class->constructed (object);
}

void
nebula_allocator_core_class_init (GObjectClass *klass)
{
  g_assert (g_type_parent (G_TYPE_FROM_CLASS (klass)) == G_TYPE_OBJECT);

  klass->constructed = nebula_allocator_core_constructed;
}

/* Type-independent setup, once per instance: what PostgreSQL's
 * MemoryContextCreate() does for a context. The class (and so its
 * interface vtable) is complete before any instance exists. */
void
nebula_allocator_core_init (gpointer               self,
                            NebulaAllocatorKind    kind,
                            NebulaStatsCounters   *counters,
                            NebulaAllocatorConfig *config,
                            gboolean               thread_safe_default)
{
  NebulaAllocatorCore *core = nebula_allocator_get_core (self);

  core->kind = kind;
  core->iface = g_type_interface_peek (G_OBJECT_GET_CLASS (self), NEBULA_TYPE_ALLOCATOR);
  core->counters = counters;
  core->config = config;

  g_assert (core->iface != NULL);

  nebula_allocator_config_init (config, thread_safe_default);
  nebula_stats_counters_init (counters, TRUE, thread_safe_default);
}
