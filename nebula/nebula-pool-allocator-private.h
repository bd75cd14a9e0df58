/* nebula-pool-allocator-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <string.h>

#include "nebula-allocator-core-private.h"
#include "nebula-allocator-private.h"
#include "nebula-allocator-report-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-cache-lock-private.h"
#include "nebula-child-private.h"
#include "nebula-pool-allocator.h"
#include "nebula-sanitizer-private.h"

#if NEBULA_TSAN
# include <sanitizer/tsan_interface.h>
#endif

G_BEGIN_DECLS

/* The instance and its slabs, shared by the files of the pool:
 * nebula-pool-slab.c, -concurrent.c, -config.c and nebula-pool-allocator.c.
 * The helpers below stay inline, as the allocation and free paths call
 * them. */

/* Slabs grow so that each one holds as many blocks as all earlier ones:
 * 65 slabs cover any 64-bit block count. */
#define MAX_SLABS                65
#define DEFAULT_BLOCK_SIZE       64
#define DEFAULT_BLOCK_ALIGNMENT  16
#define DEFAULT_BLOCK_COUNT      1024
#define POOL_BLOCK_OUT           _NEBULA_POOL_BLOCK_OUT
#define POOL_BLOCK_LISTED        _NEBULA_POOL_BLOCK_LISTED
/* Thread-safe pools number their blocks in 32 bits (see pop_batch_concurrent);
 * index + 1 is stored so that 0 can end the list. */
#define MAX_CONCURRENT_BLOCKS    ((guint64) G_MAXUINT32 - 1)

typedef struct
{
  /* The blocks. A thread-safe pool's trim frees them and keeps the rest of
   * the header (nebula-pool-trim.c), which growth revives: there both are
   * written and read atomically, see slab_data(). */
  guint8  *data;
  guint8  *end;
  gsize    first;       /* pool-wide index of the first block */
  gsize    n_blocks;
  /* Blocks handed out from the never-used tail, so that a new slab is not
   * touched (or paged in) before it is needed. Atomic in thread-safe mode,
   * where failed attempts may push it past n_blocks. */
  gsize    fresh;
  guint32 *links;       /* thread-safe: next free block as index + 1, 0 ends */
  /* With check-frees, a byte per block (a byte, not a bit, so that a
   * thread-safe free marks it with a compare-and-swap that touches no
   * other block's state): POOL_BLOCK_OUT while block i is handed out, else 0;
   * single-threaded, POOL_BLOCK_LISTED while it is on the free list (0
   * then means never handed out since the last reset). Atomic in
   * thread-safe mode. */
  guint8  *states;
  /* Thread-safe with check-frees, a byte per block: 1 while it is on the
   * shared free list (set by a compare-and-swap when it is pushed), so that
   * no block is ever listed twice; they follow @states. */
  guint8  *listed;
} Slab;

/* A free block and its slab, as a thread's magazine and the depot keep
 * them (nebula-pool-magazine.c). */
typedef struct
{
  guint8 *block;
  Slab   *slab;
} PoolEntry;

struct _NebulaPoolAllocator
{
  GObject                parent_instance;
  NebulaAllocatorCore    core;

  /* The single-threaded paths, inline and exported, read and write
   * these; see nebula-pool-allocator.h. */
  NebulaPoolFast         fast;
  /* Right after the fast fields: the default configuration's inline paths
   * reach the plain counters at a fixed offset (_NEBULA_POOL_STATS()). */
  NebulaStatsCounters    stats;
  gsize                  block_size;    /* the stride, after rounding */
  gsize                  block_alignment;
  gboolean               ready;         /* initialized and valid; release-published */
  guint                  block_shift;   /* log2 (block_size), or 0 if not a power of two */
  /* block_size is odd << block_odd_shift: the index of a block start is
   * (offset >> block_odd_shift) * block_odd_inverse (mod 2^64), and that
   * product exceeds block_odd_limit (G_MAXSIZE / odd) exactly when the
   * offset is not a multiple of block_size, so the hot paths divide by
   * none (block_start_index()). */
  guint                  block_odd_shift;
  gsize                  block_odd_inverse;
  gsize                  block_odd_limit;

  /* Thread-safe mode: every operation writes both, so they share a cache
   * line that no read-mostly field shares (the padding keeps the others
   * off it whatever the instance's alignment). */
  struct
  {
    guint8               before[64];
    /* The free list: the low 32 bits are the top block's index + 1, the
     * high 32 bits a tag that changes with every successful update. */
    guint64              head;
    gsize                n_in_use;
    guint8               after[64];
  } shared;

