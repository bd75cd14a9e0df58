/* nebula-bytes.c: handing blocks to GLib as GBytes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-core-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-bytes.h"
#include "nebula-cleanup-private.h"
#include "nebula-strings.h"

/* What the GBytes owns: a reference on the allocator and the block. The
 * block is given back when the last reference goes, unless the allocator
 * released it first (a reset, the end of the scope or frame it was made
 * in): a cleanup registered with the hand-off tells, because it is no
 * longer pending then. */
typedef struct
{
  NebulaAllocator *allocator;
  gpointer         data;
  gsize            size;
  gsize            alignment;
  guint            cleanup;
  gboolean         from_script;
} HandOff;

/* The cleanup's own record: it may run while the GBytes is being freed on
 * another thread, so it shares nothing with the HandOff. */
typedef struct
{
  char     *what;
  gsize     size;
  gboolean  debug;
} Released;

static void
released_free (gpointer data)
{
  Released *released = data;

  g_free (released->what);
  g_free (released);
}

static void
block_released_cb (gpointer data)
{
  Released *released = data;

  /* The GBytes still points at memory the allocator has just taken back:
   * a caller bug that the DEBUG preset reports where it happens (its free
   * fill, 0xDD, then shows in the bytes; ASan and Valgrind report a read). */
  if (released->debug)
    g_critical ("A GBytes of %" G_GSIZE_FORMAT " bytes from %s is still referenced, but its "
                "block was released by a reset or the end of its scope or frame: drop "
                "the GBytes before that, or copy it (g_bytes_new())",
                released->size, released->what);
}

static void
hand_off_free (gpointer data)
{
  HandOff *hand_off = data;

  if (nebula_allocator_remove_cleanup (hand_off->allocator, hand_off->cleanup))
    {
      /* A stack refuses a block that is not its top (OUT_OF_ORDER): it
       * goes with the frame or reset instead. */
      if (hand_off->from_script)
        nebula_allocator_deallocate_address (hand_off->allocator,
                                             (guint64) GPOINTER_TO_SIZE (hand_off->data),
                                             hand_off->size, hand_off->alignment, NULL);
      else
        nebula_allocator_deallocate (hand_off->allocator, hand_off->data, hand_off->size,
                                     hand_off->alignment, NULL);
    }

  g_object_unref (hand_off->allocator);
  g_free (hand_off);
}

static gboolean
is_debug (NebulaAllocator *self)
{
  NebulaAllocatorConfig *config;

  if (!nebula_allocator_is_core (self))
    return FALSE;
  config = nebula_allocator_get_core (self)->config;
  return config != NULL && config->preset == NEBULA_PRESET_DEBUG;
}

static GBytes *
hand_off (NebulaAllocator *self,
          gpointer         data,
          gsize            size,
          gsize            alignment,
          gboolean         from_script)
{
  HandOff *hand_off = g_new0 (HandOff, 1);
  Released *released = g_new0 (Released, 1);

  released->what = nebula_allocator_describe (self);
  released->size = size;
  released->debug = is_debug (self);

  hand_off->allocator = g_object_ref (self);
  hand_off->data = data;
  hand_off->size = size;
  hand_off->alignment = alignment;
  hand_off->from_script = from_script;
  hand_off->cleanup = nebula_allocator_add_cleanup_full (self, block_released_cb, released,
                                                         released_free);

  return g_bytes_new_with_free_func (data, size, hand_off_free, hand_off);
}

/**
 * nebula_allocator_to_bytes: (skip)
 * @self: a #NebulaAllocator
 * @data: a block of @self
 * @size: the size it was allocated with
 * @alignment: the alignment it was allocated with
 * @error: return location for a #GError
 *
 * Hands a block of @self to GLib without copying: the #GBytes holds a
 * reference on @self and owns the block, which it gives back with
 * nebula_allocator_deallocate() when its last reference goes. Do not free
 * the block yourself afterwards.
 *
 * The block still belongs to @self's lifetime. A reset of @self, and for a
 * #NebulaBumpAllocator or #NebulaStackAllocator the end of the scope,
 * checkpoint or frame the #GBytes was made in, releases the block whatever
 * the #GBytes says: drop the #GBytes before that, or copy it. When the
 * allocator released the block first, the last unref gives nothing back
 * (so a later block at the same address is not freed by mistake), and an
 * allocator with the %NEBULA_PRESET_DEBUG preset reports it with a
 * critical warning at the reset or scope end that released it; its free
 * fill also overwrites the bytes, and ASan and Valgrind report any later
 * read. Make the #GBytes in the scope its block was allocated in.
 *
 * A stack gives back only its top block; a #GBytes of another block goes
 * with the frame or reset.
 *
 * A %NULL @data, or a pointer @self does not own, gives
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER and takes nothing; @size and
 * @alignment are trusted as those of a free are (the script twin checks
 * them).
 *
 * Returns: (transfer full) (nullable): the bytes, or %NULL with @error set
 */
