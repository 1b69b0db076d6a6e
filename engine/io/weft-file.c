/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-file.c: the .weft JSON graph file. The tree is built with JsonBuilder and parsed with
 * JsonParser; the text is written by a small printer of our own because JsonGenerator prints
 * 0.1 as 0.10000000000000001 and puts every array element on its own line, which makes the
 * files neither readable nor diff-friendly. */
#include "config.h"

#include "weft-file.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INLINE_WIDTH 100
/* Where a save keeps the previous weights until the new .weft is in place. */
#define WEFT_FILE_PREV_SUFFIX ".prev"

static const char *const optim_names[] = { "sgd", "adam", "adamw", "rmsprop", NULL };

void
weft_file_meta_clear (WeftFileMeta *meta)
{
  if (meta == NULL)
    return;
  g_clear_pointer (&meta->name, g_free);
  g_clear_pointer (&meta->description, g_free);
  g_clear_pointer (&meta->data, json_node_unref);
  g_clear_pointer (&meta->head_positions, g_hash_table_unref);
}

char *
weft_file_weights_path (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);
  if (g_str_has_suffix (path, ".weft"))
    {
      g_autofree char *stem = g_strndup (path, strlen (path) - strlen (".weft"));
      return g_strconcat (stem, ".safetensors", NULL);
    }
  return g_strconcat (path, ".safetensors", NULL);
}

/* ------------------------------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------------------------- */

/* The shortest text that reads back as the same double. */
static void
format_double (char *buf, size_t len, double d)
{
  if (d == floor (d) && fabs (d) < 1e15)
    {
      g_ascii_formatd (buf, len, "%.0f", d);
      g_strlcat (buf, ".0", len);
      return;
    }
  for (int p = 1; p <= 17; p++)
    {
      char fmt[8];
      g_snprintf (fmt, sizeof fmt, "%%.%dg", p);
      g_ascii_formatd (buf, len, fmt, d);
      if (g_ascii_strtod (buf, NULL) == d)
        break;
    }
  if (strpbrk (buf, ".eEn") == NULL)
    g_strlcat (buf, ".0", len);
}

/* A float stored as the double of its shortest decimal form: 0.1f is written as 0.1. */
static double
float_value (double v)
{
  if (!isfinite (v) || fabs (v) > FLT_MAX)
    return v;
  float f = (float) v;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  for (int p = 1; p <= 9; p++)
    {
      char fmt[8];
      g_snprintf (fmt, sizeof fmt, "%%.%dg", p);
      g_ascii_formatd (buf, sizeof buf, fmt, f);
      if ((float) g_ascii_strtod (buf, NULL) == f)
        return g_ascii_strtod (buf, NULL);
    }
  return f;
}

static void
add_float (JsonBuilder *b, const char *key, double v)
{
  if (key != NULL)
    json_builder_set_member_name (b, key);
  if (isfinite (v))
    json_builder_add_double_value (b, float_value (v));
  else
    json_builder_add_null_value (b);
}

static void
add_double (JsonBuilder *b, const char *key, double v)
{
  if (key != NULL)
    json_builder_set_member_name (b, key);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b, const char *key, gint64 v)
{
  json_builder_set_member_name (b, key);
  json_builder_add_int_value (b, v);
}

static void
add_bool (JsonBuilder *b, const char *key, gboolean v)
{
  json_builder_set_member_name (b, key);
  json_builder_add_boolean_value (b, v);
}

static void
add_string (JsonBuilder *b, const char *key, const char *v)
{
  json_builder_set_member_name (b, key);
  if (v == NULL)
    json_builder_add_null_value (b);
  else if (g_utf8_validate (v, -1, NULL))
    json_builder_add_string_value (b, v);
  else
    {
      g_autofree char *valid = g_utf8_make_valid (v, -1);
      json_builder_add_string_value (b, valid);
    }
}

static void
print_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    {
      switch (*p)
        {
        case '"':  g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        default:
          if (*p < 0x20)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
        }
    }
  g_string_append_c (out, '"');
}

static void
print_scalar (GString *out, JsonNode *node)
{
  if (JSON_NODE_HOLDS_NULL (node))
    {
      g_string_append (out, "null");
      return;
    }
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
      break;
    case G_TYPE_DOUBLE:
      {
        char buf[G_ASCII_DTOSTR_BUF_SIZE + 4];
        double d = json_node_get_double (node);
        if (!isfinite (d))
          g_string_append (out, "null");
        else
          {
            format_double (buf, sizeof buf, d);
            g_string_append (out, buf);
          }
      }
      break;
    case G_TYPE_BOOLEAN:
      g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      break;
    case G_TYPE_STRING:
      print_string (out, json_node_get_string (node));
      break;
    default:
      g_string_append (out, "null");
    }
}

static gboolean
is_scalar (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) || JSON_NODE_HOLDS_NULL (node);
}

/* Arrays of scalars, or of arrays of scalars, go on one line ("inputs": [[1, 0], [2, 0]]). */
static gboolean
is_inline_array (JsonNode *node)
{
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  JsonArray *a = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (is_scalar (e))
        continue;
      if (!JSON_NODE_HOLDS_ARRAY (e))
        return FALSE;
      JsonArray *inner = json_node_get_array (e);
      for (guint k = 0; k < json_array_get_length (inner); k++)
        if (!is_scalar (json_array_get_element (inner, k)))
          return FALSE;
    }
  return TRUE;
}

static void print_node (GString *out, JsonNode *node, int indent, const char *key);

static void
print_inline (GString *out, JsonNode *node)
{
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      g_string_append_c (out, '[');
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          if (i > 0)
            g_string_append (out, ", ");
          print_inline (out, json_array_get_element (a, i));
        }
      g_string_append_c (out, ']');
    }
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *o = json_node_get_object (node);
      g_autoptr(GList) members = json_object_get_members (o);
      g_string_append (out, "{ ");
      for (GList *l = members; l != NULL; l = l->next)
        {
          if (l != members)
            g_string_append (out, ", ");
          print_string (out, l->data);
          g_string_append (out, ": ");
          print_inline (out, json_object_get_member (o, l->data));
        }
      g_string_append (out, members != NULL ? " }" : "}");
    }
  else
    print_scalar (out, node);
}

/* Objects whose members are all scalars or inline arrays are written on one line when that
 * line fits, and always for nodes and history rows: one node per line diffs well. */
static gboolean
try_inline_object (GString *out, JsonNode *node, gboolean force)
{
  JsonObject *o = json_node_get_object (node);
  g_autoptr(GList) members = json_object_get_members (o);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *m = json_object_get_member (o, l->data);
      if (!is_scalar (m) && !is_inline_array (m))
        return FALSE;
    }
  gsize line_start = out->len;
  while (line_start > 0 && out->str[line_start - 1] != '\n')
    line_start--;
  gsize before = out->len;
  print_inline (out, node);
  if (!force && out->len - line_start + 1 > INLINE_WIDTH)
    {
      g_string_truncate (out, before);
      return FALSE;
    }
  return TRUE;
}

static void
print_indent (GString *out, int indent)
{
  for (int i = 0; i < indent; i++)
    g_string_append (out, "  ");
}

/* key: the member name of node, or for array elements that of the array. */
static void
print_node (GString *out, JsonNode *node, int indent, const char *key)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *o = json_node_get_object (node);
      g_autoptr(GList) members = json_object_get_members (o);
      if (members == NULL)
        {
          g_string_append (out, "{}");
          return;
        }
      static const char *const one_line[] = { "nodes", "epochs", "steps", NULL };
      if (indent > 0
          && try_inline_object (out, node, key != NULL && g_strv_contains (one_line, key)))
        return;
      g_string_append (out, "{\n");
      for (GList *l = members; l != NULL; l = l->next)
        {
          print_indent (out, indent + 1);
          print_string (out, l->data);
          g_string_append (out, ": ");
          print_node (out, json_object_get_member (o, l->data), indent + 1, l->data);
          g_string_append (out, l->next != NULL ? ",\n" : "\n");
        }
      print_indent (out, indent);
      g_string_append_c (out, '}');
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      guint n = json_array_get_length (a);
      if (n == 0 || is_inline_array (node))
        {
          print_inline (out, node);
          return;
        }
      g_string_append (out, "[\n");
      for (guint i = 0; i < n; i++)
        {
          print_indent (out, indent + 1);
          print_node (out, json_array_get_element (a, i), indent + 1, key);
          g_string_append (out, i + 1 < n ? ",\n" : "\n");
        }
      print_indent (out, indent);
      g_string_append_c (out, ']');
    }
  else
    print_scalar (out, node);
}

static void
build_value (JsonBuilder *b, const WeftParamSpec *spec, const WeftValue *v)
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
      add_float (b, NULL, v->num);
      break;
    case WEFT_PARAM_BOOL:
      json_builder_add_boolean_value (b, v->num != 0);
      break;
    case WEFT_PARAM_CHOICE:
      {
        int n = 0;
        while (spec->choices[n] != NULL)
          n++;
        int i = (int) v->num;
        json_builder_add_string_value (b, i >= 0 && i < n ? spec->choices[i] : spec->choices[0]);
      }
      break;
    case WEFT_PARAM_INTS:
      json_builder_begin_array (b);
      for (int i = 0; i < v->n && i < WEFT_MAX_RANK; i++)
        json_builder_add_int_value (b, v->ints[i]);
      json_builder_end_array (b);
      break;
    }
}

static const char *
loss_name (WeftLoss loss)
{
  for (int i = 0; weft_loss_names[i] != NULL; i++)
    if (weft_loss_from_name (weft_loss_names[i]) == loss)
      return weft_loss_names[i];
  return NULL;
}

static const char *
metric_name (WeftMetric metric)
{
  for (int i = 0; weft_metric_names[i] != NULL; i++)
    if (weft_metric_from_name (weft_metric_names[i]) == metric)
      return weft_metric_names[i];
  return NULL;
}

