"""Speech and lip recognition: CTC decoding (`ctc`), the Jasper recogniser, its training and NeMo files, the audio-visual
recogniser and its training."""
