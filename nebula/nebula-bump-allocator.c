/* nebula-bump-allocator.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "nebula-allocator-core-private.h"
#include "nebula-bump-allocator.h"
#include "nebula-enums.h"
#include "nebula-sanitizer-private.h"

/**
 * NebulaBumpAllocator:
 *
 * A region allocator that hands out memory by moving a cursor forward.
 *
 * Allocation is a pointer bump; freeing happens all at once, with
 * [method@Allocator.reset] or by rewinding to a checkpoint
 * ([method@BumpAllocator.checkpoint], [method@BumpAllocator.restore], or a
 * scope: `g_autoptr (NebulaBumpScope)` in C, `with bump.scope():` in
 * Python). [method@Allocator.deallocate] gives back the most recent
 * allocation only; for any other block of the allocator it succeeds without
 * effect. A pointer from elsewhere is refused with
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER.
 *
 * The allocator starts with one chunk of [property@BumpAllocator:capacity]
 * bytes. With [property@BumpAllocator:max-capacity] above the capacity it
 * grows by further chunks, each [property@BumpAllocator:growth-factor] times
 * the previous, until the chunks total max-capacity; requests above
 * [property@BumpAllocator:large-allocation-threshold] get a dedicated chunk
 * so they do not inflate the next regular one.
 *
 * With [property@BumpAllocator:thread-safe], many threads may allocate at
 * once (an atomic cursor per chunk, growth under a lock); reset, restore and
 * checkpoints must still not race with allocations.
 */

typedef struct _Chunk Chunk;

struct _Chunk
{
  Chunk   *prev;        /* the chunk before this one (older), or NULL */
  guint8  *data;
  gsize    size;
  gsize    used;        /* bytes consumed; atomic in thread-safe mode */
  guint    index;       /* 0 for the first chunk of the chain */
  guint    dedicated : 1;
  /* thread-safe mode: the start of the newest block (atomic, only grows
   * until a rewind or checkpoint clears it), for the top-block free that
   * the single-threaded cursor does with fast.last */
  guint8  *last;
  /* dedicated chunks: the block and the size it was asked with */
  guint8  *block;
  gsize    block_size;
  /* for dedicated chunks: the allocator's dedicated_serial when it was
   * created. A position would not do: a dedicated allocation does not move
   * the cursor, so one made just before a checkpoint has the checkpoint's
   * position, and a restore would free it. */
  guint64  serial;
};

struct _NebulaBumpAllocator
{
  GObject                parent_instance;
  NebulaAllocatorCore    core;

  /* Right after the core, where the inline fast path of the public header
   * finds it. */
  NebulaBumpFast         fast;

  Chunk                 *current;       /* newest regular chunk */
  Chunk                 *spare;         /* regular chunks kept for reuse */
  Chunk                 *large;         /* dedicated chunks */
  gsize                  reserved;      /* bytes in all chunks, spares included */
  gsize                  used_before;   /* bytes used in chunks older than current */
  guint64                generation;
  guint64                id;
  guint64                dedicated_serial; /* dedicated chunks created so far */

  /* Stale checkpoints: every checkpoint gets a serial; a restore that
   * rewinds below a position where a checkpoint was taken records
   * (serial, position) in @rewinds, so that checkpoints taken before it
   * and above it are refused. Entries rise in both serial and position;
   * @high is the highest position of a checkpoint no entry refuses yet. */
  guint64                checkpoint_serial;
  GArray                *rewinds;       /* Rewind */
  gboolean               have_high;
  guint                  high_index;
  gsize                  high_offset;

  NebulaStatsCounters    stats;
  NebulaAllocatorConfig  config;
  GMutex                 grow_lock;

  /* configuration */
  guint64                capacity;
  guint64                max_capacity;
  double                 growth_factor;
  guint64                large_threshold;
  guint64                min_alloc_size;
  NebulaResetPolicy      reset_policy;

  /* Set at initialization when ASan or Valgrind watches the process: the
   * fast path is closed (max_fast_size 0), so every allocation takes the
   * slow path, which tells the tools about it and leaves a poisoned redzone
   * after it. */
  gboolean               tools_watching;
};

/**
 * NebulaBumpCheckpoint:
 *
 * A position in a #NebulaBumpAllocator, from
 * nebula_bump_allocator_checkpoint(), to rewind to with
 * nebula_bump_allocator_restore(). It is an opaque boxed value; it stays
 * valid until its allocator is reset or rewound to before it.
 */
struct _NebulaBumpCheckpoint
{
  guint64 allocator_id;
  guint64 generation;
  guint64 serial;
  guint   chunk_index;
  gsize   offset;
  guint64 dedicated_serial;   /* dedicated chunks from this serial on are newer */
  /* What the statistics said, so that a restore can count what it frees
   * as the callers counted it (padding excluded). */
  guint64 live_blocks;
  guint64 bytes_in_use;
};

typedef struct
{
  guint64 serial;       /* checkpoints with a smaller serial were taken before */
  guint   chunk_index;  /* the position the restore rewound to */
  gsize   offset;
} Rewind;

struct _NebulaBumpScope
{
  NebulaBumpAllocator  *bump;
  NebulaBumpCheckpoint *checkpoint;
};

enum {
  PROP_MAX_CAPACITY = NEBULA_CONFIG_N_PROPS,
  PROP_GROWTH_FACTOR,
  PROP_LARGE_ALLOCATION_THRESHOLD,
  PROP_RESET_POLICY,
  PROP_MIN_ALLOC_SIZE,
  N_PROPS
};

#define DEFAULT_CAPACITY      (64 * 1024)
#define CHUNK_DATA_ALIGNMENT  16

static GParamSpec *properties[N_PROPS];
static guint64 next_allocator_id = 1;

static gsize chunk_position       (NebulaBumpAllocator      *self,
                                  Chunk                    *chunk);
static void allocator_iface_init (NebulaAllocatorInterface *iface);
static void initable_iface_init  (GInitableIface           *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NebulaBumpAllocator, nebula_bump_allocator, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (NEBULA_TYPE_ALLOCATOR, allocator_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init))

/* The public header finds the fast fields right after the core. */
NEBULA_ASSERT_CORE_LAYOUT (NebulaBumpAllocator);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, cursor, 0);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, limit, 1);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, last, 2);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, base, 3);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, min_alloc_mask, 4);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, max_fast_size, 5);
NEBULA_ASSERT_FAST_FIELD (NebulaBumpFast, stats, 6);
G_STATIC_ASSERT (sizeof (NebulaBumpFast) == 7 * sizeof (gpointer));

G_DEFINE_BOXED_TYPE (NebulaBumpCheckpoint, nebula_bump_checkpoint,
                     nebula_bump_checkpoint_copy, nebula_bump_checkpoint_free)

/* @size rounded up to min-alloc-size. Not from fast.min_alloc_mask: in
 * thread-safe mode the initialization leaves the fast fields alone (see
 * bump_init_once()). */
static inline gsize
round_size (NebulaBumpAllocator *self,
            gsize                size)
{
  gsize mask = (gsize) self->min_alloc_size - 1;

  return (size + mask) & ~mask;
}

static inline gsize
chunk_used (const Chunk *chunk,
            gboolean     atomic)
{
  if (atomic)
    return __atomic_load_n (&chunk->used, __ATOMIC_ACQUIRE);
  return chunk->used;
}

/* The data and the slack after it, up to the end of the malloc() block. */
static inline gsize
chunk_region_size (const Chunk *chunk)
{
  return (gsize) ((const guint8 *) chunk + sizeof (Chunk) + CHUNK_DATA_ALIGNMENT + chunk->size -
                  chunk->data);
}

/* Chunks are charged to the budget, if any, before they are taken from the
 * system: the budget's usage equals self->reserved. */
static Chunk *
chunk_new (NebulaBumpAllocator  *self,
           gsize                 size,
           GError              **error)
{
  Chunk *chunk;

  if (!nebula_allocator_config_charge (&self->config, size, error))
    return NULL;

  /* One block: the header, then the data at a 16-byte boundary. */
  chunk = g_try_malloc (sizeof (Chunk) + CHUNK_DATA_ALIGNMENT + size);
  if (chunk == NULL)
    {
      nebula_allocator_config_uncharge (&self->config, size);
      return NULL;
    }

  memset (chunk, 0, sizeof *chunk);
  chunk->data = (guint8 *) (((guintptr) (chunk + 1) + CHUNK_DATA_ALIGNMENT - 1) &
                            ~(guintptr) (CHUNK_DATA_ALIGNMENT - 1));
  chunk->size = size;

  /* Nothing is handed out yet: all of it, the slack after the data
   * included, is off limits for the memory tools. */
  NEBULA_MEMPOOL_CREATE (chunk->data, chunk->data, chunk_region_size (chunk));

  return chunk;
}

