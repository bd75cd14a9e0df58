/* test-bump-threads.c: a thread-safe bump allocator shared by threads,
 * each bumping in its own slice (issue 14).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#if HAVE_VALGRIND
# include <valgrind.h>
#else
# define RUNNING_ON_VALGRIND 0
#endif

#include <string.h>

#include <nebula.h>

#include "nebula-bump-allocator-private.h"
#include "nebula-sanitizer-private.h"
#include "test-util.h"

#define N_THREADS 4

static NebulaBumpAllocator *
new_shared_bump (NebulaPreset        preset,
                 NebulaMemoryBudget *budget)
{
  g_autoptr(GError) error = NULL;
  NebulaBumpAllocator *bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                                              "capacity", (guint64) 4096,
                                              "max-capacity", (guint64) (64 << 20),
                                              "thread-safe", TRUE,
                                              "preset", preset,
                                              "budget", budget,
                                              NULL);

  g_assert_no_error (error);
  return bump;
}

/* Spins until *@flag is at least @value: atomics, which ThreadSanitizer
 * follows (it does not see GMutex in an uninstrumented GLib). */
static void
wait_for (gint *flag,
          gint  value)
{
  while (g_atomic_int_get (flag) < value)
    g_thread_yield ();
}

typedef struct {
  NebulaAllocator *alloc;
  guint            tag;
  guint            n;
  gboolean         debug;
  TestBlock       *blocks;     /* the live blocks, n_live of them */
  guint            n_live;
  guint64          n_allocations;
  guint64          n_deallocations;
  guint64          n_reallocations;
  guint64          bytes_live;
} Worker;

static guint8 *
worker_alloc (Worker *w,
              gsize   size,
              gsize   alignment)
{
  g_autoptr(GError) error = NULL;
  guint8 *p = nebula_allocator_allocate (w->alloc, size, alignment, &error);

  g_assert_no_error (error);
  g_assert_nonnull (p);
  g_assert_cmpuint (GPOINTER_TO_SIZE (p) % alignment, ==, 0);
  /* The DEBUG preset fills every new block. */
  if (w->debug)
    for (gsize j = 0; j < size; j++)
      g_assert_cmpuint (p[j], ==, 0xAA);
  memset (p, w->tag, size);
  w->n_allocations++;
  return p;
}

/* Allocates blocks of many sizes and alignments; now and then gives the
 * newest back (the thread's own top) or resizes it in place; checks every
 * block it keeps at the end. */
static gpointer
worker_thread (gpointer data)
{
  Worker *w = data;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < w->n; i++)
    {
      gsize size = 1 + (i * 37 + w->tag * 11) % 200;
      gsize alignment = (gsize) 1 << ((i + w->tag) % 6);
      guint8 *p = worker_alloc (w, size, alignment);

      if (i % 7 == 3)
        {
          /* The thread's own newest block goes back... */
          g_assert_true (nebula_allocator_deallocate (w->alloc, p, size, alignment, &error));
          g_assert_no_error (error);
          w->n_deallocations++;
          continue;
        }
      if (i % 11 == 5)
        {
          /* ...or grows in place (when its slice has room) or moves. */
          p = nebula_allocator_reallocate (w->alloc, p, size, size + 24, alignment, &error);
          g_assert_no_error (error);
          memset (p + size, w->tag, 24);
          size += 24;
          w->n_reallocations++;
        }
      w->blocks[w->n_live++] = (TestBlock) { p, size };
      w->bytes_live += size;
    }

  for (guint i = 0; i < w->n_live; i++)
    for (gsize j = 0; j < w->blocks[i].size; j++)
      g_assert_cmpuint (w->blocks[i].start[j], ==, w->tag);

  return NULL;
}

/* Four threads allocating at once get disjoint blocks that keep their
 * bytes, and the statistics count every request exactly. */
