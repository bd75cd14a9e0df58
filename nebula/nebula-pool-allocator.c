/* nebula-pool-allocator.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nebula-allocator-core-private.h"
#include "nebula-enums.h"
#include "nebula-pool-allocator.h"
#include "nebula-sanitizer-private.h"

#if NEBULA_TSAN
# include <sanitizer/tsan_interface.h>
#endif

/**
 * NebulaPoolAllocator:
 *
 * An allocator of fixed-size blocks: allocation and deallocation are O(1)
 * pops and pushes on a free list kept inside the free blocks themselves.
 *
 * Every block is [property@PoolAllocator:block-size] bytes (rounded up to a
 * multiple of [property@PoolAllocator:block-alignment]) and aligned to
 * block-alignment. A request for more bytes or a stricter alignment fails
 * with %NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, whose suggestion names the
 * block size that would serve it; a pool with every block in use fails with
 * %NEBULA_ALLOCATOR_ERROR_EXHAUSTED (retryable). [method@Allocator.reallocate]
 * succeeds in place while the new size fits the block, and
 * [method@Allocator.reset] gives every block back at once (keeping the
 * memory).
 *
 * The pool starts with one slab of [property@PoolAllocator:block-count]
 * blocks. With [property@PoolAllocator:max-block-count] above block-count it
 * grows by whole slabs, each as large as all the previous ones together
 * (the last one smaller if max-block-count says so), and never gives them
 * back before it is finalized.
 *
 * With [property@PoolAllocator:check-frees] (the default) the pool keeps one
 * bit per block that says whether it is allocated, so freeing a pointer that
 * is not the start of one of its blocks gives
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER and freeing a block twice gives
 * %NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE; in both cases nothing changes. The
 * bits are also checked against the free list, so a write into a freed
 * block that damages the list is reported as
 * %NEBULA_ALLOCATOR_ERROR_CORRUPTION and repaired instead of handing out
 * memory the pool does not own. Without check-frees, a bad free is undefined
 * behaviour, and [method@Allocator.owns] only knows whether a block was
 * handed out since the last reset.
 *
 * With [property@PoolAllocator:thread-safe], any number of threads may
 * allocate and free at once without a lock; only growth takes one. Reset
 * must still not race with other calls.
 */

/* Slabs grow so that each one holds as many blocks as all earlier ones:
 * 65 slabs cover any 64-bit block count. */
#define MAX_SLABS                65
#define DEFAULT_BLOCK_SIZE       64
#define DEFAULT_BLOCK_ALIGNMENT  16
#define DEFAULT_BLOCK_COUNT      1024
#define BITS_PER_WORD            (8 * GLIB_SIZEOF_SIZE_T)
/* Thread-safe pools number their blocks in 32 bits (see pop_concurrent);
 * index + 1 is stored so that 0 can end the list. */
#define MAX_CONCURRENT_BLOCKS    ((guint64) G_MAXUINT32 - 1)

typedef struct
{
  guint8  *data;
  guint8  *end;
  gsize    first;       /* pool-wide index of the first block */
  gsize    n_blocks;
  /* Blocks handed out from the never-used tail, so that a new slab is not
   * touched (or paged in) before it is needed. Atomic in thread-safe mode,
   * where failed attempts may push it past n_blocks. */
  gsize    fresh;
  gsize   *allocated;   /* with check-frees: bit i set while block i is out */
  guint32 *links;       /* thread-safe: next free block as index + 1, 0 ends */
} Slab;

struct _NebulaPoolAllocator
{
  GObject                parent_instance;
  NebulaAllocatorCore    core;

  /* The single-threaded paths, inline and exported, read and write
   * these; see nebula-pool-allocator.h. */
  NebulaPoolFast         fast;
  gsize                  block_size;    /* the stride, after rounding */
  gsize                  block_alignment;
  gboolean               ready;         /* initialized and valid; release-published */
  guint                  block_shift;   /* log2 (block_size), or 0 if not a power of two */

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

  Slab                  *slabs[MAX_SLABS];
  guint                  n_slabs;       /* release-published in thread-safe mode */
  guint                  fresh_slab;    /* the slab whose tail is handed out */
  gsize                  n_blocks;      /* in all slabs */
  gsize                  max_blocks;
  GMutex                 grow_lock;

  NebulaStatsCounters    stats;
  NebulaAllocatorConfig  config;

  /* configuration */
  guint64                block_size_property;
  guint64                block_alignment_property;
  guint64                block_count;
  guint64                max_block_count;
  gboolean               check_frees;

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
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void allocator_iface_init (NebulaAllocatorInterface *iface);
static void initable_iface_init  (GInitableIface           *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NebulaPoolAllocator, nebula_pool_allocator, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (NEBULA_TYPE_ALLOCATOR, allocator_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init))

/* The public header finds the fast fields right after the core. */
NEBULA_ASSERT_CORE_LAYOUT (NebulaPoolAllocator);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, free_head, 0);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, max_fast_size, 1);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, alignment_mask, 2);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, base, 3);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, allocated, 4);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, fresh, 5);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, fresh_limit, 6);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, n_in_use, 7);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, block_shift, 8);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, stats, 9);
G_STATIC_ASSERT (sizeof (NebulaPoolFast) == 10 * sizeof (gpointer));

static inline const char *
pool_label (void)
{
  return "Pool allocator";
}

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

static inline gboolean
is_power_of_two (guint64 value)
{
  return value != 0 && (value & (value - 1)) == 0;
}

/* Every slab comes from here and goes in slab_free(): the budget, if any,
 * is charged for the blocks (not the bookkeeping) before they are taken
 * from the system. A refusal changes nothing. */
static Slab *
slab_new (NebulaPoolAllocator  *self,
          gsize                 first,
          gsize                 n_blocks,
          GError              **error)
{
  gsize n_words = self->check_frees ? (n_blocks + BITS_PER_WORD - 1) / BITS_PER_WORD : 0;
  gsize n_links = self->config.thread_safe ? n_blocks : 0;
  gsize bytes = n_blocks * self->block_size;   /* checked at init */
  gpointer data = NULL;
  Slab *slab;
  int res;

  if (!nebula_allocator_config_charge (&self->config, bytes, error))
    return NULL;

  slab = g_try_malloc0 (sizeof (Slab) + n_words * sizeof (gsize) + n_links * sizeof (guint32));
  if (slab != NULL)
    {
      res = posix_memalign (&data, MAX (self->block_alignment, sizeof (gpointer)), bytes);
      if (res != 0)
        g_clear_pointer (&slab, g_free);
    }

  if (slab == NULL)
    {
      g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
      NebulaErrorInfo info = { .requested = bytes, .what = what };

      nebula_allocator_config_uncharge (&self->config, bytes);
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY, &info,
                        "%s: the system refused a slab of %" G_GSIZE_FORMAT " blocks (%"
                        G_GSIZE_FORMAT " bytes)",
                        what, n_blocks, bytes);
      return NULL;
    }

  slab->data = data;
  slab->end = slab->data + bytes;
  slab->first = first;
  slab->n_blocks = n_blocks;
  slab->allocated = n_words > 0 ? (gsize *) (slab + 1) : NULL;
  slab->links = n_links > 0 ? (guint32 *) ((gsize *) (slab + 1) + n_words) : NULL;

  /* No block is handed out yet: the whole slab is off limits for the
   * memory tools. */
  NEBULA_MEMPOOL_CREATE (slab->data, slab->data, bytes);

  return slab;
}