static void
chunk_free (NebulaBumpAllocator *self,
            Chunk               *chunk)
{
  nebula_allocator_config_uncharge (&self->config, chunk->size);
  NEBULA_MEMPOOL_DESTROY (chunk->data, chunk->data, chunk_region_size (chunk));
  g_free (chunk);
}

static void
chunk_list_free (NebulaBumpAllocator *self,
                 Chunk               *chunk)
{
  while (chunk != NULL)
    {
      Chunk *prev = chunk->prev;
      chunk_free (self, chunk);
      chunk = prev;
    }
}

static inline const char *
bump_label (void)
{
  return "Bump allocator";
}

/* Points the single-threaded cursor into @chunk. In thread-safe mode the
 * fast fields stay NULL: allocation goes through the chunk's atomic
 * counter, and the inline path (closed by max_fast_size, but it still loads
 * the cursor) reads them without synchronization. Writing them while other
 * threads allocate would be a data race. */
static inline void
set_fast_cursor (NebulaBumpAllocator *self,
                 Chunk               *chunk,
                 gsize                used)
{
  if (self->config.thread_safe)
    return;

  self->fast.cursor = chunk->data + used;
  self->fast.limit = chunk->data + chunk->size;
  self->fast.base = chunk->data;
}

static void
bump_init_once (gpointer data)
{
  NebulaBumpAllocator *self = data;
  NebulaAllocatorConfig *config = &self->config;
  Chunk *chunk;

  nebula_allocator_config_validate (config, bump_label ());

  switch (config->preset)
    {
    case NEBULA_PRESET_PRODUCTION:
      self->max_capacity = nebula_allocator_config_production_limit (config, PROP_MAX_CAPACITY,
                                                                     self->capacity,
                                                                     self->max_capacity);
      break;
    case NEBULA_PRESET_PERFORMANCE:
      if (!nebula_allocator_config_is_explicit (config, PROP_RESET_POLICY))
        self->reset_policy = NEBULA_RESET_POLICY_KEEP_ALL;
      break;
    case NEBULA_PRESET_DEFAULT:
    case NEBULA_PRESET_DEBUG:
    default:
      break;
    }

  nebula_allocator_config_check_capacity (config, bump_label (), self->capacity,
                                          self->max_capacity);

  if (!(self->growth_factor >= 1.0 && self->growth_factor <= 16.0))
    nebula_allocator_config_set_invalid (config, bump_label (), "growth-factor",
                                         "must be between 1.0 and 16.0, not %g",
                                         self->growth_factor);

  if (self->min_alloc_size == 0 || (self->min_alloc_size & (self->min_alloc_size - 1)) != 0 ||
      self->min_alloc_size > 4096)
    nebula_allocator_config_set_invalid (config, bump_label (), "min-alloc-size",
                                         "must be a power of two from 1 to 4096, not %"
                                         G_GUINT64_FORMAT, self->min_alloc_size);
  else if (self->capacity != 0 && self->min_alloc_size > self->capacity)
    nebula_allocator_config_set_invalid (config, bump_label (), "min-alloc-size",
                                         "(%" G_GUINT64_FORMAT ") must not exceed the capacity (%"
                                         G_GUINT64_FORMAT ")",
                                         self->min_alloc_size, self->capacity);

  if (self->large_threshold == 0)
    self->large_threshold = MAX (self->capacity / 2, 1);

  if (config->init_error != NULL)
    return;

  if (self->max_capacity == 0)
    self->max_capacity = self->capacity;

  /* In thread-safe mode the inline paths of other threads may read the
   * fast fields while this runs (they find max_fast_size 0 and step
   * aside): they keep the zeros of construction. */
  if (!config->thread_safe)
    self->fast.min_alloc_mask = self->min_alloc_size - 1;
  self->tools_watching = nebula_memory_tools_watching ();
  nebula_stats_counters_init (&self->stats, config->track_stats, config->thread_safe);

  chunk = chunk_new (self, self->capacity, &config->init_error);
  if (chunk == NULL && config->init_error == NULL)
    {
      NebulaErrorInfo info = { .requested = self->capacity, .what = config->name };

      nebula_set_error (&config->init_error, NEBULA_ALLOCATOR_ERROR,
                        NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY, &info,
                        "%s: the system refused the first chunk of %" G_GUINT64_FORMAT " bytes",
                        bump_label (), self->capacity);
      return;
    }
  if (chunk == NULL)
    return;

  self->reserved = chunk->size;
  self->current = chunk;
  set_fast_cursor (self, chunk, 0);

  /* Modes that need the slow path close the fast one with a single field,
   * so neither the inline path nor the vfunc tests flags per request. Under
   * AddressSanitizer or Valgrind the slow path reports what it hands out
   * and takes back; the inline path would hide those blocks from the
   * tools. */
  if (config->thread_safe)
    ;
  else if (config->alloc_fill >= 0 || config->free_fill >= 0 || self->tools_watching)
    self->fast.max_fast_size = 0;
  else if (self->max_capacity > self->capacity)
    self->fast.max_fast_size = MIN (self->large_threshold, NEBULA_MAX_FAST_SIZE);
  else
    self->fast.max_fast_size = NEBULA_MAX_FAST_SIZE;

  /* The inline path counts into the same plain counters as the public
   * wrappers; it never runs in thread-safe mode, where they are atomic. */
  if (!config->thread_safe)
    self->fast.stats = config->track_stats ? &self->stats.plain : NULL;
}

static inline gboolean
ensure_ready (NebulaBumpAllocator  *self,
              GError              **error)
{
  return nebula_allocator_config_ensure (&self->config, self, bump_init_once, error);
}

static gsize
current_available (NebulaBumpAllocator *self)
{
  if (self->current == NULL)
    return 0;
  if (self->config.thread_safe)
    return self->current->size - chunk_used (self->current, TRUE);
  return self->fast.limit - self->fast.cursor;
}

static void
set_exhausted (NebulaBumpAllocator  *self,
               gsize                 size,
               gsize                 alignment,
               GError              **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  gsize available = current_available (self);
  NebulaErrorInfo info;

  info = (NebulaErrorInfo) {
    .requested = size,
    .available = available,
    .capacity = self->max_capacity,
    .what = what,
  };

  if (self->max_capacity > self->capacity)
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                      " of %" G_GSIZE_FORMAT " available in the current chunk and %"
                      G_GSIZE_FORMAT " of %" G_GUINT64_FORMAT " left to grow (alignment %"
                      G_GSIZE_FORMAT ")",
                      what, size, available,
                      self->current != NULL ? self->current->size : 0,
                      (gsize) (self->max_capacity - MIN (self->reserved, self->max_capacity)),
                      self->max_capacity, alignment);
  else
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                      " of %" G_GUINT64_FORMAT " available (alignment %" G_GSIZE_FORMAT ")",
                      what, size, available, self->capacity, alignment);
}

static inline void
fill_allocation (NebulaBumpAllocator *self,
                 gpointer             ptr,
                 gsize                size)
{
  if (G_UNLIKELY (self->config.alloc_fill >= 0))
    memset (ptr, self->config.alloc_fill, size);
}

/* How far the cursor moves past a block of @rounded bytes with @room bytes
 * (at least @rounded) left in its chunk. While the tools watch, the block is
 * followed by padding up to the next ASan granule and a redzone, so that the
 * next block starts granule aligned (byte-exact reports) and an overflow
 * lands on poisoned bytes. At the end of a chunk the redzone shrinks to what
 * is left: the chunk's poisoned slack and ASan's heap redzone follow, and
 * the allocator fits exactly as much as without the tools. */
static inline gsize
block_span (NebulaBumpAllocator *self,
            gsize                rounded,
            gsize                room)
{
  gsize span;

  if (G_LIKELY (!self->tools_watching))
    return rounded;

  span = ((rounded + NEBULA_SANITIZER_GRANULE - 1) & ~(gsize) (NEBULA_SANITIZER_GRANULE - 1)) +
         NEBULA_SANITIZER_REDZONE;
  return MIN (span, room);
}

/* Tells the tools that [ptr, ptr + size) of @chunk is handed out (exactly
 * @size bytes: the rounding and the redzone stay poisoned), then fills it. */
static inline void
hand_out (NebulaBumpAllocator *self,
          Chunk               *chunk,
          gpointer             ptr,
          gsize                size)
{
  NEBULA_MEMPOOL_ALLOC (chunk->data, ptr, size);
  fill_allocation (self, ptr, size);
}

/* Makes @chunk (a new or spare chunk) the current one. Called with the grow
 * lock held in thread-safe mode. */
