#!/bin/bash
# Many images: lists are paged between the store and the frontend (a
# channel is never flooded), and every image and alias comes back.
. "$(dirname "$0")/lib.bash"

N=5000
imgd_start || { summary; exit 1; }
imgd_stop
# Rows and (empty) blob files straight into the store, as if imported.
python3 - "$STATE" "$N" <<'PY'
import hashlib, os, sqlite3, sys
state, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(os.path.join(state, "imgd.db"))
with db:
    for i in range(n):
        fp = hashlib.sha256(b"img %d" % i).hexdigest()
        open(os.path.join(state, "images", fp), "w").close()
        cur = db.execute(
            "INSERT INTO images (project_id, fingerprint, filename, size, "
            "public, auto_update, split, architecture, type, created_at, "
            "expires_at, uploaded_at, compression0, compression1) VALUES "
            "(1, ?, 'f', 1, 0, 0, 0, 'x86_64', 'container', 1, 0, 1, "
            "'none', '')", (fp,))
        db.execute("INSERT INTO image_properties VALUES (?, 'description', ?)",
                   (cur.lastrowid, "image number %d" % i))
        db.execute("INSERT INTO image_properties VALUES (?, 'os', ?)",
                   (cur.lastrowid, "Ubuntu" if i % 50 == 0 else "bench"))
        db.execute("INSERT INTO image_aliases (project_id, name, image_id, "
                   "description) VALUES (1, ?, ?, '')",
                   ("alias-%05d" % i, cur.lastrowid))
PY
IMGD_ARGS="--debug ${IMGD_ARGS:-}" imgd_start "$STATE" || {
	summary
	exit 1
}
count() {
	python3 -c 'import json,sys; print(len(json.load(sys.stdin)["metadata"]))'
}
check_eq "images recursion=1: all $N" "$(api_body GET \
    '/1.0/images?recursion=1' | count)" "$N"
check_eq "images recursion=0: all $N" "$(api_body GET /1.0/images | count)" "$N"
check_eq "aliases recursion=1: all $N" "$(api_body GET \
    '/1.0/images/aliases?recursion=1' | count)" "$N"
check_eq "lxc image list: all $N" "$(lxc image list -f csv | wc -l)" "$N"
# Many lists at once share the channel: they wait for it to drain.
pids=""
for i in $(seq 1 24); do
	curl -s --unix-socket "$SOCK" \
	    'http://imgd/1.0/images/aliases?recursion=1' >"$T_TMP/list.$i" &
	pids="$pids $!"
done
wait $pids
ok=0
for i in $(seq 1 24); do
	[ "$(count <"$T_TMP/list.$i")" = "$N" ] && ok=$((ok + 1))
done
check_eq "24 concurrent alias lists: all complete" "$ok" 24

# Lists are streamed a page at a time, the next page once the client has
# taken the last: records the filter drops still count towards the page.
check_eq "a filter that keeps one of $N" "$(api_body GET \
    '/1.0/images?recursion=1&filter=properties.description+eq+%22image+number+4999%22' |
    count)" 1
check_eq "a filter that keeps none: []" "$(api_body GET \
    '/1.0/images?filter=properties.description+eq+nothing' | jget metadata)" "[]"
# A filter the store narrows its query with (properties.os eq a plain
# word, no "or"): the same images as one it cannot narrow (a regex), ASCII
# case aside, also with another clause; "or" and "not" are not narrowed.
fl() {
	api_body GET "/1.0/images?recursion=1&filter=$1" |
	    python3 -c 'import json,sys
print(" ".join(sorted(i["fingerprint"] for i in json.load(sys.stdin)["metadata"])))'
}
narrow=$(fl 'properties.os+eq+ubuntu')
check_eq "narrowed filter: the 100 images with os=Ubuntu" \
    "$(echo "$narrow" | wc -w)" 100
check_eq "narrowed filter = the same filter as a regex" "$narrow" \
    "$(fl 'properties.os+eq+ubunt.')"
check_eq "narrowed filter, and another clause" \
    "$(fl 'properties.os+eq+UBUNTU+and+public+eq+false')" "$narrow"
