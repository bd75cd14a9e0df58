/* nebula-memory-pressure.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-sanitizer-private.h"
#include "nebula-allocator-private.h"
#include "nebula-allocator-trim-private.h"
#include "nebula-error-private.h"
#include "nebula-memory-pressure.h"
#include "nebula-sysprof-private.h"

/* Memory pressure: what an allocator gives back at each warning level, and
 * the opt-in set of objects (allocators, compute caches) that follow GLib's
 * GMemoryMonitor. The set holds weak references, so that watching never
 * keeps an object alive; the monitor is taken the first time something is
 * watched, and kept for the life of the process. */

static GMutex watch_lock;
static GPtrArray *watched;       /* GWeakRef *, owned */
static GMemoryMonitor *monitor;

/**
 * nebula_allocator_handle_memory_pressure:
 * @self: a #NebulaAllocator
 * @level: how short memory is
 * @error: return location for a #GError
 *
 * What @self does when the desktop warns that memory runs short, as
 * nebula_memory_pressure_watch() arranges:
 *
 * - %G_MEMORY_MONITOR_WARNING_LEVEL_LOW: nebula_allocator_trim();
 * - %G_MEMORY_MONITOR_WARNING_LEVEL_MEDIUM and
 *   %G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL: also the chunks the
 *   configuration keeps for reuse (the spare chunks of a
 *   #NebulaBumpAllocator whose #NebulaBumpAllocator:reset-policy is
 *   keep-all).
 *
 * A level below LOW gives back nothing. No block in use is ever freed.
 * Call it yourself to react to a source of pressure of your own, or from a
 * test; the thread rules of nebula_allocator_trim() apply.
 *
 * Returns: the number of bytes given back; 0 with @error set when the
 *   configuration of @self is invalid
 */
guint64
nebula_allocator_handle_memory_pressure (NebulaAllocator             *self,
                                         GMemoryMonitorWarningLevel   level,
                                         GError                     **error)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (level < G_MEMORY_MONITOR_WARNING_LEVEL_LOW)
    return 0;

  return nebula_allocator_trim_mode (self,
                                     level >= G_MEMORY_MONITOR_WARNING_LEVEL_MEDIUM
                                       ? NEBULA_TRIM_RETAINED
                                       : NEBULA_TRIM_KEEP_CONFIGURED,
                                     error);
}

static guint64
handle_object (GObject                    *object,
               GMemoryMonitorWarningLevel  level)
{
  if (NEBULA_IS_ALLOCATOR (object))
    {
      g_autoptr(GError) error = NULL;
      guint64 given = nebula_allocator_handle_memory_pressure (NEBULA_ALLOCATOR (object), level,
                                                               &error);

      /* Nobody to tell: an allocator whose configuration is invalid
       * holds no memory to give back. */
      if (error != NULL)
        g_debug ("memory pressure: %s", error->message);
      return given;
    }
  if (NEBULA_IS_COMPUTE_CACHE (object))
    nebula_compute_cache_handle_memory_pressure (NEBULA_COMPUTE_CACHE (object), level);
  else if (NEBULA_IS_ASYNC_COMPUTE_CACHE (object))
    nebula_async_compute_cache_handle_memory_pressure (NEBULA_ASYNC_COMPUTE_CACHE (object), level);
  return 0;
}

/**
 * nebula_memory_pressure_notify:
 * @level: how short memory is
 *
 * Handles a memory warning for every object passed to
 * nebula_memory_pressure_watch(), as the #GMemoryMonitor::low-memory-warning
 * signal does: nebula_allocator_handle_memory_pressure() for allocators,
 * nebula_compute_cache_handle_memory_pressure() and
 * nebula_async_compute_cache_handle_memory_pressure() for caches. Use it
 * when the warning comes from elsewhere, or in a test.
 *
 * Returns: the number of bytes the allocators gave back
 */
guint64
nebula_memory_pressure_notify (GMemoryMonitorWarningLevel level)
{
  g_autoptr(GPtrArray) objects = g_ptr_array_new_with_free_func (g_object_unref);
  guint64 given = 0;

  /* Handlers run without the lock: an entry-removed handler may watch or
   * unwatch. */
  nebula_mutex_lock (&watch_lock);
  for (guint i = 0; watched != NULL && i < watched->len; i++)
    {
      GObject *object = g_weak_ref_get (g_ptr_array_index (watched, i));

      if (object != NULL)
        g_ptr_array_add (objects, object);
    }
  nebula_mutex_unlock (&watch_lock);

  for (guint i = 0; i < objects->len; i++)
    given += handle_object (g_ptr_array_index (objects, i), level);

  nebula_sysprof_mark ("memory-pressure", "level %d: %u objects, %" G_GUINT64_FORMAT
                       " bytes given back", (int) level, objects->len, given);
  return given;
}

