/* test-stack-frame.c: releasing a stack frame, in every preset: the
 * blocks it releases and their statistics, damaged headers inside and
 * outside the frame (found by the walk of the DEBUG preset and of a
 * double-ended stack; the other presets rewind without reading them),
 * markers that went stale in each way the walk can see and in each way
 * the rewind must notice, and frames that span chunks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

#include "test-util.h"

#define HEADER TEST_STACK_HEADER

static const NebulaPreset presets[] = {
  NEBULA_PRESET_DEFAULT, NEBULA_PRESET_DEBUG, NEBULA_PRESET_PRODUCTION, NEBULA_PRESET_PERFORMANCE,
};

static NebulaStackAllocator *
new_stack (NebulaPreset preset,
           guint64      capacity,
           guint64      max_capacity)
{
  g_autoptr(GError) error = NULL;
  NebulaStackAllocator *stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                                                "capacity", capacity,
                                                "max-capacity", max_capacity,
                                                "preset", preset, NULL);

  g_assert_no_error (error);
  return stack;
}

static guint64
used (NebulaStackAllocator *stack)
{
  return nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (stack));
}

static gboolean
tracks_stats (NebulaStackAllocator *stack)
{
  gboolean track = FALSE;

  g_object_get (stack, "track-stats", &track, NULL);
  return track;
}

static guint8 *
push (NebulaStackAllocator *stack,
      gsize                 size,
      gsize                 alignment)
{
  g_autoptr(GError) error = NULL;
  guint8 *p = nebula_stack_allocator_alloc (stack, size, alignment, &error);

  g_assert_no_error (error);
  g_assert_nonnull (p);
  return p;
}

/* Damages @block's header with @byte, keeping the intact one in @saved. */
static void
damage_header (guint8 *block,
               guint8  saved[HEADER],
               guint8  byte)
{
  guint8 damaged[HEADER];

  test_stack_read_header (block, saved);
  memset (damaged, byte, HEADER);
  test_stack_write_header (block, damaged);
}

static void
assert_release_fails (NebulaStackAllocator    *stack,
                      const NebulaStackMarker *marker,
                      gint                     code)
{
  g_autoptr(GError) error = NULL;
  guint64 before = used (stack);

  g_assert_false (nebula_stack_allocator_release_to_marker (stack, marker, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, code);
  g_assert_cmpuint (used (stack), ==, before);
}

static void
assert_release (NebulaStackAllocator    *stack,
                const NebulaStackMarker *marker)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (nebula_stack_allocator_release_to_marker (stack, marker, &error));
  g_assert_no_error (error);
}

/* A frame's blocks of every size and alignment go at once, each counted
 * as a deallocation of its size; what lies below the frame stays. */
static void
test_frame_release_counts (void)
{
  static const gsize sizes[] = { 1, 8, 17, 32, 100, 513, 2048, 3 };
  static const gsize alignments[] = { 1, 8, 16, 64, 8, 32, 8, 128 };

  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_autoptr(NebulaStackAllocator) stack = new_stack (presets[i], 16384, 16384);
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      guint8 *below = push (stack, 40, 8);
      guint64 base = used (stack);
      NebulaStackFrame *frame = nebula_stack_frame_new (stack);
      guint64 allocations, deallocations;

      for (guint round = 0; round < 3; round++)
        for (guint j = 0; j < G_N_ELEMENTS (sizes); j++)
          {
            guint8 *p = push (stack, sizes[j], alignments[j]);

            g_assert_cmpuint (GPOINTER_TO_SIZE (p) % alignments[j], ==, 0);
            memset (p, 0x5a, sizes[j]);
          }
      g_assert_cmpuint (used (stack), >, base);

      nebula_stack_frame_free (frame);
      g_assert_cmpuint (used (stack), ==, base);
      /* The block below the frame is the top again, intact. */
      g_assert_true (nebula_stack_allocator_free (stack, below, 40, 8, NULL));
      g_assert_cmpuint (used (stack), ==, 0);

      stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (stack));
      allocations = tracks_stats (stack) ? 1 + 3 * G_N_ELEMENTS (sizes) : 0;
      deallocations = allocations;
      g_assert_cmpuint (stats->allocations, ==, allocations);
      g_assert_cmpuint (stats->deallocations, ==, deallocations);
      g_assert_cmpuint (stats->bytes_in_use, ==, 0);
    }
}

/* With the DEBUG preset, and on a double-ended stack, a damaged header
 * anywhere in the frame fails the release with CORRUPTION and changes
 * nothing. The other presets rewind to the marker without reading the
 * frame's headers: the release succeeds, and the blocks pushed again
 * land where they were. A damaged header below the marker is not the
 * frame's, and no release reads it. */
