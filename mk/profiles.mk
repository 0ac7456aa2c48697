# Mocker performance profiles (localcluster.perfmodel): the physics model vs every measured point of calibration.md,
# then every timing source side by side (AIS the stack runs on, AIConfigurator, physics, the H200 band).

.PHONY: profile-fidelity
profile-fidelity: install ## Print each profile's predictions next to calibration.md, then AIS vs AIC vs physics vs band
	$(RUN) python -m localcluster.perfmodel.fidelity --profile h200-70b-fp8
	$(RUN) python -m localcluster.perfmodel.fidelity --profile h100-8b
	$(RUN) python -m demo_bench.fidelity_sources --profile h200-70b-fp8 --out build/profile-fidelity
	$(RUN) python -m demo_bench.fidelity_sources --profile h100-8b --out build/profile-fidelity
