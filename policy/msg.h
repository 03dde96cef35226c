/*
 * One-line error messages (policy/msg.c), for the validation library and
 * the YAML reader: names from untrusted input are shown as printable ASCII.
 */
#ifndef IMGD_POLICY_MSG_H
#define IMGD_POLICY_MSG_H

#include <stddef.h>

#define MSG_QUOTE_MAX 96 /* room for a quoted name in a message */
void msg_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like msg_set(), after a fixed prefix (the part label). */
void msg_setp(char *err, size_t errlen, const char *prefix, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
/* Printable ASCII copy of len bytes of s, shortened with "...". */
const char *msg_quote(char *dst, size_t dstlen, const char *s, size_t len);

#endif
