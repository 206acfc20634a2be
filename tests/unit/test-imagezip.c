/*
 * The imagezip step's pure parts: shell quoting of a user's text (checked
 * by giving the quoted word to a real /bin/sh, which must print the text
 * back unchanged and run nothing of it), the refusal of control
 * characters, rhubarbe's stamp line, and the exact command lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "engine/step-imagezip.h"

static const char *hostile[] = {
    "$(touch /tmp/rhubarb-test-pwned)",
    "`touch /tmp/rhubarb-test-pwned`",
    "'; touch /tmp/rhubarb-test-pwned; echo '",
    "\"; touch /tmp/rhubarb-test-pwned; \"",
    "a;touch /tmp/rhubarb-test-pwned",
    "back\\slash \\' \\\\ \\n",
    "''''",
    "'",
    "${HOME} $HOME ~ * ? [a] | & > < ( ) { } !!",
    "\xc3\xa9t\xc3\xa9",
    "",
};

/* What sh prints for printf '%s\n' WORD, without the newline. */
static char *
sh_echo(const char *word)
{
	char *cmd, *qcmd, *full, buf[4096];
	FILE *f;
	size_t n;

	/* popen's own sh reads the outer quoting, /bin/sh -c the word. */
	xasprintf(&cmd, "printf '%%s\\n' %s", word);
	qcmd = step_imagezip_shell_quote(cmd);
	xasprintf(&full, "/bin/sh -c %s", qcmd);
	f = popen(full, "r");
	free(full);
	free(qcmd);
	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	assert_int_equal(pclose(f), 0);
	free(cmd);
	assert_true(n > 0 && buf[n - 1] == '\n');
	buf[n - 1] = '\0';
	return (xstrdup(buf));
}

static void
test_quote_hostile(void **state)
{
	struct stat sb;
	char *q, *out;
	size_t i;

	unlink("/tmp/rhubarb-test-pwned");
	for (i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		q = step_imagezip_shell_quote(hostile[i]);
		out = sh_echo(q);
		assert_string_equal(out, hostile[i]);
		free(out);
		free(q);
	}
	assert_int_equal(stat("/tmp/rhubarb-test-pwned", &sb), -1);
}

static void
test_quote_form(void **state)
{
	char *q;

	q = step_imagezip_shell_quote("it's");
	assert_string_equal(q, "'it'\\''s'");
	free(q);
	q = step_imagezip_shell_quote("");
	assert_string_equal(q, "''");
	free(q);
}

static void
test_stamp_valid(void **state)
{
	char *err = NULL, big[STEP_IMAGEZIP_STAMP_MAX + 2];

	assert_int_equal(step_imagezip_stamp_valid("fine $(x) 'y'", &err), 0);
	assert_null(err);
	assert_int_equal(step_imagezip_stamp_valid("a\nb", &err), -1);
	assert_string_equal(err, "control character 0x0a at byte 2");
	free(err);
	assert_int_equal(step_imagezip_stamp_valid("\r", &err), -1);
	free(err);
	assert_int_equal(step_imagezip_stamp_valid("tab\there", &err), -1);
	free(err);
	assert_int_equal(step_imagezip_stamp_valid("esc\x1b[2J", &err), -1);
	free(err);
	assert_int_equal(step_imagezip_stamp_valid("del\x7f", &err), -1);
	free(err);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(step_imagezip_stamp_valid(big, &err), -1);
	free(err);
	big[sizeof big - 2] = '\0';
	assert_int_equal(step_imagezip_stamp_valid(big, &err), 0);
}

static void
test_stamp(void **state)
{
	char *s;
	time_t t;
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = 2026 - 1900;
	tm.tm_mon = 10;
	tm.tm_mday = 21;
	tm.tm_hour = 9;
	tm.tm_min = 5;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	s = step_imagezip_stamp(t, "fit02", "mine", "alice", NULL);
	assert_string_equal(s,
	    "2026-11-21@09:05 - node fit02  - image mine - by alice");
	free(s);
	s = step_imagezip_stamp(t, "fit02", "mine", "alice", "with $(x)");
	assert_string_equal(s,
	    "2026-11-21@09:05 - node fit02  - image mine - "
	    "by alice - with $(x)");
	free(s);
}

static void
test_commands(void **state)
{
	struct step_imagezip_cmd c;
	char *s;

	memset(&c, 0, sizeof c);
	c.stamp = "x 'y' $(z)";
	c.root_partition = "/dev/sda1";
	c.mount_point = "/mnt";
	c.imagezip = "imagezip";
	c.hard_drive = "/dev/sda";
	c.netcat = "nc";
	c.local_ip = "192.168.3.100";
	c.port = 10001;
	s = step_imagezip_commands(&c);
	assert_string_equal(s,
	    "[ -d /mnt ] || mkdir /mnt; mount /dev/sda1 /mnt && "
	    "{ printf '%s\\n' 'x '\\''y'\\'' $(z)' >> /mnt/etc/rhubarbe-image "
	    "; umount /mnt; } ;\n"
	    "set -o pipefail\n"
	    "imagezip -o -z1 /dev/sda - | nc 192.168.3.100 10001\n"
	    "echo _TELNET_STATUS=$?\n"
	    "exit\n");
	free(s);
	c.root_partition = "none";
	s = step_imagezip_commands(&c);
	assert_string_equal(s,
	    "set -o pipefail\n"
	    "imagezip -o -z1 /dev/sda - | nc 192.168.3.100 10001\n"
	    "echo _TELNET_STATUS=$?\n"
	    "exit\n");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quote_hostile),
	    cmocka_unit_test(test_quote_form),
	    cmocka_unit_test(test_stamp_valid),
	    cmocka_unit_test(test_stamp),
	    cmocka_unit_test(test_commands),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
