/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-training-session"

#include "config.h"

#include "weft-training-session.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* ThreadSanitizer cannot see GLib's own synchronisation (GMutex is a futex and GThreadPool
 * hands tasks over inside libglib, neither instrumented), so in a -fsanitize=thread build
 * the hand-offs below are announced to it: without them every access guarded by the
 * session mutex or handed over with the task is reported as a race. */
#if defined(__SANITIZE_THREAD__)
#define WEFT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_TSAN 1
#endif
#endif
#ifdef WEFT_TSAN
void __tsan_acquire (void *addr);
void __tsan_release (void *addr);
#define TSAN_ACQUIRE(p) __tsan_acquire ((void *) (p))
#define TSAN_RELEASE(p) __tsan_release ((void *) (p))
#else
#define TSAN_ACQUIRE(p) ((void) 0)
#define TSAN_RELEASE(p) ((void) 0)
#endif

/* Worker reports reach the main loop at most this often (one frame at 60 Hz). */
#define FLUSH_INTERVAL_MS 16
#define MAX_SHARE_ROWS    256

typedef enum { EVENT_STEP, EVENT_EPOCH } EventKind;

typedef struct
{
  EventKind kind;
  gint64    time;           /* g_get_monotonic_time at the worker */
  int64_t   samples_run;    /* samples trained since this call started */
  union
  {
    WeftStepReport  step;
    WeftEpochReport epoch;
  };
} Event;

/* One call of start/continue, owned by its GTask. */
typedef struct
{
  WeftTrainingSession *session;   /* borrowed: the task holds a ref */
  WeftTrainer         *trainer;   /* the session's, or created by the worker (below) */
  gboolean             create;    /* compile and bind on the worker first */
  WeftGraph           *copy;      /* borrowed from the session, for create */
  WeftTrainConfig      config;
  const WeftDataset   *data;      /* borrowed from the session */
  volatile int         cancel;
  GCancellable        *cancellable;
  gulong               cancel_id;
  gboolean             share;
  int64_t              samples_run;
  int64_t              last_seen;
  gint64               start_time;
} Run;

struct _WeftTrainingSession
{
  GObject parent_instance;

  /* Owned */
  WeftGraph           *copy;        /* the worker's graph while a trainer exists */
  WeftTrainer         *trainer;
  WeftDataset         *data;
  WeftTrainConfig      config;
  GCancellable        *cancellable; /* of the running call */
  GMutex               mutex;       /* guards pending, share_pending, flush_source */
  GArray              *pending;     /* Event */
  WeftGradientShare   *share_pending;
  int                  share_pending_rows;
  int                  share_pending_epoch;
  GSource             *flush_source;
  WeftGradientShare   *share;
  int                  share_rows;
  int                  share_epoch;

  /* Borrowed */
  WeftHistory         *history;

  guint64              source_serial;
  gboolean             running;
  gboolean             share_enabled;
  gboolean             begin_run;   /* start a history run with the next report */
  gint64               run_start;
  WeftTrainingProgress progress;
};

G_DEFINE_FINAL_TYPE (WeftTrainingSession, weft_training_session, G_TYPE_OBJECT)

G_DEFINE_QUARK (weft-training-session-error-quark, weft_training_session_error)

enum { PROP_0, PROP_RUNNING, PROP_CAN_CONTINUE, N_PROPS };
static GParamSpec *properties[N_PROPS];

