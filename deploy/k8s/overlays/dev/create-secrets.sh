#!/usr/bin/env bash
# Creates the secrets the dev overlay references, with random values, in the namespace (default
# park-dev, created if missing). Secrets that already exist are kept, so running it again is safe
# and the data in PostgreSQL stays reachable.
#   park-postgres     password   the PostgreSQL superuser's password
#   <service>-db-app  uri        each service's DATABASE_URL: its own database on that server
#   park-redis        password   Redis' password
#                     url        the services' REDIS_URL
#   park-jwt          secret     the HS256 secret development tokens are signed with:
#     JWT_SECRET=$(kubectl -n park-dev get secret park-jwt -o jsonpath='{.data.secret}' | base64 -d) \
#       npm run token -- --role operator
# Nothing here is ever written to the repository.
set -euo pipefail

namespace=${1:-park-dev}
services=(metering carbon dispatch reporting)

random() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
exists() { kubectl -n "$namespace" get secret "$1" >/dev/null 2>&1; }
value() { kubectl -n "$namespace" get secret "$1" -o "jsonpath={.data.$2}" | base64 -d; }
# Values go through files in a private temporary folder, never through the command line (where
# `ps` would show them).
workdir=$(mktemp -d)
chmod 700 "$workdir"
trap 'rm -rf "$workdir"' EXIT
create() {
  local name=$1 pair args=()
  shift
  for pair in "$@"; do
    printf %s "${pair#*=}" >"$workdir/${pair%%=*}"
    args+=("--from-file=${pair%%=*}=$workdir/${pair%%=*}")
  done
  kubectl -n "$namespace" create secret generic "$name" "${args[@]}" >/dev/null
  rm -f "$workdir"/*
  echo "created secret $name"
}

kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace"

if exists park-postgres; then
  postgres_password=$(value park-postgres password)
else
  postgres_password=$(random)
  create park-postgres "password=$postgres_password"
fi
for service in "${services[@]}"; do
  exists "$service-db-app" ||
    create "$service-db-app" "uri=postgresql://postgres:$postgres_password@postgres:5432/park_$service"
done

if ! exists park-redis; then
  redis_password=$(random)
  create park-redis "password=$redis_password" "url=redis://:$redis_password@redis:6379"
fi

exists park-jwt || create park-jwt "secret=$(random)"
