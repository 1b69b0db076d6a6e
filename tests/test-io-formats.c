/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of engine/io file formats: safetensors, NPY, NPZ. Fixtures under tests/data/formats
 * come from real numpy (make-fixtures.py); malformed inputs are built here. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "weft-npy.h"
#include "weft-safetensors.h"
#include "weft-test-graphs.h"

#define FIXTURE_SEED 20240229u
#define N_FLIPS      3000   /* random byte corruptions per fuzz test */

static char *tmp_dir;

static char *
fixture (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "formats", name, NULL);
}

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* The formulas of make-fixtures.py. */
static float
expected_value (char kind, int i)
{
  switch (kind)
    {
    case 'f': return (float) (i * 0.5 - 3.25);
    case 'i': return (float) (i - 7);
    case 'u': return (float) (i * 3);
    case 'b': return i % 3 == 0 ? 1.0f : 0.0f;
    default: g_assert_not_reached ();
    }
}

/* ---------------------------------------------------------------- NPY fixtures */

static void
test_npy_fixtures_every_dtype (void)
{
  static const char *codes[] = { "f2", "f4", "f8", "i1", "i2", "i4", "i8",
                                 "u1", "u2", "u4", "u8", "b1" };
  int files = 0;

  for (guint k = 0; k < G_N_ELEMENTS (codes); k++)
    {
      gboolean one_byte = codes[k][1] == '1';
      const char *endians[] = { one_byte ? "na" : "le", one_byte ? NULL : "be" };

      for (int e = 0; e < 2 && endians[e] != NULL; e++)
        for (int o = 0; o < 2; o++)
          {
            g_autofree char *name = g_strdup_printf ("%s-%s-%s.npy", codes[k], endians[e],
                                                     o ? "f" : "c");
            g_autofree char *path = fixture (name);
            g_autoptr (GError) error = NULL;
            WeftNpyArray a;

            g_test_message ("%s", name);
            g_assert_true (weft_npy_read (path, &a, &error));
            g_assert_no_error (error);
            g_assert_cmpstr (a.name, ==, "");
            g_assert_cmpint (a.rank, ==, 3);
            g_assert_cmpint (a.dims[0], ==, 2);
            g_assert_cmpint (a.dims[1], ==, 3);
            g_assert_cmpint (a.dims[2], ==, 4);
            g_assert_cmpint (weft_npy_array_size (&a), ==, 24);
            for (int i = 0; i < 24; i++)
              g_assert_cmpfloat (a.data[i], ==, expected_value (codes[k][0], i));
            weft_npy_array_clear (&a);
            g_assert_null (a.data);
            files++;
          }
    }
  g_assert_cmpint (files, ==, 42);
}

static void
test_npy_fixtures_edge_shapes (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *scalar = fixture ("scalar-f8.npy");
  g_autofree char *vector = fixture ("vector-i4.npy");
  g_autofree char *empty = fixture ("empty-f4.npy");
  g_autofree char *v2 = fixture ("v2-f4.npy");
  WeftNpyArray a;

  g_assert_true (weft_npy_read (scalar, &a, &error));
  g_assert_cmpint (a.rank, ==, 0);
  g_assert_cmpint (weft_npy_array_size (&a), ==, 1);
  g_assert_cmpfloat (a.data[0], ==, 2.5f);
  weft_npy_array_clear (&a);

  g_assert_true (weft_npy_read (vector, &a, &error));
  g_assert_cmpint (a.rank, ==, 1);
  g_assert_cmpint (a.dims[0], ==, 3);
  g_assert_cmpfloat (a.data[0], ==, 5.0f);
  g_assert_cmpfloat (a.data[1], ==, -6.0f);
  g_assert_cmpfloat (a.data[2], ==, 7.0f);
  weft_npy_array_clear (&a);

  g_assert_true (weft_npy_read (empty, &a, &error));
  g_assert_cmpint (a.rank, ==, 2);
  g_assert_cmpint (a.dims[0], ==, 0);
  g_assert_cmpint (a.dims[1], ==, 3);
  g_assert_cmpint (weft_npy_array_size (&a), ==, 0);
  weft_npy_array_clear (&a);

  g_assert_true (weft_npy_read (v2, &a, &error));
  g_assert_no_error (error);
  g_assert_cmpint (a.rank, ==, 2);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (a.data[i], ==, (float) i);
  weft_npy_array_clear (&a);

  /* Format 3.0 differs from 2.0 only in allowing UTF-8 in the header. */
  {
    g_autofree char *bytes = NULL;
    gsize len;

    g_assert_true (g_file_get_contents (v2, &bytes, &len, NULL));
    g_assert_cmpint (bytes[6], ==, 2);
    bytes[6] = 3;
    g_assert_true (weft_npy_read_data ((const guint8 *) bytes, len, &a, &error));
    g_assert_no_error (error);
    g_assert_cmpfloat (a.data[5], ==, 5.0f);
    weft_npy_array_clear (&a);
  }
}

/* ---------------------------------------------------------------- NPY round trip */

static void
test_npy_write_read_round_trip (void)
{
  GRand *rand = g_rand_new_with_seed (FIXTURE_SEED);
  static const int64_t shapes[][5] = {
    { 0 }, { 1, 7 }, { 2, 3, 5 }, { 3, 2, 1, 4 }, { 4, 2, 2, 2, 3 }, { 2, 0, 5 },
  };

  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int rank = (int) shapes[s][0];
      const int64_t *dims = &shapes[s][1];
      int64_t n = 1;
      g_autofree float *data = NULL;
      g_autofree char *path = tmp_path ("round.npy");
      g_autoptr (GError) error = NULL;
      WeftNpyArray a;

      for (int d = 0; d < rank; d++)
        n *= dims[d];
      data = g_new (float, MAX (n, 1));
      for (int64_t i = 0; i < n; i++)
        data[i] = (float) g_rand_double_range (rand, -1e6, 1e6);
      if (n > 2)
        {
          data[0] = INFINITY;
          data[1] = -0.0f;
        }
      g_assert_true (weft_npy_write (path, data, rank, dims, &error));
      g_assert_no_error (error);

      /* numpy aligns the data to 64 bytes; so do we. */
      {
        g_autofree char *bytes = NULL;
        gsize len;
        g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
        g_assert_cmpuint ((len - (gsize) n * 4) % 64, ==, 0);
        g_assert_cmpint (bytes[len - (gsize) n * 4 - 1], ==, '\n');
      }

      g_assert_true (weft_npy_read (path, &a, &error));
      g_assert_no_error (error);
      g_assert_cmpint (a.rank, ==, rank);
      for (int d = 0; d < rank; d++)
        g_assert_cmpint (a.dims[d], ==, dims[d]);
      if (n > 0)
        g_assert_cmpmem (a.data, n * 4, data, n * 4);
      weft_npy_array_clear (&a);
    }
  g_rand_free (rand);
}

