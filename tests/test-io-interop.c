/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Interop against real peers: ONNX Runtime (onnxruntime-node) and the ONNX checker
 * (python3-onnx), TensorFlow.js 4.22, PyTorch (python3-torch). The peers are required: a
 * missing peer fails the test with the command to install it. */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "weft-file.h"
#include "weft-graph.h"
#include "weft-keras-export.h"
#include "weft-keras-import.h"
#include "weft-npy.h"
#include "weft-onnx-export.h"
#include "weft-torch-export.h"
#include "weft-train.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftGraph, weft_graph_free)

#define PREDICT_ATOL 1e-5   /* peers' predictions vs weft_predict */
#define LOSS_RTOL    1e-5   /* PyTorch first-step loss vs Weft's */
#define N_SAMPLES    7

static char *source_dir;

static const char *
python (void)
{
  const char *p = g_getenv ("WEFT_PYTHON");
  return p != NULL ? p : "/usr/bin/python3";
}

static char *
src_path (const char *first, ...)
{
  va_list ap;
  va_start (ap, first);
  GString *s = g_string_new (source_dir);
  for (const char *p = first; p != NULL; p = va_arg (ap, const char *))
    {
      g_string_append_c (s, G_DIR_SEPARATOR);
      g_string_append (s, p);
    }
  va_end (ap);
  return g_string_free (s, FALSE);
}

/* Runs argv; the test fails (with the peer's stderr) unless it exits 0. */
static void
run_ok (const char *const *argv)
{
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  GError *error = NULL;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_autofree char *cmd = g_strjoinv (" ", (char **) argv);
      g_test_message ("command failed: %s\n%s%s", cmd, out ? out : "", err ? err : "");
      g_test_fail_printf ("%s failed: %s", argv[0], err ? err : "");
    }
  else if (out && *out)
    g_test_message ("%s", out);
}

static char *
tmp_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("weft-interop-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static void
rm_rf (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  if (d != NULL)
    {
      const char *name;
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
      g_dir_close (d);
    }
  g_remove (path);
}

/* ---- inputs and outputs ---- */

static int
max_token (WeftGraph *graph)
{
  int max = 1000;
  for (int i = 0; i < weft_graph_n_layers (graph); i++)
    {
      WeftId l = weft_graph_layer_at (graph, i);
      const WeftOpDesc *op = weft_graph_layer_op (graph, l);
      int p = weft_op_param_index (op, "input_dim");
      if ((op->flags & WEFT_OP_INT_INPUT) && p >= 0)
        max = MIN (max, (int) weft_graph_layer_config (graph, l)[p].num);
    }
  return max;
}

/* Random inputs for every input of the main model (seeded), as a data set and as JSON. */
static WeftDataset *
make_inputs (WeftGraph *graph, int n, guint32 seed, char **json)
{
  WeftId model = weft_graph_get_main_model (graph);
  WeftDataset *data = weft_dataset_new (n);
  GRand *rand = g_rand_new_with_seed (seed);
  GString *s = g_string_new ("{\"inputs\": [");
  int tokens = max_token (graph);
  for (int i = 0; i < weft_graph_model_n_inputs (graph, model); i++)
    {
      WeftId node = weft_graph_model_input (graph, model, i);
      WeftId layer = weft_graph_node_callee (graph, node);
      const WeftOpDesc *op = weft_graph_layer_op (graph, layer);
      gboolean is_int = weft_graph_layer_config (graph, layer)[weft_op_param_index (op, "dtype")]
                          .num == 1;
      WeftShape shape;
      g_assert_true (weft_graph_node_shape (graph, node, 0, &shape));
      const char *name = weft_graph_model_input_name (graph, model, i);
      float *x = weft_dataset_add (data, name, &shape, NULL);
      g_assert_nonnull (x);
      gint64 count = (gint64) n * weft_shape_size (&shape);
      g_string_append_printf (s, "%s{\"name\": \"%s\", \"dtype\": \"%s\", \"shape\": [%d", i ? ", " : "",
                              name, is_int ? "int32" : "float32", n);
      for (int d = 0; d < shape.rank; d++)
        g_string_append_printf (s, ", %d", shape.dims[d]);
      g_string_append (s, "], \"data\": [");
      for (gint64 k = 0; k < count; k++)
        {
          x[k] = is_int ? (float) g_rand_int_range (rand, 0, tokens)
                        : (float) g_rand_double_range (rand, -1.0, 1.0);
          g_string_append_printf (s, "%s%.9g", k ? "," : "", x[k]);
        }
      g_string_append (s, "]}");
    }
  g_string_append (s, "]}");
  g_rand_free (rand);
  *json = g_string_free (s, FALSE);
  return data;
}

/* Weft's predictions, one malloc'ed array per head. */
static float **
weft_outputs (WeftGraph *graph, WeftDataset *data, int n)
{
  WeftId model = weft_graph_get_main_model (graph);
  int n_out = weft_graph_model_n_outputs (graph, model);
  float **outs = g_new0 (float *, n_out + 1);
  for (int j = 0; j < n_out; j++)
    {
      const WeftHead *h = weft_graph_model_output (graph, model, j);
      WeftShape s;
      g_assert_true (weft_graph_node_shape (graph, h->node, h->port, &s));
      outs[j] = g_new0 (float, (gsize) n * weft_shape_size (&s));
    }
  WeftError err = { 0 };
  if (!weft_predict (graph, data, outs, 1, &err))
    g_error ("weft_predict: %s", err.message);
  return outs;
}

/* Compares a peer's outputs file with Weft's predictions; returns the largest difference. */
static double
compare_outputs (WeftGraph *graph, const char *path, float **expected, int n)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  GError *error = NULL;
  json_parser_load_from_file (p, path, &error);
  g_assert_no_error (error);
  JsonArray *outs = json_object_get_array_member (json_node_get_object (json_parser_get_root (p)),
                                                  "outputs");
  WeftId model = weft_graph_get_main_model (graph);
  int n_out = weft_graph_model_n_outputs (graph, model);
  g_assert_cmpint ((int) json_array_get_length (outs), ==, n_out);
  double worst = 0;
  for (int j = 0; j < n_out; j++)
    {
      JsonObject *o = json_array_get_object_element (outs, j);
      const WeftHead *h = weft_graph_model_output (graph, model, j);
      WeftShape s;
      weft_graph_node_shape (graph, h->node, h->port, &s);
      JsonArray *data = json_object_get_array_member (o, "data");
      gint64 count = (gint64) n * weft_shape_size (&s);
      g_assert_cmpint ((gint64) json_array_get_length (data), ==, count);
      for (gint64 k = 0; k < count; k++)
        {
          double d = fabs (json_array_get_double_element (data, (guint) k) - expected[j][k]);
          if (!(d <= worst))
            worst = isnan (d) ? INFINITY : d;
        }
    }
  return worst;
}

