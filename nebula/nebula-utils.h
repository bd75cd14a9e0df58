/* nebula-utils.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib.h>

#include "nebula-version-macros.h"

G_BEGIN_DECLS

/**
 * NEBULA_ALIGN_UP:
 * @value: an unsigned integer
 * @alignment: a power of two
 *
 * Rounds @value up to a multiple of @alignment. A constant expression when
 * both arguments are, so it can size arrays and static buffers. The caller
 * makes sure the result does not overflow; nebula_align_up() checks.
 */
#define NEBULA_ALIGN_UP(value, alignment) \
  (((value) + ((alignment) - 1)) & ~((__typeof__ (value)) (alignment) - 1))

/**
 * NEBULA_ALIGN_DOWN:
 * @value: an unsigned integer
 * @alignment: a power of two
 *
 * Rounds @value down to a multiple of @alignment; a constant expression when
 * both arguments are.
 */
#define NEBULA_ALIGN_DOWN(value, alignment) \
  ((value) & ~((__typeof__ (value)) (alignment) - 1))

/**
 * NEBULA_IS_POWER_OF_TWO:
 * @value: an unsigned integer
 *
 * Whether @value is a power of two (0 is not); a constant expression when
 * @value is.
 */
#define NEBULA_IS_POWER_OF_TWO(value) ((value) != 0 && ((value) & ((value) - 1)) == 0)

/**
 * NEBULA_IS_ALIGNED:
 * @value: an unsigned integer
 * @alignment: a power of two
 *
 * Whether @value is a multiple of @alignment; a constant expression when
 * both arguments are.
 */
#define NEBULA_IS_ALIGNED(value, alignment) (((value) & ((alignment) - 1)) == 0)

#ifndef __GI_SCANNER__

/* The typed helpers: the compiler folds them for constant arguments. */

static inline gboolean
nebula_is_power_of_two (gsize value)
{
  return NEBULA_IS_POWER_OF_TWO (value);
}

/* Returns FALSE (and leaves *result alone) when the rounding overflows or
 * @alignment is not a power of two. */
static inline gboolean
nebula_align_up (gsize  value,
                 gsize  alignment,
                 gsize *result)
{
  if (!NEBULA_IS_POWER_OF_TWO (alignment) || value > G_MAXSIZE - (alignment - 1))
    return FALSE;

  *result = NEBULA_ALIGN_UP (value, alignment);
  return TRUE;
}

static inline gsize
nebula_align_down (gsize value,
                   gsize alignment)
{
  return NEBULA_ALIGN_DOWN (value, alignment);
}

static inline gpointer
nebula_align_pointer (gpointer pointer,
                      gsize    alignment)
{
  return (gpointer) NEBULA_ALIGN_UP ((guintptr) pointer, alignment);
}

static inline gboolean
nebula_is_aligned (gconstpointer pointer,
                   gsize         alignment)
{
  return NEBULA_IS_ALIGNED ((guintptr) pointer, alignment);
}

#endif /* __GI_SCANNER__ */

NEBULA_AVAILABLE_IN_0_1
void        nebula_memory_copy                (gpointer       dest,
                                               gconstpointer  src,
                                               gsize          n);
NEBULA_AVAILABLE_IN_0_1
void        nebula_memory_fill                (gpointer       dest,
                                               guint8         value,
                                               gsize          n);
NEBULA_AVAILABLE_IN_0_1
void        nebula_secure_zero                (gpointer       dest,
                                               gsize          n);
NEBULA_AVAILABLE_IN_0_1
const char *nebula_memory_get_implementation  (void);

NEBULA_AVAILABLE_IN_0_1
gboolean    nebula_memory_copy_address        (guint64        dest,
                                               guint64        src,
                                               guint64        n,
                                               GError       **error);
NEBULA_AVAILABLE_IN_0_1
gboolean    nebula_memory_fill_address        (guint64        dest,
                                               guint8         value,
                                               guint64        n,
                                               GError       **error);
NEBULA_AVAILABLE_IN_0_1
gboolean    nebula_secure_zero_address        (guint64        dest,
                                               guint64        n,
                                               GError       **error);

G_END_DECLS
