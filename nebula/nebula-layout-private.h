/* nebula-layout-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The bounds of a layout and of an address span, header-only: the lowest
 * layer of the allocator core, included by everything above it
 * (docs/architecture.md draws the layers). */

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

G_END_DECLS
