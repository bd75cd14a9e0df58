/* nebula-bump-allocator.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>

#include "nebula-allocator.h"
#include "nebula-allocator-fast.h"
#include "nebula-macros.h"

G_BEGIN_DECLS

/**
 * NebulaResetPolicy:
 * @NEBULA_RESET_POLICY_KEEP_LARGEST: keep the largest chunk, free the others
 * @NEBULA_RESET_POLICY_KEEP_ALL: keep every chunk for reuse
 * @NEBULA_RESET_POLICY_FREE_ALL: free every chunk; the next allocation
 *   starts a new one of #NebulaBumpAllocator:capacity bytes
 *
 * What a #NebulaBumpAllocator does with its chunks on reset. Dedicated
 * chunks of large allocations are always freed.
 */
typedef enum
{
  NEBULA_RESET_POLICY_KEEP_LARGEST,
  NEBULA_RESET_POLICY_KEEP_ALL,
  NEBULA_RESET_POLICY_FREE_ALL,
} NebulaResetPolicy;

#define NEBULA_TYPE_BUMP_ALLOCATOR  (nebula_bump_allocator_get_type ())
#define NEBULA_TYPE_BUMP_CHECKPOINT (nebula_bump_checkpoint_get_type ())

typedef struct _NebulaBumpCheckpoint NebulaBumpCheckpoint;

NEBULA_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (NebulaBumpAllocator, nebula_bump_allocator, NEBULA, BUMP_ALLOCATOR, GObject)

NEBULA_AVAILABLE_IN_0_1
NebulaBumpAllocator  *nebula_bump_allocator_new        (gsize                       capacity,
                                                        GError                    **error);
NEBULA_AVAILABLE_IN_0_1
NebulaBumpCheckpoint *nebula_bump_allocator_checkpoint (NebulaBumpAllocator        *self);
NEBULA_AVAILABLE_IN_0_1
gboolean              nebula_bump_allocator_restore    (NebulaBumpAllocator        *self,
                                                        const NebulaBumpCheckpoint *checkpoint,
                                                        GError                    **error);
NEBULA_AVAILABLE_IN_0_1
guint                 nebula_bump_allocator_get_n_chunks (NebulaBumpAllocator      *self);

NEBULA_AVAILABLE_IN_0_1
GType                 nebula_bump_checkpoint_get_type  (void) G_GNUC_CONST;
NEBULA_AVAILABLE_IN_0_1
NebulaBumpCheckpoint *nebula_bump_checkpoint_copy      (const NebulaBumpCheckpoint *checkpoint);
NEBULA_AVAILABLE_IN_0_1
void                  nebula_bump_checkpoint_free      (NebulaBumpCheckpoint       *checkpoint);
NEBULA_AVAILABLE_IN_0_1
guint64               nebula_bump_checkpoint_get_position (const NebulaBumpCheckpoint *checkpoint);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NebulaBumpCheckpoint, nebula_bump_checkpoint_free)

/**
 * NebulaBumpScope: (skip)
 *
 * A checkpoint that restores itself when freed: declare it with g_autoptr()
 * and everything allocated in the enclosing scope is released at its end.
 * Python has `with bump.scope():`.
 */
typedef struct _NebulaBumpScope NebulaBumpScope;

NEBULA_AVAILABLE_IN_0_1
NebulaBumpScope      *nebula_bump_scope_new            (NebulaBumpAllocator        *bump);
NEBULA_AVAILABLE_IN_0_1
void                  nebula_bump_scope_free           (NebulaBumpScope            *scope);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NebulaBumpScope, nebula_bump_scope_free)

#ifndef __GI_SCANNER__

/* Moves the cursor past the block [start, end) and returns it. */
static inline gpointer
_nebula_bump_inline_take (NebulaBumpFast *fast,
                          guintptr        start,
                          guintptr        end)
{
  fast->last = (guint8 *) start;
  fast->cursor = (guint8 *) end;
  return (gpointer) start;
}

/* The inline path of nebula_bump_allocator_alloc(). The default
 * configuration (statistics kept: @counted_max open) passes the first test
 * and counts at a fixed offset, without loading or testing the stats
 * pointer. An allocator without statistics fails it and takes the second
 * test, which counts nothing: @counted_max is 0 with statistics kept only
 * when @max_fast_size is 0 too, which refuses every request. The same
 * blocks and counts as _nebula_bump_fast_alloc(), the path
 * nebula_allocator_allocate() tries. */
