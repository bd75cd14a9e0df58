/* test-behaviours.c: the behaviour table (tests/behaviours.ini) in C.
 *
 * Each group of the table is one test; the implementation of a behaviour
 * raises the error the table names or records what it observed, and the
 * table's expectations are checked here, the same way the Python and gjs
 * runners check them. A behaviour without a C implementation fails.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gio/gio.h>

#include <nebula.h>

typedef gboolean (*BehaviourFunc) (GHashTable  *observed,
                                   GError     **error);

static GKeyFile   *table;
static GEnumClass *allocator_error_class;

static void observe (GHashTable *observed,
                     const char *key,
                     const char *format,
                     ...) G_GNUC_PRINTF (3, 4);

/* Records that the implementation saw @key with the value @format gives,
 * as the table spells it. */
static void
observe (GHashTable *observed,
         const char *key,
         const char *format,
         ...)
{
  va_list args;

  va_start (args, format);
  g_hash_table_insert (observed, g_strdup (key), g_strdup_vprintf (format, args));
  va_end (args);
}

/* The counters the statistics behaviours observe. */
static void
observe_stats (GHashTable                 *observed,
               const NebulaAllocatorStats *stats)
{
  observe (observed, "allocations", "%" G_GUINT64_FORMAT, stats->allocations);
  observe (observed, "deallocations", "%" G_GUINT64_FORMAT, stats->deallocations);
  observe (observed, "failed-allocations", "%" G_GUINT64_FORMAT, stats->failed_allocations);
  observe (observed, "bytes-in-use", "%" G_GUINT64_FORMAT, stats->bytes_in_use);
}

static const char *
boolean_text (gboolean value)
{
  return value ? "true" : "false";
}

static gboolean
behaviour_construct (GHashTable  *observed,
                     GError     **error)
{
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(NebulaBumpAllocator) bump = NULL;

  pool = nebula_pool_allocator_new (64, 4, error);
  if (pool == NULL)
    return FALSE;
  stack = nebula_stack_allocator_new (1024, error);
  if (stack == NULL)
    return FALSE;
  bump = nebula_bump_allocator_new (4096, error);
  if (bump == NULL)
    return FALSE;

  observe (observed, "pool-capacity", "%" G_GUINT64_FORMAT,
           nebula_allocator_get_capacity (NEBULA_ALLOCATOR (pool)));
  observe (observed, "stack-capacity", "%" G_GUINT64_FORMAT,
           nebula_allocator_get_capacity (NEBULA_ALLOCATOR (stack)));
  observe (observed, "bump-capacity", "%" G_GUINT64_FORMAT,
           nebula_allocator_get_capacity (NEBULA_ALLOCATOR (bump)));
  observe (observed, "bytes-used", "%" G_GUINT64_FORMAT,
           nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (pool)) +
           nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (stack)) +
           nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump)));
  return TRUE;
}

static gboolean
behaviour_bad_config (GHashTable  *observed,
                      GError     **error)
{
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (4, 1, error);

  return pool != NULL;
}

static gboolean
behaviour_pool_exhaust (GHashTable  *observed,
                        GError     **error)
{
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 1, error);

  if (pool == NULL)
    return FALSE;
  if (nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, error) == NULL)
    return FALSE;
  return nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, error) != NULL;
}

static gboolean
behaviour_pool_double_free (GHashTable  *observed,
                            GError     **error)
{
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 2, error);
  gpointer block;

  if (pool == NULL)
    return FALSE;
  block = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 8, 8, error);
  if (block == NULL ||
      !nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), block, 8, 8, error))
    return FALSE;
  return nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), block, 8, 8, error);
}

