/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-io"

#include "config.h"

#include "weft-image-folder.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

static const char *const image_suffixes[] = {
  ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", NULL,
};

static gboolean
is_image_name (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  for (int i = 0; image_suffixes[i] != NULL; i++)
    if (g_str_has_suffix (lower, image_suffixes[i]))
      return TRUE;
  return FALSE;
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Sorted names in dir matching want_dirs (sub-folders) or images. */
static GPtrArray *
list_dir (const char *dir, gboolean want_dirs, GError **error)
{
  g_autoptr (GError) local = NULL;
  GDir *d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_IO, "%s: %s", dir, local->message);
      return NULL;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (name[0] == '.')
        continue;
      g_autofree char *full = g_build_filename (dir, name, NULL);
      gboolean is_dir = g_file_test (full, G_FILE_TEST_IS_DIR);
      if (want_dirs ? is_dir : (!is_dir && is_image_name (name)))
        g_ptr_array_add (names, g_strdup (name));
    }
  g_dir_close (d);
  g_ptr_array_sort (names, cmp_str);
  return names;
}

static void
folder_clear_strv (char ***v)
{
  g_strfreev (*v);
  *v = NULL;
}

void
weft_image_folder_free (WeftImageFolder *images)
{
  if (images == NULL)
    return;
  g_free (images->pixels);
  g_free (images->labels);
  folder_clear_strv (&images->classes);
  folder_clear_strv (&images->files);
  g_free (images);
}

gboolean
weft_image_folder_scan (const char *folder, char ***classes, int64_t *n_images,
                        GError **error)
{
  g_autoptr (GPtrArray) dirs = list_dir (folder, TRUE, error);
  if (dirs == NULL)
    return FALSE;
  int64_t n = 0;
  for (guint c = 0; c < dirs->len; c++)
    {
      g_autofree char *sub = g_build_filename (folder, dirs->pdata[c], NULL);
      g_autoptr (GPtrArray) files = list_dir (sub, FALSE, error);
      if (files == NULL)
        return FALSE;
      n += files->len;
    }
  if (classes != NULL)
    {
      g_ptr_array_add (dirs, NULL);
      *classes = g_strdupv ((char **) dirs->pdata);
    }
  if (n_images != NULL)
    *n_images = n;
  return TRUE;
}

/* Writes one scaled pixbuf as floats 0..1 with the wanted channels. */
static void
pixbuf_to_floats (GdkPixbuf *pb, int channels, float *out)
{
  int w = gdk_pixbuf_get_width (pb), h = gdk_pixbuf_get_height (pb);
  int nc = gdk_pixbuf_get_n_channels (pb), stride = gdk_pixbuf_get_rowstride (pb);
  gboolean alpha = gdk_pixbuf_get_has_alpha (pb);
  const guint8 *px = gdk_pixbuf_read_pixels (pb);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guint8 *p = px + (size_t) y * (size_t) stride + (size_t) x * (size_t) nc;
        float r = p[0] / 255.0f, g = nc >= 3 ? p[1] / 255.0f : r, b = nc >= 3 ? p[2] / 255.0f : r;
        float a = alpha ? p[nc - 1] / 255.0f : 1.0f;
        float *o = out + ((size_t) y * (size_t) w + (size_t) x) * (size_t) channels;
        if (channels == 1)
          o[0] = 0.299f * r + 0.587f * g + 0.114f * b;
        else
          {
            o[0] = r;
            o[1] = g;
            o[2] = b;
            if (channels == 4)
              o[3] = a;
          }
      }
}

