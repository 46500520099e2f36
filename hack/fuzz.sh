#!/usr/bin/env bash
# make fuzz: runs every fuzz target of the module for FUZZTIME each (default 60s), one after
# the other, and prints a line per target. CI runs only their seed corpora, as part of make test.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
time=${FUZZTIME:-60s}
failed=0
while read -r file; do
	pkg=./$(dirname "${file#./}")
	for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		echo "fuzz: $pkg $target for $time"
		if out=$(go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$time" -fuzzminimizetime 5s 2>&1); then
			echo "fuzz: $pkg $target ok"
		else
			mkdir -p .fuzz
			echo "$out" >".fuzz/$target.log"
			echo "$out" | tail -20
			echo "fuzz: $pkg $target FAIL (output in .fuzz/$target.log; a crashing input is saved in $pkg/testdata/fuzz/$target)"
			failed=1
		fi
	done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort)
exit $failed
