/* nebula-allocator.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "nebula-allocator-core-private.h"
#include "nebula-allocator-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-cleanup-private.h"
#include "nebula-allocator-trim-private.h"
#include "nebula-sysprof-private.h"
#include "nebula-enums.h"

/**
 * NebulaAllocator:
 *
 * The interface of every Nebula allocator.
 *
 * The public functions validate each layout before they dispatch: the
 * alignment must be a power of two, the size at most %G_MAXSSIZE, and a
 * size of 0 gives a unique, non-%NULL address that owns no bytes (free it
 * like any other block, with size 0; the statistics count it as the one
 * byte that keeps its address unique). Every failure is a #GError in
 * %NEBULA_ALLOCATOR_ERROR whose message carries the numbers, and it is
 * counted in the statistics (nebula_allocator_get_stats()).
 *
 * Language bindings see addresses as integers: the `allocate`, `reallocate`,
 * `deallocate` and `owns` methods of Python and JavaScript are
 * nebula_allocator_allocate_address() and its siblings. Python can read and
 * write the memory with `ctypes`.
 *
 * Nebula ships [class@BumpAllocator], [class@PoolAllocator],
 * [class@StackAllocator] and [class@SystemAllocator]; a class written in
 * Python or JavaScript may implement the interface too. The guide
 * [Choosing an allocator](choosing.html) compares them.
 */

G_DEFINE_INTERFACE (NebulaAllocator, nebula_allocator, G_TYPE_OBJECT)

static GQuark foreign_stats_quark;

/* A class from outside (Python, JavaScript) may leave slots empty. */
static gboolean
check_slot (NebulaAllocator  *self,
            gconstpointer     slot,
            const char       *name,
            GError          **error)
{
  g_autofree char *what = NULL;
  NebulaErrorInfo info = { 0, };

  if (G_LIKELY (slot != NULL))
    return TRUE;

  what = nebula_allocator_describe (self);
  info.what = what;
  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED, &info,
                    "%s does not implement NebulaAllocatorInterface::%s", what, name);
  return FALSE;
}

static gpointer
nebula_allocator_real_allocate_zeroed (NebulaAllocator  *self,
                                       gsize             size,
                                       gsize             alignment,
                                       GError          **error)
{
  NebulaAllocatorInterface *iface = NEBULA_ALLOCATOR_GET_IFACE (self);
  gpointer ptr;

  if (!check_slot (self, iface->alloc, "alloc", error))
    return NULL;

  ptr = iface->alloc (self, size, alignment, error);
  if (ptr != NULL)
    memset (ptr, 0, size);

  return ptr;
}

static gboolean
nebula_allocator_real_owns (NebulaAllocator *self,
                            gconstpointer    ptr)
{
  return FALSE;
}

static gpointer
nebula_allocator_real_reallocate (NebulaAllocator  *self,
                                  gpointer          ptr,
                                  gsize             old_size,
                                  gsize             new_size,
                                  gsize             alignment,
                                  GError          **error)
{
  NebulaAllocatorInterface *iface = NEBULA_ALLOCATOR_GET_IFACE (self);
  gpointer new_ptr;

  if (!check_slot (self, iface->alloc, "alloc", error) ||
      !check_slot (self, iface->dealloc, "dealloc", error))
    return NULL;

  /* The copy below reads the caller's block before the implementation has
   * seen it: only an implementation that can say which memory is its own
   * may be served, and only for its own blocks. */
  if (iface->contains == NULL || iface->contains == nebula_allocator_real_owns)
    {
      g_autofree char *what = nebula_allocator_describe (self);
      NebulaErrorInfo info = { .requested = new_size, .what = what };

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED,
                        &info,
                        "%s cannot resize %p from %" G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT
                        " bytes: the default resize copies the block, and the implementation "
                        "cannot vouch for it; implement NebulaAllocatorInterface::contains or "
                        "NebulaAllocatorInterface::resize",
                        what, ptr, old_size, new_size);
      return NULL;
    }

  if (!iface->contains (self, ptr) ||
      !iface->contains (self, (const guint8 *) ptr + MIN (old_size, new_size) - 1))
    {
      g_autofree char *what = nebula_allocator_describe (self);
      NebulaErrorInfo info = { .requested = old_size, .what = what };

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER,
                        &info,
                        "%s: cannot resize %p (%" G_GSIZE_FORMAT " bytes): the allocator "
                        "does not own it",
                        what, ptr, old_size);
      return NULL;
    }

  new_ptr = iface->alloc (self, new_size, alignment, error);
  if (new_ptr == NULL)
    return NULL;

  memcpy (new_ptr, ptr, MIN (old_size, new_size));

  if (!iface->dealloc (self, ptr, old_size, alignment, error))
    {
      /* Leave the caller's block as it was. */
      iface->dealloc (self, new_ptr, new_size, alignment, NULL);
      return NULL;
    }

  return new_ptr;
}

