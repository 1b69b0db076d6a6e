/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-cli.c: the headless command line. Everything here uses the engine and engine/io only,
 * so every capability is scriptable; GTK is never initialised on these paths. */
#include "config.h"

#include "weft-cli.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "weft-bench.h"
#include "weft-canvas-painter.h"
#include "weft-convert.h"
#include "weft-chart-painter.h"
#include "weft-csv-history.h"
#include "weft-data-source.h"
#include "weft-file.h"
#include "weft-npy.h"
#include "weft-openblas.h"
#include "weft-progress.h"
#include "weft-train.h"

#define EXAMPLES_PATH "/org/weft/Weft/examples"
#define DEFAULT_SAMPLES 1024
#define PLOT_WIDTH 960
#define PLOT_HEIGHT 540

/* Set by SIGINT; the trainer polls it between batches. */
static volatile int cancel_flag;

/* ------------------------------------------------------------------------------------------
 * Messages
 * ---------------------------------------------------------------------------------------- */

static void err_printf (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* Plain fprintf: names in files are UTF-8 and must reach the terminal unchanged. */
static void
err_printf (const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  fputs ("weft: ", stderr);
  vfprintf (stderr, format, ap);
  fputc ('\n', stderr);
  va_end (ap);
}

static int
usage_error (const char *command, const char *format, ...) G_GNUC_PRINTF (2, 3);

static int
usage_error (const char *command, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (command[0] == '\0')
    fprintf (stderr, "weft: %s\n%s\n", msg, _("Try 'weft --help'."));
  else
    {
      g_autofree char *hint = g_strdup_printf (_("Try 'weft %s --help'."), command);
      fprintf (stderr, "weft %s: %s\n%s\n", command, msg, hint);
    }
  return WEFT_EXIT_USAGE;
}

/* A context whose --help texts (parameter string, summary, description, entries) are
 * looked up in Weft's catalogue. */
static GOptionContext *
option_context_new (const char *parameter_string)
{
  GOptionContext *ctx = g_option_context_new (parameter_string);
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  return ctx;
}

/* ------------------------------------------------------------------------------------------
 * Examples and loading
 * ---------------------------------------------------------------------------------------- */

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* Resource paths of the built-in examples, sorted (looks one folder deep as well, so that
 * both "NAME.weft" and "examples/NAME.weft" under the prefix work). */
static GPtrArray *
example_paths (void)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  const char *dirs[] = { EXAMPLES_PATH "/", EXAMPLES_PATH "/examples/" };
  for (guint d = 0; d < G_N_ELEMENTS (dirs); d++)
    {
      g_auto(GStrv) children = g_resources_enumerate_children (dirs[d], 0, NULL);
      for (int i = 0; children != NULL && children[i] != NULL; i++)
        if (g_str_has_suffix (children[i], ".weft"))
          g_ptr_array_add (paths, g_strconcat (dirs[d], children[i], NULL));
    }
  g_ptr_array_sort (paths, compare_strings);
  return paths;
}

static char *
example_name (const char *resource_path)
{
  g_autofree char *base = g_path_get_basename (resource_path);
  return g_strndup (base, strlen (base) - strlen (".weft"));
}

static GBytes *
lookup_example (const char *name)
{
  g_autoptr(GPtrArray) paths = example_paths ();
  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *n = example_name (paths->pdata[i]);
      if (strcmp (n, name) == 0)
        return g_resources_lookup_data (paths->pdata[i], 0, NULL);
    }
  return NULL;
}

/* The examples on disk, where their data bindings' relative paths point: installed, else
 * the source tree this binary was built from, else the current folder. */
static char *
examples_dir (void)
{
  g_autofree char *installed = g_build_filename (WEFT_PKGDATADIR, "examples", NULL);
  g_autofree char *source = g_build_filename (WEFT_SOURCE_DIR, "resources", "examples", NULL);
  if (g_file_test (installed, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&installed);
  if (g_file_test (source, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&source);
  return g_get_current_dir ();
}

/* A loaded graph and where it came from. */
typedef struct
{
  WeftGraph    *graph;
  WeftHistory  *history;
  WeftFileMeta  meta;
  char         *path;       /* NULL for a built-in example */
  char         *base_dir;   /* folder of path, or the current folder for an example */
  char         *stem;       /* file or example name without .weft */
  WeftDataBinding *binding; /* the data binding training loaded (fitted), or NULL */
} Loaded;

static void
loaded_clear (Loaded *l)
{
  weft_graph_free (l->graph);
  weft_history_free (l->history);
  weft_file_meta_clear (&l->meta);
  g_free (l->path);
  g_free (l->base_dir);
  g_free (l->stem);
  weft_data_binding_free (l->binding);
  memset (l, 0, sizeof *l);
}

/* FILE is a path, or the name of a built-in example when no such file exists. */
static gboolean
load_graph (const char *arg, Loaded *l, GError **error)
{
  memset (l, 0, sizeof *l);
  if (!g_file_test (arg, G_FILE_TEST_EXISTS) && strchr (arg, '/') == NULL
      && !g_str_has_suffix (arg, ".weft"))
    {
      g_autoptr(GBytes) bytes = lookup_example (arg);
      if (bytes != NULL)
        {
          gsize len;
          const char *json = g_bytes_get_data (bytes, &len);
          l->graph = weft_file_load_data_full (json, len, NULL, &l->history, &l->meta, error);
          if (l->graph == NULL)
            {
              g_prefix_error (error, _("built-in example '%s': "), arg);
              return FALSE;
            }
          l->base_dir = examples_dir ();
          l->stem = g_strdup (arg);
          return TRUE;
        }
    }
  l->graph = weft_file_load_full (arg, &l->history, &l->meta, error);
  if (l->graph == NULL)
    return FALSE;
  l->path = g_strdup (arg);
  l->base_dir = g_path_get_dirname (arg);
  g_autofree char *base = g_path_get_basename (arg);
  l->stem = g_str_has_suffix (base, ".weft") ? g_strndup (base, strlen (base) - 5)
                                              : g_strdup (base);
  return TRUE;
}

/* ------------------------------------------------------------------------------------------
 * Data
 * ---------------------------------------------------------------------------------------- */

static char *
format_dims (const int64_t *dims, int rank)
{
  GString *s = g_string_new ("(");
  for (int i = 0; i < rank; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "", dims[i]);
  if (rank == 1)
    g_string_append_c (s, ',');
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

/* One named array read from a file, before the data set exists. */
typedef struct
{
  char         *name;
  char         *file;
  WeftNpyArray  array;
} Pending;

static void
pending_free (gpointer p)
{
  Pending *pd = p;
  g_free (pd->name);
  g_free (pd->file);
  weft_npy_array_clear (&pd->array);
  g_free (pd);
}

/* Builds a data set from arrays whose first axis is the sample axis. Rank-1 arrays become
 * one value per sample, as Keras accepts labels of shape (n,). Takes the arrays' data. */
static WeftDataset *
dataset_from_pending (GPtrArray *pending, GError **error)
{
  int64_t n = -1;
  const Pending *first = NULL;
  WeftError werr = { 0 };

  for (guint i = 0; i < pending->len; i++)
    {
      Pending *pd = pending->pdata[i];
      if (pd->array.rank < 1)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                       _("%s: '%s' is a scalar; it needs a first axis of samples"), pd->file,
                       pd->name);
          return NULL;
        }
      if (pd->array.rank - 1 > WEFT_MAX_RANK)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                       _("%s: '%s' has rank %d; at most %d axes besides the samples are "
                         "possible"),
                       pd->file, pd->name, pd->array.rank, WEFT_MAX_RANK);
          return NULL;
        }
      for (int d = 1; d < pd->array.rank; d++)
        if (pd->array.dims[d] < 1 || pd->array.dims[d] > G_MAXINT32)
          {
            g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                         _("%s: '%s' has an axis of size %" PRId64), pd->file, pd->name,
                         pd->array.dims[d]);
            return NULL;
          }
      if (n < 0)
        {
          n = pd->array.dims[0];
          first = pd;
        }
      else if (pd->array.dims[0] != n)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                       _("'%s' (%s) has %" PRId64 " samples but '%s' (%s) has %" PRId64),
                       pd->name, pd->file, pd->array.dims[0], first->name,
                       first->file, n);
          return NULL;
        }
    }
  if (n < 1)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH, _("the data holds no samples"));
      return NULL;
    }

  WeftDataset *data = weft_dataset_new (n);
  for (guint i = 0; i < pending->len; i++)
    {
      Pending *pd = pending->pdata[i];
      WeftShape shape = { 0 };
      if (pd->array.rank == 1)
        {
          shape.rank = 1;
          shape.dims[0] = 1;
        }
      else
        {
          shape.rank = pd->array.rank - 1;
          for (int d = 1; d < pd->array.rank; d++)
            shape.dims[d - 1] = (int) pd->array.dims[d];
        }
      float *values = weft_dataset_add (data, pd->name, &shape, &werr);
      if (values == NULL)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH, "'%s': %s", pd->name,
                       werr.message);
          weft_dataset_free (data);
          return NULL;
        }
      memcpy (values, pd->array.data, sizeof (float) * (size_t) weft_npy_array_size (&pd->array));
      weft_npy_array_clear (&pd->array);
    }
  return data;
}

