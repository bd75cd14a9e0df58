/* nebula-memory-budget-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-memory-budget.h"

G_BEGIN_DECLS

/* Holding a budget's signals while an allocator holds a lock of its own:
 * nebula_budget_account_charge() below
 * explains when. Holding is per thread and nests. */
void nebula_memory_budget_hold_signals      (void);
void nebula_memory_budget_emit_held_signals (void);

/* Budget accounts. Memory budgets: An allocator charges the memory it takes from the system
 * (chunks, slabs, blocks: what it holds, not what callers asked for) before
 * it takes it, and uncharges it when it gives it back:
 *
 *   if (!nebula_budget_account_charge (&self->config.account, slab_size, error))
 *     return NULL;                        // BUDGET_EXCEEDED, nothing taken
 *   slab = g_try_malloc (slab_size);
 *   if (slab == NULL)
 *     {
 *       nebula_budget_account_uncharge (&self->config.account, slab_size);
 *       ...OUT_OF_MEMORY...
 *     }
 *   ...
 *   g_free (slab);                        // on shrink, reset, finalize
 *   nebula_budget_account_uncharge (&self->config.account, slab_size);
 *
 * Both are no-ops without a budget and safe from any thread. The account
 * counts what it charged, so nebula_budget_account_clear() (called by
 * nebula_allocator_config_clear()) gives back
 * whatever is still charged when the allocator is finalized, and uncharge
 * never releases more than was charged. A Pool charges each slab (the first
 * one in its init function, so that a budget too small for it makes
 * construction fail with BUDGET_EXCEEDED), a Stack its buffer(s).
 *
 * A charge may emit the budget's signals. If the allocator charges while it
 * holds a lock of its own, it brackets the locked region so that the
 * signals wait until it unlocks (handlers may call back into it):
 *
 *   nebula_memory_budget_hold_signals ();
 *   g_mutex_lock (&self->lock);
 *   ...charge...
 *   g_mutex_unlock (&self->lock);
 *   nebula_memory_budget_emit_held_signals ();
 *
 * Holding is per thread and nests; it costs a thread-local increment. */
typedef struct
{
  NebulaMemoryBudget *budget;      /* owned, or NULL */
  guint64             charged;     /* bytes charged to budget; atomic */
} NebulaBudgetAccount;

void     nebula_budget_account_set      (NebulaBudgetAccount  *account,
                                         NebulaMemoryBudget   *budget);
gboolean nebula_budget_account_charge   (NebulaBudgetAccount  *account,
                                         gsize                 size,
                                         GError              **error);
void     nebula_budget_account_uncharge (NebulaBudgetAccount  *account,
                                         gsize                 size);
void     nebula_budget_account_clear    (NebulaBudgetAccount  *account);

/* A chunk or slab an allocator takes from the system for itself: @size
 * bytes are charged to the account first, then one malloc() block holds
 * @header_size bytes of header (zero-filled) and @size bytes of data at a
 * multiple of @data_alignment (a power of two), whose address goes to
 * *data. NULL with @error set when the budget refuses, NULL with @error
 * untouched when the system does (the caller says what it wanted);
 * nothing stays charged either way. nebula_budget_account_give() frees the
 * block and uncharges @size. */
gpointer nebula_budget_account_take     (NebulaBudgetAccount  *account,
                                         gsize                 header_size,
                                         gsize                 data_alignment,
                                         gsize                 size,
                                         guint8              **data,
                                         GError              **error);
void     nebula_budget_account_give     (NebulaBudgetAccount  *account,
                                         gpointer              block,
                                         gsize                 size);

G_END_DECLS
