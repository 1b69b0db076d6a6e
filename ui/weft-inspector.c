/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-inspector"

#include "config.h"

#include "weft-inspector.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>

#include "weft-canvas-painter.h"
#include "weft-test-hook.h"

struct _WeftInspector
{
  GtkWidget     parent_instance;

  /* Children */
  GtkWidget    *scrolled;
  GtkWidget    *content;      /* rebuilt for each shown item */
  GtkWidget    *message;      /* last refused edit */

  /* Owned */
  WeftDocument *document;

  WeftId        shown;
  gboolean      editing;      /* our own edit: keep the controls, refresh the facts */
  guint         rebuild_id;
};

G_DEFINE_FINAL_TYPE (WeftInspector, weft_inspector, GTK_TYPE_WIDGET)

static void rebuild (WeftInspector *self);

static WeftGraph *
graph_of (WeftInspector *self)
{
  return weft_document_get_graph (self->document);
}

static void
show_message (WeftInspector *self, const char *text)
{
  if (self->message == NULL)
    return;
  gtk_label_set_text (GTK_LABEL (self->message), text != NULL ? text : "");
  gtk_widget_set_visible (self->message, text != NULL);
}

static void
apply_value (WeftInspector *self, WeftId layer, const char *param, const WeftValue *value)
{
  g_autoptr (GError) error = NULL;

  self->editing = TRUE;
  if (!weft_document_set_param (self->document, layer, param, value, &error))
    show_message (self, error->message);
  else
    {
      show_message (self, NULL);
      weft_test_hook ("param %s changed", param);
    }
  self->editing = FALSE;
}

static WeftId
param_layer (GObject *control)
{
  return GPOINTER_TO_INT (g_object_get_data (control, "weft-layer"));
}

static void
spin_changed_cb (GtkSpinButton *spin, WeftInspector *self)
{
  WeftValue value = { 0 };

  value.num = gtk_spin_button_get_value (spin);
  apply_value (self, param_layer (G_OBJECT (spin)), g_object_get_data (G_OBJECT (spin), "weft-param"),
               &value);
}

static void
switch_cb (GtkSwitch *sw, GParamSpec *pspec, WeftInspector *self)
{
  WeftValue value = { 0 };

  value.num = gtk_switch_get_active (sw) ? 1 : 0;
  apply_value (self, param_layer (G_OBJECT (sw)), g_object_get_data (G_OBJECT (sw), "weft-param"),
               &value);
}

static void
dropdown_cb (GtkDropDown *dd, GParamSpec *pspec, WeftInspector *self)
{
  WeftValue value = { 0 };

  value.num = gtk_drop_down_get_selected (dd);
  apply_value (self, param_layer (G_OBJECT (dd)), g_object_get_data (G_OBJECT (dd), "weft-param"),
               &value);
}

static void
ints_activate_cb (GtkEntry *entry, WeftInspector *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  g_auto (GStrv) parts = g_strsplit_set (text, ",() ", -1);
  WeftValue value = { 0 };

  for (int i = 0; parts[i] != NULL; i++)
    {
      char *end;
      long v;
      if (*parts[i] == '\0')
        continue;
      v = strtol (parts[i], &end, 10);
      if (*end != '\0' || value.n >= WEFT_MAX_RANK)
        {
          show_message (self, _("Write whole numbers separated by commas, such as 28, 28, 1"));
          return;
        }
      value.ints[value.n++] = (int) v;
    }
  apply_value (self, param_layer (G_OBJECT (entry)),
               g_object_get_data (G_OBJECT (entry), "weft-param"), &value);
}

static gboolean
ints_focus_out_cb (WeftInspector *self)
{
  return FALSE;
}

static void
rename_cb (GtkEntry *entry, WeftInspector *self)
{
  g_autoptr (GError) error = NULL;
  WeftId id = param_layer (G_OBJECT (entry));

  if (!weft_document_rename (self->document, id, gtk_editable_get_text (GTK_EDITABLE (entry)), &error))
    show_message (self, error->message);
}

