/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Widget tests of WeftDashboard in a real window (Xvfb in CI): train, stop, continue, the
 * chart rendered with every head, weights stored into the document, suggested weights as
 * undoable edits, a model edited during training. */
#include "weft-dashboard.h"
#include "weft-data-source.h"
#include "weft-npy.h"
#include "weft-test-graphs.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#define REL_TOL 1e-4

typedef struct
{
  GtkWidget     *window;
  WeftDashboard *dash;
  WeftDocument  *doc;
  int            finished;
  int            epochs;
  gboolean       edit_on_epoch;
  gboolean       switch_on_epoch;
} Fixture;

static void
finished_cb (WeftTrainingSession *s, const char *text, Fixture *f)
{
  f->finished++;
}

static void
epoch_cb (WeftTrainingSession *s, int epoch, Fixture *f)
{
  f->epochs++;
  if (f->switch_on_epoch && f->epochs == 1)
    {
      /* the window opens another file while training runs */
      g_autoptr(WeftDocument) other = weft_document_new_for_graph (tg_mlp (), NULL);
      weft_dashboard_set_document (f->dash, other);
      return;
    }
  if (f->edit_on_epoch && f->epochs == 1)
    {
      /* an edit of the model while the worker trains its copy */
      WeftGraph *g = weft_document_get_graph (f->doc);
      WeftHead h = *weft_graph_model_output (g, weft_graph_get_main_model (g), 0);
      h.weight = 0.5f;
      g_assert_true (weft_document_set_head (f->doc, 0, &h, "Change loss weight", NULL));
      weft_training_session_stop (s);
    }
}

static gboolean
count_frames (GtkWidget *w, GdkFrameClock *c, gpointer p)
{
  return ++*(int *) p < 2;
}

static gboolean
flag (gpointer p)
{
  *(gboolean *) p = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wait_frames (GtkWidget *widget)
{
  int frames = 0;
  gboolean timed_out = FALSE;
  gtk_widget_add_tick_callback (widget, count_frames, &frames, NULL);
  guint id = g_timeout_add (5000, flag, &timed_out);
  while (frames < 2 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

static void
wait_finished (Fixture *f, int count)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (120, flag, &timed_out);
  while (f->finished < count && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

static GtkWidget *
find_button (GtkWidget *root, const char *label)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), label) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *r = find_button (c, label);
      if (r != NULL)
        return r;
    }
  return NULL;
}

/* A visible label showing exactly text. */
static GtkWidget *
find_label (GtkWidget *root, const char *text)
{
  if (GTK_IS_LABEL (root) && gtk_widget_get_visible (root)
      && g_strcmp0 (gtk_label_get_text (GTK_LABEL (root)), text) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *r = find_label (c, text);
      if (r != NULL)
        return r;
    }
  return NULL;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  memset (f, 0, sizeof *f);
  WeftGraph *g = tg_three_heads ();
  WeftTrainConfig c;
  weft_train_config_defaults (&c);
  weft_optim_config_defaults (WEFT_OPTIM_ADAM, &c.optimizer);
  c.epochs = 3;
  c.batch_size = 32;
  c.validation_split = 0.2f;
  c.seed = 4;
  c.threads = 1;
  g_strlcpy (c.data, "synthetic:three-heads", sizeof c.data);
  weft_graph_set_train_config (g, &c);
  weft_graph_analyse (g);
  f->doc = weft_document_new_for_graph (g, NULL);
  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1200, 800);
  f->dash = WEFT_DASHBOARD (weft_dashboard_new ());
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (f->dash));
  weft_dashboard_set_document (f->dash, f->doc);
  WeftTrainingSession *s = weft_dashboard_get_session (f->dash);
  g_signal_connect (s, "finished", G_CALLBACK (finished_cb), f);
  g_signal_connect (s, "epoch", G_CALLBACK (epoch_cb), f);
  gtk_window_present (GTK_WINDOW (f->window));
  wait_frames (GTK_WIDGET (f->dash));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  if (f->window != NULL)   /* NULL: a test destroyed it */
    {
      g_signal_handlers_disconnect_by_data (weft_dashboard_get_session (f->dash), f);
      gtk_window_destroy (GTK_WINDOW (f->window));
    }
  g_assert_finalize_object (f->doc);
}

static int
count_color (const guchar *px, int w, int h, int head)
{
  double rgb[3];
  weft_chart_head_color (head, FALSE, rgb);
  int n = 0;
  for (int i = 0; i < w * h; i++)
    {
      guint32 v = ((const guint32 *) px)[i];
      if (abs ((int) ((v >> 16) & 0xff) - (int) (rgb[0] * 255)) <= 40
          && abs ((int) ((v >> 8) & 0xff) - (int) (rgb[1] * 255)) <= 40
          && abs ((int) (v & 0xff) - (int) (rgb[2] * 255)) <= 40)
        n++;
    }
  return n;
}

static guchar *
render (GtkWidget *widget, int *w, int *h, const char *png)
{
  wait_frames (widget);
  *w = gtk_widget_get_width (widget);
  *h = gtk_widget_get_height (widget);
  GdkPaintable *p = gtk_widget_paintable_new (widget);
  GtkSnapshot *s = gtk_snapshot_new ();
  gdk_paintable_snapshot (p, s, *w, *h);
  GskRenderNode *node = gtk_snapshot_free_to_node (s);
  g_assert_nonnull (node);
  GskRenderer *r = gtk_native_get_renderer (gtk_widget_get_native (widget));
  GdkTexture *tex = gsk_renderer_render_texture (r, node, &GRAPHENE_RECT_INIT (0, 0, *w, *h));
  if (png != NULL)
    gdk_texture_save_to_png (tex, png);
  guchar *px = g_malloc ((gsize) *w * *h * 4);
  gdk_texture_download (tex, px, *w * 4);
  g_object_unref (tex);
  gsk_render_node_unref (node);
  g_object_unref (p);
  return px;
}

/* Train button -> three epochs in the history, every head on the chart, weights stored;
 * Continue -> three more in the same run. */
