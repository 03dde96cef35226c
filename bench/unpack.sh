#!/bin/bash
# bench/unpack.sh: how fast imgd unpacks an image into a new root
# filesystem (imgctl image unpack), next to a real LXD creating a
# container from the same image on a dir pool (lxc init) and next to the
# machine's floor (bsdtar and GNU tar extracting the same tarball), in one
# run.
#
#	sudo bench/unpack.sh [SCALE]		# default 1 (about 16 minutes)
#	bench/unpack.sh 0.05			# a quick run (about 90 s)
#	REPS=3 TREES=small FORMATS=tar.xz bench/unpack.sh 0.5	# knobs
#
# Two trees, generated deterministically (a seeded Python script, the same
# bytes every run), each packed as a unified image (metadata.yaml, no
# templates, + rootfs/) with GNU tar (--numeric-owner --sort=name, one
# mtime) as .tar, .tar.gz (gzip -6) and .tar.xz (xz -T0 -1):
#
#   small: 60000 x SCALE files of 1-40 KiB (log-uniform, about 10.6 KiB
#          on average: 620 MiB at SCALE 1) in 3000 x SCALE directories up
#          to 7 deep, plus 3% symlinks and 1% hard links; 60% text, 25%
#          binary-ish pages, 15% random bytes; 5% owned by uids 100-109.
#   large: 8 files of 128 MiB x SCALE (1 GiB at SCALE 1), half text and
#          half random bytes in 64 KiB runs (gzip gets it to about 60%).
#
# For each tree and format, REPS runs (default 2 at SCALE >= 0.5, of which
# the second is reported, the first warming the page cache; otherwise 3,
# the median reported), each into a new target, of:
#
#	bsdtar --numeric-owner -xpf IMAGE -C DIR; sync -f DIR	the floor
#	tar --numeric-owner -xpf IMAGE -C DIR; sync -f DIR	GNU tar
#	imgctl image unpack FP TARGET -> imgd	(the unpacker syncfs()s the
#						target before it reports done)
#	lxc init FP cN -> LXD, dir pool		(LXD 5.0.2 does not sync;
#						a sync -f of the rootfs after it
#						is timed apart)
#
# The image is imported into imgd and LXD once per format (timed apart,
# not in the tables). Columns: seconds, the sync's share, time / the
# floor's, CPU seconds (the floor's and GNU tar's from /usr/bin/time -v,
# children included; imgd's unpacker from the line the store logs with
# --debug when it reaps it, and the store's own from /proc; LXD's daemon
# and its reaped children from /proc), peak RSS (time -v; the unpacker's
# getrusage from the store's log; LXD's daemon VmHWM, reset before each
# run, without its tar child), and whether the tree written is the
# generated one (type, mode, owners, size, link count and symlink target
# of every entry; checked on the first run).
#
# Targets: removed after each run for the large tree; for the small tree,
# all at once after its last run. On a no-journal ext4 (as on the
# machine this was written on), creating inodes just after deleting many
# pays ext4's recently_deleted() scan (measured: 5-8x slower creates
# until the freed inodes are used up), which would be charged to whichever
# run came next. RM_EACH=1 removes every target after its run instead.
#
# Needs root, `make all` done (IMGD_BUILD=DIR for another build
# directory), and free disk under $BENCH_TMPDIR (default /var/tmp): about
# 3.5 GB + REPS x 9 GB per unit of SCALE (checked before it starts).
# Everything it starts is stopped by pid and its temp files are removed on
# exit. There are no thresholds on speed.
. "$(dirname "$0")/lib.sh"

SCALE=${1:-${SCALE:-1}}
case "$SCALE" in
'' | *[!0-9.]* | *.*.* | .) die "usage: $0 [SCALE] (a number, 1 = full size)" ;;
esac
awk -v s="$SCALE" 'BEGIN {exit !(s > 0 && s <= 4)}' ||
    die "SCALE must be above 0 and at most 4"
if [ -z "${REPS:-}" ]; then
	REPS=$(awk -v s="$SCALE" 'BEGIN {print (s >= 0.5 ? 2 : 3)}')
