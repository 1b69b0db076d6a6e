/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-io-limits.c: hostile sizes in every loader give a clear error in bounded memory. Each
 * case runs in a child process whose address space is capped at 1 GiB (not under ASan or
 * TSan, which reserve terabytes of shadow), so a loader that trusted a claimed size would
 * die there instead of passing: a tensor of 10^12 elements, shape products that overflow,
 * models nested 100 deep, header lengths beyond the file, a gzip CSV that inflates to an
 * endless line. (Deep JSON nesting and malformed headers are in test-io-file/-formats.) */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>

#include "weft-csv.h"
#include "weft-file.h"
#include "weft-interop-util.h"
#include "weft-keras-export.h"
#include "weft-keras-import.h"
#include "weft-onnx-export.h"
#include "weft-npy.h"
#include "weft-plan.h"
#include "weft-safetensors.h"
#include "weft-torch-export.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

#define MEMORY_CAP ((rlim_t) 1 << 30)

static char *tmp_dir;

static char *
tmp_file (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* Runs the current test's body in a child with the memory cap; TRUE in the child. */
static gboolean
in_capped_child (void)
{
  if (g_test_subprocess ())
    {
#ifndef UNDER_SANITIZER
      struct rlimit rl = { MEMORY_CAP, MEMORY_CAP };
      g_assert_cmpint (setrlimit (RLIMIT_AS, &rl), ==, 0);
#endif
      return TRUE;
    }
  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  return FALSE;
}

static void
assert_message (const GError *error, const char *needle)
{
  g_assert_nonnull (error);
  g_test_message ("-> %s", error->message);
  if (strstr (error->message, needle) == NULL)
    g_error ("'%s' does not mention '%s'", error->message, needle);
}

/* ---- .weft ---- */

static char *
one_model_weft (const char *shape, const char *middle, const char *dense_units)
{
  return g_strdup_printf (
    "{\"format\": \"weft-graph\", \"version\": 1, \"main_model\": \"m\", \"layers\": ["
    "{\"name\": \"x\", \"type\": \"Input\", \"config\": {\"shape\": %s}},"
    "{\"name\": \"mid\", \"type\": \"%s\", \"config\": {}},"
    "{\"name\": \"d\", \"type\": \"Dense\", \"config\": {\"units\": %s}}],"
    "\"models\": [{\"name\": \"m\", \"nodes\": ["
    "{\"id\": 1, \"call\": \"x\", \"inputs\": []},"
    "{\"id\": 2, \"call\": \"mid\", \"inputs\": [[1, 0]]},"
    "{\"id\": 3, \"call\": \"d\", \"inputs\": [[2, 0]]}],"
    "\"inputs\": [1], \"outputs\": [{\"node\": 3, \"port\": 0, \"loss\": \"mse\"}]}]}",
    shape, middle, dense_units);
}

/* Either the load refuses it or the graph loads with an analysis error; never a crash or a
 * huge allocation. */
static void
assert_weft_refused (const char *json, const char *needle)
{
  g_autoptr (GError) error = NULL;
  WeftGraph *g = weft_file_load_data (json, strlen (json), NULL, NULL, &error);
  if (g == NULL)
    {
      assert_message (error, needle);
      return;
    }
  WeftError e = { 0 };
  g_assert_cmpint (weft_graph_analyse (g), >, 0);
  g_assert_false (weft_graph_validate (g, &e));
  g_test_message ("-> (analysis) %s", e.message);
  g_assert_nonnull (strstr (e.message, needle));
  weft_graph_free (g);
}

static void
test_weft_kernel_of_10_12_elements (void)
{
  if (!in_capped_child ())
    return;
  g_autofree char *json = one_model_weft ("[1000000]", "Flatten", "1000000");
  assert_weft_refused (json, "more than");
}

static void
test_weft_shape_product_overflow (void)
{
  if (!in_capped_child ())
    return;
  /* 2^48 values per sample, then a kernel of 2^48 x 10^6. */
  g_autofree char *a = one_model_weft ("[65536, 65536, 65536]", "Flatten", "1000000");
  assert_weft_refused (a, "more than");
  /* Six dims of 10^8 (the most an Input takes): the product, 10^48, overflows 64 bits. */
  g_autofree char *b = one_model_weft ("[100000000, 100000000, 100000000, 100000000, "
                                       "100000000, 100000000]",
                                       "Flatten", "1");
  assert_weft_refused (b, "more than");
}

static void
test_weft_models_nested_100_deep (void)
{
  if (!in_capped_child ())
    return;
  const int depth = 100;
  g_autoptr (GString) s = g_string_new ("{\"format\": \"weft-graph\", \"version\": 1, ");
  g_string_append_printf (s, "\"main_model\": \"m%d\", \"layers\": [", depth - 1);
  for (int i = 0; i < depth; i++)
    g_string_append_printf (s, "%s{\"name\": \"x%d\", \"type\": \"Input\", "
                            "\"config\": {\"shape\": [2]}}", i ? ", " : "", i);
  g_string_append (s, ", {\"name\": \"d\", \"type\": \"Dense\", \"config\": {\"units\": 2}}], "
                   "\"models\": [");
  for (int i = 0; i < depth; i++)
    {
      char callee[16];
      g_snprintf (callee, sizeof callee, i == 0 ? "d" : "m%d", i - 1);
      g_string_append_printf (s, "%s{\"name\": \"m%d\", \"nodes\": ["
                              "{\"id\": %d, \"call\": \"x%d\", \"inputs\": []}, "
                              "{\"id\": %d, \"call\": \"%s\", \"inputs\": [[%d, 0]]}], "
                              "\"inputs\": [%d], \"outputs\": [{\"node\": %d, \"port\": 0%s}]}",
                              i ? ", " : "", i, 2 * i + 1, i, 2 * i + 2, callee, 2 * i + 1,
                              2 * i + 1, 2 * i + 2,
                              i == depth - 1 ? ", \"loss\": \"mse\"" : "");
    }
  g_string_append (s, "]}");
  /* Refused by the engine's nesting cap (weft_graph_add_node, which words it as "it would
   * contain itself"; see the reliability report), before the loader's own depth check. */
  g_autoptr (GError) error = NULL;
  g_assert_null (weft_file_load_data (s->str, s->len, NULL, NULL, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT);
  g_test_message ("-> %s", error->message);
  g_assert_true (strstr (error->message, "deep") != NULL
                 || strstr (error->message, "contain itself") != NULL);
}

/* A file that loads (every weight under the loader's 2^31 cap, nothing allocated yet) but
 * would need tens of GiB once training allocates: refused at compile time with the layer or
 * call to blame, never killed for memory. */
static void
assert_plan_refused (const char *json, const char *needle)
{
  g_autoptr (GError) error = NULL;
  WeftGraph *g = weft_file_load_data (json, strlen (json), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g);
  WeftError e = { 0 };
  g_assert_true (weft_graph_validate (g, &e));

  /* against a stated budget of 16 GiB: the same answer on any machine */
  g_assert_false (weft_graph_check_memory (g, 32, (uint64_t) 16 << 30, &e));
  g_assert_cmpint (e.code, ==, WEFT_ERROR_NO_MEMORY);
  g_test_message ("-> %s", e.message);
  if (strstr (e.message, needle) == NULL || strstr (e.message, "GiB") == NULL)
    g_error ("'%s' does not mention '%s' and GiB", e.message, needle);
  g_assert_cmpint (e.node, !=, WEFT_ID_NONE);

  /* training itself, with what this process may use (1 GiB in the capped child) */
  if (weft_memory_budget () > ((uint64_t) 24 << 30))
    g_test_message ("more than 24 GiB available (sanitizer build without the cap): the "
                    "plan is not built here");
  else
    {
      WeftError pe = { 0 };
      g_assert_null (weft_plan_new (g, 32, 1, &pe));
      g_assert_cmpint (pe.code, ==, WEFT_ERROR_NO_MEMORY);
      g_test_message ("-> (plan) %s", pe.message);
      g_assert_nonnull (strstr (pe.message, needle));
    }
  weft_graph_free (g);
}

static void
test_weft_layer_of_2_31_parameters (void)
{
  if (!in_capped_child ())
    return;
  /* Dense(10^6) (the most units it takes) on 2147 inputs: a kernel of 2.147 * 10^9 floats,
   * just under the loader's cap of 2^31, about 24 GiB to train */
  g_autofree char *json = one_model_weft ("[2147]", "Flatten", "1000000");
  assert_plan_refused (json, "layer 'd' alone needs");
}

static void
test_weft_activation_of_10_8_values (void)
{
  if (!in_capped_child ())
    return;
  /* 10^8 values per sample (the most an Input dimension takes): at batch size 32, 24 GiB
   * for the input's values and gradients, while the layers are small */
  g_autofree char *json = one_model_weft ("[100000000]", "Flatten", "1");
  assert_plan_refused (json, "the output of 'x' alone needs");
}

/* The exports create the weights they write: the same file gives the same message there
 * (weights alone: two floats per parameter), not an out-of-memory kill. */
static void
test_weft_layer_of_2_31_parameters_export (void)
{
  if (!in_capped_child ())
    return;
  g_autofree char *json = one_model_weft ("[2147]", "Flatten", "1000000");
  g_autoptr (GError) error = NULL;
  WeftGraph *g = weft_file_load_data (json, strlen (json), NULL, NULL, &error);
  g_assert_no_error (error);
  WeftError e = { 0 };
  g_assert_false (weft_graph_check_memory (g, 0, (uint64_t) 16 << 30, &e));
  g_test_message ("-> %s", e.message);
  g_assert_nonnull (strstr (e.message, "the weights need at least 16.0 GiB"));
  if (weft_memory_budget () > ((uint64_t) 16 << 30))
    {
      g_test_message ("more than 16 GiB available (sanitizer build without the cap): the "
                      "exports are not run here");
      weft_graph_free (g);
      return;
    }

  g_autofree char *dir = g_dir_make_tmp ("weft-limits-XXXXXX", NULL);
  g_assert_nonnull (dir);
  g_assert_null (weft_onnx_export_bytes (g, &error));
  g_assert_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_TOO_LARGE);
  g_test_message ("-> (onnx) %s", error->message);
  g_assert_nonnull (strstr (error->message, "layer 'd' alone needs"));
  g_clear_error (&error);
  g_assert_false (weft_tfjs_export (g, dir, &error));
  g_assert_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_false (weft_torch_export (g, dir, &error));
  g_assert_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_TOO_LARGE);
  g_clear_error (&error);
  /* nothing half-written */
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_null (g_dir_read_name (d));
  g_rmdir (dir);
  weft_graph_free (g);
}

