/* test-memory-tools.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Proves that the allocators teach the memory tools: each misuse below is
 * run in a child process, and the child must die with the tool's report.
 * ASan rows run in ASan builds, one child per row (g_test_trap_subprocess).
 * Valgrind rows run this program under `valgrind --error-exitcode=99`: once
 * with every misuse (memcheck goes on after an error; starting Valgrind
 * once instead of once per row saves ten seconds), expecting exit status 99
 * and, for each row, a report of the right kind whose stack names the row's
 * function; and once with the clean program, expecting exit status 0. Where
 * the tool is missing the rows skip and say why. The "clean" row is the
 * control: the same kind of program without the misuse passes under both.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <nebula.h>

#include "nebula-sanitizer-private.h"

typedef struct
{
  const char *name;
  void      (*run) (void);
  const char *function;
  const char *asan_report;      /* NULL: must run clean */
  const char *valgrind_report;  /* NULL: must run clean */
} Misuse;

/* Reads through a volatile so the compiler keeps the bad access. */
static volatile guint8 sink;

static void
touch_read (const guint8 *ptr)
{
  sink = *(const volatile guint8 *) ptr;
}

static void
touch_write (guint8 *ptr)
{
  *(volatile guint8 *) ptr = 0x5A;
}

static NebulaAllocator *
new_bump (gboolean thread_safe)
{
  GError *error = NULL;
  NebulaAllocator *alloc = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                                           "capacity", (guint64) 4096,
                                           "max-capacity", (guint64) 65536,
                                           "thread-safe", thread_safe,
                                           NULL);

  g_assert_no_error (error);
  return alloc;
}

static NebulaAllocator *
new_pool (gboolean thread_safe)
{
  GError *error = NULL;
  NebulaAllocator *alloc = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                                           "block-size", (guint64) 64,
                                           "block-count", (guint64) 4,
                                           "max-block-count", (guint64) 64,
                                           "thread-safe", thread_safe,
                                           NULL);

  g_assert_no_error (error);
  return alloc;
}

/* A stack of 4096 bytes that grows to 64 KiB, or a double-ended one that
 * does not grow; with @fill, the DEBUG preset's fills. */
static NebulaStackAllocator *
new_stack (gboolean double_ended,
           gboolean fill)
{
  GError *error = NULL;
  NebulaStackAllocator *stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                                                "capacity", (guint64) 4096,
                                                "max-capacity", (guint64) (double_ended ? 0 : 65536),
                                                "double-ended", double_ended,
                                                "alloc-fill", fill ? 0xAA : -1,
                                                "free-fill", fill ? 0xDD : -1,
                                                NULL);

  g_assert_no_error (error);
  return stack;
}

static guint8 *
allocate (gpointer alloc,
          gsize    size)
{
  GError *error = NULL;
  guint8 *ptr = nebula_allocator_allocate (alloc, size, 8, &error);

  g_assert_no_error (error);
  memset (ptr, 0x11, size);
  return ptr;
}

static guint8 *
allocate_high (NebulaStackAllocator *stack,
               gsize                 size)
{
  GError *error = NULL;
  guint8 *ptr = nebula_stack_allocator_allocate_high (stack, size, 8, &error);

  g_assert_no_error (error);
  memset (ptr, 0x22, size);
  return ptr;
}

static guint8 *
reallocate (gpointer  alloc,
            guint8   *ptr,
            gsize     old_size,
            gsize     new_size,
            gsize     alignment)
{
  GError *error = NULL;
  guint8 *new_ptr = nebula_allocator_reallocate (alloc, ptr, old_size, new_size, alignment,
                                                 &error);

  g_assert_no_error (error);
  return new_ptr;
}

static void
pop (gpointer  alloc,
     guint8   *ptr,
     gsize     size)
{
  GError *error = NULL;

  g_assert_true (nebula_allocator_deallocate (alloc, ptr, size, 8, &error));
  g_assert_no_error (error);
}