static void
build_training (JsonBuilder *b, const WeftTrainConfig *tc)
{
  const WeftOptimConfig *o = &tc->optimizer;
  json_builder_set_member_name (b, "training");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "optimizer");
  json_builder_begin_object (b);
  add_string (b, "name", (unsigned) o->kind < 4 ? optim_names[o->kind] : "adam");
  add_float (b, "learning_rate", o->learning_rate);
  switch (o->kind)
    {
    case WEFT_OPTIM_SGD:
      add_float (b, "momentum", o->momentum);
      add_bool (b, "nesterov", o->nesterov);
      break;
    case WEFT_OPTIM_ADAMW:
      add_float (b, "weight_decay", o->weight_decay);
      /* fall through */
    case WEFT_OPTIM_ADAM:
      add_float (b, "beta_1", o->beta_1);
      add_float (b, "beta_2", o->beta_2);
      add_float (b, "epsilon", o->epsilon);
      break;
    case WEFT_OPTIM_RMSPROP:
      add_float (b, "rho", o->rho);
      add_float (b, "momentum", o->momentum);
      add_float (b, "epsilon", o->epsilon);
      break;
    }
  json_builder_set_member_name (b, "clipnorm");
  if (o->clipnorm > 0)
    add_float (b, NULL, o->clipnorm);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "global_clipnorm");
  if (o->global_clipnorm > 0)
    add_float (b, NULL, o->global_clipnorm);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  add_int (b, "epochs", tc->epochs);
  add_int (b, "batch_size", tc->batch_size);
  add_float (b, "validation_split", tc->validation_split);
  add_bool (b, "shuffle", tc->shuffle);
  add_int (b, "seed", (gint64) MIN (tc->seed, (uint64_t) G_MAXINT64));
  if (tc->threads > 0)
    add_int (b, "threads", tc->threads);
  add_string (b, "data", tc->data);
  json_builder_end_object (b);
}

static void
add_head_values (JsonBuilder *b, const char *key, const double *v, int n)
{
  json_builder_set_member_name (b, key);
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    add_float (b, NULL, v != NULL ? v[i] : NAN);
  json_builder_end_array (b);
}

static gboolean
any_finite (const double *v, int n)
{
  for (int i = 0; v != NULL && i < n; i++)
    if (isfinite (v[i]))
      return TRUE;
  return FALSE;
}

static void
build_history (JsonBuilder *b, const WeftHistory *h)
{
  int n = weft_history_n_heads (h);
  gboolean any_metric = FALSE;

  json_builder_set_member_name (b, "history");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "heads");
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    {
      json_builder_begin_object (b);
      add_string (b, "name", weft_history_head_name (h, i));
      add_float (b, "loss_weight", weft_history_loss_weight (h, i));
      add_string (b, "metric", weft_history_metric_name (h, i));
      any_metric |= weft_history_metric_name (h, i) != NULL;
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "epochs");
  json_builder_begin_array (b);
  for (size_t i = 0; i < weft_history_n_epochs (h); i++)
    {
      WeftHistoryEpoch e;
      weft_history_get_epoch (h, i, &e);
      json_builder_begin_object (b);
      add_int (b, "run", e.run);
      add_int (b, "epoch", e.epoch);
      add_float (b, "seconds", e.seconds);
      add_float (b, "total", e.total);
      add_head_values (b, "loss", e.loss, n);
      if (any_metric)
        add_head_values (b, "metric", e.metric, n);
      if (e.has_validation)
        {
          add_float (b, "val_total", e.val_total);
          add_head_values (b, "val_loss", e.val_loss, n);
          if (any_metric)
            add_head_values (b, "val_metric", e.val_metric, n);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  /* Long trainings keep an evenly thinned subset of their batches (and every run's last
   * batch), so that a file stays small enough to read and to diff. */
  size_t n_steps = weft_history_n_steps (h);
  size_t stride = (n_steps + WEFT_FILE_MAX_HISTORY_STEPS - 1) / WEFT_FILE_MAX_HISTORY_STEPS;
  json_builder_set_member_name (b, "steps");
  json_builder_begin_array (b);
  for (size_t i = 0; i < n_steps; i++)
    {
      WeftHistoryStep s, next;
      weft_history_get_step (h, i, &s);
      gboolean run_end = i + 1 == n_steps
                         || (weft_history_get_step (h, i + 1, &next) && next.run != s.run);
      if (stride > 1 && i % stride != 0 && !run_end)
        continue;
      weft_history_get_step (h, i, &s);
      json_builder_begin_object (b);
      add_int (b, "run", s.run);
      add_int (b, "step", s.step);
      add_int (b, "epoch", s.epoch);
      add_int (b, "batch", s.batch);
      add_int (b, "samples_seen", s.samples_seen);
      add_float (b, "total", s.total);
      add_head_values (b, "loss", s.loss, n);
      if (any_metric && any_finite (s.metric, n))
        add_head_values (b, "metric", s.metric, n);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

char *
weft_file_to_json_full (WeftGraph          *graph,
                        const WeftHistory  *history,
                        const WeftFileMeta *meta,
                        const char         *weights_file,
                        const char         *sha256)
{
  g_return_val_if_fail (graph != NULL, NULL);

  g_autoptr(JsonBuilder) b = json_builder_new ();
  /* File-local node ids: 1..N over all models in order, so that saving a loaded graph gives
   * the same text whatever ids the graph handed out. */
  g_autoptr(GHashTable) ids = g_hash_table_new (g_direct_hash, g_direct_equal);
  int next_id = 1;
  for (int m = 0; m < weft_graph_n_models (graph); m++)
    {
      WeftId model = weft_graph_model_at (graph, m);
      for (int i = 0; i < weft_graph_model_n_nodes (graph, model); i++)
        g_hash_table_insert (ids, GINT_TO_POINTER (weft_graph_model_node_at (graph, model, i)),
                             GINT_TO_POINTER (next_id++));
    }
#define FILE_ID(node) GPOINTER_TO_INT (g_hash_table_lookup (ids, GINT_TO_POINTER (node)))

  WeftId main_model = weft_graph_get_main_model (graph);

  json_builder_begin_object (b);
  add_string (b, "format", WEFT_FILE_FORMAT);
  add_int (b, "version", WEFT_FILE_VERSION);
  add_string (b, "name", meta != NULL && meta->name != NULL ? meta->name
                         : main_model != WEFT_ID_NONE ? weft_graph_get_name (graph, main_model)
                         : "");
  add_string (b, "description", meta != NULL && meta->description != NULL
                                ? meta->description : "");
  add_string (b, "main_model", main_model != WEFT_ID_NONE
                               ? weft_graph_get_name (graph, main_model) : NULL);

  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  for (int i = 0; i < weft_graph_n_layers (graph); i++)
    {
      WeftId layer = weft_graph_layer_at (graph, i);
      const WeftOpDesc *op = weft_graph_layer_op (graph, layer);
      const WeftValue *cfg = weft_graph_layer_config (graph, layer);
      json_builder_begin_object (b);
      add_string (b, "name", weft_graph_get_name (graph, layer));
      add_string (b, "type", op->name);
      add_bool (b, "trainable", weft_graph_layer_get_trainable (graph, layer));
      json_builder_set_member_name (b, "config");
      json_builder_begin_object (b);
      for (int p = 0; p < op->n_params; p++)
        build_value (b, &op->params[p], &cfg[p]);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "models");
  json_builder_begin_array (b);
  for (int m = 0; m < weft_graph_n_models (graph); m++)
    {
      WeftId model = weft_graph_model_at (graph, m);
      json_builder_begin_object (b);
      add_string (b, "name", weft_graph_get_name (graph, model));
      json_builder_set_member_name (b, "nodes");
      json_builder_begin_array (b);
      for (int i = 0; i < weft_graph_model_n_nodes (graph, model); i++)
        {
          WeftId node = weft_graph_model_node_at (graph, model, i);
          double x = 0, y = 0;
          json_builder_begin_object (b);
          add_int (b, "id", FILE_ID (node));
          add_string (b, "call", weft_graph_get_name (graph, weft_graph_node_callee (graph, node)));
          json_builder_set_member_name (b, "inputs");
          json_builder_begin_array (b);
          for (int p = 0; p < weft_graph_node_n_inputs (graph, node); p++)
            {
              WeftId src;
              int src_port;
              if (weft_graph_node_input (graph, node, p, &src, &src_port))
                {
                  json_builder_begin_array (b);
                  json_builder_add_int_value (b, FILE_ID (src));
                  json_builder_add_int_value (b, src_port);
                  json_builder_end_array (b);
                }
              else
                json_builder_add_null_value (b);
            }
          json_builder_end_array (b);
          weft_graph_node_get_position (graph, node, &x, &y);
          add_double (b, "x", isfinite (x) ? x : 0);
          add_double (b, "y", isfinite (y) ? y : 0);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);

      json_builder_set_member_name (b, "inputs");
      json_builder_begin_array (b);
      for (int i = 0; i < weft_graph_model_n_inputs (graph, model); i++)
        json_builder_add_int_value (b, FILE_ID (weft_graph_model_input (graph, model, i)));
      json_builder_end_array (b);

      json_builder_set_member_name (b, "outputs");
      json_builder_begin_array (b);
      for (int i = 0; i < weft_graph_model_n_outputs (graph, model); i++)
        {
          const WeftHead *h = weft_graph_model_output (graph, model, i);
          json_builder_begin_object (b);
          add_int (b, "node", FILE_ID (h->node));
          add_int (b, "port", h->port);
          add_string (b, "loss", h->loss != WEFT_LOSS_NONE ? loss_name (h->loss) : NULL);
          add_float (b, "loss_weight", h->weight);
          add_bool (b, "from_logits", h->from_logits);
          add_string (b, "metric", h->metric != WEFT_METRIC_NONE ? metric_name (h->metric)
                                                                 : NULL);
          if (h->loss == WEFT_LOSS_HUBER)
            add_float (b, "huber_delta", h->huber_delta);
          if (meta != NULL && meta->head_positions != NULL)
            {
              g_autofree char *key = g_strdup_printf ("%s/%d", weft_graph_get_name (graph, model), i);
              const double *pos = g_hash_table_lookup (meta->head_positions, key);
              if (pos != NULL && isfinite (pos[0]) && isfinite (pos[1]))
                {
                  add_double (b, "x", pos[0]);
                  add_double (b, "y", pos[1]);
                }
            }
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
#undef FILE_ID

  build_training (b, weft_graph_get_train_config (graph));
  if (meta != NULL && meta->data != NULL)
    {
      json_builder_set_member_name (b, "data");
      json_builder_add_value (b, json_node_copy (meta->data));
    }

  if (weights_file != NULL)
    {
      json_builder_set_member_name (b, "weights");
      json_builder_begin_object (b);
      add_string (b, "file", weights_file);
      add_string (b, "sha256", sha256);
      json_builder_end_object (b);
    }
  if (history != NULL && weft_history_n_heads (history) > 0)
    build_history (b, history);
  json_builder_end_object (b);

  g_autoptr(JsonNode) root = json_builder_get_root (b);
  GString *out = g_string_new (NULL);
  print_node (out, root, 0, NULL);
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

char *
weft_file_to_json (WeftGraph         *graph,
                   const WeftHistory *history,
                   const char        *weights_file,
                   const char        *sha256)
{
  return weft_file_to_json_full (graph, history, NULL, weights_file, sha256);
}

static gboolean
graph_has_weight_data (WeftGraph *graph)
{
  for (int i = 0; i < weft_graph_n_layers (graph); i++)
    {
      int n = 0;
      const WeftWeight *w = weft_graph_layer_weights (graph, weft_graph_layer_at (graph, i), &n);
      for (int k = 0; k < n; k++)
        if (w[k].data != NULL)
          return TRUE;
    }
  return FALSE;
}

/* The SHA-256 that the .weft file at path records for its weights, or FALSE. */
static gboolean
recorded_weights_sha (const char *path, char sha_hex[65])
{
  g_autofree char *text = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &text, &len, NULL) || len > WEFT_FILE_MAX_SIZE)
    return FALSE;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, (gssize) len, NULL))
    return FALSE;
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  JsonNode *w = json_object_get_member (json_node_get_object (root), "weights");
  if (w == NULL || !JSON_NODE_HOLDS_OBJECT (w))
    return FALSE;
  JsonNode *s = json_object_get_member (json_node_get_object (w), "sha256");
  if (s == NULL || !JSON_NODE_HOLDS_VALUE (s) || json_node_get_value_type (s) != G_TYPE_STRING)
    return FALSE;
  g_strlcpy (sha_hex, json_node_get_string (s), 65);
  return TRUE;
}

/* Writes the graph's weights to weights_path while the .weft file at path (still the old one)
 * keeps a matching weights file at every moment: the new weights are written beside as
 * NAME.safetensors.new, the weights the old .weft records are kept as NAME.safetensors.prev
 * (a hard link, or a copy where links are not possible), and only then is the new file
 * renamed into place. A crash before the new .weft is in place thus leaves the old .weft with
 * its weights in .prev, which load_weights falls back to; after it, the new pair. */
static gboolean
replace_weights (WeftGraph *graph, const char *path, const char *weights_path,
                 const char *prev_path, char sha[65], GError **error)
{
  g_autofree char *new_path = g_strconcat (weights_path, ".new", NULL);
  GError *local = NULL;

  if (!weft_safetensors_save_graph (graph, new_path, sha, error))
    return FALSE;

  if (g_file_test (weights_path, G_FILE_TEST_IS_REGULAR))
    {
      /* A .prev left by an earlier save that was cut short may be the one the current .weft
       * records (then the current weights file is not): keep it in that case. */
      gboolean keep_prev = FALSE;
      char recorded[65], prev_sha[65];
      if (g_file_test (prev_path, G_FILE_TEST_EXISTS))
        keep_prev = recorded_weights_sha (path, recorded)
                    && weft_file_sha256 (prev_path, prev_sha, NULL)
                    && g_ascii_strcasecmp (recorded, prev_sha) == 0;
      if (!keep_prev)
        {
          g_unlink (prev_path);
          if (link (weights_path, prev_path) != 0)
            {
              g_autoptr (GFile) from = g_file_new_for_path (weights_path);
              g_autoptr (GFile) to = g_file_new_for_path (prev_path);
              if (!g_file_copy (from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &local))
                {
                  g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO,
                               "%s: could not keep the previous weights: %s", prev_path,
                               local->message);
                  g_error_free (local);
                  g_unlink (new_path);
                  return FALSE;
                }
            }
        }
    }

  if (g_rename (new_path, weights_path) != 0)
    {
      int saved = errno;
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "%s: %s", weights_path,
                   g_strerror (saved));
      g_unlink (new_path);
      return FALSE;
    }
  /* The rename must reach the disk before the .weft that depends on it. */
  g_autofree char *dir = g_path_get_dirname (weights_path);
  int fd = open (dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
  return TRUE;
}

/* Is name base + ".XXXXXX" (the temporary name g_file_set_contents uses)? */
static gboolean
is_temp_of (const char *name, const char *base)
{
  size_t n = strlen (base);
  if (strncmp (name, base, n) != 0 || name[n] != '.' || strlen (name + n + 1) != 6)
    return FALSE;
  for (const char *c = name + n + 1; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c))
      return FALSE;
  return TRUE;
}

