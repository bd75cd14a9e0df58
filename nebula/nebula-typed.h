/* nebula-typed.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>

#include "nebula-allocator.h"
#include "nebula-version-macros.h"

G_BEGIN_DECLS

NEBULA_AVAILABLE_IN_0_1
gpointer nebula_allocator_allocate_array         (NebulaAllocator  *self,
                                                  gsize             n_elements,
                                                  gsize             element_size,
                                                  gsize             alignment,
                                                  gboolean          zeroed,
                                                  GError          **error);
NEBULA_AVAILABLE_IN_0_1
gboolean nebula_allocator_deallocate_array       (NebulaAllocator  *self,
                                                  gpointer          ptr,
                                                  gsize             n_elements,
                                                  gsize             element_size,
                                                  gsize             alignment,
                                                  GError          **error);
NEBULA_AVAILABLE_IN_0_1
guint64  nebula_allocator_allocate_array_address (NebulaAllocator  *self,
                                                  guint64           n_elements,
                                                  guint64           element_size,
                                                  guint64           alignment,
                                                  gboolean          zeroed,
                                                  GError          **error);

/* The macros below are not introspectable (the scanner marks them so) and
 * appear in the reference only; bindings have
 * nebula_allocator_allocate_array() and their own scope helpers. */

/**
 * nebula_allocator_new:
 * @allocator: a #NebulaAllocator
 * @Type: the element type
 * @n_elements: how many elements
 * @error: return location for a #GError
 *
 * Allocates @n_elements elements of @Type from @allocator, aligned to
 * `G_ALIGNOF (Type)`, and returns a `Type *`. When `n_elements * sizeof
 * (Type)` does not fit in a #gsize the result is %NULL with
 * %NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW, never a short block.
 *
 * |[<!-- language="C" -->
 * Point *points = nebula_allocator_new (alloc, Point, n, &error);
 * ]|
 *
 * Returns: (nullable): the elements, or %NULL with @error set
 */
#define nebula_allocator_new(allocator, Type, n_elements, error) \
  ((Type *) nebula_allocator_allocate_array (NEBULA_ALLOCATOR (allocator), (n_elements), \
                                             sizeof (Type), G_ALIGNOF (Type), FALSE, (error)))

/**
 * nebula_allocator_new0:
 * @allocator: a #NebulaAllocator
 * @Type: the element type
 * @n_elements: how many elements
 * @error: return location for a #GError
 *
 * Like nebula_allocator_new(), with the elements zero-filled.
 *
 * Returns: (nullable): the elements, or %NULL with @error set
 */
#define nebula_allocator_new0(allocator, Type, n_elements, error) \
  ((Type *) nebula_allocator_allocate_array (NEBULA_ALLOCATOR (allocator), (n_elements), \
                                             sizeof (Type), G_ALIGNOF (Type), TRUE, (error)))

/**
 * nebula_allocator_delete:
 * @allocator: the #NebulaAllocator the elements came from
 * @Type: the element type
 * @mem: the elements, from nebula_allocator_new() or nebula_allocator_new0()
 * @n_elements: how many elements were allocated
 * @error: return location for a #GError
 *
 * Gives back @n_elements elements of @Type that nebula_allocator_new()
 * allocated from @allocator, with the size and alignment it used. Like
 * nebula_allocator_new(), it takes any allocator (a `NebulaPoolAllocator *`,
 * a `NebulaBumpAllocator *`, ...) without a cast.
 *
 * |[<!-- language="C" -->
 * Record *records = nebula_allocator_new (pool, Record, 4, &error);
 * ...
 * nebula_allocator_delete (pool, Record, records, 4, &error);
 * ]|
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
#define nebula_allocator_delete(allocator, Type, mem, n_elements, error) \
  nebula_allocator_deallocate_array (NEBULA_ALLOCATOR (allocator), (mem), (n_elements), \
                                     sizeof (Type), G_ALIGNOF (Type), (error))

G_END_DECLS
