/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-keras-export.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "weft-activation.h"

/* TensorFlow.js 4.22 cannot load these (see KERAS-CONVENTIONS.md). */
static const char *const tfjs_missing_layers[] = {
  "Subtract", "ZeroPadding1D", "Cropping1D", "UpSampling1D", NULL
};

static gboolean
in_list (const char *const *list, const char *s)
{
  for (int i = 0; list[i] != NULL; i++)
    if (strcmp (list[i], s) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
unsupported (GError **error, const char *layer, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
unsupported (GError **error, const char *layer, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_UNSUPPORTED, "layer '%s': %s",
               layer, msg);
  return FALSE;
}

/* ---- Keras config values from the registry ---- */

static gboolean
is_pool (const WeftOpDesc *op)
{
  return g_str_has_suffix (op->name, "Pooling1D") || g_str_has_suffix (op->name, "Pooling2D");
}

/* One registry value as the JSON Keras writes for it. */
static void
add_value (JsonBuilder *b, const WeftOpDesc *op, const WeftParamSpec *spec, const WeftValue *v)
{
  json_builder_set_member_name (b, spec->name);
  switch (spec->type)
    {
    case WEFT_PARAM_INT:
      if ((spec->flags & WEFT_PARAM_NULLABLE) && v->num == 0)
        json_builder_add_null_value (b);
      else
        json_builder_add_int_value (b, (gint64) v->num);
      break;
    case WEFT_PARAM_FLOAT:
      /* floats came from float32 or decimal text: print the shortest decimal that
       * round-trips as a float32 */
      {
        char buf[32];
        g_snprintf (buf, sizeof buf, "%.9g", v->num);
        for (int prec = 6; prec <= 9; prec++)
          {
            g_snprintf (buf, sizeof buf, "%.*g", prec, v->num);
            if ((float) g_ascii_strtod (buf, NULL) == (float) v->num)
              break;
          }
        json_builder_add_double_value (b, g_ascii_strtod (buf, NULL));
      }
      break;
    case WEFT_PARAM_BOOL:
      json_builder_add_boolean_value (b, v->num != 0);
      break;
    case WEFT_PARAM_CHOICE:
      json_builder_add_string_value (b, spec->choices[(int) v->num]);
      break;
    case WEFT_PARAM_INTS:
      if (v->n == 0 && is_pool (op))
        {
          json_builder_add_null_value (b);
          break;
        }
      if (strcmp (op->name, "ZeroPadding2D") == 0 || strcmp (op->name, "Cropping2D") == 0)
        {
          int t, bo, l, r;
          if (v->n == 1)
            t = bo = l = r = v->ints[0];
          else if (v->n == 2)
            t = bo = v->ints[0], l = r = v->ints[1];
          else
            t = v->ints[0], bo = v->ints[1], l = v->ints[2], r = v->ints[3];
          json_builder_begin_array (b);
          json_builder_begin_array (b);
          json_builder_add_int_value (b, t);
          json_builder_add_int_value (b, bo);
          json_builder_end_array (b);
          json_builder_begin_array (b);
          json_builder_add_int_value (b, l);
          json_builder_add_int_value (b, r);
          json_builder_end_array (b);
          json_builder_end_array (b);
          break;
        }
      if ((strcmp (op->name, "ZeroPadding1D") == 0 || strcmp (op->name, "Cropping1D") == 0)
          && v->n == 1)
        {
          json_builder_begin_array (b);
          json_builder_add_int_value (b, v->ints[0]);
          json_builder_add_int_value (b, v->ints[0]);
          json_builder_end_array (b);
          break;
        }
      if (strcmp (op->name, "Dot") == 0 && v->n == 1)
        {
          json_builder_add_int_value (b, v->ints[0]);
          break;
        }
      json_builder_begin_array (b);
      for (int i = 0; i < v->n; i++)
        json_builder_add_int_value (b, v->ints[i]);
      json_builder_end_array (b);
      break;
    }
}

/* Config members of an inner (wrapped) layer: every parameter of the inner type that the
 * wrapper also carries, by name. */
static void
add_inner_layer (JsonBuilder *b, const WeftOpDesc *wrapper, const WeftValue *cfg,
                 const WeftOpDesc *inner, const char *inner_name)
{
  json_builder_set_member_name (b, "layer");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "class_name");
  json_builder_add_string_value (b, inner->name);
  json_builder_set_member_name (b, "config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, inner_name);
  json_builder_set_member_name (b, "trainable");
  json_builder_add_boolean_value (b, TRUE);
  for (int i = 0; i < inner->n_params; i++)
    {
      int w = weft_op_param_index (wrapper, inner->params[i].name);
      if (w >= 0 && strcmp (inner->params[i].name, "layer") != 0)
        add_value (b, inner, &inner->params[i], &cfg[w]);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static const char *const bidir_inner_names[] = { "lstm", "gru", "simple_rnn" };

static gboolean
check_tfjs_layer (const WeftOpDesc *op, const WeftValue *cfg, const char *name,
                  GError **error)
{
  if (in_list (tfjs_missing_layers, op->name))
    return unsupported (error, name, "TensorFlow.js 4.22 has no %s layer", op->name);
  for (int i = 0; i < op->n_params; i++)
    {
      const WeftParamSpec *s = &op->params[i];
      if (s->type == WEFT_PARAM_CHOICE && s->choices == weft_activation_names
          && (int) cfg[i].num == WEFT_ACT_LEAKY_RELU)
        return unsupported (error, name, "TensorFlow.js 4.22 has no '%s' activation "
                            "(use a LeakyReLU layer)", s->choices[(int) cfg[i].num]);
      if (strcmp (s->name, "padding") == 0 && s->type == WEFT_PARAM_CHOICE
          && strcmp (s->choices[(int) cfg[i].num], "causal") == 0)
        return unsupported (error, name, "TensorFlow.js 4.22 has no causal padding");
      if (strcmp (s->name, "reset_after") == 0 && cfg[i].num != 0
          && (strcmp (op->name, "GRU") == 0
              || (strcmp (op->name, "Bidirectional") == 0
                  && cfg[weft_op_param_index (op, "layer")].num == 1)))
        return unsupported (error, name, "TensorFlow.js 4.22 has no GRU with reset_after=true");
    }
  return TRUE;
}

/* {"class_name": ..., "config": {...}} of a plain layer (no "name"/"inbound_nodes"). */
static gboolean
add_layer_class_and_config (JsonBuilder *b, WeftGraph *graph, WeftId layer, gboolean for_tfjs,
                            GError **error)
{
  const WeftOpDesc *op = weft_graph_layer_op (graph, layer);
  const WeftValue *cfg = weft_graph_layer_config (graph, layer);
  const char *name = weft_graph_get_name (graph, layer);

  if (for_tfjs && !check_tfjs_layer (op, cfg, name, error))
    return FALSE;
  json_builder_set_member_name (b, "class_name");
  json_builder_add_string_value (b, op->flags & WEFT_OP_INPUT ? "InputLayer" : op->name);
  json_builder_set_member_name (b, "config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  if (op->flags & WEFT_OP_INPUT)
    {
      const WeftValue *shape = &cfg[weft_op_param_index (op, "shape")];
      const WeftValue *dtype = &cfg[weft_op_param_index (op, "dtype")];
      json_builder_set_member_name (b, "batch_input_shape");
      json_builder_begin_array (b);
      json_builder_add_null_value (b);
      for (int i = 0; i < shape->n; i++)
        json_builder_add_int_value (b, shape->ints[i]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "dtype");
      json_builder_add_string_value (b, (int) dtype->num == 1 ? "int32" : "float32");
      json_builder_set_member_name (b, "sparse");
      json_builder_add_boolean_value (b, FALSE);
      json_builder_end_object (b);
      return TRUE;
    }
  json_builder_set_member_name (b, "trainable");
  json_builder_add_boolean_value (b, weft_graph_layer_get_trainable (graph, layer));
  if (strcmp (op->name, "Bidirectional") == 0)
    {
      int inner = (int) cfg[weft_op_param_index (op, "layer")].num;
      const char *inner_type = op->params[weft_op_param_index (op, "layer")].choices[inner];
      add_inner_layer (b, op, cfg, weft_op_lookup (inner_type), bidir_inner_names[inner]);
      add_value (b, op, &op->params[weft_op_param_index (op, "merge_mode")],
                 &cfg[weft_op_param_index (op, "merge_mode")]);
    }
  else if (strcmp (op->name, "TimeDistributed") == 0)
    {
      int inner = (int) cfg[weft_op_param_index (op, "layer")].num;
      const char *inner_type = op->params[weft_op_param_index (op, "layer")].choices[inner];
      g_autofree char *inner_name = g_strdup_printf ("%s_inner", name);
      add_inner_layer (b, op, cfg, weft_op_lookup (inner_type), inner_name);
    }
  else
    for (int i = 0; i < op->n_params; i++)
      add_value (b, op, &op->params[i], &cfg[i]);
  json_builder_end_object (b);
  return TRUE;
}

static gboolean build_model_config (JsonBuilder *b, WeftGraph *graph, WeftId model,
                                    gboolean for_tfjs, int depth, GError **error);

static int
node_index_for_keras (WeftGraph *graph, WeftId node)
{
  WeftId callee = weft_graph_node_callee (graph, node);
  /* a nested model's node 0 is its own construction (Keras 2 and tfjs) */
  return weft_interop_call_index (graph, node)
         + (weft_graph_kind (graph, callee) == WEFT_KIND_MODEL ? 1 : 0);
}

static void
add_tensor_ref (JsonBuilder *b, WeftGraph *graph, WeftId node, int port, gboolean kwargs)
{
  json_builder_begin_array (b);
  json_builder_add_string_value (b, weft_graph_get_name (graph, weft_graph_node_callee (graph,
                                                                                        node)));
  json_builder_add_int_value (b, node_index_for_keras (graph, node));
  json_builder_add_int_value (b, port);
  if (kwargs)
    {
      json_builder_begin_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static gboolean
build_model_config (JsonBuilder *b, WeftGraph *graph, WeftId model, gboolean for_tfjs,
                    int depth, GError **error)
{
  if (depth > 32)
    {
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_TOO_LARGE,
                   "models nested deeper than 32 levels");
      return FALSE;
    }
  g_autoptr (GArray) order = weft_interop_topo_order (graph, model, error);
  if (order == NULL)
    return FALSE;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, weft_graph_get_name (graph, model));
  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  for (guint i = 0; i < order->len; i++)
    {
      WeftId callee = weft_graph_node_callee (graph, g_array_index (order, WeftId, i));
      if (!g_hash_table_add (seen, GINT_TO_POINTER (callee)))
        continue;
      const char *cname = weft_graph_get_name (graph, callee);
      int n_all = weft_graph_callee_n_nodes (graph, callee);
      for (int k = 0; k < n_all; k++)
        if (weft_graph_node_model (graph, weft_graph_callee_node_at (graph, callee, k)) != model)
          {
            g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_UNSUPPORTED,
                         "'%s' is called in model '%s' and in model '%s': a Keras file can "
                         "share a layer only within one model", cname,
                         weft_graph_get_name (graph, model),
                         weft_graph_get_name (graph, weft_graph_node_model (
                           graph, weft_graph_callee_node_at (graph, callee, k))));
            return FALSE;
          }
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, cname);
      if (weft_graph_kind (graph, callee) == WEFT_KIND_MODEL)
        {
          json_builder_set_member_name (b, "class_name");
          json_builder_add_string_value (b, for_tfjs ? "Model" : "Functional");
          json_builder_set_member_name (b, "config");
          if (!build_model_config (b, graph, callee, for_tfjs, depth + 1, error))
            return FALSE;
        }
      else if (!add_layer_class_and_config (b, graph, callee, for_tfjs, error))
        return FALSE;
      json_builder_set_member_name (b, "inbound_nodes");
      json_builder_begin_array (b);
      for (int k = 0; k < n_all; k++)
        {
          WeftId node = weft_graph_callee_node_at (graph, callee, k);
          int n_in = weft_graph_node_n_inputs (graph, node);
          if (n_in == 0)
            continue;
          json_builder_begin_array (b);
          for (int p = 0; p < n_in; p++)
            {
              WeftId src;
              int sp;
              weft_graph_node_input (graph, node, p, &src, &sp);
              add_tensor_ref (b, graph, src, sp, TRUE);
            }
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "input_layers");
  json_builder_begin_array (b);
  for (int i = 0; i < weft_graph_model_n_inputs (graph, model); i++)
    add_tensor_ref (b, graph, weft_graph_model_input (graph, model, i), 0, FALSE);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "output_layers");
  json_builder_begin_array (b);
  for (int i = 0; i < weft_graph_model_n_outputs (graph, model); i++)
    {
      const WeftHead *h = weft_graph_model_output (graph, model, i);
      add_tensor_ref (b, graph, h->node, h->port, FALSE);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return TRUE;
}

JsonNode *
weft_keras_topology (WeftGraph *graph, gboolean for_tfjs, GError **error)
{
  if (!weft_interop_check_graph (graph, error))
    return NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "class_name");
  json_builder_add_string_value (b, for_tfjs ? "Model" : "Functional");
  json_builder_set_member_name (b, "config");
  if (!build_model_config (b, graph, weft_graph_get_main_model (graph), for_tfjs, 0, error))
    return NULL;
  json_builder_set_member_name (b, "keras_version");
  json_builder_add_string_value (b, for_tfjs ? "tfjs-layers 4.22.0" : "2.15.0");
  json_builder_set_member_name (b, "backend");
  json_builder_add_string_value (b, for_tfjs ? "tensor_flow.js" : "tensorflow");
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Layers (not models) reachable from the main model, in model order then node order. */
static GArray *
reachable_layers (WeftGraph *graph)
{
  GArray *layers = g_array_new (FALSE, FALSE, sizeof (WeftId));
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GArray) models = weft_interop_model_order (graph);
  for (guint m = 0; m < models->len; m++)
    {
      WeftId model = g_array_index (models, WeftId, m);
      for (int i = 0; i < weft_graph_model_n_nodes (graph, model); i++)
        {
          WeftId callee = weft_graph_node_callee (graph, weft_graph_model_node_at (graph, model,
                                                                                   i));
          if (weft_graph_kind (graph, callee) == WEFT_KIND_LAYER
              && g_hash_table_add (seen, GINT_TO_POINTER (callee)))
            g_array_append_val (layers, callee);
        }
    }
  return layers;
}

gboolean
weft_tfjs_export (WeftGraph *graph, const char *dir, GError **error)
{
  g_autoptr (JsonNode) topo = weft_keras_topology (graph, TRUE, error);
  if (topo == NULL)
    return FALSE;
  if (!weft_interop_init_weights (graph, weft_graph_get_train_config (graph)->seed, error))
    return FALSE;

  g_autoptr (GByteArray) shard = g_byte_array_new ();
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "layers-model");
  json_builder_set_member_name (b, "generatedBy");
  json_builder_add_string_value (b, "Weft");
  json_builder_set_member_name (b, "convertedBy");
  json_builder_add_null_value (b);
  json_builder_set_member_name (b, "modelTopology");
  json_builder_add_value (b, json_node_ref (topo));
  json_builder_set_member_name (b, "weightsManifest");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "paths");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "group1-shard1of1.bin");
  json_builder_end_array (b);
  json_builder_set_member_name (b, "weights");
  json_builder_begin_array (b);
  g_autoptr (GArray) layers = reachable_layers (graph);
  for (guint l = 0; l < layers->len; l++)
    {
      WeftId layer = g_array_index (layers, WeftId, l);
      int n;
      const WeftWeight *w = weft_graph_layer_weights (graph, layer, &n);
      for (int k = 0; k < n; k++)
        {
          if (w[k].data == NULL)
            {
              g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_MISMATCH,
                           "layer '%s': weight '%s' has no data",
                           weft_graph_get_name (graph, layer), w[k].spec.name);
              return FALSE;
            }
          g_autofree char *wname = g_strdup_printf ("%s/%s", weft_graph_get_name (graph, layer),
                                                    w[k].spec.name);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, wname);
          json_builder_set_member_name (b, "shape");
          json_builder_begin_array (b);
          for (int d = 0; d < w[k].spec.shape.rank; d++)
            json_builder_add_int_value (b, w[k].spec.shape.dims[d]);
          json_builder_end_array (b);
          json_builder_set_member_name (b, "dtype");
          json_builder_add_string_value (b, "float32");
          json_builder_end_object (b);
          int64_t count = weft_shape_size (&w[k].spec.shape);
          /* little-endian float32, as tfjs reads shards */
          for (int64_t i = 0; i < count; i++)
            {
              guint32 bits;
              memcpy (&bits, &w[k].data[i], 4);
              bits = GUINT32_TO_LE (bits);
              g_byte_array_append (shard, (const guint8 *) &bits, 4);
            }
        }
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_IO, "cannot create '%s': %s",
                   dir, g_strerror (e));
      return FALSE;
    }
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  gsize len;
  g_autofree char *text = json_generator_to_data (gen, &len);
  g_autofree char *shard_path = g_build_filename (dir, "group1-shard1of1.bin", NULL);
  g_autofree char *json_path = g_build_filename (dir, "model.json", NULL);
  return weft_interop_write_file (shard_path, shard->data, shard->len, error)
         && weft_interop_write_file (json_path, text, len, error);
}

