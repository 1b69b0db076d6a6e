/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Losses, metrics and optimizers: values against hand-computed numbers, gradients against
 * central finite differences, optimizer steps against the Keras formulas in double. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "weft-activation.h"
#include "weft-loss.h"
#include "weft-optim.h"

#define LOSS_TOL      1e-6   /* loss values against hand-computed doubles */
#define FD_STEP       1e-3f  /* finite-difference step on the float inputs */
#define FD_TOL_ABS    2e-5   /* gradient check: |analytic - fd| <= ABS + REL * |fd| */
#define FD_TOL_REL    2e-3
#define OPTIM_TOL_REL 2e-5   /* float optimizer step against the double formula */
#define CONVERGE_TOL  1e-3   /* distance to the quadratic's minimum after training */
#define SEED          20240611
#define TFJS_LOSS_TOL 1e-6   /* relative, against TensorFlow.js 4.22 float32 results */

static WeftLossSpec
spec_make (WeftLoss loss, bool from_logits)
{
  WeftLossSpec spec = { loss, from_logits, 1.0f };
  return spec;
}

static double
loss_of (WeftLoss loss, bool from_logits, const float *pred, const float *target, int batch,
         int width, int classes)
{
  WeftLossSpec spec = spec_make (loss, from_logits);
  return weft_loss_compute (&spec, pred, target, batch, width, classes, NULL, 1.0f);
}

static void
fill_uniform (WeftRng *rng, float *x, int n, float lo, float hi)
{
  for (int i = 0; i < n; i++)
    x[i] = lo + (hi - lo) * weft_rng_uniform (rng);
}

/* ---- loss values ---- */

static void
test_mse_value (void)
{
  const float pred[] = { 1, 2, 3, 4 };
  const float target[] = { 0, 2, 5, 4 };
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_MSE, false, pred, target, 2, 2, 2),
                                  (1.0 + 0.0 + 4.0 + 0.0) / 4.0, LOSS_TOL);
}

static void
test_mae_value (void)
{
  const float pred[] = { 1, 2, 3, 4 };
  const float target[] = { 0, 2, 5, 4 };
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_MAE, false, pred, target, 2, 2, 2),
                                  (1.0 + 0.0 + 2.0 + 0.0) / 4.0, LOSS_TOL);
}

static void
test_huber_value (void)
{
  const float pred[] = { 1, 2, 3, 4 };
  const float target[] = { 0, 2, 5, 4 };
  WeftLossSpec spec = spec_make (WEFT_LOSS_HUBER, false);

  /* delta 1: |e| = 1 -> 0.5; |e| = 2 -> 1*2 - 0.5 = 1.5 */
  g_assert_cmpfloat_with_epsilon (weft_loss_compute (&spec, pred, target, 2, 2, 2, NULL, 1),
                                  (0.5 + 1.5) / 4.0, LOSS_TOL);
  /* delta 2: both quadratic: 0.5 + 2 */
  spec.huber_delta = 2.0f;
  g_assert_cmpfloat_with_epsilon (weft_loss_compute (&spec, pred, target, 2, 2, 2, NULL, 1),
                                  (0.5 + 2.0) / 4.0, LOSS_TOL);
  /* delta 0 (a zero-initialised spec) means Keras' default 1 */
  spec.huber_delta = 0.0f;
  g_assert_cmpfloat_with_epsilon (weft_loss_compute (&spec, pred, target, 2, 2, 2, NULL, 1),
                                  (0.5 + 1.5) / 4.0, LOSS_TOL);
}

static void
test_bce_value (void)
{
  const float pred[] = { 0.9f, 0.2f, 0.6f, 0.5f };
  const float target[] = { 1, 0, 0, 1 };
  double expected = -(log ((double) 0.9f) + log (1.0 - (double) 0.2f)
                      + log (1.0 - (double) 0.6f) + log ((double) 0.5f)) / 4.0;
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_BINARY_CROSSENTROPY, false, pred, target,
                                           2, 2, 2), expected, LOSS_TOL);

  const float logits[] = { 2, -1, 0, 3 };
  /* z = 1: log(1 + e^-x); z = 0: log(1 + e^x) */
  expected = (log1p (exp (-2.0)) + log1p (exp (-1.0)) + log (2.0) + log1p (exp (3.0))) / 4.0;
  const float target2[] = { 1, 0, 1, 0 };
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_BINARY_CROSSENTROPY, true, logits,
                                           target2, 1, 4, 4), expected, LOSS_TOL);
}

static void
test_bce_from_logits_matches_probabilities (void)
{
  WeftRng rng;
  float logits[12], probs[12], target[12];
  weft_rng_seed (&rng, SEED);
  fill_uniform (&rng, logits, 12, -4.0f, 4.0f);
  fill_uniform (&rng, target, 12, 0.0f, 1.0f);   /* soft labels too */
  for (int i = 0; i < 12; i++)
    probs[i] = (float) (1.0 / (1.0 + exp (-(double) logits[i])));
  double a = loss_of (WEFT_LOSS_BINARY_CROSSENTROPY, true, logits, target, 3, 4, 4);
  double b = loss_of (WEFT_LOSS_BINARY_CROSSENTROPY, false, probs, target, 3, 4, 4);
  g_assert_cmpfloat_with_epsilon (a, b, 1e-5);
}

static void
test_bce_clips_probabilities (void)
{
  const float pred[] = { 0.0f, 1.0f };
  const float target[] = { 1.0f, 1.0f };
  float grad[2] = { 0.25f, 0.5f };
  WeftLossSpec spec = spec_make (WEFT_LOSS_BINARY_CROSSENTROPY, false);
  double l = weft_loss_compute (&spec, pred, target, 1, 2, 1, grad, 1.0f);

  /* -log(1e-7) and -log(1 - 1e-7), averaged; no gradient through the clipped values */
  g_assert_cmpfloat_with_epsilon (l, (-log (1e-7) - log1p (-1e-7)) / 2.0, LOSS_TOL);
  g_assert_cmpfloat (grad[0], ==, 0.25f);
  g_assert_cmpfloat (grad[1], ==, 0.5f);
}

static void
test_cce_value (void)
{
  const float pred[] = { 0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f };
  const float target[] = { 1, 0, 0, 0, 0, 1 };
  double expected = -(log ((double) 0.7f) + log ((double) 0.8f / (0.1 + 0.1 + 0.8))) / 2.0;
  double got = loss_of (WEFT_LOSS_CATEGORICAL_CROSSENTROPY, false, pred, target, 2, 3, 3);
  g_assert_cmpfloat_with_epsilon (got, expected, 1e-6);

  /* Keras rescales probabilities to sum to one first */
  const float unnormalised[] = { 2, 1, 1 };
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_CATEGORICAL_CROSSENTROPY, false,
                                           unnormalised, target, 1, 3, 3),
                                  -log (0.5), LOSS_TOL);

  const float logits[] = { 1, 2, 3 };
  const float t3[] = { 0, 0, 1 };
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_CATEGORICAL_CROSSENTROPY, true, logits,
                                           t3, 1, 3, 3),
                                  log (exp (1.0) + exp (2.0) + exp (3.0)) - 3.0, LOSS_TOL);

  /* soft targets: -sum t log p */
  const float soft[] = { 0.5f, 0.25f, 0.25f };
  const float probs[] = { 0.5f, 0.25f, 0.25f };
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_CATEGORICAL_CROSSENTROPY, false, probs,
                                           soft, 1, 3, 3),
                                  -(0.5 * log (0.5) + 0.5 * log (0.25)), LOSS_TOL);
}

static void
test_cce_from_logits_matches_probabilities (void)
{
  WeftRng rng;
  float logits[20], probs[20], target[20] = { 0 };
  weft_rng_seed (&rng, SEED + 1);
  fill_uniform (&rng, logits, 20, -3.0f, 3.0f);
  for (int p = 0; p < 4; p++)
    {
      double s = 0.0;
      for (int k = 0; k < 5; k++)
        s += exp (logits[p * 5 + k]);
      for (int k = 0; k < 5; k++)
        probs[p * 5 + k] = (float) (exp (logits[p * 5 + k]) / s);
      target[p * 5 + (p * 2) % 5] = 1.0f;
    }
  double a = loss_of (WEFT_LOSS_CATEGORICAL_CROSSENTROPY, true, logits, target, 2, 10, 5);
  double b = loss_of (WEFT_LOSS_CATEGORICAL_CROSSENTROPY, false, probs, target, 2, 10, 5);
  g_assert_cmpfloat_with_epsilon (a, b, 1e-5);
}

static void
test_sparse_value (void)
{
  const float pred[] = { 0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f };
  const float onehot[] = { 1, 0, 0, 0, 0, 1 };
  const float labels[] = { 0, 2 };
  for (int logits = 0; logits < 2; logits++)
    g_assert_cmpfloat_with_epsilon (
      loss_of (WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, logits, pred, labels, 2, 3, 3),
      loss_of (WEFT_LOSS_CATEGORICAL_CROSSENTROPY, logits, pred, onehot, 2, 3, 3), 1e-12);

  const float logits3[] = { 1, 2, 3 };
  const float label1[] = { 1 };
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, true,
                                           logits3, label1, 1, 3, 3),
                                  log (exp (1.0) + exp (2.0) + exp (3.0)) - 2.0, LOSS_TOL);
}

static void
test_sparse_bad_index_is_nan (void)
{
  const float pred[] = { 0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f };
  const float bad[][2] = { { 0, 3 }, { -1, 0 }, { 1.5f, 0 }, { NAN, 0 }, { 0, INFINITY },
                           { 0, 1e30f } };
  for (guint c = 0; c < G_N_ELEMENTS (bad); c++)
    for (int logits = 0; logits < 2; logits++)
      {
        float grad[6] = { 0 };
        WeftLossSpec spec = spec_make (WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, logits);
        double l = weft_loss_compute (&spec, pred, bad[c], 2, 3, 3, grad, 1.0f);
        g_assert_true (isnan (l));
        for (int i = 0; i < 6; i++)
          g_assert_cmpfloat (grad[i], ==, 0.0f);   /* bad data leaves grad untouched */
      }
}

