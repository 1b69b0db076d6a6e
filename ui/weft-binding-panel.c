/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-binding-panel"

#include "config.h"

#include "weft-binding-panel.h"

#include "weft-data-source.h"

#include <glib/gi18n.h>
#include <string.h>

/* Normalisation choices of an input row, in the binding's order (none, standardise, min-max). */
static const char *const norm_json[] = { NULL, "standardise", "min-max" };
static const char *const kind_json[] = { NULL, "categorical", "one-hot", "text" };

typedef struct
{
  char      *name;
  gboolean   head;
  gboolean   shape_known;
  WeftShape  shape;
  WeftLoss   loss;          /* heads */
  int64_t    need;          /* values per sample the row wants; -1 unknown */

  /* Borrowed (children of the grid) */
  GtkWidget *title;
  GtkWidget *column;        /* GtkDropDown */
  GtkWidget *kind;          /* GtkDropDown, CSV only */
  GtkWidget *norm;          /* GtkDropDown, inputs of arrays and numeric columns */
  GtkWidget *message;

  char      *text;          /* the check message */
  gboolean   error;
} Row;

struct _WeftBindingPanel
{
  GtkWidget parent_instance;

  /* Owned */
  WeftDataListing *listing;
  GPtrArray       *rows;          /* Row* */
  char            *rows_key;      /* inputs, heads, shapes and losses the rows were built for */
  char            *reason;

  /* Template widgets */
  GtkWidget *box;
  GtkWidget *file_label;
  GtkWidget *file_button;
  GtkWidget *folder_button;
  GtkWidget *header_check;
  GtkWidget *grid;
  GtkWidget *summary;

  gboolean   updating;
  gboolean   complete;
  GCancellable *list_cancellable; /* the file being listed on a worker thread, if any */
  char      *listing_name;        /* its name, for the summary while it is read */
};

G_DEFINE_FINAL_TYPE (WeftBindingPanel, weft_binding_panel, GTK_TYPE_WIDGET)

enum { CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- helpers --------------------------------------------------------------------------- */

static void
a11y (GtkWidget *w, const char *label)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  /* a drop-down's button is what screen readers meet; GTK 4.8 names it "GtkToggleButton" */
  if (GTK_IS_DROP_DOWN (w))
    for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
      if (GTK_IS_TOGGLE_BUTTON (c))
        gtk_accessible_update_property (GTK_ACCESSIBLE (c), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                        -1);
}

static void
row_free (gpointer p)
{
  Row *r = p;
  g_free (r->name);
  g_free (r->text);
  g_free (r);
}

static Row *
row_at (WeftBindingPanel *self, int i)
{
  g_return_val_if_fail (i >= 0 && (guint) i < self->rows->len, NULL);
  return self->rows->pdata[i];
}

static const WeftDataColumn *
column_of_row (WeftBindingPanel *self, Row *r)
{
  guint c = gtk_drop_down_get_selected (GTK_DROP_DOWN (r->column));
  if (self->listing == NULL || c == 0 || c == GTK_INVALID_LIST_POSITION
      || c > self->listing->columns->len)
    return NULL;
  return self->listing->columns->pdata[c - 1];
}

static WeftCsvKind
kind_of_row (Row *r)
{
  guint k = gtk_drop_down_get_selected (GTK_DROP_DOWN (r->kind));
  return k <= WEFT_CSV_TEXT ? (WeftCsvKind) k : WEFT_CSV_NUMERIC;
}

static gboolean
is_csv (WeftBindingPanel *self)
{
  return self->listing != NULL && self->listing->kind == WEFT_DATA_FILE_CSV;
}

static gboolean
is_images (WeftBindingPanel *self)
{
  return self->listing != NULL && self->listing->kind == WEFT_DATA_FILE_IMAGE_FOLDER;
}

/* What a head's labels become: a class index for sparse (and single-unit binary) heads,
 * else one value per class. */
static gboolean
head_wants_index (Row *r)
{
  return r->loss == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY
         || (r->loss == WEFT_LOSS_BINARY_CROSSENTROPY && r->need == 1);
}

/* ---- checks ---------------------------------------------------------------------------- */

static void
set_row_message (Row *r, gboolean error, const char *text)
{
  g_free (r->text);
  r->text = g_strdup (text);
  r->error = error;
  gtk_label_set_text (GTK_LABEL (r->message), text);
  if (error)
    gtk_widget_add_css_class (r->message, "error");
  else
    gtk_widget_remove_css_class (r->message, "error");
  gtk_widget_set_visible (r->message, text[0] != '\0');
}

/* Rows of the first bound array, to compare the others with. */
static int64_t
first_bound_rows (WeftBindingPanel *self)
{
  for (guint i = 0; i < self->rows->len; i++)
    {
      const WeftDataColumn *c = column_of_row (self, self->rows->pdata[i]);
      if (c != NULL && c->rank > 0)
        return c->dims[0];
    }
  return -1;
}

