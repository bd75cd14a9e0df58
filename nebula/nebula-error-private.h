/* nebula-error-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-allocator.h"
#include "nebula-error.h"

G_BEGIN_DECLS

/* What an error knows beyond its message. Numbers that do not apply are
 * left at 0; strings that do not apply stay NULL. */
typedef struct
{
  guint64     requested;
  guint64     available;
  guint64     capacity;
  /* Who raised it, as messages name it: "Pool allocator 'records'",
   * "Memory budget 'frames'" (nebula_allocator_describe()). The name
   * nebula_error_get_allocator_name() returns is the quoted part. */
  const char *what;
  const char *suggestion;      /* NULL: the catalogue's */
} NebulaErrorInfo;

/* Raises @code in @domain with a printf-style message. The call-site path
 * (NEBULA_ALLOC_CONTEXT) is appended to the message and recorded in the
 * detail. @info may be NULL. */
void nebula_set_error (GError                **error,
                       GQuark                  domain,
                       gint                    code,
                       const NebulaErrorInfo  *info,
                       const char             *format,
                       ...) G_GNUC_PRINTF (5, 6);

/* The catalogue: one entry for every code of both domains. */
const char *nebula_error_catalogue_suggestion (GQuark domain,
                                               gint   code);
gboolean    nebula_error_catalogue_retryable  (GQuark domain,
                                               gint   code);

/* "Bump allocator 'frames'" or "Bump allocator": for messages. */
char *nebula_allocator_describe (NebulaAllocator *self);

G_END_DECLS
