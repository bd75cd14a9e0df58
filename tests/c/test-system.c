/* test-system.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "nebula-system-table-private.h"

static void
test_system_basic (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = nebula_system_allocator_new (&error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (sys);
  guint8 *p, *q;

  g_assert_no_error (error);
  g_assert_true (nebula_allocator_get_thread_safe (alloc));

  p = nebula_allocator_allocate (alloc, 100, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_SIZE (p) % 64, ==, 0);
  memset (p, 7, 100);
  g_assert_true (nebula_allocator_owns (alloc, p));
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 100);

  q = nebula_allocator_reallocate (alloc, p, 100, 1000, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_SIZE (q) % 64, ==, 0);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpuint (q[i], ==, 7);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 1000);

  p = nebula_allocator_allocate_zeroed (alloc, 50, 8, &error);
  for (guint i = 0; i < 50; i++)
    g_assert_cmpuint (p[i], ==, 0);

  g_assert_true (nebula_allocator_deallocate (alloc, q, 1000, 64, &error));
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_owns (alloc, q));

  /* reset frees what is left (Valgrind and ASan would report a leak). */
  nebula_allocator_reset (alloc);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
}

static void
test_system_bad_frees (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = nebula_system_allocator_new (&error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (sys);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  int local;
  gpointer p;

  p = nebula_allocator_allocate (alloc, 32, 8, &error);

  g_assert_false (nebula_allocator_deallocate (alloc, &local, sizeof local, 4, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  g_assert_false (nebula_allocator_deallocate (alloc, p, 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_assert_nonnull (strstr (error->message, "allocated with 32 bytes but freed with 16"));
  g_clear_error (&error);

  g_assert_true (nebula_allocator_deallocate (alloc, p, 32, 8, &error));
  g_assert_false (nebula_allocator_deallocate (alloc, p, 32, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "already freed"));
  g_clear_error (&error);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 1);
  g_assert_cmpuint (stats->deallocations, ==, 1);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
}

static void
test_system_unchecked (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error,
                                                         "preset", NEBULA_PRESET_PERFORMANCE, NULL);
  gboolean check;
  gpointer p;

  g_assert_no_error (error);
  g_object_get (sys, "check-frees", &check, NULL);
  g_assert_false (check);
  p = nebula_allocator_allocate (NEBULA_ALLOCATOR (sys), 64, 8, &error);
  g_assert_false (nebula_allocator_owns (NEBULA_ALLOCATOR (sys), p));
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (sys), p, 64, 8, &error));
}

/* Every mode the direct path is built for (check-frees, thread-safe,
 * track-stats): the same requests give the same statistics, and with
 * check-frees the same errors. */
static void
test_system_modes (void)
{
  for (guint mode = 0; mode < 8; mode++)
    {
      gboolean checked = (mode & 4) != 0, thread_safe = (mode & 2) != 0, track = (mode & 1) != 0;
      g_autoptr(GError) error = NULL;
      g_autoptr(NebulaSystemAllocator) sys = NULL;
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      NebulaAllocator *alloc;
      gpointer blocks[5];

      sys = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error,
                            "check-frees", checked, "thread-safe", thread_safe,
                            "track-stats", track, NULL);
      g_assert_no_error (error);
      alloc = NEBULA_ALLOCATOR (sys);

      for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
        {
          blocks[i] = nebula_allocator_allocate (alloc, 10 * (i + 1), 8, &error);
          g_assert_no_error (error);
          g_assert_nonnull (blocks[i]);
        }
      for (guint i = 0; i < 3; i++)
        g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], 10 * (i + 1), 8, &error));

      if (checked)
        {
          g_assert_false (nebula_allocator_deallocate (alloc, blocks[0], 10, 8, &error));
          g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
          g_assert_nonnull (strstr (error->message, "already freed"));
          g_clear_error (&error);
          g_assert_false (nebula_allocator_deallocate (alloc, blocks[3], 41, 8, &error));
          g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
          g_assert_nonnull (strstr (error->message, "allocated with 40 bytes but freed with 41"));
          g_clear_error (&error);
        }

      stats = nebula_allocator_get_stats (alloc);
      g_assert_cmpuint (stats->allocations, ==, track ? 5 : 0);
      g_assert_cmpuint (stats->deallocations, ==, track ? 3 : 0);
      g_assert_cmpuint (stats->total_bytes_allocated, ==, track ? 150 : 0);
      g_assert_cmpuint (stats->bytes_in_use, ==, track ? 90 : 0);
      g_assert_cmpuint (stats->peak_bytes_in_use, ==, track ? 150 : 0);

      for (guint i = 3; i < G_N_ELEMENTS (blocks); i++)
        g_assert_true (nebula_allocator_deallocate (alloc, blocks[i], 10 * (i + 1), 8, &error));
      g_assert_no_error (error);
    }
}

