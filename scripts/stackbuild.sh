#!/usr/bin/env bash
# Builds the stack's non-Python tools once per version and links them under build/:
#
#   scripts/stackbuild.sh otelcol         build/bin/otelcol-llm   (collector-config/otelcol/builder-config.yaml)
#   scripts/stackbuild.sh jaeger          build/bin/jaeger        (collector-config/jaeger/go.mod, a tool module)
#   scripts/stackbuild.sh grafana-schema  build/grafana-typecheck (collector-config/grafana/typecheck, npm)
#
# Each result is kept in "$OTEL_LLM_CACHE" (default ~/.cache/otel-llm) in a directory named by
# the hash of what defines it (the manifest, go.mod + go.sum or package-lock.json, and the Go or
# Node version), so a repeat run, another clone or another worktree reuses it and only a changed
# manifest builds again. Go's own module and build caches (go env GOMODCACHE GOCACHE) make a
# rebuild after a small change quicker too. Modules come from the Go module proxy and packages
# from the npm registry; nothing else is downloaded.
#
# --optional: when Go (or npm) is missing, say so and exit 0 instead of 1 (`make test` outside
# CI: the tests that need the tool are then skipped, each saying why).
#
# No step can hang: each is stopped with an error naming it after a limit in minutes (a
# registry that stops answering, a machine too busy), so a cold `make test` fails instead of
# running into CI's 90 minutes. A cold build measured 11 to 37 minutes for Collector and Jaeger
# together on the shared two-core machine (see README); the limits leave room for that:
#   STACKBUILD_FETCH_MINUTES  (10) installing the Collector builder, npm ci
#   STACKBUILD_BUILD_MINUTES  (35) building otelcol-llm, building Jaeger, each
# Waiting for another run building the same thing (a lock) is bounded by the build limit too.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${OTEL_LLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-llm}"
GO="${GO:-go}"
NPM="${NPM:-npm}"
FETCH_MINUTES="${STACKBUILD_FETCH_MINUTES:-10}"
BUILD_MINUTES="${STACKBUILD_BUILD_MINUTES:-35}"
optional=0
what=""
for arg in "$@"; do
  case "$arg" in
    --optional) optional=1 ;;
    otelcol | jaeger | grafana-schema) what="$arg" ;;
    *) echo "usage: $0 [--optional] otelcol|jaeger|grafana-schema" >&2; exit 2 ;;
  esac
done
[ -n "$what" ] || { echo "usage: $0 [--optional] otelcol|jaeger|grafana-schema" >&2; exit 2; }

say() { echo "stackbuild $what: $*" >&2; }

missing() {  # $1: the command, $2: what it is needed for
  say "$1 not found: $2"
  if [ "$optional" = 1 ]; then
    say "skipped; the tests that need it are skipped, each saying why"
    exit 0
  fi
  exit 1
}

# bounded MINUTES WHAT COMMAND...: run COMMAND; stop it with a clear error after MINUTES.
bounded() {
  local minutes="$1" step="$2" rc=0
  shift 2
  timeout --kill-after=30s "${minutes}m" "$@" || rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    say "$step did not finish within $minutes minutes and was stopped: is the registry reachable" \
      "(go env GOPROXY; npm config get registry) and the machine not overloaded? Raise the limit" \
      "with STACKBUILD_FETCH_MINUTES / STACKBUILD_BUILD_MINUTES (see scripts/stackbuild.sh)."
    exit 1
  fi
  return "$rc"
}

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# link TARGET NAME: build/NAME -> TARGET (replaced atomically, so a running test keeps its file)
link() {
  mkdir -p "$(dirname "$ROOT/build/$2")"
  ln -sfn "$1" "$ROOT/build/$2.tmp.$$"
  mv -Tf "$ROOT/build/$2.tmp.$$" "$ROOT/build/$2"
}

# locked DIR COMMAND...: run COMMAND at most once at a time per DIR (parallel clones, CI).
locked() {
  local dir="$1"
  shift
  mkdir -p "$(dirname "$dir")"
  exec 9>"$dir.lock"
  if ! flock -n 9; then
    say "waiting for another run that is building the same thing ($dir.lock)"
    flock -w "$(awk "BEGIN { print $BUILD_MINUTES * 60 }")" 9 || {
      say "still locked after $BUILD_MINUTES minutes by another run ($dir.lock); stopped"
      exit 1
    }
  fi
  "$@"
  exec 9>&-
}

go_env() {
  command -v "$GO" >/dev/null 2>&1 ||
    missing "$GO" "the Collector (otelcol-llm) and Jaeger are built from their Go modules; install Go 1.26 or later"
  GO_VERSION="$("$GO" env GOVERSION)"
  export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
}