static gboolean
behaviour_multi_pool_classes (GHashTable  *observed,
                              GError     **error)
{
  g_autoptr(NebulaMultiPoolAllocator) multi = nebula_multi_pool_allocator_new (error);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NebulaAllocator *allocator;
  gpointer small, large;

  if (multi == NULL)
    return FALSE;
  allocator = NEBULA_ALLOCATOR (multi);
  small = nebula_allocator_allocate (allocator, 40, 8, error);
  if (small == NULL)
    return FALSE;
  large = nebula_allocator_allocate (allocator, 1000, 8, error);
  if (large == NULL || !nebula_allocator_deallocate (allocator, small, 40, 8, error))
    return FALSE;
  /* The failure is the point: the statistics count it. */
  g_assert_null (nebula_allocator_allocate (allocator, 1025, 8, NULL));

  stats = nebula_allocator_get_stats (allocator);
  observe (observed, "bytes-used", "%" G_GUINT64_FORMAT, nebula_allocator_get_bytes_used (allocator));
  observe (observed, "class-size-40", "%" G_GUINT64_FORMAT,
           nebula_multi_pool_allocator_get_class_size (multi, 40));
  observe_stats (observed, stats);
  return TRUE;
}

static gboolean
behaviour_multi_pool_wrong_size_free (GHashTable  *observed,
                                      GError     **error)
{
  g_autoptr(NebulaMultiPoolAllocator) multi = nebula_multi_pool_allocator_new (error);
  gpointer small, other;

  if (multi == NULL)
    return FALSE;
  small = nebula_allocator_allocate (NEBULA_ALLOCATOR (multi), 40, 8, error);
  other = small != NULL ? nebula_allocator_allocate (NEBULA_ALLOCATOR (multi), 100, 8, error) : NULL;
  if (other == NULL)
    return FALSE;
  return nebula_allocator_deallocate (NEBULA_ALLOCATOR (multi), small, 100, 8, error);
}

static gboolean
behaviour_pool_foreign_pointer (GHashTable  *observed,
                                GError     **error)
{
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 1, error);
  static guint64 foreign[8];

  if (pool == NULL)
    return FALSE;
  return nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), foreign, 8, 8, error);
}

static gboolean
behaviour_stack_stale_marker (GHashTable  *observed,
                              GError     **error)
{
  g_autoptr(NebulaStackAllocator) stack = nebula_stack_allocator_new (1024, error);
  g_autoptr(NebulaStackMarker) outer = NULL;
  g_autoptr(NebulaStackMarker) inner = NULL;

  if (stack == NULL)
    return FALSE;
  outer = nebula_stack_allocator_mark (stack);
  if (nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 64, 8, error) == NULL)
    return FALSE;
  inner = nebula_stack_allocator_mark (stack);
  if (!nebula_stack_allocator_release_to_marker (stack, outer, error))
    return FALSE;
  return nebula_stack_allocator_release_to_marker (stack, inner, error);
}

static gboolean
behaviour_bump_stale_checkpoint (GHashTable  *observed,
                                 GError     **error)
{
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (64, error);
  g_autoptr(NebulaBumpCheckpoint) checkpoint = NULL;

  if (bump == NULL)
    return FALSE;
  checkpoint = nebula_bump_allocator_checkpoint (bump);
  nebula_allocator_reset (NEBULA_ALLOCATOR (bump));
  if (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 8, 8, error) == NULL)
    return FALSE;
  return nebula_bump_allocator_restore (bump, checkpoint, error);
}

/* Allocates 100 bytes inside a scope or frame the caller opened and
 * records that they count as used. */
static gboolean
allocate_inside (GHashTable       *observed,
                 NebulaAllocator  *allocator,
                 GError          **error)
{
  if (nebula_allocator_allocate (allocator, 100, 8, error) == NULL)
    return FALSE;
  observe (observed, "used-inside", "%s",
           boolean_text (nebula_allocator_get_bytes_used (allocator) >= 100));
  return TRUE;
}

