/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-start-view"

#include "config.h"

#include "weft-start-view.h"

#include <glib/gi18n.h>

#include "weft-canvas-painter.h"
#include "weft-file.h"
#include "weft-test-hook.h"

#define EXAMPLES_PATH "/org/weft/Weft/examples/"
#define THUMB_WIDTH   240
#define THUMB_HEIGHT  150

struct _WeftStartView
{
  GtkWidget  parent_instance;

  /* Children */
  GtkWidget *scrolled;
  GtkWidget *recent_list;
  GtkWidget *recent_empty;
  GtkWidget *gallery;

  /* Owned */
  GPtrArray *pictures;      /* GtkPicture per example, same order as names */
  GPtrArray *names;         /* char* */

  gboolean   dark;
};

G_DEFINE_FINAL_TYPE (WeftStartView, weft_start_view, GTK_TYPE_WIDGET)

enum
{
  OPEN_FILE,
  OPEN_EXAMPLE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- examples ---- */

static WeftGraph *
load_example (const char *name, WeftFileMeta *meta)
{
  g_autofree char *path = g_strconcat (EXAMPLES_PATH, name, ".weft", NULL);
  g_autoptr (GBytes) bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  gsize len;
  const char *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  return weft_file_load_data_full (data, len, NULL, NULL, meta, NULL);
}

char *
weft_example_dup_title (const char *name)
{
  WeftFileMeta meta = { 0 };
  WeftGraph *graph;
  char *title;

  g_return_val_if_fail (name != NULL, NULL);
  graph = load_example (name, &meta);
  weft_graph_free (graph);
  title = g_steal_pointer (&meta.name);
  weft_file_meta_clear (&meta);
  return title;
}

static GdkTexture *
texture_from_surface (cairo_surface_t *surface)
{
  int w = cairo_image_surface_get_width (surface);
  int h = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  g_autoptr (GBytes) bytes = NULL;

  cairo_surface_flush (surface);
  bytes = g_bytes_new (cairo_image_surface_get_data (surface), (gsize) stride * h);
  return gdk_memory_texture_new (w, h, GDK_MEMORY_DEFAULT, bytes, stride);
}

static void
paint_example (WeftStartView *self, guint i)
{
  WeftGraph *graph = load_example (g_ptr_array_index (self->names, i), NULL);
  cairo_surface_t *surface;
  g_autoptr (GdkTexture) texture = NULL;

  if (graph == NULL)
    return;
  surface = weft_canvas_paint_thumbnail (graph, THUMB_WIDTH, THUMB_HEIGHT, self->dark);
  texture = texture_from_surface (surface);
  gtk_picture_set_paintable (GTK_PICTURE (g_ptr_array_index (self->pictures, i)),
                             GDK_PAINTABLE (texture));
  cairo_surface_destroy (surface);
  weft_graph_free (graph);
}

static void
example_clicked_cb (GtkButton *button, WeftStartView *self)
{
  const char *name = g_object_get_data (G_OBJECT (button), "weft-example");

  weft_test_hook ("start example %s", name);
  g_signal_emit (self, signals[OPEN_EXAMPLE], 0, name);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char **) a, *(char **) b);
}

static void
build_gallery (WeftStartView *self)
{
  g_auto (GStrv) children = g_resources_enumerate_children (EXAMPLES_PATH,
                                                            G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);

  for (int i = 0; children != NULL && children[i] != NULL; i++)
    if (g_str_has_suffix (children[i], ".weft"))
      g_ptr_array_add (found, g_strndup (children[i], strlen (children[i]) - 5));
  g_ptr_array_sort (found, compare_names);

  for (guint i = 0; i < found->len; i++)
    {
      const char *name = g_ptr_array_index (found, i);
      WeftFileMeta meta = { 0 };
      WeftGraph *graph = load_example (name, &meta);
      GtkWidget *button, *box, *picture, *label;
      const char *title;

      if (graph == NULL)
        {
          weft_file_meta_clear (&meta);
          continue;
        }
      weft_graph_free (graph);
      title = meta.name != NULL ? meta.name : name;

      button = gtk_button_new ();
      gtk_widget_add_css_class (button, "weft-example");
      gtk_widget_add_css_class (button, "card");
      box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
      picture = gtk_picture_new ();
      gtk_picture_set_can_shrink (GTK_PICTURE (picture), FALSE);
      gtk_widget_set_size_request (picture, THUMB_WIDTH, THUMB_HEIGHT);
      gtk_widget_add_css_class (picture, "weft-example-picture");
      label = gtk_label_new (title);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 28);
      gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_CENTER);
      gtk_box_append (GTK_BOX (box), picture);
      gtk_box_append (GTK_BOX (box), label);
      gtk_button_set_child (GTK_BUTTON (button), box);
      if (meta.description != NULL)
        gtk_widget_set_tooltip_text (button, meta.description);
      else
        gtk_widget_set_tooltip_text (button, title);
      {
        /* TRANSLATORS: accessible name of an example in the start view's gallery */
        g_autofree char *a11y = g_strdup_printf (_("Open a copy of the example “%s”"), title);
        gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                        a11y, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                        meta.description != NULL ? meta.description : "", -1);
      }
      g_object_set_data_full (G_OBJECT (button), "weft-example", g_strdup (name), g_free);
      g_signal_connect (button, "clicked", G_CALLBACK (example_clicked_cb), self);
      gtk_flow_box_append (GTK_FLOW_BOX (self->gallery), button);
      g_ptr_array_add (self->pictures, picture);
      g_ptr_array_add (self->names, g_strdup (name));
      paint_example (self, self->pictures->len - 1);
      weft_file_meta_clear (&meta);
    }
}

