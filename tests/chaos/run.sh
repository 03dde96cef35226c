#!/bin/bash
# Crash consistency: kill -9 of the store, the frontend, an unpacker or a
# fetcher at a random moment while one client imports (unified, split,
# squashfs), copies from another imgd, publishes a directory, deletes,
# moves aliases, edits and unpacks; then a restart (the store's start-up repair) and
# tests/chaos/verify.py: the database whole, every row's files there and
# hashing to its fingerprint, no orphan outside quarantine/, no half image
# or half unpacked tree, every acknowledged operation there and audited,
# the audit chain whole.
#
#	tests/chaos/run.sh	CHAOS_ROUNDS rounds (24), CHAOS_SEED to replay;
#				CHAOS_TARGETS="store unpacker" to kill only
#				those, CHAOS_FAVOUR=unpack for more of one
#				operation (workload.py)
#	make chaos		200 rounds
#
# One check per round; the tally (kills per target, operations
# acknowledged, repairs) is printed at the end.
. "$(dirname "$0")/../integration/lib.bash"

ROUNDS=${CHAOS_ROUNDS:-24}
SEED=${CHAOS_SEED:-$((RANDOM * 32768 + RANDOM))}
echo "# chaos: $ROUNDS rounds, CHAOS_SEED=$SEED"
RANDOM=$((SEED % 32768))
HERE=$(cd "$(dirname "$0")" && pwd)
CW=$T_TMP/chaos
mkdir -p "$CW/pool"

# ---- the images ----
# pool_image NAME KIND SIZE_KIB: a tree with SIZE_KIB of random data,
# packed as KIND (unified: tar.gz; split: meta tar.xz + rootfs tar.gz;
# squashfs: meta tar.xz + rootfs squashfs); prints a pool.json entry
# without its local/remote flags.
pool_image() {
	local n=$1 kind=$2 kib=$3 d=$CW/pool/$1
	mkimage_tree "$d" os=chaos desc="chaos $n"
	head -c $((kib * 1024)) /dev/urandom >"$d/rootfs/etc/payload"
	mkdir -p "$d/rootfs/usr/share/chaos/$n"
	seq 1 $((RANDOM % 50 + 1)) | while read -r i; do
		echo "$n $i" >"$d/rootfs/usr/share/chaos/$n/f$i"
	done
	local files
	case $kind in
	unified)
		tar -C "$d" -czf "$d.tar.gz" metadata.yaml rootfs templates
		files="\"$d.tar.gz\"" ;;
	split)
		tar -C "$d" -cJf "$d.meta.tar.xz" metadata.yaml templates
		tar -C "$d/rootfs" -czf "$d.rootfs.tar.gz" .
		files="\"$d.meta.tar.xz\", \"$d.rootfs.tar.gz\"" ;;
	squashfs)
		tar -C "$d" -cJf "$d.meta.tar.xz" metadata.yaml templates
		mksquashfs "$d/rootfs" "$d.rootfs.squashfs" -noappend -quiet \
		    -comp gzip >/dev/null
		files="\"$d.meta.tar.xz\", \"$d.rootfs.squashfs\"" ;;
	esac
	python3 - "$d/rootfs" "$kind" "[$files]" <<'EOF'
import hashlib, json, os, sys
root, kind, files = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
h = hashlib.sha256()
for f in files:
    h.update(open(f, "rb").read())
tree = []
for d, dirs, names in os.walk(root):
    for n in dirs + names:
        tree.append(os.path.relpath(os.path.join(d, n), root))
print(json.dumps({"fp": h.hexdigest(), "kind": kind, "files": files,
                  "tree": sorted(tree)}))
EOF
}

i=0
for kind in unified split squashfs unified split squashfs; do
	pool_image "l$i" $kind $((RANDOM % 5120 + 1024)) >>"$CW/local.jsonl" ||
	    exit 1
	i=$((i + 1))
