/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-loss.h"
#include "weft-activation.h"
#include "weft-blas.h"
#include "weft-row16.h"

#include <math.h>
#include <string.h>

/* Keras' backend epsilon: probabilities are clipped to [EPS, 1 - EPS]. */
#define EPS 1e-7

const char *const weft_loss_names[] = {
  "none",
  "mse",
  "mae",
  "huber",
  "binary_crossentropy",
  "categorical_crossentropy",
  "sparse_categorical_crossentropy",
  NULL,
};

const char *const weft_metric_names[] = {
  "none",
  "binary_accuracy",
  "categorical_accuracy",
  "sparse_categorical_accuracy",
  "mae",
  NULL,
};

typedef struct
{
  const char *name;
  int         value;
} Alias;

static const Alias loss_aliases[] = {
  { "none", WEFT_LOSS_NONE },
  { "mse", WEFT_LOSS_MSE },
  { "mean_squared_error", WEFT_LOSS_MSE },
  { "MeanSquaredError", WEFT_LOSS_MSE },
  { "meanSquaredError", WEFT_LOSS_MSE },
  { "mae", WEFT_LOSS_MAE },
  { "mean_absolute_error", WEFT_LOSS_MAE },
  { "MeanAbsoluteError", WEFT_LOSS_MAE },
  { "meanAbsoluteError", WEFT_LOSS_MAE },
  { "huber", WEFT_LOSS_HUBER },
  { "huber_loss", WEFT_LOSS_HUBER },
  { "Huber", WEFT_LOSS_HUBER },
  { "huberLoss", WEFT_LOSS_HUBER },
  { "binary_crossentropy", WEFT_LOSS_BINARY_CROSSENTROPY },
  { "BinaryCrossentropy", WEFT_LOSS_BINARY_CROSSENTROPY },
  { "binaryCrossentropy", WEFT_LOSS_BINARY_CROSSENTROPY },
  { "categorical_crossentropy", WEFT_LOSS_CATEGORICAL_CROSSENTROPY },
  { "CategoricalCrossentropy", WEFT_LOSS_CATEGORICAL_CROSSENTROPY },
  { "categoricalCrossentropy", WEFT_LOSS_CATEGORICAL_CROSSENTROPY },
  { "sparse_categorical_crossentropy", WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY },
  { "SparseCategoricalCrossentropy", WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY },
  { "sparseCategoricalCrossentropy", WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY },
};

static const Alias metric_aliases[] = {
  { "none", WEFT_METRIC_NONE },
  { "binary_accuracy", WEFT_METRIC_BINARY_ACCURACY },
  { "BinaryAccuracy", WEFT_METRIC_BINARY_ACCURACY },
  { "binaryAccuracy", WEFT_METRIC_BINARY_ACCURACY },
  { "categorical_accuracy", WEFT_METRIC_CATEGORICAL_ACCURACY },
  { "CategoricalAccuracy", WEFT_METRIC_CATEGORICAL_ACCURACY },
  { "categoricalAccuracy", WEFT_METRIC_CATEGORICAL_ACCURACY },
  { "sparse_categorical_accuracy", WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY },
  { "SparseCategoricalAccuracy", WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY },
  { "sparseCategoricalAccuracy", WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY },
  { "mae", WEFT_METRIC_MAE },
  { "mean_absolute_error", WEFT_METRIC_MAE },
  { "MeanAbsoluteError", WEFT_METRIC_MAE },
  { "meanAbsoluteError", WEFT_METRIC_MAE },
};

static bool
is_accuracy_name (const char *name)
{
  return strcmp (name, "accuracy") == 0 || strcmp (name, "acc") == 0
         || strcmp (name, "Accuracy") == 0;
}

