/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-bench-models.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VOCAB 10000

static const WeftBenchModelInfo models[] = {
  { "seq_mlp", NULL, "seq_mlp", { 32, 256 }, 3466 },
  { "wide_mlp", NULL, "wide_mlp", { 256, 0 }, 1863690 },
  { "qa_two_inputs", NULL, "qa_two_inputs", { 128, 0 }, 1000052 },
  { "social_three_heads", "valid", "social_three_heads", { 64, 0 }, 2544396 },
  { "social_three_heads", "same", "social_three_heads_same", { 64, 0 }, 2544396 },
  { "inception_same", NULL, "inception_same", { 32, 0 }, 546698 },
  { "residual_cnn", NULL, "residual_cnn", { 64, 0 }, 38218 },
  { "siamese_lstm", NULL, "siamese_lstm", { 128, 0 }, 20673 },
  { "dual_camera", NULL, "dual_camera", { 32, 0 }, 19521 },
};

#define N_MODELS ((int) (sizeof models / sizeof models[0]))

int
weft_bench_model_count (void)
{
  return N_MODELS;
}

const WeftBenchModelInfo *
weft_bench_model_info (int i)
{
  return i >= 0 && i < N_MODELS ? &models[i] : NULL;
}

const WeftBenchModelInfo *
weft_bench_model_lookup (const char *label)
{
  for (int i = 0; label != NULL && i < N_MODELS; i++)
    if (strcmp (models[i].label, label) == 0)
      return &models[i];
  return NULL;
}

/* A builder that remembers the first failure, so the model code reads as a listing. */
typedef struct
{
  WeftGraph *g;
  WeftError *error;
  bool       ok;
} B;

static bool
fail (B *b, const WeftError *e, const char *what)
{
  if (b->ok)
    weft_error_set (b->error, e->code != WEFT_OK ? e->code : WEFT_ERROR_INVALID, e->node, -1,
                    "%s: %s", what, e->message);
  b->ok = false;
  return false;
}

static void
set_value (B *b, WeftId layer, const char *param, const WeftValue *v)
{
  WeftError e = { 0 };
  if (b->ok && !weft_graph_layer_set_param (b->g, layer, param, v, &e))
    fail (b, &e, param);
}

static void
set_num (B *b, WeftId layer, const char *param, double num)
{
  WeftValue v = { .num = num };
  set_value (b, layer, param, &v);
}

static void
set_ints (B *b, WeftId layer, int n, const char *param, ...)
{
  WeftValue v = { .n = n };
  va_list ap;
  va_start (ap, param);
  for (int i = 0; i < n && i < WEFT_MAX_RANK; i++)
    v.ints[i] = va_arg (ap, int);
  va_end (ap);
  set_value (b, layer, param, &v);
}

static void
set_choice (B *b, WeftId layer, const char *param, const char *choice)
{
  if (!b->ok)
    return;
  const WeftOpDesc *op = weft_graph_layer_op (b->g, layer);
  int p = weft_op_param_index (op, param);
  if (p >= 0 && op->params[p].choices != NULL)
    for (int i = 0; op->params[p].choices[i] != NULL; i++)
      if (strcmp (op->params[p].choices[i], choice) == 0)
        {
          set_num (b, layer, param, i);
          return;
        }
  WeftError e = { .code = WEFT_ERROR_INVALID };
  snprintf (e.message, sizeof e.message, "%s has no %s '%s'", op->name, param, choice);
  fail (b, &e, param);
}

static WeftId
layer (B *b, const char *type, const char *name)
{
  WeftError e = { 0 };
  if (!b->ok)
    return WEFT_ID_NONE;
  WeftId l = weft_graph_add_layer (b->g, type, name, &e);
  if (l == WEFT_ID_NONE)
    fail (b, &e, type);
  return l;
}

/* A new node of callee (layer or model) inside model, wired to src[0..n) (port 0 each). */
static WeftId
call (B *b, WeftId model, WeftId callee, int n, const WeftId *src)
{
  WeftError e = { 0 };
  if (!b->ok)
    return WEFT_ID_NONE;
  WeftId node = weft_graph_add_node (b->g, model, callee, &e);
  if (node == WEFT_ID_NONE)
    {
      fail (b, &e, "node");
      return WEFT_ID_NONE;
    }
  for (int i = 0; i < n; i++)
    if (!weft_graph_connect (b->g, src[i], 0, node, i, &e))
      {
        fail (b, &e, "connect");
        return WEFT_ID_NONE;
      }
  return node;
}

