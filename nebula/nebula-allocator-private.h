/* nebula-allocator-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "nebula-allocator.h"
#include "nebula-memory-budget.h"
#include "nebula-error-private.h"
#include "nebula-stats-private.h"

G_BEGIN_DECLS

/* The largest request the inline fast paths (NebulaBumpFast,
 * NebulaStackFast) may serve: below it none of their arithmetic can wrap,
 * and larger requests cannot succeed anyway (a chunk is at most
 * G_MAXSSIZE). */
#define NEBULA_MAX_FAST_SIZE ((gsize) G_GUINT64_CONSTANT (0x3FFFFFFFFFFFFFFF))

/* The fast fields are read by inline functions compiled into callers, so
 * their layout is ABI: every field is one word (block_shift, a guint, is
 * padded to one), at the place these assertions pin. */
#define NEBULA_ASSERT_FAST_FIELD(Type, field, index) \
  G_STATIC_ASSERT (G_STRUCT_OFFSET (Type, field) == (index) * sizeof (gpointer))

/* The largest request any allocator accepts. */
#define NEBULA_MAX_ALLOCATION_SIZE ((gsize) G_MAXSSIZE)

/* One branch for the common case; nebula_layout_check() says what is wrong. */
static inline gboolean
nebula_layout_is_valid (gsize size,
                        gsize alignment)
{
  return (alignment & (alignment - 1)) == 0 &&
         alignment != 0 &&
         size <= NEBULA_MAX_ALLOCATION_SIZE;
}

gboolean nebula_layout_check (NebulaAllocator  *self,
                              gsize             size,
                              gsize             alignment,
                              GError          **error);

void     nebula_allocator_record_failure (NebulaAllocator *self);

/* The counters the public wrappers record into. */
NebulaStatsCounters *nebula_allocator_get_counters (NebulaAllocator *self);

/* Reports. nebula_allocator_get_report() fills in what every allocator has
 * (type, name, configuration, statistics); a type adds its own part (its
 * chunks or slabs, with "size" and "used", and "fragmentation") with a
 * function registered once, in class_init:
 *
 *   nebula_allocator_set_report_func (G_TYPE_FROM_CLASS (klass), pool_report);
 *
 * The function runs on the caller's thread, with the allocator quiescent or
 * not: take the locks the data needs. Keys of the common part are listed
 * in nebula-allocator-report.c. */
typedef void (*NebulaAllocatorReportFunc) (NebulaAllocator *self,
                                           GVariantDict    *report);
void nebula_allocator_set_report_func (GType                      type,
                                       NebulaAllocatorReportFunc  func);

/* Span checks: what the script entry points (the `_address` functions,
 * view() in Python, the memory utilities for bindings) ask before they let
 * an address from a script reach memory. A built-in type registers one in
 * class_init, like its report function:
 *
 *   nebula_allocator_set_span_func (G_TYPE_FROM_CLASS (klass), pool_span);
 *
 * NEBULA_SPAN_FREE and NEBULA_SPAN_RESIZE ask whether [start, start + size)
 * begins a live block at least @size bytes long (before a free, before a
 * resize, which may copy @size bytes from @start); NEBULA_SPAN_INSIDE
 * whether it lies wholly inside one live block, or, for an allocator that
 * does not know where its blocks end (bump, stack), inside the used part of
 * one chunk. The function never dereferences @start, takes the allocator's
 * own locks, and must not wrap: start + size past the address space is
 * NEBULA_SPAN_FOREIGN. On NEBULA_SPAN_WRONG_SIZE it stores the size of the
 * block found in @block_size. NEBULA_SPAN_UNTRACKED means "these bytes lie
 * in my blocks but I do not know whether the block is live" (Pool and
 * System without check-frees): the caller then consults the script ledger
 * (nebula-allocator-script.c). NEBULA_SPAN_NOT_READY: the allocator's
 * configuration is invalid (its GInitable init says why).
 * NEBULA_SPAN_DEFER, for a free or resize only: not a live block of that
 * size, but the allocator's own free and resize check this very fact before
 * they touch memory (a pool or system allocator with check-frees, a stack)
 * and say precisely what is wrong (DOUBLE_FREE, OUT_OF_ORDER, ...): the
 * script entry point lets them. The C fast paths never call these. */
