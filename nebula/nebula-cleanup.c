/* nebula-cleanup.c: functions that run when an allocator lets go of memory
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-sanitizer-private.h"
#include "nebula-cleanup-private.h"

/* One registration. Serials rise in registration order and are never
 * reused (64 bits), so "registered after a checkpoint" is a comparison; the
 * handle callers see is the serial's low 32 bits, never 0. */
typedef struct
{
  guint64            serial;
  NebulaCleanupFunc  func;
  gpointer           user_data;
  GDestroyNotify     destroy;
  gboolean           first;       /* runs before the others of its pass */
} Cleanup;

/* The cleanups of one allocator, in its qdata from the first registration
 * on. Pending entries are in registration order; each is taken out of the
 * array, under the lock, before it runs outside it, so a cleanup may
 * register, remove or run others, or use the allocator. */
typedef struct
{
  GMutex   lock;
  GArray  *entries;        /* Cleanup */
  guint64  last_serial;
} CleanupList;

static GQuark cleanup_quark;
G_LOCK_DEFINE_STATIC (cleanup_list_create);

static void
cleanup_finish (Cleanup *cleanup,
                gboolean run)
{
  if (run)
    cleanup->func (cleanup->user_data);
  if (cleanup->destroy != NULL)
    cleanup->destroy (cleanup->user_data);
}

/* GLib's qdata is not instrumented: tell ThreadSanitizer that a list
 * found there was published by its creator. */
static inline CleanupList *
cleanup_list_acquire (CleanupList *list)
{
  if (list != NULL)
    NEBULA_TSAN_ACQUIRE (list);
  return list;
}

static CleanupList *
cleanup_list_peek (gpointer allocator)
{
  GQuark quark = (GQuark) g_atomic_int_get ((gint *) &cleanup_quark);

  /* No allocator ever had a cleanup. */
  if (G_UNLIKELY (quark == 0))
    return NULL;
  return cleanup_list_acquire (g_object_get_qdata (allocator, quark));
}

/* Takes the next cleanup of a pass over those registered after @mark out
 * of @list: the newest of those that run first (child arenas), else the
 * newest. */
static gboolean
cleanup_list_pop_after (CleanupList *list,
                        guint64      mark,
                        Cleanup     *out)
{
  gboolean found = FALSE;
  guint index;

  nebula_mutex_lock (&list->lock);
  index = list->entries->len;
  for (guint i = list->entries->len; i > 0; i--)
    {
      Cleanup *cleanup = &g_array_index (list->entries, Cleanup, i - 1);

      if (cleanup->serial <= mark)
        break;
      if (index == list->entries->len)
        index = i - 1;
      if (cleanup->first)
        {
          index = i - 1;
          break;
        }
    }
  if (index < list->entries->len)
    {
      *out = g_array_index (list->entries, Cleanup, index);
      g_array_remove_index (list->entries, index);
      found = TRUE;
    }
  nebula_mutex_unlock (&list->lock);

  return found;
}

static gboolean
cleanup_list_run_after (CleanupList *list,
                        guint64      mark)
{
  Cleanup cleanup;
  gboolean ran = FALSE;

  /* One at a time: a cleanup registered by a running one is newer than
   * @mark too, so it runs in this same pass. */
  while (cleanup_list_pop_after (list, mark, &cleanup))
    {
      cleanup_finish (&cleanup, TRUE);
      ran = TRUE;
    }
  return ran;
}

static void
cleanup_list_free (gpointer data)
{
  CleanupList *list = data;

  /* Only what was registered after the dispose pass is left (an object
   * brought back to life during its dispose). */
  cleanup_list_run_after (list, 0);
  g_array_unref (list->entries);
  g_mutex_clear (&list->lock);
  g_free (list);
}

/* The allocator is being disposed: its memory is still there. */
static void
allocator_disposed_cb (gpointer  data,
                       GObject  *where_the_object_was)
{
  cleanup_list_run_after (data, 0);
}

