/* test-report.c: nebula_allocator_get_report() and its JSON form.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "nebula-allocator-private.h"
#include "nebula-allocator-report-private.h"
#include "test-util.h"

static GVariant *
lookup_dict (GVariant   *dict,
             const char *key)
{
  GVariant *value = g_variant_lookup_value (dict, key, G_VARIANT_TYPE_VARDICT);

  g_assert_nonnull (value);
  return value;
}

static guint64
lookup_uint64 (GVariant   *dict,
               const char *key)
{
  guint64 value = 0;

  g_assert_true (g_variant_lookup (dict, key, "t", &value));
  return value;
}

static void
test_report_bump (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("frames-budget", 1 << 20);
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  g_autoptr(GVariant) report = NULL;
  g_autoptr(GVariant) config = NULL;
  g_autoptr(GVariant) stats = NULL;
  g_autoptr(GVariant) chunks = NULL;
  g_autoptr(GVariant) budget_dict = NULL;
  g_autoptr(GError) error = NULL;
  const char *text = NULL;
  double fragmentation = -1;
  gboolean thread_safe = TRUE;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "name", "frames",
                         "capacity", (guint64) 4096,
                         "max-capacity", (guint64) 65536,
                         "large-allocation-threshold", (guint64) 65536,
                         "budget", budget,
                         NULL);
  g_assert_no_error (error);
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 3000, 8, &error));
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 2000, 8, &error));
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 8, 5, NULL));

  report = nebula_allocator_get_report (NEBULA_ALLOCATOR (bump));
  g_assert_true (g_variant_is_of_type (report, G_VARIANT_TYPE_VARDICT));
  g_assert_false (g_variant_is_floating (report));

  g_assert_true (g_variant_lookup (report, "type", "&s", &text));
  g_assert_cmpstr (text, ==, "NebulaBumpAllocator");
  g_assert_true (g_variant_lookup (report, "name", "&s", &text));
  g_assert_cmpstr (text, ==, "frames");
  g_assert_true (g_variant_lookup (report, "thread-safe", "b", &thread_safe));
  g_assert_false (thread_safe);
  g_assert_cmpuint (lookup_uint64 (report, "capacity"), ==, 4096);
  g_assert_cmpuint (lookup_uint64 (report, "bytes-used"), ==,
                    test_bump_span (3000) + test_bump_span (2000));
  g_assert_cmpuint (lookup_uint64 (report, "reserved"), ==, 4096 + 8192);

  config = lookup_dict (report, "configuration");
  g_assert_cmpuint (lookup_uint64 (config, "max-capacity"), ==, 65536);
  g_assert_true (g_variant_lookup (config, "reset-policy", "&s", &text));
  g_assert_cmpstr (text, ==, "keep-largest");
  g_assert_true (g_variant_lookup (config, "preset", "&s", &text));
  g_assert_cmpstr (text, ==, "default");
  budget_dict = lookup_dict (config, "budget");
  g_assert_cmpuint (lookup_uint64 (budget_dict, "used"), ==, 4096 + 8192);
  g_assert_cmpuint (lookup_uint64 (budget_dict, "limit"), ==, 1 << 20);

  stats = lookup_dict (report, "stats");
  g_assert_cmpuint (lookup_uint64 (stats, "allocations"), ==, 2);
  g_assert_cmpuint (lookup_uint64 (stats, "failed-allocations"), ==, 1);
  g_assert_cmpuint (lookup_uint64 (stats, "bytes-in-use"), ==, 5000);
  g_assert_cmpuint (lookup_uint64 (stats, "peak-bytes-in-use"), ==, 5000);
  g_assert_cmpuint (lookup_uint64 (stats, "peak-bytes-in-use-upper-bound"), ==, 5000);

  /* Newest chunk first; the first chunk's tail of 1096 bytes (less the
   * redzone while the memory tools watch) is stranded. */
  chunks = g_variant_lookup_value (report, "chunks", G_VARIANT_TYPE ("aa{sv}"));
  g_assert_nonnull (chunks);
  g_assert_cmpuint (g_variant_n_children (chunks), ==, 2);
  {
    g_autoptr(GVariant) newest = g_variant_get_child_value (chunks, 0);
    g_autoptr(GVariant) oldest = g_variant_get_child_value (chunks, 1);
    gboolean current = FALSE;

    g_assert_cmpuint (lookup_uint64 (newest, "size"), ==, 8192);
    g_assert_cmpuint (lookup_uint64 (newest, "used"), ==, test_bump_span (2000));
    g_assert_true (g_variant_lookup (newest, "current", "b", &current));
    g_assert_true (current);
    g_assert_cmpuint (lookup_uint64 (oldest, "size"), ==, 4096);
    g_assert_cmpuint (lookup_uint64 (oldest, "used"), ==, test_bump_span (3000));
    g_assert_true (g_variant_lookup (oldest, "kind", "&s", &text));
    g_assert_cmpstr (text, ==, "regular");
  }
  g_assert_true (g_variant_lookup (report, "fragmentation", "d", &fragmentation));
  g_assert_cmpfloat_with_epsilon (fragmentation,
                                  (double) (4096 - test_bump_span (3000)) / (4096 + 8192), 1e-9);
}

