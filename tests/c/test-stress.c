/* test-stress.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every thread-safe allocator variant under several threads: a million
 * mixed operations in total (allocate, allocate zeroed, reallocate,
 * deallocate, owns, check), in rounds. Each block carries a pattern unique
 * to it, checked before it changes hands and at the end of every round
 * across all threads, so overlapping blocks or lost bytes show up. The
 * statistics must equal the sum of what the threads did. Built for TSan too
 * (suite "threads").
 *
 * NEBULA_STRESS_SCALE (a factor, e.g. 0.02) scales the operation count; under
 * Valgrind it defaults to 0.02 so the suite stays fast there.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <nebula.h>

#include "nebula-sanitizer-private.h"

#define N_THREADS     4
#define N_ROUNDS      8
#define TOTAL_OPS     1000000
#define MAX_LIVE      256

typedef struct
{
  guint8  *ptr;
  gsize    size;
  gsize    alignment;
  guint32  tag;
} Block;

typedef enum
{
  FAMILY_BUMP,
  FAMILY_SYSTEM,
  FAMILY_POOL,
} Family;

typedef struct
{
  NebulaAllocator *alloc;
  gboolean         bump;
  gboolean         knows_blocks;
  guint            thread_index;
  guint            round;
  guint            n_ops;
  guint64          seed;

  Block            live[MAX_LIVE];
  guint            n_live;
  guint32          next_tag;

  /* What this thread did, to compare with the allocator's statistics. */
  guint64          allocations;
  guint64          deallocations;
  guint64          reallocations;
  guint64          bytes_in_use;
} Worker;

typedef struct
{
  const char *name;
  Family      family;
  const char *preset_name;    /* NULL: defaults */
  gboolean    knows_blocks;   /* owns() answers TRUE for live blocks */
} Variant;

static const Variant variants[] = {
  { "bump", FAMILY_BUMP, NULL, TRUE },
  { "bump-debug", FAMILY_BUMP, "debug", TRUE },
  { "system", FAMILY_SYSTEM, NULL, TRUE },
  /* No check-frees: plain malloc(), owns() knows nothing. */
  { "system-performance", FAMILY_SYSTEM, "performance", FALSE },
  { "pool", FAMILY_POOL, NULL, TRUE },
  { "pool-debug", FAMILY_POOL, "debug", TRUE },
};

static guint8
pattern_byte (guint32 tag,
              gsize   i)
{
  return (guint8) ((tag * 2654435761u) >> 24) ^ (guint8) i;
}

static void
fill_block (const Block *block,
            gsize        from)
{
  for (gsize i = from; i < block->size; i++)
    block->ptr[i] = pattern_byte (block->tag, i);
}

static void
check_block (const Block *block,
             gsize        size)
{
  for (gsize i = 0; i < size; i++)
    if (G_UNLIKELY (block->ptr[i] != pattern_byte (block->tag, i)))
      g_error ("block %p (tag %u, %" G_GSIZE_FORMAT " bytes) lost byte %" G_GSIZE_FORMAT
               ": 0x%02x instead of 0x%02x",
               block->ptr, block->tag, block->size, i, block->ptr[i],
               pattern_byte (block->tag, i));
}

