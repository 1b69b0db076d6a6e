/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Data bindings: JSON round trip with relative paths, loading real data into a model's
 * inputs and heads (reshaped), shuffling with a seed, splits, normalisation statistics from
 * the training part only, pairs, separate validation files, NPY/NPZ and image folders,
 * command-line entries, and errors that name the input or head and both shapes. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <math.h>
#include <string.h>

#include "weft-data-source.h"
#include "weft-file.h"
#include "weft-npy.h"

/* |mean| of standardised training columns (float32 sums over ~1,400 rows). */
#define MEAN_TOLERANCE 1e-4

static char *tmp_dir;

static char *
src_path (const char *dir, const char *name)
{
  const char *src = g_getenv ("WEFT_SOURCE_DIR");
  g_assert_nonnull (src);
  return g_build_filename (src, "resources", dir, name, NULL);
}

static char *
write_tmp (const char *name, const char *text)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static WeftGraph *
load_example (const char *name)
{
  g_autofree char *path = src_path ("examples", name);
  g_autoptr (GError) error = NULL;
  WeftGraph *g = weft_file_load (path, NULL, &error);
  g_assert_no_error (error);
  return g;
}

static WeftDataBinding *
example_binding (const char *name)
{
  g_autofree char *path = src_path ("examples", name);
  g_autoptr (GError) error = NULL;
  WeftDataBinding *b = weft_data_binding_from_weft_file (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (b);
  return b;
}

static WeftDataBinding *
binding_from_text (const char *json, const char *base, GError **error)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, json, -1, NULL));
  return weft_data_binding_from_json (json_parser_get_root (p), base, error);
}

static char *
binding_text (const WeftDataBinding *b, const char *base)
{
  JsonNode *n = weft_data_binding_to_json (b, base);
  char *s = json_to_string (n, TRUE);
  json_node_unref (n);
  return s;
}

static void
expect_load_error (WeftDataBinding *b, WeftGraph *g, const char *const *fragments)
{
  g_autoptr (GError) error = NULL;
  WeftDataLoad load = { (WeftDataset *) 0x1, 0, 0 };
  g_assert_false (weft_data_binding_load (b, g, 0.2, TRUE, NULL, NULL, &load, &error));
  g_assert_null (load.data);
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  for (int i = 0; fragments[i] != NULL; i++)
    if (strstr (error->message, fragments[i]) == NULL)
      g_error ("'%s' lacks '%s'", error->message, fragments[i]);
}

static void
test_two_heads_loads_and_standardises (void)
{
  WeftGraph *g = load_example ("digits-two-heads.weft");
  g_autoptr (WeftDataBinding) b = example_binding ("digits-two-heads.weft");
  g_autoptr (GError) error = NULL;
  WeftDataLoad load;
  g_assert_true (weft_data_binding_load (b, g, 0.2, TRUE, NULL, NULL, &load, &error));
  g_assert_no_error (error);
  g_assert_cmpint (weft_dataset_n_samples (load.data), ==, 1797);
  g_assert_cmpint (load.n_train, ==, 1437);   /* (int) (1797 * 0.8), as the trainer splits */
  g_assert_cmpint ((int64_t) (1797 * (1.0 - (double) load.validation_split)), ==, 1437);

  const WeftArray *px = weft_dataset_find (load.data, "pixels");
  const WeftArray *digit = weft_dataset_find (load.data, "digit");
  const WeftArray *even = weft_dataset_find (load.data, "even");
  g_assert_nonnull (px);
  g_assert_cmpint (px->shape.rank, ==, 3);
  g_assert_cmpint (px->shape.dims[0], ==, 8);
  g_assert_cmpint (px->shape.dims[2], ==, 1);
  g_assert_cmpint (weft_shape_size (&digit->shape), ==, 1);
  g_assert_cmpint (weft_shape_size (&even->shape), ==, 1);
  for (int64_t r = 0; r < 1797; r++)
    {
      int d = (int) digit->data[r];
      g_assert_cmpfloat (even->data[r], ==, d % 2 == 0 ? 1.0f : 0.0f);
    }
  /* standardised with training statistics: training columns have mean 0, and a feature that
   * varies has std 1 there; the held-out rows are transformed with the same numbers */
  int varying = 0;
  for (int k = 0; k < 64; k++)
    {
      double s = 0, s2 = 0;
      for (int64_t r = 0; r < load.n_train; r++)
        {
          double v = px->data[r * 64 + k];
          s += v;
          s2 += v * v;
        }
      double mean = s / (double) load.n_train, var = s2 / (double) load.n_train - mean * mean;
      g_assert_cmpfloat (fabs (mean), <, MEAN_TOLERANCE);
      if (var > 0.5)
        {
          g_assert_cmpfloat_with_epsilon (var, 1.0, 1e-3);
          varying++;
        }
    }
  g_assert_cmpint (varying, >, 50);

  /* the statistics are kept in the binding; loading without fitting reproduces the data */
  g_autofree char *json = binding_text (b, NULL);
  g_assert_nonnull (strstr (json, "\"statistics\""));
  g_assert_nonnull (strstr (json, "\"mean\""));
  WeftDataLoad again;
  g_assert_true (weft_data_binding_load (b, g, 0.2, FALSE, NULL, NULL, &again, &error));
  g_assert_cmpint (memcmp (px->data, weft_dataset_find (again.data, "pixels")->data,
                           sizeof (float) * 1797 * 64), ==, 0);
  weft_data_load_clear (&again);
  weft_data_load_clear (&load);
  weft_graph_free (g);
}

