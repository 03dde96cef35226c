/*
 * Export file names: Content-Disposition, base names, lxc's target rules.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imgctl/expname.h"

static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A token or a quoted-string at *s into out; *s moves past it. */
static int
cd_value(const char **s, char *out, size_t outlen)
{
	const char *p = *s;
	size_t o = 0;

	if (*p != '"') {
		for (; is_tchar((unsigned char)*p); p++) {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = *p;
		}
		if (o == 0)
			return -1;
	} else {
		for (p++; *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (*p == '\0' || o + 1 >= outlen)
				return -1;
			out[o++] = *p;
		}
		p++;
	}
	out[o] = '\0';
	*s = p;
	return 0;
}

int
cd_filename(const char *v, char *out, size_t outlen)
{
	char name[64], val[PATH_MAX];
	size_t n;
	int found = 0;

	while (is_tchar((unsigned char)*v))
		v++;
	for (;;) {
		v += strspn(v, " \t");
		if (*v == '\0')
			return found ? 0 : -1;
		if (*v++ != ';')
			return -1;
		v += strspn(v, " \t");
		for (n = 0; is_tchar((unsigned char)v[n]); n++)
			;
		if (n == 0 || n >= sizeof(name) || v[n] != '=')
			return -1;
		memcpy(name, v, n);
		name[n] = '\0';
		v += n + 1;
		if (cd_value(&v, val, sizeof(val)) == -1)
			return -1;
		if (strcasecmp(name, "filename") == 0) {
			if (found++ || strlen(val) >= outlen)
				return -1;
			memcpy(out, val, strlen(val) + 1);
		}
	}
}

int
exp_base(const char *name, char *out, size_t outlen)
{
	size_t end = strlen(name), start;
	const unsigned char *p;

	while (end > 0 && name[end - 1] == '/')
		end--;
	for (start = end; start > 0 && name[start - 1] != '/'; start--)
		;
	if (end == start || end - start >= outlen)
		return -1;
	memcpy(out, name + start, end - start);
	out[end - start] = '\0';
	if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return -1;
	for (p = (const unsigned char *)out; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return -1;
	return 0;
}

static int
path_set(char out[PATH_MAX], const char *a, const char *sep, const char *b)
{
	int n = snprintf(out, PATH_MAX, "%s%s%s", a, sep, b);

	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

int
exp_paths(const char *target, int is_dir, const char *fp, const char *meta,
    const char *rootfs, char meta_out[PATH_MAX], char rootfs_out[PATH_MAX])
{
	const char *dir = target ? target : ".", *ext;
	char fproot[80];

	rootfs_out[0] = '\0';
	if (target == NULL || is_dir) {
		snprintf(fproot, sizeof(fproot), "%s.root", fp);
		if (path_set(meta_out, dir, "/", *meta ? meta : fp) == -1)
			return -1;
		if (rootfs != NULL && path_set(rootfs_out, dir, "/",
					  *rootfs ? rootfs : fproot) == -1)
			return -1;
		return 0;
	}
	if (rootfs != NULL)
		return path_set(meta_out, target, "", "") == -1 ||
			       path_set(rootfs_out, target, ".root", "") == -1
			   ? -1
			   : 0;
	/* A unified image keeps the extension the server gave it. */
	ext = strchr(meta, '.');
	return path_set(meta_out, target, ext ? "." : "", ext ? ext + 1 : "");
}
