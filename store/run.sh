#!/bin/sh
# make run: start imgd in the foreground on STATE with embedded defaults,
# after saying how to use it.
#   store/run.sh BINDIR STATE
set -eu
bindir=$(cd "$1" && pwd)
mkdir -p "$2"
state=$(cd "$2" && pwd)
https=${IMGD_HTTPS:-127.0.0.1:8443}
# Embedded defaults, plus HTTPS on loopback (IMGD_HTTPS= to change it).
conf=$state/run.yaml
printf '# written by make run\nhttps_address: "%s"\n' "$https" >"$conf"
cat <<EOT
imgd: state in $state, local API on $state/unix.socket,
HTTPS on https://$https (public images for anyone; trusted clients by
certificate: imgctl config trust add CERT.pem, or --token NAME)
In another terminal:

    export IMGD_DIR=$state
    $bindir/imgctl image import IMAGE.tar.gz --alias myimage
    $bindir/imgctl image list

or with the lxc client you already have:

    LXD_DIR=$state lxc image list
    lxc remote add imgd https://$https --public --accept-certificate
    lxc image list imgd:

Stop with Ctrl-C (SIGTERM/SIGINT).
EOT
if [ "$(id -u)" != 0 ]; then
	echo "(not root: imgd runs with a reduced sandbox and says so below)"
fi
exec "$bindir/imgd" --state "$state" --config "$conf"
