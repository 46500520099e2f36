#!/usr/bin/env bash
# make interop-cosign: ferry and the real cosign CLI check each other's signatures, offline.
# For each cosign in COSIGN_VERSIONS (default "v2.6.5 v3.1.3"; built from the Go module proxy
# unless COSIGN2 / COSIGN3 name a binary), with a cosign.key from `cosign generate-key-pair`
# (password in COSIGN_PASSWORD), against two `ferry serve` registries on loopback:
#   1. ferry artifact push --sign-key cosign.key  ->  cosign verify --key accepts it, another key does not
#   2. cosign sign --key, without a transparency log (cosign 2: a .sig tag; cosign 3: a Sigstore
#      bundle referrer)                             ->  ferry bundle create and import --verify-images-key
#                                                       accept it, another key is refused
#   3. the imported copy                           ->  cosign verify --key accepts it at its new place
# Not part of make test: building cosign takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export GOTOOLCHAIN=local COSIGN_PASSWORD=${COSIGN_PASSWORD:-interop}
FERRY=${FERRY:-$root/bin/ferry}
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-cosign.XXXXXX")
pids=()
cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$work"
	[ $rc -eq 0 ] && echo "cosign interop: all checks passed" || echo "cosign interop: FAILED (exit $rc)" >&2
	exit $rc
}
trap cleanup EXIT INT TERM

serve() {
	"$FERRY" serve --addr 127.0.0.1:0 --root "$work/$1" >"$work/$1.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 100); do grep -q 'listening on' "$work/$1.log" 2>/dev/null && break; sleep 0.05; done
	sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$work/$1.log"
}
PUBLIC=$(serve public)
PRIVATE=$(serve private)
(go run ./hack/seed -registry "$PUBLIC" -sample >/dev/null)
"$FERRY" component create -f testdata/podinfo/component-constructor.yaml --to "http://$PUBLIC/releases" --var REGISTRY="$PUBLIC" >/dev/null

# check VERSION BINARY
check() {
	local v=$1 cosign=$2 major=${1%%.*} dir="$work/$1"
	mkdir -p "$dir" && cd "$dir"
	echo "== cosign $v"
	"$cosign" generate-key-pair --output-key-prefix cosign >/dev/null 2>&1
	"$cosign" generate-key-pair --output-key-prefix other >/dev/null 2>&1
	local sign=(sign --yes --key cosign.key --allow-http-registry)
	if [ "$major" = v2 ]; then
		sign+=(--tlog-upload=false)
	else
		"$cosign" signing-config create --out no-tlog.json >/dev/null 2>&1
		sign+=(--signing-config no-tlog.json)
	fi
	verify() { "$cosign" verify --key "$1" --insecure-ignore-tlog --allow-http-registry "$2" >/dev/null 2>"$dir/verify.err"; }

	echo "1. ferry signs, cosign verifies"
	mkdir -p manifests && printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n' "$major" >manifests/cm.yaml
	"$FERRY" artifact push manifests "oci://$PRIVATE/$major/deploy/demo:1" --sign-key cosign.key >/dev/null
	verify cosign.pub "$PRIVATE/$major/deploy/demo:1" || { cat verify.err >&2; return 1; }
	if verify other.pub "$PRIVATE/$major/deploy/demo:1"; then echo "cosign accepted ferry's signature with another key" >&2; return 1; fi

	echo "2. cosign signs, ferry's gate verifies (bundle create and import)"
	"$FERRY" transfer "http://$PUBLIC/releases//example.com/podinfo:6.3.6" "http://$PUBLIC/$major" >/dev/null
	for img in stefanprodan/podinfo:6.3.6 library/busybox:1.36; do
		"$cosign" "${sign[@]}" "$PUBLIC/$major/$img" >/dev/null 2>&1
	done
	"$FERRY" bundle create "http://$PUBLIC/$major//example.com/podinfo:6.3.6" -o signed.tar --verify-images-key cosign.pub | tail -1
	"$FERRY" bundle import signed.tar "http://$PRIVATE/$major/air" --verify-images-key cosign.pub >/dev/null
	if "$FERRY" bundle create "http://$PUBLIC/$major//example.com/podinfo:6.3.6" -o refused.tar --verify-images-key other.pub 2>/dev/null; then
		echo "ferry accepted cosign's signatures with another key" >&2; return 1
	fi

	echo "3. the imported copy verifies with cosign at its new place"
	verify cosign.pub "$PRIVATE/$major/air/stefanprodan/podinfo:6.3.6" || { cat verify.err >&2; return 1; }
	cd "$root"
}

for v in ${COSIGN_VERSIONS:-v2.6.5 v3.1.3}; do
	var=COSIGN${v:1:1}
	bin=${!var:-}
	if [ -z "$bin" ]; then
		echo "building cosign $v from the module proxy"
		GOBIN="$work/bin-$v" GOFLAGS=-mod=mod go install "github.com/sigstore/cosign/${v%%.*}/cmd/cosign@$v"
		bin=$work/bin-$v/cosign
	fi
	check "$v" "$bin"
done
