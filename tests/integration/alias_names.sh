#!/bin/bash
# Alias names: one table, through imgctl, the real lxc client and the raw
# API, and the same lxc commands against a reference LXD. imgd takes what
# LXD takes ("ubuntu/22.04/amd64", UTF-8, long names) except what is unsafe
# or cannot be addressed in a URL afterwards; those differences are listed
# here on purpose and checked to be refusals that say why.
. "$(dirname "$0")/lib.bash"

imgd_start || { summary; exit 1; }
W=$T_TMP/work
mkdir -p "$W"
F=$(mkunified "$W/img.tar" gzip)
FP=$(sha256sum "$F" | cut -d' ' -f1)
"$BIN/imgctl" image import "$F" >/dev/null
ref_or_skip
[ "$HAVE_REF" = 1 ] && LXD_DIR=$LXD_REF lxc image import "$F" >/dev/null

N512=$(printf 'n%.0s' $(seq 1 512))
N513=${N512}x
SEG='empty, "." and ".." parts between '"'"'/'"'"' are not allowed (a URL could not address the alias)'
URLC="'?', '#' and '%' are not allowed (a URL could not address the alias)"

# name | expected on imgd: ok, or the reason | what LXD does, when it differs
while IFS='|' read -r name want lxd; do
	[ -n "$name" ] || continue
	name=${name//@TAB@/$'\t'}
	name=${name//@512@/$N512}
	name=${name//@513@/$N513}
	want=${want//@SEG@/$SEG}
	want=${want//@URL@/$URLC}
	label=$(printf '%s' "$name" | cut -c1-24 | tr '\t' '~')
	out=$(lxc_out lxc image alias create "$name" "$FP")
	if [ "$want" = ok ]; then
		check_eq "[$label] lxc creates it" "$out" ""
		check_eq "[$label] lxc shows it" \
		    "$(lxc image info "$name" 2>&1 | grep Fingerprint)" \
		    "Fingerprint: $FP"
		check_contains "[$label] listed" \
		    "$(lxc image alias list -f csv)" "$name,"
		new="${name:0:500}/r"
		check "[$label] lxc renames it" lxc image alias rename \
		    "$name" "$new"
		check "[$label] imgctl shows it" "$BIN/imgctl" image info \
		    "$new"
		check "[$label] imgctl deletes it" "$BIN/imgctl" image alias \
		    delete "$new"
		check "[$label] imgctl creates it" "$BIN/imgctl" image alias \
		    create "$name" "$FP"
		check "[$label] lxc deletes it" lxc image alias delete "$name"
	else
		check_eq "[$label] lxc is refused, with the reason" "$out" \
		    "Error: Invalid alias name \"$(printf '%.64s' "$name")$([ ${#name} -gt 64 ] && echo ...)\": $want"
		out=$("$BIN/imgctl" image alias create "$name" "$FP" 2>&1)
		check_eq "[$label] imgctl is refused, in its words" "$out" \
		    "Error: invalid alias name \"$name\": $want"
	fi
	[ "$HAVE_REF" = 1 ] || continue
	out=$(LXD_DIR=$LXD_REF lxc_out lxc image alias create "$name" "$FP")
	ref=ok
	[ -n "$out" ] && ref="refused: $out"
	if [ -n "$lxd" ]; then
		# A deliberate difference: check that LXD really does this.
		echo "# differs from LXD on purpose: [$label] imgd: $want; LXD: $ref"
		check_eq "[$label] LXD: $lxd" "${ref%%:*}" "$lxd"
	else
		check_eq "[$label] LXD agrees" "${ref%%:*}" \
		    "$([ "$want" = ok ] && echo ok || echo refused)"
	fi
	LXD_DIR=$LXD_REF lxc image alias delete "$name" >/dev/null 2>&1
done <<'EOF'
ubuntu/22.04|ok|
debian/12/cloud|ok|
ubuntu/22.04/amd64|ok|
café-ünïcødé|ok|
with space inside|ok|
@512@|ok|
@513@|longer than 512 bytes|ok
.|@SEG@|ok
..|@SEG@|ok
a/../b|@SEG@|ok
a//b|@SEG@|ok
/lead|@SEG@|ok
trail/|@SEG@|ok
 lead|leading or trailing spaces are not allowed|ok
trail |leading or trailing spaces are not allowed|ok
tab@TAB@in|control characters or invalid UTF-8 are not allowed|ok
what?|@URL@|ok
a#b|@URL@|ok
a%2Fb|@URL@|ok
EOF

# Aliases given with the import are one transaction with the image.
before=$(state_snapshot)
out=$("$BIN/imgctl" image import "$(mkunified "$W/two.tar" none desc=two)" \
    --alias fine --alias 'a/../b' 2>&1)
check_eq "imgctl import --alias BAD: refused before upload, in its words" \
    "$out" "Error: invalid alias name \"a/../b\": $SEG"
check_eq "imgctl import --alias BAD: nothing stored" "$(state_snapshot)" \
    "$before"
out=$(upload "$W/two.tar" -H 'X-Imgd-Alias: fine' -H 'X-Imgd-Alias: ..')
check_eq "API import with a bad alias: refused whole" "$out" \
    "400|X-Imgd-Alias: invalid alias name \"..\": $SEG"
args=()
for i in $(seq 1 33); do args+=(-H "X-Imgd-Alias: a$i"); done
check_eq "API import with 33 aliases: the bound is named" \
    "$(upload "$W/two.tar" "${args[@]}")" \
    "400|X-Imgd-Alias: at most 32 aliases per image"
check_eq "bad alias imports: nothing stored" "$(state_snapshot)" "$before"
# lxc 5.0.2 uploads first and creates each alias with its own POST after
# the import (as against LXD): it cannot be one transaction by protocol,
# so the image stays and lxc says which alias failed, and why.
out=$(lxc_out lxc image import "$W/two.tar" --alias 'a/../b')
check_contains "lxc import --alias BAD: lxc names the alias and the cause" \
    "$out" "Invalid alias name \"a/../b\": $SEG"
if [ "$HAVE_REF" = 1 ]; then
	out=$(LXD_DIR=$LXD_REF lxc_out lxc image import "$W/two.tar" \
	    --alias 'x?y')
	check_contains "LXD too keeps the image when lxc's alias POST fails" \
	    "$(LXD_DIR=$LXD_REF lxc image list -f csv -c d)" two
fi
summary
