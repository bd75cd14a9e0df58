/* bench-output.c: nebula-bench's report: the table, JSON, CSV and the
 * SVG chart, and the project's speed goals they close with
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nebula.h>

#include "bench-cache.h"
#include "bench-dispatch.h"
#include "bench-strings.h"
#include "bench-output.h"
#include "bench-simd.h"
#include "nebula-utils-private.h"

static Cell *
cell_of (const char          *target_name,
         NebulaBenchWorkload  workload)
{
  Target *target = nebula_bench_find_target (target_name);

  if (target == NULL || !target->cells[workload].ran)
    return NULL;
  return &target->cells[workload];
}

/* Geometric mean over the workloads both ran of a.ns / b.ns. */
static double
geomean_ratio (const char *a,
               const char *b)
{
  double log_sum = 0;
  guint n = 0;

  for (guint w = 0; w < N_WORKLOADS; w++)
    {
      Cell *x = cell_of (a, w), *y = cell_of (b, w);

      if (x == NULL || y == NULL)
        continue;
      log_sum += log (x->ns_min / y->ns_min);
      n++;
    }

  return n == 0 ? NAN : exp (log_sum / n);
}

static double
ratio (const char          *a,
       const char          *b,
       NebulaBenchWorkload  workload)
{
  Cell *x = cell_of (a, workload), *y = cell_of (b, workload);

  return x == NULL || y == NULL ? NAN : x->ns_min / y->ns_min;
}

static const char *
machine_cpu (void)
{
  static char *model;
  g_autofree char *contents = NULL;

  if (model != NULL)
    return model;

  if (g_file_get_contents ("/proc/cpuinfo", &contents, NULL, NULL))
    {
      char *line = strstr (contents, "model name");
      char *colon = line != NULL ? strchr (line, ':') : NULL;

      if (colon != NULL)
        {
          char *end = strchr (colon, '\n');
          model = g_strstrip (g_strndup (colon + 1, end != NULL ? (gsize) (end - colon - 1) : strlen (colon + 1)));
        }
    }
  if (model == NULL)
    model = g_strdup ("unknown");
  return model;
}

/* Room for every goal collect_goals() lists. */
#define MAX_GOALS 32

typedef struct
{
  const char *text;
  double      measured;
  double      limit;
  gboolean    at_most;    /* measured must be <= limit, else >= */
} Goal;

static const struct
{
  const char *peer;
  const char *text;
} two_thread_peers[] = {
  { "malloc", "thread-safe pool / malloc, two threads (fixed-64)" },
  { "jemalloc", "thread-safe pool / jemalloc, two threads (fixed-64)" },
  { "mimalloc", "thread-safe pool / mimalloc, two threads (fixed-64)" },
};

/* The goals before n_single are about one thread: in a run with more
 * threads the rows are shared, thread-safe allocators (see `--threads`), so
 * they are not measured there; the two-thread goals only with two. */