static void
test_train_and_continue (Fixture *f, gconstpointer data)
{
  GtkWidget *train = find_button (GTK_WIDGET (f->dash), "_Train");
  GtkWidget *cont = find_button (GTK_WIDGET (f->dash), "C_ontinue");
  g_assert_nonnull (train);
  g_assert_nonnull (cont);
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (train), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Train model");
  g_assert_false (gtk_widget_get_sensitive (cont));
  g_signal_emit_by_name (train, "clicked");
  wait_finished (f, 1);
  g_assert_true (g_str_has_prefix (weft_dashboard_get_status (f->dash), "Trained 3 epochs"));
  WeftHistory *h = weft_dashboard_get_history (f->dash);
  g_assert_nonnull (h);
  g_assert_cmpint (weft_history_n_heads (h), ==, 3);
  g_assert_cmpuint (weft_history_n_epochs (h), ==, 3);
  g_assert_cmpuint (weft_history_n_steps (h), >, 3 * 20);

  /* age (mse in years^2) dwarfs the others on a linear axis: the log axis shows all three */
  weft_loss_chart_set_log_scale (weft_dashboard_get_chart (f->dash), TRUE);
  g_autofree char *png = g_build_filename (g_get_tmp_dir (), "weft-dashboard-test.png", NULL);
  int w, hh;
  g_autofree guchar *px = render (GTK_WIDGET (weft_dashboard_get_chart (f->dash)), &w, &hh, png);
  for (int j = 0; j < 3; j++)
    g_assert_cmpint (count_color (px, w, hh, j), >, 30);

  /* trained weights went into the document's graph */
  WeftGraph *g = weft_document_get_graph (f->doc);
  int n = 0;
  const WeftWeight *wt = weft_graph_layer_weights (g, weft_graph_find (g, "age"), &n);
  g_assert_cmpint (n, ==, 2);
  g_assert_nonnull (wt[0].data);

  g_assert_true (gtk_widget_get_sensitive (cont));
  g_signal_emit_by_name (cont, "clicked");
  wait_finished (f, 2);
  g_assert_cmpuint (weft_history_n_epochs (h), ==, 6);
  g_assert_cmpint (weft_history_n_runs (h), ==, 1);

  /* Train again: a new run, the old one shown as "previous" */
  g_signal_emit_by_name (train, "clicked");
  wait_finished (f, 3);
  g_assert_cmpint (weft_history_n_runs (h), ==, 2);

  /* the whole dashboard, for a look (not compared) */
  g_autofree char *full = g_build_filename (g_get_tmp_dir (), "weft-dashboard-full.png", NULL);
  g_autofree guchar *all = render (GTK_WIDGET (f->dash), &w, &hh, full);
  g_assert_cmpint (w, >, 0);
}

/* Suggested weights equalise the recent contributions, as undoable document edits. */
static void
test_suggest_weights (Fixture *f, gconstpointer data)
{
  float s[WEFT_MAX_HEADS];
  int n = 0;
  g_assert_false (weft_dashboard_suggest_weights (f->dash, s, &n));
  weft_dashboard_train (f->dash);
  wait_finished (f, 1);
  g_assert_true (weft_dashboard_suggest_weights (f->dash, s, &n));
  g_assert_cmpint (n, ==, 3);
  g_autoptr(GError) error = NULL;
  g_assert_true (weft_dashboard_apply_suggested_weights (f->dash, &error));
  g_assert_no_error (error);
  WeftGraph *g = weft_document_get_graph (f->doc);
  WeftId m = weft_graph_get_main_model (g);
  double sum = 0;
  for (int j = 0; j < 3; j++)
    {
      g_assert_cmpfloat (fabs (weft_graph_model_output (g, m, j)->weight - s[j]), <=,
                         REL_TOL * s[j]);
      sum += s[j];
    }
  g_assert_cmpfloat (fabs (sum - 11.25), <=, REL_TOL * 11.25);   /* 0.25 + 1 + 10 kept */
  g_assert_true (weft_document_can_undo (f->doc));
  g_assert_cmpstr (weft_document_get_undo_name (f->doc), ==, "Apply suggested loss weights");
  /* one entry for all heads: one undo restores every weight */
  g_assert_true (weft_document_undo (f->doc));
  g_assert_false (weft_document_can_undo (f->doc));
  g = weft_document_get_graph (f->doc);
  g_assert_cmpfloat (weft_graph_model_output (g, m, 0)->weight, ==, 0.25f);
  g_assert_cmpfloat (weft_graph_model_output (g, m, 1)->weight, ==, 1.0f);
  g_assert_cmpfloat (weft_graph_model_output (g, m, 2)->weight, ==, 10.0f);
  g_assert_true (weft_document_redo (f->doc));
  g = weft_document_get_graph (f->doc);
  for (int j = 0; j < 3; j++)
    g_assert_cmpfloat (fabs (weft_graph_model_output (g, m, j)->weight - s[j]), <=,
                       REL_TOL * s[j]);
}

/* Trained weights and the run's settings make the document unsaved; saving makes it clean,
 * a later run makes it unsaved again. */
