/* test-bad-input.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every bad input an allocator can be given, as a table: each row names the
 * allocators it applies to, the operation, the expected GError code and the
 * numbers its message must carry. After the bad call the allocator must be
 * as it was: its live block intact, its statistics and bytes-used
 * unchanged (apart from the counted failure), and a valid allocation must
 * still succeed.
 *
 * A new allocator adds a Kind, a line in new_allocator(), and rows (or bits
 * in the masks of the generic rows).
 */

#include "config.h"

#include <string.h>

#include <nebula.h>

G_STATIC_ASSERT (sizeof (gsize) == 8);

/* In a sanitizer build, a request beyond the tool's own limit must come
 * back as NULL (then OUT_OF_MEMORY) rather than end the process. */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "allocator_may_return_null=1";
}

typedef enum
{
  KIND_BUMP             = 1 << 0,
  KIND_BUMP_THREAD_SAFE = 1 << 1,
  KIND_SYSTEM           = 1 << 2,
  KIND_POOL              = 1 << 3,
  KIND_POOL_THREAD_SAFE  = 1 << 4,
  KIND_STACK             = 1 << 5,
} Kind;

#define ALL_BUMPS  (KIND_BUMP | KIND_BUMP_THREAD_SAFE)
#define ALL_POOLS  (KIND_POOL | KIND_POOL_THREAD_SAFE)
#define ALL_STACKS KIND_STACK
#define ALL_KINDS  (ALL_BUMPS | KIND_SYSTEM | ALL_POOLS | ALL_STACKS)

typedef enum
{
  OP_ALLOCATE,
  OP_ALLOCATE_ZEROED,
  OP_REALLOCATE,
  OP_DEALLOCATE,
  OP_RESTORE,           /* a bump checkpoint */
  OP_RELEASE,           /* a stack marker */
  OP_ALLOCATE_HIGH,
} Op;

typedef enum
{
  PTR_LIVE,             /* the live 64-byte block of the fixture */
  PTR_FOREIGN,          /* a stack variable */
  PTR_NULL,
  PTR_FREED,            /* a block allocated and deallocated again */
  PTR_INTERIOR,         /* 8 bytes into the live block */
  PTR_BURIED,           /* the live block, with a 16-byte block on top of it */
} Target;

typedef enum
{
  CHECKPOINT_OTHER_ALLOCATOR,
  CHECKPOINT_BEFORE_RESET,
  CHECKPOINT_AHEAD,     /* for a stack: above the top */
} CheckpointCase;

typedef struct
{
  const char     *name;
  guint           kinds;
  Op              op;
  gsize           size;          /* or the old size for reallocate */
  gsize           new_size;
  gsize           alignment;
  Target          target;
  CheckpointCase  checkpoint;
  gint            code;
  const char     *needles[3];    /* what the message must contain */
  const char     *suggestion;    /* what nebula_error_get_suggestion() must contain */
  guint           n_fillers;     /* blocks of @size taken before the call, freed after */
} BadInput;

#define LIVE_SIZE 64
#define LIVE_BYTE 0x42
#define CAPACITY  4096
/* The pools: 4 blocks, room for the fixture's block and the one after. */
#define POOL_BLOCK_SIZE      128
#define POOL_BLOCK_ALIGNMENT 16
#define POOL_BLOCK_COUNT     4

