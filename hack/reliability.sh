#!/usr/bin/env bash
# make reliability: runs the fault, kill and hostile-input tests with more seeds than CI, and every
# fuzz target for FUZZTIME, and writes the figures the suite prints (RELIABILITY lines) into
# docs/reliability.md between the generated markers.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
log=$(mktemp)
trap 'rm -f "$log"' EXIT
seeds=${FAULT_SEEDS:-6}
fuzztime=${FUZZTIME:-60s}

FERRY_FAULT_SEEDS=$seeds go test -count=1 -run 'TestFaults' -v ./ocmtransfer/ | grep 'RELIABILITY' >>"$log"
go test -count=1 -run 'TestKill' -v ./e2e/ | grep 'RELIABILITY' >>"$log"
FERRY_RACE_SEEDS=${RACE_SEEDS:-20} go test -count=1 -run 'TestConcurrentWriters|TestTagPageBomb|TestInterruptIsNotDamage' -v ./e2e/ | grep 'RELIABILITY' >>"$log"
go test -count=1 -run 'TestHostileDocuments' -v ./localize/ | grep 'RELIABILITY' >>"$log"
hostile=$(go test -count=1 -run 'Hostile|Refuse|Bad|Damaged|Volume|Flipped|Corrupt|Unsafe|Bomb' -v ./ctf/ ./bundle/ ./component/... ./localize/ ./gitops/ 2>&1 |
	grep -cE '^\s*--- PASS' || true)
fuzz=$(FUZZTIME=$fuzztime ./hack/fuzz.sh 2>&1 | awk '$1=="fuzz:" && ($4=="ok" || $4=="FAIL") {print $3, $2, $4}' || true)

{
	echo "Generated $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`make reliability\` on $(nproc) cores ($(go version | awk '{print $3}'))."
	echo
	echo "| test | fault rate | seeds | runs completed | faults injected | retried by the store | retried by the engine |"
	echo "|---|--:|--:|--:|--:|--:|--:|"
	{ grep -E 'RELIABILITY test=(images|component) ' "$log" || true; } | sed -E 's/.*test=([a-z]+) fault-rate=([0-9.]+) seed=([0-9]+) runs=([0-9]+) completed=([0-9]+) faults=([0-9]+) retried=([0-9]+) engine-retries=([0-9]+).*/\1 \2 \4 \5 \6 \7 \8/' |
		awk '{k=$1" "$2; s[k]++; r[k]+=$3; c[k]+=$4; f[k]+=$5; rt[k]+=$6; e[k]+=$7} END {for (k in s) {split(k,a," "); printf "| %s | %s | %d | %d/%d | %d | %d | %d |\n", a[1], a[2], s[k], c[k], r[k], f[k], rt[k], e[k]}}' | sort
	echo
	echo "| interruption (SIGKILL at a random moment) | kills | runs ending as an uninterrupted run |"
	echo "|---|--:|--:|"
	{ grep -E 'test=kill-' "$log" || true; } | sed -E 's/.*test=(kill-[a-z-]+) seeds=[0-9]+ kills=([0-9]+) survived=([0-9]+).*/| \1 | \2 | \3 |/'
	echo
	echo "| two writers of one path at once (seeded) | races | both written | one failed, saying why | exit 0 with a loss |"
	echo "|---|--:|--:|--:|--:|"
	{ grep -E 'test=race-' "$log" || true; } | sed -E 's/.*test=race-([a-z-]+) seeds=([0-9]+) both-written=([0-9]+) failed-clearly=([0-9]+) lost=([0-9]+).*/| \1 | \2 | \3 | \4 | \5 |/'
	echo
	echo "| a registry's lying tag pages (\`component get\`, real binary) | pages requested | peak RSS |"
	echo "|---|--:|--:|"
	{ grep -E 'test=tag-pages-' "$log" || true; } | sed -E 's/.*test=tag-pages-([a-z]+) requests=([0-9]+) rss-mib=([0-9]+).*/| \1 | \2 | \3 MiB |/'
	echo
	echo "| SIGINT during \`bundle import\` | tries | interrupted (exit 130) | called the bundle damaged |"
	echo "|---|--:|--:|--:|"
	{ grep -E 'test=interrupt-' "$log" || true; } | sed -E 's/.*test=interrupt-([a-z-]+) tries=([0-9]+) interrupted=([0-9]+) called-damaged=([0-9]+).*/| \1 | \2 | \3 | \4 |/'
	echo
	echo "Hostile inputs: $hostile tests of refused archives, documents, volumes and references passed (ctf, bundle, component, localize, gitops); hostile documents:"
	echo
	{ grep -E 'hostile=' "$log" || true; } | sed -E -e 's/.*hostile="([^"]+)" refused=true.*/- \1: refused with an error/' -e 's/.*hostile="([^"]+)" refused=false.*/- \1: processed within the limits, quickly/'
	echo
	echo "| fuzz target | time | result |"
	echo "|---|--:|---|"
	echo "$fuzz" | awk -v t="$fuzztime" 'NF>=3 {printf "| %s %s | %s | %s |\n", $2, $1, t, $3}'
} >"$log.md"

doc=docs/reliability.md
if [ ! -f "$doc" ]; then
	printf '# Reliability\n\n<!-- reliability:begin -->\n<!-- reliability:end -->\n' >"$doc"
fi
awk -v f="$log.md" '/<!-- reliability:begin -->/{print; while ((getline l < f) > 0) print l; skip=1; next} /<!-- reliability:end -->/{skip=0} !skip' "$doc" >"$doc.tmp"
mv "$doc.tmp" "$doc"
rm -f "$log.md"
echo "reliability: wrote $doc"
