/* nebula-stack-allocator-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <string.h>

#include "nebula-allocator-core-private.h"
#include "nebula-allocator-private.h"
#include "nebula-allocator-report-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-child-private.h"
#include "nebula-sanitizer-private.h"
#include "nebula-stack-allocator.h"

G_BEGIN_DECLS

/* The instance, its chunks and its block headers, shared by the files of
 * the stack: nebula-stack-allocator.c (the type, properties, the vfuncs
 * and the low end), nebula-stack-chunk.c (chunks, growth, rewinding an
 * end, the report), nebula-stack-high.c (the high end) and
 * nebula-stack-marker.c (markers and frames). The inline functions below
 * are on the fast paths: they stay inline in every file that uses them. */

typedef struct _Chunk Chunk;

struct _Chunk
{
  Chunk   *prev;           /* the older chunk below this one, or NULL */
  guint8  *data;
  gsize    size;
  guint    index;          /* 0 for the first chunk */
  /* The low end's state when a newer chunk became current. */
  guint8  *saved_last;
  guint8  *saved_cursor;
};

/* Stored just below every block, on both ends. A low-end block records
 * where the low end stood before it, so a pop reads a single header; its
 * size is where it ends (the cursor, or the record of the block above it)
 * minus its start. A high-end block records its size instead, because its
 * padding sits above it. */
typedef NebulaStackBlockHeader BlockHeader;

#define HEADER_SIZE           (sizeof (BlockHeader))
#define MIN_ALIGNMENT         (G_ALIGNOF (BlockHeader))
#define CHUNK_DATA_ALIGNMENT  16
#define DEFAULT_CAPACITY      (64 * 1024)
#define NO_BLOCK              G_MAXSIZE

/* What the memory tools see (nebula-sanitizer-private.h). Free space,
 * padding and every header are poisoned; a block is accessible for exactly
 * its size from its push to its pop, or to the rewind that takes it. The
 * gap between a block and the next one is the redzone that Bump adds
 * while the tools watch: the next block's header, poisoned to the user,
 * and the padding below it. Blocks start on an ASan granule, so the end of
 * each one is exact. On 64-bit systems both hold in the normal layout,
 * which the tools therefore see unchanged: every exact size in the tests
 * holds under them too. (On 32-bit systems the header is 12 bytes and
 * blocks are 4-aligned: Valgrind stays exact, ASan may miss an overflow of
 * up to 4 bytes into the next block's granule.) */
#if GLIB_SIZEOF_VOID_P >= 8
G_STATIC_ASSERT (MIN_ALIGNMENT % NEBULA_SANITIZER_GRANULE == 0);
G_STATIC_ASSERT (HEADER_SIZE >= NEBULA_SANITIZER_REDZONE);
#endif

/* Valgrind's pools: the low end's blocks live in one anchored at the
 * chunk's data, the high end's in a second one anchored inside the chunk's
 * header (not at its start: a child arena's chunk is a block of its
 * parent, which may start where the parent's own pool is anchored). A
 * rewind trims a pool to the range that stays, and Valgrind keeps every
 * block that intersects it: with a single pool, rewinding one end would
 * drop or keep the other end's blocks wholesale. */
#define LOW_POOL(chunk)       ((gpointer) (chunk)->data)
#define HIGH_POOL(chunk)      ((gpointer) &(chunk)->data)

struct _NebulaStackAllocator
{
  GObject                parent_instance;
  NebulaAllocatorCore    core;

  /* The fast paths, inline and exported, read these (cursor, limit, last,
   * base, cookie): see nebula-stack-allocator.h. */
  NebulaStackFast        fast;
  gboolean               short_path;    /* no fill, no tool: the short path applies */
  gboolean               tools_watching; /* ASan or Valgrind: no inline path */
  gboolean               check_low;     /* the DEBUG preset: low-end headers hashed */

  guint8                *high_last;     /* the high end's top block, or NULL */
  Chunk                 *current;
  Chunk                 *spare;         /* one emptied chunk kept against thrashing */
  gsize                  reserved;      /* bytes in all chunks, the spare included */
  gsize                  used_before;   /* low-end bytes in chunks older than current */
  guint64                generation;
  guint64                id;

  NebulaStatsCounters    stats;
  NebulaAllocatorConfig  config;
  NebulaChildLink       *child_link;    /* a child arena's parent, or NULL */