static void
check_release_damaged (NebulaStackAllocator *stack,
                       gboolean              walks)
{
  g_autoptr(NebulaStackMarker) marker = NULL;
  guint8 saved[HEADER];
  guint8 *below, *blocks[4];
  guint64 base;

  below = push (stack, 48, 8);
  marker = nebula_stack_allocator_mark (stack);
  base = used (stack);
  for (guint j = 0; j < G_N_ELEMENTS (blocks); j++)
    blocks[j] = push (stack, 24 + 40 * j, 8);

  for (guint j = 0; j < G_N_ELEMENTS (blocks); j++)
    for (guint byte = 0; byte < 2; byte++)
      {
        damage_header (blocks[j], saved, byte == 0 ? 0x00 : 0xa5);
        if (walks)
          {
            assert_release_fails (stack, marker, NEBULA_ALLOCATOR_ERROR_CORRUPTION);
            test_stack_write_header (blocks[j], saved);
            continue;
          }

        assert_release (stack, marker);
        g_assert_cmpuint (used (stack), ==, base);
        for (guint k = 0; k < G_N_ELEMENTS (blocks); k++)
          g_assert_true (push (stack, 24 + 40 * k, 8) == blocks[k]);
      }

  /* Nothing changed: the top still pops, and the rest releases. */
  g_assert_true (nebula_stack_allocator_free (stack, blocks[3], 24 + 40 * 3, 8, NULL));
  damage_header (below, saved, 0xff);
  assert_release (stack, marker);
  g_assert_cmpuint (used (stack), ==, HEADER + 48);
  test_stack_write_header (below, saved);
  g_assert_true (nebula_stack_allocator_free (stack, below, 48, 8, NULL));
  g_assert_cmpuint (used (stack), ==, 0);
}

static void
test_frame_release_damaged (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaStackAllocator) double_ended = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_autoptr(NebulaStackAllocator) stack = new_stack (presets[i], 4096, 4096);

      check_release_damaged (stack, presets[i] == NEBULA_PRESET_DEBUG);
    }

  double_ended = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                                 "capacity", (guint64) 4096, "double-ended", TRUE, NULL);
  g_assert_no_error (error);
  check_release_damaged (double_ended, TRUE);
}

/* A marker whose top block was popped and pushed again with another size
 * (the same start, so the walk meets the marked block at another end),
 * and one above a top that shrank: both are stale, and nothing changes. */
static void
test_frame_release_stale (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_autoptr(NebulaStackAllocator) stack = new_stack (presets[i], 4096, 4096);
      g_autoptr(NebulaStackMarker) marker = NULL;
      guint8 *x, *y;

      push (stack, 16, 8);
      x = push (stack, 64, 8);
      marker = nebula_stack_allocator_mark (stack);
      push (stack, 32, 8);
      assert_release (stack, marker);

      /* Grown again, larger, from the same start. */
      g_assert_true (nebula_stack_allocator_free (stack, x, 64, 8, NULL));
      y = push (stack, 128, 8);
      g_assert_true (y == x);
      push (stack, 8, 8);
      assert_release_fails (stack, marker, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);

      /* Smaller: the top now lies below the marker. */
      nebula_allocator_reset (NEBULA_ALLOCATOR (stack));
      g_clear_pointer (&marker, nebula_stack_marker_free);
      push (stack, 16, 8);
      x = push (stack, 64, 8);
      marker = nebula_stack_allocator_mark (stack);
      g_assert_true (nebula_stack_allocator_free (stack, x, 64, 8, NULL));
      g_assert_true (push (stack, 8, 8) == x);
      assert_release_fails (stack, marker, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);

      /* Back to exactly the marked state, the marker holds again. */
      g_assert_true (nebula_stack_allocator_free (stack, x, 8, 8, NULL));
      g_assert_true (push (stack, 64, 8) == x);
      push (stack, 200, 16);
      assert_release (stack, marker);
    }
}

/* Pushes 64 bytes and takes a new @marker above them. */
static guint8 *
push_and_mark (NebulaStackAllocator  *stack,
               NebulaStackMarker    **marker)
{
  guint8 *p = push (stack, 64, 8);

  g_clear_pointer (marker, nebula_stack_marker_free);
  *marker = nebula_stack_allocator_mark (stack);
  return p;
}

/* Resizes the top block @p in place. */
static void
resize (NebulaStackAllocator *stack,
        guint8               *p,
        gsize                 old_size,
        gsize                 new_size)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (nebula_allocator_reallocate (NEBULA_ALLOCATOR (stack), p, old_size, new_size,
                                              8, &error) == p);
  g_assert_no_error (error);
}

/* What the rewind of the default preset must notice, with the same
 * answers as the walk of the DEBUG preset: nested markers released out of
 * order and twice, the marked top block resized (in place, so that the
 * walk would meet it at another end), popped and pushed again with the
 * same size (the walk finds the marked state again), and statistics
 * zeroed between the mark and the release. */
