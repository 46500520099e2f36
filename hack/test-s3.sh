#!/usr/bin/env bash
# make test-s3: `ferry serve` with distribution's s3 storage driver, on a real S3-compatible
# object store, end to end. Opt-in (not part of make test or CI): the first run builds
# SeaweedFS's `weed` from its Go module, which takes many minutes on two cores.
#
#   1. builds weed (github.com/seaweedfs/seaweedfs, pinned below) from the Go module proxy into
#      a cache directory, unless it is there already or WEED names a binary;
#   2. starts `weed mini` on 127.0.0.1 (master, volume, filer and S3 gateway; everything
#      else off, telemetry off) with one access key and a bucket;
#   3. runs the demo's first steps against it: a public `ferry serve --root` registry with the
#      sample release, `ferry bundle create` out of it, then a `ferry serve --config` registry
#      whose storage is the bucket, `ferry bundle import` into that one and a `ferry transfer`
#      from the public registry into it; checks that the content is in the bucket (the filer's listing), restarts
#      the S3-backed registry and reads the release back from it (bundle create + verify);
#   4. stops everything and removes its files, also when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
FERRY=${FERRY:-$PWD/bin/ferry}
# A pseudo-version: SeaweedFS's release tags (3.xx) are not semantic versions, so the module
# proxy serves commits. Its go.mod asks for go 1.26.6 (this toolchain: see go version).
SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6
cache=${FERRY_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry-tools}
WEED=${WEED:-$cache/seaweedfs-$SEAWEEDFS_VERSION/weed}
BUCKET=ferry-registry
ACCESS_KEY=ferry-test
SECRET_KEY=ferry-test-secret

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ ! -x "$WEED" ]; then
	say "Building weed $SEAWEEDFS_VERSION into $(dirname "$WEED") (once; many minutes on 2 cores)"
	# go install pkg@version refuses modules with replace directives, and SeaweedFS's go.mod
	# has one: build the module's own main package in its (read-only) module directory, so its
	# go.mod and go.sum decide every dependency.
	dir=$(go mod download -json "github.com/seaweedfs/seaweedfs@$SEAWEEDFS_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$dir" ] || { echo "test-s3: go mod download of seaweedfs@$SEAWEEDFS_VERSION gave no directory" >&2; exit 1; }
	mkdir -p "$(dirname "$WEED")"
	start=$(date +%s)
	(cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -o "$WEED.partial" ./weed)
	mv "$WEED.partial" "$WEED"
	echo "built in $(( $(date +%s) - start ))s"
fi
[ -x "$FERRY" ] || { echo "test-s3: $FERRY is missing (make build)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-s3.XXXXXX")
pids=()
cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ $rc -ne 0 ]; then
		for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 20 "$f" >&2; }; done
	fi
	rm -rf "$work"
	if [ $rc -eq 0 ]; then echo; echo "test-s3: PASS (servers stopped, $work removed)"; else echo "test-s3: FAILED (exit $rc); servers stopped, $work removed" >&2; fi
	exit $rc
}
trap cleanup EXIT INT TERM

# freeport: a loopback TCP port nobody listens on, different from those handed out before.
used=" "
freeport() {
	local p
	for _ in $(seq 1 200); do
		p=$(( 20000 + RANDOM % 30000 ))
		case "$used" in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			used+="$p "
			echo "$p"
			return
		fi
	done
	echo "test-s3: no free port" >&2
	return 1
}

# serve NAME ARGS...: starts `ferry serve ARGS` on a free loopback port (unless ARGS has an
# --addr) and sets NAME_HOST and NAME_PID.
serve() {
	local name=$1 log="$work/$1.log"
	shift
	"$FERRY" serve --addr 127.0.0.1:0 "$@" >"$log" 2>&1 &
	pids+=($!)
	eval "${name^^}_PID=$!"
	for _ in $(seq 1 200); do
		if grep -q 'listening on' "$log" 2>/dev/null; then break; fi
		sleep 0.05
	done
	local url
	url=$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$log")
	[ -n "$url" ] || { echo "test-s3: the $name registry did not start" >&2; return 1; }
	printf -v "${name^^}_HOST" '%s' "$url"
	echo "$name registry: $url"
}

