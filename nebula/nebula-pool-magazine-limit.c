/* nebula-pool-magazine-limit.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-pool-allocator-private.h"

/* How many free blocks a thread-safe pool's magazines hold
 * (nebula-pool-magazine.c): the size chosen at initialization, and the
 * limit below it that reclaims lower and quiet refills raise again.
 *
 * The size chosen from the pool's: up to 1/8 of its blocks, and at most
 * what 16 KiB of blocks hold, a cap kept between 32 and 128. A batch of a
 * magazine of 128 is 64 blocks, a cache line of check-frees states
 * (nebula-pool-slab.c): two threads that each keep their working set in
 * their magazine (as each of nebula-bench's fixed-64 threads does) then
 * write no line of states that the other writes.
 *
 * Each reclaim that found cached blocks halves the limit, down to 0
 * (exact sharing); every MAGAZINE_QUIET_REFILLS refills that needed no
 * reclaim double it again, up to the size, so a pool that was full once
 * does not share every block exactly for good, and one that lives at the
 * edge reclaims at most once per that many refills. A reset restores it
 * at once. */

#define MAGAZINE_AUTO_MAX      32
#define MAGAZINE_SMALL_MAX     128
#define MAGAZINE_SMALL_BYTES   (16 * 1024)
#define MAGAZINE_SHARE         8
#define MAGAZINE_QUIET_REFILLS 16

/* Thread-safe with check-frees: the states of a batch of fresh blocks
 * (half a magazine) fill a cache line, up to 4 bytes per block (a batch
 * of 16, a magazine of 32), so that two threads' batches share no line.
 * At initialization, once the magazines' size is known. */
guint
nebula_pool_magazine_state_shift (NebulaPoolAllocator *self)
{
  guint shift = 0;

  if (!self->config.thread_safe || !self->check_frees || self->magazine_size < 2)
    return 0;
  while (shift < 2 && ((gsize) self->magazine_size / 2 << shift) < 64)
    shift++;
  return shift;
}

/* The size of -1 (chosen from the pool's) at initialization. */
gsize
nebula_pool_magazine_auto_size (NebulaPoolAllocator *self)
{
  gsize cap = CLAMP (MAGAZINE_SMALL_BYTES / self->block_size, MAGAZINE_AUTO_MAX,
                     MAGAZINE_SMALL_MAX);

  return CLAMP (self->max_blocks / MAGAZINE_SHARE, 2, cap);
}

/* A reclaim found blocks in magazines: they keep half as many from now
 * on. Under the magazines lock (one reclaim at a time). */
void
nebula_pool_magazine_limit_lower (NebulaPoolAllocator *self)
{
  __atomic_store_n (&self->magazine_quiet, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&self->magazine_limit,
                    __atomic_load_n (&self->magazine_limit, __ATOMIC_RELAXED) / 2,
                    __ATOMIC_RELAXED);
}

/* A refill found blocks without a reclaim: a lowered limit doubles after
 * MAGAZINE_QUIET_REFILLS of them. */
void
nebula_pool_magazine_limit_recover (NebulaPoolAllocator *self)
{
  guint limit = __atomic_load_n (&self->magazine_limit, __ATOMIC_RELAXED);

  if (G_LIKELY (limit >= self->magazine_size) ||
      __atomic_add_fetch (&self->magazine_quiet, 1, __ATOMIC_RELAXED) < MAGAZINE_QUIET_REFILLS)
    return;

  __atomic_store_n (&self->magazine_quiet, 0, __ATOMIC_RELAXED);
  /* A reclaim meanwhile wins: its lower limit stays. */
  __atomic_compare_exchange_n (&self->magazine_limit, &limit,
                               MIN (MAX (2 * limit, 2), self->magazine_size),
                               FALSE, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* At initialization and at a reset: the full size. */
void
nebula_pool_magazine_limit_restore (NebulaPoolAllocator *self)
{
  __atomic_store_n (&self->magazine_limit, self->magazine_size, __ATOMIC_RELAXED);
  __atomic_store_n (&self->magazine_quiet, 0, __ATOMIC_RELAXED);
}
