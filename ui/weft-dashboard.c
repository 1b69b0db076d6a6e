/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-dashboard"

#include "config.h"

#include "weft-dashboard.h"

#include "weft-binding-panel.h"
#include "weft-data-source.h"
#include "weft-loss-balance.h"
#include "weft-test-hook.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* "Recent" for the suggest-weights rule: the last this many steps of the current run. */
#define SUGGEST_WINDOW     50
#define DEFAULT_SAMPLES    1024
#define CHART_MIN_HEIGHT   240

enum { SOURCE_DATA_FILE = 0, SOURCE_BINDING_TEXT = 1, SOURCE_FILE_BINDING = 2,
       SOURCE_SYNTHETIC_FIRST = 3 };

struct _WeftDashboard
{
  GtkWidget parent_instance;

  /* Owned */
  WeftDocument        *document;
  WeftTrainingSession *session;
  WeftHistory         *own_history;
  GCancellable        *load_cancellable;
  char                *status;
  float                suggested[WEFT_MAX_HEADS];
  int                  n_suggested;
  WeftLossBalanceBand *balance_band;   /* share sums of the shown run, grown per report */

  /* Borrowed */
  WeftHistory         *history;

  /* Widgets (children of the paned, owned through it) */
  GtkWidget *paned;
  GtkWidget *source_dropdown;
  GtkWidget *samples_spin;
  GtkWidget *binding_view;
  GtkWidget *binding_text_box;    /* the advanced text form, for several files */
  GtkWidget *binding_panel;
  GtkWidget *model_io_label;
  GtkWidget *heads_grid;
  GtkWidget *optimizer_dropdown;
  GtkWidget *lr_spin;
  GtkWidget *momentum_spin;
  GtkWidget *batch_spin;
  GtkWidget *epochs_spin;
  GtkWidget *val_spin;
  GtkWidget *seed_spin;
  GtkWidget *train_button;
  GtkWidget *stop_button;
  GtkWidget *continue_button;
  GtkWidget *progress_bar;
  GtkWidget *status_line;       /* every status, one line: GtkInscription, fixed size */
  GtkWidget *status_label;      /* the whole of a longer message: wraps, selectable */
  GtkWidget *store_button;
  GtkWidget *x_dropdown;
  GtkWidget *log_check;
  GtkWidget *smoothing_scale;
  GtkWidget *val_check;
  GtkWidget *prev_check;
  GtkWidget *legend_box;
  GtkWidget *chart;
  GtkWidget *metrics_grid;
  GtkWidget *balance_area;
  GtkWidget *suggest_label;
  GtkWidget *apply_button;
  GtkWidget *share_area;
  GtkWidget *share_label;

  GtkWidget *metric_cells[WEFT_MAX_HEADS][8];
  int        metric_rows;       /* -1: grid not built */
  gulong     changed_id;
  int        shown_heads;       /* heads the head rows / legend were built for */
  char      *shown_heads_key;   /* names + losses, to rebuild only on change */
  gboolean   updating;
  gboolean   orphaned;          /* the running session trains a previous document */
  GArray    *share_history;     /* WeftGradientShare: share_rows rows per recorded epoch */
  int        share_rows;
  int        share_epochs;
  int        share_last_epoch;
  gboolean   epoch_pending;     /* an epoch ended since the last progress report */
  gboolean   can_train;         /* the Train button's sensitivity, as a property */
  char      *blocked_reason;    /* why not, when the data binding is the cause (nullable) */
};

G_DEFINE_FINAL_TYPE (WeftDashboard, weft_dashboard, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_CAN_TRAIN, PROP_TRAIN_BLOCKED_REASON, N_PROPS };
static GParamSpec *properties[N_PROPS];

/* ---- helpers --------------------------------------------------------------------------- */

static void
a11y (GtkWidget *w, const char *label)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  /* a drop-down's button is what screen readers meet; GTK 4.8 names it "GtkToggleButton" */
  if (GTK_IS_DROP_DOWN (w) || GTK_IS_MENU_BUTTON (w))
    for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
      if (GTK_IS_TOGGLE_BUTTON (c))
        gtk_accessible_update_property (GTK_ACCESSIBLE (c), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                        -1);
}

static GtkWidget *
heading (const char *text)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_widget_add_css_class (l, "heading");
  gtk_widget_set_margin_top (l, 8);
  return l;
}

static GtkWidget *
explanation (const char *text)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_label_set_wrap (GTK_LABEL (l), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (l), 44);
  gtk_widget_add_css_class (l, "dim-label");
  return l;
}

static GtkWidget *
spin (double lo, double hi, double step, int digits, const char *label)
{
  GtkWidget *s = gtk_spin_button_new_with_range (lo, hi, step);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (s), digits);
  a11y (s, label);
  return s;
}

static void
grid_row (GtkWidget *grid, int row, const char *text, GtkWidget *control)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_grid_attach (GTK_GRID (grid), l, 0, row, 1, 1);
  gtk_widget_set_hexpand (control, TRUE);
  gtk_grid_attach (GTK_GRID (grid), control, 1, row, 1, 1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (control), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  l, NULL, -1);
}

static void
clear_children (GtkWidget *box)
{
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child (box)) != NULL)
    {
      if (GTK_IS_GRID (box))
        gtk_grid_remove (GTK_GRID (box), c);
      else
        gtk_box_remove (GTK_BOX (box), c);
    }
}

static WeftGraph *
doc_graph (WeftDashboard *self)
{
  return self->document != NULL ? weft_document_get_graph (self->document) : NULL;
}

static int
model_n_heads (WeftDashboard *self)
{
  WeftGraph *g = doc_graph (self);
  return g != NULL ? MIN (weft_graph_model_n_outputs (g, weft_graph_get_main_model (g)),
                          WEFT_MAX_HEADS)
                   : 0;
}

static const char *
head_name (WeftDashboard *self, int j)
{
  WeftGraph *g = doc_graph (self);
  const char *n = weft_graph_model_output_name (g, weft_graph_get_main_model (g), j);
  return n != NULL ? n : "?";
}

/* The status line: always shown and one line high, whatever it says. A GtkLabel queues a
 * resize with every new text, so each progress report measured the whole pane again and its
 * width followed the digits; the inscription's size does not depend on its text, so a report
 * only redraws that line. It is never empty: the first text drawn there costs a frame of
 * shader compilation with GL on llvmpipe (60-100 ms of LLVM measured by perf when it was the
 * first frame after Train), now paid while the window opens. */
#define STATUS_LINE_CHARS 72

static void
show_status (WeftDashboard *self, const char *text, gboolean message)
{
  g_free (self->status);
  self->status = g_strdup (text != NULL && text[0] != '\0' ? text : _("Not training."));
  gtk_inscription_set_text (GTK_INSCRIPTION (self->status_line), self->status);
  /* a message longer than the line is also shown whole below it, selectable */
  gboolean whole = message && g_utf8_strlen (self->status, -1) > STATUS_LINE_CHARS;
  if (whole)
    gtk_label_set_text (GTK_LABEL (self->status_label), self->status);
  if (gtk_widget_get_visible (self->status_label) != whole)
    gtk_widget_set_visible (self->status_label, whole);
  if (message)
    gtk_widget_set_tooltip_text (self->status_line, self->status);
  else if (gtk_widget_get_has_tooltip (self->status_line))
    gtk_widget_set_has_tooltip (self->status_line, FALSE);
}

/* A message: an error, the end of a run. */
static void
set_status (WeftDashboard *self, const char *text)
{
  show_status (self, text, TRUE);
}

/* The text each progress report rewrites: redraws one line, never measures the pane. */
static void
set_progress_text (WeftDashboard *self, const char *text)
{
  show_status (self, text, FALSE);
}

static void
format_seconds (double s, char *buf, size_t len)
{
  if (!isfinite (s) || s < 0)
    {
      g_strlcpy (buf, "–", len);
      return;
    }
  int t = (int) (s + 0.5);
  if (t >= 3600)
    g_snprintf (buf, len, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  else
    g_snprintf (buf, len, "%d:%02d", t / 60, t % 60);
}

/* ---- history --------------------------------------------------------------------------- */

/* Whether history's heads are the model's, by name and count. */
/* The band's sums belong to one history: start over whenever another one is shown (a freed
 * history's address may come back for a new one). */
static void
reset_balance_band (WeftDashboard *self)
{
  weft_loss_balance_band_free (self->balance_band);
  self->balance_band = weft_loss_balance_band_new ();
}

static gboolean
history_fits (WeftDashboard *self, WeftHistory *h)
{
  int n = model_n_heads (self);
  if (h == NULL || n == 0 || weft_history_n_heads (h) != n)
    return FALSE;
  for (int j = 0; j < n; j++)
    if (g_strcmp0 (weft_history_head_name (h, j), head_name (self, j)) != 0)
      return FALSE;
  return TRUE;
}

static WeftHistory *
new_history_for_model (WeftDashboard *self)
{
  WeftGraph *g = doc_graph (self);
  WeftId m = weft_graph_get_main_model (g);
  int n = model_n_heads (self);
  const char *names[WEFT_MAX_HEADS], *metrics[WEFT_MAX_HEADS];
  float weights[WEFT_MAX_HEADS];
  for (int j = 0; j < n; j++)
    {
      const WeftHead *h = weft_graph_model_output (g, m, j);
      names[j] = head_name (self, j);
      weights[j] = h->weight;
      metrics[j] = h->metric != WEFT_METRIC_NONE ? weft_metric_names[h->metric] : NULL;
    }
  return n > 0 ? weft_history_new (n, names, weights, metrics) : NULL;
}

/* Picks the document's history when it fits the model, else the dashboard's own. */
static void
choose_history (WeftDashboard *self, gboolean for_training)
{
  WeftHistory *doc_h = self->document != NULL ? weft_document_get_history (self->document) : NULL;
  WeftHistory *h = NULL;
  if (history_fits (self, doc_h))
    h = doc_h;
  else if (history_fits (self, self->own_history))
    h = self->own_history;
  else if (for_training)
    {
      g_clear_pointer (&self->own_history, weft_history_free);
      self->own_history = new_history_for_model (self);
      h = self->own_history;
    }
  else if (doc_h != NULL)
    h = doc_h;   /* show what the file holds even when the model changed since */
  if (h != self->history || h == NULL)
    {
      self->history = h;
      reset_balance_band (self);
      weft_loss_chart_set_history (WEFT_LOSS_CHART (self->chart), h);
      if (h != NULL)
        weft_test_hook ("history shown heads=%d runs=%d steps=%zu epochs=%zu",
                        weft_history_n_heads (h), weft_history_n_runs (h),
                        weft_history_n_steps (h), weft_history_n_epochs (h));
    }
}

/* ---- metrics, balance, gradient share ------------------------------------------------- */

/* width_chars > 0: the label keeps at least that width, so a number that changes at each
 * epoch does not resize its column (and move the grid and all below it) */
static GtkWidget *
cell (const char *text, gboolean numeric, int width_chars)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), numeric ? 1 : 0);
  if (width_chars > 0)
    gtk_label_set_width_chars (GTK_LABEL (l), width_chars);
  if (numeric)
    gtk_widget_add_css_class (l, "numeric");
  return l;
}

