#!/usr/bin/env bash
# make demo: the air-gap story on this machine, without internet.
# Starts two `ferry serve` registries on loopback ("public" and "private"), each with its own data
# directory under a temporary folder, and always stops them again, also when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
FERRY=${FERRY:-$PWD/bin/ferry}
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-demo.XXXXXX")
pids=()

cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
	if [ $rc -eq 0 ]; then echo; echo "demo: done; registries stopped, $work removed"; else echo "demo: FAILED (exit $rc); registries stopped" >&2; fi
	exit $rc
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# serve NAME: starts a registry on a free loopback port and sets NAME_HOST.
serve() {
	local name=$1 log="$work/$1.log"
	"$FERRY" serve --addr 127.0.0.1:0 --root "$work/$name" >"$log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 100); do
		if grep -q 'listening on' "$log" 2>/dev/null; then break; fi
		sleep 0.05
	done
	local url
	url=$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$log")
	[ -n "$url" ] || { cat "$log" >&2; echo "demo: the $name registry did not start" >&2; return 1; }
	printf -v "${name^^}_HOST" '%s' "$url"
	echo "$name registry: $url (data in $work/$name)"
}

step "1. Start a public and a private registry (ferry serve)"
serve public
serve private

step "2. Publish sample images to the public registry"
go run ./hack/seed -registry "$PUBLIC_HOST" -sample

step "3. Copy the two-platform podinfo index to the private registry"
"$FERRY" artifact copy "$PUBLIC_HOST/stefanprodan/podinfo:6.3.6" "$PRIVATE_HOST/mirror/stefanprodan/podinfo"

step "4. Copy it again: nothing left to send"
"$FERRY" artifact copy "$PUBLIC_HOST/stefanprodan/podinfo:6.3.6" "$PRIVATE_HOST/mirror/stefanprodan/podinfo" -o json |
	grep -E '"(bytesCopied|blobsCopied|manifestsPushed)"'
