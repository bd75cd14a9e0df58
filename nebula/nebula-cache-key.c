/* nebula-cache-key.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-cache-key-private.h"
#include "nebula-error-private.h"

#include <string.h>

/* Basic keys are hashed and compared through their values: g_variant_equal()
 * compares sizes and serialised bytes, and prints both variants when one of
 * them is not trusted (made from data). Equal keys (as g_variant_equal()
 * says) get equal hashes; doubles compare by their bits, as the serialised
 * bytes did. */

/* The value of a basic key that is not a string, as 64 bits. */
static inline guint64
basic_bits (GVariant *variant,
            char      type)
{
  double d;
  guint64 bits;

  switch (type)
    {
    case 'b':
      return g_variant_get_boolean (variant) ? 1 : 0;
    case 'y':
      return g_variant_get_byte (variant);
    case 'n':
      return (guint64) (gint64) g_variant_get_int16 (variant);
    case 'q':
      return g_variant_get_uint16 (variant);
    case 'i':
      return (guint64) (gint64) g_variant_get_int32 (variant);
    case 'u':
      return g_variant_get_uint32 (variant);
    case 'x':
      return (guint64) g_variant_get_int64 (variant);
    case 't':
      return g_variant_get_uint64 (variant);
    case 'h':
      return (guint64) (gint64) g_variant_get_handle (variant);
    case 'd':
    default:
      d = g_variant_get_double (variant);
      memcpy (&bits, &d, sizeof bits);
      return bits;
    }
}

#define is_string_type nebula_cache_is_string_type

static guint
basic_hash (GVariant *variant)
{
  char type = g_variant_get_type_string (variant)[0];

  if (is_string_type (type))
    return g_str_hash (g_variant_get_string (variant, NULL));
  return nebula_cache_int_hash ((gint64) basic_bits (variant, type));
}

/* A tuple key mixes the hashes of its members. */
guint
nebula_cache_key_hash (gconstpointer key)
{
  GVariant *variant = (GVariant *) key;
  guint hash = 17;
  gsize n;

  if (!g_variant_is_container (variant))
    return basic_hash (variant);

  n = g_variant_n_children (variant);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (variant, i);

      hash = hash * 31 + basic_hash (child);
    }
  return hash;
}

gboolean
nebula_cache_key_equal (gconstpointer a,
                        gconstpointer b)
{
  GVariant *one = (GVariant *) a;
  GVariant *two = (GVariant *) b;
  const char *type = g_variant_get_type_string (one);
  const char *other_type = g_variant_get_type_string (two);

  if (one == two)
    return TRUE;
  /* Basic types share one type string; compare the text otherwise. */
  if (type != other_type && strcmp (type, other_type) != 0)
    return FALSE;
  if (type[1] != '\0')
    return g_variant_equal (one, two);      /* tuples */
  if (is_string_type (type[0]))
    return strcmp (g_variant_get_string (one, NULL), g_variant_get_string (two, NULL)) == 0;
  return basic_bits (one, type[0]) == basic_bits (two, type[0]);
}

gboolean
nebula_cache_check_key (GVariant  *key,
                        GError   **error)
{
  const GVariantType *type;

  if (key == NULL)
    {
      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY, NULL,
                        "The key is NULL; use a GVariant of a basic type");
      return FALSE;
    }

  type = g_variant_get_type (key);
  if (g_variant_type_is_basic (type))
    return TRUE;

  if (g_variant_type_is_tuple (type))
    {
      gboolean all_basic = TRUE;

      for (const GVariantType *item = g_variant_type_first (type);
           item != NULL && all_basic;
           item = g_variant_type_next (item))
        all_basic = g_variant_type_is_basic (item);
      if (all_basic)
        return TRUE;
    }

  nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY, NULL,
                    "The key has type '%s', which is neither a basic type nor a tuple "
                    "of basic types",
                    g_variant_get_type_string (key));
  return FALSE;
}

GVariant *
nebula_cache_key_from_bits (char    type,
                            guint64 bits)
{
  double d;

  switch (type)
    {
    case 'b':
      return g_variant_new_boolean (bits != 0);
    case 'y':
      return g_variant_new_byte ((guint8) bits);
    case 'n':
      return g_variant_new_int16 ((gint16) bits);
    case 'q':
      return g_variant_new_uint16 ((guint16) bits);
    case 'i':
      return g_variant_new_int32 ((gint32) bits);
    case 'u':
      return g_variant_new_uint32 ((guint32) bits);
    case 'x':
      return g_variant_new_int64 ((gint64) bits);
    case 't':
      return g_variant_new_uint64 (bits);
    case 'h':
      return g_variant_new_handle ((gint32) bits);
    case 'd':
    default:
      memcpy (&d, &bits, sizeof d);
      return g_variant_new_double (d);
    }
}

gboolean
nebula_cache_variant_probe_init_slow (NebulaCacheVariantProbe  *probe,
                                      GVariant                 *key,
                                      GError                  **error)
{
  if (!nebula_cache_check_key (key, error))
    return FALSE;
  probe->variant = key;
  probe->string = NULL;
  probe->bits = 0;
  probe->type = '(';
  probe->hash = nebula_cache_key_hash (key);
  return TRUE;
}