static void
test_patterns (gconstpointer data)
{
  NebulaPreset preset = GPOINTER_TO_INT (data);
  enum { N_ALLOCS = 20000 };
  g_autoptr(NebulaBumpAllocator) bump = new_shared_bump (preset, NULL);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  Worker workers[N_THREADS];
  GThread *threads[N_THREADS];
  TestBlock *all = g_new (TestBlock, N_THREADS * N_ALLOCS);
  guint64 allocations = 0, deallocations = 0, reallocations = 0, bytes_live = 0;
  guint n_all = 0;

  for (guint t = 0; t < N_THREADS; t++)
    {
      workers[t] = (Worker) { NEBULA_ALLOCATOR (bump), t + 1, N_ALLOCS,
                              preset == NEBULA_PRESET_DEBUG, g_new (TestBlock, N_ALLOCS) };
      threads[t] = g_thread_new ("bump", worker_thread, &workers[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    {
      g_thread_join (threads[t]);
      for (guint i = 0; i < workers[t].n_live; i++)
        all[n_all++] = workers[t].blocks[i];
      allocations += workers[t].n_allocations;
      deallocations += workers[t].n_deallocations;
      reallocations += workers[t].n_reallocations;
      bytes_live += workers[t].bytes_live;
    }
  test_assert_blocks_disjoint (all, n_all, 0);

  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (bump));
  g_assert_cmpuint (stats->allocations, ==, allocations);
  g_assert_cmpuint (stats->deallocations, ==, deallocations);
  g_assert_cmpuint (stats->reallocations, ==, reallocations);
  g_assert_cmpuint (stats->bytes_in_use, ==, bytes_live);

  /* Bytes used: every live block (and padding, and the ends of slices a
   * thread left behind), never more than the chunks. */
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump)), >=, bytes_live);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump)), <=,
                    test_reserved_of (bump));

  nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump)), ==, 0);

  for (guint t = 0; t < N_THREADS; t++)
    g_free (workers[t].blocks);
  g_free (all);
}

typedef struct {
  NebulaAllocator *alloc;
  guint8          *blocks[3];
  gint             allocated;   /* set once the blocks are there */
  gint             go;          /* set to let the thread exit */
} Holder;

/* Takes a slice with three blocks in it, then waits until told to exit. */
static gpointer
holder_thread (gpointer data)
{
  Holder *h = data;

  for (guint i = 0; i < 3; i++)
    {
      h->blocks[i] = nebula_allocator_allocate (h->alloc, 40, 8, NULL);
      g_assert_nonnull (h->blocks[i]);
      memset (h->blocks[i], 0x30 + i, 40);
    }
  g_atomic_int_set (&h->allocated, 1);
  wait_for (&h->go, 1);

  return NULL;
}

static void
assert_holder_blocks (const Holder *h)
{
  for (guint i = 0; i < 3; i++)
    for (guint j = 0; j < 40; j++)
      g_assert_cmpuint (h->blocks[i][j], ==, 0x30 + i);
}

/* A thread exits holding a slice: its blocks stay, the unused end of its
 * slice goes back (it is the newest), and bytes-used is exact. */
static void
test_exit_holding_slice (void)
{
  NebulaBumpAllocator *bump = new_shared_bump (NEBULA_PRESET_DEFAULT, NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  Holder h = { alloc };
  GThread *thread;
  guint8 *mine;

  thread = g_thread_new ("holder", holder_thread, &h);
  wait_for (&h.allocated, 1);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 3 * test_bump_span (40));
  g_atomic_int_set (&h.go, 1);
  g_thread_join (thread);

  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 3 * test_bump_span (40));
  /* The end of the slice came back: the next block follows the last. */
  mine = nebula_allocator_allocate (alloc, 40, 8, NULL);
  g_assert_true (mine == h.blocks[2] + test_bump_span (40));
  memset (mine, 0x77, 40);
  assert_holder_blocks (&h);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 4 * test_bump_span (40));

  nebula_allocator_reset (alloc);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
  g_assert_nonnull (nebula_allocator_allocate (alloc, 40, 8, NULL));
  g_object_unref (bump);
}

/* Two threads hold slices; the older one's cannot go back when its thread
 * exits (a slice follows it): the allocator keeps its record, so that
 * bytes-used stays exact, until a reset or finalization frees it. */