static gboolean
add_npz (GPtrArray *pending, const char *path, GError **error)
{
  g_autoptr(GPtrArray) arrays = weft_npz_read (path, error);
  if (arrays == NULL)
    return FALSE;
  for (guint i = 0; i < arrays->len; i++)
    {
      WeftNpyArray *a = arrays->pdata[i];
      Pending *pd = g_new0 (Pending, 1);
      pd->name = g_strdup (a->name);
      pd->file = g_strdup (path);
      pd->array = *a;
      memset (a, 0, sizeof *a);
      g_ptr_array_add (pending, pd);
    }
  return TRUE;
}

static gboolean
add_npy (GPtrArray *pending, const char *name, const char *path, GError **error)
{
  Pending *pd = g_new0 (Pending, 1);
  if (!weft_npy_read (path, &pd->array, error))
    {
      pending_free (pd);
      return FALSE;
    }
  pd->name = g_strdup (name);
  pd->file = g_strdup (path);
  g_ptr_array_add (pending, pd);
  return TRUE;
}

static WeftDataset *
load_binding (WeftDataBinding *binding, Loaded *l, float *validation_split, GError **error)
{
  WeftDataLoad load = { 0 };
  if (!weft_data_binding_load (binding, l->graph, *validation_split, TRUE, NULL, NULL, &load,
                               error))
    return NULL;
  *validation_split = load.validation_split;
  /* saved with the weights: its normalisation statistics and vocabularies belong to the
   * trained model */
  weft_data_binding_free (l->binding);
  l->binding = weft_data_binding_copy (binding);
  return g_steal_pointer (&load.data);
}

/* Data for training: --data specs (synthetic:NAME, FILE.npz, or binding entries
 * NAME=FILE[:COLUMNS][:KEY=VALUE]... as weft_data_binding_add_spec reads them), or else the
 * file's own binding ("data" key, or training.data naming synthetic:NAME, a binding .json
 * or an .npz). validation_split may be replaced by the binding's. Usage problems set *usage. */
static WeftDataset *
make_training_data (Loaded *l, char **specs, gint64 samples, uint64_t seed,
                    float *validation_split, gboolean *usage, GError **error)
{
  const char *file_spec = weft_graph_get_train_config (l->graph)->data;
  g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func (pending_free);
  WeftError werr = { 0 };
  const char *synthetic = NULL;

  *usage = FALSE;
  if (specs != NULL && specs[0] != NULL)
    {
      gboolean all_npz = TRUE;
      for (int i = 0; specs[i] != NULL; i++)
        {
          if (g_str_has_prefix (specs[i], "synthetic:"))
            {
              if (specs[1] != NULL)
                {
                  *usage = TRUE;
                  g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                               _("--data %s cannot be combined with other --data"), specs[i]);
                  return NULL;
                }
              synthetic = specs[i] + strlen ("synthetic:");
            }
          all_npz &= strchr (specs[i], '=') == NULL && g_str_has_suffix (specs[i], ".npz");
        }
      if (synthetic == NULL && all_npz)
        {
          for (int i = 0; specs[i] != NULL; i++)
            if (!add_npz (pending, specs[i], error))
              return NULL;
          return dataset_from_pending (pending, error);
        }
      if (synthetic == NULL)
        {
          g_autoptr(WeftDataBinding) binding = weft_data_binding_new ();
          for (int i = 0; specs[i] != NULL; i++)
            if (!weft_data_binding_add_spec (binding, specs[i], error))
              {
                *usage = strchr (specs[i], '=') == NULL;
                return NULL;
              }
          return load_binding (binding, l, validation_split, error);
        }
    }
  else if (g_str_has_prefix (file_spec, "synthetic:"))
    synthetic = file_spec + strlen ("synthetic:");
  else if (l->meta.data != NULL)
    {
      g_autoptr(WeftDataBinding) binding = weft_data_binding_from_json (l->meta.data,
                                                                        l->base_dir, error);
      if (binding == NULL)
        return NULL;
      return load_binding (binding, l, validation_split, error);
    }
  else if (g_str_has_suffix (file_spec, ".json") || g_str_has_suffix (file_spec, ".npz"))
    {
      g_autofree char *path = g_path_is_absolute (file_spec)
                              ? g_strdup (file_spec)
                              : g_build_filename (l->base_dir, file_spec, NULL);
      if (g_str_has_suffix (file_spec, ".npz"))
        {
          if (!add_npz (pending, path, error))
            return NULL;
          return dataset_from_pending (pending, error);
        }
      g_autoptr(WeftDataBinding) binding = weft_data_binding_read_file (path, error);
      if (binding == NULL)
        return NULL;
      return load_binding (binding, l, validation_split, error);
    }
  else if (file_spec[0] != '\0')
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   _("the graph's data source '%s' is not supported on the command line; "
                     "give --data synthetic:NAME or --data NAME=FILE (see weft train --help)"),
                   file_spec);
      return NULL;
    }
  else
    {
      *usage = TRUE;
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   _("the graph names no data set: give --data synthetic:NAME, or "
                     "--data NAME=FILE.npy (or .csv, image folder...) once per input and head"));
      return NULL;
    }

  WeftDataset *data = weft_synthetic_make (synthetic, l->graph, samples, seed, &werr);
  if (data == NULL)
    g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH, _("synthetic data '%s': %s"),
                 synthetic, werr.message);
  return data;
}

/* ------------------------------------------------------------------------------------------
 * summary, validate, examples
 * ---------------------------------------------------------------------------------------- */

static void
print_summary (WeftGraph *graph)
{
  WeftId model = weft_graph_get_main_model (graph);
  size_t len = weft_graph_summary (graph, model, NULL, 0);
  g_autofree char *buf = g_malloc (len + 1);
  weft_graph_summary (graph, model, buf, len + 1);
  fputs (buf, stdout);
  if (len > 0 && buf[len - 1] != '\n')
    fputc ('\n', stdout);
}