/* Removes what saves of this file that were killed mid-way left in its folder (temporary
 * files of the atomic writes, a weights file never renamed into place) once they are older
 * than an hour, so no save still running can own them. */
static void
remove_stale_temporaries (const char *path, const char *weights_path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *wbase = g_path_get_basename (weights_path);
  g_autofree char *wnew = g_strconcat (wbase, ".new", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      if (!is_temp_of (name, base) && !is_temp_of (name, wbase) && !is_temp_of (name, wnew))
        continue;
      g_autofree char *p = g_build_filename (dir, name, NULL);
      GStatBuf st;
      if (g_lstat (p, &st) == 0 && S_ISREG (st.st_mode) && now - (gint64) st.st_mtime > 3600)
        g_unlink (p);
    }
}

gboolean
weft_file_save_full (WeftGraph          *graph,
                     const WeftHistory  *history,
                     const WeftFileMeta *meta,
                     const char         *path,
                     GError            **error)
{
  g_return_val_if_fail (graph != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  g_autofree char *weights_path = NULL;
  g_autofree char *weights_base = NULL;
  g_autofree char *prev_path = NULL;
  char sha[65] = "";

  weft_graph_analyse (graph);
  if (graph_has_weight_data (graph))
    {
      weights_path = weft_file_weights_path (path);
      weights_base = g_path_get_basename (weights_path);
      prev_path = g_strconcat (weights_path, WEFT_FILE_PREV_SUFFIX, NULL);
      if (!replace_weights (graph, path, weights_path, prev_path, sha, error))
        return FALSE;
    }

  g_autofree char *json = weft_file_to_json_full (graph, history, meta, weights_base,
                                                  weights_base != NULL ? sha : NULL);
  GError *local = NULL;
  if (!g_file_set_contents_full (path, json, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, &local))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  /* The new pair is complete: the previous weights are no longer needed. */
  if (prev_path != NULL)
    g_unlink (prev_path);
  g_autofree char *weights_for_path = weft_file_weights_path (path);
  remove_stale_temporaries (path, weights_for_path);
  return TRUE;
}

gboolean
weft_file_save (WeftGraph         *graph,
                const WeftHistory *history,
                const char        *path,
                GError           **error)
{
  return weft_file_save_full (graph, history, NULL, path, error);
}

/* ------------------------------------------------------------------------------------------
 * Reading
 * ---------------------------------------------------------------------------------------- */

typedef struct
{
  WeftGraph  *graph;
  GHashTable *names;     /* layer and model names seen (borrowed strings) */
  GHashTable *node_ids;  /* file id (gint64*) -> graph node id */
  GHashTable *node_json; /* graph node id -> JsonObject (borrowed) */
  GHashTable *head_positions; /* "MODEL/INDEX" -> double[2], see WeftFileMeta */
  GError    **error;
} Loader;

static gboolean fail (Loader *ld, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Sets the loader's error; returns FALSE for convenience. */
static gboolean
fail (Loader *ld, int code, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (ld->error != NULL && *ld->error == NULL)
    g_set_error_literal (ld->error, WEFT_IO_ERROR, code, msg);
  return FALSE;
}

#define FAIL(code, ...) fail (ld, (code), __VA_ARGS__)
#define FAIL_FORMAT(...) fail (ld, WEFT_IO_ERROR_FORMAT, __VA_ARGS__)

static const char *
json_type_name (JsonNode *node)
{
  if (node == NULL)
    return "missing";
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT: return "an object";
    case JSON_NODE_ARRAY:  return "an array";
    case JSON_NODE_NULL:   return "null";
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_INT64:
        case G_TYPE_DOUBLE:  return "a number";
        case G_TYPE_BOOLEAN: return "true/false";
        case G_TYPE_STRING:  return "a string";
        default:             return "a value";
        }
    }
  return "a value";
}

static gboolean
is_number (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
         && (json_node_get_value_type (node) == G_TYPE_INT64
             || json_node_get_value_type (node) == G_TYPE_DOUBLE);
}

static double
number_of (JsonNode *node)
{
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return (double) json_node_get_int (node);
  return json_node_get_double (node);
}

/* Refuses members not in `allowed`: a misspelt key must not be silently ignored. */
static gboolean
check_keys (Loader *ld, JsonObject *obj, const char *const *allowed, const char *ctx)
{
  g_autoptr(GList) members = json_object_get_members (obj);
  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      return FAIL_FORMAT ("%s: unknown key '%s'", ctx, (const char *) l->data);
  return TRUE;
}

static gboolean
get_object (Loader *ld, JsonObject *obj, const char *key, gboolean required, const char *ctx,
            JsonObject **out)
{
  JsonNode *n = json_object_get_member (obj, key);
  *out = NULL;
  if (n == NULL && !required)
    return TRUE;
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return FAIL_FORMAT ("%s: '%s' must be an object, not %s", ctx, key, json_type_name (n));
  *out = json_node_get_object (n);
  return TRUE;
}

