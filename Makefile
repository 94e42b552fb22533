# Lift to 3D. `make test` and `make demo` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup test test-engine test-addon test-blender42 lint format bench demo addon addon-detect data train train-cross device-data clean

setup: $(STAMP)

# One pip command for the whole pinned stack (see constraints.txt); re-run only when the pins change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[all]"
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q

test-engine: setup
	$(PY) -m pytest -q tests/engine

test-addon: setup
	$(PY) -m pytest -q tests/addon

# The add-on's tests on Blender 4.2 LTS (the bpy 4.2.0 module) in a venv of its own, .venv42 (docs/ADDON.md):
# one pip command with the pins of constraints.txt but bpy's.
VENV42 := .venv42
PY42   := $(VENV42)/bin/python

$(VENV42)/.installed: pyproject.toml constraints.txt
	test -x $(PY42) || $(PYTHON) -m venv $(VENV42)
	grep -v '^bpy==' constraints.txt > $(VENV42)/constraints.txt
	$(PY42) -m pip install --quiet -c $(VENV42)/constraints.txt bpy==4.2.0 -e ".[torch,detect,test]"
	touch $@

test-blender42: $(VENV42)/.installed
	$(PY42) -m pytest -q tests/addon

# The main job on a bundled default input: a generated 2D walking clip -> demo_out/demo.blend + preview.png
demo: setup
	$(PY) blender_addon/demo.py --out demo_out

# The installable Blender extension, with lfm_engine and the weights vendored inside: dist/lift_to_3d-*.zip
addon: setup
	$(PY) build_addon.py --validate

# The zips to install: one per Blender platform with MediaPipe's wheels for Detect (downloaded once into
# build/wheels), and the small one without detection.
addon-detect: setup
	$(PY) build_addon.py --with-detection --validate

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Synthetic training data (Rigify metarigs posed at random, procedural hands), cached under training/cache.
data: setup
	$(PY) training/data/synthetic_rigify.py --out training/cache/synthetic --poses 20000 --seed 0
	$(PY) training/data/synthetic_hands.py --out training/cache/synthetic --poses 20000 --seed 0

# The shipped weights' recipe (docs/MODEL_CARD.md): about 2 hours on one CPU thread; resumable: run it again to
# continue. train-cross: the cross-dataset protocol's model (people only, no HDM05; about 1 hour).
train: data
	mkdir -p runs
	$(PY) training/train.py --out runs/lfm_v2 --threads 1
	$(PY) training/train.py --out runs/lfm_v2 --export lfm_engine/weights/lfm_v2.safetensors

train-cross: data
	mkdir -p runs
	$(PY) training/train.py --out runs/cross_no_hdm05 --hdm05 none --steps 4000 --config training/configs/cross.json --threads 1
	$(PY) training/train.py --out runs/cross_no_hdm05 --export runs/cross_no_hdm05.safetensors

# What the prepared GPU run needs, packed into device_data/ (training/device_run.sh; docs/MODEL_CARD.md)
device-data: data
	$(PY) training/prepare_device_data.py

clean:
	rm -rf $(VENV) $(VENV42) build dist device_data *.egg-info .pytest_cache .ruff_cache
