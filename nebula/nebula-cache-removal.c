/* nebula-cache-removal.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What happens to the entries that left a compute cache: after the lock is
 * released, the entry-removed signal announces each, then their keys and
 * values are freed.
 */

#include "config.h"

#include "nebula-cache-removal-private.h"
#include "nebula-cache-key-private.h"
#include "nebula-enums.h"

enum {
  ENTRY_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Runs outside the lock: handlers may call back into the cache. */
void
nebula_cache_removal_flush_slow (NebulaComputeCache *self,
                                 Graveyard          *graveyard)
{
  gboolean emit = self->keys == NEBULA_CACHE_KEYS_VARIANT &&
                  g_signal_has_handler_pending (self, signals[ENTRY_REMOVED], 0, FALSE);

  for (guint i = 0; i < graveyard->n; i++)
    {
      Removal *removal = i < G_N_ELEMENTS (graveyard->first)
                         ? &graveyard->first[i]
                         : &g_array_index (graveyard->more, Removal, i - G_N_ELEMENTS (graveyard->first));

      /* A GVariant key of a fixed-size type was kept as its bits: the
       * handlers get an equal variant, and there is no key to free. */
      gboolean bits = self->keys == NEBULA_CACHE_KEYS_VARIANT && removal->key_type != '(' &&
                      !nebula_cache_is_string_type (removal->key_type);
      gpointer key = bits ? NULL : removal->key;

      if (emit)
        {
          g_autoptr(GVariant) rebuilt = NULL;

          if (bits)
            rebuilt = g_variant_ref_sink (nebula_cache_key_from_bits (removal->key_type,
                                                                      (guint64) removal->key_bits));
          g_signal_emit (self, signals[ENTRY_REMOVED], 0, bits ? rebuilt : key, removal->value,
                         removal->cause);
        }
      nebula_cache_removal_free_data (self, key, removal->value);
    }
  graveyard->n = 0;
  g_clear_pointer (&graveyard->more, g_array_unref);
}

void
nebula_cache_removal_class_init (NebulaComputeCacheClass *klass)
{
  /**
   * NebulaComputeCache::entry-removed:
   * @self: the cache
   * @key: the key of the entry; for a key of a fixed-size type (which the
   *   cache keeps as its value) a new variant equal to it, of the same type
   *   and bytes
   * @value: the value of the entry
   * @cause: why it left
   *
   * Emitted after an entry left the cache, outside the cache's lock, in the
   * thread that removed it. Not emitted by caches made with
   * nebula_compute_cache_new_full(), nebula_compute_cache_new_for_strings()
   * or nebula_compute_cache_new_for_ints().
   */
  signals[ENTRY_REMOVED] =
    g_signal_new ("entry-removed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3,
                  G_TYPE_VARIANT | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_OBJECT,
                  NEBULA_TYPE_REMOVAL_CAUSE);
}
