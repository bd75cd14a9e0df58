/* nebula-allocator-fast.h
 *
 * The inline fast paths of the built-in allocators and the layout they
 * read. Nothing here is API: the layouts may change with the library's
 * ABI version, and only the inline functions of the allocator headers
 * (nebula_bump_allocator_alloc() and its kin) and the library itself may
 * touch them. The library static-asserts every layout
 * (nebula-allocator-core.c, and each allocator's file).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>
#include <string.h>

#include "nebula-stats-fast.h"

G_BEGIN_DECLS

#ifndef __GI_SCANNER__

/*< private >
 * NebulaAllocatorKind:
 *
 * Which built-in allocator an instance is, as its #NebulaAllocatorCore
 * says. 0 is no kind, so that a zero-filled core is never mistaken for one.
 */
typedef enum
{
  NEBULA_ALLOCATOR_KIND_NONE,
  NEBULA_ALLOCATOR_KIND_BUMP,
  NEBULA_ALLOCATOR_KIND_POOL,
  NEBULA_ALLOCATOR_KIND_STACK,
  NEBULA_ALLOCATOR_KIND_SYSTEM,
  NEBULA_ALLOCATOR_KIND_MULTI_POOL,
} NebulaAllocatorKind;

/*< private >
 * NebulaAllocatorCore:
 *
 * The common head of every built-in allocator, right after its #GObject
 * (PostgreSQL's MemoryContextData plays this part there). @kind says which
 * allocator it is; @iface is the class's #NebulaAllocatorInterface, so
 * that the exported paths need no interface lookup; @counters and @config
 * point at the allocator's statistics and configuration (private types,
 * nebula-stats-private.h and nebula-allocator-core-private.h). @direct is
 * the kind's out-of-line path for what its inline path declines (a
 * thread-safe pool's magazines, the System allocator's malloc), or %NULL
 * (private, nebula-allocator-core-private.h). @alloc_all and @dealloc_all
 * are what the public wrappers jump to once a kind's inline path declined
 * (or for a kind without one): the direct path's whole request, or the
 * exported path. The kind's fast fields (#NebulaBumpFast, #NebulaPoolFast,
 * #NebulaStackFast) follow it directly; the system and multi-pool
 * allocators have none.
 */
typedef struct
{
  gsize          kind;
  gpointer       iface;
  gpointer       counters;
  gpointer       config;
  gconstpointer  direct;
  gpointer       alloc_all;
  gpointer       dealloc_all;
} NebulaAllocatorCore;

#define _NEBULA_CORE(self)      ((NebulaAllocatorCore *) (gpointer) ((GObject *) (self) + 1))
#define _NEBULA_CORE_FAST(self) ((gpointer) (_NEBULA_CORE (self) + 1))

/* Whether a request must leave an inline path whose largest request is
 * @max_fast_size for the exported one: size - 1 wraps for 0 and
 * alignment - 1 for 0, so one comparison sends both, sizes and alignments
 * at or above the limit (the exported path serves them the same way), and
 * every request while the limit is 0; an alignment that is not a power of
 * two shares a bit with the number below it.
 *
 * The bump allocator asks this inside one G_UNLIKELY() with its limit
 * test. It must stay free of __builtin_constant_p(): with it, GCC lays
 * the caller's fast path out with a jump back after the statistics, one
 * instruction more per allocation (HACKING.md, "Allocator core: speed
 * before and after"). */
static inline gboolean
_nebula_fast_layout_refused (gsize size,
                             gsize alignment,
                             gsize max_fast_size)
{
  return ((size - 1) | (alignment - 1)) >= max_fast_size ||
         (alignment & (alignment - 1)) != 0;
}

/* Whether the request may take the inline path, for a test on its own. */
static inline gboolean
_nebula_fast_layout_ok (gsize size,
                        gsize alignment,
                        gsize max_fast_size)
{
#if defined(__GNUC__)
  /* A constant alignment folds away in this form, which then costs one
   * comparison less. */
  if (__builtin_constant_p (alignment))
    return !(size - 1 >= max_fast_size || (alignment & (alignment - 1)) != 0 || alignment == 0);
#endif
  return !_nebula_fast_layout_refused (size, alignment, max_fast_size);
}

