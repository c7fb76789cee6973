#!/bin/sh
# Installs every build, test and data dependency of bnnmc from Debian 12 packages. Idempotent:
# apt-get skips what is installed. Uses sudo only when not run as root.
set -eu

packages="build-essential cmake pkg-config libopenblas-dev librandom123-dev libjansson-dev
zlib1g-dev libcmocka-dev libfftw3-dev r-mathlib python3-numpy python3-sklearn r-base-core
r-cran-posterior libmpich-dev mpich valgrind bc nodejs dataset-fashion-mnist ca-certificates
clang libclang-rt-dev libnetcdf-dev libcairo2-dev python3-xarray python3-netcdf4
libdnnl-dev python3-torch groff-base r-cran-mlbench r-cran-modeldata"

if [ "$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi

# On a fresh Debian 12, npm is a separate package; where node comes from elsewhere (e.g.
# NodeSource, which bundles npm) installing Debian's npm would conflict, so only add it when
# there is no npm on PATH.
command -v npm >/dev/null 2>&1 || packages="$packages npm"

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
# shellcheck disable=SC2086 # the list is split on purpose
$sudo apt-get install -y --no-install-recommends $packages
