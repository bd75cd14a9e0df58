/* test-script-safety.c: the checks behind the script entry points (issue
 * 12): span checks, the script ledger, the registry of live allocators,
 * and names that are not UTF-8.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>
#include "nebula-allocator-script-private.h"
#include "nebula-sanitizer-private.h"

#define A(ptr) ((guint64) GPOINTER_TO_SIZE (ptr))

static const guint64 hostile_sizes[] = {
  G_GUINT64_CONSTANT (1) << 24,
  G_GUINT64_CONSTANT (1) << 40,
  (guint64) G_MAXSSIZE,
  G_MAXUINT64,
};

static NebulaAllocator *
new_allocator (GType         type,
               NebulaPreset  preset,
               gboolean      thread_safe)
{
  GError *error = NULL;
  gpointer alloc;

  if (type == NEBULA_TYPE_POOL_ALLOCATOR)
    alloc = g_initable_new (type, NULL, &error, "preset", preset, "thread-safe", thread_safe,
                            "block-size", (guint64) 64, "block-count", (guint64) 8, NULL);
  else if (type == NEBULA_TYPE_SYSTEM_ALLOCATOR)
    alloc = g_initable_new (type, NULL, &error, "preset", preset, "thread-safe", thread_safe,
                            NULL);
  else if (type == NEBULA_TYPE_STACK_ALLOCATOR)
    alloc = g_initable_new (type, NULL, &error, "preset", preset, "thread-safe", thread_safe,
                            "capacity", (guint64) 4096, "double-ended", TRUE, NULL);
  else
    alloc = g_initable_new (type, NULL, &error, "preset", preset, "thread-safe", thread_safe,
                            "capacity", (guint64) 256, "max-capacity", (guint64) 65536, NULL);
  g_assert_no_error (error);

  return alloc;
}

static void
assert_span_refused (NebulaAllocator *alloc,
                     guint64          address,
                     guint64          size)
{
  GError *error = NULL;

  g_assert_false (nebula_allocator_check_span_address (alloc, address, size, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_clear_error (&error);
}

static void
assert_span_accepted (NebulaAllocator *alloc,
                      guint64          address,
                      guint64          size)
{
  GError *error = NULL;

  g_assert_true (nebula_allocator_check_span_address (alloc, address, size, &error));
  g_assert_no_error (error);
}

/* Every built-in type: a block is viewable whole, not one byte past it,
 * and no hostile size or address passes (2^40 does not wrap into a yes). */