static int
lookup_alias (const Alias *aliases, size_t n, const char *name)
{
  if (name == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (strcmp (aliases[i].name, name) == 0)
      return aliases[i].value;
  return -1;
}

WeftLoss
weft_loss_from_name (const char *name)
{
  return (WeftLoss) lookup_alias (loss_aliases, sizeof loss_aliases / sizeof loss_aliases[0],
                                  name);
}

WeftMetric
weft_metric_from_name (const char *name)
{
  if (name == NULL)
    return (WeftMetric) -1;
  /* Without a loss or shapes, Keras falls back to categorical accuracy for "accuracy";
   * weft_metric_from_name_for_loss resolves it properly. */
  if (is_accuracy_name (name))
    return WEFT_METRIC_CATEGORICAL_ACCURACY;
  return (WeftMetric) lookup_alias (metric_aliases,
                                    sizeof metric_aliases / sizeof metric_aliases[0], name);
}

WeftMetric
weft_metric_for_loss (WeftLoss loss)
{
  switch (loss)
    {
    case WEFT_LOSS_CATEGORICAL_CROSSENTROPY:
      return WEFT_METRIC_CATEGORICAL_ACCURACY;
    case WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
      return WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY;
    case WEFT_LOSS_BINARY_CROSSENTROPY:
    case WEFT_LOSS_MSE:
    case WEFT_LOSS_MAE:
    case WEFT_LOSS_HUBER:
      /* Keras picks binary accuracy for one-unit outputs, the usual case of a regression
       * head someone asks "accuracy" of, and for every sigmoid/BCE head. */
      return WEFT_METRIC_BINARY_ACCURACY;
    case WEFT_LOSS_NONE:
    case WEFT_LOSS_COUNT:
    default:
      return WEFT_METRIC_NONE;
    }
}

WeftMetric
weft_metric_from_name_for_loss (const char *name, WeftLoss loss)
{
  if (name != NULL && is_accuracy_name (name))
    return weft_metric_for_loss (loss);
  return weft_metric_from_name (name);
}

int
weft_loss_target_width (WeftLoss loss, int width, int classes)
{
  if (loss == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY && classes > 0)
    return width / classes;
  return width;
}

int
weft_metric_target_width (WeftMetric metric, int width, int classes)
{
  if (metric == WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY && classes > 0)
    return width / classes;
  return width;
}

/* ---- regression losses: mean over every element ---- */

static double
loss_mse (const float *pred, const float *target, size_t n, float *grad, double gscale)
{
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      double d = (double) pred[i] - (double) target[i];
      sum += d * d;
      if (grad != NULL)
        grad[i] += (float) (2.0 * d * gscale);
    }
  return sum;
}

static double
loss_mae (const float *pred, const float *target, size_t n, float *grad, double gscale)
{
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      double d = (double) pred[i] - (double) target[i];
      sum += fabs (d);
      if (grad != NULL)
        grad[i] += (float) ((d > 0.0 ? 1.0 : d < 0.0 ? -1.0 : 0.0) * gscale);
    }
  return sum;
}

static double
loss_huber (const float *pred, const float *target, size_t n, double delta, float *grad,
            double gscale)
{
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      double d = (double) pred[i] - (double) target[i];
      double a = fabs (d);
      double g;
      if (a <= delta)
        {
          sum += 0.5 * d * d;
          g = d;
        }
      else
        {
          sum += delta * a - 0.5 * delta * delta;
          g = d > 0.0 ? delta : -delta;
        }
      if (grad != NULL)
        grad[i] += (float) (g * gscale);
    }
  return sum;
}

/* ---- binary cross-entropy: elementwise, mean over the last axis as Keras ---- */

static double
loss_bce (const float *pred, const float *target, size_t n, bool from_logits, float *grad,
          double gscale)
{
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      double z = target[i];
      if (from_logits)
        {
          double x = pred[i];
          sum += fmax (x, 0.0) - x * z + log1p (exp (-fabs (x)));
          if (grad != NULL)
            {
              /* sigmoid written so that exp never overflows */
              double e = exp (-fabs (x));
              double s = x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
              grad[i] += (float) ((s - z) * gscale);
            }
        }
      else
        {
          double p = pred[i];
          bool clipped = false;
          if (!(p >= EPS))
            {
              clipped = !isnan (p);
              p = isnan (p) ? p : EPS;
            }
          else if (p > 1.0 - EPS)
            {
              clipped = true;
              p = 1.0 - EPS;
            }
          sum += -(z * log (p) + (1.0 - z) * log (1.0 - p));
          if (grad != NULL && !clipped)
            grad[i] += (float) ((p - z) / (p * (1.0 - p)) * gscale);
        }
    }
  return sum;
}

