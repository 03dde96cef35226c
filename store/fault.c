/*
 * Faults as the store builds them: a cause and its facts, never an HTTP
 * status or a client's sentence (the frontend chooses those). The words
 * here are for the store's own log and audit.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ipc/cause.h"
#include "store/store.h"

/* Facts go into one-line fields: control characters become spaces. */
static void
one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void
fault_set(struct fault *f, int cause, int subject, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->cause = (uint8_t)cause;
	f->subject = (uint8_t)subject;
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "");
	one_line(f->name);
}

void
fault_invalid(struct fault *f, const char *fmt, ...)
{
	va_list ap;

	fault_set(f, ERR_INVALID, RES_NONE, NULL);
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
	one_line(f->detail);
	if (f->detail[0] == '\0')
		snprintf(f->detail, sizeof(f->detail), "invalid request");
}

void
fault_to_ipc(const struct fault *f, struct ipc_fault *out)
{
	out->cause = f->cause;
	out->subject = f->subject;
	out->limit = f->limit;
	out->bytes = f->bytes;
	out->name = (char *)f->name;
	out->detail = (char *)f->detail;
}

const char *
fault_text(const struct fault *f, char *buf, size_t len)
{
	struct ipc_fault i;

	fault_to_ipc(f, &i);
	fault_words(&i, buf, len);
	return buf;
}

struct fault *
fault_props(struct fault *f)
{
	fault_set(f, ERR_TOO_MANY_PROPS, RES_IMAGE, NULL);
	f->limit = LIM_META_PROPERTIES_MAX;
	f->bytes = LIM_PROP_TOTAL_MAX;
	return f;
}

int
fault_storage(int e)
{
	if (e == EMFILE || e == ENFILE)
		return ERR_NO_FDS;
	return e == ENOSPC || e == EDQUOT ? ERR_NO_SPACE : ERR_STORAGE;
}
