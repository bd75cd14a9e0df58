/* nebula-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "nebula-context.h"
#include "nebula-enums.h"
#include "nebula-error-private.h"

/* Both domains share one detail record. */
typedef struct
{
  guint64  requested;
  guint64  available;
  guint64  capacity;
  char    *what;              /* "Pool allocator 'records'" */
  char    *allocator_name;    /* "records" */
  char    *context;
  char    *suggestion;
  gboolean has_detail;
  /* Set by nebula_set_error(): FALSE in an error a binding rebuilt from
   * its domain, code and message, whose detail is then looked up among
   * the thread's recent errors. */
  gboolean raised;
} NebulaErrorDetail;

typedef NebulaErrorDetail NebulaAllocatorErrorPrivate;
typedef NebulaErrorDetail NebulaCacheErrorPrivate;

static void
nebula_error_detail_init (NebulaErrorDetail *detail)
{
  memset (detail, 0, sizeof *detail);
}

static void
nebula_error_detail_copy (const NebulaErrorDetail *src,
                          NebulaErrorDetail       *dest)
{
  dest->requested = src->requested;
  dest->available = src->available;
  dest->capacity = src->capacity;
  dest->what = g_strdup (src->what);
  dest->allocator_name = g_strdup (src->allocator_name);
  dest->context = g_strdup (src->context);
  dest->suggestion = g_strdup (src->suggestion);
  dest->has_detail = src->has_detail;
  dest->raised = src->raised;
}

static void
nebula_error_detail_clear (NebulaErrorDetail *detail)
{
  g_clear_pointer (&detail->what, g_free);
  g_clear_pointer (&detail->allocator_name, g_free);
  g_clear_pointer (&detail->context, g_free);
  g_clear_pointer (&detail->suggestion, g_free);
}

static void
nebula_allocator_error_private_init (NebulaAllocatorErrorPrivate *priv)
{
  nebula_error_detail_init (priv);
}

static void
nebula_allocator_error_private_copy (const NebulaAllocatorErrorPrivate *src,
                                     NebulaAllocatorErrorPrivate       *dest)
{
  nebula_error_detail_copy (src, dest);
}

static void
nebula_allocator_error_private_clear (NebulaAllocatorErrorPrivate *priv)
{
  nebula_error_detail_clear (priv);
}

static void
nebula_cache_error_private_init (NebulaCacheErrorPrivate *priv)
{
  nebula_error_detail_init (priv);
}

static void
nebula_cache_error_private_copy (const NebulaCacheErrorPrivate *src,
                                 NebulaCacheErrorPrivate       *dest)
{
  nebula_error_detail_copy (src, dest);
}

static void
nebula_cache_error_private_clear (NebulaCacheErrorPrivate *priv)
{
  nebula_error_detail_clear (priv);
}

/* G_DEFINE_EXTENDED_ERROR finds the private data by adding a byte offset to
 * the GError pointer, a cast clang's -Wcast-align flags. GLib places that
 * data at an offset aligned for any struct (2 * sizeof (gsize)), so the
 * cast is sound. */
#define NEBULA_EXTENDED_ERROR_BEGIN \
  _Pragma ("GCC diagnostic push") \
  _Pragma ("GCC diagnostic ignored \"-Wcast-align\"")
#define NEBULA_EXTENDED_ERROR_END \
  _Pragma ("GCC diagnostic pop")

/**
 * nebula_allocator_error_quark:
 *
 * The quark of %NEBULA_ALLOCATOR_ERROR.
 *
 * Returns: the error domain
 */
NEBULA_EXTENDED_ERROR_BEGIN
G_DEFINE_EXTENDED_ERROR (NebulaAllocatorError, nebula_allocator_error)
NEBULA_EXTENDED_ERROR_END

/**
 * nebula_cache_error_quark:
 *
 * The quark of %NEBULA_CACHE_ERROR.
 *
 * Returns: the error domain
 */
