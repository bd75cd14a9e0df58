/* nebula-benchmark.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>

#include "nebula-allocator.h"

G_BEGIN_DECLS

/**
 * NebulaWorkload:
 * @NEBULA_WORKLOAD_SMALL_MIXED: batches of 256 allocations of 8 to 128
 *   bytes (alignment 8), released all at once by [method@Allocator.reset];
 *   an operation is an allocation
 * @NEBULA_WORKLOAD_FIXED_64: 64-byte blocks (alignment 8): 64 live blocks,
 *   then 448 times a random live block is freed and replaced; the rest is
 *   released by reset. Frees are out of order, so a stack allocator
 *   refuses it; a bump allocator frees nothing until the reset
 * @NEBULA_WORKLOAD_LIFO_FRAMES: nested frames of 1 to 8 blocks of 16 to
 *   256 bytes (alignment 16), at most 8 frames deep, each freed in reverse
 *   order when its frame is popped: what stack and bump allocators are for
 * @NEBULA_WORKLOAD_REQUEST_RESPONSE: requests that allocate a 256-byte
 *   header, a 64..2048-byte body, 4 to 12 small buffers and a 256..4096-byte
 *   response, and free them all in reverse order when the request ends
 * @NEBULA_WORKLOAD_MIXED_LIFETIMES: allocations of 16 to 256 bytes of
 *   which 60% die within 4 allocations, 30% within 16 to 64 and 10% live
 *   until the batch is reset; frees are out of order (a stack allocator
 *   refuses it, a bump allocator frees nothing until the reset)
 * @NEBULA_WORKLOAD_REQUEST_ARENA: requests of 50 to 500 allocations (50%
 *   of 8 to 32 bytes, 30% of 33 to 128, 15% of 129 to 512, 5% of 513 to
 *   2048; alignment 8; a request stops early before it would pass 60 KiB),
 *   a byte written in each, all released at once by the reset that ends the
 *   request: the arena a server keeps per request. Since: 0.1
 * @NEBULA_WORKLOAD_PRODUCER_CONSUMER: threads in pairs (so
 *   [property@Benchmark:threads] must be even): a producer allocates
 *   64-byte blocks (alignment 8) in batches of 64, writes a byte into
 *   each and hands every batch to its consumer through a ring of 8 batch
 *   slots (one release store and one acquire load per batch on each
 *   side); the consumer checks the byte, writes one and frees the block.
 *   Every block is freed on another thread than the one that allocated
 *   it, so the allocator must be thread-safe and free single blocks (a
 *   bump allocator frees nothing and soon runs out). An operation is an
 *   allocation or a free; nothing is live at a reset, so
 *   [struct@BenchmarkResult]'s peak_bytes says little. Since: 0.1
 * @NEBULA_WORKLOAD_LARSON: blocks of 8 to 999 bytes (uniform, alignment
 *   8), as in the larson benchmark: 32 live blocks, then a random live
 *   block is freed and replaced by one of a new random size until the
 *   batch would pass 60 KiB (about 88 times); the rest is released by
 *   reset. Frees are out of order (a stack
 *   allocator refuses it) and sizes vary (a pool needs one block size for
 *   all: 1008 bytes; a [class@MultiPoolAllocator] has a class for each).
 *   With several threads, each thread runs its own sequence on the shared
 *   allocator. Since: 0.1
 *
 * The workloads of #NebulaBenchmark. Each runs in batches that end with
 * [method@Allocator.reset], which releases what is still live (costing next
 * to nothing when everything was freed already), so that allocators that
 * cannot free single blocks (bump) run every workload in a bounded
 * footprint: at most 64 KiB per batch, the default capacity of a
 * [class@BumpAllocator]. Operations are the allocations and frees of the
 * workload; the time of the resets is included.
 */
typedef enum
{
  NEBULA_WORKLOAD_SMALL_MIXED,
  NEBULA_WORKLOAD_FIXED_64,
  NEBULA_WORKLOAD_LIFO_FRAMES,
  NEBULA_WORKLOAD_REQUEST_RESPONSE,
  NEBULA_WORKLOAD_MIXED_LIFETIMES,
  NEBULA_WORKLOAD_REQUEST_ARENA,
  NEBULA_WORKLOAD_PRODUCER_CONSUMER,
  NEBULA_WORKLOAD_LARSON,
} NebulaWorkload;

