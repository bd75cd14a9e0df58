/* nebula-sanitizer-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

/* Telling AddressSanitizer, Valgrind's memcheck and ThreadSanitizer what an
 * arena does, so that misuse of arena memory is reported like misuse of
 * malloc() memory.
 *
 * The model, shared by every allocator: a *region* is one block the
 * allocator got from the system (a bump chunk, a pool slab, a stack
 * buffer). Its free space is inaccessible; a *block* handed out is made
 * accessible for exactly its size; given back, it is inaccessible again.
 *
 *   NEBULA_MEMPOOL_CREATE  (pool, base, size)   region obtained: all of it poisoned
 *   NEBULA_MEMPOOL_DESTROY (pool, base, size)   before the region goes back to free()
 *   NEBULA_MEMPOOL_ALLOC   (pool, ptr, size)    block handed out
 *   NEBULA_MEMPOOL_FREE    (pool, ptr, size)    block given back
 *   NEBULA_MEMPOOL_RESIZE  (pool, ptr, old_size, new_size)   resized in place
 *   NEBULA_MEMPOOL_TRIM    (pool, base, keep, size)   rewind: only [base, base + keep) stays
 *   NEBULA_MEMPOOL_TRIM_RANGE (pool, keep, keep_size, dead, dead_size)   the general form
 *   NEBULA_MEM_OPEN / NEBULA_MEM_CLOSE (ptr, size)   bookkeeping kept inside a dead block
 *   NEBULA_MEM_WRITABLE / NEBULA_MEM_NOACCESS (ptr, size)   around fills of dead memory
 *
 * @pool is any stable address that identifies the region for Valgrind
 * (the region's base is the natural choice); it must be the same in every
 * call for that region. Each macro costs nothing in a build without ASan
 * when the process does not run under Valgrind: the ASan half compiles
 * away and the Valgrind half is one predictable branch on a cached flag.
 *
 * ASan tracks accessibility in 8-byte granules: a granule is either fully
 * accessible, fully poisoned, or accessible for its first 1..7 bytes. So a
 * block is guarded byte-exactly at its end only when it starts on a granule
 * boundary; when two blocks share a granule, the later one cannot be
 * unpoisoned without unpoisoning the tail of the earlier one, and an
 * overflow of the earlier block into that granule goes unseen. Allocators
 * that want exact reports keep blocks granule aligned while the tools watch
 * (see NEBULA_SANITIZER_GRANULE). Valgrind is byte-exact.
 */

/* Whether this translation unit is built with ASan or TSan: from the Meson
 * option (config.h), or from the compiler when a user builds with their own
 * flags. */
#if defined(NEBULA_ASAN) && NEBULA_ASAN
# define NEBULA_HAVE_ASAN 1
#elif defined(__SANITIZE_ADDRESS__)
# define NEBULA_HAVE_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define NEBULA_HAVE_ASAN 1
# endif
#endif
#ifndef NEBULA_HAVE_ASAN
# define NEBULA_HAVE_ASAN 0
#endif

#if defined(NEBULA_TSAN) && NEBULA_TSAN
# define NEBULA_HAVE_TSAN 1
#elif defined(__SANITIZE_THREAD__)
# define NEBULA_HAVE_TSAN 1
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define NEBULA_HAVE_TSAN 1
# endif
#endif
#ifndef NEBULA_HAVE_TSAN
# define NEBULA_HAVE_TSAN 0
#endif

#if NEBULA_HAVE_ASAN
# include <sanitizer/asan_interface.h>
# define NEBULA_ASAN_POISON(ptr, size)   ASAN_POISON_MEMORY_REGION ((ptr), (size))
# define NEBULA_ASAN_UNPOISON(ptr, size) ASAN_UNPOISON_MEMORY_REGION ((ptr), (size))
#else
# define NEBULA_ASAN_POISON(ptr, size)   ((void) (ptr), (void) (size))
# define NEBULA_ASAN_UNPOISON(ptr, size) ((void) (ptr), (void) (size))
#endif

/* ASan's shadow granule: the alignment that keeps reports byte-exact. */
#define NEBULA_SANITIZER_GRANULE 8