static void
push_chunk (NebulaBumpAllocator *self,
            Chunk               *chunk)
{
  gboolean atomic = self->config.thread_safe;
  Chunk *old = self->current;

  if (old != NULL)
    {
      if (!atomic)
        old->used = self->fast.cursor - old->data;
      self->used_before += chunk_used (old, atomic);
    }

  chunk->prev = old;
  chunk->index = old != NULL ? old->index + 1 : 0;
  chunk->used = 0;
  chunk->last = NULL;
  set_fast_cursor (self, chunk, 0);
  __atomic_store_n (&self->current, chunk, __ATOMIC_RELEASE);
}

static gsize
worst_case_size (gsize size,
                 gsize alignment)
{
  /* Chunk data starts 16-aligned; more alignment may cost padding. */
  return size + (alignment > CHUNK_DATA_ALIGNMENT ? alignment - CHUNK_DATA_ALIGNMENT : 0);
}

/* Finds room for at least @size bytes at @alignment: a spare chunk or a new
 * one. Called with the grow lock held in thread-safe mode. */
static gboolean
grow (NebulaBumpAllocator  *self,
      gsize                 size,
      gsize                 alignment,
      GError              **error)
{
  gsize need = worst_case_size (size, alignment);
  gsize room, chunk_size;
  Chunk *chunk, **link;
  GError *local_error = NULL;

  /* Reuse a kept chunk that is large enough. */
  for (link = &self->spare; *link != NULL; link = &(*link)->prev)
    {
      if ((*link)->size >= need)
        {
          chunk = *link;
          *link = chunk->prev;
          push_chunk (self, chunk);
          return TRUE;
        }
    }

  room = self->max_capacity > self->reserved ? self->max_capacity - self->reserved : 0;
  if (need > room)
    {
      set_exhausted (self, size, alignment, error);
      return FALSE;
    }

  chunk_size = self->current != NULL
    ? (gsize) MIN ((double) self->current->size * self->growth_factor, (double) G_MAXSSIZE)
    : self->capacity;
  chunk_size = CLAMP (chunk_size, need, room);

  chunk = chunk_new (self, chunk_size, &local_error);
  if (chunk == NULL && local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (chunk == NULL)
    {
      g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
      NebulaErrorInfo info = { .requested = chunk_size, .what = what };

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY,
                        &info, "%s: the system refused a new chunk of %" G_GSIZE_FORMAT " bytes",
                        what, chunk_size);
      return FALSE;
    }

  self->reserved += chunk_size;
  push_chunk (self, chunk);
  return TRUE;
}

static gpointer
allocate_dedicated (NebulaBumpAllocator  *self,
                    gsize                 size,
                    gsize                 alignment,
                    GError              **error)
{
  gsize need = worst_case_size (size, alignment);
  gsize room = self->max_capacity > self->reserved ? self->max_capacity - self->reserved : 0;
  GError *local_error = NULL;
  Chunk *chunk;
  guint8 *ptr;

  if (need > room)
    {
      set_exhausted (self, size, alignment, error);
      return NULL;
    }

  chunk = chunk_new (self, need, &local_error);
  if (chunk == NULL && local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  if (chunk == NULL)
    {
      g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
      NebulaErrorInfo info = { .requested = size, .what = what };

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY,
                        &info, "%s: the system refused a dedicated chunk of %" G_GSIZE_FORMAT
                        " bytes", what, need);
      return NULL;
    }

  ptr = (guint8 *) (((guintptr) chunk->data + alignment - 1) & ~(guintptr) (alignment - 1));
  chunk->dedicated = TRUE;
  chunk->block = ptr;
  chunk->block_size = size;
  chunk->used = chunk->size;
  chunk->serial = self->dedicated_serial++;
  chunk->prev = self->large;
  self->large = chunk;
  self->reserved += chunk->size;

  hand_out (self, chunk, ptr, size);
  return ptr;
}

static inline gboolean
is_large (NebulaBumpAllocator *self,
          gsize                size)
{
  return size > self->large_threshold && self->max_capacity > self->capacity;
}

