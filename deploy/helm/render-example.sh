#!/usr/bin/env bash
# Renders the chart with its default values into rendered-example.yaml, the file the tests validate against the
# Kubernetes schema and compare with helm's own rendering (tests/Ballast.Server.Tests/Deploy/HelmChartTests.cs). Needs
# helm 3: on the PATH, or BALLAST_TEST_HELM as scripts/services.sh's install_helm sets it. Run it after changing the
# chart, and commit the result.
set -euo pipefail
cd "$(dirname "$0")"
helm=${BALLAST_TEST_HELM:-$(command -v helm || true)}
[ -n "$helm" ] || { echo "helm is not installed: source scripts/services.sh and run install_helm, or see https://helm.sh/docs/intro/install/" >&2; exit 1; }
"$helm" lint ballast
{
  echo "# What \`helm template ballast deploy/helm/ballast --namespace ballast\` renders with the default values"
  echo "# ($("$helm" version --short)). Regenerate with deploy/helm/render-example.sh; the tests compare it with helm's rendering."
  "$helm" template ballast ballast --namespace ballast
} > rendered-example.yaml
echo "wrote $(pwd)/rendered-example.yaml" >&2
