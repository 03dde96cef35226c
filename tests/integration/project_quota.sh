#!/bin/bash
# Project quotas (limits.disk, limits.images), enforced by the store on
# every way an image arrives (upload, lxc import): an upload that crosses
# the byte quota fails at the chunk that crosses it, not at its end; a
# project at its image count refuses before the first byte; each refusal
# names the quota and leaves nothing (no image, no temp file, no row, the
# usage unchanged). Two projects without features.images share the
# default project's limits, and two uploads racing for its last bytes:
# exactly one wins.
. "$(dirname "$0")/lib.bash"

imgd_start || { summary; exit 1; }
W=$T_TMP/work
mkdir -p "$W"

# bigimage OUT MiB: a valid unified image with MiB of incompressible data.
bigimage() {
	mkimage_tree "$W/big.$$" desc="big $RANDOM"
	head -c "$(($2 * 1048576))" /dev/urandom >"$W/big.$$/rootfs/blob"
	tar -C "$W/big.$$" -cf "$1" metadata.yaml rootfs templates
	echo "$1"
}
used() { sqlite3 "$STATE/imgd.db" "SELECT coalesce(sum(size), 0), count(*)
    FROM images WHERE project_id = (SELECT id FROM projects WHERE
    name = '$1')"; }
snap() { state_snapshot; ls -A "$STATE/tmp" 2>/dev/null; }
# uploadp PROJECT FILE: upload (lib.bash) into a project.
uploadp() {
	local resp code op
	resp=$(api POST "/1.0/images?project=$1" --data-binary "@$2" \
	    -H 'Content-Type: application/octet-stream')
	code=$(printf '%s' "$resp" | tail -1)
	if [ "$code" != 202 ]; then
		echo "$code|$(printf '%s' "$resp" | sed '$d' | jget error)"
		return
	fi
	op=$(printf '%s' "$resp" | sed '$d' | jget operation)
	echo "$code|$(api_body GET "$op/wait?timeout=60&project=$1" |
	    jget metadata.err)"
}

A=$(mkunified "$W/a.tar" gzip)
SA=$(stat -c %s "$A")
api POST /1.0/projects -d "{\"name\":\"q\",\"config\":{\"features.images\":
    \"true\",\"limits.disk\":\"$((SA + 1048576))\"}}" >/dev/null
check "an image under the quota" "$BIN/imgctl" --project q image import "$A"

# ---- bytes: the crossing chunk fails the upload ----
B=$(bigimage "$W/b.tar" 8)
before=$(snap)
u0=$(used q)
out=$(api POST '/1.0/images?project=q' --data-binary "@$B" \
    -H 'Content-Type: application/octet-stream')
check_eq "over limits.disk: 403" "$(echo "$out" | tail -1)" 403
msg=$(echo "$out" | sed '$d' | jget error)
check_contains "over limits.disk: names the quota" "$msg" \
    "Project \"q\" quota exceeded: limits.disk is $((SA + 1048576)) bytes and this image would bring it to "
# The total named is where it stopped: within one read turn (4 MiB) of the
# limit, not the 8 MiB body.
at=${msg##* }
check "over limits.disk: stopped at the crossing, not the end ($at)" \
    test "$at" -gt "$((SA + 1048576))" -a "$at" -le \
    "$((SA + 1048576 + 4 * 1048576))"
check_eq "over limits.disk: nothing left" "$(snap)" "$before"
check_eq "over limits.disk: usage unchanged" "$(used q)" "$u0"
check_contains "over limits.disk: audited with its cause" \
    "$(grep image-import-refused "$STATE/audit.log" | tail -1)" \
    '"fault":"quota"'
check_eq "the real lxc: the same refusal" \
    "$(lxc_out lxc --project q image import "$B" | sed 's/bring it to .*/…/')" \
    "Error: Project \"q\" quota exceeded: limits.disk is $((SA + 1048576)) bytes and this image would …"
check_eq "lxc's refusal left nothing" "$(snap)" "$before"
check_eq "raised, it fits" "$(api_status PATCH /1.0/projects/q -d \
    '{"config":{"limits.disk":"20MiB"}}')" 200
check "the same image under the raised quota" "$BIN/imgctl" --project q \
    image import "$B"

# ---- images: refused before the first byte ----
check_eq "limits.images at what it holds" "$(api_status PATCH \
    /1.0/projects/q -d '{"config":{"limits.images":"2"}}')" 200
C=$(mkunified "$W/c.tar" xz)
before=$(snap)
check_eq "over limits.images: refused, naming it" \
    "$(uploadp q "$C")" \
    '403|Project "q" quota exceeded: limits.images is 2 and this image would be image 3'
check_eq "over limits.images: nothing left" "$(snap)" "$before"
check_eq "over limits.images: imgctl says it" \
    "$(lxc_out "$BIN/imgctl" --project q image import "$C")" \
    'Error: Project "q" quota exceeded: limits.images is 2 and this image would be image 3'
check "a deleted image makes room" "$BIN/imgctl" --project q image delete \
    "$(sha256sum "$A" | cut -d' ' -f1)"
check "then it fits" "$BIN/imgctl" --project q image import "$C"
check_eq "the default project is not limited by q's" \
    "$(upload "$A" | cut -d'|' -f1)" 202

# ---- two projects sharing the default project's limit, racing ----
for p in s1 s2; do
	api POST /1.0/projects -d "{\"name\":\"$p\",\"config\":{
	    \"features.images\":\"false\"}}" >/dev/null
done
X=$(bigimage "$W/x.tar" 3)
Y=$(bigimage "$W/y.tar" 3)
d0=$(used default | cut -d'|' -f1)
# Room for one of the two, not both.
check_eq "the default project's limit, 4 MiB above its use" \
    "$(api_status PATCH /1.0/projects/default -d \
    "{\"config\":{\"limits.disk\":\"$((d0 + 4 * 1048576))\"}}")" 200
uploadp s1 "$X" >"$W/r1" &
p1=$!
uploadp s2 "$Y" >"$W/r2" &
p2=$!
wait $p1 $p2
res=$(cat "$W/r1" "$W/r2" | sort)
check_eq "racing: exactly one committed" \
    "$(grep -c '^202|$' <<<"$res")" 1
check_contains "racing: the other refused, naming the shared quota" \
    "$res" 'Project "default" quota exceeded: limits.disk is'
d1=$(used default | cut -d'|' -f1)
check "racing: the default project within its limit ($d1)" \
    test "$d1" -le "$((d0 + 4 * 1048576))"
check_eq "racing: no temp file left" "$(ls -A "$STATE/tmp" | wc -l)" 0
check_eq "a limit below use is refused" "$(api_body PATCH \
    /1.0/projects/default -d '{"config":{"limits.disk":"1kB"}}' |
    jget error)" \
    "limits.disk 1000 bytes is below what project \"default\" holds: $d1 bytes"
summary
