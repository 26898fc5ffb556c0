# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install -q --disable-pip-version-check -c constraints.txt

.PHONY: demo test lint readme bench bench-repair bench-throughput bench-minhash bench-clough bench-near-scale bench-retold bench-audit bench-premise bench-recut bench-groups bench-scale bench-scaleout bench-soak clean

$(BIN)/retold: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	@touch $@

$(VENV)/.dev: $(BIN)/retold
	$(PIP) -e '.[dev]'
	@touch $@

demo: $(BIN)/retold
	$(BIN)/retold demo --out retold-demo

test: $(VENV)/.dev
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# the README's option reference, from --help (tests/test_docs.py checks it)
readme: $(VENV)/.dev
	$(BIN)/python tests/test_docs.py

bench-repair: $(BIN)/retold
	$(BIN)/python benchmarks/bench_repair.py

bench-throughput: $(BIN)/retold
	$(BIN)/python benchmarks/bench_throughput.py

$(VENV)/.bench: $(BIN)/retold
	$(PIP) -e '.[bench,ray]'
	@touch $@

bench-minhash: $(VENV)/.bench
	$(BIN)/python benchmarks/bench_minhash.py

bench-clough: $(BIN)/retold
	$(BIN)/python benchmarks/bench_clough.py

# 100k and 1M documents: about 10 minutes on 2 cores
bench-near-scale: $(BIN)/retold
	$(BIN)/python benchmarks/bench_near_scale.py --sizes 100000 1000000

bench-retold: $(VENV)/.bench
	$(BIN)/python benchmarks/bench_retold.py

# 10k, 100k and 1M documents end to end, datatrove beside at 100k: about 20 minutes on 2 cores
bench-premise: $(BIN)/retold
	$(BIN)/python benchmarks/bench_premise.py --size 100000

# recut beside a fresh scan (slop-score stories, then 100k bench_scale documents): about 40 minutes
bench-recut: $(BIN)/retold
	cd benchmarks && ../$(BIN)/python bench_recut.py --slop && ../$(BIN)/python bench_recut.py --size 100000

# --group-by on slop-score (against its published ranking), HANNA, and 100k documents
bench-groups: $(BIN)/retold
	$(BIN)/python benchmarks/bench_groups.py --size 100000

bench-scale: $(VENV)/.bench
	$(BIN)/python benchmarks/bench_scale.py --sizes 10000 100000 1000000 --datatrove

# local vs Ray engine on the 100k corpus, and incremental vs full rescan: about 6 minutes
bench-scaleout: $(VENV)/.bench
	$(BIN)/python benchmarks/bench_scaleout.py --size 100000 --runs 3

# 50 scans stopped by kill -9, SIGTERM, SIGINT, a full disk (root) or a second starter, each rerun and
# compared with a clean run: about 25 minutes on 2 cores
bench-soak: $(BIN)/retold
	$(BIN)/python benchmarks/soak_accidents.py --rounds 50 --documents 20000

bench-audit: $(VENV)/.bench
	$(BIN)/python benchmarks/bench_audit.py

bench: bench-repair bench-throughput bench-minhash bench-clough bench-retold bench-audit

clean:
	rm -rf $(VENV) retold-demo .pytest_cache .ruff_cache