static WeftId
call1 (B *b, WeftId model, WeftId callee, WeftId src)
{
  return call (b, model, callee, 1, &src);
}

/* An Input of shape dims[0..rank) (int32 token ids when ids) registered as model input. */
static WeftId
input (B *b, WeftId model, const char *name, bool ids, int rank, int d0, int d1, int d2)
{
  WeftId l = layer (b, "Input", name);
  set_ints (b, l, rank, "shape", d0, d1, d2);
  if (ids)
    set_choice (b, l, "dtype", "int32");
  WeftId node = call (b, model, l, 0, NULL);
  WeftError e = { 0 };
  if (b->ok && !weft_graph_model_add_input (b->g, model, node, &e))
    fail (b, &e, "input");
  return node;
}

static WeftId
dense (B *b, WeftId model, const char *name, int units, const char *act, WeftId src)
{
  WeftId l = layer (b, "Dense", name);
  set_num (b, l, "units", units);
  set_choice (b, l, "activation", act);
  return call1 (b, model, l, src);
}

/* Conv1D (kernel k) or Conv2D (kernel k x k, strides s x s). */
static WeftId
conv (B *b, WeftId model, int rank, const char *name, int filters, int k, int s,
      const char *padding, const char *act, WeftId src)
{
  WeftId l = layer (b, rank == 1 ? "Conv1D" : "Conv2D", name);
  set_num (b, l, "filters", filters);
  set_ints (b, l, rank, "kernel_size", k, k);
  set_ints (b, l, rank, "strides", s, s);
  set_choice (b, l, "padding", padding);
  set_choice (b, l, "activation", act);
  return call1 (b, model, l, src);
}

static WeftId
embedding (B *b, WeftId model, const char *name, int dim, WeftId src)
{
  WeftId l = layer (b, "Embedding", name);
  set_num (b, l, "input_dim", VOCAB);
  set_num (b, l, "output_dim", dim);
  return call1 (b, model, l, src);
}

static WeftId
lstm_layer (B *b, const char *name, int units)
{
  WeftId l = layer (b, "LSTM", name);
  set_num (b, l, "units", units);
  return l;
}

static WeftId
simple (B *b, WeftId model, const char *type, const char *name, int n, const WeftId *src)
{
  return call (b, model, layer (b, type, name), n, src);
}

static WeftId
pool (B *b, WeftId model, const char *type, const char *name, int rank, int size, int stride,
      const char *padding, WeftId src)
{
  WeftId l = layer (b, type, name);
  set_ints (b, l, rank, "pool_size", size, size);
  if (stride > 0)
    set_ints (b, l, rank, "strides", stride, stride);
  set_choice (b, l, "padding", padding);
  return call1 (b, model, l, src);
}

static void
head (B *b, WeftId model, WeftId node, WeftLoss loss, float weight)
{
  WeftHead h = { .node = node, .port = 0, .loss = loss, .weight = weight,
                 .metric = WEFT_METRIC_NONE, .huber_delta = 1.0f };
  WeftError e = { 0 };
  if (b->ok && !weft_graph_model_add_output (b->g, model, &h, &e))
    fail (b, &e, "output");
}

static WeftId
model (B *b, const char *name)
{
  WeftError e = { 0 };
  if (!b->ok)
    return WEFT_ID_NONE;
  WeftId m = weft_graph_add_model (b->g, name, &e);
  if (m == WEFT_ID_NONE)
    fail (b, &e, "model");
  return m;
}

#define SCCE WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY

static void
build_mlp (B *b, int in, int hidden)
{
  WeftId m = model (b, hidden > 32 ? "wide_mlp" : "seq_mlp");
  WeftId x = input (b, m, "features", false, 1, in, 0, 0);
  WeftId h = dense (b, m, "hidden_1", hidden, "relu", x);
  h = dense (b, m, "hidden_2", hidden, "relu", h);
  head (b, m, dense (b, m, "digit", 10, "softmax", h), SCCE, 1);
}

