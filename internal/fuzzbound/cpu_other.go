//go:build !linux

package fuzzbound

import "time"

func threadCPU() time.Duration { return time.Duration(time.Now().UnixNano()) }

func processCPU() time.Duration { return threadCPU() }
