#!/bin/bash
# A tenant's view of projects, with the real lxc client: a TLS client whose
# certificate is restricted to project t1 (in imgd a policy grant of read,
# import, publish and delete in t1; in the reference LXD a certificate
# trusted with --restricted --projects t1). The same sequence runs as the
# tenant against both, projects t1 and t2 made by the admin: the project
# list shows t1 only, t1 shows, creating, changing, renaming and deleting
# projects is refused, t2 looks like a project that does not exist (imgd)
# or forbidden (LXD), images come and go in t1, and t2's private image
# stays out of sight and untouched.
. "$(dirname "$0")/lib.bash"

W=$T_TMP/work
mkdir -p "$W"
mkcert "$W/tenant"
TFP=$(openssl x509 -in "$W/tenant.crt" -outform der | sha256sum | cut -d' ' -f1)
printf 'grants:\n  - identity: cert:%s\n    projects: [t1]\n    roles: [read, import, publish, delete]\n' \
    "$TFP" >"$W/policy.yaml"
https_start "policy: $W/policy.yaml" || { summary; exit 1; }

A=$(mkunified "$W/a.tar" gzip desc="tenant's")
FA=$(sha256sum "$A" | cut -d' ' -f1)
B=$(mkunified "$W/b.tar" xz desc="t2's")
FB=$(sha256sum "$B" | cut -d' ' -f1)

# ---- the admin's side: projects t1 and t2, a private image in t2 ----
for p in t1 t2; do
	check_eq "imgd: root creates $p" "$(api_status POST /1.0/projects -d \
	    "{\"name\":\"$p\",\"config\":{\"features.images\":\"true\"}}")" 201
done
check "imgd: root imports a private image into t2" "$BIN/imgctl" \
    --project t2 image import "$B" --alias b1
check "imgd: the tenant's certificate is trusted" "$BIN/imgctl" config trust \
    add "$W/tenant.crt"

ref_or_skip
R() { LXD_DIR=$LXD_REF "$@"; }
if [ "$HAVE_REF" = 1 ]; then
	RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	RURL=https://127.0.0.1:$RPORT
	check "LXD: core.https_address on loopback" R lxc config set \
	    core.https_address "127.0.0.1:$RPORT"
	for p in t1 t2; do
		check "LXD: the admin creates $p" R lxc project create "$p" \
		    -c features.images=true
	done
	check "LXD: the admin imports a private image into t2" R lxc \
	    --project t2 image import "$B" --alias b1
	check "LXD: trust add --restricted --projects t1" R lxc config trust \
	    add "$W/tenant.crt" --restricted --projects t1
	check_eq "LXD: the certificate is restricted to t1" \
	    "$(R lxc config trust show "${TFP:0:12}" |
	    grep -A1 -e '^restricted' -e '^projects')" \
	    "$(printf 'restricted: true\nprojects:\n- t1')"
fi

# ---- the tenant: its own lxc configuration per server, same certificate ----
SIDES=imgd
[ "$HAVE_REF" = 1 ] && SIDES="imgd lxd"
for side in $SIDES; do
	d=$T_TMP/tenant-$side
	mkdir -p "$d"
	cp "$W/tenant.crt" "$d/client.crt"
	cp "$W/tenant.key" "$d/client.key"
	LXD_CONF=$d lxc remote list >/dev/null 2>&1
	u=$URL
	[ "$side" = lxd ] && u=$RURL
	check "$side: the tenant's lxc remote add tenant (its certificate)" \
	    env LXD_CONF="$d" lxc remote add tenant "$u" --accept-certificate
done