fi
case "$REPS" in
'' | *[!0-9]*) die "REPS must be a number" ;;
esac
[ "$REPS" -ge 1 ] || die "REPS must be at least 1"
RM_EACH=${RM_EACH:-0}
TREES=${TREES:-small large}
FORMATS=${FORMATS:-tar tar.gz tar.xz}
for t in $TREES; do
	case "$t" in small | large) ;; *) die "TREES: small and/or large" ;; esac
done
for f in $FORMATS; do
	case "$f" in tar | tar.gz | tar.xz) ;; *) die "FORMATS: tar tar.gz tar.xz" ;; esac
done
if [ "$REPS" = 2 ]; then
	PICK="the second of 2 runs (the first warms the page cache)"
else
	PICK="the median of $REPS runs"
fi

need_deps bsdtar:libarchive-tools python3:python3 xz:xz-utils gzip:gzip \
    tar:tar
"$BIN/imgctl" image unpack --help >/dev/null 2>&1 ||
    die "$BIN/imgctl has no 'image unpack': a build with it is needed"

mk_tmp
T0_ALL=$SECONDS
echo "== imgd unpack benchmark: SCALE $SCALE (trees: $TREES; formats:" \
    "$FORMATS), $PICK"
# Peak use: the small tree and its tarballs, two imported copies of one,
# and every target of the tree until its last run (unless RM_EACH).
if [ "$RM_EACH" = 1 ]; then
	need_disk "$(awk -v s="$SCALE" 'BEGIN {printf "%d", s * 6000 + 500}')"
else
	need_disk "$(awk -v s="$SCALE" -v r="$REPS" \
	    'BEGIN {printf "%d", s * (3500 + r * 12 * 760) + 500}')"
fi
machine_info
echo "bsdtar: $(bsdtar --version)"
echo "GNU tar: $(tar --version | head -1); $(xz --version | head -1);" \
    "gzip $(gzip --version | head -1 | awk '{print $2}')"
echo "python3: $(python3 --version 2>&1)"

# ---- the trees ----

cat >"$B_TMP/mktree.py" <<'PY'
# mktree.py KIND SCALE DIR: a deterministic image tree in DIR
# (DIR/metadata.yaml + DIR/rootfs/), from a fixed seed. Content comes
# from 64 MiB pools drawn at seeded offsets (text: words of a 4096-word
# vocabulary; binary-ish: random 4 KiB pages, a quarter of them mostly
# zeros): larger than gzip's window and xz -1's dictionary, so neither
# sees a repeat of the pool.
import math, os, random, sys

kind, scale, top = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rnd = random.Random(20261204)
MTIME = 1458040200
POOL = 64 << 20


def words(n):
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    return ["".join(rnd.choices(letters, weights=range(26, 0, -1),
                                k=rnd.randint(2, 10))) for _ in range(n)]


