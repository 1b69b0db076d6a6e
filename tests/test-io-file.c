/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The .weft reader and writer: round trips (text, weights, predictions, history) and every
 * kind of malformed file giving its own error and message. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "weft-file.h"
#include "weft-train.h"

#define N_SAMPLES 7

static WeftId
add_layer (WeftGraph *g, const char *type, const char *name)
{
  WeftError err = { 0 };
  WeftId id = weft_graph_add_layer (g, type, name, &err);
  if (id == WEFT_ID_NONE)
    g_error ("add_layer %s: %s", name, err.message);
  return id;
}

static void
set_num (WeftGraph *g, WeftId layer, const char *param, double num)
{
  WeftError err = { 0 };
  const WeftOpDesc *op = weft_graph_layer_op (g, layer);
  int p = weft_op_param_index (op, param);
  g_assert_cmpint (p, >=, 0);
  WeftValue v = weft_graph_layer_config (g, layer)[p];
  v.num = num;
  if (!weft_graph_layer_set_param (g, layer, param, &v, &err))
    g_error ("set %s: %s", param, err.message);
}

static void
set_choice (WeftGraph *g, WeftId layer, const char *param, const char *choice)
{
  const WeftOpDesc *op = weft_graph_layer_op (g, layer);
  int p = weft_op_param_index (op, param);
  g_assert_cmpint (p, >=, 0);
  for (int i = 0; op->params[p].choices[i] != NULL; i++)
    if (strcmp (op->params[p].choices[i], choice) == 0)
      {
        set_num (g, layer, param, i);
        return;
      }
  g_error ("no choice %s", choice);
}

static void
set_shape (WeftGraph *g, WeftId layer, int n, const int *dims)
{
  WeftError err = { 0 };
  const WeftOpDesc *op = weft_graph_layer_op (g, layer);
  int p = weft_op_param_index (op, "shape");
  g_assert_cmpint (p, >=, 0);
  WeftValue v = weft_graph_layer_config (g, layer)[p];
  v.n = n;
  for (int i = 0; i < n; i++)
    v.ints[i] = dims[i];
  if (!weft_graph_layer_set_param (g, layer, "shape", &v, &err))
    g_error ("set shape: %s", err.message);
}

static WeftId
add_node (WeftGraph *g, WeftId model, WeftId callee, double x, double y)
{
  WeftError err = { 0 };
  WeftId id = weft_graph_add_node (g, model, callee, &err);
  if (id == WEFT_ID_NONE)
    g_error ("add_node: %s", err.message);
  weft_graph_node_set_position (g, id, x, y);
  return id;
}

static void
connect (WeftGraph *g, WeftId src, int src_port, WeftId dst, int dst_port)
{
  WeftError err = { 0 };
  if (!weft_graph_connect (g, src, src_port, dst, dst_port, &err))
    g_error ("connect: %s", err.message);
}

/* features(8) -> shared Dense(8) -> shared again -> tower (a nested model: Dense(3)) -> head
 * "tower" (mse, 0.25); second call of shared -> Dense(1, sigmoid) "score" (binary
 * crossentropy, accuracy). The shared layer and the nested model are what a round trip must
 * keep apart from copies. */
