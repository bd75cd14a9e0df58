/* nebula-bench.c: Nebula's allocators against the floors and their peers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The command line and the order of the run: the allocator comparison
 * (bench-runner.c, with the floors and peers of bench-peers.c), the
 * dispatch micro-benchmark (bench-dispatch.c), the copy/fill comparison
 * (bench-simd.c) and the compute caches (bench-cache.c), then the report
 * (bench-output.c). Progress goes to stderr, the report to stdout.
 */

#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include <nebula.h>

#include "bench-cache.h"
#include "bench-dispatch.h"
#include "bench-memory.h"
#include "bench-output.h"
#include "bench-peers.h"
#include "bench-runner.h"
#include "bench-simd.h"
#include "bench-strings.h"

/* ------------------------------------------------------------------ */
/* Options                                                             */

typedef enum { FORMAT_TABLE, FORMAT_JSON, FORMAT_CSV } Format;

static Format   opt_format = FORMAT_TABLE;
static char    *opt_plot;
static gboolean opt_quick;
static gboolean opt_simd_only;
static gboolean opt_no_simd;
static gboolean opt_cache_only;
static char *opt_trace;
static int      opt_threads = 1;
static gint64   opt_iterations;
static int      opt_rounds;
static gint64   opt_seed = 42;
static char    *opt_workloads;
static char    *opt_allocators;
static gboolean opt_quiet;
static gboolean opt_list;
static gboolean progress_enabled;

/* Progress goes to stderr, so that stdout stays the report: a rewritten
 * line on a terminal, otherwise one line as each allocator starts (a run
 * takes 12 to 20 s, and a log should show it is moving). */
static void
progress (guint       done,
          guint       total,
          const char *what)
{
  if (progress_enabled)
    {
      fprintf (stderr, "\r\033[K[%u/%u] %s", done, total, what);
      if (done == total)
        fprintf (stderr, "\r\033[K");
      fflush (stderr);
    }
}

static void
progress_line (const char *what)
{
  if (!progress_enabled && !opt_quiet)
    fprintf (stderr, "nebula-bench: %s\n", what);
}

static gboolean
parse_format_cb (const char  *option_name,
                 const char  *value,
                 gpointer     data,
                 GError     **error)
{
  if (g_str_equal (value, "table"))
    opt_format = FORMAT_TABLE;
  else if (g_str_equal (value, "json"))
    opt_format = FORMAT_JSON;
  else if (g_str_equal (value, "csv"))
    opt_format = FORMAT_CSV;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--format must be table, json or csv, not '%s'", value);
      return FALSE;
    }
  return TRUE;
}

static gboolean
name_listed (const char *list,
             const char *name)
{
  g_auto(GStrv) names = NULL;

  if (list == NULL)
    return TRUE;
  names = g_strsplit (list, ",", -1);
  return g_strv_contains ((const char * const *) names, name);
}

static GStrv
allocator_names (void)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint t = 0; t < nebula_bench_n_targets; t++)
    g_strv_builder_add (builder, nebula_bench_targets[t].name);
  return g_strv_builder_end (builder);
}

static GStrv
workload_names (void)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint w = 0; w < N_WORKLOADS; w++)
    g_strv_builder_add (builder, nebula_bench_workload_name (w));
  return g_strv_builder_end (builder);
}

/* Every name in @list (comma-separated) must be one of @valid: a typo
 * would otherwise measure nothing and still exit 0. */
static gboolean
check_names (const char         *option,
             const char         *list,
             const char * const *valid,
             GError            **error)
{
  g_auto(GStrv) names = NULL;

  if (list == NULL)
    return TRUE;
  names = g_strsplit (list, ",", -1);
  for (guint i = 0; names[i] != NULL; i++)
    if (!g_strv_contains (valid, names[i]))
      {
        g_autofree char *choices = g_strjoinv (", ", (char **) valid);

        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     "%s: unknown name '%s'; the names are: %s", option, names[i], choices);
        return FALSE;
      }
  return TRUE;
}