static void
trainable_cb (GtkSwitch *sw, GParamSpec *pspec, WeftInspector *self)
{
  self->editing = TRUE;
  weft_document_set_trainable (self->document, param_layer (G_OBJECT (sw)), gtk_switch_get_active (sw));
  self->editing = FALSE;
}

static void
head_changed (WeftInspector *self, GObject *control, const char *what)
{
  int index = GPOINTER_TO_INT (g_object_get_data (control, "weft-head"));
  WeftId model = weft_document_get_model (self->document);
  WeftHead head;
  g_autoptr (GError) error = NULL;
  const char *field = g_object_get_data (control, "weft-field");

  if (index >= weft_graph_model_n_outputs (graph_of (self), model))
    return;
  head = *weft_graph_model_output (graph_of (self), model, index);
  if (g_str_equal (field, "loss"))
    head.loss = gtk_drop_down_get_selected (GTK_DROP_DOWN (control));
  else if (g_str_equal (field, "metric"))
    head.metric = gtk_drop_down_get_selected (GTK_DROP_DOWN (control));
  else if (g_str_equal (field, "weight"))
    head.weight = gtk_spin_button_get_value (GTK_SPIN_BUTTON (control));
  else if (g_str_equal (field, "from_logits"))
    head.from_logits = gtk_switch_get_active (GTK_SWITCH (control));
  self->editing = TRUE;
  if (!weft_document_set_head (self->document, index, &head, what, &error))
    show_message (self, error->message);
  self->editing = FALSE;
}

static void head_dropdown_cb (GtkDropDown *dd, GParamSpec *p, WeftInspector *self)
{
  head_changed (self, G_OBJECT (dd), g_str_equal (g_object_get_data (G_OBJECT (dd), "weft-field"), "loss")
                                     ? _("Change loss") : _("Change metric"));
}
static void head_spin_cb (GtkSpinButton *spin, WeftInspector *self)
{
  head_changed (self, G_OBJECT (spin), _("Change loss weight"));
}
static void head_switch_cb (GtkSwitch *sw, GParamSpec *p, WeftInspector *self)
{
  head_changed (self, G_OBJECT (sw), _("Change from_logits"));
}

static void
remove_head_cb (GtkButton *button, WeftInspector *self)
{
  weft_document_remove_head (self->document,
                             GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "weft-head")));
}

/* ---- building ---- */

static GtkWidget *
heading (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_set_margin_top (label, 12);
  return label;
}

static GtkWidget *
fact (GtkWidget *grid, int row, const char *name, const char *value)
{
  GtkWidget *k = gtk_label_new (name), *v = gtk_label_new (value);

  gtk_label_set_xalign (GTK_LABEL (k), 0);
  gtk_label_set_xalign (GTK_LABEL (v), 0);
  gtk_label_set_selectable (GTK_LABEL (v), TRUE);
  gtk_label_set_wrap (GTK_LABEL (v), TRUE);
  gtk_widget_add_css_class (k, "dim-label");
  gtk_widget_add_css_class (v, "numeric");
  gtk_widget_set_hexpand (v, TRUE);
  gtk_grid_attach (GTK_GRID (grid), k, 0, row, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), v, 1, row, 1, 1);
  return v;
}

static GtkWidget *
row_label (GtkWidget *grid, int row, const char *text, const char *help)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_tooltip_text (label, help);
  gtk_grid_attach (GTK_GRID (grid), label, 0, row, 1, 1);
  return label;
}

static void
attach_control (GtkWidget *grid, int row, GtkWidget *label, GtkWidget *control, const char *name,
                const char *help)
{
  gtk_widget_set_hexpand (control, TRUE);
  gtk_widget_set_tooltip_text (control, help);
  gtk_accessible_update_property (GTK_ACCESSIBLE (control), GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, help != NULL ? help : "",
                                  -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (control), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  label, NULL, -1);
  gtk_grid_attach (GTK_GRID (grid), control, 1, row, 1, 1);
}