static gboolean
behaviour_bump_scope (GHashTable  *observed,
                      GError     **error)
{
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, error);
  NebulaBumpScope *scope;
  gboolean allocated;

  if (bump == NULL)
    return FALSE;
  scope = nebula_bump_scope_new (bump);
  allocated = allocate_inside (observed, NEBULA_ALLOCATOR (bump), error);
  nebula_bump_scope_free (scope);
  observe (observed, "bytes-used-after", "%" G_GUINT64_FORMAT,
           nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump)));
  return allocated;
}

static gboolean
behaviour_stack_frame (GHashTable  *observed,
                       GError     **error)
{
  g_autoptr(NebulaStackAllocator) stack = nebula_stack_allocator_new (1024, error);
  NebulaStackFrame *frame;
  gboolean allocated;

  if (stack == NULL)
    return FALSE;
  frame = nebula_stack_frame_new (stack);
  allocated = allocate_inside (observed, NEBULA_ALLOCATOR (stack), error);
  nebula_stack_frame_free (frame);
  observe (observed, "bytes-used-after", "%" G_GUINT64_FORMAT,
           nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (stack)));
  return allocated;
}

static gboolean
behaviour_pool_stats (GHashTable  *observed,
                      GError     **error)
{
  g_autoptr(NebulaPoolAllocator) pool = nebula_pool_allocator_new (64, 4, error);
  g_autoptr(NebulaAllocatorStats) stats = NULL;
  NebulaAllocator *allocator;
  gpointer blocks[3];

  if (pool == NULL)
    return FALSE;
  allocator = NEBULA_ALLOCATOR (pool);
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      blocks[i] = nebula_allocator_allocate (allocator, 64, 8, error);
      if (blocks[i] == NULL)
        return FALSE;
    }
  if (!nebula_allocator_deallocate (allocator, blocks[1], 64, 8, error))
    return FALSE;
  /* The failure is the point: the statistics count it. */
  g_assert_null (nebula_allocator_allocate (allocator, 128, 8, NULL));

  stats = nebula_allocator_get_stats (allocator);
  observe_stats (observed, stats);
  return TRUE;
}

static gboolean
behaviour_report (GHashTable  *observed,
                  GError     **error)
{
  g_autoptr(NebulaBumpAllocator) bump = NULL;
  g_autoptr(GVariant) report = NULL;
  g_autoptr(GVariant) stats = NULL;
  const char *text;
  guint64 allocations;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, error,
                         "name", "behaviours",
                         "capacity", (guint64) 4096,
                         NULL);
  if (bump == NULL)
    return FALSE;
  if (nebula_allocator_allocate (NEBULA_ALLOCATOR (bump), 8, 8, error) == NULL)
    return FALSE;

  report = nebula_allocator_get_report (NEBULA_ALLOCATOR (bump));
  if (g_variant_lookup (report, "type", "&s", &text))
    observe (observed, "type", "%s", text);
  if (g_variant_lookup (report, "name", "&s", &text))
    observe (observed, "name", "%s", text);
  stats = g_variant_lookup_value (report, "stats", G_VARIANT_TYPE_VARDICT);
  if (stats != NULL && g_variant_lookup (stats, "allocations", "t", &allocations))
    observe (observed, "stats-allocations", "%" G_GUINT64_FORMAT, allocations);
  return TRUE;
}

static gboolean
behaviour_budget_exceeded (GHashTable  *observed,
                           GError     **error)
{
  g_autoptr(NebulaMemoryBudget) budget = nebula_memory_budget_new ("small", 100);
  g_autoptr(NebulaBumpAllocator) bump = NULL;

  bump = g_initable_new (NEBULA_TYPE_BUMP_ALLOCATOR, NULL, error,
                         "capacity", (guint64) 1024,
                         "budget", budget,
                         NULL);
  return bump != NULL;
}

static GObject *
compute_counted_cb (GVariant  *key,
                    gpointer   user_data,
                    GError   **error)
{
  guint *computations = user_data;

  (*computations)++;
  return g_object_new (G_TYPE_OBJECT, NULL);
}

