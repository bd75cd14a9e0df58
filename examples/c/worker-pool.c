/* worker-pool.c: a pool of worker threads sharing one thread-safe
 * NebulaMultiPoolAllocator, the place GSlice code goes: blocks of many
 * sizes, each freed on its own with the size it was allocated with, some
 * of them on another thread than the one that allocated them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <nebula.h>

#define N_WORKERS 4
#define N_JOBS    1000
#define KEEP_EVERY 10   /* every tenth result goes back to the main thread */

typedef struct
{
  NebulaAllocator *alloc;
  guint            id;
  guint64          checksum;
  guint            failures;
  guint8          *kept[N_JOBS / KEEP_EVERY];
  gsize            kept_size[N_JOBS / KEEP_EVERY];
} Worker;

static gsize
job_size (guint worker,
          guint job)
{
  return 8 + (worker * 7919 + job * 131) % 992;
}

static gpointer
worker_run (gpointer data)
{
  Worker *worker = data;

  for (guint job = 0; job < N_JOBS; job++)
    {
      g_autoptr(GError) error = NULL;
      gsize size = job_size (worker->id, job);
      guint8 *buffer = nebula_allocator_allocate (worker->alloc, size, 8, &error);

      if (buffer == NULL)
        {
          worker->failures++;
          continue;
        }
      memset (buffer, (int) ((worker->id + job) & 0xFF), size);
      worker->checksum += buffer[size - 1];

      if (job % KEEP_EVERY == 0)
        {
          /* The result goes to the main thread, which frees it. */
          worker->kept[job / KEEP_EVERY] = buffer;
          worker->kept_size[job / KEEP_EVERY] = size;
        }
      else if (!nebula_allocator_deallocate (worker->alloc, buffer, size, 8, &error))
        {
          worker->failures++;
        }
    }

  return NULL;
}

/* Addresses change from run to run: the message names the block instead. */
static void
show_error (const GError *error,
            gpointer      block)
{
  g_autofree char *address = g_strdup_printf ("%p", block);
  g_auto(GStrv) parts = g_strsplit (error->message, address, -1);
  g_autofree char *message = g_strjoinv ("<block>", parts);

  g_print ("error: %s\n", message);
  g_print ("  suggestion: %s\n", nebula_error_get_suggestion (error));
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaMultiPoolAllocator) multi = NULL;
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  g_autoptr(GVariant) report = NULL;
  g_autoptr(GVariant) classes = NULL;
  NebulaAllocator *alloc;
  Worker workers[N_WORKERS];
  GThread *threads[N_WORKERS];
  guint n_kept = 0;
  gpointer block;

  /* Thread-safe by default, as GSlice was: each thread keeps a magazine of
   * free blocks per size class. */
  multi = g_initable_new (NEBULA_TYPE_MULTI_POOL_ALLOCATOR, NULL, &error,
                          "name", "workers",
                          NULL);
  if (multi == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  alloc = NEBULA_ALLOCATOR (multi);
  g_print ("%u size classes up to %" G_GUINT64_FORMAT " bytes; 100 bytes take a block of %"
           G_GUINT64_FORMAT "\n",
           nebula_multi_pool_allocator_get_n_classes (multi),
           nebula_multi_pool_allocator_get_class_size (multi, 1024),
           nebula_multi_pool_allocator_get_class_size (multi, 100));

  for (guint i = 0; i < N_WORKERS; i++)
    {
      workers[i] = (Worker) { .alloc = alloc, .id = i };
      threads[i] = g_thread_new ("worker", worker_run, &workers[i]);
    }
  for (guint i = 0; i < N_WORKERS; i++)
    {
      g_thread_join (threads[i]);
      g_print ("worker %u: %u jobs, checksum %" G_GUINT64_FORMAT ", %u failures\n",
               i, N_JOBS, workers[i].checksum, workers[i].failures);
    }

  /* Frees on another thread than the allocating one are fine. */
  for (guint i = 0; i < N_WORKERS; i++)
    for (guint k = 0; k < N_JOBS / KEEP_EVERY; k++)
      if (workers[i].kept[k] != NULL &&
          nebula_allocator_deallocate (alloc, workers[i].kept[k], workers[i].kept_size[k], 8,
                                       &error))
        n_kept++;
  g_print ("main thread freed %u results\n", n_kept);

  stats = nebula_allocator_get_stats (alloc);
  report = nebula_allocator_get_report (alloc);
  classes = g_variant_lookup_value (report, "classes", G_VARIANT_TYPE ("aa{sv}"));
  g_print ("%" G_GUINT64_FORMAT " allocations, %" G_GUINT64_FORMAT " frees, %"
           G_GUINT64_FORMAT " bytes in use, %" G_GSIZE_FORMAT " classes used\n",
           stats->allocations, stats->deallocations, stats->bytes_in_use,
           classes != NULL ? g_variant_n_children (classes) : 0);

  /* A block must be freed with the size it was allocated with: 40 bytes
   * are a block of the 48-byte class, 100 bytes picks the 112-byte one. */
  block = nebula_allocator_allocate (alloc, 40, 8, &error);
  if (!nebula_allocator_deallocate (alloc, block, 100, 8, &error))
    {
      show_error (error, block);
      g_clear_error (&error);
    }
  if (nebula_allocator_deallocate (alloc, block, 40, 8, &error))
    g_print ("freed with its own size: ok\n");

  return 0;
}