# tl SIDE ARGS...: lxc ARGS as the tenant against SIDE; sets OUT (what lxc
# printed, progress redraws left out) and RC (lxc's exit status).
tl() {
	local side=$1
	shift
	OUT=$(LXD_CONF=$T_TMP/tenant-$side lxc "$@" 2>&1 | tr '\r' '\n' |
	    grep -v '^ *$' | grep -v 'Transferring' | sed 's/ *$//'
	exit "${PIPESTATUS[0]}")
	RC=$?
}
# both ARGS...: tl on imgd (IO, IR) and on LXD (LO, LR; "-" without one);
# both answers go to the log.
both() {
	tl imgd "$@"
	IO=$OUT IR=$RC
	LO=- LR=-
	if [ "$HAVE_REF" = 1 ]; then
		tl lxd "$@"
		LO=$OUT LR=$RC
	fi
	echo "# lxc $*"
	printf '%s\n' "$IO" | sed 's/^/#   imgd (exit '"$IR"'): /'
	[ "$HAVE_REF" = 1 ] &&
	    printf '%s\n' "$LO" | sed 's/^/#   LXD  (exit '"$LR"'): /'
	return 0
}
# ref_eq WHAT GOT WANT: check_eq for an LXD check, or a skip line.
ref_eq() {
	if [ "$HAVE_REF" = 1 ]; then
		check_eq "$@"
	else
		echo "# skipped (no reference LXD): $1"
	fi
}
# tcurl SIDE PATH: the tenant's GET over HTTPS with its certificate; the
# body, then the status.
tcurl() {
	local u=$URL
	[ "$1" = lxd ] && u=$RURL
	curl -sk --cert "$W/tenant.crt" --key "$W/tenant.key" \
	    -w '\n%{http_code}' "$u$2"
}
RURL=${RURL:-}
NOAUTH='Error: not authorized: you need the "admin" role on every project ("*")'

# ---- the project list: t1 only ----
# lxc remote add made t1, the one project the tenant may see, the
# remote's project on both.
check_eq "imgd: the remote's project is t1" "$(grep -A6 '^  tenant:' \
    "$T_TMP/tenant-imgd/config.yml" | grep '    project:')" "    project: t1"
[ "$HAVE_REF" = 1 ] && ref_eq "LXD: the same" "$(grep -A6 '^  tenant:' \
    "$T_TMP/tenant-lxd/config.yml" | grep '    project:')" "    project: t1"
tl imgd info tenant:
check_eq "imgd: lxc info tenant: trusted" "$(grep '^auth:' <<<"$OUT")" \
    "auth: trusted"
# GET /1.0?project=t1 answers environment.project t1, as LXD's does.
check_eq "imgd: lxc info tenant: project t1" "$(grep '^  project:' <<<"$OUT")" \
    "  project: t1"
if [ "$HAVE_REF" = 1 ]; then
	tl lxd info tenant:
	ref_eq "LXD: lxc info tenant: trusted too" "$(grep '^auth:' <<<"$OUT")" \
	    "auth: trusted"
	ref_eq "LXD: project t1 too" "$(grep '^  project:' <<<"$OUT")" \
	    "  project: t1"
fi
both project list tenant: -f csv
check_eq "imgd: lxc project list tenant: shows t1 only" \
    "$(cut -d, -f1 <<<"$IO")" "t1 (current)"
ref_eq "LXD: the same names" "$(cut -d, -f1 <<<"$LO")" "$(cut -d, -f1 <<<"$IO")"
# The USED BY column differs: LXD counts t1's default profile, imgd has no
# profiles (used_by lists a project's own images). The rest is the same.
ref_eq "LXD: the same features and description" "$(cut -d, -f1-6 <<<"$LO")" \
    "$(cut -d, -f1-6 <<<"$IO")"

# ---- project show t1 ----
both project show tenant:t1
check_eq "imgd: lxc project show tenant:t1" "$IR $(grep -e '^name:' \
    -e '^  features.images:' <<<"$IO" | sed 's/^ *//')" \
    "$(printf '0 features.images: "true"\nname: t1')"
# used_by: LXD's default profile again; name, description and config match.
ref_eq "LXD: the same name, description and config" \
    "$LR $(sed '/^used_by:/,$d' <<<"$LO")" "$IR $(sed '/^used_by:/,$d' <<<"$IO")"
both project get tenant:t1 features.images
check_eq "imgd: lxc project get tenant:t1 features.images" "$IR $IO" "0 true"
ref_eq "LXD: the same" "$LR $LO" "$IR $IO"

# ---- project changes are the admin's ----
# imgd names the missing role; LXD says "not authorized" only. Both refuse.
both project create tenant:t3
check_eq "imgd: lxc project create tenant:t3 refused, naming the role" \
    "$IR $IO" "1 $NOAUTH"
ref_eq "LXD: refused too (exit status)" "$LR" "$IR"
ref_eq "LXD: ... 'not authorized'" "$LO" "Error: not authorized"
check_eq "imgd: no t3" "$(api_status GET /1.0/projects/t3)" 404
[ "$HAVE_REF" = 1 ] && ref_eq "LXD: no t3" "$(R lxc project list -f csv |
    grep -c '^t3')" 0