static void
build_qa (B *b)
{
  WeftId m = model (b, "qa_two_inputs");
  WeftId text = input (b, m, "text", true, 1, 100, 0, 0);
  WeftId question = input (b, m, "question", true, 1, 20, 0, 0);
  WeftId t = call1 (b, m, lstm_layer (b, "text_lstm", 32),
                    embedding (b, m, "text_embedding", 64, text));
  WeftId q = call1 (b, m, lstm_layer (b, "question_lstm", 16),
                    embedding (b, m, "question_embedding", 32, question));
  WeftId both[2] = { t, q };
  WeftId c = simple (b, m, "Concatenate", "concatenate", 2, both);
  head (b, m, dense (b, m, "answer", 500, "softmax", c), SCCE, 1);
}

static void
build_social (B *b, bool same)
{
  const char *pad = same ? "same" : "valid";
  WeftId m = model (b, "social_three_heads");
  WeftId posts = input (b, m, "posts", true, 1, same ? 200 : 269, 0, 0);
  WeftId x = embedding (b, m, "embedding", 128, posts);
  x = conv (b, m, 1, "conv1d_1", 128, 5, 1, pad, "relu", x);
  x = pool (b, m, "MaxPooling1D", "max_pooling1d_1", 1, 5, 0, "valid", x);
  x = conv (b, m, 1, "conv1d_2", 256, 5, 1, pad, "relu", x);
  x = conv (b, m, 1, "conv1d_3", 256, 5, 1, pad, "relu", x);
  x = pool (b, m, "MaxPooling1D", "max_pooling1d_2", 1, 5, 0, "valid", x);
  x = conv (b, m, 1, "conv1d_4", 256, 5, 1, pad, "relu", x);
  x = conv (b, m, 1, "conv1d_5", 256, 5, 1, pad, "relu", x);
  x = simple (b, m, "GlobalMaxPooling1D", "global_max_pooling1d", 1, &x);
  x = dense (b, m, "dense", 128, "relu", x);
  head (b, m, dense (b, m, "age", 1, "linear", x), WEFT_LOSS_MSE, 0.25f);
  head (b, m, dense (b, m, "income", 10, "softmax", x), SCCE, 1);
  head (b, m, dense (b, m, "gender", 1, "sigmoid", x), WEFT_LOSS_BINARY_CROSSENTROPY, 10);
}

static void
build_inception (B *b)
{
  WeftId m = model (b, "inception_same");
  WeftId x = input (b, m, "image", false, 3, 32, 32, 64);
  WeftId br[4];
  br[0] = conv (b, m, 2, "branch_a", 128, 1, 2, "same", "relu", x);
  br[1] = conv (b, m, 2, "branch_b_1", 128, 1, 1, "same", "relu", x);
  br[1] = conv (b, m, 2, "branch_b_2", 128, 3, 2, "same", "relu", br[1]);
  br[2] = pool (b, m, "AveragePooling2D", "branch_c_pool", 2, 3, 2, "same", x);
  br[2] = conv (b, m, 2, "branch_c", 128, 3, 1, "same", "relu", br[2]);
  br[3] = conv (b, m, 2, "branch_d_1", 128, 1, 1, "same", "relu", x);
  br[3] = conv (b, m, 2, "branch_d_2", 128, 3, 1, "same", "relu", br[3]);
  br[3] = conv (b, m, 2, "branch_d_3", 128, 3, 2, "same", "relu", br[3]);
  WeftId c = simple (b, m, "Concatenate", "concatenate", 4, br);
  c = simple (b, m, "GlobalAveragePooling2D", "global_average_pooling2d", 1, &c);
  head (b, m, dense (b, m, "predictions", 10, "softmax", c), SCCE, 1);
}

