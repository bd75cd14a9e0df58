/* nebula-bench.c: Nebula's allocators against the floors and their peers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every allocator runs the same seeded sequences of requests (see
 * NebulaWorkload) through the same replay loop. Nebula's allocators run
 * inside NebulaBenchmark, the code Python and gjs call; the floors and the
 * peers run here, each with direct calls into its own API.
 *
 * Two peers replace malloc() for the whole process when linked normally
 * (Debian builds both jemalloc and mimalloc to override it), which would
 * silently turn "glibc malloc" into one of them. So jemalloc comes from a
 * copy of its static archive whose malloc-family symbols were made local
 * at build time (only mallocx/sdallocx stay visible), and mimalloc is
 * opened with dlopen(RTLD_LOCAL), which puts nothing in the global scope.
 */

#include "config.h"

#include <errno.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmodule.h>
#include <nebula.h>

#include "bench-cache.h"
#include "nebula-benchmark-private.h"
#include "nebula-bench-floor.h"
#include "nebula-utils-private.h"

#if HAVE_VALGRIND
# include <valgrind/valgrind.h>
#endif
#if HAVE_JEMALLOC
# include <jemalloc/jemalloc.h>
#endif
#if HAVE_MIMALLOC
# include <mimalloc.h>
#endif
#if HAVE_OBSTACK
# include <obstack.h>
# define obstack_chunk_alloc malloc
# define obstack_chunk_free  free
#endif
#if HAVE_APR
# include <apr_general.h>
# include <apr_pools.h>
#endif
#if HAVE_TALLOC
# include <talloc.h>
#endif

#define N_WORKLOADS NEBULA_BENCH_N_WORKLOADS

/* ------------------------------------------------------------------ */
/* Options                                                             */

typedef enum { FORMAT_TABLE, FORMAT_JSON, FORMAT_CSV } Format;

static Format   opt_format = FORMAT_TABLE;
static char    *opt_plot;
static gboolean opt_quick;
static gboolean opt_simd_only;
static gboolean opt_no_simd;
static gboolean opt_cache_only;
static int      opt_threads = 1;
static gint64   opt_iterations;
static int      opt_rounds;
static gint64   opt_seed = 42;
static char    *opt_workloads;
static char    *opt_allocators;
static gboolean opt_quiet;
static gboolean opt_list;
static gboolean progress_enabled;

/* ------------------------------------------------------------------ */
/* Results                                                             */

typedef struct
{
  gboolean  ran;
  char     *error;         /* why it did not run, or NULL */
  double    ns_min;
  double    ns_median;
  guint64   ops;
  guint64   peak_bytes;    /* 0: not known */
} Cell;

typedef enum { KIND_FLOOR, KIND_NEBULA, KIND_PEER } TargetKind;

typedef struct _Target Target;

typedef struct
{
  NebulaBenchTrace     trace;
  gpointer             slots[NEBULA_BENCH_MAX_SLOTS];
  guint64              passes;
  guint                index;
  guint                rounds;
  NebulaBenchBarrier  *barrier;
  double              *round_ns;
  const Target        *target;
  gpointer             context;
  gboolean             failed;
  char                *why;          /* set up failed: why */
} Worker;

typedef gboolean (*SetupFunc)    (Worker *worker, char **why);
typedef void     (*TeardownFunc) (Worker *worker);
typedef gboolean (*PassFunc)     (Worker *worker);

struct _Target
{
  const char   *name;
  TargetKind    kind;
  const char   *description;
  /* floors and peers */
  SetupFunc     setup;
  TeardownFunc  teardown;
  PassFunc      pass;
  gboolean      shared_needs_thread_safety;
  /* Nebula: the short type name and whether to use the inline path */
  const char   *nebula_type;
  gboolean      nebula_inline;
  gboolean      nebula_no_stats;
  gboolean      nebula_thread_safe;
  /* absent at configure time, or failed to load */
  const char   *absent;
  gboolean      selected;      /* by --allocator, or no filter */
  Cell          cells[N_WORKLOADS];
};

/* ------------------------------------------------------------------ */
/* Floors                                                              */

typedef struct
{
  NebulaBenchFloor  floor;
  guint8           *buffer;
} FloorContext;

static gboolean
floor_setup (Worker  *worker,
             char   **why)
{
  FloorContext *context = g_new0 (FloorContext, 1);
  gsize size = worker->trace.max_batch_bytes + 4096;

  context->buffer = g_malloc (size);
  context->floor.start = context->floor.cursor = context->buffer;
  context->floor.limit = context->buffer + size;
  worker->context = context;
  return TRUE;
}

static void
floor_teardown (Worker *worker)
{
  FloorContext *context = worker->context;

  g_free (context->buffer);
  g_free (context);
}

static inline gpointer
floor_inline_alloc (gpointer data, gsize size, gsize alignment)
{
  return nebula_bench_floor_alloc_inline (&((FloorContext *) data)->floor, size, alignment);
}

static inline gboolean
floor_inline_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  return nebula_bench_floor_free_inline (&((FloorContext *) data)->floor, ptr, size);
}

static inline gboolean
floor_inline_reset (gpointer data)
{
  nebula_bench_floor_reset_inline (&((FloorContext *) data)->floor);
  return TRUE;
}

static inline gpointer
floor_call_alloc (gpointer data, gsize size, gsize alignment)
{
  return nebula_bench_floor_alloc (&((FloorContext *) data)->floor, size, alignment);
}

static inline gboolean
floor_call_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  return nebula_bench_floor_free (&((FloorContext *) data)->floor, ptr, size, alignment);
}

static inline gboolean
floor_call_reset (gpointer data)
{
  nebula_bench_floor_reset (&((FloorContext *) data)->floor);
  return TRUE;
}

/* One pass function per target: the replay loop inlined with that
 * target's functions. `arena` or `individual` picks the rendering. */
#define DEFINE_PASS(name, rendering, alloc_func, free_func, reset_func)              \
  static gboolean                                                                  \
  name (Worker *worker)                                                            \
  {                                                                                \
    for (guint64 pass = 0; pass < worker->passes; pass++)                          \
      if (!nebula_bench_replay (worker->trace.rendering, worker->trace.n_##rendering, \
                                worker->slots, worker->context,                    \
                                alloc_func, free_func, reset_func))                \
        return FALSE;                                                              \
    return TRUE;                                                                   \
  }

DEFINE_PASS (floor_inline_pass, arena, floor_inline_alloc, floor_inline_free, floor_inline_reset)
DEFINE_PASS (floor_call_pass, arena, floor_call_alloc, floor_call_free, floor_call_reset)

/* The pool's floors: a free list of blocks as large as the largest
 * request, enough of them for the most blocks a batch holds at once. */
static gboolean
free_list_setup (Worker  *worker,
                 char   **why)
{
  NebulaBenchFreeList *list = g_new0 (NebulaBenchFreeList, 1);

  list->block_size = NEBULA_ALIGN_UP (MAX (worker->trace.max_size, sizeof (gpointer)), 16);
  list->start = list->fresh = g_malloc (list->block_size * (worker->trace.max_live + 1));
  list->limit = list->start + list->block_size * (worker->trace.max_live + 1);
  worker->context = list;
  return TRUE;
}

static void
free_list_teardown (Worker *worker)
{
  NebulaBenchFreeList *list = worker->context;

  g_free (list->start);
  g_free (list);
}

static inline gpointer
free_list_inline_alloc (gpointer data, gsize size, gsize alignment)
{
  return nebula_bench_free_list_alloc_inline (data);
}

static inline gboolean
free_list_inline_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  return nebula_bench_free_list_free_inline (data, ptr);
}

static inline gboolean
free_list_inline_reset (gpointer data)
{
  nebula_bench_free_list_reset_inline (data);
  return TRUE;
}

static inline gpointer
free_list_call_alloc (gpointer data, gsize size, gsize alignment)
{
  return nebula_bench_free_list_alloc (data, size, alignment);
}

static inline gboolean
free_list_call_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  return nebula_bench_free_list_free (data, ptr, size, alignment);
}

static inline gboolean
free_list_call_reset (gpointer data)
{
  nebula_bench_free_list_reset (data);
  return TRUE;
}

DEFINE_PASS (free_list_inline_pass, arena, free_list_inline_alloc, free_list_inline_free,
             free_list_inline_reset)
DEFINE_PASS (free_list_call_pass, arena, free_list_call_alloc, free_list_call_free,
             free_list_call_reset)

/* ------------------------------------------------------------------ */
/* glibc malloc and GSlice: no reset, so the individual rendering      */

static gboolean
no_setup (Worker  *worker,
          char   **why)
{
  worker->context = NULL;
  return TRUE;
}

static void
no_teardown (Worker *worker)
{
}

static inline gboolean
nothing_to_reset (gpointer data)
{
  return TRUE;
}

static inline gpointer
malloc_alloc (gpointer data, gsize size, gsize alignment)
{
  /* glibc aligns to 16; the workloads ask for 8 or 16. */
  return malloc (size);
}

static inline gboolean
malloc_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  free (ptr);
  return TRUE;
}

DEFINE_PASS (malloc_pass, individual, malloc_alloc, malloc_free, nothing_to_reset)

static inline gpointer
gslice_alloc (gpointer data, gsize size, gsize alignment)
{
  /* GSlice aligns to 2 * sizeof (void *), 16 bytes. */
  return g_slice_alloc (size);
}

static inline gboolean
gslice_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  g_slice_free1 (size, ptr);
  return TRUE;
}

DEFINE_PASS (gslice_pass, individual, gslice_alloc, gslice_free, nothing_to_reset)