static void
nebula_allocator_real_reset (NebulaAllocator *self)
{
}

/**
 * NebulaAllocatorInterface::alloc:
 * @self: a #NebulaAllocator
 * @size: the number of bytes, at least 1
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * Allocates @size bytes aligned to @alignment. The layout is already valid.
 * Bindings see the pointers of all slots as integer addresses.
 *
 * Returns: (type guint64): the address of the memory, or 0 with @error set
 */

/**
 * NebulaAllocatorInterface::alloc_zeroed:
 * @self: a #NebulaAllocator
 * @size: the number of bytes, at least 1
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * Allocates zero-filled memory. The default calls allocate and clears it.
 *
 * Returns: (type guint64): the address of the memory, or 0 with @error set
 */

/**
 * NebulaAllocatorInterface::resize:
 * @self: a #NebulaAllocator
 * @ptr: (type guint64): the address of a block of @self
 * @old_size: its size
 * @new_size: the size wanted, at least 1
 * @alignment: its alignment
 * @error: return location for a #GError
 *
 * Resizes a block. The default allocates, copies and deallocates.
 *
 * Returns: (type guint64): the address of the block, or 0 with @error set
 */

/**
 * NebulaAllocatorInterface::dealloc:
 * @self: a #NebulaAllocator
 * @ptr: (type guint64): the address of a block of @self
 * @size: its size, at least 1
 * @alignment: its alignment
 * @error: return location for a #GError
 *
 * Gives a block back.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */

/**
 * NebulaAllocatorInterface::contains:
 * @self: a #NebulaAllocator
 * @ptr: (type guint64): any address, never dereferenced
 *
 * Whether @ptr lies in memory @self handed out.
 *
 * Returns: %TRUE if @self owns @ptr
 */

/**
 * NebulaAllocatorInterface::reset:
 * @self: a #NebulaAllocator
 *
 * Frees every allocation at once.
 */