/* "model 'm', node 'dense' (Dense, call 2 of 3), input 1" */
static char *
describe_location (WeftGraph *graph, const WeftDiagnostic *d)
{
  GString *s = g_string_new (NULL);
  if (d->model != WEFT_ID_NONE)
    g_string_append_printf (s, _("model '%s'"), weft_graph_get_name (graph, d->model));
  if (d->node != WEFT_ID_NONE && weft_graph_kind (graph, d->node) == WEFT_KIND_NODE)
    {
      WeftId callee = weft_graph_node_callee (graph, d->node);
      /* TRANSLATORS: the kind of a node's callee, where other nodes show a layer type */
      const char *type = weft_graph_kind (graph, callee) == WEFT_KIND_MODEL
                         ? C_("callee", "model") : weft_graph_layer_op (graph, callee)->name;
      int calls = weft_graph_callee_n_nodes (graph, callee);
      g_autofree char *call = NULL;
      if (calls > 1)
        for (int i = 0; i < calls; i++)
          if (weft_graph_callee_node_at (graph, callee, i) == d->node)
            call = g_strdup_printf (_(", call %d of %d"), i + 1, calls);
      if (s->len > 0)
        g_string_append (s, ", ");
      /* TRANSLATORS: node NAME (TYPE and, for a shared layer, ", call I of N") */
      g_string_append_printf (s, _("node '%s' (%s%s)"), weft_graph_get_name (graph, callee),
                              type, call != NULL ? call : "");
      if (d->port >= 0)
        g_string_append_printf (s, _(", input %d"), d->port);
    }
  return g_string_free (s, FALSE);
}

/* Prints every diagnostic; returns the number of errors. */
static int
print_diagnostics (WeftGraph *graph, const char *file)
{
  int errors = weft_graph_analyse (graph);
  int n = 0;
  const WeftDiagnostic *diags = weft_graph_diagnostics (graph, &n);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *where = describe_location (graph, &diags[i]);
      gboolean warning = diags[i].code == WEFT_WARNING_UNUSED_INPUT;
      fprintf (stderr, "%s: %s: %s%s%s\n", file, warning ? _("warning") : _("error"), where,
               where[0] != '\0' ? ": " : "", diags[i].message);
    }
  if (weft_graph_get_main_model (graph) == WEFT_ID_NONE)
    {
      fprintf (stderr, "%s: %s: %s\n", file, _("error"), _("the file has no main model"));
      errors++;
    }
  return errors;
}

static int
cmd_summary (int argc, char **argv)
{
  g_autoptr(GOptionContext) ctx = option_context_new (N_("FILE - print the Keras-style "
                                                         "summary"));
  g_autoptr(GError) error = NULL;
  Loaded l;

  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("summary", "%s", error->message);
  if (argc != 2)
    return usage_error ("summary", argc < 2 ? _("missing FILE") : _("one FILE at a time"));
  if (!load_graph (argv[1], &l, &error))
    {
      err_printf ("%s", error->message);
      return WEFT_EXIT_INVALID;
    }
  int errors = print_diagnostics (l.graph, argv[1]);
  if (weft_graph_get_main_model (l.graph) != WEFT_ID_NONE)
    print_summary (l.graph);
  loaded_clear (&l);
  return errors > 0 ? WEFT_EXIT_INVALID : WEFT_EXIT_OK;
}

static int
cmd_validate (int argc, char **argv)
{
  g_autoptr(GOptionContext) ctx = option_context_new (N_("FILE... - check graphs and list "
                                                         "every error and warning"));
  g_autoptr(GError) error = NULL;
  int status = WEFT_EXIT_OK;

  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("validate", "%s", error->message);
  if (argc < 2)
    return usage_error ("validate", _("missing FILE"));
  for (int i = 1; i < argc; i++)
    {
      Loaded l;
      g_clear_error (&error);
      if (!load_graph (argv[i], &l, &error))
        {
          err_printf ("%s", error->message);
          status = WEFT_EXIT_INVALID;
          continue;
        }
      int errors = print_diagnostics (l.graph, argv[i]);
      int n = 0;
      weft_graph_diagnostics (l.graph, &n);
      if (errors > 0)
        {
          printf ("%s: ", argv[i]);
          printf (g_dngettext (GETTEXT_PACKAGE, "invalid (%d error)", "invalid (%d errors)",
                               errors), errors);
          printf ("\n");
          status = WEFT_EXIT_INVALID;
        }
      else
        {
          int64_t trainable = 0, frozen = 0;
          weft_graph_count_params (l.graph, weft_graph_get_main_model (l.graph), &trainable,
                                   &frozen);
          int64_t total = trainable + frozen;
          printf ("%s: ", argv[i]);
          printf (g_dngettext (GETTEXT_PACKAGE, "valid, %" PRId64 " parameter",
                               "valid, %" PRId64 " parameters", (gulong) total), total);
          if (n > errors)
            {
              printf (" ");
              printf (g_dngettext (GETTEXT_PACKAGE, "(%d warning)", "(%d warnings)",
                                   n - errors), n - errors);
            }
          printf ("\n");
        }
      loaded_clear (&l);
    }
  return status;
}

static int
cmd_examples (int argc, char **argv)
{
  g_autoptr(GOptionContext) ctx = option_context_new (N_("- list the built-in examples"));
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("examples", "%s", error->message);
  if (argc != 1)
    return usage_error ("examples", _("unexpected argument '%s'"), argv[1]);

  g_autoptr(GPtrArray) paths = example_paths ();
  if (paths->len == 0)
    {
      err_printf (_("this build has no built-in examples"));
      return WEFT_EXIT_INVALID;
    }
  int status = WEFT_EXIT_OK;
  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *name = example_name (paths->pdata[i]);
      g_autoptr(GBytes) bytes = g_resources_lookup_data (paths->pdata[i], 0, NULL);
      WeftFileMeta meta = { 0 };
      gsize len = 0;
      const char *json = bytes != NULL ? g_bytes_get_data (bytes, &len) : "";
      g_clear_error (&error);
      WeftGraph *g = weft_file_load_data_full (json, len, NULL, NULL, &meta, &error);
      if (g == NULL)
        {
          err_printf (_("built-in example '%s': %s"), name, error->message);
          status = WEFT_EXIT_INVALID;
          continue;
        }
      printf ("%-14s %s\n", name, meta.name != NULL ? meta.name : "");
      weft_file_meta_clear (&meta);
      weft_graph_free (g);
    }
  return status;
}

/* ------------------------------------------------------------------------------------------
 * train
 * ---------------------------------------------------------------------------------------- */

typedef struct
{
  WeftHistory  *history;
  WeftPlan     *plan;
  WeftProgress *bar;
  float        *snapshot;        /* parameters after the last finished epoch */
  size_t        n_params;
  int           epochs_finished; /* in this fit */
} Progress;

static bool
on_step (const WeftStepReport *r, void *user_data)
{
  Progress *p = user_data;
  weft_history_add_step (p->history, r);
  weft_progress_step (p->bar, r);
  return true;
}

static void
on_epoch (const WeftEpochReport *r, void *user_data)
{
  Progress *p = user_data;
  weft_history_add_epoch (p->history, r);
  memcpy (p->snapshot, weft_plan_params (p->plan, NULL), p->n_params * sizeof (float));
  p->epochs_finished++;
  weft_progress_epoch (p->bar, r);
}

static void
on_sigint (int sig)
{
  (void) sig;
  cancel_flag = 1;
}

