#!/usr/bin/env bash
# Runs promtool (from Debian's `prometheus` package) without installing the package: installing it would
# also start a Prometheus server as a system service, which must not outlive `make test`. The .deb is
# fetched with apt-get download and unpacked under .build/tools once.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v promtool >/dev/null; then exec promtool "$@"; fi
tool=.build/tools/prometheus/usr/bin/promtool
if [ ! -x "$tool" ]; then
  mkdir -p .build/tools && work=$(mktemp -d) && chmod 777 "$work"  # apt's _apt user writes there
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' 2>/dev/null | head -1)" ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"; $SUDO apt-get update -qq
  fi
  (cd "$work" && apt-get download -qq prometheus >&2)
  dpkg-deb -x "$work"/prometheus_*.deb .build/tools/prometheus
  rm -rf "$work"
fi
exec "$tool" "$@"