static gboolean
get_array (Loader *ld, JsonObject *obj, const char *key, gboolean required, const char *ctx,
           JsonArray **out)
{
  JsonNode *n = json_object_get_member (obj, key);
  *out = NULL;
  if (n == NULL && !required)
    return TRUE;
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    return FAIL_FORMAT ("%s: '%s' must be an array, not %s", ctx, key, json_type_name (n));
  *out = json_node_get_array (n);
  return TRUE;
}

/* Missing or null gives *out = NULL unless required. */
static gboolean
get_string (Loader *ld, JsonObject *obj, const char *key, gboolean required, const char *ctx,
            const char **out)
{
  JsonNode *n = json_object_get_member (obj, key);
  *out = NULL;
  if (!required && (n == NULL || JSON_NODE_HOLDS_NULL (n)))
    return TRUE;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return FAIL_FORMAT ("%s: '%s' must be a string, not %s", ctx, key, json_type_name (n));
  *out = json_node_get_string (n);
  return TRUE;
}

static gboolean
get_number (Loader *ld, JsonObject *obj, const char *key, gboolean required, const char *ctx,
            double min, double max, double *out)
{
  JsonNode *n = json_object_get_member (obj, key);
  if (n == NULL && !required)
    return TRUE;
  if (!is_number (n))
    return FAIL_FORMAT ("%s: '%s' must be a number, not %s", ctx, key, json_type_name (n));
  double v = number_of (n);
  if (!isfinite (v) || v < min || v > max)
    return FAIL_FORMAT ("%s: '%s' = %g is outside %g..%g", ctx, key, v, min, max);
  *out = v;
  return TRUE;
}

static gboolean
get_int (Loader *ld, JsonObject *obj, const char *key, gboolean required, const char *ctx,
         gint64 min, gint64 max, gint64 *out)
{
  double v = 0;
  JsonNode *n = json_object_get_member (obj, key);
  if (n == NULL && !required)
    return TRUE;
  if (!is_number (n))
    return FAIL_FORMAT ("%s: '%s' must be a whole number, not %s", ctx, key,
                        json_type_name (n));
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    {
      gint64 i = json_node_get_int (n);
      if (i < min || i > max)
        return FAIL_FORMAT ("%s: '%s' = %" G_GINT64_FORMAT " is outside %" G_GINT64_FORMAT
                            "..%" G_GINT64_FORMAT, ctx, key, i, min, max);
      *out = i;
      return TRUE;
    }
  v = json_node_get_double (n);
  if (!isfinite (v) || v != floor (v))
    return FAIL_FORMAT ("%s: '%s' must be a whole number, not %g", ctx, key, v);
  if (v < (double) min || v > (double) max)
    return FAIL_FORMAT ("%s: '%s' = %g is outside %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT,
                        ctx, key, v, min, max);
  *out = (gint64) v;
  return TRUE;
}

static gboolean
get_bool (Loader *ld, JsonObject *obj, const char *key, const char *ctx, gboolean *out)
{
  JsonNode *n = json_object_get_member (obj, key);
  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return FAIL_FORMAT ("%s: '%s' must be true or false, not %s", ctx, key,
                        json_type_name (n));
  *out = json_node_get_boolean (n);
  return TRUE;
}

static gboolean
check_name (Loader *ld, const char *name, const char *what, guint index)
{
  if (name == NULL || name[0] == '\0')
    return FAIL_FORMAT ("%s[%u] has no name", what, index);
  if (strlen (name) >= WEFT_NAME_MAX)
    return FAIL_FORMAT ("%s[%u]: the name '%.40s...' is longer than %d bytes", what, index, name,
                        WEFT_NAME_MAX - 1);
  if (g_hash_table_contains (ld->names, name))
    return FAIL_FORMAT ("%s[%u]: the name '%s' is used twice (layer and model names must be "
                        "unique)", what, index, name);
  g_hash_table_add (ld->names, (gpointer) name);
  return TRUE;
}

/* One config value from JSON, checked against its spec before any conversion to int (a
 * value like 1e20 must not reach a cast). */
static gboolean
parse_value (Loader *ld, const char *ctx, const WeftParamSpec *spec, JsonNode *n,
             WeftValue *v)
{
  char why[320];

  switch (spec->type)
    {
    case WEFT_PARAM_INT:
      if (JSON_NODE_HOLDS_NULL (n) && (spec->flags & WEFT_PARAM_NULLABLE))
        {
          v->num = 0;
          break;
        }
      if (!is_number (n))
        return FAIL_FORMAT ("%s: '%s' must be a whole number, not %s", ctx, spec->name,
                            json_type_name (n));
      v->num = number_of (n);
      break;
    case WEFT_PARAM_FLOAT:
      if (!is_number (n))
        return FAIL_FORMAT ("%s: '%s' must be a number, not %s", ctx, spec->name,
                            json_type_name (n));
      v->num = number_of (n);
      break;
    case WEFT_PARAM_BOOL:
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
        return FAIL_FORMAT ("%s: '%s' must be true or false, not %s", ctx, spec->name,
                            json_type_name (n));
      v->num = json_node_get_boolean (n) ? 1 : 0;
      break;
    case WEFT_PARAM_CHOICE:
      {
        if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
          return FAIL_FORMAT ("%s: '%s' must be a string, not %s", ctx, spec->name,
                              json_type_name (n));
        const char *s = json_node_get_string (n);
        int i;
        for (i = 0; spec->choices[i] != NULL; i++)
          if (strcmp (spec->choices[i], s) == 0)
            break;
        if (spec->choices[i] == NULL)
          {
            g_autofree char *list = g_strjoinv (", ", (char **) spec->choices);
            return FAIL_FORMAT ("%s: '%s' = '%s' is not one of %s", ctx, spec->name, s, list);
          }
        v->num = i;
      }
      break;
    case WEFT_PARAM_INTS:
      {
        if (!JSON_NODE_HOLDS_ARRAY (n))
          return FAIL_FORMAT ("%s: '%s' must be an array of whole numbers, not %s", ctx,
                              spec->name, json_type_name (n));
        JsonArray *a = json_node_get_array (n);
        guint len = json_array_get_length (a);
        if ((int) MIN (len, G_MAXINT) < spec->n_min || len > (guint) spec->n_max
            || len > WEFT_MAX_RANK)
          return FAIL_FORMAT ("%s: '%s' needs %d to %d values, not %u", ctx, spec->name,
                              spec->n_min, MIN (spec->n_max, WEFT_MAX_RANK), len);
        v->n = (int) len;
        for (guint i = 0; i < len; i++)
          {
            JsonNode *e = json_array_get_element (a, i);
            if (!is_number (e) || number_of (e) != floor (number_of (e)))
              return FAIL_FORMAT ("%s: '%s'[%u] must be a whole number, not %s", ctx,
                                  spec->name, i, json_type_name (e));
            double d = number_of (e);
            gboolean minus_one = d == -1 && (spec->flags & WEFT_PARAM_ALLOW_MINUS_ONE);
            if (!minus_one && (d < spec->min || d > spec->max))
              return FAIL_FORMAT ("%s: '%s'[%u] = %g is outside %g..%g", ctx, spec->name, i, d,
                                  spec->min, spec->max);
            v->ints[i] = (int) d;
          }
      }
      break;
    }
  if (!weft_op_check_value (spec, v, why, sizeof why))
    return FAIL_FORMAT ("%s: %s", ctx, why);
  return TRUE;
}

static gboolean
load_layer (Loader *ld, JsonNode *node, guint index)
{
  static const char *const keys[] = { "name", "type", "trainable", "config", NULL };
  const char *name, *type;
  JsonObject *config = NULL;
  gboolean trainable = TRUE;
  WeftError werr = { 0 };
  char ctx[160];

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FAIL_FORMAT ("layers[%u] must be an object, not %s", index, json_type_name (node));
  JsonObject *obj = json_node_get_object (node);
  g_snprintf (ctx, sizeof ctx, "layers[%u]", index);
  if (!get_string (ld, obj, "name", TRUE, ctx, &name))
    return FALSE;
  g_snprintf (ctx, sizeof ctx, "layer '%s'", name);
  if (!check_keys (ld, obj, keys, ctx)
      || !check_name (ld, name, "layers", index)
      || !get_string (ld, obj, "type", TRUE, ctx, &type)
      || !get_bool (ld, obj, "trainable", ctx, &trainable)
      || !get_object (ld, obj, "config", FALSE, ctx, &config))
    return FALSE;

  const WeftOpDesc *op = weft_op_lookup (type);
  if (op == NULL)
    return FAIL_FORMAT ("layer '%s': unknown layer type '%s'", name, type);
  WeftId layer = weft_graph_add_layer (ld->graph, type, name, &werr);
  if (layer == WEFT_ID_NONE)
    return FAIL_FORMAT ("layer '%s': %s", name, werr.message);
  weft_graph_layer_set_trainable (ld->graph, layer, trainable);
  if (config == NULL)
    return TRUE;

  g_snprintf (ctx, sizeof ctx, "layer '%s' (%s)", name, type);
  g_autoptr(GList) members = json_object_get_members (config);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      int p = weft_op_param_index (op, key);
      if (p < 0)
        return FAIL_FORMAT ("%s: unknown config key '%s'", ctx, key);
      WeftValue v = weft_graph_layer_config (ld->graph, layer)[p];
      if (!parse_value (ld, ctx, &op->params[p], json_object_get_member (config, key), &v))
        return FALSE;
      if (!weft_graph_layer_set_param (ld->graph, layer, key, &v, &werr))
        return FAIL_FORMAT ("%s: %s", ctx, werr.message);
    }
  return TRUE;
}

static gint64 *
dup_id (gint64 id)
{
  gint64 *p = g_new (gint64, 1);
  *p = id;
  return p;
}

/* Graph id of a file node id; WEFT_ID_NONE when absent. */
static WeftId
lookup_node (Loader *ld, gint64 file_id)
{
  gpointer v;
  if (!g_hash_table_lookup_extended (ld->node_ids, &file_id, NULL, &v))
    return WEFT_ID_NONE;
  return GPOINTER_TO_INT (v);
}