static WeftGraph *
build_graph (void)
{
  WeftGraph *g = weft_graph_new ();
  WeftError err = { 0 };
  const int feat_dims[] = { 8 };
  const int tower_dims[] = { 8 };

  WeftId tower = weft_graph_add_model (g, "tower", &err);
  g_assert_cmpint (tower, !=, WEFT_ID_NONE);
  WeftId tin = add_layer (g, "Input", "tower_in");
  set_shape (g, tin, 1, tower_dims);
  WeftId tdense = add_layer (g, "Dense", "tower_dense");
  set_num (g, tdense, "units", 3);
  set_choice (g, tdense, "activation", "tanh");
  WeftId tn_in = add_node (g, tower, tin, 10, 20);
  WeftId tn_dense = add_node (g, tower, tdense, 200, 20.5);
  connect (g, tn_in, 0, tn_dense, 0);
  g_assert_true (weft_graph_model_add_input (g, tower, tn_in, &err));
  WeftHead th = { .node = tn_dense, .port = 0, .loss = WEFT_LOSS_NONE, .weight = 1,
                  .metric = WEFT_METRIC_NONE, .huber_delta = 1 };
  g_assert_true (weft_graph_model_add_output (g, tower, &th, &err));

  WeftId model = weft_graph_add_model (g, "model", &err);
  weft_graph_set_main_model (g, model);
  WeftId features = add_layer (g, "Input", "features");
  set_shape (g, features, 1, feat_dims);
  WeftId shared = add_layer (g, "Dense", "shared");
  set_num (g, shared, "units", 8);
  set_choice (g, shared, "activation", "relu");
  WeftId score = add_layer (g, "Dense", "score");
  set_num (g, score, "units", 1);
  set_choice (g, score, "activation", "sigmoid");
  weft_graph_layer_set_trainable (g, score, false);

  WeftId n_feat = add_node (g, model, features, 40, 80);
  WeftId n_sh1 = add_node (g, model, shared, 260, 80);
  WeftId n_sh2 = add_node (g, model, shared, 480, 80);
  WeftId n_tower = add_node (g, model, tower, 700, 40);
  WeftId n_score = add_node (g, model, score, 700, 160.25);
  connect (g, n_feat, 0, n_sh1, 0);
  connect (g, n_sh1, 0, n_sh2, 0);
  connect (g, n_sh2, 0, n_tower, 0);
  connect (g, n_sh1, 0, n_score, 0);
  g_assert_true (weft_graph_model_add_input (g, model, n_feat, &err));
  WeftHead h1 = { .node = n_tower, .port = 0, .loss = WEFT_LOSS_MSE, .weight = 0.25f,
                  .metric = WEFT_METRIC_MAE, .huber_delta = 1 };
  WeftHead h2 = { .node = n_score, .port = 0, .loss = WEFT_LOSS_BINARY_CROSSENTROPY,
                  .weight = 1, .metric = WEFT_METRIC_BINARY_ACCURACY, .huber_delta = 1 };
  g_assert_true (weft_graph_model_add_output (g, model, &h1, &err));
  g_assert_true (weft_graph_model_add_output (g, model, &h2, &err));

  WeftTrainConfig tc;
  weft_train_config_defaults (&tc);
  weft_optim_config_defaults (WEFT_OPTIM_ADAMW, &tc.optimizer);
  tc.optimizer.learning_rate = 0.003f;
  tc.epochs = 3;
  tc.batch_size = 4;
  tc.validation_split = 0.1f;
  tc.seed = 42;
  g_strlcpy (tc.data, "synthetic:three-heads", sizeof tc.data);
  weft_graph_set_train_config (g, &tc);

  g_assert_cmpint (weft_graph_analyse (g), ==, 0);
  return g;
}

static char *
make_tmpdir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("weft-io-file-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_remove (p);
    }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (dir);
}

static WeftDataset *
make_inputs (void)
{
  WeftShape shape = weft_shape_make (1, 8);
  WeftDataset *data = weft_dataset_new (N_SAMPLES);
  float *x = weft_dataset_add (data, "features", &shape, NULL);
  WeftRng rng;
  weft_rng_seed (&rng, 5);
  for (int i = 0; i < N_SAMPLES * 8; i++)
    x[i] = weft_rng_normal (&rng);
  return data;
}

/* Predictions of both heads, concatenated. */
static float *
predict (WeftGraph *g, const WeftDataset *data, int *n_out)
{
  WeftError err = { 0 };
  float *out[2];
  out[0] = g_new0 (float, N_SAMPLES * 3);
  out[1] = g_new0 (float, N_SAMPLES * 1);
  if (!weft_predict (g, data, out, 1, &err))
    g_error ("predict: %s", err.message);
  float *all = g_new (float, N_SAMPLES * 4);
  memcpy (all, out[0], sizeof (float) * N_SAMPLES * 3);
  memcpy (all + N_SAMPLES * 3, out[1], sizeof (float) * N_SAMPLES);
  g_free (out[0]);
  g_free (out[1]);
  *n_out = N_SAMPLES * 4;
  return all;
}

