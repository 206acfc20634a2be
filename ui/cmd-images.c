/*
 * rhubarb images, resolve and share (rimages, rresolve, rshare): the image
 * repository commands of rhubarbe, on inventory/images.c. images lists the
 * clusters (a file and its aliases) of the public directory and the
 * current one; resolve prints the one path "load -i" would use; share
 * promotes a private image into the public directory under its radical,
 * for real only when run as root, never leaving half a file under the
 * final name.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "inventory/config.h"
#include "inventory/images.h"
#include "ui/cmd.h"

enum {
	CMD_IMAGES_JSON = 256,
};

static int cmd_images_sort; /* 0 name, 's' size, 'd' date */
static int cmd_images_reverse;

/*
 * Load the configuration and scan; NULL and *code on error. Only images
 * shows what it could not read: a dangling link is noise to resolve.
 */
static struct images *
cmd_images_scan(struct cmd_ctx *ctx, int public_only, int warn, int *code)
{
	struct images *im;
	size_t i;

	if ((*code = cmd_load_config(ctx)) != 0)
		return (NULL);
	im = images_scan(config_str(ctx->config, CK_FRISBEE_IMAGES_DIR),
	    public_only);
	for (i = 0; warn && i < im->nwarnings; i++)
		cmd_warn(ctx, "%s", im->warnings[i]);
	return (im);
}

static int
cmd_images_cmp(const void *a, const void *b)
{
	const struct image_cluster *x = *(const struct image_cluster *const *)a;
	const struct image_cluster *y = *(const struct image_cluster *const *)b;
	const struct image *f = x->members[0], *g = y->members[0];
	int r = 0;

	if (cmd_images_sort == 's' && f->size != g->size)
		r = f->size < g->size ? -1 : 1;
	else if (cmd_images_sort == 'd' && f->mtime != g->mtime)
		r = f->mtime < g->mtime ? -1 : 1;
	if (r == 0 && (r = strcmp(f->radical, g->radical)) == 0)
		r = strcmp(f->path, g->path);
	return (cmd_images_reverse ? -r : r);
}

/* Plain substring tests on the paths; any focus, or all with -a. */
static int
cmd_images_in_focus(const struct image_cluster *c, int all, int nfocus,
    char **focus)
{
	size_t j;
	int i, hit;

	if (nfocus == 0)
		return (1);
	for (i = 0; i < nfocus; i++) {
		hit = 0;
		for (j = 0; j < c->nmembers && !hit; j++)
			hit = strstr(c->members[j]->path, focus[i]) != NULL;
		if (hit && !all)
			return (1);
		if (!hit && all)
			return (0);
	}
	return (all);
}

static void
cmd_images_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, len, "%s", "-");
}

static json_t *
cmd_images_json_image(const struct image *img)
{
	return (json_pack("{s:s, s:s, s:b}", "radical", img->radical, "path",
	    img->path, "public", img->is_public));
}

static int
cmd_images_print(const struct image_cluster **list, size_t n, int narrow,
    int json)
{
	const struct image *f;
	json_t *root, *o, *aliases;
	char date[32], size[32];
	size_t i, j;
	int w = 0, len;

	if (json) {
		root = json_array();
		for (i = 0; i < n; i++) {
			f = list[i]->members[0];
			cmd_images_date(f->mtime, date, sizeof date);
			o = cmd_images_json_image(f);
			json_object_set_new(o, "size",
			    json_integer((json_int_t)f->size));
			json_object_set_new(o, "mtime",
			    json_integer((json_int_t)f->mtime));
			json_object_set_new(o, "date", json_string(date));
			aliases = json_array();
			for (j = 1; j < list[i]->nmembers; j++)
				json_array_append_new(aliases,
				    cmd_images_json_image(list[i]->members[j]));
			json_object_set_new(o, "aliases", aliases);
			json_array_append_new(root, o);
		}
		json_dumpf(root, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(root);
		return (0);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < list[i]->nmembers; j++) {
			len = (int)strlen(list[i]->members[j]->radical);
			if (len > w)
				w = len;
		}
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < list[i]->nmembers; j++) {
			f = list[i]->members[j];
			if (j == 0) {
				cmd_images_date(f->mtime, date, sizeof date);
				images_human_size(f->size, size, sizeof size);
			} else {
				date[0] = '\0';
				snprintf(size, sizeof size, "aka");
			}
			if (narrow)
				printf("%-16s  %8s  %s\n", date, size,
				    f->radical);
			else
				printf("%-16s  %8s  %-*s  %s\n", date, size, w,
				    f->radical, f->path);
		}
	}
	return (0);
}