static gboolean
load_nodes (Loader *ld, WeftId model, JsonObject *mobj)
{
  static const char *const keys[] = { "id", "call", "inputs", "x", "y", NULL };
  const char *mname = weft_graph_get_name (ld->graph, model);
  JsonArray *nodes;
  char ctx[200];
  WeftError werr = { 0 };

  g_snprintf (ctx, sizeof ctx, "model '%s'", mname);
  if (!get_array (ld, mobj, "nodes", FALSE, ctx, &nodes))
    return FALSE;
  if (nodes == NULL)
    return TRUE;

  for (guint i = 0; i < json_array_get_length (nodes); i++)
    {
      JsonNode *n = json_array_get_element (nodes, i);
      gint64 id = 0;
      const char *call;
      double x = 0, y = 0;
      JsonArray *inputs;

      g_snprintf (ctx, sizeof ctx, "model '%s', nodes[%u]", mname, i);
      if (!JSON_NODE_HOLDS_OBJECT (n))
        return FAIL_FORMAT ("%s must be an object, not %s", ctx, json_type_name (n));
      JsonObject *obj = json_node_get_object (n);
      if (!get_int (ld, obj, "id", TRUE, ctx, 0, G_MAXINT32, &id))
        return FALSE;
      g_snprintf (ctx, sizeof ctx, "model '%s', node %" G_GINT64_FORMAT, mname, id);
      if (!check_keys (ld, obj, keys, ctx)
          || !get_string (ld, obj, "call", TRUE, ctx, &call)
          || !get_array (ld, obj, "inputs", FALSE, ctx, &inputs)
          || !get_number (ld, obj, "x", FALSE, ctx, -1e9, 1e9, &x)
          || !get_number (ld, obj, "y", FALSE, ctx, -1e9, 1e9, &y))
        return FALSE;
      if (lookup_node (ld, id) != WEFT_ID_NONE)
        return FAIL_FORMAT ("%s: the node id %" G_GINT64_FORMAT " is used twice", ctx, id);
      WeftId callee = weft_graph_find (ld->graph, call);
      if (callee == WEFT_ID_NONE)
        return FAIL_FORMAT ("%s: calls '%s', which is neither a layer nor a model", ctx, call);
      if (callee == model)
        return FAIL_FORMAT ("%s: model '%s' calls itself", ctx, mname);
      WeftId node = weft_graph_add_node (ld->graph, model, callee, &werr);
      if (node == WEFT_ID_NONE)
        return FAIL_FORMAT ("%s (%s): %s", ctx, call, werr.message);
      weft_graph_node_set_position (ld->graph, node, x, y);
      g_hash_table_insert (ld->node_ids, dup_id (id), GINT_TO_POINTER (node));
      g_hash_table_insert (ld->node_json, GINT_TO_POINTER (node), obj);
    }
  return TRUE;
}

/* Depth-first over "model calls model": refuses recursion and absurd nesting, and lists the
 * models callees first, the order in which their inputs and outputs must be set. */
static gboolean
order_models (Loader *ld, WeftId model, GHashTable *state, GArray *order, int depth)
{
  int st = GPOINTER_TO_INT (g_hash_table_lookup (state, GINT_TO_POINTER (model)));
  if (st == 2)
    return TRUE;
  if (st == 1)
    return FAIL_FORMAT ("model '%s' calls itself through other models",
                        weft_graph_get_name (ld->graph, model));
  if (depth > WEFT_FILE_MAX_DEPTH)
    return FAIL_FORMAT ("models are nested more than %d deep", WEFT_FILE_MAX_DEPTH);
  g_hash_table_insert (state, GINT_TO_POINTER (model), GINT_TO_POINTER (1));
  for (int i = 0; i < weft_graph_model_n_nodes (ld->graph, model); i++)
    {
      WeftId callee = weft_graph_node_callee (ld->graph,
                                              weft_graph_model_node_at (ld->graph, model, i));
      if (weft_graph_kind (ld->graph, callee) == WEFT_KIND_MODEL
          && !order_models (ld, callee, state, order, depth + 1))
        return FALSE;
    }
  g_hash_table_insert (state, GINT_TO_POINTER (model), GINT_TO_POINTER (2));
  g_array_append_val (order, model);
  return TRUE;
}

/* A node id from the file that must belong to `model`. */
static gboolean
resolve_node (Loader *ld, WeftId model, JsonNode *n, const char *ctx, const char *what,
              WeftId *out)
{
  if (!is_number (n) || number_of (n) != floor (number_of (n)))
    return FAIL_FORMAT ("%s: %s must be a node id, not %s", ctx, what, json_type_name (n));
  double d = number_of (n);
  WeftId node = d >= 0 && d <= G_MAXINT32 ? lookup_node (ld, (gint64) d) : WEFT_ID_NONE;
  if (node == WEFT_ID_NONE)
    return FAIL_FORMAT ("%s: %s refers to node %g, which does not exist", ctx, what, d);
  if (weft_graph_node_model (ld->graph, node) != model)
    return FAIL_FORMAT ("%s: %s refers to node %g of another model", ctx, what, d);
  *out = node;
  return TRUE;
}

static gboolean
load_interface (Loader *ld, WeftId model, JsonObject *mobj)
{
  static const char *const head_keys[] = { "node", "port", "loss", "loss_weight",
                                           "from_logits", "metric", "huber_delta", "x", "y",
                                           NULL };
  const char *mname = weft_graph_get_name (ld->graph, model);
  JsonArray *inputs, *outputs;
  char ctx[200];
  WeftError werr = { 0 };

  g_snprintf (ctx, sizeof ctx, "model '%s'", mname);
  if (!get_array (ld, mobj, "inputs", FALSE, ctx, &inputs)
      || !get_array (ld, mobj, "outputs", FALSE, ctx, &outputs))
    return FALSE;

  for (guint i = 0; inputs != NULL && i < json_array_get_length (inputs); i++)
    {
      WeftId node;
      char what[32];
      g_snprintf (what, sizeof what, "inputs[%u]", i);
      if (!resolve_node (ld, model, json_array_get_element (inputs, i), ctx, what, &node))
        return FALSE;
      WeftId callee = weft_graph_node_callee (ld->graph, node);
      const WeftOpDesc *op = weft_graph_kind (ld->graph, callee) == WEFT_KIND_LAYER
                             ? weft_graph_layer_op (ld->graph, callee) : NULL;
      if (op == NULL || !(op->flags & WEFT_OP_INPUT))
        return FAIL_FORMAT ("%s: %s is a call of '%s', not of an Input layer", ctx, what,
                            weft_graph_get_name (ld->graph, callee));
      if (!weft_graph_model_add_input (ld->graph, model, node, &werr))
        return FAIL_FORMAT ("%s: %s: %s", ctx, what, werr.message);
    }

  for (guint i = 0; outputs != NULL && i < json_array_get_length (outputs); i++)
    {
      JsonNode *n = json_array_get_element (outputs, i);
      char hctx[240];
      gint64 port = 0;
      const char *loss = NULL, *metric = NULL;
      double weight = 1, delta = 1, x = 0, y = 0;
      gboolean logits = FALSE;
      WeftHead head = { 0 };

      g_snprintf (hctx, sizeof hctx, "model '%s', outputs[%u]", mname, i);
      if (!JSON_NODE_HOLDS_OBJECT (n))
        return FAIL_FORMAT ("%s must be an object, not %s", hctx, json_type_name (n));
      JsonObject *obj = json_node_get_object (n);
      if (!check_keys (ld, obj, head_keys, hctx)
          || !resolve_node (ld, model, json_object_get_member (obj, "node"), hctx, "'node'",
                            &head.node)
          || !get_int (ld, obj, "port", FALSE, hctx, 0, G_MAXINT32, &port)
          || !get_string (ld, obj, "loss", FALSE, hctx, &loss)
          || !get_number (ld, obj, "loss_weight", FALSE, hctx, 0, 1e6, &weight)
          || !get_bool (ld, obj, "from_logits", hctx, &logits)
          || !get_string (ld, obj, "metric", FALSE, hctx, &metric)
          || !get_number (ld, obj, "huber_delta", FALSE, hctx, 1e-12, 1e12, &delta)
          || !get_number (ld, obj, "x", FALSE, hctx, -1e9, 1e9, &x)
          || !get_number (ld, obj, "y", FALSE, hctx, -1e9, 1e9, &y))
        return FALSE;
      if (json_object_has_member (obj, "x") != json_object_has_member (obj, "y"))
        return FAIL_FORMAT ("%s: a head position needs both 'x' and 'y'", hctx);
      if (json_object_has_member (obj, "x"))
        {
          double *pos = g_new (double, 2);
          pos[0] = x;
          pos[1] = y;
          g_hash_table_replace (ld->head_positions, g_strdup_printf ("%s/%u", mname, i), pos);
        }
      int n_ports = weft_graph_node_n_outputs (ld->graph, head.node);
      if (port >= n_ports)
        return FAIL_FORMAT ("%s: port %" G_GINT64_FORMAT " does not exist (the node has %d "
                            "output%s)", hctx, port, n_ports, n_ports == 1 ? "" : "s");
      head.port = (int) port;
      head.loss = WEFT_LOSS_NONE;
      if (loss != NULL)
        {
          int l = weft_loss_from_name (loss);
          if (l < 0)
            return FAIL_FORMAT ("%s: unknown loss '%s'", hctx, loss);
          head.loss = (WeftLoss) l;
        }
      head.metric = WEFT_METRIC_NONE;
      if (metric != NULL)
        {
          int m = -1;
          if (strcmp (metric, "accuracy") == 0 || strcmp (metric, "acc") == 0)
            m = weft_metric_for_loss (head.loss);
          if (m <= 0)
            m = weft_metric_from_name (metric);
          if (m < 0)
            return FAIL_FORMAT ("%s: unknown metric '%s'", hctx, metric);
          head.metric = (WeftMetric) m;
        }
      head.weight = (float) weight;
      head.from_logits = logits;
      head.huber_delta = (float) delta;
      if (!weft_graph_model_add_output (ld->graph, model, &head, &werr))
        return FAIL_FORMAT ("%s: %s", hctx, werr.message);
    }
  return TRUE;
}

