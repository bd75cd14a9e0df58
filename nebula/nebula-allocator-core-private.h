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
 * NebulaAllocator then recognise any built-in with one test, the class
 * mark, and branch on the kind its core holds to the inline path of a
 * bump, pool or stack allocator (nebula_allocator_core_try_alloc_kind()
 * and _try_dealloc_kind()); what that declines, and every request of the
 * other kinds, is one jump through the core's whole-request entry points
 * (nebula_allocator_core_alloc_all() and _dealloc_all(): the kind's direct
 * path, or the exported path). Every other implementation (C, Python,
 * gjs) is one vtable call. */

void nebula_allocator_core_class_init (GObjectClass          *klass,
                                       NebulaAllocatorKind    kind);
void nebula_allocator_core_init       (gpointer               self,
                                       NebulaAllocatorKind    kind,
                                       NebulaStatsCounters   *counters,
                                       NebulaAllocatorConfig *config,
                                       gboolean               thread_safe_default);

/* The class mark: every built-in class's constructed(), which only chains
 * up, so that the class alone says whether an instance is a built-in.
 * Every NebulaAllocator is a GObject, so reading its class's constructed
 * is safe whatever the implementation, where reading past the GObject
 * would not be (a Python class's instance ends there); once the mark says
 * it is a built-in, its core, and so its kind, lies right after the
 * GObject. The built-in types are final: no class from outside can
 * inherit the mark (tests/c/test-allocator.c, "dispatch"). */
void nebula_allocator_core_constructed (GObject *object);

static inline gboolean
nebula_allocator_is_core (gconstpointer self)
{
  return G_OBJECT_GET_CLASS (self)->constructed == nebula_allocator_core_constructed;
}

static inline NebulaAllocatorCore *
nebula_allocator_get_core (gconstpointer self)
{
  return _NEBULA_CORE (self);
}

/* The one test of the wrappers: whether @self is a built-in (%NULL is
 * not). Its core's kind is then never NEBULA_ALLOCATOR_KIND_NONE. */
static inline gboolean
nebula_allocator_is_core_nonnull (gconstpointer self)
{
  return G_LIKELY (self != NULL) && nebula_allocator_is_core (self);
}

/* The kind of @self, or NEBULA_ALLOCATOR_KIND_NONE for %NULL and for every
 * implementation that is not a built-in: the one test, then one load. */
static inline NebulaAllocatorKind
nebula_allocator_core_kind (gconstpointer self)
{
  if (G_UNLIKELY (!nebula_allocator_is_core_nonnull (self)))
    return NEBULA_ALLOCATOR_KIND_NONE;
  return (NebulaAllocatorKind) nebula_allocator_get_core (self)->kind;
}

/* The inline paths of every kind, for the public wrappers: FALSE sends the
 * request to the exported path, which handles (and explains) the rest,
 * including a %NULL or foreign @self. */
static inline gboolean
nebula_allocator_core_try_alloc_kind (gconstpointer        self,
                                      NebulaAllocatorKind  kind,
                                      gsize                size,
                                      gsize                alignment,
                                      gpointer            *out)
{
  /* The bump allocator's first: its whole request is a handful of
   * instructions. */
  if (G_LIKELY (kind == NEBULA_ALLOCATOR_KIND_BUMP))
    return _nebula_bump_fast_alloc (_NEBULA_BUMP_FAST (self), size, alignment, out);
  if (kind == NEBULA_ALLOCATOR_KIND_POOL)
    return _nebula_pool_fast_alloc (_NEBULA_POOL_FAST (self), size, alignment, out);
  if (kind == NEBULA_ALLOCATOR_KIND_STACK)
    return _nebula_stack_fast_alloc (_NEBULA_STACK_FAST (self), size, alignment, out);

  return FALSE;
}

