#!/bin/bash
# make install into a DESTDIR: the files and their modes, the systemd unit
# (systemd-analyze verify, and a broken twin that it must fail), the man
# pages (groff with every warning), the installed imgd serving with the
# installed imgctl, and make uninstall.
. "$(dirname "$0")/lib.bash"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=$(dirname "$BIN")
D=$T_TMP/dest
P=/usr/local
out=$(make -s -C "$REPO" BUILD="$BUILD_DIR" DESTDIR="$D" PREFIX=$P install 2>&1)
check_eq "make install DESTDIR=... PREFIX=$P" "$?" 0
[ -n "$out" ] && printf '# %s\n' "$out"
for f in lib/imgd/imgd lib/imgd/imgd-frontend lib/imgd/imgd-fetcher \
    lib/imgd/imgd-unpacker bin/imgctl; do
	check_eq "$P/$f installed 0755" "$(stat -c %a "$D$P/$f" 2>&1)" 755
done
check_eq "$P/sbin/imgd links to the programs' directory" \
    "$(readlink "$D$P/sbin/imgd")" ../lib/imgd/imgd
UNIT=$D$P/lib/systemd/system/imgd.service
check "the unit installed" test -f "$UNIT"
check "sysusers.d entry installed" test -f "$D$P/lib/sysusers.d/imgd.conf"
check "a commented config installed" test -f "$D/etc/imgd/imgd.yaml"
check "imgd(8) installed" test -f "$D$P/share/man/man8/imgd.8"
check "imgctl(1) installed" test -f "$D$P/share/man/man1/imgctl.1"
for k in ProtectSystem=strict StateDirectory=imgd ConfigurationDirectory=imgd \
    NoNewPrivileges=yes ProtectHome=yes PrivateTmp=yes CapabilityBoundingSet=; do
	check_contains "the unit has $k" "$(cat "$UNIT")" "$k"
done
check_contains "the unit runs the installed imgd on /var/lib/imgd" \
    "$(grep ^ExecStart= "$UNIT")" \
    "ExecStart=$P/lib/imgd/imgd --state /var/lib/imgd --config /etc/imgd/imgd.yaml"

# systemd-analyze verify checks ExecStart's program: point it into DESTDIR.
mkdir -p "$T_TMP/units"
sed "s|$P/lib/imgd/|$D$P/lib/imgd/|" "$UNIT" >"$T_TMP/units/imgd.service"
# It runs man(1) for Documentation=man:...: the installed pages.
out=$(MANPATH=$D$P/share/man systemd-analyze verify \
    "$T_TMP/units/imgd.service" 2>&1)
check_eq "systemd-analyze verify: clean" "$?/$out" "0/"
sed 's|^ProtectSystem=strict|ProtectSytsem=strict|' \
    "$T_TMP/units/imgd.service" >"$T_TMP/units/broken.service"
sed -i 's|^ExecStart=/|ExecStart=/nonexistent/|' "$T_TMP/units/broken.service"
out=$(systemd-analyze verify "$T_TMP/units/broken.service" 2>&1)
check_contains "... and it does catch a broken twin" "$out" "not executable"
check_contains "... naming the misspelt key" "$out" "ProtectSytsem"

for m in man8/imgd.8 man1/imgctl.1; do
	out=$(groff -man -Tutf8 -ww -z "$D$P/share/man/$m" 2>&1)
	check_eq "$m: groff -ww has no warning" "$out" ""
	check_contains "$m: renders its NAME" \
	    "$(MANWIDTH=80 man -l "$D$P/share/man/$m" 2>/dev/null | col -b)" \
	    "NAME"
done

# The installed programs serve (the config is the installed one).
BIN=$D$P/lib/imgd
IMGD_ARGS="--config $D/etc/imgd/imgd.yaml"
imgd_start "$T_TMP/state"
check_eq "the installed imgd serves" "$(curl -s --unix-socket "$SOCK" \
    http://x/1.0 | jget metadata.api_version)" 1.0
f=$(mkunified "$T_TMP/i.tar" gzip)
check "the installed imgctl imports" "$D$P/bin/imgctl" image import "$f" \
    --alias inst
check_contains "... and lists" "$("$D$P/bin/imgctl" image list)" inst
check_contains "the children run from the installed directory" \
    "$(readlink "/proc/$(child_pid imgd-frontend)/exe")" "$D$P/lib/imgd/"
imgd_stop

out=$(make -s -C "$REPO" BUILD="$BUILD_DIR" DESTDIR="$D" PREFIX=$P \
    uninstall 2>&1)
check_eq "make uninstall" "$?" 0
check_eq "nothing installed is left but the config" \
    "$(cd "$D" && find . -type f -o -type l | sort)" "./etc/imgd/imgd.yaml"

summary