static char *
fmt (double v)
{
  return isfinite (v) ? g_strdup_printf ("%.4g", v) : g_strdup ("–");
}

#define N_METRIC_COLUMNS 8

/* Widths of the columns whose text changes during a run: the losses and metric values
 * ("%.4g": at most 10 characters, "-1.234e-05") and the share ("100 %"). */
static const int metric_width_chars[N_METRIC_COLUMNS] = { 0, 0, 10, 10, 0, 10, 10, 5 };

/* Builds the grid's labels for n heads; texts are set in place afterwards, so an epoch
 * report changes label texts only instead of rebuilding widgets. */
static void
build_metrics_grid (WeftDashboard *self, int n)
{
  GtkGrid *grid = GTK_GRID (self->metrics_grid);
  clear_children (self->metrics_grid);
  const char *titles[N_METRIC_COLUMNS] = { N_("Head"), N_("Weight"), N_("Loss"),
                                           N_("Val. loss"), N_("Metric"), N_("Value"),
                                           N_("Val. value"), N_("Share") };
  for (int c = 0; c < N_METRIC_COLUMNS; c++)
    {
      GtkWidget *l = cell (_(titles[c]), c > 0 && c != 4, 0);
      gtk_widget_add_css_class (l, "heading");
      gtk_grid_attach (grid, l, c, 0, 1, 1);
    }
  for (int j = 0; j < n; j++)
    for (int c = 0; c < N_METRIC_COLUMNS; c++)
      {
        self->metric_cells[j][c] = cell ("", c > 0 && c != 4, metric_width_chars[c]);
        gtk_grid_attach (grid, self->metric_cells[j][c], c, j + 1, 1, 1);
      }
  self->metric_rows = n;
}

static void
update_metrics (WeftDashboard *self)
{
  WeftHistory *h = self->history;
  /* without a history the rows of the model's heads wait with dashes, so the first run only
   * changes their text (building widgets then would cost its first frames) */
  int n = h != NULL ? weft_history_n_heads (h) : MIN (model_n_heads (self), WEFT_MAX_HEADS);
  if (n != self->metric_rows)
    build_metrics_grid (self, n);
  if (h == NULL)
    {
      for (int j = 0; j < n; j++)
        for (int c = 0; c < N_METRIC_COLUMNS; c++)
          gtk_label_set_text (GTK_LABEL (self->metric_cells[j][c]), c == 0 ? head_name (self, j)
                                                                             : "–");
      return;
    }
  size_t first, count;
  weft_history_run_epochs (h, weft_history_current_run (h), &first, &count);
  WeftHistoryEpoch ep;
  gboolean have_epoch = count > 0 && weft_history_get_epoch (h, first + count - 1, &ep);
  WeftHistoryStep st;
  size_t sf, sc;
  weft_history_run_steps (h, weft_history_current_run (h), &sf, &sc);
  gboolean have_step = sc > 0 && weft_history_get_step (h, sf + sc - 1, &st);
  float w[WEFT_MAX_HEADS];
  double loss[WEFT_MAX_HEADS], share[WEFT_MAX_HEADS];
  for (int j = 0; j < n; j++)
    {
      w[j] = weft_history_loss_weight (h, j);
      loss[j] = have_epoch ? ep.loss[j] : have_step ? st.loss[j] : NAN;
    }
  weft_loss_balance_shares (n, w, loss, share);
  for (int j = 0; j < n; j++)
    {
      const char *metric = weft_history_metric_name (h, j);
      char *text[N_METRIC_COLUMNS];
      text[0] = g_strdup (weft_history_head_name (h, j));
      text[1] = g_strdup_printf ("%g", w[j]);
      text[2] = fmt (loss[j]);
      text[3] = fmt (have_epoch && ep.has_validation ? ep.val_loss[j] : NAN);
      text[4] = g_strdup (metric != NULL ? metric : "–");
      text[5] = fmt (metric == NULL ? NAN : have_epoch ? ep.metric[j]
                                          : have_step ? st.metric[j] : NAN);
      text[6] = fmt (metric != NULL && have_epoch && ep.has_validation ? ep.val_metric[j] : NAN);
      text[7] = isfinite (share[j]) ? g_strdup_printf ("%.0f %%", 100 * share[j])
                                    : g_strdup ("–");
      for (int c = 0; c < N_METRIC_COLUMNS; c++)
        {
          gtk_label_set_text (GTK_LABEL (self->metric_cells[j][c]), text[c]);
          g_free (text[c]);
        }
    }
}

static gboolean
widget_is_dark (GtkWidget *w)
{
  GdkRGBA fg;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (w), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return 0.299 * fg.red + 0.587 * fg.green + 0.114 * fg.blue > 0.5;
}

static void
draw_balance (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  WeftDashboard *self = data;
  /* reads only the steps added since the last frame */
  weft_loss_balance_band_sync (self->balance_band, self->history);
  weft_loss_balance_band_paint (self->balance_band, cr, width, height,
                                widget_is_dark (GTK_WIDGET (area)));
}

static void
draw_share (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  WeftDashboard *self = data;
  if (self->share_epochs > 0)
    weft_loss_balance_paint_gradient_share_history (cr, width,
                                                    (const WeftGradientShare *) self->share_history->data,
                                                    self->share_rows, self->share_epochs,
                                                    widget_is_dark (GTK_WIDGET (area)));
}

/* Longer runs keep every other recorded epoch, so the picture's cost stays bounded. */
#define SHARE_MAX_EPOCHS 2048

static void
record_share (WeftDashboard *self)
{
  int n = 0, epoch = 0;
  const WeftGradientShare *rows = weft_training_session_get_gradient_share (self->session, &n,
                                                                            &epoch);
  if (rows == NULL || n == 0 || epoch == self->share_last_epoch)
    return;
  if (n != self->share_rows)
    {
      g_array_set_size (self->share_history, 0);
      self->share_epochs = 0;
      self->share_rows = n;
    }
  if (self->share_epochs >= SHARE_MAX_EPOCHS)
    {
      WeftGradientShare *d = (WeftGradientShare *) self->share_history->data;
      int kept = 0;
      for (int e = 0; e < self->share_epochs; e += 2, kept++)
        memmove (d + (size_t) kept * n, d + (size_t) e * n, (size_t) n * sizeof *d);
      self->share_epochs = kept;
      g_array_set_size (self->share_history, (guint) kept * n);
    }
  g_array_append_vals (self->share_history, rows, n);
  self->share_epochs++;
  self->share_last_epoch = epoch;
}

static void
clear_share_history (WeftDashboard *self)
{
  g_array_set_size (self->share_history, 0);
  self->share_epochs = 0;
  self->share_rows = 0;
  self->share_last_epoch = -1;
}

static void
update_share (WeftDashboard *self)
{
  int n = 0, epoch = 0, shared = 0;
  const WeftGradientShare *rows = weft_training_session_get_gradient_share (self->session, &n,
                                                                            &epoch);
  for (int i = 0; i < n; i++)
    shared += weft_loss_balance_row_is_shared (&rows[i]);
  record_share (self);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->share_area), MAX (1, shared * 20));
  /* short texts only: the explanation above them is shown from the start (see build_main) */
  if (n == 0)
    gtk_label_set_text (GTK_LABEL (self->share_label),
                        _("Shown after the first epoch of a training run."));
  else if (shared == 0)
    gtk_label_set_text (GTK_LABEL (self->share_label),
                        _("No layer receives gradient from more than one head."));
  else
    {
      g_autofree char *t = g_strdup_printf (_("Epochs 1 to %d, from left to right."),
                                            epoch + 1);
      gtk_label_set_text (GTK_LABEL (self->share_label), t);
    }
  gtk_widget_queue_draw (self->share_area);
}

/* ---- head rows and legend ------------------------------------------------------------- */

