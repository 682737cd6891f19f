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
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${OTEL_LLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-llm}"
GO="${GO:-go}"
NPM="${NPM:-npm}"
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
  flock 9
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
    GOBIN="$tools" "$GO" install "go.opentelemetry.io/collector/cmd/builder@$release"
  fi
  say "building from $manifest with $GO_VERSION (first time: several minutes)"
  local work="$dir.work"
  rm -rf "$work"
  mkdir -p "$work"
  local started=$SECONDS
  (cd "$work" && "$tools/builder" --config="$manifest") >"$work/build.log" 2>&1 ||
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
  (cd "$module" && "$GO" build -ldflags="-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=$version" -o "$dir/jaeger.tmp" \
    github.com/jaegertracing/jaeger/cmd/jaeger)
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
  [ -x "$dir/node_modules/.bin/tsc" ] && { say "cached ($dir)"; return; }
  say "npm ci (@grafana/schema, typescript) in $dir"
  mkdir -p "$dir"
  cp "$project/package.json" "$project/package-lock.json" "$dir/"
  (cd "$dir" && "$NPM" ci --ignore-scripts --no-audit --no-fund --loglevel=error)
}

case "$what" in
  otelcol) build_otelcol ;;
  jaeger) build_jaeger ;;
  grafana-schema) build_grafana_schema ;;
esac
