/* SPDX-License-Identifier: GPL-3.0-or-later */
/* WeftDocument: every command's do, undo and redo. No display needed. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "weft-document.h"
#include "weft-canvas-painter.h"

typedef struct
{
  int added, removed, changed;
} Counts;

static void on_added (WeftDocument *d, int id, Counts *c) { c->added++; }
static void on_removed (WeftDocument *d, int id, Counts *c) { c->removed++; }
static void on_changed (WeftDocument *d, Counts *c) { c->changed++; }

static WeftDocument *
new_doc (Counts *c)
{
  WeftDocument *doc = weft_document_new ();

  if (c != NULL)
    {
      memset (c, 0, sizeof *c);
      g_signal_connect (doc, "node-added", G_CALLBACK (on_added), c);
      g_signal_connect (doc, "node-removed", G_CALLBACK (on_removed), c);
      g_signal_connect (doc, "changed", G_CALLBACK (on_changed), c);
    }
  return doc;
}

static int
n_nodes (WeftDocument *doc)
{
  return weft_graph_model_n_nodes (weft_document_get_graph (doc), weft_document_get_model (doc));
}

static gboolean
has_node (WeftDocument *doc, WeftId id)
{
  return weft_graph_kind (weft_document_get_graph (doc), id) == WEFT_KIND_NODE;
}

static void
assert_shape (WeftDocument *doc, WeftId node, const char *expected)
{
  WeftShape shape;
  char buf[64];

  g_assert_true (weft_graph_node_shape (weft_document_get_graph (doc), node, 0, &shape));
  g_assert_cmpstr (weft_shape_format (&shape, buf, sizeof buf), ==, expected);
}

static WeftValue
int_value (int v)
{
  WeftValue value = { 0 };
  value.num = v;
  return value;
}

/* Input(8) -> Dense(32) */
static void
input_dense (WeftDocument *doc, WeftId *input, WeftId *dense)
{
  g_autoptr (GError) error = NULL;

  *input = weft_document_add_layer (doc, "Input", 0, 0, &error);
  g_assert_no_error (error);
  *dense = weft_document_add_layer (doc, "Dense", 300, 0, &error);
  g_assert_no_error (error);
  {
    WeftValue shape = { 0 };
    shape.n = 1;
    shape.ints[0] = 8;
    g_assert_true (weft_document_set_param (doc, weft_graph_node_callee (weft_document_get_graph (doc), *input),
                                            "shape", &shape, &error));
  }
  g_assert_true (weft_document_connect (doc, *input, 0, *dense, 0, &error));
  g_assert_no_error (error);
}

static void
test_new_is_clean (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autofree char *title = weft_document_dup_title (doc);

  g_assert_nonnull (weft_document_get_graph (doc));
  g_assert_cmpint (weft_document_get_model (doc), ==,
                   weft_graph_get_main_model (weft_document_get_graph (doc)));
  g_assert_cmpint (n_nodes (doc), ==, 0);
  g_assert_false (weft_document_get_dirty (doc));
  g_assert_false (weft_document_can_undo (doc));
  g_assert_false (weft_document_undo (doc));
  g_assert_false (weft_document_redo (doc));
  g_assert_null (weft_document_get_undo_name (doc));
  g_assert_cmpstr (title, ==, "Untitled");
  g_assert_finalize_object (doc);
}

static void
test_add_layer_undo_redo (void)
{
  Counts c;
  WeftDocument *doc = new_doc (&c);
  g_autoptr (GError) error = NULL;
  WeftId node = weft_document_add_layer (doc, "Dense", 40, 60, &error);
  double x, y;

  g_assert_no_error (error);
  g_assert_cmpint (node, !=, WEFT_ID_NONE);
  g_assert_cmpint (c.added, ==, 1);
  g_assert_cmpint (n_nodes (doc), ==, 1);
  g_assert_true (weft_document_get_dirty (doc));
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Add Dense");
  weft_graph_node_get_position (weft_document_get_graph (doc), node, &x, &y);
  g_assert_cmpfloat (x, ==, 40);
  g_assert_cmpfloat (y, ==, 60);

  g_assert_true (weft_document_undo (doc));
  g_assert_cmpint (c.removed, ==, 1);
  g_assert_false (has_node (doc, node));
  g_assert_false (weft_document_get_dirty (doc));
  g_assert_cmpstr (weft_document_get_redo_name (doc), ==, "Add Dense");

  g_assert_true (weft_document_redo (doc));
  g_assert_true (has_node (doc, node));      /* the very same id comes back */
  g_assert_cmpint (c.added, ==, 2);
  g_assert_true (weft_document_get_dirty (doc));
  g_assert_cmpint (c.changed, ==, 3);
  g_assert_finalize_object (doc);
}

static void
test_add_unknown_type_records_nothing (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (weft_document_add_layer (doc, "Nonsense", 0, 0, &error), ==, WEFT_ID_NONE);
  g_assert_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_UNKNOWN_TYPE);
  g_assert_false (weft_document_can_undo (doc));
  g_assert_cmpint (weft_graph_n_layers (weft_document_get_graph (doc)), ==, 0);
  g_assert_finalize_object (doc);
}

