/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "weft-autosave.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

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
  gboolean      locked;         /* holds the <id>.lock of this autosave (see lock_acquire) */
  guint64       original_then;  /* a restored leftover's original mtime (µs), kept until saved */
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

/* Who owns an autosave. Every process holds an exclusive flock() on <id>.lock for each
 * autosave it writes (a live WeftAutosave) or offers to restore (a listed entry), for as long
 * as it does. The kernel drops the lock when the process dies, however it dies, so an
 * autosave whose lock can be taken belongs to nobody: a leftover of a crash. Within one
 * process the locks are shared and counted here (flock() on a second descriptor of the same
 * file would conflict with our own first one). Lock path -> HeldLock. Main thread only. */
typedef struct
{
  int   fd;
  guint refs;
} HeldLock;

static GHashTable *held_locks;

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

static gboolean
lock_held_here (const char *directory, const char *id)
{
  g_autofree char *path = sibling (directory, id, ".lock");
  return held_locks != NULL && g_hash_table_contains (held_locks, path);
}

/* Takes (or shares, within this process) the lock of id. FALSE when another process holds
 * it, or when it cannot be created (errno says why). */
static gboolean
lock_acquire (const char *directory, const char *id)
{
  g_autofree char *path = sibling (directory, id, ".lock");
  HeldLock *held;

  if (held_locks == NULL)
    held_locks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  held = g_hash_table_lookup (held_locks, path);
  if (held != NULL)
    {
      held->refs++;
      return TRUE;
    }
  /* A releasing process unlinks the lock file before closing it; a lock won on such an
   * unlinked file protects nothing, so check that the locked file is still the named one. */
  for (int attempt = 0; attempt < 8; attempt++)
    {
      struct stat fd_st, path_st;
      int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

      if (fd < 0)
        return FALSE;
      if (flock (fd, LOCK_EX | LOCK_NB) != 0)
        {
          int saved = errno;
          close (fd);
          errno = saved;
          return FALSE;
        }
      if (fstat (fd, &fd_st) == 0 && stat (path, &path_st) == 0
          && fd_st.st_dev == path_st.st_dev && fd_st.st_ino == path_st.st_ino)
        {
          held = g_new0 (HeldLock, 1);
          held->fd = fd;
          held->refs = 1;
          g_hash_table_insert (held_locks, g_steal_pointer (&path), held);
          return TRUE;
        }
      close (fd);
    }
  errno = EAGAIN;
  return FALSE;
}

/* Drops one reference; the last one removes the lock file too when the autosave itself is
 * gone, so a crash-free session leaves nothing behind. */
static void
lock_release (const char *directory, const char *id)
{
  g_autofree char *path = sibling (directory, id, ".lock");
  HeldLock *held = held_locks != NULL ? g_hash_table_lookup (held_locks, path) : NULL;

  g_return_if_fail (held != NULL);
  if (--held->refs > 0)
    return;
  {
    g_autofree char *weft = sibling (directory, id, ".weft");
    if (!g_file_test (weft, G_FILE_TEST_EXISTS))
      g_unlink (path);
  }
  close (held->fd);
  g_hash_table_remove (held_locks, path);
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
  self->original_then = 0;   /* saved (or closed): the original is the user's own now */
}