static void apply_head_edit (WeftDashboard *self, int j, WeftLoss loss, double weight);

static void
loss_changed_cb (GtkDropDown *dd, GParamSpec *pspec, WeftDashboard *self)
{
  if (self->updating)
    return;
  int j = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dd), "head"));
  apply_head_edit (self, j, (WeftLoss) (gtk_drop_down_get_selected (dd) + 1), NAN);
}

static void
weight_changed_cb (GtkSpinButton *sb, WeftDashboard *self)
{
  if (self->updating)
    return;
  int j = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (sb), "head"));
  apply_head_edit (self, j, WEFT_LOSS_NONE, gtk_spin_button_get_value (sb));
}

static void
legend_toggled_cb (GtkCheckButton *b, WeftDashboard *self)
{
  int j = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (b), "head"));
  weft_loss_chart_set_head_visible (WEFT_LOSS_CHART (self->chart), j,
                                    gtk_check_button_get_active (b));
}

static GtkWidget *
legend_button (WeftDashboard *self, int head, const char *name)
{
  double rgb[3];
  if (head >= 0)
    weft_chart_head_color (head, FALSE, rgb);
  else
    weft_chart_palette_color ("total", FALSE, rgb);
  g_autofree char *markup = g_markup_printf_escaped ("<span foreground=\"#%02x%02x%02x\">━━</span> %s",
                                                     (int) (rgb[0] * 255), (int) (rgb[1] * 255),
                                                     (int) (rgb[2] * 255), name);
  GtkWidget *b = gtk_check_button_new ();
  GtkWidget *l = gtk_label_new (NULL);
  gtk_label_set_markup (GTK_LABEL (l), markup);
  gtk_check_button_set_child (GTK_CHECK_BUTTON (b), l);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (b),
                               weft_loss_chart_get_head_visible (WEFT_LOSS_CHART (self->chart), head));
  g_object_set_data (G_OBJECT (b), "head", GINT_TO_POINTER (head));
  g_signal_connect (b, "toggled", G_CALLBACK (legend_toggled_cb), self);
  g_autofree char *label = g_strdup_printf (_("Show %s"), name);
  a11y (b, label);
  return b;
}

/* What the binding must feed: "Inputs: profile (12), posts (20). Heads: age (1), ...". */
static void
update_model_io (WeftDashboard *self)
{
  WeftGraph *g = doc_graph (self);
  if (g == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->model_io_label), "");
      return;
    }
  WeftId m = weft_graph_get_main_model (g);
  GString *s = g_string_new (_("Inputs:"));
  char buf[96];
  for (int i = 0; i < weft_graph_model_n_inputs (g, m); i++)
    {
      WeftShape shape;
      gboolean known = weft_graph_node_shape (g, weft_graph_model_input (g, m, i), 0, &shape);
      g_string_append_printf (s, "%s %s %s", i > 0 ? "," : "",
                              weft_graph_model_input_name (g, m, i),
                              known ? weft_shape_format (&shape, buf, sizeof buf) : "?");
    }
  g_string_append_printf (s, ". %s", _("Heads:"));
  for (int j = 0; j < weft_graph_model_n_outputs (g, m); j++)
    {
      const WeftHead *h = weft_graph_model_output (g, m, j);
      WeftShape shape;
      gboolean known = weft_graph_node_shape (g, h->node, h->port, &shape);
      g_string_append_printf (s, "%s %s %s", j > 0 ? "," : "",
                              weft_graph_model_output_name (g, m, j),
                              known ? weft_shape_format (&shape, buf, sizeof buf) : "?");
    }
  g_string_append_c (s, '.');
  gtk_label_set_text (GTK_LABEL (self->model_io_label), s->str);
  g_string_free (s, TRUE);
}

/* Rebuilds the per-head settings and the legend when the model's heads change. */
static void
update_heads (WeftDashboard *self)
{
  WeftGraph *g = doc_graph (self);
  int n = model_n_heads (self);
  GString *key = g_string_new (NULL);
  for (int j = 0; j < n; j++)
    {
      const WeftHead *h = weft_graph_model_output (g, weft_graph_get_main_model (g), j);
      g_string_append_printf (key, "%s/%d/%g;", head_name (self, j), h->loss, h->weight);
    }
  if (g_strcmp0 (key->str, self->shown_heads_key) == 0)
    {
      g_string_free (key, TRUE);
      return;
    }
  g_free (self->shown_heads_key);
  self->shown_heads_key = g_string_free (key, FALSE);

  self->updating = TRUE;
  clear_children (self->heads_grid);
  clear_children (self->legend_box);
  const char *titles[] = { N_("Head"), N_("Loss"), N_("Weight") };
  for (int c = 0; c < 3; c++)
    {
      GtkWidget *l = cell (_(titles[c]), FALSE, 0);
      gtk_widget_add_css_class (l, "heading");
      gtk_grid_attach (GTK_GRID (self->heads_grid), l, c, 0, 1, 1);
    }
  g_autoptr(GtkStringList) losses = gtk_string_list_new (NULL);
  for (int k = 1; k < WEFT_LOSS_COUNT; k++)
    gtk_string_list_append (losses, weft_loss_names[k]);
  for (int j = 0; j < n; j++)
    {
      const WeftHead *h = weft_graph_model_output (g, weft_graph_get_main_model (g), j);
      const char *name = head_name (self, j);
      gtk_grid_attach (GTK_GRID (self->heads_grid), cell (name, FALSE, 0), 0, j + 1, 1, 1);
      GtkWidget *dd = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (losses)), NULL);
      gtk_drop_down_set_selected (GTK_DROP_DOWN (dd), h->loss > 0 ? (guint) h->loss - 1 : 0);
      g_object_set_data (G_OBJECT (dd), "head", GINT_TO_POINTER (j));
      g_signal_connect (dd, "notify::selected", G_CALLBACK (loss_changed_cb), self);
      g_autofree char *dl = g_strdup_printf (_("Loss of head %s"), name);
      a11y (dd, dl);
      gtk_grid_attach (GTK_GRID (self->heads_grid), dd, 1, j + 1, 1, 1);
      g_autofree char *wl = g_strdup_printf (_("Loss weight of head %s"), name);
      GtkWidget *ws = spin (0, 1e6, 0.05, 4, wl);
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (ws), h->weight);
      g_object_set_data (G_OBJECT (ws), "head", GINT_TO_POINTER (j));
      g_signal_connect (ws, "value-changed", G_CALLBACK (weight_changed_cb), self);
      gtk_grid_attach (GTK_GRID (self->heads_grid), ws, 2, j + 1, 1, 1);
      gtk_box_append (GTK_BOX (self->legend_box), legend_button (self, j, name));
    }
  if (n > 1)
    gtk_box_append (GTK_BOX (self->legend_box), legend_button (self, -1, _("total")));
  self->shown_heads = n;
  update_model_io (self);
  self->updating = FALSE;
}

static void
apply_head_edit (WeftDashboard *self, int j, WeftLoss loss, double weight)
{
  WeftGraph *g = doc_graph (self);
  if (g == NULL || j >= model_n_heads (self))
    return;
  WeftHead h = *weft_graph_model_output (g, weft_graph_get_main_model (g), j);
  const char *what;
  if (loss != WEFT_LOSS_NONE)
    {
      if (h.loss == loss)
        return;
      h.loss = loss;
      what = _("Change loss");
    }
  else
    {
      if (!isfinite (weight) || (float) weight == h.weight)
        return;
      h.weight = (float) weight;
      what = _("Change loss weight");
    }
  g_autoptr(GError) error = NULL;
  if (!weft_document_set_head (self->document, j, &h, what, &error))
    set_status (self, error->message);
}

/* ---- settings -------------------------------------------------------------------------- */

static const char *const optimizer_labels[] = { "SGD", "Adam", "AdamW", "RMSprop", NULL };

void
weft_dashboard_set_config (WeftDashboard *self, const WeftTrainConfig *c)
{
  g_return_if_fail (WEFT_IS_DASHBOARD (self));
  g_return_if_fail (c != NULL);
  self->updating = TRUE;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->optimizer_dropdown), c->optimizer.kind);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->lr_spin), c->optimizer.learning_rate);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->momentum_spin), c->optimizer.momentum);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->batch_spin), c->batch_size);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->epochs_spin), c->epochs);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->val_spin), c->validation_split);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->seed_spin), (double) c->seed);
  if (g_str_has_prefix (c->data, "synthetic:"))
    {
      for (int i = 0; weft_synthetic_names[i] != NULL; i++)
        if (strcmp (weft_synthetic_names[i], c->data + strlen ("synthetic:")) == 0)
          gtk_drop_down_set_selected (GTK_DROP_DOWN (self->source_dropdown),
                                      SOURCE_SYNTHETIC_FIRST + i);
    }
  else if (c->data[0] != '\0')
    gtk_drop_down_set_selected (GTK_DROP_DOWN (self->source_dropdown), SOURCE_FILE_BINDING);
  else if (self->document != NULL && weft_document_get_file_meta (self->document)->data != NULL)
    gtk_drop_down_set_selected (GTK_DROP_DOWN (self->source_dropdown),
                                weft_binding_panel_get_file (WEFT_BINDING_PANEL (self->binding_panel))
                                != NULL ? SOURCE_DATA_FILE : SOURCE_FILE_BINDING);
  self->updating = FALSE;
}

