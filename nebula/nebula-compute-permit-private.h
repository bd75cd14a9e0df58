/* nebula-compute-permit-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-compute-flight-private.h"

G_BEGIN_DECLS

/* The concurrency limit: max-concurrent permits, and a first in first out
 * queue of flights waiting for one, bounded by max-queued. Called with the
 * cache's lock held. */

/* Gives free permits to queued flights; those to start go to @to_start. */
void      nebula_compute_permit_grant          (NebulaAsyncComputeCache  *self,
                                                GQueue                   *to_start);

/* Whether every permit is held by computations whose compute functions are
 * running below this point of this thread. */
gboolean  nebula_compute_permit_held_in_thread (NebulaAsyncComputeCache  *self);

/* Creates a flight for @key, attached and either running or queued.
 * Returns NULL with NEBULA_CACHE_ERROR_BUSY when the queue is full. */
Flight   *nebula_compute_permit_new_flight     (NebulaAsyncComputeCache  *self,
                                                GVariant                 *key,
                                                NebulaAsyncComputeFunc    func,
                                                gpointer                  func_data,
                                                GDestroyNotify            func_destroy,
                                                gboolean                  probe,
                                                GError                  **error);

G_END_DECLS
