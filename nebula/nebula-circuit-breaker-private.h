/* nebula-circuit-breaker-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-compute-flight-private.h"

G_BEGIN_DECLS

/* The circuit breaker of the asynchronous cache: a key whose computations
 * failed failure-threshold times in a row is refused for open-duration,
 * then one probe runs. Called with the cache's lock held. */

/* Frees a breaker; the destroy function of the cache's breaker table. */
void      nebula_circuit_breaker_free          (gpointer                  data);

/* Whether a new flight may start for @key; sets *@probe when it is the
 * probe after the open duration. */
gboolean  nebula_circuit_breaker_admit         (NebulaAsyncComputeCache  *self,
                                                GVariant                 *key,
                                                gboolean                 *probe,
                                                GError                  **error);

/* A probe that will not run after all leaves the breaker open. */
void      nebula_circuit_breaker_reopen        (NebulaAsyncComputeCache  *self,
                                                GVariant                 *key);
void      nebula_circuit_breaker_release_probe (NebulaAsyncComputeCache  *self,
                                                Flight                   *flight);

/* Counts the outcome of @flight: a success closes its key's circuit. */
void      nebula_circuit_breaker_record        (NebulaAsyncComputeCache  *self,
                                                Flight                   *flight,
                                                const GError             *error);

G_END_DECLS
