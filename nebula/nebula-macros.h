/* nebula-macros.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

#ifndef __GI_SCANNER__
/* Tells the compiler that @ptr, a block an inline fast path has just
 * carved out of a chunk, is not %NULL (a chunk never starts at address 0),
 * so that the caller's test of the result folds away and the fast path
 * runs straight into the caller's code. Private. */
#if defined(__GNUC__)
# define _NEBULA_FAST_BLOCK(ptr) \
  G_STMT_START { if ((ptr) == NULL) __builtin_unreachable (); } G_STMT_END
#else
# define _NEBULA_FAST_BLOCK(ptr) G_STMT_START { } G_STMT_END
#endif
#endif /* __GI_SCANNER__ */

/* The scope and frame macros: the scanner sees them, so that they are in
 * the reference; they expand to g_autoptr() of types that <nebula.h>
 * declares (nebula-bump-allocator.h, nebula-stack-allocator.h). */

/**
 * NEBULA_BUMP_SCOPE:
 * @bump: a #NebulaBumpAllocator
 *
 * Opens a #NebulaBumpScope on @bump for the rest of the enclosing C scope:
 * everything allocated from @bump after this line is released when the
 * scope ends, on every path out of it (return, break, goto).
 *
 * |[<!-- language="C" -->
 * for (guint i = 0; i < n_requests; i++)
 *   {
 *     NEBULA_BUMP_SCOPE (bump);
 *     handle_request (bump, requests[i]);
 *   }
 * ]|
 *
 * It is `g_autoptr (NebulaBumpScope)` under a name nobody has to invent;
 * use g_autoptr() directly when the scope must end early (g_clear_pointer()).
 */
#define NEBULA_BUMP_SCOPE(bump) \
  G_GNUC_UNUSED g_autoptr (NebulaBumpScope) G_PASTE (_nebula_bump_scope_, __LINE__) = \
    nebula_bump_scope_new (bump)

/**
 * NEBULA_STACK_FRAME:
 * @stack: a #NebulaStackAllocator
 *
 * Opens a #NebulaStackFrame on the low end of @stack for the rest of the
 * enclosing C scope: everything pushed on that end after this line is
 * released when the scope ends, on every path out of it (return, break,
 * goto).
 *
 * |[<!-- language="C" -->
 * static void
 * render_frame (NebulaStackAllocator *stack)
 * {
 *   NEBULA_STACK_FRAME (stack);
 *   Vertex *scratch = nebula_allocator_new (stack, Vertex, n_vertices, &error);
 *   ...
 * }
 * ]|
 *
 * It is `g_autoptr (NebulaStackFrame)` from nebula_stack_frame_new(); for
 * the high end of a double-ended stack, or to close the frame early, use
 * g_autoptr() with nebula_stack_frame_new_high() or g_clear_pointer()
 * directly.
 */
#define NEBULA_STACK_FRAME(stack) \
  G_GNUC_UNUSED g_autoptr (NebulaStackFrame) G_PASTE (_nebula_stack_frame_, __LINE__) = \
    nebula_stack_frame_new (stack)

/* C conveniences: macros and static inline functions that language
 * bindings have no use for, so the scanner does not see them. */
#ifndef __GI_SCANNER__

/* Fixed pools catch double frees where g_assert() is enabled; the choice is
 * made where nebula.h is included. */
#ifndef G_DISABLE_ASSERT
# define NEBULA_FIXED_POOL_CHECKS 1
#else
# define NEBULA_FIXED_POOL_CHECKS 0
#endif

