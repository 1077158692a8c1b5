"""Video to speech: the encoder, attention and decoder of LipSound2 (`model`), the non-autoregressive model (`nar`) and the
text-aware one (`text_nar`), audio pre-training, training, DDP and the paper's recipes."""
