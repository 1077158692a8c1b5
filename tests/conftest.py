import contextlib, io, os, resource, shutil, subprocess, sys, tempfile, time, warnings
from pathlib import Path
import pytest
from lipsound2.core import data_root, weights_dir

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT/'samples'
GRID = data_root('grid', required=False)   # $LIPSOUND2_DATA/grid (the Makefile points it at the staged corpus)

def _fresh_cli(args:list[str], cwd) -> subprocess.CompletedProcess:
    "The installed `lipsound2` command in a new process."
    exe = shutil.which('lipsound2')
    cmd = [exe, *args] if exe else [sys.executable, '-c', 'import sys; from lipsound2.cli import main; sys.exit(main())', *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=600)

def _python_default_warnings():
    "A fresh interpreter's warning filters and display (pytest records warnings instead of printing them)."
    warnings.resetwarnings()
    warnings.simplefilter('default')
    for c in (ResourceWarning, ImportWarning, PendingDeprecationWarning, DeprecationWarning): warnings.simplefilter('ignore', c)
    warnings.filterwarnings('default', category=DeprecationWarning, module='__main__')
    warnings.showwarning = lambda m, c, f, l, file=None, line=None: sys.stderr.write(warnings.formatwarning(m, c, f, l, line))

def _in_process_cli(args:list[str], cwd) -> subprocess.CompletedProcess:
    """`lipsound2.cli.main(args)` in this process, as the command would run it: from `cwd`, with stdout and stderr
    captured at the file-descriptor level too (native libraries' and worker processes' output), a fresh interpreter's
    warning display, and the environment, working directory and torch's thread count restored afterwards."""
    from lipsound2.cli import main
    out, err, env, here = io.StringIO(), io.StringIO(), dict(os.environ), os.getcwd()
    threads = sys.modules['torch'].get_num_threads() if 'torch' in sys.modules else None
    with tempfile.TemporaryFile() as fd_out, tempfile.TemporaryFile() as fd_err:
        sys.stdout.flush(); sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        try:
            os.dup2(fd_out.fileno(), 1); os.dup2(fd_err.fileno(), 2); os.chdir(cwd)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
                _python_default_warnings()
                try: rc = main(args)
                except SystemExit as e:            # argparse errors (2) and `sys.exit(message)` (1, message on stderr)
                    if isinstance(e.code, str): print(e.code, file=sys.stderr)
                    rc = 0 if e.code is None else e.code if isinstance(e.code, int) else 1
        finally:
            os.dup2(saved[0], 1); os.dup2(saved[1], 2); os.close(saved[0]); os.close(saved[1]); os.chdir(here)
            os.environ.clear(); os.environ.update(env)
            if threads is not None and sys.modules['torch'].get_num_threads() != threads: sys.modules['torch'].set_num_threads(threads)
        fd_out.seek(0); fd_err.seek(0)
        return subprocess.CompletedProcess(['lipsound2', *args], rc, out.getvalue() + fd_out.read().decode(errors='replace'),
                                           err.getvalue() + fd_err.read().decode(errors='replace'))

def run_cli(*args, cwd=None, check=False, fresh=False):
    """Run the `lipsound2` command with `args`; returns a CompletedProcess (text output). By default in this process
    (`lipsound2.cli.main`: no interpreter, torch or model start-up per call, which made the suite slow); `fresh=True`:
    the installed command in a new process, for what only a new process shows (start-up, the crops worker forked before
    torch, signals, exit codes of crashes)."""
    args = list(map(str, args))
    r = (_fresh_cli if fresh else _in_process_cli)(args, cwd or ROOT)
    if check and r.returncode: raise AssertionError(f"lipsound2 {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r

@pytest.fixture
def grid():
    if GRID is None: pytest.skip("the GRID corpus is not staged (set LIPSOUND2_DATA): GRID tests need it")
    return GRID

# ----------------------------------------------------------------- tiers
# `make test` runs the fast tier (`-m "not slow"`, pyproject's addopts); `make test-slow` the tests marked `slow`:
# long integration runs (torchrun, Dask clusters, full CLI batches, timing-sensitive checks).

# ----------------------------------------------------------------- CPU time per test
# `pytest --cpu-durations=N` lists the N tests that took the most CPU time (this process and its finished children):
# on a shared machine wall-clock durations swing with the load, CPU seconds much less.
def pytest_addoption(parser):
    parser.addoption('--cpu-durations', type=int, default=None, metavar='N', help="show the N tests that used the most CPU time")

def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

_CPU = {}
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    c0, t0 = _cpu(), time.perf_counter()
    yield
    _CPU[item.nodeid] = (_cpu() - c0, time.perf_counter() - t0)

def pytest_terminal_summary(terminalreporter, exitstatus, config):
    n = config.getoption('--cpu-durations')
    if not n or not _CPU: return
    terminalreporter.write_sep('=', f'{n} tests using the most CPU (s, this process + finished children; wall s)')
    for k, (c, w) in sorted(_CPU.items(), key=lambda kv: -kv[1][0])[:n]: terminalreporter.write_line(f'{c:8.1f} {w:8.1f}  {k}')
    terminalreporter.write_line(f'{sum(c for c, _ in _CPU.values()):8.1f} {sum(w for _, w in _CPU.values()):8.1f}  total of {len(_CPU)} tests')

@pytest.fixture(scope='module')
def tiny_ckpt(tmp_path_factory):
    "A random-weight tiny LipSound2 checkpoint (fast on CPU), trained-on settings `PrepConfig()`."
    import torch
    from lipsound2.v2s.model import LipSound2, save_model
    from lipsound2.config import LipSound2Config, PrepConfig
    torch.manual_seed(0)
    return save_model(LipSound2(LipSound2Config.tiny()), tmp_path_factory.mktemp('ckpt')/'tiny.pt', prep=PrepConfig())