static void
test_report_json (void)
{
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  g_autofree char *json = NULL;
  g_autofree char *variant_json = NULL;
  g_autoptr(GVariant) odd = NULL;
  int depth = 0;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, NULL,
                         "name", "quote\" back\\ nl\n tab\t ctl\x01 \xc3\xa9",
                         "capacity", (guint64) 1024, NULL);
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 100, 8, NULL));

  json = nebula_allocator_report_to_json (NEBULA_ALLOCATOR (bump));
  g_assert_nonnull (strstr (json, "\"name\":\"quote\\\" back\\\\ nl\\n tab\\t ctl\\u0001 \xc3\xa9\""));
  g_assert_nonnull (strstr (json, "\"type\":\"NebulaBumpAllocator\""));
  g_assert_nonnull (strstr (json, "\"thread-safe\":false"));
  g_assert_nonnull (strstr (json, "\"allocations\":1"));
  g_assert_nonnull (strstr (json, "\"chunks\":[{"));
  g_assert_null (strchr (json, '\n'));
  g_assert_true (json[0] == '{');

  /* Brackets balance outside strings. */
  for (const char *p = json; *p != '\0'; p++)
    {
      if (*p == '"')
        {
          for (p++; *p != '"'; p++)
            if (*p == '\\')
              p++;
          continue;
        }
      if (*p == '{' || *p == '[')
        depth++;
      else if (*p == '}' || *p == ']')
        depth--;
      g_assert_cmpint (depth, >=, 0);
    }
  g_assert_cmpint (depth, ==, 0);

  /* Everything GVariant can hold becomes JSON. */
  odd = g_variant_ref_sink (g_variant_new_parsed ("(@mi nothing, @mi 5, [1.5, -2.0], "
                                                  "{1: 'one'}, int16 -3, byte 7, "
                                                  "objectpath '/a', @ax [], "
                                                  "<<true>>, int64 -9223372036854775807)"));
  variant_json = nebula_variant_to_json (odd);
  g_assert_cmpstr (variant_json, ==,
                   "[null,5,[1.5,-2],[[1,\"one\"]],-3,7,\"/a\",[],true,-9223372036854775807]");
}

static void
test_report_system (void)
{
  g_autoptr(NebulaSystemAllocator) sys = nebula_system_allocator_new (NULL);
  g_autoptr(GVariant) report = NULL;
  double fragmentation = -1;
  gpointer blocks[3];

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (sys), 100 + i, 8, NULL);

  report = nebula_allocator_get_report (NEBULA_ALLOCATOR (sys));
  g_assert_cmpuint (lookup_uint64 (report, "blocks"), ==, 3);