void
weft_dashboard_get_config (WeftDashboard *self, WeftTrainConfig *c)
{
  g_return_if_fail (WEFT_IS_DASHBOARD (self));
  g_return_if_fail (c != NULL);
  WeftGraph *g = doc_graph (self);
  if (g != NULL)
    *c = *weft_graph_get_train_config (g);
  else
    weft_train_config_defaults (c);
  WeftOptimKind kind = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->optimizer_dropdown));
  if (kind != c->optimizer.kind)
    weft_optim_config_defaults (kind, &c->optimizer);
  c->optimizer.learning_rate = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->lr_spin));
  c->optimizer.momentum = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->momentum_spin));
  c->batch_size = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->batch_spin));
  c->epochs = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->epochs_spin));
  c->validation_split = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->val_spin));
  c->seed = (uint64_t) gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->seed_spin));
  guint src = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->source_dropdown));
  if (src >= SOURCE_SYNTHETIC_FIRST)
    g_snprintf (c->data, sizeof c->data, "synthetic:%s",
                weft_synthetic_names[src - SOURCE_SYNTHETIC_FIRST]);
  else
    c->data[0] = '\0';   /* the binding itself is the document's "data" */
}

void
weft_dashboard_set_samples (WeftDashboard *self, int n_samples)
{
  g_return_if_fail (WEFT_IS_DASHBOARD (self));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->samples_spin), n_samples);
}

static void
optimizer_changed_cb (GtkDropDown *dd, GParamSpec *pspec, WeftDashboard *self)
{
  guint kind = gtk_drop_down_get_selected (dd);
  /* momentum exists for SGD and RMSprop only */
  gtk_widget_set_sensitive (self->momentum_spin, kind == WEFT_OPTIM_SGD
                                                 || kind == WEFT_OPTIM_RMSPROP);
}

static void update_buttons (WeftDashboard *self);

static void
source_changed_cb (GtkDropDown *dd, GParamSpec *pspec, WeftDashboard *self)
{
  guint src = gtk_drop_down_get_selected (dd);
  gtk_widget_set_sensitive (self->samples_spin, src >= SOURCE_SYNTHETIC_FIRST);
  gtk_widget_set_visible (self->binding_text_box, src == SOURCE_BINDING_TEXT);
  gtk_widget_set_visible (self->binding_panel, src == SOURCE_DATA_FILE);
  update_buttons (self);
}

/* ---- training -------------------------------------------------------------------------- */

static void
update_buttons (WeftDashboard *self)
{
  if (self->train_button == NULL)
    return;   /* still building the panels */
  gboolean running = weft_training_session_get_running (self->session);
  gboolean loading = self->load_cancellable != NULL;
  const char *reason = NULL;
  gboolean data_ready = TRUE;
  if (gtk_drop_down_get_selected (GTK_DROP_DOWN (self->source_dropdown)) == SOURCE_DATA_FILE)
    data_ready = weft_binding_panel_get_complete (WEFT_BINDING_PANEL (self->binding_panel),
                                                  &reason);
  gboolean can_train = !running && !loading && self->document != NULL && data_ready;
  gtk_widget_set_sensitive (self->train_button, can_train);
  /* an insensitive Train button says why */
  g_autofree char *why = !data_ready && reason != NULL
                         ? g_strdup_printf (_("Not ready to train: %s"), reason) : NULL;
  const char *tip = why != NULL ? why : _("Train the model from new weights");
  gtk_widget_set_tooltip_text (self->train_button, tip);
  /* the window's Train action follows the same rule through these properties */
  if (g_strcmp0 (self->blocked_reason, why) != 0)
    {
      g_free (self->blocked_reason);
      self->blocked_reason = g_strdup (why);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRAIN_BLOCKED_REASON]);
    }
  if (self->can_train != can_train)
    {
      self->can_train = can_train;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_TRAIN]);
    }
  /* (resetting the description would also hide the tooltip from screen readers) */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->train_button),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, tip, -1);
  gtk_widget_set_sensitive (self->stop_button, running || loading);
  gtk_widget_set_sensitive (self->continue_button,
                            !loading && weft_training_session_get_can_continue (self->session));
}

static void
start_with_data (WeftDashboard *self, WeftDataset *data, float validation_split)
{
  WeftTrainConfig c;
  weft_dashboard_get_config (self, &c);
  /* the settings of the run are the graph's training settings from now on (saved with it,
   * as Keras keeps compile/fit arguments); they do not change the model (no serial bump) */
  weft_document_set_train_config (self->document, &c);
  if (validation_split >= 0)
    c.validation_split = validation_split;
  choose_history (self, TRUE);
  if (self->history != NULL && self->history == self->own_history)
    {
      /* the document had no history fitting the heads: ours becomes its, saved with it */
      weft_document_set_history (self->document, g_steal_pointer (&self->own_history));
    }
  else if (self->history != NULL)
    weft_document_mark_modified (self->document);   /* a new run goes into its history */
  weft_training_session_set_history (self->session, self->history);
  clear_share_history (self);
  gtk_widget_set_visible (self->store_button, FALSE);
  set_status (self, _("Starting…"));
  weft_test_hook ("training started");
  weft_training_session_start_async (self->session, doc_graph (self), &c, data, NULL, NULL, NULL);
  /* the session began a new run in the history: show it */
  weft_loss_chart_sync (WEFT_LOSS_CHART (self->chart));
  update_buttons (self);
}

typedef struct
{
  WeftDataBinding *binding;     /* or a synthetic set: */
  char            *synthetic;
  int64_t          samples;
  uint64_t         seed;
  WeftGraph       *graph;
  double           validation_split;
  WeftDataLoad     load;
} LoadJob;

static void
load_job_free (gpointer p)
{
  LoadJob *job = p;
  weft_data_binding_free (job->binding);
  g_free (job->synthetic);
  weft_graph_free (job->graph);
  weft_data_load_clear (&job->load);
  g_free (job);
}

static void
load_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  LoadJob *job = data;
  GError *error = NULL;
  if (job->synthetic != NULL)
    {
      WeftError werr = { 0 };
      job->load.data = weft_synthetic_make (job->synthetic, job->graph, job->samples, job->seed,
                                            &werr);
      job->load.validation_split = -1;
      if (job->load.data != NULL)
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                                 _("The synthetic data set “%s” does not fit this model: %s"),
                                 job->synthetic, werr.message);
      return;
    }
  if (weft_data_binding_load (job->binding, job->graph, job->validation_split, TRUE, NULL, NULL,
                              &job->load, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
load_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  WeftDashboard *self = WEFT_DASHBOARD (source);
  g_autoptr(GError) error = NULL;
  LoadJob *job = g_task_get_task_data (G_TASK (result));
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  gboolean cancelled = g_cancellable_is_cancelled (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  if (cancelled)
    set_status (self, _("Training stopped"));
  else if (!ok && job->synthetic != NULL)
    set_status (self, error->message);
  else if (!ok)
    {
      g_autofree char *t = g_strdup_printf (_("The data could not be loaded: %s"), error->message);
      set_status (self, t);
    }
  else
    {
      WeftDataset *d = g_steal_pointer (&job->load.data);
      start_with_data (self, d, job->load.validation_split);
    }
  update_buttons (self);
}

/* The binding a run uses is saved with the document, paths relative to its folder. */
static void
store_binding (WeftDashboard *self, const WeftDataBinding *binding)
{
  GFile *file = weft_document_get_file (self->document);
  g_autoptr(GFile) dir = file != NULL ? g_file_get_parent (file) : NULL;
  g_autofree char *base = dir != NULL ? g_file_get_path (dir) : NULL;
  g_autoptr(JsonNode) saved = weft_data_binding_to_json (binding, base);
  weft_document_set_data_binding (self->document, saved);
}

void
weft_dashboard_train (WeftDashboard *self)
{
  g_return_if_fail (WEFT_IS_DASHBOARD (self));
  WeftGraph *g = doc_graph (self);
  if (g == NULL || weft_training_session_get_running (self->session) || self->load_cancellable)
    return;
  WeftError werr = { 0 };
  if (!weft_graph_validate (g, &werr))
    {
      g_autofree char *t = g_strdup_printf (_("The model cannot be trained: %s"), werr.message);
      set_status (self, t);
      return;
    }
  guint src = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->source_dropdown));
  g_autoptr(GError) error = NULL;
  WeftDataBinding *binding = NULL;
  char *synthetic = NULL;
  if (src >= SOURCE_SYNTHETIC_FIRST)
    synthetic = g_strdup (weft_synthetic_names[src - SOURCE_SYNTHETIC_FIRST]);
  else if (src == SOURCE_DATA_FILE)
    {
      const char *reason = NULL;
      WeftBindingPanel *panel = WEFT_BINDING_PANEL (self->binding_panel);
      if (!weft_binding_panel_get_complete (panel, &reason))
        {
          set_status (self, reason);
          return;
        }
      g_autoptr(JsonNode) node = weft_binding_panel_dup_json (panel);
      binding = weft_data_binding_from_json (node, NULL, &error);
      if (binding == NULL)
        {
          set_status (self, error->message);
          return;
        }
      store_binding (self, binding);
    }
  else if (src == SOURCE_FILE_BINDING)
    {
      /* the binding the document holds (read with the file, or chosen in this window) */
      JsonNode *data = weft_document_get_file_meta (self->document)->data;
      GFile *file = weft_document_get_file (self->document);
      g_autoptr(GFile) dir = file != NULL ? g_file_get_parent (file) : NULL;
      g_autofree char *base = dir != NULL ? g_file_get_path (dir) : NULL;
      binding = data != NULL ? weft_data_binding_from_json (data, base, &error) : NULL;
      if (binding == NULL)
        {
          set_status (self, error != NULL ? error->message
                                          : _("The file names no data binding; choose a "
                                              "data file or a synthetic set."));
          return;
        }
    }
  else
    {
      GtkTextBuffer *buf = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->binding_view));
      GtkTextIter a, b;
      gtk_text_buffer_get_bounds (buf, &a, &b);
      g_autofree char *text = gtk_text_buffer_get_text (buf, &a, &b, FALSE);
      g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
      binding = weft_data_binding_new ();
      int entries = 0;
      for (int i = 0; lines[i] != NULL; i++)
        {
          g_strstrip (lines[i]);
          if (lines[i][0] == '\0' || lines[i][0] == '#')
            continue;
          if (!weft_data_binding_add_spec (binding, lines[i], &error))
            {
              g_autofree char *t = g_strdup_printf (_("Binding line %d: %s"), i + 1,
                                                    error->message);
              set_status (self, t);
              weft_data_binding_free (binding);
              return;
            }
          entries++;
        }
      if (entries == 0)
        {
          set_status (self, _("Write one binding entry per line, such as "
                              "“profile=people.csv:0-11”, or choose a synthetic set."));
          weft_data_binding_free (binding);
          return;
        }
      store_binding (self, binding);
    }
  /* Data are read or generated on a worker thread: a large set must not freeze the window. */
  LoadJob *job = g_new0 (LoadJob, 1);
  job->binding = binding;
  job->synthetic = synthetic;
  job->samples = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->samples_spin));
  job->seed = (uint64_t) gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->seed_spin));
  job->graph = weft_graph_dup (g);
  job->validation_split = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->val_spin));
  self->load_cancellable = g_cancellable_new ();
  GTask *task = g_task_new (self, self->load_cancellable, load_done_cb, NULL);
  g_task_set_task_data (task, job, load_job_free);
  g_task_run_in_thread (task, load_thread);
  g_object_unref (task);
  set_progress_text (self, synthetic != NULL ? _("Generating data…") : _("Loading data…"));
  update_buttons (self);
}