static int
cmd_images_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"labeled", no_argument, NULL, 'l'},
	    {"public", no_argument, NULL, 'p'},
	    {"size", no_argument, NULL, 's'},
	    {"date", no_argument, NULL, 'd'},
	    {"reverse", no_argument, NULL, 'r'},
	    {"narrow", no_argument, NULL, 'n'},
	    {"and", no_argument, NULL, 'a'},
	    {"json", no_argument, NULL, CMD_IMAGES_JSON},
	    {"option", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct image_cluster **list;
	struct images *im;
	size_t i, n = 0;
	int ch, labeled = 0, public_only = 0, narrow = 0, all = 0, json = 0,
		code;

	cmd_images_sort = 0;
	cmd_images_reverse = 0;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "lpsdrnao:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'l':
			labeled = 1;
			break;
		case 'p':
			public_only = 1;
			break;
		case 's':
		case 'd':
			if (cmd_images_sort != 0 && cmd_images_sort != ch)
				return (cmd_usage_error(ctx,
				    "-s and -d exclude each other"));
			cmd_images_sort = ch;
			break;
		case 'r':
			cmd_images_reverse = 1;
			break;
		case 'n':
			narrow = 1;
			break;
		case 'a':
			all = 1;
			break;
		case CMD_IMAGES_JSON:
			json = 1;
			break;
		case 'o':
			cmd_add_option(ctx, optarg);
			break;
		case 'h':
			return (cmd_help(ctx));
		default:
			return (cmd_bad_option(ctx, argv, "lpsdrnao:h"));
		}
	}
	if ((im = cmd_images_scan(ctx, public_only, 1, &code)) == NULL)
		return (code);
	list = xreallocarray(NULL, im->nclusters + 1, sizeof *list);
	for (i = 0; i < im->nclusters; i++) {
		if (labeled && im->clusters[i].nmembers < 2)
			continue;
		if (!cmd_images_in_focus(&im->clusters[i], all, argc - optind,
			argv + optind))
			continue;
		list[n++] = &im->clusters[i];
	}
	if (n > 1)
		qsort(list, n, sizeof *list, cmd_images_cmp);
	cmd_images_print(list, n, narrow, json);
	free(list);
	images_free(im);
	return (cmd_flush_stdout(ctx, EXIT_OK));
}

static int
cmd_resolve_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"verbose", no_argument, NULL, 'v'},
	    {"option", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct image **list = NULL, *img;
	struct images *im;
	char *err, date[32], size[32];
	size_t i, n;
	int ch, verbose = 0, bad, code;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "vo:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'v':
			verbose = 1;
			break;
		case 'o':
			cmd_add_option(ctx, optarg);
			break;
		case 'h':
			return (cmd_help(ctx));
		default:
			return (cmd_bad_option(ctx, argv, "vo:h"));
		}
	}
	if (argc - optind != 1)
		return (cmd_usage_error(ctx, "expected one image name"));
	if ((im = cmd_images_scan(ctx, 0, 0, &code)) == NULL)
		return (code);
	if ((img = images_lookup(im, argv[optind], &bad, &err)) == NULL) {
		cmd_error(ctx, "%s", err);
		free(err);
		images_free(im);
		return (bad ? EXIT_USAGE : EXIT_FAILED);
	}
	if (!verbose)
		puts(img->path);
	else {
		/* Every candidate, newest first; '*' marks the one used. */
		if ((n = images_candidates(im, argv[optind], &list)) == 0) {
			list = xmalloc(sizeof *list);
			list[n++] = img;
		}
		for (i = 0; i < n; i++) {
			cmd_images_date(list[i]->mtime, date, sizeof date);
			images_human_size(list[i]->size, size, sizeof size);
			printf("%c %s  %8s  %s\n", list[i] == img ? '*' : ' ',
			    date, size, list[i]->path);
		}
		free(list);
	}
	images_free(im);
	return (cmd_flush_stdout(ctx, EXIT_OK));
}

