/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-train.h"

#include "weft-blas.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct
{
  WeftLossSpec loss;
  WeftMetric   metric;
  float        weight;
  bool         from_logits;
  int          width;      /* floats per sample of the prediction */
  int          classes;    /* size of the last axis */
  int          twidth;     /* floats per sample of the target */
  float       *target;     /* max_batch * twidth */
  bool         preact;     /* cross-entropy on a softmax or sigmoid head: the loss hands the
                              plan the pre-activation gradient (weft_loss_preact) */
} Head;

struct _WeftTrainer
{
  WeftGraph       *graph;
  WeftTrainConfig  cfg;
  WeftPlan        *plan;
  WeftOptim       *optim;
  int              n_heads;
  Head             heads[WEFT_MAX_HEADS];
  WeftRng          rng;
  float           *good_params;    /* weights at the start of the current epoch */
  float           *good_state;
  int64_t          good_iterations;
  int              epochs_done;
  int64_t          step;
  int              threads;
};

static double
now_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
auto_threads (size_t n_params)
{
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  if (cpus < 1)
    cpus = 1;
  /* Small models lose time waiting on a second thread in every parallel region. */
  if (n_params < 200000)
    return 1;
  return cpus > 8 ? 8 : (int) cpus;
}

WeftTrainer *
weft_trainer_new (WeftGraph *graph, const WeftTrainConfig *config, WeftError *error)
{
  if (config->batch_size < 1)
    {
      weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                      "the batch size must be at least 1, not %d", config->batch_size);
      return NULL;
    }
  if (!(config->validation_split >= 0 && config->validation_split < 1))
    {
      weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                      "validation_split must be in [0, 1), not %g",
                      (double) config->validation_split);
      return NULL;
    }
  if (!(config->optimizer.learning_rate > 0) || !isfinite (config->optimizer.learning_rate))
    {
      weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                      "the learning rate must be a positive number, not %g",
                      (double) config->optimizer.learning_rate);
      return NULL;
    }
  WeftTrainer *t = calloc (1, sizeof *t);
  if (t == NULL)
    {
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
      return NULL;
    }
  t->graph = graph;
  t->cfg = *config;
  weft_rng_seed (&t->rng, config->seed);
  t->plan = weft_plan_new (graph, config->batch_size, config->seed, error);
  if (t->plan == NULL)
    goto fail;
  t->n_heads = weft_plan_n_outputs (t->plan);
  if (t->n_heads > WEFT_MAX_HEADS)
    {
      weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                      "a model may have at most %d heads", WEFT_MAX_HEADS);
      goto fail;
    }
  for (int j = 0; j < t->n_heads; j++)
    {
      const WeftHead *h = weft_plan_head (t->plan, j);
      const WeftShape *s = weft_plan_output_shape (t->plan, j);
      Head *hd = &t->heads[j];
      hd->loss.loss = h->loss;
      hd->loss.from_logits = h->from_logits;
      hd->loss.huber_delta = h->huber_delta > 0 ? h->huber_delta : 1.0f;
      hd->metric = h->metric;
      hd->weight = h->weight;
      hd->from_logits = h->from_logits;
      hd->width = (int) weft_shape_size (s);
      hd->classes = s->rank > 0 ? s->dims[s->rank - 1] : 1;
      hd->twidth = weft_loss_target_width (h->loss, hd->width, hd->classes);
      hd->target = malloc ((size_t) config->batch_size * (size_t) hd->twidth * sizeof (float));
      if (hd->target == NULL)
        {
          weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
          goto fail;
        }
      hd->preact = weft_loss_fuses_activation (&hd->loss,
                                               weft_plan_output_activation (t->plan, j))
                   && weft_plan_set_output_preact_grad (t->plan, j, true);
    }
  size_t n_params = 0;
  weft_plan_params (t->plan, &n_params);
  t->optim = weft_optim_new (&config->optimizer, n_params);
  t->good_params = malloc ((n_params > 0 ? n_params : 1) * sizeof (float));
  if (t->optim == NULL || t->good_params == NULL)
    {
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
      goto fail;
    }
  size_t state_n = weft_optim_state_size (t->optim);
  t->good_state = malloc ((state_n > 0 ? state_n : 1) * sizeof (float));
  if (t->good_state == NULL)
    {
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
      goto fail;
    }
  t->threads = config->threads > 0 ? config->threads : auto_threads (n_params);
  weft_plan_set_threads (t->plan, t->threads);
  return t;
