/* test-allocator.c: what every built-in allocator does the same way.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

typedef struct {
  const char *name;
  NebulaAllocator *(*create) (void);
} Factory;

static NebulaAllocator *
create_system (void)
{
  return NEBULA_ALLOCATOR (nebula_system_allocator_new (NULL));
}

static NebulaAllocator *
create_bump (void)
{
  return NEBULA_ALLOCATOR (nebula_bump_allocator_new (64 * 1024, NULL));
}

static NebulaAllocator *
create_bump_thread_safe (void)
{
  return g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, NULL,
                         "capacity", (guint64) (64 * 1024), "thread-safe", TRUE, NULL);
}

static NebulaAllocator *
create_stack (void)
{
  return NEBULA_ALLOCATOR (nebula_stack_allocator_new (64 * 1024, NULL));
}

static NebulaAllocator *
create_pool (void)
{
  return g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, NULL,
                         "block-size", (guint64) 256, "block-alignment", (guint64) 64,
                         "block-count", (guint64) 64, NULL);
}

static NebulaAllocator *
create_pool_unchecked (void)
{
  return g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, NULL,
                         "block-size", (guint64) 256, "block-alignment", (guint64) 64,
                         "block-count", (guint64) 64, "check-frees", FALSE, NULL);
}

static NebulaAllocator *
create_pool_thread_safe (void)
{
  return g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, NULL,
                         "block-size", (guint64) 256, "block-alignment", (guint64) 64,
                         "block-count", (guint64) 64, "thread-safe", TRUE, NULL);
}

/* Allocators that serve blocks of at most 256 bytes at alignment 64. */
static const Factory factories[] = {
  { "system", create_system },
  { "bump", create_bump },
  { "bump-thread-safe", create_bump_thread_safe },
  { "stack", create_stack },
  { "pool", create_pool },
  { "pool-unchecked", create_pool_unchecked },
  { "pool-thread-safe", create_pool_thread_safe },
};

static void
test_layout_validation (gconstpointer data)
{
  const Factory *factory = data;
  g_autoptr(NebulaAllocator) alloc = factory->create ();
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GError) error = NULL;
  static const struct { gsize size, alignment; gint code; } bad[] = {
    { 8, 0, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT },
    { 8, 3, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT },
    { 8, 24, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT },
    { G_MAXSIZE, 8, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW },
    { G_MAXSIZE - 3, 8, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW },
    { (gsize) G_MAXSSIZE + 1, 1, NEBULA_ALLOCATOR_ERROR_EXCEEDS_MAX_SIZE },
  };

  g_assert_nonnull (alloc);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_null (nebula_allocator_allocate (alloc, bad[i].size, bad[i].alignment, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, bad[i].code);
      g_clear_error (&error);
      g_assert_null (nebula_allocator_allocate_zeroed (alloc, bad[i].size, bad[i].alignment, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, bad[i].code);
      g_clear_error (&error);
      g_assert_false (nebula_allocator_deallocate (alloc, &error, bad[i].size, bad[i].alignment, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, bad[i].code);
      g_clear_error (&error);
    }

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->failed_allocations, ==, 2 * G_N_ELEMENTS (bad));
  g_assert_cmpuint (stats->allocations, ==, 0);
}

static void
test_roundtrip (gconstpointer data)
{
  const Factory *factory = data;
  g_autoptr(NebulaAllocator) alloc = factory->create ();
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *blocks[16];

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      gsize alignment = (gsize) 1 << (i % 7);

      blocks[i] = nebula_allocator_allocate (alloc, 16 + i, alignment, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (GPOINTER_TO_SIZE (blocks[i]) % alignment, ==, 0);
      g_assert_true (nebula_allocator_owns (alloc, blocks[i]));
      memset (blocks[i], i, 16 + i);
    }

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    for (guint j = 0; j < 16 + i; j++)
      g_assert_cmpuint (blocks[i][j], ==, i);

  for (guint i = G_N_ELEMENTS (blocks); i-- > 0;)
    {
      g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], 16 + i, (gsize) 1 << (i % 7), &error));
      g_assert_no_error (error);
    }

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, G_N_ELEMENTS (blocks));
  g_assert_cmpuint (stats->deallocations, ==, G_N_ELEMENTS (blocks));
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  g_assert_cmpuint (stats->peak_bytes_in_use, ==, 16 * 16 + 120);
  g_assert_cmpuint (stats->total_bytes_allocated, ==, stats->total_bytes_freed);
}

static void
test_zero_size (gconstpointer data)
{
  const Factory *factory = data;
  g_autoptr(NebulaAllocator) alloc = factory->create ();
  g_autoptr(GError) error = NULL;
  gpointer a, b;

  a = nebula_allocator_allocate (alloc, 0, 8, &error);
  g_assert_no_error (error);
  b = nebula_allocator_allocate (alloc, 0, 8, &error);
  g_assert_no_error (error);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_true (a != b);
  g_assert_true (nebula_allocator_deallocate (alloc, b, 0, 8, &error));
  g_assert_true (nebula_allocator_deallocate (alloc, a, 0, 8, &error));
  g_assert_no_error (error);
}