/* ------------------------------------------------------------------ */
/* jemalloc: the non-standard API, sized frees                          */

#if HAVE_JEMALLOC
static inline gpointer
jemalloc_alloc (gpointer data, gsize size, gsize alignment)
{
  /* Size classes from 16 bytes up are multiples of 16. */
  return mallocx (size, alignment > 16 ? MALLOCX_ALIGN (alignment) : 0);
}

static inline gboolean
jemalloc_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  sdallocx (ptr, size, alignment > 16 ? MALLOCX_ALIGN (alignment) : 0);
  return TRUE;
}

DEFINE_PASS (jemalloc_pass, individual, jemalloc_alloc, jemalloc_free, nothing_to_reset)
#endif

/* ------------------------------------------------------------------ */
/* mimalloc heaps: one per thread, destroyed (everything freed at once)  */
/* at each batch end                                                    */

#if HAVE_MIMALLOC
static struct
{
  __typeof__ (mi_heap_new)            *heap_new;
  __typeof__ (mi_heap_destroy)        *heap_destroy;
  __typeof__ (mi_heap_malloc)         *heap_malloc;
  __typeof__ (mi_heap_malloc_aligned) *heap_malloc_aligned;
  __typeof__ (mi_free)                *free;
} mi;

typedef struct
{
  mi_heap_t *heap;
} MimallocContext;

static const char *
mimalloc_load (void)
{
  static char *error;
  static gboolean loaded;
  void *handle;

  if (loaded)
    return error;
  loaded = TRUE;

#if HAVE_VALGRIND
  /* Valgrind redirects the free() that libmimalloc exports, and with it
   * mimalloc's own frees, to its allocator. */
  if (RUNNING_ON_VALGRIND)
    return error = g_strdup ("not under Valgrind, which replaces mimalloc's free()");
#endif

  /* RTLD_LOCAL: mimalloc's own malloc() must not replace glibc's. */
  handle = dlopen ("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL)
    handle = dlopen ("libmimalloc.so", RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL)
    return error = g_strdup_printf ("dlopen failed: %s", dlerror ());

  mi.heap_new = (__typeof__ (mi.heap_new)) dlsym (handle, "mi_heap_new");
  mi.heap_destroy = (__typeof__ (mi.heap_destroy)) dlsym (handle, "mi_heap_destroy");
  mi.heap_malloc = (__typeof__ (mi.heap_malloc)) dlsym (handle, "mi_heap_malloc");
  mi.heap_malloc_aligned = (__typeof__ (mi.heap_malloc_aligned)) dlsym (handle, "mi_heap_malloc_aligned");
  mi.free = (__typeof__ (mi.free)) dlsym (handle, "mi_free");
  if (mi.heap_new == NULL || mi.heap_destroy == NULL || mi.heap_malloc == NULL ||
      mi.heap_malloc_aligned == NULL || mi.free == NULL)
    return error = g_strdup ("libmimalloc lacks the heap API");

  return NULL;
}

static gboolean
mimalloc_setup (Worker  *worker,
                char   **why)
{
  MimallocContext *context;
  const char *error = mimalloc_load ();

  if (error != NULL)
    {
      *why = g_strdup (error);
      return FALSE;
    }

  context = g_new0 (MimallocContext, 1);
  context->heap = mi.heap_new ();
  worker->context = context;
  return TRUE;
}

static void
mimalloc_teardown (Worker *worker)
{
  MimallocContext *context = worker->context;

  mi.heap_destroy (context->heap);
  g_free (context);
}

static inline gpointer
mimalloc_alloc (gpointer data, gsize size, gsize alignment)
{
  MimallocContext *context = data;

  /* mimalloc aligns to 16 (MI_MAX_ALIGN_SIZE). */
  if (alignment <= 16)
    return mi.heap_malloc (context->heap, size);
  return mi.heap_malloc_aligned (context->heap, size, alignment);
}

static inline gboolean
mimalloc_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  mi.free (ptr);
  return TRUE;
}

static inline gboolean
mimalloc_reset (gpointer data)
{
  MimallocContext *context = data;

  mi.heap_destroy (context->heap);
  context->heap = mi.heap_new ();
  return context->heap != NULL;
}

DEFINE_PASS (mimalloc_pass, arena, mimalloc_alloc, mimalloc_free, mimalloc_reset)
#endif

/* ------------------------------------------------------------------ */
/* obstack: frees release the block and everything after it, so only    */
/* the LIFO workloads may free; the others leave it to the reset        */

#if HAVE_OBSTACK
typedef struct
{
  struct obstack  stack;
  gpointer        mark;
} ObstackContext;

static gboolean
obstack_setup (Worker  *worker,
               char   **why)
{
  ObstackContext *context = g_new0 (ObstackContext, 1);

  /* Chunks as large as a bump allocator's, not obstack's 4 KiB. */
  obstack_begin (&context->stack, 64 * 1024 - 64);
  context->mark = obstack_alloc (&context->stack, 1);
  worker->context = context;
  return TRUE;
}

static void
obstack_teardown (Worker *worker)
{
  ObstackContext *context = worker->context;

  obstack_free (&context->stack, NULL);
  g_free (context);
}

static inline gpointer
obstack_peer_alloc (gpointer data, gsize size, gsize alignment)
{
  ObstackContext *context = data;

  /* obstack aligns every object to 16 bytes. */
  return obstack_alloc (&context->stack, size);
}

static inline gboolean
obstack_peer_free_lifo (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  ObstackContext *context = data;

  obstack_free (&context->stack, ptr);
  return TRUE;
}

static inline gboolean
obstack_peer_free_none (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  return TRUE;
}

static inline gboolean
obstack_peer_reset (gpointer data)
{
  ObstackContext *context = data;

  obstack_free (&context->stack, context->mark);
  context->mark = obstack_alloc (&context->stack, 1);
  return TRUE;
}

DEFINE_PASS (obstack_lifo_pass, arena, obstack_peer_alloc, obstack_peer_free_lifo, obstack_peer_reset)
DEFINE_PASS (obstack_arena_pass, arena, obstack_peer_alloc, obstack_peer_free_none, obstack_peer_reset)

static gboolean
obstack_pass (Worker *worker)
{
  if (worker->trace.workload == NEBULA_BENCH_LIFO_FRAMES ||
      worker->trace.workload == NEBULA_BENCH_REQUEST_RESPONSE)
    return obstack_lifo_pass (worker);
  return obstack_arena_pass (worker);
}
#endif

/* ------------------------------------------------------------------ */
/* APR pools: no single frees; apr_pool_clear() at each batch end       */

#if HAVE_APR
static gboolean
apr_setup (Worker  *worker,
           char   **why)
{
  apr_pool_t *pool = NULL;

  /* Unmanaged pools belong to no parent and no thread. */
  if (apr_pool_create_unmanaged_ex (&pool, NULL, NULL) != APR_SUCCESS)
    {
      *why = g_strdup ("apr_pool_create_unmanaged_ex failed");
      return FALSE;
    }
  worker->context = pool;
  return TRUE;
}

static void
apr_teardown (Worker *worker)
{
  apr_pool_destroy (worker->context);
}

static inline gpointer
apr_peer_alloc (gpointer data, gsize size, gsize alignment)
{
  /* APR aligns to 8 bytes: over-allocate for more. */
  if (alignment <= 8)
    return apr_palloc (data, size);
  return (gpointer) NEBULA_ALIGN_UP ((guintptr) apr_palloc (data, size + alignment - 8), alignment);
}

static inline gboolean
apr_peer_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  return TRUE;
}

static inline gboolean
apr_peer_reset (gpointer data)
{
  apr_pool_clear (data);
  return TRUE;
}

DEFINE_PASS (apr_pass, arena, apr_peer_alloc, apr_peer_free, apr_peer_reset)
#endif

/* ------------------------------------------------------------------ */
/* talloc pools: single frees work, talloc_free_children() at batch end */

#if HAVE_TALLOC
static gboolean
talloc_setup (Worker  *worker,
              char   **why)
{
  worker->context = talloc_pool (NULL, 1024 * 1024);
  return worker->context != NULL;
}

static void
talloc_teardown (Worker *worker)
{
  talloc_free (worker->context);
}

static inline gpointer
talloc_peer_alloc (gpointer data, gsize size, gsize alignment)
{
  /* talloc aligns to 16 bytes. */
  return talloc_size (data, size);
}

static inline gboolean
talloc_peer_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  return talloc_free (ptr) == 0;
}

static inline gboolean
talloc_peer_reset (gpointer data)
{
  talloc_free_children (data);
  return TRUE;
}

DEFINE_PASS (talloc_pass, arena, talloc_peer_alloc, talloc_peer_free, talloc_peer_reset)
#endif

/* ------------------------------------------------------------------ */
/* The targets                                                         */

#define ABSENT(name) "not found at configure time (" name ")"

