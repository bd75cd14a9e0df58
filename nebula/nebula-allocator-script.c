/* nebula-allocator-script.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What keeps a script from crashing the interpreter: every address that
 * comes from Python or JavaScript is checked against an allocator before
 * any memory is touched, whatever the preset. Three parts:
 *
 * - span checks, one per built-in type (nebula-allocator-script-private.h);
 * - the script ledger, for allocators that cannot tell a live block from a
 *   freed one (Pool and System without check-frees): the blocks the script
 *   entry points handed out, so that they alone can be freed, resized and
 *   viewed from a script;
 * - the registry of live built-in allocators, which the memory utilities
 *   for bindings search for the memory they are given.
 *
 * None of this is on a C path: C callers keep the documented contract.
 */

#include "config.h"

#include <string.h>

#include "nebula-error-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-sanitizer-private.h"
#include "nebula-script.h"
#include "nebula-utils.h"

/* Span functions --------------------------------------------------------- */

static GQuark
span_func_quark (void)
{
  static GQuark quark;

  if (G_UNLIKELY (quark == 0))
    quark = g_quark_from_static_string ("nebula-allocator-span-func");

  return quark;
}

void
nebula_allocator_set_span_func (GType                   type,
                                NebulaAllocatorSpanFunc func)
{
  g_type_set_qdata (type, span_func_quark (), func);
}

NebulaAllocatorSpanFunc
nebula_allocator_get_span_func (GType type)
{
  for (; type != 0; type = g_type_parent (type))
    {
      NebulaAllocatorSpanFunc func = g_type_get_qdata (type, span_func_quark ());

      if (func != NULL)
        return func;
    }

  return NULL;
}

/* The ledger ------------------------------------------------------------- */

typedef struct
{
  GMutex  mutex;
  GTree  *blocks;       /* address -> size, ordered for interior lookups */
} Ledger;

static GQuark
ledger_quark (void)
{
  static GQuark quark;

  if (G_UNLIKELY (quark == 0))
    quark = g_quark_from_static_string ("nebula-allocator-script-ledger");

  return quark;
}

static int
compare_addresses_cb (gconstpointer a,
                      gconstpointer b,
                      gpointer      user_data)
{
  guintptr x = GPOINTER_TO_SIZE (a), y = GPOINTER_TO_SIZE (b);

  return x < y ? -1 : x > y;
}

static void
ledger_free (gpointer data)
{
  Ledger *ledger = data;

  g_tree_unref (ledger->blocks);
  g_mutex_clear (&ledger->mutex);
  g_free (ledger);
}

/* Set once the first ledger is made: until then no allocator has one, and
 * a C program's reset need not look (a qdata lookup costs about 200
 * instructions, more than the rest of a bump allocator's reset). */
static gint any_ledger;

static Ledger *
get_ledger (NebulaAllocator *self,
            gboolean         create)
{
  Ledger *ledger;

  if (!create && g_atomic_int_get (&any_ledger) == 0)
    return NULL;

  ledger = g_object_get_qdata (G_OBJECT (self), ledger_quark ());
  if (ledger != NULL || !create)
    return ledger;

  /* Before the ledger can be seen: whoever finds it finds the flag set. */
  g_atomic_int_set (&any_ledger, 1);
  ledger = g_new0 (Ledger, 1);
  g_mutex_init (&ledger->mutex);
  ledger->blocks = g_tree_new_full (compare_addresses_cb, NULL, NULL, NULL);
  /* Two threads may race to create it: the loser's copy goes. */
  if (!g_object_replace_qdata (G_OBJECT (self), ledger_quark (), NULL, ledger,
                               ledger_free, NULL))
    {
      ledger_free (ledger);
      ledger = g_object_get_qdata (G_OBJECT (self), ledger_quark ());
    }

  return ledger;
}

