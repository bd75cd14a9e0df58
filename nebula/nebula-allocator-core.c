/* nebula-allocator-core.c: what every built-in allocator shares. Its
 * common head (NebulaAllocatorCore: kind, vtable, counters, configuration)
 * and the one class mark the public wrappers test; the configuration
 * properties and their presets; the validation rules, one message each;
 * the budget account; and the one-time initialization (ensure).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-core-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-enums.h"
#include "nebula-sanitizer-private.h"
#include "nebula-sysprof-private.h"

/* The inline functions of the installed headers read these places. */
NEBULA_ASSERT_FAST_FIELD (NebulaAllocatorCore, kind, 0);
NEBULA_ASSERT_FAST_FIELD (NebulaAllocatorCore, iface, 1);
NEBULA_ASSERT_FAST_FIELD (NebulaAllocatorCore, counters, 2);
NEBULA_ASSERT_FAST_FIELD (NebulaAllocatorCore, config, 3);
NEBULA_ASSERT_FAST_FIELD (NebulaAllocatorCore, direct, 4);
NEBULA_ASSERT_FAST_FIELD (NebulaAllocatorCore, alloc_all, 5);
NEBULA_ASSERT_FAST_FIELD (NebulaAllocatorCore, dealloc_all, 6);
G_STATIC_ASSERT (sizeof (NebulaAllocatorCore) == 7 * sizeof (gpointer));
G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaStatsCounters, plain) == 0);

/* The class mark of every built-in (nebula-allocator-core-private.h).
 * Each core class derives from GObject directly; an instance carries its
 * kind from its instance init. */
void
nebula_allocator_core_constructed (GObject *object)
{
  GObjectClass *object_class = g_type_class_peek_static (G_TYPE_OBJECT);

  g_assert (nebula_allocator_get_core (object)->kind > NEBULA_ALLOCATOR_KIND_NONE &&
            nebula_allocator_get_core (object)->kind <= NEBULA_ALLOCATOR_KIND_MULTI_POOL);
  if (object_class->constructed != NULL)
    object_class->constructed (object);
}

void
nebula_allocator_core_class_init (GObjectClass        *klass,
                                  NebulaAllocatorKind  kind)
{
  g_assert (g_type_parent (G_TYPE_FROM_CLASS (klass)) == G_TYPE_OBJECT);
  /* The mark says "built-in" to every class that has it: a subclass
   * would have it too, and its own vfuncs would be bypassed. */
  g_assert (G_TYPE_IS_FINAL (G_TYPE_FROM_CLASS (klass)));
  g_assert (kind > NEBULA_ALLOCATOR_KIND_NONE && kind <= NEBULA_ALLOCATOR_KIND_MULTI_POOL);

  klass->constructed = nebula_allocator_core_constructed;
}

/* The direct path, and the whole-request entry points the wrappers jump
 * to (nebula_allocator_core_alloc_all()): the direct path's own, or the
 * generic pair that calls @alloc / @dealloc and passes on what they
 * decline. Each store is a release: each field is valid on its own, and a
 * thread that sees one sees the state the kind set up before. */
void
nebula_allocator_core_set_direct (gpointer                self,
                                  const NebulaCoreDirect *direct)
{
  NebulaAllocatorCore *core = nebula_allocator_get_core (self);
  NebulaCoreAllocAll alloc_all = nebula_allocator_allocate_slow;
  NebulaCoreDeallocAll dealloc_all = nebula_allocator_deallocate_slow;

  if (direct != NULL)
    {
      alloc_all = direct->alloc_all != NULL ? direct->alloc_all : nebula_allocator_allocate_direct;
      dealloc_all = direct->dealloc_all != NULL ? direct->dealloc_all
                                                : nebula_allocator_deallocate_direct;
    }

  __atomic_store_n (&core->direct, (gconstpointer) direct, __ATOMIC_RELEASE);
  __atomic_store_n (&core->alloc_all, (gpointer) alloc_all, __ATOMIC_RELEASE);
  __atomic_store_n (&core->dealloc_all, (gpointer) dealloc_all, __ATOMIC_RELEASE);
}

/* Type-independent setup, once per instance: what PostgreSQL's
 * MemoryContextCreate() does for a context. The class (and so its
 * interface vtable) is complete before any instance exists. */
