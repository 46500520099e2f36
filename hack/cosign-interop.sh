#!/usr/bin/env bash
# make interop-cosign: ferry and the real cosign CLI check each other's signatures, offline.
# Builds cosign from the Go module proxy (COSIGN_VERSION, default v2.6.5) unless COSIGN names one,
# starts two `ferry serve` registries on loopback and checks, with a cosign.key from
# `cosign generate-key-pair` (password in COSIGN_PASSWORD):
#   1. ferry artifact push --sign-key cosign.key  ->  cosign verify --key accepts it, another key does not
#   2. cosign sign --key (no transparency log)     ->  ferry bundle create/import --verify-images-key accept it
#   3. the imported copy                           ->  cosign verify --key accepts it at its new place
# Not part of make test: building cosign takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local COSIGN_PASSWORD=${COSIGN_PASSWORD:-interop}
FERRY=${FERRY:-$PWD/bin/ferry}
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

COSIGN=${COSIGN:-}
if [ -z "$COSIGN" ]; then
	echo "building cosign ${COSIGN_VERSION:=v2.6.5} from the module proxy"
	GOBIN="$work/bin" GOFLAGS=-mod=mod go install "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION"
	COSIGN=$work/bin/cosign
fi
cosign() { "$COSIGN" "$@" --allow-http-registry 2>"$work/cosign.err" || { cat "$work/cosign.err" >&2; return 1; }; }

serve() {
	"$FERRY" serve --addr 127.0.0.1:0 --root "$work/$1" >"$work/$1.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 100); do grep -q 'listening on' "$work/$1.log" 2>/dev/null && break; sleep 0.05; done
	sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$work/$1.log"
}
PUBLIC=$(serve public)
PRIVATE=$(serve private)
cd "$work"
"$COSIGN" generate-key-pair --output-key-prefix cosign >/dev/null 2>&1
"$COSIGN" generate-key-pair --output-key-prefix other >/dev/null 2>&1

echo "1. ferry signs, cosign verifies"
mkdir manifests && printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n' >manifests/cm.yaml
"$FERRY" artifact push manifests "oci://$PRIVATE/deploy/demo:1" --sign-key cosign.key
cosign verify --key cosign.pub --insecure-ignore-tlog "$PRIVATE/deploy/demo:1" >/dev/null
if "$COSIGN" verify --key other.pub --insecure-ignore-tlog --allow-http-registry "$PRIVATE/deploy/demo:1" >/dev/null 2>&1; then
	echo "cosign accepted ferry's signature with another key" >&2; exit 1
fi

echo "2. cosign signs, ferry's gate verifies (bundle create and import)"
(cd "$OLDPWD" && go run ./hack/seed -registry "$PUBLIC" -sample >/dev/null)
"$FERRY" component create -f "$OLDPWD/testdata/podinfo/component-constructor.yaml" --to "http://$PUBLIC/releases" --var REGISTRY="$PUBLIC" >/dev/null
for img in stefanprodan/podinfo:6.3.6 library/busybox:1.36; do
	cosign sign --yes --key cosign.key --tlog-upload=false "$PUBLIC/$img"
done
"$FERRY" bundle create "http://$PUBLIC/releases//example.com/podinfo:6.3.6" -o signed.tar --verify-images-key cosign.pub
"$FERRY" bundle import signed.tar "http://$PRIVATE/air" --verify-images-key cosign.pub
if "$FERRY" bundle create "http://$PUBLIC/releases//example.com/podinfo:6.3.6" -o refused.tar --verify-images-key other.pub 2>/dev/null; then
	echo "ferry accepted cosign's signatures with another key" >&2; exit 1
fi

echo "3. the imported copy verifies with cosign at its new place"
cosign verify --key cosign.pub --insecure-ignore-tlog "$PRIVATE/air/stefanprodan/podinfo:6.3.6" >/dev/null