static gboolean
behaviour_cache_hit_miss (GHashTable  *observed,
                          GError     **error)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 4);
  g_autoptr(GObject) first = NULL;
  g_autoptr(GObject) second = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  guint computations = 0;

  first = nebula_compute_cache_get_or_compute (cache, g_variant_new_string ("key"),
                                               compute_counted_cb, &computations, error);
  if (first == NULL)
    return FALSE;
  second = nebula_compute_cache_get_or_compute (cache, g_variant_new_string ("key"),
                                                compute_counted_cb, &computations, error);
  if (second == NULL)
    return FALSE;

  stats = nebula_compute_cache_get_stats (cache);
  observe (observed, "computations", "%u", computations);
  observe (observed, "misses", "%" G_GUINT64_FORMAT, stats->misses);
  observe (observed, "hits", "%" G_GUINT64_FORMAT, stats->hits);
  observe (observed, "same-value", "%s", boolean_text (first == second));
  return TRUE;
}

static GObject *
compute_raising_cb (GVariant  *key,
                    gpointer   user_data,
                    GError   **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "raised by the compute function");
  return NULL;
}

static gboolean
behaviour_cache_compute_raises (GHashTable  *observed,
                                GError     **error)
{
  g_autoptr(NebulaComputeCache) cache = nebula_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 4);
  g_autoptr(GObject) failed = NULL;
  g_autoptr(GObject) value = NULL;
  g_autoptr(GError) raised = NULL;
  guint computations = 0;

  failed = nebula_compute_cache_get_or_compute (cache, g_variant_new_string ("key"),
                                                compute_raising_cb, NULL, &raised);
  observe (observed, "caller-got-raised-error", "%s",
           boolean_text (failed == NULL &&
                         g_error_matches (raised, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) &&
                         g_str_equal (raised->message, "raised by the compute function")));
  observe (observed, "entries-after-error", "%u", nebula_compute_cache_get_n_entries (cache));

  value = nebula_compute_cache_get_or_compute (cache, g_variant_new_string ("key"),
                                               compute_counted_cb, &computations, error);
  if (value == NULL)
    return FALSE;
  observe (observed, "usable-after", "%s", boolean_text (computations == 1));
  observe (observed, "entries-after", "%u", nebula_compute_cache_get_n_entries (cache));
  return TRUE;
}

/* Single flight: the compute function parks its task; the behaviour
 * returns a value on it once both requests are waiting. */
typedef struct
{
  guint  calls;
  GTask *task;
} ParkedCompute;

static void
compute_parked_cb (GVariant     *key,
                   GCancellable *cancellable,
                   GTask        *task,
                   gpointer      user_data)
{
  ParkedCompute *parked = user_data;

  parked->calls++;
  g_set_object (&parked->task, task);
}

typedef struct
{
  GObject              *value;
  NebulaComputeOutcome  outcome;
  GError               *error;
  gboolean              done;
} FlightRequest;

static void
flight_request_done_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  FlightRequest *request = user_data;

  request->value = nebula_async_compute_cache_get_or_compute_finish (NEBULA_ASYNC_COMPUTE_CACHE (source),
                                                                     result, &request->outcome,
                                                                     &request->error);
  request->done = TRUE;
}

/* COMPUTED for NEBULA_COMPUTE_OUTCOME_COMPUTED, as the table spells it. */
static char *
outcome_name (NebulaComputeOutcome outcome)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (NEBULA_TYPE_COMPUTE_OUTCOME);
  GEnumValue *value = g_enum_get_value (klass, outcome);
  static const char prefix[] = "NEBULA_COMPUTE_OUTCOME_";

  if (value == NULL || !g_str_has_prefix (value->value_name, prefix))
    return g_strdup ("(unknown)");
  return g_strdup (value->value_name + strlen (prefix));
}

