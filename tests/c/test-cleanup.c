/* test-cleanup.c: cleanups registered on allocators
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "test-util.h"

/* Every cleanup appends its name to one log. */
static GString *cleanup_log;

static void
log_cb (gpointer data)
{
  g_string_append (cleanup_log, data);
}

static void
count_destroy_cb (gpointer data)
{
  g_string_append (cleanup_log, "~");
}

static void
setup_log (void)
{
  if (cleanup_log == NULL)
    cleanup_log = g_string_new (NULL);
  g_string_truncate (cleanup_log, 0);
}

static void
test_cleanup_reset_order (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 4, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (pool);
  guint a, b, c;

  setup_log ();
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (alloc), ==, 0);
  a = nebula_allocator_add_cleanup (alloc, log_cb, "a");
  b = nebula_allocator_add_cleanup (alloc, log_cb, "b");
  c = nebula_allocator_add_cleanup (alloc, log_cb, "c");
  g_assert_cmpuint (a, !=, 0);
  g_assert_cmpuint (a, <, b);
  g_assert_cmpuint (b, <, c);
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (alloc), ==, 3);

  nebula_allocator_reset (alloc);
  g_assert_cmpstr (cleanup_log->str, ==, "cba");
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (alloc), ==, 0);

  /* Each runs once. */
  nebula_allocator_reset (alloc);
  g_assert_cmpstr (cleanup_log->str, ==, "cba");
  g_assert_false (nebula_allocator_remove_cleanup (alloc, a));
}

typedef struct
{
  char   *name;     /* in the arena */
  guint  *seen;
} ArenaRecord;

static void
read_record_cb (gpointer data)
{
  ArenaRecord *record = data;

  /* The arena's memory is still there when the cleanup runs. */
  g_assert_cmpstr (record->name, ==, "conn-7");
  (*record->seen)++;
}

static void
test_cleanup_finalize (void)
{
  g_autoptr(GError) error = NULL;
  NebulaBumpAllocator *bump = nebula_bump_allocator_new (4096, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  ArenaRecord *record;
  guint seen = 0;

  record = nebula_allocator_new (alloc, ArenaRecord, 1, &error);
  g_assert_no_error (error);
  record->name = nebula_allocator_strdup (alloc, "conn-7", &error);
  record->seen = &seen;
  nebula_allocator_add_cleanup (alloc, read_record_cb, record);

  g_object_unref (bump);
  g_assert_cmpuint (seen, ==, 1);
}

static void
test_cleanup_remove_and_run (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaSystemAllocator) sys = nebula_system_allocator_new (&error);
  g_autoptr(NebulaSystemAllocator) other = nebula_system_allocator_new (&error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (sys);
  guint a, b, c;

  setup_log ();
  a = nebula_allocator_add_cleanup_full (alloc, log_cb, "a", count_destroy_cb);
  b = nebula_allocator_add_cleanup_full (alloc, log_cb, "b", count_destroy_cb);
  c = nebula_allocator_add_cleanup (alloc, log_cb, "c");

  /* Removed: the destroy function runs, the cleanup does not. */
  g_assert_true (nebula_allocator_remove_cleanup (alloc, b));
  g_assert_cmpstr (cleanup_log->str, ==, "~");
  g_assert_false (nebula_allocator_remove_cleanup (alloc, b));
  g_assert_false (nebula_allocator_remove_cleanup (alloc, 0));
  g_assert_false (nebula_allocator_remove_cleanup (alloc, 12345));
  g_assert_false (nebula_allocator_remove_cleanup (NEBULA_ALLOCATOR (other), c));

  /* Run now, out of order. */
  g_assert_true (nebula_allocator_run_cleanup (alloc, a));
  g_assert_cmpstr (cleanup_log->str, ==, "~a~");
  g_assert_false (nebula_allocator_run_cleanup (alloc, a));
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (alloc), ==, 1);

  nebula_allocator_reset (alloc);
  g_assert_cmpstr (cleanup_log->str, ==, "~a~c");
}

/* Cleanups that register, remove or reset while a pass runs. */
typedef struct
{
  NebulaAllocator *alloc;
  guint            victim;
} Reentrant;

