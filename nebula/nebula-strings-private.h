/* nebula-strings-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-strings.h"

G_BEGIN_DECLS

/* How many times nebula_allocator_vprintf() has run the formatter in this
 * process: the tests check that a bump allocator formats once. */
guint nebula_strings_get_format_passes (void);

/* vsnprintf() semantics (the whole length returned, what fits written and
 * ended with a nul byte, -1 past G_MAXINT) on a copy of @args, with a
 * quick formatter for the common conversions and g_vsnprintf() for the
 * rest. Counted as a format pass. */
int   nebula_strings_format             (char       *buffer,
                                         gsize       size,
                                         const char *format,
                                         va_list     args) G_GNUC_PRINTF (3, 0);

G_END_DECLS