static gboolean
behaviour_cache_single_flight (GHashTable  *observed,
                               GError     **error)
{
  g_autoptr(NebulaAsyncComputeCache) cache =
    g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE, "deduplicate", TRUE, NULL);
  g_autoptr(NebulaCacheStats) stats = NULL;
  g_autoptr(GObject) value = g_object_new (G_TYPE_OBJECT, NULL);
  g_autofree char *first_outcome = NULL;
  g_autofree char *second_outcome = NULL;
  ParkedCompute parked = { 0, NULL };
  FlightRequest requests[2] = { { NULL, 0, NULL, FALSE }, { NULL, 0, NULL, FALSE } };
  gboolean ok = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    nebula_async_compute_cache_get_or_compute_async (cache, g_variant_new_string ("key"),
                                                     compute_parked_cb, &parked, NULL, NULL,
                                                     flight_request_done_cb, &requests[i]);
  if (parked.task == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the compute function was not called");
      return FALSE;
    }

  nebula_compute_task_return_object (parked.task, value);
  while (!requests[0].done || !requests[1].done)
    g_main_context_iteration (NULL, TRUE);

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    if (requests[i].error != NULL && ok)
      {
        g_propagate_error (error, g_steal_pointer (&requests[i].error));
        ok = FALSE;
      }
  if (ok)
    {
      stats = nebula_async_compute_cache_get_stats (cache);
      first_outcome = outcome_name (requests[0].outcome);
      second_outcome = outcome_name (requests[1].outcome);
      observe (observed, "computations", "%u", parked.calls);
      observe (observed, "first-outcome", "%s", first_outcome);
      observe (observed, "second-outcome", "%s", second_outcome);
      observe (observed, "same-value", "%s",
               boolean_text (requests[0].value == value && requests[1].value == value));
      observe (observed, "joins", "%" G_GUINT64_FORMAT, stats->joins);
    }

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      g_clear_object (&requests[i].value);
      g_clear_error (&requests[i].error);
    }
  g_clear_object (&parked.task);
  return ok;
}

static gboolean
behaviour_strings (GHashTable  *observed,
                   GError     **error)
{
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, error);
  const char *parts[] = { "a", "b", "c", NULL };
  const char *copy;
  const char *joined;

  if (bump == NULL)
    return FALSE;
  copy = nebula_allocator_strdup (NEBULA_ALLOCATOR (bump), "h\xc3\xa9llo", error);
  if (copy == NULL)
    return FALSE;
  observe (observed, "copy", "%s", copy);
  observe (observed, "holds-copy", "%s",
           boolean_text (nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (bump)) >= 7));
  joined = nebula_allocator_strjoinv (NEBULA_ALLOCATOR (bump), ", ", parts, error);
  if (joined == NULL)
    return FALSE;
  observe (observed, "joined", "%s", joined);
  return TRUE;
}

static gboolean
behaviour_strings_exhausted (GHashTable  *observed,
                             GError     **error)
{
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (64, error);
  g_autofree char *text = g_strnfill (100, 's');

  return bump != NULL && nebula_allocator_strdup (NEBULA_ALLOCATOR (bump), text, error) != NULL;
}

typedef struct
{
  GString    *order;
  const char *name;
} CleanupEntry;

static void
append_entry_cb (gpointer data)
{
  CleanupEntry *entry = data;

  g_string_append (entry->order, entry->name);
}

static gboolean
behaviour_cleanups (GHashTable  *observed,
                    GError     **error)
{
  g_autoptr(NebulaBumpAllocator) bump = nebula_bump_allocator_new (4096, error);
  NebulaAllocator *alloc;
  GString *order = g_string_new (NULL);
  CleanupEntry entries[] = { { order, "a" }, { order, "b" }, { order, "c" }, { order, "d" } };
  guint removed;

  if (bump == NULL)
    return FALSE;
  alloc = NEBULA_ALLOCATOR (bump);

  nebula_allocator_add_cleanup (alloc, append_entry_cb, &entries[0]);
  nebula_allocator_add_cleanup (alloc, append_entry_cb, &entries[1]);
  removed = nebula_allocator_add_cleanup (alloc, append_entry_cb, &entries[3]);
  nebula_allocator_remove_cleanup (alloc, removed);
  {
    NEBULA_BUMP_SCOPE (bump);
    nebula_allocator_add_cleanup (alloc, append_entry_cb, &entries[2]);
  }
  nebula_allocator_reset (alloc);

  observe (observed, "order", "%s", order->str);
  observe (observed, "cleanups-after", "%u", nebula_allocator_get_n_cleanups (alloc));
  g_string_free (order, TRUE);
  return TRUE;
}

