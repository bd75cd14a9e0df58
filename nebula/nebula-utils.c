/* nebula-utils.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
# include <immintrin.h>
# define NEBULA_X86 1
#else
# define NEBULA_X86 0
#endif

#include "nebula-utils-private.h"

/* Keeps the portable loops loops: GCC and clang would otherwise turn them
 * back into calls to memcpy and memset. Clang has no "optimize" attribute;
 * no_builtin stops its loop-idiom pass the same way. */
#if defined(__clang__)
# define NEBULA_KEEP_LOOPS __attribute__ ((no_builtin ("memcpy", "memset")))
#elif defined(__GNUC__)
# define NEBULA_KEEP_LOOPS __attribute__ ((optimize ("no-tree-loop-distribute-patterns")))
#else
# define NEBULA_KEEP_LOOPS
#endif

/* Small blocks: overlapping moves of the largest power of two that fits,
 * so that no size needs a byte loop. memcpy with a constant size compiles
 * to one load and one store. */
static inline void
copy_small (guint8       *d,
            const guint8 *s,
            gsize         n)
{
  if (n >= 8)
    {
      guint64 a, b;

      memcpy (&a, s, 8);
      memcpy (&b, s + n - 8, 8);
      memcpy (d, &a, 8);
      memcpy (d + n - 8, &b, 8);
    }
  else if (n >= 4)
    {
      guint32 a, b;

      memcpy (&a, s, 4);
      memcpy (&b, s + n - 4, 4);
      memcpy (d, &a, 4);
      memcpy (d + n - 4, &b, 4);
    }
  else if (n != 0)
    {
      /* 1 to 3 bytes: first, middle and last may coincide. */
      guint8 first = s[0], middle = s[n / 2], last = s[n - 1];

      d[0] = first;
      d[n / 2] = middle;
      d[n - 1] = last;
    }
}

static inline void
fill_small (guint8 *d,
            guint8  value,
            gsize   n)
{
  guint64 word = G_GUINT64_CONSTANT (0x0101010101010101) * value;

  if (n >= 8)
    {
      memcpy (d, &word, 8);
      memcpy (d + n - 8, &word, 8);
    }
  else if (n >= 4)
    {
      memcpy (d, &word, 4);
      memcpy (d + n - 4, &word, 4);
    }
  else if (n != 0)
    {
      d[0] = value;
      d[n / 2] = value;
      d[n - 1] = value;
    }
}

/* Portable: 8-byte words. The loops must stay loops (NEBULA_KEEP_LOOPS). */
NEBULA_KEEP_LOOPS
static void
copy_portable (gpointer      dest,
               gconstpointer src,
               gsize         n)
{
  guint8 *d = dest;
  const guint8 *s = src;
  gsize i;

  if (n <= 16)
    {
      copy_small (d, s, n);
      return;
    }

  for (i = 0; i + 16 <= n; i += 16)
    {
      guint64 a, b;

      memcpy (&a, s + i, 8);
      memcpy (&b, s + i + 8, 8);
      memcpy (d + i, &a, 8);
      memcpy (d + i + 8, &b, 8);
    }
  copy_small (d + n - 16, s + n - 16, 16);
}

NEBULA_KEEP_LOOPS
static void
fill_portable (gpointer dest,
               guint8   value,
               gsize    n)
{
  guint8 *d = dest;
  guint64 word = G_GUINT64_CONSTANT (0x0101010101010101) * value;
  gsize i;

  if (n <= 16)
    {
      fill_small (d, value, n);
      return;
    }

  for (i = 0; i + 16 <= n; i += 16)
    {
      memcpy (d + i, &word, 8);
      memcpy (d + i + 8, &word, 8);
    }
  memcpy (d + n - 16, &word, 8);
  memcpy (d + n - 8, &word, 8);
}

#if NEBULA_X86

/* SSE2: unaligned loads, stores aligned to 16 after a head block; the tail
 * is one overlapping 64-byte block, which rewrites bytes with the same
 * values (the regions do not overlap, so that is harmless). */
