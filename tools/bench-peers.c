/* bench-peers.c: the floors and the other allocators nebula-bench
 * compares Nebula's with, each driven through its own API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each floor and peer is a set-up, a tear-down and a pass: the replay
 * loop of nebula-benchmark-private.h inlined with that allocator's calls.
 *
 * Two peers replace malloc() for the whole process when linked normally
 * (Debian builds both jemalloc and mimalloc to override it), which would
 * silently turn "glibc malloc" into one of them. So jemalloc comes from a
 * copy of its static archive whose malloc-family symbols were made local
 * at build time (only mallocx/sdallocx stay visible), and mimalloc is
 * opened with dlopen(RTLD_LOCAL), which puts nothing in the global scope.
 */

#include "config.h"

#include <dlfcn.h>
#include <stdlib.h>

#include <nebula.h>

#include "bench-peers.h"

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

/* ------------------------------------------------------------------ */
/* Floors                                                              */

FloorContext *
nebula_bench_floor_context_new (gsize size)
{
  FloorContext *context = g_new0 (FloorContext, 1);

  context->buffer = g_malloc (size);
  context->floor.start = context->floor.cursor = context->buffer;
  context->floor.limit = context->buffer + size;
  return context;
}

void
nebula_bench_floor_context_free (FloorContext *context)
{
  g_free (context->buffer);
  g_free (context);
}

static gboolean
floor_setup (Worker  *worker,
             char   **why)
{
  worker->context = nebula_bench_floor_context_new (worker->trace.max_batch_bytes + 4096);
  return TRUE;
}

static void
floor_teardown (Worker *worker)
{
  nebula_bench_floor_context_free (worker->context);
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
 * target's functions. `arena` or `individual` picks the rendering. A
 * producer/consumer pair runs its side of the hand-off instead (only
 * targets with cross_thread_frees get there). */
#define DEFINE_PASS(name, rendering, alloc_func, free_func, reset_func)              \
  static gboolean                                                                  \
  name (Worker *worker)                                                            \
  {                                                                                \
    if (worker->handoff != NULL && worker->consumer)                               \
      return nebula_bench_consume (worker->handoff, worker->batches,               \
                                   worker->context, free_func);                    \
    if (worker->handoff != NULL)                                                   \
      return nebula_bench_produce (worker->handoff, worker->batches,               \
                                   worker->context, alloc_func);                   \
    for (guint64 pass = 0; pass < worker->passes; pass++)                          \
      if (!nebula_bench_replay (worker->trace.rendering, worker->trace.n_##rendering, \
                                worker->slots, worker->context,                    \
                                alloc_func, free_func, reset_func))                \
        return FALSE;                                                              \
    return TRUE;                                                                   \
  }

DEFINE_PASS (floor_inline_pass, arena, floor_inline_alloc, floor_inline_free, floor_inline_reset)
DEFINE_PASS (floor_call_pass, arena, floor_call_alloc, floor_call_free, floor_call_reset)

/* ------------------------------------------------------------------ */
/* Nebula bump through a NebulaBumpBatch: the cursor in a local, one     */
/* allocator per thread, default configuration                           */

typedef struct
{
  NebulaBumpBatch      batch;
  NebulaBumpAllocator *bump;
} BatchContext;

static gboolean
bump_batch_setup (Worker  *worker,
                  char   **why)
{
  g_autoptr(GError) error = NULL;
  gsize capacity = 64 * 1024;

  /* As the bump rows: room for two batches of the trace. */
  while (capacity < worker->trace.max_batch_bytes * 2)
    capacity *= 2;
  worker->context = nebula_bump_allocator_new (capacity, &error);
  if (worker->context == NULL)
    {
      *why = g_strdup (error->message);
      return FALSE;
    }
  return TRUE;
}

static void
bump_batch_teardown (Worker *worker)
{
  g_clear_object ((NebulaBumpAllocator **) &worker->context);
}

static inline gpointer
bump_batch_alloc (gpointer data, gsize size, gsize alignment)
{
  return nebula_bump_batch_alloc (&((BatchContext *) data)->batch, size, alignment, NULL);
}

/* A single free leaves the batch for the allocator's own path. */
static inline gboolean
bump_batch_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  BatchContext *context = data;
  gboolean ok;

  nebula_bump_batch_end (&context->batch);
  ok = nebula_bump_allocator_free (context->bump, ptr, size, alignment, NULL);
  nebula_bump_batch_begin (&context->batch, context->bump);
  return ok;
}

