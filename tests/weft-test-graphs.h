/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-test-graphs.h: small builders shared by the engine tests (header-only). */
#pragma once

#include <glib.h>
#include <string.h>

#include "weft-graph.h"

static inline void
tg_set (WeftGraph *g, WeftId layer, const char *param, double num)
{
  WeftValue v = { .num = num };
  WeftError e = { 0 };
  if (!weft_graph_layer_set_param (g, layer, param, &v, &e))
    g_error ("set %s: %s", param, e.message);
}

static inline void
tg_choice (WeftGraph *g, WeftId layer, const char *param, const char *choice)
{
  const WeftOpDesc *op = weft_graph_layer_op (g, layer);
  int p = weft_op_param_index (op, param);
  g_assert_cmpint (p, >=, 0);
  for (int i = 0; op->params[p].choices[i] != NULL; i++)
    if (strcmp (op->params[p].choices[i], choice) == 0)
      {
        tg_set (g, layer, param, i);
        return;
      }
  g_error ("no choice %s for %s", choice, param);
}

static inline void
tg_ints (WeftGraph *g, WeftId layer, const char *param, int n, const int *ints)
{
  WeftValue v = { .n = n };
  WeftError e = { 0 };
  memcpy (v.ints, ints, (size_t) n * sizeof (int));
  if (!weft_graph_layer_set_param (g, layer, param, &v, &e))
    g_error ("set %s: %s", param, e.message);
}

/* An Input layer + node registered as model input. */
static inline WeftId
tg_input (WeftGraph *g, WeftId model, const char *name, int rank, const int *dims)
{
  WeftError e = { 0 };
  WeftId l = weft_graph_add_layer (g, "Input", name, &e);
  g_assert_cmpint (l, !=, WEFT_ID_NONE);
  tg_ints (g, l, "shape", rank, dims);
  WeftId n = weft_graph_add_node (g, model, l, &e);
  g_assert_cmpint (n, !=, WEFT_ID_NONE);
  g_assert_true (weft_graph_model_add_input (g, model, n, &e));
  return n;
}

static inline WeftId
tg_input1 (WeftGraph *g, WeftId model, const char *name, int features)
{
  return tg_input (g, model, name, 1, &features);
}

/* A new layer called on the given sources (port 0 each). */
static inline WeftId
tg_call (WeftGraph *g, WeftId model, WeftId layer, int n_src, const WeftId *src)
{
  WeftError e = { 0 };
  WeftId n = weft_graph_add_node (g, model, layer, &e);
  if (n == WEFT_ID_NONE)
    g_error ("add node: %s", e.message);
  for (int i = 0; i < n_src; i++)
    if (!weft_graph_connect (g, src[i], 0, n, i, &e))
      g_error ("connect: %s", e.message);
  return n;
}

static inline WeftId
tg_dense (WeftGraph *g, WeftId model, const char *name, int units, const char *act,
          WeftId src, WeftId *layer_out)
{
  WeftError e = { 0 };
  WeftId l = weft_graph_add_layer (g, "Dense", name, &e);
  g_assert_cmpint (l, !=, WEFT_ID_NONE);
  tg_set (g, l, "units", units);
  if (act != NULL)
    tg_choice (g, l, "activation", act);
  if (layer_out)
    *layer_out = l;
  return tg_call (g, model, l, 1, &src);
}

static inline WeftId
tg_merge (WeftGraph *g, WeftId model, const char *type, const char *name, int n,
          const WeftId *src)
{
  WeftError e = { 0 };
  WeftId l = weft_graph_add_layer (g, type, name, &e);
  g_assert_cmpint (l, !=, WEFT_ID_NONE);
  return tg_call (g, model, l, n, src);
}

static inline void
tg_head (WeftGraph *g, WeftId model, WeftId node, WeftLoss loss, float weight, WeftMetric metric)
{
  WeftHead h = { .node = node, .port = 0, .loss = loss, .weight = weight, .metric = metric,
                 .huber_delta = 1.0f };
  WeftError e = { 0 };
  if (!weft_graph_model_add_output (g, model, &h, &e))
    g_error ("add output: %s", e.message);
}

/* The lesson's Sequential MLP: 64 -> 32 relu -> 32 relu -> 10 softmax (3,466 params). */
static inline WeftGraph *
tg_mlp (void)
{
  WeftGraph *g = weft_graph_new ();
  WeftId m = weft_graph_add_model (g, "mlp", NULL);
  WeftId x = tg_input1 (g, m, "features", 64);
  WeftId h = tg_dense (g, m, "hidden_1", 32, "relu", x, NULL);
  h = tg_dense (g, m, "hidden_2", 32, "relu", h, NULL);
  WeftId y = tg_dense (g, m, "digit", 10, "softmax", h, NULL);
  tg_head (g, m, y, WEFT_LOSS_CATEGORICAL_CROSSENTROPY, 1.0f, WEFT_METRIC_CATEGORICAL_ACCURACY);
  return g;
}

/* Two inputs -> concatenate -> trunk -> three heads (age mse 0.25, income cce 1,
 * gender bce 10): the lesson's multi-output model on dense features. */
static inline WeftGraph *
tg_three_heads (void)
{
  WeftGraph *g = weft_graph_new ();
  WeftId m = weft_graph_add_model (g, "three_heads", NULL);
  WeftId a = tg_input1 (g, m, "profile", 12);
  WeftId b = tg_input1 (g, m, "posts", 20);
  WeftId both[2] = { a, b };
  WeftId c = tg_merge (g, m, "Concatenate", "features", 2, both);
  WeftId t = tg_dense (g, m, "trunk_1", 64, "relu", c, NULL);
  t = tg_dense (g, m, "trunk_2", 32, "relu", t, NULL);
  WeftId age = tg_dense (g, m, "age", 1, NULL, t, NULL);
  WeftId inc = tg_dense (g, m, "income", 10, "softmax", t, NULL);
  WeftId gen = tg_dense (g, m, "gender", 1, "sigmoid", t, NULL);
  tg_head (g, m, age, WEFT_LOSS_MSE, 0.25f, WEFT_METRIC_MAE);
  tg_head (g, m, inc, WEFT_LOSS_CATEGORICAL_CROSSENTROPY, 1.0f, WEFT_METRIC_CATEGORICAL_ACCURACY);
  tg_head (g, m, gen, WEFT_LOSS_BINARY_CROSSENTROPY, 10.0f, WEFT_METRIC_BINARY_ACCURACY);
  return g;
}
