/*
 * The words for a fault: one sentence for each cause, filled with the
 * facts the store sent. The frontend shows them to the client (with the
 * HTTP status it chose for the cause); the store writes them to its log
 * and audit. LXD's own texts where LXD has one for the case.
 */
#include <stdio.h>
#include <string.h>

#include "ipc/cause.h"

static const char *
subject_word(int subject)
{
	switch (subject) {
	case RES_IMAGE:
		return "Image";
	case RES_ALIAS:
		return "Image alias";
	case RES_PROJECT:
		return "Project";
	case RES_OPERATION:
		return "Operation";
	case RES_CERTIFICATE:
		return "Certificate";
	case RES_TOKEN:
		return "Token";
	default:
		return "Object";
	}
}

static const char *
busy_words(int subject)
{
	switch (subject) {
	case RES_IMAGE:
		return "Too many uploads in progress: try again later";
	case RES_OPERATION:
		return "Too many clients wait for operations, try again";
	default:
		return "imgd is busy, try again";
	}
}

int
fault_words(const struct ipc_fault *f, char *buf, size_t len)
{
	const char *name = f->name ? f->name : "";
	const char *detail = f->detail ? f->detail : "";
	unsigned long long limit = f->limit, bytes = f->bytes;

	switch (f->cause) {
	case ERR_INVALID:
		return snprintf(buf, len, "%s", detail);
	case ERR_NOT_FOUND:
		return snprintf(
		    buf, len, "%s not found", subject_word(f->subject));
	case ERR_AMBIGUOUS:
		return snprintf(buf, len,
		    "More than one image matches this fingerprint prefix: give "
		    "more characters");
	case ERR_EXISTS:
		if (f->subject == RES_ALIAS)
			return snprintf(
			    buf, len, "Alias \"%s\" already exists", name);
		if (f->subject == RES_PROJECT)
			return snprintf(
			    buf, len, "Project \"%s\" already exists", name);
		if (f->subject == RES_NONE && detail[0]) /* e.g. a target */
			return snprintf(buf, len, "%s", detail);
		return snprintf(buf, len,
		    "Image with same fingerprint already "
		    "exists");
	case ERR_CHANGED:
		return snprintf(buf, len,
		    "ETag doesn't match: the %s changed since it was read",
		    f->subject == RES_ALIAS ? "alias" : "image");
	case ERR_FP_MISMATCH:
		return snprintf(buf, len,
		    "Fingerprint mismatch: got %s, expected %s", name, detail);
	case ERR_LAYOUT:
		return snprintf(buf, len,
		    "An image with this fingerprint is stored as a %s image "
		    "already",
		    name);
	case ERR_TOO_MANY_PROPS:
		return snprintf(buf, len,
		    "Too many properties: at most %llu, %llu bytes in all",
		    limit, bytes);
	case ERR_TOO_MANY_ALIASES:
		return snprintf(
		    buf, len, "An image has at most %llu aliases", limit);
	case ERR_ALIAS_TYPE:
		return snprintf(
		    buf, len, "Unsupported alias type \"%s\"", name);
	case ERR_NO_TARGET:
		return snprintf(buf, len, "The target field is required");
	case ERR_TOO_LARGE:
		return snprintf(buf, len,
		    "image part larger than the limit of %llu bytes", bytes);
	case ERR_ABORTED:
		return snprintf(buf, len, "upload aborted: %s",
		    detail[0] ? detail : "client went away");
	case ERR_TRUNCATED:
		return snprintf(buf, len, "upload truncated");
	case ERR_EMPTY:
		return snprintf(buf, len, "empty upload: no image data");
	case ERR_NO_ROOTFS:
		return snprintf(buf, len, "split image without a rootfs part");
	case ERR_SEQUENCE:
		return snprintf(buf, len, "upload records out of order");
	case ERR_BUSY:
		return snprintf(buf, len, "%s", busy_words(f->subject));
	case ERR_STOPPING:
		return snprintf(buf, len, "imgd is stopping");
	case ERR_NO_SPACE:
		/* bytes: what the image needs, limit: what was free for it;
		 * no limit: the disk filled after bytes of an image that
		 * declared no size */
		if (f->subject == RES_NONE && detail[0]) /* an unpack */
			return snprintf(buf, len, "%s", detail);
		if (bytes == 0)
			return snprintf(
			    buf, len, "no space left on the image store");
		if (limit == 0)
			return snprintf(buf, len,
			    "no space left on the image store: it filled "
			    "after %llu bytes of the image",
			    bytes);
		return snprintf(buf, len,
		    "no space left on the image store: %llu bytes needed, "
		    "%llu free",
		    bytes, limit);
	case ERR_NO_FDS:
		return snprintf(buf, len,
		    "imgd is out of file descriptors (its RLIMIT_NOFILE): try "
		    "again later; the operator can raise the limit");
	case ERR_STORAGE:
		return snprintf(buf, len,
		    "cannot store or read the image file (details in imgd's "
		    "log)");
	case ERR_FILE_MISSING:
		return snprintf(buf, len, "The image file is missing");
	case ERR_DATABASE:
		return snprintf(buf, len, "internal database error");
	case ERR_TIMEOUT:
		return snprintf(buf, len, "image validation timed out");
	case ERR_UNPACKER:
		return snprintf(buf, len,
		    "image validation failed: the unpacker %s %s", name,
		    detail);
	case ERR_UNPACKER_BUG:
		return snprintf(buf, len,
		    "image validation failed: the unpacker was %s %s; this is "
		    "a bug in imgd, not a fault of the image (details in "
		    "imgd's "
		    "log)",
		    name, detail);
	case ERR_UNPACKER_PROTO:
		return snprintf(buf, len,
		    "image validation failed: the unpacker misbehaved");
	case ERR_FORBIDDEN:
		return snprintf(buf, len, "not authorized: %s",
		    name[0] ? name : "this needs a trusted client");
	case ERR_BAD_TOKEN:
		return snprintf(buf, len,
		    "%s is not valid (wrong, already used or expired)",
		    f->subject == RES_TOKEN ? "The trust token"
					    : "The image secret");
	case ERR_FETCH:
		return snprintf(buf, len,
		    "Failed remote image download from %s: %s", name, detail);
	case ERR_FETCH_REFUSED:
		return snprintf(
		    buf, len, "Refused to download from %s: %s", name, detail);
	case ERR_FETCH_VERIFY:
		return snprintf(buf, len,
		    "The image from %s failed verification: %s", name, detail);
	case ERR_SIGNATURE:
		return snprintf(buf, len,
		    "The image's signature is not accepted: %s", detail);
	case ERR_FETCHER:
		return snprintf(buf, len,
		    "Failed remote image download: the fetcher %s %s (details "
		    "in imgd's log)",
		    name, detail);
	case ERR_IN_USE:
		return snprintf(buf, len,
		    "Only empty projects can be %s: project \"%s\" holds %llu "
		    "images and %llu aliases",
		    detail, name, limit, bytes);
	case ERR_QUOTA:
		if (strcmp(detail, "limits.disk") == 0)
			return snprintf(buf, len,
			    "Project \"%s\" quota exceeded: limits.disk is "
			    "%llu "
			    "bytes and this image would bring it to %llu",
			    name, limit, bytes);
		if (strncmp(detail, "limits.images.", 14) == 0)
			return snprintf(buf, len,
			    "Project \"%s\" quota exceeded: %s is %llu and "
			    "this would be number %llu under way at once",
			    name, detail, limit, bytes);
		return snprintf(buf, len,
		    "Project \"%s\" quota exceeded: limits.images is %llu and "
		    "this image would be image %llu",
		    name, limit, bytes);
	default:
		return snprintf(
		    buf, len, "internal error (details in imgd's log)");
	}
}