static void
print_list (void)
{
  printf ("allocators:\n");
  for (guint t = 0; t < nebula_bench_n_targets; t++)
    printf ("  %-20s %s%s%s\n", nebula_bench_targets[t].name, nebula_bench_targets[t].description,
            nebula_bench_targets[t].absent != NULL ? "; absent: " : "",
            nebula_bench_targets[t].absent != NULL ? nebula_bench_targets[t].absent : "");
  printf ("workloads:\n");
  for (guint w = 0; w < N_WORKLOADS; w++)
    printf ("  %s%s\n", nebula_bench_workload_name (w),
            w == NEBULA_BENCH_PRODUCER_CONSUMER
              ? " (only when named with -w; threads in pairs, so an even --threads)" : "");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_CALLBACK, parse_format_cb, "Output format: table (default), json or csv", "FORMAT" },
    { "plot", 'p', 0, G_OPTION_ARG_FILENAME, &opt_plot, "Also write a bar chart to FILE.svg", "FILE.svg" },
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick, "A smoke run of a few seconds", NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &opt_threads, "Threads sharing each allocator (default 1); with --cache, the threads its thread rows compare with one (default 2)", "N" },
    { "iterations", 'n', 0, G_OPTION_ARG_INT64, &opt_iterations, "Operations per round and thread", "N" },
    { "rounds", 'r', 0, G_OPTION_ARG_INT, &opt_rounds, "Timed rounds (default 15)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &opt_seed, "Seed of the request sequences (default 42)", "N" },
    { "workload", 'w', 0, G_OPTION_ARG_STRING, &opt_workloads, "Only these workloads (comma-separated)", "NAMES" },
    { "allocator", 'a', 0, G_OPTION_ARG_STRING, &opt_allocators, "Only these allocators (comma-separated)", "NAMES" },
    { "simd", 0, 0, G_OPTION_ARG_NONE, &opt_simd_only, "Only the copy/fill comparison with glibc", NULL },
    { "no-simd", 0, 0, G_OPTION_ARG_NONE, &opt_no_simd, "Skip the copy/fill comparison", NULL },
    { "cache", 0, 0, G_OPTION_ARG_NONE, &opt_cache_only, "Only the compute-cache workloads", NULL },
    { "trace", 0, 0, G_OPTION_ARG_FILENAME, &opt_trace, "With --cache: replay FILE (one key per line) instead of the Zipf trace", "FILE" },
    { "list", 'l', 0, G_OPTION_ARG_NONE, &opt_list, "List the allocators and workloads, and exit", NULL },
    { "quiet", 0, 0, G_OPTION_ARG_NONE, &opt_quiet, "No progress lines on stderr", NULL },
    { NULL }
  };
  BenchReport report = { 0 };
  guint total = 0, done = 0;

  g_auto(GStrv) all_allocators = allocator_names ();
  g_auto(GStrv) all_workloads = workload_names ();
  g_autofree char *allocator_list = g_strjoinv (", ", all_allocators);
  g_autofree char *workload_list = g_strjoinv (", ", all_workloads);
  g_autofree char *summary = NULL;

  context = g_option_context_new ("- compare Nebula's allocators with the floors and with other allocators");
  summary = g_strdup_printf ("Allocators: %s.\nWorkloads: %s.\n"
                             "--list describes each; --plot FILE.svg also draws a bar chart.",
                             allocator_list, workload_list);
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      !check_names ("--allocator", opt_allocators, (const char * const *) all_allocators, &error) ||
      !check_names ("--workload", opt_workloads, (const char * const *) all_workloads, &error) ||
      (opt_trace != NULL && !nebula_bench_cache_zipf_set_trace (opt_trace, &error)))
    {
      g_printerr ("nebula-bench: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("nebula-bench: unexpected argument '%s' (see --help)\n", argv[1]);
      return 2;
    }
  if (opt_threads < 1 || opt_threads > 256 || opt_iterations < 0 || opt_rounds < 0 || opt_rounds > 1000)
    {
      g_printerr ("nebula-bench: --threads must be 1..256, --rounds 1..1000, --iterations positive\n");
      return 2;
    }
  if (opt_list)
    {
      print_list ();
      return 0;
    }

  report.iterations = opt_iterations > 0 ? (guint64) opt_iterations : opt_quick ? 20000 : 200000;
  report.rounds = opt_rounds > 0 ? (guint) opt_rounds : opt_quick ? 2 : 15;
  report.threads = opt_threads;
  report.seed = opt_seed;
  progress_enabled = isatty (STDERR_FILENO);
  /* --cache: no allocator comparison (as with --simd), no copy/fill; -t N
   * sets the threads its thread rows compare with one (2 by default). */
  if (opt_cache_only)
    opt_simd_only = opt_no_simd = TRUE;
  if (opt_threads > 1)
    nebula_bench_cache_zipf_set_threads ((guint) opt_threads);
  report.simd_only = opt_simd_only;

  /* producer-consumer pairs the threads, unlike every other workload, so
   * it runs only when asked for by name. */
  for (guint w = 0; w < N_WORKLOADS; w++)
    report.workload_selected[w] = name_listed (opt_workloads, nebula_bench_workload_name (w)) &&
                                  (w != NEBULA_BENCH_PRODUCER_CONSUMER || opt_workloads != NULL);

  nebula_bench_peers_init ();

  /* Nebula types the library does not have yet are simply absent. */
  for (guint t = 0; t < nebula_bench_n_targets; t++)
    {
      Target *target = &nebula_bench_targets[t];

      if (target->kind == KIND_NEBULA && target->absent == NULL &&
          nebula_bench_nebula_type (target->nebula_type) == G_TYPE_INVALID)
        target->absent = "not in this build of libnebula";
      target->selected = name_listed (opt_allocators, target->name);
      if (target->absent == NULL && target->selected)
        for (guint w = 0; w < N_WORKLOADS; w++)
          total += report.workload_selected[w];
    }

  if (!opt_simd_only)
    {
      for (guint t = 0; t < nebula_bench_n_targets; t++)
        {
          Target *target = &nebula_bench_targets[t];

          if (target->absent != NULL || !target->selected)
            continue;
          progress_line (target->name);
          for (guint w = 0; w < N_WORKLOADS; w++)
            {
              g_autofree char *what = NULL;

              if (!report.workload_selected[w])
                continue;
              what = g_strdup_printf ("%s on %s", target->name, nebula_bench_workload_name (w));
              progress (done, total, what);
              nebula_bench_run_target (target, w, report.iterations, report.rounds, opt_threads,
                                       (guint64) opt_seed, &target->cells[w]);
              progress (++done, total, what);
            }
        }

      if (opt_allocators == NULL && opt_workloads == NULL)
        {
          progress_line ("dispatch");
          progress (0, 1, "dispatch");
          nebula_bench_dispatch_run (opt_quick);
          progress (1, 1, "dispatch");
          progress_line ("strings");
          progress (0, 1, "strings");
          nebula_bench_strings_run (opt_quick);
          progress (1, 1, "strings");
        }
    }

  if (!opt_no_simd && (opt_simd_only || (opt_allocators == NULL && opt_workloads == NULL)))
    {
      progress_line ("memory copy and fill");
      progress (0, 1, "memory copy and fill");
      nebula_bench_simd_run (opt_quick);
      progress (1, 1, "memory copy and fill");
    }

  if (opt_cache_only || (!opt_simd_only && opt_allocators == NULL && opt_workloads == NULL))
    {
      progress_line ("compute caches");
      nebula_bench_cache_run (opt_quick, (guint) opt_rounds);
    }

  switch (opt_format)
    {
    case FORMAT_JSON:
      nebula_bench_print_json (&report);
      break;
    case FORMAT_CSV:
      nebula_bench_print_csv (&report);
      break;
    case FORMAT_TABLE:
    default:
      nebula_bench_print_table (&report);
      nebula_bench_memory_print ();
      break;
    }

  if (opt_plot != NULL && !opt_simd_only && !nebula_bench_write_plot (&report, opt_plot, &error))
    {
      g_printerr ("nebula-bench: cannot write the chart: %s\n", error->message);
      return 1;
    }

  nebula_bench_peers_shutdown ();
  return 0;
}
