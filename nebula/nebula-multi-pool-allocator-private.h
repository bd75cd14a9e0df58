/* nebula-multi-pool-allocator-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-allocator-core-private.h"
#include "nebula-allocator-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-multi-pool-allocator.h"

G_BEGIN_DECLS

/* The instance, shared by nebula-multi-pool-allocator.c (the type, its
 * properties and the allocation paths) and nebula-multi-pool-classes.c
 * (the size classes: arithmetic, lazy creation of their pools, and what
 * walks all of them: reset, trim, report, span checks, byte counts). */

/* 16-byte steps up to 128 bytes (8 classes), then 4 classes per power of
 * two up to the largest allowed max-block-size, 1 MiB: 8 + 4 * 13. */
#define NEBULA_MULTI_POOL_MAX_CLASSES          60
#define NEBULA_MULTI_POOL_SMALL_STEP           16
#define NEBULA_MULTI_POOL_SMALL_LIMIT          128
#define NEBULA_MULTI_POOL_DEFAULT_MAX_BLOCK    1024
#define NEBULA_MULTI_POOL_LARGEST_MAX_BLOCK    ((guint64) 1 << 20)
/* The largest alignment a class's blocks get (and so the largest a
 * request may ask for): a page. */
#define NEBULA_MULTI_POOL_MAX_ALIGNMENT        4096

enum {
  NEBULA_MULTI_POOL_PROP_MAX_BLOCK_SIZE = NEBULA_CONFIG_N_PROPS,
  NEBULA_MULTI_POOL_PROP_CHECK_FREES,
  NEBULA_MULTI_POOL_N_PROPS
};

struct _NebulaMultiPoolAllocator
{
  GObject                parent_instance;
  NebulaAllocatorCore    core;

  NebulaStatsCounters    stats;
  NebulaAllocatorConfig  config;

  /* configuration */
  guint64                max_block_size;
  gboolean               check_frees;

  /* after initialization */
  /* The key of the counters in the thread's statistics cache
   * (nebula_stats_cache_key_new(): never another allocator's, unlike an
   * address). */
  guint64                stats_key;
  guint                  n_classes;
  gsize                  largest_request;    /* max-block-size */
  /* The sizes step_pools[] covers: 1 to MIN (max-block-size, 1024). */
  gsize                  step_limit;
  /* Each class's pool, made on the first request of its size; read with
   * an acquire load, written once under @classes_lock with a release
   * store. */
  NebulaAllocator       *pools[NEBULA_MULTI_POOL_MAX_CLASSES];
  /* Each class pool's direct path (a thread-safe pool's magazines or
   * shared list, a single-threaded pool's free list behind its inline
   * path), or NULL; written before the pool is published. */
  const NebulaCoreDirect *directs[NEBULA_MULTI_POOL_MAX_CLASSES];
  /* Whether each class pool keeps per-thread magazines, whose steps the
   * direct path calls itself (nebula_pool_magazine_take() and _give()):
   * no second dispatch, layout check or statistics. Written before the
   * pool is published. */
  gboolean               cached[NEBULA_MULTI_POOL_MAX_CLASSES];
  /* Whether each class pool's magazines take the lean steps
   * (nebula_pool_magazines_lean(), with the multi-pool's check-frees),
   * which the lean entries (nebula-multi-pool-direct.c) inline. Written
   * before the pool is published. */
  gboolean               lean[NEBULA_MULTI_POOL_MAX_CLASSES];
  /* The class pool whose fast path the entries (nebula-multi-pool-
   * direct.c) run themselves for a request of (size - 1) / 16 in each
   * 16-byte step up to @step_limit: every class of a single-threaded
   * multi-pool, a class with lean magazines (@lean) of a thread-safe one;
   * NULL for any other class, and until the class is made. One load
   * stands for the class table, @pools and @lean. Written with a release
   * store under @classes_lock after @pools, read with an acquire load. */
  NebulaAllocator       *step_pools[NEBULA_MULTI_POOL_DEFAULT_MAX_BLOCK /
                                    NEBULA_MULTI_POOL_SMALL_STEP];
  GMutex                 classes_lock;
};

