/* nebula-multi-pool-allocator.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "nebula-allocator-report-private.h"
#include "nebula-allocator-trim-private.h"
#include "nebula-multi-pool-allocator-private.h"
#include "nebula-pool-allocator-private.h"

/**
 * NebulaMultiPoolAllocator:
 *
 * Blocks of many sizes, each freed on its own, from size classes over
 * [class@PoolAllocator]s: the job GSlice did until GLib 2.76 handed it
 * back to malloc(), so code leaving `g_slice_alloc()` has a place to go.
 *
 * A request is served by the smallest class that holds it: 16-byte steps
 * up to 128 bytes, then four classes per power of two (160, 192, 224, 256,
 * 320, ...) up to [property@MultiPoolAllocator:max-block-size] (1024 by
 * default). A request larger than that is refused with
 * %NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT and a suggestion; nothing falls
 * back to malloc() behind your back.
 *
 * Each class is a [class@PoolAllocator] made on the first request of its
 * size, with this allocator's configuration: `thread-safe` (on by
 * default, as GSlice was; each class then keeps per-thread magazines, so
 * an uncontended allocation or free makes no atomic read-modify-write),
 * `check-frees`, `preset`, `budget`, the fills and a name made of this
 * allocator's name and the class ("cache: 48-byte class"). The class
 * pools keep no statistics of their own: this allocator counts every
 * request once, with `track-stats`.
 *
 * A block is freed with the size (and alignment) it was allocated with,
 * as with g_slice_free1(): the size picks the class, so no header is kept
 * per block. With check-frees on (the default), a free whose size maps to
 * another class fails with %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER (the
 * block is foreign to that class) and a second free of a block with
 * %NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE; both messages name the class. A
 * size that maps to the same class is accepted.
 *
 * [method@Allocator.get_stats] counts this allocator's requests exactly
 * (requested bytes, as for every allocator); the report
 * ([method@Allocator.get_report]) adds, per class made so far, its block
 * size, reserved bytes and blocks in use.
 * [property@Allocator:bytes-used] is the bytes of the blocks handed out,
 * each counted with its class size; [property@Allocator:bytes-available]
 * the free blocks in the slabs the classes hold (what can be handed out
 * without reserving more memory); [property@Allocator:capacity] is 0: the
 * classes grow as needed. [method@Allocator.reset] resets every class,
 * [method@Allocator.trim] trims every class.
 *
 * Since: 0.1
 */

G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaMultiPoolAllocator, core) == sizeof (GObject));

static GParamSpec *properties[NEBULA_MULTI_POOL_N_PROPS];

static void allocator_iface_init (NebulaAllocatorInterface *iface);
static void initable_iface_init  (GInitableIface           *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NebulaMultiPoolAllocator, nebula_multi_pool_allocator, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (NEBULA_TYPE_ALLOCATOR, allocator_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init))



static const char *
multi_pool_label (void)
{
  return "Multi-pool allocator";
}

static void
multi_pool_init_once (gpointer data)
{
  NebulaMultiPoolAllocator *self = data;
  NebulaAllocatorConfig *config = &self->config;

  nebula_allocator_config_validate (config, multi_pool_label ());

  if (!nebula_allocator_config_is_explicit (config, NEBULA_MULTI_POOL_PROP_CHECK_FREES))
    self->check_frees = config->preset != NEBULA_PRESET_PERFORMANCE;

  if (self->max_block_size < NEBULA_MULTI_POOL_SMALL_STEP ||
      self->max_block_size > NEBULA_MULTI_POOL_LARGEST_MAX_BLOCK)
    nebula_allocator_config_set_invalid (config, multi_pool_label (), "max-block-size",
                                         "must be %u to %" G_GUINT64_FORMAT " bytes, not %"
                                         G_GUINT64_FORMAT,
                                         (guint) NEBULA_MULTI_POOL_SMALL_STEP,
                                         NEBULA_MULTI_POOL_LARGEST_MAX_BLOCK,
                                         self->max_block_size);

  nebula_stats_counters_init (&self->stats, config->track_stats, config->thread_safe);
  if (config->init.error != NULL)
    return;

  self->stats_key = nebula_stats_cache_key_new ();
  self->largest_request = (gsize) self->max_block_size;
  self->step_limit = MIN (self->largest_request, NEBULA_MULTI_POOL_TABLE_LIMIT);
  self->n_classes = nebula_multi_pool_n_classes_for (self->max_block_size);
  g_assert (self->n_classes <= NEBULA_MULTI_POOL_MAX_CLASSES);
  nebula_allocator_core_set_direct (self, nebula_multi_pool_direct_table (self));
}