static void
slab_free (NebulaPoolAllocator *self,
           Slab                *slab)
{
  nebula_allocator_config_uncharge (&self->config, slab->n_blocks * self->block_size);
  NEBULA_MEMPOOL_DESTROY (slab->data, slab->data, slab->n_blocks * self->block_size);
  free (slab->data);
  g_free (slab);
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

/* The slab holding @ptr, or NULL; newest first, as it is the largest. */
static inline Slab *
find_slab (NebulaPoolAllocator *self,
           guint                n_slabs,
           gconstpointer        ptr)
{
  for (guint i = n_slabs; i-- > 0;)
    {
      Slab *slab = self->slabs[i];

      if ((const guint8 *) ptr >= slab->data && (const guint8 *) ptr < slab->end)
        return slab;
    }

  return NULL;
}

static inline gsize
block_index (NebulaPoolAllocator *self,
             Slab                *slab,
             gconstpointer        ptr,
             gboolean            *at_start)
{
  gsize offset = (const guint8 *) ptr - slab->data;

  if (self->block_shift != 0)
    {
      *at_start = (offset & (self->block_size - 1)) == 0;
      return offset >> self->block_shift;
    }

  *at_start = offset % self->block_size == 0;
  return offset / self->block_size;
}

static inline gboolean
bit_is_set (const gsize *words,
            gsize        index,
            gboolean     atomic)
{
  gsize word = atomic
    ? __atomic_load_n (&words[index / BITS_PER_WORD], __ATOMIC_ACQUIRE)
    : words[index / BITS_PER_WORD];

  return (word & ((gsize) 1 << (index % BITS_PER_WORD))) != 0;
}

static inline gsize
fresh_count (NebulaPoolAllocator *self,
             Slab                *slab)
{
  gsize fresh = self->config.thread_safe ? atomic_load_size (&slab->fresh) : slab->fresh;

  return MIN (fresh, slab->n_blocks);
}

static inline gsize
load_n_in_use (NebulaPoolAllocator *self)
{
  if (self->config.thread_safe)
    return atomic_load_size (&self->shared.n_in_use);
  return self->fast.n_in_use;
}

static inline gsize
load_n_blocks (NebulaPoolAllocator *self)
{
  if (self->config.thread_safe)
    return atomic_load_size (&self->n_blocks);
  return self->n_blocks;
}

/* Points the inline paths at @slab, whose never-used tail is handed out
 * next. Single-threaded mode only. */
static void
set_current_slab (NebulaPoolAllocator *self,
                  Slab                *slab)
{
  self->fast.base = slab->data;
  self->fast.allocated = slab->allocated;
  self->fast.fresh = &slab->fresh;
  self->fast.fresh_limit = slab->n_blocks;
}

static void
pool_init_once (gpointer data)
{
  NebulaPoolAllocator *self = data;
  NebulaAllocatorConfig *config = &self->config;
  guint64 total, stride;
  Slab *slab;

  nebula_allocator_config_validate (config, pool_label ());

  switch (config->preset)
    {
    case NEBULA_PRESET_PERFORMANCE:
      if (!nebula_allocator_config_is_explicit (config, PROP_CHECK_FREES))
        self->check_frees = FALSE;
      break;
    case NEBULA_PRESET_PRODUCTION:
      /* Dropped again below if the pool would not fit in memory: a preset
       * must not turn a valid configuration into an invalid one. */
      self->max_block_count = nebula_allocator_config_production_limit (config,
                                                                        PROP_MAX_BLOCK_COUNT,
                                                                        self->block_count,
                                                                        self->max_block_count);
      if (config->thread_safe &&
          !nebula_allocator_config_is_explicit (config, PROP_MAX_BLOCK_COUNT))
        self->max_block_count = MIN (self->max_block_count,
                                     MAX (MAX_CONCURRENT_BLOCKS, self->block_count));
      break;
    case NEBULA_PRESET_DEFAULT:
    case NEBULA_PRESET_DEBUG:
    default:
      break;
    }

  if (self->block_size_property < sizeof (gpointer))
    nebula_allocator_config_set_invalid (config, pool_label (), "block-size",
                                         "must be at least %u bytes (a free block holds a "
                                         "pointer), not %" G_GUINT64_FORMAT,
                                         (guint) sizeof (gpointer), self->block_size_property);
  else if (self->block_size_property > NEBULA_MAX_ALLOCATION_SIZE)
    nebula_allocator_config_set_invalid (config, pool_label (), "block-size",
                                         "must be at most %" G_GSIZE_FORMAT " bytes, not %"
                                         G_GUINT64_FORMAT,
                                         NEBULA_MAX_ALLOCATION_SIZE, self->block_size_property);

  if (!is_power_of_two (self->block_alignment_property))
    nebula_allocator_config_set_invalid (config, pool_label (), "block-alignment",
                                         "must be a power of two, not %" G_GUINT64_FORMAT,
                                         self->block_alignment_property);
  else if (self->block_alignment_property > NEBULA_MAX_ALLOCATION_SIZE)
    nebula_allocator_config_set_invalid (config, pool_label (), "block-alignment",
                                         "must be at most %" G_GSIZE_FORMAT ", not %"
                                         G_GUINT64_FORMAT,
                                         NEBULA_MAX_ALLOCATION_SIZE, self->block_alignment_property);

  if (self->block_count == 0)
    nebula_allocator_config_set_invalid (config, pool_label (), "block-count",
                                         "must be greater than 0");
  else if (config->thread_safe && self->block_count > MAX_CONCURRENT_BLOCKS)
    nebula_allocator_config_set_invalid (config, pool_label (), "block-count",
                                         "must be at most %" G_GUINT64_FORMAT " in a "
                                         "thread-safe pool, not %" G_GUINT64_FORMAT,
                                         MAX_CONCURRENT_BLOCKS, self->block_count);

  if (self->max_block_count != 0 && self->max_block_count < self->block_count)
    nebula_allocator_config_set_invalid (config, pool_label (), "max-block-count",
                                         "must be 0 (no growth) or at least 'block-count' (%"
                                         G_GUINT64_FORMAT "), not %" G_GUINT64_FORMAT,
                                         self->block_count, self->max_block_count);
  else if (config->thread_safe && self->max_block_count > MAX_CONCURRENT_BLOCKS)
    nebula_allocator_config_set_invalid (config, pool_label (), "max-block-count",
                                         "must be at most %" G_GUINT64_FORMAT " in a "
                                         "thread-safe pool, not %" G_GUINT64_FORMAT,
                                         MAX_CONCURRENT_BLOCKS, self->max_block_count);

  if (config->init_error != NULL)
    return;

  /* Sizes that cannot be represented are SIZE_OVERFLOW rather than
   * INVALID_CONFIG: each value is valid on its own, their product is not. */
  stride = ((self->block_size_property + self->block_alignment_property - 1) /
            self->block_alignment_property) * self->block_alignment_property;
  if (!nebula_allocator_config_is_explicit (config, PROP_MAX_BLOCK_COUNT) &&
      stride <= NEBULA_MAX_ALLOCATION_SIZE &&
      self->max_block_count > NEBULA_MAX_ALLOCATION_SIZE / stride)
    self->max_block_count = 0;
  total = MAX (self->block_count, self->max_block_count);
  if (stride > NEBULA_MAX_ALLOCATION_SIZE || total > NEBULA_MAX_ALLOCATION_SIZE / stride)
    {
      g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
      NebulaErrorInfo info = {
        .requested = stride,
        .capacity = total,
        .what = what,
        .suggestion = "Lower 'block-size', 'block-count' or 'max-block-count' so that the "
                      "pool fits in memory.",
      };

      nebula_set_error (&config->init_error, NEBULA_ALLOCATOR_ERROR,
                        NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW, &info,
                        "%s: 'block-size' x '%s' overflows: %" G_GUINT64_FORMAT " blocks of %"
                        G_GUINT64_FORMAT " bytes (block-size %" G_GUINT64_FORMAT
                        " rounded up to block-alignment %" G_GUINT64_FORMAT ") exceed %"
                        G_GSIZE_FORMAT " bytes",
                        what, self->max_block_count > self->block_count ? "max-block-count"
                                                                        : "block-count",
                        total, stride, self->block_size_property,
                        self->block_alignment_property, NEBULA_MAX_ALLOCATION_SIZE);
      return;
    }

  self->block_size = stride;
  self->block_size_property = stride;
  self->block_alignment = self->block_alignment_property;
  self->block_shift = is_power_of_two (stride) ? (guint) g_bit_nth_lsf (stride, -1) : 0;
  self->max_blocks = total;
  if (self->max_block_count == 0)
    self->max_block_count = self->block_count;

  nebula_stats_counters_init (&self->stats, config->track_stats, config->thread_safe);

  slab = slab_new (self, 0, self->block_count, &config->init_error);
  if (slab == NULL)
    return;

  self->slabs[0] = slab;
  self->n_slabs = 1;
  self->n_blocks = slab->n_blocks;
  /* The fast fields are written only in single-threaded mode: a
   * thread-safe pool that a binding never initialized may meet its first
   * calls from several threads at once, whose paths read max_fast_size
   * (always 0 there). */
  self->tools_watching = nebula_memory_tools_watching ();
  if (!config->thread_safe)
    {
      set_current_slab (self, slab);
      self->fast.alignment_mask = ~(self->block_alignment - 1);
      self->fast.block_shift = self->block_shift;
      self->fast.stats = config->track_stats ? &self->stats.plain : NULL;
      /* The inline check of a free needs the block index as a shift. Any
       * mode that needs the slow path (fills, and memory tools watching, whose
       * poisoning lives in the slow path) leaves max_fast_size 0, which
       * closes the inline paths with the test they make anyway. */
      if (config->alloc_fill < 0 && config->free_fill < 0 && !self->tools_watching &&
          (!self->check_frees || self->block_shift != 0))
        self->fast.max_fast_size = self->block_size;
    }
  __atomic_store_n (&self->ready, TRUE, __ATOMIC_RELEASE);
}

static inline gboolean
ensure_ready (NebulaPoolAllocator  *self,
              GError              **error)
{
  /* Saves the out-of-line g_once check on every slow-path call. */
  if (G_LIKELY (__atomic_load_n (&self->ready, __ATOMIC_ACQUIRE)))
    return TRUE;

  /* The second load pairs with the store that ends a successful init, so
   * ThreadSanitizer sees the ordering that g_once (built from atomics in an
   * uninstrumented GLib) provides. */
  return nebula_allocator_config_ensure (&self->config, self, pool_init_once, error) &&
         __atomic_load_n (&self->ready, __ATOMIC_ACQUIRE);
}

static void
set_exhausted (NebulaPoolAllocator  *self,
               gsize                 size,
               GError              **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  gsize n_blocks = load_n_blocks (self);
  gsize n_free = n_blocks - MIN (load_n_in_use (self), n_blocks);
  NebulaErrorInfo info = {
    .requested = size,
    .available = n_free * self->block_size,
    .capacity = self->max_blocks * self->block_size,
    .what = what,
    .suggestion = "Free blocks or reset the pool, or raise block-count or max-block-count "
                  "to give it more blocks.",
  };

  if (self->max_blocks > self->block_count)
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                      " of %" G_GSIZE_FORMAT " blocks free, grown to max-block-count",
                      what, size, n_free, n_blocks);
  else
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                      " of %" G_GSIZE_FORMAT " blocks free",
                      what, size, n_free, n_blocks);
}

