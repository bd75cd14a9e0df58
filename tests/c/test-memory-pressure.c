/* test-memory-pressure.c: the memory-pressure handlers at each level, and
 * the connection to GLib's GMemoryMonitor through a monitor of our own,
 * registered at GIO's extension point and chosen with
 * GIO_USE_MEMORY_MONITOR, so no real low-memory event is needed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <nebula.h>

#include "test-util.h"

/* The mock monitor. */

#define TEST_TYPE_MEMORY_MONITOR (test_memory_monitor_get_type ())
G_DECLARE_FINAL_TYPE (TestMemoryMonitor, test_memory_monitor, TEST, MEMORY_MONITOR, GObject)

struct _TestMemoryMonitor
{
  GObject parent_instance;
};

static gboolean
test_memory_monitor_initable_init (GInitable     *initable,
                                   GCancellable  *cancellable,
                                   GError       **error)
{
  return TRUE;
}

static void
test_memory_monitor_initable_iface_init (GInitableIface *iface)
{
  iface->init = test_memory_monitor_initable_init;
}

static void
test_memory_monitor_iface_init (GMemoryMonitorInterface *iface)
{
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestMemoryMonitor, test_memory_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      test_memory_monitor_initable_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_MEMORY_MONITOR,
                                                      test_memory_monitor_iface_init))

static void
test_memory_monitor_class_init (TestMemoryMonitorClass *klass)
{
}

static void
test_memory_monitor_init (TestMemoryMonitor *self)
{
}

/* Helpers. */

static gpointer
new_keep_all_bump (void)
{
  g_autoptr(GError) error = NULL;
  NebulaBumpAllocator *bump;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 1024,
                         "max-capacity", (guint64) 16384,
                         "reset-policy", NEBULA_RESET_POLICY_KEEP_ALL,
                         NULL);
  g_assert_no_error (error);
  for (guint i = 0; i < 30; i++)
    {
      nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 200, 8, &error);
      g_assert_no_error (error);
    }
  nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
  return bump;
}

static NebulaComputeCache *
new_filled_cache (guint max_entries,
                  guint n)
{
  NebulaComputeCache *cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, max_entries);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) value = g_object_new (G_TYPE_OBJECT, NULL);

      g_assert_true (nebula_compute_cache_insert (cache, g_variant_new_uint32 (i), value, &error));
      g_assert_no_error (error);
    }
  return cache;
}

static gint64 fake_now;

static gint64
fake_clock (gpointer user_data)
{
  return fake_now;
}

/* The handlers, level by level. */

static void
test_pressure_allocator_levels (void)
{
  g_autoptr(NebulaBumpAllocator) bump = new_keep_all_bump ();
  g_autoptr(GError) error = NULL;
  guint64 reserved = test_reserved_of (bump), given;

  g_assert_cmpuint (reserved, >, 1024);

  /* Below LOW: nothing. */
  g_assert_cmpuint (nebula_allocator_handle_memory_pressure (NEBULA_ALLOCATOR (bump), 0, &error),
                    ==, 0);
  g_assert_no_error (error);

  /* LOW trims; keep-all asks to keep the spares, so they stay. */
  g_assert_cmpuint (nebula_allocator_handle_memory_pressure (NEBULA_ALLOCATOR (bump),
                                                             G_MEMORY_MONITOR_WARNING_LEVEL_LOW,
                                                             &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpuint (test_reserved_of (bump), ==, reserved);

  /* MEDIUM drops retained chunks. */
  given = nebula_allocator_handle_memory_pressure (NEBULA_ALLOCATOR (bump),
                                                   G_MEMORY_MONITOR_WARNING_LEVEL_MEDIUM, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (given, ==, reserved - 1024);
  g_assert_cmpuint (test_reserved_of (bump), ==, 1024);

  /* CRITICAL: nothing left. */
  g_assert_cmpuint (nebula_allocator_handle_memory_pressure (NEBULA_ALLOCATOR (bump),
                                                             G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL,
                                                             &error), ==, 0);
  g_assert_no_error (error);
}

/* A thread-safe pool's LOW handler flushes this thread's magazine and the
 * depot, where every freed block sits, before it trims. */
static void
test_pressure_thread_safe_pool (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                                        "block-size", (guint64) 32,
                                                        "block-count", (guint64) 16,
                                                        "max-block-count", (guint64) 64,
                                                        "thread-safe", TRUE,
                                                        "magazine-size", 8,
                                                        NULL);
  gpointer blocks[64];
  guint64 reserved;

  g_assert_no_error (error);
  for (guint i = 0; i < 64; i++)
    blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 32, 8, &error);
  for (guint i = 0; i < 64; i++)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[i], 32, 8, &error));
  reserved = test_reserved_of (pool);
  g_assert_cmpuint (reserved, ==, 64 * 32);

  g_assert_cmpuint (nebula_allocator_handle_memory_pressure (NEBULA_ALLOCATOR (pool),
                                                             G_MEMORY_MONITOR_WARNING_LEVEL_LOW,
                                                             &error), ==, 48 * 32);
  g_assert_no_error (error);
  g_assert_cmpuint (test_reserved_of (pool), ==, 16 * 32);
  g_assert_cmpuint (nebula_allocator_handle_memory_pressure (NEBULA_ALLOCATOR (pool),
                                                             G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL,
                                                             &error), ==, 0);
  g_assert_no_error (error);
}

