"""The notebooks' committed outputs are what the docs site shows: they must stay small, hold no local paths and no
tracebacks. `tools/execute_notebooks.py` makes them; a tiny notebook checks that it keeps slow cells' outputs."""
import importlib.util, json, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted((ROOT/'nbs').glob('*.ipynb'))
NB_BUDGET = 300_000        # bytes of committed outputs per notebook (PNG figures at 72 dpi, Opus players)
TOTAL_BUDGET = 8_000_000   # bytes of the whole nbs/ folder
LOCAL_PATH = re.compile(r"(?<![\w.])(/work/|/tmp/|/root/|/home/\w|/Users/\w|[A-Z]:\\Users\\)")

def outputs(fn):
    "(cell index, output) of every committed output of notebook `fn`."
    for i, c in enumerate(json.loads(fn.read_text())['cells']):
        for o in c.get('outputs', []): yield i, o

def text_of(o) -> str:
    "The text of an output (stream, error, text/* and JSON data), not the base64 of images."
    parts = [o.get('text', ''), o.get('ename', ''), o.get('evalue', ''), '\n'.join(o.get('traceback', []))]
    for k, v in o.get('data', {}).items():
        if k.startswith('text/') or k.endswith('json'): parts.append(v if isinstance(v, str) else ''.join(v) if isinstance(v, list) else json.dumps(v))
    return '\n'.join(p if isinstance(p, str) else ''.join(p) for p in parts)

def outputs_size(fn) -> int: return sum(len(json.dumps(o)) for _, o in outputs(fn))

@pytest.mark.parametrize('fn', NBS, ids=lambda p: p.name)
def test_notebook_outputs_budget(fn):
    assert outputs_size(fn) <= NB_BUDGET, f"{fn.name}: {outputs_size(fn)/1e3:.0f} KB of outputs (budget {NB_BUDGET/1e3:.0f} KB): smaller figures or fewer"

def test_nbs_folder_budget():
    total = sum(p.stat().st_size for p in (ROOT/'nbs').rglob('*') if p.is_file())
    assert total < TOTAL_BUDGET, f"nbs/ holds {total/1e6:.1f} MB (budget {TOTAL_BUDGET/1e6:.0f} MB)"

@pytest.mark.parametrize('fn', NBS, ids=lambda p: p.name)
def test_no_local_paths_or_tracebacks(fn):
    bad = []
    for i, o in outputs(fn):
        t = text_of(o)
        if o['output_type'] == 'error' or 'Traceback (most recent call last)' in t: bad.append(f"cell {i}: a traceback")
        if m := LOCAL_PATH.search(t): bad.append(f"cell {i}: a local path ({t[max(0, m.start()-30):m.end()+30]!r})")
    assert not bad, f"{fn.name}: " + '; '.join(bad)

FIGURE_SHARE = 0.8        # of the module notebooks (`#| default_exp`) show at least one figure (#27)

def is_module_notebook(fn) -> bool:
    return any(c['cell_type'] == 'code' and ''.join(c['source']).lstrip().startswith('#| default_exp')
               for c in json.loads(fn.read_text())['cells'])

def has_figure(fn) -> bool:
    "A committed image output (a matplotlib figure as PNG or SVG)."
    return any(k in o.get('data', {}) for _, o in outputs(fn) for k in ('image/png', 'image/svg+xml'))

def test_module_notebooks_show_figures():
    "Crops, mels, alignments, posteriors and curves are shown, not only described: most module notebooks carry a figure."
    mods = [fn for fn in NBS if is_module_notebook(fn)]
    without = [fn.name for fn in mods if not has_figure(fn)]
    assert len(mods) >= 30, [fn.name for fn in mods]
    assert len(mods) - len(without) >= FIGURE_SHARE * len(mods), \
        f"{len(mods) - len(without)} of {len(mods)} module notebooks show a figure (at least {FIGURE_SHARE:.0%}); without one: {without}"

def test_text_checks():
    "The checks above catch what they should on made-up outputs."
    assert LOCAL_PATH.search("saved /work/main/out.png") and LOCAL_PATH.search("C:\\Users\\me") and LOCAL_PATH.search("'/home/ann/x'")
    assert not LOCAL_PATH.search("results/val_metrics.csv, a/tmp/b, 3 s/tmp") and not LOCAL_PATH.search("https://x.org/home/page")
    assert 'Traceback' in text_of(dict(output_type='error', ename='E', evalue='', traceback=['Traceback (most recent call last)']))