/* A thread keeps the statistics shard of the last thread-safe System
 * allocator it used: allocators used in turn, one finalized and another
 * made (perhaps at the same address), each counts exactly its own
 * requests. */
static void
count_requests (NebulaAllocator *alloc,
                guint            n,
                gsize            size)
{
  for (guint i = 0; i < n; i++)
    {
      gpointer p = nebula_allocator_allocate (alloc, size, 8, NULL);

      g_assert_nonnull (p);
      g_assert_true (nebula_allocator_deallocate (alloc, p, size, 8, NULL));
    }
}

static void
assert_counted (NebulaAllocator *alloc,
                guint            n,
                gsize            size)
{
  g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (alloc);

  g_assert_cmpuint (stats->allocations, ==, n);
  g_assert_cmpuint (stats->deallocations, ==, n);
  g_assert_cmpuint (stats->total_bytes_allocated, ==, n * size);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  g_assert_cmpuint (stats->peak_bytes_in_use, ==, n > 0 ? size : 0);
}

static gpointer
count_thread (gpointer data)
{
  count_requests (data, 100, 48);
  return NULL;
}

/* With and without check-frees: the unchecked allocation finds the
 * thread's shard before malloc() and counts after it. */
static void
test_system_stats_cache (gconstpointer data)
{
  gboolean check_frees = GPOINTER_TO_INT (data);
  g_autoptr(NebulaSystemAllocator) a = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, NULL,
                                                       "check-frees", check_frees, NULL);
  g_autoptr(NebulaSystemAllocator) b = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, NULL,
                                                       "check-frees", check_frees, NULL);

  for (guint round = 0; round < 10; round++)
    {
      count_requests (NEBULA_ALLOCATOR (a), 3, 16);
      count_requests (NEBULA_ALLOCATOR (b), 2, 32);
    }
  assert_counted (NEBULA_ALLOCATOR (a), 30, 16);
  assert_counted (NEBULA_ALLOCATOR (b), 20, 32);

  for (guint round = 0; round < 10; round++)
    {
      g_autoptr(NebulaSystemAllocator) c = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL,
                                                           NULL, "check-frees", check_frees,
                                                           NULL);

      assert_counted (NEBULA_ALLOCATOR (c), 0, 0);
      count_requests (NEBULA_ALLOCATOR (c), round + 1, 24);
      assert_counted (NEBULA_ALLOCATOR (c), round + 1, 24);
    }

  /* Threads that exit give their slot back: the next takes it, and its
   * shard, and the counts add up. */
  for (guint round = 0; round < 4; round++)
    g_thread_join (g_thread_new ("count", count_thread, a));
  count_requests (NEBULA_ALLOCATOR (a), 1, 16);
  {
    g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (a));

    g_assert_cmpuint (stats->allocations, ==, 30 + 400 + 1);
    g_assert_cmpuint (stats->deallocations, ==, 30 + 400 + 1);
    g_assert_cmpuint (stats->total_bytes_allocated, ==, 30 * 16 + 400 * 48 + 16);
    g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  }
}