static void
nebula_allocator_default_init (NebulaAllocatorInterface *iface)
{
  foreign_stats_quark = g_quark_from_static_string ("nebula-allocator-foreign-stats");

  iface->alloc_zeroed = nebula_allocator_real_allocate_zeroed;
  iface->resize = nebula_allocator_real_reallocate;
  iface->contains = nebula_allocator_real_owns;
  iface->reset = nebula_allocator_real_reset;
  iface->trim = nebula_allocator_real_trim;

  /**
   * NebulaAllocator:capacity:
   *
   * How many bytes the allocator can hand out without growing; 0 when it
   * has no fixed bound (the system allocator).
   */
  g_object_interface_install_property (iface,
                                       g_param_spec_uint64 ("capacity", NULL, NULL,
                                                            0, G_MAXUINT64, 0,
                                                            (G_PARAM_READABLE |
                                                             G_PARAM_STATIC_STRINGS)));

  /**
   * NebulaAllocator:bytes-used:
   *
   * Bytes taken from the allocator's memory, including alignment padding.
   */
  g_object_interface_install_property (iface,
                                       g_param_spec_uint64 ("bytes-used", NULL, NULL,
                                                            0, G_MAXUINT64, 0,
                                                            (G_PARAM_READABLE |
                                                             G_PARAM_STATIC_STRINGS)));

  /**
   * NebulaAllocator:bytes-available:
   *
   * Bytes that can still be handed out without growing.
   */
  g_object_interface_install_property (iface,
                                       g_param_spec_uint64 ("bytes-available", NULL, NULL,
                                                            0, G_MAXUINT64, 0,
                                                            (G_PARAM_READABLE |
                                                             G_PARAM_STATIC_STRINGS)));

  /**
   * NebulaAllocator:thread-safe:
   *
   * Whether the allocator may be used from several threads at once.
   */
  g_object_interface_install_property (iface,
                                       g_param_spec_boolean ("thread-safe", NULL, NULL,
                                                             FALSE,
                                                             (G_PARAM_READABLE |
                                                              G_PARAM_STATIC_STRINGS)));

  /**
   * NebulaAllocator:name:
   *
   * A name for messages, reports and statistics.
   */
  g_object_interface_install_property (iface,
                                       g_param_spec_string ("name", NULL, NULL,
                                                            NULL,
                                                            (G_PARAM_READABLE |
                                                             G_PARAM_STATIC_STRINGS)));
}

/* Interface lookup is the dominant cost of a GInterface call: a built-in
 * allocator's core holds its vtable; only an implementation from outside
 * pays for g_type_interface_peek(). NULL if @self is no NebulaAllocator. */
static G_NO_INLINE NebulaAllocatorInterface *
lookup_interface_slow (NebulaAllocator *self)
{
  if (!G_TYPE_CHECK_INSTANCE_TYPE (self, NEBULA_TYPE_ALLOCATOR))
    return NULL;

  return g_type_interface_peek (((GTypeInstance *) self)->g_class, NEBULA_TYPE_ALLOCATOR);
}

static inline NebulaAllocatorInterface *
lookup_interface (NebulaAllocator *self)
{
  if (G_LIKELY (nebula_allocator_is_core (self)))
    return nebula_allocator_get_core (self)->iface;

  return lookup_interface_slow (self);
}

static void
foreign_stats_free (gpointer data)
{
  nebula_stats_counters_clear (data);
  g_free (data);
}

/* Built-in allocators embed their counters; an implementation written
 * elsewhere (Python, JavaScript, another library) gets them attached. */
static NebulaStatsCounters *
get_counters (NebulaAllocator          *self,
              NebulaAllocatorInterface *iface G_GNUC_UNUSED)
{
  NebulaStatsCounters *counters;

  if (G_LIKELY (nebula_allocator_is_core (self)))
    return nebula_allocator_get_core (self)->counters;

  counters = g_object_get_qdata (G_OBJECT (self), foreign_stats_quark);
  if (counters == NULL)
    {
      counters = g_new0 (NebulaStatsCounters, 1);
      nebula_stats_counters_init (counters, TRUE, TRUE);
      if (!g_object_replace_qdata (G_OBJECT (self), foreign_stats_quark,
                                   NULL, counters, foreign_stats_free, NULL))
        {
          g_free (counters);
          counters = g_object_get_qdata (G_OBJECT (self), foreign_stats_quark);
        }
    }

  return counters;
}

NebulaStatsCounters *
nebula_allocator_get_counters (NebulaAllocator *self)
{
  NebulaAllocatorInterface *iface = lookup_interface (self);

  g_return_val_if_fail (iface != NULL, NULL);

  return get_counters (self, iface);
}

