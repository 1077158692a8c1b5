"`lipsound2 speak` and `lipsound2 evaluate` end to end on real GRID clips, and their bad input."
import pickle
from pathlib import Path
import numpy as np, soundfile as sf, torch
import pytest
from conftest import run_cli, SAMPLES, ROOT
from lipsound2.core import weights_dir

@pytest.fixture(scope='module')
def tiny_ckpt(tmp_path_factory):
    "A random-weight tiny LipSound2 checkpoint (fast on CPU): the CLI's plumbing, not its quality."
    from lipsound2.v2s.model import LipSound2, save_model
    from lipsound2.config import LipSound2Config, PrepConfig
    torch.manual_seed(0)
    m = LipSound2(LipSound2Config.tiny())
    return save_model(m, tmp_path_factory.mktemp('ckpt')/'tiny.pt', prep=PrepConfig())

def test_speak_one_video(tmp_path, tiny_ckpt):
    out = tmp_path/'out'/'bbaf2n.wav'
    r = run_cli('speak', SAMPLES/'bbaf2n.mpg', '-o', out, '--checkpoint', tiny_ckpt, '--plot', check=True)
    wav, sr = sf.read(out)
    assert sr == 22050
    assert abs(len(wav)/sr - 75/25) <= 256/sr, len(wav)  # the video's duration within one hop
    assert out.with_suffix('.png').exists()

def test_speak_folder(tmp_path, tiny_ckpt):
    run_cli('speak', SAMPLES, '-o', tmp_path/'wavs', '--checkpoint', tiny_ckpt, check=True)
    assert sorted(p.name for p in (tmp_path/'wavs').glob('*.wav')) == ['bbaf2n.wav', 'bgbb3a.wav', 'brbm6n.wav']

