#!/usr/bin/env bash
# Checks the Kubernetes manifests offline: yamllint over infra/k8s (when installed; .ci/run installs
# it), then every kustomization (base and overlays/*) rendered with `kubectl kustomize` and each
# object checked against the Kubernetes and KEDA schemas, unknown fields included
# (scripts/validate-k8s.ts). Extra arguments name other kustomization directories to check instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if command -v yamllint >/dev/null 2>&1; then
  yamllint --strict --config-file .yamllint infra/k8s && echo "yamllint: infra/k8s clean"
else
  echo "yamllint not installed: lint skipped (Debian: apt-get install yamllint)"
fi

if ! command -v kubectl >/dev/null 2>&1; then
  echo "kubectl not found: it renders the kustomizations (kubectl kustomize); install kubectl >= 1.27" >&2
  exit 1
fi
echo "$(kubectl version --client 2>/dev/null | head -n 2 | tr '\n' ' ')"
exec node --import tsx scripts/validate-k8s.ts "$@"
