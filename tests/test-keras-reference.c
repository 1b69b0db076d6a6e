/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-keras-reference.c: runs Weft layers on cases computed by TensorFlow.js 4.22 (written by
 * tests/tfjs/make-reference.mjs, see tests/keras-reference.sh) and compares the outputs.
 * The Keras config of each case is mapped onto the registry's params by name; a config key
 * that cannot be mapped fails the case. Layers tfjs lacks (ZeroPadding1D, Cropping1D,
 * UpSampling1D, Conv1D padding='causal') are checked against hand-derived numbers, through the
 * same Keras-config mapping.
 *
 * Usage: test-keras-reference --reference-dir DIR [GTest options] */
#include "config.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "weft-op.h"

#define REF_ATOL 1e-5   /* absolute tolerance of a reference value */
#define REF_RTOL 1e-4   /* relative tolerance of a reference value */

static char *reference_dir;

/* Config keys that carry no meaning for a forward pass with given weights, when the op has no
 * param of that name (unroll and implementation change how, not what, a recurrent layer
 * computes; unit_forget_bias only initialises; shapes come from the case's inputs). Keys
 * ending in _initializer are ignored too; _regularizer and _constraint keys must be null. */
static const char *const ignored_keys[] = {
  "name", "trainable", "dtype", "batch_input_shape", "batch_size", "input_shape",
  "input_length", "unroll", "implementation", "unit_forget_bias", NULL
};

/* Keys Weft has no parameter for, accepted only while they hold the value that switches the
 * feature off ("0", "false" or "null"). */
static const struct { const char *key; const char *off; } inert_keys[] = {
  { "dropout", "0" },
  { "recurrent_dropout", "0" },
  { "return_state", "false" },
  { "stateful", "false" },
  { "mask_zero", "false" },
  { "mask_zero", "null" },
  { "groups", "1" },            /* Keras >= 2.3 Conv1D/Conv2D */
  { "output_padding", "null" }, /* Keras Conv2DTranspose */
};

static gboolean
node_is (JsonNode *node, const char *literal)
{
  if (g_str_equal (literal, "null"))
    return JSON_NODE_HOLDS_NULL (node);
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  GType t = json_node_get_value_type (node);
  if (g_str_equal (literal, "false"))
    return t == G_TYPE_BOOLEAN && !json_node_get_boolean (node);
  return (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE)
         && json_node_get_double (node) == g_ascii_strtod (literal, NULL);
}

/* ---- Mapping a Keras config onto registry params ---- */

static void
flatten_ints (JsonNode *node, GArray *out)
{
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (a); i++)
        flatten_ints (json_array_get_element (a, i), out);
    }
  else if (JSON_NODE_HOLDS_VALUE (node))
    {
      double v = json_node_get_double (node);
      int iv = (int) v;
      if ((double) iv != v)
        iv = G_MININT; /* flagged as not an integer below */
      g_array_append_val (out, iv);
    }
  else
    {
      int bad = G_MININT;
      g_array_append_val (out, bad);
    }
}

static gboolean
map_value (const WeftParamSpec *spec, JsonNode *node, WeftValue *v, GString *err)
{
  GType vt = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  switch (spec->type)
    {
    case WEFT_PARAM_INT:
      if (JSON_NODE_HOLDS_NULL (node) && (spec->flags & WEFT_PARAM_NULLABLE))
        {
          v->num = 0;
          return TRUE;
        }
      /* fall through */
    case WEFT_PARAM_FLOAT:
      if (vt == G_TYPE_INT64 || vt == G_TYPE_DOUBLE)
        {
          v->num = json_node_get_double (node);
          return TRUE;
        }
      if (JSON_NODE_HOLDS_ARRAY (node) && json_array_get_length (json_node_get_array (node)) == 1)
        return map_value (spec, json_array_get_element (json_node_get_array (node), 0), v, err);
      break;
    case WEFT_PARAM_BOOL:
      if (vt == G_TYPE_BOOLEAN)
        {
          v->num = json_node_get_boolean (node) ? 1 : 0;
          return TRUE;
        }
      /* tfjs writes unset options as null (LSTM unit_forget_bias): off. */
      if (JSON_NODE_HOLDS_NULL (node))
        {
          v->num = 0;
          return TRUE;
        }
      break;
    case WEFT_PARAM_CHOICE:
      if (vt == G_TYPE_STRING)
        {
          const char *s = json_node_get_string (node);
          for (int i = 0; spec->choices[i] != NULL; i++)
            if (g_strcmp0 (spec->choices[i], s) == 0)
              {
                v->num = i;
                return TRUE;
              }
          g_string_append_printf (err, "%s='%s' is not one of Weft's choices", spec->name, s);
          return FALSE;
        }
      break;
    case WEFT_PARAM_INTS:
      {
        if (JSON_NODE_HOLDS_NULL (node))
          {
            v->n = 0;
            return TRUE;
          }
        g_autoptr (GArray) ints = g_array_new (FALSE, FALSE, sizeof (int));
        flatten_ints (node, ints);
        if (ints->len > WEFT_MAX_RANK)
          break;
        v->n = (int) ints->len;
        for (guint i = 0; i < ints->len; i++)
          {
            v->ints[i] = g_array_index (ints, int, i);
            if (v->ints[i] == G_MININT)
              goto bad;
          }
        return TRUE;
      }
    }
bad:
  {
    g_autofree char *text = json_to_string (node, FALSE);
    g_string_append_printf (err, "cannot map %s=%s onto a Weft parameter", spec->name, text);
  }
  return FALSE;
}