static const char *
head_metric_name (WeftMetric m)
{
  for (int i = 0; weft_metric_names[i] != NULL; i++)
    if ((WeftMetric) weft_metric_from_name (weft_metric_names[i]) == m)
      return weft_metric_names[i];
  return NULL;
}

/* The loaded history when its heads are this graph's heads (training continues it as a new
 * run), else a new one. */
static WeftHistory *
history_for (WeftGraph *graph, WeftHistory *loaded)
{
  WeftId model = weft_graph_get_main_model (graph);
  int n = MIN (weft_graph_model_n_outputs (graph, model), WEFT_MAX_HEADS);
  const char *names[WEFT_MAX_HEADS];
  const char *metrics[WEFT_MAX_HEADS];
  float weights[WEFT_MAX_HEADS];
  gboolean same = loaded != NULL && weft_history_n_heads (loaded) == n;

  for (int j = 0; j < n; j++)
    {
      const WeftHead *h = weft_graph_model_output (graph, model, j);
      names[j] = weft_graph_model_output_name (graph, model, j);
      metrics[j] = h->metric != WEFT_METRIC_NONE ? head_metric_name (h->metric) : NULL;
      weights[j] = h->weight;
      if (same && strcmp (weft_history_head_name (loaded, j), names[j]) != 0)
        same = FALSE;
    }
  if (same)
    {
      weft_history_begin_run (loaded);
      return loaded;
    }
  return weft_history_new (n, names, weights, metrics);
}

typedef struct
{
  int      epochs;
  int      batch_size;
  char    *optimizer;
  double   learning_rate;
  gint64   seed;
  int      threads;
  double   validation_split;
  char   **data;
  gint64   samples;
  char    *history_csv;
  char    *plot_png;
  char    *output;
  gboolean no_save;
} TrainOptions;

static void
train_options_clear (TrainOptions *o)
{
  g_free (o->optimizer);
  g_strfreev (o->data);
  g_free (o->history_csv);
  g_free (o->plot_png);
  g_free (o->output);
}

static int
parse_optimizer (const char *name)
{
  static const char *const names[] = { "sgd", "adam", "adamw", "rmsprop", NULL };
  for (int i = 0; names[i] != NULL; i++)
    if (g_ascii_strcasecmp (names[i], name) == 0)
      return i;
  return -1;
}

static gboolean
write_plot (const WeftHistory *h, const char *path, const char *title, GError **error)
{
  WeftChartOptions opts;
  weft_chart_options_init (&opts);
  /* A few epochs give a few points only: the per-batch curve says more then. */
  size_t first, count;
  weft_history_run_epochs (h, weft_history_current_run (h), &first, &count);
  opts.x_axis = count >= 5 ? WEFT_CHART_X_EPOCH : WEFT_CHART_X_STEP;
  if (opts.x_axis == WEFT_CHART_X_STEP)
    opts.smoothing = 0.6;
  opts.y_scale = WEFT_CHART_SCALE_LOG;
  opts.title = title;
  return weft_chart_save_png (h, path, PLOT_WIDTH, PLOT_HEIGHT, &opts, error);
}

/* Trains l->graph and writes the results. output NULL: do not save the graph. */
static int
train_loaded (Loaded *l, const TrainOptions *o, const char *output, const char *steps_csv)
{
  g_autoptr(GError) error = NULL;
  WeftError werr = { 0 };
  gboolean usage = FALSE;
  WeftTrainConfig original = *weft_graph_get_train_config (l->graph);
  WeftTrainConfig config = original;

  if (o->optimizer != NULL)
    {
      int kind = parse_optimizer (o->optimizer);
      if (kind != (int) config.optimizer.kind)
        weft_optim_config_defaults ((WeftOptimKind) kind, &config.optimizer);
    }
  if (!isnan (o->learning_rate))
    config.optimizer.learning_rate = (float) o->learning_rate;
  if (o->epochs > 0)
    config.epochs = o->epochs;
  if (o->batch_size > 0)
    config.batch_size = o->batch_size;
  if (o->seed >= 0)
    config.seed = (uint64_t) o->seed;
  if (o->threads >= 0)
    config.threads = o->threads;
  if (!isnan (o->validation_split))
    config.validation_split = (float) o->validation_split;

  if (print_diagnostics (l->graph, l->path != NULL ? l->path : l->stem) > 0)
    {
      err_printf (_("the graph is invalid; fix the errors above before training"));
      return WEFT_EXIT_INVALID;
    }

  WeftDataset *data = make_training_data (l, o->data, o->samples > 0 ? o->samples
                                                                      : DEFAULT_SAMPLES,
                                          config.seed, &config.validation_split, &usage,
                                          &error);
  if (data == NULL)
    {
      if (usage)
        return usage_error ("train", "%s", error->message);
      err_printf ("%s", error->message);
      return WEFT_EXIT_INVALID;
    }

  weft_graph_set_train_config (l->graph, &config);
  WeftTrainer *trainer = weft_trainer_new (l->graph, &config, &werr);
  if (trainer == NULL)
    {
      err_printf ("%s", werr.message);
      weft_dataset_free (data);
      return WEFT_EXIT_INVALID;
    }
  if (!weft_trainer_check_data (trainer, data, &werr))
    {
      err_printf (_("the data does not fit the model: %s"), werr.message);
      weft_trainer_free (trainer);
      weft_dataset_free (data);
      return WEFT_EXIT_INVALID;
    }

  WeftHistory *history = history_for (l->graph, l->history);
  if (history != l->history)
    {
      weft_history_free (l->history);
      l->history = history;
    }

  Progress p = { .history = history, .plan = weft_trainer_get_plan (trainer) };
  weft_plan_params (p.plan, &p.n_params);
  p.snapshot = g_new (float, MAX (p.n_params, 1));
  memcpy (p.snapshot, weft_plan_params (p.plan, NULL), p.n_params * sizeof (float));
  int n_heads = weft_history_n_heads (history);
  const char *head_names[WEFT_MAX_HEADS], *metric_names[WEFT_MAX_HEADS];
  for (int j = 0; j < n_heads; j++)
    {
      head_names[j] = weft_history_head_name (history, j);
      metric_names[j] = weft_history_metric_name (history, j);
    }

  /* TRANSLATORS: the %s before "learning rate" is the optimizer's Keras name (adam...) */
  printf (_("Training on %" PRId64 " samples (validation split %g): %d epochs, batch size "
            "%d, %s learning rate %g, seed %" PRIu64 "\n"),
          weft_dataset_n_samples (data), config.validation_split, config.epochs,
          config.batch_size,
          (const char *[]) { "sgd", "adam", "adamw", "rmsprop" }[config.optimizer.kind],
          config.optimizer.learning_rate, config.seed);
  fflush (stdout);
  p.bar = weft_progress_new (stdout, config.epochs, 0, n_heads, head_names);
  weft_progress_set_metric_names (p.bar, metric_names);
  weft_progress_set_first_epoch (p.bar, weft_trainer_epochs_done (trainer));

  struct sigaction sa = { 0 }, old_sa;
  sa.sa_handler = on_sigint;
  sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C ends the process the usual way */
  sigemptyset (&sa.sa_mask);
  cancel_flag = 0;
  sigaction (SIGINT, &sa, &old_sa);

  WeftTrainCallbacks cb = { .on_step = on_step, .on_epoch = on_epoch, .user_data = &p,
                            .cancel = &cancel_flag };
  gboolean ok = weft_trainer_fit (trainer, data, &cb, &werr);
  sigaction (SIGINT, &old_sa, NULL);
  g_clear_pointer (&p.bar, weft_progress_free);

  int status = WEFT_EXIT_OK;
  gboolean save_weights = ok;
  if (!ok && werr.code == WEFT_ERROR_CANCELLED)
    {
      status = WEFT_EXIT_INTERRUPT;
      if (p.epochs_finished > 0)
        {
          /* Keep what the history shows: the weights as they were after the last finished
           * epoch, not a half-trained mix. */
          memcpy (weft_plan_params (p.plan, NULL), p.snapshot, p.n_params * sizeof (float));
          save_weights = TRUE;
          err_printf (_("interrupted; keeping the weights of epoch %d"), p.epochs_finished);
        }
      else
        err_printf (_("interrupted before the first epoch finished; no weights saved"));
    }
  else if (!ok)
    {
      err_printf ("%s", werr.message);
      status = WEFT_EXIT_INVALID;
    }

  if (save_weights)
    weft_trainer_store_weights (trainer);
  weft_trainer_free (trainer);
  weft_dataset_free (data);
  g_free (p.snapshot);
  /* The file keeps its own training settings; command-line overrides are for this run. */
  weft_graph_set_train_config (l->graph, &original);

  int run = weft_history_current_run (history);
  if (o->history_csv != NULL)
    {
      if (!weft_csv_history_save (history, o->history_csv, WEFT_CSV_HISTORY_EPOCHS, run,
                                  &error))
        {
          err_printf ("%s", error->message);
          return WEFT_EXIT_INVALID;
        }
      printf (_("Wrote the loss history to %s\n"), o->history_csv);
    }
  if (steps_csv != NULL)
    {
      if (!weft_csv_history_save (history, steps_csv, WEFT_CSV_HISTORY_STEPS, run, &error))
        {
          err_printf ("%s", error->message);
          return WEFT_EXIT_INVALID;
        }
      printf (_("Wrote the per-batch loss history to %s\n"), steps_csv);
    }
  if (o->plot_png != NULL)
    {
      if (!write_plot (history, o->plot_png, l->meta.name != NULL ? l->meta.name : l->stem,
                       &error))
        {
          err_printf ("%s", error->message);
          return WEFT_EXIT_INVALID;
        }
      printf (_("Wrote the loss plot to %s\n"), o->plot_png);
    }
  if (output != NULL && save_weights)
    {
      g_autofree char *dir = g_path_get_dirname (output);
      if (g_mkdir_with_parents (dir, 0755) != 0)
        {
          err_printf (_("could not create the folder %s: %s"), dir, g_strerror (errno));
          return WEFT_EXIT_INVALID;
        }
      if (l->binding != NULL)
        {
          g_clear_pointer (&l->meta.data, json_node_unref);
          l->meta.data = weft_data_binding_to_json (l->binding, dir);
        }
      if (!weft_file_save_full (l->graph, history, &l->meta, output, &error))
        {
          err_printf ("%s", error->message);
          return WEFT_EXIT_INVALID;
        }
      g_autofree char *weights = weft_file_weights_path (output);
      printf (_("Saved the trained graph to %s and its weights to %s\n"), output, weights);
    }
  return status;
}

