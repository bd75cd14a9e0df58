/* nebula-stack-allocator.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "nebula-allocator-core-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-sanitizer-private.h"
#include "nebula-stack-allocator.h"

#if NEBULA_TSAN
# include <sanitizer/tsan_interface.h>
#endif

/**
 * NebulaStackAllocator:
 *
 * A region allocator that frees in last-in, first-out order.
 *
 * Every block sits on top of the one allocated before it.
 * [method@Allocator.deallocate] of the top block pops it; any other block of
 * the stack is refused with %NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER and nothing
 * changes, and a pointer from elsewhere with
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER. Many blocks go at once by
 * releasing to a marker ([method@StackAllocator.mark],
 * [method@StackAllocator.release_to_marker]) or with a frame:
 * `g_autoptr (NebulaStackFrame)` in C, `with stack.frame():` in Python.
 *
 * Each block carries a 24-byte header just below it (the block beneath it,
 * where the stack stood before it, and a check word), so blocks are aligned
 * to at least 8 bytes. Headers live in memory the caller can overwrite:
 * they are validated before use, and a damaged one gives
 * %NEBULA_ALLOCATOR_ERROR_CORRUPTION instead of a crash.
 *
 * [method@Allocator.reallocate] resizes the top block in place when there
 * is room (when there is not and the stack may grow, the block moves to a
 * new chunk, still on top). Any other block gives
 * %NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER: moving it would leave the old block
 * in the middle of the stack, where it could never be popped.
 *
 * The stack starts with one chunk of [property@StackAllocator:capacity]
 * bytes; with [property@StackAllocator:max-capacity] above the capacity it
 * continues in further chunks, each twice the previous, up to that total.
 *
 * With [property@StackAllocator:double-ended], a second stack grows down
 * from the other end of the same region ([method@StackAllocator.allocate_high],
 * [method@StackAllocator.deallocate_high], [method@StackAllocator.mark_high]);
 * a game keeps level data at one end and per-frame data at the other. When
 * the ends meet, allocation fails with %NEBULA_ALLOCATOR_ERROR_EXHAUSTED and
 * the fill level of both ends in the message. A double-ended stack does not
 * grow: both ends share one region.
 *
 * A stack is ordered by nature, so [property@StackAllocator:thread-safe]
 * simply serializes every operation with a mutex; without it no lock or
 * atomic instruction is on the path. Note that blocks pushed by several
 * threads interleave, so a thread can only pop its block while nobody
 * pushed above it.
 */

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
 * chunk's data, the high end's in a second one anchored at the chunk
 * itself. A rewind trims a pool to the range that stays, and Valgrind
 * keeps every block that intersects it: with a single pool, rewinding one
 * end would drop or keep the other end's blocks wholesale. */
#define LOW_POOL(chunk)       ((gpointer) (chunk)->data)
#define HIGH_POOL(chunk)      ((gpointer) (chunk))

struct _NebulaStackAllocator
{
  GObject                parent_instance;
  NebulaAllocatorCore    core;

  /* The fast paths, inline and exported, read these (cursor, limit, last,
   * base, cookie): see nebula-stack-allocator.h. */
  NebulaStackFast        fast;
  gboolean               unlocked;      /* no lock, no fill, no tool: the short path applies */
  gboolean               tools_watching; /* ASan or Valgrind: no inline path */

  guint8                *high_last;     /* the high end's top block, or NULL */
  Chunk                 *current;
  Chunk                 *spare;         /* one emptied chunk kept against thrashing */
  gsize                  reserved;      /* bytes in all chunks, the spare included */
  gsize                  used_before;   /* low-end bytes in chunks older than current */
  guint64                generation;
  guint64                id;

  NebulaStatsCounters    stats;
  NebulaAllocatorConfig  config;
  GMutex                 lock;
  gboolean               holding_signals;  /* under the lock: budget signals held */

  /* configuration */
  guint64                capacity;
  guint64                max_capacity;
  gboolean               double_ended;
};

/**
 * NebulaStackMarker:
 *
 * The recorded top of one end of a #NebulaStackAllocator, from
 * nebula_stack_allocator_mark() or nebula_stack_allocator_mark_high(), to
 * release to with nebula_stack_allocator_release_to_marker(). It knows its
 * allocator, the allocator's reset generation, the chunk, the position and
 * the top block, and which end it belongs to, so that a marker that no
 * longer describes the stack is refused instead of trusted.
 */
struct _NebulaStackMarker
{
  guint64  allocator_id;
  guint64  generation;
  guint    chunk_index;
  gboolean high;
  gsize    position;      /* offset of the end's cursor in its chunk */
  gsize    last;          /* offset of the end's top block, or NO_BLOCK */
};

struct _NebulaStackFrame
{
  NebulaStackAllocator *stack;
  NebulaStackMarker    *marker;
};

/* A position of one end: what the allocator holds, or a step of a walk
 * down the stack. */
typedef struct
{
  Chunk  *chunk;
  guint8 *last;
  guint8 *cursor;
} EndState;

enum {
  PROP_MAX_CAPACITY = NEBULA_CONFIG_N_PROPS,
  PROP_DOUBLE_ENDED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];
static guint64 next_allocator_id = 1;

static void allocator_iface_init (NebulaAllocatorInterface *iface);
static void initable_iface_init  (GInitableIface           *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NebulaStackAllocator, nebula_stack_allocator, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (NEBULA_TYPE_ALLOCATOR, allocator_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init))

/* The public header finds the fast fields right after the core. */
NEBULA_ASSERT_CORE_LAYOUT (NebulaStackAllocator);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, cursor, 0);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, limit, 1);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, last, 2);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, base, 3);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, bottom, 4);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, cookie, 5);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, max_fast_size, 6);
NEBULA_ASSERT_FAST_FIELD (NebulaStackFast, stats, 7);
G_STATIC_ASSERT (sizeof (NebulaStackFast) == 8 * sizeof (gpointer));
NEBULA_ASSERT_FAST_FIELD (NebulaStackBlockHeader, prev, 0);
NEBULA_ASSERT_FAST_FIELD (NebulaStackBlockHeader, word, 1);
NEBULA_ASSERT_FAST_FIELD (NebulaStackBlockHeader, check, 2);
G_STATIC_ASSERT (sizeof (NebulaStackBlockHeader) == 3 * sizeof (gpointer));

G_DEFINE_BOXED_TYPE (NebulaStackMarker, nebula_stack_marker,
                     nebula_stack_marker_copy, nebula_stack_marker_free)

static inline const char *
stack_label (void)
{
  return "Stack allocator";
}

/* GMutex is built from atomics in an uninstrumented GLib, so
 * ThreadSanitizer cannot see that it orders the stack's operations: tell
 * it. */
static inline void
stack_lock (NebulaStackAllocator *self)
{
  if (self->config.thread_safe)
    {
      g_mutex_lock (&self->lock);
#if NEBULA_TSAN
      __tsan_acquire (&self->lock);
#endif
    }
}

static inline void
stack_unlock (NebulaStackAllocator *self)
{
  if (!self->config.thread_safe)
    return;

#if NEBULA_TSAN
  __tsan_release (&self->lock);
#endif
  if (G_LIKELY (!self->holding_signals))
    {
      g_mutex_unlock (&self->lock);
      return;
    }

  self->holding_signals = FALSE;
  g_mutex_unlock (&self->lock);
  nebula_memory_budget_emit_held_signals ();
}

/* Growth charges the budget under the lock, and the budget's handlers may
 * call back into the stack: the signals wait until stack_unlock(). Only
 * growth holds them, so that other operations pay nothing for it. */
static inline void
stack_hold_signals (NebulaStackAllocator *self)
{
  if (self->config.thread_safe && self->config.budget != NULL && !self->holding_signals)
    {
      nebula_memory_budget_hold_signals ();
      self->holding_signals = TRUE;
    }
}

static inline gboolean ensure_ready (NebulaStackAllocator  *self,
                                     GError               **error);

/* Initializes the stack before taking the lock (the first chunk's charge
 * may emit the budget's signals, which must not run under it); the
 * ensure_ready() under the lock then only reports an invalid
 * configuration. */
static inline void
stack_lock_ready (NebulaStackAllocator *self)
{
  if (G_UNLIKELY (__atomic_load_n (&self->config.init_once, __ATOMIC_ACQUIRE) !=
                  NEBULA_CONFIG_INIT_DONE))
    (void) ensure_ready (self, NULL);
  stack_lock (self);
}

static inline guint8 *
chunk_end (const Chunk *chunk)
{
  return chunk->data + chunk->size;
}

