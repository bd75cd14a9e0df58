/* nebula-cache-key-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <string.h>

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

/* nebula_cache_variant_probe_init() for what its inline part leaves: a
 * NULL key, a tuple, a key of any other type (an error). */
gboolean  nebula_cache_variant_probe_init_slow (NebulaCacheVariantProbe  *probe,
                                                GVariant                 *key,
                                                GError                  **error);

static inline gboolean
nebula_cache_is_string_type (char type)
{
  return type == 's' || type == 'o' || type == 'g';
}

/* The value of C type @ctype at @data (unaligned) as 64 bits, a signed
 * type's sign extended. */
#define NEBULA_CACHE_LOAD_BITS(ctype, data) \
  ({ ctype loaded_; memcpy (&loaded_, (data), sizeof loaded_); (guint64) (gint64) loaded_; })

/* The bits of a fixed-size basic value of @type from its bytes @data (as
 * g_variant_get_data() gives them), signed types extended, without a typed
 * getter's type checks. GVariant gives no data (NULL) for fixed-size data
 * of the wrong size, which reads as 0, as the typed getters read it; data,
 * when there is some, has the size of @type. */
static inline guint64
nebula_cache_fixed_bits (const guint8 *data,
                         char          type)
{
  if (data == NULL)
    return 0;

  switch (type)
    {
    case 'b':
      /* Any byte but 0 is true: g_variant_get_boolean() and
       * g_variant_print() read it so, and g_variant_equal() compares a
       * variant made from untrusted data by its printed text. */
      return data[0] != 0;
    case 'y':
      return data[0];
    case 'n':
      return NEBULA_CACHE_LOAD_BITS (gint16, data);
    case 'q':
      return NEBULA_CACHE_LOAD_BITS (guint16, data);
    case 'i':
    case 'h':
      return NEBULA_CACHE_LOAD_BITS (gint32, data);
    case 'u':
      return NEBULA_CACHE_LOAD_BITS (guint32, data);
    default:
      return NEBULA_CACHE_LOAD_BITS (guint64, data);
    }
}

/* Hashes an integer key: a multiplicative mix of its 64 bits. */
static inline guint
nebula_cache_int_hash (gint64 key)
{
  guint64 mixed = (guint64) key * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);

  return (guint) (mixed >> 32) ^ (guint) mixed;
}

/* Checks @key as nebula_cache_check_key() does and fills @probe. Inline
 * for a key of a basic type (what the bindings pass): one call for its type
 * string, one for its bytes (g_variant_get_string() for a string), and no
 * other GVariant function. */
static inline gboolean
nebula_cache_variant_probe_init (NebulaCacheVariantProbe  *probe,
                                 GVariant                 *key,
                                 GError                  **error)
{
  const char *type;

  if (G_UNLIKELY (key == NULL))
    return nebula_cache_variant_probe_init_slow (probe, key, error);

  type = g_variant_get_type_string (key);
  if (G_UNLIKELY (type[1] != '\0'))
    return nebula_cache_variant_probe_init_slow (probe, key, error);

  probe->variant = key;
  probe->type = type[0];
  switch (type[0])
    {
    case 's':
    case 'o':
    case 'g':
      probe->string = g_variant_get_string (key, NULL);
      probe->bits = 0;
      probe->hash = g_str_hash (probe->string);
      return TRUE;
    case 'b':
    case 'y':
    case 'n':
    case 'q':
    case 'i':
    case 'u':
    case 'x':
    case 't':
    case 'h':
    case 'd':
      probe->string = NULL;
      probe->bits = nebula_cache_fixed_bits (g_variant_get_data (key), type[0]);
      probe->hash = nebula_cache_int_hash ((gint64) probe->bits);
      return TRUE;
    default:
      return nebula_cache_variant_probe_init_slow (probe, key, error);
    }
}

/* Whether an entry must hold the key's variant: strings (the entry keeps a
 * pointer into it) and tuples (compared through it). A key of a fixed-size
 * type is kept as its type and bits alone. */
static inline gboolean
nebula_cache_variant_probe_needs_variant (const NebulaCacheVariantProbe *probe)
{
  return probe->type == '(' || probe->string != NULL;
}

/* A GVariant key as the API takes it: a floating one is consumed (the call
 * owns it: the result, to be stored or unreferenced), a held one is only
 * referenced if stored (NULL). */
static inline GVariant *
nebula_cache_take_floating_key (GVariant *key)
{
  return g_variant_is_floating (key) ? g_variant_ref_sink (key) : NULL;
}

/* A new floating variant equal to the fixed-size key of @type whose bits
 * nebula_cache_variant_probe_init() read (for entry-removed: the entry did
 * not keep the caller's variant). */
GVariant *nebula_cache_key_from_bits      (char                      type,
                                           guint64                   bits);

G_END_DECLS