static void
check_csv_row (WeftBindingPanel *self, Row *r, guint index, const WeftDataColumn *c)
{
  int n_columns = (int) self->listing->columns->len;
  WeftCsvKind kind = kind_of_row (r);
  g_autofree char *t = NULL;
  int64_t need = r->need;
  switch (kind)
    {
    case WEFT_CSV_NUMERIC:
      {
        int64_t span = need > 0 ? need : 1;
        if ((int64_t) index + span > n_columns)
          {
            t = g_strdup_printf (_("%s needs %lld columns from “%s” on, but "
                                   "the file has only %d from there."), r->name, (long long) span, c->name,
                                 n_columns - (int) index);
            set_row_message (r, TRUE, t);
            return;
          }
        for (int64_t k = index; k < index + span; k++)
          {
            const WeftDataColumn *o = self->listing->columns->pdata[k];
            if (o->kind != WEFT_CSV_NUMERIC)
              {
                t = g_strdup_printf (_("Column “%s” holds text, not numbers: read it as "
                                       "categories or text."), o->name);
                set_row_message (r, TRUE, t);
                return;
              }
          }
        if (span == 1)
          t = g_strdup_printf (_("Column %u (“%s”): one value per row."), index, c->name);
        else
          t = g_strdup_printf (_("Columns %u–%u (“%s” to “%s”): %lld values "
                                 "per row."), index, (guint) (index + span - 1), c->name,
                               ((WeftDataColumn *) self->listing->columns->pdata[index + span - 1])->name,
                               (long long) span);
        set_row_message (r, FALSE, t);
        return;
      }
    case WEFT_CSV_CATEGORY_INDEX:
      if (need > 1)
        {
          t = g_strdup_printf (_("A category column gives one class index per row, but %s "
                                 "expects %lld values: read it as one-hot."),
                               r->name, (long long) need);
          set_row_message (r, TRUE, t);
          return;
        }
      t = g_strdup_printf (_("Column “%s”: class index of %d categories."), c->name,
                           c->n_distinct);
      set_row_message (r, FALSE, t);
      return;
    case WEFT_CSV_CATEGORY_ONE_HOT:
      if (need > 0 && c->n_distinct != need)
        {
          if (self->listing->n_rows_exact)
            t = g_strdup_printf (_("Column “%s” has %d distinct values (one-hot: %d values "
                                   "per row), but %s expects %lld."), c->name,
                                 c->n_distinct, c->n_distinct, r->name, (long long) need);
          else
            t = g_strdup_printf (_("Column “%s” has %d distinct values in the first %lld rows, "
                                   "but %s expects %lld classes."), c->name, c->n_distinct,
                                 (long long) self->listing->n_rows, r->name, (long long) need);
          /* the rest of the file may hold the missing classes: checked when loading */
          set_row_message (r, self->listing->n_rows_exact, t);
          return;
        }
      t = g_strdup_printf (_("Column “%s”: one-hot over %d categories."), c->name, c->n_distinct);
      set_row_message (r, FALSE, t);
      return;
    case WEFT_CSV_TEXT:
      if (r->head || (r->shape_known && r->shape.rank != 1))
        {
          t = g_strdup_printf (_("Text becomes a row of word ids: it can feed an input of "
                                 "shape (None, length) only, not %s."), r->name);
          set_row_message (r, TRUE, t);
          return;
        }
      t = g_strdup_printf (_("Column “%s”: the first %lld words of each row "
                             "as word ids."), c->name, (long long) need);
      set_row_message (r, FALSE, t);
      return;
    }
}

static void
check_row (WeftBindingPanel *self, Row *r)
{
  g_autofree char *t = NULL;
  if (self->listing == NULL)
    {
      set_row_message (r, FALSE, "");
      return;
    }
  guint index = gtk_drop_down_get_selected (GTK_DROP_DOWN (r->column));
  const WeftDataColumn *c = column_of_row (self, r);
  if (c == NULL)
    {
      t = g_strdup_printf (r->head ? _("Choose the column or array holding the targets of "
                                       "head %s.")
                                   : _("Choose the column or array feeding input %s."),
                           r->name);
      set_row_message (r, TRUE, t);
      return;
    }
  if (is_csv (self))
    {
      check_csv_row (self, r, index - 1, c);
      return;
    }
  if (is_images (self))
    {
      gboolean images = strcmp (c->name, "images") == 0;
      if (images && r->head)
        t = g_strdup_printf (_("Images can feed an input only; head %s takes the labels."),
                             r->name);
      else if (!images && !r->head)
        t = g_strdup_printf (_("Labels are targets: input %s takes the images."), r->name);
      else if (images && r->shape_known
               && (r->shape.rank != 3 || (r->shape.dims[2] != 1 && r->shape.dims[2] != 3
                                          && r->shape.dims[2] != 4)))
        t = g_strdup_printf (_("Input %s is not a picture (height, width, 1, 3 or 4 channels)."),
                             r->name);
      else if (!images && !head_wants_index (r) && r->need > 0 && c->n_distinct != r->need)
        t = g_strdup_printf (_("The folder has %d classes, but head %s has %lld outputs."),
                             c->n_distinct, r->name, (long long) r->need);
      if (t != NULL)
        {
          set_row_message (r, TRUE, t);
          return;
        }
      g_free (t);
      if (images)
        t = g_strdup_printf (_("%lld images, scaled to the input’s size."),
                             (long long) c->dims[0]);
      else if (head_wants_index (r))
        t = g_strdup_printf (_("Class index of %d classes (the sub-folders)."), c->n_distinct);
      else
        t = g_strdup_printf (_("One-hot over %d classes (the sub-folders)."), c->n_distinct);
      set_row_message (r, FALSE, t);
      return;
    }
  /* arrays */
  int64_t size = weft_data_column_row_size (c);
  char buf[96];
  WeftShape sh = { 0 };
  sh.rank = c->rank <= 1 ? 1 : c->rank - 1;
  sh.dims[0] = 1;
  for (int d = 1; d < c->rank && d <= WEFT_MAX_RANK; d++)
    sh.dims[d - 1] = (int) c->dims[d];
  weft_shape_format (&sh, buf, sizeof buf);
  int64_t rows = first_bound_rows (self);
  if (r->need > 0 && size != r->need)
    {
      t = g_strdup_printf (_("“%s” has samples of shape %s (%lld values), but "
                             "%s expects %lld values."), c->name, buf, (long long) size,
                           r->name, (long long) r->need);
      set_row_message (r, TRUE, t);
    }
  else if (c->rank > 0 && rows >= 0 && c->dims[0] != rows)
    {
      t = g_strdup_printf (_("“%s” has %lld rows, the other arrays %lld."), c->name,
                           (long long) c->dims[0], (long long) rows);
      set_row_message (r, TRUE, t);
    }
  else
    {
      t = g_strdup_printf (_("“%s”: %lld samples of shape %s."), c->name,
                           (long long) (c->rank > 0 ? c->dims[0] : 1), buf);
      set_row_message (r, FALSE, t);
    }
}