static void
test_npy_write_refuses_bad_arguments (void)
{
  g_autofree char *path = tmp_path ("bad.npy");
  g_autofree char *nodir = g_build_filename (tmp_dir, "no", "such", "dir", "x.npy", NULL);
  int64_t dims[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
  int64_t neg[2] = { 2, -1 };
  float v = 1.0f;
  GError *error = NULL;

  g_assert_false (weft_npy_write (path, &v, 9, dims, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_false (weft_npy_write (path, &v, 2, neg, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_false (weft_npy_write (nodir, &v, 1, dims, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO);
  g_clear_error (&error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

/* ---------------------------------------------------------------- NPY malformed */

/* An NPY file (format 1.0) with the given header text and `data_len` data bytes. */
static GByteArray *
make_npy (const char *header, gsize data_len)
{
  GByteArray *b = g_byte_array_new ();
  guint8 prefix[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };
  gsize hl = strlen (header);

  prefix[8] = (guint8) (hl & 0xff);
  prefix[9] = (guint8) (hl >> 8);
  g_byte_array_append (b, prefix, 10);
  g_byte_array_append (b, (const guint8 *) header, (guint) hl);
  for (gsize i = 0; i < data_len; i++)
    {
      guint8 z = (guint8) i;
      g_byte_array_append (b, &z, 1);
    }
  return b;
}

static void
assert_npy_fails (const guint8 *data, gsize len, int code, const char *what)
{
  GError *error = NULL;
  WeftNpyArray a;

  g_test_message ("malformed NPY: %s", what);
  g_assert_false (weft_npy_read_data (data, len, &a, &error));
  g_assert_error (error, WEFT_IO_ERROR, code);
  g_assert_null (a.data);
  g_assert_cmpint (a.rank, ==, 0);
  g_test_message ("  -> %s", error->message);
  g_error_free (error);
}

static void
test_npy_malformed_headers (void)
{
  static const struct { const char *header; gsize data; int code; } cases[] = {
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 7, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 9, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000,), }", 8,
      WEFT_IO_ERROR_TOO_LARGE },
    { "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", 8, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f3', 'fortran_order': False, 'shape': (1,), }", 3, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f16', 'fortran_order': False, 'shape': (1,), }", 16, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f99999999999999999999', 'fortran_order': False, 'shape': (1,), }", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }", 4, WEFT_IO_ERROR_FORMAT },
    { "{'descr': 'f', 'fortran_order': False, 'shape': (1,), }", 4, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '', 'fortran_order': False, 'shape': (1,), }", 4, WEFT_IO_ERROR_FORMAT },
    { "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4,
      WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", 4, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }", 0, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,), }", 8, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': [1], }", 4, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }", 4,
      WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", 4,
      WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }", 16,
      WEFT_IO_ERROR_TOO_LARGE },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807, 2), }", 16,
      WEFT_IO_ERROR_TOO_LARGE },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", 16,
      WEFT_IO_ERROR_TOO_LARGE },
    { "{'descr': '<f4', 'fortran_order': False}", 4, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4,
      WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", 4,
      WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", 4, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} trailing", 4,
      WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", 4, WEFT_IO_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (1,", 4, WEFT_IO_ERROR_FORMAT },
    { "['descr', '<f4']", 4, WEFT_IO_ERROR_FORMAT },
    { "", 4, WEFT_IO_ERROR_FORMAT },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GByteArray) b = make_npy (cases[i].header, cases[i].data);
      assert_npy_fails (b->data, b->len, cases[i].code, cases[i].header);
    }
}

static void
test_npy_malformed_prefix (void)
{
  g_autoptr (GByteArray) good = make_npy ("{'descr': '<f4', 'fortran_order': False, "
                                          "'shape': (2,), }\n", 8);
  g_autofree guint8 *copy = g_memdup2 (good->data, good->len);
  static const guint8 v2_huge[] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff,
                                    0x7f, '{' };
  static const guint8 v2_short[] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff };
  static const guint8 v1_past[] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0x00, '{' };

  assert_npy_fails (NULL, 0, WEFT_IO_ERROR_FORMAT, "empty");
  assert_npy_fails ((const guint8 *) "PK\3\4", 4, WEFT_IO_ERROR_FORMAT, "zip magic");
  copy[0] = 0x92;
  assert_npy_fails (copy, good->len, WEFT_IO_ERROR_FORMAT, "bad magic");
  copy[0] = 0x93;
  copy[6] = 9;
  assert_npy_fails (copy, good->len, WEFT_IO_ERROR_VERSION, "version 9.0");
  assert_npy_fails (v2_huge, sizeof v2_huge, WEFT_IO_ERROR_FORMAT, "2 GB header, short file");
  {
    /* A header inside the data but above the 1 MB cap. */
    gsize hl = WEFT_NPY_MAX_HEADER + 1;
    g_autofree guint8 *big = g_malloc0 (12 + hl + 4);

    memcpy (big, v2_huge, 8);
    for (int i = 0; i < 4; i++)
      big[8 + i] = (guint8) (hl >> (8 * i));
    memset (big + 12, ' ', hl);
    big[12] = '{';
    assert_npy_fails (big, 12 + hl + 4, WEFT_IO_ERROR_TOO_LARGE, "header above the cap");
  }
  assert_npy_fails (v2_short, sizeof v2_short, WEFT_IO_ERROR_FORMAT, "v2 without length");
  assert_npy_fails (v1_past, sizeof v1_past, WEFT_IO_ERROR_FORMAT, "header past the end");
}

/* Every prefix of a valid file fails cleanly; random byte corruption never crashes and
 * either fails with WEFT_IO_ERROR or yields a consistent array. */
static void
fuzz_npy_bytes (const guint8 *data, gsize len)
{
  GRand *rand = g_rand_new_with_seed (FIXTURE_SEED);
  g_autofree guint8 *copy = g_memdup2 (data, len);

  for (gsize cut = 0; cut < len; cut++)
    {
      GError *error = NULL;
      WeftNpyArray a;

      g_assert_false (weft_npy_read_data (data, cut, &a, &error));
      g_assert_true (error != NULL && error->domain == WEFT_IO_ERROR);
      g_error_free (error);
    }
  for (int k = 0; k < N_FLIPS; k++)
    {
      GError *error = NULL;
      WeftNpyArray a;
      int n_changes = g_rand_int_range (rand, 1, 4);

      memcpy (copy, data, len);
      for (int c = 0; c < n_changes; c++)
        copy[g_rand_int_range (rand, 0, (gint32) len)] = (guint8) g_rand_int_range (rand, 0, 256);
      if (weft_npy_read_data (copy, len, &a, &error))
        {
          int64_t n = weft_npy_array_size (&a);
          volatile float sum = 0;

          g_assert_cmpint (n, >=, 0);
          g_assert_cmpint (n, <=, (int64_t) len);
          for (int64_t i = 0; i < n; i++)   /* touches every element (ASan checks it) */
            sum += a.data[i];
          weft_npy_array_clear (&a);
        }
      else
        {
          g_assert_true (error != NULL && error->domain == WEFT_IO_ERROR);
          g_error_free (error);
        }
    }
  g_rand_free (rand);
}

static void
test_npy_fuzz_truncation_and_corruption (void)
{
  const char *names[] = { "f8-be-f.npy", "i2-le-c.npy", "b1-na-f.npy", "scalar-f8.npy" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = fixture (names[i]);
      g_autofree char *bytes = NULL;
      gsize len;

      g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
      fuzz_npy_bytes ((const guint8 *) bytes, len);
    }
}

