/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-keras-import.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "weft-activation.h"
#include "weft-canvas-geometry.h"

typedef struct
{
  WeftGraph  *graph;
  gboolean    keras3;
  GError    **error;
  int         n_models;
} Importer;

/* A Keras layer of one model config: its Weft callee and the nodes of its calls. */
typedef struct
{
  const char *name;
  const char *class_name;
  WeftId      callee;
  gboolean    is_model;
  gboolean    is_input;
  int         offset;     /* Keras node index of the first call */
  GArray     *nodes;      /* WeftId per call */
  JsonArray  *inbound;    /* Keras 2 lists or Keras 3 objects; may be NULL */
} KLayer;

static void
klayer_free (gpointer p)
{
  KLayer *k = p;
  if (k->nodes)
    g_array_free (k->nodes, TRUE);
  g_free (k);
}

static gboolean fail (Importer *im, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (Importer *im, int code, const char *format, ...)
{
  if (im->error != NULL && *im->error != NULL)
    return FALSE;
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error_literal (im->error, WEFT_INTEROP_ERROR, code, msg);
  return FALSE;
}

#define FAIL_FORMAT(...) fail (im, WEFT_INTEROP_ERROR_FORMAT, __VA_ARGS__)
#define FAIL_UNSUPPORTED(...) fail (im, WEFT_INTEROP_ERROR_UNSUPPORTED, __VA_ARGS__)

static const char *
type_name (JsonNode *n)
{
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT (n))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY (n))
    return "a list";
  GType t = json_node_get_value_type (n);
  if (t == G_TYPE_STRING)
    return "a string";
  if (t == G_TYPE_BOOLEAN)
    return "a boolean";
  return "a number";
}

static gboolean
is_number (JsonNode *n)
{
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  GType t = json_node_get_value_type (n);
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

static gboolean
is_string (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING;
}

static gboolean
is_bool (JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_VALUE (n)
         && json_node_get_value_type (n) == G_TYPE_BOOLEAN;
}

static const char *
member_string (JsonObject *o, const char *key)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, key) : NULL;
  return is_string (n) ? json_node_get_string (n) : NULL;
}

static JsonObject *
member_object (JsonObject *o, const char *key)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, key) : NULL;
  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
member_array (JsonObject *o, const char *key)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, key) : NULL;
  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

/* json-glib's parser recurses once per nesting level: refuse absurd nesting first. */
static gboolean
check_depth (Importer *im, const char *json, gsize len)
{
  int depth = 0;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = json[i];
      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if ((c == '[' || c == '{') && ++depth > WEFT_KERAS_MAX_DEPTH)
        return fail (im, WEFT_INTEROP_ERROR_TOO_LARGE,
                     "the JSON is nested deeper than %d levels", WEFT_KERAS_MAX_DEPTH);
      else if (c == ']' || c == '}')
        depth--;
    }
  return TRUE;
}

/* ---- layer configs, driven by the registry ---- */

/* Keras class names that mean a registry type under another name. */
static const char *const class_aliases[][2] = {
  { "Convolution1D", "Conv1D" }, { "Convolution2D", "Conv2D" },
  { "Conv2DTranspose", "Conv2DTranspose" }, { "Deconvolution2D", "Conv2DTranspose" },
  { "SeparableConvolution2D", "SeparableConv2D" }, { "MaxPool1D", "MaxPooling1D" },
  { "MaxPool2D", "MaxPooling2D" }, { "AvgPool1D", "AveragePooling1D" },
  { "AvgPool2D", "AveragePooling2D" }, { "GlobalMaxPool1D", "GlobalMaxPooling1D" },
  { "GlobalMaxPool2D", "GlobalMaxPooling2D" }, { "GlobalAvgPool1D", "GlobalAveragePooling1D" },
  { "GlobalAvgPool2D", "GlobalAveragePooling2D" },
};

/* Keras config keys with no effect on what the layer computes once its weights are loaded. */
static const char *const ignored_keys[] = {
  "name", "trainable", "dtype", "batch_input_shape", "batch_shape", "input_shape",
  "input_dim_unused", "input_length", "implementation", "unroll", "seed", "fused",
  "use_cudnn", "autocast", "build_config", "time_major_unused", NULL
};

/* Keys whose value must be what Weft computes (anything else is refused). */
typedef struct
{
  const char *key;
  enum { MUST_NULL, MUST_FALSE, MUST_STRING, MUST_ONE, MUST_TRUE } kind;
  const char *value;
} Required;

static const Required required_keys[] = {
  { "kernel_regularizer", MUST_NULL, NULL }, { "bias_regularizer", MUST_NULL, NULL },
  { "activity_regularizer", MUST_NULL, NULL }, { "recurrent_regularizer", MUST_NULL, NULL },
  { "embeddings_regularizer", MUST_NULL, NULL }, { "depthwise_regularizer", MUST_NULL, NULL },
  { "pointwise_regularizer", MUST_NULL, NULL }, { "beta_regularizer", MUST_NULL, NULL },
  { "gamma_regularizer", MUST_NULL, NULL }, { "noise_shape", MUST_NULL, NULL },
  { "lora_rank", MUST_NULL, NULL }, { "virtual_batch_size", MUST_NULL, NULL },
  { "adjustment", MUST_NULL, NULL }, { "output_padding", MUST_NULL, NULL },
  { "stateful", MUST_FALSE, NULL }, { "return_state", MUST_FALSE, NULL },
  { "mask_zero", MUST_FALSE, NULL }, { "sparse", MUST_FALSE, NULL },
  { "ragged", MUST_FALSE, NULL }, { "renorm", MUST_FALSE, NULL },
  { "time_major", MUST_FALSE, NULL }, { "synchronized", MUST_FALSE, NULL },
  { "rms_scaling", MUST_FALSE, NULL }, { "zero_output_for_mask", MUST_FALSE, NULL },
  { "data_format", MUST_STRING, "channels_last" }, { "groups", MUST_ONE, NULL },
  { "depth_multiplier_unused", MUST_ONE, NULL },
};

static gboolean
is_initializer_or_constraint (const char *key)
{
  return g_str_has_suffix (key, "_initializer") || g_str_has_suffix (key, "_constraint");
}

/* The activation spelling Weft uses for a Keras one, or NULL (error set). */
static const char *
activation_name (Importer *im, const char *where, JsonNode *n)
{
  if (!is_string (n))
    {
      FAIL_UNSUPPORTED ("%s: activation must be a built-in name, not %s", where, type_name (n));
      return NULL;
    }
  const char *s = json_node_get_string (n);
  if (strcmp (s, "silu") == 0)
    return "swish";
  if (strcmp (s, "hard_sigmoid") == 0 && im->keras3)
    {
      FAIL_UNSUPPORTED ("%s: Keras 3's hard_sigmoid (relu6(x + 3) / 6) differs from the Keras 2 "
                        "hard_sigmoid Weft computes", where);
      return NULL;
    }
  return s;
}

/* Reads the ints of a Keras value: a number, a list of numbers or a list of pairs. */
static gboolean
read_ints (Importer *im, const char *where, const char *key, JsonNode *n, int *out, int max,
           int *count)
{
  *count = 0;
  if (is_number (n))
    {
      double d = json_node_get_double (n);
      if (d != floor (d) || fabs (d) > 1e9)
        return FAIL_FORMAT ("%s: '%s' must be a whole number, not %g", where, key, d);
      out[(*count)++] = (int) d;
      return TRUE;
    }
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    return FAIL_FORMAT ("%s: '%s' must be a number or a list of numbers, not %s", where, key,
                        type_name (n));
  JsonArray *a = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_ARRAY (e))
        {
          int sub[WEFT_MAX_RANK], ns;
          if (!read_ints (im, where, key, e, sub, WEFT_MAX_RANK, &ns))
            return FALSE;
          for (int k = 0; k < ns; k++)
            {
              if (*count >= max)
                return FAIL_FORMAT ("%s: '%s' has too many values", where, key);
              out[(*count)++] = sub[k];
            }
          continue;
        }
      if (!is_number (e))
        return FAIL_FORMAT ("%s: '%s'[%u] must be a whole number, not %s", where, key, i,
                            type_name (e));
      double d = json_node_get_double (e);
      if (d != floor (d) || fabs (d) > 1e9)
        return FAIL_FORMAT ("%s: '%s'[%u] must be a whole number, not %g", where, key, i, d);
      if (*count >= max)
        return FAIL_FORMAT ("%s: '%s' has too many values", where, key);
      out[(*count)++] = (int) d;
    }
  return TRUE;
}

