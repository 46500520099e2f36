// Package helm localizes Helm charts and proves their air-gap closure on
// what Helm renders. Charts are read (LoadArchive, LoadFiles, LoadDir,
// Fetch for an OCI Helm chart, Open for a component's helmChart resource)
// and rendered (Render, Images, Closure) with helm.sh/helm/v4's own loader,
// dependency processing, values coalescing and template engine, never a
// re-implementation. Localize applies a component's localization rules to
// the chart's values and renders the result: as a values overlay that
// leaves the chart untouched (ModeValues), or as a chart whose values.yaml
// is rewritten byte for byte (ModeChart), packaged and pushed as an OCI Helm
// chart with Helm's media types (Package, Artifact, Push). DeployFiles
// writes the Flux, Argo CD and Config Sync objects that deploy it.
package helm