/* ---- categorical cross-entropies: per position over `classes` entries ----
 * `label` >= 0 selects a one-hot target (sparse); otherwise `target` holds the distribution. */

static double
cce_position (const float *x, const float *target, int label, int classes, bool from_logits,
              float *grad, double gscale)
{
  if (from_logits)
    {
      double mx = x[0];
      for (int k = 1; k < classes; k++)
        mx = fmax (mx, (double) x[k]);
      double se = 0.0;
      for (int k = 0; k < classes; k++)
        se += exp ((double) x[k] - mx);
      double lse = mx + log (se);

      double loss;
      double tsum;
      if (label >= 0)
        {
          loss = lse - x[label];
          tsum = 1.0;
        }
      else
        {
          double tx = 0.0;
          tsum = 0.0;
          for (int k = 0; k < classes; k++)
            {
              tsum += target[k];
              tx += (double) target[k] * x[k];
            }
          loss = tsum * lse - tx;
        }
      if (grad != NULL)
        for (int k = 0; k < classes; k++)
          {
            double t = label >= 0 ? (k == label ? 1.0 : 0.0) : target[k];
            grad[k] += (float) ((tsum * exp ((double) x[k] - lse) - t) * gscale);
          }
      return loss;
    }

  /* Keras rescales the probabilities to sum to one, then clips each to [EPS, 1 - EPS].
   * Float arithmetic as Keras' own float32 graph: this runs for every sample of every step,
   * and the double version cost as much as a small model's products. */
  float s = 0.0f;
  for (int k = 0; k < classes; k++)
    s += x[k];
  const float inv_s = 1.0f / s;
  const float lo = (float) EPS, hi = (float) (1.0 - EPS);

  double loss = 0.0;
  float t_unclipped = 0.0f;
  if (label >= 0)
    {
      float q = x[label] * inv_s;
      if (q >= lo && q <= hi)
        {
          loss = -logf (q);
          t_unclipped = 1.0f;
        }
      else
        loss = -logf (q > hi ? hi : isnan (q) ? q : lo);
    }
  else
    for (int k = 0; k < classes; k++)
      {
        float t = target[k];
        if (t == 0.0f)
          continue;
        float q = x[k] * inv_s;
        if (q >= lo && q <= hi)
          {
            loss -= (double) t * logf (q);
            t_unclipped += t;
          }
        else
          loss -= (double) t * logf (q > hi ? hi : isnan (q) ? q : lo);
      }
  if (grad != NULL)
    {
      /* d/dp_k of -sum_i t_i log(p_i / s) where unclipped: (g_k + T_unclipped) / s with
       * g_k = -t_k / q_k (0 where clipped). */
      const float base = (float) (t_unclipped * inv_s * gscale);
      const float scale = (float) (inv_s * gscale);
      for (int k = 0; k < classes; k++)
        grad[k] += base;
      for (int k = 0; k < classes; k++)
        {
          float t = label >= 0 ? (k == label ? 1.0f : 0.0f) : target[k];
          if (t == 0.0f)
            continue;
          float q = x[k] * inv_s;
          if (q >= lo && q <= hi)
            grad[k] -= t / q * scale;
        }
    }
  return loss;
}

/* The class index of a sparse target, or -1 when it is not an integer in [0, classes). */
static int
sparse_label (float t, int classes)
{
  if (!(t >= 0.0f) || !(t < (float) classes) || t != floorf (t))
    return -1;
  return (int) t;
}

