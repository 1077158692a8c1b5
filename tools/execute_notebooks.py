#!/usr/bin/env python
"""Execute notebooks in place so that their committed outputs come from a real run, with nbdev's own machinery.

    LIPSOUND2_DATA=/path/to/data python tools/execute_notebooks.py nbs/01_v2s.encoder.ipynb nbs/09b_listening.ipynb

Each notebook runs in a process of its own, in execnb's `CaptureShell` (as `nbdev_test` runs it), from its own folder, one thread per process
(`OMP_NUM_THREADS=1`), figures as PNG at 72 dpi
(stored as 256-colour palette PNGs, a third of the size). Cells flagged `#| slow` or `#| cuda` (settings.ini `tst_flags`), cells
with `#| eval: false` and the closing `nbdev_export()` cell are not run: their outputs stay as committed (the slow and
GPU cells' outputs come from the real runs; `--flags slow` runs the slow ones too). Every other code cell gets fresh outputs. A cell that raises stops that
notebook, which is then left unchanged (the error is printed, the exit status is 1). Written notebooks are then cleaned
with `nbdev_clean --fname` (which keeps outputs), so that CI's `nbdev_clean` + `git status` check stays clean.
"""
import argparse, json, os, secrets, subprocess, sys, time
from pathlib import Path

SKIP_FLAGS = {'slow', 'cuda'}

def _skip(cell, run_flags=()) -> bool:
    "True for cells whose outputs stay as committed."
    if cell.cell_type != 'code': return True
    if 'nbdev_export' + '(' in cell.source: return True
    d = getattr(cell, 'directives_', {}) or {}
    return bool((SKIP_FLAGS - set(run_flags)) & d.keys()) or d.get('eval:', [''])[0].lower() == 'false'

def _palette_png(b64:str) -> str:
    "A PNG output (base64) as a 256-colour palette PNG when that is smaller: figures are colour-mapped images and text, so nothing visible is lost."
    import base64, io
    from PIL import Image
    raw = base64.b64decode(b64)
    im = Image.open(io.BytesIO(raw)).convert('RGB').quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO(); im.save(buf, 'PNG', optimize=True)
    return base64.b64encode(buf.getvalue()).decode() if buf.tell() < len(raw) else b64

def _shrink_images(outputs:list) -> list:
    for o in outputs:
        data = o.get('data', {})
        if 'image/png' in data:
            png = data['image/png']
            data['image/png'] = _palette_png(''.join(png) if isinstance(png, list) else png)
    return outputs

def execute(fn:Path, dpi:int=72, flags:tuple=()) -> float:
    "Run `fn` in place (see the module docstring); returns the seconds it took. Raises on a failing cell."
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    t0 = time.time()
    raw = json.loads(fn.read_text())
    if any('id' not in c for c in raw['cells']):  # outputs are matched to cells by id below: a cell without one would keep none
        for c in raw['cells']: c.setdefault('id', secrets.token_hex(4))
        fn.write_text(json.dumps(raw, indent=1, ensure_ascii=False) + '\n')
    nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb  # parses the `#|` directives, as nbdev_test does
    shell = CaptureShell(fn, mpl_format='png')
    shell.run_cell(f"import matplotlib as _mpl; _mpl.rcParams.update({{'figure.dpi': {dpi}, 'savefig.dpi': {dpi}}}); del _mpl")
    with working_directory(fn.parent):
        for cell in nb.cells:
            if _skip(cell, flags): continue
            cell.outputs = []
            shell.cell(cell)
            if shell.exc: raise RuntimeError(shell.prettytb(fname=fn))
    out = read_nb(fn)  # the file as it is, with the new outputs of the cells that ran: nothing else changes
    ran = {c.id: c.get('outputs', []) for c in nb.cells if not _skip(c, flags)}  # by cell id: processing may drop cells (front matter)
    for c in out.cells:
        if c.get('id') in ran: c['outputs'] = _shrink_images(ran[c['id']])
        if c.cell_type == 'code': c['execution_count'] = None
    write_nb(out, fn)
    subprocess.run(['nbdev_clean', '--fname', str(fn)], check=True)
    return time.time() - t0

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('notebooks', nargs='+', type=Path)
    p.add_argument('--dpi', type=int, default=72, help="resolution of the figures' PNG outputs")
    p.add_argument('--flags', default='', help="space-separated flags whose cells run too, e.g. 'slow' to remake a real run's outputs")
    a = p.parse_args(argv)
    os.environ['OMP_NUM_THREADS'] = '1'; os.environ.setdefault('MPLBACKEND', 'Agg')
    if not os.environ.get('LIPSOUND2_DATA'): print('warning: LIPSOUND2_DATA is not set: cells that need the corpus show that it is missing', file=sys.stderr)
    if len(a.notebooks) > 1:  # one process each: what a notebook sets globally (pandas display options, torch threads) must not reach the next
        rest = ['--dpi', str(a.dpi), '--flags', a.flags]
        return 1 if sum(subprocess.run([sys.executable, __file__, str(fn), *rest]).returncode != 0 for fn in a.notebooks) else 0
    fn = a.notebooks[0]
    try: print(f'{fn}: {execute(fn.resolve(), a.dpi, tuple(a.flags.split())):.0f} s, {fn.stat().st_size/1e3:.0f} KB')
    except Exception as e: print(f'{fn}: FAILED, left unchanged\n{e}', file=sys.stderr); return 1
    return 0

if __name__ == '__main__': sys.exit(main())