/* A sane model fits, at its batch size and in the 1 GiB cap. */
static void
test_weft_sane_model_fits (void)
{
  if (!in_capped_child ())
    return;
  g_autofree char *json = one_model_weft ("[784]", "Flatten", "10");
  g_autoptr (GError) error = NULL;
  WeftGraph *g = weft_file_load_data (json, strlen (json), NULL, NULL, &error);
  g_assert_no_error (error);
  WeftError e = { 0 };
  g_assert_true (weft_graph_check_memory (g, 32, 0, &e));
  WeftPlan *p = weft_plan_new (g, 32, 1, &e);
  g_assert_nonnull (p);
  weft_plan_free (p);
  weft_graph_free (g);
}

/* ---- safetensors ---- */

static void
write_safetensors (const char *path, const char *header, guint64 header_len_field,
                   gsize data_bytes)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  guint8 len8[8];
  for (int i = 0; i < 8; i++)
    len8[i] = (guint8) (header_len_field >> (8 * i));
  g_byte_array_append (b, len8, 8);
  g_byte_array_append (b, (const guint8 *) header, (guint) strlen (header));
  g_autofree guint8 *zeros = g_malloc0 (MAX (data_bytes, 1));
  g_byte_array_append (b, zeros, (guint) data_bytes);
  g_assert_true (g_file_set_contents (path, (const char *) b->data, b->len, NULL));
}

