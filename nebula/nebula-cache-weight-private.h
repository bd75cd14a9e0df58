/* nebula-cache-weight-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-cache-shard-private.h"

G_BEGIN_DECLS

/* The weight of @key -> @value as the weigher says, 1 without one. Calls
 * the program's code: never with the cache's lock held. */
guint64  nebula_cache_weigh (NebulaComputeCache *self,
                             gconstpointer       key,
                             gconstpointer       value);

G_END_DECLS