/*< private >
 * NebulaBumpFast:
 *
 * The hot fields of a #NebulaBumpAllocator, right after its
 * #NebulaAllocatorCore, so that the inline functions below can allocate
 * without a call. Not API: the layout may change with the library's ABI
 * version, and nothing but the inline functions may touch it.
 *
 * @base, @cursor and @limit delimit the current chunk and its used part.
 * @max_fast_size is the largest request the inline path may serve: 0 while
 * the allocator is uninitialized, thread-safe or filling memory (every
 * request then takes the exported path), the large-allocation threshold
 * when it can grow, 2^62 - 1 otherwise (so that no arithmetic can wrap).
 * @stats points at the allocator's plain counters when it keeps statistics
 * without atomics, else %NULL. @counted_max is @max_fast_size when it does
 * (the default configuration), else 0: the size test of
 * nebula_bump_allocator_alloc() then also picks the path that counts, and
 * that path finds the counters right after these fields
 * (_NEBULA_BUMP_STATS()) without loading or testing @stats.
 */
typedef struct
{
  guint8               *cursor;
  guint8               *limit;
  guint8               *last;
  guint8               *base;
  gsize                 min_alloc_mask;
  gsize                 max_fast_size;
  NebulaStatsPlain     *stats;
  gsize                 counted_max;
} NebulaBumpFast;

#define _NEBULA_BUMP_FAST(self) ((NebulaBumpFast *) _NEBULA_CORE_FAST (self))
#define _NEBULA_BUMP_STATS(fast) ((NebulaStatsPlain *) (gpointer) ((fast) + 1))

/* Where a request would lie from @cursor: its start in *@start_out, and
 * its end returned. The arithmetic of the inline path and of a
 * #NebulaBumpBatch, whose fields live in the caller's registers. Callers
 * test _nebula_fast_layout_ok() and the end against the limit:
 * max_fast_size is below 2^62 and user-space addresses below 2^57, so
 * start + rounded cannot wrap for any alignment that passes, and one
 * comparison with the limit is enough. */
static inline guintptr
_nebula_bump_span (const guint8 *cursor,
                   gsize         min_alloc_mask,
                   gsize         size,
                   gsize         alignment,
                   guintptr     *start_out)
{
  guintptr start = ((guintptr) cursor + alignment - 1) & ~(guintptr) (alignment - 1);

  *start_out = start;
  return start + ((size + min_alloc_mask) & ~min_alloc_mask);
}

/* Serves the request from the current chunk into *out, or returns FALSE
 * for the exported path to handle it (_nebula_fast_layout_ok() sends
 * empty and large requests, and every request of a slow-mode allocator,
 * there). */
static inline gboolean
_nebula_bump_fast_alloc (NebulaBumpFast *fast,
                         gsize           size,
                         gsize           alignment,
                         gpointer       *out)
{
  guintptr start;
  guintptr end = _nebula_bump_span (fast->cursor, fast->min_alloc_mask, size, alignment, &start);

  if (G_UNLIKELY (_nebula_fast_layout_refused (size, alignment, fast->max_fast_size) ||
                  end > (guintptr) fast->limit))
    return FALSE;

  fast->last = (guint8 *) start;
  fast->cursor = (guint8 *) end;

  _nebula_fast_stats_alloc (fast->stats, size);

  *out = (gpointer) start;
  return TRUE;
}

/* Gives back a block of the current chunk: the most recent one rewinds the
 * cursor, any other succeeds without effect (as the exported path does).
 * FALSE: the exported path must decide. */
static inline gboolean
_nebula_bump_fast_dealloc (NebulaBumpFast *fast,
                           gpointer        ptr,
                           gsize           size,
                           gsize           alignment)
{
  gsize rounded = (size + fast->min_alloc_mask) & ~fast->min_alloc_mask;

  if (G_UNLIKELY (_nebula_fast_layout_refused (size, alignment, fast->max_fast_size) ||
                  (guint8 *) ptr < fast->base || (guint8 *) ptr >= fast->cursor))
    return FALSE;

  if ((guint8 *) ptr == fast->last && (guint8 *) ptr + rounded == fast->cursor)
    {
      fast->cursor = (guint8 *) ptr;
      fast->last = NULL;
    }

  _nebula_fast_stats_free (fast->stats, size);

  return TRUE;
}