/* ---- Python source ---- */

typedef struct
{
  GString    *out;
  int         line;       /* lines written so far */
  WeftGraph  *graph;
  WeftId      highlight;
  WeftId      alt;        /* also attributed to this id (the callee of a node line) */
  int         first, last;
} Code;

static void
emit (Code *c, WeftId id, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Appends text (which may hold several lines, each ending in \n) attributed to `id`. */
static void
emit (Code *c, WeftId id, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *s = g_strdup_vprintf (format, ap);
  va_end (ap);
  int start = c->line + 1;
  for (const char *p = s; *p; p++)
    if (*p == '\n')
      c->line++;
  g_string_append (c->out, s);
  if ((id != WEFT_ID_NONE && id == c->highlight)
      || (c->alt != WEFT_ID_NONE && c->alt == c->highlight))
    {
      if (c->first == 0)
        c->first = start;
      c->last = c->line;
    }
}

static void
py_value (GString *s, const WeftOpDesc *op, const WeftParamSpec *spec, const WeftValue *v)
{
  switch (spec->type)
    {
    case WEFT_PARAM_INT:
      if ((spec->flags & WEFT_PARAM_NULLABLE) && v->num == 0)
        g_string_append (s, "None");
      else
        g_string_append_printf (s, "%d", (int) v->num);
      break;
    case WEFT_PARAM_FLOAT:
      {
        char buf[32];
        for (int prec = 6; prec <= 9; prec++)
          {
            g_snprintf (buf, sizeof buf, "%.*g", prec, v->num);
            if ((float) g_ascii_strtod (buf, NULL) == (float) v->num)
              break;
          }
        g_string_append (s, buf);
        if (strchr (buf, '.') == NULL && strchr (buf, 'e') == NULL)
          g_string_append (s, ".0");
      }
      break;
    case WEFT_PARAM_BOOL:
      g_string_append (s, v->num != 0 ? "True" : "False");
      break;
    case WEFT_PARAM_CHOICE:
      g_string_append_printf (s, "\"%s\"", spec->choices[(int) v->num]);
      break;
    case WEFT_PARAM_INTS:
      if (v->n == 0 && is_pool (op))
        {
          g_string_append (s, "None");
          break;
        }
      if ((strcmp (op->name, "ZeroPadding2D") == 0 || strcmp (op->name, "Cropping2D") == 0)
          && v->n == 4)
        {
          g_string_append_printf (s, "((%d, %d), (%d, %d))", v->ints[0], v->ints[1],
                                  v->ints[2], v->ints[3]);
          break;
        }
      if (v->n == 1 && (strcmp (op->name, "Dot") == 0 || g_str_has_suffix (op->name, "1D")))
        {
          g_string_append_printf (s, "%d", v->ints[0]);
          break;
        }
      g_string_append_c (s, '(');
      for (int i = 0; i < v->n; i++)
        g_string_append_printf (s, "%s%d", i ? ", " : "", v->ints[i]);
      if (v->n == 1)
        g_string_append_c (s, ',');
      g_string_append_c (s, ')');
      break;
    }
}

static gboolean
value_is_default (const WeftParamSpec *spec, const WeftValue *v)
{
  if (spec->type != WEFT_PARAM_INTS)
    return v->num == spec->def;
  if (v->n != spec->def_n)
    return FALSE;
  for (int i = 0; i < v->n; i++)
    if (v->ints[i] != spec->def_ints[i])
      return FALSE;
  return TRUE;
}

/* "layers.Dense(32, activation=\"relu\", name=\"x\")": key parameters always (the first one
 * positional), the others when not at their default. */
static void
py_layer_ctor (GString *s, const WeftOpDesc *op, const WeftValue *cfg, const WeftOpDesc *wrapper,
               const WeftValue *wrapper_cfg, const char *name)
{
  const WeftOpDesc *desc = wrapper != NULL ? wrapper : op;
  const WeftValue *values = wrapper != NULL ? wrapper_cfg : cfg;
  gboolean first = TRUE;

  g_string_append_printf (s, "layers.%s(", op->name);
  for (int i = 0; i < op->n_params; i++)
    {
      const WeftParamSpec *spec = &op->params[i];
      int at = wrapper != NULL ? weft_op_param_index (wrapper, spec->name) : i;
      if (at < 0 || strcmp (spec->name, "layer") == 0)
        continue;
      if (wrapper != NULL && strcmp (spec->name, "merge_mode") == 0)
        continue;
      const WeftValue *v = &values[at];
      gboolean key = (desc->params[at].flags & WEFT_PARAM_KEY) != 0;
      if (!key && value_is_default (spec, v))
        continue;
      if (!first)
        g_string_append (s, ", ");
      static const char *const positional[] = { "units", "filters", "rate", "n", "target_shape",
                                                "dims", "input_dim", NULL };
      if (!(first && key && i == 0 && in_list (positional, spec->name)))
        g_string_append_printf (s, "%s=", spec->name);
      py_value (s, op, spec, v);
      first = FALSE;
    }
  if (name != NULL)
    g_string_append_printf (s, "%sname=\"%s\"", first ? "" : ", ", name);
  g_string_append_c (s, ')');
}

static char *
py_layer_expr (WeftGraph *graph, WeftId layer)
{
  const WeftOpDesc *op = weft_graph_layer_op (graph, layer);
  const WeftValue *cfg = weft_graph_layer_config (graph, layer);
  const char *name = weft_graph_get_name (graph, layer);
  GString *s = g_string_new (NULL);

  if (strcmp (op->name, "Bidirectional") == 0 || strcmp (op->name, "TimeDistributed") == 0)
    {
      int li = weft_op_param_index (op, "layer");
      const WeftOpDesc *inner = weft_op_lookup (op->params[li].choices[(int) cfg[li].num]);
      g_string_append_printf (s, "layers.%s(", op->name);
      py_layer_ctor (s, inner, NULL, op, cfg,
                     strcmp (op->name, "Bidirectional") == 0
                       ? bidir_inner_names[(int) cfg[li].num] : NULL);
      int mm = weft_op_param_index (op, "merge_mode");
      if (mm >= 0 && !value_is_default (&op->params[mm], &cfg[mm]))
        {
          g_string_append (s, ", merge_mode=");
          py_value (s, op, &op->params[mm], &cfg[mm]);
        }
      g_string_append_printf (s, ", name=\"%s\")", name);
    }
  else
    py_layer_ctor (s, op, cfg, NULL, NULL, name);
  return g_string_free (s, FALSE);
}

static char *
tensor_var (WeftGraph *graph, WeftId node, int port)
{
  WeftId callee = weft_graph_node_callee (graph, node);
  WeftId model = weft_graph_node_model (graph, node);
  g_autofree char *base = weft_interop_identifier (weft_graph_get_name (graph, callee));
  GString *s = g_string_new (base);
  if (weft_graph_kind (graph, callee) == WEFT_KIND_MODEL
      || weft_interop_n_calls_in (graph, callee, model) > 1)
    g_string_append_printf (s, "_%d", weft_interop_call_index (graph, node) + 1);
  if (weft_graph_node_n_outputs (graph, node) > 1)
    g_string_append_printf (s, "_out%d", port);
  return g_string_free (s, FALSE);
}

static char *
inputs_expr (WeftGraph *graph, WeftId node, gboolean force_list)
{
  int n_in = weft_graph_node_n_inputs (graph, node);
  GString *s = g_string_new (NULL);
  WeftId callee = weft_graph_node_callee (graph, node);
  gboolean list = force_list || n_in > 1
                  || (weft_graph_kind (graph, callee) == WEFT_KIND_LAYER
                      && (weft_graph_layer_op (graph, callee)->flags & WEFT_OP_MERGE));
  if (list)
    g_string_append_c (s, '[');
  for (int p = 0; p < n_in; p++)
    {
      WeftId src;
      int sp;
      if (p > 0)
        g_string_append (s, ", ");
      if (weft_graph_node_input (graph, node, p, &src, &sp))
        {
          g_autofree char *v = tensor_var (graph, src, sp);
          g_string_append (s, v);
        }
      else
        g_string_append (s, "None");
    }
  if (list)
    g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static void
py_model (Code *c, WeftId model, gboolean is_main)
{
  WeftGraph *graph = c->graph;
  GArray *order = weft_interop_topo_order (graph, model, NULL);
  if (order == NULL)
    {
      order = g_array_new (FALSE, FALSE, sizeof (WeftId));
      for (int i = 0; i < weft_graph_model_n_nodes (graph, model); i++)
        {
          WeftId node = weft_graph_model_node_at (graph, model, i);
          g_array_append_val (order, node);
        }
    }
  g_autofree char *mvar = weft_interop_identifier (weft_graph_get_name (graph, model));
  g_autoptr (GHashTable) defined = g_hash_table_new (g_direct_hash, g_direct_equal);

  emit (c, model, "\n# ---- model \"%s\" ----\n", weft_graph_get_name (graph, model));
  /* shared layers: one instance, defined before its first call */
  for (guint i = 0; i < order->len; i++)
    {
      WeftId node = g_array_index (order, WeftId, i);
      WeftId callee = weft_graph_node_callee (graph, node);
      if (weft_graph_kind (graph, callee) != WEFT_KIND_LAYER
          || weft_interop_n_calls_in (graph, callee, model) < 2
          || !g_hash_table_add (defined, GINT_TO_POINTER (callee)))
        continue;
      g_autofree char *var = weft_interop_identifier (weft_graph_get_name (graph, callee));
      g_autofree char *expr = py_layer_expr (graph, callee);
      emit (c, callee, "%s = %s  # shared: called %d times\n", var, expr,
            weft_interop_n_calls_in (graph, callee, model));
    }
  for (guint i = 0; i < order->len; i++)
    {
      WeftId node = g_array_index (order, WeftId, i);
      WeftId callee = weft_graph_node_callee (graph, node);
      g_autofree char *cvar = weft_interop_identifier (weft_graph_get_name (graph, callee));
      g_autofree char *args = inputs_expr (graph, node, FALSE);
      int n_out = weft_graph_node_n_outputs (graph, node);
      c->alt = weft_graph_kind (graph, callee) == WEFT_KIND_LAYER
               && !g_hash_table_contains (defined, GINT_TO_POINTER (callee)) ? callee
               : WEFT_ID_NONE;
      GString *lhs = g_string_new (NULL);
      for (int p = 0; p < n_out; p++)
        {
          g_autofree char *v = tensor_var (graph, node, p);
          g_string_append_printf (lhs, "%s%s", p ? ", " : "", v);
        }
      if (weft_graph_kind (graph, callee) == WEFT_KIND_MODEL)
        emit (c, node, "%s = %s(%s)\n", lhs->str, cvar, args);
      else
        {
          const WeftOpDesc *op = weft_graph_layer_op (graph, callee);
          if (op->flags & WEFT_OP_INPUT)
            {
              const WeftValue *cfg = weft_graph_layer_config (graph, callee);
              const WeftValue *shape = &cfg[weft_op_param_index (op, "shape")];
              GString *sh = g_string_new ("(");
              for (int d = 0; d < shape->n; d++)
                g_string_append_printf (sh, "%s%d", d ? ", " : "", shape->ints[d]);
              g_string_append (sh, shape->n == 1 ? ",)" : ")");
              gboolean is_int = cfg[weft_op_param_index (op, "dtype")].num == 1;
              emit (c, node, "%s = keras.Input(shape=%s, name=\"%s\"%s)\n", lhs->str, sh->str,
                    weft_graph_get_name (graph, callee), is_int ? ", dtype=\"int32\"" : "");
              g_string_free (sh, TRUE);
            }
          else if (g_hash_table_contains (defined, GINT_TO_POINTER (callee)))
            emit (c, node, "%s = %s(%s)\n", lhs->str, cvar, args);
          else
            {
              g_autofree char *expr = py_layer_expr (graph, callee);
              emit (c, node, "%s = %s(%s)\n", lhs->str, expr, args);
            }
        }
      c->alt = WEFT_ID_NONE;
      g_string_free (lhs, TRUE);
    }
  GString *ins = g_string_new (NULL), *outs = g_string_new (NULL);
  int n_in = weft_graph_model_n_inputs (graph, model);
  int n_out = weft_graph_model_n_outputs (graph, model);
  for (int i = 0; i < n_in; i++)
    {
      g_autofree char *v = tensor_var (graph, weft_graph_model_input (graph, model, i), 0);
      g_string_append_printf (ins, "%s%s", i ? ", " : "", v);
    }
  for (int i = 0; i < n_out; i++)
    {
      const WeftHead *h = weft_graph_model_output (graph, model, i);
      g_autofree char *v = tensor_var (graph, h->node, h->port);
      g_string_append_printf (outs, "%s%s", i ? ", " : "", v);
    }
  emit (c, model, "%s = keras.Model(inputs=%s%s%s, outputs=%s%s%s, name=\"%s\")\n",
        is_main ? "model" : mvar, n_in == 1 ? "" : "[", ins->str, n_in == 1 ? "" : "]",
        n_out == 1 ? "" : "[", outs->str, n_out == 1 ? "" : "]",
        weft_graph_get_name (graph, model));
  g_string_free (ins, TRUE);
  g_string_free (outs, TRUE);
  g_array_free (order, TRUE);
}

static const char *
keras_loss_expr (const WeftHead *h, char *buf, size_t len)
{
  static const char *const names[] = {
    NULL, "mse", "mae", "huber", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy"
  };
  static const char *const classes[] = {
    NULL, NULL, NULL, "Huber", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy"
  };
  if (h->loss <= WEFT_LOSS_NONE || h->loss >= WEFT_LOSS_COUNT)
    return NULL;
  if (h->loss == WEFT_LOSS_HUBER && h->huber_delta != 1.0f)
    g_snprintf (buf, len, "keras.losses.Huber(delta=%g)", h->huber_delta);
  else if (h->from_logits && classes[h->loss] != NULL && h->loss != WEFT_LOSS_HUBER)
    g_snprintf (buf, len, "keras.losses.%s(from_logits=True)", classes[h->loss]);
  else
    g_snprintf (buf, len, "\"%s\"", names[h->loss]);
  return buf;
}

static void
py_compile (Code *c, WeftId model)
{
  WeftGraph *graph = c->graph;
  const WeftTrainConfig *tc = weft_graph_get_train_config (graph);
  const WeftOptimConfig *o = &tc->optimizer;
  GString *opt = g_string_new (NULL);
  switch (o->kind)
    {
    case WEFT_OPTIM_SGD:
      g_string_append_printf (opt, "keras.optimizers.SGD(learning_rate=%g, momentum=%g%s",
                              o->learning_rate, o->momentum, o->nesterov ? ", nesterov=True" : "");
      break;
    case WEFT_OPTIM_ADAM:
    case WEFT_OPTIM_ADAMW:
      g_string_append_printf (opt, "keras.optimizers.%s(learning_rate=%g, beta_1=%g, "
                              "beta_2=%g, epsilon=%g", o->kind == WEFT_OPTIM_ADAM ? "Adam"
                              : "AdamW", o->learning_rate, o->beta_1, o->beta_2, o->epsilon);
      if (o->kind == WEFT_OPTIM_ADAMW)
        g_string_append_printf (opt, ", weight_decay=%g", o->weight_decay);
      break;
    case WEFT_OPTIM_RMSPROP:
      g_string_append_printf (opt, "keras.optimizers.RMSprop(learning_rate=%g, rho=%g, "
                              "momentum=%g, epsilon=%g", o->learning_rate, o->rho, o->momentum,
                              o->epsilon);
      break;
    }
  if (o->clipnorm > 0)
    g_string_append_printf (opt, ", clipnorm=%g", o->clipnorm);
  if (o->global_clipnorm > 0)
    g_string_append_printf (opt, ", global_clipnorm=%g", o->global_clipnorm);
  g_string_append_c (opt, ')');

  GString *loss = g_string_new ("{"), *weights = g_string_new ("{"), *metrics = g_string_new ("{");
  int n_out = weft_graph_model_n_outputs (graph, model);
  gboolean any_metric = FALSE;
  for (int i = 0; i < n_out; i++)
    {
      const WeftHead *h = weft_graph_model_output (graph, model, i);
      const char *name = weft_graph_model_output_name (graph, model, i);
      char buf[96];
      const char *le = keras_loss_expr (h, buf, sizeof buf);
      g_string_append_printf (loss, "%s\"%s\": %s", i ? ", " : "", name, le ? le : "None");
      g_string_append_printf (weights, "%s\"%s\": %g", i ? ", " : "", name, h->weight);
      if (h->metric > WEFT_METRIC_NONE && h->metric < WEFT_METRIC_COUNT)
        {
          g_string_append_printf (metrics, "%s\"%s\": [\"%s\"]", any_metric ? ", " : "", name,
                                  weft_metric_names[h->metric]);
          any_metric = TRUE;
        }
    }
  g_string_append_c (loss, '}');
  g_string_append_c (weights, '}');
  g_string_append_c (metrics, '}');
  emit (c, WEFT_ID_NONE, "\nmodel.compile(\n    optimizer=%s,\n    loss=%s,\n"
        "    loss_weights=%s,\n%s%s%s)\n", opt->str, loss->str, weights->str,
        any_metric ? "    metrics=" : "", any_metric ? metrics->str : "", any_metric ? ",\n" : "");
  emit (c, WEFT_ID_NONE, "model.summary()\n"
        "# model.fit(x, y, epochs=%d, batch_size=%d, validation_split=%g, shuffle=%s)\n",
        tc->epochs, tc->batch_size, tc->validation_split, tc->shuffle ? "True" : "False");
  g_string_free (opt, TRUE);
  g_string_free (loss, TRUE);
  g_string_free (weights, TRUE);
  g_string_free (metrics, TRUE);
}

char *
weft_keras_code (WeftGraph *graph, WeftId highlight_node, int *highlight_first_line,
                 int *highlight_last_line)
{
  Code c = { g_string_new (NULL), 0, graph, highlight_node, WEFT_ID_NONE, 0, 0 };
  WeftId main_model = weft_graph_get_main_model (graph);

  if (highlight_first_line)
    *highlight_first_line = 0;
  if (highlight_last_line)
    *highlight_last_line = 0;
  if (main_model == WEFT_ID_NONE)
    {
      g_string_free (c.out, TRUE);
      return NULL;
    }
  weft_graph_analyse (graph);
  emit (&c, WEFT_ID_NONE,
        "# Generated by Weft: the Keras functional API (Keras 2 semantics, as tf.keras 2.x and\n"
        "# TensorFlow.js; hard_sigmoid is clip(0.2 x + 0.5, 0, 1) there).\n"
        "from tensorflow import keras\n"
        "from tensorflow.keras import layers\n");
  g_autoptr (GArray) models = weft_interop_model_order (graph);
  for (guint m = 0; m < models->len; m++)
    {
      WeftId model = g_array_index (models, WeftId, m);
      py_model (&c, model, model == main_model);
    }
  py_compile (&c, main_model);
  if (highlight_first_line)
    *highlight_first_line = c.first;
  if (highlight_last_line)
    *highlight_last_line = c.last;
  return g_string_free (c.out, FALSE);
}

gboolean
weft_keras_code_export (WeftGraph *graph, const char *path, GError **error)
{
  if (!weft_interop_check_graph (graph, error))
    return FALSE;
  g_autofree char *code = weft_keras_code (graph, WEFT_ID_NONE, NULL, NULL);
  return weft_interop_write_file (path, code, strlen (code), error);
}
