/* nebula-compute-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "nebula-async-compute-cache.h"
#include "nebula-compute-task-private.h"

static struct
{
  gboolean       known;
  gsize          offset;
  GDestroyNotify value_free;
} task_layout;

static void
probe_destroy_cb (gpointer data)
{
}

static gboolean
find_destroy (GTask          *task,
              GDestroyNotify  destroy,
              gsize          *offset)
{
  GTypeQuery query;
  guint found = 0;

  g_type_query (G_TYPE_TASK, &query);
  for (gsize at = sizeof (GObject); at + sizeof destroy <= query.instance_size; at += sizeof (gpointer))
    {
      GDestroyNotify word;

      memcpy (&word, (const guint8 *) task + at, sizeof word);
      if (word == destroy)
        {
          *offset = at;
          found++;
        }
    }
  return found == 1;
}

void
nebula_compute_task_probe_layout (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_auto(GValue) value = G_VALUE_INIT;
  GTask *with_pointer;
  GTask *with_value;
  gsize offset;

  /* The tasks complete in a context of their own, at once. */
  g_main_context_push_thread_default (context);
  with_pointer = g_task_new (NULL, NULL, NULL, NULL);
  with_value = g_task_new (NULL, NULL, NULL, NULL);
  g_task_return_pointer (with_pointer, &task_layout, probe_destroy_cb);
  g_value_init (&value, G_TYPE_INT);
  g_task_return_value (with_value, &value);

  if (find_destroy (with_pointer, probe_destroy_cb, &offset))
    {
      GDestroyNotify value_free;

      memcpy (&value_free, (const guint8 *) with_value + offset, sizeof value_free);
      if (value_free != NULL && value_free != probe_destroy_cb)
        {
          task_layout.offset = offset;
          task_layout.value_free = value_free;
          task_layout.known = TRUE;
        }
    }

  while (!g_task_get_completed (with_pointer) || !g_task_get_completed (with_value))
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_object_unref (with_pointer);
  g_object_unref (with_value);
}

/* For a task returned without an error. */
ResultKind
nebula_compute_task_result_kind (GTask *task)
{
  GDestroyNotify destroy;

  if (!task_layout.known)
    return RESULT_VALUE;

  memcpy (&destroy, (const guint8 *) task + task_layout.offset, sizeof destroy);
  if (destroy == task_layout.value_free)
    return RESULT_VALUE;
  return destroy != NULL ? RESULT_POINTER : RESULT_PLAIN;
}

/**
 * nebula_compute_task_return_object:
 * @task: the task given to a #NebulaAsyncComputeFunc
 * @value: the computed value
 *
 * Returns @value on @task, as g_task_return_value() with a #GValue holding
 * it would.
 */
void
nebula_compute_task_return_object (GTask   *task,
                                   GObject *value)
{
  g_auto(GValue) gvalue = G_VALUE_INIT;

  g_return_if_fail (G_IS_TASK (task));
  g_return_if_fail (G_IS_OBJECT (value));

  g_value_init (&gvalue, G_TYPE_OBJECT);
  g_value_set_object (&gvalue, value);
  g_task_return_value (task, &gvalue);
}