/* The data and the slack after it, to the end of the malloc() block: the
 * region the memory tools guard. */
static inline gsize
chunk_region_size (const Chunk *chunk)
{
  return (gsize) ((const guint8 *) (chunk + 1) + CHUNK_DATA_ALIGNMENT + chunk->size - chunk->data);
}

/* Every chunk is allocated here and freed in chunk_free(): the budget, if
 * any, is charged for the chunk's data before it is taken from the system,
 * and released when the chunk goes. A refusal changes nothing. */
static Chunk *
chunk_new (NebulaStackAllocator  *self,
           gsize                  size,
           GError               **error)
{
  Chunk *chunk;

  if (!nebula_allocator_config_charge (&self->config, size, error))
    return NULL;

  chunk = g_try_malloc (sizeof (Chunk) + CHUNK_DATA_ALIGNMENT + size);
  if (chunk == NULL)
    {
      NebulaErrorInfo info = { .requested = size, .what = self->config.name };

      nebula_allocator_config_uncharge (&self->config, size);

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY, &info,
                        "%s: the system refused a chunk of %" G_GSIZE_FORMAT " bytes",
                        stack_label (), size);
      return NULL;
    }

  memset (chunk, 0, sizeof *chunk);
  chunk->data = (guint8 *) (((guintptr) (chunk + 1) + CHUNK_DATA_ALIGNMENT - 1) &
                            ~(guintptr) (CHUNK_DATA_ALIGNMENT - 1));
  chunk->size = size;
  self->reserved += size;

  /* Nothing is handed out yet. The high end's pool covers the same region,
   * which the low end's has poisoned already. */
  NEBULA_MEMPOOL_CREATE (LOW_POOL (chunk), chunk->data, chunk_region_size (chunk));
  if (self->double_ended)
    NEBULA_MEMPOOL_CREATE (HIGH_POOL (chunk), chunk->data, 0);

  return chunk;
}

static void
chunk_free (NebulaStackAllocator *self,
            Chunk                *chunk)
{
  self->reserved -= chunk->size;
  nebula_allocator_config_uncharge (&self->config, chunk->size);
  if (self->double_ended)
    NEBULA_MEMPOOL_DESTROY (HIGH_POOL (chunk), chunk->data, 0);
  NEBULA_MEMPOOL_DESTROY (LOW_POOL (chunk), chunk->data, chunk_region_size (chunk));
  g_free (chunk);
}

/* An emptied chunk: keep the largest one for the next growth. */
static void
retire_chunk (NebulaStackAllocator *self,
              Chunk                *chunk)
{
  if (self->spare == NULL || chunk->size > self->spare->size)
    {
      if (self->spare != NULL)
        chunk_free (self, self->spare);
      chunk->prev = NULL;
      self->spare = chunk;
    }
  else
    {
      chunk_free (self, chunk);
    }
}

static inline guintptr
header_check (const NebulaStackAllocator *self,
              const BlockHeader          *header,
              const guint8               *prev,
              guintptr                    word)
{
  return _nebula_stack_header_check (self->fast.cookie, header, prev, word);
}

/* Headers are poisoned to the user while the memory tools watch: the
 * allocator opens one for its own write or read and closes it again.
 * store_header() is the bare write, for the short path that runs only
 * when no tool watches. */
static inline void
store_header (NebulaStackAllocator *self,
              guint8               *block,
              guint8               *prev,
              guintptr              word)
{
  BlockHeader *header = (BlockHeader *) (gpointer) (block - HEADER_SIZE);

  header->prev = prev;
  header->word = word;
  header->check = header_check (self, header, prev, word);
}

static inline void
write_header (NebulaStackAllocator *self,
              guint8               *block,
              guint8               *prev,
              guintptr              word)
{
  NEBULA_MEM_OPEN (block - HEADER_SIZE, HEADER_SIZE);
  store_header (self, block, prev, word);
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

static G_NO_INLINE void
set_corruption (NebulaStackAllocator  *self,
                gconstpointer          block,
                GError               **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_CORRUPTION, &info,
                    "%s: the header of the block at %p is damaged (the %u bytes below "
                    "the block were overwritten); nothing was changed",
                    what, block, (guint) HEADER_SIZE);
}

/* Reads the header of @block, a block of the low end of @chunk ending at
 * @end: the block below it and where the low end stood before it. Every
 * value is checked before it is believed. */
static inline gboolean
read_low_header (NebulaStackAllocator  *self,
                 const Chunk           *chunk,
                 const guint8          *block,
                 const guint8          *end,
                 guint8               **prev,
                 guint8               **prev_end,
                 GError               **error)
{
  const BlockHeader *header = (const BlockHeader *) (gconstpointer) (block - HEADER_SIZE);
  BlockHeader copy = load_header (block);
  guintptr p = (guintptr) copy.prev;
  guintptr e = copy.word;

  if (copy.check != header_check (self, header, copy.prev, e) ||
      end <= block ||
      e < (guintptr) chunk->data || e > (guintptr) header ||
      (p == 0 && e != (guintptr) chunk->data) ||
      (p != 0 && ((p & (MIN_ALIGNMENT - 1)) != 0 ||
                  p < (guintptr) chunk->data + HEADER_SIZE ||
                  p >= e)))
    {
      set_corruption (self, block, error);
      return FALSE;
    }

  *prev = copy.prev;
  *prev_end = (guint8 *) e;
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
      set_corruption (self, block, error);
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

  /* An empty chunk above the first one is never a position of its own. */
  while (state->last == NULL && state->chunk->prev != NULL)
    {
      state->chunk = state->chunk->prev;
      state->last = state->chunk->saved_last;
      state->cursor = state->chunk->saved_cursor;
    }

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
      set_corruption (self, state->last, error);
      return FALSE;
    }

  state->last = prev;
  state->cursor = prev != NULL ? prev - HEADER_SIZE : chunk_end (state->chunk);
  *popped_size = size;
  return TRUE;
}

/* Gives back [dead, dead + dead_size) of one end: filled with the
 * free-fill byte if there is one (headers and padding included, which the
 * tools guard), then dead for the tools, whose @pool keeps only the blocks
 * inside [keep, keep + keep_size). */
static void
give_back (NebulaStackAllocator *self,
           gpointer              pool,
           guint8               *keep,
           gsize                 keep_size,
           guint8               *dead,
           gsize                 dead_size)
{
  if (dead_size == 0)
    return;

  if (self->config.free_fill >= 0)
    {
      NEBULA_MEM_WRITABLE (dead, dead_size);
      memset (dead, self->config.free_fill, dead_size);
    }
  NEBULA_MEMPOOL_TRIM_RANGE (pool, keep, keep_size, dead, dead_size);
}

/* Marks [start, start + size) less [hole, hole + hole_size) writable
 * (else inaccessible) for the memory tools: at most two pieces. */
static void
mark_outside (guint8       *start,
              gsize         size,
              const guint8 *hole,
              gsize         hole_size,
              gboolean      writable)
{
  guint8 *end = start + size;
  guint8 *pieces[2][2] = {
    { start, MIN (end, (guint8 *) hole) },
    { MAX (start, (guint8 *) hole + hole_size), end },
  };

  for (guint i = 0; i < G_N_ELEMENTS (pieces); i++)
    {
      gsize length = pieces[i][1] > pieces[i][0] ? (gsize) (pieces[i][1] - pieces[i][0]) : 0;

      if (length == 0)
        continue;
      if (writable)
        NEBULA_MEM_WRITABLE (pieces[i][0], length);
      else
        NEBULA_MEM_NOACCESS (pieces[i][0], length);
    }
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
  mark_outside (to, new_size, from, old_size, TRUE);
}

static inline void
move_close (gpointer  pool,
            guint8   *from,
            gsize     old_size,
            guint8   *to,
            gsize     new_size)
{
  NEBULA_VALGRIND (VALGRIND_MEMPOOL_CHANGE (pool, from, to, new_size));
  mark_outside (from, old_size, to, new_size, FALSE);
}

/* The low end of @chunk keeps [data, @top); what it held up to @cursor goes. */
static inline void
give_back_low (NebulaStackAllocator *self,
               Chunk                *chunk,
               guint8               *top,
               guint8               *cursor)
{
  give_back (self, LOW_POOL (chunk), chunk->data, top - chunk->data, top, cursor - top);
}

/* Makes @state (found by walking down) the low end's position, releasing
 * everything above it. */
