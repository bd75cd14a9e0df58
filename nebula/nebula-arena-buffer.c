/* nebula-arena-buffer.c: a growable buffer in any allocator
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "nebula-allocator-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-arena-buffer.h"
#include "nebula-bytes.h"
#include "nebula-cleanup.h"
#include "nebula-strings-private.h"

/**
 * NebulaArenaBuffer:
 *
 * A growable byte buffer (or array: see
 * nebula_arena_buffer_append_array()) whose storage is one block of a
 * #NebulaAllocator, like obstack's growing object, bumpalo's `Vec` and
 * `String`, or a #GString in an arena. Appending grows the block with
 * nebula_allocator_reallocate(): in a #NebulaBumpAllocator or
 * #NebulaStackAllocator the most recent block grows in place when its
 * chunk has room, and any other block moves (the old copy stays in the
 * arena until a reset). A finish call hands the block over, shrunk to the
 * length, and leaves the buffer empty for the next object.
 *
 * The buffer holds a reference on its allocator. A reset of the allocator,
 * or the end of a bump scope, checkpoint or stack frame taken before the
 * buffer's block last grew, releases the block: the next call on the
 * buffer says so with %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER and starts
 * again empty, and dropping the buffer frees nothing. A buffer is not
 * thread-safe.
 *
 * |[<!-- language="C" -->
 * g_autoptr(NebulaArenaBuffer) body = nebula_arena_buffer_new (arena, 1, &error);
 *
 * for (guint i = 0; i < n_items; i++)
 *   if (!nebula_arena_buffer_append_printf (body, &error, "<li>%s</li>\n", items[i]))
 *     return FALSE;
 * html = nebula_arena_buffer_finish_string (body, &error);
 * ]|
 */
struct _NebulaArenaBuffer
{
  gatomicrefcount  ref_count;
  NebulaAllocator *allocator;
  gsize            alignment;
  guint8          *data;          /* NULL until the first growth */
  gsize            length;
  gsize            capacity;      /* the size the block was allocated with */
  /* A cleanup registered when the block last grew sets *released when the
   * allocator lets the block go; the flag is shared with that cleanup. */
  guint            cleanup;
  gint            *released;
};

G_DEFINE_BOXED_TYPE (NebulaArenaBuffer, nebula_arena_buffer,
                     nebula_arena_buffer_ref, nebula_arena_buffer_unref)

#define MIN_CAPACITY 64

static void
mark_released_cb (gpointer data)
{
  g_atomic_int_set ((gint *) data, 1);
}

static void
release_flag (gpointer data)
{
  g_atomic_rc_box_release (data);
}

static void
untrack_block (NebulaArenaBuffer *self)
{
  if (self->released == NULL)
    return;

  nebula_allocator_remove_cleanup (self->allocator, self->cleanup);
  g_atomic_rc_box_release (self->released);
  self->released = NULL;
  self->cleanup = 0;
}

/* Registered after every growth, so that it is newer than any scope the
 * block grew in. */
static void
track_block (NebulaArenaBuffer *self)
{
  untrack_block (self);
  self->released = g_atomic_rc_box_new0 (gint);
  self->cleanup = nebula_allocator_add_cleanup_full (self->allocator, mark_released_cb,
                                                     g_atomic_rc_box_acquire (self->released),
                                                     release_flag);
}

static void
forget_block (NebulaArenaBuffer *self)
{
  untrack_block (self);
  self->data = NULL;
  self->length = 0;
  self->capacity = 0;
}

static void
set_buffer_error (NebulaArenaBuffer  *self,
                  GError            **error,
                  gint                code,
                  const char         *format,
                  ...) G_GNUC_PRINTF (4, 5);

static void
set_buffer_error (NebulaArenaBuffer  *self,
                  GError            **error,
                  gint                code,
                  const char         *format,
                  ...)
{
  g_autofree char *what = nebula_allocator_describe (self->allocator);
  g_autofree char *detail = NULL;
  NebulaErrorInfo info = { 0, };
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  info.what = what;
  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, code, &info, "%s: arena buffer: %s", what,
                    detail);
}

/* Whether the block is still the allocator's; a released one is dropped
 * (the buffer starts again empty) with an error. */
static gboolean
check_usable (NebulaArenaBuffer  *self,
              GError            **error)
{
  if (self->data == NULL || !g_atomic_int_get (self->released))
    return TRUE;

  set_buffer_error (self, error, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER,
                    "its block of %" G_GSIZE_FORMAT " bytes was released by a reset or the "
                    "end of a scope or frame; the buffer starts again empty",
                    self->capacity);
  forget_block (self);
  return FALSE;
}

