/* test-async-compute-cache.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One test (or more) per rule R1 to R12 of docs/caches.md. Callbacks only record what
 * happened; the assertions run after the main loop returned.
 */

#include "config.h"

#include <nebula.h>

#include "test-util.h"

/* A compute function that parks its tasks, so the test decides when and
 * how each computation returns. */
typedef struct
{
  guint      calls;
  GPtrArray *tasks;
  GPtrArray *cancellables;
  GPtrArray *keys;
} Computer;

static void
computer_init (Computer *computer)
{
  computer->calls = 0;
  computer->tasks = g_ptr_array_new_with_free_func (g_object_unref);
  computer->cancellables = g_ptr_array_new_with_free_func (g_object_unref);
  computer->keys = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
}

static void
computer_clear (Computer *computer)
{
  g_ptr_array_unref (computer->tasks);
  g_ptr_array_unref (computer->cancellables);
  g_ptr_array_unref (computer->keys);
}

static void
park_cb (GVariant     *key,
         GCancellable *cancellable,
         GTask        *task,
         gpointer      user_data)
{
  Computer *computer = user_data;

  computer->calls++;
  g_ptr_array_add (computer->tasks, g_object_ref (task));
  g_ptr_array_add (computer->cancellables, g_object_ref (cancellable));
  g_ptr_array_add (computer->keys, g_variant_ref (key));
}

static void
computer_succeed (Computer *computer,
                  guint     index,
                  int       number)
{
  g_autoptr(GObject) value = test_value_new (number);

  nebula_compute_task_return_object (computer->tasks->pdata[index], value);
}

static void
computer_fail (Computer *computer,
               guint     index)
{
  g_task_return_new_error (computer->tasks->pdata[index], G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "computation %u failed", index);
}

/* One request and what its callback saw. */
typedef struct _Request
{
  GObject              *value;
  GError               *error;
  NebulaComputeOutcome  outcome;
  guint                 completions;
  gboolean              completed_inside_async;
  GMainContext         *context;
  GThread              *thread;
  GCancellable         *cancellable;
  /* For R3: what to request again from the callback. */
  NebulaAsyncComputeCache *retry_cache;
  Computer             *retry_computer;
  struct _Request      *retry;
} Request;

static gboolean inside_async;

static void request_start (NebulaAsyncComputeCache *cache,
                           GVariant                *key,
                           Computer                *computer,
                           Request                 *request);

static void
request_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Request *request = user_data;

  request->completions++;
  request->completed_inside_async = inside_async;
  request->thread = g_thread_self ();
  g_clear_object (&request->value);
  g_clear_error (&request->error);
  g_clear_pointer (&request->context, g_main_context_unref);
  request->context = g_main_context_ref_thread_default ();
  request->value = nebula_async_compute_cache_get_or_compute_finish (NEBULA_ASYNC_COMPUTE_CACHE (source),
                                                                     result, &request->outcome,
                                                                     &request->error);
  if (request->retry_cache != NULL)
    request_start (request->retry_cache, g_variant_new_int32 (1), request->retry_computer,
                   request->retry);
}

static void
request_start (NebulaAsyncComputeCache *cache,
               GVariant                *key,
               Computer                *computer,
               Request                 *request)
{
  inside_async = TRUE;
  nebula_async_compute_cache_get_or_compute_async (cache, key, park_cb, computer, NULL,
                                                   request->cancellable, request_done_cb, request);
  inside_async = FALSE;
}

static void
request_clear (Request *request)
{
  g_clear_object (&request->value);
  g_clear_error (&request->error);
  g_clear_pointer (&request->context, g_main_context_unref);
  g_clear_object (&request->cancellable);
}

static void
wait_for (Request *requests,
          guint    n)
{
  for (;;)
    {
      guint done = 0;

      for (guint i = 0; i < n; i++)
        done += requests[i].completions > 0;
      if (done == n)
        break;
      g_main_context_iteration (g_main_context_get_thread_default (), TRUE);
    }
}

/* Runs what is ready without blocking. */
static void
drain (void)
{
  while (g_main_context_iteration (g_main_context_get_thread_default (), FALSE))
    ;
}

static NebulaCacheStats *
stats_of (NebulaAsyncComputeCache *cache)
{
  return nebula_async_compute_cache_get_stats (cache);
}

/* R1 */

static void
test_r1_delivery (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = nebula_async_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 10);
  Computer computer;
  Request miss = { 0 }, hit = { 0 };

  computer_init (&computer);

  request_start (cache, g_variant_new_string ("k"), &computer, &miss);
  g_assert_cmpuint (miss.completions, ==, 0);
  computer_succeed (&computer, 0, 42);          /* returns inside this dispatch */
  g_assert_cmpuint (miss.completions, ==, 0);
  wait_for (&miss, 1);

  request_start (cache, g_variant_new_string ("k"), &computer, &hit);
  g_assert_cmpuint (hit.completions, ==, 0);    /* even a hit waits for the loop */
  wait_for (&hit, 1);
  drain ();

  g_assert_cmpuint (miss.completions, ==, 1);
  g_assert_false (miss.completed_inside_async);
  g_assert_no_error (miss.error);
  g_assert_cmpint (test_value_number (miss.value), ==, 42);
  g_assert_cmpint (miss.outcome, ==, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  g_assert_true (miss.context == g_main_context_default ());

  g_assert_cmpuint (hit.completions, ==, 1);
  g_assert_false (hit.completed_inside_async);
  g_assert_cmpint (hit.outcome, ==, NEBULA_COMPUTE_OUTCOME_HIT);
  g_assert_true (hit.value == miss.value);
  g_assert_cmpuint (computer.calls, ==, 1);

  request_clear (&miss);
  request_clear (&hit);
  computer_clear (&computer);
}

/* The compute function hands its task to a thread pool, which returns it. */
static void
pool_worker (gpointer data,
             gpointer user_data)
{
  GTask *task = data;
  GVariant *key = g_task_get_task_data (task);
  g_autoptr(GObject) value = NULL;

  g_usleep (1000);
  value = test_value_new (g_variant_get_int32 (key) * 10);
  nebula_compute_task_return_object (task, value);
  g_object_unref (task);
}

static void
pool_compute_cb (GVariant     *key,
                 GCancellable *cancellable,
                 GTask        *task,
                 gpointer      user_data)
{
  GThreadPool *pool = user_data;

  g_task_set_task_data (task, g_variant_ref (key), (GDestroyNotify) g_variant_unref);
  g_thread_pool_push (pool, g_object_ref (task), NULL);
}

typedef struct
{
  NebulaAsyncComputeCache *cache;
  GThreadPool             *pool;
  Request                  requests[4];
  GMainContext            *context;
} ThreadCase;