static void
free_outputs (float **outs)
{
  for (int j = 0; outs[j] != NULL; j++)
    g_free (outs[j]);
  g_free (outs);
}

static WeftGraph *
load_example (const char *path)
{
  GError *error = NULL;
  WeftGraph *graph = weft_file_load (path, NULL, &error);
  g_assert_no_error (error);
  weft_graph_init_weights (graph, 7);
  return graph;
}

/* The lesson's invalid example (inception with padding='valid') must be refused with the
 * validation message, not exported. Returns TRUE when the graph is such an example. */
static gboolean
refused_as_invalid (WeftGraph *graph, gboolean ok, GError *error)
{
  WeftError werr = { 0 };
  if (weft_graph_validate (graph, &werr))
    return FALSE;
  g_assert_false (ok);
  g_assert_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, werr.message));
  g_test_message ("invalid graph refused: %s", error->message);
  return TRUE;
}

static void
need_node_modules (const char *package)
{
  g_autofree char *dir = src_path ("tests", "tfjs", "node_modules", package, NULL);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    g_error ("%s is missing: run 'npm ci --prefix tests/tfjs' (with "
             "ONNXRUNTIME_NODE_INSTALL=skip) in the source tree", dir);
}

/* ---- ONNX: every example, checker + onnxruntime ---- */

static void
test_onnx_example (gconstpointer user_data)
{
  const char *path = user_data;
  need_node_modules ("onnxruntime-node");
  g_autoptr (WeftGraph) graph = load_example (path);
  g_autofree char *dir = tmp_dir ();
  g_autofree char *model = g_build_filename (dir, "model.onnx", NULL);
  g_autofree char *in_json = g_build_filename (dir, "inputs.json", NULL);
  g_autofree char *out_json = g_build_filename (dir, "outputs.json", NULL);
  GError *error = NULL;

  gboolean ok = weft_onnx_export (graph, model, &error);
  if (refused_as_invalid (graph, ok, error))
    {
      g_error_free (error);
      rm_rf (dir);
      return;
    }
  g_assert_no_error (error);
  g_autofree char *json = NULL;
  WeftDataset *data = make_inputs (graph, N_SAMPLES, 11, &json);
  g_file_set_contents (in_json, json, -1, &error);
  g_assert_no_error (error);
  float **expected = weft_outputs (graph, data, N_SAMPLES);

  g_autofree char *checker = src_path ("tests", "interop", "onnx-check.py", NULL);
  const char *check_argv[] = { python (), checker, model, NULL };
  run_ok (check_argv);
  g_autofree char *runner = src_path ("tests", "interop", "onnx-run.mjs", NULL);
  const char *run_argv[] = { "node", runner, model, in_json, out_json, NULL };
  run_ok (run_argv);
  if (!g_test_failed ())
    {
      double diff = compare_outputs (graph, out_json, expected, N_SAMPLES);
      g_test_message ("%s: onnxruntime vs weft_predict max |diff| = %.3g", path, diff);
      g_assert_cmpfloat (diff, <=, PREDICT_ATOL);
    }
  free_outputs (expected);
  weft_dataset_free (data);
  rm_rf (dir);
}

/* ---- TensorFlow.js: every example that tfjs can express ---- */

