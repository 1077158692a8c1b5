#!/usr/bin/env python3
"""Peak memory and time of `lipsound2.media.video.preprocess_utterance` on long and high-resolution videos.

Rerunnable benchmark (not a test). Usage: python bench/memory.py [--videos 720p60 288p300] [--keep DIR]
Makes each video from the three sample clips (samples/*.mpg, 360x288): their frames repeated in turn, scaled to the
target height and centred on a grey background of the target size, with their audio repeated as the sound track.
Then runs `preprocess_utterance` (the default `PrepConfig()`: 96 px face crops, and the mel spectrogram) in a fresh
Python process per video, and prints that process's peak resident memory (getrusage `ru_maxrss`, taken by `os.wait4`
of the child) and its wall time, imports included. tests/test_robustness.py uses the helpers below on a shorter video.
"""
import argparse, itertools, os, sys, tempfile
from pathlib import Path
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import ROOT, SAMPLES, child_json, cpu_model
VIDEOS = {'720p60': (60, 1280, 720), '288p300': (300, 360, 288), '1080p15': (15, 1920, 1080), '720p20': (20, 1280, 720)}

def sample_frames() -> list[np.ndarray]:
    "The 225 RGB frames `(288, 360, 3)` of the three sample clips, one after another."
    from lipsound2.media.video import read_video
    return [f for clip in sorted(SAMPLES.glob('*.mpg')) for f in read_video(clip)]

def long_video(path:Path, seconds:float, width:int, height:int, fps:float=25.0) -> Path:
    "Write a `seconds` long `width`x`height` talking-face video with sound at `path` (see the module docstring); returns the path."
    import cv2
    from lipsound2.media.audio import load_audio
    src = sample_frames()
    h0, w0 = src[0].shape[:2]
    w1 = min(width, round(w0*height/h0)); h1 = round(h0*w1/w0)
    x, y = (width - w1)//2, (height - h1)//2
    def frames():
        for f in itertools.islice(itertools.cycle(src), int(seconds*fps)):
            canvas = np.full((height, width, 3), 128, np.uint8)
            canvas[y:y+h1, x:x+w1] = cv2.resize(f, (w1, h1), interpolation=cv2.INTER_LINEAR)
            yield canvas
    speech = np.concatenate([load_audio(c, 22050).numpy() for c in sorted(SAMPLES.glob('*.mpg'))])
    audio = np.resize(speech, int(seconds*22050))
    from lipsound2.media.video import write_video
    write_video(path, frames(), fps, audio=audio, sample_rate=22050)
    return path

CHILD = """
import json, os, sys, time
t0 = time.perf_counter()
import torch; torch.set_num_threads(1)
from lipsound2.config import PrepConfig
from lipsound2.media.video import preprocess_utterance
r = preprocess_utterance(sys.argv[1], cfg=PrepConfig.preset(sys.argv[2]) if sys.argv[2] != 'default' else PrepConfig())
print(json.dumps(dict(frames=r['n_frames'], crops=list(r['crops'].shape), mel=list(r['mel'].shape), seconds=time.perf_counter()-t0)))
sys.stdout.flush(); os._exit(0)  # no interpreter teardown: torch's adds about 120 MB at exit, which is not the work's
"""

def peak_rss(video:Path, preset:str='default') -> dict:
    """Run `preprocess_utterance(video)` in a fresh Python process; returns dict(peak_mb, seconds, frames, crops, mel).
    `peak_mb`: the child's peak resident memory in MiB (Linux `ru_maxrss`). Raises `RuntimeError` if it fails."""
    r = child_json(CHILD, video, preset, env=dict(os.environ, OMP_NUM_THREADS='1'))
    return {k: r[k] for k in ('peak_mb', 'seconds', 'frames', 'crops', 'mel')}

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--videos', nargs='+', default=['720p60', '288p300'], choices=list(VIDEOS), help="name: seconds, width x height")
    ap.add_argument('--keep', default=None, help="folder to keep (and reuse) the generated videos in")
    a = ap.parse_args()
    import torch
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__}\n")
    print("| video | frames | file MB | peak RSS MB | seconds | frames/s |\n|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(a.keep or tmp); folder.mkdir(parents=True, exist_ok=True)
        r = peak_rss(SAMPLES/'bbaf2n.mpg')  # for scale: the imports and one GRID clip
        print(f"| 3 s, 360x288 (samples/bbaf2n.mpg) | {r['frames']} | 0 | {r['peak_mb']:.0f} | {r['seconds']:.1f} | {r['frames']/r['seconds']:.0f} |", flush=True)
        for name in a.videos:
            secs, w, h = VIDEOS[name]
            path = folder/f'{name}_{w}x{h}_{secs}s.mp4'
            if not path.exists(): long_video(path, secs, w, h)
            r = peak_rss(path)
            print(f"| {secs} s, {w}x{h} | {r['frames']} | {path.stat().st_size/2**20:.0f} | {r['peak_mb']:.0f} | "
                  f"{r['seconds']:.1f} | {r['frames']/r['seconds']:.0f} |", flush=True)