static void
set_low_state (NebulaStackAllocator *self,
               const EndState       *state)
{
  while (self->current != state->chunk)
    {
      Chunk *chunk = self->current;

      /* Emptied: poisoned all over and its pool empty, as when new. */
      give_back_low (self, chunk, chunk->data, self->fast.cursor);
      self->current = chunk->prev;
      self->fast.cursor = self->current->saved_cursor;
      self->used_before -= self->fast.cursor - self->current->data;
      retire_chunk (self, chunk);
    }

  give_back_low (self, self->current, state->cursor, self->fast.cursor);
  self->fast.cursor = state->cursor;
  self->fast.last = state->last;
  self->fast.base = self->current->data;
  self->fast.bottom = self->current->prev == NULL ? self->current->data : NULL;
  if (!self->double_ended)
    self->fast.limit = chunk_end (self->current);
}

static void
set_high_state (NebulaStackAllocator *self,
                const EndState       *state)
{
  /* A single-ended stack has no high end, nor its pool. */
  if (self->double_ended)
    give_back (self, HIGH_POOL (self->current),
               state->cursor, chunk_end (self->current) - state->cursor,
               self->fast.limit, state->cursor - self->fast.limit);
  self->fast.limit = state->cursor;
  self->high_last = state->last;
}

static inline gboolean
can_grow (NebulaStackAllocator *self)
{
  return self->max_capacity > self->capacity;
}

static void
set_exhausted (NebulaStackAllocator  *self,
               gsize                  size,
               gsize                  alignment,
               gboolean               high,
               GError               **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  gsize available = self->current != NULL ? (gsize) (self->fast.limit - self->fast.cursor) : 0;
  NebulaErrorInfo info;

  info = (NebulaErrorInfo) {
    .requested = size,
    .available = available,
    .capacity = self->max_capacity,
    .what = what,
  };

  if (self->double_ended && self->current != NULL)
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes at the %s end, "
                      "but the ends meet: low end %" G_GSIZE_FORMAT " bytes, high end %"
                      G_GSIZE_FORMAT " bytes of %" G_GSIZE_FORMAT " (alignment %" G_GSIZE_FORMAT
                      ", each block also takes a %u-byte header)",
                      what, size, high ? "high" : "low",
                      (gsize) (self->fast.cursor - self->current->data),
                      (gsize) (chunk_end (self->current) - self->fast.limit),
                      self->current->size, alignment, (guint) HEADER_SIZE);
  else if (can_grow (self))
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                      " of %" G_GSIZE_FORMAT " available in the current chunk and %"
                      G_GSIZE_FORMAT " of %" G_GUINT64_FORMAT " left to grow (alignment %"
                      G_GSIZE_FORMAT ", each block also takes a %u-byte header)",
                      what, size, available,
                      self->current != NULL ? self->current->size : 0,
                      (gsize) (self->max_capacity - MIN (self->reserved, self->max_capacity)),
                      self->max_capacity, alignment, (guint) HEADER_SIZE);
  else
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                      " of %" G_GUINT64_FORMAT " available (alignment %" G_GSIZE_FORMAT
                      ", each block also takes a %u-byte header)",
                      what, size, available, self->capacity, alignment, (guint) HEADER_SIZE);
}

/* Makes @chunk the current one, remembering where the low end stood. */
static void
push_chunk (NebulaStackAllocator *self,
            Chunk                *chunk)
{
  Chunk *old = self->current;

  old->saved_last = self->fast.last;
  old->saved_cursor = self->fast.cursor;
  self->used_before += self->fast.cursor - old->data;

  chunk->prev = old;
  chunk->index = old->index + 1;
  self->current = chunk;
  self->fast.cursor = chunk->data;
  self->fast.base = chunk->data;
  self->fast.bottom = NULL;
  self->fast.limit = chunk_end (chunk);
  self->fast.last = NULL;
}

/* Continues the low end in a new (or the spare) chunk with room for a block
 * of @size bytes at @alignment. */
static gboolean
grow (NebulaStackAllocator  *self,
      gsize                  size,
      gsize                  alignment,
      GError               **error)
{
  gsize align = effective_alignment (alignment);
  gsize need, room, chunk_size;
  Chunk *chunk;

  if (!can_grow (self) || size > NEBULA_MAX_ALLOCATION_SIZE / 2 ||
      align > NEBULA_MAX_ALLOCATION_SIZE / 2)
    {
      set_exhausted (self, size, alignment, FALSE, error);
      return FALSE;
    }

  /* Chunk data starts 16-aligned; the header and alignment padding come
   * first. */
  need = HEADER_SIZE + (align - 1) + size;

  if (self->spare != NULL && self->spare->size >= need)
    {
      chunk = g_steal_pointer (&self->spare);
      push_chunk (self, chunk);
      return TRUE;
    }

  room = self->max_capacity - MIN (self->reserved, self->max_capacity);
  if (self->spare != NULL)
    room += self->spare->size;
  if (need > room)
    {
      set_exhausted (self, size, alignment, FALSE, error);
      return FALSE;
    }

  if (self->spare != NULL)
    chunk_free (self, g_steal_pointer (&self->spare));

  chunk_size = CLAMP (self->current->size * 2, need, room);
  stack_hold_signals (self);
  chunk = chunk_new (self, chunk_size, error);
  if (chunk == NULL)
    return FALSE;

  push_chunk (self, chunk);
  return TRUE;
}

static inline void
push_block (NebulaStackAllocator *self,
            guint8               *block,
            gsize                 size)
{
  store_header (self, block, self->fast.last, (guintptr) self->fast.cursor);
  self->fast.last = block;
  self->fast.cursor = block + size;
}

static gpointer
allocate_low_locked (NebulaStackAllocator  *self,
                     gsize                  size,
                     gsize                  alignment,
                     GError               **error)
{
  gsize mask = effective_alignment (alignment) - 1;

  for (;;)
    {
      guintptr start = ((guintptr) self->fast.cursor + HEADER_SIZE + mask) & ~(guintptr) mask;

      if (start <= (guintptr) self->fast.limit && (guintptr) self->fast.limit - start >= size)
        {
          guint8 *block = (guint8 *) start;

          NEBULA_MEM_OPEN (block - HEADER_SIZE, HEADER_SIZE);
          push_block (self, block, size);
          NEBULA_MEM_CLOSE (block - HEADER_SIZE, HEADER_SIZE);
          NEBULA_MEMPOOL_ALLOC (LOW_POOL (self->current), block, size);
          fill (self->config.alloc_fill, block, size);
          return block;
        }

      if (!grow (self, size, alignment, error))
        return NULL;
    }
}

static G_NO_INLINE gpointer
allocate_slow (NebulaStackAllocator  *self,
               gsize                  size,
               gsize                  alignment,
               GError               **error)
{
  gpointer ptr = NULL;

  stack_lock_ready (self);
  if (ensure_ready (self, error))
    ptr = allocate_low_locked (self, size, alignment, error);
  stack_unlock (self);

  return ptr;
}

static gpointer
nebula_stack_allocator_allocate (NebulaAllocator  *allocator,
                                 gsize             size,
                                 gsize             alignment,
                                 GError          **error)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  gsize mask = effective_alignment (alignment) - 1;
  guintptr start;

  /* `unlocked` is FALSE before initialization, in thread-safe mode, where
   * the cursor may only be read under the lock, and while a memory tool
   * watches, which must hear of every block. Addresses stay below 2^63
   * and alignments are at most 2^63, so the rounding cannot wrap. */
  if (G_LIKELY (self->unlocked))
    {
      start = ((guintptr) self->fast.cursor + HEADER_SIZE + mask) & ~(guintptr) mask;
      if (G_LIKELY (start <= (guintptr) self->fast.limit && (guintptr) self->fast.limit - start >= size))
        {
          push_block (self, (guint8 *) start, size);
          return (gpointer) start;
        }
    }

  return allocate_slow (self, size, alignment, error);
}

static void
set_single_ended (NebulaStackAllocator  *self,
                  gsize                  size,
                  GError               **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED, &info,
                    "%s has no high end: construct it with the 'double-ended' property "
                    "(size %" G_GSIZE_FORMAT ")", what, size);
}

