"""Grafana dashboards as code and the Prometheus recording rules of the booth demo.

One source for every PromQL expression the demo shows or scales on: the recording rules
(`rules.py`, shared by the dashboards, the KEDA ScaledObjects and the UI's audience view) and
the dashboards built on them (`audience.py`, `operator.py`). `generate.py` writes the JSON and
YAML that ship; `catalogue.py` lists every expression for the tests that prove them.
"""