static void
test_exit_slice_not_on_top (gconstpointer data)
{
  gboolean reset_first = GPOINTER_TO_INT (data);
  NebulaBumpAllocator *bump = new_shared_bump (NEBULA_PRESET_DEFAULT, NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  Holder a = { alloc }, b = { alloc };
  GThread *thread_a, *thread_b;

  thread_a = g_thread_new ("holder-a", holder_thread, &a);
  wait_for (&a.allocated, 1);
  thread_b = g_thread_new ("holder-b", holder_thread, &b);
  wait_for (&b.allocated, 1);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 6 * test_bump_span (40));

  /* a exits first: b's slice lies after its own. */
  g_atomic_int_set (&a.go, 1);
  g_thread_join (thread_a);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 6 * test_bump_span (40));
  g_atomic_int_set (&b.go, 1);
  g_thread_join (thread_b);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 6 * test_bump_span (40));

  /* A foreign free of a's unused end is refused; its blocks are owned. */
  g_assert_true (nebula_allocator_owns (alloc, a.blocks[2]));
  g_assert_false (nebula_allocator_owns (alloc, a.blocks[2] + test_bump_span (40)));
  assert_holder_blocks (&a);
  assert_holder_blocks (&b);

  if (reset_first)
    {
      nebula_allocator_reset (alloc);
      g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
    }
  /* Finalization frees the kept record (Valgrind checks it). */
  g_object_unref (bump);
}

typedef struct {
  NebulaAllocator *alloc;
  guint8          *first, *second;
  gint             step;      /* 1: first allocated; 2: reset done; 3: second allocated */
} Survivor;

static gpointer
survivor_thread (gpointer data)
{
  Survivor *s = data;

  s->first = nebula_allocator_allocate (s->alloc, 64, 8, NULL);
  memset (s->first, 0x11, 64);
  g_atomic_int_set (&s->step, 1);
  wait_for (&s->step, 2);
  s->second = nebula_allocator_allocate (s->alloc, 64, 8, NULL);
  memset (s->second, 0x22, 64);
  g_atomic_int_set (&s->step, 3);

  return NULL;
}

/* A reset while another thread holds a slice (and does not allocate: the
 * quiescence rule) voids the slice: the thread's next allocation takes a
 * new one, which no other thread's block overlaps. */
static void
test_reset_voids_slices (void)
{
  g_autoptr(NebulaBumpAllocator) bump = new_shared_bump (NEBULA_PRESET_DEFAULT, NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  Survivor s = { alloc };
  GThread *thread;
  guint8 *mine;

  thread = g_thread_new ("survivor", survivor_thread, &s);
  wait_for (&s.step, 1);
  nebula_allocator_reset (alloc);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
  g_atomic_int_set (&s.step, 2);
  wait_for (&s.step, 3);

  /* The chunk starts over: the thread's new block is where its first was. */
  g_assert_true (s.second == s.first);
  mine = nebula_allocator_allocate (alloc, 64, 8, NULL);
  memset (mine, 0x33, 64);
  g_assert_true (mine >= s.second + 64 || mine + 64 <= s.second);
  for (guint i = 0; i < 64; i++)
    g_assert_cmpuint (s.second[i], ==, 0x22);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 2 * test_bump_span (64));
  g_thread_join (thread);
}

/* A checkpoint while another thread holds a slice voids it (the thread's
 * allocations test only its slice's limit, which the checkpoint clears):
 * the thread's next block lies above the checkpoint, and a restore
 * releases it. The thread's first block, in the voided slice, stays. */
static void
test_checkpoint_voids_held_slice (void)
{
  g_autoptr(NebulaBumpAllocator) bump = new_shared_bump (NEBULA_PRESET_DEFAULT, NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaBumpCheckpoint) checkpoint = NULL;
  g_autoptr(GError) error = NULL;
  Survivor s = { alloc };
  GThread *thread;
  guint64 used;

  thread = g_thread_new ("survivor", survivor_thread, &s);
  wait_for (&s.step, 1);
  checkpoint = nebula_bump_allocator_checkpoint (bump);
  used = nebula_allocator_get_bytes_used (alloc);
  g_atomic_int_set (&s.step, 2);
  wait_for (&s.step, 3);
  g_thread_join (thread);

  /* Not in the rest of the first slice, which the checkpoint counts. */
  g_assert_true (s.second != s.first + test_bump_span (64));
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), >, used);
  g_assert_true (nebula_bump_allocator_restore (bump, checkpoint, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);
  for (guint i = 0; i < 64; i++)
    g_assert_cmpuint (s.first[i], ==, 0x11);
}