static gpointer
allocate_concurrent (NebulaBumpAllocator  *self,
                     gsize                 size,
                     gsize                 alignment,
                     GError              **error)
{
  gsize rounded = round_size (self, size);

  if (G_UNLIKELY (is_large (self, size)))
    {
      gpointer ptr;

      nebula_memory_budget_hold_signals ();
      nebula_mutex_lock (&self->grow_lock);
      ptr = allocate_dedicated (self, size, alignment, error);
      nebula_mutex_unlock (&self->grow_lock);
      nebula_memory_budget_emit_held_signals ();
      return ptr;
    }

  for (;;)
    {
      Chunk *chunk = __atomic_load_n (&self->current, __ATOMIC_ACQUIRE);
      gsize used = chunk != NULL ? __atomic_load_n (&chunk->used, __ATOMIC_RELAXED) : 0;

      while (chunk != NULL)
        {
          guintptr start = ((guintptr) chunk->data + used + alignment - 1) & ~(guintptr) (alignment - 1);
          gsize offset = start - (guintptr) chunk->data;
          gsize end;

          if (start > (guintptr) chunk->data + chunk->size || rounded > chunk->size - offset)
            break;

          end = offset + block_span (self, rounded, chunk->size - offset);
          if (__atomic_compare_exchange_n (&chunk->used, &used, end, TRUE,
                                           __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            {
              guint8 *last = __atomic_load_n (&chunk->last, __ATOMIC_RELAXED);

              /* Blocks of a chunk rise: the highest start is the top. */
              while (last < (guint8 *) start &&
                     !__atomic_compare_exchange_n (&chunk->last, &last, (guint8 *) start, TRUE,
                                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                ;
              hand_out (self, chunk, GSIZE_TO_POINTER (start), size);
              return GSIZE_TO_POINTER (start);
            }
        }

      /* A charge to the budget may emit: not under our lock. */
      nebula_memory_budget_hold_signals ();
      nebula_mutex_lock (&self->grow_lock);
      if (__atomic_load_n (&self->current, __ATOMIC_ACQUIRE) == chunk &&
          !grow (self, rounded, alignment, error))
        {
          nebula_mutex_unlock (&self->grow_lock);
          nebula_memory_budget_emit_held_signals ();
          return NULL;
        }
      nebula_mutex_unlock (&self->grow_lock);
      nebula_memory_budget_emit_held_signals ();
    }
}

static G_NO_INLINE gpointer
allocate_slow (NebulaBumpAllocator  *self,
               gsize                 size,
               gsize                 alignment,
               GError              **error)
{
  gsize rounded;

  if (!ensure_ready (self, error))
    return NULL;

  if (self->config.thread_safe)
    return allocate_concurrent (self, size, alignment, error);

  if (is_large (self, size))
    return allocate_dedicated (self, size, alignment, error);

  rounded = round_size (self, size);
  for (;;)
    {
      guintptr start = ((guintptr) self->fast.cursor + alignment - 1) & ~(guintptr) (alignment - 1);

      if (start <= (guintptr) self->fast.limit && (guintptr) self->fast.limit - start >= rounded)
        {
          self->fast.last = GSIZE_TO_POINTER (start);
          self->fast.cursor = (guint8 *) start +
                              block_span (self, rounded, (guintptr) self->fast.limit - start);
          hand_out (self, self->current, self->fast.last, size);
          return self->fast.last;
        }

      if (!grow (self, rounded, alignment, error))
        return NULL;
    }
}

/* The common case never gets here: nebula_allocator_allocate() and
 * nebula_bump_allocator_alloc() serve it inline (nebula-bump-allocator.h).
 * What remains (zeroed and reallocated blocks, full chunks, the slow
 * modes) takes the general path. */
static gpointer
nebula_bump_allocator_allocate (NebulaAllocator  *allocator,
                                gsize             size,
                                gsize             alignment,
                                GError          **error)
{
  return allocate_slow ((NebulaBumpAllocator *) allocator, size, alignment, error);
}

/* The chunk of the list starting at @chunk that holds @ptr. */
static Chunk *
find_chunk_in (Chunk         *chunk,
               gconstpointer  ptr)
{
  for (; chunk != NULL; chunk = chunk->prev)
    if ((const guint8 *) ptr >= chunk->data && (const guint8 *) ptr < chunk->data + chunk->size)
      return chunk;

  return NULL;
}

/* Called with the grow lock held in thread-safe mode: other threads may be
 * adding chunks. */
static gboolean
owns_locked (NebulaBumpAllocator *self,
             gconstpointer        ptr)
{
  gboolean atomic = self->config.thread_safe;
  Chunk *chunk;

  if (find_chunk_in (self->large, ptr) != NULL)
    return TRUE;

  chunk = find_chunk_in (self->current, ptr);
  if (chunk == NULL)
    return FALSE;

  /* Only the part that was handed out. */
  if (chunk == self->current && !atomic)
    return (const guint8 *) ptr < self->fast.cursor;

  return (const guint8 *) ptr < chunk->data + chunk_used (chunk, atomic);
}

static gboolean
nebula_bump_allocator_owns (NebulaAllocator *allocator,
                            gconstpointer    ptr)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;
  gboolean owns;

  if (!ensure_ready (self, NULL))
    return FALSE;

  if (!self->config.thread_safe)
    return owns_locked (self, ptr);

  nebula_mutex_lock (&self->grow_lock);
  owns = owns_locked (self, ptr);
  nebula_mutex_unlock (&self->grow_lock);

  return owns;
}

static void
set_foreign_pointer (NebulaBumpAllocator  *self,
                     gconstpointer         ptr,
                     gsize                 size,
                     GError              **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, &info,
                    "%s: %p (size %" G_GSIZE_FORMAT ") was not allocated by this allocator",
                    what, ptr, size);
}

/* Frees the dedicated chunk whose block starts at @ptr. A pointer into a
 * dedicated chunk elsewhere is not a block: TRUE, without effect (as for
 * any other block that is not the top). FALSE: @ptr is not in a dedicated
 * chunk. Called with the grow lock held in thread-safe mode. */
static gboolean
free_dedicated (NebulaBumpAllocator *self,
                gpointer             ptr)
{
  for (Chunk **link = &self->large; *link != NULL; link = &(*link)->prev)
    {
      Chunk *chunk = *link;

      if ((guint8 *) ptr >= chunk->data && (guint8 *) ptr < chunk->data + chunk->size)
        {
          if ((guint8 *) ptr != chunk->block)
            return TRUE;

          *link = chunk->prev;
          self->reserved -= chunk->size;
          chunk_free (self, chunk);
          return TRUE;
        }
    }

  return FALSE;
}

/* The thread-safe top-block free: the single-threaded one compares with
 * fast.last and moves the cursor; here the chunk's counter moves back only
 * if @ptr starts its newest block and that block still ends at the
 * counter. Of two frees of the same block, one moves it; the other then
 * finds @ptr at or past the counter, which owns() refuses, as a second
 * free of the single-threaded top is refused. */
static gboolean
free_top_concurrent (NebulaBumpAllocator *self,
                     gpointer             ptr,
                     gsize                size,
                     gsize                rounded)
{
  Chunk *chunk;
  gsize offset, end;
  gboolean freed = FALSE;

  nebula_mutex_lock (&self->grow_lock);
  chunk = self->current;
  if (chunk != NULL && (guint8 *) ptr >= chunk->data && (guint8 *) ptr < chunk->data + chunk->size &&
      __atomic_load_n (&chunk->last, __ATOMIC_RELAXED) == (guint8 *) ptr)
    {
      offset = (guint8 *) ptr - chunk->data;
      if (rounded <= chunk->size - offset)
        {
          end = offset + block_span (self, rounded, chunk->size - offset);
          if (chunk_used (chunk, TRUE) == end)
            {
              /* Before the counter moves: once it has, another thread may
               * be handed these bytes. Allocations do not touch them
               * before that, and frees hold the lock. */
              if (self->config.free_fill >= 0)
                memset (ptr, self->config.free_fill, size);
              NEBULA_MEMPOOL_FREE (chunk->data, ptr, size);
              freed = __atomic_compare_exchange_n (&chunk->used, &end, offset, FALSE,
                                                   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
            }
        }
    }
  nebula_mutex_unlock (&self->grow_lock);

  return freed;
}

/* The chunk, regular or dedicated, that holds @ptr; for the memory tools,
 * which name a block by its chunk. */
static Chunk *
find_any_chunk (NebulaBumpAllocator *self,
                gconstpointer        ptr)
{
  Chunk *chunk = find_chunk_in (self->large, ptr);

  return chunk != NULL ? chunk : find_chunk_in (self->current, ptr);
}

/* A block the cursor does not get back still dies for the memory tools:
 * touching it afterwards is reported. Its bytes are made inaccessible
 * rather than the block freed from Valgrind's pool: freeing a block twice,
 * or by a pointer into it, is allowed here (no effect), and a second
 * VALGRIND_MEMPOOL_FREE would be reported as an invalid free. The next
 * rewind over it trims it from the pool. */
static void
forget_block (NebulaBumpAllocator *self,
              gpointer             ptr,
              gsize                size)
{
  Chunk *chunk;

  if (G_LIKELY (!self->tools_watching))
    return;

  if (self->config.thread_safe)
    nebula_mutex_lock (&self->grow_lock);
  chunk = find_any_chunk (self, ptr);
  if (chunk != NULL)
    NEBULA_MEM_NOACCESS (ptr, MIN (size, (gsize) (chunk->data + chunk->size - (guint8 *) ptr)));
  if (self->config.thread_safe)
    nebula_mutex_unlock (&self->grow_lock);
}

static gboolean
nebula_bump_allocator_deallocate (NebulaAllocator  *allocator,
                                  gpointer          ptr,
                                  gsize             size,
                                  gsize             alignment,
                                  GError          **error)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;
  gboolean freed;
  gsize rounded;

  if (!ensure_ready (self, error))
    return FALSE;

  rounded = round_size (self, size);

  /* The most recent allocation can be given back. */
  if (!self->config.thread_safe && ptr == self->fast.last &&
      self->fast.cursor == (guint8 *) ptr + block_span (self, rounded,
                                                        self->fast.limit - (guint8 *) ptr))
    {
      if (self->config.free_fill >= 0)
        memset (ptr, self->config.free_fill, size);
      NEBULA_MEMPOOL_FREE (self->current->data, ptr, size);
      self->fast.cursor = ptr;
      self->fast.last = NULL;
      return TRUE;
    }

  if (self->config.thread_safe && free_top_concurrent (self, ptr, size, rounded))
    return TRUE;

  if (!nebula_bump_allocator_owns (allocator, ptr))
    {
      set_foreign_pointer (self, ptr, size, error);
      return FALSE;
    }

  /* self->large is read under the lock: other threads may be adding
   * dedicated chunks. */
  if (self->config.thread_safe)
    nebula_mutex_lock (&self->grow_lock);
  freed = self->large != NULL && free_dedicated (self, ptr);
  if (self->config.thread_safe)
    nebula_mutex_unlock (&self->grow_lock);
  if (freed)
    return TRUE;

  forget_block (self, ptr, size);
  return TRUE;
}

/* The thread-safe counterpart of the single-threaded in-place resize of
 * the top block: the chunk's counter moves from the block's old end to its
 * new one, unless another thread allocated meanwhile. */
static gboolean
resize_top_concurrent (NebulaBumpAllocator *self,
                       gpointer             ptr,
                       gsize                old_size,
                       gsize                new_size)
{
  gsize old_rounded = round_size (self, old_size);
  gsize new_rounded = round_size (self, new_size);
  gsize offset, room, end;
  gboolean resized = FALSE;
  Chunk *chunk;

  nebula_mutex_lock (&self->grow_lock);
  chunk = self->current;
  if (chunk != NULL && (guint8 *) ptr >= chunk->data && (guint8 *) ptr < chunk->data + chunk->size &&
      __atomic_load_n (&chunk->last, __ATOMIC_RELAXED) == (guint8 *) ptr)
    {
      offset = (guint8 *) ptr - chunk->data;
      room = chunk->size - offset;
      if (old_rounded <= room && new_rounded <= room)
        {
          end = offset + block_span (self, old_rounded, room);
          /* A shrunk tail dies for the tools before the counter lets
           * another thread have it (the caller gives it up either way);
           * grown bytes come alive only once the counter is ours. */
          if (chunk_used (chunk, TRUE) == end)
            {
              if (new_size < old_size)
                NEBULA_MEMPOOL_RESIZE (chunk->data, ptr, old_size, new_size);
              resized = __atomic_compare_exchange_n (&chunk->used, &end,
                                                     offset + block_span (self, new_rounded, room),
                                                     FALSE, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
              if (resized && new_size > old_size)
                {
                  NEBULA_MEMPOOL_RESIZE (chunk->data, ptr, old_size, new_size);
                  if (self->config.alloc_fill >= 0)
                    memset ((guint8 *) ptr + old_size, self->config.alloc_fill,
                            new_size - old_size);
                }
            }
        }
    }
  nebula_mutex_unlock (&self->grow_lock);

  return resized;
}

/* Whether @old_size can be the size of the block at @ptr (which the
 * allocator owns): it must not run past what was handed out, the used
 * part of a regular chunk or the block of a dedicated one. Else the copy
 * of a reallocation would read past the chunk. */
static gboolean
check_old_size (NebulaBumpAllocator  *self,
                gpointer              ptr,
                gsize                 old_size,
                GError              **error)
{
  gboolean atomic = self->config.thread_safe;
  const guint8 *p = ptr;
  const guint8 *start = NULL, *end = NULL;
  gboolean dedicated = FALSE;
  Chunk *chunk;

  if (atomic)
    nebula_mutex_lock (&self->grow_lock);
  chunk = find_chunk_in (self->large, ptr);
  if (chunk != NULL)
    {
      dedicated = TRUE;
      start = chunk->block;
      end = chunk->block + chunk->block_size;
    }
  else if ((chunk = find_chunk_in (self->current, ptr)) != NULL)
    {
      start = chunk->data;
      end = chunk->data + chunk_position (self, chunk);
    }
  if (atomic)
    nebula_mutex_unlock (&self->grow_lock);

  if (chunk != NULL && p >= start && p <= end && old_size <= (gsize) (end - p))
    return TRUE;

  {
    g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
    NebulaErrorInfo info = { .requested = old_size, .what = what };

    if (dedicated && p < start)
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER,
                        &info, "%s: %p lies in the padding before the dedicated block at %p, "
                        "not in a block", what, ptr, start);
    else if (dedicated)
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT,
                        &info, "%s: %p cannot hold %" G_GSIZE_FORMAT " bytes: it lies %"
                        G_GSIZE_FORMAT " bytes into a dedicated block of %" G_GSIZE_FORMAT
                        " bytes, so at most %" G_GSIZE_FORMAT " follow it; reallocate with the "
                        "size the block was allocated with", what, ptr, old_size,
                        (gsize) (p - start), (gsize) (end - start), (gsize) (end - p));
    else
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT,
                        &info, "%s: %p cannot hold %" G_GSIZE_FORMAT " bytes: only %"
                        G_GSIZE_FORMAT " bytes were handed out from there to the end of its "
                        "chunk's used part; reallocate with the size the block was allocated "
                        "with", what, ptr, old_size,
                        p <= end ? (gsize) (end - p) : (gsize) 0);
    return FALSE;
  }
}