/* Every byte of @ptr is accessible and, for Valgrind, defined: a moved
 * block keeps what it held. */
static void
assert_kept (const guint8 *ptr,
             gsize         size,
             guint8        value)
{
  for (gsize i = 0; i < size; i++)
    g_assert_cmpuint (ptr[i], ==, value);
}

/* Every block of a pool is usable in full, through growth, reuse from the
 * free list and a reset, in both modes. */
static G_NO_INLINE void
pool_clean_use (void)
{
  for (guint mode = 0; mode < 2; mode++)
    {
      NebulaAllocator *pool = new_pool (mode == 1);
      guint8 *blocks[10];

      for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
        {
          blocks[i] = allocate (pool, 1 + i);
          touch_write (blocks[i] + 63);
        }
      for (guint i = 0; i < G_N_ELEMENTS (blocks); i += 2)
        g_assert_true (nebula_allocator_deallocate (pool, blocks[i], 1 + i, 8, NULL));
      for (guint i = 0; i < G_N_ELEMENTS (blocks); i += 2)
        {
          blocks[i] = allocate (pool, 64);
          touch_read (blocks[i] + 63);
        }
      nebula_allocator_reset (pool);
      touch_write (allocate (pool, 64));
      g_object_unref (pool);
    }
}

/* The low end of a growing stack through every path that moves its top:
 * growth, reallocation in place (up and down), to a new chunk and one
 * slot over for a stricter alignment, a frame, a marker, pops that empty
 * chunks, and a reset; plain and filling. */
static G_NO_INLINE void
stack_clean_use_low (void)
{
  for (guint mode = 0; mode < 2; mode++)
    {
      NebulaStackAllocator *stack = new_stack (FALSE, mode == 1);
      g_autoptr(NebulaStackMarker) marker = NULL;
      guint8 *a, *b, *c;

      a = allocate (stack, 13);
      touch_write (a + 12);
      marker = nebula_stack_allocator_mark (stack);
      b = allocate (stack, 3000);
      touch_read (b + 2999);
      c = allocate (stack, 3000);                       /* a second chunk */
      c = reallocate (stack, c, 3000, 3500, 8);         /* in place, up */
      touch_write (c + 3499);
      memset (c, 0x33, 3500);
      c = reallocate (stack, c, 3500, 100, 8);          /* in place, down */
      c = reallocate (stack, c, 100, 9000, 8);          /* to a third chunk */
      assert_kept (c, 100, 0x33);
      touch_read (c + 8999);
      pop (stack, c, 9000);                             /* empties it */
      g_assert_true (nebula_stack_allocator_release_to_marker (stack, marker, NULL));
      touch_read (a + 12);

      a = reallocate (stack, a, 13, 20, 64);            /* one slot over */
      assert_kept (a, 12, 0x11);
      touch_write (a + 19);
      {
        g_autoptr(NebulaStackFrame) frame = nebula_stack_frame_new (stack);

        touch_read (allocate (stack, 500) + 499);
      }
      touch_read (allocate (stack, 1) + 0);
      touch_read (a + 19);

      nebula_allocator_reset (NEBULA_ALLOCATOR (stack));
      touch_read (allocate (stack, 4000) + 3999);
      g_object_unref (stack);
    }
}

/* Both ends of a double-ended stack: the high end's pushes, a move down
 * and a shrink in place, a marker, pops of either end, and a reset. */
