/*
 * The imaging shell's output parser: a table of inputs (real frisbee
 * output, the simulator's, both progress styles, the shell's echo of its
 * own command, overflowing numbers, overlong lines, "\r\n", "\r\0") and
 * the events each must give, written as one string. Every input is also
 * fed split at every byte, and one byte at a time: the events must not
 * depend on the chunking.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "drivers/frisbee-parse.h"

struct trace {
	char *text;
	size_t len;
};

static void trace_add(struct trace *, const char *, ...) printflike(2, 3);

static void
trace_add(struct trace *t, const char *fmt, ...)
{
	va_list ap;
	char *s;
	size_t n;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	n = strlen(s);
	t->text = xreallocarray(t->text, 1, t->len + n + 1);
	memcpy(t->text + t->len, s, n + 1);
	t->len += n;
	free(s);
}

/* Each event as a word: L[text] T[len] J9 P50 W10/9 S X0. */
static void
on_event(const struct frisbee_event *ev, void *arg)
{
	struct trace *t = arg;

	switch (ev->type) {
	case FRISBEE_EV_LINE:
		assert_int_equal(strlen(ev->line), ev->len);
		if (ev->truncated)
			trace_add(t, "T[%zu] ", ev->len);
		else
			trace_add(t, "L[%s] ", ev->line);
		break;
	case FRISBEE_EV_JOINED:
		trace_add(t, "J%" PRIu64 " ", ev->chunks);
		break;
	case FRISBEE_EV_PROGRESS:
		assert_true(ev->percent >= 0 && ev->percent <= 100);
		trace_add(t, "P%d ", ev->percent);
		break;
	case FRISBEE_EV_WROTE:
		trace_add(t, "W%" PRIu64 "/%" PRIu64 " ", ev->total,
		    ev->actual);
		break;
	case FRISBEE_EV_SHORT_WRITE:
		trace_add(t, "S ");
		break;
	case FRISBEE_EV_STATUS:
		trace_add(t, "X%d ", ev->status);
		break;
	}
}

/* Feed in pieces: cut at each offset in cuts (ascending), then finish. */
static char *
run(const char *in, size_t len, const size_t *cuts, size_t ncuts)
{
	struct frisbee_parser *fp;
	struct trace t = {NULL, 0};
	size_t i, at = 0;

	trace_add(&t, "%s", "");
	fp = frisbee_parse_new(on_event, &t);
	for (i = 0; i < ncuts; i++) {
		frisbee_parse_feed(fp, in + at, cuts[i] - at);
		at = cuts[i];
	}
	frisbee_parse_feed(fp, in + at, len - at);
	frisbee_parse_finish(fp);
	frisbee_parse_free(fp);
	return (t.text);
}

struct parse_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *want;
};

#define DOTS66                                                                 \
	"................................................................"     \
	".."

