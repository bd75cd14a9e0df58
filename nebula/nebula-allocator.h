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

NEBULA_AVAILABLE_IN_ALL
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

  /*< private >*/
  gssize   stats_offset;
  gpointer padding[8];
};

NEBULA_AVAILABLE_IN_ALL
gpointer              nebula_allocator_allocate                (NebulaAllocator  *self,
                                                                gsize             size,
                                                                gsize             alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_ALL
gpointer              nebula_allocator_allocate_zeroed         (NebulaAllocator  *self,
                                                                gsize             size,
                                                                gsize             alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_ALL
gpointer              nebula_allocator_reallocate              (NebulaAllocator  *self,
                                                                gpointer          ptr,
                                                                gsize             old_size,
                                                                gsize             new_size,
                                                                gsize             alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_allocator_deallocate              (NebulaAllocator  *self,
                                                                gpointer          ptr,
                                                                gsize             size,
                                                                gsize             alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_ALL
void                  nebula_allocator_reset                   (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_allocator_owns                    (NebulaAllocator  *self,
                                                                gconstpointer     ptr);
NEBULA_AVAILABLE_IN_ALL
NebulaAllocatorStats *nebula_allocator_get_stats               (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_ALL
void                  nebula_allocator_reset_stats             (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_ALL
guint64               nebula_allocator_get_capacity            (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_ALL
guint64               nebula_allocator_get_bytes_used          (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_ALL
guint64               nebula_allocator_get_bytes_available     (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_allocator_get_thread_safe         (NebulaAllocator  *self);
NEBULA_AVAILABLE_IN_ALL
char                 *nebula_allocator_dup_name                (NebulaAllocator  *self);

NEBULA_AVAILABLE_IN_ALL
guint64               nebula_allocator_allocate_address        (NebulaAllocator  *self,
                                                                guint64           size,
                                                                guint64           alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_ALL
guint64               nebula_allocator_allocate_zeroed_address (NebulaAllocator  *self,
                                                                guint64           size,
                                                                guint64           alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_ALL
guint64               nebula_allocator_reallocate_address      (NebulaAllocator  *self,
                                                                guint64           address,
                                                                guint64           old_size,
                                                                guint64           new_size,
                                                                guint64           alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_allocator_deallocate_address      (NebulaAllocator  *self,
                                                                guint64           address,
                                                                guint64           size,
                                                                guint64           alignment,
                                                                GError          **error);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_allocator_owns_address            (NebulaAllocator  *self,
                                                                guint64           address);
NEBULA_AVAILABLE_IN_ALL
gboolean              nebula_allocator_check_span_address      (NebulaAllocator  *self,
                                                                guint64           address,
                                                                guint64           size,
                                                                GError          **error);

#ifndef __GI_SCANNER__

/*< private >
 * What the inline fast paths of the built-in allocators count, into the
 * allocator's plain counters (@stats is %NULL when it keeps none). Not API.
 *
 * In these counters two fields hold something else than their names say,
 * so that each request touches as few of them as possible:
 * total_bytes_freed holds the bytes freed minus a base, and bytes_in_use
 * holds that base. Then the balance, total_bytes_allocated -
 * total_bytes_freed read as a signed number, is one subtraction; bytes in
 * use is the balance, or 0 while it is below 0. The base only changes
 * when a reset or nebula_allocator_reset_stats() starts the balance anew.
 * nebula_stats_counters_read() gives the real values.
 *
 * An allocation adds to two counters. A free adds to two and settles the
 * peak, which an allocation leaves lagging. A free of more than is in use
 * (a caller's mistake the allocator cannot always see, such as a size
 * larger than the one allocated) takes the balance below 0, and later
 * allocations fill that gap before bytes in use rises again. That is how
 * a thread-safe allocator's per-thread balances have always counted (a
 * read clamps their sum at 0), and a reset or a zeroing closes the gap.
 * Checking for it on every free, to stop at 0 there, cost 1.5 points of
 * the 5% budget (docs/performance.md, "Statistics").
 * All arithmetic is modulo 2^64.
 */
static inline gint64
_nebula_fast_stats_balance (const NebulaAllocatorStats *stats)
{
  return (gint64) (stats->total_bytes_allocated - stats->total_bytes_freed);
}

static inline void
_nebula_fast_stats_alloc (NebulaAllocatorStats *stats,
                          gsize                 size)
{
  if (stats != NULL)
    {
      stats->allocations++;
      stats->total_bytes_allocated += size;
    }
}

/* Settles the peak, then takes @size off the balance. The usual free runs
 * straight through: a new peak branches out and comes back. */
static inline void
_nebula_fast_stats_take (NebulaAllocatorStats *stats,
                         guint64               size)
{
  gint64 balance = _nebula_fast_stats_balance (stats);

  if (G_UNLIKELY (balance > (gint64) stats->peak_bytes_in_use))
    stats->peak_bytes_in_use = (guint64) balance;
  stats->total_bytes_freed += size;
}

static inline void
_nebula_fast_stats_free (NebulaAllocatorStats *stats,
                         gsize                 size)
{
  if (stats != NULL)
    {
      _nebula_fast_stats_take (stats, size);
      stats->deallocations++;
    }
}

#endif /* __GI_SCANNER__ */

G_END_DECLS