static GtkWidget *
param_control (WeftInspector *self, WeftId layer, const WeftParamSpec *spec, const WeftValue *value)
{
  GtkWidget *w = NULL;

  switch (spec->type)
    {
    case WEFT_PARAM_INT:
    case WEFT_PARAM_FLOAT:
      {
        gboolean is_int = spec->type == WEFT_PARAM_INT;
        double min = spec->min, max = spec->max;
        if (is_int && (spec->flags & WEFT_PARAM_NULLABLE))
          min = MIN (min, 0);
        w = gtk_spin_button_new_with_range (min, max, is_int ? 1 : 0.01);
        gtk_spin_button_set_digits (GTK_SPIN_BUTTON (w), is_int ? 0 : 4);
        gtk_spin_button_set_value (GTK_SPIN_BUTTON (w), value->num);
        gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (w), TRUE);
        g_signal_connect (w, "value-changed", G_CALLBACK (spin_changed_cb), self);
        break;
      }
    case WEFT_PARAM_BOOL:
      w = gtk_switch_new ();
      gtk_switch_set_active (GTK_SWITCH (w), value->num != 0);
      gtk_widget_set_halign (w, GTK_ALIGN_START);
      g_signal_connect (w, "notify::active", G_CALLBACK (switch_cb), self);
      break;
    case WEFT_PARAM_CHOICE:
      w = gtk_drop_down_new_from_strings ((const char *const *) spec->choices);
      gtk_drop_down_set_selected (GTK_DROP_DOWN (w), (guint) value->num);
      g_signal_connect (w, "notify::selected", G_CALLBACK (dropdown_cb), self);
      break;
    case WEFT_PARAM_INTS:
      {
        g_autofree char *text = weft_canvas_format_value (spec, value);
        g_autofree char *plain = NULL;
        w = gtk_entry_new ();
        plain = g_strdelimit (g_strdup (text), "()", ' ');
        g_strstrip (plain);
        if (g_str_has_suffix (plain, ","))
          plain[strlen (plain) - 1] = '\0';
        gtk_editable_set_text (GTK_EDITABLE (w), plain);
        g_signal_connect (w, "activate", G_CALLBACK (ints_activate_cb), self);
        break;
      }
    }
  g_object_set_data (G_OBJECT (w), "weft-layer", GINT_TO_POINTER (layer));
  g_object_set_data_full (G_OBJECT (w), "weft-param", g_strdup (spec->name), g_free);
  return w;
}

static void
add_diagnostic (GtkWidget *box, const WeftDiagnostic *diag)
{
  GtkWidget *label;
  g_autofree char *text = g_strdup_printf ("%s\n%s", weft_document_describe_status (diag->code),
                                           diag->message);

  label = gtk_label_new (text);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, diag->code == WEFT_WARNING_UNUSED_INPUT ? "warning" : "error");
  gtk_widget_add_css_class (label, "inspector-problem");
  gtk_box_append (GTK_BOX (box), label);
}

static char *
shape_text (WeftGraph *g, WeftId node, int port)
{
  WeftShape shape;
  char buf[96];

  if (!weft_graph_node_shape (g, node, port, &shape))
    return g_strdup (_("unknown"));
  return g_strdup (weft_shape_format (&shape, buf, sizeof buf));
}