static void
test_round_trip (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "graph.weft", NULL);
  g_autofree char *weights = g_build_filename (dir, "graph.safetensors", NULL);
  GError *error = NULL;
  WeftFileMeta meta = { .name = g_strdup ("Round trip"),
                        .description = g_strdup ("a shared layer, a \"nested\" model\nand two heads") };
  WeftFileMeta meta2 = { 0 };

  WeftGraph *g = build_graph ();
  weft_graph_init_weights (g, 11);
  g_assert_true (weft_file_save_full (g, NULL, &meta, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (weights, G_FILE_TEST_IS_REGULAR));

  WeftGraph *g2 = weft_file_load_full (path, NULL, &meta2, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g2);
  g_assert_cmpstr (meta2.name, ==, meta.name);
  g_assert_cmpstr (meta2.description, ==, meta.description);

  /* The text written equals the text of the loaded graph (ids renumbered the same way). */
  char sha[65];
  g_assert_true (weft_file_sha256 (weights, sha, &error));
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_autofree char *text2 = weft_file_to_json_full (g2, NULL, &meta2, "graph.safetensors", sha);
  g_assert_cmpstr (text, ==, text2);
  if (g_test_verbose ())
    g_printerr ("%s", text);
  g_autofree char *text1 = weft_file_to_json_full (g, NULL, &meta, "graph.safetensors", sha);
  g_assert_cmpstr (text1, ==, text2);

  /* Readable numbers and the documented keys. */
  g_assert_nonnull (strstr (text, "\"learning_rate\": 0.003,"));
  g_assert_nonnull (strstr (text, "\"loss_weight\": 0.25,"));
  g_assert_nonnull (strstr (text, "\"format\": \"weft-graph\""));
  g_assert_nonnull (strstr (text, "\"inputs\": [[1, 0]]"));
  g_assert_nonnull (strstr (text, "\"y\": 160.25"));

  /* The shared layer stays one layer with two calls; the nested model stays a model. */
  WeftId shared = weft_graph_find (g2, "shared");
  g_assert_cmpint (weft_graph_kind (g2, shared), ==, WEFT_KIND_LAYER);
  g_assert_cmpint (weft_graph_callee_n_nodes (g2, shared), ==, 2);
  g_assert_cmpint (weft_graph_kind (g2, weft_graph_find (g2, "tower")), ==, WEFT_KIND_MODEL);
  g_assert_false (weft_graph_layer_get_trainable (g2, weft_graph_find (g2, "score")));
  const WeftTrainConfig *tc = weft_graph_get_train_config (g2);
  g_assert_cmpint (tc->optimizer.kind, ==, WEFT_OPTIM_ADAMW);
  g_assert_cmpfloat (tc->optimizer.learning_rate, ==, 0.003f);
  g_assert_cmpint (tc->seed, ==, 42);
  g_assert_cmpstr (tc->data, ==, "synthetic:three-heads");

  /* Same weights, same predictions, bit for bit. */
  WeftDataset *data = make_inputs ();
  int n1, n2;
  g_autofree float *p1 = predict (g, data, &n1);
  g_autofree float *p2 = predict (g2, data, &n2);
  g_assert_cmpint (n1, ==, n2);
  g_assert_cmpmem (p1, sizeof (float) * n1, p2, sizeof (float) * n2);
  for (int i = 0; i < n1; i++)
    g_assert_true (isfinite (p1[i]));

  /* Saving the loaded graph again gives the same bytes in both files. */
  g_autofree char *path_b = g_build_filename (dir, "again.weft", NULL);
  g_autofree char *weights_b = g_build_filename (dir, "again.safetensors", NULL);
  g_assert_true (weft_file_save_full (g2, NULL, &meta2, path_b, &error));
  g_assert_no_error (error);
  char sha_b[65];
  g_assert_true (weft_file_sha256 (weights_b, sha_b, &error));
  g_assert_cmpstr (sha, ==, sha_b);

  weft_dataset_free (data);
  weft_file_meta_clear (&meta);
  weft_file_meta_clear (&meta2);
  weft_graph_free (g);
  weft_graph_free (g2);
  remove_tree (dir);
}