NEBULA_EXTENDED_ERROR_BEGIN
G_DEFINE_EXTENDED_ERROR (NebulaCacheError, nebula_cache_error)
NEBULA_EXTENDED_ERROR_END

typedef struct
{
  gint        code;
  gboolean    retryable;
  const char *suggestion;
} CatalogueEntry;

/* Keep in step with docs/errors.md; tests/c/test-error.c checks that every
 * code has an entry here and a section there. */
static const CatalogueEntry allocator_catalogue[] = {
  { NEBULA_ALLOCATOR_ERROR_FAILED, FALSE,
    "Check the message for the operation that failed and report it if it persists." },
  { NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY, TRUE,
    "The system refused memory: free memory elsewhere or lower the capacity." },
  { NEBULA_ALLOCATOR_ERROR_INVALID_LAYOUT, FALSE,
    "Request a size and alignment the allocator serves (for a pool, at most its block size and block alignment), and free with the layout you allocated with." },
  { NEBULA_ALLOCATOR_ERROR_INVALID_ALIGNMENT, FALSE,
    "Use a power of two as alignment, such as 8 or G_ALIGNOF (type)." },
  { NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW, FALSE,
    "The size computation overflowed: check the element count and size, or use nebula_allocator_new() which checks them." },
  { NEBULA_ALLOCATOR_ERROR_EXCEEDS_MAX_SIZE, FALSE,
    "Request less than G_MAXSSIZE bytes; split very large buffers." },
  { NEBULA_ALLOCATOR_ERROR_EXHAUSTED, TRUE,
    "Free or reset the allocator, or configure a larger capacity or a max-capacity to let it grow." },
  { NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, FALSE,
    "Free a pointer only through the allocator that returned it, at the address it returned." },
  { NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE, FALSE,
    "The block was already freed: clear your pointer after freeing it (g_clear_pointer)." },
  { NEBULA_ALLOCATOR_ERROR_OUT_OF_ORDER, FALSE,
    "A stack frees in LIFO order: free the most recent allocation first, or release to a marker." },
  { NEBULA_ALLOCATOR_ERROR_STALE_MARKER, FALSE,
    "Take a new checkpoint or marker: this one belongs to another allocator, predates a reset, or lies above the current top." },
  { NEBULA_ALLOCATOR_ERROR_BUDGET_EXCEEDED, TRUE,
    "Release memory charged to the budget or raise its limit." },
  { NEBULA_ALLOCATOR_ERROR_INVALID_CONFIG, FALSE,
    "Fix the named property; construct with nebula_*_allocator_new() or g_initable_new() so the configuration is checked." },
  { NEBULA_ALLOCATOR_ERROR_NOT_SUPPORTED, FALSE,
    "Use an allocator that supports this operation (see docs/choosing.md)." },
  { NEBULA_ALLOCATOR_ERROR_CORRUPTION, FALSE,
    "Memory outside an allocation was overwritten: run the program under AddressSanitizer or Valgrind to find the write." },
};

static const CatalogueEntry cache_catalogue[] = {
  { NEBULA_CACHE_ERROR_FAILED, FALSE,
    "Check the message for the operation that failed." },
  { NEBULA_CACHE_ERROR_CIRCUIT_OPEN, TRUE,
    "The key failed too often: wait for the open-duration to pass, then retry; fix the failing computation." },
  { NEBULA_CACHE_ERROR_BUSY, TRUE,
    "Too many computations are waiting: retry later, or raise max-concurrent or max-queued." },
  { NEBULA_CACHE_ERROR_INVALID_KEY, FALSE,
    "Use a non-NULL GVariant of a basic type (or a tuple of them) as the key." },
  { NEBULA_CACHE_ERROR_OVERFLOW, FALSE,
    "The value weighs more than the whole cache may hold: raise max-weight or do not cache it." },
};

