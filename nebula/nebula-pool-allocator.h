/* nebula-pool-allocator.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>
#include <string.h>

#include "nebula-allocator.h"

G_BEGIN_DECLS

#define NEBULA_TYPE_POOL_ALLOCATOR (nebula_pool_allocator_get_type ())

NEBULA_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (NebulaPoolAllocator, nebula_pool_allocator, NEBULA, POOL_ALLOCATOR, GObject)

NEBULA_AVAILABLE_IN_ALL
NebulaPoolAllocator *nebula_pool_allocator_new         (gsize                 block_size,
                                                        gsize                 block_count,
                                                        GError              **error);
NEBULA_AVAILABLE_IN_ALL
guint                nebula_pool_allocator_get_n_slabs (NebulaPoolAllocator  *self);

#ifndef __GI_SCANNER__

/*< private >
 * NebulaPoolFast:
 *
 * The hot fields of a single-threaded #NebulaPoolAllocator, the first thing
 * after the #GObject in the instance, so that the inline functions below
 * can allocate and free without a call. Not API: the layout may change
 * with the library's ABI version, and nothing but the inline functions may
 * touch it.
 *
 * @free_head is the free list (each free block holds the next one's
 * address). @base is the start of the current slab, the one whose
 * never-used tail is being handed out: @fresh points at its count of
 * blocks handed out so far, @fresh_limit is its number of blocks, and
 * @allocated its allocation bits when the pool checks frees (else %NULL).
 * @max_fast_size is the block size, the stride of the slab, or 0 whenever
 * every request must take the exported path (uninitialized, thread-safe,
 * filling memory, or checking frees with a stride that is not a power of
 * two). @alignment_mask is ~(block alignment - 1); @block_shift is log2 of
 * the stride when it is a power of two. @n_in_use counts the blocks out.
 * @stats points at the plain counters when statistics are kept, else
 * %NULL.
 *
 * Blocks of other slabs (a pool that grew) are served by the exported
 * path, which checks them the same way.
 */
typedef struct
{
  guint8               *free_head;
  gsize                 max_fast_size;
  gsize                 alignment_mask;
  guint8               *base;
  gsize                *allocated;
  gsize                *fresh;
  gsize                 fresh_limit;
  gsize                 n_in_use;
  guint                 block_shift;
  NebulaAllocatorStats *stats;
} NebulaPoolFast;

#define _NEBULA_POOL_FAST(self) ((NebulaPoolFast *) (gpointer) ((GObject *) (self) + 1))
#define _NEBULA_POOL_WORD_BITS  (8 * GLIB_SIZEOF_SIZE_T)

/* Whether a request of @size bytes at @alignment may take the inline path:
 * size - 1 wraps for 0, and a single test refuses alignments that are
 * stricter than the blocks', 0, or not a power of two (a power of two
 * shares no bit with the one below it). */
static inline gboolean
_nebula_pool_fast_layout_ok (const NebulaPoolFast *fast,
                             gsize                 size,
                             gsize                 alignment)
{
  return size - 1 < fast->max_fast_size &&
         ((alignment - 1) & (alignment | fast->alignment_mask)) == 0;
}

/* Takes a block (the head of the free list, else the next never-used one
 * of the current slab) without counting statistics, or returns %NULL for
 * the exported path to decide. With check-frees, a listed block must be
 * a free block of the current slab that starts at a block boundary, since
 * its address was read from memory the caller could write. */
static inline gpointer
_nebula_pool_fast_take (NebulaPoolFast *fast)
{
  guint8 *block = fast->free_head;
  gsize *words = fast->allocated;
  gsize index, bit;

  if (G_LIKELY (block != NULL))
    {
      if (words != NULL)
        {
          gsize offset = (gsize) (block - fast->base);

          index = offset >> fast->block_shift;
          bit = (gsize) 1 << (index % _NEBULA_POOL_WORD_BITS);
          if (G_UNLIKELY (index >= *fast->fresh || (offset & (fast->max_fast_size - 1)) != 0 ||
                          (words[index / _NEBULA_POOL_WORD_BITS] & bit) != 0))
            return NULL;
          words[index / _NEBULA_POOL_WORD_BITS] |= bit;
        }
      memcpy (&fast->free_head, block, sizeof (gpointer));
    }
  else
    {
      index = *fast->fresh;
      if (G_UNLIKELY (index >= fast->fresh_limit))
        return NULL;
      *fast->fresh = index + 1;
      if (words != NULL)
        words[index / _NEBULA_POOL_WORD_BITS] |= (gsize) 1 << (index % _NEBULA_POOL_WORD_BITS);
      block = fast->base + index * fast->max_fast_size;
    }

  fast->n_in_use++;
  return block;
}