gboolean
nebula_layout_check (NebulaAllocator  *self,
                     gsize             size,
                     gsize             alignment,
                     GError          **error)
{
  g_autofree char *what = NULL;
  NebulaErrorInfo info = { 0, };

  if (G_LIKELY (nebula_layout_is_valid (size, alignment)))
    return TRUE;

  what = nebula_allocator_describe (self);
  info.requested = size;
  info.what = what;

  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT,
                      &info,
                      "%s: alignment %" G_GSIZE_FORMAT " is not a power of two "
                      "(requested %" G_GSIZE_FORMAT " bytes)",
                      what, alignment, size);
  else if (size > G_MAXSIZE - (alignment - 1))
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW,
                      &info,
                      "%s: size %" G_GSIZE_FORMAT " plus alignment %" G_GSIZE_FORMAT
                      " overflows",
                      what, size, alignment);
  else
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXCEEDS_MAX_SIZE,
                      &info,
                      "%s: requested %" G_GSIZE_FORMAT " bytes, more than the largest "
                      "possible allocation of %" G_GSIZE_FORMAT " bytes",
                      what, size, NEBULA_MAX_ALLOCATION_SIZE);

  return FALSE;
}

/* An implementation that failed without saying why still owes the caller a
 * GError. */
static void
ensure_error (NebulaAllocator  *self,
              GError          **error,
              GError           *local_error,
              const char       *operation,
              gsize             size)
{
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
    }
  else
    {
      g_autofree char *what = nebula_allocator_describe (self);
      NebulaErrorInfo info = { .requested = size, .what = what };

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_FAILED, &info,
                        "%s: %s of %" G_GSIZE_FORMAT " bytes failed without a reason",
                        what, operation, size);
    }
}

static G_NO_INLINE gpointer
allocate_checked (NebulaAllocator           *self,
                  NebulaAllocatorInterface  *iface,
                  gsize                      size,
                  gsize                      alignment,
                  gboolean                   zeroed,
                  GError                   **error)
{
  NebulaStatsCounters *counters = get_counters (self, iface);
  GError *local_error = NULL;
  gpointer ptr;

  if (!nebula_layout_check (self, size, alignment, error))
    {
      nebula_stats_counters_record_failure (counters);
      return NULL;
    }

  if (!check_slot (self, zeroed ? (gconstpointer) iface->alloc_zeroed : (gconstpointer) iface->alloc,
                   zeroed ? "alloc_zeroed" : "alloc", &local_error))
    ptr = NULL;
  else if (zeroed)
    ptr = iface->alloc_zeroed (self, MAX (size, 1), alignment, &local_error);
  else
    ptr = iface->alloc (self, MAX (size, 1), alignment, &local_error);

  if (ptr == NULL)
    {
      ensure_error (self, error, local_error, "allocation", size);
      nebula_stats_counters_record_failure (counters);
      return NULL;
    }

  if ((GPOINTER_TO_SIZE (ptr) & (alignment - 1)) != 0)
    {
      g_autofree char *what = nebula_allocator_describe (self);
      NebulaErrorInfo info = { .requested = size, .what = what };

      /* Only an implementation from outside can get here. */
      g_clear_error (&local_error);
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_CORRUPTION, &info,
                        "%s returned %p, which is not aligned to %" G_GSIZE_FORMAT " bytes",
                        what, ptr, alignment);
      nebula_stats_counters_record_failure (counters);
      return NULL;
    }

  g_clear_error (&local_error);
  nebula_stats_counters_record_allocation (counters, size);
  return ptr;
}

/* Everything but the fast paths, out of line so that they need no large
 * stack frame; also where a direct path's alloc_all sends what it does
 * not serve (nebula-allocator-private.h). */
