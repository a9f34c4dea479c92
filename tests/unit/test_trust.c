/*
 * test_trust.c: the pure parts of trust.c: fingerprints written and read back, pin files
 * parsed, and the trust mode a printer's configuration chooses.
 */
#include <stdio.h>
#include <string.h>

#include "trust.h"
#include "unit.h"

#define FP_A	"SHA256:00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:" \
		"10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:FF"

static void
test_format(void)
{
	unsigned char	md[TRUST_FP_LEN];
	char		buf[TRUST_FP_STRLEN], small[10] = "x";
	size_t		i;

	for (i = 0; i < sizeof(md); i++)
		md[i] = (unsigned char)i;
	md[31] = 0xff;
	trust_fp_format(md, buf, sizeof(buf));
	CHECK_STR(buf, FP_A, "format");
	CHECK(strlen(buf) + 1 == TRUST_FP_STRLEN, "length %zu", strlen(buf));
	trust_fp_format(md, small, sizeof(small));
	CHECK_STR(small, "", "a buffer too small gets an empty string");
}

static const struct {
	const char	*in;
	int		 ok;
} fp_cases[] = {
	{ FP_A, 1 },
	{ "sha256:00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:"
	  "10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:ff", 1 },	/* any case */
	{ "SHA256:000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1EFF", 1 },
	{ "SHA256:00:01", 0 },						/* short */
	{ FP_A ":00", 0 },						/* long */
	{ FP_A " ", 0 },						/* trailing */
	{ "SHA1:00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13", 0 },
	{ "SHA256:0001:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"
	  "10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:FF", 0 },	/* mixed separators */
	{ "SHA256:G0:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"
	  "10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:FF", 0 },	/* not hex */
	{ "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"
	  "10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:FF", 0 },	/* no prefix */
	{ "", 0 },
};

static void
test_parse(void)
{
	unsigned char	md[TRUST_FP_LEN];
	char		back[TRUST_FP_STRLEN];
	size_t		i;
	int		rv;

	for (i = 0; i < sizeof(fp_cases) / sizeof(fp_cases[0]); i++) {
		memset(md, 0xaa, sizeof(md));
		rv = trust_fp_parse(fp_cases[i].in, strlen(fp_cases[i].in), md);
		CHECK((rv == 0) == fp_cases[i].ok, "case %zu \"%s\": %d", i, fp_cases[i].in, rv);
		if (rv == 0 && fp_cases[i].ok) {
			trust_fp_format(md, back, sizeof(back));
			CHECK_STR(back, FP_A, "case %zu reads back", i);
		}
	}
	/* The length bounds the parse: the same text, cut short, is refused. */
	CHECK(trust_fp_parse(FP_A, strlen(FP_A) - 1, md) == -1, "cut short");
}

static const struct {
	const char	*text;
	int		 ok;
} pin_cases[] = {
	{ FP_A "\n", 1 },
	{ FP_A, 1 },							/* no newline */
	{ "# comment\n#\n\n  " FP_A "  \r\n-----BEGIN CERTIFICATE-----\nMIIC\n", 1 },
	{ "\t" FP_A "\n" "SHA256:garbage\n", 1 },			/* the first one counts */
	{ "# only comments\n", 0 },
	{ "", 0 },
	{ "garbage\n" FP_A "\n", 0 },					/* not first */
	{ "-----BEGIN CERTIFICATE-----\n", 0 },
};

static void
test_pin(void)
{
	unsigned char	md[TRUST_FP_LEN];
	char		back[TRUST_FP_STRLEN];
	size_t		i;
	int		rv;

	for (i = 0; i < sizeof(pin_cases) / sizeof(pin_cases[0]); i++) {
		rv = trust_pin_parse(pin_cases[i].text, strlen(pin_cases[i].text), md);
		CHECK((rv == 0) == pin_cases[i].ok, "pin case %zu: %d", i, rv);
		if (rv == 0) {
			trust_fp_format(md, back, sizeof(back));
			CHECK_STR(back, FP_A, "pin case %zu", i);
		}
	}
}

static void
test_mode(void)
{
	struct printer_conf	pc;
	char			ca[] = "/etc/ca.pem";

	memset(&pc, 0, sizeof(pc));
	CHECK(trust_mode(&pc) == TRUST_PINNED, "neither key: pinned");
	pc.ca_file = ca;
	CHECK(trust_mode(&pc) == TRUST_CA_FILE, "ca_file");
	pc.ca_file = NULL;
	pc.tls_insecure = 1;
	CHECK(trust_mode(&pc) == TRUST_INSECURE, "tls_insecure");
	CHECK_STR(trust_mode_name(TRUST_PINNED), "pinned", "name");
	CHECK_STR(trust_mode_name(TRUST_CA_FILE), "ca_file", "name");
	CHECK_STR(trust_mode_name(TRUST_INSECURE), "insecure", "name");
}

int
main(void)
{
	test_format();
	test_parse();
	test_pin();
	test_mode();
	return UNIT_DONE();
}
