/* porch-tray — the desktop face of Porch: a window (and, later, a tray icon) showing the
 * neighbours and what they share. */
#include <stdio.h>

#include <gtk/gtk.h>

static gboolean opt_window = FALSE;

static void
open_window(GtkApplication *app)
{
    GtkWidget *win = gtk_application_window_new(app);
    GtkWidget *label = gtk_label_new("No neighbours found yet.");

    gtk_window_set_title(GTK_WINDOW(win), "Porch");
    gtk_window_set_default_size(GTK_WINDOW(win), 640, 420);
    gtk_container_add(GTK_CONTAINER(win), label);
    gtk_widget_show_all(win);
}

static void
on_activate(GtkApplication *app, gpointer user_data)
{
    GList *windows = gtk_application_get_windows(app);

    if (windows != NULL)
        gtk_window_present(GTK_WINDOW(windows->data));
    else
        open_window(app);
}

static gint
on_local_options(GApplication *app, GVariantDict *options, gpointer user_data)
{
    if (g_variant_dict_contains(options, "version")) {
        printf("porch-tray %s\n", PORCH_VERSION);
        return 0;
    }
    return -1; /* go on */
}

int
main(int argc, char **argv)
{
    g_autoptr(GtkApplication) app =
            gtk_application_new("org.porch.Tray", G_APPLICATION_DEFAULT_FLAGS);
    const GOptionEntry entries[] = {
            {"window", 0, 0, G_OPTION_ARG_NONE, &opt_window, "Open the window at start", NULL},
            {"version", 'V', 0, G_OPTION_ARG_NONE, NULL, "Print the version and exit", NULL},
            G_OPTION_ENTRY_NULL,
    };

    g_application_add_main_option_entries(G_APPLICATION(app), entries);
    g_signal_connect(app, "handle-local-options", G_CALLBACK(on_local_options), NULL);
    g_signal_connect(app, "activate", G_CALLBACK(on_activate), NULL);
    return g_application_run(G_APPLICATION(app), argc, argv);
}