static void
test_safetensors_limits (void)
{
  if (!in_capped_child ())
    return;
  g_autofree char *path = tmp_file ("limits.safetensors");
  static const char huge[] = "{\"w\": {\"dtype\": \"F32\", \"shape\": [1000000, 1000000], "
                             "\"data_offsets\": [0, 4000000000000]}}";
  static const char small[] = "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], "
                              "\"data_offsets\": [0, 8]}}";
  GError *error = NULL;

  /* A tensor of 10^12 elements in a file of a few bytes. */
  write_safetensors (path, huge, strlen (huge), 16);
  g_assert_null (weft_tensor_file_read (path, &error));
  g_assert_true (g_error_matches (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE)
                 || g_error_matches (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT));
  assert_message (error, "limits.safetensors");
  g_clear_error (&error);

  /* Header lengths one byte, and 2^62 bytes, beyond the file. */
  write_safetensors (path, small, strlen (small) + 8 + 1, 8);
  g_assert_null (weft_tensor_file_read (path, &error));
  assert_message (error, "limits.safetensors");
  g_clear_error (&error);
  write_safetensors (path, small, (guint64) 1 << 62, 8);
  g_assert_null (weft_tensor_file_read (path, &error));
  assert_message (error, "limits.safetensors");
  g_clear_error (&error);
  g_unlink (path);
}