static const BadInput bad_inputs[] = {
  /* Layouts, refused by the interface before any allocator sees them. */
  { "allocate/alignment-0", ALL_KINDS, OP_ALLOCATE, 64, 0, 0, 0, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT, { "alignment 0 is not a power of two", "64 bytes" } },
  { "allocate/alignment-3", ALL_KINDS, OP_ALLOCATE, 64, 0, 3, 0, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT, { "alignment 3 is not a power of two", "64 bytes" } },
  { "allocate/alignment-24", ALL_KINDS, OP_ALLOCATE, 10, 0, 24, 0, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT, { "alignment 24", "requested 10 bytes" } },
  { "allocate/size-overflow", ALL_KINDS, OP_ALLOCATE, G_MAXSIZE, 0, 16, 0, 0,
    NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW, { "size 18446744073709551615 plus alignment 16 overflows" } },
  { "allocate/exceeds-max-size", ALL_KINDS, OP_ALLOCATE, (gsize) G_MAXSSIZE + 1, 0, 1, 0, 0,
    NEBULA_ALLOCATOR_ERROR_EXCEEDS_MAX_SIZE,
    { "requested 9223372036854775808 bytes", "largest possible allocation of 9223372036854775807" } },
  { "allocate-zeroed/alignment-5", ALL_KINDS, OP_ALLOCATE_ZEROED, 8, 0, 5, 0, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT, { "alignment 5", "8 bytes" } },
  { "allocate-zeroed/size-overflow", ALL_KINDS, OP_ALLOCATE_ZEROED, G_MAXSIZE - 2, 0, 8, 0, 0,
    NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW, { "size 18446744073709551613 plus alignment 8" } },
  { "reallocate/alignment-6", ALL_KINDS, OP_REALLOCATE, LIVE_SIZE, 128, 6, PTR_LIVE, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT, { "alignment 6" } },
  { "reallocate/new-size-too-large", ALL_KINDS, OP_REALLOCATE, LIVE_SIZE, (gsize) G_MAXSSIZE + 8, 8,
    PTR_LIVE, 0, NEBULA_ALLOCATOR_ERROR_EXCEEDS_MAX_SIZE, { "requested 9223372036854775815 bytes" } },
  { "deallocate/alignment-12", ALL_KINDS, OP_DEALLOCATE, LIVE_SIZE, 0, 12, PTR_LIVE, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT, { "alignment 12", "64 bytes" } },

  /* Pointers. */
  { "deallocate/null", ALL_KINDS, OP_DEALLOCATE, 8, 0, 8, PTR_NULL, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, { "cannot free a NULL pointer (size 8)" } },
  { "deallocate/foreign", ALL_BUMPS | ALL_STACKS, OP_DEALLOCATE, 16, 0, 8, PTR_FOREIGN, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, { "(size 16) was not allocated by this allocator" } },
  { "deallocate/foreign", KIND_SYSTEM, OP_DEALLOCATE, 16, 0, 8, PTR_FOREIGN, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, { "is not a live block of this allocator" } },
  { "deallocate/double-free", KIND_BUMP | ALL_STACKS, OP_DEALLOCATE, 32, 0, 8, PTR_FREED, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, { "(size 32) was not allocated by this allocator" } },
  { "deallocate/double-free", KIND_SYSTEM, OP_DEALLOCATE, 32, 0, 8, PTR_FREED, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, { "already freed" } },
  { "deallocate/wrong-size", KIND_SYSTEM, OP_DEALLOCATE, 32, 0, 8, PTR_LIVE, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, { "was allocated with 64 bytes but freed with 32" } },
  { "reallocate/foreign", ALL_BUMPS | ALL_STACKS, OP_REALLOCATE, 16, 32, 8, PTR_FOREIGN, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, { "(size 16) was not allocated by this allocator" } },
  { "reallocate/foreign", KIND_SYSTEM, OP_REALLOCATE, 16, 32, 8, PTR_FOREIGN, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, { "is not a live block of this allocator" } },
  { "reallocate/wrong-size", KIND_SYSTEM, OP_REALLOCATE, 100, 200, 8, PTR_LIVE, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, { "was allocated with 64 bytes but freed with 100" } },
  { "deallocate/foreign", ALL_POOLS, OP_DEALLOCATE, 16, 0, 8, PTR_FOREIGN, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, { "(size 16) does not lie in this pool" } },
  { "reallocate/foreign", ALL_POOLS, OP_REALLOCATE, 16, 32, 8, PTR_FOREIGN, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, { "(size 16) does not lie in this pool" } },
  { "deallocate/interior", ALL_POOLS, OP_DEALLOCATE, 8, 0, 8, PTR_INTERIOR, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER,
    { "(size 8) is not the start of a block (it lies 8 bytes into block", "of 128 bytes)" } },
  { "reallocate/interior", ALL_POOLS, OP_REALLOCATE, 8, 16, 8, PTR_INTERIOR, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, { "(size 8) is not the start of a block" } },
  { "deallocate/double-free", ALL_POOLS, OP_DEALLOCATE, 32, 0, 8, PTR_FREED, 0,
    NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE, { "(size 32) is not allocated: it was already freed (double free)" } },
  { "reallocate/freed", ALL_POOLS, OP_REALLOCATE, 32, 64, 8, PTR_FREED, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER,
    { "(size 32) is not allocated (was it freed?) and cannot be resized" } },
  { "reallocate/freed", ALL_STACKS, OP_REALLOCATE, 32, 64, 8, PTR_FREED, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, { "(size 32) was not allocated by this allocator" } },
  { "deallocate/interior", ALL_STACKS, OP_DEALLOCATE, 8, 0, 8, PTR_INTERIOR, 0,
    NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER, { "cannot free", "(size 8): it is not the top of the low end" } },
  { "deallocate/out-of-order", ALL_STACKS, OP_DEALLOCATE, LIVE_SIZE, 0, 8, PTR_BURIED, 0,
    NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER,
    { "cannot free", "(size 64): it is not the top of the low end", "free in LIFO order" } },
  { "reallocate/out-of-order", ALL_STACKS, OP_REALLOCATE, LIVE_SIZE, 32, 8, PTR_BURIED, 0,
    NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER, { "cannot resize", "(size 64): it is not the top of the low end" } },
  { "deallocate/wrong-size", ALL_STACKS, OP_DEALLOCATE, 32, 0, 8, PTR_LIVE, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, { "has 64 bytes, not 32" } },
  { "reallocate/wrong-size", ALL_STACKS, OP_REALLOCATE, 100, 200, 8, PTR_LIVE, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, { "has 64 bytes, not 100" } },

  /* Layouts a pool cannot serve, with the block-size that would. */
  { "allocate/larger-than-block", ALL_POOLS, OP_ALLOCATE, 256, 0, 8, 0, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT,
    { "serves blocks of 128 bytes aligned to 16: cannot allocate 256 bytes aligned to 8",
      "(use a block-size of at least 256)" },
    "Use a pool with a block-size of at least 256, or another allocator for this size." },
  { "allocate/over-aligned", ALL_POOLS, OP_ALLOCATE, 64, 0, 64, 0, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, { "cannot allocate 64 bytes aligned to 64" },
    "Use a pool with a block-size of at least 64 and a block-alignment of 64" },
  { "allocate-zeroed/larger-than-block", ALL_POOLS, OP_ALLOCATE_ZEROED, 129, 0, 8, 0, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT,
    { "cannot allocate 129 bytes aligned to 8 (use a block-size of at least 144)" },
    "block-size of at least 144, or another allocator" },
  { "reallocate/larger-than-block", ALL_POOLS, OP_REALLOCATE, LIVE_SIZE, 200, 8, PTR_LIVE, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT,
    { "cannot resize a block to 200 bytes aligned to 8 (use a block-size of at least 208)" } },
  { "deallocate/larger-than-block", ALL_POOLS, OP_DEALLOCATE, 256, 0, 8, PTR_LIVE, 0,
    NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, { "cannot free 256 bytes aligned to 8" } },

  /* Room. */
  { "allocate/exhausted", ALL_BUMPS, OP_ALLOCATE, 8192, 0, 8, 0, 0,
    NEBULA_ALLOCATOR_ERROR_EXHAUSTED, { "is exhausted: requested 8192 bytes", "of 4096 available" } },
  { "allocate-zeroed/exhausted", ALL_BUMPS, OP_ALLOCATE_ZEROED, 5000, 0, 8, 0, 0,
    NEBULA_ALLOCATOR_ERROR_EXHAUSTED, { "requested 5000 bytes", "of 4096 available", "alignment 8" } },
  { "reallocate/exhausted", ALL_BUMPS, OP_REALLOCATE, LIVE_SIZE, 100000, 8, PTR_LIVE, 0,
    NEBULA_ALLOCATOR_ERROR_EXHAUSTED, { "requested 100000 bytes", "of 4096 available" } },
  { "allocate/out-of-memory", KIND_SYSTEM, OP_ALLOCATE, (gsize) 1 << 62, 0, 8, 0, 0,
    NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY, { "the system refused 4611686018427387904 bytes" } },
  { "allocate/exhausted", ALL_POOLS, OP_ALLOCATE, 8, 0, 8, 0, 0,
    NEBULA_ALLOCATOR_ERROR_EXHAUSTED, { "is exhausted: requested 8 bytes, 0 of 4 blocks free" },
    "raise block-count or max-block-count", 3 },
  { "allocate/exhausted", ALL_STACKS, OP_ALLOCATE, 8192, 0, 8, 0, 0,
    NEBULA_ALLOCATOR_ERROR_EXHAUSTED,
    { "is exhausted: requested 8192 bytes, 4008 of 4096 available", "24-byte header" } },
  { "allocate-zeroed/exhausted", ALL_STACKS, OP_ALLOCATE_ZEROED, 4000, 0, 64, 0, 0,
    NEBULA_ALLOCATOR_ERROR_EXHAUSTED,
    { "requested 4000 bytes, 4008 of 4096 available (alignment 64" } },
  { "reallocate/exhausted", ALL_STACKS, OP_REALLOCATE, LIVE_SIZE, 100000, 8, PTR_LIVE, 0,
    NEBULA_ALLOCATOR_ERROR_EXHAUSTED, { "requested 100000 bytes, 4008 of 4096 available" } },
  { "allocate-high/single-ended", ALL_STACKS, OP_ALLOCATE_HIGH, 16, 0, 8, 0, 0,
    NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED, { "has no high end", "(size 16)" } },
  { "reallocate/out-of-memory", KIND_SYSTEM, OP_REALLOCATE, LIVE_SIZE, (gsize) 1 << 62, 8, PTR_LIVE, 0,
    NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY, { "the system refused 4611686018427387904 bytes" } },

  /* Checkpoints. */
  { "restore/other-allocator", ALL_BUMPS, OP_RESTORE, 0, 0, 0, 0, CHECKPOINT_OTHER_ALLOCATOR,
    NEBULA_ALLOCATOR_ERROR_STALE_MARKER, { "cannot restore the checkpoint", "another allocator" } },
  { "restore/before-reset", ALL_BUMPS, OP_RESTORE, 0, 0, 0, 0, CHECKPOINT_BEFORE_RESET,
    NEBULA_ALLOCATOR_ERROR_STALE_MARKER, { "before a reset (generation 0, now 1)" } },
  { "restore/ahead", ALL_BUMPS, OP_RESTORE, 0, 0, 0, 0, CHECKPOINT_AHEAD,
    NEBULA_ALLOCATOR_ERROR_STALE_MARKER, { "ahead of the cursor (chunk 0 offset", ", cursor at chunk 0 offset" } },

  /* Markers. */
  { "release/other-allocator", ALL_STACKS, OP_RELEASE, 0, 0, 0, 0, CHECKPOINT_OTHER_ALLOCATOR,
    NEBULA_ALLOCATOR_ERROR_STALE_MARKER, { "cannot release to the marker", "another allocator" } },
  { "release/before-reset", ALL_STACKS, OP_RELEASE, 0, 0, 0, 0, CHECKPOINT_BEFORE_RESET,
    NEBULA_ALLOCATOR_ERROR_STALE_MARKER, { "before a reset (generation 0, now 1)" } },
  /* The fixture's block ends at offset 24 + 64 = 88; a 16-byte block above
   * it at 88 + 24 + 16 = 128. */
  { "release/above-top", ALL_STACKS, OP_RELEASE, 0, 0, 0, 0, CHECKPOINT_AHEAD,
    NEBULA_ALLOCATOR_ERROR_STALE_MARKER,
    { "above the top of the low end (marker at chunk 0 offset 128, top at chunk 0 offset 88)" } },
};

