/* nebula-pool-allocator.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <string.h>

#include "nebula-allocator-trim-private.h"
#include "nebula-enums.h"
#include "nebula-pool-allocator-private.h"

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
 * byte per block that says whether it is allocated, so freeing a pointer that
 * is not the start of one of its blocks gives
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, as does freeing a block the pool
 * has not handed out since it was created or last reset, and freeing a
 * block twice gives %NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE; in every case
 * nothing changes. The
 * states are also checked against the free list, so a write into a freed
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

static GParamSpec *properties[N_PROPS];

static void allocator_iface_init (NebulaAllocatorInterface *iface);
static void initable_iface_init  (GInitableIface           *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NebulaPoolAllocator, nebula_pool_allocator, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (NEBULA_TYPE_ALLOCATOR, allocator_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init))

/* The public header finds the fast fields right after the core. */
NEBULA_ASSERT_CORE_LAYOUT (NebulaPoolAllocator);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, free_head, 0);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, plain_max, 1);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, alignment_mask, 2);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, checked_max, 3);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, base, 4);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, states, 5);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, fresh_limit, 6);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, n_in_use, 7);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, stats, 8);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, fresh, 9);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, max_fast_size, 10);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, block_shift, 11);
NEBULA_ASSERT_FAST_FIELD (NebulaPoolFast, block_inverse, 12);
G_STATIC_ASSERT (sizeof (NebulaPoolFast) == 13 * sizeof (gpointer));
/* _NEBULA_POOL_STATS(): the plain counters follow the fast fields. */
G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaPoolAllocator, stats) ==
                 G_STRUCT_OFFSET (NebulaPoolAllocator, fast) + sizeof (NebulaPoolFast));
G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaStatsCounters, plain) == 0);

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
  return nebula_allocator_config_ensure (&self->config, self, nebula_pool_init_once, error) &&
         __atomic_load_n (&self->ready, __ATOMIC_ACQUIRE);
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

void
nebula_pool_set_bad_pointer (NebulaPoolAllocator  *self,
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
            nebula_pool_set_current_slab (self, slab);
          if (self->check_frees)
            slab->states[index] = POOL_BLOCK_OUT;
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
              nebula_pool_set_corrupted (self, block, size, error);
              return NULL;
            }
          self->fast.free_head = read_link (block);
          break;
        }

      block = take_fresh (self);
      if (block != NULL)
        break;

      if (!nebula_pool_grow (self, size, error))
        return NULL;
    }

  self->fast.n_in_use++;
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

  if (self->magazine_size != 0)
    return nebula_pool_magazine_allocate (self, size, error);
  if (self->config.thread_safe)
    return nebula_pool_allocate_concurrent (self, size, error);

  return allocate_single (self, size, error);
}

static gboolean
is_ready (NebulaPoolAllocator *self)
{
  return __atomic_load_n (&self->ready, __ATOMIC_ACQUIRE);
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

  /* A thread-safe pool's own fast path: the calling thread's magazine. */
  if (G_LIKELY (is_ready (self) && self->magazine_size != 0 && size != 0 &&
                size <= self->block_size && alignment <= self->block_alignment))
    return nebula_pool_magazine_allocate (self, size, error);

  return allocate_slow (self, size, alignment, error);
}

/* Finds the slab and index of the block that starts at @ptr, or says why
 * there is none. */
gboolean
nebula_pool_locate_block (NebulaPoolAllocator  *self,
                          gconstpointer         ptr,
                          gsize                 size,
                          Slab                **slab_out,
                          gsize                *index_out,
                          GError              **error)
{
  guint8 *data;
  Slab *slab = find_slab_at (self, n_slabs_of (self), ptr, &data);
  gboolean at_start;
  gsize index;

  if (slab == NULL)
    {
      nebula_pool_set_bad_pointer (self, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, ptr, size,
                                   "does not lie in this pool", error);
      return FALSE;
    }

  index = block_index_at (self, data, ptr, &at_start);
  if (!at_start)
    {
      g_autofree char *why = g_strdup_printf ("is not the start of a block (it lies %"
                                              G_GSIZE_FORMAT " bytes into block %"
                                              G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes)",
                                              (gsize) ((const guint8 *) ptr - data -
                                                       index * self->block_size),
                                              slab->first + index, self->block_size);

      nebula_pool_set_bad_pointer (self, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, ptr, size, why,
                                   error);
      return FALSE;
    }

  *slab_out = slab;
  *index_out = index;
  return TRUE;
}

/* A free of @ptr that the pool's marks refused: INVALID_POINTER if @ptr
 * is the start of a block of the never-used tail (the pool has not handed
 * it out since it was created or last reset: a pointer it did not give),
 * DOUBLE_FREE if it is the start of another of its blocks, else what
 * nebula_pool_locate_block() says (a thread-safe pool's inline check may
 * also refuse a pointer that a trim made foreign). With magazines, a
 * refill takes a whole batch from the tail, so a block that a thread's
 * magazine or the depot holds is past the tail without having been handed
 * out: the two cannot be told apart there, and the message says both.
 * Always FALSE, so that a free can end with it. */