/* The modification time of file in µs; 0 when it is gone or has none. */
static guint64
mtime_usec (GFile *file)
{
  g_autoptr (GFileInfo) fi = g_file_query_info (file, G_FILE_ATTRIBUTE_TIME_MODIFIED ","
                                                G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC,
                                                G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (fi == NULL || !g_file_info_has_attribute (fi, G_FILE_ATTRIBUTE_TIME_MODIFIED))
    return 0;
  return g_file_info_get_attribute_uint64 (fi, G_FILE_ATTRIBUTE_TIME_MODIFIED) * G_USEC_PER_SEC
         + g_file_info_get_attribute_uint32 (fi, G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC);
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
      guint64 modified = self->original_then != 0 ? self->original_then : mtime_usec (file);
      g_key_file_set_string (kf, "autosave", "original-uri", uri);
      /* The original as it was then: a restore can tell whether it changed since. Work
       * restored from a leftover keeps the time recorded before the crash, so that a change
       * of the original meanwhile is still noticed after a second crash. */
      if (modified != 0)
        g_key_file_set_uint64 (kf, "autosave", "original-modified-usec", modified);
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
  /* Ours before anything is written, so that no other Weft offers it as a leftover. */
  if (!self->locked)
    {
      if (!lock_acquire (self->directory, self->id))
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("The autosave %s is in use by another Weft: %s"), self->id,
                       g_strerror (saved));
          return FALSE;
        }
      self->locked = TRUE;
    }
  /* The info first: a .weft without it still lists (titled by its id), never the reverse. */
  if (!write_info (self, error))
    return FALSE;
  if (!weft_file_save_full (weft_document_get_graph (self->document),
                            weft_document_get_history (self->document),
                            weft_document_get_file_meta (self->document), self->path, error))
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

  if (self->locked)
    lock_release (self->directory, self->id);
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
  self->on_disk = g_file_test (self->path, G_FILE_TEST_EXISTS);
  /* Taking over a leftover (a restore): it is ours from now on. Normally the restoring
   * entry already holds its lock, which is then shared. */
  if (self->on_disk)
    {
      self->locked = lock_acquire (self->directory, self->id);
      if (self->locked)
        {
          g_autoptr (GKeyFile) kf = g_key_file_new ();
          g_autofree char *info = sibling (self->directory, self->id, ".info");
          if (g_key_file_load_from_file (kf, info, G_KEY_FILE_NONE, NULL))
            self->original_then = g_key_file_get_uint64 (kf, "autosave",
                                                         "original-modified-usec", NULL);
        }
      else
        {
          /* Another running Weft writes that autosave: never touch it; write our own. */
          g_message ("autosave %s is in use by another process; using a new one", self->id);
          g_free (self->id);
          g_free (self->path);
          self->id = g_uuid_string_random ();
          self->path = sibling (self->directory, self->id, ".weft");
          self->on_disk = FALSE;
        }
    }
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
  if (entry->claimed)
    {
      g_autofree char *dir = g_path_get_dirname (entry->path);
      lock_release (dir, entry->id);
    }
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
      if (g_str_has_suffix (name, ".lock") && strlen (name) > strlen (".lock"))
        {
          /* A lock file without its autosave, from a process killed after a discard and
           * before its release: removed if nobody holds it (lock_release unlinks it). */
          g_autofree char *id = g_strndup (name, strlen (name) - strlen (".lock"));
          g_autofree char *weft = sibling (dir, id, ".weft");
          if (!g_file_test (weft, G_FILE_TEST_EXISTS) && !lock_held_here (dir, id)
              && lock_acquire (dir, id))
            lock_release (dir, id);
          continue;
        }
      if (!g_str_has_suffix (name, ".weft") || strlen (name) == strlen (".weft"))
        continue;
      g_autofree char *id = g_strndup (name, strlen (name) - strlen (".weft"));
      /* Live or already offered here, or owned by another running Weft: not a leftover.
       * Otherwise the entry holds the lock until it is freed, so that no other Weft
       * offers it meanwhile. */
      if (lock_held_here (dir, id) || !lock_acquire (dir, id))
        continue;
      /* Deleted by its owner between the listing and the lock. */
      {
        g_autofree char *weft = g_build_filename (dir, name, NULL);
        if (!g_file_test (weft, G_FILE_TEST_EXISTS))
          {
            lock_release (dir, id);
            continue;
          }
      }

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
          e->original_modified = g_key_file_get_uint64 (kf, "autosave",
                                                        "original-modified-usec", NULL);
        }
      e->claimed = TRUE;
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
                          WeftFileMeta *meta_out, GError **error)
{
  g_return_val_if_fail (entry != NULL, NULL);
  WeftGraph *graph = weft_file_load_full (entry->path, history_out, meta_out, error);
  if (graph != NULL)
    weft_graph_analyse (graph);
  return graph;
}

void
weft_autosave_entry_delete (const WeftAutosaveEntry *entry)
{
  g_return_if_fail (entry != NULL);
  g_autofree char *dir = g_path_get_dirname (entry->path);

  if (entry->claimed)
    {
      delete_files (dir, entry->id);   /* the entry's release removes the lock file */
      return;
    }
  /* An entry made by hand: only what nobody else holds. */
  gboolean took = !lock_held_here (dir, entry->id);
  if (took && !lock_acquire (dir, entry->id))
    {
      g_message ("autosave %s is in use by another process; not deleted", entry->id);
      return;
    }
  delete_files (dir, entry->id);
  if (took)
    lock_release (dir, entry->id);
}

gboolean
weft_autosave_entry_original_changed (const WeftAutosaveEntry *entry)
{
  g_return_val_if_fail (entry != NULL, TRUE);
  if (entry->original_uri == NULL)
    return FALSE;

  g_autoptr (GFile) file = g_file_new_for_uri (entry->original_uri);
  guint64 now = mtime_usec (file);
  /* gone, or its time unknown then or now: ask */
  return now == 0 || entry->original_modified == 0 || now != entry->original_modified;
}