static gpointer
allocate_high_locked (NebulaStackAllocator  *self,
                      gsize                  size,
                      gsize                  alignment,
                      GError               **error)
{
  gsize mask = effective_alignment (alignment) - 1;
  guintptr block;

  if (!self->double_ended)
    {
      set_single_ended (self, size, error);
      return NULL;
    }

  block = ((guintptr) self->fast.limit - size) & ~(guintptr) mask;
  if (size > (gsize) (self->fast.limit - self->fast.cursor) ||
      block < (guintptr) self->fast.cursor + HEADER_SIZE)
    {
      set_exhausted (self, size, alignment, TRUE, error);
      return NULL;
    }
  write_header (self, (guint8 *) block, self->high_last, size);
  self->high_last = (guint8 *) block;
  self->fast.limit = (guint8 *) block - HEADER_SIZE;
  NEBULA_MEMPOOL_ALLOC (HIGH_POOL (self->current), (gpointer) block, size);
  fill (self->config.alloc_fill, (gpointer) block, size);

  return (gpointer) block;
}

static inline gboolean
in_high_end (NebulaStackAllocator *self,
             gconstpointer         ptr)
{
  return self->double_ended &&
         (const guint8 *) ptr >= self->fast.limit &&
         (const guint8 *) ptr < chunk_end (self->current);
}

static gboolean
owns_locked (NebulaStackAllocator *self,
             gconstpointer         ptr)
{
  const guint8 *p = ptr;

  if (self->current == NULL)
    return FALSE;

  if (p >= self->current->data && p < self->fast.cursor)
    return TRUE;
  if (in_high_end (self, p))
    return TRUE;

  for (Chunk *chunk = self->current->prev; chunk != NULL; chunk = chunk->prev)
    if (p >= chunk->data && p < chunk->saved_cursor)
      return TRUE;

  return FALSE;
}

static gboolean
nebula_stack_allocator_owns (NebulaAllocator *allocator,
                             gconstpointer    ptr)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  gboolean owned = FALSE;

  stack_lock_ready (self);
  if (ensure_ready (self, NULL))
    owned = owns_locked (self, ptr);
  stack_unlock (self);

  return owned;
}

/* The span check for scripts (nebula-allocator-private.h). A stack keeps
 * no table of its blocks, so a span must lie in the used part of one
 * chunk, on one end; a free or resize then checks the top block and its
 * size itself, as it does for C. */
static gboolean
span_in_use_locked (NebulaStackAllocator *self,
                    guintptr              start,
                    gsize                 size)
{
  if (self->current == NULL)
    return FALSE;

  if (nebula_span_within (start, size, self->current->data, self->fast.cursor))
    return TRUE;
  if (self->double_ended &&
      nebula_span_within (start, size, self->fast.limit, chunk_end (self->current)))
    return TRUE;

  for (Chunk *chunk = self->current->prev; chunk != NULL; chunk = chunk->prev)
    if (nebula_span_within (start, size, chunk->data, chunk->saved_cursor))
      return TRUE;

  return FALSE;
}

static NebulaSpanResult
stack_span (NebulaAllocator *allocator,
            guintptr         start,
            gsize            size,
            NebulaSpanKind   kind,
            gsize           *block_size)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  NebulaSpanResult result = NEBULA_SPAN_NOT_READY;

  stack_lock_ready (self);
  if (ensure_ready (self, NULL))
    result = span_in_use_locked (self, start, size) ? NEBULA_SPAN_OK : NEBULA_SPAN_FOREIGN;
  stack_unlock (self);

  /* A free and a resize take only the top block of an end, after checking
   * that it is one, and say precisely what is wrong (OUT_OF_ORDER, a wrong
   * size, a single-ended stack). */
  if (kind != NEBULA_SPAN_INSIDE && result == NEBULA_SPAN_FOREIGN)
    return NEBULA_SPAN_DEFER;

  return result;
}

static void
set_foreign_pointer (NebulaStackAllocator  *self,
                     gconstpointer          ptr,
                     gsize                  size,
                     const char            *why,
                     GError               **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, &info,
                    "%s: %p (size %" G_GSIZE_FORMAT ") %s",
                    what, ptr, size, why);
}

static void
set_out_of_order (NebulaStackAllocator  *self,
                  gconstpointer          ptr,
                  gsize                  size,
                  const char            *operation,
                  GError               **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };
  gboolean high = in_high_end (self, ptr);
  gconstpointer top = high ? self->high_last : self->fast.last;

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER, &info,
                    "%s: cannot %s %p (size %" G_GSIZE_FORMAT "): it is not the top of the "
                    "%s end (the top block is %p); free in LIFO order or release to a marker",
                    what, operation, ptr, size, high ? "high" : "low", top);
}

static void
set_wrong_size (NebulaStackAllocator  *self,
                gconstpointer          ptr,
                gsize                  block_size,
                gsize                  size,
                GError               **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, &info,
                    "%s: the block at %p has %" G_GSIZE_FORMAT " bytes, not %" G_GSIZE_FORMAT,
                    what, ptr, block_size, size);
}

/* Refuses a pointer that is not the top of either end. */
static void
set_not_top (NebulaStackAllocator  *self,
             gconstpointer          ptr,
             gsize                  size,
             const char            *operation,
             GError               **error)
{
  if (ptr != NULL && owns_locked (self, ptr))
    set_out_of_order (self, ptr, size, operation, error);
  else
    set_foreign_pointer (self, ptr, size, "was not allocated by this allocator", error);
}

static gboolean
pop_low (NebulaStackAllocator  *self,
         gsize                  size,
         GError               **error)
{
  EndState state = low_state (self);
  guint8 *block = self->fast.last;
  gsize block_size;

  if (!low_step (self, &state, &block_size, error))
    return FALSE;

  if (block_size != size)
    {
      set_wrong_size (self, block, block_size, size, error);
      return FALSE;
    }

  if (G_LIKELY (state.chunk == self->current && self->config.free_fill < 0))
    {
      /* One block, freed by itself: a trim costs Valgrind a walk of the
       * pool. Its header and padding stayed poisoned. */
      NEBULA_MEMPOOL_FREE (LOW_POOL (self->current), block, size);
      self->fast.cursor = state.cursor;
      self->fast.last = state.last;
      return TRUE;
    }

  set_low_state (self, &state);
  return TRUE;
}

static gboolean
pop_high (NebulaStackAllocator  *self,
          gsize                  size,
          GError               **error)
{
  EndState state = high_state (self);
  guint8 *block = self->high_last;
  gsize block_size;

  if (!high_step (self, &state, &block_size, error))
    return FALSE;

  if (block_size != size)
    {
      set_wrong_size (self, block, block_size, size, error);
      return FALSE;
    }

  set_high_state (self, &state);
  return TRUE;
}

static gboolean
nebula_stack_allocator_deallocate (NebulaAllocator  *allocator,
                                   gpointer          ptr,
                                   gsize             size,
                                   gsize             alignment,
                                   GError          **error)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  gboolean ok = FALSE;

  /* `fast` means initialized and unlocked. */
  if (G_LIKELY (self->unlocked) && ptr == self->fast.last && ptr != NULL)
    return pop_low (self, size, error);

  stack_lock_ready (self);
  if (!ensure_ready (self, error))
    ;
  else if (ptr == self->fast.last && ptr != NULL)
    ok = pop_low (self, size, error);
  else if (ptr == self->high_last && ptr != NULL)
    ok = pop_high (self, size, error);
  else
    set_not_top (self, ptr, size, "free", error);
  stack_unlock (self);

  return ok;
}

/* The top block of the low end does not fit where it is: move it to a new
 * chunk, where it is still the top. */
static gpointer
move_low_top (NebulaStackAllocator  *self,
              guint8                *ptr,
              guint8                *prev,
              guint8                *prev_end,
              gsize                  old_size,
              gsize                  new_size,
              gsize                  alignment,
              GError               **error)
{
  guint8 *old_cursor = self->fast.cursor;
  guint8 *old_last = self->fast.last;
  Chunk *old_chunk = self->current;
  gpointer new_ptr;

  /* Take the block off its chunk without touching its bytes. */
  self->fast.cursor = prev_end;
  self->fast.last = prev;

  if (!grow (self, new_size, alignment, error))
    {
      self->fast.cursor = old_cursor;
      self->fast.last = old_last;
      return NULL;
    }

  new_ptr = allocate_low_locked (self, new_size, alignment, error);
  g_assert (new_ptr != NULL);
  memcpy (new_ptr, ptr, MIN (old_size, new_size));
  fill (self->config.alloc_fill, (guint8 *) new_ptr + old_size,
        new_size > old_size ? new_size - old_size : 0);

  /* The chunk below keeps its state; what the block used there is free. */
  give_back_low (self, old_chunk, prev_end, old_cursor);

  return new_ptr;
}

