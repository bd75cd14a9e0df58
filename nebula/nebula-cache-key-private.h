/* nebula-cache-key-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Checks that @key can be a cache key: non-NULL, of a basic type or a tuple
 * of basic types. Raises NEBULA_CACHE_ERROR_INVALID_KEY otherwise. */
gboolean  nebula_cache_check_key          (GVariant            *key,
                                           GError             **error);

/* Hashes a valid key from its value (no serialising); tuples mix their
 * members' hashes. */
guint     nebula_cache_key_hash           (gconstpointer        key);

/* Compares two valid keys as g_variant_equal() does, reading basic values
 * directly instead of serialising them. */
gboolean  nebula_cache_key_equal          (gconstpointer        a,
                                           gconstpointer        b);

/* Hashes an integer key: a multiplicative mix of its 64 bits. */
static inline guint
nebula_cache_int_hash (gint64 key)
{
  guint64 mixed = (guint64) key * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);

  return (guint) (mixed >> 32) ^ (guint) mixed;
}

G_END_DECLS
