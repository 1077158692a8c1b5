"""Mel spectrogram to waveform: the vocoder interface, its registry and Griffin-Lim (`base`), HiFi-GAN and its training,
WaveGlow and its checkpoints."""