/* ---- NPY / NPZ ---- */

static GByteArray *
make_npy (int major, const char *dict, guint64 header_len_field, gsize data_bytes)
{
  GByteArray *b = g_byte_array_new ();
  static const guint8 magic[6] = { 0x93, 'N', 'U', 'M', 'P', 'Y' };
  guint8 version[2] = { (guint8) major, 0 };
  g_byte_array_append (b, magic, 6);
  g_byte_array_append (b, version, 2);
  int n = major == 1 ? 2 : 4;
  for (int i = 0; i < n; i++)
    {
      guint8 byte = (guint8) (header_len_field >> (8 * i));
      g_byte_array_append (b, &byte, 1);
    }
  g_byte_array_append (b, (const guint8 *) dict, (guint) strlen (dict));
  g_autofree guint8 *zeros = g_malloc0 (MAX (data_bytes, 1));
  g_byte_array_append (b, zeros, (guint) data_bytes);
  return b;
}

static void
test_npy_limits (void)
{
  if (!in_capped_child ())
    return;
  static const char dict[] = "{'descr': '<f4', 'fortran_order': False, "
                             "'shape': (1000000, 1000000), }\n";
  g_autofree char *path = tmp_file ("limits.npy");
  GError *error = NULL;

  /* 10^12 elements announced, 16 bytes present (read from a file, as a user would). */
  g_autoptr (GByteArray) a = make_npy (1, dict, strlen (dict), 16);
  g_assert_true (g_file_set_contents (path, (const char *) a->data, a->len, NULL));
  WeftNpyArray arr;
  g_assert_false (weft_npy_read (path, &arr, &error));
  assert_message (error, "limits.npy");
  g_clear_error (&error);

  /* Header lengths beyond the file: 65535 (version 1) and 2^32 - 1 (version 2). */
  g_autoptr (GByteArray) b = make_npy (1, dict, 0xffff, 0);
  g_assert_false (weft_npy_read_data (b->data, b->len, &arr, &error));
  assert_message (error, "");
  g_clear_error (&error);
  g_autoptr (GByteArray) c = make_npy (2, dict, 0xffffffffu, 0);
  g_assert_false (weft_npy_read_data (c->data, c->len, &arr, &error));
  assert_message (error, "");
  g_clear_error (&error);
  g_unlink (path);
}

static void
put_le (GByteArray *b, guint64 v, int n)
{
  for (int i = 0; i < n; i++)
    {
      guint8 byte = (guint8) (v >> (8 * i));
      g_byte_array_append (b, &byte, 1);
    }
}

