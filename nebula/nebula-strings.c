/* nebula-strings.c: strings and bytes copied into any allocator
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "nebula-allocator-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-bump-allocator-private.h"
#include "nebula-strings-private.h"

/* A formatted string this short is formatted once into the C stack and
 * copied, whatever the allocator. */
#define SHORT_FORMAT_SIZE 256

static guint format_passes;

guint
nebula_strings_get_format_passes (void)
{
  return g_atomic_int_get (&format_passes);
}

/* The quick formatter: the conversions request handlers use most (%s,
 * %.*s, %d, %i, %u, %x, %c, %%, with the l, ll and z length modifiers,
 * no flags or widths), written straight into the room it is given, which
 * costs a fraction of setting up printf(). Like vsnprintf() it returns the
 * length of the whole text, writing what fits (and a nul byte when all of
 * it does); a format with anything else, or a NULL string, gives
 * QUICK_UNSUPPORTED as soon as it is met (what was written and read until
 * then is thrown away: the arguments are a copy), and the caller formats
 * with printf(). */
#define QUICK_UNSUPPORTED (-1)

typedef struct
{
  char  *buffer;
  gsize  room;        /* bytes @buffer may take, the nul byte included */
  gsize  length;      /* of the whole text so far */
} QuickOutput;

static inline void
quick_put (QuickOutput *out,
           const char  *bytes,
           gsize        n)
{
  if (out->length < out->room && n < out->room - out->length)
    memcpy (out->buffer + out->length, bytes, n);
  out->length += n;
}

/* @value in base @base, with a minus sign if @negative. */
static inline void
quick_put_number (QuickOutput *out,
                  guint64      value,
                  gboolean     negative,
                  guint        base)
{
  static const char digits[] = "0123456789abcdef";
  char text[24];
  char *p = text + sizeof text;

  /* Constant divisors: the compiler multiplies instead of dividing. */
  if (base == 10)
    do
      {
        *--p = (char) ('0' + value % 10);
        value /= 10;
      }
    while (value != 0);
  else
    do
      {
        *--p = digits[value & 15];
        value >>= 4;
      }
    while (value != 0);
  if (negative)
    *--p = '-';

  quick_put (out, p, (gsize) (text + sizeof text - p));
}

static int
quick_format (char       *buffer,
              gsize       room,
              const char *format,
              va_list     args)
{
  QuickOutput out = { buffer, room, 0 };
  va_list ap;

  G_VA_COPY (ap, args);
  for (const char *f = format; *f != '\0'; f++)
    {
      const char *literal = f;
      int modifier = 0;       /* 0, 'l', 'L' (ll), 'z' */

      /* strchr() scans a word or a vector at a time. */
      f = strchr (f, '%');
      if (f == NULL)
        f = literal + strlen (literal);
      if (f > literal)
        quick_put (&out, literal, (gsize) (f - literal));
      if (*f == '\0')
        break;

      f++;
      if (f[0] == '.' && f[1] == '*' && f[2] == 's')
        {
          int precision = va_arg (ap, int);
          const char *str = va_arg (ap, const char *);

          f += 2;
          if (str == NULL)
            goto unsupported;
          quick_put (&out, str, precision < 0 ? strlen (str) : strnlen (str, (gsize) precision));
          continue;
        }
      if (f[0] == 'l' && f[1] == 'l')
        {
          modifier = 'L';
          f += 2;
        }
      else if (f[0] == 'l' || f[0] == 'z')
        modifier = *f++;

      switch (*f)
        {
        case 'd':
        case 'i':
        case 'u':
        case 'x':
          break;
        case 's':
        case 'c':
        case '%':
          if (modifier == 0)
            break;
          G_GNUC_FALLTHROUGH;
        default:
          /* Flags, widths, floats, pointers, ...: printf()'s. */
          goto unsupported;
        }

      switch (*f)
        {
        case '%':
          quick_put (&out, "%", 1);
          break;

        case 'c':
          {
            char c = (char) va_arg (ap, int);

            quick_put (&out, &c, 1);
          }
          break;

        case 's':
          {
            const char *str = va_arg (ap, const char *);

            if (str == NULL)
              goto unsupported;
            quick_put (&out, str, strlen (str));
          }
          break;

        case 'd':
        case 'i':
          {
            gint64 value = modifier == 'L' ? (gint64) va_arg (ap, long long)
                         : modifier == 'l' ? (gint64) va_arg (ap, long)
                         : modifier == 'z' ? (gint64) va_arg (ap, gssize)
                         : (gint64) va_arg (ap, int);
            guint64 magnitude = value < 0 ? (guint64) 0 - (guint64) value : (guint64) value;

            quick_put_number (&out, magnitude, value < 0, 10);
          }
          break;

        default:   /* 'u', 'x' */
          {
            guint64 value = modifier == 'L' ? (guint64) va_arg (ap, unsigned long long)
                          : modifier == 'l' ? (guint64) va_arg (ap, unsigned long)
                          : modifier == 'z' ? (guint64) va_arg (ap, gsize)
                          : (guint64) va_arg (ap, unsigned int);

            quick_put_number (&out, value, FALSE, *f == 'x' ? 16 : 10);
          }
          break;
        }
    }
  va_end (ap);

  /* As printf(): a text longer than G_MAXINT is an error. */
  if (out.length > G_MAXINT)
    return -2;
  if (out.length < room)
    buffer[out.length] = '\0';
  return (int) out.length;

unsupported:
  /* What a NULL string prints is the C library's business. */
  va_end (ap);
  return QUICK_UNSUPPORTED;
}