def text_pool(size):
    vocab = words(4096)
    cw, c = [], 0.0
    for i in range(len(vocab)):
        c += 1.0 / (i + 1)
        cw.append(c)
    w = rnd.choices(vocab, cum_weights=cw, k=size // 5)
    lines = [" ".join(w[i:i + 8]) for i in range(0, len(w), 8)]
    return "\n".join(lines).encode()[:size]


def bin_pool(size):
    out = bytearray()
    while len(out) < size:
        if rnd.random() < 0.25:
            page = bytearray(4096)
            k = rnd.randint(16, 512)
            o = rnd.randrange(0, 4096 - k)
            page[o:o + k] = rnd.randbytes(k)
            out += page
        else:
            out += rnd.randbytes(4096)
    return bytes(out[:size])


def slice_of(pool, size):
    o = rnd.randrange(0, len(pool) - size)
    return pool[o:o + size]


def write(path, data, mode=0o644, uid=0, gid=0):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    os.write(fd, data)
    os.close(fd)
    os.chmod(path, mode)
    if uid or gid:
        os.chown(path, uid, gid)


def meta(desc):
    with open(os.path.join(top, "metadata.yaml"), "w") as f:
        f.write("architecture: x86_64\ncreation_date: %d\nproperties:\n"
                "  description: \"%s\"\n  os: bench\n  release: \"%s\"\n"
                % (MTIME, desc, kind))


root = os.path.join(top, "rootfs")
os.makedirs(root)
tot = 0
if kind == "small":
    nfiles = max(200, round(60000 * scale))
    text = text_pool(POOL)
    binp = bin_pool(POOL)
    tops = ["usr/lib", "usr/share", "usr/bin", "usr/include", "etc",
            "var/lib", "opt/app", "usr/lib/python3"]
    dirs = []
    for t in tops:
        os.makedirs(os.path.join(root, t), exist_ok=True)
        dirs.append((t, t.count("/")))
    vocab = words(2000)
    ndirs = max(len(tops), nfiles // 20)
    while len(dirs) < ndirs:
        parent, depth = rnd.choice(dirs)
        if depth >= 6:
            continue
        d = parent + "/" + rnd.choice(vocab) + str(len(dirs) % 97)
        if os.path.exists(os.path.join(root, d)):
            continue
        os.mkdir(os.path.join(root, d))
        dirs.append((d, depth + 1))
    files = []
    lo, hi = math.log(1024), math.log(40 * 1024)
    for i in range(nfiles):
        d = rnd.choice(dirs)[0]
        size = int(math.exp(rnd.uniform(lo, hi)))
        r = rnd.random()
        ext = ".txt" if r < 0.6 else ".so" if r < 0.85 else ".gz"
        path = "%s/%s%d%s" % (d, rnd.choice(vocab), i, ext)
        if r < 0.6:
            data = slice_of(text, size)
        elif r < 0.85:
            data = slice_of(binp, size)
        else:
            data = rnd.randbytes(size)
        mode = 0o755 if rnd.random() < 0.08 else 0o644
        own = rnd.randint(100, 109) if rnd.random() < 0.05 else 0
        write(os.path.join(root, path), data, mode, own, own)
        files.append(path)
        tot += size
    nsym, nhard = nfiles * 3 // 100, nfiles // 100
    for i in range(nsym):
        d = rnd.choice(dirs)[0]
        tgt = rnd.choice(files)
        link = os.path.join(root, d, "l%d" % i)
        if rnd.random() < 0.5:
            os.symlink("/" + tgt, link)
        else:
            os.symlink(os.path.relpath(os.path.join(root, tgt),
                                       os.path.join(root, d)), link)
    for i in range(nhard):
        d = rnd.choice(dirs)[0]
        os.link(os.path.join(root, rnd.choice(files)),
                os.path.join(root, d, "h%d" % i))
    meta("imgd unpack benchmark: %d small files" % nfiles)
    print("%d files of 1-40 KiB (%.0f MiB), %d directories, %d symlinks, "
          "%d hard links" % (nfiles, tot / 1048576, len(dirs), nsym, nhard))
else:
    mib = max(1, round(128 * scale))
    text = text_pool(POOL // 2)
    binp = bin_pool(POOL // 2)
    pool = b"".join(text[i:i + 65536] + binp[i:i + 65536]
                    for i in range(0, POOL // 2, 65536))
    for d in ("data", "etc", "bin"):
        os.makedirs(os.path.join(root, d))
    write(os.path.join(root, "etc/hostname"), b"bench\n")
    write(os.path.join(root, "bin/hello"), b"#!/bin/sh\necho hi\n", 0o755)
    os.symlink("hello", os.path.join(root, "bin/hi"))
    for n in range(8):
        fd = os.open(os.path.join(root, "data/blob%d" % n),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        for _ in range(mib):
            os.write(fd, slice_of(pool, 1 << 20))
        os.close(fd)
        tot += mib << 20
    meta("imgd unpack benchmark: 8 files of %d MiB" % mib)
    print("8 files of %d MiB (%.0f MiB) and 3 small ones" % (mib,
                                                           tot / 1048576))
PY

# sig DIR: one line per entry under DIR (type, mode, owners, size for
# regular files, link count, symlink target, path), hashed: two trees
# with the same sig hold the same entries.
sig() {
	(cd "$1" && find . -mindepth 1 \( -type f -printf '%y %m %U %G %s %n %l %P\n' \) \
	    -o \( ! -type f -printf '%y %m %U %G - %n %l %P\n' \)) |
	    LC_ALL=C sort | sha256sum | cut -c1-16
}

fsize() { stat -c %s "$1"; }

# make_images KIND: the tree in $IMG/tree, $IMG/image.{tar,tar.gz,tar.xz}.
declare -A DESC BYTES HOW FP
make_images() {
	local kind=$1 t0 t1 t2 t3
	IMG=$B_TMP/img-$kind
	mkdir -p "$IMG"
	t0=$(date +%s%N)
	DESC[$kind]=$(python3 "$B_TMP/mktree.py" "$kind" "$SCALE" \
	    "$IMG/tree") || die "mktree.py $kind failed"
	t1=$(date +%s%N)
	tar --sort=name --numeric-owner --mtime=@1458040200 --format=gnu \
	    -C "$IMG/tree" -cf "$IMG/image.tar" metadata.yaml rootfs ||
	    die "tar -c failed"
	t2=$(date +%s%N)
	case " $FORMATS " in
	*" tar.gz "*) gzip -6 -n -c "$IMG/image.tar" >"$IMG/image.tar.gz" ||
	    die "gzip failed" ;;
	esac
	t3=$(date +%s%N)
	case " $FORMATS " in
	*" tar.xz "*) xz -T0 -1 -c "$IMG/image.tar" >"$IMG/image.tar.xz" ||
	    die "xz failed" ;;
	esac
	local t4 f
	t4=$(date +%s%N)
	HOW[$kind/tar]="GNU tar"
	HOW[$kind/tar.gz]="gzip -6, $(ratio $(((t3 - t2) / 1000000)) 1000 1) s"
	HOW[$kind/tar.xz]="xz -T0 -1, $(ratio $(((t4 - t3) / 1000000)) 1000 1) s"
	for f in $FORMATS; do
		BYTES[$kind/$f]=$(fsize "$IMG/image.$f")
		FP[$kind/$f]=$(sha256sum <"$IMG/image.$f" | cut -d' ' -f1)
	done
	REF_SIG[$kind]=$(sig "$IMG/tree/rootfs")
	echo "-- $kind: ${DESC[$kind]}: generated in" \
	    "$(ratio $(((t1 - t0) / 1000000)) 1000 1) s, tar in" \
	    "$(ratio $(((t2 - t1) / 1000000)) 1000 1) s," \
	    "gzip -6 in $(ratio $(((t3 - t2) / 1000000)) 1000 1) s," \
	    "xz -T0 -1 in $(ratio $(((t4 - t3) / 1000000)) 1000 1) s"
	for f in tar tar.gz tar.xz; do
		[ -e "$IMG/image.$f" ] && echo "   image.$f: $(fsize "$IMG/image.$f")" \
		    "bytes"
	done
}
declare -A REF_SIG

# ---- the measures ----

declare -A SEC SYNC CPU KB SCPU SRV SAME FAILED
NFAIL=0
add() { # add ARRAY KEY VALUE: space-separated list per key
	local -n a=$1
	a[$2]="${a[$2]:-} $3"
}
fail_row() { # fail_row KEY WHY: said now, shown in the tables
	FAILED[$1]=$2
	NFAIL=$((NFAIL + 1))
	echo "bench: FAILED: $1: $2" >&2
}
ns_of() { date -d "$1" +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b - a) / 1e9}'; }
delta() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }

LXD_OK=1
LXD_WHY=""
NCT=0
TARGETS=()	# what to remove: "dir PATH" or "lxd NAME"

remove_targets() {
	local t
	for t in "${TARGETS[@]}"; do
		case "$t" in
		dir\ *) rm -rf "${t#dir }" ;;
		lxd\ *) LXD_DIR=$LXD_STATE lxc delete --force "${t#lxd }" \
		    >/dev/null 2>&1 || echo "bench: could not delete the LXD" \
		    "container ${t#lxd }" >&2 ;;
		esac
	done
	TARGETS=()
	sync
}

# check_tree KEY DIR REP: on the first run, whether DIR holds the tree.
check_tree() {
	local key=$1 dir=$2 rep=$3 s
	[ "$rep" = 1 ] || return 0
	s=$(sig "$dir")
	if [ "$s" = "${REF_SIG[$KIND]}" ]; then
		SAME[$key]=yes
	else
		SAME[$key]=NO
		echo "bench: $key: the tree in $dir differs from the generated" \
		    "one (sig $s, expected ${REF_SIG[$KIND]})" >&2
	fi
}

# run_floor ROW REP: bsdtar or GNU tar, then sync -f, one timing; a mark
# between the two gives the sync's share.
run_floor() {
	local row=$1 rep=$2 key=$KIND/$FMT/$1 dir out=$B_TMP/out.txt tool mark
	dir=$B_TMP/out/$row-$FMT-$rep
	mark=$B_TMP/mark
	mkdir -p "$dir"
	case "$row" in
	bsdtar) tool=bsdtar ;;
	gnutar) tool=tar ;;
	esac
	sync
	run_timed "$out" sh -c '"$0" --numeric-owner -xpf "$1" -C "$2" &&
	    date +%s%N >"$3" && sync -f "$2"' "$tool" "$IMG/image.$FMT" \
	    "$dir" "$mark" || {
		fail_row "$key" "$(head -c 300 "$out")"
		rm -rf "$dir"
		return 0
	}
	add SEC "$key" "$R_SEC"
	add SYNC "$key" "$(awk -v t0="$R_T0" -v s="$R_SEC" -v m="$(cat "$mark")" \
	    'BEGIN {printf "%.3f", (t0 + s * 1e9 - m) / 1e9}')"
	add CPU "$key" "$R_CPU"
	add KB "$key" "$R_KB"
	check_tree "$key" "$dir/rootfs" "$rep"
	TARGETS+=("dir $dir")
}