/* A stored (uncompressed) single-entry zip holding `entry` as "a.npy". */
static GByteArray *
make_npz (const GByteArray *entry)
{
  GByteArray *z = g_byte_array_new ();
  static const char name[] = "a.npy";
  guint32 crc = (guint32) crc32 (0, entry->data, entry->len);

  put_le (z, 0x04034b50, 4);                /* local header */
  put_le (z, 20, 2); put_le (z, 0, 2); put_le (z, 0, 2);
  put_le (z, 0, 2); put_le (z, 0, 2);
  put_le (z, crc, 4); put_le (z, entry->len, 4); put_le (z, entry->len, 4);
  put_le (z, strlen (name), 2); put_le (z, 0, 2);
  g_byte_array_append (z, (const guint8 *) name, strlen (name));
  g_byte_array_append (z, entry->data, entry->len);
  guint32 cd = z->len;
  put_le (z, 0x02014b50, 4);                /* central directory */
  put_le (z, 20, 2); put_le (z, 20, 2); put_le (z, 0, 2); put_le (z, 0, 2);
  put_le (z, 0, 2); put_le (z, 0, 2);
  put_le (z, crc, 4); put_le (z, entry->len, 4); put_le (z, entry->len, 4);
  put_le (z, strlen (name), 2); put_le (z, 0, 2); put_le (z, 0, 2);
  put_le (z, 0, 2); put_le (z, 0, 2); put_le (z, 0, 4); put_le (z, 0, 4);
  g_byte_array_append (z, (const guint8 *) name, strlen (name));
  guint32 cd_size = z->len - cd;
  put_le (z, 0x06054b50, 4);                /* end of central directory */
  put_le (z, 0, 2); put_le (z, 0, 2); put_le (z, 1, 2); put_le (z, 1, 2);
  put_le (z, cd_size, 4); put_le (z, cd, 4); put_le (z, 0, 2);
  return z;
}

static void
test_npz_limits (void)
{
  if (!in_capped_child ())
    return;
  static const char dict[] = "{'descr': '<f8', 'fortran_order': True, "
                             "'shape': (1000000, 1000000), }\n";
  static const char fine[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
  GError *error = NULL;

  /* A well-formed archive whose entry claims 10^12 elements. */
  g_autoptr (GByteArray) entry = make_npy (1, dict, strlen (dict), 32);
  g_autoptr (GByteArray) z = make_npz (entry);
  g_assert_null (weft_npz_read_data (z->data, z->len, &error));
  assert_message (error, "a");
  g_clear_error (&error);

  /* The same archive with a sane entry reads: the builder above is right. */
  g_autoptr (GByteArray) ok_entry = make_npy (1, fine, strlen (fine), 8);
  g_autoptr (GByteArray) ok = make_npz (ok_entry);
  GPtrArray *arrays = weft_npz_read_data (ok->data, ok->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (arrays->len, ==, 1);
  g_ptr_array_unref (arrays);
}

/* ---- CSV ---- */

/* Writes head, then `repeat` times `chunk` (1 MiB each), then tail, gzip-compressed. */
static void
write_gzip (const char *path, const char *head, char chunk_byte, const char *chunk_pattern,
            int repeat, const char *tail)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileOutputStream) out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE,
                                                      NULL, NULL);
  g_autoptr (GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  g_autoptr (GOutputStream) gz = g_converter_output_stream_new (G_OUTPUT_STREAM (out),
                                                                G_CONVERTER (z));
  gsize mib = 1024 * 1024;
  g_autofree char *chunk = g_malloc (mib);
  gsize plen = chunk_pattern ? strlen (chunk_pattern) : 1;

  g_assert_nonnull (out);
  for (gsize i = 0; i < mib; i++)
    chunk[i] = chunk_pattern ? chunk_pattern[i % plen] : chunk_byte;
  g_assert_true (g_output_stream_write_all (gz, head, strlen (head), NULL, NULL, NULL));
  for (int i = 0; i < repeat; i++)
    g_assert_true (g_output_stream_write_all (gz, chunk, mib, NULL, NULL, NULL));
  g_assert_true (g_output_stream_write_all (gz, tail, strlen (tail), NULL, NULL, NULL));
  g_assert_true (g_output_stream_close (gz, NULL, NULL));
}