  /* Thread-safe mode: the per-thread caches of free blocks
   * (nebula-pool-magazine.c). */
  guint                  magazine_size;        /* 0: none, every call takes the shared list */
  guint                  magazine_limit;       /* atomic; blocks a magazine may keep (halved by each reclaim) */
  guint                  magazine_quiet;       /* atomic; refills without a reclaim since the limit fell */
  guint                  magazine_resets;      /* atomic; each reset changes it */
  guint                  magazine_slot;        /* its slot in each thread's recent magazines */
  /* Thread-safe with check-frees: log2 of the bytes between two blocks'
   * states, so that a magazine's batch of fresh blocks fills a cache line
   * of states (nebula-pool-magazine-limit.c); 0 otherwise. */
  guint                  state_shift;
  GPtrArray             *magazines;            /* under the process-wide magazine lock */
  /* Spins a while before it sleeps: two threads refilling at once, as
   * on `small-mixed`, put each other to sleep on a GMutex (HACKING.md,
   * "Two threads on one pool: the bimodal rows were the clock"). */
  NebulaCacheLock        depot_lock;
  PoolEntry             *depot;                /* full batches, under depot_lock */
  gsize                  depot_len;
  gsize                  depot_cap;
  /* atomic; threads taking a batch for their magazine, from before they
   * look until the batch is in the magazine (where a reclaim finds it) */
  guint                  magazine_gatherers;

  Slab                  *slabs[MAX_SLABS];
  guint                  n_slabs;       /* release-published in thread-safe mode */
  /* Thread-safe mode: the headers ever made, release-published. Those from
   * n_slabs on are retired (trimmed: no blocks, fresh tail closed) and stay
   * for the threads that may still read them; growth revives them. */
  guint                  n_headers;
  guint                  fresh_slab;    /* the slab whose tail is handed out */
  gsize                  n_blocks;      /* in all slabs */
  gsize                  max_blocks;
  GMutex                 grow_lock;

  NebulaAllocatorConfig  config;

  /* configuration */
  guint64                block_size_property;
  guint64                block_alignment_property;
  guint64                block_count;
  guint64                max_block_count;
  gboolean               check_frees;
  gint                   magazine_size_property;   /* -1: chosen from the size */
  NebulaChildLink       *child_link;    /* a child arena's parent, or NULL */

  /* Set at initialization when ASan or Valgrind watches the process: the
   * fast paths are closed (fast stays FALSE), so that every block handed
   * out and taken back is reported to the tools. */
  gboolean               tools_watching;
};

enum {
  PROP_BLOCK_SIZE = NEBULA_CONFIG_N_PROPS,
  PROP_BLOCK_ALIGNMENT,
  PROP_BLOCK_COUNT,
  PROP_MAX_BLOCK_COUNT,
  PROP_CHECK_FREES,
  PROP_MAGAZINE_SIZE,
  PROP_PARENT,
  N_PROPS
};

/* GMutex is built from atomics in an uninstrumented GLib, so
 * ThreadSanitizer cannot see that it orders the growth of the pool: tell it. */
static inline void
lock_growth (NebulaPoolAllocator *self)
{
  g_mutex_lock (&self->grow_lock);
#if NEBULA_TSAN
  __tsan_acquire (&self->grow_lock);
#endif
}

static inline void
unlock_growth (NebulaPoolAllocator *self)
{
#if NEBULA_TSAN
  __tsan_release (&self->grow_lock);
#endif
  g_mutex_unlock (&self->grow_lock);
}

static inline gsize
atomic_load_size (gsize *field)
{
  return __atomic_load_n (field, __ATOMIC_ACQUIRE);
}

static inline guint
n_slabs_of (NebulaPoolAllocator *self)
{
  if (self->config.thread_safe)
    return __atomic_load_n (&self->n_slabs, __ATOMIC_ACQUIRE);
  return self->n_slabs;
}

/* A slab's blocks. In a thread-safe pool, a thread that read n_slabs just
 * before a trim may still look at a retired header, and growth may revive
 * it meanwhile: these relaxed atomic loads (plain loads in the machine
 * code) keep that defined. A retired header has no blocks (NULL, NULL), so
 * no pointer matches it. */
static inline guint8 *
slab_data (const Slab *slab)
{
  return __atomic_load_n (&slab->data, __ATOMIC_RELAXED);
}

static inline guint8 *
slab_end (const Slab *slab)
{
  return __atomic_load_n (&slab->end, __ATOMIC_RELAXED);
}

/* The slab holding @ptr, or NULL; newest first, as it is the largest.
 * *@data is the start of its blocks as matched: index from it, not from a
 * second load, which a trim retiring the slab could have changed (only
 * when @ptr is no block handed out, but a bad free must not index out of
 * bounds either). */