static gboolean
grow_to (NebulaArenaBuffer  *self,
         gsize               needed,
         GError            **error)
{
  gsize capacity;
  guint8 *data;

  if (needed <= self->capacity)
    return TRUE;

  /* Doubling keeps appends amortized O(1); a block that cannot double
   * (a pool block, an arena nearly full) still takes what is needed. */
  if (!g_size_checked_mul (&capacity, self->capacity, 2))
    capacity = needed;
  capacity = MAX (MAX (capacity, needed), MIN_CAPACITY);

  for (;;)
    {
      g_autoptr(GError) local_error = NULL;

      if (self->data == NULL)
        data = nebula_allocator_allocate (self->allocator, capacity, self->alignment, &local_error);
      else
        data = nebula_allocator_reallocate (self->allocator, self->data, self->capacity, capacity,
                                            self->alignment, &local_error);
      if (data != NULL)
        break;
      if (capacity == needed)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      capacity = needed;
    }

  self->data = data;
  self->capacity = capacity;
  track_block (self);
  return TRUE;
}

static gboolean
grow_by (NebulaArenaBuffer  *self,
         gsize               additional,
         GError            **error)
{
  gsize needed;

  if (!g_size_checked_add (&needed, self->length, additional))
    {
      set_buffer_error (self, error, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW,
                        "%" G_GSIZE_FORMAT " more bytes after %" G_GSIZE_FORMAT
                        " overflow the size type", additional, self->length);
      return FALSE;
    }

  return grow_to (self, needed, error);
}

/**
 * nebula_arena_buffer_new:
 * @allocator: the #NebulaAllocator the buffer's block comes from
 * @alignment: the alignment of the block, a power of two (1 for text;
 *   `G_ALIGNOF (T)` for an array of `T`)
 * @error: return location for a #GError
 *
 * Makes an empty buffer. It allocates nothing until the first append.
 * An alignment that is not a power of two gives
 * %NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT.
 *
 * Returns: (transfer full) (nullable): the buffer, or %NULL with @error set
 */
NebulaArenaBuffer *
nebula_arena_buffer_new (NebulaAllocator  *allocator,
                         gsize             alignment,
                         GError          **error)
{
  NebulaArenaBuffer *self;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (allocator), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    {
      g_autofree char *what = nebula_allocator_describe (allocator);
      NebulaErrorInfo info = { 0, };

      info.what = what;
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT,
                        &info, "%s: arena buffer alignment %" G_GSIZE_FORMAT
                        " is not a power of two", what, alignment);
      return NULL;
    }

  self = g_new0 (NebulaArenaBuffer, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->allocator = g_object_ref (allocator);
  self->alignment = alignment;

  return self;
}

/**
 * nebula_arena_buffer_ref:
 * @self: a #NebulaArenaBuffer
 *
 * Takes a reference.
 *
 * Returns: (transfer full): @self
 */