static gpointer
caller_thread (gpointer data)
{
  ThreadCase *c = data;

  c->context = g_main_context_new ();
  g_main_context_push_thread_default (c->context);
  for (guint i = 0; i < G_N_ELEMENTS (c->requests); i++)
    nebula_async_compute_cache_get_or_compute_async (c->cache, g_variant_new_int32 (i % 2),
                                                     pool_compute_cb, c->pool, NULL, NULL,
                                                     request_done_cb, &c->requests[i]);
  wait_for (c->requests, G_N_ELEMENTS (c->requests));
  g_main_context_pop_thread_default (c->context);
  return NULL;
}

static void
test_r1_thread_pool (void)
{
  ThreadCase c = { 0 };
  GThread *thread;

  c.cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE, "deduplicate", TRUE, NULL);
  c.pool = g_thread_pool_new (pool_worker, NULL, 2, FALSE, NULL);

  thread = g_thread_new ("caller", caller_thread, &c);
  g_thread_join (thread);

  for (guint i = 0; i < G_N_ELEMENTS (c.requests); i++)
    {
      g_assert_cmpuint (c.requests[i].completions, ==, 1);
      g_assert_no_error (c.requests[i].error);
      g_assert_cmpint (test_value_number (c.requests[i].value), ==, (i % 2) * 10);
      /* Delivered in the caller's thread and context, not the pool's. */
      g_assert_true (c.requests[i].thread == thread);
      g_assert_true (c.requests[i].context == c.context);
      request_clear (&c.requests[i]);
    }
  g_thread_pool_free (c.pool, FALSE, TRUE);
  g_assert_cmpuint (nebula_async_compute_cache_get_n_flights (c.cache), ==, 0);
  g_object_unref (c.cache);
  g_main_context_unref (c.context);
}

/* R2 */

#define N_WAITERS 10