static void
build_node (WeftInspector *self, GtkWidget *box, WeftId node)
{
  WeftGraph *g = graph_of (self);
  WeftId callee = weft_graph_node_callee (g, node);
  gboolean is_model = weft_graph_kind (g, callee) == WEFT_KIND_MODEL;
  const WeftOpDesc *op = is_model ? NULL : weft_graph_layer_op (g, callee);
  const WeftDiagnostic *diag = weft_graph_node_diagnostic (g, node);
  GtkWidget *grid, *name, *type, *label;
  gint64 trainable = 0, frozen = 0;
  int row = 0, calls;

  name = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (name), weft_graph_get_name (g, callee));
  gtk_widget_add_css_class (name, "inspector-name");
  gtk_accessible_update_property (GTK_ACCESSIBLE (name), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  is_model ? _("Model name") : _("Layer name"), -1);
  gtk_widget_set_tooltip_text (name,
                               is_model ? _("Name of the model, unique in the graph; Enter renames")
                                        : _("Name of the layer, unique in the graph; Enter renames"));
  g_object_set_data (G_OBJECT (name), "weft-layer", GINT_TO_POINTER (callee));
  g_signal_connect (name, "activate", G_CALLBACK (rename_cb), self);
  gtk_box_append (GTK_BOX (box), name);

  type = gtk_label_new (is_model ? _("Model used as a layer") : op->name);
  gtk_label_set_xalign (GTK_LABEL (type), 0);
  gtk_widget_add_css_class (type, "title-4");
  gtk_box_append (GTK_BOX (box), type);
  if (op != NULL && op->help != NULL)
    {
      GtkWidget *help = gtk_label_new (g_dgettext (GETTEXT_PACKAGE, op->help));
      gtk_label_set_wrap (GTK_LABEL (help), TRUE);
      gtk_label_set_xalign (GTK_LABEL (help), 0);
      gtk_widget_add_css_class (help, "dim-label");
      gtk_box_append (GTK_BOX (box), help);
    }
  if (diag != NULL)
    add_diagnostic (box, diag);

  if (op != NULL && op->n_params > 0)
    {
      const WeftValue *cfg = weft_graph_layer_config (g, callee);
      gtk_box_append (GTK_BOX (box), heading (_("Settings")));
      grid = gtk_grid_new ();
      gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
      gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
      for (int i = 0; i < op->n_params; i++)
        {
          const WeftParamSpec *spec = &op->params[i];
          const char *help = spec->help != NULL ? g_dgettext (GETTEXT_PACKAGE, spec->help) : NULL;
          label = row_label (grid, row, spec->name, help);
          attach_control (grid, row, label, param_control (self, callee, spec, &cfg[i]),
                          spec->name, help);
          row++;
        }
      label = row_label (grid, row, _("trainable"), _("Off freezes the weights of this layer"));
      {
        GtkWidget *sw = gtk_switch_new ();
        gtk_switch_set_active (GTK_SWITCH (sw), weft_graph_layer_get_trainable (g, callee));
        gtk_widget_set_halign (sw, GTK_ALIGN_START);
        g_object_set_data (G_OBJECT (sw), "weft-layer", GINT_TO_POINTER (callee));
        g_signal_connect (sw, "notify::active", G_CALLBACK (trainable_cb), self);
        attach_control (grid, row, label, sw, _("trainable"), _("Off freezes the weights of this layer"));
      }
      gtk_box_append (GTK_BOX (box), grid);
    }

  gtk_box_append (GTK_BOX (box), heading (_("Tensors")));
  grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  row = 0;
  for (int port = 0; port < weft_graph_node_n_inputs (g, node); port++)
    {
      WeftId src;
      int sp;
      g_autofree char *k = g_strdup_printf (_("Input %d"), port + 1);
      g_autofree char *v = NULL;
      if (weft_graph_node_input (g, node, port, &src, &sp))
        {
          g_autofree char *s = shape_text (g, src, sp);
          v = g_strdup_printf ("%s ← %s", s, weft_graph_get_name (g, weft_graph_node_callee (g, src)));
        }
      else
        v = g_strdup (_("not connected"));
      fact (grid, row++, k, v);
    }
  for (int port = 0; port < weft_graph_node_n_outputs (g, node); port++)
    {
      g_autofree char *k = weft_graph_node_n_outputs (g, node) > 1
                           ? g_strdup_printf (_("Output %d"), port + 1) : g_strdup (_("Output"));
      g_autofree char *v = shape_text (g, node, port);
      fact (grid, row++, k, v);
    }
  if (weft_graph_count_params (g, callee, &trainable, &frozen))
    {
      g_autofree char *a = weft_canvas_format_count (trainable + frozen);
      g_autofree char *b = weft_canvas_format_count (frozen);
      g_autofree char *v = frozen > 0 ? g_strdup_printf (_("%s (%s frozen)"), a, b) : g_strdup (a);
      fact (grid, row++, _("Parameters"), v);
    }
  else
    fact (grid, row++, _("Parameters"), _("unknown until the inputs are connected"));
  gtk_box_append (GTK_BOX (box), grid);

  calls = weft_graph_callee_n_nodes (g, callee);
  if (calls > 1)
    {
      GString *list = g_string_new (NULL);
      gtk_box_append (GTK_BOX (box), heading (_("Shared with")));
      for (int i = 0; i < calls; i++)
        {
          WeftId other = weft_graph_callee_node_at (g, callee, i);
          g_autofree char *s = shape_text (g, other, 0);
          if (other == node)
            continue;
          /* TRANSLATORS: one line of the "Shared with" list: call number and its output */
          g_string_append_printf (list, _("%sCall %d of %s, output %s"), list->len > 0 ? "\n" : "",
                                  i + 1, weft_graph_get_name (g, callee), s);
        }
      label = gtk_label_new (list->str);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_box_append (GTK_BOX (box), label);
      label = gtk_label_new (_("These calls share one set of weights; parameters are counted once."));
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_add_css_class (label, "dim-label");
      gtk_box_append (GTK_BOX (box), label);
      g_string_free (list, TRUE);
    }

  if (is_model)
    {
      GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *open = gtk_button_new_with_mnemonic (_("_Open Model"));
      GtkWidget *ungroup = gtk_button_new_with_mnemonic (_("_Ungroup"));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (open), "graph.open-model");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (ungroup), "graph.ungroup");
      gtk_box_append (GTK_BOX (buttons), open);
      gtk_box_append (GTK_BOX (buttons), ungroup);
      gtk_widget_set_margin_top (buttons, 12);
      gtk_box_append (GTK_BOX (box), buttons);
    }
  else
    {
      GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *again = gtk_button_new_with_mnemonic (_("_Call Again"));
      GtkWidget *head = gtk_button_new_with_mnemonic (_("Make _Head"));
      gtk_widget_set_tooltip_text (again, _("A new node of the same layer: shared weights (Alt+D)"));
      gtk_widget_set_tooltip_text (head, _("Make this output a head of the model, with a loss"));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (again), "graph.call-again");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (head), "graph.add-head");
      gtk_box_append (GTK_BOX (buttons), again);
      gtk_box_append (GTK_BOX (buttons), head);
      gtk_widget_set_margin_top (buttons, 12);
      gtk_box_append (GTK_BOX (box), buttons);
    }
}