/* The guard gap an allocator leaves after each block while the tools watch,
 * so that an overflow into the next block lands on poisoned bytes. A
 * multiple of the granule. */
#define NEBULA_SANITIZER_REDZONE 16

#if defined(HAVE_VALGRIND) && HAVE_VALGRIND
# include <valgrind/memcheck.h>

/* Whether the process runs under Valgrind's memcheck, the one tool that
 * reads the requests below. Under callgrind or cachegrind the allocators
 * keep their ordinary layout and fast paths, so that a profile measures
 * what a normal run executes. GET_VBITS is a memcheck request: memcheck
 * answers 1 for a readable byte, every other tool (and a native run)
 * leaves the default 0, without a warning. Asked once per translation
 * unit; a racing first call only asks twice. */
static inline gboolean
nebula_running_on_valgrind (void)
{
  static int state = -1;
  int value = __atomic_load_n (&state, __ATOMIC_RELAXED);

  if (G_UNLIKELY (value < 0))
    {
      char probe = 0, vbits = 0;

      value = RUNNING_ON_VALGRIND && VALGRIND_GET_VBITS (&probe, &vbits, 1) == 1 ? 1 : 0;
      __atomic_store_n (&state, value, __ATOMIC_RELAXED);
    }

  return value;
}

# define NEBULA_VALGRIND(request) \
  G_STMT_START { if (G_UNLIKELY (nebula_running_on_valgrind ())) { request; } } G_STMT_END
#else
static inline gboolean
nebula_running_on_valgrind (void)
{
  return FALSE;
}

# define NEBULA_VALGRIND(request) G_STMT_START { } G_STMT_END
#endif

/* Whether a memory tool watches this process: always in an ASan build,
 * and when running under Valgrind. Allocators check it once, at
 * initialization, to choose a layout with redzones. */
static inline gboolean
nebula_memory_tools_watching (void)
{
  return NEBULA_HAVE_ASAN || nebula_running_on_valgrind ();
}

#define NEBULA_MEMPOOL_CREATE(pool, base, size) G_STMT_START {                    \
    NEBULA_VALGRIND (VALGRIND_CREATE_MEMPOOL ((pool), 0, 0));                     \
    NEBULA_VALGRIND (VALGRIND_MAKE_MEM_NOACCESS ((base), (size)));                \
    NEBULA_ASAN_POISON ((base), (size));                                          \
  } G_STMT_END

/* After this the region is ordinary malloc() memory again, ready for free(). */
#define NEBULA_MEMPOOL_DESTROY(pool, base, size) G_STMT_START {                   \
    NEBULA_VALGRIND (VALGRIND_DESTROY_MEMPOOL ((pool)));                          \
    NEBULA_VALGRIND (VALGRIND_MAKE_MEM_UNDEFINED ((base), (size)));               \
    NEBULA_ASAN_UNPOISON ((base), (size));                                        \
  } G_STMT_END

#define NEBULA_MEMPOOL_ALLOC(pool, ptr, size) G_STMT_START {                      \
    NEBULA_VALGRIND (VALGRIND_MEMPOOL_ALLOC ((pool), (ptr), (size)));             \
    NEBULA_ASAN_UNPOISON ((ptr), (size));                                         \
  } G_STMT_END

#define NEBULA_MEMPOOL_FREE(pool, ptr, size) G_STMT_START {                       \
    NEBULA_VALGRIND (VALGRIND_MEMPOOL_FREE ((pool), (ptr)));                      \
    NEBULA_ASAN_POISON ((ptr), (size));                                           \
  } G_STMT_END

/* A block resized in place: exactly the new size stays accessible. */
#define NEBULA_MEMPOOL_RESIZE(pool, ptr, old_size, new_size) G_STMT_START {       \
    NEBULA_VALGRIND (VALGRIND_MEMPOOL_CHANGE ((pool), (ptr), (ptr), (new_size))); \
    if ((new_size) > (old_size))                                                  \
      NEBULA_VALGRIND (VALGRIND_MAKE_MEM_UNDEFINED ((guint8 *) (ptr) + (old_size), \
                                                    (new_size) - (old_size)));    \
    else                                                                          \
      NEBULA_VALGRIND (VALGRIND_MAKE_MEM_NOACCESS ((guint8 *) (ptr) + (new_size), \
                                                   (old_size) - (new_size)));     \
    /* Poison, then unpoison: right for growth and shrinking alike. */           \
    NEBULA_ASAN_POISON ((ptr), (old_size));                                       \
    NEBULA_ASAN_UNPOISON ((ptr), (new_size));                                     \
  } G_STMT_END

