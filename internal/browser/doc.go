// Package browser holds the tests that drive a real headless Chromium
// against the whole server: the GraphQL IDE with no network but
// loopback, and a web app on another origin using the API as a front end
// does (CORS, uploads, downloads, a live subscription).
//
// Chromium comes from the distribution (deploy/local/prepare-browser.sh
// installs it; make test runs that first). Without it the tests skip,
// unless HEALTHMED_REQUIRE_BROWSER=1, as make test sets.
package browser
