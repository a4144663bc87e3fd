/* porch-txt.h — a neighbour's DNS-SD TXT record, as porch-browse reads it.
 *
 * Pure functions: no Avahi client, no main loop, no I/O, so that what a stranger on the
 * network can put in a TXT record is read in one place that is tested and fuzzed on its own
 * (tests/fuzz/fuzz-txt.c). A TXT record is a list of byte strings, each "key=value" or "key"
 * (RFC 6763, section 6); anyone on the link can advertise any bytes in it, so every value
 * returned here is valid UTF-8 but otherwise as advertised: escape it before printing it to a
 * terminal.
 */
#pragma once

#include <avahi-common/strlst.h>
#include <glib.h>

G_BEGIN_DECLS

/* At most this many entries of one TXT record are kept (a record fits in one packet). */
#define PORCH_TXT_MAX_ENTRIES 64

/* Decodes @txt, the TXT record as avahi-client hands it over (its list holds the entries last
 * first), into the form the neighbour model keeps: the entries in advertised order, each made
 * valid UTF-8 (an invalid sequence or a NUL byte becomes U+FFFD), at most
 * PORCH_TXT_MAX_ENTRIES of them (the first ones; the rest are ignored). Empty entries are kept
 * as "". @txt may be NULL (no entries) and is not changed. Returns a NULL-terminated array,
 * never NULL; free it with g_strfreev(). */
char **porch_txt_decode(AvahiStringList *txt);

/* Looks @key up in @txt (a decoded record; NULL: none) case-insensitively; the first
 * occurrence wins (RFC 6763, section 6.4). Returns its value, owned by @txt ("" for an entry
 * "key" without "="), or NULL when @key is not there. */
const char *porch_txt_lookup(const char *const *txt, const char *key);

/* The fingerprint a _porch._tcp record advertises in fp=, as "SHA256:" and the value (newly
 * allocated), or NULL when fp= is missing or empty. The value is not checked: it is a claim
 * (see porch-browse.h). */
char *porch_txt_fingerprint(const char *const *txt);

/* The share a Porch host's _sftp-ssh._tcp record names: its path= when that is "/" followed
 * by a name ("/Photos"; owned by @txt; the share's name is what follows the leading '/'s, never
 * empty), or NULL when it names none. With
 * @ret_guest (may be NULL): whether the record says u=guest (guests may read it). */
const char *porch_txt_share_path(const char *const *txt, gboolean *ret_guest);

/* The URI a client opens for a service of @type (as browsed, "_ipp._tcp") on @host (a host
 * name or an address literal; an IPv6 one is bracketed) and @port (0: none in the URI), with
 * the decoded record @txt: ipp://HOST:PORT/RP and ipps:// (rp=), smb://HOST/ (":PORT" unless
 * 445), sftp://[U@]HOST:PORT/PATH, dav:// and davs:// (u=, dropped when it holds a ':';
 * path=, "/" when missing; a path without a leading '/' gets one). Characters a URI cannot
 * hold are %-escaped (UTF-8 is kept). Returns a new string that g_uri_parse() takes, or NULL for
 * another type or a @host no URI can hold (from the network, it may hold anything). */
char *porch_txt_service_uri(const char *type, const char *host, guint16 port,
                            const char *const *txt);

G_END_DECLS
