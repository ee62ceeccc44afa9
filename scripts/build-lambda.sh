#!/usr/bin/env bash
# Builds the webhook receiver's Lambda bundle with `sam build` (no container) into
# build/lambda/ReceiverFunction (deploy/aws/template.yaml; code and requirements in
# deploy/aws/receiver/). aws-sam-cli lives in its own virtualenv, .venv-sam, so its pins never
# meet the project's. Prints the bundle's size in bytes. `--install-only`: just install sam.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 SAM_CLI_TELEMETRY=0
stamp=.venv-sam/.installed-aws-sam-cli-1
if [ ! -f "$stamp" ]; then
  python3 -m venv .venv-sam
  .venv-sam/bin/pip install -q -q "aws-sam-cli>=1.120,<2"
  touch "$stamp"
fi
[ "${1:-}" = "--install-only" ] && exit 0
rm -rf build/lambda
mkdir -p build
.venv-sam/bin/sam build --template-file deploy/aws/template.yaml --build-dir build/lambda \
  --cached --cache-dir build/lambda-cache >build/sam-build.log 2>&1 \
  || { cat build/sam-build.log >&2; exit 1; }
bundle=build/lambda/ReceiverFunction
find "$bundle" -name '__pycache__' -prune -exec rm -rf {} +
# Lambda's file system is read-only: ship the bytecode (same Python as the runtime), checked by
# hash rather than by mtime, so a cold start does not compile every module again (about half
# the import time measured here).
python3.11 -m compileall -q -j 0 --invalidation-mode unchecked-hash "$bundle"
echo "lambda bundle: $bundle $(du -sb "$bundle" | cut -f1) bytes"
