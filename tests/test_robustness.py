"""Issue #18, part 2: bounded memory on long and large videos, no worker left behind by a killed `prepare`, and a
quiet and honest command line (`--quiet`, `--verbose`, progress on a terminal only). The inputs are made here from
samples/*.mpg."""
import itertools, os, pty, signal, subprocess, sys, threading, time
from pathlib import Path
import numpy as np
import pytest
from conftest import run_cli, SAMPLES, ROOT
from test_bad_input import lines, frames, video, needs_jasper

sys.path.insert(0, str(ROOT/'bench'))
from memory import long_video, peak_rss, sample_frames  # the memory benchmark's video maker and measurement

# --- helpers ---------------------------------------------------------------------------------------------------------

def command(*args) -> list[str]:
    "The `lipsound2` command line of `args` (as `conftest.run_cli` runs it)."
    import shutil
    exe = shutil.which('lipsound2')
    return [exe, *map(str, args)] if exe else [sys.executable, '-c', 'import sys; from lipsound2.cli import main; sys.exit(main())', *map(str, args)]

def children(pid:int) -> list[tuple[int, str]]:
    "`(pid, command line)` of the running (not zombie) child processes of `pid`, from /proc."
    out = []
    for d in Path('/proc').iterdir():
        if not d.name.isdigit(): continue
        try:
            state, ppid = (d/'stat').read_text().rsplit(')', 1)[1].split()[:2]
            if int(ppid) == pid and state not in 'ZX': out.append((int(d.name), (d/'cmdline').read_bytes().replace(b'\0', b' ').decode()))
        except (OSError, ValueError): pass  # it ended meanwhile
    return out

def running(pid:int) -> bool:
    "Whether `pid` runs (a zombie, ended but never reaped, does not)."
    try: return (Path('/proc')/str(pid)/'stat').read_text().rsplit(')', 1)[1].split()[0] not in 'ZX'
    except OSError: return False

def run_on_terminal(*args) -> tuple[int, str, str]:
    "Run `lipsound2 args` with stderr on a pseudo-terminal and stdout on a pipe; returns (status, stdout, terminal text)."
    master, slave = pty.openpty()
    p = subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, cwd=ROOT, text=True)
    os.close(slave)
    seen = []
    def drain():  # read the terminal as it is written: a full pty buffer would block the command
        while True:
            try: b = os.read(master, 4096)
            except OSError: return  # EIO: the command closed its end
            if not b: return
            seen.append(b)
    t = threading.Thread(target=drain, daemon=True); t.start()
    out, _ = p.communicate(timeout=600); t.join(10); os.close(master)
    return p.returncode, out, b''.join(seen).decode(errors='replace').replace('\r\n', '\n')

# --- 1. bounded memory, long inputs --------------------------------------------------------------------------------------

@pytest.mark.slow  # 500 HD frames through Face Mesh
def test_peak_memory_of_a_long_hd_video_stays_bounded(tmp_path):
    path = long_video(tmp_path/'hd.mp4', 20, 1280, 720)  # 500 frames of 1280x720: 1.4 GB decoded
    r = peak_rss(path)
    assert (r['frames'], r['crops'], r['mel']) == (500, [500, 96, 96, 3], [80, 1723]), r
    assert r['peak_mb'] < 1536, r  # holding the frames took 3.2 GB

@pytest.mark.slow  # two 30 s videos through Face Mesh
def test_a_long_video_fills_short_face_gaps_and_names_a_long_one(tmp_path):
    from lipsound2.media.video import write_video, preprocess_utterance, NoFaceError, FaceLandmarker
    src = sample_frames()
    def clip(*blank):
        "30 s of the sample frames in turn, dark in the frame ranges `blank`."
        for i, f in enumerate(itertools.islice(itertools.cycle(src), 750)):
            yield np.zeros_like(f) if any(a <= i <= b for a, b in blank) else f
    lm = FaceLandmarker()
    write_video(tmp_path/'gaps.mp4', clip((100, 105), (500, 509)))  # 6 and 10 frames (0.4 s): filled in
    r = preprocess_utterance(tmp_path/'gaps.mp4', landmarker=lm, need_audio=False)
    assert r['n_frames'] == 750 and r['missing_face'] == [(100, 105), (500, 509)] and r['crops'].shape == (750, 96, 96, 3)
    write_video(tmp_path/'gap1s.mp4', clip((100, 105), (370, 394)))  # and one second: too long to make up
    with pytest.raises(NoFaceError) as e: preprocess_utterance(tmp_path/'gap1s.mp4', landmarker=lm, need_audio=False)
    assert str(e.value) == (f"'{tmp_path/'gap1s.mp4'}': no face found in frames 370-394 (of 750), at 14.80-15.80 s; "
                            "gaps of up to 10 frames (0.40 s) are filled in, 40 (1.60 s) at the start or end")