static gboolean
load_wires (Loader *ld, WeftId node)
{
  JsonObject *obj = g_hash_table_lookup (ld->node_json, GINT_TO_POINTER (node));
  JsonNode *inputs = json_object_get_member (obj, "inputs");
  WeftId model = weft_graph_node_model (ld->graph, node);
  WeftId callee = weft_graph_node_callee (ld->graph, node);
  char ctx[200];
  WeftError werr = { 0 };

  if (inputs == NULL)
    return TRUE;
  gint64 file_id = json_object_get_int_member (obj, "id");
  g_snprintf (ctx, sizeof ctx, "model '%s', node %" G_GINT64_FORMAT " (%s)",
              weft_graph_get_name (ld->graph, model), file_id,
              weft_graph_get_name (ld->graph, callee));
  JsonArray *a = json_node_get_array (inputs);
  guint len = json_array_get_length (a);
  if (len > WEFT_MAX_INPUTS)
    return FAIL_FORMAT ("%s: %u inputs, more than the %d a call can have", ctx, len,
                        WEFT_MAX_INPUTS);
  for (guint p = 0; p < len; p++)
    {
      JsonNode *w = json_array_get_element (a, p);
      char what[40];
      WeftId src;

      if (JSON_NODE_HOLDS_NULL (w))
        continue;
      g_snprintf (what, sizeof what, "input %u", p);
      if (!JSON_NODE_HOLDS_ARRAY (w) || json_array_get_length (json_node_get_array (w)) != 2)
        return FAIL_FORMAT ("%s: %s must be [node, port] or null, not %s", ctx, what,
                            json_type_name (w));
      JsonArray *pair = json_node_get_array (w);
      if (!resolve_node (ld, model, json_array_get_element (pair, 0), ctx, what, &src))
        return FALSE;
      JsonNode *pn = json_array_get_element (pair, 1);
      if (!is_number (pn) || number_of (pn) != floor (number_of (pn)))
        return FAIL_FORMAT ("%s: %s: the port must be a whole number, not %s", ctx, what,
                            json_type_name (pn));
      double port = number_of (pn);
      int n_ports = weft_graph_node_n_outputs (ld->graph, src);
      if (port < 0 || port >= n_ports)
        return FAIL_FORMAT ("%s: %s comes from port %g of '%s', which has %d output%s", ctx,
                            what, port,
                            weft_graph_get_name (ld->graph, weft_graph_node_callee (ld->graph,
                                                                                   src)),
                            n_ports, n_ports == 1 ? "" : "s");
      if (!weft_graph_connect (ld->graph, src, (int) port, node, (int) p, &werr))
        return FAIL_FORMAT ("%s: %s: %s", ctx, what, werr.message);
    }
  return TRUE;
}

static gboolean
load_optimizer (Loader *ld, JsonObject *obj, WeftOptimConfig *o)
{
  static const char *const common[] = { "name", "learning_rate", "clipnorm",
                                        "global_clipnorm", NULL };
  static const char *const per_kind[][6] = {
    [WEFT_OPTIM_SGD] = { "momentum", "nesterov", NULL },
    [WEFT_OPTIM_ADAM] = { "beta_1", "beta_2", "epsilon", NULL },
    [WEFT_OPTIM_ADAMW] = { "weight_decay", "beta_1", "beta_2", "epsilon", NULL },
    [WEFT_OPTIM_RMSPROP] = { "rho", "momentum", "epsilon", NULL },
  };
  const char *ctx = "training.optimizer";
  const char *name;
  double v;
  int kind;

  if (!get_string (ld, obj, "name", TRUE, ctx, &name))
    return FALSE;
  for (kind = 0; optim_names[kind] != NULL; kind++)
    if (g_ascii_strcasecmp (optim_names[kind], name) == 0)
      break;
  if (optim_names[kind] == NULL)
    return FAIL_FORMAT ("%s: unknown optimizer '%s' (sgd, adam, adamw or rmsprop)", ctx, name);
  weft_optim_config_defaults ((WeftOptimKind) kind, o);

  g_autoptr(GList) members = json_object_get_members (obj);
  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (common, l->data)
        && !g_strv_contains ((const char *const *) per_kind[kind], l->data))
      return FAIL_FORMAT ("%s: the optimizer %s has no setting '%s'", ctx, optim_names[kind],
                          (const char *) l->data);

#define NUM(key, field, lo, hi) \
  do { \
    v = o->field; \
    if (!get_number (ld, obj, key, FALSE, ctx, lo, hi, &v)) \
      return FALSE; \
    o->field = (float) v; \
  } while (0)
#define NULLABLE_NUM(key, field) \
  do { \
    JsonNode *nn = json_object_get_member (obj, key); \
    if (nn != NULL && JSON_NODE_HOLDS_NULL (nn)) \
      o->field = 0; \
    else \
      NUM (key, field, 0, 1e9); \
  } while (0)
  NUM ("learning_rate", learning_rate, 0, 1e3);
  NUM ("momentum", momentum, 0, 1);
  NUM ("beta_1", beta_1, 0, 1);
  NUM ("beta_2", beta_2, 0, 1);
  NUM ("epsilon", epsilon, 0, 1);
  NUM ("rho", rho, 0, 1);
  NUM ("weight_decay", weight_decay, 0, 1e3);
  NULLABLE_NUM ("clipnorm", clipnorm);
  NULLABLE_NUM ("global_clipnorm", global_clipnorm);
#undef NUM
#undef NULLABLE_NUM
  gboolean nesterov = o->nesterov;
  if (!get_bool (ld, obj, "nesterov", ctx, &nesterov))
    return FALSE;
  o->nesterov = nesterov;
  return TRUE;
}

static gboolean
load_training (Loader *ld, JsonObject *obj, WeftTrainConfig *tc)
{
  static const char *const keys[] = { "optimizer", "epochs", "batch_size", "validation_split",
                                      "shuffle", "seed", "threads", "data", NULL };
  const char *ctx = "training";
  JsonObject *optim;
  gint64 i;
  double d;
  gboolean b;
  const char *data;

  if (!check_keys (ld, obj, keys, ctx) || !get_object (ld, obj, "optimizer", FALSE, ctx, &optim))
    return FALSE;
  if (optim != NULL && !load_optimizer (ld, optim, &tc->optimizer))
    return FALSE;
  i = tc->epochs;
  if (!get_int (ld, obj, "epochs", FALSE, ctx, 1, 1000000, &i))
    return FALSE;
  tc->epochs = (int) i;
  i = tc->batch_size;
  if (!get_int (ld, obj, "batch_size", FALSE, ctx, 1, 1 << 20, &i))
    return FALSE;
  tc->batch_size = (int) i;
  d = tc->validation_split;
  if (!get_number (ld, obj, "validation_split", FALSE, ctx, 0, 0.99, &d))
    return FALSE;
  tc->validation_split = (float) d;
  b = tc->shuffle;
  if (!get_bool (ld, obj, "shuffle", ctx, &b))
    return FALSE;
  tc->shuffle = b;
  i = (gint64) MIN (tc->seed, (uint64_t) G_MAXINT64);
  if (!get_int (ld, obj, "seed", FALSE, ctx, 0, G_MAXINT64, &i))
    return FALSE;
  tc->seed = (uint64_t) i;
  i = tc->threads;
  if (!get_int (ld, obj, "threads", FALSE, ctx, 0, 1024, &i))
    return FALSE;
  tc->threads = (int) i;
  if (!get_string (ld, obj, "data", FALSE, ctx, &data))
    return FALSE;
  if (data != NULL && strlen (data) >= sizeof tc->data)
    return FAIL_FORMAT ("%s: 'data' is longer than %zu bytes", ctx, sizeof tc->data - 1);
  g_strlcpy (tc->data, data != NULL ? data : "", sizeof tc->data);
  return TRUE;
}

/* Reads n_heads numbers (null = NaN) into out. */
static gboolean
get_head_values (Loader *ld, JsonObject *obj, const char *key, const char *ctx, int n_heads,
                 double *out, gboolean *present)
{
  JsonArray *a;
  *present = FALSE;
  for (int i = 0; i < n_heads; i++)
    out[i] = NAN;
  if (!get_array (ld, obj, key, FALSE, ctx, &a))
    return FALSE;
  if (a == NULL)
    return TRUE;
  if (json_array_get_length (a) != (guint) n_heads)
    return FAIL_FORMAT ("%s: '%s' has %u values for %d heads", ctx, key,
                        json_array_get_length (a), n_heads);
  for (int i = 0; i < n_heads; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_NULL (e))
        continue;
      if (!is_number (e))
        return FAIL_FORMAT ("%s: '%s'[%d] must be a number or null, not %s", ctx, key, i,
                            json_type_name (e));
      out[i] = number_of (e);
    }
  *present = TRUE;
  return TRUE;
}

