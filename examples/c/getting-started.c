/* getting-started.c: a bump allocator, typed allocation, statistics.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <nebula.h>

typedef struct
{
  double x;
  double y;
} Point;

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NebulaAllocator *alloc;
  Point *points;
  double sum = 0;

  /* Construction validates the configuration: a bad property is a GError
   * here, not a crash later. */
  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 4096,
                         "name", "getting-started",
                         NULL);
  if (bump == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  alloc = NEBULA_ALLOCATOR (bump);
  g_print ("capacity: %" G_GUINT64_FORMAT " bytes\n", nebula_allocator_get_capacity (alloc));

  /* Ten points, aligned for Point; n * sizeof (Point) is overflow-checked. */
  points = nebula_allocator_new (bump, Point, 10, &error);
  if (points == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  for (int i = 0; i < 10; i++)
    points[i] = (Point) { .x = i, .y = 2 * i };
  for (int i = 0; i < 10; i++)
    sum += points[i].x + points[i].y;
  g_print ("sum of 10 points: %g\n", sum);
  g_print ("bytes in use: %" G_GUINT64_FORMAT "\n", nebula_allocator_get_bytes_used (alloc));

  /* One call frees everything. */
  nebula_allocator_reset (alloc);
  stats = nebula_allocator_get_stats (alloc);
  g_print ("after reset: %" G_GUINT64_FORMAT " bytes in use, %" G_GUINT64_FORMAT
           " allocation, %" G_GUINT64_FORMAT " reset\n",
           nebula_allocator_get_bytes_used (alloc), stats->allocations, stats->resets);

  return 0;
}