#if HAVE_MALLOC_USABLE_SIZE
  g_assert_true (g_variant_lookup (report, "fragmentation", "d", &fragmentation));
  g_assert_cmpfloat (fragmentation, >=, 0.0);
  g_assert_cmpfloat (fragmentation, <, 1.0);
#endif
  {
    g_autoptr(GVariant) stats = lookup_dict (report, "stats");
    g_assert_cmpuint (lookup_uint64 (stats, "bytes-in-use"), ==, 303);
  }

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (sys), blocks[i], 100 + i, 8, NULL));
}

static GVariant *
lookup_list (GVariant   *report,
             const char *key,
             gsize       n_expected)
{
  GVariant *list = g_variant_lookup_value (report, key, G_VARIANT_TYPE ("aa{sv}"));

  g_assert_nonnull (list);
  g_assert_cmpuint (g_variant_n_children (list), ==, n_expected);
  return list;
}

static void
assert_slab (GVariant *slabs,
             gsize     index,
             guint64   blocks,
             guint64   blocks_used,
             guint64   blocks_untouched)
{
  g_autoptr(GVariant) slab = g_variant_get_child_value (slabs, index);

  g_assert_cmpuint (lookup_uint64 (slab, "size"), ==, blocks * 64);
  g_assert_cmpuint (lookup_uint64 (slab, "used"), ==, blocks_used * 64);
  g_assert_cmpuint (lookup_uint64 (slab, "blocks"), ==, blocks);
  g_assert_cmpuint (lookup_uint64 (slab, "blocks-used"), ==, blocks_used);
  g_assert_cmpuint (lookup_uint64 (slab, "blocks-free"), ==, blocks - blocks_used);
  g_assert_cmpuint (lookup_uint64 (slab, "blocks-untouched"), ==, blocks_untouched);
}

/* The blocks in use per slab come from the allocation bits with
 * check-frees, from the free list without; both lists are tried, the
 * single-threaded one (inside the blocks) and the thread-safe one. */
static void
test_report_pool (void)
{
  for (guint mode = 0; mode < 4; mode++)
    {
      gboolean check_frees = (mode & 1) != 0;
      gboolean thread_safe = (mode & 2) != 0;
      g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("slabs", 0);
      g_autoptr(NebulaPoolAllocator) pool = NULL;
      g_autoptr(GVariant) report = NULL;
      g_autoptr(GVariant) slabs = NULL;
      g_autoptr(GVariant) config = NULL;
      g_autoptr(GVariant) budget_dict = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *json = NULL;
      double fragmentation = -1;
      gpointer blocks[6];

      g_test_message ("check-frees %d, thread-safe %d", check_frees, thread_safe);
      pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                             "name", "particles",
                             "block-size", (guint64) 64,
                             "block-count", (guint64) 4,
                             "max-block-count", (guint64) 16,
                             "check-frees", check_frees,
                             "thread-safe", thread_safe,
                             "budget", budget,
                             NULL);
      g_assert_no_error (error);

      /* Slab 0: blocks 0-3; slab 1: blocks 4 and 5 of 4, then 0 and 3 freed. */
      for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
        blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 40, 8, &error);
      g_assert_no_error (error);
      g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[0], 40, 8, &error));
      g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[3], 40, 8, &error));
      g_assert_no_error (error);

      report = nebula_allocator_get_report (NEBULA_ALLOCATOR (pool));
      g_assert_cmpuint (lookup_uint64 (report, "reserved"), ==, 8 * 64);
      g_assert_cmpuint (lookup_uint64 (report, "blocks"), ==, 8);
      g_assert_cmpuint (lookup_uint64 (report, "blocks-used"), ==, 4);
      g_assert_cmpuint (lookup_uint64 (report, "bytes-used"), ==, 4 * 64);
      slabs = lookup_list (report, "slabs", 2);
      assert_slab (slabs, 0, 4, 2, 0);
      assert_slab (slabs, 1, 4, 2, 2);
      config = lookup_dict (report, "configuration");
      budget_dict = lookup_dict (config, "budget");
      g_assert_cmpuint (lookup_uint64 (budget_dict, "used"), ==, 8 * 64);

      /* The four blocks in use hold 64 bytes each, their callers asked for 40. */
      g_assert_true (g_variant_lookup (report, "fragmentation", "d", &fragmentation));
      g_assert_cmpfloat_with_epsilon (fragmentation, 24.0 / 64.0, 1e-9);

      json = nebula_allocator_report_to_json (NEBULA_ALLOCATOR (pool));
      g_assert_nonnull (strstr (json, "\"slabs\":[{\"blocks\":4,\"blocks-free\":2,"
                                      "\"blocks-untouched\":0,\"blocks-used\":2,"
                                      "\"size\":256,\"used\":128},{"));
      g_assert_nonnull (strstr (json, "\"fragmentation\":0.375"));

      /* After a reset every block is free and untouched again. */
      nebula_allocator_reset (NEBULA_ALLOCATOR (pool));
      g_clear_pointer (&report, g_variant_unref);
      g_clear_pointer (&slabs, g_variant_unref);
      report = nebula_allocator_get_report (NEBULA_ALLOCATOR (pool));
      slabs = lookup_list (report, "slabs", 2);
      assert_slab (slabs, 0, 4, 0, 4);
      assert_slab (slabs, 1, 4, 0, 4);
      g_assert_true (g_variant_lookup (report, "fragmentation", "d", &fragmentation));
      g_assert_cmpfloat (fragmentation, ==, 0.0);
    }
}

