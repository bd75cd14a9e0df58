/* nebula-version-macros.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib.h>

#include "nebula-version.h"

/* config.h defines _NEBULA_EXTERN with default visibility while the library
 * itself is compiled; everybody else sees a plain extern. */
#ifndef _NEBULA_EXTERN
# define _NEBULA_EXTERN extern
#endif

#define NEBULA_AVAILABLE_IN_ALL _NEBULA_EXTERN
