/* nebula-bump-checkpoint.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-bump-allocator-private.h"
#include "nebula-cleanup-private.h"

/* Checkpoints of a bump allocator, the restore to them and the detection
 * of stale ones, and scopes (#NebulaBumpScope). */

/**
 * NebulaBumpCheckpoint:
 *
 * A position in a #NebulaBumpAllocator, from
 * nebula_bump_allocator_checkpoint(), to rewind to with
 * nebula_bump_allocator_restore(). It is an opaque boxed value; it stays
 * valid until its allocator is reset or rewound to before it.
 */
struct _NebulaBumpCheckpoint
{
  guint64 allocator_id;
  guint64 generation;
  guint64 serial;
  guint   chunk_index;
  gsize   offset;
  guint64 dedicated_serial;   /* dedicated chunks from this serial on are newer */
  /* What the statistics said, so that a restore can count what it frees
   * as the callers counted it (padding excluded). */
  guint64 live_blocks;
  guint64 bytes_in_use;
  guint64 cleanup_mark;       /* cleanups registered after it run at restore */
};

struct _NebulaBumpScope
{
  NebulaBumpAllocator  *bump;
  NebulaBumpCheckpoint *checkpoint;
};

G_DEFINE_BOXED_TYPE (NebulaBumpCheckpoint, nebula_bump_checkpoint,
                     nebula_bump_checkpoint_copy, nebula_bump_checkpoint_free)

static inline gboolean
position_before (guint index_a, gsize offset_a,
                 guint index_b, gsize offset_b)
{
  return index_a < index_b || (index_a == index_b && offset_a < offset_b);
}

/**
 * nebula_bump_allocator_checkpoint:
 * @self: a #NebulaBumpAllocator
 *
 * Records the current position, to rewind to with
 * nebula_bump_allocator_restore(). A checkpoint is valid until the
 * allocator is reset or restored to a position before it; after that,
 * restoring it fails with %NEBULA_ALLOCATOR_ERROR_STALE_MARKER, even once
 * the allocator has moved past its position again.
 *
 * The most recent allocation before the checkpoint can no longer be given
 * back by nebula_allocator_deallocate() (it succeeds without effect): that
 * would move the position below the checkpoint.
 *
 * Returns: (transfer full): a new checkpoint
 */
NebulaBumpCheckpoint *
nebula_bump_allocator_checkpoint (NebulaBumpAllocator *self)
{
  NebulaBumpCheckpoint *checkpoint;

  g_return_val_if_fail (NEBULA_IS_BUMP_ALLOCATOR (self), NULL);

  checkpoint = g_new0 (NebulaBumpCheckpoint, 1);
  checkpoint->allocator_id = self->id;
  checkpoint->generation = self->generation;
  checkpoint->cleanup_mark = nebula_cleanup_mark (self);

  /* Other threads may add a chunk meanwhile (an atomic store). */
  if (nebula_bump_ensure_ready (self, NULL) &&
      __atomic_load_n (&self->current, __ATOMIC_ACQUIRE) != NULL)
    {
      NebulaAllocatorStats stats;
      gboolean atomic = self->config.thread_safe;
      Chunk *chunk;
      gsize offset;

      /* The calling thread's unused end goes back, and every slice is
       * void: blocks allocated from now on lie above the position. Other
       * threads add chunks under the lock. */
      if (atomic)
        {
          nebula_bump_thread_give_back (self);
          nebula_bump_thread_invalidate (self);
          nebula_mutex_lock (&self->grow_lock);
        }

      chunk = self->current;
      offset = nebula_bump_chunk_position (self, chunk);

      /* The start of an empty chunk is the end of the used part of the
       * one before: one name per position, so that positions compare
       * as the blocks under them do. */
      while (offset == 0 && chunk->prev != NULL)
        {
          chunk = chunk->prev;
          offset = nebula_bump_chunk_position (self, chunk);
        }

      checkpoint->chunk_index = chunk->index;
      checkpoint->dedicated_serial = self->dedicated_serial;
      checkpoint->offset = offset;
      checkpoint->serial = self->checkpoint_serial++;

      if (!self->have_high ||
          position_before (self->high_index, self->high_offset,
                           checkpoint->chunk_index, checkpoint->offset))
        {
          self->have_high = TRUE;
          self->high_index = checkpoint->chunk_index;
          self->high_offset = checkpoint->offset;
        }

      /* Only blocks allocated after the checkpoint may move the position
       * back from now on, and none of them starts below it (in
       * thread-safe mode, the void slices see to it). */
      if (!atomic)
        self->fast.last = NULL;

      if (atomic)
        nebula_mutex_unlock (&self->grow_lock);

      nebula_stats_counters_read (&self->stats, &stats);
      checkpoint->live_blocks = stats.allocations - MIN (stats.deallocations, stats.allocations);
      checkpoint->bytes_in_use = stats.bytes_in_use;
    }
  else
    {
      /* An unusable allocator gives a checkpoint that restore refuses. */
      checkpoint->allocator_id = 0;
    }

  return checkpoint;
}

