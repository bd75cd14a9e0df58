/* bench-memory.c: reserved and in-use bytes of Nebula's allocators after a
 * run, and after a trim
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What an allocator keeps after a workload is half of its cost in a desktop
 * session: nebula_allocator_trim() gives back what no block needs. Each
 * target's row sums its workloads (one allocator each).
 */

#include "config.h"

#include <stdio.h>

#include "bench-memory.h"

typedef struct
{
  char     *name;
  guint     runs;
  gboolean  reserved_known;  /* the report has `reserved` (not malloc's) */
  gboolean  in_use_known;    /* the allocator keeps statistics */
  guint64   reserved;
  guint64   in_use;
  guint64   reserved_trimmed;
  guint64   given;
} MemoryRow;

static GArray *rows;         /* MemoryRow */

static MemoryRow *
find_row (const char *name)
{
  MemoryRow row = { 0 };

  if (rows == NULL)
    rows = g_array_new (FALSE, TRUE, sizeof (MemoryRow));
  for (guint i = 0; i < rows->len; i++)
    if (g_str_equal (g_array_index (rows, MemoryRow, i).name, name))
      return &g_array_index (rows, MemoryRow, i);

  row.name = g_strdup (name);
  row.reserved_known = row.in_use_known = TRUE;
  g_array_append_val (rows, row);
  return &g_array_index (rows, MemoryRow, rows->len - 1);
}

static gboolean
read_reserved (NebulaAllocator *allocator,
               guint64         *reserved,
               guint64         *in_use,
               gboolean        *in_use_known)
{
  g_autoptr(GVariant) report = nebula_allocator_get_report (allocator);
  g_autoptr(GVariant) stats = g_variant_lookup_value (report, "stats", G_VARIANT_TYPE_VARDICT);
  gboolean enabled = FALSE;

  *in_use = 0;
  if (stats != NULL)
    {
      g_variant_lookup (stats, "enabled", "b", &enabled);
      g_variant_lookup (stats, "bytes-in-use", "t", in_use);
    }
  *in_use_known = enabled;
  return g_variant_lookup (report, "reserved", "t", reserved);
}

void
nebula_bench_memory_record (const char      *target_name,
                            NebulaAllocator *allocator)
{
  g_autoptr(GError) error = NULL;
  MemoryRow *row = find_row (target_name);
  guint64 reserved = 0, in_use = 0, after = 0, given;
  gboolean in_use_known;

  row->reserved_known &= read_reserved (allocator, &reserved, &in_use, &in_use_known);
  row->in_use_known &= in_use_known;
  given = nebula_allocator_trim (allocator, &error);
  read_reserved (allocator, &after, &in_use, &in_use_known);

  row->runs++;
  row->reserved += reserved;
  row->in_use += in_use;
  row->reserved_trimmed += after;
  row->given += given;
}

static void
print_bytes (gboolean known,
             guint64  bytes)
{
  if (known)
    printf (" %14" G_GUINT64_FORMAT, bytes);
  else
    printf (" %14s", "-");
}

void
nebula_bench_memory_print (void)
{
  if (rows == NULL || rows->len == 0)
    return;

  printf ("\nmemory after the run and after nebula_allocator_trim(), bytes summed over each "
          "allocator's workloads\n(reserved: taken from the system, the report's `reserved`; "
          "in use: held by callers; - : not known)\n");
  printf ("%-20s %5s %14s %14s %14s %14s\n", "allocator", "runs", "reserved", "in use",
          "after trim", "given back");
  for (guint i = 0; i < rows->len; i++)
    {
      MemoryRow *row = &g_array_index (rows, MemoryRow, i);

      printf ("%-20s %5u", row->name, row->runs);
      print_bytes (row->reserved_known, row->reserved);
      print_bytes (row->in_use_known, row->in_use);
      print_bytes (row->reserved_known, row->reserved_trimmed);
      printf (" %14" G_GUINT64_FORMAT "\n", row->given);
    }
}
