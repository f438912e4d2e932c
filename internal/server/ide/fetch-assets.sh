#!/usr/bin/env bash
# Rebuilds assets/ (the GraphQL IDE's scripts and styles, embedded in the
# binary) from the pinned npm packages below, so the IDE needs no CDN.
#
# Each package tarball is checked against the integrity the registry
# published for that version before anything is taken from it; the files
# copied out are then checked against assets/SHA256SUMS, which is
# committed with them. A changed sum fails unless --update is given (a
# version bump: change the pins, run with --update, review and commit).
#
#   internal/server/ide/fetch-assets.sh            # verify: rebuild, compare
#   internal/server/ide/fetch-assets.sh --update   # rewrite assets/ and sums
set -euo pipefail
cd "$(dirname "$0")"

# package@version, the tarball's sha512 integrity, then file:asset pairs.
PINS=(
	"graphiql@4.1.2 sha512-rNlzQIAzm6i2KBXmVQWBgLvt0TloxFVB2d18bukvdsvjEuFDHsKx5IVOomL1W1o5WW+tE54+ioHb2AEKzO2cUg==
	graphiql.min.js:graphiql.min.js graphiql.min.css:graphiql.min.css LICENSE:LICENSE.graphiql"
	"react@18.2.0 sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==
	umd/react.production.min.js:react.production.min.js LICENSE:LICENSE.react"
	"react-dom@18.2.0 sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk81n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g==
	umd/react-dom.production.min.js:react-dom.production.min.js LICENSE:LICENSE.react-dom"
)

update=false
[ "${1:-}" = --update ] && update=true

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out"

for pin in "${PINS[@]}"; do
	read -r spec integrity files <<<"$(echo $pin)"
	tgz=$(cd "$work" && npm pack "$spec" --silent --pack-destination "$work")
	got="sha512-$(openssl dgst -sha512 -binary "$work/$tgz" | base64 -w0)"
	if [ "$got" != "$integrity" ]; then
		echo "fetch-assets: $spec: tarball integrity $got, want $integrity" >&2
		exit 1
	fi
	mkdir -p "$work/${spec%@*}"
	tar -xzf "$work/$tgz" -C "$work/${spec%@*}"
	for f in $files; do
		cp "$work/${spec%@*}/package/${f%%:*}" "$work/out/${f##*:}"
	done
	echo "fetch-assets: $spec ok"
done

(cd "$work/out" && sha256sum -- * | sort -k2) >"$work/SHA256SUMS"
if $update; then
	rm -rf assets
	mkdir assets
	cp "$work"/out/* assets/
	cp "$work/SHA256SUMS" assets/SHA256SUMS
	echo "fetch-assets: assets/ rewritten; review and commit it"
	exit 0
fi
if ! diff -u assets/SHA256SUMS "$work/SHA256SUMS"; then
	echo "fetch-assets: the pinned packages do not give assets/SHA256SUMS (run with --update after changing a pin)" >&2
	exit 1
fi
(cd assets && sha256sum --quiet -c SHA256SUMS)
echo "fetch-assets: assets/ matches the pinned packages"
