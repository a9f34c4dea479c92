/*
 * test_config.c: config_duration, config_events and config_load on small files written to a
 * temporary directory.  Every secret in these inputs contains "SECRET", and no error output may.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "unit.h"

static char	tmpdir[] = "/tmp/test_config.XXXXXX";
static int	ncase;

struct file {
	const char	*name;		/* under the case directory; NULL ends the list */
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
};

/* A fresh directory holding files; returns it (static storage). */
static const char *
case_dir(const struct file *files)
{
	static char	 dir[PATH_MAX];
	char		 path[PATH_MAX + 64], *slash;
	FILE		*f;
	size_t		 len;

	snprintf(dir, sizeof(dir), "%s/%d", tmpdir, ++ncase);
	mkdir(dir, 0700);
	for (; files != NULL && files->name != NULL; files++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files->name);
		if ((slash = strrchr(path, '/')) != NULL && slash > path + strlen(dir)) {
			*slash = '\0';
			mkdir(path, 0700);
			*slash = '/';
		}
		if ((f = fopen(path, "w")) == NULL) {
			perror(path);
			exit(2);
		}
		len = files->len != 0 ? files->len : strlen(files->text);
		fwrite(files->text, 1, len, f);
		fclose(f);
	}
	return dir;
}

/* Replace every dir in s with "D", in place. */
static void
unpath(char *s, const char *dir)
{
	size_t	 n = strlen(dir);
	char	*p;

	while ((p = strstr(s, dir)) != NULL) {
		*p = 'D';
		memmove(p + 1, p + n, strlen(p + n) + 1);
	}
}

/* Load dir/bridge.conf; the problems written, with dir as "D", go to *out (caller frees). */
static struct config *
load(const char *dir, const char *pdir, const char *sdir, char **out)
{
	struct config	*conf;
	char		 path[PATH_MAX + 16];
	size_t		 size;
	FILE		*errs;

	snprintf(path, sizeof(path), "%s/bridge.conf", dir);
	errs = open_memstream(out, &size);
	conf = config_load(path, pdir, sdir, errs);
	fclose(errs);
	unpath(*out, dir);
	return conf;
}

static void
test_duration(void)
{
	static const struct {
		const char	*in;
		int		 want;
	} cases[] = {
		{ "90", 90 }, { "90s", 90 }, { "5m", 300 }, { "2h", 7200 }, { "0", 0 },
		{ "2147483647", INT_MAX }, { "596523h", 596523 * 3600 },
		{ "", -1 }, { "s", -1 }, { "5x", -1 }, { "5 m", -1 }, { " 5", -1 },
		{ "-5", -1 }, { "+5", -1 }, { "5ms", -1 }, { "5M", -1 }, { "1.5h", -1 },
		{ "2147483648", -1 }, { "596524h", -1 }, { "99999999999999999999", -1 },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(config_duration(cases[i].in) == cases[i].want, "duration \"%s\": got %d",
		    cases[i].in, config_duration(cases[i].in));
	}
}

static void
test_events(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		unsigned	 mask;
		const char	*bad;
	} cases[] = {
		{ "job_started", 0, 1u << EV_JOB_STARTED, "" },
		{ "job_started, hms_error", 0, 1u << EV_JOB_STARTED | 1u << EV_HMS_ERROR, "" },
		{ " ,job_failed,,\thms_warning ,", 0, 1u << EV_JOB_FAILED | 1u << EV_HMS_WARNING,
		  "" },
		{ "printer_online printer_online", 0, 1u << EV_PRINTER_ONLINE, "" },
		{ "job_started job_succeeded job_cancelled job_failed hms_error hms_warning "
		  "printer_offline printer_online", 0, EV_ALL, "" },
		{ "job_finished", -1, 0, "job_finished" },
		{ "job_started, foo,hms_error", -1, 0, "foo" },
		{ "Job_Started", -1, 0, "Job_Started" },
		{ "job_started;hms_error", -1, 0, "job_started;hms_error" },
		{ "", -1, 0, "" },
		{ " , ,", -1, 0, "" },
	};
	unsigned	mask;
	char		bad[64], small[4];
	size_t		i;
	int		rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mask = 12345;
		rc = config_events(cases[i].in, &mask, bad, sizeof(bad));
		CHECK(rc == cases[i].rc, "events \"%s\": rc %d", cases[i].in, rc);
		if (rc == 0)
			CHECK(mask == cases[i].mask, "events \"%s\": mask %#x", cases[i].in, mask);
		else {
			CHECK(mask == 12345, "events \"%s\": mask changed on error", cases[i].in);
			CHECK_STR(bad, cases[i].bad, "events \"%s\"", cases[i].in);
		}
	}
	CHECK(config_events("abcdefgh", &mask, small, sizeof(small)) == -1, "truncated bad");
	CHECK_STR(small, "abc", "bad word truncated to fit");
}