static gpointer
reallocate_low_top (NebulaStackAllocator  *self,
                    guint8                *ptr,
                    gsize                  old_size,
                    gsize                  new_size,
                    gsize                  alignment,
                    GError               **error)
{
  guint8 *prev, *prev_end;
  gsize size = self->fast.cursor - ptr;

  if (!read_low_header (self, self->current, ptr, self->fast.cursor, &prev, &prev_end, error))
    return NULL;
  if (size != old_size)
    {
      set_wrong_size (self, ptr, size, old_size, error);
      return NULL;
    }

  if (((guintptr) ptr & (alignment - 1)) != 0 || new_size > (gsize) (self->fast.limit - ptr))
    {
      gsize mask = effective_alignment (alignment) - 1;
      guintptr start = ((guintptr) prev_end + HEADER_SIZE + mask) & ~(guintptr) mask;

      /* A stricter alignment may still fit in this chunk, one slot over. */
      if (start != (guintptr) ptr &&
          start <= (guintptr) self->fast.limit && (guintptr) self->fast.limit - start >= new_size)
        {
          move_open (ptr, old_size, (guint8 *) start, new_size);
          memmove ((gpointer) start, ptr, MIN (old_size, new_size));
          write_header (self, (guint8 *) start, prev, (guintptr) prev_end);
          move_close (LOW_POOL (self->current), ptr, old_size, (guint8 *) start, new_size);
          self->fast.last = (guint8 *) start;
          self->fast.cursor = (guint8 *) start + new_size;
          if (new_size > old_size)
            fill (self->config.alloc_fill, (guint8 *) start + old_size, new_size - old_size);
          return (gpointer) start;
        }

      if (!can_grow (self))
        {
          set_exhausted (self, new_size, alignment, FALSE, error);
          return NULL;
        }
      return move_low_top (self, ptr, prev, prev_end, old_size, new_size, alignment, error);
    }

  /* In place: the header does not change, only where the block ends. */
  if (new_size < old_size)
    fill (self->config.free_fill, ptr + new_size, old_size - new_size);
  NEBULA_MEMPOOL_RESIZE (LOW_POOL (self->current), ptr, old_size, new_size);
  if (new_size > old_size)
    fill (self->config.alloc_fill, ptr + old_size, new_size - old_size);

  self->fast.cursor = ptr + new_size;
  return ptr;
}

static gpointer
reallocate_high_top (NebulaStackAllocator  *self,
                     guint8                *ptr,
                     gsize                  old_size,
                     gsize                  new_size,
                     gsize                  alignment,
                     GError               **error)
{
  gsize mask = effective_alignment (alignment) - 1;
  guint8 *prev;
  gsize size;
  guintptr ceiling, block;

  if (!read_high_header (self, self->current, ptr, &prev, &size, error))
    return NULL;
  if (size != old_size)
    {
      set_wrong_size (self, ptr, size, old_size, error);
      return NULL;
    }

  /* Shrinking keeps the block where it is. */
  if (new_size <= old_size && ((guintptr) ptr & mask) == 0)
    {
      fill (self->config.free_fill, ptr + new_size, old_size - new_size);
      write_header (self, ptr, prev, new_size);
      NEBULA_MEMPOOL_RESIZE (HIGH_POOL (self->current), ptr, old_size, new_size);
      return ptr;
    }

  /* Growing moves it down, towards the low end. */
  ceiling = prev != NULL ? (guintptr) prev - HEADER_SIZE : (guintptr) chunk_end (self->current);
  block = (ceiling - new_size) & ~(guintptr) mask;
  if (new_size > ceiling - (guintptr) self->fast.cursor ||
      block < (guintptr) self->fast.cursor + HEADER_SIZE)
    {
      set_exhausted (self, new_size, alignment, TRUE, error);
      return NULL;
    }
  move_open (ptr, old_size, (guint8 *) block, new_size);
  memmove ((gpointer) block, ptr, MIN (old_size, new_size));
  write_header (self, (guint8 *) block, prev, new_size);
  move_close (HIGH_POOL (self->current), ptr, old_size, (guint8 *) block, new_size);
  self->high_last = (guint8 *) block;
  self->fast.limit = (guint8 *) block - HEADER_SIZE;
  if (new_size > old_size)
    fill (self->config.alloc_fill, (guint8 *) block + old_size, new_size - old_size);

  return (gpointer) block;
}

static gpointer
nebula_stack_allocator_reallocate (NebulaAllocator  *allocator,
                                   gpointer          ptr,
                                   gsize             old_size,
                                   gsize             new_size,
                                   gsize             alignment,
                                   GError          **error)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  gpointer new_ptr = NULL;

  stack_lock_ready (self);
  if (!ensure_ready (self, error))
    ;
  else if (ptr == self->fast.last && ptr != NULL)
    new_ptr = reallocate_low_top (self, ptr, old_size, new_size, alignment, error);
  else if (ptr == self->high_last && ptr != NULL)
    new_ptr = reallocate_high_top (self, ptr, old_size, new_size, alignment, error);
  else
    set_not_top (self, ptr, old_size, "resize", error);
  stack_unlock (self);

  return new_ptr;
}

static void
nebula_stack_allocator_reset (NebulaAllocator *allocator)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  Chunk *first;

  stack_lock_ready (self);
  if (!ensure_ready (self, NULL))
    {
      stack_unlock (self);
      return;
    }

  self->generation++;

  /* Every chunk but the first goes; the largest of them stays spare. */
  first = self->current;
  while (first->prev != NULL)
    first = first->prev;
  set_low_state (self, &(EndState) { first, NULL, first->data });
  set_high_state (self, &(EndState) { first, NULL, chunk_end (first) });
  self->used_before = 0;

  stack_unlock (self);
}

static void
allocator_iface_init (NebulaAllocatorInterface *iface)
{
  iface->alloc = nebula_stack_allocator_allocate;
  iface->resize = nebula_stack_allocator_reallocate;
  iface->dealloc = nebula_stack_allocator_deallocate;
  iface->reset = nebula_stack_allocator_reset;
  iface->contains = nebula_stack_allocator_owns;
}

static void
stack_init_once (gpointer data)
{
  NebulaStackAllocator *self = data;
  NebulaAllocatorConfig *config = &self->config;
  Chunk *chunk;

  nebula_allocator_config_validate (config, stack_label ());

  /* Both ends share one region, which cannot grow: no preset growth. */
  if (!self->double_ended)
    self->max_capacity = nebula_allocator_config_production_limit (config, PROP_MAX_CAPACITY,
                                                                   self->capacity,
                                                                   self->max_capacity);

  if (self->capacity != 0 && self->capacity < HEADER_SIZE + MIN_ALIGNMENT)
    nebula_allocator_config_set_invalid (config, stack_label (), "capacity",
                                         "must be at least %u bytes (every block takes a "
                                         "%u-byte header), not %" G_GUINT64_FORMAT,
                                         (guint) (HEADER_SIZE + MIN_ALIGNMENT),
                                         (guint) HEADER_SIZE, self->capacity);
  nebula_allocator_config_check_capacity (config, stack_label (), self->capacity,
                                          self->max_capacity);

  if (self->double_ended && self->max_capacity > self->capacity)
    nebula_allocator_config_set_invalid (config, stack_label (), "double-ended",
                                         "cannot be combined with growth: both ends share one "
                                         "region and cannot meet across chunks, so "
                                         "'max-capacity' (%" G_GUINT64_FORMAT ") must be 0 or "
                                         "equal to the capacity (%" G_GUINT64_FORMAT ")",
                                         self->max_capacity, self->capacity);

  if (config->init_error != NULL)
    return;

  if (self->max_capacity == 0)
    self->max_capacity = self->capacity;

  nebula_stats_counters_init (&self->stats, config->track_stats, config->thread_safe);

  chunk = chunk_new (self, self->capacity, &config->init_error);
  if (chunk == NULL)
    return;

  self->current = chunk;
  self->fast.cursor = chunk->data;
  self->fast.limit = chunk_end (chunk);
  /* The inline paths: closed (max_fast_size 0) in every mode that needs
   * the exported one (fills, and memory tools watching, which must hear of
   * every block from the slow path), and counting into the plain counters.
   * The vfunc's short path is closed to the tools as well. */
  self->tools_watching = nebula_memory_tools_watching ();
  /* Written only when TRUE: other threads of a thread-safe stack may be
   * reading it already. */
  if (!config->thread_safe && config->alloc_fill < 0 && !self->tools_watching)
    self->unlocked = TRUE;
  if (!config->thread_safe)
    {
      self->fast.base = chunk->data;
      self->fast.bottom = chunk->data;
      self->fast.stats = config->track_stats ? &self->stats.plain : NULL;
      if (config->alloc_fill < 0 && config->free_fill < 0 && !self->tools_watching)
        self->fast.max_fast_size = NEBULA_MAX_FAST_SIZE;
    }
}