/*< private >
 * NebulaPoolFast:
 *
 * The hot fields of a single-threaded #NebulaPoolAllocator, right after
 * its #NebulaAllocatorCore, so that the inline functions below
 * can allocate and free without a call. Not API: the layout may change
 * with the library's ABI version, and nothing but the inline functions may
 * touch it.
 *
 * @free_head is the free list (each free block holds the next one's
 * address). @base is the start of the current slab, the one whose
 * never-used tail is being handed out: @fresh points at its count of
 * blocks handed out so far, @fresh_limit is its number of blocks, and
 * @states its state bytes when the pool checks frees (else %NULL): one
 * per block, %_NEBULA_POOL_BLOCK_OUT while it is handed out,
 * %_NEBULA_POOL_BLOCK_LISTED while it is on the free list, 0 until it is
 * first handed out after a reset.
 * @max_fast_size is the block size, the stride of the slab, or 0 whenever
 * every request must take the exported path (uninitialized, thread-safe,
 * or filling memory). @alignment_mask is ~(block alignment - 1), or all
 * ones until a single-threaded pool's initialization sets it (a
 * thread-safe pool keeps it), so that the first test declines every
 * alignment but 1 there and the wrappers go on to the direct path. The
 * stride is an odd number shifted left by @block_shift; @block_inverse is
 * that odd number's inverse modulo 2^64 (1 for a power of two), so that
 * the index of a block needs no division (_nebula_pool_fast_index()).
 * @n_in_use counts the blocks out.
 * @stats points at the plain counters when statistics are kept, else
 * %NULL; they follow the fast fields in the instance
 * (_NEBULA_POOL_STATS()), where the default configuration's paths,
 * which know they are kept, find them without reading @stats.
 *
 * The configuration is in the limits rather than in a mode field, so that
 * the size test of a request also picks its path: @plain_max is
 * @max_fast_size when the pool neither checks frees nor keeps statistics
 * (the PERFORMANCE preset: a request is a free-list pop or push), else 0;
 * @checked_max is @max_fast_size when it does both (the default: the
 * state byte and the counters, neither pointer tested), else 0. A pool
 * with one of the two takes the general path under @max_fast_size, which
 * tests each pointer.
 *
 * Blocks of other slabs (a pool that grew) are served by the exported
 * path, which checks them the same way.
 */
typedef struct
{
  guint8               *free_head;
  gsize                 plain_max;
  gsize                 alignment_mask;
  gsize                 checked_max;
  guint8               *base;
  guint8               *states;
  gsize                 fresh_limit;
  gsize                 n_in_use;
  NebulaStatsPlain     *stats;
  gsize                *fresh;
  gsize                 max_fast_size;
  guint                 block_shift;
  gsize                 block_inverse;
} NebulaPoolFast;

#define _NEBULA_POOL_FAST(self) ((NebulaPoolFast *) _NEBULA_CORE_FAST (self))
#define _NEBULA_POOL_STATS(fast) ((NebulaStatsPlain *) (gpointer) ((fast) + 1))
#define _NEBULA_POOL_WORD_BITS  (8 * GLIB_SIZEOF_SIZE_T)
#define _NEBULA_POOL_BLOCK_OUT    1
#define _NEBULA_POOL_BLOCK_LISTED 2

/* Whether @alignment is one the blocks satisfy: a power of two no stricter
 * than theirs (0 and other numbers share a bit with the one below them). */
static inline gboolean
_nebula_pool_fast_alignment_ok (const NebulaPoolFast *fast,
                                gsize                 alignment)
{
  return ((alignment - 1) & (alignment | fast->alignment_mask)) == 0;
}

/* Whether a request of @size bytes at @alignment may take the inline path:
 * size - 1 wraps for 0, and a single test refuses alignments that are
 * stricter than the blocks', 0, or not a power of two. */
static inline gboolean
_nebula_pool_fast_layout_ok (const NebulaPoolFast *fast,
                             gsize                 size,
                             gsize                 alignment)
{
  return size - 1 < fast->max_fast_size && _nebula_pool_fast_alignment_ok (fast, alignment);
}