# --- 2. no process left behind ---------------------------------------------------------------------------------------------

@pytest.mark.slow  # timing-sensitive: kills a running prepare and its workers
def test_killing_prepare_ends_its_workers_and_a_rerun_completes(tmp_path):
    cache = tmp_path/'cache'
    p = subprocess.Popen(command('prepare', SAMPLES, cache, '--workers', '2', '--figure', 'none'), cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # kill it once the workers are at work: one clip is cached (a worker killed while it starts up ends anyway)
        deadline = time.time() + 180
        while time.time() < deadline and not list(cache.glob('*.npz')): time.sleep(0.1)
        kids = children(p.pid)  # the two workers and multiprocessing's resource tracker
        assert sum('spawn_main' in c for _, c in kids) == 2, kids
    finally: p.send_signal(signal.SIGKILL); p.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(running(k) for k, _ in kids): time.sleep(0.2)
    left = [c for k, c in kids if running(k)]
    for k, _ in kids:
        if running(k): os.kill(k, signal.SIGKILL)  # not to leave them behind when the test fails
    assert not left, f"processes outlived prepare: {left}"
    r = run_cli('prepare', SAMPLES, cache, '--workers', '2', '--figure', 'none')
    assert r.returncode == 0 and 'failed 0' in r.stdout, (r.stdout, r.stderr)
    assert sorted(p.name for p in cache.iterdir()) == ['bbaf2n.npz', 'bgbb3a.npz', 'brbm6n.npz', 'config.json']  # no temporary file

# --- 3. a quiet and honest command line --------------------------------------------------------------------------------

def test_quiet_prepare_prints_only_errors(tmp_path):
    corpus = tmp_path/'corpus'; corpus.mkdir()
    (corpus/'bbaf2n.mpg').symlink_to(SAMPLES/'bbaf2n.mpg')
    (corpus/'garbage.mp4').write_bytes(b'\x00garbage' * 100)
    r = run_cli('--quiet', 'prepare', corpus, tmp_path/'cache', '--workers', '1')
    assert r.returncode == 3 and r.stdout == '', r.stdout  # no progress bar, summary or figure line; some failed (issue #30)
    assert len(lines(r)) == 2 and lines(r)[0].startswith(f"  failed garbage: '{corpus/'garbage.mp4'}': unreadable video"), r.stderr
    assert lines(r)[1] == 'lipsound2: 1 of 2 failed (see above)', r.stderr
    assert (tmp_path/'cache'/'bbaf2n.npz').exists() and (tmp_path/'cache'/'preview.png').exists()
    (tmp_path/'cache'/'bbaf2n.npz').write_bytes(b'not a cache file')
    r = run_cli('--quiet', 'prepare', corpus, tmp_path/'cache', '--workers', '1')
    assert r.returncode == 3 and r.stdout == '' and len(lines(r)) == 2 and 'garbage' in r.stderr, r.stderr  # a re-made file is a warning: quiet
    r = run_cli('prepare', corpus, tmp_path/'cache', '--workers', '1', '--figure', 'none')
    assert 'made again' not in r.stderr, r.stderr  # it was made again above
    r = run_cli('prepare', '-q', tmp_path/'nope', tmp_path/'cache')  # after the command too
    assert r.returncode == 1 and r.stdout == '' and lines(r) == [f"lipsound2: '{tmp_path/'nope'}': no such corpus folder"]

def test_quiet_speak_on_a_terminal_shows_no_progress_and_only_errors(tmp_path, tiny_ckpt):
    folder = tmp_path/'videos'
    video(folder/'a.mp4', 10); video(folder/'b.mp4', 1)
    status, out, term = run_on_terminal('--quiet', 'speak', folder, '-o', tmp_path/'wavs', '--checkpoint', tiny_ckpt)
    assert status == 3 and out == '', out  # some failed (issue #30)
    assert term.splitlines() == [f"lipsound2: skipped: '{folder/'b.mp4'}': the video is too short (1 frame, 0.04 s); "
                                 "at least 0.30 s is needed to hold a word", "lipsound2: 1 of 2 failed (see above)"], term

def test_speak_shows_progress_with_time_left_on_a_terminal_only(tmp_path, tiny_ckpt):
    folder = tmp_path/'videos'
    for n in ('a', 'b', 'c'): video(folder/f'{n}.mp4', 10)
    status, out, term = run_on_terminal('speak', folder, '-o', tmp_path/'wavs', '--checkpoint', tiny_ckpt)
    assert status == 0, (out, term)
    assert [l.split(' -> ')[0] for l in out.splitlines()] == [str(folder/f'{n}.mp4') for n in 'abc']  # stdout: results only
    progress = term.splitlines()
    assert [l.split(',')[0] for l in progress] == [f"lipsound2: [{i}/3] {folder/f'{n}.mp4'}" for i, n in zip((1, 2, 3), 'abc')], term
    assert progress[1].endswith(' left') and 'about 0:' in progress[1], term  # an estimate of the time left, from the first
    r = run_cli('speak', folder, '-o', tmp_path/'wavs2', '--checkpoint', tiny_ckpt)  # stderr not a terminal: no progress
    assert r.returncode == 0 and r.stderr == '', r.stderr

@needs_jasper
def test_read_keeps_its_text_lines_on_stdout_with_progress_on_the_terminal(tmp_path, tiny_ckpt):
    folder = tmp_path/'videos'
    for n in ('a', 'b'): video(folder/f'{n}.mp4', 10)
    for flag in ([], ['--quiet']):
        status, out, term = run_on_terminal(*flag, 'read', folder, '--checkpoint', tiny_ckpt)
        assert status == 0, term
        assert [l.split('\t')[0] for l in out.splitlines()] == [str(folder/'a.mp4'), str(folder/'b.mp4')], out
        assert all(len(l.split('\t')) == 2 for l in out.splitlines())
        assert len(term.splitlines()) == (0 if flag else 2) and all(l.startswith('lipsound2: [') for l in term.splitlines()), term

def test_verbose_shows_the_traceback_of_an_error(tmp_path):
    r = run_cli('--verbose', 'prepare', tmp_path/'nope', tmp_path/'cache')
    assert r.returncode == 1 and 'Traceback (most recent call last)' in r.stderr and 'CorpusError' in r.stderr, r.stderr
    assert lines(r)[-1] == f"lipsound2: '{tmp_path/'nope'}': no such corpus folder"
    r = run_cli('prepare', tmp_path/'nope', tmp_path/'cache')
    assert 'Traceback' not in r.stderr
    for args in (['--quiet', '--verbose', 'prepare'], ['--quiet', 'prepare', '--verbose']):  # one or the other
        r = run_cli(*args, tmp_path/'nope', tmp_path/'cache')
        assert r.returncode == 2 and '--quiet' in lines(r)[-1] and '--verbose' in lines(r)[-1], r.stderr

def test_an_unexpected_error_is_one_line_unless_verbose(monkeypatch, capsys):
    from lipsound2 import cli
    def broken(a): raise RuntimeError('a bug')
    monkeypatch.setattr(cli.parser, 'cmd_unpack', broken)   # the parser binds the command it runs
    assert cli.main(['unpack', 'x.pack', 'cache']) == 1
    err = capsys.readouterr().err
    assert err == "lipsound2: unexpected error: RuntimeError: a bug (run again with --verbose for the traceback)\n", err
    assert cli.main(['--verbose', 'unpack', 'x.pack', 'cache']) == 1
    err = capsys.readouterr().err
    assert 'Traceback (most recent call last)' in err and "raise RuntimeError('a bug')" in err, err
    assert err.splitlines()[-1] == "lipsound2: unexpected error: RuntimeError: a bug"