static void
test_tfjs_example (gconstpointer user_data)
{
  const char *path = user_data;
  need_node_modules ("@tensorflow/tfjs");
  g_autoptr (WeftGraph) graph = load_example (path);
  g_autofree char *dir = tmp_dir ();
  g_autofree char *model_dir = g_build_filename (dir, "tfjs", NULL);
  g_autofree char *in_json = g_build_filename (dir, "inputs.json", NULL);
  g_autofree char *out_json = g_build_filename (dir, "outputs.json", NULL);
  GError *error = NULL;

  gboolean ok = weft_tfjs_export (graph, model_dir, &error);
  if (refused_as_invalid (graph, ok, error))
    {
      g_error_free (error);
      rm_rf (dir);
      return;
    }
  if (!ok)
    {
      /* only layers tfjs 4.22 lacks may be refused, and the message must name them */
      g_assert_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, "TensorFlow.js 4.22 has no"));
      g_test_message ("%s: refused as expected: %s", path, error->message);
      g_error_free (error);
      rm_rf (dir);
      return;
    }
  g_autofree char *json = NULL;
  WeftDataset *data = make_inputs (graph, N_SAMPLES, 12, &json);
  g_file_set_contents (in_json, json, -1, &error);
  g_assert_no_error (error);
  float **expected = weft_outputs (graph, data, N_SAMPLES);
  g_autofree char *runner = src_path ("tests", "interop", "tfjs-run.mjs", NULL);
  const char *argv[] = { "node", runner, model_dir, in_json, out_json, NULL };
  run_ok (argv);
  if (!g_test_failed ())
    {
      double diff = compare_outputs (graph, out_json, expected, N_SAMPLES);
      g_test_message ("%s: tfjs vs weft_predict max |diff| = %.3g", path, diff);
      g_assert_cmpfloat (diff, <=, PREDICT_ATOL);
    }

  /* and back: the exported folder imports into the same predictions */
  g_autofree char *mj = g_build_filename (model_dir, "model.json", NULL);
  g_autoptr (WeftGraph) back = weft_keras_import_file (mj, &error);
  g_assert_no_error (error);
  float **again = weft_outputs (back, data, N_SAMPLES);
  WeftId model = weft_graph_get_main_model (graph);
  for (int j = 0; j < weft_graph_model_n_outputs (graph, model); j++)
    {
      const WeftHead *h = weft_graph_model_output (graph, model, j);
      WeftShape s;
      weft_graph_node_shape (graph, h->node, h->port, &s);
      for (gint64 k = 0; k < N_SAMPLES * weft_shape_size (&s); k++)
        g_assert_cmpfloat (fabs (again[j][k] - expected[j][k]), <=, PREDICT_ATOL);
    }
  free_outputs (again);
  free_outputs (expected);
  weft_dataset_free (data);
  rm_rf (dir);
}

/* ---- import a model built in TensorFlow.js ---- */

static void
test_import_tfjs_model (void)
{
  need_node_modules ("@tensorflow/tfjs");
  g_autofree char *dir = tmp_dir ();
  g_autofree char *builder = src_path ("tests", "interop", "tfjs-build.mjs", NULL);
  const char *argv[] = { "node", builder, dir, NULL };
  run_ok (argv);
  if (g_test_failed ())
    return;
  GError *error = NULL;
  g_autofree char *mj = g_build_filename (dir, "model.json", NULL);
  g_autoptr (WeftGraph) graph = weft_keras_import_file (mj, &error);
  g_assert_no_error (error);

  /* the structure: shared layer called twice, nested models, three heads, LSTM hard_sigmoid */
  WeftId shared = weft_graph_find (graph, "shared_dense");
  g_assert_cmpint (shared, !=, WEFT_ID_NONE);
  g_assert_cmpint (weft_graph_callee_n_nodes (graph, shared), ==, 2);
  WeftId enc = weft_graph_find (graph, "encoder");
  g_assert_cmpint (weft_graph_kind (graph, enc), ==, WEFT_KIND_MODEL);
  g_assert_cmpint (weft_graph_callee_n_nodes (graph, enc), ==, 2);
  WeftId seq = weft_graph_find (graph, "tower");
  g_assert_cmpint (weft_graph_kind (graph, seq), ==, WEFT_KIND_MODEL);
  WeftId lstm = weft_graph_find (graph, "lstm_hard");
  const WeftOpDesc *op = weft_graph_layer_op (graph, lstm);
  g_assert_cmpstr (op->params[weft_op_param_index (op, "recurrent_activation")]
                     .choices[(int) weft_graph_layer_config (graph, lstm)
                                [weft_op_param_index (op, "recurrent_activation")].num],
                   ==, "hard_sigmoid");
  WeftId model = weft_graph_get_main_model (graph);
  g_assert_cmpint (weft_graph_model_n_inputs (graph, model), ==, 3);
  g_assert_cmpint (weft_graph_model_n_outputs (graph, model), ==, 3);
  /* laid out: no two nodes of the main model at the same place */
  for (int i = 0; i < weft_graph_model_n_nodes (graph, model); i++)
    for (int k = i + 1; k < weft_graph_model_n_nodes (graph, model); k++)
      {
        double x1, y1, x2, y2;
        weft_graph_node_get_position (graph, weft_graph_model_node_at (graph, model, i), &x1, &y1);
        weft_graph_node_get_position (graph, weft_graph_model_node_at (graph, model, k), &x2, &y2);
        g_assert_false (x1 == x2 && y1 == y2);
      }

  /* predictions: tfjs wrote its own on fixed inputs */
  g_autofree char *in_json = g_build_filename (dir, "inputs.json", NULL);
  g_autofree char *out_json = g_build_filename (dir, "outputs.json", NULL);
  g_autoptr (JsonParser) p = json_parser_new ();
  json_parser_load_from_file (p, in_json, &error);
  g_assert_no_error (error);
  JsonArray *ins = json_object_get_array_member (json_node_get_object (json_parser_get_root (p)),
                                                 "inputs");
  int n = (int) json_array_get_int_element (json_object_get_array_member (
                                              json_array_get_object_element (ins, 0), "shape"), 0);
  WeftDataset *data = weft_dataset_new (n);
  for (guint i = 0; i < json_array_get_length (ins); i++)
    {
      JsonObject *o = json_array_get_object_element (ins, i);
      JsonArray *shape = json_object_get_array_member (o, "shape");
      WeftShape s = { .rank = (int) json_array_get_length (shape) - 1 };
      for (int d = 0; d < s.rank; d++)
        s.dims[d] = (int) json_array_get_int_element (shape, d + 1);
      float *x = weft_dataset_add (data, json_object_get_string_member (o, "name"), &s, NULL);
      JsonArray *values = json_object_get_array_member (o, "data");
      for (guint k = 0; k < json_array_get_length (values); k++)
        x[k] = (float) json_array_get_double_element (values, k);
    }
  float **weft = weft_outputs (graph, data, n);
  double diff = compare_outputs (graph, out_json, weft, n);
  g_test_message ("tfjs-built model: weft vs tfjs max |diff| = %.3g", diff);
  g_assert_cmpfloat (diff, <=, PREDICT_ATOL);

  /* the same topology as Keras to_json() text (no weights): imports with the same structure */
  g_autofree char *tj = g_build_filename (dir, "to_json.json", NULL);
  g_autoptr (WeftGraph) topo = weft_keras_import_file (tj, &error);
  g_assert_no_error (error);
  g_assert_cmpint (weft_graph_n_layers (topo), ==, weft_graph_n_layers (graph));
  int64_t t1, n1, t2, n2;
  g_assert_true (weft_graph_count_params (graph, model, &t1, &n1));
  g_assert_true (weft_graph_count_params (topo, weft_graph_get_main_model (topo), &t2, &n2));
  g_assert_cmpint (t1, ==, t2);
  g_assert_cmpint (n1, ==, n2);
  free_outputs (weft);
  weft_dataset_free (data);
  rm_rf (dir);
}