static G_NO_INLINE void
stack_clean_use_high (void)
{
  for (guint mode = 0; mode < 2; mode++)
    {
      NebulaStackAllocator *stack = new_stack (TRUE, mode == 1);
      g_autoptr(NebulaStackMarker) marker = NULL;
      guint8 *low, *h1, *h2;

      low = allocate (stack, 100);
      h1 = allocate_high (stack, 13);
      h2 = allocate_high (stack, 200);
      touch_write (h1 + 12);
      touch_write (low + 99);
      h2 = reallocate (stack, h2, 200, 300, 8);         /* moves down */
      assert_kept (h2, 200, 0x22);
      touch_write (h2 + 299);
      h2 = reallocate (stack, h2, 300, 50, 8);          /* in place */
      touch_read (h2 + 49);
      marker = nebula_stack_allocator_mark_high (stack);
      touch_read (allocate_high (stack, 64) + 63);
      g_assert_true (nebula_stack_allocator_release_to_marker (stack, marker, NULL));
      pop (stack, h2, 50);
      touch_read (h1 + 12);
      touch_read (low + 99);
      pop (stack, low, 100);
      touch_read (h1);

      nebula_allocator_reset (NEBULA_ALLOCATOR (stack));
      touch_read (allocate_high (stack, 2000) + 1999);
      touch_read (allocate (stack, 1000) + 999);
      g_object_unref (stack);
    }
}

static G_NO_INLINE void
clean_use (void)
{
  NebulaAllocator *bump = new_bump (FALSE);
  NebulaAllocator *sys = NEBULA_ALLOCATOR (nebula_system_allocator_new (NULL));
  g_autoptr(NebulaBumpCheckpoint) cp = NULL;
  guint8 *a, *b;

  a = allocate (bump, 13);
  touch_write (a + 12);
  cp = nebula_bump_allocator_checkpoint (NEBULA_BUMP_ALLOCATOR (bump));
  b = allocate (bump, 3000);
  touch_read (b + 2999);
  g_assert_true (nebula_bump_allocator_restore (NEBULA_BUMP_ALLOCATOR (bump), cp, NULL));
  touch_read (a);
  nebula_allocator_reset (bump);
  a = allocate (bump, 40000);       /* a dedicated chunk */
  touch_read (a + 39999);
  g_assert_true (nebula_allocator_deallocate (bump, a, 40000, 8, NULL));

  a = allocate (sys, 100);
  touch_read (a + 99);
  g_assert_true (nebula_allocator_deallocate (sys, a, 100, 8, NULL));

  g_object_unref (sys);
  g_object_unref (bump);

  pool_clean_use ();
  stack_clean_use_low ();
  stack_clean_use_high ();
}

static G_NO_INLINE void
pool_read_after_free (void)
{
  NebulaAllocator *pool = new_pool (FALSE);
  guint8 *a = allocate (pool, 48);

  allocate (pool, 48);
  g_assert_true (nebula_allocator_deallocate (pool, a, 48, 8, NULL));
  /* Past the free-list link, which the pool keeps in the block. */
  touch_read (a + 40);
}

static G_NO_INLINE void
pool_thread_safe_read_after_free (void)
{
  NebulaAllocator *pool = new_pool (TRUE);
  guint8 *a = allocate (pool, 48);

  g_assert_true (nebula_allocator_deallocate (pool, a, 48, 8, NULL));
  touch_read (a);
}

static G_NO_INLINE void
pool_use_after_reset (void)
{
  NebulaAllocator *pool = new_pool (FALSE);
  guint8 *a = allocate (pool, 64);

  nebula_allocator_reset (pool);
  touch_read (a + 8);
}

static G_NO_INLINE void
pool_overflow_into_free (void)
{
  NebulaAllocator *pool = new_pool (FALSE);
  guint8 *a = allocate (pool, 64);

  /* The next block was never handed out. */
  touch_write (a + 64);
}

static G_NO_INLINE void
bump_use_after_reset (void)
{
  NebulaAllocator *bump = new_bump (FALSE);
  guint8 *a = allocate (bump, 64);

  nebula_allocator_reset (bump);
  touch_read (a + 8);
}

static G_NO_INLINE void
bump_thread_safe_use_after_reset (void)
{
  NebulaAllocator *bump = new_bump (TRUE);
  guint8 *a = allocate (bump, 64);

  nebula_allocator_reset (bump);
  touch_read (a + 8);
}

