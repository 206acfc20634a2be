/*
 * Node sets: turn node specs into a bitmap over the inventory, and fold a
 * set back into a short hostlist.
 *
 * An argument is a list of items joined by ',' (union), '!' or '~'
 * (difference) and '&' (intersection), applied left to right. An item is
 * '@group', a bracket hostlist ('fit[01-12,15]'), rhubarbe's numeric form
 * ('fit4-reboot7', '1-33-2', '004') or a hostname. Every name must be in
 * the inventory: rhubarbe let unknown numbers through and crashed much
 * later; here they stop the command before anything is touched.
 *
 * Numbers resolve through an index of the nodes named regularname +
 * digits, built once per call in O(nodes) and searched by bisection, so a
 * range costs O(log n + its size) whatever the inventory's order.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "inventory/groups.h"
#include "inventory/inventory.h"
#include "inventory/nodeset.h"

#define NODESET_MAX_NAMES  100000 /* names one bracket item may expand to */
#define NODESET_MAX_DEPTH  16     /* groups nested in groups */
#define NODESET_MAX_DIGITS 18     /* so that a number fits a long */
#define NODESET_OPERATORS  ",!~&"
#define NODESET_SPACE      " \t\r\n\v\f"

struct nodeset {
	const struct inventory *inv;
	uint64_t *bits;
	size_t nwords;
	/* The names it was last parsed with, so that fold can check that
	 * what it prints parses back; NULL for the defaults. */
	char *regularname;
	char *rebootname;
};

/* A node named regularname + digits, keyed by the value of the digits. */
struct ns_regular {
	long number;
	size_t index;
};

/* One parse: what it reads, the number index, the group stack, the error. */
struct ns_ctx {
	const struct inventory *inv;
	const struct nodeset_env *env;
	struct ns_regular *regular; /* sorted by number, built on demand */
	size_t nregular;
	int have_regular;
	const char *stack[NODESET_MAX_DEPTH]; /* groups being expanded */
	size_t depth;
	char *err;
	int loop; /* err names a group loop: print it unwrapped */
};

/* One inclusive range of a bracket, printed with width digits. */
struct ns_range {
	long lo;
	long hi;
	long step;
	int width;
};

/* Literal text, then the values of the bracket that follows it (if any). */
struct ns_seg {
	const char *lit;
	size_t litlen;
	long *values;
	int *widths;
	size_t n; /* 0 for the trailing literal */
};

struct ns_buf {
	char *s;
	size_t len;
	size_t cap;
};

/* A name being folded, split around its last run of digits. */
struct ns_fold {
	const char *name;
	size_t order; /* position in the input */
	size_t plen;  /* prefix: name[0, plen) */
	size_t dlen;  /* digits: name[plen, plen + dlen) */
	const char *suffix;
	long value;
	int width;    /* printf width of its bracket group, 0 = natural */
	int foldable; /* has 1-18 digits */
	size_t index; /* inventory index, for nodeset_fold */
};

/* A run of fold items printed as one hostlist element. */
struct ns_fold_group {
	size_t first; /* in the sorted item array */
	size_t last;  /* exclusive */
	size_t order; /* smallest input position of its members */
};

static int ns_fail(struct ns_ctx *, const char *, ...) printflike(2, 3);
static int ns_arg(struct ns_ctx *, struct nodeset *, const char *);
static int ns_words(struct ns_ctx *, struct nodeset *, const char *);
static int ns_item(struct ns_ctx *, struct nodeset *, const char *);
static int ns_fold_bare_ok(struct ns_ctx *, size_t);

struct nodeset *
nodeset_new(const struct inventory *inv)
{
	struct nodeset *set;

	set = xcalloc(1, sizeof *set);
	set->inv = inv;
	set->nwords = (inv->nnodes + 63) / 64;
	set->bits =
	    xcalloc(set->nwords == 0 ? 1 : set->nwords, sizeof *set->bits);
	return (set);
}

void
nodeset_free(struct nodeset *set)
{
	if (set == NULL)
		return;
	free(set->bits);
	free(set->regularname);
	free(set->rebootname);
	free(set);
}

struct nodeset *
nodeset_copy(const struct nodeset *set)
{
	struct nodeset *copy;

	copy = nodeset_new(set->inv);
	memcpy(copy->bits, set->bits, set->nwords * sizeof *set->bits);
	if (set->regularname != NULL)
		copy->regularname = xstrdup(set->regularname);
	if (set->rebootname != NULL)
		copy->rebootname = xstrdup(set->rebootname);
	return (copy);
}

void
nodeset_add(struct nodeset *set, size_t index)
{
	if (index < set->inv->nnodes)
		set->bits[index / 64] |= (uint64_t)1 << (index % 64);
}

