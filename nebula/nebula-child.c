/* nebula-child.c: child arenas that take their memory from a parent
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-sanitizer-private.h"
#include "nebula-allocator-core-private.h"
#include "nebula-allocator-report.h"
#include "nebula-allocator-report-private.h"
#include "nebula-child-private.h"
#include "nebula-cleanup-private.h"

/* Chunk memory from the parent is aligned like the system's. */
#define CHILD_CHUNK_ALIGNMENT 16

/* A weak reference to a child, shared by the child's link, the parent's
 * list of children and the cleanup on the parent, so that none of them
 * outlives what it points at. */
typedef struct
{
  GWeakRef child;
} ChildRef;

typedef struct
{
  GMutex     lock;
  GPtrArray *children;     /* ChildRef, one reference each */
} ChildList;

struct _NebulaChildLink
{
  NebulaAllocator *child;  /* not owned: the link belongs to it */
  GWeakRef         parent;
  char            *parent_what;
  ChildRef        *ref;
  guint            cleanup;     /* on the parent; 0: none */
  gboolean         releasing;   /* no chunk may be taken while set */
  NebulaChildReleaseFunc release;
};

static GQuark children_quark;
/* A child's link, as qdata on the child: reports find it there. */
static gsize link_quark;   /* a GQuark, set once */

static void
child_ref_clear (gpointer data)
{
  ChildRef *ref = data;

  g_weak_ref_clear (&ref->child);
}

static void
child_ref_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, child_ref_clear);
}

static void
child_list_free (gpointer data)
{
  ChildList *list = data;

  g_ptr_array_unref (list->children);
  g_mutex_clear (&list->lock);
  g_free (list);
}

static ChildList *
child_list_get (NebulaAllocator *parent,
                gboolean         create)
{
  G_LOCK_DEFINE_STATIC (create_lock);
  ChildList *list;

  if (g_atomic_int_get ((gint *) &children_quark) == 0)
    {
      if (!create)
        return NULL;
      g_atomic_int_set ((gint *) &children_quark,
                        (gint) g_quark_from_static_string ("nebula-allocator-children"));
    }

  /* GLib's qdata is not instrumented: tell ThreadSanitizer that a list
   * found there was published by its creator. */
  list = g_object_get_qdata (G_OBJECT (parent), children_quark);
  if (list != NULL)
    NEBULA_TSAN_ACQUIRE (list);
  if (list != NULL || !create)
    return list;

  G_LOCK (create_lock);
  list = g_object_get_qdata (G_OBJECT (parent), children_quark);
  if (list == NULL)
    {
      list = g_new0 (ChildList, 1);
      g_mutex_init (&list->lock);
      list->children = g_ptr_array_new_with_free_func (child_ref_release);
      NEBULA_TSAN_RELEASE (list);
      g_object_set_qdata_full (G_OBJECT (parent), children_quark, list, child_list_free);
    }
  else
    NEBULA_TSAN_ACQUIRE (list);
  G_UNLOCK (create_lock);

  return list;
}

/* Gives every chunk or slab of a child back (its kind's release function),
 * with chunk requests refused meanwhile: a reset that starts a new first
 * chunk must not take it from a parent about to release its memory. */
static void
release_child (NebulaAllocator *child)
{
  NebulaChildLink *link = g_object_get_qdata (G_OBJECT (child), (GQuark) link_quark);

  if (link == NULL || link->releasing)
    return;

  link->releasing = TRUE;
  link->release (child);
  link->releasing = FALSE;
}

static void
parent_lets_go_cb (gpointer data)
{
  ChildRef *ref = data;
  g_autoptr(NebulaAllocator) child = g_weak_ref_get (&ref->child);

  if (child != NULL)
    release_child (child);
}

NebulaChildLink *
nebula_child_link_new (NebulaAllocator        *child,
                       NebulaAllocator        *parent,
                       NebulaChildReleaseFunc  release)
{
  NebulaChildLink *link;
  ChildList *list;

  if (parent == NULL)
    return NULL;

  link = g_new0 (NebulaChildLink, 1);
  list = child_list_get (parent, TRUE);

  if (g_once_init_enter (&link_quark))
    {
      nebula_allocator_add_report_extension (nebula_child_report);
      g_once_init_leave (&link_quark, g_quark_from_static_string ("nebula-child-link"));
    }
  g_object_set_qdata (G_OBJECT (child), (GQuark) link_quark, link);

  link->child = child;
  link->release = release;
  g_weak_ref_init (&link->parent, parent);
  link->parent_what = nebula_allocator_describe (parent);
  link->ref = g_atomic_rc_box_new0 (ChildRef);
  g_weak_ref_init (&link->ref->child, child);

  nebula_mutex_lock (&list->lock);
  g_ptr_array_add (list->children, g_atomic_rc_box_acquire (link->ref));
  nebula_mutex_unlock (&list->lock);

  return link;
}