G_NO_INLINE gpointer
nebula_allocator_allocate_slow (gpointer          self,
                                gsize             size,
                                gsize             alignment,
                                GError          **error)
{
  NebulaAllocatorInterface *iface;
  gpointer ptr;

  g_return_val_if_fail (self != NULL, NULL);
  iface = lookup_interface (self);
  g_return_val_if_fail (iface != NULL, NULL);

  /* The common case: a valid, non-empty layout on a built-in allocator. */
  if (G_LIKELY (nebula_allocator_is_core (self) && size != 0 &&
                nebula_layout_is_valid (size, alignment)))
    {
      NebulaStatsCounters *counters = nebula_allocator_get_core (self)->counters;

      ptr = iface->alloc (self, size, alignment, error);
      if (G_LIKELY (ptr != NULL))
        {
          nebula_stats_counters_record_allocation (counters, size);
          return ptr;
        }
      nebula_stats_counters_record_failure (counters);
      return NULL;
    }

  return allocate_checked (self, iface, size, alignment, FALSE, error);
}

/* The whole-request entry point of a direct path without its own
 * (nebula-allocator-private.h). */
gpointer
nebula_allocator_allocate_direct (gpointer   self,
                                  gsize      size,
                                  gsize      alignment,
                                  GError   **error)
{
  const NebulaCoreDirect *direct = nebula_allocator_core_get_direct (self);
  gpointer ptr = direct->alloc (self, size, alignment);

  return nebula_allocator_core_alloc_finish (self, ptr, size, alignment, error);
}

/**
 * nebula_allocator_allocate: (skip)
 * @self: a #NebulaAllocator
 * @size: the number of bytes
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * Allocates @size bytes aligned to @alignment. A @size of 0 gives a unique
 * address that owns no bytes.
 *
 * Returns: (transfer none) (nullable): the memory, or %NULL with @error set
 */
gpointer
nebula_allocator_allocate (NebulaAllocator  *self,
                           gsize             size,
                           gsize             alignment,
                           GError          **error)
{
  NebulaAllocatorKind kind;
  gpointer ptr;

  /* Speculative devirtualization: one test recognises every built-in,
   * whose kind then picks its inline path (with the same statistics) and
   * its direct path; anything else (and NULL) takes the full dispatch. */
  if (G_UNLIKELY (!nebula_allocator_is_core_nonnull (self)))
    return nebula_allocator_allocate_slow (self, size, alignment, error);
  /* The bump allocator's layout test on its own first, though its
   * inline path repeats it (GCC merges the two): GCC then loads the
   * cursor and min-alloc-size after it, not before, which a request the
   * test declines (every request of a thread-safe bump, whose
   * max_fast_size is 0) does not need (HACKING.md, "Thread-safe bump,
   * fifth pass"). */
  kind = nebula_allocator_get_core (self)->kind;
  if (kind == NEBULA_ALLOCATOR_KIND_BUMP &&
      G_UNLIKELY (_nebula_fast_layout_refused (size, alignment,
                                               _NEBULA_BUMP_FAST (self)->max_fast_size)))
    return nebula_allocator_core_alloc_all (self) (self, size, alignment, error);
  if (G_LIKELY (nebula_allocator_core_try_alloc_kind (self, kind, size, alignment, &ptr)))
    return ptr;

  /* The kind's direct path or the exported one: a jump. */
  return nebula_allocator_core_alloc_all (self) (self, size, alignment, error);
}

/**
 * nebula_allocator_allocate_zeroed: (skip)
 * @self: a #NebulaAllocator
 * @size: the number of bytes
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * Like nebula_allocator_allocate(), with the memory cleared to zero.
 *
 * Returns: (transfer none) (nullable): the memory, or %NULL with @error set
 */
gpointer
nebula_allocator_allocate_zeroed (NebulaAllocator  *self,
                                  gsize             size,
                                  gsize             alignment,
                                  GError          **error)
{
  NebulaAllocatorInterface *iface;

  g_return_val_if_fail (self != NULL, NULL);
  iface = lookup_interface (self);
  g_return_val_if_fail (iface != NULL, NULL);

  return allocate_checked (self, iface, size, alignment, TRUE, error);
}

