/* test-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "nebula-error-private.h"

/* Every code of both domains has a suggestion in the catalogue and a
 * section in docs/errors.md. */
static void
check_domain (GType        enum_type,
              GQuark       domain,
              const char  *catalogue)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (enum_type);

  for (guint i = 0; i < klass->n_values; i++)
    {
      const GEnumValue *value = &klass->values[i];
      g_autofree char *heading = g_strdup_printf ("### %s\n", value->value_name);
      g_autoptr(GError) error = g_error_new_literal (domain, value->value, "test");

      g_assert_nonnull (nebula_error_catalogue_suggestion (domain, value->value));
      g_assert_cmpstr (nebula_error_get_suggestion (error), ==,
                       nebula_error_catalogue_suggestion (domain, value->value));
      if (strstr (catalogue, heading) == NULL)
        g_error ("docs/errors.md has no section '%s'", value->value_name);
    }
}

static void
test_error_catalogue (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("NEBULA_SOURCE_ROOT"), "docs", "errors.md", NULL);
  g_autofree char *catalogue = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &catalogue, NULL, &error);
  g_assert_no_error (error);

  check_domain (NEBULA_TYPE_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR, catalogue);
  check_domain (NEBULA_TYPE_CACHE_ERROR, NEBULA_CACHE_ERROR, catalogue);
}

static void
test_error_first_member (void)
{
  g_assert_cmpint (NEBULA_ALLOCATOR_ERROR_FAILED, ==, 0);
  g_assert_cmpint (NEBULA_CACHE_ERROR_FAILED, ==, 0);
}

static void
test_error_detail_and_copy (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) copy = NULL;
  NebulaErrorInfo info = {
    .requested = 128, .available = 64, .capacity = 4096,
    .what = "Bump allocator 'x'", .suggestion = "Do this.",
  };

  nebula_set_error (&error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                    "requested %d bytes", 128);
  copy = g_error_copy (error);

  g_assert_true (nebula_error_has_detail (copy));
  g_assert_cmpuint (nebula_error_get_requested (copy), ==, 128);
  g_assert_cmpuint (nebula_error_get_available (copy), ==, 64);
  g_assert_cmpuint (nebula_error_get_capacity (copy), ==, 4096);
  g_assert_cmpstr (nebula_error_get_allocator_name (copy), ==, "x");
  g_assert_cmpstr (nebula_error_get_suggestion (copy), ==, "Do this.");
  g_assert_true (nebula_error_is_retryable (copy));
}

/* The name is the allocator's `name` property, not how messages call it;
 * an allocator without one has none, and a name may hold quotes. */
static void
test_error_allocator_name (void)
{
  static const struct {
    const char *name;    /* NULL: none given */
    const char *want;
  } rows[] = {
    { "records", "records" },
    { "it's 'quoted'", "it's 'quoted'" },
    { NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(NebulaPoolAllocator) pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                                            "block-size", (guint64) 16,
                                                            "block-count", (guint64) 1,
                                                            "name", rows[i].name,
                                                            NULL);
      g_autofree char *text = NULL;

      g_assert_no_error (error);
      g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 16, 8, &error));
      g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 16, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
      g_assert_cmpstr (nebula_error_get_allocator_name (error), ==, rows[i].want);
      /* The report still says which allocator, as the message does. */
      text = nebula_error_format (error);
      g_assert_nonnull (strstr (text, "\n  allocator: Pool allocator"));
    }
}

static void
test_error_plain (void)
{
  /* An error as it comes back through a binding: no detail, catalogue text. */
  g_autoptr(GError) error = g_error_new_literal (NEBULA_ALLOCATOR_ERROR,
                                                 NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE, "x");
  g_autoptr(GError) other = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");

  g_assert_false (nebula_error_has_detail (error));
  g_assert_cmpuint (nebula_error_get_requested (error), ==, 0);
  g_assert_null (nebula_error_get_allocator_name (error));
  g_assert_nonnull (strstr (nebula_error_get_suggestion (error), "already freed"));
  g_assert_false (nebula_error_is_retryable (error));

  g_assert_null (nebula_error_get_suggestion (other));
  g_assert_false (nebula_error_is_retryable (other));
}

/* PyGObject rebuilds a GError from domain, code and message alone: the
 * rebuilt error finds the detail of the recent error it came from, on the
 * thread that raised it, and keeps it after newer errors. */