static void
test_r2_single_flight (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  g_autoptr(NebulaAsyncComputeCache) plain = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  Request requests[N_WAITERS] = { 0 };
  Request unshared[2] = { 0 };
  Computer computer, unshared_computer;
  guint computed = 0, joined = 0;
  GObject *shared;

  computer_init (&computer);
  computer_init (&unshared_computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE, "deduplicate", TRUE, NULL);
  for (guint i = 0; i < N_WAITERS; i++)
    request_start (cache, g_variant_new_int32 (7), &computer, &requests[i]);
  drain ();
  computer_succeed (&computer, 0, 49);
  wait_for (requests, N_WAITERS);

  /* Without deduplication every miss computes: nothing is paid for. */
  plain = nebula_async_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 0);
  request_start (plain, g_variant_new_int32 (7), &unshared_computer, &unshared[0]);
  request_start (plain, g_variant_new_int32 (7), &unshared_computer, &unshared[1]);
  computer_succeed (&unshared_computer, 0, 1);
  computer_succeed (&unshared_computer, 1, 2);
  wait_for (unshared, 2);

  g_assert_cmpuint (computer.calls, ==, 1);
  shared = requests[0].value;
  for (guint i = 0; i < N_WAITERS; i++)
    {
      g_assert_no_error (requests[i].error);
      g_assert_true (requests[i].value == shared);
      computed += requests[i].outcome == NEBULA_COMPUTE_OUTCOME_COMPUTED;
      joined += requests[i].outcome == NEBULA_COMPUTE_OUTCOME_JOINED;
    }
  for (guint i = 0; i < N_WAITERS; i++)
    request_clear (&requests[i]);
  g_assert_cmpuint (computed, ==, 1);
  g_assert_cmpuint (joined, ==, N_WAITERS - 1);
  stats = stats_of (cache);
  g_assert_cmpuint (stats->joins, ==, N_WAITERS - 1);
  g_assert_cmpuint (stats->loads_ok, ==, 1);

  g_assert_cmpuint (unshared_computer.calls, ==, 2);
  g_assert_cmpint (unshared[0].outcome, ==, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  g_assert_cmpint (unshared[1].outcome, ==, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  request_clear (&unshared[0]);
  request_clear (&unshared[1]);
  computer_clear (&computer);
  computer_clear (&unshared_computer);
}

/* R3 */

static void
test_r3_errors (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  Request requests[3] = { 0 };
  Request retry = { 0 };
  Computer computer;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE, "deduplicate", TRUE, NULL);
  /* The first waiter retries from its callback. */
  requests[0].retry_cache = cache;
  requests[0].retry_computer = &computer;
  requests[0].retry = &retry;
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    request_start (cache, g_variant_new_int32 (1), &computer, &requests[i]);
  drain ();
  computer_fail (&computer, 0);
  wait_for (requests, G_N_ELEMENTS (requests));
  drain ();
  g_assert_cmpuint (computer.calls, ==, 2);     /* the retry started fresh */
  computer_succeed (&computer, 1, 5);
  wait_for (&retry, 1);

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      g_assert_null (requests[i].value);
      g_assert_error (requests[i].error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      g_assert_cmpstr (requests[i].error->message, ==, "computation 0 failed");
      if (i > 0)
        g_assert_true (requests[i].error != requests[0].error);
      request_clear (&requests[i]);
    }
  g_assert_no_error (retry.error);
  g_assert_cmpint (retry.outcome, ==, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  g_assert_cmpint (test_value_number (retry.value), ==, 5);
  stats = stats_of (cache);
  g_assert_cmpuint (stats->loads_failed, ==, 1);
  g_assert_cmpuint (stats->insertions, ==, 1);  /* only the retry's value */
  request_clear (&retry);
  computer_clear (&computer);
}

/* R4 */

static void
test_r4_cancel_one (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  Request requests[3] = { 0 };
  Computer computer;
  gboolean compute_cancelled_after_one;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE, "deduplicate", TRUE, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      requests[i].cancellable = g_cancellable_new ();
      request_start (cache, g_variant_new_int32 (1), &computer, &requests[i]);
    }
  drain ();
  g_cancellable_cancel (requests[1].cancellable);
  wait_for (&requests[1], 1);
  compute_cancelled_after_one = g_cancellable_is_cancelled (computer.cancellables->pdata[0]);
  g_assert_cmpuint (requests[0].completions + requests[2].completions, ==, 0);
  computer_succeed (&computer, 0, 3);
  wait_for (requests, G_N_ELEMENTS (requests));

  g_assert_error (requests[1].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (compute_cancelled_after_one);
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    g_assert_true (computer.cancellables->pdata[0] != (gpointer) requests[i].cancellable);
  g_assert_cmpint (test_value_number (requests[0].value), ==, 3);
  g_assert_cmpint (test_value_number (requests[2].value), ==, 3);
  g_assert_cmpuint (requests[1].completions, ==, 1);
  stats = stats_of (cache);
  g_assert_cmpuint (stats->cancellations, ==, 1);
  g_assert_cmpuint (nebula_async_compute_cache_get_n_entries (cache), ==, 1);
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    request_clear (&requests[i]);
  computer_clear (&computer);
}

/* R5 */

static void
test_r5_last_waiter_gone (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  Request requests[2] = { 0 };
  Request again = { 0 };
  Request after = { 0 };
  Computer computer;
  gboolean compute_cancelled;
  guint flights_after_cancel;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE, "deduplicate", TRUE, NULL);
  for (guint i = 0; i < 2; i++)
    {
      requests[i].cancellable = g_cancellable_new ();
      request_start (cache, g_variant_new_int32 (1), &computer, &requests[i]);
    }
  g_cancellable_cancel (requests[0].cancellable);
  g_cancellable_cancel (requests[1].cancellable);
  wait_for (requests, 2);
  compute_cancelled = g_cancellable_is_cancelled (computer.cancellables->pdata[0]);

  /* The abandoned flight is detached: the next request starts fresh. */
  request_start (cache, g_variant_new_int32 (1), &computer, &again);
  drain ();
  /* The abandoned computation ignores its cancellable and succeeds: it
   * must not store (generation check). */
  computer_succeed (&computer, 0, 100);
  drain ();
  flights_after_cancel = nebula_async_compute_cache_get_n_flights (cache);
  computer_succeed (&computer, 1, 200);
  wait_for (&again, 1);
  request_start (cache, g_variant_new_int32 (1), &computer, &after);
  wait_for (&after, 1);

  g_assert_true (compute_cancelled);
  g_assert_error (requests[0].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_error (requests[1].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (computer.calls, ==, 2);
  g_assert_cmpuint (flights_after_cancel, ==, 1);
  g_assert_cmpint (again.outcome, ==, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  g_assert_cmpint (test_value_number (again.value), ==, 200);
  g_assert_cmpint (after.outcome, ==, NEBULA_COMPUTE_OUTCOME_HIT);
  g_assert_cmpint (test_value_number (after.value), ==, 200);
  request_clear (&requests[0]);
  request_clear (&requests[1]);
  request_clear (&again);
  request_clear (&after);
  computer_clear (&computer);
}

static void
test_r5_keep_abandoned (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  Request request = { 0 };
  Request after = { 0 };
  Computer computer;
  gboolean compute_cancelled;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                        "deduplicate", TRUE, "keep-abandoned-flights", TRUE, NULL);
  request.cancellable = g_cancellable_new ();
  request_start (cache, g_variant_new_int32 (1), &computer, &request);
  g_cancellable_cancel (request.cancellable);
  wait_for (&request, 1);
  compute_cancelled = g_cancellable_is_cancelled (computer.cancellables->pdata[0]);
  computer_succeed (&computer, 0, 7);
  drain ();
  request_start (cache, g_variant_new_int32 (1), &computer, &after);
  wait_for (&after, 1);

  g_assert_false (compute_cancelled);
  g_assert_error (request.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (after.outcome, ==, NEBULA_COMPUTE_OUTCOME_HIT);
  g_assert_cmpint (test_value_number (after.value), ==, 7);
  g_assert_cmpuint (computer.calls, ==, 1);
  request_clear (&request);
  request_clear (&after);
  computer_clear (&computer);
}

/* R6 */

static void
test_r6_invalidate_during_flight (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  Request request = { 0 };
  Request joiner = { 0 };
  Request after = { 0 };
  Computer computer;
  gboolean invalidated;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE, "deduplicate", TRUE, NULL);
  request_start (cache, g_variant_new_int32 (1), &computer, &request);
  invalidated = nebula_async_compute_cache_invalidate (cache, g_variant_new_int32 (1));
  /* A request after the invalidation does not join the detached flight. */
  request_start (cache, g_variant_new_int32 (1), &computer, &joiner);
  computer_succeed (&computer, 0, 1);
  wait_for (&request, 1);
  drain ();
  computer_succeed (&computer, 1, 2);
  wait_for (&joiner, 1);
  request_start (cache, g_variant_new_int32 (1), &computer, &after);
  wait_for (&after, 1);

  g_assert_true (invalidated);
  g_assert_cmpint (test_value_number (request.value), ==, 1);     /* its waiter still gets it */
  g_assert_cmpint (joiner.outcome, ==, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  g_assert_cmpint (after.outcome, ==, NEBULA_COMPUTE_OUTCOME_HIT);
  g_assert_cmpint (test_value_number (after.value), ==, 2);       /* 1 was never stored */
  g_assert_cmpuint (computer.calls, ==, 2);
  request_clear (&request);
  request_clear (&joiner);
  request_clear (&after);
  computer_clear (&computer);
}

static void
test_r6_invalidate_queued_flight (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  Request running = { 0 }, queued = { 0 };
  Computer computer;
  gboolean invalidated;
  guint calls_before;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE, "max-concurrent", 1, NULL);
  request_start (cache, g_variant_new_int32 (1), &computer, &running);
  request_start (cache, g_variant_new_int32 (2), &computer, &queued);
  invalidated = nebula_async_compute_cache_invalidate (cache, g_variant_new_int32 (2));
  calls_before = computer.calls;
  computer_succeed (&computer, 0, 1);
  wait_for (&running, 1);
  drain ();
  /* The detached flight still runs when its turn comes. */
  computer_succeed (&computer, 1, 2);
  wait_for (&queued, 1);

  g_assert_true (invalidated);
  g_assert_cmpuint (calls_before, ==, 1);
  g_assert_cmpuint (computer.calls, ==, 2);
  g_assert_cmpint (test_value_number (queued.value), ==, 2);
  g_assert_cmpuint (nebula_async_compute_cache_get_n_entries (cache), ==, 1);   /* only key 1 */
  request_clear (&running);
  request_clear (&queued);
  computer_clear (&computer);
}

/* R7 */

static void
test_r7_concurrency_limit (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  Request requests[5] = { 0 };
  Request hit = { 0 };
  Request holder = { 0 };
  Computer computer;
  guint calls_before_return;
  guint calls_after_abandon;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                        "max-concurrent", 1, "max-queued", 3, NULL);
  for (guint i = 0; i < 5; i++)
    {
      requests[i].cancellable = g_cancellable_new ();
      request_start (cache, g_variant_new_int32 (i), &computer, &requests[i]);
    }
  /* 0 runs; 1, 2, 3 wait; 4 is refused. */
  wait_for (&requests[4], 1);
  g_assert_cmpuint (computer.calls, ==, 1);

  /* 0 is abandoned while running: it keeps its permit until it returns.
   * 2 is abandoned while queued: it never runs. */
  g_cancellable_cancel (requests[0].cancellable);
  g_cancellable_cancel (requests[2].cancellable);
  wait_for (requests, 1);
  drain ();
  calls_after_abandon = computer.calls;
  g_task_return_new_error (computer.tasks->pdata[0], G_IO_ERROR, G_IO_ERROR_CANCELLED, "stopped");
  drain ();
  calls_before_return = computer.calls;         /* 1 started, first in first out */
  computer_succeed (&computer, 1, 1);
  drain ();
  computer_succeed (&computer, 2, 3);
  wait_for (requests, 4);

  /* Hits take no permit, even with every permit taken. */
  request_start (cache, g_variant_new_int32 (9), &computer, &holder);
  request_start (cache, g_variant_new_int32 (1), &computer, &hit);
  wait_for (&hit, 1);

  g_assert_cmpuint (calls_after_abandon, ==, 1);
  g_assert_cmpuint (calls_before_return, ==, 2);
  g_assert_cmpuint (computer.calls, ==, 4);
  g_assert_cmpint (g_variant_get_int32 (computer.keys->pdata[1]), ==, 1);
  g_assert_cmpint (g_variant_get_int32 (computer.keys->pdata[2]), ==, 3);
  g_assert_error (requests[4].error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_BUSY);
  g_assert_nonnull (strstr (requests[4].error->message, "1 computations running (max-concurrent 1)"));
  g_assert_nonnull (strstr (requests[4].error->message, "3 waiting (max-queued 3)"));
  g_assert_true (nebula_error_is_retryable (requests[4].error));
  g_assert_error (requests[2].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (test_value_number (requests[1].value), ==, 1);
  g_assert_cmpint (test_value_number (requests[3].value), ==, 3);
  g_assert_cmpint (hit.outcome, ==, NEBULA_COMPUTE_OUTCOME_HIT);

  stats = stats_of (cache);
  g_assert_cmpuint (stats->rejected_busy, ==, 1);
  g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);

  g_task_return_new_error (computer.tasks->pdata[3], G_IO_ERROR, G_IO_ERROR_CANCELLED, "bye");
  drain ();
  for (guint i = 0; i < 5; i++)
    request_clear (&requests[i]);
  request_clear (&hit);
  request_clear (&holder);
  computer_clear (&computer);
}

/* R8 */

static gint64
manual_clock_cb (gpointer user_data)
{
  return *(gint64 *) user_data;
}

static void
run_failing_flight (NebulaAsyncComputeCache *cache,
                    Computer                *computer)
{
  Request requests[2] = { 0 };

  request_start (cache, g_variant_new_int32 (1), computer, &requests[0]);
  request_start (cache, g_variant_new_int32 (1), computer, &requests[1]);
  drain ();
  computer_fail (computer, computer->tasks->len - 1);
  wait_for (requests, 2);
  request_clear (&requests[0]);
  request_clear (&requests[1]);
}

static void
test_r8_circuit_breaker (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  g_autoptr(NebulaAsyncComputeCache) defaults = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  Request open = { 0 }, other_key = { 0 }, probe = { 0 }, joiner = { 0 };
  Request reopened = { 0 }, probe2 = { 0 }, closed = { 0 }, cancelled = { 0 };
  Computer computer;
  gint64 time = 0;
  guint calls_while_open;
  guint threshold;

  defaults = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE, "circuit-breaker", TRUE, NULL);
  g_object_get (defaults, "failure-threshold", &threshold, NULL);
  g_assert_cmpuint (threshold, ==, 5);

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                        "deduplicate", TRUE,
                        "circuit-breaker", TRUE,
                        "failure-threshold", 3,
                        "open-duration", (guint64) 1000,
                        NULL);
  nebula_async_compute_cache_set_clock (cache, manual_clock_cb, &time, NULL);

  /* A cancelled flight is neutral. */
  cancelled.cancellable = g_cancellable_new ();
  request_start (cache, g_variant_new_int32 (1), &computer, &cancelled);
  g_cancellable_cancel (cancelled.cancellable);
  wait_for (&cancelled, 1);
  g_task_return_new_error (computer.tasks->pdata[0], G_IO_ERROR, G_IO_ERROR_CANCELLED, "gone");
  drain ();

  /* Three failed flights of two waiters each: three failures. */
  for (int i = 0; i < 3; i++)
    run_failing_flight (cache, &computer);
  calls_while_open = computer.calls;
  request_start (cache, g_variant_new_int32 (1), &computer, &open);
  request_start (cache, g_variant_new_int32 (2), &computer, &other_key);
  wait_for (&open, 1);
  g_assert_cmpuint (computer.calls, ==, calls_while_open + 1);    /* only key 2 */
  computer_succeed (&computer, computer.tasks->len - 1, 2);
  wait_for (&other_key, 1);

  /* After the open duration one probe runs, and others join it. */
  time += 1000;
  request_start (cache, g_variant_new_int32 (1), &computer, &probe);
  request_start (cache, g_variant_new_int32 (1), &computer, &joiner);
  drain ();
  computer_fail (&computer, computer.tasks->len - 1);
  wait_for (&joiner, 1);
  wait_for (&probe, 1);
  request_start (cache, g_variant_new_int32 (1), &computer, &reopened);
  wait_for (&reopened, 1);

  time += 1000;
  request_start (cache, g_variant_new_int32 (1), &computer, &probe2);
  drain ();
  computer_succeed (&computer, computer.tasks->len - 1, 11);
  wait_for (&probe2, 1);
  request_start (cache, g_variant_new_int32 (1), &computer, &closed);
  wait_for (&closed, 1);

  g_assert_cmpuint (calls_while_open, ==, 4);
  g_assert_error (open.error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_CIRCUIT_OPEN);
  g_assert_nonnull (strstr (open.error->message, "after 3 consecutive failures"));
  g_assert_nonnull (strstr (open.error->message, "retry in 1 ms"));
  g_assert_no_error (other_key.error);
  g_assert_error (probe.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpint (probe.outcome, ==, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  g_assert_error (joiner.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpint (joiner.outcome, ==, NEBULA_COMPUTE_OUTCOME_JOINED);
  g_assert_error (reopened.error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_CIRCUIT_OPEN);
  g_assert_no_error (probe2.error);
  g_assert_cmpint (closed.outcome, ==, NEBULA_COMPUTE_OUTCOME_HIT);
  g_assert_cmpint (test_value_number (closed.value), ==, 11);
  g_assert_cmpuint (computer.calls, ==, 7);

  stats = stats_of (cache);
  g_assert_cmpuint (stats->rejected_open, ==, 2);
  g_assert_cmpuint (stats->loads_failed, ==, 4);

  request_clear (&open);
  request_clear (&other_key);
  request_clear (&probe);
  request_clear (&joiner);
  request_clear (&reopened);
  request_clear (&probe2);
  request_clear (&closed);
  request_clear (&cancelled);
  computer_clear (&computer);
}

/* An open duration of G_MAXINT64 microseconds: the remaining time is
 * printed without overflowing. */
static void
test_r8_open_for_ever (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  Request open = { 0 };
  Computer computer;
  gint64 time = 0;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                        "deduplicate", TRUE,
                        "circuit-breaker", TRUE,
                        "failure-threshold", 1,
                        "open-duration", (guint64) G_MAXINT64,
                        NULL);
  nebula_async_compute_cache_set_clock (cache, manual_clock_cb, &time, NULL);
  run_failing_flight (cache, &computer);

  time = 5;
  request_start (cache, g_variant_new_int32 (1), &computer, &open);
  wait_for (&open, 1);
  g_assert_error (open.error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_CIRCUIT_OPEN);
  /* (G_MAXINT64 - 5) us, rounded up to milliseconds. */
  g_assert_nonnull (strstr (open.error->message, "retry in 9223372036854776 ms"));
  g_assert_null (strchr (open.error->message, '-'));

  time = G_MAXINT64 - 1;        /* still 1 us to go */
  request_clear (&open);
  open = (Request) { 0 };
  request_start (cache, g_variant_new_int32 (1), &computer, &open);
  wait_for (&open, 1);
  g_assert_error (open.error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_CIRCUIT_OPEN);
  g_assert_nonnull (strstr (open.error->message, "retry in 1 ms"));

  request_clear (&open);
  computer_clear (&computer);
}

/* Without deduplication, requests still join the probe: one probe runs. */
static void
test_r8_probe_without_deduplication (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  Request failing = { 0 }, probe = { 0 }, joiner = { 0 };
  Computer computer;
  gint64 time = 0;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                        "deduplicate", TRUE,
                        "circuit-breaker", TRUE,
                        "failure-threshold", 1,
                        "open-duration", (guint64) 10,
                        NULL);
  nebula_async_compute_cache_set_clock (cache, manual_clock_cb, &time, NULL);
  request_start (cache, g_variant_new_int32 (1), &computer, &failing);
  computer_fail (&computer, 0);
  wait_for (&failing, 1);
  time += 10;
  request_start (cache, g_variant_new_int32 (1), &computer, &probe);
  request_start (cache, g_variant_new_int32 (1), &computer, &joiner);
  computer_succeed (&computer, 1, 4);
  wait_for (&joiner, 1);
  wait_for (&probe, 1);

  g_assert_cmpuint (computer.calls, ==, 2);
  g_assert_cmpint (probe.outcome, ==, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  g_assert_cmpint (joiner.outcome, ==, NEBULA_COMPUTE_OUTCOME_JOINED);
  g_assert_cmpint (test_value_number (joiner.value), ==, 4);
  request_clear (&failing);
  request_clear (&probe);
  request_clear (&joiner);
  computer_clear (&computer);
}

/* R9 */

typedef struct
{
  guint   count;
  GError *error;
} LoadFailures;

static void
load_failed_cb (NebulaAsyncComputeCache *cache,
                GVariant                *key,
                GError                  *error,
                LoadFailures            *failures)
{
  failures->count++;
  g_clear_error (&failures->error);
  failures->error = g_error_copy (error);
}

static void
test_r9_time (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  Request first = { 0 }, fresh = { 0 }, stale = { 0 }, stale2 = { 0 };
  Request still_old = { 0 }, stale3 = { 0 }, refreshed = { 0 }, expired = { 0 };
  LoadFailures failures = { 0 };
  Computer computer;
  gint64 time = 0;
  guint calls_after_stale;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                        "time-to-live", (guint64) 1000,
                        "refresh-after", (guint64) 100,
                        NULL);
  nebula_async_compute_cache_set_clock (cache, manual_clock_cb, &time, NULL);
  g_signal_connect (cache, "load-failed", G_CALLBACK (load_failed_cb), &failures);

  /* A flight never expires: it outlives the time-to-live and stores. */
  request_start (cache, g_variant_new_int32 (1), &computer, &first);
  time += 5000;
  computer_succeed (&computer, 0, 1);
  wait_for (&first, 1);

  /* TTL starts at insertion. */
  request_start (cache, g_variant_new_int32 (1), &computer, &fresh);
  wait_for (&fresh, 1);

  time += 100;
  request_start (cache, g_variant_new_int32 (1), &computer, &stale);
  request_start (cache, g_variant_new_int32 (1), &computer, &stale2);
  wait_for (&stale2, 1);
  calls_after_stale = computer.calls;
  computer_fail (&computer, 1);
  drain ();
  request_start (cache, g_variant_new_int32 (1), &computer, &still_old);
  wait_for (&still_old, 1);
  drain ();
  computer_succeed (&computer, 2, 2);
  drain ();
  request_start (cache, g_variant_new_int32 (1), &computer, &refreshed);
  wait_for (&refreshed, 1);

  time += 1000;
  request_start (cache, g_variant_new_int32 (1), &computer, &expired);
  drain ();
  computer_succeed (&computer, 3, 3);
  wait_for (&expired, 1);

  g_assert_cmpint (first.outcome, ==, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  g_assert_cmpint (fresh.outcome, ==, NEBULA_COMPUTE_OUTCOME_HIT);
  g_assert_cmpint (stale.outcome, ==, NEBULA_COMPUTE_OUTCOME_STALE);
  g_assert_cmpint (test_value_number (stale.value), ==, 1);
  g_assert_cmpint (stale2.outcome, ==, NEBULA_COMPUTE_OUTCOME_STALE);
  g_assert_cmpuint (calls_after_stale, ==, 2);  /* one refresh for both */
  g_assert_cmpuint (failures.count, ==, 1);
  g_assert_error (failures.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpint (still_old.outcome, ==, NEBULA_COMPUTE_OUTCOME_STALE);
  g_assert_cmpint (test_value_number (still_old.value), ==, 1);   /* the failure kept it */
  g_assert_cmpint (refreshed.outcome, ==, NEBULA_COMPUTE_OUTCOME_HIT);
  g_assert_cmpint (test_value_number (refreshed.value), ==, 2);
  g_assert_cmpint (expired.outcome, ==, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  g_assert_cmpint (test_value_number (expired.value), ==, 3);

  g_clear_error (&failures.error);
  request_clear (&first);
  request_clear (&fresh);
  request_clear (&stale);
  request_clear (&stale2);
  request_clear (&still_old);
  request_clear (&stale3);
  request_clear (&refreshed);
  request_clear (&expired);
  computer_clear (&computer);
}

/* R10 */

static void
test_r10_eviction (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = nebula_async_compute_cache_new (NEBULA_EVICTION_POLICY_LRU, 2);
  g_autoptr(NebulaCacheStats) stats = NULL;
  Request requests[5] = { 0 };
  Computer computer;

  computer_init (&computer);
  for (guint i = 0; i < 3; i++)
    {
      request_start (cache, g_variant_new_int32 (i), &computer, &requests[i]);
      computer_succeed (&computer, i, i);
      wait_for (&requests[i], 1);
    }
  request_start (cache, g_variant_new_int32 (2), &computer, &requests[3]);
  request_start (cache, g_variant_new_int32 (0), &computer, &requests[4]);
  wait_for (&requests[3], 1);

  g_assert_cmpint (requests[3].outcome, ==, NEBULA_COMPUTE_OUTCOME_HIT);
  g_assert_cmpuint (computer.calls, ==, 4);     /* 0 was evicted */
  g_assert_cmpuint (nebula_async_compute_cache_get_n_entries (cache), ==, 2);
  stats = stats_of (cache);
  g_assert_cmpuint (stats->evictions, ==, 1);

  computer_succeed (&computer, 3, 0);
  wait_for (&requests[4], 1);
  for (guint i = 0; i < 5; i++)
    request_clear (&requests[i]);
  computer_clear (&computer);
}

/* R11 */

static void
test_r11_stats (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  Request requests[6] = { 0 };
  Computer computer;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                        "deduplicate", TRUE, "max-concurrent", 1, NULL);
  request_start (cache, g_variant_new_int32 (1), &computer, &requests[0]);
  request_start (cache, g_variant_new_int32 (1), &computer, &requests[1]);   /* join */
  request_start (cache, g_variant_new_int32 (2), &computer, &requests[2]);   /* queued */
  requests[3].cancellable = g_cancellable_new ();
  g_cancellable_cancel (requests[3].cancellable);
  request_start (cache, g_variant_new_int32 (3), &computer, &requests[3]);   /* cancelled */
  g_usleep (2000);
  computer_succeed (&computer, 0, 1);
  drain ();
  computer_fail (&computer, 1);
  wait_for (requests, 4);
  request_start (cache, g_variant_new_int32 (1), &computer, &requests[4]);   /* hit */
  request_start (cache, NULL, &computer, &requests[5]);                       /* invalid */
  wait_for (requests, 6);

  g_assert_error (requests[5].error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_INVALID_KEY);
  stats = stats_of (cache);
  g_assert_cmpuint (stats->requests, ==, 5);
  g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);
  g_assert_cmpuint (stats->hits, ==, 1);
  g_assert_cmpuint (stats->misses, ==, 4);
  g_assert_cmpuint (stats->joins, ==, 1);
  g_assert_cmpuint (stats->loads_ok, ==, 1);
  g_assert_cmpuint (stats->loads_failed, ==, 1);
  g_assert_cmpuint (stats->cancellations, ==, 1);
  g_assert_cmpuint (stats->insertions, ==, 1);
  g_assert_cmpuint (stats->queue_wait_us, >=, 2000);
  g_assert_cmpuint (stats->load_time_us, >=, 2000);
  for (guint i = 0; i < 6; i++)
    request_clear (&requests[i]);
  computer_clear (&computer);
}

/* A request always completes. */

typedef enum
{
  WRONG_BOOLEAN,
  WRONG_INT,
  WRONG_POINTER,
  WRONG_BARE_POINTER,
  WRONG_NOT_AN_OBJECT,
  N_WRONG,
} WrongCompletion;

/* Completes a parked task with something other than a GObject value. */
static void
return_wrong (GTask           *task,
              WrongCompletion  how)
{
  g_auto(GValue) number = G_VALUE_INIT;

  switch (how)
    {
    case WRONG_BOOLEAN:
      g_task_return_boolean (task, TRUE);
      break;
    case WRONG_INT:
      g_task_return_int (task, 42);
      break;
    case WRONG_POINTER:
      g_task_return_pointer (task, test_value_new (7), g_object_unref);
      break;
    case WRONG_BARE_POINTER:
      g_task_return_pointer (task, (gpointer) "static", NULL);
      break;
    case WRONG_NOT_AN_OBJECT:
      g_value_init (&number, G_TYPE_INT);
      g_value_set_int (&number, 42);
      g_task_return_value (task, &number);
      break;
    case N_WRONG:
    default:
      g_assert_not_reached ();
    }
}

static void
test_wrong_completion (void)
{
  static const char *expected[N_WRONG] = {
    [WRONG_BOOLEAN] = "a boolean, an integer or a pointer without destroy function",
    [WRONG_INT] = "a boolean, an integer or a pointer without destroy function",
    [WRONG_POINTER] = "returned a pointer on its task (g_task_return_pointer())",
    [WRONG_BARE_POINTER] = "a boolean, an integer or a pointer without destroy function",
    [WRONG_NOT_AN_OBJECT] = "a value of type gint, not an object",
  };

  for (WrongCompletion how = 0; how < N_WRONG; how++)
    {
      g_autoptr(NebulaAsyncComputeCache) cache = NULL;
      g_autoptr(NebulaCacheStats) stats = NULL;
      Request requests[2] = { 0 }, retry = { 0 };
      Computer computer;

      g_test_message ("wrong completion %d", how);
      computer_init (&computer);
      cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE, "deduplicate", TRUE, NULL);
      request_start (cache, g_variant_new_int32 (1), &computer, &requests[0]);
      request_start (cache, g_variant_new_int32 (1), &computer, &requests[1]);
      drain ();
      return_wrong (computer.tasks->pdata[0], how);
      wait_for (requests, 2);

      for (guint i = 0; i < 2; i++)
        {
          g_assert_cmpuint (requests[i].completions, ==, 1);
          g_assert_null (requests[i].value);
          g_assert_error (requests[i].error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED);
          g_assert_nonnull (strstr (requests[i].error->message, expected[how]));
          g_assert_nonnull (strstr (requests[i].error->message, "must return a GObject"));
        }
      g_assert_cmpint (requests[1].outcome, ==, NEBULA_COMPUTE_OUTCOME_JOINED);
      stats = stats_of (cache);
      g_assert_cmpuint (stats->loads_failed, ==, 1);
      g_assert_cmpuint (nebula_async_compute_cache_get_n_flights (cache), ==, 0);
      g_assert_cmpuint (nebula_async_compute_cache_get_n_entries (cache), ==, 0);

      /* Nothing was left behind: the key computes afresh. */
      request_start (cache, g_variant_new_int32 (1), &computer, &retry);
      drain ();
      computer_succeed (&computer, 1, 5);
      wait_for (&retry, 1);
      g_assert_no_error (retry.error);
      g_assert_cmpint (retry.outcome, ==, NEBULA_COMPUTE_OUTCOME_COMPUTED);

      request_clear (&requests[0]);
      request_clear (&requests[1]);
      request_clear (&retry);
      computer_clear (&computer);
    }
}

