/* nebula-arena-buffer.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <stdarg.h>

#include <glib-object.h>

#include "nebula-allocator.h"
#include "nebula-version-macros.h"

G_BEGIN_DECLS

#define NEBULA_TYPE_ARENA_BUFFER (nebula_arena_buffer_get_type ())

typedef struct _NebulaArenaBuffer NebulaArenaBuffer;

NEBULA_AVAILABLE_IN_0_1
GType              nebula_arena_buffer_get_type       (void) G_GNUC_CONST;
NEBULA_AVAILABLE_IN_0_1
NebulaArenaBuffer *nebula_arena_buffer_new            (NebulaAllocator    *allocator,
                                                       gsize               alignment,
                                                       GError            **error);
NEBULA_AVAILABLE_IN_0_1
NebulaArenaBuffer *nebula_arena_buffer_ref            (NebulaArenaBuffer  *self);
NEBULA_AVAILABLE_IN_0_1
void               nebula_arena_buffer_unref          (NebulaArenaBuffer  *self);
NEBULA_AVAILABLE_IN_0_1
gboolean           nebula_arena_buffer_append         (NebulaArenaBuffer  *self,
                                                       const guint8       *data,
                                                       gsize               size,
                                                       GError            **error);
NEBULA_AVAILABLE_IN_0_1
gboolean           nebula_arena_buffer_append_string  (NebulaArenaBuffer  *self,
                                                       const char         *str,
                                                       GError            **error);
NEBULA_AVAILABLE_IN_0_1
gboolean           nebula_arena_buffer_append_array   (NebulaArenaBuffer  *self,
                                                       gconstpointer       data,
                                                       gsize               n_elements,
                                                       gsize               element_size,
                                                       GError            **error);
NEBULA_AVAILABLE_IN_0_1
gboolean           nebula_arena_buffer_append_printf  (NebulaArenaBuffer  *self,
                                                       GError            **error,
                                                       const char         *format,
                                                       ...) G_GNUC_PRINTF (3, 4);
NEBULA_AVAILABLE_IN_0_1
gboolean           nebula_arena_buffer_append_vprintf (NebulaArenaBuffer  *self,
                                                       GError            **error,
                                                       const char         *format,
                                                       va_list             args) G_GNUC_PRINTF (3, 0);
NEBULA_AVAILABLE_IN_0_1
gboolean           nebula_arena_buffer_reserve        (NebulaArenaBuffer  *self,
                                                       gsize               additional,
                                                       GError            **error);
NEBULA_AVAILABLE_IN_0_1
gsize              nebula_arena_buffer_get_length     (NebulaArenaBuffer  *self);
NEBULA_AVAILABLE_IN_0_1
gsize              nebula_arena_buffer_get_capacity   (NebulaArenaBuffer  *self);
NEBULA_AVAILABLE_IN_0_1
gpointer           nebula_arena_buffer_get_data       (NebulaArenaBuffer  *self);
NEBULA_AVAILABLE_IN_0_1
gpointer           nebula_arena_buffer_finish         (NebulaArenaBuffer  *self,
                                                       gsize              *length,
                                                       GError            **error);
NEBULA_AVAILABLE_IN_0_1
char              *nebula_arena_buffer_finish_string  (NebulaArenaBuffer  *self,
                                                       GError            **error);
NEBULA_AVAILABLE_IN_0_1
guint64            nebula_arena_buffer_finish_address (NebulaArenaBuffer  *self,
                                                       guint64            *length,
                                                       GError            **error);
NEBULA_AVAILABLE_IN_0_1
GBytes            *nebula_arena_buffer_finish_bytes   (NebulaArenaBuffer  *self,
                                                       GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NebulaArenaBuffer, nebula_arena_buffer_unref)

/**
 * nebula_arena_buffer_new_array:
 * @allocator: a #NebulaAllocator
 * @Type: the element type
 * @error: return location for a #GError
 *
 * Makes a #NebulaArenaBuffer for an array of @Type: its block is aligned
 * to `G_ALIGNOF (Type)`. Like nebula_allocator_new(), it takes any
 * allocator without a cast.
 *
 * Returns: (transfer full) (nullable): the buffer, or %NULL with @error set
 */
#define nebula_arena_buffer_new_array(allocator, Type, error) \
  nebula_arena_buffer_new (NEBULA_ALLOCATOR (allocator), G_ALIGNOF (Type), (error))

/**
 * nebula_arena_buffer_append_vals:
 * @buffer: a #NebulaArenaBuffer made with nebula_arena_buffer_new_array()
 * @Type: the element type
 * @values: a `const Type *`: the elements to append
 * @n_values: how many
 * @error: return location for a #GError
 *
 * Appends @n_values elements of @Type (`n_values * sizeof (Type)` is
 * overflow-checked), like g_array_append_vals(). A @values pointer of
 * another type than `const Type *` is a compiler warning.
 *
 * |[<!-- language="C" -->
 * g_autoptr(NebulaArenaBuffer) points = nebula_arena_buffer_new_array (arena, Point, &error);
 * Point p = { 1, 2 };
 * gsize size;
 *
 * nebula_arena_buffer_append_vals (points, Point, &p, 1, &error);
 * Point *all = nebula_arena_buffer_finish (points, &size, &error);   // size / sizeof (Point) points
 * ]|
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
#define nebula_arena_buffer_append_vals(buffer, Type, values, n_values, error) \
  nebula_arena_buffer_append_array ((buffer), (1 ? (values) : (const Type *) NULL), (n_values), \
                                    sizeof (Type), (error))

G_END_DECLS