double
weft_loss_compute (const WeftLossSpec *spec, const float *pred, const float *target,
                   int batch, int width, int classes, float *grad, float scale)
{
  WEFT_CHECK (spec != NULL);
  WEFT_CHECK (batch >= 0 && width > 0 && classes > 0 && width % classes == 0);
  WEFT_CHECK (batch == 0 || (pred != NULL && target != NULL));

  if (batch == 0 || spec->loss == WEFT_LOSS_NONE)
    return 0.0;

  size_t n = (size_t) batch * (size_t) width;
  size_t positions = n / (size_t) classes;
  double elems_scale = (double) scale / (double) n;
  double pos_scale = (double) scale / (double) positions;
  double sum = 0.0;

  switch (spec->loss)
    {
    case WEFT_LOSS_MSE:
      sum = loss_mse (pred, target, n, grad, elems_scale);
      return sum / (double) n;

    case WEFT_LOSS_MAE:
      sum = loss_mae (pred, target, n, grad, elems_scale);
      return sum / (double) n;

    case WEFT_LOSS_HUBER:
      {
        /* A zero-initialised spec means the Keras default delta of 1. */
        double delta = spec->huber_delta > 0.0f && isfinite (spec->huber_delta)
                         ? spec->huber_delta : 1.0;
        sum = loss_huber (pred, target, n, delta, grad, elems_scale);
        return sum / (double) n;
      }

    case WEFT_LOSS_BINARY_CROSSENTROPY:
      sum = loss_bce (pred, target, n, spec->from_logits, grad, elems_scale);
      return sum / (double) n;

    case WEFT_LOSS_CATEGORICAL_CROSSENTROPY:
      for (size_t p = 0; p < positions; p++)
        sum += cce_position (pred + p * classes, target + p * classes, -1, classes,
                             spec->from_logits, grad != NULL ? grad + p * classes : NULL,
                             pos_scale);
      return sum / (double) positions;

    case WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
      /* Check every label before touching grad: bad data must not half-update it. */
      for (size_t p = 0; p < positions; p++)
        if (sparse_label (target[p], classes) < 0)
          return NAN;
      for (size_t p = 0; p < positions; p++)
        sum += cce_position (pred + p * classes, NULL, sparse_label (target[p], classes),
                             classes, spec->from_logits,
                             grad != NULL ? grad + p * classes : NULL, pos_scale);
      return sum / (double) positions;

    case WEFT_LOSS_NONE:
    case WEFT_LOSS_COUNT:
    default:
      WEFT_CHECK (!"unknown loss");
      return NAN;
    }
}

bool
weft_loss_fuses_activation (const WeftLossSpec *spec, int act)
{
  if (spec->from_logits)
    return false;
  if (act == WEFT_ACT_SOFTMAX)
    return spec->loss == WEFT_LOSS_CATEGORICAL_CROSSENTROPY
           || spec->loss == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  return act == WEFT_ACT_SIGMOID && spec->loss == WEFT_LOSS_BINARY_CROSSENTROPY;
}

/* log(x) for positive normal floats on vectors of 16 (NaN passes through): Cephes' logf
 * (frexp, one step into [sqrt(1/2), sqrt(2)), degree-8 polynomial), within 1 ulp of logf.
 * The sparse cross-entropy takes one log per sample; libm's is a call each. */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float   LogVecF __attribute__ ((vector_size (64)));
typedef int32_t LogVecI __attribute__ ((vector_size (64)));

static inline __attribute__ ((always_inline)) LogVecF
vec_log_positive (LogVecF x)
{
  LogVecI bits = (LogVecI) x;
  LogVecI e = ((bits >> 23) & 0xff) - 126;
  LogVecF m = (LogVecF) ((bits & 0x007fffff) | 0x3f000000);   /* [0.5, 1) */
  LogVecI small = m < 0.707106781186547524f;                   /* -1 where true */
  e += small;
  m = m + (LogVecF) (small & (LogVecI) m) - 1.0f;              /* 2m - 1 or m - 1 */
  LogVecF ef = __builtin_convertvector (e, LogVecF);
  LogVecF z = m * m;
  LogVecF y = 7.0376836292E-2f * m - 1.1514610310E-1f;
  y = y * m + 1.1676998740E-1f;
  y = y * m - 1.2420140846E-1f;
  y = y * m + 1.4249322787E-1f;
  y = y * m - 1.6668057665E-1f;
  y = y * m + 2.0000714765E-1f;
  y = y * m - 2.4999993993E-1f;
  y = y * m + 3.3333331174E-1f;
  y = y * m * z;
  y += -2.12194440e-4f * ef;
  y += -0.5f * z;
  LogVecF r = m + y + 0.693359375f * ef;
  LogVecI nan = x != x;
  return (LogVecF) (((LogVecI) r & ~nan) | ((LogVecI) x & nan));
}

