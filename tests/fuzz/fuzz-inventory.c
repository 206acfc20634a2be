/*
 * libFuzzer harness for the inventory parser: any bytes must give either a
 * valid inventory or a one-line error, and never a crash or a leak. A
 * loaded inventory must also answer lookups for each of its names.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inventory *inv;
	char *err = NULL;
	size_t i;

	inv = inventory_parse((const char *)data, size, "fuzz", &err);
	if (inv == NULL) {
		assert(err != NULL && strchr(err, '\n') == NULL);
		free(err);
		return (0);
	}
	assert(err == NULL);
	for (i = 0; i < inv->nnodes; i++) {
		assert(
		    inventory_find(inv, inv->nodes[i].name) == &inv->nodes[i]);
		assert(inv->nodes[i].control.mac != NULL);
	}
	inventory_free(inv);
	return (0);
}
