/* nebula-strings.h
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

NEBULA_AVAILABLE_IN_0_1
char     *nebula_allocator_strdup          (NebulaAllocator     *self,
                                            const char          *str,
                                            GError             **error);
NEBULA_AVAILABLE_IN_0_1
char     *nebula_allocator_strndup         (NebulaAllocator     *self,
                                            const char          *str,
                                            gsize                n,
                                            GError             **error);
NEBULA_AVAILABLE_IN_0_1
gpointer  nebula_allocator_memdup          (NebulaAllocator     *self,
                                            gconstpointer        mem,
                                            gsize                size,
                                            gsize                alignment,
                                            GError             **error);
NEBULA_AVAILABLE_IN_0_1
char     *nebula_allocator_printf          (NebulaAllocator     *self,
                                            GError             **error,
                                            const char          *format,
                                            ...) G_GNUC_PRINTF (3, 4);
NEBULA_AVAILABLE_IN_0_1
char     *nebula_allocator_vprintf         (NebulaAllocator     *self,
                                            GError             **error,
                                            const char          *format,
                                            va_list              args) G_GNUC_PRINTF (3, 0);
NEBULA_AVAILABLE_IN_0_1
char     *nebula_allocator_strconcat       (NebulaAllocator     *self,
                                            GError             **error,
                                            const char          *first,
                                            ...) G_GNUC_NULL_TERMINATED;
NEBULA_AVAILABLE_IN_0_1
char     *nebula_allocator_strjoinv        (NebulaAllocator     *self,
                                            const char          *separator,
                                            const char * const  *str_array,
                                            GError             **error);

NEBULA_AVAILABLE_IN_0_1
guint64   nebula_allocator_strdup_address  (NebulaAllocator     *self,
                                            const char          *str,
                                            GError             **error);
NEBULA_AVAILABLE_IN_0_1
guint64   nebula_allocator_memdup_address  (NebulaAllocator     *self,
                                            const guint8        *data,
                                            gsize                size,
                                            guint64              alignment,
                                            GError             **error);
NEBULA_AVAILABLE_IN_0_1
guint64   nebula_allocator_strjoinv_address (NebulaAllocator    *self,
                                            const char          *separator,
                                            const char * const  *str_array,
                                            GError             **error);

G_END_DECLS
