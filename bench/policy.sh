#!/bin/bash
# bench/policy.sh: what the policy decision and the synchronous audit
# record cost, in one run: the same sequence of N alias creations and
# deletions (default 1000) and of M image imports and deletions (default
# 50) on one kept-alive connection (bench/ops.py), against
#
#	the floor		N appends + fdatasync of a 300-byte line
#				(an audit record's cost alone), same disk
#	imgd, no policy		root on the socket
#	imgd, policy		a user with a grant that is the last of 2001
#				(each decision walks them all)
#	LXD 5.0.2		root on its socket (it writes no audit log)
#
#	sudo bench/policy.sh [N] [M]
#
# Prints ops/s, per-operation ms, and the ratios: policy / no policy,
# imgd / LXD, imgd's ms per alias operation / the fdatasync floor. No
# thresholds. Needs root and `make all`; BENCH_TMPDIR (default /var/tmp).
. "$(dirname "$0")/lib.sh"

N=${1:-1000}
M=${2:-50}
[ "$(id -u)" = 0 ] || die "run as root"
need_deps
mk_tmp
machine_info
OPS="$BENCH_DIR/ops.py"
U=imgd-bench-pol
G=imgd-bench-pol
getent group "$G" >/dev/null || groupadd --system "$G"
id "$U" >/dev/null 2>&1 || useradd --system --no-create-home -g "$G" \
    --shell /usr/sbin/nologin "$U"

# M + 1 small unified images, each different (the first for the aliases).
mkdir -p "$B_TMP/imgs"
for i in $(seq 0 "$M"); do
	d=$B_TMP/tree
	rm -rf "$d"
	mkdir -p "$d/rootfs/etc"
	printf 'architecture: x86_64\ncreation_date: 1458040200\nproperties:\n  description: bench %d\n' \
	    "$i" >"$d/metadata.yaml"
	echo "bench-$i" >"$d/rootfs/etc/hostname"
	tar -C "$d" -cf "$B_TMP/imgs/img-$i.tar" metadata.yaml rootfs
done
mv "$B_TMP/imgs/img-$M.tar" "$B_TMP/base.tar"
FP=$(sha256sum "$B_TMP/base.tar" | cut -d' ' -f1)

# run NAME SOCK [as-user]: the two sequences; sets A_C A_D I_C I_D.
run() {
	local sock=$1 who=${2:-} out
	local pre=()
	[ -n "$who" ] && pre=(setpriv --reuid="$who" --regid="$G" --init-groups)
	out=$("${pre[@]}" /usr/bin/python3 "$OPS" "$sock" aliases "$N" "$FP") ||
	    die "aliases: $out"
	A_C=$(awk '/^create/ {print $2}' <<<"$out")
	A_D=$(awk '/^delete/ {print $2}' <<<"$out")
	out=$("${pre[@]}" /usr/bin/python3 "$OPS" "$sock" images "$M" "$B_TMP/imgs") ||
	    die "images: $out"
	I_C=$(awk '/^create/ {print $2}' <<<"$out")
	I_D=$(awk '/^delete/ {print $2}' <<<"$out")
}

out=$(/usr/bin/python3 "$OPS" fsync "$N" "$B_TMP")
F=$(awk '{print $2}' <<<"$out")

# imgd without a policy file.
printf 'socket_group: %s\npolicy: ""\n' "$G" >"$B_TMP/imgd.yaml"
IMGD_ARGS="--config $B_TMP/imgd.yaml" imgd_start
api "$IMGD_SOCK" POST /1.0/images --data-binary "@$B_TMP/base.tar" >/dev/null
sleep 1
run "$IMGD_SOCK"
P0="$A_C $A_D $I_C $I_D"
imgd_stop
rm -rf "$IMGD_STATE"

# imgd with a policy of 2001 grants, the user's the last.
{
	echo "grants:"
	for i in $(seq 1 2000); do
		printf '  - identity: uid:%d\n    projects: [p%d]\n    roles: [read]\n' \
		    $((3000000 + i)) "$i"
	done
	printf '  - identity: user:%s\n    projects: [default]\n' "$U"
	echo "    roles: [read, import, publish, delete]"
} >"$B_TMP/policy.yaml"
printf 'socket_group: %s\npolicy: %s\n' "$G" "$B_TMP/policy.yaml" \
    >"$B_TMP/imgd.yaml"
IMGD_ARGS="--config $B_TMP/imgd.yaml" imgd_start
chmod 711 "$B_TMP"
chmod -R o+rX "$B_TMP/imgs"
api "$IMGD_SOCK" POST /1.0/images --data-binary "@$B_TMP/base.tar" >/dev/null
sleep 1
run "$IMGD_SOCK" "$U"
P1="$A_C $A_D $I_C $I_D"
REC=$(wc -l <"$IMGD_STATE/audit.log")
imgd_stop

lxd_start
LXD_DIR=$LXD_STATE lxc image import "$B_TMP/base.tar" >/dev/null ||
    die "lxc image import"
run "$LXD_SOCK"
PL="$A_C $A_D $I_C $I_D"
lxd_stop

# row NAME SECONDS COUNT REF_SECONDS: ops/s, ms/op, ratio to REF.
echo
echo "== $N alias creations and deletions, $M image imports and deletions (one connection each)"
printf '%-28s %10s %10s %10s %10s\n' "" "alias+" "alias-" "image+" "image-"
line() {
	local name=$1
	shift
	printf '%-28s' "$name"
	for v in "$@"; do printf ' %10s' "$v"; done
	echo
}
rate() { awk -v s="$1" -v n="$2" 'BEGIN {printf "%.0f\n", n / s}'; }
ms() { awk -v s="$1" -v n="$2" 'BEGIN {printf "%.3f\n", 1000 * s / n}'; }
# each FN "SECONDS..." : FN of the four columns (alias+ alias- by N,
# image+ image- by M).
each() {
	local fn=$1
	set -- $2
	echo "$($fn "$1" "$N") $($fn "$2" "$N") $($fn "$3" "$M") $($fn "$4" "$M")"
}
# pairs "A..." "B...": the four ratios A / B.
pairs() {
	local a b
	read -ra a <<<"$1"
	read -ra b <<<"$2"
	for i in 0 1 2 3; do printf '%s ' "$(ratio "${a[$i]}" "${b[$i]}")"; done
}
echo "ops/s"
line "imgd, no policy" $(each rate "$P0")
line "imgd, policy (2001 grants)" $(each rate "$P1")
line "LXD 5.0.2" $(each rate "$PL")
echo "ms per operation"
line "fdatasync floor (300 B)" "$(ms "$F" "$N")" "$(ms "$F" "$N")"
line "imgd, no policy" $(each ms "$P0")
line "imgd, policy (2001 grants)" $(each ms "$P1")
line "LXD 5.0.2" $(each ms "$PL")
echo "ratios (time)"
line "policy / no policy" $(pairs "$P1" "$P0")
line "imgd (no policy) / LXD" $(pairs "$P0" "$PL")
line "imgd (policy) / LXD" $(pairs "$P1" "$PL")
line "imgd (no policy) / floor" $(pairs "$P0" "$F $F - -" | cut -d' ' -f1-2)
echo "(imgd fdatasyncs the WAL and one audit record per change before it answers,"
echo " $REC records in the policy run; LXD keeps no audit log and does"
echo " not fsync. The policy run's client is a user whose grant is the"
echo " last of 2001; the decision walks every grant.)"
