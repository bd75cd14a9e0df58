/* nebula-allocator-address.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `_address` twins of the NebulaAllocator wrappers, for language
 * bindings: addresses as integers, checked against the allocator (and its
 * script ledger, nebula-allocator-script.c) before a script may free,
 * resize or view them.
 */

#include "config.h"

#include "nebula-allocator-private.h"
#include "nebula-allocator-script-private.h"

/**
 * nebula_allocator_allocate_address: (rename-to nebula_allocator_allocate)
 * @self: a #NebulaAllocator
 * @size: the number of bytes
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * nebula_allocator_allocate() for language bindings: the block's address as
 * an integer. An allocator that cannot tell a live block from a freed one
 * (a pool or system allocator without check-frees) remembers the block, so
 * that the other script entry points can check it: see
 * [Safety](safety.html#what-each-preset-checks).
 *
 * Returns: the address, or 0 with @error set
 */
guint64
nebula_allocator_allocate_address (NebulaAllocator  *self,
                                   guint64           size,
                                   guint64           alignment,
                                   GError          **error)
{
  gpointer ptr;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);

  ptr = nebula_allocator_allocate (self, size, alignment, error);
  nebula_script_record (self, ptr, size);

  return (guint64) GPOINTER_TO_SIZE (ptr);
}

/**
 * nebula_allocator_allocate_zeroed_address: (rename-to nebula_allocator_allocate_zeroed)
 * @self: a #NebulaAllocator
 * @size: the number of bytes
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * nebula_allocator_allocate_zeroed() for language bindings.
 *
 * Returns: the address, or 0 with @error set
 */
guint64
nebula_allocator_allocate_zeroed_address (NebulaAllocator  *self,
                                          guint64           size,
                                          guint64           alignment,
                                          GError          **error)
{
  gpointer ptr;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);

  ptr = nebula_allocator_allocate_zeroed (self, size, alignment, error);
  nebula_script_record (self, ptr, size);

  return (guint64) GPOINTER_TO_SIZE (ptr);
}

/**
 * nebula_allocator_reallocate_address: (rename-to nebula_allocator_reallocate)
 * @self: a #NebulaAllocator
 * @address: the block's address, or 0 to allocate
 * @old_size: the size the block has
 * @new_size: the size wanted
 * @alignment: the alignment the block was allocated with
 * @error: return location for a #GError
 *
 * nebula_allocator_reallocate() for language bindings. Unlike the C
 * function, it checks @address against the allocator whatever the preset:
 * an address that is not a live block of @self at least @old_size bytes
 * long gives %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER (or
 * %NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT for a block shorter than
 * @old_size) and touches nothing.
 *
 * Returns: the new address, or 0 with @error set
 */
guint64
nebula_allocator_reallocate_address (NebulaAllocator  *self,
                                     guint64           address,
                                     guint64           old_size,
                                     guint64           new_size,
                                     guint64           alignment,
                                     GError          **error)
{
  gpointer ptr = GSIZE_TO_POINTER (address);
  gpointer new_ptr;
  gboolean ledgered = FALSE;
  gsize recorded = 0;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);

  /* A bad layout fails in the C function before any memory is touched,
   * with the error C callers get. */
  if (address != 0 &&
      nebula_layout_is_valid (old_size, alignment) && nebula_layout_is_valid (new_size, alignment))
    {
      if (!nebula_script_check (self, address, old_size, NEBULA_SPAN_RESIZE, "resize",
                                &ledgered, error))
        {
          nebula_allocator_record_failure (self);
          return 0;
        }
      /* Taken out while the allocator works on it, so that two threads
       * cannot both pass the check for one block. */
      if (ledgered && !nebula_script_forget (self, ptr, &recorded))
        {
          nebula_script_check (self, address, old_size, NEBULA_SPAN_RESIZE, "resize", NULL, error);
          nebula_allocator_record_failure (self);
          return 0;
        }
    }

  new_ptr = nebula_allocator_reallocate (self, ptr, old_size, new_size, alignment, error);
  if (new_ptr == NULL && ledgered)
    nebula_script_restore (self, ptr, recorded);
  else if (new_ptr != NULL && (ledgered || address == 0))
    nebula_script_record (self, new_ptr, new_size);

  return (guint64) GPOINTER_TO_SIZE (new_ptr);
}

/**
 * nebula_allocator_deallocate_address: (rename-to nebula_allocator_deallocate)
 * @self: a #NebulaAllocator
 * @address: the block's address
 * @size: the size it was allocated with
 * @alignment: the alignment it was allocated with
 * @error: return location for a #GError
 *
 * nebula_allocator_deallocate() for language bindings. Unlike the C
 * function, it checks @address against the allocator whatever the preset:
 * an address that is not a live block of @self at least @size bytes long
 * gives %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER (or
 * %NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT) and frees nothing. A pool or
 * system allocator without check-frees can only tell the blocks that
 * scripts allocated from it: a block allocated from C cannot be freed from
 * a script unless check-frees is on.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_allocator_deallocate_address (NebulaAllocator  *self,
                                     guint64           address,
                                     guint64           size,
                                     guint64           alignment,
                                     GError          **error)
{
  gpointer ptr = GSIZE_TO_POINTER (address);
  gboolean ledgered = FALSE;
  gsize recorded = 0;
  gboolean ok;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), FALSE);

  if (address != 0 && nebula_layout_is_valid (size, alignment))
    {
      if (!nebula_script_check (self, address, size, NEBULA_SPAN_FREE, "free", &ledgered, error))
        return FALSE;
      if (ledgered && !nebula_script_forget (self, ptr, &recorded))
        return nebula_script_check (self, address, size, NEBULA_SPAN_FREE, "free", NULL, error);
    }

  ok = nebula_allocator_deallocate (self, ptr, size, alignment, error);
  if (!ok && ledgered)
    nebula_script_restore (self, ptr, recorded);

  return ok;
}

/**
 * nebula_allocator_owns_address: (rename-to nebula_allocator_owns)
 * @self: a #NebulaAllocator
 * @address: any address
 *
 * nebula_allocator_owns() for language bindings.
 *
 * Returns: %TRUE if @self owns @address
 */
gboolean
nebula_allocator_owns_address (NebulaAllocator *self,
                               guint64          address)
{
  return nebula_allocator_owns (self, GSIZE_TO_POINTER (address));
}

/**
 * nebula_allocator_check_span_address:
 * @self: a #NebulaAllocator
 * @address: the first byte
 * @size: the number of bytes
 * @error: return location for a #GError
 *
 * Checks that the @size bytes at @address are memory that @self handed out
 * and still manages, so that a language binding may read and write them:
 * Python's `Allocator.view()` calls it. The bytes must lie wholly inside
 * one live block; a bump allocator, which does not know where its blocks
 * end, accepts any span inside the used part of one of its chunks, and a
 * stack any span inside the used part of one end. A pool or system
 * allocator without check-frees knows only the blocks that scripts
 * allocated from it (see nebula_allocator_allocate_address()). An
 * allocator implemented outside Nebula is asked through its contains slot
 * for the first and the last byte. Never dereferences @address.
 *
 * A span that is not there, or that wraps around the end of the address
 * space, gives %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER with the numbers;
 * an allocator whose configuration is invalid gives
 * %NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG.
 *
 * Returns: %TRUE if the span is the allocator's live memory, %FALSE with
 *   @error set
 */
gboolean
nebula_allocator_check_span_address (NebulaAllocator  *self,
                                     guint64           address,
                                     guint64           size,
                                     GError          **error)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return nebula_script_check (self, address, size, NEBULA_SPAN_INSIDE, "view", NULL, error);
}