static inline gboolean
bump_batch_reset (gpointer data)
{
  BatchContext *context = data;

  nebula_bump_batch_end (&context->batch);
  nebula_allocator_reset (NEBULA_ALLOCATOR (context->bump));
  nebula_bump_batch_begin (&context->batch, context->bump);
  return TRUE;
}

/* The batch is a local of the pass, so that its cursor stays in a
 * register across the replay loop. */
static gboolean
bump_batch_pass (Worker *worker)
{
  BatchContext context = { .bump = worker->context };
  gboolean ok = TRUE;

  nebula_bump_batch_begin (&context.batch, context.bump);
  for (guint64 pass = 0; ok && pass < worker->passes; pass++)
    ok = nebula_bench_replay (worker->trace.arena, worker->trace.n_arena, worker->slots, &context,
                              bump_batch_alloc, bump_batch_free, bump_batch_reset);
  nebula_bump_batch_end (&context.batch);
  return ok;
}

/* ------------------------------------------------------------------ */
/* Nebula bump and stack with a scope per batch: a NebulaBumpScope or a  */
/* NebulaStackFrame opens at the start of each request and its free      */
/* releases the request's blocks (the RESET of the trace), the way a     */
/* server would use them; the blocks come from the inline paths.         */

typedef struct
{
  gpointer          allocator;
  NebulaBumpScope  *scope;
  NebulaStackFrame *frame;
} ScopeContext;

/* Room for two batches, as the bump rows, plus every block's header on a
 * stack. */
static gsize
scope_capacity (const Worker *worker)
{
  gsize capacity = 64 * 1024;

  while (capacity < (worker->trace.max_batch_bytes + worker->trace.max_live * 32) * 2)
    capacity *= 2;
  return capacity;
}

static gboolean
scope_setup (Worker   *worker,
             gpointer  allocator,
             GError   *error,
             char    **why)
{
  ScopeContext *context;

  if (allocator == NULL)
    {
      *why = g_strdup (error->message);
      g_error_free (error);
      return FALSE;
    }
  context = g_new0 (ScopeContext, 1);
  context->allocator = allocator;
  worker->context = context;
  return TRUE;
}

static gboolean
bump_scope_setup (Worker  *worker,
                  char   **why)
{
  GError *error = NULL;

  return scope_setup (worker, nebula_bump_allocator_new (scope_capacity (worker), &error),
                      error, why);
}

static gboolean
stack_frame_setup (Worker  *worker,
                   char   **why)
{
  GError *error = NULL;

  return scope_setup (worker, nebula_stack_allocator_new (scope_capacity (worker), &error),
                      error, why);
}

static void
scope_teardown (Worker *worker)
{
  ScopeContext *context = worker->context;

  g_object_unref (context->allocator);
  g_free (context);
}

/* A target's functions and its pass. The first request's scope opens
 * before the pass, the last one's (empty: the trace ends with a RESET)
 * closes after it. */