static const struct parse_case parse_cases[] = {
    {"sim load",
	"Bound to port 10001\n"
	"Using Multicast 234.5.6.1\n"
	"Joined the team after 0 sec. ID is 1804289383. File is 9 chunks "
	"(9216 blocks)\n"
	".........                                                         "
	"     0      0\n"
	"Left the team after 1 seconds on the field!\n"
	"Wrote 9437184 bytes (9437184 actual)\n"
	"0 0 9\n",
	0,
	"L[Bound to port 10001] L[Using Multicast 234.5.6.1] "
	"L[Joined the team after 0 sec. ID is 1804289383. File is 9 chunks "
	"(9216 blocks)] J9 P0 "
	"L[.........                                                       "
	"       0      0] P100 "
	"L[Left the team after 1 seconds on the field!] "
	"L[Wrote 9437184 bytes (9437184 actual)] W9437184/9437184 P100 "
	"L[0 0 9] "},
    {"full dot lines, crlf",
	"Joined the team after 2 sec. ID is 7. File is 200 chunks (x)\r\n" DOTS66
	"   3    134\r\n"
	"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzsss"
	"s   6     68\r\n",
	0,
	"L[Joined the team after 2 sec. ID is 7. File is 200 chunks (x)] "
	"J200 P0 L[" DOTS66 "   3    134] P33 "
	"L[zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzs"
	"sss   6     68] P66 "},
    {"dots before join give no progress", DOTS66 "   3    134\n", 0,
	"L[" DOTS66 "   3    134] "},
    {"76 dots are too many",
	"Joined the team after 0 sec. File is 10 chunks\n" DOTS66
	"..........   3    5\n",
	0,
	"L[Joined the team after 0 sec. File is 10 chunks] J10 P0 "
	"L[" DOTS66 "..........   3    5] "},
    {"remaining above total",
	"Joined the team after 0 sec. File is 10 chunks\n. 1 11\n. 1 10\n", 0,
	"L[Joined the team after 0 sec. File is 10 chunks] J10 P0 "
	"L[. 1 11] P0 L[. 1 10] P0 "},
    {"dots need blanks and two numbers",
	"Joined the team after 0 sec. File is 4 chunks\n.1 2\n. 1\n. 1 x\n"
	".\t1\t1\n",
	0,
	"L[Joined the team after 0 sec. File is 4 chunks] J4 P0 L[.1 2] "
	"L[. 1] L[. 1 x] L[.\t1\t1] P75 "},
    {"zero chunks", "Joined the team after 0 sec. File is 0 chunks\n. 1 0\n", 0,
	"L[Joined the team after 0 sec. File is 0 chunks] J0 P0 L[. 1 0] "},
    {"huge totals do not overflow",
	"Joined the team after 0 sec. File is 18446744073709551615 chunks\n"
	". 1 1\n"
	". 1 9223372036854775807\n",
	0,
	"L[Joined the team after 0 sec. File is 18446744073709551615 chunks]"
	" J18446744073709551615 P0 L[. 1 1] P99 L[. 1 9223372036854775807] "
	"P50 "},
    {"chunks overflow: no join",
	"Joined the team after 0 sec. File is 18446744073709551616 chunks\n", 0,
	"L[Joined the team after 0 sec. File is 18446744073709551616 "
	"chunks] "},
    {"join needs both parts",
	"File is 9 chunks\nteam after 1 File is x chunks\n"
	"team after 1 File is 9 blocks File is 3 chunks\n",
	0,
	"L[File is 9 chunks] L[team after 1 File is x chunks] "
	"L[team after 1 File is 9 blocks File is 3 chunks] J3 P0 "},
    {"old style progress",
	"Progress: 42%\nProgress:\t7% done\nProgress: 101%\nProgress:5%\n"
	" Progress: 5%\nProgress: 5\n",
	0,
	"L[Progress: 42%] P42 L[Progress:\t7% done] P7 L[Progress: 101%] "
	"L[Progress:5%] L[ Progress: 5%] L[Progress: 5] "},
    {"wrote",
	"Wrote  12 bytes (11 actual)\nWrote 12 bytes 11\n"
	"Wrote 99999999999999999999 bytes (1 actual)\n wrote 1 bytes (1\n",
	0,
	"L[Wrote  12 bytes (11 actual)] W12/11 P100 L[Wrote 12 bytes 11] "
	"L[Wrote 99999999999999999999 bytes (1 actual)] "
	"L[ wrote 1 bytes (1] "},
    {"sim frisbee-fail",
	"Joined the team after 0 sec. ID is 1. File is 9 chunks (9216 "
	"blocks)\n"
	"....                                                              "
	"     0      5\n"
	"Short write: wrote 4194304 of 9437184 bytes: No space left on "
	"device\n"
	"ImageUnzipChunk failed : Input/output error\n"
	"_TELNET_STATUS=1\n",
	0,
	"L[Joined the team after 0 sec. ID is 1. File is 9 chunks (9216 "
	"blocks)] J9 P0 "
	"L[....                                                            "
	"       0      5] P44 "
	"L[Short write: wrote 4194304 of 9437184 bytes: No space left on "
	"device] S "
	"L[ImageUnzipChunk failed : Input/output error] "
	"L[_TELNET_STATUS=1] X1 "},
    {"status vs the echoed command",
	"root@fit01:~# frisbee -i 1.2.3.4 -m 234.5.6.1 -p 10001 /dev/sda; "
	"echo _TELNET_STATUS=$?; exit\r\n"
	"_TELNET_STATUS=$?; exit\r\n"
	"_TELNET_STATUS=0\r\n"
	"_TELNET_STATUS=0 \r\n"
	"_TELNET_STATUS=0x\r\n"
	"_TELNET_STATUS=\r\n"
	"_TELNET_STATUS=2147483648\r\n"
	"_TELNET_STATUS=2147483647\r\n"
	" _TELNET_STATUS=3\r\n"
	"echo _TELNET_STATUS=4\r\n"
	"exit\r\n",
	0,
	"L[root@fit01:~# frisbee -i 1.2.3.4 -m 234.5.6.1 -p 10001 /dev/sda; "
	"echo _TELNET_STATUS=$?; exit] "
	"L[_TELNET_STATUS=$?; exit] L[_TELNET_STATUS=0] X0 "
	"L[_TELNET_STATUS=0 ] X0 L[_TELNET_STATUS=0x] L[_TELNET_STATUS=] "
	"L[_TELNET_STATUS=2147483648] L[_TELNET_STATUS=2147483647] "
	"X2147483647 "
	"L[ _TELNET_STATUS=3] L[echo _TELNET_STATUS=4] L[exit] "},
    {"text after a carriage return",
	"\x1b[?2004l\r_TELNET_STATUS=5\r\nab\rProgress: 3%\r\r\n", 0,
	"L[\x1b[?2004l\r_TELNET_STATUS=5] X5 L[ab\rProgress: 3%] P3 "},
    {"telnet bare cr", "ab\r\0_TELNET_STATUS=6\r\n", 22,
	"L[ab\r_TELNET_STATUS=6] X6 "},
    {"last line without newline", "a\n\nProgress: 9%", 0,
	"L[a] L[] L[Progress: 9%] P9 "},
    {"empty", "", 0, ""},
};

