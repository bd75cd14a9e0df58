/* nebula-memory-budget.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "nebula-error-private.h"
#include "nebula-memory-budget-private.h"

/**
 * NebulaMemoryBudget:
 *
 * A limit on how much memory a group of allocators may hold.
 *
 * Allocators given a budget ([property@BumpAllocator:budget] and the same
 * property on the other allocators) charge it for the memory they take
 * from the system (chunks, slabs, blocks) and release it when they give the
 * memory back, so [property@MemoryBudget:used] is what they hold, not what
 * their callers asked for. Code can also charge a budget directly with
 * [method@MemoryBudget.try_reserve] and [method@MemoryBudget.release].
 *
 * Budgets form a tree through [property@MemoryBudget:parent]: a request is
 * charged to the budget and every ancestor, and refused with
 * %NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED if any of them would go over its
 * [property@MemoryBudget:limit] or [property@MemoryBudget:per-allocation-limit].
 * A refused request changes nothing.
 *
 * Reservations are lock-free (a compare-and-swap per level), never let
 * [property@MemoryBudget:used] exceed the limit even under concurrency, and
 * may come from any thread. The signals are emitted from the thread whose
 * request crossed the threshold, after the request completed and with no
 * lock held: not the budget's, and not the lock of an allocator that charged
 * while growing (the signals wait until it unlocks), so handlers may call
 * back into the budget and into the allocators.
 */

struct _NebulaMemoryBudget
{
  GObject             parent_instance;

  char               *name;
  NebulaMemoryBudget *parent;
  guint64             limit;                 /* 0: none; atomic */
  guint64             soft_limit;            /* 0: none; atomic */
  guint64             per_allocation_limit;  /* 0: none; atomic */
  guint64             used;                  /* atomic */
  guint64             peak;                  /* atomic */
  gint                at_limit;              /* limit-reached emitted, not re-armed */
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_PARENT,
  PROP_LIMIT,
  PROP_SOFT_LIMIT,
  PROP_PER_ALLOCATION_LIMIT,
  PROP_USED,
  PROP_PEAK,
  N_PROPS
};

