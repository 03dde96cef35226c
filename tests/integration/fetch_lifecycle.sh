#!/bin/bash
# The life of copied images: a copy by alias records its source; a
# refresh (imgctl image refresh, the real lxc image refresh, and the
# auto-update interval) replaces it with the newer image under that alias,
# moving its aliases and keeping its public flag, auto-update and the
# properties the new image lacks, and the old image goes; a copy by
# fingerprint has nothing to refresh from. Cached copies (--cached) are
# deleted once unused for remote_cache_expiry; asking for one by name
# makes it an ordinary image.
. "$(dirname "$0")/lib.bash"

# ---- A: the source imgd ----
https_start || { summary; exit 1; }
A_STATE=$STATE A_SOCK=$SOCK A_URL=$URL
FAKE_PIDS="$IMGD_PID"
IMGD_PID=
cd "$W" || exit 1
a_import() { # FILE ALIAS [SERIAL]: into A, public, ALIAS moved onto it
	local fp
	fp=$(sha256sum "$1" | cut -d' ' -f1)
	LXD_DIR=$A_STATE lxc image import "$1" --public ${3:+serial=$3} >/dev/null
	if curl -sf --unix-socket "$A_SOCK" "http://imgd/1.0/images/aliases/$2" \
	    >/dev/null; then
		curl -s --unix-socket "$A_SOCK" -X PUT -H 'Content-Type: application/json' \
		    -d "{\"target\": \"$fp\"}" "http://imgd/1.0/images/aliases/$2" \
		    >/dev/null
	else
		curl -s --unix-socket "$A_SOCK" -X POST -H 'Content-Type: application/json' \
		    -d "{\"name\": \"$2\", \"target\": \"$fp\"}" \
		    http://imgd/1.0/images/aliases >/dev/null
	fi
	echo "$fp"
}
V1=$(a_import "$(mkunified "$W/v1.tar" gzip os=app desc="App v1")" app 20240101_01:00)
OTHER=$(a_import "$(mkunified "$W/o.tar" gzip os=other desc="Other")" other)

# ---- B ----
mkdir -p "$T_TMP/b"
bconf() { # extra config lines for B, then (re)start it
	{ echo "$FETCH_CONFIG"; printf '%s\n' "$@"; } >"$T_TMP/b/imgd.yaml"
	imgd_stop >/dev/null 2>&1
	IMGD_ARGS="--config $T_TMP/b/imgd.yaml" imgd_start "$T_TMP/bstate"
}
bconf "auto_update_interval: 0" || { summary; exit 1; }
export IMGCTL_CONF=$T_TMP/imgctl-conf
"$BIN/imgctl" remote add a "$A_URL" --accept-certificate >/dev/null 2>&1
C() { "$BIN/imgctl" "$@" 2>&1; }
target() { api_body GET "/1.0/images/aliases/$1" | jget metadata.target; }
db() { sqlite3 "$STATE/imgd.db" "$1"; }

check_eq "copy by alias, --auto-update, --public" \
    "$(C image copy a:app local: --alias mine --auto-update --public)" \
    "Image copied successfully!"
check_eq "... its source recorded (server, protocol, alias)" \
    "$(db "SELECT server, protocol, alias FROM image_sources")" "$A_URL|0|app"
check_eq "... auto_update set" \
    "$(api_body GET "/1.0/images/$V1" | jget metadata.auto_update)" True
C image set-property mine note local >/dev/null
check_eq "refresh with nothing new" "$(C image refresh mine)" \
    "Image already up to date."
V2=$(a_import "$(mkunified "$W/v2.tar" gzip os=app desc="App v2")" app 20240202_01:00)
check_eq "refresh after the remote's alias moved" "$(C image refresh mine)" \
    "Image refreshed successfully!"
check_eq "... the alias moved to the new image" "$(target mine)" "$V2"
check_eq "... the old image is gone" "$(api_status GET "/1.0/images/$V1")" 404
check_eq "... and its file" "$(ls "$STATE/images" | grep -c "$V1")" 0
check_eq "... public and auto_update carried over" \
    "$(api_body GET "/1.0/images/$V2" | jget metadata.public) $(api_body GET "/1.0/images/$V2" | jget metadata.auto_update)" \
    "True True"
check_eq "... the property set here carried over" \
    "$(C image get-property mine note)" local
check_eq "... the new image's own properties" \
    "$(C image get-property mine serial)" 20240202_01:00
check_eq "... its source too" "$(db "SELECT count(*) FROM image_sources s JOIN images i ON i.id = s.image_id WHERE i.fingerprint = '$V2'")" 1
check_contains "... audited" "$(cat "$STATE/audit.log")" \
    "\"event\":\"image-refreshed\""

# The real lxc client reads the operation's boolean.
V3=$(a_import "$(mkunified "$W/v3.tar" gzip os=app desc="App v3")" app 20240303_01:00)
check_contains "lxc image refresh: refreshed" "$(lxc image refresh mine 2>&1)" \
    "Image refreshed successfully!"
check_eq "... to the newest" "$(target mine)" "$V3"
check_contains "lxc image refresh: up to date" "$(lxc image refresh mine 2>&1)" \
    "Image already up to date."

# A copy by fingerprint records no source: nothing to refresh from.
check_eq "copy by fingerprint" "$(C image copy "a:$OTHER" local: --alias byfp)" \
    "Image copied successfully!"
check_eq "... no source" "$(db "SELECT count(*) FROM image_sources s JOIN images i ON i.id = s.image_id WHERE i.fingerprint = '$OTHER'")" 0
check_eq "... so it is up to date" "$(C image refresh byfp)" \
    "Image already up to date."

# ---- the auto-update interval ----
bconf "auto_update_interval: 2s" || { summary; exit 1; }
V4=$(a_import "$(mkunified "$W/v4.tar" gzip os=app desc="App v4")" app 20240404_01:00)
for _ in $(seq 1 100); do
	[ "$(target mine)" = "$V4" ] && break
	sleep 0.2
done
check_eq "the auto-update interval refreshes it" "$(target mine)" "$V4"
check_eq "... the previous one gone" "$(api_status GET "/1.0/images/$V3")" 404
check_contains "... the log says who" "$(cat "$T_TMP/imgd.log")" \
    "refreshed image $V3: now $V4"

# ---- cached images ----
bconf "auto_update_interval: 0" "remote_cache_expiry: 3s" ||
    { summary; exit 1; }
api DELETE "/1.0/images/$OTHER" >/dev/null
sleep 0.3
check_eq "copy --cached" "$(C image copy a:other local: --cached)" \
    "Image copied successfully!"
check_eq "... marked cached" "$(db "SELECT cached FROM images WHERE fingerprint = '$OTHER'")" 1
for _ in $(seq 1 100); do
	[ "$(api_status GET "/1.0/images/$OTHER")" = 404 ] && break
	sleep 0.2
done
check_eq "... expires once unused for remote_cache_expiry" \
    "$(api_status GET "/1.0/images/$OTHER")" 404
check_contains "... audited" "$(cat "$STATE/audit.log")" '"event":"image-expired"'
check_eq "... the images copied by name stay" "$(target mine)" "$V4"
check_eq "a cached copy, then a copy by name" \
    "$(C image copy a:other local: --cached) $(C image copy a:other local: --alias keep)" \
    "Image copied successfully! Image copied successfully!"
sleep 4
check_eq "... is an ordinary image: kept" "$(target keep)" "$OTHER"
check_eq "... not cached any more" "$(db "SELECT cached FROM images WHERE fingerprint = '$OTHER'")" 0
summary