/* A request the system cannot serve (4 EiB, more than any address space)
 * is OUT_OF_MEMORY with the size in the message, and the allocator stays
 * usable. The sanitizers' allocators abort on such a request unless told
 * otherwise, so the test runs only without them. */
static void
test_system_out_of_memory (void)
{
  const gsize huge = (gsize) 1 << 62;
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = NULL;
  NebulaAllocator *alloc;
  g_autofree char *number = g_strdup_printf ("%" G_GSIZE_FORMAT " bytes", huge);
  gsize alignments[] = { 8, 4096 };
  gpointer p;

  if (NEBULA_ASAN || NEBULA_TSAN)
    {
      g_test_skip ("a sanitizer allocator aborts on a 4 EiB request");
      return;
    }

  sys = nebula_system_allocator_new (&error);
  g_assert_no_error (error);
  alloc = NEBULA_ALLOCATOR (sys);

  /* malloc and posix_memalign. */
  for (guint i = 0; i < G_N_ELEMENTS (alignments); i++)
    {
      g_autofree char *alignment = g_strdup_printf ("(alignment %" G_GSIZE_FORMAT ")",
                                                    alignments[i]);

      g_assert_null (nebula_allocator_allocate (alloc, huge, alignments[i], &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY);
      g_assert_nonnull (strstr (error->message, number));
      g_assert_nonnull (strstr (error->message, alignment));
      g_assert_cmpuint (nebula_error_get_requested (error), ==, huge);
      g_clear_error (&error);
    }
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);

  p = nebula_allocator_allocate (alloc, 16, 8, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_deallocate (alloc, p, 16, 8, &error));
  g_assert_no_error (error);
}

/* The live-block table against a GHashTable model: inserts, takes in a
 * random order (each take shifts later entries back), wrong sizes, moves,
 * and the totals after every step of a run long enough to grow every
 * shard several times. Addresses are never dereferenced, so made-up
 * 16-byte-aligned ones serve. */
static void
check_table (NebulaSystemTable *table,
             GHashTable        *model)
{
  GHashTableIter iter;
  gpointer key, value;
  guint64 n_blocks, n_bytes, bytes = 0;

  g_hash_table_iter_init (&iter, model);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gsize size = 0;

      g_assert_true (nebula_system_table_lookup (table, key, &size));
      g_assert_cmpuint (size, ==, GPOINTER_TO_SIZE (value));
      bytes += size;
    }
  nebula_system_table_totals (table, &n_blocks, &n_bytes);
  g_assert_cmpuint (n_blocks, ==, g_hash_table_size (model));
  g_assert_cmpuint (n_bytes, ==, bytes);
}

static void
count_entry (gpointer ptr,
             gsize    size,
             gpointer user_data)
{
  guint64 *sums = user_data;

  sums[0]++;
  sums[1] += size;
}