static void
test_training_marks_dirty (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("weft-dash-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "trained.weft", NULL);
  g_autofree char *weights = weft_file_weights_path (path);
  g_autoptr(GFile) file = g_file_new_for_path (path);

  g_assert_false (weft_document_get_dirty (f->doc));
  weft_dashboard_train (f->dash);
  wait_finished (f, 1);
  g_assert_true (weft_document_get_dirty (f->doc));
  g_assert_false (weft_document_can_undo (f->doc));   /* not an edit of the model */
  g_assert_true (weft_document_save (f->doc, file, &error));
  g_assert_no_error (error);
  g_assert_false (weft_document_get_dirty (f->doc));

  /* Continue: more rows in the history, weights stored again */
  weft_dashboard_continue (f->dash);
  wait_finished (f, 2);
  g_assert_true (weft_document_get_dirty (f->doc));
  g_assert_true (weft_document_save (f->doc, file, &error));

  /* a new run with changed settings: they are the graph's, and the document is unsaved */
  WeftTrainConfig c;
  weft_dashboard_get_config (f->dash, &c);
  c.epochs = 2;
  c.optimizer.learning_rate = 0.002f;
  weft_dashboard_set_config (f->dash, &c);
  weft_dashboard_train (f->dash);
  /* the data are generated on a worker first; the run starts after */
  WeftTrainingSession *s = weft_dashboard_get_session (f->dash);
  while (!weft_training_session_get_running (s) && f->finished < 3)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (weft_document_get_dirty (f->doc));
  g_assert_cmpint (weft_graph_get_train_config (weft_document_get_graph (f->doc))->epochs, ==, 2);
  wait_finished (f, 3);
  g_assert_true (weft_document_get_dirty (f->doc));
  g_unlink (path);
  g_unlink (weights);
  g_rmdir (dir);
}

/* A copy of an example (no history of its own, as the gallery opens it): the run's history
 * becomes the document's, is saved with it, read back by weft_file_load and shown again
 * when the file is reopened; a new run is appended as a second run. */
static void
test_history_saved_with_example_copy (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *src = g_getenv ("WEFT_SOURCE_DIR");
  g_assert_nonnull (src);
  g_autofree char *example = g_build_filename (src, "resources", "examples", "three-heads.weft",
                                               NULL);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (example, &text, &len, &error));
  WeftHistory *history = NULL;
  WeftFileMeta meta = { 0 };
  WeftGraph *graph = weft_file_load_data_full (text, len, NULL, &history, &meta, &error);
  g_assert_no_error (error);
  g_assert_nonnull (graph);
  g_assert_null (history);   /* else this would not test the case */
  WeftDocument *copy = weft_document_new_for_graph (graph, NULL);
  weft_document_set_file_meta (copy, &meta);
  weft_file_meta_clear (&meta);
  weft_dashboard_set_document (f->dash, copy);
  g_assert_finalize_object (f->doc);
  f->doc = copy;
  g_assert_null (weft_document_get_history (copy));

  WeftTrainConfig c;
  weft_dashboard_get_config (f->dash, &c);
  c.epochs = 3;
  c.batch_size = 32;
  c.threads = 1;
  c.seed = 4;
  g_strlcpy (c.data, "synthetic:three-heads", sizeof c.data);
  weft_dashboard_set_config (f->dash, &c);
  weft_dashboard_train (f->dash);
  wait_finished (f, 1);
  g_assert_true (g_str_has_prefix (weft_dashboard_get_status (f->dash), "Trained 3 epochs"));
  WeftHistory *h = weft_dashboard_get_history (f->dash);
  g_assert_nonnull (h);
  g_assert_true (weft_document_get_history (copy) == h);
  g_assert_cmpuint (weft_history_n_epochs (h), ==, 3);
  g_assert_true (weft_document_get_dirty (copy));
  size_t steps = weft_history_n_steps (h);

  g_autofree char *dir = g_dir_make_tmp ("weft-dash-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "three-heads-copy.weft", NULL);
  g_autofree char *weights = weft_file_weights_path (path);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_assert_true (weft_document_save (copy, file, &error));
  g_assert_no_error (error);
  g_assert_false (weft_document_get_dirty (copy));

  WeftHistory *read = NULL;
  WeftGraph *loaded = weft_file_load (path, &read, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  g_assert_nonnull (read);
  g_assert_cmpint (weft_history_n_heads (read), ==, 3);
  WeftId m = weft_graph_get_main_model (loaded);
  for (int j = 0; j < 3; j++)
    g_assert_cmpstr (weft_history_head_name (read, j), ==,
                     weft_graph_model_output_name (loaded, m, j));
  g_assert_cmpint (weft_history_n_runs (read), ==, 1);
  g_assert_cmpuint (weft_history_n_epochs (read), ==, 3);
  g_assert_cmpuint (weft_history_n_steps (read), ==, steps);
  WeftHistoryEpoch ep;
  g_assert_true (weft_history_get_epoch (read, 2, &ep));
  g_assert_cmpint (ep.epoch, ==, 2);
  for (int j = 0; j < 3; j++)
    g_assert_true (isfinite (ep.loss[j]));
  weft_history_free (read);
  weft_graph_free (loaded);

  /* reopened in another document: the dashboard shows the saved curves */
  WeftDocument *reopened = weft_document_new ();
  g_assert_true (weft_document_load (reopened, file, &error));
  g_assert_no_error (error);
  weft_dashboard_set_document (f->dash, reopened);
  g_assert_finalize_object (copy);
  f->doc = reopened;
  h = weft_dashboard_get_history (f->dash);
  g_assert_true (h == weft_document_get_history (reopened));
  g_assert_cmpuint (weft_history_n_epochs (h), ==, 3);
  g_assert_cmpint (weft_history_n_runs (h), ==, 1);
  wait_frames (GTK_WIDGET (f->dash));
  WeftLossChart *chart = weft_dashboard_get_chart (f->dash);
  for (int j = -1; j < 3; j++)
    {
      WeftLossSeries *series = weft_loss_chart_get_series (chart, j, FALSE);
      g_assert_nonnull (series);
      g_assert_cmpuint (weft_loss_series_get_n_points (series), >, 0);
    }

  /* a new run on the reopened file is appended and saved as the second run */
  weft_dashboard_set_config (f->dash, &c);
  weft_dashboard_train (f->dash);
  wait_finished (f, 2);
  g_assert_cmpint (weft_history_n_runs (h), ==, 2);
  g_assert_cmpuint (weft_history_n_epochs (h), ==, 6);
  g_assert_true (weft_document_save (reopened, file, &error));
  g_assert_no_error (error);
  loaded = weft_file_load (path, &read, &error);
  g_assert_no_error (error);
  g_assert_cmpint (weft_history_n_runs (read), ==, 2);
  g_assert_cmpuint (weft_history_n_epochs (read), ==, 6);
  weft_history_free (read);
  weft_graph_free (loaded);

  g_unlink (path);
  g_unlink (weights);
  g_rmdir (dir);
}

/* An edit of the model during training: the weights are not stored, the user is asked. */
static void
test_edit_during_training (Fixture *f, gconstpointer data)
{
  WeftTrainConfig c;
  weft_dashboard_get_config (f->dash, &c);
  c.epochs = 500;
  weft_dashboard_set_config (f->dash, &c);
  f->edit_on_epoch = TRUE;
  weft_dashboard_train (f->dash);
  wait_finished (f, 1);
  g_assert_nonnull (strstr (weft_dashboard_get_status (f->dash), "edited during training"));
  /* longer than the status line: also shown whole (wrapped, selectable) below it */
  g_assert_nonnull (find_label (GTK_WIDGET (f->dash), weft_dashboard_get_status (f->dash)));
  GtkWidget *store = find_button (GTK_WIDGET (f->dash), "Store _Weights Anyway");
  g_assert_true (gtk_widget_get_visible (store));
  g_signal_emit_by_name (store, "clicked");
  g_assert_false (gtk_widget_get_visible (store));
}

/* Another document while training: the run stops, its weights are neither stored nor offered
 * and cannot be continued on the new model. */
static void
test_switch_document_while_training (Fixture *f, gconstpointer data)
{
  WeftTrainConfig c;
  weft_dashboard_get_config (f->dash, &c);
  c.epochs = 500;
  weft_dashboard_set_config (f->dash, &c);
  f->switch_on_epoch = TRUE;
  weft_dashboard_train (f->dash);
  wait_finished (f, 1);
  WeftTrainingSession *s = weft_dashboard_get_session (f->dash);
  g_assert_false (weft_training_session_get_can_continue (s));
  GtkWidget *store = find_button (GTK_WIDGET (f->dash), "Store _Weights Anyway");
  g_assert_false (gtk_widget_get_visible (store));
  GtkWidget *cont = find_button (GTK_WIDGET (f->dash), "C_ontinue");
  g_assert_false (gtk_widget_get_sensitive (cont));
  /* the original document kept its untrained weights */
  WeftGraph *g = weft_document_get_graph (f->doc);
  int n = 0;
  const WeftWeight *w = weft_graph_layer_weights (g, weft_graph_find (g, "age"), &n);
  g_assert_null (w[0].data);
  weft_dashboard_set_document (f->dash, f->doc);
}

/* A data source that does not fit the model is explained, nothing runs. */
static void
test_bad_source (Fixture *f, gconstpointer data)
{
  WeftTrainConfig c;
  weft_dashboard_get_config (f->dash, &c);
  g_strlcpy (c.data, "synthetic:siamese-pairs", sizeof c.data);
  weft_dashboard_set_config (f->dash, &c);
  weft_dashboard_train (f->dash);
  /* the data are generated on a worker: wait for the answer */
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (30, flag, &timed_out);
  while (strstr (weft_dashboard_get_status (f->dash), "siamese-pairs") == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  g_assert_nonnull (strstr (weft_dashboard_get_status (f->dash), "does not fit"));
  g_assert_false (weft_training_session_get_running (weft_dashboard_get_session (f->dash)));
}

/* ---- data binding panel ------------------------------------------------------------------ */

#define BIND_ROWS 120

/* A CSV for the three-heads model: profile_0..11, posts_0..19, age, income (ten named
 * classes), gender (0/1), with a header line. */
static char *
write_three_heads_csv_full (gboolean header)
{
  g_autofree char *dir = g_dir_make_tmp ("weft-binding-XXXXXX", NULL);
  char *path = g_build_filename (dir, "people.csv", NULL);
  GString *s = g_string_new (NULL);
  for (int i = 0; i < 12 && header; i++)
    g_string_append_printf (s, "profile_%d,", i);
  for (int i = 0; i < 20 && header; i++)
    g_string_append_printf (s, "posts_%d,", i);
  if (header)
    g_string_append (s, "age,income,gender\n");
  GRand *r = g_rand_new_with_seed (9);
  for (int row = 0; row < BIND_ROWS; row++)
    {
      for (int i = 0; i < 32; i++)
        g_string_append_printf (s, "%.3f,", g_rand_double (r));
      g_string_append_printf (s, "%d,band_%c,%d\n", 20 + row % 50, 'a' + row % 10, row % 2);
    }
  g_rand_free (r);
  g_assert_true (g_file_set_contents (path, s->str, s->len, NULL));
  g_string_free (s, TRUE);
  return path;
}

static char *
write_three_heads_csv (void)
{
  return write_three_heads_csv_full (TRUE);
}

static void
remove_file_and_dir (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_remove (path);
  g_rmdir (dir);
}

static char *
item_text (GtkDropDown *dd, guint i)
{
  GListModel *m = gtk_drop_down_get_model (dd);
  g_autoptr(GtkStringObject) o = g_list_model_get_item (m, i);
  return g_strdup (gtk_string_object_get_string (o));
}

static int
row_of (WeftBindingPanel *p, const char *name)
{
  for (int i = 0; i < weft_binding_panel_n_rows (p); i++)
    if (strcmp (weft_binding_panel_row_name (p, i), name) == 0)
      return i;
  g_assert_not_reached ();
}

static gboolean
row_error (WeftBindingPanel *p, const char *name, const char *contains)
{
  gboolean error = FALSE;
  const char *t = weft_binding_panel_row_message (p, row_of (p, name), &error);
  if (contains != NULL && strstr (t, contains) == NULL)
    g_error ("row %s: message “%s” lacks “%s”", name, t, contains);
  return error;
}

/* The data source drop-down: the first one beside the panel (item 0: a data file). */
static GtkDropDown *
source_dropdown (WeftBindingPanel *p)
{
  for (GtkWidget *w = gtk_widget_get_parent (GTK_WIDGET (p)); w != NULL;
       w = gtk_widget_get_parent (w))
    for (GtkWidget *k = gtk_widget_get_first_child (w); k != NULL; k = gtk_widget_get_next_sibling (k))
      if (GTK_IS_DROP_DOWN (k))
        return GTK_DROP_DOWN (k);
  g_assert_not_reached ();
}

/* Every control of the panel has an accessible name: a label property or text of its own. */
static int
assert_controls_named (GtkWidget *w)
{
  int n = 0;
  gboolean control = GTK_IS_DROP_DOWN (w) || GTK_IS_CHECK_BUTTON (w)
                     || (GTK_IS_BUTTON (w) && !GTK_IS_TOGGLE_BUTTON (w));
  if (control)
    {
      gboolean named = gtk_test_accessible_has_property (GTK_ACCESSIBLE (w),
                                                         GTK_ACCESSIBLE_PROPERTY_LABEL);
      if (!named && GTK_IS_CHECK_BUTTON (w))
        named = gtk_check_button_get_label (GTK_CHECK_BUTTON (w)) != NULL;
      if (!named)
        g_error ("%s without an accessible name", G_OBJECT_TYPE_NAME (w));
      n++;
      if (GTK_IS_DROP_DOWN (w))
        return n;   /* its inner toggle button carries the same name */
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
    n += assert_controls_named (c);
  return n;
}

/* Choosing a CSV shows a row per input and head with the file's columns, prefilled by name
 * (ranges for the 12 and 20 values of the inputs, one-hot for the categorical head); a
 * wrong choice is explained on its row and makes Train insensitive with the reason; the
 * binding built from the rows trains and is kept in the document. */
static void
test_binding_panel_csv (Fixture *f, gconstpointer data)
{
  g_autofree char *csv = write_three_heads_csv ();
  WeftBindingPanel *p = weft_dashboard_get_binding_panel (f->dash);
  GtkWidget *train = find_button (GTK_WIDGET (f->dash), "_Train");
  g_assert_nonnull (train);

  /* the data-file source without a file: nothing to train on yet */
  WeftTrainConfig c;
  weft_dashboard_get_config (f->dash, &c);
  c.data[0] = '\0';
  weft_graph_set_train_config (weft_document_get_graph (f->doc), &c);
  GtkDropDown *source = source_dropdown (p);
  gtk_drop_down_set_selected (source, 0);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (p)));
  const char *reason = NULL;
  g_assert_false (weft_binding_panel_get_complete (p, &reason));
  g_assert_nonnull (reason);
  g_assert_false (gtk_widget_get_sensitive (train));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (train), reason));

  g_autoptr(GError) error = NULL;
  g_assert_true (weft_binding_panel_set_file (p, csv, -1, &error));
  g_assert_no_error (error);
  /* inputs first, then heads */
  g_assert_cmpint (weft_binding_panel_n_rows (p), ==, 5);
  const char *names[] = { "profile", "posts", "age", "income", "gender" };
  for (int i = 0; i < 5; i++)
    {
      g_assert_cmpstr (weft_binding_panel_row_name (p, i), ==, names[i]);
      g_assert_cmpint (weft_binding_panel_row_is_head (p, i), ==, i >= 2);
    }
  /* every column of the file, after "(not bound)"; the header was recognised */
  GtkDropDown *dd = weft_binding_panel_row_column (p, row_of (p, "profile"));
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (dd)), ==, 1 + 35);
  g_autofree char *first = item_text (dd, 1);
  g_autofree char *last = item_text (dd, 35);
  g_assert_nonnull (strstr (first, "profile_0"));
  g_assert_nonnull (strstr (last, "gender"));
  /* prefilled by name */
  g_assert_cmpuint (gtk_drop_down_get_selected (dd), ==, 1);
  g_assert_cmpuint (gtk_drop_down_get_selected (weft_binding_panel_row_column (p, row_of (p, "posts"))), ==, 13);
  g_assert_cmpuint (gtk_drop_down_get_selected (weft_binding_panel_row_column (p, row_of (p, "income"))), ==, 34);
  g_assert_cmpuint (gtk_drop_down_get_selected (weft_binding_panel_row_kind (p, row_of (p, "income"))), ==,
                    WEFT_CSV_CATEGORY_ONE_HOT);
  g_assert_false (row_error (p, "profile", "0–11"));
  g_assert_false (row_error (p, "posts", "12–31"));
  g_assert_false (row_error (p, "income", "10"));
  g_assert_true (weft_binding_panel_get_complete (p, NULL));
  g_assert_true (gtk_widget_get_sensitive (train));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (train), ==, "Train the model from new weights");
  /* file and folder buttons, header check, 5 rows x (column, kind, normalisation) */
  g_assert_cmpint (assert_controls_named (GTK_WIDGET (p)), ==, 3 + 5 * 3);

  /* 12 columns from posts_15 do not exist */
  gtk_drop_down_set_selected (dd, 1 + 27);
  g_assert_true (row_error (p, "profile", "12"));
  g_assert_false (weft_binding_panel_get_complete (p, &reason));
  g_assert_false (gtk_widget_get_sensitive (train));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (train), reason));
  /* a text column cannot be read as numbers */
  gtk_drop_down_set_selected (weft_binding_panel_row_column (p, row_of (p, "age")), 1 + 33);
  gtk_drop_down_set_selected (weft_binding_panel_row_kind (p, row_of (p, "age")), WEFT_CSV_NUMERIC);
  g_assert_true (row_error (p, "age", "income"));
  /* one class index cannot fill ten outputs */
  gtk_drop_down_set_selected (weft_binding_panel_row_kind (p, row_of (p, "income")),
                              WEFT_CSV_CATEGORY_INDEX);
  g_assert_true (row_error (p, "income", "10"));
  /* unbound */
  gtk_drop_down_set_selected (weft_binding_panel_row_column (p, row_of (p, "gender")), 0);
  g_assert_true (row_error (p, "gender", "gender"));
  {
    /* the settings with every kind of problem, for a look (not compared) */
    int w = 0, hh = 0;
    wait_frames (GTK_WIDGET (f->dash));
    g_autofree char *png = g_build_filename (g_get_tmp_dir (), "weft-dashboard-binding-errors.png",
                                             NULL);
    g_autofree guchar *px = render (GTK_WIDGET (f->dash), &w, &hh, png);
  }

  /* put right again, then train through the button */
  gtk_drop_down_set_selected (dd, 1);
  gtk_drop_down_set_selected (weft_binding_panel_row_column (p, row_of (p, "age")), 1 + 32);
  gtk_drop_down_set_selected (weft_binding_panel_row_kind (p, row_of (p, "income")),
                              WEFT_CSV_CATEGORY_ONE_HOT);
  gtk_drop_down_set_selected (weft_binding_panel_row_column (p, row_of (p, "gender")), 1 + 34);
  g_assert_true (weft_binding_panel_get_complete (p, NULL));
  g_assert_true (gtk_widget_get_sensitive (train));
  g_signal_emit_by_name (train, "clicked");
  wait_finished (f, 1);
  WeftHistory *h = weft_dashboard_get_history (f->dash);
  g_assert_nonnull (h);
  g_assert_cmpint (weft_history_n_heads (h), ==, 3);
  /* 3 epochs of 96 training rows in batches of 32 */
  g_assert_cmpuint (weft_history_n_steps (h), ==, 9);
  g_assert_cmpuint (weft_history_n_epochs (h), ==, 3);

  /* the binding is the document's now, saved with it */
  JsonNode *saved = weft_document_get_file_meta (f->doc)->data;
  g_assert_nonnull (saved);
  g_autoptr(WeftDataBinding) b = weft_data_binding_from_json (saved, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (weft_data_binding_n_entries (b), ==, 5);
  JsonObject *feeds = json_object_get_object_member (json_node_get_object (saved), "feeds");
  JsonObject *income = json_object_get_object_member (feeds, "income");
  g_assert_cmpstr (json_object_get_string_member (income, "type"), ==, "one-hot");
  JsonObject *posts = json_object_get_object_member (feeds, "posts");
  g_assert_cmpstr (json_object_get_string_member (posts, "columns"), ==, "12-31");
  /* the training settings name no synthetic set any more: the binding is the data */
  g_assert_cmpstr (weft_graph_get_train_config (weft_document_get_graph (f->doc))->data, ==, "");

  /* another dashboard on the same document shows the same choices */
  GtkWidget *win2 = gtk_window_new ();
  WeftDashboard *d2 = WEFT_DASHBOARD (weft_dashboard_new ());
  gtk_window_set_child (GTK_WINDOW (win2), GTK_WIDGET (d2));
  weft_dashboard_set_document (d2, f->doc);
  WeftBindingPanel *p2 = weft_dashboard_get_binding_panel (d2);
  g_assert_cmpstr (weft_binding_panel_get_file (p2), ==, csv);
  for (int i = 0; i < 5; i++)
    {
      g_assert_cmpuint (gtk_drop_down_get_selected (weft_binding_panel_row_column (p2, i)), ==,
                        gtk_drop_down_get_selected (weft_binding_panel_row_column (p, i)));
      g_assert_cmpuint (gtk_drop_down_get_selected (weft_binding_panel_row_kind (p2, i)), ==,
                        gtk_drop_down_get_selected (weft_binding_panel_row_kind (p, i)));
    }
  g_assert_true (weft_binding_panel_get_complete (p2, NULL));
  g_assert_cmpuint (gtk_drop_down_get_selected (source_dropdown (p2)), ==, 0);
  gtk_window_destroy (GTK_WINDOW (win2));

  /* the whole settings panel with the binding, for a look (not compared) */
  int w = 0, hh = 0;
  g_autofree char *png = g_build_filename (g_get_tmp_dir (), "weft-dashboard-binding.png", NULL);
  g_autofree guchar *px = render (GTK_WIDGET (f->dash), &w, &hh, png);
  remove_file_and_dir (csv);
}

