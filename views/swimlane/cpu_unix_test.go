//go:build unix

package swimlane

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used so far (user and system),
// so a benchmark can report CPU per frame even on a busy machine, where wall
// time says more about the neighbours than about the code.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