static Target targets[] = {
  { "floor-inline", KIND_FLOOR, "trivial bump over a preallocated buffer, inlined",
    floor_setup, floor_teardown, floor_inline_pass, FALSE },
  { "floor-call", KIND_FLOOR, "the same behind an exported call into a shared library",
    floor_setup, floor_teardown, floor_call_pass, FALSE },
  { "floor-freelist", KIND_FLOOR, "trivial free list of fixed-size blocks, inlined (the pool's floor)",
    free_list_setup, free_list_teardown, free_list_inline_pass, FALSE },
  { "floor-freelist-call", KIND_FLOOR, "the same behind an exported call into a shared library",
    free_list_setup, free_list_teardown, free_list_call_pass, FALSE },
  { "bump-inline", KIND_NEBULA, "NebulaBumpAllocator, inline fast path (nebula_bump_allocator_alloc)",
    .nebula_type = "bump", .nebula_inline = TRUE },
  { "bump", KIND_NEBULA, "NebulaBumpAllocator through nebula_allocator_allocate()",
    .nebula_type = "bump" },
  { "bump-nostats", KIND_NEBULA, "NebulaBumpAllocator, inline fast path, track-stats off",
    .nebula_type = "bump", .nebula_inline = TRUE, .nebula_no_stats = TRUE },
  { "pool-inline", KIND_NEBULA, "NebulaPoolAllocator, inline fast path (nebula_pool_allocator_alloc)",
    .nebula_type = "pool", .nebula_inline = TRUE },
  { "pool", KIND_NEBULA, "NebulaPoolAllocator through nebula_allocator_allocate()",
    .nebula_type = "pool" },
  { "pool-ts", KIND_NEBULA, "thread-safe NebulaPoolAllocator, one thread, nebula_allocator_allocate()",
    .nebula_type = "pool", .nebula_thread_safe = TRUE },
  { "stack-inline", KIND_NEBULA, "NebulaStackAllocator, inline fast path (nebula_stack_allocator_push)",
    .nebula_type = "stack", .nebula_inline = TRUE },
  { "stack", KIND_NEBULA, "NebulaStackAllocator through nebula_allocator_allocate()",
    .nebula_type = "stack" },
  { "system", KIND_NEBULA, "NebulaSystemAllocator (malloc + checked frees) through the interface",
    .nebula_type = "system" },
  { "malloc", KIND_PEER, "glibc malloc/free",
    no_setup, no_teardown, malloc_pass, FALSE },
  { "gslice", KIND_PEER, "GSlice g_slice_alloc/g_slice_free1 (GLib " G_STRINGIFY (GLIB_MAJOR_VERSION) "."
    G_STRINGIFY (GLIB_MINOR_VERSION) ")",
    no_setup, no_teardown, gslice_pass, FALSE },
#if HAVE_JEMALLOC
  { "jemalloc", KIND_PEER, "jemalloc mallocx/sdallocx",
    no_setup, no_teardown, jemalloc_pass, FALSE },
#else
  { "jemalloc", KIND_PEER, "jemalloc mallocx/sdallocx", .absent = ABSENT ("libjemalloc-dev") },
#endif
#if HAVE_MIMALLOC
  { "mimalloc-heap", KIND_PEER, "mimalloc heap per thread, mi_heap_destroy at batch end",
    mimalloc_setup, mimalloc_teardown, mimalloc_pass, FALSE },
#else
  { "mimalloc-heap", KIND_PEER, "mimalloc heaps", .absent = ABSENT ("libmimalloc-dev") },
#endif
#if HAVE_OBSTACK
  { "obstack", KIND_PEER, "glibc obstack, 64 KiB chunks, freed to a mark at batch end",
    obstack_setup, obstack_teardown, obstack_pass, FALSE },
#else
  { "obstack", KIND_PEER, "glibc obstack", .absent = ABSENT ("obstack.h") },
#endif
#if HAVE_APR
  { "apr-pool", KIND_PEER, "APR pool, apr_pool_clear at batch end",
    apr_setup, apr_teardown, apr_pass, FALSE },
#else
  { "apr-pool", KIND_PEER, "APR pools", .absent = ABSENT ("libapr1-dev") },
#endif
#if HAVE_TALLOC
  { "talloc-pool", KIND_PEER, "talloc pool of 1 MiB, talloc_free_children at batch end",
    talloc_setup, talloc_teardown, talloc_pass, FALSE },
#else
  { "talloc-pool", KIND_PEER, "talloc pools", .absent = ABSENT ("libtalloc-dev") },
#endif
};

static Target *
find_target (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    if (g_str_equal (targets[i].name, name))
      return &targets[i];
  return NULL;
}

static guint64
thread_seed (guint64 seed,
             guint   index)
{
  /* The same per-thread seeds as NebulaBenchmark. */
  return seed + index * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
}

/* ------------------------------------------------------------------ */
/* Running floors and peers                                            */

static gpointer
worker_run (gpointer data)
{
  Worker *worker = data;

  if (!worker->target->setup (worker, &worker->why))
    goto failed;

  /* Warm-up, then the timed rounds, all threads starting together. */
  if (!worker->target->pass (worker))
    goto failed_torn;

  for (guint round = 0; round < worker->rounds; round++)
    {
      guint64 start;

      if (worker->barrier != NULL && !nebula_bench_barrier_wait (worker->barrier))
        goto failed_torn;
      start = nebula_bench_now_ns (worker->barrier == NULL);
      if (!worker->target->pass (worker))
        goto failed_torn;
      if (worker->barrier != NULL && !nebula_bench_barrier_wait (worker->barrier))
        goto failed_torn;
      if (worker->index == 0)
        worker->round_ns[round] = (double) (nebula_bench_now_ns (worker->barrier == NULL) - start);
    }

  worker->target->teardown (worker);
  return NULL;

failed_torn:
  worker->target->teardown (worker);
failed:
  worker->failed = TRUE;
  if (worker->barrier != NULL)
    nebula_bench_barrier_abort (worker->barrier);
  return NULL;
}

static void
run_direct (Target              *target,
            NebulaBenchWorkload  workload,
            guint64              iterations,
            guint                rounds,
            guint                n_threads,
            Cell                *cell)
{
  g_autofree Worker *workers = g_new0 (Worker, n_threads);
  g_autofree GThread **threads = g_new0 (GThread *, n_threads);
  g_autofree double *round_ns = g_new0 (double, rounds);
  NebulaBenchBarrier barrier;
  gboolean failed = FALSE;
  guint64 ops = 0;

  nebula_bench_barrier_init (&barrier, n_threads);

  for (guint i = 0; i < n_threads; i++)
    {
      Worker *worker = &workers[i];

      nebula_bench_trace_init (&worker->trace, workload, thread_seed ((guint64) opt_seed, i),
                               iterations, i == 0 ? 0 : workers[0].trace.n_batches);
      worker->passes = nebula_bench_passes (&workers[0].trace, iterations);
      worker->index = i;
      worker->rounds = rounds;
      worker->barrier = n_threads > 1 ? &barrier : NULL;
      worker->round_ns = round_ns;
      worker->target = target;
      ops += worker->passes * worker->trace.ops;
    }

  for (guint i = 1; i < n_threads; i++)
    threads[i] = g_thread_new ("nebula-bench", worker_run, &workers[i]);
  worker_run (&workers[0]);
  for (guint i = 1; i < n_threads; i++)
    g_thread_join (threads[i]);

  for (guint i = 0; i < n_threads; i++)
    {
      failed |= workers[i].failed;
      if (workers[i].why != NULL && cell->error == NULL)
        cell->error = g_steal_pointer (&workers[i].why);
      g_free (workers[i].why);
      nebula_bench_trace_clear (&workers[i].trace);
    }

  if (failed)
    {
      if (cell->error == NULL)
        cell->error = g_strdup ("an allocation failed");
      return;
    }

  for (guint r = 0; r < rounds; r++)
    round_ns[r] /= (double) ops;
  nebula_bench_summarize (round_ns, rounds, &cell->ns_min, &cell->ns_median);
  cell->ops = ops;
  cell->ran = TRUE;
}

/* ------------------------------------------------------------------ */
/* Running Nebula's allocators, through NebulaBenchmark                 */

static GModule *self_module;

static GType
nebula_type_for (const char *short_name)
{
  g_autofree char *symbol = g_strdup_printf ("nebula_%s_allocator_get_type", short_name);
  GType (*get_type) (void) = NULL;

  if (self_module == NULL)
    self_module = g_module_open (NULL, 0);
  if (self_module == NULL || !g_module_symbol (self_module, symbol, (gpointer *) &get_type))
    return G_TYPE_INVALID;

  return get_type ();
}

static guint64
next_power_of_two (guint64 value)
{
  guint64 result = 1;

  while (result < value)
    result <<= 1;
  return result;
}

/* Sets @name on a new object of @klass when the class has it writable and
 * its default is below @minimum (or always, with @force). */
static void
add_property (GObjectClass  *klass,
              GPtrArray     *names,
              GArray        *values,
              const char    *name,
              guint64        minimum,
              gboolean       force)
{
  GParamSpec *pspec = g_object_class_find_property (klass, name);
  GValue wanted = G_VALUE_INIT;
  GValue value = G_VALUE_INIT;
  GValue current = G_VALUE_INIT;
  guint64 default_value = 0;

  if (pspec == NULL || (pspec->flags & G_PARAM_WRITABLE) == 0)
    return;

  g_value_init (&current, G_TYPE_UINT64);
  if (G_IS_PARAM_SPEC_BOOLEAN (pspec))
    default_value = G_PARAM_SPEC_BOOLEAN (pspec)->default_value;
  else if (g_value_type_transformable (pspec->value_type, G_TYPE_UINT64))
    {
      GValue def = G_VALUE_INIT;

      g_value_init (&def, pspec->value_type);
      g_param_value_set_default (pspec, &def);
      g_value_transform (&def, &current);
      default_value = g_value_get_uint64 (&current);
      g_value_unset (&def);
    }
  g_value_unset (&current);

  if (!force && default_value >= minimum)
    return;

  g_value_init (&wanted, G_TYPE_UINT64);
  g_value_set_uint64 (&wanted, minimum);
  g_value_init (&value, pspec->value_type);
  if (G_IS_PARAM_SPEC_BOOLEAN (pspec))
    g_value_set_boolean (&value, minimum != 0);
  else if (!g_value_transform (&wanted, &value))
    {
      g_value_unset (&value);
      return;
    }

  g_ptr_array_add (names, (gpointer) pspec->name);
  g_array_append_val (values, value);
}