  /* Frames that rewind (nebula-stack-marker.c): the positions of the low
   * end's markers that no pop, resize or release has gone below since
   * they were taken, lowest first (MarkEntry), and the serial of the
   * newest marker. frame_rewind is FALSE in the DEBUG preset and on a
   * double-ended stack: every release walks and checks each header. */
  GArray                *marks;
  guint64                mark_serial;
  gboolean               frame_rewind;

  /* configuration */
  guint64                capacity;
  guint64                max_capacity;
  gboolean               double_ended;
};

/* A position of one end: what the allocator holds, or a step of a walk
 * down the stack. */
typedef struct
{
  Chunk  *chunk;
  guint8 *last;
  guint8 *cursor;
} EndState;

/* nebula-stack-allocator.c */
void       nebula_stack_allocator_init_once           (gpointer               data);
void       nebula_stack_allocator_set_corruption      (NebulaStackAllocator  *self,
                                                       gconstpointer          block,
                                                       GError               **error);
void       nebula_stack_allocator_mark_outside        (guint8                *start,
                                                       gsize                  size,
                                                       const guint8          *hole,
                                                       gsize                  hole_size,
                                                       gboolean               writable);
gboolean   nebula_stack_allocator_owns_ptr            (NebulaStackAllocator  *self,
                                                       gconstpointer          ptr);
void       nebula_stack_allocator_set_foreign_pointer (NebulaStackAllocator  *self,
                                                       gconstpointer          ptr,
                                                       gsize                  size,
                                                       const char            *why,
                                                       GError               **error);
void       nebula_stack_allocator_set_wrong_size      (NebulaStackAllocator  *self,
                                                       gconstpointer          ptr,
                                                       gsize                  block_size,
                                                       gsize                  size,
                                                       GError               **error);
void       nebula_stack_allocator_set_not_top         (NebulaStackAllocator  *self,
                                                       gconstpointer          ptr,
                                                       gsize                  size,
                                                       const char            *operation,
                                                       GError               **error);

/* nebula-stack-chunk.c */
Chunk     *nebula_stack_chunk_new                     (NebulaStackAllocator  *self,
                                                       gsize                  size,
                                                       GError               **error);
void       nebula_stack_chunk_free                    (NebulaStackAllocator  *self,
                                                       Chunk                 *chunk);
gboolean   nebula_stack_chunk_start                   (NebulaStackAllocator  *self,
                                                       GError               **error);
void       nebula_stack_chunk_release_all             (NebulaStackAllocator  *self);
void       nebula_stack_chunk_give_back_low           (NebulaStackAllocator  *self,
                                                       Chunk                 *chunk,
                                                       guint8                *top,
                                                       guint8                *cursor);
void       nebula_stack_chunk_set_low_state           (NebulaStackAllocator  *self,
                                                       const EndState        *state);
void       nebula_stack_chunk_set_high_state          (NebulaStackAllocator  *self,
                                                       const EndState        *state);
void       nebula_stack_chunk_set_exhausted           (NebulaStackAllocator  *self,
                                                       gsize                  size,
                                                       gsize                  alignment,
                                                       gboolean               high,
                                                       GError               **error);
gboolean   nebula_stack_chunk_grow                    (NebulaStackAllocator  *self,
                                                       gsize                  size,
                                                       gsize                  alignment,
                                                       GError               **error);
void       nebula_stack_chunk_report                  (NebulaAllocator       *allocator,
                                                       GVariantDict          *report);

/* nebula-stack-marker.c */
void       nebula_stack_marks_lower                   (NebulaStackAllocator  *self,
                                                       const guint8          *floor);
void       nebula_stack_marks_clear                   (NebulaStackAllocator  *self);

/* nebula-stack-high.c */
gboolean   nebula_stack_high_pop                      (NebulaStackAllocator  *self,
                                                       gsize                  size,
                                                       GError               **error);
gpointer   nebula_stack_high_reallocate_top           (NebulaStackAllocator  *self,
                                                       guint8                *ptr,
                                                       gsize                  old_size,
                                                       gsize                  new_size,
                                                       gsize                  alignment,
                                                       GError               **error);

static inline const char *
stack_label (void)
{
  return "Stack allocator";
}