typedef struct {
  NebulaAllocator *alloc;
  guint            n;
} Filler;

static gpointer
filler_thread (gpointer data)
{
  Filler *f = data;

  for (guint i = 0; i < f->n; i++)
    {
      guint8 *p = nebula_allocator_allocate (f->alloc, 1 + i % 300, 8, NULL);

      g_assert_nonnull (p);
      p[0] = (guint8) i;
    }
  return NULL;
}

static void
run_fillers (NebulaAllocator *alloc,
             guint            n)
{
  Filler f = { alloc, n };
  GThread *threads[N_THREADS];

  for (guint t = 0; t < N_THREADS; t++)
    threads[t] = g_thread_new ("filler", filler_thread, &f);
  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);
}

/* A checkpoint before threads allocate and a restore after they are done
 * release everything they allocated, with the statistics. */
static void
test_checkpoint_across_threads (void)
{
  g_autoptr(NebulaBumpAllocator) bump = new_shared_bump (NEBULA_PRESET_DEFAULT, NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaBumpCheckpoint) checkpoint = NULL;
  g_autoptr(NebulaAllocatorStats) before = NULL;
  g_autoptr(NebulaAllocatorStats) after = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *below;
  guint64 used;

  below = nebula_allocator_allocate (alloc, 100, 8, &error);
  memset (below, 0x5a, 100);
  checkpoint = nebula_bump_allocator_checkpoint (bump);
  used = nebula_allocator_get_bytes_used (alloc);
  g_assert_cmpuint (used, ==, test_bump_span (100));
  before = nebula_allocator_get_stats (alloc);

  run_fillers (alloc, 5000);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), >, used);

  g_assert_true (nebula_bump_allocator_restore (bump, checkpoint, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);
  after = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (after->bytes_in_use, ==, before->bytes_in_use);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpuint (below[i], ==, 0x5a);

  /* The threads' slices were voided: new threads, and this one, start
   * above the checkpoint again. */
  run_fillers (alloc, 1000);
  g_assert_true (nebula_bump_allocator_restore (bump, checkpoint, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, used);
}

/* A chunk is charged to the budget once, when the allocator takes it, not
 * once per thread that takes a slice of it. */
static void
test_budget_charged_once (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("threads", 0);
  NebulaBumpAllocator *bump = new_shared_bump (NEBULA_PRESET_DEFAULT, budget);

  run_fillers (NEBULA_ALLOCATOR (bump), 5000);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, test_reserved_of (bump));
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), <=, 64 << 20);

  g_object_unref (bump);
  g_assert_cmpuint (nebula_memory_budget_get_used (budget), ==, 0);
}

/* A thread-safe allocator that cannot grow: the threads share its one
 * chunk and, once it is full, get EXHAUSTED; nothing overlaps. */
static void
test_exhausted_shared (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                                                        "capacity", (guint64) 8192,
                                                        "thread-safe", TRUE,
                                                        NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  guint64 total = 0;
  guint8 *p;

  g_assert_no_error (error);
  run_fillers (alloc, 10);
  while ((p = nebula_allocator_allocate (alloc, 64, 8, &error)) != NULL)
    total += 64;
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED);
  g_assert_cmpuint (total, >, 0);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), <=, 8192);
}

typedef struct {
  NebulaBumpAllocator *bump;
  gint                 inside;   /* set once the allocation is in progress */
  GError              *error;
  gpointer             block;
} Intruder;

/* Stands for an allocation in progress on another thread: enters the
 * DEBUG preset's check and stays until the reset waits for it. */
static gpointer
in_progress_thread (gpointer data)
{
  Intruder *in = data;

  g_assert_true (nebula_bump_thread_enter (in->bump, NULL));
  g_atomic_int_set (&in->inside, 1);
  while (!g_atomic_int_get (&in->bump->quiesce_waiting))
    g_thread_yield ();
  nebula_bump_thread_leave (in->bump);

  return NULL;
}

