#!/usr/bin/env bash
# edgewarden end to end on a kind cluster, for machines with Docker: a two-node kind cluster,
# the image built from this checkout and loaded into it, the Helm chart installed with that
# image, a PostgreSQL collector with TLS in the cluster, and then, as a user would with kubectl:
# the examples applied and reconciled; an AnalysisAgent (two pods) and its ModelDeployment
# becoming Ready; an injected DNS-tunnelling attack found and shown in the status, in /metrics
# and in /anomalies; the operator and the agent pods killed, with nothing lost or counted twice;
# an ExportJob of logs and anomalies succeeding; the chart uninstalled, CRDs and agents kept.
# What it does not cover, and why: README.md beside this file.
#
#   test/e2e/kind/run.sh                 # from any folder
#
# Environment: CLUSTER_NAME (default edgewarden-e2e), KEEP_CLUSTER=1 (keep it after a pass; it
# is always kept after a failure), SKIP_BUILD=1 (load an existing edgewarden:e2e image),
# KIND_NODE_IMAGE (kind's --image), LOCAL_PORT (port-forwards, default 18080).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
HERE=$ROOT/test/e2e/kind
CLUSTER=${CLUSTER_NAME:-edgewarden-e2e}
IMAGE_REPOSITORY=edgewarden
IMAGE_TAG=e2e
IMAGE=$IMAGE_REPOSITORY:$IMAGE_TAG
POSTGRES_IMAGE=postgres:16
LOCAL_PORT=${LOCAL_PORT:-18080}
RELEASE_NS=edgewarden-system
NS=home
DB_NS=e2e-db
DB_HOST=postgres.$DB_NS.svc.cluster.local
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edgewarden-kind.XXXXXX")
# A kubeconfig of its own: the user's ~/.kube/config is neither read nor changed.
export KUBECONFIG=$WORK/kubeconfig
CREATED=0
PF_PID=

log() { printf '\n== %s\n' "$*"; }
fail() {
  printf '\nFAILED: %s\n' "$*" >&2
  exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is not on the PATH: $2"; }

# wait_for WHAT SECONDS COMMAND...: runs COMMAND every 5 s until it succeeds (its output is
# dropped; the checks below keep their errors quiet themselves).
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null; do
    ((SECONDS < deadline)) || fail "timed out after ${seconds}s waiting for $what"
    sleep 5
  done
}

# field NAMESPACE RESOURCE JSONPATH: one field of one object ('' when absent).
field() { kubectl -n "$1" get "$2" -o "jsonpath=$3" 2>/dev/null || true; }
field_is() { [[ $(field "$1" "$2" "$3") == "$4" ]]; }
anomalies_at_least() {
  local n
  n=$(field "$NS" analysisagent/dns '{.status.anomalies.total}')
  [[ ${n:-0} -ge $1 ]]
}
anomalies_exactly() { [[ $(field "$NS" analysisagent/dns '{.status.anomalies.total}') == "$1" ]]; }
has_phase() { [[ -n $(field "$1" "exportjob/$2" '{.status.phase}') ]]; }
# cycled_since TIME: an agent pod reported a cycle that ended after TIME (RFC 3339, UTC).
cycled_since() { [[ $(field "$NS" analysisagent/dns '{.status.lastCycleTime}') > "$1" ]]; }
# pods_ready NAMESPACE SELECTOR COUNT [EXCEPT]: COUNT pods ready, none of them named EXCEPT.
pods_ready() {
  local ready
  ready=$(kubectl -n "$1" get pods -l "$2" -o \
    'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
    2>/dev/null | grep -v "^${4:-//} " | grep -c ' True$' || true)
  [[ $ready -ge $3 ]]
}
export_finished() {
  local phase
  phase=$(field "$NS" exportjob/smoke '{.status.phase}')
  [[ $phase == Failed ]] && fail "ExportJob smoke failed: $(field "$NS" exportjob/smoke \
    '{.status.conditions[?(@.type=="Failed")].reason}: {.status.conditions[?(@.type=="Failed")].message}')"
  [[ $phase == Succeeded ]]
}
# psql as the superuser, over the pod's local socket.
db() {
  kubectl -n "$DB_NS" exec deploy/postgres -c postgres -- \
    psql -v ON_ERROR_STOP=1 -U postgres -d syslog -qtAc "$1"
}
stop_port_forward() {
  if [[ -n $PF_PID ]]; then
    kill "$PF_PID" 2>/dev/null || true
    wait "$PF_PID" 2>/dev/null || true
    PF_PID=
  fi
}

