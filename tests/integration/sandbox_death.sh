#!/bin/bash
# A sandbox death during validation is imgd's bug, not the image's fault:
# the client is told so and at which stage, the log says BUG and, in
# seccomp debug mode, names the call; nothing is left behind. The death is
# made real: imgd runs from a copy of its programs whose imgd-unpacker is
# wrapped to make a forbidden call (the sandbox tests' --probe) once it
# holds the image.
. "$(dirname "$0")/lib.bash"

wrapped_bin "$T_TMP/bin" imgd-unpacker 'exec "$REAL" "$@" --probe input:open'
BIN=$T_TMP/bin
W=$T_TMP/work
mkdir -p "$W"
f=$(mkunified "$W/img.tar" gzip)

for mode in debug plain; do
	if [ $mode = debug ]; then
		export IMGD_SECCOMP_DEBUG=1
	else
		unset IMGD_SECCOMP_DEBUG
	fi
	: >"$T_TMP/imgd.log"
	imgd_start "$T_TMP/state-$mode" || { summary; exit 1; }
	before=$(state_snapshot)
	out=$("$BIN/imgctl" image import "$f" 2>&1)
	call=""
	[ $mode = debug ] && call=": forbidden system call openat"
	check_eq "$mode: the client is told it is imgd's bug, and where" \
	    "$out" "Error: image validation failed: the unpacker was killed by SIGSYS (sandbox violation$call) while it read the image; this is a bug in imgd, not a fault of the image (details in imgd's log)"
	check_eq "$mode: nothing left behind" "$(state_snapshot)" "$before"
	check_eq "$mode: /1.0/metrics counts the sandbox violation" \
	    "$(curl -s --unix-socket "$SOCK" http://imgd/1.0/metrics | awk \
	    '$1 == "imgd_sandbox_violations_total{process=\"unpacker\"}" {print $2}')" 1
	check_eq "$mode: ... and the death, by cause" \
	    "$(curl -s --unix-socket "$SOCK" http://imgd/1.0/metrics | awk \
	    '$1 == "imgd_child_deaths_total{process=\"unpacker\",cause=\"sigsys\"}" {print $2}')" 1
	log=$(cat "$T_TMP/imgd.log")
	if [ $mode = debug ]; then
		check_contains "debug: the log names the call" "$log" \
		    "seccomp: forbidden system call 257 (openat)"
		check_contains "debug: logged as a bug to report" "$log" \
		    "BUG: unpacker (pid"
		check_contains "debug: ... with the call" "$log" \
		    "killed by SIGSYS (sandbox violation: forbidden system call openat); imgd's sandbox is missing a call it needs or the child was subverted: please report this"
	else
		check_contains "plain: logged as a bug, says how to name the call" \
		    "$log" "killed by SIGSYS (sandbox violation); imgd's sandbox is missing a call it needs or the child was subverted: please report this with the log lines above (IMGD_SECCOMP_DEBUG=1 in imgd's environment names the call)"
	fi
	check "$mode: still serving" "$BIN/imgctl" image list
	imgd_stop
done
summary
