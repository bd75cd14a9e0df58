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

#endif /* __GI_SCANNER__ */

G_END_DECLS
