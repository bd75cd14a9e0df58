/* nebula-bench-floor.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The floors of nebula-bench: the least an allocator can do, a bump over a
 * preallocated buffer with no checks beyond the end of the buffer. The
 * inline floor is what a perfect inline fast path costs; the exported one
 * is the same behind a call into a shared library, which is what any call
 * through NebulaAllocator pays before it does anything.
 */

#pragma once

#include <glib.h>
#include <string.h>

typedef struct
{
  guint8 *cursor;
  guint8 *limit;
  guint8 *start;
} NebulaBenchFloor;

static inline gpointer
nebula_bench_floor_alloc_inline (NebulaBenchFloor *floor,
                                 gsize             size,
                                 gsize             alignment)
{
  guintptr start = ((guintptr) floor->cursor + alignment - 1) & ~(guintptr) (alignment - 1);

  if (G_UNLIKELY (start + size > (guintptr) floor->limit))
    return NULL;
  floor->cursor = (guint8 *) start + size;
  /* As Nebula's inline paths say (_NEBULA_FAST_BLOCK()), and as bumpalo's
   * NonNull result says to rustc: a block of the buffer is never at 0, so
   * the replay loop's test of the result folds away. */
  if (start == 0)
    __builtin_unreachable ();
  return (gpointer) start;
}

/* Gives back the most recent block, as a bump allocator does. */
static inline gboolean
nebula_bench_floor_free_inline (NebulaBenchFloor *floor,
                                gpointer          ptr,
                                gsize             size)
{
  if ((guint8 *) ptr + size == floor->cursor)
    floor->cursor = ptr;
  return TRUE;
}

static inline void
nebula_bench_floor_reset_inline (NebulaBenchFloor *floor)
{
  floor->cursor = floor->start;
}

/* The floor of a pool: a free list of fixed-size blocks kept in the free
 * blocks, over a preallocated buffer whose never-used tail is handed out
 * first after a reset. No checks but the end of the buffer. */
typedef struct
{
  guint8 *head;
  guint8 *fresh;
  guint8 *limit;
  guint8 *start;
  gsize   block_size;
} NebulaBenchFreeList;

static inline gpointer
nebula_bench_free_list_alloc_inline (NebulaBenchFreeList *list)
{
  guint8 *block = list->head;

  if (G_LIKELY (block != NULL))
    {
      memcpy (&list->head, block, sizeof (gpointer));
      return block;
    }
  if (G_UNLIKELY (list->fresh + list->block_size > list->limit))
    return NULL;
  block = list->fresh;
  list->fresh += list->block_size;
  return block;
}

static inline gboolean
nebula_bench_free_list_free_inline (NebulaBenchFreeList *list,
                                    gpointer             ptr)
{
  memcpy (ptr, &list->head, sizeof (gpointer));
  list->head = ptr;
  return TRUE;
}

static inline void
nebula_bench_free_list_reset_inline (NebulaBenchFreeList *list)
{
  list->head = NULL;
  list->fresh = list->start;
}

G_BEGIN_DECLS

__attribute__ ((visibility ("default")))
gpointer nebula_bench_floor_alloc (NebulaBenchFloor *floor,
                                   gsize             size,
                                   gsize             alignment);
__attribute__ ((visibility ("default")))
gboolean nebula_bench_floor_free  (NebulaBenchFloor *floor,
                                   gpointer          ptr,
                                   gsize             size,
                                   gsize             alignment);
__attribute__ ((visibility ("default")))
void     nebula_bench_floor_reset (NebulaBenchFloor *floor);

__attribute__ ((visibility ("default")))
gpointer nebula_bench_free_list_alloc (NebulaBenchFreeList *list,
                                       gsize                size,
                                       gsize                alignment);
__attribute__ ((visibility ("default")))
gboolean nebula_bench_free_list_free  (NebulaBenchFreeList *list,
                                       gpointer             ptr,
                                       gsize                size,
                                       gsize                alignment);
__attribute__ ((visibility ("default")))
void     nebula_bench_free_list_reset (NebulaBenchFreeList *list);

/* malloc and free behind one exported call each: the System allocator's
 * floor (glibc aligns to 16; the callers ask for 8 or 16). */
__attribute__ ((visibility ("default")))
gpointer nebula_bench_floor_malloc      (gsize    size,
                                         gsize    alignment);
__attribute__ ((visibility ("default")))
void     nebula_bench_floor_malloc_free (gpointer ptr,
                                         gsize    size,
                                         gsize    alignment);

G_END_DECLS