/* The allocator's defaults, except what the workload needs to run at all:
 * room for a batch, blocks as large as the largest request, thread
 * safety for several threads. Discovered by property name, so that any
 * allocator type of the library plugs in. */
static NebulaAllocator *
new_nebula_allocator (GType                    type,
                      const NebulaBenchTrace  *trace,
                      guint64                  iterations,
                      guint                    n_threads,
                      gboolean                 no_stats,
                      gboolean                 thread_safe,
                      GError                 **error)
{
  /* One thread resets at every batch end; several reset once per round
   * (see NebulaBenchmark), so a bump allocator must hold a whole round. */
  guint64 capacity = n_threads == 1
    ? (guint64) trace->max_batch_bytes * 2
    : (guint64) trace->max_batch_bytes * trace->n_batches * nebula_bench_passes (trace, iterations) * n_threads;
  GObjectClass *klass = g_type_class_ref (type);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GArray) values = g_array_new (FALSE, TRUE, sizeof (GValue));
  gpointer object;

  g_array_set_clear_func (values, (GDestroyNotify) g_value_unset);

  if (n_threads > 1 || thread_safe)
    add_property (klass, names, values, "thread-safe", TRUE, TRUE);
  if (no_stats)
    add_property (klass, names, values, "track-stats", FALSE, TRUE);
  add_property (klass, names, values, "capacity", next_power_of_two (capacity), FALSE);
  add_property (klass, names, values, "block-size", NEBULA_ALIGN_UP (trace->max_size, 16), FALSE);
  add_property (klass, names, values, "block-count", (guint64) trace->max_live * n_threads, FALSE);

  object = g_object_new_with_properties (type, names->len, (const char **) names->pdata,
                                         (const GValue *) (gpointer) values->data);
  g_type_class_unref (klass);
  if (G_IS_INITABLE (object) && !g_initable_init (object, NULL, error))
    g_clear_object (&object);
  return object;
}

static void
run_nebula (Target              *target,
            NebulaBenchWorkload  workload,
            guint64              iterations,
            guint                rounds,
            guint                n_threads,
            Cell                *cell)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaAllocator) allocator = NULL;
  g_autoptr(NebulaBenchmark) benchmark = NULL;
  g_autoptr(NebulaBenchmarkResult) result = NULL;
  NebulaBenchTrace trace;
  GType type = nebula_type_for (target->nebula_type);

  g_assert (type != G_TYPE_INVALID);

  nebula_bench_trace_init (&trace, workload, (guint64) opt_seed, iterations, 0);
  allocator = new_nebula_allocator (type, &trace, iterations, n_threads, target->nebula_no_stats,
                                    target->nebula_thread_safe, &error);
  nebula_bench_trace_clear (&trace);
  if (allocator == NULL)
    {
      cell->error = g_strdup (error->message);
      return;
    }

  benchmark = nebula_benchmark_new ((NebulaWorkload) workload);
  g_object_set (benchmark,
                "iterations", iterations,
                "rounds", rounds,
                "threads", n_threads,
                "seed", (guint64) opt_seed,
                "inline-fast-path", target->nebula_inline,
                NULL);

  result = nebula_benchmark_run (benchmark, allocator, &error);
  if (result == NULL)
    {
      /* The message names block addresses, which mean nothing to a reader
       * of the report; what matters is that the workload cannot run here. */
      if (g_error_matches (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER))
        cell->error = g_strdup ("does not apply: the workload frees blocks out of LIFO order, "
                                "which a stack allocator refuses");
      else
        cell->error = g_strdup (error->message);
      return;
    }

  cell->ran = TRUE;
  cell->ns_min = result->ns_per_op_min;
  cell->ns_median = result->ns_per_op_median;
  cell->ops = result->ops;
  cell->peak_bytes = result->peak_bytes;
}

/* ------------------------------------------------------------------ */
/* Dispatch: one 64-byte allocation and its free, over and over         */

typedef struct
{
  const char *name;
  double      ns;
} DispatchRow;

#define DISPATCH_PAIRS_QUICK 200000
#define DISPATCH_PAIRS       4000000

static DispatchRow dispatch_rows[12];
static guint n_dispatch_rows;

static double
time_best_of (guint    repeats,
              double (*run) (gpointer data, guint64 n),
              gpointer data,
              guint64  n)
{
  double best = INFINITY;

  run (data, n / 10 + 1);
  for (guint i = 0; i < repeats; i++)
    best = MIN (best, run (data, n));
  return best;
}

static double
dispatch_floor_inline (gpointer data, guint64 n)
{
  FloorContext *context = data;
  guint64 start = nebula_bench_now_ns (TRUE);

  for (guint64 i = 0; i < n; i++)
    {
      guint8 *p = nebula_bench_floor_alloc_inline (&context->floor, 64, 8);

      *p = (guint8) i;
      nebula_bench_floor_free_inline (&context->floor, p, 64);
    }
  return (double) (nebula_bench_now_ns (TRUE) - start) / (double) (2 * n);
}

static double
dispatch_floor_call (gpointer data, guint64 n)
{
  FloorContext *context = data;
  guint64 start = nebula_bench_now_ns (TRUE);

  for (guint64 i = 0; i < n; i++)
    {
      guint8 *p = nebula_bench_floor_alloc (&context->floor, 64, 8);

      *p = (guint8) i;
      nebula_bench_floor_free (&context->floor, p, 64, 8);
    }
  return (double) (nebula_bench_now_ns (TRUE) - start) / (double) (2 * n);
}

static double
dispatch_bump_inline (gpointer data, guint64 n)
{
  NebulaBumpAllocator *bump = data;
  guint64 start = nebula_bench_now_ns (TRUE);

  for (guint64 i = 0; i < n; i++)
    {
      guint8 *p = nebula_bump_allocator_alloc (bump, 64, 8, NULL);

      *p = (guint8) i;
      nebula_bump_allocator_dealloc (bump, p, 64, 8, NULL);
    }
  return (double) (nebula_bench_now_ns (TRUE) - start) / (double) (2 * n);
}

static double
dispatch_interface (gpointer data, guint64 n)
{
  NebulaAllocator *allocator = data;
  guint64 start = nebula_bench_now_ns (TRUE);

  for (guint64 i = 0; i < n; i++)
    {
      guint8 *p = nebula_allocator_allocate (allocator, 64, 8, NULL);

      *p = (guint8) i;
      nebula_allocator_deallocate (allocator, p, 64, 8, NULL);
    }
  return (double) (nebula_bench_now_ns (TRUE) - start) / (double) (2 * n);
}

static double
dispatch_malloc (gpointer data, guint64 n)
{
  guint64 start = nebula_bench_now_ns (TRUE);

  for (guint64 i = 0; i < n; i++)
    {
      guint8 *p = malloc (64);

      *p = (guint8) i;
      /* Without this GCC removes the pair altogether. */
      __asm__ __volatile__ ("" : : "r" (p) : "memory");
      free (p);
    }
  return (double) (nebula_bench_now_ns (TRUE) - start) / (double) (2 * n);
}

static void
add_dispatch_row (const char *name,
                  double      ns)
{
  g_assert (n_dispatch_rows < G_N_ELEMENTS (dispatch_rows));
  dispatch_rows[n_dispatch_rows].name = name;
  dispatch_rows[n_dispatch_rows].ns = ns;
  n_dispatch_rows++;
}

static void
run_dispatch (void)
{
  guint64 n = opt_quick ? DISPATCH_PAIRS_QUICK : DISPATCH_PAIRS;
  guint repeats = opt_quick ? 2 : 5;
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (64 * 1024, NULL);
  g_autoptr(NebulaBumpAllocator) bump_quiet = NULL;
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(NebulaPoolAllocator) pool_shared = NULL;
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(NebulaSystemAllocator) system_perf = NULL;
  NebulaBenchTrace empty = { .max_batch_bytes = 4096 };
  Worker worker = { .trace = empty };

  floor_setup (&worker, NULL);
  add_dispatch_row ("floor-inline", time_best_of (repeats, dispatch_floor_inline, worker.context, n));
  add_dispatch_row ("floor-call", time_best_of (repeats, dispatch_floor_call, worker.context, n));
  floor_teardown (&worker);

  add_dispatch_row ("bump-inline", time_best_of (repeats, dispatch_bump_inline, bump, n));
  add_dispatch_row ("bump", time_best_of (repeats, dispatch_interface, bump, n));

  bump_quiet = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, NULL, "track-stats", FALSE, NULL);
  add_dispatch_row ("bump-no-stats", time_best_of (repeats, dispatch_interface, bump_quiet, n));

  /* The pool with its default check-frees; a single-threaded and a
   * thread-safe one, and the stack. */
  pool = nebula_pool_allocator_new (64, 1024, NULL);
  add_dispatch_row ("pool", time_best_of (repeats, dispatch_interface, pool, n));
  pool_shared = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, NULL, "thread-safe", TRUE, NULL);
  add_dispatch_row ("pool-ts", time_best_of (repeats, dispatch_interface, pool_shared, n));
  stack = nebula_stack_allocator_new (64 * 1024, NULL);
  add_dispatch_row ("stack", time_best_of (repeats, dispatch_interface, stack, n));

  system_perf = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, NULL,
                                "preset", NEBULA_PRESET_PERFORMANCE, NULL);
  add_dispatch_row ("system-perf", time_best_of (repeats, dispatch_interface, system_perf, n));
  add_dispatch_row ("malloc", time_best_of (repeats, dispatch_malloc, NULL, n));
}

