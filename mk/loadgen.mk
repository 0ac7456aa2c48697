# Load generator targets (owner: loadgen). Settings come from LOADGEN_* env vars (see README).

.PHONY: loadgen-serve
loadgen-serve: install ## Serve the load generator on :3000 against LOADGEN_ENDPOINT_URL (model LOADGEN_MODEL)
	$(RUN) loadgen serve

.PHONY: test-loadgen
test-loadgen: install ## Load-generator tests only (unit, then integration against a local stack)
	$(RUN) pytest -q -ra apps/load-generator/tests $(PYTEST_ARGS)