void
nodeset_del(struct nodeset *set, size_t index)
{
	if (index < set->inv->nnodes)
		set->bits[index / 64] &= ~((uint64_t)1 << (index % 64));
}

int
nodeset_has(const struct nodeset *set, size_t index)
{
	if (index >= set->inv->nnodes)
		return (0);
	return ((set->bits[index / 64] >> (index % 64)) & 1);
}

size_t
nodeset_count(const struct nodeset *set)
{
	size_t i, n = 0;

	for (i = 0; i < set->nwords; i++)
		n += (size_t)__builtin_popcountll(set->bits[i]);
	return (n);
}

size_t
nodeset_next(const struct nodeset *set, size_t index)
{
	uint64_t word;
	size_t w;

	if (index >= set->inv->nnodes)
		return ((size_t)-1);
	w = index / 64;
	word = set->bits[w] & (~(uint64_t)0 << (index % 64));
	for (;;) {
		if (word != 0)
			return (w * 64 + (size_t)__builtin_ctzll(word));
		if (++w >= set->nwords)
			return ((size_t)-1);
		word = set->bits[w];
	}
}

static void
ns_fill(struct nodeset *set)
{
	size_t rest = set->inv->nnodes % 64;

	if (set->nwords == 0)
		return;
	memset(set->bits, 0xff, set->nwords * sizeof *set->bits);
	if (rest != 0)
		set->bits[set->nwords - 1] = ((uint64_t)1 << rest) - 1;
}

/* Combine src into dst with one of the operators. */
static void
ns_combine(struct nodeset *dst, int op, const struct nodeset *src)
{
	size_t i;

	for (i = 0; i < dst->nwords; i++) {
		switch (op) {
		case ',':
			dst->bits[i] |= src->bits[i];
			break;
		case '&':
			dst->bits[i] &= src->bits[i];
			break;
		default: /* '!' and '~' */
			dst->bits[i] &= ~src->bits[i];
			break;
		}
	}
}

static int
ns_fail(struct ns_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->err == NULL) {
		va_start(ap, fmt);
		xvasprintf(&ctx->err, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/* Say where an error came from ("@rack1: fit99: not in the inventory"). */
static void
ns_wrap(struct ns_ctx *ctx, const char *prefix)
{
	char *err;

	if (ctx->err == NULL)
		return;
	xasprintf(&err, "%s: %s", prefix, ctx->err);
	free(ctx->err);
	ctx->err = err;
}

/* Parse 1 to 18 decimal digits. 0, or -1 if s[0, len) is not that. */
static int
ns_number(const char *s, size_t len, long *vp)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > NODESET_MAX_DIGITS)
		return (-1);
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	*vp = v;
	return (0);
}

/* The value of name if it is prefix + digits. */
static int
ns_prefixed_number(const char *name, const char *prefix, long *vp)
{
	size_t len = strlen(prefix);

	if (strncmp(name, prefix, len) != 0)
		return (-1);
	return (ns_number(name + len, strlen(name + len), vp));
}

static int
ns_regular_cmp(const void *a, const void *b)
{
	const struct ns_regular *ra = a, *rb = b;

	if (ra->number != rb->number)
		return (ra->number < rb->number ? -1 : 1);
	return (ra->index < rb->index ? -1 : ra->index > rb->index);
}

/*
 * Index the nodes named regularname + digits. The inventory sorts them
 * already, so the qsort only runs if its order ever changes.
 */
static void
ns_regular_build(struct ns_ctx *ctx)
{
	const struct inventory *inv = ctx->inv;
	size_t i, n = 0;
	long v;
	int sorted = 1;

	if (ctx->have_regular)
		return;
	ctx->have_regular = 1;
	ctx->regular =
	    xcalloc(inv->nnodes == 0 ? 1 : inv->nnodes, sizeof *ctx->regular);
	for (i = 0; i < inv->nnodes; i++) {
		if (ns_prefixed_number(inv->nodes[i].name,
			ctx->env->regularname, &v) != 0)
			continue;
		if (n > 0 && ctx->regular[n - 1].number > v)
			sorted = 0;
		ctx->regular[n].number = v;
		ctx->regular[n++].index = i;
	}
	if (!sorted)
		qsort(ctx->regular, n, sizeof *ctx->regular, ns_regular_cmp);
	ctx->nregular = n;
}

/* Position of the first indexed node numbered lo or more. */
static size_t
ns_regular_lower(struct ns_ctx *ctx, long lo)
{
	size_t a = 0, b, mid;

	ns_regular_build(ctx);
	b = ctx->nregular;
	while (a < b) {
		mid = a + (b - a) / 2;
		if (ctx->regular[mid].number < lo)
			a = mid + 1;
		else
			b = mid;
	}
	return (a);
}

