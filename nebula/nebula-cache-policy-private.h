/* nebula-cache-policy-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-cache-shard-private.h"

G_BEGIN_DECLS

/* The eviction policies (LRU, FIFO, TTL, LFU, S3-FIFO) behind one
 * dispatch on the cache's policy. Called with the cache's lock held. */

/* Links a new @entry into the policy's structures. */
void    nebula_cache_policy_add    (NebulaCacheShard   *shard,
                                    Entry              *entry);

/* Records a hit on @entry. */
void    nebula_cache_policy_touch  (NebulaCacheShard   *shard,
                                    Entry              *entry);

/* Unlinks @entry from the policy's structures (the entry is leaving for
 * another reason than the policy's choice). */
void    nebula_cache_policy_remove (NebulaCacheShard   *shard,
                                    Entry              *entry);

/* Chooses the victim and unlinks it from the policy's structures; NULL
 * when the cache is empty. */
Entry  *nebula_cache_policy_evict  (NebulaCacheShard   *shard);

/* Frees what the policy allocated for the shard (LRU's ring of slots). */
void    nebula_cache_policy_clear  (NebulaCacheShard   *shard);

G_END_DECLS
