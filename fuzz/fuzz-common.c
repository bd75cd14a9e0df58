/* fuzz-common.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"

/* A request above the tool's own limit must come back as NULL, as it would
 * from the C library, not end the run. */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "allocator_may_return_null=1";
}

enum {
  OP_ALLOCATE,
  OP_ALLOCATE_ZEROED,
  OP_REALLOCATE,
  OP_DEALLOCATE,
  OP_RESET,
  OP_BAD_LAYOUT,
  OP_FOREIGN_POINTER,
  OP_DOUBLE_FREE,
  OP_OWNS,
  N_COMMON_OPS
};

#define MAX_LIVE_BLOCKS 128
#define N_FREED         8

static guint8 foreign_memory[64];

/* Recently freed addresses, for double frees. */
static FuzzBlock freed[N_FREED];
static guint     n_freed;

void
fuzz_fail (const char *file,
           int         line,
           const char *condition)
{
  fprintf (stderr, "fuzz: the allocator disagrees with the model at %s:%d: %s\n",
           file, line, condition);
  abort ();
}

guint8
fuzz_byte (FuzzInput *input)
{
  guint8 byte;

  if (input->size == 0)
    return 0;

  byte = input->data[0];
  input->data++;
  input->size--;
  return byte;
}

guint64
fuzz_u64 (FuzzInput *input)
{
  guint64 value = 0;

  for (guint i = 0; i < 8; i++)
    value = (value << 8) | fuzz_byte (input);

  return value;
}

gboolean
fuzz_exhausted (FuzzInput *input)
{
  return input->size == 0;
}

/* Mostly small sizes, some medium, some that no allocator can serve. */
gsize
fuzz_read_size (FuzzInput *input)
{
  static const gsize huge[] = {
    G_MAXSIZE, G_MAXSIZE - 1, G_MAXSSIZE, (gsize) G_MAXSSIZE + 1,
    (gsize) 1 << 40, (gsize) 1 << 32, 0, 1,
  };
  guint8 kind = fuzz_byte (input);

  switch (kind >> 5)
    {
    case 0: case 1: case 2: case 3:
      return fuzz_byte (input);
    case 4: case 5:
      return fuzz_byte (input) | (gsize) fuzz_byte (input) << 8;
    case 6:
      return fuzz_u64 (input) & 0xFFFFF;
    default:
      if ((kind & 7) == 7)
        return fuzz_u64 (input);
      return huge[kind & 7];
    }
}

/* Mostly powers of two up to 4096; sometimes an invalid or absurd one. */
gsize
fuzz_read_alignment (FuzzInput *input)
{
  static const gsize odd[] = {
    0, 3, 6, 24, 100, (gsize) 1 << 63, G_MAXSIZE, (gsize) 1 << 20,
  };
  guint8 byte = fuzz_byte (input);

  if (byte < 224)
    return (gsize) 1 << (byte % 13);
  return odd[byte & 7];
}

/* The interface's layout rules, as the NebulaAllocator docs state them. */
gint
fuzz_expected_layout_error (gsize size,
                            gsize alignment)
{
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    return NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT;
  if (size > G_MAXSIZE - (alignment - 1))
    return NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW;
  if (size > G_MAXSSIZE)
    return NEBULA_ALLOCATOR_ERROR_EXCEEDS_MAX_SIZE;
  return 0;
}

/* Keeps a valid request within what the target can be asked for. */
static void
clamp_request (FuzzState *state,
               gsize     *size,
               gsize     *alignment)
{
  if (*size > state->max_request)
    *size %= state->max_request + 1;
  while (*alignment > state->max_alignment)
    *alignment >>= 1;
}

static guint8
pattern (const FuzzBlock *block,
         gsize            i)
{
  return (guint8) (block->seq * 131 + i * 7 + (i >> 8));
}

static void
fill_block (const FuzzBlock *block)
{
  for (gsize i = 0; i < block->size; i++)
    block->ptr[i] = pattern (block, i);
}

static void
check_block (const FuzzBlock *block,
             gsize            size)
{
  for (gsize i = 0; i < size; i++)
    FUZZ_CHECK (block->ptr[i] == pattern (block, i));
}

void
fuzz_model_check_all (FuzzState *state)
{
  for (guint i = 0; i < state->blocks->len; i++)
    check_block (&g_array_index (state->blocks, FuzzBlock, i),
                 g_array_index (state->blocks, FuzzBlock, i).size);
}