#define GOOD_PRINTER							\
	"[printer]\nhost = 192.168.1.5\nserial = 00M09A350100123\n"	\
	"access_code = SECRETAC\ntls_insecure = yes\n"

/* A valid set: values, defaults, order and the state_dir override. */
static void
test_valid(void)
{
	static const struct file files[] = {
		{ "bridge.conf",
		  "\xef\xbb\xbf# comment\r\n"
		  "; another\n"
		  "[bridge]\n"
		  "  state_dir = state   # relative: beside this file\n"
		  "offline_after=5m\n"
		  "[discord]\n"
		  "webhook_url = https://discord.com/api/webhooks/1/SECRETTOKEN#frag ; comment\n"
		  "[ webhook ]\n"
		  "name = ops.main_1\n"
		  "url = https://example.net/hook\n"
		  "api_key = SECRETKEY0123456789012345678901234\n"
		  "events = hms_error,hms_warning\n"
		  "ca_file = ca.pem\n"
		  "[discord]\n"
		  "events = job_failed\n"
		  "webhook_url = https://discord.com/api/webhooks/2/SECRETTOKEN\n"
		  "[webhook]\n"
		  "url = https://user@example.net:8443/x?y=1\n", 0 },
		{ "ca.pem", "x\n", 0 },
		{ "printers.d/b.conf", GOOD_PRINTER, 0 },
		{ "printers.d/B2.conf",
		  "[printer]\nname = upper\nhost = h.lan\nport = 1883\nserial = 01P00A1\n"
		  "access_code = SECRET with spaces\nca_file = ../ca.pem\n", 0 },
		{ "printers.d/a.conf",
		  "[printer]\nhost = 10.0.0.1\nport = 65535\nserial = X1\n"
		  "access_code = SECRETAC\ntls_insecure = 0\nca_file = /etc/ssl/certs/ca-certificates.crt\n", 0 },
		{ NULL, NULL, 0 }
	};
	struct config		*conf;
	struct printer_conf	*pc;
	struct sink_conf	*sc;
	const char		*dir = case_dir(files);
	char			*out, want[PATH_MAX + 64];

	conf = load(dir, NULL, NULL, &out);
	CHECK(conf != NULL, "valid set loads: %s", out);
	CHECK_STR(out, "", "no problems");
	free(out);
	if (conf == NULL)
		return;
	snprintf(want, sizeof(want), "%s/state", dir);
	CHECK_STR(conf->state_dir, want, "relative state_dir");
	snprintf(want, sizeof(want), "%s/printers.d", dir);
	CHECK_STR(conf->printers_dir, want, "default printers_dir");
	CHECK(conf->offline_after == 300, "offline_after %d", conf->offline_after);
	CHECK(conf->nprinters == 3 && conf->nsinks == 4, "%d printers, %d sinks",
	    conf->nprinters, conf->nsinks);

	pc = TAILQ_FIRST(&conf->printers);	/* strcmp order: B2, a, b */
	CHECK_STR(pc->name, "upper", "first printer");
	CHECK(pc->port == 1883 && !pc->tls_insecure, "B2 port %d", pc->port);
	CHECK_STR(pc->access_code, "SECRET with spaces", "access code");
	snprintf(want, sizeof(want), "%s/printers.d/../ca.pem", dir);
	CHECK_STR(pc->ca_file, want, "ca_file relative to the drop-in");
	snprintf(want, sizeof(want), "%s/printers.d/B2.conf", dir);
	CHECK_STR(pc->path, want, "path");
	pc = TAILQ_NEXT(pc, entry);
	CHECK_STR(pc->name, "a", "default name from the file");
	CHECK(pc->port == 65535, "port %d", pc->port);
	CHECK_STR(pc->ca_file, "/etc/ssl/certs/ca-certificates.crt", "absolute ca_file");
	pc = TAILQ_NEXT(pc, entry);
	CHECK_STR(pc->name, "b", "third printer");
	CHECK_STR(pc->host, "192.168.1.5", "host");
	CHECK_STR(pc->serial, "00M09A350100123", "serial");
	CHECK(pc->port == 8883 && pc->tls_insecure == 1 && pc->ca_file == NULL, "defaults");

	sc = TAILQ_FIRST(&conf->sinks);
	CHECK(sc->kind == SINK_DISCORD && sc->events == EV_ALL && sc->line == 6, "discord-1");
	CHECK_STR(sc->name, "discord-1", "default discord name");
	CHECK_STR(sc->url, "https://discord.com/api/webhooks/1/SECRETTOKEN#frag", "fragment kept");
	sc = TAILQ_NEXT(sc, entry);
	CHECK(sc->kind == SINK_WEBHOOK && sc->line == 8, "ops kind");
	CHECK_STR(sc->name, "ops.main_1", "named webhook");
	CHECK_STR(sc->api_key, "SECRETKEY0123456789012345678901234", "api_key");
	CHECK(sc->events == (1u << EV_HMS_ERROR | 1u << EV_HMS_WARNING), "events %#x",
	    sc->events);
	snprintf(want, sizeof(want), "%s/ca.pem", dir);
	CHECK_STR(sc->ca_file, want, "sink ca_file");
	sc = TAILQ_NEXT(sc, entry);
	CHECK_STR(sc->name, "discord-2", "second discord");
	CHECK(sc->events == 1u << EV_JOB_FAILED, "events %#x", sc->events);
	sc = TAILQ_NEXT(sc, entry);
	CHECK_STR(sc->name, "webhook-2", "numbered among webhooks");
	CHECK(sc->api_key == NULL && sc->ca_file == NULL, "webhook-2 optional keys");
	config_free(conf);

	conf = load(dir, NULL, "/tmp/override", &out);
	CHECK(conf != NULL && strcmp(conf->state_dir, "/tmp/override") == 0, "-s overrides");
	config_free(conf);
	free(out);
}