static void
set_invalid_layout (NebulaPoolAllocator  *self,
                    const char           *operation,
                    gsize                 size,
                    gsize                 alignment,
                    GError              **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  g_autofree char *suggestion = NULL;
  gsize wanted_alignment = MAX (alignment, self->block_alignment);
  gsize wanted_size;
  NebulaErrorInfo info = {
    .requested = size,
    .capacity = self->block_size,
    .what = what,
  };

  /* Layouts are validated, so this rounding cannot overflow. */
  wanted_size = (size + wanted_alignment - 1) & ~(wanted_alignment - 1);
  if (wanted_alignment > self->block_alignment)
    suggestion = g_strdup_printf ("Use a pool with a block-size of at least %" G_GSIZE_FORMAT
                                  " and a block-alignment of %" G_GSIZE_FORMAT ", or another "
                                  "allocator for this layout.",
                                  wanted_size, wanted_alignment);
  else
    suggestion = g_strdup_printf ("Use a pool with a block-size of at least %" G_GSIZE_FORMAT
                                  ", or another allocator for this size.",
                                  wanted_size);
  info.suggestion = suggestion;

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, &info,
                    "%s serves blocks of %" G_GSIZE_FORMAT " bytes aligned to %" G_GSIZE_FORMAT
                    ": cannot %s %" G_GSIZE_FORMAT " bytes aligned to %" G_GSIZE_FORMAT
                    " (use a block-size of at least %" G_GSIZE_FORMAT ")",
                    what, self->block_size, self->block_alignment, operation, size, alignment,
                    wanted_size);
}

static void
set_bad_pointer (NebulaPoolAllocator  *self,
                 gint                  code,
                 gconstpointer         ptr,
                 gsize                 size,
                 const char           *why,
                 GError              **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, code, &info,
                    "%s: %p (size %" G_GSIZE_FORMAT ") %s", what, ptr, size, why);
}

/* Adds a slab as large as all the others together, or what is left up to
 * max-block-count. Single-threaded, or with the grow lock held. */
static gboolean
grow (NebulaPoolAllocator  *self,
      gsize                 size,
      GError              **error)
{
  gsize room = self->max_blocks - self->n_blocks;
  Slab *slab;

  if (room == 0)
    {
      set_exhausted (self, size, error);
      return FALSE;
    }

  g_assert (self->n_slabs < MAX_SLABS);

  slab = slab_new (self, self->n_blocks, MIN (self->n_blocks, room), error);
  if (slab == NULL)
    return FALSE;

  self->slabs[self->n_slabs] = slab;
  if (self->config.thread_safe)
    {
      __atomic_store_n (&self->n_blocks, self->n_blocks + slab->n_blocks, __ATOMIC_RELEASE);
      __atomic_store_n (&self->n_slabs, self->n_slabs + 1, __ATOMIC_RELEASE);
    }
  else
    {
      self->n_blocks += slab->n_blocks;
      self->n_slabs++;
    }

  return TRUE;
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

      NEBULA_MEMPOOL_ALLOC (slab->data, block, self->block_size);
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

      NEBULA_MEMPOOL_FREE (slab->data, block, self->block_size);
    }
}

