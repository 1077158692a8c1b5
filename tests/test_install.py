"The package works when installed from its wheel (not editable): the shipped checkpoints travel inside it."
import subprocess, sys, venv, zipfile
from pathlib import Path
import pytest
from conftest import ROOT, SAMPLES

@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp('wheel')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', out, ROOT], check=True,
                   capture_output=True, cwd=out)
    return next(out.glob('lipsound2-*.whl'))

def test_wheel_holds_the_weights(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {f'lipsound2/weights/{n}' for n in ('lipsound2_grid_s1.pt', 'jasper_small.pt', 'jasper_small_lipsound2.pt')} <= set(names)

@pytest.mark.slow  # a new environment and two new processes that load everything
def test_installed_wheel_speaks_from_any_folder(wheel, tmp_path):
    "A fresh virtual environment (dependencies from this one), the wheel installed without `-e`, run from another folder."
    env = tmp_path/'venv'
    venv.create(env, system_site_packages=True, with_pip=False)
    py = env/'bin'/'python'
    subprocess.run([sys.executable, '-m', 'pip', '--python', py, 'install', '--no-deps', '-q', wheel], check=True, capture_output=True)
    code = ("import lipsound2, sys; from lipsound2.inference import LipSound2Pipeline; "
            f"s = LipSound2Pipeline.from_pretrained()(r'{SAMPLES/'bbaf2n.mpg'}'); "
            "print(lipsound2.__file__, s.wav.shape[0])")
    r = subprocess.run([py, '-c', code], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    where, n = r.stdout.split()
    assert str(env) in where and str(ROOT) not in where and int(n) == 258 * 256
    r = subprocess.run([env/'bin'/'lipsound2', 'speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'x.wav'], capture_output=True,
                       text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0 and (tmp_path/'x.wav').stat().st_size > 100_000, r.stderr[-2000:]