static void
test_frame_release_nested (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_autoptr(NebulaStackAllocator) stack = new_stack (presets[i], 4096, 4096);
      NebulaAllocator *alloc = NEBULA_ALLOCATOR (stack);
      g_autoptr(NebulaStackMarker) outer = NULL;
      g_autoptr(NebulaStackMarker) inner = NULL;
      g_autoptr(NebulaStackMarker) copy = NULL;
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      guint64 empty, base;
      guint8 *x, *y;

      empty = used (stack);
      outer = nebula_stack_allocator_mark (stack);
      x = push (stack, 64, 8);
      base = used (stack);
      inner = nebula_stack_allocator_mark (stack);
      copy = nebula_stack_marker_copy (inner);
      push (stack, 32, 8);
      push (stack, 16, 16);

      /* Inner, inner again (and its copy), then outer; inner is stale now. */
      assert_release (stack, inner);
      g_assert_cmpuint (used (stack), ==, base);
      assert_release (stack, copy);
      push (stack, 100, 8);
      assert_release (stack, inner);
      g_assert_cmpuint (used (stack), ==, base);
      assert_release (stack, outer);
      g_assert_cmpuint (used (stack), ==, empty);
      assert_release_fails (stack, inner, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
      assert_release (stack, outer);

      /* The marked top resized in place: the frame above it no longer
       * starts where the marker says. */
      x = push_and_mark (stack, &inner);
      resize (stack, x, 64, 96);
      push (stack, 8, 8);
      assert_release_fails (stack, inner, NEBULA_ALLOCATOR_ERROR_STALE_MARKER);
      /* Back to its size, the walk finds the marked state again. */
      assert_release (stack, outer);
      x = push_and_mark (stack, &inner);
      resize (stack, x, 64, 96);
      resize (stack, x, 96, 64);
      push (stack, 8, 8);
      assert_release (stack, inner);
      g_assert_cmpuint (used (stack), ==, base);

      /* Popped and pushed again with the same size: the same state. */
      g_assert_true (nebula_stack_allocator_free (stack, x, 64, 8, NULL));
      g_assert_true (push (stack, 64, 8) == x);
      push (stack, 40, 8);
      assert_release (stack, inner);
      g_assert_cmpuint (used (stack), ==, base);

      /* Statistics zeroed inside the frame: each block released counts. */
      g_clear_pointer (&inner, nebula_stack_marker_free);
      inner = nebula_stack_allocator_mark (stack);
      push (stack, 10, 8);
      nebula_allocator_reset_stats (alloc);
      push (stack, 20, 8);
      push (stack, 30, 8);
      assert_release (stack, inner);
      y = push (stack, 5, 8);
      g_assert_true (nebula_stack_allocator_free (stack, y, 5, 8, NULL));
      stats = nebula_allocator_get_stats (alloc);
      if (tracks_stats (stack))
        {
          g_assert_cmpuint (stats->allocations, ==, 3);
          g_assert_cmpuint (stats->deallocations, ==, 4);
        }
      g_assert_cmpuint (stats->bytes_in_use, ==, tracks_stats (stack) ? 64 : 0);
      assert_release (stack, outer);
      g_clear_pointer (&stats, nebula_allocator_stats_free);
      stats = nebula_allocator_get_stats (alloc);
      g_assert_cmpuint (stats->bytes_in_use, ==, 0);
      g_assert_cmpuint (used (stack), ==, empty);
    }
}

/* A frame opened on an empty stack, or in a chunk below the current one,
 * releases every chunk it grew into. */
static void
test_frame_release_chunks (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_autoptr(NebulaStackAllocator) stack = new_stack (presets[i], 512, 16384);
      g_autoptr(NebulaStackMarker) empty = nebula_stack_allocator_mark (stack);
      g_autoptr(NebulaStackMarker) marker = NULL;
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      guint8 saved[HEADER];
      guint8 *first, *p = NULL;
      guint64 base;

      first = push (stack, 100, 8);
      marker = nebula_stack_allocator_mark (stack);
      base = used (stack);
      for (guint j = 0; j < 30; j++)
        p = push (stack, 100, 8);
      g_assert_cmpuint (nebula_stack_allocator_get_n_chunks (stack), >, 2);

      /* A damaged header in the newest chunk stops the walk there. */
      damage_header (p, saved, 0x41);
      assert_release_fails (stack, marker, NEBULA_ALLOCATOR_ERROR_CORRUPTION);
      test_stack_write_header (p, saved);

      assert_release (stack, marker);
      g_assert_cmpuint (used (stack), ==, base);
      g_assert_cmpuint (nebula_stack_allocator_get_n_chunks (stack), ==, 1);
      g_assert_true (nebula_stack_allocator_free (stack, first, 100, 8, NULL));
      push (stack, 300, 8);
      push (stack, 300, 8);
      assert_release (stack, empty);
      g_assert_cmpuint (used (stack), ==, 0);

      stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (stack));
      if (tracks_stats (stack))
        g_assert_cmpuint (stats->deallocations, ==, 33);
      g_assert_cmpuint (stats->bytes_in_use, ==, 0);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/stack-frame/release/counts", test_frame_release_counts);
  g_test_add_func ("/nebula/stack-frame/release/damaged", test_frame_release_damaged);
  g_test_add_func ("/nebula/stack-frame/release/stale", test_frame_release_stale);
  g_test_add_func ("/nebula/stack-frame/release/nested", test_frame_release_nested);
  g_test_add_func ("/nebula/stack-frame/release/chunks", test_frame_release_chunks);

  return g_test_run ();
}