static void
test_error_rebuilt_by_binding (void)
{
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 1, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) rebuilt = NULL;
  g_autoptr(GError) other_code = NULL;
  g_autofree char *suggestion = NULL;
  gpointer block;

  block = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, NULL);
  g_assert_nonnull (block);
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);

  rebuilt = g_error_new_literal (error->domain, error->code, error->message);
  other_code = g_error_new_literal (error->domain, NEBULA_ALLOCATOR_ERROR_FAILED, error->message);
  g_assert_true (nebula_error_has_detail (rebuilt));
  g_assert_cmpstr (nebula_error_get_suggestion (rebuilt), ==, nebula_error_get_suggestion (error));
  g_assert_nonnull (strstr (nebula_error_get_suggestion (rebuilt), "block-count"));
  g_assert_cmpuint (nebula_error_get_requested (rebuilt), ==, nebula_error_get_requested (error));
  g_assert_cmpuint (nebula_error_get_capacity (rebuilt), ==, nebula_error_get_capacity (error));
  g_assert_false (nebula_error_has_detail (other_code));

  /* The detail now belongs to the rebuilt error. */
  suggestion = g_strdup (nebula_error_get_suggestion (rebuilt));
  for (guint i = 0; i < 32; i++)
    {
      g_autoptr(GError) newer = NULL;

      nebula_set_error (&newer, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_FAILED, NULL,
                        "newer error %u", i);
    }
  g_assert_cmpstr (nebula_error_get_suggestion (rebuilt), ==, suggestion);

  nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), block, 64, 8, NULL);
}

static void
inner_call (GError **error)
{
  NEBULA_ALLOC_CONTEXT ("parse_request");
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (64, NULL);

  nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 128, 8, error);
}

static void
test_error_context (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *formatted = NULL;

  {
    NEBULA_ALLOC_CONTEXT ("handle_client");
    inner_call (&error);
  }

  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
#if NEBULA_HAS_ERROR_CONTEXT
  g_assert_nonnull (strstr (error->message, "(in handle_client > parse_request)"));
  g_assert_cmpstr (nebula_error_get_context (error), ==, "handle_client > parse_request");
#endif
  /* The scopes are closed again. */
  g_assert_null (nebula_context_get_path ());

  formatted = nebula_error_format (error);
  g_assert_nonnull (strstr (formatted, "requested: 128"));
  g_assert_nonnull (strstr (formatted, "help: "));
}

static void
fill_error (GError **error)
{
  NEBULA_ALLOC_CONTEXT ("inner");
  g_autoptr(NebulaBumpAllocator) bump = NULL;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, NULL,
                         "name", "tiny", "capacity", (guint64) 64, NULL);
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 128, 8, error));
}

static void
test_error_format (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) plain = NULL;
  g_autofree char *text = NULL;
  g_autofree char *plain_text = NULL;
  g_autofree char *foreign_text = NULL;
  g_autoptr(GError) foreign = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "io");

  {
    NEBULA_ALLOC_CONTEXT ("outer");
    fill_error (&error);
  }

  text = nebula_error_format (error);
  g_test_message ("%s", text);
  g_assert_true (g_str_has_prefix (text, "error: Bump allocator 'tiny' is exhausted: "
                                         "requested 128 bytes, 64 of 64 available"));
  g_assert_nonnull (strstr (text, "\n  code: NEBULA_ALLOCATOR_ERROR_EXHAUSTED (see docs/errors.md)\n"));
  g_assert_nonnull (strstr (text, "\n  allocator: Bump allocator 'tiny'\n"));
  g_assert_nonnull (strstr (text, "\n  requested: 128, available: 64, capacity: 64\n"));
  g_assert_nonnull (strstr (text, "\n  help: Free or reset the allocator"));
#if NEBULA_HAS_ERROR_CONTEXT
  g_assert_nonnull (strstr (text, "(in outer > inner)\n"));
  g_assert_nonnull (strstr (text, "\n  in: outer > inner\n"));
#else
  g_assert_null (strstr (text, "  in: "));
  g_assert_null (nebula_error_get_context (error));