void
fuzz_model_check_stats (FuzzState *state)
{
  g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (state->alloc);
  NebulaAllocatorStats zero = { 0, }, model = state->stats;
  const NebulaAllocatorStats *want = state->track_stats ? &model : &zero;

  /* the model keeps the balance, which reads as 0 while below 0 */
  model.bytes_in_use = (guint64) MAX ((gint64) model.bytes_in_use, 0);

  if (g_getenv ("FUZZ_DEBUG") != NULL && memcmp (stats, want, sizeof *want) != 0)
    fprintf (stderr, "stats after op %u: allocations %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
             " deallocations %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
             " in use %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
             " freed %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
             " allocated %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " (allocator/model)\n",
             state->n_ops, stats->allocations, want->allocations, stats->deallocations,
             want->deallocations, stats->bytes_in_use, want->bytes_in_use,
             stats->total_bytes_freed, want->total_bytes_freed,
             stats->total_bytes_allocated, want->total_bytes_allocated);
  FUZZ_CHECK (stats->allocations == want->allocations);
  FUZZ_CHECK (stats->deallocations == want->deallocations);
  FUZZ_CHECK (stats->reallocations == want->reallocations);
  FUZZ_CHECK (stats->failed_allocations == want->failed_allocations);
  FUZZ_CHECK (stats->bytes_in_use == want->bytes_in_use);
  FUZZ_CHECK (stats->peak_bytes_in_use == want->peak_bytes_in_use);
  FUZZ_CHECK (stats->total_bytes_allocated == want->total_bytes_allocated);
  FUZZ_CHECK (stats->total_bytes_freed == want->total_bytes_freed);
  FUZZ_CHECK (stats->resets == want->resets);
}

void
fuzz_model_drop_from_seq (FuzzState *state,
                          guint64    seq)
{
  for (guint i = 0; i < state->blocks->len;)
    {
      if (g_array_index (state->blocks, FuzzBlock, i).seq >= seq)
        g_array_remove_index_fast (state->blocks, i);
      else
        i++;
    }
}

/* state->stats.bytes_in_use is the model's balance (modulo 2^64, read as
 * signed): frees of blocks a reset already counted as freed take it below
 * 0, as they take the allocator's; the check reads it as 0 there. */
void
fuzz_model_settle_peak (FuzzState *state)
{
  NebulaAllocatorStats *s = &state->stats;

  if ((gint64) s->bytes_in_use > (gint64) s->peak_bytes_in_use)
    s->peak_bytes_in_use = s->bytes_in_use;
}

/* The blocks and bytes the statistics count as in use, for a rewind to
 * come back to. The bytes are the balance as a read gives it (0 while
 * below 0), as the allocator records them: a rewind over a deficit left by
 * an over-free releases what a read shows, which closes the deficit. */
void
fuzz_model_live (FuzzState *state,
                 guint64   *live_blocks,
                 guint64   *bytes_in_use)
{
  const NebulaAllocatorStats *s = &state->stats;

  *live_blocks = s->allocations - MIN (s->deallocations, s->allocations);
  *bytes_in_use = (guint64) MAX ((gint64) s->bytes_in_use, 0);
}

/* A rewind to a position where fuzz_model_live() gave @live_blocks and
 * @bytes_in_use counts what it releases as freed, as if the callers had
 * freed each block. */
void
fuzz_model_count_rewind (FuzzState *state,
                         guint64    live_blocks,
                         guint64    bytes_in_use)
{
  NebulaAllocatorStats *s = &state->stats;
  guint64 live_now, bytes_now, n_bytes;

  fuzz_model_live (state, &live_now, &bytes_now);
  n_bytes = bytes_now > bytes_in_use ? bytes_now - bytes_in_use : 0;
  s->deallocations += live_now > live_blocks ? live_now - live_blocks : 0;
  s->total_bytes_freed += n_bytes;
  s->bytes_in_use -= n_bytes;
}

/* A new block must be aligned and must not overlap any live block. A block
 * of size 0 still has a unique address: it counts as one byte. */