/* The node numbered n, or (size_t)-1. */
static size_t
ns_regular_find(struct ns_ctx *ctx, long n)
{
	size_t i;

	i = ns_regular_lower(ctx, n);
	if (i < ctx->nregular && ctx->regular[i].number == n)
		return (ctx->regular[i].index);
	return ((size_t)-1);
}

/*
 * Add nodes lo, lo + step, ... up to hi; each must exist. lo > hi is an
 * empty range, as Python's range() made it in rhubarbe.
 */
static int
ns_numbers(struct ns_ctx *ctx, struct nodeset *out, long lo, long hi, long step)
{
	size_t i;
	long n, expect = lo;

	if (lo > hi)
		return (0);
	/* Walk the indexed nodes in [lo, hi]; expect is the next one due. */
	for (i = ns_regular_lower(ctx, lo); i < ctx->nregular; i++) {
		n = ctx->regular[i].number;
		if (n > hi)
			break;
		if ((n - lo) % step != 0)
			continue;
		if (n != expect)
			break;
		nodeset_add(out, ctx->regular[i].index);
		if (hi - expect < step)
			return (0);
		expect += step;
	}
	return (ns_fail(ctx, "%s%02ld: not in the inventory",
	    ctx->env->regularname, expect));
}

/* Remove every occurrence of needle, left to right, like str.replace. */
static void
ns_remove_all(char *s, const char *needle)
{
	size_t n = strlen(needle);
	char *r = s, *w = s, *p;

	if (n == 0)
		return;
	while ((p = strstr(r, needle)) != NULL) {
		memmove(w, r, (size_t)(p - r));
		w += p - r;
		r = p + n;
	}
	memmove(w, r, strlen(r) + 1);
}

/*
 * rhubarbe's numeric form: the number of '-' separated parts if all are
 * numbers (the first three stored), or 0.
 */
static size_t
ns_range_parts(const char *s, long *parts, size_t max)
{
	const char *dash;
	size_t n = 0, len;
	long v;

	for (;;) {
		dash = strchr(s, '-');
		len = dash != NULL ? (size_t)(dash - s) : strlen(s);
		if (ns_number(s, len, &v) != 0)
			return (0);
		if (n < max)
			parts[n] = v;
		n++;
		if (dash == NULL)
			return (n);
		s = dash + 1;
	}
}

/*
 * The stripped text of an item, as rhubarbe saw it: every regularname and
 * rebootname removed, wherever they are.
 */
static char *
ns_strip(const struct nodeset_env *env, const char *item)
{
	char *s;

	s = xstrdup(item);
	ns_remove_all(s, env->regularname);
	ns_remove_all(s, env->rebootname);
	return (s);
}

/* A numeric item, or a hostname. */
static int
ns_plain(struct ns_ctx *ctx, struct nodeset *out, const char *item)
{
	const struct inv_node *node;
	char *s;
	long parts[3];
	size_t n;
	int misformed;

	s = ns_strip(ctx->env, item);
	n = ns_range_parts(s, parts, nitems(parts));
	misformed = s[0] != '\0' && s[strspn(s, "0123456789-")] == '\0';
	free(s);
	if (n > 3)
		return (ns_fail(ctx, "misformed node range '%s'", item));
	if (n == 3 && parts[2] == 0)
		return (
		    ns_fail(ctx, "misformed node range '%s' (step 0)", item));
	if (n > 0)
		return (ns_numbers(ctx, out, parts[0], parts[n > 1],
		    n == 3 ? parts[2] : 1));
	if ((node = inventory_find(ctx->inv, item)) != NULL) {
		nodeset_add(out, inventory_index(ctx->inv, node));
		return (0);
	}
	if (misformed)
		return (ns_fail(ctx, "misformed node range '%s'", item));
	return (ns_fail(ctx, "%s: not in the inventory", item));
}

/* One name from a bracket: exactly, else by number if it has the form. */
static int
ns_resolve(struct ns_ctx *ctx, struct nodeset *out, const char *name)
{
	const struct inv_node *node;
	size_t i;
	long v;

	if ((node = inventory_find(ctx->inv, name)) != NULL) {
		nodeset_add(out, inventory_index(ctx->inv, node));
		return (0);
	}
	if (ns_prefixed_number(name, ctx->env->regularname, &v) == 0 ||
	    ns_prefixed_number(name, ctx->env->rebootname, &v) == 0) {
		if ((i = ns_regular_find(ctx, v)) != (size_t)-1) {
			nodeset_add(out, i);
			return (0);
		}
	}
	return (ns_fail(ctx, "%s: not in the inventory", name));
}

