#!/usr/bin/env bash
# npm run bicep: compile and lint every template in infra/ with the real Bicep compiler, writing compiled ARM JSON to
# .bicep/ (infra/main.bicep -> .bicep/main.json, infra/modules/app.bicep -> .bicep/modules/app.json).
# The compiler comes from NuGet (Azure.Bicep.CommandLine.linux-x64, pinned in tools/bicep/bicep.csproj), restored with
# `dotnet restore` on first use. Any warning fails: relax a rule in bicepconfig.json or on one line with
# `#disable-next-line <rule>` and a comment saying why. Users without this repo's tools: `az bicep build --file ...`.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/.*Azure.Bicep.CommandLine.linux-x64" Version="\[\([0-9.]*\)\]".*/\1/p' tools/bicep/bicep.csproj)
bicep="tools/bicep/.packages/azure.bicep.commandline.linux-x64/${version}/tools/bicep"

if [[ "${1:-}" == "--path" ]]; then
  echo "$bicep"
  exit 0
fi

if [[ ! -x "$bicep" ]]; then
  if ! command -v dotnet >/dev/null; then
    echo "bicep: the .NET SDK (dotnet) is needed to fetch the Bicep compiler from NuGet; install it, or use 'az bicep build'" >&2
    exit 1
  fi
  echo "bicep: restoring Azure.Bicep.CommandLine.linux-x64 ${version} (dotnet restore tools/bicep)" >&2
  dotnet restore tools/bicep --verbosity quiet >&2
  chmod +x "$bicep"
fi

# The compiler's telemetry and update checks have nowhere to go from CI.
export BICEP_TRACING_ENABLED=false DOTNET_CLI_TELEMETRY_OPTOUT=1
out=${BICEP_OUT:-.bicep}
rm -rf "$out"
diagnostics=$(mktemp)
trap 'rm -f "$diagnostics"' EXIT
# One process each for every template (the compiler starts slowly): build keeps infra/'s folder layout under .bicep/.
"$bicep" build --pattern 'infra/**/*.bicep' --outdir "$out" 2>>"$diagnostics"
"$bicep" lint --pattern 'infra/**/*.bicep' 2>>"$diagnostics"
count=$(find infra -name '*.bicep' | wc -l | tr -d ' ')
expected=$(find "$out" -name '*.json' | wc -l | tr -d ' ')
if [[ "$count" != "$expected" ]]; then
  echo "bicep: ${count} templates but ${expected} compiled" >&2
  exit 1
fi

# lint repeats what build reported; each finding once.
if grep -E ': (Warning|Error) ' "$diagnostics" | sort -u | grep .; then
  echo "bicep: $(grep -E ': (Warning|Error) ' "$diagnostics" | sort -u | wc -l | tr -d ' ') diagnostics (warnings count as errors: fix them or suppress with a reason)" >&2
  exit 1
fi
echo "bicep ${version}: ${count} templates compiled and linted with no warnings into ${out}/"
