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
        db.execute("INSERT INTO image_aliases (project_id, name, image_id, "
                   "description) VALUES (1, ?, ?, '')",
                   ("alias-%05d" % i, cur.lastrowid))
PY
imgd_start "$STATE" || { summary; exit 1; }
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
check_eq "no frontend died" "$(grep -c 'killed' "$T_TMP/imgd.log")" 0
summary