#define DEFINE_SCOPE_PASS(prefix, field, open_func, close_func, alloc_func, free_func)  \
  static inline gpointer                                                           \
  prefix##_alloc (gpointer data, gsize size, gsize alignment)                      \
  {                                                                                \
    return alloc_func (((ScopeContext *) data)->allocator, size, alignment, NULL); \
  }                                                                                \
                                                                                   \
  static inline gboolean                                                           \
  prefix##_free (gpointer data, gpointer ptr, gsize size, gsize alignment)         \
  {                                                                                \
    return free_func (((ScopeContext *) data)->allocator, ptr, size, alignment, NULL); \
  }                                                                                \
                                                                                   \
  static inline gboolean                                                           \
  prefix##_reset (gpointer data)                                                   \
  {                                                                                \
    ScopeContext *context = data;                                                  \
                                                                                   \
    close_func (context->field);                                                   \
    context->field = open_func (context->allocator);                               \
    return TRUE;                                                                   \
  }                                                                                \
                                                                                   \
  static gboolean                                                                  \
  prefix##_pass (Worker *worker)                                                   \
  {                                                                                \
    ScopeContext *context = worker->context;                                       \
    gboolean ok = TRUE;                                                            \
                                                                                   \
    context->field = open_func (context->allocator);                               \
    for (guint64 pass = 0; ok && pass < worker->passes; pass++)                    \
      ok = nebula_bench_replay (worker->trace.arena, worker->trace.n_arena,        \
                                worker->slots, context, prefix##_alloc,            \
                                prefix##_free, prefix##_reset);                    \
    close_func (context->field);                                                   \
    context->field = NULL;                                                         \
    return ok;                                                                     \
  }

DEFINE_SCOPE_PASS (bump_scope, scope, nebula_bump_scope_new, nebula_bump_scope_free,
                   nebula_bump_allocator_alloc, nebula_bump_allocator_free)
DEFINE_SCOPE_PASS (stack_frame, frame, nebula_stack_frame_new, nebula_stack_frame_free,
                   nebula_stack_allocator_alloc, nebula_stack_allocator_free)

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
malloc_call_alloc (gpointer data, gsize size, gsize alignment)
{
  return nebula_bench_floor_malloc (size, alignment);
}

static inline gboolean
malloc_call_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  nebula_bench_floor_malloc_free (ptr, size, alignment);
  return TRUE;
}

DEFINE_PASS (malloc_call_pass, individual, malloc_call_alloc, malloc_call_free, nothing_to_reset)

/* ------------------------------------------------------------------ */
/* Bump allocators and threads, for "thread-safe bump / bump, two        */
/* threads": every thread streams its allocations into a plain bump      */
/* allocator of its own (bump-own), or all of them into one thread-safe  */
/* bump allocator (bump-shared), through nebula_allocator_allocate(),    */
/* skipping the frees. Both hold a whole round (no reset at batch ends,  */
/* which a shared allocator cannot take while other threads allocate)    */
/* and are reset between the timed rounds, every thread idle             */
/* (round_reset in the Target).                                          */

G_LOCK_DEFINE_STATIC (shared_bump);
static NebulaBumpAllocator *shared_bump;
static guint shared_bump_users;

/* Room for @n_threads threads' rounds, a quarter more for the slice ends
 * the threads leave behind each other. */
static NebulaBumpAllocator *
round_bump_new (Worker    *worker,
                guint      n_threads,
                gboolean   thread_safe,
                char     **why)
{
  g_autoptr(GError) error = NULL;
  guint64 round = (guint64) worker->trace.max_batch_bytes * worker->trace.n_batches * worker->passes;
  guint64 capacity = 64 * 1024;
  NebulaBumpAllocator *bump;

  while (capacity < round * n_threads + round * n_threads / 4)
    capacity *= 2;
  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error, "capacity", capacity,
                         "thread-safe", thread_safe, NULL);
  if (bump == NULL)
    *why = g_strdup (error->message);
  return bump;
}

static gboolean
bump_own_setup (Worker  *worker,
                char   **why)
{
  worker->context = round_bump_new (worker, 1, FALSE, why);
  return worker->context != NULL;
}

static void
bump_own_teardown (Worker *worker)
{
  g_clear_object ((NebulaBumpAllocator **) &worker->context);
}

/* Each thread resets its own. */
static void
bump_own_round_reset (Worker *worker)
{
  nebula_allocator_reset (worker->context);
}

/* The first thread to set up creates the shared allocator. */
static gboolean
bump_shared_setup (Worker  *worker,
                   char   **why)
{
  guint n_threads = worker->barrier != NULL ? worker->barrier->n_threads : 1;

  G_LOCK (shared_bump);
  if (shared_bump == NULL)
    shared_bump = round_bump_new (worker, n_threads, TRUE, why);
  if (shared_bump != NULL)
    shared_bump_users++;
  worker->context = shared_bump;
  G_UNLOCK (shared_bump);
  return worker->context != NULL;
}

static void
bump_shared_teardown (Worker *worker)
{
  G_LOCK (shared_bump);
  if (worker->context != NULL && --shared_bump_users == 0)
    g_clear_object (&shared_bump);
  worker->context = NULL;
  G_UNLOCK (shared_bump);
}