static inline Slab *
find_slab_at (NebulaPoolAllocator  *self,
              guint                 n_slabs,
              gconstpointer         ptr,
              guint8              **data)
{
  for (guint i = n_slabs; i-- > 0;)
    {
      Slab *slab = self->slabs[i];

      *data = slab_data (slab);
      if ((const guint8 *) ptr >= *data && (const guint8 *) ptr < slab_end (slab))
        return slab;
    }

  return NULL;
}

static inline Slab *
find_slab (NebulaPoolAllocator *self,
           guint                n_slabs,
           gconstpointer        ptr)
{
  guint8 *data;

  return find_slab_at (self, n_slabs, ptr, &data);
}

/* The index of the block holding @ptr in the slab whose blocks start at
 * @data. */
static inline gsize
block_index_at (NebulaPoolAllocator *self,
                const guint8        *data,
                gconstpointer        ptr,
                gboolean            *at_start)
{
  gsize offset = (const guint8 *) ptr - data;

  if (self->block_shift != 0)
    {
      *at_start = (offset & (self->block_size - 1)) == 0;
      return offset >> self->block_shift;
    }

  *at_start = offset % self->block_size == 0;
  return offset / self->block_size;
}

/* The index of the block that starts at @ptr, FALSE if @ptr is not a
 * block start (then *@index is meaningless): no division, see
 * block_odd_inverse. */
static inline gboolean
block_start_index (NebulaPoolAllocator *self,
                   const guint8        *data,
                   gconstpointer        ptr,
                   gsize               *index)
{
  gsize offset = (gsize) ((const guint8 *) ptr - data);

  *index = (offset >> self->block_odd_shift) * self->block_odd_inverse;
  return (offset & (((gsize) 1 << self->block_odd_shift) - 1)) == 0 &&
         *index <= self->block_odd_limit;
}

/* The slab of a thread-safe pool among the first @n_slabs in which @ptr
 * is the start of a block, and that block's index in it (*@local), or
 * NULL: per slab, the offset rotated right by block_odd_shift times the
 * odd part's inverse (_nebula_pool_fast_index() in
 * nebula-allocator-fast.h says why) is below its block count exactly when
 * @ptr is a block start of that slab, so one comparison does the work of
 * the range check and block_start_index(). NULL does not tell why
 * (foreign, inside a block): nebula_pool_locate_block() does. The index
 * is always within the slab's states, even for a header that a trim
 * retired meanwhile (its data read as NULL). */
static inline Slab *
find_block_start (NebulaPoolAllocator *self,
                  guint                n_slabs,
                  gconstpointer        ptr,
                  gsize               *local)
{
  for (guint i = n_slabs; i-- > 0;)
    {
      Slab *slab = self->slabs[i];
      /* As integers: @ptr may lie in no slab at all. */
      gsize index = _nebula_pool_offset_index ((guintptr) ptr - (guintptr) slab_data (slab),
                                               self->block_odd_shift, self->block_odd_inverse);

      if (index < slab->n_blocks)
        {
          *local = index;
          return slab;
        }
    }

  return NULL;
}

static inline gsize
block_index (NebulaPoolAllocator *self,
             Slab                *slab,
             gconstpointer        ptr,
             gboolean            *at_start)
{
  return block_index_at (self, slab_data (slab), ptr, at_start);
}

static inline gsize
fresh_count (NebulaPoolAllocator *self,
             Slab                *slab)
{
  gsize fresh = self->config.thread_safe ? atomic_load_size (&slab->fresh) : slab->fresh;

  return MIN (fresh, slab->n_blocks);
}

gsize     nebula_pool_magazines_in_use         (NebulaPoolAllocator  *self);

static inline gsize
load_n_in_use (NebulaPoolAllocator *self)
{
  if (self->config.thread_safe)
    return nebula_pool_magazines_in_use (self);
  return self->fast.n_in_use;
}

/* The index in its slab of @block, a block start that the caller holds
 * (handed out, or free in its hands): a slab with such a block is neither
 * retired nor revived, so its data is read plainly. */
static inline gsize
entry_index (NebulaPoolAllocator *self,
             Slab                *slab,
             const guint8        *block)
{
  gsize offset = (gsize) (block - slab->data);

  return (offset >> self->block_odd_shift) * self->block_odd_inverse;
}

/* The check-frees state of block @index of @slab. */
static inline guint8 *
block_state (NebulaPoolAllocator *self,
             Slab                *slab,
             gsize                index)
{
  return &slab->states[index << self->state_shift];
}

