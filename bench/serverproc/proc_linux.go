package serverproc

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes the kernel kill a child when the benchmark dies, so
// that neither replicas nor client processes outlive a crashed or killed
// run.
func DieWithParent(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