/* The ledger's block that contains @start, or FALSE. */
static gboolean
ledger_find (Ledger   *ledger,
             guintptr  start,
             guintptr *block_out,
             gsize    *size_out)
{
  GTreeNode *node = g_tree_upper_bound (ledger->blocks, GSIZE_TO_POINTER (start));

  node = node != NULL ? g_tree_node_previous (node) : g_tree_node_last (ledger->blocks);
  if (node == NULL)
    return FALSE;

  *block_out = GPOINTER_TO_SIZE (g_tree_node_key (node));
  *size_out = GPOINTER_TO_SIZE (g_tree_node_value (node));
  return TRUE;
}

static NebulaSpanResult
ledger_check (NebulaAllocator *self,
              guintptr         start,
              gsize            size,
              NebulaSpanKind   kind,
              gsize           *block_size)
{
  Ledger *ledger = get_ledger (self, FALSE);
  NebulaSpanResult result = NEBULA_SPAN_FOREIGN;
  guintptr block;
  gsize block_len;

  if (ledger == NULL)
    return NEBULA_SPAN_FOREIGN;

  nebula_mutex_lock (&ledger->mutex);
  if (ledger_find (ledger, start, &block, &block_len))
    {
      if (kind != NEBULA_SPAN_INSIDE && block == start)
        {
          result = size <= block_len ? NEBULA_SPAN_OK : NEBULA_SPAN_WRONG_SIZE;
          *block_size = block_len;
        }
      else if (kind == NEBULA_SPAN_INSIDE &&
               nebula_span_within (start, size, GSIZE_TO_POINTER (block),
                                   GSIZE_TO_POINTER (block + MAX (block_len, 1))))
        {
          result = NEBULA_SPAN_OK;
        }
    }
  nebula_mutex_unlock (&ledger->mutex);

  return result;
}

/* Whether the allocator needs the ledger for the block it just handed out:
 * it does when its span check cannot vouch for the block. */
void
nebula_script_record (NebulaAllocator *self,
                      gpointer         ptr,
                      gsize            size)
{
  NebulaAllocatorSpanFunc span = nebula_allocator_get_span_func (G_OBJECT_TYPE (self));
  gsize block_size = 0;
  Ledger *ledger;

  if (ptr == NULL || span == NULL ||
      span (self, (guintptr) ptr, MAX (size, 1), NEBULA_SPAN_FREE, &block_size) !=
      NEBULA_SPAN_UNTRACKED)
    return;

  ledger = get_ledger (self, TRUE);
  nebula_mutex_lock (&ledger->mutex);
  g_tree_insert (ledger->blocks, ptr, GSIZE_TO_POINTER (MAX (size, 1)));
  nebula_mutex_unlock (&ledger->mutex);
}

/* Takes @ptr out of the ledger, if it is there; TRUE if it was. */
gboolean
nebula_script_forget (NebulaAllocator *self,
                      gpointer         ptr,
                      gsize           *size)
{
  Ledger *ledger = get_ledger (self, FALSE);
  gpointer key, value;
  gboolean removed;

  if (ledger == NULL)
    return FALSE;

  nebula_mutex_lock (&ledger->mutex);
  removed = g_tree_lookup_extended (ledger->blocks, ptr, &key, &value);
  if (removed)
    {
      g_tree_remove (ledger->blocks, ptr);
      if (size != NULL)
        *size = GPOINTER_TO_SIZE (value);
    }
  nebula_mutex_unlock (&ledger->mutex);

  return removed;
}

/* Puts back a block that nebula_script_forget() took out, for a free or
 * resize that then failed. */
void
nebula_script_restore (NebulaAllocator *self,
                       gpointer         ptr,
                       gsize            size)
{
  Ledger *ledger = get_ledger (self, TRUE);

  nebula_mutex_lock (&ledger->mutex);
  g_tree_insert (ledger->blocks, ptr, GSIZE_TO_POINTER (size));
  nebula_mutex_unlock (&ledger->mutex);
}