static void
test_npy_missing_file_is_io_error (void)
{
  g_autofree char *path = tmp_path ("does-not-exist.npy");
  GError *error = NULL;
  WeftNpyArray a;

  g_assert_false (weft_npy_read (path, &a, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "does-not-exist.npy"));
  g_clear_error (&error);
  g_assert_null (weft_npz_read (path, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO);
  g_error_free (error);
}

/* ---------------------------------------------------------------- NPZ */

static void
check_npz_abc (GPtrArray *arrays)
{
  WeftNpyArray *a, *b, *c;

  g_assert_nonnull (arrays);
  g_assert_cmpuint (arrays->len, ==, 3);
  g_assert_cmpstr (((WeftNpyArray *) arrays->pdata[0])->name, ==, "a");
  g_assert_cmpstr (((WeftNpyArray *) arrays->pdata[1])->name, ==, "b");
  g_assert_cmpstr (((WeftNpyArray *) arrays->pdata[2])->name, ==, "c");
  a = weft_npz_find (arrays, "a");
  b = weft_npz_find (arrays, "b");
  c = weft_npz_find (arrays, "c");
  g_assert_null (weft_npz_find (arrays, "d"));
  g_assert_cmpint (a->rank, ==, 2);
  g_assert_cmpint (a->dims[0], ==, 3);
  g_assert_cmpint (a->dims[1], ==, 4);
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat (a->data[i], ==, i * 0.25f);
  g_assert_cmpint (b->rank, ==, 1);
  g_assert_cmpint (b->dims[0], ==, 3);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (b->data[i], ==, (float) (i + 1));
  /* Fortran-ordered in the file, C order in memory. */
  g_assert_cmpint (c->rank, ==, 2);
  g_assert_cmpint (c->dims[0], ==, 2);
  g_assert_cmpint (c->dims[1], ==, 3);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (c->data[i], ==, (float) i);
}

static void
test_npz_stored_and_deflated (void)
{
  const char *names[] = { "stored.npz", "deflated.npz" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = fixture (names[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) arrays = weft_npz_read (path, &error);

      g_assert_no_error (error);
      check_npz_abc (arrays);
    }
}

static void
test_npz_highly_compressed (void)
{
  g_autofree char *path = fixture ("zeros.npz");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) arrays = weft_npz_read (path, &error);
  WeftNpyArray *z;

  g_assert_no_error (error);
  g_assert_cmpuint (arrays->len, ==, 1);
  z = weft_npz_find (arrays, "z");
  g_assert_nonnull (z);
  g_assert_cmpint (weft_npy_array_size (z), ==, 64 * 64);
  for (int i = 0; i < 64 * 64; i++)
    g_assert_cmpfloat (z->data[i], ==, 0.0f);
}

static void
fuzz_npz_bytes (const guint8 *data, gsize len)
{
  GRand *rand = g_rand_new_with_seed (FIXTURE_SEED);
  g_autofree guint8 *copy = g_memdup2 (data, len);

  for (gsize cut = 0; cut < len; cut++)
    {
      GError *error = NULL;
      GPtrArray *arrays = weft_npz_read_data (data, cut, &error);

      /* A cut inside the zip comment-free tail can still leave no valid directory. */
      g_assert_null (arrays);
      g_assert_true (error != NULL && error->domain == WEFT_IO_ERROR);
      g_error_free (error);
    }
  for (int k = 0; k < N_FLIPS; k++)
    {
      GError *error = NULL;
      GPtrArray *arrays;
      int n_changes = g_rand_int_range (rand, 1, 4);

      memcpy (copy, data, len);
      for (int c = 0; c < n_changes; c++)
        copy[g_rand_int_range (rand, 0, (gint32) len)] = (guint8) g_rand_int_range (rand, 0, 256);
      arrays = weft_npz_read_data (copy, len, &error);
      if (arrays != NULL)
        {
          for (guint i = 0; i < arrays->len; i++)
            {
              WeftNpyArray *a = arrays->pdata[i];
              volatile float sum = 0;
              for (int64_t j = 0; j < weft_npy_array_size (a); j++)
                sum += a->data[j];
            }
          g_ptr_array_unref (arrays);
        }
      else
        {
          g_assert_true (error != NULL && error->domain == WEFT_IO_ERROR);
          g_error_free (error);
        }
    }
  g_rand_free (rand);
}

static void
test_npz_fuzz_truncation_and_corruption (void)
{
  const char *names[] = { "stored.npz", "deflated.npz" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = fixture (names[i]);
      g_autofree char *bytes = NULL;
      gsize len;

      g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
      fuzz_npz_bytes ((const guint8 *) bytes, len);
    }
}

static guint8 *
read_fixture_bytes (const char *name, gsize *len)
{
  g_autofree char *path = fixture (name);
  char *bytes = NULL;

  g_assert_true (g_file_get_contents (path, &bytes, len, NULL));
  return (guint8 *) bytes;
}

static gsize
find_sig (const guint8 *p, gsize len, guint32 sig, gsize from)
{
  for (gsize i = from; i + 4 <= len; i++)
    if ((guint32) (p[i] | p[i + 1] << 8 | p[i + 2] << 16 | (guint32) p[i + 3] << 24) == sig)
      return i;
  g_assert_not_reached ();
}

static void
put32 (guint8 *p, guint32 v)
{
  p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; p[2] = (v >> 16) & 0xff; p[3] = v >> 24;
}

static void
assert_npz_fails (const guint8 *data, gsize len, int code, const char *what)
{
  GError *error = NULL;

  g_test_message ("malformed NPZ: %s", what);
  g_assert_null (weft_npz_read_data (data, len, &error));
  g_assert_error (error, WEFT_IO_ERROR, code);
  g_test_message ("  -> %s", error->message);
  g_error_free (error);
}

static void
test_npz_malformed (void)
{
  gsize len;
  g_autofree guint8 *orig = read_fixture_bytes ("deflated.npz", &len);
  g_autofree guint8 *p = g_memdup2 (orig, len);
  gsize eocd = find_sig (orig, len, 0x06054b50, 0);
  gsize central = find_sig (orig, len, 0x02014b50, 0);
  gsize local0 = 0;
  guint32 csize0 = orig[central + 20] | orig[central + 21] << 8;
  gsize data0 = local0 + 30 + (orig[26] | orig[27] << 8) + (orig[28] | orig[29] << 8);

  assert_npz_fails (NULL, 0, WEFT_IO_ERROR_FORMAT, "empty");
  assert_npz_fails ((const guint8 *) "not a zip archive at all, really", 32,
                    WEFT_IO_ERROR_FORMAT, "text");

  /* Claims far more entries than the directory can hold. */
  p[eocd + 10] = 0xff; p[eocd + 11] = 0xfe;
  assert_npz_fails (p, len, WEFT_IO_ERROR_FORMAT, "entry count");
  memcpy (p, orig, len);

  /* Directory offset beyond the file. */
  put32 (p + eocd + 16, 0x7ffffff0);
  assert_npz_fails (p, len, WEFT_IO_ERROR_FORMAT, "directory offset");
  memcpy (p, orig, len);

  /* Local header offset beyond the file. */
  put32 (p + central + 42, (guint32) len + 100);
  assert_npz_fails (p, len, WEFT_IO_ERROR_FORMAT, "local offset");
  memcpy (p, orig, len);

  /* Compressed size runs past the end. */
  put32 (p + central + 20, (guint32) len);
  assert_npz_fails (p, len, WEFT_IO_ERROR_FORMAT, "compressed size");
  memcpy (p, orig, len);

  /* A zip bomb claim: 4 GB out of 100 bytes. */
  put32 (p + central + 24, 0xfffffff0u);
  assert_npz_fails (p, len, WEFT_IO_ERROR_TOO_LARGE, "inflated size beyond deflate's ratio");
  memcpy (p, orig, len);

  /* Plausible but wrong inflated size. */
  put32 (p + central + 24, (guint32) (orig[central + 24] | orig[central + 25] << 8) + 1);
  assert_npz_fails (p, len, WEFT_IO_ERROR_FORMAT, "inflated size off by one");
  memcpy (p, orig, len);

  /* Corrupted deflate stream or CRC. */
  for (guint32 i = 0; i < csize0; i++)
    p[data0 + i] ^= 0x5a;
  assert_npz_fails (p, len, WEFT_IO_ERROR_FORMAT, "corrupt deflate data");
  memcpy (p, orig, len);
  p[central + 16] ^= 1;
  assert_npz_fails (p, len, WEFT_IO_ERROR_FORMAT, "CRC mismatch");
  memcpy (p, orig, len);

  /* Unsupported method and encryption. */
  p[central + 10] = 12;
  assert_npz_fails (p, len, WEFT_IO_ERROR_FORMAT, "bzip2 method");
  memcpy (p, orig, len);
  p[central + 8] |= 1;
  assert_npz_fails (p, len, WEFT_IO_ERROR_FORMAT, "encrypted");
  memcpy (p, orig, len);

  /* Name length running past the directory. */
  p[central + 28] = 0xff; p[central + 29] = 0xff;
  assert_npz_fails (p, len, WEFT_IO_ERROR_FORMAT, "name length");
}

static void
test_npz_entry_with_bad_npy (void)
{
  gsize len;
  g_autofree guint8 *p = read_fixture_bytes ("stored.npz", &len);
  gsize central = find_sig (p, len, 0x02014b50, 0);
  gsize data0 = 30 + (p[26] | p[27] << 8) + (p[28] | p[29] << 8);
  guint8 *descr = NULL;
  GError *error = NULL;
  guint32 crc;

  for (gsize i = data0; descr == NULL && i + 3 <= len; i++)
    if (memcmp (p + i, "<f4", 3) == 0)
      descr = p + i;
  /* Change the dtype and fix up the CRC, so only the NPY parser can object. */
  g_assert_nonnull (descr);
  descr[1] = 'c';
  {
    /* Recompute CRC-32 the slow way to stay independent of the code under test. */
    guint32 usize = p[central + 24] | p[central + 25] << 8 | p[central + 26] << 16 |
                    (guint32) p[central + 27] << 24;
    crc = 0xffffffffu;
    for (guint32 i = 0; i < usize; i++)
      {
        crc ^= p[data0 + i];
        for (int k = 0; k < 8; k++)
          crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
      }
    crc ^= 0xffffffffu;
  }
  put32 (p + central + 16, crc);
  g_assert_null (weft_npz_read_data (p, len, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "a.npy"));
  g_assert_nonnull (strstr (error->message, "c4"));
  g_error_free (error);
}

/* ---------------------------------------------------------------- safetensors */

static void
test_safetensors_fixture_every_dtype (void)
{
  g_autofree char *path = fixture ("dtypes.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (WeftTensorFile) f = weft_tensor_file_read (path, &error);
  static const struct { const char *name; char kind; int rank; int64_t dims[2]; } want[] = {
    { "f32", 'f', 2, { 2, 3 } }, { "f16", 'f', 2, { 2, 3 } }, { "bf16", 'f', 2, { 2, 3 } },
    { "f64", 'f', 2, { 3, 2 } }, { "i8", 'i', 1, { 6 } }, { "i32", 'i', 1, { 6 } },
    { "i64", 'i', 2, { 1, 6 } }, { "u8", 'u', 1, { 6 } }, { "bool", 'b', 1, { 6 } },
  };
  int64_t dims[WEFT_TENSOR_MAX_RANK];
  const float *data;
  int rank;

  g_assert_no_error (error);
  g_assert_cmpint (weft_tensor_file_n (f), ==, 11);
  g_assert_cmpstr (weft_tensor_file_get_metadata (f, "format"), ==, "pt");
  g_assert_cmpstr (weft_tensor_file_get_metadata (f, "note"), ==, "fixture");
  g_assert_null (weft_tensor_file_get_metadata (f, "absent"));
  for (guint t = 0; t < G_N_ELEMENTS (want); t++)
    {
      data = weft_tensor_file_get (f, want[t].name, &rank, dims);
      g_assert_nonnull (data);
      g_assert_cmpint (rank, ==, want[t].rank);
      for (int d = 0; d < rank; d++)
        g_assert_cmpint (dims[d], ==, want[t].dims[d]);
      for (int i = 0; i < 6; i++)
        g_assert_cmpfloat (data[i], ==, expected_value (want[t].kind, i));
    }
  data = weft_tensor_file_get (f, "scalar", &rank, dims);
  g_assert_nonnull (data);
  g_assert_cmpint (rank, ==, 0);
  g_assert_cmpfloat (data[0], ==, 4.5f);
  data = weft_tensor_file_get (f, "empty", &rank, dims);
  g_assert_nonnull (data);
  g_assert_cmpint (rank, ==, 2);
  g_assert_cmpint (dims[0], ==, 0);
  g_assert_cmpint (dims[1], ==, 4);
  g_assert_null (weft_tensor_file_get (f, "missing", &rank, dims));
}

static void
test_safetensors_round_trip_is_stable (void)
{
  GRand *rand = g_rand_new_with_seed (FIXTURE_SEED);
  g_autofree char *path_a = tmp_path ("a.safetensors");
  g_autofree char *path_b = tmp_path ("b.safetensors");
  g_autoptr (WeftTensorFile) fa = weft_tensor_file_new ();
  g_autoptr (WeftTensorFile) fb = weft_tensor_file_new ();
  g_autoptr (WeftTensorFile) back = NULL;
  g_autoptr (GError) error = NULL;
  static const char *names[] = { "dense/kernel", "dense/bias", "conv2d/kernel", "zeta",
                                 "a \"quoted\"\\name\n" };
  static const int64_t shapes[][5] = {
    { 2, 5, 3 }, { 1, 3 }, { 4, 3, 3, 2, 4 }, { 0 }, { 2, 0, 2 },
  };
  float *data[G_N_ELEMENTS (names)];
  int64_t sizes[G_N_ELEMENTS (names)];
  char sha_a[65], sha_b[65], sha_file[65];
  g_autofree char *bytes_a = NULL, *bytes_b = NULL;
  gsize len_a, len_b;

  for (guint t = 0; t < G_N_ELEMENTS (names); t++)
    {
      sizes[t] = 1;
      for (int d = 0; d < shapes[t][0]; d++)
        sizes[t] *= shapes[t][1 + d];
      data[t] = g_new (float, MAX (sizes[t], 1));
      for (int64_t i = 0; i < sizes[t]; i++)
        data[t][i] = (float) g_rand_double_range (rand, -3, 3);
    }
  /* The same tensors added in opposite orders give identical files. */
  for (guint t = 0; t < G_N_ELEMENTS (names); t++)
    g_assert_true (weft_tensor_file_add (fa, names[t], (int) shapes[t][0], &shapes[t][1],
                                         data[t], &error));
  for (guint t = G_N_ELEMENTS (names); t-- > 0;)
    g_assert_true (weft_tensor_file_add (fb, names[t], (int) shapes[t][0], &shapes[t][1],
                                         data[t], &error));
  weft_tensor_file_set_metadata (fa, "format", "weft");
  weft_tensor_file_set_metadata (fb, "format", "weft");
  g_assert_true (weft_tensor_file_write (fa, path_a, sha_a, &error));
  g_assert_no_error (error);
  g_assert_true (weft_tensor_file_write (fb, path_b, sha_b, &error));
  g_assert_cmpstr (sha_a, ==, sha_b);
  g_assert_cmpuint (strlen (sha_a), ==, 64);
  g_assert_true (g_file_get_contents (path_a, &bytes_a, &len_a, NULL));
  g_assert_true (g_file_get_contents (path_b, &bytes_b, &len_b, NULL));
  g_assert_cmpmem (bytes_a, len_a, bytes_b, len_b);
  g_assert_true (weft_file_sha256 (path_a, sha_file, &error));
  g_assert_cmpstr (sha_file, ==, sha_a);
  /* Data starts 8-aligned like the reference writer's files. */
  g_assert_cmpuint (((guint8) bytes_a[0] + 8) % 8, ==, 0);

  back = weft_tensor_file_read (path_a, &error);
  g_assert_no_error (error);
  g_assert_cmpint (weft_tensor_file_n (back), ==, G_N_ELEMENTS (names));
  for (int i = 1; i < weft_tensor_file_n (back); i++)
    g_assert_cmpint (strcmp (weft_tensor_file_name (back, i - 1),
                             weft_tensor_file_name (back, i)), <, 0);
  g_assert_cmpstr (weft_tensor_file_get_metadata (back, "format"), ==, "weft");
  for (guint t = 0; t < G_N_ELEMENTS (names); t++)
    {
      int64_t dims[WEFT_TENSOR_MAX_RANK];
      int rank;
      const float *got = weft_tensor_file_get (back, names[t], &rank, dims);

      g_assert_nonnull (got);
      g_assert_cmpint (rank, ==, shapes[t][0]);
      for (int d = 0; d < rank; d++)
        g_assert_cmpint (dims[d], ==, shapes[t][1 + d]);
      if (sizes[t] > 0)
        g_assert_cmpmem (got, sizes[t] * 4, data[t], sizes[t] * 4);
      g_free (data[t]);
    }
  g_rand_free (rand);
}

static void
test_safetensors_add_refuses_bad_tensors (void)
{
  g_autoptr (WeftTensorFile) f = weft_tensor_file_new ();
  int64_t dims[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
  int64_t neg[1] = { -2 };
  int64_t huge[3] = { G_MAXINT64, G_MAXINT64, 2 };
  float v = 0;
  GError *error = NULL;

  g_assert_true (weft_tensor_file_add (f, "x", 1, dims, &v, &error));
  g_assert_false (weft_tensor_file_add (f, "x", 1, dims, &v, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_false (weft_tensor_file_add (f, "", 1, dims, &v, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_false (weft_tensor_file_add (f, "__metadata__", 1, dims, &v, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_false (weft_tensor_file_add (f, "r9", 9, dims, &v, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_false (weft_tensor_file_add (f, "neg", 1, neg, &v, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_false (weft_tensor_file_add (f, "huge", 3, huge, &v, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_cmpint (weft_tensor_file_n (f), ==, 1);
}

static void
test_safetensors_write_errors (void)
{
  g_autoptr (WeftTensorFile) f = weft_tensor_file_new ();
  g_autofree char *nodir = g_build_filename (tmp_dir, "missing-dir", "w.safetensors", NULL);
  g_autofree char *missing = tmp_path ("missing.safetensors");
  char sha[65];
  GError *error = NULL;

  g_assert_false (weft_tensor_file_write (f, nodir, sha, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO);
  g_clear_error (&error);
  g_assert_false (weft_file_sha256 (missing, sha, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO);
  g_clear_error (&error);
  g_assert_null (weft_tensor_file_read (missing, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO);
  g_clear_error (&error);
}

/* A safetensors file from header text and `data_len` data bytes. */
static GByteArray *
make_st (const char *header, gsize data_len)
{
  GByteArray *b = g_byte_array_new ();
  guint64 hl = strlen (header);
  guint8 len_bytes[8];

  for (int i = 0; i < 8; i++)
    len_bytes[i] = (guint8) (hl >> (8 * i));
  g_byte_array_append (b, len_bytes, 8);
  g_byte_array_append (b, (const guint8 *) header, (guint) hl);
  for (gsize i = 0; i < data_len; i++)
    {
      guint8 z = (guint8) (i * 7);
      g_byte_array_append (b, &z, 1);
    }
  return b;
}

static void
assert_st_fails (const guint8 *data, gsize len, int code, const char *what)
{
  GError *error = NULL;
  g_autofree char *escaped = g_strescape (what, NULL);

  g_test_message ("malformed safetensors: %.200s", escaped);
  g_assert_null (weft_tensor_file_read_data (data, len, &error));
  g_assert_error (error, WEFT_IO_ERROR, code);
  g_test_message ("  -> %s", error->message);
  g_error_free (error);
}

static void
test_safetensors_malformed_headers (void)
{
  static const struct { const char *header; gsize data; int code; } cases[] = {
    { "[1, 2, 3]", 0, WEFT_IO_ERROR_FORMAT },
    { "\"just a string\"", 0, WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": 3}", 0, WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F7\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"C64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": 4, \"shape\": [2], \"data_offsets\": [0, 8]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", 8, WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 8]}}", 8, WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2]}}", 8, WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": 2, \"data_offsets\": [0, 8]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 8]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [\"2\"], \"data_offsets\": [0, 8]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 4]}}",
      4, WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 4294967296], "
      "\"data_offsets\": [0, 8]}}", 8, WEFT_IO_ERROR_TOO_LARGE },
    { "{\"a\": {\"dtype\": \"F64\", \"shape\": [2305843009213693952], "
      "\"data_offsets\": [0, 0]}}", 0, WEFT_IO_ERROR_TOO_LARGE },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [1000000], \"data_offsets\": [0, 4000000]}}", 8,
      WEFT_IO_ERROR_TOO_LARGE },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 1000]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [-8, 0]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 1e30]}}", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], "
      "\"data_offsets\": [0, 99999999999999999999999999]}}", 8, WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
      "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12,
      WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
      "\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", 16,
      WEFT_IO_ERROR_FORMAT },
    { "{\"__metadata__\": [1]}", 0, WEFT_IO_ERROR_FORMAT },
    { "{\"__metadata__\": {\"k\": 1}}", 0, WEFT_IO_ERROR_FORMAT },
    { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}} trailing", 8,
      WEFT_IO_ERROR_FORMAT },
    { "{\"\xff\xfe\": 1}", 0, WEFT_IO_ERROR_FORMAT },
    { "{", 0, WEFT_IO_ERROR_FORMAT },
    { " {}", 0, WEFT_IO_ERROR_FORMAT },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GByteArray) b = make_st (cases[i].header, cases[i].data);
      assert_st_fails (b->data, b->len, cases[i].code, cases[i].header);
    }
}

static void
test_safetensors_malformed_lengths (void)
{
  static const guint8 huge[16] = { 0, 0, 0, 0, 0, 1, 0, 0, '{', '}' };
  static const guint8 past[16] = { 200, 0, 0, 0, 0, 0, 0, 0, '{', '}' };
  static const guint8 max[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}' };
  static const guint8 over_cap[16] = { 0x01, 0x00, 0x40, 0x06, 0, 0, 0, 0, '{', '}' };
  g_autoptr (GString) deep = g_string_new ("{\"a\": ");
  g_autoptr (GByteArray) deep_file = NULL;
  g_autoptr (GByteArray) empty_ok = make_st ("{}", 0);
  g_autoptr (WeftTensorFile) f = NULL;
  g_autoptr (GError) error = NULL;

  assert_st_fails (NULL, 0, WEFT_IO_ERROR_FORMAT, "empty file");
  assert_st_fails (huge, 7, WEFT_IO_ERROR_FORMAT, "7 bytes");
  assert_st_fails (huge, sizeof huge, WEFT_IO_ERROR_FORMAT, "2^40 header length");
  assert_st_fails (max, sizeof max, WEFT_IO_ERROR_FORMAT, "2^64-1 header length");
  assert_st_fails (over_cap, sizeof over_cap, WEFT_IO_ERROR_FORMAT, "100 MB beyond the file");
  assert_st_fails (past, sizeof past, WEFT_IO_ERROR_FORMAT, "header past the end");

  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  deep_file = make_st (deep->str, 0);
  assert_st_fails (deep_file->data, deep_file->len, WEFT_IO_ERROR_FORMAT, "deep nesting");

  /* A header within the file but above the cap: a sparse file, so no memory is used. */
  {
    g_autofree char *path = tmp_path ("huge-header.safetensors");
    guint64 hl = WEFT_SAFETENSORS_MAX_HEADER + 1;
    guint8 prefix[9];
    FILE *fp = fopen (path, "wb");
    GError *err = NULL;

    for (int i = 0; i < 8; i++)
      prefix[i] = (guint8) (hl >> (8 * i));
    prefix[8] = '{';
    g_assert_nonnull (fp);
    g_assert_cmpint (fwrite (prefix, 1, 9, fp), ==, 9);
    g_assert_cmpint (fseek (fp, (long) (8 + hl + 16 - 1), SEEK_SET), ==, 0);
    g_assert_cmpint (fputc ('}', fp), ==, '}');
    g_assert_cmpint (fclose (fp), ==, 0);
    g_assert_null (weft_tensor_file_read (path, &err));
    g_assert_error (err, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE);
    g_test_message ("  -> %s", err->message);
    g_error_free (err);
    g_unlink (path);
  }

  /* An empty header is a valid file with no tensors. */
  f = weft_tensor_file_read_data (empty_ok->data, empty_ok->len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (weft_tensor_file_n (f), ==, 0);
}

static void
test_safetensors_fuzz_truncation_and_corruption (void)
{
  gsize len;
  g_autofree guint8 *orig = read_fixture_bytes ("dtypes.safetensors", &len);
  g_autofree guint8 *p = g_memdup2 (orig, len);
  GRand *rand = g_rand_new_with_seed (FIXTURE_SEED);
  int accepted = 0;

  for (gsize cut = 0; cut < len; cut++)
    {
      GError *error = NULL;

      g_assert_null (weft_tensor_file_read_data (orig, cut, &error));
      g_assert_true (error != NULL && error->domain == WEFT_IO_ERROR);
      g_error_free (error);
    }
  for (int k = 0; k < N_FLIPS; k++)
    {
      GError *error = NULL;
      WeftTensorFile *f;
      int n_changes = g_rand_int_range (rand, 1, 4);
      /* Mostly hit the header, where the parsing is. */
      gsize span = MIN (len, 8 + (gsize) orig[0] + 256 * orig[1]);

      memcpy (p, orig, len);
      for (int c = 0; c < n_changes; c++)
        p[g_rand_int_range (rand, 0, (gint32) span)] = (guint8) g_rand_int_range (rand, 0, 256);
      f = weft_tensor_file_read_data (p, len, &error);
      if (f != NULL)
        {
          for (int i = 0; i < weft_tensor_file_n (f); i++)
            {
              int64_t dims[WEFT_TENSOR_MAX_RANK], n = 1;
              int rank;
              const float *d = weft_tensor_file_get (f, weft_tensor_file_name (f, i), &rank,
                                                     dims);
              volatile float sum = 0;

              for (int r = 0; r < rank; r++)
                n *= dims[r];
              g_assert_cmpint (n, <=, (int64_t) len);
              for (int64_t j = 0; j < n; j++)
                sum += d[j];
            }
          weft_tensor_file_free (f);
          accepted++;
        }
      else
        {
          g_assert_true (error != NULL && error->domain == WEFT_IO_ERROR);
          g_error_free (error);
        }
    }
  g_test_message ("%d of %d corrupted files still parsed", accepted, N_FLIPS);
  g_rand_free (rand);
}

/* ---------------------------------------------------------------- graph level */

#define INIT_SEED_A 7
#define INIT_SEED_B 99

/* Number of weight tensors with data over all layers, and whether every one of them has
 * the same data in both graphs (matched by layer name). */
static int
count_weights (const WeftGraph *g)
{
  int total = 0;

  for (int i = 0; i < weft_graph_n_layers (g); i++)
    {
      int n = 0;
      const WeftWeight *w = weft_graph_layer_weights (g, weft_graph_layer_at (g, i), &n);
      for (int j = 0; j < n; j++)
        total += w[j].data != NULL;
    }
  return total;
}

static gboolean
same_weights (const WeftGraph *a, const WeftGraph *b)
{
  for (int i = 0; i < weft_graph_n_layers (a); i++)
    {
      WeftId la = weft_graph_layer_at (a, i);
      WeftId lb = weft_graph_find (b, weft_graph_get_name (a, la));
      int na = 0, nb = 0;
      const WeftWeight *wa = weft_graph_layer_weights (a, la, &na);
      const WeftWeight *wb;

      if (lb == WEFT_ID_NONE)
        return FALSE;
      wb = weft_graph_layer_weights (b, lb, &nb);
      if (na != nb)
        return FALSE;
      for (int j = 0; j < na; j++)
        {
          int64_t n = weft_shape_size (&wa[j].spec.shape);
          if (!weft_shape_equal (&wa[j].spec.shape, &wb[j].spec.shape) ||
              wa[j].data == NULL || wb[j].data == NULL ||
              memcmp (wa[j].data, wb[j].data, (size_t) n * sizeof (float)) != 0)
            return FALSE;
        }
    }
  return TRUE;
}

static WeftGraph *
initialised (WeftGraph *g, uint64_t seed)
{
  g_assert_cmpint (weft_graph_analyse (g), ==, 0);
  weft_graph_init_weights (g, seed);
  return g;
}

static void
test_graph_save_load_round_trip (void)
{
  g_autofree char *path = tmp_path ("three-heads.safetensors");
  g_autofree char *path2 = tmp_path ("three-heads-again.safetensors");
  WeftGraph *a = initialised (tg_three_heads (), INIT_SEED_A);
  WeftGraph *b = initialised (tg_three_heads (), INIT_SEED_B);
  g_autoptr (WeftTensorFile) f = NULL;
  g_autoptr (GError) error = NULL;
  char sha[65], sha2[65], sha_file[65];
  int64_t dims[WEFT_TENSOR_MAX_RANK];
  int rank;

  g_assert_false (same_weights (a, b));
  g_assert_true (weft_safetensors_save_graph (a, path, sha, &error));
  g_assert_no_error (error);
  g_assert_true (weft_file_sha256 (path, sha_file, &error));
  g_assert_cmpstr (sha, ==, sha_file);
  /* Saving the same weights again gives the same bytes. */
  g_assert_true (weft_safetensors_save_graph (a, path2, sha2, &error));
  g_assert_cmpstr (sha, ==, sha2);

  f = weft_tensor_file_read (path, &error);
  g_assert_no_error (error);
  /* 5 Dense layers x (kernel, bias); Input and Concatenate have none. */
  g_assert_cmpint (weft_tensor_file_n (f), ==, 10);
  g_assert_cmpint (weft_tensor_file_n (f), ==, count_weights (a));
  for (int i = 1; i < weft_tensor_file_n (f); i++)
    g_assert_cmpint (strcmp (weft_tensor_file_name (f, i - 1), weft_tensor_file_name (f, i)),
                     <, 0);
  g_assert_nonnull (weft_tensor_file_get (f, "trunk_1/kernel", &rank, dims));
  g_assert_cmpint (rank, ==, 2);
  g_assert_cmpint (dims[0], ==, 32);   /* Keras Dense kernel [in, out] */
  g_assert_cmpint (dims[1], ==, 64);
  g_assert_nonnull (weft_tensor_file_get (f, "gender/bias", &rank, dims));
  g_assert_cmpint (rank, ==, 1);
  g_assert_cmpint (dims[0], ==, 1);
  g_assert_cmpstr (weft_tensor_file_get_metadata (f, "format"), ==, "weft");

  g_assert_true (weft_safetensors_load_graph (b, path, sha, &error));
  g_assert_no_error (error);
  g_assert_true (same_weights (a, b));
  /* Upper-case checksums are accepted too. */
  {
    g_autofree char *upper = g_ascii_strup (sha, -1);
    g_assert_true (weft_safetensors_load_graph (b, path, upper, &error));
    g_assert_no_error (error);
  }
  weft_graph_free (a);
  weft_graph_free (b);
}

static void
test_graph_shared_layer_saved_once (void)
{
  g_autofree char *path = tmp_path ("shared.safetensors");
  WeftGraph *g = weft_graph_new ();
  WeftId m = weft_graph_add_model (g, "siamese", NULL);
  WeftId x1 = tg_input1 (g, m, "left", 5);
  WeftId x2 = tg_input1 (g, m, "right", 5);
  WeftId enc;
  WeftId e1 = tg_dense (g, m, "encoder", 4, "tanh", x1, &enc);
  WeftId e2 = tg_call (g, m, enc, 1, &x2);
  WeftId both[2] = { e1, e2 };
  WeftId y = tg_dense (g, m, "score", 1, "sigmoid",
                       tg_merge (g, m, "Concatenate", "pair", 2, both), NULL);
  g_autoptr (WeftTensorFile) f = NULL;
  g_autoptr (GError) error = NULL;
  WeftGraph *copy;

  tg_head (g, m, y, WEFT_LOSS_BINARY_CROSSENTROPY, 1.0f, WEFT_METRIC_NONE);
  initialised (g, INIT_SEED_A);
  g_assert_true (weft_safetensors_save_graph (g, path, NULL, &error));
  g_assert_no_error (error);
  f = weft_tensor_file_read (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (weft_tensor_file_n (f), ==, 4);
  g_assert_cmpstr (weft_tensor_file_name (f, 0), ==, "encoder/bias");
  g_assert_cmpstr (weft_tensor_file_name (f, 1), ==, "encoder/kernel");
  g_assert_cmpstr (weft_tensor_file_name (f, 2), ==, "score/bias");
  g_assert_cmpstr (weft_tensor_file_name (f, 3), ==, "score/kernel");

  copy = weft_graph_dup (g);
  weft_graph_reset_weights (copy);
  g_assert_cmpint (count_weights (copy), ==, 0);
  g_assert_true (weft_safetensors_load_graph (copy, path, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (same_weights (g, copy));
  weft_graph_free (copy);
  weft_graph_free (g);
}

/* The graph keeps its weights when a load fails: compared against a copy taken before. */
static void
assert_load_fails_unchanged (WeftGraph *g, const char *path, const char *sha,
                             const char *needle1, const char *needle2)
{
  WeftGraph *before = weft_graph_dup (g);
  GError *error = NULL;

  g_assert_false (weft_safetensors_load_graph (g, path, sha, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH);
  g_test_message ("%s", error->message);
  if (needle1 != NULL)
    g_assert_nonnull (strstr (error->message, needle1));
  if (needle2 != NULL)
    g_assert_nonnull (strstr (error->message, needle2));
  g_error_free (error);
  g_assert_true (same_weights (before, g));
  weft_graph_free (before);
}

static void
test_graph_load_mismatches_leave_graph_unchanged (void)
{
  g_autofree char *path = tmp_path ("mlp.safetensors");
  g_autofree char *extra_path = tmp_path ("mlp-extra.safetensors");
  g_autofree char *missing_path = tmp_path ("mlp-missing.safetensors");
  WeftGraph *src = initialised (tg_mlp (), INIT_SEED_A);
  WeftGraph *dst = initialised (tg_mlp (), INIT_SEED_B);
  g_autoptr (WeftTensorFile) f = NULL;
  g_autoptr (WeftTensorFile) extra = weft_tensor_file_new ();
  g_autoptr (WeftTensorFile) missing = weft_tensor_file_new ();
  g_autoptr (GError) error = NULL;
  char sha[65];
  const char *wrong_sha = "0000000000000000000000000000000000000000000000000000000000000000";
  float ghost[3] = { 1, 2, 3 };
  int64_t ghost_dims[1] = { 3 };

  g_assert_true (weft_safetensors_save_graph (src, path, sha, &error));
  g_assert_no_error (error);

  /* Checksum. */
  assert_load_fails_unchanged (dst, path, wrong_sha, "checksum", sha);

  /* A tensor naming no weight, and a weight missing from the file. */
  f = weft_tensor_file_read (path, &error);
  g_assert_no_error (error);
  for (int i = 0; i < weft_tensor_file_n (f); i++)
    {
      const char *name = weft_tensor_file_name (f, i);
      int64_t dims[WEFT_TENSOR_MAX_RANK];
      int rank;
      const float *data = weft_tensor_file_get (f, name, &rank, dims);

      g_assert_true (weft_tensor_file_add (extra, name, rank, dims, data, &error));
      if (strcmp (name, "digit/bias") != 0)
        g_assert_true (weft_tensor_file_add (missing, name, rank, dims, data, &error));
    }
  g_assert_true (weft_tensor_file_add (extra, "ghost/kernel", 1, ghost_dims, ghost, &error));
  g_assert_true (weft_tensor_file_write (extra, extra_path, NULL, &error));
  g_assert_true (weft_tensor_file_write (missing, missing_path, NULL, &error));
  g_assert_no_error (error);
  assert_load_fails_unchanged (dst, extra_path, NULL, "ghost/kernel", "no layer");
  assert_load_fails_unchanged (dst, missing_path, NULL, "digit/bias", "missing");

  /* A shape mismatch names the tensor and both shapes: hidden_2 narrowed to 16 units. */
  {
    WeftValue v = { .num = 16 };
    WeftError werr = { 0 };

    g_assert_true (weft_graph_layer_set_param (dst, weft_graph_find (dst, "hidden_2"), "units",
                                               &v, &werr));
    initialised (dst, INIT_SEED_B);
    assert_load_fails_unchanged (dst, path, NULL, "hidden_2/kernel", "[32, 32]");
    assert_load_fails_unchanged (dst, path, NULL, "[32, 16]", NULL);
  }

  /* Not a safetensors file at all. */
  {
    g_autofree char *junk = tmp_path ("junk.safetensors");
    WeftGraph *before = weft_graph_dup (dst);
    GError *err = NULL;

    g_assert_true (g_file_set_contents (junk, "not weights", -1, NULL));
    g_assert_false (weft_safetensors_load_graph (dst, junk, NULL, &err));
    g_assert_error (err, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT);
    g_assert_nonnull (strstr (err->message, "junk.safetensors"));
    g_error_free (err);
    g_assert_true (same_weights (before, dst));
    weft_graph_free (before);
  }
  weft_graph_free (src);
  weft_graph_free (dst);
}

/* A layer added after training has no data yet: saved as listed-absent, and loading the
 * file back accepts exactly that gap. */
static void
test_graph_uninitialised_layer_round_trips (void)
{
  g_autofree char *path = tmp_path ("late.safetensors");
  WeftGraph *g = initialised (tg_mlp (), INIT_SEED_A);
  WeftId h2 = weft_graph_find (g, "hidden_2");
  WeftId h2_node = weft_graph_callee_node_at (g, h2, 0);
  WeftId model = weft_graph_node_model (g, h2_node);
  g_autoptr (WeftTensorFile) f = NULL;
  g_autoptr (GError) error = NULL;
  WeftGraph *copy;
  int n = 0;

  tg_dense (g, model, "late", 5, NULL, h2_node, NULL);
  weft_graph_analyse (g);
  g_assert_true (weft_safetensors_save_graph (g, path, NULL, &error));
  g_assert_no_error (error);
  f = weft_tensor_file_read (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (weft_tensor_file_n (f), ==, 6);
  g_assert_null (weft_tensor_file_get (f, "late/kernel", NULL, NULL));
  g_assert_cmpstr (weft_tensor_file_get_metadata (f, WEFT_SAFETENSORS_UNINITIALISED_KEY), ==,
                   "late/kernel\nlate/bias");

  copy = weft_graph_dup (g);
  weft_graph_reset_weights (copy);
  g_assert_true (weft_safetensors_load_graph (copy, path, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_weights (copy), ==, 6);
  {
    const WeftWeight *w = weft_graph_layer_weights (copy, weft_graph_find (copy, "late"), &n);
    g_assert_cmpint (n, ==, 2);
    g_assert_null (w[0].data);
    g_assert_null (w[1].data);
  }
  /* The original's trained weights all came back. */
  {
    const WeftWeight *wa = weft_graph_layer_weights (g, weft_graph_find (g, "hidden_1"), &n);
    const WeftWeight *wb = weft_graph_layer_weights (copy, weft_graph_find (copy, "hidden_1"),
                                                     &n);
    g_assert_cmpmem (wa[0].data, 64 * 32 * 4, wb[0].data, 64 * 32 * 4);
  }
  weft_graph_free (copy);
  weft_graph_free (g);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("weft-io-formats-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);

  g_test_add_func ("/io/npy/fixtures/every-dtype-byte-order-and-layout",
                   test_npy_fixtures_every_dtype);
  g_test_add_func ("/io/npy/fixtures/scalar-vector-empty-and-version-2",
                   test_npy_fixtures_edge_shapes);
  g_test_add_func ("/io/npy/write/read-back-equals-written", test_npy_write_read_round_trip);
  g_test_add_func ("/io/npy/write/refuses-bad-arguments", test_npy_write_refuses_bad_arguments);
  g_test_add_func ("/io/npy/malformed/header-dict-errors", test_npy_malformed_headers);
  g_test_add_func ("/io/npy/malformed/magic-version-and-lengths", test_npy_malformed_prefix);
  g_test_add_func ("/io/npy/malformed/truncation-and-corruption-never-crash",
                   test_npy_fuzz_truncation_and_corruption);
  g_test_add_func ("/io/npy/missing-file-is-io-error", test_npy_missing_file_is_io_error);
  g_test_add_func ("/io/npz/stored-and-deflated-entries", test_npz_stored_and_deflated);
  g_test_add_func ("/io/npz/highly-compressed-entry", test_npz_highly_compressed);
  g_test_add_func ("/io/npz/malformed/directory-sizes-crc-and-methods", test_npz_malformed);
  g_test_add_func ("/io/npz/malformed/entry-with-bad-npy-names-entry",
                   test_npz_entry_with_bad_npy);
  g_test_add_func ("/io/npz/malformed/truncation-and-corruption-never-crash",
                   test_npz_fuzz_truncation_and_corruption);
  g_test_add_func ("/io/safetensors/fixture/every-dtype-converts-to-float",
                   test_safetensors_fixture_every_dtype);
  g_test_add_func ("/io/safetensors/write/round-trip-sorted-and-byte-stable",
                   test_safetensors_round_trip_is_stable);
  g_test_add_func ("/io/safetensors/write/add-refuses-bad-tensors",
                   test_safetensors_add_refuses_bad_tensors);
  g_test_add_func ("/io/safetensors/write/io-errors", test_safetensors_write_errors);
  g_test_add_func ("/io/safetensors/malformed/header-entries", test_safetensors_malformed_headers);
  g_test_add_func ("/io/safetensors/malformed/header-lengths-and-nesting",
                   test_safetensors_malformed_lengths);
  g_test_add_func ("/io/safetensors/malformed/truncation-and-corruption-never-crash",
                   test_safetensors_fuzz_truncation_and_corruption);
  g_test_add_func ("/io/safetensors/graph/save-load-round-trip-with-checksum",
                   test_graph_save_load_round_trip);
  g_test_add_func ("/io/safetensors/graph/shared-layer-saved-once",
                   test_graph_shared_layer_saved_once);
  g_test_add_func ("/io/safetensors/graph/mismatches-leave-graph-unchanged",
                   test_graph_load_mismatches_leave_graph_unchanged);
  g_test_add_func ("/io/safetensors/graph/uninitialised-layer-round-trips",
                   test_graph_uninitialised_layer_round_trips);

  rc = g_test_run ();
  {
    g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
    const char *name;
    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *p = g_build_filename (tmp_dir, name, NULL);
        g_unlink (p);
      }
    g_rmdir (tmp_dir);
    g_free (tmp_dir);
  }
  return rc;
}