static WeftHistory *
load_history (Loader *ld, JsonObject *obj)
{
  static const char *const keys[] = { "heads", "epochs", "steps", NULL };
  static const char *const head_keys[] = { "name", "loss_weight", "metric", NULL };
  static const char *const epoch_keys[] = { "run", "epoch", "seconds", "total", "loss",
                                            "metric", "val_total", "val_loss", "val_metric",
                                            NULL };
  static const char *const step_keys[] = { "run", "step", "epoch", "batch", "samples_seen",
                                           "total", "loss", "metric", NULL };
  JsonArray *heads, *epochs, *steps;
  const char *names[WEFT_MAX_HEADS];
  const char *metrics[WEFT_MAX_HEADS];
  float weights[WEFT_MAX_HEADS];
  char ctx[80];

  if (!check_keys (ld, obj, keys, "history")
      || !get_array (ld, obj, "heads", TRUE, "history", &heads)
      || !get_array (ld, obj, "epochs", FALSE, "history", &epochs)
      || !get_array (ld, obj, "steps", FALSE, "history", &steps))
    return NULL;
  guint n = json_array_get_length (heads);
  if (n < 1 || n > WEFT_MAX_HEADS)
    {
      FAIL_FORMAT ("history: %u heads (1 to %d are possible)", n, WEFT_MAX_HEADS);
      return NULL;
    }
  for (guint i = 0; i < n; i++)
    {
      JsonNode *hn = json_array_get_element (heads, i);
      double w = 1;
      g_snprintf (ctx, sizeof ctx, "history.heads[%u]", i);
      if (!JSON_NODE_HOLDS_OBJECT (hn))
        {
          FAIL_FORMAT ("%s must be an object, not %s", ctx, json_type_name (hn));
          return NULL;
        }
      JsonObject *h = json_node_get_object (hn);
      if (!check_keys (ld, h, head_keys, ctx)
          || !get_string (ld, h, "name", TRUE, ctx, &names[i])
          || !get_number (ld, h, "loss_weight", FALSE, ctx, 0, 1e6, &w)
          || !get_string (ld, h, "metric", FALSE, ctx, &metrics[i]))
        return NULL;
      if (names[i][0] == '\0')
        {
          FAIL_FORMAT ("%s: the head name is empty", ctx);
          return NULL;
        }
      weights[i] = (float) w;
    }
  WeftHistory *history = weft_history_new ((int) n, names, weights, metrics);
  if (history == NULL)
    {
      FAIL (WEFT_IO_ERROR_TOO_LARGE, "history: out of memory");
      return NULL;
    }

  double loss[WEFT_MAX_HEADS], metric[WEFT_MAX_HEADS];
  double val_loss[WEFT_MAX_HEADS], val_metric[WEFT_MAX_HEADS];
  gboolean has;
  for (guint i = 0; epochs != NULL && i < json_array_get_length (epochs); i++)
    {
      JsonNode *en = json_array_get_element (epochs, i);
      gint64 run = 0, epoch = 0;
      double seconds = 0, total = NAN, val_total = NAN;
      gboolean has_val = FALSE;
      g_snprintf (ctx, sizeof ctx, "history.epochs[%u]", i);
      if (!JSON_NODE_HOLDS_OBJECT (en))
        {
          FAIL_FORMAT ("%s must be an object, not %s", ctx, json_type_name (en));
          goto fail;
        }
      JsonObject *e = json_node_get_object (en);
      JsonNode *vt = json_object_get_member (e, "val_total");
      if (!check_keys (ld, e, epoch_keys, ctx)
          || !get_int (ld, e, "run", FALSE, ctx, 0, G_MAXINT32, &run)
          || !get_int (ld, e, "epoch", TRUE, ctx, 0, G_MAXINT32, &epoch)
          || !get_number (ld, e, "seconds", FALSE, ctx, 0, 1e12, &seconds)
          || !get_number (ld, e, "total", FALSE, ctx, -G_MAXDOUBLE, G_MAXDOUBLE, &total)
          || !get_head_values (ld, e, "loss", ctx, (int) n, loss, &has)
          || !get_head_values (ld, e, "metric", ctx, (int) n, metric, &has)
          || (vt != NULL && !JSON_NODE_HOLDS_NULL (vt)
              && !get_number (ld, e, "val_total", FALSE, ctx, -G_MAXDOUBLE, G_MAXDOUBLE,
                              &val_total))
          || !get_head_values (ld, e, "val_loss", ctx, (int) n, val_loss, &has_val)
          || !get_head_values (ld, e, "val_metric", ctx, (int) n, val_metric, &has))
        goto fail;
      WeftHistoryEpoch row = {
        .run = (int) run, .epoch = (int) epoch, .total = total, .has_validation = has_val,
        .val_total = val_total, .seconds = seconds, .loss = loss, .metric = metric,
        .val_loss = has_val ? val_loss : NULL, .val_metric = has_val ? val_metric : NULL,
      };
      if (!weft_history_append_epoch (history, &row))
        {
          FAIL_FORMAT ("%s: run %" G_GINT64_FORMAT " comes after a later run", ctx, run);
          goto fail;
        }
    }
  for (guint i = 0; steps != NULL && i < json_array_get_length (steps); i++)
    {
      JsonNode *sn = json_array_get_element (steps, i);
      gint64 run = 0, step = 0, epoch = 0, batch = 0, seen = 0;
      double total = NAN;
      g_snprintf (ctx, sizeof ctx, "history.steps[%u]", i);
      if (!JSON_NODE_HOLDS_OBJECT (sn))
        {
          FAIL_FORMAT ("%s must be an object, not %s", ctx, json_type_name (sn));
          goto fail;
        }
      JsonObject *s = json_node_get_object (sn);
      if (!check_keys (ld, s, step_keys, ctx)
          || !get_int (ld, s, "run", FALSE, ctx, 0, G_MAXINT32, &run)
          || !get_int (ld, s, "step", TRUE, ctx, 0, G_MAXINT64, &step)
          || !get_int (ld, s, "epoch", FALSE, ctx, 0, G_MAXINT32, &epoch)
          || !get_int (ld, s, "batch", FALSE, ctx, 0, G_MAXINT32, &batch)
          || !get_int (ld, s, "samples_seen", FALSE, ctx, 0, G_MAXINT64, &seen)
          || !get_number (ld, s, "total", FALSE, ctx, -G_MAXDOUBLE, G_MAXDOUBLE, &total)
          || !get_head_values (ld, s, "loss", ctx, (int) n, loss, &has)
          || !get_head_values (ld, s, "metric", ctx, (int) n, metric, &has))
        goto fail;
      WeftHistoryStep row = {
        .run = (int) run, .step = step, .epoch = (int) epoch, .batch = (int) batch,
        .samples_seen = seen, .total = total, .loss = loss, .metric = metric,
      };
      if (!weft_history_append_step (history, &row))
        {
          FAIL_FORMAT ("%s: run %" G_GINT64_FORMAT " comes after a later run", ctx, run);
          goto fail;
        }
    }
  return history;

fail:
  weft_history_free (history);
  return NULL;
}

/* json-glib's parser recurses once per nesting level: refuse absurd nesting before it runs
 * so that a hostile file cannot exhaust the stack. */
static gboolean
check_depth (const char *json, gsize len, GError **error)
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
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > WEFT_FILE_MAX_DEPTH)
            {
              g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                           "the JSON is nested more than %d levels deep", WEFT_FILE_MAX_DEPTH);
              return FALSE;
            }
        }
      else if (c == ']' || c == '}')
        depth--;
    }
  return TRUE;
}

static gboolean
check_sizes (Loader *ld)
{
  for (int i = 0; i < weft_graph_n_layers (ld->graph); i++)
    {
      WeftId layer = weft_graph_layer_at (ld->graph, i);
      int n = 0;
      const WeftWeight *w = weft_graph_layer_weights (ld->graph, layer, &n);
      for (int k = 0; k < n; k++)
        {
          gint64 size = 1;
          for (int d = 0; d < w[k].spec.shape.rank; d++)
            {
              int dim = w[k].spec.shape.dims[d];
              if (dim <= 0)
                {
                  size = 0;
                  break;
                }
              if (size > WEFT_FILE_MAX_WEIGHT_ELEMENTS / dim)
                {
                  size = G_MAXINT64;
                  break;
                }
              size *= dim;
            }
          if (size > WEFT_FILE_MAX_WEIGHT_ELEMENTS)
            return FAIL (WEFT_IO_ERROR_TOO_LARGE,
                         "layer '%s': the weight '%s' would have more than %" G_GINT64_FORMAT
                         " values", weft_graph_get_name (ld->graph, layer), w[k].spec.name,
                         WEFT_FILE_MAX_WEIGHT_ELEMENTS);
        }
    }
  return TRUE;
}