/* ---- Keras 3 to_json text ---- */

static const char keras3_json[] =
  "{\"module\": \"keras\", \"class_name\": \"Functional\", \"config\": {\"name\": \"k3\","
  " \"trainable\": true, \"layers\": ["
  "{\"module\": \"keras.layers\", \"class_name\": \"InputLayer\", \"config\": {\"batch_shape\":"
  " [null, 4], \"dtype\": \"float32\", \"sparse\": false, \"name\": \"x\"}, \"name\": \"x\","
  " \"inbound_nodes\": []},"
  "{\"module\": \"keras.layers\", \"class_name\": \"Dense\", \"config\": {\"name\": \"d\","
  " \"trainable\": true, \"dtype\": {\"module\": \"keras\", \"class_name\": \"DTypePolicy\","
  " \"config\": {\"name\": \"float32\"}}, \"units\": 3, \"activation\": \"%s\", \"use_bias\": true,"
  " \"kernel_initializer\": {\"module\": \"keras.initializers\", \"class_name\": \"GlorotUniform\","
  " \"config\": {\"seed\": null}}, \"kernel_regularizer\": null, \"lora_rank\": null},"
  " \"build_config\": {\"input_shape\": [null, 4]}, \"name\": \"d\", \"inbound_nodes\": [{\"args\":"
  " [{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, 4], \"dtype\": \"float32\","
  " \"keras_history\": [\"x\", 0, 0]}}], \"kwargs\": {}}]},"
  "{\"module\": \"keras.layers\", \"class_name\": \"Add\", \"config\": {\"name\": \"sum\"}, \"name\":"
  " \"sum\", \"inbound_nodes\": [{\"args\": [[{\"class_name\": \"__keras_tensor__\", \"config\":"
  " {\"keras_history\": [\"d\", 0, 0]}}, {\"class_name\": \"__keras_tensor__\", \"config\":"
  " {\"keras_history\": [\"d\", 0, 0]}}]], \"kwargs\": {}}]}],"
  " \"input_layers\": [[\"x\", 0, 0]], \"output_layers\": [[\"sum\", 0, 0]]},"
  " \"registered_name\": \"Functional\"}";

static void
test_import_keras3 (void)
{
  GError *error = NULL;
  g_autofree char *ok = g_strdup_printf (keras3_json, "relu");
  g_autoptr (WeftGraph) graph = weft_keras_import_data (ok, strlen (ok), NULL, &error);
  g_assert_no_error (error);
  WeftId d = weft_graph_find (graph, "d");
  g_assert_cmpint (d, !=, WEFT_ID_NONE);
  WeftId sum = weft_graph_find (graph, "sum");
  WeftId node = weft_graph_callee_node_at (graph, sum, 0);
  g_assert_cmpint (weft_graph_node_n_inputs (graph, node), ==, 2);

  /* Keras 3's hard_sigmoid is not Keras 2's: refused, naming the layer */
  g_autofree char *hs = g_strdup_printf (keras3_json, "hard_sigmoid");
  WeftGraph *bad = weft_keras_import_data (hs, strlen (hs), NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "'d'"));
  g_clear_error (&error);
}

/* ---- hostile and malformed input ---- */

typedef struct
{
  const char *what;
  const char *json;
  int         code;
  const char *needle;   /* must appear in the message */
} BadCase;

#define DENSE_IN "{\"class_name\": \"InputLayer\", \"name\": \"in\", \"config\": {\"name\": \"in\", " \
                 "\"batch_input_shape\": [null, 2]}, \"inbound_nodes\": []}"
