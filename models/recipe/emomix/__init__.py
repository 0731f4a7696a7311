"""EmoMix training recipe: Grad-TTS conditioned on SER emotion embeddings."""
