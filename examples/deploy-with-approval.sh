#!/bin/sh
# Deploys only after a person approves on their phone.
#
#   ./examples/deploy-with-approval.sh v2.3.1
#
# `countersign-agent exec` asks for approval (the exact command is shown to the person), prints the
# number to type, waits, and runs the command only once approved, with the signed receipt in
# COUNTERSIGN_RECEIPT. Rejected, expired or canceled: the command does not run and the exit code
# says why (1, 2, 3; 4 for an error), so CI can tell a timeout from a "no".
#
# Needs an enrolled agent key: countersign-agent enroll --server URL --code CODE
# (COUNTERSIGN_KEY_FILE picks the key file; the default is ~/.config/countersign/agent-key.json).
set -eu

version="${1:?usage: deploy-with-approval.sh VERSION}"
case "$version" in
  v[0-9]*) ;;
  *) echo "VERSION must look like v1.2.3" >&2; exit 64 ;;
esac
case "$version" in
  *[!A-Za-z0-9.+-]*) echo "VERSION may hold letters, digits, . + - only" >&2; exit 64 ;;
esac
here="$(cd "$(dirname "$0")" && pwd)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

# COUNTERSIGN_AGENT lets CI point at another install; it is split into words on purpose.
agent="${COUNTERSIGN_AGENT:-npx countersign-agent}"
# shellcheck disable=SC2086
exec $agent exec \
  --action deploy.production \
  --title "Deploy api $version to production" \
  --body "Rolls out api $version (commit $commit) to every production region." \
  --context "{\"version\":\"$version\",\"commit\":\"$commit\"}" \
  --ttl 300 \
  -- "$here/deploy.sh" "$version"
