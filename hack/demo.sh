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

# Bold headings only on a terminal, and not with NO_COLOR: a log file gets plain text.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-dumb}" != dumb ]; then
	step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	step() { printf '\n== %s\n' "$*"; }
fi

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

step "2. Publish the sample release: its images, then the component version"
echo "building hack/seed, which makes the sample images in-process"
go build -o "$work/seed" ./hack/seed
"$work/seed" -registry "$PUBLIC_HOST" -sample >/dev/null
"$FERRY" component create -f testdata/podinfo/component-constructor.yaml \
	--to "http://$PUBLIC_HOST/releases" --var REGISTRY="$PUBLIC_HOST" --creation-time 2026-01-01T00:00:00Z
"$FERRY" component resources "http://$PUBLIC_HOST/releases//example.com/podinfo:6.3.6"

step "3. Outside: write the offline bundle"
"$FERRY" bundle create "http://$PUBLIC_HOST/releases//example.com/podinfo:6.3.6" -o "$work/podinfo.tar" --no-progress

step "4. Inside: verify the bundle, then import it into the private registry"
"$FERRY" bundle verify "$work/podinfo.tar"
"$FERRY" bundle import "$work/podinfo.tar" "http://$PRIVATE_HOST/air" --no-progress

step "5. Localize the manifests to the private copies and push them for GitOps"
"$FERRY" localize "http://$PRIVATE_HOST/air//example.com/podinfo:6.3.6" --resource manifests \
	--pin-digest --push "oci://$PRIVATE_HOST/air/deploy/podinfo:6.3.6"

step "6. What Flux, Argo CD or Config Sync will deploy: the localized Deployment"
"$FERRY" artifact pull "oci://$PRIVATE_HOST/air/deploy/podinfo:6.3.6" -O "$work/deploy" >/dev/null
cat "$work/deploy/deployment.yaml"
if grep -E 'image: ' "$work/deploy/deployment.yaml" | grep -v "$PRIVATE_HOST/air/.*@sha256:"; then
	echo "demo: an image still names a public registry" >&2
	exit 1
fi

step "7. The release as a Helm chart: published, carried, and the images the chart renders (all resources)"
"$FERRY" component create -f testdata/podinfo/chart-constructor.yaml \
	--to "http://$PUBLIC_HOST/charts" --var REGISTRY="$PUBLIC_HOST" --creation-time 2026-01-01T00:00:00Z
"$FERRY" transfer "http://$PUBLIC_HOST/charts//example.com/podinfo-chart:6.3.6" "http://$PRIVATE_HOST/air" --no-progress >/dev/null
"$FERRY" component resources "http://$PRIVATE_HOST/air//example.com/podinfo-chart:6.3.6" --chart-images

step "8. Localize the chart as a values overlay; publish it with a Flux HelmRelease and an Argo CD Application"
"$FERRY" localize "http://$PRIVATE_HOST/air//example.com/podinfo-chart:6.3.6" --resource chart --config chart-config \
	--chart-repo "oci://$PRIVATE_HOST/air/charts" --push "oci://$PRIVATE_HOST/air/deploy/podinfo-chart:6.3.6"
"$FERRY" artifact pull "oci://$PRIVATE_HOST/air/deploy/podinfo-chart:6.3.6" -O "$work/deploy-chart" >/dev/null
cat "$work/deploy-chart/flux/ocirepository.yaml" "$work/deploy-chart/flux/helmrelease.yaml" "$work/deploy-chart/argocd/application.yaml"

step "9. Or republish the chart itself, values.yaml localized, as podinfo 6.3.6+localized"
"$FERRY" localize "http://$PRIVATE_HOST/air//example.com/podinfo-chart:6.3.6" --resource chart --config chart-config \
	--chart-mode chart --localized-version --chart-repo "oci://$PRIVATE_HOST/air/charts" -O "$work/chart"
grep -n -B1 -A2 'repository:' "$work/chart/chart/podinfo/values.yaml"
