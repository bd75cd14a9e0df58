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

G_END_DECLS
