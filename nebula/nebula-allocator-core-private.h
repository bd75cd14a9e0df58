/* nebula-allocator-core-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-allocator-fast.h"
#include "nebula-error-private.h"
#include "nebula-layout-private.h"
#include "nebula-memory-budget-private.h"
#include "nebula-stats-private.h"

G_BEGIN_DECLS

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

/* Whether the configuration has been checked and the first chunk or slab
 * taken (nebula_allocator_config_ensure()), and if that failed, why. */
typedef struct
{
  gsize   once;                    /* NebulaConfigInitState; atomic */
  GError *error;                   /* why the configuration is invalid */
} NebulaInitState;

/* The configuration every built-in allocator shares: the common
 * properties, the budget account and the init state, each with its own
 * functions. */
typedef struct
{
  char         *name;              /* always valid UTF-8 */
  gboolean      name_not_utf8;     /* the name given was not: invalid */
  NebulaPreset  preset;
  gboolean      thread_safe;
  gboolean      track_stats;
  int           alloc_fill;        /* -1: off */
  int           free_fill;         /* -1: off */

  guint64       explicit_props;    /* bit n: property id n was given */

  NebulaBudgetAccount account;     /* the budget property and what it is
                                    * charged (nebula-memory-budget.c) */
  NebulaInitState     init;        /* nebula_allocator_config_ensure() */
} NebulaAllocatorConfig;

/* The states of NebulaInitState.once. */
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
void      nebula_allocator_config_set_refused        (NebulaAllocatorConfig  *config,
                                                      const char             *type_label,
                                                      const char             *property,
                                                      const char             *suggestion,
                                                      const char             *format,
                                                      ...) G_GNUC_PRINTF (5, 6);

/* Rules shared by several allocators, one message each (the first
 * problem found is kept, as for every rule). */
guint64   nebula_allocator_config_production_limit   (NebulaAllocatorConfig  *config,
                                                      guint                   prop_id,
                                                      guint64                 initial,
                                                      guint64                 limit);
void      nebula_allocator_config_check_capacity     (NebulaAllocatorConfig  *config,
                                                      const char             *type_label,
                                                      guint64                 capacity,
                                                      guint64                 max_capacity);

/* Runs @init once (thread-safe) and tells whether the configuration is
 * valid; bindings may skip g_initable_init(), so every slow path calls this
 * and the object initializes itself on first use. */
typedef void (*NebulaConfigInitFunc) (gpointer self);
gboolean  nebula_allocator_config_ensure             (NebulaAllocatorConfig  *config,
                                                      gpointer                self,
                                                      NebulaConfigInitFunc    init,
                                                      GError                **error);


/* Every built-in allocator starts with a NebulaAllocatorCore
 * (nebula-allocator-fast.h) right after its GObject, set up in its
 * instance init by nebula_allocator_core_init(), and its class_init calls
 * nebula_allocator_core_class_init() with its kind. The public wrappers of
 * NebulaAllocator then recognise a built-in by its class mark and run its
 * kind's inline path (nebula_allocator_core_try_alloc() and
 * _try_dealloc()); every other implementation (C, Python, gjs) is one
 * vtable call. */

void nebula_allocator_core_class_init (GObjectClass          *klass,
                                       NebulaAllocatorKind    kind);
void nebula_allocator_core_init       (gpointer               self,
                                       NebulaAllocatorKind    kind,
                                       NebulaStatsCounters   *counters,
                                       NebulaAllocatorConfig *config,
                                       gboolean               thread_safe_default);

/* The class marks: each built-in kind's class has its own constructed(),
 * which only chains up, so that the class alone tells the kind. Every
 * NebulaAllocator is a GObject, so reading its class's constructed is safe
 * whatever the implementation, where reading past the GObject would not
 * be (a Python class's instance ends there). One compare recognises a
 * bump allocator, as one class-pointer compare did before there was a
 * core, and each further kind costs one more. */
void nebula_allocator_core_constructed_bump   (GObject *object);
void nebula_allocator_core_constructed_pool   (GObject *object);
void nebula_allocator_core_constructed_stack  (GObject *object);
void nebula_allocator_core_constructed_system (GObject *object);
void nebula_allocator_core_constructed_multi_pool (GObject *object);

typedef void (*NebulaConstructedFunc) (GObject *object);

static inline NebulaConstructedFunc
nebula_allocator_core_mark (gconstpointer self)
{
  return G_OBJECT_GET_CLASS (self)->constructed;
}

static inline gboolean
nebula_allocator_core_mark_is_core (NebulaConstructedFunc mark)
{
  return mark == nebula_allocator_core_constructed_bump ||
         mark == nebula_allocator_core_constructed_pool ||
         mark == nebula_allocator_core_constructed_stack ||
         mark == nebula_allocator_core_constructed_system ||
         mark == nebula_allocator_core_constructed_multi_pool;
}

static inline gboolean
nebula_allocator_is_core (gconstpointer self)
{
  return nebula_allocator_core_mark_is_core (nebula_allocator_core_mark (self));
}

static inline NebulaAllocatorCore *
nebula_allocator_get_core (gconstpointer self)
{
  return _NEBULA_CORE (self);
}

/* The inline paths of every kind, for the public wrappers: FALSE sends the
 * request to the exported path, which handles (and explains) the rest,
 * including a %NULL or foreign @self. */