static guint
collect_goals (Goal *goals,
               int   threads)
{
  guint n = 0;
  guint n_single;

  goals[n++] = (Goal) { "bump-inline / floor-inline (geometric mean of workloads)",
                        geomean_ratio ("bump-inline", "floor-inline"), 1.10, TRUE };
  goals[n++] = (Goal) { "bump-inline / bumpalo (request-arena)",
                        ratio ("bump-inline", "bumpalo", NEBULA_BENCH_REQUEST_ARENA), 1.15, TRUE };
  goals[n++] = (Goal) { "bump-nostats / bumpalo (request-arena)",
                        ratio ("bump-nostats", "bumpalo", NEBULA_BENCH_REQUEST_ARENA), 1.00, TRUE };
  goals[n++] = (Goal) { "bump interface / floor-call (geometric mean of workloads)",
                        geomean_ratio ("bump", "floor-call"), 1.25, TRUE };
  goals[n++] = (Goal) { "malloc / bump-inline, speed-up (geometric mean)",
                        1.0 / geomean_ratio ("bump-inline", "malloc"), 3.0, FALSE };
  goals[n++] = (Goal) { "malloc / bump interface, speed-up (geometric mean)",
                        1.0 / geomean_ratio ("bump", "malloc"), 1.5, FALSE };
  goals[n++] = (Goal) { "pool-inline / floor-freelist (fixed-64)",
                        ratio ("pool-inline", "floor-freelist", NEBULA_BENCH_FIXED_64), 1.5, TRUE };
  goals[n++] = (Goal) { "pool-inline, PERFORMANCE / floor-freelist (fixed-64)",
                        ratio ("pool-inline-perf", "floor-freelist", NEBULA_BENCH_FIXED_64), 1.1,
                        TRUE };
  goals[n++] = (Goal) { "stack-inline / floor-inline (lifo-frames)",
                        ratio ("stack-inline", "floor-inline", NEBULA_BENCH_LIFO_FRAMES), 1.20, TRUE };
  goals[n++] = (Goal) { "stack-frame / bump-scope (request-arena)",
                        ratio ("stack-frame", "bump-scope", NEBULA_BENCH_REQUEST_ARENA), 1.5, TRUE };
  goals[n++] = (Goal) { "pool interface / floor-freelist-call (fixed-64)",
                        ratio ("pool", "floor-freelist-call", NEBULA_BENCH_FIXED_64), 1.25, TRUE };
  goals[n++] = (Goal) { "stack interface / floor-call (lifo-frames)",
                        ratio ("stack", "floor-call", NEBULA_BENCH_LIFO_FRAMES), 1.25, TRUE };
  goals[n++] = (Goal) { "malloc / pool-inline, speed-up (fixed-64)",
                        1.0 / ratio ("pool-inline", "malloc", NEBULA_BENCH_FIXED_64), 3.0, FALSE };
  goals[n++] = (Goal) { "malloc / stack-inline, speed-up (lifo-frames)",
                        1.0 / ratio ("stack-inline", "malloc", NEBULA_BENCH_LIFO_FRAMES), 3.0, FALSE };
  goals[n++] = (Goal) { "malloc / pool interface, speed-up (fixed-64)",
                        1.0 / ratio ("pool", "malloc", NEBULA_BENCH_FIXED_64), 1.5, FALSE };
  goals[n++] = (Goal) { "malloc / stack interface, speed-up (lifo-frames)",
                        1.0 / ratio ("stack", "malloc", NEBULA_BENCH_LIFO_FRAMES), 1.5, FALSE };
  goals[n++] = (Goal) { "thread-safe pool / pool, one thread (fixed-64)",
                        ratio ("pool-ts", "pool", NEBULA_BENCH_FIXED_64), 1.5, TRUE };
  goals[n++] = (Goal) { "system, check-frees off / malloc (geometric mean)",
                        geomean_ratio ("system-unchecked", "malloc"), 1.3, TRUE };
  goals[n++] = (Goal) { "system / malloc (geometric mean)",
                        geomean_ratio ("system", "malloc"), 2.0, TRUE };
  goals[n++] = (Goal) { "system interface / floor-malloc-call (geometric mean)",
                        geomean_ratio ("system", "floor-malloc-call"), 1.25, TRUE };
  n_single = n;
  goals[n++] = (Goal) { "malloc / thread-safe pool, speed-up (producer-consumer)",
                        1.0 / ratio ("pool-ts", "malloc", NEBULA_BENCH_PRODUCER_CONSUMER), 1.0,
                        FALSE };
  /* Two threads on one thread-safe pool, each with its own blocks, against
   * the mallocs' per-thread caches (issue 14). */
  for (guint p = 0; p < G_N_ELEMENTS (two_thread_peers); p++)
    goals[n++] = (Goal) { two_thread_peers[p].text,
                          threads == 2 ? ratio ("pool-ts", two_thread_peers[p].peer,
                                                NEBULA_BENCH_FIXED_64)
                                       : NAN,
                          1.0, TRUE };
  /* Two threads on one thread-safe bump against a plain bump per thread,
   * each holding a round (issue 14). */
  goals[n++] = (Goal) { "thread-safe bump / bump, two threads (geometric mean)",
                        threads == 2 ? geomean_ratio ("bump-shared", "bump-own") : NAN, 1.3,
                        TRUE };
  goals[n++] = (Goal) { "malloc / multipool, speed-up (larson)",
                        1.0 / ratio ("multipool", "malloc", NEBULA_BENCH_LARSON), 1.0, FALSE };
  goals[n++] = (Goal) { "multipool / mimalloc (larson)",
                        ratio ("multipool", "mimalloc", NEBULA_BENCH_LARSON), 1.3, TRUE };
  g_assert (n <= MAX_GOALS);

  if (threads != 1)
    for (guint i = 0; i < n_single; i++)
      goals[i].measured = NAN;
  return n;
}