/* A folder of .npy files: one array per file, matched by name; a shape that does not fit
 * an input names both shapes; rows differing between arrays are reported. */
static void
test_binding_panel_npy_folder (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("weft-npy-XXXXXX", NULL);
  struct { const char *name; int64_t cols; } arrays[] = {
    { "profile", 12 }, { "posts", 20 }, { "age", 1 }, { "income", 10 }, { "gender", 1 },
  };
  float *zeros = g_new0 (float, 100 * 20);
  for (guint i = 0; i < G_N_ELEMENTS (arrays); i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/%s.npy", dir, arrays[i].name);
      int64_t dims[2] = { 100, arrays[i].cols };
      g_assert_true (weft_npy_write (file, zeros, 2, dims, NULL));
    }
  WeftBindingPanel *p = weft_dashboard_get_binding_panel (f->dash);
  g_autoptr(GError) error = NULL;
  g_assert_true (weft_binding_panel_set_file (p, dir, -1, &error));
  g_assert_no_error (error);
  GtkDropDown *dd = weft_binding_panel_row_column (p, row_of (p, "posts"));
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (dd)), ==, 6);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (weft_binding_panel_row_kind (p, 0))));
  for (int i = 0; i < 5; i++)
    g_assert_false (row_error (p, weft_binding_panel_row_name (p, i), NULL));
  g_assert_true (weft_binding_panel_get_complete (p, NULL));
  g_autoptr(JsonNode) json = weft_binding_panel_dup_json (p);
  g_autoptr(WeftDataBinding) b = weft_data_binding_from_json (json, NULL, &error);
  g_assert_no_error (error);
  WeftDataLoad load = { 0 };
  g_assert_true (weft_data_binding_load (b, weft_document_get_graph (f->doc), 0.2, TRUE, NULL,
                                         NULL, &load, &error));
  g_assert_no_error (error);
  g_assert_cmpint (load.n_train, ==, 80);
  weft_data_load_clear (&load);

  /* arrays sorted by file name: age, gender, income, posts, profile; posts fed with the
   * 12-value array */
  g_autofree char *text = item_text (dd, 5);
  g_assert_true (g_str_has_prefix (text, "profile (100, 12)"));
  gtk_drop_down_set_selected (dd, 5);
  g_assert_true (row_error (p, "posts", "20"));
  g_assert_false (weft_binding_panel_get_complete (p, NULL));
  g_assert_null (weft_binding_panel_dup_json (p));

  /* an array with fewer rows */
  int64_t dims[2] = { 90, 1 };
  g_autofree char *age = g_strdup_printf ("%s/age.npy", dir);
  g_assert_true (weft_npy_write (age, zeros, 2, dims, NULL));
  g_assert_true (weft_binding_panel_set_file (p, dir, -1, &error));
  g_assert_true (row_error (p, "age", "90"));

  /* a file that is no data: said, and the panel keeps its file */
  g_autofree char *bad = g_strdup_printf ("%s/bad.npz", dir);
  g_assert_true (g_file_set_contents (bad, "not a zip", -1, NULL));
  g_assert_false (weft_binding_panel_set_file (p, bad, -1, &error));
  g_assert_nonnull (error);
  g_assert_cmpstr (weft_binding_panel_get_file (p), ==, dir);
  g_free (zeros);
  g_remove (bad);
  for (guint i = 0; i < G_N_ELEMENTS (arrays); i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/%s.npy", dir, arrays[i].name);
      g_remove (file);
    }
  g_rmdir (dir);
}