static void
register_another_cb (gpointer data)
{
  Reentrant *r = data;

  g_string_append (cleanup_log, "R");
  nebula_allocator_add_cleanup (r->alloc, log_cb, "n");
}

static void
remove_victim_cb (gpointer data)
{
  Reentrant *r = data;

  g_string_append (cleanup_log, "X");
  g_assert_true (nebula_allocator_remove_cleanup (r->alloc, r->victim));
}

static void
reset_again_cb (gpointer data)
{
  Reentrant *r = data;

  g_string_append (cleanup_log, "Z");
  nebula_allocator_reset (r->alloc);
}

static void
test_cleanup_reentrant (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  Reentrant r = { alloc, 0 };

  setup_log ();
  nebula_allocator_add_cleanup (alloc, log_cb, "1");
  r.victim = nebula_allocator_add_cleanup (alloc, log_cb, "V");
  nebula_allocator_add_cleanup (alloc, remove_victim_cb, &r);
  nebula_allocator_add_cleanup (alloc, register_another_cb, &r);

  /* R registers n, which runs in the same pass, right after it; X removes
   * V before its turn. */
  nebula_allocator_reset (alloc);
  g_assert_cmpstr (cleanup_log->str, ==, "RnX1");
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (alloc), ==, 0);

  /* A cleanup that resets its own allocator: the nested pass runs the
   * rest, nothing runs twice. */
  setup_log ();
  nebula_allocator_add_cleanup (alloc, log_cb, "1");
  nebula_allocator_add_cleanup (alloc, reset_again_cb, &r);
  nebula_allocator_add_cleanup (alloc, log_cb, "3");
  nebula_allocator_reset (alloc);
  g_assert_cmpstr (cleanup_log->str, ==, "3Z1");
  g_assert_nonnull (nebula_allocator_strdup (alloc, "usable", &error));
}

