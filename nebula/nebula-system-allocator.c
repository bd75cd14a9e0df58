/* nebula-system-allocator.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#if HAVE_MALLOC_USABLE_SIZE
# include <malloc.h>
#endif

#include "nebula-allocator-core-private.h"
#include "nebula-allocator-private.h"
#include "nebula-allocator-report-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-sanitizer-private.h"
#include "nebula-system-allocator-private.h"
#include "nebula-system-table-private.h"

/**
 * NebulaSystemAllocator:
 *
 * malloc() and free() behind the [iface@Allocator] interface: the baseline
 * that the region allocators are measured against, and a fallback.
 *
 * With [property@SystemAllocator:check-frees] on (the default) it remembers
 * every live block, so a foreign or twice-freed pointer gives an error
 * instead of corrupting the C heap, and [method@Allocator.reset] frees
 * everything. With it off, it is plain malloc(): nothing is remembered, a
 * bad pointer is undefined behaviour and reset does nothing.
 *
 * nebula_allocator_allocate() and nebula_allocator_deallocate() call
 * malloc() and free() with little more than the check of the live blocks
 * and the statistics, unless a budget or a fill pattern asks for more.
 */

enum {
  PROP_CHECK_FREES = NEBULA_CONFIG_N_PROPS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void allocator_iface_init (NebulaAllocatorInterface *iface);
static void initable_iface_init  (GInitableIface           *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NebulaSystemAllocator, nebula_system_allocator, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (NEBULA_TYPE_ALLOCATOR, allocator_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init))

static void
system_init_once (gpointer data)
{
  NebulaSystemAllocator *self = data;

  nebula_allocator_config_validate (&self->config, "System allocator");

  if (!nebula_allocator_config_is_explicit (&self->config, PROP_CHECK_FREES))
    self->check_frees = self->config.preset != NEBULA_PRESET_PERFORMANCE;

  nebula_stats_counters_init (&self->stats, self->config.track_stats, self->config.thread_safe);
  self->stats_key = nebula_stats_cache_key_new ();
  if (self->check_frees)
    self->live = nebula_system_table_new (self->config.thread_safe);

  /* The wrappers' direct path: malloc, the table and the counters. A
   * budget to charge or a fill pattern keeps every request on the
   * exported path. */
  if (self->config.init.error == NULL && self->config.account.budget == NULL &&
      self->config.alloc_fill < 0 && self->config.free_fill < 0)
    nebula_allocator_core_set_direct (self, nebula_system_allocator_direct (self->live != NULL,
                                                                            self->config.thread_safe,
                                                                            self->config.track_stats));
}

static inline gboolean
ensure_ready (NebulaSystemAllocator  *self,
              GError                **error)
{
  return nebula_allocator_config_ensure (&self->config, self, system_init_once, error);
}

static gpointer
system_malloc (gsize size,
               gsize alignment)
{
  gpointer ptr = NULL;

  if (alignment <= 2 * sizeof (gpointer))
    return malloc (size);

  if (posix_memalign (&ptr, MAX (alignment, sizeof (gpointer)), size) != 0)
    return NULL;

  return ptr;
}

static void
set_out_of_memory (NebulaSystemAllocator  *self,
                   gsize                   size,
                   gsize                   alignment,
                   GError                **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY, &info,
                    "%s: the system refused %" G_GSIZE_FORMAT " bytes (alignment %"
                    G_GSIZE_FORMAT ")", what, size, alignment);
}

/* With check-frees, records a new block so that frees can be checked and
 * reset can free it; FALSE (the block freed, @error set) when the table
 * could not grow. */
static gboolean
remember_block (NebulaSystemAllocator  *self,
                gpointer                ptr,
                gsize                   size,
                gsize                   alignment,
                GError                **error)
{
  if (self->live == NULL || G_LIKELY (nebula_system_table_insert (self->live, ptr, size)))
    return TRUE;

  free (ptr);
  nebula_budget_account_uncharge (&self->config.account, size);
  set_out_of_memory (self, size, alignment, error);
  return FALSE;
}