static void
test_cce_clips_probabilities (void)
{
  /* the target class has probability 0: loss -log(1e-7), finite */
  const float pred[] = { 0.0f, 1.0f, 0.0f };
  const float target[] = { 1, 0, 0 };
  float grad[3] = { 0 };
  WeftLossSpec spec = spec_make (WEFT_LOSS_CATEGORICAL_CROSSENTROPY, false);
  double l = weft_loss_compute (&spec, pred, target, 1, 3, 3, grad, 1.0f);
  g_assert_cmpfloat_with_epsilon (l, -log (1e-7), LOSS_TOL);
  for (int i = 0; i < 3; i++)
    g_assert_true (isfinite (grad[i]));
  g_assert_cmpfloat (grad[0], ==, 0.0f);
}

/* A head's loss as a function of its pre-activation z: act over rows of `classes`, then
 * weft_loss_compute on the probabilities (p receives them). */
static double
loss_of_preact (const WeftLossSpec *spec, WeftActivation act, const float *z,
                const float *target, int batch, int width, int classes, float *p)
{
  weft_activation_forward (act, z, p, (size_t) batch * width, classes);
  return weft_loss_compute (spec, p, target, batch, width, classes, NULL, 1.0f);
}

/* weft_loss_preact gives weft_loss_compute's value on the probabilities of z (up to 24
 * values), and assigns scale times the derivative of that loss with respect to z (central
 * differences through the activation). */
static void
check_preact_gradient (const WeftLossSpec *spec, WeftActivation act, float *z,
                       const float *target, int batch, int width, int classes, float scale)
{
  int n = batch * width;
  float p[24], q[24], grad[24];
  g_assert_cmpint (n, <=, 24);
  g_assert_true (weft_loss_fuses_activation (spec, act));
  double want = loss_of_preact (spec, act, z, target, batch, width, classes, p);
  for (int i = 0; i < n; i++)
    grad[i] = NAN;   /* assigned, not added */
  double got = weft_loss_preact (spec, p, target, batch, width, classes, grad, scale);
  g_assert_cmpfloat_with_epsilon (got, want, 1e-6 * want);
  for (int i = 0; i < n; i++)
    {
      float keep = z[i];
      double h = 1e-3;
      z[i] = keep + (float) h;
      double up = loss_of_preact (spec, act, z, target, batch, width, classes, q);
      z[i] = keep - (float) h;
      double down = loss_of_preact (spec, act, z, target, batch, width, classes, q);
      z[i] = keep;
      g_assert_cmpfloat (fabs (grad[i] - scale * (up - down) / (2 * h)), <=, 2e-4);
    }
}

/* A softmax head's fused loss for sparse labels, one-hot targets and soft targets over a
 * [batch 2, positions 2, classes 4] output. */
static void
test_softmax_cce_gradient (void)
{
  const float labels[4] = { 2, 0, 3, 1 };
  const float soft[16] = { 0.1f, 0.2f, 0.3f, 0.4f, 1, 0, 0, 0, 0, 0, 0.5f, 0.5f,
                           0.25f, 0.25f, 0.25f, 0.25f };
  for (int c = 0; c < 2; c++)
    {
      WeftLossSpec spec = spec_make (c == 0 ? WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY
                                            : WEFT_LOSS_CATEGORICAL_CROSSENTROPY, false);
      float z[16];
      for (int i = 0; i < 16; i++)
        z[i] = sinf (1.7f * i + 0.2f) * 2.0f;
      check_preact_gradient (&spec, WEFT_ACT_SOFTMAX, z, c == 0 ? labels : soft, 2, 8, 4,
                             0.5f);
    }
}

/* Where the probabilities' path clips (p < 1e-7: a confidently wrong prediction) its
 * gradient is zero and learning stalls; the pre-activation gradient p - target is not. */
static void
test_softmax_cce_confident_mistake_still_learns (void)
{
  const float z[3] = { 0.0f, 40.0f, 0.0f }, label[1] = { 0 };
  float p[3], clipped[3] = { 0 }, fused[3];
  weft_activation_forward (WEFT_ACT_SOFTMAX, z, p, 3, 3);
  g_assert_cmpfloat (p[0], <, 1e-7f);
  WeftLossSpec spec = spec_make (WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, false);
  double l1 = weft_loss_compute (&spec, p, label, 1, 3, 3, clipped, 1.0f);
  double l2 = weft_loss_preact (&spec, p, label, 1, 3, 3, fused, 1.0f);
  g_assert_cmpfloat_with_epsilon (l1, -log (1e-7), LOSS_TOL);
  g_assert_cmpfloat_with_epsilon (l2, l1, 1e-6 * l1);
  g_assert_cmpfloat (clipped[0], ==, 0.0f);
  g_assert_cmpfloat_with_epsilon (fused[0], -1.0f, 1e-6f);
  g_assert_cmpfloat_with_epsilon (fused[1], 1.0f, 1e-6f);
  /* a label outside the classes: NaN, gradient untouched */
  const float bad[1] = { 3 };
  fused[0] = 42.0f;
  g_assert_true (isnan (weft_loss_preact (&spec, p, bad, 1, 3, 3, fused, 1.0f)));
  g_assert_cmpfloat (fused[0], ==, 42.0f);
}

/* The sparse fused loss takes its logs 16 at a time: against log in double for one sample at
 * a time, probabilities from the clipping bound 1e-7 to 1, and NaN stays NaN. */
static void
test_softmax_cce_log_matches_double (void)
{
  WeftLossSpec spec = spec_make (WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, false);
  const float label[1] = { 0 };
  for (int i = 0; i <= 2000; i++)
    {
      float q = (float) pow (10.0, -7.0 * i / 2000.0);
      float p[2] = { q, 1.0f - q };
      float s = p[0] + p[1];
      /* clipped to float32's [1e-7, 1 - 1e-7], as Keras' float32 graph does */
      double want = -log (fminf (fmaxf (q * (1.0f / s), 1e-7f), (float) (1.0 - 1e-7)));
      double got = weft_loss_preact (&spec, p, label, 1, 2, 2, NULL, 1.0f);
      if (!(fabs (got - want) <= 2e-7 * fmax (want, 1e-3)))
        g_error ("p = %.9g: loss %.9g, want %.9g", q, got, want);
    }
  /* 17 samples (a whole vector and one more), the last one NaN */
  float p[34];
  float labels[17] = { 0 };
  for (int i = 0; i < 17; i++)
    {
      p[2 * i] = 0.5f;
      p[2 * i + 1] = 0.5f;
    }
  p[32] = NAN;
  g_assert_true (isnan (weft_loss_preact (&spec, p, labels, 17, 2, 2, NULL, 1.0f)));
  p[32] = 0.5f;
  g_assert_cmpfloat_with_epsilon (weft_loss_preact (&spec, p, labels, 17, 2, 2, NULL, 1.0f),
                                  log (2.0), 1e-7);
}

/* Whole blocks of 16 positions take the vector path (classes <= 16): over 37 positions
 * (two blocks and five more) the fused loss equals the probabilities' loss in double, where
 * one position's label class is clipped at 1e-7, and the gradient is scale (p sum t - t) / 37
 * for sparse labels, one-hot, soft and all-zero targets; a NaN probability gives NaN; a bad
 * label in a block or after the blocks gives NaN and leaves the gradient alone. */