/* Without statistics the pool cannot tell what callers asked for. */
static void
test_report_pool_no_stats (void)
{
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(GVariant) report = NULL;

  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, NULL,
                         "block-size", (guint64) 64, "block-count", (guint64) 4,
                         "track-stats", FALSE, NULL);
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 40, 8, NULL));
  report = nebula_allocator_get_report (NEBULA_ALLOCATOR (pool));
  g_assert_false (g_variant_lookup (report, "fragmentation", "d", NULL));
  g_assert_cmpuint (lookup_uint64 (report, "blocks-used"), ==, 1);
}

/* A damaged free list (a write into a freed block, no check-frees) must
 * not lead the report astray: it counts what it can trust. */
static void
test_report_pool_damaged_list (void)
{
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(GVariant) report = NULL;
  g_autoptr(GVariant) slabs = NULL;
  gpointer blocks[3], bogus = &bogus;

  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, NULL,
                         "block-size", (guint64) 64, "block-count", (guint64) 4,
                         "check-frees", FALSE, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    blocks[i] = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, NULL);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[0], 64, 8, NULL));
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), blocks[1], 64, 8, NULL));
  /* blocks[1] heads the list and links to blocks[0]: point it elsewhere
   * (a stray write the memory tools would report: let it through). */
  NEBULA_MEM_OPEN (blocks[1], sizeof bogus);
  memcpy (blocks[1], &bogus, sizeof bogus);
  NEBULA_MEM_CLOSE (blocks[1], sizeof bogus);

  report = nebula_allocator_get_report (NEBULA_ALLOCATOR (pool));
  slabs = lookup_list (report, "slabs", 1);
  assert_slab (slabs, 0, 4, 2, 1);
}

static void
assert_chunk (GVariant   *chunks,
              gsize       index,
              const char *kind,
              guint64     size,
              guint64     used,
              gboolean    current)
{
  g_autoptr(GVariant) chunk = g_variant_get_child_value (chunks, index);
  const char *text = NULL;
  gboolean is_current = !current;

  g_assert_true (g_variant_lookup (chunk, "kind", "&s", &text));
  g_assert_cmpstr (text, ==, kind);
  g_assert_cmpuint (lookup_uint64 (chunk, "size"), ==, size);
  g_assert_cmpuint (lookup_uint64 (chunk, "used"), ==, used);
  g_assert_true (g_variant_lookup (chunk, "current", "b", &is_current));
  g_assert_cmpint (is_current, ==, current);
}

