# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-slow bench bench-compare fuzz lint templates findings-doc clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/thidua demo

# -n 2: the suite on both cores of the office PC (pytest-xdist): 1 min 45 s instead of 3 min 20 s.
test: $(STAMP)
	$(BIN)/ruff check processor tests benchmarks
	$(BIN)/python -m pytest -q -n 2

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP)
	$(BIN)/python benchmarks/run_bench.py

# The bench of another commit beside this checkout's, alternated (the host's speed varies by the hour):
# `make bench-compare REF=<commit>`, about 6 minutes a round.
bench-compare: $(STAMP)
	$(BIN)/python benchmarks/compare_commits.py $(REF) --rounds $${ROUNDS:-2}

# Mutants of real received files through ingest and `thidua check`, and mutants of names, senders and
# dates through `thidua run` in five workspaces (about 2 minutes; each failing run adds about a minute,
# spent narrowing it down to its mutants); problems are listed.
fuzz: $(STAMP)
	$(BIN)/python benchmarks/fuzz_inputs.py --count 3000 --seed $${SEED:-1} --cli 150 --run 300

# Regenerate the committed master form (a test fails when it is stale) and the Word templates.
templates: $(STAMP)
	$(BIN)/thidua template --master --out input_templates
	$(BIN)/thidua template --master --out processor/data/templates
	$(BIN)/python -m processor.devtools.word_templates input_templates
	$(BIN)/python -m processor.devtools.word_templates processor/data/templates

# docs/findings.md from the findings catalogue, processor/findings.py (a test fails when it is stale).
findings-doc: $(STAMP)
	$(BIN)/python -m processor.devtools.findings_doc docs/findings.md

clean:
	rm -rf output/demo build *.egg-info
