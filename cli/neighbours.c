/* neighbours.c — `porch neighbours add ADDRESS[:PORT] | remove NAME | list [--json]`:
 * neighbours remembered by address, for when mDNS cannot show them (another subnet, a network
 * that drops multicast). The list is the user's $XDG_CONFIG_HOME/porch/neighbours
 * (shared/porch-neighbours.h); `porch browse` shows them and every command finds them by
 * display name (cli/target.c).
 *
 * add connects once, as `porch ls ADDRESS` would (its host key checked, or pinned under the
 * address on first use), asks the neighbour's porchd who it is (its "status" command: display
 * name, the shares and printers this user may see) and remembers that. A neighbour that does
 * not answer as a Porch host is not remembered.
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "porch-cli.h"
#include "porch-neighbours.h"
#include "porch-print-client.h"

static void
put_list(const char *label, GStrv v)
{
    if (v == NULL || v[0] == NULL)
        return;
    printf("    %-12s ", label);
    for (guint i = 0; v[i] != NULL; i++) {
        if (i > 0)
            fputs(", ", stdout);
        porch_cli_put_text(stdout, v[i]);
    }
    fputc('\n', stdout);
}

static void
json_strv(JsonBuilder *b, const char *key, GStrv v)
{
    json_builder_set_member_name(b, key);
    json_builder_begin_array(b);
    for (guint i = 0; v != NULL && v[i] != NULL; i++)
        json_builder_add_string_value(b, v[i]);
    json_builder_end_array(b);
}

static int
neighbours_list(gboolean json)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = porch_neighbours_load(NULL, &error);

    if (list == NULL) {
        porch_cli_error("neighbours", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;

        json_builder_begin_array(b);
        for (guint i = 0; i < list->len; i++) {
            const PorchRemembered *r = g_ptr_array_index(list, i);
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "name");
            json_builder_add_string_value(b, r->name);
            json_builder_set_member_name(b, "address");
            json_builder_add_string_value(b, r->address);
            json_builder_set_member_name(b, "port");
            json_builder_add_int_value(b, r->port);
            json_builder_set_member_name(b, "fingerprint");
            if (r->fingerprint != NULL)
                json_builder_add_string_value(b, r->fingerprint);
            else
                json_builder_add_null_value(b);
            json_strv(b, "shares", r->shares);
            json_strv(b, "printers", r->printers);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        text = json_generator_to_data(gen, NULL);
        puts(text);
    } else if (list->len == 0) {
        puts("No neighbours remembered (porch neighbours add ADDRESS remembers one).");
    } else {
        for (guint i = 0; i < list->len; i++) {
            const PorchRemembered *r = g_ptr_array_index(list, i);
            g_autofree char *where = porch_neighbours_pin_name(r->address, r->port);

            porch_cli_put_text(stdout, r->name);
            fputs(" (", stdout);
            porch_cli_put_text(stdout, where);
            fputs(")\n", stdout);
            if (r->fingerprint != NULL) {
                fputs("    host key     ", stdout);
                porch_cli_put_text(stdout, r->fingerprint);
                fputc('\n', stdout);
            }
            put_list("shares", r->shares);
            put_list("printers", r->printers);
        }
    }
    return fflush(stdout) == 0 ? PORCH_CLI_EXIT_OK : PORCH_CLI_EXIT_FAILED;
}

static int
neighbours_add(const char *arg, const PorchCliCommon *common)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *address = NULL;
    g_autofree char *text = NULL;
    g_autoptr(PorchCliTarget) target = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(PorchHostStatus) status = NULL;
    g_autofree char *key_fp = NULL;
    PorchRemembered r = {0};
    guint16 port;
    int rc;
    PorchCliConnectOptions o = {
            .identity_file = common->identity,
            .quiet = common->quiet,
            .for_print = TRUE,
            .connect_timeout_seconds = common->connect_timeout,
            .say_connecting = !common->quiet,
    };

    if (!porch_neighbours_parse_address(arg, &address, &port, &error)) {
        porch_cli_usage_error("neighbours", error->message);
        return PORCH_CLI_EXIT_USAGE;
    }
    /* where to connect and the pin, exactly as `porch ls ADDRESS:PORT` has them */
    text = strchr(address, ':') != NULL ? g_strdup_printf("[%s]:%u", address, (unsigned)port)
                                        : g_strdup_printf("%s:%u", address, (unsigned)port);
    target = porch_cli_target_parse(text, &error);
    if (target == NULL) {
        porch_cli_usage_error("neighbours", error->message);
        return PORCH_CLI_EXIT_USAGE;
    }
    target->addresses = g_strdupv((char *[]){address, NULL});
    target->connect_port = port;
    target->pin_name = porch_neighbours_pin_name(address, port);

    rc = porch_cli_connect_full(target, &o, &client, &key_fp, NULL);
    if (rc != PORCH_CLI_EXIT_OK) {
        g_autofree char *line =
                g_strdup_printf("%s did not answer as a Porch host; nothing was remembered", text);
        porch_cli_error("neighbours add", line);
        return rc;
    }
    if (!porch_client_status(client, &status, &error)) {
        g_autofree char *line =
                g_strdup_printf("%s did not say who it is (%s); nothing was remembered", text,
                                g_error_matches(error, PORCH_PRINT_ERROR, PORCH_PRINT_ERROR_USAGE)
                                        ? "its porchd is too old to answer by address"
                                        : error->message);
        porch_cli_error("neighbours add", line);
        return PORCH_CLI_EXIT_FAILED;
    }
    r.address = address;
    r.port = port;
    r.name = status->name;
    r.fingerprint = (char *)porch_client_get_host_fingerprint(client);
    r.shares = status->shares;
    r.printers = status->printers;
    if (!porch_neighbours_add(NULL, &r, &error)) {
        porch_cli_error("neighbours add", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    if (!common->quiet) {
        fputs("porch: remembered '", stderr);
        porch_cli_put_text(stderr, status->name);
        fputs("' at ", stderr);
        porch_cli_put_text(stderr, target->pin_name);
        fputs(" (porch neighbours remove NAME forgets it)\n", stderr);
    }
    return PORCH_CLI_EXIT_OK;
}

static int
neighbours_remove(const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchRemembered) r = porch_neighbours_remove(NULL, name, &error);

    if (r == NULL) {
        porch_cli_error("neighbours remove", error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    fputs("porch: forgot '", stderr);
    porch_cli_put_text(stderr, r->name);
    fputs("'\n", stderr);
    return PORCH_CLI_EXIT_OK;
}

int
porch_cli_neighbours(int argc, char **argv)
{
    g_auto(PorchCliCommon) common = {0};
    gboolean json = FALSE;
    GOptionEntry entries[] = {
            {"json", 0, 0, G_OPTION_ARG_NONE, &json, "list: print JSON", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx =
            g_option_context_new("add ADDRESS[:PORT] | remove NAME | list [--json]");

    porch_cli_set_summary(ctx, "Remember a neighbour that mDNS cannot show (another subnet, a "
                               "network that drops multicast) by its address, forget one, or "
                               "list them. A remembered neighbour shows in porch browse and is "
                               "reached by its display name like any other.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE, "add: say nothing but errors");
    if (!porch_cli_parse_options(ctx, "neighbours", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (argc < 2 || strcmp(argv[1], "list") == 0) {
        if (argc > 2) {
            porch_cli_usage_error("neighbours", "neighbours list takes no argument");
            return PORCH_CLI_EXIT_USAGE;
        }
        return neighbours_list(json);
    }
    if (json) {
        porch_cli_usage_error("neighbours", "--json goes with list");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "add") == 0 || strcmp(argv[1], "remove") == 0) {
        if (argc != 3) {
            porch_cli_usage_error("neighbours", strcmp(argv[1], "add") == 0
                                                        ? "neighbours add takes one ADDRESS[:PORT]"
                                                        : "neighbours remove takes one NAME");
            return PORCH_CLI_EXIT_USAGE;
        }
        return strcmp(argv[1], "add") == 0 ? neighbours_add(argv[2], &common)
                                           : neighbours_remove(argv[2]);
    }
    porch_cli_usage_error("neighbours", "expected add, remove or list");
    return PORCH_CLI_EXIT_USAGE;
}
