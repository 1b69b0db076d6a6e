/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-image-folder.h: a folder of images with one sub-folder per class (PNG, JPEG and every
 * other format gdk-pixbuf reads), loaded as float pixels 0..1 in NHWC order, each image
 * resized to the model input's size, with class labels. Errors are WEFT_IO_ERROR naming the
 * file; a failed load returns nothing. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "weft-safetensors.h"

G_BEGIN_DECLS

typedef struct
{
  int64_t  n_images;
  int      height, width, channels;   /* channels 1 (grey), 3 (RGB) or 4 (RGBA) */
  float   *pixels;      /* n_images * height * width * channels, g_malloc'ed */
  float   *labels;      /* n_images class indices (0..n_classes-1) */
  int      n_classes;
  char   **classes;     /* sub-folder names, sorted, NULL-terminated */
  char   **files;       /* path of every image relative to the folder, NULL-terminated */
} WeftImageFolder;

/* Progress after every image; return FALSE to cancel (G_IO_ERROR_CANCELLED). */
typedef gboolean (*WeftImageProgressFunc) (int64_t done, int64_t total, gpointer user_data);

/* Reads folder/CLASS/IMAGE for every (sorted) sub-folder; files that are not images by
 * their name (.png .jpg .jpeg .bmp .gif .tif .tiff .webp) are ignored. classes NULL learns
 * the classes from the sub-folders; a given list fixes the class order and a sub-folder
 * outside it is an error. Images are scaled (bilinear) to width x height; grey images are
 * replicated to RGB, alpha is dropped for 1/3 channels and added as 1 for 4. */
WeftImageFolder *weft_image_folder_read (const char *folder, int height, int width,
                                         int channels, char **classes,
                                         WeftImageProgressFunc progress,
                                         gpointer progress_data, GError **error);
void             weft_image_folder_free (WeftImageFolder *images);        /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftImageFolder, weft_image_folder_free)

/* Sub-folders (classes) and images found, without decoding (for inspection). */
gboolean         weft_image_folder_scan (const char *folder, char ***classes,
                                         int64_t *n_images, GError **error);

G_END_DECLS