/* A pool of 4 blocks of 64 bytes whose slabs come from @parent. */
static NebulaPoolAllocator *
child_pool_new (gpointer  parent,
                GError  **error)
{
  return g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, error,
                         "parent", parent, "block-size", (guint64) 64,
                         "block-count", (guint64) 4, NULL);
}

static gboolean
behaviour_children (GHashTable  *observed,
                    GError     **error)
{
  g_autoptr(NebulaBumpAllocator) parent = nebula_bump_allocator_new (65536, error);
  g_autoptr(NebulaStackAllocator) stack = NULL;
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  gpointer in_stack, in_pool;

  if (parent == NULL)
    return FALSE;
  stack = g_initable_new (NEBULA_TYPE_STACK_ALLOCATOR, NULL, error,
                          "parent", parent, "capacity", (guint64) 1024, NULL);
  if (stack == NULL)
    return FALSE;
  pool = child_pool_new (parent, error);
  if (pool == NULL)
    return FALSE;

  in_stack = nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 64, 8, error);
  in_pool = in_stack != NULL ? nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, error)
                             : NULL;
  if (in_pool == NULL)
    return FALSE;
  observe (observed, "owned-by-parent", "%s",
           boolean_text (nebula_allocator_owns (NEBULA_ALLOCATOR (parent), in_stack) &&
                         nebula_allocator_owns (NEBULA_ALLOCATOR (parent), in_pool)));

  nebula_allocator_reset (NEBULA_ALLOCATOR (parent));
  observe (observed, "stack-chunks-after-reset", "%u", nebula_stack_allocator_get_n_chunks (stack));
  observe (observed, "pool-slabs-after-reset", "%u", nebula_pool_allocator_get_n_slabs (pool));
  observe (observed, "parent-bytes-after-reset", "%" G_GUINT64_FORMAT,
           nebula_allocator_get_bytes_used (NEBULA_ALLOCATOR (parent)));

  in_stack = nebula_allocator_allocate (NEBULA_ALLOCATOR (stack), 64, 8, error);
  in_pool = in_stack != NULL ? nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, error)
                             : NULL;
  if (in_pool == NULL)
    return FALSE;
  observe (observed, "allocates-again", "%s", boolean_text (TRUE));
  return TRUE;
}

static gboolean
behaviour_child_stale_block (GHashTable  *observed,
                             GError     **error)
{
  g_autoptr(NebulaBumpAllocator) parent = nebula_bump_allocator_new (65536, error);
  g_autoptr(NebulaPoolAllocator) pool = NULL;
  gpointer block;

  if (parent == NULL)
    return FALSE;
  pool = child_pool_new (parent, error);
  if (pool == NULL)
    return FALSE;
  block = nebula_allocator_allocate (NEBULA_ALLOCATOR (pool), 64, 8, error);
  if (block == NULL)
    return FALSE;

  nebula_allocator_reset (NEBULA_ALLOCATOR (parent));
  return nebula_allocator_deallocate (NEBULA_ALLOCATOR (pool), block, 64, 8, error);
}

