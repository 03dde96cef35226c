/*
 * The image record as the API handlers share it: its ETag, its view for
 * the frontend, its properties, and the one commit of a validated import.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/log.h"
#include "policy/arch.h"
#include "store/store.h"
#include "store/api.h"

static void
etag_of(const char *parts[], size_t n, char out[65])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t md[32];
	unsigned int len;

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++)
		EVP_DigestUpdate(c, parts[i], strlen(parts[i]) + 1);
	EVP_DigestFinal_ex(c, md, &len);
	EVP_MD_CTX_free(c);
	hex_encode(md, 32, out);
}

/* Over what an edit may change, as LXD's: public, auto_update, properties. */
void
image_etag(const struct image *img, char out[65])
{
	const char *p[2 + 2 * LIM_META_PROPERTIES_MAX];
	size_t n = 0;

	p[n++] = img->public ? "1" : "0";
	p[n++] = img->auto_update ? "1" : "0";
	for (uint32_t i = 0; i < img->nprops && i < LIM_META_PROPERTIES_MAX;
	     i++) {
		p[n++] = img->props[i].key;
		p[n++] = img->props[i].value;
	}
	etag_of(p, n, out);
}

void
alias_etag(const struct alias *a, char out[65])
{
	const char *p[] = {a->name, a->description, a->target, "container"};

	etag_of(p, 4, out);
}

static const char *
prop(const struct image *img, const char *key, const char *def)
{
	for (uint32_t i = 0; i < img->nprops; i++)
		if (strcmp(img->props[i].key, key) == 0 &&
		    img->props[i].value[0])
			return img->props[i].value;
	return def;
}

/* "os:release:arch:variant" from the properties (the public servers'
 * product names), each at most 63 bytes and without ':'. */
void
image_product(struct image *img)
{
	const char *v[4] = {prop(img, "os", "unknown"),
	    prop(img, "release", "unknown"), arch_debian(img->architecture),
	    prop(img, "variant", "default")};
	size_t o = 0;

	for (int i = 0; i < 4; i++) {
		for (size_t j = 0; v[i][j] && j < 63; j++) {
			char ch = v[i][j];

			img->product[o++] = ch == ':' || ch == '"' ||
						    ch == '\\' ||
						    (unsigned char)ch < 0x20
						? '-'
						: ch;
		}
		img->product[o++] = i < 3 ? ':' : '\0';
	}
}

static int
hash_fd(int fd, char out[65], uint64_t *size)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	static uint8_t buf[256 * 1024];
	uint8_t md[32];
	unsigned int len = 0;
	ssize_t n;

	*size = 0;
	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(c, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	EVP_DigestFinal_ex(c, md, &len);
	EVP_MD_CTX_free(c);
	if (n < 0)
		return -1;
	hex_encode(md, 32, out);
	return 0;
}

static int
backfill_one(struct image *img, void *arg)
{
	int *failed = arg;

	image_product(img);
	if (!img->part_sha[0][0]) {
		if (!img->split) {
			snprintf(img->part_sha[0], sizeof(img->part_sha[0]),
			    "%s", img->fingerprint);
			img->part_size[0] = img->size;
		} else
			for (int i = 0; i < 2; i++) {
				int fd = blob_open(img->fingerprint,
				    i ? PART_ROOTFS : PART_UNIFIED);

				if (fd == -1 || hash_fd(fd, img->part_sha[i],
						    &img->part_size[i]) == -1) {
					if (fd != -1)
						close(fd);
					(*failed)++;
					return -1;
				}
				close(fd);
			}
	}
	return db_image_set_parts(img) == DB_OK ? 0 : -1;
}

/* Rows from before each file's hash and the product were kept. */
void
image_backfill(void)
{
	int failed = 0, n = db_images_without_parts(backfill_one, &failed);

	if (n > 0 || failed > 0)
		log_info("%d images given their file hashes and products%s", n,
		    failed ? " (some files could not be read)" : "");
}

