/* nebula-context.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-context.h"

/* Call-site context: a per-thread stack of names.
 *
 * NEBULA_ALLOC_CONTEXT() runs a push and a pop around every scope that uses
 * it, so both must cost next to nothing: the depth is a thread-local
 * counter and the names a fixed array that each thread allocates once, at
 * its first push (no lock; the array is freed when the thread exits). The
 * array is not thread-local storage itself: the library's thread-local
 * variables are in its static TLS block, which a library loaded with
 * dlopen() (by Python or gjs) takes from glibc's small static reserve, so
 * they are kept to a few words. The C macro pushes its string literal as
 * it is.
 * nebula_context_push(), for bindings, interns the name first, since their
 * strings are temporary. Scopes nested deeper than MAX_DEPTH are counted
 * but not named ("a > b > ... > ...").
 *
 * With -Derror_context=false (NEBULA_ENABLE_ERROR_CONTEXT 0) the macro is
 * empty, nothing below keeps state, and nebula_set_error() does not look at
 * the stack; the functions stay exported, as no-ops, so that the ABI does
 * not depend on the option. */

#define MAX_DEPTH 32

#if NEBULA_ENABLE_ERROR_CONTEXT
static __thread guint context_depth;
static __thread const char **context_names;

/* At the thread's exit (which may run again if a later destructor
 * pushes). */
static void
context_names_free (gpointer names)
{
  if (context_names == names)
    context_names = NULL;
  g_free (names);
}

static GPrivate context_names_private = G_PRIVATE_INIT (context_names_free);

static G_NO_INLINE const char **
context_names_new (void)
{
  context_names = g_new0 (const char *, MAX_DEPTH);
  g_private_set (&context_names_private, context_names);
  return context_names;
}

static inline void
push_name (const char *name)
{
  const char **names = context_names;

  if (G_UNLIKELY (names == NULL))
    names = context_names_new ();
  if (context_depth < MAX_DEPTH)
    names[context_depth] = name;
  context_depth++;
}
#endif

/**
 * nebula_context_push:
 * @name: the name of the call site
 *
 * Pushes @name on the calling thread's context stack. Prefer the scoped
 * NEBULA_ALLOC_CONTEXT() in C and `with Nebula.context(name):` in Python;
 * every push must be matched by nebula_context_pop() on the same thread.
 * @name is interned, so any string may be passed.
 */
void
nebula_context_push (const char *name)
{
  g_return_if_fail (name != NULL);

#if NEBULA_ENABLE_ERROR_CONTEXT
  push_name (g_intern_string (name));
#endif
}

/**
 * nebula_context_push_static: (skip)
 * @name: the name of the call site, a string that lives as long as the
 *   program (a literal)
 *
 * nebula_context_push() without interning: what NEBULA_ALLOC_CONTEXT()
 * calls.
 */
void
nebula_context_push_static (const char *name)
{
#if NEBULA_ENABLE_ERROR_CONTEXT
  push_name (name != NULL ? name : "(null)");
#endif
}

/**
 * nebula_context_pop:
 *
 * Pops the innermost name pushed with nebula_context_push() on this thread.
 */
void
nebula_context_pop (void)
{
#if NEBULA_ENABLE_ERROR_CONTEXT
  g_return_if_fail (context_depth > 0);

  context_depth--;
#endif
}

/**
 * nebula_context_get_path:
 *
 * The current thread's context path, outermost first, joined with " > ".
 * Always %NULL when Nebula was built with `-Derror_context=false`.
 *
 * Returns: (transfer full) (nullable): the path, or %NULL when empty
 */
char *
nebula_context_get_path (void)
{
#if NEBULA_ENABLE_ERROR_CONTEXT
  GString *path;

  if (context_depth == 0)
    return NULL;

  path = g_string_new (NULL);
  for (guint i = 0; i < context_depth; i++)
    {
      const char *name = i < MAX_DEPTH && context_names != NULL ? context_names[i] : NULL;

      if (i > 0)
        g_string_append (path, " > ");
      g_string_append (path, name != NULL ? name : "...");
      if (i >= MAX_DEPTH)
        break;
    }

  return g_string_free (path, FALSE);
#else
  return NULL;
#endif
}
