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

/* Hashes a valid key: g_variant_hash() for basic values, a mix of the
 * members' hashes for tuples. */
guint     nebula_cache_key_hash           (gconstpointer        key);

G_END_DECLS