# run_imgd REP: imgctl image unpack into a new target.
run_imgd() {
	local rep=$1 key=$KIND/$FMT/imgd name out=$B_TMP/out.txt logn s0 lines
	local _ u uc t_a t_b
	name=$KIND-$FMT-$rep
	sync
	logn=$(wc -l <"$IMGD_LOG")
	s0=$(cpu_of "$IMGD_PID")
	run_timed "$out" env IMGD_DIR="$IMGD_STATE" "$BIN/imgctl" image unpack \
	    "${FP[$KIND/$FMT]}" "$name" || {
		fail_row "$key" "$(head -c 300 "$out")"
		tail -n +"$((logn + 1))" "$IMGD_LOG" | tail -4 | cut -c1-200 |
		    sed 's/^/  log: /' >&2
		rm -rf "$IMGD_STATE/rootfs/$name"
		return 0
	}
	grep -q '^Unpacked into' "$out" ||
	    fail_row "$key" "imgctl printed: $(head -c 300 "$out")"
	add SEC "$key" "$R_SEC"
	add SCPU "$key" "$(delta "$s0" "$(cpu_of "$IMGD_PID")")"
	# The unpacker is reaped just after the operation ends.
	for _ in $(seq 1 50); do
		lines=$(tail -n +"$((logn + 1))" "$IMGD_LOG" |
		    grep 'debug: unpacker (pid [0-9]*) .*max RSS')
		[ -n "$lines" ] && break
		sleep 0.1
	done
	u=$(sed -n 's/.*max RSS \([0-9]*\) kB.*/\1/p' <<<"$lines" | sort -g |
	    tail -1)
	uc=$(sed -n 's/.*cpu \([0-9.]*\) s user, \([0-9.]*\) s system.*/\1 \2/p' \
	    <<<"$lines" | awk '{s += $1 + $2} END {if (NR) printf "%.3f", s}')
	add KB "$key" "${u:--}"
	add CPU "$key" "${uc:--}"
	# The store's own view: from "unpacking" to "unpacked" in its log.
	lines=$(tail -n +"$((logn + 1))" "$IMGD_LOG")
	t_a=$(grep -m1 'info: unpacking [0-9a-f]* into' <<<"$lines" | cut -d' ' -f1)
	t_b=$(grep -m1 'info: unpacked [0-9a-f]* into' <<<"$lines" | cut -d' ' -f1)
	if [ -n "$t_a" ] && [ -n "$t_b" ]; then
		add SRV "$key" "$(secs "$(ns_of "$t_a")" "$(ns_of "$t_b")")"
	fi
	check_tree "$key" "$IMGD_STATE/rootfs/$name" "$rep"
	TARGETS+=("dir $IMGD_STATE/rootfs/$name")
}