static void
test_shuffle_seed (void)
{
  WeftGraph *g = load_example ("digits-two-heads.weft");
  g_autoptr (WeftDataBinding) b = example_binding ("digits-two-heads.weft");
  g_autoptr (GError) error = NULL;
  WeftDataLoad l1, l2, l3, l4;
  g_assert_true (weft_data_binding_load (b, g, 0.2, TRUE, NULL, NULL, &l1, &error));
  g_assert_true (weft_data_binding_load (b, g, 0.2, TRUE, NULL, NULL, &l2, &error));
  g_assert_true (weft_data_binding_add_spec (b, "seed=8", &error));
  g_assert_true (weft_data_binding_load (b, g, 0.2, TRUE, NULL, NULL, &l3, &error));
  g_assert_true (weft_data_binding_add_spec (b, "shuffle=no", &error));
  g_assert_true (weft_data_binding_load (b, g, 0.2, TRUE, NULL, NULL, &l4, &error));
  g_assert_no_error (error);
  const float *d1 = weft_dataset_find (l1.data, "digit")->data;
  const float *d2 = weft_dataset_find (l2.data, "digit")->data;
  const float *d3 = weft_dataset_find (l3.data, "digit")->data;
  const float *d4 = weft_dataset_find (l4.data, "digit")->data;
  g_assert_cmpint (memcmp (d1, d2, sizeof (float) * 1797), ==, 0);
  g_assert_cmpint (memcmp (d1, d3, sizeof (float) * 1797), !=, 0);
  /* file order: the digits file starts 0, 1, 2, 3 */
  for (int r = 0; r < 4; r++)
    g_assert_cmpfloat (d4[r], ==, (float) r);
  /* shuffling moves whole rows: the same multiset of labels */
  double s1 = 0, s3 = 0;
  for (int r = 0; r < 1797; r++)
    {
      s1 += d1[r];
      s3 += d3[r];
    }
  g_assert_cmpfloat (s1, ==, s3);
  weft_data_load_clear (&l1);
  weft_data_load_clear (&l2);
  weft_data_load_clear (&l3);
  weft_data_load_clear (&l4);
  weft_graph_free (g);
}