done
for kind in unified split squashfs; do
	pool_image "r$i" $kind $((RANDOM % 2048 + 512)) >>"$CW/remote.jsonl" ||
	    exit 1
	i=$((i + 1))
done

# ---- the remote: another imgd over HTTPS, never killed ----
https_start || { summary; exit 1; }
A_STATE=$STATE
A_URL=$URL
FAKE_PIDS="$IMGD_PID"
IMGD_PID=
while read -r e; do
	# shellcheck disable=SC2046
	IMGD_DIR=$A_STATE "$BIN/imgctl" image import --public $(python3 -c '
import json, sys
print(" ".join(json.loads(sys.argv[1])["files"]))' "$e") >/dev/null ||
	    { fail "the remote imports its images"; summary; exit 1; }
done <"$CW/remote.jsonl"

# Two of the trees published: the remote's fingerprint for a directory is
# the one the store under test must make of it (publish is deterministic).
for n in l0 l2; do
	out=$(IMGD_DIR=$A_STATE "$BIN/imgctl" publish "$CW/pool/$n" 2>&1)
	fp=$(sed -n 's/^Image published with fingerprint: //p' <<<"$out")
	[ ${#fp} = 64 ] ||
	    { fail "the remote publishes $n: $out"; summary; exit 1; }
	python3 -c '
import json, sys
e = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2])]
print(json.dumps({"fp": sys.argv[3], "kind": "publish", "files": [],
                  "tree": e["tree"], "publish": sys.argv[4]}))' \
	    "$CW/local.jsonl" "${n#l}" "$fp" "$CW/pool/$n" >>"$CW/publish.jsonl"
done

POOL=$CW/pool.json
python3 - "$CW" "$A_URL" "$A_STATE/server.crt" <<'EOF'
import json, sys
w = sys.argv[1]
images = []
for name, flags in (("local", (True, False)), ("remote", (False, True)),
                    ("publish", (False, False))):
    for line in open("%s/%s.jsonl" % (w, name)):
        e = json.loads(line)
        e["local"], e["remote"] = flags
        images.append(e)
json.dump({"images": images,
           "remote": {"url": sys.argv[2],
                      "certificate": open(sys.argv[3]).read()}},
          open(w + "/pool.json", "w"))
EOF

# ---- the store under test ----
B=$T_TMP/bstate
echo "$FETCH_CONFIG" >"$CW/imgd.yaml"
export IMGD_ARGS="--config $CW/imgd.yaml"
imgd_start "$B" || { summary; exit 1; }

audit_seq() {
	tail -n 1 "$B/audit.log" | python3 -c '
import json, sys
try:
    print(json.loads(sys.stdin.read())["seq"])
except (ValueError, KeyError):
    print(0)'
}

# kill_when_running PROG DEADLINE_S: kill -9 the first PROG child of the
# store seen before the deadline; prints what it killed (PROG, with the
# unpacker's --mode), nothing if none ran.
kill_when_running() {
	local prog=$1 end=$((SECONDS + $2)) pid
	while [ $SECONDS -lt $end ]; do
		pid=$(child_pid "$prog")
		if [ -n "$pid" ]; then
			# somewhere in its life, not only at its start
			[ $((RANDOM % 2)) = 0 ] && sleep "0.00$((RANDOM % 10))"
			local mode
			mode=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
			    sed -n 's/.*--mode \([a-z]*\).*/\1/p')
			[ "$prog" = imgd-unpacker ] && mode=${mode:-validate}
			if kill -KILL "$pid" 2>/dev/null; then
				echo "$prog${mode:+ ($mode)}"
				return
			fi
		fi
		sleep 0.005
	done
}