static const char *
goal_verdict (const Goal *goal)
{
  if (isnan (goal->measured))
    return "not measured";
  if (goal->at_most ? goal->measured <= goal->limit : goal->measured >= goal->limit)
    return "met";
  return "MISSED";
}

/* A row of the tables: present in this build and selected by the run. */
static gboolean
target_reported (const Target *target)
{
  return target->absent == NULL && target->selected;
}

static void
print_column_heads (const BenchReport *report)
{
  printf ("%-20s", "allocator");
  for (guint w = 0; w < N_WORKLOADS; w++)
    if (report->workload_selected[w])
      printf (" %16s", nebula_bench_workload_name (w));
}

/* The targets are the project's own goals for its allocators (ratios to a
 * floor or to malloc, measured in this run); they say where the work
 * stands, and a MISSED one does not fail the run. */
static void
print_goals (const Goal *goals,
             guint       n_goals)
{
  guint n_unmeasured = 0, n_missed = 0;

  printf ("\ntargets: the project's speed goals, as ratios measured in this run "
          "(a goal not reached is MISSED;\nit does not fail the run; docs/performance.md "
          "says what each one means)\n");
  for (guint i = 0; i < n_goals; i++)
    {
      if (isnan (goals[i].measured))
        {
          n_unmeasured++;
          continue;
        }
      n_missed += g_str_equal (goal_verdict (&goals[i]), "MISSED");
      printf ("  %-58s %6.2f  (%s %.2f) %s\n", goals[i].text, goals[i].measured,
              goals[i].at_most ? "<=" : ">=", goals[i].limit, goal_verdict (&goals[i]));
    }
  printf ("  %u of %u goals met", n_goals - n_unmeasured - n_missed, n_goals - n_unmeasured);
  if (n_unmeasured > 0)
    printf ("; %u not measured (they need allocators, workloads or a --threads this run left out)",
            n_unmeasured);
  printf ("\n");
}

/* With several threads: whether they ran at once (their CPU time over
 * the wall time of each cell's fastest round), and the cells where they
 * did not: threads that took turns on one core, were descheduled on a
 * busy machine or slept on a lock. */
static void
print_threads_at_once (const BenchReport *report)
{
  double low = G_MAXDOUBLE, high = 0;
  g_autoptr(GString) turns = g_string_new (NULL);

  for (guint t = 0; t < nebula_bench_n_targets; t++)
    for (guint w = 0; w < N_WORKLOADS; w++)
      {
        const Target *target = &nebula_bench_targets[t];
        const Cell *cell = &target->cells[w];

        if (!report->workload_selected[w] || !target->selected || !cell->ran)
          continue;
        low = MIN (low, cell->at_once);
        high = MAX (high, cell->at_once);
        if (cell->at_once < 0.8 * report->threads)
          g_string_append_printf (turns, "\n  %s on %s: %.2f", target->name,
                                  nebula_bench_workload_name (w), cell->at_once);
      }
  if (high == 0)
    return;
  printf ("threads at once in each fastest round (CPU time over wall time; %d is all): %.2f to %.2f\n",
          report->threads, low, high);
  if (turns->len > 0)
    printf ("WARNING: not all threads were running in these (a busy machine, or a thread asleep "
            "on a lock):%s\n", turns->str);
  printf ("\n");
}

static void
print_speedups (const BenchReport *report)
{
  printf ("speed-up over glibc malloc (malloc ns / allocator ns; higher is better)\n");
  print_column_heads (report);
  printf ("\n");
  for (guint t = 0; t < nebula_bench_n_targets; t++)
    {
      Target *target = &nebula_bench_targets[t];

      if (!target_reported (target))
        continue;
      printf ("%-20s", target->name);
      for (guint w = 0; w < N_WORKLOADS; w++)
        if (report->workload_selected[w])
          {
            double r = ratio ("malloc", target->name, w);

            if (isnan (r))
              printf (" %16s", "n/a");
            else
              printf (" %15.2fx", r);
          }
      printf ("\n");
    }
  printf ("\n");
}