/* As a binding does when the function raised: takes a reference for the
 * call and drops it without returning the task. */
static void
drop_cb (GVariant     *key,
         GCancellable *cancellable,
         GTask        *task,
         gpointer      user_data)
{
  Computer *computer = user_data;
  GTask *wrapper = g_object_ref (task);

  computer->calls++;
  g_object_unref (wrapper);
}

/* Keeps the task without a reference: the cache keeps it alive. */
static void
borrow_cb (GVariant     *key,
           GCancellable *cancellable,
           GTask        *task,
           gpointer      user_data)
{
  GTask **borrowed = user_data;

  *borrowed = task;
}

static void
test_dropped_task (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  Request dropped[2] = { 0 }, parked = { 0 }, fresh = { 0 }, borrowed_request = { 0 };
  Computer computer;
  GTask *borrowed = NULL;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE, "deduplicate", TRUE, NULL);

  /* Dropped inside the compute function, with a joined waiter. */
  nebula_async_compute_cache_get_or_compute_async (cache, g_variant_new_int32 (1), drop_cb, &computer,
                                                   NULL, NULL, request_done_cb, &dropped[0]);
  request_start (cache, g_variant_new_int32 (1), &computer, &dropped[1]);
  wait_for (dropped, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_error (dropped[i].error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED);
      g_assert_nonnull (strstr (dropped[i].error->message, "dropped its task without returning it"));
    }
  g_assert_cmpint (dropped[1].outcome, ==, NEBULA_COMPUTE_OUTCOME_JOINED);
  g_assert_cmpuint (computer.calls, ==, 1);

  /* Dropped later, from outside the function. */
  request_start (cache, g_variant_new_int32 (1), &computer, &parked);
  drain ();
  g_assert_cmpuint (parked.completions, ==, 0);
  g_ptr_array_remove_index (computer.tasks, 0);
  wait_for (&parked, 1);
  g_assert_error (parked.error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED);
  g_assert_cmpuint (nebula_async_compute_cache_get_n_flights (cache), ==, 0);

  /* The key starts fresh and succeeds. */
  request_start (cache, g_variant_new_int32 (1), &computer, &fresh);
  drain ();
  computer_succeed (&computer, computer.tasks->len - 1, 9);
  wait_for (&fresh, 1);
  g_assert_no_error (fresh.error);
  g_assert_cmpint (fresh.outcome, ==, NEBULA_COMPUTE_OUTCOME_COMPUTED);
  g_assert_cmpint (test_value_number (fresh.value), ==, 9);

  /* A task kept without a reference is not a dropped one. */
  nebula_async_compute_cache_get_or_compute_async (cache, g_variant_new_int32 (2), borrow_cb, &borrowed,
                                                   NULL, NULL, request_done_cb, &borrowed_request);
  drain ();
  g_assert_cmpuint (borrowed_request.completions, ==, 0);
  g_assert_nonnull (borrowed);
  {
    g_autoptr(GObject) value = test_value_new (3);

    nebula_compute_task_return_object (borrowed, value);
  }
  wait_for (&borrowed_request, 1);
  g_assert_no_error (borrowed_request.error);
  g_assert_cmpint (test_value_number (borrowed_request.value), ==, 3);

  request_clear (&dropped[0]);
  request_clear (&dropped[1]);
  request_clear (&parked);
  request_clear (&fresh);
  request_clear (&borrowed_request);
  computer_clear (&computer);
}

