/* nebula-cache-lock.c: what a shard's lock does when it is taken
 * (nebula-cache-lock-private.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-cache-lock-private.h"

#ifdef __linux__
# include <linux/futex.h>
# include <sys/syscall.h>
# include <unistd.h>
#endif

/* About as long as a holder keeps the lock (a few microseconds), in
 * pauses: the spin's budget, spent in rounds of 1, 2, 4 .. MAX_BACKOFF. */
#define SPINS 64
#define MAX_BACKOFF 16

static inline void
relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

/* Sleeps while *@lock is 2 (or returns at once if it no longer is). */
static void
sleep_on (NebulaCacheLock *lock)
{
#ifdef __linux__
  syscall (SYS_futex, lock, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
#else
  g_thread_yield ();
#endif
}

void
nebula_cache_lock_wake (NebulaCacheLock *lock)
{
#ifdef __linux__
  syscall (SYS_futex, lock, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
#else
  (void) lock;
#endif
}

/* Waits for *@lock to read 0 with plain loads only, pausing 1, 2, 4 ..
 * MAX_BACKOFF times between them, for at most SPINS pauses in all. TRUE if
 * it read 0. A load that keeps the line shared costs the holder nothing
 * until it writes; a compare-and-swap would take the line from it. */
static gboolean
watch (NebulaCacheLock *lock)
{
  guint backoff = 1;

  for (guint spent = 0; spent < SPINS;)
    {
      for (guint i = 0; i < backoff; i++)
        relax ();
      spent += backoff;
      backoff = MIN (backoff * 2, MAX_BACKOFF);
      if (__atomic_load_n (lock, __ATOMIC_RELAXED) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Spins while the lock is held only now and then, and sleeps as soon as
 * it is fought over: when a sleeper is already marked (state 2) or when
 * the lock, seen free, went to another thread first. Then one thread runs
 * while the other sleeps; two threads spinning on one shard would keep its
 * lines (the lock word shares one with the shard's queue and counts)
 * moving between cores on every operation, slower than one thread alone. */
G_NO_INLINE void
nebula_cache_lock_contended (NebulaCacheLock *lock)
{
  guint expected = 0;

  /* Lost after seeing it free: another thread wants it as often as this one. */
  if (__atomic_load_n (lock, __ATOMIC_RELAXED) != 2 && watch (lock) &&
      __atomic_compare_exchange_n (lock, &expected, 1, FALSE, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
    return;
  while (__atomic_exchange_n (lock, 2, __ATOMIC_ACQUIRE) != 0)
    sleep_on (lock);
}
