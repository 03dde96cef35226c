#!/bin/bash
# GET /1.0/metrics: Prometheus text that promtool accepts (Debian's
# prometheus package), with per-project image counts and bytes, requests
# by endpoint and status, transfers and their bytes, child deaths by
# cause, audit records; the store decides who may read it (read on "*";
# without a policy a trusted certificate, not an untrusted one). The
# sandbox-violation count after a real SIGSYS is in sandbox_death.sh.
. "$(dirname "$0")/lib.bash"

mkcert "$T_TMP/alice"
mkcert "$T_TMP/eve"
https_start || { summary; exit 1; }
metrics() { curl -s --unix-socket "$SOCK" http://imgd/1.0/metrics; }
# value NAME{LABELS}: the sample's value ("" if absent).
value() { metrics | awk -v k="$1" '$1 == k {print $2}'; }

out=$(metrics)
check_contains "served as Prometheus text" \
    "$(curl -s -D - -o /dev/null --unix-socket "$SOCK" http://imgd/1.0/metrics)" \
    "Content-Type: text/plain; version=0.0.4"
if command -v promtool >/dev/null; then
	check "promtool check metrics: an idle daemon" \
	    bash -c "curl -s --unix-socket '$SOCK' http://imgd/1.0/metrics | promtool check metrics"
else
	fail "promtool is missing (make deps installs prometheus)"
fi
check_eq "no image yet" "$(value 'imgd_images{project="default"}')" 0

A=$(mkunified "$W/a.tar" gzip)
SA=$(stat -c %s "$A")
FA=$(sha256sum "$A" | cut -d' ' -f1)
up0=$(value imgd_upload_bytes_total)
"$BIN/imgctl" image import "$A" --alias one >/dev/null
api POST /1.0/projects -d '{"name":"t1","config":{"features.images":"true"}}' >/dev/null
"$BIN/imgctl" --project t1 image import "$A" >/dev/null
check_eq "an image in default" "$(value 'imgd_images{project="default"}')" 1
check_eq "its bytes" "$(value 'imgd_image_bytes{project="default"}')" "$SA"
check_eq "its alias" "$(value 'imgd_aliases{project="default"}')" 1
check_eq "project t1 apart" "$(value 'imgd_images{project="t1"}')" 1
check "the upload's bytes counted" \
    test "$(value imgd_upload_bytes_total)" -ge $((up0 + 2 * SA))
d0=$(value imgd_download_bytes_total)
"$BIN/imgctl" image export "$FA" "$W/out" >/dev/null
check_eq "the export's bytes counted" \
    "$(value imgd_download_bytes_total)" $((d0 + SA))
n0=$(value 'imgd_http_requests_total{endpoint="/1.0/images/{fingerprint}",method="GET",code="404"}')
for _ in 1 2 3; do api GET /1.0/images/abcdef >/dev/null; done
check_eq "requests by endpoint, method and status" \
    "$(value 'imgd_http_requests_total{endpoint="/1.0/images/{fingerprint}",method="GET",code="404"}')" \
    $((${n0:-0} + 3))
api GET '/1.0/images/%2e%2e%2f%22evil%22' >/dev/null
check "the client's path is never a label" \
    bash -c "! curl -s --unix-socket '$SOCK' http://imgd/1.0/metrics | grep -q evil"
check "an audited change is counted" test "$(value imgd_audit_records_total)" -ge 4
check "promtool: with images, projects and requests" \
    bash -c "curl -s --unix-socket '$SOCK' http://imgd/1.0/metrics | promtool check metrics"
check_eq "POST: 405" "$(api_status POST /1.0/metrics)" 405

# 300 more projects: 1,800 samples, past the channel's soft bound, go out
# as it drains; three scrapes at once.
for i in $(seq 1 300); do
	printf '{"name":"m%03d","config":{"features.images":"true"}}' "$i" |
	    curl -s -o /dev/null --unix-socket "$SOCK" -X POST --data-binary @- \
	    http://imgd/1.0/projects
done
pids=
for i in 1 2 3; do metrics >"$W/scrape.$i" & pids="$pids $!"; done
wait $pids
check_eq "302 projects counted" "$(awk '$1 == "imgd_projects" {print $2}' "$W/scrape.1")" 302
check_eq "each with its images line, in each of three scrapes at once" \
    "$(cat "$W"/scrape.* | grep -c '^imgd_images{')" 906
check "promtool: 302 projects" promtool check metrics <"$W/scrape.3"
check_eq "the frontend lived through it" "$(api_status GET /1.0)" 200

# A restarted frontend: the store's counts carry over, the cause named.
old=$(child_pid imgd-frontend)
kill -KILL "$old"
for _ in $(seq 1 100); do
	new=$(child_pid imgd-frontend)
	[ -n "$new" ] && [ "$new" != "$old" ] && wait_serving && break
	sleep 0.1
done
check_eq "a killed frontend is counted by cause" \
    "$(value 'imgd_child_deaths_total{process="frontend",cause="signal"}')" 1
check_eq "... and is no sandbox violation" \
    "$(value 'imgd_sandbox_violations_total{process="frontend"}')" 0
check_eq "the images are still counted" \
    "$(value 'imgd_images{project="default"}')" 1

# Over HTTPS: the store decides.
for _ in $(seq 1 50); do curl -sk "$URL/1.0" >/dev/null 2>&1 && break; sleep 0.1; done
check_eq "untrusted: 403" "$(curl -sk -o /dev/null -w '%{http_code}' \
    "$URL/1.0/metrics")" 403
check_eq "an untrusted certificate: 403" "$(curl -sk --cert "$T_TMP/eve.crt" \
    --key "$T_TMP/eve.key" -o /dev/null -w '%{http_code}' "$URL/1.0/metrics")" 403
"$BIN/imgctl" config trust add "$T_TMP/alice.crt" >/dev/null
check_eq "a trusted certificate (no policy: admin): 200" \
    "$(curl -sk --cert "$T_TMP/alice.crt" --key "$T_TMP/alice.key" \
    -o /dev/null -w '%{http_code}' "$URL/1.0/metrics")" 200
AFP=$(openssl x509 -in "$T_TMP/alice.crt" -outform der | sha256sum | cut -d' ' -f1)
cat >"$W/policy.yaml" <<EOF
grants:
  - identity: cert:$AFP
    projects: [t1]
    roles: [read, import]
EOF
cp "$W/imgd.yaml" "$W/imgd2.yaml"
echo "policy: $W/policy.yaml" >>"$W/imgd2.yaml"
imgd_stop
IMGD_ARGS="--config $W/imgd2.yaml" imgd_start || { summary; exit 1; }
for _ in $(seq 1 50); do curl -sk "$URL/1.0" >/dev/null 2>&1 && break; sleep 0.1; done
out=$(curl -sk --cert "$T_TMP/alice.crt" --key "$T_TMP/alice.key" \
    -w '\n%{http_code}' "$URL/1.0/metrics")
check_eq "a tenant with roles in t1 only: 403" "$(tail -1 <<<"$out")" 403
check_contains "... naming the role it lacks" "$(sed '$d' <<<"$out" | jget error)" \
    '"read" role'
cat >"$W/policy.yaml" <<EOF
grants:
  - identity: cert:$AFP
    projects: ["*"]
    roles: [read]
EOF
kill -HUP "$IMGD_PID"
sleep 1
check_eq "read on \"*\": 200" "$(curl -sk --cert "$T_TMP/alice.crt" \
    --key "$T_TMP/alice.key" -o /dev/null -w '%{http_code}' "$URL/1.0/metrics")" 200
summary
