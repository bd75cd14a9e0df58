/* nebula-stack-high.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-script-private.h"
#include "nebula-stack-allocator-private.h"

static void
set_single_ended (NebulaStackAllocator  *self,
                  gsize                  size,
                  GError               **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };

  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED, &info,
                    "%s has no high end: construct it with the 'double-ended' property "
                    "(size %" G_GSIZE_FORMAT ")", what, size);
}

static gpointer
allocate_high (NebulaStackAllocator  *self,
               gsize                  size,
               gsize                  alignment,
               GError               **error)
{
  gsize mask = effective_alignment (alignment) - 1;
  guintptr block;

  if (!self->double_ended)
    {
      set_single_ended (self, size, error);
      return NULL;
    }
  /* A child arena that its parent released starts again. */
  if (self->current == NULL && !nebula_stack_chunk_start (self, error))
    return NULL;

  block = ((guintptr) self->fast.limit - size) & ~(guintptr) mask;
  if (size > (gsize) (self->fast.limit - self->fast.cursor) ||
      block < (guintptr) self->fast.cursor + HEADER_SIZE)
    {
      nebula_stack_chunk_set_exhausted (self, size, alignment, TRUE, error);
      return NULL;
    }
  write_header (self, (guint8 *) block, self->high_last, size, FALSE);
  self->high_last = (guint8 *) block;
  self->fast.limit = (guint8 *) block - HEADER_SIZE;
  NEBULA_MEMPOOL_ALLOC (HIGH_POOL (self->current), (gpointer) block, size);
  fill (self->config.alloc_fill, (gpointer) block, size);

  return (gpointer) block;
}

gboolean
nebula_stack_high_pop (NebulaStackAllocator  *self,
                       gsize                  size,
                       GError               **error)
{
  EndState state = high_state (self);
  guint8 *block = self->high_last;
  gsize block_size;

  if (!high_step (self, &state, &block_size, error))
    return FALSE;

  if (block_size != size)
    {
      nebula_stack_allocator_set_wrong_size (self, block, block_size, size, error);
      return FALSE;
    }

  nebula_stack_chunk_set_high_state (self, &state);
  return TRUE;
}

gpointer
nebula_stack_high_reallocate_top (NebulaStackAllocator  *self,
                                  guint8                *ptr,
                                  gsize                  old_size,
                                  gsize                  new_size,
                                  gsize                  alignment,
                                  GError               **error)
{
  gsize mask = effective_alignment (alignment) - 1;
  guint8 *prev;
  gsize size;
  guintptr ceiling, block;

  if (!read_high_header (self, self->current, ptr, &prev, &size, error))
    return NULL;
  if (size != old_size)
    {
      nebula_stack_allocator_set_wrong_size (self, ptr, size, old_size, error);
      return NULL;
    }

  /* Shrinking keeps the block where it is. */
  if (new_size <= old_size && ((guintptr) ptr & mask) == 0)
    {
      fill (self->config.free_fill, ptr + new_size, old_size - new_size);
      write_header (self, ptr, prev, new_size, FALSE);
      NEBULA_MEMPOOL_RESIZE (HIGH_POOL (self->current), ptr, old_size, new_size);
      return ptr;
    }

  /* Growing moves it down, towards the low end. */
  ceiling = prev != NULL ? (guintptr) prev - HEADER_SIZE : (guintptr) chunk_end (self->current);
  block = (ceiling - new_size) & ~(guintptr) mask;
  if (new_size > ceiling - (guintptr) self->fast.cursor ||
      block < (guintptr) self->fast.cursor + HEADER_SIZE)
    {
      nebula_stack_chunk_set_exhausted (self, new_size, alignment, TRUE, error);
      return NULL;
    }
  move_open (ptr, old_size, (guint8 *) block, new_size);
  memmove ((gpointer) block, ptr, MIN (old_size, new_size));
  write_header (self, (guint8 *) block, prev, new_size, FALSE);
  move_close (HIGH_POOL (self->current), ptr, old_size, (guint8 *) block, new_size);
  self->high_last = (guint8 *) block;
  self->fast.limit = (guint8 *) block - HEADER_SIZE;
  if (new_size > old_size)
    fill (self->config.alloc_fill, (guint8 *) block + old_size, new_size - old_size);

  return (gpointer) block;
}

