/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-autosave.h: crash recovery for unsaved work. A WeftAutosave watches one document and,
 * a few seconds after it changes ("interval"), writes the unsaved graph to
 * <cache>/weft/autosave/<id>.weft (atomically, with its weights beside it and a small
 * <id>.info key file naming the original file). A clean save or closing the document
 * (disposing the WeftAutosave) deletes it, so whatever is left at the next start is work a
 * crash would otherwise have lost: weft_autosave_list_leftovers finds it to offer a restore. */
#pragma once

#include <gio/gio.h>

#include "weft-document.h"

G_BEGIN_DECLS

#define WEFT_TYPE_AUTOSAVE (weft_autosave_get_type ())
G_DECLARE_FINAL_TYPE (WeftAutosave, weft_autosave, WEFT, AUTOSAVE, GObject)

/* Seconds between a change and its autosave when no setting says otherwise. */
#define WEFT_AUTOSAVE_DEFAULT_INTERVAL 120

/* g_get_user_cache_dir()/weft/autosave (newly allocated). */
char         *weft_autosave_default_directory (void);

/* Watches document; directory NULL = the default one; id NULL = a new random id (pass a
 * leftover's id to keep updating the file it was restored from). */
WeftAutosave *weft_autosave_new            (WeftDocument *document,
                                            const char   *directory,
                                            const char   *id);
const char   *weft_autosave_get_id         (WeftAutosave *self);
/* Path of the .weft this autosave writes (whether or not it exists now). */
const char   *weft_autosave_get_path       (WeftAutosave *self);
/* Seconds from a change to its autosave; 0 turns autosave off (and deletes the file). */
guint         weft_autosave_get_interval   (WeftAutosave *self);
void          weft_autosave_set_interval   (WeftAutosave *self,
                                            guint         seconds);
/* Follows the "autosave-interval" key of settings (nullable: none). */
void          weft_autosave_bind_settings  (WeftAutosave *self,
                                            GSettings    *settings);
/* Writes the document now when it has unsaved changes (deletes the autosave when it has
 * none). */
gboolean      weft_autosave_save_now       (WeftAutosave *self,
                                            GError      **error);
/* Deletes the autosave files (a clean save or close). */
void          weft_autosave_discard        (WeftAutosave *self);

/* ---- leftovers of earlier sessions ---- */
typedef struct
{
  char      *id;
  char      *path;          /* the autosaved .weft */
  char      *title;         /* the document's title when it was autosaved */
  char      *original_uri;  /* the file the document came from, NULL for an untitled one */
  GDateTime *saved;         /* when it was autosaved */
  guint64    original_modified;  /* the original's mtime (µs) then; 0 unknown */
  gboolean   claimed;       /* private: the entry holds the autosave's lock */
} WeftAutosaveEntry;

void          weft_autosave_entry_free     (WeftAutosaveEntry *entry);   /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftAutosaveEntry, weft_autosave_entry_free)

/* Autosaves in directory (NULL = default) that belong to nobody: not written by a live
 * WeftAutosave of this or any other running process (each holds a lock on its autosave,
 * which the kernel drops when the process dies), and not already listed by a live entry of
 * this or another process. Each entry holds that claim until it is freed, so two Wefts
 * never offer the same leftover. Newest first. A GPtrArray of WeftAutosaveEntry* (frees
 * them); empty when there are none. */
GPtrArray    *weft_autosave_list_leftovers (const char *directory);
/* Reads a leftover back: a new analysed graph (history and the file's title, description
 * and data binding: nullable) or NULL. */
WeftGraph    *weft_autosave_entry_load     (const WeftAutosaveEntry *entry,
                                            WeftHistory **history_out,
                                            WeftFileMeta *meta_out,
                                            GError      **error);
/* Whether the entry's original file changed (or vanished, or its time is unknown) since the
 * autosave was written: then saving over it must be confirmed. FALSE for an untitled one. */
gboolean      weft_autosave_entry_original_changed (const WeftAutosaveEntry *entry);
/* Deletes a leftover's files (after it was restored and saved elsewhere, or declined). */
void          weft_autosave_entry_delete   (const WeftAutosaveEntry *entry);

G_END_DECLS
