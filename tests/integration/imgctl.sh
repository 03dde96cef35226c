#!/bin/bash
# imgctl against imgd: every verb, with the same output as the real lxc
# client on the same daemon (tests/interop/imgctl_vs_lxc.sh, which also
# runs against a real LXD).
. "$(dirname "$0")/lib.bash"

imgd_start || { summary; exit 1; }
out=$(bash "$(dirname "$0")/../interop/imgctl_vs_lxc.sh" "$STATE" 2>&1)
printf '%s\n' "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' |
    tail -1)
T_PASS=$((T_PASS + ${line%% passed*}))
f=${line#*passed, }
T_FAIL=$((T_FAIL + ${f%% failed*}))
[ -n "$line" ] || fail "imgctl_vs_lxc.sh printed no summary"
if imgd_stop; then
	pass "imgd stops cleanly"
else
	fail "imgd stops cleanly"
fi
summary