/* ---- recent files ---- */

static void
recent_activated_cb (GtkListBox *list, GtkListBoxRow *row, WeftStartView *self)
{
  const char *uri = g_object_get_data (G_OBJECT (row), "weft-uri");
  g_autoptr (GFile) file = g_file_new_for_uri (uri);

  weft_test_hook ("start recent %s", uri);
  g_signal_emit (self, signals[OPEN_FILE], 0, file);
}

static GtkWidget *
recent_row (GFile *file, GFileInfo *info)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *name_label, *dir_label, *date_label;
  g_autofree char *name = g_file_get_basename (file);
  g_autoptr (GFile) parent = g_file_get_parent (file);
  g_autofree char *dir = parent != NULL ? g_file_get_parse_name (parent) : g_strdup ("");
  g_autoptr (GDateTime) modified = info != NULL ? g_file_info_get_modification_date_time (info) : NULL;
  g_autofree char *date = NULL;
  g_autofree char *a11y = NULL;

  /* %x: the locale's date, %X: its time */
  if (modified != NULL)
    {
      g_autoptr (GDateTime) local = g_date_time_to_local (modified);
      date = g_date_time_format (local, "%x %X");
    }
  name_label = gtk_label_new (name);
  gtk_widget_set_halign (name_label, GTK_ALIGN_START);
  gtk_widget_add_css_class (name_label, "heading");
  dir_label = gtk_label_new (dir);
  gtk_widget_set_halign (dir_label, GTK_ALIGN_START);
  gtk_label_set_ellipsize (GTK_LABEL (dir_label), PANGO_ELLIPSIZE_START);
  gtk_widget_add_css_class (dir_label, "dim-label");
  gtk_widget_add_css_class (dir_label, "caption");
  date_label = gtk_label_new (date != NULL ? date : "");
  gtk_widget_add_css_class (date_label, "dim-label");
  gtk_widget_add_css_class (date_label, "numeric");
  gtk_widget_set_valign (date_label, GTK_ALIGN_CENTER);
  gtk_widget_set_hexpand (text, TRUE);
  gtk_box_append (GTK_BOX (text), name_label);
  gtk_box_append (GTK_BOX (text), dir_label);
  gtk_box_append (GTK_BOX (box), text);
  gtk_box_append (GTK_BOX (box), date_label);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 8);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  /* TRANSLATORS: accessible name of a recent file row: file name and folder */
  a11y = g_strdup_printf (_("Open %s in %s"), name, dir);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  gtk_widget_set_tooltip_text (row, g_file_peek_path (file) != NULL ? g_file_peek_path (file) : a11y);
  return row;
}

void
weft_start_view_set_recent (WeftStartView *self, const char * const *uris)
{
  GtkWidget *child;
  int shown = 0;

  g_return_if_fail (WEFT_IS_START_VIEW (self));

  while ((child = gtk_widget_get_first_child (self->recent_list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->recent_list), child);
  for (int i = 0; uris != NULL && uris[i] != NULL; i++)
    {
      g_autoptr (GFile) file = g_file_new_for_uri (uris[i]);
      g_autoptr (GFileInfo) info = NULL;
      GtkWidget *row;

      if (g_file_is_native (file))
        {
          info = g_file_query_info (file, G_FILE_ATTRIBUTE_TIME_MODIFIED, G_FILE_QUERY_INFO_NONE,
                                    NULL, NULL);
          if (info == NULL)
            continue;   /* moved or deleted since */
        }
      row = recent_row (file, info);
      g_object_set_data_full (G_OBJECT (row), "weft-uri", g_strdup (uris[i]), g_free);
      gtk_list_box_append (GTK_LIST_BOX (self->recent_list), row);
      shown++;
    }
  gtk_widget_set_visible (self->recent_list, shown > 0);
  gtk_widget_set_visible (self->recent_empty, shown == 0);
}

void
weft_start_view_set_dark (WeftStartView *self, gboolean dark)
{
  g_return_if_fail (WEFT_IS_START_VIEW (self));

  if (self->dark == !!dark)
    return;
  self->dark = !!dark;
  for (guint i = 0; i < self->pictures->len; i++)
    paint_example (self, i);
}

guint
weft_start_view_get_n_examples (WeftStartView *self)
{
  g_return_val_if_fail (WEFT_IS_START_VIEW (self), 0);
  return self->names->len;
}

/* ---- construction ---- */

static GtkWidget *
heading (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_widget_add_css_class (label, "title-4");
  gtk_widget_set_halign (label, GTK_ALIGN_START);
  gtk_widget_set_margin_top (label, 18);
  return label;
}

static void
weft_start_view_dispose (GObject *object)
{
  WeftStartView *self = WEFT_START_VIEW (object);

  g_clear_pointer (&self->scrolled, gtk_widget_unparent);
  g_clear_pointer (&self->pictures, g_ptr_array_unref);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  G_OBJECT_CLASS (weft_start_view_parent_class)->dispose (object);
}

static void
weft_start_view_class_init (WeftStartViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = weft_start_view_dispose;

  /* A recent file was chosen. */
  signals[OPEN_FILE] = g_signal_new ("open-file", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                     0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_FILE);
  /* An example was chosen (its resource name, e.g. "mlp"). */
  signals[OPEN_EXAMPLE] = g_signal_new ("open-example", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                        G_TYPE_STRING);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "weft-start-view");
}