/*
 * Parse the ranges of one bracket, p just after '['. Returns the position
 * after ']' and adds the count to *countp, or NULL if misformed.
 */
static const char *
ns_bracket_parse(const char *p, struct ns_range **rangesp, size_t *nrangesp,
    size_t *countp, int *step0)
{
	struct ns_range r;
	size_t len;
	long count;

	for (;;) {
		len = strspn(p, "0123456789");
		if (ns_number(p, len, &r.lo) != 0)
			return (NULL);
		r.width = (int)len;
		r.hi = r.lo;
		r.step = 1;
		p += len;
		if (*p == '-') {
			len = strspn(++p, "0123456789");
			if (ns_number(p, len, &r.hi) != 0 || r.hi < r.lo)
				return (NULL);
			p += len;
			if (*p == '/') {
				len = strspn(++p, "0123456789");
				if (ns_number(p, len, &r.step) != 0)
					return (NULL);
				if (r.step == 0) {
					*step0 = 1;
					return (NULL);
				}
				p += len;
			}
		}
		count = (r.hi - r.lo) / r.step + 1;
		if (count > NODESET_MAX_NAMES ||
		    *countp + (size_t)count > NODESET_MAX_NAMES)
			*countp = NODESET_MAX_NAMES + 1;
		else
			*countp += (size_t)count;
		*rangesp =
		    xreallocarray(*rangesp, *nrangesp + 1, sizeof **rangesp);
		(*rangesp)[(*nrangesp)++] = r;
		if (*p == ']')
			return (p + 1);
		if (*p != ',')
			return (NULL);
		p++;
	}
}

/* Print value into buf with at least width digits. */
static size_t
ns_format(char *buf, size_t size, long value, int width)
{
	int n;

	n = snprintf(buf, size, "%0*ld", width, value);
	return (n < 0 ? 0 : (size_t)n);
}

/*
 * A bracket hostlist: literal text and brackets, their cartesian product
 * (at most NODESET_MAX_NAMES names).
 */
static int
ns_hostlist(struct ns_ctx *ctx, struct nodeset *out, const char *item)
{
	struct ns_seg *segs = NULL;
	struct ns_range *ranges;
	const char *p = item, *open;
	size_t nsegs = 0, nranges, count, total = 1, i, j, *pos = NULL;
	size_t namesize, len;
	char *name = NULL;
	long v;
	int r = -1, step0 = 0;

	segs = xcalloc(strlen(item) + 1, sizeof *segs);
	for (;;) {
		struct ns_seg *seg = &segs[nsegs++];

		open = strchr(p, '[');
		seg->lit = p;
		seg->litlen = open != NULL ? (size_t)(open - p) : strlen(p);
		if (memchr(seg->lit, ']', seg->litlen) != NULL)
			goto misformed;
		if (open == NULL)
			break;
		ranges = NULL;
		nranges = count = 0;
		p = ns_bracket_parse(open + 1, &ranges, &nranges, &count,
		    &step0);
		if (p == NULL) {
			free(ranges);
			goto misformed;
		}
		if (count > NODESET_MAX_NAMES ||
		    total * count > NODESET_MAX_NAMES) {
			free(ranges);
			ns_fail(ctx, "'%s': more than %d names", item,
			    NODESET_MAX_NAMES);
			goto out;
		}
		total *= count;
		seg->values = xcalloc(count, sizeof *seg->values);
		seg->widths = xcalloc(count, sizeof *seg->widths);
		for (i = 0; i < nranges; i++) {
			for (v = ranges[i].lo;; v += ranges[i].step) {
				seg->values[seg->n] = v;
				seg->widths[seg->n++] = ranges[i].width;
				if (ranges[i].hi - v < ranges[i].step)
					break;
			}
		}
		free(ranges);
	}

	/* Walk the product like an odometer, last bracket fastest. */
	namesize = strlen(item) + nsegs * (NODESET_MAX_DIGITS + 1) + 1;
	name = xmalloc(namesize);
	pos = xcalloc(nsegs, sizeof *pos);
	for (;;) {
		len = 0;
		for (i = 0; i < nsegs; i++) {
			memcpy(name + len, segs[i].lit, segs[i].litlen);
			len += segs[i].litlen;
			if (segs[i].n > 0)
				len += ns_format(name + len, namesize - len,
				    segs[i].values[pos[i]],
				    segs[i].widths[pos[i]]);
		}
		name[len] = '\0';
		if (ns_resolve(ctx, out, name) != 0)
			goto out;
		for (j = nsegs; j > 0; j--) {
			if (segs[j - 1].n == 0)
				continue;
			if (++pos[j - 1] < segs[j - 1].n)
				break;
			pos[j - 1] = 0;
		}
		if (j == 0)
			break;
	}
	r = 0;
	goto out;

misformed:
	if (step0)
		ns_fail(ctx, "misformed hostlist '%s' (step 0)", item);
	else
		ns_fail(ctx, "misformed hostlist '%s'", item);
out:
	for (i = 0; i < nsegs; i++) {
		free(segs[i].values);
		free(segs[i].widths);
	}
	free(segs);
	free(pos);
	free(name);
	return (r);
}