static gboolean map_members (const WeftOpDesc *op, JsonObject *config, WeftValue *cfg,
                             GString *err);

/* A wrapped layer ({"class_name", "config"} under a CHOICE param such as Bidirectional's
 * "layer"): the class picks the choice and the inner config maps onto the wrapper's own
 * params (Weft flattens wrapper and inner settings into one table). */
static gboolean
map_nested (const WeftOpDesc *op, const WeftParamSpec *spec, JsonObject *inner, WeftValue *v,
            WeftValue *cfg, GString *err)
{
  const char *cls = json_object_get_string_member_with_default (inner, "class_name", NULL);
  JsonObject *inner_cfg = json_object_get_object_member (inner, "config");
  if (cls == NULL || inner_cfg == NULL)
    {
      g_string_append_printf (err, "%s: %s is an object without class_name/config", op->name,
                              spec->name);
      return FALSE;
    }
  for (int i = 0; spec->choices[i] != NULL; i++)
    if (g_str_equal (spec->choices[i], cls))
      {
        v->num = i;
        return map_members (op, inner_cfg, cfg, err);
      }
  g_string_append_printf (err, "%s: %s class %s is not one of Weft's choices", op->name,
                          spec->name, cls);
  return FALSE;
}

static gboolean
map_members (const WeftOpDesc *op, JsonObject *config, WeftValue *cfg, GString *err)
{
  g_autoptr (GList) members = json_object_get_members (config);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *node = json_object_get_member (config, key);
      int idx = weft_op_param_index (op, key);
      if (idx >= 0 && op->params[idx].type == WEFT_PARAM_CHOICE && JSON_NODE_HOLDS_OBJECT (node))
        {
          if (!map_nested (op, &op->params[idx], json_node_get_object (node), &cfg[idx], cfg,
                           err))
            return FALSE;
          continue;
        }
      if (idx >= 0)
        {
          if (!map_value (&op->params[idx], node, &cfg[idx], err))
            return FALSE;
          char why[256];
          if (!weft_op_check_value (&op->params[idx], &cfg[idx], why, sizeof why))
            {
              g_string_append_printf (err, "%s: %s", key, why);
              return FALSE;
            }
          continue;
        }
      if (g_strv_contains ((const char *const *) ignored_keys, key)
          || g_str_has_suffix (key, "_initializer"))
        continue;
      if (g_str_has_suffix (key, "_regularizer") || g_str_has_suffix (key, "_constraint"))
        {
          if (JSON_NODE_HOLDS_NULL (node))
            continue;
          g_string_append_printf (err, "%s %s is not null: Weft has no regularizers or "
                                  "constraints", op->name, key);
          return FALSE;
        }
      if (g_str_equal (key, "data_format") && JSON_NODE_HOLDS_VALUE (node)
          && g_strcmp0 (json_node_get_string (node), "channels_last") == 0)
        continue;
      gboolean inert = FALSE;
      for (guint i = 0; i < G_N_ELEMENTS (inert_keys) && !inert; i++)
        inert = g_str_equal (inert_keys[i].key, key) && node_is (node, inert_keys[i].off);
      if (inert)
        continue;
      g_autofree char *text = json_to_string (node, FALSE);
      g_string_append_printf (err, "unknown %s config key '%s' (value %s)", op->name, key, text);
      return FALSE;
    }
  return TRUE;
}