static void
test_softmax_cce_blocks (void)
{
  enum { POS = 37 };
  const int class_counts[] = { 3, 10, 16 };
  for (size_t ci = 0; ci < G_N_ELEMENTS (class_counts); ci++)
    for (int kind = 0; kind < 3; kind++)   /* sparse, one-hot, soft (with a zero row) */
      {
        const int C = class_counts[ci];
        const bool sparse = kind == 0;
        float z[POS * 16], p[POS * 16], t[POS * 16], grad[POS * 16];
        int label[POS];
        for (int i = 0; i < POS * C; i++)
          z[i] = 3.0f * sinf (0.37f * i + 0.1f * C);
        for (int i = 0; i < POS; i++)
          label[i] = (7 * i + kind) % C;
        z[21 * C + (label[21] + 1) % C] = 40.0f;   /* label class of position 21 < 1e-7 */
        weft_activation_forward (WEFT_ACT_SOFTMAX, z, p, POS * C, C);
        g_assert_cmpfloat (p[21 * C + label[21]], <, 1e-7f);
        for (int i = 0; i < POS; i++)
          for (int k = 0; k < C; k++)
            {
              float v = k == label[i] ? 1.0f : 0.0f;
              if (kind == 2)
                v = i == 9 ? 0.0f : (float) ((i + k) % 3) / (float) (3 * C);
              t[i * C + k] = v;
            }
        if (sparse)
          for (int i = 0; i < POS; i++)
            t[i] = (float) label[i];
        WeftLossSpec spec = spec_make (sparse ? WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY
                                              : WEFT_LOSS_CATEGORICAL_CROSSENTROPY, false);
        double want = 0.0;
        for (int i = 0; i < POS; i++)
          {
            double s = 0.0;
            for (int k = 0; k < C; k++)
              s += p[i * C + k];
            for (int k = 0; k < C; k++)
              {
                double tk = sparse ? (k == label[i]) : t[i * C + k];
                if (tk != 0.0)
                  want -= tk * log (fmin (fmax (p[i * C + k] / s, 1e-7), 1.0 - 1e-7));
              }
          }
        want /= POS;
        const float scale = 0.75f;
        for (int i = 0; i < POS * C; i++)
          grad[i] = NAN;   /* assigned, not added */
        double got = weft_loss_preact (&spec, p, t, 1, POS * C, C, grad, scale);
        if (!(fabs (got - want) <= 1e-6 * want))
          g_error ("%d classes, kind %d: loss %.9g, want %.9g", C, kind, got, want);
        for (int i = 0; i < POS; i++)
          {
            double tsum = 0.0;
            for (int k = 0; k < C; k++)
              tsum += sparse ? (k == label[i]) : t[i * C + k];
            for (int k = 0; k < C; k++)
              {
                double tk = sparse ? (k == label[i]) : t[i * C + k];
                double g = scale * (p[i * C + k] * tsum - tk) / POS;
                if (!(fabs (grad[i * C + k] - g) <= 1e-7))
                  g_error ("%d classes, kind %d: grad[%d][%d] %.9g, want %.9g", C, kind, i, k,
                           grad[i * C + k], g);
              }
          }
        float keep = p[20 * C + 1];
        p[20 * C + 1] = NAN;
        g_assert_true (isnan (weft_loss_preact (&spec, p, t, POS, C, C, NULL, 1.0f)));
        p[20 * C + 1] = keep;
        if (!sparse)
          continue;
        const float bad_labels[] = { -1.0f, (float) C, 0.5f, NAN };
        const int bad_at[] = { 3, POS - 1 };
        for (size_t b = 0; b < G_N_ELEMENTS (bad_labels); b++)
          for (size_t a = 0; a < G_N_ELEMENTS (bad_at); a++)
            {
              float keep_t = t[bad_at[a]];
              t[bad_at[a]] = bad_labels[b];
              for (int i = 0; i < POS * C; i++)
                grad[i] = 42.0f;
              g_assert_true (isnan (weft_loss_preact (&spec, p, t, POS, C, C, grad, 1.0f)));
              for (int i = 0; i < POS * C; i++)
                g_assert_cmpfloat (grad[i], ==, 42.0f);
              t[bad_at[a]] = keep_t;
            }
      }
}

/* Binary cross-entropy on a sigmoid head: the fused loss and its pre-activation gradient,
 * and a confidently wrong unit still gets p - target. */
static void
test_sigmoid_bce_preact (void)
{
  WeftLossSpec spec = spec_make (WEFT_LOSS_BINARY_CROSSENTROPY, false);
  const float target[6] = { 1, 0, 1, 0, 0.3f, 1 };
  float z[6];
  for (int i = 0; i < 6; i++)
    z[i] = sinf (2.1f * i + 0.3f) * 3.0f;
  g_assert_false (weft_loss_fuses_activation (&spec, WEFT_ACT_SOFTMAX));
  check_preact_gradient (&spec, WEFT_ACT_SIGMOID, z, target, 2, 3, 3, 2.0f);
  const float far[1] = { -30.0f }, one[1] = { 1 };
  float pf[1], gf[1], gc[1] = { 0 };
  weft_activation_forward (WEFT_ACT_SIGMOID, far, pf, 1, 1);
  weft_loss_compute (&spec, pf, one, 1, 1, 1, gc, 1.0f);
  weft_loss_preact (&spec, pf, one, 1, 1, 1, gf, 1.0f);
  g_assert_cmpfloat (gc[0], ==, 0.0f);   /* clipped: no gradient on the probabilities */
  g_assert_cmpfloat_with_epsilon (gf[0], -1.0f, 1e-6f);
}

/* The same cases through TensorFlow.js 4.22 (tf.metrics.binaryCrossentropy,
 * categoricalCrossentropy averaged; tf.losses.sigmoidCrossEntropy, softmaxCrossEntropy). */
static void
test_losses_match_tfjs (void)
{
  const float bp[] = { 0.9f, 0.2f, 0.6f, 0.5f }, bt[] = { 1, 0, 0, 1 };
  const float cp[] = { 0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f }, ct[] = { 1, 0, 0, 0, 0, 1 };
  const float one0[] = { 1, 0, 0 }, one2[] = { 0, 0, 1 };
  const struct
  {
    WeftLoss     loss;
    bool         from_logits;
    const float *pred, *target;
    int          batch, width;
    double       tfjs;
  } cases[] = {
    { WEFT_LOSS_BINARY_CROSSENTROPY, false, bp, bt, 2, 2, 0.484485507 },
    { WEFT_LOSS_BINARY_CROSSENTROPY, false, (const float[]) { 0, 1 }, (const float[]) { 1, 1 },
      1, 2, 8.05904770 },
    { WEFT_LOSS_BINARY_CROSSENTROPY, true, (const float[]) { 2, -1, 0, 3 },
      (const float[]) { 1, 0, 1, 0 }, 1, 4, 1.04548109 },
    { WEFT_LOSS_BINARY_CROSSENTROPY, true, (const float[]) { 100 }, (const float[]) { 0 }, 1, 1,
      100.0 },
    { WEFT_LOSS_CATEGORICAL_CROSSENTROPY, false, cp, ct, 2, 3, 0.289909244 },
    { WEFT_LOSS_CATEGORICAL_CROSSENTROPY, false, (const float[]) { 2, 1, 1 }, one0, 1, 3,
      0.693147182 },
    { WEFT_LOSS_CATEGORICAL_CROSSENTROPY, false, (const float[]) { 0, 1, 0 }, one0, 1, 3,
      16.1180954 },
    { WEFT_LOSS_CATEGORICAL_CROSSENTROPY, true, (const float[]) { 1, 2, 3 }, one2, 1, 3,
      0.407605886 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      int classes = cases[i].loss == WEFT_LOSS_CATEGORICAL_CROSSENTROPY ? 3 : cases[i].width;
      double l = loss_of (cases[i].loss, cases[i].from_logits, cases[i].pred, cases[i].target,
                          cases[i].batch, cases[i].width, classes);
      g_assert_cmpfloat_with_epsilon (l, cases[i].tfjs, TFJS_LOSS_TOL * (1.0 + cases[i].tfjs));
    }
}

/* ---- stability ---- */

static void
test_logits_are_stable (void)
{
  const float logits[] = { 100, -100, 100, -100, 0, 100, -100, 100 };
  const float bin_target[] = { 0, 1, 1, 0, 1, 1, 0, 0 };
  const float cat_target[] = { 0, 1, 0, 0, 1, 0, 0, 0 };
  const float labels[] = { 3, 0 };
  const WeftLoss losses[] = { WEFT_LOSS_BINARY_CROSSENTROPY,
                              WEFT_LOSS_CATEGORICAL_CROSSENTROPY,
                              WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY };
  const float *targets[] = { bin_target, cat_target, labels };

  for (guint c = 0; c < G_N_ELEMENTS (losses); c++)
    {
      float grad[8] = { 0 };
      WeftLossSpec spec = spec_make (losses[c], true);
      double l = weft_loss_compute (&spec, logits, targets[c], 2, 4, 4, grad, 1.0f);
      g_assert_true (isfinite (l));
      g_assert_cmpfloat (l, >, 10.0);   /* confidently wrong answers cost ~100 */
      for (int i = 0; i < 8; i++)
        {
          g_assert_true (isfinite (grad[i]));
          g_assert_cmpfloat (fabsf (grad[i]), <=, 1.0f);
        }
    }

  /* BCE with logit 100 against target 0 costs exactly 100 */
  const float x[] = { 100.0f };
  const float z[] = { 0.0f };
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_BINARY_CROSSENTROPY, true, x, z, 1, 1, 1),
                                  100.0, 1e-9);
}

/* ---- gradients against finite differences ---- */

static void
check_gradient (WeftLoss loss, bool from_logits, float *pred, const float *target, int batch,
                int width, int classes)
{
  const float scale = 1.75f;
  const float bias = 0.125f;   /* grad starts non-zero: the gradient must be ADDED */
  int n = batch * width;
  float *grad = g_new (float, n);
  WeftLossSpec spec = spec_make (loss, from_logits);

  for (int i = 0; i < n; i++)
    grad[i] = bias;
  double l = weft_loss_compute (&spec, pred, target, batch, width, classes, grad, scale);
  g_assert_true (isfinite (l));

  for (int i = 0; i < n; i++)
    {
      float x = pred[i];
      float xp = x + FD_STEP, xm = x - FD_STEP;
      pred[i] = xp;
      double lp = weft_loss_compute (&spec, pred, target, batch, width, classes, NULL, 1.0f);
      pred[i] = xm;
      double lm = weft_loss_compute (&spec, pred, target, batch, width, classes, NULL, 1.0f);
      pred[i] = x;
      double fd = scale * (lp - lm) / ((double) xp - (double) xm);
      double analytic = (double) grad[i] - bias;
      if (fabs (analytic - fd) > FD_TOL_ABS + FD_TOL_REL * fabs (fd))
        g_error ("%s from_logits=%d: d/dpred[%d] analytic %.8g, finite difference %.8g",
                 weft_loss_names[loss], from_logits, i, analytic, fd);
    }
  g_free (grad);
}

