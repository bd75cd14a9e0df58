/* nebula-allocator.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>

#include "nebula-allocator-stats.h"
#include "nebula-version-macros.h"

G_BEGIN_DECLS

/**
 * NebulaPreset:
 * @NEBULA_PRESET_DEFAULT: balanced: statistics and checks on, no fills,
 *   no growth unless configured
 * @NEBULA_PRESET_PRODUCTION: statistics and checks on, growth allowed up to
 *   eight times the capacity so that a spike does not fail
 * @NEBULA_PRESET_DEBUG: statistics and checks on, allocations filled with
 *   0xAA and freed memory with 0xDD, no growth so that leaks fail early
 * @NEBULA_PRESET_PERFORMANCE: statistics and free checks off, no fills
 *
 * Sets of defaults for the configuration properties. A preset only changes
 * the defaults: a property given explicitly at construction always wins.
 * docs/presets.md lists what each preset sets for each allocator.
 */
typedef enum
{
  NEBULA_PRESET_DEFAULT,
  NEBULA_PRESET_PRODUCTION,
  NEBULA_PRESET_DEBUG,
  NEBULA_PRESET_PERFORMANCE,
} NebulaPreset;

#define NEBULA_TYPE_ALLOCATOR (nebula_allocator_get_type ())

NEBULA_AVAILABLE_IN_0_1
G_DECLARE_INTERFACE (NebulaAllocator, nebula_allocator, NEBULA, ALLOCATOR, GObject)

/**
 * NebulaAllocatorInterface:
 * @parent_iface: the parent interface
 * @alloc: allocates @size bytes aligned to @alignment
 * @alloc_zeroed: allocates zero-filled memory; the default calls
 *   @alloc and clears the block
 * @resize: resizes a block; the default allocates, copies and
 *   deallocates
 * @dealloc: gives a block back
 * @reset: frees everything at once
 * @contains: whether a pointer lies in memory this allocator handed out
 * @trim: gives back the memory no live block needs; the default gives back
 *   nothing
 *
 * The virtual functions of #NebulaAllocator. The public wrappers validate the
 * layout (alignment a power of two, no overflow, size 0 mapped to a minimal
 * block) and record statistics before they call these, so an implementation
 * never re-validates a layout and never counts.
 *
 * The slots are named apart from the public methods (`alloc` for
 * nebula_allocator_allocate(), `dealloc` for nebula_allocator_deallocate(),
 * `resize`, `contains`) because the pointer-taking methods are hidden from
 * bindings; this way a Python or JavaScript class can implement them
 * (`do_alloc`, `do_dealloc`, ..., with addresses as integers). A slot left
 * %NULL makes the method fail with %NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED.
 */
struct _NebulaAllocatorInterface
{
  GTypeInterface parent_iface;

  gpointer (*alloc)           (NebulaAllocator  *self,
                               gsize             size,
                               gsize             alignment,
                               GError          **error);
  gpointer (*alloc_zeroed)    (NebulaAllocator  *self,
                               gsize             size,
                               gsize             alignment,
                               GError          **error);
  gpointer (*resize)          (NebulaAllocator  *self,
                               gpointer          ptr,
                               gsize             old_size,
                               gsize             new_size,
                               gsize             alignment,
                               GError          **error);
  gboolean (*dealloc)         (NebulaAllocator  *self,
                               gpointer          ptr,
                               gsize             size,
                               gsize             alignment,
                               GError          **error);
  void     (*reset)           (NebulaAllocator  *self);
  gboolean (*contains)        (NebulaAllocator  *self,
                               gconstpointer     ptr);
  guint64  (*trim)            (NebulaAllocator  *self,
                               GError          **error);

  /*< private >*/
  gpointer padding[8];
};

NEBULA_AVAILABLE_IN_0_1
gpointer              nebula_allocator_allocate                (NebulaAllocator  *self,
                                                                gsize             size,
                                                                gsize             alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_0_1
gpointer              nebula_allocator_allocate_zeroed         (NebulaAllocator  *self,
                                                                gsize             size,
                                                                gsize             alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_0_1
gpointer              nebula_allocator_reallocate              (NebulaAllocator  *self,
                                                                gpointer          ptr,
                                                                gsize             old_size,
                                                                gsize             new_size,
                                                                gsize             alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_0_1
gboolean              nebula_allocator_deallocate              (NebulaAllocator  *self,
                                                                gpointer          ptr,
                                                                gsize             size,
                                                                gsize             alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_0_1
void                  nebula_allocator_reset                   (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_0_1
gboolean              nebula_allocator_owns                    (NebulaAllocator  *self,
                                                                gconstpointer     ptr);
NEBULA_AVAILABLE_IN_0_1
guint64               nebula_allocator_trim                    (NebulaAllocator  *self,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_0_1
NebulaAllocatorStats *nebula_allocator_get_stats               (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_0_1
void                  nebula_allocator_reset_stats             (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_0_1
guint64               nebula_allocator_get_capacity            (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_0_1
guint64               nebula_allocator_get_bytes_used          (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_0_1
guint64               nebula_allocator_get_bytes_available     (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_0_1
gboolean              nebula_allocator_get_thread_safe         (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_0_1
char                 *nebula_allocator_dup_name                (NebulaAllocator  *self);

NEBULA_AVAILABLE_IN_0_1
guint64               nebula_allocator_allocate_address        (NebulaAllocator  *self,
                                                                guint64           size,
                                                                guint64           alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_0_1
guint64               nebula_allocator_allocate_zeroed_address (NebulaAllocator  *self,
                                                                guint64           size,
                                                                guint64           alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_0_1
guint64               nebula_allocator_reallocate_address      (NebulaAllocator  *self,
                                                                guint64           address,
                                                                guint64           old_size,
                                                                guint64           new_size,
                                                                guint64           alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_0_1
gboolean              nebula_allocator_deallocate_address      (NebulaAllocator  *self,
                                                                guint64           address,
                                                                guint64           size,
                                                                guint64           alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_0_1
gboolean              nebula_allocator_owns_address            (NebulaAllocator  *self,
                                                                guint64           address);
NEBULA_AVAILABLE_IN_0_1
gboolean              nebula_allocator_check_span_address      (NebulaAllocator  *self,
                                                                guint64           address,
                                                                guint64           size,
                                                                GError          **error);

G_END_DECLS
