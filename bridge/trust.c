/*
 * trust.c: whether the peer at a printer's address is that printer.  Three modes: ca_file (the
 * chain verifies against a bundle and the CN is the serial), pinned (trust on first use: the
 * CN is the serial and the leaf's SHA-256 is the one recorded at first contact) and
 * tls_insecure (nothing is checked).  Paho can neither compare the CN with the serial nor hand
 * over the peer's certificate, so the check opens a TLS connection of its own with OpenSSL
 * before Paho connects.  Pins are files in STATE_DIR/trust/, one per serial (a printer renamed
 * in the configuration keeps its pin), replaced atomically.  Also the `trust` command, which
 * shows what a printer presents and records it.
 *
 * The check and Paho's session are two connections (README, "Residual risk").  Closing that
 * gap takes owning the TLS that MQTT runs over: Paho speaking plain MQTT to a relay of ours
 * that holds the checked connection, or Paho given the pin file as trust store with partial
 * chains allowed (X509_V_FLAG_PARTIAL_CHAIN, which Paho does not set).
 * Not for: the MQTT session or the worker threads that run the check (printer.c).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "file.h"
#include "log.h"
#include "trust.h"
#include "xmalloc.h"

#define CHECK_TIMEOUT_MS	5000
#define CN_MAX			128
#define DN_MAX			256
#define PIN_MAX			16384	/* comments, the fingerprint, a PEM certificate */

static pthread_mutex_t	 t_lock = PTHREAD_MUTEX_INITIALIZER;
static char		*t_state;	/* the state directory */

void
trust_init(const char *state_dir)
{
	char	*old;

	pthread_mutex_lock(&t_lock);
	old = t_state;
	t_state = xstrdup(state_dir);
	pthread_mutex_unlock(&t_lock);
	free(old);
}

enum trust_mode
trust_mode(const struct printer_conf *pc)
{
	if (pc->tls_insecure > 0)
		return TRUST_INSECURE;
	return pc->ca_file != NULL ? TRUST_CA_FILE : TRUST_PINNED;
}

const char *
trust_mode_name(enum trust_mode mode)
{
	switch (mode) {
	case TRUST_CA_FILE:	return "ca_file";
	case TRUST_PINNED:	return "pinned";
	default:		return "insecure";
	}
}

/* --- fingerprints and pin files: pure --- */

void
trust_fp_format(const unsigned char *md, char *buf, size_t len)
{
	static const char	hex[] = "0123456789ABCDEF";
	size_t			i, n = 6;

	if (len < TRUST_FP_STRLEN) {
		if (len > 0)
			buf[0] = '\0';
		return;
	}
	memcpy(buf, "SHA256", n);
	for (i = 0; i < TRUST_FP_LEN; i++) {
		buf[n++] = ':';
		buf[n++] = hex[md[i] >> 4];
		buf[n++] = hex[md[i] & 0xf];
	}
	buf[n] = '\0';
}

static int
hex_value(char ch)
{
	int	c = (unsigned char)ch;

	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
trust_fp_parse(const char *s, size_t len, unsigned char *md)
{
	size_t	i = 7, k;
	int	colons, hi, lo;

	if (len < i || strncasecmp(s, "SHA256:", i) != 0)
		return -1;
	colons = len > i + 2 && s[i + 2] == ':';
	for (k = 0; k < TRUST_FP_LEN; k++) {
		if (k > 0 && colons && (i >= len || s[i++] != ':'))
			return -1;
		if (i + 2 > len || (hi = hex_value(s[i])) == -1 ||
		    (lo = hex_value(s[i + 1])) == -1)
			return -1;
		md[k] = (unsigned char)(hi << 4 | lo);
		i += 2;
	}
	return i == len ? 0 : -1;
}

int
trust_pin_parse(const char *text, size_t len, unsigned char *md)
{
	const char	*p = text, *end = text + len, *nl;
	size_t		 n;

	for (; p < end; p = nl != NULL ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
			n--;
		if (n > 0 && *p != '#')
			return trust_fp_parse(p, n, md);
	}
	return -1;
}

/* --- what a certificate says --- */

static void
cert_cn(X509 *cert, char *buf, size_t len)
{
	char	raw[CN_MAX];
	int	n;

	n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, raw,
	    sizeof(raw));
	if (n < 0)
		buf[0] = '\0';
	else
		log_escape(buf, len, raw, (size_t)n);
}

