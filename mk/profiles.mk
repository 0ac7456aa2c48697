# Mocker performance profiles (localcluster.perfmodel): the physics model vs every measured point of calibration.md.

.PHONY: profile-fidelity
profile-fidelity: install ## Print each profile's predictions next to the calibration.md figures
	$(RUN) python -m localcluster.perfmodel.fidelity --profile h200-70b-fp8
	$(RUN) python -m localcluster.perfmodel.fidelity --profile h100-8b