/* Gives back [dead, dead + dead_size) at once; of the region's blocks only
 * those inside [keep, keep + keep_size) stay (Valgrind forgets the others).
 * For a stack's high end, whose live blocks sit above the released range,
 * use a second Valgrind pool (another anchor) for that end. */
#define NEBULA_MEMPOOL_TRIM_RANGE(pool, keep, keep_size, dead, dead_size) G_STMT_START { \
    NEBULA_VALGRIND (VALGRIND_MEMPOOL_TRIM ((pool), (keep), (keep_size)));        \
    NEBULA_VALGRIND (VALGRIND_MAKE_MEM_NOACCESS ((dead), (dead_size)));           \
    NEBULA_ASAN_POISON ((dead), (dead_size));                                     \
  } G_STMT_END

/* A rewind: only [base, base + keep) of a region of @size bytes stays. */
#define NEBULA_MEMPOOL_TRIM(pool, base, keep, size)                               \
  NEBULA_MEMPOOL_TRIM_RANGE ((pool), (base), (keep),                              \
                             (guint8 *) (base) + (keep), (size) - (keep))

/* For the allocator's own writes to dead memory (free-fill patterns). */
#define NEBULA_MEM_WRITABLE(ptr, size) G_STMT_START {                             \
    NEBULA_VALGRIND (VALGRIND_MAKE_MEM_UNDEFINED ((ptr), (size)));                \
    NEBULA_ASAN_UNPOISON ((ptr), (size));                                         \
  } G_STMT_END

#define NEBULA_MEM_NOACCESS(ptr, size) G_STMT_START {                             \
    NEBULA_VALGRIND (VALGRIND_MAKE_MEM_NOACCESS ((ptr), (size)));                 \
    NEBULA_ASAN_POISON ((ptr), (size));                                           \
  } G_STMT_END

/* For the allocator's own bookkeeping stored inside a dead block, such as a
 * pool's free-list link: open, read or write it, close. Valgrind takes the
 * bytes as defined (the allocator wrote them itself, before closing). */
#define NEBULA_MEM_OPEN(ptr, size) G_STMT_START {                                 \
    NEBULA_VALGRIND (VALGRIND_MAKE_MEM_DEFINED ((ptr), (size)));                  \
    NEBULA_ASAN_UNPOISON ((ptr), (size));                                         \
  } G_STMT_END

#define NEBULA_MEM_CLOSE(ptr, size) NEBULA_MEM_NOACCESS ((ptr), (size))

/* GLib's GMutex is a futex on Linux, and GLib is not built with TSan, so
 * TSan cannot see that a GMutex orders memory. These wrappers tell it; use
 * them for every lock that guards allocator state. */
#if NEBULA_HAVE_TSAN
# include <sanitizer/tsan_interface.h>
# define NEBULA_TSAN_ACQUIRE(addr) __tsan_acquire ((void *) (addr))
# define NEBULA_TSAN_RELEASE(addr) __tsan_release ((void *) (addr))
#else
# define NEBULA_TSAN_ACQUIRE(addr) ((void) (addr))
# define NEBULA_TSAN_RELEASE(addr) ((void) (addr))
#endif

static inline void
nebula_mutex_lock (GMutex *mutex)
{
  g_mutex_lock (mutex);
  NEBULA_TSAN_ACQUIRE (mutex);
}

static inline void
nebula_mutex_unlock (GMutex *mutex)
{
  NEBULA_TSAN_RELEASE (mutex);
  g_mutex_unlock (mutex);
}

/* g_cond_wait() releases @mutex and takes it again. */
static inline void
nebula_cond_wait (GCond  *cond,
                  GMutex *mutex)
{
  NEBULA_TSAN_RELEASE (mutex);
  g_cond_wait (cond, mutex);
  NEBULA_TSAN_ACQUIRE (mutex);
}
