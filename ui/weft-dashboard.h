/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-dashboard.h: the training dashboard of a document: settings (data source and its
 * binding, loss and weight per head, optimizer, learning rate, batch size, epochs,
 * validation split, seed), train / stop / continue, progress, the live loss chart, per-head
 * metrics, the loss balance with "suggest weights", and the gradient share of shared layers. */
#pragma once

#include <gtk/gtk.h>

#include "weft-binding-panel.h"
#include "weft-document.h"
#include "weft-loss-chart.h"
#include "weft-training-session.h"

G_BEGIN_DECLS

#define WEFT_TYPE_DASHBOARD (weft_dashboard_get_type ())
G_DECLARE_FINAL_TYPE (WeftDashboard, weft_dashboard, WEFT, DASHBOARD, GtkWidget)

GtkWidget           *weft_dashboard_new              (void);
/* The document trained and edited (head losses/weights, suggested weights) (nullable). */
void                 weft_dashboard_set_document     (WeftDashboard *self,
                                                      WeftDocument  *document);
WeftDocument        *weft_dashboard_get_document     (WeftDashboard *self);

/* The history shown: the document's when its heads match the model, else the dashboard's
 * own (borrowed). */
WeftHistory         *weft_dashboard_get_history      (WeftDashboard *self);
WeftLossChart       *weft_dashboard_get_chart        (WeftDashboard *self);
WeftTrainingSession *weft_dashboard_get_session      (WeftDashboard *self);
/* The data binding editor shown for the "data file" source (borrowed). */
WeftBindingPanel    *weft_dashboard_get_binding_panel (WeftDashboard *self);

/* Settings as the panel shows them (epochs, batch size... and the data source). */
void                 weft_dashboard_get_config       (WeftDashboard   *self,
                                                      WeftTrainConfig *config);
void                 weft_dashboard_set_config       (WeftDashboard         *self,
                                                      const WeftTrainConfig *config);

/* Samples generated for a synthetic data source. */
void                 weft_dashboard_set_samples      (WeftDashboard *self,
                                                      int            n_samples);

/* The same as the buttons (also the window's train.* actions). */
void                 weft_dashboard_train            (WeftDashboard *self);
void                 weft_dashboard_stop             (WeftDashboard *self);
void                 weft_dashboard_continue         (WeftDashboard *self);
/* Computes the suggested loss weights from the recent history (FALSE when there is not
 * enough); suggested receives one weight per head. */
gboolean             weft_dashboard_suggest_weights  (WeftDashboard *self,
                                                      float         *suggested,
                                                      int           *n_heads);
/* Applies the suggestion through the document (undoable). */
gboolean             weft_dashboard_apply_suggested_weights (WeftDashboard *self,
                                                             GError       **error);
/* Whether Train can start now: a document, no run or data load going on, and a complete data
 * binding when the source is a data file ("can-train", notified on change). The window's
 * Train action follows it. */
gboolean             weft_dashboard_get_can_train    (WeftDashboard *self);
/* Why the data binding blocks Train ("Not ready to train: …", translated), NULL when it does
 * not ("train-blocked-reason"). */
const char          *weft_dashboard_get_train_blocked_reason (WeftDashboard *self);
/* The status line ("Epoch 3/20 · batch 12/12 · ..." or the last error). */
const char          *weft_dashboard_get_status       (WeftDashboard *self);

G_END_DECLS