/* Fills cfg from a Keras config object; FALSE with a reason in err on any key it cannot map. */
static gboolean
map_config (const WeftOpDesc *op, JsonObject *config, WeftValue *cfg, GString *err)
{
  weft_op_defaults (op, cfg);
  if (!map_members (op, config, cfg, err))
    return FALSE;
  if (op->check != NULL)
    {
      char why[256];
      if (!op->check (cfg, why, sizeof why))
        {
          g_string_append_printf (err, "%s config refused: %s", op->name, why);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- Running one case ---- */

typedef struct
{
  char        *weight_name;
  WeftShape    shape;
  GArray      *values;   /* float */
} NamedTensor;

static gboolean
read_shape (JsonArray *a, gboolean drop_batch, WeftShape *s, int *batch)
{
  guint n = json_array_get_length (a);
  guint first = drop_batch ? 1 : 0;
  if (n < first || n - first > WEFT_MAX_RANK)
    return FALSE;
  s->rank = (int) (n - first);
  if (drop_batch)
    *batch = (int) json_array_get_int_element (a, 0);
  for (guint i = first; i < n; i++)
    s->dims[i - first] = (int) json_array_get_int_element (a, i);
  return TRUE;
}

static float *
read_values (JsonObject *o, size_t expect)
{
  JsonArray *a = json_object_get_array_member (o, "values");
  g_assert_nonnull (a);
  g_assert_cmpuint (json_array_get_length (a), ==, expect);
  float *v = g_new (float, MAX (expect, 1));
  for (size_t i = 0; i < expect; i++)
    v[i] = (float) json_array_get_double_element (a, (guint) i);
  return v;
}

/* Runs op forward on a case object of the make-reference.mjs format and compares. */
static void
run_case_object (JsonObject *root, const char *label)
{
  const char *class_name = json_object_get_string_member (root, "class_name");
  const WeftOpDesc *op = weft_op_lookup (class_name);
  if (op == NULL)
    {
      g_test_fail_printf ("%s: Weft has no layer type %s", label, class_name);
      return;
    }
  JsonObject *config = json_object_get_object_member (root, "config");
  JsonArray *inputs = json_object_get_array_member (root, "inputs");
  JsonArray *weights = json_object_get_array_member (root, "weights");
  JsonArray *outputs = json_object_get_array_member (root, "outputs");
  g_assert_nonnull (config);
  g_assert_nonnull (inputs);
  g_assert_nonnull (outputs);

  WeftValue cfg[32];
  g_assert_cmpint (op->n_params, <=, (int) G_N_ELEMENTS (cfg));
  g_autoptr (GString) err = g_string_new (NULL);

  /* tfjs 4.22 leaves depth_multiplier out of SeparableConv2D configs; Keras writes it.
   * Recover it from the depthwise kernel [kh, kw, cin, mult] so that the case still runs. */
  gboolean patch_mult = g_str_equal (class_name, "SeparableConv2D")
                        && !json_object_has_member (config, "depth_multiplier");
  if (!map_config (op, config, cfg, err))
    {
      g_test_fail_printf ("%s: %s", label, err->str);
      return;
    }

  int n_in = (int) json_array_get_length (inputs);
  g_assert_cmpint (n_in, >=, 1);
  g_assert_cmpint (n_in, <=, WEFT_MAX_INPUTS);
  WeftShape in_shapes[WEFT_MAX_INPUTS];
  float *in_vals[WEFT_MAX_INPUTS] = { NULL };
  int batch = 0;
  for (int i = 0; i < n_in; i++)
    {
      JsonObject *io = json_array_get_object_element (inputs, i);
      int b = 0;
      g_assert_true (read_shape (json_object_get_array_member (io, "shape"), TRUE,
                                 &in_shapes[i], &b));
      g_assert_true (i == 0 || b == batch);
      batch = b;
      in_vals[i] = read_values (io, (size_t) batch * weft_shape_size (&in_shapes[i]));
    }

  guint n_json_w = weights != NULL ? json_array_get_length (weights) : 0;
  if (patch_mult)
    for (guint j = 0; j < n_json_w; j++)
      {
        JsonObject *wo = json_array_get_object_element (weights, j);
        if (g_str_equal (json_object_get_string_member (wo, "name"), "depthwise_kernel"))
          cfg[weft_op_param_index (op, "depth_multiplier")].num =
            (double) json_array_get_int_element (json_object_get_array_member (wo, "shape"), 3);
      }

  WeftOpArgs args = { .cfg = cfg, .in = in_shapes, .n_in = n_in };
  WeftShape out_shape;
  char why[320];
  if (!op->infer (&args, &out_shape, why, sizeof why))
    {
      g_test_fail_printf ("%s: Weft refuses the layer: %s", label, why);
      goto out;
    }
  args.out = &out_shape;

  JsonObject *oo = json_array_get_object_element (outputs, 0);
  WeftShape want_shape;
  int out_batch = 0;
  g_assert_true (read_shape (json_object_get_array_member (oo, "shape"), TRUE, &want_shape,
                             &out_batch));
  g_assert_cmpint (out_batch, ==, batch);
  if (!weft_shape_equal (&out_shape, &want_shape))
    {
      char a[96], b[96];
      g_test_fail_printf ("%s: Weft infers %s, Keras gives %s", label,
                          weft_shape_format (&out_shape, a, sizeof a),
                          weft_shape_format (&want_shape, b, sizeof b));
      goto out;
    }

  /* Weights are matched by name, never by position. */
  WeftWeightSpec specs[WEFT_MAX_WEIGHTS];
  int n_w = op->weights != NULL ? op->weights (&args, specs) : 0;
  float *w[WEFT_MAX_WEIGHTS] = { NULL };
  gboolean weights_ok = (guint) n_w == n_json_w;
  if (!weights_ok)
    g_test_fail_printf ("%s: Weft has %d weights, the case %u", label, n_w, n_json_w);
  for (int k = 0; k < n_w && weights_ok; k++)
    {
      JsonObject *found = NULL;
      for (guint j = 0; j < n_json_w; j++)
        {
          JsonObject *wo = json_array_get_object_element (weights, j);
          if (g_str_equal (json_object_get_string_member (wo, "name"), specs[k].name))
            found = wo;
        }
      WeftShape ws;
      if (found == NULL
          || !read_shape (json_object_get_array_member (found, "shape"), FALSE, &ws, NULL)
          || !weft_shape_equal (&ws, &specs[k].shape))
        {
          char a[96];
          g_test_fail_printf ("%s: weight %s %s missing or shaped differently in the case",
                              label, specs[k].name,
                              weft_shape_format (&specs[k].shape, a, sizeof a));
          weights_ok = FALSE;
          break;
        }
      w[k] = read_values (found, (size_t) weft_shape_size (&ws));
    }

  if (weights_ok)
    {
      size_t out_n = (size_t) batch * weft_shape_size (&out_shape);
      size_t aux_n = op->aux_size != NULL ? op->aux_size (&args, batch) : 0;
      size_t scratch_n = op->scratch_size != NULL ? op->scratch_size (&args, batch) : 0;
      g_autofree float *out = g_new0 (float, MAX (out_n, 1));
      g_autofree float *aux = g_new0 (float, MAX (aux_n, 1));
      g_autofree float *scratch = g_new0 (float, MAX (scratch_n, 1));
      g_autofree float *want = read_values (oo, out_n);
      WeftRng rng;
      weft_rng_seed (&rng, 42);
      WeftOpCtx ctx = {
        .op = op, .cfg = cfg, .batch = batch, .training = false, .n_in = n_in,
        .out = out, .out_shape = out_shape, .aux = aux, .scratch = scratch, .rng = &rng,
        .threads = 1,
      };
      for (int i = 0; i < n_in; i++)
        {
          ctx.in[i] = in_vals[i];
          ctx.in_shape[i] = in_shapes[i];
        }
      for (int k = 0; k < n_w; k++)
        ctx.w[k] = w[k];
      op->forward (&ctx);

      double worst = 0;
      size_t worst_at = 0, bad = 0;
      for (size_t i = 0; i < out_n; i++)
        {
          double d = fabs ((double) out[i] - want[i]);
          double allowed = REF_ATOL + REF_RTOL * fabs (want[i]);
          if (!(d <= allowed))
            bad++;
          if (!(d / allowed <= worst))
            {
              worst = d / allowed;
              worst_at = i;
            }
        }
      g_test_message ("%s: %zu values, worst %.3f of tolerance at [%zu] (%g vs %g)", label,
                      out_n, worst, worst_at, out_n ? out[worst_at] : 0.0,
                      out_n ? want[worst_at] : 0.0);
      if (bad > 0)
        g_test_fail_printf ("%s: %zu of %zu outputs differ from Keras, worst at [%zu]: Weft %.8g, "
                            "Keras %.8g (atol %g, rtol %g)", label, bad, out_n, worst_at,
                            out[worst_at], want[worst_at], REF_ATOL, REF_RTOL);
    }
  for (int k = 0; k < WEFT_MAX_WEIGHTS; k++)
    g_free (w[k]);
out:
  for (int i = 0; i < n_in; i++)
    g_free (in_vals[i]);
}

static void
test_reference_file (gconstpointer data)
{
  const char *path = data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  if (!json_parser_load_from_file (parser, path, &error))
    {
      g_test_fail_printf ("%s: %s", path, error->message);
      return;
    }
  JsonNode *root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  g_autofree char *base = g_path_get_basename (path);
  run_case_object (json_node_get_object (root), base);
}

/* ---- Hand-derived references (layers and options tfjs 4.22 lacks) ---- */

/* Builds a case object like make-reference.mjs writes, from a Keras config text. */
static JsonObject *
hand_case (const char *class_name, const char *config_json, const int *in_shape, int in_rank,
           const float *in, const int *out_shape, int out_rank, const float *out,
           const char *weight_name, const int *w_shape, int w_rank, const float *w)
{
  JsonObject *o = json_object_new ();
  g_autoptr (GError) error = NULL;
  JsonNode *cfg = json_from_string (config_json, &error);
  g_assert_no_error (error);
  json_object_set_string_member (o, "class_name", class_name);
  json_object_set_member (o, "config", cfg);

  struct { const char *member; const int *shape; int rank; const float *values; } t[] = {
    { "inputs", in_shape, in_rank, in }, { "outputs", out_shape, out_rank, out },
    { "weights", w_shape, w_rank, w },
  };
  for (guint k = 0; k < G_N_ELEMENTS (t); k++)
    {
      JsonArray *list = json_array_new ();
      if (t[k].values != NULL)
        {
          JsonObject *e = json_object_new ();
          JsonArray *shape = json_array_new ();
          JsonArray *values = json_array_new ();
          size_t n = 1;
          for (int i = 0; i < t[k].rank; i++)
            {
              json_array_add_int_element (shape, t[k].shape[i]);
              n *= (size_t) t[k].shape[i];
            }
          for (size_t i = 0; i < n; i++)
            json_array_add_double_element (values, t[k].values[i]);
          if (k == 2)
            json_object_set_string_member (e, "name", weight_name);
          json_object_set_array_member (e, "shape", shape);
          json_object_set_array_member (e, "values", values);
          json_array_add_object_element (list, e);
        }
      json_object_set_array_member (o, t[k].member, list);
    }
  return o;
}

static void
test_hand_zero_padding_1d (void)
{
  /* Keras: ZeroPadding1D(padding=(2, 1)) on x[1, 3, 2]. */
  const int is[] = { 1, 3, 2 }, os[] = { 1, 6, 2 };
  const float x[] = { 1, 2, 3, 4, 5, 6 };
  const float y[] = { 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0 };
  JsonObject *o = hand_case ("ZeroPadding1D",
                             "{\"padding\": [2, 1], \"name\": \"zp\", \"trainable\": true}",
                             is, 3, x, os, 3, y, NULL, NULL, 0, NULL);
  run_case_object (o, "hand ZeroPadding1D(2, 1)");
  json_object_unref (o);
}

static void
test_hand_cropping_1d (void)
{
  /* Keras: Cropping1D(cropping=(1, 2)) on x[2, 5, 1] keeps steps 1..2 of each sample. */
  const int is[] = { 2, 5, 1 }, os[] = { 2, 2, 1 };
  const float x[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
  const float y[] = { 2, 3, 7, 8 };
  JsonObject *o = hand_case ("Cropping1D", "{\"cropping\": [1, 2], \"name\": \"c\"}",
                             is, 3, x, os, 3, y, NULL, NULL, 0, NULL);
  run_case_object (o, "hand Cropping1D(1, 2)");
  json_object_unref (o);
}

static void
test_hand_upsampling_1d (void)
{
  /* Keras: UpSampling1D(size=3) repeats each step: [a, b] -> [a, a, a, b, b, b]. */
  const int is[] = { 1, 2, 2 }, os[] = { 1, 6, 2 };
  const float x[] = { 1, -1, 2, -2 };
  const float y[] = { 1, -1, 1, -1, 1, -1, 2, -2, 2, -2, 2, -2 };
  JsonObject *o = hand_case ("UpSampling1D", "{\"size\": 3, \"name\": \"u\"}", is, 3, x, os, 3,
                             y, NULL, NULL, 0, NULL);
  run_case_object (o, "hand UpSampling1D(3)");
  json_object_unref (o);
}

static void
test_hand_conv1d_causal (void)
{
  /* Keras: Conv1D(1, 2, padding='causal', dilation_rate=2, use_bias=False), kernel [2, 1, 1]
   * = (1, 10): y[t] = x[t-2] + 10 x[t], with x[t<0] = 0. */
  const int is[] = { 1, 5, 1 }, os[] = { 1, 5, 1 }, ws[] = { 2, 1, 1 };
  const float x[] = { 1, 2, 3, 4, 5 };
  const float y[] = { 10, 20, 31, 42, 53 };
  const float w[] = { 1, 10 };
  JsonObject *o = hand_case ("Conv1D",
                             "{\"filters\": 1, \"kernel_size\": [2], \"strides\": [1], "
                             "\"padding\": \"causal\", \"dilation_rate\": [2], "
                             "\"activation\": \"linear\", \"use_bias\": false, "
                             "\"data_format\": \"channels_last\", \"kernel_initializer\": "
                             "{\"class_name\": \"GlorotUniform\", \"config\": {}}}",
                             is, 3, x, os, 3, y, "kernel", ws, 3, w);
  run_case_object (o, "hand Conv1D causal");
  json_object_unref (o);
}

static void
test_unknown_key_is_refused (void)
{
  const WeftOpDesc *op = weft_op_lookup ("Conv2D");
  g_assert_nonnull (op);
  WeftValue cfg[32];
  const char *bad[] = {
    "{\"filters\": 2, \"frobnicate\": 1}",
    "{\"filters\": 2, \"kernel_regularizer\": {\"class_name\": \"L2\", \"config\": {}}}",
    "{\"filters\": 2, \"data_format\": \"channels_first\"}",
    "{\"filters\": 2, \"padding\": \"full\"}",
    "{\"filters\": 2, \"strides\": [2, 2], \"dilation_rate\": [2, 2]}",
    "{\"filters\": 2, \"dropout\": 0.5}",
    "{\"filters\": 2, \"stateful\": true}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) node = json_from_string (bad[i], &error);
      g_assert_no_error (error);
      g_autoptr (GString) err = g_string_new (NULL);
      g_assert_false (map_config (op, json_node_get_object (node), cfg, err));
      g_test_message ("%s -> %s", bad[i], err->str);
      g_assert_cmpuint (err->len, >, 0);
    }
  g_autoptr (JsonNode) good = json_from_string ("{\"filters\": 4, \"kernel_size\": [3, 2], "
                                                "\"padding\": \"same\", \"name\": \"c\"}", NULL);
  g_autoptr (GString) err = g_string_new (NULL);
  g_assert_true (map_config (op, json_node_get_object (good), cfg, err));
  g_assert_cmpint (weft_cfg_int (cfg, weft_op_param_index (op, "filters")), ==, 4);
  g_assert_cmpint (cfg[weft_op_param_index (op, "kernel_size")].ints[1], ==, 2);
}

/* ---- Shape inference explains itself (Keras would refuse these layers too) ---- */

typedef struct
{
  const char *op;
  const char *params;     /* Keras config text */
  WeftShape   in;
  const char *expect;     /* substring of the message */
} ShapeErrorCase;

static const ShapeErrorCase shape_errors[] = {
  { "Conv2D", "{}", { 1, { 32 } },
    "Conv2D needs a rank-3 input (height, width, channels), got (None, 32)" },
  { "Conv1D", "{\"kernel_size\": [5]}", { 2, { 3, 4 } },
    "kernel 5 is larger than the input length 3 with padding='valid'" },
  { "Conv2D", "{\"kernel_size\": [5, 3]}", { 3, { 3, 8, 2 } },
    "kernel height 5 is larger than the input height 3 with padding='valid'" },
  { "Conv2D", "{\"dilation_rate\": [1, 3]}", { 3, { 8, 5, 2 } },
    "dilated kernel width 7 (kernel 3, dilation_rate 3) is larger than the input width 5" },
  { "DepthwiseConv2D", "{}", { 2, { 8, 5 } }, "needs a rank-3 input" },
  { "Conv2DTranspose", "{}", { 4, { 2, 8, 5, 1 } }, "needs a rank-3 input" },
  { "MaxPooling1D", "{\"pool_size\": [6]}", { 2, { 5, 2 } },
    "pool_size 6 is larger than the input length 5 with padding='valid'" },
  { "AveragePooling2D", "{\"pool_size\": [2, 6]}", { 3, { 8, 5, 2 } },
    "pool_size width 6 is larger than the input width 5" },
  { "GlobalAveragePooling2D", "{}", { 2, { 5, 2 } },
    "GlobalAveragePooling2D needs a rank-3 input (height, width, channels), got (None, 5, 2)" },
  { "Cropping2D", "{\"cropping\": [[3, 3], [0, 0]]}", { 3, { 5, 5, 2 } },
    "Cropping2D removes 6 rows but the input (None, 5, 5, 2) has only 5" },
  { "Cropping1D", "{\"cropping\": [2, 3]}", { 2, { 5, 2 } }, "removes 5 steps" },
  { "Permute", "{\"dims\": [2, 1]}", { 3, { 5, 5, 2 } },
    "Permute with dims of 2 axes needs a rank-2 input, got (None, 5, 5, 2)" },
  { "UpSampling1D", "{}", { 3, { 5, 5, 2 } }, "UpSampling1D needs a rank-2 input" },
};

static void
test_shape_errors_are_explained (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (shape_errors); i++)
    {
      const ShapeErrorCase *c = &shape_errors[i];
      const WeftOpDesc *op = weft_op_lookup (c->op);
      g_assert_nonnull (op);
      WeftValue cfg[32];
      g_autoptr (JsonNode) node = json_from_string (c->params, NULL);
      g_autoptr (GString) err = g_string_new (NULL);
      g_assert_true (map_config (op, json_node_get_object (node), cfg, err));
      WeftOpArgs args = { .cfg = cfg, .in = &c->in, .n_in = 1 };
      WeftShape out;
      char why[320] = "";
      g_assert_false (op->infer (&args, &out, why, sizeof why));
      g_test_message ("%s: %s", c->op, why);
      if (strstr (why, c->expect) == NULL)
        g_test_fail_printf ("%s: message \"%s\" lacks \"%s\"", c->op, why, c->expect);
    }
}

/* ---- Column chunks: a large image gets fewer images per im2col chunk than the batch ---- */

#define CHUNK_TOL 1e-4   /* relative; the sums run in a different order per chunk */

static float *
random_floats (WeftRng *rng, size_t n)
{
  float *v = g_new (float, MAX (n, 1));
  for (size_t i = 0; i < n; i++)
    v[i] = weft_rng_uniform (rng) - 0.5f;
  return v;
}

/* Runs forward + backward on `batch` samples at once, or one sample at a time. */
static void
run_fwd_bwd (const WeftOpDesc *op, const WeftValue *cfg, const WeftShape *in,
             const WeftShape *out, int batch, gboolean one_by_one, const float *x,
             const float *dy, float *const *w, int n_w, float *y, float *dx, float **dw)
{
  WeftOpArgs args = { .cfg = cfg, .in = in, .n_in = 1, .out = out };
  int step = one_by_one ? 1 : batch;
  size_t aux_n = op->aux_size != NULL ? op->aux_size (&args, step) : 0;
  size_t scratch_n = op->scratch_size != NULL ? op->scratch_size (&args, step) : 0;
  g_autofree float *aux = g_new0 (float, aux_n + 1);
  g_autofree float *scratch = g_new0 (float, scratch_n + 1);
  size_t in_n = (size_t) weft_shape_size (in), out_n = (size_t) weft_shape_size (out);
  for (int b = 0; b < batch; b += step)
    {
      WeftOpCtx ctx = { .op = op, .cfg = cfg, .batch = step, .training = true, .n_in = 1,
                        .out = y + b * out_n, .dout = dy + b * out_n, .out_shape = *out,
                        .aux = aux, .scratch = scratch, .threads = 1 };
      ctx.in[0] = x + b * in_n;
      ctx.din[0] = dx + b * in_n;
      ctx.in_shape[0] = *in;
      for (int k = 0; k < n_w; k++)
        {
          ctx.w[k] = w[k];
          ctx.dw[k] = dw[k];
        }
      op->forward (&ctx);
      op->backward (&ctx);
    }
}

static void
assert_close (const char *what, const float *a, const float *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!(fabsf (a[i] - b[i]) <= CHUNK_TOL * MAX (1.0f, fabsf (b[i]))))
      {
        g_test_fail_printf ("%s[%zu]: batched %.8g, one by one %.8g", what, i, a[i], b[i]);
        return;
      }
}

static void
test_chunked_batch (gconstpointer data)
{
  const char *const *spec = data;   /* op, config, "H W C" */
  const WeftOpDesc *op = weft_op_lookup (spec[0]);
  WeftValue cfg[32];
  g_autoptr (JsonNode) node = json_from_string (spec[1], NULL);
  g_autoptr (GString) err = g_string_new (NULL);
  g_assert_true (map_config (op, json_node_get_object (node), cfg, err));
  int h, wd, c;
  g_assert_cmpint (sscanf (spec[2], "%d %d %d", &h, &wd, &c), ==, 3);
  const int batch = 3;
  WeftShape in = weft_shape_make (3, h, wd, c), out;
  WeftOpArgs args = { .cfg = cfg, .in = &in, .n_in = 1 };
  char why[320];
  g_assert_true (op->infer (&args, &out, why, sizeof why));
  args.out = &out;
  /* The case only means something when the scratch holds fewer images than the batch. */
  size_t one = op->scratch_size (&args, 1), all = op->scratch_size (&args, batch);
  g_test_message ("%s: scratch for 1 image %zu floats, for %d images %zu", spec[0], one, batch,
                  all);
  g_assert_cmpuint (all, <, (size_t) batch * one);

  WeftRng rng;
  weft_rng_seed (&rng, 7);
  size_t in_n = batch * (size_t) weft_shape_size (&in), out_n = batch * (size_t) weft_shape_size (&out);
  g_autofree float *x = random_floats (&rng, in_n);
  g_autofree float *dy = random_floats (&rng, out_n);
  WeftWeightSpec specs[WEFT_MAX_WEIGHTS];
  int n_w = op->weights (&args, specs);
  float *w[WEFT_MAX_WEIGHTS] = { NULL }, *dw_a[WEFT_MAX_WEIGHTS] = { NULL };
  float *dw_b[WEFT_MAX_WEIGHTS] = { NULL };
  for (int k = 0; k < n_w; k++)
    {
      size_t n = (size_t) weft_shape_size (&specs[k].shape);
      w[k] = random_floats (&rng, n);
      dw_a[k] = g_new0 (float, n);
      dw_b[k] = g_new0 (float, n);
    }
  g_autofree float *y_a = g_new0 (float, out_n), *y_b = g_new0 (float, out_n);
  g_autofree float *dx_a = g_new0 (float, in_n), *dx_b = g_new0 (float, in_n);
  run_fwd_bwd (op, cfg, &in, &out, batch, FALSE, x, dy, w, n_w, y_a, dx_a, dw_a);
  run_fwd_bwd (op, cfg, &in, &out, batch, TRUE, x, dy, w, n_w, y_b, dx_b, dw_b);
  assert_close ("output", y_a, y_b, out_n);
  assert_close ("input gradient", dx_a, dx_b, in_n);
  for (int k = 0; k < n_w; k++)
    {
      assert_close (specs[k].name, dw_a[k], dw_b[k], (size_t) weft_shape_size (&specs[k].shape));
      g_free (w[k]);
      g_free (dw_a[k]);
      g_free (dw_b[k]);
    }
}

static const char *const chunk_conv2d[] = {
  "Conv2D", "{\"filters\": 3, \"kernel_size\": [3, 3], \"padding\": \"same\", "
  "\"activation\": \"tanh\"}", "130 128 16" };
static const char *const chunk_transpose[] = {
  "Conv2DTranspose", "{\"filters\": 24, \"kernel_size\": [3, 3], \"strides\": [2, 2], "
  "\"padding\": \"same\"}", "100 100 2" };

static GPtrArray *reference_files;

static void
test_reference_dir_has_cases (void)
{
  if (reference_dir == NULL)
    {
      g_test_fail_printf ("no --reference-dir given: run tests/keras-reference.sh (or meson "
                          "test keras-reference), which generates the TensorFlow.js cases");
      return;
    }
  g_assert_cmpuint (reference_files->len, >, 0);
  g_test_message ("%u reference cases in %s", reference_files->len, reference_dir);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char **argv)
{
  /* Take our own option out before GTest sees the arguments. */
  int kept = 1;
  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--reference-dir") && i + 1 < argc)
        reference_dir = argv[++i];
      else if (g_str_has_prefix (argv[i], "--reference-dir="))
        reference_dir = argv[i] + strlen ("--reference-dir=");
      else
        argv[kept++] = argv[i];
    }
  argc = kept;
  argv[argc] = NULL;
  g_test_init (&argc, &argv, NULL);

  reference_files = g_ptr_array_new_with_free_func (g_free);
  if (reference_dir != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GDir) dir = g_dir_open (reference_dir, 0, &error);
      if (dir == NULL)
        g_error ("cannot open reference directory: %s", error->message);
      const char *name;
      while ((name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".json"))
          g_ptr_array_add (reference_files, g_build_filename (reference_dir, name, NULL));
      g_ptr_array_sort (reference_files, compare_strings);
    }

  g_test_add_func ("/keras-reference/directory/has-cases", test_reference_dir_has_cases);
  g_test_add_func ("/keras-reference/mapping/refuses-what-it-cannot-map",
                   test_unknown_key_is_refused);
  g_test_add_func ("/keras-reference/infer/shape-errors-are-explained",
                   test_shape_errors_are_explained);
  g_test_add_data_func ("/keras-reference/chunks/Conv2D/batch-matches-one-by-one", chunk_conv2d,
                        test_chunked_batch);
  g_test_add_data_func ("/keras-reference/chunks/Conv2DTranspose/batch-matches-one-by-one",
                        chunk_transpose, test_chunked_batch);
  g_test_add_func ("/keras-reference/hand/ZeroPadding1D/asymmetric", test_hand_zero_padding_1d);
  g_test_add_func ("/keras-reference/hand/Cropping1D/asymmetric", test_hand_cropping_1d);
  g_test_add_func ("/keras-reference/hand/UpSampling1D/size3", test_hand_upsampling_1d);
  g_test_add_func ("/keras-reference/hand/Conv1D/causal-dilated", test_hand_conv1d_causal);

  for (guint i = 0; i < reference_files->len; i++)
    {
      const char *path = g_ptr_array_index (reference_files, i);
      g_autofree char *base = g_path_get_basename (path);
      char *dot = strrchr (base, '.');
      *dot = '\0';
      /* "<family>-<case>.json" -> /keras-reference/<family>/<case> */
      char *dash = strchr (base, '-');
      g_autofree char *test_path = dash != NULL
        ? g_strdup_printf ("/keras-reference/%.*s/%s", (int) (dash - base), base, dash + 1)
        : g_strdup_printf ("/keras-reference/%s", base);
      g_test_add_data_func (test_path, path, test_reference_file);
    }
  int status = g_test_run ();
  g_ptr_array_unref (reference_files);
  return status;
}
