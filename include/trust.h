/*
 * trust.h: how a printer's certificate is trusted (ca_file, pinned on first use, or not at
 * all), the OpenSSL check made before Paho connects, the pins kept in the state directory, and
 * the `trust` command.
 */
#ifndef TRUST_H
#define TRUST_H

#include <stddef.h>

#include "config.h"

#define TRUST_FP_LEN		32			/* SHA-256 */
#define TRUST_FP_STRLEN		(7 + 3 * TRUST_FP_LEN)	/* "SHA256:AB:...:EF" and its NUL */

enum trust_mode {
	TRUST_CA_FILE,		/* the chain verifies against ca_file, CN = serial */
	TRUST_PINNED,		/* CN = serial and the leaf's SHA-256 equals the pinned one */
	TRUST_INSECURE,		/* tls_insecure = yes: nothing is checked */
};

/* What the check needs to know about one printer; the strings are the caller's. */
struct trust_target {
	const char	*name;
	const char	*host;
	int		 port;
	const char	*serial;
	const char	*ca_file;	/* TRUST_CA_FILE only */
	enum trust_mode	 mode;
};

/*
 * Pins live in STATE_DIR/trust/SERIAL.pin.  Call before the check workers start; calling it
 * again (a reload) is safe while they run.
 */
void		 trust_init(const char *state_dir);
enum trust_mode	 trust_mode(const struct printer_conf *);
const char	*trust_mode_name(enum trust_mode);	/* "ca_file", "pinned", "insecure" */

/*
 * Connect to the printer with OpenSSL and check its certificate by its mode; a pinned printer
 * met for the first time has its certificate pinned, and note says so (else note is "").
 * Returns 0 (trusted), -1 (refused or TLS failed; why says so) or -2 (unreachable).
 * Any thread may call it; one printer must not be checked by two threads at once.
 */
int		 trust_check(const struct trust_target *, char *note, size_t notelen,
		    char *why, size_t whylen);

/* "SHA256:AB:CD:..." of a digest; buf holds TRUST_FP_STRLEN. */
void		 trust_fp_format(const unsigned char *md, char *buf, size_t len);
/* "SHA256:" and 32 hex pairs, with or without colons, any case; 0, or -1 when malformed. */
int		 trust_fp_parse(const char *, size_t, unsigned char *md);
/* A pin file's text: its first line that is neither blank nor a comment is the fingerprint. */
int		 trust_pin_parse(const char *, size_t, unsigned char *md);

/* `bambu-bridge trust NAME`: returns the exit status. */
int		 cmd_trust(struct config *, int argc, char **argv);

#endif
