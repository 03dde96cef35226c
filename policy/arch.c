/*
 * LXD architecture names and aliases, as in LXD's shared/osarch
 * (architectures.go): an image must name one of them, and the store keeps
 * only the canonical name so that lookups and listings agree with LXD.
 */
#include <string.h>

#include "policy/arch.h"

#define ARCH_ALIASES_MAX 6 /* one more than any name has, for the NULL */

static const struct arch {
	const char *name;
	const char *aliases[ARCH_ALIASES_MAX];
} arch_table[] = {
    {"i686", {"i386", "i586", "386", "x86", "generic_32"}},
    {"x86_64", {"amd64", "generic_64"}},
    {"armv6l", {"armel", "arm"}},
    {"armv7l",
	{"armhf", "armhfp", "armv7a_hardfp", "armv7", "armv7a_vfpv3_hardfp"}},
    {"armv8l", {NULL}},
    {"aarch64", {"arm64", "arm64_generic"}},
    {"ppc", {"powerpc"}},
    {"ppc64", {"powerpc64", "ppc64"}},
    {"ppc64le", {"ppc64el"}},
    {"s390x", {NULL}},
    {"mips", {"mipsel"}},
    {"mips64", {"mips64el"}},
    {"riscv32", {NULL}},
    {"riscv64", {NULL}},
};

const char *
arch_canonical(const char *name)
{
	size_t i, j;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(arch_table) / sizeof(arch_table[0]); i++) {
		const struct arch *a = &arch_table[i];

		if (strcmp(a->name, name) == 0)
			return a->name;
		for (j = 0; j < ARCH_ALIASES_MAX && a->aliases[j] != NULL; j++)
			if (strcmp(a->aliases[j], name) == 0)
				return a->name;
	}
	return NULL;
}

/* The Debian name simplestreams uses ("x86_64" -> "amd64"), or the name. */
const char *
arch_debian(const char *name)
{
	static const char *const map[][2] = {{"i686", "i386"},
	    {"x86_64", "amd64"}, {"armv6l", "armel"}, {"armv7l", "armhf"},
	    {"aarch64", "arm64"}, {"ppc", "powerpc"}, {"ppc64", "ppc64"},
	    {"ppc64le", "ppc64el"}, {"mips", "mipsel"}, {"mips64", "mips64el"}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], name) == 0)
			return map[i][1];
	return name;
}
