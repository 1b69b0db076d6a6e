/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-palette"

#include "config.h"

#include "weft-palette.h"

#include <glib/gi18n.h>

#include "weft-test-hook.h"

struct _WeftPalette
{
  GtkWidget  parent_instance;

  /* Children */
  GtkWidget *box;
  GtkWidget *search;
  GtkWidget *list;
  GtkWidget *empty;

  int        hook_dirty;    /* frames to wait before printing row positions */
  double     hook_x, hook_y;  /* where the palette's list was when they were printed */
};

G_DEFINE_FINAL_TYPE (WeftPalette, weft_palette, GTK_TYPE_WIDGET)

enum
{
  ADD,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Palette groups in display order; layer categories not listed go before "Merge". */
static const char *const group_order[] = {
  N_("Inputs"), N_("Core"), N_("Activation"), N_("Convolution"), N_("Pooling"),
  N_("Recurrent"), N_("Normalisation"), N_("Regularisation"), N_("Reshaping"), N_("Merge"),
  N_("Heads"), N_("Models"),
};

static int
group_rank (const char *category)
{
  for (guint i = 0; i < G_N_ELEMENTS (group_order); i++)
    if (g_strcmp0 (category, group_order[i]) == 0)
      return i;
  return 9;
}

static GdkContentProvider *
drag_prepare_cb (GtkDragSource *source, double x, double y, GtkWidget *row)
{
  const char *type = g_object_get_data (G_OBJECT (row), "weft-type");

  weft_test_hook ("drag-begin %s", type);
  return gdk_content_provider_new_typed (G_TYPE_STRING, type);
}

static GtkWidget *
make_row (const char *type, const char *label, const char *category, const char *help)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *dot = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *name = gtk_label_new (label);
  GtkDragSource *drag = gtk_drag_source_new ();
  g_autofree char *css = g_ascii_strdown (category, -1);

  gtk_widget_add_css_class (dot, "palette-dot");
  gtk_widget_add_css_class (dot, css);
  gtk_widget_set_valign (dot, GTK_ALIGN_CENTER);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (box), dot);
  gtk_box_append (GTK_BOX (box), name);
  gtk_widget_add_css_class (box, "palette-item");
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  if (help != NULL)
    gtk_widget_set_tooltip_text (row, help);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  help != NULL ? help : "", -1);
  g_object_set_data_full (G_OBJECT (row), "weft-type", g_strdup (type), g_free);
  g_object_set_data_full (G_OBJECT (row), "weft-category", g_strdup (category), g_free);
  g_object_set_data_full (G_OBJECT (row), "weft-label", g_utf8_casefold (label, -1), g_free);

  gtk_drag_source_set_actions (drag, GDK_ACTION_COPY);
  g_signal_connect (drag, "prepare", G_CALLBACK (drag_prepare_cb), row);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (drag));
  return row;
}

static int
sort_cb (GtkListBoxRow *a, GtkListBoxRow *b, gpointer data)
{
  int ra = group_rank (g_object_get_data (G_OBJECT (a), "weft-category"));
  int rb = group_rank (g_object_get_data (G_OBJECT (b), "weft-category"));

  if (ra != rb)
    return ra - rb;
  return g_strcmp0 (g_object_get_data (G_OBJECT (a), "weft-category"),
                    g_object_get_data (G_OBJECT (b), "weft-category"));
}

static gboolean
filter_cb (GtkListBoxRow *row, gpointer data)
{
  WeftPalette *self = data;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search));
  g_autofree char *needle = NULL;

  if (text == NULL || *text == '\0')
    return TRUE;
  needle = g_utf8_casefold (text, -1);
  return strstr (g_object_get_data (G_OBJECT (row), "weft-label"), needle) != NULL;
}

static void
header_cb (GtkListBoxRow *row, GtkListBoxRow *before, gpointer data)
{
  const char *category = g_object_get_data (G_OBJECT (row), "weft-category");
  GtkWidget *header;

  if (before != NULL
      && g_strcmp0 (category, g_object_get_data (G_OBJECT (before), "weft-category")) == 0)
    {
      gtk_list_box_row_set_header (row, NULL);
      return;
    }
  header = gtk_label_new (g_dgettext (GETTEXT_PACKAGE, category));
  gtk_label_set_xalign (GTK_LABEL (header), 0);
  gtk_widget_add_css_class (header, "palette-header");
  gtk_widget_add_css_class (header, "heading");
  gtk_list_box_row_set_header (row, header);
}

