"""Measuring voices and alignments: held-out sets, WER, pitch, speech through the running
server, and the alignment-accuracy command."""