typedef enum
{
  NEBULA_SPAN_FREE,
  NEBULA_SPAN_RESIZE,
  NEBULA_SPAN_INSIDE,
} NebulaSpanKind;

typedef enum
{
  NEBULA_SPAN_OK,
  NEBULA_SPAN_FOREIGN,
  NEBULA_SPAN_WRONG_SIZE,
  NEBULA_SPAN_UNTRACKED,
  NEBULA_SPAN_NOT_READY,
  NEBULA_SPAN_DEFER,
} NebulaSpanResult;

typedef NebulaSpanResult (*NebulaAllocatorSpanFunc) (NebulaAllocator *self,
                                                     guintptr         start,
                                                     gsize            size,
                                                     NebulaSpanKind   kind,
                                                     gsize           *block_size);
void                    nebula_allocator_set_span_func (GType                    type,
                                                        NebulaAllocatorSpanFunc  func);
NebulaAllocatorSpanFunc nebula_allocator_get_span_func (GType                    type);

/* Whether [start, start + size) is a range of addresses at all: no wrap
 * past the end of the address space (and no size above G_MAXSSIZE). */
static inline gboolean
nebula_span_is_sane (guint64 start,
                     guint64 size)
{
  return start <= (guint64) (guintptr) -1 && size <= (guint64) G_MAXSSIZE &&
         (guintptr) start <= (guintptr) -1 - (guintptr) size;
}

/* Whether [start, start + size) lies in [lo, hi). Callers checked
 * nebula_span_is_sane(). */
static inline gboolean
nebula_span_within (guintptr      start,
                    gsize         size,
                    gconstpointer lo,
                    gconstpointer hi)
{
  return start >= (guintptr) lo && start < (guintptr) hi &&
         size <= (guintptr) hi - start;
}

/* The process-wide registry of live built-in allocators, which the memory
 * utilities for bindings search (nebula-utils.c). An allocator is added
 * when its configuration first initializes (nebula_allocator_config_ensure)
 * and removed by a weak reference when it is disposed: it never keeps one
 * alive. Returns TRUE if one of them accepts the span as NEBULA_SPAN_INSIDE
 * (or, for an untracked span, its script ledger does). */
gboolean nebula_allocator_registry_check_span (guintptr start,
                                               gsize    size);
void     nebula_allocator_registry_add        (NebulaAllocator *self);

/* JSON text of any GVariant (g_variant_print() is not JSON). */
char *nebula_variant_to_json (GVariant *value);

/* "Bump allocator 'frames'" or "Bump allocator": for messages. */
char *nebula_allocator_describe (NebulaAllocator *self);

/* The configuration shared by every built-in allocator. Each class lays its
 * own property ids after NEBULA_CONFIG_N_PROPS. */
enum {
  NEBULA_CONFIG_PROP_0,
  NEBULA_CONFIG_PROP_NAME,
  NEBULA_CONFIG_PROP_THREAD_SAFE,
  NEBULA_CONFIG_PROP_TRACK_STATS,
  NEBULA_CONFIG_PROP_ALLOC_FILL,
  NEBULA_CONFIG_PROP_FREE_FILL,
  NEBULA_CONFIG_PROP_PRESET,
  NEBULA_CONFIG_PROP_BUDGET,
  NEBULA_CONFIG_PROP_CAPACITY,
  NEBULA_CONFIG_PROP_BYTES_USED,
  NEBULA_CONFIG_PROP_BYTES_AVAILABLE,
  NEBULA_CONFIG_N_PROPS
};

typedef struct
{
  char         *name;              /* always valid UTF-8 */
  gboolean      name_not_utf8;     /* the name given was not: invalid */
  NebulaPreset  preset;
  gboolean      thread_safe;
  gboolean      track_stats;
  int           alloc_fill;        /* -1: off */
  int           free_fill;         /* -1: off */
  NebulaMemoryBudget *budget;      /* owned, or NULL */
  guint64       charged;           /* bytes charged to budget; atomic */

  guint64       explicit_props;    /* bit n: property id n was given */
  gsize         init_once;         /* NebulaConfigInitState; atomic */
  GError       *init_error;        /* why the configuration is invalid */
} NebulaAllocatorConfig;

/* The states of NebulaAllocatorConfig.init_once. */
typedef enum
{
  NEBULA_CONFIG_INIT_NONE,
  NEBULA_CONFIG_INIT_RUNNING,
  NEBULA_CONFIG_INIT_DONE,
} NebulaConfigInitState;