enum {
  SOFT_LIMIT_EXCEEDED,
  LIMIT_REACHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (NebulaMemoryBudget, nebula_memory_budget, G_TYPE_OBJECT)

#define LOAD(field) __atomic_load_n (&(field), __ATOMIC_ACQUIRE)

/* Signals a thread holds back while it is inside an allocator's lock
 * (nebula_memory_budget_hold_signals()). */
typedef struct
{
  NebulaMemoryBudget *budget;
  guint               signal;
  guint64             value;
} HeldSignal;

static __thread guint hold_depth;
static __thread GArray *held_signals;

void
nebula_memory_budget_hold_signals (void)
{
  hold_depth++;
}

void
nebula_memory_budget_emit_held_signals (void)
{
  GArray *held;

  g_return_if_fail (hold_depth > 0);

  if (--hold_depth > 0 || held_signals == NULL)
    return;

  /* A handler may charge again, and hold again: start a fresh list. */
  held = g_steal_pointer (&held_signals);
  for (guint i = 0; i < held->len; i++)
    {
      HeldSignal *signal = &g_array_index (held, HeldSignal, i);

      g_signal_emit (signal->budget, signals[signal->signal], 0, signal->value);
      g_object_unref (signal->budget);
    }
  g_array_unref (held);
}

static void
emit (NebulaMemoryBudget *self,
      guint               signal,
      guint64             value)
{
  HeldSignal held;

  if (hold_depth == 0)
    {
      g_signal_emit (self, signals[signal], 0, value);
      return;
    }

  if (held_signals == NULL)
    held_signals = g_array_new (FALSE, FALSE, sizeof (HeldSignal));
  held = (HeldSignal) { g_object_ref (self), signal, value };
  g_array_append_val (held_signals, held);
}

static char *
describe (NebulaMemoryBudget *self)
{
  if (self->name != NULL && self->name[0] != '\0')
    return g_strdup_printf ("Memory budget '%s'", self->name);
  return g_strdup ("Memory budget");
}

typedef enum
{
  REFUSED_NOTHING,
  REFUSED_LIMIT,
  REFUSED_PER_ALLOCATION,
} Refusal;

/* One level of a reservation: a CAS loop that never lets used pass the
 * limit. Reports whether the soft limit was crossed upwards. */
static Refusal
reserve_level (NebulaMemoryBudget *self,
               guint64             size,
               gboolean           *crossed_soft,
               guint64            *used_seen)
{
  guint64 per_allocation = LOAD (self->per_allocation_limit);
  guint64 used = __atomic_load_n (&self->used, __ATOMIC_RELAXED);
  guint64 limit, soft, peak;

  *crossed_soft = FALSE;
  *used_seen = used;

  if (per_allocation != 0 && size > per_allocation)
    return REFUSED_PER_ALLOCATION;

  do
    {
      limit = LOAD (self->limit);
      *used_seen = used;
      if (used > G_MAXUINT64 - size || (limit != 0 && used + size > limit))
        return REFUSED_LIMIT;
    }
  while (!__atomic_compare_exchange_n (&self->used, &used, used + size, TRUE,
                                       __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));

  soft = LOAD (self->soft_limit);
  *crossed_soft = soft != 0 && used <= soft && used + size > soft;

  peak = __atomic_load_n (&self->peak, __ATOMIC_RELAXED);
  while (used + size > peak &&
         !__atomic_compare_exchange_n (&self->peak, &peak, used + size, TRUE,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;

  return REFUSED_NOTHING;
}

static void
unreserve_level (NebulaMemoryBudget *self,
                 guint64             size)
{
  __atomic_fetch_sub (&self->used, size, __ATOMIC_ACQ_REL);
  /* Usage went down: the next refusal is a new crossing. */
  __atomic_store_n (&self->at_limit, 0, __ATOMIC_RELEASE);
}

static void
set_refused (NebulaMemoryBudget  *charged,
             NebulaMemoryBudget  *refusing,
             Refusal              refusal,
             guint64              size,
             guint64              used,
             GError             **error)
{
  g_autofree char *what = describe (refusing);
  g_autofree char *through = NULL;
  guint64 limit = LOAD (refusing->limit);
  guint64 per_allocation = LOAD (refusing->per_allocation_limit);
  NebulaErrorInfo info = { 0, };

  if (charged != refusing)
    {
      g_autofree char *child = describe (charged);
      through = g_strdup_printf (" (charged through %s)", child);
    }

  info.requested = size;
  info.what = what;

  if (refusal == REFUSED_PER_ALLOCATION)
    {
      info.capacity = per_allocation;
      info.available = per_allocation;
      info.suggestion = "Split the request, or raise the budget's per-allocation-limit.";
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED,
                        &info,
                        "%s refused %" G_GUINT64_FORMAT " bytes%s: more than its "
                        "per-allocation limit of %" G_GUINT64_FORMAT " bytes",
                        what, size, through != NULL ? through : "", per_allocation);
    }
  else
    {
      info.capacity = limit;
      info.available = limit > used ? limit - used : 0;
      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED,
                        &info,
                        "%s refused %" G_GUINT64_FORMAT " bytes%s: %" G_GUINT64_FORMAT
                        " of %" G_GUINT64_FORMAT " in use, %" G_GUINT64_FORMAT " available",
                        what, size, through != NULL ? through : "", used, limit,
                        info.available);
    }
}

/**
 * nebula_memory_budget_try_reserve:
 * @self: a #NebulaMemoryBudget
 * @size: the number of bytes
 * @error: return location for a #GError
 *
 * Charges @size bytes to @self and every ancestor. If any of them would go
 * over its limit or its per-allocation limit, nothing is charged and @error
 * is %NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED, naming the budget that refused
 * and its numbers; that budget then emits #NebulaMemoryBudget::limit-reached
 * (for the limit, once until usage goes down again). Every budget whose
 * soft limit the charge crossed emits #NebulaMemoryBudget::soft-limit-exceeded.
 *
 * Returns: %TRUE if @size bytes were charged
 */
gboolean
nebula_memory_budget_try_reserve (NebulaMemoryBudget  *self,
                                  guint64              size,
                                  GError             **error)
{
  NebulaMemoryBudget *level, *refusing = NULL;
  Refusal refusal = REFUSED_NOTHING;
  guint depth = 0, reserved = 0;
  gboolean *crossed;
  guint64 used_seen = 0;

  g_return_val_if_fail (NEBULA_IS_MEMORY_BUDGET (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (level = self; level != NULL; level = level->parent)
    depth++;
  crossed = g_newa (gboolean, depth);

  for (level = self; level != NULL; level = level->parent, reserved++)
    {
      refusal = reserve_level (level, size, &crossed[reserved], &used_seen);
      if (refusal != REFUSED_NOTHING)
        {
          refusing = level;
          break;
        }
    }

  if (refusing != NULL)
    {
      guint i = 0;

      for (level = self; i < reserved; level = level->parent, i++)
        unreserve_level (level, size);

      set_refused (self, refusing, refusal, size, used_seen, error);

      if (refusal == REFUSED_LIMIT &&
          __atomic_exchange_n (&refusing->at_limit, 1, __ATOMIC_ACQ_REL) == 0)
        emit (refusing, LIMIT_REACHED, size);

      return FALSE;
    }

  /* Signals only once the whole chain succeeded, so a handler never hears of
   * a charge that was rolled back. */
  level = self;
  for (guint i = 0; i < depth; i++, level = level->parent)
    if (crossed[i])
      emit (level, SOFT_LIMIT_EXCEEDED, __atomic_load_n (&level->used, __ATOMIC_RELAXED));

  return TRUE;
}

/**
 * nebula_memory_budget_release:
 * @self: a #NebulaMemoryBudget
 * @size: the number of bytes, as reserved
 * @error: return location for a #GError
 *
 * Gives back @size bytes charged with nebula_memory_budget_try_reserve(),
 * to @self and every ancestor. Releasing more than a budget has in use is a
 * caller's mistake: it changes nothing and gives
 * %NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT.
 *
 * Returns: %TRUE on success
 */
gboolean
nebula_memory_budget_release (NebulaMemoryBudget  *self,
                              guint64              size,
                              GError             **error)
{
  NebulaMemoryBudget *level;
  guint released = 0;

  g_return_val_if_fail (NEBULA_IS_MEMORY_BUDGET (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (level = self; level != NULL; level = level->parent, released++)
    {
      guint64 used = __atomic_load_n (&level->used, __ATOMIC_RELAXED);

      do
        {
          if (used < size)
            break;
        }
      while (!__atomic_compare_exchange_n (&level->used, &used, used - size, TRUE,
                                           __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));

      if (used < size)
        {
          g_autofree char *what = describe (level);
          NebulaErrorInfo info = {
            .requested = size,
            .available = used,
            .capacity = LOAD (level->limit),
            .what = what,
            .suggestion = "Release exactly the sizes that were reserved, once each.",
          };
          NebulaMemoryBudget *undo = self;

          for (guint i = 0; i < released; i++, undo = undo->parent)
            __atomic_fetch_add (&undo->used, size, __ATOMIC_ACQ_REL);

          nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT,
                            &info,
                            "%s: cannot release %" G_GUINT64_FORMAT " bytes, only %"
                            G_GUINT64_FORMAT " are reserved",
                            what, size, used);
          return FALSE;
        }

      __atomic_store_n (&level->at_limit, 0, __ATOMIC_RELEASE);
    }

  return TRUE;
}

static void
nebula_memory_budget_finalize (GObject *object)
{
  NebulaMemoryBudget *self = (NebulaMemoryBudget *) object;

  /* What is still charged here was charged to the ancestors too. */
  for (NebulaMemoryBudget *level = self->parent; level != NULL && self->used != 0; level = level->parent)
    __atomic_fetch_sub (&level->used, MIN (self->used, level->used), __ATOMIC_ACQ_REL);

  g_clear_object (&self->parent);
  g_clear_pointer (&self->name, g_free);

  G_OBJECT_CLASS (nebula_memory_budget_parent_class)->finalize (object);
}

static void
nebula_memory_budget_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  NebulaMemoryBudget *self = NEBULA_MEMORY_BUDGET (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_PARENT:
      g_value_set_object (value, self->parent);
      break;
    case PROP_LIMIT:
      g_value_set_uint64 (value, LOAD (self->limit));
      break;
    case PROP_SOFT_LIMIT:
      g_value_set_uint64 (value, LOAD (self->soft_limit));
      break;
    case PROP_PER_ALLOCATION_LIMIT:
      g_value_set_uint64 (value, LOAD (self->per_allocation_limit));
      break;
    case PROP_USED:
      g_value_set_uint64 (value, LOAD (self->used));
      break;
    case PROP_PEAK:
      g_value_set_uint64 (value, LOAD (self->peak));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_memory_budget_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  NebulaMemoryBudget *self = NEBULA_MEMORY_BUDGET (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    case PROP_PARENT:
      self->parent = g_value_dup_object (value);
      break;
    case PROP_LIMIT:
      nebula_memory_budget_set_limit (self, g_value_get_uint64 (value));
      break;
    case PROP_SOFT_LIMIT:
      nebula_memory_budget_set_soft_limit (self, g_value_get_uint64 (value));
      break;
    case PROP_PER_ALLOCATION_LIMIT:
      nebula_memory_budget_set_per_allocation_limit (self, g_value_get_uint64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nebula_memory_budget_class_init (NebulaMemoryBudgetClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = nebula_memory_budget_finalize;
  object_class->get_property = nebula_memory_budget_get_property;
  object_class->set_property = nebula_memory_budget_set_property;

  /**
   * NebulaMemoryBudget:name:
   *
   * A name for error messages and reports.
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * NebulaMemoryBudget:parent:
   *
   * The budget every charge is also made to, or %NULL.
   */
  properties[PROP_PARENT] =
    g_param_spec_object ("parent", NULL, NULL,
                         NEBULA_TYPE_MEMORY_BUDGET,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * NebulaMemoryBudget:limit:
   *
   * The most bytes that may be charged at once; 0 means no limit (a budget
   * that only aggregates its children). Lowering it below
   * [property@MemoryBudget:used] refuses new charges until enough is
   * released.
   */
  properties[PROP_LIMIT] =
    g_param_spec_uint64 ("limit", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * NebulaMemoryBudget:soft-limit:
   *
   * A warning threshold: a charge that takes [property@MemoryBudget:used]
   * from at most this value to above it emits
   * #NebulaMemoryBudget::soft-limit-exceeded. 0 means none.
   */
  properties[PROP_SOFT_LIMIT] =
    g_param_spec_uint64 ("soft-limit", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * NebulaMemoryBudget:per-allocation-limit:
   *
   * The largest single charge accepted, whatever the usage; 0 means none.
   * It applies to charges made through child budgets as well.
   */
  properties[PROP_PER_ALLOCATION_LIMIT] =
    g_param_spec_uint64 ("per-allocation-limit", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * NebulaMemoryBudget:used:
   *
   * The bytes charged now, including those charged through child budgets.
   * It changes on every charge and is not notified.
   */
  properties[PROP_USED] =
    g_param_spec_uint64 ("used", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READABLE |
                          G_PARAM_STATIC_STRINGS));

  /**
   * NebulaMemoryBudget:peak:
   *
   * The highest [property@MemoryBudget:used] so far (exact: every charge
   * updates it). Not notified.
   */
  properties[PROP_PEAK] =
    g_param_spec_uint64 ("peak", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READABLE |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * NebulaMemoryBudget::soft-limit-exceeded:
   * @self: the budget
   * @used: the bytes in use after the charge that crossed the soft limit
   *
   * Emitted when a charge takes [property@MemoryBudget:used] above the soft
   * limit, once per crossing: usage has to fall back to the soft limit or
   * below before it is emitted again.
   */
  signals[SOFT_LIMIT_EXCEEDED] =
    g_signal_new ("soft-limit-exceeded",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_UINT64);

  /**
   * NebulaMemoryBudget::limit-reached:
   * @self: the budget
   * @requested: the size of the charge that was refused
   *
   * Emitted when this budget refuses a charge because of its limit, once
   * per crossing: after it, further refusals stay silent until something is
   * released from the budget.
   */
  signals[LIMIT_REACHED] =
    g_signal_new ("limit-reached",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_UINT64);
}

static void
nebula_memory_budget_init (NebulaMemoryBudget *self)
{
}

/**
 * nebula_memory_budget_new:
 * @name: (nullable): a name for messages
 * @limit: the limit in bytes, 0 for none
 *
 * Creates a budget without a parent.
 *
 * Returns: (transfer full): a new #NebulaMemoryBudget
 */
NebulaMemoryBudget *
nebula_memory_budget_new (const char *name,
                          guint64     limit)
{
  return g_object_new (NEBULA_TYPE_MEMORY_BUDGET,
                       "name", name,
                       "limit", limit,
                       NULL);
}

/**
 * nebula_memory_budget_new_child:
 * @parent: the budget charged as well
 * @name: (nullable): a name for messages
 * @limit: the limit in bytes, 0 for none
 *
 * Creates a budget whose charges are also made to @parent.
 *
 * Returns: (transfer full): a new #NebulaMemoryBudget
 */
NebulaMemoryBudget *
nebula_memory_budget_new_child (NebulaMemoryBudget *parent,
                                const char         *name,
                                guint64             limit)
{
  g_return_val_if_fail (NEBULA_IS_MEMORY_BUDGET (parent), NULL);

  return g_object_new (NEBULA_TYPE_MEMORY_BUDGET,
                       "parent", parent,
                       "name", name,
                       "limit", limit,
                       NULL);
}

/**
 * nebula_memory_budget_get_name:
 * @self: a #NebulaMemoryBudget
 *
 * Gets [property@MemoryBudget:name].
 *
 * Returns: (nullable): the name
 */
const char *
nebula_memory_budget_get_name (NebulaMemoryBudget *self)
{
  g_return_val_if_fail (NEBULA_IS_MEMORY_BUDGET (self), NULL);

  return self->name;
}

/**
 * nebula_memory_budget_get_parent:
 * @self: a #NebulaMemoryBudget
 *
 * Gets [property@MemoryBudget:parent].
 *
 * Returns: (transfer none) (nullable): the parent budget
 */
NebulaMemoryBudget *
nebula_memory_budget_get_parent (NebulaMemoryBudget *self)
{
  g_return_val_if_fail (NEBULA_IS_MEMORY_BUDGET (self), NULL);

  return self->parent;
}

/**
 * nebula_memory_budget_get_limit:
 * @self: a #NebulaMemoryBudget
 *
 * Gets [property@MemoryBudget:limit].
 *
 * Returns: the limit in bytes, 0 for none
 */
guint64
nebula_memory_budget_get_limit (NebulaMemoryBudget *self)
{
  g_return_val_if_fail (NEBULA_IS_MEMORY_BUDGET (self), 0);

  return LOAD (self->limit);
}

static void
set_uint64 (NebulaMemoryBudget *self,
            guint64            *field,
            guint64             value,
            guint               prop_id)
{
  if (__atomic_exchange_n (field, value, __ATOMIC_ACQ_REL) != value)
    g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

/**
 * nebula_memory_budget_set_limit:
 * @self: a #NebulaMemoryBudget
 * @limit: the limit in bytes, 0 for none
 *
 * Sets [property@MemoryBudget:limit].
 */
void
nebula_memory_budget_set_limit (NebulaMemoryBudget *self,
                                guint64             limit)
{
  g_return_if_fail (NEBULA_IS_MEMORY_BUDGET (self));

  set_uint64 (self, &self->limit, limit, PROP_LIMIT);
}

/**
 * nebula_memory_budget_get_soft_limit:
 * @self: a #NebulaMemoryBudget
 *
 * Gets [property@MemoryBudget:soft-limit].
 *
 * Returns: the soft limit in bytes, 0 for none
 */
guint64
nebula_memory_budget_get_soft_limit (NebulaMemoryBudget *self)
{
  g_return_val_if_fail (NEBULA_IS_MEMORY_BUDGET (self), 0);

  return LOAD (self->soft_limit);
}

/**
 * nebula_memory_budget_set_soft_limit:
 * @self: a #NebulaMemoryBudget
 * @soft_limit: the soft limit in bytes, 0 for none
 *
 * Sets [property@MemoryBudget:soft-limit].
 */
void
nebula_memory_budget_set_soft_limit (NebulaMemoryBudget *self,
                                     guint64             soft_limit)
{
  g_return_if_fail (NEBULA_IS_MEMORY_BUDGET (self));

  set_uint64 (self, &self->soft_limit, soft_limit, PROP_SOFT_LIMIT);
}

/**
 * nebula_memory_budget_get_per_allocation_limit:
 * @self: a #NebulaMemoryBudget
 *
 * Gets [property@MemoryBudget:per-allocation-limit].
 *
 * Returns: the largest single charge in bytes, 0 for no limit
 */
guint64
nebula_memory_budget_get_per_allocation_limit (NebulaMemoryBudget *self)
{
  g_return_val_if_fail (NEBULA_IS_MEMORY_BUDGET (self), 0);

  return LOAD (self->per_allocation_limit);
}

/**
 * nebula_memory_budget_set_per_allocation_limit:
 * @self: a #NebulaMemoryBudget
 * @limit: the largest single charge in bytes, 0 for no limit
 *
 * Sets [property@MemoryBudget:per-allocation-limit].
 */
void
nebula_memory_budget_set_per_allocation_limit (NebulaMemoryBudget *self,
                                               guint64             limit)
{
  g_return_if_fail (NEBULA_IS_MEMORY_BUDGET (self));

  set_uint64 (self, &self->per_allocation_limit, limit, PROP_PER_ALLOCATION_LIMIT);
}

/**
 * nebula_memory_budget_get_used:
 * @self: a #NebulaMemoryBudget
 *
 * Gets [property@MemoryBudget:used].
 *
 * Returns: the bytes charged now
 */
guint64
nebula_memory_budget_get_used (NebulaMemoryBudget *self)
{
  g_return_val_if_fail (NEBULA_IS_MEMORY_BUDGET (self), 0);

  return LOAD (self->used);
}

/**
 * nebula_memory_budget_get_peak:
 * @self: a #NebulaMemoryBudget
 *
 * Gets [property@MemoryBudget:peak].
 *
 * Returns: the highest usage so far
 */
guint64
nebula_memory_budget_get_peak (NebulaMemoryBudget *self)
{
  g_return_val_if_fail (NEBULA_IS_MEMORY_BUDGET (self), 0);

  return LOAD (self->peak);
}

gboolean
nebula_budget_account_charge (NebulaBudgetAccount  *account,
                              gsize                 size,
                              GError              **error)
{
  if (account->budget == NULL || size == 0)
    return TRUE;

  if (!nebula_memory_budget_try_reserve (account->budget, size, error))
    return FALSE;

  __atomic_fetch_add (&account->charged, (guint64) size, __ATOMIC_RELAXED);
  return TRUE;
}

void
nebula_budget_account_uncharge (NebulaBudgetAccount *account,
                                gsize                size)
{
  guint64 charged, amount;
  g_autoptr(GError) error = NULL;

  if (account->budget == NULL || size == 0)
    return;

  charged = __atomic_load_n (&account->charged, __ATOMIC_RELAXED);
  do
    amount = MIN (charged, (guint64) size);
  while (!__atomic_compare_exchange_n (&account->charged, &charged, charged - amount, TRUE,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED));

  if (amount != 0 && !nebula_memory_budget_release (account->budget, amount, &error))
    g_critical ("Releasing %" G_GUINT64_FORMAT " bytes charged by an allocator: %s",
                amount, error->message);
}

void
nebula_budget_account_set (NebulaBudgetAccount *account,
                           NebulaMemoryBudget  *budget)
{
  g_set_object (&account->budget, budget);
}

/* Gives back whatever is still charged (an allocator finalized with
 * memory it never returned) and drops the budget. */
void
nebula_budget_account_clear (NebulaBudgetAccount *account)
{
  if (account->budget != NULL && account->charged != 0)
    nebula_budget_account_uncharge (account, account->charged);
  g_clear_object (&account->budget);
}

gpointer
nebula_budget_account_take (NebulaBudgetAccount  *account,
                            gsize                 header_size,
                            gsize                 data_alignment,
                            gsize                 size,
                            guint8              **data,
                            GError              **error)
{
  guint8 *block;

  if (!nebula_budget_account_charge (account, size, error))
    return NULL;

  /* Callers keep @size at most G_MAXSSIZE, so the sum cannot wrap. */
  block = g_try_malloc (header_size + data_alignment + size);
  if (block == NULL)
    {
      nebula_budget_account_uncharge (account, size);
      return NULL;
    }

  memset (block, 0, header_size);
  *data = (guint8 *) (((guintptr) block + header_size + data_alignment - 1) &
                      ~(guintptr) (data_alignment - 1));
  return block;
}

void
nebula_budget_account_give (NebulaBudgetAccount *account,
                            gpointer             block,
                            gsize                size)
{
  nebula_budget_account_uncharge (account, size);
  g_free (block);
}