static void
check(const struct parse_case *c)
{
	size_t len = c->len != 0 ? c->len : strlen(c->in), i, *cuts;
	char *got;

	got = run(c->in, len, NULL, 0);
	if (strcmp(got, c->want) != 0)
		fail_msg("%s:\n got  %s\n want %s", c->name, got, c->want);
	free(got);
	for (i = 0; i <= len; i++) {
		got = run(c->in, len, &i, 1);
		if (strcmp(got, c->want) != 0)
			fail_msg("%s, cut at %zu:\n got  %s\n want %s", c->name,
			    i, got, c->want);
		free(got);
	}
	cuts = xcalloc(len + 1, sizeof *cuts);
	for (i = 0; i < len; i++)
		cuts[i] = i;
	got = run(c->in, len, cuts, len);
	if (strcmp(got, c->want) != 0)
		fail_msg("%s, byte by byte:\n got  %s\n want %s", c->name, got,
		    c->want);
	free(got);
	free(cuts);
}

static void
test_table(void **state)
{
	size_t i;

	for (i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++)
		check(&parse_cases[i]);
}

/* A line over the limit is cut, reported truncated, the rest skipped. */
static void
test_overlong(void **state)
{
	size_t len = FRISBEE_LINE_MAX * 3 + 64, i;
	char *in, *got, *want;

	in = xmalloc(len + 1);
	memset(in, '.', len);
	memcpy(in, "_TELNET_STATUS=1", 16);
	/* A status right after: the cut does not eat the next line. */
	memcpy(in + len - 40, "\n_TELNET_STATUS=7\n", 18);
	memcpy(in + len - 22, "\nProgress: 1%........", 21);
	in[len] = '\0';
	xasprintf(&want,
	    "T[%d] L[_TELNET_STATUS=7] X7 L[] L[Progress: 1%%.........] P1 ",
	    FRISBEE_LINE_MAX);
	got = run(in, len, NULL, 0);
	assert_string_equal(got, want);
	free(got);
	for (i = FRISBEE_LINE_MAX - 2; i < FRISBEE_LINE_MAX + 3; i++) {
		got = run(in, len, &i, 1);
		assert_string_equal(got, want);
		free(got);
	}
	free(want);

	/* Exactly at the limit: a whole line, not truncated. */
	memset(in, 'a', FRISBEE_LINE_MAX);
	in[FRISBEE_LINE_MAX] = '\n';
	got = run(in, FRISBEE_LINE_MAX + 1, NULL, 0);
	assert_int_equal(strlen(got), FRISBEE_LINE_MAX + 4);
	assert_memory_equal(got, "L[aaa", 5);
	free(got);
	free(in);
}

/* The parser keeps the total for later dot lines. */
static void
test_chunks(void **state)
{
	struct frisbee_parser *fp;
	struct trace t = {NULL, 0};
	static const char join[] =
	    "Joined the team after 0 sec. File is 66 chunks (3 blocks)\n";

	fp = frisbee_parse_new(on_event, &t);
	assert_int_equal(frisbee_parse_chunks(fp), 0);
	frisbee_parse_feed(fp, join, sizeof join - 1);
	assert_int_equal(frisbee_parse_chunks(fp), 66);
	frisbee_parse_free(fp);
	free(t.text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_overlong),
	    cmocka_unit_test(test_chunks),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