static void
test_system_table (void)
{
  NebulaSystemTable *table = nebula_system_table_new (TRUE);
  g_autoptr(GHashTable) model = g_hash_table_new (NULL, NULL);
  g_autoptr(GPtrArray) live = g_ptr_array_new ();
  GRand *rand = g_rand_new_with_seed (7);
  guint64 sums[2] = { 0, 0 };
  gsize found = 0;

  for (guint step = 0; step < 20000; step++)
    {
      if (live->len == 0 || g_rand_int_range (rand, 0, 3) != 0)
        {
          /* Clustered addresses, as malloc's are: probes collide. */
          gpointer ptr = GSIZE_TO_POINTER ((gsize) 0x10000 + 16 * (gsize) g_rand_int_range (rand, 1, 1 << 20));
          gsize size = (gsize) g_rand_int_range (rand, 1, 1000);

          if (g_hash_table_contains (model, ptr))
            continue;
          g_assert_true (nebula_system_table_insert (table, ptr, size));
          g_hash_table_insert (model, ptr, GSIZE_TO_POINTER (size));
          g_ptr_array_add (live, ptr);
        }
      else
        {
          guint i = g_rand_int_range (rand, 0, live->len);
          gpointer ptr = g_ptr_array_steal_index_fast (live, i);
          gsize size = GPOINTER_TO_SIZE (g_hash_table_lookup (model, ptr));

          g_assert_cmpint (nebula_system_table_take (table, ptr, size + 1, &found), ==,
                           NEBULA_SYSTEM_TABLE_WRONG_SIZE);
          g_assert_cmpuint (found, ==, size);
          g_assert_cmpint (nebula_system_table_take (table, ptr, size, NULL), ==,
                           NEBULA_SYSTEM_TABLE_TAKEN);
          g_assert_cmpint (nebula_system_table_take (table, ptr, size, NULL), ==,
                           NEBULA_SYSTEM_TABLE_ABSENT);
          g_assert_false (nebula_system_table_lookup (table, ptr, NULL));
          g_hash_table_remove (model, ptr);
        }
      if (step % 997 == 0)
        check_table (table, model);
    }
  check_table (table, model);

  /* A move replaces the address and the size. */
  if (live->len > 0)
    {
      gpointer old = g_ptr_array_index (live, 0);
      gpointer moved = GSIZE_TO_POINTER ((gsize) 0x10 << 40);

      g_assert_true (nebula_system_table_move (table, old, moved, 12345));
      g_hash_table_remove (model, old);
      g_hash_table_insert (model, moved, GSIZE_TO_POINTER (12345));
      g_assert_false (nebula_system_table_lookup (table, old, NULL));
      check_table (table, model);
    }

  g_assert_false (nebula_system_table_lookup (table, NULL, NULL));

  /* foreach sees every pair once; with clear the table is empty after. */
  nebula_system_table_foreach (table, count_entry, sums, TRUE);
  g_assert_cmpuint (sums[0], ==, g_hash_table_size (model));
  g_hash_table_remove_all (model);
  check_table (table, model);

  g_rand_free (rand);
  nebula_system_table_free (table);
}

/* A request malloc() refuses counts nothing, in every mode of the direct
 * path (the unchecked ones find where to count before the call), and the
 * allocator counts the next one exactly. */
static void
test_system_refused_uncounted (void)
{
  const gsize huge = (gsize) 1 << 62;

  if (NEBULA_ASAN || NEBULA_TSAN)
    {
      g_test_skip ("a sanitizer allocator aborts on a 4 EiB request");
      return;
    }

  for (guint mode = 0; mode < 4; mode++)
    {
      g_autoptr(NebulaSystemAllocator) sys = NULL;
      g_autoptr(GError) error = NULL;
      NebulaAllocator *alloc;

      sys = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error,
                            "check-frees", (mode & 1) != 0, "thread-safe", (mode & 2) != 0,
                            NULL);
      g_assert_no_error (error);
      alloc = NEBULA_ALLOCATOR (sys);

      g_assert_null (nebula_allocator_allocate (alloc, huge, 8, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY);
      assert_counted (alloc, 0, 0);
      count_requests (alloc, 2, 40);
      assert_counted (alloc, 2, 40);
    }
}

/* The interface's System path is open only when nothing else has to
 * happen per request: with a budget every allocation is charged, with a
 * fill pattern every block is filled. */