/* Defaults with no [bridge], no printers.d/ and an empty file. */
static void
test_defaults(void)
{
	static const struct file files[] = { { "bridge.conf", "\n", 0 }, { NULL, NULL, 0 } };
	struct config	*conf;
	char		*out;

	conf = load(case_dir(files), NULL, NULL, &out);
	CHECK(conf != NULL, "empty configuration: %s", out);
	if (conf != NULL) {
		CHECK_STR(conf->state_dir, DEFAULT_STATE_DIR, "default state_dir");
		CHECK(conf->offline_after == 60, "default offline_after");
		CHECK(conf->nprinters == 0 && conf->nsinks == 0, "nothing configured");
		CHECK(TAILQ_EMPTY(&conf->printers) && TAILQ_EMPTY(&conf->sinks), "empty lists");
	}
	config_free(conf);
	config_free(NULL);
	free(out);
}

/* Problems: each case's exact output, with its directory written "D". */
static void
test_problems(void)
{
	static const struct {
		const char	*name;
		struct file	 files[6];
		const char	*want;
	} cases[] = {
	{ "missing file", { { "other", "", 0 } },
	  "D/bridge.conf: cannot open: No such file or directory\n" },
	{ "unknown section and key", { { "bridge.conf",
	  "[bridge]\nofline_after = 5\n[slack]\nchannel = x\n[discord ] # c\n"
	  "webhook_url = https://x/SECRETTOKEN\n", 0 } },
	  "D/bridge.conf:2: unknown key \"ofline_after\" in [bridge]\n"
	  "D/bridge.conf:3: unknown section [slack]\n" },
	{ "shape", { { "bridge.conf",
	  "x = 1\n[bridge]\n[bridge]\nstate_dir = /a\nno equals SECRETWORD\n= SECRETVALUE\n"
	  "[bridge\n[]\n[printer]\nhost = h\n", 0 } },
	  "D/bridge.conf:1: \"x\" is outside any section\n"
	  "D/bridge.conf:3: [bridge] already defined at line 2\n"
	  "D/bridge.conf:5: expected \"[section]\", \"key = value\" or a comment\n"
	  "D/bridge.conf:6: expected \"[section]\", \"key = value\" or a comment\n"
	  "D/bridge.conf:7: expected \"[section]\", \"key = value\" or a comment\n"
	  "D/bridge.conf:8: unknown section []\n"
	  "D/bridge.conf:9: [printer] goes in a printers.d/ drop-in\n" },
	{ "repeated key", { { "bridge.conf",
	  "[discord]\nwebhook_url = https://a/SECRETONE\nwebhook_url = https://a/SECRETTWO\n",
	  0 } },
	  "D/bridge.conf:3: webhook_url already set at line 2\n" },
	{ "durations", { { "bridge.conf", "[bridge]\noffline_after = 1\n", 0 },
	  { "other.conf", "", 0 } },
	  "D/bridge.conf:2: offline_after must be from 2s to 86400s\n" },
	{ "urls", { { "bridge.conf",
	  "[discord]\nwebhook_url = http://SECRETA\n[discord]\nwebhook_url = https://\n"
	  "[webhook]\nurl = https://SECRETB x\n[webhook]\nurl = https://@:80/SECRETC\n"
	  "[webhook]\nurl = https://\xc3\xa9SECRETD\n[webhook]\nurl=https://[]/SECRETE\n", 0 } },
	  "D/bridge.conf:2: webhook_url must be an https:// URL\n"
	  "D/bridge.conf:4: webhook_url must be an https:// URL with a host\n"
	  "D/bridge.conf:6: url must not contain spaces or non-ASCII characters\n"
	  "D/bridge.conf:8: url must be an https:// URL with a host\n"
	  "D/bridge.conf:10: url must not contain spaces or non-ASCII characters\n"
	  "D/bridge.conf:12: url must be an https:// URL with a host\n" },
	{ "api keys", { { "bridge.conf",
	  "[webhook]\nurl = https://h/\napi_key = SECRETshort\n"
	  "[webhook]\nurl = https://h/\napi_key = SECRET0123456789012345678901234\x01x\n"
	  "[webhook]\nurl = https://h/\napi_key = SECRET0123456789012345678901234 x\n"
	  "[webhook]\nurl = https://h/\napi_key =\n", 0 } },
	  "D/bridge.conf:3: api_key must be at least 32 characters\n"
	  "D/bridge.conf:6: api_key must not contain control characters\n"
	  "D/bridge.conf:9: api_key must not contain spaces or non-ASCII characters\n"
	  "D/bridge.conf:12: api_key has no value\n" },
	{ "events and names", { { "bridge.conf",
	  "[discord]\nname = a b\nwebhook_url = https://h/SECRET\nevents = job_done\n"
	  "[discord]\nname = .hidden\nwebhook_url = https://h/SECRET\nevents = ,\n"
	  "[webhook]\nname = discord-3\nurl = https://h/SECRET\n"
	  "[discord]\nwebhook_url = https://h/SECRET\n", 0 } },
	  "D/bridge.conf:2: name \"a b\" may hold only letters, digits, '-', '_' and '.', "
	  "and must not start with '.'\n"
	  "D/bridge.conf:4: events: unknown event \"job_done\"\n"
	  "D/bridge.conf:6: name \".hidden\" may hold only letters, digits, '-', '_' and '.', "
	  "and must not start with '.'\n"
	  "D/bridge.conf:8: events names no event\n"
	  "D/bridge.conf:12: sink name \"discord-3\" already defined in D/bridge.conf:10\n" },
	{ "printer keys", { { "bridge.conf", "", 0 }, { "printers.d/p.conf",
	  "[printer]\nhost = mqtts://h\nport = 0\nserial = 00M-1\naccess_code = SECRET\x7f\n"
	  "tls_insecure = maybe\nname = " "0123456789012345678901234567890123456789"
	  "012345678901234567890123\n", 0 } },
	  "D/printers.d/p.conf:2: host \"mqtts://h\" is not a host name or address\n"
	  "D/printers.d/p.conf:3: port must be from 1 to 65535\n"
	  "D/printers.d/p.conf:4: serial \"00M-1\" may hold only letters and digits\n"
	  "D/printers.d/p.conf:5: access_code must not contain control characters\n"
	  "D/printers.d/p.conf:6: tls_insecure \"maybe\" is not yes or no\n"
	  "D/printers.d/p.conf:7: name must be at most 63 characters\n" },
	{ "required", { { "bridge.conf", "[webhook]\n[discord]\n", 0 },
	  { "printers.d/p.conf", "[printer]\naccess_code =   # empty\n", 0 } },
	  "D/bridge.conf:1: [webhook] needs url\n"
	  "D/bridge.conf:2: [discord] needs webhook_url\n"
	  "D/printers.d/p.conf:1: [printer] needs host\n"
	  "D/printers.d/p.conf:1: [printer] needs serial\n"
	  "D/printers.d/p.conf:2: access_code has no value\n" },
	{ "trust", { { "bridge.conf", "", 0 },
	  { "printers.d/both.conf", "[printer]\nhost = h\nserial = S1\naccess_code = SECRET\n"
	    "ca_file = /etc/ssl/certs/ca-certificates.crt\ntls_insecure = true\n", 0 },
	  { "printers.d/gone.conf", "[printer]\nhost = h\nserial = S2\naccess_code = SECRET\n"
	    "ca_file = gone.pem\n", 0 },
	  { "printers.d/no.conf", "[printer]\nhost = h\nserial = S3\naccess_code = SECRET\n"
	    "tls_insecure = false\n", 0 } },
	  "D/printers.d/both.conf:1: printer \"both\" has both ca_file and tls_insecure = yes; "
	  "choose one\n"
	  "D/printers.d/gone.conf:5: ca_file \"D/printers.d/gone.pem\": No such file or "
	  "directory\n" },	/* no.conf: neither key, so pinned on first use: valid */
	{ "duplicates", { { "bridge.conf", "", 0 },
	  { "printers.d/a.conf", "[printer]\nname = x\nhost = h\nserial = S1\n"
	    "access_code = SECRET\ntls_insecure = yes\n", 0 },
	  { "printers.d/b.conf", "[printer]\nname = x\nhost = h\nserial = S1\n"
	    "access_code = SECRET\ntls_insecure = yes\n", 0 },
	  { "printers.d/x.conf", "[printer]\nhost = h\nserial = s1\n"
	    "access_code = SECRET\ntls_insecure = yes\n", 0 } },
	  "D/printers.d/b.conf:2: printer name \"x\" already defined in D/printers.d/a.conf:2\n"
	  "D/printers.d/b.conf:4: printer serial \"S1\" already defined in "
	  "D/printers.d/a.conf:4\n"
	  "D/printers.d/x.conf:1: printer name \"x\" already defined in D/printers.d/a.conf:2\n" },
	{ "drop-in shape", { { "bridge.conf", "", 0 },
	  { "printers.d/a.conf", "", 0 },
	  { "printers.d/b.conf", GOOD_PRINTER "[printer]\n[webhook]\nurl = https://h/SECRET\n",
	    0 },
	  { "printers.d/bad name.conf", "[printer]\nhost = h\nserial = S9\n"
	    "access_code = SECRET\ntls_insecure = yes\n", 0 } },
	  "D/printers.d/a.conf: no [printer] section\n"
	  "D/printers.d/b.conf:6: only one [printer] per drop-in (first at line 1)\n"
	  "D/printers.d/b.conf:7: [webhook] goes in the main configuration, not a drop-in\n"
	  "D/printers.d/bad name.conf:1: file name \"bad name.conf\" makes no printer name (at "
	  "most 63 letters, digits, '-', '_', '.'): set name\n" },
	{ "ignored files", { { "bridge.conf", "", 0 },
	  { "printers.d/.x.conf", "garbage\n", 0 },
	  { "printers.d/x.conf.bak", "garbage\n", 0 },
	  { "printers.d/.conf", "garbage\n", 0 },
	  { "printers.d/README", "garbage\n", 0 } },
	  "" },
	};
	struct config	*conf;
	const char	*dir;
	char		*out;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dir = case_dir(cases[i].files);
		conf = load(dir, NULL, NULL, &out);
		CHECK(cases[i].want[0] == '\0' ? conf != NULL : conf == NULL, "%s: result",
		    cases[i].name);
		CHECK_STR(out, cases[i].want, "%s", cases[i].name);
		CHECK(strstr(out, "SECRET") == NULL, "%s: a secret in the output",
		    cases[i].name);
		config_free(conf);
		free(out);
	}
}

