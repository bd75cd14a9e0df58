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

G_END_DECLS