void
nebula_script_forget_all (NebulaAllocator *self)
{
  Ledger *ledger = get_ledger (self, FALSE);

  if (ledger == NULL)
    return;

  nebula_mutex_lock (&ledger->mutex);
  g_tree_remove_all (ledger->blocks);
  nebula_mutex_unlock (&ledger->mutex);
}

/* The checks ------------------------------------------------------------- */

/* Answers for an allocator of any kind. A type without a span function (a
 * class written in Python or JavaScript) answers through its contains slot
 * for the first and last byte: the best it can say. */
static NebulaSpanResult
check_span (NebulaAllocator *self,
            guint64          address,
            guint64          size,
            NebulaSpanKind   kind,
            gsize           *block_size,
            gboolean        *ledgered)
{
  NebulaAllocatorSpanFunc span = nebula_allocator_get_span_func (G_OBJECT_TYPE (self));
  NebulaSpanResult result;

  *ledgered = FALSE;
  if (address == 0 || !nebula_span_is_sane (address, size))
    return NEBULA_SPAN_FOREIGN;

  if (span == NULL)
    {
      /* The implementation frees and resizes its own blocks; the default
       * resize asks its contains slot before it copies. */
      if (kind != NEBULA_SPAN_INSIDE)
        return NEBULA_SPAN_DEFER;
      if (nebula_allocator_owns (self, GSIZE_TO_POINTER (address)) &&
          (size <= 1 || nebula_allocator_owns (self, GSIZE_TO_POINTER (address + size - 1))))
        return NEBULA_SPAN_OK;
      return NEBULA_SPAN_FOREIGN;
    }

  result = span (self, (guintptr) address, MAX (size, 1), kind, block_size);
  if (result != NEBULA_SPAN_UNTRACKED)
    return result;

  *ledgered = TRUE;
  return ledger_check (self, (guintptr) address, MAX (size, 1), kind, block_size);
}

/* Refuses what check_span() refused, with the numbers. */
static gboolean
set_span_error (NebulaAllocator   *self,
                NebulaSpanResult   result,
                guint64            address,
                guint64            size,
                gsize              block_size,
                gboolean           ledgered,
                const char        *operation,
                GError           **error)
{
  g_autofree char *what = NULL;
  NebulaErrorInfo info = { .requested = size };

  if (result == NEBULA_SPAN_OK || result == NEBULA_SPAN_DEFER)
    return TRUE;

  what = nebula_allocator_describe (self);
  info.what = what;

  if (result == NEBULA_SPAN_WRONG_SIZE)
    {
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT,
                        &info,
                        "%s: cannot %s %" G_GUINT64_FORMAT " bytes at 0x%" G_GINT64_MODIFIER
                        "x: the block there has %" G_GSIZE_FORMAT " bytes",
                        what, operation, size, address, block_size);
    }
  else if (ledgered)
    {
      info.suggestion = "Without check-frees the allocator cannot tell a live block from a "
                        "freed one, so a script may only use the blocks it allocated itself; "
                        "turn check-frees on to use blocks allocated from C.";
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER,
                        &info,
                        "%s: cannot %s %" G_GUINT64_FORMAT " bytes at 0x%" G_GINT64_MODIFIER
                        "x: not a live block a script allocated (without check-frees, "
                        "blocks allocated from C cannot be used from a script)",
                        what, operation, size, address);
    }
  else
    {
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER,
                        &info,
                        "%s: cannot %s %" G_GUINT64_FORMAT " bytes at 0x%" G_GINT64_MODIFIER
                        "x: they do not lie in a live block of this allocator",
                        what, operation, size, address);
    }

  return FALSE;
}