static inline gboolean
ensure_ready (NebulaStackAllocator  *self,
              GError               **error)
{
  return nebula_allocator_config_ensure (&self->config, self, nebula_stack_allocator_init_once,
                                         error);
}

static inline guint8 *
chunk_end (const Chunk *chunk)
{
  return chunk->data + chunk->size;
}

static inline guintptr
header_check (const NebulaStackAllocator *self,
              const BlockHeader          *header,
              const guint8               *prev,
              guintptr                    word)
{
  return _nebula_stack_header_check (self->fast.cookie, header, prev, word);
}

/* The check word of a header on the low end (@low) or the high end: the
 * hash, except on the low end outside the DEBUG preset, where it is the
 * canary the inline push writes (nebula-allocator-fast.h). */
static inline guintptr
end_check (const NebulaStackAllocator *self,
           const BlockHeader          *header,
           const guint8               *prev,
           guintptr                    word,
           gboolean                    low)
{
  if (low && !self->check_low)
    return _nebula_stack_low_canary (header);
  return header_check (self, header, prev, word);
}

/* Headers are poisoned to the user while the memory tools watch: the
 * allocator opens one for its own write or read and closes it again.
 * store_header() is the bare write, for the short path that runs only
 * when no tool watches. */
static inline void
store_header (NebulaStackAllocator *self,
              guint8               *block,
              guint8               *prev,
              guintptr              word,
              gboolean              low)
{
  BlockHeader *header = (BlockHeader *) (gpointer) (block - HEADER_SIZE);

  header->check = end_check (self, header, prev, word, low);
  header->prev = prev;
  header->word = word;
}

static inline void
write_header (NebulaStackAllocator *self,
              guint8               *block,
              guint8               *prev,
              guintptr              word,
              gboolean              low)
{
  NEBULA_MEM_OPEN (block - HEADER_SIZE, HEADER_SIZE);
  store_header (self, block, prev, word, low);
  NEBULA_MEM_CLOSE (block - HEADER_SIZE, HEADER_SIZE);
}

/* A copy of the header of @block; its address still goes into the check. */
static inline BlockHeader
load_header (const guint8 *block)
{
  const BlockHeader *header = (const BlockHeader *) (gconstpointer) (block - HEADER_SIZE);
  BlockHeader copy;

  NEBULA_MEM_OPEN (header, HEADER_SIZE);
  copy = *header;
  NEBULA_MEM_CLOSE (header, HEADER_SIZE);

  return copy;
}

static inline void
fill (int      value,
      gpointer start,
      gsize    size)
{
  if (G_UNLIKELY (value >= 0) && size > 0)
    memset (start, value, size);
}

static inline gsize
effective_alignment (gsize alignment)
{
  return MAX (alignment, MIN_ALIGNMENT);
}

/* Whether @copy, the header found below @block, a block of the low end
 * of the chunk whose data starts at @data and of the block ending at
 * @end, is intact and describes where the low end stood before @block
 * (in the same chunk) and the block below it. Every value is checked
 * before it is believed. The check word is the hash with the DEBUG
 * preset (@self's check_low), where the inline path is closed, and the
 * canary elsewhere, which leaves the two pointers to the range tests. The
 * unsigned difference folds both bounds of the low end's old position
 * into one comparison. */
static inline gboolean
low_header_ok (const NebulaStackAllocator *self,
               const guint8               *data,
               const guint8               *block,
               const guint8               *end,
               const BlockHeader          *copy)
{
  guintptr header = (guintptr) block - HEADER_SIZE;
  guintptr base = (guintptr) data;
  guintptr p = (guintptr) copy->prev;
  guintptr e = copy->word;

  if (copy->check != end_check (self, (const BlockHeader *) header, copy->prev, e, TRUE) ||
      end <= block || e - base > header - base)
    return FALSE;
  if (p == 0)
    return e == base;
  return (p & (MIN_ALIGNMENT - 1)) == 0 && p >= base + HEADER_SIZE && p < e;
}

/* Reads the header of @block, a block of the low end of @chunk ending at
 * @end: the block below it and where the low end stood before it. */
