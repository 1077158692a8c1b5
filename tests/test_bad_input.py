"""Issue #18, nothing lost and nothing crashes. Every bad input gets a one-line error (or warning) that names the file and
what is wrong, with no traceback. A batch goes on past a bad item and exits with 3 when some items failed, 1 when all
did (issue #30; see also test_contract.py), and nothing made before is overwritten. The inputs are made here from samples/*.mpg."""
import json, shutil
from pathlib import Path
import numpy as np, soundfile as sf, torch
import pytest
from conftest import run_cli, SAMPLES, ROOT
from lipsound2.core import weights_dir

# --- helpers ---------------------------------------------------------------------------------------------------------

def lines(r) -> list[str]:
    "The lines of stderr, without progress bars (fastprogress writes them to stdout) or blank ones."
    return [l for l in r.stderr.splitlines() if l.strip()]

def assert_clean_error(r, *contains, status=1):
    "The command failed with one `lipsound2: ...` line that contains every string of `contains`, and no traceback."
    assert r.returncode == status, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert 'Traceback' not in r.stderr, r.stderr
    assert len(lines(r)) == 1 and lines(r)[0].startswith('lipsound2: '), r.stderr
    for c in contains: assert c in r.stderr, (c, r.stderr)

def assert_ours_only(r):
    "stderr holds only our own lines (errors, warnings, batch summaries): no traceback, no third-party log noise."
    assert 'Traceback' not in r.stderr, r.stderr
    for l in lines(r): assert l.startswith(('lipsound2: ', '  failed ')), (l, r.stderr)

def frames(n=None, clip='bbaf2n'):
    "Decoded RGB frames of a sample clip (the first `n`)."
    from lipsound2.media.video import read_video
    return read_video(SAMPLES/f'{clip}.mpg')[:n]

def video(path, n=10, clip='bbaf2n', **kw) -> Path:
    "Write the first `n` frames of a sample clip as a video (H.264 via PyAV) at `path`; returns the path."
    from lipsound2.media.video import write_video
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_video(path, frames(n, clip), **kw)
    return Path(path)

@pytest.fixture(scope='module')
def samples_cache(tmp_path_factory):
    "A cache of the three sample clips (a plain folder: no split recorded), made once; tests copy it."
    cache = tmp_path_factory.mktemp('cache')/'samples'
    run_cli('prepare', SAMPLES, cache, '--workers', '1', '--figure', 'none', check=True)
    return cache

@pytest.fixture
def cache(samples_cache, tmp_path):
    return Path(shutil.copytree(samples_cache, tmp_path/'cache'))

SPLIT = 'utt_id,split\nbbaf2n,train\nbgbb3a,train\nbrbm6n,val\n'
TINY = ['--config', 'tiny', '--epochs', '1', '--bs', '2', '--threads', '1', '--num-workers', '0']