gboolean
nebula_multi_pool_ensure (NebulaMultiPoolAllocator  *self,
                          GError                   **error)
{
  return nebula_allocator_config_ensure (&self->config, self, multi_pool_init_once, error);
}

/* A request no class serves: too large, or aligned more than a class. */
static void
set_no_class (NebulaMultiPoolAllocator  *self,
              const char                *operation,
              gsize                      size,
              gsize                      alignment,
              GError                   **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  g_autofree char *suggestion = NULL;
  NebulaErrorInfo info = { .requested = size, .capacity = self->largest_request, .what = what };

  if (size > self->largest_request)
    suggestion = g_strdup_printf ("Raise 'max-block-size' (up to %" G_GUINT64_FORMAT " bytes) "
                                  "or take blocks larger than %" G_GSIZE_FORMAT " bytes from "
                                  "a NebulaSystemAllocator.",
                                  NEBULA_MULTI_POOL_LARGEST_MAX_BLOCK, self->largest_request);
  else
    suggestion = g_strdup_printf ("Ask for an alignment of at most %u bytes, or for a size "
                                  "whose class is aligned enough (a power of two up to "
                                  "'max-block-size', %" G_GSIZE_FORMAT ").",
                                  (guint) NEBULA_MULTI_POOL_MAX_ALIGNMENT, self->largest_request);
  info.suggestion = suggestion;

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, &info,
                    "%s: no size class serves a %s of %" G_GSIZE_FORMAT " bytes aligned to %"
                    G_GSIZE_FORMAT " (the classes go up to 'max-block-size', %" G_GSIZE_FORMAT
                    " bytes, aligned to at most %u)",
                    what, operation, size, alignment, self->largest_request,
                    (guint) NEBULA_MULTI_POOL_MAX_ALIGNMENT);
}

/* The pool of the class serving @size and @alignment, made if needed. */
static inline NebulaAllocator *
class_pool (NebulaMultiPoolAllocator  *self,
            const char                *operation,
            gsize                      size,
            gsize                      alignment,
            gboolean                   make,
            GError                   **error)
{
  int index = nebula_multi_pool_class_for (self, size, alignment);
  NebulaAllocator *pool;

  if (G_UNLIKELY (index < 0))
    {
      set_no_class (self, operation, size, alignment, error);
      return NULL;
    }

  pool = nebula_multi_pool_peek_class (self, (guint) index);
  if (G_LIKELY (pool != NULL))
    return pool;

  if (make)
    return nebula_multi_pool_make_class (self, (guint) index, error);

  {
    g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
    NebulaErrorInfo info = { .requested = size, .what = what };

    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, &info,
                      "%s: a %s of %" G_GSIZE_FORMAT " bytes goes to the %" G_GSIZE_FORMAT
                      "-byte class, which has never handed out a block: the pointer is "
                      "foreign, or the size is not the one it was allocated with",
                      what, operation, size, nebula_multi_pool_class_size ((guint) index));
    return NULL;
  }
}

static inline gpointer
allocate_from_class (NebulaAllocator  *allocator,
                     gsize             size,
                     gsize             alignment,
                     gboolean          zeroed,
                     GError          **error)
{
  NebulaMultiPoolAllocator *self = (NebulaMultiPoolAllocator *) allocator;  /* checked by the dispatch */
  NebulaAllocator *pool;

  if (G_UNLIKELY (!nebula_multi_pool_ensure (self, error)))
    return NULL;

  pool = class_pool (self, "request", size, alignment, TRUE, error);
  if (G_UNLIKELY (pool == NULL))
    return NULL;

  return zeroed ? nebula_allocator_allocate_zeroed (pool, size, alignment, error)
                : nebula_allocator_allocate (pool, size, alignment, error);
}