static void
test_span_every_type (void)
{
  const GType types[] = {
    NEBULA_TYPE_BUMP_ALLOCATOR, NEBULA_TYPE_POOL_ALLOCATOR,
    NEBULA_TYPE_STACK_ALLOCATOR, NEBULA_TYPE_SYSTEM_ALLOCATOR,
  };

  /* A stack is never thread-safe (the property is refused). */
  for (guint t = 0; t < G_N_ELEMENTS (types); t++)
    for (NebulaPreset preset = NEBULA_PRESET_DEFAULT; preset <= NEBULA_PRESET_PERFORMANCE; preset++)
      for (int thread_safe = 0;
           thread_safe < (types[t] == NEBULA_TYPE_STACK_ALLOCATOR ? 1 : 2);
           thread_safe++)
        {
          NebulaAllocator *alloc = new_allocator (types[t], preset, thread_safe);
          GError *error = NULL;
          guint64 block;

          g_test_message ("%s preset %d thread-safe %d", g_type_name (types[t]), preset,
                          thread_safe);
          block = nebula_allocator_allocate_address (alloc, 64, 16, &error);
          g_assert_no_error (error);

          assert_span_accepted (alloc, block, 64);
          assert_span_accepted (alloc, block + 63, 1);
          assert_span_accepted (alloc, block + 16, 48);
          /* While a memory tool watches, a bump or stack block is followed
           * by a redzone that is part of the used span. */
          if (!nebula_memory_tools_watching () ||
              types[t] == NEBULA_TYPE_POOL_ALLOCATOR || types[t] == NEBULA_TYPE_SYSTEM_ALLOCATOR)
            {
              assert_span_refused (alloc, block + 64, 1);
              assert_span_refused (alloc, block, 65);
            }
          assert_span_refused (alloc, 0, 8);
          assert_span_refused (alloc, 1, 8);
          assert_span_refused (alloc, G_MAXUINT64 - 7, 8);
          for (guint i = 0; i < G_N_ELEMENTS (hostile_sizes); i++)
            {
              assert_span_refused (alloc, block, hostile_sizes[i]);
              assert_span_refused (alloc, block + 8, hostile_sizes[i]);
            }

          /* The memory utilities see the same memory, through the registry. */
          g_assert_true (nebula_memory_fill_address (block, 0x3C, 64, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (((guint8 *) GSIZE_TO_POINTER (block))[63], ==, 0x3C);
          g_assert_false (nebula_memory_fill_address (block, 0, G_GUINT64_CONSTANT (1) << 40,
                                                      &error));
          g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
          g_clear_error (&error);

          g_assert_true (nebula_allocator_deallocate_address (alloc, block, 64, 16, &error));
          g_assert_no_error (error);
          /* A freed block is no longer memory to touch. (A bump allocator
           * rewinds only in some modes: its used part may keep the bytes.) */
          if (types[t] != NEBULA_TYPE_BUMP_ALLOCATOR)
            {
              assert_span_refused (alloc, block, 64);
              g_assert_false (nebula_memory_fill_address (block, 0, 64, &error));
              g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
              g_clear_error (&error);
            }

          g_object_unref (alloc);
        }
}

/* Item 11: a growing bump allocator's two chunks are not one span. */
static void
test_span_bump_chunks (void)
{
  NebulaAllocator *alloc = new_allocator (NEBULA_TYPE_BUMP_ALLOCATOR, NEBULA_PRESET_DEFAULT, FALSE);
  NebulaBumpAllocator *bump = NEBULA_BUMP_ALLOCATOR (alloc);
  guint64 first, last, low, high;

  first = last = nebula_allocator_allocate_address (alloc, 16, 8, NULL);
  while (nebula_bump_allocator_get_n_chunks (bump) < 2)
    last = nebula_allocator_allocate_address (alloc, 16, 8, NULL);
  g_assert_cmpuint (last, !=, 0);

  low = MIN (first, last);
  high = MAX (first, last);
  assert_span_refused (alloc, low, high - low + 1);
  assert_span_accepted (alloc, first, 16);
  assert_span_accepted (alloc, last, 16);

  g_object_unref (alloc);
}

/* The span function itself: a pool answers per block, and without
 * check-frees says it cannot tell. */
static void
test_span_pool_kinds (void)
{
  NebulaAllocator *checked = new_allocator (NEBULA_TYPE_POOL_ALLOCATOR, NEBULA_PRESET_DEFAULT, FALSE);
  NebulaAllocator *blind = new_allocator (NEBULA_TYPE_POOL_ALLOCATOR, NEBULA_PRESET_PERFORMANCE, FALSE);
  NebulaAllocatorSpanFunc span = nebula_allocator_get_span_func (NEBULA_TYPE_POOL_ALLOCATOR);
  guint8 *a, *b;
  gsize block_size = 0;

  g_assert_nonnull (span);
  a = nebula_allocator_allocate (checked, 64, 16, NULL);
  b = nebula_allocator_allocate (checked, 64, 16, NULL);
  g_assert_nonnull (a);
  g_assert_nonnull (b);

  g_assert_cmpint (span (checked, (guintptr) a, 64, NEBULA_SPAN_INSIDE, &block_size), ==,
                   NEBULA_SPAN_OK);
  /* Two live neighbours are still two blocks. */
  g_assert_cmpint (span (checked, (guintptr) MIN (a, b), 65, NEBULA_SPAN_INSIDE, &block_size), ==,
                   NEBULA_SPAN_FOREIGN);
  /* A free and a resize with check-frees check themselves. */
  g_assert_cmpint (span (checked, (guintptr) a + 1, 8, NEBULA_SPAN_FREE, &block_size), ==,
                   NEBULA_SPAN_DEFER);
  g_assert_true (nebula_allocator_deallocate (checked, b, 64, 16, NULL));
  g_assert_cmpint (span (checked, (guintptr) b, 1, NEBULA_SPAN_INSIDE, &block_size), ==,
                   NEBULA_SPAN_FOREIGN);

  a = nebula_allocator_allocate (blind, 64, 16, NULL);
  g_assert_cmpint (span (blind, (guintptr) a, 64, NEBULA_SPAN_FREE, &block_size), ==,
                   NEBULA_SPAN_UNTRACKED);
  g_assert_cmpint (span (blind, (guintptr) a, 65, NEBULA_SPAN_FREE, &block_size), ==,
                   NEBULA_SPAN_WRONG_SIZE);
  g_assert_cmpuint (block_size, ==, 64);
  g_assert_cmpint (span (blind, (guintptr) a + 8, 8, NEBULA_SPAN_FREE, &block_size), ==,
                   NEBULA_SPAN_FOREIGN);
  g_assert_true (nebula_allocator_deallocate (blind, a, 64, 16, NULL));

  g_object_unref (checked);
  g_object_unref (blind);
}

/* Item 13 and the ledger: without check-frees only the blocks a script
 * allocated can be freed, resized or viewed from a script. */
static void
test_ledger (void)
{
  const GType types[] = { NEBULA_TYPE_POOL_ALLOCATOR, NEBULA_TYPE_SYSTEM_ALLOCATOR };

  for (guint t = 0; t < G_N_ELEMENTS (types); t++)
    for (int thread_safe = 0; thread_safe < 2; thread_safe++)
      {
        NebulaAllocator *alloc = new_allocator (types[t], NEBULA_PRESET_PERFORMANCE, thread_safe);
        GError *error = NULL;
        gpointer from_c;
        guint64 block, moved;

        /* A block from C: the allocator cannot vouch for it, nor can the
         * ledger; the error says what to do. C may still free it. */
        from_c = nebula_allocator_allocate (alloc, 32, 8, &error);
        g_assert_no_error (error);
        g_assert_false (nebula_allocator_deallocate_address (alloc, A (from_c), 32, 8, &error));
        g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
        g_assert_nonnull (strstr (error->message, "check-frees"));
        g_clear_error (&error);
        g_assert_true (nebula_allocator_deallocate (alloc, from_c, 32, 8, &error));
        g_assert_no_error (error);

        g_assert_false (nebula_allocator_deallocate_address (alloc, 1, 8, 8, &error));
        g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
        g_clear_error (&error);

        block = nebula_allocator_allocate_address (alloc, 32, 8, &error);
        g_assert_no_error (error);
        g_assert_false (nebula_allocator_deallocate_address (alloc, block, 40, 8, &error));
        g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
        g_assert_nonnull (strstr (error->message, "has 32 bytes"));
        g_clear_error (&error);
        g_assert_false (nebula_allocator_deallocate_address (alloc, block + 8, 8, 8, &error));
        g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
        g_clear_error (&error);

        moved = nebula_allocator_reallocate_address (alloc, block, 32, 48, 8, &error);
        g_assert_no_error (error);
        assert_span_accepted (alloc, moved, 48);
        if (moved != block)
          assert_span_refused (alloc, block, 1);
        g_assert_true (nebula_allocator_deallocate_address (alloc, moved, 48, 8, &error));
        g_assert_no_error (error);
        /* Twice: refused, nothing freed. */
        g_assert_false (nebula_allocator_deallocate_address (alloc, moved, 48, 8, &error));
        g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
        g_clear_error (&error);
        g_assert_cmpuint (nebula_allocator_reallocate_address (alloc, moved, 48, 8, 8, &error), ==, 0);
        g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
        g_clear_error (&error);

        /* Arrays count as script blocks too; a reset forgets them all. */
        block = nebula_allocator_allocate_array_address (alloc, 4, 8, 8, TRUE, &error);
        g_assert_no_error (error);
        assert_span_accepted (alloc, block, 32);
        /* Without check-frees a system allocator's reset frees nothing:
         * free the block first, or it leaks. */
        if (types[t] == NEBULA_TYPE_SYSTEM_ALLOCATOR)
          {
            g_assert_true (nebula_allocator_deallocate_address (alloc, block, 32, 8, &error));
            g_assert_no_error (error);
          }
        nebula_allocator_reset (alloc);
        assert_span_refused (alloc, block, 1);

        g_object_unref (alloc);
      }
}

/* The registry holds no allocator alive and forgets it when it goes. */
static void
test_registry_is_weak (void)
{
  NebulaAllocator *alloc = new_allocator (NEBULA_TYPE_SYSTEM_ALLOCATOR, NEBULA_PRESET_DEFAULT, TRUE);
  GWeakRef weak;
  GError *error = NULL;
  guint64 block;

  block = nebula_allocator_allocate_address (alloc, 64, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_secure_zero_address (block, 64, &error));
  g_assert_no_error (error);

  g_weak_ref_init (&weak, alloc);
  g_object_unref (alloc);
  g_assert_null (g_weak_ref_get (&weak));
  g_weak_ref_clear (&weak);

  /* The block went with its allocator: not memory to touch any more. */
  g_assert_false (nebula_secure_zero_address (block, 64, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
}

/* Item 15a: a name that is not UTF-8 makes the configuration invalid, and
 * no message, report or JSON carries the bad bytes. */
static void
test_name_not_utf8 (void)
{
  const GType types[] = {
    NEBULA_TYPE_BUMP_ALLOCATOR, NEBULA_TYPE_POOL_ALLOCATOR,
    NEBULA_TYPE_STACK_ALLOCATOR, NEBULA_TYPE_SYSTEM_ALLOCATOR,
  };

  for (guint t = 0; t < G_N_ELEMENTS (types); t++)
    {
      NebulaAllocator *alloc = g_object_new (types[t], "name", "frames\xff\xfe", NULL);
      GError *error = NULL;
      g_autoptr(GVariant) report = NULL;
      g_autofree char *name = NULL;
      g_autofree char *json = NULL;

      g_assert_false (g_initable_init (G_INITABLE (alloc), NULL, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_assert_nonnull (strstr (error->message, "'name' must be valid UTF-8"));
      g_clear_error (&error);

      g_assert_null (nebula_allocator_allocate (alloc, 8, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_clear_error (&error);
      /* An error raised before the configuration is looked at names the
       * allocator too. */
      g_assert_null (nebula_allocator_allocate (alloc, 8, 3, &error));
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_clear_error (&error);

      name = nebula_allocator_dup_name (alloc);
      g_assert_true (g_utf8_validate (name, -1, NULL));
      report = nebula_allocator_get_report (alloc);     /* no critical */
      g_assert_nonnull (report);
      json = nebula_allocator_report_to_json (alloc);
      g_assert_true (g_utf8_validate (json, -1, NULL));

      g_object_unref (alloc);
    }
}

/* A stack's high end from a script: only its top block is taken. */
static void
test_stack_high_address (void)
{
  NebulaAllocator *alloc = new_allocator (NEBULA_TYPE_STACK_ALLOCATOR, NEBULA_PRESET_PERFORMANCE, FALSE);
  NebulaStackAllocator *stack = NEBULA_STACK_ALLOCATOR (alloc);
  GError *error = NULL;
  guint64 high;

  high = nebula_stack_allocator_allocate_high_address (stack, 40, 8, &error);
  g_assert_no_error (error);
  assert_span_accepted (alloc, high, 40);
  for (guint i = 0; i < G_N_ELEMENTS (hostile_sizes); i++)
    {
      g_assert_false (nebula_stack_allocator_deallocate_high_address (stack, high, hostile_sizes[i],
                                                                      &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
    }
  g_assert_false (nebula_stack_allocator_deallocate_high_address (stack, 1, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_true (nebula_stack_allocator_deallocate_high_address (stack, high, 40, &error));
  g_assert_no_error (error);

  g_object_unref (alloc);
}

/* Scripts on several threads: the ledger and the registry under their
 * locks, while allocators come and go (the TSan build runs this). */
typedef struct
{
  NebulaAllocator *shared;
  guint            rounds;
} ThreadData;

static gpointer
script_thread_cb (gpointer user_data)
{
  ThreadData *data = user_data;

  for (guint i = 0; i < data->rounds; i++)
    {
      /* Thread-safe: the registry reads every live allocator's bookkeeping
       * (docs/safety.md). */
      NebulaAllocator *mine = new_allocator (NEBULA_TYPE_BUMP_ALLOCATOR, NEBULA_PRESET_DEFAULT, TRUE);
      guint64 block = nebula_allocator_allocate_address (data->shared, 24, 8, NULL);
      guint64 local = nebula_allocator_allocate_address (mine, 24, 8, NULL);

      g_assert_cmpuint (block, !=, 0);
      g_assert_true (nebula_memory_fill_address (block, (guint8) i, 24, NULL));
      g_assert_true (nebula_memory_copy_address (local, block, 24, NULL));
      g_assert_true (nebula_allocator_deallocate_address (data->shared, block, 24, 8, NULL));
      g_assert_false (nebula_allocator_deallocate_address (data->shared, block, 24, 8, NULL));
      g_object_unref (mine);
    }

  return NULL;
}

static void
test_threads (void)
{
  ThreadData data = { NULL, 300 };
  GThread *threads[4];

  data.shared = new_allocator (NEBULA_TYPE_SYSTEM_ALLOCATOR, NEBULA_PRESET_PERFORMANCE, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("script", script_thread_cb, &data);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_object_unref (data.shared);
}

/* gjs reads and writes blocks by copy: only live memory of the allocator. */
static void
test_read_write_address (void)
{
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 1, NULL);
  NebulaAllocator *allocator = NEBULA_ALLOCATOR (pool);
  g_autoptr(GBytes) data = g_bytes_new_static ("abc", 3);
  g_autoptr(GBytes) read = NULL;
  g_autoptr(GBytes) refused = NULL;
  g_autoptr(GError) error = NULL;
  guint64 address;

  address = nebula_allocator_allocate_address (allocator, 64, 8, NULL);
  g_assert_cmpuint (address, !=, 0);
  g_assert_true (nebula_allocator_write_address (allocator, address + 61, data, NULL));
  read = nebula_allocator_read_address (allocator, address + 61, 3, NULL);
  g_assert_cmpmem (g_bytes_get_data (read, NULL), g_bytes_get_size (read), "abc", 3);

  refused = nebula_allocator_read_address (allocator, address + 62, 3, &error);
  g_assert_null (refused);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  nebula_allocator_deallocate_address (allocator, address, 64, 8, NULL);
  g_assert_false (nebula_allocator_write_address (allocator, address, data, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/script/span/every-type", test_span_every_type);
  g_test_add_func ("/nebula/script/span/bump-chunks", test_span_bump_chunks);
  g_test_add_func ("/nebula/script/span/pool-kinds", test_span_pool_kinds);
  g_test_add_func ("/nebula/script/ledger", test_ledger);
  g_test_add_func ("/nebula/script/registry-is-weak", test_registry_is_weak);
  g_test_add_func ("/nebula/script/name-not-utf8", test_name_not_utf8);
  g_test_add_func ("/nebula/script/stack-high", test_stack_high_address);
  g_test_add_func ("/nebula/script/threads", test_threads);
  g_test_add_func ("/nebula/script/read-write-address", test_read_write_address);

  return g_test_run ();
}