static void
test_addresses (gconstpointer data)
{
  const Factory *factory = data;
  g_autoptr(NebulaAllocator) alloc = factory->create ();
  g_autoptr(GError) error = NULL;
  guint64 address;

  address = nebula_allocator_allocate_address (alloc, 48, 16, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (address % 16, ==, 0);
  g_assert_true (nebula_allocator_owns_address (alloc, address));
  address = nebula_allocator_reallocate_address (alloc, address, 48, 96, 16, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_deallocate_address (alloc, address, 96, 16, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (nebula_allocator_allocate_address (alloc, 8, 5, &error), ==, 0);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
}

static void
test_reset_stats (gconstpointer data)
{
  const Factory *factory = data;
  g_autoptr(NebulaAllocator) alloc = factory->create ();
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GError) error = NULL;

  nebula_allocator_allocate (alloc, 100, 8, &error);
  nebula_allocator_allocate (alloc, 8, 3, NULL);
  nebula_allocator_reset_stats (alloc);
  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 0);
  g_assert_cmpuint (stats->failed_allocations, ==, 0);
  g_assert_cmpuint (stats->bytes_in_use, ==, 100);
  g_assert_cmpuint (stats->peak_bytes_in_use, ==, 100);
  g_clear_pointer (&stats, nebula_allocator_stats_free);

  nebula_allocator_reset (alloc);
  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  g_assert_cmpuint (stats->resets, ==, 1);
}

static void
test_interface_properties (gconstpointer data)
{
  const Factory *factory = data;
  g_autoptr(NebulaAllocator) alloc = factory->create ();
  g_autofree char *name = NULL;

  g_assert_true (g_object_class_find_property (G_OBJECT_GET_CLASS (alloc), "capacity") != NULL);
  g_assert_true (g_object_class_find_property (G_OBJECT_GET_CLASS (alloc), "bytes-used") != NULL);
  g_assert_true (g_object_class_find_property (G_OBJECT_GET_CLASS (alloc), "bytes-available") != NULL);
  g_assert_true (g_object_class_find_property (G_OBJECT_GET_CLASS (alloc), "thread-safe") != NULL);
  name = nebula_allocator_dup_name (alloc);
  g_assert_null (name);
}

/* An implementation that fails without saying why: the wrappers must still
 * hand the caller a GError, NEBULA_ALLOCATOR_ERROR_FAILED with the size. */
#define TEST_TYPE_SILENT_ALLOCATOR (test_silent_allocator_get_type ())
G_DECLARE_FINAL_TYPE (TestSilentAllocator, test_silent_allocator, TEST, SILENT_ALLOCATOR, GObject)

struct _TestSilentAllocator
{
  GObject parent_instance;
};

static gpointer
test_silent_allocator_alloc (NebulaAllocator  *self,
                             gsize             size,
                             gsize             alignment,
                             GError          **error)
{
  return NULL;
}

static gboolean
test_silent_allocator_dealloc (NebulaAllocator  *self,
                               gpointer          ptr,
                               gsize             size,
                               gsize             alignment,
                               GError          **error)
{
  return FALSE;
}

static void
test_silent_allocator_iface_init (NebulaAllocatorInterface *iface)
{
  iface->alloc = test_silent_allocator_alloc;
  iface->dealloc = test_silent_allocator_dealloc;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestSilentAllocator, test_silent_allocator, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (NEBULA_TYPE_ALLOCATOR,
                                                      test_silent_allocator_iface_init))

/* The interface properties read as their defaults (0, FALSE, NULL). */
static void
test_silent_allocator_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
}

static void
test_silent_allocator_class_init (TestSilentAllocatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  static const char * const names[] = {
    "capacity", "bytes-used", "bytes-available", "thread-safe", "name",
  };

  object_class->get_property = test_silent_allocator_get_property;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_object_class_override_property (object_class, i + 1, names[i]);
}

static void
test_silent_allocator_init (TestSilentAllocator *self)
{
}

static void
test_failed_without_reason (void)
{
  g_autoptr(GObject) silent = g_object_new (TEST_TYPE_SILENT_ALLOCATOR, NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (silent);
  g_autoptr(GError) error = NULL;
  guint8 block[64];

  g_assert_null (nebula_allocator_allocate (alloc, 48, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "allocation of 48 bytes failed without a reason"));
  g_assert_cmpuint (nebula_error_get_requested (error), ==, 48);
  g_clear_error (&error);

  g_assert_false (nebula_allocator_deallocate (alloc, block, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "deallocation of 64 bytes failed without a reason"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/allocator/failed-without-reason", test_failed_without_reason);

  for (guint i = 0; i < G_N_ELEMENTS (factories); i++)
    {
      static const struct { const char *path; GTestDataFunc func; } tests[] = {
        { "layout-validation", test_layout_validation },
        { "roundtrip", test_roundtrip },
        { "zero-size", test_zero_size },
        { "addresses", test_addresses },
        { "reset-stats", test_reset_stats },
        { "interface-properties", test_interface_properties },
      };

      for (guint j = 0; j < G_N_ELEMENTS (tests); j++)
        {
          g_autofree char *path = g_strdup_printf ("/nebula/allocator/%s/%s",
                                                   factories[i].name, tests[j].path);
          g_test_add_data_func (path, &factories[i], tests[j].func);
        }
    }

  return g_test_run ();
}