/**
 * nebula_allocator_reallocate: (skip)
 * @self: a #NebulaAllocator
 * @ptr: (nullable): a block from @self, or %NULL to allocate
 * @old_size: the size @ptr was allocated (or last reallocated) with
 * @new_size: the size wanted
 * @alignment: the alignment @ptr was allocated with
 * @error: return location for a #GError
 *
 * Resizes the block at @ptr, in place when the allocator can, keeping the
 * first MIN (@old_size, @new_size) bytes. On failure the block at @ptr is
 * left untouched and still owned by the caller.
 *
 * Returns: (transfer none) (nullable): the block, or %NULL with @error set
 */
gpointer
nebula_allocator_reallocate (NebulaAllocator  *self,
                             gpointer          ptr,
                             gsize             old_size,
                             gsize             new_size,
                             gsize             alignment,
                             GError          **error)
{
  NebulaAllocatorInterface *iface;
  NebulaStatsCounters *counters;
  GError *local_error = NULL;
  gpointer new_ptr;

  g_return_val_if_fail (self != NULL, NULL);
  iface = lookup_interface (self);
  g_return_val_if_fail (iface != NULL, NULL);

  if (ptr == NULL)
    return allocate_checked (self, iface, new_size, alignment, FALSE, error);

  counters = get_counters (self, iface);
  if (!nebula_layout_check (self, old_size, alignment, error) ||
      !nebula_layout_check (self, new_size, alignment, error))
    {
      nebula_stats_counters_record_failure (counters);
      return NULL;
    }

  if (!check_slot (self, iface->resize, "resize", error))
    {
      nebula_stats_counters_record_failure (counters);
      return NULL;
    }

  new_ptr = iface->resize (self, ptr, MAX (old_size, 1), MAX (new_size, 1), alignment,
                               &local_error);
  if (new_ptr == NULL)
    {
      ensure_error (self, error, local_error, "reallocation", new_size);
      nebula_stats_counters_record_failure (counters);
      return NULL;
    }

  g_clear_error (&local_error);
  nebula_stats_counters_record_reallocation (counters, old_size, new_size);
  return new_ptr;
}

G_NO_INLINE gboolean
nebula_allocator_deallocate_slow (gpointer          self,
                                  gpointer          ptr,
                                  gsize             size,
                                  gsize             alignment,
                                  GError          **error)
{
  NebulaAllocatorInterface *iface;
  GError *local_error = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  iface = lookup_interface (self);
  g_return_val_if_fail (iface != NULL, FALSE);

  if (G_LIKELY (nebula_allocator_is_core (self) && ptr != NULL && size != 0 &&
                nebula_layout_is_valid (size, alignment)))
    {
      if (G_UNLIKELY (!iface->dealloc (self, ptr, size, alignment, error)))
        return FALSE;
      nebula_stats_counters_record_deallocation (nebula_allocator_get_core (self)->counters, size);
      return TRUE;
    }

  if (!nebula_layout_check (self, size, alignment, error))
    return FALSE;

  if (ptr == NULL)
    {
      g_autofree char *what = nebula_allocator_describe (self);
      NebulaErrorInfo info = { .requested = size, .what = what };

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER,
                        &info, "%s: cannot free a NULL pointer (size %" G_GSIZE_FORMAT ")",
                        what, size);
      return FALSE;
    }

  if (!check_slot (self, iface->dealloc, "dealloc", error))
    return FALSE;

  if (!iface->dealloc (self, ptr, MAX (size, 1), alignment, &local_error))
    {
      ensure_error (self, error, local_error, "deallocation", size);
      return FALSE;
    }

  g_clear_error (&local_error);
  nebula_stats_counters_record_deallocation (get_counters (self, iface), size);
  return TRUE;
}

