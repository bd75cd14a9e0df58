/* nebula-capture-dump.c: Nebula's marks and counters in a Sysprof capture,
 * as text
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * usage: nebula-capture-dump [--all] FILE.syscap
 *
 * Debian's sysprof has no text dump, so this one prints what
 * docs/desktop.md shows: each mark of the "Nebula" group (time since the
 * capture began, duration, name, message), each counter Nebula defined and
 * each value it set. --all prints the marks of every group.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <sysprof-capture.h>

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GHashTable) names = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr(GHashTable) doubles = g_hash_table_new (NULL, NULL);
  SysprofCaptureReader *reader;
  SysprofCaptureFrameType type;
  gboolean all = argc == 3 && g_str_equal (argv[1], "--all");
  const char *path = argv[argc - 1];
  gint64 start;

  if (argc != 2 && !all)
    {
      fprintf (stderr, "usage: nebula-capture-dump [--all] FILE.syscap\n");
      return 2;
    }

  reader = sysprof_capture_reader_new (path);
  if (reader == NULL)
    {
      fprintf (stderr, "nebula-capture-dump: cannot read %s as a capture\n", path);
      return 1;
    }
  start = sysprof_capture_reader_get_start_time (reader);

  while (sysprof_capture_reader_peek_type (reader, &type))
    {
      if (type == SYSPROF_CAPTURE_FRAME_MARK)
        {
          const SysprofCaptureMark *mark = sysprof_capture_reader_read_mark (reader);

          if (mark == NULL)
            break;
          if (all || g_str_equal (mark->group, "Nebula"))
            printf ("%10.6f s  mark    %-16s %10.3f ms  %s\n",
                    (double) (mark->frame.time - start) / 1e9, mark->name,
                    (double) mark->duration / 1e6, mark->message);
        }
      else if (type == SYSPROF_CAPTURE_FRAME_CTRDEF)
        {
          const SysprofCaptureCounterDefine *def = sysprof_capture_reader_read_counter_define (reader);

          if (def == NULL)
            break;
          for (guint i = 0; i < def->n_counters; i++)
            {
              const SysprofCaptureCounter *counter = &def->counters[i];

              if (!all && !g_str_has_prefix (counter->category, "Nebula"))
                continue;
              g_hash_table_insert (names, GUINT_TO_POINTER (counter->id),
                                   g_strdup_printf ("%s / %s", counter->category, counter->name));
              if (counter->type == SYSPROF_CAPTURE_COUNTER_DOUBLE)
                g_hash_table_add (doubles, GUINT_TO_POINTER (counter->id));
              printf ("%10.6f s  counter %s / %s: %s\n",
                      (double) (def->frame.time - start) / 1e9, counter->category, counter->name,
                      counter->description);
            }
        }
      else if (type == SYSPROF_CAPTURE_FRAME_CTRSET)
        {
          const SysprofCaptureCounterSet *set = sysprof_capture_reader_read_counter_set (reader);

          if (set == NULL)
            break;
          for (guint i = 0; i < set->n_values; i++)
            for (guint j = 0; j < G_N_ELEMENTS (set->values[i].ids); j++)
              {
                gpointer id = GUINT_TO_POINTER (set->values[i].ids[j]);
                const char *name = g_hash_table_lookup (names, id);

                if (set->values[i].ids[j] == 0 || name == NULL)
                  continue;
                if (g_hash_table_contains (doubles, id))
                  printf ("%10.6f s  value   %s = %.1f\n", (double) (set->frame.time - start) / 1e9,
                          name, set->values[i].values[j].vdbl);
                else
                  printf ("%10.6f s  value   %s = %" G_GINT64_FORMAT "\n",
                          (double) (set->frame.time - start) / 1e9, name,
                          (gint64) set->values[i].values[j].v64);
              }
        }
      else if (!sysprof_capture_reader_skip (reader))
        break;
    }

  sysprof_capture_reader_unref (reader);
  return 0;
}
