# Reliability and security targets. Included by the root Makefile.

.PHONY: secrets-baseline
secrets-baseline: install ## Rewrite .secrets.baseline (then audit each new entry: "is_secret": false)
	$(RUN) detect-secrets scan --no-verify --exclude-files '(^|/)(uv\.lock|package-lock\.json|\.secrets\.baseline)$$' \
	  --baseline .secrets.baseline

SOAK_SPEED ?= 30
SOAK_FRACTION ?= 1
SOAK_OUT ?= build/soak

.PHONY: soak
soak: install system-deps ## 8 booth hours in auto mode against the local stack at SOAK_SPEED (report in build/soak)
	$(RUN) python -m demo_bench.soak --speed $(SOAK_SPEED) --hours-fraction $(SOAK_FRACTION) --out $(SOAK_OUT)