static double
dispatch_ns (const char *name)
{
  for (guint i = 0; i < n_dispatch_rows; i++)
    if (g_str_equal (dispatch_rows[i].name, name))
      return dispatch_rows[i].ns;
  return NAN;
}

/* ------------------------------------------------------------------ */
/* SIMD: nebula_memory_copy/_fill and each vector loop against glibc    */

typedef enum { SIMD_GLIBC, SIMD_NEBULA, SIMD_AVX2, SIMD_SSE2, SIMD_PORTABLE, N_SIMD } SimdImpl;

static const char * const simd_names[N_SIMD] = { "glibc", "nebula", "avx2", "sse2", "portable" };

static const gsize simd_sizes[] = {
  64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
  131072, 262144, 524288, 1048576,
};
static const gsize simd_sizes_quick[] = { 64, 1024, 16384, 1048576 };

typedef struct
{
  gsize  size;
  double copy_gbs[N_SIMD];     /* 0: not run */
  double fill_gbs[N_SIMD];
} SimdRow;

static SimdRow simd_rows[G_N_ELEMENTS (simd_sizes)];
static guint n_simd_rows;

/* Through volatile pointers, so that nothing is inlined or elided. */
static void *(*volatile glibc_memcpy) (void *, const void *, size_t) = memcpy;
static void *(*volatile glibc_memset) (void *, int, size_t) = memset;

static NebulaCopyFunc
simd_copy_func (SimdImpl impl)
{
  switch (impl)
    {
    case SIMD_NEBULA:
      return nebula_memory_copy;
    case SIMD_AVX2:
      return nebula_simd_get_copy (NEBULA_SIMD_AVX2);
    case SIMD_SSE2:
      return nebula_simd_get_copy (NEBULA_SIMD_SSE2);
    case SIMD_PORTABLE:
      return nebula_simd_get_copy (NEBULA_SIMD_PORTABLE);
    case SIMD_GLIBC:
    case N_SIMD:
    default:
      return NULL;
    }
}

static NebulaFillFunc
simd_fill_func (SimdImpl impl)
{
  switch (impl)
    {
    case SIMD_NEBULA:
      return nebula_memory_fill;
    case SIMD_AVX2:
      return nebula_simd_get_fill (NEBULA_SIMD_AVX2);
    case SIMD_SSE2:
      return nebula_simd_get_fill (NEBULA_SIMD_SSE2);
    case SIMD_PORTABLE:
      return nebula_simd_get_fill (NEBULA_SIMD_PORTABLE);
    case SIMD_GLIBC:
    case N_SIMD:
    default:
      return NULL;
    }
}

static gboolean
simd_supported (SimdImpl impl)
{
  switch (impl)
    {
    case SIMD_AVX2:
      return nebula_simd_level_supported (NEBULA_SIMD_AVX2);
    case SIMD_SSE2:
      return nebula_simd_level_supported (NEBULA_SIMD_SSE2);
    case SIMD_GLIBC:
    case SIMD_NEBULA:
    case SIMD_PORTABLE:
    case N_SIMD:
    default:
      return TRUE;
    }
}

static double
simd_measure (SimdImpl  impl,
              gboolean  copy,
              guint8   *dst,
              guint8   *src,
              gsize     size)
{
  /* About 32 MB per timing (1 MB for --quick), best of three. */
  guint64 reps = MAX ((opt_quick ? 1 : 32) * 1024 * 1024 / size, 4);
  NebulaCopyFunc copy_func = simd_copy_func (impl);
  NebulaFillFunc fill_func = simd_fill_func (impl);
  double best = INFINITY;

  for (guint attempt = 0; attempt < 4; attempt++)
    {
      guint64 start = nebula_bench_now_ns (TRUE);

      for (guint64 i = 0; i < reps; i++)
        {
          if (copy && impl == SIMD_GLIBC)
            glibc_memcpy (dst, src, size);
          else if (copy)
            copy_func (dst, src, size);
          else if (impl == SIMD_GLIBC)
            glibc_memset (dst, (int) (i & 0xFF), size);
          else
            fill_func (dst, (guint8) i, size);
        }

      /* The first attempt warms the caches and is not counted. */
      if (attempt > 0)
        best = MIN (best, (double) (nebula_bench_now_ns (TRUE) - start));
    }

  return (double) size * (double) reps / best;  /* bytes per ns = GB/s */
}