static inline gboolean
ensure_ready (NebulaStackAllocator  *self,
              GError               **error)
{
  return nebula_allocator_config_ensure (&self->config, self, stack_init_once, error);
}

static gboolean
nebula_stack_allocator_initable_init (GInitable     *initable,
                                      GCancellable  *cancellable,
                                      GError       **error)
{
  return ensure_ready (NEBULA_STACK_ALLOCATOR (initable), error);
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = nebula_stack_allocator_initable_init;
}

static gsize
bytes_used (NebulaStackAllocator *self)
{
  if (self->current == NULL)
    return 0;

  return self->used_before +
         (gsize) (self->fast.cursor - self->current->data) +
         (gsize) (chunk_end (self->current) - self->fast.limit);
}

static gsize
bytes_available (NebulaStackAllocator *self)
{
  gsize available;

  if (self->current == NULL)
    return 0;

  available = self->fast.limit - self->fast.cursor;
  if (can_grow (self))
    {
      available += self->max_capacity - MIN (self->reserved, self->max_capacity);
      if (self->spare != NULL)
        available += self->spare->size;
    }

  return available;
}

static GVariant *
chunk_to_variant (NebulaStackAllocator *self,
                  const Chunk          *chunk,
                  const char           *kind,
                  gsize                 low_used,
                  gsize                 high_used)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "kind", "s", kind);
  g_variant_dict_insert (&dict, "size", "t", (guint64) chunk->size);
  g_variant_dict_insert (&dict, "used", "t", (guint64) (low_used + high_used));
  g_variant_dict_insert (&dict, "current", "b", chunk == self->current);
  if (self->double_ended)
    {
      g_variant_dict_insert (&dict, "low-used", "t", (guint64) low_used);
      g_variant_dict_insert (&dict, "high-used", "t", (guint64) high_used);
    }

  return g_variant_dict_end (&dict);
}

/* The report's Stack part: the chunks, newest first, then the spare. */
static void
stack_report (NebulaAllocator *allocator,
              GVariantDict    *report)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  GVariantBuilder chunks;
  gsize stranded = 0;

  stack_lock_ready (self);
  if (!ensure_ready (self, NULL))
    {
      stack_unlock (self);
      return;
    }

  g_variant_builder_init (&chunks, G_VARIANT_TYPE ("aa{sv}"));
  for (Chunk *chunk = self->current; chunk != NULL; chunk = chunk->prev)
    {
      gboolean current = chunk == self->current;
      guint8 *cursor = current ? self->fast.cursor : chunk->saved_cursor;
      gsize high_used = current ? (gsize) (chunk_end (chunk) - self->fast.limit) : 0;

      /* The low end never returns to an older chunk before it pops back
       * into it: the tail above the older chunk's top serves nothing. */
      if (!current)
        stranded += chunk->size - (gsize) (cursor - chunk->data);
      g_variant_builder_add_value (&chunks,
                                   chunk_to_variant (self, chunk, "regular",
                                                     cursor - chunk->data, high_used));
    }
  if (self->spare != NULL)
    g_variant_builder_add_value (&chunks, chunk_to_variant (self, self->spare, "spare", 0, 0));

  g_variant_dict_insert (report, "reserved", "t", (guint64) self->reserved);
  g_variant_dict_insert (report, "fragmentation", "d",
                         self->reserved != 0 ? (double) stranded / (double) self->reserved : 0.0);
  stack_unlock (self);

  g_variant_dict_insert_value (report, "chunks", g_variant_builder_end (&chunks));
}

static void
nebula_stack_allocator_finalize (GObject *object)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) object;

  while (self->current != NULL)
    {
      Chunk *prev = self->current->prev;

      chunk_free (self, self->current);
      self->current = prev;
    }
  if (self->spare != NULL)
    chunk_free (self, self->spare);
  g_mutex_clear (&self->lock);
  nebula_allocator_config_clear (&self->config);

  G_OBJECT_CLASS (nebula_stack_allocator_parent_class)->finalize (object);
}

static void
nebula_stack_allocator_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  NebulaStackAllocator *self = NEBULA_STACK_ALLOCATOR (object);

  if (nebula_allocator_config_get_property (&self->config, prop_id, value))
    return;

  switch (prop_id)
    {
    case NEBULA_CONFIG_PROP_CAPACITY:
      g_value_set_uint64 (value, self->capacity);
      break;

    case NEBULA_CONFIG_PROP_BYTES_USED:
      stack_lock (self);
      g_value_set_uint64 (value, bytes_used (self));
      stack_unlock (self);
      break;

    case NEBULA_CONFIG_PROP_BYTES_AVAILABLE:
      stack_lock (self);
      g_value_set_uint64 (value, bytes_available (self));
      stack_unlock (self);
      break;

    case PROP_MAX_CAPACITY:
      g_value_set_uint64 (value, self->max_capacity);
      break;

    case PROP_DOUBLE_ENDED:
      g_value_set_boolean (value, self->double_ended);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_stack_allocator_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  NebulaStackAllocator *self = NEBULA_STACK_ALLOCATOR (object);

  if (!nebula_allocator_config_begin_set (&self->config, object, pspec) ||
      nebula_allocator_config_set_property (&self->config, prop_id, value))
    return;

  switch (prop_id)
    {
    case NEBULA_CONFIG_PROP_CAPACITY:
      self->capacity = g_value_get_uint64 (value);
      break;

    case PROP_MAX_CAPACITY:
      self->max_capacity = g_value_get_uint64 (value);
      break;

    case PROP_DOUBLE_ENDED:
      self->double_ended = g_value_get_boolean (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_stack_allocator_class_init (NebulaStackAllocatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  nebula_allocator_core_class_init (object_class);
  object_class->finalize = nebula_stack_allocator_finalize;
  object_class->get_property = nebula_stack_allocator_get_property;
  object_class->set_property = nebula_stack_allocator_set_property;


  /**
   * NebulaStackAllocator:capacity:
   *
   * The size of the first chunk in bytes, headers included (24 bytes per
   * block on 64-bit systems). Must be large enough for one header and its
   * alignment: at least 32 bytes on 64-bit systems. 64 KiB by default.
   */
  /**
   * NebulaStackAllocator:name:
   *
   * A name used in error messages, reports and statistics.
   */
  /**
   * NebulaStackAllocator:thread-safe:
   *
   * Whether several threads may use the stack at once. Every operation then
   * takes a mutex; without it the allocation path has no lock and no atomic
   * instruction.
   */
  /**
   * NebulaStackAllocator:track-stats:
   *
   * Whether to keep statistics. Off in the PERFORMANCE preset.
   */
  /**
   * NebulaStackAllocator:alloc-fill:
   *
   * A byte value (0..255) written over every new block, or -1 for none.
   * 0xAA in the DEBUG preset.
   */
  /**
   * NebulaStackAllocator:free-fill:
   *
   * A byte value (0..255) written over memory when it is popped or
   * released, or -1 for none. 0xDD in the DEBUG preset.
   */
  /**
   * NebulaStackAllocator:preset:
   *
   * The #NebulaPreset whose defaults apply to the properties not given
   * explicitly: PERFORMANCE turns [property@StackAllocator:track-stats]
   * off, DEBUG fills, PRODUCTION lets a single-ended stack grow to eight
   * times [property@StackAllocator:capacity] (a double-ended stack never
   * grows).
   */
  /**
   * NebulaStackAllocator:budget:
   *
   * A #NebulaMemoryBudget charged for every chunk before the stack takes it
   * from the system, or %NULL for none. The charge is the chunk's size,
   * block headers included. The first chunk is charged when the stack
   * initializes, so a budget too small for it makes construction fail with
   * %NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED; each later chunk when the stack
   * grows into it, where a refusal fails that allocation or reallocation
   * with the same error and changes nothing (what fits the current chunk
   * still succeeds). A chunk's charge is released when the chunk is freed:
   * when a pop, a release to a marker or a reset empties it and the stack
   * does not keep it as its one spare chunk (the largest emptied one, still
   * charged), and at finalization, which releases everything.
   */
  nebula_allocator_config_install_properties (object_class, properties, FALSE,
                                              NEBULA_CAPACITY_CONSTRUCT, DEFAULT_CAPACITY);
  nebula_allocator_set_report_func (G_TYPE_FROM_CLASS (klass), stack_report);
  nebula_allocator_set_span_func (G_TYPE_FROM_CLASS (klass), stack_span);

  /**
   * NebulaStackAllocator:max-capacity:
   *
   * The most bytes all chunks together may hold. 0 (the default) or the
   * capacity itself means no growth; a larger value lets the stack continue
   * in new chunks. Eight times the capacity in the PRODUCTION preset
   * (unless the stack is double-ended).
   */
  properties[PROP_MAX_CAPACITY] =
    g_param_spec_uint64 ("max-capacity", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaStackAllocator:double-ended:
   *
   * Whether a second stack grows down from the other end of the region
   * (nebula_stack_allocator_allocate_high()). Cannot be combined with
   * growth: the two ends must meet in one region, so
   * #NebulaStackAllocator:max-capacity must be 0 or the capacity.
   */
  properties[PROP_DOUBLE_ENDED] =
    g_param_spec_boolean ("double-ended", NULL, NULL,
                          FALSE,
                          NEBULA_CONFIG_PARAM_FLAGS);

  for (guint i = PROP_MAX_CAPACITY; i < N_PROPS; i++)
    g_object_class_install_property (object_class, i, properties[i]);
}

static void
nebula_stack_allocator_init (NebulaStackAllocator *self)
{
  nebula_allocator_core_init (self, NEBULA_ALLOCATOR_KIND_STACK, &self->stats, &self->config, FALSE);
  g_mutex_init (&self->lock);
  self->capacity = DEFAULT_CAPACITY;
  self->fast.cookie = (guintptr) g_random_int () * 0x9E3779B97F4A7C15u + (guintptr) g_random_int ();
  self->id = __atomic_fetch_add (&next_allocator_id, 1, __ATOMIC_RELAXED);
}

/**
 * nebula_stack_allocator_new:
 * @capacity: the size of the region, in bytes
 * @error: return location for a #GError
 *
 * Creates a single-threaded, single-ended stack of @capacity bytes that
 * does not grow. Use g_initable_new() for the other properties.
 *
 * Returns: (transfer full): a new #NebulaStackAllocator, or %NULL with
 *   @error set (%NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG for a @capacity of 0)
 */
NebulaStackAllocator *
nebula_stack_allocator_new (gsize    capacity,
                            GError **error)
{
  return g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, error,
                         "capacity", (guint64) capacity,
                         NULL);
}

static NebulaStackMarker *
mark (NebulaStackAllocator *self,
      gboolean              high)
{
  NebulaStackMarker *marker = g_new0 (NebulaStackMarker, 1);
  EndState state;

  marker->allocator_id = self->id;
  marker->high = high;

  stack_lock_ready (self);
  if (ensure_ready (self, NULL))
    {
      state = high ? high_state (self) : low_state (self);
      marker->generation = self->generation;
      marker->chunk_index = state.chunk->index;
      marker->position = state.cursor - state.chunk->data;
      marker->last = state.last != NULL ? (gsize) (state.last - state.chunk->data) : NO_BLOCK;
    }
  else
    {
      /* An unusable allocator gives a marker that release refuses. */
      marker->allocator_id = 0;
    }
  stack_unlock (self);

  return marker;
}

/**
 * nebula_stack_allocator_mark:
 * @self: a #NebulaStackAllocator
 *
 * Records the top of the (low end of the) stack, to release to with
 * nebula_stack_allocator_release_to_marker(). The marker stays valid while
 * the blocks below it are live: releasing below it, or a reset, makes it
 * stale (unless the stack grows back to exactly the recorded offsets: a
 * marker records positions, not blocks, so releasing to it then releases
 * to that same state).
 *
 * Returns: (transfer full): a new marker
 */
NebulaStackMarker *
nebula_stack_allocator_mark (NebulaStackAllocator *self)
{
  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), NULL);

  return mark (self, FALSE);
}

/**
 * nebula_stack_allocator_mark_high:
 * @self: a #NebulaStackAllocator
 *
 * Like nebula_stack_allocator_mark(), for the high end of a double-ended
 * stack. On a single-ended stack the high end is always empty, and
 * releasing to the marker does nothing.
 *
 * Returns: (transfer full): a new marker
 */
NebulaStackMarker *
nebula_stack_allocator_mark_high (NebulaStackAllocator *self)
{
  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), NULL);

  return mark (self, TRUE);
}

