/*
 * image edit: YAML from stdin when it is not a terminal, else in
 * $EDITOR (vi by default), opened again after an error until the change
 * is accepted or the user gives up, as lxc does.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imgctl/api.h"
#include "imgctl/schema.h"
#include "imgctl/yamlin.h"
#include "imgctl/yamlout.h"

#define EDIT_ARGS_MAX 32 /* words of $EDITOR */

static const char edit_help[] =
    "### This is a YAML representation of the image properties.\n"
    "### Any line starting with a '# will be ignored.\n"
    "###\n"
    "### Each property is represented by a single line:\n"
    "### An example would be:\n"
    "###  description: My custom image\n\n";

/* Read all of fd, at most IMGCTL_YAML_MAX bytes. */
static char *
read_all(int fd, const char *what, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;

	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nb = realloc(buf, cap)) == NULL) {
				ctl_err("out of memory");
				break;
			}
			buf = nb;
		}
		if ((r = read(fd, buf + n, cap - n)) == 0) {
			*len = n;
			return buf;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			ctl_err("cannot read %s: %s", what, strerror(errno));
			break;
		}
		if ((n += (size_t)r) > IMGCTL_YAML_MAX) {
			ctl_err("%s: more than %llu bytes of YAML", what,
			    (unsigned long long)IMGCTL_YAML_MAX);
			break;
		}
	}
	free(buf);
	return NULL;
}

/* Run the editor on path and wait for it. */
static int
edit_spawn(const char *path)
{
	const char *env = getenv("EDITOR");
	char *words, *argv[EDIT_ARGS_MAX + 2], *w, *save = NULL;
	int n = 0, status;
	pid_t pid;

	if (env == NULL || *env == '\0')
		env = "vi";
	if ((words = strdup(env)) == NULL) {
		ctl_err("out of memory");
		return -1;
	}
	for (w = strtok_r(words, " \t", &save); w && n < EDIT_ARGS_MAX;
	     w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	argv[n++] = (char *)path;
	argv[n] = NULL;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "Error: cannot run the editor %s: %s\n",
		    argv[0], strerror(errno));
		_exit(127);
	}
	free(words);
	if (pid == -1 || waitpid(pid, &status, 0) == -1) {
		ctl_err("cannot run the editor: %s", strerror(errno));
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ctl_err("the editor (%s) failed; nothing was changed", env);
		return -1;
	}
	return 0;
}

/* Let the user edit text[0..*len) in a temporary file; text is replaced. */
static int
edit_text(char **text, size_t *len)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX], *out;
	int fd, rc = -1;

	snprintf(path, sizeof(path), "%s/imgctl_editor_XXXXXX.yaml",
	    tmp && *tmp ? tmp : "/tmp");
	if ((fd = mkstemps(path, 5)) == -1) {
		ctl_err("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, *text, *len) != (ssize_t)*len) {
		ctl_err("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (edit_spawn(path) == -1)
		goto out;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		ctl_err("cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if ((out = read_all(fd, path, len)) != NULL) {
		free(*text);
		*text = out;
		rc = 0;
	}
out:
	if (fd != -1)
		close(fd);
	unlink(path);
	return rc;
}

/* The image's writable fields as YAML, after lxc's help comment. */
static char *
edit_initial(const json_t *img, size_t *len)
{
	json_t *put = sch_normalize(img, sch_image_put);
	char *buf = NULL;
	FILE *f;

	if (put == NULL || (f = open_memstream(&buf, len)) == NULL) {
		json_decref(put);
		ctl_err("out of memory");
		return NULL;
	}
	fputs(edit_help, f);
	if (yout_struct(f, put, sch_image_put) == -1) {
		fclose(f);
		free(buf);
		json_decref(put);
		ctl_err("cannot write the image's YAML");
		return NULL;
	}
	json_decref(put);
	if (fclose(f) != 0) {
		free(buf);
		ctl_err("out of memory");
		return NULL;
	}
	return buf;
}

/* Parse and PUT; on failure the message is in ctl_err(). */
static int
edit_apply(struct ctl *ctl, const char *fp, const char *etag, const char *text,
    size_t len)
{
	char err[IMGCTL_ERR_MAX];
	json_t *put;
	int rc;

	if (yin_image_put(text, len, &put, err, sizeof(err)) == -1) {
		ctl_err("%s", err);
		return -1;
	}
	rc = api_image_put(ctl, fp, put, etag);
	json_decref(put);
	return rc;
}

static int
edit_interactive(
    struct ctl *ctl, const char *fp, const char *etag, const json_t *img)
{
	size_t len;
	char *text, c;
	int rc;

	if ((text = edit_initial(img, &len)) == NULL)
		return -1;
	while ((rc = edit_text(&text, &len)) == 0 &&
	       (rc = edit_apply(ctl, fp, etag, text, len)) == -1) {
		fprintf(stderr, "Config parsing error: %s\n", ctl_errmsg());
		printf("Press enter to open the editor again or ctrl+c to "
		       "abort change\n");
		fflush(stdout);
		if (read(STDIN_FILENO, &c, 1) != 1) {
			ctl_err("no answer on stdin: the change was not made");
			break;
		}
	}
	free(text);
	return rc;
}

static int
edit_run(struct ctl *ctl, int argc, char **argv)
{
	char fp[IMGCTL_FP_LEN + 1], etag[API_ETAG_MAX], *text;
	json_t *img;
	size_t len;
	int rc;

	if ((rc = cmd_opts_plain(ctl, &cmd_image_edit, argc, argv)) != 0)
		return rc == 1 ? 0 : -1;
	if (cmd_nargs(&cmd_image_edit, argc - optind, 1, 1) == -1 ||
	    (img = api_image_get(ctl, argv[optind], fp, etag)) == NULL)
		return -1;
	if (isatty(STDIN_FILENO))
		rc = edit_interactive(ctl, fp, etag, img);
	else if ((text = read_all(STDIN_FILENO, "stdin", &len)) == NULL)
		rc = -1;
	else {
		rc = edit_apply(ctl, fp, etag, text, len);
		free(text);
	}
	json_decref(img);
	return rc;
}

const struct cmd cmd_image_edit = {"edit", NULL, edit_run, "edit IMAGE",
    "Edit an image's writable properties as YAML (see \"image show\").\n\n"
    "With stdin a terminal, opens $EDITOR (vi by default); otherwise\n"
    "reads the YAML from stdin:\n"
    "    imgctl image edit IMAGE < image.yaml\n"
    "The change is refused if the image changed in the meantime."};