/* Puts an allocated block of the current slab back on the free list, or
 * returns FALSE for the exported path (which reports bad pointers). */
static inline gboolean
_nebula_pool_fast_give (NebulaPoolFast *fast,
                        gpointer        ptr)
{
  gsize *words = fast->allocated;

  if (words != NULL)
    {
      gsize offset = (gsize) ((guint8 *) ptr - fast->base);
      gsize index = offset >> fast->block_shift;
      gsize bit = (gsize) 1 << (index % _NEBULA_POOL_WORD_BITS);

      if (G_UNLIKELY (index >= *fast->fresh || (offset & (fast->max_fast_size - 1)) != 0 ||
                      (words[index / _NEBULA_POOL_WORD_BITS] & bit) == 0))
        return FALSE;
      words[index / _NEBULA_POOL_WORD_BITS] &= ~bit;
    }
  else if (G_UNLIKELY (ptr == NULL))
    {
      return FALSE;
    }

  memcpy (ptr, &fast->free_head, sizeof (gpointer));
  fast->free_head = (guint8 *) ptr;
  fast->n_in_use--;
  return TRUE;
}

/* The whole inline request, statistics included: what
 * nebula_pool_allocator_alloc() and nebula_allocator_allocate() try first. */
static inline gboolean
_nebula_pool_fast_alloc (NebulaPoolFast *fast,
                         gsize           size,
                         gsize           alignment,
                         gpointer       *out)
{
  gpointer block;

  if (G_UNLIKELY (!_nebula_pool_fast_layout_ok (fast, size, alignment) ||
                  (block = _nebula_pool_fast_take (fast)) == NULL))
    return FALSE;

  _nebula_fast_stats_alloc (fast->stats, size);
  *out = block;
  return TRUE;
}

static inline gboolean
_nebula_pool_fast_dealloc (NebulaPoolFast *fast,
                           gpointer        ptr,
                           gsize           size,
                           gsize           alignment)
{
  if (G_UNLIKELY (!_nebula_pool_fast_layout_ok (fast, size, alignment) ||
                  !_nebula_pool_fast_give (fast, ptr)))
    return FALSE;

  _nebula_fast_stats_free (fast->stats, size);
  return TRUE;
}

/**
 * nebula_pool_allocator_alloc: (skip)
 * @self: a #NebulaPoolAllocator
 * @size: the number of bytes, at most the block size
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * nebula_allocator_allocate() for a #NebulaPoolAllocator, inlined into the
 * caller: taking a block from the free list (checked against the
 * allocation bits when the pool checks frees) or from the unused part of
 * the current slab costs a few instructions and no call. Anything else (an
 * empty pool, growth, an invalid layout, a size of 0, a thread-safe or
 * filling pool) goes through nebula_allocator_allocate(), with identical
 * results and statistics.
 *
 * Returns: (transfer none) (nullable): the block, or %NULL with @error set
 */
static inline gpointer
nebula_pool_allocator_alloc (NebulaPoolAllocator  *self,
                             gsize                 size,
                             gsize                 alignment,
                             GError              **error)
{
  gpointer block;

  if (G_LIKELY (_nebula_pool_fast_alloc (_NEBULA_POOL_FAST (self), size, alignment, &block)))
    return block;

  return nebula_allocator_allocate ((NebulaAllocator *) self, size, alignment, error);
}

/**
 * nebula_pool_allocator_free: (skip)
 * @self: a #NebulaPoolAllocator
 * @ptr: a block from @self
 * @size: the size @ptr was allocated with
 * @alignment: the alignment @ptr was allocated with
 * @error: return location for a #GError
 *
 * nebula_allocator_deallocate() for a #NebulaPoolAllocator, inlined: an
 * allocated block of the current slab goes back on the free list without
 * a call; every other case (including every bad pointer, which the
 * exported path reports) takes the exported path.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
static inline gboolean
nebula_pool_allocator_free (NebulaPoolAllocator  *self,
                            gpointer              ptr,
                            gsize                 size,
                            gsize                 alignment,
                            GError              **error)
{
  if (G_LIKELY (_nebula_pool_fast_dealloc (_NEBULA_POOL_FAST (self), ptr, size, alignment)))
    return TRUE;

  return nebula_allocator_deallocate ((NebulaAllocator *) self, ptr, size, alignment, error);
}

#endif /* __GI_SCANNER__ */

G_END_DECLS