static guint64
next_random (guint64 *state)
{
  /* splitmix64: each thread its own stream, no locks. */
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static gsize
random_size (Worker *worker)
{
  guint64 r = next_random (&worker->seed);

  /* Mostly small; now and then a block big enough for a dedicated chunk. */
  if (worker->bump && r % 512 == 0)
    return 20000 + r % 10000;
  return 1 + (r >> 16) % 256;
}

static gsize
random_alignment (Worker *worker)
{
  return (gsize) 1 << (next_random (&worker->seed) % 7);
}

static void
check_alignment (const Block *block)
{
  if (G_UNLIKELY (GPOINTER_TO_SIZE (block->ptr) % block->alignment != 0))
    g_error ("%p is not aligned to %" G_GSIZE_FORMAT, block->ptr, block->alignment);
}

static void
do_allocate (Worker   *worker,
             gboolean  zeroed)
{
  GError *error = NULL;
  Block block;

  if (worker->n_live == MAX_LIVE)
    return;

  block.size = random_size (worker);
  block.alignment = random_alignment (worker);
  block.tag = (worker->thread_index << 24) ^ (worker->round << 20) ^ worker->next_tag++;
  block.ptr = zeroed
    ? nebula_allocator_allocate_zeroed (worker->alloc, block.size, block.alignment, &error)
    : nebula_allocator_allocate (worker->alloc, block.size, block.alignment, &error);
  g_assert_no_error (error);
  g_assert_nonnull (block.ptr);
  check_alignment (&block);

  if (zeroed)
    for (gsize i = 0; i < block.size; i++)
      g_assert_cmpuint (block.ptr[i], ==, 0);

  fill_block (&block, 0);
  worker->live[worker->n_live++] = block;
  worker->allocations++;
  worker->bytes_in_use += block.size;
}

static void
do_deallocate (Worker *worker)
{
  GError *error = NULL;
  guint index;
  Block block;

  if (worker->n_live == 0)
    return;

  index = next_random (&worker->seed) % worker->n_live;
  block = worker->live[index];
  check_block (&block, block.size);
  g_assert_true (nebula_allocator_deallocate (worker->alloc, block.ptr, block.size,
                                              block.alignment, &error));
  g_assert_no_error (error);
  worker->live[index] = worker->live[--worker->n_live];
  worker->deallocations++;
  worker->bytes_in_use -= block.size;
}

static void
do_reallocate (Worker *worker)
{
  GError *error = NULL;
  Block *block;
  gsize new_size, kept;
  guint8 *ptr;

  if (worker->n_live == 0)
    return;

  block = &worker->live[next_random (&worker->seed) % worker->n_live];
  new_size = random_size (worker);
  check_block (block, block->size);
  ptr = nebula_allocator_reallocate (worker->alloc, block->ptr, block->size, new_size,
                                     block->alignment, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ptr);

  kept = MIN (block->size, new_size);
  worker->bytes_in_use = worker->bytes_in_use - block->size + new_size;
  block->ptr = ptr;
  block->size = new_size;
  check_alignment (block);
  check_block (block, kept);
  fill_block (block, kept);
  worker->reallocations++;
}

static void
do_check (Worker *worker)
{
  Block *block;

  if (worker->n_live == 0)
    return;

  block = &worker->live[next_random (&worker->seed) % worker->n_live];
  check_block (block, block->size);
  if (!worker->knows_blocks)
    return;
  g_assert_true (nebula_allocator_owns (worker->alloc, block->ptr));
  if (worker->bump)
    g_assert_true (nebula_allocator_owns (worker->alloc, block->ptr + block->size - 1));
}

static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;

  for (guint i = 0; i < worker->n_ops; i++)
    {
      guint choice = next_random (&worker->seed) % 100;

      if (choice < 45)
        do_allocate (worker, FALSE);
      else if (choice < 55)
        do_allocate (worker, TRUE);
      else if (choice < 70)
        do_deallocate (worker);
      else if (choice < 82)
        do_reallocate (worker);
      else
        do_check (worker);
    }

  return NULL;
}

static double
stress_scale (void)
{
  const char *env = g_getenv ("NEBULA_STRESS_SCALE");

  if (env != NULL)
    return g_ascii_strtod (env, NULL);
  return nebula_running_on_valgrind () ? 0.02 : 1.0;
}

static NebulaAllocator *
new_variant (const Variant *variant)
{
  g_autoptr(GError) error = NULL;
  NebulaPreset preset = NEBULA_PRESET_DEFAULT;
  gpointer alloc;

  if (g_strcmp0 (variant->preset_name, "debug") == 0)
    preset = NEBULA_PRESET_DEBUG;
  else if (g_strcmp0 (variant->preset_name, "performance") == 0)
    preset = NEBULA_PRESET_PERFORMANCE;

  if (variant->family == FAMILY_BUMP)
    alloc = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                            "thread-safe", TRUE,
                            "preset", preset,
                            "track-stats", TRUE,
                            "capacity", (guint64) 1 << 20,
                            "max-capacity", (guint64) 256 << 20,
                            "large-allocation-threshold", (guint64) 16384,
                            NULL);
  else if (variant->family == FAMILY_POOL)
    /* Blocks for every size and alignment the workers ask for, and more
     * than they ever hold at once; it grows from a quarter of that. */
    alloc = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                            "thread-safe", TRUE,
                            "preset", preset,
                            "track-stats", TRUE,
                            "block-size", (guint64) 256,
                            "block-alignment", (guint64) 64,
                            "block-count", (guint64) (N_THREADS * MAX_LIVE / 4),
                            "max-block-count", (guint64) (2 * N_THREADS * MAX_LIVE),
                            NULL);
  else
    alloc = g_initable_new (NEBULA_TYPE_SYSTEM_ALLOCATOR, NULL, &error,
                            "preset", preset,
                            "track-stats", TRUE,
                            NULL);
  g_assert_no_error (error);

  return alloc;
}