void
weft_dashboard_stop (WeftDashboard *self)
{
  g_return_if_fail (WEFT_IS_DASHBOARD (self));
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  weft_training_session_stop (self->session);
}

void
weft_dashboard_continue (WeftDashboard *self)
{
  g_return_if_fail (WEFT_IS_DASHBOARD (self));
  if (!weft_training_session_get_can_continue (self->session))
    return;
  if (weft_training_session_get_history (self->session) != self->history)
    weft_training_session_set_history (self->session, self->history);
  gtk_widget_set_visible (self->store_button, FALSE);
  set_progress_text (self, _("Continuing…"));
  if (self->history != NULL)
    weft_document_mark_modified (self->document);   /* the run grows in its history */
  weft_training_session_continue_async (self->session, NULL, NULL, NULL);
  update_buttons (self);
}

static void
progress_cb (WeftTrainingSession *session, WeftDashboard *self)
{
  WeftTrainingProgress p;
  weft_training_session_get_progress (session, &p);
  /* once per delivered batch of reports (at most one per frame), each O(new rows) */
  weft_loss_chart_sync (WEFT_LOSS_CHART (self->chart));
  gtk_widget_queue_draw (self->balance_area);
  if (self->epoch_pending)
    {
      self->epoch_pending = FALSE;
      update_metrics (self);
      update_share (self);
    }
  char elapsed[32], eta[32];
  format_seconds (p.elapsed, elapsed, sizeof elapsed);
  format_seconds (p.eta, eta, sizeof eta);
  int epoch_in_run = MIN (p.epochs_this_run + 1, p.n_epochs);
  g_autofree char *t =
    g_strdup_printf (_("Epoch %d/%d · batch %d/%d · %.0f samples/s · %s elapsed · %s left"),
                     epoch_in_run, p.n_epochs, p.batch, p.n_batches,
                     isfinite (p.samples_per_second) ? p.samples_per_second : 0.0, elapsed, eta);
  set_progress_text (self, t);
  double frac = p.n_epochs > 0 && p.n_batches > 0
                ? (p.epochs_this_run + (p.batch < p.n_batches ? (double) p.batch / p.n_batches : 0))
                  / p.n_epochs
                : 0;
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress_bar), CLAMP (frac, 0, 1));
}

static void
epoch_cb (WeftTrainingSession *session, int epoch, WeftDashboard *self)
{
  if (self->history != NULL)
    weft_test_hook ("training epoch=%d heads=%d steps=%zu", epoch + 1,
                    weft_history_n_heads (self->history), weft_history_n_steps (self->history));
  /* short epochs arrive many to a report: the widgets follow once, in progress_cb */
  self->epoch_pending = TRUE;
}

static void
store_weights (WeftDashboard *self, gboolean force)
{
  WeftGraph *g = doc_graph (self);
  g_autoptr(GError) error = NULL;
  if (g == NULL)
    return;
  if (weft_training_session_store_weights (self->session, g, force, &error))
    {
      weft_document_mark_modified (self->document);
      gtk_widget_set_visible (self->store_button, FALSE);
      return;
    }
  if (g_error_matches (error, WEFT_TRAINING_SESSION_ERROR,
                       WEFT_TRAINING_SESSION_ERROR_MODEL_CHANGED))
    {
      g_autofree char *t = g_strdup_printf (_("%s · The model was edited during training, so "
                                              "the trained weights were not stored."),
                                            self->status);
      set_status (self, t);
      gtk_widget_set_visible (self->store_button, TRUE);
    }
  else if (!g_error_matches (error, WEFT_TRAINING_SESSION_ERROR,
                             WEFT_TRAINING_SESSION_ERROR_NO_RUN))
    set_status (self, error->message);
}

static void
store_clicked_cb (GtkButton *b, WeftDashboard *self)
{
  store_weights (self, TRUE);
}

static void
finished_cb (WeftTrainingSession *session, const char *text, WeftDashboard *self)
{
  if (self->orphaned)
    {
      /* its weights belong to the document that was replaced: never offer them here */
      self->orphaned = FALSE;
      weft_training_session_reset (session);
      update_share (self);
      update_buttons (self);
      return;
    }
  weft_loss_chart_sync (WEFT_LOSS_CHART (self->chart));
  update_metrics (self);
  update_share (self);
  gtk_widget_queue_draw (self->balance_area);
  if (text != NULL)
    set_status (self, text);
  else
    {
      WeftTrainingProgress p;
      char elapsed[32];
      weft_training_session_get_progress (session, &p);
      format_seconds (p.elapsed, elapsed, sizeof elapsed);
      g_autofree char *t = g_strdup_printf (_("Trained %d epochs in %s"), p.epochs_this_run,
                                            elapsed);
      set_status (self, t);
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress_bar), 1);
    }
  store_weights (self, FALSE);
  update_buttons (self);
  if (weft_test_hook_enabled ())
    {
      /* evidence for end-to-end tests: the chart rendered offscreen, curves with points */
      const char *png = g_getenv ("WEFT_TEST_CHART_PNG");
      WeftLossChart *chart = WEFT_LOSS_CHART (self->chart);
      int curves = 0;
      guint points = 0;
      for (int j = -1; self->history != NULL && j < weft_history_n_heads (self->history); j++)
        {
          WeftLossSeries *series = weft_loss_chart_get_series (chart, j, FALSE);
          guint n = series != NULL ? weft_loss_series_get_n_points (series) : 0;
          curves += n > 0;
          points += n;
        }
      if (png != NULL && !weft_loss_chart_save_png (chart, png, 800, 450, NULL))
        png = "(failed)";
      weft_test_hook ("training finished runs=%d curves=%d points=%u png=%s status=%s",
                      self->history != NULL ? weft_history_n_runs (self->history) : 0, curves,
                      points, png != NULL ? png : "-", self->status);
    }
}

static void
running_notify_cb (WeftTrainingSession *session, GParamSpec *pspec, WeftDashboard *self)
{
  /* The chart expands into the height the sections below it leave. Those grow at the first
   * epoch (per-head values, gradient share bars and their explanation): the chart keeps its
   * height during a run instead of shrinking then, since a resized chart and everything
   * that moves with it are drawn anew in that frame (12-13 ms main-thread CPU with the
   * Cairo renderer, 55-80 ms with GL/llvmpipe, against a median frame of 3-7 ms). */
  if (self->chart != NULL)   /* NULL once disposed */
    {
      gboolean running = weft_training_session_get_running (session);
      int height = gtk_widget_get_height (self->chart);
      if (running && height > CHART_MIN_HEIGHT)
        gtk_widget_set_size_request (self->chart, -1, height);
      else if (!running)
        gtk_widget_set_size_request (self->chart, -1, CHART_MIN_HEIGHT);
    }
  update_buttons (self);
}

/* ---- suggest weights ------------------------------------------------------------------- */

gboolean
weft_dashboard_suggest_weights (WeftDashboard *self, float *suggested, int *n_heads)
{
  g_return_val_if_fail (WEFT_IS_DASHBOARD (self), FALSE);
  WeftGraph *g = doc_graph (self);
  int n = model_n_heads (self);
  double L[WEFT_MAX_HEADS];
  float w[WEFT_MAX_HEADS];
  if (g == NULL || n < 2 || !history_fits (self, self->history)
      || !weft_loss_balance_recent_losses (self->history, -1, SUGGEST_WINDOW, L))
    return FALSE;
  for (int j = 0; j < n; j++)
    w[j] = weft_graph_model_output (g, weft_graph_get_main_model (g), j)->weight;
  weft_loss_balance_suggest (n, w, L, suggested);
  if (n_heads != NULL)
    *n_heads = n;
  return TRUE;
}

