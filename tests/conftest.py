import shutil, subprocess, sys
from pathlib import Path
import pytest
from lipsound2.core import data_root, weights_dir

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT/'samples'
GRID = data_root('grid', required=False)   # $LIPSOUND2_DATA/grid (the Makefile points it at the staged corpus)

def run_cli(*args, cwd=None, check=False):
    "Run the installed `lipsound2` command; returns the CompletedProcess (text output)."
    exe = shutil.which('lipsound2')
    cmd = [exe, *map(str, args)] if exe else [sys.executable, '-c', 'import sys; from lipsound2.cli import main; sys.exit(main())', *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd or ROOT, timeout=600)
    if check and r.returncode: raise AssertionError(f"{cmd} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r

@pytest.fixture
def grid():
    if GRID is None: pytest.skip("the GRID corpus is not staged (set LIPSOUND2_DATA): GRID tests need it")
    return GRID
