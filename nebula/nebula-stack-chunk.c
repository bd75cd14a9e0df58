/* nebula-stack-chunk.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-stack-allocator-private.h"
#include "nebula-sysprof-private.h"

/* The data and the slack after it, to the end of the malloc() block: the
 * region the memory tools guard. */
static inline gsize
chunk_region_size (const Chunk *chunk)
{
  return (gsize) ((const guint8 *) (chunk + 1) + CHUNK_DATA_ALIGNMENT + chunk->size - chunk->data);
}

/* Every chunk is allocated here and freed in nebula_stack_chunk_free():
 * the budget, if any, is charged for the chunk's data before it is taken
 * from the system, and released when the chunk goes. A refusal changes
 * nothing. */
Chunk *
nebula_stack_chunk_new (NebulaStackAllocator  *self,
                        gsize                  size,
                        GError               **error)
{
  Chunk *chunk;
  guint8 *data;
  GError *local_error = NULL;

  /* A child arena takes it from its parent. */
  chunk = nebula_budget_account_take (&self->config.account, sizeof (Chunk), CHUNK_DATA_ALIGNMENT,
                                      size,
                                      self->child_link != NULL ? nebula_child_block_source : NULL,
                                      self->child_link, &data, &local_error);
  if (chunk == NULL)
    {
      NebulaErrorInfo info = { .requested = size, .what = self->config.name };

      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return NULL;
        }

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY, &info,
                        "%s: the system refused a chunk of %" G_GSIZE_FORMAT " bytes",
                        stack_label (), size);
      return NULL;
    }

  chunk->data = data;
  chunk->size = size;
  self->reserved += size;

  /* Nothing is handed out yet. The high end's pool covers the same region,
   * which the low end's has poisoned already. */
  NEBULA_MEMPOOL_CREATE (LOW_POOL (chunk), chunk->data, chunk_region_size (chunk));
  if (self->double_ended)
    NEBULA_MEMPOOL_CREATE (HIGH_POOL (chunk), chunk->data, 0);

  return chunk;
}

void
nebula_stack_chunk_free (NebulaStackAllocator *self,
                         Chunk                *chunk)
{
  self->reserved -= chunk->size;
  if (self->double_ended)
    NEBULA_MEMPOOL_DESTROY (HIGH_POOL (chunk), chunk->data, 0);
  NEBULA_MEMPOOL_DESTROY (LOW_POOL (chunk), chunk->data, chunk_region_size (chunk));
  nebula_budget_account_give (&self->config.account, sizeof (Chunk), CHUNK_DATA_ALIGNMENT, chunk,
                              chunk->size,
                              self->child_link != NULL ? nebula_child_block_sink : NULL,
                              self->child_link);
}

/* Takes the first chunk, of the capacity: at initialization, and when a
 * child arena that its parent released allocates again. */
gboolean
nebula_stack_chunk_start (NebulaStackAllocator  *self,
                          GError               **error)
{
  Chunk *chunk = nebula_stack_chunk_new (self, self->capacity, error);

  if (chunk == NULL)
    return FALSE;

  self->current = chunk;
  self->fast.cursor = chunk->data;
  self->fast.limit = chunk_end (chunk);
  self->fast.base = chunk->data;
  self->fast.bottom = chunk->data;
  return TRUE;
}

/* Gives back every chunk, the first and the spare included (at
 * finalization, and for a child arena that its parent releases, after a
 * reset): no chunk is left, and nothing is owned, until
 * nebula_stack_chunk_start(). */
void
nebula_stack_chunk_release_all (NebulaStackAllocator *self)
{
  while (self->current != NULL)
    {
      Chunk *prev = self->current->prev;

      nebula_stack_chunk_free (self, self->current);
      self->current = prev;
    }
  if (self->spare != NULL)
    nebula_stack_chunk_free (self, g_steal_pointer (&self->spare));

  self->fast.cursor = NULL;
  self->fast.limit = NULL;
  self->fast.last = NULL;
  nebula_stack_marks_clear (self);
  self->fast.bottom = NULL;
  self->high_last = NULL;
  self->used_before = 0;
}

/* An emptied chunk: keep the largest one for the next growth. */
static void
retire_chunk (NebulaStackAllocator *self,
              Chunk                *chunk)
{
  if (self->spare == NULL || chunk->size > self->spare->size)
    {
      if (self->spare != NULL)
        nebula_stack_chunk_free (self, self->spare);
      chunk->prev = NULL;
      self->spare = chunk;
    }
  else
    {
      nebula_stack_chunk_free (self, chunk);
    }
}

/* Gives back [dead, dead + dead_size) of one end: filled with the
 * free-fill byte if there is one (headers and padding included, which the
 * tools guard), then dead for the tools, whose @pool keeps only the blocks
 * inside [keep, keep + keep_size). */