gboolean
nebula_allocator_deallocate_direct (gpointer   self,
                                    gpointer   ptr,
                                    gsize      size,
                                    gsize      alignment,
                                    GError   **error)
{
  const NebulaCoreDirect *direct = nebula_allocator_core_get_direct (self);
  NebulaDirectResult result = direct->dealloc (self, ptr, size, alignment, error);

  return nebula_allocator_core_dealloc_finish (self, result, ptr, size, alignment, error);
}

/* The stack's inline pop (nebula_allocator_core_try_dealloc_kind() says
 * why it is out of line), then what it declines. */
static G_NO_INLINE gboolean
deallocate_stack (NebulaAllocator  *self,
                  gpointer          ptr,
                  gsize             size,
                  gsize             alignment,
                  GError          **error)
{
  if (G_LIKELY (_nebula_stack_fast_dealloc (_NEBULA_STACK_FAST (self), ptr, size, alignment)))
    return TRUE;

  return nebula_allocator_core_dealloc_all (self) (self, ptr, size, alignment, error);
}

/**
 * nebula_allocator_deallocate: (skip)
 * @self: a #NebulaAllocator
 * @ptr: a block from @self
 * @size: the size @ptr was allocated with
 * @alignment: the alignment @ptr was allocated with
 * @error: return location for a #GError
 *
 * Gives the block at @ptr back. What that means depends on the allocator: a
 * pool returns the block to its free list, a stack pops its top (and
 * refuses any other block with %NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER), a bump
 * allocator rewinds only its most recent allocation and otherwise succeeds
 * without effect. Pointers the allocator can recognize as foreign or freed
 * give an error and change nothing.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
nebula_allocator_deallocate (NebulaAllocator  *self,
                             gpointer          ptr,
                             gsize             size,
                             gsize             alignment,
                             GError          **error)
{
  NebulaAllocatorKind kind;

  if (G_UNLIKELY (!nebula_allocator_is_core_nonnull (self)))
    return nebula_allocator_deallocate_slow (self, ptr, size, alignment, error);
  kind = nebula_allocator_get_core (self)->kind;
  if (G_LIKELY (nebula_allocator_core_try_dealloc_kind (self, kind, ptr, size, alignment)))
    return TRUE;
  if (kind == NEBULA_ALLOCATOR_KIND_STACK)
    return deallocate_stack (self, ptr, size, alignment, error);

  return nebula_allocator_core_dealloc_all (self) (self, ptr, size, alignment, error);
}

/**
 * nebula_allocator_reset:
 * @self: a #NebulaAllocator
 *
 * Frees every allocation at once. Pointers handed out before are invalid
 * afterwards, and so are checkpoints and markers taken before. Must not run
 * concurrently with other calls on @self.
 */
void
nebula_allocator_reset (NebulaAllocator *self)
{
  NebulaAllocatorInterface *iface;

  g_return_if_fail (self != NULL);
  iface = lookup_interface (self);
  g_return_if_fail (iface != NULL);

  /* Cleanups first: they may still read the memory the reset releases. */
  nebula_cleanup_run_all (self);
  if (iface->reset != NULL)
    iface->reset (self);
  nebula_script_forget_all (self);
  nebula_stats_counters_record_reset (get_counters (self, iface));
  nebula_sysprof_allocator_event (self, "reset", 0);
}

/**
 * nebula_allocator_owns: (skip)
 * @self: a #NebulaAllocator
 * @ptr: (nullable): any pointer
 *
 * Whether @ptr lies in memory that @self handed out and still manages.
 * Never dereferences @ptr.
 *
 * Returns: %TRUE if @self owns @ptr
 */
gboolean
nebula_allocator_owns (NebulaAllocator *self,
                       gconstpointer    ptr)
{
  NebulaAllocatorInterface *iface;

  g_return_val_if_fail (self != NULL, FALSE);
  iface = lookup_interface (self);
  g_return_val_if_fail (iface != NULL, FALSE);

  if (ptr == NULL)
    return FALSE;

  return iface->contains != NULL && iface->contains (self, ptr);
}

