/* nebula-cleanup-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-cleanup.h"

G_BEGIN_DECLS

/* The hooks that give cleanups their lifetimes (nebula-cleanup.c):
 *
 * - nebula_allocator_reset() calls nebula_cleanup_run_all() before the
 *   allocator's own reset, so cleanups still see their data;
 * - a bump checkpoint and a stack marker record nebula_cleanup_mark() when
 *   they are taken, and a restore or release that has passed its checks
 *   calls nebula_cleanup_run_after() with it before memory is rewound;
 * - disposing the allocator runs what is left (a weak reference, set up by
 *   the first registration).
 *
 * nebula_cleanup_run_after() says whether any cleanup ran: one may have
 * used the allocator (even reset it), so a caller that checked its state
 * before checks it again.
 *
 * All are cheap when no cleanup was ever registered: one qdata lookup. */
/* nebula_allocator_add_cleanup_full() with a priority: a cleanup added
 * with @first runs before the others of the same pass (newest first among
 * those too), so that child arenas are released before their parent's own
 * cleanups run. */
guint   nebula_cleanup_add       (gpointer           allocator,
                                  NebulaCleanupFunc  func,
                                  gpointer           user_data,
                                  GDestroyNotify     destroy,
                                  gboolean           first);
guint64 nebula_cleanup_mark      (gpointer allocator);
gboolean nebula_cleanup_run_after (gpointer allocator,
                                   guint64  mark);
void    nebula_cleanup_run_all   (gpointer allocator);

G_END_DECLS