/* One Keras config value into a registry value. */
static gboolean
parse_param (Importer *im, const char *where, const WeftOpDesc *op, const WeftParamSpec *spec,
             JsonNode *n, WeftValue *v)
{
  char why[320];
  const char *key = spec->name;

  /* tfjs writes null for options it leaves at their default (unit_forget_bias) */
  if (JSON_NODE_HOLDS_NULL (n) && spec->type != WEFT_PARAM_INTS
      && !(spec->type == WEFT_PARAM_INT && (spec->flags & WEFT_PARAM_NULLABLE)))
    return TRUE;
  switch (spec->type)
    {
    case WEFT_PARAM_INT:
      if (JSON_NODE_HOLDS_NULL (n) && (spec->flags & WEFT_PARAM_NULLABLE))
        {
          v->num = 0;
          break;
        }
      if (JSON_NODE_HOLDS_ARRAY (n) && strcmp (key, "axis") == 0)
        {
          /* LayerNormalization/BatchNormalization may list one absolute axis */
          int ints[WEFT_MAX_RANK], c;
          if (!read_ints (im, where, key, n, ints, WEFT_MAX_RANK, &c))
            return FALSE;
          if (c != 1)
            return FAIL_UNSUPPORTED ("%s: normalising over %d axes is not supported", where, c);
          v->num = ints[0];
          break;
        }
      if (!is_number (n) || json_node_get_double (n) != floor (json_node_get_double (n)))
        return FAIL_FORMAT ("%s: '%s' must be a whole number, not %s", where, key,
                            type_name (n));
      v->num = json_node_get_double (n);
      if (fabs (v->num) > 1e9)
        return FAIL_FORMAT ("%s: '%s' = %g is absurd", where, key, v->num);
      break;
    case WEFT_PARAM_FLOAT:
      if (!is_number (n))
        return FAIL_FORMAT ("%s: '%s' must be a number, not %s", where, key, type_name (n));
      v->num = json_node_get_double (n);
      break;
    case WEFT_PARAM_BOOL:
      if (!is_bool (n))
        return FAIL_FORMAT ("%s: '%s' must be true or false, not %s", where, key, type_name (n));
      v->num = json_node_get_boolean (n) ? 1 : 0;
      break;
    case WEFT_PARAM_CHOICE:
      {
        const char *s = spec->choices == weft_activation_names
                          ? activation_name (im, where, n)
                          : (is_string (n) ? json_node_get_string (n) : NULL);
        if (s == NULL)
          return im->error && *im->error ? FALSE
                 : FAIL_FORMAT ("%s: '%s' must be a string, not %s", where, key, type_name (n));
        int i;
        for (i = 0; spec->choices[i] != NULL; i++)
          if (strcmp (spec->choices[i], s) == 0)
            break;
        if (spec->choices[i] == NULL)
          {
            g_autofree char *list = g_strjoinv (", ", (char **) spec->choices);
            return FAIL_UNSUPPORTED ("%s: %s '%s' is not supported (Weft knows %s)", where, key,
                                     s, list);
          }
        v->num = i;
      }
      break;
    case WEFT_PARAM_INTS:
      {
        if (JSON_NODE_HOLDS_NULL (n))
          {
            if (spec->n_min == 0)
              {
                v->n = 0;
                break;
              }
            return FAIL_FORMAT ("%s: '%s' must not be null", where, key);
          }
        int ints[WEFT_MAX_RANK * 2], c;
        if (!read_ints (im, where, key, n, ints, WEFT_MAX_RANK, &c))
          return FALSE;
        /* Keras' kernel_size=3 means (3, 3) for 2D layers */
        if (c == 1 && is_number (n) && spec->def_n > 1 && strcmp (key, "padding") != 0
            && strcmp (key, "cropping") != 0)
          for (c = 1; c < spec->def_n; c++)
            ints[c] = ints[0];
        if (c < spec->n_min || c > spec->n_max)
          return FAIL_FORMAT ("%s: '%s' needs %d to %d values, not %d", where, key, spec->n_min,
                              spec->n_max, c);
        v->n = c;
        for (int i = 0; i < c; i++)
          {
            gboolean minus_one = ints[i] == -1 && (spec->flags & WEFT_PARAM_ALLOW_MINUS_ONE);
            if (!minus_one && (ints[i] < spec->min || ints[i] > spec->max))
              return FAIL_FORMAT ("%s: '%s'[%d] = %d is outside %g..%g", where, key, i, ints[i],
                                  spec->min, spec->max);
            v->ints[i] = ints[i];
          }
      }
      break;
    }
  if (!weft_op_check_value (spec, v, why, sizeof why))
    return FAIL_FORMAT ("%s: %s", where, why);
  (void) op;
  return TRUE;
}

static gboolean
check_extra_key (Importer *im, const char *where, const char *key, JsonNode *n)
{
  if (is_initializer_or_constraint (key))
    return TRUE;
  for (int i = 0; ignored_keys[i] != NULL; i++)
    if (strcmp (ignored_keys[i], key) == 0)
      return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (required_keys); i++)
    {
      const Required *r = &required_keys[i];
      if (strcmp (r->key, key) != 0)
        continue;
      gboolean ok = FALSE;
      switch (r->kind)
        {
        case MUST_NULL:
          ok = n == NULL || JSON_NODE_HOLDS_NULL (n);
          break;
        case MUST_FALSE:
          ok = n == NULL || JSON_NODE_HOLDS_NULL (n) || (is_bool (n) && !json_node_get_boolean (n));
          break;
        case MUST_TRUE:
          ok = is_bool (n) && json_node_get_boolean (n);
          break;
        case MUST_STRING:
          ok = n == NULL || JSON_NODE_HOLDS_NULL (n)
               || (is_string (n) && strcmp (json_node_get_string (n), r->value) == 0);
          break;
        case MUST_ONE:
          ok = is_number (n) && json_node_get_double (n) == 1;
          break;
        }
      if (!ok)
        {
          g_autoptr (JsonGenerator) gen = json_generator_new ();
          json_generator_set_root (gen, n);
          g_autofree char *text = json_generator_to_data (gen, NULL);
          return FAIL_UNSUPPORTED ("%s: option '%s' = %.80s is not supported", where, key, text);
        }
      return TRUE;
    }
  return FAIL_UNSUPPORTED ("%s: option '%s' is not supported", where, key);
}

/* Fills cfg (defaults first) from a Keras config object; `prefix_ok` names the registry
 * parameters the config may set (all when NULL). */
static gboolean
parse_config (Importer *im, const char *where, const WeftOpDesc *op, JsonObject *config,
              WeftValue *cfg, gboolean *seen)
{
  g_autoptr (GList) members = json_object_get_members (config);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *n = json_object_get_member (config, key);
      int i = weft_op_param_index (op, key);
      if (i >= 0 && strcmp (key, "layer") != 0 && !(op->flags & WEFT_OP_INPUT))
        {
          if (!parse_param (im, where, op, &op->params[i], n, &cfg[i]))
            return FALSE;
          if (seen)
            seen[i] = TRUE;
        }
      else if (!check_extra_key (im, where, key, n))
        return FALSE;
    }
  return TRUE;
}

/* Sets every parameter of cfg on the layer (values already checked against the specs). */
static gboolean
apply_config (Importer *im, const char *where, WeftId layer, const WeftOpDesc *op,
              const WeftValue *cfg)
{
  WeftError err = { 0 };
  for (int i = 0; i < op->n_params; i++)
    if (!weft_graph_layer_set_param (im->graph, layer, op->params[i].name, &cfg[i], &err))
      return FAIL_FORMAT ("%s: %s", where, err.message);
  return TRUE;
}