static void
test_csv_endless_line (void)
{
  if (!in_capped_child ())
    return;
  g_autofree char *path = tmp_file ("endless-line.csv.gz");
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  GError *error = NULL;

  /* ~10 KB of gzip inflating to 8 MiB: 4 Mi columns on one line. */
  write_gzip (path, "", 0, "1,", 8, "1\n");
  g_assert_null (weft_csv_read (path, o, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE);
  assert_message (error, "columns");
  g_clear_error (&error);
  g_assert_null (weft_csv_preview (path, o, 5, 10, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_unlink (path);
}

static void
test_csv_endless_field (void)
{
  if (!in_capped_child ())
    return;
  g_autofree char *path = tmp_file ("endless-field.csv.gz");
  g_autoptr (WeftCsvOptions) o = weft_csv_options_new ();
  GError *error = NULL;

  /* One quoted field of 300 MiB: bigger than any record may be. */
  write_gzip (path, "a,\"", 'x', NULL, 300, "\"\n");
  g_assert_null (weft_csv_read (path, o, &error));
  g_assert_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE);
  assert_message (error, "MiB");
  g_clear_error (&error);
  g_unlink (path);
}

/* ---- Keras / tfjs ---- */

static void
test_keras_weight_of_10_12_elements (void)
{
  if (!in_capped_child ())
    return;
  g_autofree char *shard = tmp_file ("w.bin");
  static const char json[] =
    "{\"format\": \"layers-model\", \"modelTopology\": {\"class_name\": \"Model\", \"config\": "
    "{\"name\": \"m\", \"layers\": [{\"class_name\": \"InputLayer\", \"name\": \"in\", "
    "\"config\": {\"name\": \"in\", \"batch_input_shape\": [null, 2]}, \"inbound_nodes\": []}, "
    "{\"class_name\": \"Dense\", \"name\": \"a\", \"config\": {\"name\": \"a\", \"units\": 2}, "
    "\"inbound_nodes\": [[[\"in\", 0, 0, {}]]]}], \"input_layers\": [[\"in\", 0, 0]], "
    "\"output_layers\": [[\"a\", 0, 0]]}}, \"weightsManifest\": [{\"paths\": [\"w.bin\"], "
    "\"weights\": [{\"name\": \"a/kernel\", \"shape\": [1000000, 1000000], \"dtype\": "
    "\"float32\"}, {\"name\": \"a/bias\", \"shape\": [2], \"dtype\": \"float32\"}]}]}";
  static const guint8 zeros[24] = { 0 };
  GError *error = NULL;

  g_assert_true (g_file_set_contents (shard, (const char *) zeros, sizeof zeros, NULL));
  g_assert_null (weft_keras_import_data (json, strlen (json), tmp_dir, &error));
  assert_message (error, "a/kernel");
  g_clear_error (&error);
  g_unlink (shard);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("weft-limits-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);

  g_test_add_func ("/io/limits/weft/kernel-of-10^12-elements", test_weft_kernel_of_10_12_elements);
  g_test_add_func ("/io/limits/weft/shape-products-that-overflow", test_weft_shape_product_overflow);
  g_test_add_func ("/io/limits/weft/models-nested-100-deep", test_weft_models_nested_100_deep);
  g_test_add_func ("/io/limits/weft/layer-of-2^31-parameters-refused-before-training",
                   test_weft_layer_of_2_31_parameters);
  g_test_add_func ("/io/limits/weft/activation-of-10^8-values-refused-before-training",
                   test_weft_activation_of_10_8_values);
  g_test_add_func ("/io/limits/weft/layer-of-2^31-parameters-refused-by-the-exports",
                   test_weft_layer_of_2_31_parameters_export);
  g_test_add_func ("/io/limits/weft/sane-model-fits", test_weft_sane_model_fits);
  g_test_add_func ("/io/limits/safetensors/10^12-elements-and-header-beyond-the-file",
                   test_safetensors_limits);
  g_test_add_func ("/io/limits/npy/10^12-elements-and-header-beyond-the-file", test_npy_limits);
  g_test_add_func ("/io/limits/npz/entry-of-10^12-elements", test_npz_limits);
  g_test_add_func ("/io/limits/csv/gzip-bomb-of-one-endless-line", test_csv_endless_line);
  g_test_add_func ("/io/limits/csv/gzip-bomb-of-one-endless-field", test_csv_endless_field);
  g_test_add_func ("/io/limits/keras/weight-of-10^12-elements", test_keras_weight_of_10_12_elements);

  int ret = g_test_run ();
  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  return ret;
}