static void
run_simd (void)
{
  const gsize *sizes = opt_quick ? simd_sizes_quick : simd_sizes;
  guint n_sizes = opt_quick ? G_N_ELEMENTS (simd_sizes_quick) : G_N_ELEMENTS (simd_sizes);
  gsize max_size = sizes[n_sizes - 1];
  guint8 *src = g_aligned_alloc (max_size + 64, 1, 64);
  guint8 *dst = g_aligned_alloc (max_size + 64, 1, 64);

  memset (src, 0x33, max_size + 64);
  memset (dst, 0, max_size + 64);

  for (guint s = 0; s < n_sizes; s++)
    {
      SimdRow *row = &simd_rows[n_simd_rows++];

      row->size = sizes[s];
      for (SimdImpl impl = 0; impl < N_SIMD; impl++)
        {
          if (!simd_supported (impl))
            continue;
          row->copy_gbs[impl] = simd_measure (impl, TRUE, dst, src, sizes[s]);
          row->fill_gbs[impl] = simd_measure (impl, FALSE, dst, src, sizes[s]);
        }
    }

  g_aligned_free (src);
  g_aligned_free (dst);
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static gboolean workload_selected[N_WORKLOADS];

static Cell *
cell_of (const char          *target_name,
         NebulaBenchWorkload  workload)
{
  Target *target = find_target (target_name);

  if (target == NULL || !target->cells[workload].ran)
    return NULL;
  return &target->cells[workload];
}

/* Geometric mean over the workloads both ran of a.ns / b.ns. */
static double
geomean_ratio (const char *a,
               const char *b)
{
  double log_sum = 0;
  guint n = 0;

  for (guint w = 0; w < N_WORKLOADS; w++)
    {
      Cell *x = cell_of (a, w), *y = cell_of (b, w);

      if (x == NULL || y == NULL)
        continue;
      log_sum += log (x->ns_min / y->ns_min);
      n++;
    }

  return n == 0 ? NAN : exp (log_sum / n);
}

static double
ratio (const char          *a,
       const char          *b,
       NebulaBenchWorkload  workload)
{
  Cell *x = cell_of (a, workload), *y = cell_of (b, workload);

  return x == NULL || y == NULL ? NAN : x->ns_min / y->ns_min;
}

static const char *
machine_cpu (void)
{
  static char *model;
  g_autofree char *contents = NULL;

  if (model != NULL)
    return model;

  if (g_file_get_contents ("/proc/cpuinfo", &contents, NULL, NULL))
    {
      char *line = strstr (contents, "model name");
      char *colon = line != NULL ? strchr (line, ':') : NULL;

      if (colon != NULL)
        {
          char *end = strchr (colon, '\n');
          model = g_strstrip (g_strndup (colon + 1, end != NULL ? (gsize) (end - colon - 1) : strlen (colon + 1)));
        }
    }
  if (model == NULL)
    model = g_strdup ("unknown");
  return model;
}

typedef struct
{
  const char *text;
  double      measured;
  double      limit;
  gboolean    at_most;    /* measured must be <= limit, else >= */
} Goal;

static guint
collect_goals (Goal *goals)
{
  guint n = 0;

  goals[n++] = (Goal) { "bump-inline / floor-inline (geometric mean of workloads)",
                        geomean_ratio ("bump-inline", "floor-inline"), 1.10, TRUE };
  goals[n++] = (Goal) { "bump interface / floor-call (geometric mean of workloads)",
                        geomean_ratio ("bump", "floor-call"), 1.25, TRUE };
  goals[n++] = (Goal) { "malloc / bump-inline, speed-up (geometric mean)",
                        1.0 / geomean_ratio ("bump-inline", "malloc"), 3.0, FALSE };
  goals[n++] = (Goal) { "malloc / bump interface, speed-up (geometric mean)",
                        1.0 / geomean_ratio ("bump", "malloc"), 1.5, FALSE };
  goals[n++] = (Goal) { "pool-inline / floor-freelist (fixed-64)",
                        ratio ("pool-inline", "floor-freelist", NEBULA_BENCH_FIXED_64), 1.25, TRUE };
  goals[n++] = (Goal) { "stack-inline / floor-inline (lifo-frames)",
                        ratio ("stack-inline", "floor-inline", NEBULA_BENCH_LIFO_FRAMES), 1.20, TRUE };
  goals[n++] = (Goal) { "pool interface / floor-freelist-call (fixed-64)",
                        ratio ("pool", "floor-freelist-call", NEBULA_BENCH_FIXED_64), 1.25, TRUE };
  goals[n++] = (Goal) { "stack interface / floor-call (lifo-frames)",
                        ratio ("stack", "floor-call", NEBULA_BENCH_LIFO_FRAMES), 1.25, TRUE };
  goals[n++] = (Goal) { "malloc / pool-inline, speed-up (fixed-64)",
                        1.0 / ratio ("pool-inline", "malloc", NEBULA_BENCH_FIXED_64), 3.0, FALSE };
  goals[n++] = (Goal) { "malloc / stack-inline, speed-up (lifo-frames)",
                        1.0 / ratio ("stack-inline", "malloc", NEBULA_BENCH_LIFO_FRAMES), 3.0, FALSE };
  goals[n++] = (Goal) { "malloc / pool interface, speed-up (fixed-64)",
                        1.0 / ratio ("pool", "malloc", NEBULA_BENCH_FIXED_64), 1.5, FALSE };
  goals[n++] = (Goal) { "malloc / stack interface, speed-up (lifo-frames)",
                        1.0 / ratio ("stack", "malloc", NEBULA_BENCH_LIFO_FRAMES), 1.5, FALSE };
  goals[n++] = (Goal) { "thread-safe pool / pool, one thread (fixed-64)",
                        ratio ("pool-ts", "pool", NEBULA_BENCH_FIXED_64), 1.6, TRUE };
  return n;
}

static const char *
goal_verdict (const Goal *goal)
{
  if (isnan (goal->measured))
    return "not measured";
  if (goal->at_most ? goal->measured <= goal->limit : goal->measured >= goal->limit)
    return "met";
  return "MISSED";
}

/* A row of the tables: present in this build and selected by the run. */
static gboolean
target_reported (const Target *target)
{
  return target->absent == NULL && target->selected;
}

static void
print_column_heads (void)
{
  printf ("%-20s", "allocator");
  for (guint w = 0; w < N_WORKLOADS; w++)
    if (workload_selected[w])
      printf (" %16s", nebula_bench_workload_name (w));
}

/* The targets are the project's own goals for its allocators (ratios to a
 * floor or to malloc, measured in this run); they say where the work
 * stands, and a MISSED one does not fail the run. */
static void
print_goals (const Goal *goals,
             guint       n_goals)
{
  guint n_unmeasured = 0, n_missed = 0;

  printf ("\ntargets: the project's speed goals, as ratios measured in this run "
          "(a goal not reached is MISSED;\nit does not fail the run; docs/performance.md "
          "says what each one means)\n");
  for (guint i = 0; i < n_goals; i++)
    {
      if (isnan (goals[i].measured))
        {
          n_unmeasured++;
          continue;
        }
      n_missed += g_str_equal (goal_verdict (&goals[i]), "MISSED");
      printf ("  %-58s %6.2f  (%s %.2f) %s\n", goals[i].text, goals[i].measured,
              goals[i].at_most ? "<=" : ">=", goals[i].limit, goal_verdict (&goals[i]));
    }
  printf ("  %u of %u goals met", n_goals - n_unmeasured - n_missed, n_goals - n_unmeasured);
  if (n_unmeasured > 0)
    printf ("; %u not measured (they need allocators or workloads this run left out)", n_unmeasured);
  printf ("\n");
}

static void
print_speedups (void)
{
  printf ("speed-up over glibc malloc (malloc ns / allocator ns; higher is better)\n");
  print_column_heads ();
  printf ("\n");
  for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
    {
      Target *target = &targets[t];

      if (!target_reported (target))
        continue;
      printf ("%-20s", target->name);
      for (guint w = 0; w < N_WORKLOADS; w++)
        if (workload_selected[w])
          {
            double r = ratio ("malloc", target->name, w);

            if (isnan (r))
              printf (" %16s", "n/a");
            else
              printf (" %15.2fx", r);
          }
      printf ("\n");
    }
  printf ("\n");
}

static void
print_table (guint64 iterations,
             guint   rounds)
{
  Goal goals[16];
  guint n_goals;

  printf ("nebula-bench %s: %d thread%s, >= %" G_GUINT64_FORMAT " ops per round and thread, "
          "%u rounds, seed %" G_GINT64_FORMAT "\n",
          PACKAGE_VERSION, opt_threads, opt_threads == 1 ? "" : "s", iterations, rounds, opt_seed);
  printf ("machine: %s, %ld cores; SIMD: %s\n\n", machine_cpu (), sysconf (_SC_NPROCESSORS_ONLN),
          nebula_memory_get_implementation ());

  if (!opt_simd_only)
    {
      printf ("ns per operation, best of %u rounds (lower is better; medians are in --format json/csv)\n",
              rounds);
      print_column_heads ();
      printf (" %9s %9s\n", "x floor", "x malloc");

      for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
        {
          Target *target = &targets[t];

          if (!target_reported (target))
            continue;
          printf ("%-20s", target->name);
          for (guint w = 0; w < N_WORKLOADS; w++)
            {
              if (!workload_selected[w])
                continue;
              if (target->cells[w].ran)
                printf (" %16.2f", target->cells[w].ns_min);
              else
                printf (" %16s", "n/a");
            }
          for (int col = 0; col < 2; col++)
            {
              double r = geomean_ratio (target->name, col == 0 ? "floor-inline" : "malloc");

              if (isnan (r))
                printf (" %9s", "-");
              else
                printf (" %9.2f", r);
            }
          printf ("\n");
        }
      printf ("(x floor, x malloc: geometric mean over the workloads of ns/op divided by\n"
              " floor-inline's and malloc's; below 1 is faster than malloc)\n\n");

      if (!find_target ("malloc")->selected)
        printf ("(no speed-ups over malloc: add malloc to --allocator to see them)\n\n");
      else
        print_speedups ();

      for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
        {
          Target *target = &targets[t];

          if (!target->selected)
            continue;
          if (target->absent != NULL)
            {
              printf ("absent: %s: %s\n", target->name, target->absent);
              continue;
            }
          for (guint w = 0; w < N_WORKLOADS; w++)
            if (workload_selected[w] && target->cells[w].error != NULL)
              printf ("n/a: %s on %s: %s\n", target->name, nebula_bench_workload_name (w),
                      target->cells[w].error);
        }

      if (n_dispatch_rows > 0)
        {
          printf ("\ndispatch: a 64-byte allocation and its free, repeated (ns per call; the\n"
                  "compiler may fold an inline pair, so this is for the exported paths)\n");
          for (guint i = 0; i < n_dispatch_rows; i++)
            printf ("  %-14s %6.2f  (%.2fx floor-call)\n", dispatch_rows[i].name, dispatch_rows[i].ns,
                    dispatch_rows[i].ns / dispatch_ns ("floor-call"));
        }

      n_goals = collect_goals (goals);
      print_goals (goals, n_goals);
    }

  if (n_simd_rows > 0)
    {
      for (int copy = 1; copy >= 0; copy--)
        {
          if (copy)
            printf ("\nnebula_memory_copy vs memcpy, GB/s (higher is better; nebula = the public\n"
                    "function: its own loop from %" G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT
                    " bytes, the C library elsewhere)\n", NEBULA_SIMD_COPY_MIN, NEBULA_SIMD_COPY_MAX);
          else
            printf ("\nnebula_memory_fill vs memset, GB/s (higher is better; nebula = the public\n"
                    "function: %s)\n", NEBULA_SIMD_FILL_WITH_LIBC ? "the C library's memset at every size"
                                                                   : "its own loops at every size");
          printf ("%10s", "bytes");
          for (SimdImpl impl = 0; impl < N_SIMD; impl++)
            printf (" %9s", simd_names[impl]);
          printf ("  fastest\n");
          for (guint i = 0; i < n_simd_rows; i++)
            {
              const double *gbs = copy ? simd_rows[i].copy_gbs : simd_rows[i].fill_gbs;
              SimdImpl best = SIMD_GLIBC;

              printf ("%10" G_GSIZE_FORMAT, simd_rows[i].size);
              for (SimdImpl impl = 0; impl < N_SIMD; impl++)
                {
                  if (gbs[impl] == 0)
                    printf (" %9s", "-");
                  else
                    printf (" %9.1f", gbs[impl]);
                  if (gbs[impl] > gbs[best])
                    best = impl;
                }
              printf ("  %s\n", simd_names[best]);
            }
        }
    }

  nebula_bench_cache_print_table ();
}

static void
json_string (GString    *out,
             const char *s)
{
  g_string_append_c (out, '"');
  for (; *s != '\0'; s++)
    {
      if (*s == '"' || *s == '\\')
        g_string_append_printf (out, "\\%c", *s);
      else if ((guchar) *s < 0x20)
        g_string_append_printf (out, "\\u%04x", *s);
      else
        g_string_append_c (out, *s);
    }
  g_string_append_c (out, '"');
}

static void
json_number (GString *out,
             double   value)
{
  if (isnan (value) || isinf (value))
    g_string_append (out, "null");
  else
    g_string_append_printf (out, "%.4f", value);
}

static void
print_json (guint64 iterations,
            guint   rounds)
{
  g_autoptr(GString) out = g_string_new ("{\n");
  Goal goals[16];
  guint n_goals = collect_goals (goals);
  gboolean first = TRUE;

  g_string_append_printf (out, "  \"version\": \"%s\",\n  \"threads\": %d,\n  \"iterations\": %"
                          G_GUINT64_FORMAT ",\n  \"rounds\": %u,\n  \"seed\": %" G_GINT64_FORMAT ",\n",
                          PACKAGE_VERSION, opt_threads, iterations, rounds, opt_seed);
  g_string_append (out, "  \"machine\": { \"cpu\": ");
  json_string (out, machine_cpu ());
  g_string_append_printf (out, ", \"cores\": %ld, \"simd\": \"%s\" },\n",
                          sysconf (_SC_NPROCESSORS_ONLN), nebula_memory_get_implementation ());
  nebula_bench_cache_append_json (out);

  g_string_append (out, "  \"results\": [");
  for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
    for (guint w = 0; w < N_WORKLOADS; w++)
      {
        Target *target = &targets[t];
        Cell *cell = &target->cells[w];

        if (!workload_selected[w] || opt_simd_only || !target->selected)
          continue;
        g_string_append (out, first ? "\n    { \"allocator\": " : ",\n    { \"allocator\": ");
        first = FALSE;
        json_string (out, target->name);
        g_string_append_printf (out, ", \"workload\": \"%s\", ", nebula_bench_workload_name (w));
        if (target->absent != NULL || !cell->ran)
          {
            g_string_append (out, "\"status\": ");
            json_string (out, target->absent != NULL ? target->absent : cell->error);
            g_string_append (out, " }");
            continue;
          }
        g_string_append_printf (out, "\"status\": \"ok\", \"ops\": %" G_GUINT64_FORMAT ", \"ns_per_op_min\": ",
                                cell->ops);
        json_number (out, cell->ns_min);
        g_string_append (out, ", \"ns_per_op_median\": ");
        json_number (out, cell->ns_median);
        g_string_append_printf (out, ", \"peak_bytes\": %" G_GUINT64_FORMAT ", \"x_floor\": ", cell->peak_bytes);
        json_number (out, ratio (target->name, "floor-inline", w));
        g_string_append (out, ", \"x_malloc\": ");
        json_number (out, ratio (target->name, "malloc", w));
        g_string_append (out, " }");
      }
  g_string_append (out, "\n  ],\n  \"dispatch\": [");
  for (guint i = 0; i < n_dispatch_rows; i++)
    {
      g_string_append_printf (out, "%s\n    { \"allocator\": \"%s\", \"ns_per_call\": ",
                              i == 0 ? "" : ",", dispatch_rows[i].name);
      json_number (out, dispatch_rows[i].ns);
      g_string_append (out, " }");
    }
  g_string_append (out, "\n  ],\n  \"targets\": [");
  for (guint i = 0; i < n_goals && !opt_simd_only; i++)
    {
      g_string_append (out, i == 0 ? "\n    { \"target\": " : ",\n    { \"target\": ");
      json_string (out, goals[i].text);
      g_string_append (out, ", \"measured\": ");
      json_number (out, goals[i].measured);
      g_string_append_printf (out, ", \"limit\": %.2f, \"verdict\": \"%s\" }", goals[i].limit,
                              goal_verdict (&goals[i]));
    }
  g_string_append (out, "\n  ],\n  \"simd\": [");
  for (guint i = 0; i < n_simd_rows; i++)
    {
      g_string_append_printf (out, "%s\n    { \"bytes\": %" G_GSIZE_FORMAT, i == 0 ? "" : ",", simd_rows[i].size);
      for (SimdImpl impl = 0; impl < N_SIMD; impl++)
        {
          g_string_append_printf (out, ", \"copy_%s_gbs\": ", simd_names[impl]);
          json_number (out, simd_rows[i].copy_gbs[impl] == 0 ? NAN : simd_rows[i].copy_gbs[impl]);
          g_string_append_printf (out, ", \"fill_%s_gbs\": ", simd_names[impl]);
          json_number (out, simd_rows[i].fill_gbs[impl] == 0 ? NAN : simd_rows[i].fill_gbs[impl]);
        }
      g_string_append (out, " }");
    }
  g_string_append (out, "\n  ]\n}\n");
  fputs (out->str, stdout);
}

static void
print_csv (void)
{
  printf ("section,allocator,workload,status,ops,ns_per_op_min,ns_per_op_median,peak_bytes,x_floor,x_malloc\n");
  nebula_bench_cache_print_csv ();
  for (guint t = 0; t < G_N_ELEMENTS (targets) && !opt_simd_only; t++)
    for (guint w = 0; w < N_WORKLOADS; w++)
      {
        Target *target = &targets[t];
        Cell *cell = &target->cells[w];

        if (!workload_selected[w] || !target->selected)
          continue;
        if (target->absent != NULL || !cell->ran)
          {
            g_autofree char *status = g_strdup (target->absent != NULL ? target->absent : cell->error);

            g_strdelimit (status, ",\"\n", ';');
            printf ("allocators,%s,%s,%s,,,,,,\n", target->name, nebula_bench_workload_name (w), status);
            continue;
          }
        printf ("allocators,%s,%s,ok,%" G_GUINT64_FORMAT ",%.4f,%.4f,%" G_GUINT64_FORMAT ",%.4f,%.4f\n",
                target->name, nebula_bench_workload_name (w), cell->ops, cell->ns_min, cell->ns_median,
                cell->peak_bytes, ratio (target->name, "floor-inline", w), ratio (target->name, "malloc", w));
      }
  for (guint i = 0; i < n_dispatch_rows; i++)
    printf ("dispatch,%s,alloc-free-64,ok,,,%.4f,,%s,\n", dispatch_rows[i].name, dispatch_rows[i].ns, "");
  for (guint i = 0; i < n_simd_rows; i++)
    for (SimdImpl impl = 0; impl < N_SIMD; impl++)
      if (simd_rows[i].copy_gbs[impl] > 0)
        printf ("simd,%s,copy-%" G_GSIZE_FORMAT ",ok,,,%.4f,,,\nsimd,%s,fill-%" G_GSIZE_FORMAT ",ok,,,%.4f,,,\n",
                simd_names[impl], simd_rows[i].size, simd_rows[i].size / simd_rows[i].copy_gbs[impl],
                simd_names[impl], simd_rows[i].size, simd_rows[i].size / simd_rows[i].fill_gbs[impl]);
}

/* ------------------------------------------------------------------ */
/* The chart: one panel per workload, a horizontal bar per allocator,   */
/* speed-up over glibc malloc on a log scale (a bar to the right of the */
/* malloc line is faster than malloc).                                  */

static const char *
bar_colour (const Target *target)
{
  switch (target->kind)
    {
    case KIND_FLOOR:
      return "#9aa0a6";
    case KIND_NEBULA:
      return target->nebula_inline ? "#1a73e8" : "#4f9cf9";
    case KIND_PEER:
    default:
      return g_str_equal (target->name, "malloc") ? "#d93025" : "#f29900";
    }
}

static gboolean
write_plot (const char  *path,
            GError     **error)
{
  g_autoptr(GString) svg = g_string_new (NULL);
  const double label_width = 130, plot_width = 560, bar_height = 16, gap = 4;
  const double left = label_width + 20, top = 70;
  double y = top, min_ratio = 0.5, max_ratio = 2;
  guint n_rows = 0, n_panels = 0;
  double height, x_one;

  for (guint w = 0; w < N_WORKLOADS; w++)
    {
      if (!workload_selected[w])
        continue;
      n_panels++;
      for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
        {
          double r = ratio ("malloc", targets[t].name, w);

          if (isnan (r) || r <= 0)
            continue;
          n_rows++;
          min_ratio = MIN (min_ratio, r);
          max_ratio = MAX (max_ratio, r);
        }
    }

  /* Whole decades, so the grid reads 0.1, 1, 10, 100. */
  min_ratio = pow (10, floor (log10 (min_ratio)));
  max_ratio = pow (10, ceil (log10 (max_ratio)));
#define X_OF(r) (left + plot_width * (log10 (r) - log10 (min_ratio)) / (log10 (max_ratio) - log10 (min_ratio)))
  x_one = X_OF (1.0);
  height = top + n_rows * (bar_height + gap) + n_panels * 34 + 60;

  g_string_append_printf (svg,
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                          "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
                          "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                          "<text x=\"%.0f\" y=\"24\" font-size=\"16\" font-weight=\"bold\">"
                          "Speed-up over glibc malloc (higher is better, log scale)</text>\n"
                          "<text x=\"%.0f\" y=\"44\" fill=\"#555\">nebula-bench %s, %d thread%s, "
                          "best of rounds; %s</text>\n",
                          left + plot_width + 80, height, 10.0, 10.0, PACKAGE_VERSION, opt_threads,
                          opt_threads == 1 ? "" : "s", machine_cpu ());

  for (guint w = 0; w < N_WORKLOADS; w++)
    {
      double panel_top;

      if (!workload_selected[w])
        continue;

      y += 24;
      g_string_append_printf (svg, "<text x=\"10\" y=\"%.0f\" font-weight=\"bold\">%s</text>\n",
                              y - 6, nebula_bench_workload_name (w));
      panel_top = y;

      for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
        {
          const Target *target = &targets[t];
          double r = ratio ("malloc", target->name, w);
          Cell *cell = cell_of (target->name, w);
          double x0 = MIN (x_one, X_OF (r)), x1 = MAX (x_one, X_OF (r));

          if (isnan (r) || r <= 0 || cell == NULL)
            continue;
          g_string_append_printf (svg,
                                  "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n"
                                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\">"
                                  "<title>%s: %.2f ns/op, %.2fx malloc</title></rect>\n"
                                  "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333\" font-size=\"11\">%.2fx (%.1f ns)</text>\n",
                                  left - 8, y + bar_height - 4, target->name,
                                  x0, y, MAX (x1 - x0, 1.0), bar_height, bar_colour (target),
                                  target->description, cell->ns_min, r,
                                  x1 + 4, y + bar_height - 4, r, cell->ns_min);
          y += bar_height + gap;
        }

      g_string_append_printf (svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "stroke=\"#d93025\" stroke-dasharray=\"3,3\"/>\n",
                              x_one, panel_top - 4, x_one, y);
      y += 10;
    }

  /* The axis. */
  for (double tick = min_ratio; tick <= max_ratio * 1.001; tick *= 10)
    g_string_append_printf (svg,
                            "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ddd\"/>\n"
                            "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#555\">%gx</text>\n",
                            X_OF (tick), top, X_OF (tick), y, X_OF (tick), y + 16, tick);
  g_string_append_printf (svg,
                          "<text x=\"%.0f\" y=\"%.0f\" fill=\"#555\">blue: Nebula (dark: inline fast path); "
                          "grey: floors; red: glibc malloc; orange: other peers</text>\n</svg>\n",
                          left, y + 38);
#undef X_OF

  return g_file_set_contents (path, svg->str, svg->len, error);
}

/* ------------------------------------------------------------------ */

/* Progress goes to stderr, so that stdout stays the report: a rewritten
 * line on a terminal, otherwise one line as each allocator starts (a run
 * takes 12 to 20 s, and a log should show it is moving). */
static void
progress (guint       done,
          guint       total,
          const char *what)
{
  if (progress_enabled)
    {
      fprintf (stderr, "\r\033[K[%u/%u] %s", done, total, what);
      if (done == total)
        fprintf (stderr, "\r\033[K");
      fflush (stderr);
    }
}

static void
progress_line (const char *what)
{
  if (!progress_enabled && !opt_quiet)
    fprintf (stderr, "nebula-bench: %s\n", what);
}

static gboolean
parse_format_cb (const char  *option_name,
                 const char  *value,
                 gpointer     data,
                 GError     **error)
{
  if (g_str_equal (value, "table"))
    opt_format = FORMAT_TABLE;
  else if (g_str_equal (value, "json"))
    opt_format = FORMAT_JSON;
  else if (g_str_equal (value, "csv"))
    opt_format = FORMAT_CSV;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--format must be table, json or csv, not '%s'", value);
      return FALSE;
    }
  return TRUE;
}