build_otelcol() {
  local manifest="$ROOT/collector-config/otelcol/builder-config.yaml"
  local release dir
  go_env
  # The builder is of the same release as every module in the manifest (the telemetry module's).
  release="$(sed -n 's|^ *gomod: go.opentelemetry.io/collector/service \(v[0-9.]*\)$|\1|p' "$manifest")"
  [ -n "$release" ] || { say "no go.opentelemetry.io/collector/service version in $manifest"; exit 1; }
  dir="$CACHE/otelcol-llm/$(printf '%s\n' "$GO_VERSION" | hash_of "$manifest" -)"
  locked "$dir" build_otelcol_in "$dir" "$manifest" "$release"
  link "$dir/otelcol-llm" bin/otelcol-llm
  say "build/bin/otelcol-llm -> $dir/otelcol-llm"
}

build_otelcol_in() {
  local dir="$1" manifest="$2" release="$3"
  [ -x "$dir/otelcol-llm" ] && { say "cached ($dir)"; return; }
  local tools="$CACHE/tools/builder-$release"
  if [ ! -x "$tools/builder" ]; then
    say "installing the Collector builder $release (go install)"
    GOBIN="$tools" bounded "$FETCH_MINUTES" "go install of the Collector builder" \
      "$GO" install "go.opentelemetry.io/collector/cmd/builder@$release" ||
      { say "go install go.opentelemetry.io/collector/cmd/builder@$release failed (see above)"; exit 1; }
  fi
  say "building from $manifest with $GO_VERSION (first time: several minutes)"
  local work="$dir.work"
  rm -rf "$work"
  mkdir -p "$work"
  local started=$SECONDS
  (cd "$work" && bounded "$BUILD_MINUTES" "the otelcol-llm build" "$tools/builder" --config="$manifest") \
    >"$work/build.log" 2>&1 ||
    { tail -40 "$work/build.log" >&2; say "failed; full log: $work/build.log"; exit 1; }
  mkdir -p "$dir"
  mv "$work/otelcol-llm/otelcol-llm" "$dir/otelcol-llm.tmp"
  mv "$dir/otelcol-llm.tmp" "$dir/otelcol-llm"
  rm -rf "$work"
  say "built in $((SECONDS - started)) s"
}

build_jaeger() {
  local module="$ROOT/collector-config/jaeger" dir
  go_env
  dir="$CACHE/jaeger/$(printf '%s\n' "$GO_VERSION" | hash_of "$module/go.mod" "$module/go.sum" -)"
  locked "$dir" build_jaeger_in "$dir" "$module"
  link "$dir/jaeger" bin/jaeger
  say "build/bin/jaeger -> $dir/jaeger"
}

build_jaeger_in() {
  local dir="$1" module="$2"
  [ -x "$dir/jaeger" ] && { say "cached ($dir)"; return; }
  local version
  version="$(sed -n 's|^\tgithub.com/jaegertracing/jaeger \(v[0-9.]*\).*|\1|p' "$module/go.mod")"
  say "building github.com/jaegertracing/jaeger/cmd/jaeger $version with $GO_VERSION (first time: several minutes)"
  mkdir -p "$dir"
  local started=$SECONDS
  (cd "$module" && bounded "$BUILD_MINUTES" "the Jaeger build" "$GO" build \
    -ldflags="-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=$version" \
    -o "$dir/jaeger.tmp" github.com/jaegertracing/jaeger/cmd/jaeger) ||
    { say "go build of github.com/jaegertracing/jaeger/cmd/jaeger $version failed (see above)"; exit 1; }
  mv "$dir/jaeger.tmp" "$dir/jaeger"
  say "built in $((SECONDS - started)) s"
}

build_grafana_schema() {
  local project="$ROOT/collector-config/grafana/typecheck" dir
  command -v "$NPM" >/dev/null 2>&1 && command -v node >/dev/null 2>&1 ||
    missing "$NPM" "the dashboards are type-checked against @grafana/schema with tsc; install Node.js 20 or later with npm"
  dir="$CACHE/grafana-typecheck/$(node --version | hash_of "$project/package.json" "$project/package-lock.json" -)"
  locked "$dir" install_grafana_schema_in "$dir" "$project"
  link "$dir" grafana-typecheck
  say "build/grafana-typecheck -> $dir"
}

install_grafana_schema_in() {
  local dir="$1" project="$2"
  # npm writes node_modules/.package-lock.json last: without it an install was cut short.
  [ -x "$dir/node_modules/.bin/tsc" ] && [ -f "$dir/node_modules/.package-lock.json" ] &&
    { say "cached ($dir)"; return; }
  say "npm ci (@grafana/schema, typescript) in $dir"
  mkdir -p "$dir"
  cp "$project/package.json" "$project/package-lock.json" "$dir/"
  (cd "$dir" && bounded "$FETCH_MINUTES" "npm ci" "$NPM" ci --ignore-scripts --no-audit --no-fund \
    --loglevel=error --fetch-timeout=60000 --fetch-retries=2) ||
    { say "npm ci of @grafana/schema and typescript failed (see above)"; exit 1; }
}

case "$what" in
  otelcol) build_otelcol ;;
  jaeger) build_jaeger ;;
  grafana-schema) build_grafana_schema ;;
esac