fail:
  weft_trainer_free (t);
  return NULL;
}

void
weft_trainer_free (WeftTrainer *trainer)
{
  if (trainer == NULL)
    return;
  for (int j = 0; j < WEFT_MAX_HEADS; j++)
    free (trainer->heads[j].target);
  weft_plan_free (trainer->plan);
  weft_optim_free (trainer->optim);
  free (trainer->good_params);
  free (trainer->good_state);
  free (trainer);
}

WeftPlan *
weft_trainer_get_plan (WeftTrainer *trainer)
{
  return trainer->plan;
}

int
weft_trainer_epochs_done (const WeftTrainer *trainer)
{
  return trainer->epochs_done;
}

void
weft_trainer_store_weights (WeftTrainer *trainer)
{
  weft_plan_store_weights (trainer->plan, trainer->graph);
}

static void
shape_str (const WeftShape *s, char *buf, size_t len)
{
  weft_shape_format (s, buf, len);
}

/* Binds arrays to inputs and heads by name and checks their sizes. */
static bool
bind (WeftTrainer *t, const WeftDataset *data, const WeftArray **in, const WeftArray **tgt,
      bool need_targets, WeftError *error)
{
  WeftPlan *p = t->plan;
  char a[96], b[96];
  for (int i = 0; i < weft_plan_n_inputs (p); i++)
    {
      const char *name = weft_plan_input_name (p, i);
      in[i] = weft_dataset_find (data, name);
      if (in[i] == NULL)
        return weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1,
                               "no data for model input '%s' (the data set has no array of "
                               "that name)", name);
      const WeftShape *want = weft_plan_input_shape (p, i);
      if (!weft_shape_equal (want, &in[i]->shape))
        {
          shape_str (want, a, sizeof a);
          shape_str (&in[i]->shape, b, sizeof b);
          return weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1,
                                 "input '%s' expects samples of shape %s but the data has %s",
                                 name, a, b);
        }
      char why[256];
      if (!weft_plan_check_input_values (p, i, in[i]->data, weft_dataset_n_samples (data), why,
                                         sizeof why))
        return weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1, "%s", why);
    }
  if (!need_targets)
    return true;
  for (int j = 0; j < t->n_heads; j++)
    {
      const char *name = weft_plan_output_name (p, j);
      Head *h = &t->heads[j];
      tgt[j] = weft_dataset_find (data, name);
      if (tgt[j] == NULL)
        return weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1,
                               "no targets for head '%s' (the data set has no array of that "
                               "name)", name);
      if (weft_shape_size (&tgt[j]->shape) != h->twidth)
        {
          shape_str (weft_plan_output_shape (p, j), a, sizeof a);
          shape_str (&tgt[j]->shape, b, sizeof b);
          if (h->loss.loss == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
            return weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1,
                                   "head '%s' predicts %s and uses "
                                   "sparse_categorical_crossentropy, so its targets need one "
                                   "class index per position, but the data has %s",
                                   name, a, b);
          return weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1,
                                 "head '%s' predicts %s but its targets have shape %s%s", name,
                                 a, b,
                                 h->loss.loss == WEFT_LOSS_CATEGORICAL_CROSSENTROPY
                                     && weft_shape_size (&tgt[j]->shape) * h->classes == h->width
                                   ? " (class indices? use sparse_categorical_crossentropy, "
                                     "or one-hot targets)" : "");
        }
      if (h->loss.loss == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
        {
          int64_t n = weft_dataset_n_samples (data) * h->twidth;
          if (!weft_loss_labels_valid (tgt[j]->data, (size_t) n, h->classes))
            for (int64_t k = 0; k < n; k++)   /* the first bad one, for the message */
              {
                float v = tgt[j]->data[k];
                if (!(v >= 0) || v != floorf (v) || v >= h->classes)
                  return weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1,
                                         "head '%s': target %g of sample %lld is not a class "
                                         "index in 0..%d", name, (double) v,
                                         (long long) (k / h->twidth), h->classes - 1);
              }
        }
    }
  return true;
}

