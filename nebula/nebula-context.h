/* nebula-context.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib.h>

#include "nebula-version-macros.h"

G_BEGIN_DECLS

NEBULA_AVAILABLE_IN_0_1
void   nebula_context_push        (const char *name);
NEBULA_AVAILABLE_IN_0_1
void   nebula_context_push_static (const char *name);
NEBULA_AVAILABLE_IN_0_1
void   nebula_context_pop         (void);
NEBULA_AVAILABLE_IN_0_1
char  *nebula_context_get_path    (void);

#ifndef __GI_SCANNER__
typedef struct { gboolean pushed; } NebulaContextScope;

static inline NebulaContextScope
nebula_context_scope_enter (const char *name)
{
  NebulaContextScope scope = { TRUE };
  nebula_context_push_static (name);
  return scope;
}

static inline void
nebula_context_scope_leave (NebulaContextScope *scope)
{
  if (scope->pushed)
    nebula_context_pop ();
}
#endif

/**
 * NEBULA_ALLOC_CONTEXT:
 * @name: a static string naming the call site, such as "parse_request"
 *
 * Pushes @name on the calling thread's context stack for the rest of the
 * enclosing scope. Errors raised meanwhile name the whole path in their
 * message ("in handle_client > parse_request") and in
 * nebula_error_get_context(). With `-Derror_context=false` the macro
 * compiles to nothing.
 */
#if NEBULA_HAS_ERROR_CONTEXT
# define NEBULA_ALLOC_CONTEXT(name) \
  G_GNUC_UNUSED __attribute__((cleanup (nebula_context_scope_leave))) \
  NebulaContextScope G_PASTE (_nebula_context_scope_, __LINE__) = nebula_context_scope_enter (name)
#else
# define NEBULA_ALLOC_CONTEXT(name) \
  G_GNUC_UNUSED typedef int G_PASTE (_nebula_context_scope_, __LINE__)
#endif

G_END_DECLS