static void
check_new_block (FuzzState       *state,
                 const FuzzBlock *block)
{
  guint8 *end = block->ptr + MAX (block->size, 1);

  FUZZ_CHECK (block->ptr != NULL);
  FUZZ_CHECK (GPOINTER_TO_SIZE (block->ptr) % block->alignment == 0);

  for (guint i = 0; i < state->blocks->len; i++)
    {
      const FuzzBlock *other = &g_array_index (state->blocks, FuzzBlock, i);
      guint8 *other_end = other->ptr + MAX (other->size, 1);

      FUZZ_CHECK (end <= other->ptr || block->ptr >= other_end);
    }
}

static void
count_allocation (FuzzState *state,
                  gsize      size)
{
  NebulaAllocatorStats *s = &state->stats;

  /* A block of size 0 counts as its one byte (nebula-stats-private.h). */
  size = MAX (size, 1);
  s->allocations++;
  s->total_bytes_allocated += size;
  s->bytes_in_use += size;
  fuzz_model_settle_peak (state);
}

static void
count_deallocation (FuzzState *state,
                    gsize      size)
{
  NebulaAllocatorStats *s = &state->stats;

  size = MAX (size, 1);
  s->deallocations++;
  s->total_bytes_freed += size;
  s->bytes_in_use -= size;
}

static void
count_reallocation (FuzzState *state,
                    gsize      old_size,
                    gsize      new_size)
{
  NebulaAllocatorStats *s = &state->stats;

  old_size = MAX (old_size, 1);
  new_size = MAX (new_size, 1);
  s->reallocations++;
  if (new_size > old_size)
    {
      s->total_bytes_allocated += new_size - old_size;
      s->bytes_in_use += new_size - old_size;
      fuzz_model_settle_peak (state);
    }
  else
    {
      s->total_bytes_freed += old_size - new_size;
      s->bytes_in_use -= old_size - new_size;
    }
}

/* A new block the allocator handed out: checked, filled and counted. */
void
fuzz_model_add_block (FuzzState       *state,
                      const FuzzBlock *block)
{
  check_new_block (state, block);
  fill_block (block);
  g_array_append_val (state->blocks, *block);
  count_allocation (state, block->size);
}

/* Whether the block at @index is the newest of its end: the only one a
 * LIFO allocator frees or resizes. */
gboolean
fuzz_model_is_top (FuzzState *state,
                   guint      index)
{
  const FuzzBlock *block = &g_array_index (state->blocks, FuzzBlock, index);

  for (guint i = 0; i < state->blocks->len; i++)
    {
      const FuzzBlock *other = &g_array_index (state->blocks, FuzzBlock, i);

      if (other->end == block->end && other->seq > block->seq)
        return FALSE;
    }
  return TRUE;
}

static void
remember_freed (const FuzzBlock *block)
{
  freed[n_freed++ % N_FREED] = *block;
}

static gboolean
is_live_address (FuzzState     *state,
                 gconstpointer  ptr)
{
  for (guint i = 0; i < state->blocks->len; i++)
    if (g_array_index (state->blocks, FuzzBlock, i).ptr == ptr)
      return TRUE;
  return FALSE;
}

void
fuzz_expect_pool_checks (FuzzState       *state,
                         NebulaAllocator *alloc,
                         gboolean         check_frees)
{
  gboolean actual_check_frees, track_stats;

  FUZZ_CHECK (alloc != NULL);
  g_object_get (alloc, "check-frees", &actual_check_frees, "track-stats", &track_stats, NULL);
  FUZZ_CHECK (actual_check_frees == check_frees);

  state->track_stats = track_stats;
  state->checks_pointers = check_frees;
  state->owns_interior = TRUE;
  state->checks_double_free = check_frees;
  state->double_free_code = NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE;
  state->reset_frees = TRUE;
}

void
fuzz_model_expect_error (const GError *error,
                         gint          code)
{
  FUZZ_CHECK (error != NULL);
  FUZZ_CHECK (error->domain == NEBULA_ALLOCATOR_ERROR);
  FUZZ_CHECK (error->code == code);
  FUZZ_CHECK (error->message != NULL && error->message[0] != '\0');
}