/* Configuration properties: writable until the object initializes. */
#define NEBULA_CONFIG_PARAM_FLAGS \
  (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS)

typedef enum
{
  NEBULA_CAPACITY_READ_ONLY,
  NEBULA_CAPACITY_CONSTRUCT,
} NebulaCapacityMode;

void      nebula_allocator_config_install_properties (GObjectClass           *klass,
                                                      GParamSpec            **pspecs,
                                                      gboolean                thread_safe_default,
                                                      NebulaCapacityMode      capacity_mode,
                                                      guint64                 capacity_default);
void      nebula_allocator_config_init               (NebulaAllocatorConfig  *config,
                                                      gboolean                thread_safe_default);
void      nebula_allocator_config_clear              (NebulaAllocatorConfig  *config);
gboolean  nebula_allocator_config_set_property       (NebulaAllocatorConfig  *config,
                                                      guint                   prop_id,
                                                      const GValue           *value);
gboolean  nebula_allocator_config_get_property       (NebulaAllocatorConfig  *config,
                                                      guint                   prop_id,
                                                      GValue                 *value);
gboolean  nebula_allocator_config_begin_set          (NebulaAllocatorConfig  *config,
                                                      GObject                *object,
                                                      GParamSpec             *pspec);
gboolean  nebula_allocator_config_is_explicit        (NebulaAllocatorConfig  *config,
                                                      guint                   prop_id);
void      nebula_allocator_config_apply_preset       (NebulaAllocatorConfig  *config);
void      nebula_allocator_config_validate           (NebulaAllocatorConfig  *config,
                                                      const char             *type_label);
void      nebula_allocator_config_set_invalid        (NebulaAllocatorConfig  *config,
                                                      const char             *type_label,
                                                      const char             *property,
                                                      const char             *format,
                                                      ...) G_GNUC_PRINTF (4, 5);

/* Runs @init once (thread-safe) and tells whether the configuration is
 * valid; bindings may skip g_initable_init(), so every slow path calls this
 * and the object initializes itself on first use. */
typedef void (*NebulaConfigInitFunc) (gpointer self);
gboolean  nebula_allocator_config_ensure             (NebulaAllocatorConfig  *config,
                                                      gpointer                self,
                                                      NebulaConfigInitFunc    init,
                                                      GError                **error);

/* Memory budgets. An allocator charges the memory it takes from the system
 * (chunks, slabs, blocks: what it holds, not what callers asked for) before
 * it takes it, and uncharges it when it gives it back:
 *
 *   if (!nebula_allocator_config_charge (&self->config, slab_size, error))
 *     return NULL;                        // BUDGET_EXCEEDED, nothing taken
 *   slab = g_try_malloc (slab_size);
 *   if (slab == NULL)
 *     {
 *       nebula_allocator_config_uncharge (&self->config, slab_size);
 *       ...OUT_OF_MEMORY...
 *     }
 *   ...
 *   g_free (slab);                        // on shrink, reset, finalize
 *   nebula_allocator_config_uncharge (&self->config, slab_size);
 *
 * Both are no-ops without a budget and safe from any thread. The config
 * counts what it charged, so nebula_allocator_config_clear() gives back
 * whatever is still charged when the allocator is finalized, and uncharge
 * never releases more than was charged. A Pool charges each slab (the first
 * one in its init function, so that a budget too small for it makes
 * construction fail with BUDGET_EXCEEDED), a Stack its buffer(s).
 *
 * A charge may emit the budget's signals. If the allocator charges while it
 * holds a lock of its own, it brackets the locked region so that the
 * signals wait until it unlocks (handlers may call back into it):
 *
 *   nebula_memory_budget_hold_signals ();
 *   g_mutex_lock (&self->lock);
 *   ...charge...
 *   g_mutex_unlock (&self->lock);
 *   nebula_memory_budget_emit_held_signals ();
 *
 * Holding is per thread and nests; it costs a thread-local increment. */
gboolean  nebula_allocator_config_charge             (NebulaAllocatorConfig  *config,
                                                      gsize                   size,
                                                      GError                **error);
void      nebula_allocator_config_uncharge           (NebulaAllocatorConfig  *config,
                                                      gsize                   size);
void      nebula_memory_budget_hold_signals          (void);
void      nebula_memory_budget_emit_held_signals     (void);

G_END_DECLS
