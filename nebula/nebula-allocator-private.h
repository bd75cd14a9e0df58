/* nebula-allocator-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "nebula-allocator.h"
#include "nebula-error-private.h"
#include "nebula-stats-private.h"

G_BEGIN_DECLS

/* The classes of built-in final types whose inline fast paths the public
 * wrappers try before dispatching (NULL until the class initializes). A
 * class pointer compare is exact for a final type and costs one load. */
extern gpointer nebula_bump_allocator_class_for_dispatch;

/* The largest request any allocator accepts. */
#define NEBULA_MAX_ALLOCATION_SIZE ((gsize) G_MAXSSIZE)

/* One branch for the common case; nebula_layout_check() says what is wrong. */
static inline gboolean
nebula_layout_is_valid (gsize size,
                        gsize alignment)
{
  return (alignment & (alignment - 1)) == 0 &&
         alignment != 0 &&
         size <= NEBULA_MAX_ALLOCATION_SIZE;
}

gboolean nebula_layout_check (NebulaAllocator  *self,
                              gsize             size,
                              gsize             alignment,
                              GError          **error);

/* "Bump allocator 'frames'" or "Bump allocator": for messages. */
char *nebula_allocator_describe (NebulaAllocator *self);

/* The configuration shared by every built-in allocator. Each class lays its
 * own property ids after NEBULA_CONFIG_N_PROPS. */
enum {
  NEBULA_CONFIG_PROP_0,
  NEBULA_CONFIG_PROP_NAME,
  NEBULA_CONFIG_PROP_THREAD_SAFE,
  NEBULA_CONFIG_PROP_TRACK_STATS,
  NEBULA_CONFIG_PROP_ALLOC_FILL,
  NEBULA_CONFIG_PROP_FREE_FILL,
  NEBULA_CONFIG_PROP_PRESET,
  NEBULA_CONFIG_PROP_CAPACITY,
  NEBULA_CONFIG_PROP_BYTES_USED,
  NEBULA_CONFIG_PROP_BYTES_AVAILABLE,
  NEBULA_CONFIG_N_PROPS
};

typedef struct
{
  char         *name;
  NebulaPreset  preset;
  gboolean      thread_safe;
  gboolean      track_stats;
  int           alloc_fill;        /* -1: off */
  int           free_fill;         /* -1: off */

  guint64       explicit_props;    /* bit n: property id n was given */
  gsize         init_once;         /* g_once_init_enter() guard */
  GError       *init_error;        /* why the configuration is invalid */
} NebulaAllocatorConfig;

/* Configuration properties: writable until the object initializes. */
#define NEBULA_CONFIG_PARAM_FLAGS \
  (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS)

typedef enum
{
  NEBULA_CAPACITY_READ_ONLY,
  NEBULA_CAPACITY_CONSTRUCT,
} NebulaCapacityMode;

void      nebula_allocator_config_install_properties (GObjectClass           *klass,
                                                      GParamSpec            **pspecs,
                                                      gboolean                thread_safe_default,
                                                      NebulaCapacityMode      capacity_mode,
                                                      guint64                 capacity_default);
void      nebula_allocator_config_init               (NebulaAllocatorConfig  *config,
                                                      gboolean                thread_safe_default);
void      nebula_allocator_config_clear              (NebulaAllocatorConfig  *config);
gboolean  nebula_allocator_config_set_property       (NebulaAllocatorConfig  *config,
                                                      guint                   prop_id,
                                                      const GValue           *value);
gboolean  nebula_allocator_config_get_property       (NebulaAllocatorConfig  *config,
                                                      guint                   prop_id,
                                                      GValue                 *value);
gboolean  nebula_allocator_config_begin_set          (NebulaAllocatorConfig  *config,
                                                      GObject                *object,
                                                      GParamSpec             *pspec);
gboolean  nebula_allocator_config_is_explicit        (NebulaAllocatorConfig  *config,
                                                      guint                   prop_id);
void      nebula_allocator_config_apply_preset       (NebulaAllocatorConfig  *config);
void      nebula_allocator_config_validate           (NebulaAllocatorConfig  *config,
                                                      const char             *type_label);
void      nebula_allocator_config_set_invalid        (NebulaAllocatorConfig  *config,
                                                      const char             *type_label,
                                                      const char             *property,
                                                      const char             *format,
                                                      ...) G_GNUC_PRINTF (4, 5);

/* Runs @init once (thread-safe) and tells whether the configuration is
 * valid; bindings may skip g_initable_init(), so every slow path calls this
 * and the object initializes itself on first use. */
typedef void (*NebulaConfigInitFunc) (gpointer self);
gboolean  nebula_allocator_config_ensure             (NebulaAllocatorConfig  *config,
                                                      gpointer                self,
                                                      NebulaConfigInitFunc    init,
                                                      GError                **error);

G_END_DECLS