static inline gboolean
nebula_allocator_core_try_alloc (gconstpointer  self,
                                 gsize          size,
                                 gsize          alignment,
                                 gpointer      *out)
{
  return nebula_allocator_core_try_alloc_kind (self, nebula_allocator_core_kind (self),
                                               size, alignment, out);
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

typedef gpointer (*NebulaCoreAllocAll)   (gpointer   self,
                                          gsize      size,
                                          gsize      alignment,
                                          GError   **error);
typedef gboolean (*NebulaCoreDeallocAll) (gpointer   self,
                                          gpointer   ptr,
                                          gsize      size,
                                          gsize      alignment,
                                          GError   **error);

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

/* The wrappers' full path (nebula-allocator.c): everything the inline and
 * direct paths do not serve, with its checks and statistics. A direct
 * path's alloc_all and dealloc_all end here for what they decline. */
gpointer nebula_allocator_allocate_slow   (gpointer          self,
                                           gsize             size,
                                           gsize             alignment,
                                           GError          **error);
gboolean nebula_allocator_deallocate_slow (gpointer          self,
                                           gpointer          ptr,
                                           gsize             size,
                                           gsize             alignment,
                                           GError          **error);

/* What a direct path without alloc_all / dealloc_all gets as its
 * whole-request entry points (nebula_allocator_core_set_direct()): its
 * alloc / dealloc, then the full path for what they decline. @self is a
 * built-in with a direct path. */
gpointer nebula_allocator_allocate_direct   (gpointer          self,
                                             gsize             size,
                                             gsize             alignment,
                                             GError          **error);
gboolean nebula_allocator_deallocate_direct (gpointer          self,
                                             gpointer          ptr,
                                             gsize             size,
                                             gsize             alignment,
                                             GError          **error);

/* The end of a whole-request entry point built on a direct path's alloc
 * or dealloc (a kind's alloc_all and dealloc_all, or the generic pair
 * above): what the direct step served is the answer, what it declined
 * takes the full path, as a tail call. Inline, so that a kind's alloc_all
 * holds its direct step and this in one frame. */
G_ALWAYS_INLINE static inline gpointer
nebula_allocator_core_alloc_finish (gpointer   self,
                                    gpointer   ptr,
                                    gsize      size,
                                    gsize      alignment,
                                    GError   **error)
{
  if (G_LIKELY (ptr != NULL))
    return ptr;
  return nebula_allocator_allocate_slow (self, size, alignment, error);
}

G_ALWAYS_INLINE static inline gboolean
nebula_allocator_core_dealloc_finish (gpointer            self,
                                      NebulaDirectResult  result,
                                      gpointer            ptr,
                                      gsize               size,
                                      gsize               alignment,
                                      GError            **error)
{
  if (G_LIKELY (result == NEBULA_DIRECT_DONE))
    return TRUE;
  if (result == NEBULA_DIRECT_FAILED)
    return FALSE;
  return nebula_allocator_deallocate_slow (self, ptr, size, alignment, error);
}

/* Defines a kind's direct path, the NebulaCoreDirect @name##_direct, from
 * two always-inline bodies with the signatures of its alloc and dealloc:
 * @name##_direct_alloc and _dealloc for other callers, and the whole
 * request, @name##_alloc_all and _dealloc_all, where the dispatch jumps:
 * the body and the end above in one frame, one call level and a reload
 * of the table fewer than nebula_allocator_allocate_direct() and
 * _deallocate_direct(). */
#define NEBULA_CORE_DIRECT_DEFINE(name, alloc_body, dealloc_body)                          \
  static gpointer name##_direct_alloc (gpointer self, gsize size, gsize alignment)          \
  {                                                                                         \
    return alloc_body (self, size, alignment);                                              \
  }                                                                                         \
  static NebulaDirectResult name##_direct_dealloc (gpointer self, gpointer ptr, gsize size, \
                                                   gsize alignment, GError **error)         \
  {                                                                                         \
    return dealloc_body (self, ptr, size, alignment, error);                                \
  }                                                                                         \
  static gpointer name##_alloc_all (gpointer self, gsize size, gsize alignment,             \
                                    GError **error)                                         \
  {                                                                                         \
    return nebula_allocator_core_alloc_finish (self, alloc_body (self, size, alignment),     \
                                               size, alignment, error);                     \
  }                                                                                         \
  static gboolean name##_dealloc_all (gpointer self, gpointer ptr, gsize size,              \
                                      gsize alignment, GError **error)                      \
  {                                                                                         \
    return nebula_allocator_core_dealloc_finish (                                           \
      self, dealloc_body (self, ptr, size, alignment, error), ptr, size, alignment, error); \
  }                                                                                         \
  static const NebulaCoreDirect name##_direct = {                                           \
    name##_direct_alloc, name##_direct_dealloc, name##_alloc_all, name##_dealloc_all,       \
  }

