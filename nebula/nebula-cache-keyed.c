/* nebula-cache-keyed.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The C-only APIs of NebulaComputeCache: keys of any type with the
 * caller's functions (new_full() and the `_pointer` functions), and the
 * keyed API for strings and integers (new_for_strings(), new_for_ints(),
 * the `_string` and `_int` functions).
 */

#include "config.h"

#include "nebula-compute-cache-private.h"
#include "nebula-cache-access-private.h"
#include "nebula-cache-removal-private.h"
#include "nebula-enums.h"
#include "nebula-error-private.h"

static NebulaComputeCache *
new_valist (NebulaCacheKeys     keys,
            GHashFunc           hash_func,
            GEqualFunc          equal_func,
            GDestroyNotify      key_destroy,
            GDestroyNotify      value_destroy,
            const char         *first_property_name,
            va_list             args)
{
  NebulaComputeCache *self;

  self = (NebulaComputeCache *) g_object_new_valist (NEBULA_TYPE_COMPUTE_CACHE,
                                                     first_property_name, args);
  nebula_compute_cache_set_keys (self, keys, hash_func, equal_func, key_destroy, value_destroy);
  return self;
}

/**
 * nebula_compute_cache_new_full: (skip)
 * @hash_func: hashes a key
 * @equal_func: compares two keys
 * @key_destroy: (nullable): frees a key the cache owns
 * @value_destroy: (nullable): frees a value the cache owns
 * @first_property_name: (nullable): the name of the first property to set,
 *   as for g_object_new()
 * @...: its value, then more names and values, ending with %NULL
 *
 * Creates a cache with keys and values of any type, used through the
 * `_pointer` functions. #NebulaComputeCache::entry-removed is not emitted
 * by such a cache (its keys are no #GVariant); @key_destroy and
 * @value_destroy see every removal.
 *
 * |[<!-- language="C" -->
 * cache = nebula_compute_cache_new_full (g_direct_hash, g_direct_equal, NULL, NULL,
 *                                        "policy", NEBULA_EVICTION_POLICY_S3_FIFO,
 *                                        "max-entries", 1000,
 *                                        NULL);
 * ]|
 *
 * Returns: (transfer full): a new #NebulaComputeCache
 */
NebulaComputeCache *
nebula_compute_cache_new_full (GHashFunc       hash_func,
                               GEqualFunc      equal_func,
                               GDestroyNotify  key_destroy,
                               GDestroyNotify  value_destroy,
                               const char     *first_property_name,
                               ...)
{
  NebulaComputeCache *self;
  va_list args;

  g_return_val_if_fail (hash_func != NULL, NULL);

  va_start (args, first_property_name);
  self = new_valist (NEBULA_CACHE_KEYS_POINTER, hash_func, equal_func, key_destroy, value_destroy,
                     first_property_name, args);
  va_end (args);
  return self;
}

/**
 * nebula_compute_cache_new_for_strings: (skip)
 * @value_destroy: (nullable): frees a value the cache owns
 * @first_property_name: (nullable): the name of the first property to set,
 *   as for g_object_new()
 * @...: its value, then more names and values, ending with %NULL
 *
 * Creates a cache keyed by strings, used through the `_string` functions:
 * nebula_compute_cache_get_or_compute_string() and its siblings. The cache
 * hashes and compares the strings itself, looks them up without copying
 * them, and keeps a copy of the key of each entry it stores. Values are
 * pointers, freed with @value_destroy.
 *
 * #NebulaComputeCache::entry-removed is not emitted by such a cache;
 * @value_destroy sees every removal.
 *
 * |[<!-- language="C" -->
 * cache = nebula_compute_cache_new_for_strings (g_free,
 *                                               "policy", NEBULA_EVICTION_POLICY_LRU,
 *                                               "max-entries", 10000,
 *                                               NULL);
 * page = nebula_compute_cache_get_or_compute_string (cache, "/index.html", render_cb, NULL, &error);
 * ]|
 *
 * Returns: (transfer full): a new #NebulaComputeCache
 */
NebulaComputeCache *
nebula_compute_cache_new_for_strings (GDestroyNotify  value_destroy,
                                      const char     *first_property_name,
                                      ...)
{
  NebulaComputeCache *self;
  va_list args;

  va_start (args, first_property_name);
  self = new_valist (NEBULA_CACHE_KEYS_STRING, g_str_hash, NULL, g_free, value_destroy,
                     first_property_name, args);
  va_end (args);
  return self;
}