/* A compute function that asks the cache for another key (or its own)
 * before it parks its task. */
typedef struct
{
  NebulaAsyncComputeCache *cache;
  GVariant                *inner_key;
  Request                 *inner;
  Computer                *computer;
} Nested;

static void
nested_cb (GVariant     *key,
           GCancellable *cancellable,
           GTask        *task,
           gpointer      user_data)
{
  Nested *nested = user_data;

  g_autoptr(GVariant) inner_key = g_steal_pointer (&nested->inner_key);

  park_cb (key, cancellable, task, nested->computer);
  if (inner_key != NULL)
    request_start (nested->cache, inner_key, nested->computer, nested->inner);
}

static void
test_self_wait (void)
{
  struct {
    const char *properties;
    int         inner_key;
    const char *expected;       /* NULL: the inner request runs */
  } cases[] = {
    { "deduplicate", 1, "made by the compute function of the computation it would join" },
    { "max-concurrent=1", 2, "all 1 (max-concurrent 1) are held" },
    { "max-concurrent=1,deduplicate", 1, "would join" },
    { "max-concurrent=2", 2, NULL },
    { "", 1, NULL },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(NebulaAsyncComputeCache) cache = NULL;
      Request outer = { 0 }, inner = { 0 };
      Computer computer;
      Nested nested;

      g_test_message ("%s, inner key %d", cases[c].properties, cases[c].inner_key);
      computer_init (&computer);
      cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                            "deduplicate", strstr (cases[c].properties, "deduplicate") != NULL,
                            "max-concurrent", strstr (cases[c].properties, "max-concurrent=1") != NULL ? 1 :
                                              strstr (cases[c].properties, "max-concurrent=2") != NULL ? 2 : 0,
                            NULL);
      nested = (Nested) {
        .cache = cache,
        .inner_key = g_variant_ref_sink (g_variant_new_int32 (cases[c].inner_key)),
        .inner = &inner,
        .computer = &computer,
      };
      nebula_async_compute_cache_get_or_compute_async (cache, g_variant_new_int32 (1), nested_cb, &nested,
                                                       NULL, NULL, request_done_cb, &outer);
      drain ();
      if (cases[c].expected != NULL)
        {
          /* Failed at once, without computing; the outer one goes on. */
          g_assert_cmpuint (inner.completions, ==, 1);
          g_assert_error (inner.error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_FAILED);
          g_assert_nonnull (strstr (inner.error->message, cases[c].expected));
          g_assert_nonnull (strstr (inner.error->message, "it would wait for itself"));
          g_assert_cmpuint (computer.calls, ==, 1);
        }
      else
        {
          g_assert_cmpuint (inner.completions, ==, 0);
          g_assert_cmpuint (computer.calls, ==, 2);
          computer_succeed (&computer, 1, 2);
          wait_for (&inner, 1);
          g_assert_no_error (inner.error);
        }
      g_assert_cmpuint (outer.completions, ==, 0);
      computer_succeed (&computer, 0, 1);
      wait_for (&outer, 1);
      g_assert_no_error (outer.error);
      g_assert_cmpint (test_value_number (outer.value), ==, 1);

      request_clear (&outer);
      request_clear (&inner);
      computer_clear (&computer);
    }
}