/* Test hook: where the rows are, in window coordinates, after each change. */
static gboolean
hook_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  WeftPalette *self = WEFT_PALETTE (widget);
  GtkWidget *root = GTK_WIDGET (gtk_widget_get_root (widget));

  if (root == NULL || gtk_widget_get_width (widget) <= 0)
    return G_SOURCE_CONTINUE;
  /* the rows move in the window when something above them comes or goes (a bar under the
   * header): print them again then, too */
  graphene_point_t at;
  if (self->hook_dirty == 0
      && gtk_widget_compute_point (self->list, root, &GRAPHENE_POINT_INIT (0, 0), &at)
      && (at.x != self->hook_x || at.y != self->hook_y))
    self->hook_dirty = 2;
  /* layout runs after the tick: print on the tick after a change */
  if (self->hook_dirty == 0 || --self->hook_dirty > 0)
    return G_SOURCE_CONTINUE;
  if (gtk_widget_compute_point (self->list, root, &GRAPHENE_POINT_INIT (0, 0), &at))
    self->hook_x = at.x, self->hook_y = at.y;
  for (GtkWidget *child = gtk_widget_get_first_child (self->list); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      double x, y;
      const char *type = g_object_get_data (G_OBJECT (child), "weft-type");
      if (GTK_IS_LIST_BOX_ROW (child) && gtk_widget_get_child_visible (child)
          && weft_palette_row_point (self, type, root, &x, &y))
        weft_test_hook ("palette %s %.0f,%.0f", type, x, y);
    }
  weft_test_hook ("palette done");
  return G_SOURCE_CONTINUE;
}

static void
search_changed_cb (WeftPalette *self)
{
  self->hook_dirty = 2;
  gtk_list_box_invalidate_filter (GTK_LIST_BOX (self->list));
  gtk_list_box_invalidate_headers (GTK_LIST_BOX (self->list));
  gtk_widget_set_visible (self->empty, weft_palette_n_visible (self) == 0);
}

static void
row_activated_cb (GtkListBox *list, GtkListBoxRow *row, WeftPalette *self)
{
  g_signal_emit (self, signals[ADD], 0, g_object_get_data (G_OBJECT (row), "weft-type"));
}

static void
search_activate_cb (WeftPalette *self)
{
  for (GtkWidget *child = gtk_widget_get_first_child (self->list); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_LIST_BOX_ROW (child) && gtk_widget_get_child_visible (child))
      {
        row_activated_cb (GTK_LIST_BOX (self->list), GTK_LIST_BOX_ROW (child), self);
        return;
      }
}