static void
weft_start_view_init (WeftStartView *self)
{
  GtkWidget *clamp = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *title, *intro, *buttons, *new_button, *open_button, *frame;

  self->pictures = g_ptr_array_new ();
  self->names = g_ptr_array_new_with_free_func (g_free);

  self->scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_parent (self->scrolled, GTK_WIDGET (self));

  gtk_widget_set_margin_start (clamp, 36);
  gtk_widget_set_margin_end (clamp, 36);
  gtk_widget_set_margin_top (clamp, 24);
  gtk_widget_set_margin_bottom (clamp, 36);
  gtk_widget_set_halign (clamp, GTK_ALIGN_CENTER);
  gtk_widget_set_size_request (clamp, 560, -1);

  title = gtk_label_new (_("Welcome to Weft"));
  gtk_widget_add_css_class (title, "title-1");
  intro = gtk_label_new (_("Design a neural network as a graph of layers, then train it. "
                           "Start with an empty graph, open one, or copy an example."));
  gtk_label_set_wrap (GTK_LABEL (intro), TRUE);
  gtk_label_set_justify (GTK_LABEL (intro), GTK_JUSTIFY_CENTER);
  gtk_widget_add_css_class (intro, "dim-label");

  buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_halign (buttons, GTK_ALIGN_CENTER);
  new_button = gtk_button_new_with_mnemonic (_("_New Graph"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (new_button), "win.new-graph");
  gtk_widget_set_tooltip_text (new_button, _("Start with an empty canvas"));
  gtk_widget_add_css_class (new_button, "suggested-action");
  gtk_widget_add_css_class (new_button, "pill");
  open_button = gtk_button_new_with_mnemonic (_("_Open…"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (open_button), "win.open");
  gtk_widget_set_tooltip_text (open_button, _("Open a .weft file (Ctrl+O)"));
  gtk_widget_add_css_class (open_button, "pill");
  gtk_box_append (GTK_BOX (buttons), new_button);
  gtk_box_append (GTK_BOX (buttons), open_button);

  self->recent_list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->recent_list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (self->recent_list, "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->recent_list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Recent graphs"), -1);
  g_signal_connect (self->recent_list, "row-activated", G_CALLBACK (recent_activated_cb), self);
  self->recent_empty = gtk_label_new (_("Graphs you open or save will be listed here."));
  gtk_widget_add_css_class (self->recent_empty, "dim-label");
  gtk_widget_set_halign (self->recent_empty, GTK_ALIGN_START);
  gtk_widget_set_visible (self->recent_list, FALSE);

  self->gallery = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (self->gallery), GTK_SELECTION_NONE);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (self->gallery), TRUE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (self->gallery), 4);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (self->gallery), 12);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (self->gallery), 12);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->gallery), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Examples"), -1);
  frame = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (frame), self->gallery);

  gtk_box_append (GTK_BOX (clamp), title);
  gtk_box_append (GTK_BOX (clamp), intro);
  gtk_box_append (GTK_BOX (clamp), buttons);
  gtk_box_append (GTK_BOX (clamp), heading (_("Recent")));
  gtk_box_append (GTK_BOX (clamp), self->recent_list);
  gtk_box_append (GTK_BOX (clamp), self->recent_empty);
  gtk_box_append (GTK_BOX (clamp), heading (_("Examples")));
  gtk_box_append (GTK_BOX (clamp), frame);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scrolled), clamp);

  build_gallery (self);
}

GtkWidget *
weft_start_view_new (void)
{
  return g_object_new (WEFT_TYPE_START_VIEW, NULL);
}
