#!/usr/bin/env python3
"""The speed benchmark suite (issue 19): every row in one CSV, `results/bench.csv`.

    python bench/run.py [--quick] [--only GROUP ...] [--tacotron2 PATH] [--out results/bench.csv]

Groups (rows: group, row, setting, value, unit, note, machine):
  cold       `lipsound2 speak samples/bbaf2n.mpg` in a fresh process: wall (median of 3), CPU seconds, peak RSS; the same
             for `recognize --modality video` and `av`; imports
  stages     one 3 s clip in one process on one thread: decode, landmarks, crop, mel, the shipped models, the vocoders (RTF)
  folder     `lipsound2 speak` on 20 GRID s1 validation clips copied to a temporary folder, start-up included (x real time),
             and in one process: one clip at a time against `LipSound2Pipeline.batch`
  prepare    `lipsound2.data.core.prepare` frames/s with 1 and 2 workers on a few GRID clips, and on the GRID s1 training split
             (2 workers, landmarks on every frame and on every 3rd)
  training   seconds per GRID s1 epoch (890 training clips) per training preset, measured on a few synthetic batches of
             GRID's shapes (75 frames, 258 mel frames) and scaled; the validation pass (free-running MSE) apart; float32, and
             CPU bfloat16 autocast where the processor has it
  vocoders   real-time factors of Griffin-Lim, HiFi-GAN and WaveGlow (full and small) on one thread
  tacotron2  our attention decoder + Postnet against NVIDIA tacotron2's Decoder + Postnet at matched sizes, one mel frame per
             step, imported at run time from the local copy given by --tacotron2 (ratios from the same run; never vendored)
  scaling    model and vocoder cost against clip length (1.5 to 24 s, repeated crops) and batch size (1 to 32)
  gpu        bf16, torch.compile and CUDA graphs of the decoder loop: measured with a GPU, else 'not measured'
  landmarks  the faster front end, `PrepConfig.landmark_every` k: Face Mesh (tracking) on every k-th frame only, landmarks
             of the frames between interpolated; CPU time and the error of landmarks and crop boxes against every frame,
             in-process preprocessing RTF and `prepare` frames/s (2 workers) per k, the shipped model's STOI/ESTOI
  hifigan    the default vocoder's generator (HiFi-GAN V1 universal) on the CPU, issue 29: CPU s per second of speech of
             each engine and precision (PyTorch fp32 and bf16 autocast, ONNX Runtime 1-D and 2-D graphs, its dynamic int8
             quantisation; `hifigan_speed.py`) and of each stage of the generator, at 1 and 2 threads; first use (export) and
             session start
  hifigan_val  the same variants on the 49 GRID s1 validation clips, copy-synthesis and the default model's speech: STOI,
             ESTOI, PESQ paired against PyTorch fp32 (per-clip rows in results/hifigan_engines_val.csv; about 30 min)
  bounds     where the time of the unmet CPU targets goes, one thread: the parts of a LipSound2-small training step
             (bfloat16) and torch.compile of its two hot parts; Griffin-Lim's share in FFTs; one clip of `prepare` split
             into decoding, Face Mesh and the rest, and the frames/s that 2 cores allow at that cost

The machine column holds the CPU, cores, versions and the load average when the row was measured: other jobs on the
machine slow every row down. `--only` keeps the other groups' rows already in the CSV.
"""
import argparse, contextlib, csv, io, math, os, shutil, statistics, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from benchlib import ROOT, SAMPLES, machine, run_child

GROUPS = ('cold', 'stages', 'folder', 'prepare', 'training', 'vocoders', 'tacotron2', 'scaling', 'gpu', 'landmarks', 'bounds',
          'hifigan', 'hifigan_val')
FIELDS = ('group', 'row', 'setting', 'value', 'unit', 'note', 'machine')
CLIP = SAMPLES/'bbaf2n.mpg'      # a 3 s GRID clip (75 frames at 25 fps)
CLIP_S = 3.0
EPOCH_CLIPS, VAL_CLIPS = 890, 90  # GRID s1 training and validation clips (the default split)

class Rows:
    "Collects rows, writing the CSV after each so that a long run keeps what it measured."
    def __init__(self, out:Path, keep:list): self.out, self.rows = out, keep
    def add(self, group, row, setting, value, unit, note=''):
        v = '' if value is None else (f'{value:.4g}' if isinstance(value, float) else value)
        self.rows.append(dict(group=group, row=row, setting=setting, value=v, unit=unit, note=note, machine=machine()))
        print(f"{group:9} | {row:34} | {setting:34} | {v:>9} {unit:10} | {note}", flush=True)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.out.with_suffix('.tmp')
        with open(tmp, 'w', newline='') as f:
            w = csv.DictWriter(f, FIELDS); w.writeheader(); w.writerows(self.rows)
        os.replace(tmp, self.out)

class Timing(float):
    "Median CPU seconds of the calls (`time.process_time`: all of this process's threads), with the median wall seconds as `.wall`."
    def __new__(cls, cpu, wall): t = super().__new__(cls, cpu); t.wall = wall; return t
    @property
    def note(self) -> str: return f'CPU {float(self):.3f} s, wall {self.wall:.3f} s'

def median_time(fn, repeats:int=3, warmup:int=1) -> Timing:
    """Median over `repeats` calls of `fn()` after `warmup` untimed ones. In-process rows run torch on one thread, so
    CPU seconds are what the wall clock shows on a quiet machine, whatever else the machine runs meanwhile; the
    wall clock, which other jobs stretch, goes in the note."""
    for _ in range(warmup): fn()
    cpu, wall = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter(); fn()
        cpu.append(time.process_time() - c0); wall.append(time.perf_counter() - t0)
    return Timing(statistics.median(cpu), statistics.median(wall))

def _lipsound2_cmd() -> list:
    exe = shutil.which('lipsound2')
    return [exe] if exe else [sys.executable, '-c', 'from lipsound2.cli import run; run()']

def _env(threads:int|None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != 'OMP_NUM_THREADS'}
    if threads: env['OMP_NUM_THREADS'] = str(threads)
    return env

def _threads(t): return f'OMP_NUM_THREADS={t}' if t else 'default threads'