static gboolean
input_shape (Importer *im, const char *where, JsonNode *n, gboolean with_batch, WeftValue *v)
{
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    return FAIL_FORMAT ("%s: the input shape must be a list, not %s", where, type_name (n));
  JsonArray *a = json_node_get_array (n);
  guint len = json_array_get_length (a);
  guint first = with_batch ? 1 : 0;
  if (len <= first)
    return FAIL_UNSUPPORTED ("%s: an input without axes besides the batch is not supported",
                             where);
  if (len - first > WEFT_MAX_RANK)
    return FAIL_UNSUPPORTED ("%s: inputs of more than %d axes are not supported", where,
                             WEFT_MAX_RANK);
  v->n = (int) (len - first);
  for (guint i = first; i < len; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_NULL (e))
        return FAIL_UNSUPPORTED ("%s: axis %u of the input has no fixed size (None); Weft needs "
                                 "fixed shapes", where, i);
      if (!is_number (e) || json_node_get_double (e) != floor (json_node_get_double (e))
          || json_node_get_double (e) < 1 || json_node_get_double (e) > (1 << 30))
        return FAIL_FORMAT ("%s: input axis %u must be a positive whole number", where, i);
      v->ints[i - first] = (int) json_node_get_double (e);
    }
  return TRUE;
}

/* Creates an Input layer from a shape (with the batch axis) and dtype; returns its node. */
static WeftId
make_input (Importer *im, WeftId model, const char *name, JsonNode *shape_node,
            gboolean with_batch, const char *dtype)
{
  const WeftOpDesc *op = weft_op_lookup ("Input");
  WeftError err = { 0 };
  g_autofree char *where = g_strdup_printf ("input '%s'", name);
  WeftValue v = { 0 };
  if (!input_shape (im, where, shape_node, with_batch, &v))
    return WEFT_ID_NONE;
  WeftId layer = weft_graph_add_layer (im->graph, "Input", name, &err);
  if (layer == WEFT_ID_NONE)
    return fail (im, WEFT_INTEROP_ERROR_FORMAT, "%s: %s", where, err.message), WEFT_ID_NONE;
  if (!weft_graph_layer_set_param (im->graph, layer, "shape", &v, &err))
    return fail (im, WEFT_INTEROP_ERROR_FORMAT, "%s: %s", where, err.message), WEFT_ID_NONE;
  if (dtype != NULL)
    {
      WeftValue d = { 0 };
      if (strcmp (dtype, "float32") == 0)
        d.num = 0;
      else if (strcmp (dtype, "int32") == 0 || strcmp (dtype, "int64") == 0)
        d.num = 1;
      else
        return FAIL_UNSUPPORTED ("%s: dtype '%s' is not supported (float32 or int32)", where,
                                 dtype), WEFT_ID_NONE;
      (void) op;
      weft_graph_layer_set_param (im->graph, layer, "dtype", &d, NULL);
    }
  WeftId node = weft_graph_add_node (im->graph, model, layer, &err);
  if (node == WEFT_ID_NONE || !weft_graph_model_add_input (im->graph, model, node, &err))
    return fail (im, WEFT_INTEROP_ERROR_FORMAT, "%s: %s", where, err.message), WEFT_ID_NONE;
  return node;
}

static const char *
dtype_of (JsonObject *config)
{
  JsonNode *n = json_object_get_member (config, "dtype");
  if (is_string (n))
    return json_node_get_string (n);
  JsonObject *pol = n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
  return member_string (member_object (pol, "config"), "name");
}

/* Creates a (non-model, non-input) Weft layer from a Keras layer entry. */
static WeftId
make_layer (Importer *im, const char *class_name, const char *name, JsonObject *config,
            const char *model_name)
{
  g_autofree char *where = g_strdup_printf ("layer '%s' (%s) in model '%s'", name, class_name,
                                            model_name);
  const char *type = class_name;
  for (gsize i = 0; i < G_N_ELEMENTS (class_aliases); i++)
    if (strcmp (class_aliases[i][0], class_name) == 0)
      type = class_aliases[i][1];
  const WeftOpDesc *op = weft_op_lookup (type);
  if (op == NULL || (op->flags & WEFT_OP_INPUT))
    return FAIL_UNSUPPORTED ("%s: Weft has no %s layer", where, class_name), WEFT_ID_NONE;

  WeftValue cfg[64];
  g_return_val_if_fail (op->n_params <= 64, WEFT_ID_NONE);
  weft_op_defaults (op, cfg);
  if (strcmp (op->name, "Bidirectional") == 0 || strcmp (op->name, "TimeDistributed") == 0)
    {
      JsonObject *inner = member_object (config, "layer");
      const char *inner_class = member_string (inner, "class_name");
      JsonObject *inner_cfg = member_object (inner, "config");
      if (inner_class == NULL || inner_cfg == NULL)
        return FAIL_FORMAT ("%s: 'layer' must be an object with class_name and config", where),
               WEFT_ID_NONE;
      int li = weft_op_param_index (op, "layer");
      int k;
      for (k = 0; op->params[li].choices[k] != NULL; k++)
        if (strcmp (op->params[li].choices[k], inner_class) == 0)
          break;
      if (op->params[li].choices[k] == NULL)
        return FAIL_UNSUPPORTED ("%s: wrapping a %s layer is not supported", where, inner_class),
               WEFT_ID_NONE;
      cfg[li].num = k;
      const WeftOpDesc *inner_op = weft_op_lookup (inner_class);
      WeftValue icfg[64];
      gboolean iseen[64] = { 0 };
      weft_op_defaults (inner_op, icfg);
      g_autofree char *iwhere = g_strdup_printf ("%s, inner %s", where, inner_class);
      if (!parse_config (im, iwhere, inner_op, inner_cfg, icfg, iseen))
        return WEFT_ID_NONE;
      for (int i = 0; i < inner_op->n_params; i++)
        {
          int w = weft_op_param_index (op, inner_op->params[i].name);
          if (w >= 0)
            cfg[w] = icfg[i];
          else if (iseen[i] && !(icfg[i].num == inner_op->params[i].def))
            return FAIL_UNSUPPORTED ("%s: option '%s' of the wrapped layer is not supported",
                                     iwhere, inner_op->params[i].name), WEFT_ID_NONE;
        }
      /* the wrapper's own keys */
      g_autoptr (GList) members = json_object_get_members (config);
      for (GList *l = members; l != NULL; l = l->next)
        {
          const char *key = l->data;
          JsonNode *n = json_object_get_member (config, key);
          int i = weft_op_param_index (op, key);
          if (strcmp (key, "layer") == 0 || strcmp (key, "backward_layer") == 0)
            continue;
          if (i >= 0)
            {
              if (!parse_param (im, where, op, &op->params[i], n, &cfg[i]))
                return WEFT_ID_NONE;
            }
          else if (!check_extra_key (im, where, key, n))
            return WEFT_ID_NONE;
        }
    }
  else if (!parse_config (im, where, op, config, cfg, NULL))
    return WEFT_ID_NONE;

  WeftError err = { 0 };
  WeftId layer = weft_graph_add_layer (im->graph, op->name, name, &err);
  if (layer == WEFT_ID_NONE)
    return FAIL_FORMAT ("%s: %s", where, err.message), WEFT_ID_NONE;
  JsonNode *tn = json_object_get_member (config, "trainable");
  if (is_bool (tn))
    weft_graph_layer_set_trainable (im->graph, layer, json_node_get_boolean (tn));
  if (!apply_config (im, where, layer, op, cfg))
    return WEFT_ID_NONE;
  return layer;
}

/* ---- topology ---- */

static WeftId import_model (Importer *im, const char *class_name, JsonNode *config_node,
                            const char *fallback_name, int depth);

static gboolean
is_model_class (const char *c)
{
  return strcmp (c, "Model") == 0 || strcmp (c, "Functional") == 0
         || strcmp (c, "Sequential") == 0;
}

/* A tensor reference: Keras 2 [name, node, tensor(, kwargs)], Keras 3 __keras_tensor__. */
static gboolean
tensor_ref (Importer *im, const char *where, JsonNode *n, const char **name, int *node,
            int *tensor, JsonNode **kwargs)
{
  JsonArray *a = NULL;
  if (n != NULL && JSON_NODE_HOLDS_OBJECT (n))
    {
      JsonObject *o = json_node_get_object (n);
      a = member_array (member_object (o, "config"), "keras_history");
      if (a == NULL)
        return FAIL_FORMAT ("%s: a tensor without keras_history", where);
    }
  else if (n != NULL && JSON_NODE_HOLDS_ARRAY (n))
    a = json_node_get_array (n);
  if (a == NULL || json_array_get_length (a) < 3)
    return FAIL_FORMAT ("%s: a tensor reference must be [layer, node, tensor], not %s", where,
                        type_name (n));
  JsonNode *e0 = json_array_get_element (a, 0), *e1 = json_array_get_element (a, 1),
           *e2 = json_array_get_element (a, 2);
  if (!is_string (e0) || !is_number (e1) || !is_number (e2))
    return FAIL_FORMAT ("%s: a tensor reference must be [layer name, node index, tensor index]",
                        where);
  double d1 = json_node_get_double (e1), d2 = json_node_get_double (e2);
  if (d1 < 0 || d2 < 0 || d1 > 1e6 || d2 > 1e6 || d1 != floor (d1) || d2 != floor (d2))
    return FAIL_FORMAT ("%s: node index %g / tensor index %g out of range", where, d1, d2);
  *name = json_node_get_string (e0);
  *node = (int) d1;
  *tensor = (int) d2;
  if (kwargs)
    *kwargs = json_array_get_length (a) > 3 ? json_array_get_element (a, 3) : NULL;
  return TRUE;
}