NebulaArenaBuffer *
nebula_arena_buffer_ref (NebulaArenaBuffer *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * nebula_arena_buffer_unref:
 * @self: (transfer full): a #NebulaArenaBuffer
 *
 * Drops a reference. The last one gives an unfinished block back to the
 * allocator (which, for a bump allocator, reclaims it only if it is the
 * most recent block) and releases the allocator.
 */
void
nebula_arena_buffer_unref (NebulaArenaBuffer *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  if (self->data != NULL && !g_atomic_int_get (self->released))
    {
      /* A stack refuses a block that is not its top: it goes with the
       * frame or reset instead. */
      nebula_allocator_deallocate (self->allocator, self->data, self->capacity, self->alignment,
                                   NULL);
    }
  untrack_block (self);
  g_object_unref (self->allocator);
  g_free (self);
}

/**
 * nebula_arena_buffer_append:
 * @self: a #NebulaArenaBuffer
 * @data: (array length=size) (element-type guint8) (nullable): the bytes
 * @size: the number of bytes
 * @error: return location for a #GError
 *
 * Appends @size bytes, growing the block when needed. On failure the
 * buffer is unchanged (an allocator that cannot grow the block says why:
 * %NEBULA_ALLOCATOR_ERROR_EXHAUSTED, ...). %NULL @data with a non-zero
 * @size gives %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_arena_buffer_append (NebulaArenaBuffer  *self,
                            const guint8       *data,
                            gsize               size,
                            GError            **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_usable (self, error))
    return FALSE;
  if (data == NULL && size > 0)
    {
      set_buffer_error (self, error, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER,
                        "NULL data of %" G_GSIZE_FORMAT " bytes", size);
      return FALSE;
    }
  if (size == 0)
    return TRUE;
  if (!grow_by (self, size, error))
    return FALSE;

  memcpy (self->data + self->length, data, size);
  self->length += size;
  return TRUE;
}

/**
 * nebula_arena_buffer_append_string:
 * @self: a #NebulaArenaBuffer
 * @str: the text to append, without its nul byte
 * @error: return location for a #GError
 *
 * Appends the bytes of @str (UTF-8 in language bindings).
 * nebula_arena_buffer_finish_string() ends the text with a nul byte.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_arena_buffer_append_string (NebulaArenaBuffer  *self,
                                   const char         *str,
                                   GError            **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (str == NULL)
    {
      if (!check_usable (self, error))
        return FALSE;
      set_buffer_error (self, error, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, "NULL string");
      return FALSE;
    }

  return nebula_arena_buffer_append (self, (const guint8 *) str, strlen (str), error);
}

/**
 * nebula_arena_buffer_append_array: (skip)
 * @self: a #NebulaArenaBuffer
 * @data: (nullable): @n_elements elements
 * @n_elements: how many elements
 * @element_size: the size of one element
 * @error: return location for a #GError
 *
 * Appends @n_elements elements of @element_size bytes: the buffer as a
 * growable array (make it with the elements' alignment). A product that
 * does not fit in a #gsize gives %NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW.
 *
 * |[<!-- language="C" -->
 * g_autoptr(NebulaArenaBuffer) points = nebula_arena_buffer_new (arena, G_ALIGNOF (Point), &error);
 * Point p = { 1, 2 };
 * nebula_arena_buffer_append_array (points, &p, 1, sizeof p, &error);
 * ...
 * Point *all = nebula_arena_buffer_finish (points, &size, &error);   // size / sizeof (Point) points
 * ]|
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_arena_buffer_append_array (NebulaArenaBuffer  *self,
                                  gconstpointer       data,
                                  gsize               n_elements,
                                  gsize               element_size,
                                  GError            **error)
{
  gsize size;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_size_checked_mul (&size, n_elements, element_size))
    {
      set_buffer_error (self, error, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW,
                        "%" G_GSIZE_FORMAT " elements of %" G_GSIZE_FORMAT
                        " bytes overflow the size type", n_elements, element_size);
      return FALSE;
    }

  return nebula_arena_buffer_append (self, data, size, error);
}

/**
 * nebula_arena_buffer_append_vprintf: (skip)
 * @self: a #NebulaArenaBuffer
 * @error: return location for a #GError
 * @format: a printf() format
 * @args: the arguments of @format
 *
 * nebula_arena_buffer_append_printf() with a `va_list`, which is left
 * untouched.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_arena_buffer_append_vprintf (NebulaArenaBuffer  *self,
                                    GError            **error,
                                    const char         *format,
                                    va_list             args)
{
  gsize room;
  int n;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_usable (self, error))
    return FALSE;
  if (format == NULL)
    {
      set_buffer_error (self, error, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, "NULL format");
      return FALSE;
    }

  /* Straight into the room the block already has: one format when it
   * fits, which doubling makes the common case. */
  room = self->capacity - self->length;
  n = nebula_strings_format (room > 0 ? (char *) self->data + self->length : NULL,
                             MIN (room, (gsize) G_MAXINT), format, args);

  if (n < 0)
    {
      set_buffer_error (self, error, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW,
                        "the formatted text is longer than G_MAXINT bytes, which printf() "
                        "cannot return");
      return FALSE;
    }
  if ((gsize) n < room)
    {
      self->length += (gsize) n;
      return TRUE;
    }

  /* The nul byte printf() writes needs room too. */
  if (!grow_by (self, (gsize) n + 1, error))
    return FALSE;

  nebula_strings_format ((char *) self->data + self->length, (gsize) n + 1, format, args);
  self->length += (gsize) n;
  return TRUE;
}

/**
 * nebula_arena_buffer_append_printf: (skip)
 * @self: a #NebulaArenaBuffer
 * @error: return location for a #GError
 * @format: a printf() format
 * @...: the arguments of @format
 *
 * Appends formatted text, like g_string_append_printf() or
 * `obstack_printf()`. It is formatted once, straight into the block, when
 * the block has room for it, and a second time after growing it otherwise.
 * A %NULL @format gives %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_arena_buffer_append_printf (NebulaArenaBuffer  *self,
                                   GError            **error,
                                   const char         *format,
                                   ...)
{
  va_list args;
  gboolean ok;

  g_return_val_if_fail (self != NULL, FALSE);

  va_start (args, format);
  ok = nebula_arena_buffer_append_vprintf (self, error, format, args);
  va_end (args);

  return ok;
}

/**
 * nebula_arena_buffer_reserve:
 * @self: a #NebulaArenaBuffer
 * @additional: bytes to make room for after the current length
 * @error: return location for a #GError
 *
 * Grows the block so that the next @additional bytes of appends need no
 * growth.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_arena_buffer_reserve (NebulaArenaBuffer  *self,
                             gsize               additional,
                             GError            **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_usable (self, error))
    return FALSE;

  return grow_by (self, additional, error);
}

/**
 * nebula_arena_buffer_get_length:
 * @self: a #NebulaArenaBuffer
 *
 * Gets the number of bytes appended since the buffer was made or last
 * finished.
 *
 * Returns: the length in bytes
 */