/* The first thread resets for all: the others wait at the barrier. */
static void
bump_shared_round_reset (Worker *worker)
{
  if (worker->index == 0)
    nebula_allocator_reset (worker->context);
}

static inline gpointer
bump_round_alloc (gpointer data, gsize size, gsize alignment)
{
  return nebula_allocator_allocate (data, size, alignment, NULL);
}

/* Allocation only: the round's reset releases every block, as it would
 * the frees (of which a bump allocator takes back only the newest block). */
static inline gboolean
bump_round_free (gpointer data, gpointer ptr, gsize size, gsize alignment)
{
  return TRUE;
}

DEFINE_PASS (bump_round_pass, arena, bump_round_alloc, bump_round_free, nothing_to_reset)

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
  __typeof__ (mi_malloc)              *malloc;
  __typeof__ (mi_malloc_aligned)      *malloc_aligned;
} mi;

typedef struct
{
  mi_heap_t *heap;
} MimallocContext;

static const char *
mimalloc_load_once (void)
{
  static char *error;
  void *handle;

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
  mi.malloc = (__typeof__ (mi.malloc)) dlsym (handle, "mi_malloc");
  mi.malloc_aligned = (__typeof__ (mi.malloc_aligned)) dlsym (handle, "mi_malloc_aligned");
  if (mi.heap_new == NULL || mi.heap_destroy == NULL || mi.heap_malloc == NULL ||
      mi.heap_malloc_aligned == NULL || mi.free == NULL || mi.malloc == NULL ||
      mi.malloc_aligned == NULL)
    return error = g_strdup ("libmimalloc lacks the heap API");

  return NULL;
}

/* Every worker thread of a run sets up at once: the first loads, the
 * others wait for it (they used to find the functions still NULL). */
