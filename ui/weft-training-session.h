/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-training-session.h: trains a copy of a graph on a worker thread (GTask) and reports to
 * the main loop: worker reports are buffered under a mutex and delivered by at most one
 * main-loop source per frame, which appends them to a WeftHistory and emits signals. */
#pragma once

#include <gio/gio.h>

#include "weft-history.h"
#include "weft-train.h"

G_BEGIN_DECLS

#define WEFT_TRAINING_SESSION_ERROR (weft_training_session_error_quark ())
GQuark weft_training_session_error_quark (void);
/* Error codes are the engine's WeftStatus values, plus these. */
typedef enum
{
  WEFT_TRAINING_SESSION_ERROR_BUSY = 1000,      /* already running */
  WEFT_TRAINING_SESSION_ERROR_NO_RUN,           /* continue or store without a trainer */
  WEFT_TRAINING_SESSION_ERROR_MODEL_CHANGED,    /* store refused: the graph changed */
} WeftTrainingSessionError;

#define WEFT_TYPE_TRAINING_SESSION (weft_training_session_get_type ())
G_DECLARE_FINAL_TYPE (WeftTrainingSession, weft_training_session, WEFT, TRAINING_SESSION,
                      GObject)

/* Where training stands, for the progress line. Times in seconds; NaN when unknown. */
typedef struct
{
  int     epoch;              /* 0-based epoch of the last report (history numbering) */
  int     epochs_this_run;    /* epochs finished in this start/continue call */
  int     n_epochs;           /* epochs this call trains */
  int     batch;              /* batches finished in the current epoch */
  int     n_batches;
  int64_t step;
  double  samples_per_second;
  double  elapsed;
  double  eta;
} WeftTrainingProgress;

WeftTrainingSession *weft_training_session_new (void);

/* Where reports go (borrowed, nullable): rows are added on the main thread. The caller keeps
 * it alive while set; a new start begins a new run in it. Its heads must match the graph's. */
void      weft_training_session_set_history     (WeftTrainingSession *self,
                                                 WeftHistory         *history);
WeftHistory *weft_training_session_get_history  (WeftTrainingSession *self);
/* Compute the gradient share after every epoch (default TRUE). */
void      weft_training_session_set_gradient_share (WeftTrainingSession *self,
                                                    gboolean             enabled);

/* Starts a new training of a copy of graph's main model (graph is only read, here). Takes
 * data. A previous trainer (weights, optimizer state) is dropped. Completes when fit returns:
 * after config->epochs epochs, a stop, or an error (also reported by ::finished). */
void      weft_training_session_start_async     (WeftTrainingSession   *self,
                                                 WeftGraph             *graph,
                                                 const WeftTrainConfig *config,
                                                 WeftDataset           *data,
                                                 GCancellable          *cancellable,
                                                 GAsyncReadyCallback    callback,
                                                 gpointer               user_data);
gboolean  weft_training_session_start_finish    (WeftTrainingSession *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
/* Trains config->epochs more epochs with the same weights and optimizer state. */
void      weft_training_session_continue_async  (WeftTrainingSession *self,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean  weft_training_session_continue_finish (WeftTrainingSession *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
/* Forgets the trainer (weights, optimizer state) and data of the last run: continue is no
 * longer possible. Ignored while running. */
void      weft_training_session_reset           (WeftTrainingSession *self);
/* Asks the worker to stop between two batches (the engine's cancel flag). */
void      weft_training_session_stop            (WeftTrainingSession *self);

gboolean  weft_training_session_get_running     (WeftTrainingSession *self);
/* A trainer exists and is idle: continue is possible. */
gboolean  weft_training_session_get_can_continue (WeftTrainingSession *self);
int       weft_training_session_get_epochs_done (WeftTrainingSession *self);
void      weft_training_session_get_progress    (WeftTrainingSession  *self,
                                                 WeftTrainingProgress *progress);
/* weft_graph_get_serial of the graph given to start. */
guint64   weft_training_session_get_source_serial (WeftTrainingSession *self);

/* Latest gradient share (after the last finished epoch): rows borrowed until the next
 * report; NULL with *n_rows 0 before any. */
const WeftGradientShare *weft_training_session_get_gradient_share (WeftTrainingSession *self,
                                                                   int *n_rows,
                                                                   int *epoch);

/* Copies the trained weights into target, matching layers by name. Refused (MODEL_CHANGED)
 * when target's serial differs from the source's at start, unless force; refused (BUSY)
 * while running. */
gboolean  weft_training_session_store_weights   (WeftTrainingSession *self,
                                                 WeftGraph           *target,
                                                 gboolean             force,
                                                 GError             **error);

G_END_DECLS