gboolean
weft_dashboard_apply_suggested_weights (WeftDashboard *self, GError **error)
{
  g_return_val_if_fail (WEFT_IS_DASHBOARD (self), FALSE);
  float s[WEFT_MAX_HEADS];
  int n = 0;
  if (!weft_dashboard_suggest_weights (self, s, &n))
    {
      g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID,
                   _("Train at least a few batches of a model with two or more heads first"));
      return FALSE;
    }
  /* TRANSLATORS: undo history entry */
  const char *what = _("Apply suggested loss weights");
  /* one command for all heads: one undo restores every weight */
  return weft_document_set_head_weights (self->document,
                                         weft_graph_get_main_model (doc_graph (self)), s, n,
                                         what, error);
}

static void
suggest_clicked_cb (GtkButton *b, WeftDashboard *self)
{
  int n = 0;
  if (!weft_dashboard_suggest_weights (self, self->suggested, &n))
    {
      gtk_label_set_text (GTK_LABEL (self->suggest_label),
                          _("Train at least a few batches of a model with two or more heads "
                            "first."));
      gtk_widget_set_visible (self->apply_button, FALSE);
      return;
    }
  GString *s = g_string_new (_("Suggested:"));
  for (int j = 0; j < n; j++)
    g_string_append_printf (s, "%s %s %.4g", j > 0 ? "," : "", head_name (self, j),
                            self->suggested[j]);
  gtk_label_set_text (GTK_LABEL (self->suggest_label), s->str);
  g_string_free (s, TRUE);
  self->n_suggested = n;
  gtk_widget_set_visible (self->apply_button, TRUE);
}

static void
apply_clicked_cb (GtkButton *b, WeftDashboard *self)
{
  g_autoptr(GError) error = NULL;
  if (!weft_dashboard_apply_suggested_weights (self, &error))
    set_status (self, error->message);
  else
    gtk_label_set_text (GTK_LABEL (self->suggest_label),
                        _("Applied (undo restores the previous weights); train again to see "
                          "the effect."));
  gtk_widget_set_visible (self->apply_button, FALSE);
}

/* ---- chart controls and export --------------------------------------------------------- */

static void
x_changed_cb (GtkDropDown *dd, GParamSpec *pspec, WeftDashboard *self)
{
  weft_loss_chart_set_x_axis (WEFT_LOSS_CHART (self->chart),
                              gtk_drop_down_get_selected (dd) == 0 ? WEFT_CHART_X_STEP
                                                                   : WEFT_CHART_X_EPOCH);
}

static void
log_toggled_cb (GtkCheckButton *b, WeftDashboard *self)
{
  weft_loss_chart_set_log_scale (WEFT_LOSS_CHART (self->chart), gtk_check_button_get_active (b));
}

static void
val_toggled_cb (GtkCheckButton *b, WeftDashboard *self)
{
  weft_loss_chart_set_show_validation (WEFT_LOSS_CHART (self->chart),
                                       gtk_check_button_get_active (b));
}

static void
prev_toggled_cb (GtkCheckButton *b, WeftDashboard *self)
{
  weft_loss_chart_set_show_previous (WEFT_LOSS_CHART (self->chart),
                                     gtk_check_button_get_active (b));
}

static void
smoothing_cb (GtkRange *r, WeftDashboard *self)
{
  weft_loss_chart_set_smoothing (WEFT_LOSS_CHART (self->chart), gtk_range_get_value (r));
}

static void
reset_clicked_cb (GtkButton *b, WeftDashboard *self)
{
  weft_loss_chart_reset_view (WEFT_LOSS_CHART (self->chart));
}

typedef enum { EXPORT_CSV_EPOCHS, EXPORT_CSV_STEPS, EXPORT_PNG, EXPORT_SVG } ExportKind;

static void
export_response_cb (GtkNativeDialog *dialog, int response, WeftDashboard *self)
{
  ExportKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "kind"));
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;
      WeftLossChart *chart = WEFT_LOSS_CHART (self->chart);
      int w = MAX (gtk_widget_get_width (self->chart), 800);
      int h = MAX (gtk_widget_get_height (self->chart), 450);
      gboolean ok = kind == EXPORT_PNG ? weft_loss_chart_save_png (chart, path, w, h, &error)
                  : kind == EXPORT_SVG ? weft_loss_chart_save_svg (chart, path, w, h, &error)
                  : weft_loss_chart_save_csv (chart, path, kind == EXPORT_CSV_STEPS, &error);
      if (!ok)
        set_status (self, error->message);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
export (WeftDashboard *self, ExportKind kind)
{
  static const char *const names[] = { "history.csv", "history-steps.csv", "loss.png",
                                       "loss.svg" };
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *d =
    gtk_file_chooser_native_new (_("Export"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                 GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (d), names[kind]);
  g_object_set_data (G_OBJECT (d), "kind", GINT_TO_POINTER (kind));
  g_signal_connect (d, "response", G_CALLBACK (export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (d));
}

static void export_csv_cb (GtkButton *b, WeftDashboard *self) { export (self, EXPORT_CSV_EPOCHS); }
static void export_steps_cb (GtkButton *b, WeftDashboard *self) { export (self, EXPORT_CSV_STEPS); }
static void export_png_cb (GtkButton *b, WeftDashboard *self) { export (self, EXPORT_PNG); }
static void export_svg_cb (GtkButton *b, WeftDashboard *self) { export (self, EXPORT_SVG); }

/* ---- document -------------------------------------------------------------------------- */

static void
document_changed_cb (WeftDocument *doc, WeftDashboard *self)
{
  update_heads (self);
  update_model_io (self);
  weft_binding_panel_set_graph (WEFT_BINDING_PANEL (self->binding_panel), doc_graph (self));
  /* a load replaces the history: follow it unless a run is writing into ours */
  if (!weft_training_session_get_running (self->session))
    {
      choose_history (self, FALSE);
      update_metrics (self);
      gtk_widget_queue_draw (self->balance_area);
    }
  else if (self->history != weft_document_get_history (doc) && self->history != self->own_history)
    {
      /* the history being written was freed with the old content */
      weft_training_session_stop (self->session);
      weft_training_session_set_history (self->session, NULL);
      self->history = NULL;
      reset_balance_band (self);
      weft_loss_chart_set_history (WEFT_LOSS_CHART (self->chart), NULL);
    }
  update_buttons (self);
}

/* Shows the document's stored binding in the panel when the panel can express it. */
static void
load_document_binding (WeftDashboard *self)
{
  JsonNode *data = weft_document_get_file_meta (self->document)->data;
  GFile *file = weft_document_get_file (self->document);
  g_autoptr(GFile) dir = file != NULL ? g_file_get_parent (file) : NULL;
  g_autofree char *base = dir != NULL ? g_file_get_path (dir) : NULL;
  if (data != NULL)
    weft_binding_panel_load_json (WEFT_BINDING_PANEL (self->binding_panel), data, base);
}

void
weft_dashboard_set_document (WeftDashboard *self, WeftDocument *document)
{
  g_return_if_fail (WEFT_IS_DASHBOARD (self));
  g_return_if_fail (document == NULL || WEFT_IS_DOCUMENT (document));
  if (self->document == document)
    return;
  weft_training_session_stop (self->session);
  self->orphaned = weft_training_session_get_running (self->session);
  weft_training_session_reset (self->session);
  clear_share_history (self);
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  if (self->document != NULL)
    g_clear_signal_handler (&self->changed_id, self->document);
  weft_training_session_set_history (self->session, NULL);
  g_set_object (&self->document, document);
  g_clear_pointer (&self->own_history, weft_history_free);
  self->history = NULL;
  reset_balance_band (self);
  g_clear_pointer (&self->shown_heads_key, g_free);
  weft_loss_chart_set_history (WEFT_LOSS_CHART (self->chart), NULL);
  if (document != NULL)
    {
      self->changed_id = g_signal_connect (document, "changed",
                                           G_CALLBACK (document_changed_cb), self);
      weft_binding_panel_set_graph (WEFT_BINDING_PANEL (self->binding_panel), doc_graph (self));
      load_document_binding (self);
      weft_dashboard_set_config (self, weft_graph_get_train_config (doc_graph (self)));
      update_heads (self);
      choose_history (self, FALSE);
    }
  update_metrics (self);
  update_share (self);
  update_buttons (self);
  set_status (self, NULL);
}

WeftDocument *
weft_dashboard_get_document (WeftDashboard *self)
{
  g_return_val_if_fail (WEFT_IS_DASHBOARD (self), NULL);
  return self->document;
}

WeftHistory *
weft_dashboard_get_history (WeftDashboard *self)
{
  g_return_val_if_fail (WEFT_IS_DASHBOARD (self), NULL);
  return self->history;
}

WeftBindingPanel *
weft_dashboard_get_binding_panel (WeftDashboard *self)
{
  g_return_val_if_fail (WEFT_IS_DASHBOARD (self), NULL);
  return WEFT_BINDING_PANEL (self->binding_panel);
}

WeftLossChart *
weft_dashboard_get_chart (WeftDashboard *self)
{
  g_return_val_if_fail (WEFT_IS_DASHBOARD (self), NULL);
  return WEFT_LOSS_CHART (self->chart);
}

WeftTrainingSession *
weft_dashboard_get_session (WeftDashboard *self)
{
  g_return_val_if_fail (WEFT_IS_DASHBOARD (self), NULL);
  return self->session;
}

gboolean
weft_dashboard_get_can_train (WeftDashboard *self)
{
  g_return_val_if_fail (WEFT_IS_DASHBOARD (self), FALSE);
  return self->can_train;
}

const char *
weft_dashboard_get_train_blocked_reason (WeftDashboard *self)
{
  g_return_val_if_fail (WEFT_IS_DASHBOARD (self), NULL);
  return self->blocked_reason;
}

const char *
weft_dashboard_get_status (WeftDashboard *self)
{
  g_return_val_if_fail (WEFT_IS_DASHBOARD (self), NULL);
  return self->status;
}

/* ---- construction ---------------------------------------------------------------------- */

static GtkWidget *
button (const char *label, const char *a11y_label, GCallback cb, gpointer data)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (label);
  a11y (b, a11y_label);
  g_signal_connect (b, "clicked", cb, data);
  return b;
}

static GtkWidget *
check (const char *label, gboolean active, GCallback cb, gpointer data)
{
  GtkWidget *c = gtk_check_button_new_with_mnemonic (label);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (c), active);
  g_signal_connect (c, "toggled", cb, data);
  return c;
}