static void
test_pressure_allocator_invalid (void)
{
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(GError) error = NULL;

  stack = g_object_new (NEBULA_TYPE_STACK_ALLOCATOR, "capacity", (guint64) 0, NULL);
  g_assert_cmpuint (nebula_allocator_handle_memory_pressure (NEBULA_ALLOCATOR (stack),
                                                             G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL,
                                                             &error), ==, 0);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
}

static void
test_pressure_cache_levels (void)
{
  g_autoptr(NebulaComputeCache) cache = new_filled_cache (100, 80);
  g_autoptr(NebulaCacheStats) stats = NULL;

  /* Nothing expired: LOW and MEDIUM leave it. */
  g_assert_cmpuint (nebula_compute_cache_handle_memory_pressure (cache,
                                                                 G_MEMORY_MONITOR_WARNING_LEVEL_LOW),
                    ==, 0);
  g_assert_cmpuint (nebula_compute_cache_handle_memory_pressure (cache,
                                                                 G_MEMORY_MONITOR_WARNING_LEVEL_MEDIUM),
                    ==, 0);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 80);

  /* CRITICAL: down to a quarter of max-entries, least recently used first. */
  g_assert_cmpuint (nebula_compute_cache_handle_memory_pressure (cache,
                                                                 G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL),
                    ==, 55);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 25);
  for (guint i = 0; i < 80; i++)
    {
      g_autoptr(GObject) value = nebula_compute_cache_get (cache, g_variant_new_uint32 (i), NULL);

      g_assert_true ((value != NULL) == (i >= 55));
    }
  stats = nebula_compute_cache_get_stats (cache);
  g_assert_cmpuint (stats->evictions, ==, 55);

  /* At the mark: nothing more. */
  g_assert_cmpuint (nebula_compute_cache_handle_memory_pressure (cache,
                                                                 G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL),
                    ==, 0);
}

static void
test_pressure_cache_unbounded (void)
{
  g_autoptr(NebulaComputeCache) cache = new_filled_cache (0, 40);

  g_assert_cmpuint (nebula_compute_cache_handle_memory_pressure (cache,
                                                                 G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL),
                    ==, 30);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 10);
}

static void
test_pressure_cache_expired (void)
{
  g_autoptr(NebulaComputeCache) cache = NULL;
  g_autoptr(GError) error = NULL;

  cache = g_object_new (NEBULA_TYPE_COMPUTE_CACHE,
                        "max-entries", 100,
                        "time-to-live", (guint64) 1000,
                        NULL);
  fake_now = 0;
  nebula_compute_cache_set_clock (cache, fake_clock, NULL, NULL);
  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(GObject) value = g_object_new (G_TYPE_OBJECT, NULL);

      if (i == 5)
        fake_now = 500;
      g_assert_true (nebula_compute_cache_insert (cache, g_variant_new_uint32 (i), value, &error));
    }

  /* The first five expire at 1000, the others at 1500. */
  fake_now = 1200;
  g_assert_cmpuint (nebula_compute_cache_handle_memory_pressure (cache,
                                                                 G_MEMORY_MONITOR_WARNING_LEVEL_LOW),
                    ==, 5);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 5);
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
  guint *pending = user_data;
  g_autoptr(GObject) value = NULL;

  value = nebula_async_compute_cache_get_or_compute_finish (NEBULA_ASYNC_COMPUTE_CACHE (source),
                                                            result, NULL, NULL);
  (*pending)--;
}