/* The lazy, thread-safe first initialization (nebula-multi-pool-allocator.c). */
gboolean nebula_multi_pool_ensure (NebulaMultiPoolAllocator  *self,
                                   GError                   **error);

/* The size classes (nebula-multi-pool-classes.c). */

/* The class of a request of @size bytes (at most 2^20, and at most
 * 16-byte aligned) by arithmetic: 16-byte steps up to 128, then four
 * classes per power of two. A @size of 0 gives -1. */
static inline int
nebula_multi_pool_class_of_size_computed (gsize size)
{
  guint p;

  if (size <= NEBULA_MULTI_POOL_SMALL_LIMIT)
    return (int) ((size + NEBULA_MULTI_POOL_SMALL_STEP - 1) / NEBULA_MULTI_POOL_SMALL_STEP) - 1;

  /* 2^p < size <= 2^(p + 1), p >= 7: four classes of 2^(p - 2) bytes. */
  p = (guint) g_bit_storage (size - 1) - 1;
  return 8 + (int) (p - 7) * 4 + (int) ((size - 1) >> (p - 2)) - 4;
}

/* Every class size is a multiple of 16, so the classes of the sizes up to
 * the default max-block-size are a table indexed by (size - 1) / 16. */
#define NEBULA_MULTI_POOL_TABLE_LIMIT NEBULA_MULTI_POOL_DEFAULT_MAX_BLOCK
extern const guint8 nebula_multi_pool_class_table[NEBULA_MULTI_POOL_TABLE_LIMIT /
                                                  NEBULA_MULTI_POOL_SMALL_STEP];

/* The class of a request of @size bytes, as
 * nebula_multi_pool_class_of_size_computed(): one load up to 1024 bytes. */
static inline int
nebula_multi_pool_class_of_size (gsize size)
{
  if (G_LIKELY (size - 1 < NEBULA_MULTI_POOL_TABLE_LIMIT))
    return nebula_multi_pool_class_table[(size - 1) / NEBULA_MULTI_POOL_SMALL_STEP];
  return nebula_multi_pool_class_of_size_computed (size);
}

gsize nebula_multi_pool_class_size      (guint                      index);
gsize nebula_multi_pool_class_alignment (guint                      index);
int   nebula_multi_pool_class_for       (NebulaMultiPoolAllocator  *self,
                                         gsize                      size,
                                         gsize                      alignment);
guint nebula_multi_pool_n_classes_for   (guint64                    max_block_size);

NebulaAllocator *nebula_multi_pool_make_class (NebulaMultiPoolAllocator  *self,
                                               guint                      index,
                                               GError                   **error);

static inline NebulaAllocator *
nebula_multi_pool_peek_class (NebulaMultiPoolAllocator *self,
                              guint                     index)
{
  return __atomic_load_n (&self->pools[index], __ATOMIC_ACQUIRE);
}

/* The direct path (nebula-multi-pool-direct.c): the table for @self's
 * configuration. */
const NebulaCoreDirect *nebula_multi_pool_direct_table (NebulaMultiPoolAllocator *self);

/* A class pool's refusal of a free, explained (nebula-multi-pool-allocator.c). */
void nebula_multi_pool_explain_class_error (NebulaMultiPoolAllocator  *self,
                                            GError                   **error,
                                            gsize                      size,
                                            gsize                      block_size);

void     nebula_multi_pool_reset_classes   (NebulaMultiPoolAllocator  *self);
guint64  nebula_multi_pool_trim_classes    (NebulaAllocator           *allocator,
                                            GError                   **error);
guint64  nebula_multi_pool_bytes           (NebulaMultiPoolAllocator  *self,
                                            gboolean                   available);
gboolean nebula_multi_pool_owns            (NebulaAllocator           *allocator,
                                            gconstpointer              ptr);
void     nebula_multi_pool_report          (NebulaAllocator           *allocator,
                                            GVariantDict              *report);
void     nebula_multi_pool_free_classes    (NebulaMultiPoolAllocator  *self);
NebulaSpanResult nebula_multi_pool_span    (NebulaAllocator           *allocator,
                                            guintptr                   start,
                                            gsize                      size,
                                            NebulaSpanKind             kind,
                                            gsize                     *block_size);

G_END_DECLS