static void
test_report_stack (void)
{
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(GVariant) report = NULL;
  g_autoptr(GVariant) chunks = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  double fragmentation = -1;
  gpointer a, b, c;

  stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                          "name", "frame",
                          "capacity", (guint64) 1024,
                          "max-capacity", (guint64) 8192,
                          NULL);
  g_assert_no_error (error);

  /* Each block takes a 24-byte header: 924 bytes of the first chunk, then
   * a chunk of 2048 with 924 and (8-aligned) 24 + 100 more. */
  a = nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 900, 8, &error);
  b = nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 900, 8, &error);
  c = nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 100, 8, &error);
  g_assert_no_error (error);

  report = nebula_allocator_get_report (NEBULA_ALLOCATOR (stack));
  g_assert_cmpuint (lookup_uint64 (report, "reserved"), ==, 1024 + 2048);
  chunks = lookup_list (report, "chunks", 2);
  assert_chunk (chunks, 0, "regular", 2048, 952 + 100, TRUE);
  assert_chunk (chunks, 1, "regular", 1024, 924, FALSE);
  /* The first chunk's tail of 100 bytes serves nothing until b is popped. */
  g_assert_true (g_variant_lookup (report, "fragmentation", "d", &fragmentation));
  g_assert_cmpfloat_with_epsilon (fragmentation, 100.0 / 3072, 1e-9);
  g_assert_cmpuint (lookup_uint64 (report, "bytes-used"), ==, 924 + 1052);

  json = nebula_allocator_report_to_json (NEBULA_ALLOCATOR (stack));
  g_assert_nonnull (strstr (json, "\"chunks\":[{\"current\":true,\"kind\":\"regular\","
                                  "\"size\":2048,\"used\":1052},{\"current\":false,"
                                  "\"kind\":\"regular\",\"size\":1024,\"used\":924}]"));
  g_assert_null (strstr (json, "high-used"));

  /* Popped back into the first chunk: the second one is the spare. */
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (stack), c, 100, 8, &error));
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (stack), b, 900, 8, &error));
  g_assert_no_error (error);
  g_clear_pointer (&report, g_variant_unref);
  g_clear_pointer (&chunks, g_variant_unref);
  report = nebula_allocator_get_report (NEBULA_ALLOCATOR (stack));
  chunks = lookup_list (report, "chunks", 2);
  assert_chunk (chunks, 0, "regular", 1024, 924, TRUE);
  assert_chunk (chunks, 1, "spare", 2048, 0, FALSE);
  g_assert_true (g_variant_lookup (report, "fragmentation", "d", &fragmentation));
  g_assert_cmpfloat (fragmentation, ==, 0.0);
  g_assert_cmpuint (lookup_uint64 (report, "reserved"), ==, 1024 + 2048);

  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (stack), a, 900, 8, &error));
  g_assert_no_error (error);
}

static void
test_report_stack_double_ended (void)
{
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(GVariant) report = NULL;
  g_autoptr(GVariant) chunks = NULL;
  g_autoptr(GVariant) chunk = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  double fragmentation = -1;

  stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                          "capacity", (guint64) 4096, "double-ended", TRUE, NULL);
  g_assert_no_error (error);

  /* Low: 24 + 1000. High: 500 bytes placed 8-aligned below the end (504),
   * with its header below it. */
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 1000, 8, &error));
  g_assert_nonnull (nebula_stack_allocator_allocate_high (stack, 500, 8, &error));
  g_assert_no_error (error);

  report = nebula_allocator_get_report (NEBULA_ALLOCATOR (stack));
  chunks = lookup_list (report, "chunks", 1);
  assert_chunk (chunks, 0, "regular", 4096, 1024 + 528, TRUE);
  chunk = g_variant_get_child_value (chunks, 0);
  g_assert_cmpuint (lookup_uint64 (chunk, "low-used"), ==, 1024);
  g_assert_cmpuint (lookup_uint64 (chunk, "high-used"), ==, 528);
  g_assert_true (g_variant_lookup (report, "fragmentation", "d", &fragmentation));
  g_assert_cmpfloat (fragmentation, ==, 0.0);

  json = nebula_allocator_report_to_json (NEBULA_ALLOCATOR (stack));
  g_assert_nonnull (strstr (json, "\"chunks\":[{\"current\":true,\"high-used\":528,"
                                  "\"kind\":\"regular\",\"low-used\":1024,\"size\":4096,"
                                  "\"used\":1552}]"));
}