#endif

  /* As it comes back from a binding, once the thread's recent errors no
   * longer hold it: message, code and catalogue advice. */
  plain = g_error_new_literal (error->domain, error->code, error->message);
  for (guint i = 0; i < 16; i++)
    {
      g_autoptr(GError) newer = NULL;

      nebula_set_error (&newer, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_FAILED, NULL,
                        "newer error %u", i);
    }
  plain_text = nebula_error_format (plain);
  g_assert_nonnull (strstr (plain_text, "requested 128 bytes"));
  g_assert_nonnull (strstr (plain_text, "  code: NEBULA_ALLOCATOR_ERROR_EXHAUSTED"));
  g_assert_nonnull (strstr (plain_text, "  help: "));
  g_assert_null (strstr (plain_text, "  requested: "));

  foreign_text = nebula_error_format (foreign);
  g_assert_cmpstr (foreign_text, ==, "error: io\n");
}

/* An error prints only the numbers it concerns: a double free has a size
 * but no capacity or free space, a layout error neither. */
static void
test_error_format_numbers (void)
{
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *layout_text = NULL;
  gpointer block;

  pool = nebula_pool_allocator_new (64, 4, &error);
  g_assert_no_error (error);
  block = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), block, 64, 8, &error));
  g_assert_false (nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), block, 64, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE);
  text = nebula_error_format (error);
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, "\n  requested: 64\n"));
  g_assert_null (strstr (text, "available:"));
  g_assert_null (strstr (text, "capacity:"));
  g_clear_error (&error);

  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 0, 3, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  layout_text = nebula_error_format (error);
  g_test_message ("%s", layout_text);
  g_assert_null (strstr (layout_text, ": 0"));
}

static void
test_error_context_stack (void)
{
  g_autofree char *path = NULL;
  g_autofree char *deep = NULL;

  nebula_context_push ("a");
  {
    NEBULA_ALLOC_CONTEXT ("b");
    path = nebula_context_get_path ();
  }
#if NEBULA_HAS_ERROR_CONTEXT
  g_assert_cmpstr (path, ==, "a > b");
#else
  g_assert_null (path);
#endif
  nebula_context_pop ();
  g_assert_null (nebula_context_get_path ());

  /* Deeper than the stack names: counted, shown as "...", popped. */
  for (guint i = 0; i < 40; i++)
    nebula_context_push_static ("level");
  deep = nebula_context_get_path ();
#if NEBULA_HAS_ERROR_CONTEXT
  g_assert_true (g_str_has_suffix (deep, "level > ..."));
#endif
  for (guint i = 0; i < 40; i++)
    nebula_context_pop ();
  g_assert_null (nebula_context_get_path ());

#if NEBULA_HAS_ERROR_CONTEXT
  if (g_test_subprocess ())
    {
      nebula_context_pop ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*nebula_context_pop*");
#endif
}

static gpointer
context_thread_cb (gpointer data)
{
  /* Each thread has its own stack. */
  g_assert_null (nebula_context_get_path ());
  nebula_context_push ("worker");
  g_free (nebula_context_get_path ());
  nebula_context_pop ();
  return NULL;
}

static void
test_error_context_threads (void)
{
  NEBULA_ALLOC_CONTEXT ("main");

  g_thread_join (g_thread_new ("context", context_thread_cb, NULL));
#if NEBULA_HAS_ERROR_CONTEXT
  {
    g_autofree char *path = nebula_context_get_path ();
    g_assert_cmpstr (path, ==, "main");
  }
#endif
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/error/catalogue", test_error_catalogue);
  g_test_add_func ("/nebula/error/first-member", test_error_first_member);
  g_test_add_func ("/nebula/error/detail-and-copy", test_error_detail_and_copy);
  g_test_add_func ("/nebula/error/plain", test_error_plain);
  g_test_add_func ("/nebula/error/rebuilt-by-binding", test_error_rebuilt_by_binding);
  g_test_add_func ("/nebula/error/context", test_error_context);
  g_test_add_func ("/nebula/error/context/stack", test_error_context_stack);
  g_test_add_func ("/nebula/error/context/threads", test_error_context_threads);
  g_test_add_func ("/nebula/error/format", test_error_format);
  g_test_add_func ("/nebula/error/allocator-name", test_error_allocator_name);
  g_test_add_func ("/nebula/error/format/numbers", test_error_format_numbers);

  return g_test_run ();
}