/* Appends the tensors of a Keras 3 args list (flattening nested lists) to refs. */
static gboolean
collect_k3_tensors (Importer *im, const char *where, JsonNode *n, GPtrArray *refs, int depth)
{
  if (depth > 8)
    return FAIL_FORMAT ("%s: call arguments nested too deeply", where);
  if (JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        if (!collect_k3_tensors (im, where, json_array_get_element (a, i), refs, depth + 1))
          return FALSE;
      return TRUE;
    }
  if (JSON_NODE_HOLDS_OBJECT (n)
      && g_strcmp0 (member_string (json_node_get_object (n), "class_name"), "__keras_tensor__")
         == 0)
    {
      g_ptr_array_add (refs, n);
      return TRUE;
    }
  return FAIL_UNSUPPORTED ("%s: a call argument that is not a tensor (%s)", where,
                           type_name (n));
}

static gboolean
check_kwargs (Importer *im, const char *where, JsonNode *kw)
{
  if (kw == NULL || JSON_NODE_HOLDS_NULL (kw))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (kw))
    return FAIL_FORMAT ("%s: call keyword arguments must be an object", where);
  JsonObject *o = json_node_get_object (kw);
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    {
      JsonNode *v = json_object_get_member (o, l->data);
      if (strcmp (l->data, "training") == 0 || strcmp (l->data, "mask") == 0)
        if (JSON_NODE_HOLDS_NULL (v) || (is_bool (v) && !json_node_get_boolean (v)))
          continue;
      return FAIL_UNSUPPORTED ("%s: call argument '%s' is not supported", where,
                               (const char *) l->data);
    }
  return TRUE;
}

/* The tensors of one call: Keras 2 list of refs or Keras 3 {"args", "kwargs"}. */
static GPtrArray *
call_inputs (Importer *im, const char *where, JsonNode *call)
{
  GPtrArray *refs = g_ptr_array_new ();
  if (JSON_NODE_HOLDS_OBJECT (call))
    {
      JsonObject *o = json_node_get_object (call);
      JsonNode *args = json_object_get_member (o, "args");
      if (args == NULL || !collect_k3_tensors (im, where, args, refs, 0)
          || !check_kwargs (im, where, json_object_get_member (o, "kwargs")))
        {
          if (args == NULL)
            FAIL_FORMAT ("%s: a call without 'args'", where);
          g_ptr_array_free (refs, TRUE);
          return NULL;
        }
      return refs;
    }
  if (!JSON_NODE_HOLDS_ARRAY (call))
    {
      FAIL_FORMAT ("%s: a call must be a list of tensor references, not %s", where,
                   type_name (call));
      g_ptr_array_free (refs, TRUE);
      return NULL;
    }
  JsonArray *a = json_node_get_array (call);
  for (guint i = 0; i < json_array_get_length (a); i++)
    g_ptr_array_add (refs, json_array_get_element (a, i));
  return refs;
}

/* Resolves a tensor reference against the layers of the model being read. */
static gboolean
resolve (Importer *im, const char *where, GHashTable *klayers, JsonNode *ref, WeftId *node,
         int *port)
{
  const char *name;
  int idx, t;
  JsonNode *kw = NULL;
  if (!tensor_ref (im, where, ref, &name, &idx, &t, &kw) || !check_kwargs (im, where, kw))
    return FALSE;
  KLayer *k = g_hash_table_lookup (klayers, name);
  if (k == NULL)
    return FAIL_FORMAT ("%s: refers to layer '%s', which the model does not have", where, name);
  int call = idx - k->offset;
  if (call < 0 || call >= (int) k->nodes->len)
    return FAIL_FORMAT ("%s: refers to call %d of layer '%s', which has %u call%s", where, idx,
                        name, k->nodes->len, k->nodes->len == 1 ? "" : "s");
  *node = g_array_index (k->nodes, WeftId, call);
  if (t >= weft_graph_node_n_outputs (im->graph, *node))
    return FAIL_FORMAT ("%s: refers to output %d of layer '%s', which has %d", where, t, name,
                        weft_graph_node_n_outputs (im->graph, *node));
  *port = t;
  return TRUE;
}

static JsonArray *
tensor_list (JsonObject *config, const char *key)
{
  return member_array (config, key);
}

static gboolean
add_outputs (Importer *im, WeftId model, const char *mname, JsonObject *config,
             GHashTable *klayers)
{
  JsonArray *outs = tensor_list (config, "output_layers");
  if (outs == NULL || json_array_get_length (outs) == 0)
    return FAIL_FORMAT ("model '%s': 'output_layers' is missing or empty", mname);
  g_autofree char *where = g_strdup_printf ("model '%s' output_layers", mname);
  /* Keras 3 writes a single output as one flat reference */
  gboolean flat = is_string (json_array_get_element (outs, 0));
  guint n = flat ? 1 : json_array_get_length (outs);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *ref = flat ? json_object_get_member (config, "output_layers")
                           : json_array_get_element (outs, i);
      WeftId node = WEFT_ID_NONE;   /* resolve sets both when it succeeds */
      int port = 0;
      if (!resolve (im, where, klayers, ref, &node, &port))
        return FALSE;
      WeftHead h = { .node = node, .port = port, .loss = WEFT_LOSS_NONE, .weight = 1.0f,
                     .metric = WEFT_METRIC_NONE, .huber_delta = 1.0f };
      WeftError err = { 0 };
      if (!weft_graph_model_add_output (im->graph, model, &h, &err))
        return FAIL_FORMAT ("%s: %s", where, err.message);
    }
  return TRUE;
}