static inline gboolean
read_low_header (NebulaStackAllocator  *self,
                 const Chunk           *chunk,
                 const guint8          *block,
                 const guint8          *end,
                 guint8               **prev,
                 guint8               **prev_end,
                 GError               **error)
{
  BlockHeader copy = load_header (block);

  if (!low_header_ok (self, chunk->data, block, end, &copy))
    {
      nebula_stack_allocator_set_corruption (self, block, error);
      return FALSE;
    }

  *prev = copy.prev;
  *prev_end = (guint8 *) copy.word;
  return TRUE;
}

/* The same for a block of the high end, which grows down towards the low
 * end: the block below it on that end lies at a higher address. */
static inline gboolean
read_high_header (NebulaStackAllocator  *self,
                  const Chunk           *chunk,
                  const guint8          *block,
                  guint8               **prev,
                  gsize                 *size,
                  GError               **error)
{
  const BlockHeader *header = (const BlockHeader *) (gconstpointer) (block - HEADER_SIZE);
  BlockHeader copy = load_header (block);
  guintptr p = (guintptr) copy.prev;
  guintptr ceiling = p != 0 ? p - HEADER_SIZE : (guintptr) chunk_end (chunk);
  gsize s = copy.word;

  if (copy.check != header_check (self, header, copy.prev, s) ||
      (p != 0 && ((p & (MIN_ALIGNMENT - 1)) != 0 ||
                  p >= (guintptr) chunk_end (chunk) ||
                  p < (guintptr) block + HEADER_SIZE)) ||
      s == 0 || ceiling < (guintptr) block || s > ceiling - (guintptr) block)
    {
      nebula_stack_allocator_set_corruption (self, block, error);
      return FALSE;
    }

  *prev = copy.prev;
  *size = s;
  return TRUE;
}

static inline EndState
low_state (NebulaStackAllocator *self)
{
  return (EndState) { self->current, self->fast.last, self->fast.cursor };
}

static inline EndState
high_state (NebulaStackAllocator *self)
{
  return (EndState) { self->current, self->high_last, self->fast.limit };
}

/* An empty chunk above the first one is never a position of its own:
 * a walk that emptied one goes on in the chunk below. */
static inline void
low_hop (EndState *state)
{
  while (state->last == NULL && state->chunk->prev != NULL)
    {
      state->chunk = state->chunk->prev;
      state->last = state->chunk->saved_last;
      state->cursor = state->chunk->saved_cursor;
    }
}

/* Pops the top block of @state (which has one), giving its size. */
static inline gboolean
low_step (NebulaStackAllocator  *self,
          EndState              *state,
          gsize                 *popped_size,
          GError               **error)
{
  guint8 *prev, *prev_end;

  if (!read_low_header (self, state->chunk, state->last, state->cursor, &prev, &prev_end, error))
    return FALSE;

  *popped_size = state->cursor - state->last;
  state->last = prev;
  state->cursor = prev_end;
  low_hop (state);

  return TRUE;
}

static inline gboolean
high_step (NebulaStackAllocator  *self,
           EndState              *state,
           gsize                 *popped_size,
           GError               **error)
{
  guint8 *prev;
  gsize size;

  if (!read_high_header (self, state->chunk, state->last, &prev, &size, error))
    return FALSE;

  if (state->last - HEADER_SIZE != state->cursor)
    {
      nebula_stack_allocator_set_corruption (self, state->last, error);
      return FALSE;
    }

  state->last = prev;
  state->cursor = prev != NULL ? prev - HEADER_SIZE : chunk_end (state->chunk);
  *popped_size = size;
  return TRUE;
}

/* A live block of @pool moves within its chunk from @from to @to, which
 * may overlap: before the copy the new bytes become writable (bytes copied
 * from the old block keep Valgrind's definedness), after it Valgrind's
 * block follows and the old bytes outside the new block die. */
static inline void
move_open (guint8 *from,
           gsize   old_size,
           guint8 *to,
           gsize   new_size)
{
  nebula_stack_allocator_mark_outside (to, new_size, from, old_size, TRUE);
}

static inline void
move_close (gpointer  pool,
            guint8   *from,
            gsize     old_size,
            guint8   *to,
            gsize     new_size)
{
  NEBULA_VALGRIND (VALGRIND_MEMPOOL_CHANGE (pool, from, to, new_size));
  nebula_stack_allocator_mark_outside (from, old_size, to, new_size, FALSE);
}

static inline gboolean
can_grow (NebulaStackAllocator *self)
{
  return self->max_capacity > self->capacity;
}

G_END_DECLS
