# Reliability and security targets (owner: issue 14). Included by the root Makefile.

.PHONY: secrets-baseline
secrets-baseline: install ## Rewrite .secrets.baseline (then audit each new entry: "is_secret": false)
	$(RUN) detect-secrets scan --no-verify --exclude-files '(^|/)(uv\.lock|package-lock\.json|\.secrets\.baseline)$$' \
	  --baseline .secrets.baseline