static gpointer
nebula_system_allocator_allocate (NebulaAllocator  *allocator,
                                  gsize             size,
                                  gsize             alignment,
                                  GError          **error)
{
  NebulaSystemAllocator *self = (NebulaSystemAllocator *) allocator;  /* checked by the dispatch */
  gpointer ptr;

  if (!ensure_ready (self, error) ||
      !nebula_budget_account_charge (&self->config.account, size, error))
    return NULL;

  ptr = system_malloc (size, alignment);
  if (ptr == NULL)
    {
      nebula_budget_account_uncharge (&self->config.account, size);
      set_out_of_memory (self, size, alignment, error);
      return NULL;
    }

  if (self->config.alloc_fill >= 0)
    memset (ptr, self->config.alloc_fill, size);

  return remember_block (self, ptr, size, alignment, error) ? ptr : NULL;
}

static gpointer
nebula_system_allocator_allocate_zeroed (NebulaAllocator  *allocator,
                                         gsize             size,
                                         gsize             alignment,
                                         GError          **error)
{
  NebulaSystemAllocator *self = (NebulaSystemAllocator *) allocator;  /* checked by the dispatch */
  gpointer ptr;

  if (!ensure_ready (self, error) ||
      !nebula_budget_account_charge (&self->config.account, size, error))
    return NULL;

  if (alignment <= 2 * sizeof (gpointer))
    ptr = calloc (1, size);
  else if ((ptr = system_malloc (size, alignment)) != NULL)
    memset (ptr, 0, size);

  if (ptr == NULL)
    {
      nebula_budget_account_uncharge (&self->config.account, size);
      set_out_of_memory (self, size, alignment, error);
      return NULL;
    }

  return remember_block (self, ptr, size, alignment, error) ? ptr : NULL;
}

/* With check-frees, reports a foreign or freed pointer or a size that does
 * not match, given what the table said; for a wrong size it looks up the
 * size the block was allocated with. Out of line: the direct path only
 * tests the result, and keeps no slot for that size. */
G_NO_INLINE gboolean
nebula_system_allocator_report_bad_free (NebulaSystemAllocator    *self,
                                         NebulaSystemTableResult   result,
                                         gpointer                  ptr,
                                         gsize                     size,
                                         GError                  **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };
  gsize stored = 0;

  /* Another thread may have freed the block since: then it is not live. */
  if (result == NEBULA_SYSTEM_TABLE_WRONG_SIZE &&
      nebula_system_table_lookup (self->live, ptr, &stored) && stored != size)
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, &info,
                      "%s: block %p was allocated with %" G_GSIZE_FORMAT
                      " bytes but freed with %" G_GSIZE_FORMAT,
                      what, ptr, stored, size);
  else
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, &info,
                      "%s: %p is not a live block of this allocator (foreign, or already freed)",
                      what, ptr);
  return FALSE;
}


/* Looks @ptr up without taking it: TAKEN means live with @size. */
static NebulaSystemTableResult
look_up (NebulaSystemAllocator *self,
         gpointer               ptr,
         gsize                  size,
         gsize                 *stored)
{
  if (!nebula_system_table_lookup (self->live, ptr, stored))
    return NEBULA_SYSTEM_TABLE_ABSENT;
  return *stored == size ? NEBULA_SYSTEM_TABLE_TAKEN : NEBULA_SYSTEM_TABLE_WRONG_SIZE;
}

static gboolean
nebula_system_allocator_deallocate (NebulaAllocator  *allocator,
                                    gpointer          ptr,
                                    gsize             size,
                                    gsize             alignment,
                                    GError          **error)
{
  NebulaSystemAllocator *self = (NebulaSystemAllocator *) allocator;  /* checked by the dispatch */

  if (!ensure_ready (self, error))
    return FALSE;

  if (self->live != NULL)
    {
      NebulaSystemTableResult result = nebula_system_table_take (self->live, ptr, size, NULL);

      if (!nebula_system_allocator_check_result (self, result, ptr, size, error))
        return FALSE;
    }

  if (self->config.free_fill >= 0)
    memset (ptr, self->config.free_fill, size);

  free (ptr);
  nebula_budget_account_uncharge (&self->config.account, size);
  return TRUE;
}

