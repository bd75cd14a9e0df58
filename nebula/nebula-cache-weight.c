/* nebula-cache-weight.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-cache-weight-private.h"
#include "nebula-sanitizer-private.h"

guint64
nebula_cache_weigh (NebulaComputeCache *self,
                    gconstpointer       key,
                    gconstpointer       value)
{
  if (self->weigher != NULL)
    return self->weigher (key, value, self->weigher_data);
  return 1;
}

static guint64
object_weigher_trampoline (gconstpointer key,
                           gconstpointer value,
                           gpointer      user_data)
{
  NebulaComputeCache *self = user_data;

  return self->object_weigher ((GVariant *) key, (GObject *) value, self->object_weigher_data);
}

static void
replace_weigher (NebulaComputeCache       *self,
                 NebulaPointerWeigherFunc  func,
                 gpointer                  user_data,
                 GDestroyNotify            destroy)
{
  GDestroyNotify old_destroy;
  gpointer old_data;

  nebula_compute_cache_lock_all (self);
  old_destroy = self->weigher_destroy;
  old_data = self->weigher_data;
  self->weigher = func;
  self->weigher_data = user_data;
  self->weigher_destroy = destroy;
  nebula_compute_cache_unlock_all (self);

  if (old_destroy != NULL)
    old_destroy (old_data);
}

/**
 * nebula_compute_cache_set_weigher:
 * @self: a #NebulaComputeCache
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   the weigher, or %NULL to weigh every entry 1
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Sets the function that weighs entries against
 * #NebulaComputeCache:max-weight. Set it before storing entries: the weight
 * of an entry is taken when it is stored.
 */
void
nebula_compute_cache_set_weigher (NebulaComputeCache *self,
                                  NebulaWeigherFunc   func,
                                  gpointer            user_data,
                                  GDestroyNotify      destroy)
{
  g_return_if_fail (NEBULA_IS_COMPUTE_CACHE (self));
  g_return_if_fail (self->keys == NEBULA_CACHE_KEYS_VARIANT);

  replace_weigher (self, NULL, NULL, NULL);
  if (self->object_weigher_destroy != NULL)
    self->object_weigher_destroy (self->object_weigher_data);
  self->object_weigher = func;
  self->object_weigher_data = user_data;
  self->object_weigher_destroy = destroy;
  if (func != NULL)
    replace_weigher (self, object_weigher_trampoline, self, NULL);
}

/**
 * nebula_compute_cache_set_pointer_weigher: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_full(),
 *   nebula_compute_cache_new_for_strings() or nebula_compute_cache_new_for_ints()
 * @func: (nullable): the weigher, or %NULL to weigh every entry 1; the key
 *   it gets is the string of a string cache, a pointer to the `gint64` of
 *   an integer cache
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * The weigher of caches with arbitrary keys and values.
 */
void
nebula_compute_cache_set_pointer_weigher (NebulaComputeCache       *self,
                                          NebulaPointerWeigherFunc  func,
                                          gpointer                  user_data,
                                          GDestroyNotify            destroy)
{
  g_return_if_fail (NEBULA_IS_COMPUTE_CACHE (self));
  g_return_if_fail (self->keys != NEBULA_CACHE_KEYS_VARIANT);

  replace_weigher (self, func, user_data, destroy);
}