# run_lxd REP: lxc init into a new container on the dir pool, then a
# sync -f of its rootfs, timed apart.
run_lxd() {
	local rep=$1 key=$KIND/$FMT/lxd ct out=$B_TMP/out.txt c0 root
	[ "$LXD_OK" = 1 ] || return 0
	[ -z "${FAILED[$key]:-}" ] || return 0
	NCT=$((NCT + 1))
	ct=c$NCT
	root=$LXD_STATE/storage-pools/bench/containers/$ct/rootfs
	sync
	reset_hwm "$LXD_PID"
	c0=$(cpu_tree "$LXD_PID")
	if ! run_timed "$out" env LXD_DIR="$LXD_STATE" lxc init \
	    "${FP[$KIND/$FMT]}" "$ct"; then
		fail_row "$key" "lxc init: $(tr '\r' '\n' <"$out" |
		    grep -v '^ *$' | tail -2 | head -c 300)"
		LXD_DIR=$LXD_STATE lxc delete --force "$ct" >/dev/null 2>&1
		return 0
	fi
	add SEC "$key" "$R_SEC"
	add CPU "$key" "$(delta "$c0" "$(cpu_tree "$LXD_PID")")"
	add KB "$key" "$(hwm "$LXD_PID")"
	TARGETS+=("lxd $ct")
	run_timed "$out" sync -f "$root" || true
	add SYNC "$key" "$R_SEC"
	check_tree "$key" "$root" "$rep"
}