bool
weft_trainer_check_data (WeftTrainer *trainer, const WeftDataset *data, WeftError *error)
{
  const WeftArray *in[WEFT_MAX_INPUTS * 4], *tgt[WEFT_MAX_HEADS];
  if (weft_plan_n_inputs (trainer->plan) > (int) (sizeof in / sizeof in[0]))
    return weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1, "too many inputs");
  return bind (trainer, data, in, tgt, true, error);
}

static void
gather (float *dst, const float *src, size_t width, const int32_t *rows, int n)
{
  if (width == 1)   /* a target per sample: a call per float cost more than the copy */
    {
      for (int r = 0; r < n; r++)
        dst[r] = src[rows[r]];
      return;
    }
  /* runs of consecutive rows in one copy each */
  for (int r = 0; r < n;)
    {
      int run = 1;
      while (r + run < n && rows[r + run] == rows[r] + run)
        run++;
      memcpy (dst + (size_t) r * width, src + (size_t) rows[r] * width,
              (size_t) run * width * sizeof (float));
      r += run;
    }
}

/* Head j's mean loss on the plan's output for n rows; with grad (its output gradient in the
 * plan), the gradient backward starts from, assigned. */
static double
head_loss (WeftTrainer *t, int j, int n, float *grad)
{
  Head *h = &t->heads[j];
  const float *pred = weft_plan_output (t->plan, j);
  if (h->preact)
    return weft_loss_preact (&h->loss, pred, h->target, n, h->width, h->classes, grad,
                             h->weight);
  if (grad != NULL)
    memset (grad, 0, (size_t) n * (size_t) h->width * sizeof (float));
  return weft_loss_compute (&h->loss, pred, h->target, n, h->width, h->classes, grad,
                            h->weight);
}

/* One forward pass over the given rows: fills loss/metric sums (weighted by rows). Returns
 * the index of a head whose loss is not finite, or -1. */
static int
run_batch (WeftTrainer *t, const WeftArray **in, const WeftArray **tgt, const int32_t *rows,
           int n, bool training, double *loss, double *metric, double *total)
{
  WeftPlan *p = t->plan;
  /* unshuffled: the plan reads the data set's rows in place (a loop without an early exit,
   * which vectorises) */
  uint32_t off = 0;
  for (int r = 0; r < n; r++)
    off |= (uint32_t) rows[r] ^ ((uint32_t) rows[0] + (uint32_t) r);
  bool contiguous = off == 0;
  for (int i = 0; i < weft_plan_n_inputs (p); i++)
    {
      size_t width = (size_t) weft_shape_size (&in[i]->shape);
      if (contiguous)
        weft_plan_set_input_rows (p, i, in[i]->data + (size_t) rows[0] * width);
      else
        gather (weft_plan_input (p, i), in[i]->data, width, rows, n);
    }
  for (int j = 0; j < t->n_heads; j++)
    gather (t->heads[j].target, tgt[j]->data, (size_t) t->heads[j].twidth, rows, n);
  weft_plan_forward (p, n, training);
  *total = 0;
  int bad = -1;
  for (int j = 0; j < t->n_heads; j++)
    {
      Head *h = &t->heads[j];
      const float *pred = weft_plan_output (p, j);
      loss[j] = head_loss (t, j, n, training ? weft_plan_output_grad (p, j) : NULL);
      metric[j] = h->metric != WEFT_METRIC_NONE
                    ? weft_metric_compute (h->metric, h->from_logits, pred, h->target, n,
                                           h->width, h->classes) / n
                    : NAN;
      *total += h->weight * loss[j];
      if (!isfinite (loss[j]) && bad < 0)
        bad = j;
    }
  return bad;
}

