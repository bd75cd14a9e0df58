/* nebula-allocator-script-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-allocator-private.h"

G_BEGIN_DECLS

/* The script entry points' checks (nebula-allocator-script.c). */

/* Whether [address, address + size) passes the span check of @self (and,
 * where the allocator cannot tell, its script ledger); otherwise
 * INVALID_POINTER or INVALID_LAYOUT naming @operation ("free", "resize",
 * "view") and the numbers. *ledgered says whether the ledger answered. */
gboolean nebula_script_check      (NebulaAllocator  *self,
                                   guint64           address,
                                   guint64           size,
                                   NebulaSpanKind    kind,
                                   const char       *operation,
                                   gboolean         *ledgered,
                                   GError          **error);
/* Puts a block a script entry point handed out in the ledger, if the
 * allocator needs one for it. */
void     nebula_script_record     (NebulaAllocator  *self,
                                   gpointer          ptr,
                                   gsize             size);
gboolean nebula_script_forget     (NebulaAllocator  *self,
                                   gpointer          ptr,
                                   gsize            *size);
void     nebula_script_restore    (NebulaAllocator  *self,
                                   gpointer          ptr,
                                   gsize             size);
void     nebula_script_forget_all (NebulaAllocator  *self);

G_END_DECLS