/* Bytes that are not text, and lines of any length. */
static void
test_bytes(void)
{
	static const char	nul[] = "[bridge]\nstate_dir = /a\0SECRET\noffline_after = 1x\n";
	static const struct file nulfile[] = {
		{ "bridge.conf", nul, sizeof(nul) - 1 }, { NULL, NULL, 0 }
	};
	static const struct file badutf8[] = {
		{ "bridge.conf", "[bridge]\n# caf\xe9\nstate_dir = /\xc0\xaf\n"
		  "[discord]\nwebhook_url = https://h/\xed\xa0\x80SECRET\n"
		  "[webhook]\nurl = https://h/\xf4\x90\x80\x80\n", 0 },
		{ NULL, NULL, 0 }
	};
	struct file	 longfile[2] = { { "bridge.conf", NULL, 0 }, { NULL, NULL, 0 } };
	struct config	*conf;
	char		*out, *text;
	size_t		 n = 200000;

	conf = load(case_dir(nulfile), NULL, NULL, &out);
	CHECK(conf == NULL, "NUL byte");
	CHECK_STR(out, "D/bridge.conf:2: line holds a NUL byte\n"
	    "D/bridge.conf:3: offline_after \"1x\" is not a duration (90, 90s, 5m, 2h)\n",
	    "NUL byte");
	free(out);

	conf = load(case_dir(badutf8), NULL, NULL, &out);
	CHECK(conf == NULL, "bad UTF-8");
	CHECK_STR(out, "D/bridge.conf:2: line is not valid UTF-8\n"
	    "D/bridge.conf:3: line is not valid UTF-8\n"
	    "D/bridge.conf:4: [discord] needs webhook_url\n"
	    "D/bridge.conf:5: line is not valid UTF-8\n"
	    "D/bridge.conf:6: [webhook] needs url\n"
	    "D/bridge.conf:7: line is not valid UTF-8\n", "bad UTF-8");
	CHECK(strstr(out, "SECRET") == NULL, "bad UTF-8: a secret in the output");
	free(out);

	/* A 200 kB key name, then a 200 kB URL that is fine but for its length. */
	text = malloc(2 * n + 128);
	memset(text, 'k', n);
	strcpy(text + n, " = 1\n[discord]\nwebhook_url = https://h/");
	memset(text + strlen(text), 'S', n);
	strcpy(text + 2 * n + strlen(" = 1\n[discord]\nwebhook_url = https://h/"), "\n");
	longfile[0].text = text;
	conf = load(case_dir(longfile), NULL, NULL, &out);
	CHECK(conf == NULL, "long lines");
	CHECK(strstr(out, "D/bridge.conf:1: \"kkkk") == out, "long key: %.60s", out);
	CHECK(strstr(out, "D/bridge.conf:3: webhook_url must be at most 4096 characters\n") !=
	    NULL, "long url: %.200s", out);
	CHECK(strlen(out) < 1024, "long lines are not echoed whole");
	free(out);
	free(text);
}

