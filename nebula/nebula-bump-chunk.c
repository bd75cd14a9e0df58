/* nebula-bump-chunk.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-bump-allocator-private.h"
#include "nebula-child-private.h"
#include "nebula-sysprof-private.h"

/* The chunks of a bump allocator: taking them from the system (charged to
 * the budget), growth by regular chunks, dedicated chunks for large
 * requests, rewinding a chunk, and what reset does with the chunks
 * (#NebulaResetPolicy). */

/* The data and the slack after it, up to the end of the malloc() block. */
static inline gsize
chunk_region_size (const Chunk *chunk)
{
  return (gsize) ((const guint8 *) chunk + sizeof (Chunk) + CHUNK_DATA_ALIGNMENT + chunk->size -
                  chunk->data);
}

/* Chunks are charged to the budget, if any, before they are taken from the
 * system: the budget's usage equals self->reserved. */
Chunk *
nebula_bump_chunk_new (NebulaBumpAllocator  *self,
                       gsize                 size,
                       GError              **error)
{
  Chunk *chunk;
  guint8 *data;

  /* One block: the header, then the data at a 16-byte boundary; a child
   * arena takes it from its parent. */
  chunk = nebula_budget_account_take (&self->config.account, sizeof (Chunk), CHUNK_DATA_ALIGNMENT,
                                      size,
                                      self->child_link != NULL ? nebula_child_block_source : NULL,
                                      self->child_link, &data, error);
  if (chunk == NULL)
    return NULL;

  chunk->data = data;
  chunk->size = size;

  /* Nothing is handed out yet: all of it, the slack after the data
   * included, is off limits for the memory tools. */
  NEBULA_MEMPOOL_CREATE (chunk->data, chunk->data, chunk_region_size (chunk));

  return chunk;
}

void
nebula_bump_chunk_free (NebulaBumpAllocator *self,
                        Chunk               *chunk)
{
  NEBULA_MEMPOOL_DESTROY (chunk->data, chunk->data, chunk_region_size (chunk));
  nebula_budget_account_give (&self->config.account, sizeof (Chunk), CHUNK_DATA_ALIGNMENT, chunk,
                              chunk->size,
                              self->child_link != NULL ? nebula_child_block_sink : NULL,
                              self->child_link);
}

void
nebula_bump_chunk_list_free (NebulaBumpAllocator *self,
                             Chunk               *chunk)
{
  while (chunk != NULL)
    {
      Chunk *prev = chunk->prev;
      nebula_bump_chunk_free (self, chunk);
      chunk = prev;
    }
}

gsize
nebula_bump_chunk_current_available (NebulaBumpAllocator *self)
{
  if (self->current == NULL)
    return 0;
  if (self->config.thread_safe)
    return self->current->size - nebula_bump_chunk_used (self->current, TRUE);
  return self->fast.limit - self->fast.cursor;
}

static void
set_exhausted (NebulaBumpAllocator  *self,
               gsize                 size,
               gsize                 alignment,
               GError              **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  gsize available = nebula_bump_chunk_current_available (self);
  NebulaErrorInfo info;

  info = (NebulaErrorInfo) {
    .requested = size,
    .available = available,
    .capacity = self->max_capacity,
    .what = what,
  };

  if (self->max_capacity > self->capacity)
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                      " of %" G_GSIZE_FORMAT " available in the current chunk and %"
                      G_GSIZE_FORMAT " of %" G_GUINT64_FORMAT " left to grow (alignment %"
                      G_GSIZE_FORMAT ")",
                      what, size, available,
                      self->current != NULL ? self->current->size : 0,
                      (gsize) (self->max_capacity - MIN (self->reserved, self->max_capacity)),
                      self->max_capacity, alignment);
  else
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                      " of %" G_GUINT64_FORMAT " available (alignment %" G_GSIZE_FORMAT ")",
                      what, size, available, self->capacity, alignment);
}

/* Makes @chunk (a new or spare chunk) the current one. Called with the grow
 * lock held in thread-safe mode. */
static void
push_chunk (NebulaBumpAllocator *self,
            Chunk               *chunk)
{
  gboolean atomic = self->config.thread_safe;
  Chunk *old = self->current;

  /* In thread-safe mode a thread may still take a slice of @old, or
   * give one back: bytes-used sums the chunks instead. */
  if (old != NULL && !atomic)
    {
      old->used = self->fast.cursor - old->data;
      self->used_before += old->used;
    }

  chunk->prev = old;
  chunk->index = old != NULL ? old->index + 1 : 0;
  chunk->used = 0;
  nebula_bump_set_fast_cursor (self, chunk, 0);
  __atomic_store_n (&self->current, chunk, __ATOMIC_RELEASE);
}