static const char *
kind_name (Kind kind)
{
  switch (kind)
    {
    case KIND_BUMP: return "bump";
    case KIND_BUMP_THREAD_SAFE: return "bump-thread-safe";
    case KIND_SYSTEM: return "system";
    case KIND_POOL: return "pool";
    case KIND_POOL_THREAD_SAFE: return "pool-thread-safe";
    case KIND_STACK: return "stack";
    default: g_assert_not_reached ();
    }
}

static NebulaAllocator *
new_allocator (Kind kind)
{
  GError *error = NULL;
  gpointer alloc = NULL;

  switch (kind)
    {
    case KIND_BUMP:
    case KIND_BUMP_THREAD_SAFE:
      alloc = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                              "capacity", (guint64) CAPACITY,
                              "thread-safe", kind == KIND_BUMP_THREAD_SAFE,
                              "name", "bad",
                              NULL);
      break;
    case KIND_SYSTEM:
      alloc = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error, "name", "bad", NULL);
      break;
    case KIND_POOL:
    case KIND_POOL_THREAD_SAFE:
      alloc = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                              "block-size", (guint64) POOL_BLOCK_SIZE,
                              "block-alignment", (guint64) POOL_BLOCK_ALIGNMENT,
                              "block-count", (guint64) POOL_BLOCK_COUNT,
                              "thread-safe", kind == KIND_POOL_THREAD_SAFE,
                              "name", "bad",
                              NULL);
      break;
    case KIND_STACK:
      alloc = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                              "capacity", (guint64) CAPACITY,
                              "name", "bad",
                              NULL);
      break;
    default:
      g_assert_not_reached ();
    }

  g_assert_no_error (error);
  return alloc;
}