static gboolean
is_hex64 (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return FALSE;
  for (int i = 0; i < 64; i++)
    if (!g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

static gboolean
load_weights (Loader *ld, JsonObject *obj, const char *base_dir)
{
  static const char *const keys[] = { "file", "sha256", NULL };
  const char *file, *sha;
  char actual[65];

  if (!check_keys (ld, obj, keys, "weights")
      || !get_string (ld, obj, "file", TRUE, "weights", &file)
      || !get_string (ld, obj, "sha256", TRUE, "weights", &sha))
    return FALSE;
  if (!is_hex64 (sha))
    return FAIL_FORMAT ("weights: 'sha256' must be 64 hexadecimal digits");
  if (file[0] == '\0' || g_path_is_absolute (file) || strstr (file, "..") != NULL)
    return FAIL_FORMAT ("weights: 'file' must be a file name relative to the .weft file, "
                        "not '%s'", file);
  if (base_dir == NULL)
    return FAIL (WEFT_IO_ERROR_IO, "weights: this graph names the weights file '%s' but was "
                 "not read from a folder", file);
  g_autofree char *path = g_build_filename (base_dir, file, NULL);
  GError *local = NULL;
  /* The checksum is taken of the very bytes that are parsed (a save running meanwhile cannot
   * slip other weights in); the graph is only changed when everything fits. */
  if (weft_safetensors_load_graph (ld->graph, path, sha, &local))
    return TRUE;
  if (!g_error_matches (local, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH)
      || !weft_file_sha256 (path, actual, NULL) || g_ascii_strcasecmp (actual, sha) == 0)
    {
      g_propagate_prefixed_error (ld->error, local, "weights file '%s': ", file);
      return FALSE;
    }
  g_clear_error (&local);

  /* A save cut short after it put the new weights in place but before it replaced this file
   * leaves the weights this file records beside it (see weft_file_save_full). */
  g_autofree char *prev = g_strconcat (path, WEFT_FILE_PREV_SUFFIX, NULL);
  if (g_file_test (prev, G_FILE_TEST_IS_REGULAR)
      && weft_safetensors_load_graph (ld->graph, prev, sha, NULL))
    return TRUE;
  return FAIL (WEFT_IO_ERROR_MISMATCH, "the weights file '%s' does not belong to this graph "
               "(its SHA-256 differs from the one recorded in the .weft file)", file);
}

static WeftGraph *
load_root (Loader *ld, JsonNode *root, const char *base_dir, WeftHistory **history_out,
           WeftFileMeta *meta)
{
  static const char *const keys[] = { "format", "version", "name", "description", "main_model",
                                      "layers", "models", "training", "data", "weights",
                                      "history", NULL };
  const char *format, *name = NULL, *description = NULL, *main_name = NULL;
  gint64 version = 0;
  JsonArray *layers, *models;
  JsonObject *training, *data, *weights, *hist;
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (WeftId));
  g_autoptr(GHashTable) state = g_hash_table_new (g_direct_hash, g_direct_equal);
  WeftHistory *history = NULL;
  guint n_models = 0;
  g_autofree WeftId *model_ids = NULL;
  g_autofree JsonObject **model_objs = NULL;

  /* Blank text parses to no root at all. */
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      FAIL_FORMAT ("not a Weft graph file: the top level is %s, not an object",
                   json_type_name (root));
      return NULL;
    }
  JsonObject *top = json_node_get_object (root);
  JsonNode *fn = json_object_get_member (top, "format");
  if (fn == NULL || !JSON_NODE_HOLDS_VALUE (fn) || json_node_get_value_type (fn) != G_TYPE_STRING
      || strcmp (json_node_get_string (fn), WEFT_FILE_FORMAT) != 0)
    {
      FAIL_FORMAT ("not a Weft graph file ('format' should be '%s')", WEFT_FILE_FORMAT);
      return NULL;
    }
  format = json_node_get_string (fn);
  (void) format;
  JsonNode *vn = json_object_get_member (top, "version");
  if (!is_number (vn) || number_of (vn) != floor (number_of (vn)))
    {
      FAIL_FORMAT ("'version' must be a whole number, not %s", json_type_name (vn));
      return NULL;
    }
  if (number_of (vn) > WEFT_FILE_VERSION)
    {
      FAIL (WEFT_IO_ERROR_VERSION, "this file was made by a newer Weft (format version %g; this "
            "Weft reads version %d): please update Weft", number_of (vn), WEFT_FILE_VERSION);
      return NULL;
    }
  if (number_of (vn) < 1)
    {
      FAIL (WEFT_IO_ERROR_VERSION, "unknown format version %g", number_of (vn));
      return NULL;
    }
  version = (gint64) number_of (vn);
  (void) version;

  if (!check_keys (ld, top, keys, "file")
      || !get_string (ld, top, "name", FALSE, "file", &name)
      || !get_string (ld, top, "description", FALSE, "file", &description)
      || !get_string (ld, top, "main_model", FALSE, "file", &main_name)
      || !get_array (ld, top, "layers", FALSE, "file", &layers)
      || !get_array (ld, top, "models", FALSE, "file", &models)
      || !get_object (ld, top, "training", FALSE, "file", &training)
      || !get_object (ld, top, "data", FALSE, "file", &data)
      || !get_object (ld, top, "weights", FALSE, "file", &weights)
      || !get_object (ld, top, "history", FALSE, "file", &hist))
    return NULL;

  ld->graph = weft_graph_new ();

  for (guint i = 0; layers != NULL && i < json_array_get_length (layers); i++)
    if (!load_layer (ld, json_array_get_element (layers, i), i))
      goto fail;

  /* Models in four passes: names, nodes, inputs/outputs callees first, then wires (a wire
   * from a nested model's port needs that model's outputs to exist). */
  n_models = models != NULL ? json_array_get_length (models) : 0;
  model_ids = g_new0 (WeftId, MAX (n_models, 1));
  model_objs = g_new0 (JsonObject *, MAX (n_models, 1));
  for (guint i = 0; i < n_models; i++)
    {
      static const char *const mkeys[] = { "name", "nodes", "inputs", "outputs", NULL };
      JsonNode *mn = json_array_get_element (models, i);
      const char *mname;
      char ctx[120];
      WeftError werr = { 0 };
      g_snprintf (ctx, sizeof ctx, "models[%u]", i);
      if (!JSON_NODE_HOLDS_OBJECT (mn))
        {
          FAIL_FORMAT ("%s must be an object, not %s", ctx, json_type_name (mn));
          goto fail;
        }
      model_objs[i] = json_node_get_object (mn);
      if (!get_string (ld, model_objs[i], "name", TRUE, ctx, &mname))
        goto fail;
      g_snprintf (ctx, sizeof ctx, "model '%s'", mname);
      if (!check_keys (ld, model_objs[i], mkeys, ctx) || !check_name (ld, mname, "models", i))
        goto fail;
      model_ids[i] = weft_graph_add_model (ld->graph, mname, &werr);
      if (model_ids[i] == WEFT_ID_NONE)
        {
          FAIL_FORMAT ("%s: %s", ctx, werr.message);
          goto fail;
        }
    }
  for (guint i = 0; i < n_models; i++)
    if (!load_nodes (ld, model_ids[i], model_objs[i]))
      goto fail;
  for (guint i = 0; i < n_models; i++)
    if (!order_models (ld, model_ids[i], state, order, 0))
      goto fail;
  for (guint k = 0; k < order->len; k++)
    {
      WeftId model = g_array_index (order, WeftId, k);
      for (guint i = 0; i < n_models; i++)
        if (model_ids[i] == model && !load_interface (ld, model, model_objs[i]))
          goto fail;
    }
  for (guint i = 0; i < n_models; i++)
    for (int k = 0; k < weft_graph_model_n_nodes (ld->graph, model_ids[i]); k++)
      if (!load_wires (ld, weft_graph_model_node_at (ld->graph, model_ids[i], k)))
        goto fail;

  if (main_name != NULL)
    {
      WeftId main_model = weft_graph_find (ld->graph, main_name);
      if (main_model == WEFT_ID_NONE
          || weft_graph_kind (ld->graph, main_model) != WEFT_KIND_MODEL)
        {
          FAIL_FORMAT ("'main_model' names '%s', which is not a model of this file", main_name);
          goto fail;
        }
      weft_graph_set_main_model (ld->graph, main_model);
    }
  else if (n_models > 0)
    weft_graph_set_main_model (ld->graph, model_ids[0]);

  WeftTrainConfig tc = *weft_graph_get_train_config (ld->graph);
  if (training != NULL)
    {
      if (!load_training (ld, training, &tc))
        goto fail;
      weft_graph_set_train_config (ld->graph, &tc);
    }

  weft_graph_analyse (ld->graph);
  if (!check_sizes (ld))
    goto fail;
  if (weights != NULL && !load_weights (ld, weights, base_dir))
    goto fail;
  if (hist != NULL && (history = load_history (ld, hist)) == NULL)
    goto fail;

  if (meta != NULL)
    {
      meta->name = g_strdup (name);
      meta->description = g_strdup (description);
      meta->data = data != NULL ? json_node_copy (json_object_get_member (top, "data")) : NULL;
      if (g_hash_table_size (ld->head_positions) > 0)
        meta->head_positions = g_hash_table_ref (ld->head_positions);
    }
  if (history_out != NULL)
    *history_out = history;
  else
    weft_history_free (history);
  return g_steal_pointer (&ld->graph);

fail:
  g_clear_pointer (&ld->graph, weft_graph_free);
  return NULL;
}

WeftGraph *
weft_file_load_data_full (const char    *json,
                          gsize          len,
                          const char    *base_dir,
                          WeftHistory  **history_out,
                          WeftFileMeta  *meta,
                          GError       **error)
{
  g_return_val_if_fail (json != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* A GError is needed internally even when the caller passes none. */
  GError *local = NULL;
  Loader ld = { .error = &local };
  WeftGraph *graph = NULL;

  if (history_out != NULL)
    *history_out = NULL;
  if (meta != NULL)
    memset (meta, 0, sizeof *meta);

  if (len > WEFT_FILE_MAX_SIZE)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "the file is larger than %d MiB", WEFT_FILE_MAX_SIZE / (1024 * 1024));
      return NULL;
    }
  if (len == 0)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT, "the file is empty");
      return NULL;
    }
  if (!check_depth (json, len, error))
    return NULL;

  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, json, (gssize) len, &local))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT, "not valid JSON: %s",
                   local->message);
      g_error_free (local);
      return NULL;
    }

  ld.names = g_hash_table_new (g_str_hash, g_str_equal);
  ld.node_ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  ld.node_json = g_hash_table_new (g_direct_hash, g_direct_equal);
  ld.head_positions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  graph = load_root (&ld, json_parser_get_root (parser), base_dir, history_out, meta);
  g_hash_table_unref (ld.names);
  g_hash_table_unref (ld.node_ids);
  g_hash_table_unref (ld.node_json);
  g_hash_table_unref (ld.head_positions);
  if (graph == NULL)
    {
      if (local == NULL)
        local = g_error_new (WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT, "the file could not be read");
      g_propagate_error (error, local);
    }
  return graph;
}

WeftGraph *
weft_file_load_data (const char   *json,
                     gsize         len,
                     const char   *base_dir,
                     WeftHistory **history_out,
                     GError      **error)
{
  return weft_file_load_data_full (json, len, base_dir, history_out, NULL, error);
}

WeftGraph *
weft_file_load_full (const char    *path,
                     WeftHistory  **history_out,
                     WeftFileMeta  *meta,
                     GError       **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  GStatBuf st;
  g_autofree char *contents = NULL;
  gsize len = 0;
  GError *local = NULL;

  if (history_out != NULL)
    *history_out = NULL;
  if (g_stat (path, &st) == 0 && st.st_size > WEFT_FILE_MAX_SIZE)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "%s: the file is larger than %d MiB", path, WEFT_FILE_MAX_SIZE / (1024 * 1024));
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &len, &local))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return NULL;
    }
  g_autofree char *dir = g_path_get_dirname (path);
  WeftGraph *graph = weft_file_load_data_full (contents, len, dir, history_out, meta, error);
  if (graph == NULL)
    g_prefix_error (error, "%s: ", path);
  return graph;
}

WeftGraph *
weft_file_load (const char   *path,
                WeftHistory **history_out,
                GError      **error)
{
  return weft_file_load_full (path, history_out, NULL, error);
}
