"""Issue #30 (nothing lost, nobody let in) and items 4-5 of issue #27, on small real inputs (the sample clips, a 2-clip
cache). The contract: one line naming the file and what is wrong, no traceback; in a batch the good items done and the
exit status 3 when some failed (1 when all did, 2 for a wrong command line); no existing file overwritten without
`--force`; no path built from data leaves its folder; a diverged run stops."""
import json, shutil, sys
from pathlib import Path
import numpy as np, soundfile as sf, torch
import pytest
from conftest import run_cli, SAMPLES
from lipsound2.cli import main
from lipsound2.core import weights_dir

# --- helpers and fixtures ------------------------------------------------------------------------------------------------

def lines(r) -> list[str]:
    "The lines of stderr, without blank ones."
    return [l for l in r.stderr.splitlines() if l.strip()]

class Run:
    "What `lipsound2 ARGS` did, run in this process (`cli.main`; faster than a subprocess): returncode, stdout, stderr."
    def __init__(self, capsys, *args):
        capsys.readouterr()
        try: self.returncode = main([str(a) for a in args])
        except SystemExit as e:  # `sys.exit('lipsound2: ...')`: the interpreter would print the message, status 1
            self.returncode = e.code if isinstance(e.code, int) else 1
            if not isinstance(e.code, int): print(e.code, file=sys.stderr)
        self.stdout, self.stderr = capsys.readouterr()

def one_line(r, *contains, status=1):
    "The command exited with `status` and one `lipsound2: ...` line on stderr holding every string of `contains`."
    assert r.returncode == status, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert 'Traceback' not in r.stderr and len(lines(r)) == 1 and lines(r)[0].startswith('lipsound2: '), r.stderr
    for c in contains: assert c in r.stderr, (c, r.stderr)

def refused(capsys, argv, *contains, status=2) -> str:
    "`main(argv)` in this process exits before any work with `status` and one line holding `contains`; returns the line."
    with pytest.raises(SystemExit) as e: main([str(a) for a in argv])
    code, err = e.value.code, capsys.readouterr().err
    msg = err if isinstance(code, int) else f"{code}\n"
    assert (code if isinstance(code, int) else 1) == status, (code, err)
    assert len(msg.strip().splitlines()) == 1 and msg.startswith('lipsound2: '), msg
    for c in contains: assert c in msg, (c, msg)
    return msg

def clip(path, n=20, name='bbaf2n', seconds_of_audio=None) -> Path:
    "The first `n` frames of a sample clip as an mp4 at `path`, with the clip's audio cut to the video (or to `seconds_of_audio`)."
    from lipsound2.media.video import read_video, write_video
    from lipsound2.media.audio import load_audio
    audio = load_audio(SAMPLES/f'{name}.mpg', 22050).numpy()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_video(path, read_video(SAMPLES/f'{name}.mpg')[:n], audio=audio[:int((seconds_of_audio or n/25)*22050)])
    return Path(path)

@pytest.fixture(scope='module')
def cache2(tmp_path_factory):
    "A cache of two sample clips, made once (tests copy it)."
    from lipsound2.corpora.core import read_corpus
    from lipsound2.data.core import prepare
    cache = tmp_path_factory.mktemp('cache')/'two'
    res = prepare(read_corpus(SAMPLES)[:2], cache, n_workers=1, progress=False)
    assert res['done'] == 2, res
    return cache

@pytest.fixture
def cache(cache2, tmp_path): return Path(shutil.copytree(cache2, tmp_path/'cache'))

TINY = ['--config', 'tiny', '--epochs', '1', '--bs', '2', '--threads', '1', '--num-workers', '0']
SPEAK = ['--vocoder', 'griffinlim']

# --- 1. containment ---------------------------------------------------------------------------------------------------

def test_unpack_refuses_a_pack_with_a_traversing_or_absolute_id(cache, tmp_path, capsys):
    from lipsound2.data.core import pack_cache
    pack_cache(cache, tmp_path/'good.pack')
    pack = torch.load(tmp_path/'good.pack', weights_only=True)
    for evil in ('../../escaped', str(tmp_path/'absolute')):
        pack['items'][1]['utt_id'] = evil; torch.save(pack, tmp_path/'evil.pack')
        r = Run(capsys, 'unpack', tmp_path/'evil.pack', tmp_path/'a'/'new')
        one_line(r, "evil.pack' was refused, nothing unpacked: its item ", repr(evil), "is not a plain file name")
        assert not (tmp_path/'a').exists()                   # the whole pack refused: not even the good item, no folder
    assert not list(tmp_path.parent.glob('escaped*')) and not list(tmp_path.glob('absolute*'))

