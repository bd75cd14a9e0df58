/* fuzz-common.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The machinery shared by the allocator fuzz targets: an input reader, a
 * reference model of the live blocks and the statistics, and an
 * interpreter that turns the input into a sequence of operations and checks
 * each result against the model. A target (fuzz-bump.c, fuzz-system.c, ...)
 * only says how to build its allocator from the input, which failures its
 * allocator may have, and its own extra operations.
 */

#pragma once

#include <stdio.h>
#include <stdlib.h>

#include <nebula.h>

G_BEGIN_DECLS

/* A mismatch with the model: libFuzzer reports the abort with the input. */
#define FUZZ_CHECK(condition)                                                       \
  G_STMT_START {                                                                    \
    if (G_UNLIKELY (!(condition)))                                                  \
      fuzz_fail (__FILE__, __LINE__, #condition);                                   \
  } G_STMT_END

G_NORETURN void fuzz_fail (const char *file,
                           int         line,
                           const char *condition);

typedef struct
{
  const guint8 *data;
  gsize         size;
} FuzzInput;

guint8   fuzz_byte      (FuzzInput *input);
guint64  fuzz_u64       (FuzzInput *input);
gboolean fuzz_exhausted (FuzzInput *input);

typedef struct
{
  guint8  *ptr;
  gsize    size;
  gsize    alignment;
  guint64  seq;          /* order of allocation (reallocation renews it) */
  guint    end;          /* which stack of a LIFO allocator: 0, or 1 for a stack's high end */
} FuzzBlock;

typedef struct _FuzzTarget FuzzTarget;
typedef struct _FuzzState  FuzzState;

struct _FuzzState
{
  const FuzzTarget     *target;
  FuzzInput            *input;
  NebulaAllocator      *alloc;
  gpointer              target_data;

  /* The model. */
  GArray               *blocks;      /* FuzzBlock, the live ones */
  guint64               next_seq;
  gboolean              track_stats;
  NebulaAllocatorStats  stats;
  guint                 n_ops;

  /* What the allocator promises, set by the target's create(). */
  gsize                 max_request;      /* largest valid size to ask for */
  gsize                 max_alignment;    /* largest valid alignment to ask for */
  gboolean              bounded;          /* never serves more than bytes-available */
  gboolean              checks_pointers;  /* foreign pointers are errors; owns() knows blocks */
  gboolean              owns_interior;    /* owns() is TRUE inside a block, not just at its start */
  gboolean              checks_double_free;
  gint                  double_free_code;  /* its error code; 0: INVALID_POINTER */
  gboolean              reset_frees;
  gboolean              lifo;             /* only the newest block of its end may be freed
                                           * or resized: others are OUT_OF_ORDER */
};

struct _FuzzTarget
{
  const char *name;

  /* Builds the allocator from the first bytes of the input and sets the
   * promises in @state; NULL skips the input (an invalid configuration,
   * checked by the target itself). */
  NebulaAllocator *(*create)       (FuzzState *state);
  void             (*destroy)      (FuzzState *state);

  /* A valid request failed with @error: is that allowed, given the space
   * reported before the call? */
  gboolean         (*may_fail)     (FuzzState    *state,
                                    gsize         size,
                                    gsize         alignment,
                                    guint64       available_before,
                                    const GError *error);

  /* Called after every operation that may move the allocator's position
   * backwards or free blocks in bulk: DEALLOCATE, shrinking REALLOCATE,
   * RESET. May be NULL. */
  void             (*on_rewind)    (FuzzState *state,
                                    gboolean   reset);

  /* Called after every successful allocation, reallocation and free of
   * the common operations: @before is the block given back or resized
   * (NULL for an allocation), @after the block handed out (NULL for a
   * free). For targets that model their allocator's position. May be
   * NULL. */
  void             (*on_block)     (FuzzState       *state,
                                    const FuzzBlock *before,
                                    const FuzzBlock *after);

  /* Operations of the target's own (checkpoints, marks, frames, ...). */
  guint              n_extra_ops;
  void             (*extra_op)     (FuzzState *state,
                                    guint      op);
};

/* Runs one input against @target; aborts on any mismatch. */
int  fuzz_run (const FuzzTarget *target,
               const guint8     *data,
               gsize             size);

/* The libFuzzer entry point of a target: FUZZ_DEFINE_ENTRY_POINT (bump_target). */
#define FUZZ_DEFINE_ENTRY_POINT(target)                                             \
  int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);                      \
  int                                                                               \
  LLVMFuzzerTestOneInput (const guint8 *data,                                       \
                          gsize         size)                                       \
  {                                                                                 \
    return fuzz_run (&(target), data, size);                                        \
  }

/* For targets: the input's sizes and alignments, and the interface's
 * layout rules (the expected error code, or 0). */
gsize fuzz_read_size             (FuzzInput *input);
gsize fuzz_read_alignment        (FuzzInput *input);
gint  fuzz_expected_layout_error (gsize      size,
                                  gsize      alignment);

/* For targets built from pools (pool, multi-pool): checks that @alloc was
 * made and that its check-frees is @check_frees, and sets what a pool
 * promises: statistics as configured, foreign pointers, interior owns()
 * and double frees (DOUBLE_FREE) checked with check-frees, reset frees
 * everything. */
void     fuzz_expect_pool_checks  (FuzzState       *state,
                                   NebulaAllocator *alloc,
                                   gboolean         check_frees);

/* For targets: model helpers. */
void     fuzz_model_add_block     (FuzzState       *state,
                                   const FuzzBlock *block);
gboolean fuzz_model_is_top        (FuzzState       *state,
                                   guint            index);
void     fuzz_model_expect_error  (const GError    *error,
                                   gint             code);
void fuzz_model_drop_from_seq (FuzzState *state,
                               guint64    seq);
void fuzz_model_check_all     (FuzzState *state);
void fuzz_model_check_stats   (FuzzState *state);
void fuzz_model_settle_peak   (FuzzState *state);
void fuzz_model_live          (FuzzState *state,
                               guint64   *live_blocks,
                               guint64   *bytes_in_use);
void fuzz_model_count_rewind  (FuzzState *state,
                               guint64    live_blocks,
                               guint64    bytes_in_use);

G_END_DECLS