def damage(path:Path, how:str):
    "Damage a cache file: 'crc' (one byte changed inside crops), 'truncated' (half of it), 'foreign' (another file renamed)."
    b = path.read_bytes()
    if how == 'crc': path.write_bytes(b[:1000] + bytes([b[1000] ^ 0xff]) + b[1001:])
    elif how == 'truncated': path.write_bytes(b[:len(b)//2])
    else: shutil.copy(SAMPLES/'bbaf2n.txt', path)

# --- 1. unique utterance ids -------------------------------------------------------------------------------------------

def test_same_file_name_in_two_folders_is_two_utterances(tmp_path):
    corpus = tmp_path/'corpus'
    for spk in ('spkA', 'spkB'):
        (corpus/spk).mkdir(parents=True); shutil.copy(SAMPLES/'bbaf2n.mpg', corpus/spk/'clip.mpg')
    r = run_cli('prepare', corpus, tmp_path/'cache', '--workers', '1', '--figure', 'none')
    assert r.returncode == 0 and 'done 2, already cached 0, failed 0' in r.stdout, (r.stdout, r.stderr)
    assert sorted(p.name for p in (tmp_path/'cache').glob('*.npz')) == ['spkA__clip.npz', 'spkB__clip.npz']
    from lipsound2.data.core import load_cached
    assert load_cached(tmp_path/'cache', 'spkB__clip')['meta']['video'].endswith('spkB/clip.mpg')

def test_grid_ids_stay_codes_for_one_speaker_and_take_the_speaker_for_several(tmp_path, request):
    from lipsound2.corpora.core import read_grid, read_corpus
    from lipsound2.data.core import load_split
    for spk in ('s1', 's2'):
        (tmp_path/spk/'align').mkdir(parents=True); (tmp_path/spk/'mpg').mkdir()
        (tmp_path/spk/'align'/'bbaf2n.align').write_text('0 23750 sil\n23750 29500 bin\n29500 74500 sil\n')
        (tmp_path/spk/'mpg'/'bbaf2n.mpg').symlink_to(SAMPLES/'bbaf2n.mpg')
    assert [u.utt_id for u in read_corpus(tmp_path)] == ['s1_bbaf2n', 's2_bbaf2n']
    assert [u.utt_id for u in read_corpus(tmp_path/'s2')] == ['bbaf2n']
    shutil.rmtree(tmp_path/'s2')
    assert [u.utt_id for u in read_grid(tmp_path)] == ['bbaf2n']  # a folder holding one speaker: the codes, as cached so far
    split = load_split(ROOT/'splits'/'grid_s1_speaker_dependent.csv')  # the shipped split file keeps matching s1's ids
    assert split['bbaf2n'] == 'test' and all(len(u) == 6 for u in split)
    from conftest import GRID
    if GRID is not None: assert {u.utt_id for u in read_grid(GRID/'s1')} == set(split)

def test_colliding_ids_name_both_files(tmp_path):
    corpus = tmp_path/'corpus'; (corpus/'a').mkdir(parents=True)
    for f in ('a__b.mp4', 'a/b.mp4'): shutil.copy(SAMPLES/'bbaf2n.mpg', corpus/f)
    r = run_cli('prepare', corpus, tmp_path/'cache')
    assert_clean_error(r, "corpus/a/b.mp4' and '", "corpus/a__b.mp4' would both be named 'a__b.mp4': rename one")
    assert not list((tmp_path/'cache').glob('*.npz'))

def test_speak_keeps_two_formats_of_one_clip_apart(tmp_path, tiny_ckpt):
    folder = tmp_path/'videos'
    video(folder/'clip.mp4'); video(folder/'clip.mkv', clip='bgbb3a')
    r = run_cli('speak', folder, '-o', tmp_path/'wavs', '--checkpoint', tiny_ckpt)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path/'wavs').iterdir()) == ['clip.mkv.wav', 'clip.mp4.wav']
    a, b = (sf.read(tmp_path/'wavs'/f)[0] for f in ('clip.mkv.wav', 'clip.mp4.wav'))
    assert not np.array_equal(a, b)  # two clips, two outputs: neither overwrote the other

# --- 2. corrupt cache files ----------------------------------------------------------------------------------------------

def test_train_leaves_out_a_damaged_cache_file_and_names_it(cache, tmp_path):
    damage(cache/'bgbb3a.npz', 'crc')
    (tmp_path/'split.csv').write_text(SPLIT)
    r = run_cli('train', cache, '--out', tmp_path/'run', '--split', tmp_path/'split.csv', *TINY)
    assert r.returncode == 0, r.stderr[-3000:]
    assert_ours_only(r)
    assert "lipsound2: warning: 1 of 2 cache files cannot be read: " in r.stderr and "bgbb3a.npz' is damaged (bad CRC in crops.npy)" in r.stderr
    assert 'run `lipsound2 prepare` again' in r.stderr and (tmp_path/'run'/'last.pt').exists()

def test_pack_stops_on_a_damaged_cache_file_naming_it(cache, tmp_path):
    damage(cache/'bbaf2n.npz', 'truncated')
    r = run_cli('pack', cache, tmp_path/'c.pack')
    assert_clean_error(r, "bbaf2n.npz' is damaged (BadZipFile", "run `lipsound2 prepare` again")
    assert not (tmp_path/'c.pack').exists()

