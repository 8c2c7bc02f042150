# relaybl.conf.sed -- etc/relaybl.conf as make install installs it
#
# The repository's file names paths relative to the repository (for make
# run and the tests); the installed one names where make install puts
# things.  The Makefile replaces @CONFDIR@ and @STATEDIR@ first, and
# refuses an installed file that still holds a relative path (a key
# added to etc/relaybl.conf with a path this script does not know).
/^; Relative paths are relative/,/^; override what is said here/c\
; As installed by make install: this file, zones/ and the files you add\
; (access, keys, web tokens) are in @CONFDIR@; the store and\
; the prober's cookie secret are in @STATEDIR@.  The systemd units\
; start each daemon as its own user (relaybl-dns, relaybl-prober,\
; relaybl-web), all in group relaybl, which may write the store: leave\
; the user keys unset, they are for a daemon started as root.\
; Command-line flags override what is said here.
s|^dir = state/store$|dir = @STATEDIR@/store|
s|^zones = zones$|zones = @CONFDIR@/zones|
/^tokens_file = state\/web\.tokens$/{
i\
; (unset as installed: create the file, owner relaybl-web, mode 0600,\
; then set this and reload dnsblweb)
s|^.*$|;tokens_file = @CONFDIR@/web.tokens|
}
s|= etc/|= @CONFDIR@/|
s|= state/|= @STATEDIR@/|
s|^;secret_file = /var/lib/relaybl/|;secret_file = @STATEDIR@/|
/^\[prober\]/,/^\[/s|^;user = relaybl$|;user = relaybl-prober|
/^\[web\]/,/^\[/s|^;user = relaybl$|;user = relaybl-web|