/* Formats into @buffer as vsnprintf() does (the quick formatter when it
 * can, else g_vsnprintf()), on a copy of @args; counted. */
int
nebula_strings_format (char       *buffer,
                       gsize       size,
                       const char *format,
                       va_list     args)
{
  va_list copy;
  int n;

  g_atomic_int_inc (&format_passes);
  n = quick_format (buffer, size, format, args);
  if (n != QUICK_UNSUPPORTED)
    return n < 0 ? -1 : n;

  G_VA_COPY (copy, args);
  n = g_vsnprintf (buffer, size, format, copy);
  va_end (copy);

  return n;
}

static void
set_null_argument_error (NebulaAllocator  *self,
                         const char       *function,
                         const char       *argument,
                         GError          **error)
{
  g_autofree char *what = nebula_allocator_describe (self);
  NebulaErrorInfo info = { 0, };

  info.what = what;
  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, &info,
                    "%s: %s() was given NULL as %s", what, function, argument);
  nebula_allocator_record_failure (self);
}

static void
set_overflow_error (NebulaAllocator  *self,
                    const char       *function,
                    const char       *detail,
                    GError          **error)
{
  g_autofree char *what = nebula_allocator_describe (self);
  NebulaErrorInfo info = { 0, };

  info.what = what;
  info.requested = G_MAXSIZE;
  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW, &info,
                    "%s: %s(): %s", what, function, detail);
  nebula_allocator_record_failure (self);
}

/* Allocates @length + 1 bytes, copies @length bytes of @str and ends them. */
static char *
copy_string (NebulaAllocator  *self,
             const char       *str,
             gsize             length,
             const char       *function,
             GError          **error)
{
  char *copy;

  if (G_UNLIKELY (length >= G_MAXSIZE))
    {
      set_overflow_error (self, function, "the string's length and its terminator overflow the size type",
                          error);
      return NULL;
    }

  copy = nebula_allocator_allocate (self, length + 1, 1, error);
  if (copy == NULL)
    return NULL;

  memcpy (copy, str, length);
  copy[length] = '\0';
  return copy;
}

/**
 * nebula_allocator_strdup:
 * @self: a #NebulaAllocator
 * @str: the string to copy
 * @error: return location for a #GError
 *
 * Copies @str, with its terminating nul byte, into a block of @self
 * (alignment 1), like g_strdup() or `apr_pstrdup()`. The copy lives as
 * long as the block: until it is deallocated with the length plus one, or
 * until @self is reset (and, for a bump or stack allocator, until the scope,
 * checkpoint or frame it was made in ends).
 *
 * %NULL as @str is not a programmer error here but a run-time one, since
 * scripts can pass it: %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, counted
 * as a failed allocation. The allocation itself fails as
 * nebula_allocator_allocate() does (%NEBULA_ALLOCATOR_ERROR_EXHAUSTED,
 * ...).
 *
 * Language bindings receive a copy of the result as their own string (the
 * block stays in @self); nebula_allocator_strdup_address() returns the
 * block's address instead.
 *
 * Returns: (transfer none) (nullable): the copy, or %NULL with @error set
 */