static void
give_back (NebulaStackAllocator *self,
           gpointer              pool,
           guint8               *keep,
           gsize                 keep_size,
           guint8               *dead,
           gsize                 dead_size)
{
  if (dead_size == 0)
    return;

  if (self->config.free_fill >= 0)
    {
      NEBULA_MEM_WRITABLE (dead, dead_size);
      memset (dead, self->config.free_fill, dead_size);
    }
  NEBULA_MEMPOOL_TRIM_RANGE (pool, keep, keep_size, dead, dead_size);
}

/* The low end of @chunk keeps [data, @top); what it held up to @cursor goes. */
void
nebula_stack_chunk_give_back_low (NebulaStackAllocator *self,
                                  Chunk                *chunk,
                                  guint8               *top,
                                  guint8               *cursor)
{
  give_back (self, LOW_POOL (chunk), chunk->data, top - chunk->data, top, cursor - top);
}

/* Makes @state (found by walking down) the low end's position, releasing
 * everything above it. */
void
nebula_stack_chunk_set_low_state (NebulaStackAllocator *self,
                                  const EndState       *state)
{
  while (self->current != state->chunk)
    {
      Chunk *chunk = self->current;

      /* Emptied: poisoned all over and its pool empty, as when new. */
      nebula_stack_chunk_give_back_low (self, chunk, chunk->data, self->fast.cursor);
      self->current = chunk->prev;
      self->fast.cursor = self->current->saved_cursor;
      self->used_before -= self->fast.cursor - self->current->data;
      retire_chunk (self, chunk);
    }

  nebula_stack_chunk_give_back_low (self, self->current, state->cursor, self->fast.cursor);
  self->fast.cursor = state->cursor;
  self->fast.last = state->last;
  nebula_stack_marks_lower (self, state->cursor);
  self->fast.bottom = self->current->prev == NULL ? self->current->data : NULL;
  if (!self->double_ended)
    self->fast.limit = chunk_end (self->current);
}

void
nebula_stack_chunk_set_high_state (NebulaStackAllocator *self,
                                   const EndState       *state)
{
  /* A single-ended stack has no high end, nor its pool. */
  if (self->double_ended)
    give_back (self, HIGH_POOL (self->current),
               state->cursor, chunk_end (self->current) - state->cursor,
               self->fast.limit, state->cursor - self->fast.limit);
  self->fast.limit = state->cursor;
  self->high_last = state->last;
}

void
nebula_stack_chunk_set_exhausted (NebulaStackAllocator  *self,
                                  gsize                  size,
                                  gsize                  alignment,
                                  gboolean               high,
                                  GError               **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  gsize available = self->current != NULL ? (gsize) (self->fast.limit - self->fast.cursor) : 0;
  NebulaErrorInfo info;

  info = (NebulaErrorInfo) {
    .requested = size,
    .available = available,
    .capacity = self->max_capacity,
    .what = what,
  };

  if (self->double_ended && self->current != NULL)
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes at the %s end, "
                      "but the ends meet: low end %" G_GSIZE_FORMAT " bytes, high end %"
                      G_GSIZE_FORMAT " bytes of %" G_GSIZE_FORMAT " (alignment %" G_GSIZE_FORMAT
                      ", each block also takes a %u-byte header)",
                      what, size, high ? "high" : "low",
                      (gsize) (self->fast.cursor - self->current->data),
                      (gsize) (chunk_end (self->current) - self->fast.limit),
                      self->current->size, alignment, (guint) HEADER_SIZE);
  else if (can_grow (self))
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                      " of %" G_GSIZE_FORMAT " available in the current chunk and %"
                      G_GSIZE_FORMAT " of %" G_GUINT64_FORMAT " left to grow (alignment %"
                      G_GSIZE_FORMAT ", each block also takes a %u-byte header)",
                      what, size, available,
                      self->current != NULL ? self->current->size : 0,
                      (gsize) (self->max_capacity - MIN (self->reserved, self->max_capacity)),
                      self->max_capacity, alignment, (guint) HEADER_SIZE);
  else
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                      " of %" G_GUINT64_FORMAT " available (alignment %" G_GSIZE_FORMAT
                      ", each block also takes a %u-byte header)",
                      what, size, available, self->capacity, alignment, (guint) HEADER_SIZE);
}

/* Makes @chunk the current one, remembering where the low end stood. */
static void
push_chunk (NebulaStackAllocator *self,
            Chunk                *chunk)
{
  Chunk *old = self->current;

  old->saved_last = self->fast.last;
  old->saved_cursor = self->fast.cursor;
  self->used_before += self->fast.cursor - old->data;

  chunk->prev = old;
  chunk->index = old->index + 1;
  self->current = chunk;
  self->fast.cursor = chunk->data;
  self->fast.base = chunk->data;
  self->fast.bottom = NULL;
  self->fast.limit = chunk_end (chunk);
  self->fast.last = NULL;
}