/* Does the node declare this group? Lists are short: scan. */
static int
ns_node_in_group(const struct inv_node *node, const char *name)
{
	size_t i;

	for (i = 0; i < node->ngroups; i++) {
		if (strcmp(node->groups[i], name) == 0)
			return (1);
	}
	return (0);
}

/*
 * '@name': the nodes that declare the group, plus the groups file's spec
 * for it. '@all' is every node unless a group of that name exists.
 */
static int
ns_group(struct ns_ctx *ctx, struct nodeset *out, const char *item)
{
	const struct inventory *inv = ctx->inv;
	const char *name = item + 1, *spec = NULL;
	struct nodeset *sub;
	size_t i;
	int found = 0, r;

	if (!groups_name_ok(name))
		return (ns_fail(ctx, "misformed group name '%s'", item));
	for (i = 0; i < ctx->depth; i++) {
		if (strcmp(ctx->stack[i], name) == 0)
			break;
	}
	if (i < ctx->depth || ctx->depth == NODESET_MAX_DEPTH) {
		ctx->loop = 1;
		return (ns_fail(ctx, "@%s: group loop", name));
	}
	for (i = 0; i < inv->nnodes; i++) {
		if (ns_node_in_group(&inv->nodes[i], name)) {
			nodeset_add(out, i);
			found = 1;
		}
	}
	if (ctx->env->groups != NULL)
		spec = groups_find(ctx->env->groups, name);
	if (spec != NULL) {
		sub = nodeset_new(inv);
		ctx->stack[ctx->depth++] = name;
		r = ns_words(ctx, sub, spec);
		ctx->depth--;
		if (r != 0) {
			if (!ctx->loop)
				ns_wrap(ctx, item);
			nodeset_free(sub);
			return (-1);
		}
		ns_combine(out, ',', sub);
		nodeset_free(sub);
		found = 1;
	}
	if (!found && strcmp(name, "all") == 0) {
		ns_fill(out);
		found = 1;
	}
	if (!found)
		return (ns_fail(ctx, "@%s: no such group", name));
	return (0);
}

static int
ns_item(struct ns_ctx *ctx, struct nodeset *out, const char *item)
{
	if (item[0] == '@')
		return (ns_group(ctx, out, item));
	if (strpbrk(item, "[]") != NULL)
		return (ns_hostlist(ctx, out, item));
	return (ns_plain(ctx, out, item));
}

/*
 * One argument: items joined by operators outside brackets, applied left
 * to right. An operator after ',' replaces it ("1-10,~5"); a leading one
 * applies to the first item ("~5").
 */
static int
ns_arg(struct ns_ctx *ctx, struct nodeset *set, const char *arg)
{
	struct nodeset *tmp;
	const char *p = arg, *start;
	char *item;
	int op = ',', inside, r;

	if (*p == '\0')
		return (ns_fail(ctx, "empty node spec"));
	if (strchr(NODESET_OPERATORS, *p) != NULL && *p != ',')
		op = (unsigned char)*p++;
	tmp = nodeset_new(ctx->inv);
	for (;;) {
		start = p;
		inside = 0;
		for (; *p != '\0'; p++) {
			if (*p == '[')
				inside = 1;
			else if (*p == ']')
				inside = 0;
			else if (!inside && strchr(NODESET_OPERATORS, *p))
				break;
		}
		if (p == start) {
			nodeset_free(tmp);
			return (ns_fail(ctx, "misformed node spec '%s'", arg));
		}
		item = xstrndup(start, (size_t)(p - start));
		memset(tmp->bits, 0, tmp->nwords * sizeof *tmp->bits);
		r = ns_item(ctx, tmp, item);
		free(item);
		if (r != 0) {
			nodeset_free(tmp);
			return (-1);
		}
		ns_combine(set, op, tmp);
		if (*p == '\0')
			break;
		op = (unsigned char)*p++;
		if (op == ',' && *p != '\0' && *p != ',' &&
		    strchr(NODESET_OPERATORS, *p) != NULL)
			op = (unsigned char)*p++;
	}
	nodeset_free(tmp);
	return (0);
}