typedef struct
{
  const BadInput *row;
  Kind            kind;
} Case;

/* A bump checkpoint (OP_RESTORE) or a stack marker (OP_RELEASE) of @alloc. */
static void
take_mark (NebulaAllocator       *alloc,
           Op                     op,
           NebulaBumpCheckpoint **checkpoint,
           NebulaStackMarker    **marker)
{
  if (op == OP_RESTORE)
    *checkpoint = nebula_bump_allocator_checkpoint (NEBULA_BUMP_ALLOCATOR (alloc));
  else
    *marker = nebula_stack_allocator_mark (NEBULA_STACK_ALLOCATOR (alloc));
}

static void
assert_stats (NebulaAllocator *alloc,
              guint64          allocations,
              guint64          deallocations,
              guint64          failures,
              guint64          bytes_in_use)
{
  g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (alloc);

  g_assert_cmpuint (stats->allocations, ==, allocations);
  g_assert_cmpuint (stats->deallocations, ==, deallocations);
  g_assert_cmpuint (stats->reallocations, ==, 0);
  g_assert_cmpuint (stats->failed_allocations, ==, failures);
  g_assert_cmpuint (stats->bytes_in_use, ==, bytes_in_use);
}

static void
test_bad_input (gconstpointer data)
{
  const Case *test_case = data;
  const BadInput *row = test_case->row;
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocator) alloc = new_allocator (test_case->kind);
  g_autoptr(NebulaAllocator) other = NULL;
  g_autoptr(NebulaBumpCheckpoint) checkpoint = NULL;
  g_autoptr(NebulaStackMarker) marker = NULL;
  guint64 allocations = 1, deallocations = 0, failures = 0, bytes_used_before;
  guint64 foreign[4] = { 0, };
  gpointer target = NULL;
  /* Blocks above the fixture's, freed newest first after the bad call. */
  gpointer extra[4];
  gsize extra_sizes[4];
  guint n_extra = 0;
  guint64 extra_bytes = 0;
  guint8 *live, *after;
  gboolean ok = FALSE;

  live = nebula_allocator_allocate (alloc, LIVE_SIZE, 8, &error);
  g_assert_no_error (error);
  memset (live, LIVE_BYTE, LIVE_SIZE);

  switch (row->target)
    {
    case PTR_LIVE:
      target = live;
      break;
    case PTR_FOREIGN:
      target = foreign;
      break;
    case PTR_NULL:
      target = NULL;
      break;
    case PTR_FREED:
      target = nebula_allocator_allocate (alloc, row->size, row->alignment, &error);
      g_assert_no_error (error);
      g_assert_true (nebula_allocator_deallocate (alloc, target, row->size, row->alignment, &error));
      g_assert_no_error (error);
      allocations++;
      deallocations++;
      break;
    case PTR_INTERIOR:
      target = live + 8;
      break;
    case PTR_BURIED:
      target = live;
      extra_sizes[n_extra] = 16;
      break;
    default:
      g_assert_not_reached ();
    }

  /* Fill the allocator up, or bury the live block. */
  if (row->target == PTR_BURIED)
    n_extra = 1;
  for (guint i = 0; i < row->n_fillers; i++)
    extra_sizes[i] = row->size;
  n_extra += row->n_fillers;
  g_assert_cmpuint (n_extra, <=, G_N_ELEMENTS (extra));
  for (guint i = 0; i < n_extra; i++)
    {
      extra[i] = nebula_allocator_allocate (alloc, extra_sizes[i], 8, &error);
      g_assert_no_error (error);
      allocations++;
      extra_bytes += extra_sizes[i];
    }

  if (row->op == OP_RESTORE || row->op == OP_RELEASE)
    {
      switch (row->checkpoint)
        {
        case CHECKPOINT_OTHER_ALLOCATOR:
          other = new_allocator (test_case->kind);
          take_mark (other, row->op, &checkpoint, &marker);
          break;
        case CHECKPOINT_BEFORE_RESET:
          /* The reset frees the fixture's block; give the allocator a new one. */
          take_mark (alloc, row->op, &checkpoint, &marker);
          nebula_allocator_reset (alloc);
          live = nebula_allocator_allocate (alloc, LIVE_SIZE, 8, &error);
          g_assert_no_error (error);
          memset (live, LIVE_BYTE, LIVE_SIZE);
          break;
        case CHECKPOINT_AHEAD:
          {
            g_autoptr(NebulaBumpCheckpoint) early = NULL;
            gpointer newer;

            /* A bump checkpoint keeps the block below it from being given
             * back: rewind to an earlier one instead. */
            if (row->op == OP_RESTORE)
              early = nebula_bump_allocator_checkpoint (NEBULA_BUMP_ALLOCATOR (alloc));
            newer = nebula_allocator_allocate (alloc, 16, 8, &error);
            g_assert_no_error (error);
            take_mark (alloc, row->op, &checkpoint, &marker);
            if (early != NULL)
              g_assert_true (nebula_bump_allocator_restore (NEBULA_BUMP_ALLOCATOR (alloc), early,
                                                            &error));
            else
              g_assert_true (nebula_allocator_deallocate (alloc, newer, 16, 8, &error));
            g_assert_no_error (error);
            allocations++;
            deallocations++;
          }
          break;
        default:
          g_assert_not_reached ();
        }
    }

  bytes_used_before = nebula_allocator_get_bytes_used (alloc);
  if ((row->op == OP_RESTORE || row->op == OP_RELEASE) &&
      row->checkpoint == CHECKPOINT_BEFORE_RESET)
    allocations = 2;

  switch (row->op)
    {
    case OP_ALLOCATE:
      ok = nebula_allocator_allocate (alloc, row->size, row->alignment, &error) != NULL;
      failures++;
      break;
    case OP_ALLOCATE_ZEROED:
      ok = nebula_allocator_allocate_zeroed (alloc, row->size, row->alignment, &error) != NULL;
      failures++;
      break;
    case OP_REALLOCATE:
      ok = nebula_allocator_reallocate (alloc, target, row->size, row->new_size, row->alignment,
                                        &error) != NULL;
      failures++;
      break;
    case OP_DEALLOCATE:
      ok = nebula_allocator_deallocate (alloc, target, row->size, row->alignment, &error);
      break;
    case OP_RESTORE:
      ok = nebula_bump_allocator_restore (NEBULA_BUMP_ALLOCATOR (alloc), checkpoint, &error);
      break;
    case OP_RELEASE:
      ok = nebula_stack_allocator_release_to_marker (NEBULA_STACK_ALLOCATOR (alloc), marker, &error);
      break;
    case OP_ALLOCATE_HIGH:
      ok = nebula_stack_allocator_allocate_high (NEBULA_STACK_ALLOCATOR (alloc), row->size,
                                                 row->alignment, &error) != NULL;
      failures++;
      break;
    default:
      g_assert_not_reached ();
    }

  /* The error: domain, code, and the numbers in the message. */
  g_assert_false (ok);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, row->code);
  for (guint i = 0; i < G_N_ELEMENTS (row->needles) && row->needles[i] != NULL; i++)
    if (strstr (error->message, row->needles[i]) == NULL)
      g_error ("%s on %s: message \"%s\" lacks \"%s\"",
               row->name, kind_name (test_case->kind), error->message, row->needles[i]);
  g_assert_nonnull (strstr (error->message, "allocator 'bad'"));
  if (row->suggestion != NULL &&
      strstr (nebula_error_get_suggestion (error), row->suggestion) == NULL)
    g_error ("%s on %s: suggestion \"%s\" lacks \"%s\"", row->name, kind_name (test_case->kind),
             nebula_error_get_suggestion (error), row->suggestion);
  if (row->code == NEBULA_ALLOCATOR_ERROR_EXHAUSTED)
    g_assert_cmpuint (nebula_error_get_available (error), ==,
                      nebula_allocator_get_bytes_available (alloc));
  g_clear_error (&error);

  /* Nothing changed but the failure count. */
  for (guint i = 0; i < LIVE_SIZE; i++)
    g_assert_cmpuint (live[i], ==, LIVE_BYTE);
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, bytes_used_before);
  assert_stats (alloc, allocations, deallocations, failures, LIVE_SIZE + extra_bytes);

  while (n_extra > 0)
    {
      n_extra--;
      g_assert_true (nebula_allocator_deallocate (alloc, extra[n_extra], extra_sizes[n_extra], 8,
                                                  &error));
      g_assert_no_error (error);
      deallocations++;
    }
  assert_stats (alloc, allocations, deallocations, failures, LIVE_SIZE);

  /* And it still works. */
  after = nebula_allocator_allocate (alloc, 100, 16, &error);
  g_assert_no_error (error);
  g_assert_nonnull (after);
  g_assert_cmpuint (GPOINTER_TO_SIZE (after) % 16, ==, 0);
  memset (after, 0x17, 100);
  g_assert_true (nebula_allocator_owns (alloc, after) || test_case->kind == KIND_SYSTEM);
  for (guint i = 0; i < LIVE_SIZE; i++)
    g_assert_cmpuint (live[i], ==, LIVE_BYTE);
  assert_stats (alloc, allocations + 1, deallocations, failures, LIVE_SIZE + 100);
  g_assert_true (nebula_allocator_deallocate (alloc, after, 100, 16, &error));
  g_assert_no_error (error);
  g_assert_true (nebula_allocator_deallocate (alloc, live, LIVE_SIZE, 8, &error));
  g_assert_no_error (error);
  assert_stats (alloc, allocations + 1, deallocations + 2, failures, 0);
}