static const char *const train_description =
  N_("Trains the main model of FILE (a .weft file or the name of a built-in example) like\n"
  "Keras' model.fit. Settings default to the file's \"training\" section; the options\n"
  "override them for this run only.\n"
  "\n"
  "Data: the file's own data binding, or --data synthetic:NAME (built-in generators such\n"
  "as blobs, three-heads, siamese-pairs, two-views, random), or --data FILE.npz (arrays\n"
  "bound by name), or one --data NAME=FILE[:COLUMNS][:KEY=VALUE]... per model input and\n"
  "head: FILE is .npy (first axis = samples), .npz, .csv or an image folder; COLUMNS picks\n"
  "CSV columns (\"0-63\", \"64\") or an array; keys type=numeric|categorical|one-hot|text,\n"
  "normalise=none|standardise|min-max, header=yes|no, sep=comma|tab|..., and the entries\n"
  "validation=FRACTION|FILE, seed=N, shuffle=no. For example\n"
  "  --data pixels=digits.csv.gz:0-63:normalise=standardise --data digit=digits.csv.gz:64\n"
  "The binding used (with its normalisation statistics and vocabularies) is saved with\n"
  "the weights. Reference: docs/data-binding.md.\n"
  "\n"
  "Weights: like Keras' model.fit followed by model.save(FILE), the trained weights are\n"
  "written back beside FILE (FILE.weft + FILE.safetensors, atomically; the .weft records\n"
  "the new checksum and the loss history). Training continues from the weights already\n"
  "there. Use --output OTHER.weft to keep FILE unchanged, --no-save to save nothing.\n"
  "A built-in example is saved to ./NAME.weft unless --output is given.\n"
  "\n"
  "Ctrl-C stops after the current batch and keeps the weights of the last finished epoch\n"
  "(nothing is saved when no epoch finished); the exit status is then 130.");