static const char *
mimalloc_load (void)
{
  static gsize once;
  static const char *error;

  if (g_once_init_enter (&once))
    {
      error = mimalloc_load_once ();
      g_once_init_leave (&once, 1);
    }

  return error;
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

/* mimalloc as a malloc: mi_malloc/mi_free on its default per-thread heap,
 * each block freed on its own, nothing destroyed at batch end (the honest
 * peer of the individual-free workloads, larson above all). */
static gboolean
mimalloc_plain_setup (Worker  *worker,
                      char   **why)
{
  const char *error = mimalloc_load ();

  if (error != NULL)
    *why = g_strdup (error);
  return error == NULL;
}

static inline gpointer
mimalloc_plain_alloc (gpointer data, gsize size, gsize alignment)
{
  /* mimalloc aligns to 16 (MI_MAX_ALIGN_SIZE). */
  if (alignment <= 16)
    return mi.malloc (size);
  return mi.malloc_aligned (size, alignment);
}

DEFINE_PASS (mimalloc_plain_pass, individual, mimalloc_plain_alloc, mimalloc_free, nothing_to_reset)
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
/* bumpalo (Rust): the whole pass runs in Rust, frees do nothing, a      */
/* reset rewinds the arena (tools/bumpalo/lib.rs)                        */

#if HAVE_BUMPALO
gpointer nebula_bumpalo_new    (gsize                capacity);
void     nebula_bumpalo_free   (gpointer             bump);
gboolean nebula_bumpalo_replay (gpointer             bump,
                                const NebulaBenchOp *ops,
                                gsize                n_ops,
                                gpointer            *slots);

static gboolean
bumpalo_setup (Worker  *worker,
               char   **why)
{
  /* A first chunk as large as a bump allocator's. */
  worker->context = nebula_bumpalo_new (64 * 1024);
  return TRUE;
}

static void
bumpalo_teardown (Worker *worker)
{
  nebula_bumpalo_free (worker->context);
}

static gboolean
bumpalo_pass (Worker *worker)
{
  for (guint64 pass = 0; pass < worker->passes; pass++)
    if (!nebula_bumpalo_replay (worker->context, worker->trace.arena, worker->trace.n_arena,
                                worker->slots))
      return FALSE;
  return TRUE;
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

Target nebula_bench_targets[] = {
  { "floor-inline", KIND_FLOOR, "trivial bump over a preallocated buffer, inlined",
    floor_setup, floor_teardown, floor_inline_pass, FALSE },
  { "floor-call", KIND_FLOOR, "the same behind an exported call into a shared library",
    floor_setup, floor_teardown, floor_call_pass, FALSE },
  { "floor-freelist", KIND_FLOOR, "trivial free list of fixed-size blocks, inlined (the pool's floor)",
    free_list_setup, free_list_teardown, free_list_inline_pass, FALSE },
  { "floor-freelist-call", KIND_FLOOR, "the same behind an exported call into a shared library",
    free_list_setup, free_list_teardown, free_list_call_pass, FALSE },
  { "floor-malloc-call", KIND_FLOOR, "glibc malloc/free behind an exported call each (the System allocator's floor)",
    no_setup, no_teardown, malloc_call_pass, FALSE, .cross_thread_frees = TRUE },
  { "bump-inline", KIND_NEBULA, "NebulaBumpAllocator, inline fast path (nebula_bump_allocator_alloc)",
    .nebula_type = "bump", .nebula_inline = TRUE },
  { "bump", KIND_NEBULA, "NebulaBumpAllocator through nebula_allocator_allocate()",
    .nebula_type = "bump" },
  { "bump-nostats", KIND_NEBULA, "NebulaBumpAllocator, inline fast path, track-stats off",
    .nebula_type = "bump", .nebula_inline = TRUE, .nebula_no_stats = TRUE },
  { "bump-ts", KIND_NEBULA, "thread-safe NebulaBumpAllocator, one thread, nebula_allocator_allocate()",
    .nebula_type = "bump", .nebula_thread_safe = TRUE },
  { "bump-batch", KIND_PEER, "NebulaBumpAllocator through a NebulaBumpBatch (cursor in a local), "
    "default configuration",
    bump_batch_setup, bump_batch_teardown, bump_batch_pass, FALSE },
  { "bump-scope", KIND_PEER, "NebulaBumpAllocator, a NebulaBumpScope per batch, inline fast path",
    bump_scope_setup, scope_teardown, bump_scope_pass, FALSE },
  { "pool-inline", KIND_NEBULA, "NebulaPoolAllocator, inline fast path (nebula_pool_allocator_alloc)",
    .nebula_type = "pool", .nebula_inline = TRUE },
  { "pool", KIND_NEBULA, "NebulaPoolAllocator through nebula_allocator_allocate()",
    .nebula_type = "pool" },
  { "pool-inline-perf", KIND_NEBULA, "NebulaPoolAllocator, inline fast path, PERFORMANCE preset "
    "(no check-frees, no statistics)",
    .nebula_type = "pool", .nebula_inline = TRUE, .nebula_performance = TRUE },
  { "pool-perf", KIND_NEBULA, "NebulaPoolAllocator through nebula_allocator_allocate(), "
    "PERFORMANCE preset",
    .nebula_type = "pool", .nebula_performance = TRUE },
  { "pool-ts", KIND_NEBULA, "thread-safe NebulaPoolAllocator, one thread, nebula_allocator_allocate()",
    .nebula_type = "pool", .nebula_thread_safe = TRUE },
  { "multipool", KIND_NEBULA, "NebulaMultiPoolAllocator, its default (size classes over thread-safe "
    "pools), nebula_allocator_allocate()",
    .nebula_type = "multi_pool" },
  { "multipool-st", KIND_NEBULA, "NebulaMultiPoolAllocator with thread-safe off (one thread only)",
    .nebula_type = "multi_pool", .nebula_single_thread = TRUE },
  { "stack-inline", KIND_NEBULA, "NebulaStackAllocator, inline fast path (nebula_stack_allocator_alloc)",
    .nebula_type = "stack", .nebula_inline = TRUE },
  { "stack", KIND_NEBULA, "NebulaStackAllocator through nebula_allocator_allocate()",
    .nebula_type = "stack" },
  { "stack-frame", KIND_PEER, "NebulaStackAllocator, a NebulaStackFrame per batch, inline fast path",
    stack_frame_setup, scope_teardown, stack_frame_pass, FALSE },
  { "system", KIND_NEBULA, "NebulaSystemAllocator (malloc + checked frees) through the interface",
    .nebula_type = "system" },
  { "system-unchecked", KIND_NEBULA, "NebulaSystemAllocator with check-frees off, through the interface",
    .nebula_type = "system", .nebula_unchecked = TRUE },
  { "system-st", KIND_NEBULA, "NebulaSystemAllocator, check-frees on, thread-safe off (no lock on its table)",
    .nebula_type = "system", .nebula_single_thread = TRUE },
  { "bump-own", KIND_PEER, "a NebulaBumpAllocator per thread (thread-safe off), "
    "nebula_allocator_allocate(), allocations only, reset per round",
    bump_own_setup, bump_own_teardown, bump_round_pass, FALSE,
    .round_reset = bump_own_round_reset },
  { "bump-shared", KIND_PEER, "one thread-safe NebulaBumpAllocator all threads share, "
    "nebula_allocator_allocate(), allocations only, reset per round",
    bump_shared_setup, bump_shared_teardown, bump_round_pass, FALSE,
    .round_reset = bump_shared_round_reset },
  { "malloc", KIND_PEER, "glibc malloc/free",
    no_setup, no_teardown, malloc_pass, FALSE, .cross_thread_frees = TRUE },
  { "gslice", KIND_PEER, "GSlice g_slice_alloc/g_slice_free1 (GLib " G_STRINGIFY (GLIB_MAJOR_VERSION) "."
    G_STRINGIFY (GLIB_MINOR_VERSION) ")",
    no_setup, no_teardown, gslice_pass, FALSE, .cross_thread_frees = TRUE },
#if HAVE_JEMALLOC
  { "jemalloc", KIND_PEER, "jemalloc mallocx/sdallocx",
    no_setup, no_teardown, jemalloc_pass, FALSE, .cross_thread_frees = TRUE },
#else
  { "jemalloc", KIND_PEER, "jemalloc mallocx/sdallocx", .absent = ABSENT ("libjemalloc-dev") },
#endif
#if HAVE_MIMALLOC
  /* producer-consumer: mi_free() takes a block of another thread's heap
   * (a remote free), and the producer destroys its heap only after the
   * last round's barrier, when its consumer has freed everything. */
  { "mimalloc-heap", KIND_PEER, "mimalloc heap per thread, mi_heap_destroy at batch end",
    mimalloc_setup, mimalloc_teardown, mimalloc_pass, FALSE, .cross_thread_frees = TRUE },
  { "mimalloc", KIND_PEER, "mimalloc mi_malloc/mi_free (its default heap, nothing destroyed)",
    mimalloc_plain_setup, no_teardown, mimalloc_plain_pass, FALSE, .cross_thread_frees = TRUE },
#else
  { "mimalloc-heap", KIND_PEER, "mimalloc heaps", .absent = ABSENT ("libmimalloc-dev") },
  { "mimalloc", KIND_PEER, "mimalloc mi_malloc/mi_free", .absent = ABSENT ("libmimalloc-dev") },
#endif
#if HAVE_OBSTACK
  { "obstack", KIND_PEER, "glibc obstack, 64 KiB chunks, freed to a mark at batch end",
    obstack_setup, obstack_teardown, obstack_pass, FALSE },
#else
  { "obstack", KIND_PEER, "glibc obstack", .absent = ABSENT ("obstack.h") },
#endif
#if HAVE_BUMPALO
  { "bumpalo", KIND_PEER, "bumpalo 3 (Rust), the replay loop in Rust, Bump::reset at batch end",
    bumpalo_setup, bumpalo_teardown, bumpalo_pass, FALSE },
#else
  { "bumpalo", KIND_PEER, "bumpalo (Rust)", .absent = ABSENT ("cargo and librust-bumpalo-dev") },
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

const guint nebula_bench_n_targets = G_N_ELEMENTS (nebula_bench_targets);

Target *
nebula_bench_find_target (const char *name)
{
  for (guint i = 0; i < nebula_bench_n_targets; i++)
    if (g_str_equal (nebula_bench_targets[i].name, name))
      return &nebula_bench_targets[i];
  return NULL;
}

void
nebula_bench_peers_init (void)
{
#if HAVE_APR
  apr_initialize ();
#endif
}

void
nebula_bench_peers_shutdown (void)
{
#if HAVE_APR
  apr_terminate ();
#endif
}