void
nebula_allocator_core_init (gpointer               self,
                            NebulaAllocatorKind    kind,
                            NebulaStatsCounters   *counters,
                            NebulaAllocatorConfig *config,
                            gboolean               thread_safe_default)
{
  NebulaAllocatorCore *core = nebula_allocator_get_core (self);

  core->kind = kind;
  core->iface = g_type_interface_peek (G_OBJECT_GET_CLASS (self), NEBULA_TYPE_ALLOCATOR);
  core->counters = counters;
  core->config = config;
  nebula_allocator_core_set_direct (self, NULL);

  g_assert (core->iface != NULL);

  nebula_allocator_config_init (config, thread_safe_default);
  nebula_stats_counters_init (counters, TRUE, thread_safe_default);
}

void
nebula_allocator_config_install_properties (GObjectClass        *klass,
                                            GParamSpec         **pspecs,
                                            gboolean             thread_safe_default,
                                            NebulaCapacityMode   capacity_mode,
                                            guint64              capacity_default)
{
  /* Integer ranges are wider than what is valid on purpose: GObject only
   * warns about values outside a pspec's range, while GInitable.init can
   * answer with an INVALID_CONFIG error that names the rule. */
  pspecs[NEBULA_CONFIG_PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
NEBULA_CONFIG_PARAM_FLAGS);

  pspecs[NEBULA_CONFIG_PROP_THREAD_SAFE] =
    g_param_spec_boolean ("thread-safe", NULL, NULL,
                          thread_safe_default,
NEBULA_CONFIG_PARAM_FLAGS);

  pspecs[NEBULA_CONFIG_PROP_TRACK_STATS] =
    g_param_spec_boolean ("track-stats", NULL, NULL,
                          TRUE,
NEBULA_CONFIG_PARAM_FLAGS);

  pspecs[NEBULA_CONFIG_PROP_ALLOC_FILL] =
    g_param_spec_int ("alloc-fill", NULL, NULL,
                      G_MININT, G_MAXINT, -1,
NEBULA_CONFIG_PARAM_FLAGS);

  pspecs[NEBULA_CONFIG_PROP_FREE_FILL] =
    g_param_spec_int ("free-fill", NULL, NULL,
                      G_MININT, G_MAXINT, -1,
NEBULA_CONFIG_PARAM_FLAGS);

  pspecs[NEBULA_CONFIG_PROP_PRESET] =
    g_param_spec_enum ("preset", NULL, NULL,
                       NEBULA_TYPE_PRESET,
                       NEBULA_PRESET_DEFAULT,
                       (G_PARAM_READWRITE |
                        G_PARAM_CONSTRUCT_ONLY |
                        G_PARAM_STATIC_STRINGS));

  pspecs[NEBULA_CONFIG_PROP_BUDGET] =
    g_param_spec_object ("budget", NULL, NULL,
                         NEBULA_TYPE_MEMORY_BUDGET,
NEBULA_CONFIG_PARAM_FLAGS);

  if (capacity_mode == NEBULA_CAPACITY_CONSTRUCT)
    pspecs[NEBULA_CONFIG_PROP_CAPACITY] =
      g_param_spec_uint64 ("capacity", NULL, NULL,
                           0, G_MAXUINT64, capacity_default,
NEBULA_CONFIG_PARAM_FLAGS);
  else
    pspecs[NEBULA_CONFIG_PROP_CAPACITY] =
      g_param_spec_uint64 ("capacity", NULL, NULL,
                           0, G_MAXUINT64, 0,
                           (G_PARAM_READABLE |
                            G_PARAM_STATIC_STRINGS));

  g_object_class_override_property (klass, NEBULA_CONFIG_PROP_BYTES_USED, "bytes-used");
  g_object_class_override_property (klass, NEBULA_CONFIG_PROP_BYTES_AVAILABLE, "bytes-available");
  pspecs[NEBULA_CONFIG_PROP_BYTES_USED] = g_object_class_find_property (klass, "bytes-used");
  pspecs[NEBULA_CONFIG_PROP_BYTES_AVAILABLE] = g_object_class_find_property (klass, "bytes-available");

  for (guint i = NEBULA_CONFIG_PROP_NAME; i <= NEBULA_CONFIG_PROP_CAPACITY; i++)
    g_object_class_install_property (klass, i, pspecs[i]);
}

void
nebula_allocator_config_init (NebulaAllocatorConfig *config,
                              gboolean               thread_safe_default)
{
  config->name = NULL;
  config->preset = NEBULA_PRESET_DEFAULT;
  config->thread_safe = thread_safe_default;
  config->track_stats = TRUE;
  config->alloc_fill = -1;
  config->free_fill = -1;
  config->explicit_props = 0;
  config->init.once = 0;
  config->init.error = NULL;
  config->account.budget = NULL;
  config->account.charged = 0;
}