static int
cmd_train (int argc, char **argv)
{
  TrainOptions o = { .epochs = -1, .batch_size = -1, .learning_rate = NAN, .seed = -1,
                     .threads = -1, .validation_split = NAN, .samples = -1 };
  GOptionEntry entries[] = {
    { "epochs", 0, 0, G_OPTION_ARG_INT, &o.epochs, N_("Number of epochs"), "N" },
    { "batch-size", 0, 0, G_OPTION_ARG_INT, &o.batch_size, N_("Samples per batch"), "N" },
    { "optimizer", 0, 0, G_OPTION_ARG_STRING, &o.optimizer,
      N_("sgd, adam, adamw or rmsprop (with its Keras defaults)"), "NAME" },
    { "learning-rate", 0, 0, G_OPTION_ARG_DOUBLE, &o.learning_rate, N_("Learning rate"), "X" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &o.seed, N_("Seed for weights, shuffling, dropout"),
      "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &o.threads, N_("Threads (0: automatic)"), "N" },
    { "validation-split", 0, 0, G_OPTION_ARG_DOUBLE, &o.validation_split,
      N_("Fraction of samples (the last ones) held out for validation"), "X" },
    { "data", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.data,
      N_("synthetic:NAME, FILE.npz or NAME=FILE[:COLUMNS][:KEY=VALUE] (repeatable)"), "SPEC" },
    { "samples", 0, 0, G_OPTION_ARG_INT64, &o.samples,
      N_("Samples of a synthetic data set (default 1024)"), "N" },
    { "history", 0, 0, G_OPTION_ARG_FILENAME, &o.history_csv,
      N_("Write the per-epoch, per-head loss history as CSV"), "OUT.csv" },
    { "plot", 0, 0, G_OPTION_ARG_FILENAME, &o.plot_png, N_("Write the loss curves as PNG"),
      "OUT.png" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output,
      N_("Save the trained graph here (default: FILE itself)"), "TRAINED.weft" },
    { "no-save", 0, 0, G_OPTION_ARG_NONE, &o.no_save, N_("Do not save the trained graph"),
      NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = option_context_new (N_("FILE - train a graph"));
  g_autoptr(GError) error = NULL;
  Loaded l;
  int status;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx, train_description);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      status = usage_error ("train", "%s", error->message);
      goto out;
    }
  if (argc != 2)
    {
      status = usage_error ("train", argc < 2 ? _("missing FILE") : _("unexpected argument '%s'"),
                            argv[argc < 2 ? 0 : 2]);
      goto out;
    }
  if (o.epochs == 0 || o.epochs < -1 || o.epochs > 1000000)
    {
      status = usage_error ("train", _("--epochs must be 1 or more"));
      goto out;
    }
  if (o.batch_size == 0 || o.batch_size < -1 || o.batch_size > (1 << 20))
    {
      status = usage_error ("train", _("--batch-size must be 1 or more"));
      goto out;
    }
  if (o.optimizer != NULL && parse_optimizer (o.optimizer) < 0)
    {
      status = usage_error ("train", _("unknown optimizer '%s' (sgd, adam, adamw or rmsprop)"),
                            o.optimizer);
      goto out;
    }
  if (!isnan (o.learning_rate) && !(o.learning_rate > 0 && o.learning_rate < 1e3))
    {
      status = usage_error ("train", _("--learning-rate must be above 0"));
      goto out;
    }
  if (!isnan (o.validation_split) && !(o.validation_split >= 0 && o.validation_split < 1))
    {
      status = usage_error ("train", _("--validation-split must be in [0, 1)"));
      goto out;
    }
  if (o.threads < -1 || o.threads > 1024)
    {
      status = usage_error ("train", _("--threads must be 0 (automatic) or more"));
      goto out;
    }
  if (o.samples == 0 || o.samples < -1 || o.samples > (G_GINT64_CONSTANT (1) << 31))
    {
      status = usage_error ("train", _("--samples must be 1 or more"));
      goto out;
    }
  if (o.seed < -1)
    {
      status = usage_error ("train", _("--seed must be 0 or more"));
      goto out;
    }
  if (!load_graph (argv[1], &l, &error))
    {
      err_printf ("%s", error->message);
      status = WEFT_EXIT_INVALID;
      goto out;
    }
  {
    g_autofree char *default_out = l.path != NULL ? g_strdup (l.path)
                                                  : g_strconcat (l.stem, ".weft", NULL);
    const char *output = o.no_save ? NULL : o.output != NULL ? o.output : default_out;
    status = train_loaded (&l, &o, output, NULL);
  }
  loaded_clear (&l);
out:
  train_options_clear (&o);
  return status;
}

/* ------------------------------------------------------------------------------------------
 * predict
 * ---------------------------------------------------------------------------------------- */

static int
cmd_predict (int argc, char **argv)
{
  char *out_dir = NULL;
  int threads = 0;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      N_("Folder for output_<j>.npy, one per head in output order (default: .)"), "DIR" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, N_("Threads (0: automatic)"), "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = option_context_new (N_("FILE [INPUT.npy...] - run the main "
                                                         "model on arrays"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func (pending_free);
  WeftError werr = { 0 };
  WeftDataset *data = NULL;
  float *outputs[WEFT_MAX_HEADS] = { 0 };
  int n_out = 0;
  int status = WEFT_EXIT_INVALID;
  Loaded l = { 0 };

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    N_("Inputs are bound in the model's input order, or by name with NAME=FILE.npy; the first\n"
       "axis is the sample axis. Writes DIR/output_0.npy, output_1.npy... (float32), one per\n"
       "head in the model's output order. Without INPUT files the inputs come from FILE's\n"
       "data binding (its input feeds in file order, normalised with the statistics that\n"
       "weft train saved)."));
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      status = usage_error ("predict", "%s", error->message);
      goto out;
    }
  if (argc < 2)
    {
      status = usage_error ("predict", _("missing FILE"));
      goto out;
    }
  if (threads < 0)
    {
      status = usage_error ("predict", _("--threads must be 0 (automatic) or more"));
      goto out;
    }
  if (!load_graph (argv[1], &l, &error))
    {
      err_printf ("%s", error->message);
      goto out;
    }
  if (print_diagnostics (l.graph, argv[1]) > 0)
    {
      err_printf (_("the graph is invalid; fix the errors above first"));
      goto out;
    }
  WeftId model = weft_graph_get_main_model (l.graph);
  int n_inputs = weft_graph_model_n_inputs (l.graph, model);
  if (argc == 2)
    {
      /* no arrays given: the input feeds of the file's data binding */
      if (l.meta.data == NULL)
        {
          status = usage_error ("predict", _("missing INPUT.npy (%s has no data binding to "
                                             "read inputs from)"), argv[1]);
          goto out;
        }
      g_autoptr(WeftDataBinding) binding = weft_data_binding_from_json (l.meta.data,
                                                                        l.base_dir, &error);
      if (binding != NULL)
        data = weft_data_binding_load_inputs (binding, l.graph, NULL, NULL, &error);
      if (data == NULL)
        {
          err_printf ("%s", error->message);
          goto out;
        }
      goto have_data;
    }
  if (argc - 2 > n_inputs)
    {
      status = usage_error ("predict", g_dngettext (GETTEXT_PACKAGE,
                                                    "%d input files for a model with %d input",
                                                    "%d input files for a model with %d inputs",
                                                    n_inputs), argc - 2, n_inputs);
      goto out;
    }
  for (int i = 2; i < argc; i++)
    {
      const char *eq = strchr (argv[i], '=');
      g_autofree char *name = eq != NULL ? g_strndup (argv[i], eq - argv[i])
                                         : g_strdup (weft_graph_model_input_name (l.graph,
                                                                                  model, i - 2));
      const char *file = eq != NULL ? eq + 1 : argv[i];
      if (!add_npy (pending, name, file, &error))
        {
          err_printf ("%s", error->message);
          goto out;
        }
    }
  /* Check each bound array against its input, naming both shapes. */
  for (guint k = 0; k < pending->len; k++)
    {
      Pending *pd = pending->pdata[k];
      int i;
      for (i = 0; i < n_inputs; i++)
        if (strcmp (weft_graph_model_input_name (l.graph, model, i), pd->name) == 0)
          break;
      if (i == n_inputs)
        {
          status = usage_error ("predict", _("the model has no input named '%s'"), pd->name);
          goto out;
        }
      WeftShape want;
      if (weft_graph_node_shape (l.graph, weft_graph_model_input (l.graph, model, i), 0, &want))
        {
          gboolean fits = pd->array.rank == want.rank + 1
                          || (want.rank == 1 && want.dims[0] == 1 && pd->array.rank == 1);
          for (int d = 0; fits && pd->array.rank == want.rank + 1 && d < want.rank; d++)
            fits = pd->array.dims[d + 1] == want.dims[d];
          if (!fits)
            {
              char buf[128];
              g_autofree char *have = format_dims (pd->array.dims, pd->array.rank);
              err_printf (_("input '%s' expects shape %s but %s holds an array of shape %s"),
                          pd->name, weft_shape_format (&want, buf, sizeof buf), pd->file,
                          have);
              goto out;
            }
        }
    }
  for (int i = 0; i < n_inputs; i++)
    {
      const char *name = weft_graph_model_input_name (l.graph, model, i);
      gboolean found = FALSE;
      for (guint k = 0; k < pending->len && !found; k++)
        found = strcmp (((Pending *) pending->pdata[k])->name, name) == 0;
      if (!found)
        {
          status = usage_error ("predict", _("no array for the model input '%s'"), name);
          goto out;
        }
    }
  data = dataset_from_pending (pending, &error);
  if (data == NULL)
    {
      err_printf ("%s", error->message);
      goto out;
    }

