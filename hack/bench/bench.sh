#!/usr/bin/env bash
# make bench: installs what the bench needs that Go cannot fetch (GNU time for
# peak RSS; skopeo, when Debian has it), then builds and runs hack/bench with
# the arguments given. The pinned crane and regctl are installed by hack/bench
# itself, from the Go module proxy, into .bench/bin.
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=local

missing=()
[ -x /usr/bin/time ] || missing+=(time)
command -v skopeo >/dev/null || missing+=(skopeo)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get update -qq >/dev/null
		for p in "${missing[@]}"; do
			if apt-cache policy "$p" | grep -q 'Candidate: [0-9]'; then
				apt-get install -y -qq "$p" >/dev/null
			else
				echo "bench: $p is not available from apt; going on without it" >&2
			fi
		done
	else
		echo "bench: missing ${missing[*]} (install with apt-get); going on without" >&2
	fi
fi

mkdir -p .bench
go build -o .bench/bench ./hack/bench
.bench/bench "$@"
# What --htpasswd costs ferry serve: its own section of docs/benchmarks.md (hack/bench/auth.go).
.bench/bench auth -runs "${BENCH_AUTH_RUNS:-5}"