static gpointer
nebula_multi_pool_allocator_allocate (NebulaAllocator  *allocator,
                                      gsize             size,
                                      gsize             alignment,
                                      GError          **error)
{
  return allocate_from_class (allocator, size, alignment, FALSE, error);
}

static gpointer
nebula_multi_pool_allocator_allocate_zeroed (NebulaAllocator  *allocator,
                                             gsize             size,
                                             gsize             alignment,
                                             GError          **error)
{
  return allocate_from_class (allocator, size, alignment, TRUE, error);
}

/* A class pool's refusal of a free says what the pool saw; add what the
 * multi-pool knows: the size given picked that class. The error is made
 * anew so that its suggestion is the multi-pool's. A block of the class
 * that the class pool has not handed out was freed with a size of that
 * class: the hint about sizes is left out there. */
void
nebula_multi_pool_explain_class_error (NebulaMultiPoolAllocator  *self,
                     GError                   **error,
                     gsize                      size,
                     gsize                      block_size)
{
  g_autofree char *what = NULL;
  g_autofree char *message = NULL;
  NebulaErrorInfo info = { .requested = size };

  if (error == NULL || *error == NULL ||
      !g_error_matches (*error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER) ||
      strstr ((*error)->message, NEBULA_POOL_NOT_HANDED_OUT) != NULL)
    return;

  what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  info.what = what;
  info.suggestion = "Free a block with the size (and alignment) it was allocated with, "
                    "through the allocator that returned it.";
  message = g_steal_pointer (&(*error)->message);
  g_clear_error (error);
  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, &info,
                    "%s (the size given, %" G_GSIZE_FORMAT ", picked the %" G_GSIZE_FORMAT
                    "-byte class: a block must be freed with the size it was allocated with)",
                    message, size, block_size);
}

static gboolean
nebula_multi_pool_allocator_deallocate (NebulaAllocator  *allocator,
                                        gpointer          ptr,
                                        gsize             size,
                                        gsize             alignment,
                                        GError          **error)
{
  NebulaMultiPoolAllocator *self = (NebulaMultiPoolAllocator *) allocator;  /* checked by the dispatch */
  NebulaAllocator *pool;

  if (G_UNLIKELY (!nebula_multi_pool_ensure (self, error)))
    return FALSE;

  pool = class_pool (self, "free", size, alignment, FALSE, error);
  if (G_UNLIKELY (pool == NULL))
    return FALSE;

  if (G_LIKELY (nebula_allocator_deallocate (pool, ptr, size, alignment, error)))
    return TRUE;

  nebula_multi_pool_explain_class_error (self, error, size,
                       nebula_multi_pool_class_size (nebula_multi_pool_class_for (self, size,
                                                                                  alignment)));
  return FALSE;
}

/* Within one class the pool resizes (in place when the block holds the new
 * size). Across classes: the old block is checked first (a resize to its
 * own size, which the pool answers without touching memory), then copied
 * to a block of the new class and freed. */
