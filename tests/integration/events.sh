#!/bin/bash
# The events websocket as LXD has it: "logging" events carry the daemon's
# log lines (the store's, and those it relays from its children), with
# logrus level names and no project; operations go Pending -> Running ->
# Success/Failure with an event for each. The real lxc monitor reads both.
# Log forwarding is bounded: a stalled frontend loses lines, counted, and
# the store never waits for it.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
echo "$FETCH_CONFIG" >"$W/imgd.yaml"
IMGD_ARGS="--config $W/imgd.yaml" imgd_start || { summary; exit 1; }
WS=$(dirname "$0")/wsevents.py

listen() { # NAME QUERY SECONDS
	python3 "$WS" "$SOCK" "$2" "$3" "$W/$1.ready" >"$W/$1.ev" 2>&1 &
	eval "PID_$1=$!"
	for _ in $(seq 1 100); do [ -e "$W/$1.ready" ] && return; sleep 0.05; done
}
# events NAME TYPE: the events of that type a listener got, one per line
events() { grep "\"type\": \"$2\"" "$W/$1.ev"; }

listen logs 'type=logging' 20
listen ops 'type=operation' 20
listen other 'type=logging,operation&project=other' 20
listen all '' 20
timeout 20 lxc monitor --type=logging --pretty --loglevel=info \
    >"$W/mon-info" 2>&1 &
MON1=$!
timeout 20 lxc monitor --type=logging --pretty --loglevel=warning \
    >"$W/mon-warn" 2>&1 &
MON2=$!
timeout 20 lxc monitor --type=logging >"$W/mon-yaml" 2>&1 &
MON3=$!
sleep 1

F=$(mkunified "$W/a.tar" gzip)
FP=$(sha256sum "$F" | cut -d' ' -f1)
"$BIN/imgctl" image import "$F" >/dev/null
"$BIN/imgctl" image import "$F" >/dev/null 2>&1 # refused: a duplicate
head -c 4096 /dev/urandom >"$W/junk.tar"
"$BIN/imgctl" image import "$W/junk.tar" >/dev/null 2>&1 # refused: junk
"$BIN/imgctl" image delete "$FP"
# A death at warning: a fetcher killed mid-download.
slow_fetch_start
kill -9 "$(child_pid imgd-fetcher)"
# A line the frontend logs, relayed by the store: its connection limit.
python3 - "$SOCK" <<'PY'
import socket, sys, time
s = []
for _ in range(70):
    c = socket.socket(socket.AF_UNIX)
    c.connect(sys.argv[1])
    s.append(c)
time.sleep(0.5)
PY
sleep 1.5
wait "$PID_logs" "$PID_ops" "$PID_other" "$PID_all" "$MON1" "$MON2" "$MON3" \
    2>/dev/null

# ---- logging ----
logs=$(events logs logging)
check_contains "logging: the import, at info, from the store" "$logs" \
    "\"context\": {\"process\": \"store\"}, \"level\": \"info\", \"message\": \"imported image $FP into project default\"}"
check_contains "logging: the refused duplicate" "$logs" \
    "\"message\": \"import $FP refused: Image with same fingerprint already exists\""
check_contains "logging: the deletion" "$logs" \
    "\"message\": \"deleted image $FP from project default\""
check_contains "logging: a child's death, at warning" "$logs" \
    '"level": "warning", "message": "fetcher (pid'
check_contains "logging: a frontend line, relayed, as the frontend's" \
    "$logs" \
    '"context": {"process": "frontend"}, "level": "warning", "message": "connection from uid 0 refused: too many"'
check_eq "logging: no project on a log event" \
    "$(echo "$logs" | grep -c '"project"')" 0
check_eq "logging: only logging events on a type=logging socket" \
    "$(grep -c '"type": "operation"' "$W/logs.ev")" 0
check_eq "logging: every line has a logrus level" \
    "$(echo "$logs" | grep -cvE '"level": "(debug|info|warning|error)"')" 0
check_eq "logging: the same lines as the daemon's log, in order" \
    "$(echo "$logs" | python3 -c '
import json, sys
for l in sys.stdin:
    m = json.loads(l)["metadata"]
    if m["context"]["process"] == "store": print(m["message"])' |
	grep -E '^(imported|import |deleted)')" \
    "$(sed -n 's/^[^ ]* imgd\[[0-9]*\]: info: //p' "$T_TMP/imgd.log" |
	grep -E '^(imported|import |deleted)')"
