/* nebula-bump-report.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-bump-allocator-private.h"

/* What the chunks of a bump allocator hold, read without changing them:
 * the bytes used and available (properties), the report's Bump part and
 * the span check of scripts. */

/* Called with the grow lock held in thread-safe mode: other threads add
 * chunks, and free dedicated ones. */
static gsize
bytes_used_locked (NebulaBumpAllocator *self)
{
  gsize used = self->used_before;

  if (self->current == NULL)
    return 0;

  /* Thread-safe mode: every chunk's counter, which counts the threads'
   * slices wholly, less what the slices have not handed out. Exact when
   * no thread allocates meanwhile; the unused end of a slice that a
   * checkpoint voided counts as used. */
  if (self->config.thread_safe)
    {
      used = 0;
      for (Chunk *chunk = self->current; chunk != NULL; chunk = chunk->prev)
        used += nebula_bump_chunk_used (chunk, TRUE);
      used -= MIN (used, nebula_bump_thread_tails (self));
    }
  else
    used += nebula_bump_chunk_position (self, self->current);

  for (Chunk *chunk = self->large; chunk != NULL; chunk = chunk->prev)
    used += chunk->size;

  return used;
}

static gsize
bytes_available_locked (NebulaBumpAllocator *self)
{
  gsize in_current, room;

  if (self->current == NULL)
    return 0;

  in_current = nebula_bump_chunk_current_available (self);
  /* What the threads' slices have not handed out yet, each to its own
   * thread. */
  if (self->config.thread_safe)
    in_current += nebula_bump_thread_tails (self);
  room = self->max_capacity > self->reserved ? self->max_capacity - self->reserved : 0;
  for (Chunk *chunk = self->spare; chunk != NULL; chunk = chunk->prev)
    room += chunk->size;

  return in_current + room;
}

gsize
nebula_bump_report_bytes_used (NebulaBumpAllocator *self)
{
  gsize used;

  if (!self->config.thread_safe)
    return bytes_used_locked (self);

  nebula_mutex_lock (&self->grow_lock);
  used = bytes_used_locked (self);
  nebula_mutex_unlock (&self->grow_lock);

  return used;
}

gsize
nebula_bump_report_bytes_available (NebulaBumpAllocator *self)
{
  gsize available;

  if (!self->config.thread_safe)
    return bytes_available_locked (self);

  nebula_mutex_lock (&self->grow_lock);
  available = bytes_available_locked (self);
  nebula_mutex_unlock (&self->grow_lock);

  return available;
}

static GVariant *
chunk_to_variant (const char *kind,
                  gsize       size,
                  gsize       used,
                  gboolean    current)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "kind", "s", kind);
  g_variant_dict_insert (&dict, "size", "t", (guint64) size);
  g_variant_dict_insert (&dict, "used", "t", (guint64) used);
  g_variant_dict_insert (&dict, "current", "b", current);

  return g_variant_dict_end (&dict);
}

/* The report's Bump part: the chunks, oldest regular chunk last. */
void
nebula_bump_report (NebulaAllocator *allocator,
                    GVariantDict    *report)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;
  gboolean atomic = self->config.thread_safe;
  GVariantBuilder chunks;
  gsize stranded = 0;

  if (!nebula_bump_ensure_ready (self, NULL))
    return;

  g_variant_builder_init (&chunks, G_VARIANT_TYPE ("aa{sv}"));

  if (atomic)
    nebula_mutex_lock (&self->grow_lock);

  for (Chunk *chunk = self->current; chunk != NULL; chunk = chunk->prev)
    {
      gsize used = chunk == self->current && !atomic
        ? (gsize) (self->fast.cursor - chunk->data)
        : nebula_bump_chunk_used (chunk, atomic);

      /* The cursor never returns to an older chunk before a reset or
       * restore: its free tail serves nothing. */
      if (chunk != self->current)
        stranded += chunk->size - used;
      g_variant_builder_add_value (&chunks, chunk_to_variant ("regular", chunk->size, used,
                                                              chunk == self->current));
    }
  for (Chunk *chunk = self->spare; chunk != NULL; chunk = chunk->prev)
    g_variant_builder_add_value (&chunks, chunk_to_variant ("spare", chunk->size, 0, FALSE));
  for (Chunk *chunk = self->large; chunk != NULL; chunk = chunk->prev)
    g_variant_builder_add_value (&chunks, chunk_to_variant ("dedicated", chunk->size, chunk->size,
                                                            FALSE));

  g_variant_dict_insert (report, "reserved", "t", (guint64) self->reserved);
  /* A chunk's "used" counts the threads' slices wholly; this much of them
   * is not handed out yet. */
  if (atomic)
    g_variant_dict_insert (report, "thread-slice-free", "t",
                           (guint64) nebula_bump_thread_tails (self));
  g_variant_dict_insert (report, "fragmentation", "d",
                         self->reserved != 0 ? (double) stranded / (double) self->reserved : 0.0);

  if (atomic)
    nebula_mutex_unlock (&self->grow_lock);

  g_variant_dict_insert_value (report, "chunks", g_variant_builder_end (&chunks));
}

/* The span check for scripts (nebula-allocator-script-private.h). A bump
 * allocator does not know where its blocks end: a span must lie in the
 * used part of one regular chunk, or in one dedicated chunk's block. A
 * free only needs its start there: it rewinds nothing but the most recent
 * block, whose size it checks, and accepts a larger size elsewhere (the
 * statistics then carry a deficit), touching no memory. */
NebulaSpanResult
nebula_bump_report_span (NebulaAllocator *allocator,
                         guintptr         start,
                         gsize            size,
                         NebulaSpanKind   kind,
                         gsize           *block_size)
{
  NebulaBumpAllocator *self = (NebulaBumpAllocator *) allocator;
  gboolean atomic, inside = FALSE;
  gconstpointer ptr = GSIZE_TO_POINTER (start);
  Chunk *chunk;

  if (!nebula_bump_ensure_ready (self, NULL))
    return NEBULA_SPAN_NOT_READY;

  atomic = self->config.thread_safe;
  if (atomic)
    nebula_mutex_lock (&self->grow_lock);

  if ((chunk = nebula_bump_chunk_find (self->large, ptr)) != NULL ||
      (chunk = nebula_bump_chunk_find (self->current, ptr)) != NULL)
    {
      const guint8 *end = chunk->data + nebula_bump_chunk_used (chunk, atomic);

      if (chunk == self->current && !atomic)
        end = self->fast.cursor;
      else if (atomic && !chunk->dedicated)
        end = nebula_bump_thread_handed_out_end (self, ptr, end);
      inside = nebula_span_within (start, kind == NEBULA_SPAN_FREE ? 1 : size, chunk->data, end);
    }

  if (atomic)
    nebula_mutex_unlock (&self->grow_lock);

  if (inside && kind == NEBULA_SPAN_FREE)
    return NEBULA_SPAN_DEFER;

  return inside ? NEBULA_SPAN_OK : NEBULA_SPAN_FOREIGN;
}
