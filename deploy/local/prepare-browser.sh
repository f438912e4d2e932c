#!/usr/bin/env bash
# Makes sure a Chromium is there for the browser tests (internal/browser):
# installs the distribution's package when none is found. The tests start
# it headless with a fresh profile and no network but loopback.
set -euo pipefail

say() { printf 'prepare-browser: %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		say "need root to run: $*"; exit 1
	fi
}

if [ -n "${HEALTHMED_CHROMIUM:-}" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null ||
	command -v google-chrome >/dev/null; then
	exit 0
fi
say "installing chromium (once; it takes a minute or two)"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null || { say "chromium did not install"; exit 1; }