/* R12 */

static void
set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
}

static void
test_r12_dispose (void)
{
  NebulaAsyncComputeCache *cache;
  Request requests[4] = { 0 };
  Computer computer;
  gboolean all_cancelled;
  gboolean finalized = FALSE;

  computer_init (&computer);
  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                        "deduplicate", TRUE, "max-concurrent", 1, NULL);
  /* Object data goes at finalization (weak pointers go at dispose). */
  g_object_set_data_full (G_OBJECT (cache), "finalized", &finalized, set_flag_cb);
  request_start (cache, g_variant_new_int32 (1), &computer, &requests[0]);   /* running */
  request_start (cache, g_variant_new_int32 (1), &computer, &requests[1]);   /* joined */
  request_start (cache, g_variant_new_int32 (2), &computer, &requests[2]);   /* queued */
  requests[3].cancellable = g_cancellable_new ();
  request_start (cache, g_variant_new_int32 (3), &computer, &requests[3]);   /* queued */
  drain ();

  g_object_run_dispose (G_OBJECT (cache));
  all_cancelled = g_cancellable_is_cancelled (computer.cancellables->pdata[0]);
  /* The running computation honours its cancellable. */
  g_task_return_new_error (computer.tasks->pdata[0], G_IO_ERROR, G_IO_ERROR_CANCELLED, "stopped");
  wait_for (requests, 4);
  g_object_unref (cache);
  drain ();

  g_assert_true (all_cancelled);
  g_assert_cmpuint (computer.calls, ==, 1);
  for (guint i = 0; i < 4; i++)
    {
      g_assert_cmpuint (requests[i].completions, ==, 1);
      g_assert_error (requests[i].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      request_clear (&requests[i]);
    }
  g_assert_true (finalized);                    /* nothing kept it alive */
  computer_clear (&computer);
}

