/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "weft-autosave.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "weft-file.h"
#include "weft-test-hook.h"

struct _WeftAutosave
{
  GObject       parent_instance;
  WeftDocument *document;       /* weak: the document owns its window, the window us */
  char         *directory;
  char         *id;
  char         *path;
  guint         interval;
  guint         timeout_id;
  guint64       changes;        /* edits seen */
  guint64       saved_changes;  /* edits covered by the file on disk */
  gboolean      on_disk;
  GSettings    *settings;
};

G_DEFINE_FINAL_TYPE (WeftAutosave, weft_autosave, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_INTERVAL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Ids of the live autosaves of this process: not leftovers. Main thread only. */
static GHashTable *live_ids;

char *
weft_autosave_default_directory (void)
{
  return g_build_filename (g_get_user_cache_dir (), "weft", "autosave", NULL);
}

static char *
sibling (const char *directory, const char *id, const char *suffix)
{
  g_autofree char *name = g_strconcat (id, suffix, NULL);
  return g_build_filename (directory, name, NULL);
}

static void
delete_files (const char *directory, const char *id)
{
  static const char *const suffixes[] = { ".weft", ".safetensors", ".safetensors.prev",
                                          ".safetensors.new", ".info" };
  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *p = sibling (directory, id, suffixes[i]);
      g_unlink (p);
    }
}

void
weft_autosave_discard (WeftAutosave *self)
{
  g_return_if_fail (WEFT_IS_AUTOSAVE (self));
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  if (self->on_disk || g_file_test (self->path, G_FILE_TEST_EXISTS))
    {
      delete_files (self->directory, self->id);
      weft_test_hook ("autosave discarded %s", self->id);
    }
  self->on_disk = FALSE;
  self->saved_changes = self->changes;
}

static gboolean
write_info (WeftAutosave *self, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *title = weft_document_dup_title (self->document);
  GFile *file = weft_document_get_file (self->document);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format_iso8601 (now);
  g_autofree char *info = sibling (self->directory, self->id, ".info");

  g_key_file_set_string (kf, "autosave", "title", title);
  if (file != NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_key_file_set_string (kf, "autosave", "original-uri", uri);
    }
  g_key_file_set_string (kf, "autosave", "saved", stamp);
  return g_key_file_save_to_file (kf, info, error);
}

gboolean
weft_autosave_save_now (WeftAutosave *self, GError **error)
{
  g_return_val_if_fail (WEFT_IS_AUTOSAVE (self), FALSE);
  g_clear_handle_id (&self->timeout_id, g_source_remove);

  if (self->document == NULL || !weft_document_get_dirty (self->document))
    {
      weft_autosave_discard (self);
      return TRUE;
    }
  if (self->on_disk && self->saved_changes == self->changes)
    return TRUE;
  if (g_mkdir_with_parents (self->directory, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not create the autosave folder %s: %s"), self->directory,
                   g_strerror (saved));
      return FALSE;
    }
  /* The info first: a .weft without it still lists (titled by its id), never the reverse. */
  if (!write_info (self, error))
    return FALSE;
  if (!weft_file_save (weft_document_get_graph (self->document),
                       weft_document_get_history (self->document), self->path, error))
    return FALSE;
  self->on_disk = TRUE;
  self->saved_changes = self->changes;
  weft_test_hook ("autosave written %s", self->id);
  return TRUE;
}

static gboolean
timeout_cb (gpointer data)
{
  WeftAutosave *self = data;
  g_autoptr (GError) error = NULL;

  self->timeout_id = 0;
  if (!weft_autosave_save_now (self, &error))
    {
      /* Not fatal: the user's own save still works; try again after the next edit. */
      g_message ("autosave failed: %s", error->message);
      weft_test_hook ("autosave failed %s", error->message);
    }
  return G_SOURCE_REMOVE;
}

static void
schedule (WeftAutosave *self)
{
  if (self->interval == 0 || self->timeout_id != 0)
    return;
  weft_test_hook ("autosave scheduled %s in %u s", self->id, self->interval);
  self->timeout_id = g_timeout_add_seconds (self->interval, timeout_cb, self);
  g_source_set_name_by_id (self->timeout_id, "[weft] autosave");
}

