package main

import (
	"errors"
	"os"
	"syscall"
)

var errRejected = errors.New("rejected")

// watched holds the files being watched; a rejected request leaves its
// file there.
var watched []*os.File

func rejected(in []byte) bool { return len(in) > 0 && in[0] == '#' }

func watchLeaky(in []byte) error {
	f, err := os.Open("/dev/null")
	if err != nil {
		return err
	}
	watched = append(watched, f)
	if rejected(in) {
		return errRejected // still in watched, still open: the leak
	}
	watched = watched[:len(watched)-1]
	return f.Close()
}

func watchClean(in []byte) error {
	f, err := os.Open("/dev/null")
	if err != nil {
		return err
	}
	watched = append(watched, f)
	defer func() {
		watched = watched[:len(watched)-1]
		f.Close()
	}()
	if rejected(in) {
		return errRejected
	}
	return nil
}

func peek(in []byte) int {
	f, err := os.Open("/dev/null")
	if err != nil {
		return -1
	}
	var b [1]byte
	n, _ := f.Read(b[:])
	return n + len(in)
}

func probeLeaky(in []byte) error {
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0)
	if err != nil {
		return err
	}
	if rejected(in) {
		return errRejected // fd never closed: the leak
	}
	return syscall.Close(fd)
}
