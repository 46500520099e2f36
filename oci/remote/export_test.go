package remote

// SetPageSize sets how many entries a listing asks for per page, for the
// rest of the test.
func SetPageSize(t interface{ Cleanup(func()) }, n int) {
	old := pageSize
	pageSize = n
	t.Cleanup(func() { pageSize = old })
}