typedef struct
{
  int      done;
  GError  *error;
  gboolean ok;
} Listed;

static void
listed_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Listed *l = data;
  l->ok = weft_binding_panel_set_file_finish (WEFT_BINDING_PANEL (source), result, &l->error);
  l->done++;
}

static void
wait_listed (Listed *l)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (60, flag, &timed_out);
  while (l->done == 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

/* Choosing a file reads it on a worker thread: meanwhile the panel says so and Train waits;
 * a second choice cancels the first (only the last file is shown); a file that cannot be
 * read leaves the previous one with the error in the summary. */
static void
test_binding_panel_async (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("weft-npy-XXXXXX", NULL);
  const char *names[] = { "profile", "posts", "age", "income", "gender" };
  const int64_t cols[] = { 12, 20, 1, 10, 1 };
  float *zeros = g_new0 (float, 100 * 20);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/%s.npy", dir, names[i]);
      int64_t dims[2] = { 100, cols[i] };
      g_assert_true (weft_npy_write (file, zeros, 2, dims, NULL));
    }
  g_autofree char *one = g_strdup_printf ("%s/profile.npy", dir);
  WeftBindingPanel *p = weft_dashboard_get_binding_panel (f->dash);
  gtk_drop_down_set_selected (source_dropdown (p), 0);

  /* first the single file, then at once the folder: the first is cancelled */
  Listed first = { 0 }, second = { 0 };
  weft_binding_panel_set_file_async (p, one, -1, listed_cb, &first);
  g_assert_true (weft_binding_panel_get_loading (p));
  const char *reason = NULL;
  g_assert_false (weft_binding_panel_get_complete (p, &reason));
  g_assert_nonnull (strstr (reason, "profile.npy"));
  g_assert_false (weft_dashboard_get_can_train (f->dash));
  weft_binding_panel_set_file_async (p, dir, -1, listed_cb, &second);
  wait_listed (&second);
  wait_listed (&first);
  g_assert_false (first.ok);
  g_assert_error (first.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (second.ok);
  g_assert_no_error (second.error);
  g_assert_false (weft_binding_panel_get_loading (p));
  g_assert_cmpstr (weft_binding_panel_get_file (p), ==, dir);
  GtkDropDown *dd = weft_binding_panel_row_column (p, row_of (p, "posts"));
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (dd)), ==, 6);
  g_assert_true (weft_binding_panel_get_complete (p, NULL));
  g_assert_true (weft_dashboard_get_can_train (f->dash));

  /* an NPZ that is no zip: the folder stays, the error is shown */
  g_autofree char *bad = g_strdup_printf ("%s/bad.npz", dir);
  g_assert_true (g_file_set_contents (bad, "not a zip", -1, NULL));
  Listed third = { 0 };
  weft_binding_panel_set_file_async (p, bad, -1, listed_cb, &third);
  wait_listed (&third);
  g_assert_false (third.ok);
  g_assert_nonnull (third.error);
  g_assert_false (g_error_matches (third.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_assert_cmpstr (weft_binding_panel_get_file (p), ==, dir);
  g_assert_false (weft_binding_panel_get_loading (p));
  g_assert_true (weft_binding_panel_get_complete (p, NULL));

  /* a listing still running when the panel goes away is dropped */
  Listed fourth = { 0 };
  weft_binding_panel_set_file_async (p, dir, -1, listed_cb, &fourth);
  gtk_window_destroy (GTK_WINDOW (f->window));
  f->window = NULL;
  wait_listed (&fourth);
  g_assert_error (fourth.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_clear_error (&first.error);
  g_clear_error (&third.error);
  g_clear_error (&fourth.error);
  g_free (zeros);
  g_remove (bad);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/%s.npy", dir, names[i]);
      g_remove (file);
    }
  g_rmdir (dir);
}

/* An image folder offers "images" and "labels": inputs that are no pictures and a head
 * with more outputs than the folder has classes are explained; a one-unit binary head takes
 * the class index. */
static void
test_binding_panel_image_folder (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("weft-images-XXXXXX", NULL);
  const char *classes[] = { "cats", "dogs" };
  GdkPixbuf *pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 4, 4);
  gdk_pixbuf_fill (pb, 0x336699ff);
  for (int c = 0; c < 2; c++)
    {
      g_autofree char *sub = g_build_filename (dir, classes[c], NULL);
      g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
      for (int i = 0; i < 3; i++)
        {
          g_autofree char *name = g_strdup_printf ("%s/%d.png", sub, i);
          g_assert_true (gdk_pixbuf_save (pb, name, "png", NULL, NULL));
        }
    }
  g_object_unref (pb);
  WeftBindingPanel *p = weft_dashboard_get_binding_panel (f->dash);
  g_autoptr(GError) error = NULL;
  g_assert_true (weft_binding_panel_set_file (p, dir, -1, &error));
  g_assert_no_error (error);
  GtkDropDown *dd = weft_binding_panel_row_column (p, row_of (p, "profile"));
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (dd)), ==, 3);
  g_assert_cmpuint (gtk_drop_down_get_selected (dd), ==, 1);   /* images */
  g_assert_true (row_error (p, "profile", "picture"));
  g_assert_cmpuint (gtk_drop_down_get_selected (weft_binding_panel_row_column (p, row_of (p, "gender"))), ==, 2);
  g_assert_false (row_error (p, "gender", "2"));
  g_assert_true (row_error (p, "income", "2 classes"));
  /* labels cannot feed an input */
  gtk_drop_down_set_selected (dd, 2);
  g_assert_true (row_error (p, "profile", "Labels"));
  g_assert_false (weft_binding_panel_get_complete (p, NULL));
  for (int c = 0; c < 2; c++)
    {
      for (int i = 0; i < 3; i++)
        {
          g_autofree char *name = g_strdup_printf ("%s/%s/%d.png", dir, classes[c], i);
          g_remove (name);
        }
      g_autofree char *sub = g_build_filename (dir, classes[c], NULL);
      g_rmdir (sub);
    }
  g_rmdir (dir);
}