static void json_number (GString *out,
                         double   value);

/* The fastest peer's ns per string for @operation (NAN without one). */
static double
strings_fastest_peer (const char *operation)
{
  guint n_rows;
  const StringsRow *rows = nebula_bench_strings_rows (&n_rows);
  double best = NAN;

  for (guint i = 0; i < n_rows; i++)
    if (g_str_equal (rows[i].operation, operation) &&
        !g_str_has_prefix (rows[i].implementation, "nebula") &&
        (isnan (best) || rows[i].ns < best))
      best = rows[i].ns;
  return best;
}

static void
print_strings_table (void)
{
  guint n_rows;
  const StringsRow *rows = nebula_bench_strings_rows (&n_rows);

  if (n_rows == 0)
    return;

  printf ("\nstrings: batches of 1,000 short strings, then a reset (GLib: a free each);\n"
          "ns per string, and against the fastest peer\n");
  for (guint i = 0; i < n_rows; i++)
    printf ("  %-7s %-12s %7.2f  (%.2fx)\n", rows[i].operation, rows[i].implementation, rows[i].ns,
            rows[i].ns / strings_fastest_peer (rows[i].operation));
}

/* Closes the array before and opens "strings"; the caller closes it. */
static void
append_strings_json (GString *out)
{
  guint n_rows;
  const StringsRow *rows = nebula_bench_strings_rows (&n_rows);

  g_string_append (out, "\n  ],\n  \"strings\": [");
  for (guint i = 0; i < n_rows; i++)
    {
      g_string_append_printf (out, "%s\n    { \"operation\": \"%s\", \"implementation\": \"%s\", "
                              "\"ns_per_string\": ", i == 0 ? "" : ",", rows[i].operation,
                              rows[i].implementation);
      json_number (out, rows[i].ns);
      g_string_append (out, ", \"x_fastest_peer\": ");
      json_number (out, rows[i].ns / strings_fastest_peer (rows[i].operation));
      g_string_append (out, " }");
    }
}

static void
print_strings_csv (void)
{
  guint n_rows;
  const StringsRow *rows = nebula_bench_strings_rows (&n_rows);

  for (guint i = 0; i < n_rows; i++)
    printf ("strings,%s,%s,ok,,,%.4f,,,\n", rows[i].implementation, rows[i].operation, rows[i].ns);
}

