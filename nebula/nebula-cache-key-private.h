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

/* A GVariant key taken apart once per call: the cache hashes and compares
 * these fields, and entries keep them (Entry.key_type, Entry.int_key), so
 * that finding an entry calls no GVariant function on the stored key. */
typedef struct
{
  GVariant   *variant;
  const char *string;             /* type 's', 'o', 'g': inside variant */
  guint64     bits;               /* other basic types */
  guint       hash;
  char        type;               /* the type character; '(' for tuples */
} NebulaCacheVariantProbe;

/* Checks @key as nebula_cache_check_key() does and fills @probe. */
gboolean  nebula_cache_variant_probe_init (NebulaCacheVariantProbe  *probe,
                                           GVariant                 *key,
                                           GError                  **error);

static inline gboolean
nebula_cache_is_string_type (char type)
{
  return type == 's' || type == 'o' || type == 'g';
}

/* Whether an entry must hold the key's variant: strings (the entry keeps a
 * pointer into it) and tuples (compared through it). A key of a fixed-size
 * type is kept as its type and bits alone. */
static inline gboolean
nebula_cache_variant_probe_needs_variant (const NebulaCacheVariantProbe *probe)
{
  return probe->type == '(' || probe->string != NULL;
}

/* A new floating variant equal to the fixed-size key of @type whose bits
 * nebula_cache_variant_probe_init() read (for entry-removed: the entry did
 * not keep the caller's variant). */
GVariant *nebula_cache_key_from_bits      (char                      type,
                                           guint64                   bits);

/* Hashes an integer key: a multiplicative mix of its 64 bits. */
static inline guint
nebula_cache_int_hash (gint64 key)
{
  guint64 mixed = (guint64) key * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);

  return (guint) (mixed >> 32) ^ (guint) mixed;
}

G_END_DECLS