static bool
evaluate_rows (WeftTrainer *t, const WeftArray **in, const WeftArray **tgt, int64_t start,
               int64_t end, double *loss, double *metric, double *total)
{
  int bs = t->cfg.batch_size;
  int32_t *rows = malloc ((size_t) bs * sizeof *rows);
  double l[WEFT_MAX_HEADS], m[WEFT_MAX_HEADS], tot;
  double sum_l[WEFT_MAX_HEADS] = { 0 }, sum_m[WEFT_MAX_HEADS] = { 0 }, sum_t = 0;
  if (rows == NULL)
    return false;
  int64_t count = 0;
  for (int64_t s = start; s < end; s += bs)
    {
      int n = (int) (end - s < bs ? end - s : bs);
      for (int r = 0; r < n; r++)
        rows[r] = (int32_t) (s + r);
      run_batch (t, in, tgt, rows, n, false, l, m, &tot);
      for (int j = 0; j < t->n_heads; j++)
        {
          sum_l[j] += l[j] * n;
          sum_m[j] += m[j] * n;
        }
      sum_t += tot * n;
      count += n;
    }
  for (int j = 0; j < t->n_heads; j++)
    {
      loss[j] = count > 0 ? sum_l[j] / count : NAN;
      metric[j] = count > 0 ? sum_m[j] / count : NAN;
    }
  *total = count > 0 ? sum_t / count : NAN;
  free (rows);
  return true;
}

bool
weft_trainer_evaluate (WeftTrainer *trainer, const WeftDataset *data, WeftEpochReport *report,
                       WeftError *error)
{
  const WeftArray *in[WEFT_MAX_INPUTS * 4], *tgt[WEFT_MAX_HEADS];
  if (weft_plan_n_inputs (trainer->plan) > (int) (sizeof in / sizeof in[0]))
    return weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1, "too many inputs");
  if (!bind (trainer, data, in, tgt, true, error))
    return false;
  memset (report, 0, sizeof *report);
  report->n_heads = trainer->n_heads;
  report->epoch = trainer->epochs_done;
  if (!evaluate_rows (trainer, in, tgt, 0, weft_dataset_n_samples (data), report->loss,
                      report->metric, &report->total))
    return weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
  return true;
}

