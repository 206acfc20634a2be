/*
 * The image repository, as rhubarbe's imagesrepo: *.ndz files in the public
 * images directory ([frisbee] images_dir) and in the current directory.
 * An image's radical is the name a user gave it (saving__fitNN__DATE__X.ndz
 * is X, anything else its stem); a cluster is one file and the symlinks
 * (aliases) that share its inode; a lookup by radical or path picks the
 * newest match. Directories and files only: no event loop.
 */
#ifndef INVENTORY_IMAGES_H
#define INVENTORY_IMAGES_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

#define IMAGES_SUFFIX ".ndz"
/* Bytes of a name a user gives: leaves room for saving__NODE__DATE__. */
#define IMAGES_NAME_MAX 160

struct image {
	char *path;    /* "name.ndz" in the current dir, "DIR/name.ndz" */
	char *radical; /* see images_radical */
	int is_link;   /* the path itself is a symlink (an alias) */
	int is_public; /* found in the public directory */
	time_t mtime;  /* of the file, links followed */
	off_t size;
	dev_t dev;
	ino_t ino;
};

/* One file and its aliases; members[0] is the file (a non-link if any). */
struct image_cluster {
	struct image **members;
	size_t nmembers;
};

struct images {
	char *public_dir;
	int cwd_is_public; /* the current dir was not scanned twice */
	struct image *v;   /* sorted by path */
	size_t n;
	struct image_cluster *clusters; /* in the order of their files */
	size_t nclusters;
	char **warnings; /* one line each: unreadable dir, dangling link */
	size_t nwarnings;
	struct image *given; /* a path images_lookup found outside the dirs */
};

/*
 * Scan public_dir (NULL or "" for none) and, unless public_only, the
 * current directory. Never fails: what cannot be read becomes a warning.
 */
struct images *images_scan(const char *public_dir, int public_only);
void images_free(struct images *);

/* The radical of a path or file name (a new string). */
char *images_radical(const char *path);

/*
 * What "load -i ARG" uses. An ARG holding a '/' or ending in .ndz that
 * names an existing regular file is that file. Otherwise the candidates
 * of both directories whose radical, path or file name is ARG; the newest
 * mtime wins (ties: public first, then path order). Returns the image
 * (owned by images) or NULL with *errp set: *bad is 1 when ARG is not a
 * valid name (empty, control characters), 0 when it is just not found.
 */
const struct image *images_lookup(struct images *, const char *arg, int *bad,
    char **errp);
/* Every candidate for ARG, newest first (a new array of borrowed ptrs). */
size_t images_candidates(const struct images *, const char *arg,
    const struct image ***listp);

/*
 * A name a user gives to save or share: no '/', no "..", no leading '-'
 * or '.', no control character, 1 to IMAGES_NAME_MAX bytes. 0 or -1 with
 * *errp.
 */
int images_name_valid(const char *name, char **errp);

/* saving__NODE__YYYY-MM-DD@HH-MM__RADICAL.ndz in local time. */
char *images_saving_name(const char *node, time_t when, const char *radical);

/* "20.00M", "512B": sizes as rimages shows them (1024-based). */
void images_human_size(off_t size, char *buf, size_t len);

#endif