#define MODEL(layers, outs) "{\"class_name\": \"Model\", \"config\": {\"name\": \"m\", \"layers\": [" \
                 DENSE_IN layers "], \"input_layers\": [[\"in\", 0, 0]], \"output_layers\": " outs "}}"
#define DENSE(name, src, extra) ", {\"class_name\": \"Dense\", \"name\": \"" name "\", \"config\": " \
                 "{\"name\": \"" name "\", \"units\": 2" extra "}, \"inbound_nodes\": [[[\"" src \
                 "\", 0, 0, {}]]]}"

static const BadCase bad_cases[] = {
  { "not JSON", "{\"class_name\": ", WEFT_INTEROP_ERROR_FORMAT, "JSON" },
  { "not a model", "[1, 2]", WEFT_INTEROP_ERROR_FORMAT, "object" },
  { "top level layer", "{\"class_name\": \"Dense\", \"config\": {}}",
    WEFT_INTEROP_ERROR_UNSUPPORTED, "Dense" },
  { "dangling reference", MODEL (DENSE ("a", "nowhere", ""), "[[\"a\", 0, 0]]"),
    WEFT_INTEROP_ERROR_FORMAT, "nowhere" },
  { "node index out of range", MODEL (DENSE ("a", "in", ""), "[[\"a\", 5, 0]]"),
    WEFT_INTEROP_ERROR_FORMAT, "call 5" },
  { "unknown layer", MODEL (", {\"class_name\": \"Lambda\", \"name\": \"lam\", \"config\": {}, "
                            "\"inbound_nodes\": [[[\"in\", 0, 0, {}]]]}", "[[\"lam\", 0, 0]]"),
    WEFT_INTEROP_ERROR_UNSUPPORTED, "lam" },
  { "unsupported option", MODEL (DENSE ("a", "in", ", \"kernel_regularizer\": {\"l2\": 1}"),
                                 "[[\"a\", 0, 0]]"),
    WEFT_INTEROP_ERROR_UNSUPPORTED, "kernel_regularizer" },
  { "unknown option", MODEL (DENSE ("a", "in", ", \"frobnicate\": 1"), "[[\"a\", 0, 0]]"),
    WEFT_INTEROP_ERROR_UNSUPPORTED, "frobnicate" },
  { "absurd units", MODEL (DENSE ("a", "in", ", \"units\": 1e300"), "[[\"a\", 0, 0]]"),
    WEFT_INTEROP_ERROR_FORMAT, "units" },
  { "wrong type", MODEL (DENSE ("a", "in", ", \"use_bias\": \"yes\""), "[[\"a\", 0, 0]]"),
    WEFT_INTEROP_ERROR_FORMAT, "use_bias" },
  { "unknown activation", MODEL (DENSE ("a", "in", ", \"activation\": \"mish2\""),
                                 "[[\"a\", 0, 0]]"),
    WEFT_INTEROP_ERROR_UNSUPPORTED, "mish2" },
  { "no outputs", MODEL (DENSE ("a", "in", ""), "[]"), WEFT_INTEROP_ERROR_FORMAT, "output" },
  { "None axis", "{\"class_name\": \"Model\", \"config\": {\"name\": \"m\", \"layers\": ["
                 "{\"class_name\": \"InputLayer\", \"name\": \"in\", \"config\": {\"name\": \"in\", "
                 "\"batch_input_shape\": [null, null, 2]}, \"inbound_nodes\": []}], "
                 "\"input_layers\": [[\"in\", 0, 0]], \"output_layers\": [[\"in\", 0, 0]]}}",
    WEFT_INTEROP_ERROR_UNSUPPORTED, "None" },
  { "absurd input", "{\"class_name\": \"Model\", \"config\": {\"name\": \"m\", \"layers\": ["
                    "{\"class_name\": \"InputLayer\", \"name\": \"in\", \"config\": {\"name\": "
                    "\"in\", \"batch_input_shape\": [null, 1e12]}, \"inbound_nodes\": []}], "
                    "\"input_layers\": [[\"in\", 0, 0]], \"output_layers\": [[\"in\", 0, 0]]}}",
    WEFT_INTEROP_ERROR_FORMAT, "axis" },
  { "shard without folder", "{\"format\": \"layers-model\", \"modelTopology\": "
                            MODEL (DENSE ("a", "in", ""), "[[\"a\", 0, 0]]") ", \"weightsManifest\":"
                            " [{\"paths\": [\"w.bin\"], \"weights\": []}]}",
    WEFT_INTEROP_ERROR_FORMAT, "w.bin" },
};

static void
test_import_hostile (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      const BadCase *c = &bad_cases[i];
      GError *error = NULL;
      WeftGraph *g = weft_keras_import_data (c->json, strlen (c->json), NULL, &error);
      g_test_message ("%s: %s", c->what, error ? error->message : "(no error)");
      g_assert_null (g);
      g_assert_error (error, WEFT_INTEROP_ERROR, c->code);
      g_assert_nonnull (strstr (error->message, c->needle));
      g_error_free (error);
    }

  /* deep nesting is refused before json-glib recurses */
  GString *deep = g_string_new (NULL);
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  GError *error = NULL;
  g_assert_null (weft_keras_import_data (deep->str, deep->len, NULL, &error));
  g_assert_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_string_free (deep, TRUE);

  /* models nested in models beyond the limit */
  GString *nest = g_string_new (NULL);
  for (int i = 0; i < 40; i++)
    g_string_append_printf (nest, "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s%d\", "
                            "\"layers\": [", i);
  g_string_append (nest, "{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", \"units\": 1, "
                   "\"batch_input_shape\": [null, 1]}}");
  for (int i = 0; i < 40; i++)
    g_string_append (nest, "]}}");
  g_assert_null (weft_keras_import_data (nest->str, nest->len, NULL, &error));
  g_assert_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_string_free (nest, TRUE);
}