static void
do_allocate (FuzzState *state,
             gboolean   zeroed,
             gsize      size,
             gsize      alignment)
{
  g_autoptr(GError) error = NULL;
  gint code = fuzz_expected_layout_error (size, alignment);
  guint64 available_before;
  FuzzBlock block;
  guint8 *ptr;

  if (code == 0)
    clamp_request (state, &size, &alignment);
  if (code == 0 && state->blocks->len >= MAX_LIVE_BLOCKS)
    return;

  available_before = nebula_allocator_get_bytes_available (state->alloc);
  ptr = zeroed
    ? nebula_allocator_allocate_zeroed (state->alloc, size, alignment, &error)
    : nebula_allocator_allocate (state->alloc, size, alignment, &error);

  if (code != 0)
    {
      FUZZ_CHECK (ptr == NULL);
      fuzz_model_expect_error (error, code);
      state->stats.failed_allocations++;
      return;
    }

  if (ptr == NULL)
    {
      FUZZ_CHECK (error != NULL && error->domain == NEBULA_ALLOCATOR_ERROR);
      if (g_getenv ("FUZZ_DEBUG"))
        fprintf (stderr, "failed: size %zu alignment %zu available %" G_GUINT64_FORMAT ": %s\n",
                 size, alignment, available_before, error->message);
      FUZZ_CHECK (state->target->may_fail (state, size, alignment, available_before, error));
      state->stats.failed_allocations++;
      return;
    }

  FUZZ_CHECK (error == NULL);
  if (state->bounded)
    FUZZ_CHECK (size <= available_before);
  block = (FuzzBlock) { ptr, size, alignment, state->next_seq++ };
  check_new_block (state, &block);
  if (zeroed)
    for (gsize i = 0; i < size; i++)
      FUZZ_CHECK (ptr[i] == 0);
  fill_block (&block);
  g_array_append_val (state->blocks, block);
  count_allocation (state, size);
  if (state->target->on_block != NULL)
    state->target->on_block (state, NULL, &block);
  if (state->checks_pointers)
    FUZZ_CHECK (nebula_allocator_owns (state->alloc, ptr));
  if (state->owns_interior && size > 0)
    FUZZ_CHECK (nebula_allocator_owns (state->alloc, ptr + size - 1));
}

static void
do_reallocate (FuzzState *state)
{
  g_autoptr(GError) error = NULL;
  gsize new_size = fuzz_read_size (state->input);
  gint code;
  guint index;
  guint64 available_before;
  gsize block_size_before;
  FuzzBlock *block, moved, before;
  guint8 *ptr;

  if (state->blocks->len == 0)
    {
      /* reallocate (NULL) is an allocation. */
      do_allocate (state, FALSE, new_size, 8);
      return;
    }

  index = fuzz_byte (state->input) % state->blocks->len;
  block = &g_array_index (state->blocks, FuzzBlock, index);
  code = fuzz_expected_layout_error (new_size, block->alignment);
  if (code == 0)
    {
      gsize alignment = block->alignment;
      clamp_request (state, &new_size, &alignment);
      /* Moving a block from under others would strand its old place. */
      if (state->lifo && !fuzz_model_is_top (state, index))
        code = NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER;
    }

  available_before = nebula_allocator_get_bytes_available (state->alloc);
  ptr = nebula_allocator_reallocate (state->alloc, block->ptr, block->size, new_size,
                                     block->alignment, &error);
  if (ptr == NULL)
    {
      if (code != 0)
        fuzz_model_expect_error (error, code);
      else
        FUZZ_CHECK (error != NULL &&
                    state->target->may_fail (state, new_size, block->alignment,
                                             available_before, error));
      state->stats.failed_allocations++;
      /* The block is untouched and still the caller's. */
      check_block (block, block->size);
      return;
    }

  FUZZ_CHECK (code == 0 && error == NULL);
  block_size_before = block->size;
  before = *block;
  check_block (&(FuzzBlock) { ptr, MIN (block->size, new_size), block->alignment, block->seq },
               MIN (block->size, new_size));
  count_reallocation (state, block->size, new_size);

  moved = (FuzzBlock) { ptr, new_size, block->alignment, state->next_seq++, block->end };
  if (ptr != block->ptr)
    remember_freed (block);
  g_array_remove_index_fast (state->blocks, index);
  check_new_block (state, &moved);
  fill_block (&moved);
  g_array_append_val (state->blocks, moved);
  if (state->target->on_block != NULL)
    state->target->on_block (state, &before, &moved);

  if (new_size < block_size_before)
    if (state->target->on_rewind != NULL)
      state->target->on_rewind (state, FALSE);
}