both project set tenant:t1 limits.images 5
# docs/usage.md: limits.* are the operator's, a change needs admin on "*".
check_eq "imgd: lxc project set tenant:t1 limits.images 5 refused, naming the role" \
    "$IR $IO" "1 $NOAUTH"
# A restricted certificate in LXD may not edit its project either.
ref_eq "LXD: refused too" "$LR $LO" "1 Error: not authorized"
both project get tenant:t1 limits.images
check_eq "imgd: limits.images still unset" "$IR $IO" "0 "
ref_eq "LXD: limits.images still unset" "$LR $LO" "0 "

both project rename tenant:t1 t5
check_eq "imgd: lxc project rename tenant:t1 refused" "$IR $IO" "1 $NOAUTH"
ref_eq "LXD: refused too" "$LR $LO" "1 Error: not authorized"

# ---- t2: as a project that does not exist (imgd), forbidden (LXD) ----
both project delete tenant:t9
I9=$IO L9=$LO
both project delete tenant:t2
# A project deletion is a server action: imgd refuses it for the missing
# role before it looks the project up, so t2 and t9 get the same words.
check_eq "imgd: lxc project delete tenant:t2 refused" "$IR $IO" "1 $NOAUTH"
check_eq "imgd: ... exactly as for t9, which does not exist" "$IO" "$I9"
ref_eq "LXD: refused too" "$LR $LO" "1 Error: not authorized"
ref_eq "LXD: ... as for t9" "$LO" "$L9"
check_eq "imgd: t2 is still there" "$(api_status GET /1.0/projects/t2)" 200
[ "$HAVE_REF" = 1 ] && ref_eq "LXD: t2 is still there" \
    "$(R lxc project list -f csv | grep -c '^t2,')" 1

both project show tenant:t9
I9=$IO L9=$LO
both project show tenant:t2
# imgd says "Project not found" (a tenant learns nothing of other
# projects); LXD "not authorized", for t2 and for a missing t9 alike.
check_eq "imgd: lxc project show tenant:t2 refused, as not found" \
    "$IR $IO" "1 Error: Project not found"
check_eq "imgd: ... exactly as for t9" "$IO" "$I9"
ref_eq "LXD: refused, as not authorized" "$LR $LO" "1 Error: not authorized"
ref_eq "LXD: ... as for t9" "$LO" "$L9"
check_eq "imgd: GET /1.0/projects/t2, body and status, as for t9" \
    "$(tcurl imgd /1.0/projects/t2)" "$(tcurl imgd /1.0/projects/t9)"
ref_eq "LXD: GET /1.0/projects/t2, body and status, as for t9" \
    "$(tcurl lxd /1.0/projects/t2)" "$(tcurl lxd /1.0/projects/t9)"
echo "# imgd: GET /1.0/projects/t2: $(tcurl imgd /1.0/projects/t2 | tr '\n' ' ')"
[ "$HAVE_REF" = 1 ] &&
    echo "# LXD:  GET /1.0/projects/t2: $(tcurl lxd /1.0/projects/t2 | tr '\n' ' ')"

# ---- images in t1 ----
both --project t1 image import "$A" tenant:
check_eq "imgd: lxc --project t1 image import FILE tenant:" "$IR $IO" \
    "0 Image imported with fingerprint: $FA"
ref_eq "LXD: the same" "$LR $LO" "$IR $IO"
both --project t1 image list tenant: -c f -f csv
check_eq "imgd: lxc --project t1 image list tenant: -c f" "$IR $IO" \
    "0 ${FA:0:12}"
ref_eq "LXD: the same" "$LR $LO" "$IR $IO"
both --project t1 image alias create tenant:a1 "$FA"
check_eq "imgd: lxc --project t1 image alias create tenant:a1 FP" "$IR $IO" "0 "
ref_eq "LXD: the same" "$LR $LO" "$IR $IO"
both --project t1 image alias list tenant: -f csv
check_eq "imgd: the alias is listed" "$IR $IO" "0 a1,${FA:0:12},CONTAINER,"
ref_eq "LXD: the same" "$LR $LO" "$IR $IO"
both --project t1 image delete "tenant:$FA"
check_eq "imgd: lxc --project t1 image delete tenant:FP" "$IR $IO" "0 "
ref_eq "LXD: the same" "$LR $LO" "$IR $IO"
both --project t1 image list tenant: -f csv
check_eq "imgd: t1 empty again" "$IR $IO" "0 "
ref_eq "LXD: the same" "$LR $LO" "$IR $IO"