static gpointer
nebula_multi_pool_allocator_reallocate (NebulaAllocator  *allocator,
                                        gpointer          ptr,
                                        gsize             old_size,
                                        gsize             new_size,
                                        gsize             alignment,
                                        GError          **error)
{
  NebulaMultiPoolAllocator *self = (NebulaMultiPoolAllocator *) allocator;  /* checked by the dispatch */
  NebulaAllocator *old_pool, *new_pool;
  gpointer new_ptr;

  if (!nebula_multi_pool_ensure (self, error))
    return NULL;

  old_pool = class_pool (self, "resize", old_size, alignment, FALSE, error);
  if (old_pool == NULL)
    return NULL;
  if (nebula_allocator_reallocate (old_pool, ptr, old_size, old_size, alignment, error) == NULL)
    {
      nebula_multi_pool_explain_class_error (self, error, old_size,
                           nebula_multi_pool_class_size (nebula_multi_pool_class_for (self, old_size,
                                                                                      alignment)));
      return NULL;
    }

  new_pool = class_pool (self, "resize", new_size, alignment, TRUE, error);
  if (new_pool == NULL)
    return NULL;
  if (new_pool == old_pool)
    return nebula_allocator_reallocate (old_pool, ptr, old_size, new_size, alignment, error);

  new_ptr = nebula_allocator_allocate (new_pool, new_size, alignment, error);
  if (new_ptr == NULL)
    return NULL;
  memcpy (new_ptr, ptr, MIN (old_size, new_size));
  if (!nebula_allocator_deallocate (old_pool, ptr, old_size, alignment, error))
    {
      nebula_allocator_deallocate (new_pool, new_ptr, new_size, alignment, NULL);
      return NULL;
    }

  return new_ptr;
}

static void
nebula_multi_pool_allocator_reset (NebulaAllocator *allocator)
{
  NebulaMultiPoolAllocator *self = (NebulaMultiPoolAllocator *) allocator;  /* checked by the dispatch */

  if (nebula_multi_pool_ensure (self, NULL))
    nebula_multi_pool_reset_classes (self);
}

static gboolean
nebula_multi_pool_allocator_contains (NebulaAllocator *allocator,
                                      gconstpointer    ptr)
{
  NebulaMultiPoolAllocator *self = (NebulaMultiPoolAllocator *) allocator;  /* checked by the dispatch */

  return nebula_multi_pool_ensure (self, NULL) && nebula_multi_pool_owns (allocator, ptr);
}

static void
allocator_iface_init (NebulaAllocatorInterface *iface)
{
  iface->alloc = nebula_multi_pool_allocator_allocate;
  iface->alloc_zeroed = nebula_multi_pool_allocator_allocate_zeroed;
  iface->resize = nebula_multi_pool_allocator_reallocate;
  iface->dealloc = nebula_multi_pool_allocator_deallocate;
  iface->reset = nebula_multi_pool_allocator_reset;
  iface->contains = nebula_multi_pool_allocator_contains;
  iface->trim = nebula_multi_pool_trim_classes;
}

static gboolean
nebula_multi_pool_allocator_initable_init (GInitable     *initable,
                                           GCancellable  *cancellable,
                                           GError       **error)
{
  return nebula_multi_pool_ensure (NEBULA_MULTI_POOL_ALLOCATOR (initable), error);
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = nebula_multi_pool_allocator_initable_init;
}

static void
nebula_multi_pool_allocator_finalize (GObject *object)
{
  NebulaMultiPoolAllocator *self = (NebulaMultiPoolAllocator *) object;

  nebula_multi_pool_free_classes (self);
  g_mutex_clear (&self->classes_lock);
  nebula_stats_counters_clear (&self->stats);
  nebula_allocator_config_clear (&self->config);

  G_OBJECT_CLASS (nebula_multi_pool_allocator_parent_class)->finalize (object);
}

