/* nebula-allocator-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "nebula-allocator.h"
#include "nebula-memory-budget.h"
#include "nebula-error-private.h"
#include "nebula-stats-private.h"

G_BEGIN_DECLS

/* The largest request the inline fast paths (NebulaBumpFast,
 * NebulaStackFast) may serve: below it none of their arithmetic can wrap,
 * and larger requests cannot succeed anyway (a chunk is at most
 * G_MAXSSIZE). */
#define NEBULA_MAX_FAST_SIZE ((gsize) G_GUINT64_CONSTANT (0x3FFFFFFFFFFFFFFF))

/* The fast fields are read by inline functions compiled into callers, so
 * their layout is ABI: every field is one word (block_shift, a guint, is
 * padded to one), at the place these assertions pin. */
#define NEBULA_ASSERT_FAST_FIELD(Type, field, index) \
  G_STATIC_ASSERT (G_STRUCT_OFFSET (Type, field) == (index) * sizeof (gpointer))

/* The largest request any allocator accepts. */
#define NEBULA_MAX_ALLOCATION_SIZE ((gsize) G_MAXSSIZE)

/* One branch for the common case; nebula_layout_check() says what is wrong. */
static inline gboolean
nebula_layout_is_valid (gsize size,
                        gsize alignment)
{
  return (alignment & (alignment - 1)) == 0 &&
         alignment != 0 &&
         size <= NEBULA_MAX_ALLOCATION_SIZE;
}

gboolean nebula_layout_check (NebulaAllocator  *self,
                              gsize             size,
                              gsize             alignment,
                              GError          **error);

void     nebula_allocator_record_failure (NebulaAllocator *self);

/* The counters the public wrappers record into. */
NebulaStatsCounters *nebula_allocator_get_counters (NebulaAllocator *self);

/* Reports. nebula_allocator_get_report() fills in what every allocator has
 * (type, name, configuration, statistics); a type adds its own part (its
 * chunks or slabs, with "size" and "used", and "fragmentation") with a
 * function registered once, in class_init:
 *
 *   nebula_allocator_set_report_func (G_TYPE_FROM_CLASS (klass), pool_report);
 *
 * The function runs on the caller's thread, with the allocator quiescent or
 * not: take the locks the data needs. Keys of the common part are listed
 * in nebula-allocator-report.c. */
typedef void (*NebulaAllocatorReportFunc) (NebulaAllocator *self,
                                           GVariantDict    *report);
void nebula_allocator_set_report_func (GType                      type,
                                       NebulaAllocatorReportFunc  func);

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

/* Whether [start, start + size) is a range of addresses at all: no wrap
 * past the end of the address space (and no size above G_MAXSSIZE). */
static inline gboolean
nebula_span_is_sane (guint64 start,
                     guint64 size)
{
  return start <= (guint64) (guintptr) -1 && size <= (guint64) G_MAXSSIZE &&
         (guintptr) start <= (guintptr) -1 - (guintptr) size;
}

/* Whether [start, start + size) lies in [lo, hi). Callers checked
 * nebula_span_is_sane(). */
static inline gboolean
nebula_span_within (guintptr      start,
                    gsize         size,
                    gconstpointer lo,
                    gconstpointer hi)
{
  return start >= (guintptr) lo && start < (guintptr) hi &&
         size <= (guintptr) hi - start;
}

/* The process-wide registry of live built-in allocators, which the memory
 * utilities for bindings search (nebula-utils.c). An allocator is added
 * when its configuration first initializes (nebula_allocator_config_ensure)
 * and removed by a weak reference when it is disposed: it never keeps one
 * alive. Returns TRUE if one of them accepts the span as NEBULA_SPAN_INSIDE
 * (or, for an untracked span, its script ledger does). */
gboolean nebula_allocator_registry_check_span (guintptr start,
                                               gsize    size);
void     nebula_allocator_registry_add        (NebulaAllocator *self);

/* JSON text of any GVariant (g_variant_print() is not JSON). */
char *nebula_variant_to_json (GVariant *value);

/* "Bump allocator 'frames'" or "Bump allocator": for messages. */
char *nebula_allocator_describe (NebulaAllocator *self);

G_END_DECLS