static inline gboolean
_nebula_bump_inline_alloc (NebulaBumpFast *fast,
                           gsize           size,
                           gsize           alignment,
                           gpointer       *out)
{
  guintptr start;
  guintptr end = _nebula_bump_span (fast->cursor, fast->min_alloc_mask, size, alignment, &start);

  if (G_LIKELY (!_nebula_fast_layout_refused (size, alignment, fast->counted_max) &&
                end <= (guintptr) fast->limit))
    {
      *out = _nebula_bump_inline_take (fast, start, end);
      _nebula_fast_stats_count_alloc (_NEBULA_BUMP_STATS (fast), size);
      return TRUE;
    }

  if (G_UNLIKELY (_nebula_fast_layout_refused (size, alignment, fast->max_fast_size) ||
                  end > (guintptr) fast->limit))
    return FALSE;

  *out = _nebula_bump_inline_take (fast, start, end);
  return TRUE;
}

/**
 * nebula_bump_allocator_alloc: (skip)
 * @self: a #NebulaBumpAllocator
 * @size: the number of bytes
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * nebula_allocator_allocate() for a #NebulaBumpAllocator, inlined into the
 * caller: a request the current chunk can hold costs a few instructions and
 * no call; anything else (a full chunk, growth, a large request, a size of
 * 0, an invalid layout, a thread-safe or filling allocator) goes through
 * nebula_allocator_allocate(), with identical results and statistics.
 *
 * Returns: (transfer none) (nullable): the memory, or %NULL with @error set
 */
static inline gpointer
nebula_bump_allocator_alloc (NebulaBumpAllocator  *self,
                             gsize                 size,
                             gsize                 alignment,
                             GError              **error)
{
  gpointer ptr;

  if (G_LIKELY (_nebula_bump_inline_alloc (_NEBULA_BUMP_FAST (self), size, alignment, &ptr)))
    {
      _NEBULA_FAST_BLOCK (ptr);
      return ptr;
    }

  return nebula_allocator_allocate ((NebulaAllocator *) self, size, alignment, error);
}

/**
 * nebula_bump_allocator_free: (skip)
 * @self: a #NebulaBumpAllocator
 * @ptr: a block from @self
 * @size: the size @ptr was allocated with
 * @alignment: the alignment @ptr was allocated with
 * @error: return location for a #GError
 *
 * nebula_allocator_deallocate() for a #NebulaBumpAllocator, inlined: a
 * block of the current chunk is given back without a call (the most recent
 * one rewinds the cursor); every other case takes the exported path.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
static inline gboolean
nebula_bump_allocator_free (NebulaBumpAllocator  *self,
                            gpointer              ptr,
                            gsize                 size,
                            gsize                 alignment,
                            GError              **error)
{
  if (G_LIKELY (_nebula_bump_fast_dealloc (_NEBULA_BUMP_FAST (self), ptr, size, alignment)))
    return TRUE;

  return nebula_allocator_deallocate ((NebulaAllocator *) self, ptr, size, alignment, error);
}

/**
 * NebulaBumpBatch: (skip)
 *
 * A run of allocations from one #NebulaBumpAllocator whose cursor lives in
 * the caller's local variable, so that the compiler keeps it in a
 * register: writing through a `char *` into a block forces C to reload a
 * cursor kept in the allocator (the block could alias it), never one kept
 * in a local whose address does not escape. C only; the fields are
 * private.
 *
 * |[<!-- language="C" -->
 * NebulaBumpBatch batch;
 *
 * nebula_bump_batch_begin (&batch, bump);
 * for (guint i = 0; i < n; i++)
 *   {
 *     char *p = nebula_bump_batch_alloc (&batch, sizes[i], 8, &error);
 *
 *     if (p == NULL)
 *       break;
 *     p[0] = 0;
 *   }
 * nebula_bump_batch_end (&batch);
 * ]|
 *
 * Between nebula_bump_batch_begin() and nebula_bump_batch_end() the
 * allocator must not be used other than through the batch: its cursor
 * and statistics are behind until the end. nebula_bump_batch_end()
 * reports a use in between with a critical warning. A request the current
 * chunk cannot hold, a thread-safe or filling allocator, or memory tools
 * watching take nebula_allocator_allocate() for that request, with the
 * same results and errors as nebula_bump_allocator_alloc().
 */