static void
update_state (WeftBindingPanel *self)
{
  g_clear_pointer (&self->reason, g_free);
  gboolean csv = is_csv (self);
  gtk_widget_set_visible (self->header_check, csv);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *r = self->rows->pdata[i];
      gtk_widget_set_visible (r->kind, csv);
      /* normalisation applies to numbers fed to an input */
      gtk_widget_set_visible (r->norm, !r->head && self->listing != NULL && !is_images (self)
                                       && !(csv && kind_of_row (r) != WEFT_CSV_NUMERIC));
      check_row (self, r);
      if (r->error && self->reason == NULL)
        self->reason = g_strdup (r->text);
    }
  if (self->listing_name != NULL)
    {
      g_free (self->reason);
      self->reason = g_strdup_printf (_("Reading “%s”…"), self->listing_name);
    }
  else if (self->listing == NULL)
    self->reason = g_strdup (_("Choose a data file or folder."));
  else if (self->rows->len == 0)
    self->reason = g_strdup (_("The model has no inputs and heads to feed."));
  self->complete = self->reason == NULL;
  if (self->complete)
    gtk_label_set_text (GTK_LABEL (self->summary), _("Every input and head is fed: ready to "
                                                     "train."));
  else
    gtk_label_set_text (GTK_LABEL (self->summary), self->reason);
  if (self->complete || self->listing_name != NULL)
    gtk_widget_remove_css_class (self->summary, "error");
  else
    gtk_widget_add_css_class (self->summary, "error");
  g_signal_emit (self, signals[CHANGED], 0);
}

static void
row_changed_cb (GtkDropDown *dd, GParamSpec *pspec, WeftBindingPanel *self)
{
  if (!self->updating)
    update_state (self);
}

/* ---- rows ------------------------------------------------------------------------------ */

static GListModel *
column_model (WeftBindingPanel *self)
{
  GtkStringList *l = gtk_string_list_new (NULL);
  gtk_string_list_append (l, _("(not bound)"));
  if (self->listing == NULL)
    return G_LIST_MODEL (l);
  for (guint i = 0; i < self->listing->columns->len; i++)
    {
      const WeftDataColumn *c = self->listing->columns->pdata[i];
      g_autofree char *t = NULL;
      if (self->listing->kind == WEFT_DATA_FILE_CSV)
        t = g_strdup_printf (_("%s (column %u)"), c->name, i);
      else if (self->listing->kind == WEFT_DATA_FILE_IMAGE_FOLDER)
        t = g_strdup (strcmp (c->name, "images") == 0 ? _("images") : _("labels (sub-folder names)"));
      else
        {
          GString *s = g_string_new (c->name);
          g_string_append (s, " (");
          for (int d = 0; d < c->rank; d++)
            g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d > 0 ? ", " : "", c->dims[d]);
          g_string_append (s, ")");
          t = g_string_free (s, FALSE);
        }
      gtk_string_list_append (l, t);
    }
  return G_LIST_MODEL (l);
}

static gboolean
name_matches (const char *column, const char *row, gboolean prefix)
{
  if (g_ascii_strcasecmp (column, row) == 0)
    return TRUE;
  return prefix && g_ascii_strncasecmp (column, row, strlen (row)) == 0
         && (column[strlen (row)] == '_' || column[strlen (row)] == '.'
             || g_ascii_isdigit (column[strlen (row)]));
}

static void prefill_kind (WeftBindingPanel *self, Row *r, guint pick);

/* Picks the column by name (exact, then "name_0"-like prefixes) and how it is read. */
static void
prefill_row (WeftBindingPanel *self, Row *r)
{
  guint pick = 0;
  if (is_images (self))
    pick = r->head ? 2 : 1;
  else
    for (int pass = 0; pass < 2 && pick == 0; pass++)
      for (guint i = 0; i < self->listing->columns->len && pick == 0; i++)
        {
          const WeftDataColumn *c = self->listing->columns->pdata[i];
          if (name_matches (c->name, r->name, pass == 1))
            pick = i + 1;
        }
  gtk_drop_down_set_selected (GTK_DROP_DOWN (r->column), pick);
  prefill_kind (self, r, pick);
}

/* How a CSV column is read by default: by its guessed kind and what the row wants. */
static void
prefill_kind (WeftBindingPanel *self, Row *r, guint pick)
{
  WeftCsvKind kind = WEFT_CSV_NUMERIC;
  if (pick > 0 && is_csv (self))
    {
      const WeftDataColumn *c = self->listing->columns->pdata[pick - 1];
      gboolean one_hot_head = r->head && !head_wants_index (r) && r->need > 1;
      if (c->kind == WEFT_CSV_TEXT && !r->head)
        kind = WEFT_CSV_TEXT;
      else if (c->kind != WEFT_CSV_NUMERIC)
        kind = one_hot_head || (!r->head && r->need > 1) ? WEFT_CSV_CATEGORY_ONE_HOT
                                                         : WEFT_CSV_CATEGORY_INDEX;
      else if (one_hot_head && (r->loss == WEFT_LOSS_CATEGORICAL_CROSSENTROPY))
        kind = WEFT_CSV_CATEGORY_ONE_HOT;
    }
  gtk_drop_down_set_selected (GTK_DROP_DOWN (r->kind), kind);
}

/* Rows no name matched: a CSV whose names say nothing (no header, "x", "label") is read in
 * order, inputs first, each taking as many columns as it needs; arrays go to the first
 * unused one of the row's size. */
static void
prefill_by_position (WeftBindingPanel *self)
{
  guint n = self->listing->columns->len;
  g_autofree gboolean *used = g_new0 (gboolean, n + 1);
  gboolean any = FALSE;
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *r = self->rows->pdata[i];
      guint pick = gtk_drop_down_get_selected (GTK_DROP_DOWN (r->column));
      if (pick > 0 && pick <= n)
        {
          used[pick - 1] = TRUE;
          any = TRUE;
        }
    }
  if (is_images (self) || (is_csv (self) && any))
    return;
  guint cursor = 0;
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *r = self->rows->pdata[i];
      if (gtk_drop_down_get_selected (GTK_DROP_DOWN (r->column)) != 0)
        continue;
      guint pick = 0;
      if (is_csv (self))
        {
          if (cursor >= n)
            break;
          pick = cursor + 1;
          gtk_drop_down_set_selected (GTK_DROP_DOWN (r->column), pick);
          prefill_kind (self, r, pick);
          gboolean spans = kind_of_row (r) == WEFT_CSV_NUMERIC && r->need > 1;
          cursor += spans ? (guint) r->need : 1;
          continue;
        }
      for (guint k = 0; k < n && pick == 0; k++)
        if (!used[k] && weft_data_column_row_size (self->listing->columns->pdata[k]) == r->need)
          pick = k + 1;
      if (pick > 0)
        {
          used[pick - 1] = TRUE;
          gtk_drop_down_set_selected (GTK_DROP_DOWN (r->column), pick);
        }
    }
}