static void
test_system_closed_paths (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("system", 1000);
  g_autoptr(NebulaSystemAllocator) charged = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error,
                                                             "budget", budget, NULL);
  g_autoptr(NebulaSystemAllocator) filled = NULL;
  guint8 *p, *q;

  g_assert_no_error (error);
  p = nebula_allocator_allocate (NEBULA_ALLOCATOR (charged), 600, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 600);
  g_assert_null (nebula_allocator_allocate (NEBULA_ALLOCATOR (charged), 600, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED);
  g_clear_error (&error);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (charged), p, 600, 8, &error));
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);

  filled = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error, "alloc-fill", 0xab, NULL);
  g_assert_no_error (error);
  q = nebula_allocator_allocate (NEBULA_ALLOCATOR (filled), 48, 8, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 48; i++)
    g_assert_cmpuint (q[i], ==, 0xab);
  g_assert_true (nebula_allocator_deallocate (NEBULA_ALLOCATOR (filled), q, 48, 8, &error));
}

/* Threads share a checked System allocator: every block is freed by a
 * thread other than the one that allocated it half of the time, and the
 * totals are exact afterwards. */
#define N_THREADS 4
#define N_ROUNDS  2000
#define N_LIVE    32

typedef struct
{
  NebulaAllocator *alloc;
  gpointer         handoff[N_THREADS][N_LIVE];
  gint             errors;
} Shared;

typedef struct
{
  Shared *shared;
  guint   index;
} ThreadArg;

static gpointer
churn_thread (gpointer data)
{
  ThreadArg *arg = data;
  NebulaAllocator *alloc = arg->shared->alloc;
  gpointer mine[N_LIVE] = { NULL };

  for (guint round = 0; round < N_ROUNDS; round++)
    {
      guint slot = round % N_LIVE;
      gsize size = 16 + (round % 7) * 24;

      if (mine[slot] != NULL &&
          !nebula_allocator_deallocate (alloc, mine[slot], *(gsize *) mine[slot], 8, NULL))
        g_atomic_int_inc (&arg->shared->errors);
      mine[slot] = nebula_allocator_allocate (alloc, size, 8, NULL);
      if (mine[slot] == NULL)
        g_atomic_int_inc (&arg->shared->errors);
      else
        *(gsize *) mine[slot] = size;
    }

  /* Half the blocks go to the next thread through the array, which the
   * join publishes. */
  for (guint slot = 0; slot < N_LIVE; slot++)
    if (slot % 2 == 0)
      arg->shared->handoff[(arg->index + 1) % N_THREADS][slot] = mine[slot];
    else if (!nebula_allocator_deallocate (alloc, mine[slot], *(gsize *) mine[slot], 8, NULL))
      g_atomic_int_inc (&arg->shared->errors);
  return NULL;
}

static gpointer
free_handoff_thread (gpointer data)
{
  ThreadArg *arg = data;

  for (guint slot = 0; slot < N_LIVE; slot++)
    {
      gpointer p = arg->shared->handoff[arg->index][slot];

      if (p != NULL &&
          !nebula_allocator_deallocate (arg->shared->alloc, p, *(gsize *) p, 8, NULL))
        g_atomic_int_inc (&arg->shared->errors);
    }
  return NULL;
}

static void
test_system_threads (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = nebula_system_allocator_new (&error);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  Shared shared = { .alloc = NEBULA_ALLOCATOR (sys) };
  ThreadArg args[N_THREADS];
  GThread *threads[N_THREADS];

  g_assert_no_error (error);
  for (guint i = 0; i < N_THREADS; i++)
    {
      args[i] = (ThreadArg) { &shared, i };
      threads[i] = g_thread_new ("churn", churn_thread, &args[i]);
    }
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);
  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("free", free_handoff_thread, &args[i]);
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);

  g_assert_cmpint (shared.errors, ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (shared.alloc), ==, 0);
  stats = nebula_allocator_get_stats (shared.alloc);
  g_assert_cmpuint (stats->allocations, ==, N_THREADS * N_ROUNDS);
  g_assert_cmpuint (stats->deallocations, ==, N_THREADS * N_ROUNDS);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
}

/* Two threads free the same block at once: exactly one succeeds, the other
 * is INVALID_POINTER, many times over. */