gboolean
nebula_pool_report_double_free (NebulaPoolAllocator  *self,
                                gconstpointer         ptr,
                                gsize                 size,
                                GError              **error)
{
  g_autofree char *why = NULL;
  Slab *slab;
  gsize index;

  if (!nebula_pool_locate_block (self, ptr, size, &slab, &index, error))
    return FALSE;

  if (index >= fresh_count (self, slab))
    {
      why = g_strdup_printf ("is block %" G_GSIZE_FORMAT ", which this pool "
                             NEBULA_POOL_NOT_HANDED_OUT, slab->first + index);
      nebula_pool_set_bad_pointer (self, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, ptr, size,
                                   why, error);
    }
  else
    nebula_pool_set_bad_pointer (self, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE, ptr, size,
                                 nebula_pool_magazines_enabled (self)
                                 ? "is not allocated: it was already freed (double free), or "
                                   "it is a block the threads' caches hold that this pool "
                                   NEBULA_POOL_NOT_HANDED_OUT
                                 : "is not allocated: it was already freed (double free)",
                                 error);
  return FALSE;
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

  if (self->magazine_size != 0)
    return nebula_pool_magazine_deallocate (self, ptr, size, error);
  if (self->config.thread_safe)
    return nebula_pool_deallocate_concurrent (self, ptr, size, error);

  if (self->check_frees && !mark_block_free (self, ptr))
    return nebula_pool_report_double_free (self, ptr, size, error);

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

  if (G_LIKELY (is_ready (self) && self->magazine_size != 0 && size != 0 &&
                size <= self->block_size && alignment <= self->block_alignment))
    return nebula_pool_magazine_deallocate (self, ptr, size, error);

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

      if (!nebula_pool_locate_block (self, ptr, old_size, &slab, &index, error))
        return NULL;

      if (index >= fresh_count (self, slab) ||
          !block_is_out (self, slab, index))
        {
          nebula_pool_set_bad_pointer (self, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, ptr, old_size,
                                       "is not allocated (was it freed?) and cannot be resized",
                                       error);
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
  guint8 *data;
  Slab *slab;
  gsize index;

  if (!ensure_ready (self, NULL))
    return FALSE;

  slab = find_slab_at (self, n_slabs_of (self), ptr, &data);
  if (slab == NULL)
    return FALSE;

  index = block_index_at (self, data, ptr, &at_start);
  if (index >= fresh_count (self, slab))
    return FALSE;

  if (self->check_frees)
    return block_is_out (self, slab, index);

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
      NEBULA_MEMPOOL_TRIM (slab, slab->data, 0, slab->n_blocks * self->block_size);
      if (slab->states != NULL)
        memset (slab->states, 0, slab->n_blocks << self->state_shift);
      if (slab->listed != NULL)
        memset (slab->listed, 0, slab->n_blocks);
      __atomic_store_n (&slab->fresh, 0, __ATOMIC_RELAXED);
    }

  self->fast.free_head = NULL;
  __atomic_store_n (&self->fresh_slab, 0, __ATOMIC_RELEASE);
  /* A child arena that its parent released holds no slab. */
  if (!self->config.thread_safe && self->n_slabs > 0)
    nebula_pool_set_current_slab (self, self->slabs[0]);
  self->fast.n_in_use = 0;
  __atomic_store_n (&self->shared.n_in_use, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&self->shared.head, ((self->shared.head >> 32) + 1) << 32, __ATOMIC_RELEASE);
  nebula_pool_magazines_reset (self);
}

/* The span check for scripts (nebula-allocator-script-private.h): the block that
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
  guint8 *block, *data;
  Slab *slab;
  gsize index;

  if (!ensure_ready (self, NULL))
    return NEBULA_SPAN_NOT_READY;

  /* With check-frees, a free and a resize check everything below
   * themselves, and say precisely what is wrong. */
  if (kind != NEBULA_SPAN_INSIDE && self->check_frees)
    return NEBULA_SPAN_DEFER;

  slab = find_slab_at (self, n_slabs_of (self), ptr, &data);
  if (slab == NULL)
    return NEBULA_SPAN_FOREIGN;

  index = block_index_at (self, data, ptr, &at_start);
  if (index >= fresh_count (self, slab))
    return NEBULA_SPAN_FOREIGN;

  block = data + index * self->block_size;
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

  return block_is_out (self, slab, index)
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
  iface->trim = nebula_allocator_core_trim;
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