/* Several caller threads, each with its own main context, share one cache
 * with every feature on; computations return from a thread pool, some
 * fail, some requests are cancelled. Every request completes exactly once,
 * in its own thread. */

#define STRESS_THREADS  4
#define STRESS_REQUESTS 300

typedef struct
{
  NebulaAsyncComputeCache *cache;
  GThreadPool             *pool;
  Request                  requests[STRESS_REQUESTS];
  GThread                 *thread;
  guint                    seed;
  gint                    *running_callers;
} StressCaller;

static void
stress_worker (gpointer data,
               gpointer user_data)
{
  GTask *task = data;
  GVariant *key = g_task_get_task_data (task);
  gint32 n = g_variant_get_int32 (key);

  g_usleep (50 + (n % 5) * 20);
  if (n % 7 == 0)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "key %d fails", n);
  else
    {
      g_autoptr(GObject) value = test_value_new (n);

      nebula_compute_task_return_object (task, value);
    }
  g_object_unref (task);
}

static gpointer
stress_thread (gpointer data)
{
  StressCaller *caller = data;
  GMainContext *context = g_main_context_new ();
  GRand *rand = g_rand_new_with_seed (caller->seed);

  g_main_context_push_thread_default (context);
  for (guint i = 0; i < STRESS_REQUESTS; i++)
    {
      Request *request = &caller->requests[i];

      if (g_rand_int_range (rand, 0, 10) == 0)
        request->cancellable = g_cancellable_new ();
      nebula_async_compute_cache_get_or_compute_async (caller->cache,
                                                       g_variant_new_int32 (g_rand_int_range (rand, 0, 40)),
                                                       pool_compute_cb, caller->pool, NULL,
                                                       request->cancellable, request_done_cb, request);
      if (request->cancellable != NULL)
        g_cancellable_cancel (request->cancellable);
      if (i % 50 == 0)
        nebula_async_compute_cache_invalidate (caller->cache, g_variant_new_int32 (i % 40));
      while (g_main_context_iteration (context, FALSE))
        ;
    }
  wait_for (caller->requests, STRESS_REQUESTS);

  /* As with any GTask, the context that started a computation must run
   * until it returned, even when its own request was cancelled and other
   * threads joined. */
  g_atomic_int_dec_and_test (caller->running_callers);
  while (g_atomic_int_get (caller->running_callers) > 0 ||
         nebula_async_compute_cache_get_n_flights (caller->cache) > 0)
    {
      if (!g_main_context_iteration (context, FALSE))
        g_usleep (100);
    }
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  g_rand_free (rand);
  return NULL;
}

