#!/bin/bash
# Properties set, emptied and unset, through the real lxc client and
# imgctl, against imgd and (for lxc) a reference LXD: an empty value on
# PUT/PATCH removes the key, as LXD does, so unset-property removes it and
# get-property of a missing key says "Property not found".
. "$(dirname "$0")/lib.bash"

imgd_start || { summary; exit 1; }
W=$T_TMP/work
mkdir -p "$W"
F=$(mkunified "$W/img.tar" gzip)
FP=$(sha256sum "$F" | cut -d' ' -f1)
lxc image import "$F" --alias p >/dev/null
ref_or_skip
[ "$HAVE_REF" = 1 ] &&
    LXD_DIR=$LXD_REF lxc image import "$F" --alias p >/dev/null

# both WHAT cmd...: the same lxc command on imgd and on LXD; OUT is
# imgd's output and exit status.
both() {
	local what=$1 b
	shift
	OUT=$("$@" 2>&1; echo "exit $?")
	if [ "$HAVE_REF" = 1 ]; then
		b=$(LXD_DIR=$LXD_REF "$@" 2>&1; echo "exit $?")
		check_eq "same as LXD: $what" "$OUT" "$b"
	fi
}
props() { lxc image show p | sed -n '/^properties:/,/^[a-z]/p'; }

both "set-property" lxc image set-property p k v
both "get-property" lxc image get-property p k
check_eq "lxc get-property" "$OUT" "$(printf 'v\nexit 0')"
both "unset-property" lxc image unset-property p k
check_eq "lxc unset-property removes the key" \
    "$(props | grep -c '^  k:')" 0
both "get-property unset" lxc image get-property p k
check_eq "lxc get-property of the unset key" "$OUT" \
    "$(printf 'Error: Property not found\nexit 1')"
both "unset-property of a missing key" lxc image unset-property p nosuch
check_eq "no \"nosuch: ''\" appears" "$(props | grep -c nosuch)" 0
both "set-property to empty" lxc image set-property p e ""
check_eq "an empty value removes the key" "$(props | grep -c '^  e:')" 0
if [ "$HAVE_REF" = 1 ]; then
	check_eq "same properties as LXD" "$(props | sort)" \
	    "$(LXD_DIR=$LXD_REF lxc image show p |
	    sed -n '/^properties:/,/^[a-z]/p' | sort)"
fi

# The raw API: PATCH with "" removes, PUT with "" leaves it out.
api PATCH "/1.0/images/$FP" -d '{"properties":{"x":"1","y":"2"}}' >/dev/null
api PATCH "/1.0/images/$FP" -d '{"properties":{"x":""}}' >/dev/null
doc=$(api_body GET "/1.0/images/$FP" | jget metadata.properties)
check_contains "PATCH: other keys kept" "$doc" '"y": "2"'
case "$doc" in *'"x"'*) fail "PATCH with \"\" removes the key" "$doc" ;;
*) pass "PATCH with \"\" removes the key" ;; esac

# A refused edit is audited once, with its cause.
n0=$(grep -c '"event":"request-refused"' "$STATE/audit.log")
out=$(api PATCH "/1.0/images/$FP" -H "If-Match: $(printf '0%.0s' $(seq 64))" \
    -d '{"properties":{"x":"1"}}')
check_eq "PATCH with a stale ETag: 412" "$(echo "$out" | tail -1)" 412
check_eq "refused PATCH: one audit record" \
    "$(grep -c '"event":"request-refused"' "$STATE/audit.log")" $((n0 + 1))
rec=$(tail -1 "$STATE/audit.log")
check_contains "refused PATCH: the record names the action" "$rec" \
    '"action":"image-update"'
check_contains "refused PATCH: ... and the cause" "$rec" \
    "\"cause\":\"$(echo "$out" | sed '$d' | jget error)\""
check_contains "refused PATCH: ... and the cause's token" "$rec" \
    '"fault":"changed"'
out=$(api POST /1.0/images/aliases -d "{\"name\":\"..\",\"target\":\"$FP\"}")
check_eq "refused alias create: audited" \
    "$(grep -c '"event":"request-refused"' "$STATE/audit.log")" $((n0 + 2))
check_contains "refused alias create: the record" "$(tail -1 "$STATE/audit.log")" \
    '"action":"alias-create"'

# imgctl says the same.
"$BIN/imgctl" image set-property p a b
check_eq "imgctl get-property" "$("$BIN/imgctl" image get-property p a)" b
"$BIN/imgctl" image unset-property p a
out=$("$BIN/imgctl" image get-property p a 2>&1)
check_eq "imgctl get-property of an unset key" "$out" \
    "Error: Property not found"
check_eq "imgctl: exit status" "$("$BIN/imgctl" image get-property p a \
    >/dev/null 2>&1; echo $?)" 1
# A header imgctl sends is refused in imgctl's words, not the header's.
before=$(state_snapshot)
out=$("$BIN/imgctl" image import "$(mkunified "$W/o.tar" none desc=o)" \
    "k=$(printf 'v%.0s' $(seq 1 4097))" 2>&1)
check_eq "imgctl import: a property too long, in imgctl's words" "$out" \
    'Error: properties: value of "k" is longer than 4096 bytes'
args=()
for i in $(seq 1 33); do args+=(--alias "a$i"); done
out=$("$BIN/imgctl" image import "$W/o.tar" "${args[@]}" 2>&1)
check_eq "imgctl import: 33 aliases" "$out" \
    "Error: too many aliases: an image has at most 32"
check_eq "imgctl refusals: nothing stored" "$(state_snapshot)" "$before"
summary