static gpointer
nebula_system_allocator_reallocate (NebulaAllocator  *allocator,
                                    gpointer          ptr,
                                    gsize             old_size,
                                    gsize             new_size,
                                    gsize             alignment,
                                    GError          **error)
{
  NebulaSystemAllocator *self = (NebulaSystemAllocator *) allocator;  /* checked by the dispatch */
  gpointer new_ptr;

  if (!ensure_ready (self, error))
    return NULL;

  if (self->live != NULL)
    {
      gsize stored = 0;
      NebulaSystemTableResult result = look_up (self, ptr, old_size, &stored);

      if (!nebula_system_allocator_check_result (self, result, ptr, old_size, error))
        return NULL;
    }

  if (new_size > old_size &&
      !nebula_budget_account_charge (&self->config.account, new_size - old_size, error))
    return NULL;

  if (alignment <= 2 * sizeof (gpointer))
    {
      new_ptr = realloc (ptr, new_size);
    }
  else
    {
      new_ptr = system_malloc (new_size, alignment);
      if (new_ptr != NULL)
        {
          memcpy (new_ptr, ptr, MIN (old_size, new_size));
          free (ptr);
        }
    }

  if (new_ptr == NULL)
    {
      if (new_size > old_size)
        nebula_budget_account_uncharge (&self->config.account, new_size - old_size);
      set_out_of_memory (self, new_size, alignment, error);
      return NULL;
    }

  if (new_size < old_size)
    nebula_budget_account_uncharge (&self->config.account, old_size - new_size);

  if (self->live != NULL && !nebula_system_table_move (self->live, ptr, new_ptr, new_size))
    {
      /* The block is valid but the table could not hold it: give it back
       * rather than hand out a block no free would accept. */
      free (new_ptr);
      nebula_budget_account_uncharge (&self->config.account, new_size);
      set_out_of_memory (self, new_size, alignment, error);
      return NULL;
    }

  return new_ptr;
}

/* Frees a live block at reset and counts its bytes. */
static void
free_block (gpointer ptr,
            gsize    size,
            gpointer user_data)
{
  guint64 *n_bytes = user_data;

  *n_bytes += size;
  free (ptr);
}

static void
nebula_system_allocator_reset (NebulaAllocator *allocator)
{
  NebulaSystemAllocator *self = (NebulaSystemAllocator *) allocator;  /* checked by the dispatch */
  guint64 n_bytes = 0;

  if (!ensure_ready (self, NULL) || self->live == NULL)
    return;

  nebula_system_table_foreach (self->live, free_block, &n_bytes, TRUE);
  nebula_budget_account_uncharge (&self->config.account, n_bytes);
}

/* The report's System part: how many blocks live and, where the C library
 * tells the usable size of a block, how much of what malloc reserved for
 * them they leave unused. */
typedef struct
{
  guint64 n_blocks;
  guint64 requested;
  guint64 usable;
} ReportSums;

static void
add_to_report (gpointer ptr,
               gsize    size,
               gpointer user_data)
{
  ReportSums *sums = user_data;

  sums->n_blocks++;
  sums->requested += size;
#if HAVE_MALLOC_USABLE_SIZE
  sums->usable += malloc_usable_size (ptr);
#endif
}

static void
system_report (NebulaAllocator *allocator,
               GVariantDict    *report)
{
  NebulaSystemAllocator *self = NEBULA_SYSTEM_ALLOCATOR (allocator);
  ReportSums sums = { 0 };

  if (!ensure_ready (self, NULL) || self->live == NULL)
    return;

  nebula_system_table_foreach (self->live, add_to_report, &sums, FALSE);
  g_variant_dict_insert (report, "blocks", "t", sums.n_blocks);
  if (sums.usable >= sums.requested && sums.usable != 0)
    g_variant_dict_insert (report, "fragmentation", "d",
                           (double) (sums.usable - sums.requested) / (double) sums.usable);
}

