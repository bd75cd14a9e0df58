/* nebula-allocator-report.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "nebula-allocator-private.h"
#include "nebula-allocator-report-private.h"
#include "nebula-allocator-report.h"
#include "nebula-memory-budget.h"

static GQuark
report_func_quark (void)
{
  static GQuark quark;

  if (G_UNLIKELY (quark == 0))
    quark = g_quark_from_static_string ("nebula-allocator-report-func");

  return quark;
}

void
nebula_allocator_set_report_func (GType                     type,
                                  NebulaAllocatorReportFunc func)
{
  g_type_set_qdata (type, report_func_quark (), func);
}

static NebulaAllocatorReportFunc
find_report_func (GType type)
{
  for (; type != 0; type = g_type_parent (type))
    {
      NebulaAllocatorReportFunc func = g_type_get_qdata (type, report_func_quark ());

      if (func != NULL)
        return func;
    }

  return NULL;
}

static GVariant *
budget_to_variant (NebulaMemoryBudget *budget)
{
  GVariantDict dict;
  const char *name = nebula_memory_budget_get_name (budget);

  g_variant_dict_init (&dict, NULL);
  if (name != NULL)
    g_variant_dict_insert (&dict, "name", "s", name);
  g_variant_dict_insert (&dict, "limit", "t", nebula_memory_budget_get_limit (budget));
  g_variant_dict_insert (&dict, "used", "t", nebula_memory_budget_get_used (budget));
  g_variant_dict_insert (&dict, "peak", "t", nebula_memory_budget_get_peak (budget));

  return g_variant_dict_end (&dict);
}

/* The configuration is whatever the type exposes as properties, so a new
 * property shows up without touching this file. */
static GVariant *
value_to_variant (const GValue *value)
{
  GType type = G_VALUE_TYPE (value);

  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      return g_variant_new_boolean (g_value_get_boolean (value));
    case G_TYPE_INT:
      return g_variant_new_int32 (g_value_get_int (value));
    case G_TYPE_UINT:
      return g_variant_new_uint32 (g_value_get_uint (value));
    case G_TYPE_INT64:
      return g_variant_new_int64 (g_value_get_int64 (value));
    case G_TYPE_UINT64:
      return g_variant_new_uint64 (g_value_get_uint64 (value));
    case G_TYPE_DOUBLE:
      return g_variant_new_double (g_value_get_double (value));
    case G_TYPE_STRING:
      return g_value_get_string (value) != NULL
        ? g_variant_new_string (g_value_get_string (value))
        : NULL;
    case G_TYPE_ENUM:
      {
        g_autoptr(GEnumClass) klass = g_type_class_ref (type);
        GEnumValue *enum_value = g_enum_get_value (klass, g_value_get_enum (value));

        return enum_value != NULL
          ? g_variant_new_string (enum_value->value_nick)
          : g_variant_new_int32 (g_value_get_enum (value));
      }
    case G_TYPE_OBJECT:
      if (NEBULA_IS_MEMORY_BUDGET (g_value_get_object (value)))
        return budget_to_variant (g_value_get_object (value));
      return NULL;
    default:
      return NULL;
    }
}

static GVariant *
configuration_to_variant (NebulaAllocator *self)
{
  g_autofree GParamSpec **pspecs = NULL;
  GVariantDict dict;
  guint n_pspecs;

  g_variant_dict_init (&dict, NULL);
  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (self), &n_pspecs);

  for (guint i = 0; i < n_pspecs; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      GVariant *variant;

      /* Live values are reported at the top level. */
      if ((pspecs[i]->flags & G_PARAM_READABLE) == 0 ||
          g_str_equal (pspecs[i]->name, "bytes-used") ||
          g_str_equal (pspecs[i]->name, "bytes-available"))
        continue;

      g_value_init (&value, pspecs[i]->value_type);
      g_object_get_property (G_OBJECT (self), pspecs[i]->name, &value);
      variant = value_to_variant (&value);
      if (variant != NULL)
        g_variant_dict_insert_value (&dict, pspecs[i]->name, variant);
    }

  return g_variant_dict_end (&dict);
}

static GVariant *
stats_to_variant (NebulaAllocator *self)
{
  g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (self);
  NebulaStatsCounters *counters = nebula_allocator_get_counters (self);
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "allocations", "t", stats->allocations);
  g_variant_dict_insert (&dict, "deallocations", "t", stats->deallocations);
  g_variant_dict_insert (&dict, "reallocations", "t", stats->reallocations);
  g_variant_dict_insert (&dict, "failed-allocations", "t", stats->failed_allocations);
  g_variant_dict_insert (&dict, "bytes-in-use", "t", stats->bytes_in_use);
  g_variant_dict_insert (&dict, "peak-bytes-in-use", "t", stats->peak_bytes_in_use);
  /* The peak of sharded counters is a proven lower bound; this is the
   * matching upper bound (equal for single-threaded counters). */
  g_variant_dict_insert (&dict, "peak-bytes-in-use-upper-bound", "t",
                         MAX (nebula_stats_counters_peak_upper_bound (counters),
                              stats->peak_bytes_in_use));
  g_variant_dict_insert (&dict, "total-bytes-allocated", "t", stats->total_bytes_allocated);
  g_variant_dict_insert (&dict, "total-bytes-freed", "t", stats->total_bytes_freed);
  g_variant_dict_insert (&dict, "resets", "t", stats->resets);
  g_variant_dict_insert (&dict, "enabled", "b", (gboolean) counters->enabled);

  return g_variant_dict_end (&dict);
}

