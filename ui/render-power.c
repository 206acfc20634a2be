/*
 * Power results as text or JSON. Grouping for the folded form keeps the
 * order of results fixed (on, off, unknown; ok, failed) and, within one
 * result, the order in which each reason first appears, so the same
 * results always print the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/xmalloc.h"
#include "inventory/nodeset.h"
#include "ui/render-power.h"

/* One line of the folded form: a result, a reason, its nodes. */
struct render_power_group {
	const char *result;
	const char *reason;
	const char **names;
	size_t n;
};

static int
render_power_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* Rank of a result word: known ones first, in this order. */
static int
render_power_rank(const char *result)
{
	static const char *const order[] = {"on", "off", "ok", "unknown",
	    "failed"};
	size_t i;

	for (i = 0; i < nitems(order); i++) {
		if (strcmp(order[i], result) == 0)
			return ((int)i);
	}
	return ((int)nitems(order));
}

/* Groups of rows by (result, reason), in print order. */
static struct render_power_group *
render_power_groups(const struct render_power_row *rows, size_t n, size_t *ngp)
{
	struct render_power_group *g = NULL, tmp;
	size_t ng = 0, i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < ng; j++) {
			if (strcmp(g[j].result, rows[i].result) == 0 &&
			    render_power_same(g[j].reason, rows[i].reason))
				break;
		}
		if (j == ng) {
			g = xreallocarray(g, ng + 1, sizeof *g);
			memset(&g[ng], 0, sizeof *g);
			g[ng].result = rows[i].result;
			g[ng].reason = rows[i].reason;
			g[ng].names = xcalloc(n, sizeof *g[ng].names);
			ng++;
		}
		g[j].names[g[j].n++] = rows[i].node;
	}
	/* Stable insertion sort by result rank. */
	for (i = 1; i < ng; i++) {
		for (j = i; j > 0 &&
		     render_power_rank(g[j - 1].result) >
			 render_power_rank(g[j].result);
		     j--) {
			tmp = g[j];
			g[j] = g[j - 1];
			g[j - 1] = tmp;
		}
	}
	*ngp = ng;
	return (g);
}

static void
render_power_groups_free(struct render_power_group *g, size_t ng)
{
	size_t i;

	for (i = 0; i < ng; i++)
		free(g[i].names);
	free(g);
}

