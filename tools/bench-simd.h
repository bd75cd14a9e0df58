/* bench-simd.h: nebula_memory_copy/_fill and each vector loop against
 * glibc's memcpy/memset
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum { SIMD_GLIBC, SIMD_NEBULA, SIMD_AVX2, SIMD_SSE2, SIMD_PORTABLE, N_SIMD } SimdImpl;

typedef struct
{
  gsize  size;
  double copy_gbs[N_SIMD];     /* 0: not run */
  double fill_gbs[N_SIMD];
} SimdRow;

/* Measures every implementation the CPU supports at each size (four
 * sizes and shorter timings with @quick). */
void           nebula_bench_simd_run   (gboolean  quick);

/* The rows measured so far, one a size (none before a run). */
const SimdRow *nebula_bench_simd_rows  (guint    *n_rows);

/* "glibc", "nebula", "avx2", "sse2" or "portable". */
const char    *nebula_bench_simd_name  (SimdImpl  impl);

G_END_DECLS