static gboolean
name_listed (const char *list,
             const char *name)
{
  g_auto(GStrv) names = NULL;

  if (list == NULL)
    return TRUE;
  names = g_strsplit (list, ",", -1);
  return g_strv_contains ((const char * const *) names, name);
}

static GStrv
allocator_names (void)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
    g_strv_builder_add (builder, targets[t].name);
  return g_strv_builder_end (builder);
}

static GStrv
workload_names (void)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint w = 0; w < N_WORKLOADS; w++)
    g_strv_builder_add (builder, nebula_bench_workload_name (w));
  return g_strv_builder_end (builder);
}

/* Every name in @list (comma-separated) must be one of @valid: a typo
 * would otherwise measure nothing and still exit 0. */
static gboolean
check_names (const char         *option,
             const char         *list,
             const char * const *valid,
             GError            **error)
{
  g_auto(GStrv) names = NULL;

  if (list == NULL)
    return TRUE;
  names = g_strsplit (list, ",", -1);
  for (guint i = 0; names[i] != NULL; i++)
    if (!g_strv_contains (valid, names[i]))
      {
        g_autofree char *choices = g_strjoinv (", ", (char **) valid);

        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     "%s: unknown name '%s'; the names are: %s", option, names[i], choices);
        return FALSE;
      }
  return TRUE;
}

