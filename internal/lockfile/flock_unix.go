//go:build unix

package lockfile

import (
	"errors"
	"os"
	"strconv"
	"syscall"
)

// try takes the lock in lock file p without waiting.
func try(p string) (*Lock, error) {
	for {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		err = flock(f)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, ErrLocked
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		// The holder before may have removed the file between our open and
		// our lock: then the lock is on a file nobody else will open.
		fi, err1 := f.Stat()
		pi, err2 := os.Stat(p)
		if err1 != nil || err2 != nil || !os.SameFile(fi, pi) {
			f.Close()
			continue
		}
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, err
		}
		if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
			f.Close()
			return nil, err
		}
		return &Lock{f: f, path: p}, nil
	}
}

func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
