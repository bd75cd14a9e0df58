/* nebula-cache-key.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-cache-key-private.h"
#include "nebula-error-private.h"

/* g_variant_hash() takes basic values only; a tuple key mixes the hashes
 * of its members. */
guint
nebula_cache_key_hash (gconstpointer key)
{
  GVariant *variant = (GVariant *) key;
  guint hash = 17;
  gsize n;

  if (!g_variant_is_container (variant))
    return g_variant_hash (variant);

  n = g_variant_n_children (variant);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (variant, i);

      hash = hash * 31 + g_variant_hash (child);
    }
  return hash;
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