have_data:;
  int64_t n = weft_dataset_n_samples (data);
  n_out = MIN (weft_graph_model_n_outputs (l.graph, model), WEFT_MAX_HEADS);
  WeftShape shapes[WEFT_MAX_HEADS];
  for (int j = 0; j < n_out; j++)
    {
      const WeftHead *h = weft_graph_model_output (l.graph, model, j);
      if (!weft_graph_node_shape (l.graph, h->node, h->port, &shapes[j]))
        {
          err_printf (_("the shape of output %d is unknown"), j);
          goto out;
        }
      outputs[j] = g_try_new0 (float, (gsize) n * (gsize) weft_shape_size (&shapes[j]));
      if (outputs[j] == NULL)
        {
          err_printf (_("out of memory for output %d"), j);
          goto out;
        }
    }
  {
    gboolean any = FALSE;
    for (int i = 0; i < weft_graph_n_layers (l.graph) && !any; i++)
      {
        int nw = 0;
        const WeftWeight *w = weft_graph_layer_weights (l.graph, weft_graph_layer_at (l.graph, i),
                                                        &nw);
        for (int k = 0; k < nw; k++)
          any |= w[k].data != NULL;
      }
    if (!any)
      {
        g_autofree char *msg = g_strdup_printf (_("%s has no trained weights; predicting with "
                                                  "freshly initialised ones (seed %" PRIu64 ")"),
                                                argv[1],
                                                weft_graph_get_train_config (l.graph)->seed);
        err_printf ("%s: %s", _("warning"), msg);
      }
  }
  if (!weft_predict (l.graph, data, outputs, threads, &werr))
    {
      err_printf ("%s", werr.message);
      goto out;
    }
  if (out_dir == NULL)
    out_dir = g_strdup (".");
  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      err_printf (_("could not create the folder %s: %s"), out_dir, g_strerror (errno));
      goto out;
    }
  for (int j = 0; j < n_out; j++)
    {
      int64_t dims[WEFT_NPY_MAX_RANK];
      g_autofree char *base = g_strdup_printf ("output_%d.npy", j);
      g_autofree char *path = g_build_filename (out_dir, base, NULL);
      dims[0] = n;
      for (int d = 0; d < shapes[j].rank; d++)
        dims[d + 1] = shapes[j].dims[d];
      if (!weft_npy_write (path, outputs[j], shapes[j].rank + 1, dims, &error))
        {
          err_printf ("%s", error->message);
          goto out;
        }
      g_autofree char *shape = format_dims (dims, shapes[j].rank + 1);
      printf ("%s: %s %s\n", path, weft_graph_model_output_name (l.graph, model, j), shape);
    }
  status = WEFT_EXIT_OK;

out:
  for (int j = 0; j < n_out; j++)
    g_free (outputs[j]);
  weft_dataset_free (data);
  if (l.graph != NULL)
    loaded_clear (&l);
  g_free (out_dir);
  return status;
}

static int
cmd_export (int argc, char **argv)
{
  g_autofree char *format = NULL;
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format,
      N_("png, svg or pdf (default: from --output, else svg)"), "FORMAT" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("the picture to write (default: FILE with the format's extension)"), "PATH" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = option_context_new (N_("FILE - draw the graph as a picture"));
  g_autoptr(GError) error = NULL;
  Loaded l;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage_error ("export", "%s", error->message);
  if (argc != 2)
    return usage_error ("export", argc < 2 ? _("missing FILE") : _("one FILE at a time"));
  if (format != NULL && strcmp (format, "png") != 0 && strcmp (format, "svg") != 0
      && strcmp (format, "pdf") != 0)
    return usage_error ("export", _("unknown format '%s' (png, svg or pdf)"), format);
  if (format == NULL && output != NULL)
    {
      const char *dot = strrchr (output, '.');
      if (dot != NULL && (g_ascii_strcasecmp (dot, ".png") == 0 || g_ascii_strcasecmp (dot, ".svg") == 0
                          || g_ascii_strcasecmp (dot, ".pdf") == 0))
        format = g_ascii_strdown (dot + 1, -1);
      else
        return usage_error ("export", _("cannot tell the format of '%s': use --format"), output);
    }
  if (format == NULL)
    format = g_strdup ("svg");
  if (!load_graph (argv[1], &l, &error))
    {
      err_printf ("%s", error->message);
      return WEFT_EXIT_INVALID;
    }
  if (output == NULL)
    {
      g_autofree char *base = g_path_get_basename (argv[1]);
      char *dot = strrchr (base, '.');
      if (dot != NULL)
        *dot = '\0';
      output = g_strdup_printf ("%s.%s", base, format);
    }
  int status = WEFT_EXIT_OK;
  if (!weft_canvas_export (l.graph, output, format, &error))
    {
      err_printf ("%s", error->message);
      status = WEFT_EXIT_INVALID;
    }
  else
    printf ("%s\n", output);
  loaded_clear (&l);
  return status;
}

/* ------------------------------------------------------------------------------------------
 * weft data inspect
 * ---------------------------------------------------------------------------------------- */

static int
cmd_data (int argc, char **argv)
{
  gboolean header = FALSE;
  int skip = 0, rows = 5;
  char *sep = NULL;
  GOptionEntry entries[] = {
    { "header", 0, 0, G_OPTION_ARG_NONE, &header, N_("CSV: the first line names the columns"),
      NULL },
    { "skip", 0, 0, G_OPTION_ARG_INT, &skip, N_("CSV: lines to skip first"), "N" },
    { "sep", 0, 0, G_OPTION_ARG_STRING, &sep,
      N_("CSV separator: comma, semicolon, tab, space or auto (default)"), "SEP" },
    { "rows", 0, 0, G_OPTION_ARG_INT, &rows, N_("Rows to show (default 5)"), "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = option_context_new (N_("inspect SOURCE - describe a data "
                                                         "source"));
  g_autoptr(GError) error = NULL;
  g_autoptr(WeftCsvOptions) options = weft_csv_options_new ();

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    N_("SOURCE is a CSV file (plain or .gz), an .npy or .npz file, or an image folder (one\n"
       "sub-folder per class). Prints its columns or arrays, their types and shapes and the\n"
       "first rows: what --data NAME=SOURCE[:COLUMNS] of weft train can pick from."));
  gboolean parsed = g_option_context_parse (ctx, &argc, &argv, &error);
  g_autofree char *sep_owned = sep;
  if (!parsed)
    return usage_error ("data", "%s", error->message);
  if (argc < 2 || strcmp (argv[1], "inspect") != 0)
    {
      if (argc < 2)
        return usage_error ("data", _("missing the action: weft data inspect SOURCE"));
      return usage_error ("data", _("unknown action '%s' (known: inspect)"), argv[1]);
    }
  if (argc != 3)
    return usage_error ("data", argc < 3 ? _("missing SOURCE") : _("one SOURCE at a time"));
  if (skip < 0 || rows < 0)
    return usage_error ("data", _("--skip and --rows must not be negative"));
  options->header = header;
  options->skip_lines = skip;
  if (sep != NULL)
    {
      static const char *const names[] = { "comma", "semicolon", "tab", "space", "auto", NULL };
      static const char seps[] = { ',', ';', '\t', ' ', 0 };
      int k = 0;
      while (names[k] != NULL && strcmp (names[k], sep) != 0)
        k++;
      if (names[k] == NULL)
        return usage_error ("data", _("--sep must be comma, semicolon, tab, space or auto"));
      options->separator = seps[k];
    }
  g_autofree char *text = weft_data_inspect (argv[2], options, rows, &error);
  if (text == NULL)
    {
      err_printf ("%s", error->message);
      return WEFT_EXIT_INVALID;
    }
  fputs (text, stdout);
  return WEFT_EXIT_OK;
}

/* ------------------------------------------------------------------------------------------
 * Entry points
 * ---------------------------------------------------------------------------------------- */

static const char *const commands[] = { "summary", "validate", "train", "predict", "examples",
                                        "export", "convert", "bench", "data", "help", "--help", "-h", "--version", NULL };

