#!/usr/bin/env bash
# Renders the chart with its default values into rendered-example.yaml, the file the tests validate against the
# Kubernetes schema (tests/Ballast.Server.Tests/Deploy/HelmChartTests.cs). Needs helm 3 on the PATH; run it after
# changing the chart, and commit the result. (When helm is on the PATH the tests also render the chart themselves
# and compare.)
set -euo pipefail
cd "$(dirname "$0")"
command -v helm >/dev/null 2>&1 || { echo "helm is not installed (https://helm.sh/docs/intro/install/)" >&2; exit 1; }
helm lint ballast
helm template ballast ballast --namespace ballast > rendered-example.yaml
echo "wrote $(pwd)/rendered-example.yaml" >&2