/* Published with release stores: a thread-safe allocator may meet its
 * first calls on several threads, whose wrappers read it at once. %NULL
 * (what nebula_allocator_core_init() sets) sends everything the inline
 * path declines to the exported path. */
void nebula_allocator_core_set_direct (gpointer                self,
                                       const NebulaCoreDirect *direct);

/* The direct path of a built-in's core (NULL until its kind sets one). */
static inline const NebulaCoreDirect *
nebula_allocator_core_get_direct (gconstpointer self)
{
  return __atomic_load_n (&nebula_allocator_get_core (self)->direct, __ATOMIC_ACQUIRE);
}

/* Where the wrappers jump once the inline path declined (or for a kind
 * without one): one load and an indirect jump, whatever the kind. */
static inline NebulaCoreAllocAll
nebula_allocator_core_alloc_all (gconstpointer self)
{
  return (NebulaCoreAllocAll) __atomic_load_n (&nebula_allocator_get_core (self)->alloc_all,
                                               __ATOMIC_ACQUIRE);
}

static inline NebulaCoreDeallocAll
nebula_allocator_core_dealloc_all (gconstpointer self)
{
  return (NebulaCoreDeallocAll) __atomic_load_n (&nebula_allocator_get_core (self)->dealloc_all,
                                                 __ATOMIC_ACQUIRE);
}

static inline const NebulaCoreDirect *
nebula_allocator_core_direct (gconstpointer self)
{
  if (nebula_allocator_core_kind (self) == NEBULA_ALLOCATOR_KIND_NONE)
    return NULL;
  return nebula_allocator_core_get_direct (self);
}

/* The inline frees of the bump and pool allocators. The stack's pop is
 * not here: its header check needs more registers than the wrapper has
 * free, and inline it gave every deallocation, whatever the kind, a stack
 * frame; the wrapper jumps to it out of line (deallocate_stack() in
 * nebula-allocator.c). */
static inline gboolean
nebula_allocator_core_try_dealloc_kind (gconstpointer        self,
                                        NebulaAllocatorKind  kind,
                                        gpointer             ptr,
                                        gsize                size,
                                        gsize                alignment)
{
  if (G_LIKELY (kind == NEBULA_ALLOCATOR_KIND_BUMP))
    return _nebula_bump_fast_dealloc (_NEBULA_BUMP_FAST (self), ptr, size, alignment);
  if (kind == NEBULA_ALLOCATOR_KIND_POOL)
    return _nebula_pool_fast_dealloc (_NEBULA_POOL_FAST (self), ptr, size, alignment);

  return FALSE;
}

/* Each allocator's file pins where its fast fields lie. */
#define NEBULA_ASSERT_CORE_LAYOUT(Type)                                            \
  G_STATIC_ASSERT (G_STRUCT_OFFSET (Type, core) == sizeof (GObject));              \
  G_STATIC_ASSERT (G_STRUCT_OFFSET (Type, fast) == sizeof (GObject) + sizeof (NebulaAllocatorCore))

G_END_DECLS