bool
weft_trainer_fit (WeftTrainer *t, const WeftDataset *data, const WeftTrainCallbacks *cb,
                  WeftError *error)
{
  const WeftArray *in[WEFT_MAX_INPUTS * 4], *tgt[WEFT_MAX_HEADS];
  WeftPlan *p = t->plan;
  if (weft_plan_n_inputs (p) > (int) (sizeof in / sizeof in[0]))
    return weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1, "too many inputs");
  if (!bind (t, data, in, tgt, true, error))
    return false;

  int64_t n = weft_dataset_n_samples (data);
  if (n > INT32_MAX)
    return weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1, "too many samples");
  /* Keras takes the validation samples from the end, before shuffling. */
  int64_t n_train = (int64_t) ((double) n * (1.0 - t->cfg.validation_split));
  int64_t n_val = n - n_train;
  if (n_train < 1)
    return weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1,
                           "no training samples: %lld samples with validation_split %g",
                           (long long) n, (double) t->cfg.validation_split);
  int bs = t->cfg.batch_size;
  int n_batches = (int) ((n_train + bs - 1) / bs);
  int32_t *order = malloc ((size_t) n_train * sizeof *order);
  if (order == NULL)
    return weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
  for (int64_t i = 0; i < n_train; i++)
    order[i] = (int32_t) i;

  size_t n_params = 0;
  float *params = weft_plan_params (p, &n_params);
  float *grads = weft_plan_grads (p, NULL);
  int n_slices = 0;
  const WeftParamSlice *slices = weft_plan_slices (p, &n_slices);
  size_t state_n = weft_optim_state_size (t->optim);
  weft_plan_set_threads (p, t->threads);

  bool ok = true;
  WeftStepReport step = { 0 };
  WeftEpochReport ep;
  step.n_heads = t->n_heads;
  step.n_batches = n_batches;

  for (int e = 0; e < t->cfg.epochs && ok; e++)
    {
      double t0 = now_seconds ();
      memcpy (t->good_params, params, n_params * sizeof (float));
      if (state_n > 0)
        memcpy (t->good_state, weft_optim_state (t->optim), state_n * sizeof (float));
      t->good_iterations = weft_optim_iterations (t->optim);
      if (t->cfg.shuffle)
        weft_rng_shuffle (&t->rng, order, (int32_t) n_train);

      double sum_l[WEFT_MAX_HEADS] = { 0 }, sum_m[WEFT_MAX_HEADS] = { 0 }, sum_t = 0;
      int64_t seen = 0;
      for (int b = 0; b < n_batches; b++)
        {
          /* Set from another thread (a UI's stop button): an atomic read, not a data race. */
          if (cb != NULL && cb->cancel != NULL && __atomic_load_n (cb->cancel, __ATOMIC_RELAXED))
            {
              ok = weft_error_set (error, WEFT_ERROR_CANCELLED, WEFT_ID_NONE, -1,
                                   "training cancelled at epoch %d, batch %d", e + 1, b + 1);
              break;
            }
          int rows = (int) (n_train - (int64_t) b * bs < bs ? n_train - (int64_t) b * bs : bs);
          const int32_t *idx = order + (size_t) b * bs;
          int bad = run_batch (t, in, tgt, idx, rows, true, step.loss, step.metric, &step.total);
          if (bad >= 0)
            {
              const char *layer = weft_plan_first_nonfinite (p, rows);
              /* keep the weights of the last finished epoch */
              memcpy (params, t->good_params, n_params * sizeof (float));
              if (state_n > 0)
                memcpy (weft_optim_state (t->optim), t->good_state, state_n * sizeof (float));
              weft_optim_set_iterations (t->optim, t->good_iterations);
              if (layer != NULL)
                ok = weft_error_set (error, WEFT_ERROR_NOT_FINITE, WEFT_ID_NONE, -1,
                                     "training stopped at epoch %d, batch %d: the loss of head "
                                     "'%s' is %g; the first non-finite output is in layer "
                                     "'%s'. Try a smaller learning rate or normalised inputs; "
                                     "the weights of the last good epoch were kept.",
                                     e + 1, b + 1, weft_plan_output_name (p, bad),
                                     step.loss[bad], layer);
              else
                ok = weft_error_set (error, WEFT_ERROR_NOT_FINITE, WEFT_ID_NONE, -1,
                                     "training stopped at epoch %d, batch %d: the loss of head "
                                     "'%s' is %g (check its targets for NaN or values the loss "
                                     "cannot take); the weights of the last good epoch were "
                                     "kept.", e + 1, b + 1, weft_plan_output_name (p, bad),
                                     step.loss[bad]);
              break;
            }
          weft_plan_backward (p, rows);
          weft_optim_step (t->optim, params, grads, slices, n_slices);
          seen += rows;
          for (int j = 0; j < t->n_heads; j++)
            {
              sum_l[j] += step.loss[j] * rows;
              sum_m[j] += step.metric[j] * rows;
            }
          sum_t += step.total * rows;
          step.epoch = t->epochs_done;
          step.batch = b;
          step.step = t->step++;
          step.samples_seen = seen;
          if (cb != NULL && cb->on_step != NULL && !cb->on_step (&step, cb->user_data))
            {
              ok = weft_error_set (error, WEFT_ERROR_CANCELLED, WEFT_ID_NONE, -1,
                                   "training stopped at epoch %d, batch %d", e + 1, b + 1);
              break;
            }
        }
      if (!ok)
        break;
      memset (&ep, 0, sizeof ep);
      ep.epoch = t->epochs_done;
      ep.n_heads = t->n_heads;
      for (int j = 0; j < t->n_heads; j++)
        {
          ep.loss[j] = sum_l[j] / (double) seen;
          ep.metric[j] = sum_m[j] / (double) seen;
        }
      ep.total = sum_t / (double) seen;
      if (n_val > 0)
        {
          ep.has_validation = true;
          if (!evaluate_rows (t, in, tgt, n_train, n, ep.val_loss, ep.val_metric, &ep.val_total))
            {
              ok = weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1,
                                   "out of memory");
              break;
            }
        }
      ep.seconds = now_seconds () - t0;
      t->epochs_done++;
      if (cb != NULL && cb->on_epoch != NULL)
        cb->on_epoch (&ep, cb->user_data);
    }
  free (order);
  return ok;
}