/* sum over positions of -log(clip(p[label] / sum(p))), labels already checked: the value
 * cce_position gives, 16 logs at a time. */
WEFT_VECTOR_CLONES static double
sparse_cce_sum (const float *probs, const float *target, size_t positions, int classes)
{
  const float lo = (float) EPS, hi = (float) (1.0 - EPS);
  double sum = 0.0;
  for (size_t p0 = 0; p0 < positions; p0 += 16)
    {
      size_t count = positions - p0 < 16 ? positions - p0 : 16;
      float q[16];
      for (size_t i = 0; i < 16; i++)
        {
          if (i >= count)
            {
              q[i] = 1.0f;
              continue;
            }
          const float *row = probs + (p0 + i) * (size_t) classes;
          float s = 0.0f;
          for (int k = 0; k < classes; k++)
            s += row[k];
          float v = row[(int) target[p0 + i]] * (1.0f / s);
          q[i] = v > hi ? hi : v < lo ? lo : v;   /* NaN stays NaN */
        }
      LogVecF v;
      memcpy (&v, q, sizeof v);
      v = vec_log_positive (v);
      memcpy (q, &v, sizeof v);
      for (size_t i = 0; i < count; i++)
        sum -= (double) q[i];
    }
  return sum;
}

/* grad = c * probs */
WEFT_VECTOR_CLONES static void
scaled_copy (const float *probs, float c, float *grad, size_t n)
{
  for (size_t i = 0; i < n; i++)
    grad[i] = probs[i] * c;
}

WEFT_VECTOR_CLONES bool
weft_loss_labels_valid (const float *target, size_t positions, int classes)
{
  const float top = (float) classes;
  int bad = 0;
  for (size_t p = 0; p < positions; p++)
    {
      /* clamped into [0, classes] (NaN to 0) before the integer conversion, then compared:
       * branch-free, so it runs 16 labels per instruction */
      float t = target[p];
      float in = t > 0.0f ? t : 0.0f;
      in = in < top ? in : top;
      bad |= !(t < top) | ((float) (int) in != t);
    }
  return bad == 0;
}

#ifdef WEFT_HAVE_ROW16
/* acc + the 16 floats of v, in two registers of 8 doubles */
__attribute__ ((target ("avx512f"), always_inline)) static inline __m512d
add_as_doubles (__m512d acc, __m512 v)
{
  acc = _mm512_add_pd (acc, _mm512_cvtps_pd (_mm512_castps512_ps256 (v)));
  return _mm512_add_pd (acc, _mm512_cvtps_pd (_mm256_castpd_ps (
                               _mm512_extractf64x4_pd (_mm512_castps_pd (v), 1))));
}

/* The cross-entropy of a softmax head over whole blocks of 16 positions of w <= 16 classes
 * (weft-row16.h): the sum over them of -sum_k t_k log(clip(p_k / sum p)) (sparse: t is one
 * label per position, already checked) and, with grad, grad = c (p sum t - t) (c (p - t)
 * for labels). The values cce_position and sparse_cce_sum give, a block at a time: row sums
 * by WEFT_REDUCE16, 16 logs per register. *done gets the positions covered. */