/**
 * NebulaBenchmarkResult:
 * @workload: the workload that ran
 * @threads: how many threads ran it
 * @rounds: how many timed rounds ran
 * @ops: operations per round, all threads together
 * @ns_per_op_min: nanoseconds per operation in the fastest round
 * @ns_per_op_median: nanoseconds per operation in the median round
 * @peak_bytes: the largest #NebulaAllocator:bytes-used seen before a
 *   reset during the warm-up round (padding and memory a bump allocator
 *   cannot reuse included)
 * @threads_at_once: how many threads ran at once in the fastest round:
 *   their CPU time over the round's wall time (1.0 with one thread; near
 *   1.0 with two means they took turns on one core, and the time per
 *   operation is not the throughput of two)
 *
 * What [method@Benchmark.run] measured. With several threads, the time per
 * operation is wall time divided by the operations of all threads.
 */
typedef struct _NebulaBenchmarkResult NebulaBenchmarkResult;

struct _NebulaBenchmarkResult
{
  NebulaWorkload workload;
  guint          threads;
  guint          rounds;
  guint64        ops;
  double         ns_per_op_min;
  double         ns_per_op_median;
  guint64        peak_bytes;
  double         threads_at_once;
};

#define NEBULA_TYPE_BENCHMARK        (nebula_benchmark_get_type ())
#define NEBULA_TYPE_BENCHMARK_RESULT (nebula_benchmark_result_get_type ())

NEBULA_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (NebulaBenchmark, nebula_benchmark, NEBULA, BENCHMARK, GObject)

NEBULA_AVAILABLE_IN_0_1
NebulaBenchmark       *nebula_benchmark_new                  (NebulaWorkload               workload);
NEBULA_AVAILABLE_IN_0_1
NebulaBenchmarkResult *nebula_benchmark_run                  (NebulaBenchmark             *self,
                                                              NebulaAllocator             *allocator,
                                                              GError                     **error);
NEBULA_AVAILABLE_IN_0_1
NebulaWorkload         nebula_benchmark_get_workload         (NebulaBenchmark             *self);
NEBULA_AVAILABLE_IN_0_1
void                   nebula_benchmark_set_workload         (NebulaBenchmark             *self,
                                                              NebulaWorkload               workload);
NEBULA_AVAILABLE_IN_0_1
guint64                nebula_benchmark_get_iterations       (NebulaBenchmark             *self);
NEBULA_AVAILABLE_IN_0_1
void                   nebula_benchmark_set_iterations       (NebulaBenchmark             *self,
                                                              guint64                      iterations);
NEBULA_AVAILABLE_IN_0_1
guint                  nebula_benchmark_get_threads          (NebulaBenchmark             *self);
NEBULA_AVAILABLE_IN_0_1
void                   nebula_benchmark_set_threads          (NebulaBenchmark             *self,
                                                              guint                        threads);
NEBULA_AVAILABLE_IN_0_1
guint64                nebula_benchmark_get_seed             (NebulaBenchmark             *self);
NEBULA_AVAILABLE_IN_0_1
void                   nebula_benchmark_set_seed             (NebulaBenchmark             *self,
                                                              guint64                      seed);
NEBULA_AVAILABLE_IN_0_1
guint                  nebula_benchmark_get_rounds           (NebulaBenchmark             *self);
NEBULA_AVAILABLE_IN_0_1
void                   nebula_benchmark_set_rounds           (NebulaBenchmark             *self,
                                                              guint                        rounds);
NEBULA_AVAILABLE_IN_0_1
gboolean               nebula_benchmark_get_inline_fast_path (NebulaBenchmark             *self);
NEBULA_AVAILABLE_IN_0_1
void                   nebula_benchmark_set_inline_fast_path (NebulaBenchmark             *self,
                                                              gboolean                     inline_fast_path);

NEBULA_AVAILABLE_IN_0_1
GType                  nebula_benchmark_result_get_type      (void) G_GNUC_CONST;
NEBULA_AVAILABLE_IN_0_1
NebulaBenchmarkResult *nebula_benchmark_result_copy          (const NebulaBenchmarkResult *result);
NEBULA_AVAILABLE_IN_0_1
void                   nebula_benchmark_result_free          (NebulaBenchmarkResult       *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NebulaBenchmarkResult, nebula_benchmark_result_free)

G_END_DECLS
