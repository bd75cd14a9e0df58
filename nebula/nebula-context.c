/* nebula-context.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-context.h"

/* A per-thread stack of interned names: interning lets bindings pass
 * temporary strings while the stack itself never owns or frees a name. */
static void
context_stack_free (gpointer data)
{
  g_ptr_array_unref (data);
}

static GPrivate context_stack = G_PRIVATE_INIT (context_stack_free);

static GPtrArray *
get_stack (gboolean create)
{
  GPtrArray *stack = g_private_get (&context_stack);

  if (stack == NULL && create)
    {
      stack = g_ptr_array_new ();
      g_private_set (&context_stack, stack);
    }

  return stack;
}

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
  g_ptr_array_add (get_stack (TRUE), (gpointer) g_intern_string (name));
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
  GPtrArray *stack = get_stack (FALSE);

  g_return_if_fail (stack != NULL && stack->len > 0);

  g_ptr_array_set_size (stack, stack->len - 1);
#endif
}

/**
 * nebula_context_get_path:
 *
 * The current thread's context path, outermost first, joined with " > ".
 *
 * Returns: (transfer full) (nullable): the path, or %NULL when empty
 */
char *
nebula_context_get_path (void)
{
  GPtrArray *stack = get_stack (FALSE);
  GString *path;

  if (stack == NULL || stack->len == 0)
    return NULL;

  path = g_string_new (NULL);
  for (guint i = 0; i < stack->len; i++)
    {
      if (i > 0)
        g_string_append (path, " > ");
      g_string_append (path, g_ptr_array_index (stack, i));
    }

  return g_string_free (path, FALSE);
}