char *
nebula_allocator_strdup (NebulaAllocator  *self,
                         const char       *str,
                         GError          **error)
{
  /* A built-in allocator's inline path first, as
   * nebula_allocator_allocate() does: the checks below cost as much as
   * the copy of a short string. */
  if (G_LIKELY (str != NULL))
    {
      gsize size = strlen (str) + 1;
      gpointer copy;

      if (G_LIKELY (size <= NEBULA_MAX_FAST_SIZE &&
                    nebula_allocator_core_try_alloc (self, size, 1, &copy)))
        return memcpy (copy, str, size);
    }

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (G_UNLIKELY (str == NULL))
    {
      set_null_argument_error (self, "nebula_allocator_strdup", "the string", error);
      return NULL;
    }

  return copy_string (self, str, strlen (str), "nebula_allocator_strdup", error);
}

/**
 * nebula_allocator_strndup: (skip)
 * @self: a #NebulaAllocator
 * @str: the string to copy
 * @n: the largest number of bytes to copy
 * @error: return location for a #GError
 *
 * Copies at most @n bytes of @str (fewer when a nul byte comes first) into
 * a block of @self and ends the copy with a nul byte, like g_strndup() or
 * `apr_pstrndup()`. @str is read no further than its first nul byte or @n
 * bytes, so @n may be %G_MAXSIZE. A %NULL @str gives
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER, as for nebula_allocator_strdup().
 *
 * Not for language bindings: a byte count can cut a character in two.
 * Scripts slice their string and call nebula_allocator_strdup().
 *
 * Returns: (transfer none) (nullable): the copy, or %NULL with @error set
 */
char *
nebula_allocator_strndup (NebulaAllocator  *self,
                          const char       *str,
                          gsize             n,
                          GError          **error)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (G_UNLIKELY (str == NULL))
    {
      set_null_argument_error (self, "nebula_allocator_strndup", "the string", error);
      return NULL;
    }

  return copy_string (self, str, strnlen (str, n), "nebula_allocator_strndup", error);
}

/**
 * nebula_allocator_memdup: (skip)
 * @self: a #NebulaAllocator
 * @mem: (nullable): the bytes to copy; %NULL only when @size is 0
 * @size: the number of bytes
 * @alignment: the alignment of the copy, a power of two
 * @error: return location for a #GError
 *
 * Copies @size bytes at @mem into a block of @self aligned to @alignment,
 * like g_memdup2() or `apr_pmemdup()`. The layout is checked as
 * nebula_allocator_allocate() checks it (a size above the largest
 * allocation, an alignment that is not a power of two: an error, nothing
 * read). A %NULL @mem with a non-zero @size gives
 * %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER. A @size of 0 gives the unique
 * empty block nebula_allocator_allocate() gives.
 *
 * Returns: (transfer none) (nullable): the copy, or %NULL with @error set
 */
gpointer
nebula_allocator_memdup (NebulaAllocator  *self,
                         gconstpointer     mem,
                         gsize             size,
                         gsize             alignment,
                         GError          **error)
{
  gpointer copy;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (G_UNLIKELY (mem == NULL && size > 0))
    {
      set_null_argument_error (self, "nebula_allocator_memdup", "the memory to copy", error);
      return NULL;
    }

  copy = nebula_allocator_allocate (self, size, alignment, error);
  if (copy != NULL && size > 0)
    memcpy (copy, mem, size);

  return copy;
}

static gboolean bump_format_in_place (NebulaAllocator  *self,
                                      const char       *format,
                                      va_list           args,
                                      char            **result,
                                      int              *needed,
                                      GError          **error) G_GNUC_PRINTF (2, 0);