# ---------------------------------------------------------------- cold start
def bench_cold(R:Rows, a):
    repeats = 1 if a.quick else 3
    if 'hifigan-onnx' in a.vocoders:   # its ONNX graph is exported at first use: make it before timing cold starts
        from lipsound2.vocoders.hifigan import onnx_graph; onnx_graph('universal'
    with tempfile.TemporaryDirectory() as d:
        for voc in a.vocoders:
            for threads in (None, 1):
                runs = [run_child(_lipsound2_cmd() + ['speak', CLIP, '-o', Path(d)/f'{voc}_{threads}_{i}.wav', '--vocoder', voc], env=_env(threads))
                        for i in range(repeats)]                  # a new file each time: speak does not overwrite
                wall = statistics.median(r['wall'] for r in runs)
                s = f'{voc}, {_threads(threads)}'
                R.add('cold', 'speak 1 clip (3 s): wall', s, wall, 's', f'median of {repeats}, fresh process, start-up included')
                R.add('cold', 'speak 1 clip (3 s): CPU', s, statistics.median(r['user'] + r['sys'] for r in runs), 's', 'user + system')
                R.add('cold', 'speak 1 clip (3 s): peak RSS', s, max(r['peak_mb'] for r in runs), 'MiB', 'ru_maxrss')
        for modality in ('video', 'av'):               # the audio-visual recogniser: crops made beside torch's import too
            runs = [run_child(_lipsound2_cmd() + ['recognize', CLIP, '--modality', modality], env=_env(None)) for _ in range(repeats)]
            R.add('cold', 'recognize 1 clip (3 s): wall', f'--modality {modality}, default threads', statistics.median(r['wall'] for r in runs), 's',
                  f"median of {repeats}, fresh process, start-up included; CPU {statistics.median(r['user'] + r['sys'] for r in runs):.2f} s")
    code = "import time; import {m}; print('{{\"s\": %f}}' % time.process_time())"
    import json
    for mod in ('lipsound2.cli', 'lipsound2.inference', 'lipsound2.vocoders.hifigan', 'mediapipe', 'torch'):
        runs = [run_child([sys.executable, '-c', code.format(m=mod)], env=_env(1)) for _ in range(repeats)]
        R.add('cold', f'import {mod}', 'fresh process, OMP_NUM_THREADS=1', statistics.median(json.loads(r['stdout'])['s'] for r in runs), 'CPU s',
              f"median of {repeats}; the interpreter's start and everything imported (torch is most of it); "
              f"wall {statistics.median(r['wall'] for r in runs):.2f} s")

# ---------------------------------------------------------------- per stage, one clip
_SHARED = {}
def _shipped():
    "The shipped models, the sample clip's crops and the vocoders, loaded once."
    if not _SHARED:
        import torch
        from lipsound2.v2s.model import load_checkpoint
        from lipsound2.vocoders.base import get_vocoder
        from lipsound2.inference import LipSound2Pipeline
        torch.set_num_threads(1)
        ls2, nar = load_checkpoint('lipsound2_grid_s1.pt').eval(), load_checkpoint('nar_grid_s1.pt').eval()
        pipe = LipSound2Pipeline(ls2, get_vocoder('griffinlim'))
        crops = pipe.preprocess(CLIP)
        _SHARED.update(ls2=ls2, nar=nar, crops=crops, pipe=pipe,
                       voc=dict(griffinlim=get_vocoder('griffinlim'), hifigan=get_vocoder('hifigan')))
    return _SHARED

def _model_seconds(model, crops_list, repeats=3) -> float:
    "Median seconds of the model alone (crops -> mel) on a batch of crop arrays of one length."
    import torch
    from lipsound2.media.video import crops_to_video
    from lipsound2.inference import clip_seeded_prenet
    c = model.cfg
    vids = torch.stack([crops_to_video(x, c.img_size, c.in_channels == 1) for x in crops_list])
    lens = torch.full((len(crops_list),), vids.shape[2])
    def run():
        with clip_seeded_prenet(model, len(crops_list)), torch.inference_mode(): model.infer(vids, lens)
    return median_time(run, repeats)

def _vocoder_rtfs(R:Rows, group:str, a):
    import torch
    sh = _shipped()
    mel = sh['pipe'].speak([sh['crops']])[0].mel          # the shipped model's mel of the clip, (80, 258)
    secs = mel.shape[-1]*256/22050
    for name, voc in sh['voc'].items():
        t = median_time(lambda: voc(mel), 1 if a.quick else 3)
        R.add(group, f'vocoder {name}', '1 thread, 3 s mel', t/secs, 'RTF', f'{t.note} for {secs:.2f} s of audio')

def bench_stages(R:Rows, a):
    import torch
    from types import SimpleNamespace
    from preprocessing_speed import stages
    sh = _shipped()
    prep = sh['ls2'].prep
    u = SimpleNamespace(video=CLIP, audio=CLIP)
    stages([u], prep)                                      # warm-up (mediapipe graph, codecs)
    runs = []
    for _ in range(1 if a.quick else 3):
        c0 = time.process_time(); t, _ = stages([u], prep); cpu = time.process_time() - c0
        runs.append({k: v*cpu/sum(t.values()) for k, v in t.items()})   # the CPU seconds shared out as the wall clock was
    walls = {k: v for k, v in stages([u], prep)[0].items()}
    for k in runs[0]:
        t = statistics.median(r[k] for r in runs)
        note = '; mediapipe Face Mesh on every frame' if k == 'landmarks' else '; training data only (speak skips it)' if k == 'mel' else ''
        R.add('stages', f'preprocess: {k}', f'1 thread, {prep.region} {prep.crop_size} px', t/CLIP_S, 'RTF',
              f'CPU {t:.3f} s, wall {walls[k]:.3f} s{note}')
    pre = sum(statistics.median(r[k] for r in runs) for k in ('decode', 'landmarks', 'crop'))
    R.add('stages', 'preprocess: speak total', '1 thread', pre/CLIP_S, 'RTF', f'CPU {pre:.3f} s (decode + landmarks + crop)')
    for name in ('ls2', 'nar'):
        t = _model_seconds(sh[name], [sh['crops']], 1 if a.quick else 3)
        R.add('stages', f'model {"lipsound2" if name == "ls2" else "nar"}', '1 thread, batch 1', t/CLIP_S, 'RTF', t.note)
    _vocoder_rtfs(R, 'stages', a)

# ---------------------------------------------------------------- a folder of clips
def _grid(n:int|None, split:str='val') -> list:
    "The first `n` (None: all) utterances of a GRID s1 split; [] without the corpus (LIPSOUND2_DATA)."
    from lipsound2.core import data_root
    from lipsound2.corpora.core import read_corpus
    grid = data_root('grid', required=False)
    return [] if grid is None else [u for u in read_corpus(grid) if u.split == split][:n]

def bench_folder(R:Rows, a):
    utts = _grid(20)
    if len(utts) < 20:
        for s in a.vocoders: R.add('folder', 'speak 20 GRID clips', s, None, 'x real time', 'not measured: no GRID corpus (LIPSOUND2_DATA)')
        return
    with tempfile.TemporaryDirectory() as d:
        src = Path(d)/'clips'; src.mkdir()
        for u in utts: shutil.copy(u.video, src/Path(u.video).name)
        from lipsound2.media.video import read_video
        seconds = sum(len(read_video(p)) for p in sorted(src.iterdir()))/25
        for voc in a.vocoders:
            for threads in ((None,) if a.quick else (None, 1)):
                r = run_child(_lipsound2_cmd() + ['speak', src, '-o', Path(d)/f'out_{voc}_{threads}', '--vocoder', voc, '--quiet'], env=_env(threads))
                R.add('folder', 'speak 20 GRID clips', f'{voc}, {_threads(threads)}', seconds/r['wall'], 'x real time',
                      f"{r['wall']:.1f} s wall for {seconds:.0f} s of video, start-up included; CPU {r['user'] + r['sys']:.1f} s; "
                      f"peak {r['peak_mb']:.0f} MiB")
                if threads is None:  # all the work on 2 cores with nothing idle: what 20 clips cannot beat at this CPU cost
                    R.add('folder', 'speak 20 GRID clips: 2-core ceiling', voc, seconds/((r['user'] + r['sys'])/2), 'x real time',
                          f"{seconds:.0f} s of video over half the run's {r['user'] + r['sys']:.1f} CPU s (start-up included)")
        # in one process, start-up excluded: one clip at a time (the old `speak`) against `batch`. CPU seconds per clip do not
        # depend on other jobs; the wall time on 2 free cores is estimated as the busier of the two sides: the main thread
        # (model, vocoder) and the rest of the process (the crops thread and mediapipe's own threads)
        import torch
        from lipsound2.inference import LipSound2Pipeline
        torch.set_num_threads(1)
        paths, n = sorted(src.iterdir()), len(utts)
        for voc in [v for v in ('griffinlim',) if v in a.vocoders]:
            pipe = LipSound2Pipeline.from_pretrained(vocoder=voc)
            pipe(paths[0])                                  # warm-up
            pipe.batch_size = 1
            c0, t0 = time.process_time(), time.perf_counter()
            for p in paths: pipe(p)
            cpu, wall = time.process_time() - c0, time.perf_counter() - t0
            R.add('folder', 'pipeline, one clip at a time', f'{voc}, 1 thread', seconds/cpu, 'x real time',
                  f'by CPU time ({cpu/n:.3f} CPU s per clip; wall {wall:.1f} s for {n} clips), start-up excluded')
            for bs in (1, 8):
                pipe.batch_size = bs
                c0, m0, t0 = time.process_time(), time.thread_time(), time.perf_counter()
                for _ in pipe.batch(paths): pass
                cpu, main, wall = time.process_time() - c0, time.thread_time() - m0, time.perf_counter() - t0
                R.add('folder', 'pipeline.batch on 2 free cores (estimated)', f'{voc}, batch {bs}', seconds/max(main, cpu - main), 'x real time',
                      f'main thread {main:.1f} CPU s, crops thread and the rest {cpu - main:.1f} CPU s; wall here {wall:.1f} s; start-up excluded')

# ---------------------------------------------------------------- prepare
def bench_prepare(R:Rows, a):
    utts = _grid(4 if a.quick else 10)
    if not utts:
        for w in (1, 2): R.add('prepare', 'prepare frames/s', f'{w} workers', None, 'frames/s', 'not measured: no GRID corpus (LIPSOUND2_DATA)')
        return
    from lipsound2.data.core import prepare
    from lipsound2.config import PrepConfig
    for cfg, what in ((PrepConfig.preset('mouth48'), 'mouth 48 px (the shipped models)'), (PrepConfig(), 'face 96 px (default)')):
        for w in (1, 2):
            with tempfile.TemporaryDirectory() as d:
                r = prepare(utts, d, cfg, n_workers=w, progress=False)
            R.add('prepare', 'prepare frames/s', f'{w} workers, {what}', r['frames']/r['seconds'], 'frames/s',
                  f"{len(utts)} GRID val clips, {r['seconds']:.1f} s incl. worker start; failed {len(r['failed'])}")
    if a.quick: return
    # at corpus scale the workers' start-up (a fresh interpreter importing torch and mediapipe) no longer counts
    train = _grid(None, 'train')
    for k in (1, 3):
        with tempfile.TemporaryDirectory() as d:
            r = prepare(train, d, PrepConfig.preset('mouth48', landmark_every=k), n_workers=2, progress=False)
        R.add('prepare', 'prepare frames/s, GRID s1 training split', f'2 workers, mouth 48 px, landmarks every {k} frame' + ('s' if k > 1 else ''),
              r['frames']/r['seconds'], 'frames/s', f"{len(train)} clips, {r['frames']} frames, {r['seconds']:.1f} s incl. worker start; failed {len(r['failed'])}")

# ---------------------------------------------------------------- training
def _synthetic_dls(cfg, bs:int, n_batches:int):
    "fastai DataLoaders of random GRID-shaped items: `n_batches` training batches of `bs`, one validation batch."
    import torch
    from fastai.data.core import DataLoaders
    from lipsound2.data.core import SortedLipDL
    g = torch.Generator().manual_seed(0)
    item = lambda: (torch.rand(cfg.in_channels, 75, cfg.img_size, cfg.img_size, generator=g), torch.randn(80, 258, generator=g) - 5)
    train, valid = [item() for _ in range(bs*n_batches)], [item() for _ in range(bs)]
    dls = DataLoaders(SortedLipDL(train, [75]*len(train), bs=bs, shuffle=True, drop_last=True),
                      SortedLipDL(valid, [75]*len(valid), bs=bs), device='cpu')
    dls.n_inp = 2                                          # (video, video_lens) in, (mel, mel_lens) targets: as `get_dls`
    return dls

def bench_training(R:Rows, a):
    import torch
    from fastai.callback.core import Callback
    from lipsound2.config import LipSound2Config, TrainConfig
    from lipsound2.v2s.model import load_checkpoint
    from lipsound2.v2s.training import v2s_learner
    torch.set_num_threads(1)
    class Clock(Callback):
        order = 100
        def before_fit(self): self.train_t, self.n, self.valid_t = [], 0, 0.
        def before_batch(self):
            if self.training: self.t0 = time.process_time()   # CPU seconds: one torch thread, data in this process
        def after_batch(self):
            if self.training: self.train_t.append(time.process_time() - self.t0)
        def before_validate(self): self.v0 = time.process_time()
        def after_validate(self): self.valid_t = time.process_time() - self.v0
    nar_cfg = load_checkpoint('nar_grid_s1.pt').cfg
    runs = [('grid_cpu', LipSound2Config.small(), 'LipSound2 small (the shipped model)'),
            ('paper', LipSound2Config.small(), 'LipSound2 small'),
            ('nar_cpu', nar_cfg, 'NAR (the shipped model)')]
    if not a.quick: runs.append(('paper', LipSound2Config(), 'LipSound2 paper size (96 px RGB)'))
    runs = [(p, c, w, 'off') for p, c, w in runs]
    if torch.ops.mkldnn._is_mkldnn_bf16_supported():    # CPU bfloat16 autocast (`TrainConfig.mixed_precision='bf16'`)
        runs += [('grid_cpu', LipSound2Config.small(), 'LipSound2 small (the shipped model)', 'bf16'),
                 ('nar_cpu', nar_cfg, 'NAR (the shipped model)', 'bf16')]
    else: R.add('training', 'train epoch: CPU bfloat16', '', None, 's/epoch', 'not measured: this CPU has no bfloat16 instructions')
    for preset, cfg, what, precision in runs:
        tcfg = TrainConfig.preset(preset, mixed_precision=precision)
        big = cfg.img_size > 48
        n = 2 if (a.quick or big) else 4
        dls = _synthetic_dls(cfg, tcfg.bs, n)
        clock = Clock()
        learn = v2s_learner(dls, cfg, tcfg=tcfg, cbs=[clock], train_bn=False)
        with learn.no_bar(), learn.no_logging(): learn.fit(1, tcfg.lr)
        step = statistics.median(clock.train_t[1:])        # the first batch warms up
        steps = EPOCH_CLIPS // tcfg.bs
        setting = f'preset {preset}, bs {tcfg.bs}, 1 thread' + (', CPU bfloat16 autocast' if precision == 'bf16' else '')
        R.add('training', f'train epoch: {what}', setting, step*steps, 's/epoch',
              f'{step:.2f} CPU s per step x {steps} steps (890 clips); median of {len(clock.train_t) - 1} synthetic batches, scaled')
        R.add('training', f'validation pass: {what}', setting.replace(f', bs {tcfg.bs}', ''), clock.valid_t*VAL_CLIPS/tcfg.bs, 's/epoch',
              f'CPU s of one batch of {tcfg.bs} (loss, metrics, free-running MSE) scaled to {VAL_CLIPS} clips')

# ---------------------------------------------------------------- vocoders
def bench_vocoders(R:Rows, a):
    import torch
    from waveglow_speed import measure
    from lipsound2.vocoders.waveglow import WaveGlowConfig
    torch.set_num_threads(1)
    _vocoder_rtfs(R, 'vocoders', a)
    for name, cfg in (('full', WaveGlowConfig()), ('small', WaveGlowConfig.small())):
        khz = measure(cfg, 'cpu', torch.float32, 1, 0.5, 1 if a.quick else 3)
        R.add('vocoders', f'vocoder waveglow {name}', '1 thread, 0.5 s mel, random weights', 22.05/khz, 'RTF', f'{khz:.1f} kHz of audio per second')

# ---------------------------------------------------------------- against NVIDIA tacotron2
def _tacotron2_modules(path:Path):
    "NVIDIA tacotron2's `model` module, imported from a local copy (its CUDA-only mask helper replaced by a CPU one)."
    import torch
    sys.path.insert(0, str(path))
    import model as t2  # NVIDIA/tacotron2/model.py
    def get_mask_from_lengths(lengths):  # utils.py builds the range with torch.cuda.LongTensor
        return torch.arange(int(lengths.max()), device=lengths.device) < lengths[:, None]
    t2.get_mask_from_lengths = get_mask_from_lengths
    return t2

def bench_tacotron2(R:Rows, a):
    import torch, torch.nn.functional as F
    from types import SimpleNamespace
    from lipsound2.config import LipSound2Config
    from lipsound2.v2s.decoder import Decoder, Postnet
    if not a.tacotron2:
        for s in ('small', 'paper'):
            for r in ('inference, 258 frames', 'teacher-forced training step'):
                R.add('tacotron2', f'ours / tacotron2: {r}', s, None, 'x faster', 'not measured: give --tacotron2 PATH (a local copy of NVIDIA/tacotron2)')
        return
    t2 = _tacotron2_modules(Path(a.tacotron2))
    torch.set_num_threads(1)
    T_in, T_mel, bs = 75, 258, 4 if a.quick else 8
    for name, cfg in (('small', LipSound2Config.small()), ('paper', LipSound2Config())):
        cfg = cfg.replace(frames_per_step=1)
        D = 2*cfg.enc_lstm_dim
        hp = SimpleNamespace(n_mel_channels=80, n_frames_per_step=1, encoder_embedding_dim=D, attention_rnn_dim=cfg.decoder_dim,
                             decoder_rnn_dim=cfg.decoder_dim, prenet_dim=cfg.prenet_dims[-1], max_decoder_steps=T_mel,
                             gate_threshold=2.0, p_attention_dropout=0.1, p_decoder_dropout=cfg.decoder_dropout,
                             attention_dim=cfg.attention_dim, attention_location_n_filters=cfg.location_filters,
                             attention_location_kernel_size=cfg.location_kernel, postnet_embedding_dim=cfg.postnet_channels,
                             postnet_kernel_size=cfg.postnet_kernel, postnet_n_convolutions=cfg.postnet_layers)
        torch.manual_seed(0)
        ours = torch.nn.ModuleDict(dict(dec=Decoder(cfg), post=Postnet(80, cfg.postnet_channels, cfg.postnet_kernel, cfg.postnet_layers, cfg.postnet_dropout)))
        ref = torch.nn.ModuleDict(dict(dec=t2.Decoder(hp), post=t2.Postnet(hp)))
        size = f'{name}: memory {D}, decoder {cfg.decoder_dim}, prenet {cfg.prenet_dims[-1]}, postnet {cfg.postnet_channels}'
        mem1 = torch.randn(1, T_in, D)
        def ours_infer():
            with torch.no_grad():
                m, _ = ours['dec'](mem1, torch.tensor([T_in]), n_frames=T_mel); m + ours['post'](m)
        def ref_infer():
            with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):   # it prints "Reached max decoder steps"
                m, _, _ = ref['dec'].inference(mem1); m + ref['post'](m)
        ours.eval(); ref.eval()
        reps = 1 if a.quick else 3
        t_o, t_r = median_time(ours_infer, reps), median_time(ref_infer, reps)
        reps = 1 if a.quick or name == 'paper' else 3       # a paper-size training step takes tens of seconds
        R.add('tacotron2', 'ours / tacotron2: inference, 258 frames', size, t_r/t_o, 'x faster',
              f'CPU s: ours {t_o:.2f}, tacotron2 {t_r:.2f} (wall {t_o.wall:.2f}, {t_r.wall:.2f}); batch 1, 1 thread, one mel frame per step')
        mem, lens, mel = torch.randn(bs, T_in, D), torch.full((bs,), T_in), torch.randn(bs, 80, T_mel)
        def step(mods, fwd):
            mods.train(); mods.zero_grad()
            m = fwd(); loss = F.mse_loss(m, mel) + F.mse_loss(m + mods['post'](m), mel); loss.backward()
        fo = lambda: ours['dec'](mem, lens, mel)[0]
        fr = lambda: ref['dec'](mem, mel, lens)[0]
        t_o, t_r = median_time(lambda: step(ours, fo), reps), median_time(lambda: step(ref, fr), reps)
        R.add('tacotron2', 'ours / tacotron2: teacher-forced training step', size, t_r/t_o, 'x faster',
              f'CPU s: ours {t_o:.2f}, tacotron2 {t_r:.2f} (wall {t_o.wall:.2f}, {t_r.wall:.2f}); batch {bs}, forward + backward, 1 thread')

