/* nebula-async-compute-cache-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-async-cache-instance-private.h"
#include "nebula-compute-waiter-private.h"

G_BEGIN_DECLS

/* The instance, shared by the files of the asynchronous cache:
 * nebula-compute-flight.c, -permit.c, -waiter.c, -task.c,
 * nebula-circuit-breaker.c and nebula-async-compute-cache.c. */

/* Emits ::load-failed for a failed refresh of @key. */

G_END_DECLS