static void
build_residual (B *b)
{
  WeftId m = model (b, "residual_cnn");
  WeftId x = input (b, m, "image", false, 3, 32, 32, 3);
  x = conv (b, m, 2, "stem", 32, 3, 1, "same", "relu", x);
  for (int k = 1; k <= 2; k++)
    {
      char n1[32], n2[32], na[32], nr[32];
      snprintf (n1, sizeof n1, "block_%d_conv_1", k);
      snprintf (n2, sizeof n2, "block_%d_conv_2", k);
      snprintf (na, sizeof na, "block_%d_add", k);
      snprintf (nr, sizeof nr, "block_%d_relu", k);
      WeftId y = conv (b, m, 2, n1, 32, 3, 1, "same", "relu", x);
      y = conv (b, m, 2, n2, 32, 3, 1, "same", "linear", y);
      WeftId sum[2] = { y, x };
      y = simple (b, m, "Add", na, 2, sum);
      WeftId act = layer (b, "Activation", nr);
      set_choice (b, act, "activation", "relu");
      x = call1 (b, m, act, y);
    }
  x = simple (b, m, "GlobalAveragePooling2D", "global_average_pooling2d", 1, &x);
  head (b, m, dense (b, m, "predictions", 10, "softmax", x), SCCE, 1);
}

static void
build_siamese (B *b)
{
  WeftId m = model (b, "siamese_lstm");
  WeftId left = input (b, m, "left", false, 2, 20, 128, 0);
  WeftId right = input (b, m, "right", false, 2, 20, 128, 0);
  WeftId shared = lstm_layer (b, "shared_lstm", 32);
  WeftId both[2] = { call1 (b, m, shared, left), call1 (b, m, shared, right) };
  WeftId c = simple (b, m, "Concatenate", "concatenate", 2, both);
  head (b, m, dense (b, m, "same", 1, "sigmoid", c), WEFT_LOSS_BINARY_CROSSENTROPY, 1);
}

static void
build_dual_camera (B *b)
{
  WeftId m = model (b, "dual_camera");
  WeftId base = model (b, "vision_base");
  WeftId img = input (b, base, "frame", false, 3, 64, 64, 3);
  WeftId f = conv (b, base, 2, "base_conv_1", 32, 3, 2, "valid", "relu", img);
  f = conv (b, base, 2, "base_conv_2", 64, 3, 2, "valid", "relu", f);
  f = simple (b, base, "GlobalAveragePooling2D", "base_pool", 1, &f);
  head (b, base, f, WEFT_LOSS_NONE, 1);
  WeftId left = input (b, m, "left_camera", false, 3, 64, 64, 3);
  WeftId right = input (b, m, "right_camera", false, 3, 64, 64, 3);
  WeftId both[2] = { call1 (b, m, base, left), call1 (b, m, base, right) };
  WeftId c = simple (b, m, "Concatenate", "concatenate", 2, both);
  head (b, m, dense (b, m, "reading", 1, "linear", c), WEFT_LOSS_MSE, 1);
  if (b->ok)
    weft_graph_set_main_model (b->g, m);
}

WeftGraph *
weft_bench_model_build (const char *label, WeftError *error)
{
  const WeftBenchModelInfo *info = weft_bench_model_lookup (label);
  if (info == NULL)
    {
      weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                      "unknown benchmark model '%s'", label != NULL ? label : "(null)");
      return NULL;
    }
  B b = { .g = weft_graph_new (), .error = error, .ok = true };
  if (b.g == NULL)
    {
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
      return NULL;
    }
  const char *n = info->label;
  if (strcmp (n, "seq_mlp") == 0)
    build_mlp (&b, 64, 32);
  else if (strcmp (n, "wide_mlp") == 0)
    build_mlp (&b, 784, 1024);
  else if (strcmp (n, "qa_two_inputs") == 0)
    build_qa (&b);
  else if (strcmp (n, "social_three_heads") == 0)
    build_social (&b, false);
  else if (strcmp (n, "social_three_heads_same") == 0)
    build_social (&b, true);
  else if (strcmp (n, "inception_same") == 0)
    build_inception (&b);
  else if (strcmp (n, "residual_cnn") == 0)
    build_residual (&b);
  else if (strcmp (n, "siamese_lstm") == 0)
    build_siamese (&b);
  else
    build_dual_camera (&b);
  if (b.ok && !weft_graph_validate (b.g, error))
    b.ok = false;
  if (!b.ok)
    {
      weft_graph_free (b.g);
      return NULL;
    }
  return b.g;
}
