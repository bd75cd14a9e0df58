/* bench-simd.c: nebula_memory_copy/_fill and each vector loop against
 * glibc's memcpy/memset, in GB/s at sizes from 64 bytes to 1 MiB
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <nebula.h>

#include "bench-simd.h"
#include "nebula-benchmark-private.h"
#include "nebula-utils-private.h"

static const char * const simd_names[N_SIMD] = { "glibc", "nebula", "avx2", "sse2", "portable" };

static const gsize simd_sizes[] = {
  64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
  131072, 262144, 524288, 1048576,
};
static const gsize simd_sizes_quick[] = { 64, 1024, 16384, 1048576 };

static SimdRow simd_rows[G_N_ELEMENTS (simd_sizes)];
static guint n_simd_rows;

/* Through volatile pointers, so that nothing is inlined or elided. */
static void *(*volatile glibc_memcpy) (void *, const void *, size_t) = memcpy;
static void *(*volatile glibc_memset) (void *, int, size_t) = memset;

static NebulaCopyFunc
simd_copy_func (SimdImpl impl)
{
  switch (impl)
    {
    case SIMD_NEBULA:
      return nebula_memory_copy;
    case SIMD_AVX2:
      return nebula_simd_get_copy (NEBULA_SIMD_AVX2);
    case SIMD_SSE2:
      return nebula_simd_get_copy (NEBULA_SIMD_SSE2);
    case SIMD_PORTABLE:
      return nebula_simd_get_copy (NEBULA_SIMD_PORTABLE);
    case SIMD_GLIBC:
    case N_SIMD:
    default:
      return NULL;
    }
}

static NebulaFillFunc
simd_fill_func (SimdImpl impl)
{
  switch (impl)
    {
    case SIMD_NEBULA:
      return nebula_memory_fill;
    case SIMD_AVX2:
      return nebula_simd_get_fill (NEBULA_SIMD_AVX2);
    case SIMD_SSE2:
      return nebula_simd_get_fill (NEBULA_SIMD_SSE2);
    case SIMD_PORTABLE:
      return nebula_simd_get_fill (NEBULA_SIMD_PORTABLE);
    case SIMD_GLIBC:
    case N_SIMD:
    default:
      return NULL;
    }
}

static gboolean
simd_supported (SimdImpl impl)
{
  switch (impl)
    {
    case SIMD_AVX2:
      return nebula_simd_level_supported (NEBULA_SIMD_AVX2);
    case SIMD_SSE2:
      return nebula_simd_level_supported (NEBULA_SIMD_SSE2);
    case SIMD_GLIBC:
    case SIMD_NEBULA:
    case SIMD_PORTABLE:
    case N_SIMD:
    default:
      return TRUE;
    }
}

static double
simd_measure (SimdImpl  impl,
              gboolean  quick,
              gboolean  copy,
              guint8   *dst,
              guint8   *src,
              gsize     size)
{
  /* About 32 MB per timing (1 MB for --quick), best of three. */
  guint64 reps = MAX ((quick ? 1 : 32) * 1024 * 1024 / size, 4);
  NebulaCopyFunc copy_func = simd_copy_func (impl);
  NebulaFillFunc fill_func = simd_fill_func (impl);
  double best = INFINITY;

  for (guint attempt = 0; attempt < 4; attempt++)
    {
      guint64 start = nebula_bench_now_ns (TRUE);

      for (guint64 i = 0; i < reps; i++)
        {
          if (copy && impl == SIMD_GLIBC)
            glibc_memcpy (dst, src, size);
          else if (copy)
            copy_func (dst, src, size);
          else if (impl == SIMD_GLIBC)
            glibc_memset (dst, (int) (i & 0xFF), size);
          else
            fill_func (dst, (guint8) i, size);
        }

      /* The first attempt warms the caches and is not counted. */
      if (attempt > 0)
        best = MIN (best, (double) (nebula_bench_now_ns (TRUE) - start));
    }

  return (double) size * (double) reps / best;  /* bytes per ns = GB/s */
}

void
nebula_bench_simd_run (gboolean quick)
{
  const gsize *sizes = quick ? simd_sizes_quick : simd_sizes;
  guint n_sizes = quick ? G_N_ELEMENTS (simd_sizes_quick) : G_N_ELEMENTS (simd_sizes);
  gsize max_size = sizes[n_sizes - 1];
  guint8 *src = g_aligned_alloc (max_size + 64, 1, 64);
  guint8 *dst = g_aligned_alloc (max_size + 64, 1, 64);

  memset (src, 0x33, max_size + 64);
  memset (dst, 0, max_size + 64);

  for (guint s = 0; s < n_sizes; s++)
    {
      SimdRow *row = &simd_rows[n_simd_rows++];

      row->size = sizes[s];
      for (SimdImpl impl = 0; impl < N_SIMD; impl++)
        {
          if (!simd_supported (impl))
            continue;
          row->copy_gbs[impl] = simd_measure (impl, quick, TRUE, dst, src, sizes[s]);
          row->fill_gbs[impl] = simd_measure (impl, quick, FALSE, dst, src, sizes[s]);
        }
    }

  g_aligned_free (src);
  g_aligned_free (dst);
}

const SimdRow *
nebula_bench_simd_rows (guint *n_rows)
{
  *n_rows = n_simd_rows;
  return simd_rows;
}

const char *
nebula_bench_simd_name (SimdImpl impl)
{
  g_return_val_if_fail (impl < N_SIMD, NULL);
  return simd_names[impl];
}