# ---- the picks and the tables ----

# pick ARRAY KEY: the reported value of the runs: the last of 2, else the
# median; "-" if none.
pick() {
	local -n a=$1
	local v=${a[$2]:-}
	local -a xs
	read -r -a xs <<<"${v//-/}"
	[ ${#xs[@]} -gt 0 ] || { echo -; return; }
	if [ "$REPS" = 2 ]; then
		echo "${xs[${#xs[@]} - 1]}"
	else
		median "${xs[@]}"
	fi
}
most() {
	local -n a=$1
	local v=${a[$2]:-}
	v=${v//-/}
	[ -n "${v// /}" ] || { echo -; return; }
	# shellcheck disable=SC2086
	max_of $v
}
add_s() { awk -v a="$1" -v b="$2" 'BEGIN {
	if (a == "-" || b == "-") print "-"; else printf "%.3f", a + b }'; }

label() {
	case "$1" in
	bsdtar) echo "bsdtar -xpf + sync -f (floor)" ;;
	gnutar) echo "GNU tar -xpf + sync -f" ;;
	imgd) echo "imgctl image unpack -> imgd" ;;
	imgdlog) echo "  imgd's own (store's log)" ;;
	lxd) echo "lxc init -> LXD (dir pool)" ;;
	lxdsync) echo "  + sync -f of its rootfs" ;;
	esac
}