static void
test_round_trip_without_weights (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "plain.weft", NULL);
  g_autofree char *weights = g_build_filename (dir, "plain.safetensors", NULL);
  GError *error = NULL;

  WeftGraph *g = build_graph ();
  g_assert_true (weft_file_save (g, NULL, path, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (weights, G_FILE_TEST_EXISTS));
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_null (strstr (text, "\"weights\""));

  WeftGraph *g2 = weft_file_load (path, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *text2 = weft_file_to_json (g2, NULL, NULL, NULL);
  g_assert_cmpstr (text, ==, text2);
  weft_graph_free (g);
  weft_graph_free (g2);
  remove_tree (dir);
}

static void
test_round_trip_history (void)
{
  const char *heads[] = { "tower", "score" };
  const float weights[] = { 0.25f, 1 };
  const char *metrics[] = { "mae", NULL };
  GError *error = NULL;
  WeftHistory *h = weft_history_new (2, heads, weights, metrics);

  for (int run = 0; run < 2; run++)
    {
      if (run == 1)
        weft_history_begin_run (h);
      for (int e = 0; e < 2; e++)
        {
          for (int b = 0; b < 3; b++)
            {
              WeftStepReport s = { .epoch = e, .batch = b, .n_batches = 3, .step = e * 3 + b,
                                   .n_heads = 2, .samples_seen = (b + 1) * 4 };
              s.loss[0] = 1.0 / (1 + s.step + run);
              s.loss[1] = 0.7 - 0.01 * s.step;
              s.metric[0] = 0.5 / (1 + s.step);
              s.metric[1] = NAN;
              s.total = 0.25 * s.loss[0] + s.loss[1];
              g_assert_true (weft_history_add_step (h, &s));
            }
          WeftEpochReport r = { .epoch = e, .n_heads = 2, .has_validation = e == 1,
                                .seconds = 0.125 * (e + 1) };
          r.loss[0] = 0.5; r.loss[1] = 0.625; r.total = 0.75;
          r.metric[0] = 0.1; r.metric[1] = NAN;
          r.val_loss[0] = 0.55; r.val_loss[1] = 0.675; r.val_total = 0.8125;
          r.val_metric[0] = 0.2; r.val_metric[1] = NAN;
          g_assert_true (weft_history_add_epoch (h, &r));
        }
    }

  WeftGraph *g = build_graph ();
  g_autofree char *text = weft_file_to_json (g, h, NULL, NULL);
  g_assert_nonnull (strstr (text, "\"history\""));
  WeftHistory *h2 = NULL;
  WeftGraph *g2 = weft_file_load_data (text, strlen (text), NULL, &h2, &error);
  g_assert_no_error (error);
  g_assert_nonnull (h2);
  g_assert_cmpint (weft_history_n_heads (h2), ==, 2);
  g_assert_cmpint (weft_history_n_runs (h2), ==, 2);
  g_assert_cmpuint (weft_history_n_steps (h2), ==, 12);
  g_assert_cmpuint (weft_history_n_epochs (h2), ==, 4);
  g_assert_cmpstr (weft_history_metric_name (h2, 0), ==, "mae");
  g_assert_null (weft_history_metric_name (h2, 1));
  WeftHistoryEpoch e;
  g_assert_true (weft_history_get_epoch (h2, 1, &e));
  g_assert_true (e.has_validation);
  g_assert_cmpfloat (e.val_total, ==, 0.8125);
  g_assert_true (isnan (e.metric[1]));
  WeftHistoryEpoch e0;
  g_assert_true (weft_history_get_epoch (h2, 0, &e0));
  g_assert_false (e0.has_validation);
  g_autofree char *text2 = weft_file_to_json (g2, h2, NULL, NULL);
  g_assert_cmpstr (text, ==, text2);

  weft_history_free (h);
  weft_history_free (h2);
  weft_graph_free (g);
  weft_graph_free (g2);
}

/* ---- malformed files ---- */

/* text with the first `from` replaced by `to` (which must occur). */
static char *
replace (const char *text, const char *from, const char *to)
{
  const char *at = strstr (text, from);
  if (at == NULL)
    g_error ("'%s' not in\n%s", from, text);
  return g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
}

/* The text of the test graph with `from` replaced by `to`. */
static char *
variant (const char *from, const char *to)
{
  WeftGraph *g = build_graph ();
  g_autofree char *text = weft_file_to_json (g, NULL, NULL, NULL);
  weft_graph_free (g);
  return replace (text, from, to);
}

static void
expect_error (const char *json, int code, const char *message_part)
{
  GError *error = NULL;
  WeftHistory *history = NULL;
  WeftGraph *g = weft_file_load_data (json, strlen (json), NULL, &history, &error);
  g_assert_null (g);
  g_assert_null (history);
  g_assert_error (error, WEFT_IO_ERROR, code);
  if (strstr (error->message, message_part) == NULL)
    g_error ("message '%s' lacks '%s'", error->message, message_part);
  g_test_message ("%s", error->message);
  g_error_free (error);
}

static void
test_malformed_truncated (void)
{
  WeftGraph *g = build_graph ();
  g_autofree char *text = weft_file_to_json (g, NULL, NULL, NULL);
  weft_graph_free (g);
  for (size_t cut = 0; cut < strlen (text); cut += 37)
    {
      g_autofree char *part = g_strndup (text, cut);
      GError *error = NULL;
      WeftGraph *g2 = weft_file_load_data (part, cut, NULL, NULL, &error);
      g_assert_null (g2);
      g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT);
      g_error_free (error);
    }
  text[strlen (text) / 2] = '\0';
  expect_error (text, WEFT_IO_ERROR_FORMAT, "not valid JSON");
  expect_error ("[1, 2]", WEFT_IO_ERROR_FORMAT, "top level is an array");
  expect_error ("{\"format\": \"keras\"}", WEFT_IO_ERROR_FORMAT, "not a Weft graph file");
}