static inline gboolean
nebula_allocator_core_try_alloc (gconstpointer  self,
                                 gsize          size,
                                 gsize          alignment,
                                 gpointer      *out)
{
  NebulaConstructedFunc mark;

  if (G_UNLIKELY (self == NULL))
    return FALSE;

  /* The bump allocator's first, as before there was a core: it is the
   * one whose whole request is a handful of instructions. */
  mark = nebula_allocator_core_mark (self);
  if (G_LIKELY (mark == nebula_allocator_core_constructed_bump))
    return _nebula_bump_fast_alloc (_NEBULA_BUMP_FAST (self), size, alignment, out);
  if (mark == nebula_allocator_core_constructed_pool)
    return _nebula_pool_fast_alloc (_NEBULA_POOL_FAST (self), size, alignment, out);
  if (mark == nebula_allocator_core_constructed_stack)
    return _nebula_stack_fast_alloc (_NEBULA_STACK_FAST (self), size, alignment, out);

  return FALSE;
}

/* A kind's direct path: what the wrappers try once the inline paths
 * declined, before the full dispatch (one vtable call after the checks).
 * A kind sets it at the end of a successful initialization, in the modes
 * where its exported path would do nothing more than the direct one: a
 * thread-safe pool's magazines or shared list, a single-threaded pool's
 * free list, the System allocator's malloc. Each
 * function counts its own statistics. @alloc never sets an error: %NULL
 * declines, and the full dispatch then serves the request or explains
 * what is wrong with it; so it declines before any step that could fail
 * or be seen (a refill, a call to a budget). @dealloc either declines
 * (nothing done: a layout or a state the full path handles) or answers,
 * success or an error, exactly as the kind's vfunc would. */
typedef enum
{
  NEBULA_DIRECT_DECLINED,
  NEBULA_DIRECT_DONE,
  NEBULA_DIRECT_FAILED,
} NebulaDirectResult;

typedef struct
{
  gpointer           (*alloc)   (gpointer   self,
                                 gsize      size,
                                 gsize      alignment);
  NebulaDirectResult (*dealloc) (gpointer   self,
                                 gpointer   ptr,
                                 gsize      size,
                                 gsize      alignment,
                                 GError   **error);
  /* Optional (%NULL: unused): the whole request, for a kind whose direct
   * path is nearly all it ever runs (the System allocator). The dispatch
   * jumps to them instead of calling @alloc or @dealloc, one call level
   * and a frame fewer. They never decline: what they do not serve they
   * pass on to nebula_allocator_allocate_slow() or _deallocate_slow()
   * (nebula-allocator-private.h) themselves, as a tail call. @alloc and
   * @dealloc stay valid for other callers. */
  gpointer           (*alloc_all)   (gpointer   self,
                                     gsize      size,
                                     gsize      alignment,
                                     GError   **error);
  gboolean           (*dealloc_all) (gpointer   self,
                                     gpointer   ptr,
                                     gsize      size,
                                     gsize      alignment,
                                     GError   **error);
} NebulaCoreDirect;

/* The layouts a direct path serves: a size from 1 to @max_size and an
 * alignment that is a power of two up to @max_alignment (size - 1 wraps
 * for 0, alignment - 1 for 0; an alignment that is not a power of two
 * shares a bit with the number below it). */
static inline gboolean
nebula_allocator_core_direct_layout_ok (gsize size,
                                        gsize alignment,
                                        gsize max_size,
                                        gsize max_alignment)
{
  return size - 1 < max_size && alignment - 1 < max_alignment &&
         (alignment & (alignment - 1)) == 0;
}

/* Published with a release store: a thread-safe allocator may meet its
 * first calls on several threads, whose wrappers read it at once. */
void nebula_allocator_core_set_direct (gpointer                self,
                                       const NebulaCoreDirect *direct);

static inline const NebulaCoreDirect *
nebula_allocator_core_direct (gconstpointer self)
{
  NebulaConstructedFunc mark;

  if (G_UNLIKELY (self == NULL))
    return NULL;
  /* The System allocator's mark first, on its own branch: its direct
   * path is nearly all it runs, and this test costs it two instructions
   * instead of the five compares. The empty asm hides the mark from GCC,
   * which would otherwise fold this compare back into the five. */
  mark = nebula_allocator_core_mark (self);
  if (mark != nebula_allocator_core_constructed_system)
    {
      __asm__ ("" : "+r" (mark));
      if (!nebula_allocator_core_mark_is_core (mark))
        return NULL;
    }

  return __atomic_load_n (&nebula_allocator_get_core (self)->direct, __ATOMIC_ACQUIRE);
}

static inline gboolean
nebula_allocator_core_try_dealloc (gconstpointer  self,
                                   gpointer       ptr,
                                   gsize          size,
                                   gsize          alignment)
{
  NebulaConstructedFunc mark;

  if (G_UNLIKELY (self == NULL))
    return FALSE;

  mark = nebula_allocator_core_mark (self);
  if (G_LIKELY (mark == nebula_allocator_core_constructed_bump))
    return _nebula_bump_fast_dealloc (_NEBULA_BUMP_FAST (self), ptr, size, alignment);
  if (mark == nebula_allocator_core_constructed_pool)
    return _nebula_pool_fast_dealloc (_NEBULA_POOL_FAST (self), ptr, size, alignment);
  if (mark == nebula_allocator_core_constructed_stack)
    return _nebula_stack_fast_dealloc (_NEBULA_STACK_FAST (self), ptr, size, alignment);

  return FALSE;
}

/* Each allocator's file pins where its fast fields lie. */
#define NEBULA_ASSERT_CORE_LAYOUT(Type)                                            \
  G_STATIC_ASSERT (G_STRUCT_OFFSET (Type, core) == sizeof (GObject));              \
  G_STATIC_ASSERT (G_STRUCT_OFFSET (Type, fast) == sizeof (GObject) + sizeof (NebulaAllocatorCore))

G_END_DECLS
