"Speed work that must not change results: batched inference equals one clip at a time; commands import only what they need."
import subprocess, sys
import pytest, torch
from conftest import SAMPLES, ROOT

@pytest.fixture(scope='module')
def pipe():
    from lipsound2.inference import LipSound2Pipeline
    from lipsound2.v2s.model import load_checkpoint
    from lipsound2.vocoders.base import get_vocoder
    torch.set_num_threads(1)
    return LipSound2Pipeline(load_checkpoint('lipsound2_grid_s1.pt'), get_vocoder('griffinlim', n_iter=8), batch_size=8)

@pytest.fixture(scope='module')
def crops(pipe):
    return [pipe.preprocess(p) for p in sorted(SAMPLES.glob('*.mpg'))]

def _check(batched, alone):
    for b, a in zip(batched, alone):
        torch.testing.assert_close(b.mel, a.mel, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(b.wav, a.wav, atol=1e-3, rtol=1e-3)
        if a.alignment is not None: torch.testing.assert_close(b.alignment, a.alignment, atol=1e-4, rtol=1e-4)

def test_batch_equals_one_at_a_time(pipe, crops):
    "The 3 samples and one cut to 60 frames (another length: its own batch) give each clip's speech alone, prenet dropout included."
    clips = [crops[0], crops[1][:60], crops[2], crops[1]]
    alone = [pipe.speak([c])[0] for c in clips]
    _check(pipe.speak(clips), alone)
    torch.testing.assert_close(pipe.speak([clips[0]])[0].wav, alone[0].wav, atol=0, rtol=0)   # deterministic

def test_pipeline_batch_folder(pipe, crops):
    "`batch` over the samples folder: in order, same speech as one at a time, a bad file reported and the rest done."
    paths = sorted(SAMPLES.glob('*.mpg'))
    got = list(pipe.batch([paths[0], SAMPLES/'nothing.mp4', *paths[1:]]))
    assert [p.name for p, _ in got] == [paths[0].name, 'nothing.mp4', *[p.name for p in paths[1:]]]
    from lipsound2.core import LipSound2Error
    assert isinstance(got[1][1], LipSound2Error) and 'nothing.mp4' in str(got[1][1])
    _check([s for _, s in got if not isinstance(s, Exception)], [pipe.speak([c])[0] for c in crops])

def test_nar_batch(crops):
    from lipsound2.inference import LipSound2Pipeline
    from lipsound2.v2s.model import load_checkpoint
    from lipsound2.vocoders.base import get_vocoder
    p = LipSound2Pipeline(load_checkpoint('nar_grid_s1.pt'), get_vocoder('griffinlim', n_iter=4))
    clips = [crops[0], crops[1][:60], crops[2]]
    _check(p.speak(clips), [p.speak([c])[0] for c in clips])

def _fresh(code:str) -> str:
    "What `code` prints in a fresh interpreter (it must exit 0)."
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout

def test_light_imports():
    "Cold start: the CLI and the inference pipeline import neither the training stack nor metrics nor plotting."
    out = _fresh("import sys, lipsound2.cli, lipsound2.inference, lipsound2.vocoders.hifigan; lipsound2.cli.get_parser(); "
                 "print(' '.join(m for m in ('fastai', 'pystoi', 'pesq', 'jiwer', 'matplotlib', 'pandas', 'lipsound2.data.core') if m in sys.modules))")
    assert out.strip() == '', f"imported at start-up: {out}"

def test_speak_parses_and_reads_crop_settings_without_torch():
    "Cold start: `speak` and `recognize` parse their options and read the checkpoint's crop settings before torch is imported, so that their crops worker (forked then) never loads torch."
    out = _fresh("import sys; from lipsound2.cli import get_parser; from lipsound2.cli.speech_commands import _crops_process; from lipsound2.config import DEFAULT_AVSR; v = ['samples/bbaf2n.mpg']\n"
                 "for args, ckpt in ((['speak', 'x.mpg', '-o', 'y'], None), (['recognize', 'x.mpg'], DEFAULT_AVSR)):\n"
                 "    cp = _crops_process(get_parser().parse_args(args), v, ckpt); print(cp.cfg.crop_size, cp.cfg.region, cp.cfg.landmark_every); cp.close()\n"
                 "print(_crops_process(get_parser().parse_args(['speak', 'x.mpg', '-o', 'y']), []), 'torch' in sys.modules)")
    assert out.strip().split('\n') == ['48 mouth 2', '48 mouth 1', 'None False'], out   # recognize: Face Mesh on every frame, as the recogniser was trained