static void
set_stale (NebulaStackAllocator  *self,
           GError               **error,
           const char           *format,
           ...) G_GNUC_PRINTF (3, 4);

static void
set_stale (NebulaStackAllocator  *self,
           GError               **error,
           const char           *format,
           ...)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  g_autofree char *why = NULL;
  NebulaErrorInfo info = { .what = what };
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER, &info,
                    "%s: cannot release to the marker: %s", what, why);
}

static inline gsize
state_offset (const EndState *state,
              const guint8   *ptr)
{
  return ptr != NULL ? (gsize) (ptr - state->chunk->data) : NO_BLOCK;
}

static inline gboolean
state_is_marker (const EndState          *state,
                 const NebulaStackMarker *marker)
{
  return state->chunk->index == marker->chunk_index &&
         state_offset (state, state->cursor) == marker->position &&
         state_offset (state, state->last) == marker->last;
}

/* Whether @state lies below @marker (has fewer bytes on its end). */
static inline gboolean
state_below (const EndState          *state,
             const NebulaStackMarker *marker)
{
  gsize position = state->cursor - state->chunk->data;

  if (marker->high)
    return position > marker->position;

  return state->chunk->index < marker->chunk_index ||
         (state->chunk->index == marker->chunk_index && position < marker->position);
}

static void
record_release (NebulaStackAllocator *self,
                guint64               n_blocks,
                guint64               n_bytes)
{
  /* Every block counts as the bytes its header holds; the counters count
   * a block of size 0 as its one byte on the way in too. */
  nebula_stats_counters_record_release (&self->stats, n_blocks, n_bytes);
}

static gboolean
release_locked (NebulaStackAllocator     *self,
                const NebulaStackMarker  *marker,
                GError                  **error)
{
  EndState state;
  guint64 n_blocks = 0, n_bytes = 0;

  if (marker->allocator_id != self->id)
    {
      set_stale (self, error, "it belongs to another allocator");
      return FALSE;
    }
  if (marker->generation != self->generation)
    {
      set_stale (self, error, "it was taken before a reset (generation %" G_GUINT64_FORMAT
                 ", now %" G_GUINT64_FORMAT ")", marker->generation, self->generation);
      return FALSE;
    }

  /* A single-ended stack has nothing at its high end. */
  if (marker->high && !self->double_ended)
    return TRUE;

  state = marker->high ? high_state (self) : low_state (self);
  if (state_below (&state, marker))
    {
      set_stale (self, error, "it lies above the top of the %s end (marker at chunk %u offset %"
                 G_GSIZE_FORMAT ", top at chunk %u offset %" G_GSIZE_FORMAT ")",
                 marker->high ? "high" : "low", marker->chunk_index, marker->position,
                 state.chunk->index, (gsize) (state.cursor - state.chunk->data));
      return FALSE;
    }

  /* Walk down to the marker, checking every header on the way, before
   * anything changes. */
  while (!state_is_marker (&state, marker))
    {
      gsize size;

      if (state.last == NULL || state_below (&state, marker))
        {
          set_stale (self, error, "the stack was released below it and has grown again "
                     "since (marker at chunk %u offset %" G_GSIZE_FORMAT ")",
                     marker->chunk_index, marker->position);
          return FALSE;
        }

      if (marker->high
          ? !high_step (self, &state, &size, error)
          : !low_step (self, &state, &size, error))
        return FALSE;

      n_blocks++;
      n_bytes += size;
    }

  if (marker->high)
    set_high_state (self, &state);
  else
    set_low_state (self, &state);

  record_release (self, n_blocks, n_bytes);
  return TRUE;
}

/**
 * nebula_stack_allocator_release_to_marker:
 * @self: a #NebulaStackAllocator
 * @marker: a marker of @self
 * @error: return location for a #GError
 *
 * Frees every block above @marker on its end of the stack, at once (each
 * counts as a deallocation in the statistics). A marker of another
 * allocator, from before a reset, above the current top, or in space that
 * was released and allocated again gives
 * %NEBULA_ALLOCATOR_ERROR_STALE_MARKER and changes nothing; a damaged block
 * header on the way gives %NEBULA_ALLOCATOR_ERROR_CORRUPTION and changes
 * nothing either. Releasing to the same marker twice is allowed.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_stack_allocator_release_to_marker (NebulaStackAllocator     *self,
                                          const NebulaStackMarker  *marker,
                                          GError                  **error)
{
  gboolean ok = FALSE;

  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), FALSE);
  g_return_val_if_fail (marker != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  stack_lock_ready (self);
  if (ensure_ready (self, error))
    ok = release_locked (self, marker, error);
  stack_unlock (self);

  return ok;
}

/**
 * nebula_stack_allocator_allocate_high: (skip)
 * @self: a #NebulaStackAllocator
 * @size: the number of bytes
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * Allocates @size bytes at @alignment on the high end of a double-ended
 * stack, which grows down towards the low end. When the ends would meet,
 * fails with %NEBULA_ALLOCATOR_ERROR_EXHAUSTED and both fill levels in the
 * message. A single-ended stack gives %NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED.
 *
 * Returns: (transfer none) (nullable): the memory, or %NULL with @error set
 */