static void
test_malformed_types (void)
{
  g_autofree char *a = variant ("\"units\": 8,", "\"units\": \"8\",");
  expect_error (a, WEFT_IO_ERROR_FORMAT, "layer 'shared' (Dense): 'units' must be a whole number, not a string");
  g_autofree char *b = variant ("\"units\": 8,", "\"units\": 8.5,");
  expect_error (b, WEFT_IO_ERROR_FORMAT, "layer 'shared' (Dense): units must be a whole number");
  g_autofree char *c = variant ("\"activation\": \"relu\"", "\"activation\": \"relux\"");
  expect_error (c, WEFT_IO_ERROR_FORMAT, "'activation' = 'relux' is not one of");
  g_autofree char *d = variant ("\"trainable\": true", "\"trainable\": 1");
  expect_error (d, WEFT_IO_ERROR_FORMAT, "'trainable' must be true or false, not a number");
  g_autofree char *e1 = variant ("\"layers\": [", "\"layers\": {\"a\": [");
  g_autofree char *e3 = replace (e1, "\n  ],\n  \"models\"", "\n  ]},\n  \"models\"");
  expect_error (e3, WEFT_IO_ERROR_FORMAT, "'layers' must be an array, not an object");
  g_autofree char *f = variant ("\"loss\": \"mse\"", "\"loss\": \"msee\"");
  expect_error (f, WEFT_IO_ERROR_FORMAT, "unknown loss 'msee'");
  g_autofree char *h = variant ("\"epochs\": 3", "\"epochs\": -3");
  expect_error (h, WEFT_IO_ERROR_FORMAT, "training: 'epochs' = -3 is outside");
  g_autofree char *i = variant ("\"name\": \"adamw\"", "\"name\": \"adagrad\"");
  expect_error (i, WEFT_IO_ERROR_FORMAT, "unknown optimizer 'adagrad'");
}

static void
test_malformed_version (void)
{
  g_autofree char *a = variant ("\"version\": 1,", "\"version\": 2,");
  expect_error (a, WEFT_IO_ERROR_VERSION, "made by a newer Weft");
  g_autofree char *b = variant ("\"version\": 1,", "\"version\": 0,");
  expect_error (b, WEFT_IO_ERROR_VERSION, "unknown format version 0");
  g_autofree char *c = variant ("\"version\": 1,", "\"version\": \"1\",");
  expect_error (c, WEFT_IO_ERROR_FORMAT, "'version' must be a whole number");
}

static void
test_malformed_dims (void)
{
  g_autofree char *a = variant ("\"shape\": [8]", "\"shape\": [-3]");
  expect_error (a, WEFT_IO_ERROR_FORMAT, "layer 'tower_in' (Input): 'shape'[0] = -3 is outside");
  g_autofree char *b = variant ("\"shape\": [8]", "\"shape\": [1e12]");
  expect_error (b, WEFT_IO_ERROR_FORMAT, "'shape'[0] = 1e+12 is outside");
  g_autofree char *c = variant ("\"units\": 8,", "\"units\": 1e300,");
  expect_error (c, WEFT_IO_ERROR_FORMAT, "layer 'shared' (Dense):");
  g_autofree char *d = variant ("\"shape\": [8]", "\"shape\": [1, 2, 3, 4, 5, 6, 7, 8, 9]");
  expect_error (d, WEFT_IO_ERROR_FORMAT, "layer 'tower_in' (Input): 'shape' needs");
}

static void
test_malformed_unknown (void)
{
  g_autofree char *a = variant ("\"type\": \"Dense\"", "\"type\": \"Dense3\"");
  expect_error (a, WEFT_IO_ERROR_FORMAT, "layer 'tower_dense': unknown layer type 'Dense3'");
  g_autofree char *b = variant ("\"units\": 8,", "\"unitz\": 8,");
  expect_error (b, WEFT_IO_ERROR_FORMAT, "layer 'shared' (Dense): unknown config key 'unitz'");
  g_autofree char *c = variant ("\"version\": 1,", "\"version\": 1,\n  \"colour\": \"red\",");
  expect_error (c, WEFT_IO_ERROR_FORMAT, "unknown key 'colour'");
  g_autofree char *d = variant ("\"from_logits\": false", "\"from_logits\": false, \"smooth\": 1");
  expect_error (d, WEFT_IO_ERROR_FORMAT, "outputs[0]: unknown key 'smooth'");
  g_autofree char *e = variant ("\"call\": \"shared\"", "\"call\": \"sharde\"");
  expect_error (e, WEFT_IO_ERROR_FORMAT, "calls 'sharde', which is neither a layer nor a model");
  g_autofree char *f = variant ("\"beta_1\": 0.9", "\"rho\": 0.9");
  expect_error (f, WEFT_IO_ERROR_FORMAT, "the optimizer adamw has no setting 'rho'");
}