static void
low_memory_warning_cb (GMemoryMonitor             *memory_monitor,
                       GMemoryMonitorWarningLevel  level,
                       gpointer                    user_data)
{
  nebula_memory_pressure_notify (level);
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

/* Called with watch_lock held: the index of @object, or -1. Entries whose
 * object is gone are dropped on the way. */
static int
find_watched (GObject *object)
{
  for (guint i = 0; i < watched->len;)
    {
      GObject *other = g_weak_ref_get (g_ptr_array_index (watched, i));

      if (other == NULL)
        {
          g_ptr_array_remove_index_fast (watched, i);
          continue;
        }
      g_object_unref (other);
      if (other == object)
        return (int) i;
      i++;
    }

  return -1;
}

/**
 * nebula_memory_pressure_watch:
 * @object: a #NebulaAllocator, #NebulaComputeCache or
 *   #NebulaAsyncComputeCache
 * @error: return location for a #GError
 *
 * Opts @object in to memory pressure: from now on, each
 * #GMemoryMonitor::low-memory-warning of the default #GMemoryMonitor
 * (g_memory_monitor_dup_default(), which GLib backs by the desktop portal
 * or the low-memory-monitor service) calls
 * nebula_allocator_handle_memory_pressure() or the cache's handler with the
 * warning's level. Nothing is watched unless asked: an application decides
 * which of its allocators and caches may shrink.
 *
 * The monitor is taken on the first call, and emits its warnings in the
 * thread-default #GMainContext of that moment: make the first call from
 * the thread that runs your main loop, and watch a single-threaded
 * allocator only if that is the thread that uses it (a thread-safe one
 * takes its locks). Watching holds a weak reference: @object may be
 * finalized while watched. Watching twice is the same as once.
 *
 * Returns: %TRUE; %FALSE with %NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED if
 *   @object is neither an allocator nor a compute cache
 */
gboolean
nebula_memory_pressure_watch (GObject  *object,
                              GError  **error)
{
  GMemoryMonitor *new_monitor = NULL;

  g_return_val_if_fail (G_IS_OBJECT (object), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!NEBULA_IS_ALLOCATOR (object) && !NEBULA_IS_COMPUTE_CACHE (object) &&
      !NEBULA_IS_ASYNC_COMPUTE_CACHE (object))
    {
      NebulaErrorInfo info = {
        .suggestion = "Watch a NebulaAllocator, a NebulaComputeCache or a "
                      "NebulaAsyncComputeCache.",
      };

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED, &info,
                        "Memory pressure: a %s is neither an allocator nor a compute cache",
                        G_OBJECT_TYPE_NAME (object));
      return FALSE;
    }

  /* Outside the lock: the default monitor may be created now, and its
   * construction may call into GIO modules. */
  if (g_atomic_pointer_get (&monitor) == NULL)
    new_monitor = g_memory_monitor_dup_default ();

  nebula_mutex_lock (&watch_lock);
  if (watched == NULL)
    watched = g_ptr_array_new_with_free_func (weak_ref_free);
  if (monitor == NULL && new_monitor != NULL)
    {
      g_signal_connect (new_monitor, "low-memory-warning", G_CALLBACK (low_memory_warning_cb),
                        NULL);
      g_atomic_pointer_set (&monitor, g_steal_pointer (&new_monitor));
    }
  if (find_watched (object) < 0)
    {
      GWeakRef *ref = g_new0 (GWeakRef, 1);

      g_weak_ref_init (ref, object);
      g_ptr_array_add (watched, ref);
    }
  nebula_mutex_unlock (&watch_lock);

  g_clear_object (&new_monitor);
  return TRUE;
}

/**
 * nebula_memory_pressure_unwatch:
 * @object: an object passed to nebula_memory_pressure_watch()
 *
 * Opts @object out of memory pressure. An object that is not watched is
 * left alone.
 */
void
nebula_memory_pressure_unwatch (GObject *object)
{
  int index;

  g_return_if_fail (G_IS_OBJECT (object));

  nebula_mutex_lock (&watch_lock);
  if (watched != NULL && (index = find_watched (object)) >= 0)
    g_ptr_array_remove_index_fast (watched, (guint) index);
  nebula_mutex_unlock (&watch_lock);
}
