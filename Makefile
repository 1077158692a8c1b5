# The test command (README): the notebooks (nbdev_test), then tests/ (pytest), the fast tier: every component on small
# real inputs, at most 6 minutes on a 2-core CPU. `make test-slow` is the second tier: the cells flagged `#| slow` and the
# tests marked `slow` (long integration runs: whole-corpus cells, torchrun, Dask clusters, full CLI batches, timing).
.PHONY: test test-slow readme export bench docs-check outputs

# One thread per process: nbdev_test runs notebooks in parallel, pytest-xdist the tests (one worker per core), and
# oversubscribed cores slow torch down badly.
# Corpus-dependent cells and tests find the staged corpus through LIPSOUND2_DATA (they are skipped without it).
export LIPSOUND2_DATA ?= $(abspath ../shared/data)

test: export OMP_NUM_THREADS ?= 1
test: docs-check
	nbdev_test --do_print --timing
	python -m pytest -q -n auto --dist worksteal tests

# The docs build's first step (what the deploy workflow runs before quarto): it executes every cell that holds an
# import, so such a cell must hold imports only. Quarto cannot be installed here: a stand-in answers its version check.
docs-check:
	@stub=$$(mktemp -d); command -v quarto >/dev/null || { printf '#!/bin/sh\necho 1.5.57\n' > $$stub/quarto; chmod +x $$stub/quarto; }; \
	PATH=$$PATH:$$stub nbdev_proc_nbs && rm -rf $$stub

# The slow tier: the notebooks that hold `#| slow` cells, run with them; the tests marked slow. cuda cells need a GPU.
# Left out: the notebooks whose slow cells are the real runs that made shipped weights and result tables (they train
# again and overwrite them, hours of CPU): `make outputs FLAGS=slow NBS=...` runs those.
RUN_NBS = 06a_vocoders.hifigan|06b_vocoders.hifigan_training|07_vocoders.waveglow|08_asr.jasper|08e_asr.jasper_training
SLOW_NBS = $(shell grep -l '"\#| slow' nbs/*.ipynb | xargs -n1 basename | sed 's/\.ipynb$$//' | grep -vxE '$(RUN_NBS)' | paste -sd'|')
test-slow: export OMP_NUM_THREADS ?= 1
test-slow:
	nbdev_test --flags slow --do_print --timing --file_re '^($(SLOW_NBS))\.ipynb$$'
	python -m pytest -q -n auto --dist worksteal -m slow tests

export:
	nbdev_export && nbdev_clean

# README.md mirrors nbs/index.ipynb (quarto, which nbdev_readme needs, cannot be installed everywhere).
readme:
	python tests/test_readme.py > README.md

# The speed benchmark suite (bench/run.py): every row into results/bench.csv, shown by nbs/11_benchmarks.ipynb.
# BENCH_ARGS, e.g. --quick, --only cold stages, --tacotron2 PATH (a local copy of NVIDIA/tacotron2).
bench:
	python bench/run.py $(BENCH_ARGS)

# Committed outputs (the docs site's figures, tables and players), made by running the notebooks in place with nbdev's
# machinery; slow and cuda cells keep theirs. `make outputs NBS="nbs/01_v2s.encoder.ipynb nbs/09b_listening.ipynb"`;
# add FLAGS=slow to remake the outputs of slow cells too (their real runs).
outputs:
	python tools/execute_notebooks.py $(or $(NBS),$(wildcard nbs/*.ipynb)) $(if $(FLAGS),--flags "$(FLAGS)")