/* A binding may never run init, or the configuration is invalid: no
 * layout, and no crash. */
static void
test_report_invalid_pool_stack (void)
{
  g_autoptr(NebulaPoolAllocator) pool = g_object_new (NEBULA_TYPE_POOL_ALLOCATOR,
                                                      "block-count", (guint64) 0, NULL);
  g_autoptr(NebulaStackAllocator) stack = g_object_new (NEBULA_TYPE_STACK_ALLOCATOR,
                                                        "capacity", (guint64) 0, NULL);
  g_autoptr(GVariant) pool_report = nebula_allocator_get_report (NEBULA_ALLOCATOR (pool));
  g_autoptr(GVariant) stack_report = nebula_allocator_get_report (NEBULA_ALLOCATOR (stack));

  g_assert_false (g_variant_lookup (pool_report, "slabs", "@aa{sv}", NULL));
  g_assert_false (g_variant_lookup (stack_report, "chunks", "@aa{sv}", NULL));
  g_assert_cmpuint (lookup_uint64 (stack_report, "bytes-used"), ==, 0);
}

/* An implementation from outside the library: the common part works
 * through the interface, and a registered function adds its own part. */
#define TEST_TYPE_ARENA (test_arena_get_type ())
G_DECLARE_FINAL_TYPE (TestArena, test_arena, TEST, ARENA, GObject)

struct _TestArena
{
  GObject parent_instance;
  guint8  buffer[256];
  gsize   used;
};

static void test_arena_iface_init (NebulaAllocatorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestArena, test_arena, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (NEBULA_TYPE_ALLOCATOR, test_arena_iface_init))

static gpointer
test_arena_allocate (NebulaAllocator  *allocator,
                     gsize             size,
                     gsize             alignment,
                     GError          **error)
{
  TestArena *self = TEST_ARENA (allocator);
  gpointer ptr = self->buffer + self->used;

  self->used += (size + 15) & ~(gsize) 15;
  return ptr;
}

static gboolean
test_arena_deallocate (NebulaAllocator  *allocator,
                       gpointer          ptr,
                       gsize             size,
                       gsize             alignment,
                       GError          **error)
{
  return TRUE;
}

static void
test_arena_iface_init (NebulaAllocatorInterface *iface)
{
  iface->alloc = test_arena_allocate;
  iface->dealloc = test_arena_deallocate;
}

enum { ARENA_PROP_0, ARENA_PROP_CAPACITY, ARENA_PROP_USED, ARENA_PROP_AVAILABLE,
       ARENA_PROP_THREAD_SAFE, ARENA_PROP_NAME };

