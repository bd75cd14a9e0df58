/* nebula-child-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-allocator.h"

G_BEGIN_DECLS

/* Child arenas (nebula-child.c): a bump allocator made with a "parent"
 * takes its chunks from the parent (any NebulaAllocator) instead of the
 * system. A cleanup on the parent, registered again with every chunk
 * taken (so that it is newer than any scope of the parent the chunk was
 * taken in), releases the child entirely (every chunk back, the child's
 * own cleanups and children first) when the parent is reset, ends such a
 * scope or is disposed. The child holds the parent weakly: after the
 * parent is gone, a chunk request is an error naming it. */
typedef struct _NebulaChildLink NebulaChildLink;

/* Releases every chunk of @child: called when its parent resets or goes.
 * The child's kind knows how (a bump resets keeping no chunk). */
typedef void (*NebulaChildReleaseFunc) (NebulaAllocator *child);

NebulaChildLink  *nebula_child_link_new         (NebulaAllocator  *child,
                                                 NebulaAllocator  *parent,
                                                 NebulaChildReleaseFunc release);
void              nebula_child_link_free        (NebulaChildLink  *link);
gpointer          nebula_child_link_alloc       (NebulaChildLink  *link,
                                                 gsize             size,
                                                 GError          **error);
void              nebula_child_link_dealloc     (NebulaChildLink  *link,
                                                 gpointer          memory,
                                                 gsize             size);
NebulaAllocator  *nebula_child_link_dup_parent  (NebulaChildLink  *link);

/* Adds "parent" (its name) and "children" (their reports) to a report. */
void              nebula_child_report           (NebulaAllocator  *self,
                                                 GVariantDict     *report);

G_END_DECLS
