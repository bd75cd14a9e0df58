/* nebula-allocator-core-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-allocator-fast.h"
#include "nebula-allocator-private.h"

G_BEGIN_DECLS

/* Every built-in allocator starts with a NebulaAllocatorCore
 * (nebula-allocator-fast.h) right after its GObject, set up in its
 * instance init by nebula_allocator_core_init(), and its class_init calls
 * nebula_allocator_core_class_init(). The public wrappers of
 * NebulaAllocator then recognise a built-in with one test,
 * nebula_allocator_is_core(), and run its kind's inline path through
 * nebula_allocator_core_fast_alloc() and _fast_dealloc(); every other
 * implementation (C, Python, gjs) is one vtable call. */

void nebula_allocator_core_class_init (GObjectClass          *klass);
void nebula_allocator_core_init       (gpointer               self,
                                       NebulaAllocatorKind    kind,
                                       NebulaStatsCounters   *counters,
                                       NebulaAllocatorConfig *config,
                                       gboolean               thread_safe_default);

/* The class mark: core classes share this constructed(), which only
 * chains up. Every NebulaAllocator is a GObject, so reading its class's
 * constructed is safe whatever the implementation, where reading past the
 * GObject would not be (a Python class's instance ends there). */
void nebula_allocator_core_constructed (GObject *object);

static inline gboolean
nebula_allocator_is_core (gconstpointer self)
{
  return G_OBJECT_GET_CLASS (self)->constructed == nebula_allocator_core_constructed;
}

static inline NebulaAllocatorCore *
nebula_allocator_get_core (gconstpointer self)
{
  return _NEBULA_CORE (self);
}

/* The inline paths of every kind, for the public wrappers: FALSE sends the
 * request to the exported path, which handles (and explains) the rest. */
static inline gboolean
nebula_allocator_core_fast_alloc (NebulaAllocatorCore *core,
                                  gsize                size,
                                  gsize                alignment,
                                  gpointer            *out)
{
  gpointer fast = core + 1;

  /* The bump allocator's first, as before there was a core: it is the
   * one whose whole request is a handful of instructions. */
  if (G_LIKELY (core->kind == NEBULA_ALLOCATOR_KIND_BUMP))
    return _nebula_bump_fast_alloc ((NebulaBumpFast *) fast, size, alignment, out);
  if (core->kind == NEBULA_ALLOCATOR_KIND_POOL)
    return _nebula_pool_fast_alloc ((NebulaPoolFast *) fast, size, alignment, out);
  if (core->kind == NEBULA_ALLOCATOR_KIND_STACK)
    return _nebula_stack_fast_alloc ((NebulaStackFast *) fast, size, alignment, out);

  return FALSE;
}

static inline gboolean
nebula_allocator_core_fast_dealloc (NebulaAllocatorCore *core,
                                    gpointer             ptr,
                                    gsize                size,
                                    gsize                alignment)
{
  gpointer fast = core + 1;

  if (G_LIKELY (core->kind == NEBULA_ALLOCATOR_KIND_BUMP))
    return _nebula_bump_fast_dealloc ((NebulaBumpFast *) fast, ptr, size, alignment);
  if (core->kind == NEBULA_ALLOCATOR_KIND_POOL)
    return _nebula_pool_fast_dealloc ((NebulaPoolFast *) fast, ptr, size, alignment);
  if (core->kind == NEBULA_ALLOCATOR_KIND_STACK)
    return _nebula_stack_fast_dealloc ((NebulaStackFast *) fast, ptr, size, alignment);

  return FALSE;
}

/* Each allocator's file pins where its fast fields lie. */
#define NEBULA_ASSERT_CORE_LAYOUT(Type)                                            \
  G_STATIC_ASSERT (G_STRUCT_OFFSET (Type, core) == sizeof (GObject));              \
  G_STATIC_ASSERT (G_STRUCT_OFFSET (Type, fast) == sizeof (GObject) + sizeof (NebulaAllocatorCore))

G_END_DECLS