# ---- images in t2 ----
before=$(state_snapshot)
# lxc image list is not refused by either server: a project where the
# certificate has no role gets the public view there, as an untrusted
# client has (imgd: docs/usage.md; LXD: images are listed to anyone, public
# ones only without the project's permission). t2 holds a private image
# only, so both lists are empty.
both --project t2 image list tenant: -f csv
check_eq "imgd: lxc --project t2 image list tenant: shows nothing" "$IR $IO" "0 "
ref_eq "LXD: the same" "$LR $LO" "$IR $IO"
both --project t9 image list tenant: -f csv
# imgd answers the missing t9 as it answers t2; LXD says t9 does not exist
# (and so tells t2, which exists, apart from it).
check_eq "imgd: ... as for t9" "$IR $IO" "0 "
ref_eq "LXD: t9 is not found" "$LR $LO" \
    "1 Error: Check if project has images: fetch project: Project not found"

both --project t9 image info "tenant:$FB"
I9=$IO L9=$LO
both --project t2 image info "tenant:$FB"
check_eq "imgd: t2's private image: not found" "$IR $IO" "1 Error: Image not found"
check_eq "imgd: ... as in t9" "$IO" "$I9"
ref_eq "LXD: not found" "$LR $LO" "1 Error: Image \"$FB\" not found"
ref_eq "LXD: t9 is not found" "$L9" \
    "Error: Check if project has images: fetch project: Project not found"

both --project t9 image import "$A" tenant:
I9=$IO L9=$LO
both --project t2 image import "$A" tenant:
check_eq "imgd: lxc --project t2 image import refused, as not found" \
    "$IR $IO" "1 Error: Project not found"
check_eq "imgd: ... as in t9" "$IO" "$I9"
ref_eq "LXD: refused, as not authorized" "$LR $LO" "1 Error: not authorized"
ref_eq "LXD: ... as in t9" "$LO" "$L9"

both --project t9 image delete "tenant:$FB"
I9=$IO L9=$LO
both --project t2 image delete "tenant:$FB"
check_eq "imgd: lxc --project t2 image delete refused, as not found" \
    "$IR $IO" "1 Error: Project not found"
check_eq "imgd: ... as in t9" "$IO" "$I9"
ref_eq "LXD: refused, as not authorized" "$LR $LO" "1 Error: not authorized"
ref_eq "LXD: ... as in t9" "$LO" "$L9"

both --project t2 image alias list tenant: -f csv
check_eq "imgd: t2's aliases: refused, as not found" "$IR $IO" \
    "1 Error: Project not found"
ref_eq "LXD: refused, as not authorized" "$LR $LO" "1 Error: not authorized"

check_eq "imgd: t2 holds its image and alias, and nothing else" \
    "$("$BIN/imgctl" --project t2 image list -f csv | cut -d, -f1-2)" \
    "b1,${FB:0:12}"
[ "$HAVE_REF" = 1 ] && ref_eq "LXD: t2 holds its image and alias, and nothing else" \
    "$(R lxc --project t2 image list -c lf -f csv)" "b1,${FB:0:12}"
check_eq "imgd: t1 holds nothing" "$(api_body GET '/1.0/images?project=t1' |
    jget metadata)" "[]"
check_eq "imgd: the tenant's attempts in t2 left nothing" "$(state_snapshot)" \
    "$before"
# Every refusal is audited, with the action, the project and the tenant's
# certificate.
r=$(grep '"event":"request-refused"' "$STATE/audit.log" | grep '"project":"t3"')
check_contains "imgd: project create t3 refused: audited" "$r" \
    "\"requestor\":\"cert ${TFP:0:12} (trusted, https)\""
check_contains "imgd: ... as the action project-create" "$r" \
    '"action":"project-create"'
check_contains "imgd: t2's image delete refused as image-delete" \
    "$(grep '"event":"request-refused"' "$STATE/audit.log" | grep '"project":"t2"')" \
    '"action":"image-delete"'
check "imgd: no refusal is named by its message type" bash -c \
    "! grep '\"event\":\"request-refused\"' '$STATE/audit.log' | grep -q '_REQ'"
check "imgd: ... and the other refusals" test "$(grep \
    '"event":"request-refused"' "$STATE/audit.log" |
    grep -c "\"requestor\":\"cert ${TFP:0:12} ")" -ge 10
summary