static const CatalogueEntry *
catalogue_lookup (GQuark domain,
                  gint   code)
{
  const CatalogueEntry *table = NULL;
  gsize n = 0;

  if (domain == NEBULA_ALLOCATOR_ERROR)
    {
      table = allocator_catalogue;
      n = G_N_ELEMENTS (allocator_catalogue);
    }
  else if (domain == NEBULA_CACHE_ERROR)
    {
      table = cache_catalogue;
      n = G_N_ELEMENTS (cache_catalogue);
    }

  for (gsize i = 0; i < n; i++)
    if (table[i].code == code)
      return &table[i];

  return NULL;
}

const char *
nebula_error_catalogue_suggestion (GQuark domain,
                                   gint   code)
{
  const CatalogueEntry *entry = catalogue_lookup (domain, code);

  return entry != NULL ? entry->suggestion : NULL;
}

gboolean
nebula_error_catalogue_retryable (GQuark domain,
                                  gint   code)
{
  const CatalogueEntry *entry = catalogue_lookup (domain, code);

  return entry != NULL && entry->retryable;
}

/* Recent errors ------------------------------------------------------------
 *
 * PyGObject turns a GError into a Python exception that keeps only its
 * domain, code and message, and rebuilds a plain GError from those three
 * when the exception is passed back to C: the extended detail is gone by
 * the time a script asks nebula_error_get_suggestion(). Each thread keeps
 * the detail of its most recent errors, keyed by domain, code and message,
 * and a detail-less error finds its own there. A script asks right after
 * the call that failed, on the same thread; a message carries the numbers
 * and the allocator's name, so two errors with the same key have the same
 * detail. */

#define RECENT_ERRORS 16

typedef struct
{
  GQuark             domain;
  gint               code;
  char              *message;
  NebulaErrorDetail  detail;
} RecentError;

typedef struct
{
  RecentError entries[RECENT_ERRORS];
  guint       next;
} RecentErrors;

static void
recent_errors_free (gpointer data)
{
  RecentErrors *recent = data;

  for (guint i = 0; i < RECENT_ERRORS; i++)
    {
      g_free (recent->entries[i].message);
      nebula_error_detail_clear (&recent->entries[i].detail);
    }
  g_free (recent);
}

static GPrivate recent_errors_key = G_PRIVATE_INIT (recent_errors_free);

static RecentErrors *
get_recent_errors (void)
{
  RecentErrors *recent = g_private_get (&recent_errors_key);

  if (recent == NULL)
    {
      recent = g_new0 (RecentErrors, 1);
      g_private_set (&recent_errors_key, recent);
    }
  return recent;
}

static RecentError *
recent_errors_find (RecentErrors *recent,
                    const GError *error)
{
  /* Newest first: the error a script asks about is usually the last one. */
  for (guint i = 1; i <= RECENT_ERRORS; i++)
    {
      RecentError *entry = &recent->entries[(recent->next + RECENT_ERRORS - i) % RECENT_ERRORS];

      if (entry->message != NULL && entry->domain == error->domain &&
          entry->code == error->code && g_strcmp0 (entry->message, error->message) == 0)
        return entry;
    }
  return NULL;
}

static void
recent_errors_remember (const GError            *error,
                        const NebulaErrorDetail *detail)
{
  RecentErrors *recent = get_recent_errors ();
  RecentError *entry;

  /* A copy of an error already kept (the error of one computation handed
   * to each of its waiters) takes no second entry. */
  if (recent_errors_find (recent, error) != NULL)
    return;

  entry = &recent->entries[recent->next];
  recent->next = (recent->next + 1) % RECENT_ERRORS;

  g_free (entry->message);
  nebula_error_detail_clear (&entry->detail);
  entry->domain = error->domain;
  entry->code = error->code;
  entry->message = g_strdup (error->message);
  nebula_error_detail_copy (detail, &entry->detail);
}

