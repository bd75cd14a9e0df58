/* test-strings.c: strings and bytes copied into allocators
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdint.h>
#include <string.h>
#include <wchar.h>

#include <nebula.h>

#include "test-util.h"
#include "nebula-strings-private.h"

/* Passing a NULL format on purpose. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
#pragma GCC diagnostic ignored "-Wformat"

static guint64
failed_allocations (gpointer allocator)
{
  g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (allocator);

  return stats->failed_allocations;
}

static void
test_strings_strdup (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  const char *original = "request line";
  char *copy;

  g_assert_no_error (error);

  copy = nebula_allocator_strdup (alloc, original, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (copy, ==, original);
  g_assert_true (copy != original);
  g_assert_true (nebula_allocator_owns (alloc, copy));
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), >=, strlen (original) + 1);

  copy = nebula_allocator_strdup (alloc, "", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (copy, ==, "");

  /* NULL is a run-time error, counted, and leaves the allocator usable. */
  g_assert_null (nebula_allocator_strdup (alloc, NULL, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "NULL"));
  g_assert_cmpuint (failed_allocations (alloc), ==, 1);
  g_clear_error (&error);

  copy = nebula_allocator_strdup (alloc, "still usable", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (copy, ==, "still usable");
}

static void
test_strings_strndup (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = nebula_system_allocator_new (&error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (sys);
  char *copy;

  copy = nebula_allocator_strndup (alloc, "GET /index.html", 3, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (copy, ==, "GET");
  g_assert_true (nebula_allocator_deallocate (alloc, copy, 4, 1, &error));
  g_assert_no_error (error);

  /* n past the end (even the largest one) stops at the nul byte. */
  copy = nebula_allocator_strndup (alloc, "short", G_MAXSIZE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (copy, ==, "short");
  g_assert_true (nebula_allocator_deallocate (alloc, copy, 6, 1, &error));

  copy = nebula_allocator_strndup (alloc, "abc", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (copy, ==, "");
  g_assert_true (nebula_allocator_deallocate (alloc, copy, 1, 1, &error));

  g_assert_null (nebula_allocator_strndup (alloc, NULL, 4, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
}

static void
test_strings_memdup (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  const double values[] = { 1.5, 2.5, 3.5 };
  double *copy;
  gpointer empty;

  g_assert_nonnull (nebula_allocator_strdup (alloc, "x", &error));

  copy = nebula_allocator_memdup (alloc, values, sizeof values, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_SIZE (copy) % 64, ==, 0);
  g_assert_cmpmem (copy, sizeof values, values, sizeof values);

  empty = nebula_allocator_memdup (alloc, NULL, 0, 8, &error);
  g_assert_no_error (error);
  g_assert_nonnull (empty);

  g_assert_null (nebula_allocator_memdup (alloc, NULL, 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  /* Huge sizes and bad alignments are refused before anything is read. */
  g_assert_null (nebula_allocator_memdup (alloc, values, G_MAXSIZE, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW);
  g_clear_error (&error);
  g_assert_null (nebula_allocator_memdup (alloc, values, (gsize) G_MAXSSIZE + 1, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXCEEDS_MAX_SIZE);
  g_clear_error (&error);
  g_assert_null (nebula_allocator_memdup (alloc, values, 8, 3, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
  g_clear_error (&error);

  g_assert_nonnull (nebula_allocator_memdup (alloc, values, 8, 8, &error));
  g_assert_no_error (error);
}

/* In a plain bump allocator the string is formatted at the cursor and the
 * block taken where it lies: consecutive strings are packed back to back,
 * and the bytes used grow by exactly the string and its terminator. */
static void
test_strings_printf_bump_in_place (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autofree char *long_text = g_strnfill (1000, 'w');
  guint64 used;
  guint passes;
  char *first;
  char *second;
  char *third;

  first = nebula_allocator_printf (alloc, &error, "%s %d", "HTTP/1.1", 200);
  g_assert_no_error (error);
  g_assert_cmpstr (first, ==, "HTTP/1.1 200");
  used = nebula_allocator_get_bytes_used (alloc);

  second = nebula_allocator_printf (alloc, &error, "Content-Length: %u", 1234u);
  g_assert_no_error (error);
  g_assert_cmpstr (second, ==, "Content-Length: 1234");
  g_assert_cmpstr (first, ==, "HTTP/1.1 200");
  if (!nebula_memory_tools_watching ())
    {
      g_assert_true (second == first + strlen (first) + 1);
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used + strlen (second) + 1);
    }
  g_assert_true (nebula_allocator_owns (alloc, second));

  /* Longer than the C stack buffer, and still formatted once. */
  used = nebula_allocator_get_bytes_used (alloc);
  passes = nebula_strings_get_format_passes ();
  third = nebula_allocator_printf (alloc, &error, "<%s>", long_text);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (third), ==, 1002);
  if (!nebula_memory_tools_watching ())
    g_assert_cmpuint (nebula_strings_get_format_passes (), ==, passes + 1);
  /* The most recent block: freeing it with its size rewinds the cursor. */
  g_assert_true (nebula_allocator_deallocate (alloc, third, 1003, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);
}

static void
test_strings_printf_bump_grows (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  g_autofree char *expected = g_strnfill (300, 'x');
  NebulaAllocator *alloc;
  guint passes;
  char *text;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 64,
                         "max-capacity", (guint64) 4096,
                         NULL);
  g_assert_no_error (error);
  alloc = NEBULA_ALLOCATOR (bump);

  g_assert_nonnull (nebula_allocator_printf (alloc, &error, "%d", 42));

  /* Longer than the chunk's free space: formatted a second time into the
   * chunk that growth adds. */
  passes = nebula_strings_get_format_passes ();
  text = nebula_allocator_printf (alloc, &error, "%s", expected);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_strings_get_format_passes (), ==, passes + 2);
  g_assert_cmpstr (text, ==, expected);
  g_assert_cmpuint (nebula_bump_allocator_get_n_chunks (bump), >=, 2);
}

static void
test_strings_printf_exhausted (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (64, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autofree char *long_text = g_strnfill (100, 'y');
  char *text;

  g_assert_null (nebula_allocator_printf (alloc, &error, "%s!", long_text));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_nonnull (strstr (error->message, "requested 102 bytes"));
  g_clear_error (&error);

  /* What was written into the free space while trying is not a block. */
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
  text = nebula_allocator_printf (alloc, &error, "%s", "fits");
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "fits");
}

/* Every kind of allocator, and bump allocators whose inline path is closed
 * (thread-safe, filling blocks): short strings through the C stack, long
 * ones formatted twice. */
static void
test_strings_printf_every_allocator (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *long_text = g_strnfill (1000, 'z');
  GPtrArray *allocators = g_ptr_array_new_with_free_func (g_object_unref);

  g_ptr_array_add (allocators, nebula_system_allocator_new (&error));
  g_ptr_array_add (allocators, nebula_stack_allocator_new (4096, &error));
  g_ptr_array_add (allocators, g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                                               "thread-safe", TRUE, NULL));
  g_ptr_array_add (allocators, g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                                               "preset", NEBULA_PRESET_DEBUG, NULL));
  g_assert_no_error (error);

  for (guint i = 0; i < allocators->len; i++)
    {
      NebulaAllocator *alloc = allocators->pdata[i];
      char *text;

      text = nebula_allocator_printf (alloc, &error, "%s=%.2f", "ratio", 0.5);
      g_assert_no_error (error);
      g_assert_cmpstr (text, ==, "ratio=0.50");

      text = nebula_allocator_printf (alloc, &error, "[%s]", long_text);
      g_assert_no_error (error);
      g_assert_cmpuint (strlen (text), ==, 1002);
      g_assert_true (text[0] == '[' && text[1001] == ']' && text[500] == 'z');
      g_assert_true (nebula_allocator_owns (alloc, text));
    }

  g_ptr_array_unref (allocators);
}

static void
test_strings_printf_pool (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (32, 2, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  char *text;

  text = nebula_allocator_printf (alloc, &error, "#%u", 7u);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "#7");
  g_assert_true (nebula_allocator_deallocate (alloc, text, 3, 1, &error));

  /* Longer than a block: the pool's own error. */
  g_assert_null (nebula_allocator_printf (alloc, &error, "%040d", 1));
  g_assert_nonnull (error);
  g_assert_true (error->domain == NEBULA_ALLOCATOR_ERROR);
}

static void
test_strings_printf_null_format (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (256, &error);
  const char *no_format = NULL;

  g_assert_null (nebula_allocator_printf (NEBULA_ALLOCATOR (bump), &error, no_format));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "format"));
  g_assert_cmpuint (failed_allocations (bump), ==, 1);
}

/* The quick formatter and printf() agree, in a bump (formatted in place)
 * and elsewhere (the C stack); what it does not know goes to printf(). */
#define CHECK_FORMAT(alloc, ...)                                              \
  G_STMT_START {                                                              \
    g_autofree char *expected = g_strdup_printf (__VA_ARGS__);                \
    char *got = nebula_allocator_printf ((alloc), &error, __VA_ARGS__);       \
    g_assert_no_error (error);                                                \
    g_assert_cmpstr (got, ==, expected);                                      \
  } G_STMT_END

static void
test_strings_printf_conversions (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (1 << 16, &error);
  g_autoptr(NebulaSystemAllocator) sys = nebula_system_allocator_new (&error);
  NebulaAllocator *allocators[] = { NEBULA_ALLOCATOR (bump), NEBULA_ALLOCATOR (sys) };
  const char *no_string = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (allocators); i++)
    {
      NebulaAllocator *alloc = allocators[i];

      CHECK_FORMAT (alloc, "plain text, no conversion");
      CHECK_FORMAT (alloc, "%s|%d|%i|%u|%x|%c|%%", "s", -42, 7, 4000000000u, 0xbeefu, 'q');
      CHECK_FORMAT (alloc, "%d %d %d", G_MININT, G_MAXINT, 0);
      CHECK_FORMAT (alloc, "%ld %lu %lx", G_MINLONG, G_MAXULONG, (unsigned long) 0xabcdef);
      CHECK_FORMAT (alloc, "%lld %llu", (long long) G_MININT64, (unsigned long long) G_MAXUINT64);
      CHECK_FORMAT (alloc, "%zu %zd %zx", (gsize) G_MAXSIZE, (gssize) -5, (gsize) 255);
      CHECK_FORMAT (alloc, "[%.*s] [%.*s] [%.*s]", 3, "abcdef", 10, "ab", -1, "whole");
      CHECK_FORMAT (alloc, "%s and %.*s", no_string, 2, no_string);
      CHECK_FORMAT (alloc, "%s", "");
      CHECK_FORMAT (alloc, "100%%");
      /* Not the quick formatter's: widths, flags, floats, pointers. */
      CHECK_FORMAT (alloc, "%5d|%-4s|%05u|%.2f|%e", 42, "ab", 7u, 3.14159, 1e10);
      CHECK_FORMAT (alloc, "%08lx %+d % d %#x", 0x1234ul, 5, 6, 0x10u);
      CHECK_FORMAT (alloc, "%ls", L"wide");
      CHECK_FORMAT (alloc, "%hhd %hd %jd", (signed char) 1, (short) 2, (intmax_t) 3);
    }
}

static void
test_strings_concat_join (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  const char *parts[] = { "a", "bb", "", "ccc", NULL };
  const char *none[] = { NULL };
  char *text;

  text = nebula_allocator_strconcat (alloc, &error, "Host: ", "example.org", "\r\n", NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "Host: example.org\r\n");

  text = nebula_allocator_strconcat (alloc, &error, NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "");

  /* More arguments than the stack array holds. */
  text = nebula_allocator_strconcat (alloc, &error,
                                     "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
                                     "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
                                     "k", "l", "m", "n", "o", "p", "q", "r", "s", "t",
                                     "u", "v", "w", "x", "y", "z", NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "0123456789abcdefghijklmnopqrstuvwxyz");

  text = nebula_allocator_strjoinv (alloc, ", ", parts, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "a, bb, , ccc");

  text = nebula_allocator_strjoinv (alloc, NULL, parts, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "abbccc");

  text = nebula_allocator_strjoinv (alloc, "-", none, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "");

  g_assert_null (nebula_allocator_strjoinv (alloc, "-", NULL, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
}

static void
test_strings_addresses (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  NebulaAllocator *alloc;
  const guint8 data[] = { 1, 2, 3, 4, 5 };
  const char *words[] = { "x", "y", NULL };
  g_autoptr(GBytes) read = NULL;
  guint64 address;

  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                         "block-size", (guint64) 64, "block-count", (guint64) 4,
                         "check-frees", FALSE, NULL);
  g_assert_no_error (error);
  alloc = NEBULA_ALLOCATOR (pool);

  address = nebula_allocator_strdup_address (alloc, "hello", &error);
  g_assert_no_error (error);
  read = nebula_allocator_read_address (alloc, address, 6, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (read, NULL), 6, "hello", 6);
  /* The script ledger knows the block and its size. */
  g_assert_true (nebula_allocator_deallocate_address (alloc, address, 6, 1, &error));
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_deallocate_address (alloc, address, 6, 1, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  address = nebula_allocator_memdup_address (alloc, data, sizeof data, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (GSIZE_TO_POINTER (address), sizeof data, data, sizeof data);

  address = nebula_allocator_strjoinv_address (alloc, "+", words, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (GSIZE_TO_POINTER (address), ==, "x+y");

  g_assert_cmpuint (nebula_allocator_strdup_address (alloc, NULL, &error), ==, 0);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_cmpuint (nebula_allocator_memdup_address (alloc, data, 4, G_MAXUINT64, &error), ==, 0);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT);
}

/* Strings made in a scope go with it. */
static void
test_strings_scope (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);

  for (guint i = 0; i < 100; i++)
    {
      NEBULA_BUMP_SCOPE (bump);
      char *line = nebula_allocator_printf (alloc, &error, "request %u", i);

      g_assert_no_error (error);
      g_assert_true (g_str_has_prefix (line, "request "));
    }
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/strings/strdup", test_strings_strdup);
  g_test_add_func ("/nebula/strings/strndup", test_strings_strndup);
  g_test_add_func ("/nebula/strings/memdup", test_strings_memdup);
  g_test_add_func ("/nebula/strings/printf/bump-in-place", test_strings_printf_bump_in_place);
  g_test_add_func ("/nebula/strings/printf/bump-grows", test_strings_printf_bump_grows);
  g_test_add_func ("/nebula/strings/printf/exhausted", test_strings_printf_exhausted);
  g_test_add_func ("/nebula/strings/printf/every-allocator", test_strings_printf_every_allocator);
  g_test_add_func ("/nebula/strings/printf/pool", test_strings_printf_pool);
  g_test_add_func ("/nebula/strings/printf/null-format", test_strings_printf_null_format);
  g_test_add_func ("/nebula/strings/printf/conversions", test_strings_printf_conversions);
  g_test_add_func ("/nebula/strings/concat-join", test_strings_concat_join);
  g_test_add_func ("/nebula/strings/addresses", test_strings_addresses);
  g_test_add_func ("/nebula/strings/scope", test_strings_scope);

  return g_test_run ();
}
