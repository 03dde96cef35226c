/*
 * Where "image export" puts its files: lxc's cmdImageExport naming rules
 * and the file names the server suggests. Pure code.
 */
#ifndef IMGD_IMGCTL_EXPNAME_H
#define IMGD_IMGCTL_EXPNAME_H

#include <limits.h>
#include <stddef.h>

/*
 * The filename parameter of a Content-Disposition value (token or
 * quoted-string). Returns 0, or -1 if there is none or the value is
 * malformed or longer than outlen - 1.
 */
int cd_filename(const char *value, char *out, size_t outlen);

/*
 * A suggested file name reduced to its last path element, as Go's
 * filepath.Base() (so a server cannot name a file elsewhere). Returns 0,
 * or -1 if nothing usable is left ("", ".", "..", control characters).
 */
int exp_base(const char *name, char *out, size_t outlen);

/*
 * The final paths. target is the TARGET argument (NULL: none), is_dir
 * whether it is a directory; meta and rootfs are the names the server
 * gave ("" if none; rootfs NULL for a unified image).
 *   no target or a directory: DIR/<meta or fingerprint>, and
 *     DIR/<rootfs or fingerprint.root>
 *   a file: TARGET plus the extension of the server's name (what
 *     follows its first '.') when unified, else TARGET and TARGET.root
 * Returns 0, or -1 if a path does not fit PATH_MAX.
 */
int exp_paths(const char *target, int is_dir, const char *fp, const char *meta,
    const char *rootfs, char meta_out[PATH_MAX], char rootfs_out[PATH_MAX]);

#endif