static gsize
worst_case_size (gsize size,
                 gsize alignment)
{
  /* Chunk data starts 16-aligned; more alignment may cost padding. */
  return size + (alignment > CHUNK_DATA_ALIGNMENT ? alignment - CHUNK_DATA_ALIGNMENT : 0);
}

/* Finds room for at least @size bytes at @alignment: a spare chunk or a new
 * one. Called with the grow lock held in thread-safe mode. */
gboolean
nebula_bump_chunk_grow (NebulaBumpAllocator  *self,
                        gsize                 size,
                        gsize                 alignment,
                        GError              **error)
{
  gsize need = worst_case_size (size, alignment);
  gsize room, chunk_size;
  Chunk *chunk, **link;
  GError *local_error = NULL;

  /* Reuse a kept chunk that is large enough. */
  for (link = &self->spare; *link != NULL; link = &(*link)->prev)
    {
      if ((*link)->size >= need)
        {
          chunk = *link;
          *link = chunk->prev;
          push_chunk (self, chunk);
          return TRUE;
        }
    }

  room = self->max_capacity > self->reserved ? self->max_capacity - self->reserved : 0;
  if (need > room)
    {
      set_exhausted (self, size, alignment, error);
      return FALSE;
    }

  chunk_size = self->current != NULL
    ? (gsize) MIN ((double) self->current->size * self->growth_factor, (double) G_MAXSSIZE)
    : self->capacity;
  chunk_size = CLAMP (chunk_size, need, room);

  chunk = nebula_bump_chunk_new (self, chunk_size, &local_error);
  if (chunk == NULL && local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (chunk == NULL)
    {
      g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
      NebulaErrorInfo info = { .requested = chunk_size, .what = what };

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY,
                        &info, "%s: the system refused a new chunk of %" G_GSIZE_FORMAT " bytes",
                        what, chunk_size);
      return FALSE;
    }

  self->reserved += chunk_size;
  push_chunk (self, chunk);
  nebula_sysprof_allocator_event (self, "growth", chunk_size);
  return TRUE;
}

gpointer
nebula_bump_chunk_allocate_dedicated (NebulaBumpAllocator  *self,
                                      gsize                 size,
                                      gsize                 alignment,
                                      GError              **error)
{
  gsize need = worst_case_size (size, alignment);
  gsize room = self->max_capacity > self->reserved ? self->max_capacity - self->reserved : 0;
  GError *local_error = NULL;
  Chunk *chunk;
  guint8 *ptr;

  if (need > room)
    {
      set_exhausted (self, size, alignment, error);
      return NULL;
    }

  chunk = nebula_bump_chunk_new (self, need, &local_error);
  if (chunk == NULL && local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  if (chunk == NULL)
    {
      g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
      NebulaErrorInfo info = { .requested = size, .what = what };

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY,
                        &info, "%s: the system refused a dedicated chunk of %" G_GSIZE_FORMAT
                        " bytes", what, need);
      return NULL;
    }

  ptr = (guint8 *) (((guintptr) chunk->data + alignment - 1) & ~(guintptr) (alignment - 1));
  chunk->dedicated = TRUE;
  chunk->block = ptr;
  chunk->block_size = size;
  chunk->used = chunk->size;
  chunk->serial = self->dedicated_serial++;
  chunk->prev = self->large;
  self->large = chunk;
  self->reserved += chunk->size;

  nebula_bump_hand_out (self, chunk, ptr, size);
  return ptr;
}

/* Frees the dedicated chunk whose block starts at @ptr. A pointer into a
 * dedicated chunk elsewhere is not a block: TRUE, without effect (as for
 * any other block that is not the top). FALSE: @ptr is not in a dedicated
 * chunk. Called with the grow lock held in thread-safe mode. */
gboolean
nebula_bump_chunk_free_dedicated (NebulaBumpAllocator *self,
                                  gpointer             ptr)
{
  for (Chunk **link = &self->large; *link != NULL; link = &(*link)->prev)
    {
      Chunk *chunk = *link;

      if ((guint8 *) ptr >= chunk->data && (guint8 *) ptr < chunk->data + chunk->size)
        {
          if ((guint8 *) ptr != chunk->block)
            return TRUE;

          *link = chunk->prev;
          self->reserved -= chunk->size;
          nebula_bump_chunk_free (self, chunk);
          return TRUE;
        }
    }

  return FALSE;
}

static void
free_all_dedicated (NebulaBumpAllocator *self)
{
  for (Chunk *chunk = self->large; chunk != NULL; chunk = chunk->prev)
    self->reserved -= chunk->size;
  nebula_bump_chunk_list_free (self, self->large);
  self->large = NULL;
}

/* Gives back everything of @chunk from @keep on (@used bytes were in use):
 * filled with the free-fill byte if there is one, dead for the tools. */