static void
test_cleanup_bump_scope (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, &error);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaBumpCheckpoint) checkpoint = NULL;
  g_autoptr(NebulaBumpCheckpoint) stale = NULL;

  setup_log ();
  nebula_allocator_add_cleanup (alloc, log_cb, "outer");
  {
    NEBULA_BUMP_SCOPE (bump);
    nebula_allocator_add_cleanup (alloc, log_cb, "a");
    {
      NEBULA_BUMP_SCOPE (bump);
      nebula_allocator_add_cleanup (alloc, log_cb, "b");
    }
    g_assert_cmpstr (cleanup_log->str, ==, "b");
    nebula_allocator_add_cleanup (alloc, log_cb, "c");
  }
  g_assert_cmpstr (cleanup_log->str, ==, "bca");
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (alloc), ==, 1);

  /* A checkpoint: restoring twice runs them once. */
  checkpoint = nebula_bump_allocator_checkpoint (bump);
  nebula_allocator_add_cleanup (alloc, log_cb, "d");
  g_assert_true (nebula_bump_allocator_restore (bump, checkpoint, &error));
  g_assert_true (nebula_bump_allocator_restore (bump, checkpoint, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (cleanup_log->str, ==, "bcad");

  /* A stale checkpoint runs nothing. */
  stale = nebula_bump_allocator_checkpoint (bump);
  nebula_allocator_reset (alloc);
  g_assert_cmpstr (cleanup_log->str, ==, "bcadouter");
  nebula_allocator_add_cleanup (alloc, log_cb, "e");
  g_assert_false (nebula_bump_allocator_restore (bump, stale, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
  g_assert_cmpstr (cleanup_log->str, ==, "bcadouter");
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (alloc), ==, 1);
}

/* Cleanups that use the bump while its scope ends: the restore checks
 * again after them, so it never works on state they changed. */
static void
allocate_more_cb (gpointer data)
{
  g_assert_nonnull (nebula_allocator_allocate (data, 3000, 8, NULL));
}

static void
reset_it_cb (gpointer data)
{
  nebula_allocator_reset (data);
}

static void
test_cleanup_uses_allocator_at_restore (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  NebulaAllocator *alloc;
  NebulaBumpCheckpoint *checkpoint;
  guint64 before;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 1024, "max-capacity", (guint64) 16384, NULL);
  g_assert_no_error (error);
  alloc = NEBULA_ALLOCATOR (bump);
  g_assert_nonnull (nebula_allocator_allocate (alloc, 100, 8, &error));
  before = nebula_allocator_get_bytes_used (alloc);

  /* Allocates (into a new chunk) while the scope ends: released too. */
  checkpoint = nebula_bump_allocator_checkpoint (bump);
  nebula_allocator_add_cleanup (alloc, allocate_more_cb, alloc);
  g_assert_true (nebula_bump_allocator_restore (bump, checkpoint, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, before);
  nebula_bump_checkpoint_free (checkpoint);

  /* Resets it: the checkpoint is then stale, and the restore says so. */
  checkpoint = nebula_bump_allocator_checkpoint (bump);
  g_assert_nonnull (nebula_allocator_allocate (alloc, 500, 8, &error));
  nebula_allocator_add_cleanup (alloc, reset_it_cb, alloc);
  g_assert_false (nebula_bump_allocator_restore (bump, checkpoint, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
  g_clear_error (&error);
  nebula_bump_checkpoint_free (checkpoint);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
  g_assert_nonnull (nebula_allocator_strdup (alloc, "usable", &error));
  g_assert_no_error (error);
}

static void
test_cleanup_stack_frame (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaStackAllocator) stack = NULL;
  NebulaAllocator *alloc;

  stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                          "capacity", (guint64) 4096, "double-ended", TRUE, NULL);
  g_assert_no_error (error);
  alloc = NEBULA_ALLOCATOR (stack);

  setup_log ();
  nebula_allocator_add_cleanup (alloc, log_cb, "level");
  {
    NEBULA_STACK_FRAME (stack);
    g_assert_nonnull (nebula_allocator_printf (alloc, &error, "frame %d", 1));
    nebula_allocator_add_cleanup (alloc, log_cb, "f");
  }
  g_assert_cmpstr (cleanup_log->str, ==, "f");
  {
    g_autoptr(NebulaStackFrame) high = nebula_stack_frame_new_high (stack);
    nebula_allocator_add_cleanup (alloc, log_cb, "h");
  }
  g_assert_cmpstr (cleanup_log->str, ==, "fh");
  g_assert_cmpuint (nebula_allocator_get_n_cleanups (alloc), ==, 1);
}

static void
count_cb (gpointer data)
{
  g_atomic_int_inc ((gint *) data);
}

static gpointer
register_many_thread (gpointer data)
{
  NebulaAllocator *alloc = data;
  static gint ran;

  for (guint i = 0; i < 1000; i++)
    {
      guint handle = nebula_allocator_add_cleanup (alloc, count_cb, &ran);

      if (i % 2 == 0)
        g_assert_true (nebula_allocator_remove_cleanup (alloc, handle));
    }
  return &ran;
}

static void
test_cleanup_threads (void)
{
  g_autoptr(GError) error = NULL;
  NebulaBumpAllocator *bump = NULL;
  GThread *threads[4];
  gint *ran = NULL;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error, "thread-safe", TRUE, NULL);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("cleanups", register_many_thread, bump);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    ran = g_thread_join (threads[i]);

  g_assert_cmpuint (nebula_allocator_get_n_cleanups (NEBULA_ALLOCATOR (bump)), ==, 2000);
  g_object_unref (bump);
  g_assert_cmpint (g_atomic_int_get (ran), ==, 2000);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/cleanup/reset-order", test_cleanup_reset_order);
  g_test_add_func ("/nebula/cleanup/finalize", test_cleanup_finalize);
  g_test_add_func ("/nebula/cleanup/remove-and-run", test_cleanup_remove_and_run);
  g_test_add_func ("/nebula/cleanup/reentrant", test_cleanup_reentrant);
  g_test_add_func ("/nebula/cleanup/bump-scope", test_cleanup_bump_scope);
  g_test_add_func ("/nebula/cleanup/stack-frame", test_cleanup_stack_frame);
  g_test_add_func ("/nebula/cleanup/uses-allocator-at-restore", test_cleanup_uses_allocator_at_restore);
  g_test_add_func ("/nebula/cleanup/threads", test_cleanup_threads);

  status = g_test_run ();
  if (cleanup_log != NULL)
    g_string_free (cleanup_log, TRUE);
  return status;
}