typedef struct
{
  NebulaAllocator *alloc;
  gpointer         block;
  gint             start;
  gint             successes;
  gint             failures;
} Race;

static gpointer
race_thread (gpointer data)
{
  Race *race = data;
  GError *error = NULL;

  while (!g_atomic_int_get (&race->start))
    ;
  if (nebula_allocator_deallocate (race->alloc, race->block, 24, 8, &error))
    g_atomic_int_inc (&race->successes);
  else
    {
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
      g_error_free (error);
      g_atomic_int_inc (&race->failures);
    }
  return NULL;
}

static void
test_system_double_free_race (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = nebula_system_allocator_new (&error);

  for (guint round = 0; round < 200; round++)
    {
      Race race = { .alloc = NEBULA_ALLOCATOR (sys) };
      GThread *a, *b;

      race.block = nebula_allocator_allocate (race.alloc, 24, 8, &error);
      g_assert_no_error (error);
      a = g_thread_new ("a", race_thread, &race);
      b = g_thread_new ("b", race_thread, &race);
      g_atomic_int_set (&race.start, 1);
      g_thread_join (a);
      g_thread_join (b);
      g_assert_cmpint (race.successes, ==, 1);
      g_assert_cmpint (race.failures, ==, 1);
    }
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (sys)), ==, 0);
}

/* Several threads on one thread-safe table, all from its first insert:
 * the shards grow while other threads wait for their locks, so both the
 * contended lock and the growth run out of line (insert_slow(),
 * take_contended()). Each thread works on its own addresses, which hash
 * over every shard; at the end the table holds exactly what each thread
 * left. */
#define TABLE_THREADS 4
#define TABLE_BLOCKS  4096

typedef struct
{
  NebulaSystemTable *table;
  guint              index;
  gint               errors;
} TableArg;

static gpointer
table_address (guint thread,
               guint i)
{
  return GSIZE_TO_POINTER ((gsize) 0x100000 + 16 * ((gsize) i * TABLE_THREADS + thread));
}

static gpointer
table_thread (gpointer data)
{
  TableArg *arg = data;

  for (guint round = 0; round < 4; round++)
    {
      for (guint i = 0; i < TABLE_BLOCKS; i++)
        if (!nebula_system_table_insert (arg->table, table_address (arg->index, i), i + 1))
          arg->errors++;
      /* Take back all but every eighth block; the first take of each
       * size is wrong and leaves the entry. */
      for (guint i = 0; i < TABLE_BLOCKS; i++)
        {
          gsize found = 0;

          if (i % 8 == 0)
            continue;
          if (nebula_system_table_take (arg->table, table_address (arg->index, i), i + 2,
                                        &found) != NEBULA_SYSTEM_TABLE_WRONG_SIZE || found != i + 1)
            arg->errors++;
          if (nebula_system_table_take (arg->table, table_address (arg->index, i), i + 1,
                                        NULL) != NEBULA_SYSTEM_TABLE_TAKEN)
            arg->errors++;
        }
    }
  return NULL;
}

static void
test_system_table_contended (void)
{
  NebulaSystemTable *table = nebula_system_table_new (TRUE);
  TableArg args[TABLE_THREADS];
  GThread *threads[TABLE_THREADS];
  guint64 n_blocks = 0, n_bytes = 0, expected_bytes = 0;

  for (guint t = 0; t < TABLE_THREADS; t++)
    {
      args[t] = (TableArg) { table, t, 0 };
      threads[t] = g_thread_new ("table", table_thread, &args[t]);
    }
  for (guint t = 0; t < TABLE_THREADS; t++)
    {
      g_thread_join (threads[t]);
      g_assert_cmpint (args[t].errors, ==, 0);
    }

  for (guint i = 0; i < TABLE_BLOCKS; i += 8)
    expected_bytes += TABLE_THREADS * (guint64) (i + 1);
  nebula_system_table_totals (table, &n_blocks, &n_bytes);
  g_assert_cmpuint (n_blocks, ==, TABLE_THREADS * TABLE_BLOCKS / 8);
  g_assert_cmpuint (n_bytes, ==, expected_bytes);
  for (guint t = 0; t < TABLE_THREADS; t++)
    for (guint i = 0; i < TABLE_BLOCKS; i++)
      {
        gsize size = 0;

        g_assert_cmpint (nebula_system_table_lookup (table, table_address (t, i), &size), ==,
                         i % 8 == 0);
        if (i % 8 == 0)
          g_assert_cmpuint (size, ==, i + 1);
      }
  nebula_system_table_free (table);
}

