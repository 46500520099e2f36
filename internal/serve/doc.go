// Package serve runs the embedded registry behind `ferry serve`: CNCF distribution's
// registry app (handlers.NewApp) mounted in ferry's own http.Server.
//
// In ferry's flow it is an end, not a step: `ferry serve` gives a bastion host, a demo or a
// test a registry that `transfer.Run` and `bundle import` can push into. The package builds a
// distribution configuration from [Options] (or from a full distribution YAML file), checks
// every part of it that distribution would otherwise panic on, and only then creates the app.
//
// Only this package and internal/registrytest import distribution. internal/registrytest
// reuses [Options.Configuration] and [NewApp]; this package never imports it.
package serve
