/* nebula-bump-allocator-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <string.h>

#include "nebula-allocator-core-private.h"
#include "nebula-allocator-private.h"
#include "nebula-allocator-report-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-bump-allocator.h"
#include "nebula-sanitizer-private.h"

G_BEGIN_DECLS

/* The instance and its chunks, shared by the files of the bump allocator:
 * nebula-bump-allocator.c (the object, properties, allocation, free and
 * resize), nebula-bump-chunk.c (chunks, growth, dedicated chunks, reset),
 * nebula-bump-checkpoint.c (checkpoints, restore, scopes),
 * nebula-bump-report.c (bytes used, the report, the span check) and
 * nebula-bump-thread.c (the threads' slices in thread-safe mode). */

typedef struct _Chunk Chunk;

struct _Chunk
{
  Chunk   *prev;        /* the chunk before this one (older), or NULL */
  guint8  *data;
  gsize    size;
  gsize    used;        /* bytes consumed; atomic in thread-safe mode,
                         * where the threads' slices count wholly */
  guint    index;       /* 0 for the first chunk of the chain */
  guint    dedicated : 1;
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
  /* Right after the fast fields: the default configuration's inline path
   * reaches the plain counters at a fixed offset (_NEBULA_BUMP_STATS()). */
  NebulaStatsCounters    stats;

  Chunk                 *current;       /* newest regular chunk */
  Chunk                 *spare;         /* regular chunks kept for reuse */
  Chunk                 *large;         /* dedicated chunks */
  gsize                  reserved;      /* bytes in all chunks, spares included */
  gsize                  used_before;   /* bytes used in chunks older than current;
                                         * single-threaded mode only */
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

  /* Thread-safe mode (nebula-bump-thread.c): the threads' records
   * (BumpThread, under the process-wide threads lock), the generation of
   * their slices (atomic) and the largest request the direct path
   * serves. */
  GPtrArray             *threads;
  guint                  slice_generation;
  gsize                  direct_max_size;

  /* The DEBUG preset's check of the quiescence rule (thread-safe mode):
   * allocations in progress, plus NEBULA_BUMP_QUIESCING while a reset or
   * restore runs (atomic); quiesce_waiting is set while a reset waits for
   * allocations in progress. */
  gboolean               check_quiescence;
  guint                  busy;
  gint                   quiesce_waiting;

  /* A child arena's tie to its parent (nebula-child.c), or NULL: chunks
   * then come from the parent instead of the system. */
  struct _NebulaChildLink *child_link;
};

typedef struct
{
  guint64 serial;       /* checkpoints with a smaller serial were taken before */
  guint   chunk_index;  /* the position the restore rewound to */
  gsize   offset;
} Rewind;

#define CHUNK_DATA_ALIGNMENT  16
#define NEBULA_BUMP_QUIESCING (1u << 30)

/* nebula-bump-allocator.c: the once-only initialization. */
void              nebula_bump_allocator_init_once      (gpointer              data);

/* nebula-bump-chunk.c */
Chunk            *nebula_bump_chunk_new                (NebulaBumpAllocator  *self,
                                                        gsize                 size,
                                                        GError              **error);
void              nebula_bump_chunk_free               (NebulaBumpAllocator  *self,
                                                        Chunk                *chunk);
void              nebula_bump_chunk_list_free          (NebulaBumpAllocator  *self,
                                                        Chunk                *chunk);
gsize             nebula_bump_chunk_current_available  (NebulaBumpAllocator  *self);
gboolean          nebula_bump_chunk_grow               (NebulaBumpAllocator  *self,
                                                        gsize                 size,
                                                        gsize                 alignment,
                                                        GError              **error);
gpointer          nebula_bump_chunk_allocate_dedicated (NebulaBumpAllocator  *self,
                                                        gsize                 size,
                                                        gsize                 alignment,
                                                        GError              **error);
gboolean          nebula_bump_chunk_free_dedicated     (NebulaBumpAllocator  *self,
                                                        gpointer              ptr);
void              nebula_bump_chunk_rewind             (NebulaBumpAllocator  *self,
                                                        Chunk                *chunk,
                                                        gsize                 keep,
                                                        gsize                 used);
