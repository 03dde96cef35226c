/*
 * LXD's architecture names, shared by the unpacker (which reads them from
 * metadata.yaml) and the store (which checks the unpacker's answer).
 */
#ifndef IMGD_POLICY_ARCH_H
#define IMGD_POLICY_ARCH_H

/*
 * Canonical LXD architecture name for an LXD name or alias ("amd64" ->
 * "x86_64"), NULL if unknown.
 */
const char *arch_canonical(const char *name);
/* The Debian name of a canonical one (simplestreams' \"arch\"). */
const char *arch_debian(const char *name);

#endif
