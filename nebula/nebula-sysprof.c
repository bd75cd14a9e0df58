/* nebula-sysprof.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sysprof-capture.h>

#include "nebula-sanitizer-private.h"
#include "nebula-sysprof-private.h"

/* Writes marks and counters to a Sysprof capture: to the file descriptor
 * of SYSPROF_TRACE_FD through a capture writer of our own, or through the
 * collector when sysprof or sysprof-agent runs the process. Everything here
 * runs on slow paths only, behind nebula_sysprof_active(); one lock orders
 * the writer, which is not thread-safe, and the counter definitions. */

#define GROUP "Nebula"

int nebula_sysprof_state;

static GMutex writer_lock;
static SysprofCaptureWriter *writer;   /* SYSPROF_TRACE_FD, or NULL */
static GQuark counters_quark;

typedef struct
{
  unsigned int base;            /* the first of three counter ids */
  guint64      last_allocations;
  gint64       last_time;       /* sysprof clock, nanoseconds */
  guint64      skipped_resets;  /* since the last sample */
} AllocatorCounters;

static void
flush_at_exit (void)
{
  nebula_sysprof_flush ();
}

gboolean
nebula_sysprof_decide (void)
{
  static gsize decided;

  if (g_once_init_enter (&decided))
    {
      int state = -1;

      counters_quark = g_quark_from_static_string ("nebula-sysprof-counters");
      sysprof_clock_init ();

      if (g_getenv ("SYSPROF_TRACE_FD") != NULL)
        {
          writer = sysprof_capture_writer_new_from_env (0);
          if (writer != NULL)
            {
              state = 1;
              atexit (flush_at_exit);
            }
        }
      if (state < 0 && g_getenv ("SYSPROF_CONTROL_FD") != NULL && sysprof_collector_is_active ())
        state = 1;

      __atomic_store_n (&nebula_sysprof_state, state, __ATOMIC_RELEASE);
      g_once_init_leave (&decided, 1);
    }

  return __atomic_load_n (&nebula_sysprof_state, __ATOMIC_ACQUIRE) > 0;
}

/* Called with writer_lock held. */
static void
write_mark_with_duration (gint64      time,
                          gint64      duration,
                          const char *name,
                          const char *message)
{
  if (writer != NULL)
    sysprof_capture_writer_add_mark (writer, time, -1, getpid (), duration, GROUP, name, message);
  else
    sysprof_collector_mark (time, duration, GROUP, name, message);
}

static void
write_mark (gint64      time,
            const char *name,
            const char *message)
{
  write_mark_with_duration (time, 0, name, message);
}

void
nebula_sysprof_mark_real (const char *name,
                          const char *format,
                          ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  nebula_mutex_lock (&writer_lock);
  write_mark (SYSPROF_CAPTURE_CURRENT_TIME, name, message);
  nebula_mutex_unlock (&writer_lock);
}

static void
define_counter (SysprofCaptureCounter *counter,
                const char            *category,
                const char            *name,
                const char            *description,
                unsigned int           id,
                unsigned int           type)
{
  memset (counter, 0, sizeof *counter);
  g_strlcpy (counter->category, category, sizeof counter->category);
  g_strlcpy (counter->name, name, sizeof counter->name);
  g_strlcpy (counter->description, description, sizeof counter->description);
  counter->id = id;
  counter->type = type;
}

/* Called with writer_lock held: the allocator's counters, defined the first
 * time it publishes. */
static AllocatorCounters *
ensure_counters (NebulaAllocator *self,
                 const char      *label,
                 gint64           time)
{
  AllocatorCounters *counters = g_object_get_qdata (G_OBJECT (self), counters_quark);
  g_autofree char *category = NULL;
  SysprofCaptureCounter defs[3];

  if (counters != NULL)
    return counters;

  counters = g_new0 (AllocatorCounters, 1);
  counters->base = writer != NULL ? sysprof_capture_writer_request_counter (writer, 3)
                                  : sysprof_collector_request_counters (3);
  counters->last_time = time;
  g_object_set_qdata_full (G_OBJECT (self), counters_quark, counters, g_free);

  category = g_strdup_printf (GROUP " %s", label);
  define_counter (&defs[0], category, "Bytes in use", "Bytes the allocator's callers hold",
                  counters->base, SYSPROF_CAPTURE_COUNTER_INT64);
  define_counter (&defs[1], category, "Peak bytes in use", "The most bytes in use at once",
                  counters->base + 1, SYSPROF_CAPTURE_COUNTER_INT64);
  define_counter (&defs[2], category, "Allocations/s",
                  "Allocations per second since the previous sample",
                  counters->base + 2, SYSPROF_CAPTURE_COUNTER_DOUBLE);

  if (writer != NULL)
    sysprof_capture_writer_define_counters (writer, time, -1, getpid (), defs, 3);
  else
    sysprof_collector_define_counters (defs, 3);

  return counters;
}