static gpointer
allocating_thread (gpointer data)
{
  Intruder *in = data;

  in->block = nebula_allocator_allocate (NEBULA_ALLOCATOR (in->bump), 64, 8, &in->error);
  return NULL;
}

/* The DEBUG preset checks the quiescence rule: a reset that meets an
 * allocation in progress says so and waits for it; an allocation that
 * meets a reset or restore in progress fails with an error that names the
 * rule, and the allocator stays usable. */
static void
test_debug_detects_reset_while_allocating (void)
{
  g_autoptr(NebulaBumpAllocator) bump = new_shared_bump (NEBULA_PRESET_DEBUG, NULL);
  g_autoptr(NebulaBumpAllocator) plain = new_shared_bump (NEBULA_PRESET_DEFAULT, NULL);
  Intruder in = { bump };
  GThread *thread;

  g_assert_true (bump->check_quiescence);
  g_assert_false (plain->check_quiescence);
  g_assert_nonnull (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 64, 8, NULL));

  /* A reset meets an allocation in progress. */
  thread = g_thread_new ("in-progress", in_progress_thread, &in);
  wait_for (&in.inside, 1);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
                         "*reset while another thread allocates*");
  nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
  g_test_assert_expected_messages ();
  g_thread_join (thread);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump)), ==, 0);

  /* An allocation meets a reset in progress (standing for one). */
  nebula_bump_thread_quiesce_begin (bump, "reset");
  thread = g_thread_new ("allocating", allocating_thread, &in);
  g_thread_join (thread);
  nebula_bump_thread_quiesce_end (bump);
  g_assert_null (in.block);
  g_assert_error (in.error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_FAILED);
  g_assert_nonnull (strstr (in.error->message, "resets or restores"));
  g_clear_error (&in.error);

  /* Still usable, from any thread. */
  thread = g_thread_new ("allocating", allocating_thread, &in);
  g_thread_join (thread);
  g_assert_no_error (in.error);
  g_assert_nonnull (in.block);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump)), ==,
                    test_bump_span (64));
}

/* Found by fuzz-bump: a restore that fails (here: a checkpoint of another
 * allocator) gives back the unused end of the calling thread's slice, and
 * must leave its newest block the top, which a free then gives back once. */