/* The free list was damaged (a freed block written to): rebuild it from the
 * allocation bits, which live outside the blocks. */
static void
rebuild_free_list (NebulaPoolAllocator *self)
{
  self->fast.free_head = NULL;

  for (guint i = self->n_slabs; i-- > 0;)
    {
      Slab *slab = self->slabs[i];

      for (gsize j = slab->fresh; j-- > 0;)
        {
          if (!bit_is_set (slab->allocated, j, FALSE))
            {
              guint8 *block = slab->data + j * self->block_size;

              write_link (block, self->fast.free_head);
              self->fast.free_head = block;
            }
        }
    }
}

/* Single-threaded, with check-frees: marks @block, just taken from the free
 * list, allocated. The link to it was read from user memory, so it must be
 * a free block of the pool; if not, nothing changes. */
static inline gboolean
mark_listed_block (NebulaPoolAllocator *self,
                   guint8              *block)
{
  Slab *slab = find_slab (self, self->n_slabs, block);
  gboolean at_start;
  gsize index, mask;

  if (G_UNLIKELY (slab == NULL))
    return FALSE;

  index = block_index (self, slab, block, &at_start);
  mask = (gsize) 1 << (index % BITS_PER_WORD);
  if (G_UNLIKELY (!at_start || index >= slab->fresh ||
                  (slab->allocated[index / BITS_PER_WORD] & mask) != 0))
    return FALSE;

  slab->allocated[index / BITS_PER_WORD] |= mask;
  return TRUE;
}

/* Single-threaded, with check-frees: marks the allocated block at @ptr
 * free. Anything else (a foreign pointer, one into a block, a free block)
 * changes nothing; locate_block() and the bits say which it was. */
static inline gboolean
mark_block_free (NebulaPoolAllocator *self,
                 gconstpointer        ptr)
{
  Slab *slab = find_slab (self, self->n_slabs, ptr);
  gboolean at_start;
  gsize index, mask;

  if (G_UNLIKELY (slab == NULL))
    return FALSE;

  index = block_index (self, slab, ptr, &at_start);
  mask = (gsize) 1 << (index % BITS_PER_WORD);
  if (G_UNLIKELY (!at_start || (slab->allocated[index / BITS_PER_WORD] & mask) == 0))
    return FALSE;

  slab->allocated[index / BITS_PER_WORD] &= ~mask;
  return TRUE;
}

static void
set_corrupted (NebulaPoolAllocator  *self,
               gconstpointer         block,
               gsize                 size,
               GError              **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };

  rebuild_free_list (self);
  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_CORRUPTION, &info,
                    "%s: the free list led to %p, which is not a free block (was a block "
                    "written to after it was freed?); the free list was rebuilt, %"
                    G_GSIZE_FORMAT " blocks in use",
                    what, block, self->fast.n_in_use);
}

static guint8 *
take_fresh (NebulaPoolAllocator *self)
{
  while (self->fresh_slab < self->n_slabs)
    {
      Slab *slab = self->slabs[self->fresh_slab];

      if (slab->fresh < slab->n_blocks)
        {
          gsize index = slab->fresh++;

          if (self->fast.fresh != &slab->fresh)
            set_current_slab (self, slab);
          if (self->check_frees)
            slab->allocated[index / BITS_PER_WORD] |= (gsize) 1 << (index % BITS_PER_WORD);
          return slab->data + index * self->block_size;
        }

      self->fresh_slab++;
    }

  return NULL;
}

static gpointer
allocate_single (NebulaPoolAllocator  *self,
                 gsize                 size,
                 GError              **error)
{
  guint8 *block;

  for (;;)
    {
      block = self->fast.free_head;
      if (block != NULL)
        {
          if (self->check_frees && !mark_listed_block (self, block))
            {
              set_corrupted (self, block, size, error);
              return NULL;
            }
          self->fast.free_head = read_link (block);
          break;
        }

      block = take_fresh (self);
      if (block != NULL)
        break;

      if (!grow (self, size, error))
        return NULL;
    }

  self->fast.n_in_use++;
  tools_hand_out (self, block);
  fill_block (self, block, size);
  return block;
}

/* Thread-safe free list.
 *
 * A Treiber stack whose head packs the top block's index with a 32-bit tag
 * into one 64-bit word, so that a plain 64-bit CAS updates both. The tag
 * changes with every successful push or pop: a thread that read the head
 * as (tag t, block A) with A's successor B cannot install B after other
 * threads popped A and pushed it back, because the head then carries
 * another tag (the ABA problem). A wrong match would need exactly 2^32
 * updates between one thread's load and its CAS.
 *
 * The links live in a per-slab array of 32-bit indices rather than in the
 * blocks: a popping thread may read the link of a block that another thread
 * has just taken and is writing into. That read is discarded (the CAS
 * fails), but on user memory it would still be a data race in the C memory
 * model and a report under ThreadSanitizer; on the side array both sides
 * are atomic. Slabs are never freed before finalize, so a stale index
 * always points at readable memory. */

static inline Slab *
slab_of_index (NebulaPoolAllocator *self,
               gsize                index)
{
  guint i = __atomic_load_n (&self->n_slabs, __ATOMIC_ACQUIRE);

  while (--i > 0 && self->slabs[i]->first > index)
    ;
  return self->slabs[i];
}