static WeftId
import_functional (Importer *im, JsonObject *config, const char *name, int depth)
{
  WeftError err = { 0 };
  WeftId model = weft_graph_add_model (im->graph, name, &err);
  if (model == WEFT_ID_NONE)
    return FAIL_FORMAT ("model '%s': %s", name, err.message), WEFT_ID_NONE;
  JsonArray *layers = member_array (config, "layers");
  if (layers == NULL)
    return FAIL_FORMAT ("model '%s': 'layers' must be a list", name), WEFT_ID_NONE;

  g_autoptr (GHashTable) klayers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                          klayer_free);
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  /* pass 1: layers, nested models and inputs */
  for (guint i = 0; i < json_array_get_length (layers); i++)
    {
      JsonNode *en = json_array_get_element (layers, i);
      JsonObject *e = JSON_NODE_HOLDS_OBJECT (en) ? json_node_get_object (en) : NULL;
      const char *cls = member_string (e, "class_name");
      JsonNode *cfgn = e ? json_object_get_member (e, "config") : NULL;
      JsonObject *cfg = cfgn && JSON_NODE_HOLDS_OBJECT (cfgn) ? json_node_get_object (cfgn) : NULL;
      const char *lname = member_string (e, "name");
      if (lname == NULL)
        lname = member_string (cfg, "name");
      if (cls == NULL || cfgn == NULL || lname == NULL)
        return FAIL_FORMAT ("model '%s': layer %u needs 'class_name', 'name' and 'config'", name,
                            i), WEFT_ID_NONE;
      if (g_hash_table_contains (klayers, lname))
        return FAIL_FORMAT ("model '%s': two layers are named '%s'", name, lname), WEFT_ID_NONE;
      KLayer *k = g_new0 (KLayer, 1);
      k->name = lname;
      k->class_name = cls;
      k->nodes = g_array_new (FALSE, FALSE, sizeof (WeftId));
      k->inbound = member_array (e, "inbound_nodes");
      g_hash_table_insert (klayers, (gpointer) lname, k);
      g_ptr_array_add (order, k);
      if (is_model_class (cls))
        {
          k->is_model = TRUE;
          k->callee = import_model (im, cls, cfgn, lname, depth + 1);
          k->offset = 1;
        }
      else if (strcmp (cls, "InputLayer") == 0)
        {
          if (cfg == NULL)
            return FAIL_FORMAT ("input '%s': config must be an object", lname), WEFT_ID_NONE;
          k->is_input = TRUE;
          JsonNode *shape = json_object_get_member (cfg, "batch_input_shape");
          if (shape == NULL)
            shape = json_object_get_member (cfg, "batch_shape");
          WeftId node = make_input (im, model, lname, shape, TRUE, dtype_of (cfg));
          if (node == WEFT_ID_NONE)
            return WEFT_ID_NONE;
          g_array_append_val (k->nodes, node);
          k->callee = weft_graph_node_callee (im->graph, node);
        }
      else
        {
          if (cfg == NULL)
            return FAIL_FORMAT ("layer '%s': config must be an object", lname), WEFT_ID_NONE;
          k->callee = make_layer (im, cls, lname, cfg, name);
        }
      if (k->callee == WEFT_ID_NONE)
        return WEFT_ID_NONE;
    }
  /* nested models: calls start at 1 unless some reference uses 0 (a model that was never
   * called on its own inputs, as Keras 2 writes for deferred Sequential models) */
  for (guint i = 0; i < order->len; i++)
    {
      KLayer *k = order->pdata[i];
      for (guint c = 0; k->inbound && c < json_array_get_length (k->inbound); c++)
        {
          g_autofree char *where = g_strdup_printf ("layer '%s' call %u", k->name, c);
          g_autoptr (GPtrArray) refs = call_inputs (im, where, json_array_get_element (k->inbound,
                                                                                      c));
          if (refs == NULL)
            return WEFT_ID_NONE;
          for (guint r = 0; r < refs->len; r++)
            {
              const char *src;
              int idx, t;
              if (!tensor_ref (im, where, refs->pdata[r], &src, &idx, &t, NULL))
                return WEFT_ID_NONE;
              KLayer *s = g_hash_table_lookup (klayers, src);
              if (s != NULL && s->is_model && idx == 0)
                s->offset = 0;
            }
        }
    }
  /* pass 2: one node per call */
  for (guint i = 0; i < order->len; i++)
    {
      KLayer *k = order->pdata[i];
      if (k->is_input)
        continue;
      guint n_calls = k->inbound ? json_array_get_length (k->inbound) : 0;
      for (guint c = 0; c < n_calls; c++)
        {
          WeftId node = weft_graph_add_node (im->graph, model, k->callee, &err);
          if (node == WEFT_ID_NONE)
            return FAIL_FORMAT ("layer '%s': %s", k->name, err.message), WEFT_ID_NONE;
          g_array_append_val (k->nodes, node);
        }
    }
  /* pass 3: wires */
  for (guint i = 0; i < order->len; i++)
    {
      KLayer *k = order->pdata[i];
      if (k->is_input)
        continue;
      for (guint c = 0; c < k->nodes->len; c++)
        {
          WeftId dst = g_array_index (k->nodes, WeftId, c);
          g_autofree char *where = g_strdup_printf ("layer '%s' (%s), call %u, in model '%s'",
                                                    k->name, k->class_name, c, name);
          g_autoptr (GPtrArray) refs = call_inputs (im, where, json_array_get_element (k->inbound,
                                                                                      c));
          if (refs == NULL)
            return WEFT_ID_NONE;
          if (refs->len == 0)
            return FAIL_FORMAT ("%s: a call without inputs", where), WEFT_ID_NONE;
          for (guint r = 0; r < refs->len; r++)
            {
              WeftId src = WEFT_ID_NONE;   /* resolve sets both when it succeeds */
              int port = 0;
              if (!resolve (im, where, klayers, refs->pdata[r], &src, &port))
                return WEFT_ID_NONE;
              if (!weft_graph_connect (im->graph, src, port, dst, (int) r, &err))
                return FAIL_FORMAT ("%s, input %u: %s", where, r, err.message), WEFT_ID_NONE;
            }
        }
    }
  /* the model's inputs were added in layer order; Keras' input_layers decide the order */
  JsonArray *ins = tensor_list (config, "input_layers");
  if (ins == NULL)
    return FAIL_FORMAT ("model '%s': 'input_layers' must be a list", name), WEFT_ID_NONE;
  gboolean flat = json_array_get_length (ins) > 0 && is_string (json_array_get_element (ins, 0));
  guint n_ins = flat ? 1 : json_array_get_length (ins);
  g_autoptr (GArray) wanted = g_array_new (FALSE, FALSE, sizeof (WeftId));
  for (guint i = 0; i < n_ins; i++)
    {
      JsonNode *ref = flat ? json_object_get_member (config, "input_layers")
                           : json_array_get_element (ins, i);
      const char *iname;
      int idx, t;
      g_autofree char *where = g_strdup_printf ("model '%s' input_layers", name);
      if (!tensor_ref (im, where, ref, &iname, &idx, &t, NULL))
        return WEFT_ID_NONE;
      KLayer *k = g_hash_table_lookup (klayers, iname);
      if (k == NULL || !k->is_input)
        return FAIL_FORMAT ("%s: '%s' is not an InputLayer of the model", where, iname),
               WEFT_ID_NONE;
      WeftId node = g_array_index (k->nodes, WeftId, 0);
      g_array_append_val (wanted, node);
    }
  /* reorder: remove all, add in Keras' order (inputs not listed are refused) */
  int have = weft_graph_model_n_inputs (im->graph, model);
  if (have != (int) wanted->len)
    return FAIL_FORMAT ("model '%s' has %d InputLayers but lists %u in input_layers", name, have,
                        wanted->len), WEFT_ID_NONE;
  for (guint i = 0; i < wanted->len; i++)
    weft_graph_model_remove_input (im->graph, model, g_array_index (wanted, WeftId, i));
  for (guint i = 0; i < wanted->len; i++)
    if (!weft_graph_model_add_input (im->graph, model, g_array_index (wanted, WeftId, i), &err))
      return FAIL_FORMAT ("model '%s': %s", name, err.message), WEFT_ID_NONE;
  if (!add_outputs (im, model, name, config, klayers))
    return WEFT_ID_NONE;
  return model;
}

