/* porch-browse.h — neighbours on the local network, as GObject signals.
 *
 * A PorchBrowser browses DNS-SD (mDNS, through avahi-daemon) on every interface where
 * neighbours can be (porch_interface_wanted() with no configured list: not loopback,
 * container bridges or VPNs; what is seen on those is ignored, services and addresses) and
 * both IP protocols for these service types:
 *
 *   _porch._tcp       a Porch host: display name, SSH port, TXT fp= (host-key fingerprint)
 *   _sftp-ssh._tcp    a Porch share (TXT path=/SHARE, u=guest), or any other SFTP server
 *   _porch-print._tcp a Porch printer
 *   _ipp._tcp, _ipps._tcp, _smb._tcp, _webdav._tcp, _webdavs._tcp   devices that do not run
 *                     Porch: network printers, CUPS and AirPrint queues, Samba, WebDAV
 *
 * and merges what one host advertises — across service types, interfaces and protocols — into
 * one PorchNeighbour, keyed by the host name the services resolve to ("alice-laptop.local").
 * Services of the browsing machine itself (registered with the local avahi-daemon) are
 * ignored. Each service instance is resolved once, when it is first seen, by one resolver (on
 * the interface it was seen on first, so that a link-local IPv6 address has its scope) that
 * then follows changes of its TXT record and address; the host's addresses are followed with
 * one A and one AAAA record browser per neighbour.
 *
 * Signals, all emitted from the thread-default main context of the thread that called
 * porch_browser_new(), never from inside an Avahi callback (changes are collected there and
 * emitted 25 ms after the first, so the burst of records a host sends makes one signal):
 *   "neighbour-added"   (PorchNeighbour *n): a host advertises its first resolved service
 *   "neighbour-changed" (PorchNeighbour *n): anything in the neighbour's model changed; @n is
 *                       the new snapshot (same host name as before)
 *   "neighbour-removed" (PorchNeighbour *n): the host's last service went away, or
 *                       avahi-daemon went away (everything is removed, and added again once
 *                       it is back); @n is the last snapshot
 * The PorchNeighbour passed is owned by the browser for the duration of the emission: take a
 * reference (porch_neighbour_ref()) to keep it.
 *
 * avahi-daemon need not be running: the browser waits for it (AVAHI_CLIENT_NO_FAIL), survives
 * its restarts and follows it through the "state" property (PorchBrowserState; notify::state
 * comes from the main context with the signals, porch_browser_get_state() is current at once).
 * Limits against a flooding neighbour: at most PORCH_BROWSE_MAX_SERVICES service instances,
 * PORCH_BROWSE_MAX_HOSTS hosts and PORCH_BROWSE_MAX_ADDRESSES addresses per host are tracked; the
 * rest is ignored (logged at debug level).
 *
 * Not thread-safe: call everything from the thread that created the browser. Library code:
 * logs at debug level only (G_LOG_DOMAIN "porch-browse").
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Every service resolver and two record browsers per host are avahi-daemon objects, and it
 * allows a client 1024 (objects-per-client-max): these caps keep a flooding neighbour from
 * using them all up, so the others' records still resolve. */
#define PORCH_BROWSE_MAX_SERVICES  400
#define PORCH_BROWSE_MAX_HOSTS     128
#define PORCH_BROWSE_MAX_ADDRESSES 16

/* ------------------------------------------------------------------------------------------
 * PorchNeighbour: one host, an immutable reference-counted snapshot (a boxed type). A change
 * on the network makes a new snapshot; one the caller holds never changes. Every string is
 * valid UTF-8 (what came off the network was made valid) and owned by the snapshot; arrays are
 * sorted (addresses as strings, shares and printers by name, services by type, then name).
 * Names and TXT values come from the network: escape them before printing to a terminal.
 * The reference count is atomic: a snapshot may be handed to another thread.
 */
typedef struct _PorchNeighbour PorchNeighbour;

/* A share of a Porch host: an _sftp-ssh._tcp service of the host that carries TXT path= and
 * the port of its _porch._tcp service. */
typedef struct {
    char *name;     /* "Photos": path without its leading "/" */
    char *path;     /* "/Photos" (TXT path=) */
    gboolean guest; /* TXT u=guest: guests may read it */
    char *uri;      /* "sftp://guest@alice-laptop.local:4422/Photos" (user only with u=) */
} PorchNeighbourShare;

