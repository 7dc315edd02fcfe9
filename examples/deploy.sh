#!/bin/sh
# The deploy step itself. It refuses to run without a valid approval receipt for this action,
# whoever starts it: the receipt is the proof, not the fact that someone called this script.
set -eu

version="${1:?usage: deploy.sh VERSION}"
agent="${COUNTERSIGN_AGENT:-npx countersign-agent}"
# shellcheck disable=SC2086
$agent verify-receipt --action deploy.production --json > /dev/null \
  || { echo "deploy.sh: no valid approval receipt for deploy.production; not deploying" >&2; exit 77; }

echo "Deploying api $version (approval $COUNTERSIGN_APPROVAL_ID)…"
# … the real deployment goes here …
echo "Deployed api $version."