static void
dirty_changed_cb (WeftDocument *document, GParamSpec *pspec, WeftAutosave *self)
{
  if (!weft_document_get_dirty (document))
    {
      /* Saved (or undone back to the saved state): nothing to recover. */
      weft_autosave_discard (self);
      return;
    }
  self->changes++;
  schedule (self);
}

guint
weft_autosave_get_interval (WeftAutosave *self)
{
  g_return_val_if_fail (WEFT_IS_AUTOSAVE (self), 0);
  return self->interval;
}

void
weft_autosave_set_interval (WeftAutosave *self, guint seconds)
{
  g_return_if_fail (WEFT_IS_AUTOSAVE (self));
  if (self->interval == seconds)
    return;
  weft_test_hook ("autosave interval %s %u s", self->id, seconds);
  self->interval = seconds;
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  if (seconds == 0)
    weft_autosave_discard (self);
  else if (self->changes != self->saved_changes)
    schedule (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INTERVAL]);
}

void
weft_autosave_bind_settings (WeftAutosave *self, GSettings *settings)
{
  g_return_if_fail (WEFT_IS_AUTOSAVE (self));
  if (self->settings != NULL)
    g_settings_unbind (self, "interval");
  g_set_object (&self->settings, settings);
  if (settings != NULL)
    g_settings_bind (settings, "autosave-interval", self, "interval", G_SETTINGS_BIND_GET);
}

const char *
weft_autosave_get_id (WeftAutosave *self)
{
  g_return_val_if_fail (WEFT_IS_AUTOSAVE (self), NULL);
  return self->id;
}

const char *
weft_autosave_get_path (WeftAutosave *self)
{
  g_return_val_if_fail (WEFT_IS_AUTOSAVE (self), NULL);
  return self->path;
}

static void
weft_autosave_dispose (GObject *object)
{
  WeftAutosave *self = WEFT_AUTOSAVE (object);

  /* Disposed when the document is closed: a clean close leaves nothing to recover. */
  if (self->id != NULL)
    weft_autosave_discard (self);
  if (self->document != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->document, self);
      g_object_remove_weak_pointer (G_OBJECT (self->document), (gpointer *) &self->document);
      self->document = NULL;
    }
  if (self->settings != NULL)
    {
      g_settings_unbind (self, "interval");
      g_clear_object (&self->settings);
    }
  G_OBJECT_CLASS (weft_autosave_parent_class)->dispose (object);
}

static void
weft_autosave_finalize (GObject *object)
{
  WeftAutosave *self = WEFT_AUTOSAVE (object);

  if (live_ids != NULL && self->id != NULL)
    g_hash_table_remove (live_ids, self->id);
  g_free (self->directory);
  g_free (self->id);
  g_free (self->path);
  G_OBJECT_CLASS (weft_autosave_parent_class)->finalize (object);
}

