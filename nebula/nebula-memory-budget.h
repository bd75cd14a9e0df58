/* nebula-memory-budget.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>

#include "nebula-version-macros.h"

G_BEGIN_DECLS

#define NEBULA_TYPE_MEMORY_BUDGET (nebula_memory_budget_get_type ())

NEBULA_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (NebulaMemoryBudget, nebula_memory_budget, NEBULA, MEMORY_BUDGET, GObject)

NEBULA_AVAILABLE_IN_0_1
NebulaMemoryBudget *nebula_memory_budget_new                    (const char          *name,
                                                                 guint64              limit);
NEBULA_AVAILABLE_IN_0_1
NebulaMemoryBudget *nebula_memory_budget_new_child              (NebulaMemoryBudget  *parent,
                                                                 const char          *name,
                                                                 guint64              limit);
NEBULA_AVAILABLE_IN_0_1
gboolean            nebula_memory_budget_try_reserve            (NebulaMemoryBudget  *self,
                                                                 guint64              size,
                                                                 GError             **error);
NEBULA_AVAILABLE_IN_0_1
gboolean            nebula_memory_budget_release                (NebulaMemoryBudget  *self,
                                                                 guint64              size,
                                                                 GError             **error);
NEBULA_AVAILABLE_IN_0_1
const char         *nebula_memory_budget_get_name               (NebulaMemoryBudget  *self);
NEBULA_AVAILABLE_IN_0_1
NebulaMemoryBudget *nebula_memory_budget_get_parent             (NebulaMemoryBudget  *self);
NEBULA_AVAILABLE_IN_0_1
guint64             nebula_memory_budget_get_limit              (NebulaMemoryBudget  *self);
NEBULA_AVAILABLE_IN_0_1
void                nebula_memory_budget_set_limit              (NebulaMemoryBudget  *self,
                                                                 guint64              limit);
NEBULA_AVAILABLE_IN_0_1
guint64             nebula_memory_budget_get_soft_limit         (NebulaMemoryBudget  *self);
NEBULA_AVAILABLE_IN_0_1
void                nebula_memory_budget_set_soft_limit         (NebulaMemoryBudget  *self,
                                                                 guint64              soft_limit);
NEBULA_AVAILABLE_IN_0_1
guint64             nebula_memory_budget_get_per_allocation_limit (NebulaMemoryBudget *self);
NEBULA_AVAILABLE_IN_0_1
void                nebula_memory_budget_set_per_allocation_limit (NebulaMemoryBudget *self,
                                                                   guint64             limit);
NEBULA_AVAILABLE_IN_0_1
guint64             nebula_memory_budget_get_used               (NebulaMemoryBudget  *self);
NEBULA_AVAILABLE_IN_0_1
guint64             nebula_memory_budget_get_peak               (NebulaMemoryBudget  *self);

G_END_DECLS