def _tool():
    spec = importlib.util.spec_from_file_location('execute_notebooks', ROOT/'tools'/'execute_notebooks.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m

def test_execute_notebooks(tmp_path):
    "The tool runs the cells (fresh outputs), keeps a slow cell's committed output, skips `eval: false`, and leaves a failing notebook unchanged."
    import nbformat
    nb = nbformat.v4.new_notebook(metadata={'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}})
    slow = nbformat.v4.new_code_cell('#| slow\nprint("recomputed")', id='c2')
    slow.outputs = [nbformat.v4.new_output('stream', name='stdout', text='from the real run\n')]
    nb.cells = [nbformat.v4.new_code_cell('x = 6*7', id='c0'), nbformat.v4.new_code_cell('x', id='c1'), slow,
                nbformat.v4.new_code_cell('#| eval: false\nraise SystemExit', id='c3')]
    nb.cells[1].outputs = [nbformat.v4.new_output('stream', name='stdout', text='stale\n')]
    fn = tmp_path/'t.ipynb'; nbformat.write(nb, fn)
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'execute_notebooks.py'), str(fn)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    cells = json.loads(fn.read_text())['cells']
    assert [''.join(o['data']['text/plain']) for o in cells[1]['outputs']] == ['42']
    assert ''.join(cells[2]['outputs'][0]['text']) == 'from the real run\n' and cells[3]['outputs'] == []
    nb.cells[0].source = '1/0'; nbformat.write(nb, fn); before = fn.read_text()
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'execute_notebooks.py'), str(fn)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 1 and 'ZeroDivisionError' in r.stderr and fn.read_text() == before

def test_execute_notebooks_apart(tmp_path):
    "Several notebooks run one process each: what one sets globally does not reach the next; a failure is reported and the rest run."
    import nbformat
    def write(name, *sources):
        nb = nbformat.v4.new_notebook(metadata={'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}})
        nb.cells = [nbformat.v4.new_code_cell(src, id=f'c{i}') for i, src in enumerate(sources)]
        nbformat.write(nb, tmp_path/name); return tmp_path/name
    fns = [write('a.ipynb', "import os; os.environ['LEAK'] = 'a'"), write('b.ipynb', '1/0'), write('c.ipynb', "import os; os.environ.get('LEAK', 'none')")]
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'execute_notebooks.py'), *map(str, fns)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 1 and 'b.ipynb: FAILED' in r.stderr
    assert ''.join(json.loads(fns[2].read_text())['cells'][0]['outputs'][0]['data']['text/plain']) == "'none'"
    d = json.loads(fns[0].read_text()); d['cells'].append(dict(cell_type='code', metadata={}, execution_count=None, outputs=[], source='6*7'))
    fns[0].write_text(json.dumps(d))                     # a cell added by hand, without an id, still gets its output
    assert subprocess.run([sys.executable, str(ROOT/'tools'/'execute_notebooks.py'), str(fns[0])], cwd=ROOT).returncode == 0
    assert ''.join(json.loads(fns[0].read_text())['cells'][1]['outputs'][0]['data']['text/plain']) == '42'

def test_palette_png():
    "Figures are stored as palette PNGs of the same picture, and smaller."
    import base64, io
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt, numpy as np
    from PIL import Image
    fig, ax = plt.subplots(figsize=(4, 2), dpi=72); im = ax.imshow(np.random.default_rng(0).normal(size=(40, 200)), aspect='auto', cmap='magma')
    fig.colorbar(im); buf = io.BytesIO(); fig.savefig(buf, format='png'); plt.close(fig)
    b64 = base64.b64encode(buf.getvalue()).decode()
    out = _tool()._palette_png(b64)
    a, b = (np.asarray(Image.open(io.BytesIO(base64.b64decode(x))).convert('RGB'), dtype=int) for x in (b64, out))
    assert len(out) < len(b64) and a.shape == b.shape and np.abs(a - b).mean() < 2
