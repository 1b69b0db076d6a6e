/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-application"

#include "config.h"

#include "weft-application.h"

#include <glib/gi18n.h>
#include <string.h>

#include "weft-test-hook.h"
#include "weft-window.h"

struct _WeftApplication
{
  AdwApplication parent_instance;

  /* Owned */
  GSettings     *settings;

  gboolean       restore_offered;   /* leftovers of a crash are offered once per process */
};

G_DEFINE_FINAL_TYPE (WeftApplication, weft_application, ADW_TYPE_APPLICATION)

GSettingsSchema *
weft_settings_schema_lookup (void)
{
  GSettingsSchemaSource *def = g_settings_schema_source_get_default ();
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *exe_dir = exe != NULL ? g_path_get_dirname (exe) : NULL;
  g_autofree char *beside = exe_dir != NULL
                              ? g_build_filename (exe_dir, "..", "share", "weft", "schemas", NULL)
                              : NULL;
  g_autofree char *prefix = g_build_filename (WEFT_PKGDATADIR, "schemas", NULL);
  const char *dirs[] = { beside, prefix, WEFT_SCHEMA_BUILDDIR };
  GSettingsSchema *schema = NULL;

  if (def != NULL)
    schema = g_settings_schema_source_lookup (def, APP_ID, TRUE);
  for (gsize i = 0; schema == NULL && i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *compiled = NULL;
      GSettingsSchemaSource *source;

      if (dirs[i] == NULL)
        continue;
      compiled = g_build_filename (dirs[i], "gschemas.compiled", NULL);
      if (!g_file_test (compiled, G_FILE_TEST_EXISTS))
        continue;
      source = g_settings_schema_source_new_from_directory (dirs[i], def, FALSE, NULL);
      if (source == NULL)
        continue;
      schema = g_settings_schema_source_lookup (source, APP_ID, FALSE);
      g_settings_schema_source_unref (source);
      if (schema != NULL)
        weft_test_hook ("schema from %s", dirs[i]);
    }
  return schema;
}

static WeftWindow *
new_window (WeftApplication *self)
{
  WeftWindow *window = weft_window_new (GTK_APPLICATION (self));

  gtk_window_present (GTK_WINDOW (window));
  return window;
}

/* The first window of this process offers to restore what a crash left behind. Later
 * windows (a second "weft" on the same session activates this one instead of starting)
 * offer nothing again: this process's own autosaves are live, and what it offered is
 * claimed until decided or its window closes; then the next start offers it. */
static void
offer_restore_once (WeftApplication *self, WeftWindow *window)
{
  if (self->restore_offered)
    return;
  self->restore_offered = TRUE;
  weft_window_offer_restore (window);
}

static void
weft_application_activate (GApplication *app)
{
  offer_restore_once (WEFT_APPLICATION (app), new_window (WEFT_APPLICATION (app)));
}

/* "weft three-heads" opens the built-in example of that name (as an untitled copy), as the
 * command line accepts example names wherever it takes a FILE; a real file always wins. */
static gboolean
is_builtin_example (GFile *file, char **name)
{
  g_autofree char *base = g_file_get_basename (file);
  g_autofree char *path = NULL;

  if (base == NULL || g_file_query_exists (file, NULL) || strchr (base, '.') != NULL)
    return FALSE;
  path = g_strdup_printf ("/org/weft/Weft/examples/%s.weft", base);
  if (!g_resources_get_info (path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL, NULL, NULL))
    return FALSE;
  *name = g_steal_pointer (&base);
  return TRUE;
}

static void
weft_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *example = NULL;
      WeftWindow *window = new_window (WEFT_APPLICATION (app));

      if (is_builtin_example (files[i], &example))
        weft_window_open_example (window, example);
      else
        weft_window_open_file (window, files[i]);
      offer_restore_once (WEFT_APPLICATION (app), window);
    }
}

static void
apply_style (WeftApplication *self)
{
  static const AdwColorScheme schemes[] = {
    ADW_COLOR_SCHEME_DEFAULT, ADW_COLOR_SCHEME_FORCE_LIGHT, ADW_COLOR_SCHEME_FORCE_DARK,
  };
  int style = g_settings_get_enum (self->settings, "style");

  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      schemes[CLAMP (style, 0, 2)]);
}

