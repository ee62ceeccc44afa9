#!/usr/bin/env bash
# Installs what cdcbridge needs on a fresh Debian machine, skipping what is already there:
# a JDK (Kafka, Connect, Debezium, ElasticMQ), Maven (resolves their jars), PostgreSQL,
# Prometheus (promtool checks deploy/monitoring; optional server in the stack),
# then a Python virtualenv in .venv with the project and its dev tools.
# System packages need root: as a normal user they are installed through sudo, and only when
# one is really missing; without sudo the script names the command for an administrator.
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

missing=()
have java || missing+=(openjdk-17-jdk-headless)
have mvn || missing+=(maven)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
# runuser is only needed as root (PostgreSQL then runs as the postgres user).
if [ "$(id -u)" -eq 0 ]; then have runuser || missing+=(util-linux); fi
have python3 || missing+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif have sudo; then
    SUDO=(sudo)
  else
    echo "missing system packages: ${missing[*]}" >&2
    echo "sudo is not available; ask an administrator to run:" >&2
    echo "  apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing system packages: ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v promtool >/dev/null 2>&1; then
  # Debian's prometheus ships promtool; without recommends (no exporters, no web assets).
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "installing system package: prometheus"
  $SUDO apt-get update -qq
  # The package would start a system-wide server on :9090; we only want the binaries.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"; added_policy=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if [ "${added_policy:-0}" = 1 ]; then $SUDO rm -f "$policy"; fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "installing the Python packages into .venv (a few minutes the first time) ..."
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_WARN_SCRIPT_LOCATION=1
  .venv/bin/pip install -q -q -U pip
  .venv/bin/pip install -q -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