/* Each whitespace-separated word of text as an argument. */
static int
ns_words(struct ns_ctx *ctx, struct nodeset *set, const char *text)
{
	char *copy, *word, *last;
	int r = 0;

	copy = xstrdup(text);
	for (word = strtok_r(copy, NODESET_SPACE, &last); word != NULL;
	     word = strtok_r(NULL, NODESET_SPACE, &last)) {
		if ((r = ns_arg(ctx, set, word)) != 0)
			break;
	}
	free(copy);
	return (r);
}

static int
ns_blank(const char *s)
{
	return (s == NULL || s[strspn(s, NODESET_SPACE)] == '\0');
}

static void
ns_ctx_init(struct ns_ctx *ctx, const struct nodeset *set,
    const struct nodeset_env *env)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->inv = set->inv;
	ctx->env = env;
}

static void
ns_set_names(struct nodeset *set, const struct nodeset_env *env)
{
	free(set->regularname);
	free(set->rebootname);
	set->regularname = xstrdup(env->regularname);
	set->rebootname = xstrdup(env->rebootname);
}

/* Keep the work on success, report the error otherwise. */
static int
ns_ctx_finish(struct ns_ctx *ctx, struct nodeset *set, struct nodeset *work,
    int r, char **errp)
{
	if (r == 0) {
		memcpy(set->bits, work->bits, set->nwords * sizeof *set->bits);
		ns_set_names(set, ctx->env);
	} else if (errp != NULL) {
		*errp = ctx->err;
		ctx->err = NULL;
	}
	free(ctx->err);
	free(ctx->regular);
	nodeset_free(work);
	return (r == 0 ? 0 : -1);
}

int
nodeset_apply(struct nodeset *set, const struct nodeset_env *env,
    const char *arg, char **errp)
{
	struct ns_ctx ctx;
	struct nodeset *work;
	int r;

	if (errp != NULL)
		*errp = NULL;
	ns_ctx_init(&ctx, set, env);
	work = nodeset_copy(set);
	r = ns_arg(&ctx, work, arg);
	return (ns_ctx_finish(&ctx, set, work, r, errp));
}

int
nodeset_select(struct nodeset *set, const struct nodeset_env *env,
    int all_nodes, int argc, char *const *argv, const char *env_nodes,
    char **errp)
{
	struct ns_ctx ctx;
	struct nodeset *work;
	int i, r = 0;

	if (errp != NULL)
		*errp = NULL;
	ns_ctx_init(&ctx, set, env);
	work = nodeset_copy(set);
	if (all_nodes) {
		if (ns_blank(env->all_scope))
			ns_fill(work);
		else if ((r = ns_words(&ctx, work, env->all_scope)) != 0)
			ns_wrap(&ctx, "testbed.all_scope");
	}
	for (i = 0; r == 0 && i < argc; i++)
		r = ns_arg(&ctx, work, argv[i]);
	if (r == 0 && !all_nodes && argc == 0) {
		if (ns_blank(env_nodes))
			r = ns_fail(&ctx,
			    "no nodes given: name some, use -a, "
			    "or set NODES");
		else if ((r = ns_words(&ctx, work, env_nodes)) != 0)
			ns_wrap(&ctx, "NODES");
	}
	return (ns_ctx_finish(&ctx, set, work, r, errp));
}