/* A printer of a Porch host: an _porch-print._tcp service. */
typedef struct {
    char *name;     /* "Office": instance name "Office on Alice's laptop" without " on NAME" */
    char *instance; /* the DNS-SD instance name as advertised */
    char **txt;     /* its TXT record, "key=value" or "key", in advertised order */
} PorchNeighbourPrinter;

/* Any other service: everything of a non-Porch host, and what of a Porch host is neither its
 * _porch._tcp service, a share nor a printer (e.g. an OpenSSH _sftp-ssh._tcp on port 22). */
typedef struct {
    char *type;   /* "_ipp._tcp", "_ipps._tcp", "_smb._tcp", "_sftp-ssh._tcp", "_webdav._tcp",
                     "_webdavs._tcp" */
    char *name;   /* the instance name, "Office Printer" */
    guint16 port; /* the service's port */
    char *uri;    /* what a user would open, built with the host name and port:
                     ipp://HOST:PORT/RP (TXT rp=; ipps:// for _ipps._tcp), smb://HOST/ (with
                     :PORT when not 445), sftp://[U@]HOST:PORT/PATH (TXT u=, path=; "/" without
                     path=), dav://[U@]HOST:PORT/PATH (TXT u=, path=; davs:// for
                     _webdavs._tcp). Components are percent-encoded as in a URI. */
    char **txt;   /* its TXT record, as for printers */
} PorchNeighbourService;

#define PORCH_TYPE_NEIGHBOUR (porch_neighbour_get_type())
GType porch_neighbour_get_type(void) G_GNUC_CONST;

/* Adds a reference to @neighbour and returns it. */
PorchNeighbour *porch_neighbour_ref(PorchNeighbour *neighbour);
/* Drops a reference; the last one frees the snapshot. NULL is allowed. */
void porch_neighbour_unref(PorchNeighbour *neighbour);

/* The name to show: the instance name of the host's _porch._tcp service ("Alice's laptop"),
 * else the host name without ".local" ("officeprinter"). Never NULL. */
const char *porch_neighbour_get_name(const PorchNeighbour *neighbour);
/* The host name its services resolve to, "alice-laptop.local". Never NULL. */
const char *porch_neighbour_get_host_name(const PorchNeighbour *neighbour);
/* Whether the host advertises _porch._tcp (runs porchd). */
gboolean porch_neighbour_is_porch(const PorchNeighbour *neighbour);
/* Whether its _porch._tcp TXT says inbox=1: files can be sent to it (`porch send`). */
gboolean porch_neighbour_has_inbox(const PorchNeighbour *neighbour);
/* The SSH/SFTP port of its _porch._tcp service; 0 for a host that is not a Porch host. */
guint16 porch_neighbour_get_port(const PorchNeighbour *neighbour);
/* The host-key fingerprint advertised in _porch._tcp's TXT fp=, as "SHA256:" and the value
 * (the form porch_key_fingerprint() returns); NULL when there is none. */
const char *porch_neighbour_get_fingerprint(const PorchNeighbour *neighbour);
/* The host's IPv4 addresses ("10.0.0.7") and IPv6 addresses; a link-local IPv6 address
 * carries its scope as "fe80::1%eth0" (interface name, or index when the interface is not
 * known in this network namespace). NULL-terminated, possibly empty, never NULL. Pass one with
 * a port to porch_neighbour_address_with_port() to connect with GIO. */
const char *const *porch_neighbour_get_ipv4_addresses(const PorchNeighbour *neighbour);
const char *const *porch_neighbour_get_ipv6_addresses(const PorchNeighbour *neighbour);
/* The shares, printers and other services: arrays of *ret_n elements (possibly 0; then the
 * pointer returned may be NULL), owned by the snapshot. */
const PorchNeighbourShare *porch_neighbour_get_shares(const PorchNeighbour *neighbour,
                                                      guint *ret_n);
const PorchNeighbourPrinter *porch_neighbour_get_printers(const PorchNeighbour *neighbour,
                                                          guint *ret_n);
const PorchNeighbourService *porch_neighbour_get_services(const PorchNeighbour *neighbour,
                                                          guint *ret_n);
