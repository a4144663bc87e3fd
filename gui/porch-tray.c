/* porch-tray — the desktop face of Porch: a status icon whose menu lists the neighbours, and a
 * window that shows them, browses their shares and fetches from them (porch_tray_core, see
 * porch-tray-internal.h). Without a tray host (GNOME without its extension, a bare X server)
 * the window opens at start, and closing it quits. */
#include <locale.h>
#include <stdio.h>

#include "porch-tray-internal.h"

static gboolean opt_window = FALSE;

typedef struct {
    PorchTray *tray;
    gboolean icon_known; /* the tray host question has been answered */
    gboolean icon_shown;
    gboolean activated;
} App;

/* porch_tray_present() has put the icon up (and holds the application for it), or opened the
 * window instead. */
static void
on_icon(PorchTray *tray, gboolean shown, gpointer data)
{
    App *a = data;

    a->icon_known = TRUE;
    a->icon_shown = shown;
}

static void
on_startup(GApplication *app, gpointer data)
{
    App *a = data;
    g_autoptr(GError) error = NULL;

    a->tray = porch_tray_new(GTK_APPLICATION(app));
    if (!porch_tray_start(a->tray, &error))
        g_message("cannot see the neighbours yet: %s", error->message);
    porch_tray_present(a->tray, opt_window, on_icon, a);
}

static void
on_activate(GApplication *app, gpointer data)
{
    App *a = data;

    /* The first activation waits for the tray host's answer (on_icon() opens the window when
     * there is none, or --window asked); a later one (porch-tray run again, "Open Porch")
     * opens it. */
    if (!a->activated && !a->icon_known) {
        a->activated = TRUE;
        return;
    }
    a->activated = TRUE;
    porch_tray_show_window(a->tray);
}

/* `porch-tray --send FILE...` (or files given at all: the file manager's "Send to a neighbour
 * with Porch"): the neighbour chooser, in the running porch-tray when there is one (GApplication
 * hands the files to it). */
static void
on_open(GApplication *app, GFile **files, int n_files, const char *hint, gpointer data)
{
    App *a = data;
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_auto(GStrv) paths = NULL;

    for (int i = 0; i < n_files; i++) {
        g_autofree char *path = g_file_get_path(files[i]);
        if (path != NULL)
            g_strv_builder_add(b, path);
        else
            g_message("not a local file, not sent: %s", g_file_peek_path(files[i]));
    }
    paths = g_strv_builder_end(b);
    if (paths[0] != NULL)
        porch_tray_sending_pick(porch_tray_get_sending(a->tray), (const char *const *)paths);
}

static void
on_shutdown(GApplication *app, gpointer data)
{
    App *a = data;

    g_clear_pointer(&a->tray, porch_tray_free);
}

static gint
on_local_options(GApplication *app, GVariantDict *options, gpointer user_data)
{
    if (g_variant_dict_contains(options, "version")) {
        printf("porch-tray %s\n", PORCH_VERSION);
        return 0;
    }
    /* (--send only says what the files are for: they are sent whenever files are given) */
    return -1; /* go on */
}

int
main(int argc, char **argv)
{
    g_autoptr(GtkApplication) app =
            gtk_application_new("org.porch.Tray", G_APPLICATION_HANDLES_OPEN);
    const GOptionEntry entries[] = {
            {"window", 0, 0, G_OPTION_ARG_NONE, &opt_window, "Open the window at start", NULL},
            {"send", 0, 0, G_OPTION_ARG_NONE, NULL,
             "Send the FILEs given to a neighbour (a chooser of the neighbours)", NULL},
            {"version", 'V', 0, G_OPTION_ARG_NONE, NULL, "Print the version and exit", NULL},
            G_OPTION_ENTRY_NULL,
    };
    App a = {0};

    /* GTK sets it when it starts; the options are read before that */
    setlocale(LC_ALL, "");
    g_application_add_main_option_entries(G_APPLICATION(app), entries);
    g_application_set_option_context_parameter_string(G_APPLICATION(app), "[FILE...]");
    g_signal_connect(app, "handle-local-options", G_CALLBACK(on_local_options), NULL);
    g_signal_connect(app, "startup", G_CALLBACK(on_startup), &a);
    g_signal_connect(app, "activate", G_CALLBACK(on_activate), &a);
    g_signal_connect(app, "open", G_CALLBACK(on_open), &a);
    g_signal_connect(app, "shutdown", G_CALLBACK(on_shutdown), &a);
    return g_application_run(G_APPLICATION(app), argc, argv);
}