static void
test_arena_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  TestArena *self = TEST_ARENA (object);

  switch (prop_id)
    {
    case ARENA_PROP_CAPACITY:
      g_value_set_uint64 (value, sizeof self->buffer);
      break;
    case ARENA_PROP_USED:
      g_value_set_uint64 (value, self->used);
      break;
    case ARENA_PROP_AVAILABLE:
      g_value_set_uint64 (value, sizeof self->buffer - self->used);
      break;
    case ARENA_PROP_THREAD_SAFE:
      g_value_set_boolean (value, FALSE);
      break;
    case ARENA_PROP_NAME:
      g_value_set_string (value, "arena");
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
arena_report (NebulaAllocator *allocator,
              GVariantDict    *report)
{
  g_variant_dict_insert (report, "slabs", "u", 1);
}

static void
test_arena_class_init (TestArenaClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_arena_get_property;
  g_object_class_override_property (object_class, ARENA_PROP_CAPACITY, "capacity");
  g_object_class_override_property (object_class, ARENA_PROP_USED, "bytes-used");
  g_object_class_override_property (object_class, ARENA_PROP_AVAILABLE, "bytes-available");
  g_object_class_override_property (object_class, ARENA_PROP_THREAD_SAFE, "thread-safe");
  g_object_class_override_property (object_class, ARENA_PROP_NAME, "name");
}

static void
test_arena_init (TestArena *self)
{
}

static void
test_report_foreign (void)
{
  g_autoptr(TestArena) arena = g_object_new (TEST_TYPE_ARENA, NULL);
  g_autoptr(GVariant) report = NULL;
  g_autoptr(GVariant) stats = NULL;
  guint32 slabs = 0;

  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (arena), 40, 8, NULL));

  report = nebula_allocator_get_report (NEBULA_ALLOCATOR (arena));
  g_assert_false (g_variant_lookup (report, "slabs", "u", &slabs));
  g_assert_cmpuint (lookup_uint64 (report, "bytes-used"), ==, 48);
  stats = lookup_dict (report, "stats");
  g_assert_cmpuint (lookup_uint64 (stats, "allocations"), ==, 1);
  g_clear_pointer (&report, g_variant_unref);

  nebula_allocator_set_report_func (TEST_TYPE_ARENA, arena_report);
  report = nebula_allocator_get_report (NEBULA_ALLOCATOR (arena));
  g_assert_true (g_variant_lookup (report, "slabs", "u", &slabs));
  g_assert_cmpuint (slabs, ==, 1);
}

/* A binding may never run init: the report still works, without chunks. */
static void
test_report_uninitialized (void)
{
  g_autoptr(NebulaBumpAllocator) bump = g_object_new (NEBULA_TYPE_BUMP_ALLOCATOR,
                                                      "capacity", (guint64) 0, NULL);
  g_autoptr(GVariant) report = nebula_allocator_get_report (NEBULA_ALLOCATOR (bump));
  g_autofree char *json = nebula_allocator_report_to_json (NEBULA_ALLOCATOR (bump));

  g_assert_false (g_variant_lookup (report, "chunks", "@aa{sv}", NULL));
  g_assert_cmpuint (lookup_uint64 (report, "capacity"), ==, 0);
  /* Members sorted by name. */
  g_assert_true (g_str_has_prefix (json, "{\"bytes-available\":0,\"bytes-used\":0,\"capacity\":0,"
                                         "\"configuration\":{\"alloc-fill\":"));
  g_assert_true (g_str_has_suffix (json, "\"thread-safe\":false,\"type\":\"NebulaBumpAllocator\"}"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/report/bump", test_report_bump);
  g_test_add_func ("/nebula/report/json", test_report_json);
  g_test_add_func ("/nebula/report/pool", test_report_pool);
  g_test_add_func ("/nebula/report/pool/no-stats", test_report_pool_no_stats);
  g_test_add_func ("/nebula/report/pool/damaged-list", test_report_pool_damaged_list);
  g_test_add_func ("/nebula/report/stack", test_report_stack);
  g_test_add_func ("/nebula/report/stack/double-ended", test_report_stack_double_ended);
  g_test_add_func ("/nebula/report/stack/invalid", test_report_invalid_pool_stack);
  g_test_add_func ("/nebula/report/system", test_report_system);
  g_test_add_func ("/nebula/report/foreign", test_report_foreign);
  g_test_add_func ("/nebula/report/uninitialized", test_report_uninitialized);

  return g_test_run ();
}