gboolean
nebula_script_check (NebulaAllocator  *self,
                     guint64           address,
                     guint64           size,
                     NebulaSpanKind    kind,
                     const char       *operation,
                     gboolean         *ledgered,
                     GError          **error)
{
  gsize block_size = 0;
  gboolean in_ledger = FALSE;
  NebulaSpanResult result;

  result = check_span (self, address, size, kind, &block_size, &in_ledger);
  if (ledgered != NULL)
    *ledgered = in_ledger;

  /* Say what is wrong with the configuration, as every method does. */
  if (result == NEBULA_SPAN_NOT_READY)
    {
      if (G_IS_INITABLE (self) && !g_initable_init (G_INITABLE (self), NULL, error))
        return FALSE;
      result = NEBULA_SPAN_FOREIGN;
    }

  return set_span_error (self, result, address, size, block_size, in_ledger, operation, error);
}

/* The registry ---------------------------------------------------------- */

static GMutex registry_mutex;
static GPtrArray *registry;     /* NebulaAllocator *, not referenced */

static void
registry_remove_cb (gpointer  data,
                    GObject  *where_the_object_was)
{
  nebula_mutex_lock (&registry_mutex);
  if (registry != NULL)
    g_ptr_array_remove_fast (registry, where_the_object_was);
  nebula_mutex_unlock (&registry_mutex);
}

void
nebula_allocator_registry_add (NebulaAllocator *self)
{
  /* An allocator that first initializes inside its own finalize (one that
   * was never used) has had its dispose already: it would never leave. */
  if (g_atomic_int_get ((gint *) &G_OBJECT (self)->ref_count) == 0)
    return;

  nebula_mutex_lock (&registry_mutex);
  if (registry == NULL)
    registry = g_ptr_array_new ();
  g_ptr_array_add (registry, self);
  nebula_mutex_unlock (&registry_mutex);

  /* Weak references are notified in dispose, before anything is freed; the
   * callback waits for any search that holds the registry. */
  g_object_weak_ref (G_OBJECT (self), registry_remove_cb, NULL);
}

gboolean
nebula_allocator_registry_check_span (guintptr start,
                                      gsize    size)
{
  gboolean found = FALSE;

  nebula_mutex_lock (&registry_mutex);
  for (guint i = 0; registry != NULL && i < registry->len && !found; i++)
    {
      NebulaAllocator *allocator = g_ptr_array_index (registry, i);
      gsize block_size;
      gboolean ledgered;

      found = check_span (allocator, start, size, NEBULA_SPAN_INSIDE, &block_size,
                          &ledgered) == NEBULA_SPAN_OK;
    }
  nebula_mutex_unlock (&registry_mutex);

  return found;
}

/* Memory utilities for bindings ----------------------------------------- */

/* The memory utilities for bindings take addresses from scripts: only
 * memory of a live Nebula allocator, as its span check sees it, is theirs
 * to touch. */
static gboolean
check_script_span (guint64      address,
                   guint64      n,
                   const char  *what,
                   GError     **error)
{
  NebulaErrorInfo info = { .requested = n };

  if (nebula_span_is_sane (address, n) && address != 0 &&
      nebula_allocator_registry_check_span ((guintptr) address, (gsize) n))
    return TRUE;

  info.suggestion = "Pass memory from a Nebula allocator (an address and size inside one of "
                    "its live blocks); for buffers of your own, use ctypes.memmove() and "
                    "ctypes.memset() in Python.";
  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, &info,
                    "%s: %" G_GUINT64_FORMAT " bytes at 0x%" G_GINT64_MODIFIER "x are not "
                    "memory of a live Nebula allocator", what, n, address);
  return FALSE;
}