static GtkWidget *
build_settings (WeftDashboard *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_bottom (box, 12);

  gtk_box_append (GTK_BOX (box), heading (_("Data")));
  GtkStringList *sources = gtk_string_list_new (NULL);
  gtk_string_list_append (sources, _("Data file"));
  gtk_string_list_append (sources, _("Binding entries (several files)"));
  gtk_string_list_append (sources, _("The file’s data binding"));
  for (int i = 0; weft_synthetic_names[i] != NULL; i++)
    {
      g_autofree char *t = g_strdup_printf (_("Synthetic: %s"), weft_synthetic_names[i]);
      gtk_string_list_append (sources, t);
    }
  self->source_dropdown = gtk_drop_down_new (G_LIST_MODEL (sources), NULL);
  a11y (self->source_dropdown, _("Data source"));
  g_signal_connect (self->source_dropdown, "notify::selected", G_CALLBACK (source_changed_cb),
                    self);
  gtk_box_append (GTK_BOX (box), self->source_dropdown);
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
  self->samples_spin = spin (16, 10000000, 256, 0, _("Synthetic samples"));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->samples_spin), DEFAULT_SAMPLES);
  grid_row (grid, 0, _("Samples"), self->samples_spin);
  gtk_box_append (GTK_BOX (box), grid);
  self->binding_panel = weft_binding_panel_new ();
  g_signal_connect_swapped (self->binding_panel, "changed", G_CALLBACK (update_buttons), self);
  gtk_box_append (GTK_BOX (box), self->binding_panel);
  /* the text form stays for what one file cannot express: inputs from several files */
  self->binding_text_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append (GTK_BOX (self->binding_text_box),
                  explanation (_("Binding: one entry per line, NAME=FILE[:COLUMNS][:KEY=VALUE]…, "
                                 "where NAME is a model input or a head, e.g. "
                                 "“profile=people.csv:0-11” or “income=people.csv:income:"
                                 "type=one-hot”. Shapes are checked against the model before "
                                 "training starts.")));
  self->model_io_label = explanation ("");
  gtk_label_set_selectable (GTK_LABEL (self->model_io_label), TRUE);
  gtk_box_append (GTK_BOX (self->binding_text_box), self->model_io_label);
  self->binding_view = gtk_text_view_new ();
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (self->binding_view), TRUE);
  gtk_widget_set_size_request (self->binding_view, -1, 60);
  a11y (self->binding_view, _("Data binding entries"));
  GtkWidget *frame = gtk_frame_new (NULL);
  gtk_frame_set_child (GTK_FRAME (frame), self->binding_view);
  gtk_box_append (GTK_BOX (self->binding_text_box), frame);
  gtk_widget_set_visible (self->binding_text_box, FALSE);
  gtk_box_append (GTK_BOX (box), self->binding_text_box);

  gtk_box_append (GTK_BOX (box), heading (_("Heads")));
  self->heads_grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (self->heads_grid), 4);
  gtk_grid_set_column_spacing (GTK_GRID (self->heads_grid), 8);
  gtk_box_append (GTK_BOX (box), self->heads_grid);

  gtk_box_append (GTK_BOX (box), heading (_("Optimizer")));
  grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
  self->optimizer_dropdown = gtk_drop_down_new_from_strings (optimizer_labels);
  a11y (self->optimizer_dropdown, _("Optimizer"));
  grid_row (grid, 0, _("Optimizer"), self->optimizer_dropdown);
  self->lr_spin = spin (1e-6, 10, 1e-4, 6, _("Learning rate"));
  grid_row (grid, 1, _("Learning rate"), self->lr_spin);
  self->momentum_spin = spin (0, 0.999, 0.01, 3, _("Momentum"));
  grid_row (grid, 2, _("Momentum"), self->momentum_spin);
  g_signal_connect (self->optimizer_dropdown, "notify::selected",
                    G_CALLBACK (optimizer_changed_cb), self);
  self->batch_spin = spin (1, 65536, 1, 0, _("Batch size"));
  grid_row (grid, 3, _("Batch size"), self->batch_spin);
  self->epochs_spin = spin (1, 100000, 1, 0, _("Epochs"));
  grid_row (grid, 4, _("Epochs"), self->epochs_spin);
  self->val_spin = spin (0, 0.9, 0.05, 2, _("Validation split"));
  grid_row (grid, 5, _("Validation split"), self->val_spin);
  self->seed_spin = spin (0, 4294967295.0, 1, 0, _("Seed"));
  grid_row (grid, 6, _("Seed"), self->seed_spin);
  gtk_box_append (GTK_BOX (box), grid);

  WeftTrainConfig c;
  weft_train_config_defaults (&c);
  weft_dashboard_set_config (self, &c);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->source_dropdown), SOURCE_SYNTHETIC_FIRST);
  return box;
}