/* For checks made outside the wrappers (nebula_allocator_allocate_array()):
 * a refused request counts as a failed allocation all the same. */
void
nebula_allocator_record_failure (NebulaAllocator *self)
{
  NebulaAllocatorInterface *iface = lookup_interface (self);

  if (iface != NULL)
    nebula_stats_counters_record_failure (get_counters (self, iface));
}

/**
 * nebula_allocator_get_stats:
 * @self: a #NebulaAllocator
 *
 * Reads the statistics. The read is exact even while other threads use a
 * thread-safe allocator. With #NebulaBumpAllocator:track-stats off, the
 * counters stay at 0.
 *
 * Returns: (transfer full): a snapshot of the counters
 */
NebulaAllocatorStats *
nebula_allocator_get_stats (NebulaAllocator *self)
{
  NebulaAllocatorInterface *iface;
  NebulaAllocatorStats *stats;

  g_return_val_if_fail (self != NULL, NULL);
  iface = lookup_interface (self);
  g_return_val_if_fail (iface != NULL, NULL);

  stats = g_new0 (NebulaAllocatorStats, 1);
  nebula_stats_counters_read (get_counters (self, iface), stats);

  return stats;
}

/**
 * nebula_allocator_reset_stats:
 * @self: a #NebulaAllocator
 *
 * Forgets the history: every counter returns to 0, except that bytes still
 * in use stay counted (and become the new peak). Like
 * nebula_allocator_reset(), it must not run concurrently with other calls
 * on @self.
 */
void
nebula_allocator_reset_stats (NebulaAllocator *self)
{
  NebulaAllocatorInterface *iface;

  g_return_if_fail (self != NULL);
  iface = lookup_interface (self);
  g_return_if_fail (iface != NULL);

  nebula_stats_counters_zero (get_counters (self, iface));
}

static guint64
get_uint64_property (NebulaAllocator *self,
                     const char      *name)
{
  guint64 value = 0;

  g_object_get (self, name, &value, NULL);
  return value;
}

/**
 * nebula_allocator_get_capacity:
 * @self: a #NebulaAllocator
 *
 * Gets #NebulaAllocator:capacity.
 *
 * Returns: the capacity in bytes
 */
guint64
nebula_allocator_get_capacity (NebulaAllocator *self)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);

  return get_uint64_property (self, "capacity");
}

/**
 * nebula_allocator_get_bytes_used:
 * @self: a #NebulaAllocator
 *
 * Gets #NebulaAllocator:bytes-used.
 *
 * Returns: the bytes in use, padding included
 */
guint64
nebula_allocator_get_bytes_used (NebulaAllocator *self)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);

  return get_uint64_property (self, "bytes-used");
}

/**
 * nebula_allocator_get_bytes_available:
 * @self: a #NebulaAllocator
 *
 * Gets #NebulaAllocator:bytes-available.
 *
 * Returns: the bytes that can be handed out without growing
 */
guint64
nebula_allocator_get_bytes_available (NebulaAllocator *self)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);

  return get_uint64_property (self, "bytes-available");
}

/**
 * nebula_allocator_get_thread_safe:
 * @self: a #NebulaAllocator
 *
 * Gets #NebulaAllocator:thread-safe.
 *
 * Returns: whether @self may be used from several threads at once
 */
gboolean
nebula_allocator_get_thread_safe (NebulaAllocator *self)
{
  gboolean thread_safe = FALSE;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), FALSE);

  g_object_get (self, "thread-safe", &thread_safe, NULL);
  return thread_safe;
}

/**
 * nebula_allocator_dup_name:
 * @self: a #NebulaAllocator
 *
 * Gets #NebulaAllocator:name.
 *
 * Returns: (transfer full) (nullable): the name
 */
char *
nebula_allocator_dup_name (NebulaAllocator *self)
{
  char *name = NULL;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);

  g_object_get (self, "name", &name, NULL);
  return name;
}
