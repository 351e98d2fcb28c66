#!/usr/bin/env bash
# One-command set-up: Debian build dependencies, build, install, demo.
#   bash tools/setup.sh [PREFIX]        (default PREFIX: ~/.local)
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${1:-$HOME/.local}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
need=""
# chromium: only for the tests of `loong report` (skipped without it)
# libcurl4-openssl-dev: loongd (the host agent); influxdb: only for the
# tests of loongd and the dashboards with a real InfluxDB
for p in build-essential zlib1g-dev python3 python3-pytest chromium \
         libcurl4-openssl-dev influxdb; do
    dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
fi
make -j"$(nproc)" all
make install PREFIX="$PREFIX"
make demo LOONG="$PREFIX/bin/loong"