static void
test_stress (gconstpointer data)
{
  const Variant *variant = data;
  g_autoptr(NebulaAllocator) alloc = new_variant (variant);
  double scale = stress_scale ();
  guint ops_per_thread = MAX (1000, (guint) (TOTAL_OPS * scale / (N_THREADS * N_ROUNDS)));
  Worker *workers = g_new0 (Worker, N_THREADS);
  guint64 allocations = 0, deallocations = 0, reallocations = 0;

  g_test_message ("%s: %u threads x %u rounds x %u operations", variant->name,
                  N_THREADS, N_ROUNDS, ops_per_thread);

  for (guint round = 0; round < N_ROUNDS; round++)
    {
      GThread *threads[N_THREADS];
      g_autoptr(NebulaAllocatorStats) stats = NULL;
      guint64 bytes_in_use = 0;

      /* Rounds are separated by g_thread_join(), which TSan understands; a
       * reset must not race with allocations. */
      for (guint t = 0; t < N_THREADS; t++)
        {
          Worker *worker = &workers[t];

          worker->alloc = alloc;
          worker->bump = variant->family == FAMILY_BUMP;
          worker->knows_blocks = variant->knows_blocks;
          worker->thread_index = t;
          worker->round = round;
          worker->n_ops = ops_per_thread;
          worker->seed = g_test_rand_int () ^ ((guint64) t << 32) ^ round;
          threads[t] = g_thread_new ("stress", worker_thread, worker);
        }
      for (guint t = 0; t < N_THREADS; t++)
        g_thread_join (threads[t]);

      /* Every thread's blocks are intact: no two blocks overlap. */
      for (guint t = 0; t < N_THREADS; t++)
        {
          for (guint i = 0; i < workers[t].n_live; i++)
            check_block (&workers[t].live[i], workers[t].live[i].size);
          allocations += workers[t].allocations;
          deallocations += workers[t].deallocations;
          reallocations += workers[t].reallocations;
          bytes_in_use += workers[t].bytes_in_use;
          workers[t].allocations = workers[t].deallocations = workers[t].reallocations = 0;
        }

      stats = nebula_allocator_get_stats (alloc);
      g_assert_cmpuint (stats->allocations, ==, allocations);
      g_assert_cmpuint (stats->deallocations, ==, deallocations);
      g_assert_cmpuint (stats->reallocations, ==, reallocations);
      g_assert_cmpuint (stats->failed_allocations, ==, 0);
      g_assert_cmpuint (stats->bytes_in_use, ==, bytes_in_use);
      g_assert_cmpuint (stats->total_bytes_allocated - stats->total_bytes_freed, ==, bytes_in_use);
      g_assert_cmpuint (stats->peak_bytes_in_use, >=, bytes_in_use);

      /* Start the next round empty: the bump allocator by reset, the system
       * allocator block by block (without check-frees it keeps no list). */
      if (variant->family != FAMILY_SYSTEM)
        {
          nebula_allocator_reset (alloc);
        }
      else
        {
          for (guint t = 0; t < N_THREADS; t++)
            while (workers[t].n_live > 0)
              do_deallocate (&workers[t]);
        }

      for (guint t = 0; t < N_THREADS; t++)
        {
          deallocations += workers[t].deallocations;
          workers[t].deallocations = 0;
          workers[t].n_live = 0;
          workers[t].bytes_in_use = 0;
        }
    }

  g_free (workers);
}

/* Issue 12: bindings make allocators with g_object_new() and no
 * GInitable.init; the first call initializes them. Four threads making
 * that first call at once raced on the lazy initialization (TSan). A
 * thread-safe stack is refused: all four threads hear of it alike. */
typedef struct
{
  NebulaAllocator *alloc;
  gint            *ready;
  gboolean         refused;
} FirstCall;

static gpointer
first_call_thread (gpointer data)
{
  FirstCall *fc = data;
  g_autoptr(GError) error = NULL;
  guint8 *p;

  g_atomic_int_inc (fc->ready);
  while (g_atomic_int_get (fc->ready) < N_THREADS)
    ;
  p = nebula_allocator_allocate (fc->alloc, 24, 8, &error);
  if (fc->refused)
    {
      g_assert_null (p);
      g_assert_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG);
      g_assert_nonnull (strstr (error->message, "'thread-safe' cannot be TRUE"));
      return NULL;
    }
  g_assert_no_error (error);
  memset (p, 0x11, 24);
  g_assert_true (nebula_allocator_owns (fc->alloc, p));

  return NULL;
}

static void
test_lazy_init_race (void)
{
  const GType types[] = {
    NEBULA_TYPE_BUMP_ALLOCATOR, NEBULA_TYPE_STACK_ALLOCATOR,
  };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    for (guint round = 0; round < 20; round++)
      {
        g_autoptr(NebulaAllocator) alloc = g_object_new (types[i],
                                                         "capacity", (guint64) 4096,
                                                         "thread-safe", TRUE,
                                                         NULL);
        g_autoptr(NebulaAllocatorStats) stats = NULL;
        gboolean refused = types[i] == NEBULA_TYPE_STACK_ALLOCATOR;
        GThread *threads[N_THREADS];
        FirstCall calls[N_THREADS];
        gint ready = 0;

        for (guint t = 0; t < N_THREADS; t++)
          {
            calls[t] = (FirstCall) { alloc, &ready, refused };
            threads[t] = g_thread_new ("first-call", first_call_thread, &calls[t]);
          }
        for (guint t = 0; t < N_THREADS; t++)
          g_thread_join (threads[t]);

        stats = nebula_allocator_get_stats (alloc);
        g_assert_cmpuint (stats->allocations, ==, refused ? 0 : N_THREADS);
        /* Counted atomically, though the refused allocator never made its
         * thread-safe counters. */
        g_assert_cmpuint (stats->failed_allocations, ==, refused ? N_THREADS : 0);
      }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (variants); i++)
    {
      g_autofree char *path = g_strdup_printf ("/nebula/stress/%s", variants[i].name);

      g_test_add_data_func (path, &variants[i], test_stress);
    }

  g_test_add_func ("/nebula/stress/lazy-init", test_lazy_init_race);

  return g_test_run ();
}