static const struct {
  const char    *name;
  BehaviourFunc  func;
} behaviours[] = {
  { "construct", behaviour_construct },
  { "bad-config", behaviour_bad_config },
  { "pool-exhaust", behaviour_pool_exhaust },
  { "pool-double-free", behaviour_pool_double_free },
  { "pool-foreign-pointer", behaviour_pool_foreign_pointer },
  { "stack-stale-marker", behaviour_stack_stale_marker },
  { "bump-stale-checkpoint", behaviour_bump_stale_checkpoint },
  { "bump-scope", behaviour_bump_scope },
  { "stack-frame", behaviour_stack_frame },
  { "pool-stats", behaviour_pool_stats },
  { "multi-pool-classes", behaviour_multi_pool_classes },
  { "multi-pool-wrong-size-free", behaviour_multi_pool_wrong_size_free },
  { "report", behaviour_report },
  { "budget-exceeded", behaviour_budget_exceeded },
  { "cache-hit-miss", behaviour_cache_hit_miss },
  { "cache-compute-raises", behaviour_cache_compute_raises },
  { "cache-single-flight", behaviour_cache_single_flight },
  { "strings", behaviour_strings },
  { "strings-exhausted", behaviour_strings_exhausted },
  { "cleanups", behaviour_cleanups },
  { "children", behaviour_children },
  { "child-stale-block", behaviour_child_stale_block },
};

/* The name of an allocator error code as the table spells it:
 * NEBULA_ALLOCATOR_ERROR_EXHAUSTED is EXHAUSTED. */
static const char *
allocator_error_name (int code)
{
  static const char prefix[] = "NEBULA_ALLOCATOR_ERROR_";
  GEnumValue *value = g_enum_get_value (allocator_error_class, code);

  if (value == NULL || !g_str_has_prefix (value->value_name, prefix))
    return "(unknown)";
  return value->value_name + strlen (prefix);
}

static void
test_behaviour (gconstpointer data)
{
  const char *group = data;
  g_autoptr(GHashTable) observed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *expected_error = NULL;
  g_auto(GStrv) keys = NULL;
  BehaviourFunc func = NULL;
  gboolean succeeded;

  for (guint i = 0; i < G_N_ELEMENTS (behaviours); i++)
    if (g_str_equal (behaviours[i].name, group))
      func = behaviours[i].func;
  if (func == NULL)
    {
      g_test_fail_printf ("tests/behaviours.ini names behaviour '%s', which has no C implementation",
                          group);
      return;
    }

  succeeded = func (observed, &error);
  expected_error = g_key_file_get_string (table, group, "error", NULL);
  if (expected_error != NULL)
    {
      g_assert_false (succeeded);
      g_assert_nonnull (error);
      g_assert_cmpstr (g_quark_to_string (error->domain), ==,
                       g_quark_to_string (NEBULA_ALLOCATOR_ERROR));
      g_assert_cmpstr (allocator_error_name (error->code), ==, expected_error);
    }
  else
    {
      g_assert_no_error (error);
      g_assert_true (succeeded);
    }

  keys = g_key_file_get_keys (table, group, NULL, NULL);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autofree char *expected = NULL;

      if (g_str_equal (keys[i], "description") || g_str_equal (keys[i], "error"))
        continue;
      expected = g_key_file_get_string (table, group, keys[i], NULL);
      g_test_message ("%s: %s", group, keys[i]);
      g_assert_cmpstr (g_hash_table_lookup (observed, keys[i]), ==, expected);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_auto(GStrv) groups = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  allocator_error_class = g_type_class_ref (NEBULA_TYPE_ALLOCATOR_ERROR);
  path = g_test_build_filename (G_TEST_DIST, "behaviours.ini", NULL);
  table = g_key_file_new ();
  g_key_file_load_from_file (table, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);

  groups = g_key_file_get_groups (table, NULL);
  g_assert_cmpuint (g_strv_length (groups), >, 0);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_autofree char *test_path = g_strconcat ("/behaviours/", groups[i], NULL);

      g_test_add_data_func (test_path, groups[i], test_behaviour);
    }

  status = g_test_run ();
  g_key_file_unref (table);
  g_type_class_unref (allocator_error_class);
  return status;
}
