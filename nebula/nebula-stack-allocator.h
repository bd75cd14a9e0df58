/* nebula-stack-allocator.h
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

#define NEBULA_TYPE_STACK_ALLOCATOR (nebula_stack_allocator_get_type ())
#define NEBULA_TYPE_STACK_MARKER    (nebula_stack_marker_get_type ())

typedef struct _NebulaStackMarker NebulaStackMarker;

NEBULA_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (NebulaStackAllocator, nebula_stack_allocator, NEBULA, STACK_ALLOCATOR, GObject)

NEBULA_AVAILABLE_IN_ALL
NebulaStackAllocator *nebula_stack_allocator_new                     (gsize                     capacity,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_ALL
NebulaStackMarker    *nebula_stack_allocator_mark                    (NebulaStackAllocator     *self);
NEBULA_AVAILABLE_IN_ALL
NebulaStackMarker    *nebula_stack_allocator_mark_high               (NebulaStackAllocator     *self);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_stack_allocator_release_to_marker       (NebulaStackAllocator     *self,
                                                                      const NebulaStackMarker  *marker,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_ALL
gpointer              nebula_stack_allocator_allocate_high           (NebulaStackAllocator     *self,
                                                                      gsize                     size,
                                                                      gsize                     alignment,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_ALL
guint64               nebula_stack_allocator_allocate_high_address   (NebulaStackAllocator     *self,
                                                                      guint64                   size,
                                                                      guint64                   alignment,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_stack_allocator_deallocate_high         (NebulaStackAllocator     *self,
                                                                      gpointer                  ptr,
                                                                      gsize                     size,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_stack_allocator_deallocate_high_address (NebulaStackAllocator     *self,
                                                                      guint64                   address,
                                                                      guint64                   size,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_ALL
guint                 nebula_stack_allocator_get_n_chunks            (NebulaStackAllocator     *self);

NEBULA_AVAILABLE_IN_ALL
GType                 nebula_stack_marker_get_type                   (void) G_GNUC_CONST;
NEBULA_AVAILABLE_IN_ALL
NebulaStackMarker    *nebula_stack_marker_copy                       (const NebulaStackMarker  *marker);
NEBULA_AVAILABLE_IN_ALL
void                  nebula_stack_marker_free                       (NebulaStackMarker        *marker);
NEBULA_AVAILABLE_IN_ALL
guint64               nebula_stack_marker_get_position               (const NebulaStackMarker  *marker);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_stack_marker_is_high                    (const NebulaStackMarker  *marker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NebulaStackMarker, nebula_stack_marker_free)

/**
 * NebulaStackFrame: (skip)
 *
 * A marker that releases itself when freed: declare it with g_autoptr()
 * and everything allocated on its end of the stack in the enclosing scope
 * is released at the scope's end. `NEBULA_STACK_FRAME (stack);` declares
 * one on the low end under a generated name. Python has
 * `with stack.frame():`.
 */
typedef struct _NebulaStackFrame NebulaStackFrame;

NEBULA_AVAILABLE_IN_ALL
NebulaStackFrame     *nebula_stack_frame_new                         (NebulaStackAllocator     *stack);
NEBULA_AVAILABLE_IN_ALL
NebulaStackFrame     *nebula_stack_frame_new_high                    (NebulaStackAllocator     *stack);
NEBULA_AVAILABLE_IN_ALL
void                  nebula_stack_frame_free                        (NebulaStackFrame         *frame);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NebulaStackFrame, nebula_stack_frame_free)

G_END_DECLS