def test_evaluate_leaves_out_a_foreign_file_in_the_cache(cache, tmp_path, tiny_ckpt):
    damage(cache/'bbaf2n.npz', 'foreign')
    r = run_cli('evaluate', cache, '--split', '', '--checkpoint', tiny_ckpt, '--no-asr', '--out', tmp_path/'m.csv')
    assert r.returncode == 3, r.stderr  # left out with a warning, as train does (issue #30); the others scored
    assert_ours_only(r)
    assert "lipsound2: warning: left out: '" in r.stderr and "bbaf2n.npz' is damaged" in r.stderr and "run `lipsound2 prepare` again" in r.stderr
    import pandas as pd
    assert set(pd.read_csv(tmp_path/'m.csv').utt_id) == {'bgbb3a', 'brbm6n'}

def test_prepare_remakes_damaged_cache_files_and_keeps_good_ones(cache, tmp_path):
    good = (cache/'brbm6n.npz').read_bytes()
    for u, how in (('bbaf2n', 'crc'), ('bgbb3a', 'truncated')): damage(cache/f'{u}.npz', how)
    r = run_cli('prepare', SAMPLES, cache, '--workers', '1', '--figure', 'none')
    assert r.returncode == 0 and 'done 2, already cached 1, failed 0' in r.stdout, (r.stdout, r.stderr)
    assert_ours_only(r)
    assert "bbaf2n.npz' was damaged (bad CRC in crops.npy): made again" in r.stderr
    assert "bgbb3a.npz' was damaged (BadZipFile" in r.stderr
    assert (cache/'brbm6n.npz').read_bytes() == good  # the sound file is not rewritten
    from lipsound2.data.core import check_cached
    assert all(check_cached(cache/f'{u}.npz') is None for u in ('bbaf2n', 'bgbb3a'))

# --- 3. bad audio and video ----------------------------------------------------------------------------------------------

def test_prepare_refuses_unusable_audio_naming_each_file(tmp_path):
    corpus = tmp_path/'corpus'
    sr = 22050
    from lipsound2.media.audio import load_audio
    speech = load_audio(SAMPLES/'bbaf2n.mpg', sr).numpy()[:int(0.4*sr)]
    audio = dict(good=speech, empty=np.zeros(0), ten=speech[:10], silent=np.zeros_like(speech), nan=np.where(np.arange(len(speech)) == 99, np.nan, speech))
    for name, a in audio.items():
        video(corpus/f'{name}.mp4', 10)  # 0.4 s
        sf.write(corpus/f'{name}.wav', a.astype(np.float32), sr, subtype='FLOAT')
    r = run_cli('prepare', corpus, tmp_path/'cache', '--workers', '1', '--figure', 'none')
    assert r.returncode == 3 and 'done 1, already cached 0, failed 4' in r.stdout, (r.stdout, r.stderr)  # some failed
    assert_ours_only(r)
    assert "failed empty: '" in r.stderr and "empty.wav': no audio samples" in r.stderr
    assert "ten.wav': the audio lasts 0.000 s; at least 0.20 s is needed to cover half of the video's 0.40 s" in r.stderr
    assert "silent.wav': the audio is silent" in r.stderr and "nan.wav': the audio holds NaN" in r.stderr
    assert sorted(p.name for p in (tmp_path/'cache').glob('*.npz')) == ['good.npz']  # no flat silent mel cached