diagnose() {
  log 'diagnostics'
  kubectl get nodes -o wide || true
  kubectl get edgewarden -A -o wide || true
  kubectl get pods,pvc -A -o wide || true
  kubectl -n "$NS" describe analysisagent dns || true
  kubectl -n "$NS" describe modeldeployment dns-model || true
  kubectl -n "$NS" describe exportjob smoke || true
  kubectl -n "$RELEASE_NS" logs deploy/edgewarden --tail=100 || true
  kubectl -n "$NS" logs dns-agent-0 --tail=50 || true
  kubectl -n "$DB_NS" logs deploy/postgres --tail=50 || true
}

finish() {
  local status=$?
  stop_port_forward
  if ((status != 0)); then
    if ((CREATED)); then
      diagnose
      printf '\nThe cluster is kept for a look:\n  export KUBECONFIG=%s\n' "$KUBECONFIG"
      printf 'Remove it with: kind delete cluster --name %s\n' "$CLUSTER"
    fi
  elif [[ ${KEEP_CLUSTER:-0} == 1 ]]; then
    printf '\nPASSED. The cluster is kept:\n  export KUBECONFIG=%s\n' "$KUBECONFIG"
  else
    kind delete cluster --name "$CLUSTER" --kubeconfig "$KUBECONFIG"
    rm -rf "$WORK"
    printf '\nPASSED\n'
  fi
  exit "$status"
}
trap finish EXIT

need docker 'https://docs.docker.com/engine/install/'
need kind 'https://kind.sigs.k8s.io/docs/user/quick-start/#installation'
need kubectl 'https://kubernetes.io/docs/tasks/tools/'
need helm 'https://helm.sh/docs/intro/install/ (Helm 3)'
need openssl 'the openssl package'
need curl 'the curl package'
docker info >/dev/null 2>&1 || fail 'docker cannot reach a Docker daemon'
if kind get clusters 2>/dev/null | grep -x "$CLUSTER" >/dev/null; then
  fail "a kind cluster named $CLUSTER exists: delete it (kind delete cluster --name $CLUSTER) or set CLUSTER_NAME"
fi

log "kind cluster $CLUSTER (kubeconfig $KUBECONFIG)"
CREATED=1
kind create cluster --name "$CLUSTER" --config "$HERE/kind-config.yaml" \
  --kubeconfig "$KUBECONFIG" --wait 5m ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"}
kubectl get nodes -o wide

log "image $IMAGE"
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  (cd "$ROOT" && docker build -t "$IMAGE" .)
fi
kind load docker-image "$IMAGE" --name "$CLUSTER"
# Pulled once here rather than by every node (Docker Hub's rate limit, and your credentials).
docker image inspect "$POSTGRES_IMAGE" >/dev/null 2>&1 || docker pull "$POSTGRES_IMAGE"
kind load docker-image "$POSTGRES_IMAGE" --name "$CLUSTER"

log 'the chart'
kubectl create namespace "$RELEASE_NS"
kubectl label namespace "$RELEASE_NS" pod-security.kubernetes.io/enforce=restricted
# pollInterval 10s: the status follows the agents faster than the default 30s, for the test.
helm install edgewarden "$ROOT/charts/edgewarden" -n "$RELEASE_NS" \
  --set image.repository="$IMAGE_REPOSITORY" --set image.tag="$IMAGE_TAG" \
  --set image.pullPolicy=Never --set operator.pollInterval=10s --wait --timeout 5m
