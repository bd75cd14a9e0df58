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

/* About as long as a holder keeps the lock: a few microseconds. */
#define SPINS 50

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

/* Spins on a plain load, then marks the lock as having a sleeper and
 * sleeps until it is released. */
G_NO_INLINE void
nebula_cache_lock_contended (NebulaCacheLock *lock)
{
  for (guint spins = 0; spins < SPINS; spins++)
    {
      guint expected = 0;

      relax ();
      if (__atomic_load_n (lock, __ATOMIC_RELAXED) == 0 &&
          __atomic_compare_exchange_n (lock, &expected, 1, FALSE, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    }
  while (__atomic_exchange_n (lock, 2, __ATOMIC_ACQUIRE) != 0)
    sleep_on (lock);
}
