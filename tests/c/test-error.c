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
    .allocator_name = "Bump allocator 'x'", .suggestion = "Do this.",
  };

  nebula_set_error (&error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                    "requested %d bytes", 128);
  copy = g_error_copy (error);

  g_assert_true (nebula_error_has_detail (copy));
  g_assert_cmpuint (nebula_error_get_requested (copy), ==, 128);
  g_assert_cmpuint (nebula_error_get_available (copy), ==, 64);
  g_assert_cmpuint (nebula_error_get_capacity (copy), ==, 4096);
  g_assert_cmpstr (nebula_error_get_allocator_name (copy), ==, "Bump allocator 'x'");
  g_assert_cmpstr (nebula_error_get_suggestion (copy), ==, "Do this.");
  g_assert_true (nebula_error_is_retryable (copy));
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

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/error/catalogue", test_error_catalogue);
  g_test_add_func ("/nebula/error/first-member", test_error_first_member);
  g_test_add_func ("/nebula/error/detail-and-copy", test_error_detail_and_copy);
  g_test_add_func ("/nebula/error/plain", test_error_plain);
  g_test_add_func ("/nebula/error/context", test_error_context);

  return g_test_run ();
}
