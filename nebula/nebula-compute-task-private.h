/* nebula-compute-task-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What a compute function returned its task with.
 *
 * GTask cannot say: g_task_propagate_value() on a task returned with
 * g_task_return_boolean(), _int() or _pointer() emits a critical and
 * gives neither a value nor an error, so the requests would never
 * complete. What tells them apart is the destroy function GTask keeps
 * for the result: g_task_return_value() stores one private to GIO,
 * boolean and integer results none. The cache learns once, from two tasks
 * of its own, where that field is and what GIO's function is, and reads
 * it from there. If the probe does not find exactly one place, the
 * cache trusts every task as before. */
typedef enum
{
  RESULT_VALUE,
  RESULT_POINTER,               /* a destroy function of the program's */
  RESULT_PLAIN,                 /* boolean, integer or bare pointer */
} ResultKind;

/* Learns where GTask keeps its result's destroy function; once, before
 * the first task is checked. */
void        nebula_compute_task_probe_layout (void);

/* What @task, returned without an error, was returned with. */
ResultKind  nebula_compute_task_result_kind  (GTask *task);

G_END_DECLS
