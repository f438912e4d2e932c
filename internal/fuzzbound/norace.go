//go:build !race

package fuzzbound

const raceSlack = 1