static void
test_failed_restore_keeps_top (void)
{
  g_autoptr(NebulaBumpAllocator) bump = new_shared_bump (NEBULA_PRESET_DEFAULT, NULL);
  g_autoptr(NebulaBumpAllocator) other = new_shared_bump (NEBULA_PRESET_DEFAULT, NULL);
  g_autoptr(NebulaBumpCheckpoint) foreign = nebula_bump_allocator_checkpoint (other);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(GError) error = NULL;
  guint8 *top;

  g_assert_nonnull (nebula_allocator_allocate (alloc, 32, 8, &error));
  top = nebula_allocator_allocate (alloc, 32, 8, &error);
  g_assert_no_error (error);

  g_assert_false (nebula_bump_allocator_restore (bump, foreign, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
  g_clear_error (&error);

  g_assert_true (nebula_allocator_deallocate (alloc, top, 32, 8, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, test_bump_span (32));
  g_assert_false (nebula_allocator_deallocate (alloc, top, 32, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
  g_clear_error (&error);
  g_assert_true (nebula_allocator_allocate (alloc, 32, 8, &error) == top);
}

static void
reset_cb (NebulaMemoryBudget *budget,
          guint64             used,
          gpointer            data)
{
  nebula_allocator_reset (data);
  g_object_set_data (G_OBJECT (budget), "called", GINT_TO_POINTER (1));
}

/* The DEBUG check does not hold a budget's signal handler inside the
 * allocation that emitted it: a handler that resets the allocator runs
 * once the allocation has left (it would otherwise wait for itself). */
static void
test_debug_reset_from_budget_signal (void)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("debug", 1 << 20);
  g_autoptr(NebulaBumpAllocator) bump = new_shared_bump (NEBULA_PRESET_DEBUG, budget);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(GError) error = NULL;

  nebula_memory_budget_set_soft_limit (budget, 6000);
  g_signal_connect (budget, "soft-limit-exceeded", G_CALLBACK (reset_cb), bump);

  /* The first chunk is 4096 bytes (requests up to 2048 bytes are not
   * large): growth by a chunk of 8192 crosses the soft limit. */
  g_assert_nonnull (nebula_allocator_allocate (alloc, 2000, 8, &error));
  g_assert_nonnull (nebula_allocator_allocate (alloc, 2000, 8, &error));
  g_assert_null (g_object_get_data (G_OBJECT (budget), "called"));
  g_assert_nonnull (nebula_allocator_allocate (alloc, 1000, 8, &error));
  g_assert_no_error (error);
  g_assert_true (g_object_get_data (G_OBJECT (budget), "called") != NULL);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);
  g_assert_nonnull (nebula_allocator_allocate (alloc, 100, 8, &error));
  g_assert_no_error (error);
}

/* The direct path comes in four variants, one per configuration of the
 * statistics and of min-alloc-size (nebula-bump-thread.c): each places
 * a thread's blocks exactly where a single-threaded allocator of the same
 * configuration places them (one thread alone packs its slices, three of
 * them here), and counts exactly what the exported path would. (The
 * memory tools close the direct path and end each slice with a shorter
 * redzone: there only the statistics are compared.) */
static void
test_direct_variants (void)
{
  gboolean same_places = !nebula_memory_tools_watching ();

  for (guint v = 0; v < 4; v++)
    {
      gboolean counted = (v & 1) != 0;
      guint64 min_alloc = (v & 2) != 0 ? 8 : 1;
      g_autoptr(GError) error = NULL;
      g_autoptr(NebulaBumpAllocator) shared = NULL;
      g_autoptr(NebulaBumpAllocator) plain = NULL;
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      guint8 *a0, *b0;
      guint64 bytes = 16;
      guint32 state = 5 + v;

      shared = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                               "capacity", (guint64) 1 << 20, "thread-safe", TRUE,
                               "track-stats", counted, "min-alloc-size", min_alloc, NULL);
      g_assert_no_error (error);
      plain = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                              "capacity", (guint64) 1 << 20, "track-stats", counted,
                              "min-alloc-size", min_alloc, NULL);
      g_assert_no_error (error);
      /* Chunks start 16-byte aligned: positions are compared from here. */
      a0 = nebula_allocator_allocate (NEBULA_ALLOCATOR (shared), 16, 16, &error);
      b0 = nebula_allocator_allocate (NEBULA_ALLOCATOR (plain), 16, 16, &error);
      g_assert_no_error (error);

      for (guint i = 0; i < 2000; i++)
        {
          gsize size = 1 + (state = state * 1103515245 + 12345) % 40;
          gsize alignment = (gsize) 1 << ((state = state * 1103515245 + 12345) >> 16) % 6;
          guint8 *a = nebula_allocator_allocate (NEBULA_ALLOCATOR (shared), size, alignment,
                                                 &error);
          guint8 *b = nebula_allocator_allocate (NEBULA_ALLOCATOR (plain), size, alignment,
                                                 &error);

          g_assert_no_error (error);
          g_assert_nonnull (a);
          g_assert_nonnull (b);
          g_assert_cmpuint ((guintptr) a % alignment, ==, 0);
          if (same_places)
            g_assert_cmpuint (a - a0, ==, b - b0);
          bytes += size;
        }

      stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (shared));
      g_assert_cmpuint (stats->allocations, ==, counted ? 2001 : 0);
      g_assert_cmpuint (stats->bytes_in_use, ==, counted ? bytes : 0);
      /* The statistics, and bytes-used. */
      if (same_places)
        test_assert_stats_equal (shared, plain);
    }
}

/* More threads alive at once than the statistics have slots (1024): a
 * thread beyond them takes the exported path, which bumps in its own
 * slice like any other and counts into the overflow shard; it must not
 * take a new slice for each request (review: bytes-used grew by five
 * times what was asked). */
#define N_HOLDERS 1100

static gint holders_ready, holders_release;

static gpointer
hold_slot_cb (gpointer data)
{
  /* One counted request claims the thread a statistics slot. */
  g_assert_nonnull (nebula_allocator_allocate (data, 8, 8, NULL));
  g_atomic_int_inc (&holders_ready);
  while (!g_atomic_int_get (&holders_release))
    g_usleep (20000);
  return NULL;
}