static gpointer
nebula_bump_allocator_reallocate (NebulaAllocator  *allocator,
                                  gpointer          ptr,
                                  gsize             old_size,
                                  gsize             new_size,
                                  gsize             alignment,
                                  GError          **error)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;
  gsize old_rounded, new_rounded;
  gpointer new_ptr;

  if (!ensure_ready (self, error))
    return NULL;

  if (!nebula_bump_allocator_owns (allocator, ptr))
    {
      set_foreign_pointer (self, ptr, old_size, error);
      return NULL;
    }

  if (!check_old_size (self, ptr, old_size, error))
    return NULL;

  old_rounded = round_size (self, old_size);
  new_rounded = round_size (self, new_size);

  if (self->config.thread_safe && resize_top_concurrent (self, ptr, old_size, new_size))
    return ptr;

  /* The top allocation grows or shrinks in place when the chunk has room. */
  if (!self->config.thread_safe && ptr == self->fast.last)
    {
      gsize room = self->fast.limit - (guint8 *) ptr;

      if (self->fast.cursor == (guint8 *) ptr + block_span (self, old_rounded, room) &&
          new_rounded <= room)
        {
          NEBULA_MEMPOOL_RESIZE (self->current->data, ptr, old_size, new_size);
          if (new_size > old_size && self->config.alloc_fill >= 0)
            memset ((guint8 *) ptr + old_size, self->config.alloc_fill, new_size - old_size);
          self->fast.cursor = (guint8 *) ptr + block_span (self, new_rounded, room);
          return ptr;
        }
    }

  if (new_size <= old_size)
    {
      Chunk *chunk;

      if (self->config.thread_safe)
        nebula_mutex_lock (&self->grow_lock);

      /* A dedicated block shrunk in place has its new size: a later old
       * size is checked against it. */
      chunk = self->large != NULL ? find_chunk_in (self->large, ptr) : NULL;
      if (chunk != NULL && (guint8 *) ptr == chunk->block)
        chunk->block_size = new_size;

      /* Shrunk in place: the tail is dead. */
      if (G_UNLIKELY (self->tools_watching))
        {
          chunk = find_any_chunk (self, ptr);
          if (chunk != NULL)
            NEBULA_MEMPOOL_RESIZE (chunk->data, ptr, old_size, new_size);
        }

      if (self->config.thread_safe)
        nebula_mutex_unlock (&self->grow_lock);
      return ptr;
    }

  new_ptr = nebula_bump_allocator_allocate (allocator, new_size, alignment, error);
  if (new_ptr == NULL)
    return NULL;

  memcpy (new_ptr, ptr, old_size);
  forget_block (self, ptr, old_size);
  return new_ptr;
}

static void
free_all_dedicated (NebulaBumpAllocator *self)
{
  for (Chunk *chunk = self->large; chunk != NULL; chunk = chunk->prev)
    self->reserved -= chunk->size;
  chunk_list_free (self, self->large);
  self->large = NULL;
}

/* Where the cursor stands in @chunk: the single-threaded cursor lives in
 * the allocator, not the chunk, while the chunk is current. */
static gsize
chunk_position (NebulaBumpAllocator *self,
                Chunk               *chunk)
{
  if (chunk == self->current && !self->config.thread_safe)
    return self->fast.cursor - chunk->data;

  return chunk_used (chunk, self->config.thread_safe);
}

/* Gives back everything of @chunk from @keep on (@used bytes were in use):
 * filled with the free-fill byte if there is one, dead for the tools. */
static void
chunk_rewind (NebulaBumpAllocator *self,
              Chunk               *chunk,
              gsize                keep,
              gsize                used)
{
  if (self->config.free_fill >= 0 && used > keep)
    {
      /* Redzones are poisoned; the fill may write them. */
      NEBULA_MEM_WRITABLE (chunk->data + keep, used - keep);
      memset (chunk->data + keep, self->config.free_fill, used - keep);
    }

  NEBULA_MEMPOOL_TRIM (chunk->data, chunk->data, keep, chunk_region_size (chunk));
}

static void
make_current (NebulaBumpAllocator *self,
              Chunk               *chunk,
              gsize                used)
{
  chunk->used = used;
  chunk->last = NULL;
  self->current = chunk;
  set_fast_cursor (self, chunk, used);
  if (!self->config.thread_safe)
    self->fast.last = NULL;
}

static void
nebula_bump_allocator_reset (NebulaAllocator *allocator)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;
  Chunk *keep = NULL, *chunk, *prev;

  if (!ensure_ready (self, NULL))
    return;

  self->generation++;
  free_all_dedicated (self);

  /* Checkpoints from before are refused by their generation. */
  g_array_set_size (self->rewinds, 0);
  self->have_high = FALSE;

  /* Gather every regular chunk, newest first, then the spares. */
  for (chunk = self->current; chunk != NULL; chunk = prev)
    {
      prev = chunk->prev;
      chunk_rewind (self, chunk, 0, chunk_position (self, chunk));

      switch (self->reset_policy)
        {
        case NEBULA_RESET_POLICY_KEEP_ALL:
          if (chunk->index == 0)
            keep = chunk;
          else
            {
              chunk->prev = self->spare;
              self->spare = chunk;
            }
          break;

        case NEBULA_RESET_POLICY_KEEP_LARGEST:
          if (keep == NULL || chunk->size > keep->size)
            {
              if (keep != NULL)
                {
                  self->reserved -= keep->size;
                  chunk_free (self, keep);
                }
              keep = chunk;
            }
          else
            {
              self->reserved -= chunk->size;
              chunk_free (self, chunk);
            }
          break;

        case NEBULA_RESET_POLICY_FREE_ALL:
        default:
          self->reserved -= chunk->size;
          chunk_free (self, chunk);
          break;
        }
    }

  if (self->reset_policy != NEBULA_RESET_POLICY_KEEP_ALL)
    {
      for (chunk = self->spare; chunk != NULL; chunk = chunk->prev)
        self->reserved -= chunk->size;
      chunk_list_free (self, self->spare);
      self->spare = NULL;
    }

  self->used_before = 0;
  self->current = NULL;
  self->fast.cursor = self->fast.limit = self->fast.last = self->fast.base = NULL;

  if (keep != NULL)
    {
      keep->prev = NULL;
      keep->index = 0;
      make_current (self, keep, 0);
    }
  else
    {
      /* FREE_ALL: the next allocation starts a fresh first chunk. */
      grow (self, 1, 1, NULL);
    }
}

/* The span check for scripts (nebula-allocator-private.h). A bump
 * allocator does not know where its blocks end: a span must lie in the
 * used part of one regular chunk, or in one dedicated chunk's block. A
 * free only needs its start there: it rewinds nothing but the most recent
 * block, whose size it checks, and accepts a larger size elsewhere (the
 * statistics then carry a deficit), touching no memory. */
