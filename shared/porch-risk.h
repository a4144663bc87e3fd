/* porch-risk.h — rules porch.conf allows that probably share more than their author meant.
 *
 * None of them makes the file invalid: porchd serves them, and says so (porchd --check-config
 * prints them, porchd logs them at start and reload, the commands that add a share show
 * them). What is risky, and why:
 *   write names guest           anyone on the network, with no key, can change or delete files
 *   read = guest on a home      anyone can copy a user's whole home folder
 *   path is / or a system       / , /etc, /usr, /var, /boot, /root, /proc, /sys, /dev (and
 *   folder                      /bin, /sbin, /lib, /lib64, /run); anything inside /etc, /boot,
 *                               /root, /proc, /sys or /dev too
 *   path is a whole home        a user's home folder (a passwd entry's of a person, uid 1000 or
 *   folder                      more; or /home/NAME), or /home itself: its hidden files (SSH
 *                               and GPG keys, browser profiles, mail) go with it
 *   a share inside another      its files can be reached through both, each with its own rules
 *                               (symbolic links resolved where this process may look)
 */
#pragma once

#include <glib.h>

#include "porch-config.h"

G_BEGIN_DECLS

typedef struct {
    char *share; /* the share's name, as configured */
    char *key;   /* the key it is about: "path", "read" or "write" */
    char *text;  /* what the rule does, in plain words */
    char *fix;   /* what to do instead */
} PorchRisk;

void porch_risk_free(PorchRisk *risk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchRisk, porch_risk_free)

/* The risky rules of @config, in the order of its shares: a new array of PorchRisk (it frees
 * them), empty when there is none. */
GPtrArray *porch_config_risks(const PorchConfig *config);

/* "[share NAME] KEY: TEXT; FIX", on one line (the name escaped as porch_text_escape() does).
 * Free with g_free(). */
char *porch_risk_format(const PorchRisk *risk);

G_END_DECLS