/* The index of the block at @offset bytes from the start of a slab whose
 * stride is odd << @shift (@inverse: the odd part's inverse modulo 2^64),
 * with no division whatever the stride. The offset is rotated rather than shifted: when its low bits are not 0,
 * they land on top. The product with the odd part's inverse (modulo 2^64)
 * is the quotient exactly when the rotated offset is a multiple of the
 * odd part; any other value maps to a number above G_MAXSIZE / odd, as the
 * product is a bijection. So a pointer into a block, one outside the slab
 * (below it, the offset wraps) and one off the low bits all give an index
 * larger than any block count, and one comparison refuses them all. */
static inline gsize
_nebula_pool_offset_index (gsize offset,
                           guint shift,
                           gsize inverse)
{
  return ((offset >> shift) | (offset << ((0u - shift) & (_NEBULA_POOL_WORD_BITS - 1)))) * inverse;
}

/* The same in the current slab, for a pool that checks frees. */
static inline gsize
_nebula_pool_fast_index (const NebulaPoolFast *fast,
                         gconstpointer         block)
{
  return _nebula_pool_offset_index ((gsize) ((guintptr) block - (guintptr) fast->base),
                                    fast->block_shift, fast->block_inverse);
}

/* The next never-used block of the current slab, marked allocated when
 * the pool checks frees, or %NULL for the exported path (which moves on
 * to the next slab or grows the pool). */
static inline gpointer
_nebula_pool_fast_take_fresh (NebulaPoolFast *fast)
{
  gsize index = *fast->fresh;

  if (G_UNLIKELY (index >= fast->fresh_limit))
    return NULL;
  *fast->fresh = index + 1;
  if (fast->states != NULL)
    fast->states[index] = _NEBULA_POOL_BLOCK_OUT;
  fast->n_in_use++;
  return fast->base + index * fast->max_fast_size;
}

/* Moves the state byte of the block at @block of the current slab from
 * @from to @to, or returns FALSE (the block is not at a block boundary of
 * the slab, or not in state @from). */
static inline gboolean
_nebula_pool_fast_flip (const NebulaPoolFast *fast,
                        guint8               *states,
                        gconstpointer         block,
                        guint8                from,
                        guint8                to)
{
  gsize index = _nebula_pool_fast_index (fast, block);

  if (G_UNLIKELY (index >= fast->fresh_limit || states[index] != from))
    return FALSE;
  states[index] = to;
  return TRUE;
}

/* Marks @block, the head of the free list, handed out, or returns FALSE
 * for the exported path. With check-frees it must be a listed block of
 * the current slab that starts at a block boundary, since its address was
 * read from memory the caller could write; the state byte says so in one
 * comparison (neither a block handed out nor one of the never-used tail
 * is listed). */
static inline gboolean
_nebula_pool_fast_mark_taken (NebulaPoolFast *fast,
                              const guint8   *block)
{
  return fast->states == NULL ||
         _nebula_pool_fast_flip (fast, fast->states, block, _NEBULA_POOL_BLOCK_LISTED,
                                 _NEBULA_POOL_BLOCK_OUT);
}

/* Marks the block at @ptr free, or returns FALSE for the exported path
 * (which reports bad pointers): with check-frees it must be a block of the
 * current slab that is handed out; without, only %NULL is refused. */
static inline gboolean
_nebula_pool_fast_mark_given (NebulaPoolFast *fast,
                              gconstpointer   ptr)
{
  if (fast->states == NULL)
    return ptr != NULL;
  return _nebula_pool_fast_flip (fast, fast->states, ptr, _NEBULA_POOL_BLOCK_OUT,
                                 _NEBULA_POOL_BLOCK_LISTED);
}

static inline void
_nebula_pool_fast_pop (NebulaPoolFast *fast,
                       const guint8   *block)
{
  memcpy (&fast->free_head, block, sizeof (gpointer));
  fast->n_in_use++;
}

static inline void
_nebula_pool_fast_push (NebulaPoolFast *fast,
                        gpointer        ptr)
{
  memcpy (ptr, &fast->free_head, sizeof (gpointer));
  fast->free_head = (guint8 *) ptr;
  fast->n_in_use--;
}