static gpointer
allocate_many_cb (gpointer data)
{
  for (guint i = 0; i < 20000; i++)
    g_assert_nonnull (nebula_allocator_allocate (data, 16, 8, NULL));
  return NULL;
}

static void
test_past_the_last_slot (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                                                        "capacity", (guint64) 1 << 20,
                                                        "max-capacity", (guint64) 1 << 30,
                                                        "thread-safe", TRUE,
                                                        NULL);
  NebulaAllocator *alloc = NEBULA_ALLOCATOR (bump);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  GThread *holders[N_HOLDERS], *workers[2];
  guint64 before;

  g_assert_no_error (error);
  if (RUNNING_ON_VALGRIND)
    {
      /* Valgrind runs at most 500 threads by default. */
      g_test_skip ("more threads than Valgrind runs");
      return;
    }

  g_atomic_int_set (&holders_ready, 0);
  g_atomic_int_set (&holders_release, 0);
  for (guint i = 0; i < N_HOLDERS; i++)
    holders[i] = g_thread_new ("holder", hold_slot_cb, alloc);
  while (g_atomic_int_get (&holders_ready) < N_HOLDERS)
    g_usleep (1000);

  /* Two of them, so that each takes slices between the other's. */
  before = nebula_allocator_get_bytes_used (alloc);
  workers[0] = g_thread_new ("past-the-slots", allocate_many_cb, alloc);
  workers[1] = g_thread_new ("past-the-slots", allocate_many_cb, alloc);
  g_thread_join (workers[0]);
  g_thread_join (workers[1]);
  /* Memory tools pad each block (and close the direct path): there the
   * statistics below are what is exact. */
  if (!nebula_memory_tools_watching ())
    g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc) - before, ==, 2 * 20000 * 16);

  g_atomic_int_set (&holders_release, 1);
  for (guint i = 0; i < N_HOLDERS; i++)
    g_thread_join (holders[i]);

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, N_HOLDERS + 2 * 20000);
  g_assert_cmpuint (stats->bytes_in_use, ==, N_HOLDERS * 8 + 2 * 20000 * 16);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/nebula/bump-threads/patterns", GINT_TO_POINTER (NEBULA_PRESET_DEFAULT),
                        test_patterns);
  g_test_add_data_func ("/nebula/bump-threads/patterns/debug",
                        GINT_TO_POINTER (NEBULA_PRESET_DEBUG), test_patterns);
  g_test_add_func ("/nebula/bump-threads/exit-holding-slice", test_exit_holding_slice);
  g_test_add_data_func ("/nebula/bump-threads/exit-slice-not-on-top/finalize",
                        GINT_TO_POINTER (FALSE), test_exit_slice_not_on_top);
  g_test_add_data_func ("/nebula/bump-threads/exit-slice-not-on-top/reset",
                        GINT_TO_POINTER (TRUE), test_exit_slice_not_on_top);
  g_test_add_func ("/nebula/bump-threads/reset-voids-slices", test_reset_voids_slices);
  g_test_add_func ("/nebula/bump-threads/checkpoint", test_checkpoint_across_threads);
  g_test_add_func ("/nebula/bump-threads/checkpoint-voids-held-slice",
                   test_checkpoint_voids_held_slice);
  g_test_add_func ("/nebula/bump-threads/budget-charged-once", test_budget_charged_once);
  g_test_add_func ("/nebula/bump-threads/exhausted", test_exhausted_shared);
  g_test_add_func ("/nebula/bump-threads/debug-detects-reset-while-allocating",
                   test_debug_detects_reset_while_allocating);
  g_test_add_func ("/nebula/bump-threads/failed-restore-keeps-top",
                   test_failed_restore_keeps_top);
  g_test_add_func ("/nebula/bump-threads/debug-reset-from-budget-signal",
                   test_debug_reset_from_budget_signal);
  g_test_add_func ("/nebula/bump-threads/direct-variants", test_direct_variants);
  g_test_add_func ("/nebula/bump-threads/past-the-last-slot", test_past_the_last_slot);

  return g_test_run ();
}