void
nebula_bump_chunk_rewind (NebulaBumpAllocator *self,
                          Chunk               *chunk,
                          gsize                keep,
                          gsize                used)
{
  if (self->config.free_fill >= 0 && used > keep)
    {
      /* Redzones are poisoned; the fill may write them. */
      NEBULA_MEM_WRITABLE (chunk->data + keep, used - keep);
      memset (chunk->data + keep, self->config.free_fill, used - keep);
    }

  NEBULA_MEMPOOL_TRIM (chunk->data, chunk->data, keep, chunk_region_size (chunk));
}

void
nebula_bump_chunk_make_current (NebulaBumpAllocator *self,
                                Chunk               *chunk,
                                gsize                used)
{
  chunk->used = used;
  self->current = chunk;
  nebula_bump_set_fast_cursor (self, chunk, used);
  if (!self->config.thread_safe)
    self->fast.last = NULL;
}

/* Inlined twice: the single-threaded reset pays one test for the
 * thread-safe mode's steps around it. */
G_ALWAYS_INLINE static inline void
reset_chunks (NebulaBumpAllocator *self)
{
  Chunk *keep = NULL, *chunk, *prev;

  self->generation++;
  free_all_dedicated (self);

  /* Checkpoints from before are refused by their generation. */
  g_array_set_size (self->rewinds, 0);
  self->have_high = FALSE;

  /* Gather every regular chunk, newest first, then the spares. */
  for (chunk = self->current; chunk != NULL; chunk = prev)
    {
      prev = chunk->prev;
      nebula_bump_chunk_rewind (self, chunk, 0, nebula_bump_chunk_position (self, chunk));

      switch (self->reset_policy)
        {
        case NEBULA_RESET_POLICY_KEEP_ALL:
          if (chunk->index == 0)
            keep = chunk;
          else
            {
              chunk->prev = self->spare;
              self->spare = chunk;
            }
          break;

        case NEBULA_RESET_POLICY_KEEP_LARGEST:
          if (keep == NULL || chunk->size > keep->size)
            {
              if (keep != NULL)
                {
                  self->reserved -= keep->size;
                  nebula_bump_chunk_free (self, keep);
                }
              keep = chunk;
            }
          else
            {
              self->reserved -= chunk->size;
              nebula_bump_chunk_free (self, chunk);
            }
          break;

        case NEBULA_RESET_POLICY_FREE_ALL:
        default:
          self->reserved -= chunk->size;
          nebula_bump_chunk_free (self, chunk);
          break;
        }
    }

  if (self->reset_policy != NEBULA_RESET_POLICY_KEEP_ALL)
    {
      for (chunk = self->spare; chunk != NULL; chunk = chunk->prev)
        self->reserved -= chunk->size;
      nebula_bump_chunk_list_free (self, self->spare);
      self->spare = NULL;
    }

  self->used_before = 0;
  self->current = NULL;
  self->fast.cursor = self->fast.limit = self->fast.last = self->fast.base = NULL;

  if (keep != NULL)
    {
      keep->prev = NULL;
      keep->index = 0;
      nebula_bump_chunk_make_current (self, keep, 0);
    }
  else
    {
      /* FREE_ALL: the next allocation starts a fresh first chunk. */
      nebula_bump_chunk_grow (self, 1, 1, NULL);
    }
}

void
nebula_bump_chunk_reset (NebulaAllocator *allocator)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;

  if (!nebula_bump_ensure_ready (self, NULL))
    return;

  if (G_LIKELY (!self->config.thread_safe))
    {
      reset_chunks (self);
      return;
    }

  /* Every thread's slice is void (the quiescence rule: no other thread
   * allocates meanwhile; the DEBUG preset checks it). */
  nebula_bump_thread_quiesce_begin (self, "reset");
  nebula_bump_thread_invalidate (self);
  reset_chunks (self);
  nebula_bump_thread_quiesce_end (self);
}

/**
 * nebula_bump_allocator_get_n_chunks:
 * @self: a #NebulaBumpAllocator
 *
 * Counts the chunks in use: regular ones and the dedicated ones of large
 * allocations (spares kept for reuse do not count).
 *
 * Returns: the number of chunks
 */
guint
nebula_bump_allocator_get_n_chunks (NebulaBumpAllocator *self)
{
  guint n = 0;

  g_return_val_if_fail (NEBULA_IS_BUMP_ALLOCATOR (self), 0);

  /* Other threads add chunks and free dedicated ones under the lock. */
  if (self->config.thread_safe)
    nebula_mutex_lock (&self->grow_lock);
  for (Chunk *chunk = self->current; chunk != NULL; chunk = chunk->prev)
    n++;
  for (Chunk *chunk = self->large; chunk != NULL; chunk = chunk->prev)
    n++;
  if (self->config.thread_safe)
    nebula_mutex_unlock (&self->grow_lock);

  return n;
}