static void
test_malformed_references (void)
{
  /* node 1 is tower_in, 2 tower_dense; 3 features, 4/5 shared, 6 tower, 7 score */
  g_autofree char *a = variant ("\"inputs\": [[3, 0]]", "\"inputs\": [[99, 0]]");
  expect_error (a, WEFT_IO_ERROR_FORMAT, "refers to node 99, which does not exist");
  g_autofree char *b = variant ("\"inputs\": [[3, 0]]", "\"inputs\": [[1, 0]]");
  expect_error (b, WEFT_IO_ERROR_FORMAT, "refers to node 1 of another model");
  g_autofree char *c = variant ("\"inputs\": [[3, 0]]", "\"inputs\": [[3, 4]]");
  expect_error (c, WEFT_IO_ERROR_FORMAT, "comes from port 4 of 'features', which has 1 output");
  g_autofree char *d = variant ("\"node\": 6,", "\"node\": 60,");
  expect_error (d, WEFT_IO_ERROR_FORMAT, "outputs[0]: 'node' refers to node 60");
  g_autofree char *e = variant ("\"main_model\": \"model\"", "\"main_model\": \"modle\"");
  expect_error (e, WEFT_IO_ERROR_FORMAT, "'main_model' names 'modle'");
  g_autofree char *f = variant ("\"id\": 4,", "\"id\": 3,");
  expect_error (f, WEFT_IO_ERROR_FORMAT, "the node id 3 is used twice");
  g_autofree char *g = variant ("\"name\": \"score\"", "\"name\": \"shared\"");
  expect_error (g, WEFT_IO_ERROR_FORMAT, "the name 'shared' is used twice");
  g_autofree char *h = variant ("\"inputs\": [3]", "\"inputs\": [4]");
  expect_error (h, WEFT_IO_ERROR_FORMAT, "not of an Input layer");
  /* a model calling itself, directly and through another model */
  g_autofree char *i = variant ("\"call\": \"tower_dense\"", "\"call\": \"tower\"");
  expect_error (i, WEFT_IO_ERROR_FORMAT, "model 'tower' calls itself");
  g_autofree char *j = variant ("\"call\": \"tower_dense\"", "\"call\": \"model\"");
  expect_error (j, WEFT_IO_ERROR_FORMAT, "'tower' cannot be used inside 'model'");
}

static void
test_malformed_deep_nesting (void)
{
  GString *s = g_string_new ("{\"format\": \"weft-graph\", \"version\": 1, \"name\": ");
  for (int i = 0; i < 100000; i++)
    g_string_append_c (s, '[');
  expect_error (s->str, WEFT_IO_ERROR_FORMAT, "nested more than");
  g_string_free (s, TRUE);
}

/* Random byte edits, deletions and duplications of a valid file: each result loads or fails
 * with a WEFT_IO_ERROR, never crashes (run under -Db_sanitize=address,undefined too). */
#define N_MUTATIONS 3000

static void
test_malformed_random_mutations (void)
{
  static const char alphabet[] = "{}[],:\"-0123456789.eE tfnul\\x";
  WeftGraph *g = build_graph ();
  WeftHistory *h = NULL;
  g_autofree char *text = weft_file_to_json (g, NULL, NULL, NULL);
  weft_graph_free (g);
  size_t len = strlen (text);
  WeftRng rng;
  int loaded = 0, refused = 0;

  weft_rng_seed (&rng, 20261129);
  for (int i = 0; i < N_MUTATIONS; i++)
    {
      GString *m = g_string_new_len (text, len);
      int edits = 1 + (int) weft_rng_below (&rng, 3);
      for (int e = 0; e < edits && m->len > 0; e++)
        {
          size_t at = weft_rng_below (&rng, (uint32_t) m->len);
          switch (weft_rng_below (&rng, 3))
            {
            case 0:
              m->str[at] = alphabet[weft_rng_below (&rng, sizeof alphabet - 1)];
              break;
            case 1:
              g_string_erase (m, at, MIN (m->len - at, 1 + weft_rng_below (&rng, 16)));
              break;
            default:
              {
                size_t n = MIN (m->len - at, 1 + weft_rng_below (&rng, 32));
                g_autofree char *copy = g_strndup (m->str + at, n);
                g_string_insert (m, at, copy);
              }
            }
        }
      GError *error = NULL;
      WeftGraph *g2 = weft_file_load_data (m->str, m->len, NULL, &h, &error);
      if (g2 != NULL)
        {
          g_assert_no_error (error);
          loaded++;
          weft_graph_free (g2);
          weft_history_free (h);
        }
      else
        {
          g_assert_nonnull (error);
          g_assert_true (error->domain == WEFT_IO_ERROR);
          g_assert_cmpstr (error->message, !=, "");
          g_assert_null (h);
          refused++;
          g_error_free (error);
        }
      h = NULL;
      g_string_free (m, TRUE);
    }
  g_test_message ("%d mutations loaded, %d refused", loaded, refused);
  g_assert_cmpint (refused, >, N_MUTATIONS / 2);
}