/* The restore to @index/@offset makes every checkpoint taken so far above
 * it stale. Entries that rise no higher than the new one are covered by
 * it: a checkpoint they refuse was taken before it too. */
static void
record_restore (NebulaBumpAllocator *self,
                guint                index,
                gsize                offset)
{
  Rewind rewind = { self->checkpoint_serial, index, offset };

  if (!self->have_high || !position_before (index, offset, self->high_index, self->high_offset))
    return;

  while (self->rewinds->len > 0)
    {
      const Rewind *top = &g_array_index (self->rewinds, Rewind, self->rewinds->len - 1);

      if (position_before (top->chunk_index, top->offset, index, offset))
        break;
      g_array_set_size (self->rewinds, self->rewinds->len - 1);
    }
  g_array_append_val (self->rewinds, rewind);

  self->high_index = index;
  self->high_offset = offset;
}

/* The first restore since @checkpoint that went below it, or NULL. Among
 * the restores since, the first entry has the lowest position. */
static const Rewind *
find_rewind_below (NebulaBumpAllocator        *self,
                   const NebulaBumpCheckpoint *checkpoint)
{
  for (guint i = 0; i < self->rewinds->len; i++)
    {
      const Rewind *rewind = &g_array_index (self->rewinds, Rewind, i);

      if (rewind->serial > checkpoint->serial)
        return position_before (rewind->chunk_index, rewind->offset,
                                checkpoint->chunk_index, checkpoint->offset) ? rewind : NULL;
    }

  return NULL;
}

/* Everything allocated since @checkpoint is freed: count it as the callers
 * would have, had they freed each block. */
static void
record_rewind (NebulaBumpAllocator        *self,
               const NebulaBumpCheckpoint *checkpoint)
{
  NebulaAllocatorStats stats;
  guint64 live_blocks;

  if (!self->stats.enabled)
    return;

  nebula_stats_counters_read (&self->stats, &stats);
  live_blocks = stats.allocations - MIN (stats.deallocations, stats.allocations);
  nebula_stats_counters_record_release (&self->stats,
                                        live_blocks > checkpoint->live_blocks
                                          ? live_blocks - checkpoint->live_blocks : 0,
                                        stats.bytes_in_use > checkpoint->bytes_in_use
                                          ? stats.bytes_in_use - checkpoint->bytes_in_use : 0);
}

static void
set_stale (NebulaBumpAllocator  *self,
           GError              **error,
           const char           *why)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_STALE_MARKER, &info,
                    "%s: cannot restore the checkpoint: %s", what, why);
}

/**
 * nebula_bump_allocator_restore:
 * @self: a #NebulaBumpAllocator
 * @checkpoint: a checkpoint of @self
 * @error: return location for a #GError
 *
 * Rewinds @self to @checkpoint: everything allocated since is released at
 * once (chunks added since are kept for reuse, dedicated chunks are freed).
 * Restoring to the same checkpoint again, and to an earlier one, is
 * allowed. A checkpoint of another allocator, from before a reset, ahead
 * of the current position, or one that a restore to an earlier position
 * made stale (even once the allocator has moved past it again: blocks
 * allocated since may span its position) gives
 * %NEBULA_ALLOCATOR_ERROR_STALE_MARKER and leaves @self unchanged. Must
 * not race with allocations: with #NebulaBumpAllocator:thread-safe, every
 * other thread must be done allocating, and each takes a new slice at its
 * next allocation.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_bump_allocator_restore (NebulaBumpAllocator         *self,
                               const NebulaBumpCheckpoint  *checkpoint,
                               GError                     **error)
{
  gboolean atomic;
  Chunk *target, *chunk;
  gsize current_offset;
  const Rewind *rewind;

  g_return_val_if_fail (NEBULA_IS_BUMP_ALLOCATOR (self), FALSE);
  g_return_val_if_fail (checkpoint != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!nebula_bump_ensure_ready (self, error))
    return FALSE;

  /* The calling thread's unused end is not a position of the chunk. */
  if (self->config.thread_safe)
    nebula_bump_thread_give_back (self);