say "1. Start SeaweedFS (weed mini) on 127.0.0.1 with bucket $BUCKET"
"$WEED" version | head -n 1
S3_PORT=$(freeport)
FILER_PORT=$(freeport)
cat >"$work/s3.json" <<EOF
{"identities": [{"name": "ferry", "credentials": [{"accessKey": "$ACCESS_KEY", "secretKey": "$SECRET_KEY"}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
EOF
mkdir -p "$work/weed"
"$WEED" mini -dir="$work/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
	-master.port="$(freeport)" -master.port.grpc="$(freeport)" -master.telemetry=false \
	-volume.port="$(freeport)" -volume.port.grpc="$(freeport)" \
	-filer.port="$FILER_PORT" -filer.port.grpc="$(freeport)" \
	-s3.port="$S3_PORT" -s3.port.grpc="$(freeport)" -s3.port.iceberg=0 -s3.port.lance=0 \
	-webdav=false -admin.ui=false -s3.config="$work/s3.json" -bucket="$BUCKET" \
	>"$work/weed.log" 2>&1 &
pids+=($!)
WEED_PID=$!
# filer_ls DIR: the names in the filer directory DIR (the bucket's objects are under
# /buckets/BUCKET), through the filer's HTTP API with bash's own /dev/tcp: no curl needed.
filer_ls() {
	local out
	out=$(
		exec 3<>"/dev/tcp/127.0.0.1/$FILER_PORT" || exit 1
		printf 'GET %s/?limit=1000 HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n' "$1" >&3
		timeout 10 cat <&3
	) || return 1
	case "$out" in "HTTP/1."?" 200"*) ;; *) return 1 ;; esac
	printf '%s\n' "$out" | grep -o '"FullPath":"[^"]*"' | sed 's/.*\/\([^/"]*\)"$/\1/'
}
ready=
for _ in $(seq 1 240); do
	kill -0 "$WEED_PID" 2>/dev/null || { echo "test-s3: weed mini exited" >&2; exit 1; }
	if filer_ls /buckets 2>/dev/null | grep -qx "$BUCKET"; then ready=1; break; fi
	sleep 0.5
done
[ -n "$ready" ] || { echo "test-s3: bucket $BUCKET did not appear within 120s" >&2; exit 1; }
echo "S3 endpoint http://127.0.0.1:$S3_PORT, bucket $BUCKET"

say "2. A public registry with the sample release, and its offline bundle"
serve public --root "$work/public"
go run ./hack/seed -registry "$PUBLIC_HOST" -sample >/dev/null
"$FERRY" component create -f testdata/podinfo/component-constructor.yaml \
	--to "http://$PUBLIC_HOST/releases" --var REGISTRY="$PUBLIC_HOST" --creation-time 2026-01-01T00:00:00Z
COMP=example.com/podinfo:6.3.6
"$FERRY" bundle create "http://$PUBLIC_HOST/releases//$COMP" -o "$work/podinfo.tar" --no-progress

say "3. ferry serve on the bucket (--config with the s3 driver)"
cat >"$work/registry.yml" <<EOF
version: 0.1
storage:
  s3:
    region: us-east-1
    regionendpoint: http://127.0.0.1:$S3_PORT
    forcepathstyle: true
    secure: false
    bucket: $BUCKET
    accesskey: $ACCESS_KEY
    secretkey: $SECRET_KEY
    rootdirectory: /registry
  redirect:
    disable: true
EOF
serve private --config "$work/registry.yml"

say "4. Import the bundle into it, and transfer the release into it from the public registry"
"$FERRY" bundle import "$work/podinfo.tar" "http://$PRIVATE_HOST/air" --no-progress
"$FERRY" transfer "http://$PUBLIC_HOST/releases//$COMP" "http://$PRIVATE_HOST/mirror" --no-progress

say "5. The content is in the bucket"
v2=/buckets/$BUCKET/registry/docker/registry/v2
repos=$(filer_ls "$v2/repositories")
echo "repositories at the top of $v2/repositories:" $repos
for repo in air mirror; do
	echo "$repos" | grep -qx "$repo" || { echo "test-s3: repository $repo is not in the bucket" >&2; exit 1; }
done
blobs=$(filer_ls "$v2/blobs/sha256" | wc -l)
echo "$blobs blob prefixes under $v2/blobs/sha256"
[ "$blobs" -gt 0 ] || { echo "test-s3: no blobs in the bucket" >&2; exit 1; }

say "6. Restart the S3-backed registry: the release reads back from the bucket"
kill "$PRIVATE_PID"
wait "$PRIVATE_PID" 2>/dev/null || true
# On the same address: the imported component version names its images there.
serve private --config "$work/registry.yml" --addr "$PRIVATE_HOST"
"$FERRY" component resources "http://$PRIVATE_HOST/air//$COMP"
"$FERRY" bundle create "http://$PRIVATE_HOST/mirror//$COMP" -o "$work/again.tar" --no-progress
"$FERRY" bundle verify "$work/again.tar"
# A second transfer finds everything there already.
out=$("$FERRY" transfer "http://$PUBLIC_HOST/releases//$COMP" "http://$PRIVATE_HOST/mirror" --no-progress -o json)
echo "$out" | grep -q '"bytesCopied": *0\b' || { echo "test-s3: the second transfer copied bytes:"; echo "$out"; exit 1; } >&2
echo "second transfer: nothing to copy"
