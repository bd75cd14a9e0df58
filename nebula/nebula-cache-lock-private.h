/* nebula-cache-lock-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The lock of a compute cache's shard: one word, taken with one atomic
 * exchange when free. Its holder runs for a few hundred nanoseconds at
 * most (a lookup, a store and an eviction; never the compute function), so
 * a thread that finds it taken spins a while before it sleeps: a GMutex
 * sleeps in the kernel at once, and a sleep and a wake-up between the
 * virtual processors of a shared machine cost tens of microseconds, which
 * made two threads on one cache slower together than one alone
 * (docs/caches.md, "Threads and shards"). States: 0 free, 1 taken, 2 taken
 * with sleepers (Drepper, "Futexes Are Tricky", mutex 3). */
typedef guint NebulaCacheLock;

void nebula_cache_lock_contended (NebulaCacheLock *lock);
void nebula_cache_lock_wake      (NebulaCacheLock *lock);

static inline void
nebula_cache_lock_acquire (NebulaCacheLock *lock)
{
  guint expected = 0;

  if (G_UNLIKELY (!__atomic_compare_exchange_n (lock, &expected, 1, FALSE, __ATOMIC_ACQUIRE,
                                                __ATOMIC_RELAXED)))
    nebula_cache_lock_contended (lock);
}

static inline void
nebula_cache_lock_release (NebulaCacheLock *lock)
{
  if (G_UNLIKELY (__atomic_exchange_n (lock, 0, __ATOMIC_RELEASE) == 2))
    nebula_cache_lock_wake (lock);
}

G_END_DECLS