static void
clear_grid (WeftBindingPanel *self)
{
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child (self->grid)) != NULL)
    gtk_grid_remove (GTK_GRID (self->grid), c);
  g_ptr_array_set_size (self->rows, 0);
}

static GtkWidget *
dropdown (const char *const *items)
{
  GtkStringList *l = gtk_string_list_new (NULL);
  for (int i = 0; items[i] != NULL; i++)
    gtk_string_list_append (l, _(items[i]));
  return gtk_drop_down_new (G_LIST_MODEL (l), NULL);
}

static void
add_row (WeftBindingPanel *self, const char *name, gboolean head, const WeftShape *shape,
         WeftLoss loss)
{
  static const char *const kinds[] = { N_("numbers"), N_("category index"),
                                       N_("categories one-hot"), N_("text (word ids)"), NULL };
  static const char *const norms[] = { N_("as they are"), N_("standardised"),
                                       N_("scaled to 0..1"), NULL };
  Row *r = g_new0 (Row, 1);
  r->name = g_strdup (name);
  r->head = head;
  r->loss = loss;
  r->shape_known = shape != NULL;
  if (shape != NULL)
    r->shape = *shape;
  r->need = shape != NULL ? weft_shape_size (shape) : -1;
  if (head && loss == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
    r->need = 1;
  r->text = g_strdup ("");
  /* title, column, how it is read, message: one control per line fits a narrow pane */
  int y = (int) self->rows->len * 4;
  char buf[96];
  g_autofree char *title = g_strdup_printf (head ? _("Head %s %s") : _("Input %s %s"), name,
                                            shape != NULL ? weft_shape_format (shape, buf, sizeof buf)
                                                          : "?");
  r->title = gtk_label_new (title);
  gtk_label_set_xalign (GTK_LABEL (r->title), 0);
  gtk_widget_set_margin_top (r->title, 4);
  gtk_grid_attach (GTK_GRID (self->grid), r->title, 0, y, 2, 1);

  r->column = gtk_drop_down_new (column_model (self), NULL);
  gtk_widget_set_hexpand (r->column, TRUE);
  g_autofree char *cl = g_strdup_printf (head ? _("Targets of head %s") : _("Data for input %s"),
                                         name);
  a11y (r->column, cl);
  gtk_grid_attach (GTK_GRID (self->grid), r->column, 0, y + 1, 2, 1);

  r->kind = dropdown (kinds);
  g_autofree char *kl = g_strdup_printf (_("How the column for %s is read"), name);
  a11y (r->kind, kl);
  gtk_grid_attach (GTK_GRID (self->grid), r->kind, 0, y + 2, 1, 1);

  r->norm = dropdown (norms);
  g_autofree char *nl = g_strdup_printf (_("Normalisation of input %s"), name);
  a11y (r->norm, nl);
  gtk_grid_attach (GTK_GRID (self->grid), r->norm, 1, y + 2, 1, 1);

  r->message = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (r->message), 0);
  gtk_label_set_wrap (GTK_LABEL (r->message), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (r->message), 40);
  gtk_widget_add_css_class (r->message, "caption");
  gtk_widget_set_visible (r->message, FALSE);
  gtk_grid_attach (GTK_GRID (self->grid), r->message, 0, y + 3, 2, 1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (r->column),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, r->message, NULL, -1);

  g_signal_connect (r->column, "notify::selected", G_CALLBACK (row_changed_cb), self);
  g_signal_connect (r->kind, "notify::selected", G_CALLBACK (row_changed_cb), self);
  g_signal_connect (r->norm, "notify::selected", G_CALLBACK (row_changed_cb), self);
  g_ptr_array_add (self->rows, r);
}

/* Choices of the rows by name, to keep them across a rebuild. */
typedef struct
{
  char *name;
  guint column, kind, norm;
} Kept;

void
weft_binding_panel_set_graph (WeftBindingPanel *self, const WeftGraph *graph)
{
  g_return_if_fail (WEFT_IS_BINDING_PANEL (self));
  GString *key = g_string_new (NULL);
  WeftId m = graph != NULL ? weft_graph_get_main_model (graph) : WEFT_ID_NONE;
  int n_in = graph != NULL ? weft_graph_model_n_inputs (graph, m) : 0;
  int n_out = graph != NULL ? weft_graph_model_n_outputs (graph, m) : 0;
  g_autofree WeftShape *shapes = g_new0 (WeftShape, n_in + n_out + 1);
  g_autofree gboolean *known = g_new0 (gboolean, n_in + n_out + 1);
  char buf[96];
  for (int i = 0; i < n_in; i++)
    {
      known[i] = weft_graph_node_shape (graph, weft_graph_model_input (graph, m, i), 0,
                                        &shapes[i]);
      g_string_append_printf (key, "i:%s%s;", weft_graph_model_input_name (graph, m, i),
                              known[i] ? weft_shape_format (&shapes[i], buf, sizeof buf) : "?");
    }
  for (int j = 0; j < n_out; j++)
    {
      const WeftHead *h = weft_graph_model_output (graph, m, j);
      known[n_in + j] = weft_graph_node_shape (graph, h->node, h->port, &shapes[n_in + j]);
      g_string_append_printf (key, "h:%s%s/%d;", weft_graph_model_output_name (graph, m, j),
                              known[n_in + j] ? weft_shape_format (&shapes[n_in + j], buf,
                                                                   sizeof buf) : "?", h->loss);
    }
  if (g_strcmp0 (key->str, self->rows_key) == 0)
    {
      g_string_free (key, TRUE);
      return;
    }
  g_free (self->rows_key);
  self->rows_key = g_string_free (key, FALSE);

  GArray *kept = g_array_new (FALSE, FALSE, sizeof (Kept));
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *r = self->rows->pdata[i];
      Kept k = { g_strdup (r->name), gtk_drop_down_get_selected (GTK_DROP_DOWN (r->column)),
                 gtk_drop_down_get_selected (GTK_DROP_DOWN (r->kind)),
                 gtk_drop_down_get_selected (GTK_DROP_DOWN (r->norm)) };
      g_array_append_val (kept, k);
    }
  self->updating = TRUE;
  clear_grid (self);
  for (int i = 0; i < n_in; i++)
    add_row (self, weft_graph_model_input_name (graph, m, i), FALSE,
             known[i] ? &shapes[i] : NULL, WEFT_LOSS_NONE);
  for (int j = 0; j < n_out; j++)
    add_row (self, weft_graph_model_output_name (graph, m, j), TRUE,
             known[n_in + j] ? &shapes[n_in + j] : NULL,
             weft_graph_model_output (graph, m, j)->loss);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *r = self->rows->pdata[i];
      gboolean found = FALSE;
      for (guint k = 0; k < kept->len && !found; k++)
        {
          Kept *kp = &g_array_index (kept, Kept, k);
          if (strcmp (kp->name, r->name) == 0)
            {
              gtk_drop_down_set_selected (GTK_DROP_DOWN (r->column), kp->column);
              gtk_drop_down_set_selected (GTK_DROP_DOWN (r->kind), kp->kind);
              gtk_drop_down_set_selected (GTK_DROP_DOWN (r->norm), kp->norm);
              found = TRUE;
            }
        }
      if (!found && self->listing != NULL)
        prefill_row (self, r);
    }
  for (guint k = 0; k < kept->len; k++)
    g_free (g_array_index (kept, Kept, k).name);
  g_array_unref (kept);
  self->updating = FALSE;
  update_state (self);
}

