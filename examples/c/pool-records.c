/* pool-records.c: a pool of fixed-size records. Records come and go in any
 * order, a freed block is the next one handed out, and a double free is an
 * error that leaves the pool intact.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <nebula.h>

typedef struct
{
  guint32 id;
  char    name[20];
  double  balance;
} Record;

static void
show (const GError *error)
{
  g_print ("error: %s\n", error->message);
  g_print ("  suggestion: %s\n", nebula_error_get_suggestion (error));
}

/* Addresses change from run to run; print a name in their place. */
static void
show_with_name (const GError  *error,
                gconstpointer  address,
                const char    *name)
{
  g_autofree char *printed = g_strdup_printf ("%p", address);
  g_autoptr(GString) message = g_string_new (error->message);

  g_string_replace (message, printed, name, 0);
  g_print ("error: %s\n", message->str);
  g_print ("  suggestion: %s\n", nebula_error_get_suggestion (error));
}

static Record *
record_new (NebulaPoolAllocator  *pool,
            guint32               id,
            const char           *name,
            double                balance,
            GError              **error)
{
  Record *record = nebula_allocator_new (pool, Record, 1, error);

  if (record == NULL)
    return NULL;

  record->id = id;
  g_strlcpy (record->name, name, sizeof record->name);
  record->balance = balance;
  return record;
}

static gboolean
record_free (NebulaPoolAllocator  *pool,
             Record               *record,
             GError              **error)
{
  return nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), record, sizeof (Record),
                                      G_ALIGNOF (Record), error);
}

static guint64
blocks_in_use (NebulaPoolAllocator *pool)
{
  return nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (pool)) / sizeof (Record);
}

int
main (void)
{
  static const char *names[] = { "alice", "bob", "carol", "dave" };
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  Record *records[G_N_ELEMENTS (names)];
  Record *erin;

  /* One block per record, four of them; the pool does not grow. */
  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, &error,
                         "block-size", (guint64) sizeof (Record),
                         "block-alignment", (guint64) G_ALIGNOF (Record),
                         "block-count", (guint64) G_N_ELEMENTS (names),
                         "name", "records",
                         NULL);
  if (pool == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      records[i] = record_new (pool, i + 1, names[i], 10.5 * (i + 1), &error);
      if (records[i] == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_print ("record %u: %s, balance %.2f\n", records[i]->id, records[i]->name,
             records[i]->balance);
  g_print ("%" G_GUINT64_FORMAT " of %u blocks in use\n",
           blocks_in_use (pool), (guint) G_N_ELEMENTS (names));

  /* Every block is in use: the next record has to wait. */
  if (record_new (pool, 5, "erin", 0, &error) != NULL ||
      !g_error_matches (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED))
    return 1;
  show (error);
  g_clear_error (&error);

  /* Records leave in any order; a freed block is the next one handed out. */
  if (!record_free (pool, records[1], &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_print ("bob left: %" G_GUINT64_FORMAT " blocks in use\n", blocks_in_use (pool));
  erin = record_new (pool, 5, "erin", 99.0, &error);
  if (erin == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_print ("record %u: %s takes bob's block: %s\n", erin->id, erin->name,
           erin == records[1] ? "yes" : "no");

  /* Freeing a block twice is refused, and the pool stays intact. */
  if (!record_free (pool, records[2], &error))
    return 1;
  g_print ("carol left: %" G_GUINT64_FORMAT " blocks in use\n", blocks_in_use (pool));
  if (record_free (pool, records[2], &error) ||
      !g_error_matches (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE))
    return 1;
  /* Carol's block is free: its first bytes now hold the pool's free list,
   * so the name comes from the table, not from the record. */
  show_with_name (error, records[2], "<carol's block>");
  g_clear_error (&error);
  g_print ("still %" G_GUINT64_FORMAT " blocks in use\n", blocks_in_use (pool));

  stats = nebula_allocator_get_stats (NEBULA_ALLOCATOR (pool));
  g_print ("%" G_GUINT64_FORMAT " allocations, %" G_GUINT64_FORMAT " frees, %"
           G_GUINT64_FORMAT " failed allocation\n",
           stats->allocations, stats->deallocations, stats->failed_allocations);

  /* One call gives every block back. */
  nebula_allocator_reset (NEBULA_ALLOCATOR (pool));
  g_print ("after reset: %" G_GUINT64_FORMAT " blocks in use\n", blocks_in_use (pool));

  return 0;
}