/**
 * nebula_memory_copy_address: (rename-to nebula_memory_copy)
 * @dest: the address to copy to
 * @src: the address to copy from
 * @n: the number of bytes
 * @error: return location for a #GError
 *
 * nebula_memory_copy() for language bindings, with addresses as integers.
 * Both ranges must lie wholly inside memory of a live Nebula allocator
 * (inside one live block, or the used part of one chunk of a bump or stack
 * allocator); anything else gives %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER
 * and copies nothing. For memory of your own, use the language's tools
 * (`ctypes.memmove()` in Python). A copy of 0 bytes touches nothing and
 * succeeds.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_memory_copy_address (guint64   dest,
                            guint64   src,
                            guint64   n,
                            GError  **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n == 0)
    return TRUE;
  if (!check_script_span (dest, n, "memory_copy destination", error) ||
      !check_script_span (src, n, "memory_copy source", error))
    return FALSE;

  nebula_memory_copy (GSIZE_TO_POINTER (dest), GSIZE_TO_POINTER (src), n);
  return TRUE;
}

/**
 * nebula_memory_fill_address: (rename-to nebula_memory_fill)
 * @dest: the address of the memory to fill
 * @value: the byte to write
 * @n: the number of bytes
 * @error: return location for a #GError
 *
 * nebula_memory_fill() for language bindings. The range must lie wholly
 * inside memory of a live Nebula allocator, as for
 * nebula_memory_copy_address(); anything else gives
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER and writes nothing. For memory
 * of your own, use `ctypes.memset()` in Python.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_memory_fill_address (guint64   dest,
                            guint8    value,
                            guint64   n,
                            GError  **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n == 0)
    return TRUE;
  if (!check_script_span (dest, n, "memory_fill", error))
    return FALSE;

  nebula_memory_fill (GSIZE_TO_POINTER (dest), value, n);
  return TRUE;
}

/**
 * nebula_secure_zero_address: (rename-to nebula_secure_zero)
 * @dest: the address of the memory to clear
 * @n: the number of bytes
 * @error: return location for a #GError
 *
 * nebula_secure_zero() for language bindings. The range must lie wholly
 * inside memory of a live Nebula allocator, as for
 * nebula_memory_copy_address(); anything else gives
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER and clears nothing.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_secure_zero_address (guint64   dest,
                            guint64   n,
                            GError  **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n == 0)
    return TRUE;
  if (!check_script_span (dest, n, "secure_zero", error))
    return FALSE;

  nebula_secure_zero (GSIZE_TO_POINTER (dest), n);
  return TRUE;
}

/* Copies for bindings that cannot share memory --------------------------- */

/**
 * nebula_allocator_read_address:
 * @self: a #NebulaAllocator
 * @address: the first byte
 * @size: the number of bytes
 * @error: return location for a #GError
 *
 * Copies @size bytes at @address out of @self, for a language binding that
 * cannot share foreign memory without copying (gjs: a #GBytes arrives as
 * a `Uint8Array`). The span is checked first, as
 * nebula_allocator_check_span_address() checks it: anything but live
 * memory of @self gives %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER and reads
 * nothing. A read of 0 bytes gives empty bytes.
 *
 * Returns: (transfer full): a copy of the bytes, or %NULL with @error set
 */
GBytes *
nebula_allocator_read_address (NebulaAllocator  *self,
                               guint64           address,
                               guint64           size,
                               GError          **error)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (size == 0)
    return g_bytes_new (NULL, 0);
  if (!nebula_allocator_check_span_address (self, address, size, error))
    return NULL;

  return g_bytes_new (GSIZE_TO_POINTER (address), size);
}

/**
 * nebula_allocator_write_address:
 * @self: a #NebulaAllocator
 * @address: the first byte to write
 * @data: the bytes to write
 * @error: return location for a #GError
 *
 * Copies @data into @self at @address, the counterpart of
 * nebula_allocator_read_address(). The whole span the write covers must be
 * live memory of @self (nebula_allocator_check_span_address()); otherwise
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER and nothing is written.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_allocator_write_address (NebulaAllocator  *self,
                                guint64           address,
                                GBytes           *data,
                                GError          **error)
{
  gconstpointer bytes;
  gsize size;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  bytes = g_bytes_get_data (data, &size);
  if (size == 0)
    return TRUE;
  if (!nebula_allocator_check_span_address (self, address, size, error))
    return FALSE;

  memcpy (GSIZE_TO_POINTER (address), bytes, size);
  return TRUE;
}