void
nebula_child_link_free (NebulaChildLink *link)
{
  g_autoptr(NebulaAllocator) parent = NULL;

  if (link == NULL)
    return;

  g_object_set_qdata (G_OBJECT (link->child), (GQuark) link_quark, NULL);
  parent = g_weak_ref_get (&link->parent);
  if (parent != NULL)
    {
      ChildList *list = child_list_get (parent, FALSE);

      if (link->cleanup != 0)
        nebula_allocator_remove_cleanup (parent, link->cleanup);
      if (list != NULL)
        {
          nebula_mutex_lock (&list->lock);
          g_ptr_array_remove (list->children, link->ref);
          nebula_mutex_unlock (&list->lock);
        }
    }

  g_weak_ref_clear (&link->parent);
  child_ref_release (link->ref);
  g_free (link->parent_what);
  g_free (link);
}

NebulaAllocator *
nebula_child_link_dup_parent (NebulaChildLink *link)
{
  return link != NULL ? g_weak_ref_get (&link->parent) : NULL;
}

gpointer
nebula_child_link_alloc (NebulaChildLink  *link,
                         gsize             size,
                         gsize             alignment,
                         GError          **error)
{
  g_autoptr(NebulaAllocator) parent = g_weak_ref_get (&link->parent);
  gpointer memory;

  if (link->releasing)
    {
      g_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_FAILED,
                   "%s is releasing its children", link->parent_what);
      return NULL;
    }
  if (parent == NULL)
    {
      g_autofree char *what = nebula_allocator_describe (link->child);
      NebulaErrorInfo info = { .requested = size, .what = what };

      nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_FAILED, &info,
                        "%s cannot take a chunk of %" G_GSIZE_FORMAT " bytes: its parent, %s, "
                        "was finalized (a child arena must not outlive its parent)",
                        what, size, link->parent_what);
      return NULL;
    }

  memory = nebula_allocator_allocate (parent, size, alignment, error);
  if (memory == NULL)
    return NULL;

  /* Newer than any scope of the parent this chunk was taken in. */
  if (link->cleanup != 0)
    nebula_allocator_remove_cleanup (parent, link->cleanup);
  link->cleanup = nebula_cleanup_add (parent, parent_lets_go_cb,
                                      g_atomic_rc_box_acquire (link->ref), child_ref_release,
                                      TRUE);
  return memory;
}

void
nebula_child_link_dealloc (NebulaChildLink *link,
                           gpointer         memory,
                           gsize            size,
                           gsize            alignment)
{
  g_autoptr(NebulaAllocator) parent = g_weak_ref_get (&link->parent);

  /* A parent being disposed takes its memory back by itself; a stack
   * parent refuses all but its top block, which its next reset or frame
   * end reclaims. */
  if (parent != NULL)
    nebula_allocator_deallocate (parent, memory, size, alignment, NULL);
}

gpointer
nebula_child_block_source (gpointer   link,
                           gsize      size,
                           GError   **error)
{
  return nebula_child_link_alloc (link, size, CHILD_CHUNK_ALIGNMENT, error);
}

void
nebula_child_block_sink (gpointer link,
                         gpointer block,
                         gsize    size)
{
  nebula_child_link_dealloc (link, block, size, CHILD_CHUNK_ALIGNMENT);
}

/* A class of its own each time: a GParamSpec has one owner. */
GParamSpec *
nebula_child_param_spec (void)
{
  return g_param_spec_object ("parent", NULL, NULL,
                              NEBULA_TYPE_ALLOCATOR,
                              G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
}

void
nebula_child_report (NebulaAllocator *self,
                     GVariantDict    *report)
{
  ChildList *list = child_list_get (self, FALSE);
  g_autoptr(GPtrArray) children = NULL;
  GVariantBuilder builder;

  NebulaChildLink *link = g_object_get_qdata (G_OBJECT (self), (GQuark) link_quark);

  if (link != NULL)
    {
      g_autoptr(NebulaAllocator) parent = g_weak_ref_get (&link->parent);
      g_autofree char *name = parent != NULL ? nebula_allocator_dup_name (parent) : NULL;

      g_variant_dict_insert (report, "parent", "s",
                             name != NULL ? name : parent != NULL ? G_OBJECT_TYPE_NAME (parent)
                                                                  : "(finalized)");
    }

  if (list == NULL)
    return;

  /* Reports are made outside the lock: a child's may take its own locks. */
  children = g_ptr_array_new_with_free_func (g_object_unref);
  nebula_mutex_lock (&list->lock);
  for (guint i = 0; i < list->children->len; i++)
    {
      ChildRef *ref = g_ptr_array_index (list->children, i);
      NebulaAllocator *child = g_weak_ref_get (&ref->child);

      if (child != NULL)
        g_ptr_array_add (children, child);
    }
  nebula_mutex_unlock (&list->lock);

  if (children->len == 0)
    return;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("av"));
  for (guint i = 0; i < children->len; i++)
    {
      g_autoptr(GVariant) child_report = nebula_allocator_get_report (children->pdata[i]);

      g_variant_builder_add_value (&builder, g_variant_new_variant (child_report));
    }
  g_variant_dict_insert_value (report, "children", g_variant_builder_end (&builder));
}