gpointer
nebula_stack_allocator_allocate_high (NebulaStackAllocator  *self,
                                      gsize                  size,
                                      gsize                  alignment,
                                      GError               **error)
{
  gpointer ptr = NULL;

  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), NULL);

  if (nebula_layout_check (NEBULA_ALLOCATOR (self), size, alignment, error))
    {
      stack_lock_ready (self);
      if (ensure_ready (self, error))
        ptr = allocate_high_locked (self, MAX (size, 1), alignment, error);
      stack_unlock (self);
    }

  if (ptr != NULL)
    nebula_stats_counters_record_allocation (&self->stats, size);
  else
    nebula_stats_counters_record_failure (&self->stats);

  return ptr;
}

/**
 * nebula_stack_allocator_allocate_high_address: (rename-to nebula_stack_allocator_allocate_high)
 * @self: a #NebulaStackAllocator
 * @size: the number of bytes
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * nebula_stack_allocator_allocate_high() for language bindings: the block's
 * address as an integer.
 *
 * Returns: the address, or 0 with @error set
 */
guint64
nebula_stack_allocator_allocate_high_address (NebulaStackAllocator  *self,
                                              guint64                size,
                                              guint64                alignment,
                                              GError               **error)
{
  return (guint64) GPOINTER_TO_SIZE (nebula_stack_allocator_allocate_high (self, size, alignment,
                                                                           error));
}

/**
 * nebula_stack_allocator_deallocate_high: (skip)
 * @self: a #NebulaStackAllocator
 * @ptr: the top block of the high end
 * @size: the size it was allocated with
 * @error: return location for a #GError
 *
 * Pops the top block of the high end. Another block of the high end gives
 * %NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER, a block of the low end or from
 * elsewhere %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER; either way nothing
 * changes. ([method@Allocator.deallocate] pops the top of either end.)
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_stack_allocator_deallocate_high (NebulaStackAllocator  *self,
                                        gpointer               ptr,
                                        gsize                  size,
                                        GError               **error)
{
  gboolean ok = FALSE;

  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), FALSE);

  stack_lock_ready (self);
  if (!ensure_ready (self, error))
    ;
  else if (!self->double_ended)
    set_single_ended (self, size, error);
  else if (ptr != NULL && ptr == self->high_last)
    ok = pop_high (self, MAX (size, 1), error);
  else if (ptr != NULL && owns_locked (self, ptr) && (guint8 *) ptr < self->fast.limit)
    set_foreign_pointer (self, ptr, size, "belongs to the low end of the stack, "
                         "not the high end", error);
  else
    set_not_top (self, ptr, size, "free", error);
  stack_unlock (self);

  if (ok)
    nebula_stats_counters_record_deallocation (&self->stats, size);

  return ok;
}

/**
 * nebula_stack_allocator_deallocate_high_address: (rename-to nebula_stack_allocator_deallocate_high)
 * @self: a #NebulaStackAllocator
 * @address: the address of the top block of the high end
 * @size: the size it was allocated with
 * @error: return location for a #GError
 *
 * nebula_stack_allocator_deallocate_high() for language bindings; an
 * address outside the used part of the stack gives
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER before anything is read.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_stack_allocator_deallocate_high_address (NebulaStackAllocator  *self,
                                                guint64                address,
                                                guint64                size,
                                                GError               **error)
{
  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), FALSE);

  /* The check every script entry point makes (nebula-allocator-script.c). */
  if (address != 0 && size <= NEBULA_MAX_ALLOCATION_SIZE &&
      !nebula_script_check (NEBULA_ALLOCATOR (self), address, size, NEBULA_SPAN_FREE, "free",
                            NULL, error))
    return FALSE;

  return nebula_stack_allocator_deallocate_high (self, GSIZE_TO_POINTER (address), size, error);
}

/**
 * nebula_stack_allocator_get_n_chunks:
 * @self: a #NebulaStackAllocator
 *
 * Counts the chunks the low end spans (a spare chunk kept for reuse does
 * not count).
 *
 * Returns: the number of chunks, 0 if @self cannot initialize
 */
guint
nebula_stack_allocator_get_n_chunks (NebulaStackAllocator *self)
{
  guint n = 0;

  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), 0);

  stack_lock_ready (self);
  if (ensure_ready (self, NULL))
    for (Chunk *chunk = self->current; chunk != NULL; chunk = chunk->prev)
      n++;
  stack_unlock (self);

  return n;
}

/**
 * nebula_stack_marker_copy:
 * @marker: a #NebulaStackMarker
 *
 * Copies @marker.
 *
 * Returns: (transfer full): a copy
 */
NebulaStackMarker *
nebula_stack_marker_copy (const NebulaStackMarker *marker)
{
  g_return_val_if_fail (marker != NULL, NULL);

  return g_memdup2 (marker, sizeof *marker);
}

/**
 * nebula_stack_marker_free:
 * @marker: a #NebulaStackMarker
 *
 * Frees @marker.
 */
void
nebula_stack_marker_free (NebulaStackMarker *marker)
{
  g_free (marker);
}

/**
 * nebula_stack_marker_get_position:
 * @marker: a #NebulaStackMarker
 *
 * The offset of the marked top in its chunk, for diagnostics. For the
 * high end it is the offset of the high end's lowest byte.
 *
 * Returns: the offset in bytes
 */
guint64
nebula_stack_marker_get_position (const NebulaStackMarker *marker)
{
  g_return_val_if_fail (marker != NULL, 0);

  return marker->position;
}

/**
 * nebula_stack_marker_is_high:
 * @marker: a #NebulaStackMarker
 *
 * Whether @marker belongs to the high end (nebula_stack_allocator_mark_high()).
 *
 * Returns: %TRUE for a marker of the high end
 */
gboolean
nebula_stack_marker_is_high (const NebulaStackMarker *marker)
{
  g_return_val_if_fail (marker != NULL, FALSE);

  return marker->high;
}

static NebulaStackFrame *
frame_new (NebulaStackAllocator *stack,
           gboolean              high)
{
  NebulaStackFrame *frame = g_new0 (NebulaStackFrame, 1);

  frame->stack = g_object_ref (stack);
  frame->marker = mark (stack, high);

  return frame;
}

/**
 * nebula_stack_frame_new: (skip)
 * @stack: a #NebulaStackAllocator
 *
 * Opens a frame on the low end of @stack: nebula_stack_frame_free()
 * releases everything allocated on that end since. Use it with
 * g_autoptr().
 *
 * Returns: (transfer full): the frame
 */
NebulaStackFrame *
nebula_stack_frame_new (NebulaStackAllocator *stack)
{
  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (stack), NULL);

  return frame_new (stack, FALSE);
}

/**
 * nebula_stack_frame_new_high: (skip)
 * @stack: a #NebulaStackAllocator
 *
 * Like nebula_stack_frame_new(), for the high end of a double-ended stack:
 * per-frame data that goes at the end of each frame.
 *
 * Returns: (transfer full): the frame
 */
NebulaStackFrame *
nebula_stack_frame_new_high (NebulaStackAllocator *stack)
{
  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (stack), NULL);

  return frame_new (stack, TRUE);
}

/**
 * nebula_stack_frame_free: (skip)
 * @frame: a #NebulaStackFrame
 *
 * Releases everything allocated on the frame's end of the stack since the
 * frame opened. A frame that can no longer be released (its stack was reset
 * or released below it meanwhile) is closed with a warning.
 */
void
nebula_stack_frame_free (NebulaStackFrame *frame)
{
  g_autoptr(GError) error = NULL;

  if (frame == NULL)
    return;

  if (!nebula_stack_allocator_release_to_marker (frame->stack, frame->marker, &error))
    g_warning ("Closing a stack frame: %s", error->message);

  nebula_stack_marker_free (frame->marker);
  g_object_unref (frame->stack);
  g_free (frame);
}
