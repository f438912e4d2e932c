# syntax=docker/dockerfile:1

# The healthmed server: one static Go binary on a distroless base.
#
#   docker build -t healthmed .
#   docker run --rm -p 127.0.0.1:8080:8080 -e DATABASE_URL=... \
#     -e HEALTHMED_SIGNING_KEY="$(cat es256.pem)" -e HEALTHMED_RECORD_KEK=... \
#     -e HEALTHMED_LINK_SECRET=... healthmed
#
# Multi-platform images need no emulation: the build stage runs on the
# builder's platform and cross-compiles (CGO is off), e.g.
#   docker buildx build --platform linux/amd64,linux/arm64 -t healthmed .
#
# The build needs BuildKit (the default builder since Docker 23) for the
# cache mount below.

# The toolchain must be at least the `go` line of go.mod: the golang images
# set GOTOOLCHAIN=local and will not fetch a newer one. Pin a patch release
# or a digest for reproducible builds, and rebuild with --pull to pick up
# security fixes.
ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src

# Modules in their own layer: rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

COPY . .
ARG TARGETOS
ARG TARGETARCH
# Time zone data is compiled in (internal/validate imports time/tzdata), so
# the image needs no zoneinfo; CA certificates come with the base image.
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/healthmed ./cmd/healthmed \
 && install -d -m 0700 -o 65532 -g 65532 /out/data

# static-debian12: no libc, no shell, no package manager; CA certificates,
# tzdata and /etc/passwd with the `nonroot` user (65532).
FROM gcr.io/distroless/static-debian12:nonroot

# The binary stays root-owned and read-only for the user that runs it.
COPY --from=build /out/healthmed /healthmed
# HEALTHMED_DATA_DIR: development keys and, with HEALTHMED_BLOB_STORE=fs,
# the encrypted record files. Mount a volume here; production keeps the
# keys in secrets and the files in S3 (HEALTHMED_BLOB_STORE=s3).
COPY --from=build --chown=65532:65532 /out/data /data

# Numeric, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
USER 65532:65532
WORKDIR /data

ENV HEALTHMED_LISTEN_ADDR=0.0.0.0:8080 \
    HEALTHMED_DATA_DIR=/data
EXPOSE 8080

# No HEALTHCHECK: distroless has no shell, curl or wget to run one, and the
# binary has no probe sub-command. Orchestrators probe over HTTP instead:
# GET /healthz (liveness, the process answers) and GET /readyz (readiness,
# the database is reachable); see deploy/k8s/deployment.yaml.
#
# The server is PID 1 and handles SIGTERM itself: it stops accepting,
# ends subscriptions, and waits up to HEALTHMED_SHUTDOWN_TIMEOUT (20s)
# for requests in flight, so give it a longer stop timeout than that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/healthmed"]
CMD ["serve"]