static G_NO_INLINE void
bump_read_after_restore (void)
{
  NebulaAllocator *bump = new_bump (FALSE);
  g_autoptr(NebulaBumpCheckpoint) cp = NULL;
  guint8 *a;

  allocate (bump, 32);
  cp = nebula_bump_allocator_checkpoint (NEBULA_BUMP_ALLOCATOR (bump));
  a = allocate (bump, 100);
  g_assert_true (nebula_bump_allocator_restore (NEBULA_BUMP_ALLOCATOR (bump), cp, NULL));
  touch_read (a + 50);
}

static G_NO_INLINE void
bump_read_after_deallocate (void)
{
  NebulaAllocator *bump = new_bump (FALSE);
  guint8 *a = allocate (bump, 48);

  g_assert_true (nebula_allocator_deallocate (bump, a, 48, 8, NULL));
  touch_read (a);
}

static G_NO_INLINE void
bump_read_after_deallocate_not_top (void)
{
  NebulaAllocator *bump = new_bump (FALSE);
  guint8 *a = allocate (bump, 48);

  allocate (bump, 48);
  /* Not the top: the cursor keeps the bytes, but the block is dead. */
  g_assert_true (nebula_allocator_deallocate (bump, a, 48, 8, NULL));
  touch_read (a + 47);
}

static G_NO_INLINE void
bump_overflow_into_next (void)
{
  NebulaAllocator *bump = new_bump (FALSE);
  guint8 *a = allocate (bump, 24);

  allocate (bump, 24);
  /* One byte past the end of a, on the way into the next block. */
  touch_write (a + 24);
}

static G_NO_INLINE void
bump_overflow_odd_size (void)
{
  NebulaAllocator *bump = new_bump (FALSE);
  guint8 *a = allocate (bump, 13);

  allocate (bump, 8);
  /* 13 is not a multiple of ASan's 8-byte granule: still caught, because
   * blocks start on a granule while the tools watch. */
  touch_write (a + 13);
}

static G_NO_INLINE void
bump_read_free_space (void)
{
  NebulaAllocator *bump = new_bump (FALSE);
  guint8 *a = allocate (bump, 16);

  /* Far past the last block, in space never handed out. */
  touch_read (a + 1024);
}

static G_NO_INLINE void
bump_use_after_free_dedicated (void)
{
  NebulaAllocator *bump = new_bump (FALSE);
  guint8 *a = allocate (bump, 40000);

  g_assert_true (nebula_allocator_deallocate (bump, a, 40000, 8, NULL));
  touch_read (a + 100);
}

static G_NO_INLINE void
stack_read_after_pop (void)
{
  NebulaStackAllocator *stack = new_stack (FALSE, FALSE);
  guint8 *b;

  allocate (stack, 48);
  b = allocate (stack, 48);
  pop (stack, b, 48);
  touch_read (b + 40);
}

static G_NO_INLINE void
stack_read_after_release (void)
{
  NebulaStackAllocator *stack = new_stack (FALSE, FALSE);
  g_autoptr(NebulaStackMarker) marker = NULL;
  guint8 *b;

  allocate (stack, 32);
  marker = nebula_stack_allocator_mark (stack);
  b = allocate (stack, 100);
  allocate (stack, 100);
  g_assert_true (nebula_stack_allocator_release_to_marker (stack, marker, NULL));
  touch_read (b + 50);
}

static G_NO_INLINE void
stack_read_after_frame (void)
{
  NebulaStackAllocator *stack = new_stack (FALSE, FALSE);
  guint8 *b;

  allocate (stack, 32);
  {
    g_autoptr(NebulaStackFrame) frame = nebula_stack_frame_new (stack);

    b = allocate (stack, 64);
  }
  touch_read (b + 8);
}

static G_NO_INLINE void
stack_read_after_reset (void)
{
  NebulaStackAllocator *stack = new_stack (FALSE, FALSE);
  guint8 *a = allocate (stack, 64);

  nebula_allocator_reset (NEBULA_ALLOCATOR (stack));
  touch_read (a + 8);
}