static void
weft_application_startup (GApplication *app)
{
  WeftApplication *self = WEFT_APPLICATION (app);
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
  g_autoptr (GAction) style = NULL;

  G_APPLICATION_CLASS (weft_application_parent_class)->startup (app);
  gtk_css_provider_load_from_resource (css, "/org/weft/Weft/ui/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  style = g_settings_create_action (self->settings, "style");
  g_action_map_add_action (G_ACTION_MAP (self), style);
  g_signal_connect_object (self->settings, "changed::style", G_CALLBACK (apply_style), self,
                           G_CONNECT_SWAPPED);
  apply_style (self);
}

static void
action_quit (GSimpleAction *a, GVariant *p, gpointer data)
{
  /* close each window so that unsaved changes are asked about */
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (data));

  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (GTK_WINDOW (l->data));
}

static void
action_new_window (GSimpleAction *a, GVariant *p, gpointer data)
{
  new_window (WEFT_APPLICATION (data));
}

static void
action_about (GSimpleAction *a, GVariant *p, gpointer data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (data));
  const char *developers[] = { "The Weft authors", NULL };
  const char *designers[] = { "The Weft authors", NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", parent,
                        "modal", TRUE,
                        "application-icon", APP_ID,
                        "application-name", "Weft",
                        "developer-name", _("The Weft authors"),
                        "version", PACKAGE_VERSION,
                        "comments", _("Design neural networks as graphs of layers and train them. "
                                      "Weft brings the Keras functional API onto a node canvas."),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "copyright", _("© 2026 The Weft authors"),
                        "developers", developers,
                        "designers", designers,
                        /* TRANSLATORS: your name(s), one per line, shown in the about window */
                        "translator-credits", _("translator-credits"),
                        NULL);
  adw_about_window_add_credit_section (ADW_ABOUT_WINDOW (about), _("Built on"),
                                       (const char *[]) { "GTK https://gtk.org",
                                                          "libadwaita https://gnome.pages.gitlab.gnome.org/libadwaita/",
                                                          "OpenBLAS https://www.openblas.net",
                                                          "json-glib", NULL });
  gtk_window_present (GTK_WINDOW (about));
  weft_test_hook ("about shown");
}

/* ---- preferences ---- */

static void
combo_selected_cb (AdwComboRow *row, GParamSpec *pspec, GSettings *settings)
{
  const char *key = g_object_get_data (G_OBJECT (row), "weft-key");

  /* the enums' values are 0..n-1 in the order of the rows */
  g_settings_set_enum (settings, key, (int) adw_combo_row_get_selected (row));
}

static GtkWidget *
enum_row (GSettings *settings, const char *key, const char *title, const char *subtitle,
          const char * const *labels)
{
  GtkWidget *row = adw_combo_row_new ();
  g_autoptr (GtkStringList) model = gtk_string_list_new (labels);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (model));
  adw_combo_row_set_selected (ADW_COMBO_ROW (row), g_settings_get_enum (settings, key));
  gtk_widget_set_tooltip_text (row, subtitle);
  g_object_set_data_full (G_OBJECT (row), "weft-key", g_strdup (key), g_free);
  g_signal_connect_object (row, "notify::selected", G_CALLBACK (combo_selected_cb), settings, 0);
  return row;
}

static GtkWidget *
spin_row (GSettings *settings, const char *key, const char *title, const char *subtitle,
          double min, double max, double step)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin = gtk_spin_button_new_with_range (min, max, step);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (spin, subtitle);
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  g_settings_bind (settings, key, spin, "value", G_SETTINGS_BIND_DEFAULT);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  return row;
}

