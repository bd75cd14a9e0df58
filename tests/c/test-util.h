/* test-util.h: checks shared by the C suites.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <string.h>

#include <nebula.h>
#include "nebula-sanitizer-private.h"

/* The bytes a bump block of @size (alignment at most 8, not at the end of
 * its chunk) takes in this build: while ASan or Valgrind watch, each block
 * is padded to the ASan granule and followed by a redzone. */
static inline gsize
test_bump_span (gsize size)
{
  if (!nebula_memory_tools_watching ())
    return size;
  return ((size + NEBULA_SANITIZER_GRANULE - 1) & ~(gsize) (NEBULA_SANITIZER_GRANULE - 1)) +
         NEBULA_SANITIZER_REDZONE;
}

/* The report's `reserved`: the bytes @allocator holds from the system. */
static inline guint64
test_reserved_of (gpointer allocator)
{
  g_autoptr(GVariant) report = nebula_allocator_get_report (NEBULA_ALLOCATOR (allocator));
  guint64 reserved = 0;

  g_assert_true (g_variant_lookup (report, "reserved", "t", &reserved));
  return reserved;
}

typedef struct {
  guint8 *start;
  gsize   size;
} TestBlock;

static inline int
test_block_compare (gconstpointer a,
                    gconstpointer b)
{
  const TestBlock *block_a = a;
  const TestBlock *block_b = b;

  return (block_a->start > block_b->start) - (block_a->start < block_b->start);
}

/* Asserts that no two of @blocks overlap and that at least @gap bytes (an
 * allocator's per-block header) separate neighbours. Sorts @blocks. */
static inline void
test_assert_blocks_disjoint (TestBlock *blocks,
                             guint      n_blocks,
                             gsize      gap)
{
  qsort (blocks, n_blocks, sizeof *blocks, test_block_compare);
  for (guint i = 1; i < n_blocks; i++)
    g_assert_true (blocks[i - 1].start + blocks[i - 1].size + gap <= blocks[i].start);
}

/* Asserts that two allocators counted the same statistics and hold the
 * same bytes (an inline path against the exported one). */
static inline void
test_assert_stats_equal (gpointer a,
                         gpointer b)
{
  g_autoptr(NebulaAllocatorStats) x = nebula_allocator_get_stats (a);
  g_autoptr(NebulaAllocatorStats) y = nebula_allocator_get_stats (b);

  g_assert_cmpuint (x->allocations, ==, y->allocations);
  g_assert_cmpuint (x->deallocations, ==, y->deallocations);
  g_assert_cmpuint (x->failed_allocations, ==, y->failed_allocations);
  g_assert_cmpuint (x->bytes_in_use, ==, y->bytes_in_use);
  g_assert_cmpuint (x->peak_bytes_in_use, ==, y->peak_bytes_in_use);
  g_assert_cmpuint (x->total_bytes_allocated, ==, y->total_bytes_allocated);
  g_assert_cmpuint (x->total_bytes_freed, ==, y->total_bytes_freed);
  g_assert_cmpuint (x->resets, ==, y->resets);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (a), ==, nebula_allocator_get_bytes_used (b));
}

/* A cache value that carries a number, for the cache suites. */
static inline GObject *
test_value_new (int number)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);

  g_object_set_data (object, "number", GINT_TO_POINTER (number));
  return object;
}

static inline int
test_value_number (GObject *object)
{
  return GPOINTER_TO_INT (g_object_get_data (object, "number"));
}

/* Every stack block has a header of this many bytes below it, poisoned
 * while the memory tools watch: tests that read or damage one on purpose
 * open it as the allocator does, and close it again. */
#define TEST_STACK_HEADER 24

static inline void
test_stack_read_header (const guint8 *block,
                        guint8       *out)
{
  NEBULA_MEM_OPEN (block - TEST_STACK_HEADER, TEST_STACK_HEADER);
  memcpy (out, block - TEST_STACK_HEADER, TEST_STACK_HEADER);
  NEBULA_MEM_CLOSE (block - TEST_STACK_HEADER, TEST_STACK_HEADER);
}

static inline void
test_stack_write_header (guint8       *block,
                         const guint8 *in)
{
  NEBULA_MEM_OPEN (block - TEST_STACK_HEADER, TEST_STACK_HEADER);
  memcpy (block - TEST_STACK_HEADER, in, TEST_STACK_HEADER);
  NEBULA_MEM_CLOSE (block - TEST_STACK_HEADER, TEST_STACK_HEADER);
}