static gboolean
pop_concurrent (NebulaPoolAllocator  *self,
                Slab                **slab_out,
                gsize                *local_out)
{
  guint64 head = __atomic_load_n (&self->shared.head, __ATOMIC_ACQUIRE);

  for (;;)
    {
      guint32 top = (guint32) head;
      guint64 next_head;
      Slab *slab;
      gsize local;

      if (top == 0)
        return FALSE;

      slab = slab_of_index (self, top - 1);
      local = top - 1 - slab->first;
      next_head = ((head >> 32) + 1) << 32 |
                  __atomic_load_n (&slab->links[local], __ATOMIC_RELAXED);

      if (__atomic_compare_exchange_n (&self->shared.head, &head, next_head, TRUE,
                                       __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
        {
          *slab_out = slab;
          *local_out = local;
          return TRUE;
        }
    }
}

static void
push_concurrent (NebulaPoolAllocator *self,
                 Slab                *slab,
                 gsize                local)
{
  guint64 top = slab->first + local + 1;
  guint64 head = __atomic_load_n (&self->shared.head, __ATOMIC_RELAXED);
  guint64 new_head;

  do
    {
      __atomic_store_n (&slab->links[local], (guint32) head, __ATOMIC_RELAXED);
      new_head = ((head >> 32) + 1) << 32 | top;
    }
  while (!__atomic_compare_exchange_n (&self->shared.head, &head, new_head, TRUE,
                                       __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

static gboolean
take_fresh_concurrent (NebulaPoolAllocator  *self,
                       Slab                **slab_out,
                       gsize                *local_out)
{
  guint i = __atomic_load_n (&self->fresh_slab, __ATOMIC_ACQUIRE);
  Slab *slab;
  gsize local;

  if (i >= __atomic_load_n (&self->n_slabs, __ATOMIC_ACQUIRE))
    return FALSE;

  slab = self->slabs[i];
  /* Bounds the overshoot: once full, nobody increments again. */
  if (__atomic_load_n (&slab->fresh, __ATOMIC_RELAXED) >= slab->n_blocks)
    return FALSE;

  local = __atomic_fetch_add (&slab->fresh, 1, __ATOMIC_RELAXED);
  if (local >= slab->n_blocks)
    return FALSE;

  *slab_out = slab;
  *local_out = local;
  return TRUE;
}

/* Nothing free and the current tail used up: move to the next slab's tail
 * or grow. Growth is rare, so it takes a lock. */
static gboolean
refill_concurrent (NebulaPoolAllocator  *self,
                   gsize                 size,
                   GError              **error)
{
  gboolean ok = TRUE;
  guint i;

  /* Growth charges the budget, whose handlers may call back into the pool:
   * its signals wait until the lock is released. */
  nebula_memory_budget_hold_signals ();
  lock_growth (self);

  i = self->fresh_slab;
  while (i < self->n_slabs &&
         __atomic_load_n (&self->slabs[i]->fresh, __ATOMIC_RELAXED) >= self->slabs[i]->n_blocks)
    i++;

  if (i < self->n_slabs)
    __atomic_store_n (&self->fresh_slab, i, __ATOMIC_RELEASE);
  else if ((guint32) __atomic_load_n (&self->shared.head, __ATOMIC_ACQUIRE) != 0)
    ;   /* another thread freed a block meanwhile */
  else if (grow (self, size, error))
    __atomic_store_n (&self->fresh_slab, self->n_slabs - 1, __ATOMIC_RELEASE);
  else
    ok = FALSE;

  unlock_growth (self);
  nebula_memory_budget_emit_held_signals ();
  return ok;
}

static gpointer
allocate_concurrent (NebulaPoolAllocator  *self,
                     gsize                 size,
                     GError              **error)
{
  Slab *slab;
  gsize local;
  guint8 *block;

  while (!pop_concurrent (self, &slab, &local) &&
         !take_fresh_concurrent (self, &slab, &local))
    {
      if (!refill_concurrent (self, size, error))
        return NULL;
    }

  if (self->check_frees)
    __atomic_fetch_or (&slab->allocated[local / BITS_PER_WORD],
                       (gsize) 1 << (local % BITS_PER_WORD), __ATOMIC_ACQ_REL);
  __atomic_fetch_add (&self->shared.n_in_use, 1, __ATOMIC_RELAXED);

  block = slab->data + local * self->block_size;
  tools_hand_out (self, block);
  fill_block (self, block, size);
  return block;
}

static G_NO_INLINE gpointer
allocate_slow (NebulaPoolAllocator  *self,
               gsize                 size,
               gsize                 alignment,
               GError              **error)
{
  if (!ensure_ready (self, error))
    return NULL;

  if (size > self->block_size || alignment > self->block_alignment)
    {
      set_invalid_layout (self, "allocate", size, alignment, error);
      return NULL;
    }

  if (self->config.thread_safe)
    return allocate_concurrent (self, size, error);

  return allocate_single (self, size, error);
}

static gpointer
nebula_pool_allocator_allocate (NebulaAllocator  *allocator,
                                gsize             size,
                                gsize             alignment,
                                GError          **error)
{
  NebulaPoolAllocator *self = (NebulaPoolAllocator *) allocator;
  gpointer block;

  /* The inline path, closed until initialization (max_fast_size is 0). The
   * checks that fail go the slow way, which says what is wrong. */
  if (G_LIKELY (_nebula_pool_fast_layout_ok (&self->fast, size, alignment) &&
                (block = _nebula_pool_fast_take (&self->fast)) != NULL))
    return block;

  return allocate_slow (self, size, alignment, error);
}

/* Finds the slab and index of the block that starts at @ptr, or says why
 * there is none. */
static gboolean
locate_block (NebulaPoolAllocator  *self,
              gconstpointer         ptr,
              gsize                 size,
              Slab                **slab_out,
              gsize                *index_out,
              GError              **error)
{
  Slab *slab = find_slab (self, n_slabs_of (self), ptr);
  gboolean at_start;
  gsize index;

  if (slab == NULL)
    {
      set_bad_pointer (self, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, ptr, size,
                       "does not lie in this pool", error);
      return FALSE;
    }

  index = block_index (self, slab, ptr, &at_start);
  if (!at_start)
    {
      g_autofree char *why = g_strdup_printf ("is not the start of a block (it lies %"
                                              G_GSIZE_FORMAT " bytes into block %"
                                              G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes)",
                                              (gsize) ((const guint8 *) ptr - slab->data -
                                                       index * self->block_size),
                                              slab->first + index, self->block_size);

      set_bad_pointer (self, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, ptr, size, why, error);
      return FALSE;
    }

  *slab_out = slab;
  *index_out = index;
  return TRUE;
}

static gboolean
deallocate_concurrent (NebulaPoolAllocator  *self,
                       gpointer              ptr,
                       gsize                 size,
                       GError              **error)
{
  Slab *slab;
  gsize local;

  if (!locate_block (self, ptr, size, &slab, &local, error))
    return FALSE;

  if (self->check_frees)
    {
      gsize mask = (gsize) 1 << (local % BITS_PER_WORD);
      gsize old = __atomic_fetch_and (&slab->allocated[local / BITS_PER_WORD], ~mask,
                                      __ATOMIC_ACQ_REL);

      if ((old & mask) == 0)
        {
          set_bad_pointer (self, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE, ptr, size,
                           "is not allocated: it was already freed (double free)", error);
          return FALSE;
        }
    }

  if (self->config.free_fill >= 0)
    memset (ptr, self->config.free_fill, self->block_size);
  tools_take_back (self, ptr);

  /* Before the push, so that the count never exceeds the blocks out. */
  __atomic_fetch_sub (&self->shared.n_in_use, 1, __ATOMIC_RELAXED);
  push_concurrent (self, slab, local);
  return TRUE;
}

static G_NO_INLINE gboolean
deallocate_slow (NebulaPoolAllocator  *self,
                 gpointer              ptr,
                 gsize                 size,
                 gsize                 alignment,
                 GError              **error)
{
  if (!ensure_ready (self, error))
    return FALSE;

  if (size > self->block_size || alignment > self->block_alignment)
    {
      set_invalid_layout (self, "free", size, alignment, error);
      return FALSE;
    }

  if (self->config.thread_safe)
    return deallocate_concurrent (self, ptr, size, error);

  if (self->check_frees && !mark_block_free (self, ptr))
    {
      Slab *slab;
      gsize index;

      if (locate_block (self, ptr, size, &slab, &index, error))
        set_bad_pointer (self, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE, ptr, size,
                         "is not allocated: it was already freed (double free)", error);
      return FALSE;
    }

  if (self->config.free_fill >= 0)
    memset (ptr, self->config.free_fill, self->block_size);
  tools_take_back (self, ptr);

  write_link (ptr, self->fast.free_head);
  self->fast.free_head = ptr;
  self->fast.n_in_use--;
  return TRUE;
}

static gboolean
nebula_pool_allocator_deallocate (NebulaAllocator  *allocator,
                                  gpointer          ptr,
                                  gsize             size,
                                  gsize             alignment,
                                  GError          **error)
{
  NebulaPoolAllocator *self = (NebulaPoolAllocator *) allocator;

  if (G_LIKELY (_nebula_pool_fast_layout_ok (&self->fast, size, alignment) &&
                _nebula_pool_fast_give (&self->fast, ptr)))
    return TRUE;

  return deallocate_slow (self, ptr, size, alignment, error);
}

static gpointer
nebula_pool_allocator_reallocate (NebulaAllocator  *allocator,
                                  gpointer          ptr,
                                  gsize             old_size,
                                  gsize             new_size,
                                  gsize             alignment,
                                  GError          **error)
{
  NebulaPoolAllocator *self = (NebulaPoolAllocator *) allocator;

  if (!ensure_ready (self, error))
    return NULL;

  if (self->check_frees)
    {
      Slab *slab;
      gsize index;

      if (!locate_block (self, ptr, old_size, &slab, &index, error))
        return NULL;

      if (index >= fresh_count (self, slab) ||
          !bit_is_set (slab->allocated, index, self->config.thread_safe))
        {
          set_bad_pointer (self, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, ptr, old_size,
                           "is not allocated (was it freed?) and cannot be resized", error);
          return NULL;
        }
    }

  if (new_size > self->block_size || alignment > self->block_alignment)
    {
      set_invalid_layout (self, "resize a block to", new_size, alignment, error);
      return NULL;
    }

  if (new_size > old_size && self->config.alloc_fill >= 0)
    memset ((guint8 *) ptr + old_size, self->config.alloc_fill, new_size - old_size);

  return ptr;
}

static gboolean
nebula_pool_allocator_owns (NebulaAllocator *allocator,
                            gconstpointer    ptr)
{
  NebulaPoolAllocator *self = (NebulaPoolAllocator *) allocator;
  gboolean at_start;
  Slab *slab;
  gsize index;

  if (!ensure_ready (self, NULL))
    return FALSE;

  slab = find_slab (self, n_slabs_of (self), ptr);
  if (slab == NULL)
    return FALSE;

  index = block_index (self, slab, ptr, &at_start);
  if (index >= fresh_count (self, slab))
    return FALSE;

  if (self->check_frees)
    return bit_is_set (slab->allocated, index, self->config.thread_safe);

  return TRUE;
}

static void
nebula_pool_allocator_reset (NebulaAllocator *allocator)
{
  NebulaPoolAllocator *self = (NebulaPoolAllocator *) allocator;

  if (!ensure_ready (self, NULL))
    return;

  /* Never concurrent with other calls, so plain accesses suffice; the
   * stores are atomic only to keep the fields' other accesses uniform. */
  for (guint i = 0; i < self->n_slabs; i++)
    {
      Slab *slab = self->slabs[i];
      gsize fresh = fresh_count (self, slab);

      if (self->config.free_fill >= 0)
        {
          /* Free blocks are off limits for the tools; the fill may write them. */
          NEBULA_MEM_WRITABLE (slab->data, fresh * self->block_size);
          memset (slab->data, self->config.free_fill, fresh * self->block_size);
        }
      NEBULA_MEMPOOL_TRIM (slab->data, slab->data, 0, slab->n_blocks * self->block_size);
      if (slab->allocated != NULL)
        memset (slab->allocated, 0,
                (slab->n_blocks + BITS_PER_WORD - 1) / BITS_PER_WORD * sizeof (gsize));
      __atomic_store_n (&slab->fresh, 0, __ATOMIC_RELAXED);
    }

  self->fast.free_head = NULL;
  __atomic_store_n (&self->fresh_slab, 0, __ATOMIC_RELEASE);
  if (!self->config.thread_safe)
    set_current_slab (self, self->slabs[0]);
  self->fast.n_in_use = 0;
  __atomic_store_n (&self->shared.n_in_use, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&self->shared.head, ((self->shared.head >> 32) + 1) << 32, __ATOMIC_RELEASE);
}

/* The span check for scripts (nebula-allocator-private.h): the block that
 * holds @start must have been handed out, and the span must not leave it.
 * Without check-frees the pool cannot tell a live block from a freed one:
 * the script ledger answers. */
static NebulaSpanResult
pool_span (NebulaAllocator *allocator,
           guintptr         start,
           gsize            size,
           NebulaSpanKind   kind,
           gsize           *block_size)
{
  NebulaPoolAllocator *self = (NebulaPoolAllocator *) allocator;
  gconstpointer ptr = GSIZE_TO_POINTER (start);
  gboolean at_start;
  guint8 *block;
  Slab *slab;
  gsize index;

  if (!ensure_ready (self, NULL))
    return NEBULA_SPAN_NOT_READY;

  /* With check-frees, a free and a resize check everything below
   * themselves, and say precisely what is wrong. */
  if (kind != NEBULA_SPAN_INSIDE && self->check_frees)
    return NEBULA_SPAN_DEFER;

  slab = find_slab (self, n_slabs_of (self), ptr);
  if (slab == NULL)
    return NEBULA_SPAN_FOREIGN;

  index = block_index (self, slab, ptr, &at_start);
  if (index >= fresh_count (self, slab))
    return NEBULA_SPAN_FOREIGN;

  block = slab->data + index * self->block_size;
  *block_size = self->block_size;
  if (kind != NEBULA_SPAN_INSIDE)
    {
      if (!at_start)
        return NEBULA_SPAN_FOREIGN;
      if (size > self->block_size)
        return NEBULA_SPAN_WRONG_SIZE;
    }
  else if (!nebula_span_within (start, size, block, block + self->block_size))
    {
      return NEBULA_SPAN_FOREIGN;
    }

  if (!self->check_frees)
    return NEBULA_SPAN_UNTRACKED;

  return bit_is_set (slab->allocated, index, self->config.thread_safe)
    ? NEBULA_SPAN_OK : NEBULA_SPAN_FOREIGN;
}

static void
allocator_iface_init (NebulaAllocatorInterface *iface)
{
  iface->alloc = nebula_pool_allocator_allocate;
  iface->resize = nebula_pool_allocator_reallocate;
  iface->dealloc = nebula_pool_allocator_deallocate;
  iface->reset = nebula_pool_allocator_reset;
  iface->contains = nebula_pool_allocator_owns;
}

static gboolean
nebula_pool_allocator_initable_init (GInitable     *initable,
                                     GCancellable  *cancellable,
                                     GError       **error)
{
  return ensure_ready (NEBULA_POOL_ALLOCATOR (initable), error);
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = nebula_pool_allocator_initable_init;
}

static gboolean
is_ready (NebulaPoolAllocator *self)
{
  return __atomic_load_n (&self->ready, __ATOMIC_ACQUIRE);
}

static guint64
bytes_used (NebulaPoolAllocator *self)
{
  if (!is_ready (self))
    return 0;

  return (guint64) load_n_in_use (self) * self->block_size;
}

static guint64
bytes_available (NebulaPoolAllocator *self)
{
  gsize n_blocks;

  if (!is_ready (self))
    return 0;

  /* Free blocks, then the blocks growth may still add. */
  n_blocks = load_n_blocks (self);
  return ((guint64) (n_blocks - MIN (load_n_in_use (self), n_blocks)) +
          (self->max_blocks - n_blocks)) * self->block_size;
}

/* The position of the slab holding @block among the first @n_slabs, or
 * @n_slabs if none holds it. */
static guint
slab_position (NebulaPoolAllocator *self,
               guint                n_slabs,
               gconstpointer        block)
{
  for (guint i = 0; i < n_slabs; i++)
    if ((const guint8 *) block >= self->slabs[i]->data &&
        (const guint8 *) block < self->slabs[i]->end)
      return i;

  return n_slabs;
}

/* Without check-frees only the free list knows where the free blocks are:
 * counts the listed blocks of each slab into @listed. The list may be
 * damaged (single-threaded, it lives in the blocks) or changing (thread-safe),
 * so no link is trusted: the walk stops at one that does not lead to a
 * handed-out block of the first @n_slabs slabs, and after as many steps as
 * there are blocks. */
static void
count_listed_blocks (NebulaPoolAllocator *self,
                     guint                n_slabs,
                     gsize               *listed)
{
  gsize steps = load_n_blocks (self);

  if (self->config.thread_safe)
    {
      guint32 top = (guint32) __atomic_load_n (&self->shared.head, __ATOMIC_ACQUIRE);

      for (; top != 0 && steps > 0; steps--)
        {
          gsize index = top - 1;
          guint i = n_slabs;
          Slab *slab;

          while (i > 0 && self->slabs[i - 1]->first > index)
            i--;
          if (i == 0 || index - self->slabs[i - 1]->first >= fresh_count (self, self->slabs[i - 1]))
            break;

          slab = self->slabs[i - 1];
          listed[i - 1]++;
          top = __atomic_load_n (&slab->links[index - slab->first], __ATOMIC_RELAXED);
        }
      return;
    }

  for (guint8 *block = self->fast.free_head; block != NULL && steps > 0; steps--)
    {
      guint i = slab_position (self, n_slabs, block);
      gboolean at_start;
      gsize index;

      if (i == n_slabs)
        break;
      index = block_index (self, self->slabs[i], block, &at_start);
      if (!at_start || index >= self->slabs[i]->fresh)
        break;

      listed[i]++;
      block = read_link (block);
    }
}

/* Blocks of @slab in use, from its allocation bits. */
static gsize
count_allocated_blocks (NebulaPoolAllocator *self,
                        Slab                *slab)
{
  gsize n_words = (slab->n_blocks + BITS_PER_WORD - 1) / BITS_PER_WORD;
  gsize count = 0;

  for (gsize i = 0; i < n_words; i++)
    {
      gsize word = self->config.thread_safe
        ? __atomic_load_n (&slab->allocated[i], __ATOMIC_RELAXED)
        : slab->allocated[i];

      count += (gsize) __builtin_popcountll ((unsigned long long) word);
    }

  return count;
}

/* The report's Pool part: the slabs, oldest first, with their blocks in
 * use; and how much of the blocks in use their callers left unused. */
static void
pool_report (NebulaAllocator *allocator,
             GVariantDict    *report)
{
  NebulaPoolAllocator *self = (NebulaPoolAllocator *) allocator;
  NebulaStatsCounters *counters = nebula_allocator_get_counters (allocator);
  g_autofree gsize *listed = NULL;
  GVariantBuilder slabs;
  guint64 total_blocks = 0, total_used = 0;
  guint n_slabs;

  if (!ensure_ready (self, NULL))
    return;

  /* Slabs are never freed before finalize: the first n_slabs stay valid
   * while other threads grow the pool. */
  n_slabs = n_slabs_of (self);
  if (!self->check_frees)
    {
      listed = g_new0 (gsize, n_slabs);
      count_listed_blocks (self, n_slabs, listed);
    }

  g_variant_builder_init (&slabs, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < n_slabs; i++)
    {
      Slab *slab = self->slabs[i];
      gsize fresh = fresh_count (self, slab);
      gsize used = self->check_frees ? count_allocated_blocks (self, slab)
                                     : fresh - MIN (listed[i], fresh);
      GVariantDict dict;

      used = MIN (used, slab->n_blocks);
      g_variant_dict_init (&dict, NULL);
      g_variant_dict_insert (&dict, "size", "t", (guint64) slab->n_blocks * self->block_size);
      g_variant_dict_insert (&dict, "used", "t", (guint64) used * self->block_size);
      g_variant_dict_insert (&dict, "blocks", "t", (guint64) slab->n_blocks);
      g_variant_dict_insert (&dict, "blocks-used", "t", (guint64) used);
      g_variant_dict_insert (&dict, "blocks-free", "t", (guint64) (slab->n_blocks - used));
      g_variant_dict_insert (&dict, "blocks-untouched", "t", (guint64) (slab->n_blocks - fresh));
      g_variant_builder_add_value (&slabs, g_variant_dict_end (&dict));

      total_blocks += slab->n_blocks;
      total_used += used;
    }

  g_variant_dict_insert (report, "reserved", "t", total_blocks * self->block_size);
  g_variant_dict_insert (report, "blocks", "t", total_blocks);
  g_variant_dict_insert (report, "blocks-used", "t", total_used);
  g_variant_dict_insert_value (report, "slabs", g_variant_builder_end (&slabs));

  /* Any free block serves any request, so a pool wastes memory only inside
   * the blocks it hands out; the statistics know how much was asked for. */
  if (counters->enabled)
    {
      g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (allocator);
      guint64 held = total_used * self->block_size;

      g_variant_dict_insert (report, "fragmentation", "d",
                             held > stats->bytes_in_use
                               ? (double) (held - stats->bytes_in_use) / (double) held
                               : 0.0);
    }
}

static void
nebula_pool_allocator_finalize (GObject *object)
{
  NebulaPoolAllocator *self = (NebulaPoolAllocator *) object;

  for (guint i = 0; i < self->n_slabs; i++)
    slab_free (self, self->slabs[i]);
  g_mutex_clear (&self->grow_lock);
  nebula_allocator_config_clear (&self->config);

  G_OBJECT_CLASS (nebula_pool_allocator_parent_class)->finalize (object);
}

static void
nebula_pool_allocator_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  NebulaPoolAllocator *self = NEBULA_POOL_ALLOCATOR (object);

  if (nebula_allocator_config_get_property (&self->config, prop_id, value))
    return;

  switch (prop_id)
    {
    case NEBULA_CONFIG_PROP_CAPACITY:
      /* Saturates for a configuration that init will refuse. */
      if (self->block_count != 0 && self->block_size_property > G_MAXUINT64 / self->block_count)
        g_value_set_uint64 (value, G_MAXUINT64);
      else
        g_value_set_uint64 (value, self->block_size_property * self->block_count);
      break;

    case NEBULA_CONFIG_PROP_BYTES_USED:
      g_value_set_uint64 (value, bytes_used (self));
      break;

    case NEBULA_CONFIG_PROP_BYTES_AVAILABLE:
      g_value_set_uint64 (value, bytes_available (self));
      break;

    case PROP_BLOCK_SIZE:
      g_value_set_uint64 (value, self->block_size_property);
      break;

    case PROP_BLOCK_ALIGNMENT:
      g_value_set_uint64 (value, self->block_alignment_property);
      break;

    case PROP_BLOCK_COUNT:
      g_value_set_uint64 (value, self->block_count);
      break;

    case PROP_MAX_BLOCK_COUNT:
      g_value_set_uint64 (value, self->max_block_count);
      break;

    case PROP_CHECK_FREES:
      g_value_set_boolean (value, self->check_frees);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_pool_allocator_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  NebulaPoolAllocator *self = NEBULA_POOL_ALLOCATOR (object);

  if (!nebula_allocator_config_begin_set (&self->config, object, pspec) ||
      nebula_allocator_config_set_property (&self->config, prop_id, value))
    return;

  switch (prop_id)
    {
    case PROP_BLOCK_SIZE:
      self->block_size_property = g_value_get_uint64 (value);
      break;

    case PROP_BLOCK_ALIGNMENT:
      self->block_alignment_property = g_value_get_uint64 (value);
      break;

    case PROP_BLOCK_COUNT:
      self->block_count = g_value_get_uint64 (value);
      break;

    case PROP_MAX_BLOCK_COUNT:
      self->max_block_count = g_value_get_uint64 (value);
      break;

    case PROP_CHECK_FREES:
      self->check_frees = g_value_get_boolean (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_pool_allocator_class_init (NebulaPoolAllocatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  nebula_allocator_core_class_init (object_class);
  object_class->finalize = nebula_pool_allocator_finalize;
  object_class->get_property = nebula_pool_allocator_get_property;
  object_class->set_property = nebula_pool_allocator_set_property;


  /**
   * NebulaPoolAllocator:capacity:
   *
   * The bytes of the first slab: [property@PoolAllocator:block-size] times
   * [property@PoolAllocator:block-count]. Read-only.
   */
  /**
   * NebulaPoolAllocator:name:
   *
   * A name used in error messages, reports and statistics.
   */
  /**
   * NebulaPoolAllocator:thread-safe:
   *
   * Whether several threads may allocate and free at once (a lock-free
   * free list; growth takes a lock). Without it the paths use no atomic
   * instruction.
   */
  /**
   * NebulaPoolAllocator:track-stats:
   *
   * Whether to keep statistics. Off in the PERFORMANCE preset.
   */
  /**
   * NebulaPoolAllocator:alloc-fill:
   *
   * A byte value (0..255) written over every new allocation, or -1 for none.
   * 0xAA in the DEBUG preset.
   */
  /**
   * NebulaPoolAllocator:free-fill:
   *
   * A byte value (0..255) written over a block when it is freed, or -1 for
   * none; a single-threaded pool keeps its free-list link in the first
   * pointer-sized bytes. 0xDD in the DEBUG preset.
   */
  /**
   * NebulaPoolAllocator:preset:
   *
   * The #NebulaPreset whose defaults apply to the properties not given
   * explicitly: PERFORMANCE turns [property@PoolAllocator:check-frees] and
   * [property@PoolAllocator:track-stats] off, DEBUG fills, PRODUCTION lets
   * the pool grow to eight times [property@PoolAllocator:block-count]
   * blocks.
   */
  /**
   * NebulaPoolAllocator:budget:
   *
   * A #NebulaMemoryBudget charged for every slab before the pool takes it
   * from the system, or %NULL for none. The charge is the slab's blocks
   * (their number times the rounded [property@PoolAllocator:block-size]);
   * the bookkeeping beside them is not charged. The first slab is charged
   * when the pool initializes, so a budget too small for it makes
   * construction fail with %NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED; each
   * later slab when the pool grows, where a refusal fails that request with
   * the same error and changes nothing (blocks already in the pool are
   * still handed out and freed). A pool keeps its slabs through resets and
   * releases them all when it is finalized.
   */
  nebula_allocator_config_install_properties (object_class, properties, FALSE,
                                              NEBULA_CAPACITY_READ_ONLY, 0);
  nebula_allocator_set_report_func (G_TYPE_FROM_CLASS (klass), pool_report);
  nebula_allocator_set_span_func (G_TYPE_FROM_CLASS (klass), pool_span);

  /**
   * NebulaPoolAllocator:block-size:
   *
   * The size of every block in bytes, at least the size of a pointer. It
   * is rounded up to a multiple of [property@PoolAllocator:block-alignment]
   * when the pool initializes, and reads back rounded.
   */
  properties[PROP_BLOCK_SIZE] =
    g_param_spec_uint64 ("block-size", NULL, NULL,
                         0, G_MAXUINT64, DEFAULT_BLOCK_SIZE,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaPoolAllocator:block-alignment:
   *
   * The alignment of every block, a power of two. Requests with a stricter
   * alignment fail with %NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT.
   */
  properties[PROP_BLOCK_ALIGNMENT] =
    g_param_spec_uint64 ("block-alignment", NULL, NULL,
                         0, G_MAXUINT64, DEFAULT_BLOCK_ALIGNMENT,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaPoolAllocator:block-count:
   *
   * The number of blocks in the first slab, greater than 0. A thread-safe
   * pool holds at most 2^32 - 2 blocks.
   */
  properties[PROP_BLOCK_COUNT] =
    g_param_spec_uint64 ("block-count", NULL, NULL,
                         0, G_MAXUINT64, DEFAULT_BLOCK_COUNT,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaPoolAllocator:max-block-count:
   *
   * The most blocks all slabs together may hold. 0 (the default) or
   * [property@PoolAllocator:block-count] means no growth; a larger value
   * lets the pool add slabs. Eight times block-count in the PRODUCTION
   * preset. Reads back as block-count when the pool does not grow.
   */
  properties[PROP_MAX_BLOCK_COUNT] =
    g_param_spec_uint64 ("max-block-count", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaPoolAllocator:check-frees:
   *
   * Whether to keep one bit per block so that foreign pointers, pointers
   * into the middle of a block and double frees give an error instead of
   * corrupting the pool. On by default, off in the PERFORMANCE preset.
   */
  properties[PROP_CHECK_FREES] =
    g_param_spec_boolean ("check-frees", NULL, NULL,
                          TRUE,
                          NEBULA_CONFIG_PARAM_FLAGS);

  for (guint i = PROP_BLOCK_SIZE; i < N_PROPS; i++)
    g_object_class_install_property (object_class, i, properties[i]);
}

static void
nebula_pool_allocator_init (NebulaPoolAllocator *self)
{
  nebula_allocator_core_init (self, NEBULA_ALLOCATOR_KIND_POOL, &self->stats, &self->config, FALSE);
  g_mutex_init (&self->grow_lock);
  self->block_size_property = DEFAULT_BLOCK_SIZE;
  self->block_alignment_property = DEFAULT_BLOCK_ALIGNMENT;
  self->block_count = DEFAULT_BLOCK_COUNT;
  self->check_frees = TRUE;
}

/**
 * nebula_pool_allocator_new:
 * @block_size: the size of each block, in bytes
 * @block_count: the number of blocks
 * @error: return location for a #GError
 *
 * Creates a single-threaded pool of @block_count blocks of @block_size
 * bytes (aligned to 16 bytes, so rounded up to a multiple of 16) that does
 * not grow and checks frees. Use g_initable_new() for the other properties.
 *
 * Returns: (transfer full): a new #NebulaPoolAllocator, or %NULL with @error
 *   set: %NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG for a @block_size below the
 *   size of a pointer or a @block_count of 0,
 *   %NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW when @block_size times
 *   @block_count does not fit in memory
 */
NebulaPoolAllocator *
nebula_pool_allocator_new (gsize    block_size,
                           gsize    block_count,
                           GError **error)
{
  return g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, error,
                         "block-size", (guint64) block_size,
                         "block-count", (guint64) block_count,
                         NULL);
}

/**
 * nebula_pool_allocator_get_n_slabs:
 * @self: a #NebulaPoolAllocator
 *
 * Counts the slabs: 1, plus one for every time the pool grew.
 *
 * Returns: the number of slabs, 0 if the configuration is invalid
 */
guint
nebula_pool_allocator_get_n_slabs (NebulaPoolAllocator *self)
{
  g_return_val_if_fail (NEBULA_IS_POOL_ALLOCATOR (self), 0);

  if (!ensure_ready (self, NULL))
    return 0;

  return n_slabs_of (self);
}