static NebulaSpanResult
bump_span (NebulaAllocator *allocator,
           guintptr         start,
           gsize            size,
           NebulaSpanKind   kind,
           gsize           *block_size)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;
  gboolean atomic, inside = FALSE;
  gconstpointer ptr = GSIZE_TO_POINTER (start);
  Chunk *chunk;

  if (!ensure_ready (self, NULL))
    return NEBULA_SPAN_NOT_READY;

  atomic = self->config.thread_safe;
  if (atomic)
    nebula_mutex_lock (&self->grow_lock);

  if ((chunk = find_chunk_in (self->large, ptr)) != NULL ||
      (chunk = find_chunk_in (self->current, ptr)) != NULL)
    {
      const guint8 *end = chunk->data + chunk_used (chunk, atomic);

      if (chunk == self->current && !atomic)
        end = self->fast.cursor;
      inside = nebula_span_within (start, kind == NEBULA_SPAN_FREE ? 1 : size, chunk->data, end);
    }

  if (atomic)
    nebula_mutex_unlock (&self->grow_lock);

  if (inside && kind == NEBULA_SPAN_FREE)
    return NEBULA_SPAN_DEFER;

  return inside ? NEBULA_SPAN_OK : NEBULA_SPAN_FOREIGN;
}

static void
allocator_iface_init (NebulaAllocatorInterface *iface)
{
  iface->alloc = nebula_bump_allocator_allocate;
  iface->resize = nebula_bump_allocator_reallocate;
  iface->dealloc = nebula_bump_allocator_deallocate;
  iface->reset = nebula_bump_allocator_reset;
  iface->contains = nebula_bump_allocator_owns;
}

static gboolean
nebula_bump_allocator_initable_init (GInitable     *initable,
                                     GCancellable  *cancellable,
                                     GError       **error)
{
  return ensure_ready (NEBULA_BUMP_ALLOCATOR (initable), error);
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = nebula_bump_allocator_initable_init;
}

/* Called with the grow lock held in thread-safe mode: other threads add
 * chunks, and free dedicated ones. */
static gsize
bytes_used_locked (NebulaBumpAllocator *self)
{
  gsize used = self->used_before;

  if (self->current == NULL)
    return 0;

  used += chunk_position (self, self->current);

  for (Chunk *chunk = self->large; chunk != NULL; chunk = chunk->prev)
    used += chunk->size;

  return used;
}

static gsize
bytes_available_locked (NebulaBumpAllocator *self)
{
  gsize in_current, room;

  if (self->current == NULL)
    return 0;

  in_current = current_available (self);
  room = self->max_capacity > self->reserved ? self->max_capacity - self->reserved : 0;
  for (Chunk *chunk = self->spare; chunk != NULL; chunk = chunk->prev)
    room += chunk->size;

  return in_current + room;
}

static gsize
bytes_used (NebulaBumpAllocator *self)
{
  gsize used;

  if (!self->config.thread_safe)
    return bytes_used_locked (self);

  nebula_mutex_lock (&self->grow_lock);
  used = bytes_used_locked (self);
  nebula_mutex_unlock (&self->grow_lock);

  return used;
}

static gsize
bytes_available (NebulaBumpAllocator *self)
{
  gsize available;

  if (!self->config.thread_safe)
    return bytes_available_locked (self);

  nebula_mutex_lock (&self->grow_lock);
  available = bytes_available_locked (self);
  nebula_mutex_unlock (&self->grow_lock);

  return available;
}

static GVariant *
chunk_to_variant (const char *kind,
                  gsize       size,
                  gsize       used,
                  gboolean    current)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "kind", "s", kind);
  g_variant_dict_insert (&dict, "size", "t", (guint64) size);
  g_variant_dict_insert (&dict, "used", "t", (guint64) used);
  g_variant_dict_insert (&dict, "current", "b", current);

  return g_variant_dict_end (&dict);
}

/* The report's Bump part: the chunks, oldest regular chunk last. */
static void
bump_report (NebulaAllocator *allocator,
             GVariantDict    *report)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;
  gboolean atomic = self->config.thread_safe;
  GVariantBuilder chunks;
  gsize stranded = 0;

  if (!ensure_ready (self, NULL))
    return;

  g_variant_builder_init (&chunks, G_VARIANT_TYPE ("aa{sv}"));

  if (atomic)
    nebula_mutex_lock (&self->grow_lock);

  for (Chunk *chunk = self->current; chunk != NULL; chunk = chunk->prev)
    {
      gsize used = chunk == self->current && !atomic
        ? (gsize) (self->fast.cursor - chunk->data)
        : chunk_used (chunk, atomic);

      /* The cursor never returns to an older chunk before a reset or
       * restore: its free tail serves nothing. */
      if (chunk != self->current)
        stranded += chunk->size - used;
      g_variant_builder_add_value (&chunks, chunk_to_variant ("regular", chunk->size, used,
                                                              chunk == self->current));
    }
  for (Chunk *chunk = self->spare; chunk != NULL; chunk = chunk->prev)
    g_variant_builder_add_value (&chunks, chunk_to_variant ("spare", chunk->size, 0, FALSE));
  for (Chunk *chunk = self->large; chunk != NULL; chunk = chunk->prev)
    g_variant_builder_add_value (&chunks, chunk_to_variant ("dedicated", chunk->size, chunk->size,
                                                            FALSE));

  g_variant_dict_insert (report, "reserved", "t", (guint64) self->reserved);
  g_variant_dict_insert (report, "fragmentation", "d",
                         self->reserved != 0 ? (double) stranded / (double) self->reserved : 0.0);

  if (atomic)
    nebula_mutex_unlock (&self->grow_lock);

  g_variant_dict_insert_value (report, "chunks", g_variant_builder_end (&chunks));
}

static void
nebula_bump_allocator_finalize (GObject *object)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) object;

  chunk_list_free (self, self->current);
  chunk_list_free (self, self->spare);
  chunk_list_free (self, self->large);
  g_array_unref (self->rewinds);
  g_mutex_clear (&self->grow_lock);
  nebula_stats_counters_clear (&self->stats);
  nebula_allocator_config_clear (&self->config);

  G_OBJECT_CLASS (nebula_bump_allocator_parent_class)->finalize (object);
}