def test_speak_reports_bad_videos_and_speaks_the_good_one(tmp_path, tiny_ckpt):
    folder = tmp_path/'videos'
    video(folder/'good.mp4', 10); video(folder/'one.mp4', 1); video(folder/'short.mp4', 5)
    dark = frames(25); dark[:] = 0
    from lipsound2.media.video import write_video
    write_video(folder/'dark.mp4', dark)
    b = (SAMPLES/'bbaf2n.mpg').read_bytes(); (folder/'cut.mpg').write_bytes(b[:len(b)//2])
    r = run_cli('speak', folder, '-o', tmp_path/'wavs', '--checkpoint', tiny_ckpt)
    assert r.returncode == 3, r.stderr  # some failed, the others done
    assert_ours_only(r)
    assert "one.mp4': the video is too short (1 frame, 0.04 s); at least 0.30 s" in r.stderr
    assert "short.mp4': the video is too short (5 frames, 0.20 s)" in r.stderr
    assert "dark.mp4': no face found in frames 0-24 (of 25)" in r.stderr
    assert "cut.mpg': truncated or corrupt video file (FFmpeg: Packet corrupt" in r.stderr
    assert 'lipsound2: 4 of 5 failed' in r.stderr
    assert [p.name for p in (tmp_path/'wavs').iterdir()] == ['good.wav']
    for f in ('one.mp4', 'short.mp4', 'dark.mp4', 'good.mp4'): (folder/f).unlink()
    r = run_cli('speak', folder, '-o', tmp_path/'wavs', '--checkpoint', tiny_ckpt)
    assert r.returncode == 1 and 'lipsound2: 1 of 1 failed' in r.stderr, r.stderr  # nothing succeeded

needs_jasper = pytest.mark.skipif(not (weights_dir()/'jasper_small.pt').exists(), reason="the shipped Jasper is not in lipsound2/weights/")

@needs_jasper
def test_transcribe_goes_on_past_unusable_audio(tmp_path):
    from lipsound2.media.audio import load_audio
    speech = load_audio(SAMPLES/'bbaf2n.mpg', 16000).numpy()
    folder = tmp_path/'wavs'; folder.mkdir()
    sf.write(folder/'good.wav', speech, 16000)
    sf.write(folder/'empty.wav', np.zeros(0, np.float32), 16000)
    sf.write(folder/'silent.wav', np.zeros(16000, np.float32), 16000)
    r = run_cli('transcribe', folder, '--decoder', 'grammar')
    assert r.returncode == 3, r.stderr
    assert_ours_only(r)
    out = dict(l.split('\t') for l in r.stdout.splitlines() if l)
    assert set(out) == {str(folder/'good.wav'), str(folder/'silent.wav')} and out[str(folder/'silent.wav')] == ''
    assert "empty.wav': no audio samples" in r.stderr and "lipsound2: 1 of 3 failed" in r.stderr
    assert "lipsound2: warning: '" in r.stderr and "silent.wav': the audio is silent" in r.stderr
    (folder/'good.wav').unlink(); (folder/'silent.wav').unlink()
    sf.write(folder/'ten.wav', speech[:10], 16000)
    r = run_cli('transcribe', folder)
    assert r.returncode == 1 and "ten.wav': the audio lasts 0.001 s" in r.stderr and 'lipsound2: 2 of 2 failed' in r.stderr, r.stderr

# --- 4. command-line mistakes: one line each -------------------------------------------------------------------------------

def test_prepare_needs_a_corpus_folder(tmp_path):
    assert_clean_error(run_cli('prepare', tmp_path/'nope', tmp_path/'cache'), "nope': no such corpus folder")
    assert_clean_error(run_cli('prepare', SAMPLES/'bbaf2n.mpg', tmp_path/'cache'), "bbaf2n.mpg' is a file, not a corpus folder")

def test_train_refuses_bad_settings_in_one_line(tmp_path):
    assert_clean_error(run_cli('train', tmp_path, '--out', tmp_path/'run', '--bs', '0'), 'bs must be at least 1')
    assert_clean_error(run_cli('train', tmp_path, '--out', tmp_path/'run', '--set', 'decoder_dim=-1'),
                       "sizes must be positive: {'decoder_dim': -1}")
    assert_clean_error(run_cli('train', tmp_path/'nocache', '--out', tmp_path/'run', *TINY), "nocache' is not a lipsound2 cache (no config.json)")
    assert not (tmp_path/'run').exists()  # a refused run leaves no empty run folder (issue #30)

def test_speak_refuses_outputs_it_cannot_write(tmp_path, tiny_ckpt):
    (tmp_path/'x.wav').mkdir()
    assert_clean_error(run_cli('speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'x.wav', '--checkpoint', tiny_ckpt),
                       "x.wav' is a folder: give a .wav file name")
    assert_clean_error(run_cli('speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'result.mp3', '--checkpoint', tiny_ckpt),
                       "cannot write '", "result.mp3': speak writes .wav files")
    assert sorted(p.name for p in tmp_path.iterdir()) == ['x.wav'] and not list((tmp_path/'x.wav').iterdir())

def test_a_cache_made_with_other_settings_is_refused(cache, tmp_path, tiny_ckpt):
    from lipsound2.config import PrepConfig
    (cache/'config.json').write_text(json.dumps(PrepConfig(region='mouth', crop_size=48).to_dict()))
    r = run_cli('train', cache, '--out', tmp_path/'run', '--init-from', tiny_ckpt, *TINY[2:])
    assert_clean_error(r, "cache' was made with other settings than '", "'crop_size': (48, 96)", "--region face --crop-size 96")
    assert not (tmp_path/'run'/'last.pt').exists()
    r = run_cli('evaluate', cache, '--split', '', '--checkpoint', tiny_ckpt, '--no-asr', '--out', tmp_path/'m.csv')
    assert_clean_error(r, "was made with other settings than the checkpoint's training data")

# --- 5. a quiet command line -----------------------------------------------------------------------------------------------

def test_speak_writes_nothing_to_stderr(tmp_path, tiny_ckpt):
    r = run_cli('speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'x.wav', '--checkpoint', tiny_ckpt)
    assert r.returncode == 0 and r.stderr == '', r.stderr  # no mediapipe, TensorFlow Lite or absl log lines

def test_mouth_crops_of_a_clip_with_missing_faces_warn_nothing(tmp_path):
    f = frames(20); f[8:11] = 0  # three dark frames: a gap that is filled in
    from lipsound2.media.video import write_video
    from lipsound2.media.audio import load_audio
    write_video(tmp_path/'corpus'/'gap.mp4', f, audio=load_audio(SAMPLES/'bbaf2n.mpg').numpy()[:int(0.8*22050)])
    r = run_cli('prepare', tmp_path/'corpus', tmp_path/'cache', '--region', 'mouth', '--workers', '1', '--figure', 'none')
    assert r.returncode == 0 and r.stderr == '', r.stderr  # no 'RuntimeWarning: Mean of empty slice', no log noise
    from lipsound2.data.core import load_cached
    assert load_cached(tmp_path/'cache', 'gap')['meta']['missing_face'] == [[8, 10]]

# --- 6. a folder of one's own trains without a split file --------------------------------------------------------------------

def test_train_on_a_plain_folder_makes_a_default_split(cache, tmp_path):
    r = run_cli('train', cache, '--out', tmp_path/'run', *TINY)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "records no split: using a default split by id (seed 42): 2 train, 1 val, 0 test" in r.stdout, r.stdout[-2000:]
    assert (tmp_path/'run'/'last.pt').exists()
    r = run_cli('train', cache, '--out', tmp_path/'run', *TINY)  # and the run is not trained over
    assert_clean_error(r, "already holds a run (last.pt)")

# --- 7. a full disk: one line, nothing half-written ---------------------------------------------------------------------

def _full_disk_runner():
    "A way to run a command with a small tmpfs mounted (a user+mount namespace without root, or root), else None."
    import subprocess
    for pre in (['unshare', '--user', '--map-root-user', '--mount'], ['unshare', '--mount']):
        if shutil.which(pre[0]) and subprocess.run([*pre, 'true'], capture_output=True).returncode == 0: return pre
    return None

def run_on_full_disk(folder:Path, kb_free:int, *args):
    "Run `lipsound2 *args` with a 512 KB tmpfs at `folder` that has only `kb_free` KB left."
    import subprocess, shlex, sys
    exe = shutil.which('lipsound2') or f"{sys.executable} -m lipsound2.cli"
    folder.mkdir(parents=True, exist_ok=True)
    script = (f"mount -t tmpfs -o size=512k tmpfs {shlex.quote(str(folder))} && head -c {(512-kb_free)*1024} /dev/zero > {shlex.quote(str(folder/'fill'))}"
              f" && {exe} {' '.join(shlex.quote(str(a)) for a in args)}; rc=$?; echo $(ls -A {shlex.quote(str(folder))}) >&2; exit $rc")
    return subprocess.run([*_full_disk_runner(), 'sh', '-c', script], capture_output=True, text=True, cwd=ROOT, timeout=600)

@pytest.mark.skipif(_full_disk_runner() is None, reason="cannot mount a small tmpfs here (no user namespaces, not root)")
@pytest.mark.parametrize('command', ['speak', pytest.param('prepare', marks=pytest.mark.slow),
                                     pytest.param('train', marks=pytest.mark.slow)])
def test_a_full_disk_is_one_line_and_leaves_no_temporary_file(command, cache, tmp_path, tiny_ckpt):
    args = dict(speak=('speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'full'/'x.wav', '--checkpoint', tiny_ckpt, '--vocoder', 'griffinlim'),
                prepare=('prepare', SAMPLES, tmp_path/'full'/'cache', '--workers', '2', '--figure', 'none'),
                train=('train', cache, '--out', tmp_path/'full'/'run', *TINY))[command]
    r = run_on_full_disk(tmp_path/'full', 20, *args)
    *ours, left = lines(r)  # the last line lists what the command left on the full disk (the `ls -A` above)
    assert r.returncode == 1 and len(ours) == 1 and 'Traceback' not in r.stderr, (command, r.stderr)
    assert "no space left on the device" in ours[0] and f"cannot write '{tmp_path/'full'}" in ours[0], ours
    assert '.tmp' not in left, left  # no hidden temporary file fills the disk

def test_evaluate_on_a_corpus_folder_goes_on_past_an_unusable_video(tmp_path, tiny_ckpt):
    from lipsound2.media.audio import load_audio
    from lipsound2.media.video import write_video
    speech = load_audio(SAMPLES/'bbaf2n.mpg').numpy()[:int(0.8*22050)]
    video(tmp_path/'corpus'/'good.mp4', 20, audio=speech)
    dark = frames(20); dark[:] = 0
    write_video(tmp_path/'corpus'/'dark.mp4', dark, audio=speech)
    r = run_cli('evaluate', tmp_path/'corpus', '--split', '', '--checkpoint', tiny_ckpt, '--no-asr', '--out', tmp_path/'m.csv')
    assert r.returncode == 3, r.stderr
    assert_ours_only(r)
    assert "dark.mp4': no face found in frames 0-19 (of 20)" in r.stderr and 'lipsound2: 1 of 2 failed' in r.stderr, r.stderr
    import pandas as pd
    assert set(pd.read_csv(tmp_path/'m.csv').utt_id) == {'good'}
    (tmp_path/'corpus'/'good.mp4').unlink()
    r = run_cli('evaluate', tmp_path/'corpus', '--split', '', '--checkpoint', tiny_ckpt, '--no-asr', '--out', tmp_path/'m2.csv')
    assert r.returncode == 1 and "no utterance of '" in r.stderr and not (tmp_path/'m2.csv').exists(), r.stderr

def test_two_faces_in_view_are_a_warning_naming_the_file(tmp_path, tiny_ckpt):
    from lipsound2.media.audio import load_audio
    from lipsound2.media.video import write_video
    two = np.concatenate([frames(26), frames(26, 'bgbb3a')], 2)  # two speakers side by side
    write_video(tmp_path/'corpus'/'two.mp4', two, audio=load_audio(SAMPLES/'bbaf2n.mpg').numpy()[:int(26/25*22050)])
    for r in (run_cli('prepare', tmp_path/'corpus', tmp_path/'cache', '--workers', '2', '--figure', 'none'),  # in a worker process
              run_cli('speak', tmp_path/'corpus'/'two.mp4', '-o', tmp_path/'two.wav', '--checkpoint', tiny_ckpt)):
        assert r.returncode == 0, r.stderr
        assert_ours_only(r)
        assert len(lines(r)) == 1 and "two.mp4': 2 faces in view" in r.stderr and 'the crops follow the face centred at x = ' in r.stderr, r.stderr
    assert (tmp_path/'cache'/'two.npz').exists() and (tmp_path/'two.wav').exists()

def test_a_sideways_face_is_a_warning_naming_the_file(tmp_path, tiny_ckpt):
    from lipsound2.media.video import write_video
    write_video(tmp_path/'side.mp4', np.ascontiguousarray(np.rot90(frames(20), 1, axes=(1, 2))))  # a video recorded on its side
    r = run_cli('speak', tmp_path/'side.mp4', '-o', tmp_path/'side.wav', '--checkpoint', tiny_ckpt)
    assert r.returncode == 0 and (tmp_path/'side.wav').exists(), r.stderr
    assert_ours_only(r)
    assert len(lines(r)) == 1 and "side.mp4': the face is turned by -9" in r.stderr and 'degrees in the picture' in r.stderr, r.stderr
