/* nebula-typed.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-typed.h"

/* @n_elements times @element_size in @size, or SIZE_OVERFLOW: no block has
 * a size that does not fit in a gsize. */
static gboolean
array_size (NebulaAllocator  *self,
            gsize             n_elements,
            gsize             element_size,
            gsize            *size,
            GError          **error)
{
  g_autofree char *what = NULL;
  NebulaErrorInfo info = { 0, };

  if (G_LIKELY (g_size_checked_mul (size, n_elements, element_size)))
    return TRUE;

  what = nebula_allocator_describe (self);
  info.requested = G_MAXSIZE;
  info.what = what;
  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW, &info,
                    "%s: %" G_GSIZE_FORMAT " elements of %" G_GSIZE_FORMAT
                    " bytes overflow the size type (at most %" G_GSIZE_FORMAT " bytes)",
                    what, n_elements, element_size, (gsize) G_MAXSIZE);
  return FALSE;
}

/**
 * nebula_allocator_allocate_array: (skip)
 * @self: a #NebulaAllocator
 * @n_elements: how many elements
 * @element_size: the size of one element, in bytes
 * @alignment: the alignment, a power of two
 * @zeroed: whether to zero-fill the block
 * @error: return location for a #GError
 *
 * Allocates room for @n_elements elements of @element_size bytes. The
 * multiplication is checked: when it does not fit in a #gsize, the result
 * is %NULL with %NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW (counted as a failed
 * allocation) instead of a block that is too small. The nebula_allocator_new()
 * and nebula_allocator_new0() macros call this with `sizeof` and
 * `G_ALIGNOF` of a type.
 *
 * Returns: (transfer none) (nullable): the memory, or %NULL with @error set
 */
gpointer
nebula_allocator_allocate_array (NebulaAllocator  *self,
                                 gsize             n_elements,
                                 gsize             element_size,
                                 gsize             alignment,
                                 gboolean          zeroed,
                                 GError          **error)
{
  gsize size;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (G_UNLIKELY (!array_size (self, n_elements, element_size, &size, error)))
    {
      nebula_allocator_record_failure (self);
      return NULL;
    }
  if (zeroed)
    return nebula_allocator_allocate_zeroed (self, size, alignment, error);
  return nebula_allocator_allocate (self, size, alignment, error);
}

/**
 * nebula_allocator_deallocate_array: (skip)
 * @self: a #NebulaAllocator
 * @ptr: a block from nebula_allocator_allocate_array() on @self
 * @n_elements: the number of elements it was allocated with
 * @element_size: the size of one element, in bytes
 * @alignment: the alignment it was allocated with
 * @error: return location for a #GError
 *
 * Gives back a block of @n_elements elements of @element_size bytes, as
 * nebula_allocator_deallocate() does. A product that does not fit in a
 * #gsize cannot be the size of a block: %NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW,
 * and nothing is freed. The nebula_allocator_delete() macro calls this
 * with `sizeof` and `G_ALIGNOF` of a type.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_allocator_deallocate_array (NebulaAllocator  *self,
                                   gpointer          ptr,
                                   gsize             n_elements,
                                   gsize             element_size,
                                   gsize             alignment,
                                   GError          **error)
{
  gsize size;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (G_UNLIKELY (!array_size (self, n_elements, element_size, &size, error)))
    return FALSE;
  return nebula_allocator_deallocate (self, ptr, size, alignment, error);
}

/**
 * nebula_allocator_allocate_array_address: (rename-to nebula_allocator_allocate_array)
 * @self: a #NebulaAllocator
 * @n_elements: how many elements
 * @element_size: the size of one element, in bytes
 * @alignment: the alignment, a power of two
 * @zeroed: whether to zero-fill the block
 * @error: return location for a #GError
 *
 * nebula_allocator_allocate_array() for language bindings: the block's
 * address as an integer. Counts that do not fit in a #gsize overflow like
 * a product that does not.
 *
 * Returns: the address, or 0 with @error set
 */
guint64
nebula_allocator_allocate_array_address (NebulaAllocator  *self,
                                         guint64           n_elements,
                                         guint64           element_size,
                                         guint64           alignment,
                                         gboolean          zeroed,
                                         GError          **error)
{
  gpointer ptr;

  /* gsize has 64 bits wherever Nebula is tested; where it is narrower, a
   * count that does not fit overflows like a product that does not. */
  if (n_elements > G_MAXSIZE || element_size > G_MAXSIZE)
    {
      n_elements = G_MAXSIZE;
      element_size = 2;
    }
  if (alignment > G_MAXSIZE)
    alignment = 0;

  ptr = nebula_allocator_allocate_array (self, (gsize) n_elements, (gsize) element_size,
                                         (gsize) alignment, zeroed, error);
  /* Scripts free it through the checked entry points: see
   * nebula_allocator_allocate_address(). */
  if (ptr != NULL)
    nebula_script_record (self, ptr, (gsize) n_elements * (gsize) element_size);

  return (guint64) GPOINTER_TO_SIZE (ptr);
}