static void
nebula_pool_allocator_finalize (GObject *object)
{
  NebulaPoolAllocator *self = (NebulaPoolAllocator *) object;

  nebula_pool_magazines_finalize (self);
  /* With the headers a thread-safe pool's trims retired. */
  nebula_pool_release_slabs (self);
  g_clear_pointer (&self->child_link, nebula_child_link_free);
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

    case PROP_MAGAZINE_SIZE:
      g_value_set_int (value, self->magazine_size_property);
      break;

    case PROP_PARENT:
      g_value_take_object (value, nebula_child_link_dup_parent (self->child_link));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* A child arena whose parent resets or goes gives back every slab: a
 * reset, then the slabs themselves, the first one included. */
static void
release_as_child (NebulaAllocator *child)
{
  nebula_allocator_reset (child);
  nebula_pool_release_slabs (NEBULA_POOL_ALLOCATOR (child));
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

    case PROP_MAGAZINE_SIZE:
      self->magazine_size_property = g_value_get_int (value);
      break;

    case PROP_PARENT:
      self->child_link = nebula_child_link_new (NEBULA_ALLOCATOR (self), g_value_get_object (value),
                                                release_as_child);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_pool_allocator_class_init (NebulaPoolAllocatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  nebula_allocator_core_class_init (object_class, NEBULA_ALLOCATOR_KIND_POOL);
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
   * releases them all when it is finalized (or, as a child arena, when its
   * parent releases it).
   */
  nebula_allocator_config_install_properties (object_class, properties, FALSE,
                                              NEBULA_CAPACITY_READ_ONLY, 0);
  nebula_allocator_set_report_func (G_TYPE_FROM_CLASS (klass), nebula_pool_report);
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
   * Whether to keep one byte per block so that foreign pointers, pointers
   * into the middle of a block and double frees give an error instead of
   * corrupting the pool. On by default, off in the PERFORMANCE preset.
   */
  properties[PROP_CHECK_FREES] =
    g_param_spec_boolean ("check-frees", NULL, NULL,
                          TRUE,
                          NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaPoolAllocator:magazine-size:
   *
   * How many free blocks each thread keeps for itself in a thread-safe
   * pool, so that its allocations and frees touch nothing shared: 0 for
   * none, up to 256; -1 (the default) chooses 1/8 of max-block-count, at
   * least 2 and at most what 16 KiB of blocks hold, a cap kept between 32
   * and 128 (128 for blocks of 128 bytes or less, 32 for 512 bytes or
   * more). A thread that finds the pool out of blocks takes back the
   * free blocks the other threads keep before it reports
   * %NEBULA_ALLOCATOR_ERROR_EXHAUSTED, so the pool never refuses a request
   * while a block is free; that takes a process-wide lock and, on Linux,
   * a membarrier() system call, so a pool that runs out often is faster
   * with smaller magazines. Each such reclaim halves what the magazines
   * may keep, and 16 refills without one double it again. Ignored without thread-safe. After
   * initialization it reads back the size in use.
   *
   * Since: 0.1
   */
  properties[PROP_MAGAZINE_SIZE] =
    g_param_spec_int ("magazine-size", NULL, NULL,
                      -1, 256, -1,
                      NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaPoolAllocator:parent:
   *
   * Makes this pool a child arena of another allocator of any kind: its
   * slabs (the first one included) are blocks of the parent, aligned to
   * [property@PoolAllocator:block-alignment], instead of memory from the
   * system, so the parent's capacity, budget and statistics count them.
   * When the parent is reset or disposed, or ends a bump scope or
   * checkpoint (or stack frame) that a slab of the pool was taken in, the
   * pool is released first: its own cleanups and children run, then it is
   * reset and gives back every slab. Its blocks from before are then
   * foreign to it (with [property@PoolAllocator:check-frees], a free gives
   * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER). The pool may be reset on its
   * own (it keeps its slabs) and trimmed (the slabs it grew by go back to
   * the parent), and keeps working after a release: its next allocation
   * takes a new first slab. The parent is held weakly: once it is
   * finalized, an allocation that needs a slab fails with
   * %NEBULA_ALLOCATOR_ERROR_FAILED naming it. A thread-safe pool cannot
   * be a child (%NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG): its lock-free
   * readers rely on its slab headers living as long as it does. The
   * report of each shows the tree ("parent", "children").
   *
   * Since: 0.1
   */
  properties[PROP_PARENT] = nebula_child_param_spec ();

  for (guint i = PROP_BLOCK_SIZE; i < N_PROPS; i++)
    g_object_class_install_property (object_class, i, properties[i]);
}

static void
nebula_pool_allocator_init (NebulaPoolAllocator *self)
{
  nebula_allocator_core_init (self, NEBULA_ALLOCATOR_KIND_POOL, &self->stats, &self->config, FALSE);
  /* The inline paths closed at their first test (nebula-allocator-fast.h):
   * a thread-safe pool never opens them. */
  self->fast.alignment_mask = G_MAXSIZE;
  g_mutex_init (&self->grow_lock);
  self->block_size_property = DEFAULT_BLOCK_SIZE;
  self->block_alignment_property = DEFAULT_BLOCK_ALIGNMENT;
  self->block_count = DEFAULT_BLOCK_COUNT;
  self->check_frees = TRUE;
  self->magazine_size_property = -1;
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