enum { PROGRESS, EPOCH, FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- worker side ------------------------------------------------------------------------ */

static gboolean flush_cb (gpointer data);

/* Called with the mutex held. */
static void
schedule_flush_locked (WeftTrainingSession *self)
{
  if (self->flush_source != NULL)
    return;
  self->flush_source = g_timeout_source_new (FLUSH_INTERVAL_MS);
  /* before GTK's layout and redraw (G_PRIORITY_HIGH_IDLE + 10 / + 20): each frame shows the
   * reports that arrived before it, and continuous redraws cannot starve the delivery */
  g_source_set_priority (self->flush_source, G_PRIORITY_HIGH_IDLE);
  g_source_set_callback (self->flush_source, flush_cb, g_object_ref (self), g_object_unref);
  g_source_set_static_name (self->flush_source, "[weft] training reports");
  g_source_attach (self->flush_source, NULL);
}

static bool
on_step (const WeftStepReport *report, void *user_data)
{
  Run *run = user_data;
  WeftTrainingSession *self = run->session;
  if (report->batch == 0)
    run->last_seen = 0;
  run->samples_run += report->samples_seen - run->last_seen;
  run->last_seen = report->samples_seen;

  Event ev = { .kind = EVENT_STEP, .time = g_get_monotonic_time (),
               .samples_run = run->samples_run };
  ev.step = *report;
  g_mutex_lock (&self->mutex);
  TSAN_ACQUIRE (&self->mutex);
  g_array_append_val (self->pending, ev);
  schedule_flush_locked (self);
  TSAN_RELEASE (&self->mutex);
  g_mutex_unlock (&self->mutex);
  return true;
}

static void
on_epoch (const WeftEpochReport *report, void *user_data)
{
  Run *run = user_data;
  WeftTrainingSession *self = run->session;
  WeftGradientShare *rows = NULL;
  int n = 0;

  if (run->share)
    {
      /* The engine allows this from on_epoch: one forward and one backward per head on the
       * first batch, weights untouched. A failure only means no share for this epoch. */
      rows = g_new0 (WeftGradientShare, MAX_SHARE_ROWS);
      n = weft_trainer_gradient_share (run->trainer, run->data, rows, MAX_SHARE_ROWS, NULL);
      if (n <= 0)
        g_clear_pointer (&rows, g_free);
      n = MIN (n, MAX_SHARE_ROWS);
    }

  Event ev = { .kind = EVENT_EPOCH, .time = g_get_monotonic_time (),
               .samples_run = run->samples_run };
  ev.epoch = *report;
  g_mutex_lock (&self->mutex);
  TSAN_ACQUIRE (&self->mutex);
  g_array_append_val (self->pending, ev);
  if (rows != NULL)
    {
      g_free (self->share_pending);
      self->share_pending = rows;
      self->share_pending_rows = n;
      self->share_pending_epoch = report->epoch;
    }
  schedule_flush_locked (self);
  TSAN_RELEASE (&self->mutex);
  g_mutex_unlock (&self->mutex);
}

static void
cancelled_cb (GCancellable *cancellable, gpointer data)
{
  Run *run = data;
  g_atomic_int_set (&run->cancel, 1);   /* polled by the engine between batches */
}

static void
run_free (gpointer data)
{
  Run *run = data;
  /* Freed with the inner task, on whichever thread drops it last: after task_done_cb. */
  TSAN_ACQUIRE (run);
  if (run->cancel_id != 0)
    g_cancellable_disconnect (run->cancellable, run->cancel_id);
  if (run->create)
    weft_trainer_free (run->trainer);   /* NULL unless the session never took it */
  g_clear_object (&run->cancellable);
  g_free (run);
}

static void
train_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Run *run = task_data;
  WeftTrainCallbacks cb = { on_step, on_epoch, run, &run->cancel };
  WeftError err = { 0 };

  TSAN_ACQUIRE (run);   /* released by launch */

  if (run->create)
    {
      /* compiling the plan and checking every sample take a while on big data */
      run->trainer = weft_trainer_new (run->copy, &run->config, &err);
      if (run->trainer == NULL || !weft_trainer_check_data (run->trainer, run->data, &err))
        {
          g_clear_pointer (&run->trainer, weft_trainer_free);
          TSAN_RELEASE (run);   /* acquired by task_done_cb */
          g_task_return_new_error (task, WEFT_TRAINING_SESSION_ERROR, err.code, "%s",
                                   err.message);
          return;
        }
    }
  gboolean fitted = weft_trainer_fit (run->trainer, run->data, &cb, &err);
  TSAN_RELEASE (run);   /* acquired by task_done_cb */
  if (fitted)
    g_task_return_boolean (task, TRUE);
  else if (err.code == WEFT_ERROR_CANCELLED)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s", err.message);
  else
    g_task_return_new_error (task, WEFT_TRAINING_SESSION_ERROR, err.code, "%s", err.message);
}

