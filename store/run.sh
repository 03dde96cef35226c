#!/bin/sh
# make run: start imgd in the foreground on STATE with embedded defaults,
# after saying how to use it.
#   store/run.sh BINDIR STATE
set -eu
bindir=$(cd "$1" && pwd)
mkdir -p "$2"
state=$(cd "$2" && pwd)
cat <<EOT
imgd: state in $state, local API on $state/unix.socket
In another terminal:

    export IMGD_DIR=$state
    $bindir/imgctl image import IMAGE.tar.gz --alias myimage
    $bindir/imgctl image list

or with the lxc client you already have:

    LXD_DIR=$state lxc image list

Stop with Ctrl-C (SIGTERM/SIGINT).
EOT
if [ "$(id -u)" != 0 ]; then
	echo "(not root: imgd runs with a reduced sandbox and says so below)"
fi
exec "$bindir/imgd" --state "$state"
