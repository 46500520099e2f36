// Package helm localizes Helm charts and proves their air-gap closure on
// what Helm renders. Charts are read (LoadArchive, LoadFiles, LoadDir) and
// rendered (Render, Images, Closure) with helm.sh/helm/v4's own loader,
// dependency processing, values coalescing and template engine, never a
// re-implementation. Localize applies a component's localization rules to
// the chart's values and renders the result: as a values overlay that
// leaves the chart untouched (ModeValues), or as a chart whose values.yaml
// is rewritten byte for byte (ModeChart), packaged as `helm package` does
// (Package). Like package localize it depends on no other ferry package:
// a chart as an OCI artifact, and the Flux, Argo CD and Config Sync objects
// that deploy it, are package gitops's (BuildChart, PushChart, FetchChart,
// HelmManifests); reading a component's helmChart resource is package
// release's.
package helm