static void
test_checksum_mismatch (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "m.weft", NULL);
  g_autofree char *weights = g_build_filename (dir, "m.safetensors", NULL);
  GError *error = NULL;

  WeftGraph *g = build_graph ();
  weft_graph_init_weights (g, 1);
  g_assert_true (weft_file_save (g, NULL, path, &error));
  g_assert_no_error (error);

  /* Other weights of the same shapes written over the weights file. */
  WeftGraph *other = build_graph ();
  weft_graph_init_weights (other, 2);
  g_assert_true (weft_safetensors_save_graph (other, weights, NULL, &error));
  g_assert_no_error (error);

  WeftGraph *g2 = weft_file_load (path, NULL, &error);
  g_assert_null (g2);
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "does not belong to this graph"));
  g_assert_nonnull (strstr (error->message, "m.safetensors"));
  g_clear_error (&error);

  /* A missing weights file names it. */
  g_remove (weights);
  g2 = weft_file_load (path, NULL, &error);
  g_assert_null (g2);
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "m.safetensors"));
  g_clear_error (&error);

  /* A .weft that names weights but is read from memory without a folder. */
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  expect_error (text, WEFT_IO_ERROR_IO, "was not read from a folder");
  /* Escaping the folder is refused. */
  g_autofree char *evil = replace (text, "\"file\": \"m.safetensors\"",
                                   "\"file\": \"../m.safetensors\"");
  expect_error (evil, WEFT_IO_ERROR_FORMAT, "must be a file name relative to the .weft file");

  weft_graph_free (g);
  weft_graph_free (other);
  remove_tree (dir);
}

static void
test_missing_file (void)
{
  GError *error = NULL;
  WeftGraph *g = weft_file_load ("/nonexistent/dir/none.weft", NULL, &error);
  g_assert_null (g);
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "none.weft"));
  g_error_free (error);
}

/* The data binding is kept as written and saved back in its place. */
static void
test_round_trip_data_binding (void)
{
  GError *error = NULL;
  WeftFileMeta meta = { 0 };
  g_autofree char *text = variant ("\n  }\n}\n",
                                   "\n  },\n  \"data\": {\n    \"feeds\": {\n      \"x\": "
                                   "{ \"source\": \"s\", \"columns\": \"0-3\" }\n    },\n"
                                   "    \"seed\": 7\n  }\n}\n");
  WeftGraph *g = weft_file_load_data_full (text, strlen (text), NULL, NULL, &meta, &error);
  g_assert_no_error (error);
  g_assert_nonnull (meta.data);
  g_autofree char *again = weft_file_to_json_full (g, NULL, &meta, NULL, NULL);
  /* meta carries name/description: the text had the graph defaults */
  g_assert_cmpstr (again, ==, text);
  weft_file_meta_clear (&meta);
  weft_graph_free (g);

  g_autofree char *bad = variant ("\n  }\n}\n", "\n  },\n  \"data\": 3\n}\n");
  expect_error (bad, WEFT_IO_ERROR_FORMAT, "'data' must be an object, not a number");
}

static void
test_weights_path (void)
{
  g_autofree char *a = weft_file_weights_path ("dir/three-heads.weft");
  g_assert_cmpstr (a, ==, "dir/three-heads.safetensors");
  g_autofree char *b = weft_file_weights_path ("model.json");
  g_assert_cmpstr (b, ==, "model.json.safetensors");
}