void
nebula_allocator_config_clear (NebulaAllocatorConfig *config)
{
  /* Whatever the allocator still holds goes back with it. */
  nebula_budget_account_clear (&config->account);
  g_clear_pointer (&config->name, g_free);
  g_clear_error (&config->init.error);
}

gboolean
nebula_allocator_config_set_property (NebulaAllocatorConfig *config,
                                      guint                  prop_id,
                                      const GValue          *value)
{
  switch (prop_id)
    {
    case NEBULA_CONFIG_PROP_NAME:
      g_free (config->name);
      config->name = g_value_dup_string (value);
      /* The name goes into messages, reports and JSON, all UTF-8: keep a
       * printable copy, and refuse the configuration at initialization. */
      config->name_not_utf8 = config->name != NULL && !g_utf8_validate (config->name, -1, NULL);
      if (config->name_not_utf8)
        {
          char *valid = g_utf8_make_valid (config->name, -1);

          g_free (config->name);
          config->name = valid;
        }
      return TRUE;
    case NEBULA_CONFIG_PROP_THREAD_SAFE:
      config->thread_safe = g_value_get_boolean (value);
      return TRUE;
    case NEBULA_CONFIG_PROP_TRACK_STATS:
      config->track_stats = g_value_get_boolean (value);
      return TRUE;
    case NEBULA_CONFIG_PROP_ALLOC_FILL:
      config->alloc_fill = g_value_get_int (value);
      return TRUE;
    case NEBULA_CONFIG_PROP_FREE_FILL:
      config->free_fill = g_value_get_int (value);
      return TRUE;
    case NEBULA_CONFIG_PROP_PRESET:
      config->preset = g_value_get_enum (value);
      return TRUE;
    case NEBULA_CONFIG_PROP_BUDGET:
      nebula_budget_account_set (&config->account, g_value_get_object (value));
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
nebula_allocator_config_get_property (NebulaAllocatorConfig *config,
                                      guint                  prop_id,
                                      GValue                *value)
{
  switch (prop_id)
    {
    case NEBULA_CONFIG_PROP_NAME:
      g_value_set_string (value, config->name);
      return TRUE;
    case NEBULA_CONFIG_PROP_THREAD_SAFE:
      g_value_set_boolean (value, config->thread_safe);
      return TRUE;
    case NEBULA_CONFIG_PROP_TRACK_STATS:
      g_value_set_boolean (value, config->track_stats);
      return TRUE;
    case NEBULA_CONFIG_PROP_ALLOC_FILL:
      g_value_set_int (value, config->alloc_fill);
      return TRUE;
    case NEBULA_CONFIG_PROP_FREE_FILL:
      g_value_set_int (value, config->free_fill);
      return TRUE;
    case NEBULA_CONFIG_PROP_PRESET:
      g_value_set_enum (value, config->preset);
      return TRUE;
    case NEBULA_CONFIG_PROP_BUDGET:
      g_value_set_object (value, config->account.budget);
      return TRUE;
    default:
      return FALSE;
    }
}

/* Configuration properties are plain read-write properties rather than
 * construct-only ones: GObject hands a constructor (and set_property) the
 * default of every construct property it was not given, indistinguishable
 * from an explicit value, and presets need to know which ones were given.
 * Writes are accepted until the object initializes and refused after. */
gboolean
nebula_allocator_config_begin_set (NebulaAllocatorConfig *config,
                                   GObject               *object,
                                   GParamSpec            *pspec)
{
  if (g_atomic_pointer_get (&config->init.once) != 0)
    {
      g_warning ("%s:%s is a construct property and cannot change after initialization",
                 G_OBJECT_TYPE_NAME (object), pspec->name);
      return FALSE;
    }

  if (pspec->param_id < 64)
    config->explicit_props |= G_GUINT64_CONSTANT (1) << pspec->param_id;

  return TRUE;
}

gboolean
nebula_allocator_config_is_explicit (NebulaAllocatorConfig *config,
                                     guint                  prop_id)
{
  return prop_id < 64 && (config->explicit_props & (G_GUINT64_CONSTANT (1) << prop_id)) != 0;
}

void
nebula_allocator_config_apply_preset (NebulaAllocatorConfig *config)
{
  gboolean track_stats = TRUE;
  int alloc_fill = -1;
  int free_fill = -1;

  switch (config->preset)
    {
    case NEBULA_PRESET_DEBUG:
      alloc_fill = 0xAA;
      free_fill = 0xDD;
      break;
    case NEBULA_PRESET_PERFORMANCE:
      track_stats = FALSE;
      break;
    case NEBULA_PRESET_DEFAULT:
    case NEBULA_PRESET_PRODUCTION:
    default:
      break;
    }

  if (!nebula_allocator_config_is_explicit (config, NEBULA_CONFIG_PROP_TRACK_STATS))
    config->track_stats = track_stats;
  if (!nebula_allocator_config_is_explicit (config, NEBULA_CONFIG_PROP_ALLOC_FILL))
    config->alloc_fill = alloc_fill;
  if (!nebula_allocator_config_is_explicit (config, NEBULA_CONFIG_PROP_FREE_FILL))
    config->free_fill = free_fill;
}

static void G_GNUC_PRINTF (5, 0)
config_set_invalid_va (NebulaAllocatorConfig *config,
                       const char            *type_label,
                       const char            *property,
                       const char            *suggestion,
                       const char            *format,
                       va_list                args)
{
  g_autofree char *rule = NULL;
  g_autofree char *fix = NULL;
  NebulaErrorInfo info = { 0, };

  if (config->init.error != NULL)
    return;

  rule = g_strdup_vprintf (format, args);

  if (suggestion == NULL)
    suggestion = fix = g_strdup_printf ("Fix the '%s' property: %s.", property, rule);
  info.what = config->name;
  info.suggestion = suggestion;

  if (config->name != NULL)
    nebula_set_error (&config->init.error, NEBULA_ALLOCATOR_ERROR,
                      NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG, &info,
                      "%s '%s' has an invalid configuration: '%s' %s",
                      type_label, config->name, property, rule);
  else
    nebula_set_error (&config->init.error, NEBULA_ALLOCATOR_ERROR,
                      NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG, &info,
                      "%s has an invalid configuration: '%s' %s",
                      type_label, property, rule);
}

void
nebula_allocator_config_set_invalid (NebulaAllocatorConfig *config,
                                     const char            *type_label,
                                     const char            *property,
                                     const char            *format,
                                     ...)
{
  va_list args;

  va_start (args, format);
  config_set_invalid_va (config, type_label, property, NULL, format, args);
  va_end (args);
}

/* The same with a suggestion of its own, for a value no fix of the
 * property makes sound: it names what to use instead. */
void
nebula_allocator_config_set_refused (NebulaAllocatorConfig *config,
                                     const char            *type_label,
                                     const char            *property,
                                     const char            *suggestion,
                                     const char            *format,
                                     ...)
{
  va_list args;

  va_start (args, format);
  config_set_invalid_va (config, type_label, property, suggestion, format, args);
  va_end (args);
}

/* The PRODUCTION preset lets an allocator grow to eight times its initial
 * size (capacity, block count) unless the limit (@prop_id) was given, and
 * unless eight times would wrap: then @limit stays. */
guint64
nebula_allocator_config_production_limit (NebulaAllocatorConfig *config,
                                          guint                  prop_id,
                                          guint64                initial,
                                          guint64                limit)
{
  if (config->preset == NEBULA_PRESET_PRODUCTION &&
      !nebula_allocator_config_is_explicit (config, prop_id) &&
      initial <= G_MAXUINT64 / 8)
    return initial * 8;

  return limit;
}

/* The rules of "capacity" and "max-capacity", for the allocators that grow
 * by chunks (bump, stack). A chunk and the whole allocator stay below half
 * the address space, so that no size arithmetic can overflow. */
void
nebula_allocator_config_check_capacity (NebulaAllocatorConfig *config,
                                        const char            *type_label,
                                        guint64                capacity,
                                        guint64                max_capacity)
{
  if (capacity == 0)
    nebula_allocator_config_set_invalid (config, type_label, "capacity",
                                         "must be greater than 0");
  else if (capacity > NEBULA_MAX_ALLOCATION_SIZE / 2)
    nebula_allocator_config_set_invalid (config, type_label, "capacity",
                                         "must be at most %" G_GSIZE_FORMAT " bytes, not %"
                                         G_GUINT64_FORMAT,
                                         NEBULA_MAX_ALLOCATION_SIZE / 2, capacity);

  if (max_capacity != 0 && max_capacity < capacity)
    nebula_allocator_config_set_invalid (config, type_label, "max-capacity",
                                         "must be 0 (no growth) or at least the capacity (%"
                                         G_GUINT64_FORMAT "), not %" G_GUINT64_FORMAT,
                                         capacity, max_capacity);
  else if (max_capacity > NEBULA_MAX_ALLOCATION_SIZE / 2)
    nebula_allocator_config_set_invalid (config, type_label, "max-capacity",
                                         "must be at most %" G_GSIZE_FORMAT " bytes, not %"
                                         G_GUINT64_FORMAT,
                                         NEBULA_MAX_ALLOCATION_SIZE / 2, max_capacity);
}

/* Applies the preset and checks the common properties; the first problem
 * found is kept in config->init.error. */
void
nebula_allocator_config_validate (NebulaAllocatorConfig *config,
                                  const char            *type_label)
{
  nebula_allocator_config_apply_preset (config);

  if (config->name_not_utf8)
    nebula_allocator_config_set_invalid (config, type_label, "name",
                                         "must be valid UTF-8 (the invalid bytes are shown "
                                         "as U+FFFD)");

  if (config->alloc_fill < -1 || config->alloc_fill > 255)
    nebula_allocator_config_set_invalid (config, type_label, "alloc-fill",
                                         "must be -1 (off) or a byte value 0..255, not %d",
                                         config->alloc_fill);
  if (config->free_fill < -1 || config->free_fill > 255)
    nebula_allocator_config_set_invalid (config, type_label, "free-fill",
                                         "must be -1 (off) or a byte value 0..255, not %d",
                                         config->free_fill);
}

static void
clear_stats_cb (gpointer data)
{
  nebula_stats_counters_clear (data);
}

/* Thread-safe counters own per-thread shards (nebula-stats.c); they are
 * freed with the object even when an implementation's finalize does not
 * clear its counters. Object data is cleared in GObject's own finalize,
 * after the implementation's, while the instance memory still exists. */
static void
tie_stats_to_object (gpointer self)
{
  static GQuark quark;

  if (G_UNLIKELY (quark == 0))
    quark = g_quark_from_static_string ("nebula-allocator-stats-owner");

  if (nebula_allocator_is_core (self))
    g_object_set_qdata_full (self, quark, nebula_allocator_get_core (self)->counters,
                             clear_stats_cb);
}

/* One lock for the rare slow path of every allocator's first call. */
static GMutex init_lock;
static GCond init_cond;

/* Bindings construct allocators with g_object_new() and no
 * GInitable.init, so the first call of any thread initializes. The state
 * is published with a release store that the fast path's acquire load
 * pairs with, and waiters sleep under a lock that TSan is told about: a
 * g_once from the uninstrumented GLib orders the same memory, but TSan
 * cannot see it and reports the first calls of several threads as races
 * on everything the initialization wrote. */
gboolean
nebula_allocator_config_ensure (NebulaAllocatorConfig  *config,
                                gpointer                self,
                                NebulaConfigInitFunc    init,
                                GError                **error)
{
  if (G_UNLIKELY (__atomic_load_n (&config->init.once, __ATOMIC_ACQUIRE) !=
                  NEBULA_CONFIG_INIT_DONE))
    {
      gboolean mine = FALSE;

      nebula_mutex_lock (&init_lock);
      while (config->init.once == NEBULA_CONFIG_INIT_RUNNING)
        nebula_cond_wait (&init_cond, &init_lock);
      if (config->init.once == NEBULA_CONFIG_INIT_NONE)
        {
          __atomic_store_n (&config->init.once, NEBULA_CONFIG_INIT_RUNNING, __ATOMIC_RELAXED);
          mine = TRUE;
        }
      nebula_mutex_unlock (&init_lock);

      if (mine)
        {
          /* The first chunk or slab is charged in @init: a budget handler
           * that calls back into the allocator must wait until the
           * initialization is over, or it would wait for itself. */
          nebula_memory_budget_hold_signals ();
          init (self);
          /* A configuration that failed leaves the counters as instance
           * init made them; the failures every call now records must be
           * atomic if the allocator was asked to be thread-safe (a
           * refused thread-safe stack, a thread-safe bump of capacity 0),
           * since its threads may all be calling. */
          if (config->init.error != NULL && config->thread_safe)
            nebula_stats_counters_init (nebula_allocator_get_core (self)->counters,
                                        config->track_stats, TRUE);
          tie_stats_to_object (self);
          if (config->init.error == NULL)
            nebula_allocator_registry_add (self);

          nebula_mutex_lock (&init_lock);
          __atomic_store_n (&config->init.once, NEBULA_CONFIG_INIT_DONE, __ATOMIC_RELEASE);
          g_cond_broadcast (&init_cond);
          nebula_mutex_unlock (&init_lock);
          nebula_memory_budget_emit_held_signals ();
        }
    }

  if (G_LIKELY (config->init.error == NULL))
    return TRUE;

  if (error != NULL)
    *error = g_error_copy (config->init.error);

  return FALSE;
}