kubectl -n "$RELEASE_NS" get deploy,pods -o wide
kubectl get crd analysisagents.edgewarden.io modeldeployments.edgewarden.io exportjobs.edgewarden.io

log "PostgreSQL with TLS for $DB_HOST"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=edgewarden-e2e-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=$DB_HOST" \
  -keyout "$WORK/server.key" -out "$WORK/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:postgres.%s.svc\nextendedKeyUsage=serverAuth\n' \
  "$DB_HOST" "$DB_NS" >"$WORK/server.ext"
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" \
  -CAcreateserial -days 2 -extfile "$WORK/server.ext" -out "$WORK/server.crt" 2>/dev/null
SUPERUSER_PASSWORD=$(openssl rand -hex 16)
READER_PASSWORD=$(openssl rand -hex 16)
kubectl create namespace "$DB_NS"
kubectl -n "$DB_NS" create secret generic postgres-superuser \
  --from-literal=password="$SUPERUSER_PASSWORD"
kubectl -n "$DB_NS" create secret tls postgres-tls \
  --cert="$WORK/server.crt" --key="$WORK/server.key"
kubectl -n "$DB_NS" create configmap collector-sql \
  --from-file=10-log_entries.sql="$ROOT/k3s/collector/log_entries.sql" \
  --from-literal=20-password.sql="ALTER ROLE edgewarden_ro PASSWORD '$READER_PASSWORD';"
kubectl apply -f "$HERE/postgres.yaml"
kubectl -n "$DB_NS" rollout status deploy/postgres --timeout=5m
db 'SELECT count(*) FROM log_entries' >/dev/null

log 'the examples, unchanged, in the namespace examples (no Secrets: the operator must say so)'
kubectl create namespace examples
kubectl label namespace examples pod-security.kubernetes.io/enforce=restricted
kubectl -n examples apply -f "$ROOT/manifests/examples/"
wait_for 'the example AnalysisAgent to report SecretMissing' 120 \
  field_is examples analysisagent/dns '{.status.conditions[?(@.type=="Ready")].reason}' SecretMissing
wait_for 'the example ModelDeployment to have a status' 120 \
  field_is examples modeldeployment/dns-model '{.status.targetVersion}' 2026.11.1
wait_for 'the example ExportJob to have a phase' 120 has_phase examples weekly-review
kubectl -n examples get edgewarden -o wide
# The ExportJob carries the files finalizer (it has a TTL): the operator must release it.
kubectl delete namespace examples --timeout=3m

log "an AnalysisAgent against the collector, in the namespace $NS"
kubectl create namespace "$NS"
kubectl label namespace "$NS" pod-security.kubernetes.io/enforce=restricted
kubectl -n "$NS" create secret generic router-logs-db \
  --from-literal=url="postgresql://edgewarden_ro:$READER_PASSWORD@$DB_HOST:5432/syslog"
kubectl -n "$NS" create secret generic router-logs-db-ca --from-file=ca.crt="$WORK/ca.crt"
kubectl -n "$NS" create configmap dns-baseline-1 --from-file=model.onnx="$ROOT/models/dns/model.onnx"
kubectl -n "$NS" apply -f "$HERE/agents.yaml"
kubectl -n "$NS" wait --for=condition=Ready analysisagent/dns --timeout=8m
kubectl -n "$NS" wait --for=condition=Ready modeldeployment/dns-model --timeout=5m
field_is "$NS" analysisagent/dns '{.status.conditions[?(@.type=="SourceReachable")].status}' True ||
  fail 'SourceReachable is not True'
field_is "$NS" analysisagent/dns '{.status.modelVersion}' dns-baseline-1 ||
  fail "status.modelVersion is not dns-baseline-1"
kubectl -n "$NS" get analysisagents,modeldeployments -o wide
kubectl -n "$NS" get pods,pvc -o wide

