/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-train.h: Keras-style fit/evaluate/predict over a compiled plan. */
#pragma once

#include "weft-data.h"
#include "weft-plan.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WEFT_MAX_HEADS 32

typedef struct
{
  int     epoch;          /* 0-based */
  int     batch;          /* 0-based within the epoch */
  int     n_batches;
  int64_t step;           /* global step, 0-based */
  int     n_heads;
  double  loss[WEFT_MAX_HEADS];    /* unweighted, this batch (from its forward pass) */
  double  metric[WEFT_MAX_HEADS];  /* NaN when the head has no metric */
  double  total;                   /* sum of weight * loss */
  int64_t samples_seen;            /* this epoch */
} WeftStepReport;

typedef struct
{
  int     epoch;
  int     n_heads;
  double  loss[WEFT_MAX_HEADS];    /* mean over the epoch's training batches */
  double  metric[WEFT_MAX_HEADS];
  double  total;
  bool    has_validation;
  double  val_loss[WEFT_MAX_HEADS];
  double  val_metric[WEFT_MAX_HEADS];
  double  val_total;
  double  seconds;                 /* wall time of the epoch */
} WeftEpochReport;

typedef struct
{
  /* Called from the training thread after every batch; return false to stop. */
  bool (*on_step)  (const WeftStepReport *report, void *user_data);
  void (*on_epoch) (const WeftEpochReport *report, void *user_data);
  void *user_data;
  /* Polled between batches; non-zero cancels with WEFT_ERROR_CANCELLED. */
  const volatile int *cancel;
} WeftTrainCallbacks;

typedef struct _WeftTrainer WeftTrainer;

/* Compiles the graph's main model for config->batch_size and creates the optimizer. The
 * trainer keeps a pointer to graph only to store weights back on request. */
WeftTrainer *weft_trainer_new       (WeftGraph *graph, const WeftTrainConfig *config,
                                     WeftError *error);
void         weft_trainer_free      (WeftTrainer *trainer);
WeftPlan    *weft_trainer_get_plan  (WeftTrainer *trainer);
/* Binds arrays by name: each model input to the array of the same name, each head to the
 * array named like the head. Shapes are checked (error names the input/head and both
 * shapes). Sparse categorical heads take one class index per position. */
bool         weft_trainer_check_data (WeftTrainer *trainer, const WeftDataset *data,
                                      WeftError *error);
/* Trains config->epochs epochs (more calls continue with the same weights and optimizer
 * state). On NaN/Inf the error names the head and the first non-finite layer, and the
 * weights of the last finished epoch are restored. */
bool         weft_trainer_fit       (WeftTrainer *trainer, const WeftDataset *data,
                                     const WeftTrainCallbacks *callbacks, WeftError *error);
/* Loss and metric per head (and total) over all samples of data, inference mode. */
bool         weft_trainer_evaluate  (WeftTrainer *trainer, const WeftDataset *data,
                                     WeftEpochReport *report, WeftError *error);
/* Writes the trained weights into the graph. */
void         weft_trainer_store_weights (WeftTrainer *trainer);
int          weft_trainer_epochs_done (const WeftTrainer *trainer);

/* Gradient share (added for the dashboard): how much of the gradient reaching each trainable
 * layer comes from each head. norm[j] is the L2 norm, over the layer's trainable weights, of
 * the gradient of weight_j * loss_j alone. */
typedef struct
{
  char   layer[2 * WEFT_NAME_MAX];   /* the layer's name as in the plan's slice names */
  int    n_heads;
  double norm[WEFT_MAX_HEADS];
} WeftGradientShare;

/* Computes the rows above on one batch: the first batch_size samples of data (inference-mode
 * forward, one backward pass per head). Fills at most max_rows rows, in plan order, and
 * returns the number of trainable layers (like snprintf), or -1 with error set (data that
 * does not bind, a non-finite loss). Weights and optimizer state are left untouched; may be
 * called between fit calls or from the on_epoch callback. */
int          weft_trainer_gradient_share (WeftTrainer *trainer, const WeftDataset *data,
                                          WeftGradientShare *rows, int max_rows,
                                          WeftError *error);

/* Inference for all samples: outputs[j] receives n_samples rows of head j (caller allocates
 * n_samples * weft_shape_size(output shape) floats). Inputs bound by name as above. */
bool         weft_predict           (WeftGraph *graph, const WeftDataset *inputs,
                                     float **outputs, int threads, WeftError *error);

#ifdef __cplusplus
}
#endif