static WeftId
import_sequential (Importer *im, JsonNode *config_node, const char *name, int depth)
{
  JsonArray *layers = NULL;
  const char *mname = name;
  if (JSON_NODE_HOLDS_ARRAY (config_node))
    layers = json_node_get_array (config_node);
  else if (JSON_NODE_HOLDS_OBJECT (config_node))
    {
      JsonObject *c = json_node_get_object (config_node);
      layers = member_array (c, "layers");
      if (member_string (c, "name") != NULL)
        mname = member_string (c, "name");
    }
  if (layers == NULL || json_array_get_length (layers) == 0)
    return FAIL_FORMAT ("Sequential model '%s' has no layers", name), WEFT_ID_NONE;
  WeftError err = { 0 };
  WeftId model = weft_graph_add_model (im->graph, mname, &err);
  if (model == WEFT_ID_NONE)
    return FAIL_FORMAT ("model '%s': %s", mname, err.message), WEFT_ID_NONE;

  WeftId prev = WEFT_ID_NONE;
  for (guint i = 0; i < json_array_get_length (layers); i++)
    {
      JsonNode *en = json_array_get_element (layers, i);
      JsonObject *e = JSON_NODE_HOLDS_OBJECT (en) ? json_node_get_object (en) : NULL;
      const char *cls = member_string (e, "class_name");
      JsonNode *cfgn = e ? json_object_get_member (e, "config") : NULL;
      JsonObject *cfg = cfgn && JSON_NODE_HOLDS_OBJECT (cfgn) ? json_node_get_object (cfgn) : NULL;
      const char *lname = member_string (cfg, "name");
      if (lname == NULL)
        lname = member_string (e, "name");
      if (cls == NULL || cfgn == NULL || lname == NULL)
        return FAIL_FORMAT ("Sequential model '%s': layer %u needs 'class_name' and a config "
                            "with a name", mname, i), WEFT_ID_NONE;
      if (strcmp (cls, "InputLayer") == 0)
        {
          if (i != 0 || cfg == NULL)
            return FAIL_FORMAT ("Sequential model '%s': an InputLayer can only come first",
                                mname), WEFT_ID_NONE;
          JsonNode *shape = json_object_get_member (cfg, "batch_input_shape");
          if (shape == NULL)
            shape = json_object_get_member (cfg, "batch_shape");
          prev = make_input (im, model, lname, shape, TRUE, dtype_of (cfg));
          if (prev == WEFT_ID_NONE)
            return WEFT_ID_NONE;
          continue;
        }
      if (prev == WEFT_ID_NONE)
        {
          JsonNode *shape = cfg ? json_object_get_member (cfg, "batch_input_shape") : NULL;
          if (shape == NULL && cfg)
            shape = json_object_get_member (cfg, "batch_shape");
          if (shape == NULL)
            return FAIL_UNSUPPORTED ("Sequential model '%s': the first layer '%s' has no "
                                     "batch_input_shape, so the input shape is unknown", mname,
                                     lname), WEFT_ID_NONE;
          g_autofree char *iname = g_strdup_printf ("%s_input", lname);
          prev = make_input (im, model, iname, shape, TRUE, cfg ? dtype_of (cfg) : NULL);
          if (prev == WEFT_ID_NONE)
            return WEFT_ID_NONE;
        }
      WeftId callee;
      if (is_model_class (cls))
        callee = import_model (im, cls, cfgn, lname, depth + 1);
      else if (cfg == NULL)
        return FAIL_FORMAT ("layer '%s': config must be an object", lname), WEFT_ID_NONE;
      else
        callee = make_layer (im, cls, lname, cfg, mname);
      if (callee == WEFT_ID_NONE)
        return WEFT_ID_NONE;
      WeftId node = weft_graph_add_node (im->graph, model, callee, &err);
      if (node == WEFT_ID_NONE || !weft_graph_connect (im->graph, prev, 0, node, 0, &err))
        return FAIL_FORMAT ("layer '%s' in Sequential model '%s': %s", lname, mname,
                            err.message), WEFT_ID_NONE;
      if (weft_graph_node_n_outputs (im->graph, node) != 1)
        return FAIL_UNSUPPORTED ("layer '%s' in Sequential model '%s' has several outputs",
                                 lname, mname), WEFT_ID_NONE;
      prev = node;
    }
  if (weft_graph_model_n_nodes (im->graph, model) < 2)
    return FAIL_FORMAT ("Sequential model '%s' has no layers besides its input", mname),
           WEFT_ID_NONE;
  WeftHead h = { .node = prev, .port = 0, .loss = WEFT_LOSS_NONE, .weight = 1.0f,
                 .metric = WEFT_METRIC_NONE, .huber_delta = 1.0f };
  if (!weft_graph_model_add_output (im->graph, model, &h, &err))
    return FAIL_FORMAT ("model '%s': %s", mname, err.message), WEFT_ID_NONE;
  return model;
}

static WeftId
import_model (Importer *im, const char *class_name, JsonNode *config_node,
              const char *fallback_name, int depth)
{
  if (depth > WEFT_KERAS_MAX_MODELS || ++im->n_models > 4096)
    return fail (im, WEFT_INTEROP_ERROR_TOO_LARGE, "models are nested deeper than %d levels",
                 WEFT_KERAS_MAX_MODELS), WEFT_ID_NONE;
  if (strcmp (class_name, "Sequential") == 0)
    return import_sequential (im, config_node, fallback_name, depth);
  if (!JSON_NODE_HOLDS_OBJECT (config_node))
    return FAIL_FORMAT ("model '%s': config must be an object", fallback_name), WEFT_ID_NONE;
  JsonObject *config = json_node_get_object (config_node);
  const char *name = member_string (config, "name");
  return import_functional (im, config, name ? name : fallback_name, depth);
}

/* ---- weights ---- */

typedef struct
{
  const char *name;
  gint64      offset;  /* in floats into the concatenated shards */
  gint64      count;
  int         rank;
  int         dims[WEFT_MAX_RANK];
  gboolean    used;
} ManifestEntry;

static gboolean
read_manifest (Importer *im, JsonArray *manifest, const char *base_dir, GArray *entries,
               GByteArray **data_out)
{
  g_autoptr (GByteArray) data = g_byte_array_new ();
  for (guint g = 0; g < json_array_get_length (manifest); g++)
    {
      JsonNode *gn = json_array_get_element (manifest, g);
      JsonObject *group = JSON_NODE_HOLDS_OBJECT (gn) ? json_node_get_object (gn) : NULL;
      JsonArray *paths = member_array (group, "paths");
      JsonArray *weights = member_array (group, "weights");
      if (paths == NULL || weights == NULL)
        return FAIL_FORMAT ("weightsManifest[%u] needs 'paths' and 'weights' lists", g);
      gint64 group_bytes = 0;
      gsize group_start = data->len;
      for (guint w = 0; w < json_array_get_length (weights); w++)
        {
          JsonNode *wn = json_array_get_element (weights, w);
          JsonObject *wo = JSON_NODE_HOLDS_OBJECT (wn) ? json_node_get_object (wn) : NULL;
          const char *wname = member_string (wo, "name");
          const char *dtype = member_string (wo, "dtype");
          JsonArray *shape = member_array (wo, "shape");
          if (wname == NULL || shape == NULL)
            return FAIL_FORMAT ("weightsManifest[%u].weights[%u] needs 'name' and 'shape'", g, w);
          if (dtype != NULL && strcmp (dtype, "float32") != 0)
            return FAIL_UNSUPPORTED ("weight '%s': dtype '%s' is not supported (float32)", wname,
                                     dtype);
          if (json_object_has_member (wo, "quantization"))
            return FAIL_UNSUPPORTED ("weight '%s': quantized weights are not supported", wname);
          ManifestEntry e = { .name = wname };
          guint rank = json_array_get_length (shape);
          if (rank > WEFT_MAX_RANK)
            return FAIL_FORMAT ("weight '%s' has %u axes (at most %d)", wname, rank,
                                WEFT_MAX_RANK);
          e.rank = (int) rank;
          e.count = 1;
          for (guint d = 0; d < rank; d++)
            {
              JsonNode *dn = json_array_get_element (shape, d);
              double v = is_number (dn) ? json_node_get_double (dn) : -1;
              if (v < 0 || v != floor (v) || v > (double) WEFT_KERAS_MAX_WEIGHTS)
                return fail (im, WEFT_INTEROP_ERROR_TOO_LARGE,
                             "weight '%s': axis %u size is not a sane whole number", wname, d);
              e.dims[d] = (int) v;
              e.count *= (gint64) v;
              if (e.count > WEFT_KERAS_MAX_WEIGHTS)
                return fail (im, WEFT_INTEROP_ERROR_TOO_LARGE,
                             "weight '%s' has more than %" G_GINT64_FORMAT " values", wname,
                             WEFT_KERAS_MAX_WEIGHTS);
            }
          e.offset = (gint64) (group_start / 4) + group_bytes / 4;
          group_bytes += e.count * 4;
          if (group_bytes > ((gint64) 1 << 34))
            return fail (im, WEFT_INTEROP_ERROR_TOO_LARGE, "the weights are larger than 16 GiB");
          for (guint k = 0; k < entries->len; k++)
            if (strcmp (g_array_index (entries, ManifestEntry, k).name, wname) == 0)
              return FAIL_FORMAT ("weight '%s' appears twice in the manifest", wname);
          g_array_append_val (entries, e);
        }
      gint64 read = 0;
      for (guint p = 0; p < json_array_get_length (paths); p++)
        {
          JsonNode *pn = json_array_get_element (paths, p);
          if (!is_string (pn))
            return FAIL_FORMAT ("weightsManifest[%u].paths[%u] must be a string", g, p);
          const char *rel = json_node_get_string (pn);
          if (base_dir == NULL)
            return FAIL_FORMAT ("the model names weight shard '%s' but no folder to read it "
                                "from", rel);
          if (g_path_is_absolute (rel) || strstr (rel, "..") != NULL || *rel == '\0')
            return FAIL_FORMAT ("weight shard path '%s' must be a plain name inside the model's "
                                "folder", rel);
          g_autofree char *path = g_build_filename (base_dir, rel, NULL);
          GStatBuf st;
          if (g_stat (path, &st) != 0)
            return fail (im, WEFT_INTEROP_ERROR_IO, "weight shard '%s' cannot be read", path);
          if ((gint64) st.st_size + read > group_bytes)
            return fail (im, WEFT_INTEROP_ERROR_MISMATCH,
                         "weight shards of group %u hold more bytes than the manifest's %"
                         G_GINT64_FORMAT " (%s is %" G_GINT64_FORMAT " bytes)", g, group_bytes,
                         rel, (gint64) st.st_size);
          gchar *contents = NULL;
          gsize len = 0;
          GError *local = NULL;
          if (!g_file_get_contents (path, &contents, &len, &local))
            {
              fail (im, WEFT_INTEROP_ERROR_IO, "%s", local->message);
              g_error_free (local);
              return FALSE;
            }
          if ((gint64) len + read > group_bytes)
            {
              g_free (contents);
              return fail (im, WEFT_INTEROP_ERROR_MISMATCH, "weight shard '%s' grew while "
                           "being read", rel);
            }
          g_byte_array_append (data, (const guint8 *) contents, (guint) len);
          read += (gint64) len;
          g_free (contents);
        }
      if (read != group_bytes)
        return fail (im, WEFT_INTEROP_ERROR_MISMATCH,
                     "weight shards of group %u hold %" G_GINT64_FORMAT " bytes but the manifest "
                     "needs %" G_GINT64_FORMAT, g, read, group_bytes);
    }
  *data_out = g_steal_pointer (&data);
  return TRUE;
}

