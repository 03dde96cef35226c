/*
 * imgctl: the command-line client of imgd. Its verbs, output and errors
 * follow LXD 5.0.2's "lxc image ..." so that scripts written for lxc work
 * against imgd, and so that imgctl can be checked against lxc.
 */
#ifndef IMGD_IMGCTL_H
#define IMGD_IMGCTL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/limits.h"

#define IMGCTL_VERSION IMGD_VERSION
/* Where imgd keeps its socket unless $IMGD_DIR says otherwise. */
#define IMGCTL_DIR_DEFAULT "/var/lib/imgd"
/* A JSON answer larger than this is refused: a listing of images fits. */
#define IMGCTL_JSON_MAX (64 * MiB)
/* YAML read by "image edit", from stdin or from the editor. */
#define IMGCTL_YAML_MAX (1 * MiB)
/* Size of the buffer files are streamed through, in both directions. */
#define IMGCTL_IO_BUF (256 * KiB)
#define IMGCTL_ERR_MAX 1024
#define IMGCTL_FP_LEN 64 /* a sha256 fingerprint in hex */

/* What every command gets: where the server is and the global options. */
struct ctl {
	char sock[PATH_MAX];
	const char *project; /* --project, NULL for the default */
	int quiet;	     /* -q: no progress, no success messages */
};

/* A verb: its name and alias as lxc spells them, usage and help. */
struct cmd {
	const char *name;
	const char *alias;
	int (*run)(struct ctl *, int, char **);
	const char *usage;
	const char *help;
};

/*
 * The error of a failed call, set where it is known and printed once by
 * main() as "Error: <message>". A later ctl_err() replaces it.
 */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *ctl_errmsg(void);

/*
 * Options. Every verb takes the global ones next to its own: --project,
 * -q/--quiet and -h/--help. ctl_getopt() is getopt_long() over a verb's
 * options (a NULL-terminated table of at most CTL_OPTS_MAX - 4, and
 * their short letters) plus the global ones; ctl_opt() handles what it
 * returns that is not the verb's own (a global option or an error).
 * Returns 0 when handled, 1 for --help, -1 on error (ctl_err set).
 */
#define CTL_OPT_PROJECT 0x100
#define CTL_OPTS_MAX 16
struct option;
int ctl_getopt(
    int argc, char **argv, const char *shortopts, const struct option *opts);
int ctl_opt(struct ctl *, int ch, char **argv);
/*
 * The indexes of the command words in argv ("image", the verb, and after
 * "alias" its verb): the first non-options, --project's argument aside.
 * Returns how many (at most 3).
 */
int cmd_words(int argc, char **argv, int idx[3]);
/* The help of the global options, for every help text. */
extern const char ctl_global_help[];
/* Options of a verb that has only the global ones: 0, 1 (--help), -1. */
int cmd_opts_plain(struct ctl *, const struct cmd *, int argc, char **argv);
/* Print a verb's help (--help) to stdout. */
void cmd_help(const struct cmd *);
/* The number of positional arguments must be in [min, max] (-1: any). */
int cmd_nargs(const struct cmd *, int n, int min, int max);

/* The verbs (image.c, props.c, edit.c, import.c, export.c, alias.c). */
extern const struct cmd cmd_image_list, cmd_image_info, cmd_image_show,
    cmd_image_edit, cmd_image_delete, cmd_image_get_property,
    cmd_image_set_property, cmd_image_unset_property, cmd_image_import,
    cmd_image_export, cmd_alias_create, cmd_alias_delete, cmd_alias_list,
    cmd_alias_rename, cmd_trust_add, cmd_trust_list, cmd_trust_remove,
    cmd_trust_tokens, cmd_trust_revoke, cmd_remote_add, cmd_remote_list,
    cmd_remote_remove, cmd_remote_rename, cmd_remote_set_url, cmd_remote_switch,
    cmd_remote_get_default, cmd_image_copy, cmd_image_refresh, cmd_image_unpack,
    cmd_publish, cmd_project_create, cmd_project_delete, cmd_project_get,
    cmd_project_list, cmd_project_rename, cmd_project_set, cmd_project_show,
    cmd_project_unset, cmd_audit_list, cmd_audit_verify;

/* remote.c: a remote's address, protocol and pinned certificate (PEM,
 * malloc'd, or NULL); -1 after ctl_err. */
int remote_lookup(const char *name, char *addr, size_t alen, char *proto,
    size_t plen, char **cert);
/* copy.c: POST /1.0/images with a source, then the operation, with the
 * download's progress; the new image's fingerprint in fp. */
struct json_t;
int copy_post(struct ctl *, struct json_t *source, const char *const *aliases,
    int naliases, int public, int auto_update, int copy_aliases,
    const char *label, char fp[IMGCTL_FP_LEN + 1]);
/* copy.c: REMOTE:IMAGE into imgd (remote_lookup, then copy_post). */
int remote_copy(struct ctl *, const char *remote, const char *image,
    const char *const *aliases, int naliases, int public, int auto_update,
    int copy_aliases, int cached, char fp[IMGCTL_FP_LEN + 1]);
/* copy.c: POST path (a JSON body or NULL), then follow the operation to
 * its end; its metadata in *meta. */
int op_post(struct ctl *, const char *path, struct json_t *body,
    const char *label, struct json_t **meta);

#endif
