/* bench-peers.h: what nebula-bench measures, and how a row is kept
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A target is one row of the report: a floor, a peer (each driven here
 * through its own API, bench-peers.c) or one of Nebula's allocators (run
 * through NebulaBenchmark, bench-runner.c). Its cells hold one result a
 * workload.
 */

#pragma once

#include <glib.h>

#include "nebula-benchmark-private.h"
#include "nebula-bench-floor.h"

G_BEGIN_DECLS

#define N_WORKLOADS NEBULA_BENCH_N_WORKLOADS

typedef struct
{
  gboolean  ran;
  char     *error;         /* why it did not run, or NULL */
  double    ns_min;
  double    ns_median;
  double    at_once;       /* threads that ran at once in the fastest round */
  guint64   ops;
  guint64   peak_bytes;    /* 0: not known */
} Cell;

typedef enum { KIND_FLOOR, KIND_NEBULA, KIND_PEER } TargetKind;

typedef struct _Target Target;

/* One thread's share of a floor's or a peer's run. */
typedef struct
{
  NebulaBenchTrace     trace;
  gpointer             slots[NEBULA_BENCH_MAX_SLOTS];
  guint64              passes;
  guint                index;
  guint                rounds;
  NebulaBenchBarrier  *barrier;
  NebulaBenchHandoff  *handoff;      /* producer/consumer: the pair's ring */
  gboolean             consumer;     /* producer/consumer: this side frees */
  guint64              batches;      /* producer/consumer: per pass */
  NebulaBenchClock    *clock;
  const Target        *target;
  gpointer             context;
  gboolean             failed;
  char                *why;          /* set up failed: why */
} Worker;

typedef gboolean (*SetupFunc)    (Worker *worker, char **why);
typedef void     (*TeardownFunc) (Worker *worker);
typedef gboolean (*PassFunc)     (Worker *worker);
typedef void     (*RoundFunc)    (Worker *worker);

struct _Target
{
  const char   *name;
  TargetKind    kind;
  const char   *description;
  /* floors and peers */
  SetupFunc     setup;
  TeardownFunc  teardown;
  PassFunc      pass;
  gboolean      shared_needs_thread_safety;
  gboolean      cross_thread_frees;  /* a block may be freed on another thread */
  RoundFunc     round_reset;   /* or NULL: run by every thread before each timed
                                * round, when no thread runs a pass */
  /* Nebula: the short type name and whether to use the inline path */
  const char   *nebula_type;
  gboolean      nebula_inline;
  gboolean      nebula_no_stats;
  gboolean      nebula_thread_safe;
  gboolean      nebula_unchecked;   /* check-frees off */
  gboolean      nebula_performance; /* the PERFORMANCE preset */
  gboolean      nebula_single_thread; /* thread-safe off: one thread only */
  /* absent at configure time, or failed to load */
  const char   *absent;
  gboolean      selected;      /* by --allocator, or no filter */
  Cell          cells[N_WORKLOADS];
};

/* The trivial bump over a preallocated buffer that the floors measure;
 * the dispatch micro-benchmark runs it too. */
typedef struct
{
  NebulaBenchFloor  floor;
  guint8           *buffer;
} FloorContext;

FloorContext *nebula_bench_floor_context_new   (gsize          size);
void          nebula_bench_floor_context_free  (FloorContext  *context);

/* Every target, in the report's order; the table is shared by the
 * runner (which fills the cells) and the printers. */
extern Target       nebula_bench_targets[];
extern const guint  nebula_bench_n_targets;

Target       *nebula_bench_find_target         (const char    *name);

/* Set-up and tear-down of the peers' libraries for the whole run. */
void          nebula_bench_peers_init          (void);
void          nebula_bench_peers_shutdown      (void);

G_END_DECLS