/* The printers directory: missing (default and named), not a directory. */
static void
test_printers_dir(void)
{
	static const struct file files[] = {
		{ "bridge.conf", "", 0 }, { "file", "", 0 }, { NULL, NULL, 0 }
	};
	struct config	*conf;
	const char	*dir = case_dir(files);
	char		 pdir[PATH_MAX + 16], *out;

	conf = load(dir, NULL, NULL, &out);
	CHECK(conf != NULL, "missing default printers.d is fine: %s", out);
	config_free(conf);
	free(out);

	snprintf(pdir, sizeof(pdir), "%s/nope", dir);
	conf = load(dir, pdir, NULL, &out);
	CHECK(conf == NULL, "missing named directory");
	CHECK_STR(out, "D/nope: no such directory\n", "missing named directory");
	free(out);

	snprintf(pdir, sizeof(pdir), "%s/file", dir);
	conf = load(dir, pdir, NULL, &out);
	CHECK(conf == NULL, "not a directory");
	CHECK_STR(out, "D/file: not a directory\n", "not a directory");
	free(out);
}

static void
cleanup(void)
{
	char	cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/*
 * A file holding a secret that others may read gets a warning naming it and the fix; the
 * configuration still loads.  A file without secrets, or closed to others, gets none.
 */
static void
test_secret_modes(void)
{
	static const struct file files[] = {
		{ "bridge.conf", "[discord]\nwebhook_url = https://d.example/api/webhooks/1/SECRET\n",
		  0 },
		{ "printers.d/a.conf", "[printer]\nhost = h\nserial = S1\naccess_code = SECRETA\n"
		  "tls_insecure = yes\n", 0 },
		{ "printers.d/b.conf", "[printer]\nhost = h\nserial = S2\naccess_code = SECRETB\n"
		  "tls_insecure = yes\n", 0 },
		{ "other/bridge.conf", "[bridge]\noffline_after = 90\n", 0 },
		{ NULL, NULL, 0 }
	};
	struct config	*conf;
	const char	*dir = case_dir(files);
	char		 path[PATH_MAX + 64], *out;

	snprintf(path, sizeof(path), "%s/bridge.conf", dir);
	chmod(path, 0644);
	snprintf(path, sizeof(path), "%s/printers.d/a.conf", dir);
	chmod(path, 0604);
	snprintf(path, sizeof(path), "%s/other/bridge.conf", dir);
	chmod(path, 0666);
	conf = load(dir, NULL, NULL, &out);
	CHECK(conf != NULL && conf->nprinters == 2, "a warning is not an error: %s", out);
	CHECK_STR(out, "D/bridge.conf: warning: holds secrets and is readable by others: "
	    "chmod 0640 D/bridge.conf (and chown root:bambu-bridge D/bridge.conf)\n"
	    "D/printers.d/a.conf: warning: holds secrets and is readable by others: "
	    "chmod 0640 D/printers.d/a.conf (and chown root:bambu-bridge D/printers.d/a.conf)\n",
	    "warnings for world-readable secrets");
	CHECK(strstr(out, "SECRET") == NULL, "a secret in the output: %s", out);
	config_free(conf);
	free(out);

	snprintf(path, sizeof(path), "%s/other", dir);
	conf = load(path, NULL, NULL, &out);
	CHECK(conf != NULL, "no secrets: %s", out);
	CHECK_STR(out, "", "a world-readable file without secrets");
	config_free(conf);
	free(out);
}

int
main(void)
{
	/* Files written by the cases are closed to others, as a real installation's should be. */
	umask(027);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_duration();
	test_events();
	test_valid();
	test_defaults();
	test_problems();
	test_bytes();
	test_printers_dir();
	test_secret_modes();
	cleanup();
	return UNIT_DONE();
}
