"""Audio and video: decoding, log-mel spectrograms, face landmarks and crops. Torch-free: the crop worker process forks
before torch is imported, and the command line starts without it (keep torch out of this package)."""