# ---------------------------------------------------------------- scaling
def bench_scaling(R:Rows, a):
    import numpy as np, torch
    sh = _shipped()
    crops = sh['crops']
    lengths = (1.5, 3, 6, 12) if a.quick else (1.5, 3, 6, 12, 24)
    for secs in lengths:
        long = np.resize(crops, (round(secs*25), *crops.shape[1:]))   # the clip's crops repeated
        for name in ('ls2', 'nar'):
            t = _model_seconds(sh[name], [long], 1 if secs > 6 or a.quick else 3)
            R.add('scaling', f'model {"lipsound2" if name == "ls2" else "nar"} vs clip length', f'{secs:g} s', t, 'CPU s', f'RTF {t/secs:.3f}; wall {t.wall:.2f} s; batch 1, 1 thread')
        mel = torch.randn(80, round(secs*22050/256)) - 5
        for vname, voc in sh['voc'].items():
            t = median_time(lambda: voc(mel), 1, warmup=0 if secs > 6 else 1)
            R.add('scaling', f'vocoder {vname} vs clip length', f'{secs:g} s', t, 'CPU s', f'RTF {t/secs:.3f}; wall {t.wall:.2f} s; 1 thread')
    for bs in ((1, 4, 16) if a.quick else (1, 2, 4, 8, 16, 32)):
        for name in ('ls2', 'nar'):
            t = _model_seconds(sh[name], [crops]*bs, 1 if bs >= 16 or a.quick else 3)
            R.add('scaling', f'model {"lipsound2" if name == "ls2" else "nar"} vs batch size', f'batch {bs}', t/bs, 'CPU s/clip',
                  f'{t:.2f} CPU s per batch of 3 s clips (wall {t.wall:.2f} s); RTF {t/bs/CLIP_S:.3f}; 1 thread')