static gboolean
nebula_system_allocator_owns (NebulaAllocator *allocator,
                              gconstpointer    ptr)
{
  NebulaSystemAllocator *self = (NebulaSystemAllocator *) allocator;  /* checked by the dispatch */

  if (!ensure_ready (self, NULL) || self->live == NULL)
    return FALSE;

  return nebula_system_table_lookup (self->live, ptr, NULL);
}

typedef struct
{
  guintptr start;
  gsize    size;
  gboolean inside;
} SpanSearch;

static void
find_span (gpointer ptr,
           gsize    size,
           gpointer user_data)
{
  SpanSearch *search = user_data;

  if (!search->inside &&
      nebula_span_within (search->start, search->size, ptr, (guint8 *) ptr + MAX (size, 1)))
    search->inside = TRUE;
}

/* The span check for scripts (nebula-allocator-script-private.h). With
 * check-frees the table of live blocks answers; a range inside a block
 * needs a walk of the table, which only scripts pay for. Without it, malloc
 * knows nothing we could ask safely: the script ledger answers. */
static NebulaSpanResult
system_span (NebulaAllocator *allocator,
             guintptr         start,
             gsize            size,
             NebulaSpanKind   kind,
             gsize           *block_size)
{
  NebulaSystemAllocator *self = (NebulaSystemAllocator *) allocator;
  SpanSearch search = { .start = start, .size = size };

  if (!ensure_ready (self, NULL))
    return NEBULA_SPAN_NOT_READY;
  if (self->live == NULL)
    return NEBULA_SPAN_UNTRACKED;
  /* With check-frees, a free and a resize look the block up themselves,
   * and say precisely what is wrong. */
  if (kind != NEBULA_SPAN_INSIDE)
    return NEBULA_SPAN_DEFER;

  if (nebula_system_table_lookup (self->live, GSIZE_TO_POINTER (start), block_size))
    return size <= MAX (*block_size, 1) ? NEBULA_SPAN_OK : NEBULA_SPAN_FOREIGN;

  nebula_system_table_foreach (self->live, find_span, &search, FALSE);
  return search.inside ? NEBULA_SPAN_OK : NEBULA_SPAN_FOREIGN;
}

static void
allocator_iface_init (NebulaAllocatorInterface *iface)
{
  iface->alloc = nebula_system_allocator_allocate;
  iface->alloc_zeroed = nebula_system_allocator_allocate_zeroed;
  iface->resize = nebula_system_allocator_reallocate;
  iface->dealloc = nebula_system_allocator_deallocate;
  iface->reset = nebula_system_allocator_reset;
  iface->contains = nebula_system_allocator_owns;
}

static gboolean
nebula_system_allocator_initable_init (GInitable     *initable,
                                       GCancellable  *cancellable,
                                       GError       **error)
{
  return ensure_ready (NEBULA_SYSTEM_ALLOCATOR (initable), error);
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = nebula_system_allocator_initable_init;
}

static void
nebula_system_allocator_finalize (GObject *object)
{
  NebulaSystemAllocator *self = (NebulaSystemAllocator *) object;

  if (self->live != NULL)
    {
      nebula_system_allocator_reset (NEBULA_ALLOCATOR (self));
      g_clear_pointer (&self->live, nebula_system_table_free);
    }
  nebula_stats_counters_clear (&self->stats);
  nebula_allocator_config_clear (&self->config);

  G_OBJECT_CLASS (nebula_system_allocator_parent_class)->finalize (object);
}

