/* nebula-cache-queue-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Intrusive lists: the entries of a compute cache carry their links, so
 * moving an entry between queues allocates nothing. */

typedef struct _Link Link;

struct _Link
{
  Link *prev;
  Link *next;
};

/* A circular list around a sentinel: O(1) append, unlink and pop. */
typedef struct
{
  Link    sentinel;
  guint   length;
  guint64 weight;
} Queue;

static inline void
nebula_cache_queue_init (Queue *queue)
{
  queue->sentinel.prev = queue->sentinel.next = &queue->sentinel;
  queue->length = 0;
  queue->weight = 0;
}

static inline gboolean
nebula_cache_queue_is_empty (const Queue *queue)
{
  return queue->sentinel.next == &queue->sentinel;
}

static inline Link *
nebula_cache_queue_head (Queue *queue)
{
  return nebula_cache_queue_is_empty (queue) ? NULL : queue->sentinel.next;
}

static inline void
nebula_cache_queue_push_tail (Queue   *queue,
                              Link    *link,
                              guint64  weight)
{
  link->next = &queue->sentinel;
  link->prev = queue->sentinel.prev;
  queue->sentinel.prev->next = link;
  queue->sentinel.prev = link;
  queue->length++;
  queue->weight += weight;
}

static inline void
nebula_cache_queue_unlink (Queue   *queue,
                           Link    *link,
                           guint64  weight)
{
  link->prev->next = link->next;
  link->next->prev = link->prev;
  link->prev = link->next = NULL;
  queue->length--;
  queue->weight -= weight;
}

static inline void
nebula_cache_queue_move_to_tail (Queue *queue,
                                 Link  *link)
{
  if (queue->sentinel.prev == link)
    return;
  link->prev->next = link->next;
  link->next->prev = link->prev;
  link->next = &queue->sentinel;
  link->prev = queue->sentinel.prev;
  queue->sentinel.prev->next = link;
  queue->sentinel.prev = link;
}

G_END_DECLS