/*
 * Copy from into a hidden temporary of dir, synced, with from's mode and
 * times, then give it the final name (never replacing one unless force):
 * the final name only ever holds a whole file.
 */
static int
cmd_share_copy(struct cmd_ctx *ctx, const char *from, const char *to,
    const char *dir, int force)
{
	struct stat sb;
	struct timespec times[2];
	char buf[65536], *tmp;
	ssize_t got, put, off;
	int in, out = -1, r = -1;

	xasprintf(&tmp, "%s/.share.XXXXXX", dir);
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(in, &sb) != 0) {
		cmd_error(ctx, "%s: %s", from, strerror(errno));
		goto out;
	}
	if ((out = mkostemp(tmp, O_CLOEXEC)) == -1) {
		cmd_error(ctx, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	for (;;) {
		if ((got = read(in, buf, sizeof buf)) == 0)
			break;
		if (got < 0) {
			if (errno == EINTR)
				continue;
			cmd_error(ctx, "%s: %s", from, strerror(errno));
			goto fail;
		}
		for (off = 0; off < got; off += put) {
			if ((put = write(out, buf + off, got - off)) < 0) {
				if (errno == EINTR) {
					put = 0;
					continue;
				}
				cmd_error(ctx, "%s: %s", tmp, strerror(errno));
				goto fail;
			}
		}
	}
	times[0] = sb.st_atim;
	times[1] = sb.st_mtim;
	if (fchmod(out, sb.st_mode & 07777) != 0 || futimens(out, times) != 0 ||
	    fsync(out) != 0) {
		cmd_error(ctx, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(out) != 0) {
		out = -1;
		cmd_error(ctx, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	out = -1;
	/* link() will not replace an existing name; rename() does. */
	if (force ? rename(tmp, to) != 0 : link(tmp, to) != 0) {
		cmd_error(ctx, "%s: %s", to, strerror(errno));
		goto fail;
	}
	if (!force)
		unlink(tmp);
	if (unlink(from) != 0)
		cmd_warn(ctx, "copied, but cannot remove %s: %s", from,
		    strerror(errno));
	r = 0;
	goto out;
fail:
	unlink(tmp);
out:
	if (out != -1)
		close(out);
	if (in != -1)
		close(in);
	free(tmp);
	return (r);
}

static int
cmd_share_move(struct cmd_ctx *ctx, const char *from, const char *to,
    const char *dir, int force)
{
	struct stat sb;
	int r;

	if (force)
		r = rename(from, to);
	else {
		r = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
		if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
			/* No RENAME_NOREPLACE on this file system. */
			if (lstat(to, &sb) == 0) {
				errno = EEXIST;
				r = -1;
			} else
				r = rename(from, to);
		}
	}
	if (r == 0)
		return (0);
	if (errno == EXDEV)
		return (cmd_share_copy(ctx, from, to, dir, force));
	cmd_error(ctx, "cannot move %s to %s: %s", from, to, strerror(errno));
	return (-1);
}

/* dir/alias.ndz -> radical.ndz, replaced atomically. */
static int
cmd_share_alias(struct cmd_ctx *ctx, const char *link, const char *target,
    const char *dir)
{
	char *tmp;
	int r = 0;

	xasprintf(&tmp, "%s/.share-link.%ld", dir, (long)getpid());
	unlink(tmp);
	if (symlink(target, tmp) != 0 || rename(tmp, link) != 0) {
		cmd_error(ctx, "cannot link %s: %s", link, strerror(errno));
		unlink(tmp);
		r = -1;
	}
	free(tmp);
	return (r);
}

static const char *
cmd_share_base(const char *path)
{
	const char *p = strrchr(path, '/');

	return (p != NULL ? p + 1 : path);
}

static char *
cmd_share_strip(const char *name)
{
	size_t n = strlen(name), m = strlen(IMAGES_SUFFIX);

	if (n > m && strcmp(name + n - m, IMAGES_SUFFIX) == 0)
		return (xstrndup(name, n - m));
	return (xstrdup(name));
}

static int
cmd_share_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"alias", required_argument, NULL, 'a'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"force", no_argument, NULL, 'f'},
	    {"clean", no_argument, NULL, 'c'},
	    {"option", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct image **list = NULL, *img;
	struct images *im = NULL;
	struct stat sb, db;
	const char *dir, *pfx;
	char *err, *alias = NULL, *radical = NULL, *dest = NULL;
	char *aliaspath = NULL, *target = NULL, *target0 = NULL;
	size_t i, n = 0;
	int ch, dry = 0, force = 0, clean = 0, bad, code, move = 1;
	int r = EXIT_FAILED;

	optind = 1;
	opterr = 0;
	while (
	    (ch = getopt_long(argc, argv, "a:nfco:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			free(alias);
			alias = cmd_share_strip(optarg);
			break;
		case 'n':
			dry = 1;
			break;
		case 'f':
			force = 1;
			break;
		case 'c':
			clean = 1;
			break;
		case 'o':
			cmd_add_option(ctx, optarg);
			break;
		case 'h':
			free(alias);
			return (cmd_help(ctx));
		default:
			free(alias);
			if (optopt == 'a')
				return (cmd_usage_error(ctx,
				    "option -a needs an alias"));
			return (cmd_bad_option(ctx, argv, "a:nfco:h"));
		}
	}
	if (argc - optind != 1) {
		free(alias);
		return (cmd_usage_error(ctx, "expected one image"));
	}
	if (alias != NULL && images_name_valid(alias, &err) != 0) {
		cmd_error(ctx, "alias: %s", err);
		free(err);
		free(alias);
		return (EXIT_USAGE);
	}
	/* rhubarbe's rule: only root (sudo) changes anything. */
	if (getuid() != 0 || geteuid() != 0)
		dry = 1;
	pfx = dry ? "would " : "";
	if ((im = cmd_images_scan(ctx, 0, 0, &code)) == NULL) {
		free(alias);
		return (code);
	}
	dir = im->public_dir;
	if (dir == NULL || stat(dir, &db) != 0 || !S_ISDIR(db.st_mode)) {
		cmd_error(ctx, "images directory %s: %s",
		    dir == NULL ? "(unset)" : dir,
		    dir == NULL ? "frisbee.images_dir is empty"
				: "not a directory");
		goto out;
	}
	if ((img = images_lookup(im, argv[optind], &bad, &err)) == NULL) {
		cmd_error(ctx, "%s", err);
		free(err);
		r = bad ? EXIT_USAGE : EXIT_FAILED;
		goto out;
	}
	if (img->is_link) {
		cmd_error(ctx,
		    "%s is a symbolic link: share the file it "
		    "points to",
		    img->path);
		r = EXIT_USAGE;
		goto out;
	}
	radical = xstrdup(img->radical);
	if (images_name_valid(radical, &err) != 0) {
		cmd_error(ctx, "%s: %s", img->path, err);
		free(err);
		r = EXIT_USAGE;
		goto out;
	}
	if (alias != NULL && strcmp(alias, radical) == 0) {
		cmd_error(ctx, "alias %s is the image's own name", alias);
		r = EXIT_USAGE;
		goto out;
	}
	xasprintf(&dest, "%s/%s%s", dir, radical, IMAGES_SUFFIX);
	if (stat(dest, &sb) == 0) {
		if (sb.st_dev == img->dev && sb.st_ino == img->ino)
			move = 0; /* already public under its radical */
		else if (!force) {
			cmd_error(ctx, "%s exists (-f to overwrite)", dest);
			goto out;
		}
	}
	if (alias != NULL) {
		xasprintf(&aliaspath, "%s/%s%s", dir, alias, IMAGES_SUFFIX);
		xasprintf(&target, "%s%s", radical, IMAGES_SUFFIX);
		if (lstat(aliaspath, &sb) == 0 && !S_ISLNK(sb.st_mode) &&
		    !force) {
			cmd_error(ctx,
			    "%s exists and is not a link (-f to "
			    "overwrite)",
			    aliaspath);
			goto out;
		}
	}
	/* Other copies under saving__ names; never the official one. */
	if (clean)
		n = images_candidates(im, radical, &list);
	xasprintf(&target0, "%s%s", radical, IMAGES_SUFFIX);

	if (move)
		printf("%smove %s -> %s\n", pfx, img->path, dest);
	if (!dry && move && cmd_share_move(ctx, img->path, dest, dir, force))
		goto out;
	if (aliaspath != NULL) {
		printf("%slink %s -> %s\n", pfx, aliaspath, target);
		if (!dry && cmd_share_alias(ctx, aliaspath, target, dir) != 0)
			goto out;
	}
	printf("%schmod a+r %s\n", pfx, dest);
	if (!dry &&
	    (stat(dest, &sb) != 0 ||
		chmod(dest, (sb.st_mode & 07777) | 0444) != 0)) {
		cmd_error(ctx, "chmod %s: %s", dest, strerror(errno));
		goto out;
	}
	r = EXIT_OK;
	for (i = 0; i < n; i++) {
		if (list[i] == img || strcmp(list[i]->path, dest) == 0 ||
		    (list[i]->dev == img->dev && list[i]->ino == img->ino))
			continue;
		if (strcmp(cmd_share_base(list[i]->path), target0) == 0)
			continue; /* official: its stem is the radical */
		printf("%sremove %s\n", pfx, list[i]->path);
		if (!dry && unlink(list[i]->path) != 0) {
			cmd_error(ctx, "%s: %s", list[i]->path,
			    strerror(errno));
			r = EXIT_FAILED;
		}
	}
	if (dry)
		printf("dry run: %s\n",
		    getuid() != 0 || geteuid() != 0
			? "not root, nothing changed (use sudo)"
			: "nothing changed");
out:
	free(list);
	free(alias);
	free(radical);
	free(dest);
	free(aliaspath);
	free(target);
	free(target0);
	images_free(im);
	return (cmd_flush_stdout(ctx, r));
}

const struct cmd_entry cmd_images_entry = {
    .name = "images",
    .usage = "[-l] [-p] [-s | -d] [-r] [-n] [-a] [--json] "
	     "[-o section.key=value]... [FOCUS...]",
    .summary = "list the images of the public directory and the current one",
    .help =
	"  -l, --labeled     only images with an alias\n"
	"  -p, --public      only the public directory (frisbee.images_dir)\n"
	"  -s, --size        sort by size\n"
	"  -d, --date        sort by date (default: by name)\n"
	"  -r, --reverse     reverse the order\n"
	"  -n, --narrow      no path column\n"
	"  -a, --and         every FOCUS must match (default: any)\n"
	"  --json            a JSON array, one object per image\n"
	"  -o s.k=v          override a configuration key\n"
	"  -h, --help        this help\n"
	"\n"
	"Rows: DATE TIME  SIZE  RADICAL  PATH; aliases (symlinks) follow\n"
	"as 'aka' rows. FOCUS is a substring of a path.\n",
    .exec = cmd_images_exec,
};

const struct cmd_entry cmd_resolve_entry = {
    .name = "resolve",
    .usage = "[-v] [-o section.key=value]... IMAGE",
    .summary = "print the image file that load -i IMAGE would use",
    .help = "  -v, --verbose     every candidate, newest first, '*' the one "
	    "used\n"
	    "  -o s.k=v          override a configuration key\n"
	    "  -h, --help        this help\n"
	    "\n"
	    "IMAGE is a radical (ubuntu for saving__fit01__DATE__ubuntu.ndz),\n"
	    "a file name or a path to a .ndz file; among the candidates of\n"
	    "the public directory and the current one, the newest wins.\n"
	    "Exit 1 if none, 2 for a bad name.\n",
    .exec = cmd_resolve_exec,
};

const struct cmd_entry cmd_share_entry = {
    .name = "share",
    .usage = "[-a ALIAS] [-n] [-f] [-c] [-o section.key=value]... IMAGE",
    .summary = "move an image into the public directory under its radical",
    .help = "  -a, --alias NAME  also make NAME.ndz, a symlink to it\n"
	    "  -n, --dry-run     say what would be done (always, unless "
	    "root)\n"
	    "  -f, --force       overwrite an existing image or alias\n"
	    "  -c, --clean       remove the other saving__ copies of it\n"
	    "  -o s.k=v          override a configuration key\n"
	    "  -h, --help        this help\n",
    .exec = cmd_share_exec,
};