static void
do_deallocate (FuzzState *state)
{
  g_autoptr(GError) error = NULL;
  FuzzBlock block;
  guint index;

  if (state->blocks->len == 0)
    return;

  index = fuzz_byte (state->input) % state->blocks->len;
  block = g_array_index (state->blocks, FuzzBlock, index);
  check_block (&block, block.size);
  if (state->lifo && !fuzz_model_is_top (state, index))
    {
      /* Refused, and nothing changes. */
      FUZZ_CHECK (!nebula_allocator_deallocate (state->alloc, block.ptr, block.size,
                                                block.alignment, &error));
      fuzz_model_expect_error (error, NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER);
      check_block (&block, block.size);
      return;
    }
  FUZZ_CHECK (nebula_allocator_deallocate (state->alloc, block.ptr, block.size, block.alignment,
                                           &error));
  FUZZ_CHECK (error == NULL);
  g_array_remove_index_fast (state->blocks, index);
  remember_freed (&block);
  count_deallocation (state, block.size);
  if (state->target->on_block != NULL)
    state->target->on_block (state, &block, NULL);

  if (state->target->on_rewind != NULL)
    state->target->on_rewind (state, FALSE);
}

static void
do_reset (FuzzState *state)
{
  nebula_allocator_reset (state->alloc);

  /* Everything in use counts as freed and the balance starts anew; blocks
   * a reset leaves alive (a system allocator without check-frees) and
   * that are freed later take it below 0. */
  state->stats.resets++;
  state->stats.total_bytes_freed += (guint64) MAX ((gint64) state->stats.bytes_in_use, 0);
  state->stats.bytes_in_use = 0;
  if (state->reset_frees)
    {
      g_array_set_size (state->blocks, 0);
      n_freed = 0;
    }

  if (state->target->on_rewind != NULL)
    state->target->on_rewind (state, TRUE);
}

/* Every public operation with a layout the interface must refuse. */
static void
do_bad_layout (FuzzState *state)
{
  g_autoptr(GError) error = NULL;
  guint8 which = fuzz_byte (state->input);
  gsize size = fuzz_read_size (state->input);
  gsize alignment = fuzz_read_alignment (state->input);
  gint code = fuzz_expected_layout_error (size, alignment);
  FuzzBlock *block;

  if (code == 0)
    {
      /* Make it bad: an alignment that is not a power of two. */
      alignment = alignment * 3;
      code = fuzz_expected_layout_error (size, alignment);
      if (code == 0)
        return;
    }

  switch (which % 3)
    {
    case 0:
      do_allocate (state, (which & 4) != 0, size, alignment);
      break;

    case 1:
      if (state->blocks->len == 0)
        return;
      block = &g_array_index (state->blocks, FuzzBlock, which % state->blocks->len);
      FUZZ_CHECK (nebula_allocator_reallocate (state->alloc, block->ptr, block->size, size,
                                               alignment, &error) == NULL);
      fuzz_model_expect_error (error, fuzz_expected_layout_error (block->size, alignment) != 0
                             ? fuzz_expected_layout_error (block->size, alignment) : code);
      state->stats.failed_allocations++;
      check_block (block, block->size);
      break;

    default:
      if (state->blocks->len == 0)
        return;
      block = &g_array_index (state->blocks, FuzzBlock, which % state->blocks->len);
      FUZZ_CHECK (!nebula_allocator_deallocate (state->alloc, block->ptr, size, alignment, &error));
      fuzz_model_expect_error (error, code);
      check_block (block, block->size);
      break;
    }
}

