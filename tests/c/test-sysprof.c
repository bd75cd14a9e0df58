/* test-sysprof.c: allocator and cache activity in a Sysprof capture. The
 * test points SYSPROF_TRACE_FD at a file, as a profiler would, makes the
 * slow events happen (growth, reset, trim, a refused budget charge, a
 * cache miss, a flight), then reads the file back with the capture reader
 * and looks for the marks and counters. Built without the `sysprof`
 * feature, it is skipped (exit status 77).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <nebula.h>

#if HAVE_SYSPROF

#include <glib/gstdio.h>
#include <sysprof-capture.h>

#include "nebula-sysprof-private.h"

static char *capture_path;

typedef struct
{
  GHashTable *marks;        /* name -> number seen */
  GHashTable *messages;     /* name -> message of the last one */
  guint64     skipped_resets; /* told by the reset marks */
  GHashTable *counters;     /* "category/name" -> id */
  GHashTable *values;       /* id -> last value (as a double) */
  GHashTable *counter_ids;  /* id -> "category/name" */
} Capture;

static void
capture_clear (Capture *capture)
{
  g_clear_pointer (&capture->marks, g_hash_table_unref);
  g_clear_pointer (&capture->messages, g_hash_table_unref);
  g_clear_pointer (&capture->counters, g_hash_table_unref);
  g_clear_pointer (&capture->values, g_hash_table_unref);
  g_clear_pointer (&capture->counter_ids, g_hash_table_unref);
}

/* Reads the whole capture; every frame Nebula wrote is also printed as a
 * test message, which is the text dump docs/desktop.md shows. */
static void
read_capture (Capture *capture)
{
  SysprofCaptureReader *reader;
  SysprofCaptureFrameType type;

  capture->marks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  capture->messages = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  capture->counters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  capture->values = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  capture->counter_ids = g_hash_table_new_full (NULL, NULL, NULL, g_free);

  reader = sysprof_capture_reader_new (capture_path);
  g_assert_nonnull (reader);

  while (sysprof_capture_reader_peek_type (reader, &type))
    {
      if (type == SYSPROF_CAPTURE_FRAME_MARK)
        {
          const SysprofCaptureMark *mark = sysprof_capture_reader_read_mark (reader);
          guint seen;

          g_assert_nonnull (mark);
          g_test_message ("MARK    %-8s %-16s %8" G_GINT64_FORMAT " ns  %s",
                          mark->group, mark->name, mark->duration, mark->message);
          if (g_strcmp0 (mark->group, "Nebula") == 0)
            {
              seen = GPOINTER_TO_UINT (g_hash_table_lookup (capture->marks, mark->name));
              g_hash_table_insert (capture->marks, g_strdup (mark->name), GUINT_TO_POINTER (seen + 1));
              g_hash_table_insert (capture->messages, g_strdup (mark->name), g_strdup (mark->message));
              if (g_str_equal (mark->name, "reset") && strstr (mark->message, "; ") != NULL)
                capture->skipped_resets += g_ascii_strtoull (strstr (mark->message, "; ") + 2,
                                                             NULL, 10);
            }
        }
      else if (type == SYSPROF_CAPTURE_FRAME_CTRDEF)
        {
          const SysprofCaptureCounterDefine *def = sysprof_capture_reader_read_counter_define (reader);

          g_assert_nonnull (def);
          for (guint i = 0; i < def->n_counters; i++)
            {
              const SysprofCaptureCounter *counter = &def->counters[i];
              char *key = g_strdup_printf ("%s/%s", counter->category, counter->name);

              g_test_message ("CTRDEF  id %-4u %s (%s)", (guint) counter->id, key,
                              counter->type == SYSPROF_CAPTURE_COUNTER_DOUBLE ? "double" : "int64");
              g_hash_table_insert (capture->counter_ids, GUINT_TO_POINTER (counter->id),
                                   g_strdup (key));
              g_hash_table_insert (capture->counters, key, GUINT_TO_POINTER (counter->id));
            }
        }
      else if (type == SYSPROF_CAPTURE_FRAME_CTRSET)
        {
          const SysprofCaptureCounterSet *set = sysprof_capture_reader_read_counter_set (reader);

          g_assert_nonnull (set);
          for (guint i = 0; i < set->n_values; i++)
            for (guint j = 0; j < G_N_ELEMENTS (set->values[i].ids); j++)
              {
                guint id = set->values[i].ids[j];
                const char *key = g_hash_table_lookup (capture->counter_ids, GUINT_TO_POINTER (id));
                double *value;

                if (id == 0 || key == NULL)
                  continue;
                value = g_new (double, 1);
                /* Which member holds the value depends on the definition. */
                *value = g_str_has_suffix (key, "/Allocations/s")
                  ? set->values[i].values[j].vdbl
                  : (double) set->values[i].values[j].v64;
                g_test_message ("CTRSET  %-40s %.0f", key, *value);
                g_hash_table_insert (capture->values, GUINT_TO_POINTER (id), value);
              }
        }
      else if (!sysprof_capture_reader_skip (reader))
        break;
    }

  sysprof_capture_reader_unref (reader);
}

static guint
marks_named (Capture    *capture,
             const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (capture->marks, name));
}

static double
counter_value (Capture    *capture,
               const char *key)
{
  gpointer id;
  double *value;

  g_assert_true (g_hash_table_lookup_extended (capture->counters, key, NULL, &id));
  value = g_hash_table_lookup (capture->values, id);
  g_assert_nonnull (value);
  return *value;
}