/* ---- main-thread side ------------------------------------------------------------------- */

static void
deliver (WeftTrainingSession *self, GArray *events)
{
  WeftTrainingProgress *p = &self->progress;
  gboolean stepped = FALSE;

  for (guint i = 0; i < events->len; i++)
    {
      const Event *ev = &g_array_index (events, Event, i);
      if (self->begin_run && self->history != NULL)
        weft_history_begin_run (self->history);
      self->begin_run = FALSE;
      double elapsed = (ev->time - self->run_start) / (double) G_USEC_PER_SEC;
      p->elapsed = elapsed;
      p->samples_per_second = elapsed > 0 ? ev->samples_run / elapsed : NAN;
      if (ev->kind == EVENT_STEP)
        {
          if (self->history != NULL)
            weft_history_add_step (self->history, &ev->step);
          p->epoch = ev->step.epoch;
          p->batch = ev->step.batch + 1;
          p->n_batches = ev->step.n_batches;
          p->step = ev->step.step;
          stepped = TRUE;
        }
      else
        {
          if (self->history != NULL)
            weft_history_add_epoch (self->history, &ev->epoch);
          p->epochs_this_run++;
          p->epoch = ev->epoch.epoch;
          g_signal_emit (self, signals[EPOCH], 0, ev->epoch.epoch);
        }
      double done = p->epochs_this_run
                    + (p->n_batches > 0 && ev->kind == EVENT_STEP
                       ? (double) p->batch / p->n_batches : 0);
      if (ev->kind == EVENT_STEP && p->batch == p->n_batches)
        done = p->epochs_this_run + 1;   /* epoch report (validation) still to come */
      p->eta = done > 0 && p->n_epochs > 0 ? elapsed / done * MAX (0, p->n_epochs - done) : NAN;
    }
  if (stepped || events->len > 0)
    g_signal_emit (self, signals[PROGRESS], 0);
}

static void
flush (WeftTrainingSession *self)
{
  GArray *events;
  WeftGradientShare *share;
  int share_rows, share_epoch;

  g_mutex_lock (&self->mutex);
  TSAN_ACQUIRE (&self->mutex);
  events = self->pending;
  self->pending = g_array_new (FALSE, FALSE, sizeof (Event));
  share = g_steal_pointer (&self->share_pending);
  share_rows = self->share_pending_rows;
  share_epoch = self->share_pending_epoch;
  if (self->flush_source != NULL)
    {
      g_source_destroy (self->flush_source);
      g_clear_pointer (&self->flush_source, g_source_unref);
    }
  TSAN_RELEASE (&self->mutex);
  g_mutex_unlock (&self->mutex);

  if (share != NULL)
    {
      g_free (self->share);
      self->share = share;
      self->share_rows = share_rows;
      self->share_epoch = share_epoch;
    }
  deliver (self, events);
  g_array_unref (events);
}

static gboolean
flush_cb (gpointer data)
{
  flush (WEFT_TRAINING_SESSION (data));
  return G_SOURCE_REMOVE;
}

static void
set_running (WeftTrainingSession *self, gboolean running)
{
  if (self->running == running)
    return;
  self->running = running;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_CONTINUE]);
}

static void
task_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *outer = data;   /* the caller's task, whose source object is the session */
  WeftTrainingSession *self = WEFT_TRAINING_SESSION (g_task_get_source_object (outer));
  g_autoptr(GError) error = NULL;

  flush (self);   /* every report before "finished" */
  Run *run = g_task_get_task_data (G_TASK (result));
  TSAN_ACQUIRE (run);
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  g_clear_object (&self->cancellable);
  if (run->create)
    {
      self->trainer = g_steal_pointer (&run->trainer);
      if (self->trainer == NULL)
        {
          g_clear_pointer (&self->copy, weft_graph_free);
          g_clear_pointer (&self->data, weft_dataset_free);
        }
    }
  TSAN_RELEASE (run);   /* acquired by run_free */
  set_running (self, FALSE);
  if (ok)
    {
      g_signal_emit (self, signals[FINISHED], 0, NULL);
      g_task_return_boolean (outer, TRUE);
    }
  else
    {
      const char *text = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                         ? _("Training stopped") : error->message;
      g_signal_emit (self, signals[FINISHED], 0, text);
      g_task_return_error (outer, g_steal_pointer (&error));
    }
  g_object_unref (outer);
}