static void
action_preferences (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftApplication *self = data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWidget *window = adw_preferences_window_new ();
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *look = adw_preferences_group_new ();
  GtkWidget *training = adw_preferences_group_new ();
  GtkWidget *files = adw_preferences_group_new ();
  const char *styles[] = { _("Follow the system"), _("Light"), _("Dark"), NULL };
  /* the order of WeftOptimKind */
  const char *optimizers[] = { "SGD", "Adam", "AdamW", "RMSprop", NULL };

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (look), _("Appearance"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (look),
                             enum_row (self->settings, "style", _("Style"),
                                       _("Light or dark, or as the system prefers"), styles));
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (training), _("New Graphs"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (training),
                                         _("Training settings given to a new graph"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (training),
                             enum_row (self->settings, "default-optimizer", _("Optimizer"),
                                       _("How the weights are updated from the gradients"),
                                       optimizers));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (training),
                             spin_row (self->settings, "default-batch-size", _("Batch size"),
                                       _("Samples per training step"), 1, 65536, 1));
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (files), _("Files"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (files),
                             spin_row (self->settings, "autosave-interval", _("Autosave every"),
                                       _("Seconds after a change until unsaved work is kept "
                                         "safe for recovery after a crash; 0 turns it off"),
                                       0, 3600, 10));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (look));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (training));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (files));
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (window), ADW_PREFERENCES_PAGE (page));
  adw_preferences_window_set_search_enabled (ADW_PREFERENCES_WINDOW (window), FALSE);
  gtk_window_set_transient_for (GTK_WINDOW (window), parent);
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  gtk_window_present (GTK_WINDOW (window));
  weft_test_hook ("preferences shown");
}

static const GActionEntry app_actions[] = {
  { "quit", action_quit },
  { "new-window", action_new_window },
  { "preferences", action_preferences },
  { "about", action_about },
};

static void
weft_application_dispose (GObject *object)
{
  WeftApplication *self = WEFT_APPLICATION (object);

  g_clear_object (&self->settings);
  G_OBJECT_CLASS (weft_application_parent_class)->dispose (object);
}

static void
weft_application_class_init (WeftApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = weft_application_dispose;
  app_class->activate = weft_application_activate;
  app_class->open = weft_application_open;
  app_class->startup = weft_application_startup;
}

static void
weft_application_init (WeftApplication *self)
{
  static const struct { const char *action; const char *accels[3]; } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.new-window", { "<Control>n", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "win.new-graph", { "<Control><Shift>n", NULL } },
    { "win.open", { "<Control>o", NULL } },
    { "win.save", { "<Control>s", NULL } },
    { "win.save-as", { "<Control><Shift>s", NULL } },
    { "win.undo", { "<Control>z", NULL } },
    { "win.redo", { "<Control><Shift>z", "<Control>y", NULL } },
    { "win.find", { "<Control>f", NULL } },
    { "win.show-start", { "<Control>Home", NULL } },
    { "win.show-help-overlay", { "<Control>question", NULL } },
  };
  g_autoptr (GSettingsSchema) schema = weft_settings_schema_lookup ();

  if (schema == NULL)
    g_error ("The settings schema %s is not installed; reinstall Weft", APP_ID);
  self->settings = g_settings_new_full (schema, NULL, NULL);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  for (gsize i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action, accels[i].accels);
}

WeftApplication *
weft_application_new (void)
{
  /* tests run several instances side by side */
  GApplicationFlags flags = G_APPLICATION_HANDLES_OPEN;

  if (weft_test_hook_enabled ())
    flags |= G_APPLICATION_NON_UNIQUE;
  return g_object_new (WEFT_TYPE_APPLICATION, "application-id", APP_ID, "flags", flags,
                       "resource-base-path", "/org/weft/Weft", NULL);
}

int
weft_application_run (int argc, char **argv)
{
  g_autoptr (WeftApplication) app = weft_application_new ();

  g_set_application_name ("Weft");
  gtk_window_set_default_icon_name (APP_ID);
  return g_application_run (G_APPLICATION (app), argc, argv);
}

GSettings *
weft_application_get_settings (WeftApplication *self)
{
  g_return_val_if_fail (WEFT_IS_APPLICATION (self), NULL);
  return self->settings;
}

void
weft_application_add_recent (WeftApplication *self, GFile *file)
{
  g_auto (GStrv) old = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) uris = NULL;
  g_autofree char *uri = NULL;
  int n = 1;

  g_return_if_fail (WEFT_IS_APPLICATION (self));
  g_return_if_fail (G_IS_FILE (file));

  uri = g_file_get_uri (file);
  old = g_settings_get_strv (self->settings, "recent-files");
  g_strv_builder_add (builder, uri);
  for (int i = 0; old[i] != NULL && n < WEFT_RECENT_MAX; i++)
    if (!g_str_equal (old[i], uri))
      {
        g_strv_builder_add (builder, old[i]);
        n++;
      }
  uris = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "recent-files", (const char * const *) uris);
}