static void
compute_cb (GVariant     *key,
            GCancellable *cancellable,
            GTask        *task,
            gpointer      user_data)
{
  g_autoptr(GObject) value = g_object_new (G_TYPE_OBJECT, NULL);

  /* The task takes its own reference. */
  nebula_compute_task_return_object (task, value);
}

static void
computed_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GObject) value = NULL;

  value = nebula_async_compute_cache_get_or_compute_finish (NEBULA_ASYNC_COMPUTE_CACHE (source),
                                                            result, NULL, NULL);
  *done = TRUE;
}

static GObject *
compute_sync_cb (GVariant  *key,
                 gpointer   user_data,
                 GError   **error)
{
  return g_object_new (G_TYPE_OBJECT, NULL);
}

static void
test_sysprof_capture (void)
{
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("tight", 2048);
  g_autoptr(NebulaBumpCheckpoint) checkpoint = NULL;
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 10);
  g_autoptr(NebulaAsyncComputeCache) async_cache = nebula_async_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 10);
  g_autoptr(GObject) value = NULL;
  g_autoptr(GError) error = NULL;
  Capture capture = { 0 };
  gboolean done = FALSE;
  guint64 given;

  g_assert_true (nebula_sysprof_active ());

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 1024,
                         "max-capacity", (guint64) 65536,
                         "name", "frames",
                         NULL);
  g_assert_no_error (error);
  nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 16, 8, &error);
  checkpoint = nebula_bump_allocator_checkpoint (bump);
  for (guint i = 0; i < 40; i++)
    nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 200, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_bump_allocator_restore (bump, checkpoint, &error));
  given = nebula_allocator_trim (NEBULA_ALLOCATOR (bump), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (given, >, 0);
  for (guint i = 0; i < 3; i++)
    nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 100, 8, &error);

  /* Resets are sampled at most once a millisecond per allocator: of these
   * seven, the first and the last are marked (and, on a slow machine, maybe
   * some between), and the marks count the others. */
  g_usleep (2000);
  nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
  for (guint i = 0; i < 5; i++)
    nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
  g_usleep (2000);
  nebula_allocator_reset (NEBULA_ALLOCATOR (bump));

  /* A pool that grows until its budget refuses a slab. */
  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                         "block-size", (guint64) 64,
                         "block-count", (guint64) 8,
                         "max-block-count", (guint64) 1024,
                         "budget", budget,
                         "name", "records",
                         NULL);
  g_assert_no_error (error);
  for (guint i = 0; i < 64 && error == NULL; i++)
    nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, &error);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_clear_error (&error);

  value = nebula_compute_cache_get_or_compute (cache, g_variant_new_string ("icon:folder"),
                                               compute_sync_cb, NULL, &error);
  g_assert_no_error (error);

  nebula_async_compute_cache_get_or_compute_async (async_cache, g_variant_new_string ("thumb:42"),
                                                   compute_cb, NULL, NULL, NULL, computed_cb,
                                                   &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  nebula_sysprof_flush ();
  read_capture (&capture);

  g_assert_cmpuint (marks_named (&capture, "growth"), >=, 3);
  g_assert_cmpuint (marks_named (&capture, "trim"), ==, 1);
  g_assert_cmpuint (marks_named (&capture, "reset"), >=, 2);
  g_assert_cmpuint (marks_named (&capture, "reset") + capture.skipped_resets, ==, 7);
  g_assert_nonnull (strstr (g_hash_table_lookup (capture.messages, "trim"),
                            "NebulaBumpAllocator 'frames'"));
  g_assert_cmpuint (marks_named (&capture, "budget-exceeded"), ==, 1);
  g_assert_cmpuint (marks_named (&capture, "cache-miss"), >=, 1);
  g_assert_cmpuint (marks_named (&capture, "flight"), ==, 1);

  /* The counters of both allocators, with their values at the last event:
   * the bump allocator was reset (nothing in use, its peak stays). */
  g_assert_cmpfloat (counter_value (&capture, "Nebula frames/Bytes in use"), ==, 0);
  g_assert_cmpfloat (counter_value (&capture, "Nebula frames/Peak bytes in use"), >=, 40 * 200);
  g_assert_cmpfloat (counter_value (&capture, "Nebula frames/Allocations/s"), >=, 0);
  g_assert_cmpfloat (counter_value (&capture, "Nebula records/Bytes in use"), >, 0);

  capture_clear (&capture);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *fd_text = NULL;
  int fd;

  g_test_init (&argc, &argv, NULL);

  /* Before Nebula first looks: it decides once whether a capture runs. */
  fd = g_file_open_tmp ("nebula-capture-XXXXXX.syscap", &capture_path, NULL);
  g_assert_cmpint (fd, >=, 0);
  fd_text = g_strdup_printf ("%d", fd);
  g_setenv ("SYSPROF_TRACE_FD", fd_text, TRUE);

  g_test_add_func ("/nebula/sysprof/capture", test_sysprof_capture);

  {
    int status = g_test_run ();

    g_unlink (capture_path);
    g_free (capture_path);
    return status;
  }
}

#else

int
main (int   argc,
      char *argv[])
{
  /* Built without the `sysprof` feature: skipped. */
  return 77;
}

#endif