static void
print_list (void)
{
  printf ("allocators:\n");
  for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
    printf ("  %-20s %s%s%s\n", targets[t].name, targets[t].description,
            targets[t].absent != NULL ? "; absent: " : "",
            targets[t].absent != NULL ? targets[t].absent : "");
  printf ("workloads:\n");
  for (guint w = 0; w < N_WORKLOADS; w++)
    printf ("  %s\n", nebula_bench_workload_name (w));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_CALLBACK, parse_format_cb, "Output format: table (default), json or csv", "FORMAT" },
    { "plot", 'p', 0, G_OPTION_ARG_FILENAME, &opt_plot, "Also write a bar chart to FILE.svg", "FILE.svg" },
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick, "A smoke run of a few seconds", NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &opt_threads, "Threads sharing each allocator (default 1)", "N" },
    { "iterations", 'n', 0, G_OPTION_ARG_INT64, &opt_iterations, "Operations per round and thread", "N" },
    { "rounds", 'r', 0, G_OPTION_ARG_INT, &opt_rounds, "Timed rounds (default 15)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &opt_seed, "Seed of the request sequences (default 42)", "N" },
    { "workload", 'w', 0, G_OPTION_ARG_STRING, &opt_workloads, "Only these workloads (comma-separated)", "NAMES" },
    { "allocator", 'a', 0, G_OPTION_ARG_STRING, &opt_allocators, "Only these allocators (comma-separated)", "NAMES" },
    { "simd", 0, 0, G_OPTION_ARG_NONE, &opt_simd_only, "Only the copy/fill comparison with glibc", NULL },
    { "no-simd", 0, 0, G_OPTION_ARG_NONE, &opt_no_simd, "Skip the copy/fill comparison", NULL },
    { "cache", 0, 0, G_OPTION_ARG_NONE, &opt_cache_only, "Only the compute-cache workloads", NULL },
    { "list", 'l', 0, G_OPTION_ARG_NONE, &opt_list, "List the allocators and workloads, and exit", NULL },
    { "quiet", 0, 0, G_OPTION_ARG_NONE, &opt_quiet, "No progress lines on stderr", NULL },
    { NULL }
  };
  guint64 iterations;
  guint rounds, total = 0, done = 0;

  g_auto(GStrv) all_allocators = allocator_names ();
  g_auto(GStrv) all_workloads = workload_names ();
  g_autofree char *allocator_list = g_strjoinv (", ", all_allocators);
  g_autofree char *workload_list = g_strjoinv (", ", all_workloads);
  g_autofree char *summary = NULL;

  context = g_option_context_new ("- compare Nebula's allocators with the floors and with other allocators");
  summary = g_strdup_printf ("Allocators: %s.\nWorkloads: %s.\n"
                             "--list describes each; --plot FILE.svg also draws a bar chart.",
                             allocator_list, workload_list);
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      !check_names ("--allocator", opt_allocators, (const char * const *) all_allocators, &error) ||
      !check_names ("--workload", opt_workloads, (const char * const *) all_workloads, &error))
    {
      g_printerr ("nebula-bench: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("nebula-bench: unexpected argument '%s' (see --help)\n", argv[1]);
      return 2;
    }
  if (opt_threads < 1 || opt_threads > 256 || opt_iterations < 0 || opt_rounds < 0 || opt_rounds > 1000)
    {
      g_printerr ("nebula-bench: --threads must be 1..256, --rounds 1..1000, --iterations positive\n");
      return 2;
    }
  if (opt_list)
    {
      print_list ();
      return 0;
    }

  iterations = opt_iterations > 0 ? (guint64) opt_iterations : opt_quick ? 20000 : 200000;
  rounds = opt_rounds > 0 ? (guint) opt_rounds : opt_quick ? 2 : 15;
  progress_enabled = isatty (STDERR_FILENO);
  /* --cache: no allocator comparison (as with --simd), no copy/fill. */
  if (opt_cache_only)
    opt_simd_only = opt_no_simd = TRUE;

  for (guint w = 0; w < N_WORKLOADS; w++)
    workload_selected[w] = name_listed (opt_workloads, nebula_bench_workload_name (w));

#if HAVE_APR
  apr_initialize ();
#endif

  /* Nebula types the library does not have yet are simply absent. */
  for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
    {
      Target *target = &targets[t];

      if (target->kind == KIND_NEBULA && target->absent == NULL &&
          nebula_type_for (target->nebula_type) == G_TYPE_INVALID)
        target->absent = "not in this build of libnebula";
      target->selected = name_listed (opt_allocators, target->name);
      if (target->absent == NULL && target->selected)
        for (guint w = 0; w < N_WORKLOADS; w++)
          total += workload_selected[w];
    }

  if (!opt_simd_only)
    {
      for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
        {
          Target *target = &targets[t];

          if (target->absent != NULL || !target->selected)
            continue;
          progress_line (target->name);
          for (guint w = 0; w < N_WORKLOADS; w++)
            {
              g_autofree char *what = NULL;

              if (!workload_selected[w])
                continue;
              what = g_strdup_printf ("%s on %s", target->name, nebula_bench_workload_name (w));
              progress (done, total, what);
              if (target->kind == KIND_NEBULA)
                run_nebula (target, w, iterations, rounds, opt_threads, &target->cells[w]);
              else
                run_direct (target, w, iterations, rounds, opt_threads, &target->cells[w]);
              progress (++done, total, what);
            }
        }

      if (opt_allocators == NULL && opt_workloads == NULL)
        {
          progress_line ("dispatch");
          progress (0, 1, "dispatch");
          run_dispatch ();
          progress (1, 1, "dispatch");
        }
    }

  if (!opt_no_simd && (opt_simd_only || (opt_allocators == NULL && opt_workloads == NULL)))
    {
      progress_line ("memory copy and fill");
      progress (0, 1, "memory copy and fill");
      run_simd ();
      progress (1, 1, "memory copy and fill");
    }

  if (opt_cache_only || (!opt_simd_only && opt_allocators == NULL && opt_workloads == NULL))
    {
      progress_line ("compute caches");
      nebula_bench_cache_run (opt_quick, (guint) opt_rounds);
    }

  switch (opt_format)
    {
    case FORMAT_JSON:
      print_json (iterations, rounds);
      break;
    case FORMAT_CSV:
      print_csv ();
      break;
    case FORMAT_TABLE:
    default:
      print_table (iterations, rounds);
      break;
    }

  if (opt_plot != NULL && !opt_simd_only && !write_plot (opt_plot, &error))
    {
      g_printerr ("nebula-bench: cannot write the chart: %s\n", error->message);
      return 1;
    }

#if HAVE_APR
  apr_terminate ();
#endif
  return 0;
}