/* An allocator that resets once per request would write a mark and three
 * values per request: resets closer than this to the allocator's previous
 * sample are counted, and told with the next one. */
#define RESET_SAMPLE_INTERVAL_NS G_GINT64_CONSTANT (1000000)

void
nebula_sysprof_allocator_event_real (NebulaAllocator *self,
                                     const char      *event,
                                     guint64          bytes)
{
  g_autofree char *name = nebula_allocator_dup_name (self);
  gboolean named = name != NULL && *name != '\0';
  const char *label = named ? name : G_OBJECT_TYPE_NAME (self);
  g_autofree char *message = NULL;
  g_autofree char *resets = NULL;
  g_autoptr(NebulaAllocatorStats) snapshot = NULL;
  NebulaAllocatorStats stats = { 0 };
  AllocatorCounters *counters;
  SysprofCaptureCounterValue values[3];
  unsigned int ids[3];
  gint64 time = SYSPROF_CAPTURE_CURRENT_TIME;
  double seconds;

  nebula_mutex_lock (&writer_lock);
  counters = g_object_get_qdata (G_OBJECT (self), counters_quark);
  if (counters != NULL && g_str_equal (event, "reset") &&
      time - counters->last_time < RESET_SAMPLE_INTERVAL_NS)
    {
      counters->skipped_resets++;
      nebula_mutex_unlock (&writer_lock);
      return;
    }

  /* The public snapshot: this file sits below the allocator core. */
  snapshot = nebula_allocator_get_stats (self);
  if (snapshot != NULL)
    stats = *snapshot;
  counters = ensure_counters (self, label, time);
  if (counters->skipped_resets > 0)
    resets = g_strdup_printf ("; %" G_GUINT64_FORMAT " more resets since the last sample",
                              counters->skipped_resets);
  message = g_strdup_printf ("%s%s%s%s: %" G_GUINT64_FORMAT " bytes (%" G_GUINT64_FORMAT
                             " in use, peak %" G_GUINT64_FORMAT ")%s",
                             G_OBJECT_TYPE_NAME (self), named ? " '" : "", named ? name : "",
                             named ? "'" : "", bytes, stats.bytes_in_use,
                             stats.peak_bytes_in_use, resets != NULL ? resets : "");
  write_mark (time, event, message);

  seconds = (double) (time - counters->last_time) / 1e9;
  for (guint i = 0; i < 3; i++)
    ids[i] = counters->base + i;
  values[0].v64 = (gint64) stats.bytes_in_use;
  values[1].v64 = (gint64) stats.peak_bytes_in_use;
  values[2].vdbl = seconds > 0 && stats.allocations >= counters->last_allocations
    ? (double) (stats.allocations - counters->last_allocations) / seconds
    : 0.0;
  counters->last_allocations = stats.allocations;
  counters->last_time = time;
  counters->skipped_resets = 0;

  if (writer != NULL)
    sysprof_capture_writer_set_counters (writer, time, -1, getpid (), ids, values, 3);
  else
    sysprof_collector_set_counters (ids, values, 3);
  nebula_mutex_unlock (&writer_lock);
}

void
nebula_sysprof_cache_event_real (gpointer    cache,
                                 const char *event,
                                 GVariant   *key,
                                 gint64      began_us)
{
  g_autofree char *printed = key != NULL ? g_variant_print (key, FALSE) : NULL;
  g_autofree char *message = NULL;
  gint64 now = SYSPROF_CAPTURE_CURRENT_TIME;
  gint64 begin = began_us > 0 ? began_us * 1000 : now;

  /* The sysprof clock is CLOCK_MONOTONIC in nanoseconds, as is
   * g_get_monotonic_time() in microseconds. */
  message = g_strdup_printf ("%s: key %s", G_OBJECT_TYPE_NAME (cache),
                             printed != NULL ? printed : "(pointer)");

  nebula_mutex_lock (&writer_lock);
  write_mark_with_duration (MIN (begin, now), now - MIN (begin, now), event, message);
  nebula_mutex_unlock (&writer_lock);
}

void
nebula_sysprof_flush (void)
{
  nebula_mutex_lock (&writer_lock);
  if (writer != NULL)
    sysprof_capture_writer_flush (writer);
  nebula_mutex_unlock (&writer_lock);
}
