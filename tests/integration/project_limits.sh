#!/bin/bash
# A project's limits on what runs at once (limits.images.uploads,
# .copies, .unpacks) and on where it may copy from
# (restricted.images.remotes, restricted.images.signed). Each refusal
# names the key, leaves nothing behind and is audited; other projects are
# not held by it, and the slot is given back when the operation ends
# (however it ends).
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W/keys"
printf '%s\nfetch_keys_dir: %s\n' "$FETCH_CONFIG" "$W/keys" >"$W/imgd.yaml"
IMGD_ARGS="--config $W/imgd.yaml" imgd_start || { summary; exit 1; }

mkproject() {
	api_status POST /1.0/projects -d "{\"name\":\"$1\",\"config\":{
	    \"features.images\":\"true\"$2}}"
}
snap() { state_snapshot; ls -A "$STATE/tmp" 2>/dev/null; }
err_of() { sed '$d' | jget error; }
refusals() { grep -c "\"fault\":\"$1\"" "$STATE/audit.log"; }

# ---- the keys are checked ----
check_eq "limits.images.uploads: not a count" "$(api_body POST \
    /1.0/projects -d '{"name":"bad","config":{"limits.images.uploads":"two"}}' |
    jget error)" \
    'Invalid value for project configuration key "limits.images.uploads": "two" is not a number of uploads at once'
check_eq "restricted.images.signed: not a boolean" "$(api_body POST \
    /1.0/projects -d '{"name":"bad","config":{"restricted.images.signed":"maybe"}}' |
    jget error)" \
    'Invalid value for project configuration key "restricted.images.signed": "maybe" is not a boolean'
check_eq "restricted.images.remotes: not host names" "$(api_body POST \
    /1.0/projects -d '{"name":"bad","config":{"restricted.images.remotes":"a/b"}}' |
    jget error)" \
    'Invalid value for project configuration key "restricted.images.remotes": give host names or addresses separated by commas, not "a/b"'
check_eq "no project made by the refusals" \
    "$(api_status GET /1.0/projects/bad)" 404

# ---- uploads at once ----
check_eq "project u, one upload at a time" \
    "$(mkproject u ',"limits.images.uploads":"1"')" 201
mkimage_tree "$W/big" desc=big
head -c 3000000 /dev/urandom >"$W/big/rootfs/blob"
tar -C "$W/big" -cf "$W/big.tar" metadata.yaml rootfs templates
A=$(mkunified "$W/a.tar" gzip)
# The first upload is held open: 3 MB at 300 KB/s.
curl -s --unix-socket "$SOCK" -X POST --limit-rate 300k \
    -H 'Content-Type: application/octet-stream' --data-binary "@$W/big.tar" \
    -o "$W/slow.out" "http://imgd/1.0/images?project=u" &
slow=$!
sleep 1.5
before=$(sqlite3 "$STATE/imgd.db" 'SELECT count(*) FROM images')
q0=$(refusals quota)
out=$(api POST '/1.0/images?project=u' --data-binary "@$A" \
    -H 'Content-Type: application/octet-stream')
check_eq "a second upload in u: 403" "$(tail -1 <<<"$out")" 403
check_eq "a second upload in u: names the limit" "$(err_of <<<"$out")" \
    'Project "u" quota exceeded: limits.images.uploads is 1 and this would be number 2 under way at once'
check_eq "the real lxc: the same refusal" \
    "$(lxc_out lxc --project u image import "$A")" \
    'Error: Project "u" quota exceeded: limits.images.uploads is 1 and this would be number 2 under way at once'
check_eq "the refusals are audited" "$(refusals quota)" $((q0 + 2))
check_eq "the refusals left no image" \
    "$(sqlite3 "$STATE/imgd.db" 'SELECT count(*) FROM images')" "$before"
check_eq "the default project is not held by u's limit" \
    "$(upload "$A" | cut -d'|' -f1)" 202
wait $slow
check_contains "the held upload went through" "$(cat "$W/slow.out")" \
    '"status_code":100'
check "its operation ends" bash -c "sleep 2; [ \$(ls -A '$STATE/tmp' | wc -l) = 0 ]"
check "with it done, the next upload in u works" \
    "$BIN/imgctl" --project u image import "$A"
# A refused upload gives its slot back too.
check_eq "limits.images 2 in u" "$(api_status PATCH /1.0/projects/u \
    -d '{"config":{"limits.images":"2"}}')" 200
C=$(mkunified "$W/c.tar" xz)
check_eq "an upload over limits.images is refused" \
    "$(api POST '/1.0/images?project=u' --data-binary "@$C" \
    -H 'Content-Type: application/octet-stream' | err_of)" \
    'Project "u" quota exceeded: limits.images is 2 and this image would be image 3'
check_eq "limits.images 3" "$(api_status PATCH /1.0/projects/u \
    -d '{"config":{"limits.images":"3"}}')" 200
check "the refused one held no upload slot: the next one goes" \
    "$BIN/imgctl" --project u image import "$C"
check_eq "limits.images.uploads 0 freezes uploads" \
    "$(api_status PATCH /1.0/projects/u -d \
    '{"config":{"limits.images.uploads":"0","limits.images":""}}')" 200
check_eq "frozen: refused before the first byte" \
    "$(api POST '/1.0/images?project=u' --data-binary "@$C" \
    -H 'Content-Type: application/octet-stream' | err_of)" \
    'Project "u" quota exceeded: limits.images.uploads is 0 and this would be number 1 under way at once'

# ---- copies at once ----
check_eq "project c, one copy at a time" \
    "$(mkproject c ',"limits.images.copies":"1"')" 201
