/* test-headers.c: <nebula.h> must compile in every language mode a user
 * may build with (tests/headers/meson.build compiles this file as C11, C17
 * and C++, with warnings fatal), and its inline functions must work
 * there. Built against the public include path only, as a user would.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <nebula.h>

int
main (void)
{
  NebulaBumpAllocator *bump = nebula_bump_allocator_new (4096, NULL);
  NebulaPoolAllocator *pool = nebula_pool_allocator_new (64, 16, NULL);
  NebulaStackAllocator *stack = nebula_stack_allocator_new (4096, NULL);
  gpointer a, b, c;
  gboolean ok;

  if (bump == NULL || pool == NULL || stack == NULL)
    return 1;

  a = nebula_bump_allocator_alloc (bump, 32, 8, NULL);
  b = nebula_pool_allocator_alloc (pool, 32, 8, NULL);
  c = nebula_stack_allocator_alloc (stack, 32, 8, NULL);
  ok = a != NULL && b != NULL && c != NULL;
  ok = ok && nebula_bump_allocator_free (bump, a, 32, 8, NULL);
  ok = ok && nebula_pool_allocator_free (pool, b, 32, 8, NULL);
  ok = ok && nebula_stack_allocator_free (stack, c, 32, 8, NULL);

  g_object_unref (stack);
  g_object_unref (pool);
  g_object_unref (bump);

  return ok ? 0 : 1;
}
