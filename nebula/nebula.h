/* nebula.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>
#include <gio/gio.h>

#define NEBULA_INSIDE
# include "nebula-version.h"
# include "nebula-version-macros.h"
# include "nebula-enums.h"
# include "nebula-error.h"
# include "nebula-context.h"
# include "nebula-allocator-stats.h"
# include "nebula-allocator.h"
# include "nebula-stats-fast.h"
# include "nebula-allocator-fast.h"
# include "nebula-allocator-report.h"
# include "nebula-memory-budget.h"
# include "nebula-system-allocator.h"
# include "nebula-typed.h"
# include "nebula-strings.h"
# include "nebula-cleanup.h"
# include "nebula-bytes.h"
# include "nebula-arena-buffer.h"
# include "nebula-bump-allocator.h"
# include "nebula-stack-allocator.h"
# include "nebula-pool-allocator.h"
# include "nebula-multi-pool-allocator.h"
# include "nebula-macros.h"
# include "nebula-benchmark.h"
# include "nebula-utils.h"
# include "nebula-compute-cache.h"
# include "nebula-async-compute-cache.h"
# include "nebula-memory-pressure.h"
# include "nebula-script.h"
#undef NEBULA_INSIDE
