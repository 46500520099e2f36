package bundle

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing f's bytes [off, off+n) to
// disk now, without waiting (sync_file_range with SYNC_FILE_RANGE_WRITE), so
// that the fsync in Writer.Close finds most of the bundle written already
// instead of flushing all of it at the end. It is only a hint: errors are
// for the fsync to report.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
