/*
 * The image repository: scanning the public images directory and the
 * current one for *.ndz, radicals, clusters of a file and its aliases,
 * the lookup "load -i" and "resolve" share, and the names users give.
 * rhubarbe's rules (notes/rhubarbe.md 1.3), with one change: a path to an
 * existing *.ndz file anywhere is accepted, where rhubarbe only ever found
 * files in the two directories.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "inventory/images.h"

static void images_warn(struct images *, const char *, ...) printflike(2, 3);
static int images_fill(struct image *, const char *, int, char **);
static void images_scan_dir(struct images *, const char *, int);
static int images_cmp_path(const void *, const void *);
static int images_cmp_inode(const void *, const void *);
static int images_cmp_newest(const void *, const void *);
static void images_cluster(struct images *);
static int images_matches(const struct image *, const char *);
static void images_clear(struct image *);

static int
images_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return (n > m && strcmp(s + n - m, suffix) == 0);
}

static const char *
images_basename(const char *path)
{
	const char *p = strrchr(path, '/');

	return (p != NULL ? p + 1 : path);
}

/* The file name without its directory and without ".ndz". */
static char *
images_stem(const char *path)
{
	const char *base = images_basename(path);
	size_t len = strlen(base);

	if (images_has_suffix(base, IMAGES_SUFFIX))
		len -= strlen(IMAGES_SUFFIX);
	return (xstrndup(base, len));
}

/*
 * The length of "saving__NODE__YYYY-MM-DD@HH-MM__" at the start of stem,
 * or 0. NODE is a host name (letters, digits, '-', '.'); the separator
 * between hours and minutes may be any character, as rhubarbe's pattern.
 */
static size_t
images_saving_prefix(const char *stem)
{
	static const char date[] = "DDDD-DD-DD@DD?DD";
	const char *p = stem, *node;
	size_t i;

	if (strncmp(p, "saving__", 8) != 0)
		return (0);
	node = p += 8;
	while (isalnum((unsigned char)*p) || *p == '-' || *p == '.')
		p++;
	if (p == node || strncmp(p, "__", 2) != 0)
		return (0);
	p += 2;
	for (i = 0; i < sizeof date - 1; i++, p++) {
		if (*p == '\0')
			return (0);
		if (date[i] == 'D' && !isdigit((unsigned char)*p))
			return (0);
		if (date[i] != 'D' && date[i] != '?' && *p != date[i])
			return (0);
	}
	if (strncmp(p, "__", 2) != 0 || p[2] == '\0')
		return (0);
	return ((size_t)(p + 2 - stem));
}

char *
images_radical(const char *path)
{
	char *stem, *radical;
	size_t skip;

	stem = images_stem(path);
	if ((skip = images_saving_prefix(stem)) == 0)
		return (stem);
	radical = xstrdup(stem + skip);
	free(stem);
	return (radical);
}

static void
images_warn(struct images *im, const char *fmt, ...)
{
	va_list ap;

	im->warnings = xreallocarray(im->warnings, im->nwarnings + 1,
	    sizeof *im->warnings);
	va_start(ap, fmt);
	xvasprintf(&im->warnings[im->nwarnings++], fmt, ap);
	va_end(ap);
}

/* Stat path into im; 0, or -1 with *errp. */
static int
images_fill(struct image *img, const char *path, int public, char **errp)
{
	struct stat lsb, sb;

	memset(img, 0, sizeof *img);
	if (lstat(path, &lsb) != 0 || stat(path, &sb) != 0) {
		xasprintf(errp, "%s: %s%s", path, strerror(errno),
		    errno == ENOENT ? " (dangling link?)" : "");
		return (-1);
	}
	if (!S_ISREG(sb.st_mode)) {
		xasprintf(errp, "%s: not a regular file", path);
		return (-1);
	}
	img->path = xstrdup(path);
	img->radical = images_radical(path);
	img->is_link = S_ISLNK(lsb.st_mode);
	img->is_public = public;
	img->mtime = sb.st_mtime;
	img->size = sb.st_size;
	img->dev = sb.st_dev;
	img->ino = sb.st_ino;
	return (0);
}

static void
images_clear(struct image *img)
{
	if (img == NULL)
		return;
	free(img->path);
	free(img->radical);
}