GBytes *
nebula_allocator_to_bytes (NebulaAllocator  *self,
                           gpointer          data,
                           gsize             size,
                           gsize             alignment,
                           GError          **error)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* C callers are trusted with the size, as for a free; the allocator
   * must at least own the block. */
  if (data == NULL || (size > 0 && !nebula_allocator_owns (self, data)))
    {
      g_autofree char *what = nebula_allocator_describe (self);
      NebulaErrorInfo info = { 0, };

      info.what = what;
      info.requested = size;
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, &info,
                        "%s: cannot make a GBytes of %" G_GSIZE_FORMAT " bytes at %p: "
                        "not a block of this allocator", what, size, data);
      return NULL;
    }

  return hand_off (self, data, size, alignment, FALSE);
}

/**
 * nebula_allocator_to_bytes_address: (rename-to nebula_allocator_to_bytes)
 * @self: a #NebulaAllocator
 * @address: the address of a block of @self
 * @size: the size it was allocated with
 * @alignment: the alignment it was allocated with
 * @error: return location for a #GError
 *
 * nebula_allocator_to_bytes() for language bindings: the span is checked
 * before the #GBytes takes it: it must lie wholly in live memory of @self
 * and begin a block (where @self can tell). The script must not free the
 * address itself afterwards; a second free is refused where the allocator
 * can tell.
 *
 * Returns: (transfer full) (nullable): the bytes, or %NULL with @error set
 */
GBytes *
nebula_allocator_to_bytes_address (NebulaAllocator  *self,
                                   guint64           address,
                                   guint64           size,
                                   guint64           alignment,
                                   GError          **error)
{
  gboolean ledgered = FALSE;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Wholly inside live memory (a bump or stack defers the free check to
   * its own free, which does not know where a block ends), and the start
   * of a block. */
  if (!nebula_script_check (self, address, size, NEBULA_SPAN_INSIDE, "hand off", &ledgered, error) ||
      !nebula_script_check (self, address, size, NEBULA_SPAN_FREE, "hand off", &ledgered, error))
    return NULL;
  if (alignment == 0 || alignment > G_MAXSIZE || (alignment & (alignment - 1)) != 0)
    {
      g_autofree char *what = nebula_allocator_describe (self);
      NebulaErrorInfo info = { 0, };

      info.what = what;
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT,
                        &info, "%s: alignment %" G_GUINT64_FORMAT " is not a power of two",
                        what, alignment);
      return NULL;
    }

  return hand_off (self, GSIZE_TO_POINTER ((gsize) address), (gsize) size, (gsize) alignment,
                   TRUE);
}

/**
 * nebula_allocator_bytes_new:
 * @self: a #NebulaAllocator
 * @data: (array length=size) (element-type guint8) (nullable): the bytes to copy
 * @size: the number of bytes
 * @alignment: the alignment of the copy, a power of two
 * @error: return location for a #GError
 *
 * Copies @data into a block of @self and hands the block to GLib as a
 * #GBytes: nebula_allocator_memdup() then nebula_allocator_to_bytes(),
 * with the same rule for resets and scopes.
 *
 * Returns: (transfer full) (nullable): the bytes, or %NULL with @error set
 */
GBytes *
nebula_allocator_bytes_new (NebulaAllocator  *self,
                            const guint8     *data,
                            gsize             size,
                            gsize             alignment,
                            GError          **error)
{
  gpointer copy;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  copy = nebula_allocator_memdup (self, data, size, alignment, error);
  if (copy == NULL)
    return NULL;

  return hand_off (self, copy, size, alignment, FALSE);
}
