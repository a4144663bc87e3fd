/* porch-risk.c — the risky rules of a porch.conf (porch-risk.h). */
#include "porch-risk.h"
#include "porch-text.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>

/* The first uid of a person's account (Debian's UID_MIN in login.defs): below it are the
 * system's own users, whose "home" is a folder such as /var/www or /usr/sbin that may well
 * be shared on purpose. */
#define FIRST_PERSON_UID 1000
/* 'nobody' (its home is /nonexistent) */
#define NOBODY_UID 65534

/* Folders that hold the computer's own files. */
static const char *const system_folders[] = {
        "/etc", "/usr", "/var",  "/boot", "/root",  "/proc", "/sys",
        "/dev", "/bin", "/sbin", "/lib",  "/lib64", "/run",  NULL,
};
/* Of those, the ones nothing inside which is meant for others: /var/www or /usr/share/doc
 * may be, /etc/ssh is not. */
static const char *const system_trees[] = {
        "/etc", "/boot", "/root", "/proc", "/sys", "/dev", NULL,
};

void
porch_risk_free(PorchRisk *risk)
{
    if (risk == NULL)
        return;
    g_free(risk->share);
    g_free(risk->key);
    g_free(risk->text);
    g_free(risk->fix);
    g_free(risk);
}

G_GNUC_PRINTF(5, 6)
static void
add(GPtrArray *risks, const PorchShare *share, const char *key, const char *fix, const char *fmt,
    ...)
{
    PorchRisk *r = g_new0(PorchRisk, 1);
    va_list ap;

    va_start(ap, fmt);
    r->text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    r->share = g_strdup(share->name);
    r->key = g_strdup(key);
    r->fix = g_strdup(fix);
    g_ptr_array_add(risks, r);
}

/* Whether @path is @dir or inside it, at a '/' boundary ("/srv/a" is not inside "/srv/ab"). */
static gboolean
path_within(const char *path, const char *dir)
{
    gsize n = strlen(dir);

    if (strcmp(dir, "/") == 0)
        return TRUE;
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* @share's folder with its symbolic links resolved, else (missing, or this process may not
 * look) its path as configured, which porch-config.c made absolute and canonical. */
static char *
resolved(const PorchShare *share)
{
    char *real = realpath(share->path, NULL);
    char *ret = g_strdup(real != NULL ? real : share->path);

    free(real);
    return ret;
}

/* The home folders of people: folder -> user name. */
static GHashTable *
person_homes(void)
{
    GHashTable *homes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    struct passwd *pw;

    setpwent();
    while ((pw = getpwent()) != NULL) {
        if (pw->pw_uid < FIRST_PERSON_UID || pw->pw_uid == NOBODY_UID || pw->pw_dir == NULL ||
            !g_path_is_absolute(pw->pw_dir) || strcmp(pw->pw_dir, "/") == 0)
            continue;
        g_hash_table_insert(homes, g_canonicalize_filename(pw->pw_dir, NULL),
                            g_strdup(pw->pw_name));
    }
    endpwent();
    return homes;
}

/* Whose whole home folder @path is: a person's (by passwd), or /home/NAME's; "" for /home
 * itself (everyone's). NULL when it is none. */
static const char *
home_of(GHashTable *homes, const char *path)
{
    const char *user = g_hash_table_lookup(homes, path);

    if (user != NULL)
        return user;
    if (strcmp(path, "/home") == 0)
        return "";
    if (g_str_has_prefix(path, "/home/") && strchr(path + 6, '/') == NULL && path[6] != '\0')
        return path + 6;
    return NULL;
}

static const char *
system_folder(const char *path)
{
    for (guint i = 0; system_trees[i] != NULL; i++)
        if (path_within(path, system_trees[i]))
            return system_trees[i];
    for (guint i = 0; system_folders[i] != NULL; i++)
        if (strcmp(path, system_folders[i]) == 0)
            return system_folders[i];
    return NULL;
}

GPtrArray *
porch_config_risks(const PorchConfig *config)
{
    GPtrArray *risks = g_ptr_array_new_with_free_func((GDestroyNotify)porch_risk_free);
    g_autoptr(GHashTable) homes = person_homes();
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    guint n = porch_config_get_n_shares(config);

    g_return_val_if_fail(config != NULL, risks);
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(paths, resolved(porch_config_get_share(config, i)));

    for (guint i = 0; i < n; i++) {
        const PorchShare *s = porch_config_get_share(config, i);
        const char *path = paths->pdata[i];
        const char *system = system_folder(path);
        const char *home = system == NULL ? home_of(homes, path) : NULL;

        if (s->write.guest)
            add(risks, s, "write",
                "name peers or @groups instead of guest (write = bob; @family), or leave write "
                "out",
                "guest may write: anyone on the network, with no key, can change or delete the "
                "files in %s",
                s->path);
        if (s->read.guest && (home != NULL || strcmp(path, "/root") == 0))
            add(risks, s, "read", "remove guest from read, or share a folder inside it instead",
                "guest may read a whole home folder: anyone on the network, with no key, can "
                "copy everything in %s",
                s->path);
        if (strcmp(path, "/") == 0)
            add(risks, s, "path", "share only the folder meant for others (such as /srv/share)",
                "shares the whole file system: every file this computer holds that the share's "
                "owner may read");
        else if (system != NULL)
            add(risks, s, "path", "share only the folder meant for others (such as /srv/share)",
                "%s is inside the system folder %s: it holds this computer's own files "
                "(settings, programs, secrets), not ones meant for others",
                s->path, system);
        if (home != NULL && home[0] == '\0')
            add(risks, s, "path",
                "share a folder inside a home folder instead, such as "
                "/home/NAME/Public",
                "shares every user's home folder, with their hidden files (SSH and GPG keys, "
                "browser profiles, mail)");
        else if (home != NULL) {
            g_autofree char *fix =
                    g_strdup_printf("share a folder inside it instead, such as %s/Public", s->path);
            add(risks, s, "path", fix,
                "shares the whole home folder of %s: its hidden files (SSH and GPG keys, browser "
                "profiles, mail) go with it",
                home);
        }

        /* inside an earlier share, or an earlier share inside it: said of the later one. A
         * share of / holds every other: that is said once, above. */
        for (guint j = 0; j < i; j++) {
            const PorchShare *o = porch_config_get_share(config, j);
            const char *other = paths->pdata[j];

            if (strcmp(path, "/") == 0 || strcmp(other, "/") == 0)
                continue;

            if (strcmp(path, other) == 0)
                add(risks, s, "path", "remove one of the two shares",
                    "%s is the same folder as [share %s]: its files can be reached through "
                    "both shares, each with its own read and write rules",
                    s->path, o->name);
            else if (path_within(path, other))
                add(risks, s, "path",
                    "remove one of the two shares, or make sure the outer share's rules are "
                    "ones you want for these files too",
                    "%s is inside [share %s] (%s): its files can be reached through both "
                    "shares, each with its own read and write rules",
                    s->path, o->name, o->path);
            else if (path_within(other, path))
                add(risks, s, "path",
                    "remove one of the two shares, or make sure this share's rules are ones you "
                    "want for those files too",
                    "%s holds [share %s] (%s): its files can be reached through both shares, "
                    "each with its own read and write rules",
                    s->path, o->name, o->path);
        }
    }
    return risks;
}

char *
porch_risk_format(const PorchRisk *risk)
{
    g_autofree char *s =
            g_strdup_printf("[share %s] %s: %s; %s", risk->share, risk->key, risk->text, risk->fix);

    return porch_text_escape(s, -1, 4096);
}