/* Takes a block (the head of the free list, else the next never-used one
 * of the current slab) without counting statistics, or returns %NULL for
 * the exported path to decide. */
static inline gpointer
_nebula_pool_fast_take (NebulaPoolFast *fast)
{
  guint8 *block = fast->free_head;

  if (G_UNLIKELY (block == NULL))
    return _nebula_pool_fast_take_fresh (fast);
  if (G_UNLIKELY (!_nebula_pool_fast_mark_taken (fast, block)))
    return NULL;
  _nebula_pool_fast_pop (fast, block);
  return block;
}

/* Puts an allocated block of the current slab back on the free list
 * without counting statistics, or returns FALSE for the exported path. */
static inline gboolean
_nebula_pool_fast_give (NebulaPoolFast *fast,
                        gpointer        ptr)
{
  if (G_UNLIKELY (!_nebula_pool_fast_mark_given (fast, ptr)))
    return FALSE;
  _nebula_pool_fast_push (fast, ptr);
  return TRUE;
}

/* The whole inline request, statistics included: what
 * nebula_pool_allocator_alloc() and nebula_allocator_allocate() try first.
 * The default configuration is tested first (its limit, then the state
 * byte and the counters, neither pointer tested), then the PERFORMANCE
 * preset's (a pop), then the general path (check-frees or statistics
 * alone, each pointer tested, and every configuration's never-used tail).
 * Each path reads the free list only once its limit says the inline path
 * is open: a thread-safe pool's fields are not the calling thread's. */
static inline gboolean
_nebula_pool_fast_alloc (NebulaPoolFast *fast,
                         gsize           size,
                         gsize           alignment,
                         gpointer       *out)
{
  guint8 *block;

  if (G_UNLIKELY (!_nebula_pool_fast_alignment_ok (fast, alignment)))
    return FALSE;

  if (G_LIKELY (size - 1 < fast->checked_max && (block = fast->free_head) != NULL))
    {
      if (G_UNLIKELY (!_nebula_pool_fast_flip (fast, fast->states, block,
                                               _NEBULA_POOL_BLOCK_LISTED,
                                               _NEBULA_POOL_BLOCK_OUT)))
        return FALSE;
      _nebula_fast_stats_count_alloc (_NEBULA_POOL_STATS (fast), size);
      _nebula_pool_fast_pop (fast, block);
      *out = block;
      return TRUE;
    }

  if (G_LIKELY (size - 1 < fast->plain_max && (block = fast->free_head) != NULL))
    {
      _nebula_pool_fast_pop (fast, block);
      *out = block;
      return TRUE;
    }

  if (G_UNLIKELY (size - 1 >= fast->max_fast_size))
    return FALSE;
  block = (guint8 *) _nebula_pool_fast_take (fast);
  if (G_UNLIKELY (block == NULL))
    return FALSE;
  _nebula_fast_stats_alloc (fast->stats, size);
  *out = block;
  return TRUE;
}

/* The same order as an allocation. */
static inline gboolean
_nebula_pool_fast_dealloc (NebulaPoolFast *fast,
                           gpointer        ptr,
                           gsize           size,
                           gsize           alignment)
{
  if (G_UNLIKELY (!_nebula_pool_fast_alignment_ok (fast, alignment)))
    return FALSE;

  if (G_LIKELY (size - 1 < fast->checked_max))
    {
      if (G_UNLIKELY (!_nebula_pool_fast_flip (fast, fast->states, ptr,
                                               _NEBULA_POOL_BLOCK_OUT,
                                               _NEBULA_POOL_BLOCK_LISTED)))
        return FALSE;
      _nebula_fast_stats_count_free (_NEBULA_POOL_STATS (fast), size);
    }
  else if (G_UNLIKELY (size - 1 >= fast->plain_max || ptr == NULL))
    {
      /* Not the PERFORMANCE preset's push (a NULL free is an error, which
       * the exported path reports): the general path. */
      if (G_UNLIKELY (size - 1 >= fast->max_fast_size || !_nebula_pool_fast_mark_given (fast, ptr)))
        return FALSE;
      _nebula_fast_stats_free (fast->stats, size);
    }

  _nebula_pool_fast_push (fast, ptr);
  return TRUE;
}