check_contains "logging: a listener of another project gets them too" \
    "$(events other logging)" "imported image $FP"
check_contains "logging: a listener of every type gets them" \
    "$(events all logging)" "imported image $FP"

# ---- operations ----
seqs() { # the status sequence of each operation a listener saw
	python3 -c '
import json, sys
seq = {}
for l in open(sys.argv[1]):
    if not l.startswith("{"): continue
    e = json.loads(l)
    if e["type"] != "operation": continue
    m = e["metadata"]
    seq.setdefault(m["id"], [m["description"]]).append(m["status"])
for s in seq.values():
    out = [s[0]]
    for st in s[1:]:
        if out[-1] != st: out.append(st)   # progress updates repeat a state
    print(" ".join(out))' "$1" | sort
}
check_eq "operations: Pending, Running, then the result, for each" \
    "$(seqs "$W/ops.ev")" \
    "$(printf '%s\n' "Deleting image Pending Running Success" \
	"Downloading image Pending Running Failure" \
	"Downloading image Pending Running Failure" \
	"Downloading image Pending Running Failure" \
	"Downloading image Pending Running Success" | sort)"
check_eq "operations: the first event of each is Pending (105)" \
    "$(python3 -c '
import json, sys
first = {}
for l in open(sys.argv[1]):
    if l.startswith("{"):
        m = json.loads(l)["metadata"]
        first.setdefault(m["id"], m["status_code"])
print(sorted(set(first.values())))' "$W/ops.ev")" "[105]"
check_eq "operations: none for another project's listener" \
    "$(events other operation | wc -l)" 0
check_eq "operations: the same on an every-type listener" \
    "$(seqs "$W/all.ev")" "$(seqs "$W/ops.ev")"
check_eq "operations: no logging on a type=operation socket" \
    "$(grep -c '"type": "logging"' "$W/ops.ev")" 0

# ---- the real lxc monitor ----
check_contains "lxc monitor --pretty --loglevel=info: the import" \
    "$(cat "$W/mon-info")" \
    "level=info msg=\"imported image $FP into project default\" process=store"
check_contains "lxc monitor --loglevel=info: warnings too" \
    "$(cat "$W/mon-info")" 'level=warning msg="fetcher (pid'
check_eq "lxc monitor --loglevel=warning: no info lines" \
    "$(grep -c 'level=info' "$W/mon-warn")" 0
check_contains "lxc monitor --loglevel=warning: the warning" \
    "$(cat "$W/mon-warn")" 'level=warning msg="fetcher (pid'
check_contains "lxc monitor (YAML): a logging event" \
    "$(cat "$W/mon-yaml")" "type: logging"
check_contains "lxc monitor (YAML): its level" "$(cat "$W/mon-yaml")" \
    "level: info"

# ---- bounded: a stalled frontend loses lines, counted ----
listen flood 'type=logging' 30
FE=$(child_pid imgd-frontend)
kill -STOP "$FE"
# Each SIGHUP makes the store log one line (no policy file to reload:
# "SIGHUP: still no policy file at ...").
for _ in $(seq 1 1000); do kill -HUP "$IMGD_PID"; sleep 0.003; done
sleep 0.5
kill -CONT "$FE"
sleep 1
check "the store did not wait for the frontend" kill -0 "$IMGD_PID"
logged=$(grep -c 'info: SIGHUP: still no policy file' "$T_TMP/imgd.log")
got=$(grep -c 'SIGHUP: still no policy file' "$W/flood.ev")
note=$(grep -o '"message": "[0-9]* log lines were not sent to event listeners (see the daemon.s log)"' "$W/flood.ev")
dropped=$(echo "$note" | grep -o '[0-9][0-9]*' | head -1)
check "some lines were dropped, and the count was sent" test -n "$dropped"
check "some lines arrived" test "$got" -gt 0
check_eq "delivered + dropped = logged (each line once)" \
    "$((got + ${dropped:-0}))" "$logged"
out=$(api_status GET /1.0)
check_eq "the frontend serves again" "$out" 200
kill "$(jobs -p)" 2>/dev/null
summary
