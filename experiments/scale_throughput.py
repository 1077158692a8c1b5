"""Throughput of the scale-out paths on this machine: preprocessing frames/s with 1 and 2 local workers, a 2-worker
Dask LocalCluster and shards; training utterances/s with 1 and 2 torchrun processes (CPU, gloo). Prints a Markdown
table and writes it as JSON. Usage: LIPSOUND2_DATA=... python experiments/scale_throughput.py [N_UTTERANCES] [OUT.json]"""
import json, os, subprocess, sys, tempfile, time
from pathlib import Path
os.environ.setdefault('OMP_NUM_THREADS', '1')
from lipsound2.config import PrepConfig
from lipsound2.corpora.core import grid_split
from lipsound2.data.core import prepare, save_split
from lipsound2.data.shards import prepare_shards
from lipsound2.data.distributed import dask_client

def main(n=24, out='results/scale_throughput.json'):
    utts = grid_split('train')[:n]
    cfg, rows = PrepConfig.preset('mouth48'), []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        for name, kw in (('local, 1 worker', dict(n_workers=1)), ('local, 2 workers', dict(n_workers=2))):
            r = prepare(utts, d/name.replace(' ', '').replace(',', '_'), cfg, progress=False, **kw)
            rows.append(dict(what=f'prepare ({name})', frames=r['frames'], seconds=round(r['seconds'], 1), rate=round(r['frames']/r['seconds'], 1), unit='frames/s'))
        with dask_client(cluster='local:2') as client:
            t0 = time.perf_counter(); r = prepare(utts, d/'dask', cfg, client=client, progress=False); s = time.perf_counter() - t0
        rows.append(dict(what='prepare (Dask LocalCluster, 2 workers; start-up excluded)', frames=r['frames'], seconds=round(s, 1), rate=round(r['frames']/s, 1), unit='frames/s'))
        r = prepare_shards(utts, d/'shards', cfg, shard_size=max(1, n//4), n_workers=2, progress=False)
        rows.append(dict(what='prepare --shards (2 workers, 4 shards)', frames=r['frames'], seconds=round(r['seconds'], 1), rate=round(r['frames']/r['seconds'], 1), unit='frames/s'))
        ids = sorted(u.utt_id for u in utts)
        save_split({u: ('val' if i < 2 else 'train') for i, u in enumerate(ids)}, d/'split.csv')
        n_train = len(ids) - 2
        for nproc, bs in ((1, 8), (2, 4)):
            run = d/f'run{nproc}'
            cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={nproc}', '-m', 'lipsound2', 'train',
                   str(d/'local_1worker'), '--out', str(run), '--split', str(d/'split.csv'), '--config', 'small', '--bs', str(bs),
                   '--epochs', '2', '--threads', '1', '--num-workers', '0', '--no-free-running']
            subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})
            h = json.loads((run/'history.json').read_text())
            s = h[-1]['seconds']  # second epoch: no start-up
            rows.append(dict(what=f'train, small config, {nproc} process{"es" if nproc > 1 else ""} x bs {bs}', frames=n_train, seconds=s,
                             rate=round(n_train/s, 2), unit='utterances/s (epoch incl. validation)'))
    print('| what | amount | seconds | rate |\n|---|---|---|---|')
    for r in rows: print(f"| {r['what']} | {r['frames']} | {r['seconds']} | {r['rate']} {r['unit']} |")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(dict(machine=f'{os.cpu_count()} cores, shared', load=os.getloadavg(), rows=rows), indent=1))

if __name__ == '__main__': main(*(int(a) if a.isdigit() else a for a in sys.argv[1:]))