/* Whether block @index of @slab is handed out (check-frees only). */
static inline gboolean
block_is_out (NebulaPoolAllocator *self,
              Slab                *slab,
              gsize                index)
{
  return __atomic_load_n (block_state (self, slab, index), __ATOMIC_ACQUIRE) == POOL_BLOCK_OUT;
}

static inline gsize
load_n_blocks (NebulaPoolAllocator *self)
{
  if (self->config.thread_safe)
    return atomic_load_size (&self->n_blocks);
  return self->n_blocks;
}

static inline void
fill_block (NebulaPoolAllocator *self,
            gpointer             block,
            gsize                size)
{
  if (G_UNLIKELY (self->config.alloc_fill >= 0))
    memset (block, self->config.alloc_fill, size);
}

/* The free-list link kept in the first bytes of a free block, which the
 * memory tools otherwise keep off limits. */
static inline guint8 *
read_link (guint8 *block)
{
  guint8 *next;

  NEBULA_MEM_OPEN (block, sizeof next);
  memcpy (&next, block, sizeof next);
  NEBULA_MEM_CLOSE (block, sizeof next);
  return next;
}

static inline void
write_link (guint8 *block,
            guint8 *next)
{
  NEBULA_MEM_OPEN (block, sizeof next);
  memcpy (block, &next, sizeof next);
  NEBULA_MEM_CLOSE (block, sizeof next);
}

/* Tells the tools that @block is handed out: all of it, whatever size was
 * asked for, as a pool block is block-size bytes (reallocation within it
 * needs no call). Blocks are contiguous, so there is no redzone: an
 * overflow is reported when it reaches a free block. */
static inline void
tools_hand_out (NebulaPoolAllocator *self,
                guint8              *block)
{
  if (G_UNLIKELY (self->tools_watching))
    {
      Slab *slab = find_slab (self, n_slabs_of (self), block);

      NEBULA_MEMPOOL_ALLOC (slab, block, self->block_size);
    }
}

/* Tells the tools that @block is free: touching it is reported. */
static inline void
tools_take_back (NebulaPoolAllocator *self,
                 guint8              *block)
{
  if (G_UNLIKELY (self->tools_watching))
    {
      Slab *slab = find_slab (self, n_slabs_of (self), block);

      NEBULA_MEMPOOL_FREE (slab, block, self->block_size);
    }
}

/* Single-threaded, with check-frees: marks @block, just taken from the free
 * list, allocated. The link to it was read from user memory, so it must be
 * a free block of the pool; if not, nothing changes. */
static inline gboolean
mark_listed_block (NebulaPoolAllocator *self,
                   guint8              *block)
{
  guint8 *data;
  Slab *slab = find_slab_at (self, self->n_slabs, block, &data);
  gsize index;

  if (G_UNLIKELY (slab == NULL))
    return FALSE;

  if (G_UNLIKELY (!block_start_index (self, data, block, &index) || index >= slab->fresh ||
                  slab->states[index] != POOL_BLOCK_LISTED))
    return FALSE;

  slab->states[index] = POOL_BLOCK_OUT;
  return TRUE;
}

/* Single-threaded, with check-frees: marks the allocated block at @ptr
 * free. Anything else (a foreign pointer, one into a block, a free block)
 * changes nothing; nebula_pool_locate_block() and the states say which it
 * was. */
static inline gboolean
mark_block_free (NebulaPoolAllocator *self,
                 gconstpointer        ptr)
{
  guint8 *data;
  Slab *slab = find_slab_at (self, self->n_slabs, ptr, &data);
  gsize index;

  if (G_UNLIKELY (slab == NULL))
    return FALSE;

  if (G_UNLIKELY (!block_start_index (self, data, ptr, &index) ||
                  slab->states[index] != POOL_BLOCK_OUT))
    return FALSE;

  slab->states[index] = POOL_BLOCK_LISTED;
  return TRUE;
}

/* nebula-pool-config.c: validates the configuration, applies the preset and
 * takes the first slab; run once, by ensure_ready(). */
void      nebula_pool_init_once                (gpointer              data);

/* nebula-pool-slab.c */
Slab     *nebula_pool_slab_new                 (NebulaPoolAllocator  *self,
                                                gsize                 first,
                                                gsize                 n_blocks,
                                                GError              **error);
void      nebula_pool_slab_free                (NebulaPoolAllocator  *self,
                                                Slab                 *slab);
void      nebula_pool_slab_retire              (NebulaPoolAllocator  *self,
                                                Slab                 *slab);
void      nebula_pool_release_slabs            (NebulaPoolAllocator  *self);
void      nebula_pool_set_current_slab         (NebulaPoolAllocator  *self,
                                                Slab                 *slab);