static void
test_gradients_match_finite_differences (gconstpointer data)
{
  WeftLoss loss = GPOINTER_TO_INT (data);
  const int batch = 3, time = 2, classes = 4;
  const int width = time * classes, n = batch * width;
  WeftRng rng;
  float pred[24], target[24];

  weft_rng_seed (&rng, SEED + loss);
  for (int from_logits = 0; from_logits < 2; from_logits++)
    {
      switch (loss)
        {
        case WEFT_LOSS_MSE:
        case WEFT_LOSS_MAE:
        case WEFT_LOSS_HUBER:
          fill_uniform (&rng, pred, n, -3.0f, 3.0f);
          fill_uniform (&rng, target, n, -3.0f, 3.0f);
          /* keep clear of the kinks (|e| = 0, and |e| = delta for Huber) */
          for (int i = 0; i < n; i++)
            {
              float e = fabsf (pred[i] - target[i]);
              if (e < 0.05f || fabsf (e - 1.0f) < 0.05f)
                pred[i] += 0.2f;
            }
          break;
        case WEFT_LOSS_BINARY_CROSSENTROPY:
          if (from_logits)
            fill_uniform (&rng, pred, n, -5.0f, 5.0f);
          else
            fill_uniform (&rng, pred, n, 0.05f, 0.95f);
          fill_uniform (&rng, target, n, 0.0f, 1.0f);
          break;
        case WEFT_LOSS_CATEGORICAL_CROSSENTROPY:
        case WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
          /* unnormalised probabilities: exercises Keras' rescaling too */
          if (from_logits)
            fill_uniform (&rng, pred, n, -4.0f, 4.0f);
          else
            fill_uniform (&rng, pred, n, 0.1f, 1.0f);
          if (loss == WEFT_LOSS_CATEGORICAL_CROSSENTROPY)
            {
              /* soft targets summing to one per position */
              fill_uniform (&rng, target, n, 0.0f, 1.0f);
              for (int p = 0; p < batch * time; p++)
                {
                  float s = 0.0f;
                  for (int k = 0; k < classes; k++)
                    s += target[p * classes + k];
                  for (int k = 0; k < classes; k++)
                    target[p * classes + k] /= s;
                }
            }
          else
            for (int p = 0; p < batch * time; p++)
              target[p] = (float) weft_rng_below (&rng, classes);
          break;
        default:
          g_assert_not_reached ();
        }
      check_gradient (loss, from_logits, pred, target, batch, width, classes);
    }
}

/* ---- reductions ---- */

static void
test_reductions_over_batch_time_classes (void)
{
  enum { B = 2, T = 3, C = 4, N = B * T * C };
  WeftRng rng;
  float pred[N], logits[N], target[N], onehot[N] = { 0 }, labels[B * T];

  weft_rng_seed (&rng, SEED + 7);
  fill_uniform (&rng, pred, N, 0.05f, 0.95f);
  fill_uniform (&rng, logits, N, -2.0f, 2.0f);
  fill_uniform (&rng, target, N, 0.0f, 1.0f);
  for (int p = 0; p < B * T; p++)
    {
      labels[p] = (float) ((p * 3 + 1) % C);
      onehot[p * C + (int) labels[p]] = 1.0f;
    }

  g_assert_cmpint (weft_loss_target_width (WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                                           T * C, C), ==, T);
  g_assert_cmpint (weft_loss_target_width (WEFT_LOSS_CATEGORICAL_CROSSENTROPY, T * C, C),
                   ==, T * C);
  g_assert_cmpint (weft_loss_target_width (WEFT_LOSS_MSE, T * C, C), ==, T * C);
  g_assert_cmpint (weft_metric_target_width (WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY, T * C, C),
                   ==, T);
  g_assert_cmpint (weft_metric_target_width (WEFT_METRIC_CATEGORICAL_ACCURACY, T * C, C), ==,
                   T * C);
  g_assert_cmpint (weft_metric_target_width (WEFT_METRIC_MAE, T * C, C), ==, T * C);
  /* the metric that "accuracy" resolves to always fits its loss's targets */
  for (int l = WEFT_LOSS_MSE; l < WEFT_LOSS_COUNT; l++)
    g_assert_cmpint (weft_metric_target_width (weft_metric_for_loss (l), T * C, C), ==,
                     weft_loss_target_width (l, T * C, C));

  /* regression and BCE: mean over the class axis, then over the B*T positions */
  double mse = 0.0, bce = 0.0;
  for (int p = 0; p < B * T; p++)
    {
      double sq = 0.0, b = 0.0;
      for (int k = 0; k < C; k++)
        {
          double d = (double) pred[p * C + k] - target[p * C + k];
          double z = target[p * C + k], q = pred[p * C + k];
          sq += d * d;
          b += -(z * log (q) + (1 - z) * log (1 - q));
        }
      mse += sq / C;
      bce += b / C;
    }
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_MSE, false, pred, target, B, T * C, C),
                                  mse / (B * T), LOSS_TOL);
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_BINARY_CROSSENTROPY, false, pred, target,
                                           B, T * C, C), bce / (B * T), LOSS_TOL);

  /* cross-entropy: sum over the class axis, mean over the positions */
  double cce = 0.0;
  for (int p = 0; p < B * T; p++)
    {
      double mx = -INFINITY, s = 0.0;
      for (int k = 0; k < C; k++)
        mx = fmax (mx, logits[p * C + k]);
      for (int k = 0; k < C; k++)
        s += exp (logits[p * C + k] - mx);
      cce += mx + log (s) - logits[p * C + (int) labels[p]];
    }
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_CATEGORICAL_CROSSENTROPY, true, logits,
                                           onehot, B, T * C, C), cce / (B * T), LOSS_TOL);
  g_assert_cmpfloat_with_epsilon (loss_of (WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, true,
                                           logits, labels, B, T * C, C), cce / (B * T),
                                  LOSS_TOL);

  /* the sum of the gradient of the mean loss is independent of how rows are split */
  float g1[N] = { 0 }, g2[N] = { 0 };
  WeftLossSpec spec = spec_make (WEFT_LOSS_MSE, false);
  weft_loss_compute (&spec, pred, target, B, T * C, C, g1, 1.0f);
  weft_loss_compute (&spec, pred, target, B * T, C, C, g2, 1.0f);
  for (int i = 0; i < N; i++)
    g_assert_cmpfloat_with_epsilon (g1[i], g2[i], 1e-7);
}

static void
test_loss_weight_scales_gradient (void)
{
  const float pred[] = { 0.3f, -1.0f, 2.0f };
  const float target[] = { 0.0f, 1.0f, 2.5f };
  float g1[3] = { 0 }, g3[3] = { 0 };
  WeftLossSpec spec = spec_make (WEFT_LOSS_MSE, false);
  double l1 = weft_loss_compute (&spec, pred, target, 1, 3, 3, g1, 1.0f);
  double l3 = weft_loss_compute (&spec, pred, target, 1, 3, 3, g3, 3.0f);
  g_assert_cmpfloat (l1, ==, l3);   /* the loss is reported unweighted */
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon (g3[i], 3.0f * g1[i], 1e-6);
  /* mse gradient: 2 (p - t) / n */
  g_assert_cmpfloat_with_epsilon (g1[0], 2.0f * 0.3f / 3.0f, 1e-7);
}

/* ---- names ---- */