/* Shards that do not match the manifest, shapes that do not fit, names that match nothing. */
static void
test_import_bad_weights (void)
{
  static const char topo[] = MODEL (DENSE ("a", "in", ""), "[[\"a\", 0, 0]]");
  struct
  {
    const char *weights;
    gsize       shard_bytes;
    const char *path;
    int         code;
    const char *needle;
  } cases[] = {
    { "{\"name\": \"a/kernel\", \"shape\": [2, 2], \"dtype\": \"float32\"}, {\"name\": \"a/bias\","
      " \"shape\": [2], \"dtype\": \"float32\"}", 20, "w.bin", WEFT_INTEROP_ERROR_MISMATCH,
      "24" },
    { "{\"name\": \"a/kernel\", \"shape\": [2, 2], \"dtype\": \"float32\"}, {\"name\": \"a/bias\","
      " \"shape\": [2], \"dtype\": \"float32\"}", 28, "w.bin", WEFT_INTEROP_ERROR_MISMATCH,
      "more bytes" },
    { "{\"name\": \"a/kernel\", \"shape\": [2, 3], \"dtype\": \"float32\"}, {\"name\": \"a/bias\","
      " \"shape\": [2], \"dtype\": \"float32\"}", 32, "w.bin", WEFT_INTEROP_ERROR_MISMATCH,
      "[2, 3]" },
    { "{\"name\": \"a/kernel\", \"shape\": [2, 2], \"dtype\": \"float32\"}", 16, "w.bin",
      WEFT_INTEROP_ERROR_MISMATCH, "a/bias" },
    { "{\"name\": \"a/kernel\", \"shape\": [2, 2], \"dtype\": \"float32\"}, {\"name\": \"a/bias\","
      " \"shape\": [2], \"dtype\": \"float32\"}, {\"name\": \"zzz/kernel\", \"shape\": [1],"
      " \"dtype\": \"float32\"}", 28, "w.bin", WEFT_INTEROP_ERROR_MISMATCH, "zzz/kernel" },
    { "{\"name\": \"a/kernel\", \"shape\": [2147483647, 2147483647], \"dtype\": \"float32\"}", 16,
      "w.bin", WEFT_INTEROP_ERROR_TOO_LARGE, "a/kernel" },
    { "{\"name\": \"a/kernel\", \"shape\": [2, 2], \"dtype\": \"float32\"}", 16,
      "../w.bin", WEFT_INTEROP_ERROR_FORMAT, "../w.bin" },
    { "{\"name\": \"a/kernel\", \"shape\": [2, 2], \"dtype\": \"int8\"}", 16,
      "w.bin", WEFT_INTEROP_ERROR_UNSUPPORTED, "int8" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dir = tmp_dir ();
      g_autofree char *shard = g_build_filename (dir, "w.bin", NULL);
      g_autofree guint8 *bytes = g_malloc0 (cases[i].shard_bytes);
      g_assert_true (g_file_set_contents (shard, (char *) bytes, cases[i].shard_bytes, NULL));
      g_autofree char *json = g_strdup_printf ("{\"format\": \"layers-model\", \"modelTopology\": "
                                               "%s, \"weightsManifest\": [{\"paths\": [\"%s\"], "
                                               "\"weights\": [%s]}]}", topo, cases[i].path,
                                               cases[i].weights);
      GError *error = NULL;
      WeftGraph *g = weft_keras_import_data (json, strlen (json), dir, &error);
      g_test_message ("weights case %zu: %s", i, error ? error->message : "(no error)");
      g_assert_null (g);
      g_assert_error (error, WEFT_INTEROP_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].needle));
      g_error_free (error);
      rm_rf (dir);
    }
}

/* ---- Keras Python code ---- */

static void
test_keras_code (void)
{
  g_autofree char *path = src_path ("resources", "examples", "dual-camera.weft", NULL);
  g_autoptr (WeftGraph) graph = load_example (path);
  WeftId enc = weft_graph_find (graph, "camera_encoder");
  WeftId main_model = weft_graph_get_main_model (graph);
  WeftId second = weft_graph_callee_node_at (graph, enc, 1);
  int first = 0, last = 0;
  g_autofree char *code = weft_keras_code (graph, second, &first, &last);
  g_test_message ("%s", code);
  g_assert_nonnull (strstr (code, "camera_encoder = keras.Model("));
  g_assert_nonnull (strstr (code, "camera_encoder_1 = camera_encoder(left_camera)"));
  g_assert_nonnull (strstr (code, "camera_encoder_2 = camera_encoder(right_camera)"));
  g_assert_nonnull (strstr (code, "loss_weights={\"reading\": 1}"));
  g_assert_cmpint (first, >, 0);
  g_assert_cmpint (first, ==, last);
  g_auto (GStrv) lines = g_strsplit (code, "\n", -1);
  g_assert_nonnull (strstr (lines[first - 1], "camera_encoder_2 = camera_encoder(right_camera)"));
  (void) main_model;

  /* a shared layer is one instance called twice */
  g_autofree char *sp = src_path ("resources", "examples", "siamese.weft", NULL);
  g_autoptr (WeftGraph) siamese = load_example (sp);
  g_autofree char *scode = weft_keras_code (siamese, WEFT_ID_NONE, NULL, NULL);
  g_test_message ("%s", scode);
  g_assert_nonnull (strstr (scode, "# shared: called 2 times"));

  /* the code runs in Python when Keras is there; without it, it must at least compile */
  g_autofree char *dir = tmp_dir ();
  g_autofree char *py = g_build_filename (dir, "model.py", NULL);
  GError *error = NULL;
  weft_keras_code_export (siamese, py, &error);
  g_assert_no_error (error);
  const char *argv[] = { python (), "-m", "py_compile", py, NULL };
  run_ok (argv);
  rm_rf (dir);
}