/* The bump allocator's single format: formats straight into the free
 * space after the cursor of the current chunk and, when the string fits,
 * allocates exactly the bytes it took, which the inline path serves at the
 * cursor (alignment 1). Only while the inline path is open: it is closed
 * for a thread-safe allocator (another thread could take the space), one
 * that fills its blocks (the fill would overwrite the text) and one that
 * ASan or Valgrind watch (the free space is poisoned).
 *
 * Returns TRUE when it answered (*result is the string, or NULL with
 * @error set); FALSE with *needed set to the formatted length, or -1 when
 * it did not try. */
static gboolean
bump_format_in_place (NebulaAllocator  *self,
                      const char       *format,
                      va_list           args,
                      char            **result,
                      int              *needed,
                      GError          **error)
{
  NebulaBumpFast *fast;
  gsize available;
  char *ptr;
  int n;

  *needed = -1;
  if (!nebula_allocator_is_core (self) ||
      nebula_allocator_get_core (self)->kind != NEBULA_ALLOCATOR_KIND_BUMP)
    return FALSE;

  fast = _NEBULA_BUMP_FAST (self);
  if (fast->max_fast_size == 0 || fast->cursor == NULL || fast->cursor >= fast->limit)
    return FALSE;

  available = (gsize) (fast->limit - fast->cursor);
  n = nebula_strings_format ((char *) fast->cursor, MIN (available, (gsize) G_MAXINT), format, args);

  *needed = n;
  if (n < 0 || (gsize) n >= available || (gsize) n + 1 > fast->max_fast_size)
    return FALSE;

  ptr = (char *) fast->cursor;
  *result = nebula_allocator_allocate (self, (gsize) n + 1, 1, error);
  /* The inline path hands out the cursor; should a rounding of the size
   * (min-alloc-size) not fit, the block came from a new chunk, and the
   * text is still where it was formatted. */
  if (*result != NULL && *result != ptr)
    memmove (*result, ptr, (gsize) n + 1);

  return TRUE;
}

/**
 * nebula_allocator_vprintf: (skip)
 * @self: a #NebulaAllocator
 * @error: return location for a #GError
 * @format: a printf() format
 * @args: the arguments of @format
 *
 * nebula_allocator_printf() with a `va_list`. @args is left untouched (it
 * is copied with G_VA_COPY()), so the caller still ends it.
 *
 * Returns: (transfer none) (nullable): the string, or %NULL with @error set
 */
char *
nebula_allocator_vprintf (NebulaAllocator  *self,
                          GError          **error,
                          const char       *format,
                          va_list           args)
{
  char short_buffer[SHORT_FORMAT_SIZE];
  char *result = NULL;
  int n;

  /* A built-in allocator is known to be one (the type check costs as much
   * as a short format). */
  if (G_UNLIKELY (self == NULL || !nebula_allocator_is_core (self)))
    g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (G_UNLIKELY (format == NULL))
    {
      set_null_argument_error (self, "nebula_allocator_printf", "the format", error);
      return NULL;
    }

  if (bump_format_in_place (self, format, args, &result, &n, error))
    return result;

  if (n < 0)
    {
      /* Not a bump allocator (or its inline path is closed): a short
       * string is formatted once, on the C stack, and copied. */
      n = nebula_strings_format (short_buffer, sizeof short_buffer, format, args);

      if (n >= 0 && (gsize) n < sizeof short_buffer)
        return copy_string (self, short_buffer, (gsize) n, "nebula_allocator_printf", error);
    }

  if (n < 0)
    {
      set_overflow_error (self, "nebula_allocator_printf",
                          "the formatted string is longer than G_MAXINT bytes, which printf() cannot return",
                          error);
      return NULL;
    }

  /* Longer than what was at hand: the length is known, format again into
   * the block. */
  result = nebula_allocator_allocate (self, (gsize) n + 1, 1, error);
  if (result == NULL)
    return NULL;

  nebula_strings_format (result, (gsize) n + 1, format, args);

  return result;
}