/**
 * NEBULA_DEFINE_FIXED_POOL:
 * @Name: a CamelCase name; the slot type becomes `NameSlot`
 * @name: the lower-case prefix of the two functions
 * @Type: the element type
 * @N: the number of slots, a constant expression greater than 0
 *
 * Defines a pool of @N slots of @Type in static storage, and two functions:
 *
 * - `static inline Type *name_alloc (void)` returns an unused slot, or %NULL
 *   when all @N are in use. The slot's contents are undefined.
 * - `static inline void name_free (Type *ptr)` gives a slot back; %NULL is
 *   ignored.
 *
 * Both are O(1): slots that were never used are taken in order with an
 * index, and freed slots go on a free list kept inside them. The pool uses
 * no heap memory and needs no initialization call, since static storage
 * starts zeroed. The storage is file-local (`static`): expand the macro in
 * one .c file and share the pool through functions there. It is not
 * thread-safe.
 *
 * Unless %G_DISABLE_ASSERT is defined, every slot has an in-use flag, and
 * freeing a pointer that is not a slot of the pool, or a slot that is not
 * in use (a double free), emits a critical warning and changes nothing.
 *
 * |[<!-- language="C" -->
 * typedef struct { double x, y; } Point;
 *
 * NEBULA_DEFINE_FIXED_POOL (PointPool, point_pool, Point, 256)
 *
 * Point *p = point_pool_alloc ();
 * if (p != NULL)
 *   {
 *     p->x = 1.0;
 *     point_pool_free (p);
 *   }
 * ]|
 */
#define NEBULA_DEFINE_FIXED_POOL(Name, name, Type, N)                          \
  typedef union _##Name##Slot                                                  \
  {                                                                            \
    Type                 value;                                                \
    union _##Name##Slot *next;                                                 \
  } Name##Slot;                                                                \
                                                                               \
  G_STATIC_ASSERT ((N) > 0);                                                   \
                                                                               \
  static struct                                                                \
  {                                                                            \
    Name##Slot  slots[(N)];                                                    \
    Name##Slot *free_list;                                                     \
    gsize       n_touched;         /* slots handed out at least once */        \
    guint8      in_use[NEBULA_FIXED_POOL_CHECKS ? (N) : 1];                    \
  } name##_storage;                                                            \
                                                                               \
  G_GNUC_UNUSED static inline Type *                                           \
  name##_alloc (void)                                                          \
  {                                                                            \
    Name##Slot *slot = name##_storage.free_list;                               \
                                                                               \
    if (slot != NULL)                                                          \
      name##_storage.free_list = slot->next;                                   \
    else if (name##_storage.n_touched < (gsize) (N))                           \
      slot = &name##_storage.slots[name##_storage.n_touched++];                \
    else                                                                       \
      return NULL;                                                             \
                                                                               \
    if (NEBULA_FIXED_POOL_CHECKS)                                              \
      name##_storage.in_use[slot - name##_storage.slots] = 1;                  \
                                                                               \
    return &slot->value;                                                       \
  }                                                                            \
                                                                               \
  G_GNUC_UNUSED static inline void                                             \
  name##_free (Type *ptr)                                                      \
  {                                                                            \
    Name##Slot *slot = (Name##Slot *) (void *) ptr;                            \
                                                                               \
    if (ptr == NULL)                                                           \
      return;                                                                  \
                                                                               \
    if (NEBULA_FIXED_POOL_CHECKS)                                              \
      {                                                                        \
        guintptr start = (guintptr) name##_storage.slots;                      \
        guintptr offset = (guintptr) slot - start;                             \
        gsize index = offset / sizeof (Name##Slot);                            \
                                                                               \
        /* Integer arithmetic: a foreign pointer must not be compared as a  \
         * pointer into the array. */                                          \
        if ((guintptr) slot < start || index >= (gsize) (N) ||                 \
            offset % sizeof (Name##Slot) != 0)                                 \
          {                                                                    \
            g_critical ("%s: %p is not a slot of the fixed pool '%s'",         \
                        G_STRFUNC, (void *) ptr, #name);                       \
            return;                                                            \
          }                                                                    \
        if (!name##_storage.in_use[index])                                     \
          {                                                                    \
            g_critical ("%s: slot %" G_GSIZE_FORMAT " of the fixed pool '%s' " \
                        "is not in use: freed twice?",                         \
                        G_STRFUNC, index, #name);                              \
            return;                                                            \
          }                                                                    \
        name##_storage.in_use[index] = 0;                                      \
      }                                                                        \
                                                                               \
    slot->next = name##_storage.free_list;                                     \
    name##_storage.free_list = slot;                                           \
  }

#endif /* __GI_SCANNER__ */

G_END_DECLS
