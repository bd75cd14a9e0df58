/* frame-stack.c: per-frame scratch memory on stack allocators.
 *
 * 1. A stack for one frame's temporaries: NEBULA_STACK_FRAME releases all
 *    of them when the frame's function returns, and a marker releases a
 *    buffer that is only needed for part of the frame.
 * 2. A double-ended stack: the level's data lives at the low end for as
 *    long as the level is loaded, each frame's data at the high end for
 *    one frame. Both share one region, so neither needs its own worst case.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <nebula.h>

typedef struct
{
  float x, y;
  float dx, dy;
} Particle;

typedef struct
{
  guint16 x, y;
  guint16 health;
} Enemy;

typedef struct
{
  float   x, y;
  guint16 sprite;
} DrawCommand;

#define GRID_SIZE    4
#define LEVEL_WIDTH  32
#define LEVEL_HEIGHT 16

static guint64
bytes_used (NebulaStackAllocator *stack)
{
  return nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (stack));
}

/* Part 1: everything simulate_frame() allocates goes when it returns. */
static gboolean
simulate_frame (NebulaStackAllocator  *stack,
                guint                  frame,
                GError               **error)
{
  NEBULA_STACK_FRAME (stack);
  g_autoptr(NebulaStackMarker) before_grid = NULL;
  guint n_particles = 16 * frame;
  Particle *particles;
  guint *cells;
  guint n_busy = 0;

  particles = nebula_allocator_new (stack, Particle, n_particles, error);
  if (particles == NULL)
    return FALSE;
  for (guint i = 0; i < n_particles; i++)
    particles[i] = (Particle) { i % 8, i / 8, 1.0f, 0.5f };

  /* The collision grid is only needed while the particles move. */
  before_grid = nebula_stack_allocator_mark (stack);
  cells = nebula_allocator_new0 (stack, guint, GRID_SIZE * GRID_SIZE, error);
  if (cells == NULL)
    return FALSE;
  for (guint i = 0; i < n_particles; i++)
    {
      particles[i].x += particles[i].dx;
      particles[i].y += particles[i].dy;
      cells[((guint) particles[i].y % GRID_SIZE) * GRID_SIZE +
            (guint) particles[i].x % GRID_SIZE]++;
    }
  for (guint i = 0; i < GRID_SIZE * GRID_SIZE; i++)
    n_busy += cells[i] > 0;
  g_print ("frame %u: %u particles in %u of %u cells, %" G_GUINT64_FORMAT
           " bytes with the grid", frame, n_particles, n_busy, GRID_SIZE * GRID_SIZE,
           bytes_used (stack));

  if (!nebula_stack_allocator_release_to_marker (stack, before_grid, error))
    return FALSE;
  g_print (", %" G_GUINT64_FORMAT " without\n", bytes_used (stack));

  return TRUE;
}

/* The fill of both ends, from markers of their tops. */
static void
print_ends (NebulaStackAllocator *stack,
            const char           *when)
{
  g_autoptr(NebulaStackMarker) low = nebula_stack_allocator_mark (stack);
  g_autoptr(NebulaStackMarker) high = nebula_stack_allocator_mark_high (stack);
  guint64 capacity = nebula_allocator_get_capacity (NEBULA_ALLOCATOR (stack));

  g_print ("%s: low end %" G_GUINT64_FORMAT " bytes, high end %" G_GUINT64_FORMAT " bytes\n",
           when, nebula_stack_marker_get_position (low),
           capacity - nebula_stack_marker_get_position (high));
}

/* Part 2: the level's data goes at the low end. */
static gboolean
load_level (NebulaStackAllocator  *stack,
            guint                  n_enemies,
            Enemy                **enemies_out,
            GError               **error)
{
  guint8 *tiles;
  Enemy *enemies;

  tiles = nebula_allocator_new0 (stack, guint8, LEVEL_WIDTH * LEVEL_HEIGHT, error);
  if (tiles == NULL)
    return FALSE;
  enemies = nebula_allocator_new (stack, Enemy, n_enemies, error);
  if (enemies == NULL)
    return FALSE;
  for (guint i = 0; i < n_enemies; i++)
    enemies[i] = (Enemy) { (i * 7) % LEVEL_WIDTH, (i * 3) % LEVEL_HEIGHT, 100 };

  *enemies_out = enemies;
  return TRUE;
}

/* ...and each frame's data at the high end, released when the frame ends. */
static gboolean
render_frame (NebulaStackAllocator  *stack,
              const Enemy           *enemies,
              guint                  n_enemies,
              guint                  frame,
              GError               **error)
{
  G_GNUC_UNUSED g_autoptr(NebulaStackFrame) frame_data = nebula_stack_frame_new_high (stack);
  guint16 *visible;
  DrawCommand *draw;
  guint n_visible = 0;

  visible = nebula_stack_allocator_allocate_high (stack, n_enemies * sizeof (guint16),
                                                  G_ALIGNOF (guint16), error);
  if (visible == NULL)
    return FALSE;
  for (guint i = 0; i < n_enemies; i++)
    if (enemies[i].x < 8 * frame)
      visible[n_visible++] = i;

  draw = nebula_stack_allocator_allocate_high (stack, n_visible * sizeof (DrawCommand),
                                               G_ALIGNOF (DrawCommand), error);
  if (draw == NULL)
    return FALSE;
  for (guint i = 0; i < n_visible; i++)
    draw[i] = (DrawCommand) { enemies[visible[i]].x, enemies[visible[i]].y, 7 };

  g_print ("frame %u: %u of %u enemies visible; ", frame, n_visible, n_enemies);
  print_ends (stack, "stack");
  return TRUE;
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NebulaStackAllocator) scratch = NULL;
  g_autoptr(NebulaStackAllocator) game = NULL;
  g_autoptr(NebulaStackMarker) level_start = NULL;
  Enemy *enemies = NULL;

  /* 1. Scratch memory for each frame. */
  scratch = nebula_stack_allocator_new (4096, &error);
  if (scratch == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  for (guint frame = 1; frame <= 3; frame++)
    {
      if (!simulate_frame (scratch, frame, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      if (bytes_used (scratch) != 0)
        return 1;
    }
  g_print ("after 3 frames: %" G_GUINT64_FORMAT " bytes in use\n", bytes_used (scratch));

  /* 2. Level data at one end, frame data at the other. */
  game = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, &error,
                         "capacity", (guint64) 2048,
                         "double-ended", TRUE,
                         "name", "game",
                         NULL);
  if (game == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  level_start = nebula_stack_allocator_mark (game);
  if (!load_level (game, 12, &enemies, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  print_ends (game, "level loaded");

  for (guint frame = 1; frame <= 3; frame++)
    if (!render_frame (game, enemies, 12, frame, &error))
      {
        g_printerr ("%s\n", error->message);
        return 1;
      }
  print_ends (game, "after 3 frames");

  /* A frame that wants more than the level leaves free fails; the message
   * has the fill of both ends. */
  if (nebula_stack_allocator_allocate_high (game, 1500, 8, &error) != NULL ||
      !g_error_matches (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED))
    return 1;
  g_print ("error: %s\n", error->message);
  g_clear_error (&error);

  /* Unloading the level releases the low end back to where it started. */
  if (!nebula_stack_allocator_release_to_marker (game, level_start, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  print_ends (game, "level unloaded");

  return 0;
}