static void
ns_buf_add(struct ns_buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->s = xreallocarray(b->s, 1, b->cap);
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

static void
ns_buf_str(struct ns_buf *b, const char *s)
{
	ns_buf_add(b, s, strlen(s));
}

static char *
ns_buf_done(struct ns_buf *b)
{
	if (b->s == NULL)
		return (xstrdup(""));
	return (b->s);
}

char *
nodeset_join(const struct nodeset *set, const char *sep)
{
	struct ns_buf b = {NULL, 0, 0};
	size_t i;
	int first = 1;

	for (i = nodeset_next(set, 0); i != (size_t)-1;
	     i = nodeset_next(set, i + 1)) {
		if (!first)
			ns_buf_str(&b, sep);
		ns_buf_str(&b, set->inv->nodes[i].name);
		first = 0;
	}
	return (ns_buf_done(&b));
}

static int
ns_cmp_len(const char *a, size_t la, const char *b, size_t lb)
{
	int c;

	if ((c = memcmp(a, b, la < lb ? la : lb)) != 0)
		return (c);
	return (la < lb ? -1 : la > lb);
}

/* Same prefix and suffix, or the same name if not foldable. */
static int
ns_fold_cmp_stem(const struct ns_fold *a, const struct ns_fold *b)
{
	int c;

	if (a->foldable != b->foldable)
		return (a->foldable ? -1 : 1);
	if (!a->foldable)
		return (strcmp(a->name, b->name));
	if ((c = ns_cmp_len(a->name, a->plen, b->name, b->plen)) != 0)
		return (c);
	return (strcmp(a->suffix, b->suffix));
}

/* By stem, then value, then input position. */
static int
ns_fold_cmp_sort(const struct ns_fold *a, const struct ns_fold *b)
{
	int c;

	if ((c = ns_fold_cmp_stem(a, b)) != 0)
		return (c);
	if (a->value != b->value)
		return (a->value < b->value ? -1 : 1);
	return (a->order < b->order ? -1 : a->order > b->order);
}

static int
ns_fold_cmp_sort_q(const void *a, const void *b)
{
	return (ns_fold_cmp_sort(a, b));
}

static int
ns_fold_cmp_group(const struct ns_fold *a, const struct ns_fold *b)
{
	int c;

	if ((c = ns_fold_cmp_stem(a, b)) != 0)
		return (c);
	return (a->width < b->width ? -1 : a->width > b->width);
}

static int
ns_fold_group_cmp_q(const void *a, const void *b)
{
	const struct ns_fold_group *ga = a, *gb = b;

	return (ga->order < gb->order ? -1 : ga->order > gb->order);
}

/* Split a name around its last run of digits. */
static void
ns_fold_split(struct ns_fold *f, const char *name, size_t order)
{
	size_t end = strlen(name), start;

	memset(f, 0, sizeof *f);
	f->name = name;
	f->order = order;
	while (end > 0 && !isdigit((unsigned char)name[end - 1]))
		end--;
	start = end;
	while (start > 0 && isdigit((unsigned char)name[start - 1]))
		start--;
	if (ns_number(name + start, end - start, &f->value) != 0)
		return;
	f->foldable = 1;
	f->plen = start;
	f->dlen = end - start;
	f->suffix = name + end;
}

/*
 * Choose each name's bracket width. A zero-padded number ("07") needs its
 * exact width; a natural one ("7", "12") prints the same with any width up
 * to its length, so it joins the widest padded group it fits in: fit01 and
 * fit12 both go in fit[01-12]. items[first, last) share prefix and suffix.
 */
static void
ns_fold_widths(struct ns_fold *items, size_t first, size_t last)
{
	int padded[NODESET_MAX_DIGITS + 1] = {0}, w;
	size_t i;

	for (i = first; i < last; i++) {
		if (items[i].dlen > 1 && items[i].name[items[i].plen] == '0') {
			items[i].width = (int)items[i].dlen;
			padded[items[i].dlen] = 1;
		}
	}
	for (i = first; i < last; i++) {
		if (items[i].width != 0)
			continue;
		for (w = (int)items[i].dlen; w > 1 && !padded[w]; w--)
			;
		items[i].width = w > 1 ? w : 0;
	}
}

/*
 * Give items[first, last) (one stem, sorted by value) their widths, then
 * order them by width keeping the value order: a stable counting sort.
 */
static void
ns_fold_partition(struct ns_fold *items, struct ns_fold *tmp, size_t first,
    size_t last)
{
	size_t start[NODESET_MAX_DIGITS + 2] = {0}, i;
	int w;

	ns_fold_widths(items, first, last);
	for (i = first; i < last; i++)
		start[items[i].width + 1]++;
	for (w = 1; w <= NODESET_MAX_DIGITS + 1; w++)
		start[w] += start[w - 1];
	for (i = first; i < last; i++)
		tmp[start[items[i].width]++] = items[i];
	memcpy(items + first, tmp, (last - first) * sizeof *items);
}

/* Print one group: bare if a single safe name, else prefix[ranges]suffix. */
static void
ns_fold_print(struct ns_buf *b, struct ns_ctx *ctx, const struct ns_fold *items,
    size_t first, size_t last)
{
	const struct ns_fold *f = &items[first];
	char num[32];
	size_t i, j, n;

	if (!f->foldable ||
	    (last - first == 1 &&
		(ctx == NULL || ns_fold_bare_ok(ctx, f->index)))) {
		ns_buf_str(b, f->name);
		return;
	}
	ns_buf_add(b, f->name, f->plen);
	ns_buf_add(b, "[", 1);
	for (i = first; i < last; i = j) {
		for (j = i + 1;
		     j < last && items[j].value == items[j - 1].value + 1; j++)
			;
		if (i != first)
			ns_buf_add(b, ",", 1);
		n = ns_format(num, sizeof num, items[i].value, items[i].width);
		ns_buf_add(b, num, n);
		if (j - i > 1) {
			ns_buf_add(b, "-", 1);
			n = ns_format(num, sizeof num, items[j - 1].value,
			    items[i].width);
			ns_buf_add(b, num, n);
		}
	}
	ns_buf_add(b, "]", 1);
	ns_buf_str(b, f->suffix);
}

/*
 * Fold items (consumed): group, order groups by first appearance, print.
 * With a ctx, the items are inventory nodes and a name printed alone is
 * checked to parse back to itself.
 */
static char *
ns_fold_items(struct ns_ctx *ctx, struct ns_fold *items, size_t n)
{
	struct ns_fold_group *groups;
	struct ns_fold *tmp;
	struct ns_buf b = {NULL, 0, 0};
	size_t i, j, k, ngroups = 0;

	if (n == 0) {
		free(items);
		return (xstrdup(""));
	}
	/* Nodes come in inventory order, which is usually sorted already. */
	for (i = 1; i < n; i++) {
		if (ns_fold_cmp_sort(&items[i - 1], &items[i]) > 0) {
			qsort(items, n, sizeof *items, ns_fold_cmp_sort_q);
			break;
		}
	}
	tmp = xcalloc(n, sizeof *tmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1;
		     j < n && ns_fold_cmp_stem(&items[i], &items[j]) == 0; j++)
			;
		if (items[i].foldable)
			ns_fold_partition(items, tmp, i, j);
	}
	free(tmp);

	/* Drop duplicates (same group and value, or same bare name). */
	for (i = 0, k = 0; i < n; i++) {
		if (k > 0 && ns_fold_cmp_group(&items[k - 1], &items[i]) == 0 &&
		    (!items[i].foldable ||
			items[k - 1].value == items[i].value))
			continue;
		items[k++] = items[i];
	}
	n = k;

	groups = xcalloc(n, sizeof *groups);
	for (i = 0; i < n; i = j) {
		groups[ngroups].first = i;
		groups[ngroups].order = items[i].order;
		for (j = i + 1;
		     j < n && ns_fold_cmp_group(&items[i], &items[j]) == 0;
		     j++) {
			if (items[j].order < groups[ngroups].order)
				groups[ngroups].order = items[j].order;
		}
		groups[ngroups++].last = j;
	}
	qsort(groups, ngroups, sizeof *groups, ns_fold_group_cmp_q);
	for (i = 0; i < ngroups; i++) {
		if (i > 0)
			ns_buf_add(&b, ",", 1);
		ns_fold_print(&b, ctx, items, groups[i].first, groups[i].last);
	}
	free(groups);
	free(items);
	return (ns_buf_done(&b));
}