/* Configuration: construction fails with INVALID_CONFIG naming the rule;
 * an object built without init (as a binding may) answers every method
 * with the same error and never crashes. */
typedef struct
{
  const char *name;
  Kind        kind;
  const char *property;
  GType       type;
  guint64     uint_value;
  double      double_value;
  int         int_value;
  const char *needle;
  const char *flag;      /* a boolean property set as well, or NULL */
  gint        code;      /* 0: INVALID_CONFIG */
} BadConfig;

static const BadConfig bad_configs[] = {
  { "capacity-0", KIND_BUMP, "capacity", G_TYPE_UINT64, 0, 0, 0, "'capacity' must be greater than 0" },
  { "capacity-huge", KIND_BUMP, "capacity", G_TYPE_UINT64, G_MAXUINT64, 0, 0,
    "not 18446744073709551615" },
  { "max-capacity-below-capacity", KIND_BUMP, "max-capacity", G_TYPE_UINT64, 100, 0, 0,
    "at least the capacity (65536), not 100" },
  { "growth-factor-0.5", KIND_BUMP, "growth-factor", G_TYPE_DOUBLE, 0, 0.5, 0,
    "between 1.0 and 16.0, not 0.5" },
  { "growth-factor-17", KIND_BUMP, "growth-factor", G_TYPE_DOUBLE, 0, 17.0, 0, "not 17" },
  { "min-alloc-size-3", KIND_BUMP, "min-alloc-size", G_TYPE_UINT64, 3, 0, 0,
    "power of two from 1 to 4096, not 3" },
  { "min-alloc-size-8192", KIND_BUMP, "min-alloc-size", G_TYPE_UINT64, 8192, 0, 0,
    "power of two from 1 to 4096, not 8192" },
  { "alloc-fill-256", KIND_BUMP, "alloc-fill", G_TYPE_INT, 0, 0, 256, "byte value 0..255, not 256" },
  { "free-fill--2", KIND_BUMP, "free-fill", G_TYPE_INT, 0, 0, -2, "byte value 0..255, not -2" },
  { "alloc-fill-256", KIND_SYSTEM, "alloc-fill", G_TYPE_INT, 0, 0, 256, "byte value 0..255, not 256" },
  { "free-fill-1000", KIND_SYSTEM, "free-fill", G_TYPE_INT, 0, 0, 1000, "not 1000" },

  { "block-size-4", KIND_POOL, "block-size", G_TYPE_UINT64, 4, 0, 0,
    "'block-size' must be at least 8 bytes (a free block holds a pointer), not 4" },
  { "block-size-huge", KIND_POOL, "block-size", G_TYPE_UINT64, G_MAXUINT64, 0, 0,
    "'block-size' must be at most 9223372036854775807 bytes, not 18446744073709551615" },
  { "block-alignment-24", KIND_POOL, "block-alignment", G_TYPE_UINT64, 24, 0, 0,
    "'block-alignment' must be a power of two, not 24" },
  { "block-alignment-0", KIND_POOL, "block-alignment", G_TYPE_UINT64, 0, 0, 0,
    "'block-alignment' must be a power of two, not 0" },
  { "block-count-0", KIND_POOL, "block-count", G_TYPE_UINT64, 0, 0, 0,
    "'block-count' must be greater than 0" },
  { "block-count-thread-safe", KIND_POOL, "block-count", G_TYPE_UINT64, G_GUINT64_CONSTANT (1) << 32,
    0, 0, "must be at most 4294967294 in a thread-safe pool, not 4294967296", "thread-safe" },
  { "max-block-count-below-block-count", KIND_POOL, "max-block-count", G_TYPE_UINT64, 100, 0, 0,
    "at least 'block-count' (1024), not 100" },
  /* Each value is valid, their product is not. */
  { "size-overflow", KIND_POOL, "block-size", G_TYPE_UINT64, G_GUINT64_CONSTANT (1) << 60, 0, 0,
    "1024 blocks of 1152921504606846976 bytes", NULL, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW },
  { "alloc-fill-300", KIND_POOL, "alloc-fill", G_TYPE_INT, 0, 0, 300, "byte value 0..255, not 300" },

  { "capacity-0", KIND_STACK, "capacity", G_TYPE_UINT64, 0, 0, 0, "'capacity' must be greater than 0" },
  { "capacity-16", KIND_STACK, "capacity", G_TYPE_UINT64, 16, 0, 0,
    "must be at least 32 bytes (every block takes a 24-byte header), not 16" },
  { "capacity-huge", KIND_STACK, "capacity", G_TYPE_UINT64, G_MAXUINT64, 0, 0,
    "not 18446744073709551615" },
  { "max-capacity-below-capacity", KIND_STACK, "max-capacity", G_TYPE_UINT64, 100, 0, 0,
    "at least the capacity (65536), not 100" },
  { "double-ended-growth", KIND_STACK, "max-capacity", G_TYPE_UINT64, 200000, 0, 0,
    "'max-capacity' (200000) must be 0 or equal to the capacity (65536)", "double-ended" },
  { "free-fill-256", KIND_STACK, "free-fill", G_TYPE_INT, 0, 0, 256, "byte value 0..255, not 256" },
  /* Refused rather than served under a mutex: no LIFO order across threads. */
  { "thread-safe", KIND_STACK, "thread-safe", G_TYPE_BOOLEAN, 0, 0, TRUE,
    "'thread-safe' cannot be TRUE: a stack shared by threads has no sound last-in, first-out order" },
};