static void
images_scan_dir(struct images *im, const char *dir, int public)
{
	struct dirent *de;
	DIR *d;
	char *path, *err;

	if ((d = opendir(dir)) == NULL) {
		images_warn(im, "images directory %s: %s", dir,
		    strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		/* As glob("*.ndz"): no hidden files (our temporaries). */
		if (de->d_name[0] == '.' ||
		    !images_has_suffix(de->d_name, IMAGES_SUFFIX))
			continue;
		if (!public)
			path = xstrdup(de->d_name);
		else if (images_has_suffix(dir, "/"))
			xasprintf(&path, "%s%s", dir, de->d_name);
		else
			xasprintf(&path, "%s/%s", dir, de->d_name);
		im->v = xreallocarray(im->v, im->n + 1, sizeof *im->v);
		if (images_fill(&im->v[im->n], path, public, &err) == 0)
			im->n++;
		else {
			images_warn(im, "%s; ignored", err);
			free(err);
		}
		free(path);
	}
	closedir(d);
}

static int
images_cmp_path(const void *a, const void *b)
{
	const struct image *x = a, *y = b;

	return (strcmp(x->path, y->path));
}

/* Same file together; in one file, non-links first, then by path. */
static int
images_cmp_inode(const void *a, const void *b)
{
	const struct image *x = *(struct image *const *)a;
	const struct image *y = *(struct image *const *)b;

	if (x->dev != y->dev)
		return (x->dev < y->dev ? -1 : 1);
	if (x->ino != y->ino)
		return (x->ino < y->ino ? -1 : 1);
	if (x->is_link != y->is_link)
		return (x->is_link - y->is_link);
	return (strcmp(x->path, y->path));
}

static int
images_cmp_cluster(const void *a, const void *b)
{
	const struct image_cluster *x = a, *y = b;

	return (strcmp(x->members[0]->path, y->members[0]->path));
}

static void
images_cluster(struct images *im)
{
	struct image **order;
	struct image_cluster *c;
	size_t i, j;

	if (im->n == 0)
		return;
	order = xreallocarray(NULL, im->n, sizeof *order);
	for (i = 0; i < im->n; i++)
		order[i] = &im->v[i];
	qsort(order, im->n, sizeof *order, images_cmp_inode);
	for (i = 0; i < im->n; i = j) {
		for (j = i + 1; j < im->n; j++) {
			if (order[j]->dev != order[i]->dev ||
			    order[j]->ino != order[i]->ino)
				break;
		}
		im->clusters = xreallocarray(im->clusters, im->nclusters + 1,
		    sizeof *im->clusters);
		c = &im->clusters[im->nclusters++];
		c->nmembers = j - i;
		c->members = xreallocarray(NULL, j - i, sizeof *c->members);
		memcpy(c->members, order + i, (j - i) * sizeof *order);
	}
	free(order);
	qsort(im->clusters, im->nclusters, sizeof *im->clusters,
	    images_cmp_cluster);
}

struct images *
images_scan(const char *public_dir, int public_only)
{
	struct images *im;
	struct stat here, there;

	im = xcalloc(1, sizeof *im);
	if (public_dir != NULL && *public_dir != '\0') {
		im->public_dir = xstrdup(public_dir);
		if (stat(".", &here) == 0 && stat(public_dir, &there) == 0 &&
		    here.st_dev == there.st_dev && here.st_ino == there.st_ino)
			im->cwd_is_public = 1;
		images_scan_dir(im, public_dir, 1);
	}
	if (!public_only && !im->cwd_is_public)
		images_scan_dir(im, ".", 0);
	if (im->n > 0)
		qsort(im->v, im->n, sizeof *im->v, images_cmp_path);
	images_cluster(im);
	return (im);
}

void
images_free(struct images *im)
{
	size_t i;

	if (im == NULL)
		return;
	for (i = 0; i < im->n; i++)
		images_clear(&im->v[i]);
	free(im->v);
	for (i = 0; i < im->nclusters; i++)
		free(im->clusters[i].members);
	free(im->clusters);
	for (i = 0; i < im->nwarnings; i++)
		free(im->warnings[i]);
	free(im->warnings);
	images_clear(im->given);
	free(im->given);
	free(im->public_dir);
	free(im);
}

/* ARG names img by its radical, stem, file name or path. */
static int
images_matches(const struct image *img, const char *arg)
{
	const char *base = images_basename(img->path);
	size_t n = strlen(base) - strlen(IMAGES_SUFFIX);

	return (strcmp(img->radical, arg) == 0 || strcmp(img->path, arg) == 0 ||
	    strcmp(base, arg) == 0 ||
	    (strncmp(base, arg, n) == 0 && arg[n] == '\0'));
}

/* Newest first; on a tie, public first, then by path, so it is stable. */
static int
images_cmp_newest(const void *a, const void *b)
{
	const struct image *x = *(const struct image *const *)a;
	const struct image *y = *(const struct image *const *)b;

	if (x->mtime != y->mtime)
		return (x->mtime > y->mtime ? -1 : 1);
	if (x->is_public != y->is_public)
		return (y->is_public - x->is_public);
	return (strcmp(x->path, y->path));
}

size_t
images_candidates(const struct images *im, const char *arg,
    const struct image ***listp)
{
	const struct image **list = NULL;
	size_t i, n = 0;

	for (i = 0; i < im->n; i++) {
		if (!images_matches(&im->v[i], arg))
			continue;
		list = xreallocarray(list, n + 1, sizeof *list);
		list[n++] = &im->v[i];
	}
	if (n > 1)
		qsort(list, n, sizeof *list, images_cmp_newest);
	*listp = list;
	return (n);
}

const struct image *
images_lookup(struct images *im, const char *arg, int *bad, char **errp)
{
	const struct image **list, *found;
	const unsigned char *p;
	struct stat sb;
	size_t i, n;

	*bad = 1;
	if (*arg == '\0') {
		*errp = xstrdup("empty image name");
		return (NULL);
	}
	if (strlen(arg) >= PATH_MAX) {
		*errp = xstrdup("image name too long");
		return (NULL);
	}
	for (p = (const unsigned char *)arg; *p != '\0'; p++) {
		if (iscntrl(*p)) {
			xasprintf(errp,
			    "image name has a control character "
			    "(0x%02x)",
			    *p);
			return (NULL);
		}
	}
	*bad = 0;

	/* A path the scan found, as the user spelt it. */
	for (i = 0; i < im->n; i++) {
		if (strcmp(im->v[i].path, arg) == 0)
			return (&im->v[i]);
	}
	/* A path to a file anywhere (rhubarbe never looked outside). */
	if (strchr(arg, '/') != NULL ||
	    (images_has_suffix(arg, IMAGES_SUFFIX) && stat(arg, &sb) == 0)) {
		if (strchr(arg, '/') != NULL && stat(arg, &sb) != 0) {
			xasprintf(errp, "image %s: %s", arg, strerror(errno));
			return (NULL);
		}
		images_clear(im->given);
		if (im->given == NULL)
			im->given = xmalloc(sizeof *im->given);
		if (images_fill(im->given, arg, 0, errp) != 0) {
			free(im->given);
			im->given = NULL;
			return (NULL);
		}
		return (im->given);
	}
	if ((n = images_candidates(im, arg, &list)) == 0) {
		if (im->public_dir != NULL)
			xasprintf(errp,
			    "image %s not found in %s or the "
			    "current directory",
			    arg, im->public_dir);
		else
			xasprintf(errp,
			    "image %s not found in the current "
			    "directory",
			    arg);
		return (NULL);
	}
	found = list[0];
	free(list);
	return (found);
}

int
images_name_valid(const char *name, char **errp)
{
	const unsigned char *p;
	size_t len = strlen(name);

	if (len == 0) {
		*errp = xstrdup("empty image name");
		return (-1);
	}
	if (len > IMAGES_NAME_MAX) {
		xasprintf(errp, "image name longer than %d bytes",
		    IMAGES_NAME_MAX);
		return (-1);
	}
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (iscntrl(*p)) {
			xasprintf(errp,
			    "image name has a control character "
			    "(0x%02x)",
			    *p);
			return (-1);
		}
	}
	if (strchr(name, '/') != NULL) {
		xasprintf(errp, "image name '%s' has a '/'", name);
		return (-1);
	}
	if (strstr(name, "..") != NULL) {
		xasprintf(errp, "image name '%s' has '..'", name);
		return (-1);
	}
	if (*name == '-' || *name == '.') {
		xasprintf(errp, "image name '%s' starts with '%c'", name,
		    *name);
		return (-1);
	}
	return (0);
}

char *
images_saving_name(const char *node, time_t when, const char *radical)
{
	struct tm tm;
	char date[32], *name;

	if (localtime_r(&when, &tm) == NULL ||
	    strftime(date, sizeof date, "%Y-%m-%d@%H-%M", &tm) == 0)
		snprintf(date, sizeof date, "0000-00-00@00-00");
	xasprintf(&name, "saving__%s__%s__%s%s", node, date, radical,
	    IMAGES_SUFFIX);
	return (name);
}

void
images_human_size(off_t size, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double v = (double)size;
	int u = -1;

	while (v >= 1024 && units[u + 1] != '\0') {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%lldB", (long long)size);
	else
		snprintf(buf, len, "%.2f%c", v, units[u]);
}