declare -A kills
acked=0 unacked=0
read -r -a targets <<<"${CHAOS_TARGETS:-store frontend unpacker fetcher}"
for r in $(seq 1 "$ROUNDS"); do
	t=${targets[$(((r - 1) % ${#targets[@]}))]}
	favour=""
	[ "$t" = fetcher ] && favour=copy
	[ "$t" != fetcher ] && [ $((RANDOM % 2)) = 0 ] && favour=unpack
	favour=${CHAOS_FAVOUR:-$favour}
	ledger=$CW/ledger.$r stop=$CW/stop.$r
	before=$(audit_seq)
	python3 "$HERE/workload.py" "$SOCK" "$POOL" "$ledger" "$stop" \
	    "$((SEED + r))" $favour 2>"$CW/workload.$r.err" &
	wl=$!
	delay=$((RANDOM % 1500 + 20))
	sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
	what=$t
	case $t in
	store)
		kids=$(pgrep -P "$IMGD_PID" | tr '\n' ' ')
		kill -KILL "$IMGD_PID"
		wait "$IMGD_PID" 2>/dev/null
		IMGD_PID=
		gone=0
		for _ in $(seq 1 100); do
			alive=0
			for k in $kids; do kill -0 "$k" 2>/dev/null && alive=1; done
			[ $alive = 0 ] && { gone=1; break; }
			sleep 0.05
		done
		[ $gone = 1 ] || fail "round $r: the store's children outlived it"
		;;
	frontend)
		# (one restarting after the last round has no pid yet)
		wait_serving
		kill -KILL "$(child_pid imgd-frontend)" ;;
	*)
		what=$(kill_when_running "imgd-$t" 4)
		if [ -z "$what" ]; then
			# none ran in time: the frontend instead
			what="frontend (no $t ran)"
			wait_serving
			kill -KILL "$(child_pid imgd-frontend)"
		fi ;;
	esac
	kills[$what]=$((${kills[$what]:-0} + 1))
	# the client goes on a moment against what is left
	sleep 0.3
	touch "$stop"
	if ! wait "$wl"; then
		fail "round $r: the client failed: $(tail -3 "$CW/workload.$r.err")"
	fi
	if [ -n "$IMGD_PID" ]; then
		imgd_stop || fail "round $r: imgd did not stop cleanly after the $t was killed"
	fi
	if ! imgd_start "$B"; then
		fail "round $r: imgd does not start again after the $t was killed"
		break
	fi
	out=$(python3 "$HERE/verify.py" "$B" "$POOL" "$CW/model.json" "$ledger" \
	    "$before" "$BIN/imgctl" 2>&1)
	ops=$(sed -n 's/^ops: //p' <<<"$out")
	for o in $ops; do
		case $o in
		*/*) a=${o%/*} n=${o#*/}
		     acked=$((acked + a)) unacked=$((unacked + n - a)) ;;
		esac
	done
	if grep -q '^verify: ok' <<<"$out"; then
		pass "round $r: $what killed after ${delay} ms; $(tail -1 <<<"$out" | sed 's/^verify: //'); $ops"
	else
		fail "round $r: $what killed after ${delay} ms"
		grep -v '^verify' <<<"$out" | sed 's/^/#   /'
		cp -a "$B" "$CW/failed-state.$r" 2>/dev/null
	fi
	rm -rf "${B:?}/rootfs/"*
done

echo "# kills (kill -9, by target): $(for k in "${!kills[@]}"; do printf '%s: %d; ' "$k" "${kills[$k]}"; done)"
echo "# operations: $acked acknowledged, $unacked not (may or may not have happened)"
echo "# repairs: $(grep -c 'repair: ' "$T_TMP/imgd.log") log lines ($(grep -c 'has no image row' "$T_TMP/imgd.log") files quarantined, $(grep -c 'unfinished unpack' "$T_TMP/imgd.log") partial unpacks removed, $(grep -c 'removing leftover' "$T_TMP/imgd.log") temp files)"
imgd_stop
[ -n "${CHAOS_KEEP:-}" ] && cp -a "$CW" "$CHAOS_KEEP"
summary