void
nebula_bench_print_table (const BenchReport *report)
{
  guint n_dispatch_rows, n_simd_rows;
  const DispatchRow *dispatch_rows = nebula_bench_dispatch_rows (&n_dispatch_rows);
  const SimdRow *simd_rows = nebula_bench_simd_rows (&n_simd_rows);
  Goal goals[MAX_GOALS];
  guint n_goals;

  printf ("nebula-bench %s: %d thread%s, >= %" G_GUINT64_FORMAT " ops per round and thread, "
          "%u rounds, seed %" G_GINT64_FORMAT "\n",
          PACKAGE_VERSION, report->threads, report->threads == 1 ? "" : "s", report->iterations,
          report->rounds, report->seed);
  printf ("machine: %s, %ld cores; SIMD: %s\n\n", machine_cpu (), sysconf (_SC_NPROCESSORS_ONLN),
          nebula_memory_get_implementation ());

  if (!report->simd_only)
    {
      printf ("ns per operation, best of %u rounds (lower is better; medians are in --format json/csv)\n",
              report->rounds);
      print_column_heads (report);
      printf (" %9s %9s\n", "x floor", "x malloc");

      for (guint t = 0; t < nebula_bench_n_targets; t++)
        {
          Target *target = &nebula_bench_targets[t];

          if (!target_reported (target))
            continue;
          printf ("%-20s", target->name);
          for (guint w = 0; w < N_WORKLOADS; w++)
            {
              if (!report->workload_selected[w])
                continue;
              if (target->cells[w].ran)
                printf (" %16.2f", target->cells[w].ns_min);
              else
                printf (" %16s", "n/a");
            }
          for (int col = 0; col < 2; col++)
            {
              double r = geomean_ratio (target->name, col == 0 ? "floor-inline" : "malloc");

              if (isnan (r))
                printf (" %9s", "-");
              else
                printf (" %9.2f", r);
            }
          printf ("\n");
        }
      printf ("(x floor, x malloc: geometric mean over the workloads of ns/op divided by\n"
              " floor-inline's and malloc's; below 1 is faster than malloc)\n\n");
      if (report->threads > 1)
        print_threads_at_once (report);

      if (!nebula_bench_find_target ("malloc")->selected)
        printf ("(no speed-ups over malloc: add malloc to --allocator to see them)\n\n");
      else
        print_speedups (report);

      for (guint t = 0; t < nebula_bench_n_targets; t++)
        {
          Target *target = &nebula_bench_targets[t];

          if (!target->selected)
            continue;
          if (target->absent != NULL)
            {
              printf ("absent: %s: %s\n", target->name, target->absent);
              continue;
            }
          for (guint w = 0; w < N_WORKLOADS; w++)
            if (report->workload_selected[w] && target->cells[w].error != NULL)
              printf ("n/a: %s on %s: %s\n", target->name, nebula_bench_workload_name (w),
                      target->cells[w].error);
        }

      if (n_dispatch_rows > 0)
        {
          printf ("\ndispatch: a 64-byte allocation and its free, repeated (ns per call; the\n"
                  "compiler may fold an inline pair, so this is for the exported paths)\n");
          for (guint i = 0; i < n_dispatch_rows; i++)
            printf ("  %-14s %6.2f  (%.2fx floor-call)\n", dispatch_rows[i].name, dispatch_rows[i].ns,
                    dispatch_rows[i].ns / nebula_bench_dispatch_ns ("floor-call"));
        }

      print_strings_table ();

      n_goals = collect_goals (goals, report->threads);
      print_goals (goals, n_goals);
    }

  if (n_simd_rows > 0)
    {
      for (int copy = 1; copy >= 0; copy--)
        {
          if (copy)
            printf ("\nnebula_memory_copy vs memcpy, GB/s (higher is better; nebula = the public\n"
                    "function: its own loop from %" G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT
                    " bytes, the C library elsewhere)\n", NEBULA_SIMD_COPY_MIN, NEBULA_SIMD_COPY_MAX);
          else
            printf ("\nnebula_memory_fill vs memset, GB/s (higher is better; nebula = the public\n"
                    "function: %s)\n", NEBULA_SIMD_FILL_WITH_LIBC ? "the C library's memset at every size"
                                                                   : "its own loops at every size");
          printf ("%10s", "bytes");
          for (SimdImpl impl = 0; impl < N_SIMD; impl++)
            printf (" %9s", nebula_bench_simd_name (impl));
          printf ("  fastest\n");
          for (guint i = 0; i < n_simd_rows; i++)
            {
              const double *gbs = copy ? simd_rows[i].copy_gbs : simd_rows[i].fill_gbs;
              SimdImpl best = SIMD_GLIBC;

              printf ("%10" G_GSIZE_FORMAT, simd_rows[i].size);
              for (SimdImpl impl = 0; impl < N_SIMD; impl++)
                {
                  if (gbs[impl] == 0)
                    printf (" %9s", "-");
                  else
                    printf (" %9.1f", gbs[impl]);
                  if (gbs[impl] > gbs[best])
                    best = impl;
                }
              printf ("  %s\n", nebula_bench_simd_name (best));
            }
        }
    }

  nebula_bench_cache_print_table ();
}

static void
json_string (GString    *out,
             const char *s)
{
  g_string_append_c (out, '"');
  for (; *s != '\0'; s++)
    {
      if (*s == '"' || *s == '\\')
        g_string_append_printf (out, "\\%c", *s);
      else if ((guchar) *s < 0x20)
        g_string_append_printf (out, "\\u%04x", *s);
      else
        g_string_append_c (out, *s);
    }
  g_string_append_c (out, '"');
}

static void
json_number (GString *out,
             double   value)
{
  if (isnan (value) || isinf (value))
    g_string_append (out, "null");
  else
    g_string_append_printf (out, "%.4f", value);
}

