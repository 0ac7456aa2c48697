# Observability: dashboards as code, recording rules, every query proven live.

OBS_PNG ?= docs/images/audience-dashboard.png

.PHONY: dashboards dashboards-check test-observability dashboard-png

dashboards: install ## Regenerate the Grafana dashboards JSON and the recording rules from observability/src
	$(RUN) python -m demo_observability.generate

dashboards-check: install ## Fail if the generated dashboards/rules differ from their Python source
	$(RUN) python -m demo_observability.generate --check

test-observability: install system-deps ## Observability tests: freshness, promtool, live queries on the local stack, KV hit rate proof
	$(RUN) pytest -q -ra tests/observability $(PYTEST_ARGS)

dashboard-png: install system-deps ## Draw the audience dashboard from a live local run into $(OBS_PNG) (for the README)
	OBS_PNG=$(abspath $(OBS_PNG)) $(RUN) pytest -q -ra tests/observability/test_live_queries.py $(PYTEST_ARGS)
