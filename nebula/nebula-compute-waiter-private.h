/* nebula-compute-waiter-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-compute-flight-private.h"

G_BEGIN_DECLS

/* A waiter is one request waiting on a flight: it completes exactly once,
 * by its flight, by its cancellable or by the cache's disposal, whichever
 * sets done first under the cache's lock. */

/* One weak reference to the cache, shared by the waiters that have a
 * cancellable (its handler needs the cache back). A GWeakRef per waiter
 * would cost O(N^2) for N waiters: GLib 2.74 keeps an object's weak
 * references in a list that clearing one walks. */
typedef struct _CacheHandle
{
  GWeakRef cache;
} CacheHandle;

typedef struct
{
  CacheHandle          *handle;       /* with a cancellable only */
  GTask                *task;
  Flight               *flight;       /* while not done */
  GList                 link;         /* in flight->waiters */
  GCancellable         *cancellable;  /* borrowed: the task holds it */
  gulong                handler;
  gboolean              done;
  NebulaComputeOutcome  outcome;
} Waiter;

/* Clears a CacheHandle released for the last time. */
void     nebula_cache_handle_clear              (gpointer                 data);

Waiter  *nebula_compute_waiter_new              (NebulaAsyncComputeCache *self,
                                                 GTask                   *task,
                                                 GCancellable            *cancellable,
                                                 NebulaComputeOutcome     outcome);
void     nebula_compute_waiter_unref            (gpointer                 data);

/* Completes the waiter's task, without the lock. */
void     nebula_compute_waiter_return           (Waiter                  *waiter,
                                                 GObject                 *value,
                                                 const GError            *error);
void     nebula_compute_waiter_return_cancelled (Waiter                  *waiter,
                                                 const char              *message);

/* Pops the first waiter of a flight's queue, or NULL. */
Waiter  *nebula_compute_waiter_pop              (GQueue                  *waiters);

/* Adds @waiter to @flight's waiters. */
void     nebula_compute_waiter_add              (Flight                  *flight,
                                                 Waiter                  *waiter);

/* Connects the caller's cancellable, and disconnects it for a waiter its
 * flight completed. */
void     nebula_compute_waiter_connect          (NebulaAsyncComputeCache *self,
                                                 Waiter                  *waiter);
void     nebula_compute_waiter_disconnect       (NebulaAsyncComputeCache *self,
                                                 Waiter                  *waiter);

G_END_DECLS