static ManifestEntry *
find_entry (GArray *entries, const char *name)
{
  for (guint i = 0; i < entries->len; i++)
    {
      ManifestEntry *e = &g_array_index (entries, ManifestEntry, i);
      if (strcmp (e->name, name) == 0)
        return e;
    }
  return NULL;
}

/* Names a Keras file may use for a weight of a layer (Weft spec names are Keras' own). */
static ManifestEntry *
match_weight (Importer *im, GArray *entries, WeftId layer, const char *spec_name)
{
  const char *lname = weft_graph_get_name (im->graph, layer);
  const WeftOpDesc *op = weft_graph_layer_op (im->graph, layer);
  g_autofree char *exact = g_strdup_printf ("%s/%s", lname, spec_name);
  ManifestEntry *e = find_entry (entries, exact);
  if (e)
    return e;
  /* newer Keras: layer/cell/weight for RNNs */
  g_autofree char *cell = g_strdup_printf ("%s/cell/%s", lname, spec_name);
  if ((e = find_entry (entries, cell)))
    return e;
  const char *slash = strchr (spec_name, '/');
  if (strcmp (op->name, "Bidirectional") == 0 && slash != NULL)
    {
      /* "forward_lstm/kernel": the file names the inner layer after its own config name */
      gboolean fwd = g_str_has_prefix (spec_name, "forward_");
      g_autofree char *prefix = g_strdup_printf ("%s/%s", lname, fwd ? "forward_" : "backward_");
      for (guint i = 0; i < entries->len; i++)
        {
          ManifestEntry *c = &g_array_index (entries, ManifestEntry, i);
          if (!g_str_has_prefix (c->name, prefix))
            continue;
          const char *last = strrchr (c->name, '/');
          if (last && strcmp (last + 1, slash + 1) == 0)
            return c;
        }
    }
  if (strcmp (op->name, "TimeDistributed") == 0)
    {
      g_autofree char *prefix = g_strdup_printf ("%s/", lname);
      for (guint i = 0; i < entries->len; i++)
        {
          ManifestEntry *c = &g_array_index (entries, ManifestEntry, i);
          const char *last = strrchr (c->name, '/');
          if (g_str_has_prefix (c->name, prefix) && last && strcmp (last + 1, spec_name) == 0)
            return c;
        }
    }
  return NULL;
}

static char *
dims_text (const WeftShape *s)
{
  GString *t = g_string_new ("[");
  for (int i = 0; i < s->rank; i++)
    g_string_append_printf (t, "%s%d", i ? ", " : "", s->dims[i]);
  g_string_append_c (t, ']');
  return g_string_free (t, FALSE);
}

static gboolean
load_weights (Importer *im, JsonArray *manifest, const char *base_dir)
{
  g_autoptr (GArray) entries = g_array_new (FALSE, TRUE, sizeof (ManifestEntry));
  g_autoptr (GByteArray) data = NULL;
  if (!read_manifest (im, manifest, base_dir, entries, &data))
    return FALSE;
  const float *all = (const float *) data->data;
  g_autofree float *aligned = NULL;
  if (((guintptr) all & 3) != 0 || G_BYTE_ORDER != G_LITTLE_ENDIAN)
    {
      aligned = g_malloc (MAX (data->len, 4));
      memcpy (aligned, data->data, data->len);
      for (guint i = 0; G_BYTE_ORDER != G_LITTLE_ENDIAN && i < data->len / 4; i++)
        {
          guint32 b;
          memcpy (&b, &aligned[i], 4);
          b = GUINT32_FROM_LE (b);
          memcpy (&aligned[i], &b, 4);
        }
      all = aligned;
    }
  weft_graph_analyse (im->graph);
  for (int l = 0; l < weft_graph_n_layers (im->graph); l++)
    {
      WeftId layer = weft_graph_layer_at (im->graph, l);
      int n;
      const WeftWeight *w = weft_graph_layer_weights (im->graph, layer, &n);
      /* copy the specs: set_weight may reallocate the list */
      WeftWeightSpec specs[WEFT_MAX_WEIGHTS];
      for (int k = 0; k < n && k < WEFT_MAX_WEIGHTS; k++)
        specs[k] = w[k].spec;
      for (int k = 0; k < n && k < WEFT_MAX_WEIGHTS; k++)
        {
          const char *lname = weft_graph_get_name (im->graph, layer);
          ManifestEntry *e = match_weight (im, entries, layer, specs[k].name);
          if (e == NULL)
            return fail (im, WEFT_INTEROP_ERROR_MISMATCH,
                         "layer '%s' (%s): the file has no weight '%s/%s'", lname,
                         weft_graph_layer_op (im->graph, layer)->name, lname, specs[k].name);
          WeftShape shape = { .rank = e->rank };
          memcpy (shape.dims, e->dims, sizeof e->dims);
          if (!weft_shape_equal (&shape, &specs[k].shape) || e->rank != specs[k].shape.rank)
            {
              g_autofree char *a = dims_text (&shape), *b = dims_text (&specs[k].shape);
              return fail (im, WEFT_INTEROP_ERROR_MISMATCH,
                           "weight '%s' has shape %s in the file but layer '%s' needs %s",
                           e->name, a, lname, b);
            }
          WeftError err = { 0 };
          if (!weft_graph_set_weight (im->graph, layer, specs[k].name, &shape, all + e->offset,
                                      &err))
            return fail (im, WEFT_INTEROP_ERROR_MISMATCH, "weight '%s': %s", e->name,
                         err.message);
          e->used = TRUE;
        }
    }
  for (guint i = 0; i < entries->len; i++)
    if (!g_array_index (entries, ManifestEntry, i).used)
      return fail (im, WEFT_INTEROP_ERROR_MISMATCH,
                   "weight '%s' in the file belongs to no layer of the model",
                   g_array_index (entries, ManifestEntry, i).name);
  return TRUE;
}

/* ---- training config (losses, loss weights) ---- */

static void
default_losses (WeftGraph *graph, WeftId model)
{
  for (int i = 0; i < weft_graph_model_n_outputs (graph, model); i++)
    {
      WeftHead h = *weft_graph_model_output (graph, model, i);
      if (h.loss != WEFT_LOSS_NONE)
        continue;
      h.loss = WEFT_LOSS_MSE;
      WeftId callee = weft_graph_node_callee (graph, h.node);
      if (weft_graph_kind (graph, callee) == WEFT_KIND_LAYER)
        {
          const WeftOpDesc *op = weft_graph_layer_op (graph, callee);
          int a = weft_op_param_index (op, "activation");
          if (a >= 0)
            {
              int act = (int) weft_graph_layer_config (graph, callee)[a].num;
              if (act == WEFT_ACT_SOFTMAX)
                h.loss = WEFT_LOSS_CATEGORICAL_CROSSENTROPY;
              else if (act == WEFT_ACT_SIGMOID)
                h.loss = WEFT_LOSS_BINARY_CROSSENTROPY;
            }
        }
      weft_graph_model_set_head (graph, model, i, &h);
    }
}

