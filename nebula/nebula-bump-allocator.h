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

NEBULA_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (NebulaBumpAllocator, nebula_bump_allocator, NEBULA, BUMP_ALLOCATOR, GObject)

NEBULA_AVAILABLE_IN_ALL
NebulaBumpAllocator  *nebula_bump_allocator_new        (gsize                       capacity,
                                                        GError                    **error);
NEBULA_AVAILABLE_IN_ALL
NebulaBumpCheckpoint *nebula_bump_allocator_checkpoint (NebulaBumpAllocator        *self);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_bump_allocator_restore    (NebulaBumpAllocator        *self,
                                                        const NebulaBumpCheckpoint *checkpoint,
                                                        GError                    **error);
NEBULA_AVAILABLE_IN_ALL
guint                 nebula_bump_allocator_get_n_chunks (NebulaBumpAllocator      *self);

NEBULA_AVAILABLE_IN_ALL
GType                 nebula_bump_checkpoint_get_type  (void) G_GNUC_CONST;
NEBULA_AVAILABLE_IN_ALL
NebulaBumpCheckpoint *nebula_bump_checkpoint_copy      (const NebulaBumpCheckpoint *checkpoint);
NEBULA_AVAILABLE_IN_ALL
void                  nebula_bump_checkpoint_free      (NebulaBumpCheckpoint       *checkpoint);
NEBULA_AVAILABLE_IN_ALL
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

NEBULA_AVAILABLE_IN_ALL
NebulaBumpScope      *nebula_bump_scope_new            (NebulaBumpAllocator        *bump);
NEBULA_AVAILABLE_IN_ALL
void                  nebula_bump_scope_free           (NebulaBumpScope            *scope);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NebulaBumpScope, nebula_bump_scope_free)

#ifndef __GI_SCANNER__

/*< private >
 * NebulaBumpFast:
 *
 * The hot fields of a #NebulaBumpAllocator, the first thing after the
 * #GObject in the instance, so that the inline functions below can allocate
 * without a call. Not API: the layout may change with the library's ABI
 * version, and nothing but the inline functions may touch it.
 *
 * @base, @cursor and @limit delimit the current chunk and its used part.
 * @max_fast_size is the largest request the inline path may serve: 0 while
 * the allocator is uninitialized, thread-safe or filling memory (every
 * request then takes the exported path), the large-allocation threshold
 * when it can grow, 2^62 - 1 otherwise (so that no arithmetic can wrap).
 * @stats points at the allocator's plain counters when it keeps statistics
 * without atomics, else %NULL.
 */
typedef struct
{
  guint8               *cursor;
  guint8               *limit;
  guint8               *last;
  guint8               *base;
  gsize                 min_alloc_mask;
  gsize                 max_fast_size;
  NebulaAllocatorStats *stats;
} NebulaBumpFast;

#define _NEBULA_BUMP_FAST(self) ((NebulaBumpFast *) (gpointer) ((GObject *) (self) + 1))

/* Serves the request from the current chunk into *out, or returns FALSE
 * for the exported path to handle it. size - 1 wraps for 0, so a single
 * comparison sends empty and large requests (and every request of a
 * slow-mode allocator) there. max_fast_size is below 2^62 and user-space
 * addresses below 2^57, so start + rounded cannot wrap even for the
 * largest alignment, and one comparison with the limit is enough. An
 * alignment that is not a power of two could pass the arithmetic, so it is
 * tested too; for a constant alignment the compiler drops the test. */
static inline gboolean
_nebula_bump_fast_alloc (NebulaBumpFast *fast,
                         gsize           size,
                         gsize           alignment,
                         gpointer       *out)
{
  guintptr start = ((guintptr) fast->cursor + alignment - 1) & ~(guintptr) (alignment - 1);
  guintptr end = start + ((size + fast->min_alloc_mask) & ~fast->min_alloc_mask);

  if (G_UNLIKELY (size - 1 >= fast->max_fast_size ||
                  (alignment & (alignment - 1)) != 0 || alignment == 0 ||
                  end > (guintptr) fast->limit))
    return FALSE;

  fast->last = (guint8 *) start;
  fast->cursor = (guint8 *) end;

  _nebula_fast_stats_alloc (fast->stats, size);

  *out = (gpointer) start;
  return TRUE;
}

/* Gives back a block of the current chunk: the most recent one rewinds the
 * cursor, any other succeeds without effect (as the exported path does).
 * FALSE: the exported path must decide. */
static inline gboolean
_nebula_bump_fast_dealloc (NebulaBumpFast *fast,
                           gpointer        ptr,
                           gsize           size,
                           gsize           alignment)
{
  gsize rounded = (size + fast->min_alloc_mask) & ~fast->min_alloc_mask;

  if (G_UNLIKELY (size - 1 >= fast->max_fast_size ||
                  (alignment & (alignment - 1)) != 0 || alignment == 0 ||
                  (guint8 *) ptr < fast->base || (guint8 *) ptr >= fast->cursor))
    return FALSE;

  if ((guint8 *) ptr == fast->last && (guint8 *) ptr + rounded == fast->cursor)
    {
      fast->cursor = (guint8 *) ptr;
      fast->last = NULL;
    }

  _nebula_fast_stats_free (fast->stats, size);

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

  if (G_LIKELY (_nebula_bump_fast_alloc (_NEBULA_BUMP_FAST (self), size, alignment, &ptr)))
    return ptr;

  return nebula_allocator_allocate ((NebulaAllocator *) self, size, alignment, error);
}

/**
 * nebula_bump_allocator_dealloc: (skip)
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
nebula_bump_allocator_dealloc (NebulaBumpAllocator  *self,
                               gpointer              ptr,
                               gsize                 size,
                               gsize                 alignment,
                               GError              **error)
{
  if (G_LIKELY (_nebula_bump_fast_dealloc (_NEBULA_BUMP_FAST (self), ptr, size, alignment)))
    return TRUE;

  return nebula_allocator_deallocate ((NebulaAllocator *) self, ptr, size, alignment, error);
}

#endif /* __GI_SCANNER__ */

G_END_DECLS
