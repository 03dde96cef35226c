#!/bin/bash
# The store↔frontend contract: the frontend says where a request came in
# and what the socket told it about the peer, and the store derives who
# asks (the requestor in the audit log and in lifecycle events) from that
# alone. A frontend that names a listener the store never gave it is
# killed and restarted; the rest of the API keeps working.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
cat >"$W/imgd.conf" <<'CONF'
socket_group: nogroup
CONF
chmod 711 "$T_TMP" # the socket's dir, for another user
IMGD_ARGS="--config $W/imgd.conf" imgd_start || { summary; exit 1; }
WS=$(dirname "$0")/wsevents.py
python3 "$WS" "$SOCK" type=lifecycle 6 >"$W/ev" 2>&1 &
evpid=$!
sleep 0.5

# ---- the store names the requestor ----
f=$(mkunified "$W/a.tar" gzip)
FP=$(sha256sum "$f" | cut -d' ' -f1)
"$BIN/imgctl" image import "$f" >/dev/null
rec=$(grep '"image-created"' "$STATE/audit.log" | tail -1)
check_contains "audit: root, named by the store" "$rec" \
    '"requestor":"root (uid 0, unix socket)"'
# Another user the socket lets in (its group): the store looks it up.
check_eq "nobody may connect (socket_group)" "$(setpriv --reuid=65534 \
    --regid="$(getent group nogroup | cut -d: -f3)" --clear-groups \
    curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
    -X PATCH -d '{"properties":{"by":"nobody"}}' \
    "http://imgd/1.0/images/$FP")" 200
rec=$(grep '"image-updated"' "$STATE/audit.log" | tail -1)
check_contains "audit: nobody, named by the store" "$rec" \
    '"requestor":"nobody (uid 65534, unix socket)"'
# The store names what changed; the frontend makes it a URL.
loc=$(curl -s -D - -o /dev/null --unix-socket "$SOCK" -X POST \
    -d "{\"name\":\"a b/c\",\"target\":\"$FP\"}" \
    http://imgd/1.0/images/aliases | tr -d '\r' | sed -n 's/^Location: //p')
check_eq "Location of a new alias, built by the frontend" "$loc" \
    "/1.0/images/aliases/a%20b/c"
wait "$evpid"
check_contains "lifecycle source of an image" "$(grep image-created "$W/ev")" \
    "\"source\": \"/1.0/images/$FP\""
check_contains "lifecycle source of an alias" \
    "$(grep image-alias-created "$W/ev")" \
    '"source": "/1.0/images/aliases/a b/c"'
check_contains "lifecycle: the username" "$(grep image-created "$W/ev")" \
    '"requestor": {"address": "@", "protocol": "unix", "username": "root"}'
check_contains "lifecycle: another user's name" \
    "$(grep image-updated "$W/ev")" '"username": "nobody"'
imgd_stop

# ---- operations live in the store only ----
imgd_start || { summary; exit 1; }
resp=$(api POST /1.0/images --data-binary "@$(mkunified "$W/b.tar" none)")
op=$(echo "$resp" | sed '$d' | jget operation)
check_eq "an import's operation" "$(api_body GET "$op/wait?timeout=10" |
    jget metadata.status)" Success
fe=$(child_pid imgd-frontend)
kill -KILL "$fe"
check "the frontend restarted" wait_serving
check_eq "the operation outlives the frontend (the store has it)" \
    "$(api_body GET "$op" | jget metadata.status)" Success
check_contains "and the new frontend lists it" \
    "$(api_body GET /1.0/operations | jget metadata.success)" "$op"
check_eq "an unknown operation: 404 from the store" \
    "$(api_body GET /1.0/operations/00000000-0000-0000-0000-000000000000 |
	jget error)" "Operation not found"
check_eq "another project's operation: 404" \
    "$(api_status GET "$op?project=other")" 404
check_eq "cancel: 403" "$(api_status DELETE "$op")" 403
check_eq "an operation id with a bad character: 404" \
    "$(api_body GET '/1.0/operations/ab%21cd' | jget error)" \
    "Operation not found"
check_eq "an operation id too long: 404" \
    "$(api_status GET "/1.0/operations/$(printf 'a%.0s' $(seq 1 40))")" 404
check_eq "a path below an operation: 404" \
    "$(api_status GET "$op/nothing")" 404
check_eq "POST to an operation: 405" "$(api_status POST "$op")" 405
imgd_stop

# A slow unpacker (a wrapper that waits before it starts) keeps an import
# Running: /wait with a timeout returns it as it is then, /wait without
# one when it ends.
REAL_BIN=$BIN
wrapped_bin "$T_TMP/bin-slow" imgd-unpacker 'sleep 3; exec "$REAL" "$@"'
BIN=$T_TMP/bin-slow
imgd_start "$T_TMP/state-slow" || { summary; exit 1; }
resp=$(api POST /1.0/images --data-binary "@$(mkunified "$W/c.tar" none)")
op=$(echo "$resp" | sed '$d' | jget operation)
check_eq "a slow import: /wait?timeout=1 answers Running" \
    "$(api_body GET "$op/wait?timeout=1" | jget metadata.status)" Running
check_eq "and GET too" "$(api_body GET "$op" | jget metadata.status)" Running
check_eq "/wait without a timeout: its end" \
    "$(api_body GET "$op/wait" | jget metadata.status)" Success
imgd_stop
BIN=$REAL_BIN

# ---- a frontend that lies about its listener ----
for forged in 0 2; do
	BIN=$REAL_BIN
	wrapped_bin "$T_TMP/bin-$forged" imgd-frontend \
	    "LD_PRELOAD=$IMGD_BUILD/tests/forge_listener.so FORGE_LISTENER=$forged exec \"\$REAL\" \"\$@\""
	BIN=$T_TMP/bin-$forged
	: >"$T_TMP/imgd.log"
	imgd_start "$T_TMP/state-$forged" || { summary; exit 1; }
	fds=$(ls "/proc/$IMGD_PID/fd" | wc -l)
	fe=$(pgrep -P "$IMGD_PID" -f imgd-frontend | head -1)
	out=$(api GET /1.0/images)
	check_eq "listener $forged: the request is not answered" \
	    "$(echo "$out" | tail -1)" 000
	for _ in $(seq 1 50); do
		grep -q "restarting the frontend" "$T_TMP/imgd.log" && break
		sleep 0.1
	done
	log=$(cat "$T_TMP/imgd.log")
	check_contains "listener $forged: the store names the lie" "$log" \
	    "frontend: a request from listener $forged, which the store never gave"
	check_contains "listener $forged: and kills that frontend" "$log" \
	    "frontend (pid $fe) killed by signal 9 (Killed): request from an unknown listener"
	check_contains "listener $forged: audited" "$(cat "$STATE/audit.log")" \
	    '"why":"killed by signal 9 (Killed): request from an unknown listener"'
	check "listener $forged: a new frontend serves" wait_serving
	check_eq "listener $forged: the store kept no fd of it" \
	    "$(ls "/proc/$IMGD_PID/fd" | wc -l)" "$fds"
	imgd_stop
done
summary