# ---------------------------------------------------------------- GPU
def bench_gpu(R:Rows, a):
    import torch
    rows = ('model lipsound2, fp32', 'model lipsound2, bf16 autocast', 'model lipsound2, torch.compile',
            'model lipsound2, CUDA graphs (compile mode reduce-overhead)', 'model nar, bf16 autocast', 'training step, bf16 (small, grid_cpu)')
    if not torch.cuda.is_available():
        for r in rows: R.add('gpu', r, 'batch 8, 3 s clips', None, 's/clip', 'not measured: no GPU (torch.cuda.is_available() is False)')
        return
    from lipsound2.v2s.model import load_checkpoint
    from lipsound2.media.video import crops_to_video
    sh = _shipped()
    dev = 'cuda'
    def timed(model, autocast=False, bs=8):
        c = model.cfg
        v = torch.stack([crops_to_video(sh['crops'], c.img_size, c.in_channels == 1)]*bs).to(dev); l = torch.full((bs,), v.shape[2], device=dev)
        def run():
            with torch.inference_mode(), torch.autocast('cuda', torch.bfloat16, enabled=autocast): model.infer(v, l)
            torch.cuda.synchronize()
        return median_time(run, 3, warmup=2)/bs
    ls2 = load_checkpoint('lipsound2_grid_s1.pt', map_location=dev).eval()
    nar = load_checkpoint('nar_grid_s1.pt', map_location=dev).eval()
    for r, fn in ((rows[0], lambda: timed(ls2)), (rows[1], lambda: timed(ls2, True)),
                  (rows[2], lambda: timed(torch.compile(ls2))), (rows[3], lambda: timed(torch.compile(ls2, mode='reduce-overhead'))),
                  (rows[4], lambda: timed(nar, True))):
        try: R.add('gpu', r, f'batch 8, 3 s clips, {torch.cuda.get_device_name(0)}', fn(), 's/clip')
        except Exception as e: R.add('gpu', r, 'batch 8', None, 's/clip', f'failed: {type(e).__name__}: {str(e).splitlines()[0][:80]}')
    R.add('gpu', rows[5], 'batch 16', None, 's/step', 'not measured by this script yet')

