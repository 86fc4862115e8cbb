"""Checks the JSON summaries of a smoke run of loadgen/bench.sh (scripts/test.sh): the bookings
were made without errors and every figure the README's table quotes was measured."""

import json
import sys

runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
mains = [r["main"] for r in runs if "main" in r]
priors = [r["prior_comparison"] for r in runs if "prior_comparison" in r]
assert mains and priors, f"expected a main run and a prior comparison, got {runs}"
for main in mains:
    assert main["confirmed"] > 0 and main["errors"] == 0, main
    for figure in ("server_vm_hwm_kib", "server_cpu_us_per_booking", "loadgen_cpu_us_per_booking"):
        assert (main.get(figure) or 0) > 0, f"{figure} missing: {main}"
    assert main["latency"]["p99_ms"] > 0, main
for prior in priors:
    assert prior["seeded"]["errors"] == 0 and prior["seeded"]["confirmed"] > 0, prior
    assert prior["ratio_p99"] > 0, prior
print(f"bench smoke run: {len(mains)} run(s) and {len(priors)} comparison(s) measured")