int
weft_trainer_gradient_share (WeftTrainer *t, const WeftDataset *data, WeftGradientShare *rows,
                             int max_rows, WeftError *error)
{
  const WeftArray *in[WEFT_MAX_INPUTS * 4], *tgt[WEFT_MAX_HEADS];
  WeftPlan *p = t->plan;
  if (weft_plan_n_inputs (p) > (int) (sizeof in / sizeof in[0]))
    {
      weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1, "too many inputs");
      return -1;
    }
  if (!bind (t, data, in, tgt, true, error))
    return -1;
  int64_t n_samples = weft_dataset_n_samples (data);
  int n = (int) (n_samples < t->cfg.batch_size ? n_samples : t->cfg.batch_size);
  if (n < 1)
    {
      weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1, "the data holds no samples");
      return -1;
    }
  int32_t *idx = malloc ((size_t) n * sizeof *idx);
  if (idx == NULL)
    {
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
      return -1;
    }
  for (int r = 0; r < n; r++)
    idx[r] = r;
  double loss[WEFT_MAX_HEADS], metric[WEFT_MAX_HEADS], total;
  /* Inference mode: dropout masks and batch-norm statistics of training stay untouched. */
  int bad = run_batch (t, in, tgt, idx, n, false, loss, metric, &total);
  free (idx);
  if (bad >= 0)
    {
      weft_error_set (error, WEFT_ERROR_NOT_FINITE, WEFT_ID_NONE, -1,
                      "gradient share: the loss of head '%s' is %g",
                      weft_plan_output_name (p, bad), loss[bad]);
      return -1;
    }

  int n_slices = 0;
  const WeftParamSlice *slices = weft_plan_slices (p, &n_slices);
  const float *grads = weft_plan_grads (p, NULL);
  /* Group consecutive trainable slices by layer ("layer/weight" names). */
  int n_layers = 0;
  char prev[2 * WEFT_NAME_MAX] = "";
  int *slice_row = malloc (((size_t) n_slices + 1) * sizeof *slice_row);
  if (slice_row == NULL)
    {
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
      return -1;
    }
  for (int s = 0; s < n_slices; s++)
    {
      slice_row[s] = -1;
      if (!slices[s].trainable || slices[s].count == 0)
        continue;
      char layer[2 * WEFT_NAME_MAX];
      snprintf (layer, sizeof layer, "%s", weft_plan_slice_name (p, s));
      char *slash = strrchr (layer, '/');
      if (slash != NULL)
        *slash = '\0';
      if (n_layers == 0 || strcmp (layer, prev) != 0)
        {
          if (n_layers < max_rows)
            {
              memset (&rows[n_layers], 0, sizeof rows[n_layers]);
              memcpy (rows[n_layers].layer, layer, sizeof layer);
              rows[n_layers].n_heads = t->n_heads;
            }
          memcpy (prev, layer, sizeof layer);
          n_layers++;
        }
      slice_row[s] = n_layers - 1;
    }

  for (int j = 0; j < t->n_heads; j++)
    {
      for (int k = 0; k < t->n_heads; k++)
        if (k != j)
          memset (weft_plan_output_grad (p, k), 0,
                  (size_t) n * (size_t) t->heads[k].width * sizeof (float));
      head_loss (t, j, n, weft_plan_output_grad (p, j));
      weft_plan_backward (p, n);
      for (int s = 0; s < n_slices; s++)
        {
          int r = slice_row[s];
          if (r < 0 || r >= max_rows)
            continue;
          double acc = 0;
          const float *g = grads + slices[s].offset;
          for (size_t i = 0; i < slices[s].count; i++)
            acc += (double) g[i] * g[i];
          rows[r].norm[j] += acc;
        }
    }
  for (int r = 0; r < n_layers && r < max_rows; r++)
    for (int j = 0; j < t->n_heads; j++)
      rows[r].norm[j] = sqrt (rows[r].norm[j]);
  free (slice_row);
  return n_layers;
}