/* "CN=BBL CA, O=..." in printable ASCII (OpenSSL escapes the rest; '?' for anything left). */
static void
cert_dn(X509_NAME *name, char *buf, size_t len)
{
	BIO	*bio;
	char	*data;
	long	 n;
	size_t	 i;

	buf[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(bio, name, 0, (XN_FLAG_RFC2253 & ~XN_FLAG_SEP_MASK) |
	    XN_FLAG_SEP_CPLUS_SPC) >= 0 && (n = BIO_get_mem_data(bio, &data)) > 0) {
		for (i = 0; i < (size_t)n && i + 1 < len; i++)
			buf[i] = data[i] >= 0x20 && data[i] < 0x7f ? data[i] : '?';
		buf[i] = '\0';
	}
	BIO_free(bio);
}

static void
cert_time(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm	tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		snprintf(buf, len, "?");
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* The SHA-256 of the certificate's DER encoding, as `openssl x509 -fingerprint -sha256`. */
static int
cert_digest(X509 *cert, unsigned char *md)
{
	unsigned int	n = 0;

	return X509_digest(cert, EVP_sha256(), md, &n) == 1 && n == TRUST_FP_LEN ? 0 : -1;
}

/* A printer's certificate has CN = serial and no subjectAltName; OpenSSL then checks the CN. */
static int
cert_names_serial(X509 *cert, const char *serial, char *why, size_t whylen)
{
	char	cn[CN_MAX];

	if (X509_check_host(cert, serial, strlen(serial), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
	    NULL) == 1)
		return 0;
	cert_cn(cert, cn, sizeof(cn));
	snprintf(why, whylen, "certificate names \"%s\", not serial %s: a different printer "
	    "answers at this address", cn, serial);
	return -1;
}

/* --- pins in STATE_DIR/trust/ --- */

/* Copies of the state directory and of the pin file of serial; the caller frees both. */
static void
pin_paths(const char *serial, char **state, char **path)
{
	pthread_mutex_lock(&t_lock);
	*state = xstrdup(t_state != NULL ? t_state : DEFAULT_STATE_DIR);
	pthread_mutex_unlock(&t_lock);
	xasprintf(path, "%s/trust/%s.pin", *state, serial);
}

/* 0 with md set, 1 when there is no pin, -1 when the file cannot be used (why says so). */
static int
pin_read(const char *path, unsigned char *md, char *why, size_t whylen)
{
	char	buf[PIN_MAX];
	size_t	got = 0;
	ssize_t	n = 0;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(why, whylen, "cannot read pin file %s: %s", path, strerror(errno));
		return -1;
	}
	while (got < sizeof(buf) && (n = read(fd, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	if (n == -1)
		snprintf(why, whylen, "cannot read pin file %s: %s", path, strerror(errno));
	close(fd);
	if (n == -1)
		return -1;
	if (trust_pin_parse(buf, got, md) == -1) {
		snprintf(why, whylen, "pin file %s holds no SHA256 fingerprint", path);
		return -1;
	}
	return 0;
}

/*
 * When root records a pin (`trust` run as root), the file and trust/ belong to the owner of the
 * state directory, so that the daemon's user can still read and add pins.  Best effort.
 */
static void
pin_owner(const char *state, const char *path)
{
	struct stat	st;

	if (geteuid() != 0 || stat(state, &st) == -1 || st.st_uid == 0)
		return;
	if (chown(path, st.st_uid, st.st_gid) == -1)
		return;
}

static void
pin_head(FILE *f, const struct trust_target *t, X509 *cert, const char *how,
    const char *fp)
{
	char		subject[DN_MAX], issuer[DN_MAX], when[32];
	time_t		now = time(NULL);
	struct tm	tm;

	cert_dn(X509_get_subject_name(cert), subject, sizeof(subject));
	cert_dn(X509_get_issuer_name(cert), issuer, sizeof(issuer));
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "# bambu-bridge: the pinned certificate of printer %s (serial %s),\n"
	    "# recorded %s by %s.\n"
	    "# subject: %s\n# issuer:  %s\n"
	    "# The fingerprint line is what is compared; the certificate after it is for reading\n"
	    "# (openssl x509 -noout -text -in FILE).  To trust another: bambu-bridge trust %s\n"
	    "%s\n", t->name, t->serial, when, how, subject, issuer, t->name, fp);
}

/* The pin file's text, in memory: the caller frees *text. */
static int
pin_text(const struct trust_target *t, X509 *cert, const char *how, const char *fp,
    char **text, size_t *len)
{
	FILE	*f;
	int	 ok;

	if ((f = open_memstream(text, len)) == NULL)
		return -1;
	pin_head(f, t, cert, how, fp);
	ok = PEM_write_X509(f, cert) == 1;
	if (fclose(f) == EOF || !ok) {
		free(*text);
		*text = NULL;
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/*
 * Record cert as the pin of t's serial: a temporary file, fsync, rename, fsync the directory,
 * so that a reader sees the old pin or the new one, never half of one.
 */
static int
pin_write(const struct trust_target *t, X509 *cert, const char *how, char *why,
    size_t whylen)
{
	unsigned char	 md[TRUST_FP_LEN];
	char		 fp[TRUST_FP_STRLEN], *state, *path, *dir, *text = NULL;
	size_t		 len;
	int		 rv = -1;

	pin_paths(t->serial, &state, &path);
	xasprintf(&dir, "%s/trust", state);
	if (cert_digest(cert, md) == -1) {
		snprintf(why, whylen, "cannot compute the certificate's fingerprint");
		goto fail;
	}
	trust_fp_format(md, fp, sizeof(fp));
	if ((mkdir(state, 0750) == -1 && errno != EEXIST) ||
	    (mkdir(dir, 0755) == -1 && errno != EEXIST)) {
		snprintf(why, whylen, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	pin_owner(state, dir);
	if (pin_text(t, cert, how, fp, &text, &len) == -1 ||
	    file_replace(path, text, len, 0644) == -1) {
		snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno));
		goto fail;
	}
	pin_owner(state, path);
	rv = 0;
 fail:
	free(text);
	free(dir);
	free(path);
	free(state);
	return rv;
}

/* --- the TLS connection of the check --- */

static int
wait_fd(int fd, short events, int ms)
{
	struct pollfd	pfd = { .fd = fd, .events = events };

	return poll(&pfd, 1, ms) == 1 ? 0 : -1;
}

/* A TCP connection with a deadline; the socket is left blocking with I/O timeouts. */
static int
tcp_connect(const char *host, int port, char *why, size_t whylen)
{
	struct addrinfo	 hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct timeval	 tv = { CHECK_TIMEOUT_MS / 1000, 0 };
	char		 service[8];
	int		 fd = -1, err = 0, rc;
	socklen_t	 len = sizeof(err);

	snprintf(service, sizeof(service), "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &res)) != 0) {
		snprintf(why, whylen, "cannot resolve host: %s", gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_fd(fd, POLLOUT, CHECK_TIMEOUT_MS) == 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0))
			break;
		snprintf(why, whylen, "%s",
		    strerror(err != 0 ? err : errno == EINPROGRESS ? ETIMEDOUT : errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/*
 * OpenSSL keeps no peer certificate after a failed handshake, so the leaf's CN is copied
 * while it is being verified, into the buffer hung on the SSL as app data.
 */
static int
verify_note_cn(int ok, X509_STORE_CTX *xs)
{
	SSL	*ssl;
	char	*cn;
	X509	*cert;

	if (X509_STORE_CTX_get_error_depth(xs) != 0)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl != NULL && (cn = SSL_get_app_data(ssl)) != NULL &&
	    (cert = X509_STORE_CTX_get_current_cert(xs)) != NULL &&
	    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
	    CN_MAX) < 0)
		cn[0] = '\0';
	return ok;
}

static void
tls_failure(SSL *ssl, const char *serial, const char *cn, char *why, size_t whylen)
{
	long		 vr = SSL_get_verify_result(ssl);
	char		 esc[CN_MAX];
	unsigned long	 e;

	if (vr == X509_V_ERR_HOSTNAME_MISMATCH) {
		log_escape(esc, sizeof(esc), cn, strlen(cn));
		snprintf(why, whylen, "certificate names \"%s\", not serial %s: a different "
		    "printer answers at this address", esc, serial);
	} else if (vr != X509_V_OK)
		snprintf(why, whylen, "certificate not trusted by ca_file: %s",
		    X509_verify_cert_error_string(vr));
	else if ((e = ERR_peek_last_error()) != 0)
		snprintf(why, whylen, "TLS handshake failed: %s", ERR_reason_error_string(e));
	else
		snprintf(why, whylen, "TLS handshake failed");
}

/*
 * A TLS handshake with the printer; its leaf certificate is handed back (the caller frees it).
 * ca_file mode verifies the chain against ca_file and the name against the serial; otherwise
 * nothing is verified here and the caller judges the certificate.
 * Returns 0, -1 (the certificate or TLS failed) or -2 (no connection at all).
 */
static int
tls_fetch(const struct trust_target *t, X509 **leaf, char *why, size_t whylen)
{
	SSL_CTX	*ctx = NULL;
	SSL	*ssl = NULL;
	char	 cn[CN_MAX] = "";
	int	 fd = -1, rv = -1, verify = t->mode == TRUST_CA_FILE;

	*leaf = NULL;
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		snprintf(why, whylen, "cannot set up TLS");
		goto fail;
	}
	if (verify && SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL) != 1) {
		snprintf(why, whylen, "cannot load ca_file %s", t->ca_file);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
	    verify ? verify_note_cn : NULL);
	if ((fd = tcp_connect(t->host, t->port, why, whylen)) == -1) {
		rv = -2;	/* unreachable, not refused */
		goto fail;
	}
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    (verify && SSL_set1_host(ssl, t->serial) != 1)) {
		snprintf(why, whylen, "cannot set up TLS");
		goto fail;
	}
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	SSL_set_app_data(ssl, cn);
	if (SSL_connect(ssl) != 1) {
		tls_failure(ssl, t->serial, cn, why, whylen);
		goto fail;
	}
	if ((*leaf = SSL_get1_peer_certificate(ssl)) == NULL) {
		snprintf(why, whylen, "the printer presented no certificate");
		goto fail;
	}
	SSL_shutdown(ssl);
	rv = 0;
 fail:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd != -1)
		close(fd);
	ERR_clear_error();
	return rv;
}

/* --- the check before each connection --- */

/* A pinned printer: CN = serial, and the leaf equals the pin; no pin yet: pin it now. */
static int
pin_check(const struct trust_target *t, X509 *leaf, char *note, size_t notelen, char *why,
    size_t whylen)
{
	unsigned char	 md[TRUST_FP_LEN], pinned[TRUST_FP_LEN];
	char		 fp[TRUST_FP_STRLEN], old[TRUST_FP_STRLEN], *state, *path;
	char		 subject[DN_MAX], issuer[DN_MAX];
	int		 rv;

	if (cert_names_serial(leaf, t->serial, why, whylen) == -1)
		return -1;
	if (cert_digest(leaf, md) == -1) {
		snprintf(why, whylen, "cannot compute the certificate's fingerprint");
		return -1;
	}
	trust_fp_format(md, fp, sizeof(fp));
	pin_paths(t->serial, &state, &path);
	if ((rv = pin_read(path, pinned, why, whylen)) == 0 &&
	    memcmp(md, pinned, sizeof(md)) != 0) {
		trust_fp_format(pinned, old, sizeof(old));
		snprintf(why, whylen, "certificate changed: pinned %s, now presents %s; if the "
		    "printer was replaced or reset, run: bambu-bridge trust %s", old, fp, t->name);
		rv = -1;
	} else if (rv == -1) {
		snprintf(why + strlen(why), whylen - strlen(why), "; to pin what the printer "
		    "presents now, run: bambu-bridge trust %s", t->name);
	} else if (rv == 1 && (rv = pin_write(t, leaf, "first contact", why, whylen)) == 0) {
		cert_dn(X509_get_subject_name(leaf), subject, sizeof(subject));
		cert_dn(X509_get_issuer_name(leaf), issuer, sizeof(issuer));
		snprintf(note, notelen, "first contact: pinned certificate %s (subject %s, "
		    "issuer %s) in %s", fp, subject, issuer, path);
	}
	free(path);
	free(state);
	return rv;
}

int
trust_check(const struct trust_target *t, char *note, size_t notelen, char *why,
    size_t whylen)
{
	X509	*leaf;
	int	 rv;

	if (notelen > 0)
		note[0] = '\0';
	if ((rv = tls_fetch(t, &leaf, why, whylen)) == 0 && t->mode == TRUST_PINNED)
		rv = pin_check(t, leaf, note, notelen, why, whylen);
	X509_free(leaf);
	return rv;
}

/* --- bambu-bridge trust NAME --- */

static void
cert_show(X509 *cert, const char *fp)
{
	char	subject[DN_MAX], issuer[DN_MAX], from[40], until[40];
	int	late = X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
	int	early = X509_cmp_current_time(X509_get0_notBefore(cert)) > 0;

	cert_dn(X509_get_subject_name(cert), subject, sizeof(subject));
	cert_dn(X509_get_issuer_name(cert), issuer, sizeof(issuer));
	cert_time(X509_get0_notBefore(cert), from, sizeof(from));
	cert_time(X509_get0_notAfter(cert), until, sizeof(until));
	printf("  subject:  %s\n  issuer:   %s\n  valid:    %s to %s%s\n  SHA-256:  %s\n",
	    subject, issuer, from, until, late ? " (expired)" : early ? " (not yet valid)" : "",
	    fp);
}

/* A printer that is not pinned: say why, and how it could be. */
static int
trust_not_pinned(const struct printer_conf *pc)
{
	if (trust_mode(pc) == TRUST_CA_FILE)
		fprintf(stderr, "bambu-bridge: printer %s is verified against its ca_file %s: "
		    "pinning does not apply (to pin it instead, remove ca_file from %s)\n",
		    pc->name, pc->ca_file, pc->path);
	else
		fprintf(stderr, "bambu-bridge: printer %s has tls_insecure = yes: its "
		    "certificate is not checked and pinning does not apply (to pin it, remove "
		    "tls_insecure from %s)\n", pc->name, pc->path);
	return 1;
}

/* On a terminal, ask; elsewhere (a script, a pipe) the command itself is the consent. */
static int
trust_confirm(void)
{
	char	line[16];

	if (!isatty(STDIN_FILENO))
		return 1;
	printf("Trust this certificate? [y/N] ");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 0;
	line[strcspn(line, "\r\n")] = '\0';
	return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

/* What is pinned now, beside what the printer presents; 1 when they are the same. */
static int
trust_show_pin(const char *path, const unsigned char *md)
{
	unsigned char	pinned[TRUST_FP_LEN];
	char		fp[TRUST_FP_STRLEN], why[512];

	switch (pin_read(path, pinned, why, sizeof(why))) {
	case 1:
		printf("pinned:     nothing yet (%s)\n", path);
		return 0;
	case -1:
		printf("pinned:     unusable: %s\n", why);
		return 0;
	}
	trust_fp_format(pinned, fp, sizeof(fp));
	if (memcmp(pinned, md, TRUST_FP_LEN) == 0) {
		printf("pinned:     %s, the same (%s)\n", fp, path);
		return 1;
	}
	printf("pinned:     %s, a DIFFERENT certificate (%s)\n", fp, path);
	return 0;
}

static int
trust_record(const struct printer_conf *pc, X509 *leaf)
{
	struct trust_target	 t = { .name = pc->name, .host = pc->host, .port = pc->port,
				    .serial = pc->serial, .mode = TRUST_PINNED };
	unsigned char		 md[TRUST_FP_LEN];
	char			 fp[TRUST_FP_STRLEN], why[512], *state, *path;
	int			 rv = 1;

	if (cert_digest(leaf, md) == -1) {
		fprintf(stderr, "bambu-bridge: cannot compute the certificate's fingerprint\n");
		return 1;
	}
	trust_fp_format(md, fp, sizeof(fp));
	printf("printer %s (serial %s) at %s:%d presents:\n", pc->name, pc->serial, pc->host,
	    pc->port);
	cert_show(leaf, fp);
	pin_paths(pc->serial, &state, &path);
	if (cert_names_serial(leaf, pc->serial, why, sizeof(why)) == -1)
		fprintf(stderr, "bambu-bridge: printer %s: %s; not recorded (check host and "
		    "serial in %s)\n", pc->name, why, pc->path);
	else if (trust_show_pin(path, md)) {
		printf("already trusted: nothing to record\n");
		rv = 0;
	} else if (!trust_confirm())
		printf("not recorded\n");
	else if (pin_write(&t, leaf, "`bambu-bridge trust`", why, sizeof(why)) == -1)
		fprintf(stderr, "bambu-bridge: %s\n", why);
	else {
		printf("recorded in %s; a running bambu-bridge uses it at its next connection "
		    "attempt to %s\n", path, pc->name);
		rv = 0;
	}
	free(path);
	free(state);
	return rv;
}

int
cmd_trust(struct config *conf, int argc, char **argv)
{
	struct printer_conf	*pc;
	struct trust_target	 t;
	X509			*leaf;
	char			 why[512], name[128];
	int			 rv;

	if (argc != 1) {
		fprintf(stderr, "usage: bambu-bridge [-c FILE] [-p DIR] [-s DIR] trust NAME\n");
		return 1;
	}
	TAILQ_FOREACH(pc, &conf->printers, entry) {
		if (strcmp(pc->name, argv[0]) == 0)
			break;
	}
	if (pc == NULL) {
		log_escape(name, sizeof(name), argv[0], strlen(argv[0]));
		fprintf(stderr, "bambu-bridge: no printer named \"%s\" in %s\n", name,
		    conf->printers_dir);
		return 1;
	}
	if (trust_mode(pc) != TRUST_PINNED)
		return trust_not_pinned(pc);
	t = (struct trust_target){ .name = pc->name, .host = pc->host, .port = pc->port,
	    .serial = pc->serial, .mode = TRUST_PINNED };
	if ((rv = tls_fetch(&t, &leaf, why, sizeof(why))) != 0) {
		fprintf(stderr, "bambu-bridge: printer %s: %s %s:%d: %s\n", pc->name,
		    rv == -2 ? "cannot connect to" : "TLS failed with", pc->host, pc->port, why);
		return 1;
	}
	rv = trust_record(pc, leaf);
	X509_free(leaf);
	return rv;
}