__attribute__ ((target ("sse2")))
static void
copy_sse2 (gpointer      dest,
           gconstpointer src,
           gsize         n)
{
  guint8 *d = dest;
  const guint8 *s = src;
  __m128i t0, t1, t2, t3;
  gsize skip;

  if (n <= 16)
    {
      copy_small (d, s, n);
      return;
    }
  if (n <= 32)
    {
      t0 = _mm_loadu_si128 ((const void *) s);
      t1 = _mm_loadu_si128 ((const void *) (s + n - 16));
      _mm_storeu_si128 ((void *) d, t0);
      _mm_storeu_si128 ((void *) (d + n - 16), t1);
      return;
    }
  if (n <= 64)
    {
      t0 = _mm_loadu_si128 ((const void *) s);
      t1 = _mm_loadu_si128 ((const void *) (s + 16));
      t2 = _mm_loadu_si128 ((const void *) (s + n - 32));
      t3 = _mm_loadu_si128 ((const void *) (s + n - 16));
      _mm_storeu_si128 ((void *) d, t0);
      _mm_storeu_si128 ((void *) (d + 16), t1);
      _mm_storeu_si128 ((void *) (d + n - 32), t2);
      _mm_storeu_si128 ((void *) (d + n - 16), t3);
      return;
    }

  /* Head: one unaligned block, then continue from the next 16-byte
   * boundary of the destination. */
  t0 = _mm_loadu_si128 ((const void *) s);
  _mm_storeu_si128 ((void *) d, t0);
  skip = 16 - ((guintptr) d & 15);
  d += skip;
  s += skip;
  n -= skip;

  while (n > 64)
    {
      t0 = _mm_loadu_si128 ((const void *) s);
      t1 = _mm_loadu_si128 ((const void *) (s + 16));
      t2 = _mm_loadu_si128 ((const void *) (s + 32));
      t3 = _mm_loadu_si128 ((const void *) (s + 48));
      _mm_store_si128 ((void *) d, t0);
      _mm_store_si128 ((void *) (d + 16), t1);
      _mm_store_si128 ((void *) (d + 32), t2);
      _mm_store_si128 ((void *) (d + 48), t3);
      d += 64;
      s += 64;
      n -= 64;
    }

  /* 1..64 bytes left; the original block was over 64 bytes, so reading
   * the last 64 stays inside it. */
  d += n;
  s += n;
  t0 = _mm_loadu_si128 ((const void *) (s - 64));
  t1 = _mm_loadu_si128 ((const void *) (s - 48));
  t2 = _mm_loadu_si128 ((const void *) (s - 32));
  t3 = _mm_loadu_si128 ((const void *) (s - 16));
  _mm_storeu_si128 ((void *) (d - 64), t0);
  _mm_storeu_si128 ((void *) (d - 48), t1);
  _mm_storeu_si128 ((void *) (d - 32), t2);
  _mm_storeu_si128 ((void *) (d - 16), t3);
}

__attribute__ ((target ("sse2")))
static void
fill_sse2 (gpointer dest,
           guint8   value,
           gsize    n)
{
  guint8 *d = dest;
  __m128i v;
  gsize skip;

  if (n <= 16)
    {
      fill_small (d, value, n);
      return;
    }

  v = _mm_set1_epi8 ((char) value);
  if (n <= 32)
    {
      _mm_storeu_si128 ((void *) d, v);
      _mm_storeu_si128 ((void *) (d + n - 16), v);
      return;
    }
  if (n <= 64)
    {
      _mm_storeu_si128 ((void *) d, v);
      _mm_storeu_si128 ((void *) (d + 16), v);
      _mm_storeu_si128 ((void *) (d + n - 32), v);
      _mm_storeu_si128 ((void *) (d + n - 16), v);
      return;
    }

  _mm_storeu_si128 ((void *) d, v);
  skip = 16 - ((guintptr) d & 15);
  d += skip;
  n -= skip;

  while (n > 64)
    {
      _mm_store_si128 ((void *) d, v);
      _mm_store_si128 ((void *) (d + 16), v);
      _mm_store_si128 ((void *) (d + 32), v);
      _mm_store_si128 ((void *) (d + 48), v);
      d += 64;
      n -= 64;
    }

  /* 1..64 bytes left of a block that was over 64 bytes. */
  d += n;
  _mm_storeu_si128 ((void *) (d - 64), v);
  _mm_storeu_si128 ((void *) (d - 48), v);
  _mm_storeu_si128 ((void *) (d - 32), v);
  _mm_storeu_si128 ((void *) (d - 16), v);
}