static GtkWidget *
build_main (WeftDashboard *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 12);

  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->train_button = gtk_button_new_with_mnemonic (_("_Train"));
  a11y (self->train_button, _("Train model"));
  g_signal_connect_swapped (self->train_button, "clicked", G_CALLBACK (weft_dashboard_train), self);
  gtk_widget_add_css_class (self->train_button, "suggested-action");
  self->stop_button = gtk_button_new_with_mnemonic (_("_Stop"));
  a11y (self->stop_button, _("Stop training"));
  g_signal_connect_swapped (self->stop_button, "clicked", G_CALLBACK (weft_dashboard_stop), self);
  self->continue_button = gtk_button_new_with_mnemonic (_("C_ontinue"));
  a11y (self->continue_button, _("Continue training"));
  g_signal_connect_swapped (self->continue_button, "clicked",
                            G_CALLBACK (weft_dashboard_continue), self);
  gtk_box_append (GTK_BOX (row), self->train_button);
  gtk_box_append (GTK_BOX (row), self->stop_button);
  gtk_box_append (GTK_BOX (row), self->continue_button);
  self->progress_bar = gtk_progress_bar_new ();
  a11y (self->progress_bar, _("Training progress"));
  gtk_widget_set_hexpand (self->progress_bar, TRUE);
  gtk_widget_set_valign (self->progress_bar, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (row), self->progress_bar);
  gtk_box_append (GTK_BOX (box), row);

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->status_line = gtk_inscription_new (NULL);
  gtk_inscription_set_text_overflow (GTK_INSCRIPTION (self->status_line),
                                     GTK_INSCRIPTION_OVERFLOW_ELLIPSIZE_END);
  gtk_inscription_set_min_chars (GTK_INSCRIPTION (self->status_line), 20);
  gtk_inscription_set_nat_chars (GTK_INSCRIPTION (self->status_line), STATUS_LINE_CHARS);
  gtk_inscription_set_min_lines (GTK_INSCRIPTION (self->status_line), 1);
  gtk_inscription_set_xalign (GTK_INSCRIPTION (self->status_line), 0);
  gtk_widget_add_css_class (self->status_line, "numeric");
  gtk_widget_set_hexpand (self->status_line, TRUE);
  gtk_box_append (GTK_BOX (row), self->status_line);
  self->store_button = button (_("Store _Weights Anyway"), _("Store the trained weights anyway"),
                               G_CALLBACK (store_clicked_cb), self);
  gtk_widget_set_visible (self->store_button, FALSE);
  gtk_box_append (GTK_BOX (row), self->store_button);
  gtk_box_append (GTK_BOX (box), row);
  self->status_label = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->status_label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->status_label), TRUE);
  a11y (self->status_label, _("Training status"));
  gtk_widget_set_visible (self->status_label, FALSE);
  gtk_box_append (GTK_BOX (box), self->status_label);

  /* chart controls */
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  const char *xs[] = { N_("By step"), N_("By epoch"), NULL };
  const char *xs_t[3] = { _(xs[0]), _(xs[1]), NULL };
  self->x_dropdown = gtk_drop_down_new_from_strings (xs_t);
  a11y (self->x_dropdown, _("Horizontal axis"));
  g_signal_connect (self->x_dropdown, "notify::selected", G_CALLBACK (x_changed_cb), self);
  gtk_box_append (GTK_BOX (row), self->x_dropdown);
  self->log_check = check (_("_Log scale"), FALSE, G_CALLBACK (log_toggled_cb), self);
  a11y (self->log_check, _("Logarithmic loss axis"));
  gtk_box_append (GTK_BOX (row), self->log_check);
  self->val_check = check (_("_Validation"), TRUE, G_CALLBACK (val_toggled_cb), self);
  a11y (self->val_check, _("Show validation curves"));
  gtk_box_append (GTK_BOX (row), self->val_check);
  self->prev_check = check (_("_Previous run"), TRUE, G_CALLBACK (prev_toggled_cb), self);
  a11y (self->prev_check, _("Show the previous run"));
  gtk_box_append (GTK_BOX (row), self->prev_check);
  gtk_box_append (GTK_BOX (box), row);
  /* a second row keeps the pane narrow enough to sit beside the settings */
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *sl = gtk_label_new (_("Smoothing"));
  gtk_box_append (GTK_BOX (row), sl);
  self->smoothing_scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 0.99, 0.01);
  gtk_widget_set_size_request (self->smoothing_scale, 120, -1);
  gtk_widget_set_hexpand (self->smoothing_scale, TRUE);
  a11y (self->smoothing_scale, _("Smoothing"));
  g_signal_connect (self->smoothing_scale, "value-changed", G_CALLBACK (smoothing_cb), self);
  gtk_box_append (GTK_BOX (row), self->smoothing_scale);
  gtk_box_append (GTK_BOX (row), button (_("_Reset Zoom"), _("Reset zoom"),
                                         G_CALLBACK (reset_clicked_cb), self));
  GtkWidget *menu_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_box_append (GTK_BOX (menu_box), button (_("Epochs as CSV…"), _("Export epochs as CSV"),
                                              G_CALLBACK (export_csv_cb), self));
  gtk_box_append (GTK_BOX (menu_box), button (_("Steps as CSV…"), _("Export steps as CSV"),
                                              G_CALLBACK (export_steps_cb), self));
  gtk_box_append (GTK_BOX (menu_box), button (_("Chart as PNG…"), _("Export the chart as PNG"),
                                              G_CALLBACK (export_png_cb), self));
  gtk_box_append (GTK_BOX (menu_box), button (_("Chart as SVG…"), _("Export the chart as SVG"),
                                              G_CALLBACK (export_svg_cb), self));
  GtkWidget *popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (popover), menu_box);
  GtkWidget *export_button = gtk_menu_button_new ();
  gtk_menu_button_set_label (GTK_MENU_BUTTON (export_button), _("Export"));
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (export_button), popover);
  a11y (export_button, _("Export curves"));
  gtk_box_append (GTK_BOX (row), export_button);
  gtk_box_append (GTK_BOX (box), row);

  self->legend_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_append (GTK_BOX (box), self->legend_box);
  self->chart = weft_loss_chart_new ();
  gtk_widget_set_vexpand (self->chart, TRUE);
  gtk_widget_set_size_request (self->chart, -1, CHART_MIN_HEIGHT);
  gtk_box_append (GTK_BOX (box), self->chart);

  gtk_box_append (GTK_BOX (box), heading (_("Per head (last epoch)")));
  self->metrics_grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->metrics_grid), 16);
  gtk_box_append (GTK_BOX (box), self->metrics_grid);

  gtk_box_append (GTK_BOX (box), heading (_("Loss balance")));
  gtk_box_append (GTK_BOX (box),
                  explanation (_("Each head’s share of the weighted total loss over the steps "
                                 "of this run (weight × loss ÷ total). A head that fills the "
                                 "band is the one the model serves; the others barely steer "
                                 "the shared layers.")));
  self->balance_area = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->balance_area), 48);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->balance_area), draw_balance, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->balance_area),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Loss balance band"), -1);
  gtk_box_append (GTK_BOX (box), self->balance_area);
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (row), button (_("_Suggest Weights"), _("Suggest loss weights"),
                                         G_CALLBACK (suggest_clicked_cb), self));
  self->apply_button = button (_("_Apply"), _("Apply the suggested loss weights"),
                               G_CALLBACK (apply_clicked_cb), self);
  gtk_widget_set_visible (self->apply_button, FALSE);
  gtk_box_append (GTK_BOX (row), self->apply_button);
  self->suggest_label = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->suggest_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->suggest_label), TRUE);
  gtk_box_append (GTK_BOX (row), self->suggest_label);
  gtk_box_append (GTK_BOX (box), row);
  {
    g_autofree char *rule =
      g_strdup_printf (_("Rule: each head’s weight becomes proportional to 1 ÷ its mean "
                         "unweighted loss over the last %d steps, scaled so the weights keep "
                         "their current sum. Then every head contributes the same part of the "
                         "total."), SUGGEST_WINDOW);
    gtk_box_append (GTK_BOX (box), explanation (rule));
  }

  gtk_box_append (GTK_BOX (box), heading (_("Gradient share of shared layers")));
  /* The explanation is there before the first epoch: drawing its long text for the first time
   * in a frame while training cost that frame ~1,800 page faults and 35-45 ms of main-thread
   * CPU with GL on llvmpipe (the epoch's only other change there is a short line). */
  GtkWidget *share_about = explanation (_("Measured on one batch after each epoch: each band is "
                                          "a layer shared by several heads, split by each "
                                          "head’s part of the gradient norm reaching it."));
  gtk_label_set_max_width_chars (GTK_LABEL (share_about), 100);   /* two lines, not four */
  gtk_box_append (GTK_BOX (box), share_about);
  self->share_label = explanation ("");
  gtk_box_append (GTK_BOX (box), self->share_label);
  self->share_area = gtk_drawing_area_new ();
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->share_area), draw_share, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->share_area),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Gradient share bars"), -1);
  gtk_box_append (GTK_BOX (box), self->share_area);
  return box;
}

static void
weft_dashboard_dispose (GObject *object)
{
  WeftDashboard *self = WEFT_DASHBOARD (object);

  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  if (self->session != NULL)
    {
      weft_training_session_stop (self->session);
      weft_training_session_set_history (self->session, NULL);
      g_signal_handlers_disconnect_by_data (self->session, self);
    }
  if (self->document != NULL)
    g_clear_signal_handler (&self->changed_id, self->document);
  g_clear_object (&self->document);
  if (self->chart != NULL)
    weft_loss_chart_set_history (WEFT_LOSS_CHART (self->chart), NULL);
  g_clear_pointer (&self->paned, gtk_widget_unparent);
  self->chart = NULL;
  G_OBJECT_CLASS (weft_dashboard_parent_class)->dispose (object);
}

static void
weft_dashboard_finalize (GObject *object)
{
  WeftDashboard *self = WEFT_DASHBOARD (object);

  /* A running session keeps itself alive until its worker ends; it no longer points here. */
  g_clear_object (&self->session);
  g_clear_object (&self->load_cancellable);
  g_clear_pointer (&self->own_history, weft_history_free);
  g_clear_pointer (&self->status, g_free);
  g_clear_pointer (&self->blocked_reason, g_free);
  g_clear_pointer (&self->shown_heads_key, g_free);
  g_clear_pointer (&self->share_history, g_array_unref);
  g_clear_pointer (&self->balance_band, weft_loss_balance_band_free);

  G_OBJECT_CLASS (weft_dashboard_parent_class)->finalize (object);
}

static void
weft_dashboard_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  WeftDashboard *self = WEFT_DASHBOARD (object);

  switch (prop_id)
    {
    case PROP_CAN_TRAIN:
      g_value_set_boolean (value, self->can_train);
      break;
    case PROP_TRAIN_BLOCKED_REASON:
      g_value_set_string (value, self->blocked_reason);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
weft_dashboard_class_init (WeftDashboardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = weft_dashboard_dispose;
  object_class->finalize = weft_dashboard_finalize;
  object_class->get_property = weft_dashboard_get_property;
  properties[PROP_CAN_TRAIN] =
    g_param_spec_boolean ("can-train", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TRAIN_BLOCKED_REASON] =
    g_param_spec_string ("train-blocked-reason", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "weft-dashboard");
}

static void
weft_dashboard_init (WeftDashboard *self)
{
  self->session = weft_training_session_new ();
  self->metric_rows = -1;
  self->share_history = g_array_new (FALSE, FALSE, sizeof (WeftGradientShare));
  self->share_last_epoch = -1;
  self->balance_band = weft_loss_balance_band_new ();
  g_signal_connect (self->session, "progress", G_CALLBACK (progress_cb), self);
  g_signal_connect (self->session, "epoch", G_CALLBACK (epoch_cb), self);
  g_signal_connect (self->session, "finished", G_CALLBACK (finished_cb), self);
  g_signal_connect (self->session, "notify::running", G_CALLBACK (running_notify_cb), self);

  self->paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  /* Both sides scroll either way: the dashboard often gets only a strip of the window. */
  GtkWidget *left = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (left), GTK_POLICY_AUTOMATIC,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (left), build_settings (self));
  GtkWidget *right = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (right), GTK_POLICY_AUTOMATIC,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (right), build_main (self));
  gtk_paned_set_start_child (GTK_PANED (self->paned), left);
  gtk_paned_set_end_child (GTK_PANED (self->paned), right);
  gtk_paned_set_resize_start_child (GTK_PANED (self->paned), FALSE);
  /* room for the heads' loss and weight and the binding rows' two drop-downs */
  gtk_paned_set_position (GTK_PANED (self->paned), 400);
  gtk_widget_set_parent (self->paned, GTK_WIDGET (self));

  update_metrics (self);
  update_share (self);
  update_buttons (self);
}

GtkWidget *
weft_dashboard_new (void)
{
  return g_object_new (WEFT_TYPE_DASHBOARD, NULL);
}
