/* test_hms.c: HMS code strings, severity, module, wiki links and cancel codes. */
#include <string.h>

#include "hms.h"
#include "unit.h"

struct describe_case {
	uint32_t	 attr, code;
	const char	*product;
	const char	*str, *severity, *module, *url;
};

static const struct describe_case cases[] = {
	{ 0x0C000300, 0x00010007, "Bambu Lab X1 Carbon", "HMS_0C00_0300_0001_0007", "fatal",
	  "camera", "https://wiki.bambulab.com/en/x1/troubleshooting/hmscode/0C00_0300_0001_0007" },
	{ 0x07010200, 0x00020001, "Bambu Lab P1S", "HMS_0701_0200_0002_0001", "serious", "AMS",
	  "https://wiki.bambulab.com/en/p1/troubleshooting/hmscode/0701_0200_0002_0001" },
	{ 0x12FF2000, 0x00030002, "Bambu Lab A1 mini", "HMS_12FF_2000_0003_0002", "common",
	  "AMS Lite", "https://wiki.bambulab.com/en/a1/troubleshooting/hmscode/12FF_2000_0003_0002" },
	{ 0x05000100, 0x00040001, "H2D", "HMS_0500_0100_0004_0001", "info", "mainboard",
	  "https://wiki.bambulab.com/en/h2d/troubleshooting/hmscode/0500_0100_0004_0001" },
	{ 0x18000000, 0x00090001, "", "HMS_1800_0000_0009_0001", "unknown", "AMS-HT",
	  "https://wiki.bambulab.com/en/hms/home" },
	{ 0xFFFFFFFF, 0xFFFFFFFF, NULL, "HMS_FFFF_FFFF_FFFF_FFFF", "unknown", "printer",
	  "https://wiki.bambulab.com/en/hms/home" },
};

int
main(void)
{
	struct hms_info	hi;
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hms_describe(cases[i].attr, cases[i].code, cases[i].product, &hi);
		CHECK_STR(hi.str, cases[i].str, "case %zu", i);
		CHECK_STR(hi.severity, cases[i].severity, "case %zu", i);
		CHECK_STR(hi.module, cases[i].module, "case %zu", i);
		CHECK_STR(hi.url, cases[i].url, "case %zu", i);
	}
	CHECK(hms_is_error(0x00010000) && hms_is_error(0x00020000), "fatal, serious: errors");
	CHECK(!hms_is_error(0x00030000) && !hms_is_error(0x00040000), "common, info: warnings");
	CHECK(hms_is_cancel(0x03000100, 0x0001400C), "0300-400C is a cancel");
	CHECK(hms_is_cancel(0x0500FF00, 0x0002400E), "0500-400E is a cancel");
	CHECK(!hms_is_cancel(0x0300FF00, 0x0002400E), "0300-400E is not");
	CHECK(!hms_is_cancel(0x07000100, 0x0001400C), "AMS 400C is not");
	return UNIT_DONE();
}