print_table() {
	local kind=$1 fmt=$2 k floor row s r sy c rss same
	floor=$(pick SEC "$kind/$fmt/bsdtar")
	echo
	echo "== $kind tree (${DESC[$kind]}), image.$fmt: ${BYTES[$kind/$fmt]}" \
	    "bytes (${HOW[$kind/$fmt]}); $PICK"
	printf '%-32s %8s %7s %7s %9s %8s %5s\n' "what" "seconds" "of it" \
	    "time /" "CPU s" "peak RSS" "same"
	printf '%-32s %8s %7s %7s %9s %8s %5s\n' "" "" "sync" "floor" "" "MiB" \
	    "tree"
	for row in bsdtar gnutar imgd imgdlog lxd lxdsync; do
		k=$kind/$fmt/$row
		[ "$row" = lxdsync ] && k=$kind/$fmt/lxd
		if [ "$row" = imgdlog ]; then
			k=$kind/$fmt/imgd
			[ "$(pick SRV "$k")" = - ] && continue
			s=$(pick SRV "$k")
			printf '%-32s %8s %7s %7s\n' "$(label "$row")" "$s" "(in)" \
			    "$(ratio "$s" "$floor")"
			continue
		fi
		if [ -n "${FAILED[$k]:-}" ] && [ "$(pick SEC "$k")" = - ]; then
			[ "$row" = lxdsync ] && continue
			printf '%-32s %8s   %s\n' "$(label "$row")" FAILED \
			    "$(head -c 60 <<<"${FAILED[$k]}" | head -1)"
			continue
		fi
		if [ "$row" = lxd ] && [ "$LXD_OK" != 1 ]; then
			printf '%-32s %8s   %s\n' "$(label "$row")" - "$LXD_WHY"
			continue
		fi
		[ "$row" = lxdsync ] && [ "$LXD_OK" != 1 ] && continue
		s=$(pick SEC "$k")
		sy=$(pick SYNC "$k")
		c=$(pick CPU "$k")
		rss=$(mib "$(most KB "$k")")
		same=${SAME[$k]:--}
		case "$row" in
		imgd) sy="(in)" ;;
		lxd) sy="-" ;;
		lxdsync)
			s=$(add_s "$(pick SEC "$k")" "$sy")
			c="" rss="" same="" ;;
		esac
		r=$(ratio "$s" "$floor")
		[ "$row" = bsdtar ] && r="(ref)"
		printf '%-32s %8s %7s %7s %9s %8s %5s\n' "$(label "$row")" "$s" \
		    "$sy" "$r" "$c" "$rss" "$same"
	done
	k=$kind/$fmt/imgd
	echo "imgd: the unpacker's CPU and RSS (its getrusage, from the" \
	    "store's log); the store's own CPU $(pick SCPU "$k") s; its own" \
	    "time: from 'unpacking' to 'unpacked' in the store's log (imgctl" \
	    "polls the operation every 200 ms)"
	echo "LXD: the CPU of the daemon and its reaped children (tar," \
	    "decompressors), the daemon's VmHWM"
}

# ---- the runs ----

echo "== what runs"
echo "imgd:   $BIN/imgd --state $B_TMP/imgd --debug (unpack root" \
    "<state>/rootfs)"
echo "LXD:    LXD_DIR=$B_TMP/lxd unshare --net lxd --group root;" \
    "a dir storage pool 'bench' as the default profile's root disk"
echo "rows:   bsdtar --numeric-owner -xpf IMAGE -C DIR && sync -f DIR;"
echo "        tar --numeric-owner -xpf IMAGE -C DIR && sync -f DIR;"
echo "        IMGD_DIR=... imgctl image unpack FP TARGET (syncfs inside);"
echo "        LXD_DIR=... lxc init FP cN, then sync -f <its rootfs> apart"
echo "        (sync before each run; each run into a new target; targets" \
    "removed $([ "$RM_EACH" = 1 ] && echo "after each run" ||
    echo "after each large-tree run, and after the last small-tree run")"
echo "        (see the header: ext4 without a journal and fresh deletes))"
echo "images: unified (metadata.yaml without templates + rootfs/)," \
    "imported once per format into each daemon (timed apart)"

imgd_start
lxd_start
echo "idle after start: imgd store $(mib "$(hwm "$IMGD_PID")") MiB;" \
    "LXD $(mib "$(hwm "$LXD_PID")") MiB (VmHWM)"
if ! out=$(LXD_DIR=$LXD_STATE lxc storage create bench dir 2>&1) ||
    ! out=$(LXD_DIR=$LXD_STATE lxc profile device add default root disk \
    path=/ pool=bench 2>&1); then
	LXD_OK=0
	LXD_WHY="no dir pool: $(tail -1 <<<"$out" | head -c 100)"
	echo "bench: LXD could not make a dir pool, its rows are skipped:" \
	    "$out" >&2
fi

