/*
 * Alias names: what LXD accepts ("ubuntu/22.04/amd64" included), less what
 * is unsafe or cannot be addressed in a URL afterwards. Names travel
 * unescaped in the path of /1.0/images/aliases/<name> (the lxc client
 * sends them so), so a name must survive that path: no empty, "." or ".."
 * segment (clients and servers clean those away), no '?', '#' or '%'
 * (read as query, fragment or escape).
 */
#include <stdio.h>
#include <string.h>

#include "ipc/codec.h"
#include "ipc/msg.h"
#include "policy/limits.h"
#include "policy/names.h"

int
alias_name_check(const char *name, char *why, size_t whylen)
{
	size_t n = strlen(name), s, e;

	if (n == 0) {
		snprintf(why, whylen, "the name is empty");
		return -1;
	}
	if (n > LIM_ALIAS_NAME_MAX) {
		snprintf(
		    why, whylen, "longer than %d bytes", LIM_ALIAS_NAME_MAX);
		return -1;
	}
	if (!ipc_str_valid(name, n, CS_LINE)) {
		snprintf(why, whylen,
		    "control characters or invalid UTF-8 are not allowed");
		return -1;
	}
	if (name[0] == ' ' || name[n - 1] == ' ') {
		snprintf(
		    why, whylen, "leading or trailing spaces are not allowed");
		return -1;
	}
	if (strpbrk(name, "?#%") != NULL) {
		snprintf(why, whylen,
		    "'?', '#' and '%%' are not allowed (a URL could not "
		    "address the alias)");
		return -1;
	}
	for (s = 0; s <= n; s = e + 1) {
		for (e = s; e < n && name[e] != '/'; e++)
			;
		if (e == s || (e - s == 1 && name[s] == '.') ||
		    (e - s == 2 && name[s] == '.' && name[s + 1] == '.')) {
			snprintf(why, whylen,
			    "empty, \".\" and \"..\" parts between '/' are not "
			    "allowed (a URL could not address the alias)");
			return -1;
		}
	}
	return 0;
}

int
alias_name_refusal(const char *name, char *msg, size_t msglen)
{
	char why[160];

	if (alias_name_check(name, why, sizeof(why)) == 0)
		return 0;
	snprintf(msg, msglen, "Invalid alias name \"%.64s%s\": %s", name,
	    strlen(name) > 64 ? "..." : "", why);
	return -1;
}

int
project_name_check(const char *name, char *why, size_t whylen)
{
	size_t n = strlen(name);

	if (n == 0)
		snprintf(why, whylen, "No name provided");
	else if (n > LIM_PROJECT_NAME_MAX)
		snprintf(why, whylen, "Project names are at most %d bytes",
		    LIM_PROJECT_NAME_MAX);
	else if (strchr(name, '/'))
		snprintf(why, whylen, "Project names may not contain slashes");
	else if (strpbrk(name, " \t"))
		snprintf(why, whylen, "Project names may not contain spaces");
	else if (strchr(name, '_'))
		snprintf(
		    why, whylen, "Project names may not contain underscores");
	else if (strpbrk(name, "'\""))
		snprintf(why, whylen, "Project names may not contain quotes");
	else if (strcmp(name, "*") == 0 || strcmp(name, ".") == 0 ||
		 strcmp(name, "..") == 0)
		snprintf(why, whylen, "Invalid project name \"%s\"", name);
	else if (!ipc_str_valid(name, n, CS_NAME))
		snprintf(why, whylen,
		    "Project names must be UTF-8 without control characters");
	else
		return 0;
	return -1;
}

int
project_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= LIM_PROJECT_NAME_MAX &&
	       ipc_str_valid(name, n, CS_NAME);
}

/* A tarball's file extension for the compression the unpacker named. */
const char *
tar_ext(const char *compression)
{
	static const struct {
		const char *c, *ext;
	} t[] = {
	    {"gzip", ".tar.gz"},
	    {"bzip2", ".tar.bz2"},
	    {"xz", ".tar.xz"},
	    {"lzma", ".tar.lzma"},
	    {"zstd", ".tar.zst"},
	    {"none", ".tar"},
	    {"squashfs", ".squashfs"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(compression, t[i].c) == 0)
			return t[i].ext;
	return "";
}