/* A Porch host that mDNS does not show but the user remembered by address
 * (porch-neighbours.h): display name @name, its one address @address (also its host name) and
 * @port (0: 4422), the key fingerprint @fingerprint it had (may be NULL), and what its "status"
 * command listed: @shares (guest FALSE, uri sftp://ADDRESS:PORT/SHARE) and @printers (no TXT).
 * Free with porch_neighbour_unref(). */
PorchNeighbour *porch_neighbour_new_remembered(const char *name, const char *address, guint16 port,
                                               const char *fingerprint, const char *const *shares,
                                               const char *const *printers);
/* Whether @neighbour was made by porch_neighbour_new_remembered() rather than seen over mDNS. */
gboolean porch_neighbour_is_remembered(const PorchNeighbour *neighbour);

/* TRUE when @a and @b describe the same host identically (every field above). */
gboolean porch_neighbour_equal(const PorchNeighbour *a, const PorchNeighbour *b);

/* Returns "HOST:PORT" for @address as GIO's g_network_address_parse() and
 * g_socket_client_connect_to_host() expect it: "10.0.0.7:4422", "[fe80::1%eth0]:4422" (IPv6
 * bracketed, scope kept). Free with g_free(). */
char *porch_neighbour_address_with_port(const char *address, guint16 port);

/* Looks @key up (case-insensitively, the first occurrence wins, as RFC 6763 says) in a TXT
 * record as the model holds it. Returns the value (owned by @txt; "" for a key without "="),
 * or NULL when @key is not there. */
const char *porch_neighbour_txt_lookup(const char *const *txt, const char *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchNeighbour, porch_neighbour_unref)

/* ------------------------------------------------------------------------------------------
 * PorchBrowser */

#define PORCH_BROWSER_ERROR (porch_browser_error_quark())
GQuark porch_browser_error_quark(void);

typedef enum {
    PORCH_BROWSER_ERROR_NO_DAEMON, /* avahi-daemon (or the system bus) cannot be reached */
} PorchBrowserError;

typedef enum {
    PORCH_BROWSER_STOPPED,    /* porch_browser_start() not called yet */
    PORCH_BROWSER_CONNECTING, /* waiting for avahi-daemon: not running, or restarting */
    PORCH_BROWSER_RUNNING,    /* connected to avahi-daemon and browsing */
} PorchBrowserState;

#define PORCH_TYPE_BROWSER_STATE (porch_browser_state_get_type())
GType porch_browser_state_get_type(void) G_GNUC_CONST;

#define PORCH_TYPE_BROWSER (porch_browser_get_type())
G_DECLARE_FINAL_TYPE(PorchBrowser, porch_browser, PORCH, BROWSER, GObject)

/* Returns a new browser (release with g_object_unref()), bound to the calling thread's
 * thread-default main context. It does not contact avahi-daemon before porch_browser_start().
 * Dropping the last reference stops browsing; no signal is emitted after that. */
PorchBrowser *porch_browser_new(void);

/* Takes records only from the interfaces @configured names ([porch] interfaces; NULL: the
 * default rule of porch_interface_wanted()). Before porch_browser_start() only.
 * porch_config_machine_interfaces() gives the list this machine's porchd publishes on. */
void porch_browser_set_interfaces(PorchBrowser *browser, const char *const *configured);

/* Starts browsing. Returns TRUE when avahi-daemon answered and browsing has begun (state
 * RUNNING). Returns FALSE with @error set (PORCH_BROWSER_ERROR_NO_DAEMON, a message that says
 * which) when neither avahi-daemon nor the D-Bus system bus it listens on can be reached; the
 * browser then keeps waiting for it (state CONNECTING) and starts browsing when it appears, so
 * a caller that means to wait may ignore the error. Calling it again does nothing and returns
 * whether the state is RUNNING. */
gboolean porch_browser_start(PorchBrowser *browser, GError **error);

/* Returns the current state (also the "state" property). */
PorchBrowserState porch_browser_get_state(PorchBrowser *browser);

/* Returns the neighbours known now — those "neighbour-added" announced and
 * "neighbour-removed" did not take back, in their latest snapshots — sorted by name, then host
 * name. Free with g_ptr_array_unref() (it drops the references it holds). */
GPtrArray *porch_browser_get_neighbours(PorchBrowser *browser);

G_END_DECLS
