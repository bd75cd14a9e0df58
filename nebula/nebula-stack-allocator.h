/* nebula-stack-allocator.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>

#include "nebula-allocator.h"

G_BEGIN_DECLS

#define NEBULA_TYPE_STACK_ALLOCATOR (nebula_stack_allocator_get_type ())
#define NEBULA_TYPE_STACK_MARKER    (nebula_stack_marker_get_type ())

typedef struct _NebulaStackMarker NebulaStackMarker;

NEBULA_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (NebulaStackAllocator, nebula_stack_allocator, NEBULA, STACK_ALLOCATOR, GObject)

NEBULA_AVAILABLE_IN_ALL
NebulaStackAllocator *nebula_stack_allocator_new                     (gsize                     capacity,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_ALL
NebulaStackMarker    *nebula_stack_allocator_mark                    (NebulaStackAllocator     *self);
NEBULA_AVAILABLE_IN_ALL
NebulaStackMarker    *nebula_stack_allocator_mark_high               (NebulaStackAllocator     *self);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_stack_allocator_release_to_marker       (NebulaStackAllocator     *self,
                                                                      const NebulaStackMarker  *marker,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_ALL
gpointer              nebula_stack_allocator_allocate_high           (NebulaStackAllocator     *self,
                                                                      gsize                     size,
                                                                      gsize                     alignment,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_ALL
guint64               nebula_stack_allocator_allocate_high_address   (NebulaStackAllocator     *self,
                                                                      guint64                   size,
                                                                      guint64                   alignment,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_stack_allocator_deallocate_high         (NebulaStackAllocator     *self,
                                                                      gpointer                  ptr,
                                                                      gsize                     size,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_stack_allocator_deallocate_high_address (NebulaStackAllocator     *self,
                                                                      guint64                   address,
                                                                      guint64                   size,
                                                                      GError                  **error);
NEBULA_AVAILABLE_IN_ALL
guint                 nebula_stack_allocator_get_n_chunks            (NebulaStackAllocator     *self);

NEBULA_AVAILABLE_IN_ALL
GType                 nebula_stack_marker_get_type                   (void) G_GNUC_CONST;
NEBULA_AVAILABLE_IN_ALL
NebulaStackMarker    *nebula_stack_marker_copy                       (const NebulaStackMarker  *marker);
NEBULA_AVAILABLE_IN_ALL
void                  nebula_stack_marker_free                       (NebulaStackMarker        *marker);
NEBULA_AVAILABLE_IN_ALL
guint64               nebula_stack_marker_get_position               (const NebulaStackMarker  *marker);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_stack_marker_is_high                    (const NebulaStackMarker  *marker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NebulaStackMarker, nebula_stack_marker_free)

/**
 * NebulaStackFrame: (skip)
 *
 * A marker that releases itself when freed: declare it with g_autoptr()
 * and everything allocated on its end of the stack in the enclosing scope
 * is released at the scope's end. `NEBULA_STACK_FRAME (stack);` declares
 * one on the low end under a generated name. Python has
 * `with stack.frame():`.
 */
typedef struct _NebulaStackFrame NebulaStackFrame;

NEBULA_AVAILABLE_IN_ALL
NebulaStackFrame     *nebula_stack_frame_new                         (NebulaStackAllocator     *stack);
NEBULA_AVAILABLE_IN_ALL
NebulaStackFrame     *nebula_stack_frame_new_high                    (NebulaStackAllocator     *stack);
NEBULA_AVAILABLE_IN_ALL
void                  nebula_stack_frame_free                        (NebulaStackFrame         *frame);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NebulaStackFrame, nebula_stack_frame_free)

#ifndef __GI_SCANNER__

/*< private >
 * NebulaStackFast:
 *
 * The hot fields of a #NebulaStackAllocator, the first thing after the
 * #GObject in the instance, so that the inline functions below can push
 * and pop without a call. Not API: the layout may change with the
 * library's ABI version, and nothing but the inline functions may touch it.
 *
 * @cursor is the first free byte of the low end, @limit the end of the
 * current chunk (or the bottom of the high end), @last the low end's top
 * block or %NULL, @base the start of the current chunk, @bottom the same
 * when that chunk is the first one (else %NULL), @cookie the
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
  NebulaAllocatorStats *stats;
} NebulaStackFast;

/*< private >
 * NebulaStackBlockHeader:
 *
 * Stored just below every block. A low-end block records the block below
 * it and where the low end stood before it (@word); a high-end block
 * records its size in @word. @check makes a damaged header detectable.
 */
typedef struct
{
  guint8   *prev;
  guintptr  word;
  guintptr  check;
} NebulaStackBlockHeader;

#define _NEBULA_STACK_FAST(self) ((NebulaStackFast *) (gpointer) ((GObject *) (self) + 1))
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