# ---------------------------------------------------------------- landmarks on every k-th frame
def bench_landmarks(R:Rows, a):
    """`PrepConfig.landmark_every` (`FaceLandmarker(landmark_every=k)`): Face Mesh (tracking) on every k-th frame and the
    last, the others interpolated. Landmark CPU time and error against every frame; in-process preprocessing RTF of the
    3 s sample; `prepare` frames/s with 2 workers; the shipped model's STOI/ESTOI (paired, same seed) on val clips."""
    import numpy as np, torch
    from lipsound2.media.video import FaceLandmarker, read_video, crop_boxes, preprocess_utterance
    from lipsound2.v2s.model import load_checkpoint
    torch.set_num_threads(1)
    utts = _grid(3 if a.quick else 10)
    clips = [u.video for u in utts] or sorted(SAMPLES.glob('*.mpg'))
    prep, lm = load_checkpoint('lipsound2_grid_s1.pt').prep, FaceLandmarker()
    videos = [read_video(c) for c in clips]
    lm(videos[0][:10])                                      # warm-up
    frames, full, ests = sum(len(v) for v in videos), [], {}
    for k in (1, 2, 3, 5):
        cpu, err, box_err, side_err = 0., [], [], []
        for i, v in enumerate(videos):
            c0 = time.process_time(); est = lm(v, landmark_every=k); cpu += time.process_time() - c0
            if k == 1: full.append(est); continue
            ests.setdefault(k, []).append(est)
            ref = full[i]; good = ~np.isnan(ref).any((1, 2)) & ~np.isnan(est).any((1, 2))
            err.append(np.abs(est[good] - ref[good]).mean())
            b0, b1 = crop_boxes(ref, prep), crop_boxes(est, prep)
            box_err.append(np.abs(b1[:, :2] - b0[:, :2]).mean()); side_err.append(np.abs(b1[:, 2] - b0[:, 2]).mean())
        note = f'CPU {cpu/frames*1000:.2f} ms per frame; {len(videos)} clips' + ('' if k == 1 else
               f'; mean landmark error {np.mean(err):.2f} px, mouth-crop centre {np.mean(box_err):.2f} px, side '
               f'{np.mean(side_err):.2f} px (360x288 frames, crop side about {np.median(crop_boxes(full[0], prep)[:, 2]):.0f} px)')
        R.add('landmarks', 'Face Mesh on every k-th frame', f'k = {k}' + ' (default)'*(k == 1), cpu/(frames/25), 'RTF', note)
    for k in (1, 2, 3, 5):                                  # the whole front end of `speak`: decode + landmarks + crop
        cfg = prep.replace(landmark_every=k)
        t = median_time(lambda: preprocess_utterance(CLIP, cfg=cfg, landmarker=lm, need_audio=False), 1 if a.quick else 5)
        R.add('landmarks', 'preprocess in process, 1 thread', f'k = {k}, mouth 48 px', t/CLIP_S, 'RTF', f'{t.note}; {CLIP.name} (3 s)')
    if not utts: return
    from lipsound2.data.core import prepare
    many = _grid(8 if a.quick else 20)
    import resource
    for k in (1, 3):
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)   # the workers' CPU time, counted once they are joined
        with tempfile.TemporaryDirectory() as d:
            r = prepare(many, d, prep.replace(landmark_every=k), n_workers=2, progress=False)
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN); cpu = c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime
        R.add('landmarks', 'prepare frames/s', f'2 workers, k = {k}, mouth 48 px', r['frames']/r['seconds'], 'frames/s',
              f"{len(many)} GRID val clips, {r['seconds']:.1f} s wall incl. worker start; workers' CPU {cpu:.1f} s incl. imports "
              f"({r['frames']/cpu:.0f} frames per CPU-second: about {2*r['frames']/cpu:.0f} frames/s on 2 free cores); failed {len(r['failed'])}")
    # quality: the shipped model's speech (Griffin-Lim, same seed for both) from crops made with each k, against the recording
    from lipsound2.media.video import crop_frames
    from lipsound2.media.audio import load_audio
    from lipsound2.metrics import stoi, estoi
    pipe, scores = _shipped()['pipe'], {}
    for k in (1, 3):
        for i, (u, v) in enumerate(zip(utts, videos)):
            crops = crop_frames(v, crop_boxes(full[i] if k == 1 else ests[k][i], prep), prep.crop_size)
            torch.manual_seed(0); wav = pipe.speak([crops])[0].wav; ref = load_audio(u.audio, 22050)
            scores.setdefault(k, []).append((stoi(ref, wav, 22050), estoi(ref, wav, 22050)))
    s1, s3 = np.array(scores[1]), np.array(scores[3])
    for k, s in ((1, s1), (3, s3)):
        d = s - s1; se = d.std(0, ddof=1)/np.sqrt(len(d)) if k != 1 else None
        R.add('landmarks', 'shipped model STOI with these crops', f'k = {k}', float(s[:, 0].mean()), 'STOI',
              f'{len(s)} GRID val clips, Griffin-Lim, same seed; ESTOI {s[:, 1].mean():.4f}' + ('' if se is None else
              f'; paired difference to k = 1: STOI {d[:, 0].mean():+.4f} (s.e. {se[0]:.4f}), ESTOI {d[:, 1].mean():+.4f} (s.e. {se[1]:.4f})'))