static void
weft_palette_dispose (GObject *object)
{
  WeftPalette *self = WEFT_PALETTE (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (weft_palette_parent_class)->dispose (object);
}

static void
weft_palette_class_init (WeftPaletteClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = weft_palette_dispose;
  /* Emitted with the type name when a row is activated (double-click, Enter). */
  signals[ADD] = g_signal_new ("add", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                               NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "weft-palette");
}

static void
weft_palette_init (WeftPalette *self)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  self->search = gtk_search_entry_new ();
  g_object_set (self->search, "placeholder-text", _("Search layers"), NULL);
  gtk_widget_set_tooltip_text (self->search, _("Search the layer types (Ctrl+F)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->search), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Search layers"), -1);
  gtk_widget_set_margin_start (self->search, 6);
  gtk_widget_set_margin_end (self->search, 6);
  gtk_widget_set_margin_top (self->search, 6);
  gtk_widget_set_margin_bottom (self->search, 6);
  g_signal_connect_swapped (self->search, "search-changed", G_CALLBACK (search_changed_cb), self);
  g_signal_connect_swapped (self->search, "activate", G_CALLBACK (search_activate_cb), self);

  self->list = gtk_list_box_new ();
  gtk_widget_add_css_class (self->list, "navigation-sidebar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Layer palette"), -1);
  gtk_list_box_set_sort_func (GTK_LIST_BOX (self->list), sort_cb, NULL, NULL);
  gtk_list_box_set_filter_func (GTK_LIST_BOX (self->list), filter_cb, self, NULL);
  gtk_list_box_set_header_func (GTK_LIST_BOX (self->list), header_cb, NULL, NULL);
  gtk_list_box_set_activate_on_single_click (GTK_LIST_BOX (self->list), FALSE);
  g_signal_connect (self->list, "row-activated", G_CALLBACK (row_activated_cb), self);

  for (int i = 0; i < weft_op_count (); i++)
    {
      const WeftOpDesc *op = weft_op_get (i);
      gtk_list_box_append (GTK_LIST_BOX (self->list),
                           make_row (op->name, op->name, op->category,
                                     op->help != NULL ? g_dgettext (GETTEXT_PACKAGE, op->help) : NULL));
    }
  gtk_list_box_append (GTK_LIST_BOX (self->list),
                       make_row ("head", _("Output head"), "Heads",
                                 _("Drop onto a node to make its output a head with a loss")));

  self->empty = gtk_label_new (_("No layer matches"));
  gtk_widget_add_css_class (self->empty, "dim-label");
  gtk_widget_set_visible (self->empty, FALSE);
  gtk_widget_set_margin_top (self->empty, 12);

  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->list);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_box_append (GTK_BOX (self->box), self->search);
  gtk_box_append (GTK_BOX (self->box), self->empty);
  gtk_box_append (GTK_BOX (self->box), scrolled);
  if (weft_test_hook_enabled ())
    {
      self->hook_dirty = 2;
      gtk_widget_add_tick_callback (GTK_WIDGET (self), hook_tick_cb, NULL, NULL);
    }
}

GtkWidget *
weft_palette_new (void)
{
  return g_object_new (WEFT_TYPE_PALETTE, NULL);
}

void
weft_palette_set_models (WeftPalette *self, WeftGraph *graph)
{
  GtkWidget *child;

  g_return_if_fail (WEFT_IS_PALETTE (self));
  child = gtk_widget_get_first_child (self->list);
  while (child != NULL)
    {
      GtkWidget *next = gtk_widget_get_next_sibling (child);
      if (GTK_IS_LIST_BOX_ROW (child)
          && g_strcmp0 (g_object_get_data (G_OBJECT (child), "weft-category"), "Models") == 0)
        gtk_list_box_remove (GTK_LIST_BOX (self->list), child);
      child = next;
    }
  if (graph == NULL)
    return;
  for (int i = 0; i < weft_graph_n_models (graph); i++)
    {
      WeftId model = weft_graph_model_at (graph, i);
      g_autofree char *type = NULL;
      if (model == weft_graph_get_main_model (graph))
        continue;
      type = g_strdup_printf ("model:%s", weft_graph_get_name (graph, model));
      gtk_list_box_append (GTK_LIST_BOX (self->list),
                           make_row (type, weft_graph_get_name (graph, model), "Models",
                                     _("Place this model as a layer (shared weights)")));
    }
}

void
weft_palette_focus_search (WeftPalette *self)
{
  g_return_if_fail (WEFT_IS_PALETTE (self));
  gtk_widget_grab_focus (self->search);
}

guint
weft_palette_n_visible (WeftPalette *self)
{
  guint n = 0;

  g_return_val_if_fail (WEFT_IS_PALETTE (self), 0);
  for (GtkWidget *child = gtk_widget_get_first_child (self->list); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_LIST_BOX_ROW (child) && filter_cb (GTK_LIST_BOX_ROW (child), self))
      n++;
  return n;
}

gboolean
weft_palette_row_point (WeftPalette *self, const char *type, GtkWidget *target, double *x,
                        double *y)
{
  g_return_val_if_fail (WEFT_IS_PALETTE (self), FALSE);
  for (GtkWidget *child = gtk_widget_get_first_child (self->list); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_LIST_BOX_ROW (child)
        && g_strcmp0 (g_object_get_data (G_OBJECT (child), "weft-type"), type) == 0)
      return gtk_widget_get_mapped (child)
             && gtk_widget_translate_coordinates (child, target, gtk_widget_get_width (child) / 2.0,
                                                  gtk_widget_get_height (child) / 2.0, x, y);
  return FALSE;
}
