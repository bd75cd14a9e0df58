/* nebula-memory-budget-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-memory-budget.h"

G_BEGIN_DECLS

/* Holding a budget's signals while an allocator holds a lock of its own:
 * nebula_allocator_config_charge() in nebula-allocator-core-private.h
 * explains when. Holding is per thread and nests. */
void nebula_memory_budget_hold_signals      (void);
void nebula_memory_budget_emit_held_signals (void);

G_END_DECLS
