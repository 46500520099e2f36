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
		candidate() { apt-cache policy "$1" | grep -q 'Candidate: [0-9]'; }
		# apt's index can fail to load on a machine that has just started:
		# three tries, 10 s apart, before going on without a package.
		for try in 1 2 3; do
			apt-get update -qq >/dev/null 2>&1 || true
			ok=1
			for p in "${missing[@]}"; do candidate "$p" || ok=0; done
			[ "$ok" = 1 ] || [ "$try" = 3 ] && break
			echo "bench: apt has no candidate for some of ${missing[*]}; updating again in 10 s" >&2
			sleep 10
		done
		for p in "${missing[@]}"; do
			if candidate "$p"; then
				apt-get install -y -qq "$p" >/dev/null
			else
				echo "bench: $p is not available from apt; going on without it" >&2
			fi
		done
	else
		echo "bench: missing ${missing[*]} (install with apt-get); going on without" >&2
	fi
fi

# The chart figure: render and check a chart of 200 templates (budget 2 s),
# written into the Go benchmarks table of docs/benchmarks.md.
ns=$(go test -run '^$' -bench 'BenchmarkRenderAndCheck200$' -benchtime 5x ./localize/helm |
	awk '/^BenchmarkRenderAndCheck200/ {print $3; exit}')
if [ -n "$ns" ]; then
	ms=$((ns / 1000000))
	echo "bench: a chart of 200 templates rendered and checked in $ms ms (budget 2000 ms)"
	sed -i "s/^\(| \`localize\/helm\` \`BenchmarkRenderAndCheck200\`.*| \)[0-9,.]* ms |\$/\1$ms ms |/" docs/benchmarks.md
	if [ "$ms" -ge 2000 ]; then
		echo "bench: rendering and checking 200 templates took $ms ms, over the 2 s budget" >&2
		exit 1
	fi
fi

mkdir -p .bench
go build -o .bench/bench ./hack/bench
.bench/bench "$@"
# What --htpasswd costs ferry serve: its own section of docs/benchmarks.md (hack/bench/auth.go).
.bench/bench auth -runs "${BENCH_AUTH_RUNS:-5}"
