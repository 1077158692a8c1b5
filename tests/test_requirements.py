"""A fresh install brings every import: each top-level module imported by the package, the notebooks, tests/, bench/
and tools/ is from the standard library, the project itself, or a distribution that settings.ini's `requirements` and
`dev_requirements` install (with what they require in turn), and every requirement is pinned. This is what a new
machine checks (README's install into a new virtual environment, `.ci/run`); here it is a fast static check against the
installed metadata (importlib.metadata), so a missing requirement fails the fast tier too."""
import ast, configparser, importlib.metadata as md, json, re, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CFG = configparser.ConfigParser(); CFG.read(ROOT/'settings.ini'); CFG = CFG['DEFAULT']
LIB = CFG['lib_name']
REQ_KEYS = ('requirements', 'dev_requirements')
# imports that no registry provides, allowed in the one file that makes them (module: (file, why))
EXTERNAL = {'model': ('bench/run.py', "NVIDIA/tacotron2's model.py, imported from the local copy given by --tacotron2 (never vendored)")}

def norm(name:str) -> str: return re.sub(r'[-_.]+', '-', name).lower()      # PEP 503 names
def req_name(req:str) -> str: return norm(re.split(r'[<>=!~\[;( ]', req.strip(), maxsplit=1)[0])

def declared() -> list[str]: return [r for k in REQ_KEYS for r in (CFG.get(k) or '').split()]

def closure(names) -> set[str]:
    "The distributions `names` install: themselves and, recursively, their unconditional requirements (extras left out)."
    seen, todo = set(), [norm(n) for n in names]
    while todo:
        n = todo.pop()
        if n in seen: continue
        seen.add(n)
        try: reqs = md.requires(n) or []
        except md.PackageNotFoundError: continue   # not installed here: test_declared_installed says so
        todo += [req_name(r) for r in reqs if 'extra ==' not in r.replace('"', "'").replace("'", '')
                 and 'extra==' not in r.replace(' ', '')]
    return seen

def imports_of(src:str):
    "Top-level names of absolute imports in `src` (relative imports are the project's own)."
    try: tree = ast.parse(src)
    except SyntaxError: return
    for n in ast.walk(tree):
        if isinstance(n, ast.Import): yield from (a.name.split('.')[0] for a in n.names)
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module: yield n.module.split('.')[0]

def notebook_code(fn:Path) -> str:
    "The code cells of a notebook, without shell (`!`) and magic (`%`) lines."
    cells = json.loads(fn.read_text())['cells']
    code = '\n'.join(''.join(c['source']) for c in cells if c['cell_type'] == 'code')
    return '\n'.join(l for l in code.splitlines() if not l.lstrip().startswith(('!', '%')))

def sources() -> dict[str, str]:
    "{path relative to the repository: source} of every file whose imports a user of the repository runs."
    out = {}
    for pat in (f'{LIB}/**/*.py', 'tests/**/*.py', 'bench/**/*.py', 'tools/**/*.py', '*.py'):
        for p in ROOT.glob(pat): out[str(p.relative_to(ROOT))] = p.read_text(errors='replace')
    for p in (ROOT/'nbs').glob('*.ipynb'): out[str(p.relative_to(ROOT))] = notebook_code(p)
    return out

def local_modules() -> set[str]:
    "Modules that are files of the repository itself (tests' `conftest`, bench's `benchlib`, ...)."
    return {p.stem for d in ('tests', 'bench', 'tools', '.') for p in (ROOT/d).glob('*.py')} | {LIB}

def missing_imports(srcs:dict[str, str], provided:set[str]) -> dict[str, set[str]]:
    "{module: files importing it} of top-level modules that are neither stdlib, local, nor in the `provided` distributions."
    mod2dist, local, miss = md.packages_distributions(), local_modules(), {}
    for path, src in srcs.items():
        for top in imports_of(src):
            if top in sys.stdlib_module_names or top in local or top == '__future__': continue
            if EXTERNAL.get(top, ('',))[0] == path: continue
            if {norm(d) for d in mod2dist.get(top, [])} & provided: continue
            miss.setdefault(top, set()).add(path)
    return miss

def test_requirements_pinned():
    "Every requirement is an exact pin, so one `pip install -e \".[dev]\"` gives the same environment everywhere."
    loose = [r for r in declared() if not re.fullmatch(r'[A-Za-z0-9._\-\[\],]+==[A-Za-z0-9.+!\-]+', r)]
    assert not loose, f"settings.ini: requirements without an exact `==` pin: {loose}"
    names = [req_name(r) for r in declared()]
    assert len(names) == len(set(names)), f"settings.ini names a requirement twice: {sorted(n for n in names if names.count(n) > 1)}"

def test_declared_installed():
    "The environment the tests run in is the one settings.ini pins (otherwise the import check below proves nothing)."
    wrong = []
    for r in declared():
        name, ver = r.split('==')
        try: got = md.version(req_name(name))
        except md.PackageNotFoundError: got = None
        if got != ver: wrong.append(f"{r} (installed: {got})")
    assert not wrong, "installed versions differ from settings.ini's pins (run README's install command): " + ', '.join(wrong)

def test_every_import_is_declared():
    miss = missing_imports(sources(), closure(req_name(r) for r in declared()))
    assert not miss, ("imports that README's install would not bring on a fresh machine (add them to settings.ini, pinned): " +
                      '; '.join(f"{m} ({', '.join(sorted(p)[:3])})" for m, p in sorted(miss.items())))

def test_check_catches_a_missing_requirement():
    "The check works: without nbformat declared, a file importing it is reported; stdlib, local and project imports are not."
    provided = closure(req_name(r) for r in declared() if req_name(r) != 'nbformat')
    if 'nbformat' in provided: pytest.skip("another requirement brings nbformat along")
    assert missing_imports({'bench/x.py': 'import model'}, provided) == {'model': {'bench/x.py'}}   # allowed in its one file only
    srcs = {'x.py': 'import os, json\nfrom conftest import ROOT\nimport nbformat.v4\nfrom lipsound2.core import data_root\nfrom . import y'}
    assert missing_imports(srcs, provided) == {'nbformat': {'x.py'}}
