/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-loss.h: per-head losses and metrics with Keras semantics.
 *
 * Shapes: pred holds `batch` rows of `width` floats; the last axis has `classes` entries
 * (classes divides width; positions = batch * width / classes). Reductions follow Keras'
 * sum_over_batch_size: regression losses average over the last axis and then over all
 * positions; cross-entropies sum over the class axis and average over positions.
 * Targets: same layout as pred, except sparse categorical (one class index per position,
 * as a float) - see weft_loss_target_width. */
#pragma once

#include "weft-types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum
{
  WEFT_LOSS_NONE,
  WEFT_LOSS_MSE,
  WEFT_LOSS_MAE,
  WEFT_LOSS_HUBER,
  WEFT_LOSS_BINARY_CROSSENTROPY,
  WEFT_LOSS_CATEGORICAL_CROSSENTROPY,
  WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
  WEFT_LOSS_COUNT
} WeftLoss;

typedef enum
{
  WEFT_METRIC_NONE,
  WEFT_METRIC_BINARY_ACCURACY,       /* threshold 0.5 (0 with from_logits) */
  WEFT_METRIC_CATEGORICAL_ACCURACY,  /* argmax(pred) == argmax(target) */
  WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY,
  WEFT_METRIC_MAE,
  WEFT_METRIC_COUNT
} WeftMetric;

/* Keras spellings ("mse", "categorical_crossentropy", "accuracy"...), NULL-terminated. */
extern const char *const weft_loss_names[];
extern const char *const weft_metric_names[];
WeftLoss    weft_loss_from_name   (const char *name);  /* also accepts Keras aliases
                                                          ("mean_squared_error"); -1 unknown */
WeftMetric  weft_metric_from_name (const char *name);  /* "accuracy", "acc", "mae"...; -1 */
/* The accuracy variant "accuracy" means for this loss, as Keras resolves it. */
WeftMetric  weft_metric_for_loss  (WeftLoss loss);
/* Like weft_metric_from_name, but "accuracy"/"acc" resolve through weft_metric_for_loss
 * (weft_metric_from_name alone maps them to categorical accuracy, Keras' fallback). */
WeftMetric  weft_metric_from_name_for_loss (const char *name, WeftLoss loss);

/* Target floats per sample for a prediction of `width` floats with `classes` on the last axis. */
int   weft_loss_target_width (WeftLoss loss, int width, int classes);
/* The same for a metric (sparse accuracy: width / classes, others: width). A metric may only
 * share a head's target buffer when this equals weft_loss_target_width for its loss. */
int   weft_metric_target_width (WeftMetric metric, int width, int classes);

typedef struct
{
  WeftLoss loss;
  bool     from_logits;
  float    huber_delta;   /* 1.0 */
} WeftLossSpec;

/* Mean loss of the batch (double accumulation). When grad is non-NULL, ADDS
 * scale * dLoss/dpred into it (scale carries the head's loss weight). Numerically stable:
 * with from_logits the log-sum-exp / softplus forms; on probabilities Keras' clipping to
 * [1e-7, 1 - 1e-7]. Returns NaN when a sparse target index is out of range. */
double weft_loss_compute (const WeftLossSpec *spec, const float *pred, const float *target,
                          int batch, int width, int classes, float *grad, float scale);

/* Whether weft_loss_preact applies to a head whose output ends with activation act (a
 * WeftActivation): (sparse) categorical cross-entropy on softmax probabilities, binary
 * cross-entropy on sigmoid probabilities. */
bool   weft_loss_fuses_activation (const WeftLossSpec *spec, int act);
/* The same mean loss as weft_loss_compute on such a head's probabilities, but when grad is
 * non-NULL it ASSIGNS scale * dLoss/dz, the gradient of the activation's pre-activation z:
 * for softmax scale / positions * (p * sum(target) - target), for sigmoid
 * scale / n * (p - target). That is the derivative without Keras' clipping, as Keras'
 * TensorFlow backend takes it from the logits: a confidently wrong prediction (p < 1e-7)
 * still gets its full gradient. Returns NaN, grad untouched, when a sparse target index is
 * out of range. */
double weft_loss_preact (const WeftLossSpec *spec, const float *probs, const float *target,
                         int batch, int width, int classes, float *grad, float scale);

/* Whether every one of n sparse labels is a class index: an integer in [0, classes). Checks
 * 16 labels per instruction where the CPU can (a call to floorf per label cost a data set's
 * check more than a small model's step). */
bool   weft_loss_labels_valid (const float *labels, size_t n, int classes);

/* Sum over the batch of the per-sample metric (accuracy: number correct positions divided by
 * positions per sample; mae: mean absolute error per sample), so callers can average over
 * several batches by dividing by the sample count. from_logits moves the binary threshold. */
double weft_metric_compute (WeftMetric metric, bool from_logits, const float *pred,
                            const float *target, int batch, int width, int classes);

#ifdef __cplusplus
}
#endif