/* Shows a listed file: the rows get its columns or arrays, prefilled. Takes l. */
static void
apply_listing (WeftBindingPanel *self, WeftDataListing *l)
{
  weft_data_listing_free (self->listing);
  self->listing = l;
  self->updating = TRUE;
  g_autofree char *base = g_path_get_basename (l->path);
  gtk_label_set_text (GTK_LABEL (self->file_label), base);
  gtk_widget_set_tooltip_text (self->file_label, l->path);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (self->header_check), l->header);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *r = self->rows->pdata[i];
      g_autoptr (GListModel) model = column_model (self);
      gtk_drop_down_set_model (GTK_DROP_DOWN (r->column), model);
      gtk_drop_down_set_selected (GTK_DROP_DOWN (r->norm), 0);
      prefill_row (self, r);
    }
  prefill_by_position (self);
  self->updating = FALSE;
  update_state (self);
}

/* Ends a pending listing (superseded or disposed): its result is dropped when it arrives. */
static void
cancel_listing (WeftBindingPanel *self)
{
  if (self->list_cancellable != NULL)
    g_cancellable_cancel (self->list_cancellable);
  g_clear_object (&self->list_cancellable);
  g_clear_pointer (&self->listing_name, g_free);
}

gboolean
weft_binding_panel_set_file (WeftBindingPanel *self, const char *path, int csv_header,
                             GError **error)
{
  g_return_val_if_fail (WEFT_IS_BINDING_PANEL (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  WeftDataListing *l = weft_data_list (path, csv_header, error);
  if (l == NULL)
    return FALSE;
  /* the file given now wins over one still being read */
  cancel_listing (self);
  apply_listing (self, l);
  return TRUE;
}

typedef struct
{
  char *path;
  int   csv_header;
} ListJob;

static void
list_job_free (gpointer p)
{
  ListJob *job = p;
  g_free (job->path);
  g_free (job);
}

/* Worker thread: reads what the listing needs (a CSV's lines, every array's header of an
 * NPZ, NPY or folder), which can take seconds for a large file. */
static void
list_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  ListJob *job = data;
  GError *error = NULL;
  WeftDataListing *l = weft_data_list (job->path, job->csv_header, &error);
  if (l == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, l, (GDestroyNotify) weft_data_listing_free);
}

/* Main thread: shows the listing unless a newer file was chosen (or the panel disposed)
 * meanwhile, then completes the caller's task. */
static void
list_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  WeftBindingPanel *self = WEFT_BINDING_PANEL (source);
  GTask *outer = data;
  GError *error = NULL;
  WeftDataListing *l = g_task_propagate_pointer (G_TASK (result), &error);
  if (l == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          /* the panel keeps its previous file and says why the new one was refused */
          g_clear_object (&self->list_cancellable);
          g_clear_pointer (&self->listing_name, g_free);
          update_state (self);
          g_autofree char *t = g_strdup_printf (_("The file cannot be used: %s"),
                                                error->message);
          gtk_label_set_text (GTK_LABEL (self->summary), t);
          gtk_widget_add_css_class (self->summary, "error");
        }
      g_task_return_error (outer, error);
    }
  else
    {
      g_clear_object (&self->list_cancellable);
      g_clear_pointer (&self->listing_name, g_free);
      apply_listing (self, l);
      g_task_return_boolean (outer, TRUE);
    }
  g_object_unref (outer);
}

void
weft_binding_panel_set_file_async (WeftBindingPanel   *self,
                                   const char         *path,
                                   int                 csv_header,
                                   GAsyncReadyCallback callback,
                                   gpointer            user_data)
{
  g_return_if_fail (WEFT_IS_BINDING_PANEL (self));
  g_return_if_fail (path != NULL);
  cancel_listing (self);
  self->list_cancellable = g_cancellable_new ();
  self->listing_name = g_path_get_basename (path);
  GTask *outer = g_task_new (self, self->list_cancellable, callback, user_data);
  g_task_set_source_tag (outer, weft_binding_panel_set_file_async);
  /* the previous listing stays until the new one is read: Train waits meanwhile */
  update_state (self);
  ListJob *job = g_new0 (ListJob, 1);
  job->path = g_strdup (path);
  job->csv_header = csv_header;
  GTask *inner = g_task_new (self, self->list_cancellable, list_done_cb, outer);
  g_task_set_task_data (inner, job, list_job_free);
  g_task_run_in_thread (inner, list_thread);
  g_object_unref (inner);
}