static void
nebula_system_allocator_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  NebulaSystemAllocator *self = NEBULA_SYSTEM_ALLOCATOR (object);

  if (nebula_allocator_config_get_property (&self->config, prop_id, value))
    return;

  switch (prop_id)
    {
    case NEBULA_CONFIG_PROP_CAPACITY:
    case NEBULA_CONFIG_PROP_BYTES_AVAILABLE:
      g_value_set_uint64 (value, 0);
      break;

    case NEBULA_CONFIG_PROP_BYTES_USED:
      if (self->live != NULL)
        {
          guint64 n_bytes = 0;

          nebula_system_table_totals (self->live, NULL, &n_bytes);
          g_value_set_uint64 (value, n_bytes);
        }
      else
        {
          NebulaAllocatorStats stats;

          nebula_stats_counters_read (&self->stats, &stats);
          g_value_set_uint64 (value, stats.bytes_in_use);
        }
      break;

    case PROP_CHECK_FREES:
      g_value_set_boolean (value, self->check_frees);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_system_allocator_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  NebulaSystemAllocator *self = NEBULA_SYSTEM_ALLOCATOR (object);

  if (!nebula_allocator_config_begin_set (&self->config, object, pspec) ||
      nebula_allocator_config_set_property (&self->config, prop_id, value))
    return;

  switch (prop_id)
    {
    case PROP_CHECK_FREES:
      self->check_frees = g_value_get_boolean (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_system_allocator_class_init (NebulaSystemAllocatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  nebula_allocator_core_class_init (object_class, NEBULA_ALLOCATOR_KIND_SYSTEM);
  object_class->finalize = nebula_system_allocator_finalize;
  object_class->get_property = nebula_system_allocator_get_property;
  object_class->set_property = nebula_system_allocator_set_property;

  /**
   * NebulaSystemAllocator:capacity:
   *
   * Always 0: malloc() has no fixed capacity.
   */
  /**
   * NebulaSystemAllocator:name:
   *
   * A name used in error messages, reports and statistics.
   */
  /**
   * NebulaSystemAllocator:thread-safe:
   *
   * Whether several threads may use the allocator at once; on by default.
   * With [property@SystemAllocator:check-frees] a lock guards the table of
   * live blocks; without it, the allocator is as thread-safe as malloc().
   */
  /**
   * NebulaSystemAllocator:track-stats:
   *
   * Whether to keep statistics. Off in the PERFORMANCE preset.
   */
  /**
   * NebulaSystemAllocator:alloc-fill:
   *
   * A byte value (0..255) written over every new allocation, or -1 for none.
   * 0xAA in the DEBUG preset.
   */
  /**
   * NebulaSystemAllocator:free-fill:
   *
   * A byte value (0..255) written over a block before it is freed, or -1
   * for none. 0xDD in the DEBUG preset.
   */
  /**
   * NebulaSystemAllocator:preset:
   *
   * The #NebulaPreset whose defaults apply to the properties not given
   * explicitly.
   */
  /**
   * NebulaSystemAllocator:budget:
   *
   * A #NebulaMemoryBudget charged for every block (its requested size) and
   * released when the block is freed, shrunk, reset or the allocator
   * finalized; %NULL for none. A refused charge fails the request with
   * %NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED.
   */
  nebula_allocator_config_install_properties (object_class, properties, TRUE,
                                              NEBULA_CAPACITY_READ_ONLY, 0);
  nebula_allocator_set_report_func (G_TYPE_FROM_CLASS (klass), system_report);
  nebula_allocator_set_span_func (G_TYPE_FROM_CLASS (klass), system_span);

  /**
   * NebulaSystemAllocator:check-frees:
   *
   * Remember live blocks so that foreign and double frees are errors and
   * reset frees everything. Off in the PERFORMANCE preset.
   */
  properties[PROP_CHECK_FREES] =
    g_param_spec_boolean ("check-frees", NULL, NULL,
                          TRUE,
                          NEBULA_CONFIG_PARAM_FLAGS);
  g_object_class_install_property (object_class, PROP_CHECK_FREES, properties[PROP_CHECK_FREES]);
}

static void
nebula_system_allocator_init (NebulaSystemAllocator *self)
{
  nebula_allocator_core_init (self, NEBULA_ALLOCATOR_KIND_SYSTEM, &self->stats, &self->config, TRUE);
  self->check_frees = TRUE;
}

/**
 * nebula_system_allocator_new:
 * @error: return location for a #GError
 *
 * Creates a system allocator with the default configuration.
 *
 * Returns: (transfer full): a new #NebulaSystemAllocator, or %NULL with
 *   @error set
 */
NebulaSystemAllocator *
nebula_system_allocator_new (GError **error)
{
  return g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, error, NULL);
}
