# Sourced by scripts/demo and scripts/test: the repository root and the build environment.
# shellcheck shell=bash

NEOLITH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export NEOLITH_ROOT

# ccache: keep the cache across runs and across clones. The precompiled header needs the
# sloppiness below, or every translation unit using it is uncacheable; base_dir and
# hash_dir=false let a fresh clone at another path hit the cache of an earlier one.
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$NEOLITH_ROOT}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"

# Parallel build jobs (the reference machine has 2 cores).
NEOLITH_JOBS="${NEOLITH_JOBS:-2}"

# Colour only on a terminal and outside CI.
if [[ -t 1 && -z "${CI:-}" && -z "${NO_COLOR:-}" ]]; then
  c_bold=$'\e[1m' c_red=$'\e[31m' c_green=$'\e[32m' c_off=$'\e[0m'
else
  c_bold='' c_red='' c_green='' c_off=''
fi

# Prints the elapsed time since $1 (seconds from `date +%s`) as "Mm SSs".
neolith_elapsed() {
  local s=$(( $(date +%s) - $1 ))
  printf '%dm%02ds' $((s / 60)) $((s % 60))
}
