// Package cin turns the (data, size) arguments of an exported operation
// into a Go slice.
package cin

import "unsafe"

// View returns the caller's bytes without copying. The memory belongs to the
// C caller and is only valid during the call: anything kept past the return
// must be copied, or it would point into memory the harness reuses.
func View(data unsafe.Pointer, size uintptr) []byte {
	if data == nil || size == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(data), size)
}