static void
do_foreign_pointer (FuzzState *state)
{
  g_autoptr(GError) error = NULL;
  guint8 which = fuzz_byte (state->input);
  /* A valid layout: the pointer must be what is refused. */
  gsize size = 1 + which % MIN (sizeof foreign_memory, state->max_request);

  if (!state->checks_pointers)
    return;

  FUZZ_CHECK (!nebula_allocator_owns (state->alloc, foreign_memory + which % sizeof foreign_memory));

  if (which & 1)
    {
      FUZZ_CHECK (!nebula_allocator_deallocate (state->alloc, foreign_memory, size, 1, &error));
    }
  else
    {
      FUZZ_CHECK (nebula_allocator_reallocate (state->alloc, foreign_memory, size,
                                               MIN (size * 2, state->max_request), 1,
                                               &error) == NULL);
      state->stats.failed_allocations++;
    }
  fuzz_model_expect_error (error, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
}

static void
do_double_free (FuzzState *state)
{
  g_autoptr(GError) error = NULL;
  const FuzzBlock *block;
  gboolean owned;

  if (!state->checks_double_free || n_freed == 0)
    return;

  block = &freed[fuzz_byte (state->input) % MIN (n_freed, N_FREED)];
  /* The C library may have handed the address out again. */
  if (is_live_address (state, block->ptr))
    return;

  /* A stack's freed block may lie under newer ones now: still its own
   * memory, but not the top. */
  owned = state->lifo && nebula_allocator_owns (state->alloc, block->ptr);
  FUZZ_CHECK (!nebula_allocator_deallocate (state->alloc, block->ptr, block->size,
                                            block->alignment, &error));
  if (owned)
    fuzz_model_expect_error (error, NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER);
  else
    fuzz_model_expect_error (error, state->double_free_code != 0
                                      ? state->double_free_code
                                      : NEBULA_ALLOCATOR_ERROR_INVALID_POINTER);
}

static void
do_owns (FuzzState *state)
{
  const FuzzBlock *block;

  if (!state->checks_pointers || state->blocks->len == 0)
    return;

  block = &g_array_index (state->blocks, FuzzBlock, fuzz_byte (state->input) % state->blocks->len);
  FUZZ_CHECK (nebula_allocator_owns (state->alloc, block->ptr));
}

int
fuzz_run (const FuzzTarget *target,
          const guint8     *data,
          gsize             size)
{
  FuzzInput input = { data, size };
  FuzzState state = { 0, };
  guint n_ops = N_COMMON_OPS + target->n_extra_ops;

  state.target = target;
  state.input = &input;
  state.blocks = g_array_new (FALSE, FALSE, sizeof (FuzzBlock));
  state.track_stats = TRUE;
  n_freed = 0;

  state.alloc = target->create (&state);
  if (state.alloc == NULL)
    {
      g_array_unref (state.blocks);
      return 0;
    }

  while (!fuzz_exhausted (&input))
    {
      guint op = fuzz_byte (&input) % n_ops;

      if (g_getenv ("FUZZ_DEBUG") != NULL)
        fprintf (stderr, "op %u: %u, %u live blocks\n", state.n_ops, op, state.blocks->len);

      switch (op)
        {
        case OP_ALLOCATE:
        case OP_ALLOCATE_ZEROED:
          {
            gsize request = fuzz_read_size (&input);
            gsize alignment = fuzz_read_alignment (&input);

            do_allocate (&state, op == OP_ALLOCATE_ZEROED, request, alignment);
          }
          break;
        case OP_REALLOCATE:
          do_reallocate (&state);
          break;
        case OP_DEALLOCATE:
          do_deallocate (&state);
          break;
        case OP_RESET:
          do_reset (&state);
          break;
        case OP_BAD_LAYOUT:
          do_bad_layout (&state);
          break;
        case OP_FOREIGN_POINTER:
          do_foreign_pointer (&state);
          break;
        case OP_DOUBLE_FREE:
          do_double_free (&state);
          break;
        case OP_OWNS:
          do_owns (&state);
          break;
        default:
          target->extra_op (&state, op - N_COMMON_OPS);
          break;
        }

      state.n_ops++;
      fuzz_model_check_stats (&state);
      if (state.n_ops % 8 == 0)
        fuzz_model_check_all (&state);
    }

  /* Every block kept its bytes; give them all back. */
  fuzz_model_check_all (&state);
  while (state.blocks->len > 0)
    {
      guint index = state.blocks->len - 1;
      FuzzBlock block;

      /* A LIFO allocator takes its blocks back newest first. */
      while (state.lifo && !fuzz_model_is_top (&state, index))
        index--;
      block = g_array_index (state.blocks, FuzzBlock, index);
      FUZZ_CHECK (nebula_allocator_deallocate (state.alloc, block.ptr, block.size,
                                               block.alignment, NULL));
      count_deallocation (&state, block.size);
      g_array_remove_index (state.blocks, index);
    }
  fuzz_model_check_stats (&state);

  target->destroy (&state);
  g_object_unref (state.alloc);
  g_array_unref (state.blocks);
  return 0;
}