void              nebula_bump_chunk_make_current       (NebulaBumpAllocator  *self,
                                                        Chunk                *chunk,
                                                        gsize                 used);
void              nebula_bump_chunk_reset              (NebulaAllocator      *allocator);

/* nebula-bump-thread.c */
typedef struct _BumpThread BumpThread;

/* A thread's record of its slice of a thread-safe allocator
 * (nebula-bump-thread.c explains the design). Here so that the inline
 * step below can bump in it. */
struct _BumpThread
{
  NebulaBumpAllocator *bump;        /* atomic; NULL once the allocator is finalized */
  guint                generation;  /* the slice generation of the slice */
  Chunk               *chunk;       /* the chunk of the slice, or NULL for none */
  guint8              *base;
  guint8              *cursor;      /* atomic (relaxed): only the owner writes it */
  guint8              *limit;       /* atomic (relaxed): the owner sets it under the
                                     * threads lock, an invalidation voids it (NULL) */
  guint8              *last;        /* the newest block, for the top-block free */
  gboolean             dead;        /* its thread exited: the allocator owns it */

  /* The thread's statistics shard of the allocator
   * (nebula-stats-private.h). */
  NebulaStatsShardCache shard;
};

/* The record the calling thread used last and the id of its allocator
 * (NebulaBumpAllocator.id, never 0 and never reused): an allocator used
 * in a loop finds its own with one comparison of the thread-local id,
 * which a finalized allocator's successor at the same address cannot
 * match. Zero (no record) until the thread's first lookup. */
typedef struct
{
  guint64     id;
  BumpThread *thread;
} BumpLastThread;

extern __thread BumpLastThread nebula_bump_last_thread __attribute__ ((tls_model ("initial-exec")));

gpointer          nebula_bump_thread_allocate          (NebulaBumpAllocator  *self,
                                                        gsize                 size,
                                                        gsize                 alignment,
                                                        GError              **error);
gboolean          nebula_bump_thread_free_top          (NebulaBumpAllocator  *self,
                                                        gpointer              ptr,
                                                        gsize                 size);
gboolean          nebula_bump_thread_resize_top        (NebulaBumpAllocator  *self,
                                                        gpointer              ptr,
                                                        gsize                 old_size,
                                                        gsize                 new_size);
gboolean          nebula_bump_thread_in_tail           (NebulaBumpAllocator  *self,
                                                        gconstpointer         ptr);
gsize             nebula_bump_thread_tails             (NebulaBumpAllocator  *self);
const guint8     *nebula_bump_thread_handed_out_end    (NebulaBumpAllocator  *self,
                                                        gconstpointer         ptr,
                                                        const guint8         *end);
void              nebula_bump_thread_give_back         (NebulaBumpAllocator  *self);
void              nebula_bump_thread_invalidate        (NebulaBumpAllocator  *self);
void              nebula_bump_thread_publish           (NebulaBumpAllocator  *self);
gboolean          nebula_bump_thread_enter             (NebulaBumpAllocator  *self,
                                                        GError              **error);
void              nebula_bump_thread_leave             (NebulaBumpAllocator  *self);
void              nebula_bump_thread_quiesce_begin     (NebulaBumpAllocator  *self,
                                                        const char           *what);
void              nebula_bump_thread_quiesce_end       (NebulaBumpAllocator  *self);
void              nebula_bump_thread_finalize          (NebulaBumpAllocator  *self);

/* nebula-bump-report.c */
gsize             nebula_bump_report_bytes_used        (NebulaBumpAllocator  *self);
gsize             nebula_bump_report_bytes_available   (NebulaBumpAllocator  *self);
void              nebula_bump_report                   (NebulaAllocator      *allocator,
                                                        GVariantDict         *report);
NebulaSpanResult  nebula_bump_report_span              (NebulaAllocator      *allocator,
                                                        guintptr              start,
                                                        gsize                 size,
                                                        NebulaSpanKind        kind,
                                                        gsize                *block_size);