/* AVX2: the same shape with 32-byte registers and 128 bytes a turn. */
__attribute__ ((target ("avx2")))
static void
copy_avx2 (gpointer      dest,
           gconstpointer src,
           gsize         n)
{
  guint8 *d = dest;
  const guint8 *s = src;
  __m256i t0, t1, t2, t3;
  gsize skip;

  if (n <= 16)
    {
      copy_small (d, s, n);
      return;
    }
  if (n <= 32)
    {
      __m128i a = _mm_loadu_si128 ((const void *) s);
      __m128i b = _mm_loadu_si128 ((const void *) (s + n - 16));

      _mm_storeu_si128 ((void *) d, a);
      _mm_storeu_si128 ((void *) (d + n - 16), b);
      return;
    }
  if (n <= 64)
    {
      t0 = _mm256_loadu_si256 ((const void *) s);
      t1 = _mm256_loadu_si256 ((const void *) (s + n - 32));
      _mm256_storeu_si256 ((void *) d, t0);
      _mm256_storeu_si256 ((void *) (d + n - 32), t1);
      return;
    }
  if (n <= 128)
    {
      t0 = _mm256_loadu_si256 ((const void *) s);
      t1 = _mm256_loadu_si256 ((const void *) (s + 32));
      t2 = _mm256_loadu_si256 ((const void *) (s + n - 64));
      t3 = _mm256_loadu_si256 ((const void *) (s + n - 32));
      _mm256_storeu_si256 ((void *) d, t0);
      _mm256_storeu_si256 ((void *) (d + 32), t1);
      _mm256_storeu_si256 ((void *) (d + n - 64), t2);
      _mm256_storeu_si256 ((void *) (d + n - 32), t3);
      return;
    }

  t0 = _mm256_loadu_si256 ((const void *) s);
  _mm256_storeu_si256 ((void *) d, t0);
  skip = 32 - ((guintptr) d & 31);
  d += skip;
  s += skip;
  n -= skip;

  while (n > 128)
    {
      t0 = _mm256_loadu_si256 ((const void *) s);
      t1 = _mm256_loadu_si256 ((const void *) (s + 32));
      t2 = _mm256_loadu_si256 ((const void *) (s + 64));
      t3 = _mm256_loadu_si256 ((const void *) (s + 96));
      _mm256_store_si256 ((void *) d, t0);
      _mm256_store_si256 ((void *) (d + 32), t1);
      _mm256_store_si256 ((void *) (d + 64), t2);
      _mm256_store_si256 ((void *) (d + 96), t3);
      d += 128;
      s += 128;
      n -= 128;
    }

  /* 1..128 bytes left of a block that was over 128 bytes. */
  d += n;
  s += n;
  t0 = _mm256_loadu_si256 ((const void *) (s - 128));
  t1 = _mm256_loadu_si256 ((const void *) (s - 96));
  t2 = _mm256_loadu_si256 ((const void *) (s - 64));
  t3 = _mm256_loadu_si256 ((const void *) (s - 32));
  _mm256_storeu_si256 ((void *) (d - 128), t0);
  _mm256_storeu_si256 ((void *) (d - 96), t1);
  _mm256_storeu_si256 ((void *) (d - 64), t2);
  _mm256_storeu_si256 ((void *) (d - 32), t3);
}