/**
 * nebula_allocator_get_report:
 * @self: a #NebulaAllocator
 *
 * Describes @self as a dictionary (`a{sv}`), for logs, dashboards and
 * debugging. Every allocator reports:
 *
 * - `type` (s): the GType name
 * - `name` (s): the name, when set
 * - `thread-safe` (b)
 * - `capacity`, `bytes-used`, `bytes-available` (t)
 * - `configuration` (a{sv}): every readable property; enums by nick, the
 *   budget as a dictionary of its name, limit, used and peak
 * - `stats` (a{sv}): the fields of #NebulaAllocatorStats with dashes, plus
 *   `peak-bytes-in-use-upper-bound` and `enabled`
 *
 * and the built-in allocators add their memory layout:
 *
 * - #NebulaBumpAllocator: `chunks` (aa{sv}: `kind` regular, spare or
 *   dedicated, `size`, `used`, `current`), `fragmentation` (d), the share
 *   of the chunks' memory that can serve no request: the unused tails of
 *   regular chunks the cursor has left behind
 * - #NebulaPoolAllocator: `reserved`, `blocks` and `blocks-used` (t),
 *   `slabs` (aa{sv}, first slab first: `size` and `used` in bytes,
 *   `blocks`, `blocks-used`, `blocks-free`, and `blocks-untouched`, the
 *   free blocks never handed out since the last reset) and, when the pool
 *   keeps statistics, `fragmentation` (d), the share of the memory of the
 *   blocks in use that their callers did not ask for (any free block
 *   serves any request, so that is all a pool wastes)
 * - #NebulaStackAllocator: `reserved` (t), `chunks` (aa{sv}, newest first:
 *   `kind` regular or spare, `size`, `used`, block headers included,
 *   `current`, and on a double-ended stack `low-used` and `high-used`, the
 *   bytes of each end), `fragmentation` (d), the share of the chunks'
 *   memory that can serve no request: the free tails of older chunks the
 *   low end has moved on from
 * - #NebulaSystemAllocator: `blocks` (t) and, when the C library can
 *   tell, `fragmentation` (d), the share of the memory malloc reserved
 *   for the live blocks that they do not use
 *
 * Use nebula_allocator_report_to_json() for JSON text.
 *
 * Returns: (transfer full): the report, an `a{sv}` #GVariant
 */
GVariant *
nebula_allocator_get_report (NebulaAllocator *self)
{
  NebulaAllocatorReportFunc report_func;
  g_autofree char *name = NULL;
  GVariantDict dict;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "type", "s", G_OBJECT_TYPE_NAME (self));
  name = nebula_allocator_dup_name (self);
  if (name != NULL)
    g_variant_dict_insert (&dict, "name", "s", name);
  g_variant_dict_insert (&dict, "thread-safe", "b", nebula_allocator_get_thread_safe (self));
  g_variant_dict_insert (&dict, "capacity", "t", nebula_allocator_get_capacity (self));
  g_variant_dict_insert (&dict, "bytes-used", "t", nebula_allocator_get_bytes_used (self));
  g_variant_dict_insert (&dict, "bytes-available", "t", nebula_allocator_get_bytes_available (self));
  g_variant_dict_insert_value (&dict, "configuration", configuration_to_variant (self));
  g_variant_dict_insert_value (&dict, "stats", stats_to_variant (self));

  report_func = find_report_func (G_OBJECT_TYPE (self));
  if (report_func != NULL)
    report_func (self, &dict);

  return g_variant_ref_sink (g_variant_dict_end (&dict));
}

static void
append_json_string (GString    *json,
                    const char *text)
{
  g_string_append_c (json, '"');
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (json, "\\\"");
          break;
        case '\\':
          g_string_append (json, "\\\\");
          break;
        case '\n':
          g_string_append (json, "\\n");
          break;
        case '\r':
          g_string_append (json, "\\r");
          break;
        case '\t':
          g_string_append (json, "\\t");
          break;
        default:
          /* GVariant strings are UTF-8; only control characters need
           * escaping. */
          if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf (json, "\\u%04x", *p);
          else
            g_string_append_c (json, *p);
        }
    }
  g_string_append_c (json, '"');
}

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  g_autoptr(GVariant) key_a = g_variant_get_child_value (*(GVariant * const *) a, 0);
  g_autoptr(GVariant) key_b = g_variant_get_child_value (*(GVariant * const *) b, 0);

  return strcmp (g_variant_get_string (key_a, NULL), g_variant_get_string (key_b, NULL));
}

