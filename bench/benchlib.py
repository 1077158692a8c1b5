"""Helpers shared by the benchmark scripts: the machine's description and a child process's time and peak memory."""
import json, os, platform, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT/'samples'

def cpu_model() -> str:
    "The CPU's model name (Linux /proc/cpuinfo), else what `platform` knows."
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()

def machine() -> str:
    "One line: CPU, cores, torch and Python versions, and the load average (1 and 5 min) right now: other jobs slow every row."
    import torch
    la = os.getloadavg()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'
    return (f"{cpu_model()}, {os.cpu_count()} cores, {gpu}, torch {torch.__version__}, Python {platform.python_version()}, "
            f"load {la[0]:.2f}/{la[1]:.2f}")

def run_child(cmd:list, env:dict|None=None, cwd=ROOT) -> dict:
    """Run `cmd`; returns dict(wall, user, sys (seconds), peak_mb (the child's peak resident memory, Linux `ru_maxrss`),
    stdout). Raises `RuntimeError` with the end of stderr when it fails."""
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0); err.seek(0)
        if os.waitstatus_to_exitcode(status): raise RuntimeError(f"{' '.join(map(str, cmd))} failed: {err.read()[-2000:]}")
        return dict(wall=wall, user=usage.ru_utime, sys=usage.ru_stime, peak_mb=usage.ru_maxrss/1024, stdout=out.read())

def child_json(code:str, *args, env:dict|None=None) -> dict:
    "Run Python `code` (which prints one JSON line last) in a fresh process: that dict plus `run_child`'s measures."
    r = run_child([sys.executable, '-c', code, *map(str, args)], env=env)
    return dict(r, **json.loads(r['stdout'].strip().splitlines()[-1]))
