/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-csv.c: CSV text through weft_csv_read and weft_csv_preview. The first two bytes pick
 * the options (header, missing values, separator, skipped lines, which fields: numeric,
 * categorical index/one-hot with a learned or fixed vocabulary, text); the rest is the file,
 * handed over as an in-memory file (memfd) so the reader's own stream code runs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "weft-fuzz.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "weft-csv.h"

static int memfd = -1;

static gboolean
progress_cb (guint64 done, guint64 total, gpointer user_data)
{
  return TRUE;
}

static WeftCsvOptions *
options_from_bytes (guint8 b0, guint8 b1)
{
  static const char separators[] = { 0, ',', ';', '\t', ' ', 0, 0, 0 };
  WeftCsvOptions *o = weft_csv_options_new ();
  WeftCsvField *f;

  o->header = (b0 & 1) != 0;
  o->missing = (b0 & 2) ? WEFT_CSV_MISSING_FILL : WEFT_CSV_MISSING_ERROR;
  o->fill_value = -1.0f;
  o->separator = separators[(b0 >> 2) & 7];
  o->skip_lines = (b0 >> 5) & 3;
  o->progress = progress_cb;
  switch (b1 & 7)
    {
    case 4:
      weft_csv_array_add_field (weft_csv_options_add_array (o, "x"), "1-", WEFT_CSV_NUMERIC);
      weft_csv_array_add_field (weft_csv_options_add_array (o, "y"), "0",
                                WEFT_CSV_CATEGORY_INDEX);
      break;
    case 5:
      f = weft_csv_array_add_field (weft_csv_options_add_array (o, "y"), "0",
                                    WEFT_CSV_CATEGORY_ONE_HOT);
      weft_csv_array_add_field (weft_csv_options_add_array (o, "x"), "1,2-3", WEFT_CSV_NUMERIC);
      (void) f;
      break;
    case 6:
      f = weft_csv_array_add_field (weft_csv_options_add_array (o, "t"), "0", WEFT_CSV_TEXT);
      f->text_length = 1 + ((b1 >> 3) & 15);
      f->text_vocabulary_size = 2 + ((b1 >> 3) & 15);
      weft_csv_array_add_field (weft_csv_options_add_array (o, "n"), "1-", WEFT_CSV_NUMERIC);
      break;
    case 7:
      f = weft_csv_array_add_field (weft_csv_options_add_array (o, "c"), "0",
                                    (b1 & 8) ? WEFT_CSV_CATEGORY_ONE_HOT
                                             : WEFT_CSV_CATEGORY_INDEX);
      f->vocabulary = g_strsplit ("a,b,c,1", ",", -1);
      if (b1 & 16)
        {
          f->vocabulary_index = g_new (int, 4);
          f->vocabulary_index[0] = 1;
          f->vocabulary_index[1] = 0;
          f->vocabulary_index[2] = 1;
          f->vocabulary_index[3] = 0;
        }
      weft_csv_array_add_field (weft_csv_options_add_array (o, "x"), "2-", WEFT_CSV_NUMERIC);
      break;
    default:
      break;   /* one numeric array per column */
    }
  return o;
}

static void
check_table (WeftCsvTable *t)
{
  volatile float sink = 0.0f;
  g_assert_cmpint (t->n_rows, >=, 0);
  g_assert_cmpint (t->n_columns, >=, 0);
  for (int c = 0; c < t->n_columns; c++)
    g_assert (t->column_names[c] != NULL);
  g_assert (t->column_names[t->n_columns] == NULL);
  for (guint i = 0; i < t->arrays->len; i++)
    {
      WeftCsvArray *a = g_ptr_array_index (t->arrays, i);
      g_assert_cmpint (a->dims[0], >=, 0);
      int64_t n = t->n_rows * a->dims[0];
      g_assert (n == 0 || a->data != NULL);
      for (int64_t k = 0; k < n; k++)
        sink += a->data[k];
      /* Header names may repeat (or be empty): find gives the first array of that name. */
      WeftCsvArray *found = weft_csv_table_find (t, a->name);
      g_assert (found != NULL && strcmp (found->name, a->name) == 0);
    }
  (void) sink;
}

int
weft_fuzz_csv (const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  if (memfd < 0)
    {
      memfd = memfd_create ("weft-fuzz-csv", 0);
      g_assert (memfd >= 0);
    }
  g_assert (ftruncate (memfd, 0) == 0);
  g_assert (pwrite (memfd, data + 2, size - 2, 0) == (ssize_t) (size - 2));

  g_autofree char *path = g_strdup_printf ("/proc/self/fd/%d", memfd);
  g_autoptr (WeftCsvOptions) options = options_from_bytes (data[0], data[1]);
  g_autoptr (GError) error = NULL;

  WeftCsvTable *table = weft_csv_read (path, options, &error);
  if (table == NULL)
    g_assert (error != NULL && error->message[0] != '\0');
  else
    {
      check_table (table);
      weft_csv_table_free (table);
    }
  g_clear_error (&error);

  if (data[0] & 128)
    {
      WeftCsvPreview *p = weft_csv_preview (path, options, 5, 100, &error);
      if (p == NULL)
        g_assert (error != NULL && error->message[0] != '\0');
      else
        {
          g_assert_cmpint (p->rows->len, <=, 5);
          for (int c = 0; c < p->n_columns; c++)
            g_assert (p->column_names[c] != NULL);
          weft_csv_preview_free (p);
        }
    }
  return 0;
}
