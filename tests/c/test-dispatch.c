/* test-dispatch.c: the one dispatch of nebula_allocator_allocate() and
 * _deallocate() (docs/architecture.md, "One dispatch"): one test
 * recognises every built-in, its kind picks the inline path, and the
 * core's whole-request entry points take what it declines; anything else
 * is one vtable call.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <nebula.h>

#include "nebula-allocator-core-private.h"
#include "nebula-sanitizer-private.h"

#define N_BLOCKS 8

typedef struct
{
  const char          *name;
  GType              (*get_type) (void);
  NebulaAllocatorKind  kind;
  const char          *property;    /* one property to set, or NULL */
  gboolean             value;
  gboolean             direct;      /* a direct path once initialized */
} KindCase;

static const KindCase kind_cases[] = {
  { "bump", nebula_bump_allocator_get_type, NEBULA_ALLOCATOR_KIND_BUMP, NULL, FALSE, FALSE },
  { "bump-thread-safe", nebula_bump_allocator_get_type, NEBULA_ALLOCATOR_KIND_BUMP,
    "thread-safe", TRUE, TRUE },
  { "pool", nebula_pool_allocator_get_type, NEBULA_ALLOCATOR_KIND_POOL, NULL, FALSE, TRUE },
  { "pool-thread-safe", nebula_pool_allocator_get_type, NEBULA_ALLOCATOR_KIND_POOL,
    "thread-safe", TRUE, TRUE },
  { "stack", nebula_stack_allocator_get_type, NEBULA_ALLOCATOR_KIND_STACK, NULL, FALSE, FALSE },
  { "system", nebula_system_allocator_get_type, NEBULA_ALLOCATOR_KIND_SYSTEM, NULL, FALSE, TRUE },
  { "system-unchecked", nebula_system_allocator_get_type, NEBULA_ALLOCATOR_KIND_SYSTEM,
    "check-frees", FALSE, TRUE },
  { "system-single-thread", nebula_system_allocator_get_type, NEBULA_ALLOCATOR_KIND_SYSTEM,
    "thread-safe", FALSE, TRUE },
  { "multi-pool", nebula_multi_pool_allocator_get_type, NEBULA_ALLOCATOR_KIND_MULTI_POOL,
    NULL, FALSE, TRUE },
  { "multi-pool-single-thread", nebula_multi_pool_allocator_get_type,
    NEBULA_ALLOCATOR_KIND_MULTI_POOL, "thread-safe", FALSE, TRUE },
};

/* Constructed without GInitable.init, as bindings do: the first call
 * initializes. */
static NebulaAllocator *
new_uninitialized (const KindCase *kc)
{
  GType type = kc->get_type ();

  if (type == NEBULA_TYPE_POOL_ALLOCATOR)
    {
      if (kc->property != NULL)
        return g_object_new (type, "block-size", (guint64) 64, "block-count", (guint64) 64,
                             kc->property, kc->value, NULL);
      return g_object_new (type, "block-size", (guint64) 64, "block-count", (guint64) 64, NULL);
    }
  if (kc->property != NULL)
    return g_object_new (type, kc->property, kc->value, NULL);
  return g_object_new (type, NULL);
}

static void
assert_counts (NebulaAllocator *alloc,
               guint64          allocations,
               guint64          deallocations)
{
  g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (alloc);

  g_assert_cmpuint (stats->allocations, ==, allocations);
  g_assert_cmpuint (stats->deallocations, ==, deallocations);
}

/* Every built-in passes the one test and carries its kind; its requests,
 * served by the inline or the direct path, are counted once each. */