/* Pushes a block of @size bytes on the low end, or returns %NULL for the
 * exported path. max_fast_size is below 2^62 and user-space addresses
 * below 2^57, so start + size cannot wrap even for the largest
 * alignment; an alignment that is not a power of two goes the exported
 * way, and for a constant alignment the compiler drops that test. */
static inline gpointer
_nebula_stack_fast_push (NebulaStackFast *fast,
                         gsize            size,
                         gsize            alignment)
{
  gsize mask = (alignment - 1) | (_NEBULA_STACK_MIN_ALIGNMENT - 1);
  NebulaStackBlockHeader *header;
  guintptr start;

  /* max_fast_size first: in thread-safe mode the other fields belong to
   * the lock. */
  if (G_UNLIKELY (size - 1 >= fast->max_fast_size ||
                  (alignment & (alignment - 1)) != 0 || alignment == 0))
    return NULL;

  start = ((guintptr) fast->cursor + sizeof (NebulaStackBlockHeader) + mask) & ~(guintptr) mask;
  if (G_UNLIKELY (start + size > (guintptr) fast->limit))
    return NULL;

  header = (NebulaStackBlockHeader *) (start - sizeof (NebulaStackBlockHeader));
  header->prev = fast->last;
  header->word = (guintptr) fast->cursor;
  header->check = _nebula_stack_header_check (fast->cookie, header, fast->last,
                                              (guintptr) fast->cursor);
  fast->last = (guint8 *) start;
  fast->cursor = (guint8 *) start + size;
  return (gpointer) start;
}

/* Pops the low end's top block when @ptr is that block, @size its size,
 * its header intact and the block below it in the same chunk (or none, in
 * the first chunk); FALSE sends everything else (other blocks, wrong
 * sizes, damaged headers, the bottom of a later chunk) to the exported
 * path, which says what is wrong. */
static inline gboolean
_nebula_stack_fast_pop (NebulaStackFast *fast,
                        gpointer         ptr,
                        gsize            size,
                        gsize            alignment)
{
  const NebulaStackBlockHeader *header;
  guintptr prev, end;

  if (G_UNLIKELY (size - 1 >= fast->max_fast_size ||
                  (alignment & (alignment - 1)) != 0 || alignment == 0))
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
  if (G_UNLIKELY (header->check != _nebula_stack_header_check (fast->cookie, header,
                                                               header->prev, end) ||
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
 * nebula_stack_allocator_push() and nebula_allocator_allocate() try first. */
static inline gboolean
_nebula_stack_fast_alloc (NebulaStackFast *fast,
                          gsize            size,
                          gsize            alignment,
                          gpointer        *out)
{
  gpointer ptr = _nebula_stack_fast_push (fast, size, alignment);

  if (G_UNLIKELY (ptr == NULL))
    return FALSE;

  _nebula_fast_stats_alloc (fast->stats, size);
  *out = ptr;
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

/**
 * nebula_stack_allocator_push: (skip)
 * @self: a #NebulaStackAllocator
 * @size: the number of bytes
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * nebula_allocator_allocate() for a #NebulaStackAllocator, inlined into
 * the caller: a block that fits in the current chunk costs a few
 * instructions and no call. Anything else (a full chunk, growth, a size of
 * 0, an invalid layout, a thread-safe or filling stack) goes through
 * nebula_allocator_allocate(), with identical results and statistics.
 *
 * Returns: (transfer none) (nullable): the memory, or %NULL with @error set
 */
static inline gpointer
nebula_stack_allocator_push (NebulaStackAllocator  *self,
                             gsize                  size,
                             gsize                  alignment,
                             GError               **error)
{
  gpointer ptr;

  if (G_LIKELY (_nebula_stack_fast_alloc (_NEBULA_STACK_FAST (self), size, alignment, &ptr)))
    return ptr;

  return nebula_allocator_allocate ((NebulaAllocator *) self, size, alignment, error);
}

/**
 * nebula_stack_allocator_pop: (skip)
 * @self: a #NebulaStackAllocator
 * @ptr: the top block of the low end of @self
 * @size: the size @ptr was allocated with
 * @alignment: the alignment @ptr was allocated with
 * @error: return location for a #GError
 *
 * nebula_allocator_deallocate() for a #NebulaStackAllocator, inlined: the
 * top block, with its header intact, is popped without a call; every
 * other case takes the exported path (which raises
 * %NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER for a block that is not on top).
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
static inline gboolean
nebula_stack_allocator_pop (NebulaStackAllocator  *self,
                            gpointer               ptr,
                            gsize                  size,
                            gsize                  alignment,
                            GError               **error)
{
  if (G_LIKELY (_nebula_stack_fast_dealloc (_NEBULA_STACK_FAST (self), ptr, size, alignment)))
    return TRUE;

  return nebula_allocator_deallocate ((NebulaAllocator *) self, ptr, size, alignment, error);
}

#endif /* __GI_SCANNER__ */

G_END_DECLS