/**
 * nebula_compute_cache_new_for_ints: (skip)
 * @value_destroy: (nullable): frees a value the cache owns
 * @first_property_name: (nullable): the name of the first property to set,
 *   as for g_object_new()
 * @...: its value, then more names and values, ending with %NULL
 *
 * Creates a cache keyed by 64-bit integers, used through the `_int`
 * functions: nebula_compute_cache_get_or_compute_int() and its siblings.
 * Keys are kept in the entries, never boxed. Values are pointers, freed
 * with @value_destroy.
 *
 * #NebulaComputeCache::entry-removed is not emitted by such a cache;
 * @value_destroy sees every removal.
 *
 * |[<!-- language="C" -->
 * cache = nebula_compute_cache_new_for_ints (NULL,
 *                                            "policy", NEBULA_EVICTION_POLICY_S3_FIFO,
 *                                            "max-entries", 10000,
 *                                            NULL);
 * ]|
 *
 * Returns: (transfer full): a new #NebulaComputeCache
 */
NebulaComputeCache *
nebula_compute_cache_new_for_ints (GDestroyNotify  value_destroy,
                                   const char     *first_property_name,
                                   ...)
{
  NebulaComputeCache *self;
  va_list args;

  va_start (args, first_property_name);
  self = new_valist (NEBULA_CACHE_KEYS_INT, NULL, NULL, NULL, value_destroy,
                     first_property_name, args);
  va_end (args);
  return self;
}

/**
 * nebula_compute_cache_get_or_compute_pointer: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_full()
 * @key: the key; the cache takes it (it is stored, or freed with the key
 *   destroy function)
 * @func: (scope call): computes the value on a miss
 * @user_data: data for @func
 * @error: return location for an error
 *
 * The get-or-compute of caches with arbitrary keys and values.
 *
 * Returns: the value, owned by the cache (valid until its entry is
 *   removed), or %NULL with @error set
 */
gpointer
nebula_compute_cache_get_or_compute_pointer (NebulaComputeCache        *self,
                                             gpointer                   key,
                                             NebulaPointerComputeFunc   func,
                                             gpointer                   user_data,
                                             GError                   **error)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_POINTER, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return nebula_cache_access_get_or_compute (self, key, key, G_CALLBACK (func), user_data, error);
}

/**
 * nebula_compute_cache_get_pointer: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_full()
 * @key: the key
 *
 * Looks @key up. Counts a hit or a miss.
 *
 * Returns: (nullable): the value, owned by the cache, or %NULL
 */
gpointer
nebula_compute_cache_get_pointer (NebulaComputeCache *self,
                                  gconstpointer       key)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_POINTER, NULL);

  return nebula_cache_access_lookup (self, key, TRUE, NULL);
}

/**
 * nebula_compute_cache_insert_pointer: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_full()
 * @key: the key; the cache takes it
 * @value: the value; the cache takes it
 * @error: return location for an error
 *
 * Stores @value for @key. On failure both are freed with the destroy
 * functions.
 *
 * Returns: %TRUE if stored, %FALSE with %NEBULA_CACHE_ERROR_OVERFLOW
 */
gboolean
nebula_compute_cache_insert_pointer (NebulaComputeCache  *self,
                                     gpointer             key,
                                     gpointer             value,
                                     GError             **error)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_POINTER, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  return nebula_cache_access_insert (self, key, key, value, error);
}

/**
 * nebula_compute_cache_invalidate_pointer: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_full()
 * @key: the key
 *
 * Removes the entry of @key, if any.
 *
 * Returns: %TRUE if a live entry was removed
 */
gboolean
nebula_compute_cache_invalidate_pointer (NebulaComputeCache *self,
                                         gconstpointer       key)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_POINTER, FALSE);

  return nebula_cache_access_invalidate (self, key);
}

/**
 * nebula_compute_cache_get_or_compute_string: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_strings()
 * @key: the key; the cache copies it when it stores an entry
 * @func: (scope call): computes the value on a miss
 * @user_data: data for @func
 * @error: return location for an error
 *
 * Returns the live value stored for @key, or calls @func once, stores what
 * it returns and returns that. A hit neither copies nor allocates.
 *
 * Returns: the value, owned by the cache (valid until its entry is
 *   removed), or %NULL with @error set (%NEBULA_CACHE_ERROR_INVALID_KEY for
 *   a %NULL @key, %NEBULA_CACHE_ERROR_OVERFLOW, or the error of @func)
 */
gpointer
nebula_compute_cache_get_or_compute_string (NebulaComputeCache       *self,
                                            const char               *key,
                                            NebulaStringComputeFunc   func,
                                            gpointer                  user_data,
                                            GError                  **error)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_STRING, NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (key == NULL)
    {
      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY, NULL,
                        "The key is NULL; a string cache takes a string");
      return NULL;
    }

  return nebula_cache_access_get_or_compute (self, key, NULL, G_CALLBACK (func), user_data, error);
}

/**
 * nebula_compute_cache_get_string: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_strings()
 * @key: (nullable): the key
 *
 * Looks @key up without computing. Counts a hit or a miss; a %NULL @key
 * has no entry and counts nothing.
 *
 * Returns: (nullable): the value, owned by the cache, or %NULL
 */