__attribute__ ((target ("avx2")))
static void
fill_avx2 (gpointer dest,
           guint8   value,
           gsize    n)
{
  guint8 *d = dest;
  __m256i v;
  gsize skip;

  if (n <= 32)
    {
      fill_sse2 (dest, value, n);
      return;
    }

  v = _mm256_set1_epi8 ((char) value);
  if (n <= 64)
    {
      _mm256_storeu_si256 ((void *) d, v);
      _mm256_storeu_si256 ((void *) (d + n - 32), v);
      return;
    }
  if (n <= 128)
    {
      _mm256_storeu_si256 ((void *) d, v);
      _mm256_storeu_si256 ((void *) (d + 32), v);
      _mm256_storeu_si256 ((void *) (d + n - 64), v);
      _mm256_storeu_si256 ((void *) (d + n - 32), v);
      return;
    }

  _mm256_storeu_si256 ((void *) d, v);
  skip = 32 - ((guintptr) d & 31);
  d += skip;
  n -= skip;

  while (n > 128)
    {
      _mm256_store_si256 ((void *) d, v);
      _mm256_store_si256 ((void *) (d + 32), v);
      _mm256_store_si256 ((void *) (d + 64), v);
      _mm256_store_si256 ((void *) (d + 96), v);
      d += 128;
      n -= 128;
    }

  /* 1..128 bytes left of a block that was over 128 bytes. */
  d += n;
  _mm256_storeu_si256 ((void *) (d - 128), v);
  _mm256_storeu_si256 ((void *) (d - 96), v);
  _mm256_storeu_si256 ((void *) (d - 64), v);
  _mm256_storeu_si256 ((void *) (d - 32), v);
}

#endif /* NEBULA_X86 */

gboolean
nebula_simd_level_supported (NebulaSimdLevel level)
{
  switch (level)
    {
    case NEBULA_SIMD_PORTABLE:
      return TRUE;
#if NEBULA_X86
    case NEBULA_SIMD_SSE2:
      return __builtin_cpu_supports ("sse2");
    case NEBULA_SIMD_AVX2:
      return __builtin_cpu_supports ("avx2");
#endif
    case NEBULA_SIMD_N_LEVELS:
    default:
      return FALSE;
    }
}

const char *
nebula_simd_level_name (NebulaSimdLevel level)
{
  static const char * const names[] = { "portable", "sse2", "avx2" };

  g_return_val_if_fail (level < NEBULA_SIMD_N_LEVELS, NULL);
  return names[level];
}

NebulaSimdLevel
nebula_simd_level_best (void)
{
  static gsize best = 0;

  if (g_once_init_enter (&best))
    {
      NebulaSimdLevel level = NEBULA_SIMD_PORTABLE;

      __builtin_cpu_init ();
      if (nebula_simd_level_supported (NEBULA_SIMD_AVX2))
        level = NEBULA_SIMD_AVX2;
      else if (nebula_simd_level_supported (NEBULA_SIMD_SSE2))
        level = NEBULA_SIMD_SSE2;

      g_once_init_leave (&best, level + 1);
    }

  return best - 1;
}

NebulaCopyFunc
nebula_simd_get_copy (NebulaSimdLevel level)
{
  switch (level)
    {
#if NEBULA_X86
    case NEBULA_SIMD_SSE2:
      return copy_sse2;
    case NEBULA_SIMD_AVX2:
      return copy_avx2;
#endif
    case NEBULA_SIMD_PORTABLE:
    case NEBULA_SIMD_N_LEVELS:
    default:
      return copy_portable;
    }
}

NebulaFillFunc
nebula_simd_get_fill (NebulaSimdLevel level)
{
  switch (level)
    {
#if NEBULA_X86
    case NEBULA_SIMD_SSE2:
      return fill_sse2;
    case NEBULA_SIMD_AVX2:
      return fill_avx2;
#endif
    case NEBULA_SIMD_PORTABLE:
    case NEBULA_SIMD_N_LEVELS:
    default:
      return fill_portable;
    }
}