static GtkWidget *
names_dropdown (const char *const *names, guint selected, const char *none)
{
  g_autoptr (GPtrArray) items = g_ptr_array_new ();
  GtkWidget *dd;

  g_ptr_array_add (items, (gpointer) none);
  for (int i = 0; names[i] != NULL; i++)
    g_ptr_array_add (items, (gpointer) names[i]);
  g_ptr_array_add (items, NULL);
  dd = gtk_drop_down_new_from_strings ((const char *const *) items->pdata);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dd), selected);
  return dd;
}

static void
build_head (WeftInspector *self, GtkWidget *box, int index)
{
  WeftGraph *g = graph_of (self);
  WeftId model = weft_document_get_model (self->document);
  const WeftHead *head = weft_graph_model_output (g, model, index);
  GtkWidget *grid, *title, *label, *w, *remove;
  g_autofree char *shape = shape_text (g, head->node, head->port);
  int row = 0;

  title = gtk_label_new (weft_graph_model_output_name (g, model, index));
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_add_css_class (title, "title-2");
  gtk_box_append (GTK_BOX (box), title);
  label = gtk_label_new (_("Output head: the model's output with its loss"));
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (box), label);
  if (head->loss == WEFT_LOSS_NONE && model == weft_graph_get_main_model (g))
    {
      WeftDiagnostic d = { WEFT_ERROR_NO_LOSS, head->node, -1, model, "" };
      g_strlcpy (d.message, _("Choose a loss to train this head."), sizeof d.message);
      add_diagnostic (box, &d);
    }

  gtk_box_append (GTK_BOX (box), heading (_("Training")));
  grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);

  label = row_label (grid, row, _("loss"), _("The loss compared with this head's target"));
  w = names_dropdown (weft_loss_names + 1, head->loss, _("none"));
  g_object_set_data (G_OBJECT (w), "weft-head", GINT_TO_POINTER (index));
  g_object_set_data (G_OBJECT (w), "weft-field", (gpointer) "loss");
  g_signal_connect (w, "notify::selected", G_CALLBACK (head_dropdown_cb), self);
  attach_control (grid, row++, label, w, _("loss"), _("The loss compared with this head's target"));

  label = row_label (grid, row, _("loss_weight"), _("Weight of this head's loss in the total"));
  w = gtk_spin_button_new_with_range (0, 1000, 0.1);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (w), 3);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (w), head->weight);
  g_object_set_data (G_OBJECT (w), "weft-head", GINT_TO_POINTER (index));
  g_object_set_data (G_OBJECT (w), "weft-field", (gpointer) "weight");
  g_signal_connect (w, "value-changed", G_CALLBACK (head_spin_cb), self);
  attach_control (grid, row++, label, w, _("loss_weight"), _("Weight of this head's loss in the total"));

  label = row_label (grid, row, _("from_logits"), _("The head outputs logits, not probabilities"));
  w = gtk_switch_new ();
  gtk_switch_set_active (GTK_SWITCH (w), head->from_logits);
  gtk_widget_set_halign (w, GTK_ALIGN_START);
  g_object_set_data (G_OBJECT (w), "weft-head", GINT_TO_POINTER (index));
  g_object_set_data (G_OBJECT (w), "weft-field", (gpointer) "from_logits");
  g_signal_connect (w, "notify::active", G_CALLBACK (head_switch_cb), self);
  attach_control (grid, row++, label, w, _("from_logits"), _("The head outputs logits, not probabilities"));

  label = row_label (grid, row, _("metric"), _("A metric reported beside the loss"));
  w = names_dropdown (weft_metric_names + 1, head->metric, _("none"));
  g_object_set_data (G_OBJECT (w), "weft-head", GINT_TO_POINTER (index));
  g_object_set_data (G_OBJECT (w), "weft-field", (gpointer) "metric");
  g_signal_connect (w, "notify::selected", G_CALLBACK (head_dropdown_cb), self);
  attach_control (grid, row++, label, w, _("metric"), _("A metric reported beside the loss"));
  gtk_box_append (GTK_BOX (box), grid);

  grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  fact (grid, 0, _("Output"), shape);
  gtk_widget_set_margin_top (grid, 12);
  gtk_box_append (GTK_BOX (box), grid);

  remove = gtk_button_new_with_mnemonic (_("_Remove Head"));
  gtk_widget_add_css_class (remove, "destructive-action");
  gtk_widget_set_halign (remove, GTK_ALIGN_START);
  gtk_widget_set_margin_top (remove, 12);
  g_object_set_data (G_OBJECT (remove), "weft-head", GINT_TO_POINTER (index));
  g_signal_connect (remove, "clicked", G_CALLBACK (remove_head_cb), self);
  gtk_box_append (GTK_BOX (box), remove);
}