char *
nodeset_fold_names(const char *const *names, size_t n)
{
	struct ns_fold *items;
	size_t i;

	items = xcalloc(n == 0 ? 1 : n, sizeof *items);
	for (i = 0; i < n; i++)
		ns_fold_split(&items[i], names[i], i);
	return (ns_fold_items(NULL, items, n));
}

/*
 * Would this control name, printed alone, parse back to its own node and
 * only it? Not if rhubarbe's numeric form reads it as something else:
 * "reboot3" or "fit1-3" as control names, "fit3" with a different
 * regularname. Such names keep brackets, which resolve exactly.
 */
static int
ns_fold_bare_ok(struct ns_ctx *ctx, size_t index)
{
	const char *name = ctx->inv->nodes[index].name;
	char *s;
	long parts[3], v;
	size_t n;

	s = ns_strip(ctx->env, name);
	n = ns_range_parts(s, parts, nitems(parts));
	free(s);
	if (n == 0)
		return (1);
	if (n > 1)
		return (0);
	return (ns_prefixed_number(name, ctx->env->regularname, &v) == 0 &&
	    v == parts[0] && ns_regular_find(ctx, v) == index);
}

char *
nodeset_fold(const struct nodeset *set)
{
	struct nodeset_env env = {"fit", "reboot", "", NULL};
	struct ns_ctx ctx;
	struct ns_fold *items;
	char *folded;
	size_t i, n = 0;

	if (set->regularname != NULL)
		env.regularname = set->regularname;
	if (set->rebootname != NULL)
		env.rebootname = set->rebootname;
	ns_ctx_init(&ctx, set, &env);
	items = xcalloc(nodeset_count(set) + 1, sizeof *items);
	for (i = nodeset_next(set, 0); i != (size_t)-1;
	     i = nodeset_next(set, i + 1)) {
		ns_fold_split(&items[n], set->inv->nodes[i].name, n);
		items[n++].index = i;
	}
	folded = ns_fold_items(&ctx, items, n);
	free(ctx.regular);
	return (folded);
}