static NebulaErrorDetail *
get_private (const GError *error)
{
  if (error == NULL)
    return NULL;
  if (error->domain == NEBULA_ALLOCATOR_ERROR)
    return nebula_allocator_error_get_private (error);
  if (error->domain == NEBULA_CACHE_ERROR)
    return nebula_cache_error_get_private (error);
  return NULL;
}

/* The detail of @error; for an error a binding rebuilt, the detail of the
 * recent error it was rebuilt from, copied into @error so that the strings
 * returned live as long as @error does. */
static NebulaErrorDetail *
get_detail (const GError *error)
{
  NebulaErrorDetail *detail = get_private (error);
  RecentErrors *recent;
  RecentError *entry;

  if (detail == NULL || detail->raised)
    return detail;

  recent = g_private_get (&recent_errors_key);
  entry = recent != NULL ? recent_errors_find (recent, error) : NULL;
  if (entry != NULL)
    {
      nebula_error_detail_clear (detail);
      nebula_error_detail_copy (&entry->detail, detail);
    }
  return detail;
}

/* "records" from "Pool allocator 'records'": the name is what stands
 * between the first quote and the closing one (a name may hold quotes);
 * an object without a name is described without quotes, and has none. */
static char *
name_of (const char *what)
{
  const char *open;
  gsize len;

  if (what == NULL || (open = strchr (what, '\'')) == NULL)
    return NULL;
  len = strlen (open + 1);
  if (len == 0 || open[len] != '\'')
    return NULL;
  return g_strndup (open + 1, len - 1);
}

void
nebula_set_error (GError                **error,
                  GQuark                  domain,
                  gint                    code,
                  const NebulaErrorInfo  *info,
                  const char             *format,
                  ...)
{
  g_autofree char *message = NULL;
  g_autofree char *context = NULL;
  NebulaErrorDetail *detail;
  GError *new_error;
  va_list args;

  if (error == NULL)
    return;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

#if NEBULA_ENABLE_ERROR_CONTEXT
  context = nebula_context_get_path ();
#endif
  if (context != NULL)
    new_error = g_error_new (domain, code, "%s (in %s)", message, context);
  else
    new_error = g_error_new_literal (domain, code, message);

  detail = get_private (new_error);
  if (detail != NULL)
    {
      detail->raised = TRUE;
      detail->context = g_steal_pointer (&context);
      if (info != NULL)
        {
          detail->has_detail = TRUE;
          detail->requested = info->requested;
          detail->available = info->available;
          detail->capacity = info->capacity;
          detail->what = g_strdup (info->what);
          detail->allocator_name = name_of (info->what);
          detail->suggestion = g_strdup (info->suggestion);
        }
      recent_errors_remember (new_error, detail);
    }

  g_propagate_error (error, new_error);
}

/**
 * nebula_error_get_suggestion:
 * @error: a #GError
 *
 * Tells what to do about @error. The suggestion the allocator recorded for
 * this very error is returned when the error still carries its detail. An
 * error a language binding rebuilt from its domain, code and message (as
 * PyGObject does) finds the detail of the error it was rebuilt from if
 * that is among the 16 most recent errors of the calling thread; otherwise
 * the catalogue's suggestion for the domain and code is returned.
 *
 * Returns: (nullable): the suggestion, or %NULL for errors of other domains
 */
const char *
nebula_error_get_suggestion (const GError *error)
{
  NebulaErrorDetail *detail;

  g_return_val_if_fail (error != NULL, NULL);

  detail = get_detail (error);
  if (detail != NULL && detail->suggestion != NULL)
    return detail->suggestion;

  return nebula_error_catalogue_suggestion (error->domain, error->code);
}

/**
 * nebula_error_is_retryable:
 * @error: a #GError
 *
 * Classifies @error: %TRUE when the same request may succeed later without
 * a change to the program (an exhausted allocator after a reset, a budget
 * after a release, a busy cache), %FALSE for mistakes that will fail again.
 *
 * Returns: whether retrying can succeed
 */
