/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The structural promises of the functional-API lesson's examples and of the Xception
 * template: Keras' parameter counts, the explained inception error, shared layers and a
 * model used as a layer counted once. (Training quality is test-io-examples' business.) */
#include <stdarg.h>
#include <string.h>

#include "weft-data.h"
#include "weft-file.h"

/* Keras: applications.Xception(weights=None, include_top=False), 299x299x3 */
#define XCEPTION_TOTAL         20861480
#define XCEPTION_NON_TRAINABLE 54528
#define XCEPTION_LAYERS        132   /* len(model.layers), the InputLayer included */

#define QA_SAMPLES   2000
#define QA_MAX_SHARE 0.5   /* a single input would decide the answer at 1.0 */

static WeftGraph *
load (const char *dir, const char *file, WeftFileMeta *meta)
{
  const char *src = g_getenv ("WEFT_SOURCE_DIR");
  g_assert_nonnull (src);
  g_autofree char *path = g_build_filename (src, "resources", dir, file, NULL);
  g_autoptr (GError) error = NULL;
  WeftGraph *g = weft_file_load_full (path, NULL, meta, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g);
  return g;
}

static WeftId
layer (WeftGraph *g, const char *name)
{
  WeftId id = weft_graph_find (g, name);
  if (id == WEFT_ID_NONE)
    g_error ("no layer or model '%s'", name);
  return id;
}

static int64_t
total_params (WeftGraph *g, WeftId id, int64_t *non_trainable)
{
  int64_t tr = -1, nt = -1;
  g_assert_true (weft_graph_count_params (g, id, &tr, &nt));
  if (non_trainable != NULL)
    *non_trainable = nt;
  return tr + nt;
}

static int
count_type (WeftGraph *g, const char *type)
{
  int n = 0;
  for (int i = 0; i < weft_graph_n_layers (g); i++)
    n += strcmp (weft_graph_layer_op (g, weft_graph_layer_at (g, i))->name, type) == 0;
  return n;
}

static void
assert_weight_shape (WeftGraph *g, const char *layer_name, const char *weight, int rank, ...)
{
  int n;
  const WeftWeight *w = weft_graph_layer_weights (g, layer (g, layer_name), &n);
  for (int i = 0; i < n; i++)
    if (strcmp (w[i].spec.name, weight) == 0)
      {
        va_list ap;
        va_start (ap, rank);
        g_assert_cmpint (w[i].spec.shape.rank, ==, rank);
        for (int d = 0; d < rank; d++)
          g_assert_cmpint (w[i].spec.shape.dims[d], ==, va_arg (ap, int));
        va_end (ap);
        return;
      }
  g_error ("%s has no weight %s", layer_name, weight);
}

static void
test_xception_parameter_count (void)
{
  WeftGraph *g = load ("templates", "xception.weft", NULL);
  WeftId m = layer (g, "xception");
  g_assert_cmpint (weft_graph_get_main_model (g), ==, m);
  int64_t nt;
  g_assert_cmpint (total_params (g, m, &nt), ==, XCEPTION_TOTAL);
  g_assert_cmpint (nt, ==, XCEPTION_NON_TRAINABLE);

  /* Keras' layer inventory and output */
  g_assert_cmpint (weft_graph_n_layers (g), ==, XCEPTION_LAYERS);
  g_assert_cmpint (count_type (g, "SeparableConv2D"), ==, 34);
  g_assert_cmpint (count_type (g, "BatchNormalization"), ==, 40);
  g_assert_cmpint (count_type (g, "Conv2D"), ==, 6);
  g_assert_cmpint (count_type (g, "Add"), ==, 12);
  g_assert_cmpint (count_type (g, "MaxPooling2D"), ==, 4);
  g_assert_cmpint (count_type (g, "Activation"), ==, 35);
  g_assert_cmpint (weft_graph_model_n_outputs (g, m), ==, 1);
  g_assert_cmpstr (weft_graph_model_output_name (g, m, 0), ==, "block14_sepconv2_act");
  WeftShape s;
  const WeftHead *h = weft_graph_model_output (g, m, 0);
  g_assert_true (weft_graph_node_shape (g, h->node, h->port, &s));
  g_assert_cmpint (s.rank, ==, 3);
  g_assert_cmpint (s.dims[0], ==, 10);
  g_assert_cmpint (s.dims[1], ==, 10);
  g_assert_cmpint (s.dims[2], ==, 2048);

  /* Keras weight layouts of a few layers, named as Keras names them */
  assert_weight_shape (g, "block1_conv1", "kernel", 4, 3, 3, 3, 32);
  assert_weight_shape (g, "block2_sepconv1", "depthwise_kernel", 4, 3, 3, 64, 1);
  assert_weight_shape (g, "block2_sepconv1", "pointwise_kernel", 4, 1, 1, 64, 128);
  assert_weight_shape (g, "conv2d_3", "kernel", 4, 1, 1, 728, 1024);
  assert_weight_shape (g, "block14_sepconv2_bn", "moving_variance", 1, 2048);
  for (int i = 0; i < weft_graph_n_layers (g); i++)
    {
      WeftId l = weft_graph_layer_at (g, i);
      const char *type = weft_graph_layer_op (g, l)->name;
      int p = weft_op_param_index (weft_graph_layer_op (g, l), "use_bias");
      if (strcmp (type, "Conv2D") == 0 || strcmp (type, "SeparableConv2D") == 0)
        g_assert_cmpfloat (weft_graph_layer_config (g, l)[p].num, ==, 0);
    }

  /* model.summary() as Keras prints it */
  char *buf = g_malloc (1 << 20);
  weft_graph_summary (g, m, buf, 1 << 20);
  g_assert_nonnull (strstr (buf, "Model: \"xception\""));
  g_assert_nonnull (strstr (buf, "Total params: 20,861,480"));
  g_assert_nonnull (strstr (buf, "Trainable params: 20,806,952"));
  g_assert_nonnull (strstr (buf, "Non-trainable params: 54,528"));
  g_assert_nonnull (strstr (buf, " block1_conv1 (Conv2D)"));
  g_assert_nonnull (strstr (buf, "(None, 149, 149, 32)"));
  g_assert_nonnull (strstr (buf, " block2_sepconv1 (SeparableConv2D)"));
  g_assert_nonnull (strstr (buf, " block13_pool (MaxPooling2D)"));
  g_assert_nonnull (strstr (buf, " add_11 (Add)"));
  g_assert_nonnull (strstr (buf, "(None, 10, 10, 2048)"));
  g_free (buf);
  weft_graph_free (g);
}

static bool
set_padding_same (WeftGraph *g, WeftId l)
{
  const WeftOpDesc *op = weft_graph_layer_op (g, l);
  int p = weft_op_param_index (op, "padding");
  if (p < 0)
    return false;
  WeftValue v = { .num = 1 };
  g_assert_cmpstr (op->params[p].choices[1], ==, "same");
  WeftError e = { 0 };
  g_assert_true (weft_graph_layer_set_param (g, l, "padding", &v, &e));
  return true;
}

static void
test_inception_valid_explains_itself (void)
{
  WeftFileMeta meta = { 0 };
  WeftGraph *g = load ("examples", "inception-valid.weft", &meta);
  g_assert_nonnull (strstr (meta.description, "padding='same'"));
  weft_file_meta_clear (&meta);

  WeftError e = { 0 };
  g_assert_false (weft_graph_validate (g, &e));
  g_assert_cmpint (e.code, ==, WEFT_ERROR_SHAPE);

  /* the one error sits on the Concatenate node, names it, lists the four branches' shapes
   * in order and says what to do */
  WeftId concat = layer (g, "output");
  g_assert_cmpstr (weft_graph_layer_op (g, concat)->name, ==, "Concatenate");
  g_assert_cmpint (weft_graph_callee_n_nodes (g, concat), ==, 1);
  WeftId node = weft_graph_callee_node_at (g, concat, 0);
  g_assert_cmpint (weft_graph_node_n_inputs (g, node), ==, 4);
  int n;
  const WeftDiagnostic *d = weft_graph_diagnostics (g, &n);
  int errors = 0;
  for (int i = 0; i < n; i++)
    errors += d[i].code != WEFT_OK;
  g_assert_cmpint (errors, ==, 1);
  const WeftDiagnostic *diag = weft_graph_node_diagnostic (g, node);
  g_assert_nonnull (diag);
  g_assert_cmpint (diag->code, ==, WEFT_ERROR_SHAPE);
  g_assert_cmpint (diag->node, ==, node);
  g_test_message ("%s", diag->message);
  g_assert_true (g_str_has_prefix (diag->message, "output"));
  const char *m = diag->message;
  const char *a = strstr (m, "(None, 8, 8, 128)");
  const char *b = strstr (m, "(None, 7, 7, 128)");
  const char *c = strstr (m, "(None, 5, 5, 128)");
  const char *dd = strstr (m, "(None, 6, 6, 128)");
  g_assert_true (a != NULL && b != NULL && c != NULL && dd != NULL);
  g_assert_true (a < b && b < c && c < dd);
  g_assert_nonnull (strstr (m, "padding='same'"));
  g_assert_cmpstr (strstr (e.message, "padding='same'"), !=, NULL);

  /* the teacher's fix: padding='same' everywhere builds, 4 x 128 channels at 8x8 */
  int fixed = 0;
  for (int i = 0; i < weft_graph_n_layers (g); i++)
    fixed += set_padding_same (g, weft_graph_layer_at (g, i));
  g_assert_cmpint (fixed, ==, 8);   /* seven convolutions and the pooling */
  g_assert_true (weft_graph_validate (g, &e));
  WeftShape s;
  g_assert_true (weft_graph_node_shape (g, node, 0, &s));
  g_assert_cmpint (s.dims[0], ==, 8);
  g_assert_cmpint (s.dims[1], ==, 8);
  g_assert_cmpint (s.dims[2], ==, 512);
  weft_graph_free (g);
}

static void
test_inception_same_builds (void)
{
  WeftGraph *g = load ("examples", "inception-same.weft", NULL);
  WeftError e = { 0 };
  g_assert_true (weft_graph_validate (g, &e));
  WeftId node = weft_graph_callee_node_at (g, layer (g, "output"), 0);
  g_assert_cmpint (weft_graph_node_n_inputs (g, node), ==, 4);
  for (int p = 0; p < 4; p++)
    {
      WeftId src;
      int port;
      WeftShape s;
      g_assert_true (weft_graph_node_input (g, node, p, &src, &port));
      g_assert_true (weft_graph_node_shape (g, src, port, &s));
      g_assert_cmpint (s.dims[0], ==, 8);
      g_assert_cmpint (s.dims[1], ==, 8);
    }
  weft_graph_free (g);
}

static void
test_siamese_lstm_shares_one_layer (void)
{
  WeftGraph *g = load ("examples", "siamese-lstm.weft", NULL);
  WeftError e = { 0 };
  g_assert_true (weft_graph_validate (g, &e));
  WeftId m = weft_graph_get_main_model (g);
  WeftId lstm = layer (g, "lstm");
  g_assert_cmpstr (weft_graph_layer_op (g, lstm)->name, ==, "LSTM");
  g_assert_cmpint (count_type (g, "LSTM"), ==, 1);
  /* one layer, two calls, one on each input */
  g_assert_cmpint (weft_graph_callee_n_nodes (g, lstm), ==, 2);
  for (int i = 0; i < 2; i++)
    {
      WeftId src;
      g_assert_true (weft_graph_node_input (g, weft_graph_callee_node_at (g, lstm, i), 0,
                                            &src, NULL));
      g_assert_cmpint (src, ==, weft_graph_model_input (g, m, i));
    }
  /* its weights exist once: LSTM(16) on 16 features is 4*16*(16+16+1) = 2112 */
  int64_t lstm_params = total_params (g, lstm, NULL);
  g_assert_cmpint (lstm_params, ==, 2112);
  int64_t sum = 0;
  for (int i = 0; i < weft_graph_n_layers (g); i++)
    sum += total_params (g, weft_graph_layer_at (g, i), NULL);
  g_assert_cmpint (total_params (g, m, NULL), ==, sum);
  g_assert_cmpint (sum, ==, 2112 + (32 * 16 + 16) + (16 + 1));
  weft_graph_free (g);
}

static void
test_dual_camera_calls_its_base_twice (void)
{
  WeftFileMeta meta = { 0 };
  WeftGraph *g = load ("examples", "dual-camera-vision.weft", &meta);
  g_assert_nonnull (strstr (meta.description, "xception.weft"));
  weft_file_meta_clear (&meta);
  WeftError e = { 0 };
  g_assert_true (weft_graph_validate (g, &e));
  WeftId m = weft_graph_get_main_model (g);
  WeftId base = layer (g, "vision_base");
  g_assert_cmpint (weft_graph_kind (g, base), ==, WEFT_KIND_MODEL);
  g_assert_cmpint (weft_graph_callee_n_nodes (g, base), ==, 2);
  for (int i = 0; i < 2; i++)
    {
      WeftId node = weft_graph_callee_node_at (g, base, i), src;
      g_assert_cmpint (weft_graph_node_model (g, node), ==, m);
      g_assert_true (weft_graph_node_input (g, node, 0, &src, NULL));
      g_assert_cmpint (src, ==, weft_graph_model_input (g, m, i));
    }
  /* the base's weights count once in the whole model */
  int64_t base_params = total_params (g, base, NULL);
  g_assert_cmpint (base_params, ==, (3 * 3 * 3 * 8 + 8) + (3 * 3 * 8 * 16 + 16));
  int64_t sum = 0;
  for (int i = 0; i < weft_graph_n_layers (g); i++)
    sum += total_params (g, weft_graph_layer_at (g, i), NULL);
  g_assert_cmpint (total_params (g, m, NULL), ==, sum);
  /* the two views' feature maps are joined on the channels */
  WeftShape s;
  WeftId concat = weft_graph_callee_node_at (g, layer (g, "merged_features"), 0);
  g_assert_true (weft_graph_node_shape (g, concat, 0, &s));
  g_assert_cmpint (s.rank, ==, 3);
  g_assert_cmpint (s.dims[2], ==, 32);
  weft_graph_free (g);
}

static void
test_question_answering_reads_two_texts (void)
{
  WeftGraph *g = load ("examples", "question-answering.weft", NULL);
  WeftError e = { 0 };
  g_assert_true (weft_graph_validate (g, &e));
  WeftId m = weft_graph_get_main_model (g);
  g_assert_cmpint (weft_graph_model_n_inputs (g, m), ==, 2);
  for (int i = 0; i < 2; i++)
    {
      WeftId in = weft_graph_node_callee (g, weft_graph_model_input (g, m, i));
      int p = weft_op_param_index (weft_graph_layer_op (g, in), "dtype");
      g_assert_cmpfloat (weft_graph_layer_config (g, in)[p].num, ==, 1);   /* int32 */
    }
  g_assert_cmpint (count_type (g, "Embedding"), ==, 2);
  g_assert_cmpint (count_type (g, "LSTM"), ==, 2);

  /* the synthetic answers need both inputs: for every answer, one text word and one
   * question word are always there (the answer word, the word asking for its attribute),
   * yet neither decides the answer alone: about a third of the texts holding the word and
   * a quarter of the questions holding theirs have that answer */
  WeftDataset *d = weft_synthetic_make ("qa-facts", g, QA_SAMPLES, 7, &e);
  g_assert_nonnull (d);
  const WeftArray *in[2], *answer;
  for (int i = 0; i < 2; i++)
    {
      in[i] = weft_dataset_find (d, weft_graph_model_input_name (g, m, i));
      g_assert_nonnull (in[i]);
    }
  answer = weft_dataset_find (d, weft_graph_model_output_name (g, m, 0));
  g_assert_nonnull (answer);
  int classes = answer->shape.dims[0];
  int *cls = g_new (int, QA_SAMPLES);
  guint64 *words[2] = { g_new (guint64, QA_SAMPLES), g_new (guint64, QA_SAMPLES) };
  for (int r = 0; r < QA_SAMPLES; r++)
    {
      cls[r] = -1;
      for (int k = 0; k < classes; k++)
        if (answer->data[r * classes + k] == 1.0f)
          cls[r] = k;
      g_assert_cmpint (cls[r], >=, 0);
      for (int i = 0; i < 2; i++)
        {
          int len = in[i]->shape.dims[0];
          words[i][r] = 0;
          for (int t = 0; t < len; t++)
            {
              int id = (int) in[i]->data[r * len + t];
              g_assert_cmpint (id, >=, 0);
              g_assert_cmpint (id, <, 64);
              words[i][r] |= G_GUINT64_CONSTANT (1) << id;
            }
        }
    }
  for (int k = 0; k < classes; k++)
    for (int i = 0; i < 2; i++)
      {
        guint64 always = ~G_GUINT64_CONSTANT (0);
        int n_k = 0;
        for (int r = 0; r < QA_SAMPLES; r++)
          if (cls[r] == k)
            {
              always &= words[i][r];
              n_k++;
            }
        g_assert_cmpint (n_k, >, 0);
        g_assert_cmpint (always, !=, 0);
        int word = __builtin_ctzll (always), with_word = 0;
        for (int r = 0; r < QA_SAMPLES; r++)
          with_word += (words[i][r] >> word) & 1;
        double share = (double) n_k / with_word;
        g_assert_cmpfloat (share, <, QA_MAX_SHARE);
      }
  g_free (cls);
  g_free (words[0]);
  g_free (words[1]);
  weft_dataset_free (d);
  weft_graph_free (g);
}

static void
test_social_media_weights_its_heads (void)
{
  WeftGraph *g = load ("examples", "social-media.weft", NULL);
  WeftError e = { 0 };
  g_assert_true (weft_graph_validate (g, &e));
  WeftId m = weft_graph_get_main_model (g);
  static const struct { const char *name; WeftLoss loss; float weight; } heads[] = {
    { "age", WEFT_LOSS_MSE, 0.25f },
    { "income", WEFT_LOSS_CATEGORICAL_CROSSENTROPY, 1.0f },
    { "gender", WEFT_LOSS_BINARY_CROSSENTROPY, 10.0f },
  };
  g_assert_cmpint (weft_graph_model_n_outputs (g, m), ==, 3);
  for (int j = 0; j < 3; j++)
    {
      const WeftHead *h = weft_graph_model_output (g, m, j);
      g_assert_cmpstr (weft_graph_model_output_name (g, m, j), ==, heads[j].name);
      g_assert_cmpint (h->loss, ==, heads[j].loss);
      g_assert_cmpfloat (h->weight, ==, heads[j].weight);
    }
  g_assert_cmpint (count_type (g, "Conv1D"), >=, 2);
  g_assert_cmpint (count_type (g, "MaxPooling1D"), ==, 1);
  g_assert_cmpint (count_type (g, "GlobalMaxPooling1D"), ==, 1);
  weft_graph_free (g);
}

static void
test_residual_block_adds_equal_shapes (void)
{
  WeftGraph *g = load ("examples", "residual-block.weft", NULL);
  WeftError e = { 0 };
  g_assert_true (weft_graph_validate (g, &e));
  WeftId add = weft_graph_callee_node_at (g, layer (g, "residual"), 0);
  WeftShape s[2];
  for (int p = 0; p < 2; p++)
    {
      WeftId src;
      int port;
      g_assert_true (weft_graph_node_input (g, add, p, &src, &port));
      g_assert_true (weft_graph_node_shape (g, src, port, &s[p]));
    }
  g_assert_true (weft_shape_equal (&s[0], &s[1]));
  /* the skip starts at x and bypasses the three convolutions */
  WeftId src;
  g_assert_true (weft_graph_node_input (g, add, 1, &src, NULL));
  g_assert_cmpint (weft_graph_node_callee (g, src), ==, layer (g, "x"));
  weft_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/lessons/xception/parameter-count-matches-keras",
                   test_xception_parameter_count);
  g_test_add_func ("/io/lessons/inception-valid/error-names-concatenate-shapes-and-fix",
                   test_inception_valid_explains_itself);
  g_test_add_func ("/io/lessons/inception-same/branches-agree-on-8x8",
                   test_inception_same_builds);
  g_test_add_func ("/io/lessons/siamese-lstm/one-layer-two-calls-weights-once",
                   test_siamese_lstm_shares_one_layer);
  g_test_add_func ("/io/lessons/dual-camera/base-model-called-twice-weights-once",
                   test_dual_camera_calls_its_base_twice);
  g_test_add_func ("/io/lessons/question-answering/answer-needs-both-int-inputs",
                   test_question_answering_reads_two_texts);
  g_test_add_func ("/io/lessons/social-media/heads-weighted-0.25-1-10",
                   test_social_media_weights_its_heads);
  g_test_add_func ("/io/lessons/residual-block/skip-adds-equal-shapes",
                   test_residual_block_adds_equal_shapes);
  return g_test_run ();
}