/* What the direct path declines (a size of 0, an alignment above 16)
 * goes to the exported path, whose checks say the same: a wrong size or a
 * second free of such a block is an error, and the statistics count each
 * request once. */
static void
test_system_declined_layouts (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = nebula_system_allocator_new (&error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (sys);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  gpointer aligned, empty, plain;

  g_assert_no_error (error);
  aligned = nebula_allocator_allocate (alloc, 40, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_SIZE (aligned) % 64, ==, 0);
  empty = nebula_allocator_allocate (alloc, 0, 8, &error);
  g_assert_no_error (error);
  g_assert_nonnull (empty);
  plain = nebula_allocator_allocate (alloc, 40, 16, &error);
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_owns (alloc, aligned));
  g_assert_true (nebula_allocator_owns (alloc, plain));

  /* An aligned block freed through the direct path's size check. */
  g_assert_false (nebula_allocator_deallocate (alloc, aligned, 41, 64, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT);
  g_assert_nonnull (strstr (error->message, "allocated with 40 bytes but freed with 41"));
  g_clear_error (&error);
  g_assert_true (nebula_allocator_deallocate (alloc, aligned, 40, 64, &error));
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_deallocate (alloc, aligned, 40, 64, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_assert_nonnull (strstr (error->message, "already freed"));
  g_clear_error (&error);

  /* A block from the direct path freed with a layout it declines: the
   * System allocator does not record alignments (free() needs none), so
   * the exported path frees it, and the direct path then finds it gone. */
  g_assert_true (nebula_allocator_deallocate (alloc, plain, 40, 64, &error));
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_owns (alloc, plain));
  g_assert_false (nebula_allocator_deallocate (alloc, plain, 40, 16, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  g_assert_true (nebula_allocator_deallocate (alloc, empty, 0, 8, &error));
  g_assert_no_error (error);
  g_assert_false (nebula_allocator_deallocate (alloc, NULL, 8, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 3);
  g_assert_cmpuint (stats->deallocations, ==, 3);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/system/basic", test_system_basic);
  g_test_add_func ("/nebula/system/bad-frees", test_system_bad_frees);
  g_test_add_func ("/nebula/system/unchecked", test_system_unchecked);
  g_test_add_func ("/nebula/system/modes", test_system_modes);
  g_test_add_data_func ("/nebula/system/stats-cache", GINT_TO_POINTER (TRUE),
                        test_system_stats_cache);
  g_test_add_data_func ("/nebula/system/stats-cache-unchecked", GINT_TO_POINTER (FALSE),
                        test_system_stats_cache);
  g_test_add_func ("/nebula/system/refused-uncounted", test_system_refused_uncounted);
  g_test_add_func ("/nebula/system/out-of-memory", test_system_out_of_memory);
  g_test_add_func ("/nebula/system/table", test_system_table);
  g_test_add_func ("/nebula/system/table-contended", test_system_table_contended);
  g_test_add_func ("/nebula/system/declined-layouts", test_system_declined_layouts);
  g_test_add_func ("/nebula/system/closed-paths", test_system_closed_paths);
  g_test_add_func ("/nebula/system/threads", test_system_threads);
  g_test_add_func ("/nebula/system/double-free-race", test_system_double_free_race);

  return g_test_run ();
}