log 'the operator killed: a new one takes over'
OPERATOR=app.kubernetes.io/name=edgewarden,app.kubernetes.io/component=operator
OLD=$(kubectl -n "$RELEASE_NS" get pods -l "$OPERATOR" -o 'jsonpath={.items[0].metadata.name}')
kubectl -n "$RELEASE_NS" delete pod "$OLD" --wait=false
wait_for 'a new operator pod to be ready' 180 pods_ready "$RELEASE_NS" "$OPERATOR" 1 "$OLD"

log 'an attack: 40 DNS-tunnelling queries from the router gw-e2e'
# Inserted after the agents are Ready: a new agent starts at the end of the table.
db "INSERT INTO log_entries (device_id, \"timestamp\", log_level, process_name, message)
    SELECT 'gw-e2e', now(), 'info', 'dnsmasq',
           'query[TXT] ' || md5(i::text) || left(md5((i + 1000)::text), 16)
           || '.t.exfil-example.net from 192.168.1.23'
    FROM generate_series(1, 40) AS i"
wait_for 'the anomaly in the AnalysisAgent status' 300 anomalies_at_least 1
FOUND=$(field "$NS" analysisagent/dns '{.status.anomalies.total}')
kubectl -n "$NS" get analysisagent dns -o wide

log 'the anomaly in /metrics and /anomalies of the agent pod that read gw-e2e'
SEEN=0
for pod in $(kubectl -n "$NS" get pods \
  -l app.kubernetes.io/instance=dns,app.kubernetes.io/component=agent -o name); do
  kubectl -n "$NS" port-forward "$pod" "$LOCAL_PORT:8080" >/dev/null 2>&1 &
  PF_PID=$!
  wait_for "a port-forward to $pod" 60 curl -sf "http://127.0.0.1:$LOCAL_PORT/healthz"
  if curl -sf "http://127.0.0.1:$LOCAL_PORT/metrics" |
    grep '^edgewarden_anomalies_total{.*type="dns_tunnelling"' &&
    curl -sf "http://127.0.0.1:$LOCAL_PORT/anomalies?minSeverity=4" | grep -o '"description":"[^"]*tunnelling[^"]*"'; then
    SEEN=1
    echo "  (from $pod)"
  fi
  stop_port_forward
done
((SEEN)) || fail 'no agent pod shows the dns_tunnelling anomaly in /metrics and /anomalies'

log "the agent pods killed: they come back with their stores, nothing counted twice (total $FOUND)"
AGENTS=app.kubernetes.io/instance=dns,app.kubernetes.io/component=agent
KILLED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
kubectl -n "$NS" delete pod -l "$AGENTS"
# Ready pods have their model again: the operator delivered it to the new pods.
wait_for 'both agent pods to be ready again' 300 pods_ready "$NS" "$AGENTS" 2
wait_for 'a cycle of the new pods in the status' 180 cycled_since "$KILLED_AT"
wait_for "the status to show $FOUND anomalies again" 120 anomalies_exactly "$FOUND"

log 'an ExportJob of the last hour of logs and anomalies'
kubectl -n "$NS" apply -f "$HERE/exports-claim.yaml" -f "$HERE/exportjob.yaml"
wait_for 'the ExportJob to succeed' 300 export_finished
kubectl -n "$NS" get exportjob smoke -o wide
DONE=$(field "$NS" exportjob/smoke '{.status.progress.recordsDone}')
# 40 log lines and at least one anomaly.
[[ ${DONE:-0} -ge 41 ]] || fail "the export wrote ${DONE:-0} records, expected at least 41"
field "$NS" exportjob/smoke '{range .status.files[*]}  {.name} {.records} records{"\n"}{end}'

log 'helm uninstall: the operator goes, the CRDs and the agents stay'
helm uninstall edgewarden -n "$RELEASE_NS" --wait
kubectl get crd analysisagents.edgewarden.io modeldeployments.edgewarden.io exportjobs.edgewarden.io
kubectl -n "$NS" get analysisagent dns
kubectl -n "$NS" get statefulset dns-agent
if kubectl -n "$RELEASE_NS" get deploy edgewarden >/dev/null 2>&1; then
  fail 'the operator Deployment is still there after helm uninstall'
fi