/* Head positions travel through WeftFileMeta as the outputs' "x" and "y". */
static void
test_head_positions_round_trip (void)
{
  WeftGraph *g = build_graph ();
  WeftId main_model = weft_graph_get_main_model (g);
  g_autofree char *key = g_strdup_printf ("%s/0", weft_graph_get_name (g, main_model));
  g_autofree char *json = NULL;
  g_autoptr (GError) error = NULL;
  WeftFileMeta meta = { 0 }, back = { 0 };
  WeftGraph *loaded;
  const double *pos;
  double *p = g_new (double, 2);

  g_assert_cmpint (weft_graph_model_n_outputs (g, main_model), >=, 1);
  p[0] = 520;
  p[1] = -40.5;
  meta.head_positions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (meta.head_positions, g_strdup (key), p);
  json = weft_file_to_json_full (g, NULL, &meta, NULL, NULL);
  loaded = weft_file_load_data_full (json, strlen (json), NULL, NULL, &back, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back.head_positions);
  pos = g_hash_table_lookup (back.head_positions, key);
  g_assert_nonnull (pos);
  g_assert_cmpfloat (pos[0], ==, 520);
  g_assert_cmpfloat (pos[1], ==, -40.5);
  /* heads without a position stay automatic */
  g_assert_cmpuint (g_hash_table_size (back.head_positions), ==, 1);
  weft_graph_free (loaded);
  weft_file_meta_clear (&back);

  /* without positions no "x" is written and none is read back */
  g_free (json);
  json = weft_file_to_json_full (g, NULL, NULL, NULL, NULL);
  loaded = weft_file_load_data_full (json, strlen (json), NULL, NULL, &back, &error);
  g_assert_no_error (error);
  g_assert_null (back.head_positions);
  weft_graph_free (loaded);
  weft_file_meta_clear (&back);

  /* an x without a y is an error naming the head */
  {
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (JsonGenerator) gen = json_generator_new ();
    g_autofree char *bad = NULL;
    JsonArray *models;
    gboolean removed = FALSE;

    g_free (json);
    json = weft_file_to_json_full (g, NULL, &meta, NULL, NULL);
    g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
    models = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                           "models");
    for (guint i = 0; i < json_array_get_length (models); i++)
      {
        JsonArray *outs = json_object_get_array_member (json_array_get_object_element (models, i),
                                                        "outputs");
        for (guint k = 0; k < json_array_get_length (outs); k++)
          if (json_object_has_member (json_array_get_object_element (outs, k), "y"))
            {
              json_object_remove_member (json_array_get_object_element (outs, k), "y");
              removed = TRUE;
            }
      }
    g_assert_true (removed);
    json_generator_set_root (gen, json_parser_get_root (parser));
    bad = json_generator_to_data (gen, NULL);
    loaded = weft_file_load_data_full (bad, strlen (bad), NULL, NULL, NULL, &error);
    g_assert_null (loaded);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "needs both 'x' and 'y'"));
  }
  weft_file_meta_clear (&meta);
  weft_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/file/round-trip/text-weights-and-predictions", test_round_trip);
  g_test_add_func ("/io/file/round-trip/without-weights-writes-no-weights-key",
                   test_round_trip_without_weights);
  g_test_add_func ("/io/file/round-trip/history-with-runs-and-validation",
                   test_round_trip_history);
  g_test_add_func ("/io/file/round-trip/data-binding-kept-as-written",
                   test_round_trip_data_binding);
  g_test_add_func ("/io/file/weights-path-replaces-extension", test_weights_path);
  g_test_add_func ("/io/file/malformed/truncated-json", test_malformed_truncated);
  g_test_add_func ("/io/file/malformed/wrong-types", test_malformed_types);
  g_test_add_func ("/io/file/malformed/unknown-version", test_malformed_version);
  g_test_add_func ("/io/file/malformed/negative-and-absurd-dims", test_malformed_dims);
  g_test_add_func ("/io/file/malformed/unknown-type-and-keys", test_malformed_unknown);
  g_test_add_func ("/io/file/malformed/dangling-and-duplicate-references",
                   test_malformed_references);
  g_test_add_func ("/io/file/malformed/deep-nesting", test_malformed_deep_nesting);
  g_test_add_func ("/io/file/malformed/checksum-mismatch", test_checksum_mismatch);
  g_test_add_func ("/io/file/malformed/random-mutations-never-crash",
                   test_malformed_random_mutations);
  g_test_add_func ("/io/file/missing-file-names-the-file", test_missing_file);
  g_test_add_func ("/io/file/head-positions/round-trip", test_head_positions_round_trip);
  return g_test_run ();
}