check_eq "or: not narrowed (all 5000)" \
    "$(fl 'properties.os+eq+ubuntu+or+properties.os+eq+bench' | wc -w)" "$N"
check_eq "not: not narrowed" \
    "$(fl 'not+properties.os+eq+ubuntu' | wc -w)" $((N - 100))
check_eq "narrowed to a value none has: []" "$(api_body GET \
    '/1.0/images?filter=properties.os+eq+debian' | jget metadata)" "[]"
# The store said which ones it narrowed (debug log): the plain words only.
check_eq "the store narrowed those three lists, not the others" \
    "$(grep 'narrowed to property os = ' "$T_TMP/imgd.log" |
	sed 's/.*= //' | tr '\n' ' ')" "ubuntu UBUNTU debian "
check_contains "a list is sent chunked" "$(curl -s -D - -o /dev/null \
    --unix-socket "$SOCK" http://imgd/1.0/images)" "Transfer-Encoding: chunked"
# Clients that ask and do not read hold one page each, not the list.
rss() { awk '/^VmRSS/ {print $2}' "/proc/$(child_pid imgd-frontend)/status"; }
before=$(rss)
python3 - "$SOCK" <<'PY' &
import socket, sys, time
held = []
for _ in range(16):
    s = socket.socket(socket.AF_UNIX)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(sys.argv[1])
    s.sendall(b"GET /1.0/images?recursion=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    held.append(s)
time.sleep(4)
PY
stalled=$!
sleep 3
during=$(rss)
wait "$stalled"
echo "# frontend VmRSS: $before KiB before, $during KiB with 16 stalled lists"
check "16 stalled $N-image lists: the frontend grew by < 16 MiB (whole lists: ~70)" \
    test $((during - before)) -lt 16384
# Lists cancelled by clients that went away do not stay in the store:
# more of them than the store pages at once (1024), then a list works.
out=$(python3 - "$SOCK" <<'PY' 2>&1
import socket, sys
for _ in range(20):
    held = []
    for _ in range(60):
        s = socket.socket(socket.AF_UNIX)
        s.connect(sys.argv[1])
        s.sendall(b"GET /1.0/images HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(1024)  # the first page is on its way
        held.append(s)
    for s in held:
        s.close()
print("done")
PY
)
check_eq "1200 lists abandoned mid-way" "$out" done
check_eq "then a whole list still comes" "$(api_body GET /1.0/images | count)" \
    "$N"
# Imports in parallel, as a fill script makes them: each one's verdict
# arrives even when the unpacker's exit is seen first (SIGCHLD and the
# channel's last records in one loop turn: 6 of 1000 imports were once
# refused with "the unpacker exited with status 0"). A 503 (uploads at
# the limit) is retried, as a client would.
P=200
mkdir -p "$T_TMP/par/tree/rootfs/etc"
echo par >"$T_TMP/par/tree/rootfs/etc/hostname"
for i in $(seq 1 $P); do
	printf 'architecture: x86_64\ncreation_date: 1458040200\nproperties:\n  description: parallel %d\n' \
	    "$i" >"$T_TMP/par/tree/metadata.yaml"
	tar -C "$T_TMP/par/tree" -cf "$T_TMP/par/p-$i.tar" metadata.yaml rootfs
done
before=$(api_body GET /1.0/images | count)
seq 1 $P | xargs -P 8 -I{} sh -c 'for t in $(seq 1 200); do
	c=$(curl -s --unix-socket "$1" -X POST -o /dev/null -w "%{http_code}" \
	    --data-binary "@$2/p-{}.tar" http://imgd/1.0/images)
	[ "$c" = 503 ] || break; sleep 0.05; done' _ "$SOCK" "$T_TMP/par"
for _ in $(seq 1 100); do
	[ "$(api_body GET /1.0/images | count)" = $((before + P)) ] && break
	sleep 0.1
done
check_eq "$P imports, 8 at a time: all there" \
    "$(api_body GET /1.0/images | count)" $((before + P))
check_eq "none refused for an unpacker that exited after its verdict" \
    "$(grep -c 'refused: .*exited with status 0' "$T_TMP/imgd.log")" 0
check_eq "no frontend died" "$(grep -c 'killed' "$T_TMP/imgd.log")" 0
summary
