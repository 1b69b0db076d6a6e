/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CSV reading: real data sets with their quirks (no header, a counts line, blank-separated
 * with a header, gzip), quoting, separators, missing values, column types, vocabularies,
 * text, progress and cancellation, and a clear error (file, line, column) for bad input. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <string.h>
#include <zlib.h>

#include "weft-csv.h"

static char *tmp_dir;

static char *
data_path (const char *name)
{
  const char *src = g_getenv ("WEFT_SOURCE_DIR");
  g_assert_nonnull (src);
  return g_build_filename (src, "resources", "data", name, NULL);
}

static char *
write_tmp (const char *name, const char *text)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static char *
write_gz (const char *name, const char *text)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  gzFile f = gzopen (path, "wb");
  g_assert_nonnull (f);
  g_assert_cmpint (gzwrite (f, text, (unsigned) strlen (text)), ==, (int) strlen (text));
  gzclose (f);
  return path;
}

static WeftCsvTable *
read_ok (const char *path, const WeftCsvOptions *o)
{
  g_autoptr (GError) error = NULL;
  WeftCsvTable *t = weft_csv_read (path, o, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

/* Reads and expects an error whose message contains every given fragment. */
static void
expect_error (const char *path, const WeftCsvOptions *o, const char *const *fragments)
{
  g_autoptr (GError) error = NULL;
  WeftCsvTable *t = weft_csv_read (path, o, &error);
  g_assert_null (t);
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  for (int i = 0; fragments[i] != NULL; i++)
    if (strstr (error->message, fragments[i]) == NULL)
      g_error ("'%s' lacks '%s'", error->message, fragments[i]);
}

static void
test_digits_gzip_no_header (void)
{
  g_autofree char *path = data_path ("digits.csv.gz");
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  weft_csv_array_add_field (weft_csv_options_add_array (o, "pixels"), "0-63",
                            WEFT_CSV_NUMERIC);
  weft_csv_array_add_field (weft_csv_options_add_array (o, "digit"), "64", WEFT_CSV_NUMERIC);
  weft_csv_array_add_field (weft_csv_options_add_array (o, "onehot"), "64",
                            WEFT_CSV_CATEGORY_ONE_HOT);
  g_autoptr (WeftCsvTable) t = read_ok (path, o);
  g_assert_cmpint (t->n_rows, ==, 1797);
  g_assert_cmpint (t->n_columns, ==, 65);
  g_assert_cmpint (t->separator, ==, ',');
  WeftCsvArray *px = weft_csv_table_find (t, "pixels");
  WeftCsvArray *digit = weft_csv_table_find (t, "digit");
  WeftCsvArray *hot = weft_csv_table_find (t, "onehot");
  g_assert_cmpint (px->dims[0], ==, 64);
  g_assert_cmpint (hot->dims[0], ==, 10);
  /* first row of the file: 0,0,5,13,9,1,0,0,... label 0; second row label 1 */
  g_assert_cmpfloat (px->data[2], ==, 5.0f);
  g_assert_cmpfloat (px->data[3], ==, 13.0f);
  g_assert_cmpfloat (digit->data[0], ==, 0.0f);
  g_assert_cmpfloat (digit->data[1], ==, 1.0f);
  char **voc = hot->vocabularies->pdata[0];
  g_assert_cmpuint (g_strv_length (voc), ==, 10);
  g_assert_cmpstr (voc[0], ==, "0");
  g_assert_cmpstr (voc[9], ==, "9");
  double max = 0, sum = 0;
  for (int64_t r = 0; r < t->n_rows; r++)
    {
      for (int k = 0; k < 64; k++)
        max = MAX (max, px->data[r * 64 + k]);
      float s = 0;
      for (int k = 0; k < 10; k++)
        s += hot->data[r * 10 + k];
      g_assert_cmpfloat (s, ==, 1.0f);
      g_assert_cmpfloat (hot->data[r * 10 + (int) digit->data[r]], ==, 1.0f);
      sum += digit->data[r];
    }
  g_assert_cmpfloat (max, ==, 16.0);
  g_assert_cmpfloat (sum / t->n_rows, >, 4.0);
  g_assert_cmpfloat (sum / t->n_rows, <, 5.0);
}

static void
test_iris_counts_line (void)
{
  g_autofree char *path = data_path ("iris.csv");
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  o->skip_lines = 1;
  weft_csv_array_add_field (weft_csv_options_add_array (o, "x"), "0-3", WEFT_CSV_NUMERIC);
  WeftCsvField *f = weft_csv_array_add_field (weft_csv_options_add_array (o, "species"), "4",
                                              WEFT_CSV_CATEGORY_INDEX);
  /* the counts line names the classes; a fixed vocabulary maps them */
  f->vocabulary = g_strsplit ("0,1,2", ",", -1);
  g_autoptr (WeftCsvTable) t = read_ok (path, o);
  g_assert_cmpint (t->n_rows, ==, 150);
  WeftCsvArray *x = weft_csv_table_find (t, "x");
  WeftCsvArray *y = weft_csv_table_find (t, "species");
  g_assert_cmpfloat_with_epsilon (x->data[0], 5.1f, 1e-6);
  g_assert_cmpfloat_with_epsilon (x->data[3], 0.2f, 1e-6);
  g_assert_cmpfloat (y->data[0], ==, 0.0f);
  g_assert_cmpfloat (y->data[149], ==, 2.0f);

  /* without skipping, the counts line has 5 fields like the rows but 'setosa' is no number */
  g_autoptr (WeftCsvOptions) o2 = weft_csv_options_new ();
  weft_csv_array_add_field (weft_csv_options_add_array (o2, "x"), "0-4", WEFT_CSV_NUMERIC);
  expect_error (path, o2, (const char *const[]) { "iris.csv", "line 1", "column 2",
                                                  "'setosa' is not a number", NULL });
}

static void
test_linnerud_header_blanks (void)
{
  g_autofree char *path = data_path ("linnerud_exercise.csv");
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  o->header = TRUE;
  weft_csv_array_add_field (weft_csv_options_add_array (o, "exercise"), "Chins,Jumps",
                            WEFT_CSV_NUMERIC);
  g_autoptr (WeftCsvTable) t = read_ok (path, o);
  g_assert_cmpint (t->separator, ==, ' ');
  g_assert_cmpint (t->n_rows, ==, 20);
  g_assert_cmpstr (t->column_names[1], ==, "Situps");
  WeftCsvArray *a = weft_csv_table_find (t, "exercise");
  g_assert_cmpint (a->dims[0], ==, 2);
  g_assert_cmpfloat (a->data[0], ==, 5.0f);   /* 5 162 60 */
  g_assert_cmpfloat (a->data[1], ==, 60.0f);

  g_autoptr (WeftCsvOptions) o2 = weft_csv_options_new ();
  o2->header = TRUE;
  weft_csv_array_add_field (weft_csv_options_add_array (o2, "x"), "Chinz", WEFT_CSV_NUMERIC);
  expect_error (path, o2, (const char *const[]) { "array 'x'", "'Chinz'", NULL });
}

static void
test_diabetes_gzip_blanks (void)
{
  g_autofree char *path = data_path ("diabetes_data_raw.csv.gz");
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  g_autoptr (WeftCsvTable) t = read_ok (path, o);
  g_assert_cmpint (t->n_rows, ==, 442);
  g_assert_cmpint (t->n_columns, ==, 10);
  /* no arrays asked: one per column, named like it */
  g_assert_cmpuint (t->arrays->len, ==, 10);
  WeftCsvArray *age = weft_csv_table_find (t, "column_0");
  g_assert_cmpfloat (age->data[0], ==, 59.0f);
  g_assert_cmpfloat_with_epsilon (weft_csv_table_find (t, "column_8")->data[0], 4.8598f, 1e-5);
}

static void
test_quotes_and_separators (void)
{
  g_autofree char *semi = write_tmp ("semi.csv",
                                     "name;value;note\r\n"
                                     "\"a;b\";1,5;\"he said \"\"hi\"\"\"\r\n"
                                     "  plain  ; 2 ;\"two\nlines\"\r\n"
                                     "\n"
                                     "last;3;\"\"\n");
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  o->header = TRUE;
  WeftCsvField *f = weft_csv_array_add_field (weft_csv_options_add_array (o, "name"), "name",
                                              WEFT_CSV_CATEGORY_INDEX);
  (void) f;
  weft_csv_array_add_field (weft_csv_options_add_array (o, "note"), "note", WEFT_CSV_TEXT);
  g_autoptr (WeftCsvTable) t = read_ok (semi, o);
  g_assert_cmpint (t->separator, ==, ';');
  g_assert_cmpint (t->n_rows, ==, 3);
  char **voc = ((WeftCsvArray *) weft_csv_table_find (t, "name"))->vocabularies->pdata[0];
  g_assert_cmpuint (g_strv_length (voc), ==, 3);
  g_assert_cmpstr (voc[0], ==, "a;b");     /* the quoted separator stays in the value */
  g_assert_cmpstr (voc[1], ==, "last");
  g_assert_cmpstr (voc[2], ==, "plain");   /* blanks around unquoted fields are trimmed */
  WeftCsvArray *note = weft_csv_table_find (t, "note");
  char **words = note->vocabularies->pdata[0];
  /* he said "hi" / two lines / (empty) */
  g_assert_true (g_strv_contains ((const char *const *) words, "hi"));
  g_assert_true (g_strv_contains ((const char *const *) words, "lines"));
  g_assert_cmpfloat (note->data[2 * 16], ==, 0.0f);   /* the empty note is all padding */

  /* tab separated, explicit */
  g_autofree char *tab = write_tmp ("tab.tsv", "1\t2\n3\t4\n");
  g_autoptr (WeftCsvOptions) ot = weft_csv_options_new ();
  ot->separator = '\t';
  g_autoptr (WeftCsvTable) tt = read_ok (tab, ot);
  g_assert_cmpint (tt->n_columns, ==, 2);
  g_assert_cmpfloat (weft_csv_table_find (tt, "column_1")->data[1], ==, 4.0f);

  /* a comma separator with a decimal comma inside quotes stays one field */
  g_autofree char *bad = write_tmp ("badquote.csv", "a,b\n\"x\"y,2\n");
  g_autoptr (WeftCsvOptions) ob = weft_csv_options_new ();
  ob->header = TRUE;
  expect_error (bad, ob, (const char *const[]) { "badquote.csv", "line 2",
                                                 "after the closing quote", NULL });
  g_autofree char *open = write_tmp ("open.csv", "1,2\n3,\"4\n5,6\n");
  expect_error (open, ob, (const char *const[]) { "open.csv", "line 2", "not closed", NULL });
  g_autofree char *ragged = write_tmp ("ragged.csv", "1,2,3\n4,5,6\n7,8\n");
  expect_error (ragged, ob, (const char *const[]) { "ragged.csv", "line 3", "has 2 fields",
                                                    "has 3", NULL });
}

static void
test_missing_values (void)
{
  g_autofree char *path = write_tmp ("missing.csv", "x,y,c\n1,2,a\n3,,b\n5,NA,\n");
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  o->header = TRUE;
  weft_csv_array_add_field (weft_csv_options_add_array (o, "y"), "y", WEFT_CSV_NUMERIC);
  expect_error (path, o, (const char *const[]) { "missing.csv", "line 3", "column 1 'y'",
                                                 "missing value", NULL });
  o->missing = WEFT_CSV_MISSING_FILL;
  o->fill_value = -1;
  weft_csv_array_add_field (weft_csv_options_add_array (o, "c"), "c",
                            WEFT_CSV_CATEGORY_ONE_HOT);
  g_autoptr (WeftCsvTable) t = read_ok (path, o);
  WeftCsvArray *y = weft_csv_table_find (t, "y");
  g_assert_cmpfloat (y->data[0], ==, 2.0f);
  g_assert_cmpfloat (y->data[1], ==, -1.0f);
  g_assert_cmpfloat (y->data[2], ==, -1.0f);
  WeftCsvArray *c = weft_csv_table_find (t, "c");
  char **voc = c->vocabularies->pdata[0];
  g_assert_cmpuint (g_strv_length (voc), ==, 3);   /* "", a, b: missing is its own class */
  g_assert_cmpstr (voc[0], ==, "");
  g_assert_cmpint (c->dims[0], ==, 3);
  g_assert_cmpfloat (c->data[2 * 3 + 0], ==, 1.0f);
}

static void
test_bad_numbers (void)
{
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  g_autofree char *p1 = write_tmp ("num.csv", "1.5,2e3,-.25,+4.\n1e-3,0x10,7,8\n");
  expect_error (p1, o, (const char *const[]) { "num.csv", "line 2", "column 1",
                                               "'0x10' is not a number", NULL });
  g_autofree char *p2 = write_tmp ("inf.csv", "1\n1e39\n");
  expect_error (p2, o, (const char *const[]) { "inf.csv", "line 2", "finite", NULL });
  g_autofree char *p3 = write_tmp ("ok.csv", "1.5,2e3,-.25,+4.\n123456789012345678901234,"
                                   "0.1,1e-30,3.4028234e38\n");
  g_autoptr (WeftCsvTable) t = read_ok (p3, o);
  g_assert_cmpfloat (weft_csv_table_find (t, "column_1")->data[0], ==, 2000.0f);
  g_assert_cmpfloat (weft_csv_table_find (t, "column_2")->data[0], ==, -0.25f);
  g_assert_cmpfloat (weft_csv_table_find (t, "column_3")->data[0], ==, 4.0f);
  g_assert_cmpfloat (weft_csv_table_find (t, "column_0")->data[1], ==, 1.23456789012345678e23f);
  g_assert_cmpfloat (weft_csv_table_find (t, "column_1")->data[1], ==, 0.1f);
  g_assert_cmpfloat (weft_csv_table_find (t, "column_2")->data[1], ==, 1e-30f);
}

static void
test_categorical_vocabularies (void)
{
  g_autofree char *path = write_tmp ("cat.csv", "10\n9\n100\n9\n");
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  weft_csv_array_add_field (weft_csv_options_add_array (o, "c"), "0", WEFT_CSV_CATEGORY_INDEX);
  g_autoptr (WeftCsvTable) t = read_ok (path, o);
  WeftCsvArray *c = weft_csv_table_find (t, "c");
  char **voc = c->vocabularies->pdata[0];
  /* numbers sort numerically, not as text */
  g_assert_cmpstr (voc[0], ==, "9");
  g_assert_cmpstr (voc[1], ==, "10");
  g_assert_cmpstr (voc[2], ==, "100");
  g_assert_cmpfloat (c->data[0], ==, 1.0f);
  g_assert_cmpfloat (c->data[2], ==, 2.0f);

  /* a fixed mapping: several values share a class (odd/even of a digit) */
  g_autoptr (WeftCsvOptions) o2 = weft_csv_options_new ();
  WeftCsvField *f = weft_csv_array_add_field (weft_csv_options_add_array (o2, "odd"), "0",
                                              WEFT_CSV_CATEGORY_ONE_HOT);
  f->vocabulary = g_strsplit ("9,10,100", ",", -1);
  f->vocabulary_index = g_new (int, 3);
  f->vocabulary_index[0] = 1;
  f->vocabulary_index[1] = 0;
  f->vocabulary_index[2] = 0;
  g_autoptr (WeftCsvTable) t2 = read_ok (path, o2);
  WeftCsvArray *odd = weft_csv_table_find (t2, "odd");
  g_assert_cmpint (odd->dims[0], ==, 2);
  g_assert_cmpfloat (odd->data[0 * 2 + 0], ==, 1.0f);   /* 10: even */
  g_assert_cmpfloat (odd->data[1 * 2 + 1], ==, 1.0f);   /* 9: odd */

  g_autofree char *other = write_tmp ("cat2.csv", "10\n11\n");
  expect_error (other, o2, (const char *const[]) { "cat2.csv", "line 2", "'11'",
                                                   "not one of", NULL });
  /* categorical fields take one column */
  g_autoptr (WeftCsvOptions) o3 = weft_csv_options_new ();
  g_autofree char *two = write_tmp ("two.csv", "1,2\n");
  weft_csv_array_add_field (weft_csv_options_add_array (o3, "c"), "0-1",
                            WEFT_CSV_CATEGORY_INDEX);
  expect_error (two, o3, (const char *const[]) { "array 'c'", "exactly one column", NULL });
}

static void
test_text_vocabulary (void)
{
  g_autofree char *path = write_tmp ("text.csv",
                                     "text\n"
                                     "The cat sat on the mat\n"
                                     "the dog\n"
                                     "\"Über café, the CAT!\"\n");
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  o->header = TRUE;
  WeftCsvField *f = weft_csv_array_add_field (weft_csv_options_add_array (o, "t"), "text",
                                              WEFT_CSV_TEXT);
  f->text_length = 4;
  f->text_vocabulary_size = 5;   /* pad, unknown, and the three most frequent words */
  g_autoptr (WeftCsvTable) t = read_ok (path, o);
  WeftCsvArray *a = weft_csv_table_find (t, "t");
  g_assert_cmpint (a->dims[0], ==, 4);
  char **voc = a->vocabularies->pdata[0];
  g_assert_cmpuint (g_strv_length (voc), ==, 3);
  g_assert_cmpstr (voc[0], ==, "the");   /* 4 times */
  g_assert_cmpstr (voc[1], ==, "cat");   /* 2 times */
  g_assert_cmpstr (voc[2], ==, "café");  /* ties by word: café < dog < mat < on < sat < über */
  const float row0[] = { 2, 3, 1, 1 };   /* the cat sat on (truncated) */
  const float row1[] = { 2, 1, 0, 0 };   /* the dog (padded) */
  const float row2[] = { 1, 4, 2, 3 };   /* über café the cat */
  for (int k = 0; k < 4; k++)
    {
      g_assert_cmpfloat (a->data[k], ==, row0[k]);
      g_assert_cmpfloat (a->data[4 + k], ==, row1[k]);
      g_assert_cmpfloat (a->data[8 + k], ==, row2[k]);
    }
  g_auto (GStrv) words = weft_csv_tokenise ("Don't STOP--now2");
  g_assert_cmpuint (g_strv_length (words), ==, 4);
  g_assert_cmpstr (words[3], ==, "now2");
}

typedef struct { int calls; guint64 last, total; int cancel_after; } Progress;

static gboolean
on_progress (guint64 done, guint64 total, gpointer data)
{
  Progress *p = data;
  g_assert_cmpuint (done, >=, p->last);
  p->last = done;
  p->total = total;
  p->calls++;
  return p->cancel_after == 0 || p->calls < p->cancel_after;
}

static void
test_progress_and_cancel (void)
{
  GString *big = g_string_new (NULL);
  for (int r = 0; r < 200000; r++)
    g_string_append_printf (big, "%d,%d.5,%d\n", r, r % 97, r % 3);
  g_autofree char *path = write_tmp ("big.csv", big->str);
  g_autofree char *gz = write_gz ("big.csv.gz", big->str);
  g_string_free (big, TRUE);

  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  weft_csv_array_add_field (weft_csv_options_add_array (o, "x"), "0-1", WEFT_CSV_NUMERIC);
  Progress p = { 0 };
  o->progress = on_progress;
  o->progress_data = &p;
  g_autoptr (WeftCsvTable) t = read_ok (path, o);
  g_assert_cmpint (t->n_rows, ==, 200000);
  g_assert_cmpint (p.calls, >, 3);
  g_assert_cmpuint (p.last, ==, p.total);
  g_assert_cmpfloat (weft_csv_table_find (t, "x")->data[2 * 199999 + 1], ==, 199999 % 97 + 0.5f);

  Progress pz = { 0 };
  o->progress_data = &pz;
  g_autoptr (WeftCsvTable) tz = read_ok (gz, o);
  g_assert_cmpint (tz->n_rows, ==, 200000);
  g_assert_cmpint (memcmp (weft_csv_table_find (t, "x")->data,
                           weft_csv_table_find (tz, "x")->data, sizeof (float) * 400000), ==, 0);
  g_assert_cmpuint (pz.last, ==, pz.total);

  Progress pc = { .cancel_after = 2 };
  o->progress_data = &pc;
  g_autoptr (GError) error = NULL;
  g_assert_null (weft_csv_read (path, o, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  o->progress = NULL;
  o->max_rows = 10;
  g_autoptr (WeftCsvTable) t10 = read_ok (path, o);
  g_assert_cmpint (t10->n_rows, ==, 10);
}

static void
test_bad_files (void)
{
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  g_autofree char *none = g_build_filename (tmp_dir, "nope.csv", NULL);
  expect_error (none, o, (const char *const[]) { "nope.csv", NULL });
  g_autofree char *empty = write_tmp ("empty.csv", "\n\n");
  expect_error (empty, o, (const char *const[]) { "empty.csv", "no rows", NULL });
  /* a gzip file cut short */
  g_autofree char *gz = write_gz ("cut.csv.gz", "1,2,3\n4,5,6\n7,8,9\n");
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (gz, &bytes, &len, NULL));
  g_autofree char *cut = g_build_filename (tmp_dir, "cut2.csv.gz", NULL);
  g_assert_true (g_file_set_contents (cut, bytes, (gssize) len / 2, NULL));
  g_autoptr (GError) error = NULL;
  WeftCsvTable *t = weft_csv_read (cut, o, &error);
  g_assert_null (t);
  g_assert_nonnull (error);
  g_test_message ("truncated gzip: %s", error->message);
  g_assert_nonnull (strstr (error->message, "cut2.csv.gz"));
  /* columns out of range */
  g_autofree char *small = write_tmp ("small.csv", "1,2\n");
  weft_csv_array_add_field (weft_csv_options_add_array (o, "x"), "1-5", WEFT_CSV_NUMERIC);
  expect_error (small, o, (const char *const[]) { "array 'x'", "0-1", "2 columns", NULL });
}

static void
test_preview_guesses_kinds (void)
{
  g_autofree char *path = write_tmp ("mixed.csv",
                                     "age,city,review\n"
                                     "31,Berlin,a fine little place\n"
                                     "45,Paris,too loud for me\n"
                                     ",Berlin,would come back again\n"
                                     "28,Berlin,the coffee was cold today\n");
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  o->header = TRUE;
  g_autoptr (GError) error = NULL;
  g_autoptr (WeftCsvPreview) p = weft_csv_preview (path, o, 2, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpint (p->n_columns, ==, 3);
  g_assert_cmpint (p->kinds[0], ==, WEFT_CSV_NUMERIC);
  g_assert_cmpint (p->kinds[1], ==, WEFT_CSV_CATEGORY_INDEX);
  g_assert_cmpint (p->kinds[2], ==, WEFT_CSV_TEXT);
  g_assert_cmpint (p->n_missing[0], ==, 1);
  g_assert_cmpint (p->n_distinct[1], ==, 2);
  g_assert_cmpuint (p->rows->len, ==, 2);
  g_assert_cmpstr (((char **) p->rows->pdata[1])[1], ==, "Paris");
  g_assert_cmpint (p->rows_scanned, ==, 4);
}

/* Peak memory while streaming: far below the text size, close to the float arrays. The
 * limit allows the arrays' growth slack (1.5x) plus a fixed allowance for buffers. */
#define PEAK_ARRAY_FACTOR 1.6
#define PEAK_SLACK_BYTES  (12.0 * 1024 * 1024)

static double
current_rss_bytes (void)
{
  g_autofree char *statm = NULL;
  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  long pages_total = 0, pages_rss = 0;
  g_assert_cmpint (sscanf (statm, "%ld %ld", &pages_total, &pages_rss), ==, 2);
  return (double) pages_rss * (double) sysconf (_SC_PAGESIZE);
}

static void
test_peak_memory (void)
{
#ifdef __SANITIZE_ADDRESS__
  /* ASan's shadow memory and quarantine make RSS say nothing about the reader */
  g_test_skip ("peak memory is not measurable under AddressSanitizer");
  return;
#endif
  /* the child is a new process with its own tmp_dir: it finds the file through the env */
  g_autofree char *path = g_test_subprocess ()
                            ? g_strdup (g_getenv ("WEFT_TEST_WIDE_CSV"))
                            : g_build_filename (tmp_dir, "wide.csv", NULL);
  g_assert_nonnull (path);
  if (!g_test_subprocess ())
    {
      g_setenv ("WEFT_TEST_WIDE_CSV", path, TRUE);
      FILE *f = fopen (path, "w");
      g_assert_nonnull (f);
      guint32 x = 1;
      for (int r = 0; r < 400000; r++)
        for (int c = 0; c < 16; c++)
          {
            x = x * 1103515245u + 12345u;
            if (c < 15)
              fprintf (f, "%u.%04u,", (x >> 16) % 10000, (x >> 3) % 10000);
            else
              fprintf (f, "kind %u\n", (x >> 16) % 7);
          }
      fclose (f);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT);
      g_test_trap_assert_passed ();
      return;
    }
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  weft_csv_array_add_field (weft_csv_options_add_array (o, "x"), "0-14", WEFT_CSV_NUMERIC);
  weft_csv_array_add_field (weft_csv_options_add_array (o, "y"), "15", WEFT_CSV_CATEGORY_INDEX);
  double before = current_rss_bytes ();
  struct stat st;
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_autoptr (WeftCsvTable) t = read_ok (path, o);
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  double peak = (double) ru.ru_maxrss * 1024.0;
  double arrays = (double) t->n_rows * 16 * sizeof (float);
  g_test_message ("text %.1f MB, arrays %.1f MB, peak growth %.1f MB", st.st_size / 1048576.0,
                  arrays / 1048576.0, (peak - before) / 1048576.0);
  g_assert_cmpint (t->n_rows, ==, 400000);
  g_assert_cmpfloat (peak - before, <, PEAK_ARRAY_FACTOR * arrays + PEAK_SLACK_BYTES);
  g_assert_cmpfloat (peak - before, <, 0.5 * (double) st.st_size);
}

/* Mutated files give a table or an error, never a crash (run under ASan in CI). */
static void
test_mutations_never_crash (void)
{
  const char base[] = "name,\"x\",y,text\n\"a\",1.5,2,\"hello world\"\nb;c,3,,\"two\nlines\"\n";
  const char alphabet[] = ",;\t \"\n\r0123456789.-eNAa\xc3\xbf";
  GRand *rand = g_rand_new_with_seed (42);
  int ok = 0, failed = 0;
  for (int it = 0; it < 400; it++)
    {
      GString *t = g_string_new (base);
      int edits = g_rand_int_range (rand, 1, 8);
      for (int k = 0; k < edits; k++)
        {
          guint pos = (guint) g_rand_int_range (rand, 0, (gint32) t->len + 1);
          char c = alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];
          if (g_rand_boolean (rand) && pos < t->len)
            t->str[pos] = c;
          else
            g_string_insert_c (t, pos, c);
        }
      g_autofree char *path = write_tmp ("mutated.csv", t->str);
      g_string_free (t, TRUE);
      g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
      o->header = it % 2 == 0;
      o->missing = it % 3 == 0 ? WEFT_CSV_MISSING_FILL : WEFT_CSV_MISSING_ERROR;
      if (it % 4 != 0)
        {
          weft_csv_array_add_field (weft_csv_options_add_array (o, "n"), "1-2", WEFT_CSV_NUMERIC);
          weft_csv_array_add_field (weft_csv_options_add_array (o, "c"), "0",
                                    WEFT_CSV_CATEGORY_ONE_HOT);
          weft_csv_array_add_field (weft_csv_options_add_array (o, "t"), "3", WEFT_CSV_TEXT);
        }
      g_autoptr (GError) error = NULL;
      WeftCsvTable *table = weft_csv_read (path, o, &error);
      g_assert_true ((table == NULL) == (error != NULL));
      if (table != NULL)
        ok++;
      else
        {
          failed++;
          g_assert_nonnull (strstr (error->message, "mutated.csv"));
        }
      weft_csv_table_free (table);
    }
  g_rand_free (rand);
  g_test_message ("%d mutated files read, %d refused with a message", ok, failed);
  g_assert_cmpint (ok, >, 0);
  g_assert_cmpint (failed, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* a test subprocess exits without returning here, so it makes no folder to clean up */
  tmp_dir = g_test_subprocess () ? g_strdup ("/nonexistent")
                                 : g_dir_make_tmp ("weft-csv-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  g_test_add_func ("/io/csv/digits/gzip-without-header", test_digits_gzip_no_header);
  g_test_add_func ("/io/csv/iris/skips-the-counts-line", test_iris_counts_line);
  g_test_add_func ("/io/csv/linnerud/header-and-blank-separator", test_linnerud_header_blanks);
  g_test_add_func ("/io/csv/diabetes/gzip-blank-separator", test_diabetes_gzip_blanks);
  g_test_add_func ("/io/csv/quotes-and-separators", test_quotes_and_separators);
  g_test_add_func ("/io/csv/missing-values-error-or-fill", test_missing_values);
  g_test_add_func ("/io/csv/bad-numbers-name-line-and-column", test_bad_numbers);
  g_test_add_func ("/io/csv/categorical-vocabularies", test_categorical_vocabularies);
  g_test_add_func ("/io/csv/text-vocabulary-and-padding", test_text_vocabulary);
  g_test_add_func ("/io/csv/progress-cancel-and-gzip-agree", test_progress_and_cancel);
  g_test_add_func ("/io/csv/bad-files", test_bad_files);
  g_test_add_func ("/io/csv/preview-guesses-kinds", test_preview_guesses_kinds);
  g_test_add_func ("/io/csv/mutations-never-crash", test_mutations_never_crash);
  g_test_add_func ("/io/csv/peak-memory-near-the-arrays", test_peak_memory);
  int ret = g_test_run ();
  g_autoptr (GFile) dir = g_file_new_for_path (tmp_dir);
  g_autoptr (GFileEnumerator) en = g_file_enumerate_children (dir, "standard::name", 0, NULL,
                                                              NULL);
  GFileInfo *info;
  while (en != NULL && (info = g_file_enumerator_next_file (en, NULL, NULL)) != NULL)
    {
      g_autoptr (GFile) child = g_file_get_child (dir, g_file_info_get_name (info));
      g_file_delete (child, NULL, NULL);
      g_object_unref (info);
    }
  g_file_delete (dir, NULL, NULL);
  g_free (tmp_dir);
  return ret;
}