def test_unpack_of_a_damaged_or_foreign_file_is_one_line_and_leaves_no_folder(cache, tmp_path, capsys):
    from lipsound2.data.core import pack_cache
    pack_cache(cache, tmp_path/'good.pack')
    b = (tmp_path/'good.pack').read_bytes(); (tmp_path/'cut.pack').write_bytes(b[:len(b)//2])
    torch.save({'weights': torch.zeros(3)}, tmp_path/'foreign.pt')
    (tmp_path/'model.pt').write_bytes(b'')
    torch.save({'x': np.float64(1.0).__class__}, tmp_path/'objects.pt')   # a pickled global: torch's weights_only advice
    for f in ('cut.pack', 'foreign.pt', 'objects.pt', 'model.pt'):
        r = Run(capsys, 'unpack', tmp_path/f, tmp_path/'out')
        one_line(r, f"{f}'")
        assert 'weights_only' not in r.stderr and not (tmp_path/'out').exists(), r.stderr

# --- 2. never overwrite what is not ours ----------------------------------------------------------------------------------

def test_speak_keeps_an_existing_output_and_its_input(tmp_path, tiny_ckpt, capsys):
    (tmp_path/'x.wav').write_bytes(b'precious')
    r = Run(capsys, 'speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'x.wav', '--checkpoint', tiny_ckpt, *SPEAK)
    one_line(r, "x.wav' exists: give another output name, or --force to overwrite it")
    assert (tmp_path/'x.wav').read_bytes() == b'precious'
    video = tmp_path/'clip.wav'; shutil.copy(SAMPLES/'bbaf2n.mpg', video)       # a video named .wav, spoken onto itself
    r = Run(capsys, 'speak', video, '-o', video, '--checkpoint', tiny_ckpt, *SPEAK)
    one_line(r, "clip.wav' is the input '", "writing it would destroy it")
    assert video.read_bytes() == (SAMPLES/'bbaf2n.mpg').read_bytes()
    r = Run(capsys, 'speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'x.wav', '--checkpoint', tiny_ckpt, *SPEAK, '--force')
    assert r.returncode == 0 and sf.read(tmp_path/'x.wav')[0].size > 1000, r.stderr

def test_speak_over_a_folder_keeps_what_is_done(tmp_path, tiny_ckpt, capsys):
    out = tmp_path/'wavs'; out.mkdir(); (out/'bbaf2n.wav').write_bytes(b'done before')
    r = Run(capsys, 'speak', SAMPLES, '-o', out, '--checkpoint', tiny_ckpt, *SPEAK)
    assert r.returncode == 0 and "1 of 3 outputs are already in '" in r.stdout, (r.stdout, r.stderr)
    assert (out/'bbaf2n.wav').read_bytes() == b'done before' and (out/'brbm6n.wav').exists()

def test_pack_keeps_an_existing_file(cache, tmp_path, capsys):
    (tmp_path/'c.pack').write_bytes(b'precious')
    one_line(Run(capsys, 'pack', cache, tmp_path/'c.pack'), "c.pack' exists: give another pack file name, or --force")
    assert (tmp_path/'c.pack').read_bytes() == b'precious'
    assert Run(capsys, 'pack', cache, tmp_path/'c.pack', '--force').returncode == 0
    assert (tmp_path/'c.pack').stat().st_size > 1000

# --- 3. finite or stop ---------------------------------------------------------------------------------------------------

def test_a_diverging_run_stops_at_its_first_nan_loss(cache, tmp_path, capsys):
    from lipsound2.data.core import load_cached, _atomic_savez
    (tmp_path/'split.csv').write_text('utt_id,split\nbbaf2n,train\nbgbb3a,val\n')
    run = tmp_path/'run'
    r = Run(capsys, 'train', cache, '--out', run, '--split', tmp_path/'split.csv', *TINY)
    assert r.returncode == 0 and (run/'best.pt').exists(), r.stderr[-3000:]
    best = (run/'best.pt').read_bytes()
    it = load_cached(cache, 'bbaf2n'); mel = it['mel']; mel[5, 10] = np.nan   # a NaN in the data: the loss turns NaN
    _atomic_savez(cache/'bbaf2n.npz', crops=it['crops'], mel=mel.astype(np.float16), boxes=it['boxes'], meta=np.array(json.dumps(it['meta'])))
    r = Run(capsys, 'train', cache, '--out', run, '--split', tmp_path/'split.csv', '--resume', *TINY[2:], '--epochs', '2')
    one_line(r, f"training in '{run}' diverged: the training loss is nan at epoch 2 of 2, step 1 of 1",
             "last.pt keeps epoch 1, the last finite one (no best.pt from the diverged model)")
    assert torch.load(run/'last.pt', weights_only=True)['epoch'] == 0 and (run/'best.pt').read_bytes() == best
    r = Run(capsys, 'train', cache, '--out', tmp_path/'new', '--split', tmp_path/'split.csv', *TINY)
    one_line(r, "diverged: the training loss is nan at epoch 1 of 1, step 1 of 1; no checkpoint was written")
    assert not (tmp_path/'new').exists()

def test_an_infinite_learning_rate_is_refused_before_any_work(capsys, tmp_path):
    for lr in ('inf', 'nan', '-inf'):
        refused(capsys, ['train', tmp_path, '--out', tmp_path/'run', f'--lr={lr}'], f"lipsound2: train: argument --lr: expected a finite number, got '{lr}'")
    assert not (tmp_path/'run').exists()

# --- 4. options checked when parsed; exit codes -------------------------------------------------------------------------------

def test_option_values_are_checked_when_parsed(capsys, tmp_path, cache):
    refused(capsys, ['prepare', SAMPLES, tmp_path/'c', '--limit', '-1'], "argument --limit: expected an integer of at least 0")
    refused(capsys, ['evaluate', cache, '--limit', '-1'], "argument --limit")
    refused(capsys, ['prepare', SAMPLES, tmp_path/'c', '--crop-size', '0'], "argument --crop-size: expected an integer of at least 1")
    refused(capsys, ['pack', cache, tmp_path/'p', '--quality', '101'], "argument --quality: expected a JPEG quality from 1 to 100, got '101'")
    refused(capsys, ['prepare', SAMPLES, tmp_path/'c', '--split', tmp_path/'missing.csv'], "argument --split: '", "missing.csv': no such file")
    refused(capsys, ['train', cache, '--split', tmp_path/'missing.csv'], "missing.csv': no such file")
    refused(capsys, ['speak', SAMPLES, '-o', tmp_path/'w', '--device', 'banana'], "argument --device: 'banana' is not a device")
    refused(capsys, ['prepare', SAMPLES, tmp_path/'c', '--part', '0/2'], "--part I/N shares the shards of --shards DIR", status=1)
    refused(capsys, ['pack', cache, tmp_path/'p', '--only', 'train'], "--only names splits of a --split file; give --split too", status=1)
    refused(capsys, ['pack', cache, tmp_path], "is a folder: give a file name for the pack file", status=1)
    refused(capsys, ['evaluate', cache, '--out', tmp_path], "is a folder: give a file name for --out", status=1)
    refused(capsys, ['prepare', SAMPLES, tmp_path/'c', '--figure', tmp_path], "is a folder: give a file name for the --figure", status=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['cache']   # nothing made

@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_a_missing_device_is_reported_as_such(tmp_path, tiny_ckpt, capsys):
    r = Run(capsys, 'speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'x.wav', '--checkpoint', tiny_ckpt, '--device', 'cuda')
    one_line(r, "--device cuda: no CUDA GPU is available on this machine (PyTorch sees none); use --device cpu")
    assert 'checkpoint' not in r.stderr and not (tmp_path/'x.wav').exists()

def test_a_batch_with_failures_exits_3_and_all_failed_exits_1(tmp_path, tiny_ckpt, capsys):
    folder = tmp_path/'videos'; clip(folder/'good.mp4')
    dark = np.zeros((20, 288, 360, 3), np.uint8)
    from lipsound2.media.video import write_video
    write_video(folder/'dark.mp4', dark)
    r = run_cli('speak', folder, '-o', tmp_path/'wavs', '--checkpoint', tiny_ckpt, *SPEAK)
    assert r.returncode == 3 and lines(r)[-1] == 'lipsound2: 1 of 2 failed (see above)', (r.returncode, r.stderr)
    assert (tmp_path/'wavs'/'good.wav').exists()
    r = Run(capsys, 'prepare', folder, tmp_path/'cache', '--workers', '1', '--figure', 'none')
    assert r.returncode == 3 and 'lipsound2: 1 of 2 failed (see above)' in r.stderr and (tmp_path/'cache'/'good.npz').exists(), r.stderr
    (folder/'good.mp4').unlink()
    r = Run(capsys, 'speak', folder, '-o', tmp_path/'wavs2', '--checkpoint', tiny_ckpt, *SPEAK)
    assert r.returncode == 1 and lines(r)[-1] == 'lipsound2: 1 of 1 failed (see above)', (r.returncode, r.stderr)

# --- 5. damaged cache entries; mismatched data -----------------------------------------------------------------------------

def test_evaluate_leaves_out_a_damaged_cache_file_with_a_warning(cache, tmp_path, tiny_ckpt):
    (cache/'bbaf2n.npz').write_bytes((cache/'bbaf2n.npz').read_bytes()[:2000])
    r = run_cli('evaluate', cache, '--split', '', '--checkpoint', tiny_ckpt, '--no-asr', '--no-copy', '--out', tmp_path/'m.csv', *SPEAK)
    assert r.returncode == 3 and "lipsound2: warning: left out: '" in r.stderr and "bbaf2n.npz' is damaged" in r.stderr, r.stderr
    import pandas as pd
    assert set(pd.read_csv(tmp_path/'m.csv').utt_id) == {'bgbb3a'}

def test_crops_of_another_size_in_a_cache_are_named(cache, tmp_path, capsys):
    from lipsound2.data.core import load_cached, _atomic_savez
    it = load_cached(cache, 'bgbb3a')
    _atomic_savez(cache/'odd.npz', crops=np.ascontiguousarray(it['crops'][:, ::2, ::2]), mel=it['mel'].astype(np.float16),
                  boxes=it['boxes'], meta=np.array(json.dumps({**it['meta'], 'utt_id': 'odd', 'split': 'train'})))
    (tmp_path/'split.csv').write_text('utt_id,split\nbbaf2n,train\nodd,train\nbgbb3a,val\n')
    r = Run(capsys, 'train', cache, '--out', tmp_path/'run', '--split', tmp_path/'split.csv', *TINY)
    one_line(r, "1 of 2 files in '", "hold crops of another size than the cache's 96x96 (its config.json): '", "odd.npz' (48x48)")
    assert not (tmp_path/'run').exists()

def test_audio_much_longer_or_shorter_than_its_video_is_named(tmp_path):
    corpus = tmp_path/'corpus'
    clip(corpus/'long.mp4', 25, seconds_of_audio=3.0); clip(corpus/'short.mp4', 50, 'bgbb3a', seconds_of_audio=1.2)
    r = run_cli('prepare', corpus, tmp_path/'cache', '--workers', '1', '--figure', 'none')
    assert r.returncode == 0 and 'failed 0' in r.stdout, (r.stdout, r.stderr)
    long, short = ([l for l in lines(r) if f"{n}.mp4': the audio lasts " in l] for n in ('long', 'short'))
    assert len(long) == 1 and long[0].startswith('lipsound2: warning: ') and "and the video 1.00 s; the audio is cut to the video's length" in long[0], r.stderr
    assert len(short) == 1 and "and the video 2.00 s; the audio is padded with silence" in short[0], r.stderr

def test_a_cache_inside_its_corpus_is_refused(capsys, tmp_path):
    corpus = tmp_path/'corpus'; shutil.copytree(SAMPLES, corpus)
    refused(capsys, ['prepare', corpus, corpus], "the cache folder '", "' is the corpus folder '", status=1)
    refused(capsys, ['prepare', corpus, corpus/'cache'], "is inside the corpus folder", status=1)
    refused(capsys, ['prepare', corpus, '--shards', corpus/'s'], "the shards folder '", status=1)
    assert sorted(p.name for p in corpus.iterdir()) == sorted(p.name for p in SAMPLES.iterdir())

def test_a_refused_init_from_leaves_no_run_folder(cache, tmp_path, capsys):
    (tmp_path/'garbage.pt').write_bytes(b'not a checkpoint')
    r = Run(capsys, 'train', cache, '--out', tmp_path/'runs'/'ft', '--init-from', tmp_path/'garbage.pt', *TINY[2:])
    one_line(r, "garbage.pt' is not a lipsound2 checkpoint")
    assert not (tmp_path/'runs').exists()

# --- 6. outputs a machine can read ---------------------------------------------------------------------------------------

@pytest.mark.skipif(not (weights_dir()/'jasper_small.pt').exists(), reason="the shipped Jasper is not in lipsound2/weights/")
def test_tab_separated_lines_escape_tabs_and_newlines_in_names(tmp_path):
    from lipsound2.media.audio import load_audio
    f = tmp_path/'a\tb\nc.wav'
    sf.write(f, load_audio(SAMPLES/'bbaf2n.mpg', 16000).numpy(), 16000)
    r = run_cli('transcribe', f)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert len(out) == 1 and out[0].split('\t')[0] == str(f).replace('\t', '\\t').replace('\n', '\\n'), out

def test_a_long_single_input_shows_progress(tmp_path, tiny_ckpt, capsys, monkeypatch):
    import lipsound2.cli.base as cli   # the heartbeat reads its thresholds there
    monkeypatch.setattr(cli, 'LONG_INPUT_SECONDS', 1.0); monkeypatch.setattr(cli, 'HEARTBEAT_SECONDS', 0.05)
    assert main(['speak', str(SAMPLES/'bbaf2n.mpg'), '-o', str(tmp_path/'x.wav'), '--checkpoint', str(tiny_ckpt), *SPEAK]) == 0
    err = capsys.readouterr().err.splitlines()
    assert any(l.endswith("bbaf2n.mpg' lasts 0:03: a line every 0.05 s until it is done") for l in err), err
    assert any(l.startswith("lipsound2: still on '") for l in err), err

# --- issue #27, items 4 and 5 ----------------------------------------------------------------------------------------------

def test_a_voxceleb2_tree_without_validation_trains_with_a_warning(tmp_path, capsys):
    tree = tmp_path/'vox'
    for i, (spk, name) in enumerate([(s, n) for s in ('id00017', 'id00061') for n in ('bbaf2n', 'bgbb3a', 'brbm6n')]):
        clip(tree/'dev'/'mp4'/spk/f'vid{i % 3}'/'00001.mp4', 20, name)
    r = Run(capsys, 'prepare', tree, tmp_path/'cache', '--workers', '1', '--figure', 'none')
    assert r.returncode == 0 and 'done 6, already cached 0, failed 0' in r.stdout, (r.stdout, r.stderr)
    r = run_cli('train', tmp_path/'cache', '--out', tmp_path/'run', *TINY)
    assert r.returncode == 0, r.stderr[-3000:]
    warn = [l for l in lines(r) if 'warning' in l]
    assert len(warn) == 1 and "split 'val' is empty in '" in warn[0] and 'chosen by the training loss' in warn[0] and '--split FILE' in warn[0], r.stderr
    ck = torch.load(tmp_path/'run'/'best.pt', weights_only=True)
    assert ck['monitor'] == 'train_loss' and ck['best_score'] == ck['losses']['train_loss']

def test_a_checkpoint_with_half_its_weights_removed_names_itself(tmp_path, tiny_ckpt, capsys):
    ck = torch.load(tiny_ckpt, weights_only=True)
    sd = ck['state_dict']; n = len(sd)
    torch.save({**ck, 'state_dict': dict(list(sd.items())[::2])}, tmp_path/'broken.pt')
    r = Run(capsys, 'speak', SAMPLES/'bbaf2n.mpg', '-o', tmp_path/'x.wav', '--checkpoint', tmp_path/'broken.pt', *SPEAK)
    one_line(r, f"broken.pt': {n//2} of {n} weights missing (encoder.blocks.0.1.weight, ", ": not a complete lipsound2 checkpoint")
    assert len(lines(r)[0]) < 300 and not (tmp_path/'x.wav').exists()

@pytest.mark.slow  # two worker processes under torchrun (gloo): `make test-slow`
def test_torchrun_trains_without_a_validation_split(cache, tmp_path):
    import os, subprocess
    (tmp_path/'split.csv').write_text('utt_id,split\nbbaf2n,train\nbgbb3a,train\n')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '-m', 'lipsound2', 'train', str(cache),
           '--out', str(tmp_path/'run'), '--split', str(tmp_path/'split.csv'), '--config', 'tiny', '--epochs', '1', '--bs', '1',
           '--threads', '1', '--num-workers', '0']
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env={**os.environ, 'OMP_NUM_THREADS': '1'}, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stderr.count("split 'val' is empty in '") == 1, r.stderr[-3000:]   # once, from rank 0
    assert torch.load(tmp_path/'run'/'best.pt', weights_only=True)['monitor'] == 'train_loss'