static void
launch (WeftTrainingSession *self, GTask *outer, GCancellable *cancellable)
{
  Run *run = g_new0 (Run, 1);
  run->session = self;
  run->trainer = self->trainer;
  run->create = self->trainer == NULL;
  run->copy = self->copy;
  run->config = self->config;
  run->data = self->data;
  run->share = self->share_enabled;
  self->cancellable = g_cancellable_new ();
  run->cancellable = g_object_ref (self->cancellable);
  run->cancel_id = g_cancellable_connect (self->cancellable, G_CALLBACK (cancelled_cb), run,
                                          NULL);
  if (cancellable != NULL)
    g_signal_connect_object (cancellable, "cancelled", G_CALLBACK (g_cancellable_cancel),
                             self->cancellable, G_CONNECT_SWAPPED);
  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    g_cancellable_cancel (self->cancellable);

  self->run_start = g_get_monotonic_time ();
  memset (&self->progress, 0, sizeof self->progress);
  self->progress.n_epochs = self->config.epochs;
  self->progress.epoch = self->trainer != NULL ? weft_trainer_epochs_done (self->trainer) : 0;
  self->progress.samples_per_second = self->progress.eta = NAN;
  set_running (self, TRUE);

  /* No source object: the worker drops the inner task last, and a session whose last
   * reference went with it would be disposed on the worker thread. The outer task keeps the
   * session alive until task_done_cb, on this thread. */
  GTask *task = g_task_new (NULL, NULL, task_done_cb, g_object_ref (outer));
  g_task_set_source_tag (task, launch);
  g_task_set_task_data (task, run, run_free);
  TSAN_RELEASE (run);
  g_task_run_in_thread (task, train_thread);
  g_object_unref (task);
}

static void
weft_training_session_dispose (GObject *object)
{
  WeftTrainingSession *self = WEFT_TRAINING_SESSION (object);

  /* A running task holds a reference, so dispose never races the worker. */
  g_assert (!self->running);
  G_OBJECT_CLASS (weft_training_session_parent_class)->dispose (object);
}

static void
weft_training_session_finalize (GObject *object)
{
  WeftTrainingSession *self = WEFT_TRAINING_SESSION (object);

  g_clear_pointer (&self->trainer, weft_trainer_free);
  g_clear_pointer (&self->copy, weft_graph_free);
  g_clear_pointer (&self->data, weft_dataset_free);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->pending, g_array_unref);
  g_clear_pointer (&self->share_pending, g_free);
  g_clear_pointer (&self->share, g_free);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (weft_training_session_parent_class)->finalize (object);
}