/*< private >
 * NebulaStackFast:
 *
 * The hot fields of a #NebulaStackAllocator, right after its
 * #NebulaAllocatorCore, so that the inline functions below can push
 * and pop without a call. Not API: the layout may change with the
 * library's ABI version, and nothing but the inline functions may touch it.
 *
 * @cursor is the first free byte of the low end, @limit the end of the
 * current chunk (or the bottom of the high end), @last the low end's top
 * block or %NULL, @base the lowest cursor an inline pop may leave (the
 * start of the current chunk, or the position of the newest marker in it
 * that a frame may rewind to: a pop below it goes to the exported path,
 * which notes that the marker's position no longer stands), @bottom the
 * start of the current chunk when it is the first one (else %NULL), @cookie the
 * allocator's secret for block headers. @max_fast_size is the largest
 * request the inline path may serve: 0 while the allocator is
 * uninitialized, thread-safe or filling memory, 2^62 - 1 otherwise (so
 * that no arithmetic can wrap). @stats points at the plain counters when
 * statistics are kept, else %NULL.
 */
typedef struct
{
  guint8               *cursor;
  guint8               *limit;
  guint8               *last;
  guint8               *base;
  guint8               *bottom;
  guintptr              cookie;
  gsize                 max_fast_size;
  NebulaStatsPlain     *stats;
} NebulaStackFast;

/*< private >
 * NebulaStackBlockHeader:
 *
 * Stored just below every block. A low-end block records the block below
 * it and where the low end stood before it (@word); a high-end block
 * records its size in @word. @check makes a damaged header detectable: on
 * the high end, and on the low end with the DEBUG preset (where the inline
 * path is closed), a hash of the header (_nebula_stack_header_check());
 * on the low end otherwise the header's own address
 * (_nebula_stack_low_canary()), which is cheap and comes first, right
 * after the block below, so that an overrun of that block reaches it
 * before the two pointers.
 */
typedef struct
{
  guintptr  check;
  guint8   *prev;
  guintptr  word;
} NebulaStackBlockHeader;

#define _NEBULA_STACK_FAST(self) ((NebulaStackFast *) _NEBULA_CORE_FAST (self))
/* G_ALIGNOF() declares a struct inside offsetof() outside C11, which C++
 * refuses: C++11 has alignof. */
#if defined(__cplusplus) && __cplusplus >= 201103L
# define _NEBULA_STACK_MIN_ALIGNMENT ((gsize) alignof (NebulaStackBlockHeader))
#else
# define _NEBULA_STACK_MIN_ALIGNMENT ((gsize) G_ALIGNOF (NebulaStackBlockHeader))
#endif

/* The check word of a header. It mixes the header's own address in, so
 * that a header copied elsewhere does not validate either. */
static inline guintptr
_nebula_stack_header_check (guintptr                      cookie,
                            const NebulaStackBlockHeader *header,
                            const guint8                 *prev,
                            guintptr                      word)
{
  return ((guintptr) prev * 0x9E3779B1u) ^ (guintptr) header ^ (word << 7) ^ cookie;
}

/* The check word of a low-end header outside the DEBUG preset: a canary
 * against overruns of the block below, not a hash of the fields. */
static inline guintptr
_nebula_stack_low_canary (const NebulaStackBlockHeader *header)
{
  return (guintptr) header;
}

/* Pushes a block of @size bytes on the low end into @out, or returns
 * %FALSE for the exported path. max_fast_size is below 2^62 and user-space
 * addresses below 2^57, so start + size cannot wrap for any alignment that
 * passes _nebula_fast_layout_ok(). */
