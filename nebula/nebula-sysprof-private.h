/* nebula-sysprof-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "nebula-allocator.h"

G_BEGIN_DECLS

/* Allocator and cache activity in a Sysprof capture (nebula-sysprof.c,
 * the `sysprof` build feature). Every hook sits on a slow path (growth,
 * reset, trim, a refused budget charge, a cache miss, a flight) and costs
 * one load and a not-taken branch while no capture runs; built without the
 * feature, it costs nothing at all.
 *
 * A capture runs when the process starts with SYSPROF_TRACE_FD (a file
 * descriptor Nebula writes capture frames to, as GLib and GTK do) or under
 * sysprof / sysprof-agent (the collector's SYSPROF_CONTROL_FD). Each event
 * writes a mark in the group "Nebula" and, for an allocator, its counters
 * (bytes in use, peak bytes in use, allocations per second since the last
 * sample), defined the first time the allocator is seen. */

#if HAVE_SYSPROF

/* 0: not decided yet; 1: a capture runs; -1: none. */
extern int nebula_sysprof_state;

gboolean nebula_sysprof_decide           (void);

static inline gboolean
nebula_sysprof_active (void)
{
  int state = __atomic_load_n (&nebula_sysprof_state, __ATOMIC_RELAXED);

  if (G_LIKELY (state < 0))
    return FALSE;
  if (state > 0)
    return TRUE;
  return nebula_sysprof_decide ();
}

void     nebula_sysprof_allocator_event_real (NebulaAllocator *self,
                                              const char      *event,
                                              guint64          bytes);
void     nebula_sysprof_mark_real            (const char      *name,
                                              const char      *format,
                                              ...) G_GNUC_PRINTF (2, 3);
void     nebula_sysprof_cache_event_real     (gpointer         cache,
                                              const char      *event,
                                              GVariant        *key,
                                              gint64           began_us);
void     nebula_sysprof_flush                (void);

#define nebula_sysprof_allocator_event(self, event, bytes)                     \
  G_STMT_START {                                                             \
    if (G_UNLIKELY (nebula_sysprof_active ()))                               \
      nebula_sysprof_allocator_event_real ((NebulaAllocator *) (self), (event), (bytes)); \
  } G_STMT_END

#define nebula_sysprof_mark(name, ...)                                       \
  G_STMT_START {                                                             \
    if (G_UNLIKELY (nebula_sysprof_active ()))                               \
      nebula_sysprof_mark_real ((name), __VA_ARGS__);                        \
  } G_STMT_END

/* A cache's event: @key may be NULL (a cache whose keys are pointers);
 * @began_us, a g_get_monotonic_time() or 0, gives the mark a duration up
 * to now (a flight's computation). */
#define nebula_sysprof_cache_event(cache, event, key, began_us)              \
  G_STMT_START {                                                             \
    if (G_UNLIKELY (nebula_sysprof_active ()))                               \
      nebula_sysprof_cache_event_real ((cache), (event), (key), (began_us)); \
  } G_STMT_END

#else

static inline gboolean nebula_sysprof_active (void) { return FALSE; }
static inline void nebula_sysprof_flush (void) { }
#define nebula_sysprof_allocator_event(self, event, bytes) G_STMT_START { (void) (self); } G_STMT_END
#define nebula_sysprof_mark(name, ...) G_STMT_START { } G_STMT_END
#define nebula_sysprof_cache_event(cache, event, key, began_us) G_STMT_START { } G_STMT_END

#endif

/* A trim's mark and counters; @retained: a trim that also gave back what
 * the configuration keeps. */
static inline void
nebula_sysprof_trim (NebulaAllocator *self,
                     gboolean         retained,
                     guint64          given)
{
  nebula_sysprof_allocator_event (self, retained ? "trim-retained" : "trim", given);
}

G_END_DECLS