/* Names that say nothing: a CSV without header is read in order (12 columns, 20 columns,
 * then one per head, the text column one-hot for the categorical head); .npy files named
 * a..e go to the rows their shapes fit. */
static void
test_binding_panel_prefill_by_position (Fixture *f, gconstpointer data)
{
  g_autofree char *csv = write_three_heads_csv_full (FALSE);
  WeftBindingPanel *p = weft_dashboard_get_binding_panel (f->dash);
  g_autoptr(GError) error = NULL;
  g_assert_true (weft_binding_panel_set_file (p, csv, -1, &error));
  g_assert_no_error (error);
  guint want[5] = { 1, 13, 33, 34, 35 };
  for (int i = 0; i < 5; i++)
    g_assert_cmpuint (gtk_drop_down_get_selected (weft_binding_panel_row_column (p, i)), ==, want[i]);
  g_assert_cmpuint (gtk_drop_down_get_selected (weft_binding_panel_row_kind (p, row_of (p, "income"))), ==,
                    WEFT_CSV_CATEGORY_ONE_HOT);
  g_assert_true (weft_binding_panel_get_complete (p, NULL));
  remove_file_and_dir (csv);

  g_autofree char *dir = g_dir_make_tmp ("weft-npy-XXXXXX", NULL);
  int64_t cols[5] = { 1, 20, 10, 12, 1 };   /* a, b, c, d, e */
  float *zeros = g_new0 (float, 50 * 20);
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/%c.npy", dir, 'a' + i);
      int64_t dims[2] = { 50, cols[i] };
      g_assert_true (weft_npy_write (file, zeros, 2, dims, NULL));
    }
  g_assert_true (weft_binding_panel_set_file (p, dir, -1, &error));
  /* profile (12) <- d, posts (20) <- b, age (1) <- a, income (10) <- c, gender (1) <- e */
  guint by_shape[5] = { 4, 2, 1, 3, 5 };
  for (int i = 0; i < 5; i++)
    g_assert_cmpuint (gtk_drop_down_get_selected (weft_binding_panel_row_column (p, i)), ==,
                      by_shape[i]);
  g_assert_true (weft_binding_panel_get_complete (p, NULL));
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/%c.npy", dir, 'a' + i);
      g_remove (file);
    }
  g_rmdir (dir);
  g_free (zeros);
}