static void
append_json (GString  *json,
             GVariant *value)
{
  const GVariantType *type = g_variant_get_type (value);

  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      g_string_append (json, g_variant_get_boolean (value) ? "true" : "false");
      break;
    case G_VARIANT_CLASS_BYTE:
      g_string_append_printf (json, "%u", g_variant_get_byte (value));
      break;
    case G_VARIANT_CLASS_INT16:
      g_string_append_printf (json, "%d", g_variant_get_int16 (value));
      break;
    case G_VARIANT_CLASS_UINT16:
      g_string_append_printf (json, "%u", g_variant_get_uint16 (value));
      break;
    case G_VARIANT_CLASS_INT32:
      g_string_append_printf (json, "%" G_GINT32_FORMAT, g_variant_get_int32 (value));
      break;
    case G_VARIANT_CLASS_UINT32:
      g_string_append_printf (json, "%" G_GUINT32_FORMAT, g_variant_get_uint32 (value));
      break;
    case G_VARIANT_CLASS_HANDLE:
      g_string_append_printf (json, "%" G_GINT32_FORMAT, g_variant_get_handle (value));
      break;
    case G_VARIANT_CLASS_INT64:
      g_string_append_printf (json, "%" G_GINT64_FORMAT, g_variant_get_int64 (value));
      break;
    case G_VARIANT_CLASS_UINT64:
      g_string_append_printf (json, "%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
      break;
    case G_VARIANT_CLASS_DOUBLE:
      {
        double d = g_variant_get_double (value);
        char buffer[G_ASCII_DTOSTR_BUF_SIZE];

        /* JSON has no NaN or infinity. */
        if (!isfinite (d))
          g_string_append (json, "null");
        else
          g_string_append (json, g_ascii_dtostr (buffer, sizeof buffer, d));
      }
      break;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      append_json_string (json, g_variant_get_string (value, NULL));
      break;
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr(GVariant) inner = g_variant_get_variant (value);
        append_json (json, inner);
      }
      break;
    case G_VARIANT_CLASS_MAYBE:
      {
        g_autoptr(GVariant) inner = g_variant_get_maybe (value);

        if (inner == NULL)
          g_string_append (json, "null");
        else
          append_json (json, inner);
      }
      break;
    case G_VARIANT_CLASS_ARRAY:
      {
        const GVariantType *element = g_variant_type_element (type);
        gboolean object = g_variant_type_is_dict_entry (element) &&
                          g_variant_type_equal (g_variant_type_key (element), G_VARIANT_TYPE_STRING);
        gsize n = g_variant_n_children (value);

        g_autoptr(GPtrArray) children = g_ptr_array_new_full (n, (GDestroyNotify) g_variant_unref);

        for (gsize i = 0; i < n; i++)
          g_ptr_array_add (children, g_variant_get_child_value (value, i));
        /* Objects list their members by name, so the text is stable and
         * diffs well (a GVariantDict keeps no order). */
        if (object)
          g_ptr_array_sort (children, compare_entries);

        g_string_append_c (json, object ? '{' : '[');
        for (gsize i = 0; i < n; i++)
          {
            GVariant *child = g_ptr_array_index (children, i);

            if (i > 0)
              g_string_append_c (json, ',');

            if (object)
              {
                g_autoptr(GVariant) key = g_variant_get_child_value (child, 0);
                g_autoptr(GVariant) item = g_variant_get_child_value (child, 1);

                append_json_string (json, g_variant_get_string (key, NULL));
                g_string_append_c (json, ':');
                append_json (json, item);
              }
            else
              append_json (json, child);
          }
        g_string_append_c (json, object ? '}' : ']');
      }
      break;
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
    default:
      {
        gsize n = g_variant_n_children (value);

        /* A tuple, or a dict entry with a non-string key: a list. */
        g_string_append_c (json, '[');
        for (gsize i = 0; i < n; i++)
          {
            g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

            if (i > 0)
              g_string_append_c (json, ',');
            append_json (json, child);
          }
        g_string_append_c (json, ']');
      }
      break;
    }
}

char *
nebula_variant_to_json (GVariant *value)
{
  GString *json = g_string_new (NULL);

  append_json (json, value);
  return g_string_free (json, FALSE);
}

/**
 * nebula_allocator_report_to_json:
 * @self: a #NebulaAllocator
 *
 * nebula_allocator_get_report() as JSON text: dictionaries become objects,
 * arrays lists, numbers numbers (64-bit integers in full: parse them with a
 * reader that keeps integers exact), strings strings. Members are sorted by
 * name, so the same state always gives the same text.
 *
 * Returns: (transfer full): the JSON text, on one line
 */
char *
nebula_allocator_report_to_json (NebulaAllocator *self)
{
  g_autoptr(GVariant) report = NULL;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);

  report = nebula_allocator_get_report (self);
  return nebula_variant_to_json (report);
}