static void
build_model (WeftInspector *self, GtkWidget *box)
{
  WeftGraph *g = graph_of (self);
  WeftId model = weft_document_get_model (self->document);
  const WeftDiagnostic *diags;
  int n = 0, shown = 0;
  GtkWidget *title, *label;

  title = gtk_label_new (weft_graph_get_name (g, model));
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_add_css_class (title, "title-2");
  gtk_box_append (GTK_BOX (box), title);
  label = gtk_label_new (_("Select a node to edit its settings. Drag layers from the palette, "
                           "then drag from an output port to an input port to connect them."));
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (box), label);

  gtk_box_append (GTK_BOX (box), heading (_("Problems")));
  diags = weft_graph_diagnostics (g, &n);
  for (int i = 0; i < n; i++)
    if (diags[i].model == model)
      {
        add_diagnostic (box, &diags[i]);
        shown++;
      }
  if (shown == 0)
    {
      label = gtk_label_new (_("None: every shape is known."));
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_add_css_class (label, "success");
      gtk_box_append (GTK_BOX (box), label);
    }
}

static const char *
control_key (GtkWidget *w)
{
  const char *key = g_object_get_data (G_OBJECT (w), "weft-param");

  return key != NULL ? key : g_object_get_data (G_OBJECT (w), "weft-field");
}