static void
nebula_multi_pool_allocator_get_property (GObject    *object,
                                          guint       prop_id,
                                          GValue     *value,
                                          GParamSpec *pspec)
{
  NebulaMultiPoolAllocator *self = NEBULA_MULTI_POOL_ALLOCATOR (object);

  if (nebula_allocator_config_get_property (&self->config, prop_id, value))
    return;

  switch (prop_id)
    {
    case NEBULA_CONFIG_PROP_CAPACITY:
      g_value_set_uint64 (value, 0);
      break;

    case NEBULA_CONFIG_PROP_BYTES_USED:
      g_value_set_uint64 (value, nebula_multi_pool_bytes (self, FALSE));
      break;

    case NEBULA_CONFIG_PROP_BYTES_AVAILABLE:
      g_value_set_uint64 (value, nebula_multi_pool_bytes (self, TRUE));
      break;

    case NEBULA_MULTI_POOL_PROP_MAX_BLOCK_SIZE:
      g_value_set_uint64 (value, self->max_block_size);
      break;

    case NEBULA_MULTI_POOL_PROP_CHECK_FREES:
      g_value_set_boolean (value, self->check_frees);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_multi_pool_allocator_set_property (GObject      *object,
                                          guint         prop_id,
                                          const GValue *value,
                                          GParamSpec   *pspec)
{
  NebulaMultiPoolAllocator *self = NEBULA_MULTI_POOL_ALLOCATOR (object);

  if (!nebula_allocator_config_begin_set (&self->config, object, pspec) ||
      nebula_allocator_config_set_property (&self->config, prop_id, value))
    return;

  switch (prop_id)
    {
    case NEBULA_MULTI_POOL_PROP_MAX_BLOCK_SIZE:
      self->max_block_size = g_value_get_uint64 (value);
      break;

    case NEBULA_MULTI_POOL_PROP_CHECK_FREES:
      self->check_frees = g_value_get_boolean (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_multi_pool_allocator_class_init (NebulaMultiPoolAllocatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  nebula_allocator_core_class_init (object_class, NEBULA_ALLOCATOR_KIND_MULTI_POOL);
  object_class->finalize = nebula_multi_pool_allocator_finalize;
  object_class->get_property = nebula_multi_pool_allocator_get_property;
  object_class->set_property = nebula_multi_pool_allocator_set_property;

  /**
   * NebulaMultiPoolAllocator:capacity:
   *
   * Always 0: the classes grow as needed.
   */
  /**
   * NebulaMultiPoolAllocator:name:
   *
   * A name used in error messages, reports and statistics; each class's
   * pool is named after it ("NAME: 48-byte class").
   */
  /**
   * NebulaMultiPoolAllocator:thread-safe:
   *
   * Whether several threads may use the allocator at once; on by default,
   * as GSlice was. The classes are then thread-safe pools with per-thread
   * magazines, and a block may be freed on another thread than the one
   * that allocated it.
   */
  /**
   * NebulaMultiPoolAllocator:track-stats:
   *
   * Whether to keep statistics. They are kept here only, once per
   * request; the class pools count nothing. Off in the PERFORMANCE
   * preset.
   */
  /**
   * NebulaMultiPoolAllocator:alloc-fill:
   *
   * A byte value (0..255) written over every new block, or -1 for none.
   * 0xAA in the DEBUG preset.
   */
  /**
   * NebulaMultiPoolAllocator:free-fill:
   *
   * A byte value (0..255) written over a block when it is freed, or -1
   * for none. 0xDD in the DEBUG preset.
   */
  /**
   * NebulaMultiPoolAllocator:preset:
   *
   * The #NebulaPreset whose defaults apply to the properties not given
   * explicitly, here and in every class.
   */
  /**
   * NebulaMultiPoolAllocator:budget:
   *
   * A #NebulaMemoryBudget every class charges for the slabs it reserves
   * (as a #NebulaPoolAllocator does), released when a class trims them or
   * the allocator is finalized; %NULL for none. A refused charge fails the
   * request with %NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED.
   */
  nebula_allocator_config_install_properties (object_class, properties, TRUE,
                                              NEBULA_CAPACITY_READ_ONLY, 0);
  nebula_allocator_set_report_func (G_TYPE_FROM_CLASS (klass), nebula_multi_pool_report);
  nebula_allocator_set_span_func (G_TYPE_FROM_CLASS (klass), nebula_multi_pool_span);

  /**
   * NebulaMultiPoolAllocator:max-block-size:
   *
   * The largest request served, 16 to 1048576 bytes (1024 by default); the
   * largest class is the one that holds it. A larger request fails with
   * %NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT. Classes are only made when a
   * request needs them, so a large value costs nothing until used.
   */
  properties[NEBULA_MULTI_POOL_PROP_MAX_BLOCK_SIZE] =
    g_param_spec_uint64 ("max-block-size", NULL, NULL,
                         0, G_MAXUINT64, NEBULA_MULTI_POOL_DEFAULT_MAX_BLOCK,
                         NEBULA_CONFIG_PARAM_FLAGS);

  /**
   * NebulaMultiPoolAllocator:check-frees:
   *
   * Whether every class keeps a bit (or byte) per block so that a free of a
   * foreign pointer, a free with a size of another class and a double free
   * are errors. Off in the PERFORMANCE preset.
   */
  properties[NEBULA_MULTI_POOL_PROP_CHECK_FREES] =
    g_param_spec_boolean ("check-frees", NULL, NULL,
                          TRUE,
                          NEBULA_CONFIG_PARAM_FLAGS);

  g_object_class_install_property (object_class, NEBULA_MULTI_POOL_PROP_MAX_BLOCK_SIZE,
                                   properties[NEBULA_MULTI_POOL_PROP_MAX_BLOCK_SIZE]);
  g_object_class_install_property (object_class, NEBULA_MULTI_POOL_PROP_CHECK_FREES,
                                   properties[NEBULA_MULTI_POOL_PROP_CHECK_FREES]);
}

static void
nebula_multi_pool_allocator_init (NebulaMultiPoolAllocator *self)
{
  nebula_allocator_core_init (self, NEBULA_ALLOCATOR_KIND_MULTI_POOL, &self->stats, &self->config,
                              TRUE);
  g_mutex_init (&self->classes_lock);
  self->max_block_size = NEBULA_MULTI_POOL_DEFAULT_MAX_BLOCK;
  self->check_frees = TRUE;
}

/**
 * nebula_multi_pool_allocator_new:
 * @error: return location for a #GError
 *
 * Creates a thread-safe multi-pool allocator with the default
 * configuration: classes up to 1024 bytes, check-frees on.
 *
 * Returns: (transfer full): a new #NebulaMultiPoolAllocator, or %NULL with
 *   @error set
 *
 * Since: 0.1
 */
NebulaMultiPoolAllocator *
nebula_multi_pool_allocator_new (GError **error)
{
  return g_initable_new (NEBULA_TYPE_MULTI_POOL_ALLOCATOR, NULL, error, NULL);
}

/**
 * nebula_multi_pool_allocator_get_n_classes:
 * @self: a #NebulaMultiPoolAllocator
 *
 * The number of size classes up to [property@MultiPoolAllocator:max-block-size]
 * (20 for the default of 1024), whether their pools were made yet or not.
 *
 * Returns: the number of classes, 0 if the configuration is invalid
 *
 * Since: 0.1
 */
guint
nebula_multi_pool_allocator_get_n_classes (NebulaMultiPoolAllocator *self)
{
  g_return_val_if_fail (NEBULA_IS_MULTI_POOL_ALLOCATOR (self), 0);

  return nebula_multi_pool_ensure (self, NULL) ? self->n_classes : 0;
}

/**
 * nebula_multi_pool_allocator_get_class_size:
 * @self: a #NebulaMultiPoolAllocator
 * @size: a request size in bytes
 *
 * The block size of the class that serves a request of @size bytes (with
 * an alignment of at most 16): what the block really takes, and what
 * [property@Allocator:bytes-used] counts for it. A @size of 0 is served as
 * 1 byte.
 *
 * Returns: the class's block size, or 0 when no class serves @size (it is
 *   larger than [property@MultiPoolAllocator:max-block-size], or the
 *   configuration is invalid)
 *
 * Since: 0.1
 */
guint64
nebula_multi_pool_allocator_get_class_size (NebulaMultiPoolAllocator *self,
                                            guint64                   size)
{
  int index;

  g_return_val_if_fail (NEBULA_IS_MULTI_POOL_ALLOCATOR (self), 0);

  if (!nebula_multi_pool_ensure (self, NULL) || size > self->largest_request)
    return 0;

  index = nebula_multi_pool_class_for (self, MAX ((gsize) size, 1), 1);
  return index < 0 ? 0 : nebula_multi_pool_class_size ((guint) index);
}