gboolean
nebula_error_is_retryable (const GError *error)
{
  g_return_val_if_fail (error != NULL, FALSE);

  return nebula_error_catalogue_retryable (error->domain, error->code);
}

/**
 * nebula_error_has_detail:
 * @error: a #GError
 *
 * Whether @error carries the numbers of the failed request (requested,
 * available, capacity, allocator name). An error a language binding
 * rebuilt has them while it is among the 16 most recent errors of the
 * thread (see nebula_error_get_suggestion()); its message states the
 * numbers in any case.
 *
 * Returns: %TRUE if the extended detail is present
 */
gboolean
nebula_error_has_detail (const GError *error)
{
  NebulaErrorDetail *detail;

  g_return_val_if_fail (error != NULL, FALSE);

  detail = get_detail (error);
  return detail != NULL && detail->has_detail;
}

/**
 * nebula_error_get_requested:
 * @error: a #GError
 *
 * The number of bytes (or blocks, or entries) the failed request asked for.
 *
 * Returns: the requested amount, or 0 if unknown
 */
guint64
nebula_error_get_requested (const GError *error)
{
  NebulaErrorDetail *detail;

  g_return_val_if_fail (error != NULL, 0);

  detail = get_detail (error);
  return detail != NULL ? detail->requested : 0;
}

/**
 * nebula_error_get_available:
 * @error: a #GError
 *
 * How much was available when the request failed.
 *
 * Returns: the available amount, or 0 if unknown
 */
guint64
nebula_error_get_available (const GError *error)
{
  NebulaErrorDetail *detail;

  g_return_val_if_fail (error != NULL, 0);

  detail = get_detail (error);
  return detail != NULL ? detail->available : 0;
}

/**
 * nebula_error_get_capacity:
 * @error: a #GError
 *
 * The capacity of the allocator (or budget limit) that refused the request.
 *
 * Returns: the capacity, or 0 if unknown
 */
guint64
nebula_error_get_capacity (const GError *error)
{
  NebulaErrorDetail *detail;

  g_return_val_if_fail (error != NULL, 0);

  detail = get_detail (error);
  return detail != NULL ? detail->capacity : 0;
}

/**
 * nebula_error_get_allocator_name:
 * @error: a #GError
 *
 * The name of the allocator (or budget, or cache) that raised @error: its
 * `name` property, such as "records" for a pool the message calls "Pool
 * allocator 'records'".
 *
 * Returns: (nullable): the name, or %NULL if the object has no name or
 *   @error carries no detail
 */
const char *
nebula_error_get_allocator_name (const GError *error)
{
  NebulaErrorDetail *detail;

  g_return_val_if_fail (error != NULL, NULL);

  detail = get_detail (error);
  return detail != NULL ? detail->allocator_name : NULL;
}

/**
 * nebula_error_get_context:
 * @error: a #GError
 *
 * The call-site path that was active when @error was raised, as pushed with
 * NEBULA_ALLOC_CONTEXT(), such as "handle_client > parse_request".
 *
 * Returns: (nullable): the path, or %NULL when no context was active
 */
const char *
nebula_error_get_context (const GError *error)
{
  NebulaErrorDetail *detail;

  g_return_val_if_fail (error != NULL, NULL);

  detail = get_detail (error);
  return detail != NULL ? detail->context : NULL;
}

/* "NEBULA_ALLOCATOR_ERROR_EXHAUSTED": the heading in docs/errors.md. */
static const char *
code_name_of (const GError *error)
{
  g_autoptr(GEnumClass) klass = NULL;
  GEnumValue *value;

  if (error->domain == NEBULA_ALLOCATOR_ERROR)
    klass = g_type_class_ref (NEBULA_TYPE_ALLOCATOR_ERROR);
  else if (error->domain == NEBULA_CACHE_ERROR)
    klass = g_type_class_ref (NEBULA_TYPE_CACHE_ERROR);
  else
    return NULL;

  /* Enum classes of static types are never freed: the name outlives the
   * reference. */
  value = g_enum_get_value (klass, error->code);
  return value != NULL ? value->value_name : NULL;
}