T_RUNS=0
for KIND in $TREES; do
	echo
	t0=$SECONDS
	echo "-- building the $KIND tree (SCALE $SCALE) and its images in" \
	    "$B_TMP/img-$KIND"
	make_images "$KIND"
	sync
	for FMT in $FORMATS; do
		fp=${FP[$KIND/$FMT]}
		run_timed "$B_TMP/out.txt" env IMGD_DIR="$IMGD_STATE" \
		    "$BIN/imgctl" image import "$IMG/image.$FMT" ||
		    die "imgctl image import image.$FMT: $(cat "$B_TMP/out.txt")"
		grep -q "$fp" "$B_TMP/out.txt" ||
		    die "imgctl image import printed $(cat "$B_TMP/out.txt")"
		imp="imported image.$FMT: into imgd in $R_SEC s"
		if [ "$LXD_OK" = 1 ]; then
			if run_timed "$B_TMP/out.txt" env LXD_DIR="$LXD_STATE" \
			    lxc image import "$IMG/image.$FMT" &&
			    grep -q "$fp" "$B_TMP/out.txt"; then
				imp="$imp, into LXD in $R_SEC s"
			else
				LXD_OK=0
				LXD_WHY="lxc image import failed"
				echo "bench: lxc image import image.$FMT failed:" \
				    "$(tail -2 "$B_TMP/out.txt")" >&2
			fi
		fi
		echo "-- $imp ($fp)"
		t1=$SECONDS
		for rep in $(seq 1 "$REPS"); do
			run_floor bsdtar "$rep"
			run_floor gnutar "$rep"
			run_imgd "$rep"
			run_lxd "$rep"
			if [ "$RM_EACH" = 1 ] || [ "$KIND" = large ]; then
				remove_targets
			fi
		done
		T_RUNS=$((T_RUNS + SECONDS - t1))
		echo "-- $KIND image.$FMT: $REPS x 4 rows in $((SECONDS - t1)) s"
		delete_image "$IMGD_SOCK" "$fp"
		if [ "$LXD_OK" = 1 ]; then
			delete_image "$LXD_SOCK" "$fp"
		fi
	done
	t1=$SECONDS
	remove_targets
	rm -rf "$IMG/tree"
	echo "-- $KIND: targets and tree removed in $((SECONDS - t1)) s;" \
	    "$((SECONDS - t0)) s for this tree"
	for FMT in $FORMATS; do
		print_table "$KIND" "$FMT"
	done
	rm -rf "$IMG"
done

echo
echo "== summary: seconds ($PICK), unpacker CPU s and peak RSS MiB"
printf '%-6s %-7s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n' "tree" "format" \
    "floor" "GNU tar" "imgd" "(its" "LXD" "imgd /" "LXD /" "unpacker" \
    "unpacker"
printf '%-6s %-7s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n' "" "" "bsdtar" "" \
    "imgctl" "log)" "+sync" "floor" "floor" "CPU s" "RSS MiB"
for KIND in $TREES; do
	for FMT in $FORMATS; do
		k=$KIND/$FMT
		fl=$(pick SEC "$k/bsdtar")
		im=$(pick SEC "$k/imgd")
		lx=$(pick SEC "$k/lxd")
		lxs=$(add_s "$lx" "$(pick SYNC "$k/lxd")")
		printf '%-6s %-7s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n' "$KIND" \
		    "$FMT" "$fl" "$(pick SEC "$k/gnutar")" "$im" \
		    "$(pick SRV "$k/imgd")" "$lxs" \
		    "$(ratio "$im" "$fl")" "$(ratio "$lxs" "$fl")" \
		    "$(pick CPU "$k/imgd")" "$(mib "$(most KB "$k/imgd")")"
	done
done
echo "(imgd imgctl: the client's wall clock, imgd / floor from it; its log:"
echo "the store's 'unpacking' to 'unpacked'; LXD +sync: lxc init and then"
echo "sync -f of its rootfs, LXD / floor from it; without the sync, see the"
echo "tables)"
echo
echo "notes: every tarball is in the page cache (it was just written, or"
echo "imported: imgd and LXD read their own copies). The floor and imgd"
echo "sync the target before they end; LXD 5.0.2 does not, so a sync -f"
echo "of its rootfs is timed after it. MiB are 2^20 bytes."
echo "at the end, $(other_load)"
echo "whole run: $((SECONDS - T0_ALL)) s ($T_RUNS s of timed rows and" \
    "their syncs)"
if [ "$NFAIL" -gt 0 ]; then
	echo
	echo "FAILED ($NFAIL):"
	for k in "${!FAILED[@]}"; do
		echo "  $k: ${FAILED[$k]}"
	done | sort
	exit 1
fi