void
nebula_bench_print_json (const BenchReport *report)
{
  guint n_dispatch_rows, n_simd_rows;
  const DispatchRow *dispatch_rows = nebula_bench_dispatch_rows (&n_dispatch_rows);
  const SimdRow *simd_rows = nebula_bench_simd_rows (&n_simd_rows);
  g_autoptr(GString) out = g_string_new ("{\n");
  Goal goals[MAX_GOALS];
  guint n_goals = collect_goals (goals, report->threads);
  gboolean first = TRUE;

  g_string_append_printf (out, "  \"version\": \"%s\",\n  \"threads\": %d,\n  \"iterations\": %"
                          G_GUINT64_FORMAT ",\n  \"rounds\": %u,\n  \"seed\": %" G_GINT64_FORMAT ",\n",
                          PACKAGE_VERSION, report->threads, report->iterations, report->rounds, report->seed);
  g_string_append (out, "  \"machine\": { \"cpu\": ");
  json_string (out, machine_cpu ());
  g_string_append_printf (out, ", \"cores\": %ld, \"simd\": \"%s\" },\n",
                          sysconf (_SC_NPROCESSORS_ONLN), nebula_memory_get_implementation ());
  nebula_bench_cache_append_json (out);

  g_string_append (out, "  \"results\": [");
  for (guint t = 0; t < nebula_bench_n_targets; t++)
    for (guint w = 0; w < N_WORKLOADS; w++)
      {
        Target *target = &nebula_bench_targets[t];
        Cell *cell = &target->cells[w];

        if (!report->workload_selected[w] || report->simd_only || !target->selected)
          continue;
        g_string_append (out, first ? "\n    { \"allocator\": " : ",\n    { \"allocator\": ");
        first = FALSE;
        json_string (out, target->name);
        g_string_append_printf (out, ", \"workload\": \"%s\", ", nebula_bench_workload_name (w));
        if (target->absent != NULL || !cell->ran)
          {
            g_string_append (out, "\"status\": ");
            json_string (out, target->absent != NULL ? target->absent : cell->error);
            g_string_append (out, " }");
            continue;
          }
        g_string_append_printf (out, "\"status\": \"ok\", \"ops\": %" G_GUINT64_FORMAT ", \"ns_per_op_min\": ",
                                cell->ops);
        json_number (out, cell->ns_min);
        g_string_append (out, ", \"ns_per_op_median\": ");
        json_number (out, cell->ns_median);
        g_string_append (out, ", \"threads_at_once\": ");
        json_number (out, cell->at_once);
        g_string_append_printf (out, ", \"peak_bytes\": %" G_GUINT64_FORMAT ", \"x_floor\": ", cell->peak_bytes);
        json_number (out, ratio (target->name, "floor-inline", w));
        g_string_append (out, ", \"x_malloc\": ");
        json_number (out, ratio (target->name, "malloc", w));
        g_string_append (out, " }");
      }
  g_string_append (out, "\n  ],\n  \"dispatch\": [");
  for (guint i = 0; i < n_dispatch_rows; i++)
    {
      g_string_append_printf (out, "%s\n    { \"allocator\": \"%s\", \"ns_per_call\": ",
                              i == 0 ? "" : ",", dispatch_rows[i].name);
      json_number (out, dispatch_rows[i].ns);
      g_string_append (out, " }");
    }
  append_strings_json (out);
  g_string_append (out, "\n  ],\n  \"targets\": [");
  for (guint i = 0; i < n_goals && !report->simd_only; i++)
    {
      g_string_append (out, i == 0 ? "\n    { \"target\": " : ",\n    { \"target\": ");
      json_string (out, goals[i].text);
      g_string_append (out, ", \"measured\": ");
      json_number (out, goals[i].measured);
      g_string_append_printf (out, ", \"limit\": %.2f, \"verdict\": \"%s\" }", goals[i].limit,
                              goal_verdict (&goals[i]));
    }
  g_string_append (out, "\n  ],\n  \"simd\": [");
  for (guint i = 0; i < n_simd_rows; i++)
    {
      g_string_append_printf (out, "%s\n    { \"bytes\": %" G_GSIZE_FORMAT, i == 0 ? "" : ",", simd_rows[i].size);
      for (SimdImpl impl = 0; impl < N_SIMD; impl++)
        {
          g_string_append_printf (out, ", \"copy_%s_gbs\": ", nebula_bench_simd_name (impl));
          json_number (out, simd_rows[i].copy_gbs[impl] == 0 ? NAN : simd_rows[i].copy_gbs[impl]);
          g_string_append_printf (out, ", \"fill_%s_gbs\": ", nebula_bench_simd_name (impl));
          json_number (out, simd_rows[i].fill_gbs[impl] == 0 ? NAN : simd_rows[i].fill_gbs[impl]);
        }
      g_string_append (out, " }");
    }
  g_string_append (out, "\n  ]\n}\n");
  fputs (out->str, stdout);
}