/**
 * nebula_error_format:
 * @error: a #GError
 *
 * Renders @error for a terminal, one fact per line: what happened (the
 * message), the code (its section in docs/errors.md), the allocator and
 * the numbers it recorded (a number an error does not concern, such as
 * the capacity behind a bad pointer, is left out) when @error still
 * carries its detail, the call-site path
 * (NEBULA_ALLOC_CONTEXT()) and what to do:
 *
 * |[
 * error: Bump allocator 'tiny' is exhausted: requested 128 bytes, 64 of 64 available (alignment 8) (in handle_client > parse_request)
 *   code: NEBULA_ALLOCATOR_ERROR_EXHAUSTED (see docs/errors.md)
 *   allocator: Bump allocator 'tiny'
 *   requested: 128, available: 64, capacity: 64
 *   in: handle_client > parse_request
 *   help: Free or reset the allocator, or configure a larger capacity or a max-capacity to let it grow.
 * ]|
 *
 * An error that crossed a language binding and whose detail is no longer
 * among the thread's recent errors renders the message (which carries the
 * numbers and the path), the code and the catalogue's suggestion.
 *
 * Returns: (transfer full): a newly allocated, multi-line string
 */
char *
nebula_error_format (const GError *error)
{
  NebulaErrorDetail *detail;
  const char *suggestion;
  const char *code_name;
  GString *str;

  g_return_val_if_fail (error != NULL, NULL);

  str = g_string_new (NULL);
  g_string_append_printf (str, "error: %s\n", error->message);

  code_name = code_name_of (error);
  if (code_name != NULL)
    g_string_append_printf (str, "  code: %s (see docs/errors.md)\n", code_name);

  detail = get_detail (error);
  if (detail != NULL && detail->has_detail)
    {
      g_autoptr(GString) numbers = g_string_new (NULL);

      if (detail->what != NULL)
        g_string_append_printf (str, "  allocator: %s\n", detail->what);
      /* Only the numbers the error recorded: a bad pointer has a size but
       * no capacity, and "capacity: 0" would read as a fact. A capacity
       * of 0 means none was recorded (no allocator has one). */
      if (detail->requested != 0)
        g_string_append_printf (numbers, ", requested: %" G_GUINT64_FORMAT, detail->requested);
      if (detail->capacity != 0)
        g_string_append_printf (numbers,
                                ", available: %" G_GUINT64_FORMAT ", capacity: %" G_GUINT64_FORMAT,
                                detail->available, detail->capacity);
      if (numbers->len > 0)
        g_string_append_printf (str, "  %s\n", numbers->str + 2);
    }
  if (detail != NULL && detail->context != NULL)
    g_string_append_printf (str, "  in: %s\n", detail->context);

  suggestion = nebula_error_get_suggestion (error);
  if (suggestion != NULL)
    g_string_append_printf (str, "  help: %s\n", suggestion);

  return g_string_free (str, FALSE);
}

char *
nebula_allocator_describe (NebulaAllocator *self)
{
  const char *type_name = G_OBJECT_TYPE_NAME (self);
  g_autofree char *name = NULL;
  g_autofree char *label = NULL;
  gsize len;

  if (g_str_has_prefix (type_name, "Nebula"))
    type_name += strlen ("Nebula");

  len = strlen (type_name);
  if (len > strlen ("Allocator") && g_str_has_suffix (type_name, "Allocator"))
    label = g_strdup_printf ("%.*s allocator", (int) (len - strlen ("Allocator")), type_name);
  else
    label = g_strdup (type_name);

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (self), "name") != NULL)
    name = nebula_allocator_dup_name (self);
  if (name != NULL && name[0] != '\0')
    return g_strdup_printf ("%s '%s'", label, name);

  return g_steal_pointer (&label);
}
