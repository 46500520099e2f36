package remote

// IsLoopback reports whether a registry host (with or without a port) is on
// loopback, where ferry speaks plain HTTP without --plain-http.
func IsLoopback(host string) bool { return isLoopback(host) }