gboolean  nebula_pool_grow                     (NebulaPoolAllocator  *self,
                                                gsize                 size,
                                                GError              **error);
void      nebula_pool_set_corrupted            (NebulaPoolAllocator  *self,
                                                gconstpointer         block,
                                                gsize                 size,
                                                GError              **error);
void      nebula_pool_count_listed_blocks      (NebulaPoolAllocator  *self,
                                                guint                 n_slabs,
                                                gsize                *listed);
gsize     nebula_pool_count_allocated_blocks   (NebulaPoolAllocator  *self,
                                                Slab                 *slab);
void      nebula_pool_report                   (NebulaAllocator      *allocator,
                                                GVariantDict         *report);

/* nebula-pool-concurrent.c: the paths of a thread-safe pool. The shared
 * free list gives and takes single blocks, unmarked and uncounted;
 * _allocate_concurrent() and _deallocate_concurrent() are whole requests
 * on it, for pools without magazines. */
guint     nebula_pool_take_shared              (NebulaPoolAllocator  *self,
                                                gsize                 size,
                                                PoolEntry            *entries,
                                                guint                 max,
                                                GError              **error);
gpointer  nebula_pool_allocate_concurrent      (NebulaPoolAllocator  *self,
                                                gsize                 size,
                                                GError              **error);
gboolean  nebula_pool_deallocate_concurrent    (NebulaPoolAllocator  *self,
                                                gpointer              ptr,
                                                gsize                 size,
                                                GError              **error);
gboolean  nebula_pool_take_fresh_one           (NebulaPoolAllocator  *self,
                                                PoolEntry            *entry);

/* nebula-pool-magazine.c: per-thread caches of free blocks, for a
 * thread-safe pool with a magazine size. */
void      nebula_pool_magazines_init           (NebulaPoolAllocator  *self);
void      nebula_pool_magazines_publish        (NebulaPoolAllocator  *self);
gboolean  nebula_pool_magazines_lean           (NebulaPoolAllocator  *self);
gpointer  nebula_pool_magazine_allocate        (NebulaPoolAllocator  *self,
                                                gsize                 size,
                                                GError              **error);
gboolean  nebula_pool_magazine_deallocate      (NebulaPoolAllocator  *self,
                                                gpointer              ptr,
                                                gsize                 size,
                                                GError              **error);
gpointer  nebula_pool_magazine_take            (NebulaPoolAllocator  *self,
                                                gsize                 size);
void      nebula_pool_magazines_reset          (NebulaPoolAllocator  *self);
void      nebula_pool_magazines_flush          (NebulaPoolAllocator  *self);
void      nebula_pool_magazines_finalize       (NebulaPoolAllocator  *self);
gsize     nebula_pool_magazines_cached_blocks  (NebulaPoolAllocator  *self,
                                                Slab                 *slab);

static inline gboolean
nebula_pool_magazines_enabled (NebulaPoolAllocator *self)
{
  return self->magazine_size != 0;
}

/* nebula-pool-magazine-limit.c: the magazines' size and limit. */
gsize     nebula_pool_magazine_auto_size       (NebulaPoolAllocator  *self);
guint     nebula_pool_magazine_state_shift     (NebulaPoolAllocator  *self);
void      nebula_pool_magazine_limit_lower     (NebulaPoolAllocator  *self);
void      nebula_pool_magazine_limit_recover   (NebulaPoolAllocator  *self);
void      nebula_pool_magazine_limit_restore   (NebulaPoolAllocator  *self);

/* nebula-pool-direct.c: the direct path of a single-threaded pool. */
const NebulaCoreDirect *nebula_pool_single_direct (void);

/* nebula-pool-allocator.c */
void      nebula_pool_set_bad_pointer          (NebulaPoolAllocator  *self,
                                                gint                  code,
                                                gconstpointer         ptr,
                                                gsize                 size,
                                                const char           *why,
                                                GError              **error);
gboolean  nebula_pool_locate_block             (NebulaPoolAllocator  *self,
                                                gconstpointer         ptr,
                                                gsize                 size,
                                                Slab                **slab_out,
                                                gsize                *index_out,
                                                GError              **error);
/* How nebula_pool_report_double_free() ends the message of a block the
 * pool has not handed out (the multi-pool recognises it: the size given
 * was right for the class). */
#define NEBULA_POOL_NOT_HANDED_OUT "has not handed out since it was created or last reset"

gboolean  nebula_pool_report_double_free       (NebulaPoolAllocator  *self,
                                                gconstpointer         ptr,
                                                gsize                 size,
                                                GError              **error);

G_END_DECLS