static void
test_pressure_async_cache (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = nebula_async_compute_cache_new (NEBULA_EVICTION_POLICY_LRU,
                                                                             40);
  guint pending = 40;

  for (guint i = 0; i < 40; i++)
    nebula_async_compute_cache_get_or_compute_async (cache, g_variant_new_uint32 (i), compute_cb,
                                                     NULL, NULL, NULL, computed_cb, &pending);
  while (pending > 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (nebula_async_compute_cache_get_n_entries (cache), ==, 40);

  g_assert_cmpuint (nebula_async_compute_cache_handle_memory_pressure (cache,
                                                                       G_MEMORY_MONITOR_WARNING_LEVEL_MEDIUM),
                    ==, 0);
  g_assert_cmpuint (nebula_async_compute_cache_handle_memory_pressure (cache,
                                                                       G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL),
                    ==, 30);
  g_assert_cmpuint (nebula_async_compute_cache_get_n_entries (cache), ==, 10);
}

/* The monitor: what nebula_memory_pressure_watch() connects. */

static void
test_pressure_monitor (void)
{
  g_autoptr(GMemoryMonitor) monitor = NULL;
  g_autoptr(NebulaBumpAllocator) bump = new_keep_all_bump ();
  g_autoptr(NebulaBumpAllocator) unwatched = new_keep_all_bump ();
  g_autoptr(NebulaComputeCache) cache = new_filled_cache (100, 80);
  g_autoptr(GError) error = NULL;
  guint64 reserved = test_reserved_of (bump);

  g_assert_true (nebula_memory_pressure_watch (G_OBJECT (bump), &error));
  g_assert_true (nebula_memory_pressure_watch (G_OBJECT (bump), &error));
  g_assert_true (nebula_memory_pressure_watch (G_OBJECT (cache), &error));
  g_assert_no_error (error);

  /* The default monitor is ours. */
  monitor = g_memory_monitor_dup_default ();
  g_assert_true (TEST_IS_MEMORY_MONITOR (monitor));

  g_signal_emit_by_name (monitor, "low-memory-warning", G_MEMORY_MONITOR_WARNING_LEVEL_LOW);
  g_assert_cmpuint (test_reserved_of (bump), ==, reserved);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 80);

  g_signal_emit_by_name (monitor, "low-memory-warning", G_MEMORY_MONITOR_WARNING_LEVEL_MEDIUM);
  g_assert_cmpuint (test_reserved_of (bump), ==, 1024);
  g_assert_cmpuint (test_reserved_of (unwatched), ==, reserved);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 80);

  g_signal_emit_by_name (monitor, "low-memory-warning", G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 25);

  /* Unwatched, the cache is left alone. */
  nebula_memory_pressure_unwatch (G_OBJECT (cache));
  nebula_compute_cache_invalidate_all (cache);
  g_object_unref (new_filled_cache (0, 0));
  for (guint i = 0; i < 80; i++)
    {
      g_autoptr(GObject) value = g_object_new (G_TYPE_OBJECT, NULL);

      nebula_compute_cache_insert (cache, g_variant_new_uint32 (i), value, NULL);
    }
  g_assert_cmpuint (nebula_memory_pressure_notify (G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL), ==, 0);
  g_assert_cmpuint (nebula_compute_cache_get_n_entries (cache), ==, 80);

  /* A watched object may go away while watched. */
  {
    NebulaBumpAllocator *gone = new_keep_all_bump ();
    guint64 gone_reserved = test_reserved_of (gone);

    g_assert_true (nebula_memory_pressure_watch (G_OBJECT (gone), NULL));
    g_assert_cmpuint (nebula_memory_pressure_notify (G_MEMORY_MONITOR_WARNING_LEVEL_MEDIUM), ==,
                      gone_reserved - 1024);
    g_object_unref (gone);
    g_signal_emit_by_name (monitor, "low-memory-warning", G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL);
  }
}

static void
test_pressure_watch_bad (void)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (nebula_memory_pressure_watch (object, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED);
}

int
main (int   argc,
      char *argv[])
{
  GIOExtensionPoint *point;

  /* Before GIO picks the default monitor: ours, by name. Registering the
   * extension point first is allowed (GIO's own registration returns the
   * same point). */
  g_setenv ("GIO_USE_MEMORY_MONITOR", "nebula-test", TRUE);
  point = g_io_extension_point_register (G_MEMORY_MONITOR_EXTENSION_POINT_NAME);
  g_io_extension_point_implement (G_MEMORY_MONITOR_EXTENSION_POINT_NAME, TEST_TYPE_MEMORY_MONITOR,
                                  "nebula-test", 1000);
  g_assert_nonnull (point);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/pressure/allocator/levels", test_pressure_allocator_levels);
  g_test_add_func ("/nebula/pressure/allocator/thread-safe-pool", test_pressure_thread_safe_pool);
  g_test_add_func ("/nebula/pressure/allocator/invalid", test_pressure_allocator_invalid);
  g_test_add_func ("/nebula/pressure/cache/levels", test_pressure_cache_levels);
  g_test_add_func ("/nebula/pressure/cache/unbounded", test_pressure_cache_unbounded);
  g_test_add_func ("/nebula/pressure/cache/expired", test_pressure_cache_expired);
  g_test_add_func ("/nebula/pressure/async-cache", test_pressure_async_cache);
  g_test_add_func ("/nebula/pressure/monitor", test_pressure_monitor);
  g_test_add_func ("/nebula/pressure/watch-bad", test_pressure_watch_bad);

  return g_test_run ();
}