static void
test_input_becomes_model_input (void)
{
  WeftDocument *doc = new_doc (NULL);
  WeftId input = weft_document_add_layer (doc, "Input", 0, 0, NULL);
  WeftGraph *g = weft_document_get_graph (doc);

  g_assert_cmpint (weft_graph_model_n_inputs (g, weft_document_get_model (doc)), ==, 1);
  g_assert_cmpint (weft_graph_model_input (g, weft_document_get_model (doc), 0), ==, input);
  weft_document_undo (doc);
  g_assert_cmpint (weft_graph_model_n_inputs (weft_document_get_graph (doc),
                                              weft_document_get_model (doc)), ==, 0);
  g_assert_finalize_object (doc);
}

static void
test_connect_and_disconnect (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  WeftId input, dense, src;
  int port;

  input_dense (doc, &input, &dense);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Connect");
  assert_shape (doc, dense, "(None, 32)");
  g_assert_true (weft_graph_node_input (weft_document_get_graph (doc), dense, 0, &src, &port));
  g_assert_cmpint (src, ==, input);

  g_assert_true (weft_document_disconnect (doc, dense, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Disconnect");
  g_assert_false (weft_graph_node_input (weft_document_get_graph (doc), dense, 0, NULL, NULL));
  weft_document_undo (doc);
  g_assert_true (weft_graph_node_input (weft_document_get_graph (doc), dense, 0, &src, NULL));
  g_assert_cmpint (src, ==, input);
  weft_document_undo (doc);
  g_assert_false (weft_graph_node_input (weft_document_get_graph (doc), dense, 0, NULL, NULL));
  weft_document_redo (doc);
  assert_shape (doc, dense, "(None, 32)");
  g_assert_finalize_object (doc);
}

static void
test_connect_refuses_cycle_and_keeps_graph (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  WeftId a = weft_document_add_layer (doc, "Dense", 0, 0, NULL);
  WeftId b = weft_document_add_layer (doc, "Dense", 200, 0, NULL);
  guint64 serial;

  g_assert_true (weft_document_connect (doc, a, 0, b, 0, NULL));
  serial = weft_graph_get_serial (weft_document_get_graph (doc));
  g_assert_false (weft_document_connect (doc, b, 0, a, 0, &error));
  g_assert_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_CYCLE);
  g_assert_nonnull (strstr (error->message, "cycle"));
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Connect");
  g_assert_false (weft_graph_node_input (weft_document_get_graph (doc), a, 0, NULL, NULL));
  g_assert_cmpuint (weft_graph_get_serial (weft_document_get_graph (doc)), >=, serial);
  g_assert_finalize_object (doc);
}

static void
test_move_nodes (void)
{
  WeftDocument *doc = new_doc (NULL);
  WeftId a = weft_document_add_layer (doc, "Dense", 0, 0, NULL);
  WeftId b = weft_document_add_layer (doc, "Dense", 100, 20, NULL);
  WeftId ids[] = { a, b };
  double x, y;

  g_assert_false (weft_document_move_nodes (doc, ids, 2, 0, 0));
  g_assert_true (weft_document_move_nodes (doc, ids, 2, 40, -20));
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Move 2 nodes");
  weft_graph_node_get_position (weft_document_get_graph (doc), b, &x, &y);
  g_assert_cmpfloat (x, ==, 140);
  g_assert_cmpfloat (y, ==, 0);
  weft_document_undo (doc);
  weft_graph_node_get_position (weft_document_get_graph (doc), b, &x, &y);
  g_assert_cmpfloat (x, ==, 100);
  g_assert_cmpfloat (y, ==, 20);
  weft_document_redo (doc);
  weft_graph_node_get_position (weft_document_get_graph (doc), a, &x, &y);
  g_assert_cmpfloat (x, ==, 40);
  g_assert_finalize_object (doc);
}

static void
test_set_param (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  WeftId input, dense, layer;
  WeftValue v = int_value (64), bad = int_value (0);

  input_dense (doc, &input, &dense);
  layer = weft_graph_node_callee (weft_document_get_graph (doc), dense);
  g_assert_true (weft_document_set_param (doc, layer, "units", &v, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Change units");
  assert_shape (doc, dense, "(None, 64)");
  g_assert_false (weft_document_set_param (doc, layer, "units", &bad, &error));
  g_assert_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_PARAM_RANGE);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Change units");
  assert_shape (doc, dense, "(None, 64)");
  weft_document_undo (doc);
  assert_shape (doc, dense, "(None, 32)");
  weft_document_redo (doc);
  assert_shape (doc, dense, "(None, 64)");
  g_assert_finalize_object (doc);
}

static void
test_rename (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  WeftId a = weft_document_add_layer (doc, "Dense", 0, 0, NULL);
  WeftId b = weft_document_add_layer (doc, "Dense", 0, 100, NULL);
  WeftGraph *g = weft_document_get_graph (doc);
  WeftId la = weft_graph_node_callee (g, a), lb = weft_graph_node_callee (g, b);
  g_autofree char *old = g_strdup (weft_graph_get_name (g, la));

  g_assert_true (weft_document_rename (doc, la, "encoder", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (weft_graph_get_name (weft_document_get_graph (doc), la), ==, "encoder");
  g_assert_false (weft_document_rename (doc, lb, "encoder", &error));
  g_assert_nonnull (error);
  weft_document_undo (doc);
  g_assert_cmpstr (weft_graph_get_name (weft_document_get_graph (doc), la), ==, old);
  g_assert_finalize_object (doc);
}

static void
test_call_again_shares_weights (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  WeftId input, dense, again;
  gint64 before = 0, after = 0, frozen;
  g_autofree char *expected = NULL;
  WeftGraph *g;

  input_dense (doc, &input, &dense);
  g = weft_document_get_graph (doc);
  g_assert_true (weft_graph_count_params (g, weft_document_get_model (doc), &before, &frozen));
  expected = g_strdup_printf ("Call %s again", weft_graph_get_name (g, weft_graph_node_callee (g, dense)));
  again = weft_document_call_again (doc, dense, 300, 200, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, expected);
  g = weft_document_get_graph (doc);
  g_assert_cmpint (weft_graph_node_callee (g, again), ==, weft_graph_node_callee (g, dense));
  g_assert_cmpint (weft_graph_callee_n_nodes (g, weft_graph_node_callee (g, dense)), ==, 2);
  g_assert_true (weft_document_connect (doc, input, 0, again, 0, NULL));
  g_assert_true (weft_graph_count_params (weft_document_get_graph (doc),
                                          weft_document_get_model (doc), &after, &frozen));
  g_assert_cmpint (after, ==, before);    /* shared weights are counted once */
  g_assert_cmpint (before, ==, 8 * 32 + 32);
  weft_document_undo (doc);
  weft_document_undo (doc);
  g_assert_false (has_node (doc, again));
  g_assert_cmpint (weft_graph_callee_n_nodes (weft_document_get_graph (doc),
                                              weft_graph_node_callee (weft_document_get_graph (doc), dense)), ==, 1);
  /* an Input cannot be called again */
  g_assert_cmpint (weft_document_call_again (doc, input, 0, 0, &error), ==, WEFT_ID_NONE);
  g_assert_nonnull (error);
  g_assert_finalize_object (doc);
}

static void
test_duplicate_copies_settings_and_inner_wires (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) copies = NULL;
  WeftId input, dense, ids[2];
  WeftValue v = int_value (5);
  WeftGraph *g;
  WeftId src;

  input_dense (doc, &input, &dense);
  weft_document_set_param (doc, weft_graph_node_callee (weft_document_get_graph (doc), dense),
                           "units", &v, NULL);
  ids[0] = input;
  ids[1] = dense;
  copies = weft_document_paste (doc, weft_document_get_graph (doc), ids, 2, 20, 200, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (copies->len, ==, 2);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Duplicate 2 nodes");
  g = weft_document_get_graph (doc);
  g_assert_cmpint (n_nodes (doc), ==, 4);
  g_assert_cmpint (weft_graph_node_callee (g, g_array_index (copies, WeftId, 1)), !=,
                   weft_graph_node_callee (g, dense));
  g_assert_true (weft_graph_node_input (g, g_array_index (copies, WeftId, 1), 0, &src, NULL));
  g_assert_cmpint (src, ==, g_array_index (copies, WeftId, 0));
  assert_shape (doc, g_array_index (copies, WeftId, 1), "(None, 5)");
  g_assert_cmpint (weft_graph_model_n_inputs (g, weft_document_get_model (doc)), ==, 2);
  weft_document_undo (doc);
  g_assert_cmpint (n_nodes (doc), ==, 2);
  g_assert_finalize_object (doc);
}

static void
test_paste_from_other_graph (void)
{
  WeftDocument *from = new_doc (NULL), *to = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) copies = NULL;
  WeftId input, dense, ids[2];

  input_dense (from, &input, &dense);
  ids[0] = input;
  ids[1] = dense;
  copies = weft_document_paste (to, weft_document_get_graph (from), ids, 2, 0, 0, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (weft_document_get_undo_name (to), ==, "Paste 2 nodes");
  assert_shape (to, g_array_index (copies, WeftId, 1), "(None, 32)");
  g_clear_pointer (&copies, g_array_unref);
  ids[0] = 9999;
  copies = weft_document_paste (to, weft_document_get_graph (from), ids, 1, 0, 0, FALSE, &error);
  g_assert_null (copies);
  g_assert_nonnull (error);
  g_assert_cmpstr (weft_document_get_undo_name (to), ==, "Paste 2 nodes");
  g_assert_finalize_object (from);
  g_assert_finalize_object (to);
}

static void
test_remove_nodes_drops_layers_and_heads (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  WeftId input, dense;
  int layers;

  input_dense (doc, &input, &dense);
  g_assert_true (weft_document_add_head (doc, dense, 0, &error));
  layers = weft_graph_n_layers (weft_document_get_graph (doc));
  g_assert_true (weft_document_remove_nodes (doc, &dense, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Delete 1 node");
  g_assert_false (has_node (doc, dense));
  g_assert_cmpint (weft_graph_n_layers (weft_document_get_graph (doc)), ==, layers - 1);
  g_assert_cmpint (weft_graph_model_n_outputs (weft_document_get_graph (doc),
                                               weft_document_get_model (doc)), ==, 0);
  weft_document_undo (doc);
  g_assert_true (has_node (doc, dense));
  g_assert_cmpint (weft_graph_model_n_outputs (weft_document_get_graph (doc),
                                               weft_document_get_model (doc)), ==, 1);
  weft_document_redo (doc);
  g_assert_false (has_node (doc, dense));
  g_assert_false (weft_document_remove_nodes (doc, &dense, 1, &error) && FALSE);
  g_assert_finalize_object (doc);
}

static void
test_heads (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  WeftId input, dense, model;
  WeftHead head;

  input_dense (doc, &input, &dense);
  model = weft_document_get_model (doc);
  g_assert_true (weft_document_add_head (doc, dense, 0, &error));
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Add head");
  g_assert_false (weft_document_add_head (doc, dense, 0, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  head = *weft_graph_model_output (weft_document_get_graph (doc), model, 0);
  g_assert_cmpint (head.loss, ==, WEFT_LOSS_MSE);
  head.loss = WEFT_LOSS_MAE;
  head.weight = 0.25f;
  g_assert_true (weft_document_set_head (doc, 0, &head, "Change loss", &error));
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Change loss");
  g_assert_cmpfloat (weft_graph_model_output (weft_document_get_graph (doc), model, 0)->weight, ==, 0.25f);
  g_assert_true (weft_graph_validate (weft_document_get_graph (doc), NULL));
  weft_document_undo (doc);
  g_assert_cmpint (weft_graph_model_output (weft_document_get_graph (doc), model, 0)->loss, ==, WEFT_LOSS_MSE);
  g_assert_true (weft_document_remove_head (doc, 0));
  g_assert_cmpint (weft_graph_model_n_outputs (weft_document_get_graph (doc), model), ==, 0);
  weft_document_undo (doc);
  g_assert_cmpint (weft_graph_model_n_outputs (weft_document_get_graph (doc), model), ==, 1);
  g_assert_false (weft_document_set_head (doc, 3, &head, NULL, &error));
  g_assert_finalize_object (doc);
}

static void
test_group_and_ungroup (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  WeftId input, d1, d2, call, ids[2], main_model, block;
  gint64 before = 0, after = 0, frozen;
  WeftGraph *g;

  input_dense (doc, &input, &d1);
  d2 = weft_document_add_layer (doc, "Dense", 600, 0, NULL);
  g_assert_true (weft_document_connect (doc, d1, 0, d2, 0, NULL));
  g_assert_true (weft_document_add_head (doc, d2, 0, NULL));
  main_model = weft_document_get_model (doc);
  g_assert_true (weft_graph_count_params (weft_document_get_graph (doc), main_model, &before, &frozen));

  ids[0] = d1;
  ids[1] = d2;
  call = weft_document_group (doc, ids, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Group into model");
  g = weft_document_get_graph (doc);
  block = weft_graph_node_callee (g, call);
  g_assert_cmpint (weft_graph_kind (g, block), ==, WEFT_KIND_MODEL);
  g_assert_cmpint (n_nodes (doc), ==, 2);                       /* Input + model node */
  g_assert_cmpint (weft_graph_model_n_inputs (g, block), ==, 1);
  g_assert_cmpint (weft_graph_model_n_outputs (g, block), ==, 1);
  g_assert_cmpint (weft_graph_model_n_nodes (g, block), ==, 3);  /* Input + 2 Dense */
  g_assert_cmpint (weft_graph_model_output (g, main_model, 0)->node, ==, call);
  assert_shape (doc, call, "(None, 32)");
  g_assert_true (weft_graph_count_params (g, main_model, &after, &frozen));
  g_assert_cmpint (after, ==, before);
  g_assert_true (weft_graph_validate (g, NULL));

  /* the model is a layer: a second call shares its weights */
  g_assert_cmpint (weft_document_add_model_node (doc, block, 0, 300, &error), !=, WEFT_ID_NONE);
  g_assert_true (weft_graph_count_params (weft_document_get_graph (doc), main_model, &after, &frozen));
  g_assert_cmpint (after, ==, before);
  weft_document_undo (doc);

  g_assert_true (weft_document_ungroup (doc, call, &error));
  g_assert_no_error (error);
  g = weft_document_get_graph (doc);
  g_assert_cmpint (n_nodes (doc), ==, 3);
  g_assert_cmpint (weft_graph_kind (g, block), ==, WEFT_KIND_NONE);
  g_assert_true (weft_graph_validate (g, NULL));
  assert_shape (doc, weft_graph_model_output (g, main_model, 0)->node, "(None, 32)");
  g_assert_true (weft_graph_count_params (g, main_model, &after, &frozen));
  g_assert_cmpint (after, ==, before);

  weft_document_undo (doc);   /* ungroup */
  weft_document_undo (doc);   /* group */
  g_assert_true (has_node (doc, d1));
  g_assert_true (has_node (doc, d2));
  g_assert_cmpint (weft_graph_n_models (weft_document_get_graph (doc)), ==, 1);
  weft_document_redo (doc);
  g_assert_false (has_node (doc, d1));
  g_assert_true (has_node (doc, call));
  /* ungrouping a layer node is refused */
  g_assert_false (weft_document_ungroup (doc, input, &error));
  g_assert_nonnull (error);
  g_assert_finalize_object (doc);
}

static void
test_group_refuses_inputs (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  WeftId input, dense, ids[2];

  input_dense (doc, &input, &dense);
  ids[0] = input;
  ids[1] = dense;
  g_assert_cmpint (weft_document_group (doc, ids, 2, &error), ==, WEFT_ID_NONE);
  g_assert_nonnull (error);
  g_assert_cmpint (weft_graph_n_models (weft_document_get_graph (doc)), ==, 1);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Connect");
  g_assert_finalize_object (doc);
}

static void
test_open_model_in_place (void)
{
  WeftDocument *doc = new_doc (NULL);
  WeftId input, d1, call, block, inner;

  input_dense (doc, &input, &d1);
  call = weft_document_group (doc, &d1, 1, NULL);
  block = weft_graph_node_callee (weft_document_get_graph (doc), call);
  weft_document_set_model (doc, block);
  g_assert_cmpint (weft_document_get_model (doc), ==, block);
  inner = weft_document_add_layer (doc, "Dropout", 0, 0, NULL);
  g_assert_cmpint (weft_graph_node_model (weft_document_get_graph (doc), inner), ==, block);
  /* undoing the group while inside it goes back to the main model */
  weft_document_undo (doc);
  weft_document_undo (doc);
  g_assert_cmpint (weft_document_get_model (doc), ==,
                   weft_graph_get_main_model (weft_document_get_graph (doc)));
  g_assert_finalize_object (doc);
}

static void
test_tidy_lays_out_left_to_right (void)
{
  WeftDocument *doc = new_doc (NULL);
  WeftId input, dense;
  double xi, yi, xd, yd;

  input_dense (doc, &input, &dense);
  weft_document_move_nodes (doc, &dense, 1, -600, 0);
  weft_document_tidy (doc);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Tidy up");
  weft_graph_node_get_position (weft_document_get_graph (doc), input, &xi, &yi);
  weft_graph_node_get_position (weft_document_get_graph (doc), dense, &xd, &yd);
  g_assert_cmpfloat (xd, >, xi + WEFT_CANVAS_NODE_WIDTH);
  weft_document_undo (doc);
  weft_graph_node_get_position (weft_document_get_graph (doc), dense, &xd, &yd);
  g_assert_cmpfloat (xd, ==, -300);
  g_assert_finalize_object (doc);
}

static void
test_new_command_clears_redo (void)
{
  WeftDocument *doc = new_doc (NULL);

  weft_document_add_layer (doc, "Dense", 0, 0, NULL);
  weft_document_undo (doc);
  g_assert_true (weft_document_can_redo (doc));
  weft_document_add_layer (doc, "Dropout", 0, 0, NULL);
  g_assert_false (weft_document_can_redo (doc));
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Add Dropout");
  g_assert_finalize_object (doc);
}

static void
test_save_and_load_round_trip (void)
{
  WeftDocument *doc = new_doc (NULL), *back = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("weft-doc-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "graph.weft", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree char *title = NULL;
  WeftId input, dense;
  double x, y;

  input_dense (doc, &input, &dense);
  weft_document_add_head (doc, dense, 0, NULL);
  g_assert_true (weft_document_get_dirty (doc));
  g_assert_true (weft_document_save (doc, file, &error));
  g_assert_no_error (error);
  g_assert_false (weft_document_get_dirty (doc));
  title = weft_document_dup_title (doc);
  g_assert_cmpstr (title, ==, "graph.weft");
  /* undo past the saved state makes it dirty, redo back makes it clean */
  weft_document_undo (doc);
  g_assert_true (weft_document_get_dirty (doc));
  weft_document_redo (doc);
  g_assert_false (weft_document_get_dirty (doc));

  g_assert_true (weft_document_load (back, file, &error));
  g_assert_no_error (error);
  g_assert_false (weft_document_can_undo (back));
  g_assert_cmpint (n_nodes (back), ==, 2);
  g_assert_cmpint (weft_graph_model_n_outputs (weft_document_get_graph (back),
                                               weft_document_get_model (back)), ==, 1);
  weft_graph_node_get_position (weft_document_get_graph (back),
                                weft_graph_model_output (weft_document_get_graph (back),
                                                         weft_document_get_model (back), 0)->node,
                                &x, &y);
  g_assert_cmpfloat (x, ==, 300);
  g_assert_cmpfloat (y, ==, 0);

  g_assert_false (weft_document_load (back, g_file_new_for_path ("/nonexistent/x.weft"), &error) && FALSE);
  g_clear_error (&error);
  g_unlink (path);
  g_rmdir (dir);
  g_assert_finalize_object (doc);
  g_assert_finalize_object (back);
}

/* The kernel buffer of a layer (borrowed) or NULL. */
static const float *
kernel_of (WeftDocument *doc, WeftId layer, float *first)
{
  int n = 0;
  const WeftWeight *w = weft_graph_layer_weights (weft_document_get_graph (doc), layer, &n);

  for (int i = 0; i < n; i++)
    if (g_str_equal (w[i].spec.name, "kernel"))
      {
        if (first != NULL && w[i].data != NULL)
          *first = w[i].data[0];
        return w[i].data;
      }
  return NULL;
}

static void
test_undo_moves_weights_without_copies (void)
{
  g_autoptr (WeftDocument) doc = new_doc (NULL);
  WeftId input, dense, layer;
  const float *kernel;
  float v0 = 0, v = 0;

  input_dense (doc, &input, &dense);
  layer = weft_graph_node_callee (weft_document_get_graph (doc), dense);
  weft_graph_init_weights (weft_document_get_graph (doc), 7);
  kernel = kernel_of (doc, layer, &v0);
  g_assert_nonnull (kernel);

  /* a command, its undo and its redo all keep the very same buffer: nothing is copied */
  g_assert_true (weft_document_move_nodes (doc, &dense, 1, 40, 0));
  g_assert_true (kernel_of (doc, layer, NULL) == kernel);
  g_assert_true (weft_document_undo (doc));
  g_assert_true (kernel_of (doc, layer, NULL) == kernel);
  g_assert_true (weft_document_redo (doc));
  g_assert_true (kernel_of (doc, layer, &v) == kernel);
  g_assert_cmpfloat (v, ==, v0);
  g_assert_true (weft_document_undo (doc));
  g_assert_true (kernel_of (doc, layer, NULL) == kernel);
}

static void
test_undo_restores_destroyed_weights (void)
{
  g_autoptr (WeftDocument) doc = new_doc (NULL);
  WeftId input, dense, layer;
  WeftValue units = int_value (16);
  const float *kernel;
  float v0 = 0, v = 0;
  WeftShape shape;

  input_dense (doc, &input, &dense);
  layer = weft_graph_node_callee (weft_document_get_graph (doc), dense);
  weft_graph_init_weights (weft_document_get_graph (doc), 7);
  kernel = kernel_of (doc, layer, &v0);

  /* deleting the layer: its weights live on in the undo entry only */
  g_assert_true (weft_document_remove_nodes (doc, &dense, 1, NULL));
  g_assert_cmpint (weft_graph_kind (weft_document_get_graph (doc), layer), !=, WEFT_KIND_LAYER);
  g_assert_true (weft_document_undo (doc));
  g_assert_true (kernel_of (doc, layer, &v) == kernel);
  g_assert_cmpfloat (v, ==, v0);

  /* a new shape drops the buffer from the live graph; undo brings the old one back */
  g_assert_true (weft_document_set_param (doc, layer, "units", &units, NULL));
  g_assert_true (kernel_of (doc, layer, NULL) != kernel);
  g_assert_true (weft_graph_node_shape (weft_document_get_graph (doc), dense, 0, &shape));
  g_assert_cmpint (shape.dims[shape.rank - 1], ==, 16);
  g_assert_true (weft_document_undo (doc));
  g_assert_true (kernel_of (doc, layer, &v) == kernel);
  g_assert_cmpfloat (v, ==, v0);
}

static WeftPoint
head_at (WeftDocument *doc, int i)
{
  g_autoptr (GArray) pos = weft_document_dup_head_positions (doc);
  g_assert_cmpuint (pos->len, >, (guint) i);
  return g_array_index (pos, WeftPoint, i);
}

/* A head box moves like a node (one undo entry), and its place is saved in the .weft with the
 * file's title and data binding. */
static void
test_heads_move_undo_and_save (void)
{
  g_autoptr (WeftDocument) doc = new_doc (NULL);
  g_autoptr (WeftDocument) back = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("weft-doc-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "heads.weft", NULL);
  g_autofree char *weights = g_build_filename (dir, "heads.safetensors", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  WeftFileMeta meta = { 0 };
  WeftCanvasScene *scene;
  const WeftCanvasNode *box;
  WeftId input, dense, head = WEFT_CANVAS_HEAD_ID (0);
  WeftPoint p;
  double auto_x, auto_y;

  input_dense (doc, &input, &dense);
  g_assert_true (weft_document_add_head (doc, dense, 0, NULL));
  p = head_at (doc, 0);
  g_assert_true (isnan (p.x) && isnan (p.y));   /* placed automatically */

  /* where it is drawn now, then moved by (40, 60) */
  scene = weft_canvas_scene_new ();
  weft_canvas_scene_build (scene, weft_document_get_graph (doc), weft_document_get_model (doc), NULL);
  box = weft_canvas_scene_lookup (scene, head);
  g_assert_nonnull (box);
  auto_x = box->x;
  auto_y = box->y;
  weft_canvas_scene_free (scene);
  g_assert_true (weft_document_move_nodes (doc, &head, 1, 40, 60));
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Move 1 node");
  p = head_at (doc, 0);
  g_assert_cmpfloat (p.x, ==, auto_x + 40);
  g_assert_cmpfloat (p.y, ==, auto_y + 60);
  g_assert_true (weft_document_undo (doc));
  p = head_at (doc, 0);
  g_assert_true (isnan (p.x));
  g_assert_true (weft_document_redo (doc));
  p = head_at (doc, 0);
  g_assert_cmpfloat (p.x, ==, auto_x + 40);

  /* a head that does not exist is refused */
  {
    WeftId ghost = WEFT_CANVAS_HEAD_ID (5);
    g_assert_false (weft_document_move_nodes (doc, &ghost, 1, 10, 10));
  }

  /* saved with the title and data binding, loaded back in place */
  meta.name = g_strdup ("Heads");
  meta.data = json_from_string ("{\"source\": \"synthetic:blobs\"}", NULL);
  weft_document_set_file_meta (doc, &meta);
  weft_file_meta_clear (&meta);
  p = head_at (doc, 0);
  g_assert_true (isnan (p.x));   /* the meta had no head positions */
  g_assert_true (weft_document_move_nodes (doc, &head, 1, 40, 60));
  g_assert_true (weft_document_save (doc, file, &error));
  g_assert_no_error (error);
  g_assert_true (weft_document_load (back, file, &error));
  g_assert_no_error (error);
  p = head_at (back, 0);
  g_assert_cmpfloat (p.x, ==, auto_x + 40);
  g_assert_cmpfloat (p.y, ==, auto_y + 60);
  g_assert_cmpstr (weft_document_get_file_meta (back)->name, ==, "Heads");
  g_assert_nonnull (weft_document_get_file_meta (back)->data);

  /* tidy puts the heads back next to their sources */
  weft_document_tidy (back);
  p = head_at (back, 0);
  g_assert_true (isnan (p.x));

  g_unlink (path);
  g_unlink (weights);
  g_rmdir (dir);
}

/* Input(8) -> Dense(32) and Input -> Dense(32), a head on each: two heads. */
static void
two_heads (WeftDocument *doc, WeftId *dense_a, WeftId *dense_b)
{
  g_autoptr (GError) error = NULL;
  WeftId input;

  input_dense (doc, &input, dense_a);
  *dense_b = weft_document_add_layer (doc, "Dense", 300, 200, &error);
  g_assert_no_error (error);
  g_assert_true (weft_document_connect (doc, input, 0, *dense_b, 0, &error));
  g_assert_true (weft_document_add_head (doc, *dense_a, 0, &error));
  g_assert_true (weft_document_add_head (doc, *dense_b, 0, &error));
  g_assert_no_error (error);
}

/* A history adopted by a document without one is saved with it and read back. */
static void
test_history_adopted_and_saved (void)
{
  WeftDocument *doc = new_doc (NULL), *back = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("weft-doc-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "graph.weft", NULL);
  g_autofree char *weights = weft_file_weights_path (path);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  WeftGraph *graph, *loaded;
  WeftHistory *history, *read = NULL;
  WeftHistoryEpoch row = { 0 }, got;
  const char *names[2];
  double loss[2] = { 0.5, 2.0 }, metric[2] = { NAN, NAN };
  WeftId a, b, model;

  two_heads (doc, &a, &b);
  g_assert_true (weft_document_save (doc, file, &error));
  g_assert_no_error (error);
  g_assert_false (weft_document_get_dirty (doc));
  g_assert_null (weft_document_get_history (doc));

  graph = weft_document_get_graph (doc);
  model = weft_document_get_model (doc);
  names[0] = weft_graph_model_output_name (graph, model, 0);
  names[1] = weft_graph_model_output_name (graph, model, 1);
  history = weft_history_new (2, names, NULL, NULL);
  g_assert_nonnull (history);
  row.total = 2.5;
  row.loss = loss;
  row.metric = metric;
  row.val_loss = loss;
  row.val_metric = metric;
  row.val_total = NAN;
  for (int e = 0; e < 3; e++)
    {
      row.epoch = e;
      g_assert_true (weft_history_append_epoch (history, &row));
    }
  weft_document_set_history (doc, history);
  g_assert_true (weft_document_get_history (doc) == history);
  g_assert_true (weft_document_get_dirty (doc));
  weft_document_set_history (doc, history);   /* the same one: kept, not freed */
  g_assert_true (weft_document_get_history (doc) == history);

  g_assert_true (weft_document_save (doc, file, &error));
  g_assert_no_error (error);
  g_assert_false (weft_document_get_dirty (doc));

  loaded = weft_file_load (path, &read, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  g_assert_nonnull (read);
  g_assert_cmpint (weft_history_n_heads (read), ==, 2);
  g_assert_cmpstr (weft_history_head_name (read, 1), ==, names[1]);
  g_assert_cmpuint (weft_history_n_epochs (read), ==, 3);
  g_assert_true (weft_history_get_epoch (read, 2, &got));
  g_assert_cmpint (got.epoch, ==, 2);
  g_assert_cmpfloat (got.loss[1], ==, 2.0);
  weft_history_free (read);
  weft_graph_free (loaded);

  g_assert_true (weft_document_load (back, file, &error));
  g_assert_no_error (error);
  g_assert_nonnull (weft_document_get_history (back));
  g_assert_cmpuint (weft_history_n_epochs (weft_document_get_history (back)), ==, 3);

  weft_document_set_history (doc, NULL);
  g_assert_null (weft_document_get_history (doc));
  g_unlink (path);
  g_unlink (weights);
  g_rmdir (dir);
  g_assert_finalize_object (doc);
  g_assert_finalize_object (back);
}

static void
count_notify (GObject *o, GParamSpec *pspec, int *n)
{
  (*n)++;
}

/* Changes outside the undo stack (trained weights, settings) keep the document unsaved
 * across undo and redo until it is saved. */
static void
test_modified_outside_undo (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("weft-doc-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "graph.weft", NULL);
  g_autofree char *weights = weft_file_weights_path (path);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  WeftTrainConfig config;
  WeftId input, dense;
  int notified = 0;

  input_dense (doc, &input, &dense);
  g_assert_true (weft_document_save (doc, file, &error));
  g_assert_no_error (error);
  g_signal_connect (doc, "notify::dirty", G_CALLBACK (count_notify), &notified);

  weft_document_mark_modified (doc);
  g_assert_true (weft_document_get_dirty (doc));
  g_assert_cmpint (notified, ==, 1);
  weft_document_mark_modified (doc);   /* each change is announced (autosave counts them) */
  g_assert_cmpint (notified, ==, 2);
  weft_document_undo (doc);
  g_assert_true (weft_document_get_dirty (doc));
  weft_document_redo (doc);
  g_assert_true (weft_document_get_dirty (doc));
  g_assert_true (weft_document_save (doc, file, &error));
  g_assert_false (weft_document_get_dirty (doc));

  /* the same settings change nothing; others are stored and make it unsaved */
  config = *weft_graph_get_train_config (weft_document_get_graph (doc));
  weft_document_set_train_config (doc, &config);
  g_assert_false (weft_document_get_dirty (doc));
  config.optimizer.learning_rate *= 2;
  config.epochs = 7;
  weft_document_set_train_config (doc, &config);
  g_assert_true (weft_document_get_dirty (doc));
  g_assert_cmpint (weft_graph_get_train_config (weft_document_get_graph (doc))->epochs, ==, 7);
  g_assert_false (weft_document_can_redo (doc));

  /* a load starts clean */
  g_assert_true (weft_document_load (doc, file, &error));
  g_assert_no_error (error);
  g_assert_false (weft_document_get_dirty (doc));

  g_unlink (path);
  g_unlink (weights);
  g_rmdir (dir);
  g_assert_finalize_object (doc);
}

/* The loss weights of all heads in one undo entry; bad weights refused without an entry. */
static void
test_set_head_weights_one_entry (void)
{
  WeftDocument *doc = new_doc (NULL);
  g_autoptr (GError) error = NULL;
  WeftId a, b, model;
  const float w[2] = { 0.5f, 4.0f };
  const float bad[2] = { 2.0f, NAN };
  const float negative[2] = { 2.0f, -1.0f };
  const char *undo_before;
  WeftGraph *g;

  two_heads (doc, &a, &b);
  model = weft_document_get_model (doc);
  undo_before = weft_document_get_undo_name (doc);
  g_assert_cmpstr (undo_before, ==, "Add head");

  g_assert_true (weft_document_set_head_weights (doc, model, w, 2, "Apply suggested loss weights",
                                                 &error));
  g_assert_no_error (error);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Apply suggested loss weights");
  g = weft_document_get_graph (doc);
  g_assert_cmpfloat (weft_graph_model_output (g, model, 0)->weight, ==, 0.5f);
  g_assert_cmpfloat (weft_graph_model_output (g, model, 1)->weight, ==, 4.0f);
  /* the same weights again: no entry */
  g_assert_true (weft_document_set_head_weights (doc, model, w, 2, "again", &error));
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Apply suggested loss weights");

  /* one undo restores every head */
  g_assert_true (weft_document_undo (doc));
  g = weft_document_get_graph (doc);
  g_assert_cmpfloat (weft_graph_model_output (g, model, 0)->weight, ==, 1.0f);
  g_assert_cmpfloat (weft_graph_model_output (g, model, 1)->weight, ==, 1.0f);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Add head");
  g_assert_true (weft_document_redo (doc));
  g = weft_document_get_graph (doc);
  g_assert_cmpfloat (weft_graph_model_output (g, model, 0)->weight, ==, 0.5f);
  g_assert_cmpfloat (weft_graph_model_output (g, model, 1)->weight, ==, 4.0f);

  g_assert_false (weft_document_set_head_weights (doc, model, bad, 2, NULL, &error));
  g_assert_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_PARAM_RANGE);
  g_clear_error (&error);
  g_assert_false (weft_document_set_head_weights (doc, model, negative, 2, NULL, &error));
  g_assert_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_PARAM_RANGE);
  g_clear_error (&error);
  g_assert_false (weft_document_set_head_weights (doc, model, w, 3, NULL, &error));
  g_assert_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (weft_document_set_head_weights (doc, a, w, 2, NULL, &error));
  g_assert_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID);
  g_clear_error (&error);
  g = weft_document_get_graph (doc);
  g_assert_cmpfloat (weft_graph_model_output (g, model, 1)->weight, ==, 4.0f);
  g_assert_cmpstr (weft_document_get_undo_name (doc), ==, "Apply suggested loss weights");
  g_assert_finalize_object (doc);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/document/new/is-clean", test_new_is_clean);
  g_test_add_func ("/ui/document/add-layer/undo-redo-keeps-id", test_add_layer_undo_redo);
  g_test_add_func ("/ui/document/add-layer/unknown-type-records-nothing", test_add_unknown_type_records_nothing);
  g_test_add_func ("/ui/document/add-layer/input-becomes-model-input", test_input_becomes_model_input);
  g_test_add_func ("/ui/document/connect/and-disconnect", test_connect_and_disconnect);
  g_test_add_func ("/ui/document/connect/refuses-cycle-and-keeps-graph", test_connect_refuses_cycle_and_keeps_graph);
  g_test_add_func ("/ui/document/move/several-nodes", test_move_nodes);
  g_test_add_func ("/ui/document/set-param/changes-shape-and-refuses-range", test_set_param);
  g_test_add_func ("/ui/document/rename/refuses-taken-name", test_rename);
  g_test_add_func ("/ui/document/call-again/shares-weights", test_call_again_shares_weights);
  g_test_add_func ("/ui/document/duplicate/copies-settings-and-inner-wires", test_duplicate_copies_settings_and_inner_wires);
  g_test_add_func ("/ui/document/paste/from-other-graph", test_paste_from_other_graph);
  g_test_add_func ("/ui/document/remove/drops-layers-and-heads", test_remove_nodes_drops_layers_and_heads);
  g_test_add_func ("/ui/document/heads/add-change-remove", test_heads);
  g_test_add_func ("/ui/document/group/and-ungroup", test_group_and_ungroup);
  g_test_add_func ("/ui/document/group/refuses-inputs", test_group_refuses_inputs);
  g_test_add_func ("/ui/document/model/open-in-place", test_open_model_in_place);
  g_test_add_func ("/ui/document/tidy/lays-out-left-to-right", test_tidy_lays_out_left_to_right);
  g_test_add_func ("/ui/document/undo/new-command-clears-redo", test_new_command_clears_redo);
  g_test_add_func ("/ui/document/undo/moves-weights-without-copies", test_undo_moves_weights_without_copies);
  g_test_add_func ("/ui/document/undo/restores-destroyed-weights", test_undo_restores_destroyed_weights);
  g_test_add_func ("/ui/document/file/save-and-load-round-trip", test_save_and_load_round_trip);
  g_test_add_func ("/ui/document/heads/move-undo-and-save", test_heads_move_undo_and_save);
  g_test_add_func ("/ui/document/history/adopted-saved-and-reopened", test_history_adopted_and_saved);
  g_test_add_func ("/ui/document/dirty/modified-outside-undo", test_modified_outside_undo);
  g_test_add_func ("/ui/document/heads/weights-in-one-entry", test_set_head_weights_one_entry);
  return g_test_run ();
}