/* The dispatch pointers start at resolvers that pick once and replace
 * themselves; a racing first call resolves twice to the same answer. */
static void copy_resolve (gpointer dest, gconstpointer src, gsize n);
static void fill_resolve (gpointer dest, guint8 value, gsize n);

static NebulaCopyFunc copy_impl = copy_resolve;
static NebulaFillFunc fill_impl = fill_resolve;

static void
copy_resolve (gpointer      dest,
              gconstpointer src,
              gsize         n)
{
  NebulaCopyFunc func = nebula_simd_get_copy (nebula_simd_level_best ());

  __atomic_store_n (&copy_impl, func, __ATOMIC_RELAXED);
  func (dest, src, n);
}

static void
fill_resolve (gpointer dest,
              guint8   value,
              gsize    n)
{
  NebulaFillFunc func = nebula_simd_get_fill (nebula_simd_level_best ());

  __atomic_store_n (&fill_impl, func, __ATOMIC_RELAXED);
  func (dest, value, n);
}

/**
 * nebula_memory_get_implementation:
 *
 * Names the vector code that nebula_memory_copy() and nebula_memory_fill()
 * chose for this CPU: "avx2", "sse2" or "portable".
 *
 * Returns: (transfer none): the name
 */
const char *
nebula_memory_get_implementation (void)
{
  return nebula_simd_level_name (nebula_simd_level_best ());
}

/**
 * nebula_memory_copy: (skip)
 * @dest: where to copy to
 * @src: where to copy from
 * @n: the number of bytes
 *
 * Copies @n bytes with the best vector code the CPU has (AVX2, SSE2 or
 * portable C, chosen once at run time) where that beats the C library,
 * and with the C library's memcpy() elsewhere: with glibc, blocks from 64
 * KiB to 1 MiB take the vector loop (docs/performance.md has the
 * measurements). Overlapping regions are allowed and handled like
 * memmove().
 */
void
nebula_memory_copy (gpointer      dest,
                    gconstpointer src,
                    gsize         n)
{
  guintptr d = (guintptr) dest, s = (guintptr) src;

  /* Outside the vector loop's range: the C library, as a tail call.
   * glibc's memmove is its memcpy when the blocks do not overlap. */
  if (n - NEBULA_SIMD_COPY_MIN >= NEBULA_SIMD_COPY_MAX - NEBULA_SIMD_COPY_MIN ||
      d - s < n || s - d < n)
    {
      memmove (dest, src, n);
      return;
    }

  __atomic_load_n (&copy_impl, __ATOMIC_RELAXED) (dest, src, n);
}

/**
 * nebula_memory_fill: (skip)
 * @dest: the memory to fill
 * @value: the byte to write
 * @n: the number of bytes
 *
 * Sets @n bytes at @dest to @value. With glibc, whose memset() was as fast
 * or faster at every size measured, this is memset(); with other C
 * libraries it takes the best vector loop of the CPU.
 */
void
nebula_memory_fill (gpointer dest,
                    guint8   value,
                    gsize    n)
{
  if (NEBULA_SIMD_FILL_WITH_LIBC)
    memset (dest, value, n);
  else
    __atomic_load_n (&fill_impl, __ATOMIC_RELAXED) (dest, value, n);
}

/**
 * nebula_secure_zero: (skip)
 * @dest: the memory to clear
 * @n: the number of bytes
 *
 * Clears @n bytes at @dest in a way the optimizer cannot remove, even when
 * the memory is freed right after: for keys, passwords and other secrets.
 */
void
nebula_secure_zero (gpointer dest,
                    gsize    n)
{
#if HAVE_EXPLICIT_BZERO
  explicit_bzero (dest, n);
#else
  volatile guint8 *p = dest;

  while (n-- != 0)
    *p++ = 0;
#endif
  /* The stores above must happen before anything that follows. */
  __asm__ __volatile__ ("" : : "r" (dest) : "memory");
}