static GtkWidget *
find_control (GtkWidget *parent, const char *key)
{
  for (GtkWidget *child = gtk_widget_get_first_child (parent); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;
      if (g_strcmp0 (control_key (child), key) == 0)
        return child;
      if ((found = find_control (child, key)) != NULL)
        return found;
    }
  return NULL;
}

static void
rebuild (WeftInspector *self)
{
  GtkWidget *box;
  WeftGraph *g;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;
  g_autofree char *focus_key = NULL;

  /* the rebuilt inspector gives the focus back to the control that had it */
  for (GtkWidget *w = focus; w != NULL && self->content != NULL; w = gtk_widget_get_parent (w))
    {
      if (w == self->content)
        break;
      if (control_key (w) != NULL)
        {
          focus_key = g_strdup (control_key (w));
          break;
        }
    }
  g_clear_handle_id (&self->rebuild_id, g_source_remove);
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  self->message = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->message), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->message), 0);
  gtk_widget_add_css_class (self->message, "error");
  gtk_widget_set_visible (self->message, FALSE);

  if (self->document != NULL)
    {
      g = graph_of (self);
      if (WEFT_CANVAS_IS_HEAD_ID (self->shown)
          && WEFT_CANVAS_HEAD_INDEX (self->shown)
             < weft_graph_model_n_outputs (g, weft_document_get_model (self->document)))
        build_head (self, box, WEFT_CANVAS_HEAD_INDEX (self->shown));
      else if (self->shown != WEFT_ID_NONE && weft_graph_kind (g, self->shown) == WEFT_KIND_NODE)
        build_node (self, box, self->shown);
      else
        build_model (self, box);
    }
  gtk_box_append (GTK_BOX (box), self->message);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scrolled), box);
  self->content = box;
  if (focus_key != NULL)
    {
      GtkWidget *control = find_control (box, focus_key);
      if (control != NULL)
        gtk_widget_grab_focus (control);
    }
}

static gboolean
rebuild_idle (gpointer data)
{
  WeftInspector *self = data;

  self->rebuild_id = 0;
  rebuild (self);
  return G_SOURCE_REMOVE;
}

static void
document_changed_cb (WeftInspector *self)
{
  /* never destroy the control whose signal is running: rebuild once idle */
  if (self->rebuild_id == 0 && !self->editing)
    self->rebuild_id = g_idle_add (rebuild_idle, self);
  else if (self->editing && self->rebuild_id == 0)
    self->rebuild_id = g_timeout_add (300, rebuild_idle, self);
}

static void
weft_inspector_dispose (GObject *object)
{
  WeftInspector *self = WEFT_INSPECTOR (object);

  g_clear_handle_id (&self->rebuild_id, g_source_remove);
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_clear_object (&self->document);
  g_clear_pointer (&self->scrolled, gtk_widget_unparent);
  G_OBJECT_CLASS (weft_inspector_parent_class)->dispose (object);
}

static void
weft_inspector_class_init (WeftInspectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = weft_inspector_dispose;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "weft-inspector");
}

static void
weft_inspector_init (WeftInspector *self)
{
  self->shown = WEFT_ID_NONE;
  self->scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_parent (self->scrolled, GTK_WIDGET (self));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->scrolled), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Inspector"), -1);
  rebuild (self);
  (void) ints_focus_out_cb;
}

GtkWidget *
weft_inspector_new (void)
{
  return g_object_new (WEFT_TYPE_INSPECTOR, NULL);
}

void
weft_inspector_set_document (WeftInspector *self, WeftDocument *document)
{
  g_return_if_fail (WEFT_IS_INSPECTOR (self));

  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_set_object (&self->document, document);
  if (document != NULL)
    g_signal_connect_swapped (document, "changed", G_CALLBACK (document_changed_cb), self);
  self->shown = WEFT_ID_NONE;
  rebuild (self);
}

void
weft_inspector_show (WeftInspector *self, WeftId id)
{
  g_return_if_fail (WEFT_IS_INSPECTOR (self));
  self->shown = id;
  rebuild (self);
}

WeftId
weft_inspector_get_shown (WeftInspector *self)
{
  g_return_val_if_fail (WEFT_IS_INSPECTOR (self), WEFT_ID_NONE);
  return self->shown;
}
