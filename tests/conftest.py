import shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT/'samples'
GRID = ROOT.parent/'shared'/'data'/'grid'

def run_cli(*args, cwd=None, check=False):
    "Run the installed `lipsound2` command; returns the CompletedProcess (text output)."
    exe = shutil.which('lipsound2')
    cmd = [exe, *map(str, args)] if exe else [sys.executable, '-c', 'import sys; from lipsound2.cli import main; sys.exit(main())', *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd or ROOT, timeout=600)
    if check and r.returncode: raise AssertionError(f"{cmd} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r

@pytest.fixture
def grid():
    if not GRID.exists(): pytest.skip("../shared/data/grid is not beside this checkout (GRID tests need it)")
    return GRID
