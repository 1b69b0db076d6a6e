/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-application"

#include "config.h"

#include "weft-application.h"

#include <glib/gi18n.h>

#include "weft-test-hook.h"
#include "weft-window.h"

struct _WeftApplication
{
  GtkApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (WeftApplication, weft_application, GTK_TYPE_APPLICATION)

static WeftWindow *
new_window (WeftApplication *self)
{
  WeftWindow *window = weft_window_new (GTK_APPLICATION (self));

  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static void
weft_application_activate (GApplication *app)
{
  WeftWindow *window = new_window (WEFT_APPLICATION (app));

  weft_window_open_example (window, "three-heads");
}

static void
weft_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  for (int i = 0; i < n_files; i++)
    weft_window_open_file (new_window (WEFT_APPLICATION (app)), files[i]);
}

static void
weft_application_startup (GApplication *app)
{
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();

  G_APPLICATION_CLASS (weft_application_parent_class)->startup (app);
  gtk_css_provider_load_from_resource (css, "/org/weft/Weft/ui/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
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
  const char *authors[] = { "The Weft authors", NULL };

  gtk_show_about_dialog (parent,
                         "program-name", "Weft",
                         "logo-icon-name", "applications-science",
                         "version", PACKAGE_VERSION,
                         "comments", _("Design neural networks as graphs of layers and train them"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", authors,
                         NULL);
}

static const GActionEntry app_actions[] = {
  { "quit", action_quit },
  { "new-window", action_new_window },
  { "about", action_about },
};

static void
weft_application_class_init (WeftApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

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
    { "win.open", { "<Control>o", NULL } },
    { "win.save", { "<Control>s", NULL } },
    { "win.save-as", { "<Control><Shift>s", NULL } },
    { "win.undo", { "<Control>z", NULL } },
    { "win.redo", { "<Control><Shift>z", "<Control>y", NULL } },
    { "win.find", { "<Control>f", NULL } },
    { "win.show-help-overlay", { "<Control>question", NULL } },
  };

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
  return g_object_new (WEFT_TYPE_APPLICATION, "application-id", APP_ID, "flags", flags, NULL);
}

int
weft_application_run (int argc, char **argv)
{
  g_autoptr (WeftApplication) app = weft_application_new ();

  g_set_application_name ("Weft");
  gtk_window_set_default_icon_name ("applications-science");
  return g_application_run (G_APPLICATION (app), argc, argv);
}