const char *
fault_token(int cause)
{
	static const char *const tokens[ERR_MAX + 1] = {
	    [ERR_NONE] = "none",
	    [ERR_INVALID] = "invalid",
	    [ERR_NOT_FOUND] = "not-found",
	    [ERR_AMBIGUOUS] = "ambiguous",
	    [ERR_EXISTS] = "exists",
	    [ERR_CHANGED] = "changed",
	    [ERR_FP_MISMATCH] = "fingerprint-mismatch",
	    [ERR_LAYOUT] = "layout",
	    [ERR_TOO_MANY_PROPS] = "too-many-properties",
	    [ERR_TOO_MANY_ALIASES] = "too-many-aliases",
	    [ERR_ALIAS_TYPE] = "alias-type",
	    [ERR_NO_TARGET] = "no-target",
	    [ERR_TOO_LARGE] = "too-large",
	    [ERR_ABORTED] = "aborted",
	    [ERR_TRUNCATED] = "truncated",
	    [ERR_EMPTY] = "empty",
	    [ERR_NO_ROOTFS] = "no-rootfs",
	    [ERR_SEQUENCE] = "sequence",
	    [ERR_BUSY] = "busy",
	    [ERR_STOPPING] = "stopping",
	    [ERR_NO_SPACE] = "no-space",
	    [ERR_STORAGE] = "storage",
	    [ERR_NO_FDS] = "no-fds",
	    [ERR_FILE_MISSING] = "file-missing",
	    [ERR_DATABASE] = "database",
	    [ERR_INTERNAL] = "internal",
	    [ERR_TIMEOUT] = "timeout",
	    [ERR_UNPACKER] = "unpacker",
	    [ERR_UNPACKER_BUG] = "unpacker-bug",
	    [ERR_UNPACKER_PROTO] = "unpacker-protocol",
	    [ERR_FORBIDDEN] = "forbidden",
	    [ERR_BAD_TOKEN] = "bad-token",
	    [ERR_FETCH] = "fetch",
	    [ERR_FETCH_REFUSED] = "fetch-refused",
	    [ERR_FETCH_VERIFY] = "fetch-verify",
	    [ERR_FETCHER] = "fetcher",
	    [ERR_SIGNATURE] = "signature",
	    [ERR_IN_USE] = "in-use",
	    [ERR_QUOTA] = "quota",
	};

	return cause >= 0 && cause <= ERR_MAX ? tokens[cause] : "internal";
}