/* Text on one line: control characters as '?'. */
static void
render_power_text(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

static void
render_power_fold(FILE *f, const struct render_power_row *rows, size_t n)
{
	struct render_power_group *g;
	size_t ng, i;
	char *folded;

	g = render_power_groups(rows, n, &ng);
	for (i = 0; i < ng; i++) {
		folded = nodeset_fold_names(g[i].names, g[i].n);
		fprintf(f, "%s: %s", g[i].result, folded);
		if (g[i].reason != NULL) {
			fputs(" (", f);
			render_power_text(f, g[i].reason);
			fputc(')', f);
		}
		fputc('\n', f);
		free(folded);
	}
	render_power_groups_free(g, ng);
}

static void
render_power_line(FILE *f, const struct render_power_row *r, int info)
{
	fprintf(f, "%s: ", r->node);
	if (info && r->ok)
		render_power_text(f, r->info != NULL ? r->info : "");
	else
		fputs(r->result, f);
	if (r->reason != NULL && !(info && r->ok)) {
		fputs(" (", f);
		render_power_text(f, r->reason);
		fputc(')', f);
	}
	fputc('\n', f);
}

/* rhubarbe: "rebootNN:BODY", or "rebootNN:VERB N/A". */
static void
render_power_rhubarbe(FILE *f, const char *action,
    const struct render_power_row *r)
{
	fprintf(f, "%s:", r->cmc != NULL ? r->cmc : r->node);
	if (!r->ok)
		fprintf(f, "%s N/A", action);
	else if (strcmp(action, "status") == 0)
		fputs(r->result, f);
	else if (strcmp(action, "info") == 0)
		render_power_text(f, r->info != NULL ? r->info : "");
	else
		fputs("ok", f);
	fputc('\n', f);
}

static json_t *
render_power_jstr(const char *s)
{
	json_t *j;
	char *copy, *p;

	if (s == NULL)
		return (json_null());
	if ((j = json_string(s)) != NULL)
		return (j);
	/* Not UTF-8 (a controller's reply): keep ASCII. */
	copy = xstrdup(s);
	for (p = copy; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	}
	j = json_string(copy);
	free(copy);
	return (j != NULL ? j : json_null());
}

static void
render_power_json(FILE *f, const char *action,
    const struct render_power_row *rows, size_t n, double duration)
{
	struct render_power_group *g;
	json_t *o, *a, *r, *s;
	size_t ng, i;
	char *folded, *text;
	int all_ok = 1;

	a = json_array();
	for (i = 0; i < n; i++) {
		r = json_object();
		json_object_set_new(r, "node", render_power_jstr(rows[i].node));
		json_object_set_new(r, "result",
		    render_power_jstr(rows[i].result));
		json_object_set_new(r, "ok", json_boolean(rows[i].ok));
		json_object_set_new(r, "reason",
		    render_power_jstr(rows[i].reason));
		json_object_set_new(r, "state",
		    render_power_jstr(rows[i].state));
		if (rows[i].info != NULL)
			json_object_set_new(r, "info",
			    render_power_jstr(rows[i].info));
		json_object_set_new(r, "outcome",
		    render_power_jstr(rows[i].outcome));
		json_object_set_new(r, "backend",
		    render_power_jstr(rows[i].backend));
		json_object_set_new(r, "controller",
		    render_power_jstr(rows[i].controller));
		json_object_set_new(r, "cmc", render_power_jstr(rows[i].cmc));
		json_object_set_new(r, "operations", json_integer(rows[i].ops));
		json_object_set_new(r, "duration", json_real(rows[i].duration));
		json_array_append_new(a, r);
		if (!rows[i].ok)
			all_ok = 0;
	}
	s = json_array();
	g = render_power_groups(rows, n, &ng);
	for (i = 0; i < ng; i++) {
		folded = nodeset_fold_names(g[i].names, g[i].n);
		r = json_object();
		json_object_set_new(r, "result",
		    render_power_jstr(g[i].result));
		json_object_set_new(r, "reason",
		    render_power_jstr(g[i].reason));
		json_object_set_new(r, "nodes", render_power_jstr(folded));
		json_object_set_new(r, "count",
		    json_integer((json_int_t)g[i].n));
		json_array_append_new(s, r);
		free(folded);
	}
	render_power_groups_free(g, ng);

	o = json_object();
	json_object_set_new(o, "action", render_power_jstr(action));
	json_object_set_new(o, "ok", json_boolean(all_ok));
	json_object_set_new(o, "duration", json_real(duration));
	json_object_set_new(o, "nodes", a);
	json_object_set_new(o, "summary", s);
	text = json_dumps(o,
	    JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (text != NULL) {
		fprintf(f, "%s\n", text);
		free(text);
	}
}

void
render_power(FILE *f, enum render_power_format format, const char *action,
    const struct render_power_row *rows, size_t n, double duration)
{
	int info = strcmp(action, "info") == 0;
	size_t i;

	/* Info is per node: its text cannot be folded. */
	if (format == RENDER_POWER_FOLD && info)
		format = RENDER_POWER_LINES;
	switch (format) {
	case RENDER_POWER_FOLD:
		render_power_fold(f, rows, n);
		break;
	case RENDER_POWER_LINES:
		for (i = 0; i < n; i++)
			render_power_line(f, &rows[i], info);
		break;
	case RENDER_POWER_RHUBARBE:
		for (i = 0; i < n; i++)
			render_power_rhubarbe(f, action, &rows[i]);
		break;
	case RENDER_POWER_JSON:
		render_power_json(f, action, rows, n, duration);
		break;
	}
	fflush(f);
}