/* Continues the low end in a new (or the spare) chunk with room for a block
 * of @size bytes at @alignment. */
gboolean
nebula_stack_chunk_grow (NebulaStackAllocator  *self,
                         gsize                  size,
                         gsize                  alignment,
                         GError               **error)
{
  gsize align = effective_alignment (alignment);
  gsize need, room, chunk_size;
  Chunk *chunk;

  /* A child arena that its parent released starts again. */
  if (self->current == NULL)
    return nebula_stack_chunk_start (self, error);

  if (!can_grow (self) || size > NEBULA_MAX_ALLOCATION_SIZE / 2 ||
      align > NEBULA_MAX_ALLOCATION_SIZE / 2)
    {
      nebula_stack_chunk_set_exhausted (self, size, alignment, FALSE, error);
      return FALSE;
    }

  /* Chunk data starts 16-aligned; the header and alignment padding come
   * first. */
  need = HEADER_SIZE + (align - 1) + size;

  if (self->spare != NULL && self->spare->size >= need)
    {
      chunk = g_steal_pointer (&self->spare);
      push_chunk (self, chunk);
      return TRUE;
    }

  room = self->max_capacity - MIN (self->reserved, self->max_capacity);
  if (self->spare != NULL)
    room += self->spare->size;
  if (need > room)
    {
      nebula_stack_chunk_set_exhausted (self, size, alignment, FALSE, error);
      return FALSE;
    }

  if (self->spare != NULL)
    nebula_stack_chunk_free (self, g_steal_pointer (&self->spare));

  chunk_size = CLAMP (self->current->size * 2, need, room);
  chunk = nebula_stack_chunk_new (self, chunk_size, error);
  if (chunk == NULL)
    return FALSE;

  push_chunk (self, chunk);
  nebula_sysprof_allocator_event (self, "growth", chunk_size);
  return TRUE;
}

static GVariant *
chunk_to_variant (NebulaStackAllocator *self,
                  const Chunk          *chunk,
                  const char           *kind,
                  gsize                 low_used,
                  gsize                 high_used)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "kind", "s", kind);
  g_variant_dict_insert (&dict, "size", "t", (guint64) chunk->size);
  g_variant_dict_insert (&dict, "used", "t", (guint64) (low_used + high_used));
  g_variant_dict_insert (&dict, "current", "b", chunk == self->current);
  if (self->double_ended)
    {
      g_variant_dict_insert (&dict, "low-used", "t", (guint64) low_used);
      g_variant_dict_insert (&dict, "high-used", "t", (guint64) high_used);
    }

  return g_variant_dict_end (&dict);
}

/* The report's Stack part: the chunks, newest first, then the spare. */
void
nebula_stack_chunk_report (NebulaAllocator *allocator,
                           GVariantDict    *report)
{
  NebulaStackAllocator *self = (NebulaStackAllocator *) allocator;
  GVariantBuilder chunks;
  gsize stranded = 0;

  if (!ensure_ready (self, NULL))
    return;

  g_variant_builder_init (&chunks, G_VARIANT_TYPE ("aa{sv}"));
  for (Chunk *chunk = self->current; chunk != NULL; chunk = chunk->prev)
    {
      gboolean current = chunk == self->current;
      guint8 *cursor = current ? self->fast.cursor : chunk->saved_cursor;
      gsize high_used = current ? (gsize) (chunk_end (chunk) - self->fast.limit) : 0;

      /* The low end never returns to an older chunk before it pops back
       * into it: the tail above the older chunk's top serves nothing. */
      if (!current)
        stranded += chunk->size - (gsize) (cursor - chunk->data);
      g_variant_builder_add_value (&chunks,
                                   chunk_to_variant (self, chunk, "regular",
                                                     cursor - chunk->data, high_used));
    }
  if (self->spare != NULL)
    g_variant_builder_add_value (&chunks, chunk_to_variant (self, self->spare, "spare", 0, 0));

  g_variant_dict_insert (report, "reserved", "t", (guint64) self->reserved);
  g_variant_dict_insert (report, "fragmentation", "d",
                         self->reserved != 0 ? (double) stranded / (double) self->reserved : 0.0);

  g_variant_dict_insert_value (report, "chunks", g_variant_builder_end (&chunks));
}

/**
 * nebula_stack_allocator_get_n_chunks:
 * @self: a #NebulaStackAllocator
 *
 * Counts the chunks the low end spans (a spare chunk kept for reuse does
 * not count).
 *
 * Returns: the number of chunks, 0 if @self cannot initialize
 */
guint
nebula_stack_allocator_get_n_chunks (NebulaStackAllocator *self)
{
  guint n = 0;

  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), 0);

  if (ensure_ready (self, NULL))
    for (Chunk *chunk = self->current; chunk != NULL; chunk = chunk->prev)
      n++;

  return n;
}