static inline gsize
nebula_bump_chunk_used (const Chunk *chunk,
                        gboolean     atomic)
{
  if (atomic)
    return __atomic_load_n (&chunk->used, __ATOMIC_ACQUIRE);
  return chunk->used;
}

/* Points the single-threaded cursor into @chunk. In thread-safe mode the
 * fast fields stay NULL: allocation goes through the threads' slices
 * (nebula-bump-thread.c), and the inline path (closed by max_fast_size, but it still loads
 * the cursor) reads them without synchronization. Writing them while other
 * threads allocate would be a data race. */
static inline void
nebula_bump_set_fast_cursor (NebulaBumpAllocator *self,
                             Chunk               *chunk,
                             gsize                used)
{
  if (self->config.thread_safe)
    return;

  self->fast.cursor = chunk->data + used;
  self->fast.limit = chunk->data + chunk->size;
  self->fast.base = chunk->data;
}

static inline gboolean
nebula_bump_ensure_ready (NebulaBumpAllocator  *self,
                          GError              **error)
{
  return nebula_allocator_config_ensure (&self->config, self, nebula_bump_allocator_init_once,
                                         error);
}

static inline void
nebula_bump_fill_allocation (NebulaBumpAllocator *self,
                             gpointer             ptr,
                             gsize                size)
{
  if (G_UNLIKELY (self->config.alloc_fill >= 0))
    memset (ptr, self->config.alloc_fill, size);
}

/* Tells the tools that [ptr, ptr + size) of @chunk is handed out (exactly
 * @size bytes: the rounding and the redzone stay poisoned), then fills it. */
static inline void
nebula_bump_hand_out (NebulaBumpAllocator *self,
                      Chunk               *chunk,
                      gpointer             ptr,
                      gsize                size)
{
  NEBULA_MEMPOOL_ALLOC (chunk->data, ptr, size);
  nebula_bump_fill_allocation (self, ptr, size);
}

/* The chunk of the list starting at @chunk that holds @ptr. */
static inline Chunk *
nebula_bump_chunk_find (Chunk         *chunk,
                        gconstpointer  ptr)
{
  for (; chunk != NULL; chunk = chunk->prev)
    if ((const guint8 *) ptr >= chunk->data && (const guint8 *) ptr < chunk->data + chunk->size)
      return chunk;

  return NULL;
}

/* Where the cursor stands in @chunk: the single-threaded cursor lives in
 * the allocator, not the chunk, while the chunk is current. */
static inline gsize
nebula_bump_chunk_position (NebulaBumpAllocator *self,
                            Chunk               *chunk)
{
  if (chunk == self->current && !self->config.thread_safe)
    return self->fast.cursor - chunk->data;

  return nebula_bump_chunk_used (chunk, self->config.thread_safe);
}

/* The bump allocator's own property ids, after the shared ones. */
enum {
  PROP_MAX_CAPACITY = NEBULA_CONFIG_N_PROPS,
  PROP_GROWTH_FACTOR,
  PROP_LARGE_ALLOCATION_THRESHOLD,
  PROP_RESET_POLICY,
  PROP_MIN_ALLOC_SIZE,
  PROP_PARENT,
  N_PROPS
};

/* Shared by the files of the bump allocator. */

/* @size rounded up to min-alloc-size. Not from fast.min_alloc_mask: in
 * thread-safe mode the initialization leaves the fast fields alone (see
 * nebula_bump_allocator_init_once()). */
static inline gsize
round_size (NebulaBumpAllocator *self,
            gsize                size)
{
  gsize mask = (gsize) self->min_alloc_size - 1;

  return (size + mask) & ~mask;
}