WeftImageFolder *
weft_image_folder_read (const char *folder, int height, int width, int channels,
                        char **classes, WeftImageProgressFunc progress,
                        gpointer progress_data, GError **error)
{
  g_return_val_if_fail (folder != NULL, NULL);
  if (height < 1 || width < 1 || height > 16384 || width > 16384
      || (channels != 1 && channels != 3 && channels != 4))
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                   "%s: images need a size of 1..16384 pixels and 1, 3 or 4 channels, not "
                   "%dx%dx%d", folder, height, width, channels);
      return NULL;
    }
  g_autoptr (GPtrArray) dirs = list_dir (folder, TRUE, error);
  if (dirs == NULL)
    return NULL;
  if (dirs->len == 0)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "%s: no sub-folders; an image folder has one sub-folder per class", folder);
      return NULL;
    }
  int n_classes = classes != NULL ? (int) g_strv_length (classes) : (int) dirs->len;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) labels = g_array_new (FALSE, FALSE, sizeof (float));
  for (guint c = 0; c < dirs->len; c++)
    {
      const char *dname = dirs->pdata[c];
      int label = (int) c;
      if (classes != NULL)
        {
          label = -1;
          for (int k = 0; k < n_classes && label < 0; k++)
            if (strcmp (classes[k], dname) == 0)
              label = k;
          if (label < 0)
            {
              g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_MISMATCH,
                           "%s: sub-folder '%s' is not one of the %d classes the model was "
                           "trained on", folder, dname, n_classes);
              return NULL;
            }
        }
      g_autofree char *sub = g_build_filename (folder, dname, NULL);
      g_autoptr (GPtrArray) files = list_dir (sub, FALSE, error);
      if (files == NULL)
        return NULL;
      for (guint i = 0; i < files->len; i++)
        {
          g_ptr_array_add (paths, g_build_filename (dname, files->pdata[i], NULL));
          float fl = (float) label;
          g_array_append_val (labels, fl);
        }
    }
  int64_t n = paths->len;
  if (n == 0)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT,
                   "%s: the class sub-folders hold no images (.png, .jpg, ...)", folder);
      return NULL;
    }
  guint64 per = (guint64) height * (guint64) width * (guint64) channels;
  if ((guint64) n > G_MAXSIZE / sizeof (float) / per)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "%s: %" G_GINT64_FORMAT " images of %dx%dx%d do not fit in memory", folder,
                   n, height, width, channels);
      return NULL;
    }
  float *pixels = g_try_malloc ((gsize) n * (gsize) per * sizeof (float));
  if (pixels == NULL)
    {
      g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                   "%s: out of memory for %" G_GINT64_FORMAT " images of %dx%dx%d", folder, n,
                   height, width, channels);
      return NULL;
    }
  for (int64_t i = 0; i < n; i++)
    {
      g_autofree char *full = g_build_filename (folder, paths->pdata[i], NULL);
      g_autoptr (GError) local = NULL;
      g_autoptr (GdkPixbuf) pb = gdk_pixbuf_new_from_file (full, &local);
      if (pb == NULL)
        {
          g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_FORMAT, "%s: %s", full,
                       local->message);
          g_free (pixels);
          return NULL;
        }
      g_autoptr (GdkPixbuf) scaled = NULL;
      if (gdk_pixbuf_get_width (pb) != width || gdk_pixbuf_get_height (pb) != height)
        {
          scaled = gdk_pixbuf_scale_simple (pb, width, height, GDK_INTERP_BILINEAR);
          if (scaled == NULL)
            {
              g_set_error (error, WEFT_IO_ERROR, WEFT_IO_ERROR_TOO_LARGE,
                           "%s: cannot scale to %dx%d", full, width, height);
              g_free (pixels);
              return NULL;
            }
        }
      pixbuf_to_floats (scaled != NULL ? scaled : pb, channels, pixels + (size_t) i * per);
      if (progress != NULL && !progress (i + 1, n, progress_data))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: reading cancelled",
                       folder);
          g_free (pixels);
          return NULL;
        }
    }
  WeftImageFolder *f = g_new0 (WeftImageFolder, 1);
  f->n_images = n;
  f->height = height;
  f->width = width;
  f->channels = channels;
  f->pixels = pixels;
  f->labels = (float *) g_array_free (g_steal_pointer (&labels), FALSE);
  f->n_classes = n_classes;
  if (classes != NULL)
    f->classes = g_strdupv (classes);
  else
    {
      g_ptr_array_add (dirs, NULL);
      f->classes = g_strdupv ((char **) dirs->pdata);
    }
  g_ptr_array_add (paths, NULL);
  f->files = g_strdupv ((char **) paths->pdata);
  return f;
}