# ---------------------------------------------------------------- bounds of the unmet CPU targets
def bench_bounds(R:Rows, a):
    """Where the CPU time of the unmet targets goes (one thread): a LipSound2-small bfloat16 training step by part, and
    the same parts under `torch.compile` (inductor, CPU); Griffin-Lim's time in FFTs; one `prepare` clip by stage."""
    import numpy as np, torch
    from torch.profiler import profile
    torch.set_num_threads(1)
    from lipsound2.config import LipSound2Config, MelConfig
    from lipsound2.v2s.model import LipSound2
    reps = 2 if a.quick else 4
    # 1. the training step: encoder (3D-CNN front end, BiLSTM), teacher-forced decoder, Postnet; forward + backward
    cfg, B = LipSound2Config.small(), 16
    m = LipSound2(cfg).train()
    g = torch.Generator().manual_seed(0)
    x, xl = torch.rand(B, cfg.in_channels, 75, cfg.img_size, cfg.img_size, generator=g), torch.full((B,), 75)
    mel = torch.randn(B, cfg.mel.n_mels, 258, generator=g) - 5
    bf16 = lambda: torch.autocast('cpu', torch.bfloat16)
    with bf16(): mem = m.encoder(x, xl).detach().requires_grad_()
    with bf16(): dec = m.decoder(mem, xl, mel)[0].detach().requires_grad_()
    def backward(t): t.float().sum().backward()
    def cnn():
        with bf16(): f = m.encoder.features(x, xl)[0]
        backward(f)
    def encoder():
        with bf16(): f = m.encoder(x, xl)
        backward(f)
    def decoder():
        with bf16(): f = m.decoder(mem, xl, mel)[0]
        backward(f)
    def postnet():
        with bf16(): f = m.postnet(dec)
        backward(f)
    setting = f'LipSound2 small, batch {B} of 75 frames / 258 mel frames, bf16 autocast, 1 thread'
    parts = dict(cnn=median_time(cnn, reps), encoder=median_time(encoder, reps), decoder=median_time(decoder, reps),
                 postnet=median_time(postnet, reps))
    steps = EPOCH_CLIPS // B
    for name, row in (('cnn', '3D-CNN front end'), ('encoder', 'encoder (3D-CNN + BiLSTM)'), ('decoder', 'decoder, teacher-forced'),
                      ('postnet', 'Postnet')):
        R.add('bounds', f'training step part: {row}', setting, float(parts[name]), 'CPU s',
              f'forward + backward, median of {reps}; x {steps} steps = {parts[name]*steps:.0f} s of an epoch')
    base = dict(cnn=float(parts['cnn']), decoder=float(parts['decoder']))
    for i, blk in enumerate(list(m.encoder.blocks)): m.encoder.blocks[i] = torch.compile(blk)
    m.decoder.step = torch.compile(m.decoder.step)
    for name, fn, what in (('cnn', cnn, 'the 3D-CNN blocks'), ('decoder', decoder, 'the decoder step')):
        c0 = time.process_time(); fn(); first = time.process_time() - c0   # compiles
        t = median_time(fn, reps, warmup=1)
        R.add('bounds', f'torch.compile (inductor, CPU) of {what}', setting, base[name]/float(t), 'x faster',
              f'{base[name]:.3f} -> {float(t):.3f} CPU s per step, forward + backward; first call (compiling) {first:.0f} s')
    # 2. Griffin-Lim (torchaudio, 60 iterations) on a 3 s mel: the share of its time spent in FFTs
    from lipsound2.vocoders.base import GriffinLimVocoder
    gl = GriffinLimVocoder(MelConfig())
    spec = torch.rand(1, MelConfig().n_fft//2 + 1, 258, generator=g)
    gl.griffin_lim(spec)
    with profile() as p: gl.griffin_lim(spec)
    ev = p.key_averages()
    total = sum(e.self_cpu_time_total for e in ev)
    fft = sum(e.self_cpu_time_total for e in ev if 'fft' in e.key)
    top = sorted(ev, key=lambda e: -e.self_cpu_time_total)[:4]
    R.add('bounds', 'Griffin-Lim time in FFTs', f'{gl.n_iter} iterations, 3 s mel, 1 thread', 100*fft/total, '%',
          f'{total/1e6:.3f} s profiled; most time: ' + ', '.join(f'{e.key} {100*e.self_cpu_time_total/total:.0f}%' for e in top))
    # 3. one `prepare` clip (mouth 48 px; Face Mesh on every frame, the default, and on every 3rd): its parts, its ceiling
    utts = _grid(4 if a.quick else 20, 'train')
    if not utts:
        R.add('bounds', 'prepare: CPU s per clip', 'mouth 48 px', None, 'CPU s', 'not measured: no GRID corpus (LIPSOUND2_DATA)'); return
    from lipsound2.config import PrepConfig
    from lipsound2.data.core import _prepare_one
    from lipsound2.media.video import FaceLandmarker, read_video
    import cv2; cv2.setNumThreads(1)
    c0 = time.process_time(); videos = [read_video(u.video) for u in utts]; decode = (time.process_time() - c0)/len(utts)
    frames, lm = sum(len(v) for v in videos), FaceLandmarker()
    n = f'{len(utts)} GRID s1 training clips, {frames/len(utts):.0f} frames each, 1 thread'
    for k in (1, 3):
        cfg, setting = PrepConfig.preset('mouth48', landmark_every=k), 'mouth 48 px, Face Mesh ' + ('on every frame' if k == 1 else f'every {k}rd frame')
        with tempfile.TemporaryDirectory() as d:
            _prepare_one(utts[0], Path(d), cfg)            # warm-up
            c0 = time.process_time()
            for u in utts: _prepare_one(u, Path(d), cfg)
            per_clip = (time.process_time() - c0)/len(utts)
        c0 = time.process_time()
        for v in videos: lm(v, k)
        mesh = (time.process_time() - c0)/len(utts)
        calls = sum(len(range(0, len(v), k)) + ((len(v) - 1) % k != 0) for v in videos)/len(utts)
        R.add('bounds', 'prepare: CPU s per clip', setting, per_clip, 'CPU s',
              f'{n}; apart: decoding to RGB (frames kept) {decode:.3f} s, Face Mesh on decoded frames {mesh:.3f} s '
              f'({1000*mesh/calls:.2f} ms a call, {calls:.0f} calls); the rest crops, reads the audio, makes the mel and writes')
        R.add('bounds', 'prepare: frames/s that 2 cores allow', setting, 2*frames/len(utts)/per_clip,
              'frames/s', 'two workers each at the CPU cost per clip above, nothing else running: the ceiling of `prepare` at this cost')

# ---------------------------------------------------------------- HiFi-GAN engines (issue 29)
def bench_hifigan(R:Rows, a):
    import torch
    import hifigan_speed as hs
    from lipsound2.media.audio import load_audio, mel_spectrogram
    from lipsound2.vocoders.hifigan import half_hop_shift, HiFiGANOnnxVocoder, load_generator, export_onnx
    from lipsound2.vocoders.base import remove_weightnorm
    mel = mel_spectrogram(load_audio(CLIP, 22050))          # the sample clip's recording, (80, 258): 3 s of speech
    secs, reps = mel.shape[-1]*256/22050, 1 if a.quick else 3
    with tempfile.TemporaryDirectory() as d:
        t0, c0 = time.perf_counter(), time.process_time()
        export_onnx(load_generator('universal'), Path(d)/'first.onnx')
        R.add('hifigan', 'first use: load + export to ONNX', 'universal, 2-D graph', time.process_time() - c0, 'CPU s',
              f'wall {time.perf_counter() - t0:.2f} s; once per weights file, then cached in the user cache folder')
        for threads in (1, 2):
            torch.set_num_threads(threads)
            vocs = hs.variants(Path(d), [v for v in hs.VARIANTS if v != 'torch-bf16' or hs.has_bf16()])
            if 'torch-bf16' not in vocs:
                R.add('hifigan', 'vocoder torch-bf16', f'{threads} thread(s), 3 s mel', None, 'CPU s per s',
                      'not measured: this CPU has no bfloat16 instructions (no avx512_bf16/amx_bf16 flag)')
            c0, t0 = time.process_time(), time.perf_counter(); HiFiGANOnnxVocoder(cache_dir=d, threads=threads)
            R.add('hifigan', 'session start (cached graph)', f'onnx-2d, {threads} thread(s)', time.process_time() - c0, 'CPU s',
                  f'wall {time.perf_counter() - t0:.2f} s: hash of the weights file, ONNX Runtime session with graph optimisation')
            for name, v in vocs.items():
                c, w = hs.cpu_time(lambda: v(mel), reps)
                R.add('hifigan', f'vocoder {name}', f'{threads} thread(s), 3 s mel', c/secs, 'CPU s per s',
                      f'CPU {c:.3f} s, wall {w:.3f} s for {secs:.2f} s of speech; median of {reps}')
            gen = remove_weightnorm(load_generator('universal')).eval()
            for name, c, w in hs.stage_times(gen, half_hop_shift(mel)[None], reps):
                R.add('hifigan', f'torch stage: {name}', f'{threads} thread(s), 3 s mel', c/secs, 'CPU s per s', f'CPU {c:.3f} s, wall {w:.3f} s')
    torch.set_num_threads(1)

def bench_hifigan_val(R:Rows, a):
    import torch
    import hifigan_speed as hs
    from lipsound2.corpora.core import grid_split
    from lipsound2.core import atomic_path, data_root
    if data_root('grid', required=False) is None:
        R.add('hifigan_val', 'STOI', 'all variants', None, '', 'not measured: no GRID corpus (LIPSOUND2_DATA)'); return
    torch.set_num_threads(1)
    utts = grid_split('val')[:4 if a.quick else None]
    names = ('torch', 'onnx-2d', 'onnx-2d-int8') + (('torch-bf16',) if hs.has_bf16() else ())   # onnx-1d: the same graph as onnx-2d
    with tempfile.TemporaryDirectory() as d: df = hs.quality(utts, hs.variants(Path(d), names))
    with atomic_path(ROOT/'results'/'hifigan_engines_val.csv') as t: df.to_csv(t, index=False, float_format='%.4f')
    for _, r in hs.paired(df).iterrows():
        for m in ('stoi', 'estoi', 'pesq'):
            R.add('hifigan_val', f'{r.input} {m.upper()}', r.variant, r[m], m.upper(),
                  f'{r.clips} GRID s1 val clips; paired vs torch {r[m + "_diff"]:+.4f} (SE {r[m + "_se"]:.4f}); '
                  f'CPU {r.cpu_per_audio_s:.3f} s per s of speech, 1 thread')

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument('--quick', action='store_true', help='fewer repeats, shorter clips and smaller batches (minutes)')
    ap.add_argument('--only', nargs='+', choices=GROUPS, default=list(GROUPS), metavar='GROUP', help=f'groups to run: {", ".join(GROUPS)}')
    ap.add_argument('--tacotron2', default=None, help='a local copy of github.com/NVIDIA/tacotron2 (its model.py is imported from there)')
    ap.add_argument('--vocoders', nargs='+', default=['griffinlim', 'hifigan', 'hifigan-onnx'], help='vocoders of the cold and folder groups')
    ap.add_argument('--out', default=str(ROOT/'results'/'bench.csv'), help='the CSV to write')
    a = ap.parse_args()
    out = Path(a.out)
    keep = []
    if out.exists() and set(a.only) != set(GROUPS):
        with open(out, newline='') as f: keep = [r for r in csv.DictReader(f) if r['group'] not in a.only]
    R = Rows(out, keep)
    print(f"machine: {machine()}\nwriting {out}\n")
    for g in GROUPS:
        if g not in a.only: continue
        try: globals()[f'bench_{g}'](R, a)
        except Exception as e:                             # the other groups still run
            import traceback; traceback.print_exc()
            R.add(g, 'group failed', '', None, '', f'{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ""}')

if __name__ == '__main__': main()