static G_NO_INLINE void
stack_read_retired_chunk (void)
{
  NebulaStackAllocator *stack = new_stack (FALSE, FALSE);
  guint8 *b;

  allocate (stack, 3000);
  b = allocate (stack, 3000);           /* a second chunk, emptied by the pop */
  pop (stack, b, 3000);
  touch_read (b + 10);
}

static G_NO_INLINE void
stack_read_after_moving_reallocate (void)
{
  NebulaStackAllocator *stack = new_stack (FALSE, FALSE);
  guint8 *a = allocate (stack, 3000);

  /* No room in the first chunk: the block moves to a new one. */
  g_assert_true (reallocate (stack, a, 3000, 6000, 8) != a);
  touch_read (a + 10);
}

static G_NO_INLINE void
stack_read_shrunk_tail (void)
{
  NebulaStackAllocator *stack = new_stack (FALSE, FALSE);
  guint8 *a = allocate (stack, 100);

  g_assert_true (reallocate (stack, a, 100, 40, 8) == a);
  touch_read (a + 60);
}

static G_NO_INLINE void
stack_overflow_into_next (void)
{
  NebulaStackAllocator *stack = new_stack (FALSE, FALSE);
  guint8 *a = allocate (stack, 24);

  allocate (stack, 24);
  /* One byte past the end of a, on the way into the next block. */
  touch_write (a + 24);
}

static G_NO_INLINE void
stack_overflow_odd_size (void)
{
  NebulaStackAllocator *stack = new_stack (FALSE, FALSE);
  guint8 *a = allocate (stack, 13);

  allocate (stack, 8);
  touch_write (a + 13);
}

static G_NO_INLINE void
stack_read_header (void)
{
  NebulaStackAllocator *stack = new_stack (FALSE, FALSE);
  guint8 *a = allocate (stack, 32);

  /* The allocator's own bookkeeping, just below the block. */
  touch_read (a - 1);
}

static G_NO_INLINE void
stack_read_free_space (void)
{
  NebulaStackAllocator *stack = new_stack (FALSE, FALSE);
  guint8 *a = allocate (stack, 16);

  touch_read (a + 1024);
}

static G_NO_INLINE void
stack_high_read_after_pop (void)
{
  NebulaStackAllocator *stack = new_stack (TRUE, FALSE);
  guint8 *h;

  allocate (stack, 64);
  allocate_high (stack, 64);
  h = allocate_high (stack, 64);
  g_assert_true (nebula_stack_allocator_deallocate_high (stack, h, 64, NULL));
  touch_read (h + 8);
}

static G_NO_INLINE void
stack_high_read_after_release (void)
{
  NebulaStackAllocator *stack = new_stack (TRUE, FALSE);
  g_autoptr(NebulaStackMarker) marker = NULL;
  guint8 *h;

  allocate_high (stack, 32);
  marker = nebula_stack_allocator_mark_high (stack);
  h = allocate_high (stack, 100);
  allocate_high (stack, 100);
  /* The low end moves meanwhile: its pool is not the high end's. */
  pop (stack, allocate (stack, 64), 64);
  g_assert_true (nebula_stack_allocator_release_to_marker (stack, marker, NULL));
  touch_read (h + 50);
}

static G_NO_INLINE void
stack_high_overflow_into_next (void)
{
  NebulaStackAllocator *stack = new_stack (TRUE, FALSE);
  guint8 *h;

  allocate_high (stack, 24);
  h = allocate_high (stack, 13);
  /* Up, towards the block pushed before it. */
  touch_write (h + 13);
}

static G_NO_INLINE void
system_use_after_free (void)
{
  NebulaAllocator *sys = NEBULA_ALLOCATOR (nebula_system_allocator_new (NULL));
  guint8 *a = allocate (sys, 100);

  g_assert_true (nebula_allocator_deallocate (sys, a, 100, 8, NULL));
  touch_read (a + 10);
}

static G_NO_INLINE void
system_overflow (void)
{
  NebulaAllocator *sys = NEBULA_ALLOCATOR (nebula_system_allocator_new (NULL));
  guint8 *a = allocate (sys, 100);

  touch_write (a + 100);
}