static void
test_names (void)
{
  g_assert_cmpint (weft_loss_from_name ("mse"), ==, WEFT_LOSS_MSE);
  g_assert_cmpint (weft_loss_from_name ("mean_squared_error"), ==, WEFT_LOSS_MSE);
  g_assert_cmpint (weft_loss_from_name ("mae"), ==, WEFT_LOSS_MAE);
  g_assert_cmpint (weft_loss_from_name ("mean_absolute_error"), ==, WEFT_LOSS_MAE);
  g_assert_cmpint (weft_loss_from_name ("huber"), ==, WEFT_LOSS_HUBER);
  g_assert_cmpint (weft_loss_from_name ("huber_loss"), ==, WEFT_LOSS_HUBER);
  g_assert_cmpint (weft_loss_from_name ("binary_crossentropy"), ==,
                   WEFT_LOSS_BINARY_CROSSENTROPY);
  g_assert_cmpint (weft_loss_from_name ("categorical_crossentropy"), ==,
                   WEFT_LOSS_CATEGORICAL_CROSSENTROPY);
  g_assert_cmpint (weft_loss_from_name ("sparse_categorical_crossentropy"), ==,
                   WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
  g_assert_cmpint ((int) weft_loss_from_name ("hinge"), ==, -1);   /* unsigned enum */
  g_assert_cmpint ((int) weft_loss_from_name (NULL), ==, -1);
  for (int i = 0; weft_loss_names[i] != NULL; i++)
    g_assert_cmpint (weft_loss_from_name (weft_loss_names[i]), ==, i);
  for (int i = 0; weft_metric_names[i] != NULL; i++)
    g_assert_cmpint (weft_metric_from_name (weft_metric_names[i]), ==, i);
  /* the name tables are indexed by the enums */
  int n_loss = 0, n_metric = 0;
  while (weft_loss_names[n_loss] != NULL)
    n_loss++;
  while (weft_metric_names[n_metric] != NULL)
    n_metric++;
  g_assert_cmpint (n_loss, ==, WEFT_LOSS_COUNT);
  g_assert_cmpint (n_metric, ==, WEFT_METRIC_COUNT);
}

static void
test_metric_names (void)
{
  g_assert_cmpint (weft_metric_from_name ("binary_accuracy"), ==, WEFT_METRIC_BINARY_ACCURACY);
  g_assert_cmpint (weft_metric_from_name ("categorical_accuracy"), ==,
                   WEFT_METRIC_CATEGORICAL_ACCURACY);
  g_assert_cmpint (weft_metric_from_name ("sparse_categorical_accuracy"), ==,
                   WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY);
  g_assert_cmpint (weft_metric_from_name ("mae"), ==, WEFT_METRIC_MAE);
  g_assert_cmpint (weft_metric_from_name ("accuracy"), ==, WEFT_METRIC_CATEGORICAL_ACCURACY);
  g_assert_cmpint ((int) weft_metric_from_name ("f1"), ==, -1);

  g_assert_cmpint (weft_metric_for_loss (WEFT_LOSS_BINARY_CROSSENTROPY), ==,
                   WEFT_METRIC_BINARY_ACCURACY);
  g_assert_cmpint (weft_metric_for_loss (WEFT_LOSS_CATEGORICAL_CROSSENTROPY), ==,
                   WEFT_METRIC_CATEGORICAL_ACCURACY);
  g_assert_cmpint (weft_metric_for_loss (WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY), ==,
                   WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY);
  g_assert_cmpint (weft_metric_for_loss (WEFT_LOSS_NONE), ==, WEFT_METRIC_NONE);

  g_assert_cmpint (weft_metric_from_name_for_loss ("accuracy",
                                                   WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY),
                   ==, WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY);
  g_assert_cmpint (weft_metric_from_name_for_loss ("acc", WEFT_LOSS_BINARY_CROSSENTROPY), ==,
                   WEFT_METRIC_BINARY_ACCURACY);
  g_assert_cmpint (weft_metric_from_name_for_loss ("mae", WEFT_LOSS_BINARY_CROSSENTROPY), ==,
                   WEFT_METRIC_MAE);
}

/* ---- metrics ---- */

static void
test_metrics (void)
{
  /* binary: threshold 0.5; sample 0 gets 1 of 3 right, sample 1 gets 3 of 3 */
  const float bp[] = { 0.6f, 0.4f, 0.7f, 0.9f, 0.1f, 0.5f };
  const float bt[] = { 1, 1, 0, 1, 0, 0 };
  g_assert_cmpfloat_with_epsilon (weft_metric_compute (WEFT_METRIC_BINARY_ACCURACY, false, bp,
                                                       bt, 2, 3, 3), 1.0 / 3.0 + 1.0, 1e-12);
  /* with logits the threshold is 0 */
  const float bl[] = { 0.1f, -0.1f, -2.0f, 3.0f };
  const float blt[] = { 1, 0, 0, 0 };
  g_assert_cmpfloat_with_epsilon (weft_metric_compute (WEFT_METRIC_BINARY_ACCURACY, true, bl,
                                                       blt, 1, 4, 1), 0.75, 1e-12);

  /* categorical over [batch 2, time 2, classes 3]: sample 0 right twice, sample 1 once */
  const float cp[] = { 0.1f, 0.8f, 0.1f,   0.5f, 0.2f, 0.3f,
                       0.3f, 0.3f, 0.4f,   0.2f, 0.7f, 0.1f };
  const float ct[] = { 0, 1, 0,   1, 0, 0,
                       0, 0, 1,   1, 0, 0 };
  const float cl[] = { 1, 0, 2, 0 };
  g_assert_cmpfloat_with_epsilon (weft_metric_compute (WEFT_METRIC_CATEGORICAL_ACCURACY, false,
                                                       cp, ct, 2, 6, 3), 1.0 + 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (weft_metric_compute (WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY,
                                                       false, cp, cl, 2, 6, 3), 1.5, 1e-12);
  /* out-of-range labels count as wrong, never read outside */
  const float bad[] = { 7, -1, 2.5f, NAN };
  g_assert_cmpfloat (weft_metric_compute (WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY, false, cp,
                                          bad, 2, 6, 3), ==, 0.0);

  /* mae: per-sample mean absolute error, summed over the batch */
  const float mp[] = { 1, 2, 3, 4 };
  const float mt[] = { 0, 2, 5, 4 };
  g_assert_cmpfloat_with_epsilon (weft_metric_compute (WEFT_METRIC_MAE, false, mp, mt, 2, 2, 2),
                                  0.5 + 1.0, 1e-12);
}

/* ---- optimizers ---- */

/* 19 = 2*8 + 3 = 4*4 + 3: the first slice runs both the vector blocks and the scalar tail */
#define NP 21

static const float p0[NP] = { 0.5f, -1.0f, 2.0f, 0.1f, -0.3f, 1.5f, -2.5f, 0.7f, 0.0f, 3.0f,
                              -0.8f, 1.1f, -0.6f, 0.25f, 0.9f, -1.7f, 0.05f, 2.2f, -0.4f,
                              0.6f, -1.3f };
static const float g1[NP] = { 0.2f, -0.5f, 1.0f, 0.05f, -3.0f, 0.4f, 0.0f, -0.1f, 2.0f, 0.3f,
                              -1.2f, 0.7f, -0.05f, 1.5f, -0.9f, 0.35f, -2.2f, 0.15f, 0.8f,
                              -0.6f, 1.1f };
static const float g2[NP] = { -0.1f, 0.3f, 0.8f, 0.5f, -1.0f, -0.2f, 0.6f, 0.9f, -2.0f, 0.0f,
                              0.4f, -0.7f, 0.2f, -1.5f, 0.45f, 1.2f, -0.3f, 0.65f, -0.25f,
                              0.1f, -0.9f };

/* two trainable slices [0, 19) and [19, 21) */
static const WeftParamSlice two_slices[] = {
  { 0, 19, true, true },
  { 19, 2, true, true },
};

typedef void (*RefStep) (const WeftOptimConfig *c, double *p, const double *g, double *m,
                         double *v, int t, int n);

static void
ref_sgd (const WeftOptimConfig *c, double *p, const double *g, double *m, double *v, int t,
         int n)
{
  for (int i = 0; i < n; i++)
    {
      if (c->momentum == 0.0f)
        {
          p[i] -= (double) c->learning_rate * g[i];
          continue;
        }
      m[i] = (double) c->momentum * m[i] - (double) c->learning_rate * g[i];
      if (c->nesterov)
        p[i] += (double) c->momentum * m[i] - (double) c->learning_rate * g[i];
      else
        p[i] += m[i];
    }
}

static void
ref_adam (const WeftOptimConfig *c, double *p, const double *g, double *m, double *v, int t,
          int n)
{
  double b1 = c->beta_1, b2 = c->beta_2, lr = c->learning_rate;
  double lr_t = lr * sqrt (1.0 - pow (b2, t)) / (1.0 - pow (b1, t));
  for (int i = 0; i < n; i++)
    {
      if (c->kind == WEFT_OPTIM_ADAMW)
        p[i] -= lr * c->weight_decay * p[i];
      m[i] = b1 * m[i] + (1.0 - b1) * g[i];
      v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
      p[i] -= lr_t * m[i] / (sqrt (v[i]) + c->epsilon);
    }
}

static void
ref_rmsprop (const WeftOptimConfig *c, double *p, const double *g, double *m, double *v,
             int t, int n)
{
  for (int i = 0; i < n; i++)
    {
      v[i] = c->rho * v[i] + (1.0 - c->rho) * g[i] * g[i];
      double step = c->learning_rate * g[i] / (sqrt (v[i]) + c->epsilon);
      if (c->momentum != 0.0f)
        {
          m[i] = c->momentum * m[i] + step;
          step = m[i];
        }
      p[i] -= step;
    }
}

/* Keras' clipping in double: each slice to clipnorm, then all to global_clipnorm. */
static void
ref_clip (const WeftOptimConfig *c, double *g, const WeftParamSlice *slices, int n_slices)
{
  double global = 0.0;
  for (int s = 0; s < n_slices; s++)
    {
      double sq = 0.0;
      for (size_t i = slices[s].offset; i < slices[s].offset + slices[s].count; i++)
        sq += g[i] * g[i];
      if (c->clipnorm > 0.0f && sqrt (sq) > c->clipnorm)
        {
          for (size_t i = slices[s].offset; i < slices[s].offset + slices[s].count; i++)
            g[i] *= c->clipnorm / sqrt (sq);
          sq = (double) c->clipnorm * c->clipnorm;
        }
      global += sq;
    }
  if (c->global_clipnorm > 0.0f && sqrt (global) > c->global_clipnorm)
    for (int i = 0; i < NP; i++)
      g[i] *= c->global_clipnorm / sqrt (global);
}

static void
check_two_steps (const WeftOptimConfig *config, RefStep ref)
{
  double p[NP], m[NP] = { 0 }, v[NP] = { 0 }, gd[NP];
  float params[NP], grads[NP];
  WeftOptim *optim = weft_optim_new (config, NP);
  g_assert_nonnull (optim);

  for (int i = 0; i < NP; i++)
    {
      p[i] = p0[i];
      params[i] = p0[i];
    }
  for (int t = 1; t <= 2; t++)
    {
      const float *g = t == 1 ? g1 : g2;
      for (int i = 0; i < NP; i++)
        {
          gd[i] = g[i];
          grads[i] = g[i];
        }
      weft_optim_step (optim, params, grads, two_slices, G_N_ELEMENTS (two_slices));
      ref_clip (config, gd, two_slices, G_N_ELEMENTS (two_slices));
      ref (config, p, gd, m, v, t, NP);
      g_assert_cmpint (weft_optim_iterations (optim), ==, t);
      for (int i = 0; i < NP; i++)
        if (fabs (params[i] - p[i]) > OPTIM_TOL_REL * (1.0 + fabs (p[i])))
          g_error ("step %d, parameter %d: got %.9g, formula gives %.9g", t, i, params[i],
                   p[i]);
    }
  weft_optim_free (optim);
}

static void
test_sgd_plain (void)
{
  WeftOptimConfig c;
  weft_optim_config_defaults (WEFT_OPTIM_SGD, &c);
  c.learning_rate = 0.1f;
  check_two_steps (&c, ref_sgd);

  /* and by hand: p = 0.5 - 0.1*0.2 - 0.1*(-0.1) */
  float params[NP], grads[NP];
  memcpy (params, p0, sizeof params);
  WeftOptim *o = weft_optim_new (&c, NP);
  g_assert_cmpuint (weft_optim_state_size (o), ==, 0);
  memcpy (grads, g1, sizeof grads);
  weft_optim_step (o, params, grads, two_slices, 2);
  memcpy (grads, g2, sizeof grads);
  weft_optim_step (o, params, grads, two_slices, 2);
  g_assert_cmpfloat_with_epsilon (params[0], 0.5 - 0.02 + 0.01, 1e-6);
  weft_optim_free (o);
}

static void
test_sgd_momentum (void)
{
  WeftOptimConfig c;
  weft_optim_config_defaults (WEFT_OPTIM_SGD, &c);
  c.learning_rate = 0.1f;
  c.momentum = 0.9f;
  check_two_steps (&c, ref_sgd);

  /* by hand, parameter 0: v1 = -0.02, p1 = 0.48; v2 = 0.9*-0.02 + 0.01 = -0.008, p2 = 0.472 */
  float params[NP], grads[NP];
  memcpy (params, p0, sizeof params);
  WeftOptim *o = weft_optim_new (&c, NP);
  g_assert_cmpuint (weft_optim_state_size (o), ==, NP);
  memcpy (grads, g1, sizeof grads);
  weft_optim_step (o, params, grads, two_slices, 2);
  memcpy (grads, g2, sizeof grads);
  weft_optim_step (o, params, grads, two_slices, 2);
  g_assert_cmpfloat_with_epsilon (params[0], 0.472, 1e-6);
  g_assert_cmpfloat_with_epsilon (weft_optim_state (o)[0], -0.008, 1e-7);
  weft_optim_free (o);
}

static void
test_sgd_nesterov (void)
{
  WeftOptimConfig c;
  weft_optim_config_defaults (WEFT_OPTIM_SGD, &c);
  c.learning_rate = 0.1f;
  c.momentum = 0.9f;
  c.nesterov = true;
  check_two_steps (&c, ref_sgd);

  /* by hand, parameter 0: v1 = -0.02, p1 = 0.5 + 0.9*-0.02 - 0.02 = 0.462;
   * v2 = -0.008, p2 = 0.462 + 0.9*-0.008 + 0.01 = 0.4648 */
  float params[NP], grads[NP];
  memcpy (params, p0, sizeof params);
  WeftOptim *o = weft_optim_new (&c, NP);
  memcpy (grads, g1, sizeof grads);
  weft_optim_step (o, params, grads, two_slices, 2);
  g_assert_cmpfloat_with_epsilon (params[0], 0.462, 1e-6);
  memcpy (grads, g2, sizeof grads);
  weft_optim_step (o, params, grads, two_slices, 2);
  g_assert_cmpfloat_with_epsilon (params[0], 0.4648, 1e-6);
  weft_optim_free (o);
}

static void
test_adam_bias_correction (void)
{
  WeftOptimConfig c;
  weft_optim_config_defaults (WEFT_OPTIM_ADAM, &c);
  c.learning_rate = 0.01f;
  check_two_steps (&c, ref_adam);

  /* Bias correction makes the first step lr * g / (|g| + eps'): about lr for every
   * parameter with a non-zero gradient, whatever the gradient's size. */
  float params[NP], grads[NP];
  memcpy (params, p0, sizeof params);
  memcpy (grads, g1, sizeof grads);
  WeftOptim *o = weft_optim_new (&c, NP);
  g_assert_cmpuint (weft_optim_state_size (o), ==, 2 * NP);
  weft_optim_step (o, params, grads, two_slices, 2);
  for (int i = 0; i < NP; i++)
    {
      double moved = (double) p0[i] - params[i];
      double expected = g1[i] == 0.0f ? 0.0 : (g1[i] > 0 ? 0.01 : -0.01);
      g_assert_cmpfloat_with_epsilon (moved, expected, 1e-5);
    }
  /* moments: m = (1 - b1) g, v = (1 - b2) g^2, with the betas as floats */
  g_assert_cmpfloat_with_epsilon (weft_optim_state (o)[4], (1.0 - (double) 0.9f) * -3.0, 1e-7);
  g_assert_cmpfloat_with_epsilon (weft_optim_state (o)[NP + 4], (1.0 - (double) 0.999f) * 9.0,
                                  1e-9);
  weft_optim_free (o);
}

static void
test_adamw_decay (void)
{
  WeftOptimConfig c;
  weft_optim_config_defaults (WEFT_OPTIM_ADAMW, &c);
  c.learning_rate = 0.01f;
  c.weight_decay = 0.5f;   /* large, so that the decay is visible */
  check_two_steps (&c, ref_adam);

  /* zero gradients: Adam does nothing, decay shrinks by (1 - lr*wd) per step, and only on
   * slices marked decay */
  const WeftParamSlice slices[] = { { 0, 5, true, true }, { 5, NP - 5, true, false } };
  float params[NP], grads[NP] = { 0 };
  memcpy (params, p0, sizeof params);
  WeftOptim *o = weft_optim_new (&c, NP);
  weft_optim_step (o, params, grads, slices, 2);
  weft_optim_step (o, params, grads, slices, 2);
  for (int i = 0; i < NP; i++)
    {
      double f = i < 5 ? (1.0 - 0.01 * 0.5) * (1.0 - 0.01 * 0.5) : 1.0;
      g_assert_cmpfloat_with_epsilon (params[i], p0[i] * f, 1e-6);
    }
  weft_optim_free (o);

  /* Adam (not W) with the same config never decays */
  c.kind = WEFT_OPTIM_ADAM;
  memcpy (params, p0, sizeof params);
  o = weft_optim_new (&c, NP);
  weft_optim_step (o, params, grads, slices, 2);
  for (int i = 0; i < NP; i++)
    g_assert_cmpfloat (params[i], ==, p0[i]);
  weft_optim_free (o);
}

static void
test_rmsprop (void)
{
  WeftOptimConfig c;
  weft_optim_config_defaults (WEFT_OPTIM_RMSPROP, &c);
  c.learning_rate = 0.01f;
  check_two_steps (&c, ref_rmsprop);

  /* by hand, parameter 0: v1 = 0.1 * 0.04 = 0.004, p1 = 0.5 - 0.01 * 0.2 / sqrt(0.004) */
  float params[NP], grads[NP];
  memcpy (params, p0, sizeof params);
  memcpy (grads, g1, sizeof grads);
  WeftOptim *o = weft_optim_new (&c, NP);
  g_assert_cmpuint (weft_optim_state_size (o), ==, NP);
  weft_optim_step (o, params, grads, two_slices, 2);
  g_assert_cmpfloat_with_epsilon (params[0], 0.5 - 0.002 / (sqrt (0.004) + 1e-7), 1e-6);
  weft_optim_free (o);
}

static void
test_rmsprop_momentum (void)
{
  WeftOptimConfig c;
  weft_optim_config_defaults (WEFT_OPTIM_RMSPROP, &c);
  c.learning_rate = 0.01f;
  c.momentum = 0.5f;
  check_two_steps (&c, ref_rmsprop);
  WeftOptim *o = weft_optim_new (&c, NP);
  g_assert_cmpuint (weft_optim_state_size (o), ==, 2 * NP);
  weft_optim_free (o);
}

static void
test_clipnorm_per_slice (void)
{
  WeftOptimConfig c;
  weft_optim_config_defaults (WEFT_OPTIM_SGD, &c);
  c.learning_rate = 1.0f;
  c.clipnorm = 1.0f;

  /* slice 0 has norm 5 and is clipped to (0.6, 0.8); slice 1 has norm 0.5 and is kept */
  const WeftParamSlice slices[] = { { 0, 2, true, true }, { 2, 2, true, true } };
  float params[4] = { 0 };
  float grads[4] = { 3.0f, 4.0f, 0.3f, -0.4f };
  WeftOptim *o = weft_optim_new (&c, 4);
  weft_optim_step (o, params, grads, slices, 2);
  g_assert_cmpfloat_with_epsilon (params[0], -0.6, 1e-6);
  g_assert_cmpfloat_with_epsilon (params[1], -0.8, 1e-6);
  g_assert_cmpfloat_with_epsilon (params[2], -0.3, 1e-6);
  g_assert_cmpfloat_with_epsilon (params[3], 0.4, 1e-6);
  weft_optim_free (o);

  /* a long slice (vector path) with norm sqrt(100 * 4) = 20 is clipped to norm 1 */
  enum { N = 100 };
  float pl[N] = { 0 }, gl[N];
  for (int i = 0; i < N; i++)
    gl[i] = i % 2 ? 2.0f : -2.0f;
  const WeftParamSlice one = { 0, N, true, true };
  o = weft_optim_new (&c, N);
  weft_optim_step (o, pl, gl, &one, 1);
  double norm = 0.0;
  for (int i = 0; i < N; i++)
    norm += (double) pl[i] * pl[i];
  g_assert_cmpfloat_with_epsilon (sqrt (norm), 1.0, 1e-6);
  weft_optim_free (o);
}

static void
test_global_clipnorm (void)
{
  WeftOptimConfig c;
  weft_optim_config_defaults (WEFT_OPTIM_SGD, &c);
  c.learning_rate = 1.0f;
  c.global_clipnorm = 1.0f;

  /* trainable slices with norms 3 and 4: global norm 5, everything scaled by 0.2. The
   * frozen slice's huge gradient neither counts nor moves anything. */
  const WeftParamSlice slices[] = { { 0, 1, true, true }, { 1, 1, true, true },
                                    { 2, 1, false, true } };
  float params[3] = { 1.0f, 1.0f, 1.0f };
  float grads[3] = { 3.0f, 4.0f, 1000.0f };
  WeftOptim *o = weft_optim_new (&c, 3);
  weft_optim_step (o, params, grads, slices, 3);
  g_assert_cmpfloat_with_epsilon (params[0], 1.0 - 0.6, 1e-6);
  g_assert_cmpfloat_with_epsilon (params[1], 1.0 - 0.8, 1e-6);
  g_assert_cmpfloat (params[2], ==, 1.0f);
  weft_optim_free (o);

  /* below the limit nothing changes */
  params[0] = params[1] = 0.0f;
  grads[0] = 0.3f;
  grads[1] = 0.4f;
  o = weft_optim_new (&c, 3);
  weft_optim_step (o, params, grads, slices, 3);
  g_assert_cmpfloat_with_epsilon (params[0], -0.3, 1e-7);
  g_assert_cmpfloat_with_epsilon (params[1], -0.4, 1e-7);
  weft_optim_free (o);
}

static void
test_clipping_with_every_optimizer (void)
{
  const WeftOptimKind kinds[] = { WEFT_OPTIM_SGD, WEFT_OPTIM_ADAM, WEFT_OPTIM_ADAMW,
                                  WEFT_OPTIM_RMSPROP };
  const RefStep refs[] = { ref_sgd, ref_adam, ref_adam, ref_rmsprop };
  /* gradient norms: g1 slices 5.02 and 1.25, g2 slices 3.52 and 0.91 */
  const float clip[][2] = { { 2.0f, 0.0f }, { 0.0f, 1.5f }, { 2.0f, 1.5f }, { 1.0f, 3.0f } };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    for (guint q = 0; q < G_N_ELEMENTS (clip); q++)
      for (int mom = 0; mom < 2; mom++)
        {
          WeftOptimConfig c;
          weft_optim_config_defaults (kinds[k], &c);
          c.learning_rate = 0.05f;
          c.momentum = mom ? 0.8f : 0.0f;
          c.nesterov = mom && q % 2;
          c.weight_decay = kinds[k] == WEFT_OPTIM_ADAMW ? 0.1f : 0.0f;
          c.clipnorm = clip[q][0];
          c.global_clipnorm = clip[q][1];
          check_two_steps (&c, refs[k]);
        }
}

static void
test_non_trainable_untouched (void)
{
  const WeftOptimKind kinds[] = { WEFT_OPTIM_SGD, WEFT_OPTIM_ADAM, WEFT_OPTIM_ADAMW,
                                  WEFT_OPTIM_RMSPROP };
  const WeftParamSlice slices[] = { { 0, 3, true, true }, { 3, 5, false, true },
                                    { 8, NP - 8, true, true } };
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      WeftOptimConfig c;
      weft_optim_config_defaults (kinds[k], &c);
      c.momentum = 0.9f;
      c.clipnorm = 0.5f;
      c.global_clipnorm = 0.7f;
      float params[NP], grads[NP];
      memcpy (params, p0, sizeof params);
      WeftOptim *o = weft_optim_new (&c, NP);
      for (int s = 0; s < 3; s++)
        {
          memcpy (grads, s % 2 ? g2 : g1, sizeof grads);
          weft_optim_step (o, params, grads, slices, 3);
        }
      for (int i = 3; i < 8; i++)
        {
          g_assert_cmpfloat (params[i], ==, p0[i]);
          g_assert_cmpfloat (grads[i], ==, g1[i]);   /* not even clipped */
        }
      g_assert_cmpfloat (params[0], !=, p0[0]);
      g_assert_cmpfloat (params[NP - 1], !=, p0[NP - 1]);
      /* the frozen slice's moments stay zero */
      float *state = weft_optim_state (o);
      for (size_t j = 0; j < weft_optim_state_size (o); j++)
        if (j % NP >= 3 && j % NP < 8)
          g_assert_cmpfloat (state[j], ==, 0.0f);
      weft_optim_free (o);
    }
}

static void
test_state_round_trip (void)
{
  /* copying the state and the iteration count into a new optimizer continues exactly */
  WeftOptimConfig c;
  weft_optim_config_defaults (WEFT_OPTIM_ADAM, &c);
  float pa[NP], pb[NP], grads[NP];
  memcpy (pa, p0, sizeof pa);
  WeftOptim *a = weft_optim_new (&c, NP);
  for (int s = 0; s < 3; s++)
    {
      memcpy (grads, s % 2 ? g2 : g1, sizeof grads);
      weft_optim_step (a, pa, grads, two_slices, 2);
    }
  WeftOptim *b = weft_optim_new (&c, NP);
  g_assert_cmpuint (weft_optim_state_size (b), ==, weft_optim_state_size (a));
  memcpy (weft_optim_state (b), weft_optim_state (a),
          weft_optim_state_size (a) * sizeof (float));
  weft_optim_set_iterations (b, weft_optim_iterations (a));
  memcpy (pb, pa, sizeof pb);

  memcpy (grads, g2, sizeof grads);
  weft_optim_step (a, pa, grads, two_slices, 2);
  memcpy (grads, g2, sizeof grads);
  weft_optim_step (b, pb, grads, two_slices, 2);
  g_assert_cmpmem (pa, sizeof pa, pb, sizeof pb);
  g_assert_cmpint (weft_optim_iterations (b), ==, 4);
  weft_optim_free (a);
  weft_optim_free (b);

  /* the learning rate can be changed between steps */
  weft_optim_config_defaults (WEFT_OPTIM_SGD, &c);
  a = weft_optim_new (&c, 1);
  float p[1] = { 1.0f }, g[1] = { 1.0f };
  const WeftParamSlice one = { 0, 1, true, true };
  weft_optim_set_learning_rate (a, 0.5f);
  weft_optim_step (a, p, g, &one, 1);
  g_assert_cmpfloat (p[0], ==, 0.5f);
  weft_optim_free (a);
}

/* Two steps from p0 with g1, g2, as computed by TensorFlow.js 4.22 (tf.train.*), whose
 * formulas are Keras' up to where epsilon goes: tfjs divides by sqrt(v_hat) + eps (Adam) and
 * sqrt(v + eps) (RMSprop), hence TFJS_OPTIM_TOL. */
#define TFJS_OPTIM_TOL 2e-5

static const struct
{
  WeftOptimKind kind;
  float         lr, momentum;
  bool          nesterov;
  float         p2[NP];
} tfjs_steps[] = {
  { WEFT_OPTIM_SGD, 0.1f, 0.0f, false, {
    0.489999980, -0.980000019, 1.81999993, 0.0449999981, 0.100000001, 1.48000002, -2.55999994,
    0.620000005, 0.00000000, 2.97000003, -0.720000029, 1.10000002, -0.615000010, 0.250000000,
    0.944999933, -1.85500002, 0.300000012, 2.11999989, -0.455000013, 0.650000036, -1.31999993 } },
  { WEFT_OPTIM_SGD, 0.1f, 0.9f, false, {
    0.472000003, -0.935000002, 1.73000002, 0.0404999964, 0.369999975, 1.44400001, -2.55999994,
    0.628999949, -0.179999992, 2.94300008, -0.611999989, 1.03699994, -0.610500038, 0.115000002,
    1.02599990, -1.88650000, 0.498000026, 2.10649991, -0.527000010, 0.704000056, -1.41899991 } },
  { WEFT_OPTIM_SGD, 0.1f, 0.9f, true, {
    0.464800000, -0.921499968, 1.57699990, -0.00854999572, 0.702999949, 1.42960000,
    -2.61400008, 0.556100011, -0.161999986, 2.91869998, -0.550799966, 1.04330003, -0.624449968,
    0.128500015, 1.05839992, -2.02285004, 0.703200042, 2.03585005, -0.569299996, 0.743600070,
    -1.42709994 } },
  { WEFT_OPTIM_ADAM, 0.01f, 0.0f, false, {
    0.487336725, -0.988085091, 1.98011887, 0.0819292888, -0.281289518, 1.48733664, -2.50744128,
    0.703343689, -0.00947362185, 2.98329949, -0.785997927, 1.09052646, -0.595595062,
    0.240526378, 0.912663221, -1.71901917, 0.0676448569, 2.18124318, -0.414174587, 0.615385294,
    -1.31047130 } },
  { WEFT_OPTIM_RMSPROP, 0.01f, 0.0f, false, {
    0.483121663, -0.985280335, 1.94799137, 0.0369021818, -0.257894397, 1.48312151, -2.53162265,
    0.700172663, -0.00868120417, 2.96837735, -0.778860092, 1.09131885, -0.599152446,
    0.241318807, 0.916878581, -1.76210022, 0.0861219838, 2.13748670, -0.421729028, 0.626150966,
    -1.31096983 } },
  { WEFT_OPTIM_RMSPROP, 0.01f, 0.5f, false, {
    0.467310458, -0.969469011, 1.93217993, 0.0210939534, -0.242083013, 1.46731019, -2.53162265,
    0.715983272, -0.0244925916, 2.95256615, -0.763048708, 1.07550740, -0.583344221,
    0.225507423, 0.932689905, -1.77791154, 0.101933368, 2.12167573, -0.437540412, 0.641962349,
    -1.32678127 } },
};

static void
test_matches_tfjs (void)
{
  for (guint k = 0; k < G_N_ELEMENTS (tfjs_steps); k++)
    {
      WeftOptimConfig c;
      weft_optim_config_defaults (tfjs_steps[k].kind, &c);
      c.learning_rate = tfjs_steps[k].lr;
      c.momentum = tfjs_steps[k].momentum;
      c.nesterov = tfjs_steps[k].nesterov;
      float params[NP], grads[NP];
      memcpy (params, p0, sizeof params);
      WeftOptim *o = weft_optim_new (&c, NP);
      memcpy (grads, g1, sizeof grads);
      weft_optim_step (o, params, grads, two_slices, 2);
      memcpy (grads, g2, sizeof grads);
      weft_optim_step (o, params, grads, two_slices, 2);
      for (int i = 0; i < NP; i++)
        if (fabs (params[i] - tfjs_steps[k].p2[i]) > TFJS_OPTIM_TOL * (1.0 + fabs (params[i])))
          g_error ("case %u, parameter %d: %.9g, tfjs %.9g", k, i, params[i],
                   tfjs_steps[k].p2[i]);
      weft_optim_free (o);
    }
}

/* f(p) = 0.5 * sum a_i (p_i - c_i)^2: every optimizer must find c. */
static void
test_converges_on_quadratic (gconstpointer data)
{
  WeftOptimKind kind = GPOINTER_TO_INT (data);
  enum { N = 37 };
  float a[N], center[N], params[N], grads[N];
  WeftRng rng;
  weft_rng_seed (&rng, SEED + 3);
  fill_uniform (&rng, a, N, 0.5f, 2.0f);
  fill_uniform (&rng, center, N, -2.0f, 2.0f);
  fill_uniform (&rng, params, N, -2.0f, 2.0f);

  const WeftParamSlice slices[] = { { 0, 20, true, true }, { 20, N - 20, true, true } };
  WeftOptimConfig c;
  weft_optim_config_defaults (kind, &c);
  if (kind == WEFT_OPTIM_SGD)
    {
      c.learning_rate = 0.1f;
      c.momentum = 0.9f;
      c.nesterov = true;
    }
  else
    c.learning_rate = 0.02f;
  if (kind == WEFT_OPTIM_ADAMW)
    c.weight_decay = 0.0f;   /* decay moves the minimum; checked separately above */
  WeftOptim *o = weft_optim_new (&c, N);

  const int steps = 3000;
  for (int s = 0; s < steps; s++)
    {
      /* step-wise decay so that the sign-like optimizers settle */
      if (s == steps / 2 || s == steps * 3 / 4)
        {
          c.learning_rate *= 0.1f;
          weft_optim_set_learning_rate (o, c.learning_rate);
        }
      for (int i = 0; i < N; i++)
        grads[i] = a[i] * (params[i] - center[i]);
      weft_optim_step (o, params, grads, slices, 2);
    }
  double worst = 0.0;
  for (int i = 0; i < N; i++)
    worst = fmax (worst, fabs ((double) params[i] - center[i]));
  if (worst > CONVERGE_TOL)
    g_error ("optimizer %d ended %.3g away from the minimum", kind, worst);
  weft_optim_free (o);
}

static void
test_defaults (void)
{
  WeftOptimConfig c;
  weft_optim_config_defaults (WEFT_OPTIM_SGD, &c);
  g_assert_cmpfloat (c.learning_rate, ==, 0.01f);
  g_assert_cmpfloat (c.momentum, ==, 0.0f);
  g_assert_false (c.nesterov);
  g_assert_cmpfloat (c.clipnorm, ==, 0.0f);
  g_assert_cmpfloat (c.global_clipnorm, ==, 0.0f);

  const WeftOptimKind others[] = { WEFT_OPTIM_ADAM, WEFT_OPTIM_ADAMW, WEFT_OPTIM_RMSPROP };
  for (guint k = 0; k < G_N_ELEMENTS (others); k++)
    {
      weft_optim_config_defaults (others[k], &c);
      g_assert_cmpint (c.kind, ==, others[k]);
      g_assert_cmpfloat (c.learning_rate, ==, 0.001f);
      g_assert_cmpfloat (c.beta_1, ==, 0.9f);
      g_assert_cmpfloat (c.beta_2, ==, 0.999f);
      g_assert_cmpfloat (c.epsilon, ==, 1e-7f);
      g_assert_cmpfloat (c.rho, ==, 0.9f);
      g_assert_cmpfloat (c.weight_decay, ==, others[k] == WEFT_OPTIM_ADAMW ? 0.004f : 0.0f);
    }

  WeftTrainConfig t;
  memset (&t, 0xab, sizeof t);
  weft_train_config_defaults (&t);
  g_assert_cmpint (t.epochs, ==, 10);
  g_assert_cmpint (t.batch_size, ==, 32);
  g_assert_cmpfloat (t.validation_split, ==, 0.0f);
  g_assert_true (t.shuffle);
  g_assert_cmpuint (t.seed, ==, 0);
  g_assert_cmpint (t.threads, ==, 0);
  g_assert_cmpstr (t.data, ==, "");
  g_assert_cmpint (t.optimizer.kind, ==, WEFT_OPTIM_ADAM);
  g_assert_cmpfloat (t.optimizer.learning_rate, ==, 0.001f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/loss/mse/value", test_mse_value);
  g_test_add_func ("/engine/loss/mae/value", test_mae_value);
  g_test_add_func ("/engine/loss/huber/value-on-both-sides-of-delta", test_huber_value);
  g_test_add_func ("/engine/loss/bce/value", test_bce_value);
  g_test_add_func ("/engine/loss/bce/from-logits-matches-probabilities",
                   test_bce_from_logits_matches_probabilities);
  g_test_add_func ("/engine/loss/bce/clips-probabilities", test_bce_clips_probabilities);
  g_test_add_func ("/engine/loss/cce/value", test_cce_value);
  g_test_add_func ("/engine/loss/cce/from-logits-matches-probabilities",
                   test_cce_from_logits_matches_probabilities);
  g_test_add_func ("/engine/loss/cce/clips-probabilities", test_cce_clips_probabilities);
  g_test_add_func ("/engine/loss/sparse/matches-one-hot", test_sparse_value);
  g_test_add_func ("/engine/loss/softmax-cce/gradient-of-pre-activation",
                   test_softmax_cce_gradient);
  g_test_add_func ("/engine/loss/softmax-cce/confident-mistake-still-learns",
                   test_softmax_cce_confident_mistake_still_learns);
  g_test_add_func ("/engine/loss/sigmoid-bce/gradient-of-pre-activation",
                   test_sigmoid_bce_preact);
  g_test_add_func ("/engine/loss/softmax-cce/log-matches-double",
                   test_softmax_cce_log_matches_double);
  g_test_add_func ("/engine/loss/softmax-cce/blocks-of-sixteen-positions",
                   test_softmax_cce_blocks);
  g_test_add_func ("/engine/loss/sparse/bad-index-gives-nan", test_sparse_bad_index_is_nan);
  g_test_add_func ("/engine/loss/logits/extreme-values-stay-finite", test_logits_are_stable);
  g_test_add_func ("/engine/loss/tfjs-reference/values", test_losses_match_tfjs);

  const struct { const char *path; WeftLoss loss; } grads[] = {
    { "/engine/loss/mse/gradient-matches-finite-difference", WEFT_LOSS_MSE },
    { "/engine/loss/mae/gradient-matches-finite-difference", WEFT_LOSS_MAE },
    { "/engine/loss/huber/gradient-matches-finite-difference", WEFT_LOSS_HUBER },
    { "/engine/loss/bce/gradient-matches-finite-difference", WEFT_LOSS_BINARY_CROSSENTROPY },
    { "/engine/loss/cce/gradient-matches-finite-difference",
      WEFT_LOSS_CATEGORICAL_CROSSENTROPY },
    { "/engine/loss/sparse/gradient-matches-finite-difference",
      WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY },
  };
  for (guint i = 0; i < G_N_ELEMENTS (grads); i++)
    g_test_add_data_func (grads[i].path, GINT_TO_POINTER (grads[i].loss),
                          test_gradients_match_finite_differences);

  g_test_add_func ("/engine/loss/reduction/batch-time-classes",
                   test_reductions_over_batch_time_classes);
  g_test_add_func ("/engine/loss/reduction/weight-scales-gradient-not-loss",
                   test_loss_weight_scales_gradient);
  g_test_add_func ("/engine/loss/names/keras-aliases", test_names);
  g_test_add_func ("/engine/metric/names/accuracy-resolves-by-loss", test_metric_names);
  g_test_add_func ("/engine/metric/values/hand-cases", test_metrics);

  g_test_add_func ("/engine/optim/defaults/keras", test_defaults);
  g_test_add_func ("/engine/optim/sgd/two-steps-match-formula", test_sgd_plain);
  g_test_add_func ("/engine/optim/sgd/momentum", test_sgd_momentum);
  g_test_add_func ("/engine/optim/sgd/nesterov", test_sgd_nesterov);
  g_test_add_func ("/engine/optim/adam/bias-correction", test_adam_bias_correction);
  g_test_add_func ("/engine/optim/adamw/decoupled-decay", test_adamw_decay);
  g_test_add_func ("/engine/optim/rmsprop/two-steps-match-formula", test_rmsprop);
  g_test_add_func ("/engine/optim/rmsprop/momentum", test_rmsprop_momentum);
  g_test_add_func ("/engine/optim/clip/clipnorm-per-slice", test_clipnorm_per_slice);
  g_test_add_func ("/engine/optim/clip/global-clipnorm", test_global_clipnorm);
  g_test_add_func ("/engine/optim/clip/every-optimizer-matches-formula",
                   test_clipping_with_every_optimizer);
  g_test_add_func ("/engine/optim/slices/non-trainable-untouched",
                   test_non_trainable_untouched);
  g_test_add_func ("/engine/optim/state/round-trip-continues-exactly", test_state_round_trip);
  g_test_add_func ("/engine/optim/tfjs-reference/two-steps", test_matches_tfjs);

  const struct { const char *path; WeftOptimKind kind; } conv[] = {
    { "/engine/optim/sgd/converges-on-quadratic", WEFT_OPTIM_SGD },
    { "/engine/optim/adam/converges-on-quadratic", WEFT_OPTIM_ADAM },
    { "/engine/optim/adamw/converges-on-quadratic", WEFT_OPTIM_ADAMW },
    { "/engine/optim/rmsprop/converges-on-quadratic", WEFT_OPTIM_RMSPROP },
  };
  for (guint i = 0; i < G_N_ELEMENTS (conv); i++)
    g_test_add_data_func (conv[i].path, GINT_TO_POINTER (conv[i].kind),
                          test_converges_on_quadratic);

  return g_test_run ();
}