static CleanupList *
cleanup_list_get (gpointer self)
{
  CleanupList *list;

  if (G_UNLIKELY (g_atomic_int_get ((gint *) &cleanup_quark) == 0))
    g_atomic_int_set ((gint *) &cleanup_quark,
                      (gint) g_quark_from_static_string ("nebula-allocator-cleanups"));

  list = cleanup_list_acquire (g_object_get_qdata (G_OBJECT (self), cleanup_quark));
  if (G_LIKELY (list != NULL))
    return list;

  G_LOCK (cleanup_list_create);
  list = cleanup_list_acquire (g_object_get_qdata (G_OBJECT (self), cleanup_quark));
  if (list == NULL)
    {
      list = g_new0 (CleanupList, 1);
      g_mutex_init (&list->lock);
      list->entries = g_array_new (FALSE, FALSE, sizeof (Cleanup));
      NEBULA_TSAN_RELEASE (list);
      g_object_set_qdata_full (G_OBJECT (self), cleanup_quark, list, cleanup_list_free);
      g_object_weak_ref (G_OBJECT (self), allocator_disposed_cb, list);
    }
  G_UNLOCK (cleanup_list_create);

  return list;
}

/* Takes the pending cleanup with @handle out of @list. */
static gboolean
cleanup_list_take (CleanupList *list,
                   guint        handle,
                   Cleanup     *out)
{
  gboolean found = FALSE;

  nebula_mutex_lock (&list->lock);
  for (guint i = list->entries->len; i > 0; i--)
    {
      Cleanup *cleanup = &g_array_index (list->entries, Cleanup, i - 1);

      if ((guint) cleanup->serial == handle)
        {
          *out = *cleanup;
          g_array_remove_index (list->entries, i - 1);
          found = TRUE;
          break;
        }
    }
  nebula_mutex_unlock (&list->lock);

  return found;
}

/**
 * nebula_allocator_add_cleanup_full: (rename-to nebula_allocator_add_cleanup)
 * @self: a #NebulaAllocator
 * @func: (scope notified) (closure user_data) (destroy destroy): runs once,
 *   when the cleanup's lifetime ends
 * @user_data: passed to @func
 * @destroy: (nullable): frees @user_data after @func ran, or when the
 *   cleanup is removed without running
 *
 * Registers @func to run when @self lets go of the memory it holds now,
 * like `apr_pool_cleanup_register()` or a talloc destructor: cleanups run
 * newest first,
 *
 * - when @self is reset (nebula_allocator_reset()), before its memory is
 *   released, so a cleanup may still read blocks of @self;
 * - when @self is disposed (its last reference goes), before it frees
 *   anything;
 * - for a #NebulaBumpAllocator, when a checkpoint or scope taken before
 *   the registration is restored (nebula_bump_allocator_restore(),
 *   nebula_bump_scope_free()), after the restore passed its checks and
 *   before memory is rewound; a restore refused as stale runs nothing;
 * - for a #NebulaStackAllocator, when its stack is released to a marker or
 *   frame taken before the registration (either end: markers of a
 *   double-ended stack share one list), before memory is released. The
 *   cleanups run once the marker is known to be of this allocator and of
 *   its current generation, before the blocks above it are checked, so a
 *   release then refused as corrupt or stale has already run them.
 *
 * A cleanup may use @self, and may register, remove or run other
 * cleanups: one it registers while a pass runs is newer than everything
 * in that pass, so it runs in the same pass (a cleanup that always
 * registers another makes the pass endless, as it would in APR).
 *
 * In Python and gjs, @func is any callable; one that refers to @self
 * keeps it alive until the cleanup has run or been removed. gjs cannot
 * call JavaScript
 * while its garbage collector finalizes objects: reset (or end the scope
 * of) an allocator whose cleanups are JavaScript functions, rather than
 * letting the collector dispose of it.
 *
 * Returns: a handle for nebula_allocator_remove_cleanup() and
 *   nebula_allocator_run_cleanup(), never 0
 */
guint
nebula_allocator_add_cleanup_full (NebulaAllocator   *self,
                                   NebulaCleanupFunc  func,
                                   gpointer           user_data,
                                   GDestroyNotify     destroy)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);
  g_return_val_if_fail (func != NULL, 0);

  return nebula_cleanup_add (self, func, user_data, destroy, FALSE);
}

guint
nebula_cleanup_add (gpointer           allocator,
                    NebulaCleanupFunc  func,
                    gpointer           user_data,
                    GDestroyNotify     destroy,
                    gboolean           first)
{
  CleanupList *list;
  Cleanup cleanup;

  list = cleanup_list_get (allocator);

  nebula_mutex_lock (&list->lock);
  /* Serials whose low half is 0 are skipped: 0 is no handle. */
  if ((guint) (list->last_serial + 1) == 0)
    list->last_serial++;
  cleanup.serial = ++list->last_serial;
  cleanup.func = func;
  cleanup.user_data = user_data;
  cleanup.destroy = destroy;
  cleanup.first = first;
  g_array_append_val (list->entries, cleanup);
  nebula_mutex_unlock (&list->lock);

  return (guint) cleanup.serial;
}