/* The pattern a pool uses, straight on the macros: a region of four
 * 16-byte blocks whose free list links live inside the dead blocks. */
typedef struct
{
  guint8  *base;
  gpointer free_list;
} MiniPool;

#define MINI_BLOCK 16
#define MINI_COUNT 4

static void
mini_pool_init (MiniPool *pool)
{
  pool->base = g_malloc (MINI_BLOCK * MINI_COUNT);
  pool->free_list = NULL;
  NEBULA_MEMPOOL_CREATE (pool->base, pool->base, MINI_BLOCK * MINI_COUNT);
  for (guint i = MINI_COUNT; i-- > 0;)
    {
      guint8 *block = pool->base + i * MINI_BLOCK;

      NEBULA_MEM_OPEN (block, sizeof (gpointer));
      *(gpointer *) block = pool->free_list;
      NEBULA_MEM_CLOSE (block, sizeof (gpointer));
      pool->free_list = block;
    }
}

static guint8 *
mini_pool_pop (MiniPool *pool)
{
  guint8 *block = pool->free_list;

  NEBULA_MEM_OPEN (block, sizeof (gpointer));
  pool->free_list = *(gpointer *) block;
  NEBULA_MEMPOOL_ALLOC (pool->base, block, MINI_BLOCK);
  memset (block, 0x22, MINI_BLOCK);
  return block;
}

static void
mini_pool_push (MiniPool *pool,
                guint8   *block)
{
  NEBULA_MEMPOOL_FREE (pool->base, block, MINI_BLOCK);
  NEBULA_MEM_OPEN (block, sizeof (gpointer));
  *(gpointer *) block = pool->free_list;
  NEBULA_MEM_CLOSE (block, sizeof (gpointer));
  pool->free_list = block;
}

static void
mini_pool_clear (MiniPool *pool)
{
  NEBULA_MEMPOOL_DESTROY (pool->base, pool->base, MINI_BLOCK * MINI_COUNT);
  g_free (pool->base);
}

static G_NO_INLINE void
macros_free_list_clean (void)
{
  MiniPool pool;
  guint8 *a, *b;

  mini_pool_init (&pool);
  a = mini_pool_pop (&pool);
  b = mini_pool_pop (&pool);
  touch_read (a + MINI_BLOCK - 1);
  mini_pool_push (&pool, a);
  a = mini_pool_pop (&pool);
  touch_write (a);
  mini_pool_push (&pool, b);
  mini_pool_push (&pool, a);
  mini_pool_clear (&pool);
}

static G_NO_INLINE void
macros_free_list_read_after_free (void)
{
  MiniPool pool;
  guint8 *a;

  mini_pool_init (&pool);
  a = mini_pool_pop (&pool);
  mini_pool_pop (&pool);
  mini_pool_push (&pool, a);
  /* Past the link, in the dead part of the block. */
  touch_read (a + MINI_BLOCK - 1);
}

