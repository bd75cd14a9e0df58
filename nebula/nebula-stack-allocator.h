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
#include "nebula-allocator-fast.h"
#include "nebula-macros.h"

G_BEGIN_DECLS

#define NEBULA_TYPE_STACK_ALLOCATOR (nebula_stack_allocator_get_type ())
#define NEBULA_TYPE_STACK_MARKER    (nebula_stack_marker_get_type ())

typedef struct _NebulaStackMarker NebulaStackMarker;

NEBULA_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (NebulaStackAllocator, nebula_stack_allocator, NEBULA, STACK_ALLOCATOR, GObject)

NEBULA_AVAILABLE_IN_0_1
NebulaStackAllocator *nebula_stack_allocator_new                     (gsize                     capacity,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_0_1
NebulaStackMarker    *nebula_stack_allocator_mark                    (NebulaStackAllocator     *self);
NEBULA_AVAILABLE_IN_0_1
NebulaStackMarker    *nebula_stack_allocator_mark_high               (NebulaStackAllocator     *self);
NEBULA_AVAILABLE_IN_0_1
gboolean              nebula_stack_allocator_release_to_marker       (NebulaStackAllocator     *self,
                                                                      const NebulaStackMarker  *marker,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_0_1
gpointer              nebula_stack_allocator_allocate_high           (NebulaStackAllocator     *self,
                                                                      gsize                     size,
                                                                      gsize                     alignment,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_0_1
guint64               nebula_stack_allocator_allocate_high_address   (NebulaStackAllocator     *self,
                                                                      guint64                   size,
                                                                      guint64                   alignment,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_0_1
gboolean              nebula_stack_allocator_deallocate_high         (NebulaStackAllocator     *self,
                                                                      gpointer                  ptr,
                                                                      gsize                     size,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_0_1
gboolean              nebula_stack_allocator_deallocate_high_address (NebulaStackAllocator     *self,
                                                                      guint64                   address,
                                                                      guint64                   size,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_0_1
guint                 nebula_stack_allocator_get_n_chunks            (NebulaStackAllocator     *self);

NEBULA_AVAILABLE_IN_0_1
GType                 nebula_stack_marker_get_type                   (void) G_GNUC_CONST;
NEBULA_AVAILABLE_IN_0_1
NebulaStackMarker    *nebula_stack_marker_copy                       (const NebulaStackMarker  *marker);
NEBULA_AVAILABLE_IN_0_1
void                  nebula_stack_marker_free                       (NebulaStackMarker        *marker);
NEBULA_AVAILABLE_IN_0_1
guint64               nebula_stack_marker_get_position               (const NebulaStackMarker  *marker);
NEBULA_AVAILABLE_IN_0_1
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

NEBULA_AVAILABLE_IN_0_1
NebulaStackFrame     *nebula_stack_frame_new                         (NebulaStackAllocator     *stack);
NEBULA_AVAILABLE_IN_0_1
NebulaStackFrame     *nebula_stack_frame_new_high                    (NebulaStackAllocator     *stack);
NEBULA_AVAILABLE_IN_0_1
void                  nebula_stack_frame_free                        (NebulaStackFrame         *frame);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NebulaStackFrame, nebula_stack_frame_free)

#ifndef __GI_SCANNER__

/**
 * nebula_stack_allocator_alloc: (skip)
 * @self: a #NebulaStackAllocator
 * @size: the number of bytes
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * nebula_allocator_allocate() for a #NebulaStackAllocator, inlined into
 * the caller: a block that fits in the current chunk costs a few
 * instructions and no call. Anything else (a full chunk, growth, a size of
 * 0, an invalid layout, a filling stack) goes through
 * nebula_allocator_allocate(), with identical results and statistics.
 *
 * Returns: (transfer none) (nullable): the memory, or %NULL with @error set
 */
static inline gpointer
nebula_stack_allocator_alloc (NebulaStackAllocator  *self,
                              gsize                  size,
                              gsize                  alignment,
                              GError               **error)
{
  gpointer ptr;

  if (G_LIKELY (_nebula_stack_fast_alloc (_NEBULA_STACK_FAST (self), size, alignment, &ptr)))
    {
      _NEBULA_FAST_BLOCK (ptr);
      return ptr;
    }

  return nebula_allocator_allocate ((NebulaAllocator *) self, size, alignment, error);
}

/**
 * nebula_stack_allocator_free: (skip)
 * @self: a #NebulaStackAllocator
 * @ptr: the top block of the low end of @self
 * @size: the size @ptr was allocated with
 * @alignment: the alignment @ptr was allocated with
 * @error: return location for a #GError
 *
 * nebula_allocator_deallocate() for a #NebulaStackAllocator, inlined: the
 * top block, with its header intact, is popped without a call; every
 * other case takes the exported path (which raises
 * %NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER for a block that is not on top).
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
static inline gboolean
nebula_stack_allocator_free (NebulaStackAllocator  *self,
                             gpointer               ptr,
                             gsize                  size,
                             gsize                  alignment,
                             GError               **error)
{
  if (G_LIKELY (_nebula_stack_fast_dealloc (_NEBULA_STACK_FAST (self), ptr, size, alignment)))
    return TRUE;

  return nebula_allocator_deallocate ((NebulaAllocator *) self, ptr, size, alignment, error);
}

#endif /* __GI_SCANNER__ */

G_END_DECLS