gboolean
weft_cli_handles (int argc, char **argv)
{
  return argc >= 2 && g_strv_contains (commands, argv[1]);
}

gboolean
weft_cli_have_display (void)
{
  const char *x = g_getenv ("DISPLAY");
  const char *w = g_getenv ("WAYLAND_DISPLAY");
  return (x != NULL && x[0] != '\0') || (w != NULL && w[0] != '\0');
}


static void
print_help (FILE *out)
{
  /* TRANSLATORS: keep the command lines and options; the first %s is the built-in
   * example's name, the second the folder the headless run writes to */
  fprintf (out, _(
    "Usage:\n"
    "  weft [FILE.weft]             open the editor (without a display: train FILE or the\n"
    "                               built-in example '%s' headless and write\n"
    "                               its history to ./%s/; options --epochs N,\n"
    "                               --samples N, --out DIR)\n"
    "  weft summary FILE            Keras-style model summary\n"
    "  weft validate FILE...        list every error and warning (exit 1 on errors)\n"
    "  weft train FILE [OPTIONS]    train (see weft train --help)\n"
    "  weft predict FILE IN.npy... --out DIR\n"
    "                               run the model, write DIR/output_<j>.npy per head\n"
    "  weft examples                list the built-in examples (usable as FILE)\n"
    "  weft data inspect SOURCE     columns or arrays, types, shapes and first rows of a CSV,\n"
    "                               NPY/NPZ file or image folder (weft data --help)\n"
    "  weft export [--format png|svg|pdf] [--output PATH] FILE\n"
    "                               draw the graph as a picture\n"
    "  weft convert SRC DST [--to onnx|tfjs|pytorch|keras|weft]\n"
    "                               Keras/TensorFlow.js model.json to .weft; .weft to ONNX,\n"
    "                               TensorFlow.js, PyTorch or Keras code\n"
    "  weft bench [OPTIONS]         training and inference throughput (weft bench --help)\n"
    "  weft --version               version and the OpenBLAS build in use\n"
    "\n"
    "Exit status: 0 success, 1 invalid graph or data, 2 usage error, 130 interrupted.\n"),
    WEFT_DEFAULT_EXAMPLE, WEFT_DEMO_DIR);
}

int
weft_cli_run (int argc, char **argv)
{
  const char *cmd = argc >= 2 ? argv[1] : "";

  if (strcmp (cmd, "--version") == 0)
    {
      printf ("weft %s\n%s\n", PACKAGE_VERSION, weft_openblas_report ());
      return WEFT_EXIT_OK;
    }
  if (strcmp (cmd, "help") == 0 || strcmp (cmd, "--help") == 0 || strcmp (cmd, "-h") == 0)
    {
      print_help (stdout);
      return WEFT_EXIT_OK;
    }

  /* The sub-command's own argv: "weft train" is its program name for GOption. */
  g_autofree char *prgname = g_strdup_printf ("weft %s", cmd);
  g_autofree char **sub = g_new0 (char *, argc);
  sub[0] = prgname;
  for (int i = 2; i < argc; i++)
    sub[i - 1] = argv[i];
  int sub_argc = argc - 1;
  g_set_prgname (prgname);

  if (strcmp (cmd, "summary") == 0)
    return cmd_summary (sub_argc, sub);
  if (strcmp (cmd, "validate") == 0)
    return cmd_validate (sub_argc, sub);
  if (strcmp (cmd, "train") == 0)
    return cmd_train (sub_argc, sub);
  if (strcmp (cmd, "predict") == 0)
    return cmd_predict (sub_argc, sub);
  if (strcmp (cmd, "examples") == 0)
    return cmd_examples (sub_argc, sub);
  if (strcmp (cmd, "export") == 0)
    return cmd_export (sub_argc, sub);
  if (strcmp (cmd, "convert") == 0)
    return weft_convert_main (sub_argc, sub);
  if (strcmp (cmd, "bench") == 0)
    return weft_bench_main (sub_argc, sub);
  if (strcmp (cmd, "data") == 0)
    return cmd_data (sub_argc, sub);
  print_help (stderr);
  return WEFT_EXIT_USAGE;
}

int
weft_cli_demo (int argc, char **argv)
{
  TrainOptions o = { .epochs = -1, .batch_size = -1, .learning_rate = NAN, .seed = -1,
                     .threads = -1, .validation_split = NAN, .samples = -1 };
  char *out_dir = NULL;
  g_autofree char *out_help = g_strdup_printf (_("Where to write the results (default ./%s)"),
                                               WEFT_DEMO_DIR);
  g_autofree char *summary = g_strdup_printf (_("Without a display, trains FILE or the "
                                                "built-in example '%s' headless."),
                                              WEFT_DEFAULT_EXAMPLE);
  GOptionEntry entries[] = {
    { "epochs", 0, 0, G_OPTION_ARG_INT, &o.epochs, N_("Number of epochs"), "N" },
    { "samples", 0, 0, G_OPTION_ARG_INT64, &o.samples, N_("Samples of the synthetic data"),
      "N" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out_dir, out_help, "DIR" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = option_context_new ("[FILE.weft]");
  g_autoptr(GError) error = NULL;
  Loaded l;
  int status;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, summary);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      status = usage_error ("", "%s", error->message);
      goto out;
    }
  if (argc > 2)
    {
      status = usage_error ("", _("unexpected argument '%s'"), argv[2]);
      goto out;
    }
  if (o.epochs == 0 || o.epochs < -1 || o.samples == 0 || o.samples < -1)
    {
      status = usage_error ("", _("--epochs and --samples must be 1 or more"));
      goto out;
    }
  if (argc == 2 && !g_file_test (argv[1], G_FILE_TEST_EXISTS)
      && !g_str_has_suffix (argv[1], ".weft") && lookup_example (argv[1]) == NULL)
    {
      print_help (stderr);
      status = usage_error ("", _("unknown command '%s'"), argv[1]);
      goto out;
    }

  const char *what = argc == 2 ? argv[1] : WEFT_DEFAULT_EXAMPLE;
  if (!load_graph (what, &l, &error))
    {
      err_printf ("%s", error->message);
      status = WEFT_EXIT_INVALID;
      goto out;
    }
  if (out_dir == NULL)
    out_dir = g_strdup (WEFT_DEMO_DIR);
  if (l.path != NULL)
    printf (_("No display found (DISPLAY and WAYLAND_DISPLAY are unset): training the file "
              "'%s' headless; results go to %s/\n"), l.path, out_dir);
  else
    printf (_("No display found (DISPLAY and WAYLAND_DISPLAY are unset): training the "
              "built-in example '%s' headless; results go to %s/\n"), l.stem, out_dir);
  printf ("\n");
  print_summary (l.graph);
  printf ("\n");
  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      err_printf (_("could not create the folder %s: %s"), out_dir, g_strerror (errno));
      loaded_clear (&l);
      status = WEFT_EXIT_INVALID;
      goto out;
    }
  {
    g_autofree char *base = g_strconcat (l.stem, ".weft", NULL);
    g_autofree char *output = g_build_filename (out_dir, base, NULL);
    g_autofree char *steps = g_build_filename (out_dir, "history-steps.csv", NULL);
    o.history_csv = g_build_filename (out_dir, "history.csv", NULL);
    o.plot_png = g_build_filename (out_dir, "loss.png", NULL);
    status = train_loaded (&l, &o, output, steps);
  }
  loaded_clear (&l);
out:
  g_free (out_dir);
  train_options_clear (&o);
  return status;
}