int
image_to_info(const struct image *img, const char *project,
    struct imsg_image_info *m, char etag[65])
{
	memset(m, 0, sizeof(*m));
	if (etag != NULL)
		image_etag(img, etag);
	m->fingerprint = (char *)img->fingerprint;
	m->project = (char *)project;
	m->filename = (char *)img->filename;
	m->size = img->size;
	m->public = (uint8_t)img->public;
	m->auto_update = (uint8_t)img->auto_update;
	m->cached = (uint8_t)img->cached;
	m->split = (uint8_t)img->split;
	m->architecture = (char *)img->architecture;
	m->type = (char *)img->type;
	m->created_at = img->created_at;
	m->expires_at = img->expires_at;
	m->uploaded_at = img->uploaded_at;
	m->last_used_at = img->last_used_at;
	m->properties = img->props;
	m->nproperties = img->nprops;
	m->aliases = img->aliases;
	m->naliases = img->naliases < LIM_ALIASES_PER_IMAGE
			  ? img->naliases
			  : LIM_ALIASES_PER_IMAGE;
	m->etag = etag ? etag : "";
	m->product = (char *)img->product;
	m->compression0 = (char *)img->compression[0];
	m->compression1 = (char *)img->compression[1];
	m->part0_sha256 = (char *)img->part_sha[0];
	m->part1_sha256 = (char *)img->part_sha[1];
	m->part0_size = img->part_size[0];
	m->part1_size = img->part_size[1];
	return 0;
}

/*
 * Sets the properties from kv: all of them (PROPS_REPLACE), or over the
 * existing ones (PATCH, and X-LXD-properties over metadata.yaml). With
 * PROPS_DROP_EMPTY a key given an empty value is removed, as LXD does on
 * PUT and PATCH (it is how lxc unsets a property). -1 over limits.
 */
int
image_merge_props(
    struct image *img, const struct ipc_kv *kv, uint32_t n, int flags)
{
	struct ipc_kv merged[LIM_META_PROPERTIES_MAX];
	uint32_t m = 0;
	size_t total = 0;
	int replace = flags & PROPS_REPLACE;

	for (uint32_t i = 0; i < n; i++)
		if (!(flags & PROPS_DROP_EMPTY) || kv[i].value[0] != '\0')
			merged[m++] = kv[i];
	/* PATCH keeps the keys the request does not mention. */
	for (uint32_t i = 0; !replace && i < img->nprops; i++) {
		uint32_t k;

		for (k = 0; k < n; k++)
			if (strcmp(kv[k].key, img->props[i].key) == 0)
				break;
		if (k < n)
			continue;
		if (m == LIM_META_PROPERTIES_MAX)
			return -1;
		merged[m++] = img->props[i];
	}
	for (uint32_t i = 0; i < m; i++)
		total += strlen(merged[i].key) + strlen(merged[i].value);
	if (total > LIM_PROP_TOTAL_MAX)
		return -1;
	return image_set_props(img, merged, m);
}

/*
 * Inserts a validated image and its aliases in one transaction, links its
 * files, and commits: all of it, or none of it.
 */
int
image_commit(const char *proj, struct image *img, const struct ipc_kv *aliases,
    uint32_t naliases, int fds[2], struct fault *f)
{
	int64_t pid;
	int linked_before = db_fp_refs(img->fingerprint) > 0, rc;
	int layout = db_fp_split(img->fingerprint);
	char err[256];

	if (db_project_id(proj, &pid) != DB_OK) {
		fault_set(f, ERR_NOT_FOUND, RES_PROJECT, proj);
		return -1;
	}
	/* A unified M||R and a split (M, R) share a fingerprint but not a
	 * blob layout: the stored files must be what this row says. */
	if (layout != -1 && layout != img->split) {
		fault_set(
		    f, ERR_LAYOUT, RES_IMAGE, layout ? "split" : "unified");
		return -1;
	}
	fault_set(f, ERR_DATABASE, RES_NONE, NULL);
	if (db_begin() == -1)
		return -1;
	if ((rc = db_image_insert(pid, img)) != DB_OK) {
		if (rc == DB_CONFLICT)
			fault_set(f, ERR_EXISTS, RES_IMAGE, img->fingerprint);
		goto fail;
	}
	for (uint32_t i = 0; i < naliases; i++) {
		rc = db_alias_insert(
		    pid, aliases[i].key, aliases[i].value, img->id);
		if (rc != DB_OK) {
			if (rc == DB_CONFLICT)
				fault_set(
				    f, ERR_EXISTS, RES_ALIAS, aliases[i].key);
			goto fail;
		}
	}
	if (blob_commit(fds[0], img->fingerprint, PART_UNIFIED, err,
		sizeof(err)) == -1 ||
	    (img->split && blob_commit(fds[1], img->fingerprint, PART_ROOTFS,
			       err, sizeof(err)) == -1)) {
		int e = errno;

		log_warnx("storing image %s: %s", img->fingerprint, err);
		fault_set(f, fault_storage(e), RES_IMAGE, img->fingerprint);
		goto fail_files;
	}
	if (db_commit() == -1)
		goto fail_files;
	return 0;
fail_files:
	db_rollback();
	if (!linked_before)
		blob_remove(img->fingerprint);
	return -1;
fail:
	db_rollback();
	return -1;
}
