/* nebula-system-table-private.h: the live blocks of a checked
 * NebulaSystemAllocator.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A set of (address, size) pairs: what malloc handed out through the
 * allocator and has not taken back. Open addressing with linear probing,
 * split into shards by a hash of the address so that threads rarely meet
 * on a lock; a thread-safe table takes one shard's spin lock per call (one
 * atomic exchange), a plain one none. Addresses are never %NULL. */
typedef struct _NebulaSystemTable NebulaSystemTable;

typedef enum
{
  NEBULA_SYSTEM_TABLE_TAKEN,       /* it was live with that size: now gone */
  NEBULA_SYSTEM_TABLE_ABSENT,      /* not a live block (foreign or freed) */
  NEBULA_SYSTEM_TABLE_WRONG_SIZE,  /* live, with another size: kept */
} NebulaSystemTableResult;

typedef void (*NebulaSystemTableFunc) (gpointer ptr,
                                       gsize    size,
                                       gpointer user_data);

NebulaSystemTable       *nebula_system_table_new        (gboolean               thread_safe);
void                     nebula_system_table_free       (NebulaSystemTable     *table);

/* FALSE only when the table could not grow (out of memory). */
gboolean                 nebula_system_table_insert     (NebulaSystemTable     *table,
                                                         gpointer               ptr,
                                                         gsize                  size);
/* Removes @ptr if it is live with @size; *@found_size (may be %NULL) gets
 * the size it was recorded with when the result is WRONG_SIZE. */
NebulaSystemTableResult  nebula_system_table_take       (NebulaSystemTable     *table,
                                                         gpointer               ptr,
                                                         gsize                  size,
                                                         gsize                 *found_size);
gboolean                 nebula_system_table_lookup     (NebulaSystemTable     *table,
                                                         gconstpointer          ptr,
                                                         gsize                 *size);
/* Replaces @old_ptr (live) by @new_ptr with @new_size; FALSE when out of
 * memory, in which case @old_ptr is gone from the table. */
gboolean                 nebula_system_table_move       (NebulaSystemTable     *table,
                                                         gpointer               old_ptr,
                                                         gpointer               new_ptr,
                                                         gsize                  new_size);

/* Calls @func on every pair, one shard locked at a time; with @clear the
 * table is empty afterwards (what a reset does, @func freeing). @func must
 * not call back into the table. */
void                     nebula_system_table_foreach    (NebulaSystemTable     *table,
                                                         NebulaSystemTableFunc  func,
                                                         gpointer               user_data,
                                                         gboolean               clear);

/* Totals, each shard read under its lock: blocks and bytes. */
void                     nebula_system_table_totals     (NebulaSystemTable     *table,
                                                         guint64               *n_blocks,
                                                         guint64               *n_bytes);

G_END_DECLS