check:
  if (checkpoint->allocator_id != self->id)
    {
      set_stale (self, error, "it belongs to another allocator");
      return FALSE;
    }
  if (checkpoint->generation != self->generation)
    {
      g_autofree char *why = g_strdup_printf ("it was taken before a reset (generation %"
                                              G_GUINT64_FORMAT ", now %" G_GUINT64_FORMAT ")",
                                              checkpoint->generation, self->generation);
      set_stale (self, error, why);
      return FALSE;
    }

  atomic = self->config.thread_safe;
  current_offset = atomic
    ? nebula_bump_chunk_used (self->current, TRUE)
    : (gsize) (self->fast.cursor - self->current->data);

  if (position_before (self->current->index, current_offset,
                       checkpoint->chunk_index, checkpoint->offset))
    {
      g_autofree char *why = g_strdup_printf ("it lies ahead of the cursor (chunk %u offset %"
                                              G_GSIZE_FORMAT ", cursor at chunk %u offset %"
                                              G_GSIZE_FORMAT ")",
                                              checkpoint->chunk_index, checkpoint->offset,
                                              self->current->index, current_offset);
      set_stale (self, error, why);
      return FALSE;
    }

  rewind = find_rewind_below (self, checkpoint);
  if (rewind != NULL)
    {
      g_autofree char *why = g_strdup_printf ("the allocator was rewound to before it since it "
                                              "was taken (to chunk %u offset %" G_GSIZE_FORMAT
                                              ", the checkpoint is at chunk %u offset %"
                                              G_GSIZE_FORMAT "), and blocks allocated since "
                                              "may lie across it",
                                              rewind->chunk_index, rewind->offset,
                                              checkpoint->chunk_index, checkpoint->offset);
      set_stale (self, error, why);
      return FALSE;
    }

  /* The restore will happen: cleanups registered since run while the
   * memory they may read is still there. They may have used the allocator
   * (allocated, restored, reset): check again. */
  if (nebula_cleanup_run_after (self, checkpoint->cleanup_mark))
    goto check;

  /* Every thread's slice is void (the quiescence rule: no other thread
   * allocates meanwhile; the DEBUG preset checks it). */
  if (atomic)
    {
      nebula_bump_thread_quiesce_begin (self, "restore");
      nebula_bump_thread_invalidate (self);
    }

  /* Dedicated chunks created after the checkpoint go. */
  for (Chunk **link = &self->large; *link != NULL;)
    {
      chunk = *link;
      if (chunk->serial >= checkpoint->dedicated_serial)
        {
          *link = chunk->prev;
          self->reserved -= chunk->size;
          nebula_bump_chunk_free (self, chunk);
        }
      else
        link = &chunk->prev;
    }

  /* Newer regular chunks become spares. */
  target = self->current;
  while (target->index > checkpoint->chunk_index)
    {
      chunk = target;
      target = chunk->prev;
      nebula_bump_chunk_rewind (self, chunk, 0, nebula_bump_chunk_position (self, chunk));
      if (!atomic)
        self->used_before -= target->used;
      chunk->prev = self->spare;
      self->spare = chunk;
    }

  nebula_bump_chunk_rewind (self, target, checkpoint->offset,
                            target == self->current
                              ? current_offset
                              : nebula_bump_chunk_used (target, atomic));

  nebula_bump_chunk_make_current (self, target, checkpoint->offset);
  record_restore (self, checkpoint->chunk_index, checkpoint->offset);
  record_rewind (self, checkpoint);
  if (atomic)
    nebula_bump_thread_quiesce_end (self);
  return TRUE;
}

/**
 * nebula_bump_checkpoint_copy:
 * @checkpoint: a #NebulaBumpCheckpoint
 *
 * Copies @checkpoint.
 *
 * Returns: (transfer full): a copy
 */
NebulaBumpCheckpoint *
nebula_bump_checkpoint_copy (const NebulaBumpCheckpoint *checkpoint)
{
  g_return_val_if_fail (checkpoint != NULL, NULL);

  return g_memdup2 (checkpoint, sizeof *checkpoint);
}

/**
 * nebula_bump_checkpoint_free:
 * @checkpoint: a #NebulaBumpCheckpoint
 *
 * Frees @checkpoint.
 */
void
nebula_bump_checkpoint_free (NebulaBumpCheckpoint *checkpoint)
{
  g_free (checkpoint);
}

/**
 * nebula_bump_checkpoint_get_position:
 * @checkpoint: a #NebulaBumpCheckpoint
 *
 * The offset of the checkpoint in its chunk, for diagnostics.
 *
 * Returns: the offset in bytes
 */
guint64
nebula_bump_checkpoint_get_position (const NebulaBumpCheckpoint *checkpoint)
{
  g_return_val_if_fail (checkpoint != NULL, 0);

  return checkpoint->offset;
}

/**
 * nebula_bump_scope_new: (skip)
 * @bump: a #NebulaBumpAllocator
 *
 * Opens a scope on @bump: nebula_bump_scope_free() restores @bump to the
 * position it has now. Use it with g_autoptr().
 *
 * Returns: (transfer full): the scope
 */
NebulaBumpScope *
nebula_bump_scope_new (NebulaBumpAllocator *bump)
{
  NebulaBumpScope *scope;

  g_return_val_if_fail (NEBULA_IS_BUMP_ALLOCATOR (bump), NULL);

  scope = g_new0 (NebulaBumpScope, 1);
  scope->bump = g_object_ref (bump);
  scope->checkpoint = nebula_bump_allocator_checkpoint (bump);

  return scope;
}

/**
 * nebula_bump_scope_free: (skip)
 * @scope: a #NebulaBumpScope
 *
 * Releases everything allocated in @scope. A scope that can no longer be
 * restored (its allocator was reset meanwhile) is closed with a warning.
 */
void
nebula_bump_scope_free (NebulaBumpScope *scope)
{
  g_autoptr(GError) error = NULL;

  if (scope == NULL)
    return;

  if (!nebula_bump_allocator_restore (scope->bump, scope->checkpoint, &error))
    g_warning ("Closing a bump scope: %s", error->message);

  nebula_bump_checkpoint_free (scope->checkpoint);
  g_object_unref (scope->bump);
  g_free (scope);
}