static void
weft_autosave_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  WeftAutosave *self = WEFT_AUTOSAVE (object);

  switch (prop_id)
    {
    case PROP_INTERVAL: g_value_set_uint (value, self->interval); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
weft_autosave_set_property (GObject *object, guint prop_id, const GValue *value,
                            GParamSpec *pspec)
{
  WeftAutosave *self = WEFT_AUTOSAVE (object);

  switch (prop_id)
    {
    case PROP_INTERVAL: weft_autosave_set_interval (self, g_value_get_uint (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
weft_autosave_class_init (WeftAutosaveClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = weft_autosave_dispose;
  object_class->finalize = weft_autosave_finalize;
  object_class->get_property = weft_autosave_get_property;
  object_class->set_property = weft_autosave_set_property;

  properties[PROP_INTERVAL] =
    g_param_spec_uint ("interval", NULL, NULL, 0, 24 * 3600, WEFT_AUTOSAVE_DEFAULT_INTERVAL,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
weft_autosave_init (WeftAutosave *self)
{
  self->interval = WEFT_AUTOSAVE_DEFAULT_INTERVAL;
}

WeftAutosave *
weft_autosave_new (WeftDocument *document, const char *directory, const char *id)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (document), NULL);
  g_return_val_if_fail (id == NULL || (id[0] != '\0' && strchr (id, '/') == NULL
                                       && strcmp (id, "..") != 0), NULL);

  WeftAutosave *self = g_object_new (WEFT_TYPE_AUTOSAVE, NULL);
  self->document = document;
  g_object_add_weak_pointer (G_OBJECT (document), (gpointer *) &self->document);
  self->directory = directory != NULL ? g_strdup (directory) : weft_autosave_default_directory ();
  self->id = id != NULL ? g_strdup (id) : g_uuid_string_random ();
  self->path = sibling (self->directory, self->id, ".weft");
  if (live_ids == NULL)
    live_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_add (live_ids, g_strdup (self->id));
  self->on_disk = g_file_test (self->path, G_FILE_TEST_EXISTS);
  g_signal_connect (document, "notify::dirty", G_CALLBACK (dirty_changed_cb), self);
  if (weft_document_get_dirty (document))
    {
      self->changes = 1;
      schedule (self);
    }
  return self;
}

/* ---- leftovers ---- */

void
weft_autosave_entry_free (WeftAutosaveEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->id);
  g_free (entry->path);
  g_free (entry->title);
  g_free (entry->original_uri);
  g_clear_pointer (&entry->saved, g_date_time_unref);
  g_free (entry);
}

static int
compare_newest_first (gconstpointer a, gconstpointer b)
{
  const WeftAutosaveEntry *ea = *(WeftAutosaveEntry *const *) a;
  const WeftAutosaveEntry *eb = *(WeftAutosaveEntry *const *) b;
  return g_date_time_compare (eb->saved, ea->saved);
}

GPtrArray *
weft_autosave_list_leftovers (const char *directory)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) weft_autosave_entry_free);
  g_autofree char *dir = directory != NULL ? g_strdup (directory)
                                           : weft_autosave_default_directory ();
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return entries;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_suffix (name, ".weft") || strlen (name) == strlen (".weft"))
        continue;
      g_autofree char *id = g_strndup (name, strlen (name) - strlen (".weft"));
      if (live_ids != NULL && g_hash_table_contains (live_ids, id))
        continue;

      WeftAutosaveEntry *e = g_new0 (WeftAutosaveEntry, 1);
      g_autoptr (GKeyFile) kf = g_key_file_new ();
      g_autofree char *info = sibling (dir, id, ".info");
      g_autofree char *stamp = NULL;
      GStatBuf st;

      e->path = g_build_filename (dir, name, NULL);
      if (g_key_file_load_from_file (kf, info, G_KEY_FILE_NONE, NULL))
        {
          e->title = g_key_file_get_string (kf, "autosave", "title", NULL);
          e->original_uri = g_key_file_get_string (kf, "autosave", "original-uri", NULL);
          stamp = g_key_file_get_string (kf, "autosave", "saved", NULL);
          if (stamp != NULL)
            e->saved = g_date_time_new_from_iso8601 (stamp, NULL);
        }
      if (e->title == NULL)
        e->title = g_strdup (id);
      if (e->saved == NULL)
        e->saved = g_stat (e->path, &st) == 0 ? g_date_time_new_from_unix_utc (st.st_mtime)
                                               : g_date_time_new_now_utc ();
      e->id = g_steal_pointer (&id);
      g_ptr_array_add (entries, e);
    }
  g_ptr_array_sort (entries, compare_newest_first);
  return entries;
}

WeftGraph *
weft_autosave_entry_load (const WeftAutosaveEntry *entry, WeftHistory **history_out,
                          GError **error)
{
  g_return_val_if_fail (entry != NULL, NULL);
  WeftGraph *graph = weft_file_load (entry->path, history_out, error);
  if (graph != NULL)
    weft_graph_analyse (graph);
  return graph;
}

void
weft_autosave_entry_delete (const WeftAutosaveEntry *entry)
{
  g_return_if_fail (entry != NULL);
  g_autofree char *dir = g_path_get_dirname (entry->path);
  delete_files (dir, entry->id);
}