def test_speak_equals_pipeline(tmp_path):
    "The shipped model: the installed `lipsound2 speak`, in a new process (its crops worker forked before torch), writes exactly the speech of `LipSound2Pipeline.from_pretrained()` (same seed)."
    from lipsound2.inference import LipSound2Pipeline
    run_cli('speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'cli.wav', check=True, fresh=True)
    LipSound2Pipeline.from_pretrained()(SAMPLES/'bbaf2n.mpg').save(tmp_path/'py.wav')
    assert (tmp_path/'cli.wav').read_bytes() == (tmp_path/'py.wav').read_bytes()

def test_speak_bad_checkpoints(tmp_path, tiny_ckpt):
    notckpt = tmp_path/'notes.pt'; notckpt.write_text('hello')
    r = run_cli('speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'a.wav', '--checkpoint', notckpt)
    assert r.returncode != 0 and 'is not a lipsound2 checkpoint' in r.stderr, r.stderr
    class Evil:
        def __reduce__(self): return (print, ('pwned',))
    evil = tmp_path/'evil.pt'; torch.save({'format': 'lipsound2', 'x': Evil()}, evil)
    r = run_cli('speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'a.wav', '--checkpoint', evil)
    assert r.returncode != 0 and 'refused' in r.stderr and 'pwned' not in r.stdout, (r.stdout, r.stderr)
    assert not (tmp_path/'a.wav').exists()

def test_speak_unwritable_output_before_work(tmp_path, tiny_ckpt):
    blocker = tmp_path/'file'; blocker.write_text('x')
    r = run_cli('speak', SAMPLES/'bbaf2n.mpg', '-o', blocker/'sub'/'a.wav', '--checkpoint', tiny_ckpt)
    assert r.returncode != 0 and 'cannot write to output folder' in r.stderr, r.stderr

def test_speak_no_face(tmp_path, tiny_ckpt):
    from lipsound2.media.video import read_video, write_video
    frames = read_video(SAMPLES/'bbaf2n.mpg')[:25]; frames[:] = 90
    write_video(tmp_path/'grey.mp4', frames)
    r = run_cli('speak', tmp_path/'grey.mp4', '-o', tmp_path/'grey.wav', '--checkpoint', tiny_ckpt)
    assert r.returncode != 0 and 'no face found in frames 0-24' in r.stderr, r.stderr

def test_evaluate_corpus_folder(tmp_path, tiny_ckpt):
    out = tmp_path/'metrics.csv'
    jasper = weights_dir()/'jasper_small.pt'  # the recogniser trained on recordings
    r = run_cli('evaluate', SAMPLES, '--split', '', '--limit', '1', '--checkpoint', tiny_ckpt, '--out', out, '--vocoder', 'griffinlim',
                *(['--jasper', jasper] if jasper.exists() else ['--no-asr']), check=True)
    import pandas as pd
    df = pd.read_csv(out)
    assert set(df.system) == {'lipsound2+griffinlim', 'copy-synthesis+griffinlim'}
    cs = df[df.system == 'copy-synthesis+griffinlim'].iloc[0]
    assert cs.stoi > 0.8 and np.isfinite(df.pesq).all()  # Griffin-Lim copy of the recording is intelligible
    if jasper.exists():  # lip reading through the speech: WER/CER columns
        assert df.wer.between(0, 1.5).all() and cs.wer <= 0.5, df
    assert 'stoi' in r.stdout

def test_speak_with_waveglow(tmp_path, tiny_ckpt):
    "`--vocoder waveglow` on a real clip, with a random-weight small WaveGlow saved here (its plumbing, not its quality)."
    from lipsound2.vocoders.waveglow import WaveGlow, WaveGlowConfig
    from lipsound2.vocoders.waveglow_checkpoints import save_waveglow
    torch.manual_seed(0)
    wg = save_waveglow(WaveGlow(WaveGlowConfig.small()), tmp_path/'wg.pt', half=True)
    out = tmp_path/'wg.wav'
    run_cli('speak', SAMPLES/'bbaf2n.mpg', '-o', out, '--checkpoint', tiny_ckpt, '--vocoder', 'waveglow', '--waveglow', wg, check=True)
    wav, sr = sf.read(out)
    assert sr == 22050 and abs(len(wav)/sr - 3.0) <= 256/sr and np.isfinite(wav).all()
    r = run_cli('speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'wg2.wav', '--checkpoint', tiny_ckpt, '--vocoder', 'waveglow')
    assert r.returncode != 0 and 'checkpoint' in r.stderr.lower(), r.stderr

def test_speak_with_the_shipped_nar_model(tmp_path):
    "`--model nar`: the shipped non-autoregressive checkpoint, with the fast vocoder; the video's duration within one hop."
    out = tmp_path/'nar.wav'
    run_cli('speak', SAMPLES/'bbaf2n.mpg', '-o', out, '--model', 'nar', '--vocoder', 'griffinlim', check=True)
    wav, sr = sf.read(out)
    assert sr == 22050 and abs(len(wav)/sr - 3.0) <= 256/sr

@pytest.mark.slow  # timing-sensitive: signals while a folder is spoken, in new processes
def test_speak_interrupted(tmp_path):
    "Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while speaking a folder: one line, exit 130, no crops worker left."
    import os, shutil, signal, subprocess, sys, time
    folder = tmp_path/'clips'; folder.mkdir()
    for i in range(12): shutil.copy(SAMPLES/'bbaf2n.mpg', folder/f'clip{i:02d}.mpg')
    # a terminal's Ctrl-C reaches a foreground job; a suite started in the background (`make test &`) ignores SIGINT, and
    # its children inherit that: the child gets the default back, as in a terminal
    p = subprocess.Popen([sys.executable, '-c', 'from lipsound2.cli import run; run()', 'speak', str(folder), '-o', str(tmp_path/'out'),
                          '--vocoder', 'griffinlim'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True,
                         env={**os.environ, 'PYTHONUNBUFFERED': '1'}, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    first = p.stdout.readline()                              # the first clip is written: cropping and speaking are under way
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert 'clip00.mpg ->' in first and p.returncode == 130, (first, p.returncode, err, out.count(' -> '))
    assert err.strip().splitlines() == ['lipsound2: interrupted'], err
    with pytest.raises(ProcessLookupError): os.killpg(p.pid, 0)   # nothing of the group is left running
    # killed outright (`kill -9` of the main process only): the crops worker notices within its 1 s poll and ends too
    p = subprocess.Popen(p.args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, start_new_session=True,
                         env={**os.environ, 'PYTHONUNBUFFERED': '1'})
    p.stdout.readline(); os.kill(p.pid, signal.SIGKILL); p.wait()
    for _ in range(50):
        try: os.killpg(p.pid, 0); time.sleep(0.1)
        except ProcessLookupError: break
    else: raise AssertionError("the crops worker outlived its killed parent by 5 s")