static void
test_builtin_kind (gconstpointer data)
{
  const KindCase *kc = data;
  g_autoptr(NebulaAllocator) alloc = new_uninitialized (kc);
  g_autoptr(GError) error = NULL;
  const NebulaCoreDirect *direct;
  guint8 *blocks[N_BLOCKS];

  g_assert_true (nebula_allocator_is_core (alloc));
  g_assert_true (nebula_allocator_is_core_nonnull (alloc));
  g_assert_cmpint (nebula_allocator_core_kind (alloc), ==, kc->kind);
  /* Before the first call, whatever the inline path declines goes to the
   * exported path, which initializes the allocator. */
  g_assert_null (nebula_allocator_core_direct (alloc));
  g_assert_true (nebula_allocator_core_alloc_all (alloc) == nebula_allocator_allocate_slow);
  g_assert_true (nebula_allocator_core_dealloc_all (alloc) == nebula_allocator_deallocate_slow);

  for (guint i = 0; i < N_BLOCKS; i++)
    {
      blocks[i] = nebula_allocator_allocate (alloc, 64, 8, &error);
      g_assert_no_error (error);
      g_assert_nonnull (blocks[i]);
      g_assert_cmpuint (GPOINTER_TO_SIZE (blocks[i]) % 8, ==, 0);
      memset (blocks[i], (int) i, 64);
    }
  for (guint i = N_BLOCKS; i-- > 0;)
    {
      g_assert_cmpuint (blocks[i][63], ==, i);
      g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], 64, 8, &error));
      g_assert_no_error (error);
    }
  assert_counts (alloc, N_BLOCKS, N_BLOCKS);

  /* Once initialized, a kind with a direct path has its entry points in
   * the core; the others keep the exported path. While ASan or Valgrind
   * watch, some kinds keep every request on the exported path (its
   * poisoning), and set none. */
  direct = nebula_allocator_core_direct (alloc);
  if (kc->direct && !nebula_memory_tools_watching ())
    g_assert_nonnull (direct);
  else if (!kc->direct)
    g_assert_null (direct);
  if (direct != NULL)
    {
      g_assert_true (nebula_allocator_core_alloc_all (alloc) ==
                     (direct->alloc_all != NULL ? direct->alloc_all
                                                : nebula_allocator_allocate_direct));
      g_assert_true (nebula_allocator_core_dealloc_all (alloc) ==
                     (direct->dealloc_all != NULL ? direct->dealloc_all
                                                  : nebula_allocator_deallocate_direct));
    }
  else
    {
      g_assert_true (nebula_allocator_core_alloc_all (alloc) == nebula_allocator_allocate_slow);
      g_assert_true (nebula_allocator_core_dealloc_all (alloc) ==
                     nebula_allocator_deallocate_slow);
    }

  /* What every path declines still gets its error, and is counted. */
  g_assert_null (nebula_allocator_allocate (alloc, 64, 3, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  g_clear_error (&error);
  g_assert_false (nebula_allocator_deallocate (alloc, NULL, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  assert_counts (alloc, N_BLOCKS, N_BLOCKS);
}

/* A configuration the direct path does not serve (a budget to charge)
 * keeps the exported path as the core's entry point. */
static void
test_system_budget_exported (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("dispatch", 1024);
  g_autoptr(NebulaAllocator) alloc = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, NULL,
                                                     "budget", budget, NULL);
  g_autoptr(GError) error = NULL;
  gpointer ptr;

  g_assert_cmpint (nebula_allocator_core_kind (alloc), ==, NEBULA_ALLOCATOR_KIND_SYSTEM);
  g_assert_null (nebula_allocator_core_direct (alloc));
  g_assert_true (nebula_allocator_core_alloc_all (alloc) == nebula_allocator_allocate_slow);

  ptr = nebula_allocator_allocate (alloc, 512, 8, &error);
  g_assert_no_error (error);
  g_assert_null (nebula_allocator_allocate (alloc, 1024, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_clear_error (&error);
  g_assert_true (nebula_allocator_deallocate (alloc, ptr, 512, 8, &error));
  g_assert_no_error (error);
}

/* A user-defined implementation: malloc behind the vfuncs, counting its
 * calls. Derivable, so that a subclass can override a vfunc. */
#define TEST_TYPE_COUNTING_ALLOCATOR (test_counting_allocator_get_type ())
G_DECLARE_DERIVABLE_TYPE (TestCountingAllocator, test_counting_allocator, TEST,
                          COUNTING_ALLOCATOR, GObject)

struct _TestCountingAllocatorClass
{
  GObjectClass parent_class;
};

typedef struct
{
  guint n_alloc;
  guint n_dealloc;
} TestCountingAllocatorPrivate;

static void test_counting_allocator_iface_init (NebulaAllocatorInterface *iface);

G_DEFINE_TYPE_WITH_CODE (TestCountingAllocator, test_counting_allocator, G_TYPE_OBJECT,
                         G_ADD_PRIVATE (TestCountingAllocator)
                         G_IMPLEMENT_INTERFACE (NEBULA_TYPE_ALLOCATOR,
                                                test_counting_allocator_iface_init))

static gpointer
test_counting_allocator_alloc (NebulaAllocator  *self,
                               gsize             size,
                               gsize             alignment,
                               GError          **error)
{
  TestCountingAllocatorPrivate *priv =
    test_counting_allocator_get_instance_private (TEST_COUNTING_ALLOCATOR (self));

  priv->n_alloc++;
  return g_aligned_alloc (1, size, MAX (alignment, sizeof (gpointer)));
}

static gboolean
test_counting_allocator_dealloc (NebulaAllocator  *self,
                                 gpointer          ptr,
                                 gsize             size,
                                 gsize             alignment,
                                 GError          **error)
{
  TestCountingAllocatorPrivate *priv =
    test_counting_allocator_get_instance_private (TEST_COUNTING_ALLOCATOR (self));

  priv->n_dealloc++;
  g_aligned_free (ptr);
  return TRUE;
}

static void
test_counting_allocator_iface_init (NebulaAllocatorInterface *iface)
{
  iface->alloc = test_counting_allocator_alloc;
  iface->dealloc = test_counting_allocator_dealloc;
}

static void
test_counting_allocator_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
}

static void
test_counting_allocator_class_init (TestCountingAllocatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  static const char * const names[] = {
    "capacity", "bytes-used", "bytes-available", "thread-safe", "name",
  };

  object_class->get_property = test_counting_allocator_get_property;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_object_class_override_property (object_class, i + 1, names[i]);
}

static void
test_counting_allocator_init (TestCountingAllocator *self)
{
}

/* A subclass of it that overrides alloc: the dispatch must call the
 * override, found through the class's own interface vtable. */
#define TEST_TYPE_TAGGING_ALLOCATOR (test_tagging_allocator_get_type ())
G_DECLARE_FINAL_TYPE (TestTaggingAllocator, test_tagging_allocator, TEST, TAGGING_ALLOCATOR,
                      TestCountingAllocator)

struct _TestTaggingAllocator
{
  TestCountingAllocator parent_instance;
  guint                 n_tagged;
};

static NebulaAllocatorInterface *tagging_parent_iface;

static gpointer
test_tagging_allocator_alloc (NebulaAllocator  *self,
                              gsize             size,
                              gsize             alignment,
                              GError          **error)
{
  guint8 *ptr = tagging_parent_iface->alloc (self, size, alignment, error);

  TEST_TAGGING_ALLOCATOR (self)->n_tagged++;
  ptr[0] = 0x5A;
  return ptr;
}

static void
test_tagging_allocator_iface_init (NebulaAllocatorInterface *iface)
{
  tagging_parent_iface = g_type_interface_peek_parent (iface);
  iface->alloc = test_tagging_allocator_alloc;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestTaggingAllocator, test_tagging_allocator,
                               TEST_TYPE_COUNTING_ALLOCATOR,
                               G_IMPLEMENT_INTERFACE (NEBULA_TYPE_ALLOCATOR,
                                                      test_tagging_allocator_iface_init))

static void
test_tagging_allocator_class_init (TestTaggingAllocatorClass *klass)
{
}

static void
test_tagging_allocator_init (TestTaggingAllocator *self)
{
}

/* Runs N_BLOCKS requests through the wrappers and checks that the vfuncs
 * served every one, and that the wrappers counted them. */
static void
run_through_vfuncs (NebulaAllocator *alloc)
{
  TestCountingAllocatorPrivate *priv =
    test_counting_allocator_get_instance_private (TEST_COUNTING_ALLOCATOR (alloc));
  g_autoptr(GError) error = NULL;
  gpointer blocks[N_BLOCKS];

  g_assert_false (nebula_allocator_is_core (alloc));
  g_assert_false (nebula_allocator_is_core_nonnull (alloc));
  g_assert_cmpint (nebula_allocator_core_kind (alloc), ==, NEBULA_ALLOCATOR_KIND_NONE);
  g_assert_null (nebula_allocator_core_direct (alloc));

  for (guint i = 0; i < N_BLOCKS; i++)
    {
      blocks[i] = nebula_allocator_allocate (alloc, 48, 16, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (GPOINTER_TO_SIZE (blocks[i]) % 16, ==, 0);
    }
  g_assert_cmpuint (priv->n_alloc, ==, N_BLOCKS);
  for (guint i = 0; i < N_BLOCKS; i++)
    g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], 48, 16, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (priv->n_dealloc, ==, N_BLOCKS);
  assert_counts (alloc, N_BLOCKS, N_BLOCKS);

  /* The wrappers validate before they dispatch: the vfunc never sees a
   * bad layout. */
  g_assert_null (nebula_allocator_allocate (alloc, 48, 3, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  g_clear_error (&error);
  g_assert_cmpuint (priv->n_alloc, ==, N_BLOCKS);
}

static void
test_user_implementation (void)
{
  g_autoptr(NebulaAllocator) alloc = g_object_new (TEST_TYPE_COUNTING_ALLOCATOR, NULL);

  run_through_vfuncs (alloc);
}

static void
test_user_subclass (void)
{
  g_autoptr(NebulaAllocator) alloc = g_object_new (TEST_TYPE_TAGGING_ALLOCATOR, NULL);

  run_through_vfuncs (alloc);
  g_assert_cmpuint (TEST_TAGGING_ALLOCATOR (alloc)->n_tagged, ==, N_BLOCKS);
}

/* A subclass of a built-in would inherit the class mark and have its own
 * vfuncs bypassed by the inline and direct paths: the built-in types are
 * final, and GType refuses to derive from them. */
static void
test_builtin_subclass_refused (gconstpointer data)
{
  const KindCase *kc = data;
  GType parent = kc->get_type ();

  g_assert_true (G_TYPE_IS_FINAL (parent));

  if (g_test_subprocess ())
    {
      GTypeQuery query;
      GType type;

      g_type_query (parent, &query);
      type = g_type_register_static_simple (parent, "TestBuiltinSubclass",
                                            query.class_size, NULL,
                                            query.instance_size, NULL, 0);
      g_assert_cmpuint (type, ==, G_TYPE_INVALID);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_stderr ("*cannot derive*final*");
}

static void
test_null_self (void)
{
  g_autoptr(GError) error = NULL;

  g_test_expect_message ("Nebula", G_LOG_LEVEL_CRITICAL, "*self != NULL*");
  g_assert_null (nebula_allocator_allocate (NULL, 8, 8, &error));
  g_test_assert_expected_messages ();
  g_test_expect_message ("Nebula", G_LOG_LEVEL_CRITICAL, "*self != NULL*");
  g_assert_false (nebula_allocator_deallocate (NULL, &error, 8, 8, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (kind_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/nebula/dispatch/builtin/%s", kind_cases[i].name);

      g_test_add_data_func (path, &kind_cases[i], test_builtin_kind);
      if (kind_cases[i].property == NULL)
        {
          g_autofree char *subclass = g_strdup_printf ("/nebula/dispatch/subclass-refused/%s",
                                                       kind_cases[i].name);

          g_test_add_data_func (subclass, &kind_cases[i], test_builtin_subclass_refused);
        }
    }
  g_test_add_func ("/nebula/dispatch/system-budget-exported", test_system_budget_exported);
  g_test_add_func ("/nebula/dispatch/user-implementation", test_user_implementation);
  g_test_add_func ("/nebula/dispatch/user-subclass", test_user_subclass);
  g_test_add_func ("/nebula/dispatch/null-self", test_null_self);

  return g_test_run ();
}