static void
nebula_bump_allocator_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  NebulaBumpAllocator *self = NEBULA_BUMP_ALLOCATOR (object);

  if (nebula_allocator_config_get_property (&self->config, prop_id, value))
    return;

  switch (prop_id)
    {
    case NEBULA_CONFIG_PROP_CAPACITY:
      g_value_set_uint64 (value, self->capacity);
      break;

    case NEBULA_CONFIG_PROP_BYTES_USED:
      g_value_set_uint64 (value, bytes_used (self));
      break;

    case NEBULA_CONFIG_PROP_BYTES_AVAILABLE:
      g_value_set_uint64 (value, bytes_available (self));
      break;

    case PROP_MAX_CAPACITY:
      g_value_set_uint64 (value, self->max_capacity);
      break;

    case PROP_GROWTH_FACTOR:
      g_value_set_double (value, self->growth_factor);
      break;

    case PROP_LARGE_ALLOCATION_THRESHOLD:
      g_value_set_uint64 (value, self->large_threshold);
      break;

    case PROP_RESET_POLICY:
      g_value_set_enum (value, self->reset_policy);
      break;

    case PROP_MIN_ALLOC_SIZE:
      g_value_set_uint64 (value, self->min_alloc_size);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_bump_allocator_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  NebulaBumpAllocator *self = NEBULA_BUMP_ALLOCATOR (object);

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

    case PROP_GROWTH_FACTOR:
      self->growth_factor = g_value_get_double (value);
      break;

    case PROP_LARGE_ALLOCATION_THRESHOLD:
      self->large_threshold = g_value_get_uint64 (value);
      break;

    case PROP_RESET_POLICY:
      self->reset_policy = g_value_get_enum (value);
      break;

    case PROP_MIN_ALLOC_SIZE:
      self->min_alloc_size = g_value_get_uint64 (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_bump_allocator_class_init (NebulaBumpAllocatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  nebula_allocator_core_class_init (object_class);
  object_class->finalize = nebula_bump_allocator_finalize;
  object_class->get_property = nebula_bump_allocator_get_property;
  object_class->set_property = nebula_bump_allocator_set_property;


  /**
   * NebulaBumpAllocator:capacity:
   *
   * The size of the first chunk, in bytes. Must be greater than 0.
   */
  /**
   * NebulaBumpAllocator:name:
   *
   * A name used in error messages, reports and statistics.
   */
  /**
   * NebulaBumpAllocator:thread-safe:
   *
   * Whether several threads may allocate at once (atomic cursor). Without it
   * the allocation path uses no atomic instruction.
   */
  /**
   * NebulaBumpAllocator:track-stats:
   *
   * Whether to keep statistics. Off in the PERFORMANCE preset.
   */
  /**
   * NebulaBumpAllocator:alloc-fill:
   *
   * A byte value (0..255) written over every new allocation, or -1 for none.
   * 0xAA in the DEBUG preset.
   */
  /**
   * NebulaBumpAllocator:free-fill:
   *
   * A byte value (0..255) written over memory when it is given back, or -1
   * for none. 0xDD in the DEBUG preset.
   */
  /**
   * NebulaBumpAllocator:preset:
   *
   * The #NebulaPreset whose defaults apply to the properties not given
   * explicitly.
   */
  /**
   * NebulaBumpAllocator:budget:
   *
   * A #NebulaMemoryBudget charged for every chunk (the first one, growth,
   * and the dedicated chunks of large requests) and released when a chunk
   * is freed by a reset, a restore, a deallocation or finalization; %NULL
   * for none. A refused charge fails the request (or the construction) with
   * %NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED.
   */
  nebula_allocator_config_install_properties (object_class, properties, FALSE,
                                              NEBULA_CAPACITY_CONSTRUCT, DEFAULT_CAPACITY);
  nebula_allocator_set_report_func (G_TYPE_FROM_CLASS (klass), bump_report);
  nebula_allocator_set_span_func (G_TYPE_FROM_CLASS (klass), bump_span);

  /**
   * NebulaBumpAllocator:max-capacity:
   *
   * The most bytes all chunks together may hold. 0 (the default) or the
   * capacity itself means no growth; a larger value lets the allocator add
   * chunks. Eight times the capacity in the PRODUCTION preset.
   */
  properties[PROP_MAX_CAPACITY] =
    g_param_spec_uint64 ("max-capacity", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaBumpAllocator:growth-factor:
   *
   * How much larger each new chunk is than the previous one, from 1.0 to
   * 16.0.
   */
  properties[PROP_GROWTH_FACTOR] =
    g_param_spec_double ("growth-factor", NULL, NULL,
                         -G_MAXDOUBLE, G_MAXDOUBLE, 2.0,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaBumpAllocator:large-allocation-threshold:
   *
   * When the allocator can grow, requests larger than this many bytes get a
   * dedicated chunk (freed by deallocate, reset, or a restore to before it).
   * 0 means half the capacity.
   */
  properties[PROP_LARGE_ALLOCATION_THRESHOLD] =
    g_param_spec_uint64 ("large-allocation-threshold", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaBumpAllocator:reset-policy:
   *
   * What reset does with the chunks. KEEP_ALL in the PERFORMANCE preset.
   */
  properties[PROP_RESET_POLICY] =
    g_param_spec_enum ("reset-policy", NULL, NULL,
                       NEBULA_TYPE_RESET_POLICY,
                       NEBULA_RESET_POLICY_KEEP_LARGEST,
                       NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaBumpAllocator:min-alloc-size:
   *
   * Every allocation is rounded up to a multiple of this many bytes, a power
   * of two from 1 to 4096.
   */
  properties[PROP_MIN_ALLOC_SIZE] =
    g_param_spec_uint64 ("min-alloc-size", NULL, NULL,
                         0, G_MAXUINT64, 1,
                         NEBULA_CONFIG_PARAM_FLAGS);

  for (guint i = PROP_MAX_CAPACITY; i < N_PROPS; i++)
    g_object_class_install_property (object_class, i, properties[i]);
}

static void
nebula_bump_allocator_init (NebulaBumpAllocator *self)
{
  nebula_allocator_core_init (self, NEBULA_ALLOCATOR_KIND_BUMP, &self->stats, &self->config, FALSE);
  g_mutex_init (&self->grow_lock);
  self->rewinds = g_array_new (FALSE, FALSE, sizeof (Rewind));
  self->capacity = DEFAULT_CAPACITY;
  self->growth_factor = 2.0;
  self->min_alloc_size = 1;
  self->reset_policy = NEBULA_RESET_POLICY_KEEP_LARGEST;
  self->id = __atomic_fetch_add (&next_allocator_id, 1, __ATOMIC_RELAXED);
}

/**
 * nebula_bump_allocator_new:
 * @capacity: the size of the first chunk, in bytes
 * @error: return location for a #GError
 *
 * Creates a single-threaded bump allocator of @capacity bytes that does not
 * grow. Use g_initable_new() for the other properties.
 *
 * Returns: (transfer full): a new #NebulaBumpAllocator, or %NULL with @error
 *   set (%NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG for a @capacity of 0)
 */
NebulaBumpAllocator *
nebula_bump_allocator_new (gsize    capacity,
                           GError **error)
{
  return g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, error,
                         "capacity", (guint64) capacity,
                         NULL);
}

static inline gboolean
position_before (guint index_a, gsize offset_a,
                 guint index_b, gsize offset_b)
{
  return index_a < index_b || (index_a == index_b && offset_a < offset_b);
}

/**
 * nebula_bump_allocator_checkpoint:
 * @self: a #NebulaBumpAllocator
 *
 * Records the current position, to rewind to with
 * nebula_bump_allocator_restore(). A checkpoint is valid until the
 * allocator is reset or restored to a position before it; after that,
 * restoring it fails with %NEBULA_ALLOCATOR_ERROR_STALE_MARKER, even once
 * the allocator has moved past its position again.
 *
 * The most recent allocation before the checkpoint can no longer be given
 * back by nebula_allocator_deallocate() (it succeeds without effect): that
 * would move the position below the checkpoint.
 *
 * Returns: (transfer full): a new checkpoint
 */
NebulaBumpCheckpoint *
nebula_bump_allocator_checkpoint (NebulaBumpAllocator *self)
{
  NebulaBumpCheckpoint *checkpoint;

  g_return_val_if_fail (NEBULA_IS_BUMP_ALLOCATOR (self), NULL);

  checkpoint = g_new0 (NebulaBumpCheckpoint, 1);
  checkpoint->allocator_id = self->id;
  checkpoint->generation = self->generation;

  if (ensure_ready (self, NULL) && self->current != NULL)
    {
      NebulaAllocatorStats stats;
      gboolean atomic = self->config.thread_safe;
      Chunk *chunk;
      gsize offset;

      /* Top-block frees of other threads take the lock. */
      if (atomic)
        nebula_mutex_lock (&self->grow_lock);

      chunk = self->current;
      offset = chunk_position (self, chunk);

      /* The start of an empty chunk is the end of the used part of the
       * one before: one name per position, so that positions compare
       * as the blocks under them do. */
      while (offset == 0 && chunk->prev != NULL)
        {
          chunk = chunk->prev;
          offset = chunk_position (self, chunk);
        }

      checkpoint->chunk_index = chunk->index;
      checkpoint->dedicated_serial = self->dedicated_serial;
      checkpoint->offset = offset;
      checkpoint->serial = self->checkpoint_serial++;

      if (!self->have_high ||
          position_before (self->high_index, self->high_offset,
                           checkpoint->chunk_index, checkpoint->offset))
        {
          self->have_high = TRUE;
          self->high_index = checkpoint->chunk_index;
          self->high_offset = checkpoint->offset;
        }

      /* Only blocks allocated after the checkpoint may move the position
       * back from now on, and none of them starts below it. */
      if (atomic)
        __atomic_store_n (&self->current->last, NULL, __ATOMIC_RELAXED);
      else
        self->fast.last = NULL;

      if (atomic)
        nebula_mutex_unlock (&self->grow_lock);

      nebula_stats_counters_read (&self->stats, &stats);
      checkpoint->live_blocks = stats.allocations - MIN (stats.deallocations, stats.allocations);
      checkpoint->bytes_in_use = stats.bytes_in_use;
    }
  else
    {
      /* An unusable allocator gives a checkpoint that restore refuses. */
      checkpoint->allocator_id = 0;
    }

  return checkpoint;
}

/* The restore to @index/@offset makes every checkpoint taken so far above
 * it stale. Entries that rise no higher than the new one are covered by
 * it: a checkpoint they refuse was taken before it too. */
static void
record_restore (NebulaBumpAllocator *self,
                guint                index,
                gsize                offset)
{
  Rewind rewind = { self->checkpoint_serial, index, offset };

  if (!self->have_high || !position_before (index, offset, self->high_index, self->high_offset))
    return;

  while (self->rewinds->len > 0)
    {
      const Rewind *top = &g_array_index (self->rewinds, Rewind, self->rewinds->len - 1);

      if (position_before (top->chunk_index, top->offset, index, offset))
        break;
      g_array_set_size (self->rewinds, self->rewinds->len - 1);
    }
  g_array_append_val (self->rewinds, rewind);

  self->high_index = index;
  self->high_offset = offset;
}

/* The first restore since @checkpoint that went below it, or NULL. Among
 * the restores since, the first entry has the lowest position. */
static const Rewind *
find_rewind_below (NebulaBumpAllocator        *self,
                   const NebulaBumpCheckpoint *checkpoint)
{
  for (guint i = 0; i < self->rewinds->len; i++)
    {
      const Rewind *rewind = &g_array_index (self->rewinds, Rewind, i);

      if (rewind->serial > checkpoint->serial)
        return position_before (rewind->chunk_index, rewind->offset,
                                checkpoint->chunk_index, checkpoint->offset) ? rewind : NULL;
    }

  return NULL;
}

/* Everything allocated since @checkpoint is freed: count it as the callers
 * would have, had they freed each block. */
static void
record_rewind (NebulaBumpAllocator        *self,
               const NebulaBumpCheckpoint *checkpoint)
{
  NebulaAllocatorStats stats;
  guint64 live_blocks;

  if (!self->stats.enabled)
    return;

  nebula_stats_counters_read (&self->stats, &stats);
  live_blocks = stats.allocations - MIN (stats.deallocations, stats.allocations);
  nebula_stats_counters_record_release (&self->stats,
                                        live_blocks > checkpoint->live_blocks
                                          ? live_blocks - checkpoint->live_blocks : 0,
                                        stats.bytes_in_use > checkpoint->bytes_in_use
                                          ? stats.bytes_in_use - checkpoint->bytes_in_use : 0);
}

static void
set_stale (NebulaBumpAllocator  *self,
           GError              **error,
           const char           *why)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER, &info,
                    "%s: cannot restore the checkpoint: %s", what, why);
}

/**
 * nebula_bump_allocator_restore:
 * @self: a #NebulaBumpAllocator
 * @checkpoint: a checkpoint of @self
 * @error: return location for a #GError
 *
 * Rewinds @self to @checkpoint: everything allocated since is released at
 * once (chunks added since are kept for reuse, dedicated chunks are freed).
 * Restoring to the same checkpoint again, and to an earlier one, is
 * allowed. A checkpoint of another allocator, from before a reset, ahead
 * of the current position, or one that a restore to an earlier position
 * made stale (even once the allocator has moved past it again: blocks
 * allocated since may span its position) gives
 * %NEBULA_ALLOCATOR_ERROR_STALE_MARKER and leaves @self unchanged. Must
 * not race with allocations.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_bump_allocator_restore (NebulaBumpAllocator         *self,
                               const NebulaBumpCheckpoint  *checkpoint,
                               GError                     **error)
{
  gboolean atomic;
  Chunk *target, *chunk;
  gsize current_offset;
  const Rewind *rewind;

  g_return_val_if_fail (NEBULA_IS_BUMP_ALLOCATOR (self), FALSE);
  g_return_val_if_fail (checkpoint != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ensure_ready (self, error))
    return FALSE;

  if (checkpoint->allocator_id != self->id)
    {
      set_stale (self, error, "it belongs to another allocator");
      return FALSE;
    }
  if (checkpoint->generation != self->generation)
    {
      g_autofree char *why = g_strdup_printf ("it was taken before a reset (generation %"
                                              G_GUINT64_FORMAT ", now %" G_GUINT64_FORMAT ")",
                                              checkpoint->generation, self->generation);
      set_stale (self, error, why);
      return FALSE;
    }

  atomic = self->config.thread_safe;
  current_offset = atomic
    ? chunk_used (self->current, TRUE)
    : (gsize) (self->fast.cursor - self->current->data);

  if (position_before (self->current->index, current_offset,
                       checkpoint->chunk_index, checkpoint->offset))
    {
      g_autofree char *why = g_strdup_printf ("it lies ahead of the cursor (chunk %u offset %"
                                              G_GSIZE_FORMAT ", cursor at chunk %u offset %"
                                              G_GSIZE_FORMAT ")",
                                              checkpoint->chunk_index, checkpoint->offset,
                                              self->current->index, current_offset);
      set_stale (self, error, why);
      return FALSE;
    }

  rewind = find_rewind_below (self, checkpoint);
  if (rewind != NULL)
    {
      g_autofree char *why = g_strdup_printf ("the allocator was rewound to before it since it "
                                              "was taken (to chunk %u offset %" G_GSIZE_FORMAT
                                              ", the checkpoint is at chunk %u offset %"
                                              G_GSIZE_FORMAT "), and blocks allocated since "
                                              "may lie across it",
                                              rewind->chunk_index, rewind->offset,
                                              checkpoint->chunk_index, checkpoint->offset);
      set_stale (self, error, why);
      return FALSE;
    }

  /* Dedicated chunks created after the checkpoint go. */
  for (Chunk **link = &self->large; *link != NULL;)
    {
      chunk = *link;
      if (chunk->serial >= checkpoint->dedicated_serial)
        {
          *link = chunk->prev;
          self->reserved -= chunk->size;
          chunk_free (self, chunk);
        }
      else
        link = &chunk->prev;
    }

  /* Newer regular chunks become spares. */
  target = self->current;
  while (target->index > checkpoint->chunk_index)
    {
      chunk = target;
      target = chunk->prev;
      chunk_rewind (self, chunk, 0, chunk_position (self, chunk));
      self->used_before -= chunk_used (target, atomic);
      chunk->prev = self->spare;
      self->spare = chunk;
    }

  chunk_rewind (self, target, checkpoint->offset,
                target == self->current ? current_offset : chunk_used (target, atomic));

  make_current (self, target, checkpoint->offset);
  record_restore (self, checkpoint->chunk_index, checkpoint->offset);
  record_rewind (self, checkpoint);
  return TRUE;
}

/**
 * nebula_bump_allocator_get_n_chunks:
 * @self: a #NebulaBumpAllocator
 *
 * Counts the chunks in use: regular ones and the dedicated ones of large
 * allocations (spares kept for reuse do not count).
 *
 * Returns: the number of chunks
 */
guint
nebula_bump_allocator_get_n_chunks (NebulaBumpAllocator *self)
{
  guint n = 0;

  g_return_val_if_fail (NEBULA_IS_BUMP_ALLOCATOR (self), 0);

  /* Other threads add chunks and free dedicated ones under the lock. */
  if (self->config.thread_safe)
    nebula_mutex_lock (&self->grow_lock);
  for (Chunk *chunk = self->current; chunk != NULL; chunk = chunk->prev)
    n++;
  for (Chunk *chunk = self->large; chunk != NULL; chunk = chunk->prev)
    n++;
  if (self->config.thread_safe)
    nebula_mutex_unlock (&self->grow_lock);

  return n;
}

/**
 * nebula_bump_checkpoint_copy:
 * @checkpoint: a #NebulaBumpCheckpoint
 *
 * Copies @checkpoint.
 *
 * Returns: (transfer full): a copy
 */
NebulaBumpCheckpoint *
nebula_bump_checkpoint_copy (const NebulaBumpCheckpoint *checkpoint)
{
  g_return_val_if_fail (checkpoint != NULL, NULL);

  return g_memdup2 (checkpoint, sizeof *checkpoint);
}

/**
 * nebula_bump_checkpoint_free:
 * @checkpoint: a #NebulaBumpCheckpoint
 *
 * Frees @checkpoint.
 */
void
nebula_bump_checkpoint_free (NebulaBumpCheckpoint *checkpoint)
{
  g_free (checkpoint);
}

/**
 * nebula_bump_checkpoint_get_position:
 * @checkpoint: a #NebulaBumpCheckpoint
 *
 * The offset of the checkpoint in its chunk, for diagnostics.
 *
 * Returns: the offset in bytes
 */
guint64
nebula_bump_checkpoint_get_position (const NebulaBumpCheckpoint *checkpoint)
{
  g_return_val_if_fail (checkpoint != NULL, 0);

  return checkpoint->offset;
}

/**
 * nebula_bump_scope_new: (skip)
 * @bump: a #NebulaBumpAllocator
 *
 * Opens a scope on @bump: nebula_bump_scope_free() restores @bump to the
 * position it has now. Use it with g_autoptr().
 *
 * Returns: (transfer full): the scope
 */
NebulaBumpScope *
nebula_bump_scope_new (NebulaBumpAllocator *bump)
{
  NebulaBumpScope *scope;

  g_return_val_if_fail (NEBULA_IS_BUMP_ALLOCATOR (bump), NULL);

  scope = g_new0 (NebulaBumpScope, 1);
  scope->bump = g_object_ref (bump);
  scope->checkpoint = nebula_bump_allocator_checkpoint (bump);

  return scope;
}

/**
 * nebula_bump_scope_free: (skip)
 * @scope: a #NebulaBumpScope
 *
 * Releases everything allocated in @scope. A scope that can no longer be
 * restored (its allocator was reset meanwhile) is closed with a warning.
 */
void
nebula_bump_scope_free (NebulaBumpScope *scope)
{
  g_autoptr(GError) error = NULL;

  if (scope == NULL)
    return;

  if (!nebula_bump_allocator_restore (scope->bump, scope->checkpoint, &error))
    g_warning ("Closing a bump scope: %s", error->message);

  nebula_bump_checkpoint_free (scope->checkpoint);
  g_object_unref (scope->bump);
  g_free (scope);
}