static GObject *
new_with_config (const BadConfig *row,
                 gboolean         init,
                 GError         **error)
{
  GType type;
  const char *names[3] = { row->property, "name", row->flag };
  GValue values[3] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };
  GObject *object;

  switch (row->kind)
    {
    case KIND_BUMP: type = NEBULA_TYPE_BUMP_ALLOCATOR; break;
    case KIND_SYSTEM: type = NEBULA_TYPE_SYSTEM_ALLOCATOR; break;
    case KIND_POOL: type = NEBULA_TYPE_POOL_ALLOCATOR; break;
    case KIND_STACK: type = NEBULA_TYPE_STACK_ALLOCATOR; break;
    default: g_assert_not_reached ();
    }

  g_value_init (&values[0], row->type);
  if (row->type == G_TYPE_UINT64)
    g_value_set_uint64 (&values[0], row->uint_value);
  else if (row->type == G_TYPE_DOUBLE)
    g_value_set_double (&values[0], row->double_value);
  else if (row->type == G_TYPE_BOOLEAN)
    g_value_set_boolean (&values[0], row->int_value != 0);
  else
    g_value_set_int (&values[0], row->int_value);
  g_value_init (&values[1], G_TYPE_STRING);
  g_value_set_static_string (&values[1], "bad");
  g_value_init (&values[2], G_TYPE_BOOLEAN);
  g_value_set_boolean (&values[2], TRUE);

  object = g_object_new_with_properties (type, row->flag != NULL ? 3 : 2, names, values);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    g_value_unset (&values[i]);

  if (init && !g_initable_init (G_INITABLE (object), NULL, error))
    g_clear_object (&object);

  return object;
}