bool
weft_predict (WeftGraph *graph, const WeftDataset *inputs, float **outputs, int threads,
              WeftError *error)
{
  int64_t n = weft_dataset_n_samples (inputs);
  int bs = n < 256 ? (int) (n > 0 ? n : 1) : 256;
  WeftPlan *p = weft_plan_new_inference (graph, bs,
                                         graph != NULL ? weft_graph_get_train_config (graph)->seed
                                                       : 0,
                                         error);
  if (p == NULL)
    return false;
  weft_plan_set_threads (p, threads > 0 ? threads : 1);
  const WeftArray *in[WEFT_MAX_INPUTS * 4];
  bool ok = true;
  char a[96], b[96], why[256];
  if (weft_plan_n_inputs (p) > (int) (sizeof in / sizeof in[0]))
    {
      weft_plan_free (p);
      return weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1, "too many inputs");
    }
  for (int i = 0; i < weft_plan_n_inputs (p) && ok; i++)
    {
      const char *name = weft_plan_input_name (p, i);
      in[i] = weft_dataset_find (inputs, name);
      if (in[i] == NULL)
        ok = weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1,
                             "no data for model input '%s'", name);
      else if (!weft_shape_equal (weft_plan_input_shape (p, i), &in[i]->shape))
        ok = weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1,
                             "input '%s' expects samples of shape %s but the data has %s", name,
                             weft_shape_format (weft_plan_input_shape (p, i), a, sizeof a),
                             weft_shape_format (&in[i]->shape, b, sizeof b));
      else if (!weft_plan_check_input_values (p, i, in[i]->data, n, why, sizeof why))
        ok = weft_error_set (error, WEFT_ERROR_DATA, WEFT_ID_NONE, -1, "%s", why);
    }
  for (int64_t s = 0; ok && s < n; s += bs)
    {
      int m = (int) (n - s < bs ? n - s : bs);
      /* consecutive rows: the plan reads them where they are */
      for (int i = 0; i < weft_plan_n_inputs (p); i++)
        weft_plan_set_input_rows (p, i, in[i]->data
                                          + (size_t) s * (size_t) weft_shape_size (&in[i]->shape));
      weft_plan_forward (p, m, false);
      for (int j = 0; j < weft_plan_n_outputs (p); j++)
        {
          size_t w = (size_t) weft_shape_size (weft_plan_output_shape (p, j));
          memcpy (outputs[j] + (size_t) s * w, weft_plan_output (p, j),
                  (size_t) m * w * sizeof (float));
        }
    }
  weft_plan_free (p);
  return ok;
}