static void
weft_training_session_get_property (GObject *object, guint prop_id, GValue *value,
                                    GParamSpec *pspec)
{
  WeftTrainingSession *self = WEFT_TRAINING_SESSION (object);

  switch (prop_id)
    {
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_CAN_CONTINUE:
      g_value_set_boolean (value, weft_training_session_get_can_continue (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
weft_training_session_class_init (WeftTrainingSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = weft_training_session_dispose;
  object_class->finalize = weft_training_session_finalize;
  object_class->get_property = weft_training_session_get_property;

  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CAN_CONTINUE] =
    g_param_spec_boolean ("can-continue", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Once per delivered batch of reports (at most once per frame). */
  signals[PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* After an epoch's row was added to the history: the epoch (0-based). */
  signals[EPOCH] = g_signal_new ("epoch", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /* When a call ends: NULL on success, else a sentence saying what happened. */
  signals[FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
weft_training_session_init (WeftTrainingSession *self)
{
  g_mutex_init (&self->mutex);
  self->pending = g_array_new (FALSE, FALSE, sizeof (Event));
  self->share_enabled = TRUE;
  weft_train_config_defaults (&self->config);
}

/* ---- public API ------------------------------------------------------------------------- */

WeftTrainingSession *
weft_training_session_new (void)
{
  return g_object_new (WEFT_TYPE_TRAINING_SESSION, NULL);
}

void
weft_training_session_set_history (WeftTrainingSession *self, WeftHistory *history)
{
  g_return_if_fail (WEFT_IS_TRAINING_SESSION (self));
  self->history = history;
}

WeftHistory *
weft_training_session_get_history (WeftTrainingSession *self)
{
  g_return_val_if_fail (WEFT_IS_TRAINING_SESSION (self), NULL);
  return self->history;
}

void
weft_training_session_set_gradient_share (WeftTrainingSession *self, gboolean enabled)
{
  g_return_if_fail (WEFT_IS_TRAINING_SESSION (self));
  self->share_enabled = enabled;
}

void
weft_training_session_start_async (WeftTrainingSession *self, WeftGraph *graph,
                                   const WeftTrainConfig *config, WeftDataset *data,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  g_return_if_fail (WEFT_IS_TRAINING_SESSION (self));
  g_return_if_fail (graph != NULL && config != NULL && data != NULL);

  GTask *outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, weft_training_session_start_async);
  if (self->running)
    {
      weft_dataset_free (data);
      g_task_return_new_error (outer, WEFT_TRAINING_SESSION_ERROR,
                               WEFT_TRAINING_SESSION_ERROR_BUSY,
                               _("Training is already running"));
      g_object_unref (outer);
      return;
    }
  g_clear_pointer (&self->trainer, weft_trainer_free);
  g_clear_pointer (&self->copy, weft_graph_free);
  g_clear_pointer (&self->data, weft_dataset_free);
  g_clear_pointer (&self->share, g_free);
  self->share_rows = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_CONTINUE]);

  self->source_serial = weft_graph_get_serial (graph);
  self->copy = weft_graph_dup (graph);
  self->config = *config;
  self->data = data;
  if (self->copy == NULL)
    {
      g_clear_pointer (&self->data, weft_dataset_free);
      g_task_return_new_error (outer, WEFT_TRAINING_SESSION_ERROR, WEFT_ERROR_NO_MEMORY,
                               "out of memory");
      g_object_unref (outer);
      return;
    }
  /* A new run begins in the history with the first report, so a start that fails to
   * compile or bind leaves no empty run behind. */
  WeftId model = weft_graph_get_main_model (self->copy);
  if (self->history != NULL
      && weft_history_n_heads (self->history) != weft_graph_model_n_outputs (self->copy, model))
    self->history = NULL;   /* cannot hold these rows; the caller made a mismatch */
  self->begin_run = self->history != NULL;
  launch (self, outer, cancellable);
  g_object_unref (outer);
}

gboolean
weft_training_session_start_finish (WeftTrainingSession *self, GAsyncResult *result,
                                    GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
weft_training_session_continue_async (WeftTrainingSession *self, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (WEFT_IS_TRAINING_SESSION (self));

  GTask *outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, weft_training_session_continue_async);
  if (self->running || self->trainer == NULL)
    {
      g_task_return_new_error (outer, WEFT_TRAINING_SESSION_ERROR,
                               self->running ? WEFT_TRAINING_SESSION_ERROR_BUSY
                                             : WEFT_TRAINING_SESSION_ERROR_NO_RUN,
                               self->running ? _("Training is already running")
                                             : _("There is no training to continue"));
      g_object_unref (outer);
      return;
    }
  launch (self, outer, cancellable);
  g_object_unref (outer);
}

gboolean
weft_training_session_continue_finish (WeftTrainingSession *self, GAsyncResult *result,
                                       GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
weft_training_session_reset (WeftTrainingSession *self)
{
  g_return_if_fail (WEFT_IS_TRAINING_SESSION (self));
  if (self->running)
    return;
  g_clear_pointer (&self->trainer, weft_trainer_free);
  g_clear_pointer (&self->copy, weft_graph_free);
  g_clear_pointer (&self->data, weft_dataset_free);
  g_clear_pointer (&self->share, g_free);
  self->share_rows = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_CONTINUE]);
}

void
weft_training_session_stop (WeftTrainingSession *self)
{
  g_return_if_fail (WEFT_IS_TRAINING_SESSION (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
weft_training_session_get_running (WeftTrainingSession *self)
{
  g_return_val_if_fail (WEFT_IS_TRAINING_SESSION (self), FALSE);
  return self->running;
}

gboolean
weft_training_session_get_can_continue (WeftTrainingSession *self)
{
  g_return_val_if_fail (WEFT_IS_TRAINING_SESSION (self), FALSE);
  return !self->running && self->trainer != NULL;
}

int
weft_training_session_get_epochs_done (WeftTrainingSession *self)
{
  g_return_val_if_fail (WEFT_IS_TRAINING_SESSION (self), 0);
  /* the worker writes this count; read it only while idle */
  return self->trainer != NULL && !self->running ? weft_trainer_epochs_done (self->trainer)
                                                 : self->progress.epoch;
}

void
weft_training_session_get_progress (WeftTrainingSession *self, WeftTrainingProgress *progress)
{
  g_return_if_fail (WEFT_IS_TRAINING_SESSION (self));
  g_return_if_fail (progress != NULL);
  *progress = self->progress;
}

guint64
weft_training_session_get_source_serial (WeftTrainingSession *self)
{
  g_return_val_if_fail (WEFT_IS_TRAINING_SESSION (self), 0);
  return self->source_serial;
}

const WeftGradientShare *
weft_training_session_get_gradient_share (WeftTrainingSession *self, int *n_rows, int *epoch)
{
  g_return_val_if_fail (WEFT_IS_TRAINING_SESSION (self), NULL);
  if (n_rows != NULL)
    *n_rows = self->share_rows;
  if (epoch != NULL)
    *epoch = self->share_epoch;
  return self->share;
}

gboolean
weft_training_session_store_weights (WeftTrainingSession *self, WeftGraph *target,
                                     gboolean force, GError **error)
{
  g_return_val_if_fail (WEFT_IS_TRAINING_SESSION (self), FALSE);
  g_return_val_if_fail (target != NULL, FALSE);

  if (self->running)
    {
      g_set_error (error, WEFT_TRAINING_SESSION_ERROR, WEFT_TRAINING_SESSION_ERROR_BUSY,
                   _("Weights cannot be stored while training runs"));
      return FALSE;
    }
  if (self->trainer == NULL)
    {
      g_set_error (error, WEFT_TRAINING_SESSION_ERROR, WEFT_TRAINING_SESSION_ERROR_NO_RUN,
                   _("There are no trained weights"));
      return FALSE;
    }
  if (!force && weft_graph_get_serial (target) != self->source_serial)
    {
      g_set_error (error, WEFT_TRAINING_SESSION_ERROR,
                   WEFT_TRAINING_SESSION_ERROR_MODEL_CHANGED,
                   _("The model was edited during training"));
      return FALSE;
    }
  weft_trainer_store_weights (self->trainer);
  for (int i = 0; i < weft_graph_n_layers (self->copy); i++)
    {
      WeftId layer = weft_graph_layer_at (self->copy, i);
      const char *name = weft_graph_get_name (self->copy, layer);
      WeftId dst = weft_graph_find (target, name);
      int n = 0;
      const WeftWeight *w = weft_graph_layer_weights (self->copy, layer, &n);
      if (dst == WEFT_ID_NONE || weft_graph_kind (target, dst) != WEFT_KIND_LAYER)
        continue;   /* removed since (only possible with force) */
      for (int k = 0; k < n; k++)
        {
          WeftError err = { 0 };
          if (w[k].data == NULL)
            continue;
          /* With force, a layer whose shape changed keeps its own weights. */
          if (!weft_graph_set_weight (target, dst, w[k].spec.name, &w[k].spec.shape,
                                      w[k].data, &err) && !force)
            {
              g_set_error (error, WEFT_TRAINING_SESSION_ERROR, err.code,
                           _("Could not store the weights of %s: %s"), name, err.message);
              return FALSE;
            }
        }
    }
  self->source_serial = weft_graph_get_serial (target);
  return TRUE;
}