gboolean
weft_binding_panel_set_file_finish (WeftBindingPanel *self, GAsyncResult *result,
                                    GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
weft_binding_panel_get_loading (WeftBindingPanel *self)
{
  g_return_val_if_fail (WEFT_IS_BINDING_PANEL (self), FALSE);
  return self->listing_name != NULL;
}

const char *
weft_binding_panel_get_file (WeftBindingPanel *self)
{
  g_return_val_if_fail (WEFT_IS_BINDING_PANEL (self), NULL);
  return self->listing != NULL ? self->listing->path : NULL;
}

/* ---- file choosers --------------------------------------------------------------------- */

/* Errors were shown by list_done_cb; a cancelled listing was superseded. */
static void
listed_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!weft_binding_panel_set_file_finish (WEFT_BINDING_PANEL (source), result, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("listing failed: %s", error->message);
}

static void
chooser_response_cb (GtkNativeDialog *dialog, int response, WeftBindingPanel *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      if (path != NULL)
        weft_binding_panel_set_file_async (self, path, -1, listed_cb, NULL);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
choose (WeftBindingPanel *self, gboolean folder)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *d =
    gtk_file_chooser_native_new (folder ? _("Choose a Data Folder") : _("Choose a Data File"),
                                 GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                 folder ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                        : GTK_FILE_CHOOSER_ACTION_OPEN,
                                 _("_Choose"), _("_Cancel"));
  if (!folder)
    {
      GtkFileFilter *f = gtk_file_filter_new ();
      gtk_file_filter_set_name (f, _("Data files (CSV, NPZ, NPY)"));
      const char *const patterns[] = { "*.csv", "*.csv.gz", "*.tsv", "*.txt", "*.npz", "*.npy",
                                       NULL };
      for (int i = 0; patterns[i] != NULL; i++)
        gtk_file_filter_add_pattern (f, patterns[i]);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (d), f);
      g_object_unref (f);
    }
  g_signal_connect (d, "response", G_CALLBACK (chooser_response_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (d));
}

static void
file_clicked_cb (GtkButton *b, WeftBindingPanel *self)
{
  choose (self, FALSE);
}

static void
folder_clicked_cb (GtkButton *b, WeftBindingPanel *self)
{
  choose (self, TRUE);
}

static void
header_toggled_cb (GtkCheckButton *b, WeftBindingPanel *self)
{
  if (self->updating || !is_csv (self))
    return;
  gboolean header = gtk_check_button_get_active (b);
  if (header == self->listing->header)
    return;
  weft_binding_panel_set_file_async (self, self->listing->path, header, listed_cb, NULL);
}

/* ---- rows API -------------------------------------------------------------------------- */

int
weft_binding_panel_n_rows (WeftBindingPanel *self)
{
  g_return_val_if_fail (WEFT_IS_BINDING_PANEL (self), 0);
  return (int) self->rows->len;
}

const char *
weft_binding_panel_row_name (WeftBindingPanel *self, int row)
{
  g_return_val_if_fail (WEFT_IS_BINDING_PANEL (self), NULL);
  Row *r = row_at (self, row);
  return r != NULL ? r->name : NULL;
}

gboolean
weft_binding_panel_row_is_head (WeftBindingPanel *self, int row)
{
  g_return_val_if_fail (WEFT_IS_BINDING_PANEL (self), FALSE);
  Row *r = row_at (self, row);
  return r != NULL && r->head;
}

GtkDropDown *
weft_binding_panel_row_column (WeftBindingPanel *self, int row)
{
  g_return_val_if_fail (WEFT_IS_BINDING_PANEL (self), NULL);
  Row *r = row_at (self, row);
  return r != NULL ? GTK_DROP_DOWN (r->column) : NULL;
}

GtkDropDown *
weft_binding_panel_row_kind (WeftBindingPanel *self, int row)
{
  g_return_val_if_fail (WEFT_IS_BINDING_PANEL (self), NULL);
  Row *r = row_at (self, row);
  return r != NULL ? GTK_DROP_DOWN (r->kind) : NULL;
}

const char *
weft_binding_panel_row_message (WeftBindingPanel *self, int row, gboolean *error)
{
  g_return_val_if_fail (WEFT_IS_BINDING_PANEL (self), NULL);
  Row *r = row_at (self, row);
  if (r == NULL)
    return NULL;
  if (error != NULL)
    *error = r->error;
  return r->text;
}

gboolean
weft_binding_panel_get_complete (WeftBindingPanel *self, const char **reason)
{
  g_return_val_if_fail (WEFT_IS_BINDING_PANEL (self), FALSE);
  if (reason != NULL)
    *reason = self->reason;
  return self->complete;
}

/* ---- JSON ------------------------------------------------------------------------------ */

static const char *
format_name (WeftDataFileKind kind)
{
  switch (kind)
    {
    case WEFT_DATA_FILE_CSV:          return "csv";
    case WEFT_DATA_FILE_NPZ:          return "npz";
    case WEFT_DATA_FILE_NPY:
    case WEFT_DATA_FILE_NPY_FOLDER:   return "npy";
    case WEFT_DATA_FILE_IMAGE_FOLDER: return "image-folder";
    }
  return "csv";
}

JsonNode *
weft_binding_panel_dup_json (WeftBindingPanel *self)
{
  g_return_val_if_fail (WEFT_IS_BINDING_PANEL (self), NULL);
  if (!self->complete)
    return NULL;
  const WeftDataListing *l = self->listing;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sources");
  json_builder_begin_object (b);
  if (l->kind == WEFT_DATA_FILE_NPY_FOLDER)
    {
      /* one source per array used, named like it */
      for (guint i = 0; i < l->columns->len; i++)
        {
          const WeftDataColumn *c = l->columns->pdata[i];
          gboolean used = FALSE;
          for (guint k = 0; k < self->rows->len && !used; k++)
            used = column_of_row (self, self->rows->pdata[k]) == c;
          if (!used)
            continue;
          json_builder_set_member_name (b, c->name);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "path");
          json_builder_add_string_value (b, c->path);
          json_builder_set_member_name (b, "format");
          json_builder_add_string_value (b, "npy");
          json_builder_end_object (b);
        }
    }
  else
    {
      json_builder_set_member_name (b, "data");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, l->path);
      json_builder_set_member_name (b, "format");
      json_builder_add_string_value (b, format_name (l->kind));
      if (l->kind == WEFT_DATA_FILE_CSV)
        {
          json_builder_set_member_name (b, "header");
          json_builder_add_boolean_value (b, l->header);
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "feeds");
  json_builder_begin_object (b);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *r = self->rows->pdata[i];
      const WeftDataColumn *c = column_of_row (self, r);
      guint index = gtk_drop_down_get_selected (GTK_DROP_DOWN (r->column)) - 1;
      json_builder_set_member_name (b, r->name);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b, l->kind == WEFT_DATA_FILE_NPY_FOLDER ? c->name : "data");
      const char *type = NULL;
      g_autofree char *columns = NULL;
      switch (l->kind)
        {
        case WEFT_DATA_FILE_CSV:
          {
            WeftCsvKind kind = kind_of_row (r);
            int64_t span = kind == WEFT_CSV_NUMERIC && r->need > 1 ? r->need : 1;
            columns = span == 1 ? g_strdup_printf ("%u", index)
                                : g_strdup_printf ("%u-%u", index, (guint) (index + span - 1));
            type = kind_json[kind];
            if (kind == WEFT_CSV_TEXT)
              {
                json_builder_set_member_name (b, "length");
                json_builder_add_int_value (b, r->need);
              }
            break;
          }
        case WEFT_DATA_FILE_NPZ:
          columns = g_strdup (c->name);
          break;
        case WEFT_DATA_FILE_IMAGE_FOLDER:
          columns = g_strdup (c->name);
          if (r->head)
            type = head_wants_index (r) ? "categorical" : "one-hot";
          break;
        case WEFT_DATA_FILE_NPY:
        case WEFT_DATA_FILE_NPY_FOLDER:
          break;
        }
      if (columns != NULL)
        {
          json_builder_set_member_name (b, "columns");
          json_builder_add_string_value (b, columns);
        }
      if (type != NULL)
        {
          json_builder_set_member_name (b, "type");
          json_builder_add_string_value (b, type);
        }
      guint norm = gtk_drop_down_get_selected (GTK_DROP_DOWN (r->norm));
      if (gtk_widget_get_visible (r->norm) && norm > 0 && norm < G_N_ELEMENTS (norm_json))
        {
          json_builder_set_member_name (b, "normalise");
          json_builder_add_string_value (b, norm_json[norm]);
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* The column index a stored CSV selection starts at ("3", "0-63", a header name). */
static int
csv_column_index (const WeftDataListing *l, const char *spec)
{
  char *end = NULL;
  guint64 v = g_ascii_strtoull (spec, &end, 10);
  if (end != spec && (*end == '\0' || *end == '-'))
    return v < l->columns->len ? (int) v : -1;
  for (guint i = 0; i < l->columns->len; i++)
    if (strcmp (((WeftDataColumn *) l->columns->pdata[i])->name, spec) == 0)
      return (int) i;
  return -1;
}

static JsonObject *
object_member (JsonObject *o, const char *name)
{
  JsonNode *n = o != NULL && json_object_has_member (o, name)
                ? json_object_get_member (o, name) : NULL;
  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static const char *
string_member (JsonObject *o, const char *name)
{
  JsonNode *n = o != NULL && json_object_has_member (o, name)
                ? json_object_get_member (o, name) : NULL;
  return n != NULL && JSON_NODE_HOLDS_VALUE (n)
         && json_node_get_value_type (n) == G_TYPE_STRING ? json_node_get_string (n) : NULL;
}

static char *
resolve (const char *path, const char *base_dir)
{
  if (g_path_is_absolute (path) || base_dir == NULL || strstr (path, "://") != NULL)
    return g_strdup (path);
  g_autofree char *joined = g_build_filename (base_dir, path, NULL);
  g_autoptr (GFile) f = g_file_new_for_path (joined);   /* folds "../" */
  return g_file_get_path (f);
}

gboolean
weft_binding_panel_load_json (WeftBindingPanel *self, JsonNode *data, const char *base_dir)
{
  g_return_val_if_fail (WEFT_IS_BINDING_PANEL (self), FALSE);
  if (data == NULL || !JSON_NODE_HOLDS_OBJECT (data))
    return FALSE;
  JsonObject *o = json_node_get_object (data);
  if (json_object_has_member (o, "pairs"))
    return FALSE;
  JsonObject *sources = object_member (o, "sources");
  JsonObject *feeds = object_member (o, "feeds");
  if (sources == NULL || feeds == NULL || json_object_get_size (sources) == 0)
    return FALSE;
  g_autoptr (GList) names = json_object_get_members (sources);
  g_autofree char *path = NULL;
  gboolean header = FALSE;
  for (GList *n = names; n != NULL; n = n->next)
    {
      JsonObject *s = object_member (sources, n->data);
      const char *format = string_member (s, "format");
      if (string_member (s, "path") == NULL || format == NULL)
        return FALSE;
      g_autofree char *p = resolve (string_member (s, "path"), base_dir);
      if (json_object_has_member (s, "validation_path") || json_object_has_member (s, "fill_value")
          || json_object_get_int_member_with_default (s, "skip_lines", 0) != 0)
        return FALSE;
      header = json_object_get_boolean_member_with_default (s, "header", FALSE);
      if (names->next != NULL)
        {
          /* several sources: only .npy files of one folder */
          g_autofree char *dir = g_path_get_dirname (p);
          if (strcmp (format, "npy") != 0 || (path != NULL && strcmp (path, dir) != 0))
            return FALSE;
          g_free (path);
          path = g_steal_pointer (&dir);
        }
      else
        path = g_steal_pointer (&p);
    }
  if (!weft_binding_panel_set_file (self, path, header, NULL))
    return FALSE;
  const WeftDataListing *l = self->listing;
  self->updating = TRUE;
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *r = self->rows->pdata[i];
      JsonObject *f = object_member (feeds, r->name);
      if (f == NULL)
        continue;
      const char *columns = string_member (f, "columns");
      const char *source = string_member (f, "source") != NULL ? string_member (f, "source") : "";
      const char *type = string_member (f, "type") != NULL ? string_member (f, "type") : "numeric";
      const char *norm = string_member (f, "normalise") != NULL ? string_member (f, "normalise")
                                                                 : "none";
      int pick = -1;
      if (l->kind == WEFT_DATA_FILE_CSV && columns != NULL)
        pick = csv_column_index (l, columns);
      else
        for (guint k = 0; k < l->columns->len && pick < 0; k++)
          {
            const WeftDataColumn *c = l->columns->pdata[k];
            const char *want = l->kind == WEFT_DATA_FILE_NPY_FOLDER ? source
                               : l->kind == WEFT_DATA_FILE_NPY ? c->name
                               : columns != NULL ? columns
                               : l->kind == WEFT_DATA_FILE_IMAGE_FOLDER ? (r->head ? "labels" : "images")
                               : r->name;
            if (l->kind == WEFT_DATA_FILE_NPY_FOLDER)
              {
                JsonObject *s = object_member (sources, source);
                g_autofree char *p = string_member (s, "path") != NULL
                                     ? resolve (string_member (s, "path"), base_dir) : NULL;
                if (p != NULL && c->path != NULL && strcmp (p, c->path) == 0)
                  pick = (int) k;
              }
            else if (strcmp (c->name, want) == 0)
              pick = (int) k;
          }
      gtk_drop_down_set_selected (GTK_DROP_DOWN (r->column), pick >= 0 ? (guint) pick + 1 : 0);
      for (guint k = 1; k < G_N_ELEMENTS (kind_json); k++)
        if (strcmp (type, kind_json[k]) == 0)
          gtk_drop_down_set_selected (GTK_DROP_DOWN (r->kind), k);
      if (strcmp (type, "numeric") == 0)
        gtk_drop_down_set_selected (GTK_DROP_DOWN (r->kind), WEFT_CSV_NUMERIC);
      gtk_drop_down_set_selected (GTK_DROP_DOWN (r->norm), 0);
      for (guint k = 1; k < G_N_ELEMENTS (norm_json); k++)
        if (strcmp (norm, norm_json[k]) == 0)
          gtk_drop_down_set_selected (GTK_DROP_DOWN (r->norm), k);
    }
  self->updating = FALSE;
  update_state (self);
  return TRUE;
}

/* ---- GObject --------------------------------------------------------------------------- */

static void
weft_binding_panel_dispose (GObject *object)
{
  WeftBindingPanel *self = WEFT_BINDING_PANEL (object);
  cancel_listing (self);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (weft_binding_panel_parent_class)->dispose (object);
}

/* A listing still running when the panel leaves its window (the window closed, the dashboard
 * disposed: the task's reference keeps the panel itself alive) is dropped, not shown. */
static void
weft_binding_panel_unroot (GtkWidget *widget)
{
  cancel_listing (WEFT_BINDING_PANEL (widget));
  GTK_WIDGET_CLASS (weft_binding_panel_parent_class)->unroot (widget);
}

static void
weft_binding_panel_finalize (GObject *object)
{
  WeftBindingPanel *self = WEFT_BINDING_PANEL (object);
  weft_data_listing_free (self->listing);
  g_ptr_array_unref (self->rows);
  g_free (self->rows_key);
  g_free (self->reason);
  g_free (self->listing_name);
  g_clear_object (&self->list_cancellable);
  G_OBJECT_CLASS (weft_binding_panel_parent_class)->finalize (object);
}

static void
weft_binding_panel_class_init (WeftBindingPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = weft_binding_panel_dispose;
  object_class->finalize = weft_binding_panel_finalize;
  widget_class->unroot = weft_binding_panel_unroot;

  /* The file, a row's choice or the model's inputs/heads changed. */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
weft_binding_panel_init (WeftBindingPanel *self)
{
  self->rows = g_ptr_array_new_with_free_func (row_free);
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *l = gtk_label_new (_("File"));
  gtk_box_append (GTK_BOX (line), l);
  self->file_label = gtk_label_new (_("none chosen"));
  gtk_label_set_ellipsize (GTK_LABEL (self->file_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_xalign (GTK_LABEL (self->file_label), 0);
  gtk_widget_set_hexpand (self->file_label, TRUE);
  gtk_widget_add_css_class (self->file_label, "dim-label");
  gtk_box_append (GTK_BOX (line), self->file_label);
  gtk_box_append (GTK_BOX (self->box), line);
  line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_set_homogeneous (GTK_BOX (line), TRUE);
  self->file_button = gtk_button_new_with_mnemonic (_("Choose _File…"));
  a11y (self->file_button, _("Choose a data file (CSV, NPZ or NPY)"));
  g_signal_connect (self->file_button, "clicked", G_CALLBACK (file_clicked_cb), self);
  gtk_box_append (GTK_BOX (line), self->file_button);
  self->folder_button = gtk_button_new_with_mnemonic (_("Choose F_older…"));
  a11y (self->folder_button, _("Choose a data folder (.npy files or images by class)"));
  g_signal_connect (self->folder_button, "clicked", G_CALLBACK (folder_clicked_cb), self);
  gtk_box_append (GTK_BOX (line), self->folder_button);
  gtk_box_append (GTK_BOX (self->box), line);

  self->header_check = gtk_check_button_new_with_mnemonic (_("First line _names the columns"));
  a11y (self->header_check, _("First line names the columns"));
  gtk_widget_set_visible (self->header_check, FALSE);
  g_signal_connect (self->header_check, "toggled", G_CALLBACK (header_toggled_cb), self);
  gtk_box_append (GTK_BOX (self->box), self->header_check);

  self->grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (self->grid), 2);
  gtk_grid_set_column_spacing (GTK_GRID (self->grid), 6);
  gtk_box_append (GTK_BOX (self->box), self->grid);

  self->summary = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->summary), 0);
  gtk_label_set_wrap (GTK_LABEL (self->summary), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (self->summary), 40);
  gtk_box_append (GTK_BOX (self->box), self->summary);
  update_state (self);
}

GtkWidget *
weft_binding_panel_new (void)
{
  return g_object_new (WEFT_TYPE_BINDING_PANEL, NULL);
}
