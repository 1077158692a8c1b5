"""HiFi-GAN V1 (universal, the default vocoder's generator) on the CPU, issue 29: CPU seconds per second of speech of each
engine and precision, and of each stage of the generator; validation STOI/ESTOI/PESQ of each, paired against PyTorch fp32.

Used by `bench/run.py` (groups `hifigan` and `hifigan_val`). Engines ('variants'):
  torch        PyTorch eager, fp32, weight norm folded (`HiFiGANVocoder`, the vocoder 'hifigan')
  torch-bf16   the same under CPU bfloat16 autocast
  onnx-1d      ONNX Runtime (CPU provider, ORT_ENABLE_ALL), the generator exported as it is
  onnx-2d      ONNX Runtime, convolutions exported as 2-D ones (`HiFiGAN2d`): the vocoder 'hifigan-onnx'
  onnx-2d-int8 onnx-2d after `onnxruntime.quantization.quantize_dynamic` (uint8 weights and activations)
"""
import statistics, tempfile, time
from pathlib import Path
import numpy as np, torch

VARIANTS = ('torch', 'torch-bf16', 'onnx-1d', 'onnx-2d', 'onnx-2d-int8')

def has_bf16() -> bool:
    "Whether this CPU has bfloat16 instructions (Linux flags avx512_bf16 or amx_bf16); without them autocast emulates them."
    try: flags = open('/proc/cpuinfo').read()
    except OSError: return False
    return 'avx512_bf16' in flags or 'amx_bf16' in flags

def variants(tmp:Path, names=VARIANTS) -> dict:
    "name -> a vocoder (mel -> waveform) of each variant; ONNX graphs cached in `tmp`. Each follows torch's thread count."
    from lipsound2.vocoders.hifigan import HiFiGANVocoder, HiFiGANOnnxVocoder
    out = {}
    for n in names:
        if n == 'torch': out[n] = HiFiGANVocoder()
        elif n == 'torch-bf16':
            v = HiFiGANVocoder()
            def bf16(mel, v=v):
                with torch.autocast('cpu', dtype=torch.bfloat16): return v(mel)
            out[n] = bf16
        elif n in ('onnx-1d', 'onnx-2d'): out[n] = HiFiGANOnnxVocoder(layout=n[-2:], cache_dir=tmp)
        elif n == 'onnx-2d-int8':
            from onnxruntime.quantization import quantize_dynamic, QuantType
            import logging; logging.getLogger().setLevel(logging.ERROR)   # its advice to pre-process the graph
            v = HiFiGANOnnxVocoder(layout='2d', cache_dir=tmp)
            q = tmp/'int8.onnx'
            if not q.exists(): quantize_dynamic(v.graph, q, weight_type=QuantType.QUInt8)
            v.graph, v._sessions = q, {}
            out[n] = v
    return out

def cpu_time(fn, repeats:int=3) -> tuple:
    "(median CPU s, median wall s) of `fn()` over `repeats` calls after one untimed call; CPU: `time.process_time` (all threads)."
    fn(); cpu, wall = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter(); fn()
        cpu.append(time.process_time() - c0); wall.append(time.perf_counter() - t0)
    return statistics.median(cpu), statistics.median(wall)

def stage_fns(gen) -> list:
    "[(stage name, fn(x) -> y)] of the PyTorch generator `gen` (weight norm folded), in order: conv_pre, 4 x (upsample + MRF), conv_post."
    import torch.nn.functional as F
    cfg, n = gen.cfg, len(gen.cfg.resblock_kernel_sizes)
    st = [('conv_pre', gen.conv_pre)]
    for i, up in enumerate(gen.ups):
        st.append((f'upsample {i + 1} (x{cfg.upsample_rates[i]})', lambda x, up=up: up(F.leaky_relu(x, cfg.lrelu_slope))))
        st.append((f'MRF {i + 1} ({up.out_channels} ch)', lambda x, i=i: sum(gen.resblocks[i*n + j](x) for j in range(n))/n))
    st.append(('conv_post + tanh', lambda x: torch.tanh(gen.conv_post(F.leaky_relu(x, cfg.post_lrelu_slope))).squeeze(1)))
    return st

def stage_times(gen, mel:torch.Tensor, repeats:int=3) -> list:
    "[(stage, median CPU s, median wall s)] of one `(1, n_mels, T)` mel through `gen`, stage by stage."
    out, x = [], mel
    with torch.no_grad():
        for name, f in stage_fns(gen):
            c, w = cpu_time(lambda: f(x), repeats)
            out.append((name, c, w)); x = f(x)
    return out

def quality(utts:list, vocs:dict, log=print) -> 'pd.DataFrame':
    """Per clip, input ('copy': the recording's mel; 'generated': the default model's mel from the video, cropped as
    `speak` does, seed 0) and variant: STOI, ESTOI, wide-band PESQ against the recording, CPU s and audio s."""
    import pandas as pd
    from lipsound2.media.audio import load_audio, mel_spectrogram
    from lipsound2.vocoders.hifigan import _MelOnly
    from lipsound2.inference import LipSound2Pipeline, crops_to_speech
    from lipsound2.metrics import stoi, estoi, pesq_wb
    pipe = LipSound2Pipeline.from_pretrained(vocoder='griffinlim')   # the default model; its vocoder is not used
    rows, t_start = [], time.time()
    for k, u in enumerate(utts):
        ref = load_audio(u.audio, 22050)
        gen = crops_to_speech([pipe.preprocess(u.video)], pipe.model, _MelOnly(pipe.model.cfg.mel), pipe.seed)[0].mel
        for inp, mel in (('copy', mel_spectrogram(ref)), ('generated', gen)):
            for name, v in vocs.items():
                c0 = time.process_time(); wav = v(mel); c = time.process_time() - c0
                if inp == 'copy': wav = wav[:len(ref)]
                rows.append(dict(utt_id=u.utt_id, input=inp, variant=name, stoi=stoi(ref, wav, 22050), estoi=estoi(ref, wav, 22050),
                                 pesq=pesq_wb(ref, wav, 22050), cpu_s=c, audio_s=len(wav)/22050))
        log(f"{k + 1}/{len(utts)} {u.utt_id} {time.time() - t_start:.0f} s")
    return pd.DataFrame(rows)

def paired(df, base:str='torch') -> 'pd.DataFrame':
    "Per input and variant: clips, means, and the paired mean difference to `base` with its standard error (STOI, ESTOI, PESQ)."
    import pandas as pd
    out = []
    for (inp, var), d in df.groupby(['input', 'variant'], sort=False):
        b = df[(df.input == inp) & (df.variant == base)].set_index('utt_id')
        d = d.set_index('utt_id')
        r = dict(input=inp, variant=var, clips=len(d), cpu_per_audio_s=d.cpu_s.sum()/d.audio_s.sum())
        for m in ('stoi', 'estoi', 'pesq'):
            diff = (d[m] - b.loc[d.index, m]).to_numpy()
            r.update({m: d[m].mean(), f'{m}_diff': diff.mean(), f'{m}_se': diff.std(ddof=1)/np.sqrt(len(diff)) if len(diff) > 1 else np.nan})
        out.append(r)
    return pd.DataFrame(out)