static void
count_notify (GObject *o, GParamSpec *pspec, int *n)
{
  (*n)++;
}

/* The window's Train action follows the dashboard's "can-train" (bound the way the window
 * binds it) and its tooltip "train-blocked-reason": the same rule as the dashboard's own
 * Train button, notified only on change. */
static void
test_can_train_follows_binding (Fixture *f, gconstpointer data)
{
  g_autofree char *csv = write_three_heads_csv ();
  WeftBindingPanel *p = weft_dashboard_get_binding_panel (f->dash);
  GtkWidget *train = find_button (GTK_WIDGET (f->dash), "_Train");
  g_autoptr(GSimpleAction) action = g_simple_action_new ("train", NULL);
  int n_can = 0, n_reason = 0;

  g_object_bind_property (f->dash, "can-train", action, "enabled", G_BINDING_SYNC_CREATE);
  g_signal_connect (f->dash, "notify::can-train", G_CALLBACK (count_notify), &n_can);
  g_signal_connect (f->dash, "notify::train-blocked-reason", G_CALLBACK (count_notify),
                    &n_reason);
  /* a synthetic source: ready, nothing blocks */
  g_assert_true (weft_dashboard_get_can_train (f->dash));
  g_assert_true (g_action_get_enabled (G_ACTION (action)));
  g_assert_null (weft_dashboard_get_train_blocked_reason (f->dash));

  /* the data-file source without a file: blocked, with the button's reason */
  gtk_drop_down_set_selected (source_dropdown (p), 0);
  g_assert_false (weft_dashboard_get_can_train (f->dash));
  g_assert_false (g_action_get_enabled (G_ACTION (action)));
  g_assert_cmpint (n_can, ==, 1);
  g_assert_cmpint (n_reason, ==, 1);
  const char *reason = NULL;
  g_assert_false (weft_binding_panel_get_complete (p, &reason));
  g_autofree char *why = NULL;
  g_object_get (f->dash, "train-blocked-reason", &why, NULL);
  g_assert_nonnull (why);
  g_assert_nonnull (strstr (why, reason));
  g_assert_cmpstr (why, ==, gtk_widget_get_tooltip_text (train));

  /* a fitting file: ready again */
  g_autoptr(GError) error = NULL;
  g_assert_true (weft_binding_panel_set_file (p, csv, -1, &error));
  g_assert_no_error (error);
  g_assert_true (weft_dashboard_get_can_train (f->dash));
  g_assert_true (g_action_get_enabled (G_ACTION (action)));
  g_assert_null (weft_dashboard_get_train_blocked_reason (f->dash));
  g_assert_cmpint (n_can, ==, 2);
  g_assert_cmpint (n_reason, ==, 2);

  /* an unbound head: blocked, the reason names it */
  GtkDropDown *gender = weft_binding_panel_row_column (p, row_of (p, "gender"));
  guint gender_column = gtk_drop_down_get_selected (gender);
  gtk_drop_down_set_selected (gender, 0);
  g_assert_false (g_action_get_enabled (G_ACTION (action)));
  g_assert_cmpint (n_can, ==, 3);
  g_assert_nonnull (strstr (weft_dashboard_get_train_blocked_reason (f->dash), "gender"));
  g_assert_cmpstr (weft_dashboard_get_train_blocked_reason (f->dash), ==,
                   gtk_widget_get_tooltip_text (train));
  /* a second problem changes the reason shown only if it is the first one */
  int before = n_reason;
  gtk_drop_down_set_selected (gender, 0);
  g_assert_cmpint (n_reason, ==, before);

  /* fixed: a run makes Train unavailable until it ends, without a binding reason */
  gtk_drop_down_set_selected (gender, gender_column);
  g_assert_true (g_action_get_enabled (G_ACTION (action)));
  weft_dashboard_train (f->dash);
  g_assert_false (weft_dashboard_get_can_train (f->dash));
  g_assert_false (g_action_get_enabled (G_ACTION (action)));
  g_assert_null (weft_dashboard_get_train_blocked_reason (f->dash));
  wait_finished (f, 1);
  g_assert_true (weft_dashboard_get_can_train (f->dash));
  g_assert_true (g_action_get_enabled (G_ACTION (action)));
  g_assert_cmpint (gtk_widget_get_sensitive (train), ==, weft_dashboard_get_can_train (f->dash));
  g_signal_handlers_disconnect_by_data (f->dash, &n_can);
  g_signal_handlers_disconnect_by_data (f->dash, &n_reason);
  remove_file_and_dir (csv);
}


static gboolean
chart_height_tick (GtkWidget *chart, GdkFrameClock *clock, gpointer data)
{
  GArray *heights = data;
  WeftDashboard *dash = WEFT_DASHBOARD (gtk_widget_get_ancestor (chart, WEFT_TYPE_DASHBOARD));
  if (weft_training_session_get_running (weft_dashboard_get_session (dash)))
    {
      int h = gtk_widget_get_height (chart);
      g_array_append_val (heights, h);
    }
  return G_SOURCE_CONTINUE;
}

/* In a tall window the chart takes the height the sections below it leave; those grow at
 * the first epoch (values, gradient share bars). The chart keeps its height during the run,
 * so no frame while training redraws a resized chart and everything around it. */
