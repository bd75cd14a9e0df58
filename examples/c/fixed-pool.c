/* fixed-pool.c: a typed pool in static storage with NEBULA_DEFINE_FIXED_POOL.
 * No heap, no initialization call, no object: the pool is a file-local
 * array and two inline functions, for embedded code and hot paths that know
 * their worst case.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <nebula.h>

typedef struct
{
  guint   id;
  gint64  deadline_ms;
} Timer;

/* Up to four timers at once: TimerPool, timer_pool_alloc (), timer_pool_free (). */
NEBULA_DEFINE_FIXED_POOL (TimerPool, timer_pool, Timer, 4)

/* A double free is a critical warning (unless G_DISABLE_ASSERT is
 * defined); this example prints it instead of aborting on it. */
static void
print_critical_cb (const char     *log_domain,
                   GLogLevelFlags  log_level,
                   const char     *message,
                   gpointer        user_data)
{
  guint *n_criticals = user_data;

  (*n_criticals)++;
  g_print ("critical: %s\n", message);
}

int
main (void)
{
  Timer *timers[4];
  Timer *extra;
  Timer *reused;
  guint n_criticals = 0;

  g_log_set_handler (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, print_critical_cb, &n_criticals);

  for (guint i = 0; i < G_N_ELEMENTS (timers); i++)
    {
      timers[i] = timer_pool_alloc ();
      if (timers[i] == NULL)
        return 1;
      *timers[i] = (Timer) { .id = i + 1, .deadline_ms = 250 * (i + 1) };
    }
  for (guint i = 0; i < G_N_ELEMENTS (timers); i++)
    g_print ("timer %u fires at %" G_GINT64_FORMAT " ms\n", timers[i]->id,
             timers[i]->deadline_ms);

  /* All four slots are in use: the fifth gets NULL, not the heap. */
  extra = timer_pool_alloc ();
  g_print ("a fifth timer: %s\n", extra == NULL ? "none left" : "allocated");
  if (extra != NULL)
    return 1;

  /* Slots come back in any order and are reused first. */
  timer_pool_free (timers[2]);
  reused = timer_pool_alloc ();
  if (reused == NULL)
    return 1;
  *reused = (Timer) { .id = 5, .deadline_ms = 1500 };
  g_print ("timer %u takes the slot of timer 3: %s\n", reused->id,
           reused == timers[2] ? "yes" : "no");

  /* Freeing a slot twice is caught (with assertions enabled) and changes
   * nothing: exactly one slot is free afterwards. */
  timer_pool_free (timers[0]);
  timer_pool_free (timers[0]);
  if (n_criticals != 1)
    return 1;
  extra = timer_pool_alloc ();
  g_print ("after the double free, one slot is free: %s\n",
           extra == timers[0] && timer_pool_alloc () == NULL ? "yes" : "no");

  timer_pool_free (extra);
  timer_pool_free (timers[1]);
  timer_pool_free (reused);
  timer_pool_free (timers[3]);
  for (guint i = 0; i < G_N_ELEMENTS (timers); i++)
    if (timer_pool_alloc () == NULL)
      return 1;
  g_print ("all four slots free again, then all four in use: %s\n",
           timer_pool_alloc () == NULL ? "yes" : "no");

  return 0;
}