void
nebula_bench_print_csv (const BenchReport *report)
{
  guint n_dispatch_rows, n_simd_rows;
  const DispatchRow *dispatch_rows = nebula_bench_dispatch_rows (&n_dispatch_rows);
  const SimdRow *simd_rows = nebula_bench_simd_rows (&n_simd_rows);

  printf ("section,allocator,workload,status,ops,ns_per_op_min,ns_per_op_median,peak_bytes,x_floor,x_malloc\n");
  nebula_bench_cache_print_csv ();
  for (guint t = 0; t < nebula_bench_n_targets && !report->simd_only; t++)
    for (guint w = 0; w < N_WORKLOADS; w++)
      {
        Target *target = &nebula_bench_targets[t];
        Cell *cell = &target->cells[w];

        if (!report->workload_selected[w] || !target->selected)
          continue;
        if (target->absent != NULL || !cell->ran)
          {
            g_autofree char *status = g_strdup (target->absent != NULL ? target->absent : cell->error);

            g_strdelimit (status, ",\"\n", ';');
            printf ("allocators,%s,%s,%s,,,,,,\n", target->name, nebula_bench_workload_name (w), status);
            continue;
          }
        printf ("allocators,%s,%s,ok,%" G_GUINT64_FORMAT ",%.4f,%.4f,%" G_GUINT64_FORMAT ",%.4f,%.4f\n",
                target->name, nebula_bench_workload_name (w), cell->ops, cell->ns_min, cell->ns_median,
                cell->peak_bytes, ratio (target->name, "floor-inline", w), ratio (target->name, "malloc", w));
      }
  for (guint i = 0; i < n_dispatch_rows; i++)
    printf ("dispatch,%s,alloc-free-64,ok,,,%.4f,,%s,\n", dispatch_rows[i].name, dispatch_rows[i].ns, "");
  print_strings_csv ();
  for (guint i = 0; i < n_simd_rows; i++)
    for (SimdImpl impl = 0; impl < N_SIMD; impl++)
      if (simd_rows[i].copy_gbs[impl] > 0)
        printf ("simd,%s,copy-%" G_GSIZE_FORMAT ",ok,,,%.4f,,,\nsimd,%s,fill-%" G_GSIZE_FORMAT ",ok,,,%.4f,,,\n",
                nebula_bench_simd_name (impl), simd_rows[i].size, simd_rows[i].size / simd_rows[i].copy_gbs[impl],
                nebula_bench_simd_name (impl), simd_rows[i].size, simd_rows[i].size / simd_rows[i].fill_gbs[impl]);
}

/* ------------------------------------------------------------------ */
/* The chart: one panel per workload, a horizontal bar per allocator,   */
/* speed-up over glibc malloc on a log scale (a bar to the right of the */
/* malloc line is faster than malloc).                                  */

static const char *
bar_colour (const Target *target)
{
  switch (target->kind)
    {
    case KIND_FLOOR:
      return "#9aa0a6";
    case KIND_NEBULA:
      return target->nebula_inline ? "#1a73e8" : "#4f9cf9";
    case KIND_PEER:
    default:
      /* A Nebula allocator driven by the tool itself (bump-batch,
       * bump-scope, stack-frame). */
      if (g_str_has_prefix (target->name, "bump-") || g_str_has_prefix (target->name, "stack-"))
        return "#1a73e8";
      return g_str_equal (target->name, "malloc") ? "#d93025" : "#f29900";
    }
}