/**
 * nebula_allocator_printf: (skip)
 * @self: a #NebulaAllocator
 * @error: return location for a #GError
 * @format: a printf() format
 * @...: the arguments of @format
 *
 * Formats a string into a block of @self (alignment 1), like
 * g_strdup_printf(), `apr_psprintf()`, `talloc_asprintf()` or
 * `obstack_printf()`. @error comes before @format because the arguments
 * must come last.
 *
 * In a single-threaded #NebulaBumpAllocator that neither fills its blocks
 * nor runs under ASan or Valgrind, the string is formatted once, straight
 * into the free space of the current chunk, and the block is then taken
 * where it already lies; only a string that does not fit there is
 * formatted a second time, into a new chunk. Other allocators format a
 * string shorter than 256 bytes once on the C stack and copy it, and a
 * longer one twice (its length, then the text).
 *
 * A %NULL @format gives %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER; a result
 * longer than %G_MAXINT bytes, which printf() cannot produce, gives
 * %NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW. Both count as failed allocations.
 *
 * Not for language bindings, which format with their own language and
 * call nebula_allocator_strdup().
 *
 * |[<!-- language="C" -->
 * char *line = nebula_allocator_printf (arena, &error, "%s %d\r\n", reason, status);
 * ]|
 *
 * Returns: (transfer none) (nullable): the string, or %NULL with @error set
 */
char *
nebula_allocator_printf (NebulaAllocator  *self,
                         GError          **error,
                         const char       *format,
                         ...)
{
  va_list args;
  char *result;

  /* nebula_allocator_vprintf() checks @self. */
  va_start (args, format);
  result = nebula_allocator_vprintf (self, error, format, args);
  va_end (args);

  return result;
}

/* Joins @n strings from @strings with @separator between them. */
static char *
join_strings (NebulaAllocator    *self,
              const char         *separator,
              const char * const *strings,
              gsize               n,
              const char         *function,
              GError            **error)
{
  gsize separator_length = separator != NULL ? strlen (separator) : 0;
  gsize total = 1;
  char *result;
  char *out;

  for (gsize i = 0; i < n; i++)
    {
      if (!g_size_checked_add (&total, total, strlen (strings[i])) ||
          (i > 0 && !g_size_checked_add (&total, total, separator_length)))
        {
          set_overflow_error (self, function, "the joined length overflows the size type", error);
          return NULL;
        }
    }

  result = nebula_allocator_allocate (self, total, 1, error);
  if (result == NULL)
    return NULL;

  out = result;
  for (gsize i = 0; i < n; i++)
    {
      gsize length = strlen (strings[i]);

      if (i > 0 && separator_length > 0)
        {
          memcpy (out, separator, separator_length);
          out += separator_length;
        }
      memcpy (out, strings[i], length);
      out += length;
    }
  *out = '\0';

  return result;
}

/**
 * nebula_allocator_strconcat: (skip)
 * @self: a #NebulaAllocator
 * @error: return location for a #GError
 * @first: (nullable): the first string, or %NULL for the empty string
 * @...: more strings, ending with %NULL
 *
 * Concatenates strings into one block of @self, like g_strconcat() or
 * `apr_pstrcat()`; the list ends at the first %NULL (so %NULL as @first
 * gives an empty string). A total length that does not fit in a #gsize
 * gives %NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW.
 *
 * Returns: (transfer none) (nullable): the string, or %NULL with @error set
 */
char *
nebula_allocator_strconcat (NebulaAllocator  *self,
                            GError          **error,
                            const char       *first,
                            ...)
{
  const char *stack_strings[16];
  g_autofree const char **heap_strings = NULL;
  const char **strings = stack_strings;
  gsize n = 0;
  va_list args;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Collect the arguments once, so the list is walked in one place. */
  va_start (args, first);
  for (const char *s = first; s != NULL; s = va_arg (args, const char *))
    {
      if (n == G_N_ELEMENTS (stack_strings) && heap_strings == NULL)
        {
          heap_strings = g_new (const char *, 2 * n);
          memcpy (heap_strings, stack_strings, sizeof stack_strings);
          strings = heap_strings;
        }
      else if (heap_strings != NULL && (n & (n - 1)) == 0)
        {
          heap_strings = g_renew (const char *, heap_strings, 2 * n);
          strings = heap_strings;
        }
      strings[n++] = s;
    }
  va_end (args);

  return join_strings (self, NULL, strings, n, "nebula_allocator_strconcat", error);
}