static gboolean
apply_training_config (Importer *im, JsonObject *tc)
{
  WeftId model = weft_graph_get_main_model (im->graph);
  int n = weft_graph_model_n_outputs (im->graph, model);
  JsonNode *loss = json_object_get_member (tc, "loss");
  JsonNode *weights = json_object_get_member (tc, "loss_weights");
  for (int i = 0; i < n; i++)
    {
      WeftHead h = *weft_graph_model_output (im->graph, model, i);
      const char *oname = weft_graph_model_output_name (im->graph, model, i);
      JsonNode *l = NULL, *w = NULL;
      if (loss && is_string (loss))
        l = loss;
      else if (loss && JSON_NODE_HOLDS_ARRAY (loss)
               && (int) json_array_get_length (json_node_get_array (loss)) == n)
        l = json_array_get_element (json_node_get_array (loss), i);
      else if (loss && JSON_NODE_HOLDS_OBJECT (loss))
        l = json_object_get_member (json_node_get_object (loss), oname);
      if (weights && JSON_NODE_HOLDS_ARRAY (weights)
          && (int) json_array_get_length (json_node_get_array (weights)) == n)
        w = json_array_get_element (json_node_get_array (weights), i);
      else if (weights && JSON_NODE_HOLDS_OBJECT (weights))
        w = json_object_get_member (json_node_get_object (weights), oname);
      if (l != NULL && is_string (l))
        {
          int k = weft_loss_from_name (json_node_get_string (l));
          if (k <= 0)
            return FAIL_UNSUPPORTED ("training config: loss '%s' of output '%s' is not "
                                     "supported", json_node_get_string (l), oname);
          h.loss = (WeftLoss) k;
        }
      if (w != NULL && is_number (w))
        h.weight = (float) json_node_get_double (w);
      weft_graph_model_set_head (im->graph, model, i, &h);
    }
  return TRUE;
}

/* ---- layout ---- */

static void
layout_model (WeftGraph *graph, WeftId model)
{
  WeftCanvasScene *scene = weft_canvas_scene_new ();
  for (int i = 0; i < weft_graph_model_n_nodes (graph, model); i++)
    {
      WeftId node = weft_graph_model_node_at (graph, model, i);
      WeftId callee = weft_graph_node_callee (graph, node);
      int keys = 0;
      if (weft_graph_kind (graph, callee) == WEFT_KIND_LAYER)
        {
          const WeftOpDesc *op = weft_graph_layer_op (graph, callee);
          for (int p = 0; p < op->n_params; p++)
            keys += (op->params[p].flags & WEFT_PARAM_KEY) != 0;
        }
      weft_canvas_scene_add_node (scene, node, 0, 0, WEFT_CANVAS_NODE_WIDTH,
                                  weft_canvas_node_height (keys),
                                  weft_graph_node_n_inputs (graph, node),
                                  weft_graph_node_n_outputs (graph, node));
    }
  for (int i = 0; i < weft_graph_model_n_nodes (graph, model); i++)
    {
      WeftId node = weft_graph_model_node_at (graph, model, i);
      for (int p = 0; p < weft_graph_node_n_inputs (graph, node); p++)
        {
          WeftId src;
          int sp;
          if (weft_graph_node_input (graph, node, p, &src, &sp))
            weft_canvas_scene_add_wire (scene, src, sp, node, p);
        }
    }
  weft_canvas_scene_layout (scene, 40, 60);
  for (guint i = 0; i < scene->nodes->len; i++)
    {
      WeftCanvasNode *n = &g_array_index (scene->nodes, WeftCanvasNode, i);
      weft_graph_node_set_position (graph, n->id, n->x, n->y);
    }
  weft_canvas_scene_free (scene);
}

/* ---- entry points ---- */

WeftGraph *
weft_keras_import_data (const char *json, gsize len, const char *base_dir, GError **error)
{
  Importer imv = { .error = error }, *im = &imv;
  if (len > WEFT_KERAS_MAX_JSON)
    return fail (im, WEFT_INTEROP_ERROR_TOO_LARGE, "the model JSON is larger than %d MiB",
                 WEFT_KERAS_MAX_JSON >> 20), NULL;
  if (!check_depth (im, json, len))
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  GError *local = NULL;
  if (!json_parser_load_from_data (parser, json, (gssize) len, &local))
    {
      fail (im, WEFT_INTEROP_ERROR_FORMAT, "not valid JSON: %s", local->message);
      g_error_free (local);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FAIL_FORMAT ("a Keras model file is a JSON object"), NULL;
  JsonObject *obj = json_node_get_object (root);
  JsonObject *topo = obj;
  JsonArray *manifest = NULL;
  JsonObject *training = NULL;
  if (json_object_has_member (obj, "modelTopology"))
    {
      const char *format = member_string (obj, "format");
      if (format != NULL && strcmp (format, "layers-model") != 0)
        return FAIL_UNSUPPORTED ("format '%s' is not supported (a TensorFlow.js layers-model "
                                 "is)", format), NULL;
      topo = member_object (obj, "modelTopology");
      if (topo == NULL)
        return FAIL_FORMAT ("'modelTopology' must be an object"), NULL;
      JsonNode *mn = json_object_get_member (obj, "weightsManifest");
      if (mn != NULL && !JSON_NODE_HOLDS_ARRAY (mn))
        return FAIL_FORMAT ("'weightsManifest' must be a list"), NULL;
      manifest = mn ? json_node_get_array (mn) : NULL;
      training = member_object (obj, "trainingConfig");
      if (training == NULL)
        training = member_object (topo, "training_config");
      if (member_object (topo, "model_config") != NULL)
        topo = member_object (topo, "model_config");
    }
  const char *cls = member_string (topo, "class_name");
  JsonNode *config = json_object_get_member (topo, "config");
  if (cls == NULL || config == NULL)
    return FAIL_FORMAT ("not a Keras model: 'class_name' and 'config' are missing"), NULL;
  if (!is_model_class (cls))
    return FAIL_UNSUPPORTED ("the top level is a %s, not a Model, Functional or Sequential "
                             "model", cls), NULL;
  const char *kv = member_string (topo, "keras_version");
  if (kv == NULL)
    kv = member_string (obj, "keras_version");
  im->keras3 = json_object_has_member (topo, "module")
               || (kv != NULL && g_str_has_prefix (kv, "3."));

  im->graph = weft_graph_new ();
  WeftId model = import_model (im, cls, config, "model", 0);
  if (model == WEFT_ID_NONE)
    goto fail;
  weft_graph_set_main_model (im->graph, model);
  if (training != NULL && !apply_training_config (im, training))
    goto fail;
  default_losses (im->graph, model);
  if (weft_graph_analyse (im->graph) > 0)
    {
      int n;
      const WeftDiagnostic *d = weft_graph_diagnostics (im->graph, &n);
      for (int i = 0; i < n; i++)
        if (d[i].code != WEFT_OK && d[i].code != WEFT_WARNING_UNUSED_INPUT)
          {
            fail (im, WEFT_INTEROP_ERROR_FORMAT, "the imported model is not valid: %s",
                  d[i].message);
            goto fail;
          }
    }
  if (manifest != NULL && !load_weights (im, manifest, base_dir))
    goto fail;
  if (!weft_interop_init_weights (im->graph, 0, im->error))
    goto fail;
  for (int i = 0; i < weft_graph_n_models (im->graph); i++)
    layout_model (im->graph, weft_graph_model_at (im->graph, i));
  weft_graph_analyse (im->graph);
  return im->graph;

fail:
  weft_graph_free (im->graph);
  return NULL;
}

WeftGraph *
weft_keras_import_file (const char *path, GError **error)
{
  GStatBuf st;
  if (g_stat (path, &st) != 0)
    {
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_IO, "cannot read '%s'", path);
      return NULL;
    }
  if (st.st_size > WEFT_KERAS_MAX_JSON)
    {
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_TOO_LARGE,
                   "'%s' is larger than %d MiB", path, WEFT_KERAS_MAX_JSON >> 20);
      return NULL;
    }
  g_autofree char *text = NULL;
  gsize len;
  GError *local = NULL;
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return NULL;
    }
  g_autofree char *dir = g_path_get_dirname (path);
  return weft_keras_import_data (text, len, dir, error);
}
