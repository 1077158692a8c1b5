"`lipsound2 prepare` end to end, and bad input: clear errors, the batch goes on, nothing computed is lost."
import json, shutil
from pathlib import Path
import numpy as np
from conftest import run_cli, SAMPLES, ROOT

def test_help():
    r = run_cli('--help', check=True)
    assert 'prepare' in r.stdout

def test_prepare_samples_then_nothing_to_do(tmp_path):
    r = run_cli('prepare', SAMPLES, tmp_path/'cache', '--workers', '2', check=True)
    assert 'done 3, already cached 0, failed 0' in r.stdout, r.stdout
    with np.load(tmp_path/'cache'/'bgbb3a.npz') as z:
        assert z['crops'].shape == (75, 96, 96, 3) and z['mel'].shape == (80, 258)
        assert json.loads(str(z['meta']))['transcript'] == 'bin green by b three again'
    assert (tmp_path/'cache'/'preview.png').stat().st_size > 10_000
    r = run_cli('prepare', SAMPLES, tmp_path/'cache', check=True)
    assert 'done 0, already cached 3, failed 0' in r.stdout, r.stdout

def test_bad_files_are_reported_and_skipped(tmp_path):
    corpus = tmp_path/'corpus'; corpus.mkdir()
    shutil.copy(SAMPLES/'bbaf2n.mpg', corpus)
    (corpus/'garbage.mp4').write_bytes(b'\x00garbage' * 1000)
    from lipsound2.media.video import read_video, write_video
    frames = read_video(SAMPLES/'brbm6n.mpg')
    write_video(tmp_path/'full.mp4', frames)  # then cut in half: the index promises 75 frames
    (corpus/'truncated.mp4').write_bytes((tmp_path/'full.mp4').read_bytes()[:(tmp_path/'full.mp4').stat().st_size//2])
    frames[:] = 128  # a grey video: no face anywhere
    write_video(corpus/'noface.mp4', frames[:30])
    r = run_cli('prepare', corpus, tmp_path/'cache', '--workers', '2')
    assert r.returncode == 3, r.stderr   # EXIT_PARTIAL: some utterances failed, the rest are cached
    assert 'done 1, already cached 0, failed 3' in r.stdout, r.stdout
    assert "failed garbage: '" in r.stderr and 'garbage.mp4' in r.stderr and 'unreadable video' in r.stderr
    assert 'truncated.mp4' in r.stderr and 'truncated video, decoded' in r.stderr
    assert 'noface.mp4' in r.stderr and 'no face found in frames 0-29' in r.stderr
    fails = json.loads((tmp_path/'cache'/'failures.json').read_text())
    assert sorted(fails) == ['garbage', 'noface', 'truncated']
    assert (tmp_path/'cache'/'bbaf2n.npz').exists() and not list((tmp_path/'cache').glob('*.tmp'))

def test_unwritable_cache_is_refused_before_work(tmp_path):
    blocker = tmp_path/'file'; blocker.write_text('x')
    r = run_cli('prepare', SAMPLES, blocker/'cache')
    assert r.returncode != 0 and 'cannot write to cache folder' in r.stderr, r.stderr

def test_missing_corpus(tmp_path):
    r = run_cli('prepare', tmp_path/'nope', tmp_path/'cache')
    assert r.returncode != 0 and 'no such corpus folder' in r.stderr