typedef struct
{
  /*< private >*/
  NebulaBumpAllocator *owner;
  guint8              *cursor;
  guint8              *limit;
  guint8              *last;
  guint8              *origin;
  gsize                min_alloc_mask;
  gsize                max_fast_size;
  guint64              n_allocations;
  guint64              n_bytes;
} NebulaBumpBatch;

/* Takes the allocator's fast fields into the batch. */
static inline void
_nebula_bump_batch_load (NebulaBumpBatch *batch)
{
  const NebulaBumpFast *fast = _NEBULA_BUMP_FAST (batch->owner);

  /* A closed fast path (0) leaves the batch closed: nothing is taken, and
   * nothing will be written back. */
  batch->max_fast_size = fast->max_fast_size;
  batch->cursor = batch->origin = fast->cursor;
  batch->limit = fast->limit;
  batch->last = fast->last;
  batch->min_alloc_mask = fast->min_alloc_mask;
  batch->n_allocations = 0;
  batch->n_bytes = 0;
}

/* Writes the batch's cursor and counts back into the allocator. */
static inline void
_nebula_bump_batch_store (NebulaBumpBatch *batch)
{
  NebulaBumpFast *fast;

  if (batch->max_fast_size == 0 || batch->cursor == batch->origin)
    return;

  fast = _NEBULA_BUMP_FAST (batch->owner);
  if (G_UNLIKELY (fast->cursor != batch->origin))
    {
      /* Someone allocated or freed behind the batch's back: both hold
       * blocks from the same place. Keep the higher cursor so that no
       * further block overlaps either. */
      g_critical ("NebulaBumpBatch: the allocator was used outside the batch between "
                  "nebula_bump_batch_begin() and nebula_bump_batch_end()");
      if (fast->cursor > batch->cursor)
        return;
    }

  fast->cursor = batch->cursor;
  fast->last = batch->last;
  if (fast->stats != NULL)
    {
      fast->stats->allocations += batch->n_allocations;
      fast->stats->total_bytes_allocated += batch->n_bytes;
    }
  batch->origin = batch->cursor;
  batch->n_allocations = 0;
  batch->n_bytes = 0;
}

/**
 * nebula_bump_batch_begin: (skip)
 * @batch: a #NebulaBumpBatch, usually a local variable
 * @self: a #NebulaBumpAllocator
 *
 * Starts a batch of allocations from @self. See #NebulaBumpBatch.
 */
static inline void
nebula_bump_batch_begin (NebulaBumpBatch     *batch,
                         NebulaBumpAllocator *self)
{
  batch->owner = self;
  _nebula_bump_batch_load (batch);
}

/**
 * nebula_bump_batch_alloc: (skip)
 * @batch: a #NebulaBumpBatch between begin and end
 * @size: the number of bytes
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * nebula_bump_allocator_alloc() within a batch: the same blocks, the same
 * errors, with the cursor in the caller's register.
 *
 * Returns: (transfer none) (nullable): the memory, or %NULL with @error set
 */
static inline gpointer
nebula_bump_batch_alloc (NebulaBumpBatch  *batch,
                         gsize             size,
                         gsize             alignment,
                         GError          **error)
{
  guintptr start;
  guintptr end = _nebula_bump_span (batch->cursor, batch->min_alloc_mask, size, alignment, &start);
  gpointer ptr;

  if (G_LIKELY (_nebula_fast_layout_ok (size, alignment, batch->max_fast_size) &&
                end <= (guintptr) batch->limit))
    {
      batch->last = (guint8 *) start;
      batch->cursor = (guint8 *) end;
      batch->n_allocations++;
      batch->n_bytes += size;
      _NEBULA_FAST_BLOCK ((gpointer) start);
      return (gpointer) start;
    }

  _nebula_bump_batch_store (batch);
  ptr = nebula_allocator_allocate ((NebulaAllocator *) batch->owner, size, alignment, error);
  _nebula_bump_batch_load (batch);
  return ptr;
}

/**
 * nebula_bump_batch_end: (skip)
 * @batch: a #NebulaBumpBatch
 *
 * Ends a batch: the allocator's cursor and statistics catch up. The
 * allocator may be used directly again; the batch may be begun again.
 */
static inline void
nebula_bump_batch_end (NebulaBumpBatch *batch)
{
  _nebula_bump_batch_store (batch);
  batch->max_fast_size = 0;
}

#endif /* __GI_SCANNER__ */

G_END_DECLS
