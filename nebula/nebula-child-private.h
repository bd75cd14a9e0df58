/* nebula-child-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-allocator.h"

G_BEGIN_DECLS

/* Child arenas (nebula-child.c): a bump or stack allocator made with a
 * "parent" takes its chunks from the parent (any NebulaAllocator) instead
 * of the system, a pool its slabs. A cleanup on the parent, registered
 * again with every chunk taken (so that it is newer than any scope of the
 * parent the chunk was taken in), releases the child entirely (every
 * chunk back, the child's own cleanups and children first) when the
 * parent is reset, ends such a scope or is disposed. The child holds the
 * parent weakly: after the parent is gone, a chunk request is an error
 * naming it.
 *
 * A kind takes part with: a "parent" property (nebula_child_param_spec(),
 * set with nebula_child_link_new(), read with
 * nebula_child_link_dup_parent()), a release function, its chunks taken
 * and given through nebula_child_block_source() and _sink() (or
 * nebula_child_link_alloc() and _dealloc() for another alignment), and
 * the link freed after its chunks at finalization. */
typedef struct _NebulaChildLink NebulaChildLink;

/* Releases every chunk of @child: called when its parent resets or goes.
 * The child's kind knows how (a bump resets keeping no chunk, a stack or
 * a pool resets and then gives back its first chunk or slab too); the
 * child must keep working after it (its next allocation takes a new
 * chunk), and its blocks from before are foreign to it. */
typedef void (*NebulaChildReleaseFunc) (NebulaAllocator *child);

/* NULL for a NULL @parent: not a child. */
NebulaChildLink  *nebula_child_link_new         (NebulaAllocator  *child,
                                                 NebulaAllocator  *parent,
                                                 NebulaChildReleaseFunc release);
void              nebula_child_link_free        (NebulaChildLink  *link);
gpointer          nebula_child_link_alloc       (NebulaChildLink  *link,
                                                 gsize             size,
                                                 gsize             alignment,
                                                 GError          **error);
void              nebula_child_link_dealloc     (NebulaChildLink  *link,
                                                 gpointer          memory,
                                                 gsize             size,
                                                 gsize             alignment);
/* The parent, or NULL (@link NULL, or the parent finalized). */
NebulaAllocator  *nebula_child_link_dup_parent  (NebulaChildLink  *link);

/* A NebulaBlockSource and NebulaBlockSink (nebula-memory-budget-private.h)
 * whose data is the link: chunks of the parent, aligned to 16 bytes. */
gpointer          nebula_child_block_source     (gpointer          link,
                                                 gsize             size,
                                                 GError          **error);
void              nebula_child_block_sink       (gpointer          link,
                                                 gpointer          block,
                                                 gsize             size);

/* A new "parent" property (construct-only, any NebulaAllocator). */
GParamSpec       *nebula_child_param_spec       (void);

/* Adds "parent" (its name) and "children" (their reports) to a report. */
void              nebula_child_report           (NebulaAllocator  *self,
                                                 GVariantDict     *report);

G_END_DECLS