/**
 * nebula_stack_allocator_allocate_high: (skip)
 * @self: a #NebulaStackAllocator
 * @size: the number of bytes
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * Allocates @size bytes at @alignment on the high end of a double-ended
 * stack, which grows down towards the low end. When the ends would meet,
 * fails with %NEBULA_ALLOCATOR_ERROR_EXHAUSTED and both fill levels in the
 * message. A single-ended stack gives %NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED.
 *
 * Returns: (transfer none) (nullable): the memory, or %NULL with @error set
 */
gpointer
nebula_stack_allocator_allocate_high (NebulaStackAllocator  *self,
                                      gsize                  size,
                                      gsize                  alignment,
                                      GError               **error)
{
  gpointer ptr = NULL;

  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), NULL);

  if (nebula_layout_check (NEBULA_ALLOCATOR (self), size, alignment, error))
    {
      if (ensure_ready (self, error))
        ptr = allocate_high (self, MAX (size, 1), alignment, error);
    }

  if (ptr != NULL)
    nebula_stats_counters_record_allocation (&self->stats, size);
  else
    nebula_stats_counters_record_failure (&self->stats);

  return ptr;
}

/**
 * nebula_stack_allocator_allocate_high_address: (rename-to nebula_stack_allocator_allocate_high)
 * @self: a #NebulaStackAllocator
 * @size: the number of bytes
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * nebula_stack_allocator_allocate_high() for language bindings: the block's
 * address as an integer.
 *
 * Returns: the address, or 0 with @error set
 */
guint64
nebula_stack_allocator_allocate_high_address (NebulaStackAllocator  *self,
                                              guint64                size,
                                              guint64                alignment,
                                              GError               **error)
{
  return (guint64) GPOINTER_TO_SIZE (nebula_stack_allocator_allocate_high (self, size, alignment,
                                                                           error));
}

/**
 * nebula_stack_allocator_deallocate_high: (skip)
 * @self: a #NebulaStackAllocator
 * @ptr: the top block of the high end
 * @size: the size it was allocated with
 * @error: return location for a #GError
 *
 * Pops the top block of the high end. Another block of the high end gives
 * %NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER, a block of the low end or from
 * elsewhere %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER; either way nothing
 * changes. ([method@Allocator.deallocate] pops the top of either end.)
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_stack_allocator_deallocate_high (NebulaStackAllocator  *self,
                                        gpointer               ptr,
                                        gsize                  size,
                                        GError               **error)
{
  gboolean ok = FALSE;

  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), FALSE);

  if (!ensure_ready (self, error))
    ;
  else if (!self->double_ended)
    set_single_ended (self, size, error);
  else if (ptr != NULL && ptr == self->high_last)
    ok = nebula_stack_high_pop (self, MAX (size, 1), error);
  else if (ptr != NULL && nebula_stack_allocator_owns_ptr (self, ptr) &&
           (guint8 *) ptr < self->fast.limit)
    nebula_stack_allocator_set_foreign_pointer (self, ptr, size, "belongs to the low end of the "
                                                "stack, not the high end", error);
  else
    nebula_stack_allocator_set_not_top (self, ptr, size, "free", error);

  if (ok)
    nebula_stats_counters_record_deallocation (&self->stats, size);

  return ok;
}

/**
 * nebula_stack_allocator_deallocate_high_address: (rename-to nebula_stack_allocator_deallocate_high)
 * @self: a #NebulaStackAllocator
 * @address: the address of the top block of the high end
 * @size: the size it was allocated with
 * @error: return location for a #GError
 *
 * nebula_stack_allocator_deallocate_high() for language bindings; an
 * address outside the used part of the stack gives
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER before anything is read.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_stack_allocator_deallocate_high_address (NebulaStackAllocator  *self,
                                                guint64                address,
                                                guint64                size,
                                                GError               **error)
{
  g_return_val_if_fail (NEBULA_IS_STACK_ALLOCATOR (self), FALSE);

  /* The check every script entry point makes (nebula-allocator-script.c). */
  if (address != 0 && size <= NEBULA_MAX_ALLOCATION_SIZE &&
      !nebula_script_check (NEBULA_ALLOCATOR (self), address, size, NEBULA_SPAN_FREE, "free",
                            NULL, error))
    return FALSE;

  return nebula_stack_allocator_deallocate_high (self, GSIZE_TO_POINTER (address), size, error);
}