static void
test_bad_config (gconstpointer data)
{
  const BadConfig *row = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) object = NULL;
  NebulaAllocator *alloc;
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  gpointer ptr;
  guint64 dummy = 0;
  gint code = row->code != 0 ? row->code : NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG;

  object = new_with_config (row, TRUE, &error);
  g_assert_null (object);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, code);
  if (strstr (error->message, row->needle) == NULL || strstr (error->message, row->property) == NULL)
    g_error ("%s: message \"%s\" lacks \"%s\"", row->name, error->message, row->needle);
  g_clear_error (&error);

  /* Without init: every method says INVALID_CONFIG, nothing crashes. */
  object = new_with_config (row, FALSE, NULL);
  alloc = NEBULA_ALLOCATOR (object);

  ptr = nebula_allocator_allocate (alloc, 16, 8, &error);
  g_assert_null (ptr);
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, code);
  g_assert_nonnull (strstr (error->message, row->needle));
  g_clear_error (&error);

  g_assert_null (nebula_allocator_allocate_zeroed (alloc, 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, code);
  g_clear_error (&error);

  g_assert_null (nebula_allocator_reallocate (alloc, &dummy, 8, 16, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, code);
  g_clear_error (&error);

  g_assert_false (nebula_allocator_deallocate (alloc, &dummy, 8, 8, &error));
  g_assert_error (error, NEBULA_ALLOCATOR_ERROR, code);
  g_clear_error (&error);

  nebula_allocator_reset (alloc);
  g_assert_false (nebula_allocator_owns (alloc, &dummy));
  g_assert_cmpuint (nebula_allocator_get_bytes_used (alloc), ==, 0);

  if (row->kind == KIND_STACK)
    {
      g_autoptr(NebulaStackMarker) marker =
        nebula_stack_allocator_mark (NEBULA_STACK_ALLOCATOR (alloc));

      g_assert_false (nebula_stack_allocator_release_to_marker (NEBULA_STACK_ALLOCATOR (alloc),
                                                                marker, &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, code);
      g_clear_error (&error);
    }

  if (row->kind == KIND_BUMP)
    {
      g_autoptr(NebulaBumpCheckpoint) checkpoint =
        nebula_bump_allocator_checkpoint (NEBULA_BUMP_ALLOCATOR (alloc));

      g_assert_false (nebula_bump_allocator_restore (NEBULA_BUMP_ALLOCATOR (alloc), checkpoint,
                                                     &error));
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, code);
      g_clear_error (&error);
    }

  stats = nebula_allocator_get_stats (alloc);
  g_assert_cmpuint (stats->allocations, ==, 0);
  g_assert_cmpuint (stats->failed_allocations, ==, 3);
  g_assert_cmpuint (stats->bytes_in_use, ==, 0);
}

int
main (int    argc,
      char **argv)
{
  static const Kind kinds[] = {
    KIND_BUMP, KIND_BUMP_THREAD_SAFE, KIND_SYSTEM, KIND_POOL, KIND_POOL_THREAD_SAFE, KIND_STACK,
  };
  GPtrArray *cases = g_ptr_array_new_with_free_func (g_free);
  int result;

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (bad_inputs); i++)
    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
      {
        g_autofree char *path = NULL;
        Case *test_case;

        if ((bad_inputs[i].kinds & kinds[k]) == 0)
          continue;

        test_case = g_new0 (Case, 1);
        test_case->row = &bad_inputs[i];
        test_case->kind = kinds[k];
        g_ptr_array_add (cases, test_case);
        path = g_strdup_printf ("/nebula/bad-input/%s/%s", kind_name (kinds[k]), bad_inputs[i].name);
        g_test_add_data_func (path, test_case, test_bad_input);
      }

  for (guint i = 0; i < G_N_ELEMENTS (bad_configs); i++)
    {
      g_autofree char *path = g_strdup_printf ("/nebula/bad-input/%s/config/%s",
                                               kind_name (bad_configs[i].kind), bad_configs[i].name);

      g_test_add_data_func (path, &bad_configs[i], test_bad_config);
    }

  result = g_test_run ();
  g_ptr_array_unref (cases);
  return result;
}
