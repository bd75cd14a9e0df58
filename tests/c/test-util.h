/* test-util.h: checks shared by the C suites.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

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