static inline const char *
bump_label (void)
{
  return "Bump allocator";
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

/* The inline per-thread steps of a thread-safe allocator: the calling
 * thread's record (the last one it used), its slice, the statistics in
 * its shard. They serve the direct path (nebula-bump-thread.c), and a
 * caller must have reached the allocator through it (the published
 * direct path orders the initialization before the step's reads):
 * FALSE (nothing done) sends the request on, to the exported path,
 * which takes a new slice, finds the record of another allocator, or
 * handles the layout. The step serves only a thread-safe allocator whose
 * direct path is published (no fills, memory tools or DEBUG check:
 * nebula_bump_thread_publish()), because direct_max_size is 0 in every
 * other, and only a thread that has a record for it. */

/* The statistics of one allocation (@allocated bytes) or one free
 * (@freed bytes) by the calling thread, which owns @thread. */
G_ALWAYS_INLINE static inline void
nebula_bump_thread_count (NebulaBumpAllocator *self,
                          BumpThread          *thread,
                          gsize                allocated,
                          gsize                freed)
{
  nebula_stats_shard_cache_record (&self->stats, &thread->shard, allocated, freed);
}

/* The calling thread's record for @self if it is the last one it used,
 * else %NULL. When the allocator's counters are enabled, a record found
 * here keeps the shard of the thread's current statistics slot: the pair
 * nebula_bump_last_thread is set only then (thread_lookup() fills the
 * record's shard first, and leaves the pair clear for a thread beyond the
 * last slot), and it is cleared when the thread gives its slot back
 * (nebula_stats_add_slot_release_notify()), so that the inline step
 * counts into the shard without comparing slots. */
static inline BumpThread *
nebula_bump_thread_last (NebulaBumpAllocator *self)
{
  if (G_UNLIKELY (nebula_bump_last_thread.id != self->id))
    return NULL;
  return nebula_bump_last_thread.thread;
}

/* The inline step in the calling thread's slice: the block's start in
 * *@start_out and the thread's record returned, or %NULL (nothing done).
 * With @counted (a constant: the allocator's counters are enabled, which
 * its initialization decides for good), the statistics too, into the
 * shard the record keeps (the thread's slot's: see
 * nebula_bump_thread_last()); without, none. @unit (a
 * constant): min-alloc-size is 1, so sizes need no rounding.
 * direct_max_size is read before the record is found (the compiler then
 * keeps the arguments where a tail call to the declined path wants
 * them): a caller reached the step through the direct path, which the
 * initialization publishes (a release store, the dispatch's acquire
 * load) after it wrote direct_max_size. A slice of an earlier generation
 * has no limit (NULL: end is at least 1), which
 * nebula_bump_thread_invalidate() stores, so the limit test alone stands
 * for the generation's. */
G_ALWAYS_INLINE static inline BumpThread *
nebula_bump_thread_try_bump (NebulaBumpAllocator *self,
                             gsize                size,
                             gsize                alignment,
                             gboolean             counted,
                             gboolean             unit,
                             guintptr            *start_out)
{
  BumpThread *thread;
  guintptr start, end;

  if (G_UNLIKELY (_nebula_fast_layout_refused (size, alignment, self->direct_max_size) ||
                  nebula_bump_last_thread.id != self->id))
    return NULL;

  thread = nebula_bump_last_thread.thread;

  end = _nebula_bump_span (__atomic_load_n (&thread->cursor, __ATOMIC_RELAXED),
                           unit ? 0 : self->min_alloc_size - 1, size, alignment, &start);
  if (G_UNLIKELY (end > (guintptr) __atomic_load_n (&thread->limit, __ATOMIC_RELAXED)))
    return NULL;

  thread->last = (guint8 *) start;
  __atomic_store_n (&thread->cursor, (guint8 *) end, __ATOMIC_RELAXED);
  /* The layout test refused 0: the statistics' test of which count to
   * add folds away. */
  if (size == 0)
    __builtin_unreachable ();
  if (counted)
    nebula_stats_shard_add_one (thread->shard.shard, size, 0);
  *start_out = start;
  return thread;
}

/* The whole inline step, the statistics included whatever the
 * configuration. */
static inline gboolean
nebula_bump_thread_try_alloc (NebulaBumpAllocator *self,
                              gsize                size,
                              gsize                alignment,
                              gpointer            *out)
{
  guintptr start;
  BumpThread *thread = nebula_bump_thread_try_bump (self, size, alignment, FALSE, FALSE, &start);

  if (G_UNLIKELY (thread == NULL))
    return FALSE;

  nebula_bump_thread_count (self, thread, size, 0);
  *out = (gpointer) start;
  return TRUE;
}

G_END_DECLS