/**
 * nebula_allocator_add_cleanup: (skip)
 * @self: a #NebulaAllocator
 * @func: runs once with @data, when the cleanup's lifetime ends
 * @data: passed to @func
 *
 * Registers `func (data)` as a cleanup of @self: g_object_unref(),
 * g_free(), fclose() through a small wrapper, ... See
 * nebula_allocator_add_cleanup_full() for when it runs.
 *
 * |[<!-- language="C" -->
 * GFile *file = ...;
 * nebula_allocator_add_cleanup (arena, g_object_unref, file);
 * ]|
 *
 * Returns: a handle for nebula_allocator_remove_cleanup() and
 *   nebula_allocator_run_cleanup(), never 0
 */
guint
nebula_allocator_add_cleanup (NebulaAllocator *self,
                              GDestroyNotify   func,
                              gpointer         data)
{
  return nebula_allocator_add_cleanup_full (self, (NebulaCleanupFunc) func, data, NULL);
}

/* Takes the pending cleanup @handle of @self out of its list and runs it
 * (@run) or only frees its data. */
static gboolean
take_and_finish (NebulaAllocator *self,
                 guint            handle,
                 gboolean         run)
{
  CleanupList *list = cleanup_list_peek (self);
  Cleanup cleanup;

  if (list == NULL || handle == 0 || !cleanup_list_take (list, handle, &cleanup))
    return FALSE;

  cleanup_finish (&cleanup, run);
  return TRUE;
}

/**
 * nebula_allocator_remove_cleanup:
 * @self: a #NebulaAllocator
 * @handle: what nebula_allocator_add_cleanup() returned
 *
 * Cancels a pending cleanup without running it, like
 * `apr_pool_cleanup_kill()`: its destroy function (if any) still frees
 * its data. A handle that is not pending (it ran or was removed, or is 0)
 * changes nothing. Handles are numbered per allocator: pass the one the
 * handle came from.
 *
 * Returns: %TRUE if the cleanup was pending and is now removed
 */
gboolean
nebula_allocator_remove_cleanup (NebulaAllocator *self,
                                 guint            handle)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), FALSE);

  return take_and_finish (self, handle, FALSE);
}

/**
 * nebula_allocator_run_cleanup:
 * @self: a #NebulaAllocator
 * @handle: what nebula_allocator_add_cleanup() returned
 *
 * Runs a pending cleanup now, out of order, and removes it, like
 * `apr_pool_cleanup_run()`. A handle that is not pending changes nothing.
 *
 * Returns: %TRUE if the cleanup was pending and has run
 */
gboolean
nebula_allocator_run_cleanup (NebulaAllocator *self,
                              guint            handle)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), FALSE);

  return take_and_finish (self, handle, TRUE);
}

/**
 * nebula_allocator_get_n_cleanups:
 * @self: a #NebulaAllocator
 *
 * Counts the cleanups registered on @self that have not run or been
 * removed.
 *
 * Returns: the number of pending cleanups
 */
guint
nebula_allocator_get_n_cleanups (NebulaAllocator *self)
{
  CleanupList *list;
  guint n;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);

  list = cleanup_list_peek (self);
  if (list == NULL)
    return 0;

  nebula_mutex_lock (&list->lock);
  n = list->entries->len;
  nebula_mutex_unlock (&list->lock);

  return n;
}

guint64
nebula_cleanup_mark (gpointer allocator)
{
  CleanupList *list = cleanup_list_peek (allocator);
  guint64 mark;

  if (list == NULL)
    return 0;

  nebula_mutex_lock (&list->lock);
  mark = list->last_serial;
  nebula_mutex_unlock (&list->lock);

  return mark;
}

gboolean
nebula_cleanup_run_after (gpointer allocator,
                          guint64  mark)
{
  CleanupList *list = cleanup_list_peek (allocator);

  return list != NULL && cleanup_list_run_after (list, mark);
}

void
nebula_cleanup_run_all (gpointer allocator)
{
  nebula_cleanup_run_after (allocator, 0);
}