/* ---- PyTorch ---- */

static bool
record_first_step (const WeftStepReport *r, void *user_data)
{
  struct { double *loss; gboolean *got; } *st = user_data;
  if (!*st->got)
    {
      *st->loss = r->total;
      *st->got = TRUE;
    }
  return true;
}

static void
test_torch_example (gconstpointer user_data)
{
  const char *path = user_data;
  g_autoptr (WeftGraph) graph = load_example (path);
  g_autofree char *dir = tmp_dir ();
  GError *error = NULL;
  gboolean ok = weft_torch_export (graph, dir, &error);
  if (refused_as_invalid (graph, ok, error))
    {
      g_error_free (error);
      rm_rf (dir);
      return;
    }
  g_assert_no_error (error);

  /* one batch: Weft's first-step loss (from the forward pass before the update) */
  WeftTrainConfig tc = *weft_graph_get_train_config (graph);
  tc.epochs = 1;
  tc.shuffle = false;
  tc.validation_split = 0;
  tc.batch_size = 16;
  weft_graph_set_train_config (graph, &tc);
  WeftId model = weft_graph_get_main_model (graph);
  g_autofree char *json = NULL;
  WeftDataset *data = make_inputs (graph, 32, 5, &json);
  GRand *rand = g_rand_new_with_seed (9);
  for (int j = 0; j < weft_graph_model_n_outputs (graph, model); j++)
    {
      const WeftHead *h = weft_graph_model_output (graph, model, j);
      WeftShape s;
      weft_graph_node_shape (graph, h->node, h->port, &s);
      int classes = s.dims[s.rank - 1];
      WeftShape ts = s;
      if (h->loss == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
        ts.rank = s.rank - 1 > 0 ? s.rank - 1 : 1, ts.dims[0] = s.rank - 1 > 0 ? s.dims[0] : 1;
      float *t = weft_dataset_add (data, weft_graph_model_output_name (graph, model, j), &ts, NULL);
      g_assert_nonnull (t);
      gint64 count = 32 * weft_shape_size (&ts);
      for (gint64 k = 0; k < count; k++)
        {
          switch (h->loss)
            {
            case WEFT_LOSS_BINARY_CROSSENTROPY:
              t[k] = (float) g_rand_int_range (rand, 0, 2);
              break;
            case WEFT_LOSS_CATEGORICAL_CROSSENTROPY:
              t[k] = (k % classes) == 0 ? 1.0f : 0.0f;
              break;
            case WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
              t[k] = (float) g_rand_int_range (rand, 0, classes);
              break;
            default:
              t[k] = (float) g_rand_double_range (rand, -1, 1);
            }
        }
    }
  g_rand_free (rand);
  /* the data set as .npy files for the script */
  for (int a = 0; a < weft_dataset_n_arrays (data); a++)
    {
      const WeftArray *arr = weft_dataset_array (data, a);
      g_autofree char *name = g_strdup_printf ("%s.npy", arr->name);
      g_autofree char *npy = g_build_filename (dir, "data", name, NULL);
      g_autofree char *ddir = g_build_filename (dir, "data", NULL);
      g_mkdir_with_parents (ddir, 0755);
      int64_t dims[WEFT_MAX_RANK + 1] = { 32 };
      for (int d = 0; d < arr->shape.rank; d++)
        dims[d + 1] = arr->shape.dims[d];
      weft_npy_write (npy, arr->data, arr->shape.rank + 1, dims, &error);
      g_assert_no_error (error);
    }
  WeftError werr = { 0 };
  WeftTrainer *trainer = weft_trainer_new (graph, &tc, &werr);
  g_assert_nonnull (trainer);
  double first_loss = NAN;
  gboolean got = FALSE;
  WeftTrainCallbacks cb = { 0 };
  struct { double *loss; gboolean *got; } st = { &first_loss, &got };
  cb.user_data = &st;
  cb.on_step = record_first_step;
  g_assert_true (weft_trainer_fit (trainer, data, &cb, &werr));
  weft_trainer_free (trainer);

  g_autofree char *script = g_build_filename (dir, "train.py", NULL);
  g_autofree char *ddir = g_build_filename (dir, "data", NULL);
  g_autofree char *report = g_build_filename (dir, "report.json", NULL);
  const char *argv[] = { python (), script, "--data", ddir, "--epochs", "1", "--batch-size", "16",
                         "--no-shuffle", "--report", report, NULL };
  run_ok (argv);
  if (!g_test_failed ())
    {
      g_autoptr (JsonParser) p = json_parser_new ();
      json_parser_load_from_file (p, report, &error);
      g_assert_no_error (error);
      double torch_loss = json_object_get_double_member (
        json_node_get_object (json_parser_get_root (p)), "first_step_loss");
      double rel = fabs (torch_loss - first_loss) / MAX (fabs (first_loss), 1e-12);
      g_test_message ("%s: first-step loss weft %.8g torch %.8g rel diff %.3g", path, first_loss,
                      torch_loss, rel);
      g_assert_cmpfloat (rel, <=, LOSS_RTOL);
    }
  weft_dataset_free (data);
  rm_rf (dir);
}

/* train.py under DistributedDataParallel: two CPU processes with the environment torchrun
 * sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT), Gloo backend. Debian's torchrun
 * launcher itself fails on Python 3.11, so the test starts the processes the same way it does. */
static void
test_torch_ddp (void)
{
  g_autofree char *path = src_path ("resources", "examples", "three-heads.weft", NULL);
  g_autoptr (WeftGraph) graph = load_example (path);
  g_autofree char *dir = tmp_dir ();
  GError *error = NULL;
  weft_torch_export (graph, dir, &error);
  g_assert_no_error (error);
  g_autofree char *json = NULL;
  WeftDataset *data = make_inputs (graph, 64, 3, &json);
  WeftId model = weft_graph_get_main_model (graph);
  g_autofree char *ddir = g_build_filename (dir, "data", NULL);
  g_mkdir_with_parents (ddir, 0755);
  for (int j = 0; j < weft_graph_model_n_outputs (graph, model); j++)
    {
      const WeftHead *h = weft_graph_model_output (graph, model, j);
      WeftShape s;
      weft_graph_node_shape (graph, h->node, h->port, &s);
      float *t = weft_dataset_add (data, weft_graph_model_output_name (graph, model, j), &s, NULL);
      for (gint64 k = 0; k < 64 * weft_shape_size (&s); k++)
        t[k] = (k % s.dims[0]) == 0 ? 1.0f : 0.0f;
    }
  for (int a = 0; a < weft_dataset_n_arrays (data); a++)
    {
      const WeftArray *arr = weft_dataset_array (data, a);
      g_autofree char *name = g_strdup_printf ("%s.npy", arr->name);
      g_autofree char *npy = g_build_filename (ddir, name, NULL);
      int64_t dims[WEFT_MAX_RANK + 1] = { 64 };
      for (int d = 0; d < arr->shape.rank; d++)
        dims[d + 1] = arr->shape.dims[d];
      weft_npy_write (npy, arr->data, arr->shape.rank + 1, dims, &error);
      g_assert_no_error (error);
    }
  g_autofree char *report = g_build_filename (dir, "report.json", NULL);
  int port = 29000 + g_random_int_range (0, 900);
  g_autofree char *cmd = g_strdup_printf (
    "cd '%s' && for r in 0 1; do MASTER_ADDR=127.0.0.1 MASTER_PORT=%d WORLD_SIZE=2 RANK=$r "
    "LOCAL_RANK=$r LOCAL_WORLD_SIZE=2 '%s' train.py --data data --epochs 2 --report '%s' & "
    "eval p$r=$!; done; wait $p0 && wait $p1", dir, port, python (), report);
  const char *argv[] = { "sh", "-c", cmd, NULL };
  run_ok (argv);
  g_assert_true (g_file_test (report, G_FILE_TEST_EXISTS));
  weft_dataset_free (data);
  rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *src = g_getenv ("WEFT_SOURCE_DIR");
  source_dir = src != NULL ? g_strdup (src) : g_path_get_dirname (g_test_get_dir (G_TEST_DIST));

  g_autofree char *examples = src_path ("resources", "examples", NULL);
  GDir *d = g_dir_open (examples, 0, NULL);
  g_assert_nonnull (d);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".weft"))
      g_ptr_array_add (names, g_strdup (name));
  g_dir_close (d);
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);
      char *full = g_build_filename (examples, file, NULL);
      g_ptr_array_add (paths, full);
      g_autofree char *stem = g_strndup (file, strlen (file) - 5);
      g_autofree char *p1 = g_strdup_printf ("/io/interop/onnx/%s/matches-onnxruntime", stem);
      g_autofree char *p2 = g_strdup_printf ("/io/interop/tfjs/%s/matches-tensorflowjs", stem);
      g_autofree char *p3 = g_strdup_printf ("/io/interop/pytorch/%s/first-step-loss-matches", stem);
      g_test_add_data_func (p1, full, test_onnx_example);
      g_test_add_data_func (p2, full, test_tfjs_example);
      g_test_add_data_func (p3, full, test_torch_example);
    }
  g_test_add_func ("/io/interop/keras/import-tfjs-built-model-matches", test_import_tfjs_model);
  g_test_add_func ("/io/interop/keras/import-keras3-json", test_import_keras3);
  g_test_add_func ("/io/interop/keras/hostile-json-gives-clear-errors", test_import_hostile);
  g_test_add_func ("/io/interop/keras/bad-shards-give-clear-errors", test_import_bad_weights);
  g_test_add_func ("/io/interop/keras/python-code", test_keras_code);
  g_test_add_func ("/io/interop/pytorch/train-script-runs-under-ddp", test_torch_ddp);
  int rc = g_test_run ();
  g_ptr_array_free (names, TRUE);
  g_ptr_array_free (paths, TRUE);
  g_free (source_dir);
  return rc;
}
