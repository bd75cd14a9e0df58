/* nebula-cache-ghost-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The ghost queue of S3-FIFO: a FIFO of distinct key hashes with a
 * capacity. Remembering a hash already there moves it to the back;
 * forgetting takes it out wherever it is. Two arrays and no allocation per
 * operation: a ring of hashes in arrival order, where a hash taken out of
 * the middle leaves a dead slot, and an open-addressing index from hash to
 * its place in the ring. */

typedef struct
{
  guint   hash;
  guint   used;
  guint64 position;               /* in the ring */
} GhostSlot;

typedef struct
{
  guint     *ring;                /* hashes, at position & ring_mask */
  guint8    *alive;
  guint64    head;                /* positions: the oldest and the next */
  guint64    tail;
  guint      ring_mask;
  guint      length;              /* live hashes */
  GhostSlot *index;
  guint      index_bits;
} Ghost;

void      nebula_cache_ghost_init     (Ghost *ghost);
void      nebula_cache_ghost_clear    (Ghost *ghost);
/* Puts @hash at the back, then drops the oldest while more than @capacity. */
void      nebula_cache_ghost_remember (Ghost *ghost,
                                       guint  hash,
                                       guint  capacity);
/* Takes @hash out; FALSE if it was not there. */
gboolean  nebula_cache_ghost_forget   (Ghost *ghost,
                                       guint  hash);

G_END_DECLS