head -c 2000000 /dev/urandom >"$W/slow.bin"
fake_start "$W/slow.bin"
cop() {
	curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
	    -d "{\"source\": {\"type\": \"url\", \"url\": \"$1\"}}" \
	    -w '\n%{http_code}' "http://imgd/1.0/images?project=c"
}
out=$(cop "$FAKE_URL/direct/slow")
check_eq "a slow copy in c starts" "$(tail -1 <<<"$out")" 202
op=$(sed '$d' <<<"$out" | jget operation)
before=$(snap)
out=$(cop "$FAKE_URL/direct/slow")
check_eq "a second copy in c: 403" "$(tail -1 <<<"$out")" 403
check_eq "a second copy in c: names the limit" "$(err_of <<<"$out")" \
    'Project "c" quota exceeded: limits.images.copies is 1 and this would be number 2 under way at once'
check_eq "it left nothing" "$(snap)" "$before"
check_eq "no operation for it" "$(api_body GET '/1.0/operations?project=c' |
    python3 -c 'import json,sys; m=json.load(sys.stdin)["metadata"];
print(sum(len(v) for v in m.values()))')" 1
# The held copy ends when its server goes away.
kill "$FAKE_PID"
check_contains "the held copy fails with its server gone" \
    "$(api_body GET "$op/wait?timeout=60&project=c" | jget metadata.status)" \
    Failure
fake_start "$W/slow.bin"
check_contains "with it gone, a copy in c starts again" \
    "$(cop "$FAKE_URL/direct/slow" | tail -1)" 202
check_eq "limits.images.copies: the default project is free" \
    "$(curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
    -d "{\"source\": {\"type\": \"url\", \"url\": \"$FAKE_URL/direct/slow\"}}" \
    -o /dev/null -w '%{http_code}' http://imgd/1.0/images)" 202

# ---- the remotes a project may copy from ----
check_eq "project r: only from images.example.org" \
    "$(mkproject r ',"restricted.images.remotes":"images.example.org"')" 201
q0=$(refusals fetch-refused)
before=$(snap)
out=$(curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
    -d "{\"source\": {\"type\": \"url\", \"url\": \"$FAKE_URL/direct/slow\"}}" \
    -w '\n%{http_code}' "http://imgd/1.0/images?project=r")
check_eq "a copy from 127.0.0.1 in r: 400, as every download rule" "$(tail -1 <<<"$out")" 400
check_eq "it names the rule" "$(err_of <<<"$out")" \
    'Refused to download from 127.0.0.1: project "r" may copy only from images.example.org (restricted.images.remotes)'
check_eq "it left nothing" "$(snap)" "$before"
check_eq "it is audited" "$(refusals fetch-refused)" $((q0 + 1))
check_eq "the list may name 127.0.0.1" "$(api_status PATCH /1.0/projects/r \
    -d '{"config":{"restricted.images.remotes":"images.example.org, 127.0.0.1"}}')" 200
check_contains "then the copy starts" \
    "$(curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
    -d "{\"source\": {\"type\": \"url\", \"url\": \"$FAKE_URL/direct/slow\"}}" \
    -w '\n%{http_code}' "http://imgd/1.0/images?project=r" | tail -1)" 202
check_eq "restricted.images.signed in r" "$(api_status PATCH /1.0/projects/r \
    -d '{"config":{"restricted.images.signed":"true"}}')" 200
out=$(curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
    -d "{\"source\": {\"type\": \"url\", \"url\": \"$FAKE_URL/direct/slow\"}}" \
    -w '\n%{http_code}' "http://imgd/1.0/images?project=r")
check_eq "signed: a server without a pinned key is refused" \
    "$(err_of <<<"$out")" \
    'Refused to download from 127.0.0.1: project "r" copies only from servers with a pinned key (restricted.images.signed), and fetch_keys_dir has none for 127.0.0.1'
# With a key pinned the copy is let through to the fetcher, which then
# wants the image's signature (fetch_signed.sh tests that side).
echo 'untrusted comment: k' >"$W/keys/127.0.0.1.pub"
echo 'RWQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' \
    >>"$W/keys/127.0.0.1.pub"
out=$(curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
    -d "{\"source\": {\"type\": \"url\", \"url\": \"$FAKE_URL/direct/slow\"}}" \
    -w '\n%{http_code}' "http://imgd/1.0/images?project=r")
check_eq "signed, key pinned: the copy starts" "$(tail -1 <<<"$out")" 202

# ---- unpacks at once ----
check_eq "an image in the default project" \
    "$(upload "$C" | cut -d'|' -f1)" 202
sleep 1
fc=$(sha256sum "$C" | cut -d' ' -f1)
check_eq "limits.images.unpacks 0 in the default project" \
    "$(api_status PATCH /1.0/projects/default -d \
    '{"config":{"limits.images.unpacks":"0"}}')" 200
out=$(lxc_out "$BIN/imgctl" image unpack "$fc" t1)
check_eq "an unpack is refused, naming the limit" "$out" \
    'Error: Project "default" quota exceeded: limits.images.unpacks is 0 and this would be number 1 under way at once'
check "no target made" test ! -e "$STATE/rootfs/t1"
check_eq "limits.images.unpacks 1" "$(api_status PATCH /1.0/projects/default \
    -d '{"config":{"limits.images.unpacks":"1"}}')" 200
check "one unpack" "$BIN/imgctl" image unpack "$fc" t1
check "a second one after it: the slot was given back" \
    "$BIN/imgctl" image unpack "$fc" t2
check "a failed unpack gives it back too" \
    bash -c "! '$BIN/imgctl' image unpack '$fc' t2 2>/dev/null"
check "and the next works" "$BIN/imgctl" image unpack "$fc" t3
check_eq "the service still serves" "$(api_status GET /1.0)" 200
summary