__attribute__ ((target ("avx512f"))) static double
cce_rows16 (const float *probs, const float *target, bool sparse, size_t positions, int w,
            float *grad, float c, size_t *done)
{
  const __mmask16 mask = (__mmask16) ((1u << w) - 1);
  const __m512 lo = _mm512_set1_ps ((float) EPS), hi = _mm512_set1_ps ((float) (1.0 - EPS));
  const __m512 cv = _mm512_set1_ps (c);
  const __m512i iota = _mm512_set_epi32 (15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  /* the reduction lane of each lane's row: in register k of a block, and for row i in lane i */
  __m512i lane_of[16];
  weft_row16_layout (w, lane_of, NULL);
  for (int k = 0; k < w; k++)
    lane_of[k] = weft_row16_lane (lane_of[k]);
  const __m512i row_lane = weft_row16_lane (iota);
  const __m512i row_start = _mm512_mullo_epi32 (iota, _mm512_set1_epi32 (w));
  __m512d acc = _mm512_setzero_pd ();
  size_t end = positions - positions % 16;
  for (size_t b = 0; b < end; b += 16)
    {
      const float *pb = probs + b * w;
      float *gb = grad != NULL ? grad + b * w : NULL;
      __m512 r[16];
      for (int i = 0; i < 16; i++)
        r[i] = _mm512_maskz_loadu_ps (mask, pb + i * w);
      WEFT_REDUCE16 (r, _mm512_add_ps);
      const __m512 inv = _mm512_div_ps (_mm512_set1_ps (1.0f), r[0]);
      __m512 terms;   /* t log(clip(q)), 16 of the block's */
      if (sparse)
        {
          __m512i label = _mm512_cvttps_epi32 (_mm512_loadu_ps (target + b));
          __m512 q = _mm512_i32gather_ps (_mm512_add_epi32 (row_start, label), pb, 4);
          q = _mm512_mul_ps (q, _mm512_permutexvar_ps (row_lane, inv));
          /* max and min return their second operand for NaN: NaN stays NaN */
          q = _mm512_min_ps (hi, _mm512_max_ps (lo, q));
          terms = (__m512) vec_log_positive ((LogVecF) q);
          if (gb != NULL)
            {
              for (int k = 0; k < w; k++)
                _mm512_storeu_ps (gb + 16 * k, _mm512_mul_ps (_mm512_loadu_ps (pb + 16 * k), cv));
              int lab[16];
              _mm512_storeu_si512 (lab, label);
              for (int i = 0; i < 16; i++)
                gb[i * w + lab[i]] -= c;
            }
          acc = add_as_doubles (acc, terms);
          continue;
        }
      const float *tb = target + b * w;
      __m512 ctsum = cv;
      if (gb != NULL)
        {
          for (int i = 0; i < 16; i++)
            r[i] = _mm512_maskz_loadu_ps (mask, tb + i * w);
          WEFT_REDUCE16 (r, _mm512_add_ps);
          ctsum = _mm512_mul_ps (r[0], cv);
        }
      for (int k = 0; k < w; k++)
        {
          __m512 p = _mm512_loadu_ps (pb + 16 * k), t = _mm512_loadu_ps (tb + 16 * k);
          __m512 q = _mm512_mul_ps (p, _mm512_permutexvar_ps (lane_of[k], inv));
          q = _mm512_min_ps (hi, _mm512_max_ps (lo, q));
          /* only where t != 0 (NaN included), as cce_position skips the others */
          __mmask16 nz = _mm512_cmp_ps_mask (t, _mm512_setzero_ps (), _CMP_NEQ_UQ);
          terms = _mm512_maskz_mul_ps (nz, t, (__m512) vec_log_positive ((LogVecF) q));
          acc = add_as_doubles (acc, terms);
          if (gb != NULL)
            _mm512_storeu_ps (gb + 16 * k,
                              _mm512_fmsub_ps (p, _mm512_permutexvar_ps (lane_of[k], ctsum),
                                               _mm512_mul_ps (t, cv)));
        }
    }
  *done = end;
  return -_mm512_reduce_add_pd (acc);
}
#endif

double
weft_loss_preact (const WeftLossSpec *spec, const float *probs, const float *target,
                  int batch, int width, int classes, float *grad, float scale)
{
  WEFT_CHECK (!spec->from_logits);
  WEFT_CHECK (classes >= 1 && width % classes == 0);
  if (batch == 0)
    return 0.0;
  if (spec->loss == WEFT_LOSS_BINARY_CROSSENTROPY)
    {
      size_t n = (size_t) batch * (size_t) width;
      double sum = loss_bce (probs, target, n, false, NULL, 0.0);
      if (grad != NULL)
        {
          const float c = (float) ((double) scale / (double) n);
          for (size_t i = 0; i < n; i++)
            grad[i] = (probs[i] - target[i]) * c;
        }
      return sum / (double) n;
    }
  WEFT_CHECK (weft_loss_fuses_activation (spec, WEFT_ACT_SOFTMAX));
  bool sparse = spec->loss == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  size_t n = (size_t) batch * (size_t) width;
  size_t positions = n / (size_t) classes;
  const float c = (float) ((double) scale / (double) positions);
  /* bad data must not half-update grad */
  if (sparse && !weft_loss_labels_valid (target, positions, classes))
    return NAN;
  double sum = 0.0;
  size_t p0 = 0;   /* positions done by the block version */
#ifdef WEFT_HAVE_ROW16
  if (classes <= 16 && weft_cpu_has_avx512 ())
    sum = cce_rows16 (probs, target, sparse, positions, classes, grad, c, &p0);
#endif
  const float *pr = probs + p0 * classes;
  if (sparse)
    sum += sparse_cce_sum (pr, target + p0, positions - p0, classes);
  else
    for (size_t p = p0; p < positions; p++)
      sum += cce_position (probs + p * classes, target + p * classes, -1, classes, false, NULL,
                           0.0);
  if (grad != NULL && p0 < positions)
    {
      scaled_copy (pr, c, grad + p0 * classes, (positions - p0) * classes);
      if (sparse)
        for (size_t p = p0; p < positions; p++)
          grad[p * classes + (size_t) target[p]] -= c;
      else
        for (size_t p = p0; p < positions; p++)
          {
            const float *t = target + p * classes;
            float *g = grad + p * classes;
            float tsum = 0.0f;
            for (int k = 0; k < classes; k++)
              tsum += t[k];
            for (int k = 0; k < classes; k++)
              g[k] = g[k] * tsum - t[k] * c;
          }
    }
  return sum / (double) positions;
}

/* ---- metrics ---- */

static int
argmax (const float *x, int n)
{
  int best = 0;
  for (int k = 1; k < n; k++)
    if (x[k] > x[best])
      best = k;
  return best;
}

double
weft_metric_compute (WeftMetric metric, bool from_logits, const float *pred,
                     const float *target, int batch, int width, int classes)
{
  WEFT_CHECK (batch >= 0 && width > 0 && classes > 0 && width % classes == 0);
  WEFT_CHECK (batch == 0 || (pred != NULL && target != NULL));

  int per_sample = width / classes;
  double total = 0.0;

  for (int b = 0; b < batch; b++)
    {
      const float *p = pred + (size_t) b * width;
      double value = 0.0;

      switch (metric)
        {
        case WEFT_METRIC_BINARY_ACCURACY:
          {
            const float *t = target + (size_t) b * width;
            float threshold = from_logits ? 0.0f : 0.5f;
            int correct = 0;
            for (int i = 0; i < width; i++)
              correct += (p[i] > threshold ? 1.0f : 0.0f) == t[i];
            value = (double) correct / width;
            break;
          }
        case WEFT_METRIC_CATEGORICAL_ACCURACY:
          {
            const float *t = target + (size_t) b * width;
            int correct = 0;
            for (int j = 0; j < per_sample; j++)
              correct += argmax (p + j * classes, classes) == argmax (t + j * classes, classes);
            value = (double) correct / per_sample;
            break;
          }
        case WEFT_METRIC_SPARSE_CATEGORICAL_ACCURACY:
          {
            const float *t = target + (size_t) b * per_sample;
            int correct = 0;
            for (int j = 0; j < per_sample; j++)
              correct += (float) argmax (p + j * classes, classes) == t[j];
            value = (double) correct / per_sample;
            break;
          }
        case WEFT_METRIC_MAE:
          {
            const float *t = target + (size_t) b * width;
            double s = 0.0;
            for (int i = 0; i < width; i++)
              s += fabs ((double) p[i] - (double) t[i]);
            value = s / width;
            break;
          }
        case WEFT_METRIC_NONE:
        case WEFT_METRIC_COUNT:
        default:
          return NAN;
        }
      total += value;
    }
  return total;
}
