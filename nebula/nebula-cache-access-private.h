/* nebula-cache-access-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-cache-key-private.h"
#include "nebula-cache-shard-private.h"

G_BEGIN_DECLS

/* The operations every API of the synchronous cache ends in. @probe is the
 * key as the API takes it (a NebulaCacheVariantProbe of a GVariant key,
 * the caller's pointer, a string, a pointer to a gint64); @owned is the key
 * if the call owns it (a floating GVariant it sank, the key of a
 * `_pointer` call), else NULL, and is stored or freed. @func is the
 * kind's compute function. Values of variant caches come back as new
 * references, the others borrowed. */

gpointer  nebula_cache_access_get_or_compute (NebulaComputeCache  *self,
                                              gconstpointer        probe,
                                              gpointer             owned,
                                              GCallback            func,
                                              gpointer             user_data,
                                              GError             **error);

/* nebula_compute_cache_get_or_compute() once its arguments are checked:
 * takes @key apart (consuming it if floating), then the above without the
 * dispatch on the kind of key (a cache of GVariant keys is never
 * lock-free). A new reference, or NULL with @error set. */
gpointer  nebula_cache_access_get_or_compute_variant (NebulaComputeCache  *self,
                                                      GVariant            *key,
                                                      NebulaComputeFunc    func,
                                                      gpointer             user_data,
                                                      GError             **error);

/* Takes @value, and @owned if not NULL. */
gboolean  nebula_cache_access_insert         (NebulaComputeCache  *self,
                                              gconstpointer        probe,
                                              gpointer             owned,
                                              gpointer             value,
                                              GError             **error);

/* Counts a request if @count; gives the entry's written time if asked. */
gpointer  nebula_cache_access_lookup         (NebulaComputeCache  *self,
                                              gconstpointer        probe,
                                              gboolean             count,
                                              gint64              *written_at);

gboolean  nebula_cache_access_invalidate     (NebulaComputeCache  *self,
                                              gconstpointer        probe);

G_END_DECLS