gpointer
nebula_compute_cache_get_string (NebulaComputeCache *self,
                                 const char         *key)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_STRING, NULL);

  return key != NULL ? nebula_cache_access_lookup (self, key, TRUE, NULL) : NULL;
}

/**
 * nebula_compute_cache_insert_string: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_strings()
 * @key: the key; the cache copies it
 * @value: the value; the cache takes it
 * @error: return location for an error
 *
 * Stores @value for @key, replacing any value there. On failure @value is
 * freed with the value destroy function.
 *
 * Returns: %TRUE if stored, %FALSE with %NEBULA_CACHE_ERROR_INVALID_KEY
 *   (a %NULL @key), %NEBULA_CACHE_ERROR_FAILED (a %NULL @value) or
 *   %NEBULA_CACHE_ERROR_OVERFLOW
 */
gboolean
nebula_compute_cache_insert_string (NebulaComputeCache  *self,
                                    const char          *key,
                                    gpointer             value,
                                    GError             **error)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_STRING, FALSE);

  if (key == NULL || value == NULL)
    {
      if (key == NULL)
        nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY, NULL,
                          "The key is NULL; a string cache takes a string");
      else
        nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                          "The value is NULL; a cache stores values, not their absence");
      nebula_cache_removal_free_data (self, NULL, value);
      return FALSE;
    }

  return nebula_cache_access_insert (self, key, NULL, value, error);
}

/**
 * nebula_compute_cache_invalidate_string: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_strings()
 * @key: (nullable): the key
 *
 * Removes the entry of @key, if any.
 *
 * Returns: %TRUE if a live entry was removed
 */
gboolean
nebula_compute_cache_invalidate_string (NebulaComputeCache *self,
                                        const char         *key)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_STRING, FALSE);

  return key != NULL && nebula_cache_access_invalidate (self, key);
}

/**
 * nebula_compute_cache_get_or_compute_int: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_ints()
 * @key: the key
 * @func: (scope call): computes the value on a miss
 * @user_data: data for @func
 * @error: return location for an error
 *
 * Returns the live value stored for @key, or calls @func once, stores what
 * it returns and returns that.
 *
 * Returns: the value, owned by the cache (valid until its entry is
 *   removed), or %NULL with @error set (%NEBULA_CACHE_ERROR_OVERFLOW or
 *   the error of @func)
 */
gpointer
nebula_compute_cache_get_or_compute_int (NebulaComputeCache    *self,
                                         gint64                 key,
                                         NebulaIntComputeFunc   func,
                                         gpointer               user_data,
                                         GError               **error)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_INT, NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return nebula_cache_access_get_or_compute (self, &key, NULL, G_CALLBACK (func), user_data, error);
}

/**
 * nebula_compute_cache_get_int: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_ints()
 * @key: the key
 *
 * Looks @key up without computing. Counts a hit or a miss.
 *
 * Returns: (nullable): the value, owned by the cache, or %NULL
 */
gpointer
nebula_compute_cache_get_int (NebulaComputeCache *self,
                              gint64              key)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), NULL);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_INT, NULL);

  return nebula_cache_access_lookup (self, &key, TRUE, NULL);
}

/**
 * nebula_compute_cache_insert_int: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_ints()
 * @key: the key
 * @value: the value; the cache takes it
 * @error: return location for an error
 *
 * Stores @value for @key, replacing any value there. On failure @value is
 * freed with the value destroy function.
 *
 * Returns: %TRUE if stored, %FALSE with %NEBULA_CACHE_ERROR_FAILED (a
 *   %NULL @value) or %NEBULA_CACHE_ERROR_OVERFLOW
 */
gboolean
nebula_compute_cache_insert_int (NebulaComputeCache  *self,
                                 gint64               key,
                                 gpointer             value,
                                 GError             **error)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_INT, FALSE);

  if (value == NULL)
    {
      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED, NULL,
                        "The value is NULL; a cache stores values, not their absence");
      return FALSE;
    }

  return nebula_cache_access_insert (self, &key, NULL, value, error);
}

/**
 * nebula_compute_cache_invalidate_int: (skip)
 * @self: a #NebulaComputeCache made by nebula_compute_cache_new_for_ints()
 * @key: the key
 *
 * Removes the entry of @key, if any.
 *
 * Returns: %TRUE if a live entry was removed
 */
gboolean
nebula_compute_cache_invalidate_int (NebulaComputeCache *self,
                                     gint64              key)
{
  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), FALSE);
  g_return_val_if_fail (self->keys == NEBULA_CACHE_KEYS_INT, FALSE);

  return nebula_cache_access_invalidate (self, &key);
}