/* The row's function name is what memcheck's stack must show. */
#define MISUSE(path, function, asan_report, valgrind_report) \
  { path, function, #function, asan_report, valgrind_report }

static const Misuse misuses[] = {
  MISUSE ("clean", clean_use,
          NULL, NULL),
  MISUSE ("macros/free-list-clean", macros_free_list_clean,
          NULL, NULL),
  MISUSE ("macros/free-list-read-after-free", macros_free_list_read_after_free,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("bump/use-after-reset", bump_use_after_reset,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("bump/thread-safe/use-after-reset", bump_thread_safe_use_after_reset,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("bump/read-after-restore", bump_read_after_restore,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("bump/read-after-deallocate", bump_read_after_deallocate,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("bump/read-after-deallocate-not-top", bump_read_after_deallocate_not_top,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("bump/overflow-into-next", bump_overflow_into_next,
          "AddressSanitizer: use-after-poison", "Invalid write of size 1"),
  MISUSE ("bump/overflow-odd-size", bump_overflow_odd_size,
          "AddressSanitizer: use-after-poison", "Invalid write of size 1"),
  MISUSE ("bump/read-free-space", bump_read_free_space,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("bump/use-after-free-dedicated", bump_use_after_free_dedicated,
          "AddressSanitizer: heap-use-after-free", "Invalid read of size 1"),
  MISUSE ("pool/read-after-free", pool_read_after_free,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("pool/thread-safe/read-after-free", pool_thread_safe_read_after_free,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("pool/use-after-reset", pool_use_after_reset,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("pool/overflow-into-free", pool_overflow_into_free,
          "AddressSanitizer: use-after-poison", "Invalid write of size 1"),
  MISUSE ("stack/read-after-pop", stack_read_after_pop,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("stack/read-after-release", stack_read_after_release,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("stack/read-after-frame", stack_read_after_frame,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("stack/read-after-reset", stack_read_after_reset,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("stack/read-retired-chunk", stack_read_retired_chunk,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("stack/read-after-moving-reallocate", stack_read_after_moving_reallocate,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("stack/read-shrunk-tail", stack_read_shrunk_tail,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("stack/overflow-into-next", stack_overflow_into_next,
          "AddressSanitizer: use-after-poison", "Invalid write of size 1"),
  MISUSE ("stack/overflow-odd-size", stack_overflow_odd_size,
          "AddressSanitizer: use-after-poison", "Invalid write of size 1"),
  MISUSE ("stack/read-header", stack_read_header,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("stack/read-free-space", stack_read_free_space,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("stack/high/read-after-pop", stack_high_read_after_pop,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("stack/high/read-after-release", stack_high_read_after_release,
          "AddressSanitizer: use-after-poison", "Invalid read of size 1"),
  MISUSE ("stack/high/overflow-into-next", stack_high_overflow_into_next,
          "AddressSanitizer: use-after-poison", "Invalid write of size 1"),
  MISUSE ("system/use-after-free", system_use_after_free,
          "AddressSanitizer: heap-use-after-free", "Invalid read of size 1"),
  MISUSE ("system/overflow", system_overflow,
          "AddressSanitizer: heap-buffer-overflow", "Invalid write of size 1"),
};

static void
test_asan (gconstpointer data)
{
  const Misuse *misuse = data;
  g_autofree char *pattern = NULL;

  if (!NEBULA_HAVE_ASAN)
    {
      g_test_skip ("not an ASan build (configure with -Db_sanitize=address)");
      return;
    }

  if (g_test_subprocess ())
    {
      misuse->run ();
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  if (misuse->asan_report == NULL)
    {
      g_test_trap_assert_passed ();
      return;
    }

  g_test_trap_assert_failed ();
  pattern = g_strdup_printf ("*%s*", misuse->asan_report);
  g_test_trap_assert_stderr (pattern);
}

/* Runs this program with --misuse=@name under memcheck; returns its exit
 * status and stores what memcheck said. */
static int
run_under_valgrind (const char  *name,
                    char       **report)
{
  const char *valgrind = g_getenv ("NEBULA_VALGRIND");
  const char *glib_suppressions = g_getenv ("NEBULA_GLIB_SUPPRESSIONS");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autofree char *self_exe = NULL;
  g_autofree char *suppressions = NULL;
  g_autofree char *misuse_arg = NULL;
  g_autofree char *err_text = NULL;

  self_exe = g_file_read_link ("/proc/self/exe", &error);
  g_assert_no_error (error);
  /* GLib's own suppressions only; none for Nebula. */
  suppressions = g_strdup_printf ("--suppressions=%s",
                                  glib_suppressions != NULL ? glib_suppressions : "/dev/null");
  misuse_arg = g_strdup_printf ("--misuse=%s", name);

  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            &error,
                            valgrind, "--error-exitcode=99", "--leak-check=no",
                            "--num-callers=8", suppressions, self_exe, misuse_arg, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (child, NULL, NULL, NULL, &err_text, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (child));

  *report = g_steal_pointer (&err_text);
  return g_subprocess_get_exit_status (child);
}

/* Whether memcheck's @report has an error that starts with @kind and whose
 * stack goes through @function. Errors are separated by empty "==pid=="
 * lines. */
static gboolean
report_has_error (const char *report,
                  const char *kind,
                  const char *function)
{
  g_auto(GStrv) lines = g_strsplit (report, "\n", -1);
  g_autofree char *frame = g_strdup_printf (": %s (", function);
  gboolean in_kind = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *text = strstr (lines[i], "== ");

      if (text == NULL)
        {
          in_kind = FALSE;
          continue;
        }
      text += strlen ("== ");
      if (*text == '\0')
        in_kind = FALSE;
      else if (g_str_has_prefix (text, kind))
        in_kind = TRUE;
      else if (in_kind && strstr (text, frame) != NULL)
        return TRUE;
    }

  return FALSE;
}

static void
test_valgrind (gconstpointer data)
{
  static char *all_report = NULL;
  static int all_status = -1;
  const Misuse *misuse = data;
  const char *valgrind = g_getenv ("NEBULA_VALGRIND");

  if (NEBULA_HAVE_ASAN || NEBULA_HAVE_TSAN)
    {
      g_test_skip ("a sanitizer build: Valgrind cannot run sanitizer binaries");
      return;
    }
  if (!HAVE_VALGRIND)
    {
      g_test_skip ("built without <valgrind/memcheck.h>: no client requests");
      return;
    }
  if (nebula_running_on_valgrind ())
    {
      g_test_skip ("already under Valgrind: the normal run starts Valgrind for these rows");
      return;
    }
  if (valgrind == NULL || !g_file_test (valgrind, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("valgrind not found (NEBULA_VALGRIND unset)");
      return;
    }

  if (misuse->valgrind_report == NULL)
    {
      g_autofree char *report = NULL;
      int status = run_under_valgrind (misuse->name, &report);

      if (status != 0 || strstr (report, "Invalid ") != NULL)
        g_error ("the clean program failed under Valgrind (status %d):\n%s", status, report);
      return;
    }

  if (all_report == NULL)
    all_status = run_under_valgrind ("all", &all_report);

  if (g_test_verbose ())
    g_printerr ("%s", all_report);

  if (all_status != 99 ||
      !report_has_error (all_report, misuse->valgrind_report, misuse->function))
    g_error ("expected memcheck to report '%s' in %s (exit status 99), got status %d:\n%s",
             misuse->valgrind_report, misuse->function, all_status, all_report);
}

int
main (int    argc,
      char **argv)
{
  /* The Valgrind rows run this program again with --misuse=NAME. */
  if (argc == 2 && g_str_has_prefix (argv[1], "--misuse="))
    {
      const char *name = argv[1] + strlen ("--misuse=");

      /* "all": every misuse in turn; each one is caught, none crashes. */
      if (g_str_equal (name, "all"))
        {
          for (guint i = 0; i < G_N_ELEMENTS (misuses); i++)
            if (misuses[i].valgrind_report != NULL)
              misuses[i].run ();
          return 0;
        }

      for (guint i = 0; i < G_N_ELEMENTS (misuses); i++)
        if (g_str_equal (misuses[i].name, name))
          {
            misuses[i].run ();
            return 0;
          }
      g_printerr ("no misuse called %s\n", name);
      return 2;
    }

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (misuses); i++)
    {
      g_autofree char *asan_path = g_strdup_printf ("/nebula/memory-tools/asan/%s", misuses[i].name);
      g_autofree char *valgrind_path = g_strdup_printf ("/nebula/memory-tools/valgrind/%s",
                                                        misuses[i].name);

      g_test_add_data_func (asan_path, &misuses[i], test_asan);
      g_test_add_data_func (valgrind_path, &misuses[i], test_valgrind);
    }

  return g_test_run ();
}
