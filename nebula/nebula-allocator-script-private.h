/* nebula-allocator-script-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "nebula-allocator.h"
#include "nebula-layout-private.h"

G_BEGIN_DECLS

/* Span checks: what the script entry points (the `_address` functions,
 * view() in Python, the memory utilities for bindings) ask before they let
 * an address from a script reach memory. A built-in type registers one in
 * class_init, like its report function:
 *
 *   nebula_allocator_set_span_func (G_TYPE_FROM_CLASS (klass), pool_span);
 *
 * NEBULA_SPAN_FREE and NEBULA_SPAN_RESIZE ask whether [start, start + size)
 * begins a live block at least @size bytes long (before a free, before a
 * resize, which may copy @size bytes from @start); NEBULA_SPAN_INSIDE
 * whether it lies wholly inside one live block, or, for an allocator that
 * does not know where its blocks end (bump, stack), inside the used part of
 * one chunk. The function never dereferences @start, takes the allocator's
 * own locks, and must not wrap: start + size past the address space is
 * NEBULA_SPAN_FOREIGN. On NEBULA_SPAN_WRONG_SIZE it stores the size of the
 * block found in @block_size. NEBULA_SPAN_UNTRACKED means "these bytes lie
 * in my blocks but I do not know whether the block is live" (Pool and
 * System without check-frees): the caller then consults the script ledger
 * (nebula-allocator-script.c). NEBULA_SPAN_NOT_READY: the allocator's
 * configuration is invalid (its GInitable init says why).
 * NEBULA_SPAN_DEFER, for a free or resize only: not a live block of that
 * size, but the allocator's own free and resize check this very fact before
 * they touch memory (a pool or system allocator with check-frees, a stack)
 * and say precisely what is wrong (DOUBLE_FREE, OUT_OF_ORDER, ...): the
 * script entry point lets them. The C fast paths never call these. */
typedef enum
{
  NEBULA_SPAN_FREE,
  NEBULA_SPAN_RESIZE,
  NEBULA_SPAN_INSIDE,
} NebulaSpanKind;

typedef enum
{
  NEBULA_SPAN_OK,
  NEBULA_SPAN_FOREIGN,
  NEBULA_SPAN_WRONG_SIZE,
  NEBULA_SPAN_UNTRACKED,
  NEBULA_SPAN_NOT_READY,
  NEBULA_SPAN_DEFER,
} NebulaSpanResult;

typedef NebulaSpanResult (*NebulaAllocatorSpanFunc) (NebulaAllocator *self,
                                                     guintptr         start,
                                                     gsize            size,
                                                     NebulaSpanKind   kind,
                                                     gsize           *block_size);
void                    nebula_allocator_set_span_func (GType                    type,
                                                        NebulaAllocatorSpanFunc  func);
NebulaAllocatorSpanFunc nebula_allocator_get_span_func (GType                    type);

/* The process-wide registry of live built-in allocators, which the memory
 * utilities for bindings search (nebula-utils.c). An allocator is added
 * when its configuration first initializes (nebula_allocator_config_ensure)
 * and removed by a weak reference when it is disposed: it never keeps one
 * alive. Returns TRUE if one of them accepts the span as NEBULA_SPAN_INSIDE
 * (or, for an untracked span, its script ledger does). */
gboolean nebula_allocator_registry_check_span (guintptr start,
                                               gsize    size);
void     nebula_allocator_registry_add        (NebulaAllocator *self);

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
