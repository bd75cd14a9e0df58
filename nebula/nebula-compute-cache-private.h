/* nebula-compute-cache-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-compute-cache.h"

G_BEGIN_DECLS

/* Checks that @key can be a cache key: non-NULL, of a basic type or a tuple
 * of basic types. Raises NEBULA_CACHE_ERROR_INVALID_KEY otherwise. */
gboolean  nebula_cache_check_key          (GVariant            *key,
                                           GError             **error);

/* Hashes a valid key: g_variant_hash() for basic values, a mix of the
 * members' hashes for tuples. */
guint     nebula_cache_key_hash           (gconstpointer        key);

/* The cache's clock, in microseconds. */
gint64    nebula_compute_cache_now        (NebulaComputeCache  *self);

/* A lookup that counts no request: the store behind the asynchronous cache
 * keeps its own request counters. Touches the entry for the policy and
 * returns a new reference, with the time the entry was written. */
GObject  *nebula_compute_cache_peek       (NebulaComputeCache  *self,
                                           GVariant            *key,
                                           gint64              *written_at);

G_END_DECLS