static void
test_chart_height_kept_while_training (Fixture *f, gconstpointer data)
{
  GtkWidget *chart = GTK_WIDGET (weft_dashboard_get_chart (f->dash));
  g_autoptr(GArray) heights = g_array_new (FALSE, FALSE, sizeof (int));
  /* a window taller than the content, whatever the sections below the chart need */
  gtk_widget_set_size_request (f->window, 1200, 1100);
  wait_frames (GTK_WIDGET (f->dash));
  int before = gtk_widget_get_height (chart);
  g_assert_cmpint (before, >, 240);   /* expanded: the window is taller than the content */
  /* a run far longer than the test: stopped once frames after the first epoch were seen,
   * however fast or loaded the machine is */
  WeftTrainConfig c;
  weft_dashboard_get_config (f->dash, &c);
  c.epochs = 1000;
  weft_dashboard_set_config (f->dash, &c);
  weft_dashboard_set_samples (f->dash, 4096);
  guint id = gtk_widget_add_tick_callback (chart, chart_height_tick, heights, NULL);
  weft_dashboard_train (f->dash);
  gboolean timed_out = FALSE;
  guint tid = g_timeout_add_seconds (120, flag, &timed_out);
  guint after_epoch = 0;
  while (!timed_out && f->finished == 0 && (f->epochs < 2 || heights->len < after_epoch + 3))
    {
      if (f->epochs == 0)
        after_epoch = heights->len;
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_false (timed_out);
  g_source_remove (tid);
  g_assert_cmpint (f->finished, ==, 0);
  weft_dashboard_stop (f->dash);
  wait_finished (f, 1);
  gtk_widget_remove_tick_callback (chart, id);
  g_assert_cmpint (f->epochs, >=, 2);
  g_assert_cmpuint (heights->len, >=, after_epoch + 3);
  for (guint i = 0; i < heights->len; i++)
    g_assert_cmpint (g_array_index (heights, int, i), ==, before);
  /* after the run the sections below get their room again */
  wait_frames (GTK_WIDGET (f->dash));
  g_assert_cmpint (gtk_widget_get_height (chart), <=, before);
}

static GtkWidget *
find_of_type (GtkWidget *root, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *r = find_of_type (c, type);
      if (r != NULL)
        return r;
    }
  return NULL;
}

typedef struct
{
  WeftDashboard *dash;
  GtkWidget     *line;
  GHashTable    *texts;
  int            reports;
  int            w_min, w_nat, h_min, h_nat;
  gboolean       size_changed;
  gboolean       text_differs;
} LineProbe;

static void
line_progress_cb (WeftTrainingSession *s, LineProbe *p)
{
  int w_min, w_nat, h_min, h_nat;
  gtk_widget_measure (p->line, GTK_ORIENTATION_HORIZONTAL, -1, &w_min, &w_nat, NULL, NULL);
  gtk_widget_measure (p->line, GTK_ORIENTATION_VERTICAL, -1, &h_min, &h_nat, NULL, NULL);
  if (p->reports > 0 && (w_min != p->w_min || w_nat != p->w_nat || h_min != p->h_min
                         || h_nat != p->h_nat))
    p->size_changed = TRUE;
  p->w_min = w_min;
  p->w_nat = w_nat;
  p->h_min = h_min;
  p->h_nat = h_nat;
  const char *t = gtk_inscription_get_text (GTK_INSCRIPTION (p->line));
  if (g_strcmp0 (t, weft_dashboard_get_status (p->dash)) != 0)
    p->text_differs = TRUE;
  g_hash_table_add (p->texts, g_strdup (t));
  p->reports++;
}

/* The status line is rewritten by every report (batch, samples/s, time): its size request
 * stays the same whatever the text, so a report redraws that line instead of measuring the
 * pane again. It is shown from the start and never empty. */
static void
test_progress_line_fixed_size (Fixture *f, gconstpointer data)
{
  GtkWidget *line = find_of_type (GTK_WIDGET (f->dash), GTK_TYPE_INSCRIPTION);
  g_assert_nonnull (line);
  /* shown from the start, never empty */
  g_assert_true (gtk_widget_get_mapped (line));
  g_assert_cmpstr (gtk_inscription_get_text (GTK_INSCRIPTION (line)), ==,
                   weft_dashboard_get_status (f->dash));
  g_assert_cmpstr (weft_dashboard_get_status (f->dash), !=, "");
  LineProbe p = { f->dash, line, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL) };
  WeftTrainingSession *s = weft_dashboard_get_session (f->dash);
  /* after the dashboard's own handler has set the text */
  gulong id = g_signal_connect_after (s, "progress", G_CALLBACK (line_progress_cb), &p);
  WeftTrainConfig c;
  weft_dashboard_get_config (f->dash, &c);
  c.epochs = 1000;
  weft_dashboard_set_config (f->dash, &c);
  weft_dashboard_set_samples (f->dash, 4096);
  weft_dashboard_train (f->dash);
  gboolean timed_out = FALSE;
  guint tid = g_timeout_add_seconds (120, flag, &timed_out);
  while (!timed_out && f->finished == 0 && g_hash_table_size (p.texts) < 8)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (tid);
  weft_dashboard_stop (f->dash);
  wait_finished (f, 1);
  g_signal_handler_disconnect (s, id);
  g_assert_cmpuint (g_hash_table_size (p.texts), >=, 8);
  g_assert_false (p.text_differs);
  g_assert_false (p.size_changed);
  /* the closing message is on the same line (short: no wrapping label below it) */
  g_assert_true (gtk_widget_get_visible (line));
  g_assert_nonnull (strstr (weft_dashboard_get_status (f->dash), "stopped"));
  g_assert_cmpstr (gtk_inscription_get_text (GTK_INSCRIPTION (line)), ==,
                   weft_dashboard_get_status (f->dash));
  g_hash_table_unref (p.texts);
}


int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      printf ("1..0 # SKIP no display\n");
      return 0;
    }
#define ADD(path, fn) g_test_add ("/ui/dashboard/" path, Fixture, NULL, fixture_setup, fn, \
                                  fixture_teardown)
  ADD ("train-and-continue", test_train_and_continue);
  ADD ("suggest-weights", test_suggest_weights);
  ADD ("training-marks-dirty", test_training_marks_dirty);
  ADD ("history-saved-with-example-copy", test_history_saved_with_example_copy);
  ADD ("edit-during-training", test_edit_during_training);
  ADD ("bad-source", test_bad_source);
  ADD ("switch-document-while-training", test_switch_document_while_training);
  ADD ("binding-panel-csv", test_binding_panel_csv);
  ADD ("binding-panel-npy-folder", test_binding_panel_npy_folder);
  ADD ("binding-panel-async", test_binding_panel_async);
  ADD ("binding-panel-image-folder", test_binding_panel_image_folder);
  ADD ("binding-panel-prefill-by-position", test_binding_panel_prefill_by_position);
  ADD ("can-train-follows-binding", test_can_train_follows_binding);
  ADD ("chart-height-kept-while-training", test_chart_height_kept_while_training);
  ADD ("progress-line-fixed-size", test_progress_line_fixed_size);
  return g_test_run ();
}