static void
test_inputs_for_prediction (void)
{
  WeftGraph *g = load_example ("digits-two-heads.weft");
  g_autoptr (WeftDataBinding) b = example_binding ("digits-two-heads.weft");
  g_autoptr (GError) error = NULL;
  /* without stored statistics there is nothing to normalise with */
  g_assert_null (weft_data_binding_load_inputs (b, g, NULL, NULL, &error));
  g_assert_nonnull (strstr (error->message, "no normalisation statistics"));
  g_clear_error (&error);

  g_assert_true (weft_data_binding_add_spec (b, "shuffle=no", &error));
  WeftDataLoad load;
  g_assert_true (weft_data_binding_load (b, g, 0.2, TRUE, NULL, NULL, &load, &error));
  WeftDataset *in = weft_data_binding_load_inputs (b, g, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (weft_dataset_n_arrays (in), ==, 1);
  g_assert_cmpint (weft_dataset_n_samples (in), ==, 1797);
  /* the same rows, normalised with the training statistics */
  g_assert_cmpint (memcmp (weft_dataset_find (in, "pixels")->data,
                           weft_dataset_find (load.data, "pixels")->data,
                           sizeof (float) * 1797 * 64), ==, 0);
  weft_dataset_free (in);
  weft_data_load_clear (&load);
  weft_graph_free (g);
}

static void
test_json_round_trip_relative_paths (void)
{
  g_autoptr (WeftDataBinding) b = example_binding ("digits-two-heads.weft");
  g_autofree char *examples = src_path ("examples", "");
  g_autofree char *text = binding_text (b, examples);
  g_assert_nonnull (strstr (text, "\"../data/digits.csv.gz\""));
  g_assert_nonnull (strstr (text, "\"classes\""));
  g_autoptr (GError) error = NULL;
  g_autoptr (WeftDataBinding) b2 = binding_from_text (text, examples, &error);
  g_assert_no_error (error);
  g_autofree char *text2 = binding_text (b2, examples);
  g_assert_cmpstr (text, ==, text2);
  /* seen from another folder the path is rewritten to still reach the same file */
  g_autofree char *resources = src_path ("", "");
  g_autofree char *text3 = binding_text (b2, resources);
  g_assert_nonnull (strstr (text3, "\"data/digits.csv.gz\""));

  /* URIs (examples in the GResource) resolve and relativise the same way */
  const char *uri_json = "{\"sources\": {\"d\": {\"path\": \"../data/d.csv\", "
                         "\"format\": \"csv\"}}, \"feeds\": {}}";
  g_autoptr (WeftDataBinding) bu = binding_from_text (uri_json, "resource:///x/examples/", &error);
  g_assert_no_error (error);
  g_autofree char *abs_text = binding_text (bu, NULL);
  g_assert_nonnull (strstr (abs_text, "\"../data/d.csv\""));
  g_autofree char *rel_text = binding_text (bu, "resource:///x/examples");
  g_assert_nonnull (strstr (rel_text, "\"../data/d.csv\""));
  g_autofree char *other = binding_text (bu, "resource:///x/");
  g_assert_nonnull (strstr (other, "\"data/d.csv\""));

  /* every unknown key and bad value is named */
  const char *bad[][2] = {
    { "{\"sources\": {}, \"feeds\": {}, \"shufle\": true}", "unknown key 'shufle'" },
    { "{\"sources\": {\"s\": {\"path\": \"x.csv\"}}, \"feeds\": {}}", "'format' is missing" },
    { "{\"sources\": {\"s\": {\"path\": \"x.csv\", \"format\": \"xls\"}}, \"feeds\": {}}",
      "'format' must be one of" },
    { "{\"sources\": {}, \"feeds\": {\"x\": {\"source\": \"nope\"}}}", "no source named 'nope'" },
    { "{\"sources\": {\"s\": {\"path\": \"x.csv\", \"format\": \"csv\"}}, \"feeds\": {\"x\": "
      "{\"source\": \"s\", \"normalise\": \"zscore\"}}}", "'normalise' must be one of" },
    { "{\"sources\": {\"s\": {\"path\": \"x.csv\", \"format\": \"csv\"}}, \"feeds\": {\"x\": "
      "{\"source\": \"s\", \"pair\": \"first\"}}}", "'pair' needs a 'pairs' object" },
    { "{\"sources\": {}, \"feeds\": {}, \"validation_split\": 1.5}", "validation_split" },
    { "[1, 2]", "must be a JSON object" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      WeftDataBinding *x = binding_from_text (bad[i][0], NULL, &e);
      g_assert_null (x);
      g_assert_nonnull (e);
      g_test_message ("%s", e->message);
      g_assert_nonnull (strstr (e->message, bad[i][1]));
    }
}

static void
test_shape_errors_name_input_or_head (void)
{
  WeftGraph *g = load_example ("digits-two-heads.weft");
  g_autofree char *digits = src_path ("data", "digits.csv.gz");
  g_autoptr (GError) error = NULL;
  {
    g_autoptr (WeftDataBinding) b = weft_data_binding_new ();
    g_autofree char *s1 = g_strdup_printf ("pixels=%s:0-62", digits);
    g_autofree char *s2 = g_strdup_printf ("digit=%s:64", digits);
    g_autofree char *s3 = g_strdup_printf ("even=%s:64", digits);
    g_assert_true (weft_data_binding_add_spec (b, s1, &error));
    g_assert_true (weft_data_binding_add_spec (b, s2, &error));
    g_assert_true (weft_data_binding_add_spec (b, s3, &error));
    expect_load_error (b, g, (const char *const[]) { "input 'pixels'", "(None, 8, 8, 1)",
                                                     "(None, 63)", "columns 0-62", NULL });
  }
  {
    g_autoptr (WeftDataBinding) b = weft_data_binding_new ();
    g_autofree char *s1 = g_strdup_printf ("pixels=%s:0-63", digits);
    g_autofree char *s2 = g_strdup_printf ("digit=%s:64:type=one-hot", digits);
    g_autofree char *s3 = g_strdup_printf ("even=%s:64", digits);
    g_assert_true (weft_data_binding_add_spec (b, s1, &error));
    g_assert_true (weft_data_binding_add_spec (b, s2, &error));
    g_assert_true (weft_data_binding_add_spec (b, s3, &error));
    expect_load_error (b, g, (const char *const[]) { "head 'digit'", "(None, 10)",
                                                     "one class index", "(None, 10)", NULL });
  }
  {
    g_autoptr (WeftDataBinding) b = weft_data_binding_new ();
    g_autofree char *s1 = g_strdup_printf ("pixels=%s:0-63", digits);
    g_autofree char *s2 = g_strdup_printf ("digits=%s:64", digits);
    g_assert_true (weft_data_binding_add_spec (b, s1, &error));
    g_assert_true (weft_data_binding_add_spec (b, s2, &error));
    expect_load_error (b, g, (const char *const[]) { "'digits'", "neither an input nor a head",
                                                     "heads: digit, even", NULL });
  }
  {
    g_autoptr (WeftDataBinding) b = weft_data_binding_new ();
    g_autofree char *s1 = g_strdup_printf ("pixels=%s:0-63", digits);
    g_autofree char *s2 = g_strdup_printf ("digit=%s:64", digits);
    g_assert_true (weft_data_binding_add_spec (b, s1, &error));
    g_assert_true (weft_data_binding_add_spec (b, s2, &error));
    expect_load_error (b, g, (const char *const[]) { "no data for head 'even'", NULL });
  }
  {
    /* bad data inside the file: file, line and column, and no data set */
    g_autofree char *bad = write_tmp ("bad-digits.csv", "1,2,3\n4,x,6\n");
    g_autoptr (WeftDataBinding) b = weft_data_binding_new ();
    g_autofree char *s1 = g_strdup_printf ("pixels=%s:0-1", bad);
    g_autofree char *s2 = g_strdup_printf ("digit=%s:2", bad);
    g_autofree char *s3 = g_strdup_printf ("even=%s:2", bad);
    g_assert_true (weft_data_binding_add_spec (b, s1, &error));
    g_assert_true (weft_data_binding_add_spec (b, s2, &error));
    g_assert_true (weft_data_binding_add_spec (b, s3, &error));
    expect_load_error (b, g, (const char *const[]) { "bad-digits.csv", "line 2", "column 1",
                                                     "'x' is not a number", NULL });
  }
  weft_graph_free (g);
}

static const char iris_graph[] =
  "{\"format\": \"weft-graph\", \"version\": 1, \"main_model\": \"iris\", \"layers\": ["
  "{\"name\": \"x\", \"type\": \"Input\", \"config\": {\"shape\": [4]}},"
  "{\"name\": \"species\", \"type\": \"Dense\", \"config\": {\"units\": 3, \"activation\": "
  "\"softmax\"}}], \"models\": [{\"name\": \"iris\", \"nodes\": ["
  "{\"id\": 1, \"call\": \"x\", \"inputs\": []}, {\"id\": 2, \"call\": \"species\", "
  "\"inputs\": [[1, 0]]}], \"inputs\": [1], \"outputs\": [{\"node\": 2, \"port\": 0, "
  "\"loss\": \"categorical_crossentropy\", \"metric\": \"categorical_accuracy\"}]}]}";

static WeftGraph *
iris_model (void)
{
  g_autoptr (GError) error = NULL;
  WeftGraph *g = weft_file_load_data (iris_graph, strlen (iris_graph), NULL, NULL, &error);
  g_assert_no_error (error);
  return g;
}

static void
test_command_line_entries (void)
{
  WeftGraph *g = iris_model ();
  g_autofree char *iris = src_path ("data", "iris.csv");
  g_autoptr (WeftDataBinding) b = weft_data_binding_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *s1 = g_strdup_printf ("x=%s:0-3:skip=1:normalise=min-max", iris);
  g_autofree char *s2 = g_strdup_printf ("species=%s:4:type=one-hot", iris);
  g_assert_true (weft_data_binding_add_spec (b, s1, &error));
  g_assert_true (weft_data_binding_add_spec (b, s2, &error));
  g_assert_true (weft_data_binding_add_spec (b, "validation=0.3", &error));
  g_assert_no_error (error);
  g_assert_cmpint (weft_data_binding_n_entries (b), ==, 2);
  g_assert_cmpfloat (weft_data_binding_get_validation_split (b), ==, 0.3);
  WeftDataLoad load;
  g_assert_true (weft_data_binding_load (b, g, 0.0, TRUE, NULL, NULL, &load, &error));
  g_assert_no_error (error);
  g_assert_cmpint (weft_dataset_n_samples (load.data), ==, 150);
  g_assert_cmpint (load.n_train, ==, 105);
  const WeftArray *x = weft_dataset_find (load.data, "x");
  const WeftArray *y = weft_dataset_find (load.data, "species");
  g_assert_cmpint (weft_shape_size (&y->shape), ==, 3);
  /* min-max on the training rows: those lie in [0, 1] with both ends reached */
  for (int k = 0; k < 4; k++)
    {
      float lo = 1, hi = 0;
      for (int64_t r = 0; r < load.n_train; r++)
        {
          lo = MIN (lo, x->data[r * 4 + k]);
          hi = MAX (hi, x->data[r * 4 + k]);
        }
      g_assert_cmpfloat (lo, ==, 0.0f);
      g_assert_cmpfloat (hi, ==, 1.0f);
    }
  /* shuffled before splitting: the sorted file still validates on all three classes */
  int seen[3] = { 0 };
  for (int64_t r = load.n_train; r < 150; r++)
    for (int c = 0; c < 3; c++)
      seen[c] += y->data[r * 3 + c] == 1.0f;
  g_assert_cmpint (seen[0], >, 5);
  g_assert_cmpint (seen[1], >, 5);
  g_assert_cmpint (seen[2], >, 5);
  /* the one-hot vocabulary is kept */
  g_autofree char *json = binding_text (b, tmp_dir);
  g_assert_nonnull (strstr (json, "\"vocabulary\""));
  g_assert_nonnull (strstr (json, "\"skip_lines\" : 1"));
  weft_data_load_clear (&load);

  const char *bad[][2] = {
    { "x", "expected NAME=FILE" },
    { "x=", "expected NAME=FILE" },
    { "x=a.csv:0-3:colour=red", "unknown key 'colour'" },
    { "x=a.csv:0-3:type=float", "type must be" },
    { "x=a.csv:0-3:sep=pipe", "sep must be" },
    { "x=a.csv:0-3:length=0", "length must be" },
    { "validation=2", "validation fraction" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (WeftDataBinding) bb = weft_data_binding_new ();
      g_autoptr (GError) e = NULL;
      g_assert_false (weft_data_binding_add_spec (bb, bad[i][0], &e));
      g_test_message ("%s", e->message);
      g_assert_nonnull (strstr (e->message, bad[i][1]));
    }
  weft_graph_free (g);
}

static void
test_separate_validation_file (void)
{
  WeftGraph *g = iris_model ();
  GString *train = g_string_new ("a,b,c,d,label\n"), *val = g_string_new ("a,b,c,d,label\n");
  for (int r = 0; r < 40; r++)
    g_string_append_printf (train, "%d,1,2,3,%s\n", r, r % 3 == 0 ? "x" : r % 3 == 1 ? "y" : "z");
  for (int r = 0; r < 10; r++)
    g_string_append_printf (val, "%d,1,2,3,%s\n", 100 + r, r % 2 ? "x" : "z");
  g_autofree char *tp = write_tmp ("train.csv", train->str);
  g_autofree char *vp = write_tmp ("val.csv", val->str);
  g_string_free (train, TRUE);
  g_string_free (val, TRUE);
  g_autofree char *json = g_strdup_printf (
    "{\"sources\": {\"t\": {\"path\": \"train.csv\", \"format\": \"csv\", \"header\": true, "
    "\"validation_path\": \"val.csv\"}}, \"feeds\": {"
    "\"x\": {\"source\": \"t\", \"columns\": \"a-d\", \"normalise\": \"standardise\"},"
    "\"species\": {\"source\": \"t\", \"columns\": \"label\", \"type\": \"one-hot\"}}, "
    "\"seed\": 3}");
  g_autoptr (GError) error = NULL;
  /* 'a-d' is not a column name: ranges are numbers */
  g_autoptr (WeftDataBinding) bad = binding_from_text (json, tmp_dir, &error);
  g_assert_no_error (error);
  expect_load_error (bad, g, (const char *const[]) { "train.csv", "'a-d'", NULL });

  char *fixed = strstr (json, "a-d");
  memcpy (fixed, "0-3", 3);
  g_autoptr (WeftDataBinding) b = binding_from_text (json, tmp_dir, &error);
  g_assert_no_error (error);
  WeftDataLoad load;
  g_assert_true (weft_data_binding_load (b, g, 0.5, TRUE, NULL, NULL, &load, &error));
  g_assert_no_error (error);
  g_assert_cmpint (weft_dataset_n_samples (load.data), ==, 50);
  g_assert_cmpint (load.n_train, ==, 40);   /* the validation file's rows come last */
  const WeftArray *x = weft_dataset_find (load.data, "x");
  const WeftArray *y = weft_dataset_find (load.data, "species");
  /* statistics of the training file only: column a has mean 19.5 there; the validation
   * rows (a = 100..109) lie far above */
  for (int64_t r = 40; r < 50; r++)
    g_assert_cmpfloat (x->data[r * 4], >, 6.0f);
  /* validation labels use the training vocabulary: x=0, z=2 */
  for (int64_t r = 40; r < 50; r++)
    g_assert_cmpfloat (y->data[r * 3 + 1], ==, 0.0f);
  weft_data_load_clear (&load);

  /* an empty validation file */
  g_autofree char *vp3 = write_tmp ("val3.csv", "a,b,c,d,label\n");
  char *vname3 = strstr (json, "val.csv");
  g_autofree char *json3 = g_strdup_printf ("%.*sval3.csv%s", (int) (vname3 - json), json,
                                            vname3 + strlen ("val.csv"));
  g_autoptr (WeftDataBinding) b3 = binding_from_text (json3, tmp_dir, &error);
  g_assert_no_error (error);
  expect_load_error (b3, g, (const char *const[]) { "val3.csv", "no rows", NULL });

  /* a validation file with a category the training file lacks */
  g_autofree char *vp2 = write_tmp ("val2.csv", "a,b,c,d,label\n1,2,3,4,w\n");
  char *vname = strstr (json, "val.csv");
  g_autofree char *json2 = g_strdup_printf ("%.*sval2.csv%s", (int) (vname - json), json,
                                            vname + strlen ("val.csv"));
  g_autoptr (WeftDataBinding) b2 = binding_from_text (json2, tmp_dir, &error);
  g_assert_no_error (error);
  expect_load_error (b2, g, (const char *const[]) { "val2.csv", "line 2", "'w'",
                                                    "not one of", NULL });
  weft_graph_free (g);
}

static void
test_npy_sources_and_row_counts (void)
{
  WeftGraph *g = iris_model ();
  float x[12 * 4], y[12];
  for (int i = 0; i < 48; i++)
    x[i] = (float) i;
  for (int i = 0; i < 12; i++)
    y[i] = (float) (i % 3);
  g_autofree char *xp = g_build_filename (tmp_dir, "x.npy", NULL);
  g_autofree char *yp = g_build_filename (tmp_dir, "labels.npy", NULL);
  g_autofree char *y11 = g_build_filename (tmp_dir, "y11.npy", NULL);
  int64_t xd[2] = { 12, 4 }, yd[1] = { 12 }, y11d[1] = { 11 };
  g_assert_true (weft_npy_write (xp, x, 2, xd, NULL));
  g_assert_true (weft_npy_write (yp, y, 1, yd, NULL));
  g_assert_true (weft_npy_write (y11, y, 1, y11d, NULL));
  g_autoptr (GError) error = NULL;
  {
    g_autoptr (WeftDataBinding) b = weft_data_binding_new ();
    g_autofree char *s1 = g_strdup_printf ("x=%s", xp);
    g_autofree char *s2 = g_strdup_printf ("species=%s", yp);
    g_assert_true (weft_data_binding_add_spec (b, s1, &error));
    g_assert_true (weft_data_binding_add_spec (b, s2, &error));
    /* class indices for a categorical_crossentropy head of 3 */
    expect_load_error (b, g, (const char *const[]) { "head 'species'", "(None, 3)",
                                                     "(None, 1)", "one-hot", NULL });
  }
  {
    g_autoptr (WeftDataBinding) b = weft_data_binding_new ();
    g_autofree char *s1 = g_strdup_printf ("x=%s", xp);
    g_autofree char *s2 = g_strdup_printf ("species=%s", y11);
    g_assert_true (weft_data_binding_add_spec (b, s1, &error));
    g_assert_true (weft_data_binding_add_spec (b, s2, &error));
    expect_load_error (b, g, (const char *const[]) { "y11.npy", "11 rows", "x.npy",
                                                     "12", NULL });
  }
  weft_graph_free (g);
}

static void
save_png (const char *dir, const char *cls, const char *name, guint8 r, guint8 gg, guint8 b,
          int size)
{
  g_autofree char *sub = g_build_filename (dir, cls, NULL);
  g_mkdir_with_parents (sub, 0755);
  g_autofree char *path = g_build_filename (sub, name, NULL);
  g_autoptr (GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, size, size);
  gdk_pixbuf_fill (pb, ((guint32) r << 24) | ((guint32) gg << 16) | ((guint32) b << 8) | 0xff);
  g_assert_true (gdk_pixbuf_save (pb, path, "png", NULL, NULL));
}

static const char image_graph[] =
  "{\"format\": \"weft-graph\", \"version\": 1, \"main_model\": \"m\", \"layers\": ["
  "{\"name\": \"photo\", \"type\": \"Input\", \"config\": {\"shape\": [4, 4, 3]}},"
  "{\"name\": \"flat\", \"type\": \"Flatten\", \"config\": {}},"
  "{\"name\": \"kind\", \"type\": \"Dense\", \"config\": {\"units\": 2, \"activation\": "
  "\"softmax\"}}], \"models\": [{\"name\": \"m\", \"nodes\": ["
  "{\"id\": 1, \"call\": \"photo\", \"inputs\": []}, {\"id\": 2, \"call\": \"flat\", "
  "\"inputs\": [[1, 0]]}, {\"id\": 3, \"call\": \"kind\", \"inputs\": [[2, 0]]}], "
  "\"inputs\": [1], \"outputs\": [{\"node\": 3, \"port\": 0, "
  "\"loss\": \"categorical_crossentropy\"}]}]}";

static void
test_image_folder (void)
{
  g_autofree char *dir = g_build_filename (tmp_dir, "photos", NULL);
  save_png (dir, "red", "a.png", 255, 0, 0, 8);
  save_png (dir, "red", "b.png", 255, 0, 0, 5);
  save_png (dir, "teal", "c.png", 0, 128, 128, 4);
  g_autofree char *note = g_build_filename (dir, "teal", "notes.txt", NULL);
  g_assert_true (g_file_set_contents (note, "not an image", -1, NULL));
  g_autoptr (GError) error = NULL;
  WeftGraph *g = weft_file_load_data (image_graph, strlen (image_graph), NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (WeftDataBinding) b = weft_data_binding_new ();
  g_autofree char *s1 = g_strdup_printf ("photo=%s:images", dir);
  g_autofree char *s2 = g_strdup_printf ("kind=%s:labels:type=one-hot", dir);
  g_assert_true (weft_data_binding_add_spec (b, s1, &error));
  g_assert_true (weft_data_binding_add_spec (b, s2, &error));
  g_assert_true (weft_data_binding_add_spec (b, "shuffle=no", &error));
  WeftDataLoad load;
  g_assert_true (weft_data_binding_load (b, g, 0.0, TRUE, NULL, NULL, &load, &error));
  g_assert_no_error (error);
  g_assert_cmpint (weft_dataset_n_samples (load.data), ==, 3);
  const WeftArray *px = weft_dataset_find (load.data, "photo");
  const WeftArray *kind = weft_dataset_find (load.data, "kind");
  g_assert_cmpint (px->shape.rank, ==, 3);
  g_assert_cmpint (px->shape.dims[2], ==, 3);
  /* resized to 4x4, scaled to 0..1, sorted class folders */
  g_assert_cmpfloat (px->data[0], ==, 1.0f);
  g_assert_cmpfloat (px->data[1], ==, 0.0f);
  g_assert_cmpfloat (px->data[48 + 15 * 3], ==, 1.0f);
  g_assert_cmpfloat_with_epsilon (px->data[96 + 1], 128.0f / 255.0f, 1e-6);
  g_assert_cmpfloat (kind->data[0], ==, 1.0f);
  g_assert_cmpfloat (kind->data[2 * 2 + 1], ==, 1.0f);
  g_autofree char *json = binding_text (b, tmp_dir);
  g_assert_nonnull (strstr (json, "\"teal\""));
  weft_data_load_clear (&load);

  /* a broken image names its file */
  g_autofree char *broken = g_build_filename (dir, "teal", "d.png", NULL);
  g_assert_true (g_file_set_contents (broken, "not a png", -1, NULL));
  expect_load_error (b, g, (const char *const[]) { "d.png", NULL });
  weft_graph_free (g);
}

static void
test_siamese_pairs (void)
{
  WeftGraph *g = load_example ("digits-siamese.weft");
  g_autoptr (WeftDataBinding) b = example_binding ("digits-siamese.weft");
  g_autoptr (GError) error = NULL;
  WeftDataLoad load;
  g_assert_true (weft_data_binding_load (b, g, 0.2, TRUE, NULL, NULL, &load, &error));
  g_assert_no_error (error);
  g_assert_cmpint (weft_dataset_n_samples (load.data), ==, 6000);
  g_assert_cmpint (load.n_train, ==, 4797);   /* 6000 * 1437 / 1797 */
  const WeftArray *left = weft_dataset_find (load.data, "left");
  const WeftArray *right = weft_dataset_find (load.data, "right");
  const WeftArray *same = weft_dataset_find (load.data, "same");
  g_assert_cmpint (weft_shape_size (&left->shape), ==, 64);
  double n_same = 0;
  int identical = 0;
  for (int r = 0; r < 6000; r++)
    {
      n_same += same->data[r];
      identical += memcmp (left->data + r * 64, right->data + r * 64, 64 * sizeof (float)) == 0;
    }
  g_assert_cmpfloat (n_same, ==, (4797 + 1) / 2 + (1203 + 1) / 2);   /* half of each part */
  g_assert_cmpint (identical, <, 30);   /* a same-digit pair is two different rows */
  /* held-out pairs use held-out rows only: none of their left images is a training image */
  g_autoptr (GHashTable) train_rows = g_hash_table_new (g_bytes_hash, g_bytes_equal);
  GPtrArray *keep = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (int r = 0; r < 4797; r++)
    {
      GBytes *row = g_bytes_new (left->data + r * 64, 64 * sizeof (float));
      g_ptr_array_add (keep, row);
      g_hash_table_add (train_rows, row);
    }
  int leaked = 0;
  for (int r = 4797; r < 6000; r++)
    {
      g_autoptr (GBytes) row = g_bytes_new (left->data + r * 64, 64 * sizeof (float));
      leaked += g_hash_table_contains (train_rows, row);
    }
  g_ptr_array_unref (keep);
  /* the digits file holds a few duplicate images; anything more is leakage */
  g_assert_cmpint (leaked, <, 12);
  weft_data_load_clear (&load);
  weft_graph_free (g);
}

static void
test_split_fraction_matches_trainer (void)
{
  for (int64_t n = 1; n < 3000; n += 7)
    for (int64_t t = 1; t <= n; t += 1 + n / 13)
      {
        float f = weft_data_split_fraction (t, n);
        g_assert_cmpint ((int64_t) ((double) n * (1.0 - (double) f)), ==, t);
      }
}

static void
test_inspect (void)
{
  g_autofree char *digits = src_path ("data", "digits.csv.gz");
  g_autoptr (GError) error = NULL;
  g_autofree char *text = weft_data_inspect (digits, NULL, 3, &error);
  g_assert_no_error (error);
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, "65 columns separated by comma"));
  g_assert_nonnull (strstr (text, "first 3 rows"));
  g_autofree char *xp = g_build_filename (tmp_dir, "inspect.npy", NULL);
  float v[6] = { 1, 2, 3, 4, 5, 6 };
  int64_t d[2] = { 3, 2 };
  g_assert_true (weft_npy_write (xp, v, 2, d, NULL));
  g_autofree char *t2 = weft_data_inspect (xp, NULL, 2, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (t2, "(3, 2)"));
  g_autofree char *none = g_build_filename (tmp_dir, "none.csv", NULL);
  g_assert_null (weft_data_inspect (none, NULL, 2, &error));
  g_assert_nonnull (strstr (error->message, "none.csv"));
}

static void
remove_tree (GFile *f)
{
  g_autoptr (GFileEnumerator) en = g_file_enumerate_children (f, "standard::name",
                                                              G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                                              NULL, NULL);
  GFileInfo *info;
  while (en != NULL && (info = g_file_enumerator_next_file (en, NULL, NULL)) != NULL)
    {
      g_autoptr (GFile) child = g_file_get_child (f, g_file_info_get_name (info));
      remove_tree (child);
      g_object_unref (info);
    }
  g_file_delete (f, NULL, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("weft-data-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  g_test_add_func ("/io/data-source/digits/two-heads-standardised-with-training-statistics",
                   test_two_heads_loads_and_standardises);
  g_test_add_func ("/io/data-source/digits/shuffle-seed-decides-the-order", test_shuffle_seed);
  g_test_add_func ("/io/data-source/digits/siamese-pairs-hold-out-rows", test_siamese_pairs);
  g_test_add_func ("/io/data-source/digits/inputs-for-prediction", test_inputs_for_prediction);
  g_test_add_func ("/io/data-source/json-round-trip-with-relative-paths",
                   test_json_round_trip_relative_paths);
  g_test_add_func ("/io/data-source/shape-errors-name-input-or-head",
                   test_shape_errors_name_input_or_head);
  g_test_add_func ("/io/data-source/iris/command-line-entries", test_command_line_entries);
  g_test_add_func ("/io/data-source/separate-validation-file", test_separate_validation_file);
  g_test_add_func ("/io/data-source/npy-sources-and-row-counts", test_npy_sources_and_row_counts);
  g_test_add_func ("/io/data-source/image-folder", test_image_folder);
  g_test_add_func ("/io/data-source/split-fraction-matches-trainer",
                   test_split_fraction_matches_trainer);
  g_test_add_func ("/io/data-source/inspect", test_inspect);
  int ret = g_test_run ();
  g_autoptr (GFile) dir = g_file_new_for_path (tmp_dir);
  remove_tree (dir);
  g_free (tmp_dir);
  return ret;
}