gboolean
nebula_bench_write_plot (const BenchReport  *report,
                         const char         *path,
                         GError            **error)
{
  g_autoptr(GString) svg = g_string_new (NULL);
  const double label_width = 130, plot_width = 560, bar_height = 16, gap = 4;
  const double left = label_width + 20, top = 70;
  double y = top, min_ratio = 0.5, max_ratio = 2;
  guint n_rows = 0, n_panels = 0;
  double height, x_one;

  for (guint w = 0; w < N_WORKLOADS; w++)
    {
      if (!report->workload_selected[w])
        continue;
      n_panels++;
      for (guint t = 0; t < nebula_bench_n_targets; t++)
        {
          double r = ratio ("malloc", nebula_bench_targets[t].name, w);

          if (isnan (r) || r <= 0)
            continue;
          n_rows++;
          min_ratio = MIN (min_ratio, r);
          max_ratio = MAX (max_ratio, r);
        }
    }

  /* Whole decades, so the grid reads 0.1, 1, 10, 100. */
  min_ratio = pow (10, floor (log10 (min_ratio)));
  max_ratio = pow (10, ceil (log10 (max_ratio)));
#define X_OF(r) (left + plot_width * (log10 (r) - log10 (min_ratio)) / (log10 (max_ratio) - log10 (min_ratio)))
  x_one = X_OF (1.0);
  height = top + n_rows * (bar_height + gap) + n_panels * 34 + 60;

  g_string_append_printf (svg,
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                          "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
                          "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                          "<text x=\"%.0f\" y=\"24\" font-size=\"16\" font-weight=\"bold\">"
                          "Speed-up over glibc malloc (higher is better, log scale)</text>\n"
                          "<text x=\"%.0f\" y=\"44\" fill=\"#555\">nebula-bench %s, %d thread%s, "
                          "best of rounds; %s</text>\n",
                          left + plot_width + 80, height, 10.0, 10.0, PACKAGE_VERSION, report->threads,
                          report->threads == 1 ? "" : "s", machine_cpu ());

  for (guint w = 0; w < N_WORKLOADS; w++)
    {
      double panel_top;

      if (!report->workload_selected[w])
        continue;

      y += 24;
      g_string_append_printf (svg, "<text x=\"10\" y=\"%.0f\" font-weight=\"bold\">%s</text>\n",
                              y - 6, nebula_bench_workload_name (w));
      panel_top = y;

      for (guint t = 0; t < nebula_bench_n_targets; t++)
        {
          const Target *target = &nebula_bench_targets[t];
          double r = ratio ("malloc", target->name, w);
          Cell *cell = cell_of (target->name, w);
          double x0 = MIN (x_one, X_OF (r)), x1 = MAX (x_one, X_OF (r));

          if (isnan (r) || r <= 0 || cell == NULL)
            continue;
          g_string_append_printf (svg,
                                  "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n"
                                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\">"
                                  "<title>%s: %.2f ns/op, %.2fx malloc</title></rect>\n"
                                  "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333\" font-size=\"11\">%.2fx (%.1f ns)</text>\n",
                                  left - 8, y + bar_height - 4, target->name,
                                  x0, y, MAX (x1 - x0, 1.0), bar_height, bar_colour (target),
                                  target->description, cell->ns_min, r,
                                  x1 + 4, y + bar_height - 4, r, cell->ns_min);
          y += bar_height + gap;
        }

      g_string_append_printf (svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "stroke=\"#d93025\" stroke-dasharray=\"3,3\"/>\n",
                              x_one, panel_top - 4, x_one, y);
      y += 10;
    }

  /* The axis. */
  for (double tick = min_ratio; tick <= max_ratio * 1.001; tick *= 10)
    g_string_append_printf (svg,
                            "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ddd\"/>\n"
                            "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#555\">%gx</text>\n",
                            X_OF (tick), top, X_OF (tick), y, X_OF (tick), y + 16, tick);
  g_string_append_printf (svg,
                          "<text x=\"%.0f\" y=\"%.0f\" fill=\"#555\">blue: Nebula (dark: inline fast path); "
                          "grey: floors; red: glibc malloc; orange: other peers</text>\n</svg>\n",
                          left, y + 38);
#undef X_OF

  return g_file_set_contents (path, svg->str, svg->len, error);
}