gsize
nebula_arena_buffer_get_length (NebulaArenaBuffer *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->length;
}

/**
 * nebula_arena_buffer_get_capacity:
 * @self: a #NebulaArenaBuffer
 *
 * Gets the size of the buffer's block: how many bytes it holds before it
 * must grow.
 *
 * Returns: the capacity in bytes
 */
gsize
nebula_arena_buffer_get_capacity (NebulaArenaBuffer *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->capacity;
}

/**
 * nebula_arena_buffer_get_data: (skip)
 * @self: a #NebulaArenaBuffer
 *
 * Gets the buffer's bytes so far. The pointer is valid until the next
 * append, reserve or finish (growth may move the block).
 *
 * Returns: (transfer none) (nullable): the bytes, or %NULL before the
 *   first append
 */
gpointer
nebula_arena_buffer_get_data (NebulaArenaBuffer *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->data;
}

/**
 * nebula_arena_buffer_finish: (skip)
 * @self: a #NebulaArenaBuffer
 * @length: (out) (optional): the length of the block
 * @error: return location for a #GError
 *
 * Hands the buffer's block over, shrunk to the length (in place for the
 * most recent block of a bump or stack allocator, which gives the slack
 * back), and leaves the buffer empty for the next object, like
 * `obstack_finish()`. The block is then like any block of the allocator:
 * its size is *@length and its alignment the buffer's. A buffer with
 * nothing appended gives an empty block (a unique address that owns no
 * bytes).
 *
 * Returns: (transfer none) (nullable): the block, or %NULL with @error set
 */
gpointer
nebula_arena_buffer_finish (NebulaArenaBuffer  *self,
                            gsize              *length,
                            GError            **error)
{
  gpointer block;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_usable (self, error))
    return NULL;

  if (self->data == NULL)
    block = nebula_allocator_allocate (self->allocator, 0, self->alignment, error);
  else if (self->length < self->capacity)
    block = nebula_allocator_reallocate (self->allocator, self->data, self->capacity, self->length,
                                         self->alignment, error);
  else
    block = self->data;
  if (block == NULL)
    return NULL;

  if (length != NULL)
    *length = self->length;
  forget_block (self);
  return block;
}

/**
 * nebula_arena_buffer_finish_string:
 * @self: a #NebulaArenaBuffer
 * @error: return location for a #GError
 *
 * Ends the text with a nul byte and finishes it: a string in the
 * allocator whose block is its length plus one bytes. Language bindings
 * receive a copy as their own string.
 *
 * Returns: (transfer none) (nullable): the string, or %NULL with @error set
 */
char *
nebula_arena_buffer_finish_string (NebulaArenaBuffer  *self,
                                   GError            **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!nebula_arena_buffer_append (self, (const guint8 *) "", 1, error))
    return NULL;

  return nebula_arena_buffer_finish (self, NULL, error);
}

/**
 * nebula_arena_buffer_finish_address: (rename-to nebula_arena_buffer_finish)
 * @self: a #NebulaArenaBuffer
 * @length: (out): the length of the block
 * @error: return location for a #GError
 *
 * nebula_arena_buffer_finish() for language bindings: the block's address
 * and length, for the script entry points (nebula_allocator_read_address(),
 * nebula_allocator_deallocate_address(), ...).
 *
 * Returns: the address, or 0 with @error set
 */
guint64
nebula_arena_buffer_finish_address (NebulaArenaBuffer  *self,
                                    guint64            *length,
                                    GError            **error)
{
  gsize size = 0;
  gpointer block;

  g_return_val_if_fail (self != NULL, 0);

  *length = 0;
  block = nebula_arena_buffer_finish (self, &size, error);
  if (block == NULL)
    return 0;

  nebula_script_record (self->allocator, block, size);
  *length = size;
  return (guint64) GPOINTER_TO_SIZE (block);
}

/**
 * nebula_arena_buffer_finish_bytes:
 * @self: a #NebulaArenaBuffer
 * @error: return location for a #GError
 *
 * Finishes the block and hands it to GLib as a #GBytes, as
 * nebula_allocator_to_bytes() does (with its rule for resets and scopes).
 *
 * Returns: (transfer full) (nullable): the bytes, or %NULL with @error set
 */
GBytes *
nebula_arena_buffer_finish_bytes (NebulaArenaBuffer  *self,
                                  GError            **error)
{
  gsize size = 0;
  gpointer block;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  block = nebula_arena_buffer_finish (self, &size, error);
  if (block == NULL)
    return NULL;

  return nebula_allocator_to_bytes (self->allocator, block, size, self->alignment, error);
}
