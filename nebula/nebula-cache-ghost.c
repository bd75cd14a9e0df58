/* nebula-cache-ghost.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The ghost queue of S3-FIFO (see nebula-cache-ghost-private.h). It used to
 * be a GQueue with a GHashTable from hash to link: three hash-table
 * operations and a list node per eviction from the small queue.
 */

#include "config.h"

#include "nebula-cache-ghost-private.h"

#define MIN_BITS 4

static inline guint
ideal_slot (const Ghost *ghost,
            guint        hash)
{
  return (hash * 0x9E3779B1u) >> (32 - ghost->index_bits);
}

void
nebula_cache_ghost_init (Ghost *ghost)
{
  ghost->ring_mask = (1u << MIN_BITS) - 1;
  ghost->ring = g_new (guint, 1u << MIN_BITS);
  ghost->alive = g_new0 (guint8, 1u << MIN_BITS);
  ghost->head = ghost->tail = 0;
  ghost->length = 0;
  ghost->index_bits = MIN_BITS + 1;
  ghost->index = g_new0 (GhostSlot, 1u << ghost->index_bits);
}

void
nebula_cache_ghost_clear (Ghost *ghost)
{
  g_clear_pointer (&ghost->ring, g_free);
  g_clear_pointer (&ghost->alive, g_free);
  g_clear_pointer (&ghost->index, g_free);
  ghost->length = 0;
}

/* The slot of @hash in the index, or of the empty slot where it would go. */
static inline guint
find (const Ghost *ghost,
      guint        hash)
{
  guint mask = (1u << ghost->index_bits) - 1;
  guint i = ideal_slot (ghost, hash);

  while (ghost->index[i].used && ghost->index[i].hash != hash)
    i = (i + 1) & mask;
  return i;
}

/* Linear probing deletion by backward shift: no tombstones, so lookups
 * stay short however many hashes come and go. */
static void
index_delete (Ghost *ghost,
              guint  i)
{
  guint mask = (1u << ghost->index_bits) - 1;
  guint j = i;

  for (;;)
    {
      guint ideal;

      j = (j + 1) & mask;
      if (!ghost->index[j].used)
        break;
      ideal = ideal_slot (ghost, ghost->index[j].hash);
      /* The entry at j may move to i unless its ideal slot lies
       * cyclically in (i, j]. */
      if (i <= j ? (ideal <= i || ideal > j) : (ideal <= i && ideal > j))
        {
          ghost->index[i] = ghost->index[j];
          i = j;
        }
    }
  ghost->index[i].used = FALSE;
}

/* Rebuilds the ring with the live hashes only, in order, with room for as
 * many again, and the index to match (bigger if it got crowded). */
static void
compact (Ghost *ghost)
{
  guint size = 1u << MIN_BITS;
  guint index_bits = MIN_BITS + 1;
  guint *ring;
  guint8 *alive;
  guint64 n = 0;

  while (size < 2 * (ghost->length + 1))
    size <<= 1;
  while ((1u << index_bits) < 2 * size)
    index_bits++;
  ring = g_new (guint, size);
  alive = g_new0 (guint8, size);
  for (guint64 p = ghost->head; p != ghost->tail; p++)
    if (ghost->alive[p & ghost->ring_mask])
      {
        ring[n] = ghost->ring[p & ghost->ring_mask];
        alive[n] = TRUE;
        n++;
      }
  g_free (ghost->ring);
  g_free (ghost->alive);
  ghost->ring = ring;
  ghost->alive = alive;
  ghost->ring_mask = size - 1;
  ghost->head = 0;
  ghost->tail = n;

  g_free (ghost->index);
  ghost->index_bits = index_bits;
  ghost->index = g_new0 (GhostSlot, 1u << index_bits);
  for (guint64 p = 0; p < n; p++)
    {
      guint i = find (ghost, ring[p]);

      ghost->index[i] = (GhostSlot) { ring[p], TRUE, p };
    }
}

static void
drop_oldest (Ghost *ghost)
{
  while (!ghost->alive[ghost->head & ghost->ring_mask])
    ghost->head++;
  index_delete (ghost, find (ghost, ghost->ring[ghost->head & ghost->ring_mask]));
  ghost->alive[ghost->head & ghost->ring_mask] = FALSE;
  ghost->head++;
  ghost->length--;
}

void
nebula_cache_ghost_remember (Ghost *ghost,
                             guint  hash,
                             guint  capacity)
{
  guint i;

  /* The ring is full of live and dead slots: compact it. The index holds
   * the live hashes only, at most half of it after compaction. */
  if (ghost->tail - ghost->head > ghost->ring_mask)
    compact (ghost);

  i = find (ghost, hash);
  if (ghost->index[i].used)
    ghost->alive[ghost->index[i].position & ghost->ring_mask] = FALSE;
  else
    {
      ghost->index[i].hash = hash;
      ghost->index[i].used = TRUE;
      ghost->length++;
    }
  ghost->index[i].position = ghost->tail;
  ghost->ring[ghost->tail & ghost->ring_mask] = hash;
  ghost->alive[ghost->tail & ghost->ring_mask] = TRUE;
  ghost->tail++;

  while (ghost->length > capacity)
    drop_oldest (ghost);
}

gboolean
nebula_cache_ghost_forget (Ghost *ghost,
                           guint  hash)
{
  guint i = find (ghost, hash);

  if (!ghost->index[i].used)
    return FALSE;
  ghost->alive[ghost->index[i].position & ghost->ring_mask] = FALSE;
  index_delete (ghost, i);
  ghost->length--;
  return TRUE;
}
