/* nebula-compute-flight-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-async-compute-cache.h"

G_BEGIN_DECLS

/* A flight is one computation of a key: started or queued, with the
 * requests that wait on it. While attached it is the key's flight (single
 * flight: requests may join it) and may store its result. */

typedef enum
{
  FLIGHT_QUEUED,
  FLIGHT_RUNNING,
  FLIGHT_DONE,
} FlightState;

typedef struct _Flight Flight;

struct _Flight
{
  NebulaAsyncComputeCache *cache;     /* strong: a flight keeps the cache */
  GVariant                *key;
  Flight                  *next;      /* same key, while attached */
  GList                    all_link;
  GList                    pending_link;
  GCancellable            *cancellable;
  GTask                   *task;
  GQueue                   waiters;
  NebulaAsyncComputeFunc   func;
  gpointer                 func_data;
  GDestroyNotify           func_destroy;
  FlightState              state;
  gboolean                 attached;
  gboolean                 refresh;
  gboolean                 probe;
  gboolean                 holds_permit;
  gboolean                 watching;    /* the task's toggle reference */
  gboolean                 dropped;
  gint64                   queued_at;
  gint64                   started_at;
};

/* The computations whose function is running in this thread, innermost
 * first: a request made from inside one can be known to wait on it. The
 * nodes live on flight_start()'s stack. */
typedef struct _Computing Computing;
struct _Computing
{
  NebulaAsyncComputeCache *cache;
  Flight                  *flight;
  gboolean                 holds_permit;
  Computing               *outer;
};

/* Creates a flight for @key, neither attached nor queued. */
Flight     *nebula_compute_flight_new                 (NebulaAsyncComputeCache *self,
                                                       GVariant                *key,
                                                       NebulaAsyncComputeFunc   func,
                                                       gpointer                 func_data,
                                                       GDestroyNotify           func_destroy);

/* Runs without the lock. */
void        nebula_compute_flight_free                (Flight                  *flight);

/* Makes @flight the newest flight of its key. */
void        nebula_compute_flight_attach              (NebulaAsyncComputeCache *self,
                                                       Flight                  *flight);

/* Takes @flight off its key: it will never store, and new requests will
 * not join it. */
void        nebula_compute_flight_detach              (NebulaAsyncComputeCache *self,
                                                       Flight                  *flight);

/* Starts the flights of @to_start, without the lock. */
void        nebula_compute_flight_start_all           (GQueue                  *to_start);

/* Whether @flight's compute function is running below this point of this
 * thread. */
gboolean    nebula_compute_flight_computing_in_thread (Flight                  *flight);

/* The innermost computation whose function runs in this thread, or NULL. */
Computing  *nebula_compute_flight_innermost           (void);

G_END_DECLS
