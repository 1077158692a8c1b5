"""Every line of README's "Use" block and its Python snippet, run as written on small real data: the shipped samples,
a 4-clip GRID s1 corpus (2 train, 1 val, 1 test, linked from `$LIPSOUND2_DATA/grid/s1`) and the split file cut to
those clips, with 1 epoch of the tiny config for training lines and `--limit 1` for `evaluate`. Lines that need the
corpus (or a run trained on it) are skipped without `LIPSOUND2_DATA`. The lines run in order in one folder, as a
reader would run them; each must exit 0 and leave its outputs."""
import csv, re, shlex, shutil, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT, GRID, run_cli

README = (ROOT/'README.md').read_text()
USE = re.search(r"## Use\s*```sh\n(.*?)```", README, re.S).group(1)
LINES = [l.strip() for l in USE.splitlines() if l.strip()]
SNIPPET = re.search(r"```python\n(.*?)```", README, re.S).group(1)

SUBST = {'path/to/videos': 'samples', 'path/to/grid': 'grid', 'path/to/recordings': 'recordings', 'speech.wav': 'out/bbaf2n_nar.wav'}
FAST = {'train': ['--epochs', '1', '--config', 'tiny', '--bs', '2', '--threads', '1'], 'pretrain-audio': ['--epochs', '1', '--config', 'tiny'],
        'prepare': ['--workers', '1'], 'evaluate': ['--limit', '1']}   # the same commands at test size
NEEDS_CORPUS = ('path/to/grid', 'grid_mouth48', 'runs/', 'path/to/recordings')

def args_of(line:str) -> list[str]:
    "The command's arguments (after `lipsound2`), README placeholders replaced and the test-size options appended."
    for k, v in SUBST.items(): line = line.replace(k, v)
    a = shlex.split(line, comments=True)
    assert a[0] == 'lipsound2', line
    return a[1:] + FAST.get(a[1], [])

def outputs_of(a:list[str]) -> list[str]:
    "Files or folders the command must leave: `prepare`'s cache, `train`'s best.pt, `speak`'s -o, `evaluate`'s --out."
    opt = lambda *names: next((a[i+1] for i, x in enumerate(a) if x in names), None)
    if a[0] == 'prepare': return [a[2] + '/config.json']
    if a[0] in ('train', 'pretrain-audio'): return [opt('--out') + '/best.pt']
    if a[0] == 'speak': return [opt('-o', '--output')]
    if a[0] == 'evaluate': return [opt('--out') or 'out/metrics.csv']
    return []

@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    "A folder laid out as README assumes: samples/, splits/ (cut to the small corpus), grid/ and recordings/ (with the corpus)."
    d = tmp_path_factory.mktemp('readme')
    (d/'samples').symlink_to(ROOT/'samples')
    (d/'splits').mkdir()
    if GRID is not None:
        src, s1 = GRID/'s1', d/'grid'/'s1'
        rows = list(csv.DictReader(open(src/'manifest.csv')))
        pick = [r for s, n in (('train', 2), ('val', 1), ('test', 1)) for r in [r for r in rows if r['split'] == s][:n]]
        for sub, ext in (('video', 'mp4'), ('audio', 'flac'), ('align', 'align')):
            (s1/sub).mkdir(parents=True)
            for r in pick: (s1/sub/f"{r['utt_id']}.{ext}").symlink_to(src/sub/f"{r['utt_id']}.{ext}")
        with open(s1/'manifest.csv', 'w', newline='') as f:
            w = csv.DictWriter(f, rows[0].keys()); w.writeheader(); w.writerows(pick)
        (d/'splits'/'grid_s1_speaker_dependent.csv').write_text('utt_id,split\n' + ''.join(f"{r['utt_id']},{r['split']}\n" for r in pick))
        (d/'recordings').mkdir()
        for r in pick[:2]: (d/'recordings'/f"{r['utt_id']}.flac").symlink_to(src/'audio'/f"{r['utt_id']}.flac")
    return d

@pytest.mark.parametrize('line', LINES, ids=[shlex.split(l, comments=True)[1] + f'-{i}' for i, l in enumerate(LINES)])
def test_use_line(line, workdir, capsys, monkeypatch):
    if GRID is None and any(k in line for k in NEEDS_CORPUS): pytest.skip("needs the GRID corpus (set LIPSOUND2_DATA)")
    a = args_of(line)
    r = run_cli(*a, cwd=workdir)
    assert r.returncode == 0, f"{line}\n-> lipsound2 {shlex.join(a)}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    for o in outputs_of(a): assert (workdir/o).exists(), f"{line}: no {o}"
    if a[0] in ('transcribe', 'read'): assert len(r.stdout.split()) >= 3, r.stdout   # a sentence was read
    if a[0] == 'evaluate':  # a second run must not overwrite the CSV unless asked (it stops before loading anything)
        from lipsound2.cli import main
        monkeypatch.chdir(workdir)
        assert main(a) == 1 and "exists: give another --out, or --force" in capsys.readouterr().err

def test_python_snippet(workdir):
    "README's Python block: its first part (shipped model on a sample) always, the DataLoaders part with the corpus."
    parts = SNIPPET.split('\n\n')
    code = '\n\n'.join(parts if GRID is not None and (workdir/'cache'/'grid_mouth48').exists() else parts[:1])
    r = subprocess.run([sys.executable, '-c', code], cwd=workdir, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (workdir/'out'/'bbaf2n.wav').stat().st_size > 50_000

def test_placeholders_all_replaced():
    "Every README placeholder is known to the test, so no line silently runs on a missing path."
    left = {p for l in LINES for p in re.findall(r'path/to/\w+', l)} - set(SUBST)
    assert not left, f"README uses placeholders the test does not substitute: {left}"
