#!/usr/bin/env bash
# `npm run reliability`: the reliability suites at full length, as docs/reliability.md
# reports them. Every knob may be set from the environment; the defaults below are the
# full run's (the suites' own defaults are the short versions that `npm test` runs).
# Figures go to test-output/reliability/<suite>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_ITERATIONS="${FUZZ_ITERATIONS:-50000}"
# A new seed each full run explores new inputs; the seed is in the figures, to replay a failure.
export FUZZ_SEED="${FUZZ_SEED:-$(date +%s)}"
export CYCLES="${CYCLES:-1000}"
export SOAK_SECONDS="${SOAK_SECONDS:-600}"
export SOAK_VOICE="${SOAK_VOICE:-slt-emo}"
export DRAIN_RUNS="${DRAIN_RUNS:-20}"
export HOSTILE_VOICE="${HOSTILE_VOICE:-slt-emo}"
export RELIABILITY_REPORT=test-output/reliability
echo "reliability: FUZZ_ITERATIONS=$FUZZ_ITERATIONS FUZZ_SEED=$FUZZ_SEED CYCLES=$CYCLES SOAK_SECONDS=$SOAK_SECONDS SOAK_VOICE=$SOAK_VOICE DRAIN_RUNS=$DRAIN_RUNS HOSTILE_VOICE=$HOSTILE_VOICE"
rm -rf "$RELIABILITY_REPORT"
npx vitest run test/reliability- "$@"