static inline gboolean
_nebula_stack_fast_push (NebulaStackFast *fast,
                         gsize            size,
                         gsize            alignment,
                         gpointer        *out)
{
  gsize mask = (alignment - 1) | (_NEBULA_STACK_MIN_ALIGNMENT - 1);
  NebulaStackBlockHeader *header;
  guint8 *cursor, *last;
  guintptr start;

  /* max_fast_size first: in thread-safe mode the other fields belong to
   * the lock. */
  if (G_UNLIKELY (!_nebula_fast_layout_ok (size, alignment, fast->max_fast_size)))
    return FALSE;

  /* Read once, before the header's stores (which the compiler must assume
   * may overwrite them). */
  cursor = fast->cursor;
  last = fast->last;
  start = ((guintptr) cursor + sizeof (NebulaStackBlockHeader) + mask) & ~(guintptr) mask;
  if (G_UNLIKELY (start + size > (guintptr) fast->limit))
    return FALSE;

  /* The canary: the inline path is closed where low-end headers carry
   * the hash (the DEBUG preset). */
  header = (NebulaStackBlockHeader *) (start - sizeof (NebulaStackBlockHeader));
  header->check = _nebula_stack_low_canary (header);
  header->prev = last;
  header->word = (guintptr) cursor;
  fast->last = (guint8 *) start;
  fast->cursor = (guint8 *) start + size;
  *out = (gpointer) start;
  return TRUE;
}

/* Pops the low end's top block when @ptr is that block, @size its size,
 * its header plausible and the block below it in the same chunk (or none,
 * in the first chunk); FALSE sends everything else (other blocks, wrong
 * sizes, damaged headers, the bottom of a later chunk) to the exported
 * path, which says what is wrong. The header's check word is the canary:
 * the two pointers are believed when where the low end stood before the
 * block lies between @base and the header, and the block below it is
 * aligned and lies above @base and below that position. Whatever the
 * header holds, the cursor and the top block it leaves stay inside the
 * chunk. */
static inline gboolean
_nebula_stack_fast_pop (NebulaStackFast *fast,
                        gpointer         ptr,
                        gsize            size,
                        gsize            alignment)
{
  const NebulaStackBlockHeader *header;
  guintptr prev, end;

  if (G_UNLIKELY (!_nebula_fast_layout_ok (size, alignment, fast->max_fast_size)))
    return FALSE;

  if (G_UNLIKELY ((guint8 *) ptr != fast->last || ptr == NULL ||
                  (gsize) (fast->cursor - (guint8 *) ptr) != size))
    return FALSE;

  /* Through void: blocks are aligned to at least _NEBULA_STACK_MIN_ALIGNMENT,
   * the header's; a direct cast trips -Wcast-align in callers. */
  header = (const NebulaStackBlockHeader *) (const void *) ((guint8 *) ptr -
                                                          sizeof (NebulaStackBlockHeader));
  prev = (guintptr) header->prev;
  end = header->word;
  if (G_UNLIKELY (header->check != _nebula_stack_low_canary (header) ||
                  end < (guintptr) fast->base || end > (guintptr) header))
    return FALSE;

  if (prev == 0)
    {
      if (G_UNLIKELY (end != (guintptr) fast->bottom))
        return FALSE;
    }
  else if (G_UNLIKELY ((prev & (_NEBULA_STACK_MIN_ALIGNMENT - 1)) != 0 ||
                       prev < (guintptr) fast->base + sizeof (NebulaStackBlockHeader) ||
                       prev >= end))
    {
      return FALSE;
    }

  fast->last = (guint8 *) prev;
  fast->cursor = (guint8 *) end;
  return TRUE;
}

/* The whole inline request, statistics included: what
 * nebula_stack_allocator_alloc() and nebula_allocator_allocate() try first. */
static inline gboolean
_nebula_stack_fast_alloc (NebulaStackFast *fast,
                          gsize            size,
                          gsize            alignment,
                          gpointer        *out)
{
  if (G_UNLIKELY (!_nebula_stack_fast_push (fast, size, alignment, out)))
    return FALSE;

  _nebula_fast_stats_alloc (fast->stats, size);
  return TRUE;
}

static inline gboolean
_nebula_stack_fast_dealloc (NebulaStackFast *fast,
                            gpointer         ptr,
                            gsize            size,
                            gsize            alignment)
{
  if (G_UNLIKELY (!_nebula_stack_fast_pop (fast, ptr, size, alignment)))
    return FALSE;

  _nebula_fast_stats_free (fast->stats, size);
  return TRUE;
}

#endif /* __GI_SCANNER__ */

G_END_DECLS