/**
 * nebula_allocator_strjoinv:
 * @self: a #NebulaAllocator
 * @separator: (nullable): put between the strings, or %NULL for none
 * @str_array: (array zero-terminated=1): the strings, ending with %NULL
 * @error: return location for a #GError
 *
 * Joins @str_array with @separator into one block of @self, like
 * g_strjoinv(). An empty array gives an empty string; %NULL as @str_array
 * gives %NEBULA_ALLOCATOR_ERROR_INVALID_POINTER and a total length that
 * does not fit in a #gsize %NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW.
 *
 * Language bindings receive a copy of the result as their own string;
 * nebula_allocator_strjoinv_address() returns the block's address.
 *
 * Returns: (transfer none) (nullable): the string, or %NULL with @error set
 */
char *
nebula_allocator_strjoinv (NebulaAllocator     *self,
                           const char          *separator,
                           const char * const  *str_array,
                           GError             **error)
{
  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (G_UNLIKELY (str_array == NULL))
    {
      set_null_argument_error (self, "nebula_allocator_strjoinv", "the array", error);
      return NULL;
    }

  return join_strings (self, separator, str_array, g_strv_length ((char **) str_array),
                       "nebula_allocator_strjoinv", error);
}

/* Scripts -------------------------------------------------------------- */

static guint64
script_address (NebulaAllocator *self,
                gpointer         ptr,
                gsize            size)
{
  /* The other script entry points check the block before they touch it:
   * see nebula_allocator_allocate_address(). */
  if (ptr != NULL)
    nebula_script_record (self, ptr, size);

  return (guint64) GPOINTER_TO_SIZE (ptr);
}

/**
 * nebula_allocator_strdup_address:
 * @self: a #NebulaAllocator
 * @str: the string to copy
 * @error: return location for a #GError
 *
 * nebula_allocator_strdup() for language bindings that need the copy in
 * @self itself (to hand it to C, to read it back with
 * nebula_allocator_read_address()): the block's address. The block is
 * `strlen (str) + 1` bytes long (in UTF-8), terminator included, which
 * is the size nebula_allocator_deallocate_address() wants.
 *
 * Returns: the address, or 0 with @error set
 */
guint64
nebula_allocator_strdup_address (NebulaAllocator  *self,
                                 const char       *str,
                                 GError          **error)
{
  char *copy;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);

  copy = nebula_allocator_strdup (self, str, error);
  return script_address (self, copy, copy != NULL ? strlen (copy) + 1 : 0);
}

/**
 * nebula_allocator_memdup_address: (rename-to nebula_allocator_memdup)
 * @self: a #NebulaAllocator
 * @data: (array length=size) (element-type guint8) (nullable): the bytes to copy
 * @size: the number of bytes
 * @alignment: the alignment of the copy, a power of two
 * @error: return location for a #GError
 *
 * nebula_allocator_memdup() for language bindings: copies @data (Python
 * `bytes`, a gjs `Uint8Array`) into a block of @self and returns its
 * address.
 *
 * Returns: the address, or 0 with @error set
 */
guint64
nebula_allocator_memdup_address (NebulaAllocator  *self,
                                 const guint8     *data,
                                 gsize             size,
                                 guint64           alignment,
                                 GError          **error)
{
  gpointer copy;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);

  /* An alignment that does not fit in a gsize is refused as 0 is. */
  copy = nebula_allocator_memdup (self, data, size, alignment > G_MAXSIZE ? 0 : (gsize) alignment,
                                  error);
  return script_address (self, copy, size);
}

/**
 * nebula_allocator_strjoinv_address:
 * @self: a #NebulaAllocator
 * @separator: (nullable): put between the strings, or %NULL for none
 * @str_array: (array zero-terminated=1): the strings, ending with %NULL
 * @error: return location for a #GError
 *
 * nebula_allocator_strjoinv() for language bindings: the block's address.
 * The block is the joined length plus one bytes long.
 *
 * Returns: the address, or 0 with @error set
 */
guint64
nebula_allocator_strjoinv_address (NebulaAllocator     *self,
                                   const char          *separator,
                                   const char * const  *str_array,
                                   GError             **error)
{
  char *joined;

  g_return_val_if_fail (NEBULA_IS_ALLOCATOR (self), 0);

  joined = nebula_allocator_strjoinv (self, separator, str_array, error);
  return script_address (self, joined, joined != NULL ? strlen (joined) + 1 : 0);
}
