/*
 * libFuzzer harness for inventory/config.c: arbitrary bytes as the text
 * of a configuration file, with their first line also given to -o. No
 * input may crash, leak or produce a message that is not one clean line,
 * and every accessor must still answer afterwards.
 */
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "inventory/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void fuzz_check_message(const char *);

/* Messages are single lines without control characters. */
static void
fuzz_check_message(const char *msg)
{
	const char *p;

	if (msg == NULL || *msg == '\0')
		abort();
	for (p = msg; *p != '\0'; p++) {
		if (iscntrl((unsigned char)*p))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg;
	enum config_key k;
	char *text, *line, *err = NULL;
	size_t i;

	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	line = xstrndup(text, strcspn(text, "\n"));

	cfg = config_new("fuzzhost");
	if (config_set_option(cfg, line, &err) != 0)
		fuzz_check_message(err);
	else if (err != NULL)
		abort();
	free(err);
	err = NULL;
	if (config_load_string(cfg, "fuzz", text, &err) != 0)
		fuzz_check_message(err);
	else if (err != NULL)
		abort();
	free(err);

	for (i = 0; i < config_warning_count(cfg); i++)
		fuzz_check_message(config_warning(cfg, i));
	for (k = 0; k < CK__COUNT; k++) {
		if (config_text(cfg, k) == NULL)
			abort();
		fuzz_check_message(config_origin(cfg, k));
		switch (config_key_type(k)) {
		case CONFIG_INT:
			if ((double)config_int(cfg, k) != config_double(cfg, k))
				abort();
			break;
		case CONFIG_DOUBLE:
			if (!isfinite(config_double(cfg, k)))
				abort();
			break;
		case CONFIG_PORT_PATTERN:
			if (config_port_base(cfg, k) < 1 ||
			    config_port_base(cfg, k) > 65535 - 254)
				abort();
			break;
		default:
			(void)config_str(cfg, k);
			break;
		}
	}
	config_free(cfg);
	free(line);
	free(text);
	return (0);
}
