/* nebula-cache-entry-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-cache-shard-private.h"

G_BEGIN_DECLS

/* Storing, touching and removing entries. Called with the cache's lock
 * held; removed entries wait in @graveyard until the lock is released. */

/* Frees an entry that no structure holds any more; one of a shard with
 * lock-free hits stays in its slab until the slabs are freed. */
void      nebula_cache_entry_free       (NebulaCacheShard    *shard,
                                         Entry               *entry);
void      nebula_cache_entry_free_slabs (NebulaCacheShard    *shard);

/* Takes @entry out of every structure except the policy's and counts the
 * removal by @cause. */
void      nebula_cache_entry_bury   (NebulaCacheShard    *shard,
                                     Entry               *entry,
                                     NebulaRemovalCause   cause,
                                     Graveyard           *graveyard);

/* Takes @entry out of every structure, the policy's included. */
void      nebula_cache_entry_remove (NebulaCacheShard    *shard,
                                     Entry               *entry,
                                     NebulaRemovalCause   cause,
                                     Graveyard           *graveyard);

/* Records an access to @entry at @time. */
void      nebula_cache_entry_touch  (NebulaCacheShard    *shard,
                                     Entry               *entry,
                                     gint64               time);

/* Stores @key -> @value (taking both) after making room; @probe is the key
 * as the API takes it, @hash its hash. FALSE with
 * NEBULA_CACHE_ERROR_OVERFLOW leaves both to the caller. */
gboolean  nebula_cache_entry_store  (NebulaCacheShard    *shard,
                                     gconstpointer        probe,
                                     guint                hash,
                                     gpointer             key,
                                     gpointer             value,
                                     guint64              weight,
                                     gint64               time,
                                     gboolean             known_absent,
                                     Graveyard           *graveyard,
                                     GError             **error);

G_END_DECLS