static void
stress_pool_worker (gpointer data,
                    gpointer user_data)
{
  stress_worker (data, user_data);
}

static void
test_threads_stress (void)
{
  g_autoptr(NebulaAsyncComputeCache) cache = NULL;
  g_autoptr(NebulaCacheStats) stats = NULL;
  StressCaller *callers = g_new0 (StressCaller, STRESS_THREADS);
  GThreadPool *pool = g_thread_pool_new (stress_pool_worker, NULL, 3, FALSE, NULL);
  guint64 completed = 0;
  gint running_callers = STRESS_THREADS;

  cache = g_object_new (NEBULA_TYPE_ASYNC_COMPUTE_CACHE,
                        "max-entries", 16,
                        "deduplicate", TRUE,
                        "max-concurrent", 3,
                        "max-queued", 8,
                        "circuit-breaker", TRUE,
                        "failure-threshold", 2,
                        "open-duration", (guint64) 1000,
                        NULL);
  for (guint t = 0; t < STRESS_THREADS; t++)
    {
      callers[t].cache = cache;
      callers[t].pool = pool;
      callers[t].seed = 1000 + t;
      callers[t].running_callers = &running_callers;
      callers[t].thread = g_thread_new ("stress", stress_thread, &callers[t]);
    }
  for (guint t = 0; t < STRESS_THREADS; t++)
    g_thread_join (callers[t].thread);
  g_thread_pool_free (pool, FALSE, TRUE);

  for (guint t = 0; t < STRESS_THREADS; t++)
    for (guint i = 0; i < STRESS_REQUESTS; i++)
      {
        Request *request = &callers[t].requests[i];

        g_assert_cmpuint (request->completions, ==, 1);
        g_assert_true (request->thread == callers[t].thread);
        g_assert_true ((request->value == NULL) != (request->error == NULL));
        if (request->value != NULL)
          g_assert_cmpint (test_value_number (request->value) % 7, !=, 0);
        completed++;
        request_clear (request);
      }
  g_assert_cmpuint (completed, ==, STRESS_THREADS * STRESS_REQUESTS);
  g_assert_cmpuint (nebula_async_compute_cache_get_n_flights (cache), ==, 0);
  stats = stats_of (cache);
  g_assert_cmpuint (stats->requests, ==, stats->hits + stats->misses);
  g_assert_cmpuint (stats->requests, ==, STRESS_THREADS * STRESS_REQUESTS);
  g_assert_cmpuint (nebula_async_compute_cache_get_n_entries (cache), <=, 16);
  g_free (callers);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nebula/async-cache/r1-delivery", test_r1_delivery);
  g_test_add_func ("/nebula/async-cache/r1-delivery/thread-pool", test_r1_thread_pool);
  g_test_add_func ("/nebula/async-cache/r2-single-flight", test_r2_single_flight);
  g_test_add_func ("/nebula/async-cache/r3-errors", test_r3_errors);
  g_test_add_func ("/nebula/async-cache/r4-cancel-one", test_r4_cancel_one);
  g_test_add_func ("/nebula/async-cache/r5-last-waiter-gone", test_r5_last_waiter_gone);
  g_test_add_func ("/nebula/async-cache/r5-keep-abandoned", test_r5_keep_abandoned);
  g_test_add_func ("/nebula/async-cache/r6-invalidate-during-flight", test_r6_invalidate_during_flight);
  g_test_add_func ("/nebula/async-cache/r6-invalidate-queued-flight", test_r6_invalidate_queued_flight);
  g_test_add_func ("/nebula/async-cache/r7-concurrency-limit", test_r7_concurrency_limit);
  g_test_add_func ("/nebula/async-cache/r8-circuit-breaker", test_r8_circuit_breaker);
  g_test_add_func ("/nebula/async-cache/r8-probe-without-deduplication", test_r8_probe_without_deduplication);
  g_test_add_func ("/nebula/async-cache/r8-open-for-ever", test_r8_open_for_ever);
  g_test_add_func ("/nebula/async-cache/r9-time", test_r9_time);
  g_test_add_func ("/nebula/async-cache/r10-eviction", test_r10_eviction);
  g_test_add_func ("/nebula/async-cache/r11-stats", test_r11_stats);
  g_test_add_func ("/nebula/async-cache/r12-dispose", test_r12_dispose);
  g_test_add_func ("/nebula/async-cache/always-completes/wrong-completion", test_wrong_completion);
  g_test_add_func ("/nebula/async-cache/always-completes/dropped-task", test_dropped_task);
  g_test_add_func ("/nebula/async-cache/always-completes/self-wait", test_self_wait);
  g_test_add_func ("/nebula/async-cache/threads-stress", test_threads_stress);

  return g_test_run ();
}
